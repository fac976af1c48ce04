//! Mutations on the dose log: log a dose taken (with its injection site), skip, correct,
//! retract. Each answers the dose as the read model has it after the change.
//! Must not read or write anyone's doses without the owner's proof (`Owner`).

use async_graphql::{Context, MaybeUndefined, Object, SimpleObject};
use time::OffsetDateTime;
use uuid::Uuid;
use vigil_domain::dose::{DoseCommand, DoseLog, DoseOutcome};
use vigil_domain::values::{DoseId, ItemId, ProtocolId};
use vigil_projections::{read, streams};

use super::error::{GqlResult, IntoGql, found};
use super::inputs;
use super::logs::when;
use super::query::{Owner, owner, service};
use super::site::{self, InjectionSiteInput};
use super::types::DoseOut;
use crate::service::{ApiError, Service};

#[derive(Default)]
pub struct DoseMutations;

#[derive(SimpleObject)]
pub struct DosePayload {
    pub dose: DoseOut,
    pub position: u64,
}

async fn dose_payload(svc: &Service, c: &Owner, id: Uuid, position: u64) -> GqlResult<DosePayload> {
    let view = read::dose(svc.db(), &c.me, id).await.gql()?;
    Ok(DosePayload {
        dose: view
            .map(DoseOut::from)
            .ok_or(ApiError::ProjectionLag { position })
            .gql()?,
        position,
    })
}

async fn run_doses(svc: &Service, c: &Owner, command: impl Fn() -> DoseCommand) -> GqlResult<u64> {
    let stream = streams::doses(c.me.id());
    let r = svc.execute::<DoseLog>(&stream, c.me.id(), c.metadata(), |_| Ok(command()));
    r.await.gql()
}

#[Object]
impl DoseMutations {
    /// Logs a dose taken for an item of one of the caller's protocols. Amount, unit and route
    /// default to the item's as of `takenAt`.
    #[allow(clippy::too_many_arguments)]
    async fn log_dose(
        &self,
        ctx: &Context<'_>,
        protocol_id: String,
        item_id: String,
        #[graphql(desc = "RFC 3339 (default now); not in the future, not before 1900.")] taken_at: Option<String>,
        #[graphql(desc = "At most 10 000 mg, 100 000 mcg, 1 000 000 IU or 100 mL per dose.")] amount: Option<String>,
        unit: Option<String>,
        route: Option<String>,
        scheduled_for: Option<String>,
        note: Option<String>,
        #[graphql(desc = "Where the injection went: IM and SubQ doses only.")] site: Option<InjectionSiteInput>,
    ) -> GqlResult<DosePayload> {
        let c = owner(ctx)?;
        let svc = service(ctx)?;
        let now = OffsetDateTime::now_utc();
        let protocol = inputs::id("protocolId", &protocol_id).gql()?;
        let item = ItemId::from_uuid(inputs::id("itemId", &item_id).gql()?);
        let taken_at = when("takenAt", taken_at, now)?;
        let state = read::protocol_state(svc.db(), &c.me, protocol).await.gql()?;
        let state = found(state)?;
        let spec = state
            .item_at(item, taken_at.date())
            .or_else(|| state.current().and_then(|v| v.items.iter().find(|i| i.item_id == item)))
            .ok_or_else(|| ApiError::bad("itemId", "no such item in this protocol"))
            .gql()?
            .clone();
        let dose = match (&amount, &unit) {
            (Some(a), Some(u)) => inputs::dose("amount", a, "unit", u).gql()?,
            (None, None) => spec.dose,
            _ => return Err(ApiError::bad("amount", "give both amount and unit, or neither")).gql(),
        };
        let route = route
            .map(|r| inputs::route("route", &r))
            .transpose()
            .gql()?
            .unwrap_or(spec.route);
        let scheduled_for = scheduled_for
            .map(|s| inputs::instant("scheduledFor", &s))
            .transpose()
            .gql()?;
        let note = inputs::text("note", note, 1000).gql()?;
        let site = site.as_ref().map(site::parse).transpose().gql()?;
        let id = c.new_id("dose");
        let position = run_doses(svc, &c, || DoseCommand::LogDoseTaken {
            dose_id: DoseId::from_uuid(id),
            protocol_id: ProtocolId::from_uuid(protocol),
            item_id: item,
            compound: spec.compound.clone(),
            dose,
            route,
            site,
            taken_at,
            scheduled_for,
            note: note.clone(),
            recorded_at: now,
        })
        .await?;
        dose_payload(svc, &c, id, position).await
    }

    /// Records a scheduled dose as skipped.
    async fn skip_dose(
        &self,
        ctx: &Context<'_>,
        protocol_id: String,
        item_id: String,
        scheduled_for: String,
        reason: Option<String>,
    ) -> GqlResult<DosePayload> {
        let c = owner(ctx)?;
        let svc = service(ctx)?;
        let protocol = inputs::id("protocolId", &protocol_id).gql()?;
        found(read::protocol_state(svc.db(), &c.me, protocol).await.gql()?)?;
        let item = ItemId::from_uuid(inputs::id("itemId", &item_id).gql()?);
        let scheduled_for = inputs::instant("scheduledFor", &scheduled_for).gql()?;
        let reason = inputs::text("reason", reason, 500).gql()?;
        let now = OffsetDateTime::now_utc();
        let id = c.new_id("dose");
        let position = run_doses(svc, &c, || DoseCommand::LogDoseSkipped {
            dose_id: DoseId::from_uuid(id),
            protocol_id: ProtocolId::from_uuid(protocol),
            item_id: item,
            scheduled_for,
            reason: reason.clone(),
            recorded_at: now,
        })
        .await?;
        dose_payload(svc, &c, id, position).await
    }

    /// Corrects a taken dose's amount, route, time and injection site.
    #[allow(clippy::too_many_arguments)]
    async fn correct_dose(
        &self,
        ctx: &Context<'_>,
        id: String,
        #[graphql(desc = "At most 10 000 mg, 100 000 mcg, 1 000 000 IU or 100 mL per dose.")] amount: String,
        unit: String,
        route: String,
        #[graphql(desc = "RFC 3339; not in the future, not before 1900.")] taken_at: String,
        reason: Option<String>,
        #[graphql(desc = "IM and SubQ doses only. Left out: the recorded site stays (dropped if the \
                          route no longer takes one); null: no site.")]
        site: MaybeUndefined<InjectionSiteInput>,
    ) -> GqlResult<DosePayload> {
        let c = owner(ctx)?;
        let svc = service(ctx)?;
        let id = inputs::id("id", &id).gql()?;
        let current = read::dose(svc.db(), &c.me, id).await.gql()?;
        let current = found(current)?;
        let dose = inputs::dose("amount", &amount, "unit", &unit).gql()?;
        let route = inputs::route("route", &route).gql()?;
        let taken_at = inputs::instant("takenAt", &taken_at).gql()?;
        let reason = inputs::text("reason", reason, 500).gql()?;
        let recorded = match &current.entry.outcome {
            DoseOutcome::Taken { site, .. } => *site,
            DoseOutcome::Skipped => None,
        };
        let site = site::corrected(site, recorded, route).gql()?;
        let now = OffsetDateTime::now_utc();
        let position = run_doses(svc, &c, || DoseCommand::CorrectDose {
            dose_id: DoseId::from_uuid(id),
            dose,
            route,
            site,
            taken_at,
            scheduled_for: current.entry.scheduled_for,
            reason: reason.clone(),
            corrected_at: now,
        })
        .await?;
        dose_payload(svc, &c, id, position).await
    }

    /// Withdraws a dose entry.
    async fn retract_dose(&self, ctx: &Context<'_>, id: String, reason: Option<String>) -> GqlResult<DosePayload> {
        let c = owner(ctx)?;
        let svc = service(ctx)?;
        let id = inputs::id("id", &id).gql()?;
        found(read::dose(svc.db(), &c.me, id).await.gql()?)?;
        let reason = inputs::text("reason", reason, 500).gql()?;
        let now = OffsetDateTime::now_utc();
        let position = run_doses(svc, &c, || DoseCommand::RetractDose {
            dose_id: DoseId::from_uuid(id),
            reason: reason.clone(),
            retracted_at: now,
        })
        .await?;
        dose_payload(svc, &c, id, position).await
    }
}
