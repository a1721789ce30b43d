//! The body of the stream fuzz target (`fuzz/fuzz_targets/stream.rs`): arbitrary bytes read as the SSE body
//! of a streamed chat completion, whole and in pieces, through the SSE decoder and the stream state
//! machine, as `ChunkStream` drives them.
//!
//! Besides "never panics", it checks what the stream promises: the chunking never changes the outcome,
//! the stream ends in an error, with a finish reason or with `[DONE]` (never silently short), and each
//! choice gets its finish reason at most once.

use std::collections::BTreeMap;

use vllora_llm_core::types::gateway::ChatCompletionChunk;
use vllora_llm_http::SseDecoder;

use crate::stream::StreamState;

/// Events larger than this are refused, so that the fuzzer exercises the limit too.
const MAX_EVENT_SIZE: usize = 64 * 1024;

/// What a body decodes to: the chunks, whether `[DONE]` ended it, then the error that ended it, if any.
type Outcome = (Vec<ChatCompletionChunk>, bool, Option<String>);

/// Decodes `data[1..]` whole and in pieces of `data[0] % 16 + 1` bytes; both must agree and end well.
pub fn decode_stream(data: &[u8]) {
    let Some((&piece_len, body)) = data.split_first() else { return };
    let whole = decode([body]);
    let pieces = decode(body.chunks(usize::from(piece_len % 16) + 1));
    assert_eq!(whole, pieces, "the chunking changed what the body decodes to");
    let (chunks, saw_done, error) = whole;
    let mut finishes = BTreeMap::new();
    for choice in chunks.iter().flat_map(|chunk| &chunk.choices) {
        if choice.finish_reason.is_some() {
            *finishes.entry(choice.index).or_insert(0) += 1;
        }
    }
    assert!(finishes.values().all(|&count| count == 1), "a choice finished more than once: {finishes:?}");
    assert!(
        error.is_some() || saw_done || !finishes.is_empty(),
        "the stream ended without a finish reason, [DONE] or an error"
    );
}

fn decode<'a>(pieces: impl IntoIterator<Item = &'a [u8]>) -> Outcome {
    let mut decoder = SseDecoder::new(MAX_EVENT_SIZE);
    let mut state = StreamState::new("openai");
    let mut chunks = Vec::new();
    for piece in pieces {
        let pushed = decoder.push(piece);
        // As with `SseStream`, the events decoded before a limit error come first.
        while let Some(event) = decoder.next_event() {
            if state.is_done() {
                // `[DONE]` was seen: the rest of the body is read and dropped.
                return (chunks, true, None);
            }
            match state.on_event(event.event.as_deref(), &event.data) {
                Ok(chunk) => chunks.extend(chunk),
                Err(error) => return (chunks, false, Some(error.to_string())),
            }
        }
        if let Err(error) = pushed {
            let saw_done = state.is_done();
            return (chunks, saw_done, (!saw_done).then(|| error.to_string()));
        }
    }
    while let Some(event) = decoder.finish() {
        if state.is_done() {
            return (chunks, true, None);
        }
        match state.on_event(event.event.as_deref(), &event.data) {
            Ok(chunk) => chunks.extend(chunk),
            Err(error) => return (chunks, false, Some(error.to_string())),
        }
    }
    let saw_done = state.is_done();
    match state.on_end() {
        Ok(chunk) => {
            chunks.extend(chunk);
            (chunks, saw_done, None)
        }
        Err(error) => (chunks, false, Some(error.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fuzz body over the stream fixtures (every piece length) and over their prefixes and random
    /// corruptions: it must not panic, so the fuzz target starts from a harness that holds.
    #[test]
    fn the_fuzz_body_holds_on_fixtures_and_their_corruptions() {
        let bodies = vllora_llm_testkit::fixture_bodies(
            concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/stream"),
            "sse",
        );
        assert!(bodies.len() >= 10, "the stream fixtures are there");
        vllora_llm_testkit::fuzz_over_fixtures(&bodies, vllora_llm_testkit::Corruption::Text, decode_stream);
        let (chunks, _, error) = decode([bodies[0].as_slice()]);
        assert!(!chunks.is_empty() || error.is_some());
    }
}
