//! The account email as an opaque secret.
//!
//! The domain never looks inside an email beyond a shape check: it is personal data that
//! must not leak into logs, so `Debug` is redacted and there is no `Display`.

use serde::{Deserialize, Serialize};

/// An email address, treated as a secret value.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EmailAddress(String);

/// Why a text is not accepted as an email address.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    /// Empty or only whitespace.
    #[error("email address is empty")]
    Empty,
    /// Longer than the 254 characters SMTP allows.
    #[error("email address is longer than 254 characters")]
    TooLong,
    /// Not `local@domain.tld` (the value itself is not echoed: it is personal data).
    #[error("email address is not of the form local@domain")]
    Malformed,
}

impl EmailAddress {
    /// Longest address accepted (RFC 5321 path limit).
    pub const MAX_LEN: usize = 254;

    /// Checks the shape `local@domain.tld`; surrounding whitespace is trimmed.
    ///
    /// # Errors
    /// [`EmailError`] naming the problem without echoing the address.
    pub fn parse(text: &str) -> Result<EmailAddress, EmailError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(EmailError::Empty);
        }
        if text.chars().count() > Self::MAX_LEN {
            return Err(EmailError::TooLong);
        }
        let (local, domain) = text.split_once('@').ok_or(EmailError::Malformed)?;
        let well_formed = !local.is_empty()
            && !domain.contains('@')
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !text.chars().any(|c| c.is_whitespace() || c.is_control());
        if well_formed {
            Ok(EmailAddress(text.to_owned()))
        } else {
            Err(EmailError::Malformed)
        }
    }

    /// The address itself. Named loudly so every use is visible in review.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for EmailAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EmailAddress(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_contains_the_address() {
        let email = EmailAddress::parse("someone@example.org").unwrap();
        let printed = format!("{email:?}");
        assert!(!printed.contains("someone"), "{printed}");
        assert!(!printed.contains("example"), "{printed}");
    }

    #[test]
    fn a_well_formed_address_is_kept_as_entered_after_trimming() {
        let email = EmailAddress::parse("  Some.One+tag@Example.org ").unwrap();
        assert_eq!(email.expose_secret(), "Some.One+tag@Example.org");
    }

    #[test]
    fn malformed_addresses_are_rejected_without_echoing_them() {
        assert_eq!(EmailAddress::parse(" "), Err(EmailError::Empty));
        for text in [
            "no-at-sign",
            "@example.org",
            "a@b",
            "a@@b.org",
            "a b@c.org",
            "a@.org",
            "a@org.",
        ] {
            assert_eq!(EmailAddress::parse(text), Err(EmailError::Malformed), "{text}");
        }
        let long = format!("{}@example.org", "a".repeat(250));
        assert_eq!(EmailAddress::parse(&long), Err(EmailError::TooLong));
    }
}
