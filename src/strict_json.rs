//! JSON parsing that refuses what parsers disagree on.
//!
//! `serde_json::Value` keeps the last of two members with the same name; `JSON.parse` does the
//! same, other parsers keep the first or fail. A document whose meaning depends on the parser is
//! refused here, so the cache and every later verifier see one unambiguous value. Trailing
//! non-whitespace is refused by `serde_json::from_slice` itself, and its recursion limit (128)
//! bounds nesting.

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::fmt;

/// Parses one JSON value, failing on duplicate member names at any depth.
pub fn parse(bytes: &[u8]) -> Result<Value, serde_json::Error> {
    serde_json::from_slice::<StrictValue>(bytes).map(|strict| strict.0)
}

struct StrictValue(Value);

impl<'de> Deserialize<'de> for StrictValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StrictVisitor).map(StrictValue)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
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
        let mut items = Vec::new();
        while let Some(StrictValue(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut members = Map::new();
        while let Some(name) = map.next_key::<String>()? {
            let StrictValue(value) = map.next_value()?;
            if members.contains_key(&name) {
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

    #[test]
    fn parses_ordinary_json() {
        let value = parse(br#"{"a":[1,2.5,"x",null,true,{"b":{}}]}"#).unwrap();
        assert_eq!(value["a"][2], "x");
        assert_eq!(value["a"][5]["b"], Value::Object(Map::new()));
    }

    #[test]
    fn refuses_duplicate_members_at_any_depth() {
        let top = parse(br#"{"keys":[],"keys":[]}"#).unwrap_err();
        assert!(top.to_string().contains("duplicate member \"keys\""), "{top}");
        assert!(parse(br#"{"keys":[{"kid":"a","kid":"b"}]}"#).is_err());
    }

    #[test]
    fn refuses_trailing_garbage_and_non_json() {
        assert!(parse(br#"{"keys":[]} x"#).is_err());
        assert!(parse(b"<html>502 Bad Gateway</html>").is_err());
        assert!(parse(b"").is_err());
        assert!(parse(b"{\"keys\":[]}\n").is_ok(), "trailing whitespace is fine");
    }

    #[test]
    fn bounds_nesting_instead_of_overflowing_the_stack() {
        let deep = "[".repeat(100_000);
        assert!(parse(deep.as_bytes()).is_err());
    }
}
