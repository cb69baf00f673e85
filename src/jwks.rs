//! A JWK Set as the cache keeps it: the keys that can be found by `kid`, read from the body of a
//! JWKS response.
//!
//! Rules (the documented API plus what a safe cache needs):
//! - the body must be exactly one JSON value without duplicate member names, else
//!   [`CacheError::InvalidJson`]; a UTF-8 byte order mark before it is skipped, as
//!   `Response.json()` does;
//! - arrays and objects nest at most [`MAX_JSON_DEPTH`] levels, and the `keys` array holds at most
//!   the caller's bound of entries: real sets hold a handful, and every entry costs time;
//! - a document that is not valid JSON is refused whole, whatever part of it is wrong (a number
//!   out of range, a lone surrogate escape): parsers disagree on what such a document says;
//! - the keys are the objects in the top-level `keys` array that carry a non-empty string `kid` of
//!   at most [`MAX_KID_BYTES`] bytes (the longest kid a lookup accepts, so that a key no lookup
//!   could name never enters a set); every other entry is ignored and never makes the rest of the
//!   set unusable;
//! - a JSON body without a `keys` array is an empty set, marked as not a JWK Set so that the
//!   cache never lets it replace a good set;
//! - a kid repeated with the same key is one key; a kid shared by different keys is ambiguous
//!   and finds nothing but an error (RFC 7517 4.5: a lookup by it could pick either). "The same"
//!   is JSON equality ([`json_equal`]): member order and escapes do not matter, numbers compare as
//!   exact decimals (`1`, `1.0` and `10e-1` are one number, `0` and `-0` too).

use crate::error::CacheError;
use crate::json_equal;
use crate::json_spans::{self, JsonObject};
use crate::jws_header::Alg;
use crate::key_usability::{select_key, usability, AlgSet, Candidate};
use crate::strict_json::{self, CheckError};
use std::collections::HashMap;
use std::ops::Range;

/// Key ids longer than this are refused: no issuer needs them, and a kid is attacker input.
pub const MAX_KID_BYTES: usize = 1024;
/// How deep arrays and objects may nest in a JWKS response. A real set nests 4 levels (the
/// document, `keys`, a key, its `x5c`); the bound leaves room and keeps recursion shallow.
pub const MAX_JSON_DEPTH: usize = 16;
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// One key of a set: its kid, where it stands in the response's `keys` array, the bytes of the
/// body that hold it, from which the host builds the key object, and the algorithms it may
/// verify ([`key_usability`]). The core keeps no parsed copy of the key: a cached set costs its
/// kids, not its keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Jwk {
    pub kid: String,
    pub index: usize,
    pub span: Range<usize>,
    pub verifies: AlgSet,
}

/// A key without a kid that may verify signatures: only a token without a kid can select it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnnamedJwk {
    pub index: usize,
    pub span: Range<usize>,
    pub verifies: AlgSet,
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
    unnamed: Vec<UnnamedJwk>,
    index: HashMap<String, usize>,
    ambiguous: Vec<String>,
    is_jwk_set: bool,
}

impl KeySet {
    /// Reads the body of a 2xx JWKS response whose `keys` array may hold up to `max_keys`
    /// entries. The whole body is checked first; then only the entries of `keys` are read.
    pub fn from_body(body: &[u8], max_keys: usize) -> Result<KeySet, CacheError> {
        Ok(KeySet::from_checked(&SetBody::read(body, max_keys)?))
    }

    /// The set a checked body holds (see [`SetBody::read`]).
    pub fn from_checked(body: &SetBody<'_>) -> KeySet {
        let SetBody { start, text, ref entries } = *body;
        let Some(entries) = entries else {
            return KeySet::empty(false);
        };

        // Group by kid first, so that ambiguity is decided over the whole set, whatever the order.
        let mut by_kid: Vec<(String, Vec<usize>)> = Vec::new();
        let mut slot_of: HashMap<String, usize> = HashMap::new();
        let mut unnamed = Vec::new();
        for (index, entry) in entries.iter().enumerate() {
            let Some(object) = JsonObject::at(text, entry.clone()) else { continue };
            let kid = match object.get("kid") {
                Some(_) => match object.string("kid") {
                    Some(kid) => kid.into_owned(),
                    None => continue,
                },
                None => {
                    let verifies = AlgSet::of(&usability(&text[entry.clone()]));
                    if verifies != AlgSet(0) {
                        unnamed.push(UnnamedJwk { index, span: entry.start + start..entry.end + start, verifies });
                    }
                    continue;
                }
            };
            if kid.is_empty() || kid.len() > MAX_KID_BYTES {
                continue;
            }
            match slot_of.get(&kid) {
                Some(&slot) => by_kid[slot].1.push(index),
                None => {
                    slot_of.insert(kid.clone(), by_kid.len());
                    by_kid.push((kid, vec![index]));
                }
            }
        }

        let mut set = KeySet::empty(true);
        set.unnamed = unnamed;
        for (kid, copies) in by_kid {
            let first = entries[copies[0]].clone();
            if copies[1..].iter().any(|&other| !same_entry(text, entries[other].clone(), first.clone())) {
                set.ambiguous.push(kid);
                continue;
            }
            // The entry's place in the body as given, byte order mark included.
            let span = entries[copies[0]].start + start..entries[copies[0]].end + start;
            set.index.insert(kid.clone(), set.keys.len());
            let verifies = AlgSet::of(&usability(&text[first]));
            set.keys.push(Jwk { kid, index: copies[0], span, verifies });
        }
        set
    }

    fn empty(is_jwk_set: bool) -> KeySet {
        KeySet { keys: Vec::new(), unnamed: Vec::new(), index: HashMap::new(), ambiguous: Vec::new(), is_jwk_set }
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

    /// The keys without a kid that may verify signatures, in document order.
    pub fn unnamed(&self) -> &[UnnamedJwk] {
        &self.unnamed
    }

    /// Every key that selection may consider: the keys with a kid, then those without, so that
    /// the index of a key here is its index in [`keys`](Self::keys), or that length plus its
    /// index in [`unnamed`](Self::unnamed).
    pub fn candidates(&self) -> Vec<Candidate<'_>> {
        let named = self.keys.iter().map(|key| Candidate { kid: Some(&key.kid), verifies: key.verifies });
        let unnamed = self.unnamed.iter().map(|key| Candidate { kid: None, verifies: key.verifies });
        named.chain(unnamed).collect()
    }

    /// The key (its index in [`candidates`](Self::candidates)) that verifies a token signed with
    /// `alg` and naming `kid`, by the rules of [`select_key`].
    pub fn signer(&self, kid: Option<&str>, alg: Alg) -> Result<usize, CacheError> {
        if let Some(kid) = kid.filter(|kid| self.ambiguous.iter().any(|k| k == kid)) {
            return Err(CacheError::AmbiguousKid(kid.to_owned()));
        }
        select_key(&self.candidates(), kid, alg).map_err(|why| why.error(kid, alg))
    }

    /// Kids shared by different keys.
    pub fn ambiguous_kids(&self) -> &[String] {
        &self.ambiguous
    }

    /// False when the body was JSON but had no `keys` array.
    pub fn is_jwk_set(&self) -> bool {
        self.is_jwk_set
    }

    /// True when no lookup can find anything in the set: no key with a kid, none without.
    pub fn holds_no_key(&self) -> bool {
        self.keys.is_empty() && self.unnamed.is_empty() && self.ambiguous.is_empty()
    }
}

/// A JWKS body checked by the rules above, before its entries are read.
pub struct SetBody<'a> {
    /// Where the JSON starts in the body (after a byte order mark).
    pub start: usize,
    /// The checked JSON text.
    pub text: &'a str,
    /// The entries of the `keys` array, as ranges of `text`; None when there is no such array.
    pub entries: Option<Vec<Range<usize>>>,
}

impl SetBody<'_> {
    pub fn read(body: &[u8], max_keys: usize) -> Result<SetBody<'_>, CacheError> {
        let start = if body.starts_with(UTF8_BOM) { UTF8_BOM.len() } else { 0 };
        let text = strict_json::check(&body[start..], MAX_JSON_DEPTH).map_err(|error| match error {
            CheckError::Invalid(error) => CacheError::InvalidJson(error.to_string()),
            CheckError::TooDeep => CacheError::NestingTooDeep(MAX_JSON_DEPTH),
        })?;
        let entries = key_entries(text);
        if entries.as_ref().is_some_and(|entries| entries.len() > max_keys) {
            return Err(CacheError::TooManyKeys(max_keys));
        }
        Ok(SetBody { start, text, entries })
    }
}

/// The entries of the document's `keys` array, as ranges of `text`, or None when the document is
/// not an object with a `keys` array. `text` is checked JSON: no duplicate members, bounded depth.
fn key_entries(text: &str) -> Option<Vec<Range<usize>>> {
    json_spans::entries(text, JsonObject::document(text)?.span("keys")?)
}

/// Whether two entries are copies of one key: the same JSON value (see [`json_equal`]).
fn same_entry(text: &str, a: Range<usize>, b: Range<usize>) -> bool {
    json_equal::same_value(text, a, text, b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    /// The reference equality for the random documents, whose numbers are all exact in f64.
    fn same_json(a: &Value, b: &Value) -> bool {
        match (a, b) {
            (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
            (Value::Array(xs), Value::Array(ys)) => xs.len() == ys.len() && xs.iter().zip(ys).all(|(x, y)| same_json(x, y)),
            (Value::Object(xs), Value::Object(ys)) => {
                xs.len() == ys.len() && xs.iter().all(|(name, x)| ys.get(name).is_some_and(|y| same_json(x, y)))
            }
            _ => a == b,
        }
    }

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
        let set = KeySet::from_body(body, 100).unwrap();
        assert!(set.is_jwk_set());
        assert_eq!(kids(&set), ["a", "b"]);
        match set.lookup("b") {
            KeyLookup::Found(jwk) => {
                assert_eq!(jwk.index, 6);
                assert_eq!(&body[jwk.span.clone()], br#"{"kty":"OKP","kid":"b","crv":"Ed25519","x":"y"}"#);
            }
            other => panic!("expected b, got {other:?}"),
        }
        assert_eq!(set.lookup("c"), KeyLookup::Absent);
        assert_eq!(set.lookup(""), KeyLookup::Absent);
    }

    #[test]
    fn a_body_without_a_keys_array_is_an_empty_set_marked_as_not_a_set() {
        for body in [&br#"{"key":[]}"#[..], br#"{"keys":{"kid":"a"}}"#, br#"[{"kid":"a"}]"#, b"42"] {
            let set = KeySet::from_body(body, 100).unwrap();
            assert!(!set.is_jwk_set(), "{}", String::from_utf8_lossy(body));
            assert!(set.keys().is_empty());
        }
        let empty = KeySet::from_body(br#"{"keys":[]}"#, 100).unwrap();
        assert!(empty.is_jwk_set(), "an empty keys array is a real (empty) JWK Set");
    }

    #[test]
    fn refuses_bodies_that_are_not_exactly_one_json_value() {
        for body in [&b"<html>502</html>"[..], br#"{"keys":[]}garbage"#, br#"{"keys":[],"keys":[]}"#] {
            let err = KeySet::from_body(body, 100).unwrap_err();
            assert_eq!(err.code(), "ERR_JWKS_INVALID_JSON", "{err}");
        }
    }

    #[test]
    fn a_kid_repeated_with_the_same_key_is_one_key() {
        let body = br#"{"keys":[{"kid":"a","kty":"EC","x":"1"},{"kty":"EC","x":"1","kid":"a"}]}"#;
        let set = KeySet::from_body(body, 100).unwrap();
        assert_eq!(kids(&set), ["a"]);
        assert!(set.ambiguous_kids().is_empty());
    }

    #[test]
    fn a_kid_shared_by_different_keys_is_ambiguous_whatever_the_order() {
        let body = br#"{"keys":[{"kid":"a","x":"1"},{"kid":"b"},{"kid":"a","x":"2"},{"kid":"a","x":"1"}]}"#;
        let set = KeySet::from_body(body, 100).unwrap();
        assert_eq!(kids(&set), ["b"]);
        assert_eq!(set.lookup("a"), KeyLookup::Ambiguous);
        assert_eq!(set.ambiguous_kids(), ["a"]);
    }

    #[test]
    fn numbers_equal_in_value_make_copies_of_one_key() {
        let body = br#"{"keys":[{"kid":"a","n":1,"z":0,"l":[2]},{"kid":"a","n":1.0,"z":-0,"l":[2.0]},{"kid":"b","n":1},{"kid":"b","n":1.5}]}"#;
        let set = KeySet::from_body(body, 100).unwrap();
        assert_eq!(kids(&set), ["a"]);
        assert_eq!(set.ambiguous_kids(), ["b"]);
        match set.lookup("a") {
            KeyLookup::Found(jwk) => assert_eq!(jwk.index, 0, "the first copy"),
            other => panic!("expected a, got {other:?}"),
        }
    }

    #[test]
    fn a_byte_order_mark_before_the_json_is_skipped() {
        let body = b"\xEF\xBB\xBF{\"keys\":[ {\"kid\":\"a\"} ]}";
        let set = KeySet::from_body(body, 100).unwrap();
        assert_eq!(kids(&set), ["a"]);
        assert_eq!(&body[set.keys()[0].span.clone()], br#"{"kid":"a"}"#, "the span counts the mark, not the spaces");
        assert!(KeySet::from_body(b"\xEF\xBB\xBF\xEF\xBB\xBF{}", 100).is_err(), "one mark, not several");
    }

    #[test]
    fn keys_whose_kid_no_lookup_accepts_never_enter_the_set() {
        let long = "k".repeat(MAX_KID_BYTES + 1);
        let longest = "k".repeat(MAX_KID_BYTES);
        let body = format!(r#"{{"keys":[{{"kid":"{long}"}},{{"kid":"{longest}"}}]}}"#);
        let set = KeySet::from_body(body.as_bytes(), 100).unwrap();
        assert_eq!(kids(&set), [longest.as_str()]);
        assert_eq!(set.keys()[0].index, 1, "the index counts every entry of the keys array");
    }

    #[test]
    fn the_number_of_entries_and_the_nesting_are_bounded() {
        let body = format!(r#"{{"keys":[{}]}}"#, ["{}"; 11].join(","));
        assert_eq!(KeySet::from_body(body.as_bytes(), 11).unwrap().keys().len(), 0);
        let err = KeySet::from_body(body.as_bytes(), 10).unwrap_err();
        assert_eq!((err.code(), err.to_string().as_str()), ("ERR_JWKS_TOO_MANY_KEYS", "JWKS response has more than 10 keys"));

        let nested = |depth: usize| format!(r#"{{"keys":[{{"kid":"a","x":{}0{}}}]}}"#, "[".repeat(depth), "]".repeat(depth));
        assert!(KeySet::from_body(nested(MAX_JSON_DEPTH - 3).as_bytes(), 10).is_ok());
        let err = KeySet::from_body(nested(MAX_JSON_DEPTH - 2).as_bytes(), 10).unwrap_err();
        assert_eq!(err.code(), "ERR_JWKS_NESTING_TOO_DEEP");
    }

    /// Random JSON text: values of every kind, escapes in strings and names, random whitespace.
    struct RandomJson {
        state: u64,
    }

    impl RandomJson {
        fn next(&mut self, below: u64) -> u64 {
            self.state ^= self.state << 13;
            self.state ^= self.state >> 7;
            self.state ^= self.state << 17;
            self.state % below
        }

        fn space(&mut self) -> &'static str {
            [" ", "", "", "\n", "\t ", "\r\n"][self.next(6) as usize]
        }

        fn string(&mut self) -> String {
            let parts = ["a", "kid", "\\\"", "\\\\", "\\u006b", "]", "}", ",", ":", "é", "\\ud83d\\ude00", "[", "{"];
            let count = self.next(4);
            let text: String = (0..count).map(|_| parts[self.next(parts.len() as u64) as usize]).collect();
            format!("\"{text}\"")
        }

        fn value(&mut self, depth: u32) -> String {
            let kind = if depth >= 4 { self.next(5) } else { self.next(8) };
            match kind {
                0 => ["0", "-0", "1.0", "1e3", "-2.5E-2", "123456789012345678901"][self.next(6) as usize].into(),
                1 => ["true", "false", "null"][self.next(3) as usize].into(),
                2..=4 => self.string(),
                5 | 6 => self.object(depth + 1, false),
                _ => {
                    let count = self.next(4);
                    let items: Vec<String> = (0..count).map(|_| format!("{}{}{}", self.space(), self.value(depth + 1), self.space())).collect();
                    format!("[{}]", items.join(","))
                }
            }
        }

        fn object(&mut self, depth: u32, key_like: bool) -> String {
            let count = self.next(5);
            let mut names: Vec<String> = Vec::new();
            let mut members = Vec::new();
            if key_like && self.next(4) != 0 {
                let kid = ["\"a\"", "\"b\"", "\"k\\u0069d\"", "7", "\"\"", "{\"x\":1}"][self.next(6) as usize];
                let name = if self.next(5) == 0 { "\"k\\u0069d\"" } else { "\"kid\"" };
                names.push("kid".into());
                members.push(format!("{}{name}{}:{}{kid}", self.space(), self.space(), self.space()));
            }
            for _ in 0..count {
                let name = self.string();
                let plain: String = serde_json::from_str(&name).unwrap();
                if names.contains(&plain) {
                    continue;
                }
                names.push(plain);
                members.push(format!("{}{name}{}:{}{}{}", self.space(), self.space(), self.space(), self.value(depth), self.space()));
            }
            format!("{{{}}}", members.join(","))
        }

        fn document(&mut self) -> String {
            let count = self.next(6);
            let keys: Vec<String> = (0..count)
                .map(|_| if self.next(5) == 0 { self.value(2) } else { self.object(2, true) })
                .collect();
            let keys_name = if self.next(6) == 0 { "\"k\\u0065ys\"" } else { "\"keys\"" };
            let before = if self.next(2) == 0 { format!("\"pad\":{},", self.value(1)) } else { String::new() };
            format!("{}{{{before}{}{keys_name}:{}[{}]{}}}{}", self.space(), self.space(), self.space(), keys.join(","), self.space(), self.space())
        }
    }

    /// What the set must be, computed the slow way: the whole document as a serde_json Value.
    fn expected(text: &str) -> (Vec<(String, usize)>, Vec<String>) {
        let document: Value = serde_json::from_str(text).unwrap();
        let Some(Value::Array(entries)) = document.get("keys") else { return (vec![], vec![]) };
        let mut by_kid: Vec<(String, Vec<usize>)> = Vec::new();
        for (index, entry) in entries.iter().enumerate() {
            let Some(kid) = entry.get("kid").and_then(Value::as_str).filter(|k| !k.is_empty()) else { continue };
            match by_kid.iter_mut().find(|(k, _)| k == kid) {
                Some((_, copies)) => copies.push(index),
                None => by_kid.push((kid.to_owned(), vec![index])),
            }
        }
        let (mut keys, mut ambiguous) = (vec![], vec![]);
        for (kid, copies) in by_kid {
            if copies[1..].iter().all(|&c| same_json(&entries[c], &entries[copies[0]])) {
                keys.push((kid, copies[0]));
            } else {
                ambiguous.push(kid);
            }
        }
        (keys, ambiguous)
    }

    #[test]
    fn random_documents_read_as_a_whole_tree_would_read_them() {
        let mut random = RandomJson { state: 0x9E37_79B9_7F4A_7C15 };
        for round in 0..3000 {
            let text = random.document();
            let set = KeySet::from_body(text.as_bytes(), 100).unwrap_or_else(|e| panic!("round {round}: {e}\n{text}"));
            let (keys, ambiguous) = expected(&text);
            let found: Vec<(String, usize)> = set.keys().iter().map(|k| (k.kid.clone(), k.index)).collect();
            assert_eq!(found, keys, "round {round}: {text}");
            assert_eq!(set.ambiguous_kids(), ambiguous, "round {round}: {text}");
            let entries = &serde_json::from_str::<Value>(&text).unwrap()["keys"];
            for jwk in set.keys() {
                let span: Value = serde_json::from_str(&text[jwk.span.clone()]).unwrap();
                assert_eq!(span, entries[jwk.index], "round {round}: the span of {:?} in {text}", jwk.kid);
            }
        }
    }
}
