//! Account rejections.

use crate::values::{EmailError, HandleError};

/// Why an account command was rejected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AccountError {
    /// `Register` on an account that already exists.
    #[error("the account is already registered")]
    AlreadyRegistered,
    /// Any command but `Register` on an account that does not exist.
    #[error("the account is not registered")]
    NotRegistered,
    /// The chosen handle breaks a handle rule.
    #[error("invalid handle: {0}")]
    InvalidHandle(#[from] HandleError),
    /// The email is not acceptable.
    #[error("invalid email: {0}")]
    InvalidEmail(#[from] EmailError),
    /// The transaction reference is empty, too long or not printable ASCII.
    #[error("the external transaction id must be 1–128 printable ASCII characters")]
    InvalidTransactionId,
    /// A tier change to the tier already held.
    #[error("the account is already on that billing tier")]
    TierUnchanged,
    /// Erasure was requested: the account accepts nothing but completing it.
    #[error("erasure has been requested; the account is frozen")]
    ErasurePending,
    /// The account was erased; nothing more may happen to it.
    #[error("the account has been erased")]
    Erased,
    /// A role change, disable or enable without a reason, or with one over 500 characters.
    #[error("a reason of 1 to 500 characters is required")]
    InvalidReason,
    /// `CompleteErasure` without a prior request.
    #[error("erasure was not requested")]
    ErasureNotRequested,
    /// An erasure for inactivity before a notice named the day, or after activity since.
    #[error("the account is not due for erasure for inactivity")]
    NotDueForErasure,
    /// A staff account asked to be noticed or erased for inactivity.
    #[error("staff accounts are not erased for inactivity")]
    StaffExempt,
}
