//! What a person inspecting a token is told at once (`inspectToken`, the inspector page,
//! `jwks-cache inspect`), before any key is looked up: each reason verification with the default
//! options would refuse it, decided by verification's own rules ([`crate::jws_header`],
//! [`crate::claims`]) so that the two never disagree, and notes on what verification does with
//! members a reader might expect to matter.

use crate::cache::Millis;
use crate::claims::{ClaimRules, TokenClaims};
use crate::error::CacheError;
use crate::json_spans::JsonObject;
use crate::jws_header::{check_header, Alg};
use crate::token::{require_signature, CompactToken};

/// Header members that carry a key or where to find one: verification never reads them
/// (ATTACKS.md B1, B2), since a token must not choose the key that verifies it.
pub const KEY_CARRYING_MEMBERS: [&str; 4] = ["jku", "x5u", "jwk", "x5c"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// A verification error's code when `refused`, else the note's own code.
    pub code: &'static str,
    /// Whether verification with the default options refuses the token for this.
    pub refused: bool,
    pub message: String,
}

impl Finding {
    fn refusal(error: CacheError) -> Finding {
        Finding { code: error.code(), refused: true, message: error.to_string() }
    }

    fn note(code: &'static str, message: String) -> Finding {
        Finding { code, refused: false, message }
    }
}

/// The findings on a token read by [`crate::token::read_compact`], at `now`: the header's, then
/// the signature's, then the claims' (their first refusal, as verification reports it), then the notes.
pub fn token_findings(token: &CompactToken<'_>, now: Millis) -> Vec<Finding> {
    let mut findings = Vec::new();
    let header = check_header(&token.header, &Alg::ALL);
    match &header {
        Err(error) => findings.push(Finding::refusal(error.clone())),
        Ok(header) => {
            if let Err(error) = require_signature(&token.signature) {
                findings.push(Finding::refusal(error));
            } else if header.alg.signature_len().is_some_and(|len| len != token.signature.len()) {
                let message = format!("it is {} bytes long, and {} signatures are {}", token.signature.len(), header.alg.name(), header.alg.signature_len().unwrap_or(0));
                findings.push(Finding::refusal(CacheError::SignatureInvalid(message)));
            }
        }
    }
    if let Err(error) = TokenClaims::read(&token.header, &token.payload).check(&ClaimRules::new(), now) {
        findings.push(Finding::refusal(error));
    }

    if let Ok(header) = &header {
        if header.kid.is_none() {
            let message = format!("the header has no \"kid\": a verifier selects the one key of the set that can verify {}, and refuses the token when the set holds none or several", header.alg.name());
            findings.push(Finding::note("KID_MISSING", message));
        }
    }
    let members = JsonObject::document(&token.header).unwrap_or_default();
    for name in KEY_CARRYING_MEMBERS.into_iter().filter(|name| members.get(name).is_some()) {
        let message = format!("the header's \"{name}\" is ignored: a verifier takes keys only from the key set it is configured with, never from the token");
        findings.push(Finding::note("HEADER_KEY_IGNORED", message));
    }
    if JsonObject::document(&token.payload).unwrap_or_default().string("iss").is_none() {
        findings.push(Finding::note("ISS_MISSING", "the payload has no \"iss\" string: the key set cannot be found by OpenID discovery, so give its JWKS URI".into()));
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::{encode, read_compact};

    const NOW: Millis = 1_700_000_000_000;

    fn token(header: &str, payload: &str, signature_len: usize) -> String {
        format!("{}.{}.{}", encode(header.as_bytes()), encode(payload.as_bytes()), encode(&vec![1; signature_len]))
    }

    fn findings(header: &str, payload: &str, signature_len: usize) -> Vec<(&'static str, bool)> {
        let text = token(header, payload, signature_len);
        token_findings(&read_compact(&text).unwrap(), NOW).into_iter().map(|f| (f.code, f.refused)).collect()
    }

    #[test]
    fn a_token_verification_would_accept_has_no_refusal() {
        assert_eq!(findings(r#"{"alg":"ES256","kid":"k"}"#, r#"{"iss":"https://i","exp":1700000060}"#, 64), vec![]);
    }

    #[test]
    fn refusals_are_verification_errors() {
        assert_eq!(findings(r#"{"alg":"none"}"#, r#"{"iss":"i","exp":1700000060}"#, 0), vec![("ERR_JWS_ALG_NOT_ALLOWED", true)]);
        assert_eq!(findings(r#"{"alg":"HS256","kid":"k"}"#, r#"{"iss":"i","exp":1700000060}"#, 32), vec![("ERR_JWS_ALG_NOT_ALLOWED", true)]);
        assert_eq!(findings(r#"{"alg":"ES256","kid":"k"}"#, r#"{"iss":"i","exp":1699999999}"#, 64), vec![("ERR_JWT_EXPIRED", true)]);
        assert_eq!(findings(r#"{"alg":"ES256","kid":"k"}"#, r#"{"iss":"i","exp":1700000060,"nbf":1700000030}"#, 64), vec![("ERR_JWT_NOT_YET_VALID", true)]);
        assert_eq!(findings(r#"{"alg":"ES256","kid":"k"}"#, r#"{"iss":"i"}"#, 64), vec![("ERR_JWT_CLAIM_INVALID", true)]);
        assert_eq!(findings(r#"{"alg":"ES256","kid":"k"}"#, r#"{"iss":"i","exp":1700000060}"#, 0), vec![("ERR_JWT_MALFORMED", true)]);
        assert_eq!(findings(r#"{"alg":"ES256","kid":"k"}"#, r#"{"iss":"i","exp":1700000060}"#, 63), vec![("ERR_JWS_SIGNATURE_INVALID", true)]);
        assert_eq!(findings(r#"{"alg":"ES256","kid":"k","crit":["x"]}"#, r#"{"iss":"i","exp":1700000060}"#, 64), vec![("ERR_JWS_HEADER_UNSUPPORTED", true)]);
    }

    #[test]
    fn notes_say_what_verification_does_with_what_a_reader_might_trust() {
        let header = r#"{"alg":"RS256","jku":"https://evil.example/jwks","jwk":{"kty":"RSA"},"x5u":"https://e","x5c":["MII"]}"#;
        let found = token_findings(&read_compact(&token(header, r#"{"exp":1700000060}"#, 256)).unwrap(), NOW);
        let codes: Vec<_> = found.iter().map(|f| (f.code, f.refused)).collect();
        assert_eq!(
            codes,
            vec![("KID_MISSING", false), ("HEADER_KEY_IGNORED", false), ("HEADER_KEY_IGNORED", false), ("HEADER_KEY_IGNORED", false), ("HEADER_KEY_IGNORED", false), ("ISS_MISSING", false)]
        );
        assert!(found[0].message.contains("can verify RS256"), "{}", found[0].message);
        assert!(found[1].message.starts_with("the header's \"jku\" is ignored"), "{}", found[1].message);
    }
}
