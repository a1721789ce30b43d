//! Running a fuzz target's body over fixtures in an ordinary test, so CI exercises every fuzz harness
//! without a fuzzer: the fixtures whole, split by every piece length, cut short, and corrupted.

/// How one byte of a fixture is corrupted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Corruption {
    /// Replaced by a byte that breaks text formats where they are fragile (`\n`, `"`, `}`, `0`) or a random one.
    Text,
    /// Flipped bits, for binary formats (AWS event streams).
    Binary,
}

/// The files of `directory` whose name ends in `.{extension}`, read whole, in name order.
pub fn fixture_bodies(directory: &str, extension: &str) -> Vec<Vec<u8>> {
    let mut paths: Vec<_> = std::fs::read_dir(directory)
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|found| found == extension))
        .collect();
    paths.sort();
    paths.iter().map(|path| std::fs::read(path).unwrap_or_default()).collect()
}

/// Feeds `run` (a fuzz target's body, whose first input byte chooses the piece length) every body with
/// each piece length from 0 to 15, each cut short, and each with one byte corrupted at a seeded place.
pub fn fuzz_over_fixtures(bodies: &[Vec<u8>], corruption: Corruption, mut run: impl FnMut(&[u8])) {
    let mut seed = 0x5EED_u64;
    for body in bodies {
        for piece_len in 0..16u8 {
            let mut data = vec![piece_len];
            data.extend_from_slice(body);
            run(&data);
            let cut = data.len() * usize::from(piece_len) / 16;
            run(&data[..cut.max(1)]);
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            let at = 1 + (seed >> 33) as usize % body.len().max(1);
            if let Some(byte) = data.get_mut(at) {
                *byte = match corruption {
                    Corruption::Text => {
                        [b'\n', b'"', b'}', b'0', (seed >> 24) as u8][(seed >> 40) as usize % 5]
                    }
                    Corruption::Binary => *byte ^ ((seed >> 24) as u8 | 1),
                };
            }
            run(&data);
        }
    }
}
