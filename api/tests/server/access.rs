//! Who may see what, end to end on both backends: staff made with `vigil staff`, each enrolling
//! TOTP before any session; every role refused outside its rights (field by field); an admin's
//! break-glass grant opened, used and expired; the person's access log naming each staff read
//! with its justification, as many `DataAccessed` events as reads; a read whose access record
//! cannot be written fails; role changes and disables in force on the next request.

use std::time::Duration;

use serde_json::{Value, json};
use sqlx::Connection;

use crate::harness::{Backend, Client, Server, cli, leak, sqlite_dir};
use crate::signin::{LOGIN, PASSWORD, next_step, register, staff, totp_code, unix_now};
const JUSTIFICATION: &str = "user reported a dangerous hematocrit; ticket 4711";

/// Every root field that reads or writes health data, and every staff-only one, as (group,
/// document, variables): staff get `FORBIDDEN` outside their group (before any argument is
/// looked at, so placeholder ids do).
fn attempts(person: &str, person_handle: &str) -> Vec<(&'static str, String, Value)> {
    let vital = "{vital: \"blood_pressure\", systolic: \"120\", diastolic: \"80\"}";
    let mut all: Vec<(&'static str, String, Value)> = [
        "{ protocols(first: 5) { edges { node { id } } } }".to_owned(),
        "{ protocol(id: \"x\") { id } }".to_owned(),
        "{ doses(first: 5) { edges { node { id } } } }".to_owned(),
        "{ adherence(protocolId: \"x\") { due } }".to_owned(),
        "{ healthLogs(first: 5) { edges { node { id } } } }".to_owned(),
        "{ bloodwork(first: 5) { edges { node { id } } } }".to_owned(),
        "{ markerSeries(marker: \"hematocrit\") { value } }".to_owned(),
        "{ estimatedLevels(protocolId: \"x\", from: \"2026-01-01T00:00:00Z\", to: \"2026-01-02T00:00:00Z\") { substance } }".to_owned(),
        "{ dashboard { latestVitals { vital } } }".to_owned(),
        "mutation { startProtocol(name: \"x\", items: []) { position } }".to_owned(),
        "mutation { amendProtocol(id: \"x\", name: \"x\", items: [], effectiveFrom: \"2026-01-01\") { position } }".to_owned(),
        "mutation { pauseProtocol(id: \"x\") { position } }".to_owned(),
        "mutation { resumeProtocol(id: \"x\") { position } }".to_owned(),
        "mutation { endProtocol(id: \"x\") { position } }".to_owned(),
        "mutation { logDose(protocolId: \"x\", itemId: \"x\") { position } }".to_owned(),
        "mutation { skipDose(protocolId: \"x\", itemId: \"x\", scheduledFor: \"x\") { position } }".to_owned(),
        "mutation { correctDose(id: \"x\", amount: \"1\", unit: \"mg\", route: \"im\", takenAt: \"x\") { position } }".to_owned(),
        "mutation { retractDose(id: \"x\") { position } }".to_owned(),
        format!("mutation {{ recordHealthLog(input: {vital}) {{ position }} }}"),
        format!("mutation {{ correctHealthLog(id: \"x\", input: {vital}) {{ position }} }}"),
        "mutation { retractHealthLog(id: \"x\") { position } }".to_owned(),
        "mutation { recordBloodwork(drawnAt: \"x\", results: []) { position } }".to_owned(),
        "mutation { correctBloodwork(id: \"x\", drawnAt: \"x\", results: []) { position } }".to_owned(),
        "mutation { retractBloodwork(id: \"x\") { position } }".to_owned(),
        // Staff hold no data to process: no consent to give, none to read.
        "mutation { setAiProcessingConsent(consent: true) { position } }".to_owned(),
        "{ me { aiProcessingConsent { given } } }".to_owned(),
    ]
    .into_iter()
    .map(|document| ("health", document, json!({})))
    .collect();
    all.extend([
        (
            "health",
            "query($s: String) { healthLogs(subject: $s, first: 5) { edges { node { id } } } }".to_owned(),
            json!({ "s": person }),
        ),
        ("auditor", "{ accessEvents(first: 5) { edges { node { kind } } } }".into(), json!({})),
        ("auditor", "{ auditLog(first: 5) { position hash } }".into(), json!({})),
        (
            "support",
            "query($h: String!) { account(handle: $h) { handle } }".into(),
            json!({ "h": person_handle }),
        ),
        (
            "admin",
            "mutation($h: String!) { changeRole(handle: $h, role: \"support\", reason: \"promotion\") { position } }".into(),
            json!({ "h": person_handle }),
        ),
        (
            "admin",
            "mutation($h: String!) { disableAccount(handle: $h, reason: \"abuse\") { position } }".into(),
            json!({ "h": person_handle }),
        ),
        (
            "admin",
            "mutation($h: String!) { enableAccount(handle: $h, reason: \"back\") { position } }".into(),
            json!({ "h": person_handle }),
        ),
        (
            "admin",
            "mutation($h: String!) { unlockAccount(handle: $h, reason: \"called in\") }".into(),
            json!({ "h": person_handle }),
        ),
        (
            "admin",
            "mutation($s: String!) { openBreakGlass(subject: $s, justification: \"a long enough reason to look\", minutes: 5, totpCode: \"000000\") { id } }".into(),
            json!({ "s": person }),
        ),
    ]);
    all
}

/// Who may run an attempt of each group.
fn allowed(group: &str, role: &str) -> bool {
    match group {
        // Only the owner; the person named in `subject` attempts is alice herself, so only
        // attempts without it are run as a user (her own data).
        "health" => role == "user",
        "auditor" => role == "auditor",
        "support" => role == "support" || role == "admin",
        "admin" => role == "admin",
        _ => unreachable!(),
    }
}

async fn events_of_type(backend: &Backend, stream: &str, kind: &str) -> usize {
    cli(backend, &["events", "--stream", stream])
        .lines()
        .filter(|l| serde_json::from_str::<Value>(l).unwrap()["event_type"] == kind)
        .count()
}

/// Runs `sql` on the read database, whichever the backend.
async fn read_db(backend: &Backend, sqlite: &str, postgres: &str) {
    match backend {
        Backend::Sqlite(dir) => {
            let url = format!("sqlite://{}", dir.join("read.db").display());
            let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
            sqlx::raw_sql(sqlx::AssertSqlSafe(sqlite.to_owned()))
                .execute(&mut conn)
                .await
                .unwrap();
        }
        Backend::Postgres(url) => {
            let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
            sqlx::raw_sql(sqlx::AssertSqlSafe(postgres.to_owned()))
                .execute(&mut conn)
                .await
                .unwrap();
        }
    }
}

/// Makes every append to an access log fail (and undoes it).
async fn refuse_access_appends(backend: &Backend, refuse: bool) {
    match backend {
        Backend::Sqlite(dir) => {
            let url = format!("sqlite://{}", dir.join("events.db").display());
            let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
            let sql = if refuse {
                "create trigger test_refuse_access before insert on events when new.stream_id like 'access-%' \
                 begin select raise(abort, 'refused by the test'); end;"
            } else {
                "drop trigger test_refuse_access"
            };
            sqlx::raw_sql(sql).execute(&mut conn).await.unwrap();
        }
        Backend::Postgres(url) => {
            let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
            let sql = if refuse {
                "create function vigil.test_refuse_access() returns trigger language plpgsql as $$ begin \
                 if new.stream_id like 'access-%' then raise exception 'refused by the test'; end if; \
                 return new; end $$; \
                 create trigger test_refuse_access before insert on vigil.events for each row \
                 execute function vigil.test_refuse_access();"
            } else {
                "drop trigger test_refuse_access on vigil.events; drop function vigil.test_refuse_access();"
            };
            sqlx::raw_sql(sql).execute(&mut conn).await.unwrap();
        }
    }
}

async fn access_log(client: &Client) -> Vec<Value> {
    let data = client
        .ok(
            "{ accessLog(first: 100) { edges { node { kind actorRole actorHandle query fields reason detail subject actorId } } } }",
            json!({}),
        )
        .await;
    data["accessLog"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .collect()
}

/// Polls the access log until `check` holds (the read model follows the log).
async fn access_log_until(client: &Client, check: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    for _ in 0..100 {
        let log = access_log(client).await;
        if check(&log) {
            return log;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the access log never matched: {:?}", access_log(client).await);
}

async fn roles_two_factor_break_glass_and_the_access_log(backend: Backend) {
    let server = Server::start(&backend);
    let (alice, alice_id, alice_handle) = register(&server, "alice@example.org").await;
    alice
        .ok(
            "mutation { recordHealthLog(input: {vital: \"blood_pressure\", systolic: \"128\", diastolic: \"82\"}) { position } }",
            json!({}),
        )
        .await;

    let support = staff(&server, &backend, "support@vigil.example", "support").await;
    let auditor = staff(&server, &backend, "auditor@vigil.example", "auditor").await;
    let admin = staff(&server, &backend, "admin@vigil.example", "admin").await;

    // Every role outside its rights: FORBIDDEN, for that field alone.
    // An ordinary user may run none of the staff operations (bob reads nobody else either).
    let (bob, bob_id, _) = register(&server, "bob@example.org").await;
    for (group, document, variables) in attempts(&alice_id, &alice_handle) {
        if !allowed(group, "user") || variables.get("s").is_some() {
            let body = bob.raw(&document, variables.clone()).await;
            assert_eq!(
                body["errors"][0]["extensions"]["code"], "FORBIDDEN",
                "a user ran {document}: {body}"
            );
        }
    }
    for (role, member) in [("support", &support), ("auditor", &auditor), ("admin", &admin)] {
        for (group, document, variables) in attempts(&alice_id, &alice_handle) {
            if allowed(group, role) {
                continue; // run for real below
            }
            let body = member.client.raw(&document, variables.clone()).await;
            assert_eq!(
                body["errors"][0]["extensions"]["code"], "FORBIDDEN",
                "{role} ran {document}: {body}"
            );
        }
        // Field level: the health field fails, the rest of the response stands.
        let mixed = member
            .client
            .raw("{ me { handle role } dashboard { latestVitals { vital } } }", json!({}))
            .await;
        assert_eq!(mixed["data"]["me"]["role"], role, "{mixed}");
        assert!(mixed["data"]["dashboard"].is_null(), "{mixed}");
        assert_eq!(mixed["errors"][0]["path"], json!(["dashboard"]), "{mixed}");
        assert_eq!(mixed["errors"][0]["extensions"]["code"], "FORBIDDEN");
    }

    // Support sees account metadata, never health data or the email.
    let meta = support
        .client
        .ok(
            "query($h: String!) { account(handle: $h) { id handle role tier twoFactor disabled lastSeenAt lockedUntil } }",
            json!({ "h": alice_handle }),
        )
        .await;
    assert_eq!(meta["account"]["id"], alice_id.as_str());
    assert_eq!(meta["account"]["role"], "user");
    assert_eq!(meta["account"]["twoFactor"], false);
    assert!(!meta.to_string().contains("alice@example.org"));

    // The admin may read alice's data only under a grant: justification, duration, fresh code.
    let open = "mutation($s: String!, $j: String!, $m: Int!, $c: String!) { openBreakGlass(subject: $s, justification: $j, minutes: $m, totpCode: $c) { id expiresAt position } }";
    let dashboard = "query($s: String) { dashboard(subject: $s) { latestVitals { vital components { value } } } }";
    assert_eq!(
        admin.client.code(dashboard, json!({ "s": alice_id })).await,
        "FORBIDDEN"
    );
    let code_now = admin.enrol_code.clone();
    for (justification, minutes) in [("too short", 10), (JUSTIFICATION, 61), (JUSTIFICATION, 0)] {
        let refused = admin
            .client
            .code(
                open,
                json!({ "s": alice_id, "j": justification, "m": minutes, "c": code_now }),
            )
            .await;
        assert_eq!(refused, "BAD_USER_INPUT", "{justification} {minutes}");
    }
    // The enrolment code's step is spent: the same code, or a wrong one, is refused.
    let replayed = admin
        .client
        .code(
            open,
            json!({ "s": alice_id, "j": JUSTIFICATION, "m": 30, "c": code_now }),
        )
        .await;
    assert_eq!(replayed, "UNAUTHENTICATED");
    next_step().await;
    let grant = admin
        .client
        .ok(
            open,
            json!({ "s": alice_id, "j": JUSTIFICATION, "m": 30, "c": totp_code(&admin.secret, unix_now()) }),
        )
        .await;
    assert!(grant["openBreakGlass"]["id"].is_string());

    // Three staff reads, one of which finds nothing.
    let read = admin.client.ok(dashboard, json!({ "s": alice_id })).await;
    assert_eq!(read["dashboard"]["latestVitals"][0]["vital"], "blood_pressure");
    let logs = admin
        .client
        .ok(
            "query($s: String) { healthLogs(subject: $s, first: 5) { edges { node { id } } } }",
            json!({ "s": alice_id }),
        )
        .await;
    assert_eq!(logs["healthLogs"]["edges"].as_array().unwrap().len(), 1);
    let empty = admin
        .client
        .ok(
            "query($s: String) { bloodwork(subject: $s, first: 5) { edges { node { id } } } }",
            json!({ "s": alice_id }),
        )
        .await;
    assert_eq!(empty["bloodwork"]["edges"], json!([]));
    // The grant opens alice and nobody else.
    assert_eq!(admin.client.code(dashboard, json!({ "s": bob_id })).await, "FORBIDDEN");
    let staff_reads = 3;

    // A read whose access record cannot be written fails and returns nothing.
    refuse_access_appends(&backend, true).await;
    let failed = admin.client.raw(dashboard, json!({ "s": alice_id })).await;
    refuse_access_appends(&backend, false).await;
    assert_eq!(failed["errors"][0]["extensions"]["code"], "INTERNAL", "{failed}");
    assert!(failed["data"]["dashboard"].is_null(), "{failed}");

    // Alice sees each access: who (role, handle), what, why.
    let log = access_log_until(&alice, |log| {
        log.iter().filter(|e| e["kind"] == "data_accessed").count() == staff_reads
    })
    .await;
    let accesses: Vec<&Value> = log.iter().filter(|e| e["kind"] == "data_accessed").collect();
    for access in &accesses {
        assert_eq!(access["actorRole"], "admin");
        assert_eq!(access["actorHandle"], admin.handle.as_str());
        assert_eq!(access["reason"], JUSTIFICATION);
        assert!(access["subject"].is_null() && access["actorId"].is_null(), "{access}");
    }
    let queries: Vec<&str> = accesses.iter().map(|a| a["query"].as_str().unwrap()).collect();
    assert_eq!(queries, ["bloodwork", "healthLogs", "dashboard"]);
    assert!(
        log.iter()
            .any(|e| e["kind"] == "break_glass_opened" && e["reason"] == JUSTIFICATION)
    );
    assert!(
        log.iter()
            .any(|e| e["kind"] == "signed_in" && e["detail"] == "password")
    );
    let stream = format!("access-{alice_id}");
    assert_eq!(events_of_type(&backend, &stream, "DataAccessed").await, staff_reads);

    // The auditor lists access events across people, with subject and actor ids.
    let listed = auditor
        .client
        .ok(
            "{ accessEvents(kind: \"data_accessed\", first: 50) { edges { node { subject actorId actorRole } } } }",
            json!({}),
        )
        .await;
    let listed = listed["accessEvents"]["edges"].as_array().unwrap();
    assert_eq!(listed.len(), staff_reads);
    assert!(listed.iter().all(|e| e["node"]["subject"] == alice_id.as_str()));
    let envelopes = auditor
        .client
        .ok(
            "{ auditLog(first: 1000) { position streamId eventType hash } }",
            json!({}),
        )
        .await;
    assert!(envelopes["auditLog"].as_array().unwrap().len() > 10);

    // The grant expires (its end moved into the past behind the server's back).
    read_db(
        &backend,
        "update break_glass_grants set expires_at = 0",
        "update vigil_read.break_glass_grants set expires_at = 0",
    )
    .await;
    assert_eq!(
        admin.client.code(dashboard, json!({ "s": alice_id })).await,
        "FORBIDDEN"
    );

    // A role change is in force on the next request: the old token is refused.
    cli(
        &backend,
        &[
            "staff",
            "role",
            "--handle",
            &support.handle,
            "--role",
            "user",
            "--reason",
            "left support",
        ],
    );
    assert_eq!(
        support.client.code("{ me { role } }", json!({})).await,
        "UNAUTHENTICATED"
    );
    // An admin disables alice: her token dies, her login answers like a wrong password.
    let disable =
        "mutation($h: String!, $r: String!) { disableAccount(handle: $h, reason: $r) { account { disabled } } }";
    let disabled = admin
        .client
        .ok(disable, json!({ "h": alice_handle, "r": "chargeback fraud" }))
        .await;
    assert_eq!(disabled["disableAccount"]["account"]["disabled"], true);
    assert_eq!(alice.code("{ me { handle } }", json!({})).await, "UNAUTHENTICATED");
    let refused = alice
        .raw(LOGIN, json!({ "e": "alice@example.org", "p": PASSWORD }))
        .await;
    let wrong = alice
        .raw(LOGIN, json!({ "e": "alice@example.org", "p": "wrong-password-123" }))
        .await;
    assert_eq!(refused["errors"][0]["message"], wrong["errors"][0]["message"]);
    admin
        .client
        .ok(
            "mutation($h: String!) { enableAccount(handle: $h, reason: \"resolved\") { position } }",
            json!({ "h": alice_handle }),
        )
        .await;
    let back = alice
        .ok(LOGIN, json!({ "e": "alice@example.org", "p": PASSWORD }))
        .await;
    assert_eq!(back["login"]["status"], "SIGNED_IN");
    // Staff with TOTP sign in in two steps now.
    let again = admin.client.ok(LOGIN, json!({ "e": admin.email, "p": PASSWORD })).await;
    assert_eq!(again["login"]["status"], "SECOND_FACTOR_REQUIRED");
    let logs = server.stop();
    // Nothing secret or personal in the server's log: TOTP secrets, challenges, recovery
    // codes, emails, the justification (it may describe health), the readings.
    let mut never = vec![
        JUSTIFICATION.to_owned(),
        "alice@example.org".to_owned(),
        admin.email.clone(),
        "128".to_owned(),
    ];
    for member in [&support, &auditor, &admin] {
        never.extend(member.secrets.iter().cloned());
    }
    for secret in never {
        assert_eq!(leak(&logs, &secret), None, "{secret} is in the server log");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_two_factor_break_glass_and_the_access_log_on_sqlite() {
    let (_tmp, dir) = sqlite_dir();
    roles_two_factor_break_glass_and_the_access_log(Backend::Sqlite(dir)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_two_factor_break_glass_and_the_access_log_on_postgres() {
    let Some(url) = vigil_tests::fresh_pg_database().await else {
        return;
    };
    roles_two_factor_break_glass_and_the_access_log(Backend::Postgres(url)).await;
}
