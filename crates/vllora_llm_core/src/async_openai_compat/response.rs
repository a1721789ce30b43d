//! [`ChatCompletionResponse`] and [`ChatCompletionChunk`] -> async-openai's response and stream response.

use ::async_openai::types::chat as upstream;
use serde_json::Value;

use super::Losses;
use crate::types::gateway::{
    Annotation, UrlCitation, ChatCompletionChunk, ChatCompletionContent, ChatCompletionDelta,
    ChatCompletionMessage, ChatCompletionMessageWithFinishReason, ChatCompletionResponse, Choice,
    ChoiceLogprobs, ChunkChoice, ContentPart, FinishReason, FunctionCallDelta, Role, TokenLogprob, ToolCall,
    ToolCallDelta, TopLogprob, Usage,
};
use crate::warning::Warning;

impl From<ChatCompletionResponse> for upstream::CreateChatCompletionResponse {
    /// Converts every field async-openai has; what it has no field for is dropped with a `tracing` warn
    /// event (see the [module documentation](super)). [`response_to_async_openai`] also returns them.
    fn from(response: ChatCompletionResponse) -> Self {
        response_to_async_openai(response).0
    }
}

impl From<ChatCompletionMessageWithFinishReason> for upstream::CreateChatCompletionResponse {
    /// The response of a one-shot call (`client.completions().create(..)`), as async-openai's type.
    fn from(result: ChatCompletionMessageWithFinishReason) -> Self {
        response_to_async_openai(result.response).0
    }
}

impl From<ChatCompletionChunk> for upstream::CreateChatCompletionStreamResponse {
    /// Converts every field async-openai has; what it has no field for is dropped with a `tracing` warn
    /// event (see the [module documentation](super)). [`chunk_to_async_openai`] also returns them.
    fn from(chunk: ChatCompletionChunk) -> Self {
        chunk_to_async_openai(chunk).0
    }
}

/// Converts a response into async-openai's, returning what could not be carried over as warnings (each
/// also emitted as a `tracing` warn event).
#[allow(deprecated, reason = "async-openai marks system_fingerprint deprecated; OpenAI still sends it")]
pub fn response_to_async_openai(
    response: ChatCompletionResponse,
) -> (upstream::CreateChatCompletionResponse, Vec<Warning>) {
    let mut losses = Losses::default();
    let ChatCompletionResponse {
        id,
        object,
        created,
        model,
        choices,
        usage,
        system_fingerprint,
        service_tier,
    } = response;
    let choices = choices
        .into_iter()
        .enumerate()
        .map(|(position, choice)| {
            let Choice { index, message, finish_reason, logprobs } = choice;
            let path = format!("choices[{position}]");
            upstream::ChatChoice {
                index,
                message: message_to(message, &format!("{path}.message"), &mut losses),
                finish_reason: finish_reason.and_then(|reason| finish_reason_to(&reason, &path, &mut losses)),
                logprobs: logprobs.map(logprobs_to),
            }
        })
        .collect();
    let converted = upstream::CreateChatCompletionResponse {
        id,
        choices,
        created: created_to(created, &mut losses),
        model,
        service_tier: service_tier.and_then(|tier| service_tier_to(&tier, &mut losses)),
        system_fingerprint,
        object,
        usage: usage.map(|usage| usage_to(usage, &mut losses)),
        metadata: None,
        moderation: None,
    };
    (converted, losses.warnings)
}

/// Converts a stream chunk into async-openai's, returning what could not be carried over as warnings
/// (each also emitted as a `tracing` warn event). `raw_finish_reason`, which is not part of the chunk's
/// JSON, is not carried over.
#[allow(deprecated, reason = "async-openai marks system_fingerprint and function_call deprecated")]
pub fn chunk_to_async_openai(
    chunk: ChatCompletionChunk,
) -> (upstream::CreateChatCompletionStreamResponse, Vec<Warning>) {
    let mut losses = Losses::default();
    let ChatCompletionChunk { id, object, created, model, choices, usage, system_fingerprint, service_tier } =
        chunk;
    let choices = choices
        .into_iter()
        .enumerate()
        .map(|(position, choice)| {
            let ChunkChoice { index, delta, finish_reason, logprobs, raw_finish_reason: _ } = choice;
            let path = format!("choices[{position}]");
            upstream::ChatChoiceStream {
                index,
                delta: delta_to(delta, &format!("{path}.delta"), &mut losses),
                finish_reason: finish_reason.and_then(|reason| finish_reason_to(&reason, &path, &mut losses)),
                logprobs: logprobs.map(logprobs_to),
            }
        })
        .collect();
    let converted = upstream::CreateChatCompletionStreamResponse {
        id: id.as_str().to_owned(),
        choices,
        created: created_to(created, &mut losses),
        model: model.as_str().to_owned(),
        service_tier: service_tier.and_then(|tier| service_tier_to(tier.as_str(), &mut losses)),
        system_fingerprint: system_fingerprint.map(|fingerprint| fingerprint.as_str().to_owned()),
        object: object.into_owned(),
        usage: usage.map(|usage| usage_to(usage, &mut losses)),
        obfuscation: None,
        moderation: None,
    };
    (converted, losses.warnings)
}

fn created_to(created: u64, losses: &mut Losses) -> u32 {
    u32::try_from(created).unwrap_or_else(|_| {
        losses.adjusted("created", "later than async-openai's u32 can hold; set to its largest value");
        u32::MAX
    })
}

fn service_tier_to(tier: &str, losses: &mut Losses) -> Option<upstream::ServiceTier> {
    let known = serde_json::from_value(Value::String(tier.to_owned())).ok();
    if known.is_none() {
        losses.omitted("service_tier", format!("async-openai does not know the service tier `{tier}`"));
    }
    known
}

fn finish_reason_to(
    reason: &FinishReason,
    path: &str,
    losses: &mut Losses,
) -> Option<upstream::FinishReason> {
    match reason {
        FinishReason::Stop => Some(upstream::FinishReason::Stop),
        FinishReason::Length => Some(upstream::FinishReason::Length),
        FinishReason::ToolCalls => Some(upstream::FinishReason::ToolCalls),
        FinishReason::ContentFilter => Some(upstream::FinishReason::ContentFilter),
        FinishReason::FunctionCall => Some(upstream::FinishReason::FunctionCall),
        FinishReason::Other(other) => {
            losses.omitted(
                format!("{path}.finish_reason"),
                format!("async-openai's FinishReason has no `{other}`"),
            );
            None
        }
    }
}

fn role_to(role: &Role, path: &str, losses: &mut Losses) -> upstream::Role {
    match role {
        Role::System => upstream::Role::System,
        Role::Developer => upstream::Role::Developer,
        Role::User => upstream::Role::User,
        Role::Assistant => upstream::Role::Assistant,
        Role::Tool => upstream::Role::Tool,
        Role::Function => upstream::Role::Function,
        Role::Other(other) => {
            losses.adjusted(
                format!("{path}.role"),
                format!("async-openai has no role `{other}`; set to assistant"),
            );
            upstream::Role::Assistant
        }
    }
}

#[allow(deprecated, reason = "async-openai marks the message's function_call deprecated")]
fn message_to(
    message: ChatCompletionMessage,
    path: &str,
    losses: &mut Losses,
) -> upstream::ChatCompletionResponseMessage {
    let ChatCompletionMessage {
        role,
        content,
        name,
        tool_calls,
        tool_call_id,
        refusal,
        audio,
        reasoning_content,
        reasoning_details,
        cache_control,
        provider_content,
        annotations,
    } = message;
    let absent = "async-openai's response message has no field for it";
    for (present, field) in [
        (name.is_some(), "name"),
        (tool_call_id.is_some(), "tool_call_id"),
        (reasoning_content.is_some(), "reasoning_content"),
        (reasoning_details.is_some(), "reasoning_details"),
        (cache_control.is_some(), "cache_control"),
        (provider_content.is_some(), "provider_content"),
    ] {
        if present {
            losses.omitted(format!("{path}.{field}"), absent);
        }
    }
    let mut refusal = refusal;
    let content = content.map(|content| match content {
        ChatCompletionContent::Text(text) => text,
        ChatCompletionContent::Parts(parts) => text_of_parts(parts, &mut refusal, path, losses),
    });
    let audio = audio.map(|audio| {
        if audio.data.is_none() || audio.expires_at.is_none() || audio.transcript.is_none() {
            losses.adjusted(
                format!("{path}.audio"),
                "async-openai requires data, expires_at and transcript; the missing ones are empty",
            );
        }
        upstream::ChatCompletionResponseMessageAudio {
            id: audio.id,
            expires_at: audio.expires_at.unwrap_or_default(),
            data: audio.data.unwrap_or_default(),
            transcript: audio.transcript.unwrap_or_default(),
        }
    });
    upstream::ChatCompletionResponseMessage {
        content,
        refusal,
        tool_calls: tool_calls.map(|calls| {
            calls
                .into_iter()
                .enumerate()
                .filter_map(|(index, call)| {
                    tool_call_to(call, &format!("{path}.tool_calls[{index}]"), losses)
                })
                .collect()
        }),
        annotations: annotations.map(|annotations| {
            annotations
                .into_iter()
                .enumerate()
                .filter_map(|(index, annotation)| {
                    annotation_to(annotation, &format!("{path}.annotations[{index}]"), losses)
                })
                .collect()
        }),
        role: role_to(&role, path, losses),
        function_call: None,
        audio,
    }
}

/// async-openai's response message content is a string: text parts are joined, refusal parts become the
/// refusal when there is none, anything else is dropped with a warning.
fn text_of_parts(
    parts: Vec<ContentPart>,
    refusal: &mut Option<String>,
    path: &str,
    losses: &mut Losses,
) -> String {
    let mut text = String::new();
    for (index, part) in parts.into_iter().enumerate() {
        match part {
            ContentPart::Text { text: part_text, cache_control } => {
                text.push_str(&part_text);
                if cache_control.is_some() {
                    losses.omitted(
                        format!("{path}.content[{index}].cache_control"),
                        "async-openai has no field for it",
                    );
                }
            }
            ContentPart::Refusal { refusal: part_refusal } if refusal.is_none() => {
                *refusal = Some(part_refusal)
            }
            _ => losses.omitted(
                format!("{path}.content[{index}]"),
                "async-openai's response message content is text only",
            ),
        }
    }
    text
}

fn annotation_to(
    annotation: Annotation,
    path: &str,
    losses: &mut Losses,
) -> Option<upstream::ChatCompletionResponseMessageAnnotation> {
    match annotation {
        Annotation { kind, url_citation: Some(citation), other }
            if kind == "url_citation" && other.is_empty() =>
        {
            let UrlCitation { start_index, end_index, url, title } = citation;
            Some(upstream::ChatCompletionResponseMessageAnnotation::UrlCitation {
                url_citation: upstream::UrlCitation { end_index, start_index, title, url },
            })
        }
        Annotation { kind, .. } => {
            losses.omitted(
                path.to_owned(),
                format!("async-openai has url_citation annotations only, not this `{kind}`"),
            );
            None
        }
    }
}

fn tool_call_to(
    call: ToolCall,
    path: &str,
    losses: &mut Losses,
) -> Option<upstream::ChatCompletionMessageToolCalls> {
    let ToolCall { id, kind, function, extra_content } = call;
    if extra_content.is_some() {
        losses.omitted(format!("{path}.extra_content"), "async-openai's tool call has no field for it");
    }
    if kind != "function" {
        losses.omitted(path.to_owned(), format!("async-openai has no tool call of type `{kind}`"));
        return None;
    }
    Some(upstream::ChatCompletionMessageToolCalls::Function(upstream::ChatCompletionMessageToolCall {
        id,
        function: upstream::FunctionCall { name: function.name, arguments: function.arguments },
    }))
}

#[allow(deprecated, reason = "async-openai marks the delta's function_call deprecated")]
fn delta_to(
    delta: ChatCompletionDelta,
    path: &str,
    losses: &mut Losses,
) -> upstream::ChatCompletionStreamResponseDelta {
    let ChatCompletionDelta {
        role,
        content,
        reasoning_content,
        reasoning_details,
        tool_calls,
        refusal,
        provider_content,
        annotations,
    } = delta;
    for (present, field) in [
        (annotations.is_some(), "annotations"),
        (reasoning_content.is_some(), "reasoning_content"),
        (reasoning_details.is_some(), "reasoning_details"),
        (provider_content.is_some(), "provider_content"),
    ] {
        if present {
            losses.omitted(format!("{path}.{field}"), "async-openai's delta has no field for it");
        }
    }
    upstream::ChatCompletionStreamResponseDelta {
        content,
        function_call: None,
        tool_calls: tool_calls.map(|calls| {
            calls
                .into_iter()
                .enumerate()
                .map(|(index, call)| tool_call_delta_to(call, &format!("{path}.tool_calls[{index}]"), losses))
                .collect()
        }),
        role: role.map(|role| role_to(&role, path, losses)),
        refusal,
        audio: None,
    }
}

fn tool_call_delta_to(
    call: ToolCallDelta,
    path: &str,
    losses: &mut Losses,
) -> upstream::ChatCompletionMessageToolCallChunk {
    let ToolCallDelta { index, id, kind, function, extra_content } = call;
    if extra_content.is_some() {
        losses.omitted(format!("{path}.extra_content"), "async-openai's tool call chunk has no field for it");
    }
    let kind = kind.and_then(|kind| {
        if kind == "function" {
            Some(upstream::FunctionType::Function)
        } else {
            losses.omitted(format!("{path}.type"), format!("async-openai has no tool call of type `{kind}`"));
            None
        }
    });
    upstream::ChatCompletionMessageToolCallChunk {
        index,
        id,
        r#type: kind,
        function: function
            .map(|FunctionCallDelta { name, arguments }| upstream::FunctionCallStream { name, arguments }),
    }
}

/// async-openai holds log probabilities as `f32`: they narrow (a precision limit of its type).
fn logprobs_to(logprobs: ChoiceLogprobs) -> upstream::ChatChoiceLogprobs {
    let tokens = |tokens: Vec<TokenLogprob>| -> Vec<upstream::ChatCompletionTokenLogprob> {
        tokens
            .into_iter()
            .map(|TokenLogprob { token, logprob, bytes, top_logprobs }| {
                upstream::ChatCompletionTokenLogprob {
                    token,
                    logprob: logprob as f32,
                    bytes,
                    top_logprobs: top_logprobs
                        .into_iter()
                        .map(|TopLogprob { token, logprob, bytes }| upstream::TopLogprobs {
                            token,
                            logprob: logprob as f32,
                            bytes,
                        })
                        .collect(),
                }
            })
            .collect()
    };
    upstream::ChatChoiceLogprobs {
        content: logprobs.content.map(tokens),
        refusal: logprobs.refusal.map(tokens),
    }
}

fn usage_to(usage: Usage, losses: &mut Losses) -> upstream::CompletionUsage {
    let Usage {
        prompt_tokens,
        completion_tokens,
        total_tokens,
        prompt_tokens_details,
        completion_tokens_details,
        server_tool_use,
    } = usage;
    if server_tool_use.is_some() {
        losses.omitted("usage.server_tool_use", "async-openai's usage has no field for it");
    }
    upstream::CompletionUsage {
        prompt_tokens,
        completion_tokens,
        total_tokens,
        prompt_tokens_details: prompt_tokens_details.map(|details| upstream::PromptTokensDetails {
            audio_tokens: details.audio_tokens,
            cached_tokens: details.cached_tokens,
            text_tokens: None,
            image_tokens: None,
            cache_write_tokens: details.cache_creation_tokens.map(i64::from),
        }),
        completion_tokens_details: completion_tokens_details.map(|details| {
            upstream::CompletionTokensDetails {
                accepted_prediction_tokens: details.accepted_prediction_tokens,
                audio_tokens: details.audio_tokens,
                reasoning_tokens: details.reasoning_tokens,
                rejected_prediction_tokens: details.rejected_prediction_tokens,
                text_tokens: None,
            }
        }),
    }
}
