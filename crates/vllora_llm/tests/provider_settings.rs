//! Provider settings on the client and from the environment reach the request each provider sends:
//! Anthropic's API version, betas and default `max_tokens`, Gemini's schema mode, Bedrock's signing
//! clock — without building a provider by hand.

#![cfg(all(feature = "anthropic", feature = "gemini", feature = "bedrock"))]
#![allow(clippy::panic, reason = "a test fails by panicking")]

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use serde_json::json;
use vllora_llm::client::VlloraLLMClient;
use vllora_llm::types::gateway::{ChatCompletionMessage, ChatCompletionRequest, JsonSchemaFormat, ResponseFormat};
use vllora_llm_core::Environment;
use vllora_llm_testkit::{MockResponse, MockServer};

#[derive(Debug)]
struct Variables(HashMap<String, String>);

impl Environment for Variables {
    fn var(&self, name: &str) -> Option<String> {
        self.0.get(name).cloned()
    }

    fn read_file(&self, _path: &Path) -> Option<String> {
        None
    }
}

fn environment(pairs: &[(&str, String)]) -> Arc<Variables> {
    Arc::new(Variables(pairs.iter().map(|(name, value)| ((*name).to_owned(), value.clone())).collect()))
}

fn request(model: &str) -> ChatCompletionRequest {
    ChatCompletionRequest {
        model: model.into(),
        messages: vec![ChatCompletionMessage::new_text("user", "Hi")],
        ..Default::default()
    }
}

fn anthropic_answer() -> MockResponse {
    MockResponse::json(
        200,
        json!({"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
            "content": [{"type": "text", "text": "Hi"}], "stop_reason": "end_turn", "stop_sequence": null,
            "usage": {"input_tokens": 1, "output_tokens": 1}}),
    )
}

#[tokio::test]
async fn anthropic_version_betas_and_max_tokens_from_the_client_and_the_environment() {
    let server = MockServer::start().await;
    server.respond_always("POST", "/v1/messages", anthropic_answer());
    let env = environment(&[
        ("ANTHROPIC_API_KEY", "sk-ant".to_owned()),
        ("ANTHROPIC_BASE_URL", server.url()),
        ("VLLORA_ANTHROPIC_BETAS", "files-api-2025-04-14".to_owned()),
        ("VLLORA_ANTHROPIC_MAX_TOKENS", "1500".to_owned()),
    ]);
    let from_env = VlloraLLMClient::new().with_environment(env.clone());
    let result = from_env.completions().create(request("claude-sonnet-4-5")).await;
    assert!(result.is_ok(), "{result:?}");
    let configured = VlloraLLMClient::new()
        .with_environment(env)
        .with_anthropic_api_version("2026-10-21")
        .with_anthropic_beta("context-1m-2025-08-07")
        .with_anthropic_default_max_tokens(777);
    let result = configured.completions().create(request("claude-sonnet-4-5")).await;
    let result = result.unwrap_or_else(|error| panic!("{error}"));
    assert!(result.warnings().is_empty(), "{:?}", result.warnings());

    let sent = server.requests();
    assert_eq!(sent[0].header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(sent[0].header("anthropic-beta"), Some("files-api-2025-04-14"));
    assert_eq!(sent[0].json()["max_tokens"], 1500);
    assert_eq!(sent[1].header("anthropic-version"), Some("2026-10-21"));
    assert_eq!(sent[1].header("anthropic-beta"), Some("files-api-2025-04-14,context-1m-2025-08-07"));
    assert_eq!(sent[1].json()["max_tokens"], 777, "the client's setting wins over the environment's");
}

#[tokio::test]
async fn gemini_schema_mode_from_the_client_and_the_environment() {
    let server = MockServer::start().await;
    let answer = json!({"candidates": [{"content": {"role": "model", "parts": [{"text": "{}"}]}, "finishReason": "STOP", "index": 0}],
        "usageMetadata": {"promptTokenCount": 1, "candidatesTokenCount": 1, "totalTokenCount": 2}});
    server.respond_always(
        "POST",
        "/v1beta/models/gemini-2.5-flash:generateContent",
        MockResponse::json(200, answer),
    );
    let schema = json!({"type": "object", "properties": {"a": {"const": 1}}, "additionalProperties": false});
    let mut structured = request("gemini-2.5-flash");
    structured.response_format = Some(ResponseFormat::JsonSchema {
        json_schema: JsonSchemaFormat {
            name: "x".into(),
            schema: Some(schema.clone()),
            ..Default::default()
        },
    });
    let base = [("GEMINI_API_KEY", "g".to_owned()), ("VLLORA_GEMINI_ENDPOINT", server.url())];
    let plain = VlloraLLMClient::new().with_environment(environment(&base));
    let native =
        VlloraLLMClient::new().with_environment(environment(&base)).with_gemini_native_json_schema(true);
    let mut with_env = base.to_vec();
    with_env.push(("VLLORA_GEMINI_SCHEMA_MODE", "native".to_owned()));
    let native_env = VlloraLLMClient::new().with_environment(environment(&with_env));
    for client in [&plain, &native, &native_env] {
        let result = client.completions().create(structured.clone()).await;
        assert!(result.is_ok(), "{result:?}");
    }
    let bodies: Vec<serde_json::Value> = server.requests().iter().map(|sent| sent.json()).collect();
    assert!(bodies[0]["generationConfig"].get("responseSchema").is_some());
    assert!(bodies[0]["generationConfig"].get("responseJsonSchema").is_none());
    for body in &bodies[1..] {
        assert_eq!(body["generationConfig"]["responseJsonSchema"], schema);
    }
}

#[tokio::test]
async fn bedrock_signs_with_the_clock_of_the_client_or_the_environment() {
    let server = MockServer::start().await;
    let answer = json!({"output": {"message": {"role": "assistant", "content": [{"text": "Hi"}]}},
        "stopReason": "end_turn", "usage": {"inputTokens": 1, "outputTokens": 1, "totalTokens": 2}, "metrics": {"latencyMs": 1}});
    server.respond_always("POST", "/model/amazon.nova-lite-v1/converse", MockResponse::json(200, answer));
    let aws = [
        ("AWS_ACCESS_KEY_ID", "AKIDTEST".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "secret".to_owned()),
        ("AWS_REGION", "us-east-1".to_owned()),
    ];
    // 2024-05-01T12:00:00Z.
    let fixed = UNIX_EPOCH + Duration::from_secs(1_714_564_800);
    let by_client = VlloraLLMClient::new()
        .with_environment(environment(&aws))
        .with_inference_endpoint(server.url())
        .with_bedrock_clock(move || fixed);
    let mut with_env = aws.to_vec();
    with_env.push(("VLLORA_BEDROCK_SIGNING_TIME", "1714651200".to_owned()));
    let by_env =
        VlloraLLMClient::new().with_environment(environment(&with_env)).with_inference_endpoint(server.url());
    for client in [&by_client, &by_env] {
        let result = client.completions().create(request("amazon.nova-lite-v1")).await;
        assert!(result.is_ok(), "{result:?}");
    }
    let sent = server.requests();
    assert_eq!(sent[0].header("x-amz-date"), Some("20240501T120000Z"));
    assert_eq!(sent[1].header("x-amz-date"), Some("20240502T120000Z"));
    let mut wrong = aws.to_vec();
    wrong.push(("VLLORA_BEDROCK_SIGNING_TIME", "yesterday".to_owned()));
    let client =
        VlloraLLMClient::new().with_environment(environment(&wrong)).with_inference_endpoint(server.url());
    let error = client.completions().create(request("amazon.nova-lite-v1")).await.err();
    assert!(error.is_some_and(|error| error.to_string().contains("VLLORA_BEDROCK_SIGNING_TIME")));
}
