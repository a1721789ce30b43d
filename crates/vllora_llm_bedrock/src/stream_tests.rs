//! Stream decoding against fixtures: ConverseStream bodies (event-stream frames encoded by
//! `tests/fixtures/streams/make_frames.py` and checked with botocore's parser) replayed through the shipped
//! driver at every chunking must give the same chunks, which are compared with the expected chunks of each
//! fixture (`<case>.expected.json`, written by `expected_chunks.py`, an oracle apart from this decoder).

use serde_json::Value;
use vllora_llm_core::types::gateway::{ChatCompletionChunk, FinishReason, ReasoningDetailType};
use vllora_llm_core::{LLMError, LLMResult};
use vllora_llm_http::{Chunks, decode_pieces};

use super::BedrockStreamDecoder;
use crate::event_stream::FrameDecoder;
use crate::response::ResponseContext;

const STREAMS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/streams");

fn fixture_bytes(name: &str) -> Vec<u8> {
    let path = format!("{STREAMS}/{name}");
    std::fs::read(&path).unwrap_or_else(|error| panic!("{path}: {error}"))
}

fn context() -> ResponseContext {
    ResponseContext {
        id: "2f1c3b1e-6a4d-4f5e-9b7a-0c1d2e3f4a5b".into(),
        model: "us.anthropic.claude-sonnet-4-20250514-v1:0".into(),
        created: 1_714_564_800,
    }
}

/// Every item the shipped driver yields for `pieces`: the chunks, then the error that ended the stream.
fn collect(pieces: &[&[u8]], max_frame_len: usize) -> Vec<LLMResult<ChatCompletionChunk>> {
    let decoder = BedrockStreamDecoder::new(context());
    let (chunks, error) = decode_pieces(FrameDecoder::new(max_frame_len), decoder, pieces.iter().copied());
    chunks.into_iter().map(Ok).chain(error.map(Err)).collect()
}

fn replay(bytes: &[u8], points: &[usize]) -> Vec<LLMResult<ChatCompletionChunk>> {
    collect(&vllora_llm_testkit::split_at(bytes, points), 1 << 20)
}

/// The fixture decoded at every chunking; all must agree, and the result is returned.
fn decode_at_every_chunking(name: &str) -> (Vec<ChatCompletionChunk>, Option<String>) {
    let bytes = fixture_bytes(name);
    let mut first: Option<(Vec<ChatCompletionChunk>, Option<String>)> = None;
    for points in vllora_llm_testkit::split_points(bytes.len()) {
        let mut chunks = Vec::new();
        let mut error = None;
        for item in replay(&bytes, &points) {
            match item {
                Ok(chunk) => chunks.push(chunk),
                Err(failure) => error = Some(failure.to_string()),
            }
        }
        match &first {
            None => first = Some((chunks, error)),
            Some(expected) => assert_eq!(&(chunks, error), expected, "{name} split at {points:?}"),
        }
    }
    first.unwrap_or_default()
}

/// The expected chunks of a fixture, as JSON (the raw finish reason is not part of a chunk's JSON; it is
/// checked apart).
fn expected_chunks(name: &str) -> Value {
    let text = String::from_utf8(fixture_bytes(name)).unwrap_or_default();
    let chunks: Vec<ChatCompletionChunk> =
        serde_json::from_str(&text).unwrap_or_else(|error| panic!("{name}: {error}"));
    json(&chunks)
}

fn json(chunks: &[ChatCompletionChunk]) -> Value {
    serde_json::to_value(chunks).unwrap_or_default()
}

/// Bedrock's own stop reason, on the chunk with the unified one.
fn raw_finish_reason(chunks: &[ChatCompletionChunk]) -> Option<(FinishReason, String)> {
    chunks.iter().flat_map(|chunk| &chunk.choices).find_map(|choice| {
        let unified = choice.finish_reason.clone()?;
        Some((unified, choice.raw_finish_reason.as_deref()?.to_owned()))
    })
}

/// Every stream fixture, at every chunking, gives its expected chunks (those before the error, for a
/// stream an exception ends).
#[test]
fn stream_fixtures_decode_to_their_expected_chunks() {
    vllora_llm_testkit::golden(STREAMS, "bedrock.bin", "expected.json", |case, _| {
        let (chunks, _) = decode_at_every_chunking(&format!("{}.bedrock.bin", case.name));
        json(&chunks)
    });
}

fn assert_stream_rules(chunks: &[ChatCompletionChunk]) {
    let choice_chunks: Vec<&ChatCompletionChunk> =
        chunks.iter().filter(|chunk| !chunk.choices.is_empty()).collect();
    assert_eq!(
        choice_chunks
            .first()
            .and_then(|chunk| chunk.choices[0].delta.role.as_ref())
            .map(|role| role.as_str()),
        Some("assistant")
    );
    let finishes = choice_chunks.iter().filter(|chunk| chunk.choices[0].finish_reason.is_some()).count();
    assert_eq!(finishes, 1, "one finish reason");
    assert!(
        choice_chunks.last().is_some_and(|chunk| chunk.choices[0].finish_reason.is_some()),
        "on the last choice chunk"
    );
    let last = chunks.last().cloned().unwrap_or_default();
    assert!(last.choices.is_empty() && last.usage.is_some(), "usage comes last, without choices");
}

#[test]
fn text_stream() {
    let (chunks, error) = decode_at_every_chunking("text.bedrock.bin");
    assert_eq!(error, None);
    assert_stream_rules(&chunks);
    assert_eq!(json(&chunks), expected_chunks("text.expected.json"));
    let text: String = chunks
        .iter()
        .flat_map(|chunk| &chunk.choices)
        .filter_map(|choice| choice.delta.content.as_deref())
        .collect();
    assert_eq!(text, "Hello! How can I help you today?");
    let usage = chunks.last().and_then(|chunk| chunk.usage).unwrap_or_default();
    assert_eq!((usage.prompt_tokens, usage.completion_tokens, usage.cached_tokens()), (1036, 10, 1024));
    assert_eq!(raw_finish_reason(&chunks), Some((FinishReason::Stop, "end_turn".to_owned())));
}

#[test]
fn reasoning_text_and_two_tool_calls() {
    let (chunks, error) = decode_at_every_chunking("tools_reasoning.bedrock.bin");
    assert_eq!(error, None);
    assert_stream_rules(&chunks);
    assert_eq!(json(&chunks), expected_chunks("tools_reasoning.expected.json"));
    let deltas: Vec<_> = chunks.iter().flat_map(|chunk| &chunk.choices).map(|choice| &choice.delta).collect();
    let reasoning: String = deltas.iter().filter_map(|delta| delta.reasoning_content.as_deref()).collect();
    assert_eq!(reasoning, "The user wants the weather in Paris and Lyon.");
    let details: Vec<_> =
        deltas.iter().filter_map(|delta| delta.reasoning_details.as_ref()).flatten().collect();
    assert_eq!(details.len(), 1);
    assert_eq!(details[0].kind, ReasoningDetailType::Text);
    assert_eq!(details[0].text.as_deref(), Some("The user wants the weather in Paris and Lyon."));
    assert_eq!(details[0].signature.as_deref(), Some("EqoBCkgIARABGAIiQBv1xX7uY7xZ1sig=="));
    assert_eq!(details[0].provider.as_deref(), Some("bedrock"));
    let calls: Vec<_> = deltas.iter().filter_map(|delta| delta.tool_calls.as_ref()).flatten().collect();
    let first_fragments: Vec<_> =
        calls.iter().filter(|call| call.id.is_some()).map(|call| (call.index, call.id.as_deref())).collect();
    assert_eq!(
        first_fragments,
        [(0, Some("tooluse_kZJMlvQmRJ6eAyJE5GIl7Q")), (1, Some("tooluse_2nd8Qw7bTFq1xWbWrnL0aA"))]
    );
    let arguments = |index: u32| -> String {
        calls
            .iter()
            .filter(|call| call.index == index)
            .filter_map(|call| call.function.as_ref().and_then(|function| function.arguments.as_deref()))
            .collect()
    };
    assert_eq!(
        (arguments(0), arguments(1)),
        ("{\"city\": \"Paris\"}".to_owned(), "{\"city\": \"Lyon\"}".to_owned())
    );
    let finish =
        chunks.iter().flat_map(|chunk| &chunk.choices).find_map(|choice| choice.finish_reason.clone());
    assert_eq!(finish, Some(FinishReason::ToolCalls));
    assert_eq!(raw_finish_reason(&chunks), Some((FinishReason::ToolCalls, "tool_use".to_owned())));
}

#[test]
fn redacted_reasoning_and_max_tokens() {
    let (chunks, error) = decode_at_every_chunking("redacted_reasoning.bedrock.bin");
    assert_eq!(error, None);
    assert_stream_rules(&chunks);
    assert_eq!(json(&chunks), expected_chunks("redacted_reasoning.expected.json"));
    assert_eq!(raw_finish_reason(&chunks), Some((FinishReason::Length, "max_tokens".to_owned())));
}

#[test]
fn exception_frames_end_the_stream_with_the_aws_error_type() {
    let (chunks, error) = decode_at_every_chunking("throttling_exception.bedrock.bin");
    assert_eq!(
        chunks.iter().filter_map(|chunk| chunk.choices.first()?.delta.content.clone()).collect::<String>(),
        "Partial"
    );
    assert_eq!(
        error.as_deref(),
        Some(
            "aws.bedrock API error (ThrottlingException): Too many tokens, please wait before trying again."
        )
    );
    let items = replay(&fixture_bytes("throttling_exception.bedrock.bin"), &[]);
    let Some(Err(throttled)) = items.last() else { panic!("{items:?}") };
    assert!(throttled.is_retryable(), "throttling is retryable");

    let items = replay(&fixture_bytes("model_stream_error.bedrock.bin"), &[]);
    let Some(Err(LLMError::Api(api))) = items.last() else { panic!("{items:?}") };
    assert_eq!(api.error_type.as_deref(), Some("ModelStreamErrorException"));
    assert_eq!(api.code.as_deref(), Some("500"));
}

#[test]
fn an_error_frame_carries_its_code_and_message_in_headers() {
    let (chunks, error) = decode_at_every_chunking("error_frame.bedrock.bin");
    assert_eq!(chunks.len(), 1, "the role chunk of messageStart");
    assert_eq!(
        error.as_deref(),
        Some(
            "aws.bedrock API error (InternalFailure): The request processing has failed because of an unknown error."
        )
    );
}

/// A body that ends before the answer does is the driver's truncated-body error, `LLMError::Connection`,
/// the same for every provider (it was a Bedrock decode error before the shared driver).
#[test]
fn a_body_cut_mid_frame_or_before_message_stop_is_an_error() {
    let truncated = "the aws.bedrock stream ended before the model finished its answer";
    let bytes = fixture_bytes("text.bedrock.bin");
    let cut = collect(&[&bytes[..bytes.len() - 5]], 1 << 20);
    let Some(Err(error)) = cut.last() else { panic!("{cut:?}") };
    assert!(matches!(error, LLMError::Connection { .. }), "{error:?}");
    assert!(error.to_string().contains(truncated), "{error}");

    // Everything up to messageStop, minus that frame: the frames are whole but the message never ended.
    let events: Value = serde_json::from_slice(&fixture_bytes("text.bedrock.json")).unwrap_or_default();
    assert_eq!(events[5]["headers"][":event-type"], "messageStop");
    let early = collect(&[&bytes[..frame_end(&bytes, 5)]], 1 << 20);
    let Some(Err(error)) = early.last() else { panic!("{early:?}") };
    assert!(matches!(error, LLMError::Connection { .. }), "{error:?}");
    assert!(error.to_string().contains(truncated), "{error}");

    let broken = collect(&[b"{\"message\":\"not an event stream\"}"], 1 << 20);
    assert!(matches!(broken.last(), Some(Err(LLMError::Decode { .. }))), "{broken:?}");
    assert!(broken.iter().all(Result::is_err));
}

#[test]
fn an_answer_that_ends_after_message_stop_without_metadata_is_complete() {
    let bytes = fixture_bytes("text.bedrock.bin");
    let items = collect(&[&bytes[..frame_end(&bytes, 6)]], 1 << 20);
    assert!(items.iter().all(Result::is_ok), "{items:?}");
    let chunks: Vec<ChatCompletionChunk> = items.into_iter().flatten().collect();
    assert_eq!(raw_finish_reason(&chunks), Some((FinishReason::Stop, "end_turn".to_owned())));
    assert!(chunks.iter().all(|chunk| chunk.usage.is_none()), "no usage without metadata");
}

#[test]
fn nothing_after_the_metadata_event_is_read() {
    let mut bytes = fixture_bytes("text.bedrock.bin");
    let whole = collect(&[&bytes], 1 << 20);
    bytes.extend_from_slice(b"not a frame: never decoded, since the answer is complete");
    assert_eq!(format!("{:?}", collect(&[&bytes], 1 << 20)), format!("{whole:?}"));
}

#[test]
fn a_frame_larger_than_the_limit_is_refused_without_waiting_for_it() {
    let bytes = fixture_bytes("text.bedrock.bin");
    let items = collect(&[&bytes[..12]], 64);
    assert!(
        matches!(items.as_slice(), [Err(LLMError::LimitExceeded { max_bytes: 64, .. })]),
        "the prelude alone decides: {items:?}"
    );
}

/// The offset where the frames before frame `count` end.
fn frame_end(bytes: &[u8], count: usize) -> usize {
    let mut offset = 0;
    for _ in 0..count {
        let length = bytes
            .get(offset..offset + 4)
            .map_or(0, |word| u32::from_be_bytes([word[0], word[1], word[2], word[3]]));
        offset += length as usize;
    }
    offset
}

#[test]
fn the_service_tier_of_the_metadata_event_is_on_the_usage_chunk() {
    let mut state = BedrockStreamDecoder::new(context());
    let mut out = Chunks::new();
    let events: [(&str, &[u8]); 3] = [
        ("messageStart", br#"{"role":"assistant"}"#),
        ("messageStop", br#"{"stopReason":"end_turn"}"#),
        (
            "metadata",
            br#"{"usage":{"inputTokens":5,"outputTokens":2,"totalTokens":7},"metrics":{"latencyMs":90},
                "serviceTier":{"type":"priority"}}"#,
        ),
    ];
    for (event_type, payload) in events {
        let handled = state.on_converse_event(event_type, payload, &mut out);
        assert!(handled.is_ok(), "{event_type}: {handled:?}");
    }
    let last = out.back().cloned().unwrap_or_default();
    assert_eq!(
        (last.usage.map(|usage| usage.total_tokens), last.service_tier.as_deref()),
        (Some(7), Some("priority"))
    );
}

/// Folds a stream's chunks into the message a caller accumulating deltas holds.
fn accumulate(chunks: &[ChatCompletionChunk]) -> vllora_llm_core::types::gateway::ChatCompletionMessage {
    use vllora_llm_core::types::gateway::{ChatCompletionContent, ChatCompletionMessage, Role, ToolCall};
    let mut message = ChatCompletionMessage { role: Role::Assistant, ..Default::default() };
    let mut text: Option<String> = None;
    let mut calls: Vec<ToolCall> = Vec::new();
    for delta in chunks.iter().flat_map(|chunk| &chunk.choices).map(|choice| &choice.delta) {
        if let Some(piece) = &delta.content {
            text.get_or_insert_with(String::new).push_str(piece);
        }
        if let Some(piece) = &delta.reasoning_content {
            message.reasoning_content.get_or_insert_with(String::new).push_str(piece);
        }
        if let Some(details) = &delta.reasoning_details {
            message.reasoning_details.get_or_insert_with(Vec::new).extend(details.iter().cloned());
        }
        if let Some(entries) = &delta.provider_content {
            message.provider_content.get_or_insert_with(Vec::new).extend(entries.iter().cloned());
        }
        for fragment in delta.tool_calls.iter().flatten() {
            let position = usize::try_from(fragment.index).unwrap_or(usize::MAX);
            if position >= calls.len() {
                calls.push(ToolCall::function("", "", ""));
            }
            let Some(call) = calls.get_mut(position) else { panic!("tool call indexes grow one by one") };
            if let Some(id) = &fragment.id {
                call.id.clone_from(id);
            }
            if let Some(function) = &fragment.function {
                call.function.name.push_str(function.name.as_deref().unwrap_or_default());
                call.function.arguments.push_str(function.arguments.as_deref().unwrap_or_default());
            }
        }
    }
    message.content = text.map(ChatCompletionContent::Text);
    message.tool_calls = (!calls.is_empty()).then_some(calls);
    message
}

/// The streamed answer with a server tool, its result and cited text adds up, at every chunking, to the
/// one-shot answer: the same text, reasoning, call and block order (every native block and the
/// citations included), and the same usage.
#[test]
fn server_tool_blocks_and_citations_stream_as_the_one_shot_answer_at_every_chunking() {
    let one_shot_body = std::fs::read(format!(
        "{}/tests/fixtures/responses/server_tool_citations.bedrock.json",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap_or_default();
    let Ok(one_shot) = crate::response::parse_response(&one_shot_body, &context()) else {
        panic!("the one-shot fixture")
    };
    let mut expected = one_shot.message().clone();
    // Streamed arguments are the JSON text Bedrock wrote; the one-shot ones are re-serialised.
    for call in expected.tool_calls.iter_mut().flatten() {
        call.function.arguments = r#"{"zone": "UTC"}"#.to_owned();
    }
    assert_eq!(expected.provider_content.as_ref().map(Vec::len), Some(7));
    let (chunks, error) = decode_at_every_chunking("server_tool_citations.bedrock.bin");
    assert_eq!(error, None);
    assert_eq!(accumulate(&chunks), expected);
    let usage = chunks.iter().rev().find_map(|chunk| chunk.usage);
    assert_eq!(usage.as_ref(), one_shot.usage());
}
