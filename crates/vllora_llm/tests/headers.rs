//! Extra headers set on the client and on one call reach the provider's request, and the response's
//! metadata (status, request id) reaches the caller through the facade, one-shot and streamed.

#![cfg(feature = "openai")]
#![allow(clippy::panic, reason = "a test fails by panicking")]

use serde_json::json;
use vllora_llm::client::VlloraLLMClient;
use vllora_llm::types::gateway::{ChatCompletionMessage, ChatCompletionRequest};
use vllora_llm_testkit::{MockResponse, MockServer};

fn request() -> ChatCompletionRequest {
    ChatCompletionRequest {
        model: "openai/gpt-4.1-mini".into(),
        messages: vec![ChatCompletionMessage::new_text("user", "Hi")],
        ..Default::default()
    }
}

#[tokio::test]
async fn client_and_call_headers_reach_the_request_and_metadata_comes_back() {
    let server = MockServer::start().await;
    let answer = json!({"id": "c1", "object": "chat.completion", "created": 1, "model": "gpt-4.1-mini",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello"}, "finish_reason": "stop"}]});
    server.respond(
        "POST",
        "/v1/chat/completions",
        MockResponse::json(200, answer).header("x-request-id", "req_a"),
    );
    server.respond(
        "POST",
        "/v1/chat/completions",
        MockResponse::sse([
            "data: {\"id\":\"c2\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"},\"finish_reason\":\"stop\"}]}\n\n",
            "data: [DONE]\n\n",
        ])
        .header("x-request-id", "req_b"),
    );
    let client = VlloraLLMClient::new()
        .with_credentials(vllora_llm::types::Credentials::api_key("sk-test"))
        .with_inference_endpoint(format!("{}/v1", server.url()))
        .with_header("HTTP-Referer", "https://gateway.example")
        .with_header("X-Title", "client");

    let result = client.completions().with_header("X-Title", "call").create(request()).await;
    let result = result.unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(result.response_metadata().and_then(|metadata| metadata.request_id()), Some("req_a"));

    let stream = client.completions().create_stream(request()).await;
    let mut stream = stream.unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(
        stream.metadata().map(|metadata| (metadata.status(), metadata.request_id())),
        Some((Some(200), Some("req_b")))
    );
    while let Some(chunk) = stream.next().await {
        assert!(chunk.is_ok(), "{chunk:?}");
    }

    let sent = server.requests();
    assert_eq!(sent.len(), 2);
    let titles = |index: usize| -> Vec<String> {
        sent[index]
            .headers
            .iter()
            .filter(|(name, _)| name == "x-title")
            .map(|(_, value)| value.clone())
            .collect()
    };
    assert_eq!(titles(0), vec!["call".to_owned()], "a call's header replaces the client's");
    assert_eq!(titles(1), vec!["client".to_owned()]);
    for call in &sent {
        assert_eq!(call.header("http-referer"), Some("https://gateway.example"));
    }
}
