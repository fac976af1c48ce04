//! Subscriptions over graphql-transport-ws: `myEvents` streams the caller's own new events
//! once the read models reflect them, as (position, kind, id) so a client refetches the
//! changed read model. Authentication happens in `connection_init` (see `server::ws`); the
//! events come from the process's one feed (see `feed`), never from a reader per socket.

use async_graphql::{Context, SimpleObject, Subscription};
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use vigil_projections::streams::{self, StreamKind};

use super::error::to_gql;
use super::query::{owner, service};
use crate::feed::{Delivery, Notice, QUEUE};
use crate::service::ApiError;

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
    /// The caller's own new events, each delivered after read models include it. A client
    /// that falls 256 events behind gets one `SUBSCRIPTION_OVERFLOW` error and the
    /// subscription ends: subscribe again and refetch.
    async fn my_events(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<BoxStream<'static, async_graphql::Result<MyEvent>>> {
        let user = owner(ctx)?.me.id();
        let deliveries = service(ctx)?.feed().follow(user);
        Ok(deliveries
            .filter_map(|delivery| {
                std::future::ready(match delivery {
                    Delivery::Event(notice) => my_event(notice).map(Ok),
                    Delivery::Overflowed => Some(Err(to_gql(ApiError::SubscriptionOverflow(QUEUE)))),
                })
            })
            .boxed())
    }
}

/// The notice as the schema tells it; events of system streams are not the person's news.
fn my_event(notice: Notice) -> Option<MyEvent> {
    let kind = match streams::kind_of(&notice.stream_id) {
        StreamKind::Account => "account",
        StreamKind::Protocol => "protocol",
        StreamKind::Doses => "doses",
        StreamKind::Health => "health",
        StreamKind::Bloodwork => "bloodwork",
        _ => return None,
    };
    Some(MyEvent {
        position: notice.position,
        event_type: notice.event_type,
        kind: kind.into(),
        aggregate_id: notice
            .stream_id
            .split_once('-')
            .map(|(_, id)| id.to_owned())
            .unwrap_or_default(),
    })
}
