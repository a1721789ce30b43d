//! The Responses API's request and response documents, in OpenAI's JSON shapes. Lenient on input:
//! unknown fields are kept in `extra` maps or ignored, unknown item, part and tool types are kept whole
//! as `Other` JSON and written back unchanged.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

/// A `POST /v1/responses` body. Fields left `None` are not sent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResponsesRequest {
    /// The model, such as `gpt-4.1-mini` or `o4-mini`.
    pub model: String,
    /// The conversation so far: a text, or a list of items.
    pub input: ResponsesInput,
    /// A system (developer) message put before the input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instructions: Option<String>,
    /// Tools the model may call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<ResponsesTool>>,
    /// Whether and which tool the model must call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<ResponsesToolChoice>,
    /// The output format (`text.format`) and verbosity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<ResponsesTextConfig>,
    /// Reasoning effort and summaries, for reasoning models.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<ResponsesReasoningConfig>,
    /// The most output tokens, reasoning included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_output_tokens: Option<u32>,
    /// Sampling temperature, 0 to 2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    /// Nucleus sampling, 0 to 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    /// Whether the model may call several tools in one turn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallel_tool_calls: Option<bool>,
    /// Continues the conversation of a stored response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_response_id: Option<String>,
    /// Whether OpenAI stores the response (for `previous_response_id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store: Option<bool>,
    /// Up to 16 key-value pairs attached to the response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Map<String, Value>>,
    /// Groups requests that share a prompt prefix, for prompt caching.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_cache_key: Option<String>,
    /// `auto`, `default`, `flex`, `priority`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_tier: Option<String>,
    /// `auto` or `disabled`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub truncation: Option<String>,
    /// Extra output to include, such as `reasoning.encrypted_content`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include: Option<Vec<String>>,
    /// An end-user id (superseded by `safety_identifier` and `prompt_cache_key`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// A stable, hashed id of the end user, for abuse detection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub safety_identifier: Option<String>,
    /// Set by the client: `true` on streams, absent on one-shot calls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
    /// Fields this type does not model (`background`, `conversation`, `prompt`, `max_tool_calls`,
    /// `top_logprobs`, a compatible server's own options...), sent as they are.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The `input` of a request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ResponsesInput {
    /// One user message.
    Text(String),
    /// Messages, tool calls and their outputs, reasoning items...
    Items(Vec<ResponsesItem>),
}

impl Default for ResponsesInput {
    fn default() -> Self {
        ResponsesInput::Items(Vec::new())
    }
}

impl From<&str> for ResponsesInput {
    fn from(text: &str) -> Self {
        ResponsesInput::Text(text.to_owned())
    }
}

impl From<String> for ResponsesInput {
    fn from(text: String) -> Self {
        ResponsesInput::Text(text)
    }
}

impl From<Vec<ResponsesItem>> for ResponsesInput {
    fn from(items: Vec<ResponsesItem>) -> Self {
        ResponsesInput::Items(items)
    }
}

/// An item of the conversation: in a request's `input` and in a response's `output`, so that output
/// items can be sent back as they came.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
#[non_exhaustive]
pub enum ResponsesItem {
    /// A message from the user, the developer or the assistant.
    #[serde(rename = "message")]
    Message(ResponsesMessage),
    /// The model asks for a function call.
    #[serde(rename = "function_call")]
    FunctionCall(ResponsesFunctionCall),
    /// The result of a function call.
    #[serde(rename = "function_call_output")]
    FunctionCallOutput(ResponsesFunctionCallOutput),
    /// The model's reasoning: a summary, and the encrypted content to send back on later turns.
    #[serde(rename = "reasoning")]
    Reasoning(ResponsesReasoningItem),
    /// Any other item (a message without `type`, built-in tool calls, item references...), kept whole.
    #[serde(untagged)]
    Other(Value),
}

impl ResponsesItem {
    /// A message with `role` (`user`, `system`, `developer`, `assistant`) and a text.
    pub fn message(role: impl Into<String>, text: impl Into<String>) -> Self {
        ResponsesItem::Message(ResponsesMessage {
            id: None,
            role: role.into(),
            content: ResponsesMessageContent::Text(text.into()),
            status: None,
        })
    }

    /// The output of the function call `call_id`.
    pub fn function_call_output(call_id: impl Into<String>, output: impl Into<String>) -> Self {
        ResponsesItem::FunctionCallOutput(ResponsesFunctionCallOutput {
            id: None,
            call_id: call_id.into(),
            output: ResponsesFunctionOutput::Text(output.into()),
            status: None,
        })
    }
}

/// A `message` item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponsesMessage {
    /// Its id, on output messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `user`, `system`, `developer` or `assistant`.
    pub role: String,
    /// A text, or parts.
    pub content: ResponsesMessageContent,
    /// `in_progress`, `completed` or `incomplete`, on output messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

/// The content of a message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ResponsesMessageContent {
    /// Plain text.
    Text(String),
    /// Text, images, files; output text and refusals on assistant messages.
    Parts(Vec<ResponsesContentPart>),
}

/// A part of a message's content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
#[non_exhaustive]
pub enum ResponsesContentPart {
    /// Input text.
    #[serde(rename = "input_text")]
    InputText {
        /// The text.
        text: String,
    },
    /// An input image, by URL (or data URL) or file id.
    #[serde(rename = "input_image")]
    InputImage {
        /// An image URL or a `data:` URL.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        image_url: Option<String>,
        /// An uploaded file's id.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        file_id: Option<String>,
        /// `low`, `high` or `auto` (sent as `auto` when `None`, since OpenAI requires it).
        #[serde(default, serialize_with = "detail_or_auto")]
        detail: Option<String>,
    },
    /// An input file, by id, URL or inline data.
    #[serde(rename = "input_file")]
    InputFile {
        /// An uploaded file's id.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        file_id: Option<String>,
        /// The file's content as a `data:` URL.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        file_data: Option<String>,
        /// The file's URL.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        file_url: Option<String>,
        /// The file's name.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        filename: Option<String>,
    },
    /// Text the model wrote.
    #[serde(rename = "output_text")]
    OutputText {
        /// The text.
        text: String,
        /// Citations and file paths.
        #[serde(default)]
        annotations: Vec<Value>,
        /// Log probabilities, when asked for.
        #[serde(default)]
        logprobs: Vec<Value>,
    },
    /// The model declined to answer.
    #[serde(rename = "refusal")]
    Refusal {
        /// Why.
        refusal: String,
    },
    /// Any other part, kept whole.
    #[serde(untagged)]
    Other(Value),
}

fn detail_or_auto<S: Serializer>(detail: &Option<String>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(detail.as_deref().unwrap_or("auto"))
}

/// A `function_call` item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponsesFunctionCall {
    /// The item's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The id that the matching `function_call_output` refers to.
    pub call_id: String,
    /// The function's name.
    pub name: String,
    /// The arguments, as a JSON text.
    #[serde(default)]
    pub arguments: String,
    /// `in_progress`, `completed` or `incomplete`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

/// A `function_call_output` item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponsesFunctionCallOutput {
    /// The item's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The `call_id` of the call this answers.
    pub call_id: String,
    /// What the function returned.
    pub output: ResponsesFunctionOutput,
    /// `in_progress`, `completed` or `incomplete`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

/// What a function returned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ResponsesFunctionOutput {
    /// A text (often JSON).
    Text(String),
    /// Text, images and files.
    Parts(Vec<ResponsesContentPart>),
}

/// A `reasoning` item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponsesReasoningItem {
    /// The item's id.
    #[serde(default)]
    pub id: String,
    /// Summaries of the reasoning (when `reasoning.summary` asked for them).
    #[serde(default, deserialize_with = "null_as_default")]
    pub summary: Vec<ResponsesSummaryText>,
    /// The reasoning text itself, from models that expose it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<Vec<Value>>,
    /// The reasoning, encrypted: send it back on later turns when `store` is false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encrypted_content: Option<String>,
    /// `in_progress`, `completed` or `incomplete`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

/// A part of a reasoning summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename = "summary_text")]
pub struct ResponsesSummaryText {
    /// The summary's text.
    pub text: String,
}

/// A tool the model may call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
#[non_exhaustive]
pub enum ResponsesTool {
    /// A function of the caller's.
    #[serde(rename = "function")]
    Function(ResponsesFunctionTool),
    /// A built-in tool (`web_search`, `file_search`, `mcp`, `code_interpreter`...), as OpenAI spells it.
    #[serde(untagged)]
    Other(Value),
}

/// A function tool. Unlike chat completions, the fields are not nested under `function`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponsesFunctionTool {
    /// The function's name.
    pub name: String,
    /// What it does, for the model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// A JSON schema of its arguments (always sent, `null` when absent, as OpenAI requires).
    #[serde(default)]
    pub parameters: Option<Value>,
    /// Whether the arguments must match the schema exactly (always sent, `null` when absent).
    #[serde(default)]
    pub strict: Option<bool>,
}

/// The `tool_choice` of a request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ResponsesToolChoice {
    /// `none`, `auto` or `required`.
    Mode(String),
    /// One tool by type and name, such as `{"type": "function", "name": "get_weather"}`.
    Named {
        /// `function`, `custom`, `mcp`...
        #[serde(rename = "type")]
        kind: String,
        /// The tool's name.
        name: String,
    },
    /// Any other choice (`allowed_tools`, a built-in tool type), as OpenAI spells it.
    Other(Value),
}

impl ResponsesToolChoice {
    /// The function called `name`.
    pub fn function(name: impl Into<String>) -> Self {
        ResponsesToolChoice::Named { kind: "function".to_owned(), name: name.into() }
    }
}

/// The `text` of a request: output format and verbosity.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResponsesTextConfig {
    /// Plain text, a JSON object, or JSON matching a schema.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<ResponsesTextFormat>,
    /// `low`, `medium` or `high`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verbosity: Option<String>,
}

/// The output format.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
#[non_exhaustive]
pub enum ResponsesTextFormat {
    /// Plain text.
    #[serde(rename = "text")]
    Text,
    /// Any JSON object.
    #[serde(rename = "json_object")]
    JsonObject,
    /// JSON matching a schema (Structured Outputs). The fields are not nested under `json_schema`.
    #[serde(rename = "json_schema")]
    JsonSchema {
        /// The schema's name.
        name: String,
        /// The JSON schema.
        schema: Value,
        /// What the output is for.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        description: Option<String>,
        /// Whether the output must match the schema exactly.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        strict: Option<bool>,
    },
    /// Any other format, kept whole.
    #[serde(untagged)]
    Other(Value),
}

/// The `reasoning` of a request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResponsesReasoningConfig {
    /// `none`, `minimal`, `low`, `medium`, `high`, `xhigh`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effort: Option<String>,
    /// `auto`, `concise` or `detailed`: asks for reasoning summaries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
}

/// A response object: what `POST /v1/responses` returns, and what `response.*` stream events carry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResponsesResponse {
    /// The response's id (for `previous_response_id`).
    #[serde(default)]
    pub id: String,
    /// Always `response`.
    #[serde(default = "response_object")]
    pub object: String,
    /// When it was created, in Unix seconds.
    #[serde(default, deserialize_with = "unix_seconds")]
    pub created_at: u64,
    /// Where it stands.
    #[serde(default)]
    pub status: ResponsesStatus,
    /// The model that answered.
    #[serde(default)]
    pub model: String,
    /// Messages, function calls, reasoning items... in the order the model produced them.
    #[serde(default, deserialize_with = "null_as_default")]
    pub output: Vec<ResponsesItem>,
    /// Token counts, once the response is complete.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<ResponsesUsage>,
    /// Why the response failed, when it did (always written, `null` when not, as OpenAI does).
    #[serde(default)]
    pub error: Option<ResponsesError>,
    /// Why the response is incomplete, when it is.
    #[serde(default)]
    pub incomplete_details: Option<ResponsesIncompleteDetails>,
    /// Every other field (the request's parameters as applied, `instructions`, `tools`, `text`...), kept
    /// as it came.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `null` read as the type's default, as some servers write empty lists.
fn null_as_default<'de, D: Deserializer<'de>, T: Default + Deserialize<'de>>(
    deserializer: D,
) -> Result<T, D::Error> {
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// An error code as text, also when a server writes it as a number.
fn code_as_text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<Value>::deserialize(deserializer)? {
        Some(Value::String(code)) => Some(code),
        Some(Value::Number(code)) => Some(code.to_string()),
        _ => None,
    })
}

fn response_object() -> String {
    "response".to_owned()
}

/// Whole seconds, also when a server writes them as a float.
fn unix_seconds<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    let value = Option::<Value>::deserialize(deserializer)?;
    Ok(match value {
        Some(Value::Number(number)) => {
            number.as_u64().or_else(|| number.as_f64().filter(|seconds| *seconds >= 0.0).map(|s| s as u64))
        }
        _ => None,
    }
    .unwrap_or_default())
}

impl ResponsesResponse {
    /// The text of every `output_text` part of every message, joined: the answer, for most uses.
    pub fn output_text(&self) -> String {
        let mut text = String::new();
        for item in &self.output {
            let ResponsesItem::Message(message) = item else { continue };
            match &message.content {
                ResponsesMessageContent::Text(whole) => text.push_str(whole),
                ResponsesMessageContent::Parts(parts) => {
                    for part in parts {
                        if let ResponsesContentPart::OutputText { text: piece, .. } = part {
                            text.push_str(piece);
                        }
                    }
                }
            }
        }
        text
    }

    /// The function calls the model asks for, in order.
    pub fn function_calls(&self) -> impl Iterator<Item = &ResponsesFunctionCall> {
        self.output.iter().filter_map(|item| match item {
            ResponsesItem::FunctionCall(call) => Some(call),
            _ => None,
        })
    }
}

/// The `status` of a response.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ResponsesStatus {
    /// Done.
    #[default]
    Completed,
    /// Failed: see `error`.
    Failed,
    /// Being generated.
    InProgress,
    /// Cancelled.
    Cancelled,
    /// Waiting to start (background mode).
    Queued,
    /// Stopped early: see `incomplete_details`.
    Incomplete,
    /// A status this version does not know.
    #[serde(untagged)]
    Other(String),
}

/// Token counts of a response.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponsesUsage {
    /// Input tokens.
    #[serde(default)]
    pub input_tokens: u64,
    /// What the input tokens include.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_tokens_details: Option<ResponsesInputTokensDetails>,
    /// Output tokens, reasoning included.
    #[serde(default)]
    pub output_tokens: u64,
    /// What the output tokens include.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_tokens_details: Option<ResponsesOutputTokensDetails>,
    /// Input plus output.
    #[serde(default)]
    pub total_tokens: u64,
}

/// What a response's input tokens include.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponsesInputTokensDetails {
    /// Tokens read from the prompt cache.
    #[serde(default)]
    pub cached_tokens: u64,
    /// Tokens written to the prompt cache.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_write_tokens: Option<u64>,
}

/// What a response's output tokens include.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponsesOutputTokensDetails {
    /// Reasoning tokens.
    #[serde(default)]
    pub reasoning_tokens: u64,
}

/// Why a response failed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponsesError {
    /// Such as `server_error` or `rate_limit_exceeded` (a number from some compatible servers, as text).
    #[serde(default, deserialize_with = "code_as_text")]
    pub code: Option<String>,
    /// What happened.
    #[serde(default)]
    pub message: String,
}

/// Why a response is incomplete.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponsesIncompleteDetails {
    /// `max_output_tokens` or `content_filter`.
    #[serde(default)]
    pub reason: Option<String>,
}
