//! Gemini `GenerateContentResponse` -> gateway response: choices, finish reasons, usage, thoughts.

use serde_json::{Map, Value, json};
use vllora_llm_core::types::gateway::{
    ChatCompletionContent, ChatCompletionMessage, ChatCompletionMessageWithFinishReason,
    ChatCompletionResponse, Choice, ChoiceLogprobs, CompletionTokensDetails, FinishReason,
    PromptTokensDetails, ReasoningDetail, ReasoningDetailType, Role, TokenLogprob, ToolCall, TopLogprob,
    Usage,
};
use vllora_llm_core::{LLMError, LLMResult};
use vllora_llm_http::{HeaderMap, StatusCode};

use crate::PROVIDER_NAME;
use crate::request::REASONING_PROVIDER;
use crate::wire::{Candidate, FunctionCall, GenerateContentResponse, LogprobsResult, UsageMetadata};

/// What the caller asked for, for the fields Gemini may leave out.
#[derive(Debug, Clone)]
pub(crate) struct ResponseContext {
    pub model: String,
    pub created: u64,
}

/// Decodes a whole `generateContent` response.
pub(crate) fn parse_response(
    body: &[u8],
    context: &ResponseContext,
) -> LLMResult<ChatCompletionMessageWithFinishReason> {
    let response: GenerateContentResponse =
        serde_json::from_slice(body).map_err(|error| LLMError::decode(PROVIDER_NAME, error))?;
    if response.error.is_some() {
        // An error body with a 2xx status: the same mapper as an error response.
        return Err(crate::error::map_error(StatusCode::OK, &HeaderMap::new(), body));
    }
    Ok(convert_response(&response, context))
}

pub(crate) fn convert_response(
    response: &GenerateContentResponse,
    context: &ResponseContext,
) -> ChatCompletionMessageWithFinishReason {
    let response_id = response.response_id.as_deref();
    let mut choices: Vec<Choice> = response
        .candidates
        .iter()
        .enumerate()
        .map(|(position, candidate)| {
            let index = candidate.index.unwrap_or(u32::try_from(position).unwrap_or(u32::MAX));
            let message = candidate_message(candidate, response_id, index);
            let has_tool_calls = message.tool_calls.is_some();
            let finish_reason =
                candidate.finish_reason.as_deref().map(|raw| finish_reason(raw, has_tool_calls));
            Choice {
                index,
                message,
                finish_reason,
                logprobs: candidate.logprobs_result.as_ref().map(logprobs),
            }
        })
        .collect();
    let block_reason = response.prompt_feedback.as_ref().and_then(|feedback| feedback.block_reason.clone());
    if choices.is_empty() && block_reason.is_some() {
        // A blocked prompt is an answer with nothing in it, not a failure.
        let refusal =
            response.prompt_feedback.as_ref().and_then(|feedback| feedback.block_reason_message.clone());
        choices.push(Choice {
            index: 0,
            message: ChatCompletionMessage { role: Role::Assistant, refusal, ..Default::default() },
            finish_reason: Some(FinishReason::ContentFilter),
            logprobs: None,
        });
    }
    let raw_finish_reason = response
        .candidates
        .first()
        .and_then(|candidate| candidate.finish_reason.clone())
        .or(block_reason.clone());
    let chat_response = ChatCompletionResponse {
        id: response_id.unwrap_or("gemini-response").to_owned(),
        object: "chat.completion".to_owned(),
        created: context.created,
        model: response.model_version.clone().unwrap_or_else(|| context.model.clone()),
        choices,
        usage: response.usage_metadata.as_ref().map(usage),
        ..Default::default()
    };
    ChatCompletionMessageWithFinishReason {
        response: chat_response,
        warnings: Vec::new(),
        raw_finish_reason,
        provider_metadata: Some(provider_metadata(response, block_reason)),
        // Set by the model from the HTTP reply.
        response_metadata: None,
    }
}

fn provider_metadata(response: &GenerateContentResponse, block_reason: Option<String>) -> Value {
    let mut gemini = Map::new();
    let mut put = |key: &str, value: Option<Value>| {
        if let Some(value) = value {
            gemini.insert(key.to_owned(), value);
        }
    };
    put("responseId", response.response_id.clone().map(Value::String));
    put("modelVersion", response.model_version.clone().map(Value::String));
    put("blockReason", block_reason.map(Value::String));
    put("usageMetadata", response.usage_metadata.and_then(|usage| serde_json::to_value(usage).ok()));
    let finish_messages: Vec<Value> = response
        .candidates
        .iter()
        .filter_map(|candidate| candidate.finish_message.clone().map(Value::String))
        .collect();
    put("finishMessages", (!finish_messages.is_empty()).then_some(Value::Array(finish_messages)));
    let grounding: Vec<Value> =
        response.candidates.iter().filter_map(|candidate| candidate.grounding_metadata.clone()).collect();
    put("groundingMetadata", (!grounding.is_empty()).then_some(Value::Array(grounding)));
    // Images and audio a model generates have no place in a chat message; they are kept here.
    let media: Vec<Value> = response
        .candidates
        .iter()
        .enumerate()
        .flat_map(|(position, candidate)| {
            let index = candidate.index.unwrap_or(u32::try_from(position).unwrap_or(u32::MAX));
            candidate.content.iter().flat_map(|content| content.parts.iter()).filter_map(move |part| {
                let blob = part.inline_data.as_ref()?;
                Some(json!({"candidate": index, "mimeType": blob.mime_type, "data": blob.data}))
            })
        })
        .collect();
    put("media", (!media.is_empty()).then_some(Value::Array(media)));
    json!({ "gemini": gemini })
}

/// One candidate's parts as an assistant message: text, thoughts, signatures and calls, in order.
fn candidate_message(
    candidate: &Candidate,
    response_id: Option<&str>,
    candidate_index: u32,
) -> ChatCompletionMessage {
    let mut text: Option<String> = None;
    let mut reasoning: Option<String> = None;
    let mut details = Vec::new();
    let mut tool_calls = Vec::new();
    for part in candidate.content.iter().flat_map(|content| content.parts.iter()) {
        if let Some(call) = &part.function_call {
            let position = tool_calls.len();
            tool_calls.push(tool_call(
                call,
                part.thought_signature.as_deref(),
                response_id,
                candidate_index,
                position,
            ));
            continue;
        }
        if let Some(piece) = &part.text {
            let target = if part.is_thought() { &mut reasoning } else { &mut text };
            target.get_or_insert_with(String::new).push_str(piece);
        }
        if let Some(signature) = &part.thought_signature {
            details.push(signature_detail(signature));
        }
    }
    ChatCompletionMessage {
        role: Role::Assistant,
        content: text.map(ChatCompletionContent::Text),
        tool_calls: (!tool_calls.is_empty()).then_some(tool_calls),
        reasoning_content: reasoning,
        reasoning_details: (!details.is_empty()).then_some(details),
        ..Default::default()
    }
}

/// A thought signature from a text or thought part, kept to be sent back on the next turn.
pub(crate) fn signature_detail(signature: &str) -> ReasoningDetail {
    ReasoningDetail {
        kind: ReasoningDetailType::Text,
        text: None,
        signature: Some(signature.to_owned()),
        data: None,
        provider: Some(REASONING_PROVIDER.to_owned()),
    }
}

/// A function call as an OpenAI tool call. Gemini rarely sends ids, so one is made from the response id,
/// the candidate and the call's position: stable for the same response and unique within it, which keeps
/// parallel calls to one function apart.
pub(crate) fn tool_call(
    call: &FunctionCall,
    signature: Option<&str>,
    response_id: Option<&str>,
    candidate_index: u32,
    position: usize,
) -> ToolCall {
    let id = match (&call.id, response_id) {
        (Some(id), _) if !id.is_empty() => id.clone(),
        (_, Some(response_id)) => format!("call_{response_id}_{candidate_index}_{position}"),
        (_, None) => format!("call_{candidate_index}_{position}"),
    };
    let arguments = match &call.args {
        Some(args) => args.to_string(),
        None => "{}".to_owned(),
    };
    let mut tool_call = ToolCall::function(id, call.name.clone(), arguments);
    tool_call.extra_content = signature.map(signature_extra);
    tool_call
}

/// Where a call's thought signature lives: the shape of Google's own OpenAI-compatible endpoint.
pub(crate) fn signature_extra(signature: &str) -> Value {
    json!({ "google": { "thought_signature": signature } })
}

/// Gemini's log probabilities in OpenAI's shape: each chosen token with the alternatives at its position.
pub(crate) fn logprobs(result: &LogprobsResult) -> ChoiceLogprobs {
    let content = result
        .chosen_candidates
        .iter()
        .enumerate()
        .map(|(position, chosen)| TokenLogprob {
            token: chosen.token.clone().unwrap_or_default(),
            logprob: chosen.log_probability.unwrap_or_default(),
            bytes: chosen.token.as_ref().map(|token| token.as_bytes().to_vec()),
            top_logprobs: result
                .top_candidates
                .get(position)
                .map(|top| {
                    top.candidates
                        .iter()
                        .map(|candidate| TopLogprob {
                            token: candidate.token.clone().unwrap_or_default(),
                            logprob: candidate.log_probability.unwrap_or_default(),
                            bytes: candidate.token.as_ref().map(|token| token.as_bytes().to_vec()),
                        })
                        .collect()
                })
                .unwrap_or_default(),
        })
        .collect();
    ChoiceLogprobs { content: Some(content), refusal: None }
}

/// Gemini's finish reason in OpenAI's terms. `STOP` after function calls is `tool_calls`.
pub(crate) fn finish_reason(raw: &str, has_tool_calls: bool) -> FinishReason {
    match raw {
        "STOP" if has_tool_calls => FinishReason::ToolCalls,
        "STOP" => FinishReason::Stop,
        "MAX_TOKENS" => FinishReason::Length,
        "SAFETY"
        | "RECITATION"
        | "BLOCKLIST"
        | "PROHIBITED_CONTENT"
        | "SPII"
        | "IMAGE_SAFETY"
        | "IMAGE_PROHIBITED_CONTENT"
        | "IMAGE_RECITATION" => FinishReason::ContentFilter,
        other => FinishReason::Other(other.to_owned()),
    }
}

/// Gemini's counts in OpenAI's shape: thoughts are output tokens, tool-use prompts input tokens, cached
/// tokens a part of the input.
pub(crate) fn usage(metadata: &UsageMetadata) -> Usage {
    let prompt = metadata
        .prompt_token_count
        .unwrap_or(0)
        .saturating_add(metadata.tool_use_prompt_token_count.unwrap_or(0));
    let thoughts = metadata.thoughts_token_count.unwrap_or(0);
    let completion = metadata.candidates_token_count.unwrap_or(0).saturating_add(thoughts);
    let mut usage = Usage::new(prompt, completion);
    if let Some(cached) = metadata.cached_content_token_count {
        usage.prompt_tokens_details =
            Some(PromptTokensDetails { cached_tokens: Some(cached), ..Default::default() });
    }
    if metadata.thoughts_token_count.is_some() {
        usage.completion_tokens_details =
            Some(CompletionTokensDetails { reasoning_tokens: Some(thoughts), ..Default::default() });
    }
    usage
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn context() -> ResponseContext {
        ResponseContext { model: "gemini-requested".into(), created: 1_700_000_000 }
    }

    fn fixture(name: &str) -> ChatCompletionMessageWithFinishReason {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join(format!("tests/fixtures/responses/{name}.gemini.json"));
        let body = std::fs::read(&path).unwrap_or_default();
        let document: Value = serde_json::from_slice(&body).unwrap_or_default();
        vllora_llm_testkit::record_conformance("gemini-response", &document);
        match parse_response(&body, &context()) {
            Ok(result) => result,
            Err(error) => panic!("{name}: {error}"),
        }
    }

    #[test]
    fn thoughts_signatures_and_usage_with_cache_and_reasoning() {
        let result = fixture("text_with_thoughts");
        let message = result.message();
        assert_eq!(
            message.content.as_ref().and_then(ChatCompletionContent::as_str),
            Some("Lisbon is lovely in spring: mild, sunny and not yet crowded.")
        );
        assert_eq!(
            message.reasoning_content.as_deref(),
            Some("**Weighing the options**\n\nThe user asks for a short answer, so one sentence will do.")
        );
        assert_eq!(message.reasoning_details, Some(vec![signature_detail("CtwBAdHtim9sig+text+part==")]));
        assert_eq!(result.finish_reason(), Some(&FinishReason::Stop));
        assert_eq!(result.raw_finish_reason.as_deref(), Some("STOP"));
        assert_eq!(result.id(), "mIYhab2XNrzhz7IPo8v-yAk");
        assert_eq!(result.model(), "gemini-2.5-flash");
        let Some(usage) = result.usage() else { panic!("usage") };
        assert_eq!((usage.prompt_tokens, usage.completion_tokens, usage.total_tokens), (1210, 72, 1282));
        assert_eq!((usage.cached_tokens(), usage.reasoning_tokens()), (1024, 58));
    }

    #[test]
    fn parallel_calls_to_one_function_get_distinct_ids_and_the_signature() {
        let result = fixture("parallel_calls");
        assert_eq!(result.finish_reason(), Some(&FinishReason::ToolCalls));
        let Some(calls) = &result.message().tool_calls else { panic!("tool calls") };
        assert_eq!(calls.len(), 2);
        assert_eq!(calls[0].id, "call_resp-1_0_0");
        assert_eq!(calls[1].id, "call_resp-1_0_1");
        assert_eq!(calls[0].function.name, "get_weather");
        assert_eq!(calls[1].function.arguments, r#"{"city":"Rome","unit":"c"}"#);
        assert_eq!(
            calls[0].extra_content,
            Some(json!({"google": {"thought_signature": "CiQBjz1rX2sig/paris=="}}))
        );
        assert_eq!(calls[1].extra_content, None);
        assert_eq!(result.message().content, None);
        assert_eq!(
            result.provider_metadata.as_ref().map(|metadata| metadata["gemini"]["finishMessages"].clone()),
            Some(json!(["Model generated function call(s)."]))
        );
        let Some(usage) = result.usage() else { panic!("usage") };
        assert_eq!((usage.completion_tokens, usage.total_tokens), (74, 170));
    }

    #[test]
    fn every_candidate_is_a_choice_with_its_own_finish_reason() {
        let result = fixture("two_candidates");
        let choices = result.choices();
        assert_eq!(choices.len(), 2);
        assert_eq!(choices[0].finish_reason, Some(FinishReason::Length));
        assert_eq!(choices[1].finish_reason, Some(FinishReason::Stop));
        assert_eq!(
            choices[1].message.content.as_ref().and_then(ChatCompletionContent::as_str),
            Some("A haiku: spring rain on the roof")
        );
        assert_eq!(result.id(), "gemini-response");
        assert_eq!(result.response.created, 1_700_000_000);
    }

    #[test]
    fn a_blocked_prompt_is_a_content_filter_result() {
        let result = fixture("blocked_prompt");
        assert_eq!(result.choices().len(), 1);
        assert_eq!(result.finish_reason(), Some(&FinishReason::ContentFilter));
        assert_eq!(result.raw_finish_reason.as_deref(), Some("SAFETY"));
        assert_eq!(result.message().content, None);
        assert_eq!(result.usage().map(|usage| usage.prompt_tokens), Some(12));
        let safety = fixture("safety_finish");
        assert_eq!(safety.finish_reason(), Some(&FinishReason::ContentFilter));
        assert_eq!(safety.message().role, Role::Assistant);
    }

    #[test]
    fn unknown_finish_reasons_are_kept_raw() {
        let result = fixture("malformed_call");
        assert_eq!(result.finish_reason(), Some(&FinishReason::Other("MALFORMED_FUNCTION_CALL".into())));
        for (raw, expected) in [
            ("RECITATION", FinishReason::ContentFilter),
            ("BLOCKLIST", FinishReason::ContentFilter),
            ("PROHIBITED_CONTENT", FinishReason::ContentFilter),
            ("SPII", FinishReason::ContentFilter),
            ("LANGUAGE", FinishReason::Other("LANGUAGE".into())),
        ] {
            assert_eq!(finish_reason(raw, false), expected);
        }
    }

    #[test]
    fn log_probabilities_come_with_their_alternatives() {
        let result = fixture("logprobs");
        let Some(logprobs) = &result.choices()[0].logprobs else { panic!("logprobs") };
        let content = logprobs.content.clone().unwrap_or_default();
        assert_eq!(content.len(), 2);
        assert_eq!((content[0].token.as_str(), content[0].logprob), ("Yes", -0.0021));
        assert_eq!(content[0].bytes.as_deref(), Some("Yes".as_bytes()));
        let alternatives: Vec<(&str, f64)> =
            content[1].top_logprobs.iter().map(|top| (top.token.as_str(), top.logprob)).collect();
        assert_eq!(alternatives, [(".", -0.08), ("!", -2.6)]);
    }

    #[test]
    fn generated_images_are_kept_in_the_provider_metadata() {
        let body = json!({
            "candidates": [{"content": {"role": "model", "parts": [
                {"text": "Here is your cat."},
                {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}}
            ]}, "finishReason": "STOP", "index": 0}],
            "modelVersion": "gemini-2.5-flash-image", "responseId": "image-1"
        });
        vllora_llm_testkit::record_conformance("gemini-response", &body);
        let Ok(result) = parse_response(body.to_string().as_bytes(), &context()) else {
            panic!("an image answer")
        };
        assert_eq!(
            result.message().content.as_ref().and_then(ChatCompletionContent::as_str),
            Some("Here is your cat.")
        );
        assert_eq!(
            result.provider_metadata.map(|metadata| metadata["gemini"]["media"].clone()),
            Some(json!([{"candidate": 0, "mimeType": "image/png", "data": "iVBORw0KGgo="}]))
        );
    }

    #[test]
    fn garbage_is_a_decode_error_and_an_error_body_an_api_error() {
        assert!(matches!(parse_response(b"<html>", &context()), Err(LLMError::Decode { .. })));
        let error = parse_response(
            br#"{"error": {"code": 500, "message": "Internal", "status": "INTERNAL"}}"#,
            &context(),
        );
        assert!(matches!(error, Err(error) if error.is_retryable()));
        let Ok(empty) = parse_response(b"{}", &context()) else { panic!("an empty response is a result") };
        assert!(empty.choices().is_empty());
    }
}
