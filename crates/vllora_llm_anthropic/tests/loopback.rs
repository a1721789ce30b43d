//! Loopback tests: a real HTTP exchange with the test kit's mock server, asserting the exact request
//! Anthropic would receive (path, headers, JSON body) and exactly what the caller gets back.
#![allow(clippy::panic, reason = "a test fails by panicking, helpers included")]

use std::time::Duration;

use serde_json::{Value, json};
use vllora_llm_anthropic::{AnthropicConfig, AnthropicModel};
use vllora_llm_core::types::gateway::{
    ChatCompletionChunk, ChatCompletionMessage, ChatCompletionRequest, FinishReason, ProviderSpecificRequest,
    ThinkingConfig,
};
use vllora_llm_core::{CallOptions, LLMError, ModelInstance, Warning};
use vllora_llm_http::{HttpClient, HttpConfig, RetryPolicy};
use vllora_llm_testkit::{Chunking, MockResponse, MockServer, RecordedRequest, record_conformance};

const KEY: &str = "sk-ant-api03-loopback";

fn fixture(path: &str) -> String {
    let full = format!("{}/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&full).unwrap_or_else(|error| panic!("{full}: {error}"))
}

fn fixture_json(path: &str) -> Value {
    serde_json::from_str(&fixture(path)).unwrap_or_else(|error| panic!("{path}: {error}"))
}

/// The events of an SSE fixture, each as its own write.
fn sse_events(path: &str) -> Vec<String> {
    fixture(path).split_inclusive("\n\n").map(str::to_owned).collect()
}

fn http() -> HttpClient {
    let config = HttpConfig {
        retry: RetryPolicy {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(5),
            max_retry_after: Duration::from_secs(1),
        },
        ..HttpConfig::default()
    };
    let Ok(client) = HttpClient::new(config) else { panic!("the HTTP client builds") };
    client
}

fn model(server: &MockServer, config: AnthropicConfig) -> AnthropicModel {
    AnthropicModel::new(config.with_base_url(server.url()), http())
}

fn hello(model: &str) -> ChatCompletionRequest {
    ChatCompletionRequest {
        model: model.into(),
        messages: vec![
            ChatCompletionMessage::new_text("system", "Be brief."),
            ChatCompletionMessage::new_text("user", "What is the capital of France?"),
        ],
        max_tokens: Some(256),
        ..Default::default()
    }
}

fn only_request(server: &MockServer) -> RecordedRequest {
    let mut requests = server.requests();
    assert_eq!(requests.len(), 1, "exactly one request expected");
    let Some(request) = requests.pop() else { panic!("one request") };
    record_conformance("anthropic-messages", &request.json());
    request
}

#[tokio::test]
async fn one_shot_sends_the_exact_request_and_decodes_the_answer() {
    let server = MockServer::start().await;
    server.respond(
        "POST",
        "/v1/messages",
        MockResponse::json(200, fixture_json("responses/text_with_cache.anthropic.json")),
    );
    let model = model(&server, AnthropicConfig::new(KEY).with_beta("context-1m-2025-08-07"));
    let request =
        ChatCompletionRequest { temperature: Some(0.3), ..hello("anthropic/claude-sonnet-4-5-20250929") };
    let Ok(result) = model.complete(&request, &CallOptions::default()).await else { panic!("call succeeds") };

    let sent = only_request(&server);
    assert_eq!((sent.method.as_str(), sent.path.as_str()), ("POST", "/v1/messages"));
    assert_eq!(sent.header("x-api-key"), Some(KEY));
    assert_eq!(sent.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(sent.header("anthropic-beta"), Some("context-1m-2025-08-07"));
    assert_eq!(sent.header("content-type"), Some("application/json"));
    assert_eq!(sent.header("authorization"), None);
    assert_eq!(
        sent.json(),
        json!({
            "model": "claude-sonnet-4-5-20250929",
            "max_tokens": 256,
            "system": "Be brief.",
            "messages": [{"role": "user", "content": [{"type": "text", "text": "What is the capital of France?"}]}],
            "temperature": 0.3
        })
    );

    assert_eq!(
        result.message().content.as_ref().and_then(|content| content.as_str()),
        Some("Paris is the capital of France.")
    );
    assert_eq!(result.finish_reason(), Some(&FinishReason::Stop));
    assert_eq!(
        result.usage().map(|usage| (
            usage.prompt_tokens,
            usage.cached_tokens(),
            usage.cache_creation_tokens()
        )),
        Some((2110, 2048, 40))
    );
    assert!(result.warnings().is_empty());
    assert_eq!(model.provider_name(), "anthropic");
    assert!(!format!("{model:?}").contains(KEY), "the key never shows in Debug");
}

#[tokio::test]
async fn bearer_auth_api_version_2026_10_21_and_betas_a_feature_needs() {
    let server = MockServer::start().await;
    server.respond(
        "POST",
        "/v1/messages",
        MockResponse::json(200, fixture_json("responses/text_with_cache.anthropic.json")),
    );
    let config =
        AnthropicConfig::new(KEY).with_bearer_auth(true).with_api_version("2026-10-21").with_beta("a-beta");
    let model = model(&server, config).with_model("anthropic/claude-opus-4-1-20250805");
    let request = ChatCompletionRequest {
        temperature: Some(0.3),
        response_format: Some(vllora_llm_core::types::gateway::ResponseFormat::JsonSchema {
            json_schema: vllora_llm_core::types::gateway::JsonSchemaFormat {
                name: "answer".into(),
                schema: Some(json!({"type": "object", "properties": {"city": {"type": "string"}}})),
                ..Default::default()
            },
        }),
        ..hello("ignored")
    };
    let Ok(result) = model.complete(&request, &CallOptions::default()).await else { panic!("call succeeds") };
    let sent = only_request(&server);
    let bearer = format!("Bearer {KEY}");
    assert_eq!(sent.header("authorization"), Some(bearer.as_str()));
    assert_eq!(sent.header("x-api-key"), None);
    assert_eq!(sent.header("anthropic-version"), Some("2026-10-21"));
    assert_eq!(sent.header("anthropic-beta"), Some("a-beta,structured-outputs-2025-11-13"));
    let body = sent.json();
    assert_eq!(body["model"], "claude-opus-4-1-20250805");
    assert!(body.get("temperature").is_none());
    assert_eq!(body["output_format"]["type"], "json_schema");
    assert_eq!(
        result.warnings(),
        [Warning::unsupported_because(
            "temperature",
            "API version 2026-10-21 removed the sampling parameters"
        )]
    );
}

#[tokio::test]
async fn strict_mode_refuses_before_sending_anything() {
    let server = MockServer::start().await;
    let model = model(&server, AnthropicConfig::new(KEY));
    let request = ChatCompletionRequest { seed: Some(3), ..hello("claude-sonnet-4-5") };
    let outcome = model.complete(&request, &CallOptions::strict(true)).await;
    assert!(
        matches!(outcome, Err(LLMError::Unsupported(ref warnings)) if warnings == &[Warning::unsupported("seed")])
    );
    let thinking = ChatCompletionRequest {
        provider_specific: Some(ProviderSpecificRequest {
            thinking: Some(ThinkingConfig::enabled(500)),
            ..Default::default()
        }),
        ..hello("claude-sonnet-4-5")
    };
    let outcome = model.stream(&thinking, &CallOptions::default()).await;
    assert!(matches!(outcome, Err(LLMError::InvalidRequest(_))));
    assert!(server.requests().is_empty());
}

async fn collect(stream: &mut vllora_llm_core::ResultStream) -> (Vec<ChatCompletionChunk>, Option<LLMError>) {
    let mut chunks = Vec::new();
    while let Some(item) = stream.next().await {
        match item {
            Ok(chunk) => chunks.push(chunk),
            Err(error) => return (chunks, Some(error)),
        }
    }
    (chunks, None)
}

#[tokio::test]
async fn stream_sends_stream_true_and_gives_the_same_chunks_under_any_chunking() {
    let mut reference: Option<Vec<ChatCompletionChunk>> = None;
    for chunking in
        [Chunking::AsWritten, Chunking::Bytes(1), Chunking::Random { seed: 7, max: 40 }, Chunking::Whole]
    {
        let server = MockServer::start().await;
        server.respond(
            "POST",
            "/v1/messages",
            MockResponse::sse(sse_events("streams/tools.sse")).chunking(chunking),
        );
        let model = model(&server, AnthropicConfig::new(KEY));
        let Ok(mut stream) = model.stream(&hello("claude-sonnet-4-5"), &CallOptions::default()).await else {
            panic!("stream starts")
        };
        let (chunks, error) = collect(&mut stream).await;
        assert!(error.is_none(), "{error:?}");
        let sent = only_request(&server);
        assert_eq!(sent.json()["stream"], true);
        assert_eq!(sent.header("anthropic-version"), Some("2023-06-01"));
        let finish: Vec<_> = chunks
            .iter()
            .flat_map(|chunk| &chunk.choices)
            .filter_map(|choice| choice.finish_reason.clone())
            .collect();
        assert_eq!(finish, [FinishReason::ToolCalls]);
        let raw: Vec<_> = chunks
            .iter()
            .flat_map(|chunk| &chunk.choices)
            .filter_map(|choice| choice.raw_finish_reason.as_deref())
            .collect();
        assert_eq!(raw, ["tool_use"], "Anthropic's own stop_reason beside the unified one");
        assert!(chunks.last().is_some_and(|chunk| chunk.choices.is_empty() && chunk.usage.is_some()));
        match &reference {
            None => reference = Some(chunks),
            Some(expected) => assert_eq!(&chunks, expected),
        }
    }
}

#[tokio::test]
async fn mid_stream_overloaded_error_reaches_the_caller_as_retryable() {
    let server = MockServer::start().await;
    server.respond("POST", "/v1/messages", MockResponse::sse(sse_events("streams/overloaded.sse")));
    let model = model(&server, AnthropicConfig::new(KEY));
    let Ok(mut stream) = model.stream(&hello("claude-sonnet-4-5"), &CallOptions::default()).await else {
        panic!("stream starts")
    };
    let (chunks, error) = collect(&mut stream).await;
    let text: String = chunks
        .iter()
        .flat_map(|chunk| &chunk.choices)
        .filter_map(|choice| choice.delta.content.clone())
        .collect();
    assert_eq!(text, "Partial");
    let Some(error) = error else { panic!("the error event must surface") };
    assert!(error.is_retryable());
    assert_eq!(error.api_error().and_then(|api| api.error_type.clone()).as_deref(), Some("overloaded_error"));
    assert_eq!(server.requests().len(), 1, "nothing is retried once the stream has started");
}

fn error_body(kind: &str, message: &str) -> Value {
    json!({"type": "error", "error": {"type": kind, "message": message}, "request_id": "req_011CSHoEeqs5C35K2UUqR7Fy"})
}

#[tokio::test]
async fn rate_limit_with_retry_after_and_overloaded_are_retried() {
    let server = MockServer::start().await;
    server.respond(
        "POST",
        "/v1/messages",
        MockResponse::json(429, error_body("rate_limit_error", "Rate limited")).header("retry-after", "0"),
    );
    server.respond(
        "POST",
        "/v1/messages",
        MockResponse::json(529, error_body("overloaded_error", "Overloaded")),
    );
    server.respond(
        "POST",
        "/v1/messages",
        MockResponse::json(200, fixture_json("responses/text_with_cache.anthropic.json")),
    );
    let model = model(&server, AnthropicConfig::new(KEY));
    let outcome = model.complete(&hello("claude-sonnet-4-5"), &CallOptions::default()).await;
    assert!(outcome.is_ok(), "{:?}", outcome.err());
    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    assert!(requests.windows(2).all(|pair| pair[0].body == pair[1].body), "the same body is resent");
}

#[tokio::test]
async fn bad_request_is_not_retried_and_keeps_anthropics_details() {
    let server = MockServer::start().await;
    server.respond_always(
        "POST",
        "/v1/messages",
        MockResponse::json(400, error_body("invalid_request_error", "max_tokens: Field required")),
    );
    let model = model(&server, AnthropicConfig::new(KEY));
    let outcome = model.complete(&hello("claude-sonnet-4-5"), &CallOptions::default()).await;
    let Err(error) = outcome else { panic!("a 400 is an error") };
    assert_eq!(error.status(), Some(400));
    assert!(!error.is_retryable());
    assert_eq!(
        error.to_string(),
        "anthropic API error (HTTP 400, invalid_request_error): max_tokens: Field required"
    );
    assert!(!error.to_string().contains(KEY));
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn a_retry_after_longer_than_allowed_is_returned_at_once() {
    let server = MockServer::start().await;
    server.respond_always(
        "POST",
        "/v1/messages",
        MockResponse::json(429, error_body("rate_limit_error", "Rate limited")).header("retry-after", "30"),
    );
    let model = model(&server, AnthropicConfig::new(KEY));
    let Err(error) = model.complete(&hello("claude-sonnet-4-5"), &CallOptions::default()).await else {
        panic!("429 is an error")
    };
    assert_eq!(error.status(), Some(429));
    assert!(error.is_retryable());
    assert_eq!(error.retry_after(), Some(Duration::from_secs(30)));
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn thinking_and_tool_use_round_trip_into_the_next_turn() {
    let server = MockServer::start().await;
    server.respond(
        "POST",
        "/v1/messages",
        MockResponse::json(200, fixture_json("responses/thinking_tool_use.anthropic.json")),
    );
    server.respond(
        "POST",
        "/v1/messages",
        MockResponse::json(200, fixture_json("responses/text_with_cache.anthropic.json")),
    );
    let model = model(&server, AnthropicConfig::new(KEY));
    let mut request = ChatCompletionRequest {
        max_tokens: Some(4096),
        provider_specific: Some(ProviderSpecificRequest {
            thinking: Some(ThinkingConfig::enabled(2048)),
            ..Default::default()
        }),
        tools: Some(vec![vllora_llm_core::types::gateway::ChatCompletionTool::function(
            vllora_llm_core::types::gateway::FunctionDefinition {
                name: "get_weather".into(),
                parameters: Some(json!({"type": "object", "properties": {"location": {"type": "string"}}})),
                ..Default::default()
            },
        )]),
        messages: vec![ChatCompletionMessage::new_text("user", "Weather in Paris?")],
        ..hello("claude-sonnet-4-5")
    };
    let Ok(first) = model.complete(&request, &CallOptions::default()).await else { panic!("first turn") };
    assert_eq!(first.finish_reason(), Some(&FinishReason::ToolCalls));
    let assistant = first.message().clone();
    let call_id = assistant.tool_calls.as_ref().and_then(|calls| calls.first()).map(|call| call.id.clone());
    assert_eq!(call_id.as_deref(), Some("toolu_01CswdEQBMshySk6Y9DFKrfq"));
    request.messages.push(assistant);
    request.messages.push(ChatCompletionMessage::new_tool_result("toolu_01CswdEQBMshySk6Y9DFKrfq", "18°C"));
    let Ok(_) = model.complete(&request, &CallOptions::default()).await else { panic!("second turn") };

    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    let second = requests[1].json();
    record_conformance("anthropic-messages", &second);
    assert_eq!(
        second["messages"],
        json!([
            {"role": "user", "content": [{"type": "text", "text": "Weather in Paris?"}]},
            {"role": "assistant", "content": [
                {"type": "thinking", "thinking": "The user wants the weather in Paris; I should call get_weather.",
                 "signature": "EuYBCkQYAiJAgCs1le6/Pol5Z4/JMomVOouGrWdhYNsH3ukzUECbB6iWrSQtsQuRHJID6lWV"},
                {"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpP"},
                {"type": "tool_use", "id": "toolu_01CswdEQBMshySk6Y9DFKrfq", "name": "get_weather", "input": {"location": "Paris"}}
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_01CswdEQBMshySk6Y9DFKrfq", "content": [{"type": "text", "text": "18°C"}]}
            ]}
        ])
    );
    assert_eq!(second["thinking"], json!({"type": "enabled", "budget_tokens": 2048}));
}

#[tokio::test]
async fn a_finished_stream_leaves_its_connection_for_the_next_call() {
    let server = MockServer::start().await;
    server.respond_always("POST", "/v1/messages", MockResponse::sse(sse_events("streams/text.sse")));
    let model = model(&server, AnthropicConfig::new(KEY));
    for _ in 0..2 {
        let Ok(mut stream) = model.stream(&hello("claude-sonnet-4-5"), &CallOptions::default()).await else {
            panic!("stream starts")
        };
        let (chunks, error) = collect(&mut stream).await;
        assert!(error.is_none(), "{error:?}");
        assert!(chunks.last().is_some_and(|chunk| chunk.usage.is_some()));
    }
    assert_eq!(server.requests().len(), 2);
    assert_eq!(server.connections_opened(), 1, "the second stream reuses the first one's connection");

    // A server that goes on talking after message_stop, then holds the connection open, does not keep
    // the caller waiting: message_stop ends the stream.
    let server = MockServer::start().await;
    let mut events = sse_events("streams/text.sse");
    events.push("event: ping\ndata: {\"type\": \"ping\"}\n\n".to_owned());
    let length: usize = events.iter().map(String::len).sum();
    server.respond("POST", "/v1/messages", MockResponse::sse(events).stall_after(length));
    let config = HttpConfig {
        timeouts: vllora_llm_http::Timeouts { idle: Some(Duration::from_secs(20)), ..Default::default() },
        ..HttpConfig::default()
    };
    let Ok(http) = HttpClient::new(config) else { panic!("the HTTP client builds") };
    let model = AnthropicModel::new(AnthropicConfig::new(KEY).with_base_url(server.url()), http);
    let started = std::time::Instant::now();
    let Ok(mut stream) = model.stream(&hello("claude-sonnet-4-5"), &CallOptions::default()).await else {
        panic!("stream starts")
    };
    let (chunks, error) = collect(&mut stream).await;
    assert!(error.is_none(), "{error:?}");
    assert!(chunks.last().is_some_and(|chunk| chunk.usage.is_some()));
    assert!(started.elapsed() < Duration::from_secs(10), "took {:?}", started.elapsed());
}

/// A two-turn conversation with server tools: the first answer (thinking, text, a web search and its
/// results, cited text, a code execution, more thinking, a tool call) comes back to the caller with its block
/// order in `provider_content`; sending that message back gives Anthropic every block exactly as it wrote
/// it, in its order, and the native tools and MCP servers given in `provider_specific` reach the body.
#[tokio::test]
async fn server_tool_and_thinking_blocks_go_back_in_order_on_the_next_turn() {
    let server = MockServer::start().await;
    let first = fixture_json("responses/server_tools_citations.anthropic.json");
    server.respond_always("POST", "/v1/messages", MockResponse::json(200, first.clone()));
    let model = model(&server, AnthropicConfig::new(KEY));
    let web_search = json!({"type": "web_search_20250305", "name": "web_search", "max_uses": 3});
    let mcp = json!([{"type": "url", "url": "https://mcp.example.com/sse", "name": "example"}]);
    let mut extra = serde_json::Map::new();
    extra.insert("tools".to_owned(), json!([web_search]));
    extra.insert("mcp_servers".to_owned(), mcp.clone());
    let specific = ProviderSpecificRequest {
        thinking: Some(ThinkingConfig::enabled(2048)),
        extra,
        ..Default::default()
    };
    let mut request = ChatCompletionRequest {
        provider_specific: Some(specific),
        max_tokens: Some(4096),
        ..hello("claude-sonnet-4-5-20250929")
    };
    let Ok(answer) = model.complete(&request, &CallOptions::default()).await else { panic!("first turn") };
    assert!(answer.warnings().is_empty(), "{:?}", answer.warnings());
    let mut assistant = answer.message().clone();
    // The caller stores the message as JSON and reads it back, as a gateway does.
    let stored = serde_json::to_string(&assistant).unwrap_or_default();
    assistant = serde_json::from_str(&stored).unwrap_or_else(|error| panic!("{error}"));
    request.messages.push(assistant);
    request.messages.push(ChatCompletionMessage::new_tool_result("toolu_01Weather", "12°C, clear"));
    let second = model
        .complete(&request, &CallOptions::default())
        .await
        .unwrap_or_else(|error| panic!("second turn: {error}"));
    assert!(second.warnings().is_empty(), "{:?}", second.warnings());

    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    let sent = requests[1].json();
    record_conformance("anthropic-messages", &sent);
    let mut expected_blocks = first["content"].clone();
    // The one block Anthropic wrote `"citations": null` on goes back without the null.
    if let Some(block) = expected_blocks.get_mut(1).and_then(Value::as_object_mut) {
        block.remove("citations");
    }
    assert_eq!(sent["messages"][1], json!({"role": "assistant", "content": expected_blocks}));
    assert_eq!(
        sent["messages"][2]["content"],
        json!([{"type": "tool_result", "tool_use_id": "toolu_01Weather", "content": [{"type": "text", "text": "12°C, clear"}]}])
    );
    assert_eq!(sent["tools"], json!([web_search]));
    assert_eq!(sent["mcp_servers"], mcp);
    assert_eq!(requests[0].json()["tools"], json!([web_search]));
}

/// Another provider's native blocks in a message cannot go to Anthropic: they are left out with a
/// warning, and the message's text and calls still go in the default order.
#[tokio::test]
async fn another_providers_native_blocks_are_dropped_with_a_warning() {
    use vllora_llm_core::ProviderId;
    use vllora_llm_core::types::gateway::ProviderContent;
    let server = MockServer::start().await;
    server.respond(
        "POST",
        "/v1/messages",
        MockResponse::json(200, fixture_json("responses/text_with_cache.anthropic.json")),
    );
    let model = model(&server, AnthropicConfig::new(KEY));
    let mut assistant = ChatCompletionMessage::new_text("assistant", "The answer is 2.");
    assistant.provider_content = Some(vec![
        ProviderContent::native(
            ProviderId::GEMINI,
            json!({"executableCode": {"language": "PYTHON", "code": "print(1+1)"}}),
        ),
        ProviderContent::text(ProviderId::GEMINI, 16, None),
    ]);
    let mut request = hello("claude-sonnet-4-5-20250929");
    request.messages.push(assistant);
    request.messages.push(ChatCompletionMessage::new_text("user", "Thanks"));
    let Ok(result) = model.complete(&request, &CallOptions::default()).await else { panic!("call succeeds") };
    let sent = only_request(&server).json();
    assert_eq!(
        sent["messages"][1],
        json!({"role": "assistant", "content": [{"type": "text", "text": "The answer is 2."}]})
    );
    let parameters: Vec<Option<&str>> = result.warnings().iter().map(Warning::parameter).collect();
    assert_eq!(parameters, [Some("messages[2].provider_content")]);
    let strict = model.complete(&request, &CallOptions::strict(true)).await;
    assert!(matches!(strict, Err(LLMError::Unsupported(_))), "{strict:?}");
}
