//! The dashboard as data: active protocols, the next due dose of each of their items, the
//! latest reading of every vital and the latest panel. One place so that the GraphQL resolver
//! and `vigil bench api`'s bare baseline run exactly the same reads and computations. The
//! sources come from the runner's read cache; what depends on the clock is computed per call.
//! Must not know GraphQL or HTTP types.

use time::{OffsetDateTime, UtcOffset};
use uuid::Uuid;
use vigil_domain::compounds::Compound;
use vigil_domain::dose::{AdherencePolicy, next_due};
use vigil_domain::protocol::ProtocolStatus;
use vigil_projections::read::{HealthLogView, PanelView, ProtocolView, Subject};

use super::{ApiResult, Service};

/// What the dashboard shows.
#[derive(Debug, Clone)]
pub struct DashboardData {
    /// Protocols active today, newest first.
    pub active: Vec<ProtocolView>,
    /// The next due dose of each item of an active protocol, soonest first.
    pub next_due: Vec<NextDue>,
    /// The latest live reading of each vital.
    pub vitals: Vec<HealthLogView>,
    /// The latest live panel.
    pub panel: Option<PanelView>,
}

/// One item's next due dose.
#[derive(Debug, Clone)]
pub struct NextDue {
    /// The protocol.
    pub protocol_id: Uuid,
    /// Its name.
    pub protocol_name: String,
    /// The item within the version in force.
    pub item_id: Uuid,
    /// What is due.
    pub compound: Compound,
    /// When.
    pub due_at: OffsetDateTime,
}

impl Service {
    /// The dashboard of `subject` as of `now`.
    ///
    /// # Errors
    /// Read-model errors (`INTERNAL`).
    pub async fn dashboard(&self, subject: &Subject, now: OffsetDateTime) -> ApiResult<DashboardData> {
        let source = self.runner().cache().dashboard(self.db(), subject).await?;
        let today = now.date();
        let active: Vec<ProtocolView> = source
            .protocols
            .iter()
            .filter(|p| p.state.status_at(today) == ProtocolStatus::Active)
            .cloned()
            .collect();
        let mut next = Vec::new();
        for p in &active {
            let Some(current) = p.state.in_force_at(today) else {
                continue;
            };
            for item in &current.items {
                if let Some(due) = next_due(
                    &p.state,
                    &source.doses,
                    item.item_id,
                    UtcOffset::UTC,
                    now,
                    AdherencePolicy::default(),
                ) {
                    next.push(NextDue {
                        protocol_id: p.protocol_id,
                        protocol_name: p.name.clone(),
                        item_id: item.item_id.as_uuid(),
                        compound: item.compound.clone(),
                        due_at: due,
                    });
                }
            }
        }
        next.sort_by_key(|d| d.due_at);
        Ok(DashboardData {
            active,
            next_due: next,
            vitals: source.vitals.to_vec(),
            panel: (*source.panel).clone(),
        })
    }
}
