//! The OpenAI provider against a loopback server: the exact request a server receives (path, query,
//! headers, JSON body) and exactly what the caller gets back, for one-shot calls, streams, errors and
//! retries, OpenAI-compatible proxies and Azure OpenAI.

#![allow(clippy::panic, reason = "a test fails by panicking, helpers included")]

use std::time::Duration;

use serde_json::{Value, json};
use vllora_llm_core::types::gateway::{
    ChatCompletionChunk, ChatCompletionContent, ChatCompletionMessage, ChatCompletionRequest, FinishReason,
    ResponseFormat, JsonSchemaFormat,
};
use vllora_llm_core::{CallOptions, LLMError, ModelInstance, Warning};
use vllora_llm_http::{HttpClient, HttpConfig, RetryPolicy};
use vllora_llm_openai::{OpenAIConfig, OpenAIModel};
use vllora_llm_testkit::{MockResponse, MockServer, RecordedRequest, record_conformance, split_at, split_points};

const CHAT_PATH: &str = "/v1/chat/completions";
const API_KEY: &str = "sk-test-0123456789abcdef";

fn fixture(path: &str) -> Vec<u8> {
    let full = format!("{}/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&full).unwrap_or_else(|error| panic!("{full}: {error}"))
}

fn fixture_json(path: &str) -> Value {
    serde_json::from_slice(&fixture(path)).unwrap_or_else(|error| panic!("{path}: {error}"))
}

/// A client that retries fast, so retry tests take milliseconds.
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
    match HttpClient::new(config) {
        Ok(client) => client,
        Err(error) => panic!("{error}"),
    }
}

fn openai(server: &MockServer) -> OpenAIModel {
    let config = OpenAIConfig::new(API_KEY).with_base_url(format!("{}/v1", server.url()));
    OpenAIModel::new(config, http())
}

fn request(model: &str) -> ChatCompletionRequest {
    ChatCompletionRequest {
        model: model.to_owned(),
        messages: vec![
            ChatCompletionMessage::new_text("system", "You are terse."),
            ChatCompletionMessage::new_text("user", "What is the capital of France?"),
        ],
        max_tokens: Some(32),
        temperature: Some(0.2),
        ..Default::default()
    }
}

fn only_request(server: &MockServer) -> RecordedRequest {
    let mut requests = server.requests();
    assert_eq!(requests.len(), 1, "exactly one request expected");
    requests.remove(0)
}

/// The body a test saw sent, recorded for validation against OpenAI's schema.
fn sent_body(recorded: &RecordedRequest) -> Value {
    let body = recorded.json();
    record_conformance("openai-chat", &body);
    body
}

async fn collect(
    model: &OpenAIModel,
    request: &ChatCompletionRequest,
) -> Vec<Result<ChatCompletionChunk, String>> {
    let mut stream = match model.stream(request, &CallOptions::default()).await {
        Ok(stream) => stream,
        Err(error) => panic!("{error}"),
    };
    let mut items = Vec::new();
    while let Some(item) = stream.next().await {
        items.push(item.map_err(|error| format!("{error:?}")));
    }
    items
}

fn text_of(items: &[Result<ChatCompletionChunk, String>]) -> String {
    items
        .iter()
        .filter_map(|item| item.as_ref().ok())
        .flat_map(|chunk| chunk.choices.iter())
        .filter_map(|choice| choice.delta.content.as_deref())
        .collect()
}

#[tokio::test]
async fn one_shot_sends_exactly_what_openai_expects() {
    let server = MockServer::start().await;
    let canned = fixture_json("responses/openai_text.openai.json");
    server.respond("POST", CHAT_PATH, MockResponse::json(200, canned));
    let config = OpenAIConfig::new(API_KEY)
        .with_base_url(format!("{}/v1/", server.url()))
        .with_organization("org-vllora")
        .with_project("proj_vllora");
    let model = OpenAIModel::new(config, http());

    let result = model.complete(&request("gpt-4.1-mini"), &CallOptions::default()).await;
    let Ok(result) = result else { panic!("{:?}", result.err()) };

    let sent = only_request(&server);
    assert_eq!((sent.method.as_str(), sent.path.as_str(), sent.query.as_deref()), ("POST", CHAT_PATH, None));
    assert_eq!(sent.header("authorization"), Some(format!("Bearer {API_KEY}").as_str()));
    assert_eq!(sent.header("content-type"), Some("application/json"));
    assert_eq!(sent.header("openai-organization"), Some("org-vllora"));
    assert_eq!(sent.header("openai-project"), Some("proj_vllora"));
    assert_eq!(
        sent_body(&sent),
        json!({
            "model": "gpt-4.1-mini",
            "messages": [
                {"role": "system", "content": "You are terse."},
                {"role": "user", "content": "What is the capital of France?"}
            ],
            "max_tokens": 32,
            "temperature": 0.2
        })
    );

    assert_eq!(result.id(), "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG");
    assert_eq!(
        result.message().content,
        Some(ChatCompletionContent::Text("The capital of France is Paris.".to_owned()))
    );
    assert_eq!(result.finish_reason(), Some(&FinishReason::Stop));
    assert_eq!(result.usage().map(|usage| (usage.prompt_tokens, usage.cached_tokens())), Some((1117, 1024)));
    assert!(result.warnings().is_empty());
    assert_eq!(model.provider_name(), "openai");
    let debug = format!("{model:?}");
    assert!(!debug.contains(API_KEY), "the key leaked into Debug: {debug}");
}

#[tokio::test]
async fn streams_ask_for_usage_and_survive_every_split() {
    for name in ["openai_parallel_tool_calls", "compat_tool_calls_repeated_ids", "compat_reasoning_content"] {
        let bytes = fixture(&format!("streams/{name}.openai.sse"));
        let patterns = split_points(bytes.len());
        let server = MockServer::start().await;
        for points in &patterns {
            let pieces: Vec<String> = split_at(&bytes, points)
                .into_iter()
                .map(|piece| String::from_utf8_lossy(piece).into_owned())
                .collect();
            server.respond("POST", CHAT_PATH, MockResponse::sse(pieces));
        }
        let model = openai(&server);
        let mut request = request("gpt-4.1-mini");
        request.stream = Some(false);
        let whole = collect(&model, &request).await;
        assert!(whole.iter().all(Result::is_ok), "{name}: {whole:?}");
        let last = whole.last().and_then(|item| item.as_ref().ok()).cloned().unwrap_or_default();
        assert!(last.choices.is_empty() && last.usage.is_some(), "{name}: usage last, alone");
        for _ in 1..patterns.len() {
            assert_eq!(collect(&model, &request).await, whole, "{name}");
        }
        for sent in server.requests() {
            let body = sent_body(&sent);
            assert_eq!(body["stream"], json!(true));
            assert_eq!(body["stream_options"], json!({"include_usage": true}));
        }
    }
}

#[tokio::test]
async fn openai_errors_keep_status_type_code_param_and_are_not_retried() {
    let server = MockServer::start().await;
    let body = json!({"error": {
        "message": "Invalid value for 'temperature': expected a number between 0 and 2.",
        "type": "invalid_request_error", "param": "temperature", "code": "invalid_value"
    }});
    server.respond_always("POST", CHAT_PATH, MockResponse::json(400, body));
    let model = openai(&server);
    let error = model.complete(&request("gpt-4o"), &CallOptions::default()).await.err();
    let api = error.as_ref().and_then(LLMError::api_error).cloned().unwrap_or_default();
    assert_eq!(api.provider, "openai");
    assert_eq!(api.status, Some(400));
    assert_eq!(api.error_type.as_deref(), Some("invalid_request_error"));
    assert_eq!(api.code.as_deref(), Some("invalid_value"));
    assert_eq!(api.param.as_deref(), Some("temperature"));
    assert!(api.message.starts_with("Invalid value for 'temperature'"));
    assert_eq!(server.requests().len(), 1, "400 is not retried");
    let shown = error.map(|error| error.to_string()).unwrap_or_default();
    assert!(!shown.contains(API_KEY));

    for status in [401, 403, 404] {
        let server = MockServer::start().await;
        let body =
            json!({"error": {"message": "no", "type": "invalid_request_error", "param": null, "code": null}});
        server.respond_always("POST", CHAT_PATH, MockResponse::json(status, body));
        let stream = openai(&server).stream(&request("gpt-4o"), &CallOptions::default()).await;
        assert_eq!(stream.err().and_then(|error| error.status()), Some(status));
        assert_eq!(server.requests().len(), 1, "{status} is not retried");
    }
}

#[tokio::test]
async fn rate_limits_and_server_errors_are_retried_with_retry_after() {
    let server = MockServer::start().await;
    let limited = json!({"error": {"message": "Rate limit reached for gpt-4o", "type": "requests", "param": null, "code": "rate_limit_exceeded"}});
    server.respond("POST", CHAT_PATH, MockResponse::json(429, limited).header("retry-after-ms", "20"));
    server.respond(
        "POST",
        CHAT_PATH,
        MockResponse::json(
            500,
            json!({"error": {"message": "boom", "type": "server_error", "param": null, "code": null}}),
        ),
    );
    server.respond(
        "POST",
        CHAT_PATH,
        MockResponse::json(200, fixture_json("responses/openai_text.openai.json")),
    );
    let result = openai(&server).complete(&request("gpt-4o"), &CallOptions::default()).await;
    assert!(result.is_ok(), "{:?}", result.err());
    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    assert!(requests.iter().all(|sent| sent.body == requests[0].body), "retries send the same body");

    let server = MockServer::start().await;
    let quota = json!({"error": {"message": "You exceeded your current quota", "type": "insufficient_quota", "param": null, "code": "insufficient_quota"}});
    server.respond_always("POST", CHAT_PATH, MockResponse::json(429, quota).header("retry-after", "1"));
    let error = openai(&server).complete(&request("gpt-4o"), &CallOptions::default()).await.err();
    assert_eq!(error.as_ref().and_then(LLMError::status), Some(429));
    assert_eq!(error.as_ref().and_then(LLMError::retry_after), Some(Duration::from_secs(1)));
    assert_eq!(server.requests().len(), 1, "an exhausted quota is not retried");
}

#[tokio::test]
async fn a_proxy_without_a_key_sends_no_authorization_and_names_itself() {
    let server = MockServer::start().await;
    server.respond(
        "POST",
        CHAT_PATH,
        MockResponse::json(200, fixture_json("responses/llama_cpp.openai.json")),
    );
    server.respond(
        "POST",
        CHAT_PATH,
        MockResponse::json(
            400,
            json!({"error": {"code": 400, "message": "bad", "type": "invalid_request_error"}}),
        ),
    );
    let config = OpenAIConfig::proxy_from_env("local-llama", Some(&format!("{}/v1", server.url())));
    let Ok(config) = config else { panic!("{:?}", config.err()) };
    let model = OpenAIModel::new(config, http()).with_model("local-llama/gemma-3-270m");
    let mut gemma = request("ignored");
    gemma.provider_specific = Some(vllora_llm_core::types::gateway::ProviderSpecificRequest {
        top_k: Some(40),
        ..Default::default()
    });
    let result = model.complete(&gemma, &CallOptions::default()).await;
    assert_eq!(
        result.ok().and_then(|result| result.message().content.clone()),
        Some(ChatCompletionContent::Text("The capital of France is Paris.".to_owned()))
    );
    let error = model.complete(&gemma, &CallOptions::default()).await.err();
    assert_eq!(error.as_ref().and_then(LLMError::provider), Some("local-llama"));
    assert_eq!(model.provider_name(), "local-llama");
    let requests = server.requests();
    let sent = &requests[0];
    assert_eq!(sent.header("authorization"), None);
    let body = sent_body(sent);
    assert_eq!(body["model"], json!("gemma-3-270m"), "the proxy's own prefix is removed");
    assert_eq!(body["top_k"], json!(40));
}

#[tokio::test]
async fn azure_uses_the_deployment_path_api_version_and_api_key() {
    let server = MockServer::start().await;
    let deployment_path = "/openai/deployments/my-gpt4o/chat/completions";
    server.respond(
        "POST",
        deployment_path,
        MockResponse::json(200, fixture_json("responses/openai_text.openai.json")),
    );
    let config = OpenAIConfig::azure(server.url(), "my-gpt4o", "2024-10-21", "azure-key-secret");
    let model = OpenAIModel::new(config, http());
    let result = model.complete(&request("gpt-4o"), &CallOptions::default()).await;
    assert!(result.is_ok(), "{:?}", result.err());
    let sent = only_request(&server);
    assert_eq!(sent.path, deployment_path);
    assert_eq!(sent.query.as_deref(), Some("api-version=2024-10-21"));
    assert_eq!(sent.header("api-key"), Some("azure-key-secret"));
    assert_eq!(sent.header("authorization"), None);
    sent_body(&sent);
    assert_eq!(model.provider_name(), "azure.ai.openai");
    assert!(!format!("{model:?}").contains("azure-key-secret"));
}

#[tokio::test]
async fn strict_mode_fails_before_sending_and_lenient_mode_reports_warnings() {
    let server = MockServer::start().await;
    server.respond_always(
        "POST",
        CHAT_PATH,
        MockResponse::json(200, fixture_json("responses/openai_text.openai.json")),
    );
    let model = openai(&server);
    let reasoning = request("o4-mini");
    let strict = model.complete(&reasoning, &CallOptions::strict(true)).await;
    assert!(matches!(&strict, Err(LLMError::Unsupported(warnings)) if warnings.len() == 1), "{strict:?}");
    assert!(server.requests().is_empty(), "nothing is sent in strict mode");

    let result = model.complete(&reasoning, &CallOptions::default()).await;
    let Ok(result) = result else { panic!("{:?}", result.err()) };
    let parameters: Vec<&str> = result.warnings().iter().filter_map(Warning::parameter).collect();
    assert_eq!(parameters, vec!["temperature", "max_tokens"]);
    let body = sent_body(&only_request(&server));
    assert_eq!(body["max_completion_tokens"], json!(32));
    assert_eq!(body.get("temperature"), None);

    let stream = model.stream(&reasoning, &CallOptions::default()).await;
    let parameters: Vec<String> = stream
        .map(|stream| {
            stream.warnings().iter().filter_map(|warning| warning.parameter().map(str::to_owned)).collect()
        })
        .unwrap_or_default();
    assert_eq!(parameters, vec!["temperature".to_owned(), "max_tokens".to_owned()]);
}

#[tokio::test]
async fn json_schema_requests_carry_the_schema() {
    let server = MockServer::start().await;
    server.respond(
        "POST",
        CHAT_PATH,
        MockResponse::json(200, fixture_json("responses/openai_text.openai.json")),
    );
    let mut structured = request("gpt-4o-mini");
    let schema = json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"], "additionalProperties": false});
    structured.response_format = Some(ResponseFormat::JsonSchema {
        json_schema: JsonSchemaFormat {
            name: "city".into(),
            schema: Some(schema.clone()),
            strict: Some(true),
            description: None,
        },
    });
    let result = openai(&server).complete(&structured, &CallOptions::default()).await;
    assert!(result.is_ok());
    let body = sent_body(&only_request(&server));
    assert_eq!(
        body["response_format"],
        json!({"type": "json_schema", "json_schema": {"name": "city", "schema": schema, "strict": true}})
    );
}

#[tokio::test]
async fn a_stream_cut_mid_way_is_an_error_and_a_dropped_stream_closes_its_connection() {
    let server = MockServer::start().await;
    let bytes = fixture("streams/openai_text.openai.sse");
    let text = String::from_utf8_lossy(&bytes).into_owned();
    server.respond("POST", CHAT_PATH, MockResponse::sse([text.clone()]).reset_after(bytes.len() / 2));
    let model = openai(&server);
    let items = collect(&model, &request("gpt-4o")).await;
    assert!(items.last().is_some_and(Result::is_err), "{items:?}");
    assert!(!text_of(&items).is_empty(), "what arrived before the cut was delivered");

    server.respond("POST", CHAT_PATH, MockResponse::sse([text]).stall_after(bytes.len() / 2));
    let mut stream = match model.stream(&request("gpt-4o"), &CallOptions::default()).await {
        Ok(stream) => stream,
        Err(error) => panic!("{error}"),
    };
    assert!(matches!(stream.next().await, Some(Ok(_))));
    drop(stream);
    assert!(server.wait_for_connections_closed(server.connections_opened(), Duration::from_secs(5)).await);
}

#[tokio::test]
async fn a_server_that_ignores_stream_true_still_gives_a_stream() {
    let server = MockServer::start().await;
    server.respond(
        "POST",
        CHAT_PATH,
        MockResponse::json(200, fixture_json("responses/openai_tool_calls.openai.json")),
    );
    server.respond(
        "POST",
        CHAT_PATH,
        MockResponse::json(200, fixture_json("responses/error_with_status_200.openai.json")),
    );
    let model = openai(&server);
    let items = collect(&model, &request("gpt-4o")).await;
    let chunks: Vec<ChatCompletionChunk> = items.into_iter().filter_map(Result::ok).collect();
    assert_eq!(chunks.len(), 2, "{chunks:?}");
    let choice = chunks[0].choices.first().cloned().unwrap_or_default();
    assert_eq!(choice.delta.role, Some(vllora_llm_core::types::gateway::Role::Assistant));
    assert_eq!(choice.finish_reason, Some(FinishReason::ToolCalls));
    let calls = choice.delta.tool_calls.unwrap_or_default();
    let described: Vec<(u32, Option<String>, Option<String>)> = calls
        .into_iter()
        .map(|call| {
            let function = call.function.unwrap_or_default();
            (call.index, call.id, function.name)
        })
        .collect();
    assert_eq!(
        described,
        vec![
            (0, Some("call_DdmO9pD3xa9XTPNJ32zg2hcA".to_owned()), Some("get_weather".to_owned())),
            (1, Some("call_ABC123xyz789".to_owned()), Some("get_time".to_owned())),
        ]
    );
    assert!(chunks[1].choices.is_empty() && chunks[1].usage.is_some());

    let error = model.stream(&request("gpt-4o"), &CallOptions::default()).await.err();
    let api = error.as_ref().and_then(LLMError::api_error).cloned().unwrap_or_default();
    assert_eq!(api.message, "Upstream provider returned an error", "{error:?}");
}

#[tokio::test]
async fn a_stream_is_retried_until_its_headers_arrive() {
    let server = MockServer::start().await;
    let overloaded = json!({"error": {"message": "The server is overloaded", "type": "server_error", "param": null, "code": null}});
    server.respond("POST", CHAT_PATH, MockResponse::json(503, overloaded).header("retry-after", "0"));
    let text = String::from_utf8_lossy(&fixture("streams/openai_text.openai.sse")).into_owned();
    server.respond("POST", CHAT_PATH, MockResponse::sse([text]));
    let items = collect(&openai(&server), &request("gpt-4o")).await;
    assert_eq!(text_of(&items), "Hello! How can I help you today?");
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn a_finished_stream_leaves_its_connection_for_the_next_call() {
    let server = MockServer::start().await;
    let bytes =
        String::from_utf8_lossy(&fixture("streams/openai_parallel_tool_calls.openai.sse")).into_owned();
    server.respond_always("POST", CHAT_PATH, MockResponse::sse([bytes]));
    let model = openai(&server);
    for _ in 0..3 {
        let items = collect(&model, &request("gpt-4.1-mini")).await;
        assert!(items.iter().all(Result::is_ok), "{items:?}");
        assert!(items.last().and_then(|item| item.as_ref().ok()).is_some_and(|chunk| chunk.usage.is_some()));
    }
    assert_eq!(server.requests().len(), 3);
    // The body is read to its end after `[DONE]`, so HTTP/1.1 keeps the connection for the next call.
    assert_eq!(server.connections_opened(), 1, "later streams reuse the first one's connection");
}
