//! `decide` and `evolve` of the second factor.

use super::{RECOVERY_CODES, SecondFactorCommand, SecondFactorError, SecondFactorEvent, SecondFactorState};

pub(super) fn decide(
    state: &SecondFactorState,
    command: SecondFactorCommand,
) -> Result<Vec<SecondFactorEvent>, SecondFactorError> {
    match command {
        SecondFactorCommand::StartEnrolment { secret, at } => {
            if state.enabled() {
                return Err(SecondFactorError::AlreadyEnabled);
            }
            let base32 = |b: u8| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b);
            if secret.len() != 32 || !secret.bytes().all(base32) {
                return Err(SecondFactorError::InvalidSecret);
            }
            Ok(vec![SecondFactorEvent::TotpEnrolmentStarted { secret, at }])
        }
        SecondFactorCommand::Confirm {
            recovery_code_hashes,
            at,
        } => {
            if state.enabled() {
                return Err(SecondFactorError::AlreadyEnabled);
            }
            if state.pending_secret.is_none() {
                return Err(SecondFactorError::NoEnrolmentPending);
            }
            let hex = |h: &String| h.len() == 64 && h.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
            let mut distinct = recovery_code_hashes.clone();
            distinct.sort();
            distinct.dedup();
            if recovery_code_hashes.len() != RECOVERY_CODES
                || distinct.len() != RECOVERY_CODES
                || !recovery_code_hashes.iter().all(hex)
            {
                return Err(SecondFactorError::InvalidRecoveryCodes);
            }
            Ok(vec![SecondFactorEvent::TotpEnabled {
                recovery_code_hashes,
                at,
            }])
        }
        SecondFactorCommand::UseRecoveryCode { hash, at } => {
            if !state.enabled() {
                return Err(SecondFactorError::NotEnabled);
            }
            if !state.unused_recovery_codes.contains(&hash) {
                return Err(SecondFactorError::UnknownRecoveryCode);
            }
            Ok(vec![SecondFactorEvent::RecoveryCodeUsed { hash, at }])
        }
        SecondFactorCommand::Disable { at } => {
            if !state.enabled() {
                return Err(SecondFactorError::NotEnabled);
            }
            Ok(vec![SecondFactorEvent::TotpDisabled { at }])
        }
    }
}

pub(super) fn evolve(mut state: SecondFactorState, event: &SecondFactorEvent) -> SecondFactorState {
    match event {
        SecondFactorEvent::TotpEnrolmentStarted { secret, .. } => state.pending_secret = Some(secret.clone()),
        SecondFactorEvent::TotpEnabled {
            recovery_code_hashes, ..
        } => {
            state.secret = state.pending_secret.take();
            state.unused_recovery_codes = recovery_code_hashes.clone();
        }
        SecondFactorEvent::RecoveryCodeUsed { hash, .. } => state.unused_recovery_codes.retain(|h| h != hash),
        SecondFactorEvent::TotpDisabled { .. } => state = SecondFactorState::default(),
    }
    state
}
