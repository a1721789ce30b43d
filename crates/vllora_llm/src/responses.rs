//! [`ResponsesClient`]: the OpenAI Responses API through the client, for OpenAI and OpenAI-compatible
//! proxies, with a `responses {model}` tracing span carrying the GenAI fields that apply.
#![cfg(feature = "openai")]

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_core::Stream;
use tracing::Span;
use vllora_llm_core::{CallOptions, LLMError, LLMResult};
use vllora_llm_openai::{
    OpenAIResponses, ResponsesResponse, ResponsesEventStream, ResponsesRequest, ResponsesStreamEvent,
};

use crate::routing::InferenceModelProvider;
use crate::settings::{Settings, Target};
use crate::telemetry::{Call, genai_span};

/// The Responses API, one-shot and streamed. Routing follows the client's: an explicit provider, a
/// `provider/` prefix or the model's name; only OpenAI and proxies serve it.
#[derive(Clone)]
pub struct ResponsesClient {
    settings: Arc<Settings>,
}

impl fmt::Debug for ResponsesClient {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.debug_struct("ResponsesClient").finish_non_exhaustive()
    }
}

impl ResponsesClient {
    pub(crate) fn new(settings: Arc<Settings>) -> Self {
        ResponsesClient { settings }
    }

    /// The Responses client of the provider serving `model`, which it is told to use (prefix removed):
    /// the same resolver as chat, refused for a fixed instance and for providers other than OpenAI and
    /// proxies before anything is built.
    async fn resolve(&self, model: &str) -> LLMResult<Arc<OpenAIResponses>> {
        let route = match self.settings.route(model)? {
            // A ModelInstance speaks chat completions only; sending elsewhere would bypass the caller's
            // choice of instance.
            Target::Fixed(_) => {
                return Err(LLMError::InvalidRequest(
                    "a client built with new_with_instance sends chat completions to its instance; the \
                     Responses API needs VlloraLLMClient::new() with an OpenAI or OpenAI-compatible provider"
                        .to_owned(),
                ));
            }
            Target::Routed(route) => route,
        };
        if !matches!(
            route.provider,
            InferenceModelProvider::OpenAI | InferenceModelProvider::Proxy(_) | InferenceModelProvider::Azure
        ) {
            let other = &route.provider;
            return Err(LLMError::InvalidRequest(format!(
                "the Responses API is OpenAI's: {other} does not serve it (model `{model}`); use \
                 completions() for {other}, or an OpenAI or OpenAI-compatible provider"
            )));
        }
        let provider = self.settings.provider(&route).await?;
        provider.responses(route.model).ok_or_else(|| {
            LLMError::InvalidRequest(format!(
                "the Responses API is OpenAI's: {} does not serve it",
                route.provider
            ))
        })
    }

    fn options(&self) -> CallOptions {
        CallOptions::strict(self.settings.strict)
    }

    /// Creates a response and waits for all of it.
    pub async fn create(&self, request: ResponsesRequest) -> LLMResult<ResponsesResponse> {
        let responses = self.resolve(&request.model).await?;
        let provider = responses.config().provider_name();
        let span = responses_span(provider, &request, false, self.settings.record_content);
        let mut call = Call::start(span, "responses", provider, &request.model);
        let options = self.options();
        let result = call.run(responses.create_response(&request, &options)).await;
        match &result {
            Ok(response) => end_with_response(&mut call, response, self.settings.record_content),
            Err(error) => call.fail(error),
        }
        result
    }

    /// Creates a response as a stream of events, read as it is pulled; dropping it cancels the request.
    /// The span stays open until the stream ends or is dropped.
    pub async fn create_stream(&self, request: ResponsesRequest) -> LLMResult<ResponsesStream> {
        let responses = self.resolve(&request.model).await?;
        let provider = responses.config().provider_name();
        let span = responses_span(provider, &request, true, self.settings.record_content);
        let mut call = Call::start(span, "responses", provider, &request.model);
        let options = self.options();
        let result = call.run(responses.stream_response(&request, &options)).await;
        match result {
            Ok(events) => Ok(ResponsesStream {
                events,
                call,
                first_token_seen: false,
                record_content: self.settings.record_content,
            }),
            Err(error) => {
                call.fail(&error);
                Err(error)
            }
        }
    }
}

/// The events of a streamed response, recorded on the call's span as they pass.
pub struct ResponsesStream {
    events: ResponsesEventStream,
    call: Call,
    first_token_seen: bool,
    record_content: bool,
}

impl fmt::Debug for ResponsesStream {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.debug_struct("ResponsesStream").field("events", &self.events).finish_non_exhaustive()
    }
}

impl ResponsesStream {
    /// The next event, or `None` at the end.
    pub async fn next(&mut self) -> Option<LLMResult<ResponsesStreamEvent>> {
        std::future::poll_fn(|context| Pin::new(&mut *self).poll_next(context)).await
    }

    fn observe(&mut self, event: &ResponsesStreamEvent) {
        let has_output = matches!(
            event,
            ResponsesStreamEvent::OutputTextDelta(_)
                | ResponsesStreamEvent::RefusalDelta(_)
                | ResponsesStreamEvent::FunctionCallArgumentsDelta(_)
                | ResponsesStreamEvent::ReasoningSummaryTextDelta(_)
                | ResponsesStreamEvent::ReasoningTextDelta(_)
        );
        if has_output && !self.first_token_seen {
            self.first_token_seen = true;
            self.call.first_chunk();
        }
        match event {
            ResponsesStreamEvent::Created(created) => {
                self.call.span().record("gen_ai.response.id", created.response.id.as_str());
                self.call.record_response_model(&created.response.model);
            }
            ResponsesStreamEvent::Error(failure) => {
                let kind = failure.code.as_ref().and_then(|code| code.as_str()).unwrap_or("_OTHER");
                self.call.span().record("error.type", kind);
                self.call.span().record("otel.status_code", "ERROR");
                self.call.end_with(None, None, Some(kind));
            }
            _ => {}
        }
        if let Some(response) = event.response().filter(|_| event.is_terminal()) {
            end_with_response(&mut self.call, response, self.record_content);
        }
    }
}

impl Stream for ResponsesStream {
    type Item = LLMResult<ResponsesStreamEvent>;

    fn poll_next(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        let polled = {
            let _entered = this.call.span().enter();
            Pin::new(&mut this.events).poll_next(context)
        };
        match &polled {
            Poll::Ready(Some(Ok(event))) => this.observe(event),
            Poll::Ready(Some(Err(error))) => this.call.fail(error),
            Poll::Ready(None) | Poll::Pending => {}
        }
        polled
    }
}

/// Opens the span of one Responses call: `responses {model}`, operation `responses`.
fn responses_span(provider: &str, request: &ResponsesRequest, streaming: bool, record_content: bool) -> Span {
    let span = genai_span!(
        "responses",
        provider,
        &request.model,
        request.max_output_tokens.map(i64::from),
        request.temperature,
        request.top_p,
        streaming
    );
    if record_content && let Ok(input) = serde_json::to_string(&request.input) {
        span.record("gen_ai.input.messages", input);
    }
    span
}

impl Drop for ResponsesStream {
    /// A stream dropped before its terminal event was cancelled by its reader (`error.type =
    /// "cancelled"` in the duration metric and on the span, without an error status).
    fn drop(&mut self) {
        if !self.call.has_ended() {
            self.call.span().record("error.type", "cancelled");
            self.call.end_with(None, None, Some("cancelled"));
        }
    }
}

/// Records a whole response on the call's span and ends the call: duration and token usage metrics,
/// with the response's error code as `error.type` when it failed.
fn end_with_response(call: &mut Call, response: &ResponsesResponse, record_content: bool) {
    record_response(call.span(), response, record_content);
    call.record_response_model(&response.model);
    let usage = response.usage.as_ref();
    let error = response.error.as_ref().map(|error| error.code.as_deref().unwrap_or("_OTHER"));
    call.end_with(usage.map(|usage| usage.input_tokens), usage.map(|usage| usage.output_tokens), error);
}

/// Records a whole response on the span; its text only when the caller opted in.
fn record_response(span: &Span, response: &ResponsesResponse, record_content: bool) {
    span.record("gen_ai.response.id", response.id.as_str());
    span.record("gen_ai.response.model", response.model.as_str());
    let status = serde_json::to_value(&response.status).unwrap_or_default();
    span.record("gen_ai.response.finish_reasons", format!("[{status}]"));
    if let Some(usage) = &response.usage {
        span.record("gen_ai.usage.input_tokens", i64::try_from(usage.input_tokens).unwrap_or(i64::MAX));
        span.record("gen_ai.usage.output_tokens", i64::try_from(usage.output_tokens).unwrap_or(i64::MAX));
    }
    if let Some(error) = &response.error {
        span.record("error.type", error.code.as_deref().unwrap_or("_OTHER"));
        span.record("otel.status_code", "ERROR");
    }
    if record_content && let Ok(output) = serde_json::to_string(&response.output) {
        span.record("gen_ai.output.messages", output);
    }
}
