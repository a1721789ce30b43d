//! The body of the stream fuzz target (`fuzz/fuzz_targets/stream.rs`): arbitrary bytes read as the SSE body
//! of a streamed Messages response, whole and in pieces, through the shipped driver
//! ([`vllora_llm_http::decode_pieces`], the loop of [`ChunkStream`](vllora_llm_http::ChunkStream)), the SSE
//! framing and [`AnthropicStreamDecoder`].
//!
//! Besides "never panics", it checks what the stream promises: the chunking never changes the outcome,
//! the stream ends in an error or with a finish reason (never silently short), and each choice gets its
//! finish reason at most once, and the block order (`provider_content`) points only at what was streamed.

use std::collections::BTreeMap;

use vllora_llm_core::types::gateway::ChatCompletionChunk;
use vllora_llm_http::{SseDecoder, decode_pieces};

use crate::stream::AnthropicStreamDecoder;

/// Events larger than this are refused, so that the fuzzer exercises the limit too.
const MAX_EVENT_SIZE: usize = 64 * 1024;

/// What a body decodes to: the chunks, then the error that ended the stream, if any.
type Outcome = (Vec<ChatCompletionChunk>, Option<String>);

/// Decodes `data[1..]` whole and in pieces of `data[0] % 16 + 1` bytes; both must agree and end well.
pub fn decode_stream(data: &[u8]) {
    let Some((&piece_len, body)) = data.split_first() else { return };
    let whole = decode([body]);
    let pieces = decode(body.chunks(usize::from(piece_len % 16).saturating_add(1)));
    assert_eq!(whole, pieces, "the chunking changed what the body decodes to");
    let (chunks, error) = whole;
    let mut finishes = BTreeMap::new();
    for choice in chunks.iter().flat_map(|chunk| &chunk.choices) {
        if choice.finish_reason.is_some() {
            let count = finishes.entry(choice.index).or_insert(0u32);
            *count = count.saturating_add(1);
        }
    }
    assert!(finishes.values().all(|&count| count == 1), "a choice finished more than once: {finishes:?}");
    assert!(error.is_some() || !finishes.is_empty(), "the stream ended without a finish reason or an error");
    assert_block_order_resolves(&chunks);
}

/// The block order a stream hands out (`delta.provider_content`) points only at what the stream gave.
pub(crate) fn assert_block_order_resolves(chunks: &[ChatCompletionChunk]) {
    let deltas = chunks.iter().flat_map(|chunk| &chunk.choices).map(|choice| &choice.delta);
    let problem = vllora_llm_core::support::block_order_problem(deltas, &crate::PROVIDER);
    assert!(problem.is_none(), "{problem:?}");
}

/// The shipped driver over `pieces`, as the caller of a stream would see it.
fn decode<'a>(pieces: impl IntoIterator<Item = &'a [u8]>) -> Outcome {
    let (chunks, error) =
        decode_pieces(SseDecoder::new(MAX_EVENT_SIZE), AnthropicStreamDecoder::new(), pieces);
    (chunks, error.map(|error| error.to_string()))
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
