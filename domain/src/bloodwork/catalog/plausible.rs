//! Plausibility bounds of the catalogued markers, in each marker's canonical unit.
//!
//! Owns: the window outside which a value cannot be a real result of a living person, so it is
//! a typo or a unit mix-up (hematocrit 150 %, testosterone 10¹² ng/dL). Must not: act as a
//! reference range or a flag. Each window is wider than the most extreme values reported in the
//! literature (after dilution, beyond any assay's measuring range), so a true extreme result is
//! never refused. The table with its sources is `docs/bloodwork-plausibility.md`.

use super::Marker;
use crate::values::Decimal;

/// The inclusive window a canonical value must fall in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plausible {
    /// Lowest possible value.
    pub min: Decimal,
    /// Highest possible value.
    pub max: Decimal,
}

impl Plausible {
    /// Whether `value` lies in the window.
    pub fn contains(&self, value: Decimal) -> bool {
        value.numeric_cmp(self.min).is_ge() && value.numeric_cmp(self.max).is_le()
    }
}

const fn window(min: Decimal, max: Decimal) -> Plausible {
    Plausible { min, max }
}

/// From zero (an undetectable level is a real result) up to `max`.
const fn up_to(max: i64) -> Plausible {
    window(Decimal::from_int(0), Decimal::from_int(max))
}

const fn d(mantissa: i64, scale: u8) -> Decimal {
    Decimal::from_parts(mantissa, scale)
}

/// The window of `marker`, in its canonical unit (see `MarkerDef::unit`).
pub const fn of(marker: Marker) -> Plausible {
    match marker {
        // ng/dL: 20× the top of the Roche Elecsys range (1 500); above reported androgen abuse.
        Marker::TotalTestosterone => up_to(30_000),
        // pg/mL: 3 % free of the total bound above.
        Marker::FreeTestosterone => up_to(10_000),
        // nmol/L: twice the SHBG of late pregnancy and hyperthyroidism (a few hundred).
        Marker::Shbg => up_to(1_000),
        // pg/mL: late pregnancy reaches 15 000–30 000.
        Marker::Estradiol => up_to(100_000),
        // IU/L: menopause and primary gonadal failure stay below 200.
        Marker::Lh => up_to(500),
        // IU/L: menopause and primary gonadal failure stay below 200.
        Marker::Fsh => up_to(500),
        // ng/mL: giant prolactinomas measured after dilution reach 280 000.
        Marker::Prolactin => up_to(500_000),
        // %: survivors of hemoglobin 2 g/dL (about 6 %) to chronic mountain sickness (~80 %).
        Marker::Hematocrit => window(d(3, 0), d(85, 0)),
        // g/dL: the lowest survived (2) to the highest polycythaemia (about 25).
        Marker::Hemoglobin => window(d(1, 0), d(26, 0)),
        // 10⁶/µL: the red cells of the hematocrit window (3–85 %).
        Marker::RbcCount => window(d(3, 1), d(10, 0)),
        // ng/mL: metastatic prostate cancer has been reported at 21 380.
        Marker::Psa => up_to(100_000),
        // U/L: ischaemic and paracetamol liver injury peak above 10 000.
        Marker::Alt => up_to(100_000),
        // U/L: as ALT.
        Marker::Ast => up_to(100_000),
        // U/L: cholestasis reaches a few thousand.
        Marker::Ggt => up_to(50_000),
        // mg/dL: untreated kidney failure and rhabdomyolysis stay below about 30.
        Marker::Creatinine => up_to(40),
        // mL/min/1.73 m²: glomerular hyperfiltration stays below about 200.
        Marker::Egfr => up_to(300),
        // mg/dL: homozygous familial hypercholesterolaemia and cholestatic lipoprotein X
        // reach a few thousand.
        Marker::TotalCholesterol => up_to(5_000),
        // mg/dL: CETP deficiency stays below about 250.
        Marker::HdlCholesterol => up_to(500),
        // mg/dL: homozygous familial hypercholesterolaemia reaches about 1 000.
        Marker::LdlCholesterol => up_to(3_000),
        // mg/dL: lipoprotein-lipase deficiency has been reported at 64 956.
        Marker::Triglycerides => up_to(100_000),
        // %: the highest reported are near 20.
        Marker::Hba1c => up_to(25),
        // mg/dL: 5 600 has been survived (hyperosmolar coma).
        Marker::Glucose => up_to(10_000),
        // mIU/L: severe primary hypothyroidism has been reported above 2 000.
        Marker::Tsh => up_to(5_000),
        // ng/dL: thyroid storm averages 10.9 (SD 3.8).
        Marker::FreeT4 => up_to(50),
        // ng/mL: acromegaly rarely exceeds 2 000.
        Marker::Igf1 => up_to(5_000),
        // ng/mL: haemophagocytic syndromes reach several hundred thousand.
        Marker::Ferritin => up_to(1_000_000),
        // ng/mL: vitamin D intoxication has been reported in the hundreds (364 in 20 308 tests).
        Marker::VitaminD => up_to(2_000),
    }
}
