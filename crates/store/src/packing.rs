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
//! prepended. Text stored before packing existed (or by another writer) starts with a JSON
//! character and is read as it is. A dictionary, once released, never changes: a different
//! one gets a new format byte.

/// Packed with [`DICTIONARY_1`].
const FORMAT_1: u8 = 0x01;

/// Field names and shapes of the workspace's tagged fields and of a Cvent attendee, values
/// blank. Never edit: stored values can only be read with the bytes they were packed against.
const DICTIONARY_1: &[u8] = include_bytes!("packing-dictionary-1.json");

/// The stored form of a JSON text.
pub(crate) fn pack(text: &str) -> Vec<u8> {
    let compressed =
        lz4_flex::block::compress_prepend_size_with_dict(text.as_bytes(), DICTIONARY_1);
    let mut packed = Vec::with_capacity(1 + compressed.len());
    packed.push(FORMAT_1);
    packed.extend_from_slice(&compressed);
    packed
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
