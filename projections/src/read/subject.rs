//! Whose health rows a read may touch. Every read of health data (protocols, doses, vitals,
//! bloodwork) takes a [`Subject`], and outside this crate a `Subject` can only be made by the
//! one [`SubjectMint`] a [`ReadDb`](crate::ReadDb) hands out. The api gives that mint to its
//! access gate, which vouches for a subject only after checking the caller's right to read it
//! (the owner, or an admin under an open break-glass grant, recorded before the read). A
//! resolver that forgets the check has no `Subject` to pass: it does not compile.
//!
//! On Postgres a `Subject` is also the scope the database enforces (row-level security, ADR
//! 0006): its first read opens a transaction as `vigil_reader` that sets `vigil.subject` to
//! this person (`begin` and `set_config` in one round trip), every later read of the same
//! `Subject` runs in it, and dropping the `Subject` rolls it back (it only read) off the
//! request's path, in the same exchange as the pool's release check. So a request pays one round trip for its scope however
//! many queries it makes, a query that forgot its `user_id` filter still sees this person's
//! rows only, and no identity stays on a pooled connection. A `Subject` lives as long as one
//! resolver: a transaction held longer would keep its table locks (a rebuild's `TRUNCATE`
//! would wait for it).
//! Must not check rights itself: that needs roles, grants and the access log, which are the
//! api's.

use std::fmt;
use std::sync::{Arc, Mutex};

use sqlx::any::{AnyArguments, AnyRow};
use sqlx::query::Query;
use sqlx::{Any, Transaction};
use uuid::Uuid;

use crate::db::ReadDb;
use crate::error::Result;

/// Proof that the holder may read `id`'s health rows.
pub struct Subject {
    id: Uuid,
    /// Postgres: the `vigil_reader` transaction scoped to this person, opened on first use.
    scope: tokio::sync::Mutex<Option<Transaction<'static, Any>>>,
}

impl Subject {
    fn new(id: Uuid) -> Self {
        Subject {
            id,
            scope: tokio::sync::Mutex::new(None),
        }
    }

    /// The person.
    pub fn id(&self) -> Uuid {
        self.id
    }
}

/// Runs a read of a subject's rows in the subject's scope.
pub(crate) trait Scoped {
    /// Every row.
    async fn fetch_all_for(self, db: &ReadDb, subject: &Subject) -> Result<Vec<AnyRow>>;
    /// At most one row.
    async fn fetch_optional_for(self, db: &ReadDb, subject: &Subject) -> Result<Option<AnyRow>>;
}

impl Scoped for Query<'_, Any, AnyArguments> {
    async fn fetch_all_for(self, db: &ReadDb, subject: &Subject) -> Result<Vec<AnyRow>> {
        let Some(pool) = db.subject_pool() else {
            return Ok(self.fetch_all(db.pool()).await?);
        };
        let mut scope = subject.scope.lock().await;
        let tx = open(&mut scope, pool, subject.id).await?;
        let rows = self.fetch_all(&mut **tx).await;
        ended_on_error(&mut scope, rows)
    }

    async fn fetch_optional_for(self, db: &ReadDb, subject: &Subject) -> Result<Option<AnyRow>> {
        let Some(pool) = db.subject_pool() else {
            return Ok(self.fetch_optional(db.pool()).await?);
        };
        let mut scope = subject.scope.lock().await;
        let tx = open(&mut scope, pool, subject.id).await?;
        let row = self.fetch_optional(&mut **tx).await;
        ended_on_error(&mut scope, row)
    }
}

/// The subject's transaction, begun on first use.
async fn open<'a>(
    scope: &'a mut Option<Transaction<'static, Any>>,
    pool: &sqlx::AnyPool,
    id: Uuid,
) -> Result<&'a mut Transaction<'static, Any>> {
    if let Some(tx) = scope {
        return Ok(tx);
    }
    // The id is a `Uuid` we format (hex and dashes), never text from a client, so it can sit
    // in the one statement that begins the transaction: one round trip instead of two.
    let begin = format!("begin; select set_config('vigil.subject', '{id}', true)");
    let tx = pool.begin_with(sqlx::AssertSqlSafe(begin)).await?;
    Ok(scope.insert(tx))
}

/// A failed statement aborts a Postgres transaction: end it, so the next read opens another.
fn ended_on_error<T>(scope: &mut Option<Transaction<'static, Any>>, result: sqlx::Result<T>) -> Result<T> {
    if result.is_err() {
        end(scope.take());
    }
    Ok(result?)
}

/// Ends `tx` without a round trip of its own. Dropping an open sqlx transaction queues its
/// `ROLLBACK` on the connection, and returning a connection to the pool always sends a
/// liveness `Sync` and waits for the answer (sqlx's release check), which flushes the queued
/// rollback with it: the scope ends in that one exchange, before the connection is idle in
/// the pool. (A spawned `rollback().await` cost a round trip more, then the release check
/// its own.)
fn end(tx: Option<Transaction<'static, Any>>) {
    drop(tx);
}

impl Drop for Subject {
    fn drop(&mut self) {
        end(self.scope.get_mut().take());
    }
}

impl fmt::Debug for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Subject({})", self.id)
    }
}

/// The only way to make a [`Subject`] outside this crate. Not `Clone`: whoever holds it is the
/// process's one access gate.
pub struct SubjectMint {
    _only_from_read_db: (),
}

impl SubjectMint {
    /// Vouches that the caller's right to read `id` was checked.
    pub fn vouch(&self, id: Uuid) -> Subject {
        Subject::new(id)
    }
}

impl fmt::Debug for SubjectMint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SubjectMint")
    }
}

/// The mint slot a `ReadDb` and its clones share: taken once.
#[derive(Clone)]
pub(crate) struct MintSlot(Arc<Mutex<Option<SubjectMint>>>);

impl Default for MintSlot {
    fn default() -> Self {
        MintSlot(Arc::new(Mutex::new(Some(SubjectMint { _only_from_read_db: () }))))
    }
}

impl MintSlot {
    pub(crate) fn take(&self) -> Option<SubjectMint> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take()
    }
}

impl fmt::Debug for MintSlot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MintSlot")
    }
}
