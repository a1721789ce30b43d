//! Chat Completions response -> gateway response: finish reasons, usage, tool calls and the reasoning
//! fields compatible servers add.

use vllora_llm_core::types::gateway::{
    ChatCompletionContent, ChatCompletionMessage, ChatCompletionMessageWithFinishReason,
    ChatCompletionResponse, Choice, FinishReason, PromptTokensDetails, ReasoningDetail, ReasoningDetailType,
    Role, ToolCall, Usage,
};
use vllora_llm_core::types::gateway::{ProviderContent, ProviderContentKind};
use vllora_llm_core::{LLMError, LLMResult, ProviderId};

use crate::error;
use crate::wire::{ChatResponse, ChunkBlock, MessageContent, ResponseChoice, ResponseToolCall, WireUsage};

/// Decodes a 2xx response body.
pub(crate) fn parse_response(
    provider: &str,
    body: &[u8],
) -> LLMResult<ChatCompletionMessageWithFinishReason> {
    // UTF-8 checked once for the whole body (`from_slice` checks each string again); a body that is not
    // UTF-8 goes through `from_slice`, whose error says where.
    let wire: ChatResponse = match std::str::from_utf8(body) {
        Ok(text) => serde_json::from_str(text),
        Err(_) => serde_json::from_slice(body),
    }
    .map_err(|error| LLMError::decode(provider, error))?;
    if let (Some(error_value), true) = (&wire.error, wire.choices.is_empty()) {
        return Err(error::api_error_from_value(provider, None, error_value).with_body(body).into());
    }
    // The first choice's reason is kept as the host wrote it, `""` included (the unified reason is then
    // none): moved out of its choice once read, not copied.
    let mut raw_finish_reason = None;
    let choices = wire
        .choices
        .into_iter()
        .enumerate()
        .map(|(position, mut wire)| {
            let raw = wire.finish_reason.take();
            let choice = choice(provider, wire, raw.as_deref());
            if position == 0 {
                raw_finish_reason = raw;
            }
            choice
        })
        .collect();
    let response = ChatCompletionResponse {
        id: wire.id,
        object: "chat.completion".to_owned(),
        created: wire.created,
        model: wire.model,
        choices,
        usage: wire.usage.map(usage),
        system_fingerprint: wire.system_fingerprint,
        service_tier: wire.service_tier,
    };
    Ok(ChatCompletionMessageWithFinishReason {
        raw_finish_reason,
        ..ChatCompletionMessageWithFinishReason::new(response)
    })
}

/// `""` and `null` both mean "not finished" (some servers send the empty string).
pub(crate) fn finish_reason(raw: Option<&str>) -> Option<FinishReason> {
    raw.filter(|raw| !raw.is_empty()).map(FinishReason::parse)
}

/// A choice in the gateway's shape; `raw_finish_reason` is its `finish_reason` as sent.
fn choice(provider: &str, wire: ResponseChoice, raw_finish_reason: Option<&str>) -> Choice {
    let message = wire.message;
    let content = message.content.map(MessageContent::split).unwrap_or_default();
    // Some hosts send placeholder calls (no name, no arguments): there is nothing to run.
    let mut tool_calls: Vec<ToolCall> = message
        .tool_calls
        .unwrap_or_default()
        .into_iter()
        .filter(|call| {
            call.function
                .as_ref()
                .is_some_and(|function| !function.name.is_empty() || !function.arguments.is_empty())
        })
        .enumerate()
        .map(tool_call)
        .collect();
    if let Some(function_call) = message.function_call.filter(|call| !call.name.is_empty()) {
        // The legacy single call has no place of its own in the gateway message; as a tool call it is kept.
        tool_calls.push(ToolCall::function(
            format!("call_{}", tool_calls.len()),
            function_call.name,
            function_call.arguments,
        ));
    }
    let natives = reasoning_natives(message.reasoning_details.as_deref());
    let reasoning_details = reasoning_details(provider, message.reasoning_details);
    let text_len = content.text.as_deref().map_or(0, str::len);
    let provider_content = block_order(provider, &natives, &content.blocks, text_len, &tool_calls);
    Choice {
        index: wire.index,
        message: ChatCompletionMessage {
            role: message.role.unwrap_or(Role::Assistant),
            content: content.text.map(ChatCompletionContent::Text),
            tool_calls: (!tool_calls.is_empty()).then_some(tool_calls),
            refusal: message.refusal,
            audio: message.audio,
            reasoning_content: message
                .reasoning_content
                .or(message.reasoning)
                .or(content.thinking)
                .filter(|text| !text.is_empty()),
            reasoning_details,
            annotations: message.annotations.filter(|annotations| !annotations.is_empty()),
            provider_content,
            ..Default::default()
        },
        finish_reason: finish_reason(raw_finish_reason),
        logprobs: wire.logprobs,
    }
}

fn tool_call((position, wire): (usize, ResponseToolCall)) -> ToolCall {
    let function = wire.function.unwrap_or_default();
    // A call without an id could not be answered; servers that omit it get one made up from its position.
    let id = wire.id.filter(|id| !id.is_empty()).unwrap_or_else(|| format!("call_{position}"));
    ToolCall {
        extra_content: wire.extra_content,
        ..ToolCall::function(id, function.name, function.arguments)
    }
}

/// OpenRouter's reasoning blocks in the gateway's shape, tagged with `provider` so they go back only there.
pub(crate) fn reasoning_details(
    provider: &str,
    details: Option<Vec<serde_json::Value>>,
) -> Option<Vec<ReasoningDetail>> {
    let details: Vec<ReasoningDetail> =
        details.unwrap_or_default().iter().filter_map(|detail| reasoning_detail(provider, detail)).collect();
    (!details.is_empty()).then_some(details)
}

/// The fields of each OpenRouter reasoning block that the gateway's `ReasoningDetail` has no place for
/// (`format`, `id`, `index`...), in the order of the blocks it keeps.
fn reasoning_natives(details: Option<&[serde_json::Value]>) -> Vec<Option<serde_json::Value>> {
    details
        .unwrap_or_default()
        .iter()
        .filter(|detail| reasoning_detail("", detail).is_some())
        .map(|detail| {
            let object = detail.as_object()?;
            let rest: serde_json::Map<String, serde_json::Value> = object
                .iter()
                .filter(|(name, _)| {
                    !matches!(name.as_str(), "type" | "text" | "summary" | "signature" | "data")
                })
                .map(|(name, value)| (name.clone(), value.clone()))
                .collect();
            (!rest.is_empty()).then_some(serde_json::Value::Object(rest))
        })
        .collect()
}

/// The message's blocks for `provider_content` when its reasoning blocks carry fields of their own or its
/// content has chunks of a kind no gateway field holds: every block in order (reasoning, the answer's
/// chunks, tool calls), so they go back to the host that sent them as they came.
fn block_order(
    provider: &str,
    natives: &[Option<serde_json::Value>],
    chunks: &[ChunkBlock],
    text_len: usize,
    tool_calls: &[ToolCall],
) -> Option<Vec<ProviderContent>> {
    if natives.iter().all(Option::is_none) && chunks.is_empty() {
        return None;
    }
    let id = ProviderId::proxy(provider);
    let mut blocks: Vec<ProviderContent> = natives
        .iter()
        .enumerate()
        .map(|(index, native)| ProviderContent {
            provider: id.clone(),
            kind: ProviderContentKind::Reasoning { index, native: native.clone() },
        })
        .collect();
    if !chunks.is_empty() {
        // The answer's chunks in order: text by length, the chunks of other kinds whole.
        blocks.extend(chunks.iter().map(|chunk| match chunk {
            ChunkBlock::Text(len) => ProviderContent::text(id.clone(), *len, None),
            ChunkBlock::Native(data) => ProviderContent::native(id.clone(), data.clone()),
        }));
    } else if text_len > 0 {
        blocks.push(ProviderContent::text(id.clone(), text_len, None));
    }
    blocks.extend(tool_calls.iter().map(|call| ProviderContent::tool_call(id.clone(), call.id.clone())));
    Some(blocks)
}

/// One OpenRouter reasoning block (`reasoning.text`, `reasoning.summary`, `reasoning.encrypted`).
pub(crate) fn reasoning_detail(provider: &str, detail: &serde_json::Value) -> Option<ReasoningDetail> {
    let text = |name: &str| detail.get(name).and_then(serde_json::Value::as_str).map(str::to_owned);
    let (kind, body) = match detail.get("type").and_then(serde_json::Value::as_str)? {
        "reasoning.text" => (ReasoningDetailType::Text, text("text")),
        "reasoning.summary" => (ReasoningDetailType::Summary, text("summary")),
        "reasoning.encrypted" => (ReasoningDetailType::Encrypted, None),
        _ => return None,
    };
    Some(ReasoningDetail {
        kind,
        text: body,
        signature: text("signature"),
        data: text("data"),
        provider: Some(provider.to_owned()),
    })
}

/// Usage in the gateway's shape, with cache hits wherever the server reported them.
pub(crate) fn usage(wire: WireUsage) -> Usage {
    let mut prompt_tokens_details = wire.prompt_tokens_details;
    if let Some(hits) = wire.prompt_cache_hit_tokens {
        let details = prompt_tokens_details.get_or_insert_with(PromptTokensDetails::default);
        details.cached_tokens = details.cached_tokens.or(Some(hits));
    }
    Usage {
        prompt_tokens: wire.prompt_tokens,
        completion_tokens: wire.completion_tokens,
        total_tokens: wire.total_tokens.unwrap_or(wire.prompt_tokens.saturating_add(wire.completion_tokens)),
        prompt_tokens_details,
        completion_tokens_details: wire.completion_tokens_details,
        server_tool_use: None,
    }
}

#[cfg(test)]
mod tests {
    use vllora_llm_core::types::gateway::FinishReason;

    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        let path = format!("{}/tests/fixtures/responses/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read(&path).unwrap_or_else(|error| panic!("{path}: {error}"))
    }

    /// Parses a fixture that stands for OpenAI's own wire format, recording it for schema validation.
    fn openai(name: &str) -> ChatCompletionMessageWithFinishReason {
        let body = fixture(name);
        let document: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        vllora_llm_testkit::record_conformance("openai-chat-response", &document);
        compatible(&body)
    }

    fn compatible(body: &[u8]) -> ChatCompletionMessageWithFinishReason {
        match parse_response("openai", body) {
            Ok(result) => result,
            Err(error) => panic!("{error}"),
        }
    }

    #[test]
    fn text_answer_with_cached_usage() {
        let result = openai("openai_text.openai.json");
        assert_eq!(result.id(), "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG");
        assert_eq!(result.model(), "gpt-4.1-2025-04-14");
        assert_eq!(result.message().role, Role::Assistant);
        assert_eq!(
            result.message().content,
            Some(ChatCompletionContent::Text("The capital of France is Paris.".into()))
        );
        assert_eq!(result.finish_reason(), Some(&FinishReason::Stop));
        assert_eq!(result.raw_finish_reason.as_deref(), Some("stop"));
        let usage = result.usage().copied().unwrap_or_default();
        assert_eq!((usage.prompt_tokens, usage.completion_tokens, usage.total_tokens), (1117, 46, 1163));
        assert_eq!(usage.cached_tokens(), 1024);
        assert_eq!(result.response.service_tier.as_deref(), Some("default"));
        assert_eq!(result.response.system_fingerprint.as_deref(), Some("fp_fc9f1d7035"));
    }

    #[test]
    fn tool_calls_keep_ids_names_and_arguments() {
        let result = openai("openai_tool_calls.openai.json");
        assert_eq!(result.finish_reason(), Some(&FinishReason::ToolCalls));
        assert_eq!(result.message().content, None);
        let calls = result.message().tool_calls.clone().unwrap_or_default();
        assert_eq!(
            calls,
            vec![
                ToolCall::function(
                    "call_DdmO9pD3xa9XTPNJ32zg2hcA",
                    "get_weather",
                    r#"{"location":"Paris, France"}"#
                ),
                ToolCall::function("call_ABC123xyz789", "get_time", r#"{"timezone":"Europe/Paris"}"#),
            ]
        );
    }

    #[test]
    fn refusal_and_logprobs() {
        let result = openai("openai_refusal_logprobs.openai.json");
        assert_eq!(result.message().refusal.as_deref(), Some("I'm sorry, I can't help with that."));
        let logprobs =
            result.choices().first().and_then(|choice| choice.logprobs.clone()).unwrap_or_default();
        let refusal_tokens: Vec<String> =
            logprobs.refusal.unwrap_or_default().into_iter().map(|token| token.token).collect();
        assert_eq!(refusal_tokens, vec!["I'm".to_owned()]);
    }

    #[test]
    fn llama_cpp_without_logprobs_and_with_timings() {
        let result = compatible(&fixture("llama_cpp.openai.json"));
        assert_eq!(
            result.message().content.as_ref().and_then(ChatCompletionContent::as_str),
            Some("The capital of France is Paris.")
        );
        assert_eq!(result.model(), "target/llama/gemma-3-270m-q4_k_m.gguf");
        assert_eq!(result.usage().map(|usage| usage.total_tokens), Some(23));
    }

    #[test]
    fn reasoning_content_and_deepseek_cache_hits() {
        let result = compatible(&fixture("deepseek_reasoning.openai.json"));
        assert_eq!(result.message().reasoning_content.as_deref(), Some("2 plus 2 is 4."));
        assert_eq!(result.usage().map(Usage::reasoning_tokens), Some(18));
    }

    #[test]
    fn lax_servers_are_understood() {
        let result = compatible(&fixture("compat_lax.openai.json"));
        assert_eq!(result.response.created, 1741570283);
        assert_eq!(result.message().role, Role::Assistant);
        assert_eq!(
            result.message().content.as_ref().and_then(ChatCompletionContent::as_str),
            Some("Part one, part two.")
        );
        assert_eq!(result.message().reasoning_content.as_deref(), Some("thinking..."));
        assert_eq!(result.finish_reason(), None, "an empty finish reason is no finish reason");
        assert_eq!(result.raw_finish_reason.as_deref(), Some(""), "what the host said is kept raw");
        let calls = result.message().tool_calls.clone().unwrap_or_default();
        assert_eq!(calls, vec![ToolCall::function("call_0", "lookup", r#"{"q":"rust"}"#)]);
        let usage = result.usage().copied().unwrap_or_default();
        assert_eq!((usage.total_tokens, usage.cached_tokens()), (15, 4));
    }

    #[test]
    fn legacy_function_call_becomes_a_tool_call() {
        let result = openai("legacy_function_call.openai.json");
        assert_eq!(result.finish_reason(), Some(&FinishReason::FunctionCall));
        let calls = result.message().tool_calls.clone().unwrap_or_default();
        assert_eq!(calls, vec![ToolCall::function("call_0", "get_weather", r#"{"city":"Oslo"}"#)]);
    }

    #[test]
    fn an_error_body_with_status_200_is_an_error() {
        let error = parse_response("router", &fixture("error_with_status_200.openai.json")).err();
        let api = error.as_ref().and_then(LLMError::api_error).cloned().unwrap_or_default();
        assert_eq!(api.provider, "router");
        assert_eq!(api.message, "Upstream provider returned an error");
        assert_eq!(api.code.as_deref(), Some("502"));
        let garbage = parse_response("openai", b"<html>oops</html>").err();
        assert!(matches!(garbage, Some(LLMError::Decode { .. })), "{garbage:?}");
    }

    #[test]
    fn mistral_thinking_chunks_become_reasoning_and_unknown_chunks_are_kept() {
        let result = parse_response("mistral", &fixture("mistral_thinking.openai.json"));
        let Ok(result) = result else { panic!("{:?}", result.err()) };
        assert_eq!(result.message().content, Some(ChatCompletionContent::Text("2 + 2 = **4**".into())));
        assert_eq!(result.message().reasoning_content.as_deref(), Some("The user asks for 2+2. That is 4."));
        // The reference chunk has no gateway field: it is kept in the block order, whole.
        assert_eq!(
            serde_json::to_value(&result.message().provider_content).unwrap_or_default(),
            serde_json::json!([
                {"provider": "mistral", "type": "text", "len": 13},
                {"provider": "mistral", "type": "native", "data": {"type": "reference", "reference_ids": [1, 2]}}
            ])
        );
        assert_eq!(result.provider_metadata, None);
    }

    #[test]
    fn placeholder_calls_are_not_calls() {
        let result = compatible(&fixture("placeholder_function_call.openai.json"));
        assert_eq!(result.message().tool_calls, None);
        assert_eq!(result.finish_reason(), Some(&FinishReason::Stop));
    }

    #[test]
    fn openrouter_reasoning_details_are_kept_with_their_signatures() {
        let result = parse_response("openrouter", &fixture("openrouter_reasoning.openai.json"));
        let Ok(result) = result else { panic!("{:?}", result.err()) };
        let message = result.message();
        assert_eq!(message.reasoning_content.as_deref(), Some("I need the date first."));
        assert_eq!(
            message.reasoning_details,
            Some(vec![
                ReasoningDetail {
                    kind: ReasoningDetailType::Text,
                    text: Some("I need the date first.".into()),
                    signature: Some("EqMBCkgIBxABGAIiQ".into()),
                    data: None,
                    provider: Some("openrouter".into()),
                },
                ReasoningDetail {
                    kind: ReasoningDetailType::Encrypted,
                    text: None,
                    signature: None,
                    data: Some("RXJyb3IgZGF0YQ==".into()),
                    provider: Some("openrouter".into()),
                },
            ])
        );
        assert_eq!(message.tool_calls.as_ref().map(Vec::len), Some(1));
        // OpenRouter's own fields of each block, in the message's block order, to send them back.
        let order = serde_json::to_value(&message.provider_content).unwrap_or_default();
        assert_eq!(
            order,
            serde_json::json!([
                {"provider": "openrouter", "type": "reasoning", "index": 0,
                 "native": {"format": "anthropic-claude-v1", "index": 0}},
                {"provider": "openrouter", "type": "reasoning", "index": 1,
                 "native": {"format": "anthropic-claude-v1", "index": 1}},
                {"provider": "openrouter", "type": "tool_call", "id": "toolu_01"}
            ])
        );
    }

    #[test]
    fn url_citations_are_annotations() {
        let result = openai("openai_annotations.openai.json");
        let annotations = result.message().annotations.clone().unwrap_or_default();
        assert_eq!(annotations.len(), 1);
        assert_eq!(annotations[0].kind, "url_citation");
        let citation = annotations[0].url_citation.clone().unwrap_or_default();
        assert_eq!((citation.start_index, citation.end_index), (46, 118));
        assert_eq!(citation.url, "https://blog.rust-lang.org/2025/10/30/Rust-1.91.0/");
        // The gateway message serialises back to OpenAI's JSON.
        let json = serde_json::to_value(result.message()).unwrap_or_default();
        assert_eq!(json["annotations"][0]["url_citation"]["title"], "Announcing Rust 1.91.0");
    }

    #[test]
    fn content_is_a_string_chunks_or_nothing_and_anything_else_is_a_decode_error() {
        let body = |content: &str| {
            format!(
                r#"{{"id":"c","model":"m","choices":[{{"index":0,"message":{{"role":"assistant","content":{content}}},"finish_reason":"stop"}}]}}"#
            )
        };
        let text = |content: &str| {
            parse_response("openai", body(content).as_bytes())
                .map(|result| {
                    result.message().content.as_ref().and_then(|content| content.as_str()).map(str::to_owned)
                })
                .map_err(|error| error.to_string())
        };
        assert_eq!(text(r#""Hi \"there\"""#), Ok(Some("Hi \"there\"".to_owned())));
        assert_eq!(
            text(r#"[{"type":"text","text":"Hi "},{"type":"text","text":"there"}]"#),
            Ok(Some("Hi there".to_owned()))
        );
        assert_eq!(text("null"), Ok(None));
        let Err(error) = text("42") else { panic!("a number is no content") };
        assert!(error.contains("a string or an array of content chunks"), "{error}");
        // A body that is not UTF-8 is a decode error too, naming where.
        let mut bad = body(r#""Hi""#).into_bytes();
        if let Some(byte) = bad.iter_mut().find(|byte| **byte == b'H') {
            *byte = 0xff;
        }
        let Err(error) = parse_response("openai", &bad) else { panic!("not UTF-8") };
        assert!(error.to_string().contains("line 1"), "{error}");
    }
}
