//! Retried mutations write nothing twice. A client sends `Idempotency-Key: <key>` with a
//! mutation; when the answer is lost (a timeout, a dropped connection) it sends the same
//! request again with the same key and gets the first attempt's answer, nothing written again.
//!
//! How: the key, the request (document, operation name, variables) and the person derive,
//! for each record mutation in the document, the command id the store keeps (the store writes
//! a command id once and remembers where it landed, see `EventStore::command_outcome`) and
//! the ids of what the mutation creates, so the retry names the same records. A retry is
//! recognised before anything is decided: a rule that would now refuse it (the dose exists, the
//! protocol is already paused) is not consulted, the first outcome is the answer.
//!
//! Owns: the header's syntax and the derivations. Must not: store anything (the store's
//! command table is the memory), or let one person's key touch another's commands (the
//! person is in every derivation).
//!
//! The same key with a different request is a different request: it runs (the derivation
//! includes the request), as it would without a key.

use axum::http::HeaderValue;
use uuid::Uuid;

/// The request header (draft-ietf-httpapi-idempotency-key-header).
pub const HEADER: &str = "idempotency-key";
/// Longest key accepted, in bytes: room for a UUID or a ULID with a prefix, not for data.
pub const MAX_KEY: usize = 128;

/// One request's key, bound to the request it came with.
#[derive(Clone, Copy)]
pub struct RequestKey([u8; 32]);

/// The key of one mutation field of a request, for one person.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CommandKey([u8; 32]);

impl RequestKey {
    /// Reads the header for `request`; `Err` says what is wrong with it.
    ///
    /// # Errors
    /// A key that is empty, longer than [`MAX_KEY`] or not printable ASCII (quotes of the
    /// structured-field string form are accepted and removed).
    pub fn from_header(value: &HeaderValue, request: &async_graphql::Request) -> Result<RequestKey, &'static str> {
        let text = value
            .to_str()
            .map_err(|_| "the Idempotency-Key must be printable ASCII")?;
        let key = text.strip_prefix('"').and_then(|t| t.strip_suffix('"')).unwrap_or(text);
        if key.is_empty() || key.len() > MAX_KEY {
            return Err("the Idempotency-Key must be 1 to 128 characters");
        }
        if !key.bytes().all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\') {
            return Err("the Idempotency-Key must be printable ASCII without quotes or backslashes");
        }
        let mut hasher = blake3::Hasher::new_derive_key("vigil idempotency-key request v1");
        for part in [
            key.as_bytes(),
            request.operation_name.as_deref().unwrap_or("").as_bytes(),
            request.query.as_bytes(),
        ] {
            hasher.update(&(part.len() as u64).to_le_bytes());
            hasher.update(part);
        }
        // Variables as sent; a retry sends the same request.
        let variables = serde_json::to_vec(&request.variables).unwrap_or_default();
        hasher.update(&(variables.len() as u64).to_le_bytes());
        hasher.update(&variables);
        Ok(RequestKey(*hasher.finalize().as_bytes()))
    }

    /// The key of the mutation field at `path` (its response key: the alias, or the name) run
    /// by `person`.
    pub fn command(&self, person: Uuid, path: &str) -> CommandKey {
        let mut hasher = blake3::Hasher::new_derive_key("vigil idempotency-key command v1");
        hasher.update(&self.0);
        hasher.update(person.as_bytes());
        hasher.update(path.as_bytes());
        CommandKey(*hasher.finalize().as_bytes())
    }
}

impl CommandKey {
    /// The store's command id.
    pub fn command_id(&self) -> Uuid {
        self.derive("command")
    }

    /// The id of a record the command creates, named by its `role` (`"dose"`, `"item 3"`):
    /// the same on every retry, different for each role and command.
    pub fn derive(&self, role: &str) -> Uuid {
        let mut hasher = blake3::Hasher::new_derive_key("vigil idempotency-key id v1");
        hasher.update(&self.0);
        hasher.update(role.as_bytes());
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&hasher.finalize().as_bytes()[..16]);
        Uuid::new_v8(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(query: &str, variables: serde_json::Value) -> async_graphql::Request {
        async_graphql::Request::new(query).variables(async_graphql::Variables::from_json(variables))
    }

    fn key(header: &str, request: &async_graphql::Request) -> Result<RequestKey, &'static str> {
        RequestKey::from_header(&HeaderValue::from_str(header).expect("header"), request)
    }

    #[test]
    fn a_retry_derives_the_same_ids_and_anything_else_different_ones() {
        let person = Uuid::now_v7();
        let r = request(
            "mutation($d: String!) { logDose(dose: $d) { position } }",
            serde_json::json!({"d": "250"}),
        );
        let first = key("k-1", &r).expect("key").command(person, "logDose");
        let retry = key("\"k-1\"", &r).expect("key").command(person, "logDose");
        assert_eq!(first, retry);
        assert_eq!(first.derive("dose"), retry.derive("dose"));
        assert_ne!(first.derive("dose"), first.derive("item 1"));
        assert_ne!(first.command_id(), first.derive("dose"));

        let other_key = key("k-2", &r).expect("key").command(person, "logDose");
        let other_person = key("k-1", &r).expect("key").command(Uuid::now_v7(), "logDose");
        let other_field = key("k-1", &r).expect("key").command(person, "second");
        let other_vars = request(&r.query, serde_json::json!({"d": "2500"}));
        let other_request = key("k-1", &other_vars).expect("key").command(person, "logDose");
        for other in [other_key, other_person, other_field, other_request] {
            assert_ne!(first, other);
            assert_ne!(first.command_id(), other.command_id());
        }
    }

    #[test]
    fn malformed_keys_are_refused() {
        let r = request("mutation { logout }", serde_json::json!({}));
        assert!(key("", &r).is_err());
        assert!(key("\"\"", &r).is_err());
        assert!(key(&"k".repeat(MAX_KEY + 1), &r).is_err());
        assert!(key("has space", &r).is_err());
        assert!(key("back\\slash", &r).is_err());
        assert!(key(&"k".repeat(MAX_KEY), &r).is_ok());
        assert!(key("8e3c3f0e-0b0a-4b7e-9a55-1f6f0d3c2b1a", &r).is_ok());
    }
}
