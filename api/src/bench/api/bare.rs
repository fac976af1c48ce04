//! The baseline of `vigil bench api`: a bare axum handler that runs the dashboard's read-model
//! queries and computations (`Service::dashboard`, the very code the GraphQL resolver calls)
//! and answers plain JSON. No GraphQL, no token check, no middleware: the person is named in
//! a header. It exists only inside the bench and listens only on loopback.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use serde_json::{Value, json};
use time::OffsetDateTime;
use uuid::Uuid;

use vigil_domain::account::Role;

use crate::service::{Caller, DashboardData, Service};

/// `GET /dashboard` with `x-person: <uuid>`.
pub fn router(service: Service) -> Router {
    Router::new().route("/dashboard", get(dashboard)).with_state(service)
}

async fn dashboard(State(service): State<Service>, headers: HeaderMap) -> Result<Json<Value>, StatusCode> {
    let person: Uuid = headers
        .get("x-person")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .ok_or(StatusCode::BAD_REQUEST)?;
    // No token by design; the gate still vouches (an owner's own data, as after sign-in).
    let caller = Caller {
        user: person,
        session: Uuid::nil(),
        role: Role::User,
    };
    let me = service.own_data(&caller).map_err(|_| StatusCode::FORBIDDEN)?;
    let data = service
        .dashboard(&me, OffsetDateTime::now_utc())
        .await
        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
    Ok(Json(to_json(&data)))
}

/// The same facts the GraphQL dashboard query of the bench selects.
fn to_json(d: &DashboardData) -> Value {
    json!({
        "activeProtocols": d.active.iter().map(|p| json!({
            "id": p.protocol_id,
            "name": p.name,
            "currentVersion": p.current_version,
        })).collect::<Vec<_>>(),
        "latestVitals": d.vitals.iter().map(|v| json!({
            "id": v.entry_id,
            "vital": v.kind,
            "components": v.components,
            "measuredAt": v.measured_at.unix_timestamp(),
        })).collect::<Vec<_>>(),
        "latestPanel": d.panel.as_ref().map(|p| json!({
            "id": p.panel_id,
            "drawnAt": p.drawn_at.unix_timestamp(),
            "results": p.results,
        })),
        "nextDue": d.next_due.iter().map(|n| json!({
            "protocolId": n.protocol_id,
            "itemId": n.item_id,
            "compound": n.compound,
            "dueAt": n.due_at.unix_timestamp(),
        })).collect::<Vec<_>>(),
    })
}
