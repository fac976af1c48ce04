//! A rate as operators write it (`5/15m`: five per fifteen minutes) and its checks.

use std::num::NonZeroU32;
use std::str::FromStr;
use std::time::Duration;

/// `count` per `period`; the whole count may be spent at once (the burst).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// How many.
    pub count: NonZeroU32,
    /// Per how long.
    pub period: Duration,
}

impl Rate {
    /// `count` per `seconds`.
    pub const fn per(count: NonZeroU32, seconds: u64) -> Rate {
        Rate {
            count,
            period: Duration::from_secs(seconds),
        }
    }

    /// The time one unit takes to come back.
    pub fn interval(&self) -> Duration {
        self.period / self.count.get()
    }
}

/// `amount` of `unit` (`s`, `m` or `h`) in seconds; `None` for another unit. The one reading
/// of a span for every flag that takes one (rates, check intervals).
pub fn span_seconds(amount: u64, unit: &str) -> Option<u64> {
    match unit {
        "s" => Some(amount),
        "m" => Some(amount.saturating_mul(60)),
        "h" => Some(amount.saturating_mul(3_600)),
        _ => None,
    }
}

impl FromStr for Rate {
    type Err = String;

    fn from_str(text: &str) -> Result<Rate, String> {
        let bad = || format!("{text:?}: write a rate as COUNT/PERIOD, such as 5/15m, 100/1m or 20/30s");
        let (count, period) = text.trim().split_once('/').ok_or_else(bad)?;
        let count: u32 = count.trim().parse().map_err(|_| bad())?;
        let count = NonZeroU32::new(count).ok_or_else(bad)?;
        let period = period.trim();
        let split = period.find(|c: char| !c.is_ascii_digit()).unwrap_or(period.len());
        let (amount, unit) = period.split_at(split);
        let amount: u64 = if amount.is_empty() {
            1
        } else {
            amount.parse().map_err(|_| bad())?
        };
        let seconds = span_seconds(amount, unit).ok_or_else(bad)?;
        if seconds == 0 || seconds > 86_400 {
            return Err(format!("{text:?}: the period must be 1 second to 24 hours"));
        }
        Ok(Rate::per(count, seconds))
    }
}

impl std::fmt::Display for Rate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}s", self.count, self.period.as_secs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_parse_as_operators_write_them() {
        let five = NonZeroU32::new(5).unwrap();
        assert_eq!("5/15m".parse(), Ok(Rate::per(five, 900)));
        assert_eq!(" 5 / 1h ".parse(), Ok(Rate::per(five, 3_600)));
        assert_eq!("5/m".parse(), Ok(Rate::per(five, 60)));
        for bad in ["", "5", "0/1m", "5/0s", "5/2d", "x/1m", "5/1w", "-1/1m", "5/48h"] {
            assert!(bad.parse::<Rate>().is_err(), "{bad:?}");
        }
        assert_eq!(Rate::per(five, 900).interval(), Duration::from_secs(180));
    }
}
