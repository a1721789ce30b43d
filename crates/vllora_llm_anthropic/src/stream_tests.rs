//! Stream decoder tests on recorded event sequences, through the shipped driver where a whole body is
//! decoded.

use vllora_llm_core::types::gateway::{
    ChatCompletionChunk, ChatCompletionContent, ChatCompletionMessage, FinishReason, FunctionCallDelta,
    ReasoningDetailType, Role, ToolCall, ToolCallDelta,
};
use vllora_llm_core::{LLMError, LLMResult};
use vllora_llm_http::{Chunks, EndOfBody, SseDecoder, SseEventRef, StreamDecoder, decode_pieces};

use super::AnthropicStreamDecoder;

pub(crate) const FIXTURES: [&str; 6] = [
    "text.sse",
    "tools.sse",
    "thinking.sse",
    "overloaded.sse",
    "thinking_text_tool.sse",
    "server_tools_citations.sse",
];

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/streams/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{path}: {error}"))
}

/// The `data` of each event (these fixtures have one data line per event).
fn event_data(text: &str) -> Vec<String> {
    text.lines().filter_map(|line| line.strip_prefix("data: ")).map(str::to_owned).collect()
}

/// One event's `data`, lent to the decoder as the SSE framing lends it.
fn feed(decoder: &mut AnthropicStreamDecoder, data: &str, out: &mut Chunks) -> LLMResult<()> {
    decoder.on_event(SseEventRef { data, ..SseEventRef::default() }, out)
}

/// A whole body through the shipped driver: the chunks, then the error that ended the stream.
fn decode(body: &[u8]) -> (Vec<ChatCompletionChunk>, Option<LLMError>) {
    decode_pieces(SseDecoder::new(1 << 20), AnthropicStreamDecoder::new(), [body])
}

fn run(name: &str) -> (Vec<ChatCompletionChunk>, Option<LLMError>) {
    decode(fixture(name).as_bytes())
}

fn text_of(chunks: &[ChatCompletionChunk]) -> String {
    chunks
        .iter()
        .flat_map(|chunk| &chunk.choices)
        .filter_map(|choice| choice.delta.content.as_deref())
        .collect()
}

#[test]
fn every_event_fixture_is_recorded_for_conformance() {
    for name in FIXTURES {
        for data in event_data(&fixture(name)) {
            let Ok(value) = serde_json::from_str::<serde_json::Value>(&data) else {
                panic!("{name}: {data}")
            };
            // `ping` and `error` are events of their own in Anthropic's schema, outside MessageStreamEvent,
            // and the made-up event type is there to be skipped.
            if !matches!(value["type"].as_str(), Some("future_event_type" | "ping" | "error")) {
                vllora_llm_testkit::record_conformance("anthropic-stream-event", &value);
            }
        }
    }
}

#[test]
fn text_stream_role_first_finish_once_usage_last() {
    let (chunks, error) = run("text.sse");
    assert!(error.is_none(), "{error:?}");
    assert_eq!(chunks[0].choices[0].delta.role, Some(Role::Assistant));
    assert_eq!(text_of(&chunks), "Hello, wörld 👋!");
    assert!(
        chunks
            .iter()
            .all(|chunk| chunk.id == "msg_01TextStream" && chunk.model == "claude-sonnet-4-5-20250929")
    );
    let finishes: Vec<usize> = chunks
        .iter()
        .enumerate()
        .filter(|(_, chunk)| chunk.choices.iter().any(|choice| choice.finish_reason.is_some()))
        .map(|(position, _)| position)
        .collect();
    assert_eq!(finishes, [chunks.len() - 2]);
    assert_eq!(chunks[chunks.len() - 2].choices[0].finish_reason, Some(FinishReason::Stop));
    let Some(last) = chunks.last() else { panic!("chunks") };
    assert!(last.choices.is_empty());
    let Some(usage) = last.usage else { panic!("usage") };
    assert_eq!((usage.prompt_tokens, usage.completion_tokens, usage.cached_tokens()), (1049, 15, 1024));
    assert_eq!(usage.cache_creation_tokens(), 0);
}

#[test]
fn tool_calls_stream_as_openai_fragments_with_stable_indexes() {
    let (chunks, error) = run("tools.sse");
    assert!(error.is_none());
    let fragments: Vec<ToolCallDelta> = chunks
        .iter()
        .flat_map(|chunk| &chunk.choices)
        .flat_map(|choice| choice.delta.tool_calls.clone().unwrap_or_default())
        .collect();
    let arguments = |index: u32, piece: &str| ToolCallDelta {
        index,
        function: Some(FunctionCallDelta { name: None, arguments: Some(piece.to_owned()) }),
        ..Default::default()
    };
    let first = |index: u32, id: &str, name: &str| ToolCallDelta {
        index,
        id: Some(id.to_owned()),
        kind: Some("function".to_owned()),
        function: Some(FunctionCallDelta { name: Some(name.to_owned()), arguments: Some(String::new()) }),
        extra_content: None,
    };
    assert_eq!(
        fragments,
        [
            first(0, "toolu_01T1x1fJ34qAmk2tNTrN7Up6", "get_weather"),
            arguments(0, "{\"location\":"),
            arguments(0, " \"Paris\"}"),
            first(1, "toolu_02Xy9k2LmN3pQrS4tUvW5xYz", "get_time"),
            arguments(1, "{\"tz\": \"Europe/Paris\"}"),
        ]
    );
    assert_eq!(text_of(&chunks), "Checking both cities.");
    assert_eq!(chunks[chunks.len() - 2].choices[0].finish_reason, Some(FinishReason::ToolCalls));
}

/// Each tool call's arguments as a caller accumulating the fragments gets them, by `index`.
fn accumulated_arguments(chunks: &[ChatCompletionChunk]) -> Vec<(u32, String)> {
    let mut calls: Vec<(u32, String)> = Vec::new();
    let fragments = chunks
        .iter()
        .flat_map(|chunk| &chunk.choices)
        .flat_map(|choice| choice.delta.tool_calls.clone().unwrap_or_default());
    for fragment in fragments {
        let piece = fragment.function.and_then(|function| function.arguments).unwrap_or_default();
        match calls.iter_mut().find(|(index, _)| *index == fragment.index) {
            Some((_, arguments)) => arguments.push_str(&piece),
            None => calls.push((fragment.index, piece)),
        }
    }
    calls
}

#[test]
fn a_tool_call_without_arguments_streams_an_empty_object() {
    let (chunks, error) = run("thinking_text_tool.sse");
    assert!(error.is_none(), "{error:?}");
    // The server tool's block and its input are skipped; the client tool is the turn's first call.
    assert_eq!(accumulated_arguments(&chunks), [(0, "{}".to_owned())]);
    assert_eq!(accumulated_arguments(&run("tools.sse").0)[1], (1, r#"{"tz": "Europe/Paris"}"#.to_owned()));

    // An input given whole in content_block_start, with no deltas, is the call's arguments.
    let mut decoder = AnthropicStreamDecoder::new();
    let mut out = Chunks::new();
    for event in [
        r#"{"type":"message_start","message":{"id":"msg_1","model":"m","content":[],"usage":{"input_tokens":1,"output_tokens":1}}}"#,
        r#"{"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"toolu_1","name":"f","input":{"q":"x"}}}"#,
        r#"{"type":"content_block_stop","index":0}"#,
        r#"{"type":"message_stop"}"#,
    ] {
        assert!(feed(&mut decoder, event, &mut out).is_ok(), "{event}");
    }
    let chunks: Vec<ChatCompletionChunk> = out.into_iter().collect();
    assert_eq!(accumulated_arguments(&chunks), [(0, r#"{"q":"x"}"#.to_owned())]);
}

#[test]
fn thinking_then_several_text_blocks_then_a_tool_call_in_one_turn() {
    let (chunks, error) = run("thinking_text_tool.sse");
    assert!(error.is_none(), "{error:?}");
    assert_eq!(chunks[0].choices[0].delta.role, Some(Role::Assistant));
    assert_eq!(text_of(&chunks), "Let me check the clock. One moment.");
    let details: Vec<_> = chunks
        .iter()
        .flat_map(|chunk| &chunk.choices)
        .flat_map(|choice| choice.delta.reasoning_details.clone().unwrap_or_default())
        .collect();
    assert_eq!(details.len(), 1);
    assert_eq!(details[0].text.as_deref(), Some("The user wants the time; get_time takes no arguments."));
    assert_eq!(details[0].signature.as_deref(), Some("ErUBCkYIBxgCIkCk9sVMdyHzRUqfvbT0"));
    let finishes: Vec<&FinishReason> = chunks
        .iter()
        .flat_map(|chunk| &chunk.choices)
        .filter_map(|choice| choice.finish_reason.as_ref())
        .collect();
    assert_eq!(finishes, [&FinishReason::ToolCalls]);
    assert_eq!(chunks[chunks.len() - 2].choices[0].finish_reason, Some(FinishReason::ToolCalls));
    let Some(usage) = chunks.last().and_then(|chunk| chunk.usage) else { panic!("usage last") };
    assert_eq!((usage.prompt_tokens, usage.completion_tokens, usage.reasoning_tokens()), (610, 92, 14));
}

#[test]
fn thinking_streams_as_reasoning_with_the_signed_block_at_its_end() {
    let (chunks, error) = run("thinking.sse");
    assert!(error.is_none());
    let reasoning: String = chunks
        .iter()
        .flat_map(|chunk| &chunk.choices)
        .filter_map(|choice| choice.delta.reasoning_content.as_deref())
        .collect();
    assert_eq!(reasoning, "27 * 453: 27 * 400 = 10800, 27 * 53 = 1431, total 12231.");
    let details: Vec<_> = chunks
        .iter()
        .flat_map(|chunk| &chunk.choices)
        .flat_map(|choice| choice.delta.reasoning_details.clone().unwrap_or_default())
        .collect();
    assert_eq!(details.len(), 2);
    assert_eq!(details[0].kind, ReasoningDetailType::Text);
    assert_eq!(details[0].text.as_deref(), Some(reasoning.as_str()));
    assert_eq!(
        details[0].signature.as_deref(),
        Some("EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds")
    );
    assert_eq!(details[1].kind, ReasoningDetailType::Encrypted);
    assert_eq!(
        details[1].data.as_deref(),
        Some("EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpP")
    );
    assert_eq!(text_of(&chunks), "27 * 453 = 12,231.");
    assert_eq!(chunks[chunks.len() - 2].choices[0].finish_reason, Some(FinishReason::Length));
}

#[test]
fn mid_stream_overloaded_error_is_a_retryable_api_error_after_the_text_so_far() {
    let (chunks, error) = run("overloaded.sse");
    assert_eq!(text_of(&chunks), "Partial");
    let Some(error) = error else { panic!("an error event must fail the stream") };
    assert!(error.is_retryable());
    assert_eq!(error.status(), None);
    assert_eq!(error.to_string(), "anthropic API error (overloaded_error): Overloaded");
}

#[test]
fn a_body_that_ends_early_is_an_error_and_garbage_is_a_decode_error() {
    let mut decoder = AnthropicStreamDecoder::new();
    let mut out = Chunks::new();
    let data = event_data(&fixture("text.sse"));
    for event in &data[..4] {
        assert!(feed(&mut decoder, event, &mut out).is_ok());
    }
    assert_eq!(decoder.on_end(&mut out).ok(), Some(EndOfBody::Truncated));
    // Through the driver, a truncated body is the uniform connection error.
    let body: String = data[..4].iter().map(|event| format!("data: {event}\n\n")).collect();
    let (chunks, error) = decode(body.as_bytes());
    assert!(!chunks.is_empty());
    assert!(matches!(error, Some(LLMError::Connection { .. })), "{error:?}");
    assert!(matches!(feed(&mut decoder, "{not json", &mut out), Err(LLMError::Decode { .. })));
    // A stop reason without message_stop still finishes cleanly.
    let mut decoder = AnthropicStreamDecoder::new();
    for event in &data[..data.len() - 1] {
        assert!(feed(&mut decoder, event, &mut out).is_ok());
    }
    assert_eq!(decoder.raw_stop_reason(), Some("end_turn"));
    assert_eq!(decoder.on_end(&mut out).ok(), Some(EndOfBody::Complete));
    let body: String = data[..data.len() - 1].iter().map(|event| format!("data: {event}\n\n")).collect();
    let (chunks, error) = decode(body.as_bytes());
    assert!(error.is_none(), "{error:?}");
    assert!(chunks.last().is_some_and(|chunk| chunk.usage.is_some()));
}

/// Feeds `bytes` cut at `points` through the shipped driver, the SSE framing and the decoder.
fn replay(bytes: &[u8], points: &[usize]) -> (Vec<ChatCompletionChunk>, Option<String>) {
    let pieces = vllora_llm_testkit::split_at(bytes, points);
    let (chunks, error) = decode_pieces(SseDecoder::new(1 << 20), AnthropicStreamDecoder::new(), pieces);
    (chunks, error.map(|error| error.to_string()))
}

#[test]
fn every_fixture_gives_the_same_result_under_every_chunking() {
    for name in FIXTURES {
        let text = fixture(name);
        let bytes = text.as_bytes();
        let whole = replay(bytes, &[]);
        assert!(!whole.0.is_empty(), "{name}");
        assert_eq!(whole, replay(bytes, &[]));
        for points in vllora_llm_testkit::split_points(bytes.len()) {
            assert_eq!(replay(bytes, &points), whole, "{name} split at {points:?}");
        }
        // CRLF line endings decode the same.
        let crlf = text.replace('\n', "\r\n");
        assert_eq!(replay(crlf.as_bytes(), &[]), whole, "{name} with CRLF");
    }
}

#[test]
fn truncated_or_mangled_events_are_errors_never_panics() {
    for name in FIXTURES {
        for data in event_data(&fixture(name)) {
            for end in (0..data.len()).filter(|end| data.is_char_boundary(*end)) {
                let mut decoder = AnthropicStreamDecoder::new();
                let mut out = Chunks::new();
                // Any outcome but a panic is acceptable for a cut event.
                let _ = feed(&mut decoder, &data[..end], &mut out);
            }
            let mangled = data.replace("\"index\":", "\"index\":\"x\",\"i\":");
            let _ = feed(&mut AnthropicStreamDecoder::new(), &mangled, &mut Chunks::new());
        }
    }
    // Deltas for blocks that never started, and stops without starts, are skipped.
    let mut decoder = AnthropicStreamDecoder::new();
    let mut out = Chunks::new();
    let stray = [
        r#"{"type":"content_block_delta","index":5,"delta":{"type":"input_json_delta","partial_json":"{"}}"#,
        r#"{"type":"content_block_delta","index":6,"delta":{"type":"signature_delta","signature":"s"}}"#,
        r#"{"type":"content_block_stop","index":9}"#,
        r#"{"type":"message_stop"}"#,
    ];
    for event in stray {
        assert!(feed(&mut decoder, event, &mut out).is_ok(), "{event}");
    }
    assert!(decoder.is_finished());
    assert!(decoder.is_complete());
}

/// The raw finish reasons of a stream's chunks, in order, with the unified ones beside them.
fn finish_reasons(chunks: &[ChatCompletionChunk]) -> Vec<(FinishReason, Option<String>)> {
    chunks
        .iter()
        .flat_map(|chunk| &chunk.choices)
        .filter_map(|choice| {
            let raw = choice.raw_finish_reason.as_ref().map(|raw| raw.to_string());
            match &choice.finish_reason {
                Some(reason) => Some((reason.clone(), raw)),
                None => {
                    assert!(raw.is_none(), "a raw finish reason without the unified one");
                    None
                }
            }
        })
        .collect()
}

#[test]
fn the_final_choice_chunk_carries_anthropics_own_stop_reason() {
    for (name, unified, raw) in [
        ("text.sse", FinishReason::Stop, "end_turn"),
        ("tools.sse", FinishReason::ToolCalls, "tool_use"),
        ("thinking.sse", FinishReason::Length, "max_tokens"),
        ("thinking_text_tool.sse", FinishReason::ToolCalls, "tool_use"),
    ] {
        let (chunks, error) = run(name);
        assert!(error.is_none(), "{name}: {error:?}");
        assert_eq!(finish_reasons(&chunks), [(unified, Some(raw.to_owned()))], "{name}");
        assert_eq!(
            chunks[chunks.len() - 2].choices[0].raw_finish_reason.as_deref(),
            Some(raw),
            "{name}: on the final choice chunk"
        );
    }

    let start = r#"data: {"type":"message_start","message":{"id":"msg_1","model":"m","content":[],"usage":{"input_tokens":1,"output_tokens":1}}}"#;
    let stop = r#"data: {"type":"message_stop"}"#;
    for (reason, unified) in [
        ("pause_turn", FinishReason::Other("pause_turn".into())),
        ("refusal", FinishReason::ContentFilter),
        ("end_turn", FinishReason::Stop),
        ("model_context_window_exceeded", FinishReason::Other("model_context_window_exceeded".into())),
    ] {
        let delta = format!(
            r#"data: {{"type":"message_delta","delta":{{"stop_reason":"{reason}"}},"usage":{{"output_tokens":2}}}}"#
        );
        let body = format!("{start}\n\n{delta}\n\n{stop}\n\n");
        let (chunks, error) = decode(body.as_bytes());
        assert!(error.is_none(), "{reason}: {error:?}");
        assert_eq!(finish_reasons(&chunks), [(unified.clone(), Some(reason.to_owned()))]);
        // A stop reason without message_stop is the same answer.
        let (unstopped, error) = decode(format!("{start}\n\n{delta}\n\n").as_bytes());
        assert!(error.is_none(), "{reason}: {error:?}");
        assert_eq!(finish_reasons(&unstopped), [(unified, Some(reason.to_owned()))]);
    }

    // message_stop without a stop reason: `stop`, and no raw reason to show.
    let (chunks, error) = decode(format!("{start}\n\n{stop}\n\n").as_bytes());
    assert!(error.is_none(), "{error:?}");
    assert_eq!(finish_reasons(&chunks), [(FinishReason::Stop, None)]);
}

#[test]
fn the_stream_ends_at_message_stop_whatever_follows() {
    let text = fixture("text.sse");
    let (expected, error) = decode(text.as_bytes());
    assert!(error.is_none(), "{error:?}");
    for tail in [
        "event: ping\ndata: {\"type\": \"ping\"}\n\n",
        "data: {not json\n\n",
        "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"late\"}}\n\n",
        "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"more\"}}\n\n",
    ] {
        let (chunks, error) = decode(format!("{text}{tail}").as_bytes());
        assert!(error.is_none(), "{tail}: {error:?}");
        assert_eq!(chunks, expected, "{tail}");
    }
}

/// `tests/fixtures/streams/<case>.sse` -> `<case>.expected.json`: the chunks the caller gets (with the raw
/// finish reasons, which chunk JSON leaves out) and the error that ended the stream.
#[test]
fn golden_streams() {
    let directory = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/streams");
    vllora_llm_testkit::golden(directory, "sse", "expected.json", |_, body| {
        let (chunks, error) = decode(body);
        let raw: Vec<Option<String>> = chunks
            .iter()
            .flat_map(|chunk| &chunk.choices)
            .filter(|choice| choice.finish_reason.is_some())
            .map(|choice| choice.raw_finish_reason.as_ref().map(|raw| raw.to_string()))
            .collect();
        serde_json::json!({
            "chunks": serde_json::to_value(&chunks).unwrap_or_default(),
            "raw_finish_reasons": raw,
            "error": error.map(|error| error.to_string()),
        })
    });
}

/// Folds a stream's chunks into the message a caller accumulating deltas would hold: text and reasoning
/// concatenated, reasoning details and provider content appended, tool calls assembled by index.
fn accumulate(chunks: &[ChatCompletionChunk]) -> ChatCompletionMessage {
    let mut message = ChatCompletionMessage { role: Role::Assistant, ..Default::default() };
    let mut text = String::new();
    let mut reasoning = String::new();
    let mut calls: Vec<ToolCall> = Vec::new();
    for delta in chunks.iter().flat_map(|chunk| &chunk.choices).map(|choice| &choice.delta) {
        text.push_str(delta.content.as_deref().unwrap_or_default());
        reasoning.push_str(delta.reasoning_content.as_deref().unwrap_or_default());
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
    message.content = Some(ChatCompletionContent::Text(text));
    message.reasoning_content = (!reasoning.is_empty()).then_some(reasoning);
    message.tool_calls = (!calls.is_empty()).then_some(calls);
    message
}

/// The streamed server-tool answer, at every chunking (byte by byte, random pieces, whole), adds up to the
/// one-shot answer: the same text, reasoning blocks, calls, block order with server-tool blocks and
/// citations, and the same usage with its server-tool counts.
#[test]
fn server_tool_blocks_and_citations_stream_as_the_one_shot_answer_at_every_chunking() {
    let body = fixture("server_tools_citations.sse");
    let path = format!(
        "{}/tests/fixtures/responses/server_tools_citations.anthropic.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let one_shot_body = std::fs::read(&path).unwrap_or_else(|error| panic!("{path}: {error}"));
    let one_shot = crate::response::parse_response(&one_shot_body, Vec::new())
        .unwrap_or_else(|error| panic!("one-shot: {error}"));
    let expected = one_shot.message();
    for points in vllora_llm_testkit::split_points(body.len()) {
        let pieces = vllora_llm_testkit::split_at(body.as_bytes(), &points);
        let (chunks, error) = decode_pieces(SseDecoder::new(1 << 20), AnthropicStreamDecoder::new(), pieces);
        assert!(error.is_none(), "{error:?}");
        let streamed = accumulate(&chunks);
        assert_eq!(streamed.content, expected.content);
        assert_eq!(streamed.reasoning_content, expected.reasoning_content);
        assert_eq!(streamed.reasoning_details, expected.reasoning_details);
        // Streamed arguments are the JSON text Anthropic wrote; the one-shot ones are re-serialised.
        let calls = |message: &ChatCompletionMessage| -> Vec<(String, String, serde_json::Value)> {
            let calls = message.tool_calls.iter().flatten();
            calls
                .map(|call| {
                    let arguments = serde_json::from_str(&call.function.arguments).unwrap_or_default();
                    (call.id.clone(), call.function.name.clone(), arguments)
                })
                .collect()
        };
        assert_eq!(calls(&streamed), calls(expected));
        assert_eq!(streamed.provider_content, expected.provider_content);
        let usage = chunks.iter().rev().find_map(|chunk| chunk.usage);
        assert_eq!(usage.as_ref(), one_shot.usage());
    }
    let entries = expected.provider_content.as_deref().unwrap_or_default();
    assert_eq!(entries.len(), 9, "every block of the answer has its place");
    assert_eq!(
        one_shot.usage().and_then(|usage| usage.server_tool_use).and_then(|tools| tools.web_search_requests),
        Some(1)
    );
}
