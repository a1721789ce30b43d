//! Messages and content parts -> Gemini's `contents` and `systemInstruction`: turns, media, tool calls
//! with their thought signatures, and tool results.

use std::collections::HashMap;

use serde_json::{Map, Value};
use vllora_llm_core::support::parse_data_uri;
use vllora_llm_core::types::gateway::{
    ChatCompletionContent, ChatCompletionMessage, ContentPart, ImageDetail, MessageBlock, OrderedBlocks,
    Role, ToolCall,
};
use vllora_llm_core::{LLMResult, Warning, Warnings};

use super::{Generation, REASONING_PROVIDER, SKIP_SIGNATURE_VALIDATOR, invalid};
use crate::PROVIDER;
use crate::response::CANDIDATE_METADATA;
use crate::wire::{Blob, Content, FileData, FunctionCall, FunctionResponse, Part};

/// The conversation in Gemini's shape.
#[derive(Debug, Default)]
pub(super) struct ConvertedMessages {
    pub system_instruction: Option<Content>,
    pub contents: Vec<Content>,
}

/// System and developer messages become the system instruction (all of them, in order); user messages
/// `user` turns; assistant messages `model` turns with their function calls and thought signatures; the
/// results of one turn's tool calls one `user` turn of `functionResponse` parts, in the order of the calls
/// they answer (Gemini before version 3 pairs calls and results by position; Gemini 3 by id, which is
/// then sent on both).
pub(super) fn convert_messages(
    messages: &[ChatCompletionMessage],
    generation: Option<Generation>,
    warnings: &mut Warnings,
) -> LLMResult<ConvertedMessages> {
    let mut system_parts = Vec::new();
    let mut contents: Vec<Content> = Vec::new();
    // Each call id -> the function's name and the call's position in its turn.
    let mut calls: HashMap<&str, (&str, usize)> = HashMap::new();
    // The call positions of the parts of the trailing results content, to keep them in call order.
    let mut result_positions: Vec<usize> = Vec::new();
    let send_ids = Generation::thinks_in_levels(generation);
    let mut late_system = false;
    let mut named = false;
    let mut audio = false;
    let mut cache_controls = false;

    for (position, message) in messages.iter().enumerate() {
        named |= message.name.is_some() && matches!(message.role, Role::User | Role::Assistant);
        audio |= message.audio.is_some();
        cache_controls |= message.cache_control.is_some()
            || matches!(&message.content, Some(ChatCompletionContent::Parts(parts))
                if parts.iter().any(|part| part.cache_control().is_some()));
        match &message.role {
            Role::System | Role::Developer => {
                late_system |= !contents.is_empty();
                system_parts.extend(system_text_parts(message, position, warnings));
            }
            Role::User => {
                let mut parts = content_parts(message.content.as_ref(), position, warnings)?;
                parts.extend(native_parts(message, position, warnings));
                if !parts.is_empty() {
                    contents.push(Content { role: Some("user".to_owned()), parts });
                }
            }
            Role::Assistant => {
                for (index, call) in message.tool_calls.iter().flatten().enumerate() {
                    calls.insert(call.id.as_str(), (call.function.name.as_str(), index));
                }
                let parts = assistant_parts(message, position, generation, warnings)?;
                if !parts.is_empty() {
                    contents.push(Content { role: Some("model".to_owned()), parts });
                }
            }
            Role::Tool | Role::Function => {
                let answered = match (&message.role, message.tool_call_id.as_deref()) {
                    (Role::Tool, Some(id)) => calls.get(id).map(|(name, index)| (id, *name, *index)),
                    _ => None,
                };
                let name = answered.map(|(_, name, _)| name).or(message.name.as_deref());
                let Some(name) = name else {
                    return Err(invalid(format!(
                        "messages[{position}]: tool result for call `{}` matches no earlier assistant tool call",
                        message.tool_call_id.as_deref().unwrap_or_default()
                    )));
                };
                if let Some(ChatCompletionContent::Parts(parts)) = &message.content {
                    if parts.iter().any(|part| !matches!(part, ContentPart::Text { .. })) {
                        warnings.push(Warning::unsupported_because(
                            format!("messages[{position}].content"),
                            "a Gemini function response holds text; the result's other parts were not sent",
                        ));
                    }
                }
                let part = Part {
                    function_response: Some(FunctionResponse {
                        id: answered.map(|(id, _, _)| id.to_owned()).filter(|id| send_ids && !id.is_empty()),
                        name: name.to_owned(),
                        response: function_response_body(message.content.as_ref()),
                    }),
                    ..Default::default()
                };
                // Results of parallel calls answer one model turn, so they travel in one content, in the
                // order of the calls; a result found by name alone keeps its place at the end.
                let call_position = answered.map_or(usize::MAX, |(_, _, index)| index);
                match contents.last_mut() {
                    Some(last)
                        if last.role.as_deref() == Some("user")
                            && last.parts.iter().all(|part| part.function_response.is_some()) =>
                    {
                        let at = result_positions
                            .iter()
                            .position(|earlier| *earlier > call_position)
                            .unwrap_or(result_positions.len())
                            .min(last.parts.len());
                        last.parts.insert(at, part);
                        result_positions.insert(at, call_position);
                    }
                    _ => {
                        contents.push(Content { role: Some("user".to_owned()), parts: vec![part] });
                        result_positions = vec![call_position];
                    }
                }
            }
            other => {
                return Err(invalid(format!("messages[{position}]: role `{other}` is not one Gemini knows")));
            }
        }
    }
    if late_system {
        warnings.push(Warning::adjusted(
            "messages",
            "system messages after the first turn were moved into Gemini's system instruction",
        ));
    }
    if named {
        warnings.push(Warning::unsupported("messages[].name"));
    }
    if audio {
        warnings.push(Warning::unsupported_because(
            "messages[].audio",
            "Gemini cannot refer back to audio by id; the message's text was sent",
        ));
    }
    if cache_controls {
        warnings.push(Warning::unsupported_because(
            "cache_control",
            "Gemini caches prompts implicitly, or explicitly through cachedContents (provider_specific.extra.cached_content)",
        ));
    }
    let system_instruction =
        (!system_parts.is_empty()).then_some(Content { role: None, parts: system_parts });
    Ok(ConvertedMessages { system_instruction, contents })
}

fn system_text_parts(message: &ChatCompletionMessage, position: usize, warnings: &mut Warnings) -> Vec<Part> {
    match &message.content {
        None => Vec::new(),
        Some(ChatCompletionContent::Text(text)) if text.is_empty() => Vec::new(),
        Some(ChatCompletionContent::Text(text)) => vec![Part::text(text.clone())],
        Some(ChatCompletionContent::Parts(parts)) => parts
            .iter()
            .filter_map(|part| match part {
                ContentPart::Text { text, .. } if text.is_empty() => None,
                ContentPart::Text { text, .. } => Some(Part::text(text.clone())),
                _ => {
                    warnings.push(Warning::unsupported_because(
                        format!("messages[{position}].content"),
                        "Gemini's system instruction takes text only; other parts were not sent",
                    ));
                    None
                }
            })
            .collect(),
    }
}

fn content_parts(
    content: Option<&ChatCompletionContent>,
    position: usize,
    warnings: &mut Warnings,
) -> LLMResult<Vec<Part>> {
    // Gemini rejects empty text parts ("empty text parameter"); they carry nothing, so they are not sent.
    let parts: Vec<Part> = match content {
        None => Vec::new(),
        Some(ChatCompletionContent::Text(text)) => vec![Part::text(text.clone())],
        Some(ChatCompletionContent::Parts(parts)) => {
            parts.iter().map(|part| content_part(part, position, warnings)).collect::<LLMResult<_>>()?
        }
    };
    Ok(parts.into_iter().filter(|part| part.text.as_deref() != Some("")).collect())
}

fn content_part(part: &ContentPart, position: usize, warnings: &mut Warnings) -> LLMResult<Part> {
    let at = |what: &str| format!("messages[{position}]: {what}");
    match part {
        ContentPart::Text { text, .. } => Ok(Part::text(text.clone())),
        ContentPart::Refusal { refusal } => Ok(Part::text(refusal.clone())),
        ContentPart::ImageUrl { image_url, .. } => {
            if matches!(image_url.detail, Some(ImageDetail::Low | ImageDetail::High)) {
                warnings.push(Warning::unsupported("image_url.detail"));
            }
            media_part(&image_url.url, None).map_err(|message| invalid(at(&message)))
        }
        ContentPart::InputAudio { input_audio, .. } => {
            let mime_type = match input_audio.format.as_str() {
                "mp3" | "mpeg" => "audio/mp3".to_owned(),
                format => format!("audio/{format}"),
            };
            Ok(Part {
                inline_data: Some(Blob { mime_type, data: input_audio.data.clone() }),
                ..Default::default()
            })
        }
        ContentPart::File { file, .. } => match (&file.file_data, &file.file_id) {
            (Some(data), _) => {
                media_part(data, file.filename.as_deref()).map_err(|message| invalid(at(&message)))
            }
            (None, Some(file_id)) => Ok(Part {
                file_data: Some(FileData {
                    mime_type: file.filename.as_deref().and_then(mime_type_from_name).map(str::to_owned),
                    file_uri: file_id.clone(),
                }),
                ..Default::default()
            }),
            (None, None) => Err(invalid(at("a file part needs file_data or file_id"))),
        },
        _ => Err(invalid(at("a content part of a kind Gemini cannot take"))),
    }
}

/// A `data:` URI becomes `inlineData` with its own MIME type (without parameters such as `;charset=`,
/// which are not part of the MIME type Gemini checks); any other URL `fileData`.
fn media_part(url: &str, filename: Option<&str>) -> Result<Part, String> {
    if url.starts_with("data:") {
        let Some(uri) = parse_data_uri(url) else {
            return Err("a data URI without a comma".to_owned());
        };
        if !uri.base64 {
            return Err("only base64 data URIs can be sent to Gemini".to_owned());
        }
        let mime_type = match uri.media_type {
            "" => filename.and_then(mime_type_from_name).unwrap_or("application/octet-stream"),
            given => given,
        };
        return Ok(Part {
            inline_data: Some(Blob { mime_type: mime_type.to_owned(), data: uri.data.to_owned() }),
            ..Default::default()
        });
    }
    if url.trim().is_empty() {
        return Err("an empty media URL".to_owned());
    }
    let path = url.split(['?', '#']).next().unwrap_or(url);
    Ok(Part {
        file_data: Some(FileData {
            mime_type: filename.or(Some(path)).and_then(mime_type_from_name).map(str::to_owned),
            file_uri: url.to_owned(),
        }),
        ..Default::default()
    })
}

fn mime_type_from_name(name: &str) -> Option<&'static str> {
    let extension = name.rsplit_once('.')?.1.to_ascii_lowercase();
    Some(match extension.as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "gif" => "image/gif",
        "heic" => "image/heic",
        "pdf" => "application/pdf",
        "txt" => "text/plain",
        "wav" => "audio/wav",
        "mp3" => "audio/mp3",
        "flac" => "audio/flac",
        "ogg" => "audio/ogg",
        "aac" => "audio/aac",
        "mp4" => "video/mp4",
        "webm" => "video/webm",
        "mov" => "video/quicktime",
        _ => return None,
    })
}

/// An assistant message without Gemini's recorded block order: its Gemini thoughts (reasoning details
/// with text) first, then its text, then its calls. A text signature (a Gemini reasoning detail without
/// text) goes back on the message's last text part; a call's signature on its call. On Gemini 3, a turn's
/// first call without a signature (history from another model) gets the skip value Google documents.
fn assistant_parts(
    message: &ChatCompletionMessage,
    position: usize,
    generation: Option<Generation>,
    warnings: &mut Warnings,
) -> LLMResult<Vec<Part>> {
    if message.provider_content.iter().flatten().any(|entry| entry.is_from(&PROVIDER)) {
        return ordered_assistant_parts(message, position, generation, warnings);
    }
    if message.provider_content.is_some() {
        warn_provider_content(&message.blocks_for(&PROVIDER, None), position, warnings);
    }
    let own_details = || {
        message
            .reasoning_details
            .iter()
            .flatten()
            .filter(|detail| detail.provider.as_deref() == Some(REASONING_PROVIDER))
    };
    let mut parts: Vec<Part> = own_details()
        .filter_map(|detail| detail.text.as_ref().map(|text| thought_part(text, detail.signature.as_deref())))
        .collect();
    parts.extend(content_parts(message.content.as_ref(), position, warnings)?);
    if let Some(refusal) = &message.refusal {
        parts.push(Part::text(refusal.clone()));
    }
    let text_signature =
        own_details().filter(|detail| detail.text.is_none()).find_map(|detail| detail.signature.clone());
    if let Some(signature) = text_signature {
        attach_to_last_text(&mut parts, signature);
    }
    // Gemini 3 wants signatures back and pairs results with calls by id.
    let gemini_3 = Generation::thinks_in_levels(generation);
    for (index, call) in message.tool_calls.iter().flatten().enumerate() {
        parts.push(call_part(call, position, index == 0 && gemini_3, gemini_3)?);
    }
    Ok(parts)
}

/// An assistant message Gemini produced, sent back part by part in the order it recorded: thoughts with
/// their signatures, texts (a text signature on the text it came with), function calls, and every other
/// part (code execution, server-side tool calls and responses, media) exactly as received. Grounding and
/// citation metadata describe the answer and are not sent. Text is the string content or the text parts
/// joined; other parts of such a message are not sent (warned).
fn ordered_assistant_parts(
    message: &ChatCompletionMessage,
    position: usize,
    generation: Option<Generation>,
    warnings: &mut Warnings,
) -> LLMResult<Vec<Part>> {
    let (text, other_parts) = message.recorded_order_text();
    if other_parts {
        warnings.push(Warning::unsupported_because(
            format!("messages[{position}].content"),
            "an assistant message sent in its recorded part order carries its text only; other parts were left out",
        ));
    }
    let ordered = message.blocks_for(&PROVIDER, text.as_deref());
    warn_provider_content(&ordered, position, warnings);
    let gemini_3 = Generation::thinks_in_levels(generation);
    let mut parts: Vec<Part> = Vec::with_capacity(ordered.blocks.len());
    let mut pending_signature = None;
    let mut calls = 0usize;
    let mut lost_reasoning = false;
    for block in &ordered.blocks {
        match block {
            MessageBlock::Text { text, native } => {
                let mut part = Part::text(*text);
                if let Some(Value::Object(fields)) = native {
                    part.other = fields.clone();
                }
                // Gemini rejects empty text parts; a recorded empty one carries at most a signature.
                if !text.is_empty() || !part.other.is_empty() {
                    parts.push(part);
                }
            }
            MessageBlock::Reasoning { detail, native } => {
                if detail.provider.as_deref() != Some(REASONING_PROVIDER) {
                    lost_reasoning = true;
                    continue;
                }
                match (&detail.text, &detail.signature) {
                    (Some(text), signature) => {
                        let mut part = thought_part(text, signature.as_deref());
                        if let Some(Value::Object(fields)) = native {
                            part.other = fields.clone();
                        }
                        parts.push(part);
                    }
                    (None, Some(signature)) => match parts.last_mut() {
                        Some(part) if is_unsigned_text(part) => {
                            part.thought_signature = Some(signature.clone())
                        }
                        _ => pending_signature = Some(signature.clone()),
                    },
                    (None, None) => {}
                }
            }
            MessageBlock::ToolCall { call, native } => {
                let mut part = call_part(call, position, calls == 0 && gemini_3, gemini_3)?;
                if let Some(Value::Object(fields)) = native {
                    part.other = fields.clone();
                }
                calls = calls.saturating_add(1);
                parts.push(part);
            }
            MessageBlock::Native(data) => {
                if is_candidate_metadata(data) {
                    continue;
                }
                match serde_json::from_value::<Part>((*data).clone()) {
                    Ok(part) => parts.push(part),
                    Err(_) => warnings.push(Warning::unsupported_because(
                        format!("messages[{position}].provider_content"),
                        "an entry is not a Gemini part and was left out",
                    )),
                }
            }
            _ => {}
        }
    }
    if let Some(refusal) = &message.refusal {
        parts.push(Part::text(refusal.clone()));
    }
    if let Some(signature) = pending_signature {
        attach_to_last_text(&mut parts, signature);
    }
    if lost_reasoning {
        warnings.push(Warning::unsupported_because(
            format!("messages[{position}].reasoning_details"),
            "Gemini takes back only its own thoughts and signatures; other reasoning was left out",
        ));
    }
    Ok(parts)
}

/// The Gemini parts a user message carries in `provider_content` (a `toolResponse` a caller writes, for
/// example), sent after its content.
fn native_parts(message: &ChatCompletionMessage, position: usize, warnings: &mut Warnings) -> Vec<Part> {
    if message.provider_content.is_none() {
        return Vec::new();
    }
    let ordered = message.blocks_for(&PROVIDER, None);
    warn_provider_content(&ordered, position, warnings);
    ordered
        .blocks
        .iter()
        .filter_map(|block| match block {
            MessageBlock::Native(data) if !is_candidate_metadata(data) => {
                serde_json::from_value::<Part>((*data).clone()).ok()
            }
            _ => None,
        })
        .collect()
}

/// Warns about what `provider_content` holds that Gemini cannot take (see `OrderedBlocks::warn_left_out`).
fn warn_provider_content(ordered: &OrderedBlocks<'_>, position: usize, warnings: &mut Warnings) {
    ordered.warn_left_out(position, "Gemini", "part", "thoughts, text and calls", warnings);
}

/// Whether a native entry is a candidate's grounding, citation or URL context metadata (not a part).
fn is_candidate_metadata(data: &Value) -> bool {
    data.as_object().is_some_and(|fields| {
        !fields.is_empty() && fields.keys().all(|key| CANDIDATE_METADATA.contains(&key.as_str()))
    })
}

/// A thought part as Gemini wrote it.
fn thought_part(text: &str, signature: Option<&str>) -> Part {
    Part {
        text: Some(text.to_owned()),
        thought: Some(true),
        thought_signature: signature.map(str::to_owned),
        ..Default::default()
    }
}

fn is_unsigned_text(part: &Part) -> bool {
    part.text.is_some() && !part.is_thought() && part.thought_signature.is_none()
}

/// A text signature on the last text part that has none (Gemini requires signatures on calls only: without
/// such a part it is not sent).
fn attach_to_last_text(parts: &mut [Part], signature: String) {
    if let Some(part) = parts.iter_mut().rev().find(|part| is_unsigned_text(part)) {
        part.thought_signature = Some(signature);
    }
}

/// A tool call as a `functionCall` part with its signature; `skip_if_unsigned` gives a call without one the
/// skip value (the first call of a Gemini 3 turn). Gemini 3 pairs results with calls by id, so the id goes
/// along there.
fn call_part(call: &ToolCall, position: usize, skip_if_unsigned: bool, send_id: bool) -> LLMResult<Part> {
    let signature =
        thought_signature(call).or_else(|| skip_if_unsigned.then(|| SKIP_SIGNATURE_VALIDATOR.to_owned()));
    Ok(Part {
        function_call: Some(FunctionCall {
            id: Some(call.id.clone()).filter(|id| send_id && !id.is_empty()),
            name: call.function.name.clone(),
            args: Some(call_arguments(call, position)?),
        }),
        thought_signature: signature,
        ..Default::default()
    })
}

/// `extra_content.google.thought_signature`, where responses keep it.
fn thought_signature(call: &ToolCall) -> Option<String> {
    let google = call.extra_content.as_ref()?.get("google")?;
    google.get("thought_signature").and_then(Value::as_str).map(str::to_owned)
}

fn call_arguments(call: &ToolCall, position: usize) -> LLMResult<Value> {
    let arguments = call.function.arguments.trim();
    if arguments.is_empty() {
        return Ok(Value::Object(Map::new()));
    }
    match serde_json::from_str::<Value>(arguments) {
        Ok(object @ Value::Object(_)) => Ok(object),
        Ok(_) | Err(_) => Err(invalid(format!(
            "messages[{position}]: the arguments of tool call `{}` are not a JSON object",
            call.id
        ))),
    }
}

/// A tool result as the JSON object Gemini wants: an object result as it is, anything else (text that is
/// not JSON, a number, a list) under `output`, the key Google documents for a function's output.
fn function_response_body(content: Option<&ChatCompletionContent>) -> Value {
    let text = content.and_then(ChatCompletionContent::as_string).unwrap_or_default();
    match serde_json::from_str::<Value>(&text) {
        Ok(object @ Value::Object(_)) => object,
        Ok(other) => Value::Object(Map::from_iter([("output".to_owned(), other)])),
        Err(_) => Value::Object(Map::from_iter([("output".to_owned(), Value::String(text))])),
    }
}
