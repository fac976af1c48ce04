//! The one middleware every request and response passes, outermost: it drops an unacceptable
//! `x-request-id` (so the request-id layer mints one), resolves the client's address
//! (`limits::client`; a malformed forwarded header is a 400), answers an oversized body in the
//! API's JSON error shape, and sets the security headers (`hardening`). One layer instead of a
//! dozen: each tower layer costs every request a little, and `vigil bench api` showed it.
//! Must not look at bodies or callers.

use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::hardening::{self, API_CSP};
use crate::limits::TrustedProxies;
use crate::limits::client::ClientAddr;

/// The middleware (see the module).
pub async fn edge(State(proxies): State<Arc<TrustedProxies>>, mut request: Request, next: Next) -> Response {
    let id = HeaderName::from_static("x-request-id");
    if request
        .headers()
        .get(&id)
        .is_some_and(|v| !hardening::acceptable_request_id(v.as_bytes()))
    {
        request.headers_mut().remove(&id);
    }
    let peer = request
        .extensions()
        .get::<ConnectInfo<std::net::SocketAddr>>()
        .map(|info| info.0.ip());
    let mut response = match proxies.client(peer, request.headers()) {
        Ok(client) => {
            request.extensions_mut().insert(ClientAddr(client));
            let response = next.run(request).await;
            if response.status() == StatusCode::PAYLOAD_TOO_LARGE {
                json_error(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "the request body is larger than this server accepts (--body-limit)",
                    "body",
                )
            } else {
                response
            }
        }
        Err(message) => json_error(StatusCode::BAD_REQUEST, &message, "x-forwarded-for"),
    };
    let headers = response.headers_mut();
    for (name, value) in hardening::FIXED_HEADERS {
        if name == header::CACHE_CONTROL && hardening::public_cache(headers.get(&name)) {
            // The public checkpoint endpoints say how long their answer may be kept.
            continue;
        }
        headers.insert(name, HeaderValue::from_static(value));
    }
    headers
        .entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static(API_CSP));
    crate::metrics::record::http_response(response.status().as_u16());
    response
}

fn json_error(status: StatusCode, message: &str, field: &str) -> Response {
    let body = serde_json::json!({ "errors": [{
        "message": message,
        "extensions": { "code": "BAD_USER_INPUT", "field": field },
    }] });
    (status, [(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
}
