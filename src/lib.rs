//! jwks-cache: a JWKS cache whose rules live in a sans-IO core (plain Rust, tested natively with
//! `cargo test`), compiled to WebAssembly for Node, Cloudflare Workers and browsers.
//!
//! - [`cache`]: freshness, single flight, what a fetch result does to the cache;
//! - [`refresh_policy`]: when a set may be fetched again (failure backoff, refetch budget);
//! - [`shared_set`]: when a set from a shared store (Redis, Workers KV) answers a fetch;
//! - [`discovery`]: an issuer's JWKS URI from its OpenID discovery document;
//! - [`jwks`]: reading a JWKS response into the keys a kid can find;
//! - [`strict_json`]: checking JSON, refusing ambiguous or too costly documents;
//! - [`json_spans`]: where the members and entries of checked JSON stand;
//! - [`json_equal`]: whether two pieces of checked JSON are the same value, compared in place;
//! - [`token`]: reading a JWT's compact serialization into its parts, strictly;
//! - [`jws_header`]: the rules of a token's protected header (alg allow-list, crit, b64, kid);
//! - [`key_usability`]: whether a JWK may verify signatures, and for which algorithms;
//! - [`claims`]: the claim checks of a token, with the time passed in;
//! - [`token_findings`], [`key_report`]: what inspecting a token or a set tells a person, by the same rules;
//! - [`verify_options`]: the options of `verify`, checked (allow-list, claim rules);
//! - [`error`]: every error with its stable code;
//! - `wasm` (wasm32 only): the thin binding that hands all of this to the JS layer in `js/`.

pub mod cache;
pub mod claims;
pub mod discovery;
pub mod error;
pub mod json_equal;
pub mod jws_header;
pub mod key_report;
pub mod key_usability;
pub mod json_spans;
pub mod jwks;
pub mod refresh_policy;
pub mod shared_set;
pub mod strict_json;
pub mod token;
pub mod token_findings;
pub mod verify_options;

#[cfg(target_arch = "wasm32")]
mod wasm;
