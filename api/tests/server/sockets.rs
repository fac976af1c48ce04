//! Open WebSockets obey the same rules as HTTP: a refused `connection_init` closes with 4403;
//! a socket whose session is revoked on another server closes with 4401 within about a
//! second (Postgres, two servers); a person holds at most 10 sockets per server and a socket
//! at most 20 subscriptions; a socket that never sends `connection_init` is closed (4408).

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::harness::{Backend, Client, Server, sqlite_dir};
use crate::signin::register;

pub(crate) type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// What the server sent next: a JSON message, or the close code.
pub(crate) enum Next {
    Json(Value),
    Closed(Option<u16>),
}

pub(crate) async fn next(socket: &mut Socket, within: Duration) -> Next {
    loop {
        let msg = tokio::time::timeout(within, socket.next())
            .await
            .expect("a message in time");
        match msg {
            Some(Ok(Message::Text(text))) => {
                let value: Value = serde_json::from_str(text.as_str()).unwrap();
                if value["type"] != "ping" {
                    return Next::Json(value);
                }
            }
            Some(Ok(Message::Close(frame))) => return Next::Closed(frame.map(|f| u16::from(f.code))),
            None | Some(Err(_)) => return Next::Closed(None),
            Some(Ok(_)) => {}
        }
    }
}

pub(crate) async fn open(server: &Server) -> Socket {
    let url = format!("{}/graphql/ws", server.url.replacen("http://", "ws://", 1));
    let mut request = url.into_client_request().unwrap();
    request
        .headers_mut()
        .insert("sec-websocket-protocol", "graphql-transport-ws".parse().unwrap());
    tokio_tungstenite::connect_async(request).await.unwrap().0
}

pub(crate) async fn send(socket: &mut Socket, value: Value) {
    socket.send(Message::Text(value.to_string().into())).await.unwrap();
}

/// Opens a socket and sends `connection_init` with `token`: the socket, and the first answer.
pub(crate) async fn init(server: &Server, token: &str) -> (Socket, Next) {
    let mut socket = open(server).await;
    send(
        &mut socket,
        json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {token}") } }),
    )
    .await;
    let first = next(&mut socket, Duration::from_secs(10)).await;
    (socket, first)
}

pub(crate) fn acked(first: &Next) -> bool {
    matches!(first, Next::Json(v) if v["type"] == "connection_ack")
}

pub(crate) async fn subscribe(socket: &mut Socket, id: usize) {
    send(
        socket,
        json!({ "id": id.to_string(), "type": "subscribe",
                "payload": { "query": "subscription { myEvents { position } }" } }),
    )
    .await;
}

async fn caps_and_refusals(server: &Server) {
    let (client, _, _) = register(server, "ida@example.org").await;
    let token = client.token.clone().unwrap();

    // A bad token: 4403.
    let (_, first) = init(server, "not-a-token").await;
    assert!(
        matches!(first, Next::Closed(Some(4403))),
        "refused init closes with 4403"
    );

    // Twenty subscriptions on one socket; one of 21 sent at once is refused, as that
    // operation's answer (the others wait for events).
    let (mut socket, first) = init(server, &token).await;
    assert!(acked(&first));
    for id in 0..21 {
        subscribe(&mut socket, id).await;
    }
    let refused = match next(&mut socket, Duration::from_secs(10)).await {
        Next::Json(v) => v,
        Next::Closed(code) => panic!("closed {code:?}"),
    };
    assert_eq!(
        refused["payload"]["errors"][0]["extensions"]["code"], "RATE_LIMITED",
        "{refused}"
    );

    // Ten sockets per person (one is open above); the eleventh init is refused.
    let mut open_sockets = vec![socket];
    for _ in 0..9 {
        let (socket, first) = init(server, &token).await;
        assert!(acked(&first));
        open_sockets.push(socket);
    }
    let (_, first) = init(server, &token).await;
    assert!(matches!(first, Next::Closed(Some(4403))), "the 11th socket is refused");
    // Closing one frees its place.
    let mut closing = open_sockets.pop().unwrap();
    closing.close(None).await.unwrap();
    drop(closing);
    let started = Instant::now();
    loop {
        let (socket, first) = init(server, &token).await;
        if acked(&first) {
            open_sockets.push(socket);
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "a closed socket's place came back"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // No connection_init: closed with 4408 after the deadline.
    let mut silent = open(server).await;
    let closed = next(&mut silent, Duration::from_secs(15)).await;
    assert!(matches!(closed, Next::Closed(Some(4408))), "a silent socket is closed");
    drop(open_sockets);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sockets_are_capped_and_a_refused_init_closes_with_4403() {
    let (_tmp, dir) = sqlite_dir();
    let server = Server::start(&Backend::Sqlite(dir));
    caps_and_refusals(&server).await;
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_socket_closes_when_its_session_is_revoked_on_another_server() {
    let Some(url) = vigil_tests::fresh_pg_database().await else {
        return;
    };
    let backend = Backend::Postgres(url);
    let a = Server::start(&backend);
    let b = Server::start(&backend);
    let (client, _, _) = register(&a, "jo@example.org").await;
    let token = client.token.clone().unwrap();
    let (mut socket, first) = init(&a, &token).await;
    assert!(acked(&first));
    subscribe(&mut socket, 1).await;
    let mut on_b = Client::new(&b);
    on_b.token = Some(token);
    let started = Instant::now();
    on_b.ok("mutation { logout }", json!({})).await;
    let closed = loop {
        match next(&mut socket, Duration::from_secs(5)).await {
            Next::Closed(code) => break code,
            Next::Json(_) => {}
        }
    };
    let took = started.elapsed();
    assert_eq!(closed, Some(4401), "closed as unauthorized");
    println!("a socket on server A closed {took:?} after the logout request to server B was sent");
    a.stop();
    b.stop();
}
