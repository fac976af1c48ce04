//! `vigil audit export`: writes the audit bundle of the log between two recorded checkpoint
//! sizes, streamed page by page through a buffered writer into a temporary file beside the
//! target, renamed into place only once complete (a failed export leaves no partial bundle).
//! Reads through [`ReadOnlyLog`]: no key, no vault, nothing written into the store, so an
//! auditor's copy of `events.db` alone is enough. Must not hold the range in memory, and must
//! not decide what is valid: it writes what the log holds and the verifier judges.

use std::io::Write;
use std::path::Path;

use vigil_eventstore::{Location, RawEvent, ReadOnlyLog, StoreError};
use vigil_proofs::bundle::{BundleEvent, Ciphertext, FORMAT, HexHash, Nonce, Prefix, Uuid16};
use vigil_proofs::chain::genesis;
use vigil_proofs::note::{Checkpoint, Note};

/// Events read and written per page.
const PAGE: u64 = 5_000;

/// Why an export was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// No checkpoint is recorded, so there is nothing a bundle could prove.
    #[error("no checkpoint is recorded in this log yet: sign one with `vigil checkpoint sign`")]
    NoCheckpoint,
    /// A size that is not a recorded checkpoint's.
    #[error("--{flag} {size} is not a recorded checkpoint size (nearest recorded: {})", nearest(*.below, *.above))]
    NotACheckpoint {
        /// `from-size` or `to-size`.
        flag: &'static str,
        /// The size asked for.
        size: u64,
        /// The largest recorded size below it.
        below: Option<u64>,
        /// The smallest recorded size above it.
        above: Option<u64>,
    },
    /// `--from-size` above `--to-size`.
    #[error("--from-size {from} is above --to-size {to}")]
    RangeOrder {
        /// A.
        from: u64,
        /// B.
        to: u64,
    },
    /// A recorded note that does not parse (the log's checkpoints table is damaged).
    #[error("the checkpoint recorded for size {size} is not a signed checkpoint note")]
    BadNote {
        /// Its size.
        size: u64,
    },
    /// The log could not be read.
    #[error("cannot read the log: {0}")]
    Store(#[from] StoreError),
    /// The bundle could not be written.
    #[error("cannot write the bundle: {0}")]
    Io(#[from] std::io::Error),
}

fn nearest(below: Option<u64>, above: Option<u64>) -> String {
    match (below, above) {
        (Some(b), Some(a)) => format!("{b} and {a}"),
        (Some(b), None) => format!("{b}, the newest"),
        (None, Some(a)) => format!("{a}, the oldest"),
        (None, None) => "none".into(),
    }
}

/// What was written.
#[derive(Debug)]
pub struct Exported {
    /// A.
    pub from: u64,
    /// B.
    pub to: u64,
    /// Checkpoints in the bundle.
    pub checkpoints: usize,
    /// Bytes written.
    pub bytes: u64,
}

/// Exports the bundle of `from..=to` (defaults: 0 and the newest checkpoint) to `output`
/// (`-`: standard output).
///
/// # Errors
/// [`ExportError`].
pub async fn run(location: &Location, from: Option<u64>, to: Option<u64>, output: &Path) -> anyhow::Result<Exported> {
    let log = ReadOnlyLog::open(location).await?;
    let result = export(&log, from, to, output).await;
    log.close().await;
    Ok(result?)
}

async fn recorded(log: &ReadOnlyLog, flag: &'static str, size: u64) -> Result<(), ExportError> {
    if log.checkpoints_between(size, size).await?.is_empty() {
        let (below, above) = log.checkpoints_around(size).await?;
        return Err(ExportError::NotACheckpoint {
            flag,
            size,
            below: below.filter(|b| *b != size),
            above,
        });
    }
    Ok(())
}

async fn export(log: &ReadOnlyLog, from: Option<u64>, to: Option<u64>, output: &Path) -> Result<Exported, ExportError> {
    let to = match to {
        Some(to) => {
            recorded(log, "to-size", to).await?;
            to
        }
        None => log.latest_checkpoint_size().await?.ok_or(ExportError::NoCheckpoint)?,
    };
    let from = from.unwrap_or(0);
    if from > 0 {
        recorded(log, "from-size", from).await?;
    }
    if from > to {
        return Err(ExportError::RangeOrder { from, to });
    }
    // The notes as `/checkpoint/{size}` serves them: cosignature lines appended.
    let mut cosignatures = log.cosignatures_between(from, to).await?.into_iter().peekable();
    let mut notes = Vec::new();
    let mut origin = None;
    for cp in log.checkpoints_between(from, to).await? {
        let mut lines = Vec::new();
        while let Some((size, line)) = cosignatures.next_if(|(size, _)| *size <= cp.size) {
            // A line for a size without a recorded checkpoint cannot be served; skip it.
            if size == cp.size {
                lines.push(line);
            }
        }
        if origin.is_none() {
            let bad = || ExportError::BadNote { size: cp.size };
            let note = Note::parse(cp.note.as_bytes()).map_err(|_| bad())?;
            origin = Some(Checkpoint::parse(note.text()).map_err(|_| bad())?.origin().to_owned());
        }
        notes.push(crate::checkpoint::served_note(&cp.note, &lines));
    }
    let origin = origin.ok_or(ExportError::NoCheckpoint)?;
    let prefix = if from == 0 {
        Prefix {
            edge: Vec::new(),
            last_hash: HexHash(genesis()),
            last_proof: Vec::new(),
        }
    } else {
        let last = log.read_raw(from, 1).await?;
        let last_hash = last
            .first()
            .filter(|e| e.envelope.position == from)
            .map(|e| e.envelope.hash)
            .ok_or_else(|| StoreError::Corrupt(format!("no event at position {from}")))?;
        Prefix {
            edge: log.edge(from).await?.into_iter().map(HexHash).collect(),
            last_hash: HexHash(last_hash),
            last_proof: log
                .inclusion_proof(from - 1, from)
                .await?
                .into_iter()
                .map(HexHash)
                .collect(),
        }
    };
    let consistency: Vec<HexHash> = if from > 0 && from < to {
        log.consistency_proof(from, to)
            .await?
            .into_iter()
            .map(HexHash)
            .collect()
    } else {
        Vec::new()
    };

    let to_stdout = output == Path::new("-");
    let (mut temp, sink): (Option<tempfile::NamedTempFile>, Box<dyn Write>) = if to_stdout {
        (None, Box::new(std::io::stdout().lock()))
    } else {
        let dir = match output.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let temp = tempfile::Builder::new().prefix(".vigil-bundle-").tempfile_in(dir)?;
        let file = temp.reopen()?;
        (Some(temp), Box::new(file))
    };
    let mut w = Counting {
        inner: std::io::BufWriter::with_capacity(1 << 20, sink),
        bytes: 0,
    };
    write!(
        w,
        "{{\"format\":{},\"origin\":{},\"from_size\":{from},\"to_size\":{to},\"checkpoints\":{},\"prefix\":{},\"consistency_proof\":{},\"events\":[",
        json(FORMAT)?,
        json(&origin)?,
        json(&notes)?,
        json(&prefix)?,
        json(&consistency)?,
    )?;
    let mut next = from + 1;
    let mut first = true;
    while next <= to {
        let page = log.read_raw(next, PAGE.min(to - next + 1)).await?;
        let Some(last) = page.last().map(|e| e.envelope.position) else {
            break; // The log ends early: the verifier names the first missing position.
        };
        for event in page.into_iter().filter(|e| e.envelope.position <= to) {
            if !first {
                w.write_all(b",")?;
            }
            first = false;
            serde_json::to_writer(&mut w, &bundle_event(event)?).map_err(std::io::Error::from)?;
        }
        next = last + 1;
    }
    w.write_all(b"]}\n")?;
    w.inner.flush()?;
    let bytes = w.bytes;
    drop(w);
    if let Some(temp) = temp.take() {
        temp.as_file().sync_all()?;
        temp.persist(output).map_err(|e| e.error)?;
    }
    Ok(Exported {
        from,
        to,
        checkpoints: notes.len(),
        bytes,
    })
}

/// JSON text of a header member.
fn json<T: serde::Serialize + ?Sized>(value: &T) -> std::io::Result<String> {
    serde_json::to_string(value).map_err(std::io::Error::from)
}

fn bundle_event(e: RawEvent) -> Result<BundleEvent, ExportError> {
    let env = e.envelope;
    let id = |u: uuid::Uuid| Uuid16(*u.as_bytes());
    // The store seals with 12-byte nonces only; another length cannot be written as a bundle.
    let nonce: [u8; 12] = e
        .nonce
        .as_slice()
        .try_into()
        .map_err(|_| StoreError::Corrupt(format!("events.nonce of position {} is not 12 bytes", env.position)))?;
    Ok(BundleEvent {
        position: env.position,
        event_id: id(env.event_id),
        stream_id: env.stream_id,
        stream_version: env.stream_version,
        subject: id(env.subject),
        event_type: env.event_type,
        schema_version: env.schema_version,
        recorded_at_micros: env.recorded_at_micros,
        actor: env.actor,
        correlation_id: env.correlation_id.map(id),
        causation_id: env.causation_id.map(id),
        command_id: env.command_id.map(id),
        key_id: id(env.key_id),
        nonce: Nonce(nonce),
        ciphertext: Ciphertext(e.ciphertext),
        prev_hash: HexHash(env.prev_hash),
        hash: HexHash(env.hash),
    })
}

/// A writer that counts the bytes it passes on.
struct Counting<W: Write> {
    inner: W,
    bytes: u64,
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}
