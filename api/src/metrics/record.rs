//! Every metric vigil exports: its name, type, unit, help and labels, and the helpers the rest
//! of the API calls to record it. One place names them all, so the alert rules
//! (`ops/prometheus/alerts.yml`) and the dashboard (`ops/grafana/vigil.json`) have one list
//! to follow.
//!
//! Owns: names, descriptions, buckets, and turning what happened into bounded label values.
//! Must not: take a label value from a request (an operation's root field is a label only when
//! the schema declares it; an error code only when it is one of [`CODES`]), or do work when
//! metrics are off (each helper returns at once then).

use std::collections::HashSet;
use std::time::Instant;

use ::metrics::{Unit, counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram};
use async_graphql::parser::types::{OperationType, TypeKind, TypeSystemDefinition};

/// GraphQL request latency, by `operation` and root `field`.
pub const GRAPHQL_DURATION: &str = "vigil_graphql_request_duration_seconds";
/// GraphQL responses, by the first error's `code` (`none` without error) and HTTP `status`.
pub const GRAPHQL_RESPONSES: &str = "vigil_graphql_responses_total";
/// Every HTTP response of the public listener, by `status`.
pub const HTTP_RESPONSES: &str = "vigil_http_responses_total";
/// Failed sign-in attempts (wrong password or code, locked, unknown account).
pub const SIGN_IN_FAILURES: &str = "vigil_sign_in_failures_total";
/// Accounts locked after repeated failures.
pub const LOCKOUTS: &str = "vigil_account_lockouts_total";
/// Requests refused by a rate limit, by `limit` (`graphql`, `checkpoints`).
pub const RATE_LIMITED: &str = "vigil_rate_limited_total";
/// Latency of one append to the event store, as the API waits for it.
pub const APPEND_DURATION: &str = "vigil_append_duration_seconds";
/// Events per append (what one command writes).
pub const APPEND_EVENTS: &str = "vigil_append_events";
/// Transactions the store's appender committed (group commit; read at scrape).
pub const GROUP_COMMITS: &str = "vigil_group_commits_total";
/// Appends those transactions carried: per group commit, the group's size (read at scrape).
pub const GROUP_COMMIT_APPENDS: &str = "vigil_group_commit_appends_total";
/// Events appended by this process.
pub const EVENTS_APPENDED: &str = "vigil_events_appended_total";
/// Events in the log not yet applied, by `projection` (read at scrape).
pub const PROJECTION_LAG_EVENTS: &str = "vigil_projection_lag_events";
/// Age of the oldest event not yet applied, by `projection`; 0 when caught up (read at scrape).
pub const PROJECTION_LAG_SECONDS: &str = "vigil_projection_lag_seconds";
/// Erasures (crypto-shreddings) completed by this process.
pub const ERASURES: &str = "vigil_erasures_total";
/// Messages the SMTP server (or the dev outbox folder) accepted, by `kind`.
pub const MAIL_SENT: &str = "vigil_mail_sent_total";
/// Failed sending attempts, by `kind` and `outcome` (`retry`: tried again later; `given_up`:
/// a permanent refusal or too many attempts).
pub const MAIL_FAILED: &str = "vigil_mail_failed_total";
/// 1 while the read-only switch is on (read at scrape).
pub const READ_ONLY: &str = "vigil_read_only";
/// Resident memory of the process (read at scrape).
pub const RESIDENT_MEMORY: &str = "vigil_process_resident_memory_bytes";
/// Open connections of the public listener, by `kind` (`http`, `websocket`).
pub const OPEN_CONNECTIONS: &str = "vigil_open_connections";
/// Seconds since the newest backup set (written, its snapshot's chain verified) was taken;
/// +Inf when the log records none (read at scrape from the `system-backups` stream).
pub const BACKUP_AGE: &str = "vigil_backup_age_seconds";
/// Seconds since the newest restore drill; +Inf when none ran (read at scrape).
pub const BACKUP_DRILL_AGE: &str = "vigil_backup_drill_age_seconds";
/// 1 when the newest restore drill failed, else 0 (read at scrape).
pub const BACKUP_DRILL_FAILED: &str = "vigil_backup_drill_failed";

/// Latency buckets (seconds): the targets of ADR 0005 (10–25 ms p99) sit between buckets, and
/// argon2 sign-ins (hundreds of ms) have room above.
const LATENCY: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Events per append: most commands append one, a protocol or a panel a few.
const GROUP: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0];

/// Histograms and their buckets (every other histogram would render as a summary).
pub const BUCKETS: &[(&str, &[f64])] = &[
    (GRAPHQL_DURATION, LATENCY),
    (APPEND_DURATION, LATENCY),
    (APPEND_EVENTS, GROUP),
];

/// The `code` values a response may be counted under; anything else is `other`.
pub const CODES: &[&str] = &[
    "UNAUTHENTICATED",
    "FORBIDDEN",
    "BAD_USER_INPUT",
    "CONFLICT",
    "NOT_FOUND",
    "PROJECTION_LAG",
    "SUBSCRIPTION_OVERFLOW",
    "INTERNAL",
    "READ_ONLY",
    "RATE_LIMITED",
];

/// Describes every metric (help text and unit), once, when the recorder is installed.
pub fn describe() {
    describe_histogram!(
        GRAPHQL_DURATION,
        Unit::Seconds,
        "GraphQL request latency over HTTP, by operation type and root field (`multiple` for several, `other` for a field the schema lacks)"
    );
    describe_counter!(
        GRAPHQL_RESPONSES,
        Unit::Count,
        "GraphQL responses over HTTP, by the first error's extensions.code (`none` without error) and HTTP status"
    );
    describe_counter!(
        HTTP_RESPONSES,
        Unit::Count,
        "HTTP responses of the public listener, by status"
    );
    describe_counter!(
        SIGN_IN_FAILURES,
        Unit::Count,
        "Failed sign-in attempts (password or second factor)"
    );
    describe_counter!(LOCKOUTS, Unit::Count, "Accounts locked after repeated failed sign-ins");
    describe_counter!(
        RATE_LIMITED,
        Unit::Count,
        "Requests refused by a rate limit (RATE_LIMITED, HTTP 429), by limit"
    );
    describe_histogram!(
        APPEND_DURATION,
        Unit::Seconds,
        "Latency of an append to the event store as the API waits for it (group commit included)"
    );
    describe_histogram!(
        APPEND_EVENTS,
        Unit::Count,
        "Events per append (what one command writes)"
    );
    describe_counter!(
        GROUP_COMMITS,
        Unit::Count,
        "Transactions the event store's appender committed (group commit)"
    );
    describe_counter!(
        GROUP_COMMIT_APPENDS,
        Unit::Count,
        "Appends carried by those transactions (appends / commits = group size)"
    );
    describe_counter!(
        EVENTS_APPENDED,
        Unit::Count,
        "Events appended to the log by this process"
    );
    describe_gauge!(
        PROJECTION_LAG_EVENTS,
        Unit::Count,
        "Events in the log not yet applied by the projection"
    );
    describe_gauge!(
        PROJECTION_LAG_SECONDS,
        Unit::Seconds,
        "Age of the oldest event the projection has not applied (0 when caught up)"
    );
    describe_counter!(
        ERASURES,
        Unit::Count,
        "Erasures (crypto-shreddings) completed by this process"
    );
    describe_counter!(
        MAIL_SENT,
        Unit::Count,
        "Transactional messages accepted by the SMTP server or the outbox folder, by kind"
    );
    describe_counter!(
        MAIL_FAILED,
        Unit::Count,
        "Failed attempts to send a message, by kind and outcome (retry, given_up)"
    );
    describe_gauge!(READ_ONLY, Unit::Count, "1 while the read-only switch is on, else 0");
    describe_gauge!(RESIDENT_MEMORY, Unit::Bytes, "Resident set size of the process");
    describe_gauge!(
        OPEN_CONNECTIONS,
        Unit::Count,
        "Open connections of the public listener, by kind (http, websocket)"
    );
    describe_gauge!(
        BACKUP_AGE,
        Unit::Seconds,
        "Seconds since the newest backup set was taken (+Inf when none is recorded)"
    );
    describe_gauge!(
        BACKUP_DRILL_AGE,
        Unit::Seconds,
        "Seconds since the newest restore drill (+Inf when none ran)"
    );
    describe_gauge!(
        BACKUP_DRILL_FAILED,
        Unit::Count,
        "1 when the newest restore drill failed, else 0"
    );
}

/// Exports the counters and gauges of rare events at 0 from the start: a series that appears
/// only with its first event makes `rate()` and `increase()` miss that event, and alert rules
/// could not tell "none yet" from "not exported".
pub fn zero() {
    for name in [
        SIGN_IN_FAILURES,
        LOCKOUTS,
        EVENTS_APPENDED,
        ERASURES,
        GROUP_COMMITS,
        GROUP_COMMIT_APPENDS,
    ] {
        counter!(name).absolute(0);
    }
    for limit in ["graphql", "checkpoints"] {
        counter!(RATE_LIMITED, "limit" => limit).absolute(0);
    }
    for kind in crate::mail::message::KINDS {
        counter!(MAIL_SENT, "kind" => kind).absolute(0);
        for outcome in ["retry", "given_up"] {
            counter!(MAIL_FAILED, "kind" => kind, "outcome" => outcome).absolute(0);
        }
    }
    for kind in ["http", "websocket"] {
        gauge!(OPEN_CONNECTIONS, "kind" => kind).increment(0.0);
    }
    gauge!(READ_ONLY).set(0.0);
}

/// The root fields the schema declares, per operation type: the only `field` label values.
#[derive(Debug, Default)]
pub struct Known {
    query: HashSet<String>,
    mutation: HashSet<String>,
    subscription: HashSet<String>,
}

impl Known {
    /// Reads the root types' fields from the schema's SDL (an unparsable SDL knows none, so
    /// every field is `other`: wrong but bounded).
    pub fn from_sdl(sdl: &str) -> Known {
        let mut known = Known::default();
        let Ok(doc) = async_graphql::parser::parse_schema(sdl) else {
            tracing::warn!("metrics: cannot parse the schema; root fields are labelled `other`");
            return known;
        };
        for definition in doc.definitions {
            let TypeSystemDefinition::Type(ty) = definition else {
                continue;
            };
            let TypeKind::Object(object) = &ty.node.kind else {
                continue;
            };
            let set = match ty.node.name.node.as_str() {
                "Query" => &mut known.query,
                "Mutation" => &mut known.mutation,
                "Subscription" => &mut known.subscription,
                _ => continue,
            };
            set.extend(object.fields.iter().map(|f| f.node.name.node.to_string()));
        }
        known
    }

    /// The `operation` and `field` labels of an operation with these root fields.
    pub fn labels(&self, ty: OperationType, fields: &[String]) -> (&'static str, String) {
        let (operation, set) = match ty {
            OperationType::Query => ("query", &self.query),
            OperationType::Mutation => ("mutation", &self.mutation),
            OperationType::Subscription => ("subscription", &self.subscription),
        };
        let mut distinct = fields.iter().filter(|f| *f != "__typename");
        let field = match (distinct.next(), distinct.next()) {
            (None, _) => "none".to_owned(),
            (Some(first), None) if set.contains(first) => first.clone(),
            (Some(_), None) => "other".to_owned(),
            (Some(first), Some(_)) if fields.iter().all(|f| f == first) => {
                if set.contains(first) {
                    first.clone()
                } else {
                    "other".to_owned()
                }
            }
            (Some(_), Some(_)) => "multiple".to_owned(),
        };
        (operation, field)
    }
}

/// One GraphQL request being timed, and its labels once known (`None`: metrics are off).
pub struct Request {
    started: Instant,
    operation: &'static str,
    field: Option<String>,
}

/// Starts timing a request, before anything about it is known.
pub fn start() -> Option<Request> {
    super::on()?;
    Some(Request {
        started: Instant::now(),
        operation: "none",
        field: None,
    })
}

/// Labels `timing` with `request`'s operation type and root field. Called once the document
/// cache (`server::documents`) has primed the request, so a known document is not parsed again
/// here; a text over `limits::admission::MAX_QUERY_BYTES` is not parsed at all (admission
/// refuses it), and one that does not parse or names no single operation stays `none`.
pub fn operation(timing: &mut Option<Request>, request: &mut async_graphql::Request) {
    let (Some(timing), Some(known)) = (timing.as_mut(), super::on()) else {
        return;
    };
    if request.query.len() > crate::limits::admission::MAX_QUERY_BYTES {
        return;
    }
    let name = request.operation_name.clone();
    let analysed = request
        .parsed_query()
        .ok()
        .and_then(|doc| crate::limits::operation::analyse(doc, name.as_deref()));
    if let Some(op) = analysed {
        let (operation, field) = known.labels(op.ty, &op.root_fields);
        timing.operation = operation;
        timing.field = Some(field);
    }
}

/// Records a finished request: latency, and the response by code and status.
pub fn finish(request: Option<Request>, status: u16, code: Option<&str>) {
    let Some(request) = request else { return };
    let field = request.field.unwrap_or_else(|| "none".to_owned());
    histogram!(GRAPHQL_DURATION, "operation" => request.operation, "field" => field)
        .record(request.started.elapsed().as_secs_f64());
    let code = code.map_or("none", self::code);
    counter!(GRAPHQL_RESPONSES, "code" => code, "status" => status_label(status)).increment(1);
}

/// `code` as a label value: one of [`CODES`], or `other`.
pub fn code(code: &str) -> &'static str {
    CODES.iter().find(|c| **c == code).copied().unwrap_or("other")
}

/// Counts one HTTP response of the public listener.
pub fn http_response(status: u16) {
    if super::on().is_none() {
        return;
    }
    counter!(HTTP_RESPONSES, "status" => status_label(status)).increment(1);
}

/// A status as a label: a real HTTP status (100–599) as its number, anything else `other`.
fn status_label(status: u16) -> String {
    if (100..600).contains(&status) {
        status.to_string()
    } else {
        "other".to_owned()
    }
}

/// A failed sign-in attempt; `locked` when it started a lockout of the account.
pub fn sign_in_failed(locked: bool) {
    if super::on().is_none() {
        return;
    }
    counter!(SIGN_IN_FAILURES).increment(1);
    if locked {
        counter!(LOCKOUTS).increment(1);
    }
}

/// A request refused by the `limit` (`graphql`, `checkpoints`) rate limit.
pub fn rate_limited(limit: &'static str) {
    if super::on().is_none() {
        return;
    }
    counter!(RATE_LIMITED, "limit" => limit).increment(1);
}

/// An append of `events` events that took since `started`; `appended` when it wrote.
pub fn append(started: Instant, events: usize, appended: bool) {
    if super::on().is_none() {
        return;
    }
    histogram!(APPEND_DURATION).record(started.elapsed().as_secs_f64());
    if appended {
        #[allow(clippy::cast_precision_loss)] // a count of events in one command: small
        histogram!(APPEND_EVENTS).record(events as f64);
        counter!(EVENTS_APPENDED).increment(u64::try_from(events).unwrap_or(u64::MAX));
    }
}

/// A message sent; `kind` is one of `mail::message::KINDS`.
pub fn mail_sent(kind: &'static str) {
    if super::on().is_none() {
        return;
    }
    counter!(MAIL_SENT, "kind" => kind).increment(1);
}

/// A failed attempt to send a message of `kind`; `given_up` when it is not tried again.
pub fn mail_failed(kind: &'static str, given_up: bool) {
    if super::on().is_none() {
        return;
    }
    let outcome = if given_up { "given_up" } else { "retry" };
    counter!(MAIL_FAILED, "kind" => kind, "outcome" => outcome).increment(1);
}

/// A completed erasure.
pub fn erased() {
    if super::on().is_none() {
        return;
    }
    counter!(ERASURES).increment(1);
}

/// An open connection of the public listener; dropping it counts it closed.
pub struct Open(&'static str);

/// Counts a connection of `kind` (`http`, `websocket`) open until the guard drops.
pub fn connection(kind: &'static str) -> Option<Open> {
    super::on()?;
    gauge!(OPEN_CONNECTIONS, "kind" => kind).increment(1.0);
    Some(Open(kind))
}

impl Drop for Open {
    fn drop(&mut self) {
        gauge!(OPEN_CONNECTIONS, "kind" => self.0).decrement(1.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_schema_fields_become_labels() {
        let known = Known::from_sdl(
            "type Query { me: Int dashboard(subject: String): Int }\n\
             type Mutation { \"d\" login(email: String!): Int }\nschema { query: Query mutation: Mutation }",
        );
        let f = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            known.labels(OperationType::Query, &f(&["me"])),
            ("query", "me".to_owned())
        );
        assert_eq!(
            known.labels(OperationType::Mutation, &f(&["login", "login"])).1,
            "login"
        );
        assert_eq!(
            known.labels(OperationType::Query, &f(&["alice@example.org"])).1,
            "other"
        );
        assert_eq!(known.labels(OperationType::Query, &f(&["login"])).1, "other");
        assert_eq!(
            known.labels(OperationType::Query, &f(&["me", "dashboard"])).1,
            "multiple"
        );
        assert_eq!(known.labels(OperationType::Query, &f(&[])).1, "none");
        assert_eq!(status_label(200), "200");
        assert_eq!(status_label(42), "other");
    }
}
