//! The gateway types read and write OpenAI's own JSON: real documents survive a round trip, and what we
//! serialise validates against OpenAI's published schema (`cargo xtask conformance`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use serde_json::Value;
use vllora_llm_core::types::gateway::{
    ChatCompletionChunk, ChatCompletionContent, ChatCompletionRequest, ChatCompletionResponse, ContentPart,
    FinishReason, ImageDetail, ReasoningEffort, ResponseFormat, Role, ToolChoice,
};
use vllora_llm_testkit::record_conformance;

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/openai/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{path}: {error}"))
}

/// Drops `null` members: OpenAI writes absent optional fields as `null`, we omit them.
fn without_nulls(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, member)| !member.is_null())
                .map(|(key, member)| (key, without_nulls(member)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(without_nulls).collect()),
        other => other,
    }
}

fn round_trip<T: serde::de::DeserializeOwned + serde::Serialize>(json: &str) -> (T, Value, Value) {
    let original: Value = serde_json::from_str(json).unwrap();
    let parsed: T = serde_json::from_str(json).unwrap();
    let written = serde_json::to_value(&parsed).unwrap();
    (parsed, without_nulls(original), without_nulls(written))
}

#[test]
fn a_request_with_every_field_round_trips() {
    let (request, original, written) =
        round_trip::<ChatCompletionRequest>(&fixture("request_every_field.json"));
    assert_eq!(written, original);
    assert_eq!(request.max_completion_tokens, Some(256));
    assert_eq!(request.reasoning_effort, Some(ReasoningEffort::Low));
    assert_eq!(request.n, Some(2));
    assert_eq!(request.parallel_tool_calls, Some(false));
    assert_eq!(request.messages[0].role, Role::Developer);
    assert_eq!(request.messages[2].name.as_deref(), Some("alice"));
    assert!(matches!(
        &request.messages[4].content,
        Some(ChatCompletionContent::Parts(parts))
            if matches!(&parts[1], ContentPart::ImageUrl { image_url, .. } if image_url.detail == Some(ImageDetail::High))
    ));
    assert!(
        matches!(&request.response_format, Some(ResponseFormat::JsonSchema { json_schema }) if json_schema.strict == Some(true))
    );
    record_conformance("openai-chat", &written);
}

#[test]
fn a_tool_conversation_round_trips() {
    let (request, original, written) =
        round_trip::<ChatCompletionRequest>(&fixture("request_tools_conversation.json"));
    assert_eq!(written, original);
    assert_eq!(request.tool_choice, Some(ToolChoice::Function { name: "get_weather".into() }));
    let calls = request.messages[1].tool_calls.as_ref().unwrap();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[1].function.arguments, r#"{"city":"Rome"}"#);
    assert_eq!(request.messages[3].tool_call_id.as_deref(), Some("call_b2"));
    record_conformance("openai-chat", &written);
}

#[test]
fn allowed_tools_media_and_a_single_stop_string() {
    let (request, mut original, written) =
        round_trip::<ChatCompletionRequest>(&fixture("request_allowed_tools_and_media.json"));
    // OpenAI accepts `stop` as a string or a list; we always write the list.
    original["stop"] = serde_json::json!(["STOP"]);
    assert_eq!(written, original);
    let Some(ToolChoice::AllowedTools(allowed)) = &request.tool_choice else {
        panic!("allowed_tools expected")
    };
    assert_eq!(allowed.function_names, vec!["search".to_owned()]);
    assert_eq!(request.response_format, Some(ResponseFormat::JsonObject));
    record_conformance("openai-chat", &written);
}

#[test]
fn every_tool_choice_form_serialises_as_openai_writes_it() {
    let cases = [
        (ToolChoice::None, serde_json::json!("none")),
        (ToolChoice::Auto, serde_json::json!("auto")),
        (ToolChoice::Required, serde_json::json!("required")),
        (
            ToolChoice::Function { name: "f".into() },
            serde_json::json!({"type": "function", "function": {"name": "f"}}),
        ),
    ];
    for (choice, expected) in cases {
        assert_eq!(serde_json::to_value(&choice).unwrap(), expected);
        assert_eq!(serde_json::from_value::<ToolChoice>(expected).unwrap(), choice);
    }
    let unknown = serde_json::from_value::<ToolChoice>(serde_json::json!("sometimes"));
    assert!(unknown.unwrap_err().to_string().contains("unknown tool_choice `sometimes`"));
}

#[test]
fn responses_round_trip_and_keep_usage_details() {
    let text = fixture("response_text.json");
    let (response, original, written) = round_trip::<ChatCompletionResponse>(&text);
    // Every field, `annotations` (web-search citations) included, survives the round trip.
    assert_eq!(written, original);
    assert_eq!(response.usage.map(|usage| usage.total_tokens), Some(29));
    assert_eq!(response.choices[0].finish_reason, Some(FinishReason::Stop));
    record_conformance("openai-chat-response", &serde_json::from_str(&text).unwrap());

    let text = fixture("response_tool_calls_logprobs.json");
    let (response, original, written) = round_trip::<ChatCompletionResponse>(&text);
    assert_eq!(written, original);
    assert_eq!(response.choices[0].finish_reason, Some(FinishReason::ToolCalls));
    let logprobs = response.choices[0].logprobs.as_ref().and_then(|logprobs| logprobs.content.as_ref());
    assert_eq!(logprobs.map(|tokens| tokens[0].bytes.clone()), Some(Some(b"Hello".to_vec())));
    record_conformance("openai-chat-response", &serde_json::from_str(&text).unwrap());
}

#[test]
fn stream_chunks_round_trip() {
    for line in fixture("chunks.jsonl").lines() {
        let (chunk, original, written) = round_trip::<ChatCompletionChunk>(line);
        assert_eq!(written, original, "{line}");
        assert_eq!(chunk.id, "chatcmpl-123");
        record_conformance("openai-chat-chunk", &serde_json::from_str(line).unwrap());
    }
}

#[test]
fn unknown_fields_and_finish_reasons_are_tolerated() {
    let chunk: ChatCompletionChunk = serde_json::from_str(
        r#"{"id":"x","object":"chat.completion.chunk","created":1,"model":"m","timings":{"predicted_ms":3.2},
            "choices":[{"index":0,"delta":{"content":"a","future_field":1},"finish_reason":"eos_token"}]}"#,
    )
    .unwrap();
    assert_eq!(chunk.choices[0].finish_reason, Some(FinishReason::Other("eos_token".into())));
}

#[test]
fn extensions_are_omitted_when_unset() {
    let request = ChatCompletionRequest {
        model: "gpt-4.1-mini".into(),
        messages: vec![vllora_llm_core::types::gateway::ChatCompletionMessage::new_text("user", "Hi")],
        ..Default::default()
    };
    let written = serde_json::to_value(&request).unwrap();
    assert_eq!(
        written,
        serde_json::json!({"model": "gpt-4.1-mini", "messages": [{"role": "user", "content": "Hi"}]})
    );
    record_conformance("openai-chat", &written);
}
