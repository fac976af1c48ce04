//! Export (access and portability, issue 15): a person's copy of everything vigil holds about
//! them (profile and settings, protocols with every version, doses, readings, bloodwork with
//! original and SI values and flags, media records, their access log and the raw history of
//! their own events with positions and hashes) as one versioned JSON document, a zip of CSV
//! files, or a FHIR R4 Bundle (`docs/export.md`).
//!
//! `exportMyData` records `ExportRequested` on the person's access log, then issues a one-time
//! download token (`tokens`); `GET /export/<token>` spends it and streams the body a page at a
//! time (`download`, `source`, `sink`), so memory does not grow with the history and nothing
//! is written to disk.
//!
//! Owns: the tokens, the download and the three formats. Must not: write anything but the
//! access-log event and the token's row, keep any part of an export once it is sent, log a
//! token or a value of an export, or read anyone's data but the token owner's (the gate
//! vouches for the owner only, see `access::gate`).

mod csv;
mod download;
mod fhir;
mod json;
mod records;
mod sink;
mod source;
mod tokens;

pub use download::download;
pub use tokens::Ticket;
