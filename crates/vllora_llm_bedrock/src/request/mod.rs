//! Gateway request -> Converse request body (the same for Converse and ConverseStream), with a warning for
//! every parameter Bedrock cannot honour. Split by concern: `messages` (conversation and content parts),
//! `tools` (`toolConfig`), `options` (sampling, limits, output, reasoning, provider options).

mod messages;
mod options;
mod tools;

use vllora_llm_core::types::gateway::ChatCompletionRequest;
use vllora_llm_core::{LLMError, LLMResult, Warning, Warnings};

use crate::wire::ConverseRequest;
use options::Sampling;

/// The name reasoning blocks carry in `ReasoningDetail::provider`; only these are sent back to Bedrock.
pub(crate) const REASONING_PROVIDER: &str = "bedrock";

/// Builds the Converse body for `model_id` (the id the caller resolved from `request.model`).
///
/// Every field of the gateway request is named here, so that a field added to it does not compile until
/// it is mapped, warned about or refused.
pub(crate) fn build<'a>(
    request: &'a ChatCompletionRequest,
    model_id: &str,
    warnings: &mut Warnings,
) -> LLMResult<ConverseRequest<'a>> {
    let ChatCompletionRequest {
        // Resolved by the caller into `model_id` (`with_model`, the `bedrock/` prefix stripped).
        model: _,
        messages,
        audio,
        frequency_penalty,
        function_call,
        functions,
        logit_bias,
        logprobs,
        max_completion_tokens,
        max_tokens,
        metadata,
        modalities,
        n,
        parallel_tool_calls,
        prediction,
        presence_penalty,
        prompt_cache_key,
        prompt_cache_retention,
        reasoning_effort,
        response_format,
        safety_identifier,
        seed,
        service_tier,
        stop,
        store,
        // The operation (converse or converse-stream) is the call's, not the body's; ConverseStream
        // always ends with usage, so `stream_options.include_usage` asks for nothing more.
        stream: _,
        stream_options: _,
        temperature,
        tool_choice,
        tools,
        top_logprobs,
        top_p,
        user,
        verbosity,
        web_search_options,
        provider_specific,
    } = request;

    let unsupported: [(bool, &str); 17] = [
        (audio.is_some(), "audio"),
        (frequency_penalty.is_some(), "frequency_penalty"),
        (presence_penalty.is_some(), "presence_penalty"),
        (function_call.is_some(), "function_call"),
        (functions.is_some(), "functions"),
        (logit_bias.is_some(), "logit_bias"),
        (*logprobs == Some(true), "logprobs"),
        (top_logprobs.is_some(), "top_logprobs"),
        (prediction.is_some(), "prediction"),
        (prompt_cache_key.is_some(), "prompt_cache_key"),
        (prompt_cache_retention.is_some(), "prompt_cache_retention"),
        (safety_identifier.is_some(), "safety_identifier"),
        (seed.is_some(), "seed"),
        (*store == Some(true), "store"),
        (user.is_some(), "user"),
        (verbosity.is_some(), "verbosity"),
        (web_search_options.is_some(), "web_search_options"),
    ];
    for (present, parameter) in unsupported {
        warnings.unsupported_if(present, parameter);
    }
    if n.is_some_and(|n| n > 1) {
        warnings.push(Warning::unsupported_because("n", "Bedrock returns one choice per call"));
    }
    if *parallel_tool_calls == Some(false) {
        warnings.push(Warning::unsupported_because(
            "parallel_tool_calls",
            "Bedrock cannot forbid parallel tool calls",
        ));
    }
    if modalities.as_ref().is_some_and(|modalities| modalities.iter().any(|modality| modality != "text")) {
        warnings.push(Warning::unsupported_because("modalities", "Converse answers with text only"));
    }

    let (system, messages) = messages::translate_messages(messages, warnings)?;
    let sampling = Sampling {
        max_completion_tokens: *max_completion_tokens,
        max_tokens: *max_tokens,
        temperature: *temperature,
        top_p: *top_p,
        stop: stop.as_deref(),
    };
    let inference_config = options::inference_config(sampling, warnings);
    let tool_config = tools::tool_config(tools.as_deref(), tool_choice.as_ref(), warnings)?;
    let tool_config = tool_config.or_else(|| tools::declared_history_tools(&messages, warnings));
    let provider_specific = provider_specific.as_ref();
    let mut body = ConverseRequest {
        messages,
        system,
        inference_config: (!inference_config.is_empty()).then_some(inference_config),
        tool_config,
        additional_model_request_fields: options::additional_fields(provider_specific, model_id, warnings),
        request_metadata: options::request_metadata(metadata.as_ref(), warnings),
        service_tier: options::service_tier(service_tier.as_deref(), warnings),
        output_config: options::output_config(response_format.as_ref(), *reasoning_effort, warnings),
        ..Default::default()
    };
    options::provider_fields(provider_specific, &mut body);
    if options::is_claude(model_id) {
        options::fit_claude_thinking(&mut body, warnings);
    }
    Ok(body)
}

/// Serialises the body, with the caller's native top-level fields merged in.
pub(crate) fn to_json_bytes(body: &ConverseRequest<'_>) -> LLMResult<Vec<u8>> {
    fn invalid(error: impl std::fmt::Display) -> LLMError {
        LLMError::InvalidRequest(format!("cannot encode the request: {error}"))
    }
    if body.native_fields.is_empty() {
        return vllora_llm_core::support::json::to_vec(body).map_err(invalid);
    }
    let serde_json::Value::Object(mut fields) = serde_json::to_value(body).map_err(invalid)? else {
        return Err(LLMError::InvalidRequest("the Converse body is not a JSON object".to_owned()));
    };
    vllora_llm_core::support::merge_native_fields(&mut fields, &body.native_fields);
    vllora_llm_core::support::json::to_vec(&fields).map_err(invalid)
}

#[cfg(test)]
#[path = "fixture_tests.rs"]
mod fixture_tests;
