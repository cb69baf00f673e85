//! The caching rules, free of any I/O: the host passes in the clock and the fetch results, and
//! gets back what to do next.
//!
//! One `getKey(uri, kid)` call runs like this (the JS layer is the loop, this module the rules):
//! 1. [`JwksCache::decide`]: `Found` (the fresh cached set has the kid), or `Fetch` (start the one
//!    request for this URI), or `Join` (a request for this URI is running: wait for it).
//! 2. The request's result goes to [`JwksCache::finish`], which returns the set it read (or the
//!    error) to the caller that fetched and to every caller that joined; each answers from that
//!    set. So a call fetches at most once, and any number of concurrent calls for one URI share
//!    one request (single flight).
//! 3. A joined request that outlives its deadline (its fetch timeout plus a grace period) is
//!    presumed lost, as when the host cancelled the request that ran it: the next `decide` starts
//!    a new one, whose result supersedes it.

use crate::error::CacheError;
use crate::jwks::{Jwk, KeyLookup, KeySet};
use std::collections::HashMap;
use std::rc::Rc;

/// Wall-clock milliseconds, as the host's clock gives them.
pub type Millis = u64;
/// Names one fetch, so that a late result can be told from the current one.
pub type FlightId = u32;

pub const DEFAULT_TTL_MS: u64 = 5 * 60 * 1000;
pub const DEFAULT_FETCH_TIMEOUT_MS: u64 = 5_000;
/// Upper bound of the fetch timeout: also the longest a joined caller ever waits before it
/// decides again, which must stay below what host timers can wait (2^31 - 1 ms).
pub const MAX_FETCH_TIMEOUT_MS: u64 = 10 * 60 * 1000;
/// Upper bound of the TTL, so that `fetched_at + ttl` stays exact in a JS number.
pub const MAX_TTL_MS: u64 = 365 * 24 * 60 * 60 * 1000;
/// Key ids longer than this are refused: no issuer needs them, and a kid is attacker input.
pub const MAX_KID_BYTES: usize = 1024;
/// How long after its timeout a fetch still counts as running, for the host to deliver it.
pub const FLIGHT_GRACE_MS: u64 = 1_000;

/// A value handed over by the host, before it is checked.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Input<T> {
    /// Not given (undefined or null).
    Absent,
    /// Given, but of another type than `T`.
    WrongType,
    Given(T),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    pub ttl_ms: u64,
    pub fetch_timeout_ms: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config { ttl_ms: DEFAULT_TTL_MS, fetch_timeout_ms: DEFAULT_FETCH_TIMEOUT_MS }
    }
}

impl Config {
    /// Checks the options of `createJwksCache`; absent ones take their defaults.
    pub fn from_options(ttl_ms: Input<f64>, timeout_ms: Input<f64>) -> Result<Config, CacheError> {
        Ok(Config {
            ttl_ms: whole_millis("ttlMs", ttl_ms, 0, MAX_TTL_MS, DEFAULT_TTL_MS)?,
            fetch_timeout_ms: whole_millis(
                "timeoutMs",
                timeout_ms,
                1,
                MAX_FETCH_TIMEOUT_MS,
                DEFAULT_FETCH_TIMEOUT_MS,
            )?,
        })
    }
}

fn whole_millis(name: &str, value: Input<f64>, min: u64, max: u64, default: u64) -> Result<u64, CacheError> {
    let out_of_range =
        || CacheError::InvalidOption(format!("{name} must be a whole number of milliseconds from {min} to {max}"));
    match value {
        Input::Absent => Ok(default),
        Input::WrongType => Err(out_of_range()),
        Input::Given(ms) if ms.fract() == 0.0 && ms >= min as f64 && ms <= max as f64 => Ok(ms as u64),
        Input::Given(_) => Err(out_of_range()),
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// The fresh cached set has this key: answer at once.
    Found(Jwk),
    /// Fetch the set, then report the result with [`JwksCache::finish`].
    Fetch(FlightId),
    /// A fetch for this URI is running: wait for its result, but not past `deadline`; a caller
    /// still waiting then calls `decide` again.
    Join { flight: FlightId, deadline: Millis },
}

/// What a fetch brought back, as the host saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FetchOutcome<'a> {
    Response { status: u16, body: &'a [u8] },
    /// No response: the detail is the host's own words, for the error message.
    NetworkError(&'a str),
    TimedOut,
}

/// The set a fetch read, for the callers that waited on it.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub keys: Rc<KeySet>,
    /// Whether it became the cached set for the URI (see [`JwksCache::finish`]).
    pub stored: bool,
    /// Until when the stored set is fresh (exclusive).
    pub fresh_until: Millis,
}

#[derive(Debug, Default)]
struct Entry {
    set: Option<CachedSet>,
    flight: Option<Flight>,
}

#[derive(Debug)]
struct CachedSet {
    keys: Rc<KeySet>,
    fresh_until: Millis,
}

#[derive(Debug, Clone, Copy)]
struct Flight {
    id: FlightId,
    deadline: Millis,
}

#[derive(Debug, Default)]
pub struct JwksCache {
    config: Config,
    entries: HashMap<String, Entry>,
    last_flight: FlightId,
}

impl JwksCache {
    pub fn new(config: Config) -> Self {
        JwksCache { config, entries: HashMap::new(), last_flight: 0 }
    }

    pub fn config(&self) -> Config {
        self.config
    }

    /// First step of every lookup: checks the arguments, then says what to do.
    pub fn decide(&mut self, uri: Input<&str>, kid: Input<&str>, now: Millis) -> Result<Decision, CacheError> {
        let uri = checked_uri(uri)?;
        let kid = checked_kid(kid)?;

        if let Some(entry) = self.entries.get(uri) {
            if let Some(set) = entry.set.as_ref().filter(|set| now < set.fresh_until) {
                match set.keys.lookup(kid) {
                    KeyLookup::Found(jwk) => return Ok(Decision::Found(jwk.clone())),
                    KeyLookup::Ambiguous => return Err(CacheError::AmbiguousKid(kid.to_owned())),
                    // Not in a fresh set: the keys may have rotated, so fetch again.
                    KeyLookup::Absent => {}
                }
            }
            if let Some(flight) = entry.flight.filter(|flight| now < flight.deadline) {
                return Ok(Decision::Join { flight: flight.id, deadline: flight.deadline });
            }
        }

        self.last_flight = self.last_flight.wrapping_add(1);
        let flight = Flight {
            id: self.last_flight,
            deadline: now + self.config.fetch_timeout_ms + FLIGHT_GRACE_MS,
        };
        self.entries.entry(uri.to_owned()).or_default().flight = Some(flight);
        Ok(Decision::Fetch(flight.id))
    }

    /// Takes the result of the fetch that [`decide`](Self::decide) asked for.
    ///
    /// The set becomes the cached one for the URI unless the fetch was superseded (by a newer
    /// fetch, or by [`clear`](Self::clear)), or the body had no `keys` array while a set is
    /// cached: a failed or garbage response never replaces a good set. Errors change nothing.
    pub fn finish(
        &mut self,
        uri: &str,
        flight: FlightId,
        outcome: FetchOutcome<'_>,
        now: Millis,
    ) -> Result<Fetched, CacheError> {
        let current = self.entries.get_mut(uri).filter(|e| e.flight.is_some_and(|f| f.id == flight));
        let current = match current {
            Some(entry) => {
                entry.flight = None;
                Some(entry)
            }
            None => None,
        };

        let keys = Rc::new(read_response(outcome, self.config.fetch_timeout_ms)?);
        let fresh_until = now.saturating_add(self.config.ttl_ms);
        let stored = match current {
            Some(entry) if keys.is_jwk_set() || entry.set.is_none() => {
                entry.set = Some(CachedSet { keys: Rc::clone(&keys), fresh_until });
                true
            }
            _ => false,
        };
        Ok(Fetched { keys, stored, fresh_until })
    }

    /// Forgets every set. Fetches still running deliver their result to their callers, but it
    /// is not cached.
    pub fn clear(&mut self) {
        self.entries.clear();
    }

    /// How many URIs have a cached set.
    pub fn len(&self) -> usize {
        self.entries.values().filter(|e| e.set.is_some()).count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn read_response(outcome: FetchOutcome<'_>, timeout_ms: u64) -> Result<KeySet, CacheError> {
    match outcome {
        FetchOutcome::Response { status, body } if (200..300).contains(&status) => KeySet::from_body(body),
        FetchOutcome::Response { status, .. } => Err(CacheError::Status(status)),
        FetchOutcome::NetworkError(detail) => Err(CacheError::Network(detail.to_owned())),
        FetchOutcome::TimedOut => Err(CacheError::Timeout(timeout_ms)),
    }
}

fn checked_uri(uri: Input<&str>) -> Result<&str, CacheError> {
    let uri = match uri {
        Input::Absent | Input::Given("") => return Err(CacheError::UriMissing),
        Input::WrongType => return Err(CacheError::UriInvalid("it must be a string".into())),
        Input::Given(uri) => uri,
    };
    let lower = uri.get(..8).unwrap_or(uri).to_ascii_lowercase();
    let rest = if lower.starts_with("https://") {
        &uri[8..]
    } else if lower.starts_with("http://") {
        &uri[7..]
    } else {
        return Err(CacheError::UriInvalid(format!("expected an http: or https: URL, got {:?}", shorten(uri))));
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    if host.is_empty() || uri.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(CacheError::UriInvalid(format!("not a valid URL: {:?}", shorten(uri))));
    }
    Ok(uri)
}

fn checked_kid(kid: Input<&str>) -> Result<&str, CacheError> {
    match kid {
        Input::Absent | Input::Given("") => Err(CacheError::KidMissing),
        Input::WrongType => Err(CacheError::KidInvalid("it must be a string".into())),
        Input::Given(kid) if kid.len() > MAX_KID_BYTES => {
            Err(CacheError::KidInvalid(format!("longer than {MAX_KID_BYTES} bytes")))
        }
        Input::Given(kid) => Ok(kid),
    }
}

/// Keeps error messages short when they quote a caller's input.
fn shorten(text: &str) -> String {
    match text.char_indices().nth(120) {
        Some((at, _)) => format!("{}...", &text[..at]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const URI: &str = "https://issuer.example/.well-known/jwks.json";
    const KEYS_A: &[u8] = br#"{"keys":[{"kty":"EC","kid":"a","x":"1"}]}"#;
    const KEYS_AB: &[u8] = br#"{"keys":[{"kty":"EC","kid":"a","x":"1"},{"kty":"EC","kid":"b","x":"2"}]}"#;
    const MINUTE: Millis = 60_000;

    fn ok(body: &[u8]) -> FetchOutcome<'_> {
        FetchOutcome::Response { status: 200, body }
    }

    fn decide(cache: &mut JwksCache, kid: &str, now: Millis) -> Decision {
        cache.decide(Input::Given(URI), Input::Given(kid), now).unwrap()
    }

    fn fetch_id(decision: Decision) -> FlightId {
        match decision {
            Decision::Fetch(id) => id,
            other => panic!("expected a fetch, got {other:?}"),
        }
    }

    /// Runs one whole cold lookup that fetches `body` at `now`.
    fn warm(cache: &mut JwksCache, body: &[u8], now: Millis) -> Fetched {
        let flight = fetch_id(decide(cache, "a", now));
        cache.finish(URI, flight, ok(body), now).unwrap()
    }

    fn found_kid(decision: Decision) -> String {
        match decision {
            Decision::Found(jwk) => jwk.kid,
            other => panic!("expected a cached key, got {other:?}"),
        }
    }

    #[test]
    fn a_set_is_fresh_for_exactly_the_ttl() {
        let mut cache = JwksCache::new(Config { ttl_ms: 10 * MINUTE, ..Config::default() });
        let fetched = warm(&mut cache, KEYS_A, 1_000);
        assert!(fetched.stored);
        assert_eq!(fetched.fresh_until, 1_000 + 10 * MINUTE);

        assert_eq!(found_kid(decide(&mut cache, "a", 1_000 + 10 * MINUTE - 1)), "a");
        fetch_id(decide(&mut cache, "a", 1_000 + 10 * MINUTE));
    }

    #[test]
    fn the_default_ttl_is_five_minutes() {
        let mut cache = JwksCache::new(Config::default());
        warm(&mut cache, KEYS_A, 0);
        assert_eq!(found_kid(decide(&mut cache, "a", 5 * MINUTE - 1)), "a");
        fetch_id(decide(&mut cache, "a", 5 * MINUTE));
    }

    #[test]
    fn sets_are_cached_per_uri() {
        let mut cache = JwksCache::new(Config::default());
        warm(&mut cache, KEYS_A, 0);
        let other = cache.decide(Input::Given("https://other.example/jwks"), Input::Given("a"), 1).unwrap();
        fetch_id(other);
        assert_eq!(found_kid(decide(&mut cache, "a", 2)), "a");
    }

    #[test]
    fn concurrent_lookups_share_one_fetch() {
        let mut cache = JwksCache::new(Config::default());
        let flight = fetch_id(decide(&mut cache, "a", 0));
        for kid in ["a", "b", "zzz"] {
            let deadline = DEFAULT_FETCH_TIMEOUT_MS + FLIGHT_GRACE_MS;
            assert_eq!(decide(&mut cache, kid, 10), Decision::Join { flight, deadline });
        }
        let fetched = cache.finish(URI, flight, ok(KEYS_AB), 20).unwrap();
        assert!(fetched.stored);
        assert_eq!(found_kid(decide(&mut cache, "b", 30)), "b");
    }

    #[test]
    fn an_unknown_kid_in_a_fresh_set_fetches_again_and_finds_the_rotated_key() {
        let mut cache = JwksCache::new(Config::default());
        warm(&mut cache, KEYS_A, 0);
        let flight = fetch_id(decide(&mut cache, "b", 1_000));
        let fetched = cache.finish(URI, flight, ok(KEYS_AB), 1_100).unwrap();
        assert!(matches!(fetched.keys.lookup("b"), KeyLookup::Found(_)));
        assert_eq!(fetched.fresh_until, 1_100 + DEFAULT_TTL_MS, "the refetch restarts the TTL");
        assert_eq!(found_kid(decide(&mut cache, "b", 1_200)), "b");
    }

    #[test]
    fn a_failed_refresh_keeps_the_cached_set() {
        let mut cache = JwksCache::new(Config::default());
        warm(&mut cache, KEYS_A, 0);
        let failures = [
            FetchOutcome::Response { status: 500, body: b"oops" },
            FetchOutcome::Response { status: 404, body: br#"{"keys":[]}"# },
            FetchOutcome::Response { status: 200, body: b"<html>" },
            FetchOutcome::NetworkError("connection refused"),
            FetchOutcome::TimedOut,
        ];
        for outcome in failures {
            let flight = fetch_id(decide(&mut cache, "rotated", 10));
            cache.finish(URI, flight, outcome, 20).unwrap_err();
            assert_eq!(found_kid(decide(&mut cache, "a", 30)), "a", "after {outcome:?}");
        }
    }

    #[test]
    fn fetch_errors_carry_their_code_and_documented_message() {
        let mut cache = JwksCache::new(Config { fetch_timeout_ms: 1234, ..Config::default() });
        let cases: [(FetchOutcome, &str, &str); 4] = [
            (FetchOutcome::Response { status: 503, body: b"" }, "ERR_JWKS_HTTP_STATUS", "Failed to fetch JWKS (503)"),
            (FetchOutcome::NetworkError("ECONNREFUSED"), "ERR_JWKS_NETWORK", "Failed to fetch JWKS (network error: ECONNREFUSED)"),
            (FetchOutcome::TimedOut, "ERR_JWKS_TIMEOUT", "Failed to fetch JWKS (no response within 1234 ms)"),
            (ok(b"{"), "ERR_JWKS_INVALID_JSON", "JWKS response is not valid JSON"),
        ];
        for (outcome, code, message) in cases {
            let flight = fetch_id(decide(&mut cache, "a", 0));
            let err = cache.finish(URI, flight, outcome, 0).unwrap_err();
            assert_eq!(err.code(), code);
            assert!(err.to_string().starts_with(message), "{err}");
        }
        assert_eq!(CacheError::Status(503).status(), Some(503));
    }

    #[test]
    fn a_body_without_keys_never_replaces_a_good_set_but_fills_an_empty_cache() {
        let mut cache = JwksCache::new(Config::default());
        let flight = fetch_id(decide(&mut cache, "a", 0));
        let cold = cache.finish(URI, flight, ok(br#"{"error":"nope"}"#), 0).unwrap();
        assert!(cold.stored && cold.keys.keys().is_empty(), "spec: an empty set");

        // Within the TTL the empty set is cached, so an unknown kid fetches again (rotation).
        let flight = fetch_id(decide(&mut cache, "a", 1));
        assert!(cache.finish(URI, flight, ok(KEYS_A), 1).unwrap().stored);

        let flight = fetch_id(decide(&mut cache, "b", 2));
        let junk = cache.finish(URI, flight, ok(br#"{"keys":"none"}"#), 2).unwrap();
        assert!(!junk.stored && junk.keys.keys().is_empty());
        assert_eq!(found_kid(decide(&mut cache, "a", 3)), "a");

        // An explicitly empty set is a real answer (the issuer dropped every key).
        let flight = fetch_id(decide(&mut cache, "b", 4));
        assert!(cache.finish(URI, flight, ok(br#"{"keys":[]}"#), 4).unwrap().stored);
        fetch_id(decide(&mut cache, "a", 5));
    }

    #[test]
    fn an_ambiguous_kid_is_an_error_and_not_a_reason_to_fetch() {
        let mut cache = JwksCache::new(Config::default());
        warm(&mut cache, br#"{"keys":[{"kid":"a","x":"1"},{"kid":"a","x":"2"},{"kid":"b"}]}"#, 0);
        let err = decide_err(&mut cache, Input::Given(URI), Input::Given("a"));
        assert_eq!(err, CacheError::AmbiguousKid("a".into()));
        assert_eq!(found_kid(decide(&mut cache, "b", 1)), "b");
    }

    fn decide_err(cache: &mut JwksCache, uri: Input<&str>, kid: Input<&str>) -> CacheError {
        cache.decide(uri, kid, 1).unwrap_err()
    }

    #[test]
    fn clear_drops_every_set_and_detaches_running_fetches() {
        let mut cache = JwksCache::new(Config::default());
        warm(&mut cache, KEYS_A, 0);
        let running = fetch_id(decide(&mut cache, "b", 1));
        cache.clear();
        assert!(cache.is_empty());

        let fetched = cache.finish(URI, running, ok(KEYS_AB), 2).unwrap();
        assert!(!fetched.stored, "a fetch started before clear() must not refill the cache");
        assert!(matches!(fetched.keys.lookup("b"), KeyLookup::Found(_)), "its callers still get it");
        assert_ne!(fetch_id(decide(&mut cache, "a", 3)), running);
    }

    #[test]
    fn a_fetch_past_its_deadline_is_presumed_lost_and_superseded() {
        let mut cache = JwksCache::new(Config { fetch_timeout_ms: 100, ..Config::default() });
        let lost = fetch_id(decide(&mut cache, "a", 0));
        let deadline = 100 + FLIGHT_GRACE_MS;
        assert_eq!(decide(&mut cache, "a", deadline - 1), Decision::Join { flight: lost, deadline });
        let replacement = fetch_id(decide(&mut cache, "a", deadline));
        assert_ne!(replacement, lost);

        // The lost fetch turns up late: its callers get it, the cache waits for the replacement.
        assert!(!cache.finish(URI, lost, ok(KEYS_A), deadline + 1).unwrap().stored);
        assert!(matches!(decide(&mut cache, "a", deadline + 2), Decision::Join { flight, .. } if flight == replacement));
        assert!(cache.finish(URI, replacement, ok(KEYS_A), deadline + 3).unwrap().stored);
    }

    #[test]
    fn arguments_are_checked_before_anything_else() {
        let mut cache = JwksCache::new(Config::default());
        let missing_uri = [Input::Absent, Input::Given("")];
        for uri in missing_uri {
            let err = decide_err(&mut cache, uri, Input::Absent);
            assert_eq!((err.code(), err.to_string().as_str()), ("ERR_JWKS_URI_MISSING", "JWKS URI missing"));
        }
        for kid in [Input::Absent, Input::Given("")] {
            let err = decide_err(&mut cache, Input::Given(URI), kid);
            assert_eq!((err.code(), err.to_string().as_str()), ("ERR_KID_MISSING", "Token missing key id"));
        }
        for uri in ["ftp://x/jwks", "file:///etc/passwd", "data:application/json,{}", "https://", "http:///x", "jwks.json", "https://a b/"] {
            assert_eq!(decide_err(&mut cache, Input::Given(uri), Input::Given("a")).code(), "ERR_JWKS_URI_INVALID", "{uri}");
        }
        assert_eq!(decide_err(&mut cache, Input::WrongType, Input::Given("a")).code(), "ERR_JWKS_URI_INVALID");
        assert_eq!(decide_err(&mut cache, Input::Given(URI), Input::WrongType).code(), "ERR_KID_INVALID");
        let long_kid = "k".repeat(MAX_KID_BYTES + 1);
        assert_eq!(decide_err(&mut cache, Input::Given(URI), Input::Given(&long_kid)).code(), "ERR_KID_INVALID");
        assert!(cache.decide(Input::Given("HTTP://127.0.0.1:8080/jwks"), Input::Given(&long_kid[1..]), 0).is_ok());
        assert_eq!(cache.len(), 0, "a refused call leaves nothing behind");
    }

    #[test]
    fn options_are_checked() {
        assert_eq!(Config::from_options(Input::Absent, Input::Absent), Ok(Config::default()));
        let set = Config::from_options(Input::Given(600_000.0), Input::Given(250.0)).unwrap();
        assert_eq!(set, Config { ttl_ms: 600_000, fetch_timeout_ms: 250 });
        assert_eq!(Config::from_options(Input::Given(0.0), Input::Absent).unwrap().ttl_ms, 0);
        for bad in [-1.0, 1.5, f64::NAN, f64::INFINITY, (MAX_TTL_MS + 1) as f64] {
            let err = Config::from_options(Input::Given(bad), Input::Absent).unwrap_err();
            assert_eq!(err.code(), "ERR_INVALID_OPTION");
            assert!(err.to_string().contains("ttlMs"), "{err}");
        }
        assert!(Config::from_options(Input::WrongType, Input::Absent).is_err());
        assert!(Config::from_options(Input::Absent, Input::Given(0.0)).is_err());
        assert!(Config::from_options(Input::Absent, Input::Given((MAX_FETCH_TIMEOUT_MS + 1) as f64)).is_err());
    }

    #[test]
    fn a_zero_ttl_fetches_on_every_lookup() {
        let mut cache = JwksCache::new(Config { ttl_ms: 0, ..Config::default() });
        warm(&mut cache, KEYS_A, 0);
        fetch_id(decide(&mut cache, "a", 0));
    }
}
