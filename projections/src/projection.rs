//! The catalogue of projections: their names, the streams they follow and the tables they
//! own (cleared on rebuild, and purged of an erased person's rows).
//! Must not apply events (that is `apply`) or schedule work (that is `runner`).

use crate::error::{ProjectionError, Result};
use crate::streams::StreamKind;

/// One read model and the events that feed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Projection {
    /// Account profiles (handle, role, tier, settings; never the email).
    Accounts,
    /// Password hashes for login.
    Credentials,
    /// Protocols, their versions and status changes.
    Protocols,
    /// The dose log.
    Doses,
    /// Health-log entries (vitals).
    HealthLogs,
    /// Bloodwork panels and per-marker results.
    Bloodwork,
    /// Whether each account has a second factor on (never the secret).
    SecondFactors,
    /// The access log: sign-ins, security changes and staff reads, per person.
    AccessLog,
}

impl Projection {
    /// Every projection, in the order they are applied within a batch.
    pub const ALL: [Projection; 8] = [
        Projection::Accounts,
        Projection::Credentials,
        Projection::Protocols,
        Projection::Doses,
        Projection::HealthLogs,
        Projection::Bloodwork,
        Projection::SecondFactors,
        Projection::AccessLog,
    ];

    /// The name used in checkpoints and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Projection::Accounts => "accounts",
            Projection::Credentials => "credentials",
            Projection::Protocols => "protocols",
            Projection::Doses => "doses",
            Projection::HealthLogs => "health_logs",
            Projection::Bloodwork => "bloodwork",
            Projection::SecondFactors => "second_factors",
            Projection::AccessLog => "access_log",
        }
    }

    /// Looks a projection up by name.
    ///
    /// # Errors
    /// `InvalidInput` naming the known projections.
    pub fn parse(name: &str) -> Result<Projection> {
        Projection::ALL.into_iter().find(|p| p.name() == name).ok_or_else(|| {
            let known: Vec<&str> = Projection::ALL.iter().map(|p| p.name()).collect();
            ProjectionError::InvalidInput(format!("unknown projection {name:?}; known: {}", known.join(", ")))
        })
    }

    /// Whether events of this stream kind feed this projection.
    pub(crate) fn follows(self, kind: StreamKind) -> bool {
        matches!(
            (self, kind),
            (Projection::Accounts, StreamKind::Account)
                | (Projection::Credentials, StreamKind::Credentials)
                | (Projection::Protocols, StreamKind::Protocol)
                | (Projection::Doses, StreamKind::Doses)
                | (Projection::HealthLogs, StreamKind::Health)
                | (Projection::Bloodwork, StreamKind::Bloodwork)
                | (Projection::SecondFactors, StreamKind::SecondFactor)
                | (Projection::AccessLog, StreamKind::Access)
        )
    }

    /// The tables this projection owns. Each has a `user_id` column.
    pub(crate) fn tables(self) -> &'static [&'static str] {
        match self {
            Projection::Accounts => &["accounts", "ai_consent_changes"],
            Projection::Credentials => &["credentials"],
            Projection::Protocols => &["protocols", "protocol_versions", "protocol_status_changes"],
            Projection::Doses => &["doses"],
            Projection::HealthLogs => &["health_logs"],
            Projection::Bloodwork => &["bloodwork_panels", "marker_results"],
            Projection::SecondFactors => &["second_factors"],
            Projection::AccessLog => &["access_log"],
        }
    }
}

/// Authentication state that is not a projection but must go when its person is erased.
pub(crate) const PERSONAL_AUTH_TABLES: [&str; 10] = [
    "identity_claims",
    "sessions",
    "refresh_tokens",
    "login_throttle",
    "totp_steps",
    "mfa_challenges",
    "break_glass_grants",
    "export_tokens",
    // Mail still to send to the person, and their verification token (ADR 0014).
    "mail_outbox",
    "email_verifications",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_projection_is_found_by_its_name() {
        for p in Projection::ALL {
            assert_eq!(Projection::parse(p.name()).unwrap(), p);
        }
    }

    #[test]
    fn an_unknown_name_lists_the_known_ones() {
        let err = Projection::parse("nope").unwrap_err().to_string();
        assert!(err.contains("accounts") && err.contains("bloodwork"), "{err}");
    }
}
