//! `vigil events`: the auditors' replay, one JSON object per event and line. Payloads are
//! embedded exactly as stored (a raw JSON value, so 87.3 stays 87.3); erased subjects show
//! `"erased": true` instead.

use std::io::{BufWriter, Write};
use std::process::ExitCode;

use serde::Serialize;
use serde_json::value::RawValue;
use vigil_eventstore::{Envelope, Payload, RecordedEvent};

use crate::cli::{EventsArgs, StoreArgs};
use crate::commands::open;

const PAGE: u64 = 5_000;

#[derive(Serialize)]
struct Line<'a> {
    #[serde(flatten)]
    envelope: &'a Envelope,
    recorded_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    payload: Option<&'a RawValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    payload_schema_version: Option<u32>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    erased: bool,
}

pub fn render(event: &RecordedEvent) -> anyhow::Result<String> {
    let recorded_at =
        time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(event.envelope.recorded_at_micros) * 1_000)?
            .format(&time::format_description::well_known::Rfc3339)?;
    let raw;
    let line = match &event.payload {
        Payload::Json { schema_version, json } => {
            raw = RawValue::from_string(String::from_utf8(json.clone())?)?;
            Line {
                envelope: &event.envelope,
                recorded_at,
                payload: Some(&raw),
                payload_schema_version: Some(*schema_version),
                erased: false,
            }
        }
        Payload::Erased => Line {
            envelope: &event.envelope,
            recorded_at,
            payload: None,
            payload_schema_version: None,
            erased: true,
        },
    };
    Ok(serde_json::to_string(&line)?)
}

pub async fn run(args: &StoreArgs, cmd: EventsArgs) -> anyhow::Result<ExitCode> {
    let (store, _) = open(args).await?;
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut remaining = cmd.limit.unwrap_or(u64::MAX);
    let mut from = cmd.from.max(1);
    while remaining > 0 {
        let take = remaining.min(PAGE);
        let page = match (&cmd.stream, cmd.subject) {
            (Some(stream), _) => store.read_stream(stream, from, take).await?,
            (None, Some(subject)) => store.read_subject(subject, from, take).await?,
            (None, None) => store.read_all(from, take).await?,
        };
        let Some(last) = page.last() else { break };
        from = if cmd.stream.is_some() {
            last.envelope.stream_version + 1
        } else {
            last.envelope.position + 1
        };
        remaining -= page.len() as u64;
        for event in &page {
            let line = render(event)?;
            if let Err(e) = writeln!(out, "{line}") {
                // A closed pipe (`vigil events | head`) is the reader saying it has enough.
                if e.kind() == std::io::ErrorKind::BrokenPipe {
                    return Ok(ExitCode::SUCCESS);
                }
                return Err(e.into());
            }
        }
    }
    if let Err(e) = out.flush()
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        return Err(e.into());
    }
    drop(out);
    store.close().await;
    Ok(ExitCode::SUCCESS)
}
