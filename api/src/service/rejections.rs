//! Domain rejections as API errors: "unknown" is `NOT_FOUND`, a rule about the current state
//! (duplicate, retracted, paused, ended) is `CONFLICT`, and malformed input is
//! `BAD_USER_INPUT` naming the field. The domain's own message is kept: it names the rule.

use vigil_domain::account::AccountError;
use vigil_domain::bloodwork::BloodworkError;
use vigil_domain::credentials::CredentialsError;
use vigil_domain::dose::DoseLogError;
use vigil_domain::health::HealthError;
use vigil_domain::protocol::ProtocolError;
use vigil_domain::second_factor::SecondFactorError;

use super::ApiError;

impl From<AccountError> for ApiError {
    fn from(e: AccountError) -> Self {
        use AccountError as E;
        match e {
            E::NotRegistered => ApiError::NotFound,
            E::AlreadyRegistered | E::TierUnchanged | E::ErasurePending | E::Erased | E::ErasureNotRequested => {
                ApiError::Conflict(e.to_string())
            }
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
            _ => ApiError::bad("items", e),
        }
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
            _ => ApiError::bad("dose", e),
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
            _ => ApiError::bad("value", e),
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
