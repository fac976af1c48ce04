//! The checker: what `docs/audit-bundle.md` ("What a verifier checks, in order") asks, as a
//! state machine. [`Checker::new`] takes the header (checks 1-4 and the pinned note's
//! signature), [`Checker::push`] one event at a time (check 5), [`Checker::finish`] the end of
//! the events (the rest of 5, then 6). The first failure ends the check and is named as the
//! doc names it. Must not keep events: only the chain's last hash and the tree's compact range.

use super::FORMAT;
use super::error::{CheckError, CheckpointFault, EventFault, HeaderFault, PinnedFault, PrefixFault};
use super::types::{BundleEvent, Header};
use crate::chain::genesis;
use crate::merkle::{CompactRange, Hash, VerifyError, leaf_hash, verify_consistency, verify_inclusion};
use crate::note::{Checkpoint, Note, VerifierKey, open_checkpoint};

/// Cosignature lines by keys other than the log's, as seen on the bundle's checkpoints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WitnessSeen {
    /// The key's name.
    pub name: String,
    /// The key's id.
    pub key_id: u32,
    /// Checkpoints carrying a line by it.
    pub checkpoints: usize,
    /// Whether the key was given as trusted and each of its lines verified.
    pub verified: bool,
}

/// What a bundle proved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The origin (the key's name).
    pub origin: String,
    /// The log key's id.
    pub key_id: u32,
    /// A.
    pub from_size: u64,
    /// B.
    pub to_size: u64,
    /// Events checked (`B - A`).
    pub events: u64,
    /// The root of tree B.
    pub root: Hash,
    /// Checkpoints verified.
    pub checkpoints: usize,
    /// Whether a consistency proof A->B was checked (`0 < A < B`).
    pub consistency_checked: bool,
    /// The pinned size, when a pin was given and matched.
    pub pinned: Option<u64>,
    /// Witnesses' cosignature lines seen.
    pub witnesses: Vec<WitnessSeen>,
}

/// The streaming check of one bundle.
#[derive(Debug)]
pub struct Checker {
    origin: String,
    key_id: u32,
    from: u64,
    to: u64,
    /// (size, root) of every checkpoint, ascending.
    checkpoints: Vec<(u64, Hash)>,
    /// Index of the next checkpoint the events must reach.
    next_checkpoint: usize,
    pinned: Option<(u64, Hash)>,
    /// A pinned-root mismatch found while streaming, reported after the events (check 6).
    pinned_failure: Option<CheckError>,
    range: CompactRange,
    last_hash: Hash,
    witnesses: Vec<WitnessSeen>,
}

fn cp_err(size: Option<u64>, index: usize, fault: CheckpointFault) -> CheckError {
    CheckError::Checkpoint { size, index, fault }
}

impl Checker {
    /// Checks the header (checks 1 to 4, and the pinned note's signature) and readies the
    /// events' check. `witnesses` are witness keys whose lines, where present, must verify.
    ///
    /// # Errors
    /// The first failure.
    pub fn new(
        header: &Header,
        key: &VerifierKey,
        pinned: Option<&[u8]>,
        witnesses: &[VerifierKey],
    ) -> Result<Checker, CheckError> {
        // 1. Header.
        if header.format != FORMAT {
            return Err(CheckError::Header(HeaderFault::UnknownFormat(header.format.clone())));
        }
        if header.origin != key.name() {
            return Err(CheckError::Header(HeaderFault::OriginNotKeyName {
                origin: header.origin.clone(),
                key: key.name().to_owned(),
            }));
        }
        let (from, to) = (header.from_size, header.to_size);
        if from > to || to == 0 {
            return Err(CheckError::Header(HeaderFault::BadRange));
        }
        // 2. Signatures.
        let mut seen: Vec<WitnessSeen> = Vec::new();
        let mut checkpoints: Vec<(u64, Hash)> = Vec::with_capacity(header.checkpoints.len());
        for (index, text) in header.checkpoints.iter().enumerate() {
            let size = Note::parse(text.as_bytes())
                .ok()
                .and_then(|n| Checkpoint::parse(n.text()).ok())
                .map(|c| c.size());
            let (cp, note) = open_checkpoint(text.as_bytes(), key, &header.origin)
                .map_err(|e| cp_err(size, index, CheckpointFault::Note(e)))?;
            let size = cp.size();
            if let Some(&(previous, _)) = checkpoints.last()
                && size <= previous
            {
                return Err(cp_err(Some(size), index, CheckpointFault::NotAscending { previous }));
            }
            if size < from || size > to {
                return Err(cp_err(Some(size), index, CheckpointFault::OutsideRange));
            }
            for sig in note.signatures() {
                if sig.name == key.name() && sig.key_id == key.key_id() {
                    continue;
                }
                let trusted = witnesses
                    .iter()
                    .find(|w| w.name() == sig.name && w.key_id() == sig.key_id);
                if let Some(w) = trusted {
                    note.verify(w)
                        .map_err(|e| cp_err(Some(size), index, CheckpointFault::Witness(e)))?;
                }
                match seen.iter_mut().find(|s| s.name == sig.name && s.key_id == sig.key_id) {
                    Some(s) => s.checkpoints += 1,
                    None => seen.push(WitnessSeen {
                        name: sig.name.clone(),
                        key_id: sig.key_id,
                        checkpoints: 1,
                        verified: trusted.is_some(),
                    }),
                }
            }
            checkpoints.push((size, *cp.root()));
        }
        let n = checkpoints.len();
        if checkpoints.last().map(|c| c.0) != Some(to) {
            return Err(cp_err(Some(to), n, CheckpointFault::LastIsNotB));
        }
        if from > 0 && checkpoints.first().map(|c| c.0) != Some(from) {
            return Err(cp_err(Some(from), 0, CheckpointFault::FirstIsNotA));
        }
        let pinned = match pinned {
            None => None,
            Some(text) => {
                let size = Note::parse(text)
                    .ok()
                    .and_then(|n| Checkpoint::parse(n.text()).ok())
                    .map(|c| c.size());
                let (cp, _) = open_checkpoint(text, key, &header.origin).map_err(|e| CheckError::Pinned {
                    size,
                    fault: PinnedFault::Note(e),
                })?;
                Some((cp.size(), *cp.root()))
            }
        };
        // 3. Prefix.
        let prefix = &header.prefix;
        let (range, first_root) = if from == 0 {
            if !prefix.edge.is_empty() || !prefix.last_proof.is_empty() || prefix.last_hash.0 != genesis() {
                return Err(CheckError::Prefix(PrefixFault::NotGenesis));
            }
            (CompactRange::new(), None)
        } else {
            let edge = prefix.edge.iter().map(|h| h.0).collect();
            let range = CompactRange::from_parts(from, edge)
                .ok_or(CheckError::Prefix(PrefixFault::EdgeLength { got: prefix.edge.len() }))?;
            let root_a = checkpoints[0].1;
            if range.root() != root_a {
                return Err(CheckError::Prefix(PrefixFault::EdgeRoot));
            }
            let proof: Vec<Hash> = prefix.last_proof.iter().map(|h| h.0).collect();
            verify_inclusion(from - 1, from, &leaf_hash(&prefix.last_hash.0), &proof, &root_a)
                .map_err(|e| CheckError::Prefix(PrefixFault::LastProof(e)))?;
            (range, Some(root_a))
        };
        // 4. Consistency.
        let proof: Vec<Hash> = header.consistency_proof.iter().map(|h| h.0).collect();
        let consistency = |fault| CheckError::Consistency { from, to, fault };
        match first_root {
            Some(root_a) if from < to => {
                let root_b = checkpoints[n - 1].1;
                verify_consistency(from, to, &proof, &root_a, &root_b).map_err(consistency)?;
            }
            _ if !proof.is_empty() => {
                return Err(consistency(VerifyError::WrongLength {
                    got: proof.len(),
                    want: 0,
                }));
            }
            _ => {}
        }
        let mut checker = Checker {
            origin: header.origin.clone(),
            key_id: key.key_id(),
            from,
            to,
            next_checkpoint: checkpoints.iter().take_while(|c| c.0 <= from).count(),
            checkpoints,
            pinned,
            pinned_failure: None,
            range,
            last_hash: prefix.last_hash.0,
            witnesses: seen,
        };
        checker.compare_pin();
        Ok(checker)
    }

    /// The position the next event must have.
    pub fn next_position(&self) -> u64 {
        self.range.size() + 1
    }

    /// Checks one event (check 5).
    ///
    /// # Errors
    /// `position N: …`, or `checkpoint N: …` when the root at a checkpoint's size differs.
    pub fn push(&mut self, event: &BundleEvent) -> Result<(), CheckError> {
        let position = self.next_position();
        if position > self.to {
            return Err(CheckError::Position {
                position: event.position,
                fault: EventFault::BeyondB,
            });
        }
        let fault = if event.position != position {
            Some(EventFault::Gap { found: event.position })
        } else if event.prev_hash.0 != self.last_hash {
            Some(EventFault::BrokenLink)
        } else if event.link_hash(&self.last_hash) != event.hash.0 {
            Some(EventFault::HashMismatch)
        } else {
            None
        };
        if let Some(fault) = fault {
            return Err(CheckError::Position { position, fault });
        }
        self.last_hash = event.hash.0;
        self.range.push(leaf_hash(&event.hash.0), |_, _| {});
        if let Some(&(size, root)) = self.checkpoints.get(self.next_checkpoint)
            && size == position
        {
            let computed = self.range.root();
            if computed != root {
                return Err(cp_err(
                    Some(size),
                    self.next_checkpoint,
                    CheckpointFault::RootMismatch { computed },
                ));
            }
            self.next_checkpoint += 1;
        }
        self.compare_pin();
        Ok(())
    }

    /// At the pinned size, remembers a mismatch (reported after the events, as check 6).
    fn compare_pin(&mut self) {
        if let Some((size, root)) = self.pinned
            && size == self.range.size()
            && self.pinned_failure.is_none()
        {
            let computed = self.range.root();
            if computed != root {
                self.pinned_failure = Some(CheckError::Pinned {
                    size: Some(size),
                    fault: PinnedFault::RootMismatch { computed },
                });
            }
        }
    }

    /// Ends the check after the last event: every position up to `B` came (check 5), and the
    /// pin, if any, is within `[A, B]` with the root the events give (check 6).
    ///
    /// # Errors
    /// The first failure.
    pub fn finish(self) -> Result<Report, CheckError> {
        if self.range.size() < self.to {
            return Err(CheckError::Position {
                position: self.next_position(),
                fault: EventFault::Missing,
            });
        }
        if let Some((size, _)) = self.pinned {
            if size > self.to {
                return Err(CheckError::Pinned {
                    size: Some(size),
                    fault: PinnedFault::BeyondB { to: self.to },
                });
            }
            if size < self.from {
                return Err(CheckError::Pinned {
                    size: Some(size),
                    fault: PinnedFault::BeforeA { from: self.from },
                });
            }
        }
        if let Some(failure) = self.pinned_failure {
            return Err(failure);
        }
        Ok(Report {
            origin: self.origin,
            key_id: self.key_id,
            from_size: self.from,
            to_size: self.to,
            events: self.to - self.from,
            root: self.range.root(),
            checkpoints: self.checkpoints.len(),
            consistency_checked: self.from > 0 && self.from < self.to,
            pinned: self.pinned.map(|p| p.0),
            witnesses: self.witnesses,
        })
    }
}
