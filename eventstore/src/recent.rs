//! The rows this process committed last, kept sealed in memory so that a subscriber caught up
//! to the head (the projection runner) takes them from here instead of reading them back:
//! under load that read was a round trip to the database thread per commit, on the path of
//! every read-your-writes mutation. The rows are exactly what the commit wrote (ciphertext,
//! nonce, envelope), and they are opened as rows read from the log are (keys, decryption,
//! upcasting), so a subscriber cannot tell where they came from; a shredded subject's rows
//! open as `Erased` here too, because the key is gone either way.
//! Only a contiguous run of positions is kept: a commit that does not follow the last one
//! (another process wrote in between, on Postgres) starts the run again, and a subscriber
//! asking for a position outside the run reads the log.
//! Must not hold plaintext or decide what a subscriber does with a shorter answer.

use std::collections::VecDeque;
use std::sync::Mutex;

use crate::log::StoredRow;

/// Rows kept at most (a few hundred kilobytes of ciphertext).
const CAPACITY: usize = 4_096;

/// The run of recently committed rows.
#[derive(Default)]
pub(crate) struct RecentRows {
    rows: Mutex<VecDeque<StoredRow>>,
}

impl RecentRows {
    /// Records a committed group (positions ascending and consecutive), before the head
    /// moves past it.
    pub(crate) fn committed(&self, group: impl IntoIterator<Item = StoredRow>) {
        let mut rows = self.lock();
        for row in group {
            let follows = rows.back().is_none_or(|last| last.env.position + 1 == row.env.position);
            if !follows {
                rows.clear();
            }
            if rows.len() == CAPACITY {
                rows.pop_front();
            }
            rows.push_back(row);
        }
    }

    /// Up to `limit` rows from position `from` on, when `from` lies in the run; `None` means
    /// read the log.
    pub(crate) fn from(&self, from: u64, limit: u64) -> Option<Vec<StoredRow>> {
        let rows = self.lock();
        let first = rows.front()?.env.position;
        let skip = usize::try_from(from.checked_sub(first)?).ok()?;
        if skip >= rows.len() {
            return None;
        }
        let take = usize::try_from(limit).unwrap_or(usize::MAX);
        Some(rows.iter().skip(skip).take(take).cloned().collect())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<StoredRow>> {
        // Plain rows: a panic elsewhere leaves them usable.
        self.rows.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Envelope;

    fn row(position: u64) -> StoredRow {
        StoredRow {
            env: Envelope {
                position,
                event_id: uuid::Uuid::nil(),
                stream_id: "s".into(),
                stream_version: position,
                subject: uuid::Uuid::nil(),
                event_type: "E".into(),
                schema_version: 1,
                recorded_at_micros: 0,
                actor: "a".into(),
                correlation_id: None,
                causation_id: None,
                command_id: None,
                key_id: uuid::Uuid::nil(),
                prev_hash: [0; 32],
                hash: [0; 32],
            },
            nonce: vec![],
            ciphertext: vec![],
        }
    }

    fn positions(rows: Option<Vec<StoredRow>>) -> Option<Vec<u64>> {
        rows.map(|r| r.iter().map(|r| r.env.position).collect())
    }

    #[test]
    fn a_position_inside_the_run_is_answered_from_memory_up_to_the_limit() {
        let recent = RecentRows::default();
        recent.committed((5..=9).map(row));
        assert_eq!(positions(recent.from(6, 2)), Some(vec![6, 7]));
        assert_eq!(positions(recent.from(8, 100)), Some(vec![8, 9]));
    }

    #[test]
    fn a_position_outside_the_run_is_read_from_the_log() {
        let recent = RecentRows::default();
        assert_eq!(positions(recent.from(1, 10)), None, "nothing committed here yet");
        recent.committed((5..=9).map(row));
        assert_eq!(positions(recent.from(4, 10)), None, "before the run");
        assert_eq!(positions(recent.from(10, 10)), None, "not committed yet");
    }

    #[test]
    fn a_commit_that_does_not_follow_the_run_starts_it_again() {
        let recent = RecentRows::default();
        recent.committed((5..=9).map(row));
        // Positions 10-11 were another process's.
        recent.committed((12..=13).map(row));
        assert_eq!(positions(recent.from(9, 10)), None);
        assert_eq!(positions(recent.from(12, 10)), Some(vec![12, 13]));
    }

    #[test]
    fn the_run_keeps_only_the_newest_rows() {
        let recent = RecentRows::default();
        let last = u64::try_from(CAPACITY).unwrap_or(u64::MAX) + 10;
        recent.committed((1..=last).map(row));
        assert_eq!(positions(recent.from(10, 1)), None);
        assert_eq!(positions(recent.from(last, 5)), Some(vec![last]));
    }
}
