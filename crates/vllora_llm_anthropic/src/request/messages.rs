//! Messages and content parts -> Anthropic's `system` and `messages`: system and developer messages become
//! `system`, consecutive turns of one role merge, tool results open the next user turn, images and PDFs
//! become `image` and `document` blocks, cache breakpoints land on the block that can hold them, and
//! Anthropic's own thinking blocks go back exactly as they came.

use serde_json::Value;
use vllora_llm_core::support::parse_data_uri;
use vllora_llm_core::types::gateway::{
    CacheControl, ChatCompletionContent, ChatCompletionMessage, ContentPart, FileInput, ImageUrl,
    MessageBlock, OrderedBlocks, ReasoningDetail, ReasoningDetailType, Role, ToolCall,
};
use vllora_llm_core::{LLMError, LLMResult, Warning, Warnings};

use super::add_beta;
use crate::PROVIDER;
use crate::wire::{ContentBlockParam, MessageParam, SourceParam, SystemPrompt, TextBlockParam, WireRole};

/// Beta for `document` blocks that point at the Files API.
const FILES_API_BETA: &str = "files-api-2025-04-14";
/// The image types Anthropic reads.
const IMAGE_MEDIA_TYPES: [&str; 4] = ["image/jpeg", "image/png", "image/gif", "image/webp"];

/// Content rules that depend on the API version.
#[derive(Debug, Clone, Copy)]
pub(super) struct ContentRules {
    /// `2026-10-21` rejects `document` blocks in assistant messages.
    pub(super) assistant_documents_allowed: bool,
}

/// The translated conversation.
#[derive(Debug)]
pub(super) struct Conversation {
    pub(super) system: Option<SystemPrompt>,
    pub(super) messages: Vec<MessageParam>,
    /// The cache breakpoints in `system` and `messages`, which Anthropic limits per request.
    pub(super) cache_breakpoints: usize,
}

/// Translates the gateway messages into Anthropic's `system` and `messages`.
pub(super) fn translate(
    messages: &[ChatCompletionMessage],
    rules: ContentRules,
    betas: &mut Vec<&'static str>,
    warnings: &mut Warnings,
) -> LLMResult<Conversation> {
    let mut system_blocks: Vec<TextBlockParam> = Vec::new();
    let mut system_messages = 0usize;
    let mut plain_system = true;
    let mut turns: Vec<MessageParam> = Vec::new();

    for (position, message) in messages.iter().enumerate() {
        if message.name.is_some() {
            warnings.push(Warning::unsupported_because(
                format!("messages[{position}].name"),
                "Anthropic messages have no participant names",
            ));
        }
        if message.tool_calls.is_some() && message.role != Role::Assistant {
            warnings.push(Warning::unsupported_because(
                format!("messages[{position}].tool_calls"),
                "only assistant messages carry tool calls",
            ));
        }
        let blank_cached_part = |part: &ContentPart| match part {
            ContentPart::Text { text, cache_control: Some(_) } => text.trim().is_empty(),
            _ => false,
        };
        if let Some(ChatCompletionContent::Parts(parts)) = &message.content {
            if parts.iter().any(blank_cached_part) {
                warnings.push(Warning::unsupported_because(
                    format!("messages[{position}].content[].cache_control"),
                    "Anthropic takes no empty text; the cache breakpoint on an empty part was left out",
                ));
            }
        }
        match &message.role {
            Role::System | Role::Developer => {
                system_messages = system_messages.saturating_add(1);
                plain_system &= message.cache_control.is_none()
                    && matches!(message.content, Some(ChatCompletionContent::Text(_)) | None);
                let mut blocks = system_text_blocks(message, position, warnings);
                let placed = attach_message_cache_control(&mut blocks, message.cache_control);
                warn_if_breakpoint_lost(placed, position, warnings);
                system_blocks.extend(blocks);
            }
            Role::User => {
                let mut blocks = user_blocks(message, position, betas, warnings)?;
                blocks.extend(native_blocks(message, position, warnings));
                let placed = attach_cache_control(&mut blocks, message.cache_control);
                warn_if_breakpoint_lost(placed, position, warnings);
                push_turn(&mut turns, WireRole::User, blocks);
            }
            Role::Tool => {
                let mut blocks = vec![tool_result_block(message, position, warnings)?];
                blocks.extend(native_blocks(message, position, warnings));
                let placed = attach_cache_control(&mut blocks, message.cache_control);
                warn_if_breakpoint_lost(placed, position, warnings);
                push_turn(&mut turns, WireRole::User, blocks);
            }
            Role::Assistant => {
                let mut blocks = assistant_blocks(message, position, rules, betas, warnings)?;
                let placed = attach_cache_control(&mut blocks, message.cache_control);
                warn_if_breakpoint_lost(placed, position, warnings);
                push_turn(&mut turns, WireRole::Assistant, blocks);
            }
            Role::Function => {
                return Err(LLMError::InvalidRequest(format!(
                    "messages[{position}]: role `function` (legacy function calling) is not supported by \
                     Anthropic; send tool calls and `tool` messages instead"
                )));
            }
            other => {
                return Err(LLMError::InvalidRequest(format!(
                    "messages[{position}]: role `{other}` is not supported by Anthropic"
                )));
            }
        }
    }

    for turn in &mut turns {
        if turn.role == WireRole::User {
            // Anthropic wants a turn's tool results before anything else the user says.
            turn.content.sort_by_key(|block| !matches!(block, ContentBlockParam::ToolResult { .. }));
        }
    }
    trim_final_assistant_turn(&mut turns);
    if turns.is_empty() {
        return Err(LLMError::InvalidRequest(
            "Anthropic needs at least one user or assistant message with content".to_owned(),
        ));
    }

    let system_breakpoints = system_blocks.iter().filter(|block| block.cache_control.is_some()).count();
    let cache_breakpoints = turns
        .iter()
        .flat_map(|turn| &turn.content)
        .map(ContentBlockParam::cache_breakpoints)
        .fold(system_breakpoints, usize::saturating_add);
    let system = match system_blocks.len() {
        0 => None,
        1 if plain_system && system_messages == 1 => {
            system_blocks.pop().map(|block| SystemPrompt::Text(block.text))
        }
        _ => Some(SystemPrompt::Blocks(system_blocks)),
    };
    Ok(Conversation { system, messages: turns, cache_breakpoints })
}

/// Appends `blocks` to the conversation, merging them into the previous turn when it has the same role.
fn push_turn(turns: &mut Vec<MessageParam>, role: WireRole, blocks: Vec<ContentBlockParam>) {
    if blocks.is_empty() {
        return;
    }
    match turns.last_mut() {
        Some(last) if last.role == role => last.content.extend(blocks),
        _ => turns.push(MessageParam { role, content: blocks }),
    }
}

/// Anthropic rejects a final assistant turn (a prefill) that ends in whitespace.
fn trim_final_assistant_turn(turns: &mut Vec<MessageParam>) {
    let Some(last) = turns.last_mut() else { return };
    if last.role != WireRole::Assistant {
        return;
    }
    if let Some(ContentBlockParam::Text { text, .. }) = last.content.last_mut() {
        let trimmed_length = text.trim_end().len();
        text.truncate(trimmed_length);
        if text.is_empty() {
            last.content.pop();
        }
    }
    if last.content.is_empty() {
        turns.pop();
    }
}

/// A message-level breakpoint goes on the message's last block that can hold one; false when it was
/// asked for and there is none.
fn attach_cache_control(blocks: &mut [ContentBlockParam], cache_control: Option<CacheControl>) -> bool {
    let Some(cache_control) = cache_control else { return true };
    let Some(slot) = blocks.iter_mut().rev().find_map(ContentBlockParam::cache_control_mut) else {
        return false;
    };
    *slot = Some(cache_control);
    true
}

fn attach_message_cache_control(blocks: &mut [TextBlockParam], cache_control: Option<CacheControl>) -> bool {
    let Some(cache_control) = cache_control else { return true };
    let Some(last) = blocks.last_mut() else { return false };
    last.cache_control = Some(cache_control);
    true
}

fn warn_if_breakpoint_lost(placed: bool, position: usize, warnings: &mut Warnings) {
    if !placed {
        warnings.push(Warning::unsupported_because(
            format!("messages[{position}].cache_control"),
            "the message has no content Anthropic can put a cache breakpoint on; it was left out",
        ));
    }
}

fn text_block(text: &str, cache_control: Option<CacheControl>) -> Option<ContentBlockParam> {
    (!text.trim().is_empty()).then(|| ContentBlockParam::Text { text: text.to_owned(), cache_control })
}

fn system_text_blocks(
    message: &ChatCompletionMessage,
    position: usize,
    warnings: &mut Warnings,
) -> Vec<TextBlockParam> {
    let block =
        |text: &str, cache_control| TextBlockParam { kind: "text", text: text.to_owned(), cache_control };
    match &message.content {
        None => Vec::new(),
        Some(ChatCompletionContent::Text(text)) if text.trim().is_empty() => Vec::new(),
        Some(ChatCompletionContent::Text(text)) => vec![block(text, None)],
        Some(ChatCompletionContent::Parts(parts)) => parts
            .iter()
            .filter_map(|part| match part {
                ContentPart::Text { text, .. } if text.trim().is_empty() => None,
                ContentPart::Text { text, cache_control } => Some(block(text, *cache_control)),
                _ => {
                    warnings.push(Warning::unsupported_because(
                        format!("messages[{position}].content"),
                        "Anthropic's system prompt takes text only; a non-text part was left out",
                    ));
                    None
                }
            })
            .collect(),
    }
}

fn user_blocks(
    message: &ChatCompletionMessage,
    position: usize,
    betas: &mut Vec<&'static str>,
    warnings: &mut Warnings,
) -> LLMResult<Vec<ContentBlockParam>> {
    match &message.content {
        None => Ok(Vec::new()),
        Some(ChatCompletionContent::Text(text)) => Ok(text_block(text, None).into_iter().collect()),
        Some(ChatCompletionContent::Parts(parts)) => {
            let mut blocks = Vec::with_capacity(parts.len());
            for part in parts {
                blocks.extend(part_block(part, position, betas, warnings)?);
            }
            Ok(blocks)
        }
    }
}

fn part_block(
    part: &ContentPart,
    position: usize,
    betas: &mut Vec<&'static str>,
    warnings: &mut Warnings,
) -> LLMResult<Option<ContentBlockParam>> {
    Ok(match part {
        ContentPart::Text { text, cache_control } => text_block(text, *cache_control),
        ContentPart::Refusal { refusal } => text_block(refusal, None),
        ContentPart::ImageUrl { image_url, cache_control } => {
            Some(image_block(image_url, *cache_control, position, warnings)?)
        }
        ContentPart::File { file, cache_control } => file_block(file, *cache_control, position, betas)?,
        ContentPart::InputAudio { .. } => {
            warnings.push(Warning::unsupported_because(
                format!("messages[{position}].content[].input_audio"),
                "Anthropic does not take audio input",
            ));
            None
        }
        _ => {
            warnings.push(Warning::unsupported_because(
                format!("messages[{position}].content"),
                "a content part of a kind Anthropic does not take was left out",
            ));
            None
        }
    })
}

/// Splits `data:<media type>[;params];base64,<data>` into the media type (without parameters) and the
/// base64 data; `None` for anything else, a data URI without `;base64` included.
fn base64_data_uri(uri: &str) -> Option<(&str, &str)> {
    parse_data_uri(uri).filter(|parsed| parsed.base64).map(|parsed| (parsed.media_type, parsed.data))
}

fn image_block(
    image: &ImageUrl,
    cache_control: Option<CacheControl>,
    position: usize,
    warnings: &mut Warnings,
) -> LLMResult<ContentBlockParam> {
    if image.detail.is_some() {
        warnings.push(Warning::unsupported_because(
            format!("messages[{position}].content[].image_url.detail"),
            "Anthropic chooses the resolution itself",
        ));
    }
    let source = if image.url.starts_with("data:") {
        let Some((media_type, data)) = base64_data_uri(&image.url) else {
            return Err(LLMError::InvalidRequest(format!(
                "messages[{position}]: an image data URI must be `data:<media type>;base64,<data>`"
            )));
        };
        let media_type = media_type.to_ascii_lowercase();
        if !IMAGE_MEDIA_TYPES.contains(&media_type.as_str()) {
            return Err(LLMError::InvalidRequest(format!(
                "messages[{position}]: Anthropic reads JPEG, PNG, GIF and WebP images, not `{media_type}`"
            )));
        }
        SourceParam::Base64 { media_type, data: data.to_owned() }
    } else if image.url.starts_with("https://") || image.url.starts_with("http://") {
        SourceParam::Url { url: image.url.clone() }
    } else {
        return Err(LLMError::InvalidRequest(format!(
            "messages[{position}]: an image must be an http(s) URL or a base64 data URI"
        )));
    };
    Ok(ContentBlockParam::Image { source, cache_control })
}

fn file_block(
    file: &FileInput,
    cache_control: Option<CacheControl>,
    position: usize,
    betas: &mut Vec<&'static str>,
) -> LLMResult<Option<ContentBlockParam>> {
    let title = file.filename.clone();
    if let Some(data_uri) = &file.file_data {
        let Some((media_type, data)) = base64_data_uri(data_uri) else {
            return Err(LLMError::InvalidRequest(format!(
                "messages[{position}]: `file_data` must be a data URI `data:<media type>;base64,<data>`"
            )));
        };
        let media_type = media_type.to_ascii_lowercase();
        let source = SourceParam::Base64 { media_type: media_type.clone(), data: data.to_owned() };
        if media_type == "application/pdf" {
            return Ok(Some(ContentBlockParam::Document { source, title, cache_control }));
        }
        if IMAGE_MEDIA_TYPES.contains(&media_type.as_str()) {
            return Ok(Some(ContentBlockParam::Image { source, cache_control }));
        }
        return Err(LLMError::InvalidRequest(format!(
            "messages[{position}]: Anthropic reads PDF files and images, not `{media_type}`"
        )));
    }
    if let Some(file_id) = &file.file_id {
        add_beta(betas, FILES_API_BETA);
        let source = SourceParam::File { file_id: file_id.clone() };
        return Ok(Some(ContentBlockParam::Document { source, title, cache_control }));
    }
    Err(LLMError::InvalidRequest(format!("messages[{position}]: a file part needs `file_data` or `file_id`")))
}

fn tool_result_block(
    message: &ChatCompletionMessage,
    position: usize,
    warnings: &mut Warnings,
) -> LLMResult<ContentBlockParam> {
    let Some(tool_use_id) = message.tool_call_id.clone() else {
        return Err(LLMError::InvalidRequest(format!(
            "messages[{position}]: a `tool` message needs `tool_call_id`"
        )));
    };
    let content = match &message.content {
        None => Vec::new(),
        Some(ChatCompletionContent::Text(text)) => text_block(text, None).into_iter().collect(),
        Some(ChatCompletionContent::Parts(parts)) => {
            let mut blocks = Vec::with_capacity(parts.len());
            for part in parts {
                match part {
                    ContentPart::Text { text, cache_control } => {
                        blocks.extend(text_block(text, *cache_control))
                    }
                    ContentPart::ImageUrl { image_url, cache_control } => {
                        blocks.push(image_block(image_url, *cache_control, position, warnings)?);
                    }
                    _ => warnings.push(Warning::unsupported_because(
                        format!("messages[{position}].content"),
                        "a tool result takes text and images only; another part was left out",
                    )),
                }
            }
            blocks
        }
    };
    Ok(ContentBlockParam::ToolResult {
        tool_use_id: wire_tool_use_id(&tool_use_id),
        content,
        cache_control: None,
    })
}

/// Warns about what `provider_content` holds that Anthropic cannot take (see `OrderedBlocks::warn_left_out`).
fn warn_provider_content(ordered: &OrderedBlocks<'_>, position: usize, warnings: &mut Warnings) {
    ordered.warn_left_out(position, "Anthropic", "block", "thinking, text and tool calls", warnings);
}

/// Anthropic's own native blocks of a user or tool message, sent after its content.
fn native_blocks(
    message: &ChatCompletionMessage,
    position: usize,
    warnings: &mut Warnings,
) -> Vec<ContentBlockParam> {
    if message.provider_content.is_none() {
        return Vec::new();
    }
    let ordered = message.blocks_for(&PROVIDER, None);
    warn_provider_content(&ordered, position, warnings);
    ordered
        .blocks
        .iter()
        .filter_map(|block| match block {
            MessageBlock::Native(data) => Some(ContentBlockParam::Native((*data).clone())),
            _ => None,
        })
        .collect()
}

fn assistant_blocks(
    message: &ChatCompletionMessage,
    position: usize,
    rules: ContentRules,
    betas: &mut Vec<&'static str>,
    warnings: &mut Warnings,
) -> LLMResult<Vec<ContentBlockParam>> {
    let own_order = message.provider_content.iter().flatten().any(|entry| entry.is_from(&PROVIDER));
    if own_order {
        return ordered_assistant_blocks(message, position, warnings);
    }
    if message.provider_content.is_some() {
        warn_provider_content(&message.blocks_for(&PROVIDER, None), position, warnings);
    }
    // Without a recorded order, thinking blocks come first, exactly as Anthropic produced them.
    let details = message.reasoning_details.as_deref().unwrap_or_default();
    let mut blocks: Vec<ContentBlockParam> = details.iter().filter_map(reasoning_block).collect();
    let has_reasoning_text = message.reasoning_content.as_deref().is_some_and(|text| !text.trim().is_empty());
    if blocks.len() < details.len() || (blocks.is_empty() && has_reasoning_text) {
        warnings.push(Warning::unsupported_because(
            format!("messages[{position}].reasoning_content"),
            "Anthropic takes back only its own thinking blocks with their signatures (from \
             reasoning_details); other reasoning was left out",
        ));
    }
    if message.audio.is_some() {
        warnings.push(Warning::unsupported_because(
            format!("messages[{position}].audio"),
            "Anthropic cannot refer to an earlier audio answer",
        ));
    }
    if message.content.is_some() && message.refusal.is_some() {
        warnings.push(Warning::unsupported_because(
            format!("messages[{position}].refusal"),
            "a refusal is sent as the assistant's text only when the message has no content",
        ));
    }
    match &message.content {
        None => {}
        Some(ChatCompletionContent::Text(text)) => blocks.extend(text_block(text, None)),
        Some(ChatCompletionContent::Parts(parts)) => {
            for part in parts {
                let Some(block) = part_block(part, position, betas, warnings)? else { continue };
                if matches!(block, ContentBlockParam::Document { .. }) && !rules.assistant_documents_allowed {
                    warnings.push(Warning::unsupported_because(
                        format!("messages[{position}].content[].file"),
                        "API version 2026-10-21 rejects documents in assistant messages",
                    ));
                    continue;
                }
                blocks.push(block);
            }
        }
    }
    if message.content.is_none() {
        if let Some(refusal) = &message.refusal {
            blocks.extend(text_block(refusal, None));
        }
    }
    for (call_position, call) in message.tool_calls.iter().flatten().enumerate() {
        blocks.push(tool_use_block(call, position, call_position)?);
    }
    Ok(blocks)
}

/// An assistant message Anthropic produced, sent back block by block in the order it recorded: thinking,
/// text (with its citations), tool use and server-tool blocks exactly as received. Text is the string
/// content or the text parts joined; other parts of such a message are not sent (warned).
fn ordered_assistant_blocks(
    message: &ChatCompletionMessage,
    position: usize,
    warnings: &mut Warnings,
) -> LLMResult<Vec<ContentBlockParam>> {
    let (text, other_parts) = message.recorded_order_text();
    if other_parts {
        warnings.push(Warning::unsupported_because(
            format!("messages[{position}].content"),
            "an assistant message sent in its recorded block order carries its text only; other parts were left out",
        ));
    }
    let ordered = message.blocks_for(&PROVIDER, text.as_deref());
    warn_provider_content(&ordered, position, warnings);
    let mut blocks = Vec::with_capacity(ordered.blocks.len());
    let mut lost_reasoning = false;
    for (block_position, block) in ordered.blocks.iter().enumerate() {
        match block {
            MessageBlock::Text { text, native } => match native {
                Some(Value::Object(fields)) => {
                    let mut block = fields.clone();
                    block.insert("type".to_owned(), Value::String("text".to_owned()));
                    block.insert("text".to_owned(), Value::String((*text).to_owned()));
                    blocks.push(ContentBlockParam::Native(Value::Object(block)));
                }
                // Anthropic rejects empty text blocks; a recorded empty one has nothing to say.
                _ if text.is_empty() => {}
                _ => blocks.push(ContentBlockParam::Text { text: (*text).to_owned(), cache_control: None }),
            },
            MessageBlock::Reasoning { detail, .. } => match reasoning_block(detail) {
                Some(block) => blocks.push(block),
                None => lost_reasoning = true,
            },
            MessageBlock::ToolCall { call, .. } => {
                blocks.push(tool_use_block(call, position, block_position)?);
            }
            MessageBlock::Native(data) => blocks.push(ContentBlockParam::Native((*data).clone())),
            _ => {}
        }
    }
    if lost_reasoning {
        warnings.push(Warning::unsupported_because(
            format!("messages[{position}].reasoning_content"),
            "Anthropic takes back only its own thinking blocks with their signatures (from \
             reasoning_details); other reasoning was left out",
        ));
    }
    Ok(blocks)
}

/// A tool call as a `tool_use` block (arguments parsed back into JSON).
fn tool_use_block(call: &ToolCall, position: usize, call_position: usize) -> LLMResult<ContentBlockParam> {
    let arguments = call.function.arguments.trim();
    let input = if arguments.is_empty() {
        Value::Object(serde_json::Map::new())
    } else {
        serde_json::from_str::<Value>(arguments).map_err(|error| {
            LLMError::InvalidRequest(format!(
                "messages[{position}].tool_calls[{call_position}] (`{}`): arguments are not JSON: {error}",
                call.function.name
            ))
        })?
    };
    Ok(ContentBlockParam::ToolUse {
        id: wire_tool_use_id(&call.id),
        name: call.function.name.clone(),
        input,
        cache_control: None,
    })
}

/// A tool call's id as Anthropic accepts it: `^[a-zA-Z0-9_-]+$`, or the request is a 400. Ids that other
/// providers made (`functions.get_weather:0`, empty ones) get `_` for each other character and a hash of the
/// whole id, so that two ids never merge into one; the mapping is a pure function of the id, so a call and
/// its result still match.
fn wire_tool_use_id(id: &str) -> String {
    let allowed = |character: char| character.is_ascii_alphanumeric() || character == '_' || character == '-';
    if !id.is_empty() && id.chars().all(allowed) {
        return id.to_owned();
    }
    // FNV-1a: stable across builds and platforms, unlike std's hasher.
    let hash = id.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    let cleaned: String =
        id.chars().map(|character| if allowed(character) { character } else { '_' }).collect();
    format!("{cleaned}_{hash:016x}")
}

/// A reasoning detail Anthropic produced, as the block to send back; other providers' details are not ours
/// to send.
fn reasoning_block(detail: &ReasoningDetail) -> Option<ContentBlockParam> {
    if detail.provider.as_deref().is_some_and(|provider| provider != crate::PROVIDER_NAME) {
        return None;
    }
    match detail.kind {
        ReasoningDetailType::Text => Some(ContentBlockParam::Thinking {
            thinking: detail.text.clone().unwrap_or_default(),
            signature: detail.signature.clone()?,
        }),
        ReasoningDetailType::Encrypted => {
            Some(ContentBlockParam::RedactedThinking { data: detail.data.clone()? })
        }
        _ => None,
    }
}
