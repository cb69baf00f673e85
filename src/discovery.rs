//! OpenID Connect discovery (OpenID Connect Discovery 1.0, sections 4 and 4.3): the JWKS URI of
//! an issuer, read from `<issuer>/.well-known/openid-configuration`. The document is read with
//! the rules of a JWKS response (strict JSON, bounded), its `issuer` must be exactly the issuer
//! asked about (4.3: else an attacker's document could name its own keys for someone else's
//! tokens), and its `jwks_uri` must be a URI the cache may fetch.

use crate::cache::{checked_uri, redacted};
use crate::cache::Input;
use crate::error::CacheError;
use crate::json_spans::JsonObject;
use crate::jwks::MAX_JSON_DEPTH;
use crate::strict_json::{self, CheckError};

const WELL_KNOWN: &str = "/.well-known/openid-configuration";

/// Where the issuer's discovery document is: the issuer (an https URL, or http on loopback when
/// allowed) with any trailing `/` removed, then the well-known path.
pub fn configuration_uri(issuer: &str, allow_insecure_http: bool) -> Result<String, CacheError> {
    let quoted = || redacted(issuer);
    let checked = checked_uri(Input::Given(issuer), allow_insecure_http).map_err(|_| invalid(format!("issuer {:?} is not an https URL", quoted())))?;
    if checked.contains('?') || checked.contains('#') {
        return Err(invalid(format!("issuer {:?} has a query or fragment", quoted())));
    }
    Ok(format!("{}{WELL_KNOWN}", checked.trim_end_matches('/')))
}

/// The `jwks_uri` of a discovery document fetched for `issuer`.
pub fn jwks_uri_of(body: &[u8], issuer: &str, allow_insecure_http: bool) -> Result<String, CacheError> {
    let text = strict_json::check(body, MAX_JSON_DEPTH).map_err(|error| match error {
        CheckError::Invalid(error) => invalid(format!("not valid JSON: {error}")),
        CheckError::TooDeep => invalid("nested too deep".into()),
    })?;
    let document = JsonObject::document(text).ok_or_else(|| invalid("not a JSON object".into()))?;
    match document.string("issuer") {
        Some(stated) if stated == issuer => {}
        Some(stated) => return Err(invalid(format!("its issuer {stated:?} is not {issuer:?}"))),
        None => return Err(invalid("no issuer".into())),
    }
    let jwks_uri = document.string("jwks_uri").ok_or_else(|| invalid("no jwks_uri".into()))?;
    checked_uri(Input::Given(&jwks_uri), allow_insecure_http).map_err(|_| invalid(format!("its jwks_uri {jwks_uri:?} is not an https URL")))?;
    // An https issuer's keys are https too: else its document could send the verifier in the clear
    // to a plain-http service on the verifier's own machine (loopback http is otherwise allowed),
    // with a path and query of its choosing.
    if is_https(issuer) && !is_https(&jwks_uri) {
        return Err(invalid(format!("its jwks_uri {jwks_uri:?} is not https, and the issuer is")));
    }
    Ok(jwks_uri.into_owned())
}

fn is_https(uri: &str) -> bool {
    uri.get(..8).is_some_and(|scheme| scheme.eq_ignore_ascii_case("https://"))
}

fn invalid(why: String) -> CacheError {
    CacheError::DiscoveryInvalid(why)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISSUER: &str = "https://login.example.com/tenant";

    #[test]
    fn the_configuration_is_under_the_issuer() {
        assert_eq!(configuration_uri(ISSUER, false).unwrap(), "https://login.example.com/tenant/.well-known/openid-configuration");
        assert_eq!(configuration_uri("https://a.example/", false).unwrap(), "https://a.example/.well-known/openid-configuration");
        for refused in ["http://a.example", "https://a.example/?x=1", "not a url", ""] {
            assert_eq!(configuration_uri(refused, false).unwrap_err().code(), "ERR_OIDC_DISCOVERY_INVALID", "{refused}");
        }
        assert!(configuration_uri("http://127.0.0.1:3000", false).is_ok(), "loopback");
        for with_credentials in ["http://alice:s3cret@a.example", "https://alice:s3cret@a.example/?x=1"] {
            let message = configuration_uri(with_credentials, false).unwrap_err().to_string();
            assert!(!message.contains("s3cret") && message.contains("***@a.example"), "{message}");
        }
    }

    #[test]
    fn the_jwks_uri_of_a_document_for_this_very_issuer() {
        let good = br#"{"issuer":"https://login.example.com/tenant","jwks_uri":"https://login.example.com/tenant/keys","x":[1]}"#;
        assert_eq!(jwks_uri_of(good, ISSUER, false).unwrap(), "https://login.example.com/tenant/keys");
        let cases: [(&[u8], &str); 6] = [
            (br#"{"issuer":"https://evil.example","jwks_uri":"https://evil.example/keys"}"#, "is not"),
            (br#"{"issuer":"https://login.example.com/tenant/","jwks_uri":"https://a.example/k"}"#, "is not"),
            (br#"{"jwks_uri":"https://a.example/k"}"#, "no issuer"),
            (br#"{"issuer":"https://login.example.com/tenant"}"#, "no jwks_uri"),
            (br#"{"issuer":"https://login.example.com/tenant","jwks_uri":"http://a.example/k"}"#, "not an https"),
            (br#"{"issuer":"https://login.example.com/tenant","issuer":"https://login.example.com/tenant"}"#, "not valid JSON"),
        ];
        for (body, why) in cases {
            let error = jwks_uri_of(body, ISSUER, false).unwrap_err();
            assert!(error.to_string().contains(why), "{error}");
        }
    }

    #[test]
    fn an_https_issuer_never_sends_the_verifier_to_plain_http_not_even_on_loopback() {
        for jwks_uri in ["http://127.0.0.1:8080/admin?delete=1", "http://localhost/keys", "http://[::1]/k", "http://a.example/k"] {
            let body = format!(r#"{{"issuer":"{ISSUER}","jwks_uri":"{jwks_uri}"}}"#);
            for allow_insecure_http in [false, true] {
                let error = jwks_uri_of(body.as_bytes(), ISSUER, allow_insecure_http).unwrap_err();
                assert_eq!(error.code(), "ERR_OIDC_DISCOVERY_INVALID", "{jwks_uri}");
            }
        }
        let local = br#"{"issuer":"http://127.0.0.1:3000","jwks_uri":"http://127.0.0.1:3000/keys"}"#;
        assert_eq!(jwks_uri_of(local, "http://127.0.0.1:3000", false).unwrap(), "http://127.0.0.1:3000/keys", "a local issuer's local keys");
        let upgraded = br#"{"issuer":"http://127.0.0.1:3000","jwks_uri":"https://keys.example/k"}"#;
        assert!(jwks_uri_of(upgraded, "http://127.0.0.1:3000", false).is_ok());
    }
}
