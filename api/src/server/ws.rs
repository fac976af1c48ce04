//! GraphQL subscriptions over WebSocket (graphql-transport-ws and the legacy graphql-ws).
//! The access token arrives in `connection_init` as `{"authorization": "Bearer …"}` (or
//! `{"accessToken": "…"}`); without a valid one the connection is refused.

use async_graphql::Data;
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::Extension;
use axum::extract::{State, WebSocketUpgrade};
use axum::response::Response;

use super::http::AppState;
use crate::limits::admission::Admitted;
use crate::limits::client::ClientAddr;
use crate::service::ApiError;

pub async fn handler(
    State(state): State<AppState>,
    Extension(client): Extension<ClientAddr>,
    protocol: GraphQLProtocol,
    upgrade: WebSocketUpgrade,
) -> Response {
    upgrade
        .protocols(async_graphql::http::ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| {
            let service = state.service.clone();
            GraphQLWebSocket::new(
                socket,
                Admitted::new(state.schema.clone(), service.clone(), state.limiter.clone(), client.0),
                protocol,
            )
            .on_connection_init(move |payload| async move {
                let token = payload
                    .get("authorization")
                    .and_then(|v| v.as_str())
                    .and_then(|v| v.strip_prefix("Bearer "))
                    .or_else(|| payload.get("accessToken").and_then(|v| v.as_str()))
                    .map(str::to_owned);
                let Some(token) = token else {
                    return Err(async_graphql::Error::new("connection_init needs an access token"));
                };
                match service.authenticate(token.trim()).await {
                    Ok(caller) => {
                        let mut data = Data::default();
                        data.insert(Ok::<_, ApiError>(caller));
                        Ok(data)
                    }
                    Err(_) => Err(async_graphql::Error::new("invalid access token")),
                }
            })
            .serve()
        })
}
