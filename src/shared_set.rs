//! When a set read from a shared store (Redis, Workers KV: written there by any instance, this
//! one included) may answer a fetch instead of the issuer, sans-IO (the clock is passed in).
//!
//! The host asks the store first whenever the cache asks it to fetch a set, and hands what it
//! found to [`crate::cache::JwksCache::adopt`]; the document is read with the same rules as a
//! response from the issuer. It answers the fetch when either:
//! - it was fetched after this fetch started: another instance did this fetch for us (the cold
//!   start of many instances, one of them holding the store's lock); or
//! - the fetch is a refresh that wants a set fetched since a given time (`forceRefresh`: since it
//!   started, so only the case above; the refresh timer: within half its interval, so that many
//!   instances on one timer fetch about once per interval between them), and the document is
//!   that recent and fresh by this instance's own TTL; or
//! - the fetch is a lookup's: the document is fresh by this instance's TTL, newer than the set
//!   cached here, and, for a refetch on a kid missing from the cached set, it has that kid (else
//!   the issuer is asked: the keys may have rotated since).
//!
//! A document stamped later than `now` by more than [`CLOCK_SKEW_MS`] (another instance's clock
//! ahead, or a forged entry) is not adopted; within that, it counts as fetched now. Nor is one
//! fetched before the URI was last invalidated ([`StoredSet::not_before`]).

use crate::cache::Millis;

/// How far another instance's clock may be ahead of this one's.
pub const CLOCK_SKEW_MS: u64 = 5_000;

/// A document read from the shared store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredSet<'a> {
    /// The JWKS response body as the issuer sent it.
    pub body: &'a [u8],
    /// The response's `Cache-Control` header, for this instance's TTL of it.
    pub cache_control: Option<&'a str>,
    /// When the instance that fetched it did, by its clock.
    pub fetched_at: Millis,
    /// A document fetched before then is not adopted: the URI was invalidated at that time (here
    /// or, as this instance heard, by another instance), and the store may still hold, or be
    /// handed again, the set that was dropped. 0: no such bound.
    pub not_before: Millis,
}

/// What the fetch the stored document would answer is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FetchFor {
    /// When the fetch started.
    pub started: Millis,
    /// A refresh (`forceRefresh`, the refresh timer): only a document fetched since then will do.
    pub wanted_since: Option<Millis>,
    /// A lookup's fetch (a cold one, or a refetch for a kid missing from the cached set): whether
    /// the document has that kid.
    pub missing_kid_found: Option<bool>,
}

/// When the document was fetched as this instance reads it, or None when it is too far ahead.
pub fn fetched_at(stamped: Millis, now: Millis) -> Option<Millis> {
    (stamped <= now.saturating_add(CLOCK_SKEW_MS)).then_some(stamped.min(now))
}

/// Whether a stored document fetched at `fetched_at` and fresh until `fresh_until` (by this
/// instance's TTL) answers the fetch `fetch`, given the set cached here (its fetch time).
pub fn adopts(fetch: FetchFor, fetched_at: Millis, fresh_until: Millis, cached_fetched_at: Option<Millis>, now: Millis) -> bool {
    // A lookup's fetch wants its kid: a set without it does not answer, however recent (another
    // instance's clock may be ahead, so "fetched after this fetch started" cannot be trusted to
    // mean the set is the issuer's current one).
    if fetch.missing_kid_found == Some(false) {
        return false;
    }
    if fetched_at >= fetch.started {
        return true;
    }
    let fresh = (fetched_at..fresh_until).contains(&now);
    if let Some(since) = fetch.wanted_since {
        return fresh && fetched_at >= since;
    }
    fresh
        && cached_fetched_at.is_none_or(|cached| fetched_at > cached)
        && fetch.missing_kid_found != Some(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    const COLD: FetchFor = FetchFor { started: 100_000, wanted_since: None, missing_kid_found: None };
    const FORCED: FetchFor = FetchFor { wanted_since: Some(100_000), ..COLD };

    #[test]
    fn a_document_fetched_after_the_fetch_started_always_answers_it() {
        for fetch in [COLD, FORCED, FetchFor { missing_kid_found: Some(true), ..COLD }] {
            assert!(adopts(fetch, 100_000, 100_001, Some(99_000), 100_500), "{fetch:?}");
        }
    }

    #[test]
    fn an_older_document_answers_a_lookup_when_fresh_and_newer_and_a_refresh_when_recent_enough() {
        assert!(adopts(COLD, 90_000, 150_000, None, 100_500), "cold, fresh");
        assert!(!adopts(COLD, 40_000, 100_000, None, 100_500), "no longer fresh");
        assert!(adopts(COLD, 90_000, 150_000, Some(80_000), 100_500), "newer than the cached set");
        assert!(!adopts(COLD, 90_000, 150_000, Some(90_000), 100_500), "the cached set itself");
        assert!(!adopts(FORCED, 90_000, 150_000, None, 100_500), "forced: the issuer");
        let timer = FetchFor { wanted_since: Some(70_000), ..COLD };
        assert!(adopts(timer, 90_000, 150_000, Some(90_000), 100_500), "the timer: recent enough, even the cached set itself");
        assert!(!adopts(timer, 60_000, 150_000, None, 100_500), "the timer: too old");
        assert!(!adopts(FetchFor { missing_kid_found: Some(false), ..COLD }, 90_000, 150_000, Some(80_000), 100_500));
        assert!(adopts(FetchFor { missing_kid_found: Some(true), ..COLD }, 90_000, 150_000, Some(80_000), 100_500));
    }

    #[test]
    fn a_document_without_the_kid_a_lookup_fetches_for_never_answers_it() {
        let lookup = FetchFor { missing_kid_found: Some(false), ..COLD };
        assert!(!adopts(lookup, 100_300, 200_000, Some(90_000), 100_100), "even stamped after the fetch began (a clock ahead)");
    }

    #[test]
    fn a_document_from_the_future_is_refused_beyond_the_skew() {
        assert_eq!(fetched_at(104_000, 100_000), Some(100_000));
        assert_eq!(fetched_at(99_000, 100_000), Some(99_000));
        assert_eq!(fetched_at(105_001, 100_000), None);
    }
}
