use proptest::prelude::*;
use time::Weekday::{Friday, Monday, Thursday, Tuesday, Wednesday};
use time::macros::datetime;

use super::*;
use crate::dec;

fn every(days: &str) -> Frequency {
    Frequency::Scheduled {
        cadence: Cadence::EveryNDays {
            days: Decimal::parse(days).unwrap(),
        },
    }
}

fn on(days: WeekdaySet) -> Frequency {
    Frequency::Scheduled {
        cadence: Cadence::Weekdays { days },
    }
}

#[test]
fn the_documented_notations_parse_to_their_intervals() {
    let cases = [
        ("ED", "1"),
        ("EOD", "2"),
        ("E2D", "2"),
        ("E3D", "3"),
        ("E3.5D", "3.5"),
        ("2x/wk", "3.5"),
        ("weekly", "7"),
        ("/wk", "7"),
    ];
    for (text, interval) in cases {
        let frequency = Frequency::parse(text).unwrap();
        assert_eq!(
            frequency.interval_days(),
            Some(Decimal::parse(interval).unwrap()),
            "{text}"
        );
    }
}

#[test]
fn notation_is_read_whatever_the_case_spacing_or_times_sign() {
    assert_eq!(Frequency::parse(" e3.5d ").unwrap(), every("3.5"));
    assert_eq!(Frequency::parse("Daily").unwrap(), every("1"));
    assert_eq!(
        Frequency::parse("2 × / wk").unwrap(),
        Frequency::Scheduled {
            cadence: Cadence::TimesPerWeek { times: 2 }
        }
    );
    assert_eq!(
        Frequency::parse("3x per week").unwrap(),
        Frequency::Scheduled {
            cadence: Cadence::TimesPerWeek { times: 3 }
        }
    );
}

#[test]
fn weekday_lists_and_letter_runs_parse_to_the_same_days() {
    assert_eq!(Frequency::parse("MWF").unwrap(), on(WeekdaySet::MWF));
    assert_eq!(Frequency::parse("Mon, Wed, Fri").unwrap(), on(WeekdaySet::MWF));
    assert_eq!(
        Frequency::parse("monday/wednesday/friday").unwrap(),
        on(WeekdaySet::MWF)
    );
    let mon_thu = on(WeekdaySet::of([Monday, Thursday]));
    assert_eq!(Frequency::parse("Mon/Thu").unwrap(), mon_thu);
    assert_eq!(Frequency::parse("MTh").unwrap(), mon_thu);
    assert_eq!(
        Frequency::parse("TuTh").unwrap(),
        on(WeekdaySet::of([Tuesday, Thursday]))
    );
    assert_eq!(
        Frequency::parse("Sat & Sun").unwrap(),
        on(WeekdaySet::of([time::Weekday::Saturday, time::Weekday::Sunday]))
    );
}

#[test]
fn a_bare_t_is_rejected_as_ambiguous() {
    assert_eq!(Frequency::parse("MTWTF"), Err(FrequencyError::AmbiguousWeekday));
    assert_eq!(Frequency::parse("T/F"), Err(FrequencyError::AmbiguousWeekday));
}

#[test]
fn prn_means_as_needed_with_no_interval() {
    assert_eq!(Frequency::parse("PRN").unwrap(), Frequency::AsNeeded);
    assert_eq!(Frequency::parse("as needed").unwrap(), Frequency::AsNeeded);
    assert_eq!(Frequency::AsNeeded.interval_days(), None);
    assert!(Frequency::AsNeeded.timing().as_needed);
}

#[test]
fn a_weekly_total_split_e3_5d_gives_half_the_total_per_dose() {
    let frequency = Frequency::parse("250 mg/wk split E3.5D").unwrap();
    assert_eq!(
        frequency,
        Frequency::SplitWeekly {
            weekly_total: dec!("250"),
            unit: DoseUnit::Mg,
            cadence: Cadence::EveryNDays { days: dec!("3.5") },
        }
    );
    assert_eq!(frequency.split_dose(), Some((dec!("125"), DoseUnit::Mg)));
    assert_eq!(frequency.interval_days(), Some(dec!("3.5")));
}

#[test]
fn split_totals_spread_over_every_kind_of_cadence() {
    let per_dose = |text: &str| Frequency::parse(text).unwrap().split_dose().unwrap().0.to_string();
    assert_eq!(per_dose("140mg/week split ED"), "20");
    assert_eq!(per_dose("150 mg/wk split MWF"), "50");
    assert_eq!(per_dose("100 mg/wk split 3x/wk"), "33.3333");
    assert_eq!(per_dose("1500 IU/wk split EOD"), "428.5714");
}

#[test]
fn malformed_splits_are_rejected_with_a_reason() {
    assert_eq!(
        Frequency::parse("250 bananas/wk split E3.5D"),
        Err(FrequencyError::InvalidSplitTotal)
    );
    assert_eq!(
        Frequency::parse("0 mg/wk split E3.5D"),
        Err(FrequencyError::InvalidSplitTotal)
    );
    assert_eq!(
        Frequency::parse("250 mg/wk split PRN"),
        Err(FrequencyError::InvalidSplitCadence)
    );
}

#[test]
fn out_of_range_intervals_are_rejected() {
    assert_eq!(Frequency::parse("E0D"), Err(FrequencyError::Zero));
    assert_eq!(Frequency::parse("0x/wk"), Err(FrequencyError::Zero));
    assert_eq!(Frequency::parse("E400D"), Err(FrequencyError::IntervalTooLong));
    assert_eq!(Frequency::parse("E3.333D"), Err(FrequencyError::IntervalTooPrecise));
    assert_eq!(Frequency::parse("8x/wk"), Err(FrequencyError::TooManyPerWeek));
}

#[test]
fn unknown_text_is_rejected_and_quoted() {
    assert_eq!(
        Frequency::parse("whenever"),
        Err(FrequencyError::Unrecognised("whenever".into()))
    );
    assert!(matches!(Frequency::parse(""), Err(FrequencyError::Unrecognised(_))));
}

#[test]
fn a_schedule_keeps_the_raw_text_beside_the_parsed_form() {
    let schedule = Schedule::parse(" e3.5d").unwrap();
    assert_eq!(schedule.raw, " e3.5d");
    assert_eq!(schedule.frequency.to_string(), "E3.5D");
}

#[test]
fn canonical_printing_uses_the_common_abbreviations() {
    assert_eq!(every("1").to_string(), "ED");
    assert_eq!(every("2").to_string(), "EOD");
    assert_eq!(every("7").to_string(), "weekly");
    assert_eq!(every("10").to_string(), "E10D");
    assert_eq!(on(WeekdaySet::MWF).to_string(), "MWF");
    assert_eq!(on(WeekdaySet::of([Monday, Thursday])).to_string(), "Mon/Thu");
}

#[test]
fn fhir_timing_follows_the_documented_table() {
    let t = Frequency::parse("E3.5D").unwrap().timing();
    assert_eq!(
        (t.frequency, t.period, t.period_unit),
        (Some(1), Some(dec!("3.5")), Some("d"))
    );
    let t = Frequency::parse("weekly").unwrap().timing();
    assert_eq!(
        (t.frequency, t.period, t.period_unit),
        (Some(1), Some(dec!("1")), Some("wk"))
    );
    let t = Frequency::parse("MWF").unwrap().timing();
    assert_eq!(t.frequency, Some(3));
    assert_eq!(t.day_of_week, vec!["mon", "wed", "fri"]);
}

#[test]
fn e3_5d_occurrences_alternate_between_morning_and_evening() {
    let anchor = datetime!(2026-03-02 08:00 UTC);
    let found = every("3.5").occurrences(anchor, anchor, datetime!(2026-03-10 00:00 UTC));
    assert_eq!(
        found,
        vec![
            datetime!(2026-03-02 08:00 UTC),
            datetime!(2026-03-05 20:00 UTC),
            datetime!(2026-03-09 08:00 UTC),
        ]
    );
}

#[test]
fn occurrences_start_from_the_window_not_the_anchor() {
    let anchor = datetime!(2026-01-01 09:00 UTC);
    let found = every("1").occurrences(
        anchor,
        datetime!(2026-02-01 09:00:01 UTC),
        datetime!(2026-02-03 10:00 UTC),
    );
    assert_eq!(
        found,
        vec![datetime!(2026-02-02 09:00 UTC), datetime!(2026-02-03 09:00 UTC)]
    );
}

#[test]
fn weekday_occurrences_use_the_anchor_time_and_offset() {
    let anchor = datetime!(2026-03-02 07:30 +02:00); // a Monday
    let found =
        on(WeekdaySet::MWF).occurrences(anchor, datetime!(2026-03-01 00:00 UTC), datetime!(2026-03-07 00:00 UTC));
    assert_eq!(
        found,
        vec![
            datetime!(2026-03-02 07:30 +02:00),
            datetime!(2026-03-04 07:30 +02:00),
            datetime!(2026-03-06 07:30 +02:00),
        ]
    );
    assert_eq!(found[1].weekday(), Wednesday);
    assert_eq!(found[2].weekday(), Friday);
}

#[test]
fn prn_has_no_occurrences_and_windows_are_bounded() {
    let anchor = datetime!(2026-01-01 09:00 UTC);
    assert!(
        Frequency::AsNeeded
            .occurrences(anchor, anchor, datetime!(2027-01-01 00:00 UTC))
            .is_empty()
    );
    let huge = every("1").occurrences(anchor, anchor, datetime!(2099-01-01 00:00 UTC));
    assert_eq!(huge.len(), occurrences::MAX_OCCURRENCES);
}

#[test]
fn frequencies_round_trip_through_serde() {
    for text in ["ED", "2x/wk", "MWF", "PRN", "250 mg/wk split E3.5D"] {
        let frequency = Frequency::parse(text).unwrap();
        let json = serde_json::to_string(&frequency).unwrap();
        assert_eq!(serde_json::from_str::<Frequency>(&json).unwrap(), frequency, "{json}");
    }
}

fn any_cadence() -> impl Strategy<Value = Cadence> {
    prop_oneof![
        (1_i64..=36_500)
            .prop_filter("at most 365 days", |hundredths| *hundredths <= 36_500)
            .prop_map(|hundredths| Cadence::EveryNDays {
                days: Decimal::new(hundredths, 2).unwrap().normalize()
            }),
        (1_u8..=7).prop_map(|times| Cadence::TimesPerWeek { times }),
        (1_u8..128).prop_map(|bits| Cadence::Weekdays {
            days: WeekdaySet::of(
                [
                    Monday,
                    Tuesday,
                    Wednesday,
                    Thursday,
                    Friday,
                    time::Weekday::Saturday,
                    time::Weekday::Sunday
                ]
                .into_iter()
                .enumerate()
                .filter(|(i, _)| bits & (1 << i) != 0)
                .map(|(_, d)| d)
            )
        }),
    ]
}

fn any_frequency() -> impl Strategy<Value = Frequency> {
    let unit = prop_oneof![
        Just(DoseUnit::Mg),
        Just(DoseUnit::Mcg),
        Just(DoseUnit::Iu),
        Just(DoseUnit::Ml)
    ];
    prop_oneof![
        any_cadence().prop_map(|cadence| Frequency::Scheduled { cadence }),
        (1_i64..100_000, 0_u8..3, unit, any_cadence()).prop_map(|(m, s, unit, cadence)| {
            Frequency::SplitWeekly {
                weekly_total: Decimal::new(m, s).unwrap(),
                unit,
                cadence,
            }
        }),
        Just(Frequency::AsNeeded),
    ]
}

proptest! {
    #[test]
    fn printing_then_parsing_any_frequency_gives_it_back(frequency in any_frequency()) {
        prop_assert_eq!(Frequency::parse(&frequency.to_string()), Ok(frequency));
    }

    #[test]
    fn parsing_then_printing_is_stable_for_typed_variants(
        text in prop::sample::select(vec![
            "ED", "eod", "E2D", "e3d", "E3.5D", "E10D", "2x/wk", "3 x per week", "Weekly",
            "MWF", "mon/thu", "Tue, Fri", "PRN", "250 mg/wk split E3.5D", "140mg/week split ed",
            "1000 IU/wk split MWF",
        ])
    ) {
        let once = Frequency::parse(text).unwrap();
        let printed = once.to_string();
        prop_assert_eq!(Frequency::parse(&printed).unwrap(), once.clone());
        prop_assert_eq!(Frequency::parse(&printed).unwrap().to_string(), printed);
    }
}
