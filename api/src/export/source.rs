//! What an export reads, a page at a time: the person's read models through the gate (a
//! fresh [`Subject`](vigil_projections::read::Subject) per page, so on Postgres no scope
//! outlives a page), their access log, and their own events from the log, decrypted. Also
//! folds media records out of those events (no read model keeps them). Must not: read a page
//! larger than [`PAGE`] rows or [`EVENTS`] events, or anyone but the ticket's owner.

use vigil_domain::media::{MediaEvent, MediaState};
use vigil_eventstore::RecordedEvent;
use vigil_projections::read::{
    self, AccessEntry, AccountView, Cursor, DoseView, HealthLogView, Page, PageRequest, PanelView, ProtocolView,
};

use super::Ticket;
use crate::service::{ApiResult, Service};

/// Rows per read-model page.
pub const PAGE: u32 = 500;
/// Events per page of the person's history.
pub const EVENTS: u64 = 1_000;

/// The ticket's owner's data.
pub struct Source<'a> {
    svc: &'a Service,
    ticket: &'a Ticket,
}

impl<'a> Source<'a> {
    pub fn new(svc: &'a Service, ticket: &'a Ticket) -> Self {
        Source { svc, ticket }
    }

    /// Whose export.
    pub fn user(&self) -> uuid::Uuid {
        self.ticket.user()
    }

    pub async fn profile(&self) -> ApiResult<Option<AccountView>> {
        Ok(read::account(self.svc.db(), self.user()).await?)
    }

    pub async fn protocols(&self, page: &PageRequest) -> ApiResult<Page<ProtocolView>> {
        let me = self.svc.export_subject(self.ticket);
        Ok(read::protocols(self.svc.db(), &me, page).await?)
    }

    pub async fn doses(&self, page: &PageRequest) -> ApiResult<Page<DoseView>> {
        let me = self.svc.export_subject(self.ticket);
        Ok(read::doses(self.svc.db(), &me, page).await?)
    }

    pub async fn health_logs(&self, page: &PageRequest) -> ApiResult<Page<HealthLogView>> {
        let me = self.svc.export_subject(self.ticket);
        Ok(read::health_log_history(self.svc.db(), &me, page).await?)
    }

    pub async fn panels(&self, page: &PageRequest) -> ApiResult<Page<PanelView>> {
        let me = self.svc.export_subject(self.ticket);
        Ok(read::panel_history(self.svc.db(), &me, page).await?)
    }

    pub async fn access(&self, page: &PageRequest) -> ApiResult<Page<AccessEntry>> {
        Ok(read::access_log(self.svc.db(), self.user(), page).await?)
    }

    /// Up to [`EVENTS`] of the person's events from position `from`.
    pub async fn events(&self, from: u64) -> ApiResult<Vec<RecordedEvent>> {
        Ok(self.svc.store().read_subject(self.user(), from, EVENTS).await?)
    }
}

/// Walks a paged list: the next request, until a page says nothing follows.
#[derive(Default)]
pub struct Pages {
    after: Option<Cursor>,
    done: bool,
}

impl Pages {
    /// The next page to ask for, or `None` once the list ended.
    pub fn next(&self) -> Option<PageRequest> {
        (!self.done).then(|| PageRequest {
            first: PAGE,
            after: self.after.clone(),
        })
    }

    /// Takes a fetched page: its rows, and where the next one starts.
    pub fn take<T>(&mut self, page: Page<T>) -> Vec<T> {
        self.done = !page.has_next_page;
        self.after = page.items.last().map(|(c, _)| c.clone());
        page.items.into_iter().map(|(_, t)| t).collect()
    }
}

/// Walks the person's events in position order.
pub struct Events {
    from: u64,
    done: bool,
}

impl Default for Events {
    fn default() -> Self {
        Events { from: 1, done: false }
    }
}

impl Events {
    /// The next page, or `None` once the history ended.
    pub async fn next(&mut self, src: &Source<'_>) -> ApiResult<Option<Vec<RecordedEvent>>> {
        if self.done {
            return Ok(None);
        }
        let page = src.events(self.from).await?;
        self.done = (page.len() as u64) < EVENTS;
        match page.last() {
            Some(last) => self.from = last.envelope.position + 1,
            None => self.done = true,
        }
        Ok((!page.is_empty()).then_some(page))
    }
}

/// Media records as the person's events leave them (their metadata only: vigil holds no
/// bytes). Bounded by the number of records, not by the history.
#[derive(Default)]
pub struct MediaFold {
    pub state: MediaState,
}

impl MediaFold {
    /// Applies `event` when it is a media event.
    pub fn see(&mut self, event: &RecordedEvent) {
        if !matches!(event.envelope.event_type.as_str(), "MediaAdded" | "MediaRemoved") {
            return;
        }
        if let Ok(Some(e)) = event.decode::<MediaEvent>() {
            self.state = std::mem::take(&mut self.state).apply(&e);
        }
    }
}
