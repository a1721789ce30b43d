//! The body of the event-stream fuzz target (`fuzz/fuzz_targets/event_stream.rs`): arbitrary bytes decoded
//! as a ConverseStream response, whole and in pieces, by the shipped driver
//! ([`vllora_llm_http::decode_pieces`], the loop of every provider's `ChunkStream`) over the shipped frame
//! decoder and event state machine.
//!
//! Besides "never panics", it checks what the decoder promises: the chunking never changes the outcome,
//! decoding always ends (every frame consumes bytes; a cut frame is a truncated body at the end), and the
//! block order (`provider_content`) points only at what was streamed (the stream fixtures, server tools,
//! tool results and citations included, are the seeds).

use vllora_llm_core::types::gateway::ChatCompletionChunk;
use vllora_llm_http::decode_pieces;

use crate::event_stream::FrameDecoder;
use crate::response::ResponseContext;
use crate::stream::BedrockStreamDecoder;

/// Frames larger than this are refused, so that a fuzzer's 4 GiB length does not become a 4 GiB buffer.
const MAX_FRAME_LEN: usize = 64 * 1024;

/// What a body decodes to: the chunks, then the error that ended the stream, if any.
type Outcome = (Vec<ChatCompletionChunk>, Option<String>);

/// Decodes `data[1..]` whole and in pieces of `data[0] % 16 + 1` bytes; both must agree.
pub fn decode_event_stream(data: &[u8]) {
    let Some((&piece_len, body)) = data.split_first() else { return };
    let whole = decode([body]);
    let pieces = decode(body.chunks(usize::from(piece_len % 16).saturating_add(1)));
    assert_eq!(whole, pieces, "the chunking changed what the body decodes to");
    assert_block_order_resolves(&whole.0);
}

/// The block order a stream hands out points only at what it streamed.
fn assert_block_order_resolves(chunks: &[ChatCompletionChunk]) {
    let deltas = chunks.iter().flat_map(|chunk| &chunk.choices).map(|choice| &choice.delta);
    let problem = vllora_llm_core::support::block_order_problem(deltas, &crate::PROVIDER);
    assert!(problem.is_none(), "{problem:?}");
}

fn decode<'a>(pieces: impl IntoIterator<Item = &'a [u8]>) -> Outcome {
    let framing = FrameDecoder::new(MAX_FRAME_LEN);
    let decoder = BedrockStreamDecoder::new(ResponseContext::default());
    let (chunks, error) = decode_pieces(framing, decoder, pieces);
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
            "bin",
        );
        assert!(bodies.len() >= 7, "the stream fixtures, server tools and citations included, are there");
        vllora_llm_testkit::fuzz_over_fixtures(
            &bodies,
            vllora_llm_testkit::Corruption::Binary,
            decode_event_stream,
        );
        let (chunks, error) = decode([bodies[0].as_slice()]);
        assert!(!chunks.is_empty() || error.is_some());
    }
}
