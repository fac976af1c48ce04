//! The JSON export: one document, `{"format":"vigil-export","version":1, …}`, written as it
//! is read (its schema: `docs/export/vigil-export-v1.schema.json`). Sections come in a fixed
//! order; each list is written a page at a time. Must not: build a section in memory, or
//! change a field without a new `version` and schema.

use serde::Serialize;
use time::OffsetDateTime;

use super::records::{self, rfc3339};
use super::sink::Sink;
use super::source::{Events, MediaFold, Pages, Source};

/// The document's `format` value.
pub const FORMAT: &str = "vigil-export";
/// The document's `version` (and the schema's).
pub const VERSION: u32 = 1;

/// A JSON array being written: commas between items.
struct List {
    empty: bool,
}

impl List {
    fn open(out: &mut Sink, name: &str) -> List {
        out.put(b",\"");
        out.put(name.as_bytes());
        out.put(b"\":[");
        List { empty: true }
    }

    fn item<T: Serialize>(&mut self, out: &mut Sink, value: &T) -> anyhow::Result<()> {
        if !self.empty {
            out.put(b",");
        }
        self.empty = false;
        serde_json::to_writer(out.buf(), value)?;
        Ok(())
    }

    fn close(self, out: &mut Sink) {
        out.put(b"]");
    }
}

/// One paged read-model section: every row of `$fetch`, as `$record`.
macro_rules! section {
    ($out:expr, $src:expr, $name:literal, $fetch:ident, $record:path) => {{
        let mut list = List::open($out, $name);
        let mut pages = Pages::default();
        while let Some(request) = pages.next() {
            for row in pages.take($src.$fetch(&request).await?) {
                list.item($out, &<$record>::from(&row))?;
            }
            $out.flush_if_full().await?;
        }
        list.close($out);
    }};
}

/// Writes the whole document.
///
/// # Errors
/// Read errors, and [`super::sink::Gone`] when the client left.
pub async fn write(src: &Source<'_>, out: &mut Sink, now: OffsetDateTime) -> anyhow::Result<()> {
    let profile = src
        .profile()
        .await?
        .ok_or_else(|| anyhow::anyhow!("the account is gone"))?;
    out.put(b"{\"format\":");
    serde_json::to_writer(out.buf(), FORMAT)?;
    out.put(format!(",\"version\":{VERSION},\"exportedAt\":").as_bytes());
    serde_json::to_writer(out.buf(), &rfc3339(now))?;
    out.put(b",\"subject\":");
    serde_json::to_writer(out.buf(), &src.user().to_string())?;
    out.put(b",\"profile\":");
    serde_json::to_writer(out.buf(), &records::Profile::from(&profile))?;
    section!(out, src, "protocols", protocols, records::Protocol);
    section!(out, src, "doses", doses, records::Dose);
    section!(out, src, "healthLogs", health_logs, records::HealthLog);
    section!(out, src, "bloodwork", panels, records::Panel);
    section!(out, src, "accessLog", access, records::Access);

    let mut list = List::open(out, "events");
    let mut events = Events::default();
    let mut media = MediaFold::default();
    let mut count = 0u64;
    while let Some(page) = events.next(src).await? {
        for event in &page {
            media.see(event);
            list.item(out, &records::Event::from(event))?;
            count += 1;
        }
        out.flush_if_full().await?;
    }
    list.close(out);

    let mut list = List::open(out, "media");
    for (id, record) in &media.state.records {
        list.item(out, &records::Media::new(id, record))?;
    }
    list.close(out);
    out.put(format!(",\"eventCount\":{count}}}").as_bytes());
    out.flush().await?;
    Ok(())
}
