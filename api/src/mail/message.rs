//! What each message says. Plain text, in the same words for everyone: the person's public
//! handle, a time or a day, and what to do; never a health record, never an address (the
//! recipient line is the only place it appears), no link to anyone else's site and nothing
//! that reports back when opened.
//!
//! Must not: read anything (a notice carries what its text needs), or grow a label value
//! from input: [`Notice::kind`] is one of a fixed few.

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use zeroize::{Zeroize, ZeroizeOnDrop};

/// One message to send, as sealed in its outbox row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Notice {
    /// Registration: the token that confirms the address (`verifyEmail`).
    VerifyEmail {
        /// The one-time token (only its keyed hash is stored elsewhere).
        token: String,
        /// Until when it works.
        #[serde(with = "time::serde::rfc3339")]
        expires_at: OffsetDateTime,
    },
    /// Someone signed in to the account.
    NewSignIn {
        /// With a second factor.
        second_factor: bool,
        /// When.
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    /// Two-factor sign-in was turned on.
    SecondFactorEnabled {
        /// When.
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    /// Two-factor sign-in was turned off.
    SecondFactorDisabled {
        /// When.
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    /// Too many failed sign-ins locked the account.
    AccountLocked {
        /// End of the lock.
        #[serde(with = "time::serde::rfc3339")]
        until: OffsetDateTime,
    },
    /// Nobody used the account for the inactivity period: it is erased on `erase_on` unless
    /// used before.
    #[serde(rename = "inactivity_notice")]
    Inactivity {
        /// The day of the erasure.
        erase_on: Date,
    },
    /// The account was erased (sent to the address it had, captured before the erasure).
    ErasureConfirmed {
        /// When.
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
}

/// Every kind, for the metrics' label values and the tests.
pub const KINDS: [&str; 7] = [
    "verify_email",
    "new_sign_in",
    "second_factor_enabled",
    "second_factor_disabled",
    "account_locked",
    "inactivity_notice",
    "erasure_confirmed",
];

impl Notice {
    /// The kind, as stored in the clear column and used as the metrics label.
    pub fn kind(&self) -> &'static str {
        match self {
            Notice::VerifyEmail { .. } => KINDS[0],
            Notice::NewSignIn { .. } => KINDS[1],
            Notice::SecondFactorEnabled { .. } => KINDS[2],
            Notice::SecondFactorDisabled { .. } => KINDS[3],
            Notice::AccountLocked { .. } => KINDS[4],
            Notice::Inactivity { .. } => KINDS[5],
            Notice::ErasureConfirmed { .. } => KINDS[6],
        }
    }

    /// Subject and body for the account `handle`.
    pub fn render(&self, handle: &str) -> (String, String) {
        let (subject, text) = match self {
            Notice::VerifyEmail { token, expires_at } => (
                "Confirm your e-mail address".to_owned(),
                format!(
                    "Someone (we hope you) opened the vigil account {handle} with this address.\n\n\
                     To confirm it, enter this code in the app (the verifyEmail call) before {}:\n\n\
                     {token}\n\n\
                     Until then the account cannot be signed in to. If it was not you, ignore this \
                     message: nothing else will be sent about it.",
                    when(*expires_at)
                ),
            ),
            Notice::NewSignIn { second_factor, at } => (
                "New sign-in to your account".to_owned(),
                format!(
                    "Your vigil account {handle} was signed in to at {}{}.\n\n\
                     If that was you, there is nothing to do. If not, change your password now and \
                     turn on two-factor sign-in.",
                    when(*at),
                    if *second_factor { " with a second factor" } else { "" }
                ),
            ),
            Notice::SecondFactorEnabled { at } => (
                "Two-factor sign-in turned on".to_owned(),
                format!(
                    "Two-factor sign-in was turned on for your vigil account {handle} at {}.\n\n\
                     Keep your recovery codes somewhere safe. If this was not you, sign in and \
                     change your password.",
                    when(*at)
                ),
            ),
            Notice::SecondFactorDisabled { at } => (
                "Two-factor sign-in turned off".to_owned(),
                format!(
                    "Two-factor sign-in was turned off for your vigil account {handle} at {}.\n\n\
                     If this was not you, sign in, change your password and turn it on again.",
                    when(*at)
                ),
            ),
            Notice::AccountLocked { until } => (
                "Your account is locked for now".to_owned(),
                format!(
                    "After repeated failed sign-ins, your vigil account {handle} refuses sign-in \
                     until {}.\n\n\
                     If those attempts were not yours, someone may know your address: choose a \
                     strong password and turn on two-factor sign-in once you are back in.",
                    when(*until)
                ),
            ),
            Notice::Inactivity { erase_on } => (
                "Your account will be erased".to_owned(),
                format!(
                    "Your vigil account {handle} has not been used for a long time. It will be \
                     erased for good on {erase_on}, with everything in it.\n\n\
                     To keep it, sign in before that day. To let it go, do nothing; you may also \
                     export your data first.",
                ),
            ),
            Notice::ErasureConfirmed { at } => (
                "Your account was erased".to_owned(),
                format!(
                    "Your vigil account {handle} was erased at {}: its encryption key was \
                     destroyed, so nothing it held can be read any more, in any copy.\n\n\
                     This is the last message to this address; it is not kept.",
                    when(*at)
                ),
            ),
        };
        (subject, format!("Hello {handle},\n\n{text}\n\n-- \nvigil\n"))
    }
}

/// A time as people read it, in UTC to the minute.
fn when(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    format!("{} {:02}:{:02} UTC", at.date(), at.hour(), at.minute())
}

/// What an outbox row holds under the mail key: the notice, and for an erasure confirmation
/// the address and handle captured before the erasure (other rows find the account's current
/// ones when they are sent).
#[derive(Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
pub struct Sealed {
    /// The notice.
    #[zeroize(skip)]
    pub notice: Notice,
    /// The address, only for a person already erased.
    pub to: Option<String>,
    /// Their handle, likewise.
    pub handle: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_text_names_the_handle_and_no_kind_repeats() {
        let at = time::macros::datetime!(2026-12-01 10:30 UTC);
        let notices = [
            Notice::VerifyEmail {
                token: "tok".into(),
                expires_at: at,
            },
            Notice::NewSignIn {
                second_factor: true,
                at,
            },
            Notice::SecondFactorEnabled { at },
            Notice::SecondFactorDisabled { at },
            Notice::AccountLocked { until: at },
            Notice::Inactivity { erase_on: at.date() },
            Notice::ErasureConfirmed { at },
        ];
        let kinds: std::collections::HashSet<_> = notices.iter().map(Notice::kind).collect();
        assert_eq!(kinds.len(), KINDS.len());
        for n in &notices {
            let (subject, body) = n.render("QuietHeron7");
            assert!(!subject.is_empty());
            assert!(body.contains("QuietHeron7"), "{body}");
            assert!(!body.contains("http"), "no links: {body}");
        }
        assert!(notices[0].render("h").1.contains("tok"));
        assert!(notices[1].render("h").1.contains("2026-12-01 10:30 UTC"));
    }
}
