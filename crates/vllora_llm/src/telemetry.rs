//! The `tracing` span and the metrics of every call, with the OpenTelemetry GenAI semantic-convention
//! names, and no OpenTelemetry dependency.
//!
//! **Spans.** One span per call, named after the operation (`chat`, `responses`, `embeddings`), with
//! `otel.name = "{operation} {model}"`, the request's and the response's `gen_ai.*` fields, the token
//! counts (cache reads and writes, reasoning), `server.address`/`server.port` of the server the request
//! went to (noted by the transport, see [`vllora_llm_http::observe_server`]) and `error.type` when the
//! call fails. Prompts and completions are recorded (`gen_ai.input.messages`, `gen_ai.output.messages`)
//! only when the caller opts in. Streams keep the span open until they end or are dropped, record
//! `gen_ai.response.time_to_first_chunk` and emit a `gen_ai.first_token` event.
//!
//! **Metrics.** Each call ends with `tracing` events, target [`METRICS_TARGET`], no parent span, whose
//! field names follow `tracing-opentelemetry`'s `MetricsLayer` conventions, so that layer turns them into
//! OpenTelemetry histograms (any other subscriber sees ordinary events):
//! - `histogram.gen_ai.client.operation.duration` (seconds, `f64`), with `error.type` on failure;
//! - `histogram.gen_ai.client.token.usage` (tokens, `u64`), once per `gen_ai.token.type` (`input`,
//!   `output`), when the provider reported usage;
//! - `histogram.gen_ai.client.operation.time_to_first_chunk` (seconds, `f64`), streams only.
//!
//! Every metric event carries the attributes the conventions name: `gen_ai.operation.name`,
//! `gen_ai.provider.name`, `gen_ai.request.model`, and when known `gen_ai.response.model`,
//! `server.address`, `server.port`.
//!
//! **Nothing listening, nothing recorded.** When a call starts with its span disabled and the metric
//! events disabled too (no subscriber, or one that takes neither), the call costs what the provider's
//! does: the server is not observed, the result not recorded, the stream returned unwrapped.
//!
//! Integer span fields and attributes (token counts, `max_tokens`, `server.port`) are recorded as `i64`:
//! `tracing-opentelemetry` turns `i64` into integer attributes but `u64` into strings. Histogram values
//! are `u64` or `f64`, the two types `MetricsLayer` makes histograms of.

use std::borrow::Cow;
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
use vllora_llm_http::{ServerAddress, observe_server};

/// The `tracing` target of the metric events (filter it out of console logs with
/// `vllora_llm::metrics=off`).
pub(crate) const METRICS_TARGET: &str = "vllora_llm::metrics";

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
            server.address = tracing::field::Empty,
            server.port = tracing::field::Empty,
            gen_ai.response.id = tracing::field::Empty,
            gen_ai.response.model = tracing::field::Empty,
            gen_ai.response.finish_reasons = tracing::field::Empty,
            gen_ai.response.time_to_first_chunk = tracing::field::Empty,
            gen_ai.usage.input_tokens = tracing::field::Empty,
            gen_ai.usage.output_tokens = tracing::field::Empty,
            gen_ai.usage.cache_read.input_tokens = tracing::field::Empty,
            gen_ai.usage.cache_creation.input_tokens = tracing::field::Empty,
            gen_ai.usage.reasoning.output_tokens = tracing::field::Empty,
            error.type = tracing::field::Empty,
            gen_ai.input.messages = tracing::field::Empty,
            gen_ai.output.messages = tracing::field::Empty,
        )
    };
}
#[cfg_attr(not(feature = "openai"), allow(unused_imports))] // the Responses API needs the openai feature
pub(crate) use genai_span;

/// One call as telemetry sees it: its span, when it started, where it went, and what the metric events
/// say about it. Metrics are emitted once, by [`Call::end`].
#[derive(Debug)]
pub(crate) struct Call {
    span: Span,
    operation: &'static str,
    provider: Box<str>,
    request_model: Box<str>,
    started: Instant,
    server: Option<ServerAddress>,
    response_model: Option<Box<str>>,
    ended: bool,
    /// Whether anything records this call: its span is enabled or the metric events are. When nothing
    /// does, the call costs no more than the provider's: no server observed, no result recorded, no
    /// stream wrapped.
    listening: bool,
}

/// Whether the current subscriber takes the metric events (asked with the duration event's target,
/// level and fields, as `tracing-opentelemetry`'s `MetricsLayer` filters them).
fn metrics_enabled() -> bool {
    tracing::event_enabled!(
        target: METRICS_TARGET,
        tracing::Level::INFO,
        histogram.gen_ai.client.operation.duration,
        gen_ai.operation.name,
        gen_ai.provider.name,
        gen_ai.request.model,
        gen_ai.response.model,
        server.address,
        server.port,
        error.type
    )
}

impl Call {
    /// A call starting now, recorded in `span` (opened by the caller with the operation's fields).
    pub(crate) fn start(span: Span, operation: &'static str, provider: &str, request_model: &str) -> Call {
        let listening = !span.is_disabled() || metrics_enabled();
        let text = |value: &str| if listening { value.into() } else { Box::default() };
        Call {
            span,
            operation,
            provider: text(provider),
            request_model: text(request_model),
            started: Instant::now(),
            server: None,
            response_model: None,
            ended: false,
            listening,
        }
    }

    /// The call's span.
    pub(crate) fn span(&self) -> &Span {
        &self.span
    }

    /// Runs `future` (the provider's call) inside the span, noting the server its requests went to
    /// (when anything listens).
    pub(crate) async fn run<F: Future>(&mut self, future: F) -> F::Output {
        if !self.listening {
            return future.await;
        }
        let (output, server) =
            observe_server(tracing::Instrument::instrument(future, self.span.clone())).await;
        if let Some(server) = server {
            self.span.record("server.address", server.address.as_str());
            self.span.record("server.port", i64::from(server.port));
            self.server = Some(server);
        }
        output
    }

    /// Records the model that answered (on the span, and for the metrics).
    pub(crate) fn record_response_model(&mut self, model: &str) {
        if model.is_empty() {
            return;
        }
        self.span.record("gen_ai.response.model", model);
        self.response_model = Some(model.into());
    }

    /// Records usage on the span: input, output, cache and reasoning counts.
    pub(crate) fn record_usage(&self, usage: &Usage) {
        record_usage(&self.span, usage);
    }

    /// Records a failure on the span.
    pub(crate) fn record_error(&self, error: &LLMError) {
        record_error(&self.span, error);
    }

    /// The time from the start of the call to the first chunk carrying output: recorded on the span,
    /// emitted as the `gen_ai.first_token` event and the time-to-first-chunk metric.
    pub(crate) fn first_chunk(&self) {
        let elapsed = self.started.elapsed();
        let seconds = elapsed.as_secs_f64();
        self.span.record("gen_ai.response.time_to_first_chunk", seconds);
        tracing::event!(
            name: "gen_ai.first_token",
            parent: &self.span,
            tracing::Level::INFO,
            { gen_ai.response.time_to_first_chunk = seconds },
            "first token after {} ms",
            elapsed.as_millis()
        );
        tracing::event!(
            name: "gen_ai.client.operation.time_to_first_chunk",
            target: METRICS_TARGET,
            parent: None,
            tracing::Level::INFO,
            histogram.gen_ai.client.operation.time_to_first_chunk = seconds,
            gen_ai.operation.name = self.operation,
            gen_ai.provider.name = &*self.provider,
            gen_ai.request.model = &*self.request_model,
            gen_ai.response.model = self.response_model.as_deref(),
            server.address = self.server.as_ref().map(|server| server.address.as_str()),
            server.port = self.server.as_ref().map(|server| i64::from(server.port)),
        );
    }

    /// Whether the call has ended (its metrics are emitted). Only the Responses API (OpenAI) asks.
    #[cfg(feature = "openai")]
    pub(crate) fn has_ended(&self) -> bool {
        self.ended
    }

    /// Ends the call: emits the duration metric (with `error_type` when it failed) and, when usage is
    /// known, the token usage metric once per token type. Only the first call does anything.
    pub(crate) fn end(&mut self, usage: Option<(u32, u32)>, error_type: Option<&str>) {
        let (input, output) = (usage.map(|usage| u64::from(usage.0)), usage.map(|usage| u64::from(usage.1)));
        self.end_with(input, output, error_type);
    }

    /// [`Call::end`] with the input and output token counts each known or not (embeddings have no
    /// output tokens).
    pub(crate) fn end_with(&mut self, input: Option<u64>, output: Option<u64>, error_type: Option<&str>) {
        if std::mem::replace(&mut self.ended, true) {
            return;
        }
        let seconds = self.started.elapsed().as_secs_f64();
        let address = self.server.as_ref().map(|server| server.address.as_str());
        let port = self.server.as_ref().map(|server| i64::from(server.port));
        tracing::event!(
            name: "gen_ai.client.operation.duration",
            target: METRICS_TARGET,
            parent: None,
            tracing::Level::INFO,
            histogram.gen_ai.client.operation.duration = seconds,
            gen_ai.operation.name = self.operation,
            gen_ai.provider.name = &*self.provider,
            gen_ai.request.model = &*self.request_model,
            gen_ai.response.model = self.response_model.as_deref(),
            server.address = address,
            server.port = port,
            error.type = error_type,
        );
        for (token_type, tokens) in [("input", input), ("output", output)] {
            let Some(tokens) = tokens else { continue };
            tracing::event!(
                name: "gen_ai.client.token.usage",
                target: METRICS_TARGET,
                parent: None,
                tracing::Level::INFO,
                histogram.gen_ai.client.token.usage = tokens,
                gen_ai.token.type = token_type,
                gen_ai.operation.name = self.operation,
                gen_ai.provider.name = &*self.provider,
                gen_ai.request.model = &*self.request_model,
                gen_ai.response.model = self.response_model.as_deref(),
                server.address = address,
                server.port = port,
            );
        }
    }

    /// Ends a failed call: the error on the span, the duration metric with its `error.type`.
    pub(crate) fn fail(&mut self, error: &LLMError) {
        self.record_error(error);
        self.end(None, Some(&error_type(error)));
    }
}

/// Opens the span of one chat call and starts its [`Call`].
pub(crate) fn chat_call(
    provider: &str,
    request: &ChatCompletionRequest,
    streaming: bool,
    record_content: bool,
) -> Call {
    let max_tokens = request.max_completion_tokens.or(request.max_tokens).map(i64::from);
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
    Call::start(span, "chat", provider, &request.model)
}

/// Records usage on `span`: input and output tokens, and the cache and reasoning counts the provider gave.
pub(crate) fn record_usage(span: &Span, usage: &Usage) {
    span.record("gen_ai.usage.input_tokens", i64::from(usage.prompt_tokens));
    span.record("gen_ai.usage.output_tokens", i64::from(usage.completion_tokens));
    if let Some(details) = &usage.prompt_tokens_details {
        if let Some(read) = details.cached_tokens {
            span.record("gen_ai.usage.cache_read.input_tokens", i64::from(read));
        }
        if let Some(written) = details.cache_creation_tokens {
            span.record("gen_ai.usage.cache_creation.input_tokens", i64::from(written));
        }
    }
    if let Some(reasoning) =
        usage.completion_tokens_details.as_ref().and_then(|details| details.reasoning_tokens)
    {
        span.record("gen_ai.usage.reasoning.output_tokens", i64::from(reasoning));
    }
}

/// The low-cardinality `error.type` of an error: the provider's error type (or HTTP status) for API
/// errors, otherwise the kind of failure.
pub(crate) fn error_type(error: &LLMError) -> Cow<'_, str> {
    match error {
        LLMError::Api(api) => match (&api.error_type, api.status) {
            (Some(kind), _) => Cow::Borrowed(kind.as_str()),
            (None, Some(status)) => Cow::Owned(status.to_string()),
            (None, None) => Cow::Borrowed("api_error"),
        },
        LLMError::Timeout { .. } => Cow::Borrowed("timeout"),
        LLMError::Connection { .. } => Cow::Borrowed("connection"),
        LLMError::ConnectFailed { .. } => Cow::Borrowed("connect_failed"),
        LLMError::LimitExceeded { .. } => Cow::Borrowed("limit_exceeded"),
        LLMError::InvalidRequest(_) => Cow::Borrowed("invalid_request"),
        LLMError::Unsupported(_) => Cow::Borrowed("unsupported_parameter"),
        LLMError::Decode { .. } => Cow::Borrowed("decode"),
        LLMError::MissingCredentials { .. } => Cow::Borrowed("missing_credentials"),
        LLMError::ProviderNotCompiled { .. } => Cow::Borrowed("provider_not_compiled"),
        LLMError::Config(_) => Cow::Borrowed("config"),
        #[allow(unreachable_patterns, reason = "LLMError may grow variants")]
        _ => Cow::Borrowed("_OTHER"),
    }
}

/// Records a failure on `span`: `error.type` and the error status.
pub(crate) fn record_error(span: &Span, error: &LLMError) {
    span.record("error.type", &*error_type(error));
    span.record("otel.status_code", "ERROR");
}

fn finish_reasons_json<'a>(reasons: impl Iterator<Item = &'a FinishReason>) -> String {
    let names: Vec<&str> = reasons.map(FinishReason::as_str).collect();
    serde_json::to_string(&names).unwrap_or_default()
}

/// Records a one-shot chat result on its span and ends the call.
pub(crate) fn record_result(
    call: &mut Call,
    result: &LLMResult<ChatCompletionMessageWithFinishReason>,
    record_content: bool,
) {
    if !call.listening {
        // Nothing would see the span's fields or the metric events.
        call.ended = true;
        return;
    }
    let response = match result {
        Ok(response) => &response.response,
        Err(error) => return call.fail(error),
    };
    let span = call.span().clone();
    span.record("gen_ai.response.id", response.id.as_str());
    call.record_response_model(&response.model);
    let reasons = response.choices.iter().filter_map(|choice| choice.finish_reason.as_ref());
    span.record("gen_ai.response.finish_reasons", finish_reasons_json(reasons));
    if let Some(usage) = &response.usage {
        record_usage(&span, usage);
    }
    if record_content {
        let messages: Vec<_> = response.choices.iter().map(|choice| &choice.message).collect();
        if let Ok(json) = serde_json::to_string(&messages) {
            span.record("gen_ai.output.messages", json);
        }
    }
    call.end(response.usage.as_ref().map(|usage| (usage.prompt_tokens, usage.completion_tokens)), None);
}

/// Keeps the call's span open for the stream's life and records what the chunks say; the call ends when
/// the stream does (or fails, or is dropped).
pub(crate) fn instrument_stream(stream: ResultStream, mut call: Call, record_content: bool) -> ResultStream {
    if !call.listening {
        // Nothing would see what the chunks say: the stream is returned as the provider made it.
        call.ended = true;
        return stream;
    }
    let warnings = stream.warnings().to_vec();
    let metadata = stream.metadata().cloned();
    ResultStream::new(InstrumentedStream {
        inner: stream,
        call,
        first_token_seen: false,
        response_seen: false,
        finish_reasons: Vec::new(),
        usage: None,
        completion: record_content.then(String::new),
    })
    .with_warnings(warnings)
    .with_metadata(metadata)
}

struct InstrumentedStream<S> {
    inner: S,
    call: Call,
    first_token_seen: bool,
    response_seen: bool,
    finish_reasons: Vec<FinishReason>,
    usage: Option<(u32, u32)>,
    completion: Option<String>,
}

impl<S> InstrumentedStream<S> {
    fn observe(&mut self, chunk: &ChatCompletionChunk) {
        if !self.response_seen && !chunk.id.is_empty() {
            self.response_seen = true;
            self.call.span().record("gen_ai.response.id", chunk.id.as_str());
            self.call.record_response_model(&chunk.model);
        }
        for choice in &chunk.choices {
            let delta = &choice.delta;
            let has_output = delta.content.as_ref().is_some_and(|text| !text.is_empty())
                || delta.reasoning_content.as_ref().is_some_and(|text| !text.is_empty())
                || delta.tool_calls.is_some();
            if has_output && !self.first_token_seen {
                self.first_token_seen = true;
                self.call.first_chunk();
            }
            if let (Some(completion), Some(text)) = (&mut self.completion, &delta.content) {
                completion.push_str(text);
            }
            if let Some(reason) = &choice.finish_reason {
                self.finish_reasons.push(reason.clone());
            }
        }
        if let Some(usage) = &chunk.usage {
            self.call.record_usage(usage);
            self.usage = Some((usage.prompt_tokens, usage.completion_tokens));
        }
    }

    /// The stream ended (or was dropped after its finish reason): the response fields and the metrics.
    fn finish(&mut self) {
        if self.call.ended {
            return;
        }
        let span = self.call.span();
        span.record("gen_ai.response.finish_reasons", finish_reasons_json(self.finish_reasons.iter()));
        if let Some(completion) = self.completion.take()
            && let Ok(json) =
                serde_json::to_string(&[ChatCompletionMessage::new_text(Role::Assistant, completion)])
        {
            span.record("gen_ai.output.messages", json);
        }
        self.call.end(self.usage, None);
    }
}

impl<S> Drop for InstrumentedStream<S> {
    /// A stream dropped after its finish reason ended normally; one dropped before was cancelled by its
    /// reader (`error.type = "cancelled"`, without an error status: nothing failed).
    fn drop(&mut self) {
        if self.call.ended {
            return;
        }
        if self.finish_reasons.is_empty() {
            self.call.span().record("error.type", "cancelled");
            self.call.end(self.usage, Some("cancelled"));
        } else {
            self.finish();
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
            let _entered = this.call.span().enter();
            Pin::new(&mut this.inner).poll_next(context)
        };
        match &polled {
            Poll::Ready(Some(Ok(chunk))) => this.observe(chunk),
            Poll::Ready(Some(Err(error))) => this.call.fail(error),
            Poll::Ready(None) => this.finish(),
            Poll::Pending => {}
        }
        polled
    }
}
