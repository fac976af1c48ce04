//! Row-level security on the Postgres read models (ADR 0006): the catalog check passes on a
//! migrated database and fails when a table stops forcing RLS; as `vigil_reader`, a
//! transaction scoped to person A sees A's rows only, even without a `user_id` filter, and
//! one with no subject set sees nothing, also on the same pooled connection right after A's
//! (nothing is carried between transactions). Scoped reads through the crate's API return the
//! subject's rows and leave no transaction open once the subject is gone.
#![allow(clippy::expect_used)]

mod support;

use sqlx::{Connection, Executor, PgConnection};
use support::{HealthStream, started, stopped, weight_at};
use time::OffsetDateTime;
use uuid::Uuid;
use vigil_eventstore::Location;
use vigil_projections::read::{self, PageRequest};
use vigil_projections::row_security_problems;

async fn count(conn: &mut PgConnection, subject: Option<Uuid>, filter: &str) -> i64 {
    let mut tx = conn.begin().await.expect("begin");
    tx.execute("set local role vigil_reader").await.expect("role");
    if let Some(subject) = subject {
        sqlx::query("select set_config('vigil.subject', $1, true)")
            .bind(subject.to_string())
            .execute(&mut *tx)
            .await
            .expect("set subject");
    }
    let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "select count(*) from vigil_read.health_logs {filter}"
    )))
    .fetch_one(&mut *tx)
    .await
    .expect("count");
    tx.commit().await.expect("commit");
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reader_role_sees_one_subject_and_nothing_without_one() {
    let Some(url) = vigil_tests::fresh_pg_database().await else {
        return;
    };
    let location = Location::Postgres(url.clone());
    let (store, db, runner) = started(&location).await;
    assert_eq!(row_security_problems(&db).await.expect("check"), Vec::<String>::new());

    let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
    for (person, readings) in [(a, 2), (b, 3)] {
        let mut health = HealthStream::new(person);
        for i in 0..readings {
            let at = OffsetDateTime::now_utc() - time::Duration::minutes(i);
            health.record(&store, &runner, weight_at(at, None)).await;
        }
    }

    let mut conn = PgConnection::connect(&url).await.expect("connect");
    assert_eq!(count(&mut conn, Some(a), "").await, 2, "A's rows, no filter needed");
    assert_eq!(count(&mut conn, Some(a), &format!("where user_id = '{b}'")).await, 0);
    assert_eq!(count(&mut conn, Some(b), "").await, 3);
    // Right after B's transaction on the same connection: nothing carried over.
    assert_eq!(count(&mut conn, None, "").await, 0, "no subject, no rows");
    // The reader cannot write read models either.
    let mut tx = conn.begin().await.expect("begin");
    tx.execute("set local role vigil_reader").await.expect("role");
    let write = tx.execute("delete from vigil_read.health_logs").await;
    assert!(write.is_err(), "vigil_reader deleted rows: {write:?}");
    drop(tx);

    // Through the crate: a subject's scoped reads return its rows.
    let mint = db.take_subject_mint().expect("mint");
    let page = PageRequest {
        first: 100,
        after: None,
    };
    let rows = read::health_logs(&db, &mint.vouch(b), None, None, None, &page)
        .await
        .expect("read");
    assert_eq!(rows.items.len(), 3);
    // The subject's transaction ended with it: no connection stays idle in a transaction
    // (holding locks a rebuild would wait for).
    let mut idle: i64 = -1;
    for _ in 0..100 {
        idle = sqlx::query_scalar(
            "select count(*) from pg_stat_activity where datname = current_database() \
             and state = 'idle in transaction' and pid <> pg_backend_pid()",
        )
        .fetch_one(&mut conn)
        .await
        .expect("activity");
        if idle == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(idle, 0, "a subject's read transaction outlived it");

    // The check fails when a table stops forcing RLS.
    conn.execute("alter table vigil_read.doses no force row level security")
        .await
        .expect("alter");
    let problems = row_security_problems(&db).await.expect("check");
    assert_eq!(
        problems,
        vec!["vigil_read.doses does not force row-level security".to_owned()]
    );
    conn.execute("alter table vigil_read.doses force row level security")
        .await
        .expect("alter");
    conn.close().await.expect("close");
    stopped(store, db, runner).await;
}
