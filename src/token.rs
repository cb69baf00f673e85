//! Reading a JWT in the JWS compact serialization (RFC 7515 7.1) into its parts, strictly:
//! `header.payload.signature`, each segment canonical base64url without padding, the header and
//! the payload each one JSON object without duplicate member names, nested at most
//! [`MAX_JSON_DEPTH`] levels, the whole token at most [`MAX_TOKEN_BYTES`]. Nothing here checks a
//! signature or a claim: this is what `decodeJwt` shows, and what verification will start from.
//!
//! jwt-compact's `UntrustedToken` reads the same form, but it does not hand out the decoded
//! header and claims bytes, which the strict JSON check needs (serde keeps the last of two
//! members of the same name unless they are fields it knows).

use crate::cache::Input;
use crate::error::CacheError;
use crate::jwks::MAX_JSON_DEPTH;
use crate::json_spans;
use crate::strict_json::{self, CheckError};

/// The longest token read, before it is split: real tokens are a few KiB.
pub const MAX_TOKEN_BYTES: usize = 16 * 1024;
/// The longest decoded header read: real headers are tens of bytes (a few KiB with an `x5c`
/// chain), and each is read on every verification before its signature (ATTACKS.md F2).
pub const MAX_HEADER_BYTES: usize = 8 * 1024;

/// A token's parts, decoded but not verified.
#[derive(Debug, PartialEq, Eq)]
pub struct CompactToken<'a> {
    /// The header, as JSON text (an object).
    pub header: String,
    /// The payload, as JSON text (an object: the claims).
    pub payload: String,
    /// `header.payload` as it stands in the token: the bytes the signature covers.
    pub signing_input: &'a str,
    pub signature: Vec<u8>,
}

/// The token a caller handed over, or why it cannot be one.
pub fn checked_token(token: Input<&str>) -> Result<&str, CacheError> {
    match token {
        Input::Given(token) => Ok(token),
        Input::Oversized => Err(CacheError::TokenMalformed(format!("longer than {MAX_TOKEN_BYTES} bytes"))),
        Input::Refused(_, why) => Err(CacheError::TokenMalformed(why.to_owned())),
        Input::Absent | Input::WrongType => Err(CacheError::TokenMalformed("it must be a string".into())),
    }
}

pub fn read_compact(token: &str) -> Result<CompactToken<'_>, CacheError> {
    let (header, payload, signature, signing_input) = segments(token)?;
    Ok(CompactToken {
        header: json_object(header, "header", MAX_HEADER_BYTES)?,
        payload: json_object(payload, "payload", MAX_TOKEN_BYTES)?,
        signing_input,
        signature: signature_bytes(signature)?,
    })
}

/// A JWS whose payload is any bytes (RFC 7515), not a JWT's claims: what `verifyJws` reads.
#[derive(Debug, PartialEq, Eq)]
pub struct CompactJws<'a> {
    pub header: String,
    pub payload: Vec<u8>,
    pub signing_input: &'a str,
    pub signature: Vec<u8>,
}

/// Reads a JWS compact serialization by the same rules as [`read_compact`], except that the
/// payload may be any bytes.
pub fn read_jws(token: &str) -> Result<CompactJws<'_>, CacheError> {
    let (header, payload, signature, signing_input) = segments(token)?;
    Ok(CompactJws {
        header: json_object(header, "header", MAX_HEADER_BYTES)?,
        payload: base64url(payload).ok_or_else(|| CacheError::TokenMalformed("the payload is not canonical base64url".into()))?,
        signing_input,
        signature: signature_bytes(signature)?,
    })
}

/// The three segments and the signing input, `header.payload`.
fn segments(token: &str) -> Result<(&str, &str, &str, &str), CacheError> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(CacheError::TokenMalformed(format!("longer than {MAX_TOKEN_BYTES} bytes")));
    }
    let mut segments = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (segments.next(), segments.next(), segments.next(), segments.next())
    else {
        return Err(CacheError::TokenMalformed("expected three segments, header.payload.signature".into()));
    };
    Ok((header, payload, signature, &token[..header.len() + 1 + payload.len()]))
}

fn signature_bytes(signature: &str) -> Result<Vec<u8>, CacheError> {
    base64url(signature).ok_or_else(|| CacheError::TokenMalformed("the signature is not canonical base64url".into()))
}

/// Verification refuses an empty signature outright (ATTACKS.md A1: a stripped signature);
/// `decodeJwt` still shows such a token, for inspection.
pub fn require_signature(signature: &[u8]) -> Result<(), CacheError> {
    if signature.is_empty() {
        return Err(CacheError::TokenMalformed("the signature is empty".into()));
    }
    Ok(())
}

/// A segment that must be one JSON object: its text.
fn json_object(segment: &str, what: &str, max_bytes: usize) -> Result<String, CacheError> {
    let bytes = base64url(segment)
        .ok_or_else(|| CacheError::TokenMalformed(format!("the {what} is not canonical base64url")))?;
    if bytes.len() > max_bytes {
        return Err(CacheError::TokenMalformed(format!("the {what} is longer than {max_bytes} bytes")));
    }
    let text = strict_json::check(&bytes, MAX_JSON_DEPTH).map_err(|error| {
        CacheError::TokenMalformed(match error {
            CheckError::Invalid(error) => format!("the {what} is not valid JSON: {error}"),
            CheckError::TooDeep => format!("the {what} nests deeper than {MAX_JSON_DEPTH} levels"),
        })
    })?;
    if !text[json_spans::document(text)].starts_with('{') {
        return Err(CacheError::TokenMalformed(format!("the {what} is not a JSON object")));
    }
    // The check found the bytes to be UTF-8 (`text` is all of them): they become the string
    // without a copy.
    Ok(String::from_utf8(bytes).unwrap_or_default())
}

/// Decodes base64url without padding (RFC 7515 2), refusing anything but its one canonical form:
/// other characters, padding, a length no encoding has, and unused bits that are not zero (which
/// would let several texts stand for one token).
pub fn base64url(text: &str) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    if bytes.len() % 4 == 1 {
        return None;
    }
    let sextet = |byte: u8| SEXTETS[byte as usize];
    let mut decoded = Vec::with_capacity(bytes.len() / 4 * 3 + 2);
    let mut chunks = bytes.chunks_exact(4);
    for chunk in &mut chunks {
        let (a, b, c, d) = (sextet(chunk[0]), sextet(chunk[1]), sextet(chunk[2]), sextet(chunk[3]));
        if (a | b | c | d) & INVALID_SEXTET_BITS != 0 {
            return None;
        }
        let bits = (a as u32) << 18 | (b as u32) << 12 | (c as u32) << 6 | d as u32;
        decoded.extend_from_slice(&[(bits >> 16) as u8, (bits >> 8) as u8, bits as u8]);
    }
    match *chunks.remainder() {
        [] => {}
        [a, b] => {
            let (a, b) = (sextet(a), sextet(b));
            // The last character carries 4 unused bits, which must be zero.
            if (a | b) & INVALID_SEXTET_BITS != 0 || b & 0x0F != 0 {
                return None;
            }
            decoded.push(a << 2 | b >> 4);
        }
        [a, b, c] => {
            let (a, b, c) = (sextet(a), sextet(b), sextet(c));
            // The last character carries 2 unused bits, which must be zero.
            if (a | b | c) & INVALID_SEXTET_BITS != 0 || c & 0x03 != 0 {
                return None;
            }
            decoded.extend_from_slice(&[a << 2 | b >> 4, b << 4 | c >> 2]);
        }
        _ => return None,
    }
    Some(decoded)
}

/// Marks a byte that is not in the base64url alphabet in [`SEXTETS`].
const INVALID_SEXTET_BITS: u8 = 0x80;

/// The 6-bit value of each byte of the base64url alphabet (RFC 4648 5); every other byte maps to
/// [`INVALID_SEXTET_BITS`].
const SEXTETS: [u8; 256] = {
    let mut table = [INVALID_SEXTET_BITS; 256];
    let mut at = 0;
    while at < 64 {
        table[b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[at] as usize] = at as u8;
        at += 1;
    }
    table
};

/// Base64url without padding, for the tests that build tokens.
#[cfg(test)]
pub(crate) fn encode(bytes: &[u8]) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn token(header: &str, payload: &str) -> String {
        format!("{}.{}.{}", encode(header.as_bytes()), encode(payload.as_bytes()), encode(b"sig"))
    }

    fn why(token: &str) -> String {
        let error = read_compact(token).unwrap_err();
        assert_eq!(error.code(), "ERR_JWT_MALFORMED");
        error.to_string()
    }

    #[test]
    fn only_a_string_can_be_a_token() {
        assert_eq!(checked_token(Input::Given("a.b.c")), Ok("a.b.c"));
        for input in [Input::Absent, Input::WrongType, Input::Oversized, Input::Refused("x", "not well-formed Unicode")] {
            assert_eq!(checked_token(input).unwrap_err().code(), "ERR_JWT_MALFORMED");
        }
    }

    #[test]
    fn reads_the_three_parts() {
        let text = token(r#"{"alg":"ES256","kid":"k"}"#, r#"{"sub":"a","exp":1}"#);
        let read = read_compact(&text).unwrap();
        assert_eq!(read.header, r#"{"alg":"ES256","kid":"k"}"#);
        assert_eq!(read.payload, r#"{"sub":"a","exp":1}"#);
        assert_eq!(read.signature, b"sig");
        assert_eq!(read.signing_input, &text[..text.rfind('.').unwrap()]);
    }

    #[test]
    fn decodes_base64url_exactly_as_encoded() {
        for length in 0..40 {
            let bytes: Vec<u8> = (0..length).map(|i| (i * 37 + 11) as u8).collect();
            assert_eq!(base64url(&encode(&bytes)).unwrap(), bytes, "{length} bytes");
        }
        assert_eq!(base64url("-_-_").unwrap(), [0xfb, 0xff, 0xbf]);
    }

    #[test]
    fn refuses_every_other_base64() {
        let canonical = encode(b"ab"); // "YWI"
        assert_eq!(canonical, "YWI");
        for bad in ["YWJ", "YWI=", "YW+", "YW/", "Y", "YW I", "YWI\n"] {
            assert!(base64url(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn refuses_malformed_tokens_with_their_reason() {
        let good = token(r#"{"alg":"ES256"}"#, "{}");
        assert!(why(&good[..good.rfind('.').unwrap()]).contains("three segments"));
        assert!(why(&format!("{good}.x")).contains("three segments"));
        assert!(why(&good.replacen('.', "=.", 1)).contains("header is not canonical base64url"));
        assert!(why(&token(r#"{"alg":"ES256","alg":"none"}"#, "{}")).contains("duplicate member \"alg\""));
        assert!(why(&token(r#"{"alg":"ES256"}"#, r#"{"sub":"a","s\u0075b":"b"}"#)).contains("payload is not valid JSON"));
        assert!(why(&token(r#"["ES256"]"#, "{}")).contains("header is not a JSON object"));
        assert!(why(&token(r#"{"alg":"ES256"}"#, "\"claims\"")).contains("payload is not a JSON object"));
        assert!(why(&token(r#"{"alg":"ES256"}"#, &format!("{}1{}", "[".repeat(20), "]".repeat(20)))).contains("nests deeper"));
        assert!(why(&token(r#"{"alg":"ES256"}"#, "{} x")).contains("payload is not valid JSON"));
        let huge = token(r#"{"alg":"ES256"}"#, &format!(r#"{{"pad":"{}"}}"#, "p".repeat(MAX_TOKEN_BYTES)));
        assert_eq!(why(&huge), "JWT malformed: longer than 16384 bytes");
        let big_header = token(&format!(r#"{{"alg":"ES256","pad":"{}"}}"#, "h".repeat(MAX_HEADER_BYTES)), "{}");
        assert_eq!(why(&big_header), "JWT malformed: the header is longer than 8192 bytes");
        assert!(why(&format!("{}.{}.{}", encode(b"\xff{}"), encode(b"{}"), "")).contains("header is not valid JSON"));
        let stripped = format!("{}.{}.", encode(br#"{"alg":"ES256"}"#), encode(b"{}"));
        let stripped = read_compact(&stripped).unwrap();
        assert_eq!(require_signature(&stripped.signature).unwrap_err().to_string(), "JWT malformed: the signature is empty", "A1");
    }

    #[test]
    fn a_jws_payload_may_be_any_bytes() {
        let text = format!("{}.{}.{}", encode(br#"{"alg":"EdDSA"}"#), encode(b"\x00foo"), encode(b"sig"));
        let jws = read_jws(&text).unwrap();
        assert_eq!((jws.header.as_str(), jws.payload.as_slice()), (r#"{"alg":"EdDSA"}"#, b"\x00foo".as_slice()));
        assert_eq!(read_jws(&format!("{}.{}.{}", encode(br#"{"alg":"EdDSA"}"#), "a=", encode(b"s"))).unwrap_err().code(), "ERR_JWT_MALFORMED");
    }
}
