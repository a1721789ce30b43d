//! Response metadata and extra headers against a loopback server: the request id, rate limits and status
//! on one-shot results, streams and errors, and the headers a call adds to its request.

#![allow(clippy::panic, reason = "a test fails by panicking, helpers included")]

use serde_json::json;
use vllora_llm_core::types::gateway::{ChatCompletionMessage, ChatCompletionRequest};
use vllora_llm_core::{CallOptions, LLMError, ModelInstance};
use vllora_llm_http::{HttpClient, HttpConfig};
use vllora_llm_openai::{OpenAIConfig, OpenAIDialect, OpenAIModel};
use vllora_llm_testkit::{MockResponse, MockServer};

fn model(server: &MockServer) -> OpenAIModel {
    let mut config = HttpConfig::default();
    config.retry.max_attempts = 1;
    let http = HttpClient::new(config).unwrap_or_else(|error| panic!("{error}"));
    OpenAIModel::new(OpenAIConfig::new("sk-test").with_base_url(format!("{}/v1", server.url())), http)
}

fn request() -> ChatCompletionRequest {
    ChatCompletionRequest {
        model: "gpt-4.1-mini".into(),
        messages: vec![ChatCompletionMessage::new_text("user", "Hi")],
        ..Default::default()
    }
}

fn with_rate_limits(response: MockResponse) -> MockResponse {
    response
        .header("x-request-id", "req_7c1e2")
        .header("openai-processing-ms", "231")
        .header("x-ratelimit-limit-requests", "500")
        .header("x-ratelimit-remaining-requests", "499")
        .header("x-ratelimit-reset-requests", "120ms")
        .header("x-ratelimit-limit-tokens", "30000")
        .header("x-ratelimit-remaining-tokens", "29990")
        .header("x-ratelimit-reset-tokens", "20ms")
}

#[tokio::test]
async fn one_shot_results_streams_and_errors_carry_the_request_id_and_rate_limits() {
    let server = MockServer::start().await;
    let answer = json!({"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "gpt-4.1-mini",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello"}, "finish_reason": "stop"}]});
    server.respond("POST", "/v1/chat/completions", with_rate_limits(MockResponse::json(200, answer)));
    server.respond(
        "POST",
        "/v1/chat/completions",
        with_rate_limits(MockResponse::sse([
            "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Hi\"},\"finish_reason\":\"stop\"}]}\n\n",
            "data: [DONE]\n\n",
        ])),
    );
    let limited = json!({"error": {"message": "Rate limit reached", "type": "requests", "code": "rate_limit_exceeded"}});
    server.respond(
        "POST",
        "/v1/chat/completions",
        MockResponse::json(429, limited)
            .header("x-request-id", "req_429")
            .header("x-ratelimit-remaining-requests", "0")
            .header("retry-after", "20"),
    );
    let model = model(&server);
    let options = CallOptions::default()
        .with_header("X-Trace-Id", "trace-1")
        .with_header("OpenAI-Beta", "assistants=v2");

    let result = model.complete(&request(), &options).await.unwrap_or_else(|error| panic!("{error}"));
    let metadata = result.response_metadata().cloned().unwrap_or_default();
    assert_eq!(metadata.status(), Some(200));
    assert_eq!(metadata.request_id(), Some("req_7c1e2"));
    let requests = metadata.rate_limit().requests.unwrap_or_default();
    assert_eq!(
        (requests.limit, requests.remaining, requests.reset.as_deref()),
        (Some(500), Some(499), Some("120ms"))
    );
    assert_eq!(metadata.rate_limit().tokens.as_ref().and_then(|tokens| tokens.remaining), Some(29990));
    assert_eq!(metadata.header("openai-processing-ms"), Some("231"));

    let mut stream = model.stream(&request(), &options).await.unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(stream.metadata().and_then(|metadata| metadata.request_id()), Some("req_7c1e2"));
    while let Some(chunk) = stream.next().await {
        assert!(chunk.is_ok(), "{chunk:?}");
    }

    let error = model.complete(&request(), &CallOptions::default()).await.err();
    let Some(error @ LLMError::Api(_)) = error else { panic!("expected an API error, got {error:?}") };
    assert_eq!(error.request_id(), Some("req_429"));
    let api = error.api_error().cloned().unwrap_or_default();
    let metadata = api.metadata.unwrap_or_default();
    assert_eq!(metadata.status(), Some(429));
    assert_eq!(metadata.rate_limit().requests.and_then(|requests| requests.remaining), Some(0));
    assert_eq!(metadata.retry_after(), Some(std::time::Duration::from_secs(20)));

    let sent = server.requests();
    assert_eq!(sent.len(), 3);
    for call in &sent[..2] {
        assert_eq!(call.header("x-trace-id"), Some("trace-1"));
        assert_eq!(call.header("openai-beta"), Some("assistants=v2"));
        assert_eq!(call.header("authorization"), Some("Bearer sk-test"));
    }
    assert_eq!(sent[2].header("x-trace-id"), None, "a call's headers are that call's only");
}

#[tokio::test]
async fn a_call_header_replaces_the_configured_one() {
    let server = MockServer::start().await;
    server.respond(
        "POST",
        "/v1/chat/completions",
        MockResponse::json(500, json!({"error": {"message": "x"}})),
    );
    let options = CallOptions::default().with_header("OpenAI-Organization", "org-call");
    let config = OpenAIConfig::new("sk-test")
        .with_base_url(format!("{}/v1", server.url()))
        .with_organization("org-config");
    let mut http_config = HttpConfig::default();
    http_config.retry.max_attempts = 1;
    let model =
        OpenAIModel::new(config, HttpClient::new(http_config).unwrap_or_else(|error| panic!("{error}")));
    let _ = model.complete(&request(), &options).await;
    let sent = server.requests();
    let organizations: Vec<&str> = sent[0]
        .headers
        .iter()
        .filter(|(name, _)| name == "openai-organization")
        .map(|(_, value)| value.as_str())
        .collect();
    assert_eq!(organizations, vec!["org-call"]);
}

#[tokio::test]
async fn deepseek_named_proxy_sends_reasoning_back_over_the_wire() {
    let server = MockServer::start().await;
    let answer = json!({"id": "d", "object": "chat.completion", "created": 1, "model": "deepseek-chat",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Saturday"}, "finish_reason": "stop"}]});
    server.respond("POST", "/v1/chat/completions", MockResponse::json(200, answer));
    let config = OpenAIConfig::proxy("deepseek", format!("{}/v1", server.url()));
    assert_eq!(config.host_dialect(), OpenAIDialect::DeepSeek);
    let http = HttpClient::new(HttpConfig::default()).unwrap_or_else(|error| panic!("{error}"));
    let model = OpenAIModel::new(config, http);
    let mut request = request();
    request.model = "deepseek-chat".into();
    let mut assistant = ChatCompletionMessage::new_text("assistant", "");
    assistant.content = None;
    assistant.reasoning_content = Some("Call the calendar.".into());
    assistant.tool_calls =
        Some(vec![vllora_llm_core::types::gateway::ToolCall::function("call_0", "today", "{}")]);
    request.messages.push(assistant);
    request.messages.push(ChatCompletionMessage::new_tool_result("call_0", "Friday"));
    let result = model.complete(&request, &CallOptions::strict(true)).await;
    assert!(result.is_ok(), "{result:?}");
    let body = server.requests()[0].json();
    assert_eq!(body["messages"][1]["reasoning_content"], "Call the calendar.");
}
