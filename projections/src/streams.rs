//! Stream names: which stream holds which aggregate. Writers (the API) and readers (the
//! runner) share these so an event is routed by its stream's prefix alone.
//! Must not hold anything personal: stream ids are stored in clear.

use uuid::Uuid;

/// The account of a user.
pub fn account(user: Uuid) -> String {
    format!("account-{user}")
}
/// The password hash of a user.
pub fn credentials(user: Uuid) -> String {
    format!("credentials-{user}")
}
/// One protocol.
pub fn protocol(protocol: Uuid) -> String {
    format!("protocol-{protocol}")
}
/// The dose log of a user.
pub fn doses(user: Uuid) -> String {
    format!("doses-{user}")
}
/// The health log of a user.
pub fn health(user: Uuid) -> String {
    format!("health-{user}")
}
/// The bloodwork of a user.
pub fn bloodwork(user: Uuid) -> String {
    format!("bloodwork-{user}")
}

/// The second factor (TOTP secret, recovery codes) of a user.
pub fn second_factor(user: Uuid) -> String {
    format!("totp-{user}")
}
/// The access log of a user: sign-ins, security changes, staff reads of their data.
pub fn access(user: Uuid) -> String {
    format!("access-{user}")
}

/// The aggregate a stream belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamKind {
    /// `account-…`
    Account,
    /// `credentials-…`
    Credentials,
    /// `protocol-…`
    Protocol,
    /// `doses-…`
    Doses,
    /// `health-…`
    Health,
    /// `bloodwork-…`
    Bloodwork,
    /// `totp-…`
    SecondFactor,
    /// `access-…`
    Access,
    /// The store's erasure ledger.
    ErasureLedger,
    /// Anything else (seed data, future aggregates): projections ignore it.
    Other,
}

/// Classifies a stream id by its prefix.
pub fn kind_of(stream: &str) -> StreamKind {
    if stream == vigil_eventstore::ERASURE_LEDGER {
        return StreamKind::ErasureLedger;
    }
    match stream.split_once('-').map(|(prefix, _)| prefix) {
        Some("account") => StreamKind::Account,
        Some("credentials") => StreamKind::Credentials,
        Some("protocol") => StreamKind::Protocol,
        Some("doses") => StreamKind::Doses,
        Some("health") => StreamKind::Health,
        Some("bloodwork") => StreamKind::Bloodwork,
        Some("totp") => StreamKind::SecondFactor,
        Some("access") => StreamKind::Access,
        _ => StreamKind::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_stream_name_routes_back_to_its_kind() {
        let id = Uuid::from_u128(9);
        assert_eq!(kind_of(&account(id)), StreamKind::Account);
        assert_eq!(kind_of(&credentials(id)), StreamKind::Credentials);
        assert_eq!(kind_of(&protocol(id)), StreamKind::Protocol);
        assert_eq!(kind_of(&doses(id)), StreamKind::Doses);
        assert_eq!(kind_of(&health(id)), StreamKind::Health);
        assert_eq!(kind_of(&bloodwork(id)), StreamKind::Bloodwork);
        assert_eq!(kind_of(&second_factor(id)), StreamKind::SecondFactor);
        assert_eq!(kind_of(&access(id)), StreamKind::Access);
        assert_eq!(kind_of(vigil_eventstore::ERASURE_LEDGER), StreamKind::ErasureLedger);
        assert_eq!(kind_of("seed-42"), StreamKind::Other);
    }
}
