//! A JWK Set as the cache keeps it: the keys that can be found by `kid`, read from the body of a
//! JWKS response.
//!
//! Rules (the documented API plus what a safe cache needs):
//! - the body must be exactly one JSON value without duplicate member names, else
//!   [`CacheError::InvalidJson`];
//! - the keys are the objects in the top-level `keys` array that carry a non-empty string `kid`;
//!   every other entry is ignored and never makes the rest of the set unusable;
//! - a JSON body without a `keys` array is an empty set, marked as not a JWK Set so that the
//!   cache never lets it replace a good set;
//! - a kid repeated with the same key is one key; a kid shared by different keys is ambiguous
//!   and finds nothing but an error (RFC 7517 4.5: a lookup by it could pick either).

use crate::error::CacheError;
use crate::strict_json;
use serde_json::Value;
use std::collections::HashMap;

/// One key of a set: its kid and the key object (a JSON object), for the host to turn into its
/// own object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Jwk {
    pub kid: String,
    pub value: Value,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyLookup<'a> {
    Found(&'a Jwk),
    Absent,
    Ambiguous,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySet {
    keys: Vec<Jwk>,
    index: HashMap<String, usize>,
    ambiguous: Vec<String>,
    is_jwk_set: bool,
}

impl KeySet {
    /// Reads the body of a 2xx JWKS response.
    pub fn from_body(body: &[u8]) -> Result<KeySet, CacheError> {
        let document =
            strict_json::parse(body).map_err(|e| CacheError::InvalidJson(e.to_string()))?;
        let Some(Value::Array(entries)) = document.get("keys") else {
            return Ok(KeySet::empty(false));
        };

        // Group by kid first, so that ambiguity is decided over the whole set, whatever the order.
        let mut by_kid: Vec<(&str, Vec<&Value>)> = Vec::new();
        let mut slot_of: HashMap<&str, usize> = HashMap::new();
        for entry in entries {
            let Some(kid) = entry.get("kid").and_then(Value::as_str).filter(|k| !k.is_empty())
            else {
                continue;
            };
            if !entry.is_object() {
                continue;
            }
            match slot_of.get(kid) {
                Some(&slot) => by_kid[slot].1.push(entry),
                None => {
                    slot_of.insert(kid, by_kid.len());
                    by_kid.push((kid, vec![entry]));
                }
            }
        }

        let mut set = KeySet::empty(true);
        for (kid, candidates) in by_kid {
            let first = candidates[0];
            if candidates.iter().any(|other| *other != first) {
                set.ambiguous.push(kid.to_owned());
                continue;
            }
            set.index.insert(kid.to_owned(), set.keys.len());
            set.keys.push(Jwk { kid: kid.to_owned(), value: first.clone() });
        }
        Ok(set)
    }

    fn empty(is_jwk_set: bool) -> KeySet {
        KeySet { keys: Vec::new(), index: HashMap::new(), ambiguous: Vec::new(), is_jwk_set }
    }

    pub fn lookup(&self, kid: &str) -> KeyLookup<'_> {
        match self.index.get(kid) {
            Some(&at) => KeyLookup::Found(&self.keys[at]),
            None if self.ambiguous.iter().any(|k| k == kid) => KeyLookup::Ambiguous,
            None => KeyLookup::Absent,
        }
    }

    /// The keys that a kid finds, in document order.
    pub fn keys(&self) -> &[Jwk] {
        &self.keys
    }

    /// Kids shared by different keys.
    pub fn ambiguous_kids(&self) -> &[String] {
        &self.ambiguous
    }

    /// False when the body was JSON but had no `keys` array.
    pub fn is_jwk_set(&self) -> bool {
        self.is_jwk_set
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kids(set: &KeySet) -> Vec<&str> {
        set.keys().iter().map(|k| k.kid.as_str()).collect()
    }

    #[test]
    fn keeps_keys_with_a_kid_and_ignores_the_rest() {
        let body = br#"{"keys":[
            {"kty":"RSA","kid":"a","n":"x","e":"AQAB"},
            {"kty":"RSA","n":"no-kid"},
            {"kty":"EC","kid":""},
            {"kty":"EC","kid":7},
            "not an object",
            null,
            {"kty":"OKP","kid":"b","crv":"Ed25519","x":"y"}
        ]}"#;
        let set = KeySet::from_body(body).unwrap();
        assert!(set.is_jwk_set());
        assert_eq!(kids(&set), ["a", "b"]);
        match set.lookup("b") {
            KeyLookup::Found(jwk) => assert_eq!(jwk.value["crv"], "Ed25519"),
            other => panic!("expected b, got {other:?}"),
        }
        assert_eq!(set.lookup("c"), KeyLookup::Absent);
        assert_eq!(set.lookup(""), KeyLookup::Absent);
    }

    #[test]
    fn a_body_without_a_keys_array_is_an_empty_set_marked_as_not_a_set() {
        for body in [&br#"{"key":[]}"#[..], br#"{"keys":{"kid":"a"}}"#, br#"[{"kid":"a"}]"#, b"42"] {
            let set = KeySet::from_body(body).unwrap();
            assert!(!set.is_jwk_set(), "{}", String::from_utf8_lossy(body));
            assert!(set.keys().is_empty());
        }
        let empty = KeySet::from_body(br#"{"keys":[]}"#).unwrap();
        assert!(empty.is_jwk_set(), "an empty keys array is a real (empty) JWK Set");
    }

    #[test]
    fn refuses_bodies_that_are_not_exactly_one_json_value() {
        for body in [&b"<html>502</html>"[..], br#"{"keys":[]}garbage"#, br#"{"keys":[],"keys":[]}"#] {
            let err = KeySet::from_body(body).unwrap_err();
            assert_eq!(err.code(), "ERR_JWKS_INVALID_JSON", "{err}");
        }
    }

    #[test]
    fn a_kid_repeated_with_the_same_key_is_one_key() {
        let body = br#"{"keys":[{"kid":"a","kty":"EC","x":"1"},{"kty":"EC","x":"1","kid":"a"}]}"#;
        let set = KeySet::from_body(body).unwrap();
        assert_eq!(kids(&set), ["a"]);
        assert!(set.ambiguous_kids().is_empty());
    }

    #[test]
    fn a_kid_shared_by_different_keys_is_ambiguous_whatever_the_order() {
        let body = br#"{"keys":[{"kid":"a","x":"1"},{"kid":"b"},{"kid":"a","x":"2"},{"kid":"a","x":"1"}]}"#;
        let set = KeySet::from_body(body).unwrap();
        assert_eq!(kids(&set), ["b"]);
        assert_eq!(set.lookup("a"), KeyLookup::Ambiguous);
        assert_eq!(set.ambiguous_kids(), ["a"]);
    }
}
