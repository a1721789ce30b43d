//! Gateway request -> Anthropic Messages request body, with a warning for everything Anthropic cannot honour.

use serde_json::Value;
use vllora_llm_core::types::gateway::{
    AllowedToolsMode, CacheControl, ChatCompletionContent, ChatCompletionMessage, ChatCompletionRequest,
    ContentPart, FileInput, ImageUrl, ReasoningDetail, ReasoningDetailType, ReasoningEffort, ResponseFormat,
    Role, ThinkingType, ToolChoice,
};
use vllora_llm_core::{LLMError, LLMResult, Warning, Warnings};

use crate::config::AnthropicConfig;
use crate::family::{ModelFamily, StructuredOutput};
use crate::wire::{
    ContentBlockParam, JsonSchemaFormat, MessageParam, MessagesRequest, Metadata, OutputConfig, SourceParam,
    SystemPrompt, TextBlockParam, ThinkingParam, ToolChoiceParam, ToolParam, WireRole,
};

/// Anthropic accepts at most this many `cache_control` breakpoints in one request.
const MAX_CACHE_BREAKPOINTS: usize = 4;
/// Anthropic's smallest thinking budget.
const MIN_THINKING_BUDGET: u32 = 1024;
/// Beta for `document` blocks that point at the Files API.
const FILES_API_BETA: &str = "files-api-2025-04-14";
/// Beta for the pre-GA `output_format` structured outputs.
const STRUCTURED_OUTPUTS_BETA: &str = "structured-outputs-2025-11-13";
/// The image types Anthropic reads.
const IMAGE_MEDIA_TYPES: [&str; 4] = ["image/jpeg", "image/png", "image/gif", "image/webp"];

/// A translated request: the body and the betas it needs on top of the configured ones.
#[derive(Debug)]
pub(crate) struct AnthropicRequest {
    pub body: MessagesRequest,
    pub betas: Vec<&'static str>,
}

/// Translates `request` for `model` (the request's own model when `None`).
pub(crate) fn build_request(
    request: &ChatCompletionRequest,
    model: Option<&str>,
    config: &AnthropicConfig,
    stream: bool,
    warnings: &mut Warnings,
) -> LLMResult<AnthropicRequest> {
    let model = strip_provider_prefix(model.unwrap_or(&request.model));
    if model.is_empty() {
        return Err(LLMError::InvalidRequest("`model` is empty".to_owned()));
    }
    let family = ModelFamily::parse(model);
    let mut betas = Vec::new();
    let rules = ContentRules { assistant_documents_allowed: !config.is_version_2026_10_21_or_later() };
    let conversation = translate_messages(&request.messages, rules, &mut betas, warnings)?;

    let mut body = MessagesRequest {
        model: model.to_owned(),
        messages: conversation.messages,
        system: conversation.system,
        stream: stream.then_some(true),
        ..Default::default()
    };
    let thinking_on = apply_thinking_and_max_tokens(request, &family, &mut body, warnings)?;
    apply_sampling(request, config, &family, thinking_on, &mut body, warnings);
    apply_tools(request, &family, thinking_on, &mut body, &mut betas, warnings);
    apply_output(request, &family, &mut body, &mut betas, warnings);
    apply_remaining(request, &mut body, warnings);

    let breakpoints = conversation.cache_breakpoints
        + body.tools.iter().flatten().filter(|tool| tool.cache_control.is_some()).count();
    if breakpoints > MAX_CACHE_BREAKPOINTS {
        return Err(LLMError::InvalidRequest(format!(
            "Anthropic accepts at most {MAX_CACHE_BREAKPOINTS} cache_control breakpoints per request; this one has \
             {breakpoints} (system, messages and tools together)"
        )));
    }
    Ok(AnthropicRequest { body, betas })
}

fn strip_provider_prefix(model: &str) -> &str {
    model.strip_prefix("anthropic/").unwrap_or(model)
}

// ---------------------------------------------------------------------------------------------------
// Messages
// ---------------------------------------------------------------------------------------------------

/// Content rules that depend on the API version.
#[derive(Debug, Clone, Copy)]
struct ContentRules {
    /// `2026-10-21` rejects `document` blocks in assistant messages.
    assistant_documents_allowed: bool,
}

#[derive(Debug)]
struct Conversation {
    system: Option<SystemPrompt>,
    messages: Vec<MessageParam>,
    cache_breakpoints: usize,
}

fn translate_messages(
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
                system_messages += 1;
                plain_system &= message.cache_control.is_none()
                    && matches!(message.content, Some(ChatCompletionContent::Text(_)) | None);
                let mut blocks = system_text_blocks(message, position, warnings);
                let placed = attach_message_cache_control(&mut blocks, message.cache_control);
                warn_if_breakpoint_lost(placed, position, warnings);
                system_blocks.extend(blocks);
            }
            Role::User => {
                let mut blocks = user_blocks(message, position, betas, warnings)?;
                let placed = attach_cache_control(&mut blocks, message.cache_control);
                warn_if_breakpoint_lost(placed, position, warnings);
                push_turn(&mut turns, WireRole::User, blocks);
            }
            Role::Tool => {
                let mut blocks = vec![tool_result_block(message, position, warnings)?];
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

    let cache_breakpoints = system_blocks.iter().filter(|block| block.cache_control.is_some()).count()
        + turns
            .iter()
            .flat_map(|turn| &turn.content)
            .map(ContentBlockParam::cache_breakpoints)
            .sum::<usize>();
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

/// Splits `data:<media type>[;params];base64,<data>`.
fn parse_data_uri(uri: &str) -> Option<(&str, &str)> {
    let (meta, data) = uri.strip_prefix("data:")?.split_once(',')?;
    let meta = meta.strip_suffix(";base64")?;
    let media_type = meta.split(';').next().unwrap_or(meta).trim();
    Some((media_type, data))
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
        let Some((media_type, data)) = parse_data_uri(&image.url) else {
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
        let Some((media_type, data)) = parse_data_uri(data_uri) else {
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

fn add_beta(betas: &mut Vec<&'static str>, beta: &'static str) {
    if !betas.contains(&beta) {
        betas.push(beta);
    }
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

fn assistant_blocks(
    message: &ChatCompletionMessage,
    position: usize,
    rules: ContentRules,
    betas: &mut Vec<&'static str>,
    warnings: &mut Warnings,
) -> LLMResult<Vec<ContentBlockParam>> {
    // Thinking blocks must come first, exactly as Anthropic produced them.
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
        blocks.push(ContentBlockParam::ToolUse {
            id: wire_tool_use_id(&call.id),
            name: call.function.name.clone(),
            input,
            cache_control: None,
        });
    }
    Ok(blocks)
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

// ---------------------------------------------------------------------------------------------------
// Parameters
// ---------------------------------------------------------------------------------------------------

/// Sets `thinking` and `max_tokens`; returns whether thinking is on (it restricts sampling).
fn apply_thinking_and_max_tokens(
    request: &ChatCompletionRequest,
    family: &ModelFamily,
    body: &mut MessagesRequest,
    warnings: &mut Warnings,
) -> LLMResult<bool> {
    let requested_max = request.max_completion_tokens.or(request.max_tokens);
    let thinking = request.provider_specific.as_ref().and_then(|specific| specific.thinking);
    let mut budget = None;
    let mut thinking_on = false;
    if let Some(thinking) = thinking {
        match thinking.kind {
            ThinkingType::Enabled => {
                let Some(budget_tokens) = thinking.budget_tokens else {
                    return Err(LLMError::InvalidRequest(
                        "provider_specific.thinking: `enabled` needs `budget_tokens`".to_owned(),
                    ));
                };
                if budget_tokens < MIN_THINKING_BUDGET {
                    return Err(LLMError::InvalidRequest(format!(
                        "provider_specific.thinking.budget_tokens is {budget_tokens}; Anthropic requires at least \
                         {MIN_THINKING_BUDGET}"
                    )));
                }
                if let Some(max_tokens) = requested_max {
                    if budget_tokens >= max_tokens {
                        return Err(LLMError::InvalidRequest(format!(
                            "provider_specific.thinking.budget_tokens ({budget_tokens}) must be less than \
                             max_tokens ({max_tokens}) on Anthropic"
                        )));
                    }
                }
                thinking_on = true;
                if family.adaptive_thinking_only() {
                    warnings.push(Warning::adjusted(
                        "provider_specific.thinking",
                        format!(
                            "{} accepts adaptive thinking only; sent {{\"type\": \"adaptive\"}} without the \
                             budget",
                            body.model
                        ),
                    ));
                    body.thinking = Some(ThinkingParam { kind: "adaptive", budget_tokens: None });
                } else {
                    budget = Some(budget_tokens);
                    body.thinking =
                        Some(ThinkingParam { kind: "enabled", budget_tokens: Some(budget_tokens) });
                }
            }
            ThinkingType::Adaptive => {
                thinking_on = true;
                body.thinking = Some(ThinkingParam { kind: "adaptive", budget_tokens: None });
            }
            ThinkingType::Disabled if family.adaptive_thinking_only() => {
                warnings.push(Warning::unsupported_because(
                    "provider_specific.thinking",
                    format!("{} rejects `disabled` thinking; it was left out", body.model),
                ));
            }
            _ => body.thinking = Some(ThinkingParam { kind: "disabled", budget_tokens: None }),
        }
    }
    body.max_tokens = match requested_max {
        Some(max_tokens) => max_tokens,
        None => {
            let default = family.default_max_tokens();
            let chosen = match budget {
                Some(budget) => {
                    let wanted = budget.saturating_add(default);
                    family
                        .max_output_tokens()
                        .map_or(wanted, |cap| wanted.min(cap).max(budget.saturating_add(1)))
                }
                None => default,
            };
            warnings.push(Warning::adjusted(
                "max_tokens",
                format!("Anthropic requires max_tokens; sent {chosen}, the default for {}", body.model),
            ));
            chosen
        }
    };
    Ok(thinking_on)
}

fn apply_sampling(
    request: &ChatCompletionRequest,
    config: &AnthropicConfig,
    family: &ModelFamily,
    thinking_on: bool,
    body: &mut MessagesRequest,
    warnings: &mut Warnings,
) {
    let top_k = request.provider_specific.as_ref().and_then(|specific| specific.top_k);
    let omitted_because = if config.is_version_2026_10_21_or_later() {
        Some(format!("API version {} removed the sampling parameters", config.api_version()))
    } else if family.rejects_sampling_parameters() {
        Some(format!("{} rejects sampling parameters", body.model))
    } else {
        None
    };
    if let Some(reason) = omitted_because {
        for (present, parameter) in [
            (request.temperature.is_some(), "temperature"),
            (request.top_p.is_some(), "top_p"),
            (top_k.is_some(), "provider_specific.top_k"),
        ] {
            if present {
                warnings.push(Warning::unsupported_because(parameter, reason.clone()));
            }
        }
        return;
    }
    const WITH_THINKING: &str = "Anthropic does not allow it while thinking is on";
    if let Some(temperature) = request.temperature {
        // With thinking on Anthropic takes only its default, 1, which clients often send explicitly.
        if thinking_on && temperature != 1.0 {
            warnings.push(Warning::unsupported_because("temperature", WITH_THINKING));
        } else if temperature > 1.0 {
            warnings.push(Warning::adjusted(
                "temperature",
                format!("Anthropic's range is 0 to 1; sent 1 for {temperature}"),
            ));
            body.temperature = Some(1.0);
        } else {
            body.temperature = Some(temperature);
        }
    }
    if let Some(top_p) = request.top_p {
        if thinking_on && top_p < 0.95 {
            warnings.push(Warning::unsupported_because(
                "top_p",
                "while thinking is on Anthropic accepts top_p between 0.95 and 1 only",
            ));
        } else {
            body.top_p = Some(top_p);
        }
    }
    if let Some(top_k) = top_k {
        if thinking_on {
            warnings.push(Warning::unsupported_because("provider_specific.top_k", WITH_THINKING));
        } else {
            body.top_k = Some(top_k);
        }
    }
}

fn apply_tools(
    request: &ChatCompletionRequest,
    family: &ModelFamily,
    thinking_on: bool,
    body: &mut MessagesRequest,
    betas: &mut Vec<&'static str>,
    warnings: &mut Warnings,
) {
    warnings.unsupported_if(request.functions.is_some(), "functions");
    warnings.unsupported_if(request.function_call.is_some(), "function_call");
    let strict_supported = family.structured_output() != StructuredOutput::Unsupported;
    let allowed: Option<&[String]> = match &request.tool_choice {
        Some(ToolChoice::AllowedTools(allowed)) => Some(&allowed.function_names),
        _ => None,
    };
    let mut tools = Vec::new();
    for tool in request.tools.iter().flatten() {
        if tool.kind != "function" {
            warnings.push(Warning::unsupported_because(
                "tools",
                format!("tool type `{}` has no Anthropic equivalent", tool.kind),
            ));
            continue;
        }
        if allowed.is_some_and(|names| !names.contains(&tool.function.name)) {
            continue;
        }
        let strict = match tool.function.strict {
            Some(true) if !strict_supported => {
                warnings.push(Warning::unsupported_because(
                    "tools[].function.strict",
                    format!("{} has no strict tool use", body.model),
                ));
                None
            }
            Some(true) => {
                // Strict tool use came with the same beta as `output_format`, and models that never got
                // the generally available form still need it for both.
                if family.structured_output() == StructuredOutput::BetaOutputFormat {
                    add_beta(betas, STRUCTURED_OUTPUTS_BETA);
                }
                Some(true)
            }
            _ => None,
        };
        tools.push(ToolParam {
            name: tool.function.name.clone(),
            description: tool.function.description.clone(),
            input_schema: input_schema(tool.function.parameters.as_ref()),
            strict,
            cache_control: tool.cache_control,
        });
    }
    let disable_parallel = (request.parallel_tool_calls == Some(false)).then_some(true);
    let choice = |kind: &'static str, name: Option<String>| ToolChoiceParam {
        kind,
        name,
        disable_parallel_tool_use: if kind == "none" { None } else { disable_parallel },
    };
    body.tool_choice = match &request.tool_choice {
        Some(ToolChoice::None) => Some(choice("none", None)),
        Some(ToolChoice::Auto) => Some(choice("auto", None)),
        Some(ToolChoice::Required) => Some(choice("any", None)),
        Some(ToolChoice::Function { name }) => Some(choice("tool", Some(name.clone()))),
        Some(ToolChoice::AllowedTools(allowed)) => Some(match allowed.mode {
            AllowedToolsMode::Auto => choice("auto", None),
            AllowedToolsMode::Required => choice("any", None),
        }),
        Some(_) => {
            warnings.push(Warning::unsupported("tool_choice"));
            None
        }
        None => disable_parallel.map(|_| choice("auto", None)),
    };
    if thinking_on && body.tool_choice.as_ref().is_some_and(|choice| matches!(choice.kind, "any" | "tool")) {
        // Anthropic rejects forced tool use while thinking; letting the model choose keeps the call working.
        warnings.push(Warning::adjusted(
            "tool_choice",
            "Anthropic does not force tool use while thinking is on; sent `auto`",
        ));
        body.tool_choice = Some(choice("auto", None));
    }
    if tools.is_empty() {
        body.tool_choice = None;
    } else {
        body.tools = Some(tools);
    }
}

/// A tool's parameters as Anthropic's `input_schema`, which must say `"type": "object"` (a 400 otherwise),
/// while OpenAI takes no parameters, `null` or `{}` for a tool without arguments.
fn input_schema(parameters: Option<&Value>) -> Value {
    match parameters {
        Some(Value::Object(schema)) if schema.contains_key("type") => Value::Object(schema.clone()),
        Some(Value::Object(schema)) => {
            let mut schema = schema.clone();
            schema.insert("type".to_owned(), Value::String("object".to_owned()));
            Value::Object(schema)
        }
        Some(Value::Null) | None => serde_json::json!({"type": "object", "properties": {}}),
        Some(other) => other.clone(),
    }
}

fn apply_output(
    request: &ChatCompletionRequest,
    family: &ModelFamily,
    body: &mut MessagesRequest,
    betas: &mut Vec<&'static str>,
    warnings: &mut Warnings,
) {
    let mut output_config = OutputConfig::default();
    match &request.response_format {
        None | Some(ResponseFormat::Text) => {}
        Some(ResponseFormat::JsonObject) => warnings.push(Warning::unsupported_because(
            "response_format",
            "Anthropic has no schema-less JSON mode; give a json_schema instead",
        )),
        Some(ResponseFormat::JsonSchema { json_schema }) => {
            let schema = json_schema.schema.clone().unwrap_or_else(|| serde_json::json!({"type": "object"}));
            let format = JsonSchemaFormat { kind: "json_schema", schema };
            match family.structured_output() {
                StructuredOutput::OutputConfig => output_config.format = Some(format),
                StructuredOutput::BetaOutputFormat => {
                    add_beta(betas, STRUCTURED_OUTPUTS_BETA);
                    body.output_format = Some(format);
                }
                StructuredOutput::Unsupported => warnings.push(Warning::unsupported_because(
                    "response_format",
                    format!("{} has no native structured output", body.model),
                )),
            }
        }
    }
    if let Some(effort) = request.reasoning_effort {
        let value = match effort {
            ReasoningEffort::Low => Some("low"),
            ReasoningEffort::Medium => Some("medium"),
            ReasoningEffort::High => Some("high"),
            ReasoningEffort::XHigh => Some("xhigh"),
            _ => None,
        };
        match value {
            Some(value) if family.supports_effort() => output_config.effort = Some(value),
            Some(_) => warnings.push(Warning::unsupported_because(
                "reasoning_effort",
                format!("{} has no effort parameter", body.model),
            )),
            None => warnings.push(Warning::unsupported_because(
                "reasoning_effort",
                format!("Anthropic has no effort level `{}`", effort.as_str()),
            )),
        }
    }
    if output_config.format.is_some() || output_config.effort.is_some() {
        body.output_config = Some(output_config);
    }
}

fn apply_remaining(request: &ChatCompletionRequest, body: &mut MessagesRequest, warnings: &mut Warnings) {
    body.stop_sequences = request.stop.clone().filter(|stop| !stop.is_empty());
    body.metadata = request
        .user
        .clone()
        .or_else(|| request.safety_identifier.clone())
        .map(|user_id| Metadata { user_id });
    if request.n.is_some_and(|n| n > 1) {
        warnings.push(Warning::unsupported_because("n", "Anthropic generates one choice per request"));
    }
    for (present, parameter) in [
        (request.frequency_penalty.is_some(), "frequency_penalty"),
        (request.presence_penalty.is_some(), "presence_penalty"),
        (request.logit_bias.is_some(), "logit_bias"),
        (request.seed.is_some(), "seed"),
        (request.logprobs == Some(true), "logprobs"),
        (request.top_logprobs.is_some(), "top_logprobs"),
        (request.audio.is_some(), "audio"),
        (request.prediction.is_some(), "prediction"),
        (request.prompt_cache_key.is_some(), "prompt_cache_key"),
        (request.prompt_cache_retention.is_some(), "prompt_cache_retention"),
        (request.metadata.is_some(), "metadata"),
        (request.store.is_some(), "store"),
        (request.service_tier.is_some(), "service_tier"),
        (request.verbosity.is_some(), "verbosity"),
        (request.web_search_options.is_some(), "web_search_options"),
    ] {
        warnings.unsupported_if(present, parameter);
    }
    if request
        .modalities
        .as_ref()
        .is_some_and(|modalities| modalities.iter().any(|modality| modality != "text"))
    {
        warnings.push(Warning::unsupported_because("modalities", "Anthropic answers in text only"));
    }
    if let Some(specific) = &request.provider_specific {
        warnings.unsupported_if(
            specific.additional_parameters.is_some(),
            "provider_specific.additional_parameters",
        );
        for key in specific.extra.keys() {
            warnings.push(Warning::unsupported(format!("provider_specific.{key}")));
        }
    }
}

#[cfg(test)]
#[path = "request_tests.rs"]
mod tests;
