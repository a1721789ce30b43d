//! The `chat` span every call opens (its OpenTelemetry GenAI fields, the first-token event of streams,
//! prompt/completion text only when the caller opts in) and the metric events every call ends with, in
//! the shape `tracing-opentelemetry`'s `MetricsLayer` turns into histograms (a `histogram.` prefix, the
//! value's type deciding between `u64` and `f64` histograms, every other field an attribute). Captured
//! with a small subscriber of our own; the OTLP end-to-end check (`cargo xtask otlp`) exports the same
//! events through the real bridge.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};
use vllora_llm::client::{DummyModelInstance, ModelInstance, VlloraLLMClient};
use vllora_llm::error::{LLMError, LLMResult};
use vllora_llm::client::BoxFuture;
use vllora_llm::types::gateway::{
    ChatCompletionMessage, ChatCompletionMessageWithFinishReason, ChatCompletionRequest,
};

/// A field as the subscriber saw it: its value as text and which `record_*` method carried it.
#[derive(Debug, Clone, PartialEq)]
struct Value {
    text: String,
    kind: &'static str,
}

type Fields = BTreeMap<String, Value>;

#[derive(Debug, Default, Clone)]
struct CapturedSpan {
    name: String,
    fields: Fields,
}

#[derive(Debug, Default, Clone)]
struct CapturedEvent {
    name: String,
    target: String,
    /// The explicit or contextual parent span; `None` for root events.
    parent: Option<u64>,
    fields: Fields,
}

impl CapturedEvent {
    fn text(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(|value| value.text.as_str())
    }
    fn kind(&self, name: &str) -> Option<&'static str> {
        self.fields.get(name).map(|value| value.kind)
    }
}

#[derive(Default)]
struct Captured {
    spans: Mutex<BTreeMap<u64, CapturedSpan>>,
    events: Mutex<Vec<CapturedEvent>>,
    stack: Mutex<Vec<u64>>,
    next_id: AtomicU64,
}

#[derive(Clone, Default)]
struct Capture(Arc<Captured>);

struct FieldVisitor<'a>(&'a mut Fields);

impl FieldVisitor<'_> {
    fn put(&mut self, field: &Field, text: String, kind: &'static str) {
        self.0.insert(field.name().to_owned(), Value { text, kind });
    }
}

impl Visit for FieldVisitor<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.put(field, format!("{value:?}"), "debug");
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, value.to_owned(), "str");
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, value.to_string(), "u64");
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, value.to_string(), "i64");
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, value.to_string(), "f64");
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, value.to_string(), "bool");
    }
}

impl Subscriber for Capture {
    fn enabled(&self, _metadata: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, attributes: &Attributes<'_>) -> Id {
        let id = self.0.next_id.fetch_add(1, Ordering::SeqCst) + 1;
        let mut span = CapturedSpan { name: attributes.metadata().name().to_owned(), ..Default::default() };
        attributes.record(&mut FieldVisitor(&mut span.fields));
        self.0.spans.lock().unwrap().insert(id, span);
        Id::from_u64(id)
    }
    fn record(&self, span: &Id, values: &Record<'_>) {
        if let Some(span) = self.0.spans.lock().unwrap().get_mut(&span.into_u64()) {
            values.record(&mut FieldVisitor(&mut span.fields));
        }
    }
    fn record_follows_from(&self, _span: &Id, _follows: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let parent = if event.is_root() {
            None
        } else {
            event.parent().map(Id::into_u64).or_else(|| self.0.stack.lock().unwrap().last().copied())
        };
        let metadata = event.metadata();
        let mut captured = CapturedEvent {
            name: metadata.name().to_owned(),
            target: metadata.target().to_owned(),
            parent,
            ..Default::default()
        };
        event.record(&mut FieldVisitor(&mut captured.fields));
        self.0.events.lock().unwrap().push(captured);
    }
    fn enter(&self, span: &Id) {
        self.0.stack.lock().unwrap().push(span.into_u64());
    }
    fn exit(&self, _span: &Id) {
        self.0.stack.lock().unwrap().pop();
    }
}

impl Capture {
    fn chat_spans(&self) -> Vec<CapturedSpan> {
        self.0.spans.lock().unwrap().values().filter(|span| span.name == "chat").cloned().collect()
    }
    fn events(&self) -> Vec<CapturedEvent> {
        self.0.events.lock().unwrap().clone()
    }
    /// The metric events carrying `histogram.{metric}`.
    fn metric(&self, metric: &str) -> Vec<CapturedEvent> {
        let field = format!("histogram.{metric}");
        self.events().into_iter().filter(|event| event.fields.contains_key(&field)).collect()
    }
}

fn span_field<'a>(span: &'a CapturedSpan, name: &str) -> Option<&'a str> {
    span.fields.get(name).map(|value| value.text.as_str())
}

fn dummy_client() -> VlloraLLMClient {
    let instance: Arc<Box<dyn ModelInstance>> = Arc::new(Box::new(DummyModelInstance {}));
    VlloraLLMClient::new_with_instance(instance)
}

fn request() -> ChatCompletionRequest {
    ChatCompletionRequest {
        model: "gpt-4.1-mini".into(),
        messages: vec![ChatCompletionMessage::new_text("user", "secret prompt words")],
        max_tokens: Some(50),
        temperature: Some(0.25),
        ..Default::default()
    }
}

/// Asserts the attributes every metric event carries for a dummy call, and that it is a root event of
/// the metrics target (so a bridge exports it and no span collects it as a span event).
fn assert_dummy_metric_attributes(event: &CapturedEvent) {
    assert_eq!(event.target, "vllora_llm::metrics", "{event:?}");
    assert_eq!(event.parent, None, "metric events have no parent span: {event:?}");
    assert_eq!(event.text("gen_ai.operation.name"), Some("chat"));
    assert_eq!(event.text("gen_ai.provider.name"), Some("dummy"));
    assert_eq!(event.text("gen_ai.request.model"), Some("gpt-4.1-mini"));
    assert_eq!(event.text("gen_ai.response.model"), Some("gpt-4.1-mini"));
    assert!(!event.fields.contains_key("message"), "no message: it would become an attribute: {event:?}");
    assert!(event.fields.values().all(|value| !value.text.contains("secret prompt words")));
}

#[tokio::test]
async fn a_one_shot_call_records_the_genai_fields_and_no_content() {
    vllora_llm_testkit::open_tracing_interest();
    let capture = Capture::default();
    let _guard = tracing::subscriber::set_default(capture.clone());
    let response = dummy_client().completions().create(request()).await.unwrap();
    assert_eq!(response.id(), "chatcmpl-dummy");

    let spans = capture.chat_spans();
    assert_eq!(spans.len(), 1);
    let field = |name: &str| span_field(&spans[0], name);
    assert_eq!(field("otel.name"), Some("chat gpt-4.1-mini"));
    assert_eq!(field("gen_ai.operation.name"), Some("chat"));
    assert_eq!(field("gen_ai.provider.name"), Some("dummy"));
    assert_eq!(field("gen_ai.request.model"), Some("gpt-4.1-mini"));
    assert_eq!(field("gen_ai.request.max_tokens"), Some("50"));
    assert_eq!(field("gen_ai.request.temperature"), Some("0.25"));
    assert_eq!(field("gen_ai.response.id"), Some("chatcmpl-dummy"));
    assert_eq!(field("gen_ai.response.model"), Some("gpt-4.1-mini"));
    assert_eq!(field("gen_ai.response.finish_reasons"), Some(r#"["stop"]"#));
    assert_eq!(field("gen_ai.usage.input_tokens"), Some("3"));
    assert_eq!(field("gen_ai.usage.output_tokens"), Some("8"));
    assert_eq!(field("gen_ai.request.stream"), Some("false"));
    // Integers as i64: tracing-opentelemetry makes integer attributes of those (and strings of u64).
    for integer in ["gen_ai.request.max_tokens", "gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens"] {
        assert_eq!(spans[0].fields.get(integer).map(|value| value.kind), Some("i64"), "{integer}");
    }
    // No HTTP request was sent, so no server; no failure, so no error type.
    assert_eq!(field("server.address"), None);
    assert_eq!(field("error.type"), None);
    assert!(spans[0].fields.values().all(|value| !value.text.contains("secret prompt words")));
}

#[tokio::test]
async fn a_one_shot_call_ends_with_duration_and_token_usage_metrics() {
    vllora_llm_testkit::open_tracing_interest();
    let capture = Capture::default();
    let _guard = tracing::subscriber::set_default(capture.clone());
    dummy_client().completions().create(request()).await.unwrap();

    let durations = capture.metric("gen_ai.client.operation.duration");
    assert_eq!(durations.len(), 1, "{:?}", capture.events());
    let duration = &durations[0];
    assert_dummy_metric_attributes(duration);
    assert_eq!(duration.kind("histogram.gen_ai.client.operation.duration"), Some("f64"));
    let seconds: f64 = duration.text("histogram.gen_ai.client.operation.duration").unwrap().parse().unwrap();
    assert!((0.0..10.0).contains(&seconds), "{seconds}");
    assert_eq!(duration.text("error.type"), None);

    let usage = capture.metric("gen_ai.client.token.usage");
    let by_type: BTreeMap<&str, &str> = usage
        .iter()
        .map(|event| {
            assert_dummy_metric_attributes(event);
            assert_eq!(event.kind("histogram.gen_ai.client.token.usage"), Some("u64"), "integer histogram");
            (
                event.text("gen_ai.token.type").unwrap(),
                event.text("histogram.gen_ai.client.token.usage").unwrap(),
            )
        })
        .collect();
    assert_eq!(by_type, BTreeMap::from([("input", "3"), ("output", "8")]));
    // A one-shot call has no time to first chunk.
    assert!(capture.metric("gen_ai.client.operation.time_to_first_chunk").is_empty());
}

#[tokio::test]
async fn content_is_recorded_only_when_asked_for() {
    vllora_llm_testkit::open_tracing_interest();
    let capture = Capture::default();
    let _guard = tracing::subscriber::set_default(capture.clone());
    let client = dummy_client().with_content_recording(true);
    client.completions().create(request()).await.unwrap();
    let spans = capture.chat_spans();
    let input = span_field(&spans[0], "gen_ai.input.messages").unwrap_or_default();
    let output = span_field(&spans[0], "gen_ai.output.messages").unwrap_or_default();
    assert!(input.contains("secret prompt words"), "{input}");
    assert!(output.contains("You said: secret prompt words"), "{output}");
}

#[tokio::test]
async fn a_stream_records_first_token_usage_and_finish_reason_when_it_ends() {
    vllora_llm_testkit::open_tracing_interest();
    let capture = Capture::default();
    let _guard = tracing::subscriber::set_default(capture.clone());
    let mut stream = dummy_client().completions().create_stream(request()).await.unwrap();
    let mut text = String::new();
    while let Some(chunk) = stream.next().await {
        for choice in chunk.unwrap().choices {
            text.push_str(&choice.delta.content.unwrap_or_default());
        }
    }
    assert_eq!(text, "Hello from DummyModelInstance! You said: secret prompt words");
    let spans = capture.chat_spans();
    assert_eq!(spans.len(), 1);
    assert_eq!(span_field(&spans[0], "gen_ai.response.finish_reasons"), Some(r#"["stop"]"#));
    assert_eq!(span_field(&spans[0], "gen_ai.usage.output_tokens"), Some("8"));
    assert_eq!(span_field(&spans[0], "gen_ai.request.stream"), Some("true"));
    assert_eq!(
        spans[0].fields.get("gen_ai.response.time_to_first_chunk").map(|value| value.kind),
        Some("f64")
    );
    let first_tokens: Vec<_> =
        capture.events().into_iter().filter(|event| event.name == "gen_ai.first_token").collect();
    assert_eq!(first_tokens.len(), 1, "exactly one first-token event");
    assert_eq!(first_tokens[0].parent, Some(1));
    assert!(first_tokens[0].fields.contains_key("gen_ai.response.time_to_first_chunk"));

    let first_chunk = capture.metric("gen_ai.client.operation.time_to_first_chunk");
    assert_eq!(first_chunk.len(), 1);
    assert_dummy_metric_attributes(&first_chunk[0]);
    assert_eq!(first_chunk[0].kind("histogram.gen_ai.client.operation.time_to_first_chunk"), Some("f64"));
    let durations = capture.metric("gen_ai.client.operation.duration");
    assert_eq!(durations.len(), 1, "one duration, when the stream ends");
    assert_dummy_metric_attributes(&durations[0]);
    let first: f64 = first_chunk[0]
        .text("histogram.gen_ai.client.operation.time_to_first_chunk")
        .unwrap()
        .parse()
        .unwrap();
    let whole: f64 =
        durations[0].text("histogram.gen_ai.client.operation.duration").unwrap().parse().unwrap();
    assert!(first <= whole, "first chunk {first} s within the whole {whole} s");
    let usage: Vec<_> = capture
        .metric("gen_ai.client.token.usage")
        .iter()
        .map(|event| {
            (
                event.text("gen_ai.token.type").unwrap().to_owned(),
                event.text("histogram.gen_ai.client.token.usage").unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(usage, [("input".to_owned(), "3".to_owned()), ("output".to_owned(), "8".to_owned())]);
}

#[tokio::test]
async fn a_stream_dropped_before_its_end_is_a_cancelled_operation() {
    vllora_llm_testkit::open_tracing_interest();
    let capture = Capture::default();
    let _guard = tracing::subscriber::set_default(capture.clone());
    let mut stream = dummy_client().completions().create_stream(request()).await.unwrap();
    stream.next().await.unwrap().unwrap();
    assert!(capture.metric("gen_ai.client.operation.duration").is_empty(), "not over while it is read");
    drop(stream);

    let durations = capture.metric("gen_ai.client.operation.duration");
    assert_eq!(durations.len(), 1);
    assert_eq!(durations[0].text("error.type"), Some("cancelled"));
    let spans = capture.chat_spans();
    assert_eq!(span_field(&spans[0], "error.type"), Some("cancelled"));
    assert_eq!(span_field(&spans[0], "otel.status_code"), None, "the reader stopped: nothing failed");
}

/// A backend that fails every call with a rate limit, as a provider's 429 maps.
#[derive(Debug)]
struct RateLimited;

fn rate_limit() -> LLMError {
    let mut error = vllora_llm::error::ApiError::new("openai", Some(429), "slow down");
    error.error_type = Some("rate_limit_exceeded".to_owned());
    LLMError::from(error)
}

impl ModelInstance for RateLimited {
    fn complete<'a>(
        &'a self,
        _request: &'a ChatCompletionRequest,
        _options: &'a vllora_llm::client::CallOptions,
    ) -> BoxFuture<'a, LLMResult<ChatCompletionMessageWithFinishReason>> {
        Box::pin(async { Err(rate_limit()) })
    }
    fn stream<'a>(
        &'a self,
        _request: &'a ChatCompletionRequest,
        _options: &'a vllora_llm::client::CallOptions,
    ) -> BoxFuture<'a, LLMResult<vllora_llm::client::ResultStream>> {
        Box::pin(async { Err(rate_limit()) })
    }
    fn provider_name(&self) -> &str {
        "openai"
    }
}

#[tokio::test]
async fn a_failed_call_carries_its_error_type_on_the_span_and_the_duration() {
    vllora_llm_testkit::open_tracing_interest();
    let capture = Capture::default();
    let _guard = tracing::subscriber::set_default(capture.clone());
    let instance: Arc<Box<dyn ModelInstance>> = Arc::new(Box::new(RateLimited));
    let client = VlloraLLMClient::new_with_instance(instance);
    assert!(client.completions().create(request()).await.is_err());
    assert!(client.completions().create_stream(request()).await.is_err());

    for span in capture.chat_spans() {
        assert_eq!(span_field(&span, "error.type"), Some("rate_limit_exceeded"));
        assert_eq!(span_field(&span, "otel.status_code"), Some("ERROR"));
    }
    let durations = capture.metric("gen_ai.client.operation.duration");
    assert_eq!(durations.len(), 2, "one per call");
    for duration in &durations {
        assert_eq!(duration.text("error.type"), Some("rate_limit_exceeded"));
        assert_eq!(duration.text("gen_ai.provider.name"), Some("openai"));
        assert_eq!(duration.text("gen_ai.response.model"), None, "no response, no response model");
    }
    assert!(capture.metric("gen_ai.client.token.usage").is_empty(), "no usage reported, none invented");
}

#[cfg(feature = "openai")]
mod over_http {
    //! Through a real provider and the loopback server: the server the request went to, and cache
    //! token counts as the provider reported them.

    use serde_json::json;
    use vllora_llm::client::{InferenceModelProvider, VlloraLLMClient};
    use vllora_llm_testkit::{MockResponse, MockServer};

    use super::{Capture, request, span_field};

    #[tokio::test]
    async fn spans_and_metrics_name_the_server_and_the_cache_counts() {
        vllora_llm_testkit::open_tracing_interest();
        let capture = Capture::default();
        let _guard = tracing::subscriber::set_default(capture.clone());
        let server = MockServer::start().await;
        let answer = json!({
            "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "served-model",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "Paris."}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 120, "completion_tokens": 2, "total_tokens": 122,
                      "prompt_tokens_details": {"cached_tokens": 100},
                      "completion_tokens_details": {"reasoning_tokens": 1}}
        });
        server.respond("POST", "/v1/chat/completions", MockResponse::json(200, answer));
        let client = VlloraLLMClient::new()
            .with_model_provider(InferenceModelProvider::Proxy("local".to_owned()))
            .with_inference_endpoint(format!("{}/v1", server.url()));
        client.completions().create(request()).await.unwrap();

        let port = server.address().port().to_string();
        let spans = capture.chat_spans();
        assert_eq!(spans.len(), 1);
        assert_eq!(span_field(&spans[0], "server.address"), Some("127.0.0.1"));
        assert_eq!(span_field(&spans[0], "server.port"), Some(port.as_str()));
        assert_eq!(span_field(&spans[0], "gen_ai.response.model"), Some("served-model"));
        assert_eq!(span_field(&spans[0], "gen_ai.usage.input_tokens"), Some("120"));
        assert_eq!(span_field(&spans[0], "gen_ai.usage.cache_read.input_tokens"), Some("100"));
        assert_eq!(span_field(&spans[0], "gen_ai.usage.reasoning.output_tokens"), Some("1"));
        assert_eq!(span_field(&spans[0], "gen_ai.usage.cache_creation.input_tokens"), None, "not reported");

        let durations = capture.metric("gen_ai.client.operation.duration");
        assert_eq!(durations.len(), 1);
        assert_eq!(durations[0].text("server.address"), Some("127.0.0.1"));
        assert_eq!(durations[0].text("server.port"), Some(port.as_str()));
        assert_eq!(durations[0].kind("server.port"), Some("i64"), "an integer attribute");
        assert_eq!(durations[0].text("gen_ai.response.model"), Some("served-model"));
        let input = capture
            .metric("gen_ai.client.token.usage")
            .into_iter()
            .find(|event| event.text("gen_ai.token.type") == Some("input"))
            .unwrap();
        assert_eq!(input.text("histogram.gen_ai.client.token.usage"), Some("120"));
        assert_eq!(input.text("server.address"), Some("127.0.0.1"));
    }

    fn local(server: &MockServer) -> VlloraLLMClient {
        VlloraLLMClient::new()
            .with_model_provider(InferenceModelProvider::Proxy("local".to_owned()))
            .with_inference_endpoint(format!("{}/v1", server.url()))
    }

    #[tokio::test]
    async fn embeddings_end_with_a_duration_and_input_tokens_only() {
        vllora_llm_testkit::open_tracing_interest();
        let capture = Capture::default();
        let _guard = tracing::subscriber::set_default(capture.clone());
        let server = MockServer::start().await;
        let answer = json!({"object": "list", "model": "embedder",
                            "data": [{"object": "embedding", "index": 0, "embedding": [0.5, -0.25]}],
                            "usage": {"prompt_tokens": 4, "total_tokens": 4}});
        server.respond("POST", "/v1/embeddings", MockResponse::json(200, answer));
        let request = vllora_llm::types::gateway::EmbeddingRequest::new("embedder", vec!["one text"]);
        local(&server).embeddings().create(request).await.unwrap();

        let port = server.address().port().to_string();
        let durations = capture.metric("gen_ai.client.operation.duration");
        assert_eq!(durations.len(), 1);
        assert_eq!(durations[0].text("gen_ai.operation.name"), Some("embeddings"));
        assert_eq!(durations[0].text("server.port"), Some(port.as_str()));
        let usage = capture.metric("gen_ai.client.token.usage");
        assert_eq!(usage.len(), 1, "input tokens only: embeddings produce none");
        assert_eq!(usage[0].text("gen_ai.token.type"), Some("input"));
        assert_eq!(usage[0].text("histogram.gen_ai.client.token.usage"), Some("4"));
        let spans = capture.0.spans.lock().unwrap().values().cloned().collect::<Vec<_>>();
        let span = spans.iter().find(|span| span.name == "embeddings").unwrap();
        assert_eq!(span_field(span, "server.address"), Some("127.0.0.1"));
        assert_eq!(span.fields.get("gen_ai.usage.input_tokens").map(|value| value.kind), Some("i64"));
    }

    #[tokio::test]
    async fn a_streamed_response_ends_with_its_metrics_and_a_dropped_one_is_cancelled() {
        vllora_llm_testkit::open_tracing_interest();
        let capture = Capture::default();
        let _guard = tracing::subscriber::set_default(capture.clone());
        let server = MockServer::start().await;
        let completed = json!({"id": "resp_1", "object": "response", "created_at": 1, "status": "completed",
                               "model": "served", "output": [],
                               "usage": {"input_tokens": 12, "output_tokens": 2, "total_tokens": 14}});
        let events = [
            json!({"type": "response.created", "sequence_number": 0,
                   "response": {"id": "resp_1", "object": "response", "created_at": 1, "status": "in_progress",
                                "model": "served", "output": []}}),
            json!({"type": "response.output_text.delta", "item_id": "m", "output_index": 0, "content_index": 0,
                   "delta": "Paris.", "sequence_number": 1}),
            json!({"type": "response.completed", "sequence_number": 2, "response": completed}),
        ]
        .map(|event| format!("data: {event}\n\n"));
        server.respond_always("POST", "/v1/responses", MockResponse::sse(events));
        let request = vllora_llm::openai::ResponsesRequest {
            model: "asked".to_owned(),
            input: "hi".into(),
            ..Default::default()
        };
        let client = local(&server);
        let mut stream = client.responses().create_stream(request.clone()).await.unwrap();
        while let Some(event) = stream.next().await {
            event.unwrap();
        }
        drop(stream);
        let durations = capture.metric("gen_ai.client.operation.duration");
        assert_eq!(durations.len(), 1, "one duration, at the terminal event");
        assert_eq!(durations[0].text("gen_ai.operation.name"), Some("responses"));
        assert_eq!(durations[0].text("gen_ai.response.model"), Some("served"));
        assert_eq!(durations[0].text("error.type"), None);
        assert_eq!(capture.metric("gen_ai.client.operation.time_to_first_chunk").len(), 1);
        let tokens: Vec<_> = capture
            .metric("gen_ai.client.token.usage")
            .iter()
            .map(|event| event.text("histogram.gen_ai.client.token.usage").unwrap().to_owned())
            .collect();
        assert_eq!(tokens, ["12", "2"]);

        let mut stream = client.responses().create_stream(request).await.unwrap();
        stream.next().await.unwrap().unwrap();
        drop(stream);
        let durations = capture.metric("gen_ai.client.operation.duration");
        assert_eq!(durations.len(), 2);
        assert_eq!(durations[1].text("error.type"), Some("cancelled"));
    }
}
