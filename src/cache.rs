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
//!
//! The host clock is checked ([`checked_clock`]) and not trusted to move forward: a set is fresh,
//! and a fetch running, only between the time it began and its end, so a clock stepped back
//! makes the cache fetch again rather than serve a set or wait on a fetch for as long as the step.

use crate::error::{shorten, CacheError};
use crate::jwks::{KeyLookup, KeySet, MAX_KID_BYTES};
use crate::refresh_policy::{Backoff, MissBudget, MissSlot};
use crate::shared_set::{self, FetchFor, StoredSet};
use std::collections::HashMap;
use std::rc::Rc;

/// Wall-clock milliseconds, as the host's clock gives them.
pub type Millis = u64;
/// Names one fetch, so that a late result can be told from the current one.
pub type FlightId = u32;

pub const DEFAULT_TTL_MS: u64 = 5 * 60 * 1000;
/// The bounds of a TTL taken from a response's `Cache-Control: max-age` (when `ttlMs` is not
/// given): an issuer cannot make the cache fetch more often than once a minute, nor keep a set
/// fresh for more than a day.
pub const MIN_MAX_AGE_MS: u64 = 60 * 1000;
pub const MAX_MAX_AGE_MS: u64 = 24 * 60 * 60 * 1000;
pub const DEFAULT_FETCH_TIMEOUT_MS: u64 = 5_000;
/// Upper bound of the fetch timeout: also the longest a joined caller ever waits before it
/// decides again, which must stay below what host timers can wait (2^31 - 1 ms).
pub const MAX_FETCH_TIMEOUT_MS: u64 = 10 * 60 * 1000;
/// URIs longer than this are refused; no JWKS URI comes near it.
pub const MAX_URI_BYTES: usize = 8 * 1024;
/// Upper bound of the TTL, so that `fetched_at + ttl` stays exact in a JS number.
pub const MAX_TTL_MS: u64 = 365 * 24 * 60 * 60 * 1000;
/// How long after its timeout a fetch still counts as running, for the host to deliver it.
pub const FLIGHT_GRACE_MS: u64 = 1_000;
/// The default bound of a response body, counted on the decoded bytes: real sets are a few KiB
/// (a dozen RSA keys with certificate chains stay under 64 KiB).
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 512 * 1024;
pub const MAX_MAX_RESPONSE_BYTES: u64 = 16 * 1024 * 1024;
/// The default bound of the entries in a response's `keys` array: real sets hold a handful.
pub const DEFAULT_MAX_KEYS: u64 = 100;
pub const MAX_MAX_KEYS: u64 = 1_000;
/// The default bound of remembered verified tokens: each costs its text (at most 16 KiB, a few
/// hundred bytes as issued) and its decoded header and payload.
pub const DEFAULT_MAX_VERIFIED_TOKENS: u64 = 1_000;
/// With tokens of at most 16 KiB, what remembered tokens keep in wasm memory stays under 200 MiB.
pub const MAX_MAX_VERIFIED_TOKENS: u64 = 10_000;
/// How long past its TTL a set is still served, while refreshing it fails (stale-if-error): an
/// issuer outage of an hour does not take authentication down; past it, lookups fail closed.
pub const DEFAULT_MAX_STALE_MS: u64 = 60 * 60 * 1000;
pub const MAX_MAX_STALE_MS: u64 = 7 * 24 * 60 * 60 * 1000;
/// The window of the refetch budget for unknown kids, and the longest wait between failing
/// fetches (see [`crate::refresh_policy`]).
pub const DEFAULT_REFETCH_COOLDOWN_MS: u64 = 30_000;
pub const MAX_REFETCH_COOLDOWN_MS: u64 = 60 * 60 * 1000;
/// The default bound of the URIs the cache keeps (with a set, a fetch or a failure backing off):
/// past it, the least recently looked-up one is forgotten, so that an app deriving URIs from
/// tokens cannot be made to grow the cache. A set costs up to `maxResponseBytes` of key objects.
pub const DEFAULT_MAX_ENTRIES: u64 = 100;
/// Retries of a fetch that failed for a reason that may pass (a network error, 5xx, 429), within
/// the fetch's `timeoutMs`.
pub const DEFAULT_MAX_RETRIES: u64 = 2;
pub const MAX_MAX_RETRIES: u64 = 5;
/// The wait before the first retry; it doubles with each one, jittered (half of it, plus a random
/// part of the other half, so that many caches do not retry in step).
pub const FIRST_RETRY_MS: u64 = 100;
/// A retry is only worth it with at least this much of the fetch's budget left for it.
pub const MIN_ATTEMPT_MS: u64 = 250;
pub const MAX_MAX_ENTRIES: u64 = 100_000;
/// The latest time a clock may give: the end of the JS `Date` range (year 275760).
pub const MAX_CLOCK_MS: f64 = 8.64e15;

/// A value handed over by the host, before it is checked.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Input<T> {
    /// Not given (undefined or null).
    #[default]
    Absent,
    /// Given, but of another type than `T`.
    WrongType,
    /// Given and of type `T`, but the host already knows it is unusable, and says why (a JS
    /// string with a lone surrogate, which would reach Rust altered; a URL `fetch` cannot parse).
    Refused(T, &'static str),
    /// A string longer than any the argument accepts, left with the host rather than copied.
    Oversized,
    Given(T),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    pub ttl_ms: u64,
    /// Whether `ttl_ms` was given: then it rules; else a response's `max-age` does, when present.
    pub ttl_given: bool,
    pub fetch_timeout_ms: u64,
    pub max_response_bytes: u64,
    pub max_keys: u64,
    /// How many tokens whose signature verified are remembered (see `js/verified-tokens.js`).
    pub max_verified_tokens: u64,
    /// Whether `http:` URIs of hosts other than this machine's loopback are fetched (tests only:
    /// a key set fetched in the clear can be rewritten on the way, ATTACKS.md B4).
    pub allow_insecure_http: bool,
    /// How long past its TTL a set is served while its refresh fails.
    pub max_stale_ms: u64,
    /// The refetch budget's window for unknown kids, and the longest backoff.
    pub refetch_cooldown_ms: u64,
    /// How many URIs are kept (least recently looked up forgotten first).
    pub max_entries: u64,
    /// Retries of a failed fetch within its timeout.
    pub max_retries: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            ttl_ms: DEFAULT_TTL_MS,
            ttl_given: false,
            fetch_timeout_ms: DEFAULT_FETCH_TIMEOUT_MS,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            max_keys: DEFAULT_MAX_KEYS,
            max_verified_tokens: DEFAULT_MAX_VERIFIED_TOKENS,
            allow_insecure_http: false,
            max_stale_ms: DEFAULT_MAX_STALE_MS,
            refetch_cooldown_ms: DEFAULT_REFETCH_COOLDOWN_MS,
            max_entries: DEFAULT_MAX_ENTRIES,
            max_retries: DEFAULT_MAX_RETRIES,
        }
    }
}

/// The options of `createJwksCache`, as the host read them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Options {
    pub ttl_ms: Input<f64>,
    pub timeout_ms: Input<f64>,
    pub max_response_bytes: Input<f64>,
    pub max_keys: Input<f64>,
    pub max_verified_tokens: Input<f64>,
    pub allow_insecure_http: Input<bool>,
    pub max_stale_ms: Input<f64>,
    pub refetch_cooldown_ms: Input<f64>,
    pub max_entries: Input<f64>,
    pub max_retries: Input<f64>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            ttl_ms: Input::Absent,
            timeout_ms: Input::Absent,
            max_response_bytes: Input::Absent,
            max_keys: Input::Absent,
            max_verified_tokens: Input::Absent,
            allow_insecure_http: Input::Absent,
            max_stale_ms: Input::Absent,
            refetch_cooldown_ms: Input::Absent,
            max_entries: Input::Absent,
            max_retries: Input::Absent,
        }
    }
}

impl Config {
    /// How long a fetch counts as running: its timeout, plus the grace for the host to deliver it.
    /// Also the longest any caller waits on another's fetch before it decides again.
    pub fn longest_flight_ms(&self) -> u64 {
        self.fetch_timeout_ms + FLIGHT_GRACE_MS
    }

    /// Checks the options of `createJwksCache`; absent ones take their defaults.
    pub fn from_options(options: Options) -> Result<Config, CacheError> {
        let millis = |name, value, min, max, default| whole(name, "milliseconds", value, min, max, default);
        Ok(Config {
            ttl_ms: millis("ttlMs", options.ttl_ms, 0, MAX_TTL_MS, DEFAULT_TTL_MS)?,
            ttl_given: options.ttl_ms != Input::Absent,
            fetch_timeout_ms: millis("timeoutMs", options.timeout_ms, 1, MAX_FETCH_TIMEOUT_MS, DEFAULT_FETCH_TIMEOUT_MS)?,
            max_response_bytes: whole(
                "maxResponseBytes",
                "bytes",
                options.max_response_bytes,
                1,
                MAX_MAX_RESPONSE_BYTES,
                DEFAULT_MAX_RESPONSE_BYTES,
            )?,
            max_keys: whole("maxKeys", "keys", options.max_keys, 1, MAX_MAX_KEYS, DEFAULT_MAX_KEYS)?,
            max_verified_tokens: whole(
                "maxVerifiedTokens",
                "tokens",
                options.max_verified_tokens,
                0,
                MAX_MAX_VERIFIED_TOKENS,
                DEFAULT_MAX_VERIFIED_TOKENS,
            )?,
            allow_insecure_http: match options.allow_insecure_http {
                Input::Absent => false,
                Input::Given(allow) => allow,
                _ => return Err(CacheError::InvalidOption("allowInsecureHttp must be a boolean".into())),
            },
            max_stale_ms: millis("maxStaleMs", options.max_stale_ms, 0, MAX_MAX_STALE_MS, DEFAULT_MAX_STALE_MS)?,
            refetch_cooldown_ms: millis(
                "refetchCooldownMs",
                options.refetch_cooldown_ms,
                1_000,
                MAX_REFETCH_COOLDOWN_MS,
                DEFAULT_REFETCH_COOLDOWN_MS,
            )?,
            max_entries: whole("maxEntries", "URIs", options.max_entries, 1, MAX_MAX_ENTRIES, DEFAULT_MAX_ENTRIES)?,
            max_retries: whole("maxRetries", "retries", options.max_retries, 0, MAX_MAX_RETRIES, DEFAULT_MAX_RETRIES)?,
        })
    }
}

fn whole(name: &str, unit: &str, value: Input<f64>, min: u64, max: u64, default: u64) -> Result<u64, CacheError> {
    let out_of_range = || CacheError::InvalidOption(format!("{name} must be a whole number of {unit} from {min} to {max}"));
    match value {
        Input::Absent => Ok(default),
        Input::Given(n) if n.fract() == 0.0 && n >= min as f64 && n <= max as f64 => Ok(n as u64),
        Input::WrongType | Input::Refused(..) | Input::Oversized | Input::Given(_) => Err(out_of_range()),
    }
}

/// Checks a reading of the host clock: milliseconds since the epoch, from 0 to the end of the JS
/// `Date` range. Fractions are dropped.
pub fn checked_clock(now: Input<f64>) -> Result<Millis, CacheError> {
    match now {
        Input::Given(ms) if (0.0..=MAX_CLOCK_MS).contains(&ms) => Ok(ms as Millis),
        Input::Given(ms) => Err(CacheError::ClockInvalid(format!(
            "now() returned {}, not a time in milliseconds from 0 to 8.64e15",
            describe_number(ms)
        ))),
        Input::Absent | Input::WrongType | Input::Refused(..) | Input::Oversized => {
            Err(CacheError::ClockInvalid("now() must return a number of milliseconds".into()))
        }
    }
}

/// A number for a message, without pulling float formatting (kilobytes of wasm) into the build.
fn describe_number(n: f64) -> String {
    match n {
        n if n.is_nan() => "NaN".into(),
        n if n.is_infinite() => (if n > 0.0 { "Infinity" } else { "-Infinity" }).into(),
        n if n.abs() < 1e18 && n.fract() == 0.0 => (n as i64).to_string(),
        n if n.abs() < 1e18 => format!("{}.x", n as i64),
        n if n > 0.0 => "a number above 1e18".into(),
        _ => "a number below -1e18".into(),
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Answer from the cached set at once (the host publishes each stored set, so it has the key
    /// objects at hand): it is fresh, or stale but usable, and has the key; or the kid is missing
    /// from it and the refetch budget is spent (the answer is then "no such key").
    Found,
    /// The same, and the set is stale: run this fetch in the background (stale-while-revalidate),
    /// reporting its result with [`JwksCache::finish`]; nobody waits on it.
    Refresh(FlightId),
    /// Fetch the set, then report the result with [`JwksCache::finish`].
    Fetch(FlightId),
    /// A fetch for this URI is running: wait for its result, but not past `deadline`; a caller
    /// still waiting then calls `decide` again.
    Join { flight: FlightId, deadline: Millis },
}

/// The `max-age` of a `Cache-Control` header, in ms (RFC 9111 5.2.2.1; `no-store` and `no-cache`
/// count as 0): None when it has none, or one that is not a number.
fn max_age_ms(cache_control: &str) -> Option<u64> {
    let mut max_age = None;
    for directive in cache_control.split(',').map(|d| d.trim().to_ascii_lowercase()) {
        match directive.split_once('=') {
            Some((name, value)) if name.trim() == "max-age" => {
                let seconds = value.trim().trim_matches('"').parse::<u64>().ok()?;
                max_age = Some(seconds.saturating_mul(1000));
            }
            None if directive == "no-store" || directive == "no-cache" => return Some(0),
            _ => {}
        }
    }
    max_age
}

/// Where the cache stands for one URI.
#[derive(Debug, Clone, PartialEq)]
pub struct UriStatus {
    pub set: Option<SetStatus>,
    /// A fetch is running for it.
    pub fetching: bool,
    /// Until when unknown kids are answered without a refetch (the window's budget is spent).
    pub cooling_down_until: Option<Millis>,
    /// When the set is next fetched, at the earliest: its TTL's end, or the end of a backoff.
    pub next_refresh_at: Option<Millis>,
    /// The error of the last fetches, in a row, when they failed: until when the next one waits,
    /// and how many failed.
    pub last_error: Option<(CacheError, Millis, u32)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetStatus {
    pub fetched_at: Millis,
    pub fresh_until: Millis,
    pub usable_until: Millis,
    pub fresh: bool,
    /// Fresh, or stale but still served.
    pub usable: bool,
    pub kids: usize,
}

/// Why an attempt of a fetch failed, as [`JwksCache::retry`] weighs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryCause<'a> {
    /// An answer with this status, and its `Retry-After` header, if any.
    Status(u32, Option<&'a str>),
    /// No answer (connection refused, reset, DNS...).
    Network,
}

/// Half of `wait`, plus `random` (0 to 1) of the other half.
fn jittered(wait: u64, random: f64) -> u64 {
    let random = if random.is_finite() { random.clamp(0.0, 1.0) } else { 0.5 };
    wait / 2 + ((wait / 2) as f64 * random) as u64
}

/// What a fetch brought back, as the host saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FetchOutcome<'a> {
    /// A response: its status as the host gave it (a custom `fetch` may give any number) and its
    /// body, which the host stopped reading past the size bound.
    Response { status: u32, body: &'a [u8] },
    /// No response: the detail is the host's own words, for the error message.
    NetworkError(&'a str),
    TimedOut,
    /// The body passed the size bound; the host stopped reading it.
    TooLarge,
    /// A redirect whose status the host does not show (a browser's opaque redirect).
    Redirected,
}

/// The set a fetch read, for the callers that waited on it.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub keys: Rc<KeySet>,
    /// Whether it became the cached set for the URI (see [`JwksCache::finish`]).
    pub stored: bool,
    /// When the fetch finished: the set is fresh from then ...
    pub fetched_at: Millis,
    /// ... until then (exclusive) ...
    pub fresh_until: Millis,
    /// ... and served while refreshing it fails until then (what a shared store keeps it for).
    pub usable_until: Millis,
}

#[derive(Debug, Default)]
struct Entry {
    set: Option<CachedSet>,
    flight: Option<Flight>,
    /// The failures of the last fetches, in a row, while they back off.
    backoff: Option<Backoff<CacheError>>,
    misses: MissBudget,
    /// When the URI was last looked up, in lookups (the LRU order of `maxEntries`).
    last_used: u64,
}

impl Entry {
    fn running(&self, now: Millis) -> Option<&Flight> {
        self.flight.as_ref().filter(|flight| flight.is_running(now))
    }

    /// Whether a fetch may start now: none is running and no failure is backing off.
    fn may_fetch(&self, now: Millis) -> bool {
        self.running(now).is_none() && self.backoff.as_ref().is_none_or(|backoff| backoff.allows(now))
    }
}

#[derive(Debug)]
struct CachedSet {
    keys: Rc<KeySet>,
    fetched_at: Millis,
    fresh_until: Millis,
    /// Served until then while refreshing it fails (`maxStaleMs` past `fresh_until`).
    usable_until: Millis,
}

impl CachedSet {
    fn is_fresh(&self, now: Millis) -> bool {
        (self.fetched_at..self.fresh_until).contains(&now)
    }

    fn is_usable(&self, now: Millis) -> bool {
        (self.fetched_at..self.usable_until).contains(&now)
    }
}

#[derive(Debug, Clone)]
struct Flight {
    id: FlightId,
    started: Millis,
    deadline: Millis,
    /// The kid and budget slot of a refetch for a kid missing from the set.
    miss: Option<(String, MissSlot)>,
    /// The kid a cold lookup fetches for: a set from a shared store without it does not answer
    /// the fetch (the keys may have rotated since it was stored).
    wanted: Option<String>,
    /// Retries made so far.
    retries: u32,
    /// A refresh (`forceRefresh`, the refresh timer) that wants a set fetched since then, not an
    /// older one another instance stored (see [`crate::shared_set`]).
    wanted_since: Option<Millis>,
}

impl Flight {
    fn is_running(&self, now: Millis) -> bool {
        (self.started..self.deadline).contains(&now)
    }
}

#[derive(Debug, Default)]
pub struct JwksCache {
    config: Config,
    entries: HashMap<String, Entry>,
    last_flight: FlightId,
    /// Lookups so far: the clock of the LRU order.
    lookups: u64,
    /// URIs forgotten to make room, not yet told to the host.
    evicted: Vec<String>,
    /// The prefixes a URI must start with (`allowedJwksUris`), when given.
    allowed: Option<Vec<String>>,
}

impl JwksCache {
    pub fn new(config: Config) -> Self {
        JwksCache { config, entries: HashMap::new(), last_flight: 0, lookups: 0, evicted: Vec::new(), allowed: None }
    }

    /// Restricts the URIs this cache fetches to those that start with one of `prefixes`
    /// (`allowedJwksUris`): each an absolute URL whose host is followed by a path, so that
    /// `https://issuer.example/` cannot be matched by `https://issuer.example.evil/`.
    pub fn allow_only(&mut self, prefixes: &Input<Vec<Input<&str>>>) -> Result<(), CacheError> {
        let invalid = || CacheError::InvalidOption("allowedJwksUris must be a non-empty array of URLs, each with a path (https://issuer.example/...)".into());
        let prefixes = match prefixes {
            Input::Absent => return Ok(()),
            Input::Given(prefixes) if !prefixes.is_empty() && prefixes.len() <= 100 => prefixes,
            _ => return Err(invalid()),
        };
        let mut allowed = Vec::new();
        for prefix in prefixes {
            let Input::Given(prefix) = *prefix else { return Err(invalid()) };
            let uri = checked_uri(Input::Given(prefix), true).map_err(|_| invalid())?;
            let after_scheme = &uri[uri.find("://").map_or(0, |at| at + 3)..];
            if !after_scheme.contains('/') {
                return Err(invalid());
            }
            allowed.push(uri.to_owned());
        }
        self.allowed = Some(allowed);
        Ok(())
    }

    /// The URI a lookup may fetch: a valid one ([`checked_uri`]) that the allow-list, if any,
    /// lets through.
    /// A URI the cache may fetch: an allowed scheme and host (see [`checked_uri`]) and, when
    /// `allowedJwksUris` was given, under one of its prefixes. The OpenID discovery URI of an
    /// issuer is held to the same list.
    pub fn checked<'a>(&self, uri: Input<&'a str>) -> Result<&'a str, CacheError> {
        let uri = checked_uri(uri, self.config.allow_insecure_http)?;
        match &self.allowed {
            Some(prefixes) if !prefixes.iter().any(|prefix| uri.starts_with(prefix.as_str())) => {
                Err(CacheError::UriInvalid(format!("{:?} is not in allowedJwksUris", shorten(&redacted(uri)))))
            }
            _ => Ok(uri),
        }
    }

    pub fn config(&self) -> Config {
        self.config
    }

    /// First step of every lookup: checks the arguments, then says what to do.
    pub fn decide(&mut self, uri: Input<&str>, kid: Input<&str>, now: Millis) -> Result<Decision, CacheError> {
        let uri = self.checked(uri)?;
        let kid = checked_kid(kid)?;
        self.decide_for(uri, Some(kid), now)
    }

    /// The same for a token without a kid, which any fresh set answers (the key is then the
    /// single one that can verify it, or none: a set is not fetched again for such a token).
    pub fn decide_any(&mut self, uri: Input<&str>, now: Millis) -> Result<Decision, CacheError> {
        let uri = self.checked(uri)?;
        self.decide_for(uri, None, now)
    }

    fn decide_for(&mut self, uri: &str, kid: Option<&str>, now: Millis) -> Result<Decision, CacheError> {
        let window = self.config.refetch_cooldown_ms;
        if let Some(entry) = self.touch(uri) {
            if let Some(set) = entry.set.as_ref().filter(|set| set.is_usable(now)) {
                let fresh = set.is_fresh(now);
                let lookup = kid.map_or(KeyLookup::Absent, |kid| set.keys.lookup(kid));
                match (kid, lookup) {
                    (Some(kid), KeyLookup::Ambiguous) => return Err(CacheError::AmbiguousKid(kid.to_owned())),
                    // The key is there (or any set will do, for a token without a kid).
                    (None, _) | (Some(_), KeyLookup::Found(_)) => {
                        if fresh || !entry.may_fetch(now) {
                            return Ok(Decision::Found);
                        }
                        return Ok(Decision::Refresh(self.start_flight(uri, now, None)));
                    }
                    // Missing: the keys may have rotated. A stale set is due for a refresh anyway;
                    // else the refetch budget decides, and a spent budget answers from the set.
                    (Some(kid), KeyLookup::Absent) => {
                        if let Some(flight) = entry.running(now) {
                            return Ok(Decision::Join { flight: flight.id, deadline: flight.deadline });
                        }
                        // While failures back off, the set answers: a failing issuer is not asked
                        // again for every unknown kid either.
                        if !entry.may_fetch(now) {
                            return Ok(Decision::Found);
                        }
                        if !fresh {
                            return Ok(Decision::Fetch(self.start_flight(uri, now, None)));
                        }
                        return Ok(match entry.misses.take(kid, now, window) {
                            Some(slot) => Decision::Fetch(self.start_flight(uri, now, Some((kid.to_owned(), slot)))),
                            None => Decision::Found,
                        });
                    }
                }
            }
        }
        self.fetch_or_join(uri, kid, now)
    }

    /// A lookup of `uri`: its entry, marked as the most recently used (the LRU order of
    /// `maxEntries`).
    fn touch(&mut self, uri: &str) -> Option<&mut Entry> {
        self.lookups += 1;
        let entry = self.entries.get_mut(uri)?;
        entry.last_used = self.lookups;
        Some(entry)
    }

    /// With no set to answer from: join the running fetch, else start one; but while the last
    /// fetches' failure backs off, fail at once with its error rather than ask a failing issuer
    /// again on every call.
    fn fetch_or_join(&mut self, uri: &str, kid: Option<&str>, now: Millis) -> Result<Decision, CacheError> {
        if let Some(entry) = self.entries.get(uri) {
            if let Some(flight) = entry.running(now) {
                return Ok(Decision::Join { flight: flight.id, deadline: flight.deadline });
            }
            if let Some(backoff) = entry.backoff.as_ref().filter(|backoff| !backoff.allows(now)) {
                return Err(backoff.error.clone());
            }
        }
        let flight = self.start_flight(uri, now, None);
        if let Some(running) = self.entries.get_mut(uri).and_then(|entry| entry.flight.as_mut()) {
            running.wanted = kid.map(str::to_owned);
        }
        Ok(Decision::Fetch(flight))
    }

    fn start_flight(&mut self, uri: &str, now: Millis, miss: Option<(String, MissSlot)>) -> FlightId {
        self.last_flight = self.last_flight.wrapping_add(1);
        let deadline = now.saturating_add(self.config.longest_flight_ms());
        let flight = Flight { id: self.last_flight, started: now, deadline, miss, wanted: None, retries: 0, wanted_since: None };
        if !self.entries.contains_key(uri) {
            self.make_room();
        }
        let entry = self.entries.entry(uri.to_owned()).or_default();
        entry.flight = Some(flight);
        entry.last_used = self.lookups;
        self.last_flight
    }

    /// Forgets the least recently looked-up URI when the cache holds `maxEntries` of them, and
    /// notes it for the host (which drops its view of it: see [`take_evicted`](Self::take_evicted)).
    fn make_room(&mut self) {
        while self.entries.len() as u64 >= self.config.max_entries {
            let Some(oldest) = self.entries.iter().min_by_key(|(_, entry)| entry.last_used).map(|(uri, _)| uri.clone()) else { return };
            self.entries.remove(&oldest);
            self.evicted.push(oldest);
        }
    }

    /// The URIs forgotten to make room since the last call: the host drops what it keeps of them.
    pub fn take_evicted(&mut self) -> Vec<String> {
        std::mem::take(&mut self.evicted)
    }

    /// Takes the result of the fetch that [`decide`](Self::decide) asked for.
    ///
    /// The set becomes the cached one for the URI unless the fetch was superseded (by a newer
    /// fetch, or by [`clear`](Self::clear)), or the body had no `keys` array while a set is
    /// cached: a failed or garbage response never replaces a good set. Errors change nothing.
    pub fn finish(&mut self, uri: &str, flight: FlightId, outcome: FetchOutcome<'_>, now: Millis) -> Result<Fetched, CacheError> {
        self.finish_with(uri, flight, outcome, None, now)
    }

    /// [`finish`](Self::finish) with the response's `Cache-Control` header: its `max-age`, clamped
    /// to [`MIN_MAX_AGE_MS`]..[`MAX_MAX_AGE_MS`], is the set's TTL unless `ttlMs` was given.
    pub fn finish_with(
        &mut self,
        uri: &str,
        flight: FlightId,
        outcome: FetchOutcome<'_>,
        cache_control: Option<&str>,
        now: Millis,
    ) -> Result<Fetched, CacheError> {
        let ended = self.end_flight(uri, flight);
        let keys = match read_response(outcome, &self.config) {
            Ok(keys) => Rc::new(keys),
            Err(error) => {
                if ended.is_some() {
                    self.back_off(uri, error.clone(), now);
                }
                self.forget_if_empty(uri);
                return Err(error);
            }
        };
        self.store(uri, ended, keys, self.ttl(cache_control), now, now)
    }

    /// The TTL of a set fetched with this `Cache-Control` header: its `max-age`, clamped to
    /// [`MIN_MAX_AGE_MS`]..[`MAX_MAX_AGE_MS`], unless `ttlMs` was given.
    fn ttl(&self, cache_control: Option<&str>) -> u64 {
        match cache_control.and_then(max_age_ms) {
            Some(max_age) if !self.config.ttl_given => max_age.clamp(MIN_MAX_AGE_MS, MAX_MAX_AGE_MS),
            _ => self.config.ttl_ms,
        }
    }

    /// Makes `keys`, fetched at `fetched_at` by the fetch `ended` (None: it was superseded), the
    /// cached set of `uri`, unless it holds no key and the cached one does.
    fn store(&mut self, uri: &str, ended: Option<Flight>, keys: Rc<KeySet>, ttl: u64, fetched_at: Millis, now: Millis) -> Result<Fetched, CacheError> {
        let fresh_until = fetched_at.saturating_add(ttl);
        let usable_until = fresh_until.saturating_add(self.config.max_stale_ms);
        let stored = match self.entries.get_mut(uri).filter(|_| ended.is_some()) {
            Some(entry) if entry.set.as_ref().is_none_or(|cached| Self::may_replace(&cached.keys, &keys)) => {
                entry.set = Some(CachedSet { keys: Rc::clone(&keys), fetched_at, fresh_until, usable_until });
                entry.backoff = None;
                // A refetch that brought the kid it was for was a rotation: its slot is free again.
                if let Some((kid, slot)) = ended.and_then(|flight| flight.miss) {
                    if matches!(keys.lookup(&kid), KeyLookup::Found(_)) {
                        entry.misses.give_back(slot);
                    }
                }
                true
            }
            Some(entry) => {
                // Refused as a failed refresh: the callers that waited on it get its error, as
                // for any other failure.
                let error = CacheError::SetRefused(if keys.is_jwk_set() { "its \"keys\" array is empty" } else { "it has no \"keys\" array" });
                entry.backoff = Some(Backoff::after(entry.backoff.as_ref(), error.clone(), now, self.config.refetch_cooldown_ms));
                return Err(error);
            }
            None => false,
        };
        self.forget_if_empty(uri);
        Ok(Fetched { keys, stored, fetched_at, fresh_until, usable_until })
    }

    /// Offers a set read from a shared store (fetched at the time its document says) as the answer to the fetch `flight` of `uri`, before the host asks the issuer. `Ok(Some)`:
    /// adopted, exactly as [`finish_with`](Self::finish_with) would have taken it; `Ok(None)`:
    /// not suitable (see [`crate::shared_set`]), ask the issuer; `Err`: the document breaks the
    /// rules of a response (reported as a store error; the issuer is asked). Nothing changes
    /// unless it is adopted.
    pub fn adopt(&mut self, uri: &str, flight: FlightId, stored: StoredSet<'_>, now: Millis) -> Result<Option<Fetched>, CacheError> {
        let Some(entry) = self.entries.get(uri) else { return Ok(None) };
        let Some(running) = entry.flight.as_ref().filter(|running| running.id == flight) else { return Ok(None) };
        let Some(fetched_at) = shared_set::fetched_at(stored.fetched_at, now).filter(|&at| at >= stored.not_before) else { return Ok(None) };
        let keys = read_response(FetchOutcome::Response { status: 200, body: stored.body }, &self.config)?;
        let fetch = FetchFor {
            started: running.started,
            wanted_since: running.wanted_since,
            missing_kid_found: running.miss.as_ref().map(|(kid, _)| kid).or(running.wanted.as_ref()).map(|kid| matches!(keys.lookup(kid), KeyLookup::Found(_))),
        };
        let cached = entry.set.as_ref();
        let ttl = self.ttl(stored.cache_control);
        let replaces = cached.is_none_or(|cached| Self::may_replace(&cached.keys, &keys));
        if !replaces || !shared_set::adopts(fetch, fetched_at, fetched_at.saturating_add(ttl), cached.map(|set| set.fetched_at), now) {
            return Ok(None);
        }
        let ended = self.end_flight(uri, flight);
        self.store(uri, ended, Rc::new(keys), ttl, fetched_at, now).map(Some)
    }

    /// Whether a refreshed set may replace the cached one: not when the cached set holds keys and
    /// the new one none (a body without a `keys` array, or an empty one). An issuer that drops
    /// every key at once, with no new one, is far more often a broken deployment than a
    /// revocation, and taking it at its word would fail every token: it counts as a failed
    /// refresh, and stale-if-error serves the cached keys up to `maxStaleMs`. With nothing
    /// cached, an empty set is the answer there is.
    fn may_replace(cached: &KeySet, fetched: &KeySet) -> bool {
        cached.holds_no_key() || !fetched.holds_no_key()
    }

    /// Records a failed fetch of `uri`: the next one waits (see [`Backoff`]). The entry stays for
    /// that, within `maxEntries`.
    fn back_off(&mut self, uri: &str, error: CacheError, now: Millis) {
        if let Some(entry) = self.entries.get_mut(uri) {
            entry.backoff = Some(Backoff::after(entry.backoff.as_ref(), error, now, self.config.refetch_cooldown_ms));
        }
    }

    /// A refresh the caller asks for (`forceRefresh`): fetch the set now, fresh or not, sharing a
    /// fetch already running; while failures back off, their error (a caller cannot make the
    /// cache hammer a failing issuer). A set from a shared store answers it only when fetched at
    /// or after `since` (at most `now`): `now` for `forceRefresh`, earlier for the refresh timer.
    pub fn decide_refresh(&mut self, uri: Input<&str>, since: Millis, now: Millis) -> Result<Decision, CacheError> {
        let uri = self.checked(uri)?;
        self.touch(uri);
        let decision = self.fetch_or_join(uri, None, now)?;
        if let (Decision::Fetch(_), Some(flight)) = (&decision, self.entries.get_mut(uri).and_then(|entry| entry.flight.as_mut())) {
            flight.wanted_since = Some(since.min(now));
        }
        Ok(decision)
    }

    /// Forgets what the cache holds for `uri` (`invalidate`): its set and its refetch budget. A
    /// fetch running for it still answers its callers, but its set is not kept. The backoff of
    /// failing fetches stays: an invalidation (which another instance may send at will) must not
    /// make the cache ask a failing issuer again at once. Returns whether a set was cached.
    pub fn forget(&mut self, uri: &str) -> bool {
        let Some(entry) = self.entries.remove(uri) else { return false };
        if let Some(backoff) = entry.backoff {
            self.entries.insert(uri.to_owned(), Entry { backoff: Some(backoff), last_used: entry.last_used, ..Entry::default() });
        }
        entry.set.is_some()
    }

    /// Where the cache stands for `uri` at `now` (`status`), or None when it holds nothing for it.
    pub fn status(&self, uri: &str, now: Millis) -> Option<UriStatus> {
        let entry = self.entries.get(uri)?;
        Some(UriStatus {
            set: entry.set.as_ref().map(|set| SetStatus {
                fetched_at: set.fetched_at,
                fresh_until: set.fresh_until,
                usable_until: set.usable_until,
                fresh: set.is_fresh(now),
                usable: set.is_usable(now),
                kids: set.keys.keys().len(),
            }),
            fetching: entry.running(now).is_some(),
            cooling_down_until: entry.misses.spent_until(now, self.config.refetch_cooldown_ms),
            next_refresh_at: match (&entry.backoff, &entry.set) {
                (Some(backoff), _) => Some(backoff.retry_at),
                (None, Some(set)) => Some(set.fresh_until),
                (None, None) => None,
            },
            last_error: entry.backoff.as_ref().map(|backoff| (backoff.error.clone(), backoff.retry_at, backoff.failures)),
        })
    }

    /// Whether the failed attempt of the fetch `flight` is retried: `Some((wait, budget))`, to
    /// fetch again after `wait` ms with `budget` ms for that attempt; None: report the failure
    /// with [`finish`](Self::finish). Retried: network errors, 5xx and 429 (after its
    /// `Retry-After` in seconds, when given), at most `maxRetries` times, and only while the
    /// fetch's `timeoutMs` leaves room for another attempt. `random` (0 to 1, from the host)
    /// jitters the wait.
    pub fn retry(&mut self, uri: &str, flight: FlightId, failure: RetryCause<'_>, random: f64, now: Millis) -> Option<(u64, u64)> {
        let max_retries = self.config.max_retries;
        let timeout = self.config.fetch_timeout_ms;
        let entry = self.entries.get_mut(uri)?;
        let running = entry.flight.as_mut().filter(|f| f.id == flight && f.is_running(now))?;
        if running.retries as u64 >= max_retries {
            return None;
        }
        let wait = match failure {
            RetryCause::Status(status, retry_after) if status == 429 || (500..600).contains(&status) => {
                match retry_after.map(str::trim).filter(|text| !text.is_empty()) {
                    // Delta-seconds (RFC 9110 10.2.3); an HTTP-date, or anything else, is not waited for.
                    Some(text) => text.parse::<u64>().ok()?.checked_mul(1000)?,
                    None => jittered(FIRST_RETRY_MS << running.retries.min(16), random),
                }
            }
            RetryCause::Network => jittered(FIRST_RETRY_MS << running.retries.min(16), random),
            RetryCause::Status(..) => return None,
        };
        let budget = running.started.saturating_add(timeout).checked_sub(now.saturating_add(wait))?;
        if budget < MIN_ATTEMPT_MS {
            return None;
        }
        running.retries += 1;
        Some((wait, budget))
    }

    /// Ends the fetch `flight` without a result (the host could not report one, as when its
    /// clock failed): callers waiting on it decide again at once instead of at its deadline.
    /// Returns whether it was the URI's current fetch.
    pub fn abandon(&mut self, uri: &str, flight: FlightId) -> bool {
        let was_current = self.end_flight(uri, flight).is_some();
        self.forget_if_empty(uri);
        was_current
    }

    /// Ends the fetch `flight` of `uri`; returns it when it was the URI's current fetch.
    fn end_flight(&mut self, uri: &str, flight: FlightId) -> Option<Flight> {
        let entry = self.entries.get_mut(uri).filter(|e| e.flight.as_ref().is_some_and(|f| f.id == flight))?;
        entry.flight.take()
    }

    /// A URI with neither a set, nor a fetch, nor a failure backing off is forgotten: URIs whose
    /// fetches failed must not pile up.
    fn forget_if_empty(&mut self, uri: &str) {
        if self.entries.get(uri).is_some_and(|e| e.set.is_none() && e.flight.is_none() && e.backoff.is_none()) {
            self.entries.remove(uri);
        }
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

fn read_response(outcome: FetchOutcome<'_>, config: &Config) -> Result<KeySet, CacheError> {
    match outcome {
        FetchOutcome::Response { status, body } if (200..300).contains(&status) => {
            if body.len() as u64 > config.max_response_bytes {
                return Err(CacheError::ResponseTooLarge(config.max_response_bytes));
            }
            KeySet::from_body(body, config.max_keys as usize)
        }
        // Redirects are not followed (ATTACKS.md B5): the host asks fetch not to, and reports them.
        FetchOutcome::Response { status, .. } if (300..400).contains(&status) => Err(CacheError::Redirect(Some(status))),
        FetchOutcome::Redirected => Err(CacheError::Redirect(None)),
        FetchOutcome::Response { status, .. } => Err(CacheError::Status(status)),
        FetchOutcome::NetworkError(detail) => Err(CacheError::Network(shorten(detail).into_owned())),
        FetchOutcome::TimedOut => Err(CacheError::Timeout(config.fetch_timeout_ms)),
        FetchOutcome::TooLarge => Err(CacheError::ResponseTooLarge(config.max_response_bytes)),
    }
}

/// The URI a lookup may fetch, or why not: an absolute https: URL with a host, or an http: one
/// whose host is this machine's loopback (`localhost`, `127.x.x.x`, `[::1]`), unless the caller
/// allows plain http everywhere (ATTACKS.md B4: a key set fetched in the clear can be rewritten
/// on the way). Only the forms written out are loopback: another spelling of it is refused, never
/// the other way round.
pub fn checked_uri(uri: Input<&str>, allow_insecure_http: bool) -> Result<&str, CacheError> {
    let uri = match uri {
        Input::Absent | Input::Given("") => return Err(CacheError::UriMissing),
        Input::WrongType => return Err(CacheError::UriInvalid("it must be a string".into())),
        Input::Refused(uri, why) => return Err(CacheError::UriInvalid(format!("{why}: {:?}", shorten(&redacted(uri))))),
        Input::Given(uri) if uri.len() <= MAX_URI_BYTES => uri,
        Input::Oversized | Input::Given(_) => {
            return Err(CacheError::UriInvalid(format!("longer than {MAX_URI_BYTES} bytes")))
        }
    };
    let lower = uri.get(..8).unwrap_or(uri).to_ascii_lowercase();
    let (rest, secure) = if lower.starts_with("https://") {
        (&uri[8..], true)
    } else if lower.starts_with("http://") {
        (&uri[7..], false)
    } else {
        return Err(CacheError::UriInvalid(format!("expected an http: or https: URL, got {:?}", shorten(&redacted(uri)))));
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.is_empty() || uri.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(CacheError::UriInvalid(format!("not a valid URL: {:?}", shorten(&redacted(uri)))));
    }
    if !secure && !allow_insecure_http && !is_loopback(authority) {
        return Err(CacheError::UriInvalid(format!(
            "plain http: is refused for {:?} (use https:; http: is for this machine's loopback, or with allowInsecureHttp)",
            shorten(&redacted(uri))
        )));
    }
    Ok(uri)
}

/// Whether the authority (`user@host:port`) names this machine's loopback: `localhost`, a dotted
/// IPv4 address in 127.0.0.0/8, or `[::1]`.
fn is_loopback(authority: &str) -> bool {
    let host_and_port = authority.rsplit('@').next().unwrap_or(authority);
    let host = match host_and_port.strip_prefix('[') {
        Some(bracketed) => return bracketed.split(']').next() == Some("::1"),
        None => host_and_port.split(':').next().unwrap_or(""),
    };
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    let octets: Vec<&str> = host.split('.').collect();
    octets.len() == 4
        && octets[0] == "127"
        && octets.iter().all(|octet| !octet.is_empty() && octet.len() <= 3 && octet.bytes().all(|b| b.is_ascii_digit()) && octet.parse::<u16>().is_ok_and(|n| n <= 255))
}

/// The URI as an error message may quote it: user information (`user:password@`) becomes `***@`.
pub fn redacted(uri: &str) -> std::borrow::Cow<'_, str> {
    let authority_at = uri.find(':').filter(|&at| uri[at..].starts_with("://")).map_or(0, |at| at + 3);
    let authority_end = uri[authority_at..].find(['/', '?', '#']).map_or(uri.len(), |end| authority_at + end);
    match uri[authority_at..authority_end].rfind('@') {
        Some(at) => format!("{}***{}", &uri[..authority_at], &uri[authority_at + at..]).into(),
        None => uri.into(),
    }
}

fn checked_kid(kid: Input<&str>) -> Result<&str, CacheError> {
    match kid {
        Input::Absent | Input::Given("") => Err(CacheError::KidMissing),
        Input::WrongType => Err(CacheError::KidInvalid("it must be a string".into())),
        Input::Refused(kid, why) => Err(CacheError::KidInvalid(format!("{why}: {:?}", shorten(kid)))),
        Input::Given(kid) if kid.len() <= MAX_KID_BYTES => Ok(kid),
        Input::Oversized | Input::Given(_) => Err(CacheError::KidInvalid(format!("longer than {MAX_KID_BYTES} bytes"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::refresh_policy::FIRST_BACKOFF_MS;

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

    fn assert_found(decision: Decision, why: &str) {
        assert_eq!(decision, Decision::Found, "expected the cached key: {why}");
    }

    #[test]
    fn a_set_is_fresh_for_exactly_the_ttl() {
        let mut cache = JwksCache::new(Config { ttl_ms: 10 * MINUTE, ..Config::default() });
        let fetched = warm(&mut cache, KEYS_A, 1_000);
        assert!(fetched.stored);
        assert_eq!(fetched.fresh_until, 1_000 + 10 * MINUTE);

        assert_found(decide(&mut cache, "a", 1_000 + 10 * MINUTE - 1), "");
        // Stale from then on: still answered, and refreshed in the background.
        assert!(matches!(decide(&mut cache, "a", 1_000 + 10 * MINUTE), Decision::Refresh(_)));

        let mut strict = JwksCache::new(Config { ttl_ms: 10 * MINUTE, max_stale_ms: 0, ..Config::default() });
        warm(&mut strict, KEYS_A, 1_000);
        fetch_id(decide(&mut strict, "a", 1_000 + 10 * MINUTE));
    }

    #[test]
    fn the_default_ttl_is_five_minutes() {
        let mut cache = JwksCache::new(Config::default());
        warm(&mut cache, KEYS_A, 0);
        assert_found(decide(&mut cache, "a", 5 * MINUTE - 1), "");
        assert!(matches!(decide(&mut cache, "a", 5 * MINUTE), Decision::Refresh(_)));
    }

    #[test]
    fn sets_are_cached_per_uri() {
        let mut cache = JwksCache::new(Config::default());
        warm(&mut cache, KEYS_A, 0);
        let other = cache.decide(Input::Given("https://other.example/jwks"), Input::Given("a"), 1).unwrap();
        fetch_id(other);
        assert_found(decide(&mut cache, "a", 2), "");
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
        assert_found(decide(&mut cache, "b", 30), "");
    }

    #[test]
    fn an_unknown_kid_in_a_fresh_set_fetches_again_and_finds_the_rotated_key() {
        let mut cache = JwksCache::new(Config::default());
        warm(&mut cache, KEYS_A, 0);
        let flight = fetch_id(decide(&mut cache, "b", 1_000));
        let fetched = cache.finish(URI, flight, ok(KEYS_AB), 1_100).unwrap();
        assert!(matches!(fetched.keys.lookup("b"), KeyLookup::Found(_)));
        assert_eq!(fetched.fresh_until, 1_100 + DEFAULT_TTL_MS, "the refetch restarts the TTL");
        assert_found(decide(&mut cache, "b", 1_200), "");
    }

    /// A failed refresh of every kind.
    const FAILURES: [FetchOutcome<'static>; 5] = [
        FetchOutcome::Response { status: 500, body: b"oops" },
        FetchOutcome::Response { status: 404, body: br#"{"keys":[]}"# },
        FetchOutcome::Response { status: 200, body: b"<html>" },
        FetchOutcome::NetworkError("connection refused"),
        FetchOutcome::TimedOut,
    ];

    #[test]
    fn a_failed_refresh_keeps_the_cached_set() {
        for outcome in FAILURES {
            let mut cache = JwksCache::new(Config::default());
            warm(&mut cache, KEYS_A, 0);
            let flight = fetch_id(decide(&mut cache, "rotated", 10));
            cache.finish(URI, flight, outcome, 20).unwrap_err();
            assert_found(decide(&mut cache, "a", 30), &format!("after {outcome:?}"));
        }
    }

    #[test]
    fn a_failed_refresh_of_the_same_cache_again_and_again_keeps_the_set() {
        let mut cache = JwksCache::new(Config { ttl_ms: 60 * MINUTE, ..Config::default() });
        warm(&mut cache, KEYS_A, 0);
        for (at, outcome) in (1..).zip(FAILURES) {
            // A window of the refetch budget later each time.
            let now = at * MINUTE;
            let flight = fetch_id(decide(&mut cache, &format!("rotated-{at}"), now));
            cache.finish(URI, flight, outcome, now + 10).unwrap_err();
            assert_found(decide(&mut cache, "a", now + 20), &format!("after {outcome:?}"));
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
        for (at, (outcome, code, message)) in (0..).zip(cases) {
            // Past the backoff of the failure before.
            let now = at * MINUTE;
            let flight = fetch_id(decide(&mut cache, "a", now));
            let err = cache.finish(URI, flight, outcome, now).unwrap_err();
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
        let junk = cache.finish(URI, flight, ok(br#"{"keys":"none"}"#), 2).unwrap_err();
        assert_eq!(junk, CacheError::SetRefused("it has no \"keys\" array"), "a failed refresh, for the callers that waited on it");
        assert_found(decide(&mut cache, "a", 3), "");

        // The junk body counts as a failure: the next refetch waits for its backoff. An empty
        // `keys` array over a set that holds keys is junk too ("b" asked twice takes the
        // window's second refetch slot), and the one after it waits longer.
        assert_found(decide(&mut cache, "b", 4), "within the backoff of the junk body");
        let flight = fetch_id(decide(&mut cache, "b", 2 + FIRST_BACKOFF_MS));
        assert_eq!(cache.finish(URI, flight, ok(br#"{"keys":[]}"#), 2 + FIRST_BACKOFF_MS).unwrap_err().code(), "ERR_JWKS_SET_REFUSED");
        assert_found(decide(&mut cache, "a", 3 + FIRST_BACKOFF_MS), "the cached keys are kept");
        let (error, _, failures) = cache.status(URI, 3 + FIRST_BACKOFF_MS).unwrap().last_error.unwrap();
        assert_eq!(failures, 2);
        assert_eq!(error.to_string(), "JWKS response refused, the cached keys kept: its \"keys\" array is empty");
    }

    #[test]
    fn an_ambiguous_kid_is_an_error_and_not_a_reason_to_fetch() {
        let mut cache = JwksCache::new(Config::default());
        warm(&mut cache, br#"{"keys":[{"kid":"a","x":"1"},{"kid":"a","x":"2"},{"kid":"b"}]}"#, 0);
        let err = decide_err(&mut cache, Input::Given(URI), Input::Given("a"));
        assert_eq!(err, CacheError::AmbiguousKid("a".into()));
        assert_found(decide(&mut cache, "b", 1), "");
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
        for why in ["not well-formed Unicode", "not a URL"] {
            let err = decide_err(&mut cache, Input::Refused("http://a:b:c/", why), Input::Given("a"));
            let message = format!("JWKS URI invalid: {why}: \"http://a:b:c/\"");
            assert_eq!((err.code(), err.to_string()), ("ERR_JWKS_URI_INVALID", message));
            let err = decide_err(&mut cache, Input::Given(URI), Input::Refused("k\u{FFFD}", why));
            let message = format!("Token key id invalid: {why}: \"k\u{FFFD}\"");
            assert_eq!((err.code(), err.to_string()), ("ERR_KID_INVALID", message));
        }
        for uri in ["ftp://x/jwks", "file:///etc/passwd", "data:application/json,{}", "https://", "http:///x", "jwks.json", "https://a b/"] {
            assert_eq!(decide_err(&mut cache, Input::Given(uri), Input::Given("a")).code(), "ERR_JWKS_URI_INVALID", "{uri}");
        }
        assert_eq!(decide_err(&mut cache, Input::WrongType, Input::Given("a")).code(), "ERR_JWKS_URI_INVALID");
        assert_eq!(decide_err(&mut cache, Input::Given(URI), Input::WrongType).code(), "ERR_KID_INVALID");
        let long_uri = format!("https://h/{}", "p".repeat(MAX_URI_BYTES));
        assert_eq!(decide_err(&mut cache, Input::Given(&long_uri), Input::Given("a")).to_string(), "JWKS URI invalid: longer than 8192 bytes");
        assert_eq!(decide_err(&mut cache, Input::Oversized, Input::Given("a")).to_string(), "JWKS URI invalid: longer than 8192 bytes");
        assert!(cache.decide(Input::Given(&long_uri[..MAX_URI_BYTES]), Input::Given("a"), 0).is_ok());
        assert_eq!(decide_err(&mut cache, Input::Given(URI), Input::Oversized).to_string(), "Token key id invalid: longer than 1024 bytes");
        let long_kid = "k".repeat(MAX_KID_BYTES + 1);
        assert_eq!(decide_err(&mut cache, Input::Given(URI), Input::Given(&long_kid)).code(), "ERR_KID_INVALID");
        assert!(cache.decide(Input::Given("HTTP://127.0.0.1:8080/jwks"), Input::Given(&long_kid[1..]), 0).is_ok());
        assert_eq!(cache.len(), 0, "a refused call leaves nothing behind");
    }

    #[test]
    fn b4_plain_http_only_for_this_machines_loopback_unless_allowed() {
        for uri in ["http://127.0.0.1:8080/jwks", "http://127.1.2.3/jwks", "http://localhost/jwks", "HTTP://LOCALHOST:3000/x", "http://[::1]:9/jwks", "http://u@127.0.0.1/x"] {
            assert_eq!(checked_uri(Input::Given(uri), false), Ok(uri), "{uri}");
        }
        for uri in [
            "http://issuer.example/jwks",
            "http://127.0.0.1.evil.example/jwks",
            "http://127.evil.example/jwks",
            "http://localhost.evil.example/x",
            "http://127.1/jwks",
            "http://0x7f.0.0.1/jwks",
            "http://127.0.0.1@evil.example/jwks",
            "http://[::2]/jwks",
            "http://169.254.169.254/latest/meta-data/",
            "http://10.0.0.1/jwks",
        ] {
            let error = checked_uri(Input::Given(uri), false).unwrap_err();
            assert!(error.to_string().contains("plain http: is refused"), "{uri}: {error}");
            assert_eq!(checked_uri(Input::Given(uri), true), Ok(uri), "allowInsecureHttp: {uri}");
        }
        assert_eq!(checked_uri(Input::Given("https://issuer.example/jwks"), false), Ok("https://issuer.example/jwks"));
    }

    #[test]
    fn b5_a_redirect_is_an_error_never_followed() {
        let mut cache = JwksCache::new(Config::default());
        for (at, status) in (0..).zip([301, 302, 303, 307, 308, 300, 399]) {
            let now = at * MINUTE;
            let Decision::Fetch(flight) = decide(&mut cache, "a", now) else { panic!("fetch") };
            let error = cache.finish(URI, flight, FetchOutcome::Response { status, body: b"{}" }, now).unwrap_err();
            assert_eq!((error.code(), error.status()), ("ERR_JWKS_REDIRECT", Some(status)));
        }
        let Decision::Fetch(flight) = decide(&mut cache, "a", 60 * MINUTE) else { panic!("fetch") };
        let hidden = cache.finish(URI, flight, FetchOutcome::Redirected, 60 * MINUTE).unwrap_err();
        assert_eq!((hidden.code(), hidden.status()), ("ERR_JWKS_REDIRECT", None));
    }

    #[test]
    fn options_are_checked() {
        let ttl = |ttl_ms| Config::from_options(Options { ttl_ms, ..Options::default() });
        let timeout = |timeout_ms| Config::from_options(Options { timeout_ms, ..Options::default() });
        assert_eq!(Config::from_options(Options::default()), Ok(Config::default()));
        let set = Config::from_options(Options {
            ttl_ms: Input::Given(600_000.0),
            timeout_ms: Input::Given(250.0),
            max_response_bytes: Input::Given(4096.0),
            max_keys: Input::Given(5.0),
            max_verified_tokens: Input::Given(0.0),
            allow_insecure_http: Input::Given(true),
            max_stale_ms: Input::Given(0.0),
            refetch_cooldown_ms: Input::Given(5_000.0),
            max_entries: Input::Given(7.0),
            max_retries: Input::Given(0.0),
        });
        let expected = Config {
            ttl_ms: 600_000,
            ttl_given: true,
            fetch_timeout_ms: 250,
            max_response_bytes: 4096,
            max_keys: 5,
            max_verified_tokens: 0,
            allow_insecure_http: true,
            max_stale_ms: 0,
            refetch_cooldown_ms: 5_000,
            max_entries: 7,
            max_retries: 0,
        };
        assert_eq!(set, Ok(expected));
        let http = Config::from_options(Options { allow_insecure_http: Input::WrongType, ..Options::default() });
        assert_eq!(http.unwrap_err().code(), "ERR_INVALID_OPTION");
        let tokens = |n| Config::from_options(Options { max_verified_tokens: Input::Given(n), ..Options::default() });
        assert_eq!(tokens(-1.0).unwrap_err().code(), "ERR_INVALID_OPTION");
        assert_eq!(tokens((MAX_MAX_VERIFIED_TOKENS + 1) as f64).unwrap_err().code(), "ERR_INVALID_OPTION");
        assert_eq!(ttl(Input::Given(0.0)).unwrap().ttl_ms, 0);
        for bad in [-1.0, 1.5, f64::NAN, f64::INFINITY, (MAX_TTL_MS + 1) as f64] {
            let err = ttl(Input::Given(bad)).unwrap_err();
            assert_eq!(err.code(), "ERR_INVALID_OPTION");
            assert!(err.to_string().contains("ttlMs"), "{err}");
        }
        assert!(ttl(Input::WrongType).is_err());
        assert!(timeout(Input::Given(0.0)).is_err());
        assert!(timeout(Input::Given((MAX_FETCH_TIMEOUT_MS + 1) as f64)).is_err());
        for (max_response_bytes, max_keys) in [(0.0, 1.0), ((MAX_MAX_RESPONSE_BYTES + 1) as f64, 1.0), (1.0, 0.0), (1.0, 1_001.0)] {
            let options = Options { max_response_bytes: Input::Given(max_response_bytes), max_keys: Input::Given(max_keys), ..Options::default() };
            assert_eq!(Config::from_options(options).unwrap_err().code(), "ERR_INVALID_OPTION");
        }
    }

    #[test]
    fn the_clock_must_give_a_time() {
        assert_eq!(checked_clock(Input::Given(1_700_000_000_123.9)), Ok(1_700_000_000_123));
        assert_eq!(checked_clock(Input::Given(0.0)), Ok(0));
        assert_eq!(checked_clock(Input::Given(MAX_CLOCK_MS)), Ok(8_640_000_000_000_000));
        for bad in [f64::NAN, -1.0, -0.5, f64::INFINITY, f64::NEG_INFINITY, 1e20, MAX_CLOCK_MS + 1.0] {
            let err = checked_clock(Input::Given(bad)).unwrap_err();
            assert_eq!(err.code(), "ERR_CLOCK_INVALID", "{bad}");
        }
        let message = |n| checked_clock(Input::Given(n)).unwrap_err().to_string();
        assert_eq!(message(f64::NAN), "Clock invalid: now() returned NaN, not a time in milliseconds from 0 to 8.64e15");
        assert!(message(-1.0).contains("returned -1,"));
        assert!(message(-0.5).contains("returned 0.x,"));
        assert!(message(1e20).contains("returned a number above 1e18,"));
        assert_eq!(checked_clock(Input::WrongType).unwrap_err().code(), "ERR_CLOCK_INVALID");
        assert_eq!(checked_clock(Input::Absent).unwrap_err().code(), "ERR_CLOCK_INVALID");
    }

    #[test]
    fn a_clock_stepped_back_makes_the_set_stale_rather_than_fresh_for_longer() {
        let mut cache = JwksCache::new(Config::default());
        let day = 24 * 60 * MINUTE;
        warm(&mut cache, KEYS_A, 30 * day);
        assert_found(decide(&mut cache, "a", 30 * day + 1), "");
        fetch_id(decide(&mut cache, "a", 30 * day - 1));
    }

    #[test]
    fn a_clock_stepped_back_during_a_fetch_does_not_keep_callers_waiting_on_it() {
        let mut cache = JwksCache::new(Config::default());
        let day = 24 * 60 * MINUTE;
        let first = fetch_id(decide(&mut cache, "a", 30 * day));
        assert!(matches!(decide(&mut cache, "a", 30 * day + 1), Decision::Join { .. }));
        let second = fetch_id(decide(&mut cache, "a", 1));
        assert_ne!(first, second);
        assert!(cache.finish(URI, second, ok(KEYS_A), 2).unwrap().stored);
    }

    #[test]
    fn the_latest_clock_reading_does_not_overflow() {
        let mut cache = JwksCache::new(Config { ttl_ms: MAX_TTL_MS, ..Config::default() });
        let end = checked_clock(Input::Given(MAX_CLOCK_MS)).unwrap();
        let flight = fetch_id(decide(&mut cache, "a", end));
        assert!(matches!(decide(&mut cache, "a", end), Decision::Join { .. }), "single flight holds");
        let fetched = cache.finish(URI, flight, ok(KEYS_A), end).unwrap();
        assert_eq!(fetched.fresh_until, end + MAX_TTL_MS);
        assert_found(decide(&mut cache, "a", end), "");
    }

    #[test]
    fn responses_past_the_bounds_are_refused_and_keep_the_cached_set() {
        let mut cache = JwksCache::new(Config { max_response_bytes: 64, max_keys: 2, ttl_ms: 60 * MINUTE, ..Config::default() });
        warm(&mut cache, KEYS_A, 0);
        let three = br#"{"keys":[{"kid":"x"},{"kid":"y"},{"kid":"z"}]}"#;
        let big = format!(r#"{{"keys":[],"pad":"{}"}}"#, "p".repeat(64));
        let cases: [(FetchOutcome, &str); 3] = [
            (FetchOutcome::TooLarge, "ERR_JWKS_RESPONSE_TOO_LARGE"),
            (ok(big.as_bytes()), "ERR_JWKS_RESPONSE_TOO_LARGE"),
            (ok(three), "ERR_JWKS_TOO_MANY_KEYS"),
        ];
        for (at, (outcome, code)) in (1..).zip(cases) {
            let now = at * MINUTE;
            let flight = fetch_id(decide(&mut cache, "b", now));
            assert_eq!(cache.finish(URI, flight, outcome, now + 1).unwrap_err().code(), code);
            assert_found(decide(&mut cache, "a", now + 2), "");
        }
    }

    #[test]
    fn statuses_outside_http_are_errors_not_truncated_to_a_success() {
        let mut cache = JwksCache::new(Config::default());
        for (at, status) in (0..).zip([0, 99, 600, 65_736, u32::MAX]) {
            let now = at * MINUTE;
            let flight = fetch_id(decide(&mut cache, "a", now));
            let err = cache.finish(URI, flight, FetchOutcome::Response { status, body: KEYS_A }, now).unwrap_err();
            assert_eq!((err.code(), err.status()), ("ERR_JWKS_HTTP_STATUS", Some(status)));
        }
    }

    #[test]
    fn uris_whose_fetches_failed_are_remembered_only_up_to_a_bound() {
        let mut cache = JwksCache::new(Config::default());
        for n in 0..DEFAULT_MAX_ENTRIES + 500 {
            let uri = format!("https://issuer.example/{n}");
            let flight = fetch_id(cache.decide(Input::Given(&uri), Input::Given("a"), 0).unwrap());
            cache.finish(&uri, flight, FetchOutcome::Response { status: 500, body: b"" }, 1).unwrap_err();
        }
        assert_eq!(cache.entries.len() as u64, DEFAULT_MAX_ENTRIES, "each remembered while it backs off, up to maxEntries");
        assert_eq!(cache.take_evicted().len(), 500);
        // A remembered failure answers at once while it backs off, then lets a fetch through.
        let first = "https://issuer.example/599";
        let again = cache.decide(Input::Given(first), Input::Given("a"), 500).unwrap_err();
        assert_eq!(again.code(), "ERR_JWKS_HTTP_STATUS");
        fetch_id(cache.decide(Input::Given(first), Input::Given("a"), 1 + FIRST_BACKOFF_MS).unwrap());
        cache.clear();
        // An abandoned fetch leaves nothing.
        let flight = fetch_id(decide(&mut cache, "a", 0));
        assert!(cache.abandon(URI, flight));
        assert!(!cache.abandon(URI, flight), "only once");
        assert_eq!(cache.entries.len(), 0);
        // A URI with a cached set stays when its refresh fails.
        warm(&mut cache, KEYS_A, 0);
        let flight = fetch_id(decide(&mut cache, "b", 1));
        cache.finish(URI, flight, FetchOutcome::TimedOut, 2).unwrap_err();
        assert_found(decide(&mut cache, "a", 3), "kept");
    }

    #[test]
    fn an_abandoned_fetch_lets_its_waiters_fetch_at_once() {
        let mut cache = JwksCache::new(Config::default());
        let flight = fetch_id(decide(&mut cache, "a", 0));
        assert!(matches!(decide(&mut cache, "a", 1), Decision::Join { .. }));
        cache.abandon(URI, flight);
        assert_ne!(fetch_id(decide(&mut cache, "a", 2)), flight);
    }

    #[test]
    fn uri_messages_never_quote_credentials() {
        let mut cache = JwksCache::new(Config::default());
        for uri in ["ftp://admin:s3cret@host/jwks", "https://admin:s3cret@host /jwks"] {
            let message = decide_err(&mut cache, Input::Given(uri), Input::Given("a")).to_string();
            assert!(!message.contains("s3cret") && message.contains("***@"), "{message}");
        }
        let message = decide_err(&mut cache, Input::Refused("https://u:p@h/x", "has credentials"), Input::Given("a")).to_string();
        assert_eq!(message, "JWKS URI invalid: has credentials: \"https://***@h/x\"");
        assert_eq!(redacted("https://h/a@b"), "https://h/a@b", "an @ in the path is not user information");
    }

    fn refresh_id(decision: Decision) -> FlightId {
        match decision {
            Decision::Refresh(id) => id,
            other => panic!("expected a background refresh, got {other:?}"),
        }
    }

    #[test]
    fn c3_a_stale_set_answers_at_once_while_one_refresh_runs_in_the_background() {
        let mut cache = JwksCache::new(Config { ttl_ms: MINUTE, ..Config::default() });
        warm(&mut cache, KEYS_A, 0);
        let refresh = refresh_id(decide(&mut cache, "a", MINUTE));
        for now in [MINUTE + 1, MINUTE + 500] {
            assert_found(decide(&mut cache, "a", now), "answered while the refresh runs, and no second refresh");
        }
        let fetched = cache.finish(URI, refresh, ok(KEYS_AB), MINUTE + 600).unwrap();
        assert!(fetched.stored);
        assert_found(decide(&mut cache, "b", MINUTE + 601), "the refreshed set is fresh");
    }

    #[test]
    fn c3_stale_if_error_serves_the_last_good_set_with_spaced_refreshes_then_fails_closed() {
        let config = Config { ttl_ms: MINUTE, max_stale_ms: 60 * MINUTE, ..Config::default() };
        let mut cache = JwksCache::new(config);
        warm(&mut cache, KEYS_A, 0);
        let mut refreshes = Vec::new();
        // Ten minutes of outage, a lookup every 100 ms: answered every time, refreshes spaced out.
        for now in (MINUTE..11 * MINUTE).step_by(100) {
            match decide(&mut cache, "a", now) {
                Decision::Found => {}
                Decision::Refresh(flight) => {
                    refreshes.push(now);
                    cache.finish(URI, flight, FetchOutcome::Response { status: 500, body: b"" }, now).unwrap_err();
                }
                other => panic!("{other:?} at {now}"),
            }
        }
        let gaps: Vec<u64> = refreshes.windows(2).map(|pair| pair[1] - pair[0]).collect();
        assert_eq!(&gaps[..6], [1_000, 2_000, 4_000, 8_000, 16_000, 30_000], "doubling waits");
        assert!(gaps[6..].iter().all(|&gap| gap == 30_000), "then one every cooldown window: {gaps:?}");
        // At 0, 1, 3, 7, 15, 31, 61 s, then every 30 s up to 571 s: 24 requests in ten minutes
        // instead of 6000.
        assert_eq!(refreshes.len(), 24);
        // Past maxStaleMs the set is not served: the lookup waits on a fetch, and fails closed.
        let past = MINUTE + 60 * MINUTE;
        let flight = match decide(&mut cache, "a", past) {
            Decision::Fetch(flight) => flight,
            other => panic!("expected a fetch past maxStaleMs, got {other:?}"),
        };
        assert_eq!(cache.finish(URI, flight, FetchOutcome::TimedOut, past).unwrap_err().code(), "ERR_JWKS_TIMEOUT");
        let failing_fast = cache.decide(Input::Given(URI), Input::Given("a"), past + 1).unwrap_err();
        assert_eq!(failing_fast.code(), "ERR_JWKS_TIMEOUT", "until the backoff ends, without asking the issuer");
    }

    #[test]
    fn c2_a_failing_issuer_is_asked_once_per_backoff_not_on_every_call() {
        let mut cache = JwksCache::new(Config::default());
        let flight = fetch_id(decide(&mut cache, "a", 0));
        cache.finish(URI, flight, FetchOutcome::NetworkError("ECONNREFUSED"), 0).unwrap_err();
        for now in 1..FIRST_BACKOFF_MS {
            assert_eq!(cache.decide(Input::Given(URI), Input::Given("a"), now).unwrap_err().code(), "ERR_JWKS_NETWORK");
        }
        fetch_id(decide(&mut cache, "a", FIRST_BACKOFF_MS));
    }

    #[test]
    fn c2_a_flood_of_unknown_kids_costs_at_most_two_fetches_per_window_and_rotations_still_come_through() {
        let mut cache = JwksCache::new(Config { ttl_ms: 60 * MINUTE, ..Config::default() });
        warm(&mut cache, KEYS_A, 0);
        let mut fetches = 0;
        for i in 0..1000 {
            match decide(&mut cache, &format!("junk-{i}"), 1 + i) {
                Decision::Found => {}
                Decision::Fetch(flight) => {
                    fetches += 1;
                    cache.finish(URI, flight, ok(KEYS_A), 1 + i).unwrap();
                }
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(fetches, 1, "random kids never come back: one fetch for the whole flood");
        // The issuer rotates right after: the first token naming the new key is answered from the
        // set (the window's first slot is spent), the second one fetches it.
        assert_found(decide(&mut cache, "b", 2_000), "first sighting of the new kid");
        let flight = fetch_id(decide(&mut cache, "b", 2_001));
        assert!(cache.finish(URI, flight, ok(KEYS_AB), 2_002).unwrap().stored);
        assert_found(decide(&mut cache, "b", 2_003), "picked up");

        // Without a flood, two rotations in quick succession are each picked up at once: a
        // refetch that brings its kid gives its slot back.
        let mut quiet = JwksCache::new(Config { ttl_ms: 60 * MINUTE, ..Config::default() });
        warm(&mut quiet, KEYS_A, 0);
        let flight = fetch_id(decide(&mut quiet, "b", 1_000));
        quiet.finish(URI, flight, ok(KEYS_AB), 1_000).unwrap();
        let flight = fetch_id(decide(&mut quiet, "c", 2_000));
        quiet.finish(URI, flight, ok(br#"{"keys":[{"kty":"EC","kid":"c","x":"3"}]}"#), 2_000).unwrap();
        assert_found(decide(&mut quiet, "c", 2_001), "the second rotation");
    }

    #[test]
    fn max_entries_forgets_the_least_recently_looked_up_uri_and_tells_the_host() {
        let mut cache = JwksCache::new(Config { max_entries: 3, ..Config::default() });
        let uri = |n: u32| format!("https://issuer.example/{n}");
        for n in 0..3 {
            let flight = fetch_id(cache.decide(Input::Given(&uri(n)), Input::Given("a"), 0).unwrap());
            cache.finish(&uri(n), flight, ok(KEYS_A), 0).unwrap();
        }
        // 0 is looked up again: 1 is now the least recently used.
        assert_found(cache.decide(Input::Given(&uri(0)), Input::Given("a"), 1).unwrap(), "");
        let flight = fetch_id(cache.decide(Input::Given(&uri(3)), Input::Given("a"), 2).unwrap());
        cache.finish(&uri(3), flight, ok(KEYS_A), 2).unwrap();
        assert_eq!(cache.take_evicted(), [uri(1)]);
        assert!(cache.take_evicted().is_empty(), "told once");
        assert_eq!(cache.len(), 3);
        fetch_id(cache.decide(Input::Given(&uri(1)), Input::Given("a"), 3).unwrap());
        assert_eq!(cache.take_evicted(), [uri(2)]);
        // 100,000 made-up URIs leave the cache at its bound.
        for n in 10..100_010 {
            let _ = cache.decide(Input::Given(&uri(n)), Input::Given("a"), 4);
        }
        assert_eq!(cache.entries.len(), 3);
    }

    #[test]
    fn retries_what_may_pass_within_the_timeout_with_doubling_jittered_waits() {
        let mut cache = JwksCache::new(Config { fetch_timeout_ms: 5_000, max_retries: 3, ..Config::default() });
        let flight = fetch_id(decide(&mut cache, "a", 0));
        let unavailable = RetryCause::Status(503, None);
        assert_eq!(cache.retry(URI, flight, unavailable, 0.0, 10), Some((50, 4_940)));
        assert_eq!(cache.retry(URI, flight, RetryCause::Network, 1.0, 100), Some((200, 4_700)));
        assert_eq!(cache.retry(URI, flight, unavailable, 0.5, 400), Some((300, 4_300)));
        assert_eq!(cache.retry(URI, flight, unavailable, 0.5, 800), None, "maxRetries");

        let flight = fetch_id(decide(&mut cache, "a", 60_000));
        for status in [400, 401, 403, 404, 410, 301, 200] {
            assert_eq!(cache.retry(URI, flight, RetryCause::Status(status, None), 0.5, 60_000), None, "{status}");
        }
        assert_eq!(cache.retry(URI, flight, RetryCause::Status(429, Some("2")), 0.5, 60_000), Some((2_000, 3_000)), "Retry-After");
        assert_eq!(cache.retry(URI, flight, RetryCause::Status(503, Some("5")), 0.5, 60_000), None, "Retry-After past the budget");
        assert_eq!(cache.retry(URI, flight, RetryCause::Status(503, Some("Wed, 21 Oct 2026 07:28:00 GMT")), 0.5, 60_000), None);
        assert_eq!(cache.retry(URI, flight, RetryCause::Network, 0.5, 64_900), None, "no room left for an attempt");
        assert_eq!(cache.retry(URI, 999, RetryCause::Network, 0.5, 60_000), None, "not the current fetch");
    }

    #[test]
    fn max_age_is_the_ttl_unless_ttl_ms_was_given_clamped_to_a_minute_and_a_day() {
        for (header, ttl) in [
            ("public, max-age=600", 10 * MINUTE),
            ("max-age=5", MINUTE),
            ("max-age=31536000", 24 * 60 * MINUTE),
            ("no-store", MINUTE),
            ("no-cache, max-age=600", MINUTE),
            ("private", DEFAULT_TTL_MS),
            ("max-age=soon", DEFAULT_TTL_MS),
            ("MAX-AGE = 120", 2 * MINUTE),
        ] {
            let mut cache = JwksCache::new(Config::default());
            let flight = fetch_id(decide(&mut cache, "a", 0));
            let fetched = cache.finish_with(URI, flight, ok(KEYS_A), Some(header), 0).unwrap();
            assert_eq!(fetched.fresh_until, ttl, "{header}");
        }
        let mut given = JwksCache::new(Config::from_options(Options { ttl_ms: Input::Given(1_000.0), ..Options::default() }).unwrap());
        let flight = fetch_id(decide(&mut given, "a", 0));
        assert_eq!(given.finish_with(URI, flight, ok(KEYS_A), Some("max-age=600"), 0).unwrap().fresh_until, 1_000, "ttlMs rules");
    }

    #[test]
    fn force_refresh_invalidate_and_status() {
        let mut cache = JwksCache::new(Config { ttl_ms: MINUTE, max_stale_ms: MINUTE, ..Config::default() });
        assert_eq!(cache.status(URI, 0), None);
        warm(&mut cache, KEYS_AB, 0);
        let status = cache.status(URI, 1).unwrap();
        assert_eq!(status.set, Some(SetStatus { fetched_at: 0, fresh_until: MINUTE, usable_until: 2 * MINUTE, fresh: true, usable: true, kids: 2 }));
        assert!(!status.fetching && status.last_error.is_none());
        assert_eq!((status.next_refresh_at, status.cooling_down_until), (Some(MINUTE), None));

        // A forced refresh fetches though the set is fresh, and shares a running fetch.
        let flight = fetch_id(cache.decide_refresh(Input::Given(URI), 10, 10).unwrap());
        assert!(matches!(cache.decide_refresh(Input::Given(URI), 11, 11).unwrap(), Decision::Join { .. }));
        assert!(cache.status(URI, 12).unwrap().fetching);
        cache.finish(URI, flight, FetchOutcome::Response { status: 500, body: b"" }, 20).unwrap_err();
        let failed = cache.status(URI, 21).unwrap();
        assert_eq!(failed.last_error.as_ref().map(|(error, retry_at, failures)| (error.code(), *retry_at, *failures)), Some(("ERR_JWKS_HTTP_STATUS", 20 + FIRST_BACKOFF_MS, 1)));
        assert!(failed.set.is_some(), "the set stays");
        assert_eq!(failed.next_refresh_at, Some(20 + FIRST_BACKOFF_MS));
        // While that failure backs off, a forced refresh gets its error without a fetch.
        assert_eq!(cache.decide_refresh(Input::Given(URI), 30, 30).unwrap_err().code(), "ERR_JWKS_HTTP_STATUS");
        fetch_id(cache.decide_refresh(Input::Given(URI), 20 + FIRST_BACKOFF_MS, 20 + FIRST_BACKOFF_MS).unwrap());

        // Forgotten: the set goes, the failure's backoff stays (an invalidation, which another
        // instance may send at will, does not make the cache ask a failing issuer at once).
        assert!(cache.forget(URI));
        let forgotten = cache.status(URI, 0).unwrap();
        assert!(forgotten.set.is_none() && forgotten.last_error.is_some());
        assert!(!cache.forget(URI), "no set left to forget");
        fetch_id(decide(&mut cache, "a", 20 + 2 * FIRST_BACKOFF_MS));
        assert_eq!(cache.decide_refresh(Input::Given("ftp://x"), 0, 0).unwrap_err().code(), "ERR_JWKS_URI_INVALID");
    }

    #[test]
    fn an_allow_list_of_uri_prefixes_refuses_every_other_uri_before_any_fetch() {
        let mut cache = JwksCache::new(Config::default());
        let list = |prefixes: &[&'static str]| Input::Given(prefixes.iter().map(|&p| Input::Given(p)).collect::<Vec<_>>());
        cache.allow_only(&list(&["https://issuer.example/", "https://other.example/tenant-1/jwks.json"])).unwrap();
        fetch_id(decide(&mut cache, "a", 0));
        for uri in ["https://issuer.example.evil/jwks", "https://evil.example/https://issuer.example/", "https://other.example/tenant-2/jwks.json"] {
            let error = cache.decide(Input::Given(uri), Input::Given("a"), 0).unwrap_err();
            assert!(error.to_string().contains("not in allowedJwksUris"), "{uri}: {error}");
        }
        fetch_id(cache.decide(Input::Given("https://other.example/tenant-1/jwks.json"), Input::Given("a"), 0).unwrap());
        for bad in [list(&[]), list(&["https://issuer.example"]), list(&["ftp://x/"]), Input::WrongType, Input::Given(vec![Input::WrongType])] {
            assert_eq!(JwksCache::new(Config::default()).allow_only(&bad).unwrap_err().code(), "ERR_INVALID_OPTION");
        }
    }

    #[test]
    fn a_zero_ttl_fetches_on_every_lookup() {
        let mut cache = JwksCache::new(Config { ttl_ms: 0, ..Config::default() });
        warm(&mut cache, KEYS_A, 0);
        // Never fresh: every lookup refreshes it in the background (one at a time).
        assert!(matches!(decide(&mut cache, "a", 0), Decision::Refresh(_)));
        let mut strict = JwksCache::new(Config { ttl_ms: 0, max_stale_ms: 0, ..Config::default() });
        warm(&mut strict, KEYS_A, 0);
        fetch_id(decide(&mut strict, "a", 0));
    }

    fn stored(body: &[u8], fetched_at: Millis) -> StoredSet<'_> {
        StoredSet { body, cache_control: None, fetched_at, not_before: 0 }
    }

    #[test]
    fn a_set_stored_before_the_uri_was_invalidated_is_not_adopted() {
        let mut cache = JwksCache::new(Config { ttl_ms: 10 * MINUTE, ..Config::default() });
        let flight = fetch_id(decide(&mut cache, "a", 5 * MINUTE));
        let before = StoredSet { not_before: 4 * MINUTE, ..stored(KEYS_A, 4 * MINUTE - 1) };
        assert!(cache.adopt(URI, flight, before, 5 * MINUTE).unwrap().is_none());
        assert!(cache.adopt(URI, flight, StoredSet { fetched_at: 4 * MINUTE, ..before }, 5 * MINUTE).unwrap().is_some());
    }

    #[test]
    fn a_stored_set_answers_a_cold_fetch_with_its_own_fetch_time() {
        let mut cache = JwksCache::new(Config { ttl_ms: 10 * MINUTE, ..Config::default() });
        let flight = fetch_id(decide(&mut cache, "a", 5 * MINUTE));
        let read = cache.adopt(URI, flight, stored(KEYS_A, 2 * MINUTE), 5 * MINUTE).unwrap().expect("fresh: adopted");
        assert_eq!((read.fetched_at, read.fresh_until), (2 * MINUTE, 12 * MINUTE), "fresh by this instance's TTL, from its fetch time");
        assert_found(decide(&mut cache, "a", 11 * MINUTE), "cached");
        assert!(!cache.status(URI, 11 * MINUTE).unwrap().fetching, "the fetch ended");
    }

    #[test]
    fn a_stored_set_that_does_not_fit_leaves_the_fetch_to_the_issuer() {
        let mut cache = JwksCache::new(Config { ttl_ms: 10 * MINUTE, ..Config::default() });
        // Too old for this instance's TTL; or stamped far in the future.
        let flight = fetch_id(decide(&mut cache, "a", 20 * MINUTE));
        assert!(cache.adopt(URI, flight, stored(KEYS_A, 5 * MINUTE), 20 * MINUTE).unwrap().is_none());
        assert!(cache.adopt(URI, flight, stored(KEYS_A, 21 * MINUTE), 20 * MINUTE).unwrap().is_none());
        // A body the issuer's rules refuse is an error, and the fetch still runs.
        assert_eq!(cache.adopt(URI, flight, stored(b"{", 19 * MINUTE), 20 * MINUTE).unwrap_err().code(), "ERR_JWKS_INVALID_JSON");
        assert!(cache.status(URI, 20 * MINUTE).unwrap().fetching);
        cache.finish(URI, flight, ok(KEYS_A), 20 * MINUTE).unwrap();

        // A refetch for a missing kid: an older stored set without it is not the answer.
        let flight = fetch_id(decide(&mut cache, "b", 21 * MINUTE));
        assert!(cache.adopt(URI, flight, stored(KEYS_A, 20 * MINUTE + 1), 21 * MINUTE).unwrap().is_none());
        // With it, it is (the keys rotated, and another instance saw it first).
        assert!(cache.adopt(URI, flight, stored(KEYS_AB, 20 * MINUTE + 1), 21 * MINUTE).unwrap().unwrap().stored);
        assert_found(decide(&mut cache, "b", 21 * MINUTE), "adopted");
    }

    #[test]
    fn a_cold_lookup_adopts_only_a_stored_set_with_its_kid() {
        let mut cache = JwksCache::new(Config { ttl_ms: 10 * MINUTE, ..Config::default() });
        let flight = fetch_id(decide(&mut cache, "b", 5 * MINUTE));
        assert!(cache.adopt(URI, flight, stored(KEYS_A, 5 * MINUTE), 5 * MINUTE).unwrap().is_none(), "no b: the issuer is asked");
        assert!(cache.adopt(URI, flight, stored(KEYS_AB, 4 * MINUTE), 5 * MINUTE).unwrap().is_some());
    }

    #[test]
    fn a_forced_refresh_adopts_only_a_set_fetched_after_it_started() {
        let mut cache = JwksCache::new(Config { ttl_ms: 10 * MINUTE, ..Config::default() });
        warm(&mut cache, KEYS_A, 0);
        let flight = fetch_id(cache.decide_refresh(Input::Given(URI), MINUTE, MINUTE).unwrap());
        assert!(cache.adopt(URI, flight, stored(KEYS_AB, MINUTE - 1), MINUTE).unwrap().is_none(), "stored before: the issuer is asked");
        let read = cache.adopt(URI, flight, stored(KEYS_AB, MINUTE + 10), MINUTE + 20).unwrap().unwrap();
        assert_eq!(read.fetched_at, MINUTE + 10, "another instance's fetch, made while this one waited");
    }

    #[test]
    fn a_stored_empty_set_never_replaces_cached_keys() {
        let mut cache = JwksCache::new(Config { ttl_ms: MINUTE, ..Config::default() });
        warm(&mut cache, KEYS_A, 0);
        let Decision::Refresh(flight) = decide(&mut cache, "a", MINUTE) else { panic!("stale: refresh") };
        assert!(cache.adopt(URI, flight, stored(br#"{"keys":[]}"#, MINUTE + 1), MINUTE + 2).unwrap().is_none());
    }
}
