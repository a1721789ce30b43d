//! The `tracing` span of every call, with the OpenTelemetry GenAI semantic-convention fields.
//!
//! One span per call, named `chat`, with `otel.name = "chat {model}"`. Prompts and completions are
//! recorded (`gen_ai.input.messages`, `gen_ai.output.messages`) only when the caller opts in. Streams
//! keep the span open until they end or are dropped, and emit a `gen_ai.first_token` event with the time
//! to first token.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use futures_core::Stream;
use tracing::Span;

use vllora_llm_core::types::gateway::{
    ChatCompletionChunk, ChatCompletionMessage, ChatCompletionMessageWithFinishReason, ChatCompletionRequest,
    FinishReason, Role, Usage,
};
use vllora_llm_core::{LLMError, LLMResult, ResultStream};

/// Opens a span named `$operation` with every OpenTelemetry GenAI field a model call records: the request's
/// now, the response's and usage as `Empty` to be filled in. (`tracing` needs field names as literals, so
/// this is a macro, shared by chat and the Responses API.)
macro_rules! genai_span {
    ($operation:literal, $provider:expr, $model:expr, $max_tokens:expr, $temperature:expr, $top_p:expr, $streaming:expr) => {
        tracing::info_span!(
            $operation,
            otel.name = %format_args!("{} {}", $operation, $model),
            otel.kind = "client",
            otel.status_code = tracing::field::Empty,
            gen_ai.operation.name = $operation,
            gen_ai.provider.name = $provider,
            gen_ai.request.model = %$model,
            gen_ai.request.max_tokens = $max_tokens,
            gen_ai.request.temperature = $temperature,
            gen_ai.request.top_p = $top_p,
            gen_ai.request.stream = $streaming,
            gen_ai.response.id = tracing::field::Empty,
            gen_ai.response.model = tracing::field::Empty,
            gen_ai.response.finish_reasons = tracing::field::Empty,
            gen_ai.usage.input_tokens = tracing::field::Empty,
            gen_ai.usage.output_tokens = tracing::field::Empty,
            error.type = tracing::field::Empty,
            gen_ai.input.messages = tracing::field::Empty,
            gen_ai.output.messages = tracing::field::Empty,
        )
    };
}
#[cfg_attr(not(feature = "openai"), allow(unused_imports))] // the Responses API needs the openai feature
pub(crate) use genai_span;

/// Opens the span of one chat call.
pub(crate) fn chat_span(
    provider: &str,
    request: &ChatCompletionRequest,
    streaming: bool,
    record_content: bool,
) -> Span {
    let max_tokens = request.max_completion_tokens.or(request.max_tokens);
    let span = genai_span!(
        "chat",
        provider,
        &request.model,
        max_tokens,
        request.temperature,
        request.top_p,
        streaming
    );
    if record_content && let Ok(messages) = serde_json::to_string(&request.messages) {
        span.record("gen_ai.input.messages", messages);
    }
    span
}

fn record_usage(span: &Span, usage: &Usage) {
    span.record("gen_ai.usage.input_tokens", usage.prompt_tokens);
    span.record("gen_ai.usage.output_tokens", usage.completion_tokens);
}

pub(crate) fn record_error(span: &Span, error: &LLMError) {
    let kind = match error {
        LLMError::Api(api) => api.error_type.clone().or_else(|| api.status.map(|status| status.to_string())),
        LLMError::Timeout { .. } => Some("timeout".to_owned()),
        LLMError::Connection { .. } => Some("connection".to_owned()),
        _ => None,
    };
    span.record("error.type", kind.as_deref().unwrap_or("_OTHER"));
    span.record("otel.status_code", "ERROR");
}

fn finish_reasons_json<'a>(reasons: impl Iterator<Item = &'a FinishReason>) -> String {
    let names: Vec<&str> = reasons.map(FinishReason::as_str).collect();
    serde_json::to_string(&names).unwrap_or_default()
}

/// Records a one-shot result on its span.
pub(crate) fn record_result(
    span: &Span,
    result: &LLMResult<ChatCompletionMessageWithFinishReason>,
    record_content: bool,
) {
    let response = match result {
        Ok(response) => &response.response,
        Err(error) => return record_error(span, error),
    };
    span.record("gen_ai.response.id", response.id.as_str());
    span.record("gen_ai.response.model", response.model.as_str());
    let reasons = response.choices.iter().filter_map(|choice| choice.finish_reason.as_ref());
    span.record("gen_ai.response.finish_reasons", finish_reasons_json(reasons));
    if let Some(usage) = &response.usage {
        record_usage(span, usage);
    }
    if record_content {
        let messages: Vec<_> = response.choices.iter().map(|choice| &choice.message).collect();
        if let Ok(json) = serde_json::to_string(&messages) {
            span.record("gen_ai.output.messages", json);
        }
    }
}

/// Keeps the span open for the stream's life and records what the chunks say.
pub(crate) fn instrument_stream(stream: ResultStream, span: Span, record_content: bool) -> ResultStream {
    let warnings = stream.warnings().to_vec();
    let metadata = stream.metadata().cloned();
    ResultStream::new(InstrumentedStream {
        inner: stream,
        span,
        started: Instant::now(),
        first_token_seen: false,
        response_seen: false,
        finish_reasons: Vec::new(),
        completion: record_content.then(String::new),
    })
    .with_warnings(warnings)
    .with_metadata(metadata)
}

struct InstrumentedStream<S> {
    inner: S,
    span: Span,
    started: Instant,
    first_token_seen: bool,
    response_seen: bool,
    finish_reasons: Vec<FinishReason>,
    completion: Option<String>,
}

impl<S> InstrumentedStream<S> {
    fn observe(&mut self, chunk: &ChatCompletionChunk) {
        if !self.response_seen && !chunk.id.is_empty() {
            self.response_seen = true;
            self.span.record("gen_ai.response.id", chunk.id.as_str());
            self.span.record("gen_ai.response.model", chunk.model.as_str());
        }
        for choice in &chunk.choices {
            let delta = &choice.delta;
            let has_output = delta.content.as_ref().is_some_and(|text| !text.is_empty())
                || delta.reasoning_content.as_ref().is_some_and(|text| !text.is_empty())
                || delta.tool_calls.is_some();
            if has_output && !self.first_token_seen {
                self.first_token_seen = true;
                let elapsed = self.started.elapsed();
                let seconds = elapsed.as_secs_f64();
                tracing::event!(
                    name: "gen_ai.first_token",
                    parent: &self.span,
                    tracing::Level::INFO,
                    { gen_ai.response.time_to_first_chunk = seconds },
                    "first token after {} ms",
                    elapsed.as_millis()
                );
            }
            if let (Some(completion), Some(text)) = (&mut self.completion, &delta.content) {
                completion.push_str(text);
            }
            if let Some(reason) = &choice.finish_reason {
                self.finish_reasons.push(reason.clone());
            }
        }
        if let Some(usage) = &chunk.usage {
            record_usage(&self.span, usage);
        }
    }

    fn finish(&mut self) {
        self.span.record("gen_ai.response.finish_reasons", finish_reasons_json(self.finish_reasons.iter()));
        if let Some(completion) = self.completion.take()
            && let Ok(json) =
                serde_json::to_string(&[ChatCompletionMessage::new_text(Role::Assistant, completion)])
        {
            self.span.record("gen_ai.output.messages", json);
        }
    }
}

impl<S> Stream for InstrumentedStream<S>
where
    S: Stream<Item = LLMResult<ChatCompletionChunk>> + Unpin,
{
    type Item = LLMResult<ChatCompletionChunk>;

    fn poll_next(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        let polled = {
            let _entered = this.span.enter();
            Pin::new(&mut this.inner).poll_next(context)
        };
        match &polled {
            Poll::Ready(Some(Ok(chunk))) => this.observe(chunk),
            Poll::Ready(Some(Err(error))) => record_error(&this.span, error),
            Poll::Ready(None) => this.finish(),
            Poll::Pending => {}
        }
        polled
    }
}
