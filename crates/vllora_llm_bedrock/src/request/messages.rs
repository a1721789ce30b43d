//! Messages and content parts -> Converse `messages` and `system`: roles merged into alternating turns,
//! tool calls and results, reasoning sent back with its signature, images, documents and audio.

use std::borrow::Cow;

use serde_json::{Map, Value};
use vllora_llm_core::support::parse_data_uri;
use vllora_llm_core::types::gateway::{
    CacheControl, CacheTtl, ChatCompletionContent, ChatCompletionMessage, ContentPart, FileInput,
    ImageDetail, InputAudio, MessageBlock, OrderedBlocks, ReasoningDetail, ReasoningDetailType, Role,
    ToolCall,
};
use vllora_llm_core::{LLMError, LLMResult, Warning, Warnings};

use super::REASONING_PROVIDER;
use crate::PROVIDER;
use crate::wire::{
    AudioBlock, CachePoint, ContentBlock, ConversationRole, DocumentBlock, ImageBlock, Message,
    ReasoningContent, ReasoningText, S3Location, Source, SystemBlock, ToolResultBlock, ToolResultContent,
    ToolUseBlock,
};

/// The system blocks and the conversation.
pub(super) fn translate_messages<'a>(
    gateway_messages: &'a [ChatCompletionMessage],
    warnings: &mut Warnings,
) -> LLMResult<(Vec<SystemBlock<'a>>, Vec<Message<'a>>)> {
    let mut system = Vec::new();
    let mut messages: Vec<Message<'a>> = Vec::new();
    let mut documents = Vec::new();
    let mut dropped_foreign_reasoning = false;
    for (position, message) in gateway_messages.iter().enumerate() {
        warn_dropped_message_fields(message, position, warnings);
        match &message.role {
            Role::System | Role::Developer => system_blocks(message, position, &mut system, warnings)?,
            Role::User => {
                let mut blocks = user_blocks(message, position, &mut documents)?;
                blocks.extend(native_blocks(message, position, warnings));
                if blocks.iter().all(|block| matches!(block, ContentBlock::CachePoint(_))) {
                    warnings.push(Warning::Other {
                        message: format!("messages[{position}]: a user message without content was not sent"),
                    });
                } else {
                    push_turn(&mut messages, ConversationRole::User, blocks);
                }
            }
            Role::Tool => {
                let mut block = tool_result(message, position, &mut documents)?;
                block.extend(native_blocks(message, position, warnings));
                push_turn(&mut messages, ConversationRole::User, block);
            }
            Role::Assistant => {
                let blocks = assistant_blocks(message, position, &mut dropped_foreign_reasoning, warnings)?;
                if blocks.is_empty() {
                    warnings.push(Warning::Other {
                        message: format!("messages[{position}]: an empty assistant message was not sent"),
                    });
                } else {
                    push_turn(&mut messages, ConversationRole::Assistant, blocks);
                }
            }
            Role::Function => warnings.push(Warning::unsupported_because(
                format!("messages[{position}]"),
                "legacy `function` messages are not sent; use `tool` messages",
            )),
            role => {
                return Err(LLMError::InvalidRequest(format!(
                    "messages[{position}] has role `{role}`, which Bedrock does not know"
                )));
            }
        }
    }
    if dropped_foreign_reasoning {
        warnings.push(Warning::Other {
            message: "reasoning without a Bedrock signature was not sent back to Bedrock".to_owned(),
        });
    }
    Ok((system, messages))
}

/// Message fields Converse has no place for. A tool message's `name` is the function's, which the
/// `toolUseId` already identifies, so it is not worth a warning.
fn warn_dropped_message_fields(message: &ChatCompletionMessage, position: usize, warnings: &mut Warnings) {
    if message.name.is_some() && message.role != Role::Tool {
        warnings.push(Warning::unsupported_because(
            format!("messages[{position}].name"),
            "Bedrock messages have no participant names",
        ));
    }
    if message.audio.is_some() {
        warnings.push(Warning::unsupported_because(
            format!("messages[{position}].audio"),
            "Bedrock cannot refer to an earlier audio answer",
        ));
    }
    if message.tool_calls.as_ref().is_some_and(|calls| !calls.is_empty()) && message.role != Role::Assistant {
        warnings.push(Warning::unsupported_because(
            format!("messages[{position}].tool_calls"),
            "only assistant messages carry tool calls",
        ));
    }
    let parts = match &message.content {
        Some(ChatCompletionContent::Parts(parts)) => parts.as_slice(),
        _ => &[],
    };
    for (index, part) in parts.iter().enumerate() {
        match part {
            ContentPart::ImageUrl { image_url, .. }
                if matches!(image_url.detail, Some(ImageDetail::Low | ImageDetail::High)) =>
            {
                warnings.push(Warning::unsupported_because(
                    format!("messages[{position}].content[{index}].image_url.detail"),
                    "Bedrock chooses the image resolution itself",
                ));
            }
            ContentPart::File { file, .. } if file.file_data.is_some() && file.file_id.is_some() => {
                warnings.push(Warning::unsupported_because(
                    format!("messages[{position}].content[{index}].file.file_id"),
                    "Bedrock cannot read uploaded files; the file_data was sent",
                ));
            }
            _ => {}
        }
    }
}

/// Bedrock wants alternating roles: consecutive messages of one role (several tool results, a tool
/// result followed by user text) become one message.
fn push_turn<'a>(messages: &mut Vec<Message<'a>>, role: ConversationRole, blocks: Vec<ContentBlock<'a>>) {
    match messages.last_mut() {
        Some(last) if last.role == role => last.content.extend(blocks),
        _ => messages.push(Message { role, content: blocks }),
    }
}

/// A `cache_control` mark as a cache point after the block it follows.
pub(super) fn cache_point(cache_control: &CacheControl) -> CachePoint {
    let ttl = cache_control.ttl.map(|ttl| match ttl {
        CacheTtl::FiveMinutes => "5m",
        CacheTtl::OneHour => "1h",
    });
    CachePoint { kind: "default", ttl }
}

fn system_blocks<'a>(
    message: &'a ChatCompletionMessage,
    position: usize,
    system: &mut Vec<SystemBlock<'a>>,
    warnings: &mut Warnings,
) -> LLMResult<()> {
    match &message.content {
        // Bedrock rejects blank system blocks; an empty instruction says nothing.
        Some(ChatCompletionContent::Text(text)) if text.trim().is_empty() => {}
        Some(ChatCompletionContent::Text(text)) => system.push(SystemBlock::Text(text)),
        Some(ChatCompletionContent::Parts(parts)) => {
            for part in parts {
                match part {
                    ContentPart::Text { text, .. } if text.trim().is_empty() => {}
                    ContentPart::Text { text, .. } => system.push(SystemBlock::Text(text)),
                    _ => warnings.push(Warning::unsupported_because(
                        format!("messages[{position}].content"),
                        "system messages take text only; other parts were not sent",
                    )),
                }
                if let Some(cache_control) = part.cache_control() {
                    system.push(SystemBlock::CachePoint(cache_point(cache_control)));
                }
            }
        }
        None => {
            return Err(LLMError::InvalidRequest(format!(
                "messages[{position}] is a system message without content"
            )));
        }
    }
    if let Some(cache_control) = &message.cache_control {
        system.push(SystemBlock::CachePoint(cache_point(cache_control)));
    }
    Ok(())
}

fn user_blocks<'a>(
    message: &'a ChatCompletionMessage,
    position: usize,
    documents: &mut Vec<String>,
) -> LLMResult<Vec<ContentBlock<'a>>> {
    let mut blocks = Vec::new();
    match &message.content {
        // Bedrock refuses blank text blocks ("The text field in the ContentBlock object ... is blank").
        Some(ChatCompletionContent::Text(text)) if text.trim().is_empty() => {}
        Some(ChatCompletionContent::Text(text)) => blocks.push(ContentBlock::Text(text)),
        Some(ChatCompletionContent::Parts(parts)) => {
            for (index, part) in parts.iter().enumerate() {
                let at = || format!("messages[{position}].content[{index}]");
                match part {
                    ContentPart::Text { text, .. } if text.trim().is_empty() => {}
                    ContentPart::Text { text, .. } => blocks.push(ContentBlock::Text(text)),
                    ContentPart::ImageUrl { image_url, .. } => {
                        blocks.push(ContentBlock::Image(image_block(&image_url.url, &at())?))
                    }
                    ContentPart::File { file, .. } => blocks.push(file_block(file, &at(), documents)?),
                    ContentPart::InputAudio { input_audio, .. } => {
                        blocks.push(ContentBlock::Audio(audio_block(input_audio, &at())?))
                    }
                    ContentPart::Refusal { .. } => {
                        return Err(LLMError::InvalidRequest(format!(
                            "{}: a refusal part belongs to an assistant message",
                            at()
                        )));
                    }
                    _ => {
                        return Err(LLMError::InvalidRequest(format!("{}: unknown content part", at())));
                    }
                }
                if let Some(cache_control) = part.cache_control() {
                    blocks.push(ContentBlock::CachePoint(cache_point(cache_control)));
                }
            }
        }
        None => {
            return Err(LLMError::InvalidRequest(format!(
                "messages[{position}] is a user message without content"
            )));
        }
    }
    if let Some(cache_control) = &message.cache_control {
        blocks.push(ContentBlock::CachePoint(cache_point(cache_control)));
    }
    Ok(blocks)
}

/// The text of a tool result that has none.
const EMPTY_TOOL_RESULT: &str = "(no output)";

fn tool_result<'a>(
    message: &'a ChatCompletionMessage,
    position: usize,
    documents: &mut Vec<String>,
) -> LLMResult<Vec<ContentBlock<'a>>> {
    let Some(tool_use_id) = message.tool_call_id.as_deref() else {
        return Err(LLMError::InvalidRequest(format!(
            "messages[{position}] is a tool message without tool_call_id"
        )));
    };
    let mut content = Vec::new();
    match &message.content {
        Some(ChatCompletionContent::Text(text)) if text.trim().is_empty() => {}
        Some(ChatCompletionContent::Text(text)) => content.push(ToolResultContent::Text(text)),
        Some(ChatCompletionContent::Parts(parts)) => {
            for (index, part) in parts.iter().enumerate() {
                let at = format!("messages[{position}].content[{index}]");
                match part {
                    ContentPart::Text { text, .. } if text.trim().is_empty() => {}
                    ContentPart::Text { text, .. } => content.push(ToolResultContent::Text(text)),
                    ContentPart::ImageUrl { image_url, .. } => {
                        content.push(ToolResultContent::Image(image_block(&image_url.url, &at)?))
                    }
                    ContentPart::File { file, .. } => match file_block(file, &at, documents)? {
                        ContentBlock::Image(image) => content.push(ToolResultContent::Image(image)),
                        ContentBlock::Document(document) => {
                            content.push(ToolResultContent::Document(document))
                        }
                        _ => {}
                    },
                    _ => {
                        return Err(LLMError::InvalidRequest(format!(
                            "{at}: tool results take text, images and files"
                        )));
                    }
                }
            }
        }
        None => {}
    }
    if content.is_empty() {
        // Bedrock refuses a result without content and a blank text block alike ("text content blocks must
        // be non-empty"), so a tool that printed nothing is said in words.
        content.push(ToolResultContent::Text(EMPTY_TOOL_RESULT));
    }
    let tool_use_id = wire_tool_use_id(tool_use_id);
    let mut blocks = vec![ContentBlock::ToolResult(ToolResultBlock { tool_use_id, content })];
    if let Some(cache_control) = &message.cache_control {
        blocks.push(ContentBlock::CachePoint(cache_point(cache_control)));
    }
    Ok(blocks)
}

fn assistant_blocks<'a>(
    message: &'a ChatCompletionMessage,
    position: usize,
    dropped_foreign_reasoning: &mut bool,
    warnings: &mut Warnings,
) -> LLMResult<Vec<ContentBlock<'a>>> {
    let own_order = message.provider_content.iter().flatten().any(|entry| entry.is_from(&PROVIDER));
    if own_order && !matches!(message.content, Some(ChatCompletionContent::Parts(_))) {
        return ordered_assistant_blocks(message, position, dropped_foreign_reasoning, warnings);
    }
    if own_order {
        warnings.push(Warning::unsupported_because(
            format!("messages[{position}].provider_content"),
            "an assistant message whose content is parts cannot follow Bedrock's recorded block order (give \
             the text as a string); its reasoning, text and tool calls were sent in the default order",
        ));
    } else if message.provider_content.is_some() {
        warn_provider_content(&message.blocks_for(&PROVIDER, None), position, warnings);
    }
    let mut blocks = reasoning_blocks(message, dropped_foreign_reasoning);
    match &message.content {
        // OpenAI histories often carry `""` next to tool calls, and Claude answers `"\n\n"` before some;
        // Bedrock rejects blank text blocks.
        Some(ChatCompletionContent::Text(text)) if !text.trim().is_empty() => {
            blocks.push(ContentBlock::Text(text))
        }
        Some(ChatCompletionContent::Parts(parts)) => {
            for (index, part) in parts.iter().enumerate() {
                match part {
                    ContentPart::Text { text, .. } if !text.trim().is_empty() => {
                        blocks.push(ContentBlock::Text(text))
                    }
                    ContentPart::Text { .. } => {}
                    ContentPart::Refusal { refusal } => blocks.push(ContentBlock::Text(refusal)),
                    _ => {
                        return Err(LLMError::InvalidRequest(format!(
                            "messages[{position}].content[{index}]: assistant messages take text only"
                        )));
                    }
                }
                if let Some(cache_control) = part.cache_control() {
                    blocks.push(ContentBlock::CachePoint(cache_point(cache_control)));
                }
            }
        }
        _ => {}
    }
    if let Some(refusal) = message.refusal.as_ref().filter(|refusal| !refusal.trim().is_empty()) {
        blocks.push(ContentBlock::Text(refusal));
    }
    for call in message.tool_calls.iter().flatten() {
        blocks.push(tool_use_block(call, position)?);
    }
    push_cache_point(&mut blocks, message, position, warnings);
    Ok(blocks)
}

/// A tool call as a `toolUse` block (arguments parsed back into a JSON object).
fn tool_use_block<'a>(call: &'a ToolCall, position: usize) -> LLMResult<ContentBlock<'a>> {
    let arguments = call.function.arguments.trim();
    let input = if arguments.is_empty() {
        Value::Object(Map::new())
    } else {
        serde_json::from_str(arguments).map_err(|error| {
            LLMError::InvalidRequest(format!(
                "messages[{position}]: the arguments of tool call `{}` are not JSON: {error}",
                call.id
            ))
        })?
    };
    // Bedrock refuses a toolUse input that is not an object; `null` is how some clients write "none".
    let input = match input {
        Value::Null => Value::Object(Map::new()),
        object @ Value::Object(_) => object,
        _ => {
            return Err(LLMError::InvalidRequest(format!(
                "messages[{position}]: the arguments of tool call `{}` are not a JSON object",
                call.id
            )));
        }
    };
    Ok(ContentBlock::ToolUse(ToolUseBlock {
        tool_use_id: wire_tool_use_id(&call.id),
        name: &call.function.name,
        input,
    }))
}

/// An assistant message Bedrock produced, sent back block by block in the order it recorded: reasoning
/// with its signature, text (cited text as its `citationsContent` block), tool uses, and every other block
/// (a server tool's `toolUse` and `toolResult`...) exactly as received. The text is the string content
/// (a message whose content is parts goes in the default order, warned).
fn ordered_assistant_blocks<'a>(
    message: &'a ChatCompletionMessage,
    position: usize,
    dropped_foreign_reasoning: &mut bool,
    warnings: &mut Warnings,
) -> LLMResult<Vec<ContentBlock<'a>>> {
    let text: Option<&'a str> = match &message.content {
        Some(ChatCompletionContent::Text(text)) => Some(text.as_str()),
        _ => None,
    };
    let ordered = message.blocks_for(&PROVIDER, text);
    warn_provider_content(&ordered, position, warnings);
    let mut blocks = Vec::with_capacity(ordered.blocks.len());
    for block in ordered.blocks {
        match block {
            MessageBlock::Text { text, native } => match native.and_then(|native| native.get("citations")) {
                Some(citations) => blocks.push(ContentBlock::Native(Cow::Owned(serde_json::json!({
                    "citationsContent": {"content": [{"text": text}], "citations": citations}
                })))),
                // Bedrock rejects blank text blocks.
                None if text.trim().is_empty() => {}
                None => blocks.push(ContentBlock::Text(text)),
            },
            MessageBlock::Reasoning { detail, .. } => match reasoning_block(detail, message) {
                Some(block) => blocks.push(block),
                None => *dropped_foreign_reasoning = true,
            },
            MessageBlock::ToolCall { call, .. } => blocks.push(tool_use_block(call, position)?),
            MessageBlock::Native(data) => blocks.push(ContentBlock::Native(Cow::Borrowed(data))),
            _ => {}
        }
    }
    if let Some(refusal) = message.refusal.as_ref().filter(|refusal| !refusal.trim().is_empty()) {
        blocks.push(ContentBlock::Text(refusal));
    }
    push_cache_point(&mut blocks, message, position, warnings);
    Ok(blocks)
}

/// Bedrock's own native blocks of a user or tool message (a `toolResult` a caller writes for a server
/// tool, for example), sent after its content.
fn native_blocks<'a>(
    message: &'a ChatCompletionMessage,
    position: usize,
    warnings: &mut Warnings,
) -> Vec<ContentBlock<'a>> {
    if message.provider_content.is_none() {
        return Vec::new();
    }
    let ordered = message.blocks_for(&PROVIDER, None);
    warn_provider_content(&ordered, position, warnings);
    ordered
        .blocks
        .into_iter()
        .filter_map(|block| match block {
            MessageBlock::Native(data) => Some(ContentBlock::Native(Cow::Borrowed(data))),
            _ => None,
        })
        .collect()
}

/// Warns about what `provider_content` holds that Bedrock cannot take (see `OrderedBlocks::warn_left_out`).
fn warn_provider_content(ordered: &OrderedBlocks<'_>, position: usize, warnings: &mut Warnings) {
    ordered.warn_left_out(position, "Bedrock", "block", "reasoning, text and tool calls", warnings);
}

/// Bedrock's own reasoning detail as its block (`None` for another provider's).
fn reasoning_block<'a>(
    detail: &'a ReasoningDetail,
    message: &'a ChatCompletionMessage,
) -> Option<ContentBlock<'a>> {
    if detail.provider.as_deref() != Some(REASONING_PROVIDER) {
        return None;
    }
    match detail.kind {
        ReasoningDetailType::Text => {
            let text = detail.text.as_deref().or(message.reasoning_content.as_deref()).unwrap_or_default();
            Some(ContentBlock::ReasoningContent(ReasoningContent::ReasoningText(ReasoningText {
                text,
                signature: detail.signature.as_deref(),
            })))
        }
        ReasoningDetailType::Encrypted => detail
            .data
            .as_deref()
            .map(|data| ContentBlock::ReasoningContent(ReasoningContent::RedactedContent(data))),
        _ => None,
    }
}

/// The message's cache point after its last block (none right after reasoning, which Bedrock refuses).
fn push_cache_point<'a>(
    blocks: &mut Vec<ContentBlock<'a>>,
    message: &ChatCompletionMessage,
    position: usize,
    warnings: &mut Warnings,
) {
    if let Some(cache_control) = &message.cache_control {
        match blocks.last() {
            None => {}
            // "Cache point cannot be inserted after reasoning block", Bedrock says.
            Some(ContentBlock::ReasoningContent(_)) => warnings.push(Warning::unsupported_because(
                format!("messages[{position}].cache_control"),
                "Bedrock takes no cache point right after reasoning",
            )),
            Some(_) => blocks.push(ContentBlock::CachePoint(cache_point(cache_control))),
        }
    }
}

/// A tool call's id as Bedrock accepts it (`[a-zA-Z0-9_.:-]`, 1 to 64 characters; a 400 otherwise). Ids
/// other providers or clients made (empty, `|` or `/` in them, longer) get `_` for each other character
/// and a hash of the whole id, so that a call and its result still match and distinct ids stay distinct.
fn wire_tool_use_id(id: &str) -> Cow<'_, str> {
    let allowed =
        |character: char| character.is_ascii_alphanumeric() || matches!(character, '_' | '.' | ':' | '-');
    if !id.is_empty() && id.len() <= 64 && id.chars().all(allowed) {
        return Cow::Borrowed(id);
    }
    // FNV-1a: stable across builds and platforms, unlike std's hasher.
    let hash = id.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    let cleaned: String =
        id.chars().take(47).map(|character| if allowed(character) { character } else { '_' }).collect();
    Cow::Owned(format!("{cleaned}_{hash:016x}"))
}

/// Bedrock's own reasoning blocks, unchanged, so that Claude accepts the signed thinking of earlier turns.
fn reasoning_blocks<'a>(
    message: &'a ChatCompletionMessage,
    dropped_foreign_reasoning: &mut bool,
) -> Vec<ContentBlock<'a>> {
    let details = message.reasoning_details.as_deref().unwrap_or_default();
    let ours: Vec<&ReasoningDetail> =
        details.iter().filter(|detail| detail.provider.as_deref() == Some(REASONING_PROVIDER)).collect();
    if ours.is_empty() {
        *dropped_foreign_reasoning |=
            message.reasoning_content.as_ref().is_some_and(|text| !text.is_empty()) || !details.is_empty();
        return Vec::new();
    }
    // A streamed signature may come without its text; the message's reasoning text is then that block's.
    let textless =
        ours.iter().filter(|detail| detail.kind == ReasoningDetailType::Text && detail.text.is_none());
    let fallback_text = (textless.count() == 1).then_some(message.reasoning_content.as_deref()).flatten();
    let mut blocks = Vec::new();
    for detail in ours {
        match detail.kind {
            ReasoningDetailType::Text => {
                let text = detail.text.as_deref().or(fallback_text).unwrap_or_default();
                blocks.push(ContentBlock::ReasoningContent(ReasoningContent::ReasoningText(ReasoningText {
                    text,
                    signature: detail.signature.as_deref(),
                })));
            }
            ReasoningDetailType::Encrypted => {
                if let Some(data) = &detail.data {
                    blocks.push(ContentBlock::ReasoningContent(ReasoningContent::RedactedContent(data)));
                }
            }
            _ => *dropped_foreign_reasoning = true,
        }
    }
    blocks
}

// ---- Media ----

/// A `data:` URI's media type (without parameters such as `;charset=`, as every provider reads it) and
/// its data, which Bedrock needs in base64.
fn base64_data_uri<'a>(uri: &'a str, at: &str) -> LLMResult<(&'a str, &'a str)> {
    let invalid = |why: &str| LLMError::InvalidRequest(format!("{at}: {why}"));
    if !uri.starts_with("data:") {
        return Err(invalid("expected a data: URI"));
    }
    let parsed = parse_data_uri(uri).ok_or_else(|| invalid("the data: URI has no comma"))?;
    if !parsed.base64 {
        return Err(invalid("Bedrock needs base64 data: URIs (`data:<type>;base64,...`)"));
    }
    let data = parsed.data;
    let plausible =
        data.bytes().all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'+' | b'/' | b'='));
    if data.is_empty() || !plausible {
        return Err(invalid("the data: URI does not hold base64 data"));
    }
    Ok((parsed.media_type, data))
}

fn image_format(media_type: &str) -> Option<&'static str> {
    match media_type.to_ascii_lowercase().as_str() {
        "image/png" => Some("png"),
        "image/jpeg" | "image/jpg" => Some("jpeg"),
        "image/gif" => Some("gif"),
        "image/webp" => Some("webp"),
        _ => None,
    }
}

fn document_format(media_type: &str) -> Option<&'static str> {
    match media_type.to_ascii_lowercase().as_str() {
        "application/pdf" => Some("pdf"),
        "text/csv" => Some("csv"),
        "application/msword" => Some("doc"),
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document" => Some("docx"),
        "application/vnd.ms-excel" => Some("xls"),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => Some("xlsx"),
        "text/html" => Some("html"),
        "text/plain" => Some("txt"),
        "text/markdown" => Some("md"),
        _ => None,
    }
}

fn extension(uri: &str) -> &str {
    uri.rsplit_once('.').map(|(_, extension)| extension).unwrap_or_default()
}

fn image_block<'a>(url: &'a str, at: &str) -> LLMResult<ImageBlock<'a>> {
    if url.starts_with("s3://") {
        let format = image_format(&format!("image/{}", extension(url))).ok_or_else(|| {
            LLMError::InvalidRequest(format!(
                "{at}: cannot tell the image format of `{url}` (png, jpeg, gif, webp)"
            ))
        })?;
        return Ok(ImageBlock { format, source: Source::S3Location(S3Location { uri: url }) });
    }
    if url.starts_with("http://") || url.starts_with("https://") {
        return Err(LLMError::InvalidRequest(format!(
            "{at}: Bedrock does not fetch image URLs; send the image as a data: URI or an s3:// URI"
        )));
    }
    let (media_type, data) = base64_data_uri(url, at)?;
    let format = image_format(media_type).ok_or_else(|| {
        LLMError::InvalidRequest(format!(
            "{at}: Bedrock takes png, jpeg, gif and webp images, not `{media_type}`"
        ))
    })?;
    Ok(ImageBlock { format, source: Source::Bytes(data) })
}

/// OpenAI's `input_audio` (base64 wav or mp3) as an `audio` block; Converse names the same formats.
fn audio_block<'a>(input_audio: &'a InputAudio, at: &str) -> LLMResult<AudioBlock<'a>> {
    let format = match input_audio.format.to_ascii_lowercase().as_str() {
        "wav" => "wav",
        "mp3" => "mp3",
        other => {
            return Err(LLMError::InvalidRequest(format!(
                "{at}: audio in `{other}` is not sent; give wav or mp3"
            )));
        }
    };
    let data = input_audio.data.as_str();
    let plausible =
        data.bytes().all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'+' | b'/' | b'='));
    if data.is_empty() || !plausible {
        return Err(LLMError::InvalidRequest(format!("{at}: the audio data is not base64")));
    }
    Ok(AudioBlock { format, source: Source::Bytes(data) })
}

/// A file part: a document, or an image when the data is one.
/// `documents` holds the names of the request's documents so far: Bedrock refuses a request in which two
/// documents share a name ("Messages can't contain duplicate document names").
fn file_block<'a>(file: &'a FileInput, at: &str, documents: &mut Vec<String>) -> LLMResult<ContentBlock<'a>> {
    let Some(file_data) = &file.file_data else {
        return Err(LLMError::InvalidRequest(format!(
            "{at}: Bedrock cannot read uploaded file ids; send `file_data` as a data: URI"
        )));
    };
    let (media_type, data) = base64_data_uri(file_data, at)?;
    if let Some(format) = image_format(media_type) {
        return Ok(ContentBlock::Image(ImageBlock { format, source: Source::Bytes(data) }));
    }
    let format = document_format(media_type).ok_or_else(|| {
        LLMError::InvalidRequest(format!(
            "{at}: Bedrock takes pdf, csv, doc, docx, xls, xlsx, html, txt and md documents, not `{media_type}`"
        ))
    })?;
    let name = file.filename.as_deref().map(document_name).filter(|name| !name.is_empty());
    let name = unique_document_name(
        name.unwrap_or_else(|| format!("document {}", documents.len().saturating_add(1))),
        documents,
    );
    documents.push(name.clone());
    Ok(ContentBlock::Document(DocumentBlock { format, name, source: Source::Bytes(data) }))
}

/// Bedrock document names allow ASCII letters and digits, single spaces, hyphens, parentheses and
/// brackets (`résumé` or `報告` is refused like any other character outside the list).
fn document_name(filename: &str) -> String {
    let stem = filename.rsplit_once('.').map_or(filename, |(stem, _)| stem);
    let mut name = String::with_capacity(stem.len());
    for character in stem.chars() {
        let kept = if character.is_ascii_alphanumeric() || matches!(character, '-' | '(' | ')' | '[' | ']') {
            character
        } else {
            ' '
        };
        if !(kept == ' ' && (name.is_empty() || name.ends_with(' '))) {
            name.push(kept);
        }
    }
    name.trim_end().chars().take(200).collect()
}

/// `name`, or `name (2)`, `name (3)`... when an earlier document has it (compared ignoring case, to be
/// safe), within Bedrock's 200 characters.
fn unique_document_name(name: String, taken: &[String]) -> String {
    let is_taken = |candidate: &str| taken.iter().any(|used| used.eq_ignore_ascii_case(candidate));
    if !is_taken(&name) {
        return name;
    }
    // One of the first `taken.len() + 1` numbers is free.
    for number in 2..=taken.len().saturating_add(2) {
        let suffix = format!(" ({number})");
        let stem: String = name.chars().take(200usize.saturating_sub(suffix.len())).collect();
        let candidate = format!("{}{suffix}", stem.trim_end());
        if !is_taken(&candidate) {
            return candidate;
        }
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_names_follow_bedrock_rules() {
        assert_eq!(document_name("Q3 report_final.v2.pdf"), "Q3 report final v2");
        assert_eq!(document_name("  a\t\tb (draft) [1].txt"), "a b (draft) [1]");
        assert_eq!(document_name("..."), "");
        assert_eq!(document_name("résumé 2024.pdf"), "r sum 2024");
        assert_eq!(document_name("報告書.pdf"), "");
    }

    #[test]
    fn document_names_are_made_unique() {
        let taken = vec!["report".to_owned(), "Report (2)".to_owned()];
        assert_eq!(unique_document_name("notes".to_owned(), &taken), "notes");
        assert_eq!(unique_document_name("REPORT".to_owned(), &taken), "REPORT (3)");
        let long = "a".repeat(200);
        let renamed = unique_document_name(long.clone(), &[long]);
        assert_eq!((renamed.len(), renamed.ends_with("a (2)")), (200, true));
    }

    #[test]
    fn data_uris_are_checked() {
        assert_eq!(
            base64_data_uri("data:image/png;base64,iVBORw0K", "x").ok(),
            Some(("image/png", "iVBORw0K"))
        );
        assert!(base64_data_uri("data:image/png,raw", "x").is_err());
        assert!(base64_data_uri("data:image/png;base64,not base64!", "x").is_err());
        assert!(base64_data_uri("https://example.com/cat.png", "x").is_err());
        // Parameters are not part of the media type (as the other providers read data URIs).
        assert_eq!(
            base64_data_uri("data:text/plain;charset=utf-8;base64,aGVsbG8=", "x").ok(),
            Some(("text/plain", "aGVsbG8="))
        );
    }
}
