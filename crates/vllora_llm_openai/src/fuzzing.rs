//! The body of the stream fuzz target (`fuzz/fuzz_targets/stream.rs`): arbitrary bytes read as the SSE body
//! of a streamed chat completion, whole and in pieces, through the shipped driver
//! ([`vllora_llm_http::decode_pieces`]) with the shipped framing and decoder.
//!
//! Besides "never panics", it checks what the stream promises: the chunking never changes the outcome,
//! the stream ends in an error, with a finish reason or with `[DONE]` (never silently short), each
//! choice gets its finish reason at most once, and no tool call is announced without a name or arguments.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use vllora_llm_core::LLMResult;
use vllora_llm_core::types::gateway::ChatCompletionChunk;
use vllora_llm_http::{Chunks, EndOfBody, SseDecoder, SseEventRef, StreamDecoder, decode_pieces};

use crate::stream::OpenAIStreamDecoder;

/// Events larger than this are refused, so that the fuzzer exercises the limit too.
const MAX_EVENT_SIZE: usize = 64 * 1024;

/// What a body decodes to: the chunks, whether the decoder saw the answer complete (`[DONE]`), then the
/// error that ended it, if any.
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
            let count = finishes.entry(choice.index).or_insert(0_usize);
            *count = count.saturating_add(1);
        }
    }
    assert!(finishes.values().all(|&count| count == 1), "a choice finished more than once: {finishes:?}");
    // A call is announced (its id) only with a name or arguments: placeholders are never handed out.
    for call in chunks
        .iter()
        .flat_map(|chunk| &chunk.choices)
        .flat_map(|choice| choice.delta.tool_calls.iter().flatten())
    {
        if call.id.is_some() {
            let function = call.function.as_ref();
            let named =
                function.and_then(|function| function.name.as_deref()).is_some_and(|name| !name.is_empty());
            let has_arguments = function
                .and_then(|function| function.arguments.as_deref())
                .is_some_and(|arguments| !arguments.is_empty());
            assert!(
                named || has_arguments || call.extra_content.is_some(),
                "a call was announced empty: {call:?}"
            );
        }
    }
    assert!(
        error.is_some() || saw_done || !finishes.is_empty(),
        "the stream ended without a finish reason, [DONE] or an error"
    );
}

/// The shipped decoder, watched: whether it said the answer was complete. Every call goes to it
/// unchanged; the driver's loop is the shipped one.
#[derive(Debug)]
struct Watched {
    decoder: OpenAIStreamDecoder,
    complete: Arc<AtomicBool>,
}

impl StreamDecoder for Watched {
    type Framing = SseDecoder;
    type Item = ChatCompletionChunk;

    fn provider(&self) -> &str {
        self.decoder.provider()
    }

    fn on_event(&mut self, event: SseEventRef<'_>, out: &mut Chunks) -> LLMResult<()> {
        let outcome = self.decoder.on_event(event, out);
        self.complete.store(self.decoder.is_complete(), Ordering::Relaxed);
        outcome
    }

    fn is_complete(&self) -> bool {
        self.decoder.is_complete()
    }

    fn on_end(&mut self, out: &mut Chunks) -> LLMResult<EndOfBody> {
        self.decoder.on_end(out)
    }
}

fn decode<'a>(pieces: impl IntoIterator<Item = &'a [u8]>) -> Outcome {
    let complete = Arc::new(AtomicBool::new(false));
    let decoder = Watched { decoder: OpenAIStreamDecoder::new("openai"), complete: Arc::clone(&complete) };
    let (chunks, error) = decode_pieces(SseDecoder::new(MAX_EVENT_SIZE), decoder, pieces);
    // `[DONE]` ends the answer; an error event does too, but then the error is what is reported.
    let saw_done = complete.load(Ordering::Relaxed) && error.is_none();
    (chunks, saw_done, error.map(|error| error.to_string()))
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
        assert!(bodies.len() >= 10, "the stream fixtures are there");
        vllora_llm_testkit::fuzz_over_fixtures(&bodies, vllora_llm_testkit::Corruption::Text, decode_stream);
        let (chunks, _, error) = decode([bodies[0].as_slice()]);
        assert!(!chunks.is_empty() || error.is_some());
    }
}
