//! The CSV export: a zip (deflate, written as a stream: sizes follow each file) holding one
//! RFC 4180 file per kind of record, each with a header row, CRLF line ends, UTF-8, instants
//! in RFC 3339 (UTC) and decimals with a point, as entered (`docs/export.md` lists the files
//! and columns). Values that hold several items (a reading's components, a panel's results)
//! get one row each. Must not: build a file in memory (rows go out a page at a time), or let
//! free text start a spreadsheet formula (see [`Cell::Text`]).

mod rows;

use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};

use time::OffsetDateTime;
use zip::write::{SimpleFileOptions, ZipWriter};

use super::records;
use super::sink::{Gone, Sink};
use super::source::{Events, MediaFold, Pages, Source};

/// One field of a row.
enum Cell<'a> {
    /// Text a person or staff typed (names, notes, reasons). When it starts with `=`, `+`,
    /// `-`, `@`, a tab or a carriage return, a spreadsheet opening the file would run it as
    /// a formula (OWASP "CSV injection"); such text gets a leading `'`. The JSON export
    /// keeps it verbatim.
    Text(&'a str),
    /// A value vigil wrote: ids, codes, numbers, times, JSON.
    Value(&'a str),
}

fn text(value: &Option<String>) -> Cell<'_> {
    Cell::Text(value.as_deref().unwrap_or(""))
}

fn value(value: &Option<String>) -> Cell<'_> {
    Cell::Value(value.as_deref().unwrap_or(""))
}

fn flag(b: bool) -> Cell<'static> {
    Cell::Value(if b { "true" } else { "false" })
}

/// Appends one RFC 4180 record: fields quoted when they hold a comma, a quote, CR or LF
/// (quotes doubled), CRLF at the end.
fn row(out: &mut Vec<u8>, cells: &[Cell<'_>]) {
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        let (guard, s) = match cell {
            Cell::Text(s) => (s.starts_with(['=', '+', '-', '@', '\t', '\r']), *s),
            Cell::Value(s) => (false, *s),
        };
        if guard || s.contains([',', '"', '\r', '\n']) {
            out.push(b'"');
            if guard {
                out.push(b'\'');
            }
            out.extend_from_slice(s.replace('"', "\"\"").as_bytes());
            out.push(b'"');
        } else {
            out.extend_from_slice(s.as_bytes());
        }
    }
    out.extend_from_slice(b"\r\n");
}

fn header(out: &mut Vec<u8>, names: &[&str]) {
    let cells: Vec<Cell<'_>> = names.iter().map(|n| Cell::Value(n)).collect();
    row(out, &cells);
}

/// The zip writer's output, taken out after each page and handed to the sink.
#[derive(Clone, Default)]
struct Spill(Arc<Mutex<Vec<u8>>>);

impl Write for Spill {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The zip being written, and where its bytes go.
struct Archive {
    zip: ZipWriter<zip::write::StreamWriter<Spill>>,
    spill: Spill,
    options: SimpleFileOptions,
    rows: Vec<u8>,
}

impl Archive {
    /// Begins the file `name` (the rows of the one before must have been drained).
    fn open(&mut self, name: &str) -> anyhow::Result<()> {
        self.zip.start_file(name, self.options)?;
        Ok(())
    }

    /// Begins the file `name` with its header row.
    fn start(&mut self, name: &str, columns: &[&str]) -> anyhow::Result<()> {
        self.open(name)?;
        header(&mut self.rows, columns);
        Ok(())
    }

    /// Compresses the rows written since the last call and hands the result on.
    async fn drain(&mut self, out: &mut Sink) -> anyhow::Result<()> {
        self.zip.write_all(&self.rows)?;
        self.rows.clear();
        let bytes = std::mem::take(&mut *self.spill.0.lock().unwrap_or_else(PoisonError::into_inner));
        out.put(&bytes);
        out.flush_if_full().await.map_err(|Gone| anyhow::Error::new(Gone))
    }
}

/// Writes the whole zip.
///
/// # Errors
/// Read and zip errors, and [`Gone`] when the client left.
pub async fn write(src: &Source<'_>, out: &mut Sink, now: OffsetDateTime) -> anyhow::Result<()> {
    let spill = Spill::default();
    let stamp = zip::DateTime::from_date_and_time(
        u16::try_from(now.year()).unwrap_or(1980),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second(),
    )
    .unwrap_or_default();
    let mut a = Archive {
        zip: ZipWriter::new_stream(spill.clone()),
        spill,
        options: SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .last_modified_time(stamp),
        rows: Vec::new(),
    };
    profile(src, &mut a).await?;
    a.drain(out).await?;
    protocols(src, &mut a, out).await?;
    rows::doses(src, &mut a, out).await?;
    rows::health_logs(src, &mut a, out).await?;
    rows::bloodwork(src, &mut a, out).await?;
    rows::access(src, &mut a, out).await?;
    events(src, &mut a, out).await?;
    a.drain(out).await?;
    a.zip.finish()?;
    let tail = std::mem::take(&mut *a.spill.0.lock().unwrap_or_else(PoisonError::into_inner));
    out.put(&tail);
    out.flush().await?;
    Ok(())
}

async fn profile(src: &Source<'_>, a: &mut Archive) -> anyhow::Result<()> {
    let account = src
        .profile()
        .await?
        .ok_or_else(|| anyhow::anyhow!("the account is gone"))?;
    let p = records::Profile::from(&account);
    a.start(
        "profile.csv",
        &[
            "id",
            "handle",
            "role",
            "tier",
            "registered_at",
            "lab_units",
            "weight_unit",
            "ai_consent",
            "erasure_requested",
        ],
    )?;
    row(
        &mut a.rows,
        &[
            Cell::Value(&p.id),
            Cell::Text(&p.handle),
            Cell::Value(&p.role),
            Cell::Value(&p.tier),
            Cell::Value(&p.registered_at),
            Cell::Value(&p.settings.lab_units),
            Cell::Value(&p.settings.weight_unit),
            flag(p.ai_consent),
            flag(p.erasure_requested),
        ],
    );
    Ok(())
}

/// `protocols.csv` (a row per item of every version) and `protocol_status_changes.csv`
/// (few rows per protocol, so kept until the first file is done).
async fn protocols(src: &Source<'_>, a: &mut Archive, out: &mut Sink) -> anyhow::Result<()> {
    a.start(
        "protocols.csv",
        &[
            "protocol_id",
            "protocol_name",
            "status",
            "created_at",
            "current_version",
            "version",
            "version_name",
            "effective_from",
            "reason",
            "version_recorded_at",
            "item_id",
            "compound",
            "amount",
            "unit",
            "route",
            "schedule",
            "time_of_day",
            "start",
            "end",
        ],
    )?;
    let mut changes = Vec::new();
    header(&mut changes, &["protocol_id", "on", "status"]);
    let mut pages = Pages::default();
    while let Some(request) = pages.next() {
        for view in pages.take(src.protocols(&request).await?) {
            let p = records::Protocol::from(&view);
            let current = p.current_version.to_string();
            for v in &p.versions {
                let number = v.version.to_string();
                for i in &v.items {
                    row(
                        &mut a.rows,
                        &[
                            Cell::Value(&p.id),
                            Cell::Text(&p.name),
                            Cell::Value(&p.status),
                            Cell::Value(&p.created_at),
                            Cell::Value(&current),
                            Cell::Value(&number),
                            Cell::Text(&v.name),
                            Cell::Value(&v.effective_from),
                            text(&v.reason),
                            Cell::Value(&v.recorded_at),
                            Cell::Value(&i.id),
                            Cell::Text(&i.compound),
                            Cell::Value(&i.amount),
                            Cell::Value(&i.unit),
                            Cell::Value(&i.route),
                            Cell::Text(&i.schedule),
                            Cell::Value(&i.time_of_day),
                            Cell::Value(&i.start),
                            value(&i.end),
                        ],
                    );
                }
            }
            for s in &p.status_changes {
                row(
                    &mut changes,
                    &[Cell::Value(&p.id), Cell::Value(&s.on), Cell::Value(&s.status)],
                );
            }
        }
        a.drain(out).await?;
    }
    a.open("protocol_status_changes.csv")?;
    a.rows.extend_from_slice(&changes);
    a.drain(out).await
}

/// `events.csv` (the person's own history, payloads as JSON text) and `media.csv` (the media
/// records those events leave).
async fn events(src: &Source<'_>, a: &mut Archive, out: &mut Sink) -> anyhow::Result<()> {
    a.start(
        "events.csv",
        &[
            "position",
            "event_id",
            "stream_id",
            "stream_version",
            "event_type",
            "schema_version",
            "recorded_at",
            "actor",
            "correlation_id",
            "causation_id",
            "key_id",
            "prev_hash",
            "hash",
            "withheld",
            "payload",
        ],
    )?;
    let mut walk = Events::default();
    let mut media = MediaFold::default();
    while let Some(page) = walk.next(src).await? {
        for event in &page {
            media.see(event);
            let e = records::Event::from(event);
            let numbers = [
                e.position.to_string(),
                e.stream_version.to_string(),
                e.schema_version.to_string(),
            ];
            row(
                &mut a.rows,
                &[
                    Cell::Value(&numbers[0]),
                    Cell::Value(&e.event_id),
                    Cell::Value(&e.stream_id),
                    Cell::Value(&numbers[1]),
                    Cell::Value(&e.event_type),
                    Cell::Value(&numbers[2]),
                    Cell::Value(&e.recorded_at),
                    Cell::Value(&e.actor),
                    value(&e.correlation_id),
                    value(&e.causation_id),
                    Cell::Value(&e.key_id),
                    Cell::Value(&e.prev_hash),
                    Cell::Value(&e.hash),
                    Cell::Value(e.withheld.unwrap_or("")),
                    Cell::Value(e.payload.as_ref().map_or("", |p| p.get())),
                ],
            );
        }
        a.drain(out).await?;
    }
    a.start(
        "media.csv",
        &[
            "id",
            "kind",
            "blob_ref",
            "content_hash",
            "taken_at",
            "faces_redacted",
            "removed",
        ],
    )?;
    for (id, record) in &media.state.records {
        let m = records::Media::new(id, record);
        row(
            &mut a.rows,
            &[
                Cell::Value(&m.id),
                Cell::Value(&m.kind),
                Cell::Value(&m.blob_ref),
                Cell::Value(&m.content_hash),
                value(&m.taken_at),
                flag(m.faces_redacted),
                flag(m.removed),
            ],
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{Cell, row};

    fn line(cells: &[Cell<'_>]) -> String {
        let mut out = Vec::new();
        row(&mut out, cells);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn fields_are_quoted_only_when_rfc_4180_needs_it() {
        assert_eq!(line(&[Cell::Value("1247"), Cell::Value("ng/dL")]), "1247,ng/dL\r\n");
        assert_eq!(
            line(&[
                Cell::Text("nausea, mild"),
                Cell::Text("said \"ouch\""),
                Cell::Text("two\nlines")
            ]),
            "\"nausea, mild\",\"said \"\"ouch\"\"\",\"two\nlines\"\r\n"
        );
        assert_eq!(line(&[Cell::Value(""), Cell::Value("")]), ",\r\n");
    }

    #[test]
    fn typed_text_never_starts_a_formula_but_values_keep_their_sign() {
        assert_eq!(line(&[Cell::Text("=1+1")]), "\"'=1+1\"\r\n");
        assert_eq!(
            line(&[Cell::Text("@SUM(A1)"), Cell::Text("+3"), Cell::Text("-2 kg")]),
            "\"'@SUM(A1)\",\"'+3\",\"'-2 kg\"\r\n"
        );
        assert_eq!(line(&[Cell::Value("-0.5")]), "-0.5\r\n");
    }
}
