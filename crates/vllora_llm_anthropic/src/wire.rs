//! Anthropic Messages API JSON: what we send (strict, `Serialize`) and what we read (lenient: optional
//! fields, unknown variants kept as `Other`, unknown fields ignored).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use vllora_llm_core::types::gateway::CacheControl;

// ---------------------------------------------------------------------------------------------------
// Request
// ---------------------------------------------------------------------------------------------------

/// `POST /v1/messages` body.
#[derive(Debug, Serialize, Default)]
pub(crate) struct MessagesRequest {
    pub model: String,
    pub max_tokens: u32,
    pub messages: Vec<MessageParam>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system: Option<SystemPrompt>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_sequences: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_k: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thinking: Option<ThinkingParam>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<ToolParam>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<ToolChoiceParam>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_config: Option<OutputConfig>,
    /// The structured-outputs beta form, for models that never got `output_config.format`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_format: Option<JsonSchemaFormat>,
}

/// `system`: a string, or text blocks (which can carry cache breakpoints).
#[derive(Debug, Serialize, PartialEq)]
#[serde(untagged)]
pub(crate) enum SystemPrompt {
    Text(String),
    Blocks(Vec<TextBlockParam>),
}

#[derive(Debug, Serialize, PartialEq)]
pub(crate) struct TextBlockParam {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<CacheControl>,
}

#[derive(Debug, Serialize)]
pub(crate) struct Metadata {
    pub user_id: String,
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub(crate) enum WireRole {
    User,
    Assistant,
}

#[derive(Debug, Serialize)]
pub(crate) struct MessageParam {
    pub role: WireRole,
    pub content: Vec<ContentBlockParam>,
}

/// One block of a request message.
#[derive(Debug, Serialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum ContentBlockParam {
    Text {
        text: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        cache_control: Option<CacheControl>,
    },
    Image {
        source: SourceParam,
        #[serde(skip_serializing_if = "Option::is_none")]
        cache_control: Option<CacheControl>,
    },
    Document {
        source: SourceParam,
        #[serde(skip_serializing_if = "Option::is_none")]
        title: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        cache_control: Option<CacheControl>,
    },
    ToolUse {
        id: String,
        name: String,
        input: Value,
        #[serde(skip_serializing_if = "Option::is_none")]
        cache_control: Option<CacheControl>,
    },
    ToolResult {
        tool_use_id: String,
        /// Left out when the tool said nothing: Anthropic rejects empty tool-result content, and takes a
        /// result without any (as its own clients send it).
        #[serde(skip_serializing_if = "Vec::is_empty")]
        content: Vec<ContentBlockParam>,
        #[serde(skip_serializing_if = "Option::is_none")]
        cache_control: Option<CacheControl>,
    },
    Thinking {
        thinking: String,
        signature: String,
    },
    RedactedThinking {
        data: String,
    },
    /// A block in Anthropic's own JSON, sent as it is: a server-tool call or result, an MCP block, a text
    /// block with its citations, from a message's `provider_content`.
    #[serde(untagged)]
    Native(Value),
}

impl ContentBlockParam {
    /// The block's cache breakpoint slot, when it can hold one.
    pub(crate) fn cache_control_mut(&mut self) -> Option<&mut Option<CacheControl>> {
        match self {
            ContentBlockParam::Text { cache_control, .. }
            | ContentBlockParam::Image { cache_control, .. }
            | ContentBlockParam::Document { cache_control, .. }
            | ContentBlockParam::ToolUse { cache_control, .. }
            | ContentBlockParam::ToolResult { cache_control, .. } => Some(cache_control),
            ContentBlockParam::Thinking { .. }
            | ContentBlockParam::RedactedThinking { .. }
            | ContentBlockParam::Native(_) => None,
        }
    }

    /// Cache breakpoints in this block, nested tool-result blocks included.
    pub(crate) fn cache_breakpoints(&self) -> usize {
        match self {
            ContentBlockParam::ToolResult { content, cache_control, .. } => {
                let own = usize::from(cache_control.is_some());
                content.iter().map(ContentBlockParam::cache_breakpoints).fold(own, usize::saturating_add)
            }
            ContentBlockParam::Text { cache_control, .. }
            | ContentBlockParam::Image { cache_control, .. }
            | ContentBlockParam::Document { cache_control, .. }
            | ContentBlockParam::ToolUse { cache_control, .. } => usize::from(cache_control.is_some()),
            ContentBlockParam::Native(block) => usize::from(block.get("cache_control").is_some()),
            ContentBlockParam::Thinking { .. } | ContentBlockParam::RedactedThinking { .. } => 0,
        }
    }
}

/// Where an image or document comes from.
#[derive(Debug, Serialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum SourceParam {
    Base64 {
        media_type: String,
        data: String,
    },
    Url {
        url: String,
    },
    /// A file uploaded through the Files API (beta `files-api-2025-04-14`).
    File {
        file_id: String,
    },
}

#[derive(Debug, Serialize, PartialEq)]
pub(crate) struct ThinkingParam {
    #[serde(rename = "type")]
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub budget_tokens: Option<u32>,
}

#[derive(Debug, Serialize)]
pub(crate) struct ToolParam {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub input_schema: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<CacheControl>,
}

#[derive(Debug, Serialize, PartialEq)]
pub(crate) struct ToolChoiceParam {
    #[serde(rename = "type")]
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disable_parallel_tool_use: Option<bool>,
}

#[derive(Debug, Serialize, Default)]
pub(crate) struct OutputConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<JsonSchemaFormat>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effort: Option<&'static str>,
}

#[derive(Debug, Serialize)]
pub(crate) struct JsonSchemaFormat {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub schema: Value,
}

// ---------------------------------------------------------------------------------------------------
// Response
// ---------------------------------------------------------------------------------------------------

/// A `message` object: the one-shot response, and `message_start`'s payload.
#[derive(Debug, Deserialize, Default)]
pub(crate) struct MessageResponse {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub model: String,
    #[serde(default)]
    pub content: Vec<ContentBlock>,
    #[serde(default)]
    pub stop_reason: Option<String>,
    #[serde(default)]
    pub stop_sequence: Option<String>,
    /// The code-execution container (id and expiry), to reuse in the next turn.
    #[serde(default)]
    pub container: Option<Value>,
    #[serde(default)]
    pub usage: WireUsage,
}

/// A block of the model's answer.
/// A block of a response. The blocks the gateway types hold (text, tool use, thinking) are read; any other
/// (`server_tool_use`, `web_search_tool_result`, `web_fetch_tool_result`, `code_execution_tool_result`,
/// `bash_code_execution_tool_result`, `mcp_tool_use`, `mcp_tool_result`, `tool_search_tool_result`,
/// `container_upload`, and kinds newer than this crate) is kept whole as [`ContentBlock::Native`].
#[derive(Debug, PartialEq)]
pub(crate) enum ContentBlock {
    Text {
        text: String,
        /// The block's `citations`, when it has some.
        citations: Option<Value>,
    },
    ToolUse {
        id: String,
        name: String,
        input: Value,
    },
    Thinking {
        thinking: String,
        signature: Option<String>,
    },
    RedactedThinking {
        data: String,
    },
    Native(Value),
}

#[derive(Deserialize)]
struct TextFields {
    #[serde(default)]
    text: String,
    #[serde(default)]
    citations: Option<Value>,
}

#[derive(Deserialize)]
struct ToolUseFields {
    #[serde(default)]
    id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    input: Value,
}

#[derive(Deserialize)]
struct ThinkingFields {
    #[serde(default)]
    thinking: String,
    #[serde(default)]
    signature: Option<String>,
}

#[derive(Deserialize)]
struct RedactedFields {
    #[serde(default)]
    data: String,
}

impl<'de> Deserialize<'de> for ContentBlock {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        let block = Value::deserialize(deserializer)?;
        let kind = block.get("type").and_then(Value::as_str).unwrap_or_default();
        Ok(match kind {
            "text" => {
                let TextFields { text, citations } =
                    serde_json::from_value(block).map_err(D::Error::custom)?;
                let citations = citations.filter(|citations| match citations {
                    Value::Null => false,
                    Value::Array(list) => !list.is_empty(),
                    _ => true,
                });
                ContentBlock::Text { text, citations }
            }
            "tool_use" => {
                let ToolUseFields { id, name, input } =
                    serde_json::from_value(block).map_err(D::Error::custom)?;
                ContentBlock::ToolUse { id, name, input }
            }
            "thinking" => {
                let ThinkingFields { thinking, signature } =
                    serde_json::from_value(block).map_err(D::Error::custom)?;
                ContentBlock::Thinking { thinking, signature }
            }
            "redacted_thinking" => {
                let RedactedFields { data } = serde_json::from_value(block).map_err(D::Error::custom)?;
                ContentBlock::RedactedThinking { data }
            }
            _ => ContentBlock::Native(block),
        })
    }
}

/// Server-side tool use as Anthropic counts it.
#[derive(Debug, Deserialize, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct WireServerToolUse {
    #[serde(default)]
    pub web_search_requests: Option<u32>,
    #[serde(default)]
    pub web_fetch_requests: Option<u32>,
}

#[derive(Debug, Deserialize, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct WireUsage {
    #[serde(default)]
    pub input_tokens: Option<u32>,
    #[serde(default)]
    pub output_tokens: Option<u32>,
    #[serde(default)]
    pub cache_creation_input_tokens: Option<u32>,
    #[serde(default)]
    pub cache_read_input_tokens: Option<u32>,
    #[serde(default)]
    pub output_tokens_details: Option<OutputTokensDetails>,
    #[serde(default)]
    pub server_tool_use: Option<WireServerToolUse>,
}

/// The part of the output spent thinking (counted in `output_tokens` too).
#[derive(Debug, Deserialize, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OutputTokensDetails {
    #[serde(default)]
    pub thinking_tokens: Option<u32>,
}

impl WireUsage {
    /// Takes the counts `later` reports, keeping ours where it is silent.
    pub(crate) fn update(&mut self, later: &WireUsage) {
        let keep = |mine: &mut Option<u32>, theirs: Option<u32>| {
            if theirs.is_some() {
                *mine = theirs;
            }
        };
        keep(&mut self.input_tokens, later.input_tokens);
        keep(&mut self.output_tokens, later.output_tokens);
        keep(&mut self.cache_creation_input_tokens, later.cache_creation_input_tokens);
        keep(&mut self.cache_read_input_tokens, later.cache_read_input_tokens);
        if later.output_tokens_details.is_some() {
            self.output_tokens_details = later.output_tokens_details;
        }
        if later.server_tool_use.is_some() {
            self.server_tool_use = later.server_tool_use;
        }
    }
}

/// The error body: `{"type": "error", "error": {"type": ..., "message": ...}}`, also a stream event.
#[derive(Debug, Deserialize, Default)]
pub(crate) struct ErrorBody {
    #[serde(default)]
    pub error: ErrorDetail,
    #[serde(default)]
    pub request_id: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
pub(crate) struct ErrorDetail {
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
}

// ---------------------------------------------------------------------------------------------------
// Stream
// ---------------------------------------------------------------------------------------------------

/// One server-sent event's JSON, discriminated by its `type` field.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum StreamEvent {
    MessageStart {
        /// Boxed: once per stream, and inline it would make every event as large as a whole message.
        message: Box<MessageResponse>,
    },
    ContentBlockStart {
        #[serde(default)]
        index: u32,
        content_block: ContentBlock,
    },
    ContentBlockDelta {
        #[serde(default)]
        index: u32,
        delta: BlockDelta,
    },
    ContentBlockStop {
        #[serde(default)]
        index: u32,
    },
    MessageDelta {
        #[serde(default)]
        delta: MessageDeltaBody,
        #[serde(default)]
        usage: WireUsage,
    },
    MessageStop,
    Ping,
    Error {
        #[serde(default)]
        error: ErrorDetail,
    },
    #[serde(other)]
    Unknown,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum BlockDelta {
    TextDelta {
        #[serde(default)]
        text: String,
    },
    InputJsonDelta {
        #[serde(default)]
        partial_json: String,
    },
    ThinkingDelta {
        #[serde(default)]
        thinking: String,
    },
    SignatureDelta {
        #[serde(default)]
        signature: String,
    },
    /// A citation added to the text block in progress.
    CitationsDelta {
        #[serde(default)]
        citation: Value,
    },
    /// `citations_delta` and anything newer.
    #[serde(other)]
    Other,
}

#[derive(Debug, Deserialize, Default)]
pub(crate) struct MessageDeltaBody {
    #[serde(default)]
    pub stop_reason: Option<String>,
}
