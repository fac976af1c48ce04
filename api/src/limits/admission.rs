//! Whether a request may run at all, decided on its whole document before any field runs,
//! for HTTP and WebSocket alike ([`Admitted`] wraps the schema as an executor).
//! - While the read-only switch is on, a mutation with any root field outside
//!   [`WHILE_READ_ONLY`] is refused whole: `READ_ONLY`, HTTP 503 with `Retry-After`.
//!   Sign-in and session upkeep stay possible, so staff can act, and an admin can switch
//!   it off.

use std::sync::Arc;

use async_graphql::parser::types::OperationType;
use async_graphql::{Data, Executor, Request, Response, ServerError};
use futures_util::stream::BoxStream;

use super::operation;
use crate::graphql::VigilSchema;
use crate::service::Service;

/// Mutations that run while the service is read-only.
pub const WHILE_READ_ONLY: &[&str] = &[
    "login",
    "completeLogin",
    "refresh",
    "logout",
    "startTotpEnrolment",
    "confirmTotpEnrolment",
    "setReadOnly",
];
/// What `Retry-After` says while read-only, in seconds (the end is unknown; clients retry).
pub const READ_ONLY_RETRY_AFTER: u64 = 30;

/// Why a request was refused before running.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// `extensions.code`.
    pub code: &'static str,
    /// The message.
    pub message: String,
    /// Seconds until a retry may succeed.
    pub retry_after: u64,
}

impl Refusal {
    /// The GraphQL response carrying it (no `data`, one error without a path).
    pub fn response(&self) -> Response {
        let mut error = ServerError::new(self.message.clone(), None);
        let mut extensions = async_graphql::ErrorExtensionValues::default();
        extensions.set("code", self.code);
        extensions.set("retryAfter", self.retry_after);
        error.extensions = Some(extensions);
        Response::from_errors(vec![error])
    }
}

/// Decides on `request` (parsing it if nobody has yet; a parse error is left for the schema
/// to report).
pub fn admit(service: &Service, request: &mut Request) -> Result<(), Refusal> {
    let name = request.operation_name.clone();
    let Ok(doc) = request.parsed_query() else { return Ok(()) };
    let Some(operation) = operation::analyse(doc, name.as_deref()) else {
        return Ok(());
    };
    if operation.ty == OperationType::Mutation
        && let Some(read_only) = service.maintenance().read_only()
        && operation
            .root_fields
            .iter()
            .any(|f| !WHILE_READ_ONLY.contains(&f.as_str()))
    {
        return Err(Refusal {
            code: "READ_ONLY",
            message: format!(
                "the service is read-only since {} (maintenance); reads keep working, retry writes later",
                read_only
                    .since
                    .format(&time::format_description::well_known::Rfc3339)
                    .unwrap_or_default()
            ),
            retry_after: READ_ONLY_RETRY_AFTER,
        });
    }
    Ok(())
}

/// The schema behind the admission check: what the WebSocket protocol executes.
#[derive(Clone)]
pub struct Admitted {
    schema: VigilSchema,
    service: Service,
}

impl Admitted {
    /// Wraps `schema`.
    pub fn new(schema: VigilSchema, service: Service) -> Self {
        Admitted { schema, service }
    }
}

impl Executor for Admitted {
    async fn execute(&self, mut request: Request) -> Response {
        if let Err(refusal) = admit(&self.service, &mut request) {
            return refusal.response();
        }
        self.schema.execute(request).await
    }

    fn execute_stream(&self, mut request: Request, session_data: Option<Arc<Data>>) -> BoxStream<'static, Response> {
        if let Err(refusal) = admit(&self.service, &mut request) {
            return Box::pin(futures_util::stream::once(async move { refusal.response() }));
        }
        Executor::execute_stream(&self.schema, request, session_data)
    }
}
