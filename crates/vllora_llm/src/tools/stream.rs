//! [`ToolLoopStream`]: the tool loop as a stream of the model's deltas and the tool events, pulled by the
//! consumer. Nothing runs in the background: tools run while the stream is polled, and dropping it drops
//! (cancels) the model call or the tool calls in flight.

use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_core::Stream;
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use tracing::Span;
use vllora_llm_core::types::gateway::{
    ChatCompletionChunk, ChatCompletionContent, ChatCompletionMessage, ChatCompletionMessageWithFinishReason,
    ChatCompletionRequest, ChatCompletionResponse, Choice, FinishReason, Role, ToolCall, Usage,
};
use vllora_llm_core::{BoxFuture, LLMResult, ResultStream};

use super::execute::{Plan, Toolbox};
use super::run::{
    ToolCallRecord, ToolLoop, ToolLoopOutcome, ToolLoopOutput, ToolLoopStep, add_usage, assistant_message,
    finish_span,
};

/// What a streamed run yields, in order: each step's chunks, then [`ToolLoopEvent::StepFinished`], then a
/// [`ToolLoopEvent::ToolStarted`] for each call the loop runs and a [`ToolLoopEvent::ToolFinished`] as
/// each ends (in the order they end), then the next step; [`ToolLoopEvent::Finished`] last.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ToolLoopEvent {
    /// A chunk of the model's answer in step `step` (1 for the first model call).
    Chunk {
        /// The step.
        step: usize,
        /// The chunk, as the provider's stream gave it.
        chunk: ChatCompletionChunk,
    },
    /// A step's model call ended.
    StepFinished {
        /// The step.
        step: usize,
        /// Why the model stopped.
        finish_reason: Option<FinishReason>,
        /// The step's usage.
        usage: Option<Usage>,
        /// The tool calls the model made.
        tool_calls: Vec<ToolCall>,
    },
    /// A tool call started.
    ToolStarted {
        /// The step whose response made the call.
        step: usize,
        /// The call (its `id` names it in the `ToolFinished` event).
        call: ToolCall,
    },
    /// A tool call ended (an error result when it failed).
    ToolFinished {
        /// The step whose response made the call.
        step: usize,
        /// The call and its result.
        record: ToolCallRecord,
    },
    /// The run ended; nothing follows.
    Finished(Box<ToolLoopOutput>),
}

type EventStream = Pin<Box<dyn Stream<Item = LLMResult<ToolLoopEvent>> + Send>>;

/// A streamed tool-loop run: call [`ToolLoopStream::next`] without importing a trait, or use it as a
/// [`futures_core::Stream`].
pub struct ToolLoopStream {
    inner: EventStream,
}

impl fmt::Debug for ToolLoopStream {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.debug_struct("ToolLoopStream").finish_non_exhaustive()
    }
}

impl ToolLoopStream {
    pub(crate) fn new(
        tool_loop: ToolLoop,
        request: ChatCompletionRequest,
        toolbox: Arc<Toolbox>,
        span: Span,
        first: ResultStream,
    ) -> Self {
        let state = State {
            tool_loop,
            request,
            toolbox,
            span,
            step: 1,
            steps: Vec::new(),
            usage: Usage::default(),
            queue: VecDeque::new(),
            assembler: Assembler::new(first.warnings().to_vec()),
            phase: Phase::Model(Box::new(first)),
            last_response: None,
        };
        let inner = futures_util::stream::unfold(state, |mut state| async move {
            let event = state.next_event().await?;
            Some((event, state))
        });
        ToolLoopStream { inner: Box::pin(inner) }
    }

    /// The next event, or `None` after [`ToolLoopEvent::Finished`] or an error.
    pub async fn next(&mut self) -> Option<LLMResult<ToolLoopEvent>> {
        self.inner.next().await
    }

    /// Reads the stream to its end and returns the run's output.
    pub async fn finish(mut self) -> LLMResult<ToolLoopOutput> {
        while let Some(event) = self.next().await {
            if let ToolLoopEvent::Finished(output) = event? {
                return Ok(*output);
            }
        }
        Err(vllora_llm_core::LLMError::Connection {
            message: "the tool loop stream ended without an outcome".to_owned(),
        })
    }
}

impl Stream for ToolLoopStream {
    type Item = LLMResult<ToolLoopEvent>;

    fn poll_next(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(context)
    }
}

enum Phase {
    /// Reading a model stream.
    Model(Box<ResultStream>),
    /// Running a step's tools.
    Tools {
        running: FuturesUnordered<BoxFuture<'static, ToolCallRecord>>,
        order: Vec<String>,
        caller: Vec<ToolCall>,
    },
    /// Opening the next step's model stream.
    Starting,
    Done,
}

struct State {
    tool_loop: ToolLoop,
    request: ChatCompletionRequest,
    toolbox: Arc<Toolbox>,
    span: Span,
    step: usize,
    steps: Vec<ToolLoopStep>,
    usage: Usage,
    queue: VecDeque<ToolLoopEvent>,
    assembler: Assembler,
    phase: Phase,
    /// The response of a step whose tools are running.
    last_response: Option<ChatCompletionMessageWithFinishReason>,
}

impl State {
    async fn next_event(&mut self) -> Option<LLMResult<ToolLoopEvent>> {
        loop {
            if let Some(event) = self.queue.pop_front() {
                return Some(Ok(event));
            }
            match &mut self.phase {
                Phase::Done => return None,
                Phase::Model(stream) => match stream.next().await {
                    Some(Ok(chunk)) => {
                        self.assembler.push(&chunk);
                        return Some(Ok(ToolLoopEvent::Chunk { step: self.step, chunk }));
                    }
                    Some(Err(error)) => {
                        self.phase = Phase::Done;
                        return Some(Err(error));
                    }
                    None => self.end_model_call(),
                },
                Phase::Tools { running, .. } => match running.next().await {
                    Some(record) => {
                        if let Some(step) = self.steps.last_mut() {
                            step.tool_calls.push(record.clone());
                        }
                        return Some(Ok(ToolLoopEvent::ToolFinished { step: self.step, record }));
                    }
                    None => self.end_tools(),
                },
                Phase::Starting => match self.tool_loop.next_stream(&self.request, &self.span).await {
                    Ok(stream) => {
                        self.step += 1;
                        self.assembler = Assembler::new(stream.warnings().to_vec());
                        self.phase = Phase::Model(Box::new(stream));
                    }
                    Err(error) => {
                        self.phase = Phase::Done;
                        return Some(Err(error));
                    }
                },
            }
        }
    }

    fn end_model_call(&mut self) {
        let assembler = std::mem::replace(&mut self.assembler, Assembler::new(Vec::new()));
        let response = assembler.finish(self.step);
        let message = assistant_message(response.message());
        let calls = message.tool_calls.clone().unwrap_or_default();
        self.request.messages.push(message);
        if let Some(usage) = response.usage() {
            add_usage(&mut self.usage, usage);
        }
        self.steps.push(ToolLoopStep {
            response_id: response.id().to_owned(),
            usage: response.usage().copied(),
            finish_reason: response.finish_reason().cloned(),
            tool_calls: Vec::new(),
            warnings: response.warnings().to_vec(),
        });
        self.queue.push_back(ToolLoopEvent::StepFinished {
            step: self.step,
            finish_reason: response.finish_reason().cloned(),
            usage: response.usage().copied(),
            tool_calls: calls.clone(),
        });
        let Plan { run, caller } = self.toolbox.plan(&calls);
        if calls.is_empty() {
            return self.finish(ToolLoopOutcome::Answered, response);
        }
        if caller.is_empty() && self.step >= self.tool_loop.options.max_steps {
            return self.finish(ToolLoopOutcome::MaxStepsReached { pending: calls }, response);
        }
        let running = FuturesUnordered::new();
        let mut order = Vec::with_capacity(run.len());
        for call in run {
            order.push(call.id.clone());
            running.push(self.toolbox.execute(call.clone(), &self.span));
            self.queue.push_back(ToolLoopEvent::ToolStarted { step: self.step, call });
        }
        self.last_response = Some(response);
        self.phase = Phase::Tools { running, order, caller };
    }

    fn end_tools(&mut self) {
        let Phase::Tools { order, caller, .. } = std::mem::replace(&mut self.phase, Phase::Starting) else {
            return;
        };
        if let Some(step) = self.steps.last_mut() {
            // The model reads the results in the order it made the calls.
            step.tool_calls.sort_by_key(|record| order.iter().position(|id| *id == record.call.id));
            for record in &step.tool_calls {
                self.request.messages.push(record.output.to_message(&record.call.id));
            }
        }
        if !caller.is_empty() {
            let response = self.last_response.take().unwrap_or_default();
            self.finish(ToolLoopOutcome::CallerToolCalls(caller), response);
        }
    }

    fn finish(&mut self, outcome: ToolLoopOutcome, response: ChatCompletionMessageWithFinishReason) {
        finish_span(&self.span, &self.usage, self.steps.len(), &outcome);
        let output = ToolLoopOutput {
            outcome,
            response,
            messages: std::mem::take(&mut self.request.messages),
            steps: std::mem::take(&mut self.steps),
            usage: self.usage,
        };
        self.queue.push_back(ToolLoopEvent::Finished(Box::new(output)));
        self.phase = Phase::Done;
    }
}

/// Builds a step's response from its chunks (the first choice).
struct Assembler {
    response: ChatCompletionResponse,
    message: ChatCompletionMessage,
    content: Option<String>,
    calls: BTreeMap<u32, ToolCall>,
    finish_reason: Option<FinishReason>,
    raw_finish_reason: Option<String>,
    warnings: Vec<vllora_llm_core::warning::Warning>,
}

impl Assembler {
    fn new(warnings: Vec<vllora_llm_core::warning::Warning>) -> Self {
        Assembler {
            response: ChatCompletionResponse::default(),
            message: ChatCompletionMessage { role: Role::Assistant, ..ChatCompletionMessage::default() },
            content: None,
            calls: BTreeMap::new(),
            finish_reason: None,
            raw_finish_reason: None,
            warnings,
        }
    }

    fn push(&mut self, chunk: &ChatCompletionChunk) {
        if self.response.id.is_empty() && !chunk.id.is_empty() {
            self.response.id = chunk.id.to_string();
            self.response.model = chunk.model.to_string();
            self.response.created = chunk.created;
            self.response.system_fingerprint =
                chunk.system_fingerprint.as_ref().map(|value| value.to_string());
            self.response.service_tier = chunk.service_tier.as_ref().map(|value| value.to_string());
        }
        if let Some(usage) = chunk.usage {
            self.response.usage = Some(usage);
        }
        for choice in chunk.choices.iter().filter(|choice| choice.index == 0) {
            let delta = &choice.delta;
            if let Some(text) = &delta.content {
                self.content.get_or_insert_with(String::new).push_str(text);
            }
            if let Some(text) = &delta.reasoning_content {
                self.message.reasoning_content.get_or_insert_with(String::new).push_str(text);
            }
            if let Some(details) = &delta.reasoning_details {
                self.message.reasoning_details.get_or_insert_with(Vec::new).extend(details.iter().cloned());
            }
            if let Some(text) = &delta.refusal {
                self.message.refusal.get_or_insert_with(String::new).push_str(text);
            }
            for fragment in delta.tool_calls.iter().flatten() {
                let call = self.calls.entry(fragment.index).or_insert_with(|| ToolCall::function("", "", ""));
                if let Some(id) = &fragment.id
                    && call.id.is_empty()
                {
                    call.id = id.clone();
                }
                if let Some(function) = &fragment.function {
                    if let Some(name) = &function.name
                        && call.function.name.is_empty()
                    {
                        call.function.name = name.clone();
                    }
                    if let Some(arguments) = &function.arguments {
                        call.function.arguments.push_str(arguments);
                    }
                }
                if fragment.extra_content.is_some() {
                    call.extra_content = fragment.extra_content.clone();
                }
            }
            if let Some(reason) = &choice.finish_reason {
                self.finish_reason = Some(reason.clone());
                self.raw_finish_reason = choice.raw_finish_reason.as_ref().map(|raw| raw.to_string());
            }
        }
    }

    fn finish(mut self, step: usize) -> ChatCompletionMessageWithFinishReason {
        self.message.content = self.content.map(ChatCompletionContent::Text);
        if !self.calls.is_empty() {
            let calls = self
                .calls
                .into_iter()
                .map(|(index, mut call)| {
                    if call.id.is_empty() {
                        // Some OpenAI-compatible servers leave ids out; results must still name their call.
                        call.id = format!("call_{step}_{index}");
                    }
                    call
                })
                .collect();
            self.message.tool_calls = Some(calls);
        }
        self.response.object = "chat.completion".to_owned();
        self.response.choices = vec![Choice {
            index: 0,
            message: self.message,
            finish_reason: self.finish_reason,
            logprobs: None,
        }];
        ChatCompletionMessageWithFinishReason {
            response: self.response,
            warnings: self.warnings,
            raw_finish_reason: self.raw_finish_reason,
            ..ChatCompletionMessageWithFinishReason::default()
        }
    }
}
