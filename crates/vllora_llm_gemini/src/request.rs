//! Gateway request -> Gemini `GenerateContentRequest` (+ warnings for what Gemini cannot honour).

use std::collections::{BTreeSet, HashMap};

use serde_json::{Map, Value};
use vllora_llm_core::types::gateway::{
    ChatCompletionContent, ChatCompletionMessage, ChatCompletionRequest, ChatCompletionTool, ContentPart,
    FunctionDefinition, ImageDetail, ReasoningEffort, ResponseFormat, Role,
    ThinkingConfig as GatewayThinking, ThinkingType, ToolCall, ToolChoice,
};
use vllora_llm_core::{LLMError, LLMResult, Warning, Warnings};

use crate::schema;
use crate::wire::{
    Blob, Content, FileData, FunctionCall, FunctionCallingConfig, FunctionDeclaration, FunctionResponse,
    GenerateContentRequest, GenerationConfig, Part, ThinkingConfig, Tool, ToolConfig,
};

/// The provider name reasoning details and thought signatures are tagged with.
pub(crate) const REASONING_PROVIDER: &str = "gemini";

/// The value Google documents for function calls that come from elsewhere (another model, a rewritten
/// history) and so have no thought signature: Gemini 3 otherwise rejects them.
pub(crate) const SKIP_SIGNATURE_VALIDATOR: &str = "skip_thought_signature_validator";

/// `provider_specific.extra` keys this provider reads.
pub(crate) const EXTRA_CACHED_CONTENT: &str = "cached_content";
const EXTRA_SAFETY_SETTINGS: &str = "safety_settings";
const EXTRA_THINKING_LEVEL: &str = "thinking_level";
const EXTRA_INCLUDE_THOUGHTS: &str = "include_thoughts";
const EXTRA_NATIVE_JSON_SCHEMA: &str = "native_json_schema";
const KNOWN_EXTRA: [&str; 5] = [
    EXTRA_CACHED_CONTENT,
    EXTRA_SAFETY_SETTINGS,
    EXTRA_THINKING_LEVEL,
    EXTRA_INCLUDE_THOUGHTS,
    EXTRA_NATIVE_JSON_SCHEMA,
];

/// A model's generation (`gemini-2.5-flash` -> 2.5), which decides how thinking is configured.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub(crate) struct Generation {
    major: u32,
    minor: u32,
    pro: bool,
    lite: bool,
}

impl Generation {
    /// `None` for Gemini names without a version (`gemini-flash-latest`), treated as current. Other
    /// models served by the API (Gemma, LearnLM, tuned models) are generation 0: no thinking, no
    /// signatures.
    pub fn of(model: &str) -> Option<Generation> {
        let name = model.rsplit('/').next().unwrap_or(model);
        let Some(version) = name.strip_prefix("gemini-") else {
            return Some(Generation { major: 0, minor: 0, pro: false, lite: false });
        };
        let number = version.split('-').next()?;
        let mut pieces = number.split('.');
        let major = pieces.next()?.parse().ok()?;
        let minor = pieces.next().map_or(Some(0), |minor| minor.parse().ok())?;
        Some(Generation { major, minor, pro: version.contains("-pro"), lite: version.contains("-lite") })
    }

    /// Whether the model takes thinking level `minimal`: Google documents it as a 400 on Pro models and on
    /// Flash from 3.7 on. An unversioned alias may point at such a model.
    fn takes_minimal_level(generation: Option<Generation>) -> bool {
        generation.is_some_and(|generation| {
            !generation.pro && (generation.lite || (generation.major, generation.minor) < (3, 7))
        })
    }

    fn thinks_in_levels(generation: Option<Generation>) -> bool {
        generation.is_none_or(|generation| generation.major >= 3)
    }

    fn can_think(generation: Option<Generation>) -> bool {
        generation.is_none_or(|generation| (generation.major, generation.minor) >= (2, 5))
    }
}

/// The body for `model` (already stripped of any provider prefix).
pub(crate) fn build_generate_request(
    request: &ChatCompletionRequest,
    model: &str,
    warnings: &mut Warnings,
) -> LLMResult<GenerateContentRequest> {
    let generation = Generation::of(model);
    let extra = request.provider_specific.as_ref().map(|specific| &specific.extra);
    let extra_value = |key: &str| extra.and_then(|extra| extra.get(key));
    for key in extra.into_iter().flat_map(|extra| extra.keys()) {
        if !KNOWN_EXTRA.contains(&key.as_str()) {
            warnings.push(Warning::unsupported(format!("provider_specific.extra.{key}")));
        }
    }
    let native_json_schema = match extra_value(EXTRA_NATIVE_JSON_SCHEMA) {
        None => false,
        Some(Value::Bool(flag)) => *flag,
        Some(_) => return Err(invalid("provider_specific.extra.native_json_schema must be a boolean")),
    };

    let mut conversation = build_conversation(request, generation, native_json_schema, warnings)?;
    let cached_content = match extra_value(EXTRA_CACHED_CONTENT) {
        None => None,
        Some(Value::String(name)) => Some(crate::cache::cache_name(name)?),
        Some(_) => return Err(invalid("provider_specific.extra.cached_content must be a string")),
    };
    if cached_content.is_some() {
        leave_to_the_cache(&mut conversation, warnings);
    }
    let Conversation { system_instruction, contents, tools, tool_config } = conversation;
    if contents.is_empty() && cached_content.is_none() {
        return Err(invalid("Gemini needs at least one user, assistant or tool message"));
    }

    let safety_settings = match extra_value(EXTRA_SAFETY_SETTINGS) {
        None => None,
        Some(settings @ Value::Array(_)) => Some(settings.clone()),
        Some(_) => return Err(invalid("provider_specific.extra.safety_settings must be an array")),
    };
    let generation_config = generation_config(request, generation, native_json_schema, warnings)?;
    unsupported_parameters(request, warnings);

    Ok(GenerateContentRequest {
        contents,
        system_instruction,
        tools,
        tool_config,
        safety_settings,
        generation_config: (!generation_config.is_empty()).then_some(generation_config),
        cached_content,
    })
}

/// Gemini refuses a system instruction, tools or a tool config next to a cache: the cache holds them.
fn leave_to_the_cache(conversation: &mut Conversation, warnings: &mut Warnings) {
    let left_out: Vec<&str> = [
        (conversation.system_instruction.take().is_some(), "system messages"),
        (!std::mem::take(&mut conversation.tools).is_empty(), "tools"),
        (conversation.tool_config.take().is_some(), "tool_choice"),
    ]
    .into_iter()
    .filter_map(|(present, name)| present.then_some(name))
    .collect();
    if !left_out.is_empty() {
        warnings.push(Warning::adjusted(
            "provider_specific.extra.cached_content",
            format!(
                "{} not sent: a Gemini request using a cache takes them from the cache",
                left_out.join(", ")
            ),
        ));
    }
}

/// What a request and a cache have in common: instructions, turns and tools.
#[derive(Debug, Default)]
pub(crate) struct Conversation {
    pub system_instruction: Option<Content>,
    pub contents: Vec<Content>,
    pub tools: Vec<Tool>,
    pub tool_config: Option<ToolConfig>,
}

/// Messages, tools and tool choice in Gemini's shape.
pub(crate) fn build_conversation(
    request: &ChatCompletionRequest,
    generation: Option<Generation>,
    native_json_schema: bool,
    warnings: &mut Warnings,
) -> LLMResult<Conversation> {
    let converted = convert_messages(&request.messages, generation, warnings)?;
    let mut tools = convert_tools(request, native_json_schema, warnings);
    let mut tool_config = convert_tool_choice(request, &mut tools, warnings);
    // Narrowing by `allowed_tools` can leave a group empty, and Gemini refuses an empty tool.
    tools.retain(|tool| !tool.function_declarations.is_empty() || tool.google_search.is_some());
    // Gemini refuses a function calling config without function declarations (a 400).
    let declares_functions = tools.iter().any(|tool| !tool.function_declarations.is_empty());
    if !declares_functions
        && tool_config.take().is_some_and(|config| config.function_calling_config.mode == "ANY")
    {
        warnings.push(Warning::unsupported_because("tool_choice", "this request declares no functions"));
    }
    Ok(Conversation {
        system_instruction: converted.system_instruction,
        contents: converted.contents,
        tools,
        tool_config,
    })
}

fn invalid(message: impl Into<String>) -> LLMError {
    LLMError::InvalidRequest(message.into())
}

fn unsupported_parameters(request: &ChatCompletionRequest, warnings: &mut Warnings) {
    warnings.unsupported_if(request.logit_bias.is_some(), "logit_bias");
    if request.top_logprobs.is_some() && request.logprobs != Some(true) {
        warnings.push(Warning::unsupported_because("top_logprobs", "it needs logprobs: true"));
    }
    warnings.unsupported_if(request.user.is_some(), "user");
    warnings.unsupported_if(request.safety_identifier.is_some(), "safety_identifier");
    warnings.unsupported_if(request.prompt_cache_key.is_some(), "prompt_cache_key");
    warnings.unsupported_if(request.prompt_cache_retention.is_some(), "prompt_cache_retention");
    warnings.unsupported_if(request.metadata.is_some(), "metadata");
    warnings.unsupported_if(request.store == Some(true), "store");
    warnings.unsupported_if(request.service_tier.is_some(), "service_tier");
    warnings.unsupported_if(request.prediction.is_some(), "prediction");
    warnings.unsupported_if(request.audio.is_some(), "audio");
    warnings.unsupported_if(request.verbosity.is_some(), "verbosity");
    if request.parallel_tool_calls == Some(false) {
        warnings.push(Warning::unsupported_because(
            "parallel_tool_calls",
            "Gemini cannot be told to make at most one call per turn",
        ));
    }
    let specific = request.provider_specific.as_ref();
    warnings.unsupported_if(
        specific.is_some_and(|specific| specific.additional_parameters.is_some()),
        "provider_specific.additional_parameters",
    );
}

// ---------------------------------------------------------------------------------------------------
// Messages
// ---------------------------------------------------------------------------------------------------

/// The conversation in Gemini's shape.
#[derive(Debug, Default)]
pub(crate) struct ConvertedMessages {
    pub system_instruction: Option<Content>,
    pub contents: Vec<Content>,
}

/// System and developer messages become the system instruction (all of them, in order); user messages
/// `user` turns; assistant messages `model` turns with their function calls and thought signatures; the
/// results of one turn's tool calls one `user` turn of `functionResponse` parts, in the order of the calls
/// they answer (Gemini before version 3 pairs calls and results by position; Gemini 3 by id, which is
/// then sent on both).
pub(crate) fn convert_messages(
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
                let parts = content_parts(message.content.as_ref(), position, warnings)?;
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

/// A `data:` URI becomes `inlineData` with its own MIME type; any other URL `fileData`.
fn media_part(url: &str, filename: Option<&str>) -> Result<Part, String> {
    if let Some(rest) = url.strip_prefix("data:") {
        let Some((header, data)) = rest.split_once(',') else {
            return Err("a data URI without a comma".to_owned());
        };
        let Some(mime_type) = header.strip_suffix(";base64") else {
            return Err("only base64 data URIs can be sent to Gemini".to_owned());
        };
        // Parameters (`;charset=utf-8`) are not part of the MIME type Gemini checks.
        let mime_type = mime_type.split(';').next().unwrap_or_default().trim();
        let mime_type = match mime_type {
            "" => filename.and_then(mime_type_from_name).unwrap_or("application/octet-stream"),
            given => given,
        };
        return Ok(Part {
            inline_data: Some(Blob { mime_type: mime_type.to_owned(), data: data.to_owned() }),
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

/// Text first, then the calls. A text-part thought signature kept in `reasoning_details` goes back on
/// the text part; a call's signature on its call. On Gemini 3, a turn's first call without a signature
/// (history from another model) gets the skip value Google documents.
fn assistant_parts(
    message: &ChatCompletionMessage,
    position: usize,
    generation: Option<Generation>,
    warnings: &mut Warnings,
) -> LLMResult<Vec<Part>> {
    let mut parts = content_parts(message.content.as_ref(), position, warnings)?;
    if let Some(refusal) = &message.refusal {
        parts.push(Part::text(refusal.clone()));
    }
    let text_signature = message
        .reasoning_details
        .iter()
        .flatten()
        .filter(|detail| detail.provider.as_deref() == Some(REASONING_PROVIDER))
        .find_map(|detail| detail.signature.clone());
    if let Some(signature) = text_signature {
        // Without text there is no part to carry it; Gemini requires signatures on calls only.
        if let Some(part) = parts.iter_mut().rev().find(|part| part.text.is_some()) {
            part.thought_signature = Some(signature);
        }
    }
    // Gemini 3 wants signatures back and pairs results with calls by id.
    let gemini_3 = Generation::thinks_in_levels(generation);
    for (index, call) in message.tool_calls.iter().flatten().enumerate() {
        let signature = thought_signature(call)
            .or_else(|| (index == 0 && gemini_3).then(|| SKIP_SIGNATURE_VALIDATOR.to_owned()));
        parts.push(Part {
            function_call: Some(FunctionCall {
                id: Some(call.id.clone()).filter(|id| gemini_3 && !id.is_empty()),
                name: call.function.name.clone(),
                args: Some(call_arguments(call, position)?),
            }),
            thought_signature: signature,
            ..Default::default()
        });
    }
    Ok(parts)
}

/// `extra_content.google.thought_signature`, where responses keep it.
pub(crate) fn thought_signature(call: &ToolCall) -> Option<String> {
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

// ---------------------------------------------------------------------------------------------------
// Tools
// ---------------------------------------------------------------------------------------------------

fn convert_tools(
    request: &ChatCompletionRequest,
    native_json_schema: bool,
    warnings: &mut Warnings,
) -> Vec<Tool> {
    let functions = request
        .tools
        .iter()
        .flatten()
        .map(|tool: &ChatCompletionTool| &tool.function)
        .chain(request.functions.iter().flatten());
    let declarations: Vec<FunctionDeclaration> =
        functions.map(|function| declaration(function, native_json_schema, warnings)).collect();
    let mut tools = Vec::new();
    if !declarations.is_empty() {
        tools.push(Tool { function_declarations: declarations, ..Default::default() });
    }
    if let Some(options) = &request.web_search_options {
        // Gemini grounds answers with its Google Search tool, which takes no options.
        if options.as_object().is_some_and(|options| !options.is_empty()) {
            warnings.push(Warning::adjusted(
                "web_search_options",
                "Gemini's Google Search tool takes no options; sent without them",
            ));
        }
        tools.push(Tool { google_search: Some(Value::Object(Map::new())), ..Default::default() });
    }
    tools
}

fn declaration(
    function: &FunctionDefinition,
    native_json_schema: bool,
    warnings: &mut Warnings,
) -> FunctionDeclaration {
    let mut declaration = FunctionDeclaration {
        name: function.name.clone(),
        description: function.description.clone(),
        ..Default::default()
    };
    let Some(parameters) = &function.parameters else { return declaration };
    if native_json_schema {
        declaration.parameters_json_schema = Some(parameters.clone());
        return declaration;
    }
    let normalised = schema::normalise(parameters);
    report_removed(&format!("tools[{}].parameters", function.name), &normalised.removed, warnings);
    // Gemini rejects an OBJECT without properties: a function without parameters declares none.
    let has_properties = normalised
        .schema
        .get("properties")
        .and_then(Value::as_object)
        .is_some_and(|properties| !properties.is_empty());
    if has_properties {
        declaration.parameters = Some(normalised.schema);
    }
    declaration
}

fn report_removed(parameter: &str, removed: &BTreeSet<String>, warnings: &mut Warnings) {
    if !removed.is_empty() {
        let names: Vec<&str> = removed.iter().map(String::as_str).collect();
        warnings.push(Warning::adjusted(
            parameter,
            format!("Gemini's Schema cannot express {}; removed", names.join(", ")),
        ));
    }
}

/// `tool_choice` (or the legacy `function_call`) -> `functionCallingConfig`. A strict function makes
/// `auto` Gemini's `VALIDATED` mode; `allowed_tools` in auto mode narrows the declarations themselves,
/// because Gemini takes allowed names only in `ANY` mode.
fn convert_tool_choice(
    request: &ChatCompletionRequest,
    tools: &mut [Tool],
    warnings: &mut Warnings,
) -> Option<ToolConfig> {
    let choice = match (&request.tool_choice, &request.function_call) {
        (Some(choice), _) => Some(choice.clone()),
        (None, Some(Value::String(mode))) if mode == "none" => Some(ToolChoice::None),
        (None, Some(Value::String(mode))) if mode == "auto" => Some(ToolChoice::Auto),
        (None, Some(Value::Object(named))) => named
            .get("name")
            .and_then(Value::as_str)
            .map(|name| ToolChoice::Function { name: name.to_owned() }),
        (None, Some(_)) => {
            warnings.push(Warning::unsupported_because("function_call", "not none, auto or {\"name\": ...}"));
            None
        }
        (None, None) => None,
    };
    let strict = request
        .tools
        .iter()
        .flatten()
        .map(|tool| &tool.function)
        .chain(request.functions.iter().flatten())
        .any(|function| function.strict == Some(true));
    let config = |mode: &str, names: Vec<String>| ToolConfig {
        function_calling_config: FunctionCallingConfig {
            mode: mode.to_owned(),
            allowed_function_names: names,
        },
    };
    let auto = if strict { "VALIDATED" } else { "AUTO" };
    match choice {
        None if strict && !tools.is_empty() => Some(config(auto, Vec::new())),
        None => None,
        Some(ToolChoice::None) => Some(config("NONE", Vec::new())),
        Some(ToolChoice::Auto) => Some(config(auto, Vec::new())),
        Some(ToolChoice::Required) => Some(config("ANY", Vec::new())),
        Some(ToolChoice::Function { name }) => Some(config("ANY", vec![name])),
        Some(ToolChoice::AllowedTools(allowed)) => match allowed.mode {
            vllora_llm_core::types::gateway::AllowedToolsMode::Required => {
                Some(config("ANY", allowed.function_names))
            }
            vllora_llm_core::types::gateway::AllowedToolsMode::Auto => {
                for tool in tools.iter_mut() {
                    tool.function_declarations
                        .retain(|declaration| allowed.function_names.contains(&declaration.name));
                }
                Some(config(auto, Vec::new()))
            }
        },
        Some(_) => {
            warnings.push(Warning::unsupported("tool_choice"));
            None
        }
    }
}

// ---------------------------------------------------------------------------------------------------
// Generation config
// ---------------------------------------------------------------------------------------------------

fn generation_config(
    request: &ChatCompletionRequest,
    generation: Option<Generation>,
    native_json_schema: bool,
    warnings: &mut Warnings,
) -> LLMResult<GenerationConfig> {
    let seed = match request.seed {
        None => None,
        Some(seed) => Some(i32::try_from(seed).map_err(|_| invalid("seed must fit in 32 bits for Gemini"))?),
    };
    let specific = request.provider_specific.as_ref();
    let mut config = GenerationConfig {
        candidate_count: request.n,
        stop_sequences: request.stop.clone().filter(|stop| !stop.is_empty()),
        max_output_tokens: request.max_completion_tokens.or(request.max_tokens),
        temperature: request.temperature,
        top_p: request.top_p,
        top_k: specific.and_then(|specific| specific.top_k),
        seed,
        presence_penalty: request.presence_penalty,
        frequency_penalty: request.frequency_penalty,
        response_logprobs: (request.logprobs == Some(true)).then_some(true),
        logprobs: request.top_logprobs.filter(|_| request.logprobs == Some(true)),
        ..Default::default()
    };
    if request.max_completion_tokens.is_some() && request.max_tokens.is_some() {
        warnings.push(Warning::adjusted("max_tokens", "max_completion_tokens was given too and wins"));
    }
    if let Some(modalities) = &request.modalities {
        let upper: Vec<String> = modalities.iter().map(|modality| modality.to_ascii_uppercase()).collect();
        if upper != ["TEXT"] {
            config.response_modalities = Some(upper);
        }
    }
    match &request.response_format {
        None | Some(ResponseFormat::Text) => {}
        Some(ResponseFormat::JsonObject) => config.response_mime_type = Some("application/json".to_owned()),
        Some(ResponseFormat::JsonSchema { json_schema }) => {
            config.response_mime_type = Some("application/json".to_owned());
            if let Some(schema) = &json_schema.schema {
                // Gemini has no place for the format's description but the schema's own.
                let described;
                let schema = match (&json_schema.description, schema) {
                    (Some(description), Value::Object(object)) if !object.contains_key("description") => {
                        let mut object = object.clone();
                        object.insert("description".to_owned(), Value::String(description.clone()));
                        described = Value::Object(object);
                        &described
                    }
                    _ => schema,
                };
                if native_json_schema {
                    config.response_json_schema = Some(schema.clone());
                } else {
                    let normalised = schema::normalise(schema);
                    report_removed("response_format.json_schema", &normalised.removed, warnings);
                    config.response_schema = Some(normalised.schema);
                }
            }
        }
    }
    config.thinking_config = thinking_config(request, generation, warnings)?;
    Ok(config)
}

/// `reasoning_effort` and `provider_specific.thinking` -> `thinkingConfig`: a level on Gemini 3 and later
/// (and unversioned aliases), a token budget on Gemini 2.5. An explicit budget is sent as a budget on
/// every generation (Gemini 3 accepts it). Thoughts are asked for whenever thinking is on.
fn thinking_config(
    request: &ChatCompletionRequest,
    generation: Option<Generation>,
    warnings: &mut Warnings,
) -> LLMResult<Option<ThinkingConfig>> {
    let specific = request.provider_specific.as_ref();
    let thinking = specific.and_then(|specific| specific.thinking);
    let extra = specific.map(|specific| &specific.extra);
    let level = match extra.and_then(|extra| extra.get(EXTRA_THINKING_LEVEL)) {
        None => None,
        Some(Value::String(level)) => Some(level.to_ascii_lowercase()),
        Some(_) => return Err(invalid("provider_specific.extra.thinking_level must be a string")),
    };
    let include_thoughts = match extra.and_then(|extra| extra.get(EXTRA_INCLUDE_THOUGHTS)) {
        None => None,
        Some(Value::Bool(flag)) => Some(*flag),
        Some(_) => return Err(invalid("provider_specific.extra.include_thoughts must be a boolean")),
    };
    let effort = request.reasoning_effort;
    if !Generation::can_think(generation) {
        for (present, parameter) in [
            (effort.is_some(), "reasoning_effort"),
            (thinking.is_some(), "provider_specific.thinking"),
            (level.is_some(), "provider_specific.extra.thinking_level"),
            (include_thoughts == Some(true), "provider_specific.extra.include_thoughts"),
        ] {
            if present {
                warnings.push(Warning::unsupported_because(parameter, "this model does not think"));
            }
        }
        return Ok(None);
    }
    if effort.is_none() && thinking.is_none() && level.is_none() {
        return Ok(include_thoughts
            .map(|flag| ThinkingConfig { include_thoughts: Some(flag), ..Default::default() }));
    }
    if effort.is_some() && (thinking.is_some() || level.is_some()) {
        warnings.push(Warning::adjusted(
            "reasoning_effort",
            "provider_specific thinking options were given too and win",
        ));
    }
    let mut config = match (level, thinking, effort) {
        (Some(level), _, _) => {
            if thinking.is_some() {
                warnings.push(Warning::adjusted(
                    "provider_specific.thinking",
                    "thinking_level was given too and wins",
                ));
            }
            ThinkingConfig { thinking_level: Some(level), ..Default::default() }
        }
        (None, Some(thinking), _) => thinking_from_options(thinking, generation, warnings),
        (None, None, Some(effort)) => thinking_from_effort(effort, generation, warnings),
        (None, None, None) => ThinkingConfig::default(),
    };
    let thinking_off = config.thinking_budget == Some(0);
    config.include_thoughts =
        if thinking_off { include_thoughts } else { Some(include_thoughts.unwrap_or(true)) };
    Ok(Some(config))
}

fn thinking_from_options(
    thinking: GatewayThinking,
    generation: Option<Generation>,
    warnings: &mut Warnings,
) -> ThinkingConfig {
    let budget = |budget: i32| ThinkingConfig { thinking_budget: Some(budget), ..Default::default() };
    match thinking.kind {
        ThinkingType::Enabled => match thinking.budget_tokens {
            Some(tokens) => budget(i32::try_from(tokens).unwrap_or(i32::MAX)),
            None => budget(-1),
        },
        ThinkingType::Adaptive if Generation::thinks_in_levels(generation) => ThinkingConfig::default(),
        ThinkingType::Adaptive => budget(-1),
        ThinkingType::Disabled => disabled_thinking("provider_specific.thinking", generation, warnings),
        _ => {
            warnings.push(Warning::unsupported("provider_specific.thinking.type"));
            ThinkingConfig::default()
        }
    }
}

fn thinking_from_effort(
    effort: ReasoningEffort,
    generation: Option<Generation>,
    warnings: &mut Warnings,
) -> ThinkingConfig {
    if effort == ReasoningEffort::None {
        return disabled_thinking("reasoning_effort", generation, warnings);
    }
    if Generation::thinks_in_levels(generation) {
        let level = match effort {
            ReasoningEffort::Minimal if !Generation::takes_minimal_level(generation) => {
                warnings
                    .push(Warning::adjusted("reasoning_effort", "this model's lowest thinking level is low"));
                "low"
            }
            ReasoningEffort::Minimal => "minimal",
            ReasoningEffort::Low => "low",
            ReasoningEffort::Medium => "medium",
            ReasoningEffort::XHigh => {
                warnings
                    .push(Warning::adjusted("reasoning_effort", "Gemini's highest thinking level is high"));
                "high"
            }
            _ => "high",
        };
        return ThinkingConfig { thinking_level: Some(level.to_owned()), ..Default::default() };
    }
    let pro = generation.is_some_and(|generation| generation.pro);
    let budget = match effort {
        ReasoningEffort::Minimal if pro => 128,
        ReasoningEffort::Minimal => 512,
        ReasoningEffort::Low => 1024,
        ReasoningEffort::Medium => 8192,
        ReasoningEffort::XHigh if pro => 32_768,
        _ => 24_576,
    };
    ThinkingConfig { thinking_budget: Some(budget), ..Default::default() }
}

/// Gemini 2.5 Flash turns thinking off with a zero budget; 2.5 Pro and Gemini 3 cannot turn it off, so
/// they get their least thinking and a warning.
fn disabled_thinking(
    parameter: &str,
    generation: Option<Generation>,
    warnings: &mut Warnings,
) -> ThinkingConfig {
    if Generation::thinks_in_levels(generation) {
        warnings
            .push(Warning::adjusted(parameter, "Gemini 3 cannot turn thinking off; sent the lowest level"));
        let lowest = if Generation::takes_minimal_level(generation) { "minimal" } else { "low" };
        return ThinkingConfig { thinking_level: Some(lowest.to_owned()), ..Default::default() };
    }
    if generation.is_some_and(|generation| generation.pro) {
        warnings.push(Warning::adjusted(
            parameter,
            "Gemini 2.5 Pro cannot turn thinking off; sent the minimum budget",
        ));
        return ThinkingConfig { thinking_budget: Some(128), ..Default::default() };
    }
    ThinkingConfig { thinking_budget: Some(0), ..Default::default() }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use serde_json::json;
    use vllora_llm_core::types::gateway::ChatCompletionMessage;

    use super::*;

    fn fixture_dir() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/requests")
    }

    /// The Gemini body for a gateway request, as JSON, and the warnings. Every body is recorded for the
    /// conformance check.
    pub(crate) fn translate(request: &ChatCompletionRequest) -> (LLMResult<Value>, Vec<Warning>) {
        let mut warnings = Warnings::new(crate::PROVIDER_NAME);
        let body = build_generate_request(request, &request.model, &mut warnings)
            .and_then(|body| serde_json::to_value(body).map_err(|error| invalid(error.to_string())));
        if let Ok(body) = &body {
            vllora_llm_testkit::record_conformance("gemini-generate", &conformance_view(body));
        }
        (body, warnings.as_slice().to_vec())
    }

    /// The body as the conformance proto can check it. The published `google.ai.generativelanguage`
    /// v1beta proto (0.12.1) predates `thinkingConfig.thinkingLevel`, which Google documents for Gemini 3
    /// models; that one field is set aside and everything else is checked.
    fn conformance_view(body: &Value) -> Value {
        let mut view = body.clone();
        if let Some(thinking) =
            view.pointer_mut("/generationConfig/thinkingConfig").and_then(Value::as_object_mut)
        {
            thinking.remove("thinkingLevel");
        }
        view
    }

    fn fixture(name: &str) -> (ChatCompletionRequest, Value, Vec<Warning>) {
        let read = |file: String| std::fs::read_to_string(fixture_dir().join(file)).unwrap_or_default();
        let Ok(request) = serde_json::from_str::<ChatCompletionRequest>(&read(format!("{name}.json"))) else {
            panic!("{name}.json is not a gateway request")
        };
        let (body, warnings) = translate(&request);
        let Ok(body) = body else { panic!("{name}: {body:?}") };
        let expected_path = fixture_dir().join(format!("{name}.gemini.json"));
        if std::env::var_os("VLLORA_BLESS").is_some() {
            let pretty = serde_json::to_string_pretty(&body).unwrap_or_default();
            std::fs::write(&expected_path, pretty + "\n").unwrap_or_default();
        }
        let expected: Value = serde_json::from_str(&read(format!("{name}.gemini.json"))).unwrap_or_default();
        assert_eq!(body, expected, "{name}: the body differs from {name}.gemini.json");
        (request, body, warnings)
    }

    fn parameters(warnings: &[Warning]) -> Vec<&str> {
        warnings.iter().filter_map(Warning::parameter).collect()
    }

    #[test]
    fn sampling_parameters_system_messages_and_a_normalised_schema() {
        let (_, body, warnings) = fixture("sampling_and_schema");
        assert_eq!(
            body["systemInstruction"]["parts"],
            json!([{"text": "You are a travel agent."}, {"text": "Answer in JSON."}])
        );
        assert_eq!(body["generationConfig"]["candidateCount"], 2);
        assert_eq!(body["generationConfig"]["topK"], 40);
        assert_eq!(
            (&body["generationConfig"]["responseLogprobs"], &body["generationConfig"]["logprobs"]),
            (&json!(true), &json!(2))
        );
        assert_eq!(body["generationConfig"]["temperature"], 0.7);
        assert_eq!(body["generationConfig"]["responseSchema"]["properties"]["budget"]["nullable"], true);
        assert!(body["generationConfig"].get("thinkingConfig").is_none());
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn parallel_calls_and_their_results_keep_names_order_and_signatures() {
        let (_, body, warnings) = fixture("tools_conversation");
        let contents = &body["contents"];
        assert_eq!(contents[1]["role"], "model");
        assert_eq!(contents[1]["parts"][0]["thoughtSignature"], "CiQBjz1rX2sig/paris==");
        assert!(contents[1]["parts"][1].get("thoughtSignature").is_none(), "Gemini 2.5 needs no skip value");
        assert_eq!(
            contents[2],
            json!({"role": "user", "parts": [
                {"functionResponse": {"name": "get_weather", "response": {"temperature_c": 18, "sky": "cloudy"}}},
                {"functionResponse": {"name": "get_weather", "response": {"output": "sunny, 24 C"}}}
            ]})
        );
        assert_eq!(
            body["toolConfig"],
            json!({"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["get_time"]}})
        );
        assert_eq!(body["tools"][0]["functionDeclarations"][2], json!({"name": "ping"}));
        assert_eq!(
            body["generationConfig"]["thinkingConfig"],
            json!({"includeThoughts": true, "thinkingBudget": 8192})
        );
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn media_become_inline_data_or_file_data_with_their_types() {
        let (_, body, warnings) = fixture("media");
        let parts = &body["contents"][0]["parts"];
        assert_eq!(parts[1]["inlineData"]["mimeType"], "image/png");
        assert_eq!(
            parts[2]["fileData"],
            json!({"mimeType": "image/jpeg", "fileUri": "https://storage.example.com/photos/cat.jpeg?size=large"})
        );
        assert_eq!(parts[3]["inlineData"]["mimeType"], "audio/wav");
        assert_eq!(parts[4]["inlineData"]["mimeType"], "application/pdf");
        assert_eq!(parts[5]["fileData"]["mimeType"], "text/plain");
        assert_eq!(body["generationConfig"]["maxOutputTokens"], 256);
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn gemini_3_gets_a_thinking_level_signatures_back_and_the_skip_value() {
        let (_, body, warnings) = fixture("thinking_gemini3");
        let contents = &body["contents"];
        assert_eq!(
            contents[1]["parts"],
            json!([
                {"text": "Let me check availability.", "thoughtSignature": "EqQBCkYIBxgCKkB/text=="},
                {"functionCall": {"id": "call_1", "name": "book", "args": {"people": 2}}, "thoughtSignature": "EqQBCkYIBxgCKkB/call=="}
            ])
        );
        assert_eq!(
            contents[2]["parts"][0]["functionResponse"]["response"],
            json!({"output": ["19:00", "21:30"]})
        );
        assert_eq!(contents[3]["parts"][0]["thoughtSignature"], SKIP_SIGNATURE_VALIDATOR);
        assert_eq!(contents[4]["parts"][0]["functionResponse"]["name"], "book");
        assert_eq!(body["toolConfig"]["functionCallingConfig"]["mode"], "VALIDATED");
        assert_eq!(
            body["generationConfig"]["thinkingConfig"],
            json!({"includeThoughts": true, "thinkingLevel": "high"})
        );
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn a_cache_replaces_the_system_instruction_and_is_named_in_the_body() {
        let (_, body, warnings) = fixture("cached_content");
        assert_eq!(body["cachedContent"], "cachedContents/z8j4v0lx3ye1");
        assert!(body.get("systemInstruction").is_none());
        assert_eq!(body["safetySettings"][0]["threshold"], "BLOCK_ONLY_HIGH");
        assert_eq!(
            body["generationConfig"]["thinkingConfig"],
            json!({"includeThoughts": true, "thinkingBudget": 2048})
        );
        assert_eq!(parameters(&warnings), ["provider_specific.extra.cached_content"]);
    }

    fn user(text: &str) -> ChatCompletionMessage {
        ChatCompletionMessage::new_text("user", text)
    }

    fn request(model: &str) -> ChatCompletionRequest {
        ChatCompletionRequest { model: model.into(), messages: vec![user("hi")], ..Default::default() }
    }

    #[test]
    fn parameters_gemini_cannot_honour_are_warned_about_and_strict_mode_refuses_them() {
        let mut gateway = request("gemini-2.5-flash");
        gateway.logit_bias = Some([("50256".to_owned(), -100)].into_iter().collect());
        gateway.user = Some("user-1".into());
        gateway.prompt_cache_key = Some("k".into());
        gateway.parallel_tool_calls = Some(false);
        gateway.provider_specific = Some(vllora_llm_core::types::gateway::ProviderSpecificRequest {
            additional_parameters: Some(Map::new()),
            extra: Map::from_iter([("anthropic_beta".to_owned(), json!("x"))]),
            ..Default::default()
        });
        let (body, warnings) = translate(&gateway);
        assert!(body.is_ok());
        assert_eq!(
            parameters(&warnings),
            [
                "provider_specific.extra.anthropic_beta",
                "logit_bias",
                "user",
                "prompt_cache_key",
                "parallel_tool_calls",
                "provider_specific.additional_parameters"
            ]
        );
        let mut strict = Warnings::new(crate::PROVIDER_NAME);
        let _ = build_generate_request(&gateway, &gateway.model, &mut strict);
        assert!(matches!(strict.finish(true), Err(LLMError::Unsupported(list)) if list.len() == 6));
    }

    #[test]
    fn reasoning_effort_follows_the_model_generation() {
        let cases = [
            ("gemini-2.5-flash", ReasoningEffort::None, json!({"thinkingBudget": 0}), 0),
            (
                "gemini-2.5-flash",
                ReasoningEffort::Low,
                json!({"includeThoughts": true, "thinkingBudget": 1024}),
                0,
            ),
            (
                "gemini-2.5-pro",
                ReasoningEffort::None,
                json!({"includeThoughts": true, "thinkingBudget": 128}),
                1,
            ),
            (
                "gemini-2.5-pro",
                ReasoningEffort::XHigh,
                json!({"includeThoughts": true, "thinkingBudget": 32768}),
                0,
            ),
            (
                "gemini-3-pro-preview",
                ReasoningEffort::None,
                json!({"includeThoughts": true, "thinkingLevel": "low"}),
                1,
            ),
            (
                "gemini-3.5-flash",
                ReasoningEffort::Minimal,
                json!({"includeThoughts": true, "thinkingLevel": "minimal"}),
                0,
            ),
            (
                "gemini-flash-latest",
                ReasoningEffort::XHigh,
                json!({"includeThoughts": true, "thinkingLevel": "high"}),
                1,
            ),
        ];
        for (model, effort, expected, warning_count) in cases {
            let mut gateway = request(model);
            gateway.reasoning_effort = Some(effort);
            let (body, warnings) = translate(&gateway);
            let Ok(body) = body else { panic!("{model}") };
            assert_eq!(body["generationConfig"]["thinkingConfig"], expected, "{model} {effort:?}");
            assert_eq!(warnings.len(), warning_count, "{model} {effort:?}: {warnings:?}");
        }
        let mut old = request("gemini-2.0-flash");
        old.reasoning_effort = Some(ReasoningEffort::High);
        let (body, warnings) = translate(&old);
        assert!(body.is_ok_and(|body| body.get("generationConfig").is_none()));
        assert_eq!(parameters(&warnings), ["reasoning_effort"]);
    }

    #[test]
    fn minimal_effort_on_a_gemini_3_pro_model_is_its_lowest_level() {
        // Gemini 3 Pro models take `low` and up; `minimal` is a 400 there.
        for model in ["gemini-3-pro-preview", "gemini-3.1-pro-preview"] {
            let mut gateway = request(model);
            gateway.reasoning_effort = Some(ReasoningEffort::Minimal);
            let (body, warnings) = translate(&gateway);
            let Ok(body) = body else { panic!("{model}") };
            assert_eq!(
                body["generationConfig"]["thinkingConfig"],
                json!({"includeThoughts": true, "thinkingLevel": "low"}),
                "{model}"
            );
            assert_eq!(parameters(&warnings), ["reasoning_effort"], "{model}");
        }
    }

    #[test]
    fn include_thoughts_on_a_model_that_does_not_think_is_a_warning() {
        let mut gateway = request("gemini-2.0-flash");
        gateway.provider_specific = Some(vllora_llm_core::types::gateway::ProviderSpecificRequest {
            extra: Map::from_iter([("include_thoughts".to_owned(), json!(true))]),
            ..Default::default()
        });
        let (body, warnings) = translate(&gateway);
        assert!(body.is_ok_and(|body| body.get("generationConfig").is_none()));
        assert_eq!(parameters(&warnings), ["provider_specific.extra.include_thoughts"]);
    }

    #[test]
    fn minimal_thinking_goes_only_to_models_that_take_it() {
        // Google documents `minimal` as a 400 on Pro models and on Flash from 3.7 on; Flash-Lite and
        // earlier Flash models take it. An unversioned alias may point at either, so it gets `low`.
        let level = |model: &str, effort: ReasoningEffort| {
            let mut gateway = request(model);
            gateway.reasoning_effort = Some(effort);
            let (body, warnings) = translate(&gateway);
            let level = body.map(|body| body["generationConfig"]["thinkingConfig"]["thinkingLevel"].clone());
            (level.unwrap_or_default(), warnings.len())
        };
        for model in ["gemini-3.7-flash", "gemini-3.8-flash", "gemini-flash-latest", "gemini-3.1-pro-preview"]
        {
            assert_eq!(level(model, ReasoningEffort::Minimal), (json!("low"), 1), "{model}");
            assert_eq!(level(model, ReasoningEffort::None), (json!("low"), 1), "{model}");
        }
        for model in ["gemini-3-flash-preview", "gemini-3.6-flash", "gemini-3.8-flash-lite"] {
            assert_eq!(level(model, ReasoningEffort::Minimal), (json!("minimal"), 0), "{model}");
            assert_eq!(level(model, ReasoningEffort::None), (json!("minimal"), 1), "{model}");
        }
    }

    #[test]
    fn thinking_options_map_to_budgets_and_levels() {
        let with = |model: &str, thinking: GatewayThinking, extra: Map<String, Value>| {
            let mut gateway = request(model);
            gateway.provider_specific = Some(vllora_llm_core::types::gateway::ProviderSpecificRequest {
                thinking: Some(thinking),
                extra,
                ..Default::default()
            });
            let (body, warnings) = translate(&gateway);
            (
                body.map(|body| body["generationConfig"]["thinkingConfig"].clone()).unwrap_or_default(),
                warnings.len(),
            )
        };
        let adaptive = GatewayThinking { kind: ThinkingType::Adaptive, budget_tokens: None };
        let disabled = GatewayThinking { kind: ThinkingType::Disabled, budget_tokens: None };
        assert_eq!(
            with("gemini-2.5-flash", adaptive, Map::new()),
            (json!({"includeThoughts": true, "thinkingBudget": -1}), 0)
        );
        assert_eq!(
            with("gemini-3-flash-preview", adaptive, Map::new()),
            (json!({"includeThoughts": true}), 0)
        );
        assert_eq!(with("gemini-2.5-flash-lite", disabled, Map::new()), (json!({"thinkingBudget": 0}), 0));
        assert_eq!(
            with(
                "gemini-3-flash-preview",
                GatewayThinking::enabled(4096),
                Map::from_iter([("include_thoughts".to_owned(), json!(false))])
            ),
            (json!({"includeThoughts": false, "thinkingBudget": 4096}), 0)
        );
        assert_eq!(
            with(
                "gemini-3-flash-preview",
                adaptive,
                Map::from_iter([("thinking_level".to_owned(), json!("MEDIUM"))])
            ),
            (json!({"includeThoughts": true, "thinkingLevel": "medium"}), 1)
        );
    }

    #[test]
    fn tool_choice_variants_and_legacy_functions() {
        use vllora_llm_core::types::gateway::{AllowedTools, AllowedToolsMode};
        let tool = |name: &str| {
            ChatCompletionTool::function(FunctionDefinition {
                name: name.into(),
                parameters: Some(json!({"type": "object", "properties": {"q": {"type": "string"}}})),
                ..Default::default()
            })
        };
        let cases = [
            (ToolChoice::None, json!({"mode": "NONE"}), 2),
            (ToolChoice::Auto, json!({"mode": "AUTO"}), 2),
            (ToolChoice::Required, json!({"mode": "ANY"}), 2),
            (
                ToolChoice::AllowedTools(AllowedTools {
                    mode: AllowedToolsMode::Required,
                    function_names: vec!["a".into()],
                }),
                json!({"mode": "ANY", "allowedFunctionNames": ["a"]}),
                2,
            ),
            (
                ToolChoice::AllowedTools(AllowedTools {
                    mode: AllowedToolsMode::Auto,
                    function_names: vec!["b".into()],
                }),
                json!({"mode": "AUTO"}),
                1,
            ),
        ];
        for (choice, expected, declared) in cases {
            let mut gateway = request("gemini-2.5-flash");
            gateway.tools = Some(vec![tool("a"), tool("b")]);
            gateway.tool_choice = Some(choice.clone());
            let (body, _) = translate(&gateway);
            let Ok(body) = body else { panic!("{choice:?}") };
            assert_eq!(body["toolConfig"]["functionCallingConfig"], expected, "{choice:?}");
            assert_eq!(body["tools"][0]["functionDeclarations"].as_array().map(Vec::len), Some(declared));
        }
        let mut legacy = request("gemini-2.5-flash");
        legacy.functions = Some(vec![tool("a").function]);
        legacy.function_call = Some(json!({"name": "a"}));
        let (body, _) = translate(&legacy);
        let Ok(body) = body else { panic!("legacy functions") };
        assert_eq!(body["tools"][0]["functionDeclarations"][0]["name"], "a");
        assert_eq!(
            body["toolConfig"]["functionCallingConfig"],
            json!({"mode": "ANY", "allowedFunctionNames": ["a"]})
        );
    }

    #[test]
    fn no_function_calling_config_is_sent_without_function_declarations() {
        use vllora_llm_core::types::gateway::{AllowedTools, AllowedToolsMode};
        // Gemini answers 400 "Function calling config is set without function_declarations".
        let mut search_only = request("gemini-2.5-flash");
        search_only.web_search_options = Some(json!({}));
        search_only.tool_choice = Some(ToolChoice::Auto);
        let (body, warnings) = translate(&search_only);
        let Ok(body) = body else { panic!("search only") };
        assert_eq!(body["tools"], json!([{"googleSearch": {}}]));
        assert!(body.get("toolConfig").is_none(), "{body}");
        assert!(warnings.is_empty(), "{warnings:?}");

        let mut forced_without_tools = request("gemini-2.5-flash");
        forced_without_tools.tool_choice = Some(ToolChoice::Required);
        let (body, warnings) = translate(&forced_without_tools);
        let Ok(body) = body else { panic!("no tools") };
        assert!(body.get("toolConfig").is_none() && body.get("tools").is_none(), "{body}");
        assert_eq!(parameters(&warnings), ["tool_choice"]);

        let mut narrowed_to_nothing = request("gemini-2.5-flash");
        narrowed_to_nothing.tools = Some(vec![ChatCompletionTool::function(FunctionDefinition {
            name: "a".into(),
            ..Default::default()
        })]);
        narrowed_to_nothing.tool_choice = Some(ToolChoice::AllowedTools(AllowedTools {
            mode: AllowedToolsMode::Auto,
            function_names: vec!["z".into()],
        }));
        let (body, _) = translate(&narrowed_to_nothing);
        let Ok(body) = body else { panic!("narrowed") };
        assert!(body.get("toolConfig").is_none() && body.get("tools").is_none(), "{body}");
    }

    #[test]
    fn results_answer_their_own_calls_by_order_and_on_gemini_3_by_id() {
        // Two calls to one function, answered in the opposite order.
        let conversation = |model: &str| ChatCompletionRequest {
            model: model.into(),
            messages: vec![
                user("Weather in Paris and Rome?"),
                ChatCompletionMessage {
                    role: Role::Assistant,
                    tool_calls: Some(vec![
                        ToolCall::function("fc-paris", "get_weather", r#"{"city": "Paris"}"#),
                        ToolCall::function("fc-rome", "get_weather", r#"{"city": "Rome"}"#),
                    ]),
                    ..Default::default()
                },
                ChatCompletionMessage::new_tool_result("fc-rome", r#"{"sky": "sunny"}"#),
                ChatCompletionMessage::new_tool_result("fc-paris", r#"{"sky": "rain"}"#),
            ],
            ..Default::default()
        };
        let (body, _) = translate(&conversation("gemini-2.5-flash"));
        let Ok(body) = body else { panic!("gemini 2.5") };
        assert_eq!(
            body["contents"][2]["parts"],
            json!([
                {"functionResponse": {"name": "get_weather", "response": {"sky": "rain"}}},
                {"functionResponse": {"name": "get_weather", "response": {"sky": "sunny"}}}
            ])
        );
        assert!(body["contents"][1]["parts"][0]["functionCall"].get("id").is_none());

        let (body, _) = translate(&conversation("gemini-3-flash-preview"));
        let Ok(body) = body else { panic!("gemini 3") };
        let call_ids: Vec<&Value> =
            (0..2).map(|index| &body["contents"][1]["parts"][index]["functionCall"]["id"]).collect();
        assert_eq!(call_ids, [&json!("fc-paris"), &json!("fc-rome")]);
        assert_eq!(
            body["contents"][2]["parts"],
            json!([
                {"functionResponse": {"id": "fc-paris", "name": "get_weather", "response": {"sky": "rain"}}},
                {"functionResponse": {"id": "fc-rome", "name": "get_weather", "response": {"sky": "sunny"}}}
            ])
        );
    }

    #[test]
    fn empty_text_is_not_sent_and_empty_turns_are_skipped() {
        let gateway = ChatCompletionRequest {
            model: "gemini-2.5-flash".into(),
            messages: vec![
                ChatCompletionMessage::new_text("system", ""),
                user("What is 2 + 2?"),
                ChatCompletionMessage {
                    role: Role::Assistant,
                    content: Some(ChatCompletionContent::Text(String::new())),
                    tool_calls: Some(vec![ToolCall::function("c1", "add", r#"{"a": 2, "b": 2}"#)]),
                    ..Default::default()
                },
                ChatCompletionMessage::new_tool_result("c1", "4"),
                ChatCompletionMessage::new_text("assistant", ""),
                ChatCompletionMessage::new_parts(
                    "user",
                    vec![ContentPart::text(""), ContentPart::text("Thanks")],
                ),
            ],
            ..Default::default()
        };
        let (body, warnings) = translate(&gateway);
        let Ok(body) = body else { panic!("{body:?}") };
        assert_eq!(
            body,
            json!({"contents": [
                {"role": "user", "parts": [{"text": "What is 2 + 2?"}]},
                {"role": "model", "parts": [{"functionCall": {"name": "add", "args": {"a": 2, "b": 2}}}]},
                {"role": "user", "parts": [{"functionResponse": {"name": "add", "response": {"output": 4}}}]},
                {"role": "user", "parts": [{"text": "Thanks"}]}
            ]})
        );
        assert!(warnings.is_empty());
    }

    #[test]
    fn web_search_becomes_the_google_search_tool() {
        let mut gateway = request("gemini-2.5-flash");
        gateway.web_search_options = Some(json!({}));
        let (body, warnings) = translate(&gateway);
        assert_eq!(body.ok().map(|body| body["tools"].clone()), Some(json!([{"googleSearch": {}}])));
        assert!(warnings.is_empty());
        gateway.web_search_options = Some(json!({"search_context_size": "high"}));
        let (_, warnings) = translate(&gateway);
        assert_eq!(parameters(&warnings), ["web_search_options"]);
    }

    #[test]
    fn the_response_format_description_and_earlier_audio_are_not_lost_silently() {
        let mut gateway = request("gemini-2.5-flash");
        gateway.response_format = Some(ResponseFormat::JsonSchema {
            json_schema: vllora_llm_core::types::gateway::JsonSchemaFormat {
                name: "answer".into(),
                description: Some("The city the user should visit".into()),
                schema: Some(json!({"type": "object", "properties": {"city": {"type": "string"}}})),
                ..Default::default()
            },
        });
        gateway.messages.push(ChatCompletionMessage {
            role: Role::Assistant,
            content: Some(ChatCompletionContent::Text("Here it is.".into())),
            audio: Some(vllora_llm_core::types::gateway::AssistantAudio {
                id: "audio_abc".into(),
                ..Default::default()
            }),
            ..Default::default()
        });
        gateway.messages.push(user("And now?"));
        let (body, warnings) = translate(&gateway);
        let Ok(body) = body else { panic!("a valid request") };
        assert_eq!(
            body["generationConfig"]["responseSchema"],
            json!({"type": "OBJECT", "description": "The city the user should visit",
                   "properties": {"city": {"type": "STRING"}}})
        );
        assert_eq!(parameters(&warnings), ["messages[].audio"]);
    }

    #[test]
    fn data_uri_parameters_are_not_part_of_the_mime_type() {
        let mut gateway = request("gemini-2.5-flash");
        gateway.messages = vec![ChatCompletionMessage::new_parts(
            "user",
            vec![ContentPart::File {
                file: vllora_llm_core::types::gateway::FileInput {
                    file_data: Some("data:text/plain;charset=utf-8;base64,aGVsbG8=".into()),
                    ..Default::default()
                },
                cache_control: None,
            }],
        )];
        let (body, _) = translate(&gateway);
        let Ok(body) = body else { panic!("a text file") };
        assert_eq!(
            body["contents"][0]["parts"][0]["inlineData"],
            json!({"mimeType": "text/plain", "data": "aGVsbG8="})
        );
    }

    #[test]
    fn media_in_a_tool_result_is_reported_not_dropped_silently() {
        let mut gateway = request("gemini-2.5-flash");
        gateway.messages.push(ChatCompletionMessage {
            role: Role::Assistant,
            tool_calls: Some(vec![ToolCall::function("c1", "screenshot", "{}")]),
            ..Default::default()
        });
        gateway.messages.push(ChatCompletionMessage {
            role: Role::Tool,
            tool_call_id: Some("c1".into()),
            content: Some(ChatCompletionContent::Parts(vec![
                ContentPart::text("Here is the screen."),
                ContentPart::image_url("data:image/png;base64,iVBORw0KGgo="),
            ])),
            ..Default::default()
        });
        let (body, warnings) = translate(&gateway);
        let Ok(body) = body else { panic!("a tool result") };
        assert_eq!(
            body["contents"][2]["parts"][0]["functionResponse"]["response"],
            json!({"output": "Here is the screen."})
        );
        assert_eq!(parameters(&warnings), ["messages[2].content"]);
    }

    #[test]
    fn native_json_schema_sends_the_schema_untouched() {
        let schema =
            json!({"type": "object", "properties": {"a": {"const": 1}}, "additionalProperties": false});
        let mut gateway = request("gemini-2.5-flash");
        gateway.response_format = Some(ResponseFormat::JsonSchema {
            json_schema: vllora_llm_core::types::gateway::JsonSchemaFormat {
                name: "x".into(),
                schema: Some(schema.clone()),
                ..Default::default()
            },
        });
        gateway.tools = Some(vec![ChatCompletionTool::function(FunctionDefinition {
            name: "f".into(),
            parameters: Some(schema.clone()),
            ..Default::default()
        })]);
        gateway.provider_specific = Some(vllora_llm_core::types::gateway::ProviderSpecificRequest {
            extra: Map::from_iter([("native_json_schema".to_owned(), json!(true))]),
            ..Default::default()
        });
        let (body, warnings) = translate(&gateway);
        let Ok(body) = body else { panic!("native schema") };
        assert_eq!(body["generationConfig"]["responseJsonSchema"], schema);
        assert!(body["generationConfig"].get("responseSchema").is_none());
        assert_eq!(body["tools"][0]["functionDeclarations"][0]["parametersJsonSchema"], schema);
        assert!(warnings.is_empty());
        gateway.provider_specific = None;
        let (_, warnings) = translate(&gateway);
        assert_eq!(parameters(&warnings), ["tools[f].parameters", "response_format.json_schema"]);
    }

    #[test]
    fn bad_input_is_an_error_that_names_it() {
        let cases: Vec<(ChatCompletionRequest, &str)> = vec![
            (
                ChatCompletionRequest {
                    model: "gemini-2.5-flash".into(),
                    messages: vec![user("hi"), ChatCompletionMessage::new_tool_result("call_x", "42")],
                    ..Default::default()
                },
                "call_x",
            ),
            (
                ChatCompletionRequest { model: "gemini-2.5-flash".into(), ..Default::default() },
                "at least one",
            ),
            (
                ChatCompletionRequest {
                    model: "gemini-2.5-flash".into(),
                    messages: vec![ChatCompletionMessage::new_parts(
                        "user",
                        vec![ContentPart::image_url("data:image/png,rawbytes")],
                    )],
                    ..Default::default()
                },
                "base64",
            ),
            (ChatCompletionRequest { seed: Some(1 << 40), ..request("gemini-2.5-flash") }, "seed"),
            (
                ChatCompletionRequest {
                    model: "gemini-2.5-flash".into(),
                    messages: vec![
                        user("hi"),
                        ChatCompletionMessage {
                            role: Role::Assistant,
                            tool_calls: Some(vec![ToolCall::function("c", "f", "[1,2]")]),
                            ..Default::default()
                        },
                    ],
                    ..Default::default()
                },
                "not a JSON object",
            ),
            (
                ChatCompletionRequest {
                    provider_specific: Some(vllora_llm_core::types::gateway::ProviderSpecificRequest {
                        extra: Map::from_iter([("cached_content".to_owned(), json!("../../models"))]),
                        ..Default::default()
                    }),
                    ..request("gemini-2.5-flash")
                },
                "cached content name",
            ),
        ];
        for (gateway, expected) in cases {
            let mut warnings = Warnings::new(crate::PROVIDER_NAME);
            let result = build_generate_request(&gateway, &gateway.model, &mut warnings);
            let Err(LLMError::InvalidRequest(message)) = result else { panic!("{expected}: {result:?}") };
            assert!(message.contains(expected), "{message}");
        }
    }

    #[test]
    fn generations_are_read_from_model_names() {
        let of = |name: &str| {
            Generation::of(name).map(|generation| (generation.major, generation.minor, generation.pro))
        };
        assert_eq!(of("gemini-2.5-flash"), Some((2, 5, false)));
        assert_eq!(of("models/gemini-2.5-pro-preview-06-05"), Some((2, 5, true)));
        assert_eq!(of("gemini-3-pro-preview"), Some((3, 0, true)));
        assert_eq!(of("gemini-3.1-flash-lite"), Some((3, 1, false)));
        assert_eq!(of("gemini-flash-latest"), None);
        assert_eq!(of("gemma-3-27b-it"), Some((0, 0, false)));
        assert_eq!(of("tunedModels/my-model-42"), Some((0, 0, false)));
    }
}
