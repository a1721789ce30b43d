//! Sampling, limits, stop sequences, response format, reasoning, service tier, metadata and provider
//! options -> `inferenceConfig`, `outputConfig`, `additionalModelRequestFields` and the other top-level
//! Converse fields; and what Claude refuses while thinking.

use std::collections::BTreeMap;

use serde_json::{Map, Value};
use vllora_llm_core::types::gateway::{
    ProviderSpecificRequest, ReasoningEffort, ResponseFormat, ThinkingConfig, ThinkingType,
};
use vllora_llm_core::{Warning, Warnings};

use crate::wire::{
    ConverseRequest, Empty, InferenceConfig, JsonSchemaDefinition, OutputConfig, OutputFormat,
    OutputStructure, ServiceTier, ToolChoice,
};

/// The sampling and limit parameters Converse names itself.
pub(super) struct Sampling<'a> {
    pub(super) max_completion_tokens: Option<u32>,
    pub(super) max_tokens: Option<u32>,
    pub(super) temperature: Option<f64>,
    pub(super) top_p: Option<f64>,
    pub(super) stop: Option<&'a [String]>,
}

/// `inferenceConfig`: the token limit, temperature (within Bedrock's range), top_p and stop sequences.
pub(super) fn inference_config<'a>(sampling: Sampling<'a>, warnings: &mut Warnings) -> InferenceConfig<'a> {
    // OpenAI's temperatures go up to 2, Bedrock's (AWS's service model) up to 1: above is a 400.
    let temperature = sampling.temperature.map(|temperature| {
        if temperature > 1.0 {
            warnings.push(Warning::adjusted(
                "temperature",
                format!("Bedrock's range is 0 to 1; sent 1 for {temperature}"),
            ));
            1.0
        } else {
            temperature
        }
    });
    InferenceConfig {
        max_tokens: sampling.max_completion_tokens.or(sampling.max_tokens),
        temperature,
        top_p: sampling.top_p,
        // Bedrock rejects empty stop sequences; an empty one never matches anything anyway.
        stop_sequences: sampling
            .stop
            .unwrap_or_default()
            .iter()
            .filter(|stop| !stop.is_empty())
            .map(String::as_str)
            .collect(),
    }
}

/// While thinking, Claude refuses a forced tool choice ("Thinking may not be enabled when tool_choice forces
/// tool use"), a temperature other than 1, and `top_k`: the call then goes out without them, each a warning.
pub(super) fn fit_claude_thinking(body: &mut ConverseRequest<'_>, warnings: &mut Warnings) {
    let Some(fields) = body.additional_model_request_fields.as_mut() else { return };
    let thinking_on = ["thinking", "reasoning_config"].iter().any(|key| {
        let kind = fields.get(*key).and_then(|config| config.get("type")).and_then(Value::as_str);
        matches!(kind, Some("enabled" | "adaptive"))
    });
    if !thinking_on {
        return;
    }
    const WHILE_THINKING: &str = "Claude does not take it while thinking";
    if fields.remove("top_k").is_some() {
        warnings.push(Warning::unsupported_because("provider_specific.top_k", WHILE_THINKING));
    }
    if let Some(tool_config) = body.tool_config.as_mut() {
        if matches!(tool_config.tool_choice, Some(ToolChoice::Any(_) | ToolChoice::Tool(_))) {
            warnings.push(Warning::adjusted(
                "tool_choice",
                "Claude cannot be made to use a tool while thinking; sent `auto`",
            ));
            tool_config.tool_choice = Some(ToolChoice::Auto(Empty {}));
        }
    }
    if let Some(config) = body.inference_config.as_mut() {
        if config.temperature.is_some_and(|temperature| temperature != 1.0) {
            warnings.push(Warning::unsupported_because("temperature", WHILE_THINKING));
            config.temperature = None;
        }
        if config.is_empty() {
            body.inference_config = None;
        }
    }
}

/// The Converse body's top-level fields, as a `provider_specific` key may name them (camel or snake case).
const CONVERSE_FIELDS: [(&str, &str); 9] = [
    ("tool_config", "toolConfig"),
    ("inference_config", "inferenceConfig"),
    ("prompt_variables", "promptVariables"),
    ("request_metadata", "requestMetadata"),
    ("service_tier", "serviceTier"),
    ("output_config", "outputConfig"),
    ("system", "system"),
    ("messages", "messages"),
    ("additional_model_request_fields", "additionalModelRequestFields"),
];

/// The `provider_specific` keys as Bedrock expects them. `guardrail_config`, `performance_config` and
/// `additional_model_response_field_paths` (snake or camel case) are top-level fields; another Converse
/// field name (`toolConfig` with a `systemTool`, `promptVariables`, `outputConfig`...) is merged into the
/// body as written (objects key by key, arrays appended to); `additionalModelRequestFields` and every other
/// key are the model's own fields, merged into `additionalModelRequestFields` (Converse refuses unknown
/// top-level fields, and that is where a model's native parameters go).
pub(super) fn provider_fields<'a>(
    specific: Option<&'a ProviderSpecificRequest>,
    body: &mut ConverseRequest<'a>,
) {
    let Some(extra) = specific.map(|specific| &specific.extra) else { return };
    let mut model_fields = Map::new();
    for (key, value) in extra {
        match key.as_str() {
            "guardrail_config" | "guardrailConfig" => body.guardrail_config = Some(value),
            "performance_config" | "performanceConfig" => body.performance_config = Some(value),
            "additional_model_response_field_paths" | "additionalModelResponseFieldPaths" => {
                body.additional_model_response_field_paths = Some(value)
            }
            other => {
                let field = CONVERSE_FIELDS
                    .iter()
                    .find(|(snake, camel)| other == *snake || other == *camel)
                    .map(|(_, camel)| *camel);
                match (field, value) {
                    (Some("additionalModelRequestFields"), Value::Object(fields)) => {
                        vllora_llm_core::support::merge_native_fields(&mut model_fields, fields)
                    }
                    (Some(field), value) => {
                        let mut native = Map::new();
                        native.insert(field.to_owned(), value.clone());
                        vllora_llm_core::support::merge_native_fields(&mut body.native_fields, &native);
                    }
                    (None, value) => {
                        model_fields.insert(other.to_owned(), value.clone());
                    }
                }
            }
        }
    }
    if !model_fields.is_empty() {
        let fields = body.additional_model_request_fields.get_or_insert_with(Map::new);
        vllora_llm_core::support::merge_native_fields(fields, &model_fields);
    }
}

/// Model families on Bedrock that are not Claude, by the vendor part of their ids.
const NON_CLAUDE_VENDORS: [&str; 12] = [
    "amazon.",
    "meta.",
    "mistral.",
    "cohere.",
    "ai21.",
    "deepseek.",
    "openai.",
    "qwen.",
    "writer.",
    "twelvelabs.",
    "stability.",
    "moonshot",
];

/// Whether `model_id` serves Claude (whose thinking and sampling rules apply).
pub(super) fn is_claude(model_id: &str) -> bool {
    let lower = model_id.to_ascii_lowercase();
    if lower.contains("anthropic.") || lower.contains("claude") {
        return true;
    }
    // Claude's model and inference-profile ids all name `anthropic.`; an ARN of an application inference
    // profile, a provisioned or a custom model may not say what it serves: give it the benefit.
    lower.starts_with("arn:") && !NON_CLAUDE_VENDORS.iter().any(|vendor| lower.contains(vendor))
}

fn thinking_value(thinking: &ThinkingConfig) -> Value {
    let kind = match thinking.kind {
        ThinkingType::Enabled => "enabled",
        ThinkingType::Disabled => "disabled",
        ThinkingType::Adaptive => "adaptive",
        _ => "enabled",
    };
    let mut value = Map::new();
    value.insert("type".to_owned(), Value::from(kind));
    if let Some(budget) = thinking.budget_tokens.filter(|_| thinking.kind == ThinkingType::Enabled) {
        value.insert("budget_tokens".to_owned(), Value::from(budget));
    }
    Value::Object(value)
}

/// `additionalModelRequestFields`: `top_k` and thinking in each model's own spelling, then the caller's
/// `additional_parameters` on top (an explicit field there wins).
pub(super) fn additional_fields(
    specific: Option<&ProviderSpecificRequest>,
    model_id: &str,
    warnings: &mut Warnings,
) -> Option<Map<String, Value>> {
    let specific = specific?;
    let mut fields = Map::new();
    if let Some(top_k) = specific.top_k {
        if model_id.contains("amazon.nova") {
            // Nova reads sampling options from a nested inferenceConfig.
            fields.insert("inferenceConfig".to_owned(), serde_json::json!({ "topK": top_k }));
        } else {
            fields.insert("top_k".to_owned(), Value::from(top_k));
        }
    }
    if let Some(thinking) = &specific.thinking {
        if is_claude(model_id) {
            fields.insert("thinking".to_owned(), thinking_value(thinking));
        } else {
            warnings.push(Warning::unsupported_because(
                "provider_specific.thinking",
                format!(
                    "`{model_id}` is not a Claude model; pass its own reasoning field in additional_parameters"
                ),
            ));
        }
    }
    for (key, value) in specific.additional_parameters.iter().flatten() {
        fields.insert(key.clone(), value.clone());
    }
    (!fields.is_empty()).then_some(fields)
}

/// Most entries Bedrock takes in `requestMetadata`.
const MAX_METADATA_ENTRIES: usize = 16;

/// `metadata` as `requestMetadata`, keeping only what Bedrock accepts (at most 16 entries; keys of 1 to 256
/// and values of up to 256 characters among letters, digits, whitespace and `:_@$#=/+,-.`): one entry
/// outside that would fail the whole call.
pub(super) fn request_metadata<'a>(
    metadata: Option<&'a BTreeMap<String, String>>,
    warnings: &mut Warnings,
) -> Option<BTreeMap<&'a str, &'a str>> {
    let allowed = |text: &str| {
        text.chars().count() <= 256
            && text.chars().all(|character| {
                character.is_ascii_alphanumeric()
                    || character.is_ascii_whitespace()
                    || "\u{b}:_@$#=/+,-.".contains(character)
            })
    };
    let mut sent = BTreeMap::new();
    for (key, value) in metadata.into_iter().flatten() {
        if key.is_empty() || !allowed(key) || !allowed(value) {
            warnings.push(Warning::unsupported_because(
                format!("metadata.{key}"),
                "Bedrock's requestMetadata takes up to 256 letters, digits, spaces and `:_@$#=/+,-.`",
            ));
        } else if sent.len() == MAX_METADATA_ENTRIES {
            warnings.push(Warning::unsupported_because(
                format!("metadata.{key}"),
                "Bedrock's requestMetadata takes at most 16 entries",
            ));
        } else {
            sent.insert(key.as_str(), value.as_str());
        }
    }
    (!sent.is_empty()).then_some(sent)
}

/// `serviceTier`: Bedrock's tiers; `auto` is its default.
pub(super) fn service_tier<'a>(tier: Option<&'a str>, warnings: &mut Warnings) -> Option<ServiceTier<'a>> {
    match tier? {
        "auto" => None,
        known @ ("default" | "flex" | "priority" | "reserved") => Some(ServiceTier { kind: known }),
        other => {
            warnings.push(Warning::unsupported_because(
                "service_tier",
                format!("Bedrock tiers are default, flex, priority and reserved, not `{other}`"),
            ));
            None
        }
    }
}

/// `outputConfig`: a JSON schema for the answer, and the reasoning effort.
pub(super) fn output_config<'a>(
    response_format: Option<&'a ResponseFormat>,
    reasoning_effort: Option<ReasoningEffort>,
    warnings: &mut Warnings,
) -> Option<OutputConfig<'a>> {
    let text_format = match response_format {
        None | Some(ResponseFormat::Text) => None,
        Some(ResponseFormat::JsonObject) => {
            warnings.push(Warning::unsupported_because(
                "response_format",
                "Bedrock constrains output to a JSON schema only; use `json_schema`",
            ));
            None
        }
        Some(ResponseFormat::JsonSchema { json_schema }) => {
            let schema = json_schema.schema.clone().unwrap_or_else(|| serde_json::json!({"type": "object"}));
            Some(OutputFormat {
                kind: "json_schema",
                structure: OutputStructure {
                    json_schema: JsonSchemaDefinition {
                        schema: schema.to_string(),
                        name: Some(json_schema.name.as_str()).filter(|name| !name.is_empty()),
                        description: json_schema.description.as_deref(),
                    },
                },
            })
        }
    };
    let effort = reasoning_effort.and_then(|effort| effort_name(effort, warnings));
    (text_format.is_some() || effort.is_some()).then_some(OutputConfig { text_format, effort })
}

/// Bedrock's efforts are low, medium, high, xhigh and max (AWS's service model).
fn effort_name(effort: ReasoningEffort, warnings: &mut Warnings) -> Option<&'static str> {
    match effort {
        ReasoningEffort::Low => Some("low"),
        ReasoningEffort::Medium => Some("medium"),
        ReasoningEffort::High => Some("high"),
        ReasoningEffort::XHigh => Some("xhigh"),
        ReasoningEffort::Minimal => {
            warnings.push(Warning::adjusted("reasoning_effort", "Bedrock has no `minimal`; sent as `low`"));
            Some("low")
        }
        _ => {
            warnings.push(Warning::unsupported_because(
                "reasoning_effort",
                format!("Bedrock efforts are low, medium, high and xhigh, not `{}`", effort.as_str()),
            ));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claude_is_recognised_in_ids_profiles_and_arns() {
        assert!(is_claude("anthropic.claude-sonnet-4-20250514-v1:0"));
        assert!(is_claude("us.anthropic.claude-3-7-sonnet-20250219-v1:0"));
        assert!(is_claude(
            "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3d4e5f6"
        ));
        assert!(!is_claude("amazon.nova-pro-v1:0"));
        assert!(!is_claude("meta.llama3-70b-instruct-v1:0"));
        assert!(!is_claude("google.gemma-3-27b-it"));
        assert!(!is_claude("zai.glm-4.7"));
        assert!(!is_claude("us.minimax.minimax-m2"));
        assert!(is_claude("arn:aws:bedrock:us-east-1:123456789012:provisioned-model/abc123"));
        assert!(!is_claude("arn:aws:bedrock:us-east-1::foundation-model/meta.llama3-70b-instruct-v1:0"));
    }
}
