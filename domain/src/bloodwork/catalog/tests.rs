use super::*;
use crate::bloodwork::loinc;
use crate::dec;

/// (primary LOINC, marker, conventional unit, SI unit, ×f conv→SI).
type Row = (
    &'static str,
    Marker,
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
);

/// `docs/bloodwork-catalog.md`, transcribed independently of `rows.rs`:
/// (primary LOINC, marker, conventional unit, SI unit, ×f conv→SI).
const TABLE: [Row; 27] = [
    (
        "2986-8",
        Marker::TotalTestosterone,
        "ng/dL",
        Some("nmol/L"),
        Some("0.0347"),
    ),
    (
        "2991-8",
        Marker::FreeTestosterone,
        "pg/mL",
        Some("pmol/L"),
        Some("3.467"),
    ),
    ("13967-5", Marker::Shbg, "nmol/L", Some("nmol/L"), Some("1")),
    ("2243-4", Marker::Estradiol, "pg/mL", Some("pmol/L"), Some("3.671")),
    ("10501-5", Marker::Lh, "[IU]/L", Some("IU/L"), Some("1")),
    ("15067-2", Marker::Fsh, "[IU]/L", Some("IU/L"), Some("1")),
    ("2842-3", Marker::Prolactin, "ng/mL", Some("mIU/L"), Some("21.2")),
    ("4544-3", Marker::Hematocrit, "%", Some("L/L"), Some("0.01")),
    ("718-7", Marker::Hemoglobin, "g/dL", Some("g/L"), Some("10")),
    ("789-8", Marker::RbcCount, "10*6/uL", Some("10*12/L"), Some("1")),
    ("2857-1", Marker::Psa, "ng/mL", Some("ug/L"), Some("1")),
    ("1742-6", Marker::Alt, "U/L", Some("ukat/L"), Some("0.01667")),
    ("1920-8", Marker::Ast, "U/L", Some("ukat/L"), Some("0.01667")),
    ("2324-2", Marker::Ggt, "U/L", Some("ukat/L"), Some("0.01667")),
    ("2160-0", Marker::Creatinine, "mg/dL", Some("umol/L"), Some("88.4")),
    ("98979-8", Marker::Egfr, "mL/min/{1.73_m2}", None, None),
    (
        "2093-3",
        Marker::TotalCholesterol,
        "mg/dL",
        Some("mmol/L"),
        Some("0.02586"),
    ),
    (
        "2085-9",
        Marker::HdlCholesterol,
        "mg/dL",
        Some("mmol/L"),
        Some("0.02586"),
    ),
    (
        "13457-7",
        Marker::LdlCholesterol,
        "mg/dL",
        Some("mmol/L"),
        Some("0.02586"),
    ),
    (
        "2571-8",
        Marker::Triglycerides,
        "mg/dL",
        Some("mmol/L"),
        Some("0.01129"),
    ),
    ("4548-4", Marker::Hba1c, "%", Some("mmol/mol"), None),
    ("1558-6", Marker::Glucose, "mg/dL", Some("mmol/L"), Some("0.0555")),
    ("3016-3", Marker::Tsh, "m[IU]/L", Some("mIU/L"), Some("1")),
    ("3024-7", Marker::FreeT4, "ng/dL", Some("pmol/L"), Some("12.87")),
    ("2484-4", Marker::Igf1, "ng/mL", Some("nmol/L"), Some("0.131")),
    ("2276-4", Marker::Ferritin, "ng/mL", Some("ug/L"), Some("1")),
    ("62292-8", Marker::VitaminD, "ng/mL", Some("nmol/L"), Some("2.496")),
];

/// Alternate codes (`docs/bloodwork-catalog.md`, table and pitfall 1) → marker.
const ALTERNATES: [(&str, Marker); 13] = [
    ("20568-2", Marker::Prolactin),
    ("62238-1", Marker::Egfr),
    ("33914-3", Marker::Egfr),
    ("48642-3", Marker::Egfr),
    ("48643-1", Marker::Egfr),
    ("18262-6", Marker::LdlCholesterol),
    ("2089-1", Marker::LdlCholesterol),
    ("17855-8", Marker::Hba1c),
    ("17856-6", Marker::Hba1c),
    ("2345-7", Marker::Glucose),
    ("20567-4", Marker::Ferritin),
    ("1989-3", Marker::VitaminD),
    ("35365-6", Marker::VitaminD),
];

#[test]
fn every_row_maps_its_primary_code_to_its_marker_unit_and_factor() {
    assert_eq!(MARKERS.len(), 27);
    for (code, marker, unit, si_unit, factor) in TABLE {
        assert!(loinc::is_valid(code), "{code} fails its check digit");
        assert_eq!(Marker::from_loinc(code), Some(marker), "{code}");
        let def = marker.def();
        assert_eq!(def.marker, marker);
        assert_eq!(def.loinc, code);
        assert_eq!(def.unit, unit, "{marker:?}");
        assert_eq!(def.si_unit, si_unit, "{marker:?}");
        match (def.si, factor) {
            (SiConversion::Factor(f), Some(expected)) => {
                assert_eq!(f.to_string(), expected, "{marker:?}");
            }
            (SiConversion::Hba1c, None) => assert_eq!(marker, Marker::Hba1c),
            (SiConversion::None, None) => assert_eq!(marker, Marker::Egfr),
            (si, expected) => panic!("{marker:?}: {si:?} vs {expected:?}"),
        }
        assert!(def.source.starts_with("docs/bloodwork-catalog.md #"), "{marker:?}");
        assert!(def.range.has_normal_bounds(), "{marker:?}");
    }
}

#[test]
fn every_alternate_code_maps_to_the_same_canonical_marker() {
    for (code, marker) in ALTERNATES {
        assert!(loinc::is_valid(code), "{code} fails its check digit");
        assert_eq!(Marker::from_loinc(code), Some(marker), "{code}");
        assert!(marker.def().alternate_loincs.contains(&code));
    }
    let listed: usize = MARKERS.iter().map(|m| m.alternate_loincs.len()).sum();
    assert_eq!(listed, ALTERNATES.len());
}

#[test]
fn whole_blood_glucose_is_not_mapped_to_the_serum_marker() {
    assert_eq!(Marker::from_loinc("2339-0"), None);
}

#[test]
fn every_row_recognises_its_own_units_and_converts_both_ways() {
    for def in MARKERS {
        assert_eq!(
            def.entered_unit(def.unit),
            Some(EnteredUnit::Canonical),
            "{:?}",
            def.marker
        );
        let sample = dec!("10");
        if let Some(si_unit) = def.si_unit {
            let si = def.to_si(sample).unwrap();
            let entered = def.entered_unit(si_unit).unwrap();
            let (canonical, si_back) = def.convert(si, entered).unwrap();
            assert_eq!(si_back, Some(si));
            let drift = canonical.checked_sub(sample).unwrap().to_f64().abs();
            assert!(drift < 0.001, "{:?}: 10 → {si} → {canonical}", def.marker);
        } else {
            assert_eq!(def.to_si(sample), None);
        }
    }
}

#[test]
fn each_conversion_factor_belongs_to_its_marker_not_to_the_unit() {
    let mg_dl = |marker: Marker| {
        let def = marker.def();
        def.convert(dec!("100"), def.entered_unit("mg/dL").unwrap())
            .unwrap()
            .1
            .unwrap()
    };
    assert_eq!(mg_dl(Marker::TotalCholesterol), dec!("2.586"));
    assert_eq!(mg_dl(Marker::Triglycerides), dec!("1.129"));
    assert_eq!(mg_dl(Marker::Glucose), dec!("5.55"));
}

#[test]
fn testosterone_converts_between_ng_dl_nmol_l_and_ng_ml() {
    let def = Marker::TotalTestosterone.def();
    assert_eq!(
        def.convert(dec!("432"), EnteredUnit::Canonical),
        Some((dec!("432"), Some(dec!("14.9904"))))
    );
    let (canonical, si) = def.convert(dec!("15"), def.entered_unit("nmol/l").unwrap()).unwrap();
    assert_eq!(canonical, dec!("432.2767"));
    assert_eq!(si, Some(dec!("15")));
    let (canonical, _) = def.convert(dec!("4.32"), def.entered_unit("ng/mL").unwrap()).unwrap();
    assert_eq!(canonical, dec!("432"));
}

#[test]
fn hba1c_uses_the_ifcc_formula_both_ways() {
    let def = Marker::Hba1c.def();
    // (5.7 − 2.15) × 10.929 = 38.79795 → 38.798
    assert_eq!(def.to_si(dec!("5.7")), Some(dec!("38.798")));
    assert_eq!(def.from_si(dec!("38.798")), Some(dec!("5.7")));
}

#[test]
fn the_remaining_conversions_match_the_documented_factors() {
    let si = |marker: Marker, value: &str| {
        marker
            .def()
            .to_si(crate::values::Decimal::parse(value).unwrap())
            .unwrap()
            .to_string()
    };
    assert_eq!(si(Marker::Estradiol, "30"), "110.13");
    assert_eq!(si(Marker::FreeTestosterone, "100"), "346.7");
    assert_eq!(si(Marker::Prolactin, "10"), "212");
    assert_eq!(si(Marker::Hematocrit, "45"), "0.45");
    assert_eq!(si(Marker::Hemoglobin, "15.2"), "152");
    assert_eq!(si(Marker::Alt, "30"), "0.5001");
    assert_eq!(si(Marker::Creatinine, "1.1"), "97.24");
    assert_eq!(si(Marker::FreeT4, "1.2"), "15.444");
    assert_eq!(si(Marker::Igf1, "200"), "26.2");
    assert_eq!(si(Marker::VitaminD, "40"), "99.84");
    assert_eq!(si(Marker::Shbg, "35"), "35");
}

#[test]
fn unit_spellings_are_compared_loosely_but_unknown_units_are_not_guessed() {
    let tsh = Marker::Tsh.def();
    assert_eq!(tsh.entered_unit("µIU/mL"), Some(EnteredUnit::Canonical));
    assert_eq!(tsh.entered_unit("uIU/ml"), Some(EnteredUnit::Canonical));
    let rbc = Marker::RbcCount.def();
    assert_eq!(rbc.entered_unit("10^6/µL"), Some(EnteredUnit::Canonical));
    assert_eq!(rbc.entered_unit("10^12/L"), Some(EnteredUnit::Si));
    let egfr = Marker::Egfr.def();
    assert_eq!(egfr.entered_unit("mL/min/1.73 m2"), Some(EnteredUnit::Canonical));
    assert_eq!(Marker::Glucose.def().entered_unit("mg/L"), None);
    assert_eq!(Marker::Estradiol.def().entered_unit("ng/dL"), None);
}
