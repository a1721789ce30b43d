//! Loopback tests: a `GeminiModel` and a `GeminiCacheClient` against the test kit's mock server, checking
//! the exact request Gemini would receive and what the caller gets back.
#![allow(clippy::panic, reason = "a test fails by panicking, helpers included")]

use std::path::PathBuf;
use std::time::Duration;

use serde_json::{Value, json};
use vllora_llm_core::types::gateway::{
    ChatCompletionMessage, ChatCompletionRequest, ChatCompletionTool, FinishReason, FunctionDefinition,
    ProviderSpecificRequest,
};
use vllora_llm_core::{CallOptions, LLMError, ModelInstance};
use vllora_llm_gemini::{GeminiCacheClient, GeminiCacheRequest, GeminiConfig, GeminiModel, PROVIDER_NAME};
use vllora_llm_http::{HttpClient, HttpConfig, HyperTransport, Limits, ProxyConfig, RetryPolicy};
use vllora_llm_testkit::{Chunking, MockResponse, MockServer, RecordedRequest, record_conformance};

const KEY: &str = "AIzaSyLoopbackTestKey0123456789";

fn fixture(path: &str) -> Vec<u8> {
    let full = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(path);
    std::fs::read(&full).unwrap_or_else(|error| panic!("{}: {error}", full.display()))
}

fn fixture_json(path: &str) -> Value {
    serde_json::from_slice(&fixture(path)).unwrap_or_else(|error| panic!("{path}: {error}"))
}

fn http(max_attempts: u32) -> HttpClient {
    let retry = RetryPolicy {
        max_attempts,
        initial_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(20),
        max_retry_after: Duration::from_secs(2),
    };
    let config = HttpConfig { retry, ..HttpConfig::default() };
    // No proxy, whatever the environment says: these requests must reach the loopback server.
    let transport =
        HyperTransport::new(&config.timeouts, &ProxyConfig::none()).unwrap_or_else(|error| panic!("{error}"));
    HttpClient::with_transport(std::sync::Arc::new(transport), config)
}

fn model(server: &MockServer, max_attempts: u32) -> GeminiModel {
    GeminiModel::new(GeminiConfig::new(KEY).with_base_url(server.url()), http(max_attempts))
}

fn serve_json(server: &MockServer, path: &str, status: u16, body: Value) {
    if status == 200 {
        record_conformance("gemini-response", &body);
    }
    server.respond("POST", path, MockResponse::json(status, body));
}

/// The key travels in its header only: never in the path or query.
fn assert_authenticated(request: &RecordedRequest) {
    assert_eq!(request.header("x-goog-api-key"), Some(KEY));
    assert!(!request.path.contains(KEY) && !request.query.as_deref().unwrap_or_default().contains(KEY));
    assert!(request.header("authorization").is_none());
}

fn gateway(name: &str) -> ChatCompletionRequest {
    serde_json::from_slice(&fixture(&format!("requests/{name}.gateway.json")))
        .unwrap_or_else(|error| panic!("{error}"))
}

#[tokio::test]
async fn a_tool_conversation_is_sent_as_gemini_expects_and_parallel_calls_come_back() {
    let server = MockServer::start().await;
    let path = "/v1beta/models/gemini-2.5-flash:generateContent";
    serve_json(&server, path, 200, fixture_json("responses/parallel_calls.gemini.json"));
    let request = gateway("tools_conversation");
    let result = model(&server, 1).complete(&request, &CallOptions::default()).await;
    let Ok(result) = result else { panic!("{result:?}") };

    let received = server.requests();
    assert_eq!(received.len(), 1);
    assert_eq!(
        (received[0].method.as_str(), received[0].path.as_str(), received[0].query.as_deref()),
        ("POST", path, None)
    );
    assert_authenticated(&received[0]);
    assert_eq!(received[0].header("content-type"), Some("application/json"));
    assert_eq!(received[0].json(), fixture_json("requests/tools_conversation.gemini.json"));
    record_conformance("gemini-generate", &received[0].json());

    assert_eq!(result.finish_reason(), Some(&FinishReason::ToolCalls));
    let calls = result.message().tool_calls.clone().unwrap_or_default();
    let ids: Vec<&str> = calls.iter().map(|call| call.id.as_str()).collect();
    assert_eq!(ids, ["call_resp-1_0_0", "call_resp-1_0_1"]);
    assert_eq!(result.model(), "gemini-3-flash-preview");
    assert!(result.warnings().is_empty());
}

#[tokio::test]
async fn the_answer_goes_back_next_turn_with_its_signature_and_names() {
    // Turn 1: Gemini calls the same function twice; turn 2 sends the calls and both results back.
    let server = MockServer::start().await;
    let path = "/v1beta/models/gemini-3-flash-preview:generateContent";
    serve_json(&server, path, 200, fixture_json("responses/parallel_calls.gemini.json"));
    serve_json(&server, path, 200, fixture_json("responses/text_with_thoughts.gemini.json"));
    let gemini = model(&server, 1).with_model("gemini/gemini-3-flash-preview");
    let mut request = ChatCompletionRequest {
        model: "ignored-by-with-model".into(),
        messages: vec![ChatCompletionMessage::new_text("user", "Weather in Paris and Rome?")],
        tools: Some(vec![ChatCompletionTool::function(FunctionDefinition {
            name: "get_weather".into(),
            parameters: Some(json!({"type": "object", "properties": {"city": {"type": "string"}}})),
            ..Default::default()
        })]),
        ..Default::default()
    };
    let Ok(first) = gemini.complete(&request, &CallOptions::default()).await else { panic!("turn 1") };
    let assistant = first.message().clone();
    let calls = assistant.tool_calls.clone().unwrap_or_default();
    request.messages.push(assistant);
    request
        .messages
        .push(ChatCompletionMessage::new_tool_result(calls[1].id.clone(), "{\"sky\": \"sunny\"}"));
    request.messages.push(ChatCompletionMessage::new_tool_result(calls[0].id.clone(), "{\"sky\": \"rain\"}"));
    let Ok(second) = gemini.complete(&request, &CallOptions::default()).await else { panic!("turn 2") };
    assert_eq!(
        second.message().reasoning_content.as_deref().map(|text| text.starts_with("**Weighing")),
        Some(true)
    );

    let sent = server.requests()[1].json();
    record_conformance("gemini-generate", &sent);
    assert_eq!(
        sent["contents"][1],
        json!({"role": "model", "parts": [
            {"functionCall": {"id": "call_resp-1_0_0", "name": "get_weather", "args": {"city": "Paris"}},
             "thoughtSignature": "CiQBjz1rX2sig/paris=="},
            {"functionCall": {"id": "call_resp-1_0_1", "name": "get_weather", "args": {"city": "Rome", "unit": "c"}}}
        ]})
    );
    // The results were given Rome first; they go back in call order, each with its call's id.
    assert_eq!(
        sent["contents"][2],
        json!({"role": "user", "parts": [
            {"functionResponse": {"id": "call_resp-1_0_0", "name": "get_weather", "response": {"sky": "rain"}}},
            {"functionResponse": {"id": "call_resp-1_0_1", "name": "get_weather", "response": {"sky": "sunny"}}}
        ]})
    );
}

#[tokio::test]
async fn streaming_uses_sse_and_gives_the_same_chunks_at_any_chunking() {
    let body = fixture("streams/text_and_thoughts.sse");
    let events: Vec<String> =
        String::from_utf8_lossy(&body).split_inclusive("\r\n\r\n").map(str::to_owned).collect();
    let expected = fixture_json("streams/text_and_thoughts.expected.json");
    for chunking in
        [Chunking::AsWritten, Chunking::Bytes(1), Chunking::Random { seed: 7, max: 13 }, Chunking::Whole]
    {
        let server = MockServer::start().await;
        let path = "/v1beta/models/gemini-3-flash-preview:streamGenerateContent";
        server.respond("POST", path, MockResponse::sse(events.clone()).chunking(chunking));
        let mut request = gateway("thinking_gemini3");
        request.stream = Some(true);
        let stream = model(&server, 1).stream(&request, &CallOptions::default()).await;
        let Ok(mut stream) = stream else { panic!("{stream:?}") };
        let mut chunks = Vec::new();
        while let Some(chunk) = stream.next().await {
            let Ok(chunk) = chunk else { panic!("{chunk:?}") };
            let mut chunk = serde_json::to_value(chunk).unwrap_or_default();
            chunk["created"] = json!(1_700_000_000);
            chunks.push(chunk);
        }
        assert_eq!(Value::Array(chunks), expected, "{chunking:?}");
        let received = &server.requests()[0];
        assert_eq!((received.path.as_str(), received.query.as_deref()), (path, Some("alt=sse")));
        assert_authenticated(received);
        let mut expected_body = fixture_json("requests/thinking_gemini3.gemini.json");
        expected_body.as_object_mut().map(|body| body.remove("stream"));
        assert_eq!(received.json(), expected_body);
    }
}

#[tokio::test]
async fn quota_and_server_errors_are_retried_after_the_delay_gemini_asks_for() {
    let server = MockServer::start().await;
    let path = "/v1beta/models/gemini-2.5-flash:generateContent";
    let quota = json!({"error": {"code": 429, "message": "Resource has been exhausted (e.g. check quota).",
        "status": "RESOURCE_EXHAUSTED",
        "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "0.020s"}]}});
    serve_json(&server, path, 429, quota);
    serve_json(
        &server,
        path,
        500,
        json!({"error": {"code": 500, "message": "An internal error has occurred.", "status": "INTERNAL"}}),
    );
    serve_json(
        &server,
        path,
        503,
        json!({"error": {"code": 503, "message": "The model is overloaded.", "status": "UNAVAILABLE"}}),
    );
    serve_json(&server, path, 200, fixture_json("responses/two_candidates.gemini.json"));
    let request = ChatCompletionRequest { n: Some(2), ..gateway("media").with_model("gemini-2.5-flash") };
    let result = model(&server, 4).complete(&request, &CallOptions::default()).await;
    let Ok(result) = result else { panic!("{result:?}") };
    assert_eq!(result.choices().len(), 2);
    assert_eq!(server.requests().len(), 4);
    assert!(server.requests().iter().all(|received| received.json() == server.requests()[0].json()));
}

#[tokio::test]
async fn errors_are_mapped_and_never_show_the_key() {
    let server = MockServer::start().await;
    let path = "/v1beta/models/gemini-2.5-flash:generateContent";
    serve_json(
        &server,
        path,
        400,
        json!({"error": {"code": 400, "status": "INVALID_ARGUMENT",
        "message": "API key not valid. Please pass a valid API key.",
        "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID"}]}}),
    );
    let long_wait = json!({"error": {"code": 429, "status": "RESOURCE_EXHAUSTED", "message": "Quota exceeded.",
        "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "3600s"}]}});
    serve_json(&server, path, 429, long_wait);
    let request = gateway("media").with_model("gemini-2.5-flash");
    let gemini = model(&server, 3);

    let Err(error) = gemini.complete(&request, &CallOptions::default()).await else { panic!("a 400") };
    assert_eq!(error.status(), Some(400));
    assert!(!error.is_retryable());
    assert_eq!(error.provider(), Some(PROVIDER_NAME));
    let shown = format!("{error} {error:?}");
    assert!(!shown.contains(KEY), "{shown}");

    // Waiting an hour is the caller's decision: returned at once, with the delay.
    let Err(error) = gemini.complete(&request, &CallOptions::default()).await else { panic!("a 429") };
    assert!(error.is_retryable());
    assert_eq!(error.retry_after(), Some(Duration::from_secs(3600)));
    assert_eq!(server.requests().len(), 2);
    assert!(!format!("{gemini:?}").contains(KEY));
}

#[tokio::test]
async fn strict_mode_refuses_before_sending_and_lenient_mode_reports_warnings() {
    let server = MockServer::start().await;
    let path = "/v1beta/models/gemini-2.5-flash:generateContent";
    serve_json(&server, path, 200, fixture_json("responses/text_with_thoughts.gemini.json"));
    let request = ChatCompletionRequest {
        logit_bias: Some([("1".to_owned(), 5)].into_iter().collect()),
        ..gateway("media").with_model("gemini-2.5-flash")
    };
    let gemini = model(&server, 1);
    let refused = gemini.complete(&request, &CallOptions::strict(true)).await;
    assert!(matches!(refused, Err(LLMError::Unsupported(_))));
    assert!(gemini.stream(&request, &CallOptions::strict(true)).await.is_err());
    assert!(server.requests().is_empty(), "nothing may be sent in strict mode");
    let Ok(result) = gemini.complete(&request, &CallOptions::default()).await else { panic!("lenient") };
    assert_eq!(
        result.warnings().iter().filter_map(|warning| warning.parameter()).collect::<Vec<_>>(),
        ["logit_bias"]
    );
}

#[tokio::test]
async fn a_stream_error_before_the_body_is_an_error_and_a_cut_body_is_reported() {
    let server = MockServer::start().await;
    let path = "/v1beta/models/gemini-2.5-flash:streamGenerateContent";
    serve_json(
        &server,
        path,
        503,
        json!({"error": {"code": 503, "message": "overloaded", "status": "UNAVAILABLE"}}),
    );
    let events: Vec<String> = String::from_utf8_lossy(&fixture("streams/truncated.sse"))
        .split_inclusive("\r\n\r\n")
        .map(str::to_owned)
        .collect();
    server.respond("POST", path, MockResponse::sse(events));
    let request = gateway("media").with_model("gemini-2.5-flash");
    let gemini = model(&server, 1);
    let Err(error) = gemini.stream(&request, &CallOptions::default()).await else { panic!("a 503") };
    assert_eq!(error.status(), Some(503));
    let Ok(mut stream) = gemini.stream(&request, &CallOptions::default()).await else { panic!("a stream") };
    let mut last = None;
    while let Some(item) = stream.next().await {
        last = Some(item);
    }
    // A body cut before the answer ended: the driver's error, the same for every provider.
    assert!(matches!(last, Some(Err(LLMError::Connection { .. }))), "{last:?}");
}

#[tokio::test]
async fn a_complete_answer_does_not_wait_for_the_server_to_close_the_body() {
    let server = MockServer::start().await;
    let path = "/v1beta/models/gemini-2.5-flash:streamGenerateContent";
    let body = fixture("streams/function_calls.sse");
    let events: Vec<String> =
        String::from_utf8_lossy(&body).split_inclusive("\r\n\r\n").map(str::to_owned).collect();
    // Everything is sent, then the connection stays open with nothing more to come.
    server.respond("POST", path, MockResponse::sse(events).stall_after(body.len()));
    let request = gateway("media").with_model("gemini-2.5-flash");
    let Ok(mut stream) = model(&server, 1).stream(&request, &CallOptions::default()).await else {
        panic!("a stream")
    };
    let collected = tokio::time::timeout(Duration::from_secs(5), async {
        let mut items = Vec::new();
        while let Some(item) = stream.next().await {
            items.push(item);
        }
        items
    })
    .await;
    let Ok(items) = collected else { panic!("the stream waited for the server to close the body") };
    let chunks: Vec<_> =
        items.into_iter().map(|item| item.unwrap_or_else(|error| panic!("{error}"))).collect();
    let finish = chunks.iter().flat_map(|chunk| &chunk.choices).find(|choice| choice.finish_reason.is_some());
    assert_eq!(finish.map(|choice| choice.finish_reason.clone()), Some(Some(FinishReason::ToolCalls)));
    assert_eq!(finish.and_then(|choice| choice.raw_finish_reason.as_deref()), Some("STOP"));
    assert_eq!(
        chunks.last().and_then(|chunk| chunk.usage.as_ref()).map(|usage| usage.total_tokens),
        Some(176)
    );
}

#[tokio::test]
async fn the_cache_api_creates_lists_gets_updates_and_deletes() {
    let server = MockServer::start().await;
    let described = |ttl_expiry: &str| {
        json!({"name": "cachedContents/z8j4v0lx3ye1", "displayName": "contract", "model": "models/gemini-2.5-flash",
               "createTime": "2026-11-22T04:00:00.000000Z", "updateTime": "2026-11-22T04:00:00.000000Z",
               "expireTime": ttl_expiry, "usageMetadata": {"totalTokenCount": 4301}})
    };
    server.respond(
        "POST",
        "/v1beta/cachedContents",
        MockResponse::json(200, described("2026-11-22T04:05:00Z")),
    );
    server.respond(
        "GET",
        "/v1beta/cachedContents",
        MockResponse::json(
            200,
            json!({
        "cachedContents": [described("2026-11-22T04:05:00Z")], "nextPageToken": "Cg4/next+page="}),
        ),
    );
    server.respond(
        "GET",
        "/v1beta/cachedContents/z8j4v0lx3ye1",
        MockResponse::json(200, described("2026-11-22T04:05:00Z")),
    );
    server.respond(
        "PATCH",
        "/v1beta/cachedContents/z8j4v0lx3ye1",
        MockResponse::json(200, described("2026-11-22T05:00:00Z")),
    );
    server.respond("DELETE", "/v1beta/cachedContents/z8j4v0lx3ye1", MockResponse::json(200, json!({})));
    serve_json(
        &server,
        "/v1beta/models/gemini-2.5-flash:generateContent",
        200,
        fixture_json("responses/text_with_thoughts.gemini.json"),
    );

    let gemini = model(&server, 1);
    let cache: GeminiCacheClient = gemini.cache_client();
    let contract = "THIS AGREEMENT is made between Acme Corp and Globex Ltd. ".repeat(20);
    let created = cache
        .create(&GeminiCacheRequest {
            model: "gemini-2.5-flash".into(),
            messages: vec![
                ChatCompletionMessage::new_text("system", "You answer questions about the contract."),
                ChatCompletionMessage::new_text("user", contract.clone()),
            ],
            tools: None,
            tool_choice: None,
            ttl: Some(Duration::from_secs(300)),
            display_name: Some("contract".into()),
        })
        .await;
    let Ok(created) = created else { panic!("{created:?}") };
    assert_eq!(created.name, "cachedContents/z8j4v0lx3ye1");
    assert_eq!(created.usage_metadata.and_then(|usage| usage.total_token_count), Some(4301));

    let Ok(page) = cache.list(Some(10), Some("Cg4/next+page=")).await else { panic!("list") };
    assert_eq!(page.cached_contents.len(), 1);
    assert_eq!(page.next_page_token.as_deref(), Some("Cg4/next+page="));
    assert!(cache.get("z8j4v0lx3ye1").await.is_ok());
    let Ok(updated) = cache.update_ttl("cachedContents/z8j4v0lx3ye1", Duration::from_secs(3600)).await else {
        panic!("patch")
    };
    assert_eq!(updated.expire_time.as_deref(), Some("2026-11-22T05:00:00Z"));

    let request = ChatCompletionRequest {
        model: "gemini-2.5-flash".into(),
        messages: vec![ChatCompletionMessage::new_text("user", "Who are the parties?")],
        provider_specific: Some(ProviderSpecificRequest {
            extra: [("cached_content".to_owned(), json!(created.name))].into_iter().collect(),
            ..Default::default()
        }),
        ..Default::default()
    };
    let Ok(answer) = gemini.complete(&request, &CallOptions::strict(true)).await else {
        panic!("cached request")
    };
    assert_eq!(answer.usage().map(|usage| usage.cached_tokens()), Some(1024));
    assert!(cache.delete("z8j4v0lx3ye1").await.is_ok());
    assert!(matches!(cache.get("../../models").await, Err(LLMError::InvalidRequest(_))));

    let received = server.requests();
    let summary: Vec<(String, String, Option<String>)> = received
        .iter()
        .map(|request| (request.method.clone(), request.path.clone(), request.query.clone()))
        .collect();
    assert_eq!(
        summary,
        [
            ("POST".into(), "/v1beta/cachedContents".into(), None),
            (
                "GET".into(),
                "/v1beta/cachedContents".into(),
                Some("pageSize=10&pageToken=Cg4%2Fnext%2Bpage%3D".into())
            ),
            ("GET".into(), "/v1beta/cachedContents/z8j4v0lx3ye1".into(), None),
            ("PATCH".into(), "/v1beta/cachedContents/z8j4v0lx3ye1".into(), Some("updateMask=ttl".into())),
            ("POST".into(), "/v1beta/models/gemini-2.5-flash:generateContent".into(), None),
            ("DELETE".into(), "/v1beta/cachedContents/z8j4v0lx3ye1".into(), None),
        ]
    );
    received.iter().for_each(assert_authenticated);
    assert_eq!(
        received[0].json(),
        json!({"model": "models/gemini-2.5-flash", "displayName": "contract", "ttl": "300s",
               "systemInstruction": {"parts": [{"text": "You answer questions about the contract."}]},
               "contents": [{"role": "user", "parts": [{"text": contract}]}]})
    );
    assert_eq!(received[3].json(), json!({"ttl": "3600s"}));
    assert_eq!(
        received[4].json(),
        json!({"cachedContent": "cachedContents/z8j4v0lx3ye1",
               "contents": [{"role": "user", "parts": [{"text": "Who are the parties?"}]}]})
    );
    record_conformance("gemini-generate", &received[4].json());
}

#[tokio::test]
async fn broken_servers_give_clear_errors() {
    let server = MockServer::start().await;
    let one_shot = "/v1beta/models/gemini-2.5-flash:generateContent";
    let streaming = "/v1beta/models/gemini-2.5-flash:streamGenerateContent";
    server.respond("POST", one_shot, MockResponse::body(200, "application/json", "{\"candidates\": [tru"));
    let events: Vec<String> = String::from_utf8_lossy(&fixture("streams/text_and_thoughts.sse"))
        .split_inclusive("\r\n\r\n")
        .map(str::to_owned)
        .collect();
    let first_event_length = events[0].len();
    server.respond("POST", streaming, MockResponse::sse(events.clone()).reset_after(first_event_length + 10));
    let request = gateway("media").with_model("gemini-2.5-flash");
    let gemini = model(&server, 1);

    let garbage = gemini.complete(&request, &CallOptions::default()).await;
    assert!(matches!(garbage, Err(LLMError::Decode { .. })), "{garbage:?}");

    let Ok(mut stream) = gemini.stream(&request, &CallOptions::default()).await else { panic!("a stream") };
    let mut items = Vec::new();
    while let Some(item) = stream.next().await {
        items.push(item);
    }
    assert!(matches!(items.first(), Some(Ok(chunk)) if chunk.choices[0].delta.reasoning_content.is_some()));
    assert!(matches!(items.last(), Some(Err(LLMError::Connection { .. }))), "{items:?}");
}

#[tokio::test]
async fn an_event_larger_than_the_limit_is_refused() {
    let server = MockServer::start().await;
    let path = "/v1beta/models/gemini-2.5-flash:streamGenerateContent";
    let huge = json!({"candidates": [{"content": {"role": "model", "parts": [{"text": "x".repeat(4096)}]}, "index": 0}]});
    server.respond("POST", path, MockResponse::sse([format!("data: {huge}\r\n\r\n")]));
    let config =
        HttpConfig { limits: Limits { max_event_size: 1024, ..Limits::default() }, ..HttpConfig::default() };
    let transport =
        HyperTransport::new(&config.timeouts, &ProxyConfig::none()).unwrap_or_else(|error| panic!("{error}"));
    let client = HttpClient::with_transport(std::sync::Arc::new(transport), config);
    let gemini = GeminiModel::new(GeminiConfig::new(KEY).with_base_url(server.url()), client);
    let request = gateway("media").with_model("gemini-2.5-flash");
    let Ok(mut stream) = gemini.stream(&request, &CallOptions::default()).await else { panic!("a stream") };
    let first = stream.next().await;
    assert!(matches!(first, Some(Err(LLMError::LimitExceeded { .. }))), "{first:?}");
}

/// The parts of a request or response the conformance proto (0.12.1) knows: server-side tool invocation
/// parts, which it predates, are set aside.
fn without_server_tool_parts(document: &Value) -> Value {
    let mut view = document.clone();
    if let Some(contents) = view.get_mut("contents").and_then(Value::as_array_mut) {
        for content in contents {
            if let Some(parts) = content.get_mut("parts").and_then(Value::as_array_mut) {
                parts.retain(|part| part.get("toolCall").is_none() && part.get("toolResponse").is_none());
            }
        }
    }
    if let Some(config) = view.get_mut("toolConfig").and_then(Value::as_object_mut) {
        config.remove("includeServerSideToolInvocations");
    }
    view
}

/// A two-turn conversation with Gemini's built-in tools: the first answer (a thought, a server-side Google
/// Search call and its response, code and its result, grounded text, another thought and a function call)
/// comes back to the caller, who stores it as JSON; sending it back gives Gemini every part exactly as it
/// wrote it, in its order, with each signature where it was. The built-in tools and the tool config given
/// in `provider_specific` reach both bodies.
#[tokio::test]
async fn server_tool_code_and_thought_parts_go_back_in_order_on_the_next_turn() {
    let server = MockServer::start().await;
    let path = "/v1beta/models/gemini-3-flash-preview:generateContent";
    let first = fixture_json("responses/server_tools.gemini.json");
    server.respond_always("POST", path, MockResponse::json(200, first.clone()));
    let mut extra = serde_json::Map::new();
    extra.insert("tools".to_owned(), json!([{"googleSearch": {}}, {"codeExecution": {}}]));
    extra.insert("toolConfig".to_owned(), json!({"includeServerSideToolInvocations": true}));
    let mut request = ChatCompletionRequest {
        model: "gemini-3-flash-preview".into(),
        messages: vec![ChatCompletionMessage::new_text(
            "user",
            "What is the northernmost city in the United States? What's the weather like there today?",
        )],
        tools: Some(vec![ChatCompletionTool::function(FunctionDefinition {
            name: "getWeather".into(),
            description: Some("Gets the weather for a requested city.".into()),
            parameters: Some(
                json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
            ),
            ..Default::default()
        })]),
        provider_specific: Some(ProviderSpecificRequest { extra, ..Default::default() }),
        ..Default::default()
    };
    let model = model(&server, 1);
    let Ok(answer) = model.complete(&request, &CallOptions::default()).await else { panic!("first turn") };
    assert!(answer.warnings().is_empty(), "{:?}", answer.warnings());
    let stored = serde_json::to_string(answer.message()).unwrap_or_default();
    let assistant: ChatCompletionMessage =
        serde_json::from_str(&stored).unwrap_or_else(|error| panic!("{error}"));
    request.messages.push(assistant);
    request.messages.push(ChatCompletionMessage::new_tool_result("lpndqlku", r#"{"temperature_c": -12}"#));
    let second = model.complete(&request, &CallOptions::strict(true)).await;
    let Ok(second) = second else { panic!("second turn: {second:?}") };
    assert!(second.warnings().is_empty(), "{:?}", second.warnings());

    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    let sent = requests[1].json();
    record_conformance("gemini-generate", &without_server_tool_parts(&sent));
    let parts = first["candidates"][0]["content"]["parts"].clone();
    assert_eq!(sent["contents"][1], json!({"role": "model", "parts": parts}));
    assert_eq!(
        sent["contents"][2],
        json!({"role": "user", "parts": [{"functionResponse": {
            "id": "lpndqlku", "name": "getWeather", "response": {"temperature_c": -12}
        }}]})
    );
    for body in [requests[0].json(), sent.clone()] {
        let tools = body["tools"].as_array().cloned().unwrap_or_default();
        assert_eq!(tools[1..], [json!({"googleSearch": {}}), json!({"codeExecution": {}})]);
        assert_eq!(body["tools"][0]["functionDeclarations"][0]["name"], "getWeather");
        assert_eq!(body["toolConfig"], json!({"includeServerSideToolInvocations": true}));
    }
}
