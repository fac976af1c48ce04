//! `exportMyData`: asks for a copy of everything the caller has, and answers with a one-time
//! download link (`export` owns the rest). Must not: return the data itself (a GraphQL answer
//! is built whole in memory; the download streams).

use async_graphql::{Context, Enum, Object, SimpleObject};
use vigil_domain::access::ExportFormat;

use super::error::{GqlResult, IntoGql};
use super::inputs::rfc3339;
use super::query::{owner, service};

/// The shape of an export.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(name = "ExportFormat")]
pub enum Format {
    /// One JSON document, `{"format":"vigil-export","version":1,…}` (schema:
    /// `docs/export/vigil-export-v1.schema.json`).
    Json,
    /// A zip of CSV files (RFC 4180), one per kind of record.
    Csv,
    /// A FHIR R4 `Bundle` of type `collection`.
    Fhir,
}

impl From<Format> for ExportFormat {
    fn from(f: Format) -> Self {
        match f {
            Format::Json => ExportFormat::Json,
            Format::Csv => ExportFormat::Csv,
            Format::Fhir => ExportFormat::Fhir,
        }
    }
}

/// A download of an export.
#[derive(SimpleObject)]
pub struct ExportDownload {
    /// Path of the download on this server (`/export/vgx_…`): GET it once, within five
    /// minutes, from any server of the deployment. The link is the key: it needs no
    /// `Authorization` (a request that sends one must send the owner's), so keep it private.
    pub url: String,
    /// When the link stops working.
    pub expires_at: String,
    /// The export's shape.
    pub format: Format,
    /// Position of the `ExportRequested` event on the caller's access log.
    pub position: u64,
}

#[derive(Default)]
pub struct ExportMutations;

#[Object]
impl ExportMutations {
    /// A copy of everything the caller has (profile and settings, protocols with every
    /// version, doses, vitals, bloodwork, media records, the access log, and the raw history
    /// of their own events with positions and hashes), as a one-time download link. The
    /// request is recorded on the caller's access log (`export_requested`) before the link
    /// exists. Staff hold no health data: `FORBIDDEN`.
    async fn export_my_data(&self, ctx: &Context<'_>, format: Format) -> GqlResult<ExportDownload> {
        let owner = owner(ctx)?;
        let svc = service(ctx)?;
        let offer = svc
            .request_export(&owner.caller, format.into(), owner.metadata())
            .await
            .gql()?;
        // The access log shows the request once its read model has it; a lag must not cost
        // the caller the link (the event is saved either way).
        if svc.settle(offer.position).await.is_err() {
            tracing::debug!("exportMyData answered before the access log's read model caught up");
        }
        Ok(ExportDownload {
            url: format!("/export/{}", offer.token.as_str()),
            expires_at: rfc3339(offer.expires_at),
            format,
            position: offer.position,
        })
    }
}
