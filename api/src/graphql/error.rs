//! `ApiError` → GraphQL error with a stable `extensions.code`. Internal errors are logged in
//! full with a request id and answered with that id only.

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

/// The GraphQL form of an API error.
pub fn to_gql(e: ApiError) -> async_graphql::Error {
    let code = e.code();
    match e {
        ApiError::Internal(cause) => {
            let request_id = uuid::Uuid::new_v4();
            tracing::error!(%request_id, error = format!("{cause:#}"), "internal error");
            async_graphql::Error::new("internal error").extend_with(|_, ext| {
                ext.set("code", code);
                ext.set("requestId", request_id.to_string());
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
