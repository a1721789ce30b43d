//! The Responses API through the client against a loopback server: routing (OpenAI, a proxy, other
//! providers refused), every streamed event passed through, and the `responses` span.

#![allow(clippy::panic, reason = "a test fails by panicking")]
#![cfg(feature = "openai")]

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use serde_json::json;
use vllora_llm::client::{DummyModelInstance, InferenceModelProvider, ModelInstance, VlloraLLMClient};
use vllora_llm::error::LLMError;
use vllora_llm::openai::{ResponsesRequest, ResponsesStreamEvent};
use vllora_llm::types::Credentials;
use vllora_llm_testkit::{MockResponse, MockServer, record_conformance};

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
    vllora_llm_testkit::open_tracing_interest();
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
    vllora_llm_testkit::open_tracing_interest();
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
    let request = ResponsesRequest { model: "qwen3".to_owned(), input: "hi".into(), ..Default::default() };
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
    vllora_llm_testkit::open_tracing_interest();
    let server = MockServer::start().await;
    for (model, provider) in [("claude-sonnet-4-5", "anthropic"), ("gemini-2.5-flash", "gemini")] {
        let request = ResponsesRequest { model: model.to_owned(), input: "hi".into(), ..Default::default() };
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
    vllora_llm_testkit::open_tracing_interest();
    let instance: Arc<Box<dyn ModelInstance>> = Arc::new(Box::new(DummyModelInstance {}));
    let client = VlloraLLMClient::new_with_instance(instance);
    let request = ResponsesRequest { model: "gpt-4.1".to_owned(), input: "hi".into(), ..Default::default() };
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
        if let Some((_, fields)) = usize::try_from(span.into_u64() - 1).ok().and_then(|at| spans.get_mut(at))
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
    vllora_llm_testkit::open_tracing_interest();
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
    let Some((_, fields)) = spans.iter().find(|(name, _)| name == "responses") else { panic!("{spans:?}") };
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
