//! [`ToolLoop`]: model → tool calls → tools run side by side → results → model, up to `max_steps`
//! model calls; the one-shot form and what a run returns.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use futures_util::stream::FuturesOrdered;
use tracing::{Instrument, Span};
use vllora_llm_core::types::gateway::{
    ChatCompletionMessage, ChatCompletionMessageWithFinishReason, ChatCompletionRequest, FinishReason, Role,
    ToolCall, Usage,
};
use vllora_llm_core::warning::Warning;
use vllora_llm_core::{LLMResult, ResultStream};

use super::execute::{Plan, Toolbox};
use super::stream::ToolLoopStream;
use super::{ToolKind, ToolOutput, ToolSet};
use crate::completions::CompletionsClient;

/// The loop's bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ToolLoopOptions {
    /// The most model calls in one run. When the model still calls tools on the last one, the run ends
    /// with [`ToolLoopOutcome::MaxStepsReached`] and those calls are not run.
    pub max_steps: usize,
    /// How long one tool call may take; past it the model gets an error result saying so.
    pub tool_timeout: Duration,
}

impl ToolLoopOptions {
    /// The default number of model calls per run: 10.
    pub const DEFAULT_MAX_STEPS: usize = 10;
    /// The default time a tool call may take: 60 s.
    pub const DEFAULT_TOOL_TIMEOUT: Duration = Duration::from_secs(60);
}

impl Default for ToolLoopOptions {
    /// 10 model calls, 60 s per tool call.
    fn default() -> Self {
        ToolLoopOptions { max_steps: Self::DEFAULT_MAX_STEPS, tool_timeout: Self::DEFAULT_TOOL_TIMEOUT }
    }
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ToolLoopOutcome {
    /// The model answered without calling a tool.
    Answered,
    /// The model called tools the caller runs. The calls the loop runs in the same turn have been run and
    /// their results are in [`ToolLoopOutput::messages`]; append a `tool` message for each of these and
    /// call again to go on.
    CallerToolCalls(Vec<ToolCall>),
    /// The model still called tools on the last allowed step; these calls were not run.
    MaxStepsReached {
        /// The calls of the last response.
        pending: Vec<ToolCall>,
    },
}

/// One tool call and what came of it.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolCallRecord {
    /// The call as the model made it.
    pub call: ToolCall,
    /// The result the model was given (an error result when the tool failed, timed out or was unknown).
    pub output: ToolOutput,
    /// How long it ran.
    pub duration: Duration,
    /// Where the tool came from; `None` when the model called a tool that does not exist.
    pub kind: Option<ToolKind>,
}

/// One model call of a run and the tools it called.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ToolLoopStep {
    /// The provider's id of the response.
    pub response_id: String,
    /// The step's token usage, when the provider reported it.
    pub usage: Option<Usage>,
    /// Why the model stopped.
    pub finish_reason: Option<FinishReason>,
    /// The tool calls the loop ran, in the order the model made them.
    pub tool_calls: Vec<ToolCallRecord>,
    /// Parameters the provider could not honour.
    pub warnings: Vec<Warning>,
}

/// What a run returns.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolLoopOutput {
    /// How it ended.
    pub outcome: ToolLoopOutcome,
    /// The last model response.
    pub response: ChatCompletionMessageWithFinishReason,
    /// The conversation: the request's messages, then every assistant and `tool` message of the run.
    pub messages: Vec<ChatCompletionMessage>,
    /// Each model call, in order.
    pub steps: Vec<ToolLoopStep>,
    /// The usage of every step added up.
    pub usage: Usage,
}

impl ToolLoopOutput {
    /// The text of the last response.
    pub fn text(&self) -> Option<String> {
        self.response.message().content.as_ref().and_then(|content| content.as_string())
    }
}

/// A bounded tool loop over a client's chat completions; see [`CompletionsClient::tool_loop`].
///
/// Each step is an ordinary `create_ref` (or `create_stream_ref`) call on the conversation so far (never
/// cloned), in its own `chat` span; a run is one
/// `invoke_agent` span holding those and an `execute_tool` span per tool call. The request's
/// `tool_choice` and `parallel_tool_calls` apply to every step.
#[derive(Clone)]
pub struct ToolLoop {
    pub(crate) completions: CompletionsClient,
    pub(crate) tools: ToolSet,
    pub(crate) options: ToolLoopOptions,
    pub(crate) record_content: bool,
}

impl fmt::Debug for ToolLoop {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("ToolLoop")
            .field("tools", &self.tools)
            .field("options", &self.options)
            .finish()
    }
}

impl CompletionsClient {
    /// A tool loop with the client's tools ([`VlloraLLMClient::with_tools`](crate::client::VlloraLLMClient::with_tools))
    /// and the default bounds ([`ToolLoopOptions::default`]).
    pub fn tool_loop(&self) -> ToolLoop {
        let settings = self.settings();
        ToolLoop {
            completions: self.clone(),
            tools: settings.tools.clone(),
            options: ToolLoopOptions::default(),
            record_content: settings.record_content,
        }
    }
}

impl ToolLoop {
    /// Adds tools for the runs of this loop, after the client's.
    pub fn with_tools(mut self, tools: ToolSet) -> Self {
        self.tools = self.tools.merged(&tools);
        self
    }

    /// At most this many model calls per run (at least 1).
    pub fn with_max_steps(mut self, max_steps: usize) -> Self {
        self.options.max_steps = max_steps.max(1);
        self
    }

    /// How long one tool call may take.
    pub fn with_tool_timeout(mut self, timeout: Duration) -> Self {
        self.options.tool_timeout = timeout;
        self
    }

    /// Both bounds at once.
    pub fn with_options(mut self, options: ToolLoopOptions) -> Self {
        self.options = ToolLoopOptions { max_steps: options.max_steps.max(1), ..options };
        self
    }

    /// The tools of this loop.
    pub fn tools(&self) -> &ToolSet {
        &self.tools
    }

    pub(crate) fn run_span(&self, request: &ChatCompletionRequest, streaming: bool) -> Span {
        tracing::info_span!(
            "invoke_agent",
            otel.name = "invoke_agent",
            otel.kind = "internal",
            gen_ai.operation.name = "invoke_agent",
            gen_ai.request.model = %request.model,
            gen_ai.request.stream = streaming,
            gen_ai.usage.input_tokens = tracing::field::Empty,
            gen_ai.usage.output_tokens = tracing::field::Empty,
            vllora.tool_loop.steps = tracing::field::Empty,
            vllora.tool_loop.outcome = tracing::field::Empty,
        )
    }

    pub(crate) async fn prepare(
        &self,
        request: &mut ChatCompletionRequest,
        span: &Span,
    ) -> LLMResult<Arc<Toolbox>> {
        let resolved = self.tools.resolve().instrument(span.clone()).await?;
        Toolbox::prepare(request, resolved, self.options.tool_timeout, self.record_content)
    }

    /// Runs the loop to its end: until the model answers without tools, calls a caller tool, or the step
    /// budget is spent. A model call that fails fails the run; a tool that fails does not (the model gets
    /// an error result).
    pub async fn run(&self, request: impl Into<ChatCompletionRequest>) -> LLMResult<ToolLoopOutput> {
        let mut request = request.into();
        let span = self.run_span(&request, false);
        let toolbox = self.prepare(&mut request, &span).await?;
        let mut steps = Vec::new();
        let mut usage = Usage::default();
        let mut step = 0;
        loop {
            step += 1;
            let response = self.completions.create_ref(&request).instrument(span.clone()).await?;
            let message = assistant_message(response.message());
            let calls = message.tool_calls.clone().unwrap_or_default();
            request.messages.push(message);
            if let Some(step_usage) = response.usage() {
                add_usage(&mut usage, step_usage);
            }
            let mut record = ToolLoopStep {
                response_id: response.id().to_owned(),
                usage: response.usage().copied(),
                finish_reason: response.finish_reason().cloned(),
                tool_calls: Vec::new(),
                warnings: response.warnings().to_vec(),
            };
            let Plan { run, caller } = toolbox.plan(&calls);
            let outcome = if calls.is_empty() {
                Some(ToolLoopOutcome::Answered)
            } else if caller.is_empty() && step >= self.options.max_steps {
                Some(ToolLoopOutcome::MaxStepsReached { pending: calls })
            } else {
                let mut running: FuturesOrdered<_> =
                    run.into_iter().map(|call| toolbox.execute(call, &span)).collect();
                while let Some(done) = running.next().await {
                    request.messages.push(done.output.to_message(&done.call.id));
                    record.tool_calls.push(done);
                }
                (!caller.is_empty()).then_some(ToolLoopOutcome::CallerToolCalls(caller))
            };
            steps.push(record);
            if let Some(outcome) = outcome {
                finish_span(&span, &usage, steps.len(), &outcome);
                return Ok(ToolLoopOutput { outcome, response, messages: request.messages, steps, usage });
            }
        }
    }

    /// Runs the loop, streaming each step's deltas and the tool events as they happen. Dropping the stream
    /// cancels the model call or the tools running at that moment.
    pub async fn stream(&self, request: impl Into<ChatCompletionRequest>) -> LLMResult<ToolLoopStream> {
        let mut request = request.into();
        let span = self.run_span(&request, true);
        let toolbox = self.prepare(&mut request, &span).await?;
        let first = self.completions.create_stream_ref(&request).instrument(span.clone()).await?;
        Ok(ToolLoopStream::new(self.clone(), request, toolbox, span, first))
    }

    pub(crate) async fn next_stream(
        &self,
        request: &ChatCompletionRequest,
        span: &Span,
    ) -> LLMResult<ResultStream> {
        self.completions.create_stream_ref(request).instrument(span.clone()).await
    }
}

/// The model's message as it goes back into the conversation.
pub(crate) fn assistant_message(message: &ChatCompletionMessage) -> ChatCompletionMessage {
    let mut message = message.clone();
    message.role = Role::Assistant;
    if message.tool_calls.as_ref().is_some_and(Vec::is_empty) {
        message.tool_calls = None;
    }
    message
}

pub(crate) fn finish_span(span: &Span, usage: &Usage, steps: usize, outcome: &ToolLoopOutcome) {
    span.record("gen_ai.usage.input_tokens", usage.prompt_tokens);
    span.record("gen_ai.usage.output_tokens", usage.completion_tokens);
    span.record("vllora.tool_loop.steps", steps);
    span.record(
        "vllora.tool_loop.outcome",
        match outcome {
            ToolLoopOutcome::Answered => "answered",
            ToolLoopOutcome::CallerToolCalls(_) => "caller_tool_calls",
            ToolLoopOutcome::MaxStepsReached { .. } => "max_steps_reached",
        },
    );
}

/// Adds a step's usage to the run's, details included.
pub(crate) fn add_usage(total: &mut Usage, step: &Usage) {
    total.prompt_tokens = total.prompt_tokens.saturating_add(step.prompt_tokens);
    total.completion_tokens = total.completion_tokens.saturating_add(step.completion_tokens);
    total.total_tokens = total.total_tokens.saturating_add(step.total_tokens);
    fn add(total: &mut Option<u32>, step: Option<u32>) {
        if let Some(step) = step {
            *total = Some(total.unwrap_or(0).saturating_add(step));
        }
    }
    if let Some(details) = step.prompt_tokens_details {
        let sum = total.prompt_tokens_details.get_or_insert_with(Default::default);
        add(&mut sum.cached_tokens, details.cached_tokens);
        add(&mut sum.audio_tokens, details.audio_tokens);
        add(&mut sum.cache_creation_tokens, details.cache_creation_tokens);
    }
    if let Some(details) = step.completion_tokens_details {
        let sum = total.completion_tokens_details.get_or_insert_with(Default::default);
        add(&mut sum.reasoning_tokens, details.reasoning_tokens);
        add(&mut sum.audio_tokens, details.audio_tokens);
        add(&mut sum.accepted_prediction_tokens, details.accepted_prediction_tokens);
        add(&mut sum.rejected_prediction_tokens, details.rejected_prediction_tokens);
    }
}
