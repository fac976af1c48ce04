//! Events of every kind the read models follow, built from the domain's own types (items of a
//! protocol stay empty: the projection stores them as opaque JSON).

use time::OffsetDateTime;
use uuid::Uuid;
use vigil_domain::aggregate::DomainEvent;
use vigil_eventstore::NewEvent;

/// One event and the stream it goes to.
pub(crate) struct Event {
    pub stream: String,
    pub subject: Uuid,
    pub new: NewEvent,
}

fn event<E: DomainEvent + serde::Serialize>(stream: String, subject: Uuid, e: &E) -> Event {
    let new = NewEvent::json(e.event_type(), e.schema_version(), e).unwrap();
    Event { stream, subject, new }
}

fn at() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_767_225_600).unwrap()
}

fn dec(text: &str) -> vigil_domain::values::Decimal {
    vigil_domain::values::Decimal::parse(text).unwrap()
}

pub(crate) mod account {
    use vigil_domain::account::{AccountEvent, BillingTier, ExternalTransactionId, Role, Settings};
    use vigil_domain::credentials::{CredentialsEvent, PasswordSetReason};
    use vigil_domain::values::{EmailAddress, Handle, UserId};

    use super::*;

    fn handle(prefix: &str, user: Uuid) -> Handle {
        Handle::parse(&format!("{prefix}{}", user.as_u128() % 1_000_000_000_000)).unwrap()
    }
    fn account(user: Uuid, e: AccountEvent) -> Event {
        event(crate::streams::account(user), user, &e)
    }

    pub fn registered(user: Uuid) -> Event {
        let email = EmailAddress::parse(&format!("{user}@example.org")).unwrap();
        let e = AccountEvent::AccountRegistered {
            user_id: UserId::from(user),
            handle: handle("h", user),
            handle_generated: false,
            email,
            role: Role::User,
            registered_at: at(),
        };
        account(user, e)
    }
    pub fn handle_changed(user: Uuid) -> Event {
        let (from, to) = (handle("h", user), handle("k", user));
        account(
            user,
            AccountEvent::HandleChanged {
                from,
                to,
                changed_at: at(),
            },
        )
    }
    pub fn email_changed(user: Uuid) -> Event {
        let email = EmailAddress::parse(&format!("new.{user}@example.org")).unwrap();
        account(
            user,
            AccountEvent::EmailChanged {
                email,
                changed_at: at(),
            },
        )
    }
    pub fn settings_changed(user: Uuid) -> Event {
        let settings = Settings::default();
        account(
            user,
            AccountEvent::SettingsChanged {
                settings,
                changed_at: at(),
            },
        )
    }
    pub fn consent_given(user: Uuid) -> Event {
        account(user, AccountEvent::AiProcessingConsentGiven { at: at() })
    }
    pub fn consent_withdrawn(user: Uuid) -> Event {
        account(user, AccountEvent::AiProcessingConsentWithdrawn { at: at() })
    }
    pub fn tier_changed(user: Uuid) -> Event {
        let e = AccountEvent::BillingTierChanged {
            from: BillingTier::Free,
            to: BillingTier::Plus,
            external_transaction_id: ExternalTransactionId::parse("tx-1").unwrap(),
            changed_at: at(),
        };
        account(user, e)
    }
    pub fn active_on(user: Uuid, on: time::Date) -> Event {
        account(user, AccountEvent::ActiveOn { on })
    }
    pub fn noticed(user: Uuid, erase_on: time::Date) -> Event {
        account(user, AccountEvent::InactivityNoticeRecorded { erase_on, at: at() })
    }
    pub fn password_set(user: Uuid, hash: &str) -> Event {
        let e = CredentialsEvent::PasswordSet {
            password_hash: hash.into(),
            reason: PasswordSetReason::Changed,
            at: at(),
        };
        event(crate::streams::credentials(user), user, &e)
    }
}

pub(crate) mod protocol {
    use vigil_domain::protocol::ProtocolEvent;
    use vigil_domain::values::{ProtocolId, UserId};

    use super::*;

    // Items are opaque JSON to the projection, so none are needed.
    fn protocol(user: Uuid, id: Uuid, e: ProtocolEvent) -> Event {
        event(crate::streams::protocol(id), user, &e)
    }
    fn day() -> time::Date {
        at().date()
    }

    pub fn defined(user: Uuid, id: Uuid) -> Event {
        let e = ProtocolEvent::ProtocolDefined {
            protocol_id: ProtocolId::from(id),
            owner: UserId::from(user),
            name: "TRT".into(),
            items: Vec::new(),
            effective_from: day(),
            recorded_at: at(),
        };
        protocol(user, id, e)
    }
    pub fn amended(user: Uuid, id: Uuid) -> Event {
        let e = ProtocolEvent::ProtocolAmended {
            version: 2,
            name: "TRT v2".into(),
            items: Vec::new(),
            effective_from: day(),
            reason: Some("dose".into()),
            recorded_at: at(),
        };
        protocol(user, id, e)
    }
    pub fn paused(user: Uuid, id: Uuid) -> Event {
        protocol(
            user,
            id,
            ProtocolEvent::ProtocolPaused {
                on: day(),
                reason: None,
                recorded_at: at(),
            },
        )
    }
    pub fn resumed(user: Uuid, id: Uuid) -> Event {
        protocol(
            user,
            id,
            ProtocolEvent::ProtocolResumed {
                on: day(),
                recorded_at: at(),
            },
        )
    }
    pub fn ended(user: Uuid, id: Uuid) -> Event {
        protocol(
            user,
            id,
            ProtocolEvent::ProtocolEnded {
                on: day(),
                recorded_at: at(),
            },
        )
    }
}

pub(crate) mod dose {
    use vigil_domain::compounds::{Compound, CompoundKey, Route};
    use vigil_domain::dose::{ActiveAmount, BodySide, DoseEvent, InjectionSite, SiteArea};
    use vigil_domain::protocol::dose::{Dose, DoseUnit};
    use vigil_domain::values::{DoseId, ItemId, ProtocolId};

    use super::*;

    fn doses(user: Uuid, e: DoseEvent) -> Event {
        event(crate::streams::doses(user), user, &e)
    }
    fn mg(amount: &str) -> (Dose, ActiveAmount) {
        let dose = Dose {
            amount: dec(amount),
            unit: DoseUnit::Mg,
            concentration: None,
        };
        (
            dose,
            ActiveAmount {
                amount: dec(amount),
                unit: DoseUnit::Mg,
            },
        )
    }
    fn site() -> Option<InjectionSite> {
        Some(InjectionSite {
            area: SiteArea::Glute,
            side: Some(BodySide::Left),
        })
    }

    pub fn taken(user: Uuid, id: DoseId, amount: &str) -> Event {
        let (dose, active) = mg(amount);
        let e = DoseEvent::DoseTaken {
            dose_id: id,
            protocol_id: ProtocolId::from(user),
            item_id: ItemId::from(user),
            compound: Compound::Catalog(CompoundKey::TestosteroneEnanthate),
            dose,
            active,
            route: Route::Im,
            site: site(),
            taken_at: at(),
            scheduled_for: Some(at()),
            note: Some("left".into()),
            recorded_at: at(),
        };
        doses(user, e)
    }
    pub fn skipped(user: Uuid, id: DoseId) -> Event {
        let e = DoseEvent::DoseSkipped {
            dose_id: id,
            protocol_id: ProtocolId::from(user),
            item_id: ItemId::from(user),
            scheduled_for: at(),
            reason: Some("travel".into()),
            recorded_at: at(),
        };
        doses(user, e)
    }
    pub fn corrected(user: Uuid, id: DoseId, amount: &str) -> Event {
        let (dose, active) = mg(amount);
        let e = DoseEvent::DoseCorrected {
            dose_id: id,
            dose,
            active,
            route: Route::Im,
            site: None,
            taken_at: at() + time::Duration::hours(1),
            scheduled_for: None,
            reason: None,
            corrected_at: at(),
        };
        doses(user, e)
    }
    pub fn retracted(user: Uuid, id: DoseId) -> Event {
        doses(
            user,
            DoseEvent::DoseRetracted {
                dose_id: id,
                reason: None,
                retracted_at: at(),
            },
        )
    }
}

pub(crate) mod health {
    use vigil_domain::health::{HealthEvent, VitalComponent, VitalKind};
    use vigil_domain::values::EntryId;

    use super::*;

    fn health(user: Uuid, e: HealthEvent) -> Event {
        event(crate::streams::health(user), user, &e)
    }
    fn kg(value: &str) -> Vec<VitalComponent> {
        vec![VitalComponent {
            loinc: "29463-7".into(),
            value: dec(value),
            unit: "kg".into(),
            canonical_value: dec(value),
            canonical_unit: "kg".into(),
        }]
    }

    pub fn recorded(user: Uuid, id: EntryId, value: &str) -> Event {
        let e = HealthEvent::VitalRecorded {
            entry_id: id,
            kind: VitalKind::BodyWeight,
            loinc: "29463-7".into(),
            components: kg(value),
            measured_at: at(),
            note: None,
            recorded_at: at(),
        };
        health(user, e)
    }
    pub fn corrected(user: Uuid, id: EntryId, value: &str) -> Event {
        let e = HealthEvent::VitalCorrected {
            entry_id: id,
            kind: VitalKind::BodyWeight,
            components: kg(value),
            measured_at: at() + time::Duration::minutes(5),
            reason: None,
            corrected_at: at(),
        };
        health(user, e)
    }
    pub fn retracted(user: Uuid, id: EntryId) -> Event {
        health(
            user,
            HealthEvent::VitalRetracted {
                entry_id: id,
                reason: None,
                retracted_at: at(),
            },
        )
    }
}

pub(crate) mod bloodwork {
    use vigil_domain::bloodwork::{BloodworkEvent, Flag, Marker, MarkerRef, Quantity, RecordedResult};
    use vigil_domain::values::PanelId;

    use super::*;

    fn bloodwork(user: Uuid, e: BloodworkEvent) -> Event {
        event(crate::streams::bloodwork(user), user, &e)
    }
    /// One total-testosterone result per value, then custom markers.
    fn results(values: &[&str]) -> Vec<RecordedResult> {
        values
            .iter()
            .enumerate()
            .map(|(i, v)| RecordedResult {
                loinc: (i == 0).then(|| "2986-8".into()),
                marker: if i == 0 {
                    MarkerRef::Catalog {
                        marker: Marker::TotalTestosterone,
                    }
                } else {
                    MarkerRef::Custom {
                        name: format!("Custom {i}"),
                    }
                },
                name: format!("marker {i}"),
                value: dec(v),
                unit: "ng/dL".into(),
                lab_range: None,
                canonical: Some(Quantity {
                    value: dec(v),
                    unit: "ng/dL".into(),
                }),
                si: None,
                flag: Some(Flag::N),
                flag_basis: None,
            })
            .collect()
    }

    pub fn recorded(user: Uuid, id: PanelId, values: &[&str]) -> Event {
        let e = BloodworkEvent::BloodworkRecorded {
            panel_id: id,
            drawn_at: at(),
            lab_name: Some("Lab".into()),
            results: results(values),
            recorded_at: at(),
        };
        bloodwork(user, e)
    }
    pub fn corrected(user: Uuid, id: PanelId, values: &[&str]) -> Event {
        let e = BloodworkEvent::BloodworkCorrected {
            panel_id: id,
            drawn_at: at() + time::Duration::hours(2),
            lab_name: None,
            results: results(values),
            reason: None,
            corrected_at: at(),
        };
        bloodwork(user, e)
    }
    pub fn retracted(user: Uuid, id: PanelId) -> Event {
        bloodwork(
            user,
            BloodworkEvent::BloodworkRetracted {
                panel_id: id,
                reason: None,
                retracted_at: at(),
            },
        )
    }
}
