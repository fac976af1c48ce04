//! A protocol item as recorded, and how an [`ItemSpec`] becomes one.

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime, Time, UtcOffset};

use super::command::ItemSpec;
use super::dose::{Dose, DoseUnit};
use super::error::ItemProblem;
use super::frequency::Schedule;
use crate::compounds::{Compound, Route};
use crate::values::ItemId;
use crate::values::serde_time;

/// One compound taken on a schedule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProtocolItem {
    /// Stable across versions.
    pub item_id: ItemId,
    /// What is taken.
    pub compound: Compound,
    /// Amount per administration. For a split weekly total this is derived from the
    /// schedule (`250 mg/wk split E3.5D` → 125 mg), so projections need not recompute it.
    pub dose: Dose,
    /// How it is taken.
    pub route: Route,
    /// When, as typed and as parsed.
    pub schedule: Schedule,
    /// Usual time of day of a dose (local to the user).
    #[serde(with = "serde_time::time_of_day")]
    pub time_of_day: Time,
    /// First day.
    #[serde(with = "serde_time::date")]
    pub start: Date,
    /// Last day, if planned.
    #[serde(with = "serde_time::option_date")]
    pub end: Option<Date>,
}

impl ProtocolItem {
    /// The first scheduled dose in the user's `offset`: `start` at `time_of_day`.
    pub fn anchor(&self, offset: UtcOffset) -> OffsetDateTime {
        self.start.with_time(self.time_of_day).assume_offset(offset)
    }

    /// Whether the item runs on `date` (start and end inclusive).
    pub fn runs_on(&self, date: Date) -> bool {
        date >= self.start && self.end.is_none_or(|end| date <= end)
    }
}

const MAX_CUSTOM_NAME: usize = 100;

impl ItemSpec {
    /// Validates the spec and resolves derived facts (the per-dose amount of a split).
    pub(super) fn into_item(self) -> Result<ProtocolItem, ItemProblem> {
        let schedule = Schedule::parse(&self.schedule).map_err(ItemProblem::Schedule)?;
        if let Compound::Custom { name, .. } = &self.compound
            && (name.trim().is_empty() || name.chars().count() > MAX_CUSTOM_NAME)
        {
            return Err(ItemProblem::CustomCompoundName);
        }
        let dose = match (schedule.frequency.split_dose(), self.dose) {
            (Some((amount, unit)), None) => Dose {
                amount,
                unit,
                concentration: None,
            },
            (Some((amount, unit)), Some(given)) => {
                // A typed dose must agree with the split, or one of them is a typo.
                if given.unit != unit || !given.amount.numeric_eq(amount) {
                    return Err(ItemProblem::DoseConflictsWithSplit {
                        split: format!("{amount} {}", unit.symbol()),
                    });
                }
                given
            }
            (None, Some(given)) => given,
            (None, None) => return Err(ItemProblem::MissingDose),
        };
        dose.validate().map_err(ItemProblem::Dose)?;
        if let Compound::Catalog(key) = &self.compound {
            let info = key.info();
            // For mL the drug's unit is the concentration's (validated above to exist).
            let drug_unit = match (dose.unit, dose.concentration) {
                (DoseUnit::Ml, Some(c)) => c.unit,
                (unit, _) => unit,
            };
            if !drug_unit.suits(info.dose_kind) {
                return Err(ItemProblem::UnitUnsuitable {
                    unit: dose.unit.symbol(),
                    compound: info.name,
                });
            }
        }
        if let Some(end) = self.end
            && end < self.start
        {
            return Err(ItemProblem::EndsBeforeStart);
        }
        Ok(ProtocolItem {
            item_id: self.item_id,
            compound: self.compound,
            dose,
            route: self.route,
            schedule,
            time_of_day: self.time_of_day,
            start: self.start,
            end: self.end,
        })
    }
}
