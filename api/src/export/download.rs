//! `GET /export/<token>`: spends the token and streams the export as the response body
//! (chunked), `Content-Disposition: attachment`, `Cache-Control: no-store`. The token is the
//! capability, so no bearer is needed; a request that carries one must carry the owner's (a
//! link used from someone else's session is refused, and the token is spent all the same).
//! Must not: log the token or the path (it holds the token), write the export anywhere but
//! the response, or go on reading once the client left.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use time::OffsetDateTime;
use vigil_domain::access::ExportFormat;

use super::sink::{Gone, Sink};
use super::source::Source;
use super::{Ticket, csv, fhir, json, tokens};
use crate::service::{ApiError, Service};

/// Answers a download request.
pub async fn download(service: &Service, token: &str, headers: &HeaderMap) -> Response {
    let caller = match headers.get(header::AUTHORIZATION) {
        None => None,
        Some(value) => match value.to_str().ok().and_then(|v| v.strip_prefix("Bearer ")) {
            Some(bearer) => match service.authenticate(bearer.trim()).await {
                Ok(caller) => Some(caller),
                Err(_) => return refused(StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", "invalid access token"),
            },
            None => {
                return refused(
                    StatusCode::UNAUTHORIZED,
                    "UNAUTHENTICATED",
                    "use Authorization: Bearer <access token>, or no Authorization at all",
                );
            }
        },
    };
    let now = OffsetDateTime::now_utc();
    let ticket = match service.redeem_export(token, now).await {
        Ok(ticket) => ticket,
        Err(ApiError::NotFound) => return refused(StatusCode::NOT_FOUND, "NOT_FOUND", tokens::REFUSED),
        Err(e) => {
            tracing::error!(error = %e, "cannot redeem an export token");
            return refused(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL", "internal error");
        }
    };
    if caller.is_some_and(|c| c.user != ticket.user()) {
        return refused(
            StatusCode::FORBIDDEN,
            "FORBIDDEN",
            "this download belongs to another account; the link no longer works",
        );
    }
    let format = ticket.format();
    let (sink, rx) = Sink::channel();
    tokio::spawn(produce(service.clone(), ticket, sink, now));
    // The chunks, until the writer drops its end (done, or failed after its error item).
    let chunks = futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|item| (item, rx)) });
    let body = Body::from_stream(chunks);
    let (content_type, extension) = match format {
        ExportFormat::Json => ("application/json", "json"),
        ExportFormat::Csv => ("application/zip", "zip"),
        ExportFormat::Fhir => ("application/fhir+json", "fhir.json"),
    };
    let name = format!("vigil-export-{}.{extension}", now.date());
    let mut response = (StatusCode::OK, body).into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, value);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Writes the export into the sink; a failure ends the body with an error.
async fn produce(service: Service, ticket: Ticket, mut sink: Sink, now: OffsetDateTime) {
    let src = Source::new(&service, &ticket);
    let result = match ticket.format() {
        ExportFormat::Json => json::write(&src, &mut sink, now).await,
        ExportFormat::Csv => csv::write(&src, &mut sink, now).await,
        ExportFormat::Fhir => fhir::write(&src, &mut sink, now).await,
    };
    match result {
        Ok(()) => tracing::info!(format = ?ticket.format(), bytes = sink.sent(), "export sent"),
        Err(e) if e.is::<Gone>() => tracing::info!(bytes = sink.sent(), "export abandoned by the client"),
        Err(e) => {
            // The error names what failed (a query, the store), never a value of the export.
            tracing::error!(error = %e, bytes = sink.sent(), "export stopped before its end");
            sink.fail().await;
        }
    }
}

fn refused(status: StatusCode, code: &str, message: &str) -> Response {
    let body = serde_json::json!({ "errors": [{ "message": message, "extensions": { "code": code } }] });
    (status, [(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
}
