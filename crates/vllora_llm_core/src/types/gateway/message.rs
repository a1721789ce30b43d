//! Chat messages and their content parts.

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::provider_content::{OrderedBlocks, ProviderContent, ordered_blocks};
use super::tools::ToolCall;
use crate::provider::ProviderId;

/// Who wrote a message.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Role {
    /// Instructions from the application (`system`).
    System,
    /// Instructions from the application for reasoning models (`developer`).
    Developer,
    /// The end user.
    #[default]
    User,
    /// The model.
    Assistant,
    /// The result of a tool call.
    Tool,
    /// The result of a legacy function call.
    Function,
    /// A role this crate does not know, kept as written.
    Other(String),
}

impl Role {
    /// The role as it appears in OpenAI JSON.
    pub fn as_str(&self) -> &str {
        match self {
            Role::System => "system",
            Role::Developer => "developer",
            Role::User => "user",
            Role::Assistant => "assistant",
            Role::Tool => "tool",
            Role::Function => "function",
            Role::Other(other) => other,
        }
    }

    fn parse(value: &str) -> Role {
        match value {
            "system" => Role::System,
            "developer" => Role::Developer,
            "user" => Role::User,
            "assistant" => Role::Assistant,
            "tool" => Role::Tool,
            "function" => Role::Function,
            other => Role::Other(other.to_owned()),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

impl From<&str> for Role {
    fn from(value: &str) -> Self {
        Role::parse(value)
    }
}

impl From<String> for Role {
    fn from(value: String) -> Self {
        match Role::parse(&value) {
            Role::Other(_) => Role::Other(value),
            known => known,
        }
    }
}

impl Serialize for Role {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Role {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Cow::<'de, str>::deserialize(deserializer)?;
        Ok(Role::parse(&value))
    }
}

/// Prompt-caching breakpoint, as Anthropic defines it (`{"type": "ephemeral", "ttl": "1h"}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CacheControl {
    /// The kind of cache entry; only `ephemeral` exists.
    #[serde(rename = "type", default)]
    pub kind: CacheControlType,
    /// How long the entry lives; the provider's default (5 minutes) when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<CacheTtl>,
}

impl CacheControl {
    /// An ephemeral breakpoint with the provider's default lifetime.
    pub fn ephemeral() -> Self {
        CacheControl::default()
    }

    /// An ephemeral breakpoint with the given lifetime.
    pub fn ephemeral_with_ttl(ttl: CacheTtl) -> Self {
        CacheControl { kind: CacheControlType::Ephemeral, ttl: Some(ttl) }
    }
}

/// The kind of a cache entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CacheControlType {
    /// A cache entry that expires after its TTL.
    #[default]
    Ephemeral,
}

/// Lifetime of a cache entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CacheTtl {
    /// Five minutes (`"5m"`).
    #[serde(rename = "5m")]
    FiveMinutes,
    /// One hour (`"1h"`).
    #[serde(rename = "1h")]
    OneHour,
}

/// How much detail a vision model should use for an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImageDetail {
    /// Let the model choose.
    Auto,
    /// Low resolution.
    Low,
    /// High resolution.
    High,
}

/// An image given by URL or `data:` URI.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ImageUrl {
    /// An `http(s)` URL or a `data:<media type>;base64,<data>` URI.
    pub url: String,
    /// Resolution hint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<ImageDetail>,
}

/// Base64 audio input.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct InputAudio {
    /// Base64-encoded audio bytes.
    pub data: String,
    /// `wav` or `mp3`.
    pub format: String,
}

/// A file given inline or by id (PDFs, for example).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct FileInput {
    /// A `data:<media type>;base64,<data>` URI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_data: Option<String>,
    /// The id of an uploaded file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_id: Option<String>,
    /// The file's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
}

/// One part of a multi-part message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ContentPart {
    /// Text.
    Text {
        /// The text.
        text: String,
        /// Cache breakpoint after this part.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cache_control: Option<CacheControl>,
    },
    /// An image.
    ImageUrl {
        /// Where the image is.
        image_url: ImageUrl,
        /// Cache breakpoint after this part.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cache_control: Option<CacheControl>,
    },
    /// Audio input.
    InputAudio {
        /// The audio.
        input_audio: InputAudio,
        /// Cache breakpoint after this part.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cache_control: Option<CacheControl>,
    },
    /// A file (for example a PDF).
    File {
        /// The file.
        file: FileInput,
        /// Cache breakpoint after this part.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cache_control: Option<CacheControl>,
    },
    /// A refusal written by the model (assistant messages only).
    Refusal {
        /// The refusal text.
        refusal: String,
    },
}

impl ContentPart {
    /// A text part.
    pub fn text(text: impl Into<String>) -> Self {
        ContentPart::Text { text: text.into(), cache_control: None }
    }

    /// An image part from a URL or `data:` URI.
    pub fn image_url(url: impl Into<String>) -> Self {
        ContentPart::ImageUrl { image_url: ImageUrl { url: url.into(), detail: None }, cache_control: None }
    }

    /// The cache breakpoint of this part, if any.
    pub fn cache_control(&self) -> Option<&CacheControl> {
        match self {
            ContentPart::Text { cache_control, .. }
            | ContentPart::ImageUrl { cache_control, .. }
            | ContentPart::InputAudio { cache_control, .. }
            | ContentPart::File { cache_control, .. } => cache_control.as_ref(),
            ContentPart::Refusal { .. } => None,
        }
    }
}

/// Message content: a plain string or a list of parts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ChatCompletionContent {
    /// Plain text.
    Text(String),
    /// Several parts (text, images, audio, files).
    Parts(Vec<ContentPart>),
}

impl ChatCompletionContent {
    /// The text of this content: the string itself, or its text parts joined; `None` when there is no
    /// text at all.
    pub fn as_string(&self) -> Option<String> {
        match self {
            ChatCompletionContent::Text(text) => Some(text.clone()),
            ChatCompletionContent::Parts(parts) => {
                let mut texts = parts.iter().filter_map(|part| match part {
                    ContentPart::Text { text, .. } => Some(text.as_str()),
                    _ => None,
                });
                let first = texts.next()?;
                let mut joined = first.to_owned();
                texts.for_each(|text| joined.push_str(text));
                Some(joined)
            }
        }
    }

    /// The text when this content is a plain string, without copying it.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            ChatCompletionContent::Text(text) => Some(text),
            ChatCompletionContent::Parts(_) => None,
        }
    }
}

impl From<String> for ChatCompletionContent {
    fn from(text: String) -> Self {
        ChatCompletionContent::Text(text)
    }
}

impl From<&str> for ChatCompletionContent {
    fn from(text: &str) -> Self {
        ChatCompletionContent::Text(text.to_owned())
    }
}

/// The kind of a reasoning detail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum ReasoningDetailType {
    /// Readable reasoning text, possibly with a signature.
    #[serde(rename = "reasoning.text")]
    Text,
    /// Reasoning the provider returned encrypted or redacted (`data` holds it).
    #[serde(rename = "reasoning.encrypted")]
    Encrypted,
    /// A summary of the reasoning.
    #[serde(rename = "reasoning.summary")]
    Summary,
}

/// One block of model reasoning with what the provider needs to accept it back in a later turn.
///
/// `reasoning_content` carries the readable text for display; these details carry the blocks exactly as
/// the provider produced them (Anthropic `thinking` and `redacted_thinking`, Bedrock `reasoningContent`,
/// Gemini thought signatures) so a multi-turn conversation can send them back unchanged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReasoningDetail {
    /// What this block is.
    #[serde(rename = "type")]
    pub kind: ReasoningDetailType,
    /// The reasoning text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// The provider's signature over the text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    /// Opaque encrypted or redacted reasoning.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
    /// The provider that produced the block (`anthropic`, `bedrock`, `gemini`...); providers send back only
    /// their own blocks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
}

/// A reference to audio the model produced earlier.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct AssistantAudio {
    /// The audio's id.
    pub id: String,
    /// Base64 audio (responses only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
    /// Unix time when the audio stops being available (responses only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<u64>,
    /// Transcript of the audio (responses only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transcript: Option<String>,
}

/// One message of a conversation (request) or the model's answer (response).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ChatCompletionMessage {
    /// Who wrote it.
    pub role: Role,
    /// Text or parts; `None` for an assistant message made only of tool calls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<ChatCompletionContent>,
    /// An optional name for the participant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Tool calls made by the assistant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<Vec<ToolCall>>,
    /// For `tool` messages: the call this message answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
    /// A refusal written by the assistant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refusal: Option<String>,
    /// Audio produced by the assistant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio: Option<AssistantAudio>,
    /// The model's readable reasoning (extension; DeepSeek and vLLM use the same name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_content: Option<String>,
    /// The reasoning blocks with their signatures, sent back to the provider in later turns (extension).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_details: Option<Vec<ReasoningDetail>>,
    /// Cache breakpoint after the whole message (extension).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<CacheControl>,
    /// The provider's blocks in order, with the content that has no OpenAI field (server-side tool calls
    /// and results, citations, code execution, grounding...), sent back to the provider that produced them
    /// (extension; see [`ProviderContent`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_content: Option<Vec<ProviderContent>>,
    /// Citations of the answer (OpenAI's `annotations`: `url_citation`s from web search).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<Vec<Annotation>>,
}

/// An annotation of an assistant message's text, as OpenAI's Chat Completions writes it. Today OpenAI
/// sends `url_citation`s (web search); an annotation of another type keeps its fields in `other`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Annotation {
    /// `url_citation`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The cited web page and the span of the text it supports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url_citation: Option<UrlCitation>,
    /// The fields of an annotation type this crate does not know, as sent.
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

/// A web page cited by the answer.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct UrlCitation {
    /// Index of the first character of the text the citation supports.
    #[serde(default)]
    pub start_index: u32,
    /// Index after the last character of that text.
    #[serde(default)]
    pub end_index: u32,
    /// The page's URL.
    #[serde(default)]
    pub url: String,
    /// The page's title.
    #[serde(default)]
    pub title: String,
}

impl ChatCompletionMessage {
    /// A message with plain text content.
    pub fn new_text(role: impl Into<Role>, content: impl Into<String>) -> Self {
        ChatCompletionMessage {
            role: role.into(),
            content: Some(ChatCompletionContent::Text(content.into())),
            ..Default::default()
        }
    }

    /// A message made of parts.
    pub fn new_parts(role: impl Into<Role>, parts: Vec<ContentPart>) -> Self {
        ChatCompletionMessage {
            role: role.into(),
            content: Some(ChatCompletionContent::Parts(parts)),
            ..Default::default()
        }
    }

    /// The message's blocks in the order to send them to `provider`: the order its `provider_content`
    /// records when `provider` produced it, reasoning then text then tool calls otherwise.
    ///
    /// `text` is the message's text as the provider's translator reads it (the string content, or the text
    /// parts joined). The result counts other providers' native entries (to warn that they are dropped) and
    /// says when the recorded order no longer matches the message (to warn that the default order is used).
    pub fn blocks_for<'a>(&'a self, provider: &ProviderId, text: Option<&'a str>) -> OrderedBlocks<'a> {
        ordered_blocks(self, text, provider)
    }

    /// The text a translator sends with a message in its recorded block order (see
    /// [`blocks_for`](Self::blocks_for)): the string content, or the text parts joined; and whether the
    /// message also has parts other than text, which such a message cannot carry (to warn about).
    pub fn recorded_order_text(&self) -> (Option<std::borrow::Cow<'_, str>>, bool) {
        match &self.content {
            None => (None, false),
            Some(ChatCompletionContent::Text(text)) => {
                (Some(std::borrow::Cow::Borrowed(text.as_str())), false)
            }
            Some(content @ ChatCompletionContent::Parts(parts)) => {
                let other_parts = parts.iter().any(|part| !matches!(part, ContentPart::Text { .. }));
                (content.as_string().map(std::borrow::Cow::Owned), other_parts)
            }
        }
    }

    /// A `tool` message answering the call `tool_call_id`.
    pub fn new_tool_result(tool_call_id: impl Into<String>, content: impl Into<String>) -> Self {
        ChatCompletionMessage {
            role: Role::Tool,
            content: Some(ChatCompletionContent::Text(content.into())),
            tool_call_id: Some(tool_call_id.into()),
            ..Default::default()
        }
    }
}
