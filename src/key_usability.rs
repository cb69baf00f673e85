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

/// The algorithms one key may verify, as a bit set over [`Alg::ALL`] (bit `i` is `Alg::ALL[i]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AlgSet(pub u16);

impl AlgSet {
    /// What a key of this usability verifies: the algorithms its kind fits, or only the one its
    /// `alg` names; nothing for a key that is not usable.
    pub fn of(usability: &Usability) -> AlgSet {
        let Usability::Usable { kind, alg: own } = usability else { return AlgSet(0) };
        AlgSet(
            Alg::ALL
                .iter()
                .enumerate()
                .filter(|(_, &alg)| kind.fits(alg) && own.is_none_or(|own| own == alg))
                .fold(0, |bits, (at, _)| bits | 1 << at),
        )
    }

    pub fn contains(self, alg: Alg) -> bool {
        self.0 & 1 << alg.index() != 0
    }
}

/// A key of a set as selection sees it: its kid, if any, and what it verifies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate<'a> {
    pub kid: Option<&'a str>,
    pub verifies: AlgSet,
}

/// Why no key verifies a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoKey {
    /// The token names a kid the set does not hold.
    KidAbsent,
    /// The key with the token's kid cannot verify the token's algorithm.
    KidCannotVerify,
    /// The host could not import the key the token selects (an EC point off its curve, say).
    NotImportable,
    /// The token names no kid and no key of the set can verify its algorithm.
    NoneUsable,
    /// The token names no kid and several keys can verify its algorithm.
    Several,
}

impl NoKey {
    pub const ALL: [NoKey; 5] = [NoKey::KidAbsent, NoKey::KidCannotVerify, NoKey::NotImportable, NoKey::NoneUsable, NoKey::Several];

    /// The error a verification gets, in words that say what to fix.
    pub fn error(self, kid: Option<&str>, alg: Alg) -> CacheError {
        let kid = kid.map(|kid| format!("{:?}", crate::error::shorten(kid))).unwrap_or_default();
        let alg = alg.name();
        CacheError::NoMatchingKey(match self {
            NoKey::KidAbsent => format!("no key has kid {kid}"),
            NoKey::KidCannotVerify => format!("the key with kid {kid} cannot verify {alg} (its kty, crv, alg, use or key_ops, or it is malformed or too weak)"),
            NoKey::NotImportable => format!("the key with kid {kid} for {alg} was refused by the host's crypto"),
            NoKey::NoneUsable => format!("no key can verify {alg} (and the token names none)"),
            NoKey::Several => format!("several keys can verify {alg} and the token names none"),
        })
    }
}

/// The key that verifies a token signed with `alg` and naming `kid` (RFC 7515 4.1.4, RFC 8725
/// 3.1): with a kid, the one key of that kid, if it can verify `alg`; without, the single key of
/// the set that can. Returns its index in `candidates`. Keys that cannot be used were never
/// candidates for anything else: they make no other key unusable. Candidates hold one key per
/// kid: a kid shared by different keys never reaches selection (see [`crate::jwks`]).
pub fn select_key(candidates: &[Candidate<'_>], kid: Option<&str>, alg: Alg) -> Result<usize, NoKey> {
    match kid {
        Some(kid) => match candidates.iter().position(|key| key.kid == Some(kid)) {
            None => Err(NoKey::KidAbsent),
            Some(at) if candidates[at].verifies.contains(alg) => Ok(at),
            Some(_) => Err(NoKey::KidCannotVerify),
        },
        None => {
            let mut usable = candidates.iter().enumerate().filter(|(_, key)| key.verifies.contains(alg));
            match (usable.next(), usable.next()) {
                (Some((at, _)), None) => Ok(at),
                (None, _) => Err(NoKey::NoneUsable),
                (Some(_), Some(_)) => Err(NoKey::Several),
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
    if has_roca_fingerprint(&n) {
        return Err("an RSA modulus with the ROCA fingerprint (CVE-2017-15361): its private key can be computed");
    }
    let exponent = if e.len() <= 5 { e.iter().fold(0u64, |value, &byte| value << 8 | byte as u64) } else { u64::MAX };
    if !(3..=1 << 32).contains(&exponent) || exponent % 2 == 0 {
        return Err("RSA exponent must be odd, from 3 to 2^32");
    }
    Ok(n)
}

/// Whether `n` (big-endian) was made by the Infineon RSALib generator whose keys can be factored
/// (ROCA, CVE-2017-15361; Nemec et al., CCS 2017): such a modulus lies, modulo each of these small
/// primes, in the subgroup that 65537 generates. A random modulus does so for all of them with a
/// probability far below 2^-100, so the test has no false positives in practice.
fn has_roca_fingerprint(n: &[u8]) -> bool {
    const PRIMES: [u32; 38] = [
        3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97, 101, 103, 107, 109, 113, 127, 131,
        137, 139, 149, 151, 157, 163, 167,
    ];
    PRIMES.iter().all(|&p| {
        let residue = n.iter().fold(0, |rest, &byte| (rest * 256 + byte as u32) % p);
        let generator = 65537 % p;
        let mut power = 1;
        for _ in 0..p {
            if power == residue {
                return true;
            }
            power = power * generator % p;
        }
        false
    })
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

    fn candidate(kid: Option<&'static str>, kind: KeyKind, alg: Option<Alg>) -> Candidate<'static> {
        Candidate { kid, verifies: AlgSet::of(&Usability::Usable { kind, alg }) }
    }

    #[test]
    fn a_key_verifies_the_algorithms_of_its_kind_or_only_its_own() {
        let rsa = AlgSet::of(&Usability::Usable { kind: KeyKind::Rsa, alg: None });
        assert!(rsa.contains(Alg::RS256) && rsa.contains(Alg::PS512) && !rsa.contains(Alg::ES256));
        let rs256 = AlgSet::of(&Usability::Usable { kind: KeyKind::Rsa, alg: Some(Alg::RS256) });
        assert_eq!(rs256, AlgSet(1));
        assert_eq!(AlgSet::of(&Usability::Rejected("weak")), AlgSet(0));
    }

    #[test]
    fn selects_by_kid_or_the_single_usable_key() {
        let set = [
            candidate(Some("rsa"), KeyKind::Rsa, Some(Alg::RS256)),
            candidate(Some("ec"), KeyKind::P256, None),
            Candidate { kid: Some("enc"), verifies: AlgSet::of(&Usability::NotForSignatures("use")) },
            candidate(None, KeyKind::Ed25519, None),
        ];
        assert_eq!(select_key(&set, Some("rsa"), Alg::RS256), Ok(0));
        assert_eq!(select_key(&set, Some("ec"), Alg::ES256), Ok(1));
        assert_eq!(select_key(&set, None, Alg::EdDSA), Ok(3), "the kid-less key is the one EdDSA key");
        assert_eq!(select_key(&set, None, Alg::ES256), Ok(1), "the only ES256 key, though it has a kid");
        assert_eq!(select_key(&set, Some("rsa"), Alg::PS256), Err(NoKey::KidCannotVerify), "A3: the JWK's alg binds the key");
        assert_eq!(select_key(&set, Some("ec"), Alg::ES384), Err(NoKey::KidCannotVerify));
        assert_eq!(select_key(&set, Some("enc"), Alg::ES256), Err(NoKey::KidCannotVerify), "A4: an encryption key never verifies");
        assert_eq!(select_key(&set, Some("nope"), Alg::ES256), Err(NoKey::KidAbsent));
        assert_eq!(select_key(&set, None, Alg::ES384), Err(NoKey::NoneUsable));
        let two = [candidate(Some("a"), KeyKind::P256, None), candidate(Some("b"), KeyKind::P256, None)];
        assert_eq!(select_key(&two, None, Alg::ES256), Err(NoKey::Several), "several: the token must name one");
        for why in NoKey::ALL {
            assert_eq!(why.error(Some("k"), Alg::ES256).code(), "ERR_JWKS_NO_MATCHING_KEY");
        }
    }

    #[test]
    fn d4_a_roca_modulus_is_refused_and_ordinary_ones_are_not() {
        let vectors: Value = serde_json::from_str(include_str!("../tests/data/wycheproof/json_web_key_test.json")).unwrap();
        let mut roca = 0;
        for group in vectors["testGroups"].as_array().unwrap() {
            for key in group["public"]["keys"].as_array().into_iter().flatten() {
                let Some(n) = key["n"].as_str().filter(|_| key["kty"] == "RSA").and_then(base64url) else { continue };
                let is_roca = key["kid"].as_str().unwrap().contains("roca");
                assert_eq!(has_roca_fingerprint(&n), is_roca, "{}", key["kid"]);
                roca += is_roca as usize;
            }
        }
        assert_eq!(roca, 1, "Wycheproof json_web_key_test.json tcId 7");
        let rfc: Value = serde_json::from_str(include_str!("../tests/data/rfc-vectors.json")).unwrap();
        for vector in rfc.as_array().unwrap().iter().filter(|v| v["jwk"]["kty"] == "RSA") {
            assert!(!has_roca_fingerprint(&base64url(vector["jwk"]["n"].as_str().unwrap()).unwrap()));
        }
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
