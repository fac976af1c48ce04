//! HTTP: GraphQL over HTTP per the spec's rules (accept negotiation, 400 for request errors
//! under `application/graphql-response+json`, no mutations over GET, JSON bodies only, no
//! batching), health endpoints, and the middleware stack (request ids, body limit, timeout,
//! security headers, sensitive headers kept out of traces).

use std::sync::Arc;
use std::time::Duration;

use async_graphql::http::parse_query_string;
use async_graphql::parser::types::OperationType;
use axum::Extension;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::timeout::TimeoutLayer;

use super::documents::{Documents, Validation};
use super::hardening;
use super::input_errors;
use super::security_txt;
use crate::graphql::{RequestId, VigilSchema};
use crate::limits::Limiter;
use crate::limits::admission::{self, Refusal, Who};
use crate::limits::client::ClientAddr;
use crate::service::{ApiError, Service};

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";
const JSON: &str = "application/json";

/// What every handler shares; one `Arc`, because axum clones a handler's state for every
/// request, and cloning (then dropping) each of these fields' own `Arc`s was ~1 % of a
/// dashboard request's CPU (ADR 0015).
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// The fields of [`AppState`].
pub struct Shared {
    pub service: Service,
    /// The schema with full validation (and what the WebSocket endpoint serves).
    pub schema: VigilSchema,
    /// The same schema for documents known to pass full validation (`documents`).
    pub validated: VigilSchema,
    pub documents: Documents,
    /// The rate limits, when configured.
    pub limiter: Option<Arc<Limiter>>,
    /// How long a WebSocket without subscriptions may stay silent.
    pub idle: std::time::Duration,
    /// The verifier key of this log's checkpoints, served at `/checkpoint/key`.
    pub checkpoint_key: Option<Arc<vigil_proofs::note::VerifierKey>>,
    /// The witnesses whose cosignatures `/checkpoint/cosign` accepts.
    pub witness_keys: Arc<Vec<vigil_proofs::note::VerifierKey>>,
}

/// The two builds of one schema, see `graphql::build_for_validated`.
pub struct Schemas {
    pub full: VigilSchema,
    pub validated: VigilSchema,
}

/// The whole HTTP surface.
pub fn router(service: Service, schemas: Schemas, surface: &super::Surface) -> Router {
    let (dev, body_limit) = (surface.dev, surface.body_limit);
    let state_db = service.db().clone();
    let security_txt = surface.security_txt.clone();
    let state = AppState(Arc::new(Shared {
        service,
        schema: schemas.full,
        validated: schemas.validated,
        documents: Documents::default(),
        limiter: surface
            .limits
            .as_ref()
            .map(|limits| Limiter::start(limits, state_db.clone())),
        idle: surface.idle,
        checkpoint_key: surface.checkpoint_key.clone().map(Arc::new),
        witness_keys: Arc::new(surface.witness_keys.clone()),
    }));
    let proxies = Arc::new(
        surface
            .limits
            .as_ref()
            .map(|l| l.trusted_proxies.clone())
            .unwrap_or_default(),
    );
    // Unauthenticated and each a few reads: a bucket per client address of their own.
    let checkpoints = Router::new()
        .route("/checkpoint", get(super::checkpoints::latest))
        .route("/checkpoint/key", get(super::checkpoints::key))
        .route("/checkpoint/proof", get(super::checkpoints::proof))
        .route("/checkpoint/cosign", axum::routing::post(super::checkpoints::cosign))
        .route("/checkpoint/{size}", get(super::checkpoints::by_size))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            super::checkpoints::limit,
        ));
    let mut router = Router::new()
        .route("/graphql", get(graphql_get).post(graphql_post))
        .route("/graphql/ws", get(super::ws::handler))
        .route("/export/{token}", get(export))
        .route("/healthz", get(healthz))
        .merge(checkpoints)
        .route("/readyz", get(readyz))
        .route(
            "/.well-known/security.txt",
            get(move || security_txt::respond(security_txt.clone())),
        );
    if dev {
        router = router.route("/graphiql", get(graphiql));
    }
    let x_request_id = header::HeaderName::from_static("x-request-id");
    let router = router
        .with_state(state)
        .layer(RequestBodyLimitLayer::new(
            usize::try_from(body_limit).unwrap_or(usize::MAX),
        ))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(30),
        ));
    hardening::with_cors(router, &surface.cors_origins)
        .layer(SetSensitiveRequestHeadersLayer::new([
            header::AUTHORIZATION,
            header::COOKIE,
        ]))
        .layer(PropagateRequestIdLayer::new(x_request_id.clone()))
        .layer(SetRequestIdLayer::new(x_request_id, MakeRequestUuid))
        .layer(axum::middleware::from_fn_with_state(proxies, super::edge::edge))
}

/// Which media type to answer with, or `None` for 406.
fn negotiate(headers: &HeaderMap) -> Option<&'static str> {
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
    if accept.trim().is_empty() {
        return Some(JSON);
    }
    let types: Vec<&str> = accept
        .split(',')
        .map(|t| t.split(';').next().unwrap_or("").trim())
        .collect();
    if types.contains(&GRAPHQL_RESPONSE) {
        Some(GRAPHQL_RESPONSE)
    } else if types.iter().any(|t| *t == JSON || *t == "*/*" || *t == "application/*") {
        Some(JSON)
    } else {
        None
    }
}

fn plain(status: StatusCode, message: &'static str) -> Response {
    (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], message).into_response()
}

/// A request refused before GraphQL sees it, answered like any other error (in the negotiated
/// media type, with `extensions.code` and the part of the request at fault), so a client
/// handles one error shape.
fn refused(status: StatusCode, media: &'static str, field: &'static str, message: &'static str) -> Response {
    let body = serde_json::json!({ "errors": [{
        "message": message,
        "extensions": { "code": "BAD_USER_INPUT", "field": field },
    }] });
    (status, [(header::CONTENT_TYPE, media)], body.to_string()).into_response()
}

/// A request refused whole before running: 503 (read-only) or 429 (rate limited) with
/// `Retry-After`, or 400 (a query over the size or alias limits); the refusal as a GraphQL
/// error.
fn refused_before_running(refusal: &Refusal, media: &'static str) -> Response {
    let status = match refusal.code {
        "RATE_LIMITED" => StatusCode::TOO_MANY_REQUESTS,
        "BAD_USER_INPUT" => StatusCode::BAD_REQUEST,
        _ => StatusCode::SERVICE_UNAVAILABLE,
    };
    let body = serde_json::json!({ "errors": refusal.response().errors }).to_string();
    let mut response = (status, [(header::CONTENT_TYPE, HeaderValue::from_static(media))], body).into_response();
    if status != StatusCode::BAD_REQUEST {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(refusal.retry_after));
    }
    response
}

async fn graphql_get(
    State(state): State<AppState>,
    Extension(client): Extension<ClientAddr>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let Some(media) = negotiate(&headers) else {
        return plain(
            StatusCode::NOT_ACCEPTABLE,
            "accept application/graphql-response+json or application/json",
        );
    };
    let mut request = match parse_query_string(query.as_deref().unwrap_or("")) {
        Ok(r) => r,
        Err(_) => return refused(StatusCode::BAD_REQUEST, media, "query", "malformed GraphQL GET request"),
    };
    state.documents.prime(&mut request);
    let operation_name = request.operation_name.clone();
    // Mutations change state and must not ride on GET (CSRF, caches, logs).
    if let Ok(doc) = request.parsed_query() {
        let op = match &operation_name {
            Some(name) => doc
                .operations
                .iter()
                .find(|(n, _)| n.map(|n| n.as_str()) == Some(name.as_str())),
            None => doc.operations.iter().next(),
        };
        if op.is_some_and(|(_, o)| o.node.ty != OperationType::Query) {
            let mut response = refused(
                StatusCode::METHOD_NOT_ALLOWED,
                media,
                "method",
                "mutations and subscriptions need POST",
            );
            response
                .headers_mut()
                .insert(header::ALLOW, header::HeaderValue::from_static("POST"));
            return response;
        }
    }
    execute(&state, client, &headers, request, media).await
}

async fn graphql_post(
    State(state): State<AppState>,
    Extension(client): Extension<ClientAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(media) = negotiate(&headers) else {
        return plain(
            StatusCode::NOT_ACCEPTABLE,
            "accept application/graphql-response+json or application/json",
        );
    };
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if essence != JSON {
        return refused(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            media,
            "content-type",
            "POST bodies must be application/json",
        );
    }
    // One operation per request: a JSON array (batch) does not parse as a request.
    let request: async_graphql::Request = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(_) => {
            return refused(
                StatusCode::BAD_REQUEST,
                media,
                "body",
                "the body must be one GraphQL request object (JSON with a \"query\" string)",
            );
        }
    };
    execute(&state, client, &headers, request, media).await
}

async fn execute(
    state: &AppState,
    client: ClientAddr,
    headers: &HeaderMap,
    request: async_graphql::Request,
    media: &'static str,
) -> Response {
    let mut timing = crate::metrics::record::start();
    let (response, code) = run(state, client, headers, request, media, &mut timing).await;
    crate::metrics::record::finish(timing, response.status().as_u16(), code);
    response
}

/// The first error's `extensions.code` (`None` without error), for the metrics only.
fn first_code(errors: &[async_graphql::ServerError]) -> Option<&'static str> {
    crate::metrics::on()?;
    let code = errors.first()?.extensions.as_ref()?.get("code")?;
    match code {
        async_graphql::Value::String(code) => Some(crate::metrics::record::code(code)),
        _ => Some("other"),
    }
}

/// Runs one request; the response and the first error's code (see [`first_code`]). `timing`
/// gets the operation's labels once the document is known.
async fn run(
    state: &AppState,
    client: ClientAddr,
    headers: &HeaderMap,
    request: async_graphql::Request,
    media: &'static str,
    timing: &mut Option<crate::metrics::record::Request>,
) -> (Response, Option<&'static str>) {
    const BAD: Option<&str> = Some("BAD_USER_INPUT");
    if request.query.trim().is_empty() {
        // No document at all (say a misspelt `query` key) is a malformed request whatever
        // the media type (the spec allows 400 under application/json too): name what is
        // missing instead of reporting a parse error of an empty document.
        return (
            refused(StatusCode::BAD_REQUEST, media, "query", "the request has no query"),
            BAD,
        );
    }
    let mut request = request;
    let validation = state.documents.prime(&mut request);
    crate::metrics::record::operation(timing, &mut request);
    // Always there: the request-id layer minted one when the client sent none (or one the
    // edge refused).
    let request_id = headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    if let Some(id) = &request_id {
        request = request.data(RequestId(id.clone()));
    }
    if let Some(value) = headers.get(crate::idempotency::HEADER) {
        match crate::idempotency::RequestKey::from_header(value, &request) {
            Ok(key) => request = request.data(key),
            Err(message) => {
                return (refused(StatusCode::BAD_REQUEST, media, "Idempotency-Key", message), BAD);
            }
        }
    }
    let mut who = Who {
        caller: None,
        client: client.0,
    };
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let caller = match value.to_str().ok().and_then(|v| v.strip_prefix("Bearer ")) {
            Some(token) => state.service.authenticate(token.trim()).await,
            None => Err(ApiError::Unauthenticated("use Authorization: Bearer <access token>")),
        };
        who.caller = caller.as_ref().ok().copied();
        request = request.data(caller);
    }
    if let Err(refusal) = admission::admit(&state.service, state.limiter.as_deref(), who, &mut request).await {
        return (refused_before_running(&refusal, media), Some(refusal.code));
    }
    // Kept to place an uncoded error in the document and to mark the document validated.
    let query = input_errors::take_query(&mut request);
    let schema = match validation {
        Validation::Passed => &state.validated,
        Validation::Unknown | Validation::Always => &state.schema,
    };
    let mut response = match request_id {
        Some(id) => crate::graphql::with_request_id(id, schema.execute(request)).await,
        None => schema.execute(request).await,
    };
    // Parse, validation, limit and argument errors come from async-graphql without a code.
    let request_error = input_errors::respond(&mut response, &query);
    if validation == Validation::Unknown && !request_error {
        state.documents.mark_validated(&query);
    }
    let (status, body) = if request_error && media == GRAPHQL_RESPONSE {
        // A request error under graphql-response+json: 400, and no `data` key at all.
        (
            StatusCode::BAD_REQUEST,
            serde_json::to_string(&serde_json::json!({ "errors": response.errors })),
        )
    } else {
        (StatusCode::OK, serde_json::to_string(&response))
    };
    match body {
        Ok(body) => (
            (status, [(header::CONTENT_TYPE, media)], body).into_response(),
            first_code(&response.errors),
        ),
        Err(e) => {
            tracing::error!(error = %e, "cannot serialize a GraphQL response");
            (
                plain(StatusCode::INTERNAL_SERVER_ERROR, "internal error"),
                Some("INTERNAL"),
            )
        }
    }
}

/// A one-time export download (`export::download`). The path holds the token: nothing here or
/// below logs it.
async fn export(State(state): State<AppState>, Path(token): Path<String>, headers: HeaderMap) -> Response {
    crate::export::download(&state.service, &token, &headers).await
}

async fn healthz() -> Response {
    plain(StatusCode::OK, "ok")
}

/// Ready when the read database answers, the log is reachable and projections are within
/// 1000 events of the head.
async fn readyz(State(state): State<AppState>) -> Response {
    let service = &state.service;
    if service.db().ping().await.is_err() {
        return plain(StatusCode::SERVICE_UNAVAILABLE, "read database unreachable");
    }
    let Ok(head) = service.store().head_position().await else {
        return plain(StatusCode::SERVICE_UNAVAILABLE, "event log unreachable");
    };
    let reached = service.runner().reached();
    if service.runner().is_finished() {
        return plain(StatusCode::SERVICE_UNAVAILABLE, "projection runner stopped");
    }
    if head.saturating_sub(reached) > 1_000 {
        return plain(StatusCode::SERVICE_UNAVAILABLE, "projections are catching up");
    }
    // Still ready (reads and sign-in work), but say so: operators and probes can tell.
    if service.maintenance().read_only().is_some() {
        return plain(StatusCode::OK, "ready (read-only: mutations are refused)");
    }
    plain(StatusCode::OK, "ready")
}

async fn graphiql() -> Response {
    let html = async_graphql::http::GraphiQLSource::build()
        .endpoint("/graphql")
        .subscription_endpoint("/graphql/ws")
        .finish();
    let csp =
        HeaderValue::from_str(&hardening::graphiql_csp(&html)).unwrap_or(HeaderValue::from_static(hardening::API_CSP));
    ([(header::CONTENT_SECURITY_POLICY, csp)], Html(html)).into_response()
}
