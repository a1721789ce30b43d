//! Limits, thinking, sampling, output format, stop sequences and the end user -> Anthropic's parameters,
//! and a warning for each parameter Anthropic has no place for.

use serde_json::{Map, Value};
use vllora_llm_core::types::gateway::{ReasoningEffort, ResponseFormat, ThinkingConfig, ThinkingType};
use vllora_llm_core::{LLMError, LLMResult, Warning, Warnings};

use super::{STRUCTURED_OUTPUTS_BETA, add_beta};
use crate::config::AnthropicConfig;
use crate::family::{ModelFamily, StructuredOutput};
use crate::wire::{JsonSchemaFormat, MessagesRequest, Metadata, OutputConfig, ThinkingParam};

/// Anthropic's smallest thinking budget.
const MIN_THINKING_BUDGET: u32 = 1024;

/// Sets `thinking` and `max_tokens` (`requested_max`: `max_completion_tokens`, else `max_tokens`); returns
/// whether thinking is on (it restricts sampling).
pub(super) fn thinking_and_max_tokens(
    thinking: Option<ThinkingConfig>,
    requested_max: Option<u32>,
    family: &ModelFamily,
    body: &mut MessagesRequest,
    warnings: &mut Warnings,
) -> LLMResult<bool> {
    let mut budget = None;
    let mut thinking_on = false;
    if let Some(thinking) = thinking {
        match thinking.kind {
            ThinkingType::Enabled => {
                let Some(budget_tokens) = thinking.budget_tokens else {
                    return Err(LLMError::InvalidRequest(
                        "provider_specific.thinking: `enabled` needs `budget_tokens`".to_owned(),
                    ));
                };
                if budget_tokens < MIN_THINKING_BUDGET {
                    return Err(LLMError::InvalidRequest(format!(
                        "provider_specific.thinking.budget_tokens is {budget_tokens}; Anthropic requires at least \
                         {MIN_THINKING_BUDGET}"
                    )));
                }
                if let Some(max_tokens) = requested_max {
                    if budget_tokens >= max_tokens {
                        return Err(LLMError::InvalidRequest(format!(
                            "provider_specific.thinking.budget_tokens ({budget_tokens}) must be less than \
                             max_tokens ({max_tokens}) on Anthropic"
                        )));
                    }
                }
                thinking_on = true;
                if family.adaptive_thinking_only() {
                    warnings.push(Warning::adjusted(
                        "provider_specific.thinking",
                        format!(
                            "{} accepts adaptive thinking only; sent {{\"type\": \"adaptive\"}} without the \
                             budget",
                            body.model
                        ),
                    ));
                    body.thinking = Some(ThinkingParam { kind: "adaptive", budget_tokens: None });
                } else {
                    budget = Some(budget_tokens);
                    body.thinking =
                        Some(ThinkingParam { kind: "enabled", budget_tokens: Some(budget_tokens) });
                }
            }
            ThinkingType::Adaptive => {
                thinking_on = true;
                body.thinking = Some(ThinkingParam { kind: "adaptive", budget_tokens: None });
            }
            ThinkingType::Disabled if family.adaptive_thinking_only() => {
                warnings.push(Warning::unsupported_because(
                    "provider_specific.thinking",
                    format!("{} rejects `disabled` thinking; it was left out", body.model),
                ));
            }
            _ => body.thinking = Some(ThinkingParam { kind: "disabled", budget_tokens: None }),
        }
    }
    body.max_tokens = match requested_max {
        Some(max_tokens) => max_tokens,
        None => {
            let default = family.default_max_tokens();
            let chosen = match budget {
                Some(budget) => {
                    let wanted = budget.saturating_add(default);
                    family
                        .max_output_tokens()
                        .map_or(wanted, |cap| wanted.min(cap).max(budget.saturating_add(1)))
                }
                None => default,
            };
            warnings.push(Warning::adjusted(
                "max_tokens",
                format!("Anthropic requires max_tokens; sent {chosen}, the default for {}", body.model),
            ));
            chosen
        }
    };
    Ok(thinking_on)
}

/// The sampling parameters of the gateway request.
#[derive(Debug, Clone, Copy)]
pub(super) struct Sampling {
    pub(super) temperature: Option<f64>,
    pub(super) top_p: Option<f64>,
    /// `provider_specific.top_k`.
    pub(super) top_k: Option<u32>,
}

/// Sets `temperature`, `top_p` and `top_k` where the model, the API version and thinking allow them.
pub(super) fn sampling(
    request: Sampling,
    config: &AnthropicConfig,
    family: &ModelFamily,
    thinking_on: bool,
    body: &mut MessagesRequest,
    warnings: &mut Warnings,
) {
    let top_k = request.top_k;
    let omitted_because = if config.is_version_2026_10_21_or_later() {
        Some(format!("API version {} removed the sampling parameters", config.api_version()))
    } else if family.rejects_sampling_parameters() {
        Some(format!("{} rejects sampling parameters", body.model))
    } else {
        None
    };
    if let Some(reason) = omitted_because {
        for (present, parameter) in [
            (request.temperature.is_some(), "temperature"),
            (request.top_p.is_some(), "top_p"),
            (top_k.is_some(), "provider_specific.top_k"),
        ] {
            if present {
                warnings.push(Warning::unsupported_because(parameter, reason.clone()));
            }
        }
        return;
    }
    const WITH_THINKING: &str = "Anthropic does not allow it while thinking is on";
    if let Some(temperature) = request.temperature {
        // With thinking on Anthropic takes only its default, 1, which clients often send explicitly.
        if thinking_on && temperature != 1.0 {
            warnings.push(Warning::unsupported_because("temperature", WITH_THINKING));
        } else if temperature > 1.0 {
            warnings.push(Warning::adjusted(
                "temperature",
                format!("Anthropic's range is 0 to 1; sent 1 for {temperature}"),
            ));
            body.temperature = Some(1.0);
        } else {
            body.temperature = Some(temperature);
        }
    }
    if let Some(top_p) = request.top_p {
        if thinking_on && top_p < 0.95 {
            warnings.push(Warning::unsupported_because(
                "top_p",
                "while thinking is on Anthropic accepts top_p between 0.95 and 1 only",
            ));
        } else {
            body.top_p = Some(top_p);
        }
    }
    if let Some(top_k) = top_k {
        if thinking_on {
            warnings.push(Warning::unsupported_because("provider_specific.top_k", WITH_THINKING));
        } else {
            body.top_k = Some(top_k);
        }
    }
}

/// Sets the output format (`response_format`) and the effort (`reasoning_effort`).
pub(super) fn output(
    response_format: Option<&ResponseFormat>,
    reasoning_effort: Option<ReasoningEffort>,
    family: &ModelFamily,
    body: &mut MessagesRequest,
    betas: &mut Vec<&'static str>,
    warnings: &mut Warnings,
) {
    let mut output_config = OutputConfig::default();
    match response_format {
        None | Some(ResponseFormat::Text) => {}
        Some(ResponseFormat::JsonObject) => warnings.push(Warning::unsupported_because(
            "response_format",
            "Anthropic has no schema-less JSON mode; give a json_schema instead",
        )),
        Some(ResponseFormat::JsonSchema { json_schema }) => {
            let schema = json_schema.schema.clone().unwrap_or_else(|| serde_json::json!({"type": "object"}));
            let format = JsonSchemaFormat { kind: "json_schema", schema };
            match family.structured_output() {
                StructuredOutput::OutputConfig => output_config.format = Some(format),
                StructuredOutput::BetaOutputFormat => {
                    add_beta(betas, STRUCTURED_OUTPUTS_BETA);
                    body.output_format = Some(format);
                }
                StructuredOutput::Unsupported => warnings.push(Warning::unsupported_because(
                    "response_format",
                    format!("{} has no native structured output", body.model),
                )),
            }
        }
    }
    if let Some(effort) = reasoning_effort {
        let value = match effort {
            ReasoningEffort::Low => Some("low"),
            ReasoningEffort::Medium => Some("medium"),
            ReasoningEffort::High => Some("high"),
            ReasoningEffort::XHigh => Some("xhigh"),
            _ => None,
        };
        match value {
            Some(value) if family.supports_effort() => output_config.effort = Some(value),
            Some(_) => warnings.push(Warning::unsupported_because(
                "reasoning_effort",
                format!("{} has no effort parameter", body.model),
            )),
            None => warnings.push(Warning::unsupported_because(
                "reasoning_effort",
                format!("Anthropic has no effort level `{}`", effort.as_str()),
            )),
        }
    }
    if output_config.format.is_some() || output_config.effort.is_some() {
        body.output_config = Some(output_config);
    }
}

/// `stop` -> `stop_sequences` (an empty list is not sent).
pub(super) fn stop(stop: Option<&[String]>, body: &mut MessagesRequest) {
    body.stop_sequences = stop.filter(|stop| !stop.is_empty()).map(<[String]>::to_vec);
}

/// `user`, else `safety_identifier` -> `metadata.user_id`.
pub(super) fn user_id(user: Option<&str>, safety_identifier: Option<&str>, body: &mut MessagesRequest) {
    body.metadata = user.or(safety_identifier).map(|user_id| Metadata { user_id: user_id.to_owned() });
}

/// `n`: Anthropic answers with one choice.
pub(super) fn choice_count(n: Option<u32>, warnings: &mut Warnings) {
    if n.is_some_and(|n| n > 1) {
        warnings.push(Warning::unsupported_because("n", "Anthropic generates one choice per request"));
    }
}

/// Parameters Anthropic has no equivalent for: `(given, name)`, a warning for each one given.
pub(super) fn unsupported(parameters: &[(bool, &str)], warnings: &mut Warnings) {
    for &(present, parameter) in parameters {
        warnings.unsupported_if(present, parameter);
    }
}

/// `modalities`: Anthropic answers in text only.
pub(super) fn modalities(modalities: Option<&[String]>, warnings: &mut Warnings) {
    if modalities.is_some_and(|modalities| modalities.iter().any(|modality| modality != "text")) {
        warnings.push(Warning::unsupported_because("modalities", "Anthropic answers in text only"));
    }
}

/// The caller's native body fields: `provider_specific.additional_parameters` and every other
/// `provider_specific` key (`top_k` and `thinking` are mapped elsewhere), merged into the body as written
/// (`mcp_servers`, `container`, `context_management`, server tools in `tools`...).
pub(super) fn native_fields(
    additional_parameters: Option<&Map<String, Value>>,
    extra: Option<&Map<String, Value>>,
) -> Map<String, Value> {
    let mut fields = additional_parameters.cloned().unwrap_or_default();
    if let Some(extra) = extra {
        vllora_llm_core::support::merge_native_fields(&mut fields, extra);
    }
    fields
}
