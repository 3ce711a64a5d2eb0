//! Money is integer euro cents. The only arithmetic that can produce a fraction is a
//! percentage or a scale factor, and those round half up to a whole cent (docs/domain.md "Leges").

/// An amount in euro cents.
pub type Cents = i64;

/// `amount × numerator / denominator`, rounded half up to a whole cent.
/// Amounts are never negative here; the rounding is still correct for them
/// (half away from zero) so a negative difference mirrors a positive one.
pub fn scale_half_up(amount: Cents, numerator: i64, denominator: i64) -> Cents {
    assert!(denominator > 0, "denominator must be positive");
    let product = amount as i128 * numerator as i128;
    let den = denominator as i128;
    let rounded = if product >= 0 {
        (2 * product + den) / (2 * den)
    } else {
        -((2 * -product + den) / (2 * den))
    };
    rounded as Cents
}

/// Half of an amount, rounded half up: the 50% reduction and the 50% refund.
pub fn half_up(amount: Cents) -> Cents {
    scale_half_up(amount, 1, 2)
}

/// `1.000.000`: a whole number with Dutch grouping.
pub fn grouped(number: i64) -> String {
    let sign = if number < 0 { "-" } else { "" };
    let whole = number.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, digit) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(digit);
    }
    format!("{sign}{out}")
}

/// An amount as a line's description writes it, in Dutch as every page does:
/// `146300` → `1.463,00` (after "EUR ").
pub fn format_euro(amount: Cents) -> String {
    let sign = if amount < 0 { "-" } else { "" };
    let abs = amount.unsigned_abs();
    format!("{sign}{},{:02}", grouped((abs / 100) as i64), abs % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_description_writes_euros_in_dutch() {
        for (cents, text) in [
            (5_000, "50,00"),
            (146_300, "1.463,00"),
            (123_456_789, "1.234.567,89"),
            (-375, "-3,75"),
            (5, "0,05"),
            (0, "0,00"),
        ] {
            assert_eq!(format_euro(cents), text, "{cents}");
        }
    }

    #[test]
    fn halves_round_half_up_to_the_cent() {
        for (amount, expected) in [(7_500, 3_750), (9_375, 4_688), (1, 1), (3, 2), (0, 0)] {
            assert_eq!(half_up(amount), expected, "half of {amount}");
        }
    }

    #[test]
    fn scaling_rounds_half_up() {
        // 2026 = 2017 × 1.20; 2027 = 2017 × 1.25 (docs/domain.md "Leges").
        assert_eq!(scale_half_up(15_000, 125, 100), 18_750);
        assert_eq!(scale_half_up(11_800, 120, 100), 14_160);
        assert_eq!(scale_half_up(5, 125, 100), 6); // 6.25 → 6
        assert_eq!(scale_half_up(2, 125, 100), 3); // 2.5 → 3
        assert_eq!(scale_half_up(-2, 125, 100), -3);
    }
}
