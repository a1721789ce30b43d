//! Gemini embeddings against a loopback server: the `batchEmbedContents` request Gemini receives and the
//! OpenAI-shaped embeddings the caller gets back.

#![allow(clippy::panic, reason = "a test fails by panicking, helpers included")]

use std::sync::Arc;

use serde_json::json;
use vllora_llm_core::types::gateway::{EmbeddingRequest, EmbeddingVector, EncodingFormat};
use vllora_llm_core::{CallOptions, LLMError, ModelInstance};
use vllora_llm_gemini::{GeminiConfig, GeminiModel};
use vllora_llm_http::{HttpClient, HttpConfig, HyperTransport, ProxyConfig};
use vllora_llm_testkit::{MockResponse, MockServer};

const KEY: &str = "AIza-test-embeddings-key";
const PATH: &str = "/v1beta/models/gemini-embedding-001:batchEmbedContents";

fn model(server: &MockServer) -> GeminiModel {
    let config = HttpConfig::default();
    // No proxy, whatever the environment says: these requests must reach the loopback server.
    let transport =
        HyperTransport::new(&config.timeouts, &ProxyConfig::none()).unwrap_or_else(|error| panic!("{error}"));
    let http = HttpClient::with_transport(Arc::new(transport), config);
    GeminiModel::new(GeminiConfig::new(KEY).with_base_url(server.url()), http)
}

#[tokio::test]
async fn texts_are_batch_embedded_and_come_back_in_openais_shape() {
    let server = MockServer::start().await;
    let answer = json!({"embeddings": [
        {"values": [-0.0227, 0.0039, 0.0151]},
        {"values": [0.0112, -0.0301, 0.0047]}
    ]});
    server.respond("POST", PATH, MockResponse::json(200, answer));
    let request = EmbeddingRequest {
        dimensions: Some(3),
        ..EmbeddingRequest::new("gemini/gemini-embedding-001", vec!["first", "second"])
    };

    let result = model(&server).embed(&request, &CallOptions::default()).await;
    let Ok(response) = result else { panic!("{:?}", result.err()) };

    let requests = server.requests();
    let [sent] = requests.as_slice() else { panic!("{} requests", requests.len()) };
    assert_eq!(sent.path, PATH);
    assert_eq!(sent.header("x-goog-api-key"), Some(KEY));
    assert!(!sent.query.as_deref().unwrap_or_default().contains(KEY));
    assert_eq!(
        sent.json(),
        json!({"requests": [
            {"model": "models/gemini-embedding-001", "content": {"parts": [{"text": "first"}]}, "outputDimensionality": 3},
            {"model": "models/gemini-embedding-001", "content": {"parts": [{"text": "second"}]}, "outputDimensionality": 3}
        ]})
    );
    assert_eq!(
        serde_json::to_value(&response).ok(),
        Some(json!({
            "object": "list",
            "data": [
                {"object": "embedding", "index": 0, "embedding": [-0.0227, 0.0039, 0.0151]},
                {"object": "embedding", "index": 1, "embedding": [0.0112, -0.0301, 0.0047]}
            ],
            "model": "gemini-embedding-001",
            "usage": {"prompt_tokens": 0, "total_tokens": 0}
        }))
    );
}

#[tokio::test]
async fn base64_is_honoured_and_errors_are_gemini_errors() {
    let server = MockServer::start().await;
    server.respond("POST", PATH, MockResponse::json(200, json!({"embeddings": [{"values": [1.0, -2.5]}]})));
    let request = EmbeddingRequest {
        encoding_format: Some(EncodingFormat::Base64),
        ..EmbeddingRequest::new("gemini-embedding-001", "x")
    };
    let result = model(&server).embed(&request, &CallOptions::default()).await;
    let vector = result.ok().and_then(|response| response.data.first().map(|item| item.embedding.clone()));
    assert_eq!(vector, Some(EmbeddingVector::Base64("AACAPwAAIMA=".to_owned())));
    assert_eq!(
        server.requests().first().map(|sent| sent.json()),
        Some(
            json!({"requests": [{"model": "models/gemini-embedding-001", "content": {"parts": [{"text": "x"}]}}]})
        )
    );

    let invalid = json!({"error": {"code": 400, "message": "* BatchEmbedContentsRequest.requests: at most 100 requests can be in one batch", "status": "INVALID_ARGUMENT"}});
    server.respond("POST", PATH, MockResponse::json(400, invalid));
    let result = model(&server)
        .embed(&EmbeddingRequest::new("gemini-embedding-001", "x"), &CallOptions::default())
        .await;
    let Err(error) = result else { panic!("a 400 must be an error") };
    assert_eq!(error.status(), Some(400));
    assert!(error.to_string().contains("at most 100 requests"), "{error}");
    assert!(!format!("{error:?}").contains(KEY));
}

#[tokio::test]
async fn strict_mode_refuses_user_before_sending() {
    let server = MockServer::start().await;
    let request = EmbeddingRequest {
        user: Some("user-1".to_owned()),
        ..EmbeddingRequest::new("gemini-embedding-001", "x")
    };
    let result = model(&server).embed(&request, &CallOptions::strict(true)).await;
    assert!(matches!(result, Err(LLMError::Unsupported(_))), "{result:?}");
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn more_than_a_hundred_texts_take_two_calls_and_keep_their_order() {
    let server = MockServer::start().await;
    let values = |count: usize, start: f64| -> serde_json::Value {
        json!({"embeddings": (0..count).map(|offset| json!({"values": [start + offset as f64]})).collect::<Vec<_>>()})
    };
    server.respond("POST", PATH, MockResponse::json(200, values(100, 0.0)));
    server.respond("POST", PATH, MockResponse::json(200, values(1, 100.0)));
    let texts: Vec<String> = (0..101).map(|number| format!("text {number}")).collect();

    let result = model(&server)
        .embed(&EmbeddingRequest::new("gemini-embedding-001", texts), &CallOptions::default())
        .await;
    let Ok(response) = result else { panic!("{:?}", result.err()) };

    let sizes: Vec<usize> =
        server.requests().iter().map(|sent| sent.json()["requests"].as_array().map_or(0, Vec::len)).collect();
    assert_eq!(sizes, vec![100, 1]);
    assert_eq!(response.data.len(), 101);
    let last = response.data.last().map(|item| (item.index, item.embedding.clone()));
    assert_eq!(last, Some((100, EmbeddingVector::Float(vec![100.0]))));
    assert!(response.data.iter().zip(0u32..).all(|(item, index)| item.index == index));
}
