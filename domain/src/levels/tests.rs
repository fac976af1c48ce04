use std::f64::consts::LN_2;

use proptest::prelude::*;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

use super::*;
use crate::bloodwork::{Bloodwork, BloodworkCommand, BloodworkEvent, Marker, ResultInput};
use crate::compounds::{ActiveSubstance, Compound, CompoundKey};
use crate::dec;
use crate::test_support::uuid;
use crate::testing::given;
use crate::values::{Decimal, PanelId};

const T0: OffsetDateTime = datetime!(2026-01-05 08:00 UTC);

fn te() -> Compound {
    Compound::Catalog(CompoundKey::TestosteroneEnanthate)
}

fn dose(compound: Compound, mg: i64, days_after_t0: f64) -> ModelDose {
    ModelDose {
        compound,
        amount: Decimal::from_int(mg),
        at: T0 + Duration::seconds_f64(days_after_t0 * 86_400.0),
    }
}

fn days(d: f64) -> OffsetDateTime {
    T0 + Duration::seconds_f64(d * 86_400.0)
}

fn close(a: f64, b: f64, tolerance: f64) -> bool {
    (a - b).abs() <= tolerance
}

#[test]
fn a_single_dose_rises_from_zero_and_peaks_at_the_catalog_tmax() {
    let params = ModelSettings::default().params(&te()).unwrap();
    let rates = Rates::for_params(&params).unwrap();
    assert_eq!(rates.unit_dose(-1.0), 0.0);
    assert_eq!(rates.unit_dose(0.0), 0.0);
    let peak_day = (1..=200)
        .map(|i| f64::from(i) * 0.05)
        .max_by(|a, b| rates.unit_dose(*a).total_cmp(&rates.unit_dose(*b)))
        .unwrap();
    assert!(close(peak_day, 3.0, 0.05), "peak at {peak_day}");
    // The terminal slope is the ester half-life: 4.5 days later the level has halved.
    let ratio = rates.unit_dose(40.0 + 4.5) / rates.unit_dose(40.0);
    assert!(close(ratio, 0.5, 1e-3), "{ratio}");
}

#[test]
fn the_equal_rate_limit_joins_the_general_curve_smoothly() {
    let k = LN_2 / 4.5;
    let equal = Rates { slow: k, fast: k };
    let almost = Rates {
        slow: k,
        fast: k * (1.0 + 1e-6),
    };
    for t in [0.5, 3.0, 6.49, 20.0] {
        let (a, b) = (equal.unit_dose(t), almost.unit_dose(t));
        assert!(a.is_finite() && a > 0.0);
        assert!(close(a, b, 1e-5 * a.max(1e-12)), "t={t}: {a} vs {b}");
    }
}

#[test]
fn a_tmax_beyond_the_equal_rate_peak_falls_back_to_equal_rates() {
    let params = PkParams {
        active: ActiveSubstance::Testosterone,
        half_life_days: 1.0,
        tmax_days: Some(10.0),
        free_base_fraction: 1.0,
    };
    let rates = Rates::for_params(&params).unwrap();
    assert_eq!(rates.slow, rates.fast);
    assert!(rates.unit_dose(2.0).is_finite());
}

#[test]
fn steady_state_matches_the_worked_example() {
    // TE t½ 4.5 d with ka = ln2/1 d: 125 mg E3.5D ≈ 1.17 peak:trough, R ≈ 2.4;
    // 250 mg weekly ≈ 1.70, R ≈ 1.52.
    let rates = Rates::from_half_lives(4.5, 1.0).unwrap();
    let split = steady_state(rates, 3.5).unwrap();
    assert!(close(split.peak_to_trough.unwrap(), 1.17, 0.005), "{split:?}");
    assert!(close(split.accumulation, 2.40, 0.005), "{split:?}");
    let weekly = steady_state(rates, 7.0).unwrap();
    assert!(close(weekly.peak_to_trough.unwrap(), 1.70, 0.005), "{weekly:?}");
    assert!(close(weekly.accumulation, 1.52, 0.005), "{weekly:?}");
    assert!(weekly.peak_after_days > 0.0 && weekly.peak_after_days < 7.0);
}

#[test]
fn steady_state_handles_equal_rates_and_vanishing_troughs() {
    let k = LN_2 / 4.5;
    let equal = steady_state(Rates { slow: k, fast: k }, 7.0).unwrap();
    let ratio = equal.peak_to_trough.unwrap();
    assert!(ratio.is_finite() && ratio > 1.0);
    let fast = Rates::from_half_lives(0.01, 0.001).unwrap();
    assert_eq!(steady_state(fast, 365.0).unwrap().peak_to_trough, None);
    assert_eq!(steady_state(fast, 0.0), None);
}

#[test]
fn levels_superpose_across_doses() {
    let settings = ModelSettings::default();
    let first = [dose(te(), 125, 0.0)];
    let second = [dose(te(), 125, 3.5)];
    let both = [dose(te(), 125, 0.0), dose(te(), 125, 3.5)];
    let at = days(5.0);
    let sum = level_at(&first, &settings, ActiveSubstance::Testosterone, at)
        + level_at(&second, &settings, ActiveSubstance::Testosterone, at);
    let together = level_at(&both, &settings, ActiveSubstance::Testosterone, at);
    assert!(close(sum, together, 1e-9));
}

#[test]
fn the_free_base_fraction_scales_the_level() {
    let settings = ModelSettings {
        overrides: vec![(
            Compound::Catalog(CompoundKey::TestosteroneCypionate),
            PkOverride {
                half_life_days: Some(4.5),
                tmax_days: Some(3.0),
                ..PkOverride::default()
            },
        )],
        ..ModelSettings::default()
    };
    let at = days(4.0);
    let te_level = level_at(&[dose(te(), 100, 0.0)], &settings, ActiveSubstance::Testosterone, at);
    let tc = Compound::Catalog(CompoundKey::TestosteroneCypionate);
    let tc_level = level_at(&[dose(tc, 100, 0.0)], &settings, ActiveSubstance::Testosterone, at);
    assert!(close(tc_level / te_level, 0.70 / 0.72, 1e-9));
}

#[test]
fn the_calculator_basis_and_overrides_change_the_half_life() {
    let calculator = ModelSettings {
        basis: HalfLifeBasis::Calculator,
        ..ModelSettings::default()
    };
    assert_eq!(calculator.params(&te()).unwrap().half_life_days, 7.5);
    // No clinical value for trenbolone enanthate: the calculator value is used.
    let tren_e = Compound::Catalog(CompoundKey::TrenboloneEnanthate);
    assert_eq!(ModelSettings::default().params(&tren_e).unwrap().half_life_days, 6.0);
    let broken = ModelSettings {
        overrides: vec![(
            te(),
            PkOverride {
                half_life_days: Some(-1.0),
                ..PkOverride::default()
            },
        )],
        ..ModelSettings::default()
    };
    assert_eq!(broken.params(&te()), None);
}

#[test]
fn a_custom_compound_is_modelled_only_with_user_parameters() {
    let custom = Compound::Custom {
        name: "Test blend".into(),
        ester: None,
    };
    let doses = [dose(custom.clone(), 100, 0.0), dose(te(), 100, 0.0)];
    let series = estimate_series(
        &doses,
        &ModelSettings::default(),
        ActiveSubstance::Testosterone,
        T0,
        days(2.0),
        Duration::days(1),
        1.0,
    );
    assert_eq!(series.unmodelled_doses, 1);
    assert_eq!(series.points.len(), 3);
    let settings = ModelSettings {
        overrides: vec![(
            custom,
            PkOverride {
                half_life_days: Some(5.0),
                active: Some(ActiveSubstance::Testosterone),
                ..PkOverride::default()
            },
        )],
        ..ModelSettings::default()
    };
    let series = estimate_series(
        &doses,
        &settings,
        ActiveSubstance::Testosterone,
        T0,
        days(2.0),
        Duration::days(1),
        1.0,
    );
    assert_eq!(series.unmodelled_doses, 0);
}

#[test]
fn a_series_is_bounded_scaled_and_starts_at_zero_before_any_dose() {
    let doses = [dose(te(), 125, 1.0)];
    let settings = ModelSettings::default();
    let relative = estimate_series(
        &doses,
        &settings,
        ActiveSubstance::Testosterone,
        T0,
        days(10.0),
        Duration::hours(12),
        1.0,
    );
    let scaled = estimate_series(
        &doses,
        &settings,
        ActiveSubstance::Testosterone,
        T0,
        days(10.0),
        Duration::hours(12),
        3.0,
    );
    assert_eq!(relative.points[0].value, 0.0);
    assert!(
        relative
            .points
            .iter()
            .zip(&scaled.points)
            .all(|(a, b)| close(a.value * 3.0, b.value, 1e-9))
    );
    let huge = estimate_series(
        &doses,
        &settings,
        ActiveSubstance::Testosterone,
        T0,
        days(100_000.0),
        Duration::minutes(1),
        1.0,
    );
    assert_eq!(huge.points.len(), MAX_POINTS);
    let none = estimate_series(
        &doses,
        &settings,
        ActiveSubstance::Testosterone,
        T0,
        days(1.0),
        Duration::ZERO,
        1.0,
    );
    assert!(none.points.is_empty());
}

#[test]
fn other_substances_are_not_mixed_into_a_curve() {
    let doses = [dose(Compound::Catalog(CompoundKey::NandroloneDecanoate), 200, 0.0)];
    let level = level_at(
        &doses,
        &ModelSettings::default(),
        ActiveSubstance::Testosterone,
        days(3.0),
    );
    assert_eq!(level, 0.0);
}

#[test]
fn calibration_is_the_mean_lab_to_model_ratio() {
    let exact = Calibration::fit(&[(600.0, 2.0), (900.0, 3.0)]).unwrap();
    assert!(close(exact.scale, 300.0, 1e-9));
    assert!(close(exact.residual_sd.unwrap(), 0.0, 1e-9));
    assert_eq!(exact.draws, 2);
    let single = Calibration::fit(&[(500.0, 2.0), (f64::NAN, 1.0), (100.0, 0.0)]).unwrap();
    assert_eq!((single.draws, single.residual_sd), (1, None));
    assert_eq!(Calibration::fit(&[(100.0, 0.0)]), None);
    assert_eq!(Calibration::fit(&[]), None);
}

fn panel(n: u128, drawn_at: OffsetDateTime, tt: &str) -> BloodworkEvent {
    given::<Bloodwork>([])
        .when(BloodworkCommand::RecordPanel {
            panel_id: PanelId::from_uuid(uuid(n)),
            drawn_at,
            lab_name: None,
            results: vec![ResultInput {
                loinc: Some("2986-8".into()),
                name: None,
                value: Decimal::parse(tt).unwrap(),
                unit: "ng/dL".into(),
                lab_range: None,
            }],
            recorded_at: drawn_at,
        })
        .then_accepted()
        .remove(0)
}

#[test]
fn each_draw_gets_days_since_the_last_dose_and_the_modelled_level() {
    let doses = [dose(te(), 125, 0.0), dose(te(), 125, 3.5)];
    let bloodwork = given::<Bloodwork>([panel(1, days(5.25), "650"), panel(2, days(-2.0), "300")])
        .state()
        .clone();
    let settings = ModelSettings::default();
    let contexts = draw_contexts(
        &bloodwork,
        &doses,
        &settings,
        ActiveSubstance::Testosterone,
        Some(Marker::TotalTestosterone),
    );
    assert_eq!(contexts.len(), 2);
    let before = &contexts[0];
    assert_eq!((before.last_dose_at, before.days_since_last_dose), (None, None));
    assert_eq!(before.modelled_level, 0.0);
    let after = &contexts[1];
    assert_eq!(after.days_since_last_dose, Some(dec!("1.75")));
    assert_eq!(after.marker_value, Some(dec!("650")));
    assert!(close(
        after.modelled_level,
        level_at(&doses, &settings, ActiveSubstance::Testosterone, days(5.25)),
        1e-12
    ));
    let calibration = Calibration::from_draws(&contexts).unwrap();
    assert_eq!(calibration.draws, 1);
    assert!(close(calibration.scale * after.modelled_level, 650.0, 1e-6));
}

fn any_compound() -> impl Strategy<Value = Compound> {
    prop::sample::select(vec![
        CompoundKey::TestosteroneEnanthate,
        CompoundKey::TestosteroneCypionate,
        CompoundKey::TestosteronePropionate,
        CompoundKey::TestosteroneUndecanoate,
        CompoundKey::Anastrozole,
        CompoundKey::Hcg,
    ])
    .prop_map(Compound::Catalog)
}

proptest! {
    #[test]
    fn estimates_are_never_nan_infinite_or_negative(
        doses in prop::collection::vec((any_compound(), 0_i64..2000, -30.0_f64..60.0), 0..20),
        half_life in prop_oneof![Just(None), (0.0001_f64..500.0).prop_map(Some), Just(Some(f64::NAN)), Just(Some(-3.0))],
        tmax in prop_oneof![Just(None), (0.0001_f64..100.0).prop_map(Some), Just(Some(f64::INFINITY))],
    ) {
        let doses: Vec<ModelDose> = doses.into_iter().map(|(c, mg, d)| dose(c, mg, d)).collect();
        let settings = ModelSettings {
            overrides: vec![(te(), PkOverride { half_life_days: half_life, tmax_days: tmax, ..PkOverride::default() })],
            ..ModelSettings::default()
        };
        for substance in [ActiveSubstance::Testosterone, ActiveSubstance::Hcg, ActiveSubstance::Anastrozole] {
            let series = estimate_series(&doses, &settings, substance, days(-31.0), days(90.0), Duration::hours(6), 1.0);
            for point in &series.points {
                prop_assert!(point.value.is_finite() && point.value >= 0.0, "{point:?}");
            }
        }
        if let Some(params) = settings.params(&te())
            && let Some(rates) = Rates::for_params(&params)
        {
            let steady = steady_state(rates, 3.5).unwrap();
            prop_assert!(steady.accumulation.is_finite() && steady.accumulation >= 0.0);
            if let Some(ratio) = steady.peak_to_trough {
                prop_assert!(ratio.is_finite() && ratio >= 1.0);
            }
        }
    }
}
