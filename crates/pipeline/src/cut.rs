//! Cutting object members out of JSON text without parsing it into a tree.
//!
//! A record that carries sensitive fields is stored without them. Parsing the record into a
//! `serde_json::Value`, removing the members and writing it out again cost more than the rest
//! of the record's way through the pipeline; this copies the text instead, leaving out the
//! members whose key is named, in one pass over the bytes. The output is the same JSON,
//! compact (whitespace outside strings dropped), members in the order they came; strings and
//! numbers are copied as they were written.
//!
//! [`drop_nul`] copies the text likewise without the NUL characters (U+0000) its strings
//! hold: a vendor may send one, and PostgreSQL can keep it neither in `text` nor in `jsonb`, so
//! the record is stored without it on every store alike.

/// `text` without the object members, at any depth, whose key `leave_out` names; `None` when
/// the text turns out not to be one JSON value. The check is loose (a number's digits are not
/// checked): it is meant for text that has been parsed once already.
pub fn cut_members(text: &str, leave_out: &dyn Fn(&str) -> bool) -> Option<String> {
    let mut cutter = Cutter {
        bytes: text.as_bytes(),
        at: 0,
        out: Vec::with_capacity(text.len()),
        leave_out,
    };
    cutter.value(0)?;
    cutter.skip_space();
    if cutter.at != cutter.bytes.len() {
        return None;
    }
    // Only whole values, strings and ASCII punctuation of valid UTF-8 text were copied.
    String::from_utf8(cutter.out).ok()
}

/// A record's JSON text without its NUL characters, and where they were.
#[derive(Debug, Clone, PartialEq)]
pub struct NulDropped {
    /// The same text with every `\u0000` escape left out; otherwise as written.
    pub text: String,
    /// The flattened paths (as [`crate::flatten_json`] writes them, NUL shown as `\0`) whose
    /// value or key held a NUL character, members `leave_out` names aside.
    pub paths: Vec<String>,
}

/// `text` without the NUL characters in its strings; `None` when it holds none. JSON text can
/// hold a NUL only as the escape `\u0000` (a raw control character is not valid JSON), and an
/// escape is one only after an odd run of backslashes: `\\u0000` is a backslash and then text.
pub fn drop_nul(text: &str, leave_out: &dyn Fn(&str) -> bool) -> Option<NulDropped> {
    // Most records hold no such text at all, and this is a single fast search.
    if !text.contains("\\u0000") {
        return None;
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    let mut dropped = false;
    while let Some(&byte) = bytes.get(at) {
        if byte != b'\\' {
            out.push(byte);
            at += 1;
        } else if bytes.get(at + 1..at + 6) == Some(b"u0000".as_slice()) {
            dropped = true;
            at += 6;
        } else {
            // Every other escape is copied whole, so its second byte is never read as the start
            // of one.
            out.extend_from_slice(&bytes[at..(at + 2).min(bytes.len())]);
            at += 2;
        }
    }
    if !dropped {
        return None;
    }
    // Only ASCII escapes were left out of valid UTF-8 text, so this holds.
    let cleaned = String::from_utf8(out).ok()?;
    let mut paths = Vec::new();
    // The original text is flattened again: the paths to report are where the NULs were.
    if let Ok(flattened) = crate::flatten_json(text, leave_out) {
        for (path, scalar) in flattened.flat.iter() {
            let in_value = matches!(scalar, crate::Scalar::Text(value) if value.contains('\0'));
            if in_value || path.contains('\0') {
                paths.push(path.escape_debug().to_string());
            }
        }
    }
    Some(NulDropped {
        text: cleaned,
        paths,
    })
}

/// Nesting beyond which the text is left to the checking way (serde_json stops at 128 too).
const MAX_DEPTH: usize = 128;

struct Cutter<'t> {
    bytes: &'t [u8],
    at: usize,
    out: Vec<u8>,
    leave_out: &'t dyn Fn(&str) -> bool,
}

impl Cutter<'_> {
    fn skip_space(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes.get(self.at) {
            self.at += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.skip_space();
        self.bytes.get(self.at).copied()
    }

    fn expect(&mut self, byte: u8) -> Option<()> {
        (self.peek()? == byte).then(|| self.at += 1)
    }

    /// Copies one value, cutting members out of the objects in it.
    fn value(&mut self, depth: usize) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        match self.peek()? {
            b'{' => self.object(depth),
            b'[' => self.array(depth),
            b'"' => {
                let (start, end) = self.string()?;
                self.out.extend_from_slice(&self.bytes[start..end]);
                Some(())
            }
            _ => self.scalar(),
        }
    }

    /// The span of the string starting here, quotes included.
    fn string(&mut self) -> Option<(usize, usize)> {
        let start = self.at;
        let mut at = start + 1;
        loop {
            match *self.bytes.get(at)? {
                b'"' => break,
                b'\\' => at += 2,
                byte if byte < 0x20 => return None,
                _ => at += 1,
            }
        }
        self.at = at + 1;
        Some((start, self.at))
    }

    /// A number, `true`, `false` or `null`, checked only for the characters it may hold.
    fn scalar(&mut self) -> Option<()> {
        let start = self.at;
        while let Some(byte) = self.bytes.get(self.at) {
            match byte {
                b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E' | b'a'..=b'z' => self.at += 1,
                _ => break,
            }
        }
        let token = &self.bytes[start..self.at];
        let valid = match token.first()? {
            b'-' | b'0'..=b'9' => token.iter().all(|b| !b.is_ascii_lowercase() || *b == b'e'),
            _ => matches!(token, b"true" | b"false" | b"null"),
        };
        valid.then(|| self.out.extend_from_slice(token))
    }

    /// Copies a container's opening bracket; `true` when the container is empty and closed.
    fn open(&mut self, open: u8, close: u8) -> Option<bool> {
        self.at += 1;
        self.out.push(open);
        let empty = self.peek()? == close;
        if empty {
            self.at += 1;
            self.out.push(close);
        }
        Some(empty)
    }

    fn array(&mut self, depth: usize) -> Option<()> {
        if self.open(b'[', b']')? {
            return Some(());
        }
        loop {
            self.value(depth + 1)?;
            match self.peek()? {
                b',' => {
                    self.at += 1;
                    self.out.push(b',');
                }
                b']' => {
                    self.at += 1;
                    self.out.push(b']');
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    fn object(&mut self, depth: usize) -> Option<()> {
        if self.open(b'{', b'}')? {
            return Some(());
        }
        let mut kept = 0usize;
        loop {
            if self.peek()? != b'"' {
                return None;
            }
            let (start, end) = self.string()?;
            let quoted = &self.bytes[start..end];
            self.expect(b':')?;
            let cut = {
                let inner = &quoted[1..quoted.len() - 1];
                if inner.contains(&b'\\') {
                    let key: String = serde_json::from_slice(quoted).ok()?;
                    (self.leave_out)(&key)
                } else {
                    (self.leave_out)(std::str::from_utf8(inner).ok()?)
                }
            };
            let mark = self.out.len();
            if kept > 0 {
                self.out.push(b',');
            }
            self.out.extend_from_slice(quoted);
            self.out.push(b':');
            self.value(depth + 1)?;
            if cut {
                self.out.truncate(mark);
            } else {
                kept += 1;
            }
            match self.peek()? {
                b',' => self.at += 1,
                b'}' => {
                    self.at += 1;
                    self.out.push(b'}');
                    return Some(());
                }
                _ => return None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn secret(key: &str) -> bool {
        matches!(key, "ssn" | "dateOfBirth" | "pass\"port")
    }

    fn cut(text: &str) -> Option<Value> {
        cut_members(text, &secret).map(|out| serde_json::from_str(&out).expect("valid JSON out"))
    }

    #[test]
    fn members_go_at_any_depth_and_in_any_place() {
        let text = r#" { "ssn" : "1", "id":"a", "contact": {"first":"Ada","dateOfBirth":{"y":[1990,{"ssn":2}]},
            "last":"L\u00e9", "ssn": null}, "list": [ {"ssn": true}, {"x": -1.5e3, "ssn": false} ],
            "empty": {}, "none": [], "dateOfBirth": "x" } "#;
        assert_eq!(
            cut(text),
            Some(json!({"id": "a", "contact": {"first": "Ada", "last": "Lé"},
                        "list": [{}, {"x": -1500.0}], "empty": {}, "none": []}))
        );
    }

    #[test]
    fn text_is_copied_as_written_and_order_kept() {
        let text = r#"{"b":"q\"uo\\te","a":12345678901234567890,"ssn":"x","c":[true,false,null]}"#;
        assert_eq!(
            cut_members(text, &secret).as_deref(),
            Some(r#"{"b":"q\"uo\\te","a":12345678901234567890,"c":[true,false,null]}"#)
        );
        assert_eq!(cut_members("[1, 2]", &secret).as_deref(), Some("[1,2]"));
        assert_eq!(
            cut_members(r#""ssn""#, &secret).as_deref(),
            Some(r#""ssn""#)
        );
    }

    #[test]
    fn escaped_keys_are_compared_by_their_text() {
        assert_eq!(
            cut(r#"{"pass\"port":1,"s\u0073n":2,"k":3}"#),
            Some(json!({"k": 3}))
        );
    }

    #[test]
    fn nul_characters_are_dropped_and_their_paths_named() {
        let text = r#"{"id":"a\u0000b","contact":{"firstName":"A\u0000d\u0000a","note":"x\\u0000y"},
            "k\u0000ey":1,"ssn":"1\u0000","list":["\u0000"]}"#;
        let dropped = drop_nul(text, &secret).expect("NULs to drop");
        assert_eq!(
            dropped.text,
            r#"{"id":"ab","contact":{"firstName":"Ada","note":"x\\u0000y"},
            "key":1,"ssn":"1","list":[""]}"#
        );
        assert_eq!(
            dropped.paths,
            ["id", "contact.firstName", "k\\0ey", "list.0"],
            "the escaped backslash is text, and a member left out is not named"
        );
        let value: Value = serde_json::from_str(&dropped.text).expect("valid JSON out");
        assert_eq!(value["contact"]["note"], json!("x\\u0000y"));
    }

    #[test]
    fn only_a_nul_escape_is_dropped() {
        for text in [r#"{"a":"b"}"#, r#"{"a":"\\u0000"}"#, r#"{"a":"\\\\u0000"}"#] {
            assert_eq!(drop_nul(text, &secret), None, "{text}");
        }
        // An escaped backslash, then a NUL; and a NUL followed by a digit.
        let dropped = drop_nul(r#"{"a":"\\\u0000","b":"\u00001"}"#, &secret);
        assert_eq!(
            dropped.map(|dropped| dropped.text).as_deref(),
            Some(r#"{"a":"\\","b":"1"}"#)
        );
    }

    #[test]
    fn malformed_text_is_left_to_the_caller() {
        for text in [
            "",
            "{",
            "{\"a\":}",
            "{\"a\" 1}",
            "[1,]x",
            "{\"a\":1,}",
            "[1 2]",
            "tru",
            "{1:2}",
            "\"open",
            "\"tab\there\"",
            "1 2",
            "nulls",
        ] {
            assert_eq!(cut_members(text, &secret), None, "{text:?}");
        }
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        assert_eq!(cut_members(&deep, &secret), None);
    }
}
