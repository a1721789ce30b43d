//! Gateway request -> Gemini `GenerateContentRequest` (+ warnings for what Gemini cannot honour).
//!
//! [`build`] takes the request apart field by field, with no `..`: a field added to
//! `ChatCompletionRequest` does not compile here until it is mapped, warned about or refused. The
//! translation is split by concern: `messages.rs` (turns and content parts), `tools.rs` (tools and tool
//! choice), `options.rs` (sampling, limits, output format, reasoning).

mod messages;
mod options;
mod tools;

use std::collections::BTreeSet;

use bytes::Bytes;
use serde_json::{Map, Value};
use vllora_llm_core::types::gateway::{ChatCompletionMessage, ChatCompletionRequest, ProviderSpecificRequest};
use vllora_llm_core::{LLMError, LLMResult, Warning, Warnings};

use self::messages::convert_messages;
use self::options::{OptionFields, generation_config};
pub(crate) use self::tools::ToolFields;
use self::tools::{convert_tool_choice, convert_tools};
use crate::endpoint::model_resource;
use crate::wire::{Content, GenerateContentRequest, Tool, ToolConfig};

/// The provider name reasoning details and thought signatures are tagged with.
pub(crate) const REASONING_PROVIDER: &str = "gemini";

/// The value Google documents for function calls that come from elsewhere (another model, a rewritten
/// history) and so have no thought signature: Gemini 3 otherwise rejects them.
pub(crate) const SKIP_SIGNATURE_VALIDATOR: &str = "skip_thought_signature_validator";

/// `provider_specific.extra` keys this provider reads.
pub(crate) const EXTRA_CACHED_CONTENT: &str = "cached_content";
const EXTRA_SAFETY_SETTINGS: &str = "safety_settings";
const EXTRA_THINKING_LEVEL: &str = "thinking_level";
const EXTRA_INCLUDE_THOUGHTS: &str = "include_thoughts";
const EXTRA_NATIVE_JSON_SCHEMA: &str = "native_json_schema";
const KNOWN_EXTRA: [&str; 5] = [
    EXTRA_CACHED_CONTENT,
    EXTRA_SAFETY_SETTINGS,
    EXTRA_THINKING_LEVEL,
    EXTRA_INCLUDE_THOUGHTS,
    EXTRA_NATIVE_JSON_SCHEMA,
];

/// A model's generation (`gemini-2.5-flash` -> 2.5), which decides how thinking is configured.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub(crate) struct Generation {
    major: u32,
    minor: u32,
    pro: bool,
    lite: bool,
}

impl Generation {
    /// `None` for Gemini names without a version (`gemini-flash-latest`), treated as current. Other
    /// models served by the API (Gemma, LearnLM, tuned models) are generation 0: no thinking, no
    /// signatures.
    pub fn of(model: &str) -> Option<Generation> {
        let name = model.rsplit('/').next().unwrap_or(model);
        let Some(version) = name.strip_prefix("gemini-") else {
            return Some(Generation { major: 0, minor: 0, pro: false, lite: false });
        };
        let number = version.split('-').next()?;
        let mut pieces = number.split('.');
        let major = pieces.next()?.parse().ok()?;
        let minor = pieces.next().map_or(Some(0), |minor| minor.parse().ok())?;
        Some(Generation { major, minor, pro: version.contains("-pro"), lite: version.contains("-lite") })
    }

    /// Whether the model takes thinking level `minimal`: Google documents it as a 400 on Pro models and on
    /// Flash from 3.7 on. An unversioned alias may point at such a model.
    fn takes_minimal_level(generation: Option<Generation>) -> bool {
        generation.is_some_and(|generation| {
            !generation.pro && (generation.lite || (generation.major, generation.minor) < (3, 7))
        })
    }

    fn thinks_in_levels(generation: Option<Generation>) -> bool {
        generation.is_none_or(|generation| generation.major >= 3)
    }

    fn can_think(generation: Option<Generation>) -> bool {
        generation.is_none_or(|generation| (generation.major, generation.minor) >= (2, 5))
    }
}

/// One translated call: the model resource it goes to (`models/...`) and its body.
#[derive(Debug)]
pub(crate) struct GeminiCall {
    /// `models/{name}` or `tunedModels/{name}`.
    pub model: String,
    /// The `GenerateContentRequest`.
    pub body: GenerateContentRequest,
    /// The caller's native body fields (`provider_specific`), merged into the body as it is written.
    pub native_fields: Map<String, Value>,
}

impl GeminiCall {
    /// The body as JSON bytes, to send: the translated body with the caller's native fields merged in
    /// (objects key by key, arrays appended to: `tools` gains native tools beside the declarations).
    pub(crate) fn body_bytes(&self) -> LLMResult<Bytes> {
        let invalid_body = |error: serde_json::Error| invalid(error.to_string());
        if self.native_fields.is_empty() {
            return vllora_llm_core::support::json::to_vec(&self.body)
                .map(Bytes::from)
                .map_err(|error| invalid(error.to_string()));
        }
        let Value::Object(mut body) = serde_json::to_value(&self.body).map_err(invalid_body)? else {
            return Err(invalid("the generateContent body is not a JSON object"));
        };
        vllora_llm_core::support::merge_native_fields(&mut body, &self.native_fields);
        vllora_llm_core::support::json::to_vec(&body)
            .map(Bytes::from)
            .map_err(|error| invalid(error.to_string()))
    }
}

/// The body for `request`, on `model_override` when given (`GeminiModel::with_model`), else on the
/// model the request names (a `provider/` prefix is dropped).
pub(crate) fn build(
    request: &ChatCompletionRequest,
    model_override: Option<&str>,
    native_json_schema_default: bool,
    warnings: &mut Warnings,
) -> LLMResult<GeminiCall> {
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
        stream,
        stream_options,
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
    // The endpoint (`generateContent` or `streamGenerateContent`) is what streams, and Gemini reports
    // usage on every stream: neither has a place in the body.
    let _ = (stream, stream_options);
    let (top_k, thinking, additional_parameters, extra) = match provider_specific {
        Some(ProviderSpecificRequest { top_k, thinking, additional_parameters, extra }) => {
            (*top_k, *thinking, additional_parameters.as_ref(), Some(extra))
        }
        None => (None, None, None, None),
    };

    let model = model_resource(model_override.unwrap_or(requested_model))?;
    let generation = Generation::of(&model);
    let extra_value = |key: &str| extra.and_then(|extra| extra.get(key));
    // `additional_parameters` and every `provider_specific` key this provider does not read are native
    // body fields (`tools: [{"codeExecution": {}}]`, `toolConfig`, `labels`...), merged as written.
    let mut native_fields = additional_parameters.cloned().unwrap_or_default();
    let unread: Map<String, Value> = extra
        .into_iter()
        .flatten()
        .filter(|(key, _)| !KNOWN_EXTRA.contains(&key.as_str()))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();
    vllora_llm_core::support::merge_native_fields(&mut native_fields, &unread);
    let native_json_schema = match extra_value(EXTRA_NATIVE_JSON_SCHEMA) {
        None => native_json_schema_default,
        Some(Value::Bool(flag)) => *flag,
        Some(_) => return Err(invalid("provider_specific.extra.native_json_schema must be a boolean")),
    };

    let tool_fields = ToolFields {
        tools: tools.as_deref(),
        functions: functions.as_deref(),
        tool_choice: tool_choice.as_ref(),
        function_call: function_call.as_ref(),
        web_search_options: web_search_options.as_ref(),
    };
    let mut conversation =
        build_conversation(messages, &tool_fields, generation, native_json_schema, warnings)?;
    let cached_content = match extra_value(EXTRA_CACHED_CONTENT) {
        None => None,
        Some(Value::String(name)) => Some(crate::cache::cache_name(name)?),
        Some(_) => return Err(invalid("provider_specific.extra.cached_content must be a string")),
    };
    if cached_content.is_some() {
        leave_to_the_cache(&mut conversation, warnings);
    }
    let Conversation { system_instruction, contents, tools, tool_config } = conversation;
    if contents.is_empty() && cached_content.is_none() {
        return Err(invalid("Gemini needs at least one user, assistant or tool message"));
    }

    let safety_settings = match extra_value(EXTRA_SAFETY_SETTINGS) {
        None => None,
        Some(settings @ Value::Array(_)) => Some(settings.clone()),
        Some(_) => return Err(invalid("provider_specific.extra.safety_settings must be an array")),
    };
    let option_fields = OptionFields {
        n: *n,
        stop: stop.as_deref(),
        max_completion_tokens: *max_completion_tokens,
        max_tokens: *max_tokens,
        temperature: *temperature,
        top_p: *top_p,
        top_k,
        seed: *seed,
        presence_penalty: *presence_penalty,
        frequency_penalty: *frequency_penalty,
        logprobs: *logprobs,
        top_logprobs: *top_logprobs,
        modalities: modalities.as_deref(),
        response_format: response_format.as_ref(),
        reasoning_effort: *reasoning_effort,
        thinking,
        extra,
    };
    let generation_config = generation_config(&option_fields, generation, native_json_schema, warnings)?;

    // What Gemini has no field for.
    warnings.unsupported_if(logit_bias.is_some(), "logit_bias");
    if top_logprobs.is_some() && *logprobs != Some(true) {
        warnings.push(Warning::unsupported_because("top_logprobs", "it needs logprobs: true"));
    }
    warnings.unsupported_if(user.is_some(), "user");
    warnings.unsupported_if(safety_identifier.is_some(), "safety_identifier");
    warnings.unsupported_if(prompt_cache_key.is_some(), "prompt_cache_key");
    warnings.unsupported_if(prompt_cache_retention.is_some(), "prompt_cache_retention");
    warnings.unsupported_if(metadata.is_some(), "metadata");
    warnings.unsupported_if(*store == Some(true), "store");
    warnings.unsupported_if(service_tier.is_some(), "service_tier");
    warnings.unsupported_if(prediction.is_some(), "prediction");
    warnings.unsupported_if(audio.is_some(), "audio");
    warnings.unsupported_if(verbosity.is_some(), "verbosity");
    if *parallel_tool_calls == Some(false) {
        warnings.push(Warning::unsupported_because(
            "parallel_tool_calls",
            "Gemini cannot be told to make at most one call per turn",
        ));
    }

    let body = GenerateContentRequest {
        contents,
        system_instruction,
        tools,
        tool_config,
        safety_settings,
        generation_config: (!generation_config.is_empty()).then_some(generation_config),
        cached_content,
    };
    Ok(GeminiCall { model, body, native_fields })
}

/// Gemini refuses a system instruction, tools or a tool config next to a cache: the cache holds them.
fn leave_to_the_cache(conversation: &mut Conversation, warnings: &mut Warnings) {
    let left_out: Vec<&str> = [
        (conversation.system_instruction.take().is_some(), "system messages"),
        (!std::mem::take(&mut conversation.tools).is_empty(), "tools"),
        (conversation.tool_config.take().is_some(), "tool_choice"),
    ]
    .into_iter()
    .filter_map(|(present, name)| present.then_some(name))
    .collect();
    if !left_out.is_empty() {
        warnings.push(Warning::adjusted(
            "provider_specific.extra.cached_content",
            format!(
                "{} not sent: a Gemini request using a cache takes them from the cache",
                left_out.join(", ")
            ),
        ));
    }
}

/// What a request and a cache have in common: instructions, turns and tools.
#[derive(Debug, Default)]
pub(crate) struct Conversation {
    pub system_instruction: Option<Content>,
    pub contents: Vec<Content>,
    pub tools: Vec<Tool>,
    pub tool_config: Option<ToolConfig>,
}

/// Messages, tools and tool choice in Gemini's shape.
pub(crate) fn build_conversation(
    messages: &[ChatCompletionMessage],
    tool_fields: &ToolFields<'_>,
    generation: Option<Generation>,
    native_json_schema: bool,
    warnings: &mut Warnings,
) -> LLMResult<Conversation> {
    let converted = convert_messages(messages, generation, warnings)?;
    let mut tools = convert_tools(tool_fields, native_json_schema, warnings);
    let mut tool_config = convert_tool_choice(tool_fields, &mut tools, warnings);
    // Narrowing by `allowed_tools` can leave a group empty, and Gemini refuses an empty tool.
    tools.retain(|tool| !tool.function_declarations.is_empty() || tool.google_search.is_some());
    // Gemini refuses a function calling config without function declarations (a 400).
    let declares_functions = tools.iter().any(|tool| !tool.function_declarations.is_empty());
    if !declares_functions
        && tool_config.take().is_some_and(|config| config.function_calling_config.mode == "ANY")
    {
        warnings.push(Warning::unsupported_because("tool_choice", "this request declares no functions"));
    }
    Ok(Conversation {
        system_instruction: converted.system_instruction,
        contents: converted.contents,
        tools,
        tool_config,
    })
}

fn invalid(message: impl Into<String>) -> LLMError {
    LLMError::InvalidRequest(message.into())
}

/// Warns about the schema keywords Gemini's `Schema` cannot express, which were removed.
fn report_removed(parameter: &str, removed: &BTreeSet<String>, warnings: &mut Warnings) {
    if !removed.is_empty() {
        let names: Vec<&str> = removed.iter().map(String::as_str).collect();
        warnings.push(Warning::adjusted(
            parameter,
            format!("Gemini's Schema cannot express {}; removed", names.join(", ")),
        ));
    }
}

#[cfg(test)]
mod request_tests;
