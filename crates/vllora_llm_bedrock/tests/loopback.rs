//! Loopback tests: real HTTP exchanges with the test kit's mock server, asserting the exact request
//! Bedrock would receive (path, signed headers, JSON body) and exactly what the caller gets back; and the
//! whole production path (config, model, client) signing a Converse request exactly as botocore does.
#![allow(clippy::panic, reason = "a test fails by panicking, helpers included")]

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_core::Stream;
use serde_json::{Value, json};
use vllora_llm_bedrock::{BedrockConfig, BedrockModel, PROVIDER_NAME};
use vllora_llm_core::types::gateway::{
    ChatCompletionChunk, ChatCompletionMessage, ChatCompletionRequest, FinishReason,
};
use vllora_llm_core::{
    AwsCredentials, BoxFuture, CallOptions, Credentials, LLMError, LLMResult, ModelInstance, Secret,
};
use vllora_llm_http::{
    Bytes, HeaderMap, HeaderValue, HttpClient, HttpConfig, HttpRequest, HttpResponse, HttpTransport,
    RetryPolicy, StatusCode,
};
use vllora_llm_testkit::{Chunking, MockResponse, MockServer, RecordedRequest, record_conformance};

const HAIKU: &str = "anthropic.claude-3-haiku-20240307-v1:0";
const HAIKU_PATH: &str = "/model/anthropic.claude-3-haiku-20240307-v1%3A0";
const SONNET_PROFILE: &str = "us.anthropic.claude-sonnet-4-20250514-v1:0";
const REQUEST_ID: &str = "2f1c3b1e-6a4d-4f5e-9b7a-0c1d2e3f4a5b";
const EXAMPLE_SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

/// 2024-05-01T12:00:00Z, the time every request here is signed at.
fn fixed_time() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_714_564_800)
}

fn fixture(path: &str) -> Vec<u8> {
    let full = format!("{}/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&full).unwrap_or_else(|error| panic!("{full}: {error}"))
}

fn fixture_json(path: &str) -> Value {
    serde_json::from_slice(&fixture(path)).unwrap_or_else(|error| panic!("{path}: {error}"))
}

fn http_config() -> HttpConfig {
    HttpConfig {
        retry: RetryPolicy {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(5),
            max_retry_after: Duration::from_secs(1),
        },
        ..HttpConfig::default()
    }
}

fn http() -> HttpClient {
    let Ok(client) = HttpClient::new(http_config()) else { panic!("the HTTP client builds") };
    client
}

fn aws_credentials(session_token: Option<&str>) -> Credentials {
    Credentials::Aws(AwsCredentials {
        access_key_id: Secret::new("AKIDEXAMPLE"),
        secret_access_key: Secret::new(EXAMPLE_SECRET),
        session_token: session_token.map(Secret::new),
        region: Some("us-east-1".into()),
    })
}

fn config(credentials: &Credentials) -> BedrockConfig {
    let Ok(config) = BedrockConfig::from_credentials(credentials) else {
        panic!("credentials with a region")
    };
    config.with_clock(fixed_time)
}

fn model(server: &MockServer, credentials: &Credentials) -> BedrockModel {
    BedrockModel::new(config(credentials).with_base_url(server.url()), http())
}

fn hello(model: &str) -> ChatCompletionRequest {
    ChatCompletionRequest {
        model: model.into(),
        messages: vec![
            ChatCompletionMessage::new_text("system", "You are terse."),
            ChatCompletionMessage::new_text("user", "Hello, Bedrock"),
        ],
        max_tokens: Some(64),
        temperature: Some(0.5),
        ..Default::default()
    }
}

fn only_request(server: &MockServer) -> RecordedRequest {
    let mut requests = server.requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    requests.remove(0)
}

/// The SigV4 headers of a request signed at the fixed time with the example key.
fn assert_signed(request: &RecordedRequest, signed_headers: &str) {
    assert_eq!(request.header("x-amz-date"), Some("20240501T120000Z"));
    let authorization = request.header("authorization").unwrap_or_default();
    let prefix = format!(
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240501/us-east-1/bedrock/aws4_request, \
         SignedHeaders={signed_headers}, Signature="
    );
    let signature = authorization.strip_prefix(&prefix).unwrap_or_else(|| panic!("{authorization}"));
    assert!(signature.len() == 64 && signature.bytes().all(|byte| byte.is_ascii_hexdigit()), "{signature}");
}

async fn collect(
    model: &BedrockModel,
    request: &ChatCompletionRequest,
) -> (Vec<ChatCompletionChunk>, Option<LLMError>) {
    let stream = model.stream(request, &CallOptions::default()).await;
    let Ok(mut stream) = stream else { panic!("{:?}", stream.err()) };
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
async fn converse_sends_a_signed_request_and_returns_every_block() {
    let server = MockServer::start().await;
    let answer = fixture_json("responses/tool_use_with_reasoning.bedrock.json");
    server.respond(
        "POST",
        &format!("{HAIKU_PATH}/converse"),
        MockResponse::json(200, answer).header("x-amzn-requestid", REQUEST_ID),
    );
    let model = model(&server, &aws_credentials(Some("FQoGZXIvYXdzEXAMPLETOKEN")));
    let result = model.complete(&hello(HAIKU), &CallOptions::default()).await;
    let Ok(result) = result else { panic!("{result:?}") };

    let request = only_request(&server);
    assert_eq!(
        (request.method.as_str(), request.path.as_str()),
        ("POST", "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse")
    );
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert_eq!(request.header("accept"), Some("application/json"));
    assert_eq!(request.header("x-amz-security-token"), Some("FQoGZXIvYXdzEXAMPLETOKEN"));
    assert_signed(&request, "accept;content-type;host;x-amz-date;x-amz-security-token");
    let body = request.json();
    record_conformance("bedrock-converse", &body);
    assert_eq!(body, fixture_json("signing/converse_body.json"));

    assert_eq!(result.id(), REQUEST_ID);
    assert_eq!(result.model(), HAIKU);
    assert_eq!(result.response.created, 1_714_564_800);
    assert_eq!(result.finish_reason(), Some(&FinishReason::ToolCalls));
    let message = result.message();
    assert_eq!(
        message.content.as_ref().and_then(|content| content.as_string()).as_deref(),
        Some("I'll check both cities for you.")
    );
    assert_eq!(message.tool_calls.as_ref().map(Vec::len), Some(2));
    assert_eq!(message.reasoning_details.as_ref().map(Vec::len), Some(2));
    assert_eq!(result.usage().map(|usage| usage.cached_tokens()), Some(1600));
    assert_eq!(model.provider_name(), PROVIDER_NAME);
}

#[tokio::test]
async fn converse_stream_decodes_frames_at_any_chunking() {
    let expected: Vec<ChatCompletionChunk> =
        serde_json::from_value(fixture_json("streams/tools_reasoning.expected.json")).unwrap_or_default();
    assert!(!expected.is_empty());
    let path = "/model/us.anthropic.claude-sonnet-4-20250514-v1%3A0/converse-stream";
    for chunking in [Chunking::Whole, Chunking::Bytes(1), Chunking::Random { seed: 7, max: 40 }] {
        let server = MockServer::start().await;
        let frames = MockResponse::body(
            200,
            "application/vnd.amazon.eventstream",
            fixture("streams/tools_reasoning.bedrock.bin"),
        )
        .header("x-amzn-requestid", REQUEST_ID)
        .chunking(chunking);
        server.respond("POST", path, frames);
        let request = ChatCompletionRequest { model: format!("bedrock/{SONNET_PROFILE}"), ..hello("") };
        let (chunks, error) = collect(&model(&server, &aws_credentials(None)), &request).await;
        assert!(error.is_none(), "{chunking:?}: {error:?}");
        // As JSON: Bedrock's raw stop reason is not part of a chunk's JSON; it is checked below.
        assert_eq!(serde_json::to_value(&chunks).ok(), serde_json::to_value(&expected).ok(), "{chunking:?}");
        let finish =
            chunks.iter().flat_map(|chunk| &chunk.choices).find(|choice| choice.finish_reason.is_some());
        assert_eq!(
            finish.map(|choice| (choice.finish_reason.clone(), choice.raw_finish_reason.as_deref())),
            Some((Some(FinishReason::ToolCalls), Some("tool_use"))),
            "{chunking:?}"
        );

        let sent = only_request(&server);
        assert_eq!(sent.path, path);
        assert_eq!(sent.header("accept"), Some("application/vnd.amazon.eventstream"));
        assert_eq!(sent.header("x-amz-security-token"), None);
        assert_signed(&sent, "accept;content-type;host;x-amz-date");
        record_conformance("bedrock-converse-stream", &sent.json());
        assert_eq!(
            sent.json(),
            fixture_json("signing/converse_body.json"),
            "streaming sends the same inferenceConfig"
        );
    }
}

#[tokio::test]
async fn a_bedrock_api_key_is_sent_as_a_bearer_token() {
    let server = MockServer::start().await;
    server.respond(
        "POST",
        &format!("{HAIKU_PATH}/converse"),
        MockResponse::json(200, fixture_json("responses/guardrail.bedrock.json")),
    );
    let credentials = Credentials::AwsBearer {
        api_key: Secret::new("ABSKQmVkcm9ja0FQSUtleQ=="),
        region: Some("us-west-2".into()),
    };
    let model = model(&server, &credentials);
    let result = model.complete(&hello(HAIKU), &CallOptions::default()).await;
    assert_eq!(
        result.ok().and_then(|result| result.finish_reason().cloned()),
        Some(FinishReason::ContentFilter)
    );
    let request = only_request(&server);
    assert_eq!(request.header("authorization"), Some("Bearer ABSKQmVkcm9ja0FQSUtleQ=="));
    assert_eq!(request.header("x-amz-date"), None);
    record_conformance("bedrock-converse", &request.json());
}

#[tokio::test]
async fn a_validation_error_names_the_aws_type_and_is_not_retried() {
    let server = MockServer::start().await;
    let body = json!({"message": "The provided model identifier is invalid."});
    server.respond_always(
        "POST",
        &format!("{HAIKU_PATH}/converse"),
        MockResponse::json(400, body).header(
            "x-amzn-errortype",
            "ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/",
        ),
    );
    let result =
        model(&server, &aws_credentials(None)).complete(&hello(HAIKU), &CallOptions::default()).await;
    let Err(error) = result else { panic!("expected an error") };
    let api = error.api_error().cloned().unwrap_or_default();
    assert_eq!((api.status, api.error_type.as_deref()), (Some(400), Some("ValidationException")));
    assert_eq!(api.message, "The provided model identifier is invalid.");
    assert_eq!(api.provider, PROVIDER_NAME);
    assert!(!error.is_retryable());
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn throttling_is_retried_then_reported_as_retryable() {
    let server = MockServer::start().await;
    let throttled = || {
        MockResponse::json(429, json!({"message": "Too many requests, please wait before trying again."}))
            .header("x-amzn-errortype", "ThrottlingException")
    };
    server.respond("POST", &format!("{HAIKU_PATH}/converse"), throttled());
    server.respond(
        "POST",
        &format!("{HAIKU_PATH}/converse"),
        MockResponse::json(200, fixture_json("responses/guardrail.bedrock.json")),
    );
    let result =
        model(&server, &aws_credentials(None)).complete(&hello(HAIKU), &CallOptions::default()).await;
    assert!(result.is_ok(), "{result:?}");
    assert_eq!(server.requests().len(), 2, "one retry after throttling");

    let server = MockServer::start().await;
    server.respond_always("POST", &format!("{HAIKU_PATH}/converse-stream"), throttled());
    let stream = model(&server, &aws_credentials(None)).stream(&hello(HAIKU), &CallOptions::default()).await;
    let Err(error) = stream else { panic!("expected an error") };
    assert_eq!(error.api_error().and_then(|api| api.error_type.as_deref()), Some("ThrottlingException"));
    assert!(error.is_retryable());
    assert_eq!(server.requests().len(), 3, "every attempt of the policy was used");
}

#[tokio::test]
async fn an_exception_frame_mid_stream_ends_it_with_the_aws_error() {
    let server = MockServer::start().await;
    server.respond(
        "POST",
        &format!("{HAIKU_PATH}/converse-stream"),
        MockResponse::body(
            200,
            "application/vnd.amazon.eventstream",
            fixture("streams/throttling_exception.bedrock.bin"),
        )
        .chunking(Chunking::Random { seed: 42, max: 16 }),
    );
    let (chunks, error) = collect(&model(&server, &aws_credentials(None)), &hello(HAIKU)).await;
    let text: String = chunks
        .iter()
        .flat_map(|chunk| &chunk.choices)
        .filter_map(|choice| choice.delta.content.as_deref())
        .collect();
    assert_eq!(text, "Partial");
    let Some(error) = error else { panic!("the exception must surface") };
    assert_eq!(error.api_error().and_then(|api| api.error_type.as_deref()), Some("ThrottlingException"));
    assert!(error.is_retryable());
}

#[tokio::test]
async fn a_corrupt_stream_is_a_decode_error_not_a_hang() {
    let server = MockServer::start().await;
    let mut frames = fixture("streams/text.bedrock.bin");
    let middle = frames.len() / 2;
    frames[middle] ^= 0x20;
    server.respond(
        "POST",
        &format!("{HAIKU_PATH}/converse-stream"),
        MockResponse::body(200, "application/vnd.amazon.eventstream", frames),
    );
    let (_, error) = collect(&model(&server, &aws_credentials(None)), &hello(HAIKU)).await;
    let Some(LLMError::Decode { provider, message }) = error else { panic!("{error:?}") };
    assert_eq!(provider, PROVIDER_NAME);
    assert!(message.contains("CRC"), "{message}");
}

#[tokio::test]
async fn strict_mode_refuses_before_anything_is_sent() {
    let server = MockServer::start().await;
    let request = ChatCompletionRequest { seed: Some(7), presence_penalty: Some(0.5), ..hello(HAIKU) };
    let model = model(&server, &aws_credentials(None));
    let result = model.complete(&request, &CallOptions::strict(true)).await;
    assert!(matches!(&result, Err(LLMError::Unsupported(warnings)) if warnings.len() == 2), "{result:?}");
    let stream = model.stream(&request, &CallOptions::strict(true)).await;
    assert!(matches!(stream, Err(LLMError::Unsupported(_))));
    assert!(server.requests().is_empty());

    server.respond(
        "POST",
        &format!("{HAIKU_PATH}/converse"),
        MockResponse::json(200, fixture_json("responses/guardrail.bedrock.json")),
    );
    let lenient = model.complete(&request, &CallOptions::default()).await;
    let parameters: Vec<String> = lenient
        .map(|result| {
            result.warnings().iter().filter_map(|warning| warning.parameter().map(str::to_owned)).collect()
        })
        .unwrap_or_default();
    assert_eq!(parameters, ["presence_penalty", "seed"]);
}

/// A transport that keeps the request it is given and answers with a canned body (or, with `reset`, a
/// body whose first read fails as a reset connection does).
#[derive(Debug, Default)]
struct Capture {
    sent: Mutex<Vec<HttpRequest>>,
    answer: Vec<u8>,
    reset: bool,
}

/// A test double of an HTTP body: one piece, then the end.
struct Once(Option<LLMResult<Bytes>>);

impl Stream for Once {
    type Item = LLMResult<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, _context: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Poll::Ready(self.0.take())
    }
}

impl HttpTransport for Capture {
    fn send(&self, request: HttpRequest) -> BoxFuture<'static, LLMResult<HttpResponse>> {
        if let Ok(mut sent) = self.sent.lock() {
            sent.push(request);
        }
        let mut headers = HeaderMap::new();
        headers.insert("x-amzn-requestid", HeaderValue::from_static(REQUEST_ID));
        let piece = if self.reset {
            Err(LLMError::Connection { message: "reset".into() })
        } else {
            Ok(Bytes::from(self.answer.clone()))
        };
        let body = Once(Some(piece));
        Box::pin(std::future::ready(Ok(HttpResponse {
            status: StatusCode::OK,
            headers,
            body: Box::pin(body),
        })))
    }
}

#[tokio::test]
async fn the_production_path_signs_exactly_as_botocore() {
    // converse_signatures.json: botocore's SigV4Auth over the same URL, headers and body, clock fixed
    // (tests/fixtures/signing/botocore_sign.py).
    let signatures = fixture_json("signing/converse_signatures.json");
    let cases = [
        ("long_term", HAIKU, None, false),
        ("session_token", HAIKU, Some("FQoGZXIvYXdzEXAMPLETOKEN"), true),
        (
            "arn",
            "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-sonnet-4-20250514-v1:0",
            None,
            false,
        ),
    ];
    for (name, model_id, token, streaming) in cases {
        let answer = if streaming {
            fixture("streams/text.bedrock.bin")
        } else {
            fixture("responses/guardrail.bedrock.json")
        };
        let transport = Arc::new(Capture { answer, ..Capture::default() });
        let client = HttpClient::with_transport(transport.clone(), http_config());
        let model = BedrockModel::new(config(&aws_credentials(token)), client);
        if streaming {
            let (chunks, error) = collect(&model, &hello(model_id)).await;
            assert!(error.is_none() && !chunks.is_empty(), "{error:?}");
        } else {
            let result = model.complete(&hello(model_id), &CallOptions::default()).await;
            assert!(result.is_ok(), "{result:?}");
        }
        let sent = transport.sent.lock().map(|sent| sent.clone()).unwrap_or_default();
        let [request] = sent.as_slice() else { panic!("{name}: {sent:?}") };
        let expected = &signatures[name];
        assert_eq!(Some(request.url.as_str()), expected["url"].as_str(), "{name}");
        let header = |header: &str| request.headers.get(header).and_then(|value| value.to_str().ok());
        assert_eq!(header("authorization"), expected["authorization"].as_str(), "{name}");
        assert_eq!(header("x-amz-date"), expected["x-amz-date"].as_str(), "{name}");
        assert_eq!(header("accept"), expected["accept"].as_str(), "{name}");
        assert_eq!(request.body.as_ref(), fixture("signing/converse_body.json").trim_ascii_end(), "{name}");
        assert!(!format!("{request:?}").contains(EXAMPLE_SECRET), "{name}: the secret key is never shown");
    }
}

#[tokio::test]
async fn a_reset_or_a_stall_mid_stream_ends_it_with_an_error() {
    let frames = fixture("streams/text.bedrock.bin");
    let path = format!("{HAIKU_PATH}/converse-stream");
    let server = MockServer::start().await;
    let reset =
        MockResponse::body(200, "application/vnd.amazon.eventstream", frames.clone()).reset_after(300);
    server.respond("POST", &path, reset);
    let (_, error) = collect(&model(&server, &aws_credentials(None)), &hello(HAIKU)).await;
    assert!(error.is_some(), "a reset connection must not look like a finished answer");

    let server = MockServer::start().await;
    server.respond(
        "POST",
        &path,
        MockResponse::body(200, "application/vnd.amazon.eventstream", frames).stall_after(300),
    );
    let mut config = http_config();
    config.timeouts.idle = Some(Duration::from_millis(200));
    let Ok(client) = HttpClient::new(config) else { panic!("the HTTP client builds") };
    let model = BedrockModel::new(self::config(&aws_credentials(None)).with_base_url(server.url()), client);
    let (chunks, error) = collect(&model, &hello(HAIKU)).await;
    assert!(!chunks.is_empty(), "the frames before the stall arrive");
    assert!(error.as_ref().is_some_and(LLMError::is_timeout), "{error:?}");
}

#[tokio::test]
async fn transport_errors_pass_through() {
    let transport = Arc::new(Capture { reset: true, ..Capture::default() });
    let client = HttpClient::with_transport(transport, http_config());
    let model = BedrockModel::new(config(&aws_credentials(None)), client);
    let (chunks, error) = collect(&model, &hello(HAIKU)).await;
    assert!(chunks.is_empty(), "{chunks:?}");
    let Some(LLMError::Connection { message }) = error else { panic!("{error:?}") };
    assert_eq!(message, "reset");
}

/// A two-turn conversation with a server tool and citations: the first answer (reasoning, Nova's web
/// grounding call and its result, text, cited text, more reasoning, a tool call) comes back with its block
/// order in `provider_content`; the caller stores it as JSON; sending it back gives Bedrock every block
/// exactly as it wrote it, in its order. The system tool and the model's own fields given in
/// `provider_specific` reach both bodies where Converse expects them.
#[tokio::test]
async fn server_tool_citation_and_reasoning_blocks_go_back_in_order_on_the_next_turn() {
    use vllora_llm_core::types::gateway::{ChatCompletionTool, FunctionDefinition, ProviderSpecificRequest};
    let server = MockServer::start().await;
    let first = fixture_json("responses/server_tool_citations.bedrock.json");
    let path = "/model/us.amazon.nova-premier-v1%3A0/converse";
    server.respond_always(
        "POST",
        path,
        MockResponse::json(200, first.clone()).header("x-amzn-requestid", REQUEST_ID),
    );
    let mut extra = serde_json::Map::new();
    extra.insert("toolConfig".to_owned(), json!({"tools": [{"systemTool": {"name": "nova_grounding"}}]}));
    extra.insert("reasoningConfig".to_owned(), json!({"type": "enabled", "maxReasoningEffort": "low"}));
    let mut request = ChatCompletionRequest {
        model: "us.amazon.nova-premier-v1:0".into(),
        messages: vec![ChatCompletionMessage::new_text(
            "user",
            "When does Artemis II fly, and what time is it now?",
        )],
        tools: Some(vec![ChatCompletionTool::function(FunctionDefinition {
            name: "get_time".into(),
            parameters: Some(json!({"type": "object", "properties": {"zone": {"type": "string"}}})),
            ..Default::default()
        })]),
        provider_specific: Some(ProviderSpecificRequest { extra, ..Default::default() }),
        ..Default::default()
    };
    let model = model(&server, &aws_credentials(None));
    let Ok(answer) = model.complete(&request, &CallOptions::default()).await else { panic!("first turn") };
    assert!(answer.warnings().is_empty(), "{:?}", answer.warnings());
    let message = answer.message();
    assert_eq!(
        message.content.as_ref().and_then(|content| content.as_string()).as_deref(),
        Some(
            "Here is what I found. Artemis II, NASA's first crewed flight around the Moon, is targeted for April 2026."
        )
    );
    assert_eq!(message.tool_calls.as_ref().map(Vec::len), Some(1), "the server tool is not the caller's");
    let stored = serde_json::to_string(message).unwrap_or_default();
    let assistant: ChatCompletionMessage =
        serde_json::from_str(&stored).unwrap_or_else(|error| panic!("{error}"));
    request.messages.push(assistant);
    request
        .messages
        .push(ChatCompletionMessage::new_tool_result("tooluse_kT2mQ9xWRb6cX1vYz4Hn8A", "12:00 UTC"));
    let second = model.complete(&request, &CallOptions::strict(true)).await;
    let Ok(second) = second else { panic!("second turn: {second:?}") };
    assert!(second.warnings().is_empty(), "{:?}", second.warnings());

    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    let sent = requests[1].json();
    record_conformance("bedrock-converse", &sent);
    assert_eq!(
        sent["messages"][1],
        json!({"role": "assistant", "content": first["output"]["message"]["content"]})
    );
    assert_eq!(
        sent["messages"][2],
        json!({"role": "user", "content": [{"toolResult": {
            "toolUseId": "tooluse_kT2mQ9xWRb6cX1vYz4Hn8A", "content": [{"text": "12:00 UTC"}]
        }}]})
    );
    for body in [requests[0].json(), sent] {
        assert_eq!(body["toolConfig"]["tools"][1], json!({"systemTool": {"name": "nova_grounding"}}));
        assert_eq!(body["toolConfig"]["tools"][0]["toolSpec"]["name"], "get_time");
        assert_eq!(
            body["additionalModelRequestFields"],
            json!({"reasoningConfig": {"type": "enabled", "maxReasoningEffort": "low"}})
        );
    }
}
