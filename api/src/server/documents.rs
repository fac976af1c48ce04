//! Parsed GraphQL documents remembered by their text. Clients send the same few operations
//! over and over, and parsing one with async-graphql's pest grammar was the largest single
//! cost of a dashboard request (about a sixth of its CPU); cloning a parsed document is much
//! cheaper. Validation, depth and complexity checks still run on every request.
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

/// The cache; cheap to clone (clones share it).
#[derive(Clone, Default)]
pub struct Documents {
    inner: Arc<Mutex<HashMap<String, ExecutableDocument>>>,
}

impl Documents {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, ExecutableDocument>> {
        // A map of independent parse results: still consistent after a panic elsewhere.
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Hands `request` its parsed document: a remembered one, or one parsed now (and
    /// remembered). A query that does not parse is left to the schema, which reports it.
    pub fn prime(&self, request: &mut async_graphql::Request) {
        if request.query.len() > MAX_TEXT {
            return;
        }
        if let Some(doc) = self.lock().get(&request.query).cloned() {
            request.set_parsed_query(doc);
            return;
        }
        let Ok(doc) = request.parsed_query().cloned() else {
            return;
        };
        let mut inner = self.lock();
        if inner.len() >= CAPACITY {
            inner.clear();
        }
        inner.insert(request.query.clone(), doc);
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
}
