//! jwt-compact (0.8, a dev-dependency only, with its pure-Rust `rsa`, `p256` and
//! `ed25519-compact` features) as the reference verifier of the core's decisions.
//!
//! For every vector of `tests/data/rfc-vectors.json` and of Wycheproof's
//! `json_web_signature_test.json`, the core decides what a verification would (the token read by
//! `read_jws`, the header rules, the empty signature, the signature length, the key through
//! `KeySet::from_body` on a one-key set and `KeySet::signer`), and jwt-compact checks the
//! signature of the same token with the same JWK. A valid vector must pass both; an invalid one
//! must be refused by at least one, and when the core lets it through, by jwt-compact's signature
//! check. Where the two disagree, the vectors are named below and asserted, so that a change on
//! either side shows.
//!
//! jwt-compact has no ES384 or ES512 (P-384, P-521): those vectors are counted and their signature
//! is left to the host's crypto, which the JS tests cover.
//!
//! Where jwt-compact differs from the core's rules, each point asserted below
//! (`where_jwt_compact_differs_from_the_core`, `key_import_against_jwt_compact`,
//! `claim_checks_against_jwt_compact`, and the vector lists of the first test):
//!
//! Token and header, more lenient than the core:
//! - `crit` is not read: a token whose `crit` names an extension verifies (RFC 7515 4.1.11: it
//!   must be refused). Nor is `b64`: a `{"b64":false,"crit":["b64"]}` token verifies, its payload
//!   decoded as base64url although its signer meant the characters as they stand (RFC 7797).
//! - A duplicate member is refused only where serde knows the field: the header's `alg`, `kid`,
//!   `typ`, `cty`, `jku`, ..., the claims `exp`, `nbf`, `iat` and the fields of the caller's
//!   claims type. Any other (`crit`, a private header member, a claim its claims type does not
//!   name) passes, the last copy winning where it is read at all.
//! - No limit on nesting below serde_json's 128 levels (the core: 16), on the token's size (the
//!   core: 16 KiB), or on `kid` beyond being a string (the core: 1 to 1024 bytes).
//! - The caller picks the algorithm and the key; of a JWK it reads the key alone. `use`,
//!   `key_ops`, `alg` and `x5c` are ignored: Wycheproof 353-356 (keys for encryption) and
//!   332-340 (a PS512 JWK verifying RS256, RS384, RS512, PS256, PS384 tokens) verify, and so does
//!   346/350 (a PS256 JWK, a PS384 token), which Wycheproof calls valid and the core refuses (A3).
//! - RSA keys: no minimum size (1024 bits imports), a leading zero octet in `n` is accepted, and
//!   so is an odd `e` up to 2^33 - 1 (the core: 2^32). The other way, `n` over 4096 bits is
//!   refused (the core allows up to 16384).
//!
//! As strict as the core: base64url (padding, the standard alphabet, unused bits set, spaces and
//! other characters are refused), JSON syntax (serde_json in both), a header that is not an
//! object, a `kid` that is not a string, claims that are not an object (a JWT), an empty or
//! wrongly sized ES256/EdDSA signature, `e` of 1, even or over 2^33, an even `n`, off-curve and
//! (0, 0) points (refused at import; the core leaves the curve check to the host's import).
//!
//! Stricter: a `cty` other than `json` refuses the token (a nested JWT, `cty: "JWT"`, which the
//! core ignores). From its source, not exercised here: with its default `ciborium` feature, which
//! this crate leaves off, `cty: "cbor"` makes the claims CBOR.
//!
//! Claims: jwt-compact checks `exp` and `nbf` only. `exp` expires once `now > exp + leeway` (RFC
//! 7519 4.1.4 and the core: at `now >= exp`), a fractional NumericDate is truncated to whole
//! seconds, dates past chrono's range (about 8.27e12 s) are malformed where the core allows up to
//! 8.64e12, a negative date is a date before 1970 (the core refuses it), and `iat` is never read
//! (the core refuses one in the future). `iss`, `aud`, `typ`, required claims and a maximum age
//! are the application's.

use jwks_cache::claims::{check_claims, ClaimRules};
use jwks_cache::error::CacheError;
use jwks_cache::jwks::KeySet;
use jwks_cache::jws_header::{check_header, Alg};
use jwks_cache::token::{read_compact, read_jws, require_signature};
use jwt_compact::alg::{Ed25519, Es256, Hs256, Hs256Key, Hs384, Hs384Key, Hs512, Hs512Key, Rsa, RsaPublicKey};
use jwt_compact::jwk::{JsonWebKey, JwkError};
use jwt_compact::{Algorithm, AlgorithmExt, AlgorithmSignature, Claims, Empty, TimeOptions, UntrustedToken, ValidationError};
use serde_json::Value;

/// What the core decides for a JWS (its payload any bytes), in the order of `readJws` and key
/// selection (src/wasm.rs): the algorithm, once the token is read, its header passes, its
/// signature is there with the algorithm's length and the set selects a key; or the error that
/// stops it. `jwk` is the one key of the set, if any.
fn core(jws: &str, jwk: Option<&str>) -> Result<Alg, CacheError> {
    let read = read_jws(jws)?;
    let header = check_header(&read.header, &Alg::ALL)?;
    require_signature(&read.signature)?;
    if header.alg.signature_len().is_some_and(|len| len != read.signature.len()) {
        return Err(CacheError::SignatureInvalid(format!("not {} bytes", read.signature.len())));
    }
    let body = format!(r#"{{"keys":[{}]}}"#, jwk.unwrap_or_default());
    KeySet::from_body(body.as_bytes(), 10)?.signer(header.kid.as_deref(), header.alg)?;
    Ok(header.alg)
}

/// What jwt-compact says of a token and a JWK.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reference {
    Verified,
    BadSignature,
    /// The token, the key or the signature's encoding is refused before any signature check.
    Refused,
    /// ES384 or ES512, which jwt-compact does not implement.
    Unsupported,
}

/// jwt-compact's check of the signature with the algorithm the token names (jwt-compact leaves
/// the choice to its caller, and reads nothing of the JWK but the key).
fn reference(jws: &str, jwk: Option<&str>) -> Reference {
    let Ok(token) = UntrustedToken::new(jws) else { return Reference::Refused };
    let Some(Ok(jwk)) = jwk.map(serde_json::from_str::<JsonWebKey<'_>>) else { return Reference::Refused };
    let jwk = &jwk;
    match token.algorithm() {
        name @ ("RS256" | "RS384" | "RS512" | "PS256" | "PS384" | "PS512") => verify(Rsa::with_name(name), RsaPublicKey::try_from(jwk), &token, jws),
        "ES256" => verify(Es256, <<Es256 as Algorithm>::VerifyingKey>::try_from(jwk), &token, jws),
        "EdDSA" => verify(Ed25519, <<Ed25519 as Algorithm>::VerifyingKey>::try_from(jwk), &token, jws),
        // Only Wycheproof's HMAC groups, with their secret: the core refuses every HS* itself.
        "HS256" => verify(Hs256, Hs256Key::try_from(jwk), &token, jws),
        "HS384" => verify(Hs384, Hs384Key::try_from(jwk), &token, jws),
        "HS512" => verify(Hs512, Hs512Key::try_from(jwk), &token, jws),
        "ES384" | "ES512" => Reference::Unsupported,
        _ => Reference::Refused,
    }
}

/// The signature check of `Validator::validate` on any payload (the validator itself also reads
/// the claims, so it only takes a JWT); where the payload is claims, the validator must agree.
fn verify<A: Algorithm>(alg: A, key: Result<A::VerifyingKey, JwkError>, token: &UntrustedToken<'_>, jws: &str) -> Reference {
    let Ok(key) = key else { return Reference::Refused };
    let signature = token.signature_bytes();
    if A::Signature::LENGTH.is_some_and(|len| len.get() != signature.len()) {
        return Reference::Refused;
    }
    let Ok(signature) = A::Signature::try_from_slice(signature) else { return Reference::Refused };
    let signing_input = &jws[..jws.rfind('.').unwrap()];
    let verified = alg.verify_signature(&signature, &key, signing_input.as_bytes());
    if token.deserialize_claims_unchecked::<Empty>().is_ok() {
        match alg.validator::<Empty>(&key).validate(token) {
            Ok(_) => assert!(verified, "{jws}"),
            Err(ValidationError::InvalidSignature) => assert!(!verified, "{jws}"),
            Err(other) => panic!("{jws}: {other}"),
        }
    }
    if verified {
        Reference::Verified
    } else {
        Reference::BadSignature
    }
}

struct Vector {
    name: String,
    jws: String,
    jwk: Option<String>,
    valid: bool,
}

fn vectors() -> Vec<Vector> {
    let mut all = Vec::new();
    let rfc: Value = serde_json::from_str(include_str!("data/rfc-vectors.json")).unwrap();
    for vector in rfc.as_array().unwrap() {
        all.push(Vector {
            name: vector["name"].as_str().unwrap().into(),
            jws: vector["jws"].as_str().unwrap().into(),
            jwk: (!vector["jwk"].is_null()).then(|| vector["jwk"].to_string()),
            valid: vector["valid"].as_bool().unwrap(),
        });
    }
    let wycheproof: Value = serde_json::from_str(include_str!("data/wycheproof/json_web_signature_test.json")).unwrap();
    for group in wycheproof["testGroups"].as_array().unwrap() {
        assert_eq!(group["type"], "JsonWebSignature");
        // The HMAC groups have no public key: their secret is what jwt-compact verifies with (the
        // core ignores an `oct` key and refuses HS* anyway).
        let key = if group["public"].is_null() { &group["private"] } else { &group["public"] };
        for test in group["tests"].as_array().unwrap() {
            all.push(Vector {
                name: format!("wycheproof-{}", test["tcId"]),
                jws: test["jws"].as_str().unwrap().into(),
                jwk: (!key.is_null()).then(|| key.to_string()),
                valid: match test["result"].as_str() {
                    Some("valid") => true,
                    Some("invalid") => false,
                    other => panic!("tcId {}: result {other:?}", test["tcId"]),
                },
            });
        }
    }
    all
}

#[test]
fn every_vector_is_decided_by_the_core_and_checked_by_jwt_compact() {
    let all = vectors();
    assert_eq!(all.len(), 8 + 401);
    let (mut both_verify, mut left_to_the_host, mut caught_by_signature, mut both_refuse) = (0, 0, 0, 0);
    let mut unsupported = Vec::new();
    let mut valid_refused_by_core = Vec::new();
    let mut invalid_verified_by_jwt_compact = Vec::new();
    for vector in &all {
        let name = vector.name.as_str();
        let core = core(&vector.jws, vector.jwk.as_deref());
        let reference = reference(&vector.jws, vector.jwk.as_deref());
        if reference == Reference::Unsupported {
            unsupported.push(name);
        }
        match (vector.valid, &core, reference) {
            (true, Ok(_), Reference::Verified) => both_verify += 1,
            (true, Ok(alg), Reference::Unsupported) => {
                assert!(matches!(alg, Alg::ES384 | Alg::ES512), "{name}");
                left_to_the_host += 1;
            }
            (true, Ok(_), reference) => panic!("{name}: valid, the core selects a key, but jwt-compact says {reference:?}"),
            (true, Err(error), reference) => valid_refused_by_core.push((name, error.code(), reference)),
            (false, Ok(_), Reference::Verified) => panic!("{name}: invalid, yet the core selects a key and the signature verifies"),
            (false, Ok(_), Reference::Unsupported) => panic!("{name}: invalid, and no signature check here would refuse it"),
            (false, Ok(_), _) => caught_by_signature += 1,
            (false, Err(_), Reference::Verified) => invalid_verified_by_jwt_compact.push(name),
            (false, Err(_), _) => both_refuse += 1,
        }
    }

    // The algorithms jwt-compact lacks: both ES512 RFC examples (the core selects their key) and
    // Wycheproof's RFC 7520 ES512 token, twice (the core refuses its JWK's `alg`, "ES521").
    assert_eq!(unsupported, ["rfc7515-A.4-ES512", "rfc7520-4.3-ES512", "wycheproof-347", "wycheproof-351"]);

    // Valid for Wycheproof, refused by the core's rules, on purpose.
    use Reference::*;
    let refused = "ERR_JWS_ALG_NOT_ALLOWED";
    let no_key = "ERR_JWKS_NO_MATCHING_KEY";
    let malformed = "ERR_JWT_MALFORMED";
    assert_eq!(
        valid_refused_by_core,
        [
            // HS256: no key from a JWKS is a shared secret (ATTACKS.md A2).
            ("wycheproof-1", refused, Verified),
            // A3: the JWK's `alg` (PS256) binds the key; the token is PS384. jwt-compact ignores it.
            ("wycheproof-346", no_key, Verified),
            // The JWK's `alg` is "ES521", no algorithm: the key is not for signatures.
            ("wycheproof-347", no_key, Unsupported),
            ("wycheproof-348", refused, Verified),
            ("wycheproof-350", no_key, Verified),
            ("wycheproof-351", no_key, Unsupported),
            ("wycheproof-352", refused, Verified),
            ("wycheproof-357", refused, Verified),
            ("wycheproof-358", refused, Verified),
            ("wycheproof-359", refused, Verified),
            // "InvalidCharacterInserted": 357 with a `?` in its header or payload, and 357's MAC.
            // Wycheproof calls them valid; neither the core nor jwt-compact reads that as base64url.
            ("wycheproof-372", malformed, Refused),
            ("wycheproof-373", malformed, Refused),
            ("wycheproof-376", refused, Verified),
            ("wycheproof-377", refused, Verified),
        ]
    );

    // Invalid vectors that only the core's rules refuse: jwt-compact verifies their signature.
    assert_eq!(
        invalid_verified_by_jwt_compact,
        [
            // A PS512 JWK (`alg`) and a token signed with RS256, RS384, RS512, PS256, PS384 by the
            // same RSA key, whose header says so: jwt-compact does not bind the key to its `alg`.
            "wycheproof-332",
            "wycheproof-334",
            "wycheproof-336",
            "wycheproof-338",
            "wycheproof-340",
            // `use: "enc"` and `key_ops: ["encrypt"]` keys: jwt-compact reads neither.
            "wycheproof-353",
            "wycheproof-354",
            "wycheproof-355",
            "wycheproof-356",
            // HS256, refused by the core; Wycheproof calls them invalid for a padding ("=") that
            // the stored token no longer has: the token is 357's, byte for byte.
            "wycheproof-367",
            "wycheproof-370",
        ]
    );
    let by_name = |name: &str| all.iter().find(|vector| vector.name == name).unwrap();
    assert_eq!(by_name("wycheproof-367").jws, by_name("wycheproof-357").jws);
    assert_eq!(by_name("wycheproof-370").jws, by_name("wycheproof-357").jws);

    // Where the core lets a token through to the signature check, and the signature is wrong:
    // RS256 with modified PKCS #1 padding, the PSS cases, ES256 with r or s out of range...
    assert_eq!((both_verify, left_to_the_host, caught_by_signature, both_refuse), (37, 2, 286, 59));
    let counted = both_verify + left_to_the_host + valid_refused_by_core.len() + caught_by_signature;
    assert_eq!(counted + invalid_verified_by_jwt_compact.len() + both_refuse, all.len());
}

/// base64url without padding.
fn encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut text = String::new();
    for chunk in bytes.chunks(3) {
        let bits = chunk.iter().enumerate().fold(0u32, |bits, (i, &byte)| bits | (byte as u32) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            text.push(ALPHABET[(bits >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    text
}

/// The RFC 8037 A.1 key pair.
const ED25519_PRIVATE: &str =
    r#"{"kty":"OKP","crv":"Ed25519","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#;
const ED25519_PUBLIC: &str = r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#;

/// `header.payload.signature`, signed with EdDSA over the two segments exactly as given.
fn signed(header: &str, payload: &str) -> String {
    let jwk: JsonWebKey<'_> = serde_json::from_str(ED25519_PRIVATE).unwrap();
    let key = <<Ed25519 as Algorithm>::SigningKey>::try_from(&jwk).unwrap();
    let input = format!("{header}.{payload}");
    format!("{input}.{}", encode(&Ed25519.sign(&key, input.as_bytes()).as_bytes()))
}

fn jwt(header: &str, claims: &str) -> String {
    signed(&encode(header.as_bytes()), &encode(claims.as_bytes()))
}

/// The core on a JWT: the verification decisions, then the claims read as a JSON object.
fn core_jwt(token: &str) -> &'static str {
    match core(token, Some(ED25519_PUBLIC)).and_then(|_| read_compact(token).map(|_| ())) {
        Ok(()) => "ok",
        Err(error) => error.code(),
    }
}

/// jwt-compact's validator on a JWT, with claims it does not name ignored.
fn jwt_compact(token: &str) -> Result<(), String> {
    let jwk: JsonWebKey<'_> = serde_json::from_str(ED25519_PUBLIC).unwrap();
    let key = <<Ed25519 as Algorithm>::VerifyingKey>::try_from(&jwk).unwrap();
    let token = UntrustedToken::new(token).map_err(|error| error.to_string())?;
    Ed25519.validator::<Empty>(&key).validate(&token).map(|_| ()).map_err(|error| error.to_string())
}

#[test]
fn where_jwt_compact_differs_from_the_core() {
    let claims = "{}";
    let malformed = "ERR_JWT_MALFORMED";
    let unsupported = "ERR_JWS_HEADER_UNSUPPORTED";
    let deep = format!(r#"{{"alg":"EdDSA","x":{}0{}}}"#, "[".repeat(40), "]".repeat(40));
    let long_kid = format!(r#"{{"alg":"EdDSA","kid":"{}"}}"#, "k".repeat(1025));
    let large = format!(r#"{{"pad":"{}"}}"#, "p".repeat(16 * 1024));

    // (what, token, the core, whether jwt-compact verifies it)
    let lenient = [
        ("crit names an extension", jwt(r#"{"alg":"EdDSA","crit":["exp"],"exp":1}"#, claims), unsupported),
        // RFC 7797: the signer signed the payload "e30" as it stands; jwt-compact reads it as
        // base64url, the claims {}.
        ("b64 false", signed(&encode(br#"{"alg":"EdDSA","b64":false,"crit":["b64"]}"#), "e30"), unsupported),
        ("a private header member twice", jwt(r#"{"alg":"EdDSA","x":1,"x":2}"#, claims), malformed),
        ("crit twice", jwt(r#"{"alg":"EdDSA","crit":["b64"],"crit":["exp"]}"#, claims), malformed),
        ("a claim it does not name twice", jwt(r#"{"alg":"EdDSA"}"#, r#"{"sub":"a","sub":"b"}"#), malformed),
        ("a header nested 41 levels", jwt(&deep, claims), malformed),
        ("an empty kid", jwt(r#"{"alg":"EdDSA","kid":""}"#, claims), malformed),
        ("a kid of 1025 bytes", jwt(&long_kid, claims), malformed),
        ("a token over 16 KiB", jwt(r#"{"alg":"EdDSA"}"#, &large), malformed),
    ];
    for (what, token, ours) in &lenient {
        assert_eq!(core_jwt(token), *ours, "{what}");
        assert_eq!(jwt_compact(token), Ok(()), "{what}: jwt-compact verifies it");
    }

    let good = jwt(r#"{"alg":"EdDSA"}"#, r#"{"a":1}"#);
    let (header, rest) = good.split_once('.').unwrap();
    let (payload, signature) = rest.split_once('.').unwrap();
    assert_eq!((payload.len() % 4, signature.len() % 4), (2, 2));
    // The last character with its lowest bit set, which the decoding drops.
    let unused_bit = |text: &str| {
        let (start, last) = text.split_at(text.len() - 1);
        let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        format!("{start}{}", &alphabet[alphabet.find(last).unwrap() ^ 1..][..1])
    };
    let standard = |text: &str| text.replace('-', "+").replace('_', "/");
    let ed_header = r#"{"alg":"EdDSA"}"#;
    let as_strict = [
        ("a well-formed token", good.clone(), "ok"),
        ("a member name escaped", jwt(r#"{"\u0061lg":"EdDSA"}"#, claims), "ok"),
        ("alg twice", jwt(r#"{"alg":"EdDSA","alg":"EdDSA"}"#, claims), malformed),
        ("kid twice", jwt(r#"{"alg":"EdDSA","kid":"a","kid":"b"}"#, claims), malformed),
        ("typ twice", jwt(r#"{"alg":"EdDSA","typ":"JWT","typ":"at+jwt"}"#, claims), malformed),
        ("cty twice", jwt(r#"{"alg":"EdDSA","cty":"json","cty":"JWT"}"#, claims), malformed),
        ("jku twice", jwt(r#"{"alg":"EdDSA","jku":"https://a.example","jku":"https://b.example"}"#, claims), malformed),
        ("exp twice", jwt(ed_header, r#"{"exp":1,"exp":2}"#), malformed),
        ("a kid that is a number", jwt(r#"{"alg":"EdDSA","kid":7}"#, claims), malformed),
        ("a header that is an array", jwt(r#"["EdDSA"]"#, claims), malformed),
        ("claims that are an array", jwt(ed_header, "[1]"), malformed),
        ("a byte order mark before the header", jwt("\u{feff}{\"alg\":\"EdDSA\"}", claims), malformed),
        ("a padded payload", signed(header, &format!("{payload}==")), malformed),
        ("a payload with unused bits set", signed(header, &unused_bit(payload)), malformed),
        ("a signature with unused bits set", format!("{header}.{payload}.{}", unused_bit(signature)), malformed),
        ("a padded signature", format!("{good}=="), malformed),
        ("a space in the signature", format!("{header}.{payload}. {signature}"), malformed),
        ("an empty signature", format!("{header}.{payload}."), malformed),
        ("the signature in standard base64", format!("{header}.{payload}.{}", standard(signature)), malformed),
        ("the payload in standard base64", signed(header, &standard(&encode(br#"{"a":"~~~"}"#))), malformed),
    ];
    assert_eq!(standard(&encode(br#"{"a":"~~~"}"#)), "eyJhIjoifn5+In0");
    for (what, token, ours) in &as_strict {
        assert_eq!(core_jwt(token), *ours, "{what}");
        assert_eq!(jwt_compact(token).is_ok(), *ours == "ok", "{what}: {:?}", jwt_compact(token));
    }

    // Stricter: a `cty` other than "json" (here a nested JWT) refuses the token; the core ignores `cty`.
    let nested = jwt(r#"{"alg":"EdDSA","cty":"JWT"}"#, claims);
    assert_eq!(core_jwt(&nested), "ok");
    assert_eq!(jwt_compact(&nested), Err("unsupported content type: JWT".into()));

    // A claim twice: refused when it is a field of the caller's claims type, else the last wins.
    #[derive(serde::Deserialize)]
    struct Subject {
        #[allow(dead_code)]
        sub: String,
    }
    let twice = jwt(ed_header, r#"{"sub":"a","sub":"b"}"#);
    let untrusted = UntrustedToken::new(&twice).unwrap();
    assert!(matches!(untrusted.deserialize_claims_unchecked::<Subject>(), Err(ValidationError::MalformedClaims(_))));
    let last = untrusted.deserialize_claims_unchecked::<Value>().unwrap();
    assert_eq!(last.custom["sub"], "b");
}

/// jwt-compact's checks of `exp` and `nbf` (it has no other) next to the core's, with no leeway.
#[test]
fn claim_checks_against_jwt_compact() {
    // A chrono time at `seconds` (whole seconds) plus `millis`, without naming chrono.
    let date = |seconds: i64| serde_json::from_str::<Claims<Empty>>(&format!(r#"{{"exp":{seconds}}}"#)).unwrap().expiration.unwrap();
    let at = |millis: u64| date((millis / 1000) as i64) + (date(1) - date(0)) / 1000 * (millis % 1000) as i32;
    let header = r#"{"alg":"EdDSA"}"#;

    // (claims, now in ms, the core, jwt-compact)
    let cases = [
        (r#"{"exp":1000}"#, 999_000, "ok", "ok"),
        (r#"{"exp":1000}"#, 1_001_000, "ERR_JWT_EXPIRED", "expired"),
        // RFC 7519 4.1.4: "on or after" exp, the token is refused; jwt-compact waits a second more.
        (r#"{"exp":1000}"#, 1_000_000, "ERR_JWT_EXPIRED", "ok"),
        // jwt-compact truncates 1001.5 to 1001; the core compares it with the clock's milliseconds.
        (r#"{"exp":1001.5}"#, 1_001_200, "ok", "expired"),
        (r#"{"exp":1e3}"#, 999_000, "ok", "ok"),
        (r#"{"exp":2000,"nbf":1000}"#, 999_000, "ERR_JWT_NOT_YET_VALID", "not mature"),
        (r#"{"exp":2000,"nbf":1000}"#, 1_000_000, "ok", "ok"),
        (r#"{}"#, 1_000_000, "ERR_JWT_CLAIM_INVALID", "no exp"),
        (r#"{"exp":"2000"}"#, 1_000_000, "ERR_JWT_CLAIM_INVALID", "malformed"),
        (r#"{"exp":null}"#, 1_000_000, "ERR_JWT_CLAIM_INVALID", "malformed"),
        (r#"{"exp":-5}"#, 1_000_000, "ERR_JWT_CLAIM_INVALID", "expired"),
        // Past chrono's range, within the core's (the JS Date range, 8.64e12 s).
        (r#"{"exp":8.5e12}"#, 1_000_000, "ok", "malformed"),
        (r#"{"exp":9e12}"#, 1_000_000, "ERR_JWT_CLAIM_INVALID", "malformed"),
        // jwt-compact never reads iat.
        (r#"{"exp":2000,"iat":1500}"#, 1_000_000, "ERR_JWT_CLAIM_INVALID", "ok"),
    ];
    for (claims, now, ours, theirs) in cases {
        let got = check_claims(header, claims, &ClaimRules::new(), now).err().map_or("ok", |error| error.code());
        assert_eq!(got, ours, "the core: {claims} at {now} ms");

        let options = TimeOptions::new(date(0) - date(0), || at(now));
        let got = match serde_json::from_str::<Claims<Empty>>(claims) {
            Err(_) => "malformed",
            Ok(claims) => match claims.validate_expiration(&options).and_then(|claims| match claims.not_before {
                Some(_) => claims.validate_maturity(&options),
                None => Ok(claims),
            }) {
                Ok(_) => "ok",
                Err(ValidationError::Expired) => "expired",
                Err(ValidationError::NotMature) => "not mature",
                Err(ValidationError::NoClaim(_)) => "no exp",
                Err(other) => panic!("{other}"),
            },
        };
        assert_eq!(got, theirs, "jwt-compact: {claims} at {now} ms");
    }
}

/// The keys of `jwk-vectors.json` (and a large RSA key): the core's usability next to jwt-compact's
/// import of the key for the algorithm family its `kty` and `crv` name.
#[test]
fn key_import_against_jwt_compact() {
    use jwks_cache::key_usability::{usability, Usability};

    let imports = |text: &str| {
        let Ok(jwk) = serde_json::from_str::<JsonWebKey<'_>>(text) else { return false };
        RsaPublicKey::try_from(&jwk).is_ok()
            || <<Es256 as Algorithm>::VerifyingKey>::try_from(&jwk).is_ok()
            || <<Ed25519 as Algorithm>::VerifyingKey>::try_from(&jwk).is_ok()
    };
    let vectors: Value = serde_json::from_str(include_str!("data/jwk-vectors.json")).unwrap();
    let mut keys: Vec<(String, String)> =
        vectors["keys"].as_array().unwrap().iter().map(|key| (key["name"].as_str().unwrap().to_owned(), key["jwk"].to_string())).collect();
    // 8192 bits, odd: within the core's 2048 to 16384, over the rsa crate's 4096.
    let n = encode(&[&[0x80][..], &[0; 1022], &[1]].concat());
    keys.push(("rsa-8192".into(), format!(r#"{{"kty":"RSA","n":"{n}","e":"AQAB"}}"#)));
    // e = 2^32 + 1: over the core's 2^32, within the rsa crate's 2^33 - 1.
    let n = vectors["keys"][0]["jwk"]["n"].as_str().unwrap();
    keys.push(("rsa-e-2^32+1".into(), format!(r#"{{"kty":"RSA","n":"{n}","e":"{}"}}"#, encode(&[1, 0, 0, 0, 1]))));

    let (mut only_jwt_compact, mut only_core, mut both) = (Vec::new(), Vec::new(), 0);
    for (name, text) in &keys {
        match (matches!(usability(text), Usability::Usable { .. }), imports(text)) {
            (true, true) => both += 1,
            (false, true) => only_jwt_compact.push(name.as_str()),
            (true, false) => only_core.push(name.as_str()),
            (false, false) => {}
        }
    }
    assert_eq!(both, 6);
    assert_eq!(
        only_jwt_compact,
        [
            "rfc7517-ec-use-enc",
            "key-ops-encrypt-only",
            "rsa-1024",
            "rsa-n-leading-zero-octet",
            "alg-rs256-on-ec-key",
            "x5c-does-not-match-n-e",
            "rsa-e-2^32+1"
        ]
    );
    // The off-curve point is the host's import to refuse (key_usability.rs).
    assert_eq!(only_core, ["ec-point-not-on-curve", "rsa-8192"]);
}
