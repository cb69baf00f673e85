//! Whether a JWK from a set may verify signatures, and for which algorithms (RFC 7517 4, RFC 7518
//! 6, ATTACKS.md A3, A4, D4, D6), decided from the key's members alone. What only the curve
//! arithmetic can tell (an EC point not on its curve) is left to the host's key import, which
//! refuses such points.
//!
//! - `kty` missing, unknown or `oct` (a shared secret never belongs in a published set): ignored;
//! - `use` other than `sig`, `key_ops` without `verify`, X25519/X448: not for signatures;
//! - Ed25519 `x` exactly 32 bytes; P-256/384/521 `x` and `y` exactly 32/48/66 bytes and not both
//!   zero; other curves (secp256k1, Ed448): ignored;
//! - RSA: `n` of 2048 to 16384 bits, odd, without a leading zero octet; `e` odd, from 3 to 2^32,
//!   without a leading zero octet;
//! - `alg`, when present, must name an algorithm that fits the key (an encryption algorithm makes
//!   the key not for signatures);
//! - `x5c`, when present: the first certificate must hold the key's own `n` (RSA) or point (EC).
//!
//! A key that fails is skipped by key selection; it never makes the rest of the set unusable.

use crate::error::CacheError;
use crate::json_spans::{self, decoded, JsonObject};
use crate::jws_header::Alg;
use crate::token::base64url;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    Rsa,
    P256,
    P384,
    P521,
    Ed25519,
}

impl KeyKind {
    /// Whether this key can verify tokens signed with `alg`.
    pub fn fits(self, alg: Alg) -> bool {
        use Alg::*;
        matches!(
            (self, alg),
            (KeyKind::Rsa, RS256 | RS384 | RS512 | PS256 | PS384 | PS512)
                | (KeyKind::P256, ES256)
                | (KeyKind::P384, ES384)
                | (KeyKind::P521, ES512)
                | (KeyKind::Ed25519, EdDSA)
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Usability {
    /// Usable for the algorithms its kind fits, or only for `alg` when the key names one.
    Usable { kind: KeyKind, alg: Option<Alg> },
    /// A key for encryption or key agreement.
    NotForSignatures(&'static str),
    /// A key this library does not understand or never uses.
    Ignored(&'static str),
    /// A signature key that is malformed or too weak to trust.
    Rejected(&'static str),
}

/// Decides a key from its text (a checked JSON object).
pub fn usability(jwk: &str) -> Usability {
    let object = JsonObject::document(jwk).unwrap_or_default();
    let member = |name: &str| object.get(name);
    let string = |name: &str| object.string(name);
    let bytes = |name: &str| string(name).and_then(|text| base64url(&text));

    let kind = match string("kty").as_deref() {
        Some("RSA") => KeyKind::Rsa,
        Some("EC") => match string("crv").as_deref() {
            Some("P-256") => KeyKind::P256,
            Some("P-384") => KeyKind::P384,
            Some("P-521") => KeyKind::P521,
            _ => return Usability::Ignored("an elliptic curve this library does not implement"),
        },
        Some("OKP") => match string("crv").as_deref() {
            Some("Ed25519") => KeyKind::Ed25519,
            Some("X25519" | "X448") => return Usability::NotForSignatures("a key-agreement curve"),
            _ => return Usability::Ignored("an OKP curve this library does not implement"),
        },
        Some("oct") => return Usability::Ignored("a shared secret, never used from a published set"),
        _ => return Usability::Ignored("kty missing or not understood"),
    };

    if member("use").is_some_and(|value| string("use").as_deref() != Some("sig") || value.is_empty()) {
        return Usability::NotForSignatures("\"use\" is not \"sig\"");
    }
    if let Some(ops) = member("key_ops") {
        let allows_verify = json_spans::entries(ops, 0..ops.len())
            .is_some_and(|entries| entries.iter().any(|entry| &ops[entry.clone()] == "\"verify\""));
        if !allows_verify {
            return Usability::NotForSignatures("\"key_ops\" does not allow \"verify\"");
        }
    }

    let material = match kind {
        KeyKind::Rsa => rsa_material(bytes("n"), bytes("e")),
        KeyKind::Ed25519 => match bytes("x") {
            Some(x) if x.len() == 32 => Ok(x),
            _ => Err("Ed25519 \"x\" must be 32 bytes of base64url"),
        },
        KeyKind::P256 | KeyKind::P384 | KeyKind::P521 => {
            let size = match kind {
                KeyKind::P256 => 32,
                KeyKind::P384 => 48,
                _ => 66,
            };
            match (bytes("x"), bytes("y")) {
                (Some(x), Some(y)) if x.len() == size && y.len() == size => {
                    if x.iter().chain(&y).all(|&byte| byte == 0) {
                        Err("the point (0, 0) is not on any curve")
                    } else {
                        Ok([x, y].concat())
                    }
                }
                _ => Err("EC \"x\" and \"y\" must be the curve's full coordinate size"),
            }
        }
    };
    let material = match material {
        Ok(material) => material,
        Err(why) => return Usability::Rejected(why),
    };

    let alg = match member("alg") {
        None => None,
        Some(_) => match string("alg").as_deref().map(Alg::named) {
            Some(Some(alg)) if kind.fits(alg) => Some(alg),
            Some(Some(_)) => return Usability::Rejected("\"alg\" does not fit the key type"),
            _ => return Usability::NotForSignatures("\"alg\" names no signature algorithm implemented"),
        },
    };

    if let Some(chain) = member("x5c") {
        let first = json_spans::entries(chain, 0..chain.len())
            .and_then(|entries| entries.first().cloned())
            .map(|entry| &chain[entry])
            .filter(|entry| entry.starts_with('"'))
            .and_then(|entry| base64_standard(&decoded(entry)));
        match first {
            Some(der) if contains(&der, &material) => {}
            _ => return Usability::Rejected("the first \"x5c\" certificate does not hold this key"),
        }
    }
    Usability::Usable { kind, alg }
}

/// A key of a set as selection sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub kid: Option<String>,
    pub usability: Usability,
}

impl Candidate {
    fn verifies(&self, alg: Alg) -> bool {
        matches!(self.usability, Usability::Usable { kind, alg: own } if kind.fits(alg) && own.is_none_or(|own| own == alg))
    }
}

/// The key that verifies a token signed with `alg` and naming `kid` (RFC 7515 4.1.4, RFC 8725
/// 3.1): with a kid, the one key of that kid, if it can verify `alg`; without, the single key of
/// the set that can. Returns its index in `candidates`. Keys that cannot be used were never
/// candidates for anything else: they make no other key unusable.
pub fn select_key(candidates: &[Candidate], kid: Option<&str>, alg: Alg) -> Result<usize, CacheError> {
    let no_key = |why: String| Err(CacheError::NoMatchingKey(why));
    match kid {
        Some(kid) => {
            let mut named = candidates.iter().enumerate().filter(|(_, key)| key.kid.as_deref() == Some(kid));
            match (named.next(), named.next()) {
                (None, _) => no_key(format!("no key has kid {kid:?}")),
                (Some(_), Some(_)) => Err(CacheError::AmbiguousKid(kid.to_owned())),
                (Some((at, key)), None) if key.verifies(alg) => Ok(at),
                (Some(_), None) => no_key(format!("the key with kid {kid:?} cannot verify {}", alg.name())),
            }
        }
        None => {
            let mut usable = candidates.iter().enumerate().filter(|(_, key)| key.verifies(alg));
            match (usable.next(), usable.next()) {
                (Some((at, _)), None) => Ok(at),
                (None, _) => no_key(format!("no key can verify {} (and the token names none)", alg.name())),
                (Some(_), Some(_)) => no_key(format!("several keys can verify {} and the token names none", alg.name())),
            }
        }
    }
}

/// The modulus, once `n` and `e` pass the RSA rules.
fn rsa_material(n: Option<Vec<u8>>, e: Option<Vec<u8>>) -> Result<Vec<u8>, &'static str> {
    let (Some(n), Some(e)) = (n, e) else { return Err("RSA needs \"n\" and \"e\" in base64url") };
    if n.first().is_none_or(|&byte| byte == 0) || e.first().is_none_or(|&byte| byte == 0) {
        return Err("RSA \"n\" and \"e\" must use the fewest octets (no leading zero)");
    }
    let bits = n.len() * 8 - n[0].leading_zeros() as usize;
    if !(2048..=16384).contains(&bits) {
        return Err("RSA modulus must be 2048 to 16384 bits");
    }
    if n[n.len() - 1] % 2 == 0 {
        return Err("an RSA modulus is odd");
    }
    let exponent = if e.len() <= 5 { e.iter().fold(0u64, |value, &byte| value << 8 | byte as u64) } else { u64::MAX };
    if !(3..=1 << 32).contains(&exponent) || exponent % 2 == 0 {
        return Err("RSA exponent must be odd, from 3 to 2^32");
    }
    Ok(n)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|window| window == needle)
}

/// Standard base64 with padding, as `x5c` uses (RFC 7517 4.7).
fn base64_standard(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(4) {
        return None;
    }
    let unpadded = text.trim_end_matches('=');
    if text.len() - unpadded.len() > 2 {
        return None;
    }
    base64url(&unpadded.replace('+', "-").replace('/', "_"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn every_key_of_jwk_vectors_json_is_handled_as_it_says() {
        let vectors: Value = serde_json::from_str(include_str!("../tests/data/jwk-vectors.json")).unwrap();
        // Decided by the host's import (curve arithmetic), not from the members.
        let by_import = ["ec-point-not-on-curve"];
        for vector in vectors["keys"].as_array().unwrap() {
            let name = vector["name"].as_str().unwrap();
            let text = serde_json::to_string(&vector["jwk"]).unwrap();
            let got = match usability(&text) {
                Usability::Usable { .. } => "usable",
                Usability::NotForSignatures(_) => "not_for_signatures",
                Usability::Ignored(_) => "ignore",
                Usability::Rejected(_) => "reject",
            };
            let expected = vector["expected"].as_str().unwrap();
            if by_import.contains(&name) {
                assert_eq!(got, "usable", "{name}: left to the host's import");
            } else {
                assert_eq!(got, expected, "{name}: {:?}", usability(&text));
            }
        }
    }

    #[test]
    fn a3_a_key_fits_only_its_algorithms() {
        assert!(KeyKind::Rsa.fits(Alg::PS384) && !KeyKind::Rsa.fits(Alg::ES256));
        assert!(KeyKind::P256.fits(Alg::ES256) && !KeyKind::P256.fits(Alg::ES384));
        assert!(KeyKind::Ed25519.fits(Alg::EdDSA) && !KeyKind::Ed25519.fits(Alg::ES256));
    }

    fn candidate(kid: Option<&str>, kind: KeyKind, alg: Option<Alg>) -> Candidate {
        Candidate { kid: kid.map(str::to_owned), usability: Usability::Usable { kind, alg } }
    }

    #[test]
    fn selects_by_kid_or_the_single_usable_key() {
        let set = [
            candidate(Some("rsa"), KeyKind::Rsa, Some(Alg::RS256)),
            candidate(Some("ec"), KeyKind::P256, None),
            Candidate { kid: Some("enc".into()), usability: Usability::NotForSignatures("use") },
            candidate(None, KeyKind::Ed25519, None),
        ];
        assert_eq!(select_key(&set, Some("rsa"), Alg::RS256), Ok(0));
        assert_eq!(select_key(&set, Some("ec"), Alg::ES256), Ok(1));
        assert_eq!(select_key(&set, None, Alg::EdDSA), Ok(3), "the kid-less key is the one EdDSA key");
        assert_eq!(select_key(&set, None, Alg::ES256), Ok(1), "the only ES256 key, though it has a kid");
        let code = |kid, alg| select_key(&set, kid, alg).unwrap_err().code();
        assert_eq!(code(Some("rsa"), Alg::PS256), "ERR_JWKS_NO_MATCHING_KEY", "A3: the JWK's alg binds the key");
        assert_eq!(code(Some("ec"), Alg::ES384), "ERR_JWKS_NO_MATCHING_KEY");
        assert_eq!(code(Some("enc"), Alg::ES256), "ERR_JWKS_NO_MATCHING_KEY", "A4: an encryption key never verifies");
        assert_eq!(code(Some("nope"), Alg::ES256), "ERR_JWKS_NO_MATCHING_KEY");
        assert_eq!(code(None, Alg::ES384), "ERR_JWKS_NO_MATCHING_KEY");
        let two = [candidate(Some("a"), KeyKind::P256, None), candidate(Some("b"), KeyKind::P256, None)];
        assert_eq!(select_key(&two, None, Alg::ES256).unwrap_err().code(), "ERR_JWKS_NO_MATCHING_KEY", "several: the token must name one");
        let twins = [candidate(Some("a"), KeyKind::P256, None), candidate(Some("a"), KeyKind::Rsa, None)];
        assert_eq!(select_key(&twins, Some("a"), Alg::ES256).unwrap_err().code(), "ERR_JWKS_AMBIGUOUS_KID");
    }

    #[test]
    fn decodes_standard_base64() {
        assert_eq!(base64_standard("TWFu").unwrap(), b"Man");
        assert_eq!(base64_standard("TWE=").unwrap(), b"Ma");
        assert_eq!(base64_standard("+/+/").unwrap(), [0xfb, 0xff, 0xbf]);
        assert!(base64_standard("TWE").is_none());
        assert!(base64_standard("T===").is_none());
    }
}
