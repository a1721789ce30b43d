//! Serde types of the Bedrock Converse and ConverseStream JSON (API version 2023-09-30).
//!
//! Request types are exact (every field we send, nothing else); response types are lenient: every field
//! optional, unknown fields and unknown content blocks ignored.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The body of `POST /model/{modelId}/converse` and `/converse-stream`. It borrows from the gateway
/// request, so that text and base64 media are not copied before serialisation.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ConverseRequest<'a> {
    pub(crate) messages: Vec<Message<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) system: Vec<SystemBlock<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) inference_config: Option<InferenceConfig<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) tool_config: Option<ToolConfig<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) guardrail_config: Option<&'a Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) additional_model_request_fields: Option<Map<String, Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) additional_model_response_field_paths: Option<&'a Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) request_metadata: Option<BTreeMap<&'a str, &'a str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) performance_config: Option<&'a Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) service_tier: Option<ServiceTier<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) output_config: Option<OutputConfig<'a>>,
    /// The caller's native top-level fields (`provider_specific`: `promptVariables`, `toolConfig`...),
    /// merged into the body as it is written.
    #[serde(skip)]
    pub(crate) native_fields: Map<String, Value>,
}

/// A conversation turn. Roles must alternate, starting with `user`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Message<'a> {
    pub(crate) role: ConversationRole,
    pub(crate) content: Vec<ContentBlock<'a>>,
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
pub(crate) enum ContentBlock<'a> {
    Text(&'a str),
    Image(ImageBlock<'a>),
    Document(DocumentBlock<'a>),
    Audio(AudioBlock<'a>),
    ToolUse(ToolUseBlock<'a>),
    ToolResult(ToolResultBlock<'a>),
    CachePoint(CachePoint),
    ReasoningContent(ReasoningContent<'a>),
    /// A block as Bedrock wrote it (`citationsContent`, a server tool's `toolUse` or `toolResult`...),
    /// sent back from `provider_content`.
    #[serde(untagged)]
    Native(Cow<'a, Value>),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) enum SystemBlock<'a> {
    Text(&'a str),
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
pub(crate) struct ImageBlock<'a> {
    pub(crate) format: &'static str,
    pub(crate) source: Source<'a>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct DocumentBlock<'a> {
    pub(crate) format: &'static str,
    pub(crate) name: String,
    pub(crate) source: Source<'a>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct AudioBlock<'a> {
    pub(crate) format: &'static str,
    pub(crate) source: Source<'a>,
}

/// Where media bytes come from: base64 in the JSON, or an S3 object.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) enum Source<'a> {
    Bytes(&'a str),
    S3Location(S3Location<'a>),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct S3Location<'a> {
    pub(crate) uri: &'a str,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ToolUseBlock<'a> {
    pub(crate) tool_use_id: Cow<'a, str>,
    pub(crate) name: &'a str,
    pub(crate) input: Value,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ToolResultBlock<'a> {
    pub(crate) tool_use_id: Cow<'a, str>,
    pub(crate) content: Vec<ToolResultContent<'a>>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) enum ToolResultContent<'a> {
    Text(&'a str),
    Image(ImageBlock<'a>),
    Document(DocumentBlock<'a>),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) enum ReasoningContent<'a> {
    ReasoningText(ReasoningText<'a>),
    /// Base64, as JSON carries blobs.
    RedactedContent(&'a str),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct ReasoningText<'a> {
    pub(crate) text: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) signature: Option<&'a str>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct InferenceConfig<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) max_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) top_p: Option<f64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) stop_sequences: Vec<&'a str>,
}

impl InferenceConfig<'_> {
    pub(crate) fn is_empty(&self) -> bool {
        self == &InferenceConfig::default()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ToolConfig<'a> {
    pub(crate) tools: Vec<Tool<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) tool_choice: Option<ToolChoice<'a>>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) enum Tool<'a> {
    ToolSpec(ToolSpec<'a>),
    CachePoint(CachePoint),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ToolSpec<'a> {
    pub(crate) name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) description: Option<&'a str>,
    pub(crate) input_schema: ToolInputSchema<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) strict: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct ToolInputSchema<'a> {
    pub(crate) json: Cow<'a, Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) enum ToolChoice<'a> {
    Auto(Empty),
    Any(Empty),
    Tool(SpecificTool<'a>),
}

/// `{}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Empty {}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct SpecificTool<'a> {
    pub(crate) name: &'a str,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct ServiceTier<'a> {
    #[serde(rename = "type")]
    pub(crate) kind: &'a str,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct OutputConfig<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) text_format: Option<OutputFormat<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) effort: Option<&'static str>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct OutputFormat<'a> {
    #[serde(rename = "type")]
    pub(crate) kind: &'static str,
    pub(crate) structure: OutputStructure<'a>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct OutputStructure<'a> {
    pub(crate) json_schema: JsonSchemaDefinition<'a>,
}

/// The schema travels as JSON text, not as an object.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct JsonSchemaDefinition<'a> {
    pub(crate) schema: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) description: Option<&'a str>,
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

/// A response block: at most one member is set. Members with no OpenAI field (`citationsContent`,
/// `toolResult`, `image`, a kind Bedrock adds later...) are kept as sent in `other`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct ContentBlockOut {
    pub(crate) text: Option<String>,
    pub(crate) tool_use: Option<ToolUseOut>,
    pub(crate) reasoning_content: Option<ReasoningContentOut>,
    #[serde(flatten)]
    pub(crate) other: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct ToolUseOut {
    pub(crate) tool_use_id: String,
    pub(crate) name: String,
    pub(crate) input: Value,
    /// `server_tool_use` for a tool Bedrock runs itself (a system tool such as Nova's web grounding).
    #[serde(rename = "type")]
    pub(crate) kind: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct ReasoningContentOut {
    pub(crate) reasoning_text: Option<ReasoningTextOut>,
    pub(crate) redacted_content: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ReasoningTextOut {
    pub(crate) text: String,
    pub(crate) signature: Option<String>,
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
    /// `toolResult`, `image` or a kind Bedrock adds later, as sent.
    #[serde(flatten)]
    pub(crate) other: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct ToolUseStart {
    pub(crate) tool_use_id: String,
    pub(crate) name: String,
    #[serde(rename = "type")]
    pub(crate) kind: Option<String>,
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
    /// A citation of the text block (`CitationsDelta`).
    pub(crate) citation: Option<Value>,
    /// `toolResult` pieces, `image` or a kind Bedrock adds later, as sent.
    #[serde(flatten)]
    pub(crate) other: Map<String, Value>,
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
    pub(crate) service_tier: Option<ServiceTierOut>,
}
