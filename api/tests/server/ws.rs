//! A graphql-transport-ws client for `myEvents`.

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub struct Subscription {
    socket: Socket,
}

async fn next_json(socket: &mut Socket) -> Value {
    loop {
        let msg = tokio::time::timeout(std::time::Duration::from_secs(10), socket.next())
            .await
            .expect("a websocket message within 10 s");
        match msg {
            Some(Ok(Message::Text(text))) => return serde_json::from_str(text.as_str()).unwrap(),
            Some(Ok(Message::Close(frame))) => return json!({ "type": "closed", "reason": format!("{frame:?}") }),
            None | Some(Err(_)) => return json!({ "type": "closed" }),
            Some(Ok(_)) => {}
        }
    }
}

/// Opens `/graphql/ws`, sends `connection_init` (with `token` when given) and subscribes to
/// `query` as operation "1"; `Err` with the server's answer when it does not acknowledge.
async fn subscribed(base: &str, token: Option<&str>, query: &str) -> Result<Socket, Value> {
    let url = format!("{}/graphql/ws", base.replacen("http://", "ws://", 1));
    let mut request = url.into_client_request().unwrap();
    request
        .headers_mut()
        .insert("sec-websocket-protocol", "graphql-transport-ws".parse().unwrap());
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let payload = match token {
        Some(t) => json!({ "authorization": format!("Bearer {t}") }),
        None => json!({}),
    };
    let init = json!({ "type": "connection_init", "payload": payload });
    socket.send(Message::Text(init.to_string().into())).await.unwrap();
    let ack = next_json(&mut socket).await;
    if ack["type"] != "connection_ack" {
        return Err(ack);
    }
    let subscribe = json!({ "id": "1", "type": "subscribe", "payload": { "query": query } });
    socket.send(Message::Text(subscribe.to_string().into())).await.unwrap();
    Ok(socket)
}

/// Opens `/graphql/ws` as `token`, runs `query` once and returns the first answer to it (a
/// `next`, an `error` or a close).
pub async fn first_answer(base: &str, token: &str, query: &str) -> Value {
    let mut socket = subscribed(base, Some(token), query)
        .await
        .unwrap_or_else(|answer| panic!("connection_init refused: {answer}"));
    loop {
        let msg = next_json(&mut socket).await;
        if msg["type"] != "ping" && msg["type"] != "pong" {
            return msg;
        }
    }
}

impl Subscription {
    /// Opens `/graphql/ws`, authenticates in `connection_init`, and subscribes to `myEvents`.
    pub async fn my_events(base: &str, token: Option<&str>) -> Result<Subscription, Value> {
        let query = "subscription { myEvents { position kind eventType aggregateId } }";
        Ok(Subscription {
            socket: subscribed(base, token, query).await?,
        })
    }

    /// The next `myEvents` item.
    pub async fn next(&mut self) -> Value {
        loop {
            let msg = next_json(&mut self.socket).await;
            match msg["type"].as_str() {
                Some("next") => return msg["payload"]["data"]["myEvents"].clone(),
                Some("ping") => {
                    let pong = json!({ "type": "pong" });
                    self.socket.send(Message::Text(pong.to_string().into())).await.unwrap();
                }
                _ => panic!("unexpected subscription message {msg}"),
            }
        }
    }
}
