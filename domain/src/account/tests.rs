use proptest::prelude::*;
use time::macros::{date, datetime};
use time::{Date, OffsetDateTime};

use super::*;
use crate::test_support::{assert_events_round_trip, assert_replay_is_deterministic, uuid};
use crate::testing::given;
use crate::values::{EmailAddress, EmailError, Handle, HandleError, UserId};

const T0: OffsetDateTime = datetime!(2026-03-01 09:00 UTC);
const T1: OffsetDateTime = datetime!(2026-03-02 09:00 UTC);

fn user() -> UserId {
    UserId::from_uuid(uuid(1))
}

fn register(handle: Option<&str>) -> AccountCommand {
    AccountCommand::Register {
        user_id: user(),
        handle: handle.map(str::to_owned),
        handle_seed: 0,
        email: "someone@example.org".into(),
        role: Role::User,
        registered_at: T0,
    }
}

fn registered() -> AccountEvent {
    AccountEvent::AccountRegistered {
        user_id: user(),
        handle: Handle::parse("IronForge42").unwrap(),
        handle_generated: false,
        email: EmailAddress::parse("someone@example.org").unwrap(),
        role: Role::User,
        registered_at: T0,
    }
}

fn erasure_requested() -> AccountEvent {
    AccountEvent::ErasureRequested { requested_at: T1 }
}

#[test]
fn registering_with_a_chosen_handle_records_it() {
    given::<Account>([])
        .when(register(Some("IronForge42")))
        .then_events([registered()]);
}

#[test]
fn registering_without_a_handle_generates_one_from_the_seed() {
    let events = given::<Account>([]).when(register(None)).then_accepted();
    let AccountEvent::AccountRegistered {
        handle,
        handle_generated,
        ..
    } = &events[0]
    else {
        panic!("unexpected {events:?}");
    };
    assert_eq!(handle.as_str(), "IronForge10");
    assert!(handle_generated);
}

#[test]
fn a_new_account_has_ai_consent_off_and_default_settings() {
    let state = given::<Account>([registered()]).state().clone();
    assert!(!state.ai_processing_consent);
    assert_eq!(state.settings.lab_units, UnitSystem::Conventional);
    assert_eq!(state.settings.weight_unit, WeightUnit::Kg);
    assert_eq!(state.tier, BillingTier::Free);
}

#[test]
fn registering_twice_is_rejected() {
    given::<Account>([registered()])
        .when(register(Some("IronForge42")))
        .then_rejected(AccountError::AlreadyRegistered);
}

#[test]
fn registering_with_a_reserved_handle_is_rejected() {
    given::<Account>([])
        .when(register(Some("admin")))
        .then_rejected(AccountError::InvalidHandle(HandleError::Reserved("admin".into())));
}

#[test]
fn registering_with_a_malformed_email_is_rejected() {
    let mut command = register(None);
    if let AccountCommand::Register { email, .. } = &mut command {
        *email = "not an email".into();
    }
    given::<Account>([])
        .when(command)
        .then_rejected(AccountError::InvalidEmail(EmailError::Malformed));
}

#[test]
fn any_other_command_before_registration_is_rejected() {
    given::<Account>([])
        .when(AccountCommand::RequestErasure { requested_at: T0 })
        .then_rejected(AccountError::NotRegistered);
}

#[test]
fn changing_the_handle_records_old_and_new() {
    given::<Account>([registered()])
        .when(AccountCommand::ChangeHandle {
            handle: "QuietOtter7".into(),
            changed_at: T1,
        })
        .then_events([AccountEvent::HandleChanged {
            from: Handle::parse("IronForge42").unwrap(),
            to: Handle::parse("QuietOtter7").unwrap(),
            changed_at: T1,
        }]);
}

#[test]
fn changing_the_handle_to_the_same_handle_records_nothing() {
    given::<Account>([registered()])
        .when(AccountCommand::ChangeHandle {
            handle: "IronForge42".into(),
            changed_at: T1,
        })
        .then_events([]);
}

#[test]
fn changing_to_an_invalid_handle_is_rejected() {
    given::<Account>([registered()])
        .when(AccountCommand::ChangeHandle {
            handle: "x".into(),
            changed_at: T1,
        })
        .then_rejected(AccountError::InvalidHandle(HandleError::Length { len: 1 }));
}

#[test]
fn changing_the_email_records_only_the_new_secret() {
    given::<Account>([registered()])
        .when(AccountCommand::ChangeEmail {
            email: "other@example.org".into(),
            changed_at: T1,
        })
        .then_events([AccountEvent::EmailChanged {
            email: EmailAddress::parse("other@example.org").unwrap(),
            changed_at: T1,
        }]);
}

#[test]
fn changing_to_an_invalid_email_is_rejected() {
    given::<Account>([registered()])
        .when(AccountCommand::ChangeEmail {
            email: "".into(),
            changed_at: T1,
        })
        .then_rejected(AccountError::InvalidEmail(EmailError::Empty));
}

#[test]
fn changing_the_role_records_old_and_new() {
    given::<Account>([registered()])
        .when(AccountCommand::ChangeRole {
            role: Role::Support,
            by: "system:cli".into(),
            reason: " new support hire ".into(),
            changed_at: T1,
        })
        .then_events([AccountEvent::RoleChanged {
            from: Role::User,
            to: Role::Support,
            by: "system:cli".into(),
            reason: "new support hire".into(),
            changed_at: T1,
        }]);
}

#[test]
fn a_role_change_needs_a_reason() {
    for reason in ["", "   ", &"x".repeat(501)] {
        given::<Account>([registered()])
            .when(AccountCommand::ChangeRole {
                role: Role::Admin,
                by: "system:cli".into(),
                reason: reason.to_owned(),
                changed_at: T1,
            })
            .then_rejected(AccountError::InvalidReason);
    }
}

#[test]
fn disabling_twice_records_once_and_enabling_undoes_it() {
    let disabled = AccountEvent::AccountDisabled {
        by: "system:cli".into(),
        reason: "left the company".into(),
        at: T1,
    };
    given::<Account>([registered()])
        .when(AccountCommand::Disable {
            by: "system:cli".into(),
            reason: "left the company".into(),
            at: T1,
        })
        .then_events([disabled.clone()]);
    given::<Account>([registered(), disabled.clone()])
        .when(AccountCommand::Disable {
            by: "system:cli".into(),
            reason: "again".into(),
            at: T1,
        })
        .then_events([]);
    given::<Account>([registered(), disabled])
        .when(AccountCommand::Enable {
            by: "system:cli".into(),
            reason: "back".into(),
            at: T1,
        })
        .then_events([AccountEvent::AccountEnabled {
            by: "system:cli".into(),
            reason: "back".into(),
            at: T1,
        }]);
    given::<Account>([registered()])
        .when(AccountCommand::Enable {
            by: "system:cli".into(),
            reason: "nothing to undo".into(),
            at: T1,
        })
        .then_events([]);
}

#[test]
fn changing_settings_records_the_complete_new_settings() {
    let settings = Settings {
        lab_units: UnitSystem::Si,
        weight_unit: WeightUnit::Lb,
    };
    let state = given::<Account>([registered()])
        .when(AccountCommand::ChangeSettings {
            settings,
            changed_at: T1,
        })
        .then_events([AccountEvent::SettingsChanged {
            settings,
            changed_at: T1,
        }]);
    assert_eq!(state.settings, settings);
}

#[test]
fn giving_then_withdrawing_ai_consent_is_recorded_each_time() {
    let state = given::<Account>([registered()])
        .when(AccountCommand::GiveAiProcessingConsent { at: T1 })
        .then_events([AccountEvent::AiProcessingConsentGiven { at: T1 }]);
    assert!(state.ai_processing_consent);
    given::<Account>([registered(), AccountEvent::AiProcessingConsentGiven { at: T1 }])
        .when(AccountCommand::WithdrawAiProcessingConsent { at: T1 })
        .then_events([AccountEvent::AiProcessingConsentWithdrawn { at: T1 }]);
}

#[test]
fn withdrawing_consent_that_was_never_given_records_nothing() {
    given::<Account>([registered()])
        .when(AccountCommand::WithdrawAiProcessingConsent { at: T1 })
        .then_events([]);
}

#[test]
fn a_billing_tier_change_keeps_only_the_external_reference() {
    given::<Account>([registered()])
        .when(AccountCommand::ChangeBillingTier {
            tier: BillingTier::Plus,
            external_transaction_id: "txn_123".into(),
            changed_at: T1,
        })
        .then_events([AccountEvent::BillingTierChanged {
            from: BillingTier::Free,
            to: BillingTier::Plus,
            external_transaction_id: ExternalTransactionId::parse("txn_123").unwrap(),
            changed_at: T1,
        }]);
}

#[test]
fn a_billing_tier_change_without_a_usable_reference_is_rejected() {
    for reference in ["", "has space", &"x".repeat(129)] {
        given::<Account>([registered()])
            .when(AccountCommand::ChangeBillingTier {
                tier: BillingTier::Plus,
                external_transaction_id: reference.to_owned(),
                changed_at: T1,
            })
            .then_rejected(AccountError::InvalidTransactionId);
    }
}

#[test]
fn a_billing_change_to_the_current_tier_is_rejected() {
    given::<Account>([registered()])
        .when(AccountCommand::ChangeBillingTier {
            tier: BillingTier::Free,
            external_transaction_id: "txn_1".into(),
            changed_at: T1,
        })
        .then_rejected(AccountError::TierUnchanged);
}

#[test]
fn requesting_erasure_freezes_the_account() {
    given::<Account>([registered()])
        .when(AccountCommand::RequestErasure { requested_at: T1 })
        .then_events([erasure_requested()]);
    given::<Account>([registered(), erasure_requested()])
        .when(AccountCommand::GiveAiProcessingConsent { at: T1 })
        .then_rejected(AccountError::ErasurePending);
}

#[test]
fn requesting_erasure_twice_records_nothing_more() {
    given::<Account>([registered(), erasure_requested()])
        .when(AccountCommand::RequestErasure { requested_at: T1 })
        .then_events([]);
}

#[test]
fn completing_erasure_forgets_the_email_and_ends_the_account() {
    let state = given::<Account>([registered(), erasure_requested()])
        .when(AccountCommand::CompleteErasure { completed_at: T1 })
        .then_events([AccountEvent::ErasureCompleted { completed_at: T1 }]);
    assert_eq!(state.status, AccountStatus::Erased);
    assert_eq!(state.email, None);
}

#[test]
fn completing_erasure_that_was_not_requested_is_rejected() {
    given::<Account>([registered()])
        .when(AccountCommand::CompleteErasure { completed_at: T1 })
        .then_rejected(AccountError::ErasureNotRequested);
}

#[test]
fn nothing_is_accepted_after_erasure() {
    given::<Account>([
        registered(),
        erasure_requested(),
        AccountEvent::ErasureCompleted { completed_at: T1 },
    ])
    .when(AccountCommand::RequestErasure { requested_at: T1 })
    .then_rejected(AccountError::Erased);
}

#[test]
fn every_account_event_round_trips_through_serde() {
    assert_events_round_trip(
        &[
            registered(),
            AccountEvent::HandleChanged {
                from: Handle::parse("IronForge42").unwrap(),
                to: Handle::parse("QuietOtter7").unwrap(),
                changed_at: T1,
            },
            AccountEvent::EmailChanged {
                email: EmailAddress::parse("b@example.org").unwrap(),
                changed_at: T1,
            },
            AccountEvent::RoleChanged {
                from: Role::User,
                to: Role::Admin,
                by: "system:cli".into(),
                reason: "operations".into(),
                changed_at: T1,
            },
            AccountEvent::AccountDisabled {
                by: "system:cli".into(),
                reason: "suspended".into(),
                at: T1,
            },
            AccountEvent::AccountEnabled {
                by: "system:cli".into(),
                reason: "reinstated".into(),
                at: T1,
            },
            AccountEvent::SettingsChanged {
                settings: Settings::default(),
                changed_at: T1,
            },
            AccountEvent::AiProcessingConsentGiven { at: T1 },
            AccountEvent::AiProcessingConsentWithdrawn { at: T1 },
            AccountEvent::BillingTierChanged {
                from: BillingTier::Free,
                to: BillingTier::Pro,
                external_transaction_id: ExternalTransactionId::parse("pi_1").unwrap(),
                changed_at: T1,
            },
            erasure_requested(),
            AccountEvent::ErasureCompleted { completed_at: T1 },
            AccountEvent::ActiveOn {
                on: date!(2026 - 03 - 02),
            },
            AccountEvent::InactivityNoticeRecorded {
                erase_on: date!(2028 - 03 - 01),
                at: T1,
            },
        ],
        14,
    );
}

fn any_command() -> impl Strategy<Value = AccountCommand> {
    let role = prop_oneof![
        Just(Role::User),
        Just(Role::Support),
        Just(Role::Auditor),
        Just(Role::Admin)
    ];
    let tier = prop_oneof![Just(BillingTier::Free), Just(BillingTier::Plus), Just(BillingTier::Pro)];
    prop_oneof![
        (any::<u64>(), role.clone()).prop_map(|(seed, role)| AccountCommand::Register {
            user_id: UserId::from_uuid(uuid(1)),
            handle: None,
            handle_seed: seed,
            email: "a@example.org".into(),
            role,
            registered_at: T0,
        }),
        "[A-Za-z_][A-Za-z0-9_]{0,25}".prop_map(|handle| AccountCommand::ChangeHandle { handle, changed_at: T1 }),
        role.prop_map(|role| AccountCommand::ChangeRole {
            role,
            by: "system:cli".into(),
            reason: "test".into(),
            changed_at: T1,
        }),
        Just(AccountCommand::Disable {
            by: "system:cli".into(),
            reason: "test".into(),
            at: T1,
        }),
        Just(AccountCommand::Enable {
            by: "system:cli".into(),
            reason: "test".into(),
            at: T1,
        }),
        any::<bool>().prop_map(|si| AccountCommand::ChangeSettings {
            settings: Settings {
                lab_units: if si { UnitSystem::Si } else { UnitSystem::Conventional },
                weight_unit: WeightUnit::Kg,
            },
            changed_at: T1
        }),
        Just(AccountCommand::GiveAiProcessingConsent { at: T1 }),
        Just(AccountCommand::WithdrawAiProcessingConsent { at: T1 }),
        tier.prop_map(|tier| AccountCommand::ChangeBillingTier {
            tier,
            external_transaction_id: "txn".into(),
            changed_at: T1
        }),
        Just(AccountCommand::RequestErasure { requested_at: T1 }),
        Just(AccountCommand::CompleteErasure { completed_at: T1 }),
        (0..1_000i64).prop_map(|days| AccountCommand::RecordActivity {
            on: REGISTERED_ON + time::Duration::days(days)
        }),
        (0..1_000i64).prop_map(|days| AccountCommand::RecordInactivityNotice {
            policy: two_years(),
            on: REGISTERED_ON + time::Duration::days(days),
            at: T1,
        }),
        (0..1_000i64).prop_map(|days| AccountCommand::RequestErasureForInactivity {
            policy: two_years(),
            on: REGISTERED_ON + time::Duration::days(days),
            requested_at: T1,
        }),
    ]
}

proptest! {
    #[test]
    fn replaying_any_accepted_account_history_is_deterministic(commands in prop::collection::vec(any_command(), 0..30)) {
        assert_replay_is_deterministic::<Account>(commands);
    }
}

// Inactivity: the last active day, notices and the erasure they lead to.

/// The day `registered()` happened.
const REGISTERED_ON: Date = date!(2026 - 03 - 01);

fn two_years() -> InactivityPolicy {
    InactivityPolicy::after_days(730).unwrap()
}

fn notice(on: Date) -> AccountCommand {
    AccountCommand::RecordInactivityNotice {
        policy: two_years(),
        on,
        at: T1,
    }
}

fn erase_for_inactivity(on: Date) -> AccountCommand {
    AccountCommand::RequestErasureForInactivity {
        policy: two_years(),
        on,
        requested_at: T1,
    }
}

fn noticed(erase_on: Date) -> AccountEvent {
    AccountEvent::InactivityNoticeRecorded { erase_on, at: T1 }
}

#[test]
fn registration_counts_as_activity() {
    let state = given::<Account>([registered()]).state().clone();
    assert_eq!(state.last_active_on, Some(REGISTERED_ON));
    assert_eq!(state.inactivity_notice, None);
}

#[test]
fn activity_is_recorded_once_per_day_and_never_moves_back() {
    given::<Account>([registered()])
        .when(AccountCommand::RecordActivity { on: REGISTERED_ON })
        .then_events([]);
    let later = date!(2026 - 04 - 10);
    let state = given::<Account>([registered()])
        .when(AccountCommand::RecordActivity { on: later })
        .then_events([AccountEvent::ActiveOn { on: later }]);
    assert_eq!(state.last_active_on, Some(later));
    let history = [registered(), AccountEvent::ActiveOn { on: later }];
    given::<Account>(history.clone())
        .when(AccountCommand::RecordActivity { on: later })
        .then_events([]);
    given::<Account>(history)
        .when(AccountCommand::RecordActivity {
            on: date!(2026 - 04 - 09),
        })
        .then_events([]);
}

#[test]
fn no_notice_while_the_erasure_is_more_than_thirty_days_away() {
    // 730 days after 2026-03-01 is 2028-02-29; thirty days before it, 2028-01-30.
    given::<Account>([registered()])
        .when(notice(date!(2028 - 01 - 29)))
        .then_events([]);
}

#[test]
fn a_notice_names_the_end_of_the_period_and_is_recorded_once() {
    let state = given::<Account>([registered()])
        .when(notice(date!(2028 - 01 - 30)))
        .then_events([noticed(date!(2028 - 02 - 29))]);
    assert_eq!(state.inactivity_notice, Some(date!(2028 - 02 - 29)));
    given::<Account>([registered(), noticed(date!(2028 - 02 - 29))])
        .when(notice(date!(2028 - 02 - 10)))
        .then_events([]);
}

#[test]
fn a_late_notice_still_gives_thirty_days() {
    given::<Account>([registered()])
        .when(notice(date!(2029 - 06 - 01)))
        .then_events([noticed(date!(2029 - 07 - 01))]);
    // Without a notice, an account long past the period is not erased.
    given::<Account>([registered()])
        .when(erase_for_inactivity(date!(2029 - 06 - 01)))
        .then_rejected(AccountError::NotDueForErasure);
}

#[test]
fn an_account_is_erased_on_the_day_its_notice_names_not_before() {
    let history = [registered(), noticed(date!(2028 - 02 - 29))];
    given::<Account>(history.clone())
        .when(erase_for_inactivity(date!(2028 - 02 - 28)))
        .then_rejected(AccountError::NotDueForErasure);
    let state = given::<Account>(history)
        .when(erase_for_inactivity(date!(2028 - 02 - 29)))
        .then_events([erasure_requested()]);
    assert_eq!(state.status, AccountStatus::ErasureRequested);
}

#[test]
fn activity_after_a_notice_withdraws_it_even_on_the_same_day() {
    let history = [registered(), noticed(date!(2028 - 02 - 29))];
    let state = given::<Account>(history.clone())
        .when(AccountCommand::RecordActivity { on: REGISTERED_ON })
        .then_events([AccountEvent::ActiveOn { on: REGISTERED_ON }]);
    assert_eq!(state.inactivity_notice, None);
    let active = date!(2028 - 02 - 01);
    let history = [
        registered(),
        noticed(date!(2028 - 02 - 29)),
        AccountEvent::ActiveOn { on: active },
    ];
    given::<Account>(history.clone())
        .when(erase_for_inactivity(date!(2028 - 03 - 01)))
        .then_rejected(AccountError::NotDueForErasure);
    // A new period starts from that day.
    given::<Account>(history)
        .when(notice(date!(2028 - 03 - 01)))
        .then_events([]);
}

#[test]
fn a_longer_period_set_after_the_notice_postpones_the_erasure() {
    let three_years = InactivityPolicy::after_days(1_095).unwrap();
    given::<Account>([registered(), noticed(date!(2028 - 02 - 29))])
        .when(AccountCommand::RequestErasureForInactivity {
            policy: three_years,
            on: date!(2028 - 03 - 01),
            requested_at: T1,
        })
        .then_rejected(AccountError::NotDueForErasure);
}

#[test]
fn staff_accounts_are_never_noticed_or_erased_for_inactivity() {
    let admin = AccountEvent::RoleChanged {
        from: Role::User,
        to: Role::Admin,
        by: "system:cli".into(),
        reason: "operations".into(),
        changed_at: T1,
    };
    given::<Account>([registered(), admin.clone()])
        .when(notice(date!(2029 - 01 - 01)))
        .then_rejected(AccountError::StaffExempt);
    given::<Account>([registered(), noticed(date!(2028 - 02 - 29)), admin])
        .when(erase_for_inactivity(date!(2029 - 01 - 01)))
        .then_rejected(AccountError::StaffExempt);
}

#[test]
fn activity_and_inactivity_change_nothing_once_erasure_is_pending() {
    let history = [registered(), noticed(date!(2028 - 02 - 29)), erasure_requested()];
    for command in [
        AccountCommand::RecordActivity {
            on: date!(2028 - 03 - 01),
        },
        notice(date!(2028 - 03 - 01)),
        erase_for_inactivity(date!(2028 - 03 - 01)),
    ] {
        given::<Account>(history.clone()).when(command).then_events([]);
    }
}
