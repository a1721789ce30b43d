//! Gateway request -> Anthropic Messages request body, with a warning for everything Anthropic cannot honour.
//!
//! [`build`] takes the gateway request apart field by field (no `..`: a field added to
//! [`ChatCompletionRequest`] does not compile until it is mapped here, warned about or refused) and hands
//! each concern to its module: [`messages`] (the conversation and its content), [`tools`] (tools and
//! `tool_choice`), [`options`] (limits, thinking, sampling, output format, stop sequences and everything
//! Anthropic has no place for).

mod messages;
mod options;
mod tools;

use serde_json::{Map, Value};
use vllora_llm_core::types::gateway::{ChatCompletionRequest, ProviderSpecificRequest};
use vllora_llm_core::{LLMError, LLMResult, Warnings};

use crate::config::AnthropicConfig;
use crate::family::ModelFamily;
use crate::wire::MessagesRequest;

/// Anthropic accepts at most this many `cache_control` breakpoints in one request.
const MAX_CACHE_BREAKPOINTS: usize = 4;
/// Beta for the pre-GA `output_format` structured outputs (and strict tools on the models that have only
/// that form).
const STRUCTURED_OUTPUTS_BETA: &str = "structured-outputs-2025-11-13";

/// A translated request: the body and the betas it needs on top of the configured ones.
#[derive(Debug)]
pub(crate) struct AnthropicRequest {
    pub body: MessagesRequest,
    pub betas: Vec<&'static str>,
    /// The caller's native fields (`provider_specific`), merged into the body as it is written.
    pub native_fields: Map<String, Value>,
}

impl AnthropicRequest {
    /// The body as JSON bytes, and the betas it needs.
    pub(crate) fn into_bytes(self) -> LLMResult<(Vec<u8>, Vec<&'static str>)> {
        fn invalid(error: impl std::fmt::Display) -> LLMError {
            LLMError::InvalidRequest(error.to_string())
        }
        if self.native_fields.is_empty() {
            return Ok((vllora_llm_core::support::json::to_vec(&self.body).map_err(invalid)?, self.betas));
        }
        let Value::Object(mut body) = serde_json::to_value(&self.body).map_err(invalid)? else {
            return Err(LLMError::InvalidRequest("the Messages body is not a JSON object".to_owned()));
        };
        vllora_llm_core::support::merge_native_fields(&mut body, &self.native_fields);
        Ok((vllora_llm_core::support::json::to_vec(&body).map_err(invalid)?, self.betas))
    }
}

/// Translates `request` for `model` (the request's own model when `None`).
pub(crate) fn build(
    request: &ChatCompletionRequest,
    model: Option<&str>,
    config: &AnthropicConfig,
    stream: bool,
    warnings: &mut Warnings,
) -> LLMResult<AnthropicRequest> {
    let ChatCompletionRequest {
        model: requested_model,
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
        // Which call was made (`complete` or `stream`) decides, not the request's flag.
        stream: _,
        // Anthropic always reports usage, which comes in the stream's last chunk; obfuscation padding is
        // OpenAI's own transport detail.
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
    let (top_k, thinking, additional_parameters, extra) = match provider_specific {
        Some(ProviderSpecificRequest { top_k, thinking, additional_parameters, extra }) => {
            (*top_k, *thinking, additional_parameters.as_ref(), Some(extra))
        }
        None => (None, None, None, None),
    };

    let model = strip_provider_prefix(model.unwrap_or(requested_model));
    if model.is_empty() {
        return Err(LLMError::InvalidRequest("`model` is empty".to_owned()));
    }
    let family = ModelFamily::parse(model);
    let mut betas = Vec::new();
    let rules =
        messages::ContentRules { assistant_documents_allowed: !config.is_version_2026_10_21_or_later() };
    let conversation = messages::translate(messages, rules, &mut betas, warnings)?;

    let mut body = MessagesRequest {
        model: model.to_owned(),
        messages: conversation.messages,
        system: conversation.system,
        stream: stream.then_some(true),
        ..Default::default()
    };
    let max_tokens = max_completion_tokens.or(*max_tokens).or(config.default_max_tokens());
    let thinking_on = options::thinking_and_max_tokens(thinking, max_tokens, &family, &mut body, warnings)?;
    let sampling = options::Sampling { temperature: *temperature, top_p: *top_p, top_k };
    options::sampling(sampling, config, &family, thinking_on, &mut body, warnings);
    let requested_tools = tools::RequestedTools {
        tools: tools.as_deref(),
        tool_choice: tool_choice.as_ref(),
        parallel_tool_calls: *parallel_tool_calls,
        functions: functions.is_some(),
        function_call: function_call.is_some(),
    };
    tools::apply(requested_tools, &family, thinking_on, &mut body, &mut betas, warnings);
    options::output(response_format.as_ref(), *reasoning_effort, &family, &mut body, &mut betas, warnings);
    options::stop(stop.as_deref(), &mut body);
    options::user_id(user.as_deref(), safety_identifier.as_deref(), &mut body);
    options::choice_count(*n, warnings);
    options::unsupported(
        &[
            (frequency_penalty.is_some(), "frequency_penalty"),
            (presence_penalty.is_some(), "presence_penalty"),
            (logit_bias.is_some(), "logit_bias"),
            (seed.is_some(), "seed"),
            (*logprobs == Some(true), "logprobs"),
            (top_logprobs.is_some(), "top_logprobs"),
            (audio.is_some(), "audio"),
            (prediction.is_some(), "prediction"),
            (prompt_cache_key.is_some(), "prompt_cache_key"),
            (prompt_cache_retention.is_some(), "prompt_cache_retention"),
            (metadata.is_some(), "metadata"),
            (store.is_some(), "store"),
            (service_tier.is_some(), "service_tier"),
            (verbosity.is_some(), "verbosity"),
            (web_search_options.is_some(), "web_search_options"),
        ],
        warnings,
    );
    options::modalities(modalities.as_deref(), warnings);
    let native_fields = options::native_fields(additional_parameters, extra);

    let tool_breakpoints = body.tools.iter().flatten().filter(|tool| tool.cache_control.is_some()).count();
    let breakpoints = conversation.cache_breakpoints.saturating_add(tool_breakpoints);
    if breakpoints > MAX_CACHE_BREAKPOINTS {
        return Err(LLMError::InvalidRequest(format!(
            "Anthropic accepts at most {MAX_CACHE_BREAKPOINTS} cache_control breakpoints per request; this one has \
             {breakpoints} (system, messages and tools together)"
        )));
    }
    Ok(AnthropicRequest { body, betas, native_fields })
}

fn strip_provider_prefix(model: &str) -> &str {
    model.strip_prefix("anthropic/").unwrap_or(model)
}

/// Adds `beta` to the request's betas, once.
fn add_beta(betas: &mut Vec<&'static str>, beta: &'static str) {
    if !betas.contains(&beta) {
        betas.push(beta);
    }
}

#[cfg(test)]
#[path = "request_tests.rs"]
mod tests;
