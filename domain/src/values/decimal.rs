//! An exact decimal number that remembers how it was written.
//!
//! Owns: parsing, printing and the few exact operations the domain needs (multiply, add,
//! subtract, rounded divide). Must not: pass through `f64` on the way to storage, because
//! binary floats turn an entered 87.3 into 87.299999…; `to_f64` exists only for estimates.

use std::cmp::Ordering;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The most decimal places a value may carry.
pub const MAX_SCALE: u8 = 12;

/// A base-10 number `mantissa × 10^-scale`.
///
/// Equality is by representation: `87.30` and `87.3` are different values as entered (the
/// trailing zero records the instrument's precision). Use [`Decimal::numeric_cmp`] to compare
/// magnitudes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Decimal {
    mantissa: i64,
    scale: u8,
}

/// Why a text is not a decimal.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecimalError {
    /// Not of the form `[-]digits[.digits]`.
    #[error("`{0}` is not a decimal number (expected digits with an optional `.` fraction)")]
    Malformed(String),
    /// More digits than fit exactly.
    #[error("`{0}` has too many digits to keep exactly")]
    TooPrecise(String),
}

const POW10: [i128; 39] = {
    let mut table = [1_i128; 39];
    let mut i = 1;
    while i < 39 {
        table[i] = table[i - 1] * 10;
        i += 1;
    }
    table
};

fn pow10(exp: u32) -> Option<i128> {
    POW10.get(usize::try_from(exp).ok()?).copied()
}

impl Decimal {
    /// Zero, written `0`.
    pub const ZERO: Decimal = Decimal { mantissa: 0, scale: 0 };

    /// `mantissa × 10^-scale`; `None` when `scale` exceeds [`MAX_SCALE`].
    pub const fn new(mantissa: i64, scale: u8) -> Option<Decimal> {
        if scale > MAX_SCALE {
            None
        } else {
            Some(Decimal { mantissa, scale })
        }
    }

    /// `mantissa × 10^-scale` for constants; a scale above [`MAX_SCALE`] is capped, so
    /// only use it with literal arguments that unit tests pin.
    pub const fn from_parts(mantissa: i64, scale: u8) -> Decimal {
        Decimal {
            mantissa,
            scale: if scale > MAX_SCALE { MAX_SCALE } else { scale },
        }
    }

    /// A whole number.
    pub const fn from_int(value: i64) -> Decimal {
        Decimal {
            mantissa: value,
            scale: 0,
        }
    }

    /// The digits without the decimal point.
    pub const fn mantissa(self) -> i64 {
        self.mantissa
    }

    /// Number of digits after the decimal point.
    pub const fn scale(self) -> u8 {
        self.scale
    }

    /// Parses `[-|+]digits[.digits]`. No exponents, no thousands separators.
    ///
    /// # Errors
    /// [`DecimalError`] when the text is not a plain decimal or carries too many digits.
    pub fn parse(text: &str) -> Result<Decimal, DecimalError> {
        let trimmed = text.trim();
        let malformed = || DecimalError::Malformed(text.to_owned());
        let (negative, body) = match trimmed.as_bytes().first() {
            Some(b'-') => (true, &trimmed[1..]),
            Some(b'+') => (false, &trimmed[1..]),
            _ => (false, trimmed),
        };
        let (int_part, frac_part) = match body.split_once('.') {
            Some((i, f)) => (i, f),
            None => (body, ""),
        };
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if int_part.is_empty() && frac_part.is_empty()
            || !all_digits(int_part)
            || !all_digits(frac_part)
            || body.ends_with('.')
        {
            return Err(malformed());
        }
        let scale = u8::try_from(frac_part.len())
            .ok()
            .filter(|s| *s <= MAX_SCALE)
            .ok_or_else(|| DecimalError::TooPrecise(text.to_owned()))?;
        let too_precise = || DecimalError::TooPrecise(text.to_owned());
        let digits = format!("{int_part}{frac_part}");
        // Parsed wide so that i64::MIN, whose magnitude exceeds i64::MAX, still round-trips.
        let magnitude: i128 = digits.parse().map_err(|_| too_precise())?;
        let signed = if negative { -magnitude } else { magnitude };
        let mantissa = i64::try_from(signed).map_err(|_| too_precise())?;
        Ok(Decimal { mantissa, scale })
    }

    /// True when strictly greater than zero.
    pub const fn is_positive(self) -> bool {
        self.mantissa > 0
    }

    /// True when strictly less than zero.
    pub const fn is_negative(self) -> bool {
        self.mantissa < 0
    }

    /// True when zero, however many places are written.
    pub const fn is_zero(self) -> bool {
        self.mantissa == 0
    }

    /// Compares magnitudes, ignoring how many places were written (`87.30 == 87.3`).
    pub fn numeric_cmp(self, other: Decimal) -> Ordering {
        let scale = self.scale.max(other.scale);
        // Both fit: |mantissa| < 2^63 and the factor is at most 10^12, far below i128::MAX.
        let a = i128::from(self.mantissa) * pow10(u32::from(scale - self.scale)).unwrap_or(1);
        let b = i128::from(other.mantissa) * pow10(u32::from(scale - other.scale)).unwrap_or(1);
        a.cmp(&b)
    }

    /// Numerically equal, whatever the written precision.
    pub fn numeric_eq(self, other: Decimal) -> bool {
        self.numeric_cmp(other) == Ordering::Equal
    }

    /// Removes trailing fractional zeros: `125.000` → `125`. Used for derived values only;
    /// entered values keep their written precision.
    pub fn normalize(self) -> Decimal {
        let mut d = self;
        while d.scale > 0 && d.mantissa % 10 == 0 {
            d.mantissa /= 10;
            d.scale -= 1;
        }
        d
    }

    /// Exact product, or `None` on overflow.
    pub fn checked_mul(self, other: Decimal) -> Option<Decimal> {
        let mantissa = i128::from(self.mantissa) * i128::from(other.mantissa);
        from_wide(mantissa, u32::from(self.scale) + u32::from(other.scale))
    }

    /// Exact sum, or `None` on overflow.
    pub fn checked_add(self, other: Decimal) -> Option<Decimal> {
        let scale = self.scale.max(other.scale);
        let a = i128::from(self.mantissa) * pow10(u32::from(scale - self.scale))?;
        let b = i128::from(other.mantissa) * pow10(u32::from(scale - other.scale))?;
        from_wide(a + b, u32::from(scale))
    }

    /// Exact difference, or `None` on overflow.
    pub fn checked_sub(self, other: Decimal) -> Option<Decimal> {
        self.checked_add(Decimal {
            mantissa: other.mantissa.checked_neg()?,
            scale: other.scale,
        })
    }

    /// `self / other` rounded half away from zero to `places` decimals; `None` when
    /// dividing by zero or on overflow.
    pub fn checked_div(self, other: Decimal, places: u8) -> Option<Decimal> {
        if other.mantissa == 0 || places > MAX_SCALE {
            return None;
        }
        // value = (a / 10^sa) / (b / 10^sb); scaled result r = a * 10^(places + sb - sa) / b.
        let shift = i32::from(places) + i32::from(other.scale) - i32::from(self.scale);
        let a = i128::from(self.mantissa);
        let b = i128::from(other.mantissa);
        let (numerator, denominator) = if shift >= 0 {
            (a.checked_mul(pow10(shift.unsigned_abs())?)?, b)
        } else {
            (a, b.checked_mul(pow10(shift.unsigned_abs())?)?)
        };
        from_wide(div_round(numerator, denominator), u32::from(places))
    }

    /// Rounds half away from zero to at most `places` decimals.
    pub fn round_dp(self, places: u8) -> Decimal {
        if self.scale <= places {
            return self;
        }
        let divisor = pow10(u32::from(self.scale - places)).unwrap_or(1);
        let mantissa = div_round(i128::from(self.mantissa), divisor);
        // Rounding never grows the magnitude past the original, so it still fits.
        Decimal {
            mantissa: i64::try_from(mantissa).unwrap_or(self.mantissa),
            scale: places,
        }
    }

    /// Nearest `f64`, for estimates and charts only; never store the result.
    pub fn to_f64(self) -> f64 {
        // Exact for the integer part up to 2^53; the division rounds once.
        let divisor = pow10(u32::from(self.scale)).unwrap_or(1);
        (self.mantissa as f64) / (divisor as f64)
    }
}

/// Rounds `n / d` half away from zero.
fn div_round(n: i128, d: i128) -> i128 {
    let quotient = n / d;
    let remainder = n % d;
    if remainder.abs() * 2 >= d.abs() {
        if (n < 0) == (d < 0) { quotient + 1 } else { quotient - 1 }
    } else {
        quotient
    }
}

/// Narrows an i128 mantissa. Digits beyond [`MAX_SCALE`] are rounded half away from zero;
/// trailing zeros are dropped when that is what it takes to fit in an i64.
fn from_wide(mut mantissa: i128, mut scale: u32) -> Option<Decimal> {
    let max = u32::from(MAX_SCALE);
    if scale > max {
        mantissa = div_round(mantissa, pow10(scale - max)?);
        scale = max;
    }
    while i64::try_from(mantissa).is_err() && scale > 0 && mantissa % 10 == 0 {
        mantissa /= 10;
        scale -= 1;
    }
    Some(Decimal {
        mantissa: i64::try_from(mantissa).ok()?,
        scale: u8::try_from(scale).ok()?,
    })
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.mantissa < 0 { "-" } else { "" };
        let digits = self.mantissa.unsigned_abs().to_string();
        let scale = usize::from(self.scale);
        if scale == 0 {
            return write!(f, "{sign}{digits}");
        }
        let padded = format!("{digits:0>width$}", width = scale + 1);
        let (int_part, frac_part) = padded.split_at(padded.len() - scale);
        write!(f, "{sign}{int_part}.{frac_part}")
    }
}

impl std::str::FromStr for Decimal {
    type Err = DecimalError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Decimal::parse(s)
    }
}

impl Serialize for Decimal {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // A string, so no serializer can route the value through a binary float.
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Decimal {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Decimal::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// Writes a [`Decimal`] literal in tests: `dec!("87.3")`. Test-only because it unwraps.
#[cfg(any(test, feature = "testing"))]
#[macro_export]
macro_rules! dec {
    ($text:literal) => {
        $crate::values::Decimal::parse($text).unwrap()
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(text: &str) -> Decimal {
        Decimal::parse(text).unwrap()
    }

    #[test]
    fn an_entered_value_prints_back_exactly_as_written() {
        for text in ["87.3", "87.30", "0.05", "-0.05", "120", "0", "1000000.000001"] {
            assert_eq!(d(text).to_string(), text);
        }
    }

    #[test]
    fn a_leading_plus_or_bare_fraction_is_accepted() {
        assert_eq!(d("+1.5").to_string(), "1.5");
        assert_eq!(d(".5").to_string(), "0.5");
    }

    #[test]
    fn exponents_separators_and_words_are_rejected() {
        for text in ["", "1e3", "1,000", "abc", "1.", "-", ".", "1.2.3", "NaN", "inf"] {
            assert!(Decimal::parse(text).is_err(), "{text} should be rejected");
        }
    }

    #[test]
    fn too_many_places_are_rejected_rather_than_rounded() {
        assert!(matches!(
            Decimal::parse("0.1234567890123"),
            Err(DecimalError::TooPrecise(_))
        ));
        assert!(matches!(
            Decimal::parse("99999999999999999999"),
            Err(DecimalError::TooPrecise(_))
        ));
    }

    #[test]
    fn serde_keeps_the_value_as_a_string() {
        let json = serde_json::to_string(&d("87.3")).unwrap();
        assert_eq!(json, "\"87.3\"");
        assert_eq!(serde_json::from_str::<Decimal>(&json).unwrap(), d("87.3"));
    }

    #[test]
    fn numeric_comparison_ignores_written_precision() {
        assert!(d("87.30").numeric_eq(d("87.3")));
        assert_ne!(d("87.30"), d("87.3"));
        assert_eq!(d("2").numeric_cmp(d("10")), Ordering::Less);
        assert_eq!(d("-1.5").numeric_cmp(d("-1.49")), Ordering::Less);
    }

    #[test]
    fn multiplication_is_exact() {
        assert_eq!(d("432").checked_mul(d("0.0347")).unwrap().to_string(), "14.9904");
        assert_eq!(d("0.1").checked_mul(d("0.2")).unwrap().to_string(), "0.02");
    }

    #[test]
    fn addition_and_subtraction_align_places() {
        assert_eq!(d("5.7").checked_sub(d("2.15")).unwrap().to_string(), "3.55");
        assert_eq!(d("0.1").checked_add(d("0.2")).unwrap().to_string(), "0.3");
    }

    #[test]
    fn division_rounds_half_away_from_zero() {
        assert_eq!(d("250").checked_div(d("2"), 2).unwrap().to_string(), "125.00");
        assert_eq!(d("2").checked_div(d("3"), 3).unwrap().to_string(), "0.667");
        assert_eq!(d("-2").checked_div(d("3"), 3).unwrap().to_string(), "-0.667");
        assert_eq!(d("1").checked_div(d("0"), 2), None);
    }

    #[test]
    fn rounding_and_normalising_derived_values() {
        assert_eq!(d("14.99045").round_dp(4).to_string(), "14.9905");
        assert_eq!(d("-14.99045").round_dp(4).to_string(), "-14.9905");
        assert_eq!(d("125.000").normalize().to_string(), "125");
        assert_eq!(d("1.5").round_dp(3).to_string(), "1.5");
    }

    #[test]
    fn the_dec_macro_builds_the_written_value() {
        assert_eq!(crate::dec!("87.3"), d("87.3"));
    }

    proptest! {
        #[test]
        fn printing_then_parsing_returns_the_same_decimal(mantissa in any::<i64>(), scale in 0u8..=MAX_SCALE) {
            let value = Decimal::new(mantissa, scale).unwrap();
            prop_assert_eq!(Decimal::parse(&value.to_string()).unwrap(), value);
        }

        #[test]
        fn multiplication_commutes(a in -1_000_000_i64..1_000_000, b in -1_000_000_i64..1_000_000, sa in 0u8..6, sb in 0u8..6) {
            let x = Decimal::new(a, sa).unwrap();
            let y = Decimal::new(b, sb).unwrap();
            prop_assert_eq!(x.checked_mul(y), y.checked_mul(x));
        }
    }
}
