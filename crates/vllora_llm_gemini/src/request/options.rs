//! Sampling, limits, stop sequences, output format, log probabilities and reasoning (`reasoning_effort`,
//! `provider_specific.thinking` and its Gemini options) -> Gemini's `generationConfig`.

use serde_json::{Map, Value};
use vllora_llm_core::types::gateway::{
    ReasoningEffort, ResponseFormat, ThinkingConfig as GatewayThinking, ThinkingType,
};
use vllora_llm_core::{LLMResult, Warning, Warnings};

use super::{EXTRA_INCLUDE_THOUGHTS, EXTRA_THINKING_LEVEL, Generation, invalid, report_removed};
use crate::schema;
use crate::wire::{GenerationConfig, ThinkingConfig};

/// The request fields that become `generationConfig`.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct OptionFields<'a> {
    pub n: Option<u32>,
    pub stop: Option<&'a [String]>,
    pub max_completion_tokens: Option<u32>,
    pub max_tokens: Option<u32>,
    pub temperature: Option<f64>,
    pub top_p: Option<f64>,
    pub top_k: Option<u32>,
    pub seed: Option<i64>,
    pub presence_penalty: Option<f64>,
    pub frequency_penalty: Option<f64>,
    pub logprobs: Option<bool>,
    pub top_logprobs: Option<u8>,
    pub modalities: Option<&'a [String]>,
    pub response_format: Option<&'a ResponseFormat>,
    pub reasoning_effort: Option<ReasoningEffort>,
    pub thinking: Option<GatewayThinking>,
    pub extra: Option<&'a Map<String, Value>>,
}

/// The sampling, limit, stop, output format and reasoning fields of a request -> `generationConfig`.
pub(super) fn generation_config(
    fields: &OptionFields<'_>,
    generation: Option<Generation>,
    native_json_schema: bool,
    warnings: &mut Warnings,
) -> LLMResult<GenerationConfig> {
    let seed = match fields.seed {
        None => None,
        Some(seed) => Some(i32::try_from(seed).map_err(|_| invalid("seed must fit in 32 bits for Gemini"))?),
    };
    let mut config = GenerationConfig {
        candidate_count: fields.n,
        stop_sequences: fields.stop.filter(|stop| !stop.is_empty()).map(<[String]>::to_vec),
        max_output_tokens: fields.max_completion_tokens.or(fields.max_tokens),
        temperature: fields.temperature,
        top_p: fields.top_p,
        top_k: fields.top_k,
        seed,
        presence_penalty: fields.presence_penalty,
        frequency_penalty: fields.frequency_penalty,
        response_logprobs: (fields.logprobs == Some(true)).then_some(true),
        logprobs: fields.top_logprobs.filter(|_| fields.logprobs == Some(true)),
        ..Default::default()
    };
    if fields.max_completion_tokens.is_some() && fields.max_tokens.is_some() {
        warnings.push(Warning::adjusted("max_tokens", "max_completion_tokens was given too and wins"));
    }
    if let Some(modalities) = fields.modalities {
        let upper: Vec<String> = modalities.iter().map(|modality| modality.to_ascii_uppercase()).collect();
        if upper != ["TEXT"] {
            config.response_modalities = Some(upper);
        }
    }
    match fields.response_format {
        None | Some(ResponseFormat::Text) => {}
        Some(ResponseFormat::JsonObject) => config.response_mime_type = Some("application/json".to_owned()),
        Some(ResponseFormat::JsonSchema { json_schema }) => {
            config.response_mime_type = Some("application/json".to_owned());
            if let Some(schema) = &json_schema.schema {
                // Gemini has no place for the format's description but the schema's own.
                let described;
                let schema = match (&json_schema.description, schema) {
                    (Some(description), Value::Object(object)) if !object.contains_key("description") => {
                        let mut object = object.clone();
                        object.insert("description".to_owned(), Value::String(description.clone()));
                        described = Value::Object(object);
                        &described
                    }
                    _ => schema,
                };
                if native_json_schema {
                    config.response_json_schema = Some(schema.clone());
                } else {
                    let normalised = schema::normalise(schema);
                    report_removed("response_format.json_schema", &normalised.removed, warnings);
                    config.response_schema = Some(normalised.schema);
                }
            }
        }
    }
    config.thinking_config = thinking_config(fields, generation, warnings)?;
    Ok(config)
}

/// `reasoning_effort` and `provider_specific.thinking` -> `thinkingConfig`: a level on Gemini 3 and later
/// (and unversioned aliases), a token budget on Gemini 2.5. An explicit budget is sent as a budget on
/// every generation (Gemini 3 accepts it). Thoughts are asked for whenever thinking is on.
fn thinking_config(
    fields: &OptionFields<'_>,
    generation: Option<Generation>,
    warnings: &mut Warnings,
) -> LLMResult<Option<ThinkingConfig>> {
    let thinking = fields.thinking;
    let extra = fields.extra;
    let level = match extra.and_then(|extra| extra.get(EXTRA_THINKING_LEVEL)) {
        None => None,
        Some(Value::String(level)) => Some(level.to_ascii_lowercase()),
        Some(_) => return Err(invalid("provider_specific.extra.thinking_level must be a string")),
    };
    let include_thoughts = match extra.and_then(|extra| extra.get(EXTRA_INCLUDE_THOUGHTS)) {
        None => None,
        Some(Value::Bool(flag)) => Some(*flag),
        Some(_) => return Err(invalid("provider_specific.extra.include_thoughts must be a boolean")),
    };
    let effort = fields.reasoning_effort;
    if !Generation::can_think(generation) {
        for (present, parameter) in [
            (effort.is_some(), "reasoning_effort"),
            (thinking.is_some(), "provider_specific.thinking"),
            (level.is_some(), "provider_specific.extra.thinking_level"),
            (include_thoughts == Some(true), "provider_specific.extra.include_thoughts"),
        ] {
            if present {
                warnings.push(Warning::unsupported_because(parameter, "this model does not think"));
            }
        }
        return Ok(None);
    }
    if effort.is_none() && thinking.is_none() && level.is_none() {
        return Ok(include_thoughts
            .map(|flag| ThinkingConfig { include_thoughts: Some(flag), ..Default::default() }));
    }
    if effort.is_some() && (thinking.is_some() || level.is_some()) {
        warnings.push(Warning::adjusted(
            "reasoning_effort",
            "provider_specific thinking options were given too and win",
        ));
    }
    let mut config = match (level, thinking, effort) {
        (Some(level), _, _) => {
            if thinking.is_some() {
                warnings.push(Warning::adjusted(
                    "provider_specific.thinking",
                    "thinking_level was given too and wins",
                ));
            }
            ThinkingConfig { thinking_level: Some(level), ..Default::default() }
        }
        (None, Some(thinking), _) => thinking_from_options(thinking, generation, warnings),
        (None, None, Some(effort)) => thinking_from_effort(effort, generation, warnings),
        (None, None, None) => ThinkingConfig::default(),
    };
    let thinking_off = config.thinking_budget == Some(0);
    config.include_thoughts =
        if thinking_off { include_thoughts } else { Some(include_thoughts.unwrap_or(true)) };
    Ok(Some(config))
}

fn thinking_from_options(
    thinking: GatewayThinking,
    generation: Option<Generation>,
    warnings: &mut Warnings,
) -> ThinkingConfig {
    let budget = |budget: i32| ThinkingConfig { thinking_budget: Some(budget), ..Default::default() };
    match thinking.kind {
        ThinkingType::Enabled => match thinking.budget_tokens {
            Some(tokens) => budget(i32::try_from(tokens).unwrap_or(i32::MAX)),
            None => budget(-1),
        },
        ThinkingType::Adaptive if Generation::thinks_in_levels(generation) => ThinkingConfig::default(),
        ThinkingType::Adaptive => budget(-1),
        ThinkingType::Disabled => disabled_thinking("provider_specific.thinking", generation, warnings),
        _ => {
            warnings.push(Warning::unsupported("provider_specific.thinking.type"));
            ThinkingConfig::default()
        }
    }
}

fn thinking_from_effort(
    effort: ReasoningEffort,
    generation: Option<Generation>,
    warnings: &mut Warnings,
) -> ThinkingConfig {
    if effort == ReasoningEffort::None {
        return disabled_thinking("reasoning_effort", generation, warnings);
    }
    if Generation::thinks_in_levels(generation) {
        let level = match effort {
            ReasoningEffort::Minimal if !Generation::takes_minimal_level(generation) => {
                warnings
                    .push(Warning::adjusted("reasoning_effort", "this model's lowest thinking level is low"));
                "low"
            }
            ReasoningEffort::Minimal => "minimal",
            ReasoningEffort::Low => "low",
            ReasoningEffort::Medium => "medium",
            ReasoningEffort::XHigh => {
                warnings
                    .push(Warning::adjusted("reasoning_effort", "Gemini's highest thinking level is high"));
                "high"
            }
            _ => "high",
        };
        return ThinkingConfig { thinking_level: Some(level.to_owned()), ..Default::default() };
    }
    let pro = generation.is_some_and(|generation| generation.pro);
    let budget = match effort {
        ReasoningEffort::Minimal if pro => 128,
        ReasoningEffort::Minimal => 512,
        ReasoningEffort::Low => 1024,
        ReasoningEffort::Medium => 8192,
        ReasoningEffort::XHigh if pro => 32_768,
        _ => 24_576,
    };
    ThinkingConfig { thinking_budget: Some(budget), ..Default::default() }
}

/// Gemini 2.5 Flash turns thinking off with a zero budget; 2.5 Pro and Gemini 3 cannot turn it off, so
/// they get their least thinking and a warning.
fn disabled_thinking(
    parameter: &str,
    generation: Option<Generation>,
    warnings: &mut Warnings,
) -> ThinkingConfig {
    if Generation::thinks_in_levels(generation) {
        warnings
            .push(Warning::adjusted(parameter, "Gemini 3 cannot turn thinking off; sent the lowest level"));
        let lowest = if Generation::takes_minimal_level(generation) { "minimal" } else { "low" };
        return ThinkingConfig { thinking_level: Some(lowest.to_owned()), ..Default::default() };
    }
    if generation.is_some_and(|generation| generation.pro) {
        warnings.push(Warning::adjusted(
            parameter,
            "Gemini 2.5 Pro cannot turn thinking off; sent the minimum budget",
        ));
        return ThinkingConfig { thinking_budget: Some(128), ..Default::default() };
    }
    ThinkingConfig { thinking_budget: Some(0), ..Default::default() }
}
