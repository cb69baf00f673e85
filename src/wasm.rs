//! The binding between the sans-IO core and the JS layer (`js/cache.js`).
//!
//! It stays synchronous on purpose: the JS layer does every `await` (fetch, waiting on another
//! caller's fetch) in the caller's own promise chain. In workerd each request has its own I/O
//! context; a Rust executor polls all tasks from one shared queue, so it could resume one
//! request's work inside another's context, which workerd cancels or refuses.
//!
//! What the host hands over is checked here for what only the host can see before it becomes
//! Rust data: a JS string with a lone surrogate (wasm-bindgen would turn it into U+FFFD, so the
//! core would look up another kid than the JS layer), and a URI that the host's own URL parser,
//! the one `fetch` uses, refuses. Everything else is the core's to decide.
//!
//! The binding never builds key objects: it tells the JS layer which bytes of the body hold each
//! key, and the JS layer builds them with `JSON.parse` of those bytes (`js/key-views.js`).

use crate::cache::{
    checked_clock, checked_uri, Config, Decision, FetchOutcome, Fetched, Input, JwksCache, Millis, Options, RetryCause, UriStatus,
    MAX_URI_BYTES,
};
use crate::claims::TokenClaims;
use crate::discovery::{configuration_uri, jwks_uri_of};
use crate::error::CacheError;
use crate::jws_header::{check_header, Alg, JwsHeader};
use crate::jwks::MAX_KID_BYTES;
use crate::shared_set::StoredSet;
use crate::key_report::key_report;
use crate::key_usability::{select_key, NoKey};
use crate::token_findings::token_findings;
use crate::token::{checked_token, read_compact, read_jws, require_signature, MAX_TOKEN_BYTES};
use crate::verify_options::{allowed_algorithms, claim_rules, VerifyOptions, MAX_LIST_ENTRIES, MAX_OPTION_BYTES};
use js_sys::{Array, JsString, Object, Reflect, Uint8Array};
use std::collections::HashMap;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// The host's WHATWG URL parser, which its `fetch` applies to the URI.
    #[wasm_bindgen(js_name = URL)]
    type Url;
    #[wasm_bindgen(constructor, js_class = "URL", catch)]
    fn parse(input: &str) -> Result<Url, JsValue>;
    #[wasm_bindgen(method, getter)]
    fn username(this: &Url) -> String;
    #[wasm_bindgen(method, getter)]
    fn password(this: &Url) -> String;
}

#[wasm_bindgen]
pub struct CacheCore {
    core: JwksCache,
    /// Tokens read for verification, by id: kept while the host checks their signature and, once
    /// verified, while it remembers them (its verified-token cache); the host forgets each.
    /// Kept here rather than as one wasm-bindgen object per token, which would cost a JS wrapper
    /// and a FinalizationRegistry entry for every token.
    tokens: HashMap<u64, CheckedToken>,
    /// The id of the last token read: ids are never reused (2^53 reads would take centuries), so
    /// an id the host still holds never names another token.
    last_token: u64,
}

#[wasm_bindgen]
impl CacheCore {
    /// Throws `{ code, message }` for an invalid option. The options come one by one, as the
    /// host read them (a JS object would let its getters run inside wasm).
    #[wasm_bindgen(constructor)]
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        ttl_ms: JsValue,
        timeout_ms: JsValue,
        max_response_bytes: JsValue,
        max_keys: JsValue,
        max_verified_tokens: JsValue,
        allow_insecure_http: JsValue,
        max_stale_ms: JsValue,
        refetch_cooldown_ms: JsValue,
        max_entries: JsValue,
        max_retries: JsValue,
        allowed_jwks_uris: JsValue,
    ) -> Result<CacheCore, JsValue> {
        let options = Options {
            ttl_ms: number_input(&ttl_ms),
            timeout_ms: number_input(&timeout_ms),
            max_response_bytes: number_input(&max_response_bytes),
            max_keys: number_input(&max_keys),
            max_verified_tokens: number_input(&max_verified_tokens),
            allow_insecure_http: bool_input(&allow_insecure_http),
            max_stale_ms: number_input(&max_stale_ms),
            refetch_cooldown_ms: number_input(&refetch_cooldown_ms),
            max_entries: number_input(&max_entries),
            max_retries: number_input(&max_retries),
        };
        let config = Config::from_options(options).map_err(to_js_error)?;
        let mut core = JwksCache::new(config);
        core.allow_only(&HostList::read(&allowed_jwks_uris, false).input()).map_err(to_js_error)?;
        Ok(CacheCore { core, tokens: HashMap::new(), last_token: 0 })
    }

    #[wasm_bindgen(getter, js_name = timeoutMs)]
    pub fn timeout_ms(&self) -> f64 {
        self.core.config().fetch_timeout_ms as f64
    }

    /// The longest a caller waits on another's fetch before it decides again.
    #[wasm_bindgen(getter, js_name = longestFlightMs)]
    pub fn longest_flight_ms(&self) -> f64 {
        self.core.config().longest_flight_ms() as f64
    }

    #[wasm_bindgen(getter, js_name = maxVerifiedTokens)]
    pub fn max_verified_tokens(&self) -> f64 {
        self.core.config().max_verified_tokens as f64
    }

    #[wasm_bindgen(getter, js_name = maxResponseBytes)]
    pub fn max_response_bytes(&self) -> f64 {
        self.core.config().max_response_bytes as f64
    }

    /// `{ found: true }` (answer from the published view), `{ found: true, refresh: flight }`
    /// (the same, and run that fetch in the background), `{ fetch: flight }` or
    /// `{ join: flight, deadline }`; throws `{ code, message }` for invalid arguments, a bad
    /// clock reading or an ambiguous kid.
    pub fn decide(&mut self, uri: &JsValue, kid: &JsValue, now: &JsValue) -> Result<Object, JsValue> {
        let (uri_text, kid_text) = (HostText::read(uri, MAX_URI_BYTES), HostText::read(kid, MAX_KID_BYTES));
        let uri_input = uri_input(uri_text.input(), &self.core.config());
        let kid_input = kid_text.input();
        let now = checked_clock(number_input(now)).map_err(to_js_error)?;
        let decision = self.core.decide(uri_input, kid_input, now).map_err(to_js_error)?;
        Ok(decision_object(decision, self.core.take_evicted()))
    }

    /// The same for a token without a kid: `found` when a fresh set is cached, whatever it holds.
    #[wasm_bindgen(js_name = decideAny)]
    pub fn decide_any(&mut self, uri: &JsValue, now: &JsValue) -> Result<Object, JsValue> {
        self.decide_on(uri, now, JwksCache::decide_any)
    }

    /// `forceRefresh`: `{ fetch: flight }` or `{ join: flight, deadline }`; throws `{ code, message }`
    /// for an invalid URI, a bad clock reading, or the error of failures backing off. `sinceMs`
    /// back from now: how old a set from a shared store may answer it (0: fetched since now).
    #[wasm_bindgen(js_name = decideRefresh)]
    pub fn decide_refresh(&mut self, uri: &JsValue, now: &JsValue, since_ms: f64) -> Result<Object, JsValue> {
        let back = if since_ms.is_finite() && since_ms > 0.0 { since_ms as Millis } else { 0 };
        self.decide_on(uri, now, |core, uri, now| core.decide_refresh(uri, now.saturating_sub(back), now))
    }

    /// `invalidate`: forgets what the cache holds for the URI; throws `{ code, message }` for an
    /// invalid one.
    pub fn forget(&mut self, uri: &JsValue) -> Result<bool, JsValue> {
        let uri_text = HostText::read(uri, MAX_URI_BYTES);
        let uri = checked_uri(uri_text.input(), true).map_err(to_js_error)?;
        Ok(self.core.forget(uri))
    }

    /// Where the OpenID discovery document of `issuer` is; throws `{ code, message }` for an
    /// issuer that is not an https URL (http on loopback, or with `allowInsecureHttp`).
    #[wasm_bindgen(js_name = discoveryUri)]
    pub fn discovery_uri(&self, issuer: &JsValue) -> Result<String, JsValue> {
        let issuer = HostText::read(issuer, MAX_URI_BYTES);
        let refused = |why: &str| to_js_error(CacheError::DiscoveryInvalid(format!("the issuer is {why}")));
        // Read as a JWKS URI is: the host's URL parser must accept it, without credentials.
        let issuer = match uri_input(issuer.input(), &self.core.config()) {
            Input::Given(issuer) => issuer,
            Input::Oversized => return Err(refused(&format!("longer than {MAX_URI_BYTES} bytes"))),
            Input::Refused(_, why) => return Err(refused(&format!("refused: {why}"))),
            _ => return Err(refused("not a string")),
        };
        let uri = configuration_uri(issuer, self.core.config().allow_insecure_http).map_err(to_js_error)?;
        // Held to allowedJwksUris like a JWKS URI: an app that limits where the cache may go
        // limits discovery too.
        self.core.checked(Input::Given(&uri)).map_err(|error| to_js_error(CacheError::DiscoveryInvalid(error.to_string())))?;
        Ok(uri)
    }

    /// The `jwks_uri` of the discovery document `body` fetched for `issuer`; throws
    /// `{ code, message }` when it is not one for this issuer, with a URI the cache may fetch.
    #[wasm_bindgen(js_name = discoveredJwksUri)]
    pub fn discovered_jwks_uri(&self, body: &[u8], issuer: &str) -> Result<String, JsValue> {
        jwks_uri_of(body, issuer, self.core.config().allow_insecure_http).map_err(to_js_error)
    }

    /// `status`: where the cache stands for the URI at `now`, or null when it holds nothing for it
    /// (see [`status_object`]); throws `{ code, message }` for an invalid URI or clock reading.
    pub fn status(&self, uri: &JsValue, now: &JsValue) -> Result<JsValue, JsValue> {
        let uri_text = HostText::read(uri, MAX_URI_BYTES);
        let uri = checked_uri(uri_text.input(), true).map_err(to_js_error)?;
        let now = checked_clock(number_input(now)).map_err(to_js_error)?;
        Ok(self.core.status(uri, now).map_or(JsValue::NULL, |status| status_object(status).into()))
    }

    /// Reports a response to the fetch `flight` (with its `Cache-Control` header, whose `max-age`
    /// may set the TTL); returns where the keys of the set it read stand
    /// (see [`read_set`]), or throws `{ code, message, status? }`.
    pub fn finish(&mut self, uri: &str, flight: u32, status: f64, body: &[u8], cache_control: Option<String>, now: &JsValue) -> Result<Object, JsValue> {
        let now = checked_clock(number_input(now)).map_err(|error| {
            // No time, no set: the fetch ends without one, and its waiters decide again at once.
            self.core.abandon(uri, flight);
            to_js_error(error)
        })?;
        // A custom fetch may report any number: keep it whole, never wrapped into 16 bits.
        let status = if status.fract() == 0.0 { status as u32 } else { 0 };
        let fetched = self.core.finish_with(uri, flight, FetchOutcome::Response { status, body }, cache_control.as_deref(), now);
        Ok(read_set(fetched.map_err(to_js_error)?))
    }

    /// Offers a set read from a shared store, stamped `fetchedAt` by the instance that fetched it,
    /// as the answer to the fetch `flight`: where the keys stand (see [`read_set`]) when adopted,
    /// undefined when the issuer is to be asked; throws `{ code, message }` when the document
    /// breaks the rules of a response, or the stamp or the clock is no time.
    /// `notBefore`: a set fetched before then is not adopted (the URI was invalidated then; 0: none).
    #[allow(clippy::too_many_arguments)]
    pub fn adopt(&mut self, uri: &str, flight: u32, body: &[u8], cache_control: Option<String>, fetched_at: &JsValue, not_before: f64, now: &JsValue) -> Result<JsValue, JsValue> {
        let now = checked_clock(number_input(now)).map_err(to_js_error)?;
        let fetched_at = checked_clock(number_input(fetched_at)).map_err(to_js_error)?;
        let not_before = if not_before.is_finite() && not_before > 0.0 { not_before as Millis } else { 0 };
        let stored = StoredSet { body, cache_control: cache_control.as_deref(), fetched_at, not_before };
        let adopted = self.core.adopt(uri, flight, stored, now).map_err(to_js_error)?;
        Ok(adopted.map_or(JsValue::UNDEFINED, |fetched| read_set(fetched).into()))
    }

    /// Reports a fetch that got no usable response (`kind`: "timeout", "too-large", "redirect"
    /// or "network"); returns the error to give its callers.
    pub fn fail(&mut self, uri: &str, flight: u32, kind: &str, detail: &str, now: &JsValue) -> JsValue {
        let outcome = match kind {
            "timeout" => FetchOutcome::TimedOut,
            "too-large" => FetchOutcome::TooLarge,
            "redirect" => FetchOutcome::Redirected,
            _ => FetchOutcome::NetworkError(detail),
        };
        // A bad clock reading cannot matter here: no set comes out of a failure.
        let now = checked_clock(number_input(now)).unwrap_or(0);
        match self.core.finish(uri, flight, outcome, now) {
            Err(error) => to_js_error(error),
            Ok(_) => unreachable!("a fetch without a response cannot yield a set"),
        }
    }

    /// Whether to retry the fetch `flight` after an attempt that got `status` (NaN: no answer,
    /// `kind` says why) and this `Retry-After` header: `[wait, budget]` in ms, or undefined.
    #[allow(clippy::too_many_arguments)]
    pub fn retry(&mut self, uri: &str, flight: u32, status: f64, kind: &str, retry_after: Option<String>, random: f64, now: &JsValue) -> JsValue {
        let Ok(now) = checked_clock(number_input(now)) else { return JsValue::UNDEFINED };
        let cause = if status.is_finite() && status.fract() == 0.0 && status >= 0.0 {
            RetryCause::Status(status as u32, retry_after.as_deref())
        } else if kind == "network" {
            RetryCause::Network
        } else {
            return JsValue::UNDEFINED;
        };
        match self.core.retry(uri, flight, cause, random, now) {
            Some((wait, budget)) => Array::of2(&(wait as f64).into(), &(budget as f64).into()).into(),
            None => JsValue::UNDEFINED,
        }
    }

    /// Ends the fetch `flight` without a result (the host's clock failed while reporting it).
    pub fn abandon(&mut self, uri: &str, flight: u32) {
        self.core.abandon(uri, flight);
    }

    /// Forgets every cached set. Tokens read stay until the host forgets them: verifications in
    /// progress still need theirs.
    pub fn clear(&mut self) {
        self.core.clear();
    }

    /// What a token asks of verification, read strictly and checked against the allow-list:
    /// `[alg, kid, header, payload, signedLength, id]`, where `alg` is the algorithm's index in
    /// [`Alg::ALL`] (the host's table of crypto parameters follows that order), `kid` is
    /// undefined when the token names none, the signed input is the token's first
    /// `signedLength` characters (the signature follows the dot after it), and `id` names what
    /// the claim checks read of it, kept until [`forget_token`](Self::forget_token).
    /// Throws `{ code, message }`: a malformed token, a refused algorithm or header, a bad option.
    #[wasm_bindgen(js_name = readToken)]
    pub fn read_token(&mut self, token: &str, algorithms: &JsValue) -> Result<Vec<JsValue>, JsValue> {
        let allowed = allowed_algorithms(&HostList::read(algorithms, false).input()).map_err(to_js_error)?;
        let token = read_compact(token).map_err(to_js_error)?;
        let header = checked_header(&token.header, &token.signature, &allowed)?;
        // Read in the same pass: the claims are checked once the signature is.
        let checked = CheckedToken { alg: header.alg, claims: TokenClaims::read(&token.header, &token.payload) };
        self.last_token += 1;
        self.tokens.insert(self.last_token, checked);
        let mut parts = signed_parts(header, token.header, token.payload.into(), token.signing_input.len());
        parts.push((self.last_token as f64).into());
        Ok(parts)
    }

    /// Checks the token read as `id` against the options of one call, at `now`: its algorithm
    /// against the allow-list (a remembered token meets each call's own), then its claims.
    /// Throws `{ code, message }`.
    #[wasm_bindgen(js_name = checkToken)]
    #[allow(clippy::too_many_arguments)]
    pub fn check_token(
        &self,
        id: f64,
        now: &JsValue,
        algorithms: &JsValue,
        issuer: &JsValue,
        audience: &JsValue,
        clock_tolerance_sec: &JsValue,
        max_token_age_sec: &JsValue,
        typ: &JsValue,
        required_claims: &JsValue,
        require_exp: &JsValue,
    ) -> Result<(), JsValue> {
        let Some(token) = self.tokens.get(&(id as u64)) else {
            return Err(to_js_error(CacheError::TokenMalformed("it was not read by this cache".into())));
        };
        let (algorithms, issuer, audience) = (HostList::read(algorithms, false), HostList::read(issuer, true), HostList::read(audience, true));
        let (typ, required_claims) = (HostText::read(typ, MAX_OPTION_BYTES), HostList::read(required_claims, false));
        let options = VerifyOptions {
            algorithms: algorithms.input(),
            issuer: issuer.input(),
            audience: audience.input(),
            clock_tolerance_sec: number_input(clock_tolerance_sec),
            max_token_age_sec: number_input(max_token_age_sec),
            typ: typ.input(),
            required_claims: required_claims.input(),
            require_exp: bool_input(require_exp),
        };
        let allowed = allowed_algorithms(&options.algorithms).map_err(to_js_error)?;
        let rules = claim_rules(&options).map_err(to_js_error)?;
        let now = checked_clock(number_input(now)).map_err(to_js_error)?;
        if !allowed.contains(&token.alg) {
            return Err(to_js_error(CacheError::AlgNotAllowed(token.alg.name().into())));
        }
        token.claims.check(&rules, now).map_err(to_js_error)
    }

    /// The `iss` rule alone on the token read as `id`, before its key is looked up (ATTACKS.md B3);
    /// throws `{ code, message }`. The option is checked fully with the others afterwards.
    #[wasm_bindgen(js_name = checkIssuer)]
    pub fn check_issuer(&self, id: f64, issuer: &JsValue) -> Result<(), JsValue> {
        let Some(token) = self.tokens.get(&(id as u64)) else { return Ok(()) };
        let issuer = HostList::read(issuer, true);
        let options = VerifyOptions { issuer: issuer.input(), ..VerifyOptions::default() };
        let rules = claim_rules(&options).map_err(to_js_error)?;
        token.claims.check_issuer(&rules.issuers).map_err(to_js_error)
    }

    /// Forgets the token read as `id`.
    #[wasm_bindgen(js_name = forgetToken)]
    pub fn forget_token(&mut self, id: f64) {
        self.tokens.remove(&(id as u64));
    }

    /// How many tokens read are kept (for the tests of what verification leaves behind).
    #[wasm_bindgen(getter, js_name = tokensKept)]
    pub fn tokens_kept(&self) -> u32 {
        self.tokens.len() as u32
    }
}

/// `[header, payload]`: the JSON texts of a JWT's header and payload, read strictly but not
/// verified (for `decodeJwt`); throws `{ code, message }` for a malformed token.
#[wasm_bindgen(js_name = decodeJwt)]
pub fn decode_jwt(token: &JsValue) -> Result<Array, JsValue> {
    let text = HostText::read(token, MAX_TOKEN_BYTES);
    let token = checked_token(text.input()).and_then(read_compact).map_err(to_js_error)?;
    Ok(Array::of2(&token.header.into(), &token.payload.into()))
}

/// `[header, payload, findings]` for `inspectToken`: the texts `decodeJwt` gives, and what
/// verification would make of the token at `now` ([`token_findings`]), flattened as code, refused,
/// message for each finding. Throws `{ code, message }` for a token that cannot be read, or a clock
/// reading that is not a time.
#[wasm_bindgen(js_name = inspectToken)]
pub fn inspect_token(token: &JsValue, now: &JsValue) -> Result<Array, JsValue> {
    let now = checked_clock(number_input(now)).map_err(to_js_error)?;
    let text = HostText::read(token, MAX_TOKEN_BYTES);
    let token = checked_token(text.input()).and_then(read_compact).map_err(to_js_error)?;
    let findings = Array::new();
    for finding in token_findings(&token, now) {
        findings.push(&finding.code.into());
        findings.push(&finding.refused.into());
        findings.push(&finding.message.into());
    }
    Ok(Array::of3(&token.header.into(), &token.payload.into(), &findings))
}

/// `[isJwkSet, entries]` for `describeKeySet`: each entry of the body's `keys` array as the cache
/// reads it ([`key_report`]), flattened as index, start, end, verifies (the bit set of algorithms),
/// why ignored (or undefined). The host reads each entry's members (its kid too) from those bytes,
/// as it builds the keys of a cached set. Throws `{ code, message }` as a response
/// with this body would fail.
#[wasm_bindgen(js_name = describeKeySet)]
pub fn describe_key_set(body: &[u8], max_keys: usize) -> Result<Array, JsValue> {
    let (is_jwk_set, reports) = key_report(body, max_keys).map_err(to_js_error)?;
    let entries = Array::new();
    for report in reports {
        entries.push(&(report.index as u32).into());
        entries.push(&(report.span.start as u32).into());
        entries.push(&(report.span.end as u32).into());
        entries.push(&report.verifies.0.into());
        entries.push(&report.ignored.map_or(JsValue::UNDEFINED, Into::into));
    }
    Ok(Array::of2(&is_jwk_set.into(), &entries))
}

/// [`CacheCore::read_token`] for a JWS whose payload is any bytes (`verifyJws`): the payload
/// comes back as a Uint8Array in place of an id, and no claim is read.
#[wasm_bindgen(js_name = readJws)]
pub fn read_jws_of(token: &str, algorithms: &JsValue) -> Result<Vec<JsValue>, JsValue> {
    let allowed = allowed_algorithms(&HostList::read(algorithms, false).input()).map_err(to_js_error)?;
    let jws = read_jws(token).map_err(to_js_error)?;
    let header = checked_header(&jws.header, &jws.signature, &allowed)?;
    let payload = Uint8Array::from(jws.payload.as_slice()).into();
    Ok(signed_parts(header, jws.header, payload, jws.signing_input.len()))
}

/// The error for a token the host did not hand to [`CacheCore::read_token`] because it is not a string of
/// at most [`MAX_TOKEN_BYTES`] UTF-16 units (a token is ASCII: longer, it is longer in bytes
/// too), worded by the core. A string of that size that is not a token is `read_token`'s to
/// refuse: a lone surrogate, which reaches Rust as U+FFFD, is no base64url character either.
#[wasm_bindgen(js_name = tokenRefused)]
pub fn token_refused(token: &JsValue) -> JsValue {
    let text = HostText::read(token, MAX_TOKEN_BYTES);
    match checked_token(text.input()) {
        Err(error) => to_js_error(error),
        Ok(_) => to_js_error(CacheError::TokenMalformed("it must be a string".into())),
    }
}

/// The header rules, then the signature's presence and, where the algorithm fixes it, length.
fn checked_header(header: &str, signature: &[u8], allowed: &[Alg]) -> Result<JwsHeader, JsValue> {
    // The algorithm first: `alg: none` with its empty signature is refused as the algorithm it is.
    let header = check_header(header, allowed).map_err(to_js_error)?;
    require_signature(signature).map_err(to_js_error)?;
    if header.alg.signature_len().is_some_and(|len| len != signature.len()) {
        return Err(signature_invalid(header.alg.index()));
    }
    Ok(header)
}

/// The signature stays in the token text: the host decodes it there (natively), which costs less
/// than a copy out of wasm; the core has checked it is canonical base64url of the right length.
fn signed_parts(header: JwsHeader, header_text: String, payload: JsValue, signed_length: usize) -> Vec<JsValue> {
    vec![
        (header.alg.index() as u32).into(),
        header.kid.map_or(JsValue::UNDEFINED, |kid| kid.into()),
        header_text.into(),
        payload,
        (signed_length as u32).into(),
    ]
}

/// What the claim checks read of a token: its header's algorithm and its claims.
struct CheckedToken {
    alg: Alg,
    claims: TokenClaims,
}

/// The error of a verification for which no key was selected: `why` is the index of the reason
/// in [`NoKey::ALL`], `alg` the algorithm's index in [`Alg::ALL`].
#[wasm_bindgen(js_name = noMatchingKey)]
pub fn no_matching_key(kid: Option<String>, alg: usize, why: usize) -> JsValue {
    let (Some(&alg), Some(&why)) = (Alg::ALL.get(alg), NoKey::ALL.get(why)) else {
        return to_js_error(CacheError::NoMatchingKey("an unknown reason".into()));
    };
    to_js_error(why.error(kid.as_deref(), alg))
}

/// The error of a signature that does not verify with the selected key.
#[wasm_bindgen(js_name = signatureInvalid)]
pub fn signature_invalid(alg: usize) -> JsValue {
    let name = Alg::ALL.get(alg).map_or("?", |alg| alg.name());
    to_js_error(CacheError::SignatureInvalid(format!("it does not verify as {name} with the selected key")))
}

impl CacheCore {
    /// A decision of `decide` on the URI alone (`decideAny`, `decideRefresh`), as the host reads it.
    fn decide_on(
        &mut self,
        uri: &JsValue,
        now: &JsValue,
        decide: impl FnOnce(&mut JwksCache, Input<&str>, Millis) -> Result<Decision, CacheError>,
    ) -> Result<Object, JsValue> {
        let uri_text = HostText::read(uri, MAX_URI_BYTES);
        let now = checked_clock(number_input(now)).map_err(to_js_error)?;
        let config = self.core.config();
        let decision = decide(&mut self.core, uri_input(uri_text.input(), &config), now).map_err(to_js_error)?;
        Ok(decision_object(decision, self.core.take_evicted()))
    }
}

/// `{ fetchedAt, freshUntil, usableUntil, fresh, stale, kids }` (all but `fetching` and the error
/// members absent without a set), `fetching`, and after failing fetches `lastError` (`{ code,
/// message, status? }`), `retryAt`, `failures`.
fn status_object(status: UriStatus) -> Object {
    let answer = Object::new();
    if let Some(cached) = status.set {
        set(&answer, "fetchedAt", &(cached.fetched_at as f64).into());
        set(&answer, "freshUntil", &(cached.fresh_until as f64).into());
        set(&answer, "usableUntil", &(cached.usable_until as f64).into());
        set(&answer, "fresh", &cached.fresh.into());
        set(&answer, "stale", &(!cached.fresh && cached.usable).into());
        set(&answer, "kids", &(cached.kids as f64).into());
    }
    set(&answer, "fetching", &status.fetching.into());
    if let Some(until) = status.cooling_down_until {
        set(&answer, "coolingDownUntil", &(until as f64).into());
    }
    if let Some(at) = status.next_refresh_at {
        set(&answer, "nextRefreshAt", &(at as f64).into());
    }
    if let Some((error, retry_at, failures)) = status.last_error {
        set(&answer, "lastError", &to_js_error(error));
        set(&answer, "retryAt", &(retry_at as f64).into());
        set(&answer, "failures", &failures.into());
    }
    answer
}

/// The decision as the host reads it, with `evicted`: the URIs forgotten to make room for this
/// lookup's (the host drops its views of them).
fn decision_object(decision: Decision, evicted: Vec<String>) -> Object {
    let answer = Object::new();
    if !evicted.is_empty() {
        let uris = Array::new();
        for uri in evicted {
            uris.push(&uri.into());
        }
        set(&answer, "evicted", &uris);
    }
    match decision {
        Decision::Found => set(&answer, "found", &JsValue::TRUE),
        Decision::Refresh(flight) => {
            set(&answer, "found", &JsValue::TRUE);
            set(&answer, "refresh", &flight.into());
        }
        Decision::Fetch(flight) => set(&answer, "fetch", &flight.into()),
        Decision::Join { flight, deadline } => {
            set(&answer, "join", &flight.into());
            set(&answer, "deadline", &(deadline as f64).into());
        }
    }
    answer
}

/// `{ stored, fetchedAt, freshUntil, usableUntil, keys, unnamed, kidless, ambiguous }`:
/// - `keys`: `[kid, start, end, verifies, ...]`, the keys a kid finds; `start..end` are the bytes
///   of the body that hold the key, `verifies` the bit set of the algorithms it may verify (bit
///   `i` is `Alg::ALL[i]`);
/// - `unnamed`: `[start, end, verifies, ...]`, the keys without a kid that may verify;
/// - `kidless`: for each algorithm, the key a token without a kid selects, counting the keys then
///   the unnamed ones, or `-1 - why`, `why` the index of the reason in [`NoKey::ALL`];
/// - `ambiguous`: `[[kid, error]...]`.
fn read_set(fetched: Fetched) -> Object {
    let keys = Array::new();
    for jwk in fetched.keys.keys() {
        keys.push(&jwk.kid.as_str().into());
        keys.push(&(jwk.span.start as f64).into());
        keys.push(&(jwk.span.end as f64).into());
        keys.push(&jwk.verifies.0.into());
    }
    let unnamed = Array::new();
    for jwk in fetched.keys.unnamed() {
        unnamed.push(&(jwk.span.start as f64).into());
        unnamed.push(&(jwk.span.end as f64).into());
        unnamed.push(&jwk.verifies.0.into());
    }
    let candidates = fetched.keys.candidates();
    let kidless = Array::new();
    for alg in Alg::ALL {
        let slot = match select_key(&candidates, None, alg) {
            Ok(at) => at as f64,
            Err(why) => -1.0 - NoKey::ALL.iter().position(|&reason| reason == why).unwrap_or(0) as f64,
        };
        kidless.push(&slot.into());
    }
    // A kid shared by different keys finds the error to throw, decided here like every other.
    let ambiguous = Array::new();
    for kid in fetched.keys.ambiguous_kids() {
        let pair = Array::of2(&kid.as_str().into(), &to_js_error(CacheError::AmbiguousKid(kid.clone())));
        ambiguous.push(&pair);
    }
    let read = Object::new();
    set(&read, "stored", &fetched.stored.into());
    set(&read, "fetchedAt", &(fetched.fetched_at as f64).into());
    set(&read, "freshUntil", &(fetched.fresh_until as f64).into());
    set(&read, "usableUntil", &(fetched.usable_until as f64).into());
    set(&read, "keys", &keys);
    set(&read, "unnamed", &unnamed);
    set(&read, "kidless", &kidless);
    set(&read, "ambiguous", &ambiguous);
    read
}

/// A URI that passes the core's own checks must also be one the host's URL parser accepts, and
/// without credentials, which `fetch` refuses (and which no message may quote).
fn uri_input<'a>(input: Input<&'a str>, config: &Config) -> Input<&'a str> {
    let Input::Given(uri) = input else { return input };
    if checked_uri(input, config.allow_insecure_http).is_err() {
        return input;
    }
    match Url::parse(uri) {
        Err(_) => Input::Refused(uri, "not a URL that fetch can parse"),
        Ok(url) if !url.username().is_empty() || !url.password().is_empty() => {
            Input::Refused(uri, "it has credentials (user:password@), which fetch refuses")
        }
        Ok(_) => input,
    }
}

/// A string argument, read from the host only when it can be used at all: one with more UTF-16
/// units than the argument's bound in bytes is longer than that in UTF-8 too, and stays in JS
/// (copying a huge string into wasm would grow its memory for good). A lone surrogate becomes
/// U+FFFD on the way into Rust; only then is the JS string itself checked.
enum HostText {
    Absent,
    WrongType,
    Oversized,
    IllFormed(String),
    Text(String),
}

impl HostText {
    fn read(value: &JsValue, max_bytes: usize) -> HostText {
        if value.is_undefined() || value.is_null() {
            return HostText::Absent;
        }
        let Some(js) = value.dyn_ref::<JsString>() else {
            return HostText::WrongType;
        };
        if js.length() as usize > max_bytes {
            return HostText::Oversized;
        }
        let text = String::from(js);
        if text.contains('\u{FFFD}') && !js.is_valid_utf16() {
            return HostText::IllFormed(text);
        }
        HostText::Text(text)
    }

    fn input(&self) -> Input<&str> {
        match self {
            HostText::Absent => Input::Absent,
            HostText::WrongType => Input::WrongType,
            HostText::Oversized => Input::Oversized,
            HostText::IllFormed(text) => Input::Refused(text, "not well-formed Unicode (it has a lone surrogate)"),
            HostText::Text(text) => Input::Given(text),
        }
    }
}

/// A list argument of strings (a single string too, where `single` allows it), read entry by
/// entry as [`HostText`]; a list longer than any option accepts is not read at all.
enum HostList {
    Absent,
    WrongType,
    Oversized,
    Items(Vec<HostText>),
}

impl HostList {
    fn read(value: &JsValue, single: bool) -> HostList {
        if value.is_undefined() || value.is_null() {
            return HostList::Absent;
        }
        if single && value.is_string() {
            return HostList::Items(vec![HostText::read(value, MAX_OPTION_BYTES)]);
        }
        let Some(array) = value.dyn_ref::<Array>() else { return HostList::WrongType };
        if array.length() as usize > MAX_LIST_ENTRIES {
            return HostList::Oversized;
        }
        HostList::Items(array.iter().map(|entry| HostText::read(&entry, MAX_OPTION_BYTES)).collect())
    }

    fn input(&self) -> Input<Vec<Input<&str>>> {
        match self {
            HostList::Absent => Input::Absent,
            HostList::WrongType => Input::WrongType,
            HostList::Oversized => Input::Oversized,
            HostList::Items(items) => Input::Given(items.iter().map(HostText::input).collect()),
        }
    }
}

fn bool_input(value: &JsValue) -> Input<bool> {
    match value.as_bool() {
        Some(flag) => Input::Given(flag),
        None if value.is_undefined() || value.is_null() => Input::Absent,
        None => Input::WrongType,
    }
}

fn number_input(value: &JsValue) -> Input<f64> {
    match value.as_f64() {
        Some(number) => Input::Given(number),
        None if value.is_undefined() || value.is_null() => Input::Absent,
        None => Input::WrongType,
    }
}

fn set(target: &Object, name: &str, value: &JsValue) {
    // Cannot fail: the target is a fresh, extensible plain object, and `name` is one of ours.
    let _ = Reflect::set(target, &name.into(), value);
}

fn to_js_error(error: CacheError) -> JsValue {
    let raw = Object::new();
    set(&raw, "code", &error.code().into());
    set(&raw, "message", &error.to_string().into());
    if let Some(status) = error.status() {
        set(&raw, "status", &status.into());
    }
    raw.into()
}
