//! What clients cost the server, counted from outside: its file descriptors and resident
//! memory (`/proc/<pid>`). Silent connections (TCP that never sends, HTTP kept alive after
//! its response, a WebSocket with no subscription) close after the idle time while a
//! subscribed socket stays; 600 subscriptions share the process's one feed, and when their
//! clients leave, handles return to the idle level.

use std::collections::BTreeSet;
use std::io::ErrorKind;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::harness::{Backend, Client, Server, sqlite_dir};
use crate::signin::register;
use crate::sockets::{Next, Socket, acked, init, next, subscribe};

const WEIGHT: &str =
    "mutation { recordHealthLog(input: {vital: \"body_weight\", value: \"87.3\", unit: \"kg\"}) { position } }";

fn fds(server: &Server) -> usize {
    std::fs::read_dir(format!("/proc/{}/fd", server.pid()))
        .expect("the server's fd directory")
        .count()
}

fn rss_mib(server: &Server) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", server.pid())).expect("status");
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS");
    kib / 1024.0
}

/// Waits until the server holds at most `limit` descriptors; how many it holds then.
async fn settle_fds(server: &Server, limit: usize, within: Duration) -> usize {
    let started = Instant::now();
    loop {
        let now = fds(server);
        if now <= limit || started.elapsed() > within {
            return now;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Reads until the peer closes; how long that took. Panics if it stays open `within`.
async fn closed_by_server(stream: &mut TcpStream, within: Duration) -> Duration {
    let started = Instant::now();
    let mut buf = [0u8; 4096];
    loop {
        let left = within.saturating_sub(started.elapsed());
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Ok(Ok(0)) => return started.elapsed(),
            Ok(Err(e)) if matches!(e.kind(), ErrorKind::ConnectionReset | ErrorKind::BrokenPipe) => {
                return started.elapsed();
            }
            Ok(Ok(_)) => {}
            Ok(Err(e)) => panic!("reading failed: {e}"),
            Err(_) => panic!("the server kept a silent connection open for {within:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_connections_close_after_the_idle_time_and_a_subscribed_socket_stays() {
    let (_tmp, dir) = sqlite_dir();
    let server = Server::start_with(&Backend::Sqlite(dir), &[], &[("VIGIL_IDLE_TIMEOUT", "2")]);
    let (client, _, _) = register(&server, "kim@example.org").await;
    let token = client.token.clone().expect("token");
    // The checkpoint job signs the log's first checkpoint within a second of its first event,
    // through the store's pool: the idle count is taken once it did, at steady state.
    let started = Instant::now();
    while reqwest::get(format!("{}/checkpoint", server.url))
        .await
        .unwrap()
        .status()
        != 200
    {
        assert!(started.elapsed() < Duration::from_secs(10), "no first checkpoint");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let idle_fds = fds(&server);
    let addr = server.url.trim_start_matches("http://").to_owned();

    let mut silent = Vec::new();
    for _ in 0..50 {
        silent.push(TcpStream::connect(&addr).await.expect("connect"));
    }
    let mut kept_alive = TcpStream::connect(&addr).await.expect("connect");
    kept_alive
        .write_all(format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes())
        .await
        .expect("request");
    let mut head = [0u8; 12];
    kept_alive.read_exact(&mut head).await.expect("a response");
    assert_eq!(&head, b"HTTP/1.1 200", "the kept-alive request was answered");
    let (mut quiet_socket, first) = init(&server, &token).await;
    assert!(acked(&first));
    let (mut subscribed, first) = init(&server, &token).await;
    assert!(acked(&first));
    subscribe(&mut subscribed, 1).await;
    let busy_fds = fds(&server);
    assert!(
        busy_fds >= idle_fds + 50,
        "{busy_fds} descriptors with 53 clients (idle: {idle_fds})"
    );

    let within = Duration::from_secs(8);
    let mut silent_took = Duration::ZERO;
    for stream in &mut silent {
        silent_took = silent_took.max(closed_by_server(stream, within).await);
    }
    let kept_took = closed_by_server(&mut kept_alive, within).await;
    let quiet = next(&mut quiet_socket, within).await;
    assert!(
        matches!(quiet, Next::Closed(Some(1000))),
        "a socket without subscriptions that sent nothing is closed"
    );
    println!(
        "idle 2 s: 50 silent TCP connections closed within {silent_took:?}, a kept-alive HTTP connection {kept_took:?}"
    );

    // The subscribed socket outlived the idle time and still hears its person's news.
    client.ok(WEIGHT, json!({})).await;
    match next(&mut subscribed, Duration::from_secs(10)).await {
        Next::Json(v) => assert_eq!(v["type"], "next", "{v}"),
        Next::Closed(code) => panic!("the subscribed socket was closed ({code:?})"),
    }
    let after = settle_fds(&server, idle_fds + 2, Duration::from_secs(5)).await;
    println!("descriptors: idle {idle_fds}, with 53 clients {busy_fds}, after they went silent {after}");
    assert!(
        after <= idle_fds + 2,
        "silent clients left {after} descriptors (idle {idle_fds})"
    );
    drop(subscribed);
    server.stop();
}

/// 3 people × 10 sockets × 20 subscriptions; each person writes once and every subscription
/// hears it; then everyone leaves.
async fn six_hundred_subscriptions(server: &Server, label: &str) {
    let mut people = Vec::new();
    for i in 0..3 {
        let (client, _, _) = register(server, &format!("sub{i}@example.org")).await;
        people.push(client);
    }
    client_round(server, &people).await; // warm the paths once before measuring
    let (idle_fds, idle_rss) = (fds(server), rss_mib(server));
    let started = Instant::now();
    let mut sockets: Vec<Socket> = Vec::new();
    for person in &people {
        let token = person.token.clone().expect("token");
        for _ in 0..10 {
            let (mut socket, first) = init(server, &token).await;
            assert!(acked(&first), "socket refused");
            for id in 0..20 {
                subscribe(&mut socket, id).await;
            }
            sockets.push(socket);
        }
    }
    let opened = started.elapsed();
    let heard = hear_everything(&people, &mut sockets, 20).await;
    assert_eq!(heard, 600, "every subscription hears its person's writes");
    let (busy_fds, busy_rss) = (fds(server), rss_mib(server));
    for socket in &mut sockets {
        let _ = socket.close(None).await;
    }
    drop(sockets);
    let after_fds = settle_fds(server, idle_fds + 2, Duration::from_secs(10)).await;
    let after_rss = rss_mib(server);
    println!(
        "{label}: 600 subscriptions on 30 sockets (opened in {opened:?}): descriptors {idle_fds} → {busy_fds} → {after_fds}, \
         RSS {idle_rss:.1} → {busy_rss:.1} → {after_rss:.1} MiB"
    );
    assert!(
        after_fds <= idle_fds + 2,
        "{after_fds} descriptors after everyone left (idle {idle_fds})"
    );
    assert!(
        busy_rss - idle_rss < 64.0,
        "600 subscriptions took {:.1} MiB",
        busy_rss - idle_rss
    );
    assert!(
        after_rss - idle_rss < 32.0,
        "{:.1} MiB stayed after everyone left",
        after_rss - idle_rss
    );
}

/// One socket per person, one subscription each, heard once.
async fn client_round(server: &Server, people: &[Client]) {
    let mut sockets = Vec::new();
    for person in people {
        let (mut socket, first) = init(server, person.token.as_deref().expect("token")).await;
        assert!(acked(&first));
        subscribe(&mut socket, 0).await;
        sockets.push(socket);
    }
    hear_everything(people, &mut sockets, 1).await;
    for socket in &mut sockets {
        let _ = socket.close(None).await;
    }
}

/// Until each socket's subscriptions `0..per_socket` have all heard news: a subscribe message
/// has no acknowledgement, so a write may land before the server started a subscription
/// sent just before it. Each person writes every half second meanwhile. How many heard.
async fn hear_everything(people: &[Client], sockets: &mut [Socket], per_socket: usize) -> usize {
    let writing = Arc::new(AtomicBool::new(true));
    let writers: Vec<_> = people
        .iter()
        .map(|person| {
            let (person, writing) = (person.clone(), writing.clone());
            tokio::spawn(async move {
                while writing.load(Ordering::Acquire) {
                    person.ok(WEIGHT, json!({})).await;
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            })
        })
        .collect();
    let mut heard = 0;
    for socket in sockets {
        let mut ids = BTreeSet::new();
        while ids.len() < per_socket {
            match next(socket, Duration::from_secs(20)).await {
                Next::Json(v) if v["type"] == "next" => {
                    ids.insert(v["id"].as_str().unwrap_or_default().to_owned());
                }
                Next::Json(v) => panic!("unexpected {v}"),
                Next::Closed(code) => panic!("a subscribed socket closed ({code:?})"),
            }
        }
        heard += ids.len();
    }
    writing.store(false, Ordering::Release);
    for writer in writers {
        writer.await.expect("writer");
    }
    heard
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn six_hundred_subscriptions_share_one_feed_and_leave_nothing_behind_on_sqlite() {
    let (_tmp, dir) = sqlite_dir();
    let server = Server::start(&Backend::Sqlite(dir));
    six_hundred_subscriptions(&server, "sqlite").await;
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn six_hundred_subscriptions_share_one_feed_and_leave_nothing_behind_on_postgres() {
    let Some(url) = vigil_tests::fresh_pg_database().await else {
        return;
    };
    let server = Server::start(&Backend::Postgres(url));
    six_hundred_subscriptions(&server, "postgres").await;
    server.stop();
}
