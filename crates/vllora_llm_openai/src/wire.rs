//! OpenAI's Chat Completions JSON as serde types: borrowed on the way out (nothing is copied to build a
//! body), lenient on the way in (every field optional, `null` welcome, unknown fields ignored), because
//! OpenAI-compatible servers each bend the format a little.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use vllora_llm_core::types::gateway::{
    AudioOutput, ChatCompletionTool, ChoiceLogprobs, FileInput, FunctionCall, FunctionDefinition, ImageUrl,
    InputAudio, Prediction, ReasoningEffort, ResponseFormat, StreamOptions, ToolChoice, Verbosity,
};

// ---------------------------------------------------------------------------------------------------
// Request

/// The body of `POST /chat/completions`. Field order follows the gateway type, so a request that uses
/// no extension serialises to the same bytes either way.
#[derive(Debug, Serialize)]
pub(crate) struct ChatBody<'a> {
    pub model: &'a str,
    pub messages: Vec<Message<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audio: Option<&'a AudioOutput>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frequency_penalty: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub function_call: Option<&'a Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub functions: Option<&'a [FunctionDefinition]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logit_bias: Option<&'a BTreeMap<String, i32>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logprobs: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_completion_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<&'a BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub modalities: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub n: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parallel_tool_calls: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prediction: Option<&'a Prediction>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub presence_penalty: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prompt_cache_key: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prompt_cache_retention: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasoning_effort: Option<ReasoningEffort>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_format: Option<&'a ResponseFormat>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub safety_identifier: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_tier: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub store: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream_options: Option<StreamOptions>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<&'a ToolChoice>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<Tool<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_logprobs: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verbosity: Option<Verbosity>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub web_search_options: Option<&'a Value>,
}

/// The top-level fields of [`ChatBody`]: a server-specific option of the same name never overrides them.
pub(crate) const BODY_FIELDS: &[&str] = &[
    "model",
    "messages",
    "audio",
    "frequency_penalty",
    "function_call",
    "functions",
    "logit_bias",
    "logprobs",
    "max_completion_tokens",
    "max_tokens",
    "metadata",
    "modalities",
    "n",
    "parallel_tool_calls",
    "prediction",
    "presence_penalty",
    "prompt_cache_key",
    "prompt_cache_retention",
    "reasoning_effort",
    "response_format",
    "safety_identifier",
    "seed",
    "service_tier",
    "stop",
    "store",
    "stream",
    "stream_options",
    "temperature",
    "tool_choice",
    "tools",
    "top_logprobs",
    "top_p",
    "user",
    "verbosity",
    "web_search_options",
];

/// A request message without the gateway's extensions.
#[derive(Debug, Serialize)]
pub(crate) struct Message<'a> {
    pub role: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<Content<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<Vec<ToolCall<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refusal: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audio: Option<AudioReference<'a>>,
}

/// Message content: text or parts.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub(crate) enum Content<'a> {
    Text(&'a str),
    Parts(Vec<Part<'a>>),
}

/// A content part without `cache_control`.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum Part<'a> {
    Text { text: &'a str },
    ImageUrl { image_url: &'a ImageUrl },
    InputAudio { input_audio: &'a InputAudio },
    File { file: &'a FileInput },
    Refusal { refusal: &'a str },
}

/// An earlier audio answer, referred to by id (the only field OpenAI takes back).
#[derive(Debug, Serialize)]
pub(crate) struct AudioReference<'a> {
    pub id: &'a str,
}

/// A tool call of an earlier assistant turn.
#[derive(Debug, Serialize)]
pub(crate) struct ToolCall<'a> {
    pub id: &'a str,
    #[serde(rename = "type")]
    pub kind: &'a str,
    pub function: &'a FunctionCall,
    /// Sent to OpenAI-compatible servers only (Gemini's OpenAI endpoint needs its thought signatures).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extra_content: Option<&'a Value>,
}

/// A tool without `cache_control`.
#[derive(Debug, Serialize)]
pub(crate) struct Tool<'a> {
    #[serde(rename = "type")]
    pub kind: &'a str,
    pub function: &'a FunctionDefinition,
}

impl<'a> From<&'a ChatCompletionTool> for Tool<'a> {
    fn from(tool: &'a ChatCompletionTool) -> Self {
        Tool { kind: &tool.kind, function: &tool.function }
    }
}

// ---------------------------------------------------------------------------------------------------
// Response

/// `null` and absence both mean the default.
pub(crate) fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// A Unix time as an integer, a float, or nothing.
pub(crate) fn lenient_time<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    Ok(match Option::<Value>::deserialize(deserializer)? {
        Some(Value::Number(number)) => {
            number.as_u64().or_else(|| number.as_f64().filter(|time| *time >= 0.0).map(|time| time as u64))
        }
        _ => None,
    }
    .unwrap_or(0))
}

/// A one-shot response.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ChatResponse {
    #[serde(default, deserialize_with = "null_as_default")]
    pub id: String,
    #[serde(default, deserialize_with = "lenient_time")]
    pub created: u64,
    #[serde(default, deserialize_with = "null_as_default")]
    pub model: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub choices: Vec<ResponseChoice>,
    #[serde(default)]
    pub usage: Option<WireUsage>,
    #[serde(default)]
    pub system_fingerprint: Option<String>,
    #[serde(default)]
    pub service_tier: Option<String>,
    /// Some servers answer 200 with an error body.
    #[serde(default)]
    pub error: Option<Value>,
}

/// One choice of a one-shot response.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ResponseChoice {
    #[serde(default, deserialize_with = "null_as_default")]
    pub index: u32,
    #[serde(default, deserialize_with = "null_as_default")]
    pub message: ResponseMessage,
    #[serde(default)]
    pub finish_reason: Option<String>,
    #[serde(default)]
    pub logprobs: Option<ChoiceLogprobs>,
}

/// The assistant message of a choice.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ResponseMessage {
    #[serde(default)]
    pub role: Option<String>,
    #[serde(default, deserialize_with = "text_or_parts")]
    pub content: Option<String>,
    #[serde(default)]
    pub refusal: Option<String>,
    #[serde(default)]
    pub tool_calls: Option<Vec<ResponseToolCall>>,
    /// The legacy single function call.
    #[serde(default)]
    pub function_call: Option<FunctionCall>,
    #[serde(default)]
    pub audio: Option<vllora_llm_core::types::gateway::AssistantAudio>,
    /// DeepSeek, older vLLM and SGLang.
    #[serde(default)]
    pub reasoning_content: Option<String>,
    /// Newer vLLM, Groq, OpenRouter, Ollama.
    #[serde(default)]
    pub reasoning: Option<String>,
}

/// A tool call in a one-shot response.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ResponseToolCall {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub function: Option<ResponseFunction>,
    #[serde(default)]
    pub extra_content: Option<Value>,
}

/// The function of a tool call; `arguments` may come as a JSON object from lax servers.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ResponseFunction {
    #[serde(default, deserialize_with = "null_as_default")]
    pub name: String,
    #[serde(default, deserialize_with = "arguments_text")]
    pub arguments: String,
}

/// Content as a string, or a list of parts whose text is joined (some servers answer in parts).
fn text_or_parts<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    struct TextPart {
        #[serde(default)]
        text: Option<String>,
    }
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum TextOrParts {
        Text(String),
        Parts(Vec<TextPart>),
    }
    Ok(match Option::<TextOrParts>::deserialize(deserializer)? {
        None => None,
        Some(TextOrParts::Text(text)) => Some(text),
        Some(TextOrParts::Parts(parts)) => Some(parts.into_iter().filter_map(|part| part.text).collect()),
    })
}

/// Arguments as JSON text; an object is written back to text.
fn arguments_text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    Ok(match Option::<Value>::deserialize(deserializer)? {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(text)) => text,
        Some(other) => other.to_string(),
    })
}

/// Usage, with the places compatible servers put cache hits.
#[derive(Debug, Default, Clone, Copy, Deserialize)]
pub(crate) struct WireUsage {
    #[serde(default, deserialize_with = "null_as_default")]
    pub prompt_tokens: u32,
    #[serde(default, deserialize_with = "null_as_default")]
    pub completion_tokens: u32,
    #[serde(default)]
    pub total_tokens: Option<u32>,
    #[serde(default)]
    pub prompt_tokens_details: Option<vllora_llm_core::types::gateway::PromptTokensDetails>,
    #[serde(default)]
    pub completion_tokens_details: Option<vllora_llm_core::types::gateway::CompletionTokensDetails>,
    /// DeepSeek reports cache hits here.
    #[serde(default)]
    pub prompt_cache_hit_tokens: Option<u32>,
}

// ---------------------------------------------------------------------------------------------------
// Stream

/// A string that borrows from the event when it holds no escapes (most stream text does not), so
/// decoding an event copies nothing before the gateway chunk is built.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct WireStr<'a>(pub Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for WireStr<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl<'de> serde::de::Visitor<'de> for TextVisitor {
            type Value = WireStr<'de>;
            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("a string")
            }
            fn visit_borrowed_str<E: serde::de::Error>(self, text: &'de str) -> Result<Self::Value, E> {
                Ok(WireStr(Cow::Borrowed(text)))
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Self::Value, E> {
                Ok(WireStr(Cow::Owned(text.to_owned())))
            }
            fn visit_string<E: serde::de::Error>(self, text: String) -> Result<Self::Value, E> {
                Ok(WireStr(Cow::Owned(text)))
            }
        }
        deserializer.deserialize_str(TextVisitor)
    }
}

impl WireStr<'_> {
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

/// One `data:` event of a stream.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct StreamChunk<'a> {
    #[serde(default, borrow)]
    pub id: Option<WireStr<'a>>,
    #[serde(default, deserialize_with = "lenient_time")]
    pub created: u64,
    #[serde(default, borrow)]
    pub model: Option<WireStr<'a>>,
    #[serde(default, borrow, deserialize_with = "null_as_default")]
    pub choices: Vec<StreamChoice<'a>>,
    #[serde(default)]
    pub usage: Option<WireUsage>,
    #[serde(default, borrow)]
    pub system_fingerprint: Option<WireStr<'a>>,
    #[serde(default, borrow)]
    pub service_tier: Option<WireStr<'a>>,
    /// A mid-stream error.
    #[serde(default)]
    pub error: Option<Value>,
    /// Groq reports usage here, on the last chunk.
    #[serde(default)]
    pub x_groq: Option<GroqExtras>,
}

/// Groq's extra object.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct GroqExtras {
    #[serde(default)]
    pub usage: Option<WireUsage>,
}

/// One choice's part of a stream event.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct StreamChoice<'a> {
    #[serde(default)]
    pub index: Option<u32>,
    #[serde(default, borrow, deserialize_with = "null_as_default")]
    pub delta: StreamDelta<'a>,
    #[serde(default, borrow)]
    pub finish_reason: Option<WireStr<'a>>,
    #[serde(default)]
    pub logprobs: Option<ChoiceLogprobs>,
}

/// What an event adds to a choice.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct StreamDelta<'a> {
    #[serde(default, borrow)]
    pub role: Option<WireStr<'a>>,
    #[serde(default, borrow)]
    pub content: Option<WireStr<'a>>,
    #[serde(default, borrow)]
    pub reasoning_content: Option<WireStr<'a>>,
    #[serde(default, borrow)]
    pub reasoning: Option<WireStr<'a>>,
    #[serde(default, borrow)]
    pub refusal: Option<WireStr<'a>>,
    #[serde(default, borrow)]
    pub tool_calls: Option<Vec<StreamToolCall<'a>>>,
}

/// A tool call fragment.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct StreamToolCall<'a> {
    #[serde(default)]
    pub index: Option<u32>,
    #[serde(default, borrow)]
    pub id: Option<WireStr<'a>>,
    #[serde(default, borrow)]
    pub function: Option<StreamFunction<'a>>,
    #[serde(default)]
    pub extra_content: Option<Value>,
}

/// Name and argument fragment of a tool call.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct StreamFunction<'a> {
    #[serde(default, borrow)]
    pub name: Option<WireStr<'a>>,
    #[serde(default, borrow)]
    pub arguments: Option<WireStr<'a>>,
}

// ---------------------------------------------------------------------------------------------------
// Errors

/// OpenAI's error body, `{"error": {...}}`, and the shapes compatible servers use instead.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ErrorBody {
    #[serde(default)]
    pub error: Option<Value>,
    /// FastAPI servers (older vLLM) say `{"detail": "..."}`.
    #[serde(default)]
    pub detail: Option<Value>,
    #[serde(default)]
    pub message: Option<Value>,
}
