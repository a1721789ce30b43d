//! Gemini on Vertex AI against a loopback server speaking Vertex AI's wire format: the token exchange,
//! `generateContent` and `streamGenerateContent?alt=sse` under the project and location, express mode,
//! `:predict` embeddings and `cachedContents` under the project.

#![cfg(feature = "vertex")]
#![allow(clippy::panic, reason = "a test fails by panicking, helpers included")]

use serde_json::json;
use vllora_llm_core::types::gateway::{
    ChatCompletionMessage, ChatCompletionRequest, EmbeddingRequest, ProviderSpecificRequest,
};
use vllora_llm_core::{CallOptions, ModelInstance};
use vllora_llm_gemini::{GeminiCacheRequest, GeminiModel};
use vllora_llm_http::{HttpClient, HttpConfig};
use vllora_llm_testkit::{MockResponse, MockServer};
use vllora_llm_vertex::{GoogleCredentials, VertexConfig};

const SCOPE: &str = "/v1/projects/proj-1/locations/us-central1";

fn http() -> HttpClient {
    HttpClient::new(HttpConfig::default()).unwrap_or_else(|error| panic!("{error}"))
}

fn config(server: &MockServer) -> VertexConfig {
    let key = include_str!("../../vllora_llm_vertex/tests/fixtures/service_account_key.pem");
    let file = json!({
        "type": "service_account", "project_id": "proj-1", "private_key_id": "k1", "private_key": key,
        "client_email": "sa@proj-1.iam.gserviceaccount.com", "token_uri": format!("{}/token", server.url()),
    });
    let credentials =
        GoogleCredentials::from_json(&file.to_string(), "test").unwrap_or_else(|error| panic!("{error}"));
    VertexConfig::new(credentials).with_location("us-central1").with_base_url(server.url())
}

fn answer(text: &str) -> serde_json::Value {
    json!({"candidates": [{"content": {"role": "model", "parts": [{"text": text}]}, "finishReason": "STOP"}],
           "usageMetadata": {"promptTokenCount": 3, "candidatesTokenCount": 2, "totalTokenCount": 5},
           "modelVersion": "gemini-2.5-flash"})
}

fn request(model: &str) -> ChatCompletionRequest {
    ChatCompletionRequest {
        model: model.into(),
        messages: vec![ChatCompletionMessage::new_text("user", "Hi")],
        ..Default::default()
    }
}

#[tokio::test]
async fn chat_and_streams_go_to_the_publisher_model_with_one_token() {
    let server = MockServer::start().await;
    server.respond(
        "POST",
        "/token",
        MockResponse::json(200, json!({"access_token": "ya29.v", "expires_in": 3599})),
    );
    let path = format!("{SCOPE}/publishers/google/models/gemini-2.5-flash");
    server.respond("POST", &format!("{path}:generateContent"), MockResponse::json(200, answer("Hello")));
    server.respond(
        "POST",
        &format!("{path}:streamGenerateContent"),
        MockResponse::sse([format!("data: {}\n\n", answer("Streamed"))]),
    );
    let model = GeminiModel::vertex(config(&server), http());
    assert_eq!(model.provider_name(), "gcp.vertex_ai");
    let result = model.complete(&request("gemini-2.5-flash"), &CallOptions::default()).await;
    let result = result.unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(
        result.message().content.as_ref().and_then(|content| content.as_string()),
        Some("Hello".to_owned())
    );
    let mut stream = model
        .stream(&request("gemini-2.5-flash"), &CallOptions::default())
        .await
        .unwrap_or_else(|error| panic!("{error}"));
    let mut text = String::new();
    while let Some(chunk) = stream.next().await {
        for choice in chunk.unwrap_or_else(|error| panic!("{error}")).choices {
            text.push_str(&choice.delta.content.unwrap_or_default());
        }
    }
    assert_eq!(text, "Streamed");
    let requests = server.requests();
    assert_eq!(requests.iter().filter(|request| request.path == "/token").count(), 1, "the token is cached");
    let generate = &requests[1];
    assert_eq!(generate.header("authorization"), Some("Bearer ya29.v"));
    assert_eq!(generate.header("x-goog-api-key"), None);
    assert_eq!(generate.json()["contents"], json!([{"role": "user", "parts": [{"text": "Hi"}]}]));
    assert_eq!(requests[2].query.as_deref(), Some("alt=sse"));
}

#[tokio::test]
async fn express_mode_sends_the_key_in_its_header_without_a_project() {
    let server = MockServer::start().await;
    server.respond(
        "POST",
        "/v1/publishers/google/models/gemini-2.5-flash:generateContent",
        MockResponse::json(200, answer("Express")),
    );
    let config = VertexConfig::express("AQ.express-key").with_base_url(server.url());
    let model = GeminiModel::vertex(config, http()).with_model("gemini-2.5-flash");
    let result = model
        .complete(&request("ignored"), &CallOptions::default())
        .await
        .unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(
        result.message().content.as_ref().and_then(|content| content.as_string()),
        Some("Express".to_owned())
    );
    let sent = &server.requests()[0];
    assert_eq!(sent.header("x-goog-api-key"), Some("AQ.express-key"));
    assert_eq!(sent.header("authorization"), None);
    assert!(!sent.query.as_deref().unwrap_or_default().contains("AQ."));
}

#[tokio::test]
async fn errors_carry_vertex_ai_s_name() {
    let server = MockServer::start().await;
    server.respond_always(
        "POST",
        "/token",
        MockResponse::json(200, json!({"access_token": "t", "expires_in": 3599})),
    );
    server.respond(
        "POST",
        &format!("{SCOPE}/publishers/google/models/gemini-2.5-flash:generateContent"),
        MockResponse::json(
            403,
            json!({"error": {"code": 403, "message": "Permission denied", "status": "PERMISSION_DENIED"}}),
        ),
    );
    let model = GeminiModel::vertex(config(&server), http());
    let Err(error) = model.complete(&request("gemini-2.5-flash"), &CallOptions::default()).await else {
        panic!("403")
    };
    assert_eq!(error.provider(), Some("gcp.vertex_ai"));
    assert_eq!(error.status(), Some(403));
}

#[tokio::test]
async fn embeddings_use_predict_and_caches_live_under_the_project() {
    let server = MockServer::start().await;
    server.respond_always(
        "POST",
        "/token",
        MockResponse::json(200, json!({"access_token": "t", "expires_in": 3599})),
    );
    server.respond(
        "POST",
        &format!("{SCOPE}/publishers/google/models/text-embedding-005:predict"),
        MockResponse::json(
            200,
            json!({"predictions": [
            {"embeddings": {"values": [0.1, 0.2], "statistics": {"token_count": 2, "truncated": false}}},
            {"embeddings": {"values": [0.3, 0.4], "statistics": {"token_count": 3, "truncated": false}}}]}),
        ),
    );
    let cache = json!({"name": "projects/proj-1/locations/us-central1/cachedContents/42",
        "model": "projects/proj-1/locations/us-central1/publishers/google/models/gemini-2.5-flash",
        "expireTime": "2030-01-01T00:00:00Z", "usageMetadata": {"totalTokenCount": 4096}});
    server.respond("POST", &format!("{SCOPE}/cachedContents"), MockResponse::json(200, cache.clone()));
    server.respond("GET", &format!("{SCOPE}/cachedContents/42"), MockResponse::json(200, cache.clone()));
    server.respond("DELETE", &format!("{SCOPE}/cachedContents/42"), MockResponse::json(200, json!({})));
    server.respond(
        "POST",
        &format!("{SCOPE}/publishers/google/models/gemini-2.5-flash:generateContent"),
        MockResponse::json(200, answer("From the cache")),
    );
    let model = GeminiModel::vertex(config(&server), http());
    let embedded = model
        .embed(
            &EmbeddingRequest {
                dimensions: Some(2),
                ..EmbeddingRequest::new("text-embedding-005", vec!["a", "b"])
            },
            &CallOptions::default(),
        )
        .await
        .unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(embedded.data.len(), 2);
    assert_eq!(embedded.usage.prompt_tokens, 5);

    let caches = model.cache_client();
    let created = caches
        .create(&GeminiCacheRequest {
            model: "gemini-2.5-flash".into(),
            messages: vec![ChatCompletionMessage::new_text("system", "A long handbook.")],
            ..Default::default()
        })
        .await
        .unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(created.name, "projects/proj-1/locations/us-central1/cachedContents/42");
    assert!(caches.get("42").await.is_ok());
    assert!(caches.delete(&created.name).await.is_ok());

    let mut cached = request("gemini-2.5-flash");
    let mut specific = ProviderSpecificRequest::default();
    specific.extra.insert("cached_content".into(), json!("cachedContents/42"));
    cached.provider_specific = Some(specific);
    let result =
        model.complete(&cached, &CallOptions::default()).await.unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(
        result.message().content.as_ref().and_then(|content| content.as_string()),
        Some("From the cache".to_owned())
    );

    let requests: Vec<_> = server.requests().into_iter().filter(|request| request.path != "/token").collect();
    assert_eq!(
        requests[0].json(),
        json!({"instances": [{"content": "a"}, {"content": "b"}], "parameters": {"outputDimensionality": 2}})
    );
    assert_eq!(
        requests[1].json()["model"],
        "projects/proj-1/locations/us-central1/publishers/google/models/gemini-2.5-flash"
    );
    assert_eq!(requests[1].json()["systemInstruction"], json!({"parts": [{"text": "A long handbook."}]}));
    assert_eq!(
        requests[4].json()["cachedContent"],
        "projects/proj-1/locations/us-central1/cachedContents/42"
    );
}
