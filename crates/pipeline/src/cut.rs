//! Cutting object members out of JSON text without parsing it into a tree.
//!
//! A record that carries sensitive fields is stored without them. Parsing the record into a
//! `serde_json::Value`, removing the members and writing it out again cost more than the rest
//! of the record's way through the pipeline; this copies the text instead, leaving out the
//! members whose key is named, in one pass over the bytes. The output is the same JSON,
//! compact (whitespace outside strings dropped), members in the order they came; strings and
//! numbers are copied as they were written.

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
