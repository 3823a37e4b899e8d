//! How SQLite keeps a record's JSON text: LZ4-compressed against a dictionary.
//!
//! A Cvent attendee is about 2.4 KB of JSON and its workspace fields another 0.6 KB, so a row
//! took a 4 KB page of its own, written three times on its way in (to the WAL, read back and
//! written by the checkpoint). Most of those bytes are field names that every record repeats,
//! and values every record of the event shares: the event's id, its questions' ids, the
//! registration types, companies, cities.
//!
//! Two dictionaries exist:
//! - the built-in one ([`DICTIONARY_1`]): the field names records share. Compressed against it,
//!   an attendee's row is about 1.7 KB, two to a page.
//! - a stream's own ([`stream_dictionary`]), made by the store from the first records a sync
//!   writes of a connection's data type: the built-in one followed by those records with every
//!   value fewer than [`SHARED_BY`] of them hold blanked out, so no one person's name, email or
//!   id is kept in it. Compressed against it, an attendee's row is under 1 KB, four to a page.
//!
//! A packed value is one format byte, for [`FORMAT_2`] the dictionary's id (4 bytes,
//! little-endian), then an LZ4 block with its uncompressed size prepended (4 bytes,
//! little-endian). liblz4 writes it, with each dictionary loaded once and attached to a stream
//! per thread; lz4_flex, checked Rust, reads it. Text stored before packing existed (or by
//! another writer) starts with a JSON character and is read as it is. A dictionary, once
//! stored, never changes: the built-in one is part of the format, a stream's is kept in the
//! database under its id.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::ffi::{c_char, c_int};

/// Packed with [`DICTIONARY_1`].
const FORMAT_1: u8 = 0x01;

/// Packed with a stream's dictionary, whose id follows the format byte.
const FORMAT_2: u8 = 0x02;

/// Field names and shapes of the workspace's tagged fields and of a Cvent attendee, values
/// blank. Never edit: stored values can only be read with the bytes they were packed against.
const DICTIONARY_1: &[u8] = include_bytes!("packing-dictionary-1.json");

/// How many records a stream's dictionary is made from.
pub(crate) const SAMPLE_RECORDS: usize = 32;

/// A value goes into a stream's dictionary only when this many of the sampled records hold it.
pub(crate) const SHARED_BY: usize = 3;

/// LZ4 looks back 64 KiB at most, so a dictionary is never longer.
const DICTIONARY_LIMIT: usize = 64 * 1024;

/// A dictionary loaded into an LZ4 stream, once: encoders attach it rather than hash its bytes
/// again for every value, which for a few hundred bytes of field names was most of the work.
struct Dictionary {
    bytes: Cow<'static, [u8]>,
    stream: std::ptr::NonNull<lz4_sys::LZ4StreamEncode>,
}

// SAFETY: after `LZ4_loadDict` the stream is only read (`LZ4_attach_dictionary` takes it as
// `const`), and its bytes never move or change while it lives.
unsafe impl Send for Dictionary {}
unsafe impl Sync for Dictionary {}

impl Dictionary {
    fn load(bytes: Cow<'static, [u8]>) -> Dictionary {
        let length = c_int::try_from(bytes.len().min(DICTIONARY_LIMIT)).unwrap_or(0);
        // SAFETY: a stream fresh from `LZ4_createStream` may be given a dictionary; its bytes
        // belong to the returned value, on the heap or static, and outlive the stream, which
        // `Drop` frees first.
        unsafe {
            let stream = std::ptr::NonNull::new(lz4_sys::LZ4_createStream())
                .expect("LZ4 could not allocate its dictionary stream");
            let start = bytes.len() - length as usize;
            LZ4_loadDict(stream.as_ptr(), bytes.as_ptr().add(start).cast(), length);
            Dictionary { bytes, stream }
        }
    }

    /// The bytes LZ4 refers to: the last 64 KiB.
    fn window(&self) -> &[u8] {
        &self.bytes[self.bytes.len().saturating_sub(DICTIONARY_LIMIT)..]
    }
}

impl Drop for Dictionary {
    fn drop(&mut self) {
        // SAFETY: the stream came from `LZ4_createStream`; encoders attach it only during a
        // call that borrows this value.
        unsafe { lz4_sys::LZ4_freeStream(self.stream.as_ptr()) };
    }
}

impl std::fmt::Debug for Dictionary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Dictionary({} bytes)", self.bytes.len())
    }
}

static BUILT_IN: std::sync::LazyLock<Dictionary> =
    std::sync::LazyLock::new(|| Dictionary::load(Cow::Borrowed(DICTIONARY_1)));

/// A stream's dictionary as the database keeps it: its id and bytes.
#[derive(Debug)]
pub(crate) struct StreamDictionary {
    pub(crate) id: u32,
    dictionary: Dictionary,
}

impl StreamDictionary {
    pub(crate) fn new(id: u32, bytes: Vec<u8>) -> StreamDictionary {
        StreamDictionary {
            id,
            dictionary: Dictionary::load(Cow::Owned(bytes)),
        }
    }
}

/// The stored form of a JSON text: against the stream's dictionary when it has one.
pub(crate) fn pack(text: &str, stream: Option<&StreamDictionary>) -> Vec<u8> {
    ENCODER.with(|encoder| match stream {
        Some(stream) => {
            let mut header = [FORMAT_2, 0, 0, 0, 0];
            header[1..].copy_from_slice(&stream.id.to_le_bytes());
            encoder.pack(text.as_bytes(), &stream.dictionary, &header)
        }
        None => encoder.pack(text.as_bytes(), &BUILT_IN, &[FORMAT_1]),
    })
}

thread_local! {
    static ENCODER: Encoder = Encoder::new();
}

/// How much speed the encoder trades for size: LZ4's `acceleration`. On stored Cvent attendees
/// 4 packed a value in 3.8 µs, where 1 took 6.1 µs and lz4_flex 7.4 µs, for 6% more bytes than
/// 1 and 1% more than lz4_flex.
const ACCELERATION: i32 = 4;

/// One thread's LZ4 stream, reset and given the dictionary for every value.
struct Encoder(std::ptr::NonNull<lz4_sys::LZ4StreamEncode>);

impl Encoder {
    fn new() -> Encoder {
        // SAFETY: `LZ4_createStream` returns an initialised stream or null.
        let stream = unsafe { lz4_sys::LZ4_createStream() };
        Encoder(std::ptr::NonNull::new(stream).expect("LZ4 could not allocate a stream"))
    }

    /// `header`, the text's length (4 bytes, little-endian) and the LZ4 block.
    fn pack(&self, text: &[u8], dictionary: &Dictionary, header: &[u8]) -> Vec<u8> {
        let length = c_int::try_from(text.len()).expect("a JSON value under 2 GiB");
        // SAFETY: `LZ4_compressBound` is a pure function of the length.
        let bound = unsafe { lz4_sys::LZ4_compressBound(length) };
        let start = header.len() + 4;
        let mut packed = Vec::with_capacity(start + bound as usize);
        packed.extend_from_slice(header);
        packed.extend_from_slice(&(text.len() as u32).to_le_bytes());
        // SAFETY: the stream is this thread's, reset before use; the dictionary stream is
        // loaded and outlives the call; `text` is `length` readable bytes and the vector has
        // `bound` bytes of spare capacity past the header, which LZ4 never writes beyond.
        let written = unsafe {
            LZ4_resetStream_fast(self.0.as_ptr());
            LZ4_attach_dictionary(self.0.as_ptr(), dictionary.stream.as_ptr());
            LZ4_compress_fast_continue(
                self.0.as_ptr(),
                text.as_ptr().cast(),
                packed.as_mut_ptr().add(start).cast(),
                length,
                bound,
                ACCELERATION,
            )
        };
        assert!(written > 0 || text.is_empty(), "LZ4 failed to compress");
        // SAFETY: LZ4 initialised the `written` bytes after the header.
        unsafe { packed.set_len(start + written as usize) };
        packed
    }
}

impl Drop for Encoder {
    fn drop(&mut self) {
        // SAFETY: the stream came from `LZ4_createStream` and is not used after this.
        unsafe { lz4_sys::LZ4_freeStream(self.0.as_ptr()) };
    }
}

/// A stream's dictionary made from its first records' JSON texts (each record's fields and raw
/// copy): the built-in dictionary, then each text in its own shape with the values fewer than
/// [`SHARED_BY`] of the records hold replaced by `""` or `0`, repeated shapes once. `None` for
/// fewer than [`SAMPLE_RECORDS`] records, which would not say what records share.
pub(crate) fn stream_dictionary(records: &[[&str; 2]]) -> Option<Vec<u8>> {
    if records.len() < SAMPLE_RECORDS {
        return None;
    }
    let texts: Vec<(&str, Vec<Value>)> = records
        .iter()
        .flatten()
        .map(|text| (*text, values(text)))
        .collect();
    let mut held_by: HashMap<&str, usize> = HashMap::new();
    for record in texts.chunks(2) {
        let distinct: HashSet<&str> = record
            .iter()
            .flat_map(|(text, values)| values.iter().map(|value| &text[value.span.clone()]))
            .collect();
        for value in distinct {
            *held_by.entry(value).or_default() += 1;
        }
    }
    let mut dictionary = DICTIONARY_1.to_vec();
    let mut shapes = HashSet::new();
    for (text, values) in &texts {
        let mut shape = String::with_capacity(text.len());
        let mut at = 0;
        for value in values {
            let token = &text[value.span.clone()];
            shape.push_str(&text[at..value.span.start]);
            if held_by.get(token).copied().unwrap_or(0) >= SHARED_BY {
                shape.push_str(token);
            } else {
                shape.push_str(if value.string { "\"\"" } else { "0" });
            }
            at = value.span.end;
        }
        shape.push_str(&text[at..]);
        if dictionary.len() + shape.len() > DICTIONARY_LIMIT {
            break;
        }
        if shapes.insert(shape.clone()) {
            dictionary.extend_from_slice(shape.as_bytes());
        }
    }
    Some(dictionary)
}

/// A value in a JSON text: a string that is not an object's key, or a number.
struct Value {
    span: std::ops::Range<usize>,
    string: bool,
}

/// The values of a JSON text, in order, found by scanning it: strings (with their quotes) not
/// followed by a colon, and numbers. Text that is not JSON yields whatever it resembles, which
/// only makes a dictionary less useful.
fn values(text: &str) -> Vec<Value> {
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                let start = i;
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i = (i + 1).min(bytes.len());
                let end = i;
                let mut next = i;
                while next < bytes.len() && bytes[next].is_ascii_whitespace() {
                    next += 1;
                }
                if bytes.get(next) != Some(&b':') {
                    found.push(Value {
                        span: start..end,
                        string: true,
                    });
                }
            }
            b'-' | b'0'..=b'9' => {
                let start = i;
                while i < bytes.len()
                    && matches!(bytes[i], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
                {
                    i += 1;
                }
                found.push(Value {
                    span: start..i,
                    string: false,
                });
            }
            _ => i += 1,
        }
    }
    found
}

// Streaming functions of liblz4 (stable since 1.10, which lz4-sys builds) that the crate does
// not declare. https://github.com/lz4/lz4/blob/v1.10.0/lib/lz4.h
unsafe extern "C" {
    fn LZ4_loadDict(
        stream: *mut lz4_sys::LZ4StreamEncode,
        dictionary: *const c_char,
        size: c_int,
    ) -> c_int;
    fn LZ4_resetStream_fast(stream: *mut lz4_sys::LZ4StreamEncode);
    fn LZ4_attach_dictionary(
        working: *mut lz4_sys::LZ4StreamEncode,
        dictionary: *const lz4_sys::LZ4StreamEncode,
    );
    fn LZ4_compress_fast_continue(
        stream: *mut lz4_sys::LZ4StreamEncode,
        source: *const c_char,
        destination: *mut c_char,
        source_size: c_int,
        capacity: c_int,
        acceleration: c_int,
    ) -> c_int;
}

/// Why a stored value could not be read.
#[derive(Debug, PartialEq)]
pub(crate) enum Unreadable {
    /// Packed against a stream dictionary this process has not loaded.
    UnknownDictionary(u32),
    /// Damaged, or in a format this build does not know; the reason reads after "the value".
    Damaged(String),
}

impl std::fmt::Display for Unreadable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unreadable::UnknownDictionary(id) => {
                write!(
                    f,
                    "was packed with dictionary {id}, which the database lacks"
                )
            }
            Unreadable::Damaged(reason) => f.write_str(reason),
        }
    }
}

/// The dictionary id of a value packed against a stream's dictionary.
pub(crate) fn dictionary_of(stored: &[u8]) -> Option<u32> {
    match stored {
        [FORMAT_2, a, b, c, d, ..] => Some(u32::from_le_bytes([*a, *b, *c, *d])),
        _ => None,
    }
}

/// The JSON text of a stored value, packed or not; `find` gives a stream dictionary by id.
pub(crate) fn unpack<'d>(
    stored: Vec<u8>,
    find: impl Fn(u32) -> Option<&'d StreamDictionary>,
) -> Result<String, Unreadable> {
    let damaged = |reason: String| Unreadable::Damaged(reason);
    let bytes = match stored.first() {
        Some(&FORMAT_1) => {
            lz4_flex::block::decompress_size_prepended_with_dict(&stored[1..], DICTIONARY_1)
                .map_err(|error| damaged(format!("cannot be decompressed: {error}")))?
        }
        Some(&FORMAT_2) => {
            let id = dictionary_of(&stored).ok_or_else(|| damaged("is cut short".to_string()))?;
            let stream = find(id).ok_or(Unreadable::UnknownDictionary(id))?;
            lz4_flex::block::decompress_size_prepended_with_dict(
                &stored[5..],
                stream.dictionary.window(),
            )
            .map_err(|error| damaged(format!("cannot be decompressed: {error}")))?
        }
        Some(&format) if format < b' ' && !b"\t\n\r".contains(&format) => {
            return Err(damaged(format!(
                "has an unknown storage format ({format:#04x})"
            )));
        }
        _ => stored,
    };
    String::from_utf8(bytes).map_err(|error| damaged(format!("is not UTF-8 text: {error}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ATTENDEE: &str = r#"{"id":"77bf3149-cd90-4251-8cd5-6231e2d79074","contact":{"firstName":"Jackson","lastName":"Suzuki","email":"jackson.suzuki1@example.com"},"status":"Accepted","answers":[]}"#;

    #[test]
    fn packed_text_reads_back_exactly_and_smaller() {
        let packed = pack(ATTENDEE, None);
        assert_eq!(packed[0], FORMAT_1);
        assert!(packed.len() < ATTENDEE.len(), "{} bytes", packed.len());
        assert_eq!(unpack(packed, none).unwrap(), ATTENDEE);
    }

    #[test]
    fn text_stored_unpacked_reads_as_it_is() {
        assert_eq!(
            unpack(ATTENDEE.as_bytes().to_vec(), none).unwrap(),
            ATTENDEE
        );
        assert_eq!(unpack(b" [1]".to_vec(), none).unwrap(), " [1]");
        assert_eq!(unpack(Vec::new(), none).unwrap(), "");
    }

    #[test]
    fn packing_is_deterministic_so_unchanged_rows_compare_equal() {
        assert_eq!(pack(ATTENDEE, None), pack(ATTENDEE, None));
        assert_eq!(unpack(pack("", None), none).unwrap(), "");
    }

    #[test]
    fn threads_pack_at_once_and_every_value_reads_back() {
        let packers: Vec<_> = (0..4)
            .map(|thread| {
                std::thread::spawn(move || {
                    for i in 0..500 {
                        let text = ATTENDEE.replace("Jackson", &format!("Jackson {thread}-{i}"));
                        assert_eq!(unpack(pack(&text, None), none).unwrap(), text);
                    }
                })
            })
            .collect();
        for packer in packers {
            packer.join().unwrap();
        }
        let long = ATTENDEE.repeat(200);
        assert_eq!(unpack(pack(&long, None), none).unwrap(), long);
    }

    #[test]
    fn damaged_or_unknown_values_are_errors_not_panics() {
        let mut packed = pack(ATTENDEE, None);
        packed.truncate(packed.len() / 2);
        let reason = |stored: Vec<u8>| unpack(stored, none).unwrap_err().to_string();
        assert!(reason(packed).contains("decompressed"));
        assert!(reason(vec![0x03, 1, 2]).contains("unknown storage format"));
        assert!(reason(vec![FORMAT_2, 1, 2]).contains("cut short"));
    }

    fn none(_: u32) -> Option<&'static StreamDictionary> {
        None
    }

    /// Attendees of one event, as (fields, raw) texts: the event, questions and companies
    /// shared, each person's own.
    fn attendees(n: usize) -> Vec<[String; 2]> {
        (0..n)
            .map(|i| {
                let company = ["Northstar Pharmaceuticals", "Acme Widgets"][i % 2];
                [
                    format!(r#"{{"email":"person{i}@example.com","company":"{company}"}}"#),
                    format!(
                        r#"{{"id":"{i:08}-4251-8cd5-6231e2d79074","event":{{"id":"86e4b859-d577-482b-a06c-af4c0001a3ca"}},"contact":{{"firstName":"Person{i}","email":"person{i}@example.com","company":"{company}"}},"answers":[{{"question":{{"id":"f53dc4be-ea63-455b-acb9-3be514909471"}},"value":["{}"]}}],"order":{i}}}"#,
                        ["Vegetarian", "Vegan", "None"][i % 3],
                    ),
                ]
            })
            .collect()
    }

    fn pairs(records: &[[String; 2]]) -> Vec<[&str; 2]> {
        records
            .iter()
            .map(|[fields, raw]| [fields.as_str(), raw.as_str()])
            .collect()
    }

    #[test]
    fn a_stream_dictionary_keeps_shared_values_and_no_ones_own() {
        let records = attendees(SAMPLE_RECORDS);
        let samples = pairs(&records);
        assert_eq!(stream_dictionary(&samples[..SAMPLE_RECORDS - 1]), None);
        let bytes = stream_dictionary(&samples).unwrap();
        let text = String::from_utf8_lossy(&bytes[DICTIONARY_1.len()..]).into_owned();
        for shared in [
            "86e4b859-d577-482b-a06c-af4c0001a3ca",
            "f53dc4be-ea63-455b-acb9-3be514909471",
            "Northstar Pharmaceuticals",
            "Vegetarian",
            "\"firstName\":\"\"",
            "\"order\":0",
        ] {
            assert!(text.contains(shared), "{shared} missing from {text}");
        }
        // A value found in both texts of one record is still that record's own.
        for own in ["Person7", "person7@example.com", "00000007-4251", ":7}"] {
            assert!(!text.contains(own), "{own} kept in {text}");
        }
        assert!(bytes.len() <= DICTIONARY_LIMIT);
    }

    #[test]
    fn values_packed_with_a_stream_dictionary_read_back_and_are_smaller() {
        let records = attendees(200);
        let bytes = stream_dictionary(&pairs(&records[..SAMPLE_RECORDS])).unwrap();
        let stream = StreamDictionary::new(7, bytes);
        let find = |id: u32| (id == 7).then_some(&stream);
        let (mut built_in, mut own) = (0, 0);
        for text in records[SAMPLE_RECORDS..].iter().flatten() {
            let packed = pack(text, Some(&stream));
            assert_eq!(dictionary_of(&packed), Some(7));
            own += packed.len();
            built_in += pack(text, None).len();
            assert_eq!(unpack(packed, find).unwrap(), *text);
        }
        assert!(own * 2 < built_in, "{own} bytes against {built_in}");
        assert_eq!(
            unpack(pack(&records[0][1], Some(&stream)), none),
            Err(Unreadable::UnknownDictionary(7))
        );
    }

    #[test]
    fn the_value_scanner_skips_keys_and_escaped_quotes() {
        let text = r#"{"a":"x\"y","b" : [1,-2.5e3,true,null],"c":{"d":"e"}}"#;
        let found: Vec<&str> = values(text).iter().map(|v| &text[v.span.clone()]).collect();
        assert_eq!(found, [r#""x\"y""#, "1", "-2.5e3", r#""e""#]);
    }
}
