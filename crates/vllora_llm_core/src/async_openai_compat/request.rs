//! async-openai's `CreateChatCompletionRequest` -> [`ChatCompletionRequest`], field by field.

use std::collections::BTreeMap;

use ::async_openai::types::chat as upstream;
use serde_json::Value;

use super::{Losses, wire_string, wire_value};
use crate::types::gateway::{
    AllowedTools, AllowedToolsMode, AssistantAudio, AudioOutput, ChatCompletionContent,
    ChatCompletionMessage, ChatCompletionRequest, ChatCompletionTool, ContentPart, FileInput,
    FunctionDefinition, ImageDetail, ImageUrl, InputAudio, JsonSchemaFormat, Prediction, ReasoningEffort,
    ResponseFormat, Role, StreamOptions, ToolCall, ToolChoice, Verbosity,
};
use crate::warning::Warning;

impl From<upstream::CreateChatCompletionRequest> for ChatCompletionRequest {
    /// Converts every field; what has no equivalent is dropped with a `tracing` warn event (see the
    /// [module documentation](super)). [`request_from_async_openai`] also returns the warnings.
    fn from(request: upstream::CreateChatCompletionRequest) -> Self {
        request_from_async_openai(request).0
    }
}

/// Converts an async-openai request, returning what could not be carried over as warnings (each also
/// emitted as a `tracing` warn event).
#[allow(deprecated, reason = "the deprecated `functions` and `function_call` are converted too")]
pub fn request_from_async_openai(
    request: upstream::CreateChatCompletionRequest,
) -> (ChatCompletionRequest, Vec<Warning>) {
    let mut losses = Losses::default();
    // No `..`: a field added to async-openai's request does not compile until it is handled here.
    let upstream::CreateChatCompletionRequest {
        messages,
        model,
        modalities,
        verbosity,
        reasoning_effort,
        max_completion_tokens,
        frequency_penalty,
        presence_penalty,
        web_search_options,
        top_logprobs,
        response_format,
        audio,
        store,
        stream,
        stop,
        logit_bias,
        logprobs,
        max_tokens,
        n,
        prediction,
        seed,
        stream_options,
        service_tier,
        temperature,
        top_p,
        tools,
        tool_choice,
        parallel_tool_calls,
        user,
        safety_identifier,
        prompt_cache_key,
        function_call,
        functions,
        metadata,
        prompt_cache_options,
        moderation,
    } = request;
    if prompt_cache_options.is_some() {
        losses.dropped("prompt_cache_options", "ChatCompletionRequest has no field for it");
    }
    if moderation.is_some() {
        losses.dropped("moderation", "ChatCompletionRequest has no field for it");
    }
    let converted = ChatCompletionRequest {
        model,
        messages: messages
            .into_iter()
            .enumerate()
            .map(|(index, message)| message_from(message, &format!("messages[{index}]"), &mut losses))
            .collect(),
        audio: audio.map(|audio| audio_from(&audio, &mut losses)),
        frequency_penalty: frequency_penalty.map(widen),
        function_call: function_call.and_then(|choice| json_of(&choice, "function_call", &mut losses)),
        functions: functions.map(|functions| {
            functions
                .into_iter()
                .map(|function| FunctionDefinition {
                    name: function.name,
                    description: function.description,
                    parameters: Some(function.parameters),
                    strict: None,
                })
                .collect()
        }),
        logit_bias: logit_bias
            .map(|bias| bias.into_iter().map(|(token, value)| (token, i32::from(value))).collect()),
        logprobs,
        max_completion_tokens,
        max_tokens,
        metadata: metadata.and_then(|metadata| metadata_from(&metadata, &mut losses)),
        modalities: modalities.map(|modalities| {
            modalities.iter().filter_map(|modality| text_of(modality, "modalities", &mut losses)).collect()
        }),
        n: n.map(u32::from),
        parallel_tool_calls,
        prediction: prediction.map(|prediction| prediction_from(prediction, &mut losses)),
        presence_penalty: presence_penalty.map(widen),
        prompt_cache_key,
        prompt_cache_retention: None,
        reasoning_effort: reasoning_effort.map(|effort| reasoning_effort_from(effort, &mut losses)),
        response_format: response_format.map(response_format_from),
        safety_identifier,
        seed,
        service_tier: service_tier.and_then(|tier| text_of(&tier, "service_tier", &mut losses)),
        stop: stop.map(|stop| match stop {
            upstream::StopConfiguration::String(one) => vec![one],
            upstream::StopConfiguration::StringArray(many) => many,
        }),
        store,
        stream,
        stream_options: stream_options.map(|options| StreamOptions {
            include_usage: options.include_usage,
            include_obfuscation: options.include_obfuscation,
        }),
        temperature: temperature.map(widen),
        tool_choice: tool_choice.and_then(|choice| tool_choice_from(choice, &mut losses)),
        tools: tools
            .map(|tools| -> Vec<ChatCompletionTool> {
                tools
                    .into_iter()
                    .enumerate()
                    .filter_map(|(index, tool)| tool_from(tool, index, &mut losses))
                    .collect()
            })
            .filter(|tools| !tools.is_empty()),
        top_logprobs,
        top_p: top_p.map(widen),
        user,
        verbosity: verbosity.map(|verbosity| match verbosity {
            upstream::Verbosity::Low => Verbosity::Low,
            upstream::Verbosity::Medium => Verbosity::Medium,
            upstream::Verbosity::High => Verbosity::High,
        }),
        // async-openai writes its unset location fields as `null`; they are left out, as OpenAI documents.
        web_search_options: web_search_options
            .and_then(|options| json_of(&options, "web_search_options", &mut losses))
            .map(without_nulls),
        provider_specific: None,
    };
    (converted, losses.warnings)
}

/// The `f64` that an `f32`'s JSON text denotes: serde_json writes `0.7f32` as `0.7`, and a plain
/// `as f64` would send 0.699999988079071 instead.
fn widen(value: f32) -> f64 {
    value.to_string().parse().unwrap_or(f64::from(value))
}

fn without_nulls(value: Value) -> Value {
    match value {
        Value::Object(object) => Value::Object(
            object
                .into_iter()
                .filter(|(_, value)| !value.is_null())
                .map(|(key, value)| (key, without_nulls(value)))
                .collect(),
        ),
        other => other,
    }
}

fn json_of<T: serde::Serialize>(value: &T, field: &str, losses: &mut Losses) -> Option<Value> {
    let json = wire_value(value);
    if json.is_none() {
        losses.dropped(field, "async-openai's value could not be written as JSON");
    }
    json
}

fn text_of<T: serde::Serialize>(value: &T, field: &str, losses: &mut Losses) -> Option<String> {
    let text = wire_string(value);
    if text.is_none() {
        losses.dropped(field, "async-openai's value is not a JSON string");
    }
    text
}

fn metadata_from(
    metadata: &::async_openai::types::Metadata,
    losses: &mut Losses,
) -> Option<BTreeMap<String, String>> {
    let parsed =
        wire_value(metadata).and_then(|json| serde_json::from_value::<BTreeMap<String, String>>(json).ok());
    if parsed.is_none() {
        losses.dropped("metadata", "ChatCompletionRequest's metadata holds string values only");
    }
    parsed
}

fn audio_from(audio: &upstream::ChatCompletionAudio, losses: &mut Losses) -> AudioOutput {
    AudioOutput {
        voice: text_of(&audio.voice, "audio.voice", losses).unwrap_or_default(),
        format: text_of(&audio.format, "audio.format", losses).unwrap_or_default(),
    }
}

fn reasoning_effort_from(effort: upstream::ReasoningEffort, losses: &mut Losses) -> ReasoningEffort {
    match effort {
        upstream::ReasoningEffort::None => ReasoningEffort::None,
        upstream::ReasoningEffort::Minimal => ReasoningEffort::Minimal,
        upstream::ReasoningEffort::Low => ReasoningEffort::Low,
        upstream::ReasoningEffort::Medium => ReasoningEffort::Medium,
        upstream::ReasoningEffort::High => ReasoningEffort::High,
        upstream::ReasoningEffort::Xhigh => ReasoningEffort::XHigh,
        upstream::ReasoningEffort::Max => {
            losses
                .adjusted("reasoning_effort", "`max` has no equivalent; sent as `xhigh`, the highest known");
            ReasoningEffort::XHigh
        }
    }
}

fn response_format_from(format: upstream::ResponseFormat) -> ResponseFormat {
    match format {
        upstream::ResponseFormat::Text => ResponseFormat::Text,
        upstream::ResponseFormat::JsonObject => ResponseFormat::JsonObject,
        upstream::ResponseFormat::JsonSchema { json_schema } => {
            let upstream::ResponseFormatJsonSchema { description, name, schema, strict } = json_schema;
            ResponseFormat::JsonSchema {
                json_schema: JsonSchemaFormat { name, description, schema: Some(schema), strict },
            }
        }
    }
}

fn prediction_from(prediction: upstream::PredictionContent, losses: &mut Losses) -> Prediction {
    let upstream::PredictionContent::Content(content) = prediction;
    let content = match content {
        upstream::PredictionContentContent::Text(text) => ChatCompletionContent::Text(text),
        upstream::PredictionContentContent::Array(parts) => ChatCompletionContent::Parts(
            parts
                .into_iter()
                .enumerate()
                .map(|(index, part)| text_part(part, &format!("prediction.content[{index}]"), losses))
                .collect(),
        ),
    };
    Prediction { kind: "content".to_owned(), content }
}

fn tool_from(
    tool: upstream::ChatCompletionTools,
    index: usize,
    losses: &mut Losses,
) -> Option<ChatCompletionTool> {
    match tool {
        upstream::ChatCompletionTools::Function(upstream::ChatCompletionTool { function }) => {
            let upstream::FunctionObject { name, description, parameters, strict } = function;
            Some(ChatCompletionTool::function(FunctionDefinition { name, description, parameters, strict }))
        }
        upstream::ChatCompletionTools::Custom(custom) => {
            losses.dropped(
                format!("tools[{index}]"),
                format!(
                    "custom tool `{}`: ChatCompletionRequest has function tools only",
                    custom.custom.name
                ),
            );
            None
        }
    }
}

fn tool_choice_from(
    choice: upstream::ChatCompletionToolChoiceOption,
    losses: &mut Losses,
) -> Option<ToolChoice> {
    match choice {
        upstream::ChatCompletionToolChoiceOption::Mode(mode) => Some(match mode {
            upstream::ToolChoiceOptions::None => ToolChoice::None,
            upstream::ToolChoiceOptions::Auto => ToolChoice::Auto,
            upstream::ToolChoiceOptions::Required => ToolChoice::Required,
        }),
        upstream::ChatCompletionToolChoiceOption::Function(named) => {
            Some(ToolChoice::Function { name: named.function.name })
        }
        upstream::ChatCompletionToolChoiceOption::Custom(custom) => {
            losses.dropped(
                "tool_choice",
                format!(
                    "custom tool `{}`: ChatCompletionRequest has function tools only",
                    custom.custom.name
                ),
            );
            None
        }
        upstream::ChatCompletionToolChoiceOption::AllowedTools(allowed) => {
            allowed_tools_from(allowed, losses)
        }
    }
}

/// async-openai holds `allowed_tools` as a list; OpenAI's API reference defines one object.
fn allowed_tools_from(
    allowed: upstream::ChatCompletionAllowedToolsChoice,
    losses: &mut Losses,
) -> Option<ToolChoice> {
    let mut entries = allowed.allowed_tools.into_iter();
    let Some(first) = entries.next() else {
        losses.dropped("tool_choice.allowed_tools", "the list is empty");
        return None;
    };
    if entries.next().is_some() {
        losses.adjusted(
            "tool_choice.allowed_tools",
            "OpenAI takes one allowed-tools object; the first is sent",
        );
    }
    let mode = match first.mode {
        upstream::ToolChoiceAllowedMode::Auto => AllowedToolsMode::Auto,
        upstream::ToolChoiceAllowedMode::Required => AllowedToolsMode::Required,
    };
    let mut function_names = Vec::with_capacity(first.tools.len());
    for (index, tool) in first.tools.iter().enumerate() {
        let is_function = tool.get("type").and_then(Value::as_str) == Some("function");
        let name = tool.pointer("/function/name").and_then(Value::as_str);
        let only_a_name = tool.as_object().is_some_and(|object| object.len() == 2)
            && tool.get("function").and_then(Value::as_object).is_some_and(|function| function.len() == 1);
        match name {
            Some(name) if is_function && only_a_name => function_names.push(name.to_owned()),
            Some(name) if is_function => {
                losses.adjusted(
                    format!("tool_choice.allowed_tools.tools[{index}]"),
                    "only the function's name is sent",
                );
                function_names.push(name.to_owned());
            }
            _ => losses.dropped(
                format!("tool_choice.allowed_tools.tools[{index}]"),
                "not a `{\"type\": \"function\", \"function\": {\"name\": ..}}` entry",
            ),
        }
    }
    Some(ToolChoice::AllowedTools(AllowedTools { mode, function_names }))
}

fn message_from(
    message: upstream::ChatCompletionRequestMessage,
    path: &str,
    losses: &mut Losses,
) -> ChatCompletionMessage {
    match message {
        upstream::ChatCompletionRequestMessage::Developer(
            upstream::ChatCompletionRequestDeveloperMessage { content, name },
        ) => {
            let content = match content {
                upstream::ChatCompletionRequestDeveloperMessageContent::Text(text) => {
                    ChatCompletionContent::Text(text)
                }
                upstream::ChatCompletionRequestDeveloperMessageContent::Array(parts) => {
                    ChatCompletionContent::Parts(
                        parts
                            .into_iter()
                            .enumerate()
                            .map(|(index, part)| match part {
                                upstream::ChatCompletionRequestDeveloperMessageContentPart::Text(text) => {
                                    text_part(text, &format!("{path}.content[{index}]"), losses)
                                }
                            })
                            .collect(),
                    )
                }
            };
            plain(Role::Developer, content, name)
        }
        upstream::ChatCompletionRequestMessage::System(upstream::ChatCompletionRequestSystemMessage {
            content,
            name,
        }) => {
            let content = match content {
                upstream::ChatCompletionRequestSystemMessageContent::Text(text) => {
                    ChatCompletionContent::Text(text)
                }
                upstream::ChatCompletionRequestSystemMessageContent::Array(parts) => {
                    ChatCompletionContent::Parts(
                        parts
                            .into_iter()
                            .enumerate()
                            .map(|(index, part)| match part {
                                upstream::ChatCompletionRequestSystemMessageContentPart::Text(text) => {
                                    text_part(text, &format!("{path}.content[{index}]"), losses)
                                }
                            })
                            .collect(),
                    )
                }
            };
            plain(Role::System, content, name)
        }
        upstream::ChatCompletionRequestMessage::User(upstream::ChatCompletionRequestUserMessage {
            content,
            name,
        }) => {
            let content = match content {
                upstream::ChatCompletionRequestUserMessageContent::Text(text) => {
                    ChatCompletionContent::Text(text)
                }
                upstream::ChatCompletionRequestUserMessageContent::Array(parts) => {
                    ChatCompletionContent::Parts(
                        parts
                            .into_iter()
                            .enumerate()
                            .map(|(index, part)| user_part(part, &format!("{path}.content[{index}]"), losses))
                            .collect(),
                    )
                }
            };
            plain(Role::User, content, name)
        }
        upstream::ChatCompletionRequestMessage::Assistant(assistant) => {
            assistant_from(assistant, path, losses)
        }
        upstream::ChatCompletionRequestMessage::Tool(upstream::ChatCompletionRequestToolMessage {
            content,
            tool_call_id,
        }) => {
            let content = match content {
                upstream::ChatCompletionRequestToolMessageContent::Text(text) => {
                    ChatCompletionContent::Text(text)
                }
                upstream::ChatCompletionRequestToolMessageContent::Array(parts) => {
                    ChatCompletionContent::Parts(
                        parts
                            .into_iter()
                            .enumerate()
                            .map(|(index, part)| match part {
                                upstream::ChatCompletionRequestToolMessageContentPart::Text(text) => {
                                    text_part(text, &format!("{path}.content[{index}]"), losses)
                                }
                            })
                            .collect(),
                    )
                }
            };
            ChatCompletionMessage {
                role: Role::Tool,
                content: Some(content),
                tool_call_id: Some(tool_call_id),
                ..Default::default()
            }
        }
        upstream::ChatCompletionRequestMessage::Function(
            upstream::ChatCompletionRequestFunctionMessage { content, name },
        ) => ChatCompletionMessage {
            role: Role::Function,
            content: content.map(ChatCompletionContent::Text),
            name: Some(name),
            ..Default::default()
        },
    }
}

fn plain(role: Role, content: ChatCompletionContent, name: Option<String>) -> ChatCompletionMessage {
    ChatCompletionMessage { role, content: Some(content), name, ..Default::default() }
}

#[allow(deprecated, reason = "the deprecated `function_call` of assistant messages is named in a warning")]
fn assistant_from(
    assistant: upstream::ChatCompletionRequestAssistantMessage,
    path: &str,
    losses: &mut Losses,
) -> ChatCompletionMessage {
    let upstream::ChatCompletionRequestAssistantMessage {
        content,
        refusal,
        name,
        audio,
        tool_calls,
        function_call,
    } = assistant;
    if function_call.is_some() {
        losses.dropped(
            format!("{path}.function_call"),
            "the deprecated function call of an assistant message has no field in ChatCompletionMessage; use tool_calls",
        );
    }
    let content = content.map(|content| match content {
        upstream::ChatCompletionRequestAssistantMessageContent::Text(text) => {
            ChatCompletionContent::Text(text)
        }
        upstream::ChatCompletionRequestAssistantMessageContent::Array(parts) => ChatCompletionContent::Parts(
            parts
                .into_iter()
                .enumerate()
                .map(|(index, part)| match part {
                    upstream::ChatCompletionRequestAssistantMessageContentPart::Text(text) => {
                        text_part(text, &format!("{path}.content[{index}]"), losses)
                    }
                    upstream::ChatCompletionRequestAssistantMessageContentPart::Refusal(refusal) => {
                        ContentPart::Refusal { refusal: refusal.refusal }
                    }
                })
                .collect(),
        ),
    });
    let tool_calls = tool_calls.map(|calls| -> Vec<ToolCall> {
        calls
            .into_iter()
            .enumerate()
            .filter_map(|(index, call)| match call {
                upstream::ChatCompletionMessageToolCalls::Function(call) => {
                    Some(ToolCall::function(call.id, call.function.name, call.function.arguments))
                }
                upstream::ChatCompletionMessageToolCalls::Custom(custom) => {
                    losses.dropped(
                        format!("{path}.tool_calls[{index}]"),
                        format!(
                            "custom tool call `{}`: ChatCompletionMessage has function calls only",
                            custom.custom_tool.name
                        ),
                    );
                    None
                }
            })
            .collect()
    });
    // OpenAI refuses an empty list; an assistant message whose calls were all custom has none left.
    let tool_calls = tool_calls.filter(|calls| !calls.is_empty());
    ChatCompletionMessage {
        role: Role::Assistant,
        content,
        name,
        tool_calls,
        refusal,
        audio: audio.map(|audio| AssistantAudio { id: audio.id, ..Default::default() }),
        ..Default::default()
    }
}

fn text_part(
    part: upstream::ChatCompletionRequestMessageContentPartText,
    path: &str,
    losses: &mut Losses,
) -> ContentPart {
    let upstream::ChatCompletionRequestMessageContentPartText { text, prompt_cache_breakpoint } = part;
    breakpoint_dropped(prompt_cache_breakpoint.is_some(), path, losses);
    ContentPart::text(text)
}

fn breakpoint_dropped(present: bool, path: &str, losses: &mut Losses) {
    if present {
        losses.dropped(format!("{path}.prompt_cache_breakpoint"), "ContentPart has no field for it");
    }
}

fn user_part(
    part: upstream::ChatCompletionRequestUserMessageContentPart,
    path: &str,
    losses: &mut Losses,
) -> ContentPart {
    match part {
        upstream::ChatCompletionRequestUserMessageContentPart::Text(text) => text_part(text, path, losses),
        upstream::ChatCompletionRequestUserMessageContentPart::ImageUrl(image) => {
            let upstream::ChatCompletionRequestMessageContentPartImage { image_url, prompt_cache_breakpoint } =
                image;
            breakpoint_dropped(prompt_cache_breakpoint.is_some(), path, losses);
            let detail = image_url.detail.and_then(|detail| match detail {
                upstream::ImageDetail::Auto => Some(ImageDetail::Auto),
                upstream::ImageDetail::Low => Some(ImageDetail::Low),
                upstream::ImageDetail::High => Some(ImageDetail::High),
                upstream::ImageDetail::Original => {
                    losses.dropped(
                        format!("{path}.image_url.detail"),
                        "`original` has no equivalent; the model's default detail applies",
                    );
                    None
                }
            });
            ContentPart::ImageUrl { image_url: ImageUrl { url: image_url.url, detail }, cache_control: None }
        }
        upstream::ChatCompletionRequestUserMessageContentPart::InputAudio(audio) => {
            let upstream::ChatCompletionRequestMessageContentPartAudio {
                input_audio,
                prompt_cache_breakpoint,
            } = audio;
            breakpoint_dropped(prompt_cache_breakpoint.is_some(), path, losses);
            let format = text_of(&input_audio.format, &format!("{path}.input_audio.format"), losses);
            ContentPart::InputAudio {
                input_audio: InputAudio { data: input_audio.data, format: format.unwrap_or_default() },
                cache_control: None,
            }
        }
        upstream::ChatCompletionRequestUserMessageContentPart::File(file) => {
            let upstream::ChatCompletionRequestMessageContentPartFile { file, prompt_cache_breakpoint } =
                file;
            breakpoint_dropped(prompt_cache_breakpoint.is_some(), path, losses);
            let upstream::FileObject { file_data, file_id, filename } = file;
            ContentPart::File { file: FileInput { file_data, file_id, filename }, cache_control: None }
        }
    }
}
