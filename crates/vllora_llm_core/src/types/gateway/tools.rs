//! Tools the model may call, the calls it makes, and how the caller steers the choice.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use super::message::CacheControl;

/// A function the model may call.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct FunctionDefinition {
    /// The function's name.
    pub name: String,
    /// What it does, for the model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// JSON Schema of the arguments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Value>,
    /// Ask the provider to follow the schema exactly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
}

/// A tool offered to the model. Only `function` tools exist in Chat Completions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatCompletionTool {
    /// Always `function`.
    #[serde(rename = "type", default = "function_type")]
    pub kind: String,
    /// The function.
    pub function: FunctionDefinition,
    /// Cache breakpoint after this tool (extension, for Anthropic and Bedrock).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<CacheControl>,
}

impl ChatCompletionTool {
    /// A function tool.
    pub fn function(function: FunctionDefinition) -> Self {
        ChatCompletionTool { kind: function_type(), function, cache_control: None }
    }
}

fn function_type() -> String {
    "function".to_owned()
}

/// The name and JSON arguments of a call.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct FunctionCall {
    /// The function's name.
    pub name: String,
    /// The arguments as JSON text.
    #[serde(default)]
    pub arguments: String,
}

/// A tool call made by the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolCall {
    /// The call's id, echoed by the `tool` message answering it.
    pub id: String,
    /// Always `function`.
    #[serde(rename = "type", default = "function_type")]
    pub kind: String,
    /// What is called.
    pub function: FunctionCall,
    /// Provider data that must come back with the call in a later turn, such as Gemini's thought
    /// signature (`{"google": {"thought_signature": "..."}}`, the shape of Google's OpenAI endpoint).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra_content: Option<Value>,
}

impl ToolCall {
    /// A function call.
    pub fn function(id: impl Into<String>, name: impl Into<String>, arguments: impl Into<String>) -> Self {
        ToolCall {
            id: id.into(),
            kind: function_type(),
            function: FunctionCall { name: name.into(), arguments: arguments.into() },
            extra_content: None,
        }
    }
}

/// Whether the model must call one of the allowed tools.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AllowedToolsMode {
    /// The model may answer or call an allowed tool.
    Auto,
    /// The model must call an allowed tool.
    Required,
}

/// A subset of the tools the model may use.
#[derive(Debug, Clone, PartialEq)]
pub struct AllowedTools {
    /// Whether a call is required.
    pub mode: AllowedToolsMode,
    /// The names of the allowed functions.
    pub function_names: Vec<String>,
}

/// How the model chooses tools.
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub enum ToolChoice {
    /// Never call a tool (`"none"`).
    None,
    /// The model decides (`"auto"`).
    #[default]
    Auto,
    /// The model must call at least one tool (`"required"`).
    Required,
    /// The model must call this function (`{"type": "function", "function": {"name": ...}}`).
    Function {
        /// The function's name.
        name: String,
    },
    /// Restrict the tools the model may use (`{"type": "allowed_tools", ...}`).
    AllowedTools(AllowedTools),
}

#[derive(Serialize, Deserialize)]
struct NamedFunction {
    name: String,
}

#[derive(Serialize, Deserialize)]
struct NamedTool {
    #[serde(rename = "type")]
    kind: String,
    function: NamedFunction,
}

#[derive(Serialize, Deserialize)]
struct AllowedToolsWire {
    mode: AllowedToolsMode,
    tools: Vec<NamedTool>,
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ToolChoiceObject {
    Function { function: NamedFunction },
    AllowedTools { allowed_tools: AllowedToolsWire },
}

#[derive(Deserialize)]
#[serde(untagged)]
enum ToolChoiceWire {
    Mode(String),
    Object(ToolChoiceObject),
}

impl Serialize for ToolChoice {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            ToolChoice::None => serializer.serialize_str("none"),
            ToolChoice::Auto => serializer.serialize_str("auto"),
            ToolChoice::Required => serializer.serialize_str("required"),
            ToolChoice::Function { name } => {
                ToolChoiceObject::Function { function: NamedFunction { name: name.clone() } }
                    .serialize(serializer)
            }
            ToolChoice::AllowedTools(allowed) => ToolChoiceObject::AllowedTools {
                allowed_tools: AllowedToolsWire {
                    mode: allowed.mode,
                    tools: allowed
                        .function_names
                        .iter()
                        .map(|name| NamedTool {
                            kind: function_type(),
                            function: NamedFunction { name: name.clone() },
                        })
                        .collect(),
                },
            }
            .serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for ToolChoice {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match ToolChoiceWire::deserialize(deserializer)? {
            ToolChoiceWire::Mode(mode) => match mode.as_str() {
                "none" => Ok(ToolChoice::None),
                "auto" => Ok(ToolChoice::Auto),
                "required" => Ok(ToolChoice::Required),
                other => Err(D::Error::custom(format_args!(
                    "unknown tool_choice `{other}`, expected none, auto or required"
                ))),
            },
            ToolChoiceWire::Object(ToolChoiceObject::Function { function }) => {
                Ok(ToolChoice::Function { name: function.name })
            }
            ToolChoiceWire::Object(ToolChoiceObject::AllowedTools { allowed_tools }) => {
                Ok(ToolChoice::AllowedTools(AllowedTools {
                    mode: allowed_tools.mode,
                    function_names: allowed_tools.tools.into_iter().map(|tool| tool.function.name).collect(),
                }))
            }
        }
    }
}
