//! The accept loop: the router over HTTP/1.1 connections that each carry a timer, so a
//! connection that sends nothing is closed after the idle time, whether it never sent a
//! request or sent nothing since its last response (hyper's header-read timeout starts when
//! the connection begins waiting for a request head). Graceful shutdown stops accepting,
//! lets requests in flight finish, and then returns.
//!
//! Owns: accepting, the per-connection builder and shutdown. Must not: look at requests
//! (that is the edge's), or hold an upgraded WebSocket (its loop owns its own idle rule, see
//! `ws`).
//!
//! Why not `axum::serve`: it builds connections without a timer, so hyper's header-read
//! timeout never runs and 200 silent TCP connections stayed open indefinitely.

use std::future::Future;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower::ServiceExt;

/// Serves `app` on `listener` until `shutdown` resolves; connections idle for `idle` close.
/// With `counted`, open connections are counted under that `kind` in the metrics (the
/// public listener's are; the metrics listener's own are not).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    idle: Duration,
    counted: Option<&'static str>,
    shutdown: impl Future<Output = ()>,
) {
    // Sent at shutdown: every connection then finishes gracefully; `closed` resolves when the
    // last connection task has dropped its receiver.
    let (stop, stopped) = watch::channel(());
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    pause_after(&e).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let app = app.clone();
        let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
            let mut request = request.map(axum::body::Body::new);
            // What `into_make_service_with_connect_info` provides: the edge reads the peer.
            request.extensions_mut().insert(ConnectInfo(peer));
            app.clone().oneshot(request)
        });
        let mut stopped = stopped.clone();
        let open = counted.and_then(crate::metrics::record::connection);
        tokio::spawn(async move {
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(idle)
                .serve_connection(TokioIo::new(stream), service)
                .with_upgrades();
            tokio::pin!(connection);
            tokio::select! {
                result = connection.as_mut() => log_end(result),
                _ = stopped.changed() => {
                    connection.as_mut().graceful_shutdown();
                    log_end(connection.await);
                }
            }
            drop(stopped);
            drop(open);
        });
    }
    drop(listener);
    stop.send_replace(());
    drop(stopped);
    stop.closed().await;
}

fn log_end(result: Result<(), hyper::Error>) {
    if let Err(e) = result {
        // A closed idle connection, a client that went away: routine, not news.
        tracing::debug!(error = %e, "connection ended");
    }
}

/// After a failed accept: a per-connection error (the peer reset before we took it) is
/// nothing; anything else (out of file descriptors) is waited out so the loop does not spin.
async fn pause_after(e: &std::io::Error) {
    use std::io::ErrorKind as K;
    if matches!(
        e.kind(),
        K::ConnectionRefused | K::ConnectionAborted | K::ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %e, "accepting a connection failed; pausing for a second");
    tokio::time::sleep(Duration::from_secs(1)).await;
}
