//! Tools and `tool_choice` -> Anthropic's `tools` and `tool_choice`: function tools only, `strict` where
//! the model has strict tool use, `allowed_tools` as a filtered list, and no forced tool use while thinking.

use serde_json::Value;
use vllora_llm_core::types::gateway::{AllowedToolsMode, ChatCompletionTool, ToolChoice};
use vllora_llm_core::{Warning, Warnings};

use super::{STRUCTURED_OUTPUTS_BETA, add_beta};
use crate::family::{ModelFamily, StructuredOutput};
use crate::wire::{MessagesRequest, ToolChoiceParam, ToolParam};

/// The tool fields of the gateway request.
#[derive(Debug, Clone, Copy)]
pub(super) struct RequestedTools<'a> {
    pub(super) tools: Option<&'a [ChatCompletionTool]>,
    pub(super) tool_choice: Option<&'a ToolChoice>,
    pub(super) parallel_tool_calls: Option<bool>,
    /// Legacy `functions` were given.
    pub(super) functions: bool,
    /// Legacy `function_call` was given.
    pub(super) function_call: bool,
}

/// Sets `tools` and `tool_choice`.
pub(super) fn apply(
    request: RequestedTools<'_>,
    family: &ModelFamily,
    thinking_on: bool,
    body: &mut MessagesRequest,
    betas: &mut Vec<&'static str>,
    warnings: &mut Warnings,
) {
    warnings.unsupported_if(request.functions, "functions");
    warnings.unsupported_if(request.function_call, "function_call");
    let strict_supported = family.structured_output() != StructuredOutput::Unsupported;
    let allowed: Option<&[String]> = match request.tool_choice {
        Some(ToolChoice::AllowedTools(allowed)) => Some(&allowed.function_names),
        _ => None,
    };
    let mut tools = Vec::new();
    for tool in request.tools.unwrap_or_default() {
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
    body.tool_choice = match request.tool_choice {
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
