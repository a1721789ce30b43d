//! Gateway request -> Converse request body, with a warning for every parameter Bedrock cannot honour.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde_json::{Map, Value};
use vllora_llm_core::types::gateway::{
    AllowedToolsMode, CacheControl, CacheTtl, ChatCompletionContent, ChatCompletionMessage,
    ChatCompletionRequest, ChatCompletionTool, ContentPart, FileInput, ImageDetail, InputAudio,
    ReasoningDetail, ReasoningDetailType, ReasoningEffort, ResponseFormat, Role, ThinkingConfig,
    ThinkingType, ToolChoice as GatewayToolChoice,
};
use vllora_llm_core::{LLMError, LLMResult, Warning, Warnings};

use crate::wire::{
    AudioBlock, CachePoint, ContentBlock, ConversationRole, ConverseRequest, DocumentBlock, Empty,
    ImageBlock, InferenceConfig, JsonSchemaDefinition, Message, OutputConfig, OutputFormat, OutputStructure,
    ReasoningContent, ReasoningText, S3Location, ServiceTier, Source, SpecificTool, SystemBlock, Tool,
    ToolChoice, ToolConfig, ToolInputSchema, ToolResultBlock, ToolResultContent, ToolSpec, ToolUseBlock,
};

/// The name reasoning blocks carry in `ReasoningDetail::provider`; only these are sent back to Bedrock.
pub(crate) const REASONING_PROVIDER: &str = "bedrock";

/// Builds the Converse body (the same for Converse and ConverseStream) for `model_id`.
pub(crate) fn build_converse_request<'a>(
    request: &'a ChatCompletionRequest,
    model_id: &str,
    warnings: &mut Warnings,
) -> LLMResult<ConverseRequest<'a>> {
    warn_unsupported_parameters(request, warnings);
    let (system, messages) = translate_messages(&request.messages, warnings)?;
    let inference_config = inference_config(request, warnings);
    let provider_specific = request.provider_specific.as_ref();
    let tool_config = tool_config(request, warnings)?;
    let tool_config = tool_config.or_else(|| declared_history_tools(&messages, warnings));
    let mut body = ConverseRequest {
        messages,
        system,
        inference_config: (!inference_config.is_empty()).then_some(inference_config),
        tool_config,
        additional_model_request_fields: additional_fields(request, model_id, warnings),
        request_metadata: request_metadata(request, warnings),
        service_tier: service_tier(request.service_tier.as_deref(), warnings),
        output_config: output_config(request, warnings),
        ..Default::default()
    };
    if let Some(extra) = provider_specific.map(|specific| &specific.extra) {
        for (key, value) in extra {
            match key.as_str() {
                "guardrail_config" | "guardrailConfig" => body.guardrail_config = Some(value),
                "performance_config" | "performanceConfig" => body.performance_config = Some(value),
                "additional_model_response_field_paths" | "additionalModelResponseFieldPaths" => {
                    body.additional_model_response_field_paths = Some(value)
                }
                other => warnings.push(Warning::unsupported_because(
                    format!("provider_specific.{other}"),
                    "Bedrock knows guardrail_config, performance_config and \
                     additional_model_response_field_paths; use additional_parameters for model fields",
                )),
            }
        }
    }
    if is_claude(model_id) {
        fit_claude_thinking(&mut body, warnings);
    }
    Ok(body)
}

/// While thinking, Claude refuses a forced tool choice ("Thinking may not be enabled when tool_choice forces
/// tool use"), a temperature other than 1, and `top_k`: the call then goes out without them, each a warning.
fn fit_claude_thinking(body: &mut ConverseRequest<'_>, warnings: &mut Warnings) {
    let Some(fields) = body.additional_model_request_fields.as_mut() else { return };
    let thinking_on = ["thinking", "reasoning_config"].iter().any(|key| {
        let kind = fields.get(*key).and_then(|config| config.get("type")).and_then(Value::as_str);
        matches!(kind, Some("enabled" | "adaptive"))
    });
    if !thinking_on {
        return;
    }
    const WHILE_THINKING: &str = "Claude does not take it while thinking";
    if fields.remove("top_k").is_some() {
        warnings.push(Warning::unsupported_because("provider_specific.top_k", WHILE_THINKING));
    }
    if let Some(tool_config) = body.tool_config.as_mut() {
        if matches!(tool_config.tool_choice, Some(ToolChoice::Any(_) | ToolChoice::Tool(_))) {
            warnings.push(Warning::adjusted(
                "tool_choice",
                "Claude cannot be made to use a tool while thinking; sent `auto`",
            ));
            tool_config.tool_choice = Some(ToolChoice::Auto(Empty {}));
        }
    }
    if let Some(config) = body.inference_config.as_mut() {
        if config.temperature.is_some_and(|temperature| temperature != 1.0) {
            warnings.push(Warning::unsupported_because("temperature", WHILE_THINKING));
            config.temperature = None;
        }
        if config.is_empty() {
            body.inference_config = None;
        }
    }
}

/// Serialises the body.
pub(crate) fn to_json_bytes(body: &ConverseRequest<'_>) -> LLMResult<Vec<u8>> {
    serde_json::to_vec(body)
        .map_err(|error| LLMError::InvalidRequest(format!("cannot encode the request: {error}")))
}

fn warn_unsupported_parameters(request: &ChatCompletionRequest, warnings: &mut Warnings) {
    let checks: [(bool, &str); 17] = [
        (request.audio.is_some(), "audio"),
        (request.frequency_penalty.is_some(), "frequency_penalty"),
        (request.presence_penalty.is_some(), "presence_penalty"),
        (request.function_call.is_some(), "function_call"),
        (request.functions.is_some(), "functions"),
        (request.logit_bias.is_some(), "logit_bias"),
        (request.logprobs == Some(true), "logprobs"),
        (request.top_logprobs.is_some(), "top_logprobs"),
        (request.prediction.is_some(), "prediction"),
        (request.prompt_cache_key.is_some(), "prompt_cache_key"),
        (request.prompt_cache_retention.is_some(), "prompt_cache_retention"),
        (request.safety_identifier.is_some(), "safety_identifier"),
        (request.seed.is_some(), "seed"),
        (request.store == Some(true), "store"),
        (request.user.is_some(), "user"),
        (request.verbosity.is_some(), "verbosity"),
        (request.web_search_options.is_some(), "web_search_options"),
    ];
    for (present, parameter) in checks {
        warnings.unsupported_if(present, parameter);
    }
    if request.n.is_some_and(|n| n > 1) {
        warnings.push(Warning::unsupported_because("n", "Bedrock returns one choice per call"));
    }
    if request.parallel_tool_calls == Some(false) {
        warnings.push(Warning::unsupported_because(
            "parallel_tool_calls",
            "Bedrock cannot forbid parallel tool calls",
        ));
    }
    if request
        .modalities
        .as_ref()
        .is_some_and(|modalities| modalities.iter().any(|modality| modality != "text"))
    {
        warnings.push(Warning::unsupported_because("modalities", "Converse answers with text only"));
    }
}

fn inference_config<'a>(request: &'a ChatCompletionRequest, warnings: &mut Warnings) -> InferenceConfig<'a> {
    // OpenAI's temperatures go up to 2, Bedrock's (AWS's service model) up to 1: above is a 400.
    let temperature = request.temperature.map(|temperature| {
        if temperature > 1.0 {
            warnings.push(Warning::adjusted(
                "temperature",
                format!("Bedrock's range is 0 to 1; sent 1 for {temperature}"),
            ));
            1.0
        } else {
            temperature
        }
    });
    InferenceConfig {
        max_tokens: request.max_completion_tokens.or(request.max_tokens),
        temperature,
        top_p: request.top_p,
        // Bedrock rejects empty stop sequences; an empty one never matches anything anyway.
        stop_sequences: request
            .stop
            .iter()
            .flatten()
            .filter(|stop| !stop.is_empty())
            .map(String::as_str)
            .collect(),
    }
}

// ---- Messages ----

fn translate_messages<'a>(
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
                let blocks = user_blocks(message, position, &mut documents)?;
                if blocks.iter().all(|block| matches!(block, ContentBlock::CachePoint(_))) {
                    warnings.push(Warning::Other {
                        message: format!("messages[{position}]: a user message without content was not sent"),
                    });
                } else {
                    push_turn(&mut messages, ConversationRole::User, blocks);
                }
            }
            Role::Tool => {
                let block = tool_result(message, position, &mut documents)?;
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

fn cache_point(cache_control: &CacheControl) -> CachePoint {
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
        blocks.push(ContentBlock::ToolUse(ToolUseBlock {
            tool_use_id: wire_tool_use_id(&call.id),
            name: &call.function.name,
            input,
        }));
    }
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
    Ok(blocks)
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

/// A `data:` URI split into media type and base64 payload.
fn parse_data_uri<'a>(uri: &'a str, at: &str) -> LLMResult<(&'a str, &'a str)> {
    let invalid = |why: &str| LLMError::InvalidRequest(format!("{at}: {why}"));
    let rest = uri.strip_prefix("data:").ok_or_else(|| invalid("expected a data: URI"))?;
    let (header, data) = rest.split_once(',').ok_or_else(|| invalid("the data: URI has no comma"))?;
    let media_type = header
        .strip_suffix(";base64")
        .ok_or_else(|| invalid("Bedrock needs base64 data: URIs (`data:<type>;base64,...`)"))?;
    let plausible =
        data.bytes().all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'+' | b'/' | b'='));
    if data.is_empty() || !plausible {
        return Err(invalid("the data: URI does not hold base64 data"));
    }
    Ok((media_type, data))
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
    let (media_type, data) = parse_data_uri(url, at)?;
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
    let (media_type, data) = parse_data_uri(file_data, at)?;
    if let Some(format) = image_format(media_type) {
        return Ok(ContentBlock::Image(ImageBlock { format, source: Source::Bytes(data) }));
    }
    let format = document_format(media_type).ok_or_else(|| {
        LLMError::InvalidRequest(format!(
            "{at}: Bedrock takes pdf, csv, doc, docx, xls, xlsx, html, txt and md documents, not `{media_type}`"
        ))
    })?;
    let name = file.filename.as_deref().map(document_name).filter(|name| !name.is_empty());
    let name =
        unique_document_name(name.unwrap_or_else(|| format!("document {}", documents.len() + 1)), documents);
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
    let mut number = 2usize;
    loop {
        let suffix = format!(" ({number})");
        let stem: String = name.chars().take(200 - suffix.len()).collect();
        let candidate = format!("{}{suffix}", stem.trim_end());
        if !is_taken(&candidate) {
            return candidate;
        }
        number += 1;
    }
}

// ---- Tools ----

fn tool_spec(tool: &ChatCompletionTool) -> ToolSpec<'_> {
    // Bedrock refuses a schema whose root does not say `"type": "object"` ("The value at
    // toolConfig.tools.N.toolSpec.inputSchema.json.type must be one of the following: object"), while
    // OpenAI takes `{}` or a schema of properties only for a tool's arguments.
    let schema = match &tool.function.parameters {
        Some(Value::Object(schema)) if !schema.contains_key("type") => {
            let mut schema = schema.clone();
            schema.insert("type".to_owned(), Value::from("object"));
            Cow::Owned(Value::Object(schema))
        }
        Some(Value::Null) | None => Cow::Owned(serde_json::json!({"type": "object", "properties": {}})),
        Some(parameters) => Cow::Borrowed(parameters),
    };
    ToolSpec {
        name: &tool.function.name,
        description: tool.function.description.as_deref().filter(|description| !description.is_empty()),
        input_schema: ToolInputSchema { json: schema },
        strict: tool.function.strict,
    }
}

/// Bedrock refuses toolUse and toolResult blocks without a toolConfig ("The toolConfig field must be
/// defined when using toolUse and toolResult content blocks"), which a history replayed without its
/// tools runs into. The tools the history calls are then declared by name, with any-object input.
fn declared_history_tools<'a>(messages: &[Message<'a>], warnings: &mut Warnings) -> Option<ToolConfig<'a>> {
    let mut names: Vec<&'a str> = Vec::new();
    for block in messages.iter().flat_map(|message| &message.content) {
        if let ContentBlock::ToolUse(tool_use) = block {
            if !names.contains(&tool_use.name) {
                names.push(tool_use.name);
            }
        }
    }
    if names.is_empty() {
        return None;
    }
    warnings.push(Warning::adjusted(
        "tools",
        format!(
            "the conversation has tool calls but no tools; Bedrock requires them, so {} declared with any-object input",
            names.join(", ")
        ),
    ));
    let schema = || Cow::Owned(serde_json::json!({"type": "object", "properties": {}}));
    let tools = names
        .into_iter()
        .map(|name| {
            Tool::ToolSpec(ToolSpec {
                name,
                description: None,
                input_schema: ToolInputSchema { json: schema() },
                strict: None,
            })
        })
        .collect();
    Some(ToolConfig { tools, tool_choice: None })
}

fn tool_config<'a>(
    request: &'a ChatCompletionRequest,
    warnings: &mut Warnings,
) -> LLMResult<Option<ToolConfig<'a>>> {
    let tools = request.tools.as_deref().unwrap_or_default();
    if tools.is_empty() {
        if request.tool_choice.is_some() {
            warnings.push(Warning::unsupported_because("tool_choice", "there are no tools to choose from"));
        }
        return Ok(None);
    }
    let mut allowed: Option<&[String]> = None;
    let tool_choice = match &request.tool_choice {
        None => None,
        Some(GatewayToolChoice::Auto) => Some(ToolChoice::Auto(Empty {})),
        Some(GatewayToolChoice::Required) => Some(ToolChoice::Any(Empty {})),
        Some(GatewayToolChoice::Function { name }) => Some(ToolChoice::Tool(SpecificTool { name })),
        Some(GatewayToolChoice::None) => {
            warnings.push(Warning::unsupported_because(
                "tool_choice",
                "Bedrock has no `none` tool choice; the tools were sent and the model chooses",
            ));
            None
        }
        Some(GatewayToolChoice::AllowedTools(allowed_tools)) => {
            allowed = Some(&allowed_tools.function_names);
            match (allowed_tools.mode, allowed_tools.function_names.as_slice()) {
                (AllowedToolsMode::Required, [only]) => Some(ToolChoice::Tool(SpecificTool { name: only })),
                (AllowedToolsMode::Required, _) => Some(ToolChoice::Any(Empty {})),
                _ => Some(ToolChoice::Auto(Empty {})),
            }
        }
        Some(_) => {
            warnings.push(Warning::unsupported_because("tool_choice", "unknown tool choice"));
            None
        }
    };
    let mut wire_tools = Vec::with_capacity(tools.len());
    for tool in tools {
        if allowed.is_some_and(|names| !names.contains(&tool.function.name)) {
            continue;
        }
        if tool.kind != "function" {
            return Err(LLMError::InvalidRequest(format!(
                "tool `{}` has type `{}`; Bedrock takes function tools",
                tool.function.name, tool.kind
            )));
        }
        wire_tools.push(Tool::ToolSpec(tool_spec(tool)));
        if let Some(cache_control) = &tool.cache_control {
            wire_tools.push(Tool::CachePoint(cache_point(cache_control)));
        }
    }
    if wire_tools.is_empty() {
        return Err(LLMError::InvalidRequest("tool_choice allows none of the given tools".to_owned()));
    }
    Ok(Some(ToolConfig { tools: wire_tools, tool_choice }))
}

// ---- Model-specific fields ----

/// Model families on Bedrock that are not Claude, by the vendor part of their ids.
const NON_CLAUDE_VENDORS: [&str; 12] = [
    "amazon.",
    "meta.",
    "mistral.",
    "cohere.",
    "ai21.",
    "deepseek.",
    "openai.",
    "qwen.",
    "writer.",
    "twelvelabs.",
    "stability.",
    "moonshot",
];

fn is_claude(model_id: &str) -> bool {
    let lower = model_id.to_ascii_lowercase();
    if lower.contains("anthropic.") || lower.contains("claude") {
        return true;
    }
    // Claude's model and inference-profile ids all name `anthropic.`; an ARN of an application inference
    // profile, a provisioned or a custom model may not say what it serves: give it the benefit.
    lower.starts_with("arn:") && !NON_CLAUDE_VENDORS.iter().any(|vendor| lower.contains(vendor))
}

fn thinking_value(thinking: &ThinkingConfig) -> Value {
    let kind = match thinking.kind {
        ThinkingType::Enabled => "enabled",
        ThinkingType::Disabled => "disabled",
        ThinkingType::Adaptive => "adaptive",
        _ => "enabled",
    };
    let mut value = Map::new();
    value.insert("type".to_owned(), Value::from(kind));
    if let Some(budget) = thinking.budget_tokens.filter(|_| thinking.kind == ThinkingType::Enabled) {
        value.insert("budget_tokens".to_owned(), Value::from(budget));
    }
    Value::Object(value)
}

/// `additionalModelRequestFields`: `top_k` and thinking in each model's own spelling, then the caller's
/// `additional_parameters` on top (an explicit field there wins).
fn additional_fields(
    request: &ChatCompletionRequest,
    model_id: &str,
    warnings: &mut Warnings,
) -> Option<Map<String, Value>> {
    let specific = request.provider_specific.as_ref()?;
    let mut fields = Map::new();
    if let Some(top_k) = specific.top_k {
        if model_id.contains("amazon.nova") {
            // Nova reads sampling options from a nested inferenceConfig.
            fields.insert("inferenceConfig".to_owned(), serde_json::json!({ "topK": top_k }));
        } else {
            fields.insert("top_k".to_owned(), Value::from(top_k));
        }
    }
    if let Some(thinking) = &specific.thinking {
        if is_claude(model_id) {
            fields.insert("thinking".to_owned(), thinking_value(thinking));
        } else {
            warnings.push(Warning::unsupported_because(
                "provider_specific.thinking",
                format!(
                    "`{model_id}` is not a Claude model; pass its own reasoning field in additional_parameters"
                ),
            ));
        }
    }
    for (key, value) in specific.additional_parameters.iter().flatten() {
        fields.insert(key.clone(), value.clone());
    }
    (!fields.is_empty()).then_some(fields)
}

/// Most entries Bedrock takes in `requestMetadata`.
const MAX_METADATA_ENTRIES: usize = 16;

/// `metadata` as `requestMetadata`, keeping only what Bedrock accepts (at most 16 entries; keys of 1 to 256
/// and values of up to 256 characters among letters, digits, whitespace and `:_@$#=/+,-.`): one entry
/// outside that would fail the whole call.
fn request_metadata<'a>(
    request: &'a ChatCompletionRequest,
    warnings: &mut Warnings,
) -> Option<BTreeMap<&'a str, &'a str>> {
    let allowed = |text: &str| {
        text.chars().count() <= 256
            && text.chars().all(|character| {
                character.is_ascii_alphanumeric()
                    || character.is_ascii_whitespace()
                    || "\u{b}:_@$#=/+,-.".contains(character)
            })
    };
    let mut sent = BTreeMap::new();
    for (key, value) in request.metadata.iter().flatten() {
        if key.is_empty() || !allowed(key) || !allowed(value) {
            warnings.push(Warning::unsupported_because(
                format!("metadata.{key}"),
                "Bedrock's requestMetadata takes up to 256 letters, digits, spaces and `:_@$#=/+,-.`",
            ));
        } else if sent.len() == MAX_METADATA_ENTRIES {
            warnings.push(Warning::unsupported_because(
                format!("metadata.{key}"),
                "Bedrock's requestMetadata takes at most 16 entries",
            ));
        } else {
            sent.insert(key.as_str(), value.as_str());
        }
    }
    (!sent.is_empty()).then_some(sent)
}

fn service_tier<'a>(tier: Option<&'a str>, warnings: &mut Warnings) -> Option<ServiceTier<'a>> {
    match tier? {
        "auto" => None,
        known @ ("default" | "flex" | "priority" | "reserved") => Some(ServiceTier { kind: known }),
        other => {
            warnings.push(Warning::unsupported_because(
                "service_tier",
                format!("Bedrock tiers are default, flex, priority and reserved, not `{other}`"),
            ));
            None
        }
    }
}

/// `outputConfig`: a JSON schema for the answer, and the reasoning effort.
fn output_config<'a>(
    request: &'a ChatCompletionRequest,
    warnings: &mut Warnings,
) -> Option<OutputConfig<'a>> {
    let text_format = match request.response_format.as_ref() {
        None | Some(ResponseFormat::Text) => None,
        Some(ResponseFormat::JsonObject) => {
            warnings.push(Warning::unsupported_because(
                "response_format",
                "Bedrock constrains output to a JSON schema only; use `json_schema`",
            ));
            None
        }
        Some(ResponseFormat::JsonSchema { json_schema }) => {
            let schema = json_schema.schema.clone().unwrap_or_else(|| serde_json::json!({"type": "object"}));
            Some(OutputFormat {
                kind: "json_schema",
                structure: OutputStructure {
                    json_schema: JsonSchemaDefinition {
                        schema: schema.to_string(),
                        name: Some(json_schema.name.as_str()).filter(|name| !name.is_empty()),
                        description: json_schema.description.as_deref(),
                    },
                },
            })
        }
    };
    let effort = request.reasoning_effort.and_then(|effort| reasoning_effort(effort, warnings));
    (text_format.is_some() || effort.is_some()).then_some(OutputConfig { text_format, effort })
}

/// Bedrock's efforts are low, medium, high, xhigh and max (AWS's service model).
fn reasoning_effort(effort: ReasoningEffort, warnings: &mut Warnings) -> Option<&'static str> {
    match effort {
        ReasoningEffort::Low => Some("low"),
        ReasoningEffort::Medium => Some("medium"),
        ReasoningEffort::High => Some("high"),
        ReasoningEffort::XHigh => Some("xhigh"),
        ReasoningEffort::Minimal => {
            warnings.push(Warning::adjusted("reasoning_effort", "Bedrock has no `minimal`; sent as `low`"));
            Some("low")
        }
        _ => {
            warnings.push(Warning::unsupported_because(
                "reasoning_effort",
                format!("Bedrock efforts are low, medium, high and xhigh, not `{}`", effort.as_str()),
            ));
            None
        }
    }
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
            parse_data_uri("data:image/png;base64,iVBORw0K", "x").ok(),
            Some(("image/png", "iVBORw0K"))
        );
        assert!(parse_data_uri("data:image/png,raw", "x").is_err());
        assert!(parse_data_uri("data:image/png;base64,not base64!", "x").is_err());
        assert!(parse_data_uri("https://example.com/cat.png", "x").is_err());
    }

    #[test]
    fn claude_is_recognised_in_ids_profiles_and_arns() {
        assert!(is_claude("anthropic.claude-sonnet-4-20250514-v1:0"));
        assert!(is_claude("us.anthropic.claude-3-7-sonnet-20250219-v1:0"));
        assert!(is_claude(
            "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3d4e5f6"
        ));
        assert!(!is_claude("amazon.nova-pro-v1:0"));
        assert!(!is_claude("meta.llama3-70b-instruct-v1:0"));
        assert!(!is_claude("google.gemma-3-27b-it"));
        assert!(!is_claude("zai.glm-4.7"));
        assert!(!is_claude("us.minimax.minimax-m2"));
        assert!(is_claude("arn:aws:bedrock:us-east-1:123456789012:provisioned-model/abc123"));
        assert!(!is_claude("arn:aws:bedrock:us-east-1::foundation-model/meta.llama3-70b-instruct-v1:0"));
    }
}

#[cfg(test)]
#[path = "request_fixture_tests.rs"]
mod fixture_tests;
