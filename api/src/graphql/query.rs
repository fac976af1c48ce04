//! Health-data queries. Every one gets its right to the person's rows from the access gate
//! first: the caller's own (users only), or, with `subject`, someone else's under an admin's
//! open break-glass grant, recorded before anything is read. Staff asking for a health field
//! get `FORBIDDEN` on that field and the rest of their response.

use async_graphql::{Context, MergedObject, Object};
use time::{Duration, OffsetDateTime, UtcOffset};
use uuid::Uuid;
use vigil_domain::bloodwork::Marker;
use vigil_domain::dose::{AdherencePolicy, adherence};
use vigil_domain::levels::ModelSettings;
use vigil_eventstore::Metadata;
use vigil_projections::read::{self, PageRequest, Subject};

use super::error::{GqlResult, IntoGql, found};
use super::inputs;
use super::serial::Serial;
use super::types::*;
use crate::access::Reading;
use crate::idempotency::{CommandKey, RequestKey};
use crate::service::{ApiError, Caller, Service};

/// Who is calling, or `UNAUTHENTICATED`.
pub fn caller(ctx: &Context<'_>) -> GqlResult<Caller> {
    match ctx.data_opt::<Result<Caller, ApiError>>() {
        Some(Ok(caller)) => Ok(*caller),
        Some(Err(e)) => Err(super::error::to_gql(ApiError::Unauthenticated(match e {
            ApiError::Unauthenticated(m) => m,
            _ => "invalid access token",
        }))),
        None => Err(super::error::to_gql(ApiError::Unauthenticated("sign in first"))),
    }
}

pub fn service<'a>(ctx: &Context<'a>) -> GqlResult<&'a Service> {
    ctx.data::<Service>()
}

/// The request id the HTTP layer assigned (matches the server log's).
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// A caller acting on their own health data, with the proof of it.
pub struct Owner {
    /// Who.
    pub caller: Caller,
    /// Their right to their own rows.
    pub me: Subject,
    /// This field's key when the request carries an `Idempotency-Key` (see `idempotency`).
    pub retry: Option<CommandKey>,
}

impl Owner {
    /// Who writes, and the command id a retry of this field is recognised by.
    pub fn metadata(&self) -> Metadata {
        let metadata = Service::metadata_for(&self.caller);
        match self.retry {
            Some(key) => metadata.with_command_id(key.command_id()),
            None => metadata,
        }
    }

    /// The id of a record this field creates: the same on a retry of the request when it
    /// carries an `Idempotency-Key`, a fresh time-ordered one otherwise.
    pub fn new_id(&self, role: &str) -> Uuid {
        match self.retry {
            Some(key) => key.derive(role),
            None => Uuid::now_v7(),
        }
    }
}

/// The caller as the owner of their health data (`FORBIDDEN` for staff).
pub fn owner(ctx: &Context<'_>) -> GqlResult<Owner> {
    let caller = caller(ctx)?;
    let me = service(ctx)?.own_data(&caller).gql()?;
    let retry = ctx.data_opt::<RequestKey>().map(|key| {
        let path = ctx.path_node.map(|p| p.to_string_vec().join(".")).unwrap_or_default();
        key.command(caller.user, &path)
    });
    Ok(Owner { caller, me, retry })
}

/// The right to read `subject`'s health data (the caller's own when `None`); a read of
/// someone else's is recorded as this field and its selection before this returns.
pub async fn reader(ctx: &Context<'_>, subject: Option<String>) -> GqlResult<Subject> {
    let caller = caller(ctx)?;
    let svc = service(ctx)?;
    let Some(subject) = subject else {
        return svc.own_data(&caller).gql();
    };
    let subject = inputs::id("subject", &subject).gql()?;
    let field = ctx.field();
    let reading = Reading {
        query: field.name().to_owned(),
        fields: field.selection_set().map(|f| f.name().to_owned()).collect(),
        request_id: ctx.data_opt::<RequestId>().map(|r| r.0.clone()).unwrap_or_default(),
    };
    svc.data_of(&caller, subject, reading).await.gql()
}

/// A page request, a bad `first` or `after` reported under its own name.
pub(super) fn page(first: Option<i32>, after: Option<String>) -> GqlResult<PageRequest> {
    let named = |field: &'static str| {
        move |e: vigil_projections::ProjectionError| match e {
            vigil_projections::ProjectionError::InvalidInput(message) => ApiError::bad(field, message),
            other => ApiError::from(other),
        }
    };
    let size = PageRequest::new(first, None).map_err(named("first")).gql()?;
    PageRequest::new(Some(i32::try_from(size.first).unwrap_or(i32::MAX)), after.as_deref())
        .map_err(named("after"))
        .gql()
}

fn range(from: Option<String>, to: Option<String>) -> GqlResult<(Option<i64>, Option<i64>)> {
    let from = from.map(|f| inputs::instant("from", &f)).transpose().gql()?;
    let to = to.map(|t| inputs::instant("to", &t)).transpose().gql()?;
    Ok((from.map(read::micros), to.map(read::micros)))
}

/// The query root.
#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct QueryRoot(
    HealthQueries,
    super::staff::StaffQueries,
    super::maintenance::MaintenanceQueries,
);

/// Queries of health data (and the caller's profile).
#[derive(Default)]
pub struct HealthQueries;

#[Object]
impl HealthQueries {
    /// The caller's profile (no email: it is never readable back).
    async fn me(&self, ctx: &Context<'_>) -> GqlResult<Me> {
        let c = caller(ctx)?;
        let account = read::account(service(ctx)?.db(), c.user).await.gql()?;
        account.map(Me::from).ok_or(ApiError::NotFound).gql()
    }

    /// The caller's protocols, newest first.
    #[graphql(complexity = "crate::graphql::page_weight(first, 20) * child_complexity")]
    async fn protocols(
        &self,
        ctx: &Context<'_>,
        subject: Option<String>,
        first: Option<i32>,
        after: Option<String>,
    ) -> GqlResult<Conn<Protocol>> {
        let who = reader(ctx, subject).await?;
        let today = OffsetDateTime::now_utc().date();
        let p = read::protocols(service(ctx)?.db(), &who, &page(first, after)?)
            .await
            .gql()?;
        Ok(connection(p, |v| Protocol::new(v, today)))
    }

    /// One of the caller's protocols.
    async fn protocol(&self, ctx: &Context<'_>, subject: Option<String>, id: String) -> GqlResult<Protocol> {
        let who = reader(ctx, subject).await?;
        let id = inputs::id("id", &id).gql()?;
        let view = read::protocol(service(ctx)?.db(), &who, id).await.gql()?;
        view.map(|v| Protocol::new(v, OffsetDateTime::now_utc().date()))
            .ok_or(ApiError::NotFound)
            .gql()
    }

    /// The caller's dose log, newest first.
    #[graphql(complexity = "crate::graphql::page_weight(first, 20) * child_complexity")]
    async fn doses(
        &self,
        ctx: &Context<'_>,
        subject: Option<String>,
        first: Option<i32>,
        after: Option<String>,
    ) -> GqlResult<Conn<DoseOut>> {
        let who = reader(ctx, subject).await?;
        let p = read::doses(service(ctx)?.db(), &who, &page(first, after)?)
            .await
            .gql()?;
        Ok(connection(p, DoseOut::from))
    }

    /// Adherence of each item of a protocol over `[from, to]` (default: the last 30 days).
    async fn adherence(
        &self,
        ctx: &Context<'_>,
        subject: Option<String>,
        protocol_id: String,
        from: Option<String>,
        to: Option<String>,
    ) -> GqlResult<Vec<ItemAdherence>> {
        let who = reader(ctx, subject).await?;
        let svc = service(ctx)?;
        let id = inputs::id("protocolId", &protocol_id).gql()?;
        let now = OffsetDateTime::now_utc();
        let to = to.map(|t| inputs::instant("to", &t)).transpose().gql()?.unwrap_or(now);
        let from = from
            .map(|f| inputs::instant("from", &f))
            .transpose()
            .gql()?
            .unwrap_or(to - Duration::days(30));
        let state = read::protocol_state(svc.db(), &who, id).await.gql()?;
        let state = found(state)?;
        let log = read::dose_log_state(svc.db(), &who, Some(id)).await.gql()?;
        let Some(current) = state.current() else {
            return Ok(Vec::new());
        };
        Ok(current
            .items
            .iter()
            .map(|item| {
                let slots = state.scheduled_doses(item.item_id, UtcOffset::UTC, from, to);
                let report = adherence(&slots, &log, item.item_id, to.min(now), AdherencePolicy::default());
                ItemAdherence {
                    item_id: item.item_id.as_uuid().to_string(),
                    compound: compound_name(&item.compound),
                    due: report.due,
                    on_time: report.on_time,
                    late: report.late,
                    skipped: report.skipped,
                    missed: report.missed,
                    on_time_percent: report.on_time_percent.map(|p| p.to_string()),
                }
            })
            .collect())
    }

    /// The caller's vitals, newest first, optionally one vital (`blood_pressure`,
    /// `body_weight`, …) within `[from, to]`.
    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "crate::graphql::page_weight(first, 20) * child_complexity")]
    async fn health_logs(
        &self,
        ctx: &Context<'_>,
        subject: Option<String>,
        vital: Option<String>,
        from: Option<String>,
        to: Option<String>,
        first: Option<i32>,
        after: Option<String>,
    ) -> GqlResult<Conn<HealthLog>> {
        let who = reader(ctx, subject).await?;
        let kind = vital.map(|v| inputs::vital(&v)).transpose().gql()?;
        let (from, to) = range(from, to)?;
        let p = read::health_logs(service(ctx)?.db(), &who, kind, from, to, &page(first, after)?)
            .await
            .gql()?;
        Ok(connection(p, HealthLog::from))
    }

    /// The caller's bloodwork panels, newest first.
    #[graphql(complexity = "crate::graphql::page_weight(first, 20) * child_complexity")]
    async fn bloodwork(
        &self,
        ctx: &Context<'_>,
        subject: Option<String>,
        first: Option<i32>,
        after: Option<String>,
    ) -> GqlResult<Conn<Panel>> {
        let who = reader(ctx, subject).await?;
        let p = read::panels(service(ctx)?.db(), &who, &page(first, after)?)
            .await
            .gql()?;
        Ok(connection(p, Panel::from))
    }

    /// One marker over time (`total_testosterone`, or `custom:<name>`), oldest first.
    async fn marker_series(
        &self,
        ctx: &Context<'_>,
        subject: Option<String>,
        marker: String,
    ) -> GqlResult<Vec<MarkerPointOut>> {
        let who = reader(ctx, subject).await?;
        if marker.len() > 120 {
            return Err(ApiError::bad("marker", "at most 120 characters")).gql();
        }
        let marker = marker.trim().to_lowercase();
        // A misspelt name would otherwise answer an empty series, indistinguishable from a
        // marker never measured.
        let catalogued = serde_json::from_value::<Marker>(serde_json::Value::String(marker.clone())).is_ok();
        let custom = marker
            .strip_prefix("custom:")
            .is_some_and(|name| !name.trim().is_empty());
        if !catalogued && !custom {
            return Err(ApiError::bad(
                "marker",
                "unknown marker: use a catalog name such as total_testosterone, or custom:<name>",
            ))
            .gql();
        }
        let points = read::marker_series(service(ctx)?.db(), &who, &marker).await.gql()?;
        Ok(points.into_iter().map(MarkerPointOut::from).collect())
    }

    /// Estimated relative serum levels from the caller's doses of one protocol, every 6 hours
    /// over `[from, to]`. Estimates only.
    async fn estimated_levels(
        &self,
        ctx: &Context<'_>,
        subject: Option<String>,
        protocol_id: String,
        from: String,
        to: String,
    ) -> GqlResult<Vec<LevelSeriesOut>> {
        let who = reader(ctx, subject).await?;
        let svc = service(ctx)?;
        let id = inputs::id("protocolId", &protocol_id).gql()?;
        let from = inputs::instant("from", &from).gql()?;
        let to = inputs::instant("to", &to).gql()?;
        if to < from || to - from > Duration::days(366) {
            return Err(ApiError::bad("to", "the range must be forward and at most a year")).gql();
        }
        found(read::protocol_state(svc.db(), &who, id).await.gql()?)?;
        let log = read::dose_log_state(svc.db(), &who, Some(id)).await.gql()?;
        let doses = vigil_domain::levels::doses_from_log(&log);
        let settings = ModelSettings::default();
        let mut substances: Vec<_> = doses
            .iter()
            .filter_map(|d| match &d.compound {
                vigil_domain::compounds::Compound::Catalog(key) => Some(key.info().active),
                vigil_domain::compounds::Compound::Custom { .. } => None,
            })
            .collect();
        substances.sort();
        substances.dedup();
        Ok(substances
            .into_iter()
            .map(|s| {
                let series =
                    vigil_domain::levels::estimate_series(&doses, &settings, s, from, to, Duration::hours(6), 1.0);
                LevelSeriesOut {
                    substance: inputs::name_of(&series.substance),
                    points: series
                        .points
                        .into_iter()
                        .map(|p| LevelPointOut {
                            at: inputs::rfc3339(p.at),
                            value: p.value,
                        })
                        .collect(),
                    unmodelled_doses: u32::try_from(series.unmodelled_doses).unwrap_or(u32::MAX),
                }
            })
            .collect())
    }

    /// Active protocols, latest vitals, latest panel with flags, and next due doses.
    async fn dashboard(&self, ctx: &Context<'_>, subject: Option<String>) -> GqlResult<Serial<Dashboard>> {
        let who = reader(ctx, subject).await?;
        let now = OffsetDateTime::now_utc();
        let data = service(ctx)?.dashboard(&who, now).await.gql()?;
        Ok(Serial(Dashboard {
            active_protocols: data.active.into_iter().map(|v| Protocol::new(v, now.date())).collect(),
            latest_vitals: data.vitals.into_iter().map(HealthLog::from).collect(),
            latest_panel: data.panel.map(|p| Serial(Panel::from(p))),
            next_due: data
                .next_due
                .into_iter()
                .map(|d| DueDose {
                    protocol_id: d.protocol_id.to_string(),
                    protocol_name: d.protocol_name,
                    item_id: d.item_id.to_string(),
                    compound: compound_name(&d.compound),
                    due_at: inputs::rfc3339(d.due_at),
                })
                .collect(),
        }))
    }
}
