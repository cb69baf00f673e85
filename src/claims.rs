//! The claim checks of a JWT (RFC 7519 4.1, RFC 8725 3.8-3.12), sans-IO: the host passes the
//! time in. They run on the header and payload texts that [`crate::token::read_compact`] checked
//! (one JSON object each, no duplicate members), after the signature.
//!
//! Rules (ATTACKS.md G1-G3):
//! - `exp`, `nbf` and `iat`, when present, must be NumericDates: JSON numbers (fractions allowed)
//!   from 0 to 8.64e12 seconds (the JS `Date` range). A string, null, bool, array or object, or a
//!   number out of that range, is `ERR_JWT_CLAIM_INVALID`, never "absent" (G2).
//! - expired when `now >= exp + tolerance`; not yet valid when `now < nbf - tolerance`; an `iat`
//!   later than `now + tolerance` is refused (G1); `exp` is required unless the caller says not.
//! - with `max_token_age_sec`, `iat` is required and the token is expired once
//!   `now - tolerance > iat + max age`.
//! - `iss` must equal one of the issuers given, `aud` (a string or an array of strings) must hold
//!   one of the audiences given, the header's `typ` must match the type given (case-insensitive,
//!   `application/` optional, RFC 7515 4.1.9), and every required claim must be present.

use crate::cache::Millis;
use crate::error::CacheError;
use crate::json_spans::{self, decoded, JsonObject};

/// The latest NumericDate accepted, in seconds: the end of the JS `Date` range.
pub const MAX_NUMERIC_DATE: f64 = 8.64e12;

/// What the caller asks of a token's claims.
#[derive(Debug, Clone, Default)]
pub struct ClaimRules<'a> {
    /// Accepted issuers; empty: `iss` is not checked.
    pub issuers: Vec<&'a str>,
    /// Accepted audiences; empty: `aud` is not checked.
    pub audiences: Vec<&'a str>,
    pub clock_tolerance_sec: u64,
    pub max_token_age_sec: Option<u64>,
    /// The header's `typ`, when given.
    pub typ: Option<&'a str>,
    pub required: Vec<&'a str>,
    /// Whether a token without `exp` is refused (the default: a token that never expires is
    /// rarely meant).
    pub require_exp: bool,
}

impl ClaimRules<'_> {
    pub fn new() -> Self {
        ClaimRules { require_exp: true, ..ClaimRules::default() }
    }
}

/// Checks the claims in `payload` and the `typ` in `header` (both checked JSON object texts)
/// at `now`.
pub fn check_claims(header: &str, payload: &str, rules: &ClaimRules<'_>, now: Millis) -> Result<(), CacheError> {
    TokenClaims::read(header, payload).check(rules, now)
}

/// What the checks read of a token, read once: a token checked again (the host's verified-token
/// cache keeps this beside the token) is not read again. A claim of the wrong type is kept as its
/// error, reported when a check needs the claim (the time claims: always). `aud` and the names of
/// the claims are read from the kept payload when a check asks for them, so that what is kept
/// costs about the payload's own size, however many entries `aud` has.
#[derive(Debug, Clone)]
pub struct TokenClaims {
    exp: Result<Option<f64>, CacheError>,
    nbf: Result<Option<f64>, CacheError>,
    iat: Result<Option<f64>, CacheError>,
    iss: Result<Option<String>, CacheError>,
    typ: Result<Option<String>, CacheError>,
    payload: Box<str>,
}

impl TokenClaims {
    pub fn read(header: &str, payload: &str) -> TokenClaims {
        let claims = Claims(JsonObject::document(payload).unwrap_or_default());
        let header = Claims(JsonObject::document(header).unwrap_or_default());
        TokenClaims {
            exp: claims.numeric_date("exp"),
            nbf: claims.numeric_date("nbf"),
            iat: claims.numeric_date("iat"),
            iss: claims.string("iss").map(|iss| iss.map(Into::into)),
            typ: header.string("typ").map(|typ| typ.map(Into::into)),
            payload: payload.into(),
        }
    }

    /// The `iss` rule alone: verification applies it before it looks a key up too (ATTACKS.md B3:
    /// a token of an issuer the caller does not accept costs no fetch).
    pub fn check_issuer(&self, issuers: &[&str]) -> Result<(), CacheError> {
        if issuers.is_empty() {
            return Ok(());
        }
        let iss = self.iss.clone()?.ok_or_else(|| invalid("iss", "is required"))?;
        if !issuers.contains(&iss.as_str()) {
            return Err(invalid("iss", "is not an accepted issuer"));
        }
        Ok(())
    }

    /// The rules at `now`, in the order of the module's list.
    pub fn check(&self, rules: &ClaimRules<'_>, now: Millis) -> Result<(), CacheError> {
        // Milliseconds kept: a NumericDate may be fractional (RFC 7519 2), and a token whose `exp`
        // is half a second ago has expired.
        let now = now as f64 / 1000.0;
        let tolerance = rules.clock_tolerance_sec as f64;
        let (exp, nbf, iat) = (self.exp.clone()?, self.nbf.clone()?, self.iat.clone()?);
        match exp {
            Some(exp) if now >= exp + tolerance => return Err(CacheError::TokenExpired("\"exp\" has passed".into())),
            None if rules.require_exp => return Err(invalid("exp", "is required")),
            _ => {}
        }
        if nbf.is_some_and(|nbf| now < nbf - tolerance) {
            return Err(CacheError::TokenNotYetValid("\"nbf\" has not come".into()));
        }
        if iat.is_some_and(|iat| iat > now + tolerance) {
            return Err(invalid("iat", "is in the future"));
        }
        if let Some(max_age) = rules.max_token_age_sec {
            let iat = iat.ok_or_else(|| invalid("iat", "is required (maxTokenAgeSec)"))?;
            if now - tolerance > iat + max_age as f64 {
                return Err(CacheError::TokenExpired(format!("issued more than {max_age} s ago (maxTokenAgeSec)")));
            }
        }

        self.check_issuer(&rules.issuers)?;
        let claims = || Claims(JsonObject::document(&self.payload).unwrap_or_default());
        if !rules.audiences.is_empty() {
            let audiences = claims().strings("aud")?.ok_or_else(|| invalid("aud", "is required"))?;
            if !audiences.iter().any(|aud| rules.audiences.contains(&aud.as_str())) {
                return Err(invalid("aud", "names none of the accepted audiences"));
            }
        }
        if let Some(expected) = rules.typ {
            let typ = self.typ.as_ref().map_err(Clone::clone)?.as_ref().ok_or_else(|| invalid("typ", "is required in the header"))?;
            if !same_media_type(typ, expected) {
                return Err(invalid("typ", "is not the expected type"));
            }
        }
        if !rules.required.is_empty() {
            let claims = claims();
            for &name in &rules.required {
                if claims.get(name).is_none() {
                    return Err(invalid(name, "is required"));
                }
            }
        }
        Ok(())
    }
}

fn invalid(claim: &str, why: &str) -> CacheError {
    CacheError::ClaimInvalid(format!("{claim:?} {why}"))
}

/// RFC 7515 4.1.9: "JWT" and "application/jwt" are one type; media types are case-insensitive.
fn same_media_type(a: &str, b: &str) -> bool {
    let short = |t: &str| {
        let lower = t.to_ascii_lowercase();
        lower.strip_prefix("application/").map(str::to_owned).unwrap_or(lower)
    };
    short(a) == short(b)
}

/// The claims (or the header) as the checks read them: typed, with errors that name the claim.
struct Claims<'a>(JsonObject<'a>);

impl<'a> Claims<'a> {
    fn get(&self, name: &str) -> Option<&'a str> {
        self.0.get(name)
    }

    fn numeric_date(&self, name: &str) -> Result<Option<f64>, CacheError> {
        let Some(value) = self.get(name) else { return Ok(None) };
        if !value.starts_with(['-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9']) {
            return Err(invalid(name, "must be a number (a NumericDate)"));
        }
        match value.parse::<f64>() {
            Ok(seconds) if (0.0..=MAX_NUMERIC_DATE).contains(&seconds) => Ok(Some(seconds)),
            _ => Err(invalid(name, "is out of range for a NumericDate")),
        }
    }

    fn string(&self, name: &str) -> Result<Option<std::borrow::Cow<'a, str>>, CacheError> {
        match (self.get(name), self.0.string(name)) {
            (None, _) => Ok(None),
            (Some(_), Some(text)) => Ok(Some(text)),
            (Some(_), None) => Err(invalid(name, "must be a string")),
        }
    }

    /// A string or an array of strings.
    fn strings(&self, name: &str) -> Result<Option<Vec<String>>, CacheError> {
        let Some(value) = self.get(name) else { return Ok(None) };
        if value.starts_with('"') {
            return Ok(Some(vec![decoded(value).into_owned()]));
        }
        let entries = json_spans::entries(value, 0..value.len()).ok_or_else(|| invalid(name, "must be a string or an array of strings"))?;
        entries
            .into_iter()
            .map(|entry| {
                let entry = &value[entry];
                if entry.starts_with('"') { Ok(decoded(entry).into_owned()) } else { Err(invalid(name, "must hold strings only")) }
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 1700000000 s, the vectors' `now`.
    const NOW: Millis = 1_700_000_000_000;

    fn check(payload: &str, rules: &ClaimRules) -> Result<(), CacheError> {
        check_claims(r#"{"alg":"ES256","typ":"JWT"}"#, payload, rules, NOW)
    }

    fn code(payload: &str, rules: &ClaimRules) -> &'static str {
        check(payload, rules).err().map_or("ok", |error| error.code())
    }

    #[test]
    fn g1_exp_and_nbf_with_the_exact_inequalities_and_the_tolerance() {
        let strict = ClaimRules::new();
        let lenient = ClaimRules { clock_tolerance_sec: 60, ..ClaimRules::new() };
        assert_eq!(code(r#"{"exp":1700000001}"#, &strict), "ok");
        assert_eq!(code(r#"{"exp":1700000000}"#, &strict), "ERR_JWT_EXPIRED", "now >= exp");
        assert_eq!(code(r#"{"exp":1699999999.5}"#, &strict), "ERR_JWT_EXPIRED", "fractions count");
        let half_past = |payload| check_claims("{}", payload, &strict, NOW + 600).err().map_or("ok", |error| error.code());
        assert_eq!(half_past(r#"{"exp":1700000000.5}"#), "ERR_JWT_EXPIRED", "the clock's milliseconds count too");
        assert_eq!(half_past(r#"{"exp":1700000060,"nbf":1700000000.5}"#), "ok");
        assert_eq!(half_past(r#"{"exp":1700000060,"iat":1700000000.5}"#), "ok");
        assert_eq!(code(r#"{"exp":1699999941}"#, &lenient), "ok");
        assert_eq!(code(r#"{"exp":1699999940}"#, &lenient), "ERR_JWT_EXPIRED");
        assert_eq!(code(r#"{"exp":1700000001,"nbf":1700000000}"#, &strict), "ok");
        assert_eq!(code(r#"{"exp":1700000001,"nbf":1700000001}"#, &strict), "ERR_JWT_NOT_YET_VALID");
        assert_eq!(code(r#"{"exp":1700000001,"nbf":1700000060}"#, &lenient), "ok");
        assert_eq!(code(r#"{"exp":1700000001,"nbf":1700000061}"#, &lenient), "ERR_JWT_NOT_YET_VALID");
        assert_eq!(code(r#"{"exp":1700000001,"iat":1700000000}"#, &strict), "ok");
        assert_eq!(code(r#"{"exp":1700000001,"iat":1700086400}"#, &strict), "ERR_JWT_CLAIM_INVALID", "claims-iat-far-future");
        assert_eq!(code(r#"{"sub":"a"}"#, &strict), "ERR_JWT_CLAIM_INVALID", "exp is required by default");
        assert_eq!(code(r#"{"sub":"a"}"#, &ClaimRules::default()), "ok", "unless the caller says so");
    }

    #[test]
    fn g2_numeric_dates_that_are_not_numbers_are_refused_never_skipped() {
        for payload in [
            r#"{"exp":"1800000000"}"#,
            r#"{"exp":null}"#,
            r#"{"exp":true}"#,
            r#"{"exp":[1800000000]}"#,
            r#"{"exp":{"v":1}}"#,
            r#"{"exp":-1}"#,
            r#"{"exp":1e300}"#,
            r#"{"exp":1800000000,"nbf":"1"}"#,
            r#"{"exp":1800000000,"iat":"1"}"#,
        ] {
            assert_eq!(code(payload, &ClaimRules::new()), "ERR_JWT_CLAIM_INVALID", "{payload}");
        }
    }

    #[test]
    fn max_token_age_requires_iat_and_bounds_it() {
        let rules = ClaimRules { max_token_age_sec: Some(300), require_exp: false, ..ClaimRules::default() };
        assert_eq!(code(r#"{"iat":1699999700}"#, &rules), "ok");
        assert_eq!(code(r#"{"iat":1699999699}"#, &rules), "ERR_JWT_EXPIRED");
        assert_eq!(code(r#"{"sub":"a"}"#, &rules), "ERR_JWT_CLAIM_INVALID");
    }

    #[test]
    fn g3_issuer_audience_type_and_required_claims() {
        let base = || ClaimRules { require_exp: false, ..ClaimRules::default() };
        let issuer = ClaimRules { issuers: vec!["https://a.example", "https://b.example"], ..base() };
        assert_eq!(code(r#"{"iss":"https://b.example"}"#, &issuer), "ok");
        assert_eq!(code(r#"{"iss":"https:\/\/a.example"}"#, &issuer), "ok", "escapes are decoded");
        assert_eq!(code(r#"{"iss":"https://evil.example"}"#, &issuer), "ERR_JWT_CLAIM_INVALID");
        assert_eq!(code(r#"{"iss":["https://a.example"]}"#, &issuer), "ERR_JWT_CLAIM_INVALID");
        assert_eq!(code(r#"{"sub":"a"}"#, &issuer), "ERR_JWT_CLAIM_INVALID");

        let audience = ClaimRules { audiences: vec!["api"], ..base() };
        assert_eq!(code(r#"{"aud":"api"}"#, &audience), "ok");
        assert_eq!(code(r#"{"aud":["web","api"]}"#, &audience), "ok");
        assert_eq!(code(r#"{"aud":["web"]}"#, &audience), "ERR_JWT_CLAIM_INVALID");
        assert_eq!(code(r#"{"aud":["api",1]}"#, &audience), "ERR_JWT_CLAIM_INVALID");
        assert_eq!(code(r#"{"aud":"API"}"#, &audience), "ERR_JWT_CLAIM_INVALID", "audiences are exact");

        let typed = |typ| ClaimRules { typ: Some(typ), ..base() };
        assert_eq!(code("{}", &typed("jwt")), "ok");
        assert_eq!(code("{}", &typed("application/JWT")), "ok");
        assert_eq!(code("{}", &typed("at+jwt")), "ERR_JWT_CLAIM_INVALID");
        let untyped = check_claims(r#"{"alg":"ES256"}"#, "{}", &typed("JWT"), NOW).unwrap_err();
        assert_eq!(untyped.code(), "ERR_JWT_CLAIM_INVALID");

        let required = ClaimRules { required: vec!["sub", "jti"], ..base() };
        assert_eq!(code(r#"{"sub":"a","jti":"1"}"#, &required), "ok");
        let missing = check(r#"{"sub":"a"}"#, &required).unwrap_err();
        assert_eq!(missing.to_string(), "JWT claim invalid: \"jti\" is required");
    }
}
