//! Embeddings and image generation against a loopback server: the exact request OpenAI, a compatible
//! server and Azure OpenAI receive (path, query, headers, body) and exactly what the caller gets back.

#![allow(clippy::panic, reason = "a test fails by panicking, helpers included")]

use std::time::Duration;

use serde_json::{Value, json};
use vllora_llm_core::types::gateway::{
    EmbeddingInput, EmbeddingRequest, EmbeddingResponse, EmbeddingVector, EncodingFormat, ImageBackground,
    ImageGenerationRequest, ImageOutputFormat, ImageQuality, ImageResponseFormat, ImageStyle, ImagesResponse,
};
use vllora_llm_core::{CallOptions, LLMError, ModelInstance};
use vllora_llm_http::{HttpClient, HttpConfig, RetryPolicy};
use vllora_llm_openai::{OpenAIConfig, OpenAIModel};
use vllora_llm_testkit::{MockResponse, MockServer, RecordedRequest, record_conformance};

const API_KEY: &str = "sk-test-embeddings-0123456789";

fn fixture_json(path: &str) -> Value {
    let full = format!("{}/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
    let bytes = std::fs::read(&full).unwrap_or_else(|error| panic!("{full}: {error}"));
    serde_json::from_slice(&bytes).unwrap_or_else(|error| panic!("{path}: {error}"))
}

fn http() -> HttpClient {
    let config = HttpConfig {
        retry: RetryPolicy {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(5),
            max_retry_after: Duration::from_secs(2),
        },
        ..HttpConfig::default()
    };
    HttpClient::new(config).unwrap_or_else(|error| panic!("{error}"))
}

fn openai(server: &MockServer) -> OpenAIModel {
    OpenAIModel::new(OpenAIConfig::new(API_KEY).with_base_url(format!("{}/v1/", server.url())), http())
}

fn only_request(server: &MockServer) -> RecordedRequest {
    let mut requests = server.requests();
    assert_eq!(requests.len(), 1, "exactly one request expected");
    requests.remove(0)
}

fn parsed<T: serde::de::DeserializeOwned>(document: Value) -> T {
    serde_json::from_value(document).unwrap_or_else(|error| panic!("{error}"))
}

#[tokio::test]
async fn embeddings_send_exactly_what_openai_expects_and_return_its_document() {
    let server = MockServer::start().await;
    let canned = fixture_json("responses/embeddings_float.openai.json");
    server.respond("POST", "/v1/embeddings", MockResponse::json(200, canned.clone()));
    let request = EmbeddingRequest {
        dimensions: Some(4),
        user: Some("user-42".to_owned()),
        ..EmbeddingRequest::new("openai/text-embedding-3-small", vec!["The food was delicious", "Paris"])
    };

    let result = openai(&server).embed(&request, &CallOptions::default()).await;
    let Ok(response) = result else { panic!("{:?}", result.err()) };

    let sent = only_request(&server);
    assert_eq!(
        (sent.method.as_str(), sent.path.as_str(), sent.query.as_deref()),
        ("POST", "/v1/embeddings", None)
    );
    assert_eq!(sent.header("authorization"), Some(format!("Bearer {API_KEY}").as_str()));
    assert_eq!(sent.header("content-type"), Some("application/json"));
    let body = sent.json();
    record_conformance("openai-embeddings", &body);
    assert_eq!(
        body,
        json!({
            "model": "text-embedding-3-small",
            "input": ["The food was delicious", "Paris"],
            "dimensions": 4,
            "user": "user-42"
        })
    );
    assert_eq!(response, parsed::<EmbeddingResponse>(canned.clone()));
    assert_eq!(serde_json::to_value(&response).ok(), Some(canned), "passed through unchanged");
    assert_eq!(response.usage.prompt_tokens, 9);
    let lengths: Vec<Option<usize>> =
        response.data.iter().map(|item| item.embedding.to_floats().map(|floats| floats.len())).collect();
    assert_eq!(lengths, vec![Some(4), Some(4)]);
}

#[tokio::test]
async fn base64_embeddings_and_token_inputs() {
    let server = MockServer::start().await;
    server.respond(
        "POST",
        "/v1/embeddings",
        MockResponse::json(200, fixture_json("responses/embeddings_base64.openai.json")),
    );
    let request = EmbeddingRequest {
        encoding_format: Some(EncodingFormat::Base64),
        ..EmbeddingRequest::new(
            "text-embedding-3-large",
            EmbeddingInput::TokenArrays(vec![vec![9906, 1917], vec![0]]),
        )
    };
    let result = openai(&server).embed(&request, &CallOptions::default()).await;
    let Ok(response) = result else { panic!("{:?}", result.err()) };
    let body = only_request(&server).json();
    record_conformance("openai-embeddings", &body);
    assert_eq!(
        body,
        json!({"model": "text-embedding-3-large", "input": [[9906, 1917], [0]], "encoding_format": "base64"})
    );
    let vector = response.data.first().map(|item| &item.embedding);
    assert_eq!(vector, Some(&EmbeddingVector::Base64("AACAPwAAIMAAAAA/".to_owned())));
    assert_eq!(vector.and_then(EmbeddingVector::to_floats), Some(vec![1.0, -2.5, 0.5]));
}

#[tokio::test]
async fn a_compatible_server_gets_its_model_name_and_no_authorization() {
    let server = MockServer::start().await;
    let llama_answer = json!({
        "model": "/models/nomic-embed-text-v1.5.Q4_K_M.gguf",
        "object": "list",
        "usage": {"prompt_tokens": 3, "total_tokens": 3},
        "data": [{"embedding": [0.25, -0.5, 0.125], "index": 0, "object": "embedding"}]
    });
    server.respond("POST", "/v1/embeddings", MockResponse::json(200, llama_answer.clone()));
    let config = OpenAIConfig::proxy("local", format!("{}/v1", server.url()));
    let model = OpenAIModel::new(config, http()).with_model("local/nomic-embed-text");

    let result = model.embed(&EmbeddingRequest::new("ignored", "hello"), &CallOptions::default()).await;
    let Ok(response) = result else { panic!("{:?}", result.err()) };
    let sent = only_request(&server);
    assert_eq!(sent.header("authorization"), None);
    let body = sent.json();
    record_conformance("openai-embeddings", &body);
    assert_eq!(body, json!({"model": "nomic-embed-text", "input": "hello"}));
    assert_eq!(response, parsed::<EmbeddingResponse>(llama_answer));
}

#[tokio::test]
async fn azure_embeddings_go_to_the_deployment_with_the_api_key_header() {
    let server = MockServer::start().await;
    let path = "/openai/deployments/embed-small/embeddings";
    server.respond(
        "POST",
        path,
        MockResponse::json(200, fixture_json("responses/embeddings_float.openai.json")),
    );
    let config = OpenAIConfig::azure(server.url(), "embed-small", "2024-10-21", "azure-key-1");
    let model = OpenAIModel::new(config, http());

    let result =
        model.embed(&EmbeddingRequest::new("text-embedding-3-small", "x"), &CallOptions::default()).await;
    assert!(result.is_ok(), "{result:?}");
    let sent = only_request(&server);
    assert_eq!((sent.path.as_str(), sent.query.as_deref()), (path, Some("api-version=2024-10-21")));
    assert_eq!(sent.header("api-key"), Some("azure-key-1"));
    assert_eq!(sent.header("authorization"), None);
    assert_eq!(model.provider_name(), "azure.ai.openai");
}

#[tokio::test]
async fn embedding_errors_are_mapped_and_overload_is_retried() {
    let server = MockServer::start().await;
    let overloaded = json!({"error": {"message": "The server is overloaded", "type": "server_error", "param": null, "code": null}});
    server.respond("POST", "/v1/embeddings", MockResponse::json(503, overloaded));
    server.respond(
        "POST",
        "/v1/embeddings",
        MockResponse::json(200, fixture_json("responses/embeddings_float.openai.json")),
    );
    let retried = openai(&server)
        .embed(&EmbeddingRequest::new("text-embedding-3-small", "x"), &CallOptions::default())
        .await;
    assert!(retried.is_ok(), "{retried:?}");
    assert_eq!(server.requests().len(), 2);

    let server = MockServer::start().await;
    let invalid = json!({"error": {"message": "This model's maximum context length is 8192 tokens", "type": "invalid_request_error", "param": null, "code": null}});
    server.respond("POST", "/v1/embeddings", MockResponse::json(400, invalid));
    let result = openai(&server)
        .embed(&EmbeddingRequest::new("text-embedding-3-small", "x"), &CallOptions::default())
        .await;
    let Err(error) = result else { panic!("a 400 must be an error") };
    assert_eq!(error.status(), Some(400));
    assert_eq!(error.provider(), Some("openai"));
    let api = error.api_error().cloned().unwrap_or_default();
    assert_eq!(api.message, "This model's maximum context length is 8192 tokens");
    assert_eq!(api.error_type.as_deref(), Some("invalid_request_error"));
    assert!(!format!("{error} {error:?}").contains(API_KEY));
    assert_eq!(server.requests().len(), 1, "a 400 is not retried");
}

#[tokio::test]
async fn empty_input_is_refused_before_anything_is_sent() {
    let server = MockServer::start().await;
    let request = EmbeddingRequest::new("text-embedding-3-small", Vec::<String>::new());
    let result = openai(&server).embed(&request, &CallOptions::default()).await;
    assert!(matches!(result, Err(LLMError::InvalidRequest(_))), "{result:?}");
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn gpt_image_generation_sends_every_option_and_returns_the_document() {
    let server = MockServer::start().await;
    let canned = fixture_json("responses/images_gpt_image_1.openai.json");
    server.respond("POST", "/v1/images/generations", MockResponse::json(200, canned.clone()));
    let request = ImageGenerationRequest {
        n: Some(1),
        size: Some("1024x1024".to_owned()),
        quality: Some(ImageQuality::Low),
        background: Some(ImageBackground::Opaque),
        output_format: Some(ImageOutputFormat::Png),
        moderation: Some(vllora_llm_core::types::gateway::ImageModeration::Auto),
        user: Some("user-42".to_owned()),
        ..ImageGenerationRequest::new("gpt-image-1", "A lighthouse at dawn, watercolour")
    };

    let result = openai(&server).generate_images(&request, &CallOptions::default()).await;
    let Ok(response) = result else { panic!("{:?}", result.err()) };

    let sent = only_request(&server);
    assert_eq!((sent.method.as_str(), sent.path.as_str()), ("POST", "/v1/images/generations"));
    assert_eq!(sent.header("authorization"), Some(format!("Bearer {API_KEY}").as_str()));
    let body = sent.json();
    record_conformance("openai-images", &body);
    assert_eq!(
        body,
        json!({
            "prompt": "A lighthouse at dawn, watercolour",
            "model": "gpt-image-1",
            "n": 1,
            "size": "1024x1024",
            "quality": "low",
            "background": "opaque",
            "output_format": "png",
            "moderation": "auto",
            "user": "user-42"
        })
    );
    assert_eq!(serde_json::to_value(&response).ok(), Some(canned.clone()));
    assert_eq!(response, parsed::<ImagesResponse>(canned));
    assert_eq!(response.usage.map(|usage| usage.total_tokens), Some(289));
}

#[tokio::test]
async fn dall_e_urls_on_azure() {
    let server = MockServer::start().await;
    let path = "/openai/deployments/dalle3/images/generations";
    let canned = fixture_json("responses/images_dall_e_3_url.openai.json");
    server.respond("POST", path, MockResponse::json(200, canned.clone()));
    let config = OpenAIConfig::azure(server.url(), "dalle3", "2024-10-21", "azure-key-2");
    let request = ImageGenerationRequest {
        style: Some(ImageStyle::Natural),
        quality: Some(ImageQuality::Hd),
        response_format: Some(ImageResponseFormat::Url),
        size: Some("1792x1024".to_owned()),
        ..ImageGenerationRequest::new("dall-e-3", "A lighthouse on a rocky shore")
    };
    let result = OpenAIModel::new(config, http()).generate_images(&request, &CallOptions::default()).await;
    let Ok(response) = result else { panic!("{:?}", result.err()) };
    let sent = only_request(&server);
    assert_eq!((sent.path.as_str(), sent.query.as_deref()), (path, Some("api-version=2024-10-21")));
    assert_eq!(sent.header("api-key"), Some("azure-key-2"));
    let body = sent.json();
    record_conformance("openai-images", &body);
    assert_eq!(
        body,
        json!({
            "prompt": "A lighthouse on a rocky shore",
            "model": "dall-e-3",
            "size": "1792x1024",
            "quality": "hd",
            "style": "natural",
            "response_format": "url"
        })
    );
    assert_eq!(serde_json::to_value(&response).ok(), Some(canned));
    assert!(
        response
            .data
            .first()
            .and_then(|image| image.url.as_deref())
            .is_some_and(|url| url.starts_with("https://"))
    );
}

#[tokio::test]
async fn a_moderation_refusal_is_an_api_error() {
    let server = MockServer::start().await;
    let refusal = json!({"error": {"message": "Your request was rejected as a result of our safety system.", "type": "image_generation_user_error", "param": null, "code": "moderation_blocked"}});
    server.respond("POST", "/v1/images/generations", MockResponse::json(400, refusal));
    let result = openai(&server)
        .generate_images(&ImageGenerationRequest::new("gpt-image-1", "x"), &CallOptions::default())
        .await;
    let Err(error) = result else { panic!("a 400 must be an error") };
    assert_eq!(error.status(), Some(400));
    assert_eq!(error.api_error().and_then(|api| api.code.clone()).as_deref(), Some("moderation_blocked"));
}
