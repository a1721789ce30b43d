//! Embeddings and image generation through the client against a loopback server: routing by model
//! name, a proxy's own model name, the `embeddings` and `image_generation` spans, and errors.

#![allow(clippy::unwrap_used, clippy::panic, reason = "tests fail by panicking")]
#![cfg(feature = "openai")]

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::json;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};
use vllora_llm::types::gateway::{EmbeddingRequest, ImageGenerationRequest};
use vllora_llm::error::LLMError;
use vllora_llm::types::Credentials;
use vllora_llm_testkit::{MockResponse, MockServer, record_conformance};

use vllora_llm::client::{InferenceModelProvider, VlloraLLMClient};

const KEY: &str = "sk-facade-embeddings-secret";

fn client(server: &MockServer) -> VlloraLLMClient {
    VlloraLLMClient::new()
        .with_credentials(Credentials::api_key(KEY))
        .with_inference_endpoint(format!("{}/v1", server.url()))
}

fn embedding_answer() -> serde_json::Value {
    json!({
        "object": "list",
        "data": [
            {"object": "embedding", "index": 0, "embedding": [0.5, -0.25, 0.125]},
            {"object": "embedding", "index": 1, "embedding": [0.75, 0.0, -1.5]}
        ],
        "model": "text-embedding-3-small",
        "usage": {"prompt_tokens": 5, "total_tokens": 5}
    })
}

/// A span's name and fields.
type CapturedSpan = (String, BTreeMap<String, String>);

/// Spans by id, captured by a minimal subscriber.
#[derive(Clone, Default)]
struct Capture(Arc<(Mutex<BTreeMap<u64, CapturedSpan>>, AtomicU64)>);

struct Fields<'a>(&'a mut BTreeMap<String, String>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
}

impl Subscriber for Capture {
    fn enabled(&self, _metadata: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, attributes: &Attributes<'_>) -> Id {
        let id = self.0.1.fetch_add(1, Ordering::SeqCst) + 1;
        let mut fields = BTreeMap::new();
        attributes.record(&mut Fields(&mut fields));
        self.0.0.lock().unwrap().insert(id, (attributes.metadata().name().to_owned(), fields));
        Id::from_u64(id)
    }
    fn record(&self, span: &Id, values: &Record<'_>) {
        if let Some((_, fields)) = self.0.0.lock().unwrap().get_mut(&span.into_u64()) {
            values.record(&mut Fields(fields));
        }
    }
    fn record_follows_from(&self, _span: &Id, _follows: &Id) {}
    fn event(&self, _event: &Event<'_>) {}
    fn enter(&self, _span: &Id) {}
    fn exit(&self, _span: &Id) {}
}

impl Capture {
    fn span(&self, name: &str) -> BTreeMap<String, String> {
        let spans = self.0.0.lock().unwrap();
        let found = spans.values().find(|(span_name, _)| span_name == name);
        found.map(|(_, fields)| fields.clone()).unwrap_or_else(|| panic!("no `{name}` span"))
    }
}

#[tokio::test]
async fn embeddings_are_routed_by_model_name_and_traced() {
    vllora_llm_testkit::open_tracing_interest();
    let capture = Capture::default();
    let _guard = tracing::subscriber::set_default(capture.clone());
    let server = MockServer::start().await;
    server.respond("POST", "/v1/embeddings", MockResponse::json(200, embedding_answer()));

    let request = EmbeddingRequest::new("text-embedding-3-small", vec!["first", "second"]);
    let response = client(&server).embeddings().create(request).await.unwrap();

    let sent = server.requests().remove(0);
    assert_eq!(sent.path, "/v1/embeddings");
    assert_eq!(sent.header("authorization"), Some(format!("Bearer {KEY}").as_str()));
    let body = sent.json();
    record_conformance("openai-embeddings", &body);
    assert_eq!(body, json!({"model": "text-embedding-3-small", "input": ["first", "second"]}));
    assert_eq!(serde_json::to_value(&response).ok(), Some(embedding_answer()));

    let span = capture.span("embeddings");
    assert_eq!(span.get("otel.name").map(String::as_str), Some("embeddings text-embedding-3-small"));
    assert_eq!(span.get("gen_ai.operation.name").map(String::as_str), Some("embeddings"));
    assert_eq!(span.get("gen_ai.provider.name").map(String::as_str), Some("openai"));
    assert_eq!(span.get("gen_ai.request.model").map(String::as_str), Some("text-embedding-3-small"));
    assert_eq!(span.get("gen_ai.response.model").map(String::as_str), Some("text-embedding-3-small"));
    assert_eq!(span.get("gen_ai.usage.input_tokens").map(String::as_str), Some("5"));
    assert_eq!(span.get("gen_ai.embeddings.dimension.count").map(String::as_str), Some("3"));
    assert!(!format!("{span:?}").contains(KEY));
}

#[tokio::test]
async fn a_proxy_gets_its_own_model_name_and_errors_are_traced() {
    vllora_llm_testkit::open_tracing_interest();
    let capture = Capture::default();
    let _guard = tracing::subscriber::set_default(capture.clone());
    let server = MockServer::start().await;
    let not_supported = json!({"error": {"code": 501, "message": "This server does not support embeddings. Start it with `--embeddings`", "type": "not_supported_error"}});
    server.respond("POST", "/v1/embeddings", MockResponse::json(501, not_supported));
    let proxy = VlloraLLMClient::new()
        .with_model_provider(InferenceModelProvider::Proxy("local".to_owned()))
        .with_inference_endpoint(format!("{}/v1", server.url()));

    let result = proxy.embeddings().create(EmbeddingRequest::new("local/nomic-embed-text", "hello")).await;

    assert_eq!(result.as_ref().err().and_then(LLMError::status), Some(501));
    let sent = server.requests().remove(0);
    assert_eq!(sent.header("authorization"), None);
    let body = sent.json();
    record_conformance("openai-embeddings", &body);
    assert_eq!(body, json!({"model": "nomic-embed-text", "input": "hello"}));
    let span = capture.span("embeddings");
    assert_eq!(span.get("gen_ai.provider.name").map(String::as_str), Some("local"));
    assert_eq!(span.get("error.type").map(String::as_str), Some("not_supported_error"));
    assert_eq!(span.get("otel.status_code").map(String::as_str), Some("ERROR"));
}

#[tokio::test]
async fn images_are_routed_and_traced() {
    vllora_llm_testkit::open_tracing_interest();
    let capture = Capture::default();
    let _guard = tracing::subscriber::set_default(capture.clone());
    let server = MockServer::start().await;
    let answer = json!({
        "created": 1745432100,
        "data": [{"b64_json": "iVBORw0KGgo="}],
        "usage": {"input_tokens": 12, "output_tokens": 272, "total_tokens": 284,
                  "input_tokens_details": {"text_tokens": 12, "image_tokens": 0}}
    });
    server.respond("POST", "/v1/images/generations", MockResponse::json(200, answer.clone()));
    let request =
        ImageGenerationRequest { n: Some(1), ..ImageGenerationRequest::new("gpt-image-1", "A fox") };

    let response = client(&server).images().generate(request).await.unwrap();

    let body = server.requests().remove(0).json();
    record_conformance("openai-images", &body);
    assert_eq!(body, json!({"prompt": "A fox", "model": "gpt-image-1", "n": 1}));
    assert_eq!(serde_json::to_value(&response).ok(), Some(answer));
    let span = capture.span("image_generation");
    assert_eq!(span.get("gen_ai.operation.name").map(String::as_str), Some("image_generation"));
    assert_eq!(span.get("gen_ai.request.model").map(String::as_str), Some("gpt-image-1"));
    assert_eq!(span.get("gen_ai.request.choice.count").map(String::as_str), Some("1"));
    assert_eq!(span.get("gen_ai.usage.input_tokens").map(String::as_str), Some("12"));
    assert_eq!(span.get("gen_ai.usage.output_tokens").map(String::as_str), Some("272"));
}

#[tokio::test]
async fn an_image_request_without_a_model_needs_a_provider() {
    vllora_llm_testkit::open_tracing_interest();
    let server = MockServer::start().await;
    let answer = json!({"created": 1, "data": [{"url": "https://example.com/a.png"}]});
    server.respond("POST", "/v1/images/generations", MockResponse::json(200, answer));
    let request = ImageGenerationRequest { prompt: "A fox".to_owned(), ..Default::default() };

    let refused = client(&server).images().generate(request.clone()).await;
    assert!(matches!(&refused, Err(LLMError::InvalidRequest(message)) if message.contains("model")));
    assert!(server.requests().is_empty());

    let explicit = client(&server).with_model_provider(InferenceModelProvider::OpenAI);
    let response = explicit.images().generate(request).await.unwrap();
    let body = server.requests().remove(0).json();
    record_conformance("openai-images", &body);
    assert_eq!(body, json!({"prompt": "A fox"}), "no model: the server's default");
    assert_eq!(response.data.len(), 1);
}

#[cfg(feature = "gemini")]
#[tokio::test]
async fn gemini_embedding_models_go_to_gemini() {
    vllora_llm_testkit::open_tracing_interest();
    let capture = Capture::default();
    let _guard = tracing::subscriber::set_default(capture.clone());
    let server = MockServer::start().await;
    let answer = json!({"embeddings": [{"values": [0.5, -0.5]}]});
    let path = "/v1beta/models/gemini-embedding-001:batchEmbedContents";
    server.respond("POST", path, MockResponse::json(200, answer));
    let client = VlloraLLMClient::new()
        .with_credentials(Credentials::api_key(KEY))
        .with_inference_endpoint(server.url());

    let response =
        client.embeddings().create(EmbeddingRequest::new("gemini-embedding-001", "hello")).await.unwrap();

    let sent = server.requests().remove(0);
    assert_eq!(sent.path, path);
    assert_eq!(sent.header("x-goog-api-key"), Some(KEY));
    assert_eq!(response.data.first().and_then(|item| item.embedding.to_floats()), Some(vec![0.5, -0.5]));
    let span = capture.span("embeddings");
    assert_eq!(span.get("gen_ai.provider.name").map(String::as_str), Some("gcp.gemini"));
    assert_eq!(span.get("gen_ai.embeddings.dimension.count").map(String::as_str), Some("2"));
}

#[cfg(feature = "anthropic")]
#[tokio::test]
async fn providers_without_embeddings_say_so_and_unknown_models_are_config_errors() {
    vllora_llm_testkit::open_tracing_interest();
    let server = MockServer::start().await;
    let anthropic =
        client(&server).embeddings().create(EmbeddingRequest::new("claude-sonnet-4-5", "x")).await;
    let message = anthropic.err().map(|error| error.to_string()).unwrap_or_default();
    assert!(message.contains("`anthropic` offers no embeddings"), "{message}");
    let unknown = client(&server).embeddings().create(EmbeddingRequest::new("nomic-embed-text", "x")).await;
    assert!(matches!(unknown, Err(LLMError::Config(message)) if message.contains("nomic-embed-text")));
    assert!(server.requests().is_empty());
}
