//! Domain rejections as API errors: "unknown" is `NOT_FOUND`, a rule about the current state
//! (duplicate, retracted, paused, ended) is `CONFLICT`, and malformed input is
//! `BAD_USER_INPUT` naming the field. The domain's own message is kept: it names the rule.

use vigil_domain::account::AccountError;
use vigil_domain::bloodwork::BloodworkError;
use vigil_domain::credentials::CredentialsError;
use vigil_domain::dose::DoseLogError;
use vigil_domain::health::{HealthError, vitals};
use vigil_domain::protocol::dose::DoseError;
use vigil_domain::protocol::{ItemProblem, ProtocolError};
use vigil_domain::second_factor::SecondFactorError;

use super::ApiError;

impl From<AccountError> for ApiError {
    fn from(e: AccountError) -> Self {
        use AccountError as E;
        match e {
            E::NotRegistered => ApiError::NotFound,
            E::AlreadyRegistered
            | E::TierUnchanged
            | E::ErasurePending
            | E::Erased
            | E::ErasureNotRequested
            | E::NotDueForErasure
            | E::StaffExempt => ApiError::Conflict(e.to_string()),
            E::InvalidHandle(_) => ApiError::bad("handle", e),
            E::InvalidEmail(_) => ApiError::bad("email", e),
            E::InvalidTransactionId => ApiError::bad("externalTransactionId", e),
            E::InvalidReason => ApiError::bad("reason", e),
        }
    }
}

impl From<CredentialsError> for ApiError {
    fn from(e: CredentialsError) -> Self {
        match e {
            CredentialsError::AlreadyRegistered => ApiError::Conflict(e.to_string()),
            CredentialsError::NoPassword => ApiError::NotFound,
            CredentialsError::NotAPhcString => ApiError::internal(e),
        }
    }
}

impl From<SecondFactorError> for ApiError {
    fn from(e: SecondFactorError) -> Self {
        use SecondFactorError as E;
        match e {
            E::AlreadyEnabled | E::NoEnrolmentPending | E::NotEnabled => ApiError::Conflict(e.to_string()),
            E::UnknownRecoveryCode => ApiError::Unauthenticated("this code is not valid"),
            E::InvalidSecret | E::InvalidRecoveryCodes => ApiError::internal(e),
        }
    }
}

impl From<ProtocolError> for ApiError {
    fn from(e: ProtocolError) -> Self {
        use ProtocolError as E;
        match e {
            E::NotDefined => ApiError::NotFound,
            E::AlreadyDefined
            | E::AlreadyPaused
            | E::NotPaused
            | E::Ended
            | E::EffectiveBeforeCurrentVersion { .. }
            | E::DateBeforeLastChange { .. } => ApiError::Conflict(e.to_string()),
            E::InvalidName => ApiError::bad("name", e),
            E::NoItems => ApiError::bad("items", e),
            E::DuplicateItem(_) | E::UnknownItem(_) => ApiError::bad("items.id", e),
            E::InvalidItem { ref problem, .. } => {
                let field = item_field(problem);
                ApiError::bad(field, e)
            }
        }
    }
}

/// The `ProtocolItemInput` field an item problem is about (a list's fields are named
/// `items.<field>`, as `items.id` is).
fn item_field(problem: &ItemProblem) -> &'static str {
    match problem {
        ItemProblem::Schedule(_) => "items.schedule",
        ItemProblem::Dose(e) => dose_field(e, "items.amount", "items.unit"),
        ItemProblem::MissingDose | ItemProblem::DoseConflictsWithSplit { .. } => "items.amount",
        ItemProblem::UnitUnsuitable { .. } => "items.unit",
        ItemProblem::CustomCompoundName => "items.compound",
        ItemProblem::EndsBeforeStart => "items.end",
    }
}

/// Which of the amount and unit arguments a dose rule is about. A concentration is only ever
/// derived from them (no argument carries one), so its rules name the amount.
fn dose_field(e: &DoseError, amount: &'static str, unit: &'static str) -> &'static str {
    match e {
        DoseError::MissingConcentration => unit,
        DoseError::NotPositive
        | DoseError::TooLarge { .. }
        | DoseError::InvalidConcentration
        | DoseError::ConcentrationTooHigh { .. } => amount,
    }
}

impl From<DoseLogError> for ApiError {
    fn from(e: DoseLogError) -> Self {
        use DoseLogError as E;
        match e {
            E::UnknownDose(_) => ApiError::NotFound,
            E::DuplicateDose(_) | E::DoseRetracted(_) | E::NotATakenDose(_) => ApiError::Conflict(e.to_string()),
            E::TakenInFuture => ApiError::bad("takenAt", e),
            E::SiteNotApplicable => ApiError::bad("site", e),
            E::UnitUnsuitable { .. } => ApiError::bad("unit", e),
            E::InvalidDose(ref dose) => {
                let field = dose_field(dose, "amount", "unit");
                ApiError::bad(field, e)
            }
        }
    }
}

impl From<HealthError> for ApiError {
    fn from(e: HealthError) -> Self {
        use HealthError as E;
        match e {
            E::UnknownEntry(_) => ApiError::NotFound,
            E::DuplicateEntry(_) | E::EntryRetracted(_) | E::KindChanged { .. } => ApiError::Conflict(e.to_string()),
            E::MeasuredInFuture => ApiError::bad("measuredAt", e),
            E::UnsupportedUnit { .. } => ApiError::bad("unit", e),
            E::BloodPressureNeedsPanel => ApiError::bad("vital", e),
            // The two blood-pressure components are `VitalInput`'s systolic and diastolic.
            E::Implausible { label, .. } if label == vitals::SYSTOLIC.label => ApiError::bad("systolic", e),
            E::Implausible { label, .. } if label == vitals::DIASTOLIC.label => ApiError::bad("diastolic", e),
            E::Implausible { .. } => ApiError::bad("value", e),
            E::SystolicNotAboveDiastolic => ApiError::bad("systolic", e),
        }
    }
}

impl From<BloodworkError> for ApiError {
    fn from(e: BloodworkError) -> Self {
        use BloodworkError as E;
        // Fields of a `LabResultInput` are named `results.<field>`; the message says which line.
        match e {
            E::UnknownPanel(_) => ApiError::NotFound,
            E::DuplicatePanel(_) | E::PanelRetracted(_) => ApiError::Conflict(e.to_string()),
            E::DrawnInFuture => ApiError::bad("drawnAt", e),
            E::LabNameTooLong => ApiError::bad("labName", e),
            E::NoResults | E::DuplicateMarker(_) => ApiError::bad("results", e),
            E::InvalidLoinc(_) => ApiError::bad("results.loinc", e),
            E::MissingName { .. } => ApiError::bad("results.name", e),
            E::MissingUnit { .. } | E::UnitNotAccepted { .. } => ApiError::bad("results.unit", e),
            E::NegativeValue { .. } | E::Implausible { .. } => ApiError::bad("results.value", e),
            E::InvalidLabRange { .. } => ApiError::bad("results.low", e),
        }
    }
}

impl From<vigil_domain::maintenance::MaintenanceError> for ApiError {
    fn from(e: vigil_domain::maintenance::MaintenanceError) -> Self {
        use vigil_domain::maintenance::MaintenanceError as E;
        match e {
            E::AlreadyThere(_) => ApiError::Conflict(e.to_string()),
            E::InvalidReason => ApiError::bad("reason", e),
        }
    }
}

impl From<vigil_domain::backup::BackupError> for ApiError {
    fn from(e: vigil_domain::backup::BackupError) -> Self {
        use vigil_domain::backup::BackupError as E;
        match e {
            E::InvalidId => ApiError::bad("id", e),
            E::InvalidFailure | E::Inconsistent => ApiError::bad("drill", e),
        }
    }
}
