//! The API layer's one error type. Every variant names its GraphQL `extensions.code`; the
//! HTTP status is 200 for field errors (GraphQL-over-HTTP), except request-level failures
//! handled in `server::http`. `Internal` is opaque to clients: they get a request id, the
//! server log gets the cause.

use thiserror::Error;

/// What a resolver can answer besides data.
#[derive(Debug, Error)]
pub enum ApiError {
    /// No or invalid access token, or wrong credentials. `UNAUTHENTICATED`.
    #[error("{0}")]
    Unauthenticated(&'static str),
    /// Authenticated but not allowed. `FORBIDDEN`.
    #[error("{0}")]
    Forbidden(&'static str),
    /// Input failed validation; names the offending field. `BAD_USER_INPUT`.
    #[error("{field}: {message}")]
    BadInput {
        /// The argument or input field at fault.
        field: String,
        /// Why.
        message: String,
    },
    /// The change conflicts with the current state (taken handle, concurrent edit, rule of
    /// the domain about state). `CONFLICT`.
    #[error("{0}")]
    Conflict(String),
    /// Not found, or not yours (never distinguished). `NOT_FOUND`.
    #[error("not found")]
    NotFound,
    /// The write committed but read models lag; retry the read. `PROJECTION_LAG`.
    #[error("the change was saved at position {position}, but read models have not caught up yet; retry the read")]
    ProjectionLag {
        /// Position of the committed event.
        position: u64,
    },
    /// A subscription fell too far behind its client and was ended; resubscribe and
    /// refetch. `SUBSCRIPTION_OVERFLOW`.
    #[error("this subscription fell {0} events behind and was ended; subscribe again and refetch")]
    SubscriptionOverflow(usize),
    /// Anything else: logged in full, answered as `INTERNAL` with a request id only.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl ApiError {
    /// The stable `extensions.code`.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Unauthenticated(_) => "UNAUTHENTICATED",
            ApiError::Forbidden(_) => "FORBIDDEN",
            ApiError::BadInput { .. } => "BAD_USER_INPUT",
            ApiError::Conflict(_) => "CONFLICT",
            ApiError::NotFound => "NOT_FOUND",
            ApiError::ProjectionLag { .. } => "PROJECTION_LAG",
            ApiError::SubscriptionOverflow(_) => "SUBSCRIPTION_OVERFLOW",
            ApiError::Internal(_) => "INTERNAL",
        }
    }

    /// A validation failure on `field`.
    pub fn bad(field: impl Into<String>, message: impl std::fmt::Display) -> Self {
        ApiError::BadInput {
            field: field.into(),
            message: message.to_string(),
        }
    }

    /// What the server log says: an internal error's causes too (never sent to a client).
    pub fn detail(&self) -> String {
        match self {
            ApiError::Internal(cause) => format!("{cause:#}"),
            other => other.to_string(),
        }
    }

    /// Wraps an infrastructure failure.
    pub fn internal(e: impl Into<anyhow::Error>) -> Self {
        ApiError::Internal(e.into())
    }
}

impl From<vigil_projections::ProjectionError> for ApiError {
    fn from(e: vigil_projections::ProjectionError) -> Self {
        use vigil_projections::ProjectionError as P;
        match e {
            P::InvalidInput(message) => ApiError::bad("after", message),
            P::Lagging { position, .. } => ApiError::ProjectionLag { position },
            other => ApiError::internal(other),
        }
    }
}

impl From<vigil_eventstore::StoreError> for ApiError {
    fn from(e: vigil_eventstore::StoreError) -> Self {
        use vigil_eventstore::StoreError as S;
        match e {
            S::Conflict { .. } => ApiError::Conflict("the record changed meanwhile; reload and retry".into()),
            S::SubjectErased { .. } => ApiError::Forbidden("this account has been erased"),
            e @ (S::TreeSizeBeyondLog { .. } | S::LeafIndexBeyondSize { .. } | S::NoConsistencyProof { .. }) => {
                ApiError::bad("size", e.to_string())
            }
            other => ApiError::internal(other),
        }
    }
}

/// Result alias.
pub type ApiResult<T> = Result<T, ApiError>;
