//! Every error the cache can report, with the stable `code` the JS layer exposes and the
//! message a person reads. Codes are part of the public API: never rename one.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheError {
    /// `getKey` was called without a JWKS URI (absent, null or empty).
    UriMissing,
    /// The JWKS URI is not a string, or not an absolute http(s) URL.
    UriInvalid(String),
    /// `getKey` was called without a key id (absent, null or empty).
    KidMissing,
    /// The key id is not a string, or is longer than [`crate::cache::MAX_KID_BYTES`].
    KidInvalid(String),
    /// The JWKS endpoint answered with a status outside 200-299.
    Status(u16),
    /// The request never produced a response (DNS, connection refused, reset, TLS...).
    Network(String),
    /// No complete response within the fetch timeout, in milliseconds.
    Timeout(u64),
    /// The response body is not one well-formed JSON value.
    InvalidJson(String),
    /// The set holds several different keys under this kid, so a lookup by kid is ambiguous.
    AmbiguousKid(String),
    /// An option passed to `createJwksCache` is out of range.
    InvalidOption(String),
}

impl CacheError {
    pub fn code(&self) -> &'static str {
        match self {
            CacheError::UriMissing => "ERR_JWKS_URI_MISSING",
            CacheError::UriInvalid(_) => "ERR_JWKS_URI_INVALID",
            CacheError::KidMissing => "ERR_KID_MISSING",
            CacheError::KidInvalid(_) => "ERR_KID_INVALID",
            CacheError::Status(_) => "ERR_JWKS_HTTP_STATUS",
            CacheError::Network(_) => "ERR_JWKS_NETWORK",
            CacheError::Timeout(_) => "ERR_JWKS_TIMEOUT",
            CacheError::InvalidJson(_) => "ERR_JWKS_INVALID_JSON",
            CacheError::AmbiguousKid(_) => "ERR_JWKS_AMBIGUOUS_KID",
            CacheError::InvalidOption(_) => "ERR_INVALID_OPTION",
        }
    }

    /// The HTTP status, for errors that have one.
    pub fn status(&self) -> Option<u16> {
        match self {
            CacheError::Status(status) => Some(*status),
            _ => None,
        }
    }
}

impl fmt::Display for CacheError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The first three messages and the status one are fixed by the documented API.
        match self {
            CacheError::UriMissing => f.write_str("JWKS URI missing"),
            CacheError::UriInvalid(why) => write!(f, "JWKS URI invalid: {why}"),
            CacheError::KidMissing => f.write_str("Token missing key id"),
            CacheError::KidInvalid(why) => write!(f, "Token key id invalid: {why}"),
            CacheError::Status(status) => write!(f, "Failed to fetch JWKS ({status})"),
            CacheError::Network(detail) => write!(f, "Failed to fetch JWKS (network error: {detail})"),
            CacheError::Timeout(ms) => write!(f, "Failed to fetch JWKS (no response within {ms} ms)"),
            CacheError::InvalidJson(detail) => write!(f, "JWKS response is not valid JSON: {detail}"),
            CacheError::AmbiguousKid(kid) => {
                write!(f, "JWKS holds several different keys with kid {kid:?}")
            }
            CacheError::InvalidOption(why) => write!(f, "Invalid option: {why}"),
        }
    }
}

impl std::error::Error for CacheError {}
