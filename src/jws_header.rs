//! The rules of a JWS protected header (RFC 7515 4.1, RFC 8725 3.1-3.2, ATTACKS.md A1, A2, B1,
//! B2, E1, E2), on the header text that [`crate::token::read_compact`] checked:
//! - `alg` must be one of the asymmetric algorithms verification implements and the caller
//!   allows; `none` and every `HS*` are refused whatever the caller allows (no key from a JWKS is
//!   a shared secret), and so is any other name;
//! - `crit`, when present, must be a non-empty array of names, and since no extension is
//!   implemented, any name in it refuses the token; `b64` (RFC 7797), whatever its value, is refused too;
//! - `kid`, when present, must be a string of at most [`MAX_KID_BYTES`] bytes;
//! - `jku`, `x5u`, `jwk` and `x5c` are never read: keys come from the caller's JWKS only.

use crate::error::CacheError;
use crate::json_spans::{self, decoded, JsonObject};
use crate::jwks::MAX_KID_BYTES;

/// The algorithms verification implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alg {
    RS256,
    RS384,
    RS512,
    PS256,
    PS384,
    PS512,
    ES256,
    ES384,
    ES512,
    EdDSA,
}

impl Alg {
    pub const ALL: [Alg; 10] =
        [Alg::RS256, Alg::RS384, Alg::RS512, Alg::PS256, Alg::PS384, Alg::PS512, Alg::ES256, Alg::ES384, Alg::ES512, Alg::EdDSA];

    pub fn name(self) -> &'static str {
        match self {
            Alg::RS256 => "RS256",
            Alg::RS384 => "RS384",
            Alg::RS512 => "RS512",
            Alg::PS256 => "PS256",
            Alg::PS384 => "PS384",
            Alg::PS512 => "PS512",
            Alg::ES256 => "ES256",
            Alg::ES384 => "ES384",
            Alg::ES512 => "ES512",
            Alg::EdDSA => "EdDSA",
        }
    }

    /// The length of every signature of this algorithm, where it depends on the algorithm alone
    /// (RFC 7518 3.4: ECDSA is r || s, each the size of the curve's order; RFC 8037: Ed25519 is
    /// 64 bytes). An RSA signature is as long as the key's modulus, which the host checks.
    pub fn signature_len(self) -> Option<usize> {
        match self {
            Alg::ES256 | Alg::EdDSA => Some(64),
            Alg::ES384 => Some(96),
            Alg::ES512 => Some(132),
            _ => None,
        }
    }

    /// Its place in [`Alg::ALL`], which the host uses to name it.
    pub fn index(self) -> usize {
        self as usize
    }

    /// The algorithm with this exact name (names are case-sensitive, RFC 7515 4.1.1).
    pub fn named(name: &str) -> Option<Alg> {
        Alg::ALL.into_iter().find(|alg| alg.name() == name)
    }
}

/// What the header says, once its rules hold.
#[derive(Debug, PartialEq, Eq)]
pub struct JwsHeader {
    pub alg: Alg,
    pub kid: Option<String>,
}

/// Checks the header text against the rules above; `allowed` is the caller's allow-list.
pub fn check_header(header: &str, allowed: &[Alg]) -> Result<JwsHeader, CacheError> {
    let object = JsonObject::document(header).unwrap_or_default();
    let member = |name: &str| object.get(name);
    let malformed = |why: &str| CacheError::TokenMalformed(format!("the header's {why}"));

    let alg = match member("alg") {
        Some(value) if value.starts_with('"') => decoded(value),
        Some(_) => return Err(malformed("\"alg\" is not a string")),
        None => return Err(malformed("\"alg\" is missing")),
    };
    let alg = match Alg::named(&alg) {
        Some(alg) if allowed.contains(&alg) => alg,
        _ => return Err(CacheError::AlgNotAllowed(alg.into_owned())),
    };

    if let Some(crit) = member("crit") {
        let names = json_spans::entries(crit, 0..crit.len()).ok_or_else(|| malformed("\"crit\" is not an array"))?;
        let Some(first) = names.first() else { return Err(malformed("\"crit\" is empty")) };
        let first = &crit[first.clone()];
        if !first.starts_with('"') {
            return Err(malformed("\"crit\" holds something other than names"));
        }
        return Err(CacheError::HeaderUnsupported(format!("\"crit\" names {:?}, which is not implemented", decoded(first))));
    }
    // RFC 7797 7: a JWT never uses `b64`; any value is refused, so that no two verifiers can
    // disagree on what was signed.
    if member("b64").is_some() {
        return Err(CacheError::HeaderUnsupported("\"b64\" (RFC 7797 unencoded payload) is not implemented".into()));
    }

    let kid = match member("kid") {
        None => None,
        Some(value) if value.starts_with('"') => {
            let kid = decoded(value);
            if kid.is_empty() || kid.len() > MAX_KID_BYTES {
                return Err(malformed("\"kid\" is empty or longer than 1024 bytes"));
            }
            Some(kid.into_owned())
        }
        Some(_) => return Err(malformed("\"kid\" is not a string")),
    };
    Ok(JwsHeader { alg, kid })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(header: &str) -> &'static str {
        check_header(header, &Alg::ALL).err().map_or("ok", |error| error.code())
    }

    #[test]
    fn reads_alg_and_kid() {
        assert_eq!(check_header(r#"{"alg":"ES256","kid":"k-1","typ":"JWT"}"#, &Alg::ALL), Ok(JwsHeader { alg: Alg::ES256, kid: Some("k-1".into()) }));
        assert_eq!(check_header(r#"{"\u0061lg":"\u0052S256"}"#, &Alg::ALL), Ok(JwsHeader { alg: Alg::RS256, kid: None }), "escapes are decoded");
        for alg in Alg::ALL {
            assert_eq!(check_header(&format!(r#"{{"alg":"{}"}}"#, alg.name()), &[alg]).unwrap().alg, alg);
        }
    }

    #[test]
    fn a1_a2_none_hmac_unknown_and_disallowed_algorithms_are_refused() {
        for alg in ["none", "None", "NONE", "HS256", "HS384", "HS512", "es256", "ES256K", "RSA1_5", ""] {
            assert_eq!(code(&format!(r#"{{"alg":"{alg}"}}"#)), "ERR_JWS_ALG_NOT_ALLOWED", "{alg}");
        }
        let only_es256 = check_header(r#"{"alg":"RS256"}"#, &[Alg::ES256]).unwrap_err();
        assert_eq!(only_es256.to_string(), "JWS algorithm not allowed: \"RS256\"");
        assert_eq!(code(r#"{"alg":null}"#), "ERR_JWT_MALFORMED");
        assert_eq!(code(r#"{"typ":"JWT"}"#), "ERR_JWT_MALFORMED");
    }

    #[test]
    fn e1_e2_crit_and_unencoded_payloads_are_refused() {
        assert_eq!(code(r#"{"alg":"ES256","crit":["exp"],"exp":1}"#), "ERR_JWS_HEADER_UNSUPPORTED");
        assert_eq!(code(r#"{"alg":"ES256","crit":["b64"],"b64":false}"#), "ERR_JWS_HEADER_UNSUPPORTED");
        assert_eq!(code(r#"{"alg":"ES256","b64":false}"#), "ERR_JWS_HEADER_UNSUPPORTED");
        assert_eq!(code(r#"{"alg":"ES256","b64":true}"#), "ERR_JWS_HEADER_UNSUPPORTED", "a JWT never carries b64");
        for crit in [r#"[]"#, r#""exp""#, r#"[1]"#] {
            assert_eq!(code(&format!(r#"{{"alg":"ES256","crit":{crit}}}"#)), "ERR_JWT_MALFORMED", "{crit}");
        }
    }

    #[test]
    fn b1_b2_key_carrying_members_are_never_read() {
        let header = r#"{"alg":"ES256","kid":"k","jku":"https://evil.example/jwks","x5u":"https://evil.example/c","jwk":{"kty":"EC"},"x5c":["MII"]}"#;
        assert_eq!(check_header(header, &Alg::ALL), Ok(JwsHeader { alg: Alg::ES256, kid: Some("k".into()) }));
    }

    #[test]
    fn a_kid_must_be_a_usable_string() {
        for kid in ["7", "null", r#""""#, "[\"k\"]"] {
            assert_eq!(code(&format!(r#"{{"alg":"ES256","kid":{kid}}}"#)), "ERR_JWT_MALFORMED", "{kid}");
        }
        assert_eq!(code(&format!(r#"{{"alg":"ES256","kid":"{}"}}"#, "k".repeat(1025))), "ERR_JWT_MALFORMED");
        assert_eq!(code(&format!(r#"{{"alg":"ES256","kid":"{}"}}"#, "k".repeat(1024))), "ok");
    }
}
