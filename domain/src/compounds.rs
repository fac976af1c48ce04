//! The compound catalog: what a protocol item can reference and what the level estimator
//! needs to know about it.
//!
//! Owns: catalog keys, routes, dose-unit kinds and the pharmacokinetic reference values of
//! `docs/compounds.md`, each row with its source. Must not: decide anything about a user's
//! data; values are user-overridable (see [`crate::levels`]) and are estimates only.
//!
//! Half-lives differ by source, so both the clinical (terminal, after an IM depot) and the
//! calculator-convention value (enthusiast tables, often ~2× longer) are kept. Where the
//! source gives a range, the midpoint is used and the range is quoted in `source`.

use serde::{Deserialize, Serialize};

/// How a dose is administered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Route {
    /// Intramuscular injection.
    Im,
    /// Subcutaneous injection.
    Subq,
    /// By mouth.
    Oral,
    /// Through the skin (gel, patch).
    Transdermal,
}

impl Route {
    /// Whether a dose by this route goes in at an injection site (IM and SubQ do).
    pub fn takes_injection_site(self) -> bool {
        matches!(self, Route::Im | Route::Subq)
    }
}

/// Whether a compound is dosed by mass or in international units.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DoseKind {
    /// mg or mcg.
    Mass,
    /// IU (e.g. hCG).
    InternationalUnits,
}

/// The hormone or drug a compound delivers; esters of one hormone share a level curve.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActiveSubstance {
    /// Testosterone (from any ester).
    Testosterone,
    /// Nandrolone.
    Nandrolone,
    /// Trenbolone.
    Trenbolone,
    /// Anastrozole.
    Anastrozole,
    /// Human chorionic gonadotropin.
    Hcg,
}

/// A catalogued compound (hormone plus ester where there is one).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CompoundKey {
    /// Testosterone enanthate (TE).
    TestosteroneEnanthate,
    /// Testosterone cypionate (TC).
    TestosteroneCypionate,
    /// Testosterone propionate (TP).
    TestosteronePropionate,
    /// Testosterone undecanoate (TU).
    TestosteroneUndecanoate,
    /// Nandrolone decanoate (ND).
    NandroloneDecanoate,
    /// Trenbolone acetate.
    TrenboloneAcetate,
    /// Trenbolone enanthate.
    TrenboloneEnanthate,
    /// Anastrozole (oral aromatase inhibitor).
    Anastrozole,
    /// hCG.
    Hcg,
}

/// What an item or a dose is of: a catalogued compound or a user-named one.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Compound {
    /// From the catalog; the key names the ester too.
    Catalog(CompoundKey),
    /// Not in the catalog; estimated levels need user-supplied parameters.
    Custom {
        /// Name as the user typed it.
        name: String,
        /// Ester as the user typed it, if any.
        ester: Option<String>,
    },
}

/// One catalog row.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CompoundInfo {
    /// Key.
    pub key: CompoundKey,
    /// Display name.
    pub name: &'static str,
    /// Ester, when the compound is an ester.
    pub ester: Option<&'static str>,
    /// Hormone or drug delivered.
    pub active: ActiveSubstance,
    /// Routes the source describes.
    pub routes: &'static [Route],
    /// Dosed by mass or IU.
    pub dose_kind: DoseKind,
    /// Clinical (terminal) half-life in days, when known.
    pub half_life_clinical_days: Option<f64>,
    /// Calculator-convention half-life in days, when known.
    pub half_life_calculator_days: Option<f64>,
    /// Time to peak in days, when known.
    pub tmax_days: Option<f64>,
    /// Parent mass ÷ ester mass (1.0 when not an ester or dosed in IU).
    pub free_base_fraction: f64,
    /// Where the numbers come from (`docs/compounds.md`, its row and numbered sources).
    pub source: &'static str,
}

const INJECTABLE: &[Route] = &[Route::Im, Route::Subq];
const IM_ONLY: &[Route] = &[Route::Im];

/// The catalog, one row per compound.
pub const COMPOUNDS: &[CompoundInfo] = &[
    CompoundInfo {
        key: CompoundKey::TestosteroneEnanthate,
        name: "Testosterone enanthate",
        ester: Some("enanthate"),
        active: ActiveSubstance::Testosterone,
        routes: INJECTABLE,
        dose_kind: DoseKind::Mass,
        half_life_clinical_days: Some(4.5),
        half_life_calculator_days: Some(7.5),
        tmax_days: Some(3.0),
        free_base_fraction: 0.72,
        source: "docs/compounds.md #1: t½ ~4.5 d (4–5 d) [49]; calculator 7–8 d, midpoint [50]; Tmax 2–4 d, midpoint [50]; free base 0.72 [51]",
    },
    CompoundInfo {
        key: CompoundKey::TestosteroneCypionate,
        name: "Testosterone cypionate",
        ester: Some("cypionate"),
        active: ActiveSubstance::Testosterone,
        routes: INJECTABLE,
        dose_kind: DoseKind::Mass,
        half_life_clinical_days: Some(8.0),
        half_life_calculator_days: Some(12.0),
        tmax_days: Some(3.5),
        free_base_fraction: 0.70,
        source: "docs/compounds.md #2: t½ ~8 d (FDA label) [49]; calculator 12 d [50]; Tmax 2–5 d, midpoint [49]; free base 0.70 [51]",
    },
    CompoundInfo {
        key: CompoundKey::TestosteronePropionate,
        name: "Testosterone propionate",
        ester: Some("propionate"),
        active: ActiveSubstance::Testosterone,
        routes: IM_ONLY,
        dose_kind: DoseKind::Mass,
        half_life_clinical_days: Some(0.8),
        half_life_calculator_days: Some(2.5),
        tmax_days: Some(14.0 / 24.0),
        free_base_fraction: 0.84,
        source: "docs/compounds.md #3: t½ 0.8 d (~20 h) [49]; calculator 2–3 d, midpoint [50]; Tmax ~14 h after 50 mg [51]; free base 0.84",
    },
    CompoundInfo {
        key: CompoundKey::TestosteroneUndecanoate,
        name: "Testosterone undecanoate",
        ester: Some("undecanoate"),
        active: ActiveSubstance::Testosterone,
        routes: IM_ONLY,
        dose_kind: DoseKind::Mass,
        half_life_clinical_days: Some(33.9),
        half_life_calculator_days: Some(20.5),
        tmax_days: Some(7.0),
        free_base_fraction: 0.63,
        source: "docs/compounds.md #4: t½ 33.9 d in castor oil (Nebido/Aveed) [49]; calculator 20–21 d, midpoint [50]; Tmax 7 d (Nebido) [49]; free base 0.63 [51]",
    },
    CompoundInfo {
        key: CompoundKey::NandroloneDecanoate,
        name: "Nandrolone decanoate",
        ester: Some("decanoate"),
        active: ActiveSubstance::Nandrolone,
        routes: IM_ONLY,
        dose_kind: DoseKind::Mass,
        half_life_clinical_days: Some(9.0),
        half_life_calculator_days: Some(15.0),
        tmax_days: None,
        free_base_fraction: 0.64,
        source: "docs/compounds.md #5: t½ 6–12 d, midpoint [49]; calculator 15 d [50]; Tmax not given; free base 0.64",
    },
    CompoundInfo {
        key: CompoundKey::TrenboloneAcetate,
        name: "Trenbolone acetate",
        ester: Some("acetate"),
        active: ActiveSubstance::Trenbolone,
        routes: IM_ONLY,
        dose_kind: DoseKind::Mass,
        half_life_clinical_days: Some(3.0),
        half_life_calculator_days: Some(1.0),
        tmax_days: None,
        free_base_fraction: 0.865,
        source: "docs/compounds.md #6: t½ ~3 d (Wikipedia infobox; veterinary drug, little human PK) [49]; calculator ~1 d [50]; free base 0.865",
    },
    CompoundInfo {
        key: CompoundKey::TrenboloneEnanthate,
        name: "Trenbolone enanthate",
        ester: Some("enanthate"),
        active: ActiveSubstance::Trenbolone,
        routes: IM_ONLY,
        dose_kind: DoseKind::Mass,
        half_life_clinical_days: None,
        half_life_calculator_days: Some(6.0),
        tmax_days: None,
        free_base_fraction: 0.707,
        source: "docs/compounds.md #7: no human PK found; calculator 5–7 d, midpoint [50] (low confidence); free base 0.707",
    },
    CompoundInfo {
        key: CompoundKey::Anastrozole,
        name: "Anastrozole",
        ester: None,
        active: ActiveSubstance::Anastrozole,
        routes: &[Route::Oral],
        dose_kind: DoseKind::Mass,
        half_life_clinical_days: Some(50.0 / 24.0),
        half_life_calculator_days: None,
        tmax_days: Some(2.0 / 24.0),
        free_base_fraction: 1.0,
        source: "docs/compounds.md #8: t½ ~50 h, Tmax ~2 h, steady state by ~day 7 [49]; not an ester",
    },
    CompoundInfo {
        key: CompoundKey::Hcg,
        name: "hCG",
        ester: None,
        active: ActiveSubstance::Hcg,
        routes: INJECTABLE,
        dose_kind: DoseKind::InternationalUnits,
        half_life_clinical_days: Some(38.0 / 24.0),
        half_life_calculator_days: None,
        tmax_days: Some(15.0 / 24.0),
        free_base_fraction: 1.0,
        source: "docs/compounds.md #9: SC t½ 33–43 h (Swiss SmPC), midpoint [49]; SC Tmax 12–18 h, midpoint [49]; dosed in IU",
    },
];

impl CompoundKey {
    /// This compound's catalog row.
    pub fn info(self) -> &'static CompoundInfo {
        // Every key has exactly one row (pinned by a unit test); the first row is an
        // unreachable fallback that keeps this total without a panic.
        COMPOUNDS.iter().find(|row| row.key == self).unwrap_or(&COMPOUNDS[0])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [CompoundKey; 9] = [
        CompoundKey::TestosteroneEnanthate,
        CompoundKey::TestosteroneCypionate,
        CompoundKey::TestosteronePropionate,
        CompoundKey::TestosteroneUndecanoate,
        CompoundKey::NandroloneDecanoate,
        CompoundKey::TrenboloneAcetate,
        CompoundKey::TrenboloneEnanthate,
        CompoundKey::Anastrozole,
        CompoundKey::Hcg,
    ];

    #[test]
    fn every_key_has_exactly_one_row_with_a_source() {
        assert_eq!(COMPOUNDS.len(), ALL.len());
        for key in ALL {
            let rows: Vec<_> = COMPOUNDS.iter().filter(|r| r.key == key).collect();
            assert_eq!(rows.len(), 1, "{key:?}");
            assert_eq!(key.info().key, key);
            assert!(key.info().source.starts_with("docs/compounds.md #"), "{key:?}");
        }
    }

    #[test]
    fn every_row_has_a_usable_half_life_and_fraction() {
        for row in COMPOUNDS {
            assert!(
                row.half_life_clinical_days.or(row.half_life_calculator_days).is_some(),
                "{:?} has no half-life",
                row.key
            );
            assert!(row.free_base_fraction > 0.0 && row.free_base_fraction <= 1.0);
        }
    }

    #[test]
    fn catalog_rows_match_the_documented_values() {
        let te = CompoundKey::TestosteroneEnanthate.info();
        assert_eq!((te.half_life_clinical_days, te.free_base_fraction), (Some(4.5), 0.72));
        let tc = CompoundKey::TestosteroneCypionate.info();
        assert_eq!((tc.half_life_clinical_days, tc.free_base_fraction), (Some(8.0), 0.70));
        let tp = CompoundKey::TestosteronePropionate.info();
        assert_eq!((tp.half_life_clinical_days, tp.free_base_fraction), (Some(0.8), 0.84));
        let tu = CompoundKey::TestosteroneUndecanoate.info();
        assert_eq!((tu.half_life_clinical_days, tu.free_base_fraction), (Some(33.9), 0.63));
        let nd = CompoundKey::NandroloneDecanoate.info();
        assert_eq!(
            (nd.half_life_calculator_days, nd.free_base_fraction),
            (Some(15.0), 0.64)
        );
        let ta = CompoundKey::TrenboloneAcetate.info();
        assert_eq!((ta.half_life_clinical_days, ta.free_base_fraction), (Some(3.0), 0.865));
        let tre = CompoundKey::TrenboloneEnanthate.info();
        assert_eq!((tre.half_life_clinical_days, tre.free_base_fraction), (None, 0.707));
        let ai = CompoundKey::Anastrozole.info();
        assert!((ai.half_life_clinical_days.unwrap() - 50.0 / 24.0).abs() < 1e-12);
        assert_eq!(CompoundKey::Hcg.info().dose_kind, DoseKind::InternationalUnits);
    }
}
