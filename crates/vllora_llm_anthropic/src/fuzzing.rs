//! The body of the stream fuzz target (`fuzz/fuzz_targets/stream.rs`): arbitrary bytes read as the SSE body
//! of a streamed Messages response, whole and in pieces, through the SSE decoder and the stream state
//! machine, as `AnthropicChunks` drives them.
//!
//! Besides "never panics", it checks what the stream promises: the chunking never changes the outcome,
//! the stream ends in an error or with a finish reason (never silently short), and each choice gets its
//! finish reason at most once.

use std::collections::{BTreeMap, VecDeque};

use vllora_llm_core::LLMError;
use vllora_llm_core::types::gateway::ChatCompletionChunk;
use vllora_llm_http::{SseDecoder, SseEvent};

use crate::stream::StreamState;

/// Events larger than this are refused, so that the fuzzer exercises the limit too.
const MAX_EVENT_SIZE: usize = 64 * 1024;

/// What a body decodes to: the chunks, then the error that ended the stream, if any.
type Outcome = (Vec<ChatCompletionChunk>, Option<String>);

/// Decodes `data[1..]` whole and in pieces of `data[0] % 16 + 1` bytes; both must agree and end well.
pub fn decode_stream(data: &[u8]) {
    let Some((&piece_len, body)) = data.split_first() else { return };
    let whole = decode([body]);
    let pieces = decode(body.chunks(usize::from(piece_len % 16) + 1));
    assert_eq!(whole, pieces, "the chunking changed what the body decodes to");
    let (chunks, error) = whole;
    let mut finishes = BTreeMap::new();
    for choice in chunks.iter().flat_map(|chunk| &chunk.choices) {
        if choice.finish_reason.is_some() {
            *finishes.entry(choice.index).or_insert(0) += 1;
        }
    }
    assert!(finishes.values().all(|&count| count == 1), "a choice finished more than once: {finishes:?}");
    assert!(error.is_some() || !finishes.is_empty(), "the stream ended without a finish reason or an error");
}

/// Where the stream stands after one event.
enum Step {
    Continue,
    /// `message_stop` was seen: whatever follows is not part of the answer.
    Done,
}

fn on_event(
    state: &mut StreamState,
    event: SseEvent,
    chunks: &mut VecDeque<ChatCompletionChunk>,
) -> Result<Step, LLMError> {
    if state.is_finished() {
        return Ok(Step::Done);
    }
    if !event.data.is_empty() {
        state.on_event(&event.data, chunks)?;
    }
    Ok(Step::Continue)
}

fn decode<'a>(pieces: impl IntoIterator<Item = &'a [u8]>) -> Outcome {
    let mut decoder = SseDecoder::new(MAX_EVENT_SIZE);
    let mut state = StreamState::new();
    let mut chunks = VecDeque::new();
    let fail =
        |chunks: VecDeque<ChatCompletionChunk>, error: LLMError| (Vec::from(chunks), Some(error.to_string()));
    let ended_well = |chunks: VecDeque<ChatCompletionChunk>| (Vec::from(chunks), None);
    for piece in pieces {
        let pushed = decoder.push(piece);
        // As with `SseStream`, the events decoded before a limit error come first.
        while let Some(event) = decoder.next_event() {
            match on_event(&mut state, event, &mut chunks) {
                Ok(Step::Continue) => {}
                Ok(Step::Done) => return ended_well(chunks),
                Err(error) => return fail(chunks, error),
            }
        }
        if let Err(error) = pushed {
            return if state.is_finished() { ended_well(chunks) } else { fail(chunks, error) };
        }
    }
    while let Some(event) = decoder.finish() {
        match on_event(&mut state, event, &mut chunks) {
            Ok(Step::Continue) => {}
            Ok(Step::Done) => return ended_well(chunks),
            Err(error) => return fail(chunks, error),
        }
    }
    match state.end_of_body(&mut chunks) {
        Ok(()) => ended_well(chunks),
        Err(error) => fail(chunks, error),
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
            concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/streams"),
            "sse",
        );
        assert!(bodies.len() >= 5, "the stream fixtures are there");
        vllora_llm_testkit::fuzz_over_fixtures(&bodies, vllora_llm_testkit::Corruption::Text, decode_stream);
        let (chunks, error) = decode([bodies[0].as_slice()]);
        assert!(!chunks.is_empty() || error.is_some());
    }
}
