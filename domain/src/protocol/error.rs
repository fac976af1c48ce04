//! Protocol rejections.

use time::Date;

use super::dose::DoseError;
use super::frequency::FrequencyError;
use crate::values::ItemId;

/// What is wrong with one item.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ItemProblem {
    /// The frequency notation was not understood.
    #[error("schedule: {0}")]
    Schedule(FrequencyError),
    /// The dose amount or concentration is unusable.
    #[error("dose: {0}")]
    Dose(DoseError),
    /// No dose given and the schedule is not a split weekly total.
    #[error("a dose is required unless the schedule splits a weekly total")]
    MissingDose,
    /// The typed dose disagrees with the dose implied by a split weekly total.
    #[error("the dose disagrees with the split schedule, which implies {split} per dose")]
    DoseConflictsWithSplit {
        /// The per-dose amount the split implies.
        split: String,
    },
    /// The dose unit does not fit the compound (e.g. mg of hCG).
    #[error("{compound} is not dosed in {unit}")]
    UnitUnsuitable {
        /// Unit symbol given.
        unit: &'static str,
        /// Compound name.
        compound: &'static str,
    },
    /// A custom compound without a usable name.
    #[error("a custom compound needs a name of 1–100 characters")]
    CustomCompoundName,
    /// End date before start date.
    #[error("the item ends before it starts")]
    EndsBeforeStart,
}

/// Why a protocol command was rejected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    /// `Define` on a protocol that exists.
    #[error("the protocol is already defined")]
    AlreadyDefined,
    /// Any other command before `Define`.
    #[error("the protocol is not defined")]
    NotDefined,
    /// Empty or longer than 100 characters.
    #[error("a protocol name must be 1–100 characters")]
    InvalidName,
    /// A version without items.
    #[error("a protocol needs at least one item")]
    NoItems,
    /// The same item id twice in one version.
    #[error("item {0} appears twice")]
    DuplicateItem(ItemId),
    /// An item to keep whose id is not one of the protocol's items (in any version).
    #[error("item {0} is not an item of this protocol")]
    UnknownItem(ItemId),
    /// One item is invalid.
    #[error("item {item_id}: {problem}")]
    InvalidItem {
        /// Which item.
        item_id: ItemId,
        /// What is wrong.
        problem: ItemProblem,
    },
    /// An amendment effective before the current version: it would rewrite history.
    #[error("an amendment cannot take effect before the current version ({current})")]
    EffectiveBeforeCurrentVersion {
        /// Effective date of the current version.
        current: Date,
    },
    /// A pause, resume or end dated before the latest status change or the first version.
    #[error("the date is before the protocol's last change ({last})")]
    DateBeforeLastChange {
        /// The date it must not precede.
        last: Date,
    },
    /// `Pause` while paused.
    #[error("the protocol is already paused")]
    AlreadyPaused,
    /// `Resume` while not paused.
    #[error("the protocol is not paused")]
    NotPaused,
    /// Anything after `End`.
    #[error("the protocol has ended")]
    Ended,
}
