//! The GraphQL schema: queries and mutations over the service, and the error mapping every
//! resolver goes through. Limits (depth, complexity, no batching, no suggestions, no
//! introspection outside `--dev`) are set here; HTTP conformance lives in `server::http`.
//! Must not touch the database or the store except through `Service`.

mod audit;
mod doses;
mod erasure;
mod error;
mod export;
mod inputs;
mod logs;
mod maintenance;
mod mutation;
mod privacy;
mod query;
mod records;
mod serial;
mod signin;
mod site;
mod staff;
mod subscription;
mod types;

use async_graphql::{Schema, SchemaBuilder, ValidationMode};

pub use error::{GqlResult, IntoGql, with_request_id};
pub use mutation::MutationRoot;
pub use query::{QueryRoot, RequestId};
pub use subscription::SubscriptionRoot;

use crate::service::Service;

/// The schema type.
pub type VigilSchema = Schema<QueryRoot, MutationRoot, SubscriptionRoot>;

/// Deepest query accepted.
pub const MAX_DEPTH: usize = 12;
/// Most complex query accepted (each field counts 1, lists count their page size).
pub const MAX_COMPLEXITY: usize = 5_000;

/// What a paged list field weighs in the complexity: its page size (`first`, or the field's
/// default), times what one item weighs. An out-of-range `first` weighs its own value, so a
/// document asking for a million rows is refused by the limit before the resolver could
/// refuse its argument.
pub fn page_weight(first: Option<i32>, default: usize) -> usize {
    first.map_or(default, |f| usize::try_from(f).unwrap_or(1).max(1))
}

/// Builds the schema; `dev` keeps introspection (for GraphiQL) and suggestions.
pub fn build(service: Option<Service>, dev: bool) -> VigilSchema {
    builder(service, dev).finish()
}

/// The same schema in async-graphql's `Fast` validation mode: depth and complexity limits
/// and fragment cycles are still checked, the other rules are not. Only for documents that
/// passed [`build`]'s full validation exactly as sent (see `server::documents`).
pub fn build_for_validated(service: Option<Service>, dev: bool) -> VigilSchema {
    builder(service, dev).validation_mode(ValidationMode::Fast).finish()
}

/// No extension is registered: `serial`'s wrappers resolve fields without telling any.
fn builder(service: Option<Service>, dev: bool) -> SchemaBuilder<QueryRoot, MutationRoot, SubscriptionRoot> {
    let mut builder = Schema::build(QueryRoot::default(), MutationRoot::default(), SubscriptionRoot)
        .limit_depth(MAX_DEPTH)
        .limit_complexity(MAX_COMPLEXITY);
    if let Some(service) = service {
        builder = builder.data(service);
    }
    if !dev {
        builder = builder.disable_introspection().disable_suggestions();
    }
    builder
}

/// The SDL, as committed in `api/schema.graphql`.
pub fn sdl() -> String {
    build(None, true).sdl()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_committed_schema_matches_the_code() {
        let committed = include_str!("../schema.graphql");
        let current = super::sdl();
        assert!(
            committed == current,
            "api/schema.graphql is stale; regenerate it with `cargo run -- schema > api/schema.graphql`"
        );
    }
}
