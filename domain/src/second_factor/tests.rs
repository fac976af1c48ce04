use time::OffsetDateTime;

use super::*;
use crate::aggregate::execute;

const AT: OffsetDateTime = time::macros::datetime!(2026-03-01 09:00 UTC);
const SECRET: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";

fn hashes() -> Vec<String> {
    (0..RECOVERY_CODES).map(|i| format!("{i:064x}")).collect()
}

fn enabled() -> SecondFactorState {
    let (state, _) = execute::<SecondFactor>(
        SecondFactorState::default(),
        SecondFactorCommand::StartEnrolment {
            secret: SECRET.into(),
            at: AT,
        },
    )
    .unwrap();
    let (state, _) = execute::<SecondFactor>(
        state,
        SecondFactorCommand::Confirm {
            recovery_code_hashes: hashes(),
            at: AT,
        },
    )
    .unwrap();
    state
}

#[test]
fn confirming_puts_the_pending_secret_in_force_with_its_codes() {
    let state = enabled();
    assert!(state.enabled());
    assert_eq!(state.secret.as_deref(), Some(SECRET));
    assert_eq!(state.pending_secret, None);
    assert_eq!(state.unused_recovery_codes.len(), RECOVERY_CODES);
}

#[test]
fn confirming_without_a_pending_secret_is_refused() {
    let err = execute::<SecondFactor>(
        SecondFactorState::default(),
        SecondFactorCommand::Confirm {
            recovery_code_hashes: hashes(),
            at: AT,
        },
    )
    .unwrap_err();
    assert_eq!(err, SecondFactorError::NoEnrolmentPending);
}

#[test]
fn a_secret_must_be_32_base32_characters() {
    for secret in [
        "",
        "JBSWY3DP",
        "jbswy3dpehpk3pxpjbswy3dpehpk3pxp",
        "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PX1",
    ] {
        let err = execute::<SecondFactor>(
            SecondFactorState::default(),
            SecondFactorCommand::StartEnrolment {
                secret: secret.into(),
                at: AT,
            },
        )
        .unwrap_err();
        assert_eq!(err, SecondFactorError::InvalidSecret, "{secret:?}");
    }
}

#[test]
fn recovery_codes_must_be_ten_distinct_hashes() {
    let (pending, _) = execute::<SecondFactor>(
        SecondFactorState::default(),
        SecondFactorCommand::StartEnrolment {
            secret: SECRET.into(),
            at: AT,
        },
    )
    .unwrap();
    let mut repeated = hashes();
    repeated[1] = repeated[0].clone();
    for codes in [hashes()[..9].to_vec(), repeated, vec!["zz".into(); RECOVERY_CODES]] {
        let err = execute::<SecondFactor>(
            pending.clone(),
            SecondFactorCommand::Confirm {
                recovery_code_hashes: codes,
                at: AT,
            },
        )
        .unwrap_err();
        assert_eq!(err, SecondFactorError::InvalidRecoveryCodes);
    }
}

#[test]
fn a_recovery_code_works_once() {
    let code = hashes()[3].clone();
    let (state, events) = execute::<SecondFactor>(
        enabled(),
        SecondFactorCommand::UseRecoveryCode {
            hash: code.clone(),
            at: AT,
        },
    )
    .unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(state.unused_recovery_codes.len(), RECOVERY_CODES - 1);
    let err = execute::<SecondFactor>(state, SecondFactorCommand::UseRecoveryCode { hash: code, at: AT }).unwrap_err();
    assert_eq!(err, SecondFactorError::UnknownRecoveryCode);
}

#[test]
fn enrolling_again_while_on_is_refused_and_disabling_forgets_everything() {
    let err = execute::<SecondFactor>(
        enabled(),
        SecondFactorCommand::StartEnrolment {
            secret: SECRET.into(),
            at: AT,
        },
    )
    .unwrap_err();
    assert_eq!(err, SecondFactorError::AlreadyEnabled);
    let (state, _) = execute::<SecondFactor>(enabled(), SecondFactorCommand::Disable { at: AT }).unwrap();
    assert_eq!(state, SecondFactorState::default());
    let err = execute::<SecondFactor>(state, SecondFactorCommand::Disable { at: AT }).unwrap_err();
    assert_eq!(err, SecondFactorError::NotEnabled);
}
