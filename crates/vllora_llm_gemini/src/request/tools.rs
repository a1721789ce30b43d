//! `tools`, the legacy `functions`, `web_search_options`, `tool_choice` and the legacy `function_call`
//! -> Gemini's `tools` and `toolConfig.functionCallingConfig`.

use serde_json::{Map, Value};
use vllora_llm_core::Warning;
use vllora_llm_core::Warnings;
use vllora_llm_core::types::gateway::{AllowedToolsMode, ChatCompletionTool, FunctionDefinition, ToolChoice};

use super::report_removed;
use crate::schema;
use crate::wire::{FunctionCallingConfig, FunctionDeclaration, Tool, ToolConfig};

/// The request fields that say which tools the model may call: what a chat request and a cache share.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ToolFields<'a> {
    /// `tools`.
    pub tools: Option<&'a [ChatCompletionTool]>,
    /// The legacy `functions`.
    pub functions: Option<&'a [FunctionDefinition]>,
    /// `tool_choice`.
    pub tool_choice: Option<&'a ToolChoice>,
    /// The legacy `function_call`.
    pub function_call: Option<&'a Value>,
    /// `web_search_options`.
    pub web_search_options: Option<&'a Value>,
}

impl<'a> ToolFields<'a> {
    /// Every function declared, `tools` first, then the legacy `functions`.
    fn functions(&self) -> impl Iterator<Item = &'a FunctionDefinition> + use<'a> {
        let tools = self.tools.unwrap_or_default().iter().map(|tool| &tool.function);
        tools.chain(self.functions.unwrap_or_default())
    }
}

/// `tools` and the legacy `functions` -> one tool of function declarations; `web_search_options` ->
/// Gemini's Google Search tool.
pub(super) fn convert_tools(
    fields: &ToolFields<'_>,
    native_json_schema: bool,
    warnings: &mut Warnings,
) -> Vec<Tool> {
    let declarations: Vec<FunctionDeclaration> =
        fields.functions().map(|function| declaration(function, native_json_schema, warnings)).collect();
    let mut tools = Vec::new();
    if !declarations.is_empty() {
        tools.push(Tool { function_declarations: declarations, ..Default::default() });
    }
    if let Some(options) = fields.web_search_options {
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

/// `tool_choice` (or the legacy `function_call`) -> `functionCallingConfig`. A strict function makes
/// `auto` Gemini's `VALIDATED` mode; `allowed_tools` in auto mode narrows the declarations themselves,
/// because Gemini takes allowed names only in `ANY` mode.
pub(super) fn convert_tool_choice(
    fields: &ToolFields<'_>,
    tools: &mut [Tool],
    warnings: &mut Warnings,
) -> Option<ToolConfig> {
    let choice = match (fields.tool_choice, fields.function_call) {
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
    let strict = fields.functions().any(|function| function.strict == Some(true));
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
            AllowedToolsMode::Required => Some(config("ANY", allowed.function_names)),
            AllowedToolsMode::Auto => {
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
