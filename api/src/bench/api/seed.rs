//! People for `vigil bench api`: each registers over GraphQL like a real client and gets a
//! realistic history (a two-item protocol, doses, blood pressure and weight readings, two
//! panels) so the dashboard queries read real rows. Must not write to the databases directly:
//! the history goes through the same mutations, projections and read-your-writes as in use.

use anyhow::{Context, bail};
use futures_util::StreamExt;
use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

/// Doses logged per person.
pub const DOSES: u32 = 15;
/// Readings of each of blood pressure and weight per person.
pub const READINGS: u32 = 20;
/// Panels per person.
pub const PANELS: u32 = 2;
/// People seeded at once (registration runs argon2 and is meant to be slow).
const SEEDING_CONCURRENCY: usize = 8;

/// A signed-in person.
#[derive(Debug, Clone)]
pub struct Person {
    /// Their subject id (what the bare baseline is told directly).
    pub id: Uuid,
    /// Their access token (what the GraphQL client sends).
    pub token: String,
}

/// GraphQL over HTTP, as a client sees it.
#[derive(Clone)]
pub struct Gql {
    pub http: reqwest::Client,
    pub url: String,
}

impl Gql {
    /// A POST of `body` (a JSON request) as the caller holding `token`.
    fn post(&self, token: Option<&str>, body: String) -> reqwest::RequestBuilder {
        let req = self
            .http
            .post(&self.url)
            .header("content-type", "application/json")
            .header("accept", "application/graphql-response+json")
            .body(body);
        match token {
            Some(t) => req.bearer_auth(t),
            None => req,
        }
    }

    /// Runs one operation and returns `data`, or fails with the first error.
    pub async fn call(&self, token: Option<&str>, query: &str, variables: Value) -> anyhow::Result<Value> {
        let request = json!({ "query": query, "variables": variables }).to_string();
        let body: Value = self.post(token, request).send().await?.json().await?;
        if let Some(error) = body.get("errors").and_then(|e| e.get(0)) {
            bail!("GraphQL error: {error}");
        }
        Ok(body["data"].clone())
    }
}

/// Checks a GraphQL answer is well-formed JSON with data and no error, without building it
/// in memory: the load phases' client shares the cores with the server it measures.
///
/// # Errors
/// The first GraphQL error, or what is malformed.
pub fn check_answer(bytes: &[u8]) -> anyhow::Result<()> {
    #[derive(serde::Deserialize)]
    struct Answer {
        #[serde(default)]
        data: Option<serde::de::IgnoredAny>,
        #[serde(default)]
        errors: Option<Vec<Value>>,
    }
    let answer: Answer = serde_json::from_slice(bytes)?;
    if let Some(error) = answer.errors.and_then(|e| e.into_iter().next()) {
        bail!("GraphQL error: {error}");
    }
    if answer.data.is_none() {
        bail!("an answer without data");
    }
    Ok(())
}

pub fn rfc3339(at: OffsetDateTime) -> anyhow::Result<String> {
    Ok(at.format(&Rfc3339)?)
}

/// Registers `n` people and writes each one's history.
pub async fn people(gql: &Gql, n: u32) -> anyhow::Result<Vec<Person>> {
    let now = OffsetDateTime::now_utc();
    let results: Vec<anyhow::Result<Person>> = futures_util::stream::iter(0..n)
        .map(|i| person(gql, i, now))
        .buffer_unordered(SEEDING_CONCURRENCY)
        .collect()
        .await;
    results.into_iter().collect()
}

async fn person(gql: &Gql, i: u32, now: OffsetDateTime) -> anyhow::Result<Person> {
    let run = Uuid::new_v4().simple().to_string();
    let credentials = json!({ "e": format!("bench-{i}-{run}@example.org"), "p": format!("bench-passphrase-{run}") });
    gql.call(
        None,
        "mutation($e: String!, $p: String!) { register(email: $e, password: $p) { accepted } }",
        credentials.clone(),
    )
    .await
    .context("register")?;
    let data = gql
        .call(
            None,
            "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken me { id } } }",
            credentials,
        )
        .await
        .context("login")?;
    let token = str_at(&data, &["login", "accessToken"])?.to_owned();
    let id: Uuid = str_at(&data, &["login", "me", "id"])?.parse()?;
    let t = Some(token.as_str());
    let start = (now - Duration::days(60)).date();
    let started = gql
        .call(
            t,
            "mutation($d: String!) { startProtocol(name: \"TRT\", effectiveFrom: $d, items: [
                {compound: \"testosterone_enanthate\", amount: \"125\", unit: \"mg\", route: \"im\", schedule: \"E3.5D\", start: $d},
                {compound: \"anastrozole\", amount: \"0.5\", unit: \"mg\", route: \"oral\", schedule: \"E3D\", start: $d}])
              { protocol { id versions { items { id } } } } }",
            json!({ "d": start.to_string() }),
        )
        .await
        .context("startProtocol")?;
    let protocol = str_at(&started, &["startProtocol", "protocol", "id"])?.to_owned();
    let item = started["startProtocol"]["protocol"]["versions"][0]["items"][0]["id"]
        .as_str()
        .context("startProtocol answered no item id")?
        .to_owned();
    for d in 0..DOSES {
        let taken = now - Duration::days(59) + Duration::hours(84 * i64::from(d));
        gql.call(
            t,
            "mutation($p: String!, $i: String!, $t: String!) { logDose(protocolId: $p, itemId: $i, takenAt: $t) { position } }",
            json!({ "p": protocol, "i": item, "t": rfc3339(taken)? }),
        )
        .await
        .context("logDose")?;
    }
    for r in 0..READINGS {
        let at = now - Duration::days(40) + Duration::days(i64::from(r));
        gql.call(
            t,
            "mutation($a: String!, $b: String!, $s: String!, $d: String!, $w: String!) {
               bp: recordHealthLog(input: {vital: \"blood_pressure\", systolic: $s, diastolic: $d, measuredAt: $a}) { position }
               kg: recordHealthLog(input: {vital: \"body_weight\", value: $w, unit: \"kg\", measuredAt: $b}) { position } }",
            json!({
                "a": rfc3339(at)?,
                "b": rfc3339(at + Duration::minutes(5))?,
                "s": (118 + r % 15).to_string(),
                "d": (76 + r % 9).to_string(),
                "w": format!("{}.{}", 85 + r % 4, r % 10),
            }),
        )
        .await
        .context("recordHealthLog")?;
    }
    for p in 0..PANELS {
        let drawn = now - Duration::days(30 * i64::from(PANELS - p));
        gql.call(
            t,
            "mutation($d: String!, $t: String!) { recordBloodwork(drawnAt: $d, labName: \"City Lab\", results: [
                {loinc: \"2986-8\", name: \"Testosterone\", value: $t, unit: \"ng/dL\"},
                {loinc: \"4544-3\", name: \"Hematocrit\", value: \"49.5\", unit: \"%\"}]) { position } }",
            json!({ "d": rfc3339(drawn)?, "t": (900 + 150 * p).to_string() }),
        )
        .await
        .context("recordBloodwork")?;
    }
    Ok(Person { id, token })
}

fn str_at<'a>(data: &'a Value, path: &[&str]) -> anyhow::Result<&'a str> {
    let mut v = data;
    for p in path {
        v = &v[*p];
    }
    v.as_str()
        .with_context(|| format!("the answer has no {}", path.join(".")))
}
