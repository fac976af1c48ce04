//! Dose-log rejections.

use crate::protocol::dose::DoseError;
use crate::values::DoseId;

/// Why a dose-log command was rejected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DoseLogError {
    /// An entry id already used.
    #[error("dose entry {0} already exists")]
    DuplicateDose(DoseId),
    /// Correcting or retracting an entry that does not exist.
    #[error("dose entry {0} does not exist")]
    UnknownDose(DoseId),
    /// Correcting or retracting a retracted entry.
    #[error("dose entry {0} was retracted")]
    DoseRetracted(DoseId),
    /// Correcting a skip; retract it and log the dose instead.
    #[error("dose entry {0} is a skip; retract it and log the dose instead")]
    NotATakenDose(DoseId),
    /// The amount or concentration is unusable.
    #[error("dose: {0}")]
    InvalidDose(DoseError),
    /// The unit does not fit the compound (e.g. mg of hCG).
    #[error("{compound} is not dosed in {unit}")]
    UnitUnsuitable {
        /// Unit symbol.
        unit: &'static str,
        /// Compound name.
        compound: &'static str,
    },
    /// An injection site for an oral or transdermal dose.
    #[error("an injection site only applies to IM or SubQ doses")]
    SiteNotApplicable,
    /// Taken later than recorded (beyond clock-skew tolerance).
    #[error("a dose cannot be taken in the future")]
    TakenInFuture,
}
