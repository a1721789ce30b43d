//! Converse response -> gateway response: every content block, the stop reason, usage with the cache.

use serde_json::{Map, Value, json};
use vllora_llm_core::types::gateway::{
    BlockOrderRecorder, ChatCompletionContent, ChatCompletionMessage, ChatCompletionMessageWithFinishReason,
    ChatCompletionResponse, Choice, FinishReason, PromptTokensDetails, ProviderContent, ReasoningDetail,
    ReasoningDetailType, Role, ToolCall, Usage,
};
use vllora_llm_core::{LLMError, LLMResult};

use crate::request::REASONING_PROVIDER;
use crate::wire::{ContentBlockOut, ConverseResponse, TokenUsage, ToolUseOut};
use crate::{PROVIDER, PROVIDER_NAME};

/// What identifies a response: Bedrock has no completion id, so the request id stands in for it.
#[derive(Debug, Clone, Default)]
pub(crate) struct ResponseContext {
    pub(crate) id: String,
    pub(crate) model: String,
    pub(crate) created: u64,
}

/// Bedrock's stop reason in OpenAI's terms.
pub(crate) fn finish_reason(stop_reason: &str) -> FinishReason {
    match stop_reason {
        "end_turn" | "stop_sequence" => FinishReason::Stop,
        "max_tokens" | "model_context_window_exceeded" => FinishReason::Length,
        "tool_use" => FinishReason::ToolCalls,
        "guardrail_intervened" | "content_filtered" => FinishReason::ContentFilter,
        other => FinishReason::Other(other.to_owned()),
    }
}

/// Bedrock usage in OpenAI's terms: `prompt_tokens` counts cache reads and writes too.
pub(crate) fn usage(usage: &TokenUsage) -> Usage {
    let cache_read = usage.cache_read_input_tokens.unwrap_or(0);
    let cache_write = usage.cache_write_input_tokens.unwrap_or(0);
    let prompt = usage.input_tokens.saturating_add(cache_read).saturating_add(cache_write);
    let mut converted = Usage::new(prompt, usage.output_tokens);
    if usage.cache_read_input_tokens.is_some() || usage.cache_write_input_tokens.is_some() {
        converted.prompt_tokens_details = Some(PromptTokensDetails {
            cached_tokens: usage.cache_read_input_tokens,
            cache_creation_tokens: usage.cache_write_input_tokens,
            ..Default::default()
        });
    }
    converted
}

/// Parses a Converse response body: the message, the finish reason (unified, and Bedrock's `stopReason`
/// raw), usage and the response's metadata.
pub(crate) fn parse_response(
    body: &[u8],
    context: &ResponseContext,
) -> LLMResult<ChatCompletionMessageWithFinishReason> {
    let wire: ConverseResponse = serde_json::from_slice(body)
        .map_err(|error| LLMError::decode(PROVIDER_NAME, format_args!("Converse response: {error}")))?;
    Ok(converse_response(wire, context))
}

/// Translates a decoded Converse response.
pub(crate) fn converse_response(
    wire: ConverseResponse,
    context: &ResponseContext,
) -> ChatCompletionMessageWithFinishReason {
    let blocks =
        wire.output.and_then(|output| output.message).map(|message| message.content).unwrap_or_default();
    let message = assistant_message(blocks);
    let raw_finish_reason = wire.stop_reason;
    let choice = Choice {
        index: 0,
        message,
        finish_reason: raw_finish_reason.as_deref().map(finish_reason),
        logprobs: None,
    };
    let response = ChatCompletionResponse {
        id: context.id.clone(),
        object: "chat.completion".to_owned(),
        created: context.created,
        model: context.model.clone(),
        choices: vec![choice],
        usage: wire.usage.as_ref().map(usage),
        system_fingerprint: None,
        service_tier: wire.service_tier.and_then(|tier| tier.kind),
    };
    let mut metadata = Map::new();
    for (key, value) in [
        ("metrics", wire.metrics),
        ("additionalModelResponseFields", wire.additional_model_response_fields),
        ("trace", wire.trace),
        ("performanceConfig", wire.performance_config),
    ] {
        if let Some(value) = value {
            metadata.insert(key.to_owned(), value);
        }
    }
    ChatCompletionMessageWithFinishReason {
        response,
        warnings: Vec::new(),
        raw_finish_reason,
        provider_metadata: (!metadata.is_empty()).then_some(Value::Object(metadata)),
        // Set by the model from the HTTP reply.
        response_metadata: None,
    }
}

/// Every block of the answer: texts joined, tool uses as calls, reasoning kept with its signature, and the
/// blocks with no OpenAI field whole in `provider_content` (with the block order, when it is needed): a
/// `citationsContent` block's text joins the message text and its citations are that text's native
/// fields; a server tool's `toolUse` (`type: server_tool_use`), a `toolResult`, an image or any block kind
/// this crate does not know is kept as Bedrock wrote it.
fn assistant_message(blocks: Vec<ContentBlockOut>) -> ChatCompletionMessage {
    let mut text: Option<String> = None;
    let mut reasoning_text: Option<String> = None;
    let mut details = Vec::new();
    let mut tool_calls = Vec::new();
    let mut order = BlockOrderRecorder::new();
    for block in blocks {
        if let Some(piece) = block.text {
            order.push(ProviderContent::text(PROVIDER, piece.len(), None));
            text.get_or_insert_with(String::new).push_str(&piece);
        }
        if let Some(tool_use) = block.tool_use {
            if tool_use.kind.as_deref() == Some(SERVER_TOOL_USE) {
                order.push(ProviderContent::native(PROVIDER, server_tool_use_block(tool_use)));
            } else {
                let arguments = match &tool_use.input {
                    Value::Null => "{}".to_owned(),
                    input => input.to_string(),
                };
                order.push(ProviderContent::tool_call(PROVIDER, tool_use.tool_use_id.clone()));
                tool_calls.push(ToolCall::function(tool_use.tool_use_id, tool_use.name, arguments));
            }
        }
        if let Some(reasoning) = block.reasoning_content {
            if let Some(reasoning) = reasoning.reasoning_text {
                order.push(ProviderContent::reasoning(PROVIDER, details.len()));
                reasoning_text.get_or_insert_with(String::new).push_str(&reasoning.text);
                details.push(ReasoningDetail {
                    kind: ReasoningDetailType::Text,
                    text: Some(reasoning.text),
                    signature: reasoning.signature,
                    data: None,
                    provider: Some(REASONING_PROVIDER.to_owned()),
                });
            }
            if let Some(redacted) = reasoning.redacted_content {
                order.push(ProviderContent::reasoning(PROVIDER, details.len()));
                details.push(ReasoningDetail {
                    kind: ReasoningDetailType::Encrypted,
                    text: None,
                    signature: None,
                    data: Some(redacted),
                    provider: Some(REASONING_PROVIDER.to_owned()),
                });
            }
        }
        for (key, value) in block.other {
            match (key.as_str(), value) {
                (CITATIONS_CONTENT, Value::Object(mut cited))
                    if !citations_text(cited.get("content")).is_empty() =>
                {
                    let piece = citations_text(cited.get("content"));
                    let citations = cited.remove("citations").unwrap_or(Value::Array(Vec::new()));
                    order.push(ProviderContent::text(
                        PROVIDER,
                        piece.len(),
                        Some(citations_native(citations)),
                    ));
                    text.get_or_insert_with(String::new).push_str(&piece);
                }
                (_, Value::Null) => {}
                (_, value) => {
                    let mut whole = Map::new();
                    whole.insert(key, value);
                    order.push(ProviderContent::native(PROVIDER, Value::Object(whole)));
                }
            }
        }
    }
    ChatCompletionMessage {
        role: Role::Assistant,
        content: text.map(ChatCompletionContent::Text),
        tool_calls: (!tool_calls.is_empty()).then_some(tool_calls),
        reasoning_content: reasoning_text,
        reasoning_details: (!details.is_empty()).then_some(details),
        provider_content: order.into_entries(),
        ..Default::default()
    }
}

/// The `toolUse.type` of a tool Bedrock runs itself.
pub(crate) const SERVER_TOOL_USE: &str = "server_tool_use";

/// The block that holds cited text.
pub(crate) const CITATIONS_CONTENT: &str = "citationsContent";

/// A server tool's call, whole, as Bedrock wrote it.
pub(crate) fn server_tool_use_block(tool_use: ToolUseOut) -> Value {
    json!({"toolUse": {
        "toolUseId": tool_use.tool_use_id,
        "name": tool_use.name,
        "input": tool_use.input,
        "type": tool_use.kind,
    }})
}

/// The text of a `citationsContent` block (its `content` items' text, joined).
fn citations_text(content: Option<&Value>) -> String {
    content
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|item| item.get("text").and_then(Value::as_str))
        .collect()
}

/// Citations as the native fields of their text's `provider_content` entry.
pub(crate) fn citations_native(citations: Value) -> Value {
    json!({ "citations": citations })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse_fixture(name: &str) -> ChatCompletionMessageWithFinishReason {
        let path = format!("{}/tests/fixtures/responses/{name}.bedrock.json", env!("CARGO_MANIFEST_DIR"));
        let body = std::fs::read(&path).unwrap_or_else(|error| panic!("{path}: {error}"));
        let context =
            ResponseContext { id: "req-1".into(), model: "anthropic.claude-sonnet-4".into(), created: 7 };
        let parsed = parse_response(&body, &context);
        let Ok(parsed) = parsed else { panic!("{name}: {parsed:?}") };
        parsed
    }

    #[test]
    fn every_block_of_a_tool_use_answer_is_kept() {
        let result = parse_fixture("tool_use_with_reasoning");
        let message = serde_json::to_value(result.message()).unwrap_or_default();
        assert_eq!(
            message,
            json!({
                "role": "assistant",
                "content": "I'll check both cities for you.",
                "tool_calls": [
                    {"id": "tooluse_kZJMlvQmRJ6eAyJE5GIl7Q", "type": "function",
                     "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}},
                    {"id": "tooluse_2nd8Qw7bTFq1xWbWrnL0aA", "type": "function",
                     "function": {"name": "get_weather", "arguments": "{\"city\":\"Lyon\",\"units\":\"metric\"}"}}
                ],
                "reasoning_content": "The user wants the weather in two cities.",
                "reasoning_details": [
                    {"type": "reasoning.text", "text": "The user wants the weather in two cities.",
                     "signature": "EqoBCkgIARABGAIiQBv1xX7uY7xZ1sig==", "provider": "bedrock"},
                    {"type": "reasoning.encrypted", "data": "RXJ5dGhpbmcgaXMgZW5jcnlwdGVk", "provider": "bedrock"}
                ],
                // The empty citations block Bedrock added is kept as it came, in its place.
                "provider_content": [
                    {"provider": "aws.bedrock", "type": "reasoning", "index": 0},
                    {"provider": "aws.bedrock", "type": "reasoning", "index": 1},
                    {"provider": "aws.bedrock", "type": "text", "len": 22},
                    {"provider": "aws.bedrock", "type": "text", "len": 9},
                    {"provider": "aws.bedrock", "type": "tool_call", "id": "tooluse_kZJMlvQmRJ6eAyJE5GIl7Q"},
                    {"provider": "aws.bedrock", "type": "tool_call", "id": "tooluse_2nd8Qw7bTFq1xWbWrnL0aA"},
                    {"provider": "aws.bedrock", "type": "native", "data": {"citationsContent": {"citations": []}}}
                ]
            })
        );
        assert_eq!(result.finish_reason(), Some(&FinishReason::ToolCalls));
        assert_eq!(result.raw_finish_reason.as_deref(), Some("tool_use"));
        let usage = result.usage().copied().unwrap_or_default();
        assert_eq!((usage.prompt_tokens, usage.completion_tokens, usage.total_tokens), (2112, 148, 2260));
        assert_eq!((usage.cached_tokens(), usage.cache_creation_tokens()), (1600, 0));
        assert_eq!(
            (result.id(), result.model(), result.response.created),
            ("req-1", "anthropic.claude-sonnet-4", 7)
        );
        assert_eq!(result.response.service_tier.as_deref(), Some("default"));
        assert_eq!(result.provider_metadata, Some(json!({"metrics": {"latencyMs": 1893}})));
    }

    #[test]
    fn a_guardrail_intervention_is_a_content_filter_result_with_its_trace() {
        let result = parse_fixture("guardrail");
        assert_eq!(result.finish_reason(), Some(&FinishReason::ContentFilter));
        assert_eq!(
            result.message().content.as_ref().and_then(|content| content.as_string()).as_deref(),
            Some("Sorry, the model cannot answer this question.")
        );
        let trace =
            result.provider_metadata.as_ref().map(|metadata| metadata["trace"]["guardrail"].is_object());
        assert_eq!(trace, Some(true));
    }

    #[test]
    fn a_body_that_is_not_a_converse_response_is_a_decode_error() {
        let context = ResponseContext::default();
        let error = parse_response(b"<html>", &context).err();
        assert!(matches!(error, Some(LLMError::Decode { .. })), "{error:?}");
        let empty = parse_response(b"{}", &context).map(|result| result.message().content.is_none());
        assert_eq!(empty.ok(), Some(true), "lenient: missing fields are not fatal");
    }

    #[test]
    fn stop_reasons_map_to_openai_finish_reasons() {
        let cases = [
            ("end_turn", FinishReason::Stop),
            ("stop_sequence", FinishReason::Stop),
            ("max_tokens", FinishReason::Length),
            ("tool_use", FinishReason::ToolCalls),
            ("guardrail_intervened", FinishReason::ContentFilter),
            ("content_filtered", FinishReason::ContentFilter),
            ("malformed_tool_use", FinishReason::Other("malformed_tool_use".into())),
        ];
        for (raw, expected) in cases {
            assert_eq!(finish_reason(raw), expected, "{raw}");
        }
    }

    #[test]
    fn usage_counts_cache_reads_and_writes_as_prompt_tokens() {
        let wire = TokenUsage {
            input_tokens: 4,
            output_tokens: 7,
            total_tokens: 1563,
            cache_read_input_tokens: Some(10),
            cache_write_input_tokens: Some(1552),
        };
        let converted = usage(&wire);
        assert_eq!(
            (converted.prompt_tokens, converted.completion_tokens, converted.total_tokens),
            (1566, 7, 1573)
        );
        assert_eq!((converted.cached_tokens(), converted.cache_creation_tokens()), (10, 1552));
        let plain =
            usage(&TokenUsage { input_tokens: 3, output_tokens: 2, total_tokens: 5, ..Default::default() });
        assert_eq!(plain.prompt_tokens_details, None);
        assert_eq!(plain.total_tokens, 5);
    }
}
