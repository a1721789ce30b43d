//! Chat Completions response -> gateway response: finish reasons, usage, tool calls and the reasoning
//! fields compatible servers add.

use vllora_llm_core::types::gateway::{
    ChatCompletionContent, ChatCompletionMessage, ChatCompletionMessageWithFinishReason,
    ChatCompletionResponse, Choice, FinishReason, PromptTokensDetails, Role, ToolCall, Usage,
};
use vllora_llm_core::{LLMError, LLMResult};

use crate::error;
use crate::wire::{ChatResponse, ResponseChoice, ResponseToolCall, WireUsage};

/// Decodes a 2xx response body.
pub(crate) fn parse_response(
    provider: &str,
    body: &[u8],
) -> LLMResult<ChatCompletionMessageWithFinishReason> {
    let wire: ChatResponse =
        serde_json::from_slice(body).map_err(|error| LLMError::decode(provider, error))?;
    if let (Some(error_value), true) = (&wire.error, wire.choices.is_empty()) {
        return Err(error::api_error_from_value(provider, None, error_value).with_body(body).into());
    }
    let raw_finish_reason =
        wire.choices.first().and_then(|choice| choice.finish_reason.clone()).filter(|raw| !raw.is_empty());
    let response = ChatCompletionResponse {
        id: wire.id,
        object: "chat.completion".to_owned(),
        created: wire.created,
        model: wire.model,
        choices: wire.choices.into_iter().map(choice).collect(),
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

fn choice(wire: ResponseChoice) -> Choice {
    let message = wire.message;
    let mut tool_calls: Vec<ToolCall> =
        message.tool_calls.unwrap_or_default().into_iter().enumerate().map(tool_call).collect();
    if let Some(function_call) = message.function_call {
        // The legacy single call has no place of its own in the gateway message; as a tool call it is kept.
        tool_calls.push(ToolCall::function(
            format!("call_{}", tool_calls.len()),
            function_call.name,
            function_call.arguments,
        ));
    }
    Choice {
        index: wire.index,
        message: ChatCompletionMessage {
            role: message.role.map_or(Role::Assistant, Role::from),
            content: message.content.map(ChatCompletionContent::Text),
            tool_calls: (!tool_calls.is_empty()).then_some(tool_calls),
            refusal: message.refusal,
            audio: message.audio,
            reasoning_content: message
                .reasoning_content
                .or(message.reasoning)
                .filter(|text| !text.is_empty()),
            ..Default::default()
        },
        finish_reason: finish_reason(wire.finish_reason.as_deref()),
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
    }
}
