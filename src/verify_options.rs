//! The options of `verify`, checked: what the caller allows (the algorithm allow-list) and asks
//! of the claims ([`ClaimRules`]). The host reads each option once and hands it over as an
//! [`Input`]; a string where a list is accepted (`issuer`, `audience`) is a list of one.
//!
//! Every option is optional. A wrong one is `ERR_INVALID_OPTION` naming it, never ignored: an
//! `audience: 42` that were skipped would let every audience through.

use crate::cache::Input;
use crate::claims::ClaimRules;
use crate::error::CacheError;
use crate::jws_header::Alg;

/// The most entries an option list may hold (issuers, audiences, algorithms, required claims).
pub const MAX_LIST_ENTRIES: usize = 100;
/// The longest string an option holds, in bytes.
pub const MAX_OPTION_BYTES: usize = 8 * 1024;
/// The largest clock tolerance and token age accepted: a year, in seconds.
pub const MAX_SECONDS: u64 = 365 * 24 * 60 * 60;

/// The options as the host read them.
#[derive(Debug, Clone, Default)]
pub struct VerifyOptions<'a> {
    pub algorithms: Input<Vec<Input<&'a str>>>,
    pub issuer: Input<Vec<Input<&'a str>>>,
    pub audience: Input<Vec<Input<&'a str>>>,
    pub clock_tolerance_sec: Input<f64>,
    pub max_token_age_sec: Input<f64>,
    pub typ: Input<&'a str>,
    pub required_claims: Input<Vec<Input<&'a str>>>,
    pub require_exp: Input<bool>,
}

/// The algorithms a caller allows: every implemented one when absent. A name outside them
/// (`HS256`, `none`) is an error, not a silent no-op, so that the caller learns it is refused.
pub fn allowed_algorithms(algorithms: &Input<Vec<Input<&str>>>) -> Result<Vec<Alg>, CacheError> {
    let names = list("algorithms", algorithms, false)?;
    let Some(names) = names else { return Ok(Alg::ALL.to_vec()) };
    if names.is_empty() {
        return Err(invalid("algorithms must name at least one algorithm"));
    }
    names
        .into_iter()
        .map(|name| {
            Alg::named(name).ok_or_else(|| {
                invalid(&format!("algorithms: {name:?} is not one of RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA"))
            })
        })
        .collect()
}

/// The claim rules the options ask for.
pub fn claim_rules<'a>(options: &VerifyOptions<'a>) -> Result<ClaimRules<'a>, CacheError> {
    let strings = |name, value, single| Ok::<_, CacheError>(list(name, value, single)?.unwrap_or_default());
    Ok(ClaimRules {
        issuers: non_empty("issuer", list("issuer", &options.issuer, true)?)?,
        audiences: non_empty("audience", list("audience", &options.audience, true)?)?,
        clock_tolerance_sec: seconds("clockToleranceSec", options.clock_tolerance_sec, 0)?.unwrap_or(0),
        max_token_age_sec: seconds("maxTokenAgeSec", options.max_token_age_sec, 1)?,
        typ: match options.typ {
            Input::Absent => None,
            Input::Given(typ) if !typ.is_empty() => Some(typ),
            _ => return Err(invalid("typ must be a non-empty string")),
        },
        required: strings("requiredClaims", &options.required_claims, false)?,
        require_exp: match options.require_exp {
            Input::Absent => true,
            Input::Given(require) => require,
            _ => return Err(invalid("requireExp must be a boolean")),
        },
    })
}

/// A list option: None when absent; a single string is a list of one where `single` allows it.
fn list<'a>(name: &str, value: &Input<Vec<Input<&'a str>>>, single: bool) -> Result<Option<Vec<&'a str>>, CacheError> {
    let shape = if single { "a string or an array of strings" } else { "an array of strings" };
    let wrong = || invalid(&format!("{name} must be {shape}, each at most {MAX_OPTION_BYTES} bytes"));
    let entries = match value {
        Input::Absent => return Ok(None),
        Input::Given(entries) if entries.len() <= MAX_LIST_ENTRIES => entries,
        Input::Given(_) | Input::Oversized => return Err(invalid(&format!("{name} holds more than {MAX_LIST_ENTRIES} entries"))),
        _ => return Err(wrong()),
    };
    entries
        .iter()
        .map(|entry| match *entry {
            Input::Given(text) if text.len() <= MAX_OPTION_BYTES => Ok(text),
            _ => Err(wrong()),
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// An empty issuer or audience, or an empty list of them, would accept nothing a token can hold:
/// refused, never read as "not checked".
fn non_empty<'a>(name: &str, values: Option<Vec<&'a str>>) -> Result<Vec<&'a str>, CacheError> {
    let Some(values) = values else { return Ok(Vec::new()) };
    if values.is_empty() || values.iter().any(|value| value.is_empty()) {
        return Err(invalid(&format!("{name} must not be empty, nor hold an empty string")));
    }
    Ok(values)
}

fn seconds(name: &str, value: Input<f64>, min: u64) -> Result<Option<u64>, CacheError> {
    match value {
        Input::Absent => Ok(None),
        Input::Given(n) if n.fract() == 0.0 && n >= min as f64 && n <= MAX_SECONDS as f64 => Ok(Some(n as u64)),
        _ => Err(invalid(&format!("{name} must be a whole number of seconds from {min} to {MAX_SECONDS}"))),
    }
}

fn invalid(why: &str) -> CacheError {
    CacheError::InvalidOption(why.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn given<'a>(names: &[&'a str]) -> Input<Vec<Input<&'a str>>> {
        Input::Given(names.iter().map(|&name| Input::Given(name)).collect())
    }

    #[test]
    fn algorithms_default_to_every_implemented_one_and_refuse_others() {
        assert_eq!(allowed_algorithms(&Input::Absent).unwrap(), Alg::ALL);
        assert_eq!(allowed_algorithms(&given(&["ES256", "EdDSA"])).unwrap(), [Alg::ES256, Alg::EdDSA]);
        for bad in [given(&[]), given(&["HS256"]), given(&["none"]), given(&["es256"]), Input::WrongType, Input::Given(vec![Input::WrongType])] {
            assert_eq!(allowed_algorithms(&bad).unwrap_err().code(), "ERR_INVALID_OPTION", "{bad:?}");
        }
    }

    #[test]
    fn claim_options_are_checked_never_ignored() {
        let rules = claim_rules(&VerifyOptions {
            issuer: given(&["https://a"]),
            audience: given(&["api", "web"]),
            clock_tolerance_sec: Input::Given(30.0),
            max_token_age_sec: Input::Given(600.0),
            typ: Input::Given("at+jwt"),
            required_claims: given(&["sub"]),
            require_exp: Input::Given(false),
            ..VerifyOptions::default()
        })
        .unwrap();
        assert_eq!((rules.issuers, rules.audiences, rules.required), (vec!["https://a"], vec!["api", "web"], vec!["sub"]));
        assert_eq!((rules.clock_tolerance_sec, rules.max_token_age_sec, rules.typ, rules.require_exp), (30, Some(600), Some("at+jwt"), false));
        assert!(claim_rules(&VerifyOptions::default()).unwrap().require_exp, "exp is required by default");

        let code = |options: VerifyOptions| claim_rules(&options).err().map_or("ok", |error| error.code());
        for bad in [
            VerifyOptions { audience: Input::WrongType, ..VerifyOptions::default() },
            VerifyOptions { audience: given(&[""]), ..VerifyOptions::default() },
            VerifyOptions { audience: given(&[]), ..VerifyOptions::default() },
            VerifyOptions { issuer: given(&[]), ..VerifyOptions::default() },
            VerifyOptions { issuer: Input::Given(vec![Input::WrongType]), ..VerifyOptions::default() },
            VerifyOptions { issuer: Input::Given(vec![Input::Given("i"); MAX_LIST_ENTRIES + 1]), ..VerifyOptions::default() },
            VerifyOptions { clock_tolerance_sec: Input::Given(-1.0), ..VerifyOptions::default() },
            VerifyOptions { clock_tolerance_sec: Input::Given(f64::NAN), ..VerifyOptions::default() },
            VerifyOptions { clock_tolerance_sec: Input::Given(0.5), ..VerifyOptions::default() },
            VerifyOptions { max_token_age_sec: Input::Given(0.0), ..VerifyOptions::default() },
            VerifyOptions { typ: Input::Given(""), ..VerifyOptions::default() },
            VerifyOptions { required_claims: Input::WrongType, ..VerifyOptions::default() },
            VerifyOptions { require_exp: Input::WrongType, ..VerifyOptions::default() },
        ] {
            assert_eq!(code(bad.clone()), "ERR_INVALID_OPTION", "{bad:?}");
        }
    }
}
