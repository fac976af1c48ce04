//! Several `vigil serve` processes started at the same moment on an empty store all come up
//! (migrations, the master key's registration, the system secrets and the read models are
//! created once, whoever gets there first), and then serve one store: a person registered
//! on one signs in on each of the others.

use serde_json::json;

use crate::harness::{Backend, Client, Server, sqlite_dir};
use crate::signin::{LOGIN, PASSWORD, register};

/// Processes per start; rounds of fresh stores.
const NODES: usize = 3;
const ROUNDS: usize = 3;

async fn all_come_up(backend: &Backend) {
    let servers = Server::start_many(backend, NODES);
    register(&servers[0], "erin@example.org").await;
    for server in &servers {
        let data = Client::new(server)
            .ok(LOGIN, json!({ "e": "erin@example.org", "p": PASSWORD }))
            .await;
        assert_eq!(data["login"]["status"], "SIGNED_IN", "{data}");
    }
    for server in servers {
        server.stop();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_servers_started_at_once_on_an_empty_postgres_all_come_up() {
    for _ in 0..ROUNDS {
        let Some(url) = vigil_tests::fresh_pg_database().await else {
            return;
        };
        all_come_up(&Backend::Postgres(url)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_servers_started_at_once_on_an_empty_sqlite_dir_all_come_up() {
    for _ in 0..ROUNDS {
        let (_tmp, dir) = sqlite_dir();
        all_come_up(&Backend::Sqlite(dir)).await;
    }
}
