//! Parsed GraphQL documents remembered by their text. Clients send the same few operations
//! over and over, and parsing one with async-graphql's pest grammar was the largest single
//! cost of a dashboard request (about a sixth of its CPU); cloning a parsed document is much
//! cheaper.
//!
//! A document also remembers whether it passed the schema's full validation when sent with
//! no variables and no operation name. Such a request is deterministic to validate (the
//! schema does not change while the server runs), so it is executed on the schema built in
//! async-graphql's `Fast` validation mode, which still enforces the depth and complexity
//! limits and rejects fragment cycles but skips the rules the document already passed (they
//! were 7 % of the CPU of `vigil bench api`'s mixed phase). A document is marked only after a
//! response that was not a request error, so one that fails validation keeps failing it, and
//! any request with variables is validated in full every time.
//!
//! Only texts up to [`MAX_TEXT`] that parse are remembered, [`CAPACITY`] at most; past that
//! everything is forgotten, so a client sending endless distinct queries costs memory no more
//! than a bounded map and time no more than parsing itself.
//! Must not remember variables, results or anything about the caller.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use async_graphql::parser::types::ExecutableDocument;

/// Longest query text remembered, in bytes.
pub const MAX_TEXT: usize = 16 * 1024;
/// Documents remembered at most.
pub const CAPACITY: usize = 512;

struct Entry {
    doc: ExecutableDocument,
    /// Passed full validation, sent with no variables and no operation name.
    validated: bool,
}

/// What [`Documents::prime`] knows of a request's validation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validation {
    /// Passed full validation before, exactly as sent now: the fast schema may run it.
    Passed,
    /// Not yet known, and worth marking if it passes (no variables, no operation name).
    Unknown,
    /// Validated in full on every request.
    Always,
}

/// The cache; cheap to clone (clones share it).
#[derive(Clone, Default)]
pub struct Documents {
    inner: Arc<Mutex<HashMap<String, Entry>>>,
}

impl Documents {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Entry>> {
        // A map of independent parse results: still consistent after a panic elsewhere.
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Hands `request` its parsed document: a remembered one, or one parsed now (and
    /// remembered). A query that does not parse is left to the schema, which reports it.
    pub fn prime(&self, request: &mut async_graphql::Request) -> Validation {
        if request.query.len() > MAX_TEXT {
            return Validation::Always;
        }
        let markable = request.variables.is_empty() && request.operation_name.is_none();
        let found = self
            .lock()
            .get(&request.query)
            .map(|entry| (entry.doc.clone(), entry.validated));
        if let Some((doc, validated)) = found {
            request.set_parsed_query(doc);
            return match (markable, validated) {
                (true, true) => Validation::Passed,
                (true, false) => Validation::Unknown,
                (false, _) => Validation::Always,
            };
        }
        let Ok(doc) = request.parsed_query().cloned() else {
            return Validation::Always;
        };
        let mut inner = self.lock();
        if inner.len() >= CAPACITY {
            inner.clear();
        }
        inner.insert(request.query.clone(), Entry { doc, validated: false });
        if markable {
            Validation::Unknown
        } else {
            Validation::Always
        }
    }

    /// Records that `query`, sent with no variables and no operation name, passed full
    /// validation (its response was not a request error).
    pub fn mark_validated(&self, query: &str) {
        if let Some(entry) = self.lock().get_mut(query) {
            entry.validated = true;
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_query_gets_the_document_it_parsed_to_the_first_time() {
        let documents = Documents::default();
        let mut first = async_graphql::Request::new("{ me { handle } }");
        documents.prime(&mut first);
        let mut second = async_graphql::Request::new("{ me { handle } }");
        documents.prime(&mut second);
        assert_eq!(documents.len(), 1);
        let (a, b) = (
            first.parsed_query().map(|d| format!("{d:?}")),
            second.parsed_query().map(|d| format!("{d:?}")),
        );
        assert_eq!(a.ok(), b.ok());
    }

    #[test]
    fn a_query_that_does_not_parse_or_is_too_long_is_not_remembered() {
        let documents = Documents::default();
        documents.prime(&mut async_graphql::Request::new("{ me { "));
        let long = format!("{{ me {{ handle }} }}{}", " ".repeat(MAX_TEXT));
        documents.prime(&mut async_graphql::Request::new(long));
        assert_eq!(documents.len(), 0);
    }

    #[test]
    fn past_capacity_everything_is_forgotten_rather_than_growing() {
        let documents = Documents::default();
        for i in 0..=CAPACITY {
            documents.prime(&mut async_graphql::Request::new(format!("{{ a{i}: me {{ handle }} }}")));
        }
        assert_eq!(documents.len(), 1);
    }

    #[test]
    fn only_a_marked_document_without_variables_or_operation_name_skips_full_validation() {
        let documents = Documents::default();
        let text = "{ me { handle } }";
        assert_eq!(
            documents.prime(&mut async_graphql::Request::new(text)),
            Validation::Unknown
        );
        assert_eq!(
            documents.prime(&mut async_graphql::Request::new(text)),
            Validation::Unknown
        );
        documents.mark_validated(text);
        assert_eq!(
            documents.prime(&mut async_graphql::Request::new(text)),
            Validation::Passed
        );
        let mut with_variables = async_graphql::Request::new(text)
            .variables(async_graphql::Variables::from_json(serde_json::json!({ "a": 1 })));
        assert_eq!(documents.prime(&mut with_variables), Validation::Always);
        let mut named = async_graphql::Request::new(text).operation_name("Me");
        assert_eq!(documents.prime(&mut named), Validation::Always);
        documents.mark_validated("{ never sent }");
        assert_eq!(documents.len(), 1, "marking a text never primed adds nothing");
    }
}
