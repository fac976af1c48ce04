//! The key vault: wrapped data keys per subject, the shredding fence, master-key versions, and
//! an in-memory cache of unwrapped keys. Lives apart from the log (own file or schema and
//! role). Must not read or write events.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use sqlx::Row;
use uuid::Uuid;

use crate::crypto::{DataKey, MasterKey, WrappedKey};
use crate::db::{Db, begin_write, on_db};
use crate::error::{Result, StoreError};
use crate::time::now_micros;

/// How long an unwrapped key may be served from memory before the vault is asked again. It
/// bounds how long another process's shredding can go unnoticed here.
const CACHE_TTL: Duration = Duration::from_secs(60);

/// What `rotate_master` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MasterRotation {
    /// The new master key's version.
    pub kek_version: i32,
    /// Number of data keys re-wrapped.
    pub rewrapped: u64,
}

#[derive(Default)]
struct Cache {
    by_id: HashMap<Uuid, (Arc<DataKey>, Instant)>,
    active: HashMap<Uuid, Uuid>,
    erased: HashSet<Uuid>,
}

pub(crate) struct KeyVault {
    db: Db,
    kek: RwLock<(Arc<MasterKey>, i32)>,
    cache: Mutex<Cache>,
}

/// A key lookup for reading: the key, or proof that its subject was erased.
pub(crate) enum ReadKey {
    Key(Arc<DataKey>),
    Erased,
}

impl KeyVault {
    /// Opens the vault with `kek`, registering it as version 1 on a fresh vault. Several
    /// processes may open a fresh vault at once: each offers version 1 and keeps whatever
    /// won (its own key, or the wrong-key error when another key got there first).
    pub(crate) async fn open(db: Db, kek: MasterKey) -> Result<Self> {
        let check = kek.check_value().to_vec();
        let mut offered = false;
        let version = loop {
            let rows: Vec<(i32, Vec<u8>, Option<i64>)> = on_db!(&db, p => sqlx::query_as("select version, check_value, retired_at from kek order by version")
                .fetch_all(p).await?);
            if let Some(version) = matching_version(&rows, &check)? {
                break version;
            }
            if !rows.is_empty() || offered {
                return Err(StoreError::WrongMasterKey(
                    "the key vault was created with a different master key".into(),
                ));
            }
            // `do nothing`: a process that registered first wins, and the next read tells.
            // No conflict target: two processes offering the same key collide on `version`
            // and on `check_value`, and Postgres raises on whichever unique index it checks
            // first unless every index may arbitrate (a named arbiter left the other to fail).
            on_db!(&db, p => sqlx::query("insert into kek (version, check_value, created_at) values (1, $1, $2) on conflict do nothing")
                .bind(&check).bind(now_micros()).execute(p).await.map(|_| ())?);
            offered = true;
        };
        Ok(KeyVault {
            db,
            kek: RwLock::new((Arc::new(kek), version)),
            cache: Mutex::new(Cache::default()),
        })
    }

    fn kek(&self) -> (Arc<MasterKey>, i32) {
        let guard = self.kek.read().unwrap_or_else(|e| e.into_inner());
        (guard.0.clone(), guard.1)
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, Cache> {
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The key new events of `subject` are sealed with; created on first use unless the
    /// subject was shredded (the fence refuses to mint a new key for an erased subject).
    pub(crate) async fn active_key(&self, subject: Uuid) -> Result<Arc<DataKey>> {
        {
            let cache = self.cache();
            if cache.erased.contains(&subject) {
                return Err(StoreError::SubjectErased { subject });
            }
            if let Some(id) = cache.active.get(&subject)
                && let Some((key, at)) = cache.by_id.get(id)
                && at.elapsed() < CACHE_TTL
            {
                return Ok(key.clone());
            }
        }
        let (kek, kek_version) = self.kek();
        let now = now_micros();
        let key = on_db!(&self.db, p => {
            let mut tx = p.begin_with(begin_write(p)).await?;
            sqlx::query("insert into subjects (subject_id, state, created_at) values ($1, 'active', $2) on conflict (subject_id) do nothing")
                .bind(subject).bind(now).execute(&mut *tx).await?;
            // Postgres: lock the subject row so a concurrent shred or key creation in another
            // process waits; SQLite's IMMEDIATE transaction already holds the only write lock.
            let row = sqlx::query(if self.db.is_postgres() {
                "select state, current_dek_version from subjects where subject_id = $1 for update"
            } else {
                "select state, current_dek_version from subjects where subject_id = $1"
            })
            .bind(subject).fetch_one(&mut *tx).await?;
            let state: String = row.try_get("state")?;
            if state == "shredded" {
                tx.rollback().await?;
                self.cache().erased.insert(subject);
                return Err(StoreError::SubjectErased { subject });
            }
            let current: i32 = row.try_get("current_dek_version")?;
            let existing = sqlx::query("select key_id, subject_id, dek_version, kek_version, wrap_nonce, wrapped from data_keys where subject_id = $1 and dek_version = $2")
                .bind(subject).bind(current).fetch_optional(&mut *tx).await?;
            let key = match existing {
                Some(row) => kek.unwrap_key(&wrapped_from_row(&row)?)?,
                None => {
                    let key = DataKey::generate(Uuid::new_v4(), subject, current + 1)?;
                    insert_key!(&mut *tx, kek, kek_version, &key, now);
                    sqlx::query("update subjects set current_dek_version = $2 where subject_id = $1")
                        .bind(subject).bind(key.version).execute(&mut *tx).await?;
                    key
                }
            };
            tx.commit().await?;
            key
        });
        Ok(self.remember(Arc::new(key), true))
    }

    fn remember(&self, key: Arc<DataKey>, active: bool) -> Arc<DataKey> {
        let mut cache = self.cache();
        if active {
            cache.active.insert(key.subject, key.key_id);
        }
        cache.by_id.insert(key.key_id, (key.clone(), Instant::now()));
        key
    }

    /// What `read_key` answers from memory alone, if it can; `None` means ask `read_key`.
    /// Synchronous, so a scan's blocking threads can open rows as they read them.
    pub(crate) fn read_key_in_memory(&self, key_id: Uuid, subject: Uuid) -> Option<ReadKey> {
        let cache = self.cache();
        if cache.erased.contains(&subject) {
            return Some(ReadKey::Erased);
        }
        match cache.by_id.get(&key_id) {
            Some((key, at)) if at.elapsed() < CACHE_TTL => Some(ReadKey::Key(key.clone())),
            _ => None,
        }
    }

    /// The key that sealed an event, or `Erased` when its subject was shredded.
    pub(crate) async fn read_key(&self, key_id: Uuid, subject: Uuid) -> Result<ReadKey> {
        if let Some(known) = self.read_key_in_memory(key_id, subject) {
            return Ok(known);
        }
        let row = on_db!(&self.db, p => sqlx::query("select key_id, subject_id, dek_version, kek_version, wrap_nonce, wrapped from data_keys where key_id = $1")
            .bind(key_id).fetch_optional(p).await?.map(|r| wrapped_from_row(&r)).transpose()?);
        if let Some(wrapped) = row {
            if wrapped.subject != subject {
                return Err(StoreError::Corrupt(format!("key {key_id} belongs to another subject")));
            }
            let key = self.kek().0.unwrap_key(&wrapped)?;
            return Ok(ReadKey::Key(self.remember(Arc::new(key), false)));
        }
        if self.is_shredded(subject).await? {
            self.forget(subject);
            return Ok(ReadKey::Erased);
        }
        Err(StoreError::KeyMissing { key_id })
    }

    /// A server secret for `context`, derived from the first data key of the system subject.
    /// That key is random, lives only wrapped in the vault, survives master-key rotation and is
    /// never shredded, so the secret is stable for the life of the store.
    pub(crate) async fn system_secret(&self, context: &str) -> Result<zeroize::Zeroizing<[u8; 32]>> {
        self.active_key(crate::model::SYSTEM_SUBJECT).await?;
        let row = on_db!(&self.db, p => sqlx::query("select key_id, subject_id, dek_version, kek_version, wrap_nonce, wrapped from data_keys where subject_id = $1 and dek_version = 1")
            .bind(crate::model::SYSTEM_SUBJECT).fetch_optional(p).await?.map(|r| wrapped_from_row(&r)).transpose()?);
        let wrapped = row.ok_or_else(|| StoreError::Corrupt("the system subject has no first data key".into()))?;
        Ok(self.kek().0.unwrap_key(&wrapped)?.derive(context))
    }

    async fn is_shredded(&self, subject: Uuid) -> Result<bool> {
        let state: Option<String> = on_db!(&self.db, p => sqlx::query_scalar("select state from subjects where subject_id = $1")
            .bind(subject).fetch_optional(p).await?);
        Ok(state.as_deref() == Some("shredded"))
    }

    /// Destroys every version of the subject's key and leaves the permanent fence. Returns
    /// how many key versions were destroyed (0 when it had already been shredded).
    pub(crate) async fn shred(&self, subject: Uuid) -> Result<u64> {
        let now = now_micros();
        let destroyed = on_db!(&self.db, p => {
            let mut tx = p.begin_with(begin_write(p)).await?;
            sqlx::query("insert into subjects (subject_id, state, created_at, shredded_at) values ($1, 'shredded', $2, $2) \
                         on conflict (subject_id) do update set state = 'shredded', shredded_at = excluded.shredded_at \
                         where subjects.state <> 'shredded'")
                .bind(subject).bind(now).execute(&mut *tx).await?;
            let done = sqlx::query("delete from data_keys where subject_id = $1").bind(subject).execute(&mut *tx).await?;
            tx.commit().await?;
            done.rows_affected()
        });
        self.forget(subject);
        self.purge_wal().await?;
        Ok(destroyed)
    }

    /// On SQLite, leaves no image of a page from before a shredding or re-wrapping in the
    /// vault's WAL (the file's own freed space is zeroed by `secure_delete`).
    async fn purge_wal(&self) -> Result<()> {
        if let Db::Sqlite(pool) = &self.db {
            let mut conn = pool.acquire().await?;
            crate::wal::truncate_wal(&mut conn).await?;
        }
        Ok(())
    }

    /// Drops the subject's keys from memory and remembers that it is erased.
    pub(crate) fn forget(&self, subject: Uuid) {
        let mut cache = self.cache();
        cache.by_id.retain(|_, (key, _)| key.subject != subject);
        cache.active.remove(&subject);
        cache.erased.insert(subject);
    }

    /// Starts a new key version for `subject`; older versions stay readable until shredding.
    pub(crate) async fn rotate_subject_key(&self, subject: Uuid) -> Result<i32> {
        let current = self.active_key(subject).await?;
        let (kek, kek_version) = self.kek();
        let next = DataKey::generate(Uuid::new_v4(), subject, current.version + 1)?;
        on_db!(&self.db, p => {
            let mut tx = p.begin_with(begin_write(p)).await?;
            let moved = sqlx::query("update subjects set current_dek_version = $2 where subject_id = $1 and state = 'active' and current_dek_version = $3")
                .bind(subject).bind(next.version).bind(current.version).execute(&mut *tx).await?;
            if moved.rows_affected() != 1 {
                return Err(StoreError::Conflict {
                    stream: format!("key:{subject}"),
                    expected: crate::model::ExpectedVersion::Exact(u64::try_from(current.version).unwrap_or(0)),
                    actual: 0,
                });
            }
            insert_key!(&mut *tx, kek, kek_version, &next, now_micros());
            tx.commit().await?;
        });
        let version = next.version;
        self.remember(Arc::new(next), true);
        Ok(version)
    }

    /// Re-wraps every data key under `new_kek`, in one transaction, without touching events.
    /// The old master key is recorded as retired and refused from then on.
    pub(crate) async fn rotate_master(&self, new_kek: MasterKey) -> Result<MasterRotation> {
        let (old, old_version) = self.kek();
        let new_version = old_version + 1;
        let check = new_kek.check_value().to_vec();
        let now = now_micros();
        let rewrapped = on_db!(&self.db, p => {
            let mut tx = p.begin_with(begin_write(p)).await?;
            let known: Option<i32> = sqlx::query_scalar("select version from kek where check_value = $1")
                .bind(&check).fetch_optional(&mut *tx).await?;
            if known.is_some() {
                return Err(StoreError::invalid("new master key", "this key was already used by this vault"));
            }
            sqlx::query("insert into kek (version, check_value, created_at) values ($1, $2, $3)")
                .bind(new_version).bind(&check).bind(now).execute(&mut *tx).await?;
            let rows = sqlx::query("select key_id, subject_id, dek_version, kek_version, wrap_nonce, wrapped from data_keys")
                .fetch_all(&mut *tx).await?;
            let mut count = 0u64;
            for row in &rows {
                let dek = old.unwrap_key(&wrapped_from_row(row)?)?;
                let (nonce, wrapped) = new_kek.wrap(&dek, new_version)?;
                sqlx::query("update data_keys set kek_version = $2, wrap_nonce = $3, wrapped = $4 where key_id = $1")
                    .bind(dek.key_id).bind(new_version).bind(nonce.to_vec()).bind(wrapped)
                    .execute(&mut *tx).await?;
                count += 1;
            }
            sqlx::query("update kek set retired_at = $2 where version = $1")
                .bind(old_version).bind(now).execute(&mut *tx).await?;
            tx.commit().await?;
            count
        });
        *self.kek.write().unwrap_or_else(|e| e.into_inner()) = (Arc::new(new_kek), new_version);
        // Whoever holds the retired master key must not find keys it wraps in the WAL.
        self.purge_wal().await?;
        Ok(MasterRotation {
            kek_version: new_version,
            rewrapped,
        })
    }

    /// Number of live (unshredded) data keys, for status output.
    pub(crate) async fn key_count(&self) -> Result<i64> {
        Ok(on_db!(&self.db, p => sqlx::query_scalar("select count(*) from data_keys").fetch_one(p).await?))
    }

    pub(crate) async fn close(&self) {
        self.db.close().await;
    }
}

/// Wraps and inserts a new data key; a macro rather than a generic function because a generic
/// `Executor` bound trips the compiler's higher-ranked lifetime checks inside spawned tasks.
macro_rules! insert_key {
    ($exec:expr, $kek:expr, $kek_version:expr, $key:expr, $now:expr) => {{
        let (nonce, wrapped) = $kek.wrap($key, $kek_version)?;
        sqlx::query("insert into data_keys (key_id, subject_id, dek_version, kek_version, wrap_nonce, wrapped, created_at) values ($1, $2, $3, $4, $5, $6, $7)")
            .bind($key.key_id)
            .bind($key.subject)
            .bind($key.version)
            .bind($kek_version)
            .bind(nonce.to_vec())
            .bind(wrapped)
            .bind($now)
            .execute($exec)
            .await?;
    }};
}
use insert_key;

fn wrapped_from_row<R: Row>(row: &R) -> Result<WrappedKey>
where
    usize: sqlx::ColumnIndex<R>,
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    Uuid: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    i32: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    Vec<u8>: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    Ok(WrappedKey {
        key_id: row.try_get("key_id")?,
        subject: row.try_get("subject_id")?,
        dek_version: row.try_get("dek_version")?,
        kek_version: row.try_get("kek_version")?,
        nonce: row.try_get("wrap_nonce")?,
        wrapped: row.try_get("wrapped")?,
    })
}

/// The registered version of the master key whose check value is `check`, if any.
fn matching_version(rows: &[(i32, Vec<u8>, Option<i64>)], check: &[u8]) -> Result<Option<i32>> {
    for (version, stored, retired_at) in rows {
        if stored == check {
            if retired_at.is_some() {
                return Err(StoreError::WrongMasterKey(
                    "this master key was retired by `vigil keys rotate-master`; use the current one".into(),
                ));
            }
            return Ok(Some(*version));
        }
    }
    Ok(None)
}
