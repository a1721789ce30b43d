//! The embeddings and image generation APIs of the client: [`EmbeddingsClient`] and [`ImagesClient`],
//! routed like chat, each call in its own `tracing` span with the OpenTelemetry GenAI fields that apply.

use std::fmt;
use std::sync::Arc;

use tracing::Span;
use tracing::field::Empty;
use vllora_llm_core::types::gateway::{
    EmbeddingRequest, EmbeddingResponse, EncodingFormat, ImageGenerationRequest, ImagesResponse,
};
use vllora_llm_core::{CallOptions, LLMError, LLMResult};

use crate::client::{self, Settings, VlloraLLMClient};
use crate::telemetry;

impl VlloraLLMClient {
    /// The embeddings API: `text-embedding-*` models go to OpenAI, `provider/model` to that provider (a
    /// named OpenAI-compatible proxy too), anything else to the provider set with `with_model_provider`.
    pub fn embeddings(&self) -> EmbeddingsClient {
        EmbeddingsClient { settings: Arc::clone(self.settings()) }
    }

    /// The image generation API: `gpt-image-*` and `dall-e-*` models go to OpenAI, other models route
    /// like chat.
    pub fn images(&self) -> ImagesClient {
        ImagesClient { settings: Arc::clone(self.settings()) }
    }
}

/// Embeddings: `client.embeddings().create(request)`.
#[derive(Clone)]
pub struct EmbeddingsClient {
    settings: Arc<Settings>,
}

impl fmt::Debug for EmbeddingsClient {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.debug_struct("EmbeddingsClient").finish_non_exhaustive()
    }
}

/// Image generation: `client.images().generate(request)`.
#[derive(Clone)]
pub struct ImagesClient {
    settings: Arc<Settings>,
}

impl fmt::Debug for ImagesClient {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.debug_struct("ImagesClient").finish_non_exhaustive()
    }
}

/// The model instance of the provider serving `model`.
impl EmbeddingsClient {
    /// Embeds the request's inputs.
    pub async fn create(&self, request: impl Into<EmbeddingRequest>) -> LLMResult<EmbeddingResponse> {
        let request = request.into();
        let resolved = client::resolve(&self.settings, &request.model)?;
        let instance = resolved.instance();
        let span = embeddings_span(instance.provider_name(), &request);
        let options = CallOptions::strict(self.settings.strict);
        let result = tracing::Instrument::instrument(instance.embed(&request, &options), span.clone()).await;
        match &result {
            Ok(response) => record_embeddings(&span, response),
            Err(error) => telemetry::record_error(&span, error),
        }
        result
    }
}

impl ImagesClient {
    /// Generates images from the request's prompt. A request without a model needs a provider set with
    /// `with_model_provider` (the provider's default model is used).
    pub async fn generate(&self, request: impl Into<ImageGenerationRequest>) -> LLMResult<ImagesResponse> {
        let request = request.into();
        let model = request.model.as_deref().unwrap_or_default();
        if model.is_empty() && self.settings.provider.is_none() && !self.settings.has_fixed_instance() {
            return Err(LLMError::InvalidRequest(
                "image generation: name a `model` (gpt-image-1, dall-e-3, ...) or call with_model_provider"
                    .to_owned(),
            ));
        }
        let resolved = client::resolve(&self.settings, model)?;
        let instance = resolved.instance();
        let span = images_span(instance.provider_name(), &request);
        let options = CallOptions::strict(self.settings.strict);
        let result =
            tracing::Instrument::instrument(instance.generate_images(&request, &options), span.clone()).await;
        match &result {
            Ok(response) => record_images(&span, response),
            Err(error) => telemetry::record_error(&span, error),
        }
        result
    }
}

/// The span of one embeddings call (operation `embeddings`).
fn embeddings_span(provider: &str, request: &EmbeddingRequest) -> Span {
    let encoding = request.encoding_format.map(|format| match format {
        EncodingFormat::Float => r#"["float"]"#,
        EncodingFormat::Base64 => r#"["base64"]"#,
    });
    tracing::info_span!(
        "embeddings",
        otel.name = %format_args!("embeddings {}", request.model),
        otel.kind = "client",
        otel.status_code = Empty,
        gen_ai.operation.name = "embeddings",
        gen_ai.provider.name = provider,
        gen_ai.request.model = %request.model,
        gen_ai.request.encoding_formats = encoding,
        gen_ai.response.model = Empty,
        gen_ai.embeddings.dimension.count = Empty,
        gen_ai.usage.input_tokens = Empty,
        error.type = Empty,
    )
}

fn record_embeddings(span: &Span, response: &EmbeddingResponse) {
    span.record("gen_ai.response.model", response.model.as_str());
    span.record("gen_ai.usage.input_tokens", response.usage.prompt_tokens);
    let dimensions =
        response.data.first().and_then(|item| item.embedding.to_floats()).map(|floats| floats.len());
    if let Some(dimensions) = dimensions {
        span.record("gen_ai.embeddings.dimension.count", dimensions);
    }
}

/// The span of one image generation call (operation `image_generation`).
fn images_span(provider: &str, request: &ImageGenerationRequest) -> Span {
    let model = request.model.as_deref().unwrap_or_default();
    tracing::info_span!(
        "image_generation",
        otel.name = %format_args!("image_generation {model}"),
        otel.kind = "client",
        otel.status_code = Empty,
        gen_ai.operation.name = "image_generation",
        gen_ai.provider.name = provider,
        gen_ai.request.model = model,
        gen_ai.request.choice.count = request.n,
        gen_ai.usage.input_tokens = Empty,
        gen_ai.usage.output_tokens = Empty,
        error.type = Empty,
    )
}

fn record_images(span: &Span, response: &ImagesResponse) {
    if let Some(usage) = &response.usage {
        span.record("gen_ai.usage.input_tokens", usage.input_tokens);
        span.record("gen_ai.usage.output_tokens", usage.output_tokens);
    }
}

#[cfg(all(test, feature = "openai"))]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic, reason = "tests fail by panicking")]

    use std::collections::BTreeMap;
    use std::fmt;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::{Arc, Mutex};

    use serde_json::json;
    use tracing::field::{Field, Visit};
    use tracing::span::{Attributes, Id, Record};
    use tracing::{Event, Metadata, Subscriber};
    use vllora_llm_core::types::gateway::{EmbeddingRequest, ImageGenerationRequest};
    use vllora_llm_core::{Credentials, LLMError, Secret};
    use vllora_llm_testkit::{MockResponse, MockServer, record_conformance};

    use crate::client::{InferenceModelProvider, VlloraLLMClient};

    const KEY: &str = "sk-facade-embeddings-secret";

    fn client(server: &MockServer) -> VlloraLLMClient {
        VlloraLLMClient::new()
            .with_credentials(Credentials::ApiKey(Secret::new(KEY)))
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
        let capture = Capture::default();
        let _guard = tracing::subscriber::set_default(capture.clone());
        let server = MockServer::start().await;
        let not_supported = json!({"error": {"code": 501, "message": "This server does not support embeddings. Start it with `--embeddings`", "type": "not_supported_error"}});
        server.respond("POST", "/v1/embeddings", MockResponse::json(501, not_supported));
        let proxy = VlloraLLMClient::new()
            .with_model_provider(InferenceModelProvider::Proxy("local".to_owned()))
            .with_inference_endpoint(format!("{}/v1", server.url()));

        let result =
            proxy.embeddings().create(EmbeddingRequest::new("local/nomic-embed-text", "hello")).await;

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
        let capture = Capture::default();
        let _guard = tracing::subscriber::set_default(capture.clone());
        let server = MockServer::start().await;
        let answer = json!({"embeddings": [{"values": [0.5, -0.5]}]});
        let path = "/v1beta/models/gemini-embedding-001:batchEmbedContents";
        server.respond("POST", path, MockResponse::json(200, answer));
        let client = VlloraLLMClient::new()
            .with_credentials(Credentials::ApiKey(Secret::new(KEY)))
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

    #[tokio::test]
    async fn providers_without_embeddings_say_so_and_unknown_models_are_config_errors() {
        let server = MockServer::start().await;
        let anthropic =
            client(&server).embeddings().create(EmbeddingRequest::new("claude-sonnet-4-5", "x")).await;
        let message = anthropic.err().map(|error| error.to_string()).unwrap_or_default();
        assert!(message.contains("`anthropic` offers no embeddings"), "{message}");
        let unknown =
            client(&server).embeddings().create(EmbeddingRequest::new("nomic-embed-text", "x")).await;
        assert!(matches!(unknown, Err(LLMError::Config(message)) if message.contains("nomic-embed-text")));
        assert!(server.requests().is_empty());
    }
}
