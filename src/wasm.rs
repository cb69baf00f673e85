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

use crate::cache::{checked_clock, checked_uri, Config, Decision, FetchOutcome, Fetched, Input, JwksCache, Options, MAX_URI_BYTES};
use crate::error::CacheError;
use crate::jwks::MAX_KID_BYTES;
use crate::token::{checked_token, read_compact, MAX_TOKEN_BYTES};
use js_sys::{Array, JsString, Object, Reflect};
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
}

#[wasm_bindgen]
impl CacheCore {
    /// Throws `{ code, message }` for an invalid option.
    #[wasm_bindgen(constructor)]
    pub fn new(
        ttl_ms: JsValue,
        timeout_ms: JsValue,
        max_response_bytes: JsValue,
        max_keys: JsValue,
    ) -> Result<CacheCore, JsValue> {
        let options = Options {
            ttl_ms: number_input(&ttl_ms),
            timeout_ms: number_input(&timeout_ms),
            max_response_bytes: number_input(&max_response_bytes),
            max_keys: number_input(&max_keys),
        };
        let config = Config::from_options(options).map_err(to_js_error)?;
        Ok(CacheCore { core: JwksCache::new(config) })
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

    #[wasm_bindgen(getter, js_name = maxResponseBytes)]
    pub fn max_response_bytes(&self) -> f64 {
        self.core.config().max_response_bytes as f64
    }

    /// `{ found: true }` (the key is in the published view), `{ fetch: flight }` or
    /// `{ join: flight, deadline }`; throws `{ code, message }` for invalid arguments, a bad
    /// clock reading or an ambiguous kid.
    pub fn decide(&mut self, uri: &JsValue, kid: &JsValue, now: &JsValue) -> Result<Object, JsValue> {
        let (uri_text, kid_text) = (HostText::read(uri, MAX_URI_BYTES), HostText::read(kid, MAX_KID_BYTES));
        let uri_input = uri_input(uri_text.input());
        let kid_input = kid_text.input();
        let now = checked_clock(number_input(now)).map_err(to_js_error)?;
        let decision = self.core.decide(uri_input, kid_input, now).map_err(to_js_error)?;
        let answer = Object::new();
        match decision {
            Decision::Found => set(&answer, "found", &JsValue::TRUE),
            Decision::Fetch(flight) => set(&answer, "fetch", &flight.into()),
            Decision::Join { flight, deadline } => {
                set(&answer, "join", &flight.into());
                set(&answer, "deadline", &(deadline as f64).into());
            }
        }
        Ok(answer)
    }

    /// Reports a response to the fetch `flight`; returns where the keys of the set it read stand
    /// (see [`read_set`]), or throws `{ code, message, status? }`.
    pub fn finish(&mut self, uri: &str, flight: u32, status: f64, body: &[u8], now: &JsValue) -> Result<Object, JsValue> {
        let now = checked_clock(number_input(now)).map_err(|error| {
            // No time, no set: the fetch ends without one, and its waiters decide again at once.
            self.core.abandon(uri, flight);
            to_js_error(error)
        })?;
        // A custom fetch may report any number: keep it whole, never wrapped into 16 bits.
        let status = if status.fract() == 0.0 { status as u32 } else { 0 };
        let fetched = self.core.finish(uri, flight, FetchOutcome::Response { status, body }, now);
        Ok(read_set(fetched.map_err(to_js_error)?))
    }

    /// Reports a fetch that got no usable response (`kind`: "timeout", "too-large" or
    /// "network"); returns the error to give its callers.
    pub fn fail(&mut self, uri: &str, flight: u32, kind: &str, detail: &str, now: &JsValue) -> JsValue {
        let outcome = match kind {
            "timeout" => FetchOutcome::TimedOut,
            "too-large" => FetchOutcome::TooLarge,
            _ => FetchOutcome::NetworkError(detail),
        };
        // A bad clock reading cannot matter here: no set comes out of a failure.
        let now = checked_clock(number_input(now)).unwrap_or(0);
        match self.core.finish(uri, flight, outcome, now) {
            Err(error) => to_js_error(error),
            Ok(_) => unreachable!("a fetch without a response cannot yield a set"),
        }
    }

    /// Ends the fetch `flight` without a result (the host's clock failed while reporting it).
    pub fn abandon(&mut self, uri: &str, flight: u32) {
        self.core.abandon(uri, flight);
    }

    pub fn clear(&mut self) {
        self.core.clear();
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

/// `{ stored, fetchedAt, freshUntil, keys: [kid, start, end, kid, start, end, ...], ambiguous:
/// [[kid, error]...] }`: `start..end` are the bytes of the body that hold the key.
fn read_set(fetched: Fetched) -> Object {
    let keys = Array::new();
    for jwk in fetched.keys.keys() {
        keys.push(&jwk.kid.as_str().into());
        keys.push(&(jwk.span.start as f64).into());
        keys.push(&(jwk.span.end as f64).into());
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
    set(&read, "keys", &keys);
    set(&read, "ambiguous", &ambiguous);
    read
}

/// A URI that passes the core's own checks must also be one the host's URL parser accepts, and
/// without credentials, which `fetch` refuses (and which no message may quote).
fn uri_input(input: Input<&str>) -> Input<&str> {
    let Input::Given(uri) = input else { return input };
    if checked_uri(input).is_err() {
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
