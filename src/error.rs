//! Every error the cache can report, with the stable `code` the JS layer exposes and the
//! message a person reads. Codes are part of the public API: never rename one.
//!
//! Details that come from outside (a caller's URI or kid, a host's network error, a member name
//! in a response) are cut to [`MAX_DETAIL_CHARS`] in every message, so that no input can make an
//! error message, or a log line quoting it, grow without bound.

use std::fmt;

/// The longest piece of outside text a message quotes, in characters.
pub const MAX_DETAIL_CHARS: usize = 200;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheError {
    /// `getKey` was called without a JWKS URI (absent, null or empty).
    UriMissing,
    /// The JWKS URI is not a string, or not an absolute http(s) URL that `fetch` can parse.
    UriInvalid(String),
    /// `getKey` was called without a key id (absent, null or empty).
    KidMissing,
    /// The key id is not a well-formed string, or is longer than [`crate::jwks::MAX_KID_BYTES`].
    KidInvalid(String),
    /// The host clock (the `now` option) gave a value that is not a time.
    ClockInvalid(String),
    /// The JWKS endpoint answered with a status outside 200-299 (or one that is not an HTTP
    /// status at all, from a custom `fetch`).
    Status(u32),
    /// The endpoint answered with a redirect (3xx; None when the host hides the status), which is
    /// not followed.
    Redirect(Option<u32>),
    /// The request never produced a response (DNS, connection refused, reset, TLS...).
    Network(String),
    /// No complete response within the fetch timeout, in milliseconds.
    Timeout(u64),
    /// The response body passed the size bound, in bytes.
    ResponseTooLarge(u64),
    /// The response body is not one well-formed JSON value.
    InvalidJson(String),
    /// The response nests arrays and objects deeper than [`crate::jwks::MAX_JSON_DEPTH`].
    NestingTooDeep(usize),
    /// The response's `keys` array has more entries than the bound.
    TooManyKeys(usize),
    /// A well-formed response refused as the replacement of a cached set that holds keys: it has
    /// no `keys` array, or an empty one (see `JwksCache::finish`).
    SetRefused(&'static str),
    /// The set holds several different keys under this kid, so a lookup by kid is ambiguous.
    AmbiguousKid(String),
    /// An option passed to `createJwksCache` is out of range.
    InvalidOption(String),
    /// An issuer's OpenID discovery document cannot give its JWKS URI (see [`crate::discovery`]).
    DiscoveryInvalid(String),
    /// A JWT that is not a well-formed JWS compact serialization (see [`crate::token`]).
    TokenMalformed(String),
    /// The token's `exp` has passed, or it is older than the caller allows.
    TokenExpired(String),
    /// The token's `nbf` has not come.
    TokenNotYetValid(String),
    /// A claim is missing, of the wrong type, or not what the caller accepts.
    ClaimInvalid(String),
    /// The token's `alg` is not one verification implements and the caller allows.
    AlgNotAllowed(String),
    /// The token's header asks for something not implemented (`crit`, `b64: false`).
    HeaderUnsupported(String),
    /// No key of the set can verify the token (see [`crate::key_usability::select_key`]).
    NoMatchingKey(String),
    /// The signature does not verify with the selected key (or has the wrong length for the
    /// algorithm, which no valid signature has).
    SignatureInvalid(String),
}

impl CacheError {
    pub fn code(&self) -> &'static str {
        match self {
            CacheError::UriMissing => "ERR_JWKS_URI_MISSING",
            CacheError::UriInvalid(_) => "ERR_JWKS_URI_INVALID",
            CacheError::KidMissing => "ERR_KID_MISSING",
            CacheError::KidInvalid(_) => "ERR_KID_INVALID",
            CacheError::ClockInvalid(_) => "ERR_CLOCK_INVALID",
            CacheError::Status(_) => "ERR_JWKS_HTTP_STATUS",
            CacheError::Redirect(_) => "ERR_JWKS_REDIRECT",
            CacheError::Network(_) => "ERR_JWKS_NETWORK",
            CacheError::Timeout(_) => "ERR_JWKS_TIMEOUT",
            CacheError::ResponseTooLarge(_) => "ERR_JWKS_RESPONSE_TOO_LARGE",
            CacheError::InvalidJson(_) => "ERR_JWKS_INVALID_JSON",
            CacheError::NestingTooDeep(_) => "ERR_JWKS_NESTING_TOO_DEEP",
            CacheError::TooManyKeys(_) => "ERR_JWKS_TOO_MANY_KEYS",
            CacheError::SetRefused(_) => "ERR_JWKS_SET_REFUSED",
            CacheError::AmbiguousKid(_) => "ERR_JWKS_AMBIGUOUS_KID",
            CacheError::InvalidOption(_) => "ERR_INVALID_OPTION",
            CacheError::DiscoveryInvalid(_) => "ERR_OIDC_DISCOVERY_INVALID",
            CacheError::TokenMalformed(_) => "ERR_JWT_MALFORMED",
            CacheError::TokenExpired(_) => "ERR_JWT_EXPIRED",
            CacheError::TokenNotYetValid(_) => "ERR_JWT_NOT_YET_VALID",
            CacheError::ClaimInvalid(_) => "ERR_JWT_CLAIM_INVALID",
            CacheError::AlgNotAllowed(_) => "ERR_JWS_ALG_NOT_ALLOWED",
            CacheError::HeaderUnsupported(_) => "ERR_JWS_HEADER_UNSUPPORTED",
            CacheError::NoMatchingKey(_) => "ERR_JWKS_NO_MATCHING_KEY",
            CacheError::SignatureInvalid(_) => "ERR_JWS_SIGNATURE_INVALID",
        }
    }

    /// The HTTP status, for errors that have one.
    pub fn status(&self) -> Option<u32> {
        match self {
            CacheError::Status(status) | CacheError::Redirect(Some(status)) => Some(*status),
            _ => None,
        }
    }
}

impl fmt::Display for CacheError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The first three messages and the status one are fixed by the documented API.
        match self {
            CacheError::UriMissing => f.write_str("JWKS URI missing"),
            CacheError::UriInvalid(why) => write!(f, "JWKS URI invalid: {}", shorten(why)),
            CacheError::KidMissing => f.write_str("Token missing key id"),
            CacheError::KidInvalid(why) => write!(f, "Token key id invalid: {}", shorten(why)),
            CacheError::ClockInvalid(why) => write!(f, "Clock invalid: {}", shorten(why)),
            CacheError::Status(status) if (100..=599).contains(status) => write!(f, "Failed to fetch JWKS ({status})"),
            CacheError::Status(status) => write!(f, "Failed to fetch JWKS (invalid HTTP status {status})"),
            CacheError::Redirect(Some(status)) => {
                write!(f, "Failed to fetch JWKS (redirect {status}, not followed: configure the URI it points to)")
            }
            CacheError::Redirect(None) => write!(f, "Failed to fetch JWKS (a redirect, not followed: configure the URI it points to)"),
            CacheError::Network(detail) => write!(f, "Failed to fetch JWKS (network error: {})", shorten(detail)),
            CacheError::Timeout(ms) => write!(f, "Failed to fetch JWKS (no response within {ms} ms)"),
            CacheError::ResponseTooLarge(limit) => write!(f, "JWKS response is larger than {limit} bytes"),
            CacheError::InvalidJson(detail) => write!(f, "JWKS response is not valid JSON: {}", shorten(detail)),
            CacheError::NestingTooDeep(limit) => write!(f, "JWKS response nests deeper than {limit} levels"),
            CacheError::TooManyKeys(limit) => write!(f, "JWKS response has more than {limit} keys"),
            CacheError::SetRefused(why) => write!(f, "JWKS response refused, the cached keys kept: {why}"),
            CacheError::AmbiguousKid(kid) => {
                write!(f, "JWKS holds several different keys with kid {:?}", shorten(kid))
            }
            CacheError::InvalidOption(why) => write!(f, "Invalid option: {}", shorten(why)),
            CacheError::DiscoveryInvalid(why) => write!(f, "OpenID discovery failed: {}", shorten(why)),
            CacheError::TokenMalformed(why) => write!(f, "JWT malformed: {}", shorten(why)),
            CacheError::TokenExpired(why) => write!(f, "JWT expired: {}", shorten(why)),
            CacheError::TokenNotYetValid(why) => write!(f, "JWT not yet valid: {}", shorten(why)),
            CacheError::ClaimInvalid(why) => write!(f, "JWT claim invalid: {}", shorten(why)),
            CacheError::AlgNotAllowed(alg) => write!(f, "JWS algorithm not allowed: {:?}", shorten(alg)),
            CacheError::HeaderUnsupported(why) => write!(f, "JWS header not supported: {}", shorten(why)),
            CacheError::NoMatchingKey(why) => write!(f, "No matching key in the JWKS: {}", shorten(why)),
            CacheError::SignatureInvalid(why) => write!(f, "JWS signature invalid: {}", shorten(why)),
        }
    }
}

impl std::error::Error for CacheError {}

/// `text`, or its first [`MAX_DETAIL_CHARS`] characters followed by an ellipsis.
pub fn shorten(text: &str) -> std::borrow::Cow<'_, str> {
    match text.char_indices().nth(MAX_DETAIL_CHARS) {
        Some((at, _)) => format!("{}...", &text[..at]).into(),
        None => text.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_quote_outside_text_only_up_to_the_bound() {
        let huge = "x".repeat(10_000_000);
        for error in [
            CacheError::Network(huge.clone()),
            CacheError::InvalidJson(huge.clone()),
            CacheError::AmbiguousKid(huge.clone()),
            CacheError::UriInvalid(huge.clone()),
            CacheError::KidInvalid(huge.clone()),
            CacheError::ClockInvalid(huge.clone()),
        ] {
            let message = error.to_string();
            assert!(message.len() < MAX_DETAIL_CHARS + 80, "{} chars for {}", message.len(), error.code());
            assert!(message.contains("xxx..."), "{message}");
        }
        assert_eq!(shorten("short"), "short");
        assert_eq!(shorten(&"é".repeat(300)).chars().count(), MAX_DETAIL_CHARS + 3, "cut on a character boundary");
    }

    #[test]
    fn statuses_that_are_not_http_statuses_say_so() {
        assert_eq!(CacheError::Status(503).to_string(), "Failed to fetch JWKS (503)");
        assert_eq!(CacheError::Status(65736).to_string(), "Failed to fetch JWKS (invalid HTTP status 65736)");
    }
}
