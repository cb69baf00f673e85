//! JSON checking that refuses what parsers disagree on, and what would cost too much, without
//! building the document.
//!
//! `JSON.parse` keeps the last of two members with the same name; other parsers keep the first or
//! fail. A document whose meaning depends on the parser is refused here, so the cache and every
//! later reader (the JS layer's `JSON.parse`, a verifier) see one unambiguous value. Trailing
//! non-whitespace is refused by serde_json itself, and so are lone surrogates in `\u` escapes
//! (which `JSON.parse` would accept) and numbers out of the f64 range, so every string is
//! well-formed Unicode. Nesting is bounded by the caller's `max_depth`, far below serde_json's own
//! limit (128).
//!
//! Nothing is kept: checking costs the member names of the objects still open (to find
//! duplicates), not a tree of the whole document, so a hostile body cannot multiply its size in
//! memory. The caller reads what it needs afterwards from the checked text.

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use std::borrow::Cow;
use std::cell::Cell;
use std::collections::BTreeSet;
use std::fmt;

#[derive(Debug)]
pub enum CheckError {
    /// Not exactly one well-formed JSON value, or duplicate member names.
    Invalid(serde_json::Error),
    /// Arrays and objects nested deeper than allowed.
    TooDeep,
}

/// Checks that `bytes` is exactly one JSON value, without duplicate member names at any depth and
/// with arrays and objects nested at most `max_depth` levels (a scalar is depth 0, `[]` is 1).
/// Returns the text, which is then known to be valid UTF-8 and valid JSON.
pub fn check(bytes: &[u8], max_depth: usize) -> Result<&str, CheckError> {
    let too_deep = Cell::new(false);
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let checked = Nested { levels_left: max_depth, too_deep: &too_deep }
        .deserialize(&mut deserializer)
        .and_then(|()| deserializer.end());
    match checked {
        // Checked JSON is UTF-8: strings were validated, everything else is ASCII.
        Ok(()) => Ok(std::str::from_utf8(bytes).expect("checked JSON is UTF-8")),
        Err(_) if too_deep.get() => Err(CheckError::TooDeep),
        Err(error) => Err(CheckError::Invalid(error)),
    }
}

/// One value, with how many more levels of nesting it may open.
#[derive(Clone, Copy)]
struct Nested<'a> {
    levels_left: usize,
    too_deep: &'a Cell<bool>,
}

impl Nested<'_> {
    fn inner<E: de::Error>(self) -> Result<Self, E> {
        if self.levels_left == 0 {
            self.too_deep.set(true);
            return Err(E::custom("nested too deep"));
        }
        Ok(Nested { levels_left: self.levels_left - 1, ..self })
    }
}

impl<'de> DeserializeSeed<'de> for Nested<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Nested<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let item = self.inner()?;
        while seq.next_element_seed(item)?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let member = self.inner()?;
        let mut names = BTreeSet::new();
        while let Some(name) = map.next_key_seed(MemberName)? {
            map.next_value_seed(member)?;
            if names.contains(&name) {
                let name = crate::error::shorten(&name);
                return Err(de::Error::custom(format_args!("duplicate member {name:?}")));
            }
            names.insert(name);
        }
        Ok(())
    }
}

/// A member name, borrowed from the document unless it has escapes.
struct MemberName;

impl<'de> DeserializeSeed<'de> for MemberName {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for MemberName {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a member name")
    }

    fn visit_borrowed_str<E>(self, name: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(name))
    }

    fn visit_str<E>(self, name: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(name.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invalid(bytes: &[u8]) -> String {
        match check(bytes, 16) {
            Err(CheckError::Invalid(error)) => error.to_string(),
            other => panic!("expected invalid JSON, got {other:?}"),
        }
    }

    #[test]
    fn accepts_ordinary_json() {
        let text = r#"{"a":[1,2.5,"x",null,true,{"b":{}}],"c\u0041":-0}"#;
        assert_eq!(check(text.as_bytes(), 16).unwrap(), text);
    }

    #[test]
    fn refuses_duplicate_members_at_any_depth() {
        assert!(invalid(br#"{"keys":[],"keys":[]}"#).contains("duplicate member \"keys\""));
        invalid(br#"{"keys":[{"kid":"a","kid":"b"}]}"#);
        invalid(br#"{"keys":[{"kid":"a","\u006bid":"b"}]}"#);
        assert!(check(br#"{"a":{"a":{"a":1}},"b":[{"a":1},{"a":2}]}"#, 16).is_ok(), "one name per object");
    }

    #[test]
    fn a_duplicate_member_name_is_quoted_only_up_to_the_bound() {
        let name = "n".repeat(1_000_000);
        let body = format!(r#"{{"{name}":1,"{name}":2}}"#);
        let message = invalid(body.as_bytes());
        assert!(message.len() < 300, "{} chars", message.len());
    }

    #[test]
    fn refuses_trailing_garbage_non_json_lone_surrogates_and_numbers_out_of_range() {
        invalid(br#"{"keys":[]} x"#);
        invalid(b"<html>502 Bad Gateway</html>");
        invalid(b"");
        invalid(br#"{"kid":"\ud800"}"#);
        invalid(br#"{"kid":"\udc00x"}"#);
        invalid(br#"{"n":1e400}"#);
        invalid(b"{\"kid\":\"\xff\"}");
        assert!(check(b"{\"keys\":[]}\n", 16).is_ok(), "trailing whitespace is fine");
        assert!(check(br#""\ud83d\ude00""#, 16).is_ok(), "a surrogate pair is one character");
    }

    #[test]
    fn bounds_nesting_at_the_given_depth() {
        assert!(check(b"[[[]]]", 3).is_ok());
        assert!(matches!(check(b"[[[[]]]]", 3), Err(CheckError::TooDeep)));
        assert!(matches!(check(br#"{"a":{"b":{"c":{}}}}"#, 3), Err(CheckError::TooDeep)));
        assert!(check(b"7", 0).is_ok());
        let deep = "[".repeat(100_000);
        assert!(matches!(check(deep.as_bytes(), 16), Err(CheckError::TooDeep)));
        let deep = format!("{}{}", "[".repeat(16), "]".repeat(16));
        assert!(check(deep.as_bytes(), 16).is_ok());
    }
}
