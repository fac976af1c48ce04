//! The public handle: the only name other people ever see.
//!
//! Owns: the handle rules (length, charset, reserved words) and deterministic generation in
//! the "IronForge42" style. Must not: check uniqueness (that needs a lookup; the application
//! reserves the handle and the command carries the result) or draw randomness (the caller
//! passes a seed).

use serde::{Deserialize, Serialize};

/// A validated public handle such as `IronForge42`.
///
/// Validation happens when a command is decided, not when an event is read back: stored
/// events must replay even if the rules (say, the reserved words) tighten later.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Handle(String);

/// Why a text is not a valid handle.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HandleError {
    /// Fewer than [`Handle::MIN_LEN`] or more than [`Handle::MAX_LEN`] characters.
    #[error("a handle must be {min} to {max} characters long, got {len}", min = Handle::MIN_LEN, max = Handle::MAX_LEN)]
    Length {
        /// Characters in the rejected text.
        len: usize,
    },
    /// Contains something other than ASCII letters, digits or `_`.
    #[error("a handle may contain only letters A–Z, digits and `_`; `{0}` is not allowed")]
    Charset(char),
    /// Does not start with a letter.
    #[error("a handle must start with a letter")]
    MustStartWithLetter,
    /// Reads as a staff or system name and could be used to impersonate one.
    #[error("`{0}` is reserved")]
    Reserved(String),
}

/// Words a handle may not be, ignoring case, digits and `_` ("Admin_1" is "admin").
const RESERVED_EXACT: &[&str] = &[
    "anonymous",
    "api",
    "auditor",
    "help",
    "me",
    "null",
    "root",
    "security",
    "staff",
    "system",
    "undefined",
    "www",
];

/// Fragments that may not appear anywhere: they would let a user pose as the service.
const RESERVED_FRAGMENTS: &[&str] = &["admin", "vigil", "support", "official", "moderator"];

const ADJECTIVES: &[&str] = &[
    "Iron", "Steel", "Swift", "Quiet", "Bold", "Brave", "Calm", "Clever", "Lucky", "Silver", "Golden", "Crimson",
    "Amber", "Cobalt", "Jade", "Noble", "Rapid", "Solar", "Lunar", "Stone", "Misty", "Sunny", "Frosty", "Wild",
];

const NOUNS: &[&str] = &[
    "Forge", "Falcon", "Harbor", "River", "Summit", "Cedar", "Otter", "Comet", "Anchor", "Beacon", "Badger", "Canyon",
    "Ember", "Glacier", "Heron", "Lynx", "Maple", "Orbit", "Pine", "Ridge", "Tiger", "Willow", "Raven", "Meadow",
];

impl Handle {
    /// Shortest handle accepted.
    pub const MIN_LEN: usize = 3;
    /// Longest handle accepted.
    pub const MAX_LEN: usize = 24;

    /// Validates a user-chosen handle. Case is kept as typed.
    ///
    /// # Errors
    /// [`HandleError`] naming the first broken rule.
    pub fn parse(text: &str) -> Result<Handle, HandleError> {
        let len = text.chars().count();
        if !(Self::MIN_LEN..=Self::MAX_LEN).contains(&len) {
            return Err(HandleError::Length { len });
        }
        if let Some(bad) = text.chars().find(|c| !(c.is_ascii_alphanumeric() || *c == '_')) {
            return Err(HandleError::Charset(bad));
        }
        if !text.starts_with(|c: char| c.is_ascii_alphabetic()) {
            return Err(HandleError::MustStartWithLetter);
        }
        let letters: String = text
            .chars()
            .filter(char::is_ascii_alphabetic)
            .map(|c| c.to_ascii_lowercase())
            .collect();
        let reserved =
            RESERVED_EXACT.contains(&letters.as_str()) || RESERVED_FRAGMENTS.iter().any(|f| letters.contains(f));
        if reserved {
            return Err(HandleError::Reserved(text.to_owned()));
        }
        Ok(Handle(text.to_owned()))
    }

    /// Builds an "AdjectiveNoun42" handle from a caller-supplied seed. The same seed always
    /// gives the same handle, so a collision is resolved by the caller retrying another seed.
    pub fn generate(seed: u64) -> Handle {
        let adjectives = ADJECTIVES.len() as u64;
        let nouns = NOUNS.len() as u64;
        let adjective = ADJECTIVES[(seed % adjectives) as usize];
        let noun = NOUNS[((seed / adjectives) % nouns) as usize];
        let number = 10 + (seed / (adjectives * nouns)) % 90;
        Handle(format!("{adjective}{noun}{number}"))
    }

    /// The handle as typed.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Lower-cased form used for uniqueness: `IronForge42` and `ironforge42` collide.
    pub fn canonical(&self) -> String {
        self.0.to_ascii_lowercase()
    }
}

impl TryFrom<String> for Handle {
    type Error = HandleError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Handle::parse(&value)
    }
}

impl From<Handle> for String {
    fn from(handle: Handle) -> Self {
        handle.0
    }
}

impl std::fmt::Display for Handle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_handle_is_accepted_as_typed() {
        assert_eq!(Handle::parse("IronForge42").unwrap().as_str(), "IronForge42");
        assert_eq!(Handle::parse("a_b").unwrap().canonical(), "a_b");
    }

    #[test]
    fn length_limits_are_enforced() {
        assert_eq!(Handle::parse("ab"), Err(HandleError::Length { len: 2 }));
        assert_eq!(Handle::parse(&"a".repeat(25)), Err(HandleError::Length { len: 25 }));
        assert!(Handle::parse(&"a".repeat(24)).is_ok());
    }

    #[test]
    fn only_ascii_letters_digits_and_underscore_are_allowed() {
        assert_eq!(Handle::parse("iron forge"), Err(HandleError::Charset(' ')));
        assert_eq!(Handle::parse("iron-forge"), Err(HandleError::Charset('-')));
        assert_eq!(Handle::parse("irønforge"), Err(HandleError::Charset('ø')));
    }

    #[test]
    fn a_handle_must_start_with_a_letter() {
        assert_eq!(Handle::parse("42iron"), Err(HandleError::MustStartWithLetter));
        assert_eq!(Handle::parse("_iron"), Err(HandleError::MustStartWithLetter));
    }

    #[test]
    fn staff_and_system_names_are_reserved_whatever_the_case_or_digits() {
        for text in [
            "admin",
            "Admin_1",
            "root",
            "ROOT99",
            "VigilTeam",
            "the_support",
            "SuperAdmin",
        ] {
            assert!(
                matches!(Handle::parse(text), Err(HandleError::Reserved(_))),
                "{text} should be reserved"
            );
        }
    }

    #[test]
    fn generation_is_deterministic_and_always_valid() {
        assert_eq!(Handle::generate(0).as_str(), "IronForge10");
        assert_eq!(Handle::generate(7), Handle::generate(7));
        let span = (ADJECTIVES.len() * NOUNS.len() * 90) as u64;
        for seed in 0..span {
            let handle = Handle::generate(seed);
            assert_eq!(Handle::parse(handle.as_str()), Ok(handle));
        }
    }

    #[test]
    fn a_stored_handle_replays_even_if_the_rules_have_since_tightened() {
        // "admin" is reserved today; an event recorded before that must still load.
        let handle: Handle = serde_json::from_str("\"admin\"").unwrap();
        assert_eq!(handle.as_str(), "admin");
        assert_eq!(serde_json::to_string(&handle).unwrap(), "\"admin\"");
    }
}
