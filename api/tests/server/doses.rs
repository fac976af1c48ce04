//! The dose log through the server, on both backends: doses logged, skipped, corrected and
//! retracted, each visible in `doses` and counted by `adherence` as the domain's policy says
//! (two hours' grace, a skip names its slot, a retracted dose leaves its slot missed); and
//! `estimatedLevels` drawing a curve from the doses: nothing before the first, a rise after
//! each, a decay after the last; injection sites logged, corrected and read back. What the
//! rules refuse is `CONFLICT`; someone else's protocol is `NOT_FOUND`; bad ranges and sites
//! name their argument.

use serde_json::{Value, json};

use crate::harness::{Backend, Client, Server, sqlite_dir};
use crate::protocols::start_protocol;
use crate::signin::register;

const LOG: &str = "mutation($p: String!, $i: String!, $t: String!) { logDose(protocolId: $p, itemId: $i, takenAt: $t) { dose { id outcome takenAt } } }";
const SKIP: &str = "mutation($p: String!, $i: String!, $s: String!) { skipDose(protocolId: $p, itemId: $i, scheduledFor: $s, reason: \"nausea\") { dose { id outcome amount takenAt scheduledFor } position } }";
const CORRECT: &str = "mutation($id: String!, $t: String!) { correctDose(id: $id, amount: \"1\", unit: \"mg\", route: \"oral\", takenAt: $t, reason: \"wrong time\") { dose { amount takenAt corrections } } }";
const RETRACT: &str =
    "mutation($id: String!) { retractDose(id: $id, reason: \"logged twice\") { dose { retracted } } }";
const ADHERENCE: &str = "query($p: String!) { adherence(protocolId: $p, from: \"2026-03-01T00:00:00Z\", to: \"2026-03-05T00:00:00Z\") { itemId compound due onTime late skipped missed onTimePercent } }";
const LEVELS: &str = "query($p: String!, $from: String!, $to: String!) { estimatedLevels(protocolId: $p, from: $from, to: $to) { substance unmodelledDoses points { at value } } }";

async fn log(client: &Client, protocol: &str, item: &str, at: &str) -> String {
    let d = client.ok(LOG, json!({ "p": protocol, "i": item, "t": at })).await;
    assert_eq!(d["logDose"]["dose"]["outcome"], "taken");
    d["logDose"]["dose"]["id"].as_str().unwrap().to_owned()
}

/// The counts of one compound's item, as (due, onTime, late, skipped, missed, onTimePercent).
async fn counts(client: &Client, protocol: &str, compound: &str) -> Value {
    let data = client.ok(ADHERENCE, json!({ "p": protocol })).await;
    let item = data["adherence"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["compound"] == compound)
        .unwrap_or_else(|| panic!("no {compound} in {data}"))
        .clone();
    json!([
        item["due"],
        item["onTime"],
        item["late"],
        item["skipped"],
        item["missed"],
        item["onTimePercent"]
    ])
}

async fn doses_and_adherence(backend: Backend) {
    let server = Server::start(&backend);
    let (client, _, _) = register(&server, "doses@example.org").await;
    let (protocol, te, ai) = start_protocol(&client, "Cycle").await;

    // Anastrozole is due daily at 08:00: four slots from 1 to 4 March. The 1st on time, the
    // 2nd four hours late, the 3rd skipped by name, the 4th never taken.
    let first = log(&client, &protocol, &ai, "2026-03-01T08:30:00Z").await;
    let second = log(&client, &protocol, &ai, "2026-03-02T12:00:00Z").await;
    let skipped = client
        .ok(SKIP, json!({ "p": protocol, "i": ai, "s": "2026-03-03T08:00:00Z" }))
        .await;
    let skip = &skipped["skipDose"]["dose"];
    assert_eq!(
        (
            &skip["outcome"],
            &skip["amount"],
            &skip["takenAt"],
            &skip["scheduledFor"]
        ),
        (
            &json!("skipped"),
            &Value::Null,
            &Value::Null,
            &json!("2026-03-03T08:00:00Z")
        ),
        "{skipped}"
    );
    let skip_id = skip["id"].as_str().unwrap().to_owned();
    // Testosterone every 3.5 days from 1 January 09:00: one slot in the window, 1 March
    // 21:00 (the next is 5 March 09:00), taken on time.
    log(&client, &protocol, &te, "2026-03-01T21:10:00Z").await;

    assert_eq!(
        counts(&client, &protocol, "anastrozole").await,
        json!([4, 1, 1, 1, 1, "25.0"])
    );
    assert_eq!(
        counts(&client, &protocol, "testosterone_enanthate").await,
        json!([1, 1, 0, 0, 0, "100.0"])
    );

    // Corrected to 08:45 the late dose becomes on time; the correction is what the log shows.
    let corrected = client
        .ok(CORRECT, json!({ "id": second, "t": "2026-03-02T08:45:00Z" }))
        .await;
    assert_eq!(
        corrected["correctDose"]["dose"],
        json!({ "amount": "1", "takenAt": "2026-03-02T08:45:00Z", "corrections": 1 })
    );
    assert_eq!(
        counts(&client, &protocol, "anastrozole").await,
        json!([4, 2, 0, 1, 1, "50.0"])
    );

    // Retracted, the first dose no longer covers its slot.
    let retracted = client.ok(RETRACT, json!({ "id": first })).await;
    assert_eq!(retracted["retractDose"]["dose"]["retracted"], true);
    assert_eq!(
        counts(&client, &protocol, "anastrozole").await,
        json!([4, 1, 0, 1, 2, "25.0"])
    );

    // The rules: a skip has no amount to correct; a retracted dose is final.
    let again = json!({ "id": skip_id, "t": "2026-03-03T08:00:00Z" });
    assert_eq!(client.code(CORRECT, again).await, "CONFLICT");
    assert_eq!(client.code(RETRACT, json!({ "id": first })).await, "CONFLICT");
    let late = json!({ "id": first, "t": "2026-03-01T08:00:00Z" });
    assert_eq!(client.code(CORRECT, late).await, "CONFLICT");

    // The log as read back: newest first, each entry as last changed.
    let listed = client
        .ok(
            "{ doses(first: 10) { edges { node { id outcome amount takenAt scheduledFor corrections retracted } } } }",
            json!({}),
        )
        .await;
    let by_id = |id: &str| {
        listed["doses"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| &e["node"])
            .find(|n| n["id"] == id)
            .unwrap_or_else(|| panic!("{id} not listed: {listed}"))
            .clone()
    };
    assert_eq!(listed["doses"]["edges"].as_array().unwrap().len(), 4);
    assert_eq!(by_id(&first)["retracted"], true);
    assert_eq!(
        (&by_id(&second)["amount"], &by_id(&second)["corrections"]),
        (&json!("1"), &json!(1))
    );
    assert_eq!(by_id(&skip_id)["outcome"], "skipped");

    // Without a window: the last 30 days, in which every daily slot went untaken (one may
    // still be within its grace, so not yet due).
    let recent = client
        .ok(
            "query($p: String!) { adherence(protocolId: $p) { compound due missed onTime } }",
            json!({ "p": protocol }),
        )
        .await;
    let daily = recent["adherence"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["compound"] == "anastrozole")
        .unwrap();
    let due = daily["due"].as_u64().unwrap();
    assert!((29..=30).contains(&due), "{recent}");
    assert_eq!(
        (daily["missed"].as_u64(), daily["onTime"].as_u64()),
        (Some(due), Some(0))
    );

    // Someone else's protocol does not exist for them; a malformed id names its argument.
    let (other, _, _) = register(&server, "other@example.org").await;
    assert_eq!(other.code(ADHERENCE, json!({ "p": protocol })).await, "NOT_FOUND");
    assert_eq!(
        other
            .code(SKIP, json!({ "p": protocol, "i": ai, "s": "2026-03-03T08:00:00Z" }))
            .await,
        "NOT_FOUND"
    );
    let bad = client.raw(ADHERENCE, json!({ "p": "nope" })).await;
    assert_eq!(bad["errors"][0]["extensions"]["field"], "protocolId", "{bad}");
    server.stop();
}

/// `at` of a level point as seconds since the epoch.
fn unix(at: &Value) -> i64 {
    let at = time::OffsetDateTime::parse(at.as_str().unwrap(), &time::format_description::well_known::Rfc3339).unwrap();
    at.unix_timestamp()
}

async fn levels(backend: Backend) {
    let server = Server::start(&backend);
    let (client, _, _) = register(&server, "levels@example.org").await;
    let (protocol, te, _) = start_protocol(&client, "Cycle").await;
    let first = "2026-03-01T21:00:00Z";
    let second = "2026-03-05T09:00:00Z";
    log(&client, &protocol, &te, first).await;
    log(&client, &protocol, &te, second).await;

    let window = json!({ "p": protocol, "from": "2026-02-28T00:00:00Z", "to": "2026-03-20T00:00:00Z" });
    let data = client.ok(LEVELS, window.clone()).await;
    let series = data["estimatedLevels"].as_array().unwrap();
    assert_eq!(series.len(), 1, "only testosterone was taken: {data}");
    assert_eq!(series[0]["substance"], "testosterone");
    assert_eq!(series[0]["unmodelledDoses"], 0);
    let points = series[0]["points"].as_array().unwrap();
    // Every 6 hours over the 20 days, both ends included.
    assert_eq!(points.len(), 20 * 4 + 1);
    assert_eq!(points[0]["at"], "2026-02-28T00:00:00Z");
    assert!(
        points
            .windows(2)
            .all(|w| unix(&w[1]["at"]) - unix(&w[0]["at"]) == 6 * 3600)
    );
    let value = |p: &Value| p["value"].as_f64().unwrap();
    assert!(points.iter().all(|p| value(p).is_finite() && value(p) >= 0.0), "{data}");
    let (first, second) = (unix(&json!(first)), unix(&json!(second)));
    assert!(
        points
            .iter()
            .filter(|p| unix(&p["at"]) < first)
            .all(|p| value(p) == 0.0),
        "nothing before the first dose: {data}"
    );
    let (peak_at, peak) = points
        .iter()
        .map(|p| (unix(&p["at"]), value(p)))
        .fold((0, 0.0), |best, p| if p.1 > best.1 { p } else { best });
    assert!(peak > 0.0);
    assert!(peak_at > second, "the second dose adds to the first: peak at {peak_at}");
    let before_second = points
        .iter()
        .filter(|p| unix(&p["at"]) <= second)
        .map(value)
        .fold(0.0, f64::max);
    assert!(before_second > 0.0 && before_second < peak, "{data}");
    let last = value(points.last().unwrap());
    assert!(last < peak / 2.0, "decays after the last dose: {last} vs {peak}");

    // A retracted dose no longer counts: the curve starts with the second dose.
    let doses = client
        .ok("{ doses(first: 5) { edges { node { id takenAt } } } }", json!({}))
        .await;
    let earliest = doses["doses"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["node"]["takenAt"] == "2026-03-01T21:00:00Z")
        .unwrap()["node"]["id"]
        .clone();
    client
        .ok(
            "mutation($id: String!) { retractDose(id: $id) { position } }",
            json!({ "id": earliest }),
        )
        .await;
    let data = client.ok(LEVELS, window).await;
    let points = data["estimatedLevels"][0]["points"].as_array().unwrap();
    assert!(
        points
            .iter()
            .filter(|p| unix(&p["at"]) < second)
            .all(|p| value(p) == 0.0),
        "{data}"
    );
    assert!(points.iter().any(|p| value(p) > 0.0));

    // Ranges: backwards or over a year name `to`; someone else's protocol is not found.
    for (from, to) in [
        ("2026-03-10T00:00:00Z", "2026-03-01T00:00:00Z"),
        ("2025-01-01T00:00:00Z", "2026-03-01T00:00:00Z"),
    ] {
        let body = client
            .raw(LEVELS, json!({ "p": protocol, "from": from, "to": to }))
            .await;
        assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], "to", "{body}");
    }
    let (other, _, _) = register(&server, "nosy@example.org").await;
    let theirs = json!({ "p": protocol, "from": "2026-02-28T00:00:00Z", "to": "2026-03-20T00:00:00Z" });
    assert_eq!(other.code(LEVELS, theirs).await, "NOT_FOUND");
    server.stop();
}

const LOG_AT: &str = "mutation($p: String!, $i: String!, $s: InjectionSiteInput) { logDose(protocolId: $p, itemId: $i, takenAt: \"2026-03-01T21:10:00Z\", site: $s) { dose { id route site { area side } } } }";
const CORRECT_AT: &str = "mutation($id: String!, $r: String!, $s: InjectionSiteInput) { correctDose(id: $id, amount: \"125\", unit: \"mg\", route: $r, takenAt: \"2026-03-01T21:10:00Z\", site: $s) { dose { route site { area side } } } }";
const CORRECT_KEEP: &str = "mutation($id: String!, $r: String!) { correctDose(id: $id, amount: \"120\", unit: \"mg\", route: $r, takenAt: \"2026-03-01T21:10:00Z\") { dose { amount route site { area side } } } }";

/// A dose's injection site goes in through `logDose` and `correctDose` and comes back in
/// `doses`; what the rules refuse names `site` (or `site.area`, `site.side`).
async fn sites(backend: Backend) {
    let server = Server::start(&backend);
    let (client, _, _) = register(&server, "sites@example.org").await;
    let (protocol, te, ai) = start_protocol(&client, "Sites").await;
    let glute = json!({ "area": "glute", "side": "left" });
    let logged = client.ok(LOG_AT, json!({ "p": protocol, "i": te, "s": glute })).await;
    let dose = &logged["logDose"]["dose"];
    assert_eq!(dose["site"], glute, "{logged}");
    let id = dose["id"].as_str().unwrap().to_owned();
    let listed = client
        .ok("{ doses { edges { node { id site { area side } } } } }", json!({}))
        .await;
    assert_eq!(listed["doses"]["edges"][0]["node"]["site"], glute, "{listed}");

    // Refusals name the field: an oral dose takes no site, an unknown area or side is named.
    for (vars, field) in [
        (json!({ "p": protocol, "i": ai, "s": { "area": "glute" } }), "site"),
        (json!({ "p": protocol, "i": te, "s": { "area": "elbow" } }), "site.area"),
        (
            json!({ "p": protocol, "i": te, "s": { "area": "quad", "side": "middle" } }),
            "site.side",
        ),
    ] {
        let body = client.raw(LOG_AT, vars).await;
        assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], field, "{body}");
    }

    // A correction moves the site; one that leaves it out keeps it; null removes it; a route
    // that takes none drops it; a site on an oral correction is refused naming `site`.
    let delt = json!({ "area": "deltoid", "side": "right" });
    let moved = client.ok(CORRECT_AT, json!({ "id": id, "r": "im", "s": delt })).await;
    assert_eq!(moved["correctDose"]["dose"]["site"], delt, "{moved}");
    let kept = client.ok(CORRECT_KEEP, json!({ "id": id, "r": "subq" })).await;
    assert_eq!(kept["correctDose"]["dose"]["site"], delt, "{kept}");
    let cleared = client.ok(CORRECT_AT, json!({ "id": id, "r": "im", "s": null })).await;
    assert_eq!(cleared["correctDose"]["dose"]["site"], Value::Null, "{cleared}");
    client.ok(CORRECT_AT, json!({ "id": id, "r": "im", "s": delt })).await;
    let oral = client.ok(CORRECT_KEEP, json!({ "id": id, "r": "oral" })).await;
    assert_eq!(oral["correctDose"]["dose"]["site"], Value::Null, "{oral}");
    let refused = client
        .raw(CORRECT_AT, json!({ "id": id, "r": "oral", "s": delt }))
        .await;
    assert_eq!(refused["errors"][0]["extensions"]["field"], "site", "{refused}");
    server.stop();
}

#[tokio::test]
async fn doses_are_skipped_corrected_and_retracted_and_adherence_counts_them_on_sqlite() {
    let (_tmp, dir) = sqlite_dir();
    doses_and_adherence(Backend::Sqlite(dir)).await;
}

#[tokio::test]
async fn doses_are_skipped_corrected_and_retracted_and_adherence_counts_them_on_postgres() {
    let Some(url) = vigil_tests::fresh_pg_database().await else {
        return;
    };
    doses_and_adherence(Backend::Postgres(url)).await;
}

#[tokio::test]
async fn estimated_levels_follow_the_doses_on_sqlite() {
    let (_tmp, dir) = sqlite_dir();
    levels(Backend::Sqlite(dir)).await;
}

#[tokio::test]
async fn estimated_levels_follow_the_doses_on_postgres() {
    let Some(url) = vigil_tests::fresh_pg_database().await else {
        return;
    };
    levels(Backend::Postgres(url)).await;
}

#[tokio::test]
async fn injection_sites_go_in_and_come_back_on_sqlite() {
    let (_tmp, dir) = sqlite_dir();
    sites(Backend::Sqlite(dir)).await;
}

#[tokio::test]
async fn injection_sites_go_in_and_come_back_on_postgres() {
    let Some(url) = vigil_tests::fresh_pg_database().await else {
        return;
    };
    sites(Backend::Postgres(url)).await;
}
