//! Whether a request may run at all, decided on its whole document before any field runs,
//! for HTTP and WebSocket alike (the socket's executor, `server::ws`, calls [`admit`] per
//! operation).
//! - While the read-only switch is on, a mutation with any root field outside
//!   [`WHILE_READ_ONLY`] is refused whole: `READ_ONLY`, HTTP 503 with `Retry-After`. Sign-in
//!   and session upkeep stay possible, so staff can act, and an admin can switch it off.
//! - A query text over [`MAX_QUERY_BYTES`] or with more than [`MAX_ALIASES`] aliases is
//!   `BAD_USER_INPUT` (field `query`, HTTP 400).
//! - Rate limits (when configured) count one unit per root field, aliases included: a
//!   document needing more than its bucket holds is refused whole, `RATE_LIMITED`, HTTP 429
//!   with `Retry-After`. See `limits::node` and `limits::sign_in` for who shares which bucket.

use std::net::IpAddr;
use std::num::NonZeroU32;

use async_graphql::parser::types::OperationType;
use async_graphql::{Request, Response, ServerError};
use vigil_domain::values::EmailAddress;

use super::Limiter;
use super::operation;
use crate::service::{ApiError, Caller, Service};

/// Mutations that run while the service is read-only. Nothing that changes a person's
/// account or data is here: `changeEmail` tries a password as sign-in does, but it is a write.
pub const WHILE_READ_ONLY: &[&str] = &[
    "login",
    "completeLogin",
    "refresh",
    "logout",
    "startTotpEnrolment",
    "confirmTotpEnrolment",
    "setReadOnly",
];
/// Root fields that are sign-in attempts (a password or a second factor is tried). Those run
/// with a session (a password asked again) also count against the person, so a stolen access
/// token cannot guess its way to erasing or taking over the account; `changeEmail`'s
/// `CONFLICT` for a taken address also says an account holds it.
pub const SIGN_IN: &[&str] = &[
    "login",
    "completeLogin",
    "confirmTotpEnrolment",
    "changePassword",
    "changeEmail",
    "deleteMyAccount",
];
/// Aliased fields one document may hold (each alias runs its field once more).
pub const MAX_ALIASES: usize = 50;
/// Longest query text accepted, in bytes.
pub const MAX_QUERY_BYTES: usize = 16 * 1024;

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
    /// The input at fault (`BAD_USER_INPUT`; `query` when none is named).
    pub field: Option<String>,
}

impl Refusal {
    /// The GraphQL response carrying it (no `data`, one error without a path).
    pub fn response(&self) -> Response {
        let mut error = ServerError::new(self.message.clone(), None);
        let mut extensions = async_graphql::ErrorExtensionValues::default();
        extensions.set("code", self.code);
        if self.code == "BAD_USER_INPUT" {
            extensions.set("field", self.field.clone().unwrap_or_else(|| "query".to_owned()));
        } else {
            extensions.set("retryAfter", self.retry_after);
        }
        error.extensions = Some(extensions);
        Response::from_errors(vec![error])
    }

    fn limited(what: &str, retry_after: u64) -> Refusal {
        Refusal {
            code: "RATE_LIMITED",
            message: format!("too many {what}; retry in {retry_after} s"),
            retry_after,
            field: None,
        }
    }
}

/// Who sends a request.
#[derive(Debug, Clone, Copy, Default)]
pub struct Who {
    /// The signed-in person, when the token was valid.
    pub caller: Option<Caller>,
    /// The client's address (see `limits::client`), when known.
    pub client: Option<IpAddr>,
}

/// Decides on `request` (parsing it if nobody has yet; a parse error is left for the schema
/// to report).
///
/// # Errors
/// The refusal; a failure of the shared limit's database refuses too (fail closed).
pub async fn admit(
    service: &Service,
    limiter: Option<&Limiter>,
    who: Who,
    request: &mut Request,
) -> Result<(), Refusal> {
    let decision = decide(service, limiter, who, request).await;
    if let Err(refusal) = &decision
        && refusal.code == "RATE_LIMITED"
    {
        crate::metrics::record::rate_limited("graphql");
    }
    decision
}

async fn decide(service: &Service, limiter: Option<&Limiter>, who: Who, request: &mut Request) -> Result<(), Refusal> {
    if request.query.len() > MAX_QUERY_BYTES {
        return Err(bad_query(format!("the query is longer than {MAX_QUERY_BYTES} bytes")));
    }
    if let Some(field) = super::text::refused_variable(&request.variables) {
        return Err(refused_text(field));
    }
    let name = request.operation_name.clone();
    let Ok(doc) = request.parsed_query() else { return Ok(()) };
    if operation::aliases(doc) > MAX_ALIASES {
        return Err(bad_query(format!("the query uses more than {MAX_ALIASES} aliases")));
    }
    if let Some(field) = super::text::refused_literal(doc) {
        return Err(refused_text(field));
    }
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
            field: None,
        });
    }
    let Some(limiter) = limiter else { return Ok(()) };
    let units = count(operation.root_fields.len());
    match (who.caller, who.client) {
        (Some(caller), _) if operation.ty == OperationType::Mutation => limiter
            .node
            .writes(caller.user, units)
            .map_err(|s| Refusal::limited("writes", s))?,
        (Some(caller), _) => limiter
            .node
            .reads(caller.user, units)
            .map_err(|s| Refusal::limited("reads", s))?,
        (None, Some(client)) => limiter
            .node
            .public(client, units)
            .map_err(|s| Refusal::limited("requests without a session", s))?,
        (None, None) => {}
    }
    let attempts = operation
        .root_fields
        .iter()
        .filter(|f| SIGN_IN.contains(&f.as_str()))
        .count();
    if attempts == 0 {
        return Ok(());
    }
    let index = service.index();
    let mut keys: Vec<(String, usize)> = Vec::new();
    if let Some(client) = who.client {
        keys.push((index.client(&client.to_string()), attempts));
    }
    if let Some(caller) = who.caller {
        keys.push((format!("person:{}", index.person(&caller.user)), attempts));
    }
    let mut accounts: Vec<String> = login_emails(request)
        .into_iter()
        .map(|email| match EmailAddress::parse(&email) {
            Ok(email) => format!("account:{}", index.email(&email)),
            Err(_) => "account:malformed".to_owned(),
        })
        .collect();
    // A password tried by `changeEmail` is counted on the signed-in person's account, in the
    // same bucket as `login` with their address (they share the account's guesses).
    let changes = operation.root_fields.iter().filter(|f| *f == "changeEmail").count();
    if changes > 0
        && let Some(caller) = who.caller
    {
        match vigil_projections::read::email_index_of(service.db(), caller.user).await {
            Ok(Some(own)) => accounts.extend(std::iter::repeat_n(format!("account:{own}"), changes)),
            Ok(None) => {}
            Err(e) => {
                tracing::error!(error = %ApiError::from(e), "cannot check the sign-in limit; refusing");
                return Err(Refusal::limited("sign-in attempts (the limit cannot be checked)", 5));
            }
        }
    }
    for key in accounts {
        match keys.iter_mut().find(|(k, _)| *k == key) {
            Some((_, n)) => *n += 1,
            None => keys.push((key, 1)),
        }
    }
    for (key, n) in keys {
        match limiter.sign_in.take(&key, count(n)).await {
            Ok(Ok(())) => {}
            Ok(Err(seconds)) => return Err(Refusal::limited("sign-in attempts", seconds)),
            Err(e) => {
                tracing::error!(error = %ApiError::internal(e), "cannot check the sign-in limit; refusing");
                return Err(Refusal::limited("sign-in attempts (the limit cannot be checked)", 5));
            }
        }
    }
    Ok(())
}

fn refused_text(field: String) -> Refusal {
    Refusal {
        code: "BAD_USER_INPUT",
        message: format!(
            "{field}: control characters (other than tab and line breaks) and bidirectional overrides are not accepted"
        ),
        retry_after: 0,
        field: Some(field),
    }
}

fn bad_query(message: String) -> Refusal {
    Refusal {
        code: "BAD_USER_INPUT",
        message,
        retry_after: 0,
        field: None,
    }
}

fn count(n: usize) -> NonZeroU32 {
    NonZeroU32::new(u32::try_from(n).unwrap_or(u32::MAX)).unwrap_or(NonZeroU32::MIN)
}

/// The `email` argument of every root `login` field (literal or variable), fragments included.
fn login_emails(request: &mut Request) -> Vec<String> {
    let variables = request.variables.clone();
    let name = request.operation_name.clone();
    let Ok(doc) = request.parsed_query() else {
        return Vec::new();
    };
    let Some(operation) = operation::select(doc, name.as_deref()) else {
        return Vec::new();
    };
    operation::root_fields(doc, &operation.node)
        .into_iter()
        .flatten()
        .filter(|field| field.name.node == "login")
        .map(|field| {
            let email = field
                .arguments
                .iter()
                .find(|(n, _)| n.node == "email")
                .and_then(|(_, v)| {
                    v.node
                        .clone()
                        .into_const_with(|var| variables.get(&var).cloned().ok_or(()))
                        .ok()
                });
            match email {
                Some(async_graphql::Value::String(email)) => email,
                _ => String::new(),
            }
        })
        .collect()
}
