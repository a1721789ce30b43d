//! The chat completion request: every field of OpenAI's `POST /v1/chat/completions`, plus the
//! provider-specific extensions the other providers read.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use super::message::{ChatCompletionContent, ChatCompletionMessage};
use super::tools::{ChatCompletionTool, FunctionDefinition, ToolChoice};

/// A chat completion request in OpenAI's shape.
///
/// Build it with struct update syntax:
///
/// ```
/// use vllora_llm_core::types::gateway::{ChatCompletionMessage, ChatCompletionRequest};
///
/// let request = ChatCompletionRequest {
///     model: "gpt-4.1-mini".to_string(),
///     messages: vec![ChatCompletionMessage::new_text("user", "Hello")],
///     max_tokens: Some(64),
///     ..Default::default()
/// };
/// assert_eq!(request.messages.len(), 1);
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ChatCompletionRequest {
    /// The model, optionally prefixed with a provider (`anthropic/claude-sonnet-4-5`).
    pub model: String,
    /// The conversation so far.
    #[serde(default)]
    pub messages: Vec<ChatCompletionMessage>,
    /// Output audio settings (`modalities` must include `audio`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio: Option<AudioOutput>,
    /// Penalise tokens by how often they appeared, -2.0 to 2.0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frequency_penalty: Option<f64>,
    /// Deprecated form of `tool_choice`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function_call: Option<Value>,
    /// Deprecated form of `tools`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub functions: Option<Vec<FunctionDefinition>>,
    /// Token id (as a string) to bias, -100 to 100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logit_bias: Option<BTreeMap<String, i32>>,
    /// Return log probabilities of the output tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logprobs: Option<bool>,
    /// Upper bound on generated tokens, reasoning included (the replacement of `max_tokens`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_completion_tokens: Option<u32>,
    /// Upper bound on generated tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    /// Up to 16 key-value pairs stored with the completion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<BTreeMap<String, String>>,
    /// Output modalities, such as `["text", "audio"]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modalities: Option<Vec<String>>,
    /// How many choices to generate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<u32>,
    /// Allow several tool calls in one turn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallel_tool_calls: Option<bool>,
    /// Predicted output, to speed up regeneration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prediction: Option<Prediction>,
    /// Penalise tokens that appeared at all, -2.0 to 2.0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presence_penalty: Option<f64>,
    /// Groups requests that share a prefix, for OpenAI's prompt cache.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_cache_key: Option<String>,
    /// How long OpenAI keeps the prompt cache (`in-memory` or `24h`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_cache_retention: Option<String>,
    /// Reasoning effort for reasoning models.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_effort: Option<ReasoningEffort>,
    /// Output format: text, any JSON object, or JSON following a schema.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_format: Option<ResponseFormat>,
    /// A stable id for the end user, for abuse detection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub safety_identifier: Option<String>,
    /// Seed for deterministic sampling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<i64>,
    /// Processing tier (`auto`, `default`, `flex`, `priority`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_tier: Option<String>,
    /// Up to 4 sequences where generation stops. OpenAI's single-string form is accepted on input.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "string_or_list")]
    pub stop: Option<Vec<String>>,
    /// Store the completion for distillation and evals.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store: Option<bool>,
    /// Stream the answer. The client sets this itself; `create_stream` streams whatever it says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
    /// Streaming options.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_options: Option<StreamOptions>,
    /// Sampling temperature, 0 to 2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    /// How the model chooses tools.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<ToolChoice>,
    /// Tools the model may call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<ChatCompletionTool>>,
    /// How many most likely tokens to return at each position, 0 to 20.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_logprobs: Option<u8>,
    /// Nucleus sampling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    /// End-user id (OpenAI); Anthropic's `metadata.user_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Answer length for gpt-5 models (`low`, `medium`, `high`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verbosity: Option<Verbosity>,
    /// Web search options for search models.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub web_search_options: Option<Value>,
    /// Options only some providers understand (extension: `top_k`, `thinking`, Bedrock
    /// `additional_parameters`...). Never sent to OpenAI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_specific: Option<ProviderSpecificRequest>,
}

impl ChatCompletionRequest {
    /// The same request for another model.
    pub fn with_model(mut self, model: impl Into<String>) -> Self {
        self.model = model.into();
        self
    }
}

fn string_or_list<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Vec<String>>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum StringOrList {
        One(String),
        Many(Vec<String>),
    }
    Ok(match Option::<StringOrList>::deserialize(deserializer)? {
        None => None,
        Some(StringOrList::One(one)) => Some(vec![one]),
        Some(StringOrList::Many(many)) => Some(many),
    })
}

/// Output audio settings.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct AudioOutput {
    /// The voice (`alloy`, `ash`, ...).
    pub voice: String,
    /// The format (`wav`, `mp3`, `flac`, `opus`, `pcm16`).
    pub format: String,
}

/// Predicted output content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    /// Always `content`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The predicted content.
    pub content: ChatCompletionContent,
}

/// Reasoning effort for reasoning models.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum ReasoningEffort {
    /// No reasoning (gpt-5.1 and later).
    None,
    /// Minimal reasoning.
    Minimal,
    /// Low.
    Low,
    /// Medium.
    Medium,
    /// High.
    High,
    /// Extra high.
    #[serde(rename = "xhigh")]
    XHigh,
}

impl ReasoningEffort {
    /// The value as it appears in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            ReasoningEffort::None => "none",
            ReasoningEffort::Minimal => "minimal",
            ReasoningEffort::Low => "low",
            ReasoningEffort::Medium => "medium",
            ReasoningEffort::High => "high",
            ReasoningEffort::XHigh => "xhigh",
        }
    }
}

/// Answer length for gpt-5 models.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verbosity {
    /// Short answers.
    Low,
    /// Medium answers.
    Medium,
    /// Long answers.
    High,
}

/// The JSON schema of a `json_schema` response format.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct JsonSchemaFormat {
    /// The schema's name.
    pub name: String,
    /// What the output is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The JSON Schema.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<Value>,
    /// Follow the schema exactly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
}

/// The output format.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ResponseFormat {
    /// Free text.
    Text,
    /// Any JSON object.
    JsonObject,
    /// JSON following a schema.
    JsonSchema {
        /// The schema.
        json_schema: JsonSchemaFormat,
    },
}

/// Streaming options.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct StreamOptions {
    /// Send a final chunk with usage and no choices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_usage: Option<bool>,
    /// Pad chunks against side-channel attacks (OpenAI).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_obfuscation: Option<bool>,
}

/// Whether extended thinking is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum ThinkingType {
    /// Think, within `budget_tokens`.
    Enabled,
    /// Do not think.
    Disabled,
    /// Let the model decide how much to think.
    Adaptive,
}

/// Extended thinking options (Anthropic's shape; Gemini and Bedrock translate it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThinkingConfig {
    /// On, off or adaptive.
    #[serde(rename = "type")]
    pub kind: ThinkingType,
    /// Token budget for thinking (required when enabled).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget_tokens: Option<u32>,
}

impl ThinkingConfig {
    /// Thinking on, with a token budget.
    pub fn enabled(budget_tokens: u32) -> Self {
        ThinkingConfig { kind: ThinkingType::Enabled, budget_tokens: Some(budget_tokens) }
    }
}

/// Options only some providers understand.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ProviderSpecificRequest {
    /// Sample from the k most likely tokens (Anthropic, Gemini, Bedrock through additional fields).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_k: Option<u32>,
    /// Extended thinking.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thinking: Option<ThinkingConfig>,
    /// Free-form JSON merged into Bedrock's `additionalModelRequestFields`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub additional_parameters: Option<Map<String, Value>>,
    /// Further options named by each provider's documentation (for example Gemini's `cached_content`).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
