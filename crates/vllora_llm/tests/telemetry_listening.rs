//! A call records only what something listens to. With a subscriber that takes the metric events and
//! nothing else (what `tracing-opentelemetry`'s `MetricsLayer` filter accepts: events with a
//! `histogram.` field), the chat span is disabled, yet every call still ends with its duration metric
//! naming the server it reached, one-shot and streamed. With no subscriber at all, calls answer the same.

#![cfg(feature = "openai")]
#![allow(clippy::unwrap_used, clippy::panic, reason = "a test fails by panicking")]

use std::sync::{Arc, Mutex};

use serde_json::json;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};
use vllora_llm::client::VlloraLLMClient;
use vllora_llm::types::gateway::{ChatCompletionMessage, ChatCompletionRequest};
use vllora_llm_testkit::{MockResponse, MockServer};

/// An event's fields, as text.
type EventFields = Vec<(String, String)>;

/// Takes events with a `histogram.` field, as `MetricsLayer`'s filter does; every span is disabled.
#[derive(Clone, Default)]
struct MetricsOnly(Arc<Mutex<Vec<EventFields>>>);

fn is_metric(metadata: &Metadata<'_>) -> bool {
    metadata.is_event() && metadata.fields().iter().any(|field| field.name().starts_with("histogram."))
}

struct Fields<'a>(&'a mut Vec<(String, String)>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.push((field.name().to_owned(), format!("{value:?}")));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.push((field.name().to_owned(), value.to_owned()));
    }
}

impl Subscriber for MetricsOnly {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        is_metric(metadata)
    }
    fn new_span(&self, _attributes: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _span: &Id, _values: &Record<'_>) {}
    fn record_follows_from(&self, _span: &Id, _follows: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut fields = Vec::new();
        event.record(&mut Fields(&mut fields));
        self.0.lock().unwrap().push(fields);
    }
    fn enter(&self, _span: &Id) {}
    fn exit(&self, _span: &Id) {}
}

impl MetricsOnly {
    /// The fields of the duration metric events, as text.
    fn durations(&self) -> Vec<EventFields> {
        let events = self.0.lock().unwrap();
        let is_duration = |fields: &&EventFields| {
            fields.iter().any(|(name, _)| name == "histogram.gen_ai.client.operation.duration")
        };
        events.iter().filter(is_duration).cloned().collect()
    }
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields.iter().find(|(known, _)| known == name).map(|(_, value)| value.as_str())
}

fn request() -> ChatCompletionRequest {
    ChatCompletionRequest {
        model: "openai/gpt-4.1-mini".into(),
        messages: vec![ChatCompletionMessage::new_text("user", "Hi")],
        ..Default::default()
    }
}

async fn server() -> MockServer {
    server_again(MockServer::start().await)
}

/// Scripts a one-shot answer and a stream, in that order.
fn server_again(server: MockServer) -> MockServer {
    let answer = json!({"id": "c1", "object": "chat.completion", "created": 1, "model": "gpt-4.1-mini",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}});
    server.respond("POST", "/v1/chat/completions", MockResponse::json(200, answer));
    server.respond(
        "POST",
        "/v1/chat/completions",
        MockResponse::sse([
            "data: {\"id\":\"c2\",\"model\":\"gpt-4.1-mini\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"},\"finish_reason\":\"stop\"}]}\n\n",
            "data: [DONE]\n\n",
        ]),
    );
    server
}

fn client(server: &MockServer) -> VlloraLLMClient {
    VlloraLLMClient::new()
        .with_credentials(vllora_llm::types::Credentials::api_key("sk-test"))
        .with_inference_endpoint(format!("{}/v1", server.url()))
}

/// Reads a stream to its end; returns the text it carried.
async fn read_stream(client: &VlloraLLMClient) -> String {
    let mut stream =
        client.completions().create_stream(request()).await.unwrap_or_else(|error| panic!("{error}"));
    let mut text = String::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.unwrap_or_else(|error| panic!("{error}"));
        for choice in &chunk.choices {
            text.push_str(choice.delta.content.as_deref().unwrap_or_default());
        }
    }
    text
}

/// One test, not two: `tracing` caches each callsite's interest process-wide, so a test without a
/// subscriber running beside one with a scoped subscriber could race on that cache.
#[tokio::test]
async fn calls_answer_the_same_without_a_subscriber_and_metrics_alone_still_name_the_server() {
    let server = server().await;
    let client = client(&server);

    // No subscriber: nothing records, the answers are the same.
    let answer = client.completions().create(request()).await.unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(answer.message().content.as_ref().and_then(|content| content.as_str()), Some("Hello"));
    assert_eq!(answer.usage().map(|usage| usage.completion_tokens), Some(1));
    assert_eq!(read_stream(&client).await, "Hi");

    // A subscriber taking the metric events alone: the span is disabled, the metrics are complete.
    let server = server_again(server);
    let metrics = MetricsOnly::default();
    let _guard = tracing::subscriber::set_default(metrics.clone());
    let answer = client.completions().create(request()).await.unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(answer.message().content.as_ref().and_then(|content| content.as_str()), Some("Hello"));
    assert_eq!(read_stream(&client).await, "Hi");
    assert_eq!(server.requests().len(), 4);

    let durations = metrics.durations();
    assert_eq!(durations.len(), 2, "one duration per call: {durations:?}");
    let port = server.url().rsplit(':').next().unwrap_or_default().to_owned();
    for fields in &durations {
        assert_eq!(field(fields, "gen_ai.operation.name"), Some("chat"), "{fields:?}");
        assert_eq!(field(fields, "gen_ai.provider.name"), Some("openai"), "{fields:?}");
        assert_eq!(field(fields, "gen_ai.request.model"), Some("openai/gpt-4.1-mini"), "{fields:?}");
        assert_eq!(field(fields, "gen_ai.response.model"), Some("gpt-4.1-mini"), "{fields:?}");
        assert_eq!(field(fields, "server.address"), Some("127.0.0.1"), "{fields:?}");
        assert_eq!(field(fields, "server.port"), Some(port.as_str()), "{fields:?}");
    }
}
