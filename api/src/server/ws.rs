//! GraphQL over WebSocket (graphql-transport-ws and the legacy graphql-ws), held to the same
//! rules as HTTP. The access token arrives in `connection_init` as
//! `{"authorization": "Bearer …"}` (or `{"accessToken": "…"}`).
//! - No valid token: the socket closes with 4403; no `connection_init` within
//!   [`INIT_DEADLINE`]: 4408. Close reasons stay within the protocol's 123 bytes.
//! - Every operation re-checks the session (and acts with the role it has now) and passes
//!   the same admission as HTTP (read-only switch, rate limits). Subscriptions per socket and
//!   sockets per person are capped (`limits::sockets`).
//! - The session is checked again whenever a revocation reaches this server (at once, from any
//!   node on Postgres: see `cluster::revocations`) and every [`RECHECK`] anyway: once it is
//!   revoked or its access token expires, the socket closes with 4401.
//! - A client that does not read: a send waiting longer than [`SEND_DEADLINE`] closes the
//!   socket, so nothing queues for it (subscriptions are only polled as fast as it reads).
//! - A socket without subscriptions that sends nothing for the idle time (`--idle-timeout`)
//!   closes with 1000; one that subscribes is waiting for news, not idle.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_graphql::http::{WebSocketProtocols, WsMessage};
use async_graphql::parser::types::OperationType;
use async_graphql::{Data, Executor, Request, Response};
use axum::Extension;
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use axum::extract::{State, WebSocketUpgrade};
use axum::http::HeaderMap;
use axum::response::Response as HttpResponse;
use futures_util::stream::BoxStream;
use futures_util::{SinkExt, StreamExt, stream};
use zeroize::Zeroizing;

use super::http::AppState;
use super::input_errors;
use crate::graphql::VigilSchema;
use crate::limits::admission::{self, Refusal, Who};
use crate::limits::client::ClientAddr;
use crate::limits::sockets::{Slot, Subscriptions};
use crate::limits::{Limiter, operation};
use crate::service::{ApiError, Caller, Service};

/// How long a socket may stay open without `connection_init`.
pub const INIT_DEADLINE: Duration = Duration::from_secs(10);
/// How often an open socket's session is checked again.
pub const RECHECK: Duration = Duration::from_secs(1);
/// How long one message may wait for a client to read.
pub const SEND_DEADLINE: Duration = Duration::from_secs(10);
/// The protocol's limit on a close reason, in bytes.
const MAX_CLOSE_REASON: usize = 123;

/// What a socket knows after `connection_init`.
#[derive(Default)]
struct Session {
    token: Option<Zeroizing<String>>,
    _slot: Option<Slot>,
}

type Shared = Arc<Mutex<Session>>;

fn lock(shared: &Shared) -> std::sync::MutexGuard<'_, Session> {
    shared.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

pub async fn handler(
    State(state): State<AppState>,
    Extension(client): Extension<ClientAddr>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> HttpResponse {
    let protocol = headers
        .get_all("sec-websocket-protocol")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .find_map(|p| p.trim().parse::<WebSocketProtocols>().ok())
        .unwrap_or(WebSocketProtocols::GraphQLWS);
    upgrade
        .protocols(async_graphql::http::ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| serve(socket, state, client, protocol))
}

async fn serve(socket: WebSocket, state: AppState, client: ClientAddr, protocol: WebSocketProtocols) {
    // Counted while this function runs, whoever closes the socket.
    let _open = crate::metrics::record::connection("websocket");
    let session: Shared = Arc::default();
    let service = state.service.clone();
    let executor = SocketExecutor {
        schema: state.schema.clone(),
        service: service.clone(),
        limiter: state.limiter.clone(),
        client,
        session: session.clone(),
        subscriptions: Subscriptions::default(),
    };
    let idle = state.idle;
    let running = executor.subscriptions.clone();
    let heard = Arc::new(Mutex::new(std::time::Instant::now()));
    let (mut sink, incoming) = socket.split();
    let last_heard = heard.clone();
    let incoming = incoming.inspect(move |_| {
        *last_heard.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = std::time::Instant::now();
    });
    let input = incoming.take_while(|m| std::future::ready(m.is_ok())).filter_map(|m| {
        std::future::ready(match m {
            Ok(Message::Text(text)) => Some(text.as_str().as_bytes().to_vec()),
            Ok(Message::Binary(bytes)) => Some(bytes.to_vec()),
            _ => None,
        })
    });
    let init_session = session.clone();
    let init_service = service.clone();
    let mut protocol_stream = async_graphql::http::WebSocket::new(executor, input, protocol)
        .on_connection_init(move |payload| init(init_service, init_session, payload))
        .boxed();
    let deadline = tokio::time::sleep(INIT_DEADLINE);
    tokio::pin!(deadline);
    let mut revoked = service.live().revocations();
    let mut recheck = tokio::time::interval(RECHECK);
    recheck.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let close = loop {
        let initialised = lock(&session).token.is_some();
        tokio::select! {
            message = protocol_stream.next() => match message {
                Some(WsMessage::Text(text)) => {
                    match tokio::time::timeout(SEND_DEADLINE, sink.send(Message::Text(text.into()))).await {
                        Ok(Ok(())) => {}
                        Ok(Err(_)) => break None,
                        Err(_) => break Some((4408, "the client does not read its messages")),
                    }
                }
                // The protocol's own close; a refused `connection_init` is 4403 (Forbidden).
                Some(WsMessage::Close(code, _)) if code == 1002 && !initialised => {
                    break Some((4403, "forbidden: connection_init needs a valid access token"));
                }
                Some(WsMessage::Close(code, reason)) => {
                    let _ = sink.send(close_frame(code, &reason)).await;
                    break None;
                }
                None => break None,
            },
            () = &mut deadline, if !initialised => break Some((4408, "connection_init not received in time")),
            // A revocation reached this server, or the periodic check is due.
            _ = async { tokio::select! { _ = revoked.changed() => {}, _ = recheck.tick() => {} } }, if initialised => {
                let token = lock(&session).token.clone();
                if let Some(token) = token
                    && service.authenticate(token.trim()).await.is_err()
                {
                    break Some((4401, "unauthorized: the session ended or its access token expired"));
                }
                let silent = heard.lock().unwrap_or_else(std::sync::PoisonError::into_inner).elapsed();
                if running.active() == 0 && silent >= idle {
                    break Some((1000, "closed: no subscription and nothing sent for the idle time"));
                }
            }
        }
    };
    if let Some((code, reason)) = close {
        let _ = tokio::time::timeout(SEND_DEADLINE, sink.send(close_frame(code, reason))).await;
    }
    let _ = tokio::time::timeout(SEND_DEADLINE, sink.close()).await;
}

fn close_frame(code: u16, reason: &str) -> Message {
    let mut end = reason.len().min(MAX_CLOSE_REASON);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    Message::Close(Some(CloseFrame {
        code,
        reason: reason[..end].to_owned().into(),
    }))
}

/// `connection_init`: a valid access token and a free connection slot of its person.
async fn init(service: Service, session: Shared, payload: serde_json::Value) -> async_graphql::Result<Data> {
    let token = payload
        .get("authorization")
        .and_then(|v| v.as_str())
        .and_then(|v| v.strip_prefix("Bearer "))
        .or_else(|| payload.get("accessToken").and_then(|v| v.as_str()))
        .map(|t| Zeroizing::new(t.trim().to_owned()));
    let Some(token) = token else {
        return Err(async_graphql::Error::new("connection_init needs an access token"));
    };
    let caller = service
        .authenticate(&token)
        .await
        .map_err(|_| async_graphql::Error::new("invalid access token"))?;
    let Some(slot) = service.sockets().enter(caller.user) else {
        return Err(async_graphql::Error::new("too many open connections for this account"));
    };
    let mut state = lock(&session);
    state.token = Some(token);
    state._slot = Some(slot);
    let mut data = Data::default();
    data.insert(Ok::<_, ApiError>(caller));
    Ok(data)
}

/// The schema as one socket executes it: each operation re-authenticated and admitted.
#[derive(Clone)]
struct SocketExecutor {
    schema: VigilSchema,
    service: Service,
    limiter: Option<Arc<Limiter>>,
    client: ClientAddr,
    session: Shared,
    subscriptions: Subscriptions,
}

impl SocketExecutor {
    /// The operation's data (the caller as the store holds it now), its subscription place,
    /// or the answer refusing it.
    async fn admit(&self, request: &mut Request) -> Result<(Data, Option<crate::limits::sockets::Running>), Response> {
        let token = lock(&self.session).token.clone();
        let caller: Option<Caller> = match token {
            Some(token) => Some(
                self.service
                    .authenticate(&token)
                    .await
                    .map_err(|e| unauthenticated(&e))?,
            ),
            None => None,
        };
        let who = Who {
            caller,
            client: self.client.0,
        };
        admission::admit(&self.service, self.limiter.as_deref(), who, request)
            .await
            .map_err(|r| r.response())?;
        let name = request.operation_name.clone();
        let subscription = request
            .parsed_query()
            .ok()
            .and_then(|doc| operation::analyse(doc, name.as_deref()))
            .is_some_and(|op| op.ty == OperationType::Subscription);
        let running = if subscription {
            let refused = Refusal {
                code: "RATE_LIMITED",
                message: format!(
                    "at most {} subscriptions per connection",
                    crate::limits::sockets::SUBSCRIPTIONS_PER_CONNECTION
                ),
                retry_after: 1,
                field: None,
            };
            Some(self.subscriptions.start().ok_or_else(|| refused.response())?)
        } else {
            None
        };
        let mut data = Data::default();
        if let Some(caller) = caller {
            data.insert(Ok::<_, ApiError>(caller));
        }
        Ok((data, running))
    }
}

fn unauthenticated(e: &ApiError) -> Response {
    let mut error = async_graphql::ServerError::new(e.to_string(), None);
    let mut extensions = async_graphql::ErrorExtensionValues::default();
    extensions.set("code", e.code());
    error.extensions = Some(extensions);
    Response::from_errors(vec![error])
}

impl Executor for SocketExecutor {
    async fn execute(&self, mut request: Request) -> Response {
        match self.admit(&mut request).await {
            Ok((data, _)) => {
                // Errors async-graphql raises itself get their code, as over HTTP.
                let query = input_errors::take_query(&mut request);
                let mut response = self.schema.execute(request.data(data)).await;
                input_errors::respond(&mut response, &query);
                response
            }
            Err(refused) => refused,
        }
    }

    fn execute_stream(&self, mut request: Request, _init: Option<Arc<Data>>) -> BoxStream<'static, Response> {
        let this = self.clone();
        stream::once(async move {
            match this.admit(&mut request).await {
                Ok((data, running)) => {
                    let query = input_errors::take_query(&mut request);
                    Executor::execute_stream(&this.schema, request, Some(Arc::new(data)))
                        .map(move |mut response| {
                            // Held for as long as the subscription runs.
                            let _place = &running;
                            input_errors::respond(&mut response, &query);
                            response
                        })
                        .boxed()
                }
                Err(refused) => stream::once(async move { refused }).boxed(),
            }
        })
        .flatten()
        .boxed()
    }
}
