//! What the appender remembers of the log between commits: the chain head it last saw and,
//! as of that head, the tip of each stream and the erasure fence of each subject it has looked
//! up or written (including "no such stream" and "not erased"). Valid only while the head in
//! the database is still this head: every write to the log moves the head, so an unchanged
//! head means nothing here is stale, and the head-checked write verifies exactly that.
//! Command ids are not remembered (each is used once); an unknown one is assumed new and the
//! commands table's key refuses it if it is not. Must not touch the database.

use std::collections::HashMap;

use uuid::Uuid;

use crate::log::{Head, Lookups, Tip};

/// Above this many remembered streams and subjects the memory starts over (one extra lookup
/// per group until it is warm again), so a long-lived process does not grow without bound.
const MAX_REMEMBERED: usize = 200_000;

pub(crate) struct Known {
    pub head: Head,
    tips: HashMap<String, Option<Tip>>,
    erased: HashMap<Uuid, Option<u64>>,
}

impl Known {
    pub(crate) fn new(head: Head) -> Known {
        Known {
            head,
            tips: HashMap::new(),
            erased: HashMap::new(),
        }
    }

    /// Whether every stream and subject of a group is remembered.
    pub(crate) fn covers(&self, streams: &[String], subjects: &[Uuid]) -> bool {
        streams.iter().all(|s| self.tips.contains_key(s)) && subjects.iter().all(|s| self.erased.contains_key(s))
    }

    /// The lookups a group needs, as of `self.head`, in the form the planner takes.
    pub(crate) fn lookups(&self, streams: &[String], subjects: &[Uuid]) -> Lookups {
        Lookups {
            tips: streams
                .iter()
                .filter_map(|s| self.tips.get(s).copied().flatten().map(|t| (s.clone(), t)))
                .collect(),
            erased: subjects
                .iter()
                .filter_map(|s| self.erased.get(s).copied().flatten().map(|p| (*s, p)))
                .collect(),
            commands: HashMap::new(),
        }
    }

    /// Records the state at `head` of the given streams and subjects, read (or written)
    /// together with that head: absent from `found` means no such stream / not erased.
    pub(crate) fn learn(&mut self, head: Head, streams: &[String], subjects: &[Uuid], found: &Lookups) {
        if self.tips.len() + self.erased.len() > MAX_REMEMBERED {
            self.tips.clear();
            self.erased.clear();
        }
        self.head = head;
        for s in streams {
            self.tips.insert(s.clone(), found.tips.get(s).copied());
        }
        for s in subjects {
            self.erased.insert(*s, found.erased.get(s).copied());
        }
    }
}
