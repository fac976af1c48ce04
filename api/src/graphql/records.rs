//! Mutations on protocols, doses, vitals and bloodwork. Ids and times are minted here (the
//! domain receives them inside commands); ownership is checked against read models first,
//! so someone else's id is `NOT_FOUND`, never a write.

use async_graphql::{Context, InputObject, Object, SimpleObject};
use time::OffsetDateTime;
use uuid::Uuid;
use vigil_domain::protocol::{ItemOrigin, ItemSpec, Protocol as ProtocolAggregate, ProtocolCommand};
use vigil_domain::values::{ItemId, ProtocolId, UserId};
use vigil_projections::{read, streams};

use super::error::{GqlResult, IntoGql, found};
use super::inputs;
use super::query::{Owner, owner, service};
use super::types::Protocol;
use crate::service::{ApiError, Service};

#[derive(Default)]
pub struct RecordMutations;

/// One item of a protocol. Errors about a field name it `items.<field>` (`items.amount`).
#[derive(InputObject)]
pub struct ProtocolItemInput {
    /// Keep an existing item's id when amending (it must be an item of this protocol, in any
    /// version); omit for a new item.
    pub id: Option<String>,
    /// Catalog key (`testosterone_enanthate`, `anastrozole`, …) or a custom name.
    pub compound: String,
    /// Amount per administration (`250`), optional for split schedules. At most 10 000 mg,
    /// 100 000 mcg, 1 000 000 IU or 100 mL per dose.
    pub amount: Option<String>,
    /// `mg`, `mcg`, `IU` or `mL`.
    pub unit: Option<String>,
    /// `im`, `subq`, `oral` or `transdermal`.
    pub route: String,
    /// As typed: `ED`, `EOD`, `E3.5D`, `2x/wk`, `MWF`, `250 mg/wk split E3.5D`, `PRN`.
    pub schedule: String,
    /// Usual time, `HH:MM` (default 09:00).
    pub time_of_day: Option<String>,
    /// First day, `YYYY-MM-DD`, from 1900-01-01 to ten years from today.
    pub start: String,
    /// Last day, in the same window.
    pub end: Option<String>,
}

#[derive(SimpleObject)]
pub struct ProtocolPayload {
    pub protocol: Protocol,
    pub position: u64,
}

fn items(c: &Owner, input: Vec<ProtocolItemInput>) -> GqlResult<Vec<ItemSpec>> {
    if input.len() > 50 {
        return Err(ApiError::bad("items", "at most 50 items")).gql();
    }
    input
        .into_iter()
        .enumerate()
        .map(|(index, i)| {
            let dose = match (&i.amount, &i.unit) {
                (Some(a), Some(u)) => Some(inputs::dose("items.amount", a, "items.unit", u)?),
                (None, None) => None,
                _ => return Err(ApiError::bad("items.amount", "give both amount and unit, or neither")),
            };
            // A given id names an item to keep (the domain checks it is one of the protocol's);
            // a new item gets a fresh one.
            let (item_id, origin) = match &i.id {
                Some(id) => (inputs::id("items.id", id)?, ItemOrigin::Kept),
                None => (c.new_id(&format!("item {index}")), ItemOrigin::New),
            };
            Ok(ItemSpec {
                item_id: ItemId::from_uuid(item_id),
                origin,
                compound: inputs::compound("items.compound", &i.compound)?,
                dose,
                route: inputs::route("items.route", &i.route)?,
                schedule: i.schedule,
                time_of_day: match &i.time_of_day {
                    Some(t) => inputs::time_of_day("items.timeOfDay", t)?,
                    None => time::macros::time!(09:00),
                },
                start: inputs::date("items.start", &i.start)?,
                end: i.end.as_deref().map(|e| inputs::date("items.end", e)).transpose()?,
            })
        })
        .collect::<Result<_, _>>()
        .gql()
}

async fn owned_protocol(svc: &Service, c: &Owner, id: &str) -> GqlResult<Uuid> {
    let id = inputs::id("id", id).gql()?;
    found(read::protocol_state(svc.db(), &c.me, id).await.gql()?)?;
    Ok(id)
}

async fn protocol_payload(svc: &Service, c: &Owner, id: Uuid, position: u64) -> GqlResult<ProtocolPayload> {
    let view = read::protocol(svc.db(), &c.me, id).await.gql()?;
    let view = view.ok_or(ApiError::ProjectionLag { position }).gql()?;
    Ok(ProtocolPayload {
        protocol: Protocol::new(view, OffsetDateTime::now_utc().date()),
        position,
    })
}

async fn run_protocol(
    svc: &Service,
    c: &Owner,
    id: Uuid,
    command: impl Fn() -> ProtocolCommand,
) -> GqlResult<ProtocolPayload> {
    let position = svc
        .execute::<ProtocolAggregate>(&streams::protocol(id), c.me.id(), c.metadata(), |_| Ok(command()))
        .await
        .gql()?;
    protocol_payload(svc, c, id, position).await
}

fn on_date(field: &str, on: Option<String>) -> GqlResult<time::Date> {
    match on {
        Some(d) => inputs::date(field, &d).gql(),
        None => Ok(OffsetDateTime::now_utc().date()),
    }
}

#[Object]
impl RecordMutations {
    /// Starts a protocol. Item ids may not be given (there is nothing to keep yet).
    async fn start_protocol(
        &self,
        ctx: &Context<'_>,
        name: String,
        items: Vec<ProtocolItemInput>,
        #[graphql(desc = "First day, `YYYY-MM-DD` (default today), from 1900-01-01 to ten years from today.")]
        effective_from: Option<String>,
    ) -> GqlResult<ProtocolPayload> {
        let c = owner(ctx)?;
        let svc = service(ctx)?;
        let id = c.new_id("protocol");
        let items = self::items(&c, items)?;
        let effective_from = on_date("effectiveFrom", effective_from)?;
        let now = OffsetDateTime::now_utc();
        run_protocol(svc, &c, id, || ProtocolCommand::Define {
            protocol_id: ProtocolId::from_uuid(id),
            owner: UserId::from_uuid(c.me.id()),
            name: name.clone(),
            items: items.clone(),
            effective_from,
            recorded_at: now,
        })
        .await
    }

    /// Records a new version, in force from `effectiveFrom`. An item's `id` keeps an item of
    /// this protocol; an id the protocol never had is `BAD_USER_INPUT` (`items.id`).
    async fn amend_protocol(
        &self,
        ctx: &Context<'_>,
        id: String,
        name: String,
        items: Vec<ProtocolItemInput>,
        #[graphql(desc = "`YYYY-MM-DD`, from 1900-01-01 to ten years from today.")] effective_from: String,
        reason: Option<String>,
    ) -> GqlResult<ProtocolPayload> {
        let c = owner(ctx)?;
        let svc = service(ctx)?;
        let id = owned_protocol(svc, &c, &id).await?;
        let items = self::items(&c, items)?;
        let effective_from = inputs::date("effectiveFrom", &effective_from).gql()?;
        let reason = inputs::text("reason", reason, 500).gql()?;
        let now = OffsetDateTime::now_utc();
        run_protocol(svc, &c, id, || ProtocolCommand::Amend {
            name: name.clone(),
            items: items.clone(),
            effective_from,
            reason: reason.clone(),
            recorded_at: now,
        })
        .await
    }

    /// Pauses from `on` (default today).
    async fn pause_protocol(
        &self,
        ctx: &Context<'_>,
        id: String,
        #[graphql(desc = "`YYYY-MM-DD`, from 1900-01-01 to ten years from today.")] on: Option<String>,
        reason: Option<String>,
    ) -> GqlResult<ProtocolPayload> {
        let c = owner(ctx)?;
        let svc = service(ctx)?;
        let id = owned_protocol(svc, &c, &id).await?;
        let on = on_date("on", on)?;
        let reason = inputs::text("reason", reason, 500).gql()?;
        let now = OffsetDateTime::now_utc();
        run_protocol(svc, &c, id, || ProtocolCommand::Pause {
            on,
            reason: reason.clone(),
            recorded_at: now,
        })
        .await
    }

    /// Resumes from `on` (default today).
    async fn resume_protocol(
        &self,
        ctx: &Context<'_>,
        id: String,
        #[graphql(desc = "`YYYY-MM-DD`, from 1900-01-01 to ten years from today.")] on: Option<String>,
    ) -> GqlResult<ProtocolPayload> {
        let c = owner(ctx)?;
        let svc = service(ctx)?;
        let id = owned_protocol(svc, &c, &id).await?;
        let on = on_date("on", on)?;
        let now = OffsetDateTime::now_utc();
        run_protocol(svc, &c, id, || ProtocolCommand::Resume { on, recorded_at: now }).await
    }

    /// Ends on `on` (default today).
    async fn end_protocol(
        &self,
        ctx: &Context<'_>,
        id: String,
        #[graphql(desc = "`YYYY-MM-DD`, from 1900-01-01 to ten years from today.")] on: Option<String>,
    ) -> GqlResult<ProtocolPayload> {
        let c = owner(ctx)?;
        let svc = service(ctx)?;
        let id = owned_protocol(svc, &c, &id).await?;
        let on = on_date("on", on)?;
        let now = OffsetDateTime::now_utc();
        run_protocol(svc, &c, id, || ProtocolCommand::End { on, recorded_at: now }).await
    }
}
