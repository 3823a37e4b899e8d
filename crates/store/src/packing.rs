//! How SQLite keeps a record's JSON text: LZ4-compressed against a built-in dictionary of the
//! field names records share.
//!
//! A Cvent attendee is about 2.4 KB of JSON and its workspace fields another 0.6 KB, so a row
//! took a 4 KB page of its own, written three times on its way in (to the WAL, read back and
//! written by the checkpoint). Most of those bytes are field names that every record repeats;
//! compressed against a dictionary holding them, the row is about 1.7 KB, two rows share a
//! page, and a sync writes about half the bytes.
//!
//! A packed value is one format byte followed by an LZ4 block with its uncompressed size
//! prepended (4 bytes, little-endian). liblz4 writes it, with the dictionary loaded once and
//! attached to a stream per thread; lz4_flex, checked Rust, reads it. Text stored before
//! packing existed (or by another writer) starts with a JSON character and is read as it is.
//! A dictionary, once released, never changes: a different one gets a new format byte.

use std::ffi::{c_char, c_int};

/// Packed with [`DICTIONARY_1`].
const FORMAT_1: u8 = 0x01;

/// Field names and shapes of the workspace's tagged fields and of a Cvent attendee, values
/// blank. Never edit: stored values can only be read with the bytes they were packed against.
const DICTIONARY_1: &[u8] = include_bytes!("packing-dictionary-1.json");

/// The stored form of a JSON text.
pub(crate) fn pack(text: &str) -> Vec<u8> {
    ENCODER.with(|encoder| encoder.pack(text.as_bytes()))
}

thread_local! {
    static ENCODER: Encoder = Encoder::new();
}

/// How much speed the encoder trades for size: LZ4's `acceleration`. On stored Cvent attendees
/// 4 packed a value in 3.8 µs, where 1 took 6.1 µs and lz4_flex 7.4 µs, for 6% more bytes than
/// 1 and 1% more than lz4_flex.
const ACCELERATION: i32 = 4;

/// The dictionary, loaded into an LZ4 stream once for the process: encoders attach it rather
/// than hash its bytes again for every value, which for a field list of a few hundred bytes
/// was most of the work.
struct Dictionary(std::ptr::NonNull<lz4_sys::LZ4StreamEncode>);

// SAFETY: after `LZ4_loadDict` the stream is only read (`LZ4_attach_dictionary` takes it as
// `const`), and it lives as long as the process.
unsafe impl Send for Dictionary {}
unsafe impl Sync for Dictionary {}

static DICTIONARY: std::sync::LazyLock<Dictionary> = std::sync::LazyLock::new(|| {
    // SAFETY: a stream fresh from `LZ4_createStream` may be given a dictionary; the
    // dictionary's bytes are static, as LZ4 requires of a dictionary it refers to.
    unsafe {
        let stream = std::ptr::NonNull::new(lz4_sys::LZ4_createStream())
            .expect("LZ4 could not allocate its dictionary stream");
        LZ4_loadDict(
            stream.as_ptr(),
            DICTIONARY_1.as_ptr().cast(),
            DICTIONARY_1.len() as c_int,
        );
        Dictionary(stream)
    }
});

/// One thread's LZ4 stream, reset and given the dictionary for every value.
struct Encoder(std::ptr::NonNull<lz4_sys::LZ4StreamEncode>);

impl Encoder {
    fn new() -> Encoder {
        // SAFETY: `LZ4_createStream` returns an initialised stream or null.
        let stream = unsafe { lz4_sys::LZ4_createStream() };
        Encoder(std::ptr::NonNull::new(stream).expect("LZ4 could not allocate a stream"))
    }

    /// A format byte, the text's length (4 bytes, little-endian) and the LZ4 block.
    fn pack(&self, text: &[u8]) -> Vec<u8> {
        let length = c_int::try_from(text.len()).expect("a JSON value under 2 GiB");
        // SAFETY: `LZ4_compressBound` is a pure function of the length.
        let bound = unsafe { lz4_sys::LZ4_compressBound(length) };
        let mut packed = Vec::with_capacity(HEADER + bound as usize);
        packed.push(FORMAT_1);
        packed.extend_from_slice(&(text.len() as u32).to_le_bytes());
        // SAFETY: the stream is this thread's, reset before use; the dictionary stream is
        // loaded and outlives the call; `text` is `length` readable bytes and the vector has
        // `bound` bytes of spare capacity past the header, which LZ4 never writes beyond.
        let written = unsafe {
            LZ4_resetStream_fast(self.0.as_ptr());
            LZ4_attach_dictionary(self.0.as_ptr(), DICTIONARY.0.as_ptr());
            LZ4_compress_fast_continue(
                self.0.as_ptr(),
                text.as_ptr().cast(),
                packed.as_mut_ptr().add(HEADER).cast(),
                length,
                bound,
                ACCELERATION,
            )
        };
        assert!(written > 0 || text.is_empty(), "LZ4 failed to compress");
        // SAFETY: LZ4 initialised the `written` bytes after the header.
        unsafe { packed.set_len(HEADER + written as usize) };
        packed
    }
}

impl Drop for Encoder {
    fn drop(&mut self) {
        // SAFETY: the stream came from `LZ4_createStream` and is not used after this.
        unsafe { lz4_sys::LZ4_freeStream(self.0.as_ptr()) };
    }
}

/// The format byte and the uncompressed length before the LZ4 block.
const HEADER: usize = 5;

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

/// The JSON text of a stored value, packed or not.
pub(crate) fn unpack(stored: Vec<u8>) -> Result<String, String> {
    match stored.first() {
        Some(&FORMAT_1) => {
            let bytes =
                lz4_flex::block::decompress_size_prepended_with_dict(&stored[1..], DICTIONARY_1)
                    .map_err(|error| format!("cannot be decompressed: {error}"))?;
            String::from_utf8(bytes).map_err(|error| format!("is not UTF-8 text: {error}"))
        }
        Some(&format) if format < b' ' && !b"\t\n\r".contains(&format) => {
            Err(format!("has an unknown storage format ({format:#04x})"))
        }
        _ => String::from_utf8(stored).map_err(|error| format!("is not UTF-8 text: {error}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ATTENDEE: &str = r#"{"id":"77bf3149-cd90-4251-8cd5-6231e2d79074","contact":{"firstName":"Jackson","lastName":"Suzuki","email":"jackson.suzuki1@example.com"},"status":"Accepted","answers":[]}"#;

    #[test]
    fn packed_text_reads_back_exactly_and_smaller() {
        let packed = pack(ATTENDEE);
        assert_eq!(packed[0], FORMAT_1);
        assert!(packed.len() < ATTENDEE.len(), "{} bytes", packed.len());
        assert_eq!(unpack(packed).unwrap(), ATTENDEE);
    }

    #[test]
    fn text_stored_unpacked_reads_as_it_is() {
        assert_eq!(unpack(ATTENDEE.as_bytes().to_vec()).unwrap(), ATTENDEE);
        assert_eq!(unpack(b" [1]".to_vec()).unwrap(), " [1]");
        assert_eq!(unpack(Vec::new()).unwrap(), "");
    }

    #[test]
    fn packing_is_deterministic_so_unchanged_rows_compare_equal() {
        assert_eq!(pack(ATTENDEE), pack(ATTENDEE));
        assert_eq!(unpack(pack("")).unwrap(), "");
    }

    #[test]
    fn threads_pack_at_once_and_every_value_reads_back() {
        let packers: Vec<_> = (0..4)
            .map(|thread| {
                std::thread::spawn(move || {
                    for i in 0..500 {
                        let text = ATTENDEE.replace("Jackson", &format!("Jackson {thread}-{i}"));
                        assert_eq!(unpack(pack(&text)).unwrap(), text);
                    }
                })
            })
            .collect();
        for packer in packers {
            packer.join().unwrap();
        }
        let long = ATTENDEE.repeat(200);
        assert_eq!(unpack(pack(&long)).unwrap(), long);
    }

    #[test]
    fn damaged_or_unknown_values_are_errors_not_panics() {
        let mut packed = pack(ATTENDEE);
        packed.truncate(packed.len() / 2);
        assert!(unpack(packed).unwrap_err().contains("decompressed"));
        assert!(
            unpack(vec![0x02, 1, 2])
                .unwrap_err()
                .contains("unknown storage format")
        );
    }
}
