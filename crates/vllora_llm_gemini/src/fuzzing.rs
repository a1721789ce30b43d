//! The body of the stream fuzz target (`fuzz/fuzz_targets/stream.rs`): arbitrary bytes read as the SSE body
//! of a `streamGenerateContent?alt=sse` response, whole and in pieces, through the shipped driver
//! (`vllora_llm_http::decode_pieces`, the loop of `ChunkStream`) with the SSE framing and
//! [`GeminiStreamDecoder`].
//!
//! Besides "never panics", it checks what the stream promises: the chunking never changes the outcome,
//! the stream ends in an error or with a finish reason (never silently short), each choice gets its
//! finish reason at most once, and each choice's block order (`provider_content`) points only at what
//! that choice streamed (the stream fixtures, server-tool parts, code execution and images included, are
//! the seeds).

use std::collections::BTreeMap;

use vllora_llm_core::LLMError;
use vllora_llm_core::types::gateway::ChatCompletionChunk;
use vllora_llm_http::{SseDecoder, decode_pieces};

use crate::response::ResponseContext;
use crate::stream::GeminiStreamDecoder;

/// Events larger than this are refused, so that the fuzzer exercises the limit too.
const MAX_EVENT_SIZE: usize = 64 * 1024;

/// What a body decodes to: the chunks, then the error that ended the stream, if any.
type Outcome = (Vec<ChatCompletionChunk>, Option<LLMError>);

/// Decodes `data[1..]` whole and in pieces of `data[0] % 16 + 1` bytes; both must agree and end well.
pub fn decode_stream(data: &[u8]) {
    let Some((&piece_len, body)) = data.split_first() else { return };
    let whole = decode([body]);
    let pieces = decode(body.chunks(usize::from(piece_len % 16).saturating_add(1)));
    let text = |outcome: &Outcome| outcome.1.as_ref().map(ToString::to_string);
    assert_eq!(text(&whole), text(&pieces), "the chunking changed the error");
    assert_eq!(whole.0, pieces.0, "the chunking changed the chunks the body decodes to");
    let (chunks, error) = whole;
    let mut finishes = BTreeMap::new();
    for choice in chunks.iter().flat_map(|chunk| &chunk.choices) {
        if choice.finish_reason.is_some() {
            let count: &mut u32 = finishes.entry(choice.index).or_insert(0);
            *count = count.saturating_add(1);
            assert!(choice.raw_finish_reason.is_some(), "a finish reason without Gemini's own value");
        }
    }
    assert!(finishes.values().all(|&count| count == 1), "a choice finished more than once: {finishes:?}");
    assert!(error.is_some() || !finishes.is_empty(), "the stream ended without a finish reason or an error");
    for index in finishes.keys() {
        assert_block_order_resolves(&chunks, *index);
    }
}

/// The block order choice `index` streamed points only at what it streamed.
fn assert_block_order_resolves(chunks: &[ChatCompletionChunk], index: u32) {
    let deltas = chunks
        .iter()
        .flat_map(|chunk| &chunk.choices)
        .filter(move |choice| choice.index == index)
        .map(|choice| &choice.delta);
    let problem = vllora_llm_core::support::block_order_problem(deltas, &crate::PROVIDER);
    assert!(problem.is_none(), "{problem:?}");
}

fn decode<'a>(pieces: impl IntoIterator<Item = &'a [u8]>) -> Outcome {
    let context = ResponseContext { model: "gemini-2.5-flash".to_owned(), created: 0 };
    decode_pieces(SseDecoder::new(MAX_EVENT_SIZE), GeminiStreamDecoder::new(context, 1), pieces)
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
        assert!(bodies.len() >= 8, "the stream fixtures, server tools and images included, are there");
        vllora_llm_testkit::fuzz_over_fixtures(&bodies, vllora_llm_testkit::Corruption::Text, decode_stream);
        let (chunks, error) = decode([bodies[0].as_slice()]);
        assert!(!chunks.is_empty() || error.is_some());
    }

    /// A complete answer followed by an event over the limit: the answer stands, with no error, whether
    /// the body is read whole or in pieces (the driver reads nothing after the answer).
    #[test]
    fn trailing_bytes_after_a_complete_answer_change_nothing() {
        let mut body = b"\x00data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"hi\"}]},\"finishReason\":\"STOP\",\"index\":0}],\"usageMetadata\":{\"promptTokenCount\":1}}\n\n".to_vec();
        body.extend_from_slice(b"data: ");
        body.extend(std::iter::repeat_n(b'x', MAX_EVENT_SIZE + 1));
        decode_stream(&body);
    }
}
