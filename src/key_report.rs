//! What the cache makes of each entry of a JWK Set, told to a person inspecting the set
//! (`describeKeySet`, the inspector page, `jwks-cache keys`): the kid a lookup finds it by and the
//! algorithms it may verify, or why it is ignored. Decided by the rules the cache reads a set with
//! ([`crate::jwks`], [`crate::key_usability`]), never by rules of its own, so that what a person is
//! told is what the cache does.

use crate::error::CacheError;
use crate::json_spans::JsonObject;
use crate::jwks::{KeyLookup, KeySet, SetBody, MAX_KID_BYTES};
use crate::key_usability::{usability, AlgSet, Usability};
use std::ops::Range;

/// One entry of the `keys` array as the cache reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryReport {
    /// Its place in the `keys` array.
    pub index: usize,
    /// The bytes of the body that hold it.
    pub span: Range<usize>,
    /// The kid a lookup finds it by: None for an entry without one (or one no lookup can name).
    pub kid: Option<String>,
    /// What it may verify (nothing when ignored).
    pub verifies: AlgSet,
    /// Why the cache ignores it, when it does: a sentence for a person.
    pub ignored: Option<String>,
}

/// The set's entries in document order, and whether the body was a JWK Set at all (a JSON body
/// without a `keys` array reads as an empty set). Errors are those of a JWKS response.
pub fn key_report(body: &[u8], max_keys: usize) -> Result<(bool, Vec<EntryReport>), CacheError> {
    let checked = SetBody::read(body, max_keys)?;
    let set = KeySet::from_checked(&checked);
    let SetBody { start, text, entries } = checked;
    let Some(entries) = entries else { return Ok((false, Vec::new())) };
    let reports = entries
        .into_iter()
        .enumerate()
        .map(|(index, entry)| {
            let span = entry.start + start..entry.end + start;
            let (kid, verifies, ignored) = match read_entry(&set, index, &text[entry]) {
                Ok((kid, verifies)) => (kid, verifies, None),
                Err(why) => (None, AlgSet(0), Some(why)),
            };
            EntryReport { index, span, kid, verifies, ignored }
        })
        .collect();
    Ok((true, reports))
}

/// The kid and algorithms of a kept entry, or why it is ignored.
fn read_entry(set: &KeySet, index: usize, entry: &str) -> Result<(Option<String>, AlgSet), String> {
    let Some(object) = JsonObject::document(entry) else {
        return Err("not a JSON object".into());
    };
    let kid = match (object.get("kid"), object.string("kid")) {
        (None, _) => None,
        (Some(_), None) => return Err("\"kid\" is not a string".into()),
        (Some(_), Some(kid)) if kid.is_empty() => return Err("\"kid\" is empty".into()),
        (Some(_), Some(kid)) if kid.len() > MAX_KID_BYTES => return Err(format!("\"kid\" is longer than {MAX_KID_BYTES} bytes")),
        (Some(_), Some(kid)) => Some(kid.into_owned()),
    };
    if let Some(kid) = &kid {
        match set.lookup(kid) {
            KeyLookup::Ambiguous => return Err("another entry has this \"kid\" with a different key: a lookup by it finds no key".into()),
            KeyLookup::Found(key) if key.index != index => return Err(format!("an identical copy of entry {}: one key", key.index)),
            _ => {}
        }
    }
    let verdict = usability(entry);
    match verdict {
        Usability::Usable { .. } => Ok((kid, AlgSet::of(&verdict))),
        Usability::NotForSignatures(why) => Err(format!("not for signatures: {why}")),
        Usability::Ignored(why) => Err(why.into()),
        Usability::Rejected(why) => Err(format!("refused: {why}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jws_header::Alg;

    const EC: &str = r#""kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0""#;

    fn report(body: &str) -> Vec<(Option<String>, u16, Option<String>)> {
        let (is_set, entries) = key_report(body.as_bytes(), 100).unwrap();
        assert!(is_set);
        entries.into_iter().map(|entry| (entry.kid, entry.verifies.0, entry.ignored)).collect()
    }

    #[test]
    fn kept_entries_say_what_they_verify() {
        let body = format!(r#"{{"keys":[{{{EC},"kid":"a"}},{{{EC},"kid":"b","alg":"ES256","use":"sig"}},{{{EC}}}]}}"#);
        let es256 = 1 << Alg::ES256.index();
        assert_eq!(report(&body), vec![(Some("a".into()), es256, None), (Some("b".into()), es256, None), (None, es256, None)]);
    }

    #[test]
    fn ignored_entries_say_why_as_the_cache_decides() {
        let body = format!(
            r#"{{"keys":[5,{{{EC},"kid":7}},{{{EC},"kid":""}},{{{EC},"kid":"enc","use":"enc"}},{{"kty":"oct","k":"c2VjcmV0","kid":"s"}},
            {{{EC},"kid":"twin"}},{{{EC},"kid":"twin","alg":"ES256"}},{{{EC},"kid":"same"}},{{{EC},"kid":"same"}},{{"kty":"EC","crv":"P-256","x":"AA","y":"AA","kid":"short"}},{{{EC},"kid":"{long}"}}]}}"#,
            long = "k".repeat(1025)
        );
        let why: Vec<_> = report(&body).into_iter().map(|(_, _, why)| why.unwrap_or_default()).collect();
        assert_eq!(why[0], "not a JSON object");
        assert_eq!(why[1], "\"kid\" is not a string");
        assert_eq!(why[2], "\"kid\" is empty");
        assert_eq!(why[3], "not for signatures: \"use\" is not \"sig\"");
        assert_eq!(why[4], "a shared secret, never used from a published set");
        assert!(why[5].starts_with("another entry has this \"kid\""), "{}", why[5]);
        assert!(why[6].starts_with("another entry has this \"kid\""), "{}", why[6]);
        assert_eq!(why[7], "", "the first copy is the key");
        assert_eq!(why[8], "an identical copy of entry 7: one key");
        assert_eq!(why[9], "refused: EC \"x\" and \"y\" must be the curve's full coordinate size");
        assert_eq!(why[10], "\"kid\" is longer than 1024 bytes");
    }

    #[test]
    fn the_set_is_read_with_the_cache_bounds_and_spans_count_the_byte_order_mark() {
        assert_eq!(key_report(br#"{"issuer":"x"}"#, 100), Ok((false, Vec::new())));
        assert_eq!(key_report(br#"{"keys":[{},{}]}"#, 1).unwrap_err().code(), "ERR_JWKS_TOO_MANY_KEYS");
        assert_eq!(key_report(br#"{"keys":[],"keys":[]}"#, 100).unwrap_err().code(), "ERR_JWKS_INVALID_JSON");
        let body = format!("\u{feff}{{\"keys\":[{{{EC},\"kid\":\"a\"}}]}}");
        let (_, entries) = key_report(body.as_bytes(), 100).unwrap();
        assert!(body.as_bytes()[entries[0].span.clone()].starts_with(b"{\"kty\""));
        assert!(body.as_bytes()[entries[0].span.clone()].ends_with(b"\"a\"}"));
    }
}
