//! Tools that run: the [`Tool`] trait, [`ToolSet`]s of tools (Rust functions, tools handed back to the
//! caller and, with the `mcp` feature, MCP servers), and the bounded tool loop ([`ToolLoop`]).
//!
//! ```no_run
//! use vllora_llm::client::VlloraLLMClient;
//! use vllora_llm::tools::{FunctionTool, ToolOutput, ToolSet};
//! use vllora_llm::types::gateway::{ChatCompletionMessage, ChatCompletionRequest};
//! use serde_json::json;
//!
//! # async fn run() -> vllora_llm::error::LLMResult<()> {
//! let weather = FunctionTool::new(
//!     "weather",
//!     "The weather in a city",
//!     json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
//!     |arguments| async move {
//!         let city = arguments["city"].as_str().unwrap_or("nowhere").to_owned();
//!         Ok(ToolOutput::text(format!("21 °C and sunny in {city}")))
//!     },
//! );
//! let client = VlloraLLMClient::new().with_tools(ToolSet::new().with_tool(weather));
//! let request = ChatCompletionRequest {
//!     model: "gpt-4.1-mini".to_string(),
//!     messages: vec![ChatCompletionMessage::new_text("user".to_string(), "Weather in Paris?".to_string())],
//!     ..Default::default()
//! };
//! let output = client.completions().tool_loop().with_max_steps(5).run(request).await?;
//! println!("{:?}: {:?}", output.outcome, output.response.message().content);
//! # Ok(())
//! # }
//! ```

mod content;
mod execute;
mod run;
mod set;
mod stream;

#[cfg(feature = "mcp")]
#[cfg_attr(docsrs, doc(cfg(feature = "mcp")))]
pub mod mcp;

use std::fmt;
use std::future::Future;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use vllora_llm_core::BoxFuture;

pub use content::{ToolContent, ToolOutput};
pub use run::{ToolCallRecord, ToolLoop, ToolLoopOptions, ToolLoopOutcome, ToolLoopOutput, ToolLoopStep};
pub use set::{ResolvedTool, ToolKind, ToolSet};
pub use stream::{ToolLoopEvent, ToolLoopStream};

/// What the model is told about a tool: name, description, JSON Schema of its arguments, and the hints an
/// MCP server gave about it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ToolDefinition {
    /// The name the model calls it by.
    pub name: String,
    /// What it does, for the model.
    pub description: Option<String>,
    /// JSON Schema of the arguments (an object schema).
    pub parameters: Value,
    /// A human-readable name (MCP `title`).
    pub title: Option<String>,
    /// JSON Schema of the structured result, when the tool declares one (MCP `outputSchema`).
    pub output_schema: Option<Value>,
    /// Behaviour hints (MCP tool annotations), kept as the server gave them.
    pub annotations: Option<ToolAnnotations>,
}

impl ToolDefinition {
    /// A definition with a name, a description and a parameters schema.
    pub fn new(name: impl Into<String>, description: impl Into<String>, parameters: Value) -> Self {
        ToolDefinition {
            name: name.into(),
            description: Some(description.into()),
            parameters,
            ..ToolDefinition::default()
        }
    }
}

/// Hints about a tool's behaviour (MCP `ToolAnnotations`); hints, not guarantees.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolAnnotations {
    /// A human-readable title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The tool does not change its environment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_only_hint: Option<bool>,
    /// The tool may destroy or overwrite things.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destructive_hint: Option<bool>,
    /// Calling it again with the same arguments has no further effect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotent_hint: Option<bool>,
    /// The tool reaches entities outside a closed domain (the web, say).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_world_hint: Option<bool>,
}

/// Why a tool call failed. The loop sends the message to the model as an error result; it never fails
/// the call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolError {
    message: String,
}

impl ToolError {
    /// An error with this message (shown to the model).
    pub fn new(message: impl Into<String>) -> Self {
        ToolError { message: message.into() }
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for ToolError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.message)
    }
}

impl std::error::Error for ToolError {}

impl From<String> for ToolError {
    fn from(message: String) -> Self {
        ToolError::new(message)
    }
}

impl From<&str> for ToolError {
    fn from(message: &str) -> Self {
        ToolError::new(message)
    }
}

impl From<vllora_llm_core::LLMError> for ToolError {
    fn from(error: vllora_llm_core::LLMError) -> Self {
        ToolError::new(error.to_string())
    }
}

impl From<serde_json::Error> for ToolError {
    fn from(error: serde_json::Error) -> Self {
        ToolError::new(format!("invalid arguments: {error}"))
    }
}

/// What a call knows about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolCallContext {
    /// The model's id for the call.
    pub call_id: String,
    /// The name the model called (the tool's name, with a prefix when one was added).
    pub name: String,
}

/// A tool the loop can run: a Rust function, a remote API, anything.
///
/// `call` gets the arguments the model wrote, parsed as JSON (an object; `{}` when the model sent none),
/// and returns what the model will read. An `Err` goes back to the model as an error result, and so does
/// a call that outlasts the loop's tool timeout (the call's future is then dropped).
pub trait Tool: Send + Sync {
    /// The name, description and parameters the model sees.
    fn definition(&self) -> ToolDefinition;

    /// Runs the tool.
    fn call(
        &self,
        arguments: Value,
        context: ToolCallContext,
    ) -> BoxFuture<'_, Result<ToolOutput, ToolError>>;
}

/// A [`Tool`] made of a definition and an async closure.
pub struct FunctionTool<F> {
    definition: ToolDefinition,
    function: F,
}

impl<F> fmt::Debug for FunctionTool<F> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.debug_struct("FunctionTool").field("definition", &self.definition).finish_non_exhaustive()
    }
}

impl<F, Fut> FunctionTool<F>
where
    F: Fn(Value) -> Fut + Send + Sync,
    Fut: Future<Output = Result<ToolOutput, ToolError>> + Send + 'static,
{
    /// A tool named `name` running `function` on the arguments.
    pub fn new(
        name: impl Into<String>,
        description: impl Into<String>,
        parameters: Value,
        function: F,
    ) -> Self {
        FunctionTool { definition: ToolDefinition::new(name, description, parameters), function }
    }

    /// A tool with a full definition (title, annotations...).
    pub fn with_definition(definition: ToolDefinition, function: F) -> Self {
        FunctionTool { definition, function }
    }
}

impl<F, Fut> Tool for FunctionTool<F>
where
    F: Fn(Value) -> Fut + Send + Sync,
    Fut: Future<Output = Result<ToolOutput, ToolError>> + Send + 'static,
{
    fn definition(&self) -> ToolDefinition {
        self.definition.clone()
    }

    fn call(
        &self,
        arguments: Value,
        _context: ToolCallContext,
    ) -> BoxFuture<'_, Result<ToolOutput, ToolError>> {
        Box::pin((self.function)(arguments))
    }
}
