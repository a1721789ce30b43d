//! [`ResponsesClient`]: the OpenAI Responses API through the client, for OpenAI and OpenAI-compatible
//! proxies, with a `responses {model}` tracing span carrying the GenAI fields that apply.
#![cfg(feature = "openai")]

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use futures_core::Stream;
use tracing::Span;
use vllora_llm_core::{CallOptions, LLMError, LLMResult};
use vllora_llm_openai::{OpenAIResponses, Response, ResponsesEventStream, ResponsesRequest, ResponsesStreamEvent};

use crate::client::{InferenceModelProvider, Settings, VlloraLLMClient};
use crate::routing;
use crate::telemetry::{genai_span, record_error};

impl VlloraLLMClient {
    /// The OpenAI Responses API (`POST /v1/responses`), served by OpenAI and OpenAI-compatible proxies.
    pub fn responses(&self) -> ResponsesClient {
        ResponsesClient { settings: Arc::clone(self.settings()) }
    }
}

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
    /// The Responses client of the provider serving `model`, which it is told to use (prefix removed).
    fn resolve(&self, model: &str) -> LLMResult<OpenAIResponses> {
        let settings = &self.settings;
        if settings.has_fixed_instance() {
            // A ModelInstance speaks chat completions only; sending elsewhere would bypass the caller's
            // choice of instance.
            return Err(LLMError::InvalidRequest(
                "a client built with new_with_instance sends chat completions to its instance; the \
                 Responses API needs VlloraLLMClient::new() with an OpenAI or OpenAI-compatible provider"
                    .to_owned(),
            ));
        }
        let route = routing::resolve(settings.provider.as_ref(), model, &crate::providers::proxy_exists)
            .ok_or_else(|| {
                LLMError::Config(format!(
                    "cannot tell which provider serves model `{model}`: prefix it with the provider \
                     (`openai/{model}`) or call with_model_provider"
                ))
            })?;
        let proxy = match &route.provider {
            InferenceModelProvider::OpenAI => None,
            InferenceModelProvider::Proxy(name) => Some(name.as_str()),
            other => {
                return Err(LLMError::InvalidRequest(format!(
                    "the Responses API is OpenAI's: {other} does not serve it (model `{model}`); use \
                     completions() for {other}, or an OpenAI or OpenAI-compatible provider"
                )));
            }
        };
        let config = crate::providers::openai_config(settings, proxy)?;
        Ok(OpenAIResponses::new(config, settings.http()?).with_model(route.model))
    }

    fn options(&self) -> CallOptions {
        CallOptions::strict(self.settings.strict)
    }

    /// Creates a response and waits for all of it.
    pub async fn create(&self, request: ResponsesRequest) -> LLMResult<Response> {
        let responses = self.resolve(&request.model)?;
        let span =
            responses_span(responses.config().provider_name(), &request, false, self.settings.record_content);
        let options = self.options();
        let result =
            tracing::Instrument::instrument(responses.create_response(&request, &options), span.clone())
                .await;
        match &result {
            Ok(response) => record_response(&span, response, self.settings.record_content),
            Err(error) => record_error(&span, error),
        }
        result
    }

    /// Creates a response as a stream of events, read as it is pulled; dropping it cancels the request.
    /// The span stays open until the stream ends or is dropped.
    pub async fn create_stream(&self, request: ResponsesRequest) -> LLMResult<ResponsesStream> {
        let responses = self.resolve(&request.model)?;
        let span =
            responses_span(responses.config().provider_name(), &request, true, self.settings.record_content);
        let options = self.options();
        let result =
            tracing::Instrument::instrument(responses.stream_response(&request, &options), span.clone())
                .await;
        match result {
            Ok(events) => Ok(ResponsesStream {
                events,
                span,
                started: Instant::now(),
                first_token_seen: false,
                record_content: self.settings.record_content,
            }),
            Err(error) => {
                record_error(&span, &error);
                Err(error)
            }
        }
    }
}

/// The events of a streamed response, recorded on the call's span as they pass.
pub struct ResponsesStream {
    events: ResponsesEventStream,
    span: Span,
    started: Instant,
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
            let elapsed = self.started.elapsed();
            tracing::event!(
                name: "gen_ai.first_token",
                parent: &self.span,
                tracing::Level::INFO,
                { gen_ai.response.time_to_first_chunk = elapsed.as_secs_f64() },
                "first token after {} ms",
                elapsed.as_millis()
            );
        }
        match event {
            ResponsesStreamEvent::Created(created) => {
                self.span.record("gen_ai.response.id", created.response.id.as_str());
                self.span.record("gen_ai.response.model", created.response.model.as_str());
            }
            ResponsesStreamEvent::Error(failure) => {
                let kind = failure.code.as_ref().and_then(|code| code.as_str()).unwrap_or("_OTHER");
                self.span.record("error.type", kind);
                self.span.record("otel.status_code", "ERROR");
            }
            _ => {}
        }
        if let Some(response) = event.response().filter(|_| event.is_terminal()) {
            record_response(&self.span, response, self.record_content);
        }
    }
}

impl Stream for ResponsesStream {
    type Item = LLMResult<ResponsesStreamEvent>;

    fn poll_next(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        let polled = {
            let _entered = this.span.enter();
            Pin::new(&mut this.events).poll_next(context)
        };
        match &polled {
            Poll::Ready(Some(Ok(event))) => this.observe(event),
            Poll::Ready(Some(Err(error))) => record_error(&this.span, error),
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
        request.max_output_tokens,
        request.temperature,
        request.top_p,
        streaming
    );
    if record_content && let Ok(input) = serde_json::to_string(&request.input) {
        span.record("gen_ai.input.messages", input);
    }
    span
}

/// Records a whole response on the span; its text only when the caller opted in.
fn record_response(span: &Span, response: &Response, record_content: bool) {
    span.record("gen_ai.response.id", response.id.as_str());
    span.record("gen_ai.response.model", response.model.as_str());
    let status = serde_json::to_value(&response.status).unwrap_or_default();
    span.record("gen_ai.response.finish_reasons", format!("[{status}]"));
    if let Some(usage) = &response.usage {
        span.record("gen_ai.usage.input_tokens", usage.input_tokens);
        span.record("gen_ai.usage.output_tokens", usage.output_tokens);
    }
    if let Some(error) = &response.error {
        span.record("error.type", error.code.as_deref().unwrap_or("_OTHER"));
        span.record("otel.status_code", "ERROR");
    }
    if record_content && let Ok(output) = serde_json::to_string(&response.output) {
        span.record("gen_ai.output.messages", output);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::panic, reason = "a test fails by panicking")]

    use std::collections::BTreeMap;
    use std::sync::Mutex;

    use serde_json::json;
    use vllora_llm_core::Credentials;
    use vllora_llm_testkit::{MockResponse, MockServer, record_conformance};

    use super::*;

    fn completed_response() -> serde_json::Value {
        json!({
            "id": "resp_abc", "object": "response", "created_at": 1741476542, "status": "completed",
            "error": null, "incomplete_details": null, "model": "gpt-4.1-mini-2025-04-14",
            "output": [{"type": "message", "id": "msg_1", "status": "completed", "role": "assistant",
                        "content": [{"type": "output_text", "text": "Paris.", "annotations": [], "logprobs": []}]}],
            "usage": {"input_tokens": 12, "input_tokens_details": {"cached_tokens": 0}, "output_tokens": 2,
                      "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": 14}
        })
    }

    fn client(server: &MockServer, provider: InferenceModelProvider) -> VlloraLLMClient {
        VlloraLLMClient::new()
            .with_model_provider(provider)
            .with_credentials(Credentials::ApiKey("sk-test".into()))
            .with_inference_endpoint(format!("{}/v1", server.url()))
    }

    #[tokio::test]
    async fn create_goes_to_openai_with_the_prefix_removed() {
        let server = MockServer::start().await;
        server.respond("POST", "/v1/responses", MockResponse::json(200, completed_response()));
        let request = ResponsesRequest {
            model: "openai/gpt-4.1-mini".to_owned(),
            input: "Capital of France?".into(),
            max_output_tokens: Some(16),
            ..Default::default()
        };
        let result = client(&server, InferenceModelProvider::OpenAI).responses().create(request).await;
        let Ok(response) = result else { panic!("{result:?}") };
        assert_eq!(response.output_text(), "Paris.");
        let requests = server.requests();
        assert_eq!(requests[0].path, "/v1/responses");
        assert_eq!(requests[0].header("authorization"), Some("Bearer sk-test"));
        let body = requests[0].json();
        assert_eq!(
            body,
            json!({"model": "gpt-4.1-mini", "input": "Capital of France?", "max_output_tokens": 16})
        );
        record_conformance("openai-responses", &body);
    }

    #[tokio::test]
    async fn create_stream_passes_every_event_through() {
        let server = MockServer::start().await;
        let created = json!({"type": "response.created", "sequence_number": 0,
                             "response": {"id": "resp_abc", "object": "response", "created_at": 1, "status": "in_progress",
                                          "model": "qwen3", "output": [], "usage": null}});
        let delta = json!({"type": "response.output_text.delta", "item_id": "msg_1", "output_index": 0,
                           "content_index": 0, "delta": "Paris.", "sequence_number": 1});
        let completed =
            json!({"type": "response.completed", "sequence_number": 2, "response": completed_response()});
        let events = [created, delta, completed].map(|event| format!("data: {event}\n\n"));
        server.respond("POST", "/v1/responses", MockResponse::sse(events));
        let client = client(&server, InferenceModelProvider::Proxy("local".to_owned()));
        let request =
            ResponsesRequest { model: "qwen3".to_owned(), input: "hi".into(), ..Default::default() };
        let result = client.responses().create_stream(request).await;
        let Ok(mut stream) = result else { panic!("{result:?}") };
        let mut kinds = Vec::new();
        while let Some(event) = stream.next().await {
            match event {
                Ok(ResponsesStreamEvent::Created(_)) => kinds.push("created"),
                Ok(ResponsesStreamEvent::OutputTextDelta(delta)) => {
                    kinds.push(if delta.delta == "Paris." { "delta" } else { "?" })
                }
                Ok(ResponsesStreamEvent::Completed(_)) => kinds.push("completed"),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(kinds, ["created", "delta", "completed"]);
        let body = server.requests()[0].json();
        assert_eq!(body, json!({"model": "qwen3", "input": "hi", "stream": true}));
        record_conformance("openai-responses", &body);
    }

    #[tokio::test]
    async fn other_providers_are_a_clear_invalid_request() {
        let server = MockServer::start().await;
        for (model, provider) in [("claude-sonnet-4-5", "anthropic"), ("gemini-2.5-flash", "gemini")] {
            let request =
                ResponsesRequest { model: model.to_owned(), input: "hi".into(), ..Default::default() };
            let result = VlloraLLMClient::new().responses().create(request.clone()).await;
            let Err(LLMError::InvalidRequest(message)) = result else { panic!("{result:?}") };
            assert!(message.contains(provider) && message.contains(model), "{message}");
            let streamed = VlloraLLMClient::new().responses().create_stream(request).await;
            assert!(matches!(streamed, Err(LLMError::InvalidRequest(_))), "{streamed:?}");
        }
        let unknown = ResponsesRequest { model: "mystery-model".to_owned(), ..Default::default() };
        let result = VlloraLLMClient::new().responses().create(unknown).await;
        assert!(matches!(result, Err(LLMError::Config(_))), "{result:?}");
        assert!(server.requests().is_empty());
    }

    #[tokio::test]
    async fn a_fixed_instance_does_not_serve_responses() {
        let instance: Arc<Box<dyn vllora_llm_core::ModelInstance>> =
            Arc::new(Box::new(vllora_llm_core::model::DummyModelInstance {}));
        let client = VlloraLLMClient::new_with_instance(instance);
        let request =
            ResponsesRequest { model: "gpt-4.1".to_owned(), input: "hi".into(), ..Default::default() };
        let result = client.responses().create(request).await;
        assert!(
            matches!(&result, Err(LLMError::InvalidRequest(message)) if message.contains("new_with_instance")),
            "{result:?}"
        );
    }

    /// A span's name and the fields it was opened or recorded with.
    type CapturedSpan = (String, BTreeMap<String, String>);

    /// Every span opened while it is the default subscriber: a subscriber of our own.
    #[derive(Clone, Default)]
    struct Capture(Arc<Mutex<Vec<CapturedSpan>>>);

    struct Fields<'a>(&'a mut BTreeMap<String, String>);

    impl tracing::field::Visit for Fields<'_> {
        fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn fmt::Debug) {
            self.0.insert(field.name().to_owned(), format!("{value:?}"));
        }
        fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
            self.0.insert(field.name().to_owned(), value.to_owned());
        }
    }

    impl tracing::Subscriber for Capture {
        fn enabled(&self, _metadata: &tracing::Metadata<'_>) -> bool {
            true
        }
        fn new_span(&self, attributes: &tracing::span::Attributes<'_>) -> tracing::span::Id {
            let mut fields = BTreeMap::new();
            attributes.record(&mut Fields(&mut fields));
            let Ok(mut spans) = self.0.lock() else { panic!("poisoned") };
            spans.push((attributes.metadata().name().to_owned(), fields));
            tracing::span::Id::from_u64(spans.len() as u64)
        }
        fn record(&self, span: &tracing::span::Id, values: &tracing::span::Record<'_>) {
            let Ok(mut spans) = self.0.lock() else { panic!("poisoned") };
            if let Some((_, fields)) =
                usize::try_from(span.into_u64() - 1).ok().and_then(|at| spans.get_mut(at))
            {
                values.record(&mut Fields(fields));
            }
        }
        fn record_follows_from(&self, _span: &tracing::span::Id, _follows: &tracing::span::Id) {}
        fn event(&self, _event: &tracing::Event<'_>) {}
        fn enter(&self, _span: &tracing::span::Id) {}
        fn exit(&self, _span: &tracing::span::Id) {}
    }

    #[tokio::test]
    async fn the_span_carries_the_genai_fields() {
        let capture = Capture::default();
        let _guard = tracing::subscriber::set_default(capture.clone());
        let server = MockServer::start().await;
        server.respond("POST", "/v1/responses", MockResponse::json(200, completed_response()));
        let request = ResponsesRequest {
            model: "gpt-4.1-mini".to_owned(),
            input: "Capital of France?".into(),
            max_output_tokens: Some(16),
            temperature: Some(0.25),
            ..Default::default()
        };
        let client = client(&server, InferenceModelProvider::OpenAI).with_content_recording(true);
        let result = client.responses().create(request).await;
        assert!(result.is_ok(), "{result:?}");
        let Ok(spans) = capture.0.lock() else { panic!("poisoned") };
        let Some((_, fields)) = spans.iter().find(|(name, _)| name == "responses") else {
            panic!("{spans:?}")
        };
        let field = |name: &str| fields.get(name).map(String::as_str);
        assert_eq!(field("otel.name"), Some("responses gpt-4.1-mini"));
        assert_eq!(field("gen_ai.operation.name"), Some("responses"));
        assert_eq!(field("gen_ai.provider.name"), Some("openai"));
        assert_eq!(field("gen_ai.request.max_tokens"), Some("16"));
        assert_eq!(field("gen_ai.request.temperature"), Some("0.25"));
        assert_eq!(field("gen_ai.response.id"), Some("resp_abc"));
        assert_eq!(field("gen_ai.response.model"), Some("gpt-4.1-mini-2025-04-14"));
        assert_eq!(field("gen_ai.response.finish_reasons"), Some(r#"["completed"]"#));
        assert_eq!(field("gen_ai.usage.input_tokens"), Some("12"));
        assert_eq!(field("gen_ai.usage.output_tokens"), Some("2"));
        assert_eq!(field("gen_ai.input.messages"), Some(r#""Capital of France?""#));
        assert!(field("gen_ai.output.messages").is_some_and(|output| output.contains("Paris.")));
        assert_eq!(field("error.type"), None);
    }
}
