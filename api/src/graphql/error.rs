//! `ApiError` → GraphQL error with a stable `extensions.code`. Internal errors are logged in
//! full with a request id and answered with that id only: over HTTP the request's
//! `x-request-id` (the one the response header carries), so a client's report finds the
//! server's log line.

use std::future::Future;

use async_graphql::ErrorExtensions;

use crate::service::ApiError;

/// Resolver result.
pub type GqlResult<T> = async_graphql::Result<T>;

/// Converts service results for resolvers.
pub trait IntoGql<T> {
    /// Maps the error with its code.
    fn gql(self) -> GqlResult<T>;
}

impl<T> IntoGql<T> for Result<T, ApiError> {
    fn gql(self) -> GqlResult<T> {
        self.map_err(to_gql)
    }
}

impl<T> IntoGql<T> for Result<T, vigil_projections::ProjectionError> {
    fn gql(self) -> GqlResult<T> {
        self.map_err(|e| to_gql(ApiError::from(e)))
    }
}

/// A read of one of the caller's records: `None` (absent, or someone else's) is `NOT_FOUND`.
pub fn found<T>(row: Option<T>) -> GqlResult<T> {
    row.ok_or(ApiError::NotFound).gql()
}

tokio::task_local! {
    /// The `x-request-id` of the HTTP request whose operation is running. A task-local, not
    /// context data: errors are converted where no GraphQL context is at hand.
    static REQUEST_ID: String;
}

/// Runs an operation with `id` as the request id its `INTERNAL` errors answer and log.
pub async fn with_request_id<F: Future>(id: String, operation: F) -> F::Output {
    REQUEST_ID.scope(id, operation).await
}

/// The GraphQL form of an API error.
pub fn to_gql(e: ApiError) -> async_graphql::Error {
    let code = e.code();
    match e {
        ApiError::Internal(cause) => {
            // Outside an HTTP request (a WebSocket operation) there is no header to answer:
            // a fresh id still ties the answer to its log line.
            let request_id = REQUEST_ID
                .try_with(Clone::clone)
                .unwrap_or_else(|_| uuid::Uuid::new_v4().to_string());
            tracing::error!(%request_id, error = format!("{cause:#}"), "internal error");
            async_graphql::Error::new("internal error").extend_with(|_, ext| {
                ext.set("code", code);
                ext.set("requestId", request_id.as_str());
            })
        }
        ApiError::BadInput { ref field, .. } => {
            let field = field.clone();
            async_graphql::Error::new(e.to_string()).extend_with(|_, ext| {
                ext.set("code", code);
                ext.set("field", field.as_str());
            })
        }
        ApiError::ProjectionLag { position } => async_graphql::Error::new(e.to_string()).extend_with(|_, ext| {
            ext.set("code", code);
            ext.set("position", position);
        }),
        other => async_graphql::Error::new(other.to_string()).extend_with(|_, ext| ext.set("code", code)),
    }
}
