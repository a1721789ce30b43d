//! Serde types of the Bedrock Converse and ConverseStream JSON (API version 2023-09-30).
//!
//! Request types are exact (every field we send, nothing else); response types are lenient: every field
//! optional, unknown fields and unknown content blocks ignored.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The body of `POST /model/{modelId}/converse` and `/converse-stream`.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ConverseRequest {
    pub(crate) messages: Vec<Message>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) system: Vec<SystemBlock>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) inference_config: Option<InferenceConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) tool_config: Option<ToolConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) guardrail_config: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) additional_model_request_fields: Option<Map<String, Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) additional_model_response_field_paths: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) request_metadata: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) performance_config: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) service_tier: Option<ServiceTier>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) output_config: Option<OutputConfig>,
}

/// A conversation turn. Roles must alternate, starting with `user`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Message {
    pub(crate) role: ConversationRole,
    pub(crate) content: Vec<ContentBlock>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum ConversationRole {
    User,
    Assistant,
}

/// One block of a message (a union: exactly one member is set).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) enum ContentBlock {
    Text(String),
    Image(ImageBlock),
    Document(DocumentBlock),
    ToolUse(ToolUseBlock),
    ToolResult(ToolResultBlock),
    CachePoint(CachePoint),
    ReasoningContent(ReasoningContent),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) enum SystemBlock {
    Text(String),
    CachePoint(CachePoint),
}

/// `{"type": "default"}`, with the extended TTL when asked for.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct CachePoint {
    #[serde(rename = "type")]
    pub(crate) kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) ttl: Option<&'static str>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct ImageBlock {
    pub(crate) format: &'static str,
    pub(crate) source: Source,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct DocumentBlock {
    pub(crate) format: &'static str,
    pub(crate) name: String,
    pub(crate) source: Source,
}

/// Where media bytes come from: base64 in the JSON, or an S3 object.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) enum Source {
    Bytes(String),
    S3Location(S3Location),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct S3Location {
    pub(crate) uri: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ToolUseBlock {
    pub(crate) tool_use_id: String,
    pub(crate) name: String,
    pub(crate) input: Value,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ToolResultBlock {
    pub(crate) tool_use_id: String,
    pub(crate) content: Vec<ToolResultContent>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) enum ToolResultContent {
    Text(String),
    Image(ImageBlock),
    Document(DocumentBlock),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) enum ReasoningContent {
    ReasoningText(ReasoningText),
    /// Base64, as JSON carries blobs.
    RedactedContent(String),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct ReasoningText {
    pub(crate) text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) signature: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct InferenceConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) max_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) top_p: Option<f64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) stop_sequences: Vec<String>,
}

impl InferenceConfig {
    pub(crate) fn is_empty(&self) -> bool {
        self == &InferenceConfig::default()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ToolConfig {
    pub(crate) tools: Vec<Tool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) tool_choice: Option<ToolChoice>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) enum Tool {
    ToolSpec(ToolSpec),
    CachePoint(CachePoint),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ToolSpec {
    pub(crate) name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) description: Option<String>,
    pub(crate) input_schema: ToolInputSchema,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) strict: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct ToolInputSchema {
    pub(crate) json: Value,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) enum ToolChoice {
    Auto(Empty),
    Any(Empty),
    Tool(SpecificTool),
}

/// `{}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Empty {}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct SpecificTool {
    pub(crate) name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct ServiceTier {
    #[serde(rename = "type")]
    pub(crate) kind: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct OutputConfig {
    pub(crate) text_format: OutputFormat,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct OutputFormat {
    #[serde(rename = "type")]
    pub(crate) kind: &'static str,
    pub(crate) structure: OutputStructure,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct OutputStructure {
    pub(crate) json_schema: JsonSchemaDefinition,
}

/// The schema travels as JSON text, not as an object.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct JsonSchemaDefinition {
    pub(crate) schema: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) description: Option<String>,
}

// ---- Responses ----

/// The body of a successful Converse call.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct ConverseResponse {
    pub(crate) output: Option<ConverseOutput>,
    pub(crate) stop_reason: Option<String>,
    pub(crate) usage: Option<TokenUsage>,
    pub(crate) metrics: Option<Value>,
    pub(crate) additional_model_response_fields: Option<Value>,
    pub(crate) trace: Option<Value>,
    pub(crate) performance_config: Option<Value>,
    pub(crate) service_tier: Option<ServiceTierOut>,
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ConverseOutput {
    pub(crate) message: Option<MessageOut>,
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default)]
pub(crate) struct MessageOut {
    pub(crate) content: Vec<ContentBlockOut>,
}

/// A response block: at most one member is set; a block with none we know is skipped.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct ContentBlockOut {
    pub(crate) text: Option<String>,
    pub(crate) tool_use: Option<ToolUseOut>,
    pub(crate) reasoning_content: Option<ReasoningContentOut>,
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct ToolUseOut {
    pub(crate) tool_use_id: String,
    pub(crate) name: String,
    pub(crate) input: Value,
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct ReasoningContentOut {
    pub(crate) reasoning_text: Option<ReasoningText>,
    pub(crate) redacted_content: Option<String>,
}

/// Token counts. `inputTokens` excludes the tokens read from or written to the prompt cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct TokenUsage {
    pub(crate) input_tokens: u32,
    pub(crate) output_tokens: u32,
    pub(crate) total_tokens: u32,
    pub(crate) cache_read_input_tokens: Option<u32>,
    pub(crate) cache_write_input_tokens: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ServiceTierOut {
    #[serde(rename = "type")]
    pub(crate) kind: Option<String>,
}

/// The error body of a failed call (`{"message": ...}`; some services spell it `Message`).
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ErrorBody {
    #[serde(alias = "Message")]
    pub(crate) message: Option<String>,
    #[serde(rename = "__type")]
    pub(crate) kind: Option<String>,
    #[serde(rename = "originalStatusCode")]
    pub(crate) original_status_code: Option<u16>,
    #[serde(rename = "originalMessage")]
    pub(crate) original_message: Option<String>,
}

// ---- Stream events (the payloads of event-stream frames, by `:event-type`) ----

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct ContentBlockStartEvent {
    pub(crate) content_block_index: u32,
    pub(crate) start: Option<ContentBlockStart>,
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct ContentBlockStart {
    pub(crate) tool_use: Option<ToolUseStart>,
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct ToolUseStart {
    pub(crate) tool_use_id: String,
    pub(crate) name: String,
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct ContentBlockDeltaEvent {
    pub(crate) content_block_index: u32,
    pub(crate) delta: Option<ContentBlockDelta>,
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct ContentBlockDelta {
    pub(crate) text: Option<String>,
    pub(crate) tool_use: Option<ToolUseDelta>,
    pub(crate) reasoning_content: Option<ReasoningDelta>,
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ToolUseDelta {
    pub(crate) input: String,
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct ReasoningDelta {
    pub(crate) text: Option<String>,
    pub(crate) signature: Option<String>,
    pub(crate) redacted_content: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct ContentBlockStopEvent {
    pub(crate) content_block_index: u32,
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct MessageStopEvent {
    pub(crate) stop_reason: Option<String>,
    pub(crate) additional_model_response_fields: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct MetadataEvent {
    pub(crate) usage: Option<TokenUsage>,
    pub(crate) metrics: Option<Value>,
    pub(crate) trace: Option<Value>,
}
