//! The store's clock: recorded-at stamps are taken here and nowhere else.

/// Microseconds since the Unix epoch, from the system clock.
pub(crate) fn now_micros() -> i64 {
    let now = time::OffsetDateTime::now_utc();
    i64::try_from(now.unix_timestamp_nanos() / 1_000).unwrap_or(i64::MAX)
}
