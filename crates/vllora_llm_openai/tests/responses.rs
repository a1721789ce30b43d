//! The Responses API: real OpenAI documents round-trip unchanged, streams decode the same however the
//! bytes are split, and against a loopback server the exact request (path, headers, body) and exactly
//! what the caller gets back.

#![allow(clippy::panic, reason = "a test fails by panicking, helpers included")]

use std::pin::Pin;

use futures_core::Stream;
use serde_json::{Value, json};
use vllora_llm_core::{CallOptions, LLMError};
use vllora_llm_http::{HttpClient, HttpConfig};
use vllora_llm_openai::{
    OpenAIConfig, OpenAIResponses, ResponsesResponse, ResponsesStatus, ResponsesContentPart,
    ResponsesFunctionTool, ResponsesInput, ResponsesItem, ResponsesMessage, ResponsesMessageContent,
    ResponsesReasoningConfig, ResponsesRequest, ResponsesStreamEvent, ResponsesTextConfig,
    ResponsesTextFormat, ResponsesTool, ResponsesToolChoice,
};
use vllora_llm_testkit::{MockResponse, MockServer, record_conformance, split_at, split_points};

const PATH: &str = "/v1/responses";
const API_KEY: &str = "sk-test-0123456789abcdef";

/// A fixture under `tests/fixtures`: `requests/`, `responses/` or `streams/<case>.openai-responses.<ext>`.
fn fixture(name: &str) -> Vec<u8> {
    let full = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&full).unwrap_or_else(|error| panic!("{full}: {error}"))
}

fn fixture_json(name: &str) -> Value {
    serde_json::from_slice(&fixture(name)).unwrap_or_else(|error| panic!("{name}: {error}"))
}

fn http() -> HttpClient {
    HttpClient::new(HttpConfig::default()).unwrap_or_else(|error| panic!("{error}"))
}

fn client(server: &MockServer) -> OpenAIResponses {
    OpenAIResponses::new(OpenAIConfig::new(API_KEY).with_base_url(format!("{}/v1", server.url())), http())
}

fn parse(name: &str) -> ResponsesResponse {
    serde_json::from_slice(&fixture(name)).unwrap_or_else(|error| panic!("{name}: {error}"))
}

/// Every field of every fixture survives decoding and encoding again.
#[test]
fn real_responses_round_trip_unchanged() {
    for name in [
        "responses/text.openai-responses.json",
        "responses/reasoning_function_call.openai-responses.json",
        "responses/incomplete.openai-responses.json",
    ] {
        let response = parse(name);
        let encoded = serde_json::to_value(&response).unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(encoded, fixture_json(name), "{name}");
    }
}

#[test]
fn a_text_response_decodes_to_typed_fields() {
    let response = parse("responses/text.openai-responses.json");
    assert_eq!(response.id, "resp_67ccd2bed1ec8190b14f964abc0542670bb6a6b452d3795b");
    assert_eq!(response.status, ResponsesStatus::Completed);
    assert_eq!(response.created_at, 1_741_476_542);
    assert_eq!(response.model, "gpt-4.1-mini-2025-04-14");
    assert_eq!(response.output_text(), "The capital of France is Paris.");
    let usage = response.usage.unwrap_or_default();
    assert_eq!((usage.input_tokens, usage.output_tokens, usage.total_tokens), (20, 8, 28));
    assert_eq!(response.extra.get("service_tier"), Some(&json!("default")));
}

#[test]
fn reasoning_and_function_calls_decode() {
    let response = parse("responses/reasoning_function_call.openai-responses.json");
    let [ResponsesItem::Reasoning(reasoning), ResponsesItem::FunctionCall(call)] = response.output.as_slice()
    else {
        panic!("{:?}", response.output)
    };
    assert_eq!(reasoning.summary.len(), 1);
    assert!(reasoning.summary[0].text.starts_with("**Checking the weather**"));
    assert!(reasoning.encrypted_content.as_deref().is_some_and(|content| content.starts_with("gAAAA")));
    assert_eq!((call.name.as_str(), call.call_id.as_str()), ("get_weather", "call_Xk2mR9pL4vQ7wN1sT8yB3cD6"));
    assert_eq!(call.arguments, r#"{"city":"Paris","unit":"celsius"}"#);
    assert_eq!(response.function_calls().count(), 1);
    assert_eq!(response.output_text(), "");
    let usage = response.usage.unwrap_or_default();
    assert_eq!(usage.input_tokens_details.map(|details| details.cached_tokens), Some(256));
    assert_eq!(usage.output_tokens_details.map(|details| details.reasoning_tokens), Some(128));
}

#[test]
fn refusals_unknown_items_and_incomplete_details() {
    let response = parse("responses/incomplete.openai-responses.json");
    assert_eq!(response.status, ResponsesStatus::Incomplete);
    assert_eq!(
        response.incomplete_details.as_ref().and_then(|details| details.reason.as_deref()),
        Some("max_output_tokens")
    );
    let [ResponsesItem::Message(message), ResponsesItem::Other(web_search)] = response.output.as_slice()
    else {
        panic!("{:?}", response.output)
    };
    let ResponsesMessageContent::Parts(parts) = &message.content else { panic!("{message:?}") };
    assert!(
        matches!(&parts[0], ResponsesContentPart::Refusal { refusal } if refusal == "I can't help with that.")
    );
    assert_eq!(web_search["type"], "web_search_call");
    assert_eq!(response.output_text(), "Here is a safer");
}

#[test]
fn garbage_and_odd_shapes_never_panic() {
    for body in [&b""[..], b"null", b"[]", b"{\"output\": 3}", b"{\"output\": [{\"type\": \"message\"}]}"] {
        let _ = serde_json::from_slice::<ResponsesResponse>(body);
    }
    // A float timestamp and an unknown status, as compatible servers may write them.
    let response: ResponsesResponse =
        serde_json::from_value(json!({"id": "r", "created_at": 1.7e9, "status": "paused", "output": []}))
            .unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(response.created_at, 1_700_000_000);
    assert_eq!(response.status, ResponsesStatus::Other("paused".to_owned()));
    // Nulls where lists belong, a numeric error code (llama.cpp's style).
    let response: ResponsesResponse = serde_json::from_value(json!({
        "id": "r", "status": "failed", "output": null,
        "error": {"code": 500, "message": "boom"}
    }))
    .unwrap_or_else(|error| panic!("{error}"));
    assert!(response.output.is_empty());
    assert_eq!(response.error.and_then(|error| error.code).as_deref(), Some("500"));
}

/// A request that uses every modelled field.
fn full_request() -> ResponsesRequest {
    ResponsesRequest {
        model: "o4-mini".to_owned(),
        input: ResponsesInput::Items(vec![
            ResponsesItem::message("developer", "Answer in French."),
            ResponsesItem::Message(ResponsesMessage {
                id: None,
                role: "user".to_owned(),
                content: ResponsesMessageContent::Parts(vec![
                    ResponsesContentPart::InputText { text: "What is in this picture and file?".to_owned() },
                    ResponsesContentPart::InputImage {
                        image_url: Some("https://example.com/tower.jpg".to_owned()),
                        file_id: None,
                        detail: None,
                    },
                    ResponsesContentPart::InputFile {
                        file_id: None,
                        file_data: Some("data:application/pdf;base64,JVBERi0xLjQK".to_owned()),
                        file_url: None,
                        filename: Some("notes.pdf".to_owned()),
                    },
                ]),
                status: None,
            }),
        ]),
        instructions: Some("You are terse.".to_owned()),
        tools: Some(vec![
            ResponsesTool::Function(ResponsesFunctionTool {
                name: "get_weather".to_owned(),
                description: Some("Current weather in a city".to_owned()),
                parameters: Some(json!({
                    "type": "object",
                    "properties": {"city": {"type": "string"}},
                    "required": ["city"],
                    "additionalProperties": false
                })),
                strict: Some(true),
            }),
            ResponsesTool::Other(json!({"type": "web_search"})),
        ]),
        tool_choice: Some(ResponsesToolChoice::function("get_weather")),
        text: Some(ResponsesTextConfig {
            format: Some(ResponsesTextFormat::JsonSchema {
                name: "answer".to_owned(),
                schema: json!({"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"], "additionalProperties": false}),
                description: None,
                strict: Some(true),
            }),
            verbosity: None,
        }),
        reasoning: Some(ResponsesReasoningConfig {
            effort: Some("low".to_owned()),
            summary: Some("auto".to_owned()),
        }),
        max_output_tokens: Some(256),
        temperature: Some(0.5),
        top_p: Some(0.9),
        parallel_tool_calls: Some(false),
        previous_response_id: None,
        store: Some(false),
        metadata: Some([("session".to_owned(), json!("abc"))].into_iter().collect()),
        prompt_cache_key: Some("weather-v1".to_owned()),
        service_tier: Some("flex".to_owned()),
        truncation: Some("auto".to_owned()),
        include: Some(vec!["reasoning.encrypted_content".to_owned()]),
        user: None,
        safety_identifier: Some("user-7f3a".to_owned()),
        stream: None,
        extra: [("max_tool_calls".to_owned(), json!(3))].into_iter().collect(),
    }
}

fn full_request_body(stream: bool) -> Value {
    let mut body = json!({
        "model": "o4-mini",
        "input": [
            {"type": "message", "role": "developer", "content": "Answer in French."},
            {"type": "message", "role": "user", "content": [
                {"type": "input_text", "text": "What is in this picture and file?"},
                {"type": "input_image", "image_url": "https://example.com/tower.jpg", "detail": "auto"},
                {"type": "input_file", "file_data": "data:application/pdf;base64,JVBERi0xLjQK", "filename": "notes.pdf"}
            ]}
        ],
        "instructions": "You are terse.",
        "tools": [
            {"type": "function", "name": "get_weather", "description": "Current weather in a city",
             "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"], "additionalProperties": false},
             "strict": true},
            {"type": "web_search"}
        ],
        "tool_choice": {"type": "function", "name": "get_weather"},
        "text": {"format": {"type": "json_schema", "name": "answer",
                 "schema": {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"], "additionalProperties": false},
                 "strict": true}},
        "reasoning": {"effort": "low", "summary": "auto"},
        "max_output_tokens": 256,
        "temperature": 0.5,
        "top_p": 0.9,
        "parallel_tool_calls": false,
        "store": false,
        "metadata": {"session": "abc"},
        "prompt_cache_key": "weather-v1",
        "service_tier": "flex",
        "truncation": "auto",
        "include": ["reasoning.encrypted_content"],
        "safety_identifier": "user-7f3a",
        "max_tool_calls": 3
    });
    if stream {
        body["stream"] = json!(true);
    }
    body
}

#[tokio::test]
async fn one_shot_sends_the_exact_body_and_returns_the_response() {
    let server = MockServer::start().await;
    server.respond(
        "POST",
        PATH,
        MockResponse::json(200, fixture_json("responses/reasoning_function_call.openai-responses.json")),
    );
    let result = client(&server).create_response(&full_request(), &CallOptions::default()).await;
    let Ok(response) = result else { panic!("{result:?}") };
    assert_eq!(response, parse("responses/reasoning_function_call.openai-responses.json"));

    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let sent = &requests[0];
    assert_eq!((sent.method.as_str(), sent.path.as_str()), ("POST", PATH));
    assert_eq!(sent.header("authorization"), Some(format!("Bearer {API_KEY}").as_str()));
    assert_eq!(sent.header("content-type"), Some("application/json"));
    assert_eq!(sent.json(), full_request_body(false));
    record_conformance("openai-responses", &sent.json());
}

#[tokio::test]
async fn function_results_and_earlier_output_go_back_as_items() {
    let server = MockServer::start().await;
    server.respond(
        "POST",
        PATH,
        MockResponse::json(200, fixture_json("responses/text.openai-responses.json")),
    );
    let earlier = parse("responses/reasoning_function_call.openai-responses.json");
    let mut input = vec![ResponsesItem::message("user", "Weather in Paris?")];
    input.extend(earlier.output.iter().cloned());
    input.push(ResponsesItem::function_call_output("call_Xk2mR9pL4vQ7wN1sT8yB3cD6", r#"{"celsius":18}"#));
    let request = ResponsesRequest {
        model: "openai/o4-mini".to_owned(),
        input: input.into(),
        store: Some(false),
        include: Some(vec!["reasoning.encrypted_content".to_owned()]),
        ..Default::default()
    };
    let result = client(&server).create_response(&request, &CallOptions::default()).await;
    assert!(result.is_ok(), "{result:?}");
    let sent = server.requests()[0].json();
    let earlier_output =
        fixture_json("responses/reasoning_function_call.openai-responses.json")["output"].clone();
    let mut expected_input = vec![json!({"type": "message", "role": "user", "content": "Weather in Paris?"})];
    expected_input.extend(earlier_output.as_array().cloned().unwrap_or_default());
    expected_input.push(json!({"type": "function_call_output", "call_id": "call_Xk2mR9pL4vQ7wN1sT8yB3cD6", "output": "{\"celsius\":18}"}));
    assert_eq!(
        sent,
        json!({
            "model": "o4-mini",
            "input": expected_input,
            "store": false,
            "include": ["reasoning.encrypted_content"]
        })
    );
    record_conformance("openai-responses", &sent);
}

#[tokio::test]
async fn api_errors_keep_openai_fields() {
    let server = MockServer::start().await;
    let error_body = json!({"error": {"message": "Invalid type for 'input': expected a string or array.", "type": "invalid_request_error", "param": "input", "code": "invalid_type"}});
    server.respond("POST", PATH, MockResponse::json(400, error_body));
    let request = ResponsesRequest { model: "gpt-4.1".to_owned(), input: "hi".into(), ..Default::default() };
    let result = client(&server).create_response(&request, &CallOptions::default()).await;
    let Err(LLMError::Api(api)) = result else { panic!("{result:?}") };
    assert_eq!(api.status, Some(400));
    assert_eq!(api.param.as_deref(), Some("input"));
    assert_eq!(api.code.as_deref(), Some("invalid_type"));
    assert_eq!(api.provider, "openai");
}

#[tokio::test]
async fn bad_requests_fail_before_sending() {
    let server = MockServer::start().await;
    let responses = client(&server);
    let no_model = ResponsesRequest { input: "hi".into(), ..Default::default() };
    let result = responses.create_response(&no_model, &CallOptions::default()).await;
    assert!(matches!(result, Err(LLMError::InvalidRequest(_))), "{result:?}");
    let contradicting =
        ResponsesRequest { model: "gpt-4.1".to_owned(), stream: Some(true), ..Default::default() };
    let result = responses.create_response(&contradicting, &CallOptions::default()).await;
    assert!(matches!(&result, Err(LLMError::InvalidRequest(message)) if message.contains("stream_response")));
    let mut twice =
        ResponsesRequest { model: "gpt-4.1".to_owned(), input: "hi".into(), ..Default::default() };
    twice.extra.insert("input".to_owned(), json!("again"));
    let result = responses.create_response(&twice, &CallOptions::default()).await;
    assert!(
        matches!(&result, Err(LLMError::InvalidRequest(message)) if message.contains("`input`")),
        "{result:?}"
    );
    assert!(server.requests().is_empty());
}

/// Collects every event of a stream, or the error that ended it.
async fn collect(
    responses: &OpenAIResponses,
    request: &ResponsesRequest,
) -> (Vec<ResponsesStreamEvent>, Option<LLMError>) {
    let mut stream = match responses.stream_response(request, &CallOptions::default()).await {
        Ok(stream) => stream,
        Err(error) => return (Vec::new(), Some(error)),
    };
    let mut events = Vec::new();
    while let Some(event) = std::future::poll_fn(|context| Pin::new(&mut stream).poll_next(context)).await {
        match event {
            Ok(event) => events.push(event),
            Err(error) => return (events, Some(error)),
        }
    }
    (events, None)
}

fn stream_request() -> ResponsesRequest {
    ResponsesRequest {
        model: "gpt-4.1-mini".to_owned(),
        input: "What is the capital of France?".into(),
        instructions: Some("You are terse.".to_owned()),
        ..Default::default()
    }
}

/// Replays a fixture under every split pattern and checks that each gives the same events.
async fn replay(name: &str) -> Vec<ResponsesStreamEvent> {
    let bytes = fixture(name);
    let server = MockServer::start().await;
    let responses = client(&server);
    let mut first: Option<Vec<ResponsesStreamEvent>> = None;
    for points in split_points(bytes.len()) {
        let pieces: Vec<Vec<u8>> = split_at(&bytes, &points).into_iter().map(<[u8]>::to_vec).collect();
        server.respond("POST", PATH, MockResponse::stream(200, "text/event-stream", pieces));
        let (events, error) = collect(&responses, &stream_request()).await;
        assert!(error.is_none(), "{name} split {points:?}: {error:?}");
        match &first {
            None => first = Some(events),
            Some(expected) => assert_eq!(&events, expected, "{name} split at {points:?}"),
        }
    }
    let sent = server.requests()[0].json();
    assert_eq!(
        sent,
        json!({"model": "gpt-4.1-mini", "input": "What is the capital of France?", "instructions": "You are terse.", "stream": true})
    );
    record_conformance("openai-responses", &sent);
    first.unwrap_or_default()
}

#[tokio::test]
async fn a_text_stream_decodes_the_same_however_it_is_split() {
    let events = replay("streams/text.openai-responses.sse").await;
    assert_eq!(events.len(), 12);
    assert!(
        matches!(&events[0], ResponsesStreamEvent::Created(created) if created.response.status == ResponsesStatus::InProgress)
    );
    let text: String = events
        .iter()
        .filter_map(|event| match event {
            ResponsesStreamEvent::OutputTextDelta(delta) => Some(delta.delta.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(text, "Paris is the capital.");
    assert!(
        matches!(&events[7], ResponsesStreamEvent::Other(other) if other["type"] == "response.output_text.annotation.added")
    );
    assert!(matches!(&events[8], ResponsesStreamEvent::OutputTextDone(done) if done.text == text));
    let Some(ResponsesStreamEvent::Completed(completed)) = events.last() else { panic!("{events:?}") };
    assert_eq!(completed.response.output_text(), text);
    assert_eq!(completed.response.usage.map(|usage| usage.total_tokens), Some(28));
    assert_eq!(completed.sequence_number, Some(11));
}

#[tokio::test]
async fn reasoning_summaries_and_function_arguments_stream() {
    let events = replay("streams/reasoning_function_call.openai-responses.sse").await;
    let mut summary = String::new();
    let mut arguments = String::new();
    for event in &events {
        match event {
            ResponsesStreamEvent::ReasoningSummaryTextDelta(delta) => summary.push_str(&delta.delta),
            ResponsesStreamEvent::FunctionCallArgumentsDelta(delta) => {
                assert_eq!((delta.output_index, delta.content_index), (1, None));
                arguments.push_str(&delta.delta);
            }
            _ => {}
        }
    }
    assert_eq!(summary, "Need the weather: call get_weather.");
    assert_eq!(arguments, r#"{"city":"Paris"}"#);
    let done = events.iter().find_map(|event| match event {
        ResponsesStreamEvent::FunctionCallArgumentsDone(done) => Some(done),
        _ => None,
    });
    assert_eq!(done.and_then(|done| done.name.as_deref()), Some("get_weather"));
    assert!(
        matches!(&events[1], ResponsesStreamEvent::OutputItemAdded(added) if matches!(added.item, ResponsesItem::Reasoning(_)))
    );
    let Some(ResponsesStreamEvent::Completed(completed)) = events.last() else { panic!("{events:?}") };
    assert_eq!(completed.response.function_calls().count(), 1);
}

#[tokio::test]
async fn an_error_event_then_the_end_of_the_body_ends_the_stream_cleanly() {
    let server = MockServer::start().await;
    server.respond(
        "POST",
        PATH,
        MockResponse::stream(200, "text/event-stream", [fixture("streams/error.openai-responses.sse")]),
    );
    let (events, error) = collect(&client(&server), &stream_request()).await;
    assert!(error.is_none(), "{error:?}");
    let [ResponsesStreamEvent::Created(_), ResponsesStreamEvent::Error(failure)] = events.as_slice() else {
        panic!("{events:?}")
    };
    assert_eq!(failure.code, Some(json!("server_error")));
    assert!(failure.message.starts_with("The server had an error"));
}

#[tokio::test]
async fn a_stream_cut_before_the_end_is_an_error() {
    let bytes = fixture("streams/text.openai-responses.sse");
    let middle = bytes.len() / 2;
    let event_end =
        bytes[middle..].windows(2).position(|pair| pair == b"\n\n").map_or(middle, |at| middle + at + 2);
    // Cut between two events: the connection ended early. Cut inside one: the last event is broken.
    for (cut, is_expected) in [
        (
            event_end,
            (|error: &LLMError| matches!(error, LLMError::Connection { .. })) as fn(&LLMError) -> bool,
        ),
        (middle, |error: &LLMError| matches!(error, LLMError::Decode { .. } | LLMError::Connection { .. })),
    ] {
        let server = MockServer::start().await;
        server.respond("POST", PATH, MockResponse::stream(200, "text/event-stream", [bytes[..cut].to_vec()]));
        let (events, error) = collect(&client(&server), &stream_request()).await;
        assert!(events.len() >= 4, "{events:?}");
        assert!(!events.iter().any(ResponsesStreamEvent::is_terminal));
        assert!(error.as_ref().is_some_and(is_expected), "cut at {cut}: {error:?}");
    }
}

#[tokio::test]
async fn a_server_that_ignores_stream_gives_one_completed_event() {
    let server = MockServer::start().await;
    server.respond(
        "POST",
        PATH,
        MockResponse::json(200, fixture_json("responses/text.openai-responses.json")),
    );
    let (events, error) = collect(&client(&server), &stream_request()).await;
    assert!(error.is_none(), "{error:?}");
    let [ResponsesStreamEvent::Completed(completed)] = events.as_slice() else { panic!("{events:?}") };
    assert_eq!(completed.response, parse("responses/text.openai-responses.json"));
}

#[tokio::test]
async fn proxies_and_azure_use_their_own_urls_and_headers() {
    let server = MockServer::start().await;
    server.respond_always(
        "POST",
        PATH,
        MockResponse::json(200, fixture_json("responses/text.openai-responses.json")),
    );
    server.respond_always(
        "POST",
        "/openai/v1/responses",
        MockResponse::json(200, fixture_json("responses/text.openai-responses.json")),
    );
    let request =
        ResponsesRequest { model: "local/qwen3".to_owned(), input: "hi".into(), ..Default::default() };

    let proxy = OpenAIResponses::new(OpenAIConfig::proxy("local", format!("{}/v1", server.url())), http());
    let result = proxy.create_response(&request, &CallOptions::default()).await;
    assert!(result.is_ok(), "{result:?}");

    let azure = OpenAIConfig::azure(server.url(), "gpt-4o-prod", "2024-10-21", "azure-key-123");
    let azure = OpenAIResponses::new(azure, http());
    let azure_request =
        ResponsesRequest { model: "gpt-4o".to_owned(), input: "hi".into(), ..Default::default() };
    let result = azure.create_response(&azure_request, &CallOptions::default()).await;
    assert!(result.is_ok(), "{result:?}");

    let requests = server.requests();
    assert_eq!(requests[0].path, PATH);
    assert_eq!(requests[0].header("authorization"), None);
    assert_eq!(requests[0].json(), json!({"model": "qwen3", "input": "hi"}));
    assert_eq!(requests[1].path, "/openai/v1/responses");
    assert_eq!(requests[1].query, None);
    assert_eq!(requests[1].header("api-key"), Some("azure-key-123"));
    assert_eq!(requests[1].json(), json!({"model": "gpt-4o-prod", "input": "hi"}));
    record_conformance("openai-responses", &requests[1].json());
}

#[tokio::test]
async fn foreign_error_documents_are_errors() {
    let server = MockServer::start().await;
    let error_document =
        json!({"error": {"code": 500, "message": "slot unavailable", "type": "server_error"}});
    server.respond("POST", PATH, MockResponse::json(200, error_document.clone()));
    let request = ResponsesRequest { model: "qwen3".to_owned(), input: "hi".into(), ..Default::default() };
    let result = client(&server).create_response(&request, &CallOptions::default()).await;
    let Err(LLMError::Api(api)) = result else { panic!("{result:?}") };
    assert_eq!((api.message.as_str(), api.code.as_deref()), ("slot unavailable", Some("500")));
    assert!(api.retryable);

    // In a stream: `event: error` with the same document.
    let created = String::from_utf8_lossy(&fixture("streams/error.openai-responses.sse"))
        .split("\n\n")
        .next()
        .unwrap_or_default()
        .to_owned();
    let events = [format!("{created}\n\n"), format!("event: error\ndata: {error_document}\n\n")];
    server.respond("POST", PATH, MockResponse::sse(events));
    let (events, error) = collect(&client(&server), &stream_request()).await;
    assert!(error.is_none(), "{error:?}");
    let [ResponsesStreamEvent::Created(_), ResponsesStreamEvent::Error(failure)] = events.as_slice() else {
        panic!("{events:?}")
    };
    assert_eq!((failure.message.as_str(), failure.code.clone()), ("slot unavailable", Some(json!(500))));
}

#[tokio::test]
async fn a_failed_response_after_an_error_event_still_arrives() {
    let server = MockServer::start().await;
    let mut failed = fixture_json("responses/text.openai-responses.json");
    failed["status"] = json!("failed");
    failed["output"] = json!([]);
    failed["usage"] = Value::Null;
    failed["error"] = json!({"code": "server_error", "message": "The model crashed."});
    let mut body = fixture("streams/error.openai-responses.sse");
    body.extend(
        format!(
            "event: response.failed\ndata: {}\n\n",
            json!({"type": "response.failed", "response": failed, "sequence_number": 2})
        )
        .into_bytes(),
    );
    body.extend(b"event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"delta\":\"late\"}\n\n");
    server.respond("POST", PATH, MockResponse::stream(200, "text/event-stream", [body]));
    let (events, error) = collect(&client(&server), &stream_request()).await;
    assert!(error.is_none(), "{error:?}");
    let [
        ResponsesStreamEvent::Created(_),
        ResponsesStreamEvent::Error(_),
        ResponsesStreamEvent::Failed(failed),
    ] = events.as_slice()
    else {
        panic!("{events:?}")
    };
    assert_eq!(failed.response.status, ResponsesStatus::Failed);
    assert_eq!(
        failed.response.error.as_ref().map(|error| error.message.as_str()),
        Some("The model crashed.")
    );
}

/// A gateway reads its caller's request and forwards it: every field, typed or not, goes out as it came.
#[tokio::test]
async fn a_callers_request_is_forwarded_unchanged() {
    let document = fixture_json("requests/from_a_caller.openai-responses.json");
    let request: ResponsesRequest =
        serde_json::from_value(document.clone()).unwrap_or_else(|error| panic!("{error}"));
    let ResponsesInput::Items(items) = &request.input else { panic!("{:?}", request.input) };
    let kinds: Vec<&str> = items
        .iter()
        .map(|item| match item {
            ResponsesItem::Message(_) => "message",
            ResponsesItem::FunctionCall(_) => "function_call",
            ResponsesItem::FunctionCallOutput(_) => "function_call_output",
            ResponsesItem::Reasoning(_) => "reasoning",
            _ => "other",
        })
        .collect();
    // Messages without `type` are kept whole, so they go out without it too.
    assert_eq!(
        kinds,
        [
            "other",
            "other",
            "reasoning",
            "function_call",
            "function_call_output",
            "other",
            "message",
            "message"
        ]
    );
    assert!(
        matches!(&request.tool_choice, Some(ResponsesToolChoice::Other(choice)) if choice["type"] == "allowed_tools")
    );
    assert!(matches!(
        request.text.as_ref().and_then(|text| text.format.as_ref()),
        Some(ResponsesTextFormat::JsonObject)
    ));
    assert_eq!(request.extra.get("max_tool_calls"), Some(&json!(4)));

    let server = MockServer::start().await;
    server.respond(
        "POST",
        PATH,
        MockResponse::json(200, fixture_json("responses/text.openai-responses.json")),
    );
    let result = client(&server).create_response(&request, &CallOptions::default()).await;
    assert!(result.is_ok(), "{result:?}");
    let sent = server.requests()[0].json();
    assert_eq!(sent, document);
    record_conformance("openai-responses", &sent);
}
