//! Erasing someone from the command line while no server runs: the log, the keys and the read
//! models all lose them at once (the read models are plaintext, so waiting for the next
//! server start would leave their rows on disk meanwhile).

use serde_json::json;

use crate::harness::{Backend, Client, Server, cli, sqlite_dir};

/// Whether `needle` is anywhere in `read.db` or its WAL.
fn in_read_files(dir: &std::path::Path, needle: &str) -> bool {
    vigil_tests::in_sqlite_files(dir, "read.db", needle.as_bytes())
}

#[tokio::test]
async fn a_cli_shred_purges_the_read_models_of_a_stopped_server() {
    let (_tmp, dir) = sqlite_dir();
    let backend = Backend::Sqlite(dir.clone());
    let server = Server::start(&backend);
    let mut client = Client::new(&server);
    client
        .ok(
            "mutation { register(email: \"leaving@example.org\", password: \"correct horse battery\") { accepted } }",
            json!({}),
        )
        .await;
    let registered = client
        .ok(
            "mutation { login(email: \"leaving@example.org\", password: \"correct horse battery\") { accessToken me { id } } }",
            json!({}),
        )
        .await;
    client.token = Some(registered["login"]["accessToken"].as_str().unwrap().to_owned());
    let subject = registered["login"]["me"]["id"].as_str().unwrap().to_owned();
    let note = format!("note-{}", uuid::Uuid::new_v4().simple());
    client
        .ok(
            "mutation($n: String!) { recordHealthLog(input: {vital: \"body_weight\", value: \"87.3\", unit: \"kg\", note: $n}) { healthLog { id } } }",
            json!({ "n": note }),
        )
        .await;
    server.stop();
    assert!(
        in_read_files(&dir, &note),
        "the note is in the read model to begin with"
    );

    let out = cli(&backend, &["keys", "shred", "--subject", &subject]);
    assert!(out.contains("read models purged of the subject"), "{out}");
    assert!(
        !in_read_files(&dir, &note),
        "the erased person's note is still in read.db"
    );
}
