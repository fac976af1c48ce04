//! LOINC code shape and check digit.
//!
//! A LOINC code is 1–7 digits, a hyphen and a Mod-10 (Luhn) check digit. Checking the digit
//! catches most typos; it cannot tell whether a valid code means what a lab says it means
//! (public tables mislabel some, `docs/bloodwork-catalog.md` pitfall 2), which is why the
//! catalog is unit-tested row by row.

/// Whether `code` has the LOINC shape and a correct check digit.
pub fn is_valid(code: &str) -> bool {
    let Some((body, check)) = code.split_once('-') else {
        return false;
    };
    if body.is_empty()
        || body.len() > 7
        || check.len() != 1
        || !body.bytes().all(|b| b.is_ascii_digit())
        || !check.bytes().all(|b| b.is_ascii_digit())
    {
        return false;
    }
    // Luhn: from the right, double every other digit starting with the rightmost.
    let sum: u32 = body
        .bytes()
        .rev()
        .map(|b| u32::from(b - b'0'))
        .enumerate()
        .map(|(i, digit)| {
            if i % 2 == 0 {
                let doubled = digit * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                digit
            }
        })
        .sum();
    let expected = (10 - sum % 10) % 10;
    check.bytes().next().map(|b| u32::from(b - b'0')) == Some(expected)
}

#[cfg(test)]
mod tests {
    use super::is_valid;

    #[test]
    fn the_loinc_manual_example_checks_out() {
        // LOINC users' guide worked example: 12345 has check digit 5.
        assert!(is_valid("12345-5"));
        assert!(!is_valid("12345-4"));
    }

    #[test]
    fn a_mistyped_code_fails_its_check_digit() {
        assert!(is_valid("2986-8"));
        assert!(!is_valid("2968-8"));
        assert!(!is_valid("2986-7"));
    }

    #[test]
    fn malformed_codes_are_invalid() {
        for code in ["", "2986", "-8", "2986-", "2986-88", "29a6-8", "12345678-1", "2986_8"] {
            assert!(!is_valid(code), "{code}");
        }
    }
}
