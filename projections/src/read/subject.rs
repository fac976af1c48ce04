//! Whose health rows a read may touch. Every read of health data (protocols, doses, vitals,
//! bloodwork) takes a [`Subject`], and outside this crate a `Subject` can only be made by the
//! one [`SubjectMint`] a [`ReadDb`](crate::ReadDb) hands out. The api gives that mint to its
//! access gate, which vouches for a subject only after checking the caller's right to read it
//! (the owner, or an admin under an open break-glass grant, recorded before the read). A
//! resolver that forgets the check has no `Subject` to pass: it does not compile.
//!
//! On Postgres a `Subject` is also the scope the database enforces (row-level security, ADR
//! 0006): each read runs as `vigil_reader` in its own transaction that sets `vigil.subject` to
//! this person (`begin` and `set_config` sent together in one round trip; the commit is a
//! second), so even a query that forgot its `user_id` filter sees this person's rows only,
//! and nothing outlives the read: no identity on a pooled connection, no transaction left
//! open holding locks.
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
}

impl Subject {
    fn new(id: Uuid) -> Self {
        Subject { id }
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
        let mut tx = scope(pool, subject.id).await?;
        let rows = self.fetch_all(&mut *tx).await?;
        tx.commit().await?;
        Ok(rows)
    }

    async fn fetch_optional_for(self, db: &ReadDb, subject: &Subject) -> Result<Option<AnyRow>> {
        let Some(pool) = db.subject_pool() else {
            return Ok(self.fetch_optional(db.pool()).await?);
        };
        let mut tx = scope(pool, subject.id).await?;
        let row = self.fetch_optional(&mut *tx).await?;
        tx.commit().await?;
        Ok(row)
    }
}

/// A `vigil_reader` transaction scoped to `id`.
async fn scope(pool: &sqlx::AnyPool, id: Uuid) -> Result<Transaction<'static, Any>> {
    // The id is a `Uuid` we format (hex and dashes), never text from a client, so it can sit
    // in the one statement that begins the transaction: one round trip instead of two.
    let begin = format!("begin; select set_config('vigil.subject', '{id}', true)");
    Ok(pool.begin_with(sqlx::AssertSqlSafe(begin)).await?)
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
