//! Anthropic `message` -> gateway response: text, tool calls, thinking, finish reason and usage.

use serde_json::json;
use vllora_llm_core::types::gateway::{
    ChatCompletionContent, ChatCompletionMessage, ChatCompletionMessageWithFinishReason, BlockOrderRecorder,
    ChatCompletionResponse, Choice, CompletionTokensDetails, FinishReason, PromptTokensDetails,
    ProviderContent, ReasoningDetail, ReasoningDetailType, Role, ServerToolUsage, ToolCall, Usage,
};
use vllora_llm_core::{LLMError, LLMResult, Warning};

use crate::{PROVIDER, PROVIDER_NAME};
use crate::wire::{ContentBlock, MessageResponse, WireUsage};

/// Decodes a one-shot response body.
pub(crate) fn parse_response(
    body: &[u8],
    warnings: Vec<Warning>,
) -> LLMResult<ChatCompletionMessageWithFinishReason> {
    let message: MessageResponse =
        serde_json::from_slice(body).map_err(|error| LLMError::decode(PROVIDER_NAME, error))?;
    Ok(into_gateway(message, warnings))
}

/// Maps a `message` to the gateway result.
pub(crate) fn into_gateway(
    message: MessageResponse,
    warnings: Vec<Warning>,
) -> ChatCompletionMessageWithFinishReason {
    let mut text = String::new();
    let mut reasoning = String::new();
    let mut details = Vec::new();
    let mut tool_calls = Vec::new();
    let mut order = BlockOrderRecorder::new();
    let mut code_executions = 0u32;
    for block in message.content {
        match block {
            ContentBlock::Text { text: piece, citations } => {
                order.push(ProviderContent::text(PROVIDER, piece.len(), citations_native(citations)));
                text.push_str(&piece);
            }
            ContentBlock::ToolUse { id, name, input } => {
                order.push(ProviderContent::tool_call(PROVIDER, id.clone()));
                let arguments = match input {
                    serde_json::Value::Null => "{}".to_owned(),
                    input => input.to_string(),
                };
                tool_calls.push(ToolCall::function(id, name, arguments));
            }
            ContentBlock::Thinking { thinking, signature } => {
                order.push(ProviderContent::reasoning(PROVIDER, details.len()));
                reasoning.push_str(&thinking);
                details.push(thinking_detail(thinking, signature));
            }
            ContentBlock::RedactedThinking { data } => {
                order.push(ProviderContent::reasoning(PROVIDER, details.len()));
                details.push(redacted_detail(data));
            }
            ContentBlock::Native(block) => {
                if is_code_execution_result(&block) {
                    code_executions = code_executions.saturating_add(1);
                }
                order.push(ProviderContent::native(PROVIDER, block));
            }
        }
    }
    let finish_reason = message.stop_reason.as_deref().map(map_stop_reason);
    let assistant = ChatCompletionMessage {
        role: Role::Assistant,
        content: (!text.is_empty() || tool_calls.is_empty()).then_some(ChatCompletionContent::Text(text)),
        tool_calls: (!tool_calls.is_empty()).then_some(tool_calls),
        reasoning_content: (!reasoning.is_empty()).then_some(reasoning),
        reasoning_details: (!details.is_empty()).then_some(details),
        provider_content: order.into_entries(),
        ..Default::default()
    };
    let response = ChatCompletionResponse {
        id: message.id,
        object: "chat.completion".to_owned(),
        created: 0,
        model: message.model,
        choices: vec![Choice { index: 0, message: assistant, finish_reason, logprobs: None }],
        usage: Some(map_usage(&message.usage, code_executions)),
        ..Default::default()
    };
    let mut metadata = serde_json::Map::new();
    if let Some(stop) = message.stop_sequence {
        metadata.insert("stop_sequence".to_owned(), serde_json::Value::String(stop));
    }
    if let Some(container) = message.container.filter(|container| !container.is_null()) {
        metadata.insert("container".to_owned(), container);
    }
    let provider_metadata = (!metadata.is_empty()).then_some(serde_json::Value::Object(metadata));
    ChatCompletionMessageWithFinishReason {
        response,
        warnings,
        raw_finish_reason: message.stop_reason,
        provider_metadata,
        // Set by the model from the HTTP reply.
        response_metadata: None,
    }
}

/// A text block's citations as the native fields of its `provider_content` entry.
pub(crate) fn citations_native(citations: Option<serde_json::Value>) -> Option<serde_json::Value> {
    citations.map(|citations| json!({"citations": citations}))
}

/// Whether a native block is the result of a code execution (`code_execution_tool_result`,
/// `bash_code_execution_tool_result`, `text_editor_code_execution_tool_result`).
pub(crate) fn is_code_execution_result(block: &serde_json::Value) -> bool {
    block
        .get("type")
        .and_then(serde_json::Value::as_str)
        .is_some_and(|kind| kind.ends_with("code_execution_tool_result"))
}

/// A thinking block, kept whole so it can be sent back in a later turn.
pub(crate) fn thinking_detail(text: String, signature: Option<String>) -> ReasoningDetail {
    ReasoningDetail {
        kind: ReasoningDetailType::Text,
        text: Some(text),
        signature,
        data: None,
        provider: Some(PROVIDER_NAME.to_owned()),
    }
}

/// A redacted thinking block: opaque, sent back as it came.
pub(crate) fn redacted_detail(data: String) -> ReasoningDetail {
    ReasoningDetail {
        kind: ReasoningDetailType::Encrypted,
        text: None,
        signature: None,
        data: Some(data),
        provider: Some(PROVIDER_NAME.to_owned()),
    }
}

/// Anthropic's stop reason in OpenAI's terms; reasons with no equivalent are kept as written.
pub(crate) fn map_stop_reason(reason: &str) -> FinishReason {
    match reason {
        "end_turn" | "stop_sequence" => FinishReason::Stop,
        "max_tokens" => FinishReason::Length,
        "tool_use" => FinishReason::ToolCalls,
        "refusal" => FinishReason::ContentFilter,
        other => FinishReason::Other(other.to_owned()),
    }
}

/// Usage in OpenAI's terms: prompt tokens count cache reads and writes too, each also reported apart; the
/// server tools Anthropic ran (web searches, page fetches, and the `code_executions` results the answer
/// holds) in `server_tool_use`.
pub(crate) fn map_usage(usage: &WireUsage, code_executions: u32) -> Usage {
    let cache_read = usage.cache_read_input_tokens;
    let cache_creation = usage.cache_creation_input_tokens;
    let prompt = usage
        .input_tokens
        .unwrap_or(0)
        .saturating_add(cache_read.unwrap_or(0))
        .saturating_add(cache_creation.unwrap_or(0));
    let mut mapped = Usage::new(prompt, usage.output_tokens.unwrap_or(0));
    if let Some(thinking) = usage.output_tokens_details.and_then(|details| details.thinking_tokens) {
        mapped.completion_tokens_details =
            Some(CompletionTokensDetails { reasoning_tokens: Some(thinking), ..Default::default() });
    }
    let server = usage.server_tool_use.unwrap_or_default();
    if server.web_search_requests.is_some() || server.web_fetch_requests.is_some() || code_executions > 0 {
        mapped.server_tool_use = Some(ServerToolUsage {
            web_search_requests: server.web_search_requests,
            web_fetch_requests: server.web_fetch_requests,
            code_execution_requests: (code_executions > 0).then_some(code_executions),
            tool_use_prompt_tokens: None,
        });
    }
    if cache_read.is_some() || cache_creation.is_some() {
        mapped.prompt_tokens_details = Some(PromptTokensDetails {
            cached_tokens: cache_read,
            cache_creation_tokens: cache_creation,
            ..Default::default()
        });
    }
    mapped
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        let path = format!("{}/tests/fixtures/responses/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read(&path).unwrap_or_else(|error| panic!("{path}: {error}"))
    }

    fn parse(name: &str) -> ChatCompletionMessageWithFinishReason {
        let body = fixture(name);
        let Ok(document) = serde_json::from_slice::<serde_json::Value>(&body) else {
            panic!("{name} is JSON")
        };
        vllora_llm_testkit::record_conformance("anthropic-message", &document);
        match parse_response(&body, Vec::new()) {
            Ok(result) => result,
            Err(error) => panic!("{name}: {error}"),
        }
    }

    /// `tests/fixtures/responses/<case>.anthropic.json` -> `<case>.expected.json`: what the caller gets.
    #[test]
    fn golden_responses() {
        let directory = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/responses");
        vllora_llm_testkit::golden(directory, "anthropic.json", "expected.json", |case, body| {
            let result =
                parse_response(body, Vec::new()).unwrap_or_else(|error| panic!("{}: {error}", case.name));
            json!({
                "response": serde_json::to_value(&result.response).unwrap_or_default(),
                "raw_finish_reason": result.raw_finish_reason,
                "provider_metadata": result.provider_metadata,
            })
        });
    }

    #[test]
    fn text_answer_with_cache_usage() {
        let result = parse("text_with_cache.anthropic.json");
        assert_eq!(result.id(), "msg_01XFDUDYJgAACzvnptvVoYEL");
        assert_eq!(result.model(), "claude-sonnet-4-5-20250929");
        assert_eq!(
            result.message().content.as_ref().and_then(|c| c.as_str()),
            Some("Paris is the capital of France.")
        );
        assert_eq!(result.finish_reason(), Some(&FinishReason::Stop));
        assert_eq!(result.raw_finish_reason.as_deref(), Some("end_turn"));
        let Some(usage) = result.usage() else { panic!("usage") };
        assert_eq!((usage.prompt_tokens, usage.completion_tokens, usage.total_tokens), (2110, 12, 2122));
        assert_eq!(usage.cached_tokens(), 2048);
        assert_eq!(usage.cache_creation_tokens(), 40);
    }

    #[test]
    fn tool_use_becomes_tool_calls_and_text_is_kept() {
        let result = parse("tool_use.anthropic.json");
        let message = result.message();
        assert_eq!(
            message.content.as_ref().and_then(|c| c.as_str()),
            Some("I'll check the weather in both cities.")
        );
        let calls = message.tool_calls.clone().unwrap_or_default();
        assert_eq!(calls.len(), 2);
        assert_eq!(calls[0].id, "toolu_01A09q90qw90lq917835lq9");
        assert_eq!(calls[0].function.name, "get_weather");
        assert_eq!(calls[0].function.arguments, r#"{"location":"Paris","unit":"celsius"}"#);
        assert_eq!(calls[1].function.arguments, r#"{"location":"Tokyo"}"#);
        assert_eq!(result.finish_reason(), Some(&FinishReason::ToolCalls));
    }

    #[test]
    fn thinking_and_redacted_thinking_are_kept_for_the_next_turn() {
        let result = parse("thinking.anthropic.json");
        let message = result.message();
        assert_eq!(
            message.reasoning_content.as_deref(),
            Some("The user asks for 27 * 453. 27 * 453 = 12231.")
        );
        let details = message.reasoning_details.clone().unwrap_or_default();
        assert_eq!(details.len(), 2);
        assert_eq!(details[0].kind, ReasoningDetailType::Text);
        assert_eq!(
            details[0].signature.as_deref(),
            Some("EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds")
        );
        assert_eq!(details[0].provider.as_deref(), Some("anthropic"));
        assert_eq!(details[1].kind, ReasoningDetailType::Encrypted);
        assert_eq!(
            details[1].data.as_deref(),
            Some("EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpP")
        );
        assert_eq!(message.content.as_ref().and_then(|c| c.as_str()), Some("27 * 453 = 12,231."));
        let Some(usage) = result.usage() else { panic!("usage") };
        assert_eq!((usage.completion_tokens, usage.reasoning_tokens()), (210, 161));
    }

    #[test]
    fn stop_reasons() {
        let result = parse("max_tokens.anthropic.json");
        assert_eq!(result.finish_reason(), Some(&FinishReason::Length));
        assert_eq!(
            result.message().content.as_ref().and_then(|c| c.as_str()),
            Some("Once upon a time, in a land far")
        );
        let result = parse("refusal.anthropic.json");
        assert_eq!(result.finish_reason(), Some(&FinishReason::ContentFilter));
        assert_eq!(map_stop_reason("stop_sequence"), FinishReason::Stop);
        assert_eq!(map_stop_reason("pause_turn"), FinishReason::Other("pause_turn".into()));
        assert_eq!(
            map_stop_reason("model_context_window_exceeded"),
            FinishReason::Other("model_context_window_exceeded".into())
        );
    }

    #[test]
    fn unknown_blocks_and_fields_are_tolerated_and_garbage_is_a_decode_error() {
        let body = br#"{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[
            {"type":"server_tool_use","id":"srvtoolu_1","name":"web_search","input":{"query":"x"}},
            {"type":"text","text":"ok","citations":[]}],"stop_reason":"end_turn","usage":{"input_tokens":1,"output_tokens":1,"server_tool_use":{"web_search_requests":1}},"new_field":1}"#;
        let Ok(result) = parse_response(body, Vec::new()) else { panic!("lenient") };
        assert_eq!(result.message().content.as_ref().and_then(|c| c.as_str()), Some("ok"));
        assert_eq!(result.usage().map(|usage| usage.prompt_tokens_details), Some(None));
        let error = parse_response(b"<html>", Vec::new()).err().map(|error| error.to_string());
        assert!(error.is_some_and(|error| error.starts_with("could not decode the anthropic response")));
    }
}
