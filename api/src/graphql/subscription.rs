//! Subscriptions over graphql-transport-ws: `myEvents` streams the caller's own new events
//! once the read models reflect them, as (position, kind, id) so a client refetches the
//! changed read model. Authentication happens in `connection_init` (see `server::ws`).

use async_graphql::{Context, SimpleObject, Subscription};
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use vigil_projections::streams::{self, StreamKind};

use super::query::{owner, service};

/// A change to one of the caller's records.
#[derive(SimpleObject, Clone)]
pub struct MyEvent {
    /// Global position of the event.
    pub position: u64,
    /// Event type, e.g. `VitalRecorded`.
    pub event_type: String,
    /// `account`, `protocol`, `doses`, `health` or `bloodwork`.
    pub kind: String,
    /// The stream's aggregate id (the protocol id, or the user id for per-user logs).
    pub aggregate_id: String,
}

/// The subscription root.
pub struct SubscriptionRoot;

#[Subscription(name = "Subscription")]
impl SubscriptionRoot {
    /// The caller's own new events, each delivered after read models include it.
    async fn my_events(&self, ctx: &Context<'_>) -> async_graphql::Result<BoxStream<'static, MyEvent>> {
        let user = owner(ctx)?.me.id();
        let svc = service(ctx)?.clone();
        let from = svc
            .store()
            .head_position()
            .await
            .map_err(|e| async_graphql::Error::new(e.to_string()))?
            + 1;
        let stream = svc.store().subscribe(from);
        Ok(stream
            .filter_map(move |item| {
                let svc = svc.clone();
                async move {
                    let event = item.ok()?;
                    if event.envelope.subject != user {
                        return None;
                    }
                    let kind = match streams::kind_of(&event.envelope.stream_id) {
                        StreamKind::Account => "account",
                        StreamKind::Protocol => "protocol",
                        StreamKind::Doses => "doses",
                        StreamKind::Health => "health",
                        StreamKind::Bloodwork => "bloodwork",
                        _ => return None,
                    };
                    let position = event.envelope.position;
                    // Deliver once the read model has it, so a refetch sees the change.
                    svc.settle(position).await.ok()?;
                    Some(MyEvent {
                        position,
                        event_type: event.envelope.event_type.clone(),
                        kind: kind.into(),
                        aggregate_id: event
                            .envelope
                            .stream_id
                            .split_once('-')
                            .map(|(_, id)| id.to_owned())
                            .unwrap_or_default(),
                    })
                }
            })
            .boxed())
    }
}
