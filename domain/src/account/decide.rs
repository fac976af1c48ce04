//! Account rules. Repeating a change that is already in effect yields no events, so a
//! retried request is harmless; billing is the exception because it cites a payment.
//! Inactivity (see `inactivity`): staff accounts are never noticed or erased for it; their
//! access is managed by admins, and erasing one would take its audit trail's actor with it.

use super::command::AccountCommand;
use super::error::AccountError;
use super::event::AccountEvent;
use super::inactivity::InactivityPolicy;
use super::state::{AccountState, AccountStatus, ExternalTransactionId, Role};
use crate::values::{EmailAddress, Handle};

/// The aggregate's `decide`.
pub(super) fn decide(state: &AccountState, command: AccountCommand) -> Result<Vec<AccountEvent>, AccountError> {
    if let AccountCommand::Register {
        user_id,
        handle,
        handle_seed,
        email,
        role,
        registered_at,
    } = command
    {
        if state.status != AccountStatus::Unregistered {
            return Err(AccountError::AlreadyRegistered);
        }
        let (handle, handle_generated) = match handle {
            Some(text) => (Handle::parse(&text)?, false),
            None => (Handle::generate(handle_seed), true),
        };
        return Ok(vec![AccountEvent::AccountRegistered {
            user_id,
            handle,
            handle_generated,
            email: EmailAddress::parse(&email)?,
            role,
            registered_at,
        }]);
    }

    match state.status {
        AccountStatus::Unregistered => return Err(AccountError::NotRegistered),
        AccountStatus::Erased => return Err(AccountError::Erased),
        AccountStatus::ErasureRequested => {
            return match command {
                AccountCommand::CompleteErasure { completed_at } => {
                    Ok(vec![AccountEvent::ErasureCompleted { completed_at }])
                }
                // A second request while one is pending changes nothing, and neither does
                // activity racing it or a second look of the inactivity check.
                AccountCommand::RequestErasure { .. }
                | AccountCommand::RequestErasureForInactivity { .. }
                | AccountCommand::RecordActivity { .. }
                | AccountCommand::RecordInactivityNotice { .. } => Ok(vec![]),
                _ => Err(AccountError::ErasurePending),
            };
        }
        AccountStatus::Active => {}
    }

    match command {
        AccountCommand::Register { .. } => Err(AccountError::AlreadyRegistered),
        AccountCommand::ChangeHandle { handle, changed_at } => {
            let to = Handle::parse(&handle)?;
            Ok(match &state.handle {
                Some(from) if *from == to => vec![],
                Some(from) => vec![AccountEvent::HandleChanged {
                    from: from.clone(),
                    to,
                    changed_at,
                }],
                None => return Err(AccountError::NotRegistered),
            })
        }
        AccountCommand::ChangeEmail { email, changed_at } => {
            let email = EmailAddress::parse(&email)?;
            if state.email.as_ref() == Some(&email) {
                return Ok(vec![]);
            }
            Ok(vec![AccountEvent::EmailChanged { email, changed_at }])
        }
        AccountCommand::ChangeRole {
            role,
            by,
            reason,
            changed_at,
        } => {
            let reason = checked_reason(reason)?;
            match state.role {
                Some(from) if from == role => Ok(vec![]),
                Some(from) => Ok(vec![AccountEvent::RoleChanged {
                    from,
                    to: role,
                    by,
                    reason,
                    changed_at,
                }]),
                None => Err(AccountError::NotRegistered),
            }
        }
        AccountCommand::Disable { by, reason, at } => {
            let reason = checked_reason(reason)?;
            Ok(if state.disabled {
                vec![]
            } else {
                vec![AccountEvent::AccountDisabled { by, reason, at }]
            })
        }
        AccountCommand::Enable { by, reason, at } => {
            let reason = checked_reason(reason)?;
            Ok(if state.disabled {
                vec![AccountEvent::AccountEnabled { by, reason, at }]
            } else {
                vec![]
            })
        }
        AccountCommand::ChangeSettings { settings, changed_at } => {
            if state.settings == settings {
                return Ok(vec![]);
            }
            Ok(vec![AccountEvent::SettingsChanged { settings, changed_at }])
        }
        AccountCommand::GiveAiProcessingConsent { at } => Ok(if state.ai_processing_consent {
            vec![]
        } else {
            vec![AccountEvent::AiProcessingConsentGiven { at }]
        }),
        AccountCommand::WithdrawAiProcessingConsent { at } => Ok(if state.ai_processing_consent {
            vec![AccountEvent::AiProcessingConsentWithdrawn { at }]
        } else {
            vec![]
        }),
        AccountCommand::ChangeBillingTier {
            tier,
            external_transaction_id,
            changed_at,
        } => {
            let external_transaction_id =
                ExternalTransactionId::parse(&external_transaction_id).ok_or(AccountError::InvalidTransactionId)?;
            if state.tier == tier {
                return Err(AccountError::TierUnchanged);
            }
            Ok(vec![AccountEvent::BillingTierChanged {
                from: state.tier,
                to: tier,
                external_transaction_id,
                changed_at,
            }])
        }
        AccountCommand::RequestErasure { requested_at } => Ok(vec![AccountEvent::ErasureRequested { requested_at }]),
        AccountCommand::CompleteErasure { .. } => Err(AccountError::ErasureNotRequested),
        AccountCommand::RecordActivity { on } => {
            let recorded = state.last_active_on.is_some_and(|last| last >= on);
            Ok(if recorded && state.inactivity_notice.is_none() {
                vec![]
            } else {
                vec![AccountEvent::ActiveOn { on }]
            })
        }
        AccountCommand::RecordInactivityNotice { policy, on, at } => {
            exempt_staff(state)?;
            let last = match state.last_active_on {
                Some(last) if state.inactivity_notice.is_none() && notice_due(policy, last, on) => last,
                _ => return Ok(vec![]),
            };
            let erase_on = policy.erase_on(last, on).ok_or(AccountError::NotDueForErasure)?;
            Ok(vec![AccountEvent::InactivityNoticeRecorded { erase_on, at }])
        }
        AccountCommand::RequestErasureForInactivity {
            policy,
            on,
            requested_at,
        } => {
            exempt_staff(state)?;
            let inactive = state
                .last_active_on
                .zip(policy.erasure_due_for_last_active_by(on))
                .is_some_and(|(last, by)| last <= by);
            match state.inactivity_notice {
                Some(erase_on) if erase_on <= on && inactive => {
                    Ok(vec![AccountEvent::ErasureRequested { requested_at }])
                }
                _ => Err(AccountError::NotDueForErasure),
            }
        }
    }
}

/// Whether a person last active on `last` is due a notice on `on`.
fn notice_due(policy: InactivityPolicy, last: time::Date, on: time::Date) -> bool {
    policy.notice_due_for_last_active_by(on).is_some_and(|by| last <= by)
}

/// Staff accounts are not erased for inactivity (see the module).
fn exempt_staff(state: &AccountState) -> Result<(), AccountError> {
    match state.role {
        Some(Role::User) => Ok(()),
        _ => Err(AccountError::StaffExempt),
    }
}

/// Longest reason accepted for a staff action.
const MAX_REASON_CHARS: usize = 500;

/// A staff action's reason: trimmed, 1–500 characters.
fn checked_reason(reason: String) -> Result<String, AccountError> {
    let trimmed = reason.trim();
    let chars = trimmed.chars().count();
    if chars == 0 || chars > MAX_REASON_CHARS {
        return Err(AccountError::InvalidReason);
    }
    Ok(trimmed.to_owned())
}
