//! Running one step's tool calls: lookup, argument parsing, the timeout, and the `execute_tool` span of
//! each call (OpenTelemetry GenAI: `gen_ai.tool.name`, `gen_ai.tool.call.id`, `gen_ai.tool.type`; the
//! arguments and the result only when content recording is on).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use tracing::{Instrument, Span};
use vllora_llm_core::types::gateway::{ChatCompletionRequest, ChatCompletionTool, ToolCall};
use vllora_llm_core::{BoxFuture, LLMError, LLMResult};

use super::run::ToolCallRecord;
use super::set::ResolvedTool;
use super::{ToolCallContext, ToolKind, ToolOutput};

/// The tools of one run, by the name the model calls them.
pub(crate) struct Toolbox {
    tools: HashMap<String, ResolvedTool>,
    /// Tools of the request's own `tools` field: the caller's, handed back when called.
    request_tools: HashSet<String>,
    pub(crate) timeout: Duration,
    pub(crate) record_content: bool,
}

/// What to do with one model turn's calls.
pub(crate) struct Plan {
    /// Calls the loop runs (unknown tools included: they answer with an error).
    pub(crate) run: Vec<ToolCall>,
    /// Calls of caller tools, handed back.
    pub(crate) caller: Vec<ToolCall>,
}

impl Toolbox {
    /// Offers the resolved tools to the model beside the request's own; a name in both is an error.
    pub(crate) fn prepare(
        request: &mut ChatCompletionRequest,
        resolved: Vec<ResolvedTool>,
        timeout: Duration,
        record_content: bool,
    ) -> LLMResult<Arc<Toolbox>> {
        if request.n.is_some_and(|n| n > 1) {
            return Err(LLMError::InvalidRequest(
                "the tool loop follows one answer: `n` must be 1 (or unset)".to_owned(),
            ));
        }
        let request_tools: HashSet<String> =
            request.tools.iter().flatten().map(|tool| tool.function.name.clone()).collect();
        let mut offered: Vec<ChatCompletionTool> = request.tools.take().unwrap_or_default();
        let mut tools = HashMap::with_capacity(resolved.len());
        for tool in resolved {
            if request_tools.contains(&tool.name) {
                return Err(LLMError::Config(format!(
                    "tool `{}` is both in the request's `tools` and in the tool set",
                    tool.name
                )));
            }
            offered.push(tool.to_chat_tool());
            tools.insert(tool.name.clone(), tool);
        }
        if !offered.is_empty() {
            request.tools = Some(offered);
        }
        Ok(Arc::new(Toolbox { tools, request_tools, timeout, record_content }))
    }

    /// Splits a turn's calls into those the loop runs and those the caller runs.
    pub(crate) fn plan(&self, calls: &[ToolCall]) -> Plan {
        let mut plan = Plan { run: Vec::new(), caller: Vec::new() };
        for call in calls {
            let name = call.function.name.as_str();
            let for_caller = self.request_tools.contains(name)
                || self.tools.get(name).is_some_and(|tool| !tool.runs_here());
            if for_caller { plan.caller.push(call.clone()) } else { plan.run.push(call.clone()) }
        }
        plan
    }

    /// Runs one call under its `execute_tool` span (a child of `parent`), within the timeout. Never
    /// fails: every failure becomes an error result for the model.
    pub(crate) fn execute(
        self: &Arc<Self>,
        call: ToolCall,
        parent: &Span,
    ) -> BoxFuture<'static, ToolCallRecord> {
        let name = call.function.name.clone();
        let tool = self.tools.get(&name).cloned();
        let kind = tool.as_ref().map(|tool| tool.kind.clone());
        let span = tracing::info_span!(
            parent: parent,
            "execute_tool",
            otel.name = %format_args!("execute_tool {name}"),
            otel.kind = "internal",
            otel.status_code = tracing::field::Empty,
            gen_ai.operation.name = "execute_tool",
            gen_ai.tool.name = %name,
            gen_ai.tool.call.id = %call.id,
            gen_ai.tool.type = kind.as_ref().map_or("function", ToolKind::otel_type),
            gen_ai.tool.description = tool.as_ref().and_then(|tool| tool.definition.description.as_deref()),
            gen_ai.tool.call.arguments = tracing::field::Empty,
            gen_ai.tool.call.result = tracing::field::Empty,
            error.type = tracing::field::Empty,
        );
        let toolbox = Arc::clone(self);
        Box::pin(async move {
            let started = Instant::now();
            if toolbox.record_content {
                span.record("gen_ai.tool.call.arguments", call.function.arguments.as_str());
            }
            let (output, error_type) = match (tool, parse_arguments(&call.function.arguments)) {
                (None, _) => {
                    (ToolOutput::error(format!("there is no tool named `{name}`")), Some("tool_not_found"))
                }
                (Some(_), Err(why)) => (ToolOutput::error(why), Some("invalid_arguments")),
                (Some(tool), Ok(arguments)) => {
                    let context = ToolCallContext { call_id: call.id.clone(), name: name.clone() };
                    let running = tool.run(arguments, context).instrument(span.clone());
                    match tokio::time::timeout(toolbox.timeout, running).await {
                        Ok(Ok(output)) => {
                            let error_type = output.is_error.then_some("tool_error");
                            (output, error_type)
                        }
                        Ok(Err(error)) => (ToolOutput::error(error.message().to_owned()), Some("tool_error")),
                        Err(_) => (
                            ToolOutput::error(format!(
                                "the tool `{name}` did not finish within {} s",
                                toolbox.timeout.as_secs_f64()
                            )),
                            Some("timeout"),
                        ),
                    }
                }
            };
            if let Some(error_type) = error_type {
                span.record("error.type", error_type);
                span.record("otel.status_code", "ERROR");
            }
            if toolbox.record_content {
                span.record("gen_ai.tool.call.result", result_json(&output).as_str());
            }
            ToolCallRecord { call, output, duration: started.elapsed(), kind }
        })
    }
}

/// The model's argument text as JSON: an empty text is `{}`.
fn parse_arguments(arguments: &str) -> Result<Value, String> {
    if arguments.trim().is_empty() {
        return Ok(Value::Object(serde_json::Map::new()));
    }
    serde_json::from_str(arguments)
        .map_err(|error| format!("the arguments are not valid JSON ({error}): {arguments}"))
}

/// The result as the span records it: the text of the tool message the model reads.
fn result_json(output: &ToolOutput) -> String {
    match output.to_message("").content {
        Some(content) => match content.as_str() {
            Some(text) => text.to_owned(),
            None => serde_json::to_string(&content).unwrap_or_default(),
        },
        None => String::new(),
    }
}
