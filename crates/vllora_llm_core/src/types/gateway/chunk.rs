//! Streaming chunks.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::message::{ReasoningDetail, Role};
use super::provider_content::ProviderContent;
use super::response::{ChoiceLogprobs, FinishReason};
use super::shared_str::SharedStr;
use super::usage::Usage;

/// A fragment of a tool call. The first fragment of a call carries its `id` and name; later ones append
/// to `arguments`. Fragments of one call share an `index`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ToolCallDelta {
    /// Which call this fragment belongs to.
    #[serde(default)]
    pub index: u32,
    /// The call's id (first fragment).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Always `function` (first fragment).
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Name (first fragment) and a piece of the arguments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<FunctionCallDelta>,
    /// Provider data to send back with the call (see `ToolCall::extra_content`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra_content: Option<Value>,
}

/// Name and argument fragment of a tool call.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct FunctionCallDelta {
    /// The function's name (first fragment).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A piece of the JSON arguments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arguments: Option<String>,
}

/// What a chunk adds to a choice.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ChatCompletionDelta {
    /// The role (first chunk).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    /// A piece of the answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// A piece of the model's reasoning (extension).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_content: Option<String>,
    /// Reasoning blocks or their signatures to send back later (extension).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_details: Option<Vec<ReasoningDetail>>,
    /// Tool call fragments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<Vec<ToolCallDelta>>,
    /// A piece of a refusal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refusal: Option<String>,
    /// Entries of the message's block order, as they become known; appended in arrival order they give the
    /// one-shot message's `provider_content` (extension; see [`ProviderContent`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_content: Option<Vec<ProviderContent>>,
    /// Citations of the answer (OpenAI's `annotations`), as they arrive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<Vec<super::message::Annotation>>,
}

/// One choice's part of a chunk.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ChunkChoice {
    /// Which choice.
    #[serde(default)]
    pub index: u32,
    /// What it adds.
    #[serde(default)]
    pub delta: ChatCompletionDelta,
    /// Set once, on the choice's last chunk.
    #[serde(default)]
    pub finish_reason: Option<FinishReason>,
    /// Log probabilities of this chunk's tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logprobs: Option<ChoiceLogprobs>,
    /// The provider's own finish reason (`end_turn`, `pause_turn`, `MAX_TOKENS`, `UNEXPECTED_TOOL_CALL`...),
    /// beside the unified `finish_reason`, on the same chunk. Not part of OpenAI's JSON: it is not
    /// serialised, so a chunk's JSON stays exactly OpenAI's.
    #[serde(skip)]
    pub raw_finish_reason: Option<SharedStr>,
}

/// One streamed chunk in OpenAI's shape. The last chunk of a stream carries `usage` and no choices.
///
/// The fields that are the same on every chunk of a stream are shared ([`SharedStr`], a static `object`), so
/// a provider hands them to each chunk without allocating: a stream event costs its content, not its
/// metadata.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ChatCompletionChunk {
    /// The completion's id, the same on every chunk.
    #[serde(default)]
    pub id: SharedStr,
    /// Always `chat.completion.chunk`.
    #[serde(default = "chunk_object")]
    pub object: Cow<'static, str>,
    /// Unix time of creation.
    #[serde(default)]
    pub created: u64,
    /// The model.
    #[serde(default)]
    pub model: SharedStr,
    /// Per-choice deltas; empty on the usage chunk.
    #[serde(default)]
    pub choices: Vec<ChunkChoice>,
    /// Token usage (final chunk).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    /// Backend configuration fingerprint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_fingerprint: Option<SharedStr>,
    /// The tier that served the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_tier: Option<SharedStr>,
}

/// The `object` of every chunk.
pub const CHUNK_OBJECT: &str = "chat.completion.chunk";

fn chunk_object() -> Cow<'static, str> {
    Cow::Borrowed(CHUNK_OBJECT)
}
