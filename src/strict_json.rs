//! JSON parsing that refuses what parsers disagree on, and what would cost too much.
//!
//! `serde_json::Value` keeps the last of two members with the same name; `JSON.parse` does the
//! same, other parsers keep the first or fail. A document whose meaning depends on the parser is
//! refused here, so the cache and every later verifier see one unambiguous value. Trailing
//! non-whitespace is refused by `serde_json::from_slice` itself, and so are lone surrogates in
//! `\u` escapes (which `JSON.parse` would accept), so every string is well-formed Unicode.
//! Nesting is bounded by the caller's `max_depth`, far below serde_json's own limit (128).

use serde::de::{self, Deserializer, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::cell::Cell;
use std::fmt;

#[derive(Debug)]
pub enum ParseError {
    /// Not exactly one well-formed JSON value, or duplicate member names.
    Invalid(serde_json::Error),
    /// Arrays and objects nested deeper than allowed.
    TooDeep,
}

/// Parses one JSON value, failing on duplicate member names at any depth and on arrays and
/// objects nested more than `max_depth` levels deep (a scalar document is depth 0, `[]` is 1).
pub fn parse(bytes: &[u8], max_depth: usize) -> Result<Value, ParseError> {
    let too_deep = Cell::new(false);
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let parsed = Nested { levels_left: max_depth, too_deep: &too_deep }
        .deserialize(&mut deserializer)
        .and_then(|value| deserializer.end().map(|()| value));
    match parsed {
        Ok(value) => Ok(value),
        Err(_) if too_deep.get() => Err(ParseError::TooDeep),
        Err(error) => Err(ParseError::Invalid(error)),
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
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Nested<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let item = self.inner()?;
        let mut items = Vec::new();
        while let Some(value) = seq.next_element_seed(item)? {
            items.push(value);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let member = self.inner()?;
        let mut members = Map::new();
        while let Some(name) = map.next_key::<String>()? {
            let value = map.next_value_seed(member)?;
            if members.contains_key(&name) {
                let name = crate::error::shorten(&name);
                return Err(de::Error::custom(format_args!("duplicate member {name:?}")));
            }
            members.insert(name, value);
        }
        Ok(Value::Object(members))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invalid(bytes: &[u8]) -> String {
        match parse(bytes, 16) {
            Err(ParseError::Invalid(error)) => error.to_string(),
            other => panic!("expected invalid JSON, got {other:?}"),
        }
    }

    #[test]
    fn parses_ordinary_json() {
        let value = parse(br#"{"a":[1,2.5,"x",null,true,{"b":{}}]}"#, 16).unwrap();
        assert_eq!(value["a"][2], "x");
        assert_eq!(value["a"][5]["b"], Value::Object(Map::new()));
    }

    #[test]
    fn refuses_duplicate_members_at_any_depth() {
        assert!(invalid(br#"{"keys":[],"keys":[]}"#).contains("duplicate member \"keys\""));
        invalid(br#"{"keys":[{"kid":"a","kid":"b"}]}"#);
        invalid(br#"{"keys":[{"kid":"a","\u006bid":"b"}]}"#);
    }

    #[test]
    fn a_duplicate_member_name_is_quoted_only_up_to_the_bound() {
        let name = "n".repeat(1_000_000);
        let body = format!(r#"{{"{name}":1,"{name}":2}}"#);
        let message = invalid(body.as_bytes());
        assert!(message.len() < 300, "{} chars", message.len());
    }

    #[test]
    fn refuses_trailing_garbage_non_json_and_lone_surrogates() {
        invalid(br#"{"keys":[]} x"#);
        invalid(b"<html>502 Bad Gateway</html>");
        invalid(b"");
        invalid(br#"{"kid":"\ud800"}"#);
        invalid(br#"{"kid":"\udc00x"}"#);
        assert!(parse(b"{\"keys\":[]}\n", 16).is_ok(), "trailing whitespace is fine");
        assert_eq!(parse(br#""\ud83d\ude00""#, 16).unwrap(), "\u{1F600}", "a surrogate pair is one character");
    }

    #[test]
    fn bounds_nesting_at_the_given_depth() {
        assert!(parse(b"[[[]]]", 3).is_ok());
        assert!(matches!(parse(b"[[[[]]]]", 3), Err(ParseError::TooDeep)));
        assert!(matches!(parse(br#"{"a":{"b":{"c":{}}}}"#, 3), Err(ParseError::TooDeep)));
        assert!(parse(b"7", 0).is_ok());
        let deep = "[".repeat(100_000);
        assert!(matches!(parse(deep.as_bytes(), 16), Err(ParseError::TooDeep)));
        let deep = format!("{}{}", "[".repeat(16), "]".repeat(16));
        assert!(parse(deep.as_bytes(), 16).is_ok());
    }
}
