//! Bedrock InvokeModel for Anthropic models (feature `anthropic`) against a loopback server speaking
//! Bedrock's wire format: the Messages body as the Anthropic translator makes it, without `model` and
//! `stream`, with `anthropic_version: "bedrock-2023-05-31"`; a one-shot `message`; a stream of AWS
//! event-stream `chunk` frames carrying each Anthropic event base64-encoded in `bytes`, at any chunking.
#![cfg(feature = "anthropic")]
#![allow(clippy::panic, reason = "a test fails by panicking, helpers included")]

use std::time::{Duration, UNIX_EPOCH};

use base64::Engine;
use serde_json::{Value, json};
use vllora_llm_anthropic::{AnthropicConfig, translate_messages_request};
use vllora_llm_bedrock::{BedrockConfig, BedrockModel};
use vllora_llm_core::types::gateway::{ChatCompletionMessage, ChatCompletionRequest, FinishReason};
use vllora_llm_core::{AwsCredentials, CallOptions, Credentials, LLMError, ModelInstance, Secret};
use vllora_llm_http::{HttpClient, HttpConfig};
use vllora_llm_testkit::{Chunking, MockResponse, MockServer};

const SONNET: &str = "us.anthropic.claude-sonnet-4-20250514-v1:0";
const SONNET_PATH: &str = "/model/us.anthropic.claude-sonnet-4-20250514-v1%3A0";

fn model(server: &MockServer, invoke: &str) -> BedrockModel {
    let credentials = Credentials::Aws(AwsCredentials {
        access_key_id: Secret::new("AKIDEXAMPLE"),
        secret_access_key: Secret::new("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
        session_token: None,
        region: Some("us-east-1".into()),
    });
    let config = BedrockConfig::from_credentials(&credentials).unwrap_or_else(|error| panic!("{error}"));
    let config = config
        .with_base_url(server.url())
        .with_invoke_model(invoke)
        .with_clock(|| UNIX_EPOCH + Duration::from_secs(1_714_564_800));
    BedrockModel::new(
        config,
        HttpClient::new(HttpConfig::default()).unwrap_or_else(|error| panic!("{error}")),
    )
}

fn request(model: &str) -> ChatCompletionRequest {
    ChatCompletionRequest {
        model: model.to_owned(),
        messages: vec![
            ChatCompletionMessage::new_text("system", "You are terse."),
            ChatCompletionMessage::new_text("user", "Say hello"),
        ],
        max_tokens: Some(64),
        temperature: Some(0.25),
        ..Default::default()
    }
}

/// The body InvokeModel must receive: the Anthropic translator's, without `model` and `stream`, with
/// Bedrock's `anthropic_version`.
fn expected_body(request: &ChatCompletionRequest, stream: bool) -> Value {
    let translated = translate_messages_request(
        request,
        SONNET,
        &AnthropicConfig::new(""),
        stream,
        "aws.bedrock",
        &CallOptions::default(),
    )
    .unwrap_or_else(|error| panic!("{error}"));
    let mut body = translated.body;
    assert_eq!(body.remove("model"), Some(Value::from(SONNET)));
    body.remove("stream");
    body.insert("anthropic_version".to_owned(), Value::from("bedrock-2023-05-31"));
    Value::Object(body)
}

fn message_answer() -> Value {
    json!({
        "id": "msg_bdrk_01XFDUDYJgAACzvnptvVoYEL",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-20250514",
        "content": [{"type": "text", "text": "Hello!"}],
        "stop_reason": "end_turn",
        "stop_sequence": null,
        "usage": {"input_tokens": 12, "output_tokens": 3}
    })
}

#[tokio::test]
async fn invoke_sends_the_messages_body_and_reads_the_message() {
    let server = MockServer::start().await;
    server.respond("POST", &format!("{SONNET_PATH}/invoke"), MockResponse::json(200, message_answer()));
    let result = model(&server, "*").complete(&request(SONNET), &CallOptions::default()).await;
    let Ok(result) = result else { panic!("{:?}", result.err()) };
    assert_eq!(
        result.message().content.as_ref().map(|content| content.as_string()),
        Some(Some("Hello!".to_owned()))
    );
    assert_eq!(result.finish_reason(), Some(&FinishReason::Stop));
    let usage = result.usage().cloned().unwrap_or_default();
    assert_eq!((usage.prompt_tokens, usage.completion_tokens), (12, 3));

    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let sent = &requests[0];
    assert_eq!(sent.path, format!("{SONNET_PATH}/invoke"));
    assert_eq!(sent.header("accept"), Some("application/json"));
    let body = sent.json();
    assert_eq!(body, expected_body(&request(SONNET), false));
    assert_eq!(body["anthropic_version"], "bedrock-2023-05-31");
    assert!(body.get("model").is_none() && body.get("stream").is_none(), "{body}");
    assert_eq!(body["messages"][0]["role"], "user");
    assert_eq!(body["max_tokens"], 64);
    let authorization = sent.header("authorization").unwrap_or_default();
    assert!(
        authorization
            .starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240501/us-east-1/bedrock/aws4_request"),
        "{authorization}"
    );
}

#[tokio::test]
async fn converse_stays_the_default_for_models_not_chosen() {
    let server = MockServer::start().await;
    server.respond(
        "POST",
        "/model/amazon.nova-pro-v1%3A0/converse",
        MockResponse::json(
            200,
            json!({"output": {"message": {"role": "assistant", "content": [{"text": "hi"}]}},
                   "stopReason": "end_turn", "usage": {"inputTokens": 1, "outputTokens": 1, "totalTokens": 2}}),
        ),
    );
    server.respond(
        "POST",
        &format!("{SONNET_PATH}/converse"),
        MockResponse::json(400, json!({"message": "x"})),
    );
    // `*` selects Anthropic models only; a listed id that is not this one leaves it on Converse.
    let result =
        model(&server, "*").complete(&request("amazon.nova-pro-v1:0"), &CallOptions::default()).await;
    assert!(result.is_ok(), "{:?}", result.err());
    let other = model(&server, "anthropic.claude-3-haiku-20240307-v1:0");
    let error = other.complete(&request(SONNET), &CallOptions::default()).await.err();
    assert_eq!(error.and_then(|error| error.status()), Some(400), "the Sonnet profile went to Converse");
    assert_eq!(server.requests()[1].path, format!("{SONNET_PATH}/converse"));
}

/// One AWS event-stream frame with string headers.
fn frame(headers: &[(&str, &str)], payload: &[u8]) -> Vec<u8> {
    let mut header_bytes = Vec::new();
    for (name, value) in headers {
        header_bytes.push(u8::try_from(name.len()).unwrap_or_default());
        header_bytes.extend_from_slice(name.as_bytes());
        header_bytes.push(7);
        header_bytes.extend_from_slice(&u16::try_from(value.len()).unwrap_or_default().to_be_bytes());
        header_bytes.extend_from_slice(value.as_bytes());
    }
    let total = 12 + header_bytes.len() + payload.len() + 4;
    let mut message = Vec::new();
    message.extend_from_slice(&u32::try_from(total).unwrap_or_default().to_be_bytes());
    message.extend_from_slice(&u32::try_from(header_bytes.len()).unwrap_or_default().to_be_bytes());
    let prelude_crc = crc32(&message);
    message.extend_from_slice(&prelude_crc.to_be_bytes());
    message.extend_from_slice(&header_bytes);
    message.extend_from_slice(payload);
    let message_crc = crc32(&message);
    message.extend_from_slice(&message_crc.to_be_bytes());
    message
}

/// CRC-32 (IEEE), bit by bit: the event stream's checksum.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for byte in bytes {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

/// A `chunk` event carrying one Anthropic event.
fn chunk(event: &Value) -> Vec<u8> {
    let encoded = base64::engine::general_purpose::STANDARD.encode(event.to_string());
    let payload = json!({"bytes": encoded, "p": "abcdefghij"}).to_string();
    frame(
        &[(":event-type", "chunk"), (":content-type", "application/json"), (":message-type", "event")],
        payload.as_bytes(),
    )
}

fn anthropic_events() -> Vec<Value> {
    vec![
        json!({"type": "message_start", "message": {"id": "msg_bdrk_01", "type": "message", "role": "assistant",
               "model": "claude-sonnet-4-20250514", "content": [], "stop_reason": null,
               "usage": {"input_tokens": 12, "output_tokens": 1}}}),
        json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hello"}}),
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": " world"}}),
        json!({"type": "content_block_stop", "index": 0}),
        json!({"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": null},
               "usage": {"output_tokens": 4}}),
        json!({"type": "message_stop", "amazon-bedrock-invocationMetrics": {"inputTokenCount": 12,
               "outputTokenCount": 4, "invocationLatency": 511, "firstByteLatency": 356}}),
    ]
}

#[tokio::test]
async fn invoke_with_response_stream_decodes_base64_chunks_at_any_chunking() {
    let body: Vec<u8> = anthropic_events().iter().flat_map(chunk).collect();
    for chunking in
        [Chunking::Whole, Chunking::Bytes(1), Chunking::Bytes(7), Chunking::Random { seed: 3, max: 50 }]
    {
        let server = MockServer::start().await;
        let path = format!("{SONNET_PATH}/invoke-with-response-stream");
        server.respond(
            "POST",
            &path,
            MockResponse::body(200, "application/vnd.amazon.eventstream", body.clone()).chunking(chunking),
        );
        let stream = model(&server, SONNET).stream(&request(SONNET), &CallOptions::default()).await;
        let Ok(mut stream) = stream else { panic!("{:?}", stream.err()) };
        let (mut text, mut finish, mut usage) = (String::new(), None, None);
        while let Some(item) = stream.next().await {
            let chunk = item.unwrap_or_else(|error| panic!("{chunking:?}: {error}"));
            for choice in &chunk.choices {
                text.push_str(choice.delta.content.as_deref().unwrap_or_default());
                if choice.finish_reason.is_some() {
                    assert!(finish.is_none(), "one finish reason");
                    finish = choice.finish_reason.clone();
                }
            }
            if chunk.usage.is_some() {
                usage = chunk.usage;
            }
        }
        assert_eq!(text, "Hello world", "{chunking:?}");
        assert_eq!(finish, Some(FinishReason::Stop));
        let usage = usage.unwrap_or_default();
        assert_eq!((usage.prompt_tokens, usage.completion_tokens), (12, 4), "{chunking:?}");

        let sent = &server.requests()[0];
        assert_eq!(sent.path, path);
        assert_eq!(sent.header("accept"), Some("application/vnd.amazon.eventstream"));
        assert_eq!(sent.json(), expected_body(&request(SONNET), true));
    }
}

#[tokio::test]
async fn an_exception_frame_ends_the_stream_with_bedrock_s_error() {
    let events = anthropic_events();
    let mut body: Vec<u8> = events[..3].iter().flat_map(chunk).collect();
    body.extend(frame(
        &[
            (":exception-type", "throttlingException"),
            (":content-type", "application/json"),
            (":message-type", "exception"),
        ],
        br#"{"message":"Too many requests, please wait before trying again."}"#,
    ));
    let server = MockServer::start().await;
    server.respond(
        "POST",
        &format!("{SONNET_PATH}/invoke-with-response-stream"),
        MockResponse::body(200, "application/vnd.amazon.eventstream", body),
    );
    let stream = model(&server, "*").stream(&request(SONNET), &CallOptions::default()).await;
    let Ok(mut stream) = stream else { panic!("{:?}", stream.err()) };
    let mut text = String::new();
    let mut error = None;
    while let Some(item) = stream.next().await {
        match item {
            Ok(chunk) => {
                text.extend(chunk.choices.iter().filter_map(|choice| choice.delta.content.clone()));
            }
            Err(failure) => error = Some(failure),
        }
    }
    assert_eq!(text, "Hello");
    let Some(LLMError::Api(api)) = error else { panic!("{error:?}") };
    assert_eq!(api.error_type.as_deref(), Some("ThrottlingException"));
    assert!(api.retryable);
}

#[tokio::test]
async fn a_body_cut_inside_a_frame_is_a_truncated_stream() {
    let body: Vec<u8> = anthropic_events()[..4].iter().flat_map(chunk).collect();
    let cut = body.len() - 5;
    let server = MockServer::start().await;
    server.respond(
        "POST",
        &format!("{SONNET_PATH}/invoke-with-response-stream"),
        MockResponse::body(200, "application/vnd.amazon.eventstream", body[..cut].to_vec()),
    );
    let stream = model(&server, "*").stream(&request(SONNET), &CallOptions::default()).await;
    let Ok(mut stream) = stream else { panic!("{:?}", stream.err()) };
    let mut last = None;
    while let Some(item) = stream.next().await {
        last = Some(item);
    }
    assert!(matches!(last, Some(Err(LLMError::Connection { .. }))), "{last:?}");
}

/// The stream's outcome for `body`: the text, and the error that ended it.
async fn outcome(body: Vec<u8>) -> (String, Option<LLMError>) {
    let server = MockServer::start().await;
    server.respond(
        "POST",
        &format!("{SONNET_PATH}/invoke-with-response-stream"),
        MockResponse::body(200, "application/vnd.amazon.eventstream", body),
    );
    let stream = model(&server, "*").stream(&request(SONNET), &CallOptions::default()).await;
    let Ok(mut stream) = stream else { panic!("{:?}", stream.err()) };
    let (mut text, mut error) = (String::new(), None);
    while let Some(item) = stream.next().await {
        match item {
            Ok(chunk) => text.extend(chunk.choices.iter().filter_map(|choice| choice.delta.content.clone())),
            Err(failure) => error = Some(failure),
        }
    }
    (text, error)
}

#[tokio::test]
async fn unknown_events_are_skipped_and_broken_chunks_are_decode_errors() {
    let events = anthropic_events();
    let event_frame = |event_type: &str, payload: &[u8]| {
        frame(
            &[(":event-type", event_type), (":content-type", "application/json"), (":message-type", "event")],
            payload,
        )
    };
    // An unknown event type and a chunk without `bytes` are skipped; the answer is whole.
    let mut body: Vec<u8> = events[..3].iter().flat_map(chunk).collect();
    body.extend(event_frame("somethingNew", br#"{"x": 1}"#));
    body.extend(event_frame("chunk", br#"{"p": "padding only"}"#));
    body.extend(events[3..].iter().flat_map(chunk));
    let (text, error) = outcome(body).await;
    assert_eq!((text.as_str(), error.is_none()), ("Hello world", true), "{error:?}");

    for broken in [
        br#"{"bytes": "not base64!"}"#.to_vec(),
        format!(r#"{{"bytes": "{}"}}"#, base64::engine::general_purpose::STANDARD.encode("not json"))
            .into_bytes(),
        b"not even json".to_vec(),
    ] {
        let mut body: Vec<u8> = events[..3].iter().flat_map(chunk).collect();
        body.extend(event_frame("chunk", &broken));
        let (text, error) = outcome(body).await;
        assert_eq!(text, "Hello", "the chunks before the broken one are kept");
        assert!(
            matches!(error, Some(LLMError::Decode { .. })),
            "{}: {error:?}",
            String::from_utf8_lossy(&broken)
        );
    }
}
