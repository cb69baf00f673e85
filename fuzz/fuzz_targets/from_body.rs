//! Any bytes as a JWKS response body: reading them never panics (a panic is a trap in wasm), a
//! body the core accepts is JSON that serde_json reads whole too, and every key's span is the
//! object that holds that kid. `make fuzz` runs it.
#![no_main]

use jwks_cache::jwks::KeySet;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|body: &[u8]| {
    let Ok(set) = KeySet::from_body(body, 1000) else { return };
    let text = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let document: Value = serde_json::from_slice(text).expect("an accepted body is JSON");
    for jwk in set.keys() {
        let entry: Value = serde_json::from_slice(&body[jwk.span.clone()]).expect("a key's span is one value");
        assert_eq!(entry["kid"], jwk.kid.as_str());
        assert_eq!(entry, document["keys"][jwk.index]);
    }
});
