//! Where an export's bytes go: a buffer handed to the response body in chunks of about
//! 64 KiB through a channel two chunks deep, so a slow client slows the reading down instead
//! of letting it pile up in memory. Must not: keep a chunk after it was handed on, or write
//! anywhere but the response.

use bytes::Bytes;
use tokio::sync::mpsc;

/// Size at which the buffer is handed on.
const CHUNK: usize = 64 * 1024;
/// Chunks in flight between the writer and the response.
pub const DEPTH: usize = 2;

/// The receiving end's items.
pub type Item = Result<Bytes, std::io::Error>;

/// The client went away (the response body was dropped): the writer stops quietly.
#[derive(Debug, thiserror::Error)]
#[error("the client closed the download")]
pub struct Gone;

/// The writer's end.
pub struct Sink {
    tx: mpsc::Sender<Item>,
    buf: Vec<u8>,
    sent: u64,
}

impl Sink {
    /// A sink and the stream of its chunks.
    pub fn channel() -> (Sink, mpsc::Receiver<Item>) {
        let (tx, rx) = mpsc::channel(DEPTH);
        (
            Sink {
                tx,
                buf: Vec::with_capacity(CHUNK),
                sent: 0,
            },
            rx,
        )
    }

    /// The buffer to write into.
    pub fn buf(&mut self) -> &mut Vec<u8> {
        &mut self.buf
    }

    /// Appends `bytes`.
    pub fn put(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Hands the buffer on once it holds a chunk.
    ///
    /// # Errors
    /// [`Gone`] when the client left.
    pub async fn flush_if_full(&mut self) -> Result<(), Gone> {
        if self.buf.len() >= CHUNK {
            self.flush().await
        } else {
            Ok(())
        }
    }

    /// Hands on what the buffer holds.
    ///
    /// # Errors
    /// [`Gone`] when the client left.
    pub async fn flush(&mut self) -> Result<(), Gone> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK));
        self.sent += chunk.len() as u64;
        self.tx.send(Ok(Bytes::from(chunk))).await.map_err(|_| Gone)
    }

    /// Bytes handed on so far.
    pub fn sent(&self) -> u64 {
        self.sent
    }

    /// Ends the body with an error, so the client sees a broken download rather than a short
    /// file that looks complete.
    pub async fn fail(self) {
        let _ = self
            .tx
            .send(Err(std::io::Error::other("the export stopped before its end")))
            .await;
    }
}
