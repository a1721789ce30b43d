//! Tools and `tool_choice` -> Converse `toolConfig`, and the tools a replayed history needs declared.

use std::borrow::Cow;

use serde_json::Value;
use vllora_llm_core::types::gateway::{AllowedToolsMode, ChatCompletionTool, ToolChoice as GatewayToolChoice};
use vllora_llm_core::{LLMError, LLMResult, Warning, Warnings};

use super::messages::cache_point;
use crate::wire::{
    ContentBlock, Empty, Message, SpecificTool, Tool, ToolChoice, ToolConfig, ToolInputSchema, ToolSpec,
};

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
pub(super) fn declared_history_tools<'a>(
    messages: &[Message<'a>],
    warnings: &mut Warnings,
) -> Option<ToolConfig<'a>> {
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

/// `tools` and `tool_choice` as `toolConfig`; `None` without tools.
pub(super) fn tool_config<'a>(
    tools: Option<&'a [ChatCompletionTool]>,
    tool_choice: Option<&'a GatewayToolChoice>,
    warnings: &mut Warnings,
) -> LLMResult<Option<ToolConfig<'a>>> {
    let tools = tools.unwrap_or_default();
    if tools.is_empty() {
        if tool_choice.is_some() {
            warnings.push(Warning::unsupported_because("tool_choice", "there are no tools to choose from"));
        }
        return Ok(None);
    }
    let mut allowed: Option<&[String]> = None;
    let tool_choice = match tool_choice {
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
