//! Bad input through a real server: each case is `BAD_USER_INPUT` naming its argument, variable
//! or input field, and nothing of it is stored. Lab units and plausibility, date windows, dose
//! bounds, kept item ids, vital components, `Int` overflow and a variable not supplied. On
//! SQLite: these rules are the same whatever the backend.

use serde_json::{Value, json};

use crate::harness::{Server, sqlite_dir};

fn refused(body: &Value, case: &str, field: &str) {
    let error = &body["errors"][0];
    assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{case}: {body}");
    assert_eq!(error["extensions"]["field"], field, "{case}: {body}");
    assert_eq!(body["data"], Value::Null, "{case}: nothing answered: {body}");
}

const PANEL: &str =
    "mutation($d: String!, $r: [LabResultInput!]!) { recordBloodwork(drawnAt: $d, results: $r) { panel { id } } }";
const VITAL: &str = "mutation($v: VitalInput!) { recordHealthLog(input: $v) { healthLog { id } } }";
const START: &str = "mutation($items: [ProtocolItemInput!]!, $from: String) { startProtocol(name: \"TRT\", items: $items, effectiveFrom: $from) { protocol { id } } }";
const AMEND: &str = "mutation($id: String!, $items: [ProtocolItemInput!]!) { amendProtocol(id: $id, name: \"TRT\", effectiveFrom: \"2026-02-01\", items: $items) { position } }";
const LOG: &str = "mutation($p: String!, $i: String!, $t: String, $a: String, $u: String) { logDose(protocolId: $p, itemId: $i, takenAt: $t, amount: $a, unit: $u) { dose { id } } }";

fn item(extra: Value) -> Value {
    let mut item = json!({
        "compound": "testosterone_enanthate", "amount": "125", "unit": "mg",
        "route": "im", "schedule": "E3.5D", "start": "2026-01-01",
    });
    if let (Some(item), Some(extra)) = (item.as_object_mut(), extra.as_object()) {
        item.extend(extra.clone());
    }
    item
}

fn result(loinc: Option<&str>, name: Option<&str>, value: &str, unit: &str) -> Value {
    json!([{ "loinc": loinc, "name": name, "value": value, "unit": unit }])
}

#[tokio::test]
async fn bad_input_is_refused_naming_its_field_and_nothing_is_stored() {
    let (_tmp, dir) = sqlite_dir();
    let server = Server::start(&crate::harness::Backend::Sqlite(dir));
    let (client, _, _) = crate::signin::register(&server, "rules@example.org").await;

    let started = client
        .ok(START, json!({ "items": [item(json!({}))], "from": "2026-01-01" }))
        .await;
    let protocol = started["startProtocol"]["protocol"]["id"].as_str().unwrap().to_owned();
    let read = client
        .ok(
            "query($id: String!) { protocol(id: $id) { versions { items { id } } } }",
            json!({ "id": protocol }),
        )
        .await;
    let item_id = read["protocol"]["versions"][0]["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let dose = client
        .ok(LOG, json!({ "p": protocol, "i": item_id, "t": "2026-03-01T09:00:00Z" }))
        .await;
    let dose_id = dose["logDose"]["dose"]["id"].as_str().unwrap().to_owned();
    let drawn = "2026-03-05T07:30:00Z";
    let stranger = "00000000-0000-7000-8000-000000000001";

    let cases: Vec<(&str, &str, Value, &str)> = vec![
        // A catalogued marker only in its own units …
        (
            "testosterone in %",
            PANEL,
            json!({ "d": drawn, "r": result(Some("2986-8"), None, "650", "%") }),
            "results.unit",
        ),
        (
            "testosterone in kg",
            PANEL,
            json!({ "d": drawn, "r": result(Some("2986-8"), None, "650", "kg") }),
            "results.unit",
        ),
        (
            "hematocrit in ng/dL",
            PANEL,
            json!({ "d": drawn, "r": result(Some("4544-3"), None, "45", "ng/dL") }),
            "results.unit",
        ),
        (
            "named, no code",
            PANEL,
            json!({ "d": drawn, "r": result(None, Some("Testosterone"), "650", "%") }),
            "results.unit",
        ),
        // … and within what a body can hold.
        (
            "hematocrit 150 %",
            PANEL,
            json!({ "d": drawn, "r": result(Some("4544-3"), None, "150", "%") }),
            "results.value",
        ),
        (
            "hematocrit 1.5 L/L",
            PANEL,
            json!({ "d": drawn, "r": result(Some("4544-3"), None, "1.5", "L/L") }),
            "results.value",
        ),
        (
            "testosterone 10^12",
            PANEL,
            json!({ "d": drawn, "r": result(Some("2986-8"), None, "1000000000000", "ng/dL") }),
            "results.value",
        ),
        // Dates and instants between 1900 and ten years ahead.
        (
            "drawn in year 0",
            PANEL,
            json!({ "d": "0000-03-05T07:30:00Z", "r": result(Some("4544-3"), None, "45", "%") }),
            "drawnAt",
        ),
        (
            "item start in year 0",
            START,
            json!({ "items": [item(json!({ "start": "0000-01-01" }))] }),
            "items.start",
        ),
        (
            "item end in 9999",
            START,
            json!({ "items": [item(json!({ "end": "9999-12-31" }))] }),
            "items.end",
        ),
        (
            "effective in year 0",
            START,
            json!({ "items": [item(json!({}))], "from": "0000-01-01" }),
            "effectiveFrom",
        ),
        (
            "taken in year 0",
            LOG,
            json!({ "p": protocol, "i": item_id, "t": "0000-01-01T00:00:00Z" }),
            "takenAt",
        ),
        (
            "taken in 2999",
            LOG,
            json!({ "p": protocol, "i": item_id, "t": "2999-01-01T00:00:00Z" }),
            "takenAt",
        ),
        (
            "resumed on 9999-12-31",
            "mutation($id: String!) { resumeProtocol(id: $id, on: \"9999-12-31\") { position } }",
            json!({ "id": protocol }),
            "on",
        ),
        // Doses within their unit's bound.
        (
            "item of 999 999 mg",
            START,
            json!({ "items": [item(json!({ "amount": "999999" }))] }),
            "items.amount",
        ),
        (
            "logged 999 999 mg",
            LOG,
            json!({ "p": protocol, "i": item_id, "a": "999999", "u": "mg" }),
            "amount",
        ),
        (
            "logged 200 000 mcg",
            LOG,
            json!({ "p": protocol, "i": item_id, "a": "200000", "u": "mcg" }),
            "amount",
        ),
        (
            "logged in IU",
            LOG,
            json!({ "p": protocol, "i": item_id, "a": "5000", "u": "IU" }),
            "unit",
        ),
        (
            "corrected to 999 999 mg",
            "mutation($id: String!) { correctDose(id: $id, amount: \"999999\", unit: \"mg\", route: \"im\", takenAt: \"2026-03-01T09:00:00Z\") { position } }",
            json!({ "id": dose_id }),
            "amount",
        ),
        // An amendment keeps only items the protocol has; a definition keeps none.
        (
            "amend an unknown item",
            AMEND,
            json!({ "id": protocol, "items": [item(json!({ "id": stranger }))] }),
            "items.id",
        ),
        (
            "start with an item id",
            START,
            json!({ "items": [item(json!({ "id": stranger }))] }),
            "items.id",
        ),
        // A vital component is named as the input calls it.
        (
            "BP 400/10",
            VITAL,
            json!({ "v": { "vital": "blood_pressure", "systolic": "400", "diastolic": "10" } }),
            "systolic",
        ),
        (
            "BP 120/10",
            VITAL,
            json!({ "v": { "vital": "blood_pressure", "systolic": "120", "diastolic": "10" } }),
            "diastolic",
        ),
        (
            "weight 8 kg",
            VITAL,
            json!({ "v": { "vital": "body_weight", "value": "8", "unit": "kg" } }),
            "value",
        ),
        // async-graphql's own errors: an Int out of range, a variable not supplied.
        (
            "first out of Int",
            "{ protocols(first: 99999999999) { edges { cursor } } }",
            json!({}),
            "first",
        ),
        (
            "variable out of Int",
            "query($n: Int) { doses(first: $n) { edges { cursor } } }",
            json!({ "n": 99_999_999_999_i64 }),
            "n",
        ),
        (
            "Int variable not supplied",
            "query($n: Int!) { bloodwork(first: $n) { edges { cursor } } }",
            json!({}),
            "n",
        ),
        ("variable not supplied", LOG, json!({ "p": protocol }), "i"),
    ];
    for (case, query, variables, field) in &cases {
        refused(&client.raw(query, variables.clone()).await, case, field);
    }

    // Nothing of it was stored: one protocol of one version, one dose, no vitals, no panels.
    let stored = client
        .ok(
            "query($id: String!) { protocols { edges { cursor } } protocol(id: $id) { currentVersion status }
               doses { edges { node { amount } } } healthLogs { edges { cursor } } bloodwork { edges { cursor } } }",
            json!({ "id": protocol }),
        )
        .await;
    assert_eq!(
        stored["protocols"]["edges"].as_array().map(Vec::len),
        Some(1),
        "{stored}"
    );
    assert_eq!(stored["protocol"]["currentVersion"], 1, "{stored}");
    assert_eq!(
        stored["doses"]["edges"],
        json!([{ "node": { "amount": "125" } }]),
        "{stored}"
    );
    assert_eq!(stored["healthLogs"]["edges"], json!([]), "{stored}");
    assert_eq!(stored["bloodwork"]["edges"], json!([]), "{stored}");

    // The same inputs within bounds are accepted: a custom marker keeps any unit, a report
    // name finds its marker, an amendment keeps its own item, extreme but real values pass.
    client
        .ok(
            PANEL,
            json!({ "d": drawn, "r": [
                { "loinc": "2986-8", "value": "30000", "unit": "ng/dL" },
                { "name": "Hematocrit", "value": "85", "unit": "%" },
                { "loinc": "2823-3", "name": "Potassium", "value": "4.2", "unit": "whatever" },
            ] }),
        )
        .await;
    client
        .ok(
            AMEND,
            json!({ "id": protocol, "items": [item(json!({ "id": item_id, "amount": "10000" }))] }),
        )
        .await;
    client
        .ok(
            VITAL,
            json!({ "v": { "vital": "blood_pressure", "systolic": "300", "diastolic": "200" } }),
        )
        .await;
    server.stop();
}

#[tokio::test]
async fn over_a_websocket_async_graphql_errors_get_the_same_code_and_field() {
    let (_tmp, dir) = sqlite_dir();
    let server = Server::start(&crate::harness::Backend::Sqlite(dir));
    let (client, _, _) = crate::signin::register(&server, "socket.rules@example.org").await;
    let token = client.token.clone().unwrap();
    for (query, field) in [
        ("{ protocols(first: 99999999999) { edges { cursor } } }", "first"),
        ("query($n: Int!) { doses(first: $n) { edges { cursor } } }", "n"),
    ] {
        let answer = crate::ws::first_answer(&server.url, &token, query).await;
        // A query's answer is a `next` carrying the response; an operation refused before it
        // runs may come as an `error` carrying the errors.
        let body = match answer["type"].as_str() {
            Some("next") => answer["payload"].clone(),
            Some("error") => json!({ "data": null, "errors": answer["payload"] }),
            _ => panic!("{query}: unexpected answer {answer}"),
        };
        refused(&body, query, field);
    }
    server.stop();
}
