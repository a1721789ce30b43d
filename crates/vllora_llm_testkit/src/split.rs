//! Chunk boundaries for replaying a byte stream in different pieces, and the seeded generator behind them.

/// A small deterministic generator (SplitMix64): the same seed always gives the same pieces, so a
/// failing split can be replayed.
#[derive(Debug, Clone)]
pub(crate) struct SeededRandom {
    state: u64,
}

impl SeededRandom {
    pub(crate) fn new(seed: u64) -> Self {
        SeededRandom { state: seed }
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut mixed = self.state;
        mixed = (mixed ^ (mixed >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        mixed = (mixed ^ (mixed >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        mixed ^ (mixed >> 31)
    }

    /// A number in `1..=max` (`max` of 0 counts as 1).
    pub(crate) fn piece_length(&mut self, max: usize) -> usize {
        let max = max.max(1) as u64;
        (self.next_u64() % max) as usize + 1
    }
}

/// Seeds of the random patterns [`split_points`] returns; fixed so every run replays the same splits.
const RANDOM_SEEDS: [u64; 4] = [1, 7, 42, 0x5EED];

/// Chunk boundary patterns for replaying `len` bytes: every byte on its own, four seeded random splits
/// (pieces of 1 to 64 bytes) and the whole input at once, in that order.
///
/// Each pattern is the list of offsets at which the input is cut, strictly increasing and each within
/// `1..len`; the whole input is the empty list. [`split_at`] applies a pattern.
pub fn split_points(len: usize) -> Vec<Vec<usize>> {
    let mut patterns = Vec::with_capacity(RANDOM_SEEDS.len() + 2);
    patterns.push((1..len).collect());
    for seed in RANDOM_SEEDS {
        let mut random = SeededRandom::new(seed);
        let mut points = Vec::new();
        let mut offset = random.piece_length(64);
        while offset < len {
            points.push(offset);
            offset += random.piece_length(64);
        }
        patterns.push(points);
    }
    patterns.push(Vec::new());
    patterns
}

/// Cuts `data` at `points` (as given by [`split_points`]); points out of order or out of range are
/// skipped, so every byte still appears exactly once.
pub fn split_at<'a>(data: &'a [u8], points: &[usize]) -> Vec<&'a [u8]> {
    let mut pieces = Vec::with_capacity(points.len() + 1);
    let mut start = 0;
    for &point in points {
        if point > start && point < data.len() {
            pieces.push(&data[start..point]);
            start = point;
        }
    }
    pieces.push(&data[start..]);
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_cover_single_bytes_random_and_whole() {
        let patterns = split_points(300);
        assert_eq!(patterns.len(), 6);
        assert_eq!(patterns[0].len(), 299);
        assert!(patterns[5].is_empty());
        for pattern in &patterns {
            assert!(pattern.windows(2).all(|pair| pair[0] < pair[1]), "{pattern:?}");
            assert!(pattern.iter().all(|&point| point > 0 && point < 300));
        }
        assert_ne!(patterns[1], patterns[2], "different seeds give different splits");
        assert_eq!(split_points(300), patterns, "splits are deterministic");
    }

    #[test]
    fn split_at_keeps_every_byte_once() {
        let data: Vec<u8> = (0..=255).collect();
        for points in split_points(data.len()) {
            let pieces = split_at(&data, &points);
            assert_eq!(pieces.len(), points.len() + 1);
            assert_eq!(pieces.concat(), data);
        }
        assert_eq!(split_at(b"abc", &[2, 1, 9]), vec![&b"ab"[..], &b"c"[..]]);
        assert_eq!(split_points(0), vec![Vec::<usize>::new(); 6]);
    }
}
