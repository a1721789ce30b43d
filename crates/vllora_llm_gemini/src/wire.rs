//! Serde types of Gemini's JSON (v1beta `generateContent`, `streamGenerateContent`, `cachedContents`).
//!
//! One set of types serves both directions: `None` fields are left out of what we send, and everything
//! is optional with defaults on what we receive, so a field Gemini adds or drops never breaks decoding.
//! Enumerations Gemini may extend (finish and block reasons) stay strings and are interpreted where used.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// `GenerateContentRequest`: the body of `models/{model}:generateContent`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct GenerateContentRequest {
    pub contents: Vec<Content>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system_instruction: Option<Content>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<Tool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_config: Option<ToolConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub safety_settings: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generation_config: Option<GenerationConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cached_content: Option<String>,
}

/// One turn of the conversation: a role and its parts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Content {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(default)]
    pub parts: Vec<Part>,
}

/// One part of a turn. Exactly one of the data fields is set; `thought` and `thoughtSignature` qualify it.
/// Every other field (`executableCode`, `codeExecutionResult`, `toolCall`, `toolResponse`, `videoMetadata`,
/// a kind Gemini adds later...) is kept as sent in `other`, so a part goes back exactly as it came.
///
/// Read by hand ([`Part`]'s `Deserialize`), field by field: serde's derive for a struct with a flattened
/// map first copies every field of the part into an intermediate tree, which cost most of a stream
/// event's decoding.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Part {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inline_data: Option<Blob>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_data: Option<FileData>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function_call: Option<FunctionCall>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function_response: Option<FunctionResponse>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thought: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thought_signature: Option<String>,
    /// The part's other fields, as Gemini wrote them.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// The fields of a [`Part`] by their JSON names; any other name is kept for [`Part::other`].
enum PartKey {
    Text,
    InlineData,
    FileData,
    FunctionCall,
    FunctionResponse,
    Thought,
    ThoughtSignature,
    Other(String),
}

impl<'de> Deserialize<'de> for PartKey {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl serde::de::Visitor<'_> for KeyVisitor {
            type Value = PartKey;
            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("a field name")
            }
            fn visit_str<E: serde::de::Error>(self, name: &str) -> Result<PartKey, E> {
                Ok(match name {
                    "text" => PartKey::Text,
                    "inlineData" => PartKey::InlineData,
                    "fileData" => PartKey::FileData,
                    "functionCall" => PartKey::FunctionCall,
                    "functionResponse" => PartKey::FunctionResponse,
                    "thought" => PartKey::Thought,
                    "thoughtSignature" => PartKey::ThoughtSignature,
                    other => PartKey::Other(other.to_owned()),
                })
            }
            fn visit_string<E: serde::de::Error>(self, name: String) -> Result<PartKey, E> {
                match self.visit_str(&name)? {
                    PartKey::Other(_) => Ok(PartKey::Other(name)),
                    known => Ok(known),
                }
            }
        }
        deserializer.deserialize_identifier(KeyVisitor)
    }
}

/// Reads a known field once, as the derive does: a repeated field is an error.
fn part_field<'de, A: serde::de::MapAccess<'de>, T: Deserialize<'de>>(
    map: &mut A,
    slot: &mut Option<T>,
    seen: &mut bool,
    name: &'static str,
) -> Result<(), A::Error> {
    if std::mem::replace(seen, true) {
        return Err(serde::de::Error::duplicate_field(name));
    }
    *slot = map.next_value()?;
    Ok(())
}

impl<'de> Deserialize<'de> for Part {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut part = Part::default();
        part.read_in_place(deserializer)?;
        Ok(part)
    }
}

impl<'de> ReadInPlace<'de> for Part {
    /// Reads into a default part.
    fn read_in_place<D: serde::Deserializer<'de>>(&mut self, deserializer: D) -> Result<(), D::Error> {
        struct PartVisitor<'p>(&'p mut Part);
        impl<'de> serde::de::Visitor<'de> for PartVisitor<'_> {
            type Value = ();
            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct Part")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
                let part = self.0;
                let mut seen = [false; 7];
                while let Some(key) = map.next_key::<PartKey>()? {
                    match key {
                        PartKey::Text => part_field(&mut map, &mut part.text, &mut seen[0], "text")?,
                        PartKey::InlineData => {
                            part_field(&mut map, &mut part.inline_data, &mut seen[1], "inlineData")?
                        }
                        PartKey::FileData => {
                            part_field(&mut map, &mut part.file_data, &mut seen[2], "fileData")?
                        }
                        PartKey::FunctionCall => {
                            part_field(&mut map, &mut part.function_call, &mut seen[3], "functionCall")?
                        }
                        PartKey::FunctionResponse => part_field(
                            &mut map,
                            &mut part.function_response,
                            &mut seen[4],
                            "functionResponse",
                        )?,
                        PartKey::Thought => part_field(&mut map, &mut part.thought, &mut seen[5], "thought")?,
                        PartKey::ThoughtSignature => part_field(
                            &mut map,
                            &mut part.thought_signature,
                            &mut seen[6],
                            "thoughtSignature",
                        )?,
                        PartKey::Other(name) => {
                            let value: Value = map.next_value()?;
                            part.other.insert(name, value);
                        }
                    }
                }
                Ok(())
            }
        }
        deserializer.deserialize_map(PartVisitor(self))
    }
}

impl Part {
    pub fn text(text: impl Into<String>) -> Self {
        Part { text: Some(text.into()), ..Default::default() }
    }

    pub fn is_thought(&self) -> bool {
        self.thought == Some(true)
    }
}

/// Inline bytes, base64-encoded.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Blob {
    #[serde(default)]
    pub mime_type: String,
    #[serde(default)]
    pub data: String,
}

/// A file referenced by URI (Files API, Cloud Storage, YouTube, any URL Gemini can fetch).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct FileData {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    #[serde(default)]
    pub file_uri: String,
}

/// A call the model makes. Gemini usually sends no `id`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct FunctionCall {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub args: Option<Value>,
}

/// The result of a call, sent back by the caller. `response` must be a JSON object.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct FunctionResponse {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub response: Value,
}

/// A group of tools: function declarations, or Google Search grounding.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Tool {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub function_declarations: Vec<FunctionDeclaration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub google_search: Option<Value>,
}

/// A function the model may call, with its parameters in Gemini's `Schema` or as JSON Schema.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct FunctionDeclaration {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters_json_schema: Option<Value>,
}

/// `toolConfig`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ToolConfig {
    pub function_calling_config: FunctionCallingConfig,
}

/// `toolConfig.functionCallingConfig`: `AUTO`, `ANY`, `NONE` or `VALIDATED`, and the names `ANY` may use.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct FunctionCallingConfig {
    pub mode: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_function_names: Vec<String>,
}

/// `generationConfig`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct GenerationConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub candidate_count: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_sequences: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_output_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_k: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub presence_penalty: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frequency_penalty: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_mime_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_schema: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_json_schema: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_logprobs: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logprobs: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_modalities: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thinking_config: Option<ThinkingConfig>,
}

impl GenerationConfig {
    pub fn is_empty(&self) -> bool {
        *self == GenerationConfig::default()
    }
}

/// `generationConfig.thinkingConfig`. Gemini 2.5 takes a budget, Gemini 3 and later a level.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ThinkingConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub include_thoughts: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thinking_budget: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thinking_level: Option<String>,
}

/// `GenerateContentResponse`: a whole answer, or one event of a stream.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct GenerateContentResponse {
    #[serde(default)]
    pub candidates: Vec<Candidate>,
    #[serde(default)]
    pub prompt_feedback: Option<PromptFeedback>,
    #[serde(default)]
    pub usage_metadata: Option<UsageMetadata>,
    #[serde(default)]
    pub model_version: Option<String>,
    #[serde(default)]
    pub response_id: Option<String>,
    /// Set instead of the rest when a stream fails midway.
    #[serde(default)]
    pub error: Option<ErrorBody>,
}

/// One generated answer.
/// A candidate of an answer. `C` is what its content reads into: the shared [`Content`] for one-shot
/// answers, the stream's own for stream events (no allocation for the role or a lone part).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Candidate<C = Content> {
    #[serde(default)]
    pub content: Option<C>,
    #[serde(default)]
    pub finish_reason: Option<String>,
    #[serde(default)]
    pub finish_message: Option<String>,
    #[serde(default)]
    pub index: Option<u32>,
    #[serde(default)]
    pub logprobs_result: Option<LogprobsResult>,
    #[serde(default)]
    pub grounding_metadata: Option<Value>,
    #[serde(default)]
    pub citation_metadata: Option<Value>,
    #[serde(default)]
    pub url_context_metadata: Option<Value>,
}

/// A JSON list read with its first element in place and the others, if any, in a `Vec`: a stream event
/// nearly always has one candidate of one part, which then costs no allocation. Reads and rejects
/// exactly what `Vec<T>` does (a list, not `null`).
///
/// The first element's place is always there (a default `T` while the list is empty), so reading into it
/// does not first build a default `T` and move it in.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct OneOrMore<T> {
    first: T,
    /// Whether `first` was read (the list is not empty).
    filled: bool,
    rest: Vec<T>,
}

impl<T: Default> Default for OneOrMore<T> {
    fn default() -> Self {
        OneOrMore { first: T::default(), filled: false, rest: Vec::new() }
    }
}

impl<T> OneOrMore<T> {
    pub fn is_empty(&self) -> bool {
        !self.filled
    }

    /// How many elements there are.
    pub fn len(&self) -> usize {
        usize::from(self.filled).saturating_add(self.rest.len())
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut T> {
        let first = if self.filled { Some(&mut self.first) } else { None };
        first.into_iter().chain(self.rest.iter_mut())
    }
}

impl<'de, T: ReadInPlace<'de> + Default> ReadInPlace<'de> for OneOrMore<T> {
    /// Reads into an empty (default) list.
    fn read_in_place<D: serde::Deserializer<'de>>(&mut self, deserializer: D) -> Result<(), D::Error> {
        struct ListVisitor<'p, T>(&'p mut OneOrMore<T>);
        impl<'de, T: ReadInPlace<'de> + Default> serde::de::Visitor<'de> for ListVisitor<'_, T> {
            type Value = ();
            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("a sequence")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
                let list = self.0;
                if seq.next_element_seed(InPlace(&mut list.first))?.is_none() {
                    return Ok(());
                }
                list.filled = true;
                // Each further element is made (a default, read in place) only once the list has one:
                // a default made beforehand would be made and dropped at the end of every list.
                while seq.next_element_seed(PushInPlace(&mut list.rest))?.is_some() {}
                Ok(())
            }
        }
        deserializer.deserialize_seq(ListVisitor(self))
    }
}

/// Reads the next element of a list into a default pushed onto `0` (left there, part read, if reading
/// it fails: the whole read fails then).
struct PushInPlace<'p, T>(&'p mut Vec<T>);

impl<'de, T: ReadInPlace<'de> + Default> serde::de::DeserializeSeed<'de> for PushInPlace<'_, T> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        self.0.push(T::default());
        match self.0.last_mut() {
            Some(element) => element.read_in_place(deserializer),
            None => Err(serde::de::Error::custom("no place for a list element")),
        }
    }
}

/// Reading a value into a place that holds its default instead of returning it: a large value (a stream
/// event's first candidate with its first part, in place) is then not moved at each level it is nested
/// in. What is read and what is rejected are as serde's derive reads the type from JSON objects.
pub(crate) trait ReadInPlace<'de> {
    fn read_in_place<D: serde::Deserializer<'de>>(&mut self, deserializer: D) -> Result<(), D::Error>;
}

/// [`ReadInPlace`] as a seed, for `next_value_seed` and `next_element_seed`.
pub(crate) struct InPlace<'p, T>(pub &'p mut T);

impl<'de, T: ReadInPlace<'de>> serde::de::DeserializeSeed<'de> for InPlace<'_, T> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        self.0.read_in_place(deserializer)
    }
}

impl<'de, T: ReadInPlace<'de> + Default> ReadInPlace<'de> for Option<T> {
    /// `null` is `None`, anything else is read into a default `T` in place.
    fn read_in_place<D: serde::Deserializer<'de>>(&mut self, deserializer: D) -> Result<(), D::Error> {
        struct OptionVisitor<'p, T>(&'p mut Option<T>);
        impl<'de, T: ReadInPlace<'de> + Default> serde::de::Visitor<'de> for OptionVisitor<'_, T> {
            type Value = ();
            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("option")
            }
            fn visit_none<E: serde::de::Error>(self) -> Result<(), E> {
                *self.0 = None;
                Ok(())
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
                *self.0 = None;
                Ok(())
            }
            fn visit_some<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
                self.0.insert(T::default()).read_in_place(deserializer)
            }
        }
        deserializer.deserialize_option(OptionVisitor(self))
    }
}

/// A struct's field name read as its position (by `0`, a `match` over the names; `None` for a field not
/// listed), without copying it.
pub(crate) struct FieldSeed<F>(pub F);

impl<'de, F: Fn(&str) -> Option<usize>> serde::de::DeserializeSeed<'de> for FieldSeed<F> {
    type Value = Option<usize>;
    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<Option<usize>, D::Error> {
        deserializer.deserialize_identifier(self)
    }
}

impl<'de, F: Fn(&str) -> Option<usize>> serde::de::Visitor<'de> for FieldSeed<F> {
    type Value = Option<usize>;
    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("a field identifier")
    }
    fn visit_str<E: serde::de::Error>(self, name: &str) -> Result<Option<usize>, E> {
        Ok((self.0)(name))
    }
    fn visit_bytes<E: serde::de::Error>(self, name: &[u8]) -> Result<Option<usize>, E> {
        Ok(std::str::from_utf8(name).ok().and_then(&self.0))
    }
}

/// Marks field `field` of `fields` seen, or fails as serde's derive does on a field given twice.
pub(crate) fn first_time<E: serde::de::Error>(
    seen: &mut [bool],
    fields: &'static [&'static str],
    field: usize,
) -> Result<(), E> {
    match seen.get_mut(field).map(|seen| std::mem::replace(seen, true)) {
        Some(true) => Err(E::duplicate_field(fields.get(field).copied().unwrap_or("?"))),
        _ => Ok(()),
    }
}

/// Log probabilities of the chosen tokens and of the most likely alternatives at each position.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct LogprobsResult {
    #[serde(default)]
    pub top_candidates: Vec<TopCandidates>,
    #[serde(default)]
    pub chosen_candidates: Vec<LogprobCandidate>,
}

/// The alternatives at one position.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub(crate) struct TopCandidates {
    #[serde(default)]
    pub candidates: Vec<LogprobCandidate>,
}

/// One token and its log probability.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct LogprobCandidate {
    #[serde(default)]
    pub token: Option<String>,
    #[serde(default)]
    pub log_probability: Option<f64>,
}

/// Why a prompt was refused.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PromptFeedback {
    #[serde(default)]
    pub block_reason: Option<String>,
    #[serde(default)]
    pub block_reason_message: Option<String>,
}

/// Token counts. `promptTokenCount` includes `cachedContentTokenCount`; thoughts are counted apart from
/// candidates.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UsageMetadata {
    #[serde(default)]
    pub prompt_token_count: Option<u32>,
    #[serde(default)]
    pub cached_content_token_count: Option<u32>,
    #[serde(default)]
    pub candidates_token_count: Option<u32>,
    #[serde(default)]
    pub tool_use_prompt_token_count: Option<u32>,
    #[serde(default)]
    pub thoughts_token_count: Option<u32>,
    #[serde(default)]
    pub total_token_count: Option<u32>,
    /// The per-modality lists (`[{"modality": "TEXT", "tokenCount": 212}]`), which no usage field
    /// carries, skipped as [`Skipped`]: Gemini sends `promptTokensDetails` with every stream event, and
    /// serde's own skipping of a list of objects allocates (once per event).
    #[serde(default, rename = "promptTokensDetails", skip_serializing)]
    _prompt_tokens_details: Skipped,
    #[serde(default, rename = "cacheTokensDetails", skip_serializing)]
    _cache_tokens_details: Skipped,
    #[serde(default, rename = "candidatesTokensDetails", skip_serializing)]
    _candidates_tokens_details: Skipped,
    #[serde(default, rename = "toolUsePromptTokensDetails", skip_serializing)]
    _tool_use_prompt_tokens_details: Skipped,
}

/// A JSON value read and dropped without an allocation when it is a list or an object whose elements
/// hold no further lists or objects. (serde_json's own skipping, `IgnoredAny`, keeps the enclosing
/// brackets of a nested value in a buffer it allocates once per document: once per stream event.) Its
/// elements are skipped with `IgnoredAny`, which allocates nothing for a value not nested further. Unlike
/// `IgnoredAny`, a bare number is parsed (a float beyond f64's range is an error).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Skipped;

impl<'de> Deserialize<'de> for Skipped {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SkipVisitor;
        impl<'de> serde::de::Visitor<'de> for SkipVisitor {
            type Value = Skipped;
            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("any value")
            }
            fn visit_bool<E>(self, _: bool) -> Result<Skipped, E> {
                Ok(Skipped)
            }
            fn visit_i64<E>(self, _: i64) -> Result<Skipped, E> {
                Ok(Skipped)
            }
            fn visit_u64<E>(self, _: u64) -> Result<Skipped, E> {
                Ok(Skipped)
            }
            fn visit_f64<E>(self, _: f64) -> Result<Skipped, E> {
                Ok(Skipped)
            }
            fn visit_str<E>(self, _: &str) -> Result<Skipped, E> {
                Ok(Skipped)
            }
            fn visit_bytes<E>(self, _: &[u8]) -> Result<Skipped, E> {
                Ok(Skipped)
            }
            fn visit_none<E>(self) -> Result<Skipped, E> {
                Ok(Skipped)
            }
            fn visit_unit<E>(self) -> Result<Skipped, E> {
                Ok(Skipped)
            }
            fn visit_some<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<Skipped, D::Error> {
                Skipped::deserialize(deserializer)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Skipped, A::Error> {
                while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(Skipped)
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Skipped, A::Error> {
                while map.next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?.is_some() {}
                Ok(Skipped)
            }
        }
        deserializer.deserialize_any(SkipVisitor)
    }
}

/// `{"error": {...}}`, Google's error envelope.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub(crate) struct ErrorEnvelope {
    #[serde(default)]
    pub error: Option<ErrorBody>,
}

/// Google's `Status`: an HTTP-like code, a canonical status name, a message and typed details.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub(crate) struct ErrorBody {
    #[serde(default)]
    pub code: Option<u16>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub details: Vec<Value>,
}

#[cfg(test)]
mod part_tests {
    use super::*;

    /// The derive `Part` had before it was read by hand.
    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Derived {
        #[serde(default)]
        text: Option<String>,
        #[serde(default)]
        inline_data: Option<Blob>,
        #[serde(default)]
        file_data: Option<FileData>,
        #[serde(default)]
        function_call: Option<FunctionCall>,
        #[serde(default)]
        function_response: Option<FunctionResponse>,
        #[serde(default)]
        thought: Option<bool>,
        #[serde(default)]
        thought_signature: Option<String>,
        #[serde(flatten)]
        other: Map<String, Value>,
    }

    fn by_hand(json: &str) -> Result<Part, String> {
        serde_json::from_str::<Part>(json).map_err(|error| error.to_string())
    }

    fn derived(json: &str) -> Result<Part, String> {
        let derived = serde_json::from_str::<Derived>(json).map_err(|error| error.to_string())?;
        Ok(Part {
            text: derived.text,
            inline_data: derived.inline_data,
            file_data: derived.file_data,
            function_call: derived.function_call,
            function_response: derived.function_response,
            thought: derived.thought,
            thought_signature: derived.thought_signature,
            other: derived.other,
        })
    }

    #[test]
    fn skipped_reads_and_rejects_what_ignored_any_does() {
        for value in [
            r#"[{"modality":"TEXT","tokenCount":212},{"modality":"IMAGE","tokenCount":258}]"#,
            r#"[{"a":[1,{"b":[]}]},[[]]]"#,
            "[]",
            "{}",
            r#"{"k":"v\n","n":-1.5e3}"#,
            "null",
            "true",
            "12",
            "-3",
            r#""text""#,
            r#""\u00e9""#,
            "[1,]",
            "[1",
            r#"{"a"}"#,
            "nul",
        ] {
            let json = format!(r#"{{"promptTokenCount":3,"promptTokensDetails":{value},"x":1}}"#);
            let usage = serde_json::from_str::<UsageMetadata>(&json).ok();
            let ignored = serde_json::from_str::<serde_json::Value>(&json)
                .ok()
                .map(|_| UsageMetadata { prompt_token_count: Some(3), ..Default::default() });
            assert_eq!(usage, ignored, "{json}");
        }
    }

    #[test]
    fn one_or_more_reads_and_rejects_what_a_vec_does() {
        for json in [
            "[]",
            r#"[{"text":"a"}]"#,
            r#"[{"text":"a"},{"thought":true}]"#,
            r#"[{},{},{"text":"c"},{"x":1}]"#,
            "null",
            "{}",
            "1",
            r#"[{"text":"a"},1]"#,
            r#"[1]"#,
            r#"[{"text":"a"}"#,
        ] {
            let vec = serde_json::from_str::<Vec<Part>>(json).ok();
            let mut list: OneOrMore<Part> = OneOrMore::default();
            let mut deserializer = serde_json::Deserializer::from_str(json);
            let ours =
                list.read_in_place(&mut deserializer).and_then(|()| deserializer.end()).ok().map(|()| {
                    assert_eq!(list.len(), list.iter_mut().count(), "{json}");
                    assert_eq!(list.is_empty(), vec.as_ref().is_some_and(Vec::is_empty), "{json}");
                    list.iter_mut().map(std::mem::take).collect::<Vec<Part>>()
                });
            assert_eq!(ours, vec, "{json}");
        }
    }

    #[test]
    fn a_part_reads_as_the_derive_read_it() {
        for json in [
            r#"{"text":"Hello"}"#,
            r#"{"text":"a\nb \u00e9","thought":true,"thoughtSignature":"c2ln"}"#,
            r#"{"text":null}"#,
            r#"{}"#,
            r#"{"inlineData":{"mimeType":"image/png","data":"iVBO"}}"#,
            r#"{"fileData":{"mimeType":"application/pdf","fileUri":"gs://b/f.pdf"}}"#,
            r#"{"functionCall":{"name":"get_timetable","args":{"from":"Lyon"}},"thoughtSignature":"x"}"#,
            r#"{"functionResponse":{"name":"f","response":{"ok":1}}}"#,
            r#"{"executableCode":{"language":"PYTHON","code":"print(1)"},"id":"e1"}"#,
            r#"{"videoMetadata":{"fps":1.5},"x":[1,-2,3.25,null,true],"x":"last"}"#,
            r#"{"text":"a","text":"b"}"#,
            r#"{"thought":"yes"}"#,
            r#"{"text":5}"#,
            r#"{"te\u0078t":"escaped key","o\u0074her":1}"#,
            r#"[]"#,
            r#"["a"]"#,
            r#""text""#,
        ] {
            assert_eq!(by_hand(json).ok(), derived(json).ok(), "{json}");
            assert_eq!(by_hand(json).is_err(), derived(json).is_err(), "{json}");
        }
    }
}
