//! Whose health rows a read may touch. Every read of health data (protocols, doses, vitals,
//! bloodwork) takes a [`Subject`], and outside this crate a `Subject` can only be made by the
//! one [`SubjectMint`] a [`ReadDb`](crate::ReadDb) hands out. The api gives that mint to its
//! access gate, which vouches for a subject only after checking the caller's right to read it
//! (the owner, or an admin under an open break-glass grant, recorded before the read). A
//! resolver that forgets the check has no `Subject` to pass: it does not compile.
//! Must not check rights itself: that needs roles, grants and the access log, which are the
//! api's.

use std::fmt;
use std::sync::{Arc, Mutex};

use uuid::Uuid;

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
