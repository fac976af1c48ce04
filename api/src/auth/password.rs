//! Passwords: the policy a new password must meet, and (in [`hashing`]) argon2id hashing and
//! verification off the async runtime.
//!
//! The policy follows NIST SP 800-63B: a length range and a list of known-bad passwords, no
//! composition rules ("one digit, one symbol"), which push people to predictable patterns.
//! This module must not log, store or echo a password, and never says which list entry matched.

mod hashing;

use std::collections::HashSet;
use std::sync::LazyLock;

pub use hashing::PasswordHasher;

use super::AuthError;

/// Shortest accepted password, in characters.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Longest accepted password, in characters. High enough for any passphrase, low enough that
/// nobody can send megabytes into argon2's input hashing.
pub const MAX_PASSWORD_CHARS: usize = 128;

/// Lowercase entries of at least [`MIN_PASSWORD_CHARS`]; shorter ones would never be reached.
static COMMON_PASSWORDS: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("common_passwords.txt")
        .lines()
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .collect()
});

/// Checks a new password (registration, password change) against the policy. Login does not:
/// a stored password stays valid when the policy tightens.
///
/// Length counts Unicode scalar values, not bytes: a precomposed `é` counts once, `e` followed
/// by a combining accent twice. Passwords are not Unicode-normalized (std has no NFC), so a
/// client must send the same form at login as at registration.
///
/// # Errors
/// [`AuthError::PasswordTooShort`], [`AuthError::PasswordTooLong`] or
/// [`AuthError::PasswordTooCommon`] (listed in any letter case, or one repeated character).
pub fn check_password_policy(password: &str) -> Result<(), AuthError> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(AuthError::PasswordTooShort {
            min: MIN_PASSWORD_CHARS,
        });
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(AuthError::PasswordTooLong {
            max: MAX_PASSWORD_CHARS,
        });
    }
    let mut chars = password.chars();
    let first = chars.next();
    if chars.all(|c| Some(c) == first) {
        return Err(AuthError::PasswordTooCommon);
    }
    // Lowercased copy is itself a password: wipe it.
    let folded = zeroize::Zeroizing::new(password.to_lowercase());
    if COMMON_PASSWORDS.contains(folded.as_str()) {
        return Err(AuthError::PasswordTooCommon);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_of_11_characters_is_too_short_and_12_is_enough() {
        assert_eq!(
            check_password_policy("k7#mQ2vL9xw"),
            Err(AuthError::PasswordTooShort { min: 12 })
        );
        assert_eq!(check_password_policy("k7#mQ2vL9xwZ"), Ok(()));
    }

    #[test]
    fn a_password_of_128_characters_is_accepted_and_129_is_too_long() {
        let base: String = "correct-stapler-violin-".chars().cycle().take(128).collect();
        assert_eq!(check_password_policy(&base), Ok(()));
        let longer = format!("{base}x");
        assert_eq!(
            check_password_policy(&longer),
            Err(AuthError::PasswordTooLong { max: 128 })
        );
    }

    #[test]
    fn length_counts_characters_not_bytes() {
        // 11 characters but 22 bytes: still too short.
        let eleven = "ñandúçöéßåø".to_owned();
        assert_eq!(eleven.chars().count(), 11);
        assert!(eleven.len() > 12);
        assert_eq!(
            check_password_policy(&eleven),
            Err(AuthError::PasswordTooShort { min: 12 })
        );
        assert_eq!(check_password_policy(&format!("{eleven}x")), Ok(()));
        // 128 four-byte characters (512 bytes) are within the limit.
        let emoji: String = ['🔒', '🌿', '💊', '🩸'].iter().cycle().take(128).collect();
        assert_eq!(check_password_policy(&emoji), Ok(()));
        assert_eq!(
            check_password_policy(&format!("{emoji}🔒")),
            Err(AuthError::PasswordTooLong { max: 128 })
        );
    }

    #[test]
    fn a_common_password_is_rejected_in_any_letter_case() {
        for password in [
            "password1234",
            "PASSWORD1234",
            "Password1234",
            "QwertyUiop123",
            "123456789012",
        ] {
            assert_eq!(
                check_password_policy(password),
                Err(AuthError::PasswordTooCommon),
                "{password}"
            );
        }
    }

    #[test]
    fn one_repeated_character_is_rejected_however_long() {
        for password in ["aaaaaaaaaaaa", "############", &"é".repeat(40)] {
            assert_eq!(
                check_password_policy(password),
                Err(AuthError::PasswordTooCommon),
                "{password}"
            );
        }
        assert_eq!(check_password_policy("aaaaaaaaaaab"), Ok(()));
    }

    #[test]
    fn the_common_list_is_large_lowercase_and_every_entry_passes_the_length_rule() {
        assert!(COMMON_PASSWORDS.len() >= 200, "{}", COMMON_PASSWORDS.len());
        for entry in COMMON_PASSWORDS.iter() {
            let chars = entry.chars().count();
            assert!((MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&chars), "{entry}");
            assert_eq!(*entry, entry.to_lowercase(), "{entry}");
            assert_eq!(*entry, entry.trim(), "{entry:?}");
        }
    }

    #[test]
    fn rejection_messages_do_not_echo_the_password() {
        for password in ["short", "password1234"] {
            let message = check_password_policy(password).unwrap_err().to_string();
            assert!(!message.contains(password), "{message}");
        }
    }
}
