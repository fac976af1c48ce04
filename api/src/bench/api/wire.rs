//! The load clients' HTTP: one kept-alive HTTP/1.1 connection per client over hyper's
//! connection API, with requests built from parts prepared once. Through reqwest (a pool,
//! a URL parse and header building per request) the clients took 15 % of a mixed phase's
//! CPU, on the very cores the server they measure runs on. Seeding still uses reqwest.
//! Must not be used for anything but the measured phases.

use std::net::SocketAddr;

use anyhow::{Context, bail};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HOST, HeaderValue};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;

/// One client's connection to one server.
pub struct Conn {
    send: SendRequest<Full<Bytes>>,
    host: HeaderValue,
}

impl Conn {
    /// Connects (no Nagle delay, as reqwest does) and keeps the connection alive.
    pub async fn open(addr: SocketAddr) -> anyhow::Result<Conn> {
        let stream = tokio::net::TcpStream::connect(addr)
            .await
            .with_context(|| format!("connecting to {addr}"))?;
        stream.set_nodelay(true)?;
        let (send, connection) = http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "bench client connection ended");
            }
        });
        Ok(Conn {
            send,
            host: HeaderValue::from_str(&addr.to_string())?,
        })
    }

    /// POSTs a GraphQL request body as the holder of `bearer` (`Bearer …`) and checks the
    /// answer: well-formed JSON with data and no error.
    pub async fn graphql(&mut self, bearer: &HeaderValue, body: Bytes) -> anyhow::Result<()> {
        let request = Request::builder()
            .method(Method::POST)
            .uri("/graphql")
            .header(HOST, self.host.clone())
            .header(CONTENT_TYPE, "application/json")
            .header(ACCEPT, "application/graphql-response+json")
            .header(AUTHORIZATION, bearer.clone())
            .body(Full::new(body))?;
        let bytes = self.send(request, "the GraphQL endpoint").await?;
        super::seed::check_answer(&bytes)
    }

    /// `GET /dashboard` of the bare baseline for `person`; the answer must be JSON.
    pub async fn bare_dashboard(&mut self, person: &HeaderValue) -> anyhow::Result<()> {
        let request = Request::builder()
            .method(Method::GET)
            .uri("/dashboard")
            .header(HOST, self.host.clone())
            .header("x-person", person.clone())
            .body(Full::new(Bytes::new()))?;
        let bytes = self.send(request, "bare dashboard").await?;
        serde_json::from_slice::<serde::de::IgnoredAny>(&bytes)?;
        Ok(())
    }

    /// Sends `request` and returns the body of a successful answer (`who` names the server
    /// in the error otherwise).
    async fn send(&mut self, request: Request<Full<Bytes>>, who: &str) -> anyhow::Result<Bytes> {
        self.send.ready().await?;
        let response = self.send.send_request(request).await?;
        let status = response.status();
        let bytes = response.into_body().collect().await?.to_bytes();
        if !status.is_success() {
            bail!("{who} answered {status}");
        }
        Ok(bytes)
    }
}
