//! Sampling, limits, stop, response format, reasoning and provider options: what OpenAI's reasoning
//! models reject is dropped (with a warning when it carried meaning), `max_tokens` moves where they want
//! it, and OpenAI-compatible servers get the free-form `provider_specific` options as top-level fields.

use serde_json::{Map, Value};
use serde_json::json;
use vllora_llm_core::types::gateway::{
    ProviderSpecificRequest, ReasoningEffort, StreamOptions, ThinkingConfig, ThinkingType,
};
use vllora_llm_core::support::json;
use vllora_llm_core::{LLMError, LLMResult, Warning, Warnings};

use super::Mode;
use crate::dialect::OpenAIDialect;
use crate::wire::{self, ChatBody};

/// What OpenAI's published limitations say about a model, judged by its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct ModelTraits {
    /// o-series and gpt-5 and later (except the non-reasoning `gpt-5-chat` models): `max_completion_tokens`
    /// only, no sampling parameters.
    pub reasoning: bool,
    /// gpt-5.1 and later gpt-5.x take `temperature`, `top_p` and `logprobs` when `reasoning_effort` is
    /// `none`.
    pub sampling_without_reasoning: bool,
    /// The search preview models reject `temperature`.
    pub search_preview: bool,
}

impl ModelTraits {
    /// The traits of `model`; a name no OpenAI family matches (a local model behind a proxy) has none.
    pub(crate) fn of(model: &str) -> Self {
        let o_series = model
            .strip_prefix('o')
            .and_then(|rest| {
                let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
                let after = rest.get(digits..)?;
                (digits > 0 && (after.is_empty() || after.starts_with('-'))).then_some(())
            })
            .is_some();
        let gpt = gpt_version(model);
        let gpt = gpt.as_ref();
        let gpt_reasoning = gpt.is_some_and(|version| {
            let chat_variant = version.minor.is_none() && version.variant.starts_with("chat");
            version.major >= 5 && !chat_variant
        });
        ModelTraits {
            reasoning: o_series
                || gpt_reasoning
                || model == "codex-mini-latest"
                || model == "computer-use-preview",
            sampling_without_reasoning: gpt
                .is_some_and(|version| version.major == 5 && version.minor.is_some_and(|minor| minor >= 1)),
            search_preview: model.starts_with("gpt-4o-search-preview")
                || model.starts_with("gpt-4o-mini-search-preview"),
        }
    }
}

struct GptVersion<'a> {
    major: u32,
    minor: Option<u32>,
    variant: &'a str,
}

/// `gpt-5.1-mini` -> 5, Some(1), `mini`.
fn gpt_version(model: &str) -> Option<GptVersion<'_>> {
    let rest = model.strip_prefix("gpt-")?;
    let (version, variant) = rest.split_once('-').unwrap_or((rest, ""));
    let (major, minor) = match version.split_once('.') {
        Some((major, minor)) => (major, Some(minor.parse().ok()?)),
        None => (version, None),
    };
    Some(GptVersion { major: major.parse().ok()?, minor, variant })
}

/// `stream` and `stream_options` for `mode`: a stream always asks for usage, so the caller's stream ends
/// with it whatever the request said; the caller's `include_obfuscation` is kept.
pub(crate) fn stream_fields(
    mode: Mode,
    requested: Option<&StreamOptions>,
) -> (Option<bool>, Option<StreamOptions>) {
    match mode {
        Mode::OneShot => (None, None),
        Mode::Stream => (
            Some(true),
            Some(StreamOptions {
                include_usage: Some(true),
                include_obfuscation: requested.and_then(|options| options.include_obfuscation),
            }),
        ),
    }
}

/// Removes what the model rejects, moving `max_tokens` where reasoning models want it.
pub(crate) fn apply_model_limits(
    body: &mut ChatBody<'_>,
    traits: ModelTraits,
    warnings: &mut Warnings,
    adjustments: &mut Vec<Warning>,
) {
    if traits.search_preview && body.temperature.take().is_some() {
        warnings.push(Warning::unsupported_because("temperature", "the search preview models reject it"));
    }
    if !traits.reasoning {
        return;
    }
    let because = "OpenAI's reasoning models reject it";
    let sampling_allowed =
        traits.sampling_without_reasoning && body.reasoning_effort == Some(ReasoningEffort::None);
    if !sampling_allowed {
        drop_unless_default(&mut body.temperature, 1.0, "temperature", because, warnings);
        drop_unless_default(&mut body.top_p, 1.0, "top_p", because, warnings);
        if body.logprobs.take() == Some(true) {
            warnings.push(Warning::unsupported_because("logprobs", because));
        }
        if body.top_logprobs.take().is_some() {
            warnings.push(Warning::unsupported_because("top_logprobs", because));
        }
    }
    drop_unless_default(&mut body.frequency_penalty, 0.0, "frequency_penalty", because, warnings);
    drop_unless_default(&mut body.presence_penalty, 0.0, "presence_penalty", because, warnings);
    if body.logit_bias.take().is_some() {
        warnings.push(Warning::unsupported_because("logit_bias", because));
    }
    if let Some(max_tokens) = body.max_tokens.take() {
        match body.max_completion_tokens {
            None => {
                body.max_completion_tokens = Some(max_tokens);
                let detail = "sent as `max_completion_tokens`, the only limit reasoning models accept";
                tracing::debug!(parameter = "max_tokens", "{detail}");
                adjustments.push(Warning::adjusted("max_tokens", detail));
            }
            Some(_) => warnings.push(Warning::unsupported_because(
                "max_tokens",
                "`max_completion_tokens` is also set and reasoning models accept only that one",
            )),
        }
    }
}

/// Drops a sampling parameter the model rejects; the model's default value loses nothing, so only
/// another value is a warning.
fn drop_unless_default(
    value: &mut Option<f64>,
    default: f64,
    parameter: &str,
    because: &str,
    warnings: &mut Warnings,
) {
    if let Some(dropped) = value.take() {
        if dropped != default {
            warnings.push(Warning::unsupported_because(parameter, because));
        }
    }
}

/// The `provider_specific` options: OpenAI has none of them; an OpenAI-compatible server gets `top_k`
/// and the free-form `extra` options as top-level fields (vLLM, llama.cpp, SGLang and Together read them
/// there).
pub(crate) fn server_options(
    provider_specific: Option<&ProviderSpecificRequest>,
    compatible: bool,
    dialect: OpenAIDialect,
    warnings: &mut Warnings,
) -> Map<String, Value> {
    let mut extras = Map::new();
    let Some(specific) = provider_specific else { return extras };
    if let Some(top_k) = specific.top_k {
        if compatible {
            extras.insert("top_k".to_owned(), Value::from(top_k));
        } else {
            warnings.push(Warning::unsupported_because("provider_specific.top_k", "OpenAI has no top_k"));
        }
    }
    if let Some(thinking) = specific.thinking {
        match host_thinking(thinking, dialect, warnings) {
            Some((name, value)) if compatible && !specific.extra.contains_key(name) => {
                extras.insert(name.to_owned(), value);
            }
            Some(_) if compatible => {} // The caller's own field of that name is sent instead.
            _ => warnings.push(Warning::unsupported_because(
                "provider_specific.thinking",
                "use `reasoning_effort` with OpenAI-shaped servers",
            )),
        }
    }
    if specific.additional_parameters.is_some() {
        warnings.push(Warning::unsupported_because(
            "provider_specific.additional_parameters",
            "it is for Bedrock; use `provider_specific` extra fields for OpenAI-compatible servers",
        ));
    }
    for (name, value) in &specific.extra {
        let parameter = format!("provider_specific.{name}");
        if !compatible {
            warnings.push(Warning::unsupported_because(parameter, "OpenAI takes only its own parameters"));
        } else if wire::BODY_FIELDS.contains(&name.as_str()) || name == "top_k" {
            warnings.push(Warning::unsupported_because(parameter, "the standard field of that name wins"));
        } else {
            extras.insert(name.clone(), value.clone());
        }
    }
    extras
}

/// `provider_specific.thinking` in the host's own field: DeepSeek's `thinking: {"type": ...}` toggle
/// (no budget), OpenRouter's unified `reasoning` (`max_tokens` for a budget, `enabled` otherwise).
fn host_thinking(
    thinking: ThinkingConfig,
    dialect: OpenAIDialect,
    warnings: &mut Warnings,
) -> Option<(&'static str, Value)> {
    let on = thinking.kind != ThinkingType::Disabled;
    match dialect {
        OpenAIDialect::DeepSeek => {
            if on && thinking.budget_tokens.is_some() {
                warnings.push(Warning::unsupported_because(
                    "provider_specific.thinking.budget_tokens",
                    "DeepSeek's thinking mode takes no budget (use `reasoning_effort`); thinking is enabled",
                ));
            }
            Some(("thinking", json!({"type": if on { "enabled" } else { "disabled" }})))
        }
        OpenAIDialect::OpenRouter => Some((
            "reasoning",
            match (on, thinking.budget_tokens) {
                (true, Some(budget)) if thinking.kind == ThinkingType::Enabled => {
                    json!({"max_tokens": budget})
                }
                (on, _) => json!({"enabled": on}),
            },
        )),
        _ => None,
    }
}

/// Appends `fields` to a serialised JSON object (`{...}` -> `{..., "k": v}`) without re-parsing it.
pub(crate) fn append_fields(bytes: &mut Vec<u8>, fields: &Map<String, Value>) -> LLMResult<()> {
    if fields.is_empty() {
        return Ok(());
    }
    if bytes.pop() != Some(b'}') {
        return Err(LLMError::InvalidRequest("the serialised request is not a JSON object".to_owned()));
    }
    for (name, value) in fields {
        bytes.push(b',');
        json::write_str(bytes, name);
        bytes.push(b':');
        json::to_writer(bytes, value)
            .map_err(|error| LLMError::InvalidRequest(format!("cannot serialise `{name}`: {error}")))?;
    }
    bytes.push(b'}');
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasoning_families_are_recognised_by_name() {
        for model in [
            "o1",
            "o1-mini",
            "o3",
            "o3-mini-2025-01-31",
            "o4-mini",
            "gpt-5",
            "gpt-5-mini",
            "gpt-5.1",
            "gpt-5.2-pro",
            "gpt-6",
            "codex-mini-latest",
        ] {
            assert!(ModelTraits::of(model).reasoning, "{model}");
        }
        for model in [
            "gpt-4o",
            "gpt-4.1-mini",
            "gpt-5-chat-latest",
            "gpt-3.5-turbo",
            "omni-moderation-latest",
            "o",
            "gemma-3-270m",
            "chatgpt-4o-latest",
        ] {
            assert!(!ModelTraits::of(model).reasoning, "{model}");
        }
        assert!(ModelTraits::of("gpt-5.1-chat-latest").reasoning, "gpt-5.1 chat models reason");
        assert!(ModelTraits::of("gpt-5.1").sampling_without_reasoning);
        assert!(!ModelTraits::of("gpt-5").sampling_without_reasoning);
        assert!(!ModelTraits::of("gpt-6").sampling_without_reasoning);
        assert!(ModelTraits::of("gpt-4o-mini-search-preview").search_preview);
    }

    #[test]
    fn appended_fields_stay_valid_json() {
        let mut bytes = br#"{"model":"m"}"#.to_vec();
        let mut fields = Map::new();
        fields.insert("top_k".to_owned(), Value::from(40));
        fields.insert("chat_template_kwargs".to_owned(), serde_json::json!({"enable_thinking": false}));
        assert!(append_fields(&mut bytes, &fields).is_ok());
        let parsed: Value = serde_json::from_slice(&bytes).unwrap_or_default();
        assert_eq!(
            parsed,
            serde_json::json!({"model": "m", "top_k": 40, "chat_template_kwargs": {"enable_thinking": false}})
        );
    }
}
