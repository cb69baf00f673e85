//! Where values stand in JSON text that [`crate::strict_json::check`] has accepted: the members of
//! an object and the entries of an array, as byte ranges of the text. On checked text this is a
//! plain scan (strings skipped with their escapes, brackets counted): no tree is built, nothing
//! is allocated but the list of ranges asked for.
//!
//! Why not serde_json's `RawValue`: its reader's error path prints floats, which alone brings
//! about 40 KB of float formatting into the wasm.

use std::borrow::Cow;
use std::ops::Range;

/// The text of a checked JSON string (`quoted`, quotes included), escapes decoded.
pub fn decoded(quoted: &str) -> Cow<'_, str> {
    let plain = &quoted[1..quoted.len() - 1];
    if !plain.contains('\\') {
        return Cow::Borrowed(plain);
    }
    let mut text = String::with_capacity(plain.len());
    let mut rest = plain;
    while let Some(at) = rest.find('\\') {
        text.push_str(&rest[..at]);
        let escape = rest.as_bytes()[at + 1];
        rest = &rest[at + 2..];
        let simple = match escape {
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let unit = hex4(rest);
                rest = &rest[4..];
                // Checked JSON pairs every surrogate: a high one is followed by "\\u" and its low one.
                let code = if (0xD800..0xDC00).contains(&unit) {
                    let low = hex4(&rest[2..]);
                    rest = &rest[6..];
                    0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                } else {
                    unit
                };
                char::from_u32(code).unwrap_or('\u{FFFD}')
            }
            other => other as char, // '"', '\\', '/'
        };
        text.push(simple);
    }
    text.push_str(rest);
    Cow::Owned(text)
}

fn hex4(text: &str) -> u32 {
    text.as_bytes()[..4].iter().fold(0, |value, &digit| value * 16 + (digit as char).to_digit(16).unwrap_or(0))
}

/// The members of the object at `span` of `text`, as (name, value) ranges; the name range holds
/// the quoted name, escapes and all. None when the value there is not an object.
pub fn members(text: &str, span: Range<usize>) -> Option<Vec<(Range<usize>, Range<usize>)>> {
    items(text, span, b'{', b'}', |scan| {
        let name = scan.value();
        scan.skip_whitespace_and(b':');
        (name, scan.value())
    })
}

/// The entries of the array at `span` of `text`. None when the value there is not an array.
pub fn entries(text: &str, span: Range<usize>) -> Option<Vec<Range<usize>>> {
    items(text, span, b'[', b']', |scan| scan.value())
}

/// The items between `open` and `close` at `span`, each read by `item`, or None when the value
/// there does not start with `open`.
fn items<T>(text: &str, span: Range<usize>, open: u8, close: u8, mut item: impl FnMut(&mut Scan) -> T) -> Option<Vec<T>> {
    let bytes = text.as_bytes();
    if bytes.get(span.start) != Some(&open) {
        return None;
    }
    let mut scan = Scan { bytes, at: span.start + 1 };
    let mut found = Vec::new();
    loop {
        scan.skip_whitespace_and(b',');
        if bytes[scan.at] == close {
            return Some(found);
        }
        found.push(item(&mut scan));
    }
}

/// An object of checked JSON text, its members listed once and found by decoded name
/// (`"k\u0069d"` is `kid`).
#[derive(Default)]
pub struct JsonObject<'a> {
    text: &'a str,
    members: Vec<(Range<usize>, Range<usize>)>,
}

impl<'a> JsonObject<'a> {
    /// The object at `span` of `text`, or None when the value there is not an object.
    pub fn at(text: &'a str, span: Range<usize>) -> Option<Self> {
        Some(JsonObject { text, members: members(text, span)? })
    }

    /// The whole document, when it is an object.
    pub fn document(text: &'a str) -> Option<Self> {
        Self::at(text, document(text))
    }

    /// Where the value of the member `name` stands in the text.
    pub fn span(&self, name: &str) -> Option<Range<usize>> {
        let text = self.text;
        self.members.iter().find(|(quoted, _)| decoded(&text[quoted.clone()]) == name).map(|(_, value)| value.clone())
    }

    /// The text of the value of the member `name`.
    pub fn get(&self, name: &str) -> Option<&'a str> {
        self.span(name).map(|value| &self.text[value])
    }

    /// The member `name`, decoded, when its value is a string.
    pub fn string(&self, name: &str) -> Option<Cow<'a, str>> {
        self.get(name).filter(|value| value.starts_with('"')).map(decoded)
    }
}

/// The whole document: the range of its one value, without surrounding whitespace.
pub fn document(text: &str) -> Range<usize> {
    let mut scan = Scan { bytes: text.as_bytes(), at: 0 };
    scan.skip_whitespace();
    scan.value()
}

struct Scan<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Scan<'_> {
    fn skip_whitespace(&mut self) {
        while matches!(self.bytes.get(self.at), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    /// Skips whitespace and at most one `separator` between values.
    fn skip_whitespace_and(&mut self, separator: u8) {
        self.skip_whitespace();
        if self.bytes.get(self.at) == Some(&separator) {
            self.at += 1;
            self.skip_whitespace();
        }
    }

    /// The range of the value that starts here, moving past it.
    fn value(&mut self) -> Range<usize> {
        let start = self.at;
        match self.bytes[start] {
            b'"' => self.skip_string(),
            b'{' | b'[' => {
                let mut depth = 0usize;
                loop {
                    match self.bytes[self.at] {
                        b'"' => {
                            self.skip_string();
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => depth -= 1,
                        _ => {}
                    }
                    self.at += 1;
                    if depth == 0 {
                        break;
                    }
                }
            }
            _ => {
                while self.at < self.bytes.len()
                    && !matches!(self.bytes[self.at], b',' | b']' | b'}' | b' ' | b'\t' | b'\n' | b'\r')
                {
                    self.at += 1;
                }
            }
        }
        start..self.at
    }

    fn skip_string(&mut self) {
        self.at += 1;
        loop {
            match self.bytes[self.at] {
                b'\\' => self.at += 2,
                b'"' => {
                    self.at += 1;
                    return;
                }
                _ => self.at += 1,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts<'a>(text: &'a str, spans: &[Range<usize>]) -> Vec<&'a str> {
        spans.iter().map(|span| &text[span.clone()]).collect()
    }

    #[test]
    fn finds_members_and_entries_with_their_exact_text() {
        let text = " { \"a\" : [ 1 , \"x]}\\\"\" ,{\"b\":[]},-2.5e3,true,null ] , \"k\\u0065ys\":{} } ";
        let top = document(text);
        assert_eq!(&text[top.clone()], &text[1..text.len() - 1]);
        let found = members(text, top).unwrap();
        let names: Vec<&str> = found.iter().map(|(name, _)| &text[name.clone()]).collect();
        assert_eq!(names, ["\"a\"", "\"k\\u0065ys\""]);
        let items = entries(text, found[0].1.clone()).unwrap();
        assert_eq!(texts(text, &items), ["1", "\"x]}\\\"\"", "{\"b\":[]}", "-2.5e3", "true", "null"]);
        assert_eq!(&text[found[1].1.clone()], "{}");
        assert_eq!(members(text, found[1].1.clone()).unwrap(), []);
    }

    #[test]
    fn decodes_strings_as_serde_json_does() {
        for quoted in [r#""plain""#, r#""a\"b\\c\/d""#, r#""\b\f\n\r\t""#, r#""k\u0069d""#, r#""\ud83d\ude00 \u00e9""#, r#""\u0000""#, r#""""#] {
            let expected: String = serde_json::from_str(quoted).unwrap();
            assert_eq!(decoded(quoted), expected, "{quoted}");
        }
    }

    #[test]
    fn answers_none_for_another_shape() {
        let text = r#"[{"a":1},"s",7]"#;
        assert!(members(text, document(text)).is_none());
        let items = entries(text, document(text)).unwrap();
        assert!(entries(text, items[0].clone()).is_none());
        assert!(members(text, items[1].clone()).is_none());
        assert_eq!(entries("[]", 0..2).unwrap(), []);
        assert_eq!(texts("42", &[document("42")]), ["42"]);
    }
}
