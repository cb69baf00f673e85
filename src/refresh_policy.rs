//! When a cached set may be fetched again, sans-IO (the clock is passed in): the rules that keep
//! an unreachable issuer from taking authentication down, and keep the cache from being turned
//! into a weapon against the issuer (ATTACKS.md C2, C3).
//!
//! - **Failure backoff**: after a fetch fails, the next one waits 1 s, then 2, 4... up to the
//!   cooldown window; a lookup that has no usable set meanwhile fails at once with the last error
//!   (a negative cache: a down issuer is not asked again on every call).
//! - **Refetch budget for unknown kids**: a kid missing from a usable set may refetch the set, at
//!   most once per cooldown window for any kid, plus once for a kid already seen missing in that
//!   window. A refetch that brings the kid it was for (a key rotation) gives its slot back. So:
//!   - a rotation is picked up by the first token that names the new key, however many rotations
//!     come in a row (each gives its slot back);
//!   - a flood of made-up kids costs the issuer at most 2 requests per window (one for the first
//!     kid; one more only if a kid comes back, which random kids do not);
//!   - a rotation that comes right after a flood spent the window's first slot is picked up by
//!     the second token that names the new key (the second slot is for a kid seen twice: real
//!     clients send the new kid again and again, a flood of fresh random kids does not); only a
//!     flood that repeats its kids spends both, and then the rotation waits for the next window.
//!
//! Inside the window, a miss answers from the cached set (no key) without waiting.

use crate::cache::Millis;
use std::collections::VecDeque;

/// The first wait after a failed fetch; it doubles with each failure in a row.
pub const FIRST_BACKOFF_MS: u64 = 1_000;
/// How many kids seen missing are remembered per URI within a window (each at most 1024 bytes).
pub const REMEMBERED_MISSES: usize = 64;

/// The last failures of the fetches of one URI, in a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backoff<E> {
    /// The error of the last failure, for the lookups that come before `retry_at`.
    pub error: E,
    pub failures: u32,
    pub failed_at: Millis,
    pub retry_at: Millis,
}

impl<E> Backoff<E> {
    /// After one more failure at `now`: wait 1 s, 2 s, 4 s... at most `longest_ms`.
    pub fn after(previous: Option<&Backoff<E>>, error: E, now: Millis, longest_ms: u64) -> Backoff<E> {
        let failures = previous.map_or(0, |backoff| backoff.failures).saturating_add(1);
        let wait = FIRST_BACKOFF_MS.saturating_mul(1 << (failures - 1).min(20)).min(longest_ms.max(FIRST_BACKOFF_MS));
        Backoff { error, failures, failed_at: now, retry_at: now.saturating_add(wait) }
    }

    /// Whether a fetch may start at `now`. A clock that went back before the failure counts as
    /// a new time: waiting for it to come back would wait for as long as the step.
    pub fn allows(&self, now: Millis) -> bool {
        now >= self.retry_at || now < self.failed_at
    }
}

/// Which slot of the window's budget a refetch for a missing kid took.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MissSlot {
    /// The window's one refetch for any kid.
    Any,
    /// The window's one refetch for a kid already seen missing in it.
    Repeated,
}

/// The refetch budget of one URI for kids missing from its set.
#[derive(Debug, Clone, Default)]
pub struct MissBudget {
    window_start: Millis,
    any_used: bool,
    repeated_used: bool,
    /// Kids seen missing in this window, newest last.
    seen: VecDeque<String>,
}

impl MissBudget {
    /// Whether a lookup of `kid`, missing from a usable set at `now`, may refetch the set: the
    /// slot it takes, or None (answer from the set).
    pub fn take(&mut self, kid: &str, now: Millis, window_ms: u64) -> Option<MissSlot> {
        if now < self.window_start || now >= self.window_start.saturating_add(window_ms) {
            *self = MissBudget { window_start: now, ..MissBudget::default() };
        }
        if !self.any_used {
            self.any_used = true;
            self.remember(kid);
            return Some(MissSlot::Any);
        }
        if !self.repeated_used && self.seen.iter().any(|seen| seen == kid) {
            self.repeated_used = true;
            return Some(MissSlot::Repeated);
        }
        self.remember(kid);
        None
    }

    /// Until when unknown kids are answered from the set without a refetch (both slots of the
    /// window spent), if they are at `now`.
    pub fn spent_until(&self, now: Millis, window_ms: u64) -> Option<Millis> {
        let end = self.window_start.saturating_add(window_ms);
        (self.any_used && self.repeated_used && (self.window_start..end).contains(&now)).then_some(end)
    }

    /// A refetch that brought the kid it was for (a rotation): its slot is free again.
    pub fn give_back(&mut self, slot: MissSlot) {
        match slot {
            MissSlot::Any => self.any_used = false,
            MissSlot::Repeated => self.repeated_used = false,
        }
    }

    fn remember(&mut self, kid: &str) {
        if self.seen.iter().any(|seen| seen == kid) {
            return;
        }
        if self.seen.len() == REMEMBERED_MISSES {
            self.seen.pop_front();
        }
        self.seen.push_back(kid.to_owned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WINDOW: u64 = 30_000;

    #[test]
    fn a_flood_of_fresh_kids_takes_one_slot_per_window() {
        let mut budget = MissBudget::default();
        assert_eq!(budget.take("junk-0", 1_000, WINDOW), Some(MissSlot::Any));
        for i in 1..1000 {
            assert_eq!(budget.take(&format!("junk-{i}"), 1_000 + i, WINDOW), None, "junk-{i}");
        }
        assert_eq!(budget.take("junk-1000", 31_000, WINDOW), Some(MissSlot::Any), "a new window");
    }

    #[test]
    fn a_kid_seen_twice_gets_the_second_slot_once_per_window() {
        let mut budget = MissBudget::default();
        assert_eq!(budget.take("junk", 0, WINDOW), Some(MissSlot::Any));
        assert_eq!(budget.take("new-key", 1, WINDOW), None, "first sighting after the flood: answered from the set");
        assert_eq!(budget.take("new-key", 2, WINDOW), Some(MissSlot::Repeated), "second sighting: refetch");
        assert_eq!(budget.take("new-key", 3, WINDOW), None, "both slots used");
        assert_eq!(budget.take("junk", 4, WINDOW), None);
    }

    #[test]
    fn a_refetch_that_found_its_kid_gives_its_slot_back() {
        let mut budget = MissBudget::default();
        assert_eq!(budget.take("rotated-1", 0, WINDOW), Some(MissSlot::Any));
        budget.give_back(MissSlot::Any);
        assert_eq!(budget.take("rotated-2", 1_000, WINDOW), Some(MissSlot::Any), "a second rotation at once");
    }

    #[test]
    fn a_clock_stepped_back_starts_a_new_window() {
        let mut budget = MissBudget::default();
        assert_eq!(budget.take("a", 100_000, WINDOW), Some(MissSlot::Any));
        assert_eq!(budget.take("b", 50_000, WINDOW), Some(MissSlot::Any));
    }

    #[test]
    fn remembers_a_bounded_number_of_missing_kids() {
        let mut budget = MissBudget::default();
        for i in 0..1000 {
            budget.take(&format!("k{i}"), 0, WINDOW);
        }
        assert_eq!(budget.seen.len(), REMEMBERED_MISSES);
    }

    #[test]
    fn backoff_doubles_up_to_the_window() {
        let first = Backoff::after(None, "e", 0, WINDOW);
        assert_eq!((first.failures, first.retry_at), (1, 1_000));
        let mut backoff = first;
        let mut waits = Vec::new();
        for _ in 0..8 {
            let next = Backoff::after(Some(&backoff), "e", 100_000, WINDOW);
            waits.push(next.retry_at - 100_000);
            backoff = next;
        }
        assert_eq!(waits, [2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000, 30_000]);
        assert!(!backoff.allows(100_000) && backoff.allows(130_000));
        assert!(backoff.allows(1_000), "a clock far before the failure is a new time");
    }
}
