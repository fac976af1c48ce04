//! The public checkpoint endpoints (ADR 0010), unauthenticated: everything here is hashes and
//! signatures, nothing personal. `GET /checkpoint` is the newest recorded signed note,
//! `GET /checkpoint/{size}` the one of that tree size, `GET /checkpoint/key` the verifier key
//! line to check them with, `GET /checkpoint/proof?from=A&to=B` the consistency proof between
//! two sizes (one base64 hash a line, as C2SP tlog-witness writes proofs), what a witness
//! needs. `POST /checkpoint/cosign` takes a witness's cosignature (the note with its
//! `cosignature/v1` line added), kept only if it verifies with a configured witness key;
//! served notes carry the cosignatures recorded for them ("witnessed"). Answers are
//! `text/plain; charset=utf-8` and may be cached briefly; the edge middleware adds the
//! security headers as everywhere. Each client address has a bucket of requests here
//! (`--limit-checkpoints`); past it, 429 with `Retry-After`.
//! Must not sign anything (the job does) nor serve a note that was not recorded.

use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use axum::body::Bytes;
use vigil_eventstore::{EventStore, RecordedCheckpoint};
use vigil_proofs::note::{Checkpoint, Note};

use super::http::AppState;
use crate::limits::client::ClientAddr;

/// How long a client or cache may keep the newest checkpoint.
const LATEST_MAX_AGE: &str = "public, max-age=5";
/// How long one of a given size may be kept (a recorded note never changes).
const SIZED_MAX_AGE: &str = "public, max-age=300";

fn text(status: StatusCode, cache: Option<&'static str>, body: String) -> Response {
    let mut response = (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response();
    if let Some(cache) = cache {
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    }
    response
}

fn error(status: StatusCode, message: &str) -> Response {
    text(status, None, format!("{message}\n"))
}

fn internal(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "cannot read checkpoints");
    error(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
}

/// The per-client limit of these endpoints (a layer on their routes).
pub async fn limit(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let client = request.extensions().get::<ClientAddr>().and_then(|c| c.0);
    if let (Some(limiter), Some(client)) = (&state.limiter, client)
        && let Err(wait) = limiter.checkpoints(client)
    {
        crate::metrics::record::rate_limited("checkpoints");
        let mut response = error(
            StatusCode::TOO_MANY_REQUESTS,
            &format!("too many checkpoint requests; retry in {wait} s"),
        );
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(wait));
        return response;
    }
    next.run(request).await
}

/// A tree size as written in a path or query: decimal digits only, no sign, no leading zero.
fn size(text: &str) -> Option<u64> {
    let plain =
        !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) && !(text.len() > 1 && text.starts_with('0'));
    plain.then(|| text.parse().ok()).flatten()
}

/// The recorded note with the witnesses' cosignature lines recorded for it.
async fn served(store: &EventStore, cp: RecordedCheckpoint, cache: &'static str) -> Response {
    match store.cosignatures(cp.size).await {
        Ok(lines) => text(
            StatusCode::OK,
            Some(cache),
            crate::checkpoint::served_note(&cp.note, &lines),
        ),
        Err(e) => internal(e),
    }
}

/// `GET /checkpoint`: the newest signed checkpoint.
pub async fn latest(State(state): State<AppState>) -> Response {
    match state.service.store().latest_checkpoint().await {
        Ok(Some(cp)) => served(state.service.store(), cp, LATEST_MAX_AGE).await,
        Ok(None) => error(StatusCode::NOT_FOUND, "no checkpoint has been signed yet"),
        Err(e) => internal(e),
    }
}

/// `GET /checkpoint/{size}`: the checkpoint of that tree size; 404 when none was signed for
/// it, 400 for a malformed size.
pub async fn by_size(State(state): State<AppState>, Path(raw): Path<String>) -> Response {
    let Some(size) = size(&raw) else {
        return error(StatusCode::BAD_REQUEST, "a tree size is a decimal number");
    };
    match state.service.store().checkpoint_at(size).await {
        Ok(Some(cp)) => served(state.service.store(), cp, SIZED_MAX_AGE).await,
        Ok(None) => error(StatusCode::NOT_FOUND, "no checkpoint of this tree size"),
        Err(e) => internal(e),
    }
}

/// `GET /checkpoint/key`: the verifier key line (`<origin>+<key id>+<base64 public key>`).
pub async fn key(State(state): State<AppState>) -> Response {
    match &state.checkpoint_key {
        Some(key) => text(StatusCode::OK, Some(SIZED_MAX_AGE), format!("{key}\n")),
        None => error(StatusCode::NOT_FOUND, "this server signs no checkpoints"),
    }
}

/// `GET /checkpoint/proof?from=A&to=B`: the consistency proof from tree size A to B, one
/// base64 hash a line (none when A = B).
pub async fn proof(State(state): State<AppState>, RawQuery(query): RawQuery) -> Response {
    let (mut from, mut to) = (None, None);
    for pair in query.as_deref().unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        match pair.split_once('=') {
            Some(("from", v)) if from.is_none() => from = Some(v),
            Some(("to", v)) if to.is_none() => to = Some(v),
            _ => return error(StatusCode::BAD_REQUEST, "give exactly from=<size>&to=<size>"),
        }
    }
    let (Some(from), Some(to)) = (from.and_then(size), to.and_then(size)) else {
        return error(StatusCode::BAD_REQUEST, "give from=<size>&to=<size>, decimal numbers");
    };
    match state.service.store().consistency_proof(from, to).await {
        Ok(hashes) => {
            let body: String = hashes.iter().map(|h| format!("{}\n", STANDARD.encode(h))).collect();
            text(StatusCode::OK, Some(SIZED_MAX_AGE), body)
        }
        Err(
            e @ (vigil_eventstore::StoreError::TreeSizeBeyondLog { .. }
            | vigil_eventstore::StoreError::NoConsistencyProof { .. }),
        ) => error(StatusCode::BAD_REQUEST, &e.to_string()),
        Err(e) => internal(e),
    }
}

/// `POST /checkpoint/cosign`: a recorded checkpoint's note with a witness's cosignature line
/// added. 200 when a line by a configured witness key verifies (recorded once per key), 403
/// when none does, 404 for a size never signed, 409 for a body that is not the recorded note,
/// 400 for one that is not a signed checkpoint.
pub async fn cosign(State(state): State<AppState>, body: Bytes) -> Response {
    let Ok(note) = Note::parse(&body) else {
        return error(StatusCode::BAD_REQUEST, "the body must be a signed note");
    };
    let Ok(checkpoint) = Checkpoint::parse(note.text()) else {
        return error(StatusCode::BAD_REQUEST, "the note is not a checkpoint");
    };
    let store = state.service.store();
    let recorded = match store.checkpoint_at(checkpoint.size()).await {
        Ok(Some(cp)) => cp,
        Ok(None) => return error(StatusCode::NOT_FOUND, "no checkpoint of this tree size"),
        Err(e) => return internal(e),
    };
    if Note::parse(recorded.note.as_bytes()).map(|n| n.text() == note.text()) != Ok(true) {
        return error(
            StatusCode::CONFLICT,
            "this is not the checkpoint the log signed for this size",
        );
    }
    let mut accepted = 0;
    for key in state.witness_keys.iter() {
        if note.verify(key).is_err() {
            continue;
        }
        let lines = note
            .signatures()
            .iter()
            .filter(|s| s.name == key.name() && s.key_id == key.key_id());
        for line in lines {
            match store
                .record_cosignature(checkpoint.size(), key.key_id(), &line.to_line())
                .await
            {
                Ok(_) => accepted += 1,
                Err(e) => return internal(e),
            }
        }
        tracing::info!(size = checkpoint.size(), witness = key.name(), "checkpoint cosigned");
    }
    if accepted == 0 {
        return error(
            StatusCode::FORBIDDEN,
            "no cosignature by a witness this log accepts verifies",
        );
    }
    text(StatusCode::OK, None, "cosigned\n".to_owned())
}

#[cfg(test)]
mod tests {
    use super::size;

    #[test]
    fn sizes_are_plain_decimal_numbers() {
        assert_eq!(size("0"), Some(0));
        assert_eq!(size("1024"), Some(1024));
        for bad in ["", "01", "+1", "-1", "1e3", "0x10", " 1", "18446744073709551616"] {
            assert_eq!(size(bad), None, "{bad:?}");
        }
    }
}
