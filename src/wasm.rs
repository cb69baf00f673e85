//! The binding between the sans-IO core and the JS layer (`js/cache.js`).
//!
//! It stays synchronous on purpose: the JS layer does every `await` (fetch, waiting on another
//! caller's fetch) in the caller's own promise chain. In workerd each request has its own I/O
//! context; a Rust executor polls all tasks from one shared queue, so it could resume one
//! request's work inside another's context, which workerd cancels or refuses.
//!
//! Besides answering calls, the binding publishes a read-only view of every cached set in a JS
//! `Map` (URI -> `{ freshUntil, keys: Map<kid, frozen JWK>, ambiguous: Map<kid, error> }`) that the JS
//! layer reads on the hot path, so that a cache hit never crosses into wasm.

use crate::cache::{Config, Decision, FetchOutcome, Fetched, Input, JwksCache, Millis};
use crate::error::CacheError;
use js_sys::{Array, Map, Object, Reflect};
use serde_json::Value;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
pub struct CacheCore {
    core: JwksCache,
    views: Map,
}

#[wasm_bindgen]
impl CacheCore {
    /// Throws `{ code, message }` for an invalid option.
    #[wasm_bindgen(constructor)]
    pub fn new(ttl_ms: JsValue, timeout_ms: JsValue) -> Result<CacheCore, JsValue> {
        let config = Config::from_options(number_input(&ttl_ms), number_input(&timeout_ms)).map_err(to_js_error)?;
        Ok(CacheCore { core: JwksCache::new(config), views: Map::new() })
    }

    /// The published views, URI -> view; the JS layer only reads it.
    #[wasm_bindgen(getter)]
    pub fn views(&self) -> Map {
        self.views.clone()
    }

    #[wasm_bindgen(getter, js_name = timeoutMs)]
    pub fn timeout_ms(&self) -> f64 {
        self.core.config().fetch_timeout_ms as f64
    }

    /// `{ key }` (the cached JWK), `{ fetch: flight }` or `{ join: flight, deadline }`; throws
    /// `{ code, message }` for invalid arguments or an ambiguous kid.
    pub fn decide(&mut self, uri: &JsValue, kid: &JsValue, now: f64) -> Result<Object, JsValue> {
        let (uri_text, kid_text) = (uri.as_string(), kid.as_string());
        let decision = self
            .core
            .decide(text_input(uri, &uri_text), text_input(kid, &kid_text), millis(now))
            .map_err(to_js_error)?;
        let answer = Object::new();
        match decision {
            Decision::Found(jwk) => {
                // The view always holds it: the core and the views change together.
                let view = self.views.get(uri);
                let key = Reflect::get(&view, &"keys".into()).map(|keys| Map::from(keys).get(kid))?;
                let key = if key.is_undefined() { frozen_js_value(&jwk.value) } else { key };
                set(&answer, "key", &key);
            }
            Decision::Fetch(flight) => set(&answer, "fetch", &flight.into()),
            Decision::Join { flight, deadline } => {
                set(&answer, "join", &flight.into());
                set(&answer, "deadline", &(deadline as f64).into());
            }
        }
        Ok(answer)
    }

    /// Reports a response to the fetch `flight`; returns the view of the set it read (published
    /// if the core cached it), or throws `{ code, message, status? }`.
    pub fn finish(&mut self, uri: &str, flight: u32, status: u16, body: &[u8], now: f64) -> Result<Object, JsValue> {
        let fetched = self.core.finish(uri, flight, FetchOutcome::Response { status, body }, millis(now));
        Ok(self.publish(uri, fetched.map_err(to_js_error)?))
    }

    /// Reports a fetch that got no response; returns the error to give its callers.
    pub fn fail(&mut self, uri: &str, flight: u32, timed_out: bool, detail: &str, now: f64) -> JsValue {
        let outcome = if timed_out { FetchOutcome::TimedOut } else { FetchOutcome::NetworkError(detail) };
        match self.core.finish(uri, flight, outcome, millis(now)) {
            Err(error) => to_js_error(error),
            Ok(_) => unreachable!("a fetch without a response cannot yield a set"),
        }
    }

    pub fn clear(&mut self) {
        self.core.clear();
        self.views.clear();
    }
}

impl CacheCore {
    fn publish(&mut self, uri: &str, fetched: Fetched) -> Object {
        let keys = Map::new();
        for jwk in fetched.keys.keys() {
            keys.set(&jwk.kid.as_str().into(), &frozen_js_value(&jwk.value));
        }
        // A kid shared by different keys finds the error to throw, decided here like every other.
        let ambiguous = Map::new();
        for kid in fetched.keys.ambiguous_kids() {
            ambiguous.set(&kid.as_str().into(), &to_js_error(CacheError::AmbiguousKid(kid.clone())));
        }
        let view = Object::new();
        set(&view, "freshUntil", &(fetched.fresh_until as f64).into());
        set(&view, "keys", &keys);
        set(&view, "ambiguous", &ambiguous);
        Object::freeze(&view);
        if fetched.stored {
            self.views.set(&uri.into(), &view);
        }
        view
    }
}

fn text_input<'a>(value: &JsValue, text: &'a Option<String>) -> Input<&'a str> {
    match text {
        Some(text) => Input::Given(text),
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

/// Host clocks give fractional, possibly bogus numbers; the core counts whole milliseconds.
fn millis(now: f64) -> Millis {
    now as Millis
}

/// The key as a deeply frozen JS object: callers share it, so none may change it. Built
/// directly rather than through JSON text, which would pull a JSON serializer into the wasm.
fn frozen_js_value(value: &Value) -> JsValue {
    match value {
        Value::Null => JsValue::NULL,
        Value::Bool(b) => JsValue::from_bool(*b),
        Value::Number(n) => JsValue::from_f64(n.as_f64().unwrap_or(f64::NAN)),
        Value::String(text) => JsValue::from_str(text),
        Value::Array(items) => {
            let array: Array = items.iter().map(frozen_js_value).collect();
            Object::freeze(&array).into()
        }
        Value::Object(members) => {
            let object = Object::new();
            for (name, member) in members {
                set(&object, name, &frozen_js_value(member));
            }
            Object::freeze(&object).into()
        }
    }
}

fn set(target: &Object, name: &str, value: &JsValue) {
    // Cannot fail: the target is a fresh, extensible plain object.
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
