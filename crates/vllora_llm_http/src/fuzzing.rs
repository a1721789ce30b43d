//! The body of the SSE fuzz target (`fuzz/fuzz_targets/sse.rs`): arbitrary bytes decoded as a
//! `text/event-stream` body, whole and in pieces of fuzzer-chosen lengths, under a fuzzer-chosen limit.
//!
//! Besides "never panics", it checks what [`SseDecoder`] promises: the chunking never changes the events
//! or the error, and no event it hands out is larger than its limit (what it holds is bounded by it).

use crate::{SseDecoder, SseEvent};

/// What a body decodes to: the events, then the error that ended the stream, if any.
type Outcome = (Vec<SseEvent>, Option<String>);

/// `data[0]` seeds the piece lengths, `data[1]` picks the event size limit, the rest is the body: decoded
/// whole and in pieces, both must agree and stay within the limit.
pub fn decode_sse(data: &[u8]) {
    let [piece_seed, limit_choice, body @ ..] = data else { return };
    // Small limits, so that the fuzzer reaches them; the high half uses the default-sized one.
    let max_event_size = if *limit_choice < 128 { 1 + usize::from(*limit_choice) * 4 } else { 16 << 20 };
    let whole = decode(max_event_size, [body]);
    let pieces = decode(max_event_size, Pieces { rest: body, seed: u64::from(*piece_seed) });
    assert_eq!(whole, pieces, "the chunking changed what the body decodes to");
    // What an event holds is bounded by the limit plus the line a read boundary did not cut (at most one
    // piece here); lossy UTF-8 may turn one invalid byte into the three of U+FFFD.
    let bound = 3 * (max_event_size + PIECE_MAX) + 3;
    for event in &pieces.0 {
        let held = event.data.len()
            + event.event.as_ref().map_or(0, String::len)
            + event.id.as_ref().map_or(0, String::len);
        assert!(held <= bound, "an event holds {held} bytes over a limit of {max_event_size}");
    }
}

/// The longest piece the body is cut into.
const PIECE_MAX: usize = 17;

/// The body cut into pieces of 1 to [`PIECE_MAX`] bytes, their lengths drawn from a generator seeded by the input.
struct Pieces<'a> {
    rest: &'a [u8],
    seed: u64,
}

impl<'a> Iterator for Pieces<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        if self.rest.is_empty() {
            return None;
        }
        self.seed = self.seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        let len = (1 + (self.seed >> 33) as usize % PIECE_MAX).min(self.rest.len());
        let (piece, rest) = self.rest.split_at(len);
        self.rest = rest;
        Some(piece)
    }
}

fn decode<'a>(max_event_size: usize, pieces: impl IntoIterator<Item = &'a [u8]>) -> Outcome {
    let mut decoder = SseDecoder::new(max_event_size);
    let mut events = Vec::new();
    let mut examined = 0;
    for piece in pieces {
        examined += piece.len() as u64;
        if let Err(error) = decoder.push(piece) {
            // The events decoded before the error are still handed out; then the decoder stays failed.
            events.extend(std::iter::from_fn(|| decoder.next_event()));
            assert!(decoder.push(b"data: more\n\n").is_err(), "a failed decoder took more input");
            return (events, Some(error.to_string()));
        }
        events.extend(std::iter::from_fn(|| decoder.next_event()));
    }
    assert!(decoder.bytes_examined() <= examined, "the decoder examined a byte twice");
    events.extend(std::iter::from_fn(|| decoder.finish()));
    (events, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The stream fixtures of the provider crates, which are real SSE bodies.
    fn sse_fixtures() -> Vec<Vec<u8>> {
        let crates = format!("{}/..", env!("CARGO_MANIFEST_DIR"));
        let directories =
            ["vllora_llm_openai/tests/fixtures/streams", "vllora_llm_anthropic/tests/fixtures/streams"]
                .into_iter()
                .chain(["vllora_llm_gemini/tests/fixtures/streams"]);
        let mut bodies = Vec::new();
        for directory in directories {
            for entry in std::fs::read_dir(format!("{crates}/{directory}")).into_iter().flatten().flatten() {
                if entry.path().extension().is_some_and(|extension| extension == "sse") {
                    bodies.push(std::fs::read(entry.path()).unwrap_or_default());
                }
            }
        }
        bodies
    }

    /// The fuzz body over real SSE bodies (every piece seed, small and large limits) and over their
    /// prefixes and random corruptions: it must not panic, so the fuzz target starts from a harness that
    /// holds.
    #[test]
    fn the_fuzz_body_holds_on_fixtures_and_their_corruptions() {
        let mut bodies = sse_fixtures();
        assert!(bodies.len() >= 10, "the provider crates' stream fixtures are there");
        bodies.push(
            b"\xEF\xBB\xBFdata: a\r\rdata: b\r\n\r\n: comment\nevent: x\nid: 1\nretry: 20\ndata\n".to_vec(),
        );
        let mut seed = 0x5EED_u64;
        for body in &bodies {
            for piece_seed in 0..16u8 {
                let limit_choice = [0, 3, 40, 127, 200][usize::from(piece_seed) % 5];
                let mut data = vec![piece_seed, limit_choice];
                data.extend_from_slice(body);
                decode_sse(&data);
                let cut = data.len() * usize::from(piece_seed) / 16;
                decode_sse(&data[..cut.max(2)]);
                seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
                let at = 2 + (seed >> 33) as usize % body.len().max(1);
                if let Some(byte) = data.get_mut(at) {
                    *byte = [b'\r', b'\n', b':', 0xFF, (seed >> 24) as u8][(seed >> 40) as usize % 5];
                }
                decode_sse(&data);
            }
        }
        let (events, error) = decode(16 << 20, [bodies[0].as_slice()]);
        assert!(!events.is_empty() && error.is_none(), "a real body decodes to events");
        let (_, error) = decode(8, [b"data: more than eight bytes\n\n".as_slice()]);
        assert!(error.is_some(), "an oversize event is refused");
    }
}
