//! Claude on Vertex AI against a loopback server speaking Vertex AI's wire format: the token exchange,
//! `rawPredict` and `streamRawPredict` under the project and location, a body without `model` and with
//! `anthropic_version: "vertex-2023-10-16"`, everything else as the Anthropic translator produces it.

#![cfg(feature = "vertex")]
#![allow(clippy::panic, reason = "a test fails by panicking, helpers included")]

use serde_json::json;
use vllora_llm_anthropic::{AnthropicConfig, AnthropicModel};
use vllora_llm_core::types::gateway::{CacheControl, ChatCompletionMessage, ChatCompletionRequest};
use vllora_llm_core::{CallOptions, ModelInstance};
use vllora_llm_http::{HttpClient, HttpConfig};
use vllora_llm_testkit::{MockResponse, MockServer};
use vllora_llm_vertex::{GoogleCredentials, VertexConfig};

const MODEL_PATH: &str =
    "/v1/projects/proj-1/locations/us-east5/publishers/anthropic/models/claude-sonnet-4-5@20250929";

fn http() -> HttpClient {
    HttpClient::new(HttpConfig::default()).unwrap_or_else(|error| panic!("{error}"))
}

fn vertex(server: &MockServer) -> VertexConfig {
    VertexConfig::new(GoogleCredentials::access_token("ya29.claude"))
        .with_project("proj-1")
        .with_location("us-east5")
        .with_base_url(server.url())
}

fn message() -> serde_json::Value {
    json!({"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5-20250929",
           "content": [{"type": "text", "text": "Hello from Vertex"}], "stop_reason": "end_turn",
           "usage": {"input_tokens": 12, "output_tokens": 4}})
}

fn request() -> ChatCompletionRequest {
    let mut system = ChatCompletionMessage::new_text("system", "Be brief.");
    system.cache_control = Some(CacheControl::ephemeral());
    ChatCompletionRequest {
        model: "claude-sonnet-4-5@20250929".into(),
        messages: vec![system, ChatCompletionMessage::new_text("user", "Hi")],
        max_tokens: Some(2048),
        ..Default::default()
    }
}

#[tokio::test]
async fn raw_predict_takes_the_translated_body_without_model_and_with_the_vertex_version() {
    let server = MockServer::start().await;
    server.respond("POST", &format!("{MODEL_PATH}:rawPredict"), MockResponse::json(200, message()));
    let model = AnthropicModel::vertex(vertex(&server), http());
    assert_eq!(model.provider_name(), "gcp.vertex_ai");
    let result =
        model.complete(&request(), &CallOptions::default()).await.unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(
        result.message().content.as_ref().and_then(|content| content.as_string()),
        Some("Hello from Vertex".to_owned())
    );
    let sent = &server.requests()[0];
    assert_eq!(sent.header("authorization"), Some("Bearer ya29.claude"));
    assert_eq!(sent.header("x-api-key"), None);
    assert_eq!(sent.header("anthropic-version"), None);
    assert_eq!(
        sent.json(),
        json!({
            "anthropic_version": "vertex-2023-10-16",
            "max_tokens": 2048,
            "messages": [{"role": "user", "content": [{"type": "text", "text": "Hi"}]}],
            "system": [{"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}]
        })
    );
}

#[tokio::test]
async fn streams_use_stream_raw_predict_and_betas_go_in_their_header() {
    let server = MockServer::start().await;
    let events = [
        r#"event: message_start
data: {"type":"message_start","message":{"id":"msg_2","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[],"stop_reason":null,"usage":{"input_tokens":5,"output_tokens":1}}}

"#,
        r#"event: content_block_start
data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}

"#,
        r#"event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Streamed"}}

"#,
        r#"event: content_block_stop
data: {"type":"content_block_stop","index":0}

"#,
        r#"event: message_delta
data: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":2}}

"#,
        "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
    ];
    server.respond("POST", &format!("{MODEL_PATH}:streamRawPredict"), MockResponse::sse(events));
    let config = AnthropicConfig::new("").with_beta("context-1m-2025-08-07");
    let model = AnthropicModel::vertex_with_config(config, vertex(&server), http());
    let mut stream =
        model.stream(&request(), &CallOptions::default()).await.unwrap_or_else(|error| panic!("{error}"));
    let mut text = String::new();
    while let Some(chunk) = stream.next().await {
        for choice in chunk.unwrap_or_else(|error| panic!("{error}")).choices {
            text.push_str(&choice.delta.content.unwrap_or_default());
        }
    }
    assert_eq!(text, "Streamed");
    let sent = &server.requests()[0];
    assert_eq!(sent.header("anthropic-beta"), Some("context-1m-2025-08-07"));
    let body = sent.json();
    assert_eq!(body["stream"], json!(true));
    assert_eq!(body["anthropic_version"], json!("vertex-2023-10-16"));
    assert!(body.get("model").is_none());
}

#[tokio::test]
async fn errors_carry_vertex_ai_s_name_and_express_keys_are_refused() {
    let server = MockServer::start().await;
    server.respond(
        "POST",
        &format!("{MODEL_PATH}:rawPredict"),
        MockResponse::json(
            429,
            json!({"type": "error", "error": {"type": "rate_limit_error", "message": "Slow down"}}),
        ),
    );
    let http = HttpClient::new(HttpConfig {
        retry: vllora_llm_http::RetryPolicy { max_attempts: 1, ..Default::default() },
        ..HttpConfig::default()
    })
    .unwrap_or_else(|error| panic!("{error}"));
    let model = AnthropicModel::vertex(vertex(&server), http.clone());
    let Err(error) = model.complete(&request(), &CallOptions::default()).await else { panic!("429") };
    assert_eq!((error.provider(), error.status()), (Some("gcp.vertex_ai"), Some(429)));
    let express = AnthropicModel::vertex(VertexConfig::express("AQ.key").with_base_url(server.url()), http);
    let Err(error) = express.complete(&request(), &CallOptions::default()).await else { panic!("refused") };
    assert!(error.to_string().contains("express mode"), "{error}");
    assert_eq!(server.requests().len(), 1, "nothing sent in express mode");
}
