//! Recognising a catalogued marker by the name a report prints, when no LOINC code is given.
//!
//! Owns: the report names of each marker and how names are compared (case, spaces and
//! punctuation do not matter: `IGF-1` = `igf 1`). Must not: override a code. A result that
//! carries a LOINC code is identified by the code alone, so a method-specific code the catalog
//! deliberately leaves out (whole-blood glucose) stays custom whatever it is called. Names that
//! could mean several analytes ("glucose": fasting or not, plasma or whole blood) are not
//! listed.

use super::Marker;

/// Names reports print for `marker`, besides its catalog name.
const fn names(marker: Marker) -> &'static [&'static str] {
    match marker {
        Marker::TotalTestosterone => &["Testosterone", "Testosterone, total", "Total T"],
        Marker::FreeTestosterone => &["Testosterone, free", "Free T"],
        Marker::Shbg => &["Sex hormone-binding globulin", "Sex hormone binding globulin"],
        Marker::Estradiol => &["Estradiol", "Oestradiol", "E2", "Estradiol, sensitive"],
        Marker::Lh => &["Luteinizing hormone", "Luteinising hormone"],
        Marker::Fsh => &["Follicle-stimulating hormone", "Follicle stimulating hormone"],
        Marker::Prolactin => &["PRL"],
        Marker::Hematocrit => &["Haematocrit", "HCT", "Packed cell volume", "PCV"],
        Marker::Hemoglobin => &["Haemoglobin", "HGB", "Hb"],
        Marker::RbcCount => &["RBC", "Red blood cell count", "Red blood cells", "Erythrocytes"],
        Marker::Psa => &["PSA", "Total PSA", "Prostate-specific antigen"],
        Marker::Alt => &["Alanine aminotransferase", "ALAT", "SGPT"],
        Marker::Ast => &["Aspartate aminotransferase", "ASAT", "SGOT"],
        Marker::Ggt => &["Gamma-glutamyl transferase", "Gamma GT", "GGT"],
        Marker::Creatinine => &["Serum creatinine"],
        Marker::Egfr => &["Estimated GFR", "GFR, estimated"],
        Marker::TotalCholesterol => &["Cholesterol", "Cholesterol, total"],
        Marker::HdlCholesterol => &["HDL", "HDL-C", "Cholesterol, HDL"],
        Marker::LdlCholesterol => &["LDL", "LDL-C", "Cholesterol, LDL"],
        Marker::Triglycerides => &["Triglyceride", "TG"],
        Marker::Hba1c => &["Hemoglobin A1c", "Haemoglobin A1c", "A1c", "Glycated hemoglobin"],
        Marker::Glucose => &["Glucose, fasting", "Fasting plasma glucose"],
        Marker::Tsh => &["Thyroid-stimulating hormone", "Thyrotropin"],
        Marker::FreeT4 => &["FT4", "Free thyroxine", "Thyroxine, free"],
        Marker::Igf1 => &["IGF-I", "Insulin-like growth factor 1", "Somatomedin C"],
        Marker::Ferritin => &["Serum ferritin"],
        Marker::VitaminD => &["Vitamin D", "25-hydroxyvitamin D", "Vitamin D, 25-hydroxy", "25(OH)D"],
    }
}

/// A name reduced to lower-case letters and digits.
fn key(name: &str) -> String {
    name.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// The marker a report name stands for, if it names one unambiguously.
pub fn marker_named(name: &str) -> Option<Marker> {
    let wanted = key(name);
    if wanted.is_empty() {
        return None;
    }
    super::MARKERS
        .iter()
        .find(|def| key(def.name) == wanted || names(def.marker).iter().any(|n| key(n) == wanted))
        .map(|def| def.marker)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_names_find_their_marker_whatever_the_spelling() {
        for (name, marker) in [
            ("Testosterone", Marker::TotalTestosterone),
            ("total testosterone", Marker::TotalTestosterone),
            ("  HEMATOCRIT ", Marker::Hematocrit),
            ("Haematocrit", Marker::Hematocrit),
            ("igf 1", Marker::Igf1),
            ("IGF-1", Marker::Igf1),
            ("25-OH Vitamin D", Marker::VitaminD),
            ("Estradiol (sensitive)", Marker::Estradiol),
            ("PSA, total", Marker::Psa),
        ] {
            assert_eq!(marker_named(name), Some(marker), "{name}");
        }
    }

    #[test]
    fn ambiguous_or_unknown_names_are_not_guessed() {
        for name in ["Glucose", "Potassium", "Testosteron", "", " - "] {
            assert_eq!(marker_named(name), None, "{name:?}");
        }
    }

    #[test]
    fn no_name_stands_for_two_markers() {
        let mut seen = std::collections::BTreeMap::new();
        for def in super::super::MARKERS {
            for name in std::iter::once(&def.name).chain(names(def.marker)) {
                if let Some(other) = seen.insert(key(name), def.marker) {
                    assert_eq!(other, def.marker, "{name} names {other:?} and {:?}", def.marker);
                }
            }
        }
    }
}
