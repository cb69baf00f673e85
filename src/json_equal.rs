//! Whether two pieces of checked JSON text are the same JSON value, compared in place: no tree is
//! built, so comparing two large copies costs their member lists, not a multiple of their size.
//!
//! - objects are equal when they have the same member names (escapes decoded) with equal values,
//!   in any order;
//! - arrays when their entries are equal in order; strings when their decoded text is;
//! - numbers when they are the same decimal number, compared exactly on their digits: `1`, `1.0`,
//!   `1e0` and `10e-1` are one number, `0` and `-0` too. No float is involved: a float reading
//!   could round two different numbers to one value (or one number two ways), and exact decimal
//!   equality never calls two different numbers equal.

use crate::json_spans::{self, decoded};
use std::borrow::Cow;
use std::ops::Range;

/// Whether the values at `a` of `text_a` and at `b` of `text_b` are the same JSON value.
pub fn same_value(text_a: &str, a: Range<usize>, text_b: &str, b: Range<usize>) -> bool {
    let (raw_a, raw_b) = (&text_a[a.clone()], &text_b[b.clone()]);
    if raw_a == raw_b {
        return true;
    }
    match (raw_a.as_bytes()[0], raw_b.as_bytes()[0]) {
        (b'{', b'{') => same_object(text_a, a, text_b, b),
        (b'[', b'[') => {
            let (Some(xs), Some(ys)) = (json_spans::entries(text_a, a), json_spans::entries(text_b, b)) else {
                return false;
            };
            xs.len() == ys.len() && xs.into_iter().zip(ys).all(|(x, y)| same_value(text_a, x, text_b, y))
        }
        (b'"', b'"') => decoded(raw_a) == decoded(raw_b),
        (b'-' | b'0'..=b'9', b'-' | b'0'..=b'9') => Decimal::of(raw_a) == Decimal::of(raw_b),
        // true, false, null: equal only as the same text, handled above.
        _ => false,
    }
}

fn same_object(text_a: &str, a: Range<usize>, text_b: &str, b: Range<usize>) -> bool {
    let (Some(xs), Some(ys)) = (json_spans::members(text_a, a), json_spans::members(text_b, b)) else {
        return false;
    };
    if xs.len() != ys.len() {
        return false;
    }
    // Checked JSON has no duplicate names: sorting by name pairs each member with its match.
    let (xs, ys) = (by_name(text_a, xs), by_name(text_b, ys));
    xs.into_iter().zip(ys).all(|((name_x, x), (name_y, y))| name_x == name_y && same_value(text_a, x, text_b, y))
}

/// The members with their decoded names, sorted by name.
fn by_name(text: &str, members: Vec<(Range<usize>, Range<usize>)>) -> Vec<(Cow<'_, str>, Range<usize>)> {
    let mut named: Vec<_> = members.into_iter().map(|(name, value)| (decoded(&text[name]), value)).collect();
    named.sort_unstable_by(|x, y| x.0.cmp(&y.0));
    named
}

/// A JSON number as its exact decimal value: significant digits (no leading or trailing zeros)
/// and the power of ten of the last one. Zero, of either sign, is no digits.
#[derive(Debug, PartialEq, Eq)]
struct Decimal {
    negative: bool,
    digits: String,
    exponent: i128,
}

impl Decimal {
    fn of(number: &str) -> Decimal {
        let (negative, unsigned) = match number.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, number),
        };
        let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
            Some(at) => (&unsigned[..at], parse_exponent(&unsigned[at + 1..])),
            None => (unsigned, 0),
        };
        let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        let all = format!("{whole}{fraction}");
        let without_trailing = all.trim_end_matches('0');
        let digits = without_trailing.trim_start_matches('0');
        if digits.is_empty() {
            return Decimal { negative: false, digits: String::new(), exponent: 0 };
        }
        // The power of ten of the last significant digit.
        let exponent = exponent - fraction.len() as i128 + (all.len() - without_trailing.len()) as i128;
        Decimal { negative, digits: digits.to_owned(), exponent }
    }
}

/// An exponent's value; checked JSON gives digits with an optional sign. Absurdly long exponents
/// saturate, which keeps them unequal to any ordinary one.
fn parse_exponent(text: &str) -> i128 {
    let (negative, digits) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let value = digits.bytes().fold(0i128, |value, digit| value.saturating_mul(10).saturating_add(i128::from(digit - b'0')));
    if negative { -value } else { value }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same(a: &str, b: &str) -> bool {
        same_value(a, 0..a.len(), b, 0..b.len())
    }

    #[test]
    fn numbers_are_equal_as_exact_decimals() {
        for (a, b) in [("1", "1.0"), ("1", "1e0"), ("1", "10e-1"), ("0", "-0"), ("0", "0.000e99"), ("-2.50", "-25E-1"), ("50458225.100851500", "50458225.1008515"), ("123e+2", "12300")] {
            assert!(same(a, b), "{a} {b}");
        }
        for (a, b) in [("1", "-1"), ("920395939026694", "920395939026694.1"), ("9.690971296817587", "9.690971296817589"), ("1e400", "1e401"), ("0.1", "0.10000000000000000001")] {
            assert!(!same(a, b), "{a} {b}");
        }
    }

    #[test]
    fn objects_arrays_and_strings() {
        assert!(same(r#"{"a":1,"b":[1,{"c":"x"}]}"#, r#"{ "b" : [ 1.0 , { "c" : "\u0078" } ] , "\u0061" : 1 }"#));
        assert!(!same(r#"{"a":1}"#, r#"{"a":1,"b":1}"#));
        assert!(!same(r#"{"a":1,"b":2}"#, r#"{"a":1,"c":2}"#));
        assert!(!same("[1,2]", "[2,1]"));
        assert!(!same("[1]", "[1,1]"));
        assert!(!same(r#""a""#, r#""b""#));
        assert!(!same("true", "1"));
        assert!(!same("null", "false"));
        assert!(!same("[]", "{}"));
    }
}
