//! Flattening a nested vendor record into dotted paths (`contact.firstName`,
//! `answers.0.value.0`) with the scalar at each, the form mappings and the preview report read.
//!
//! Rules: objects recurse with `.` between keys; array elements get their position as a path
//! segment; strings, numbers, booleans and `null` are kept; empty arrays and objects produce no
//! entry. A key that itself contains a dot is kept verbatim, so `{"a.b": 1}` and `{"a": {"b": 1}}`
//! both flatten to `a.b`; [`Flat::get`] then returns the first in record order. Vendors do not
//! send such keys in the APIs we read, and escaping them would make every mapping path harder to
//! write for a case that does not occur. A scalar at the root is kept under the empty path.
//!
//! This runs on every record of every sync, so it borrows the scalars from the record instead
//! of copying them, and writes every path into one shared string: a typical record costs three
//! allocations (path buffer, path store, entries), not one per field. Recursion depth is bounded by the JSON parser
//! (serde_json refuses input nested deeper than 128 levels).

use std::fmt;
use std::ops::Range;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Number, Value};

/// A scalar found in a vendor record, borrowed from it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Scalar<'a> {
    Null,
    Bool(bool),
    Number(&'a Number),
    Text(&'a str),
}

impl fmt::Display for Scalar<'_> {
    /// How a vendor value is quoted in messages: text in quotes, everything else as JSON.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scalar::Null => f.write_str("null"),
            Scalar::Bool(value) => write!(f, "{value}"),
            Scalar::Number(number) => write!(f, "{number}"),
            Scalar::Text(text) => write!(f, "{text:?}"),
        }
    }
}

/// A flattened record: dotted paths and their scalars, in the order the record holds them.
///
/// A `Vec` rather than a `BTreeMap`: list positions stay in numeric order (`answers.2` before
/// `answers.10`, which a sorted map would swap), building it is a push per field rather than a
/// tree insert with a string allocation, and the preview report lists paths in the order the
/// vendor's record has them. From JSON text ([`flatten_json`]) that is wire order; from a
/// `serde_json::Value` ([`flatten`]) it is the order the value iterates: sorted within each
/// object unless serde_json's `preserve_order` feature is on. Lookup is a linear scan, which for
/// the hundred or so paths of an attendee is cheaper than building an index per record.
///
/// Scalars borrow from the record where they can; text that had to be unescaped and numbers
/// read from text live in the `Flat` itself, so [`Flat::get`] hands out scalars tied to it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Flat<'a> {
    /// Every path, back to back; each entry holds its range.
    paths: String,
    entries: Vec<(Range<usize>, Slot<'a>)>,
    /// Unescaped text values, back to back.
    texts: String,
    /// Numbers read from JSON text.
    numbers: Vec<Number>,
}

/// Where an entry's scalar lives.
#[derive(Debug, Clone, PartialEq)]
enum Slot<'a> {
    Null,
    Bool(bool),
    Number(&'a Number),
    OwnNumber(usize),
    Text(&'a str),
    OwnText(Range<usize>),
}

impl<'a> Flat<'a> {
    fn with_capacity() -> Flat<'a> {
        Flat {
            // A Cvent attendee has about a hundred paths of about twenty bytes.
            paths: String::with_capacity(2048),
            entries: Vec::with_capacity(128),
            texts: String::new(),
            numbers: Vec::new(),
        }
    }

    fn scalar(&self, slot: &Slot<'a>) -> Scalar<'_> {
        match slot {
            Slot::Null => Scalar::Null,
            Slot::Bool(value) => Scalar::Bool(*value),
            Slot::Number(number) => Scalar::Number(number),
            Slot::OwnNumber(index) => Scalar::Number(&self.numbers[*index]),
            Slot::Text(text) => Scalar::Text(text),
            Slot::OwnText(range) => Scalar::Text(&self.texts[range.clone()]),
        }
    }

    fn push(&mut self, path: &str, slot: Slot<'a>) {
        let start = self.paths.len();
        self.paths.push_str(path);
        self.entries.push((start..self.paths.len(), slot));
    }

    /// The scalar at `path`: `None` when the record has no such path, `Some(Scalar::Null)` when
    /// the vendor sent `null` there.
    pub fn get(&self, path: &str) -> Option<Scalar<'_>> {
        let paths = self.paths.as_bytes();
        let path = path.as_bytes();
        self.entries
            .iter()
            // Lengths first: most paths differ in length, and that needs no memory access.
            .find(|(range, _)| range.len() == path.len() && &paths[range.clone()] == path)
            .map(|(_, slot)| self.scalar(slot))
    }

    /// Every path and its scalar, in record order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, Scalar<'_>)> + '_ {
        self.entries
            .iter()
            .map(|(range, slot)| (&self.paths[range.clone()], self.scalar(slot)))
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Flattens one vendor record; see the module documentation for the rules.
pub fn flatten(record: &Value) -> Flat<'_> {
    let mut flat = Flat::with_capacity();
    let mut path = String::with_capacity(128);
    walk(record, true, &mut path, &mut flat);
    flat
}

/// Appends the entries under `value`, whose path is `path`; `path` is restored before returning,
/// so one buffer serves the whole record. `at_root` rather than `path.is_empty()` decides the
/// separator, so an empty key (`{"": {"x": 1}}`) still yields `.x`.
fn walk<'a>(value: &'a Value, at_root: bool, path: &mut String, flat: &mut Flat<'a>) {
    let slot = match value {
        Value::Object(object) => {
            for (key, child) in object {
                let parent = path.len();
                if !at_root {
                    path.push('.');
                }
                path.push_str(key);
                walk(child, false, path, flat);
                path.truncate(parent);
            }
            return;
        }
        Value::Array(items) => {
            for (position, child) in items.iter().enumerate() {
                let parent = path.len();
                if !at_root {
                    path.push('.');
                }
                push_position(path, position);
                walk(child, false, path, flat);
                path.truncate(parent);
            }
            return;
        }
        Value::Null => Slot::Null,
        Value::Bool(value) => Slot::Bool(*value),
        Value::Number(number) => Slot::Number(number),
        Value::String(text) => Slot::Text(text),
    };
    flat.push(path, slot);
}

/// A vendor record's JSON text flattened, and how many fields were left out.
#[derive(Debug)]
pub struct FlatJson<'a> {
    pub flat: Flat<'a>,
    /// Object members dropped because `leave_out` named their key; their values were skipped
    /// unread, so they appear nowhere in `flat`.
    pub left_out: usize,
}

/// Flattens a vendor record straight from its JSON text, by the rules of [`flatten`], without
/// building a `serde_json::Value`: parsing into a tree, walking it and freeing it cost several
/// times more than the flattening itself. Members whose key `leave_out` names are skipped with
/// everything under them. Paths come in wire order.
pub fn flatten_json<'a>(
    text: &'a str,
    leave_out: &dyn Fn(&str) -> bool,
) -> Result<FlatJson<'a>, serde_json::Error> {
    let mut flat = Flat::with_capacity();
    let mut path = String::with_capacity(128);
    let mut left_out = 0;
    let mut deserializer = serde_json::Deserializer::from_str(text);
    Walker {
        at_root: true,
        path: &mut path,
        flat: &mut flat,
        leave_out,
        left_out: &mut left_out,
    }
    .deserialize(&mut deserializer)?;
    deserializer.end()?;
    Ok(FlatJson { flat, left_out })
}

/// The streaming counterpart of [`walk`]: a serde visitor that appends entries as the parser
/// meets them.
struct Walker<'w, 'a> {
    at_root: bool,
    path: &'w mut String,
    flat: &'w mut Flat<'a>,
    leave_out: &'w dyn Fn(&str) -> bool,
    left_out: &'w mut usize,
}

impl<'w, 'a> Walker<'w, 'a> {
    fn child(&mut self) -> Walker<'_, 'a> {
        Walker {
            at_root: false,
            path: &mut *self.path,
            flat: &mut *self.flat,
            leave_out: self.leave_out,
            left_out: &mut *self.left_out,
        }
    }

    fn leaf(self, slot: Slot<'a>) {
        self.flat.push(self.path, slot);
    }
}

impl<'de: 'a, 'a> DeserializeSeed<'de> for Walker<'_, 'a> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

/// Appends an object key to the path, borrowed or unescaped alike.
struct KeySeed<'w>(&'w mut String);

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<(), E> {
        self.0.push_str(key);
        Ok(())
    }
}

impl<'de: 'a, 'a> Visitor<'de> for Walker<'_, 'a> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.leaf(Slot::Null);
        Ok(())
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<(), E> {
        self.leaf(Slot::Bool(value));
        Ok(())
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<(), E> {
        self.own_number(Number::from(value))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<(), E> {
        self.own_number(Number::from(value))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<(), E> {
        match Number::from_f64(value) {
            Some(number) => self.own_number(number),
            // JSON text cannot hold NaN or infinities; serde_json maps overflow to infinity.
            None => Err(E::custom("a number out of range")),
        }
    }

    fn visit_borrowed_str<E: de::Error>(self, text: &'de str) -> Result<(), E> {
        self.leaf(Slot::Text(text));
        Ok(())
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<(), E> {
        let start = self.flat.texts.len();
        self.flat.texts.push_str(text);
        let end = self.flat.texts.len();
        self.leaf(Slot::OwnText(start..end));
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut items: A) -> Result<(), A::Error> {
        let mut position = 0;
        loop {
            let parent = self.path.len();
            if !self.at_root {
                self.path.push('.');
            }
            push_position(self.path, position);
            let more = items.next_element_seed(self.child())?.is_some();
            self.path.truncate(parent);
            if !more {
                return Ok(());
            }
            position += 1;
        }
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut members: A) -> Result<(), A::Error> {
        loop {
            let parent = self.path.len();
            if !self.at_root {
                self.path.push('.');
            }
            let key_start = self.path.len();
            if members.next_key_seed(KeySeed(self.path))?.is_none() {
                self.path.truncate(parent);
                return Ok(());
            }
            if (self.leave_out)(&self.path[key_start..]) {
                members.next_value::<de::IgnoredAny>()?;
                *self.left_out += 1;
            } else {
                members.next_value_seed(self.child())?;
            }
            self.path.truncate(parent);
        }
    }
}

impl Walker<'_, '_> {
    fn own_number<E>(self, number: Number) -> Result<(), E> {
        self.flat.numbers.push(number);
        let index = self.flat.numbers.len() - 1;
        self.leaf(Slot::OwnNumber(index));
        Ok(())
    }
}

/// Writes a list position without going through `fmt`, which would dominate for short lists.
fn push_position(path: &mut String, position: usize) {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    let mut rest = position;
    loop {
        start -= 1;
        digits[start] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    for &digit in &digits[start..] {
        path.push(char::from(digit));
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::fixtures;

    /// The flattened record as owned `(path, JSON scalar)` pairs, easy to compare with a table.
    fn pairs(record: &Value) -> Vec<(String, Value)> {
        flatten(record)
            .iter()
            .map(|(path, scalar)| {
                let value = match scalar {
                    Scalar::Null => Value::Null,
                    Scalar::Bool(value) => Value::Bool(value),
                    Scalar::Number(number) => Value::Number(number.clone()),
                    Scalar::Text(text) => Value::String(text.to_string()),
                };
                (path.to_string(), value)
            })
            .collect()
    }

    #[test]
    fn flattens_shapes() {
        /// (what the case shows, record, expected paths and scalars in order)
        type Case = (&'static str, Value, Vec<(&'static str, Value)>);
        let cases: Vec<Case> = vec![
            ("scalar at the root", json!("x"), vec![("", json!("x"))]),
            ("empty object", json!({}), vec![]),
            ("empty array", json!([]), vec![]),
            (
                "nested objects",
                json!({"contact": {"firstName": "Ada", "address": {"city": "Oslo"}}}),
                vec![
                    ("contact.address.city", json!("Oslo")),
                    ("contact.firstName", json!("Ada")),
                ],
            ),
            (
                "arrays get positions",
                json!({"answers": [{"value": ["a", "b"]}, {"value": ["c"]}]}),
                vec![
                    ("answers.0.value.0", json!("a")),
                    ("answers.0.value.1", json!("b")),
                    ("answers.1.value.0", json!("c")),
                ],
            ),
            (
                "array at the root",
                json!([1, [2]]),
                vec![("0", json!(1)), ("1.0", json!(2))],
            ),
            (
                "null is kept, empty containers are not",
                json!({"a": null, "b": [], "c": {}, "d": [[]], "e": [{}], "f": ""}),
                vec![("a", Value::Null), ("f", json!(""))],
            ),
            (
                "numbers and booleans are kept as they are",
                json!({"n": 150, "x": 1.5, "neg": -3, "t": true, "f": false}),
                vec![
                    ("f", json!(false)),
                    ("n", json!(150)),
                    ("neg", json!(-3)),
                    ("t", json!(true)),
                    ("x", json!(1.5)),
                ],
            ),
            (
                "keys with dots are kept verbatim",
                json!({"a.b": 1, "a": {"b": 2}}),
                // Same path twice: the documented ambiguity.
                vec![("a.b", json!(2)), ("a.b", json!(1))],
            ),
            (
                "empty key",
                json!({"": {"x": 1}, "y": {"": 2}}),
                vec![(".x", json!(1)), ("y.", json!(2))],
            ),
        ];
        for (name, record, expected) in cases {
            let expected: Vec<(String, Value)> = expected
                .into_iter()
                .map(|(path, value)| (path.to_string(), value))
                .collect();
            assert_eq!(pairs(&record), expected, "{name}");
        }
    }

    #[test]
    fn list_positions_stay_in_numeric_order() {
        // Regression guard: a sorted map over path strings would put `10` before `2`.
        let record = json!({"items": (0..12).collect::<Vec<_>>()});
        let paths: Vec<String> = pairs(&record).into_iter().map(|(path, _)| path).collect();
        let expected: Vec<String> = (0..12).map(|i| format!("items.{i}")).collect();
        assert_eq!(paths, expected);
    }

    #[test]
    fn positions_with_many_digits() {
        for position in [0, 9, 10, 99, 100, 12345, usize::MAX] {
            let mut path = String::from("list.");
            push_position(&mut path, position);
            assert_eq!(path, format!("list.{position}"));
        }
    }

    #[test]
    fn flattens_a_cvent_attendee() {
        let record = fixtures::cvent_attendee();
        let flat = flatten(&record);
        let cases = [
            ("id", Some(json!("7c1f5d2e-0a4b-4c39-9d0e-3b2f4a6c8e01"))),
            ("status", Some(json!("Accepted"))),
            ("guest", Some(json!(false))),
            (
                "contact.id",
                Some(json!("4f6a8b2c-1d3e-4a5b-8c7d-9e0f1a2b3c4d")),
            ),
            ("contact.firstName", Some(json!("Ada"))),
            ("contact.lastName", Some(json!("Lovelace"))),
            ("contact.workAddress.city", Some(json!("London"))),
            ("contact.customFields.0.id", Some(json!("cf-diet"))),
            ("contact.customFields.0.value.0", Some(json!("Vegetarian"))),
            ("contact.customFields.1.value.1", Some(json!("Python"))),
            (
                "contact._links.profilePicture.href",
                Some(json!("https://example.com/ada.jpg")),
            ),
            ("answers.0.question.id", Some(json!("q-tshirt"))),
            ("answers.0.value.0", Some(json!("M"))),
            ("answers.1.value.0", Some(json!("Analytical engines"))),
            ("registrationType.name", Some(json!("Full Conference"))),
            ("duration", Some(json!(5400))),
            ("note", Some(Value::Null)),
            // Empty lists leave no trace; absent paths are `None`, not null.
            ("appointmentGroups", None),
            ("contact.middleName", None),
            ("answers.2.value.0", None),
        ];
        for (path, expected) in cases {
            let actual = flat.get(path).map(|scalar| match scalar {
                Scalar::Null => Value::Null,
                Scalar::Bool(value) => Value::Bool(value),
                Scalar::Number(number) => Value::Number(number.clone()),
                Scalar::Text(text) => Value::String(text.to_string()),
            });
            assert_eq!(actual, expected, "{path}");
        }
        assert!(
            flat.iter()
                .all(|(path, _)| !path.is_empty() && !path.ends_with('.'))
        );
        assert_eq!(flat.len(), flat.iter().count());
        assert!(!flat.is_empty());
    }

    #[test]
    fn keys_keep_the_order_the_value_iterates() {
        let record = fixtures::cvent_attendee();
        let flat = flatten(&record);
        let from_flat: Vec<&str> = flat
            .iter()
            .map(|(path, _)| path)
            .filter(|path| !path.contains('.'))
            .collect();
        let from_value: Vec<&str> = record
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(_, value)| {
                value.is_string() || value.is_number() || value.is_boolean() || value.is_null()
            })
            .map(|(key, _)| key.as_str())
            .collect();
        assert_eq!(from_flat, from_value);
        // Children of one object stay together, right after each other.
        let contact: Vec<usize> = flat
            .iter()
            .enumerate()
            .filter(|(_, (path, _))| path.starts_with("contact."))
            .map(|(index, _)| index)
            .collect();
        assert!(contact.windows(2).all(|pair| pair[1] == pair[0] + 1));
    }

    /// `flatten_json`'s entries as owned pairs, sorted like `pairs` sorts object keys.
    fn pairs_from_text(text: &str) -> Vec<(String, Value)> {
        let flattened = flatten_json(text, &|_| false).expect("valid JSON");
        assert_eq!(flattened.left_out, 0);
        owned(&flattened.flat)
    }

    fn owned(flat: &Flat<'_>) -> Vec<(String, Value)> {
        flat.iter()
            .map(|(path, scalar)| {
                let value = match scalar {
                    Scalar::Null => Value::Null,
                    Scalar::Bool(value) => Value::Bool(value),
                    Scalar::Number(number) => Value::Number(number.clone()),
                    Scalar::Text(text) => Value::String(text.to_string()),
                };
                (path.to_string(), value)
            })
            .collect()
    }

    #[test]
    fn text_and_value_flatten_alike() {
        let records = [
            fixtures::cvent_attendee(),
            json!({"a": null, "b": [], "c": {}, "d": [[]], "e": [{}], "f": ""}),
            json!({"n": 150, "x": 1.5, "neg": -3, "big": 18446744073709551615u64, "t": true}),
            json!([1, [2, {"k": "v"}]]),
            json!("x"),
            json!({"": {"x": 1}, "y": {"": 2}}),
            json!({"items": (0..12).collect::<Vec<_>>()}),
        ];
        for record in records {
            let text = serde_json::to_string(&record).expect("serializable");
            // serde_json writes object keys sorted (no `preserve_order`), so wire order is
            // the order `flatten` walks the value in.
            assert_eq!(pairs_from_text(&text), pairs(&record), "{text}");
        }
    }

    #[test]
    fn text_keeps_wire_order_and_unescapes() {
        let text = r#"{"z": "a\"b", "a": {"k\u00e9y": "caf\u00e9", "n": 2}, "m": ["x\ny"]}"#;
        assert_eq!(
            pairs_from_text(text),
            vec![
                ("z".to_string(), json!("a\"b")),
                ("a.kéy".to_string(), json!("café")),
                ("a.n".to_string(), json!(2)),
                ("m.0".to_string(), json!("x\ny")),
            ]
        );
    }

    #[test]
    fn text_members_left_out_are_never_read() {
        let text = r#"{"id": "a", "contact": {"firstName": "Ada", "dateOfBirth": "1990-01-01",
            "passport": {"number": "X1"}}, "list": [{"dateOfBirth": "x", "seat": "Aisle"}]}"#;
        let flattened = flatten_json(text, &|key| key == "dateOfBirth" || key == "passport")
            .expect("valid JSON");
        assert_eq!(flattened.left_out, 3);
        let paths: Vec<&str> = flattened.flat.iter().map(|(path, _)| path).collect();
        assert_eq!(paths, ["id", "contact.firstName", "list.0.seat"]);
    }

    #[test]
    fn malformed_text_is_an_error() {
        for text in [
            "",
            "{",
            r#"{"a": }"#,
            r#"{"a": 1} trailing"#,
            "[1,]",
            r#"{"a": "\x"}"#,
        ] {
            assert!(flatten_json(text, &|_| false).is_err(), "{text:?}");
        }
    }

    #[test]
    fn scalars_display_as_messages_quote_them() {
        let number = Number::from(150);
        let cases = [
            (Scalar::Null, "null"),
            (Scalar::Bool(true), "true"),
            (Scalar::Number(&number), "150"),
            (Scalar::Text("lots \"of\""), r#""lots \"of\"""#),
        ];
        for (scalar, expected) in cases {
            assert_eq!(scalar.to_string(), expected);
        }
    }
}
