//! Deterministic pseudo-random numbers: the same seed and key always give the same value.

/// SplitMix64 finaliser: a fast, well-mixed hash of one 64-bit value.
pub fn mix(mut value: u64) -> u64 {
    value = value.wrapping_add(0x9E37_79B9_7F4A_7C15);
    value = (value ^ (value >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    value = (value ^ (value >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    value ^ (value >> 31)
}

/// A value derived from a seed, a record index and a field number, independent of any other.
pub fn draw(seed: u64, index: u64, field: u64) -> u64 {
    mix(mix(seed ^ mix(index)) ^ field.wrapping_mul(0xD6E8_FEB8_6659_FD93))
}

/// Picks one element of a non-empty slice.
pub fn pick<T: Copy>(choices: &[T], roll: u64) -> T {
    choices[(roll % choices.len() as u64) as usize]
}

/// A version-4 UUID whose random bits come from `roll_high` and `roll_low`.
pub fn uuid_v4(roll_high: u64, roll_low: u64) -> uuid::Uuid {
    uuid::Builder::from_random_bytes(
        ((u128::from(roll_high) << 64) | u128::from(roll_low)).to_be_bytes(),
    )
    .into_uuid()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_are_stable_and_distinct() {
        assert_eq!(draw(7, 1, 2), draw(7, 1, 2));
        assert_ne!(draw(7, 1, 2), draw(7, 1, 3));
        assert_ne!(draw(7, 1, 2), draw(8, 1, 2));
        let id = uuid_v4(draw(1, 2, 3), draw(1, 2, 4));
        assert_eq!(id.get_version_num(), 4);
    }
}

const MASK62: u64 = (1 << 62) - 1;
const SCRAMBLE_MULTIPLIER: u64 = 0x2545_F491_4F6C_DD1D;

/// The inverse of an odd number modulo 2^64, by Newton's iteration.
const fn odd_inverse(odd: u64) -> u64 {
    let mut inverse = odd;
    let mut step = 0;
    while step < 6 {
        inverse = inverse.wrapping_mul(2u64.wrapping_sub(odd.wrapping_mul(inverse)));
        step += 1;
    }
    inverse
}

/// A bijection on 62-bit numbers that looks random, so record ids can carry their own index
/// (a UUID keeps 122 random bits; 62 of them are enough) and be looked up without a table.
pub fn scramble62(value: u64, key: u64) -> u64 {
    let mut x = (value ^ key) & MASK62;
    x = x.wrapping_mul(SCRAMBLE_MULTIPLIER) & MASK62;
    x ^ (x >> 31)
}

/// The inverse of [`scramble62`].
pub fn unscramble62(scrambled: u64, key: u64) -> u64 {
    let mut x = scrambled & MASK62;
    x ^= x >> 31;
    x = x.wrapping_mul(odd_inverse(SCRAMBLE_MULTIPLIER)) & MASK62;
    (x ^ key) & MASK62
}

/// A version-4 UUID whose low 62 bits carry `index` scrambled by `key`; see [`uuid_index`].
pub fn indexed_uuid(index: u64, key: u64, roll_high: u64) -> uuid::Uuid {
    let low = (2u64 << 62) | scramble62(index, key);
    let high = (roll_high & !0xF000) | 0x4000;
    uuid::Uuid::from_u64_pair(high, low)
}

/// The index an [`indexed_uuid`] carries (the caller must check the whole id matches).
pub fn uuid_index(id: &str, key: u64) -> Option<u64> {
    let parsed = uuid::Uuid::parse_str(id).ok()?;
    let (_, low) = parsed.as_u64_pair();
    Some(unscramble62(low, key))
}

#[cfg(test)]
mod scramble_tests {
    use super::*;

    #[test]
    fn scramble_round_trips() {
        for value in [0, 1, 2, 199, 200, 1_000_000, MASK62] {
            assert_eq!(unscramble62(scramble62(value, 99), 99), value);
        }
        let id = indexed_uuid(123_456, 7, draw(1, 2, 3)).to_string();
        assert_eq!(uuid_index(&id, 7), Some(123_456));
        assert_eq!(
            uuid::Uuid::parse_str(&id).map(|u| u.get_version_num()).ok(),
            Some(4)
        );
    }
}
