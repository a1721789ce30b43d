//! Request translation against fixtures: a gateway request in, the exact Converse body out, validated
//! against AWS's service model through `record_conformance`.

use serde_json::{Value, json};
use vllora_llm_core::types::gateway::ChatCompletionRequest;
use vllora_llm_core::{LLMError, Warning, Warnings};

use super::{build, to_json_bytes};
use crate::PROVIDER_NAME;

const REQUESTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/requests");

/// Translates, records the body for both operations' schema checks, and returns it with the warnings.
fn translate(request: &ChatCompletionRequest) -> (Value, Vec<Warning>) {
    let mut warnings = Warnings::new(PROVIDER_NAME);
    let body = build(request, &request.model, &mut warnings);
    let Ok(body) = body else { panic!("{body:?}") };
    let bytes = to_json_bytes(&body).unwrap_or_default();
    let value: Value = serde_json::from_slice(&bytes).unwrap_or_default();
    vllora_llm_testkit::record_conformance("bedrock-converse", &value);
    vllora_llm_testkit::record_conformance("bedrock-converse-stream", &value);
    (value, warnings.finish(false).unwrap_or_default())
}

fn translate_error(request: &ChatCompletionRequest) -> String {
    let mut warnings = Warnings::new(PROVIDER_NAME);
    match build(request, &request.model, &mut warnings) {
        Ok(body) => panic!("expected an error, got {body:?}"),
        Err(error) => error.to_string(),
    }
}

/// Every `requests/<case>.gateway.json` becomes exactly `<case>.bedrock.json`, without a warning: a full
/// conversation (`full_conversation`), and sampling, tools, schema output and extra fields (`sampling`).
#[test]
fn request_fixtures_become_their_documented_converse_bodies() {
    let cases = vllora_llm_testkit::golden_cases(REQUESTS, "gateway.json", "bedrock.json");
    let names: Vec<&str> = cases.iter().map(|case| case.name.as_str()).collect();
    assert_eq!(names, ["full_conversation", "sampling"]);
    vllora_llm_testkit::golden(REQUESTS, "gateway.json", "bedrock.json", |case, bytes| {
        let request: ChatCompletionRequest =
            serde_json::from_slice(bytes).unwrap_or_else(|error| panic!("{}: {error}", case.name));
        let (body, warnings) = translate(&request);
        assert_eq!(warnings, Vec::new(), "{}", case.name);
        body
    });
}

#[test]
fn every_unsupported_parameter_is_a_warning_and_strict_mode_refuses() {
    let request: ChatCompletionRequest = serde_json::from_value(json!({
        "model": "anthropic.claude-3-haiku-20240307-v1:0",
        "messages": [{"role": "user", "content": "Hi"}],
        "frequency_penalty": 0.5, "presence_penalty": 0.1, "logit_bias": {"50256": -100}, "user": "u-1",
        "seed": 7, "logprobs": true, "top_logprobs": 2, "n": 2, "prompt_cache_key": "k",
        "parallel_tool_calls": false, "reasoning_effort": "none",
        "response_format": {"type": "json_object"}, "service_tier": "scale"
    }))
    .unwrap_or_default();
    let (body, warnings) = translate(&request);
    assert_eq!(body, json!({"messages": [{"role": "user", "content": [{"text": "Hi"}]}]}));
    let mut parameters: Vec<&str> = warnings.iter().filter_map(Warning::parameter).collect();
    parameters.sort_unstable();
    assert_eq!(
        parameters,
        [
            "frequency_penalty",
            "logit_bias",
            "logprobs",
            "n",
            "parallel_tool_calls",
            "presence_penalty",
            "prompt_cache_key",
            "reasoning_effort",
            "response_format",
            "seed",
            "service_tier",
            "top_logprobs",
            "user",
        ]
    );
    let mut strict = Warnings::new(PROVIDER_NAME);
    let _ = build(&request, &request.model, &mut strict);
    assert!(matches!(strict.finish(true), Err(LLMError::Unsupported(list)) if list.len() == 13));
}

/// `provider_specific` keys go where Bedrock expects them, with no warning: Converse's own top-level
/// fields (snake or camel case) into the body, `additionalModelRequestFields` and every other key into
/// `additionalModelRequestFields` (the model's native fields), beside what the translator put there.
#[test]
fn provider_specific_fields_are_merged_where_bedrock_expects_them() {
    let request: ChatCompletionRequest = serde_json::from_value(json!({
        "model": "us.amazon.nova-premier-v1:0",
        "messages": [{"role": "user", "content": "Latest news on the Artemis mission?"}],
        "tools": [{"type": "function", "function": {"name": "get_time", "parameters": {"type": "object"}}}],
        "provider_specific": {
            "top_k": 20,
            "additional_parameters": {"inferenceConfig": {"topK": 30}},
            "tool_config": {"tools": [{"systemTool": {"name": "nova_grounding"}}]},
            "promptVariables": {"topic": {"text": "space"}},
            "additionalModelRequestFields": {"reasoningConfig": {"type": "enabled", "maxReasoningEffort": "low"}},
            "guardrail_config": {"guardrailIdentifier": "gr-1", "guardrailVersion": "1"}
        }
    }))
    .unwrap_or_default();
    let (body, warnings) = translate(&request);
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(
        body["toolConfig"]["tools"],
        json!([
            {"toolSpec": {"name": "get_time", "inputSchema": {"json": {"type": "object"}}}},
            {"systemTool": {"name": "nova_grounding"}}
        ])
    );
    assert_eq!(body["promptVariables"], json!({"topic": {"text": "space"}}));
    assert_eq!(
        body["additionalModelRequestFields"],
        json!({"inferenceConfig": {"topK": 30}, "reasoningConfig": {"type": "enabled", "maxReasoningEffort": "low"}})
    );
    assert_eq!(body["guardrailConfig"]["guardrailIdentifier"], "gr-1");
}

#[test]
fn tool_choices_map_to_auto_any_and_tool() {
    let tool =
        json!({"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}});
    let choice = |tool_choice: Value| {
        let request: ChatCompletionRequest = serde_json::from_value(json!({
            "model": "amazon.nova-pro-v1:0", "messages": [{"role": "user", "content": "Weather?"}],
            "tools": [tool.clone()], "tool_choice": tool_choice
        }))
        .unwrap_or_default();
        let (body, warnings) = translate(&request);
        (body["toolConfig"]["toolChoice"].clone(), warnings.len())
    };
    assert_eq!(choice(json!("auto")), (json!({"auto": {}}), 0));
    assert_eq!(choice(json!("required")), (json!({"any": {}}), 0));
    assert_eq!(
        choice(json!({"type": "function", "function": {"name": "get_weather"}})),
        (json!({"tool": {"name": "get_weather"}}), 0)
    );
    assert_eq!(choice(json!("none")), (Value::Null, 1), "no `none` on Bedrock: a warning");
}

#[test]
fn thinking_and_top_k_follow_the_model_family() {
    let request = |model: &str| -> ChatCompletionRequest {
        serde_json::from_value(json!({
            "model": model, "messages": [{"role": "user", "content": "Think."}],
            "provider_specific": {"top_k": 20, "thinking": {"type": "enabled", "budget_tokens": 2048}}
        }))
        .unwrap_or_default()
    };
    let (claude, warnings) = translate(&request("anthropic.claude-3-7-sonnet-20250219-v1:0"));
    assert_eq!(
        claude["additionalModelRequestFields"],
        json!({"thinking": {"type": "enabled", "budget_tokens": 2048}})
    );
    assert_eq!(
        warnings.iter().filter_map(Warning::parameter).collect::<Vec<_>>(),
        ["provider_specific.top_k"],
        "Claude takes no top_k while thinking"
    );
    let (nova, warnings) = translate(&request("us.amazon.nova-pro-v1:0"));
    assert_eq!(nova["additionalModelRequestFields"], json!({"inferenceConfig": {"topK": 20}}));
    assert_eq!(
        warnings.iter().filter_map(Warning::parameter).collect::<Vec<_>>(),
        ["provider_specific.thinking"]
    );
}

#[test]
fn consecutive_turns_merge_and_blank_assistant_text_is_dropped() {
    let request: ChatCompletionRequest = serde_json::from_value(json!({
        "model": "anthropic.claude-3-haiku-20240307-v1:0",
        "messages": [
            {"role": "user", "content": "First"},
            {"role": "user", "content": [{"type": "text", "text": "Second"}], "cache_control": {"type": "ephemeral"}},
            {"role": "assistant", "content": "", "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "now", "arguments": ""}}]},
            {"role": "tool", "tool_call_id": "call_1", "content": [{"type": "text", "text": "12:00"}]},
            {"role": "assistant", "content": "It is noon.", "reasoning_content": "from another provider"}
        ],
        "tools": [{"type": "function", "function": {"name": "now"}}]
    }))
    .unwrap_or_default();
    let (body, warnings) = translate(&request);
    assert_eq!(
        body["messages"],
        json!([
            {"role": "user", "content": [{"text": "First"}, {"text": "Second"}, {"cachePoint": {"type": "default"}}]},
            {"role": "assistant", "content": [{"toolUse": {"toolUseId": "call_1", "name": "now", "input": {}}}]},
            {"role": "user", "content": [{"toolResult": {"toolUseId": "call_1", "content": [{"text": "12:00"}]}}]},
            {"role": "assistant", "content": [{"text": "It is noon."}]}
        ])
    );
    assert_eq!(
        body["toolConfig"]["tools"][0]["toolSpec"]["inputSchema"],
        json!({"json": {"type": "object", "properties": {}}})
    );
    assert_eq!(warnings.len(), 1, "unsigned reasoning is not sent back, and that is said: {warnings:?}");
}

#[test]
fn a_streamed_signature_is_sent_back_with_the_message_reasoning_text() {
    let request: ChatCompletionRequest = serde_json::from_value(json!({
        "model": "anthropic.claude-sonnet-4-20250514-v1:0",
        "messages": [
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello", "reasoning_content": "Greet back.",
             "reasoning_details": [
                {"type": "reasoning.text", "signature": "sig-1", "provider": "bedrock"},
                {"type": "reasoning.encrypted", "data": "RXJ5dGhpbmc=", "provider": "bedrock"},
                {"type": "reasoning.text", "text": "not ours", "signature": "x", "provider": "anthropic"}]},
            {"role": "user", "content": "Again"}
        ]
    }))
    .unwrap_or_default();
    let (body, _) = translate(&request);
    assert_eq!(
        body["messages"][1]["content"],
        json!([
            {"reasoningContent": {"reasoningText": {"text": "Greet back.", "signature": "sig-1"}}},
            {"reasoningContent": {"redactedContent": "RXJ5dGhpbmc="}},
            {"text": "Hello"}
        ])
    );
}

#[test]
fn a_history_with_tool_calls_but_no_tools_declares_them() {
    let request: ChatCompletionRequest = serde_json::from_value(json!({
        "model": "anthropic.claude-3-haiku-20240307-v1:0",
        "messages": [
            {"role": "user", "content": "Weather in Paris and the time?"},
            {"role": "assistant", "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}},
                {"id": "call_2", "type": "function", "function": {"name": "now", "arguments": "{}"}},
                {"id": "call_3", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Lyon\"}"}}]},
            {"role": "tool", "tool_call_id": "call_1", "content": "18°C"},
            {"role": "tool", "tool_call_id": "call_2", "content": "12:00"},
            {"role": "tool", "tool_call_id": "call_3", "content": "16°C"}
        ]
    }))
    .unwrap_or_default();
    let (body, warnings) = translate(&request);
    let any_object = json!({"json": {"type": "object", "properties": {}}});
    assert_eq!(
        body["toolConfig"],
        json!({"tools": [
            {"toolSpec": {"name": "get_weather", "inputSchema": any_object}},
            {"toolSpec": {"name": "now", "inputSchema": any_object}}
        ]})
    );
    assert_eq!(warnings.iter().filter_map(Warning::parameter).collect::<Vec<_>>(), ["tools"]);
}

#[test]
fn reasoning_effort_goes_to_output_config() {
    let request = |effort: &str| -> ChatCompletionRequest {
        serde_json::from_value(json!({
            "model": "global.anthropic.claude-opus-4-6-v1", "messages": [{"role": "user", "content": "Plan."}],
            "reasoning_effort": effort
        }))
        .unwrap_or_default()
    };
    let (body, warnings) = translate(&request("xhigh"));
    assert_eq!((body["outputConfig"].clone(), warnings.len()), (json!({"effort": "xhigh"}), 0));
    let (body, warnings) = translate(&request("minimal"));
    assert_eq!((body["outputConfig"].clone(), warnings.len()), (json!({"effort": "low"}), 1));
    let (body, warnings) = translate(&request("none"));
    assert_eq!((body.get("outputConfig"), warnings.len()), (None, 1));
}

#[test]
fn blank_system_text_and_empty_stop_sequences_are_not_sent() {
    let request: ChatCompletionRequest = serde_json::from_value(json!({
        "model": "anthropic.claude-3-haiku-20240307-v1:0",
        "messages": [{"role": "system", "content": " "}, {"role": "user", "content": "Hi"}],
        "stop": ["", "END"]
    }))
    .unwrap_or_default();
    let (body, _) = translate(&request);
    assert_eq!(body.get("system"), None);
    assert_eq!(body["inferenceConfig"], json!({"stopSequences": ["END"]}));
}

#[test]
fn media_that_bedrock_cannot_take_is_a_clear_error() {
    let with_part = |part: Value| -> ChatCompletionRequest {
        serde_json::from_value(json!({
            "model": "anthropic.claude-3-haiku-20240307-v1:0",
            "messages": [{"role": "user", "content": [{"type": "text", "text": "Look"}, part]}]
        }))
        .unwrap_or_default()
    };
    let remote = with_part(json!({"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}));
    assert!(translate_error(&remote).contains("messages[0].content[1]: Bedrock does not fetch image URLs"));
    let tiff = with_part(json!({"type": "image_url", "image_url": {"url": "data:image/tiff;base64,AAAA"}}));
    assert!(translate_error(&tiff).contains("not `image/tiff`"));
    let audio = with_part(json!({"type": "input_audio", "input_audio": {"data": "AAAA", "format": "flac"}}));
    assert!(translate_error(&audio).contains("audio in `flac` is not sent"));
    let file_id = with_part(json!({"type": "file", "file": {"file_id": "file-abc"}}));
    assert!(translate_error(&file_id).contains("file_data"));
    let s3 = with_part(json!({"type": "image_url", "image_url": {"url": "s3://bucket/photos/cat.JPG"}}));
    let (body, _) = translate(&s3);
    assert_eq!(
        body["messages"][0]["content"][1],
        json!({"image": {"format": "jpeg", "source": {"s3Location": {"uri": "s3://bucket/photos/cat.JPG"}}}})
    );
    let bad_arguments: ChatCompletionRequest = serde_json::from_value(json!({
        "model": "m.x", "messages": [{"role": "assistant", "tool_calls": [
            {"id": "call_9", "type": "function", "function": {"name": "f", "arguments": "{not json"}}]}]
    }))
    .unwrap_or_default();
    assert!(translate_error(&bad_arguments).contains("tool call `call_9` are not JSON"));
}

#[test]
fn tool_call_arguments_must_be_a_json_object() {
    let with_arguments = |arguments: &str| -> ChatCompletionRequest {
        serde_json::from_value(json!({
            "model": "anthropic.claude-3-haiku-20240307-v1:0",
            "messages": [
                {"role": "user", "content": "Go"},
                {"role": "assistant", "tool_calls": [
                    {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": arguments}}]},
                {"role": "tool", "tool_call_id": "call_1", "content": "done"}
            ],
            "tools": [{"type": "function", "function": {"name": "f"}}]
        }))
        .unwrap_or_default()
    };
    for arguments in ["[1, 2]", "\"text\"", "42", "true"] {
        let error = translate_error(&with_arguments(arguments));
        assert!(error.contains("tool call `call_1` are not a JSON object"), "{arguments}: {error}");
    }
    let (body, _) = translate(&with_arguments("null"));
    assert_eq!(body["messages"][1]["content"][0]["toolUse"]["input"], json!({}));
}

#[test]
fn documents_get_distinct_names_bedrock_accepts() {
    let file = |filename: Option<&str>| {
        let mut file = json!({"file_data": "data:application/pdf;base64,JVBERi0xLjQK"});
        if let Some(filename) = filename {
            file["filename"] = json!(filename);
        }
        json!({"type": "file", "file": file})
    };
    let request: ChatCompletionRequest = serde_json::from_value(json!({
        "model": "anthropic.claude-3-haiku-20240307-v1:0",
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "Compare"}, file(Some("report.pdf")),
                file(Some("report.pdf")), file(Some("résumé.pdf")), file(Some("報告.pdf"))]},
            {"role": "assistant", "content": "Done."},
            {"role": "user", "content": [{"type": "text", "text": "And this one"}, file(Some("Report.pdf")),
                file(None)]}
        ]
    }))
    .unwrap_or_default();
    let (body, _) = translate(&request);
    let names: Vec<&str> = body["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|message| message["content"].as_array().into_iter().flatten())
        .filter_map(|block| block["document"]["name"].as_str())
        .collect();
    assert_eq!(names, ["report", "report (2)", "r sum", "document 4", "Report (3)", "document 6"]);
}

#[test]
fn blank_user_text_is_not_sent() {
    let request: ChatCompletionRequest = serde_json::from_value(json!({
        "model": "anthropic.claude-3-haiku-20240307-v1:0",
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": ""},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0K"}}]},
            {"role": "assistant", "content": "A cat."},
            {"role": "user", "content": "Thanks"},
            {"role": "user", "content": " \n"}
        ]
    }))
    .unwrap_or_default();
    let (body, warnings) = translate(&request);
    assert_eq!(
        body["messages"],
        json!([
            {"role": "user", "content": [{"image": {"format": "png", "source": {"bytes": "iVBORw0K"}}}]},
            {"role": "assistant", "content": [{"text": "A cat."}]},
            {"role": "user", "content": [{"text": "Thanks"}]}
        ])
    );
    assert_eq!(warnings.len(), 1, "the empty message is said to be left out: {warnings:?}");
}

#[test]
fn message_fields_bedrock_has_no_place_for_are_warnings() {
    let request: ChatCompletionRequest = serde_json::from_value(json!({
        "model": "anthropic.claude-3-haiku-20240307-v1:0",
        "messages": [
            {"role": "user", "name": "alice", "content": [
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0K", "detail": "low"}},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0K", "detail": "auto"}},
                {"type": "file", "file": {"file_data": "data:application/pdf;base64,JVBERi0xLjQK",
                    "file_id": "file-abc", "filename": "a.pdf"}}]},
            {"role": "assistant", "content": "Hi", "audio": {"id": "audio_1"}},
            {"role": "user", "content": "Bye", "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}
        ]
    }))
    .unwrap_or_default();
    let (_, warnings) = translate(&request);
    assert_eq!(
        warnings.iter().filter_map(Warning::parameter).collect::<Vec<_>>(),
        [
            "messages[0].name",
            "messages[0].content[0].image_url.detail",
            "messages[0].content[2].file.file_id",
            "messages[1].audio",
            "messages[2].tool_calls"
        ]
    );
    let mut strict = Warnings::new(PROVIDER_NAME);
    let body = build(&request, &request.model, &mut strict);
    assert!(body.is_ok());
    assert!(matches!(strict.finish(true), Err(LLMError::Unsupported { .. })));
}

#[test]
fn metadata_bedrock_would_refuse_is_a_warning_not_a_failed_call() {
    let mut metadata = serde_json::Map::new();
    metadata.insert("team".into(), json!("search-ranking"));
    metadata.insert("trace".into(), json!("user@example.com #42, v1.2/3+x=y"));
    metadata.insert("note".into(), json!("it's \"quoted\""));
    metadata.insert("long".into(), json!("x".repeat(257)));
    metadata.insert("zz".into(), json!("one too many"));
    for number in 0..14 {
        metadata.insert(format!("k{number:02}"), json!("v"));
    }
    let request: ChatCompletionRequest = serde_json::from_value(json!({
        "model": "anthropic.claude-3-haiku-20240307-v1:0",
        "messages": [{"role": "user", "content": "Hi"}],
        "metadata": metadata
    }))
    .unwrap_or_default();
    let (body, warnings) = translate(&request);
    let sent = body["requestMetadata"].as_object().cloned().unwrap_or_default();
    assert_eq!(sent.len(), 16);
    assert_eq!(sent.get("trace"), Some(&json!("user@example.com #42, v1.2/3+x=y")));
    assert_eq!((sent.get("note"), sent.get("long")), (None, None));
    assert_eq!(sent.get("team"), Some(&json!("search-ranking")));
    let mut warned: Vec<&str> = warnings.iter().filter_map(Warning::parameter).collect();
    warned.sort_unstable();
    assert_eq!(warned, ["metadata.long", "metadata.note", "metadata.zz"]);
}

#[test]
fn a_temperature_above_bedrocks_range_is_sent_as_1_with_a_warning() {
    let request = |temperature: f64| -> ChatCompletionRequest {
        serde_json::from_value(json!({
            "model": "anthropic.claude-3-haiku-20240307-v1:0",
            "messages": [{"role": "user", "content": "Hi"}],
            "temperature": temperature
        }))
        .unwrap_or_default()
    };
    let (body, warnings) = translate(&request(1.7));
    assert_eq!(body["inferenceConfig"], json!({"temperature": 1.0}));
    assert_eq!(warnings.iter().filter_map(Warning::parameter).collect::<Vec<_>>(), ["temperature"]);
    let (body, warnings) = translate(&request(0.3));
    assert_eq!((body["inferenceConfig"].clone(), warnings.len()), (json!({"temperature": 0.3}), 0));
}

#[test]
fn an_empty_tool_result_is_not_a_blank_text_block() {
    let request: ChatCompletionRequest = serde_json::from_value(json!({
        "model": "anthropic.claude-3-haiku-20240307-v1:0",
        "messages": [
            {"role": "user", "content": "Clean up"},
            {"role": "assistant", "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "rm", "arguments": "{}"}},
                {"id": "call_2", "type": "function", "function": {"name": "rm", "arguments": "{}"}},
                {"id": "call_3", "type": "function", "function": {"name": "rm", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": "call_1", "content": ""},
            {"role": "tool", "tool_call_id": "call_2", "content": [{"type": "text", "text": " "},
                {"type": "text", "text": "removed 2 files"}]},
            {"role": "tool", "tool_call_id": "call_3"}
        ],
        "tools": [{"type": "function", "function": {"name": "rm"}}]
    }))
    .unwrap_or_default();
    let (body, _) = translate(&request);
    assert_eq!(
        body["messages"][2]["content"],
        json!([
            {"toolResult": {"toolUseId": "call_1", "content": [{"text": "(no output)"}]}},
            {"toolResult": {"toolUseId": "call_2", "content": [{"text": "removed 2 files"}]}},
            {"toolResult": {"toolUseId": "call_3", "content": [{"text": "(no output)"}]}}
        ])
    );
}

#[test]
fn whitespace_only_assistant_text_is_not_sent() {
    let request: ChatCompletionRequest = serde_json::from_value(json!({
        "model": "anthropic.claude-3-haiku-20240307-v1:0",
        "messages": [
            {"role": "user", "content": "Time?"},
            {"role": "assistant", "content": "\n\n", "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "now", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": "call_1", "content": "12:00"},
            {"role": "assistant", "content": [{"type": "text", "text": " "}, {"type": "text", "text": "Noon."}]}
        ],
        "tools": [{"type": "function", "function": {"name": "now"}}]
    }))
    .unwrap_or_default();
    let (body, _) = translate(&request);
    assert_eq!(
        body["messages"][1]["content"],
        json!([{"toolUse": {"toolUseId": "call_1", "name": "now", "input": {}}}])
    );
    assert_eq!(body["messages"][3]["content"], json!([{"text": "Noon."}]));
}

#[test]
fn tool_schemas_without_a_root_type_say_object() {
    let request: ChatCompletionRequest = serde_json::from_value(json!({
        "model": "anthropic.claude-3-haiku-20240307-v1:0",
        "messages": [{"role": "user", "content": "Hi"}],
        "tools": [
            {"type": "function", "function": {"name": "ping", "parameters": {}}},
            {"type": "function", "function": {"name": "find",
                "parameters": {"properties": {"q": {"type": "string"}}, "required": ["q"]}}},
            {"type": "function", "function": {"name": "typed",
                "parameters": {"type": "object", "properties": {}}}}
        ]
    }))
    .unwrap_or_default();
    let (body, _) = translate(&request);
    let schemas: Vec<Value> = body["toolConfig"]["tools"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|tool| tool["toolSpec"]["inputSchema"]["json"].clone())
        .collect();
    assert_eq!(
        schemas,
        [
            json!({"type": "object"}),
            json!({"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]}),
            json!({"type": "object", "properties": {}})
        ]
    );
}

#[test]
fn input_audio_becomes_an_audio_block() {
    let request: ChatCompletionRequest = serde_json::from_value(json!({
        "model": "us.amazon.nova-2-omni-v1:0",
        "messages": [{"role": "user", "content": [
            {"type": "text", "text": "Transcribe"},
            {"type": "input_audio", "input_audio": {"data": "UklGRiQAAABXQVZF", "format": "wav"}},
            {"type": "input_audio", "input_audio": {"data": "SUQzBAAAAAAA", "format": "mp3"}}]}]
    }))
    .unwrap_or_default();
    let (body, _) = translate(&request);
    assert_eq!(
        body["messages"][0]["content"],
        json!([
            {"text": "Transcribe"},
            {"audio": {"format": "wav", "source": {"bytes": "UklGRiQAAABXQVZF"}}},
            {"audio": {"format": "mp3", "source": {"bytes": "SUQzBAAAAAAA"}}}
        ])
    );
}

#[test]
fn what_claude_refuses_while_thinking_is_left_out_with_warnings() {
    let request = |thinking: Value| -> ChatCompletionRequest {
        serde_json::from_value(json!({
            "model": "us.anthropic.claude-sonnet-4-20250514-v1:0",
            "messages": [{"role": "user", "content": "Weather?"}],
            "temperature": 0.2, "max_tokens": 4096,
            "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}],
            "tool_choice": "required",
            "provider_specific": {"top_k": 40, "thinking": thinking}
        }))
        .unwrap_or_default()
    };
    let (body, warnings) = translate(&request(json!({"type": "enabled", "budget_tokens": 2048})));
    assert_eq!(body["toolConfig"]["toolChoice"], json!({"auto": {}}));
    assert_eq!(body["inferenceConfig"], json!({"maxTokens": 4096}));
    assert_eq!(
        body["additionalModelRequestFields"],
        json!({"thinking": {"type": "enabled", "budget_tokens": 2048}})
    );
    let mut warned: Vec<&str> = warnings.iter().filter_map(Warning::parameter).collect();
    warned.sort_unstable();
    assert_eq!(warned, ["provider_specific.top_k", "temperature", "tool_choice"]);

    let (body, warnings) = translate(&request(json!({"type": "disabled"})));
    assert_eq!(body["toolConfig"]["toolChoice"], json!({"any": {}}));
    assert_eq!(body["inferenceConfig"], json!({"maxTokens": 4096, "temperature": 0.2}));
    assert_eq!(body["additionalModelRequestFields"]["top_k"], json!(40));
    assert_eq!(warnings, Vec::new());
}

#[test]
fn no_cache_point_right_after_reasoning() {
    let request: ChatCompletionRequest = serde_json::from_value(json!({
        "model": "anthropic.claude-sonnet-4-20250514-v1:0",
        "messages": [
            {"role": "user", "content": "Think hard"},
            {"role": "assistant", "cache_control": {"type": "ephemeral"}, "reasoning_details": [
                {"type": "reasoning.text", "text": "Hmm.", "signature": "sig", "provider": "bedrock"}]},
            {"role": "user", "content": "Go on"},
            {"role": "assistant", "content": "Done.", "cache_control": {"type": "ephemeral"}, "reasoning_details": [
                {"type": "reasoning.text", "text": "Ok.", "signature": "sig2", "provider": "bedrock"}]}
        ]
    }))
    .unwrap_or_default();
    let (body, warnings) = translate(&request);
    assert_eq!(
        body["messages"][1]["content"],
        json!([{"reasoningContent": {"reasoningText": {"text": "Hmm.", "signature": "sig"}}}])
    );
    assert_eq!(
        body["messages"][3]["content"],
        json!([
            {"reasoningContent": {"reasoningText": {"text": "Ok.", "signature": "sig2"}}},
            {"text": "Done."},
            {"cachePoint": {"type": "default"}}
        ])
    );
    assert_eq!(
        warnings.iter().filter_map(Warning::parameter).collect::<Vec<_>>(),
        ["messages[1].cache_control"]
    );
}

#[test]
fn tool_call_ids_bedrock_would_refuse_are_rewritten_the_same_way_in_call_and_result() {
    let long = format!("call_{}", "a".repeat(70));
    let request: ChatCompletionRequest = serde_json::from_value(json!({
        "model": "anthropic.claude-3-haiku-20240307-v1:0",
        "messages": [
            {"role": "user", "content": "Go"},
            {"role": "assistant", "tool_calls": [
                {"id": "functions.get_weather:0", "type": "function", "function": {"name": "f", "arguments": "{}"}},
                {"id": "run|42/x", "type": "function", "function": {"name": "f", "arguments": "{}"}},
                {"id": long, "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": "functions.get_weather:0", "content": "a"},
            {"role": "tool", "tool_call_id": "run|42/x", "content": "b"},
            {"role": "tool", "tool_call_id": long, "content": "c"}
        ],
        "tools": [{"type": "function", "function": {"name": "f"}}]
    }))
    .unwrap_or_default();
    let (body, _) = translate(&request);
    let calls: Vec<String> = body["messages"][1]["content"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|block| block["toolUse"]["toolUseId"].as_str().map(str::to_owned))
        .collect();
    let results: Vec<String> = body["messages"][2]["content"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|block| block["toolResult"]["toolUseId"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(calls, results);
    assert_eq!(calls[0], "functions.get_weather:0", "ids Bedrock accepts are kept");
    for id in &calls {
        let allowed = id.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':' | '-'));
        assert!(allowed && (1..=64).contains(&id.len()), "{id}");
    }
    assert!(calls[1].starts_with("run_42_x_"), "{}", calls[1]);
}
