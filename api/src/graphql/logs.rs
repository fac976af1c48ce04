//! Mutations on the dose log, vitals and bloodwork: record, correct, retract.

use async_graphql::{Context, InputObject, Object, SimpleObject};
use time::OffsetDateTime;
use uuid::Uuid;
use vigil_domain::bloodwork::{Bloodwork, BloodworkCommand, LabRange, ResultInput};
use vigil_domain::dose::{DoseCommand, DoseLog};
use vigil_domain::health::{HealthCommand, HealthLog as HealthAggregate, VitalReading};
use vigil_domain::values::{DoseId, EntryId, ItemId, PanelId, ProtocolId};
use vigil_projections::{read, streams};

use super::error::{GqlResult, IntoGql, found};
use super::inputs;
use super::query::{Owner, owner, service};
use super::types::{DoseOut, HealthLog, Panel};
use crate::service::{ApiError, Service};

#[derive(Default)]
pub struct LogMutations;

/// One result line of a panel. Errors about a field name it `results.<field>`; the message
/// says which line.
#[derive(InputObject)]
pub struct LabResultInput {
    /// LOINC code, if known. Without one, a catalogued marker is recognised by its report
    /// name (`Testosterone`, `HCT`, `IGF-1`).
    pub loinc: Option<String>,
    /// Name as on the report (`Testosterone`, `Hematocrit`).
    pub name: Option<String>,
    /// Value, exact (`1247`, `51.2`). A catalogued marker's value must be physically possible
    /// (hematocrit 3–85 %, total testosterone at most 30 000 ng/dL; every window is in
    /// `docs/bloodwork-plausibility.md`).
    pub value: String,
    /// Unit as on the report (`ng/dL`, `%`). A catalogued marker accepts only its own units
    /// (testosterone: ng/dL, nmol/L or ng/mL); a custom marker keeps any unit.
    pub unit: String,
    /// Lower limit of the lab's reference range.
    pub low: Option<String>,
    /// Upper limit of the lab's reference range.
    pub high: Option<String>,
}

#[derive(InputObject)]
pub struct VitalInput {
    /// `blood_pressure`, `heart_rate`, `body_weight`, `body_temperature`, `body_height`,
    /// `bmi`, `respiratory_rate`, `oxygen_saturation`.
    pub vital: String,
    /// The value (everything but blood pressure).
    pub value: Option<String>,
    /// Its unit (`kg`, `lb`, `bpm`, `°C`, …).
    pub unit: Option<String>,
    /// Blood pressure, mmHg (50–300).
    pub systolic: Option<String>,
    /// Blood pressure, mmHg (20–200).
    pub diastolic: Option<String>,
    /// When measured (default now), RFC 3339; not in the future, not before 1900.
    pub measured_at: Option<String>,
    pub note: Option<String>,
}

#[derive(SimpleObject)]
pub struct DosePayload {
    pub dose: DoseOut,
    pub position: u64,
}

#[derive(SimpleObject)]
pub struct HealthLogPayload {
    pub health_log: HealthLog,
    pub position: u64,
}

#[derive(SimpleObject)]
pub struct BloodworkPayload {
    pub panel: Panel,
    pub position: u64,
}

fn when(field: &str, value: Option<String>, now: OffsetDateTime) -> GqlResult<OffsetDateTime> {
    value
        .map(|v| inputs::instant(field, &v))
        .transpose()
        .gql()
        .map(|v| v.unwrap_or(now))
}

fn reading(input: &VitalInput) -> GqlResult<VitalReading> {
    let kind = inputs::vital(&input.vital).gql()?;
    if kind == vigil_domain::health::VitalKind::BloodPressure {
        let (Some(s), Some(d)) = (&input.systolic, &input.diastolic) else {
            return Err(ApiError::bad("systolic", "blood pressure needs systolic and diastolic")).gql();
        };
        return Ok(VitalReading::BloodPressure {
            systolic: inputs::decimal("systolic", s).gql()?,
            diastolic: inputs::decimal("diastolic", d).gql()?,
        });
    }
    let (Some(value), Some(unit)) = (&input.value, &input.unit) else {
        return Err(ApiError::bad("value", "give a value and its unit")).gql();
    };
    Ok(VitalReading::Quantity {
        kind,
        value: inputs::decimal("value", value).gql()?,
        unit: unit.clone(),
    })
}

fn results(input: Vec<LabResultInput>) -> GqlResult<Vec<ResultInput>> {
    if input.is_empty() || input.len() > 200 {
        return Err(ApiError::bad("results", "give 1 to 200 results")).gql();
    }
    input
        .into_iter()
        .map(|r| {
            let low = r
                .low
                .as_deref()
                .map(|v| inputs::decimal("results.low", v))
                .transpose()?;
            let high = r
                .high
                .as_deref()
                .map(|v| inputs::decimal("results.high", v))
                .transpose()?;
            Ok(ResultInput {
                loinc: r.loinc,
                name: r.name,
                value: inputs::decimal("results.value", &r.value)?,
                unit: r.unit,
                lab_range: (low.is_some() || high.is_some()).then(|| LabRange {
                    low,
                    high,
                    ..LabRange::default()
                }),
            })
        })
        .collect::<Result<_, ApiError>>()
        .gql()
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

async fn health_payload(svc: &Service, c: &Owner, id: Uuid, position: u64) -> GqlResult<HealthLogPayload> {
    // A new current reading is among the cached latest vitals the runner just merged it into.
    let view = match svc.runner().cache().latest_reading(c.me.id(), id) {
        Some(view) => Some(view),
        None => read::health_log(svc.db(), &c.me, id).await.gql()?,
    };
    Ok(HealthLogPayload {
        health_log: view
            .map(HealthLog::from)
            .ok_or(ApiError::ProjectionLag { position })
            .gql()?,
        position,
    })
}

async fn panel_payload(svc: &Service, c: &Owner, id: Uuid, position: u64) -> GqlResult<BloodworkPayload> {
    let view = read::panel(svc.db(), &c.me, id).await.gql()?;
    Ok(BloodworkPayload {
        panel: view
            .map(Panel::from)
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

async fn run_health(svc: &Service, c: &Owner, command: impl Fn() -> HealthCommand) -> GqlResult<u64> {
    let stream = streams::health(c.me.id());
    let r = svc.execute::<HealthAggregate>(&stream, c.me.id(), c.metadata(), |_| Ok(command()));
    r.await.gql()
}

async fn run_bloodwork(svc: &Service, c: &Owner, command: impl Fn() -> BloodworkCommand) -> GqlResult<u64> {
    let stream = streams::bloodwork(c.me.id());
    let r = svc.execute::<Bloodwork>(&stream, c.me.id(), c.metadata(), |_| Ok(command()));
    r.await.gql()
}

#[Object]
impl LogMutations {
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
        let id = c.new_id("dose");
        let position = run_doses(svc, &c, || DoseCommand::LogDoseTaken {
            dose_id: DoseId::from_uuid(id),
            protocol_id: ProtocolId::from_uuid(protocol),
            item_id: item,
            compound: spec.compound.clone(),
            dose,
            route,
            site: None,
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

    /// Corrects a taken dose's amount and time.
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
        let now = OffsetDateTime::now_utc();
        let position = run_doses(svc, &c, || DoseCommand::CorrectDose {
            dose_id: DoseId::from_uuid(id),
            dose,
            route,
            site: None,
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

    /// Records a vital sign.
    async fn record_health_log(&self, ctx: &Context<'_>, input: VitalInput) -> GqlResult<HealthLogPayload> {
        let c = owner(ctx)?;
        let svc = service(ctx)?;
        let now = OffsetDateTime::now_utc();
        let reading = reading(&input)?;
        let measured_at = when("measuredAt", input.measured_at.clone(), now)?;
        let note = inputs::text("note", input.note.clone(), 1000).gql()?;
        let id = c.new_id("health log");
        let position = run_health(svc, &c, || HealthCommand::RecordVital {
            entry_id: EntryId::from_uuid(id),
            reading: reading.clone(),
            measured_at,
            note: note.clone(),
            recorded_at: now,
        })
        .await?;
        health_payload(svc, &c, id, position).await
    }

    /// Corrects a vital sign.
    async fn correct_health_log(
        &self,
        ctx: &Context<'_>,
        id: String,
        input: VitalInput,
        reason: Option<String>,
    ) -> GqlResult<HealthLogPayload> {
        let c = owner(ctx)?;
        let svc = service(ctx)?;
        let id = inputs::id("id", &id).gql()?;
        found(read::health_log(svc.db(), &c.me, id).await.gql()?)?;
        let now = OffsetDateTime::now_utc();
        let reading = reading(&input)?;
        let measured_at = when("measuredAt", input.measured_at.clone(), now)?;
        let reason = inputs::text("reason", reason, 500).gql()?;
        let position = run_health(svc, &c, || HealthCommand::CorrectVital {
            entry_id: EntryId::from_uuid(id),
            reading: reading.clone(),
            measured_at,
            reason: reason.clone(),
            corrected_at: now,
        })
        .await?;
        health_payload(svc, &c, id, position).await
    }

    /// Withdraws a vital sign.
    async fn retract_health_log(
        &self,
        ctx: &Context<'_>,
        id: String,
        reason: Option<String>,
    ) -> GqlResult<HealthLogPayload> {
        let c = owner(ctx)?;
        let svc = service(ctx)?;
        let id = inputs::id("id", &id).gql()?;
        found(read::health_log(svc.db(), &c.me, id).await.gql()?)?;
        let reason = inputs::text("reason", reason, 500).gql()?;
        let now = OffsetDateTime::now_utc();
        let position = run_health(svc, &c, || HealthCommand::RetractVital {
            entry_id: EntryId::from_uuid(id),
            reason: reason.clone(),
            retracted_at: now,
        })
        .await?;
        health_payload(svc, &c, id, position).await
    }

    /// Records a bloodwork panel as read off the report.
    async fn record_bloodwork(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "RFC 3339; not in the future, not before 1900.")] drawn_at: String,
        lab_name: Option<String>,
        results: Vec<LabResultInput>,
    ) -> GqlResult<BloodworkPayload> {
        let c = owner(ctx)?;
        let svc = service(ctx)?;
        let drawn_at = inputs::instant("drawnAt", &drawn_at).gql()?;
        let results = self::results(results)?;
        let now = OffsetDateTime::now_utc();
        let id = c.new_id("panel");
        let position = run_bloodwork(svc, &c, || BloodworkCommand::RecordPanel {
            panel_id: PanelId::from_uuid(id),
            drawn_at,
            lab_name: lab_name.clone(),
            results: results.clone(),
            recorded_at: now,
        })
        .await?;
        panel_payload(svc, &c, id, position).await
    }

    /// Replaces a panel's results.
    async fn correct_bloodwork(
        &self,
        ctx: &Context<'_>,
        id: String,
        drawn_at: String,
        lab_name: Option<String>,
        results: Vec<LabResultInput>,
        reason: Option<String>,
    ) -> GqlResult<BloodworkPayload> {
        let c = owner(ctx)?;
        let svc = service(ctx)?;
        let id = inputs::id("id", &id).gql()?;
        found(read::panel(svc.db(), &c.me, id).await.gql()?)?;
        let drawn_at = inputs::instant("drawnAt", &drawn_at).gql()?;
        let results = self::results(results)?;
        let reason = inputs::text("reason", reason, 500).gql()?;
        let now = OffsetDateTime::now_utc();
        let position = run_bloodwork(svc, &c, || BloodworkCommand::CorrectPanel {
            panel_id: PanelId::from_uuid(id),
            drawn_at,
            lab_name: lab_name.clone(),
            results: results.clone(),
            reason: reason.clone(),
            corrected_at: now,
        })
        .await?;
        panel_payload(svc, &c, id, position).await
    }

    /// Withdraws a panel.
    async fn retract_bloodwork(
        &self,
        ctx: &Context<'_>,
        id: String,
        reason: Option<String>,
    ) -> GqlResult<BloodworkPayload> {
        let c = owner(ctx)?;
        let svc = service(ctx)?;
        let id = inputs::id("id", &id).gql()?;
        found(read::panel(svc.db(), &c.me, id).await.gql()?)?;
        let reason = inputs::text("reason", reason, 500).gql()?;
        let now = OffsetDateTime::now_utc();
        let position = run_bloodwork(svc, &c, || BloodworkCommand::RetractPanel {
            panel_id: PanelId::from_uuid(id),
            reason: reason.clone(),
            retracted_at: now,
        })
        .await?;
        panel_payload(svc, &c, id, position).await
    }
}
