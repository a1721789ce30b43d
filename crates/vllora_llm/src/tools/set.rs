//! [`ToolSet`]: the tools a client or a call offers the model, and how their names are settled.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use serde_json::Value;
use vllora_llm_core::types::gateway::{ChatCompletionTool, FunctionDefinition};
use vllora_llm_core::{BoxFuture, LLMError, LLMResult};

use super::{Tool, ToolCallContext, ToolDefinition, ToolError, ToolOutput};

#[cfg(feature = "mcp")]
use super::mcp::McpServer;

/// Tools offered to the model: Rust [`Tool`]s, tools whose calls are handed back to the caller and, with
/// the `mcp` feature, every tool of an MCP server.
///
/// Cheap to clone (tools are shared). Attach one to a client with
/// [`VlloraLLMClient::with_tools`](crate::client::VlloraLLMClient::with_tools) and add more for one
/// call with [`ToolLoop::with_tools`](super::ToolLoop::with_tools).
///
/// Names: a Rust tool or caller tool keeps its name, and two of them with one name are an error. An MCP
/// tool keeps its name unless its server has a prefix (`McpServer::with_prefix`)
/// or the name is taken by another tool, in which case it is called `{server}__{tool}`. Characters
/// providers refuse in function names (anything but ASCII letters, digits, `_` and `-`) become `_` in MCP
/// tools' names; the server is always called with the original name.
#[derive(Clone, Default)]
pub struct ToolSet {
    entries: Vec<Entry>,
}

#[derive(Clone)]
enum Entry {
    Local(Arc<dyn Tool>),
    Caller(ToolDefinition),
    #[cfg(feature = "mcp")]
    Mcp(McpServer),
}

impl fmt::Debug for ToolSet {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut list = formatter.debug_list();
        for entry in &self.entries {
            match entry {
                Entry::Local(tool) => list.entry(&format_args!("tool {}", tool.definition().name)),
                Entry::Caller(definition) => list.entry(&format_args!("caller tool {}", definition.name)),
                #[cfg(feature = "mcp")]
                Entry::Mcp(server) => list.entry(&format_args!("MCP server {}", server.name())),
            };
        }
        list.finish()
    }
}

impl ToolSet {
    /// An empty set.
    pub fn new() -> Self {
        ToolSet::default()
    }

    /// Whether the set has nothing in it.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Adds a tool the loop runs.
    pub fn with_tool(self, tool: impl Tool + 'static) -> Self {
        self.with_shared_tool(Arc::new(tool))
    }

    /// Adds a tool shared with other sets.
    pub fn with_shared_tool(mut self, tool: Arc<dyn Tool>) -> Self {
        self.entries.push(Entry::Local(tool));
        self
    }

    /// Adds a tool the loop does not run: when the model calls it, the loop stops and hands the calls
    /// back ([`ToolLoopOutcome::CallerToolCalls`](super::ToolLoopOutcome::CallerToolCalls)), as a
    /// gateway does with its clients' own tools. (Tools of the request's `tools` field that are not in
    /// the set are treated the same way.)
    pub fn with_caller_tool(mut self, definition: ToolDefinition) -> Self {
        self.entries.push(Entry::Caller(definition));
        self
    }

    /// Adds every tool of an MCP server (those its filter lets through).
    #[cfg(feature = "mcp")]
    #[cfg_attr(docsrs, doc(cfg(feature = "mcp")))]
    pub fn with_mcp(mut self, server: McpServer) -> Self {
        self.entries.push(Entry::Mcp(server));
        self
    }

    /// This set and then everything in `other`.
    pub fn merged(mut self, other: &ToolSet) -> Self {
        self.entries.extend(other.entries.iter().cloned());
        self
    }

    /// The tools as the model will see them, with their final names. Lists the MCP servers' tools
    /// (connecting on first use; a server's list is kept until it says it changed).
    pub async fn resolve(&self) -> LLMResult<Vec<ResolvedTool>> {
        let mut tools: Vec<ResolvedTool> = Vec::new();
        for entry in &self.entries {
            match entry {
                Entry::Local(tool) => {
                    let definition = tool.definition();
                    tools.push(ResolvedTool {
                        name: definition.name.clone(),
                        definition,
                        kind: ToolKind::Function,
                        runner: Runner::Local(Arc::clone(tool)),
                    });
                }
                Entry::Caller(definition) => tools.push(ResolvedTool {
                    name: definition.name.clone(),
                    definition: definition.clone(),
                    kind: ToolKind::ReturnToCaller,
                    runner: Runner::Caller,
                }),
                #[cfg(feature = "mcp")]
                Entry::Mcp(server) => {
                    for definition in server.tools().await?.iter() {
                        let name = match server.prefix() {
                            Some(prefix) => sanitize(&format!("{prefix}{}", definition.name)),
                            None => sanitize(&definition.name),
                        };
                        tools.push(ResolvedTool {
                            name,
                            definition: definition.clone(),
                            kind: ToolKind::Mcp { server: server.name().to_owned() },
                            runner: Runner::Mcp(server.clone()),
                        });
                    }
                }
            }
        }
        settle_names(&mut tools)?;
        Ok(tools)
    }
}

/// Renames MCP tools whose names collide to `{server}__{tool}`; any collision left is an error.
fn settle_names(tools: &mut [ResolvedTool]) -> LLMResult<()> {
    let mut counts: HashMap<String, usize> = HashMap::new();
    for tool in tools.iter() {
        *counts.entry(tool.name.clone()).or_default() += 1;
    }
    for tool in tools.iter_mut() {
        if let ToolKind::Mcp { server } = &tool.kind
            && counts.get(&tool.name).copied().unwrap_or(0) > 1
        {
            tool.name = sanitize(&format!("{server}__{}", tool.definition.name));
        }
    }
    let mut seen: HashMap<&str, &ToolKind> = HashMap::new();
    for tool in tools.iter() {
        if let Some(earlier) = seen.insert(tool.name.as_str(), &tool.kind) {
            return Err(LLMError::Config(format!(
                "two tools are named `{}` ({} and {}): rename one, or give an MCP server a prefix",
                tool.name,
                earlier.describe(),
                tool.kind.describe()
            )));
        }
    }
    Ok(())
}

/// Letters, digits, `_` and `-`: what every provider accepts in a function name.
fn sanitize(name: &str) -> String {
    name.chars()
        .map(|character| if character.is_ascii_alphanumeric() || character == '-' { character } else { '_' })
        .collect()
}

/// Where a tool comes from, and so who runs it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ToolKind {
    /// A Rust [`Tool`], run by the loop.
    Function,
    /// A tool the caller runs: its calls stop the loop.
    ReturnToCaller,
    /// A tool of an MCP server, run by the loop through the server.
    Mcp {
        /// The server's name.
        server: String,
    },
}

impl ToolKind {
    fn describe(&self) -> String {
        match self {
            ToolKind::Function => "a Rust tool".to_owned(),
            ToolKind::ReturnToCaller => "a caller tool".to_owned(),
            ToolKind::Mcp { server } => format!("a tool of MCP server `{server}`"),
        }
    }

    /// `gen_ai.tool.type`: `function` for tools run in this process or by the caller, `extension` for
    /// tools an MCP server runs.
    pub(crate) fn otel_type(&self) -> &'static str {
        match self {
            ToolKind::Mcp { .. } => "extension",
            _ => "function",
        }
    }
}

#[derive(Clone)]
enum Runner {
    Local(Arc<dyn Tool>),
    Caller,
    #[cfg(feature = "mcp")]
    Mcp(McpServer),
}

/// A tool with the name the model sees.
#[derive(Clone)]
pub struct ResolvedTool {
    /// The name the model calls it by (its own, prefixed when needed).
    pub name: String,
    /// Its definition, with its original name.
    pub definition: ToolDefinition,
    /// Where it comes from.
    pub kind: ToolKind,
    runner: Runner,
}

impl fmt::Debug for ResolvedTool {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("ResolvedTool")
            .field("name", &self.name)
            .field("definition", &self.definition)
            .field("kind", &self.kind)
            .finish()
    }
}

impl ResolvedTool {
    /// The Chat Completions tool offered to the model.
    pub fn to_chat_tool(&self) -> ChatCompletionTool {
        let parameters = match &self.definition.parameters {
            Value::Null => serde_json::json!({"type": "object", "properties": {}}),
            parameters => parameters.clone(),
        };
        ChatCompletionTool::function(FunctionDefinition {
            name: self.name.clone(),
            description: self.definition.description.clone(),
            parameters: Some(parameters),
            strict: None,
        })
    }

    /// Whether the loop runs it (false for caller tools).
    pub fn runs_here(&self) -> bool {
        !matches!(self.runner, Runner::Caller)
    }

    /// Runs the tool; the future owns what it needs, so calls run side by side.
    pub(crate) fn run(
        &self,
        arguments: Value,
        context: ToolCallContext,
    ) -> BoxFuture<'static, Result<ToolOutput, ToolError>> {
        match &self.runner {
            Runner::Local(tool) => {
                let tool = Arc::clone(tool);
                Box::pin(async move { tool.call(arguments, context).await })
            }
            Runner::Caller => Box::pin(async move {
                Err(ToolError::new(format!("`{}` is run by the caller, not by the loop", context.name)))
            }),
            #[cfg(feature = "mcp")]
            Runner::Mcp(server) => {
                let server = server.clone();
                let name = self.definition.name.clone();
                Box::pin(async move { server.call_tool(&name, arguments).await.map_err(ToolError::from) })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_keep_what_providers_accept() {
        assert_eq!(super::sanitize("files.read/v2"), "files_read_v2");
        assert_eq!(super::sanitize("get-sum_2"), "get-sum_2");
    }
}
