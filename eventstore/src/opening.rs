//! Opening stored rows for readers: find each row's data key (once per key per page, not once
//! per row), decrypt, upcast. Large pages are opened on two blocking threads, since AES-GCM
//! and upcasting are per-row work that needs nothing from neighbouring rows. Must not read
//! the log itself: callers bring the rows.

use std::collections::HashMap;

use uuid::Uuid;

use crate::crypto::SealContext;
use crate::error::{Result, StoreError};
use crate::log::StoredRow;
use crate::model::{Payload, RecordedEvent};
use crate::store::EventStore;
use crate::vault::ReadKey;

/// A row opened where it was read, or handed back because its key is not in memory.
pub(crate) enum Opened {
    Done(RecordedEvent),
    NeedsKey(StoredRow),
}

impl crate::scan::Positioned for Opened {
    fn position(&self) -> u64 {
        match self {
            Opened::Done(e) => e.envelope.position,
            Opened::NeedsKey(r) => r.env.position,
        }
    }
}

/// Below this many rows a page is opened inline: a thread hand-off costs more than it saves.
const PARALLEL_FROM: usize = 2_048;

impl EventStore {
    pub(crate) async fn open_rows(&self, rows: Vec<StoredRow>) -> Result<Vec<RecordedEvent>> {
        let mut keys: HashMap<Uuid, ReadKey> = HashMap::new();
        for row in &rows {
            if let std::collections::hash_map::Entry::Vacant(slot) = keys.entry(row.env.key_id) {
                slot.insert(self.vault().read_key(row.env.key_id, row.env.subject).await?);
            }
        }
        if rows.len() < PARALLEL_FROM {
            return rows.into_iter().map(|r| self.open_row(&keys, r)).collect();
        }
        let store = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut rows = rows;
            let right = rows.split_off(rows.len() / 2);
            std::thread::scope(|s| {
                let other = s.spawn(|| {
                    right
                        .into_iter()
                        .map(|r| store.open_row(&keys, r))
                        .collect::<Result<Vec<_>>>()
                });
                let mut out = rows
                    .into_iter()
                    .map(|r| store.open_row(&keys, r))
                    .collect::<Result<Vec<_>>>()?;
                let rest = other
                    .join()
                    .map_err(|_| StoreError::Corrupt("a decrypting thread panicked".into()))??;
                out.extend(rest);
                Ok(out)
            })
        })
        .await
        .map_err(|e| StoreError::Corrupt(format!("decrypting task: {e}")))?
    }

    /// Opens the rows whose keys the vault holds in memory, on the calling (blocking)
    /// thread; the others come back as `NeedsKey` for `finish_opening`.
    pub(crate) fn open_with_keys_in_memory(&self, rows: Vec<StoredRow>) -> Result<Vec<Opened>> {
        let mut keys: HashMap<Uuid, ReadKey> = HashMap::new();
        rows.into_iter()
            .map(|row| {
                if let std::collections::hash_map::Entry::Vacant(slot) = keys.entry(row.env.key_id) {
                    match self.vault().read_key_in_memory(row.env.key_id, row.env.subject) {
                        Some(key) => {
                            slot.insert(key);
                        }
                        None => return Ok(Opened::NeedsKey(row)),
                    }
                }
                self.open_row(&keys, row).map(Opened::Done)
            })
            .collect()
    }

    /// Fetches the keys `open_with_keys_in_memory` lacked and opens those rows, in order.
    pub(crate) async fn finish_opening(&self, opened: Vec<Opened>) -> Result<Vec<RecordedEvent>> {
        let mut keys: HashMap<Uuid, ReadKey> = HashMap::new();
        let mut out = Vec::with_capacity(opened.len());
        for item in opened {
            match item {
                Opened::Done(event) => out.push(event),
                Opened::NeedsKey(row) => {
                    if let std::collections::hash_map::Entry::Vacant(slot) = keys.entry(row.env.key_id) {
                        slot.insert(self.vault().read_key(row.env.key_id, row.env.subject).await?);
                    }
                    out.push(self.open_row(&keys, row)?);
                }
            }
        }
        Ok(out)
    }

    fn open_row(&self, keys: &HashMap<Uuid, ReadKey>, row: StoredRow) -> Result<RecordedEvent> {
        let env = row.env;
        let payload = match keys.get(&env.key_id) {
            None => return Err(StoreError::KeyMissing { key_id: env.key_id }),
            Some(ReadKey::Erased) => Payload::Erased,
            Some(ReadKey::Key(key)) => {
                let ctx = SealContext {
                    event_id: env.event_id,
                    stream_id: &env.stream_id,
                    stream_version: env.stream_version,
                    event_type: &env.event_type,
                    schema_version: env.schema_version,
                };
                let plain = key
                    .open(&ctx, &row.nonce, row.ciphertext)
                    .ok_or(StoreError::Decrypt { position: env.position })?;
                let (schema_version, json) = self.upcasters().apply(&env.event_type, env.schema_version, plain)?;
                Payload::Json { schema_version, json }
            }
        };
        Ok(RecordedEvent { envelope: env, payload })
    }
}
