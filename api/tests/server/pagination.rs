//! Cursor pagination through the server, on both backends. Every paged list, walked page by
//! page, returns each row exactly once and in the order of one big page (newest first; rows
//! sharing a time ordered by id), full pages until the last, `hasNextPage` false only there
//! (also when the rows fill the last page exactly) and `hasPreviousPage` after a cursor; a row
//! added during a walk does not shift its pages; the auditors' log walks by position with no
//! gap. A cursor the server did not make is `BAD_USER_INPUT` naming `after` on every list.

use std::collections::HashSet;

use serde_json::{Value, json};

use crate::harness::{Backend, Client, Server, sqlite_dir};
use crate::protocols::start_protocol;
use crate::signin::{LOGIN, PASSWORD, register, staff};

/// One page of `list` (with `args`, e.g. `, vital: "body_weight"`), its rows keyed by `key`.
async fn page(client: &Client, list: &str, args: &str, key: &str, size: i32, after: Option<&str>) -> Value {
    let document = format!(
        "query($first: Int, $after: String) {{ page: {list}(first: $first, after: $after{args}) {{
           edges {{ cursor node {{ key: {key} }} }} pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }} }} }}"
    );
    client.ok(&document, json!({ "first": size, "after": after })).await["page"].clone()
}

fn keys(page: &Value) -> Vec<String> {
    page["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["key"].to_string())
        .collect()
}

/// Walks `list` in pages of `size`, checking each page's shape; returns the rows' keys in
/// order and how many pages it took.
async fn walk(client: &Client, list: &str, args: &str, key: &str, size: i32) -> (Vec<String>, usize) {
    let mut rows = Vec::new();
    let mut after: Option<String> = None;
    for pages in 1.. {
        let page = page(client, list, args, key, size, after.as_deref()).await;
        let edges = page["edges"].as_array().unwrap();
        let info = &page["pageInfo"];
        assert_eq!(info["hasPreviousPage"], after.is_some(), "{list} page {pages}: {page}");
        rows.extend(keys(&page));
        if info["hasNextPage"] == false {
            return (rows, pages);
        }
        assert_eq!(
            edges.len(),
            usize::try_from(size).unwrap(),
            "{list}: only the last page is short"
        );
        assert_eq!(info["startCursor"], edges[0]["cursor"]);
        assert_eq!(info["endCursor"], edges[edges.len() - 1]["cursor"]);
        after = Some(info["endCursor"].as_str().unwrap().to_owned());
        assert!(pages < 100, "{list} never ends");
    }
    unreachable!()
}

/// Walks `list` and compares it with one page of everything: same rows, same order, none
/// twice, in `pages` pages.
async fn walks_whole(client: &Client, list: &str, args: &str, key: &str, size: i32, rows: usize, pages: usize) {
    let (walked, took) = walk(client, list, args, key, size).await;
    let whole = keys(&page(client, list, args, key, 100, None).await);
    assert_eq!(whole.len(), rows, "{list}{args}: {whole:?}");
    assert_eq!(walked, whole, "{list}{args} walked in pages of {size}");
    assert_eq!(
        walked.iter().collect::<HashSet<_>>().len(),
        rows,
        "{list}: a row came twice"
    );
    assert_eq!(took, pages, "{list}{args}: pages of {size}");
}

/// How many rows an access list holds once the sign-ins before it reached it (access events
/// are projected after the answer): the same count twice, 300 ms apart.
async fn settled(client: &Client, list: &str) -> usize {
    let mut last = usize::MAX;
    for _ in 0..30 {
        let now = keys(&page(client, list, "", "position", 100, None).await).len();
        if now == last {
            return now;
        }
        last = now;
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
    panic!("{list} kept growing");
}

async fn fill(client: &Client) -> Vec<String> {
    for n in 0..7 {
        start_protocol(client, &format!("Protocol {n}")).await;
    }
    let (protocol, _, item) = start_protocol(client, "Daily").await;
    // Twelve doses at four instants, three each: ties broken by id across page boundaries.
    let mut doses = Vec::new();
    for day in 1..=4 {
        for _ in 0..3 {
            let d = client
                .ok(
                    "mutation($p: String!, $i: String!, $t: String!) { logDose(protocolId: $p, itemId: $i, takenAt: $t) { dose { id } } }",
                    json!({ "p": protocol, "i": item, "t": format!("2026-03-0{day}T08:00:00Z") }),
                )
                .await;
            doses.push((day, d["logDose"]["dose"]["id"].as_str().unwrap().to_owned()));
        }
    }
    // Nine readings at three instants (four weights, five pressures).
    for n in 0..9 {
        let measured = format!("2026-03-0{}T07:00:00Z", n % 3 + 1);
        let input = if n % 2 == 0 {
            json!({ "vital": "blood_pressure", "systolic": "120", "diastolic": "80", "measuredAt": measured })
        } else {
            json!({ "vital": "body_weight", "value": "80", "unit": "kg", "measuredAt": measured })
        };
        client
            .ok(
                "mutation($in: VitalInput!) { recordHealthLog(input: $in) { position } }",
                json!({ "in": input }),
            )
            .await;
    }
    // Five panels drawn at the same minute: their order is their ids'.
    for _ in 0..5 {
        client
            .ok(
                "mutation { recordBloodwork(drawnAt: \"2026-03-05T07:30:00Z\", results: [{loinc: \"4544-3\", value: \"45\", unit: \"%\"}]) { position } }",
                json!({}),
            )
            .await;
    }
    // Newest first, ties by id descending: what the walk must return.
    doses.sort_by(|a, b| b.cmp(a));
    doses.into_iter().map(|(_, id)| json!(id).to_string()).collect()
}

const BAD_CURSORS: [&str; 6] = [
    "not-a-cursor",
    "zz",
    "3132333435",           // "12345": no separator
    "6e6f6e653a61626364",   // "none:abcd": not a time
    "313a",                 // "1:": no id
    "313a3c7363726970743e", // "1:<script>": not an id
];

async fn walks(backend: Backend) {
    let server = Server::start(&backend);
    let (client, _, _) = register(&server, "pages@example.org").await;
    let expected_doses = fill(&client).await;

    walks_whole(&client, "protocols", "", "id", 3, 8, 3).await;
    walks_whole(&client, "doses", "", "id", 5, 12, 3).await;
    let (walked, _) = walk(&client, "doses", "", "id", 5).await;
    assert_eq!(walked, expected_doses, "newest first, ties by id descending");
    walks_whole(&client, "healthLogs", "", "id", 3, 9, 3).await;
    walks_whole(&client, "healthLogs", ", vital: \"body_weight\"", "id", 3, 4, 2).await;
    walks_whole(&client, "bloodwork", "", "id", 2, 5, 3).await;
    // Four more sign-ins: five entries in the person's access log.
    for _ in 0..4 {
        Client::new(&server)
            .ok(LOGIN, json!({ "e": "pages@example.org", "p": PASSWORD }))
            .await;
    }
    let signed = settled(&client, "accessLog").await;
    assert!(signed >= 5, "the sign-ins reach the access log");
    walks_whole(&client, "accessLog", "", "position", 2, signed, signed.div_ceil(2)).await;

    // A dose logged mid-walk (the newest of all) does not shift the pages after the cursor.
    let first = page(&client, "doses", "", "id", 5, None).await;
    let (protocol, _, item) = start_protocol(&client, "Later").await;
    client
        .ok(
            "mutation($p: String!, $i: String!) { logDose(protocolId: $p, itemId: $i) { position } }",
            json!({ "p": protocol, "i": item }),
        )
        .await;
    let mut rows = keys(&first);
    let mut after = first["pageInfo"]["endCursor"].as_str().unwrap().to_owned();
    loop {
        let next = page(&client, "doses", "", "id", 5, Some(&after)).await;
        rows.extend(keys(&next));
        if next["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = next["pageInfo"]["endCursor"].as_str().unwrap().to_owned();
    }
    assert_eq!(rows, expected_doses);
    assert_eq!(walk(&client, "doses", "", "id", 5).await.0.len(), 13);

    // Cursors the server did not make, on every list.
    let auditor = staff(&server, &backend, "auditor@vigil.example", "auditor").await;
    let lists = [
        (&client, "protocols"),
        (&client, "doses"),
        (&client, "healthLogs"),
        (&client, "bloodwork"),
        (&client, "accessLog"),
        (&auditor.client, "accessEvents"),
    ];
    for (who, list) in lists {
        for cursor in BAD_CURSORS.iter().map(|c| (*c).to_owned()).chain(["ab".repeat(200)]) {
            let document = format!("query($a: String) {{ {list}(after: $a) {{ edges {{ cursor }} }} }}");
            let body = who.raw(&document, json!({ "a": cursor })).await;
            let error = &body["errors"][0]["extensions"];
            assert_eq!(
                (&error["code"], &error["field"]),
                (&json!("BAD_USER_INPUT"), &json!("after")),
                "{list} after {cursor}: {body}"
            );
            assert_eq!(body["data"], Value::Null, "{body}");
        }
    }

    // The auditors' list across people walks like the others.
    register(&server, "someone.else@example.org").await;
    let everyone = settled(&auditor.client, "accessEvents").await;
    walks_whole(
        &auditor.client,
        "accessEvents",
        "",
        "position",
        4,
        everyone,
        everyone.div_ceil(4),
    )
    .await;

    // The auditors' log is paged by position: every envelope once, no gap.
    let all = auditor
        .client
        .ok("{ auditLog(first: 1000) { position } }", json!({}))
        .await["auditLog"]
        .as_array()
        .unwrap()
        .len();
    let mut positions = Vec::new();
    let mut after = 0;
    loop {
        let page = auditor
            .client
            .ok(
                "query($a: Int) { auditLog(first: 25, after: $a) { position } }",
                json!({ "a": after }),
            )
            .await;
        let got: Vec<u64> = page["auditLog"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["position"].as_u64().unwrap())
            .collect();
        let Some(last) = got.last() else { break };
        after = *last;
        positions.extend(got);
    }
    assert!(positions.len() >= all, "the walk saw at least what one page held");
    assert!(
        positions.iter().enumerate().all(|(i, p)| *p == i as u64 + 1),
        "{positions:?}"
    );
    server.stop();
}

#[tokio::test]
async fn every_list_walks_page_by_page_on_sqlite() {
    let (_tmp, dir) = sqlite_dir();
    walks(Backend::Sqlite(dir)).await;
}

#[tokio::test]
async fn every_list_walks_page_by_page_on_postgres() {
    let Some(url) = vigil_tests::fresh_pg_database().await else {
        return;
    };
    walks(Backend::Postgres(url)).await;
}
