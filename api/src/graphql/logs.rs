//! Mutations on vitals and bloodwork: record, correct, retract (the dose log's are in `doses`).

use async_graphql::{Context, InputObject, Object, SimpleObject};
use time::OffsetDateTime;
use uuid::Uuid;
use vigil_domain::bloodwork::{Bloodwork, BloodworkCommand, LabRange, ResultInput};
use vigil_domain::health::{HealthCommand, HealthLog as HealthAggregate, VitalReading};
use vigil_domain::values::{EntryId, PanelId};
use vigil_projections::{read, streams};

use super::error::{GqlResult, IntoGql, found};
use super::inputs;
use super::query::{Owner, owner, service};
use super::types::{HealthLog, Panel};
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
pub struct HealthLogPayload {
    pub health_log: HealthLog,
    pub position: u64,
}

#[derive(SimpleObject)]
pub struct BloodworkPayload {
    pub panel: Panel,
    pub position: u64,
}

pub(super) fn when(field: &str, value: Option<String>, now: OffsetDateTime) -> GqlResult<OffsetDateTime> {
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
