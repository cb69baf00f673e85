//! Any bytes as a JWT: reading it never panics (a panic is a trap in wasm); a token the core
//! accepts has a header and a payload that serde_json reads as objects too, and the header rules,
//! the claim checks and the key rules run on what it accepted without panicking. Read as a JWS
//! (any payload), it is accepted whenever it is as a JWT, with the same header and signature.
#![no_main]

use jwks_cache::claims::{check_claims, ClaimRules};
use jwks_cache::jws_header::{check_header, Alg};
use jwks_cache::key_usability::usability;
use jwks_cache::token::{read_compact, read_jws};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let jws = read_jws(text);
    let Ok(token) = read_compact(text) else { return };
    let jws = jws.expect("a JWT is a JWS");
    assert_eq!((&jws.header, jws.payload.as_slice(), &jws.signature), (&token.header, token.payload.as_bytes(), &token.signature));
    for part in [&token.header, &token.payload] {
        let value: Value = serde_json::from_str(part).expect("an accepted part is JSON");
        assert!(value.is_object());
    }
    assert!(text.starts_with(token.signing_input));
    let _ = check_header(&token.header, &Alg::ALL);
    let rules = ClaimRules { issuers: vec!["i"], audiences: vec!["a"], typ: Some("JWT"), max_token_age_sec: Some(60), ..ClaimRules::new() };
    let _ = check_claims(&token.header, &token.payload, &rules, 1_700_000_000_000);
    // The payload as if it were a JWK: the key rules take any object.
    let _ = usability(&token.payload);
});
