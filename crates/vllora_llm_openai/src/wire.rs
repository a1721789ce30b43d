//! OpenAI's Chat Completions JSON as serde types: borrowed on the way out (nothing is copied to build a
//! body), lenient on the way in (every field optional, `null` welcome, unknown fields ignored), because
//! OpenAI-compatible servers each bend the format a little.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use vllora_llm_core::types::gateway::{
    Annotation, AudioOutput, CacheControl, ChatCompletionTool, ChoiceLogprobs, FileInput, FunctionCall,
    FunctionDefinition, ImageUrl, InputAudio, Prediction, ReasoningEffort, ResponseFormat, StreamOptions,
    Role, ToolChoice, Verbosity,
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
    /// The assistant's reasoning, for hosts that need it back (DeepSeek's thinking mode with tools, vLLM's
    /// chat templates).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasoning_content: Option<&'a str>,
    /// OpenRouter's reasoning blocks, sent back so the upstream model keeps its reasoning.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasoning_details: Option<Vec<OpenRouterReasoning<'a>>>,
}

/// A reasoning block in OpenRouter's shape (`reasoning.text`, `reasoning.summary`, `reasoning.encrypted`).
#[derive(Debug, Serialize)]
pub(crate) struct OpenRouterReasoning<'a> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<&'a str>,
    /// OpenRouter's other fields of the block as it sent them (`format`, `id`, `index`), kept in the
    /// message's `provider_content`.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub other: Option<&'a serde_json::Map<String, Value>>,
}

/// Message content: text or parts.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub(crate) enum Content<'a> {
    Text(&'a str),
    Parts(Vec<Part<'a>>),
    /// Parts and chunks a host sent that this crate does not model, sent back as they came.
    Chunks(Vec<Chunk<'a>>),
}

/// A content chunk: one this crate writes, or one kept as the host sent it.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub(crate) enum Chunk<'a> {
    Part(Part<'a>),
    Raw(&'a Value),
}

/// A content part; `cache_control` only for hosts that take it (OpenRouter).
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum Part<'a> {
    Text {
        text: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        cache_control: Option<&'a CacheControl>,
    },
    /// Mistral's reasoning chunk, for an assistant message sent back to Mistral.
    Thinking {
        thinking: [ThinkingText<'a>; 1],
    },
    ImageUrl {
        image_url: &'a ImageUrl,
    },
    InputAudio {
        input_audio: &'a InputAudio,
    },
    File {
        file: &'a FileInput,
    },
    Refusal {
        refusal: &'a str,
    },
}

/// The text of a Mistral thinking chunk.
#[derive(Debug, Serialize)]
pub(crate) struct ThinkingText<'a> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub text: &'a str,
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

/// A role's name (or `null`) as the gateway's [`Role`], without copying the name of a known role.
fn role_name<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Role>, D::Error> {
    struct RoleName;

    impl<'de> serde::de::Visitor<'de> for RoleName {
        type Value = Option<Role>;

        fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            formatter.write_str("a role name or null")
        }

        fn visit_str<E: serde::de::Error>(self, name: &str) -> Result<Option<Role>, E> {
            Ok(Some(Role::from(name)))
        }

        fn visit_string<E: serde::de::Error>(self, name: String) -> Result<Option<Role>, E> {
            Ok(Some(Role::from(name)))
        }

        fn visit_none<E: serde::de::Error>(self) -> Result<Option<Role>, E> {
            Ok(None)
        }

        fn visit_unit<E: serde::de::Error>(self) -> Result<Option<Role>, E> {
            Ok(None)
        }

        fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Option<Role>, D::Error> {
            deserializer.deserialize_str(self)
        }
    }

    deserializer.deserialize_option(RoleName)
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
    /// Read without a copy: a known role is a constant, only an unknown one is kept as sent.
    #[serde(default, deserialize_with = "role_name")]
    pub role: Option<Role>,
    #[serde(default)]
    pub content: Option<MessageContent>,
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
    /// OpenRouter's reasoning blocks.
    #[serde(default)]
    pub reasoning_details: Option<Vec<Value>>,
    /// OpenAI's url citations (web search).
    #[serde(default)]
    pub annotations: Option<Vec<Annotation>>,
}

/// Message content as hosts send it: a string, or typed chunks (Mistral's `text` and `thinking`, lax
/// servers' untyped text parts).
#[derive(Debug)]
pub(crate) enum MessageContent {
    Text(String),
    Chunks(Vec<ContentChunk>),
}

/// Chosen by the JSON type, by hand: `#[serde(untagged)]` buffers the whole value (every answer's text
/// copied once more) before trying each variant.
impl<'de> Deserialize<'de> for MessageContent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ContentVisitor;

        impl<'de> serde::de::Visitor<'de> for ContentVisitor {
            type Value = MessageContent;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("a string or an array of content chunks")
            }

            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<MessageContent, E> {
                Ok(MessageContent::Text(text.to_owned()))
            }

            fn visit_string<E: serde::de::Error>(self, text: String) -> Result<MessageContent, E> {
                Ok(MessageContent::Text(text))
            }

            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, chunks: A) -> Result<MessageContent, A::Error> {
                let chunks = serde::de::value::SeqAccessDeserializer::new(chunks);
                Vec::<ContentChunk>::deserialize(chunks).map(MessageContent::Chunks)
            }
        }

        deserializer.deserialize_any(ContentVisitor)
    }
}

/// One typed content chunk.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ContentChunk {
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub text: Option<String>,
    /// Mistral: a list of text chunks (or, leniently, a string).
    #[serde(default)]
    pub thinking: Option<Value>,
    /// Everything else the chunk holds, kept for chunks of a kind this crate does not read.
    #[serde(flatten)]
    pub rest: serde_json::Map<String, Value>,
}

/// What content chunks say: the answer, the reasoning, and the chunks of kinds not read here.
#[derive(Debug, Default)]
pub(crate) struct SplitContent {
    pub text: Option<String>,
    pub thinking: Option<String>,
    /// The answer's chunks in order when one of them is of a kind no gateway field holds (Mistral's
    /// `reference` chunks): text chunks by length, the others whole. Empty otherwise.
    pub blocks: Vec<ChunkBlock>,
}

/// One chunk of an answer, in order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ChunkBlock {
    /// The next `len` bytes of the text.
    Text(usize),
    /// A chunk of another kind, as the host sent it.
    Native(Value),
}

impl MessageContent {
    /// The answer and the reasoning.
    pub(crate) fn split(self) -> SplitContent {
        match self {
            MessageContent::Text(text) => SplitContent { text: Some(text), ..Default::default() },
            MessageContent::Chunks(chunks) => split_chunks(chunks),
        }
    }
}

/// Joins the text chunks and the thinking chunks apart; other kinds are returned whole.
pub(crate) fn split_chunks(chunks: Vec<ContentChunk>) -> SplitContent {
    let mut split = SplitContent::default();
    let mut native = false;
    let append =
        |target: &mut Option<String>, text: &str| target.get_or_insert_with(String::new).push_str(text);
    for chunk in chunks {
        match (chunk.kind.as_deref(), &chunk.text, &chunk.thinking) {
            (Some("text") | None, Some(text), _) => {
                append(&mut split.text, text);
                split.blocks.push(ChunkBlock::Text(text.len()));
            }
            (Some("thinking"), _, Some(thinking)) => match thinking {
                Value::String(text) => append(&mut split.thinking, text),
                Value::Array(parts) => {
                    for part in parts {
                        match part.get("text").and_then(Value::as_str) {
                            Some(text) => append(&mut split.thinking, text),
                            None => {
                                native = true;
                                split.blocks.push(ChunkBlock::Native(serde_json::json!({
                                    "type": "thinking", "thinking": [part]
                                })));
                            }
                        }
                    }
                }
                other => {
                    native = true;
                    split
                        .blocks
                        .push(ChunkBlock::Native(serde_json::json!({"type": "thinking", "thinking": other})));
                }
            },
            _ => {
                let mut whole = chunk.rest;
                if let Some(kind) = chunk.kind {
                    whole.insert("type".to_owned(), Value::String(kind));
                }
                if let Some(text) = chunk.text {
                    whole.insert("text".to_owned(), Value::String(text));
                }
                if let Some(thinking) = chunk.thinking {
                    whole.insert("thinking".to_owned(), thinking);
                }
                native = true;
                split.blocks.push(ChunkBlock::Native(Value::Object(whole)));
            }
        }
    }
    if !native {
        split.blocks.clear();
    }
    split
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

/// One `data:` event of a stream. Parsed in place by [`parse_stream_chunk`], not with a derived
/// `Deserialize`: serde's derived visitors build each struct in locals and move it out level by level,
/// and these structs are large (the first choice is held inline), so every event paid several copies of
/// hundreds of bytes.
#[derive(Debug, Default)]
pub(crate) struct StreamChunk<'a> {
    pub id: Option<WireStr<'a>>,
    pub created: u64,
    pub model: Option<WireStr<'a>>,
    pub choices: StreamChoices<'a>,
    pub usage: Option<WireUsage>,
    pub system_fingerprint: Option<WireStr<'a>>,
    pub service_tier: Option<WireStr<'a>>,
    /// A mid-stream error.
    pub error: Option<Value>,
    /// Groq reports usage here, on the last chunk.
    pub x_groq: Option<GroqExtras>,
}

/// Parses one stream event into `chunk` (a default one), field by field in place. The same rules as a
/// derived `Deserialize` with every field `#[serde(default)]`: the event must be a JSON object, a field
/// given twice is an error, unknown fields are skipped, `null` is none (and for `delta`, the default).
pub(crate) fn parse_stream_chunk<'a>(data: &'a str, chunk: &mut StreamChunk<'a>) -> serde_json::Result<()> {
    let mut deserializer = serde_json::Deserializer::from_str(data);
    serde::de::DeserializeSeed::deserialize(Fill { target: chunk, nullable: false }, &mut deserializer)?;
    deserializer.end()
}

/// A wire struct read field by field into place.
trait FillFields<'de> {
    /// What errors call the struct.
    const NAME: &'static str;

    /// The fields read, by number (fewer than 32).
    const FIELDS: &'static [&'static str];

    /// The number of the field `name` in [`FIELDS`](Self::FIELDS), if it is read.
    fn field(name: &str) -> Option<u32>;

    /// Reads the value of field number `field` into `self`.
    fn fill<A: serde::de::MapAccess<'de>>(&mut self, field: u32, map: &mut A) -> Result<(), A::Error>;
}

/// A key of a struct's object, read as the number of its field (`None`: a field not read), as serde's
/// derived field identifiers are: no string is built for it.
struct FieldOf<T>(std::marker::PhantomData<T>);

impl<'de, T: FillFields<'de>> serde::de::DeserializeSeed<'de> for FieldOf<T> {
    type Value = Option<u32>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Option<u32>, D::Error> {
        deserializer.deserialize_identifier(self)
    }
}

impl<'de, T: FillFields<'de>> serde::de::Visitor<'de> for FieldOf<T> {
    type Value = Option<u32>;

    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("a field name")
    }

    fn visit_str<E: serde::de::Error>(self, name: &str) -> Result<Option<u32>, E> {
        Ok(T::field(name))
    }

    fn visit_bytes<E: serde::de::Error>(self, name: &[u8]) -> Result<Option<u32>, E> {
        Ok(std::str::from_utf8(name).ok().and_then(T::field))
    }
}

/// Reads a JSON object into `target` in place (`null` too, leaving it as it is, when `nullable`).
struct Fill<'t, T> {
    target: &'t mut T,
    nullable: bool,
}

impl<'de, T: FillFields<'de>> serde::de::DeserializeSeed<'de> for Fill<'_, T> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        if self.nullable { deserializer.deserialize_option(self) } else { deserializer.deserialize_map(self) }
    }
}

impl<'de, T: FillFields<'de>> serde::de::Visitor<'de> for Fill<'_, T> {
    type Value = ();

    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "struct {}", T::NAME)
    }

    fn visit_none<E: serde::de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        // The fields read so far: a repeated one is refused.
        let mut seen = 0_u32;
        while let Some(field) = map.next_key_seed(FieldOf::<T>(std::marker::PhantomData))? {
            let Some(field) = field else {
                map.next_value::<serde::de::IgnoredAny>()?;
                continue;
            };
            let mask = 1_u32.checked_shl(field).unwrap_or(0);
            if seen & mask != 0 {
                let name = T::FIELDS.get(field as usize).copied().unwrap_or_default();
                return Err(serde::de::Error::duplicate_field(name));
            }
            seen |= mask;
            self.target.fill(field, &mut map)?;
        }
        Ok(())
    }
}

/// What [`lenient_time`] reads, read without building a `Value`: a Unix time as an integer or a float;
/// anything else (skipped) is 0.
struct LenientTime;

impl<'de> serde::de::DeserializeSeed<'de> for LenientTime {
    type Value = u64;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<u64, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for LenientTime {
    type Value = u64;

    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("a Unix time")
    }

    fn visit_u64<E: serde::de::Error>(self, time: u64) -> Result<u64, E> {
        Ok(time)
    }

    fn visit_i64<E: serde::de::Error>(self, time: i64) -> Result<u64, E> {
        Ok(u64::try_from(time).unwrap_or(0))
    }

    fn visit_f64<E: serde::de::Error>(self, time: f64) -> Result<u64, E> {
        Ok(if time >= 0.0 { time as u64 } else { 0 })
    }

    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<u64, E> {
        Ok(0)
    }

    fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<u64, E> {
        Ok(0)
    }

    fn visit_bytes<E: serde::de::Error>(self, _: &[u8]) -> Result<u64, E> {
        Ok(0)
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<u64, E> {
        Ok(0)
    }

    fn visit_none<E: serde::de::Error>(self) -> Result<u64, E> {
        Ok(0)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<u64, D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<u64, A::Error> {
        while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
        Ok(0)
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<u64, A::Error> {
        while map.next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?.is_some() {}
        Ok(0)
    }
}

/// An optional string (`null` is none), read in one step: serde's `Option` first looks for `null`, then
/// reads the string as a second value.
struct OptStr;

impl<'de> serde::de::DeserializeSeed<'de> for OptStr {
    type Value = Option<WireStr<'de>>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for OptStr {
    type Value = Option<WireStr<'de>>;

    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("a string or null")
    }

    fn visit_borrowed_str<E: serde::de::Error>(self, text: &'de str) -> Result<Self::Value, E> {
        Ok(Some(WireStr(Cow::Borrowed(text))))
    }

    fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Self::Value, E> {
        Ok(Some(WireStr(Cow::Owned(text.to_owned()))))
    }

    fn visit_string<E: serde::de::Error>(self, text: String) -> Result<Self::Value, E> {
        Ok(Some(WireStr(Cow::Owned(text))))
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> FillFields<'de> for StreamChunk<'de> {
    const NAME: &'static str = "StreamChunk";
    const FIELDS: &'static [&'static str] = &[
        "id",
        "created",
        "model",
        "choices",
        "usage",
        "system_fingerprint",
        "service_tier",
        "error",
        "x_groq",
    ];

    fn field(name: &str) -> Option<u32> {
        match name {
            "id" => Some(0),
            "created" => Some(1),
            "model" => Some(2),
            "choices" => Some(3),
            "usage" => Some(4),
            "system_fingerprint" => Some(5),
            "service_tier" => Some(6),
            "error" => Some(7),
            "x_groq" => Some(8),
            _ => None,
        }
    }

    fn fill<A: serde::de::MapAccess<'de>>(&mut self, field: u32, map: &mut A) -> Result<(), A::Error> {
        match field {
            0 => {
                self.id = map.next_value_seed(OptStr)?;
            }
            1 => {
                self.created = map.next_value_seed(LenientTime)?;
            }
            2 => {
                self.model = map.next_value_seed(OptStr)?;
            }
            3 => {
                map.next_value_seed(ChoicesSeed(&mut self.choices))?;
            }
            4 => {
                self.usage = map.next_value()?;
            }
            5 => {
                self.system_fingerprint = map.next_value_seed(OptStr)?;
            }
            6 => {
                self.service_tier = map.next_value_seed(OptStr)?;
            }
            7 => {
                self.error = map.next_value()?;
            }
            8 => {
                self.x_groq = map.next_value()?;
            }
            _ => {
                map.next_value::<serde::de::IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

/// Groq's extra object.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct GroqExtras {
    #[serde(default)]
    pub usage: Option<WireUsage>,
}

/// A stream event's choices (`null` is none). Nearly every event has exactly one: it is held inline,
/// so parsing an event allocates no list.
#[derive(Debug, Default)]
pub(crate) struct StreamChoices<'a> {
    first: Option<StreamChoice<'a>>,
    rest: Vec<StreamChoice<'a>>,
}

impl<'a> StreamChoices<'a> {
    /// How many choices the event has.
    pub(crate) fn len(&self) -> usize {
        usize::from(self.first.is_some()).saturating_add(self.rest.len())
    }

    /// The choices, in order, to be read (and taken from) in place.
    pub(crate) fn iter_mut(&mut self) -> impl Iterator<Item = &mut StreamChoice<'a>> {
        self.first.iter_mut().chain(self.rest.iter_mut())
    }
}

/// Reads a list of choices (or `null`, none) into [`StreamChoices`], each choice in place.
struct ChoicesSeed<'t, 'a>(&'t mut StreamChoices<'a>);

impl<'de> serde::de::DeserializeSeed<'de> for ChoicesSeed<'_, 'de> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_option(self)
    }
}

impl<'de> serde::de::Visitor<'de> for ChoicesSeed<'_, 'de> {
    type Value = ();

    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("a list of choices or null")
    }

    fn visit_none<E: serde::de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(ChoiceSeed(&mut *self.0))?.is_some() {}
        Ok(())
    }
}

/// Reads one choice into the next place of [`StreamChoices`]: the inline first, then the list.
struct ChoiceSeed<'t, 'a>(&'t mut StreamChoices<'a>);

impl<'de> serde::de::DeserializeSeed<'de> for ChoiceSeed<'_, 'de> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        let choices = self.0;
        let target = if choices.first.is_none() {
            choices.first.insert(StreamChoice::default())
        } else {
            choices.rest.push(StreamChoice::default());
            match choices.rest.last_mut() {
                Some(last) => last,
                None => return Err(serde::de::Error::custom("no place for a choice")),
            }
        };
        deserializer.deserialize_map(Fill { target, nullable: false })
    }
}

/// One choice's part of a stream event.
#[derive(Debug, Default)]
pub(crate) struct StreamChoice<'a> {
    pub index: Option<u32>,
    pub delta: StreamDelta<'a>,
    pub finish_reason: Option<WireStr<'a>>,
    pub logprobs: Option<ChoiceLogprobs>,
}

impl<'de> FillFields<'de> for StreamChoice<'de> {
    const NAME: &'static str = "StreamChoice";
    const FIELDS: &'static [&'static str] = &["index", "delta", "finish_reason", "logprobs"];

    fn field(name: &str) -> Option<u32> {
        match name {
            "index" => Some(0),
            "delta" => Some(1),
            "finish_reason" => Some(2),
            "logprobs" => Some(3),
            _ => None,
        }
    }

    fn fill<A: serde::de::MapAccess<'de>>(&mut self, field: u32, map: &mut A) -> Result<(), A::Error> {
        match field {
            0 => {
                self.index = map.next_value()?;
            }
            1 => {
                map.next_value_seed(Fill { target: &mut self.delta, nullable: true })?;
            }
            2 => {
                self.finish_reason = map.next_value_seed(OptStr)?;
            }
            3 => {
                // Assigned only when given: the field is read once, into `None`, and assigning `None`
                // over `None` still calls the drop of the old value (on every event: OpenAI sends
                // `logprobs: null`).
                if let Some(logprobs) = map.next_value::<Option<ChoiceLogprobs>>()? {
                    self.logprobs = Some(logprobs);
                }
            }
            _ => {
                map.next_value::<serde::de::IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

/// What an event adds to a choice.
#[derive(Debug, Default)]
pub(crate) struct StreamDelta<'a> {
    pub role: Option<WireStr<'a>>,
    pub content: Option<DeltaContent<'a>>,
    pub reasoning_content: Option<WireStr<'a>>,
    pub reasoning: Option<WireStr<'a>>,
    pub refusal: Option<WireStr<'a>>,
    pub tool_calls: Option<Vec<StreamToolCall<'a>>>,
    /// The legacy single function call (a placeholder with an empty name on some hosts).
    pub function_call: Option<StreamFunction<'a>>,
    /// OpenRouter's reasoning blocks.
    pub reasoning_details: Option<Vec<Value>>,
    /// OpenAI's url citations.
    pub annotations: Option<Vec<Annotation>>,
}

impl<'de> FillFields<'de> for StreamDelta<'de> {
    const NAME: &'static str = "StreamDelta";
    const FIELDS: &'static [&'static str] = &[
        "role",
        "content",
        "reasoning_content",
        "reasoning",
        "refusal",
        "tool_calls",
        "function_call",
        "reasoning_details",
        "annotations",
    ];

    fn field(name: &str) -> Option<u32> {
        match name {
            "role" => Some(0),
            "content" => Some(1),
            "reasoning_content" => Some(2),
            "reasoning" => Some(3),
            "refusal" => Some(4),
            "tool_calls" => Some(5),
            "function_call" => Some(6),
            "reasoning_details" => Some(7),
            "annotations" => Some(8),
            _ => None,
        }
    }

    fn fill<A: serde::de::MapAccess<'de>>(&mut self, field: u32, map: &mut A) -> Result<(), A::Error> {
        match field {
            0 => {
                self.role = map.next_value_seed(OptStr)?;
            }
            1 => {
                self.content = map.next_value()?;
            }
            2 => {
                self.reasoning_content = map.next_value_seed(OptStr)?;
            }
            3 => {
                self.reasoning = map.next_value_seed(OptStr)?;
            }
            4 => {
                self.refusal = map.next_value_seed(OptStr)?;
            }
            5 => {
                self.tool_calls = map.next_value()?;
            }
            6 => {
                self.function_call = map.next_value()?;
            }
            7 => {
                self.reasoning_details = map.next_value()?;
            }
            8 => {
                self.annotations = map.next_value()?;
            }
            _ => {
                map.next_value::<serde::de::IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

/// A delta's content: text, borrowed when it holds no escapes, or Mistral's typed chunks.
#[derive(Debug)]
pub(crate) enum DeltaContent<'a> {
    Text(WireStr<'a>),
    Chunks(Vec<ContentChunk>),
}

impl<'de: 'a, 'a> Deserialize<'de> for DeltaContent<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ContentVisitor;
        impl<'de> serde::de::Visitor<'de> for ContentVisitor {
            type Value = DeltaContent<'de>;
            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("a string or a list of content chunks")
            }
            fn visit_borrowed_str<E: serde::de::Error>(self, text: &'de str) -> Result<Self::Value, E> {
                Ok(DeltaContent::Text(WireStr(Cow::Borrowed(text))))
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Self::Value, E> {
                Ok(DeltaContent::Text(WireStr(Cow::Owned(text.to_owned()))))
            }
            fn visit_string<E: serde::de::Error>(self, text: String) -> Result<Self::Value, E> {
                Ok(DeltaContent::Text(WireStr(Cow::Owned(text))))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut chunks = Vec::new();
                while let Some(chunk) = seq.next_element::<ContentChunk>()? {
                    chunks.push(chunk);
                }
                Ok(DeltaContent::Chunks(chunks))
            }
        }
        deserializer.deserialize_any(ContentVisitor)
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(data: &str) -> serde_json::Result<StreamChunk<'_>> {
        let mut chunk = StreamChunk::default();
        parse_stream_chunk(data, &mut chunk).map(|()| chunk)
    }

    #[test]
    fn a_stream_chunk_parses_in_place_with_the_derived_rules() {
        let chunk = parse(
            r#"{"id":"c1","object":"chat.completion.chunk","created":1.5e3,"model":"m","unknown":{"a":[1]},
               "choices":[{"index":0,"delta":{"role":"assistant","content":"a\nb"},"finish_reason":null},
                          {"index":1,"delta":null,"finish_reason":"stop","extra":true},
                          {"index":2}],
               "usage":{"prompt_tokens":3,"completion_tokens":null},"x_groq":{"usage":null}}"#,
        );
        let Ok(mut chunk) = chunk else { panic!("parses: {chunk:?}") };
        assert_eq!(chunk.id.as_ref().map(WireStr::as_str), Some("c1"));
        assert_eq!(chunk.created, 1500);
        assert_eq!(chunk.choices.len(), 3);
        let choices: Vec<&mut StreamChoice<'_>> = chunk.choices.iter_mut().collect();
        let [first, second, third] = choices.as_slice() else { panic!("three choices") };
        assert_eq!(first.delta.role.as_ref().map(WireStr::as_str), Some("assistant"));
        assert!(matches!(&first.delta.content, Some(DeltaContent::Text(text)) if text.as_str() == "a\nb"));
        assert_eq!(second.index, Some(1));
        assert!(second.delta.content.is_none());
        assert_eq!(second.finish_reason.as_ref().map(WireStr::as_str), Some("stop"));
        assert_eq!(third.index, Some(2));
        assert_eq!(chunk.usage.map(|usage| (usage.prompt_tokens, usage.completion_tokens)), Some((3, 0)));
        assert!(chunk.x_groq.is_some_and(|groq| groq.usage.is_none()));

        for (created, time) in [
            ("7", 7),
            ("-5", 0),
            ("2.9", 2),
            ("-1.5", 0),
            ("\"7\"", 0),
            ("null", 0),
            ("true", 0),
            ("[1,[2]]", 0),
        ] {
            let data = format!(r#"{{"created":{created},"model":"m"}}"#);
            let chunk = parse(&data);
            assert!(chunk.as_ref().is_ok_and(|chunk| chunk.created == time), "{created}: {chunk:?}");
            assert!(chunk.is_ok_and(|chunk| chunk.model.is_some_and(|model| model.as_str() == "m")));
        }
        assert!(parse(r#"{"created":{"a":{"b":1}},"id":null}"#).is_ok_and(|chunk| chunk.created == 0));
        let empty = parse(r#"{"choices":null}"#);
        assert!(empty.is_ok_and(|chunk| chunk.choices.len() == 0 && chunk.id.is_none()));
        assert!(parse(r#"{"choices":[]}"#).is_ok_and(|chunk| chunk.choices.len() == 0));
    }

    #[test]
    fn what_a_derived_deserialize_refuses_is_refused() {
        for bad in [
            "null",
            "[]",
            r#"{"id":"a","id":"b"}"#,
            r#"{"choices":[null]}"#,
            r#"{"choices":[{"delta":{"content":"a","content":"b"}}]}"#,
            r#"{"choices":[{"index":-1}]}"#,
            r#"{"choices":{}}"#,
            r#"{"id":"a"} x"#,
            r#"{"id":5}"#,
            r#"{"choices":[{"finish_reason":["stop"]}]}"#,
        ] {
            assert!(parse(bad).is_err(), "{bad} is refused");
        }
    }
}
