//! async-openai requests through `VlloraLLMClient` against a loopback server (feature `async-openai`):
//! the exact JSON the server receives, the key passed as the documents pass it with the endpoint from
//! the environment, and what comes back converted into async-openai's response and chunk types.

#![allow(clippy::panic, reason = "a test fails by panicking")]
#![cfg(all(feature = "async-openai", feature = "openai"))]

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::json;
use vllora_llm::async_openai::types::chat::{
    ChatCompletionRequestMessage, ChatCompletionRequestSystemMessageArgs,
    ChatCompletionRequestUserMessageArgs, ChatCompletionToolChoiceOption, ChatCompletionTools,
    CreateChatCompletionRequest, CreateChatCompletionRequestArgs, CreateChatCompletionResponse,
    CreateChatCompletionStreamResponse, FinishReason, FunctionObjectArgs, ResponseFormat, ToolChoiceOptions,
};
use vllora_llm::client::VlloraLLMClient;
use vllora_llm::error::LLMResult;
use vllora_llm::types::credentials::{ApiKeyCredentials, Credentials};
use vllora_llm::types::{Environment, Warning};
use vllora_llm_testkit::{MockResponse, MockServer, record_conformance};

/// The environment of a deployment that points OpenAI at another server.
#[derive(Debug)]
struct Variables(HashMap<String, String>);

impl Environment for Variables {
    fn var(&self, name: &str) -> Option<String> {
        self.0.get(name).cloned()
    }

    fn read_file(&self, _path: &std::path::Path) -> Option<String> {
        None
    }
}

/// The documents' client: the key given explicitly, the endpoint from `VLLORA_OPENAI_ENDPOINT`.
fn client(server: &MockServer) -> VlloraLLMClient {
    let variables = HashMap::from([("VLLORA_OPENAI_ENDPOINT".to_owned(), format!("{}/v1", server.url()))]);
    VlloraLLMClient::new()
        .with_environment(Arc::new(Variables(variables)))
        .with_credentials(Credentials::ApiKey(ApiKeyCredentials { api_key: "sk-documented".to_owned() }))
}

fn request() -> LLMResult<CreateChatCompletionRequest> {
    Ok(CreateChatCompletionRequestArgs::default()
        .model("gpt-4.1-mini")
        .messages([
            ChatCompletionRequestMessage::System(
                ChatCompletionRequestSystemMessageArgs::default()
                    .content("You are a helpful assistant.")
                    .build()?,
            ),
            ChatCompletionRequestMessage::User(
                ChatCompletionRequestUserMessageArgs::default()
                    .content("Stream numbers 1 to 20 in separate lines.")
                    .build()?,
            ),
        ])
        .temperature(0.2)
        .max_completion_tokens(64u32)
        .stop("21")
        .tools(vec![ChatCompletionTools::Function(
            vllora_llm::async_openai::types::chat::ChatCompletionTool {
                function: FunctionObjectArgs::default()
                    .name("count")
                    .parameters(json!({"type": "object", "properties": {"to": {"type": "integer"}}}))
                    .build()?,
            },
        )])
        .tool_choice(ChatCompletionToolChoiceOption::Mode(ToolChoiceOptions::Auto))
        .response_format(ResponseFormat::Text)
        .build()?)
}

/// What the server must receive (before the client's own `stream` fields).
fn expected_body() -> serde_json::Value {
    json!({
        "model": "gpt-4.1-mini",
        "messages": [
            {"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": "Stream numbers 1 to 20 in separate lines."}
        ],
        "temperature": 0.2,
        "max_completion_tokens": 64,
        "stop": ["21"],
        "tools": [{"type": "function", "function": {"name": "count",
                   "parameters": {"type": "object", "properties": {"to": {"type": "integer"}}}}}],
        "tool_choice": "auto",
        "response_format": {"type": "text"}
    })
}

#[tokio::test]
async fn a_one_shot_async_openai_request_arrives_as_its_json_and_answers_as_its_type() -> LLMResult<()> {
    let server = MockServer::start().await;
    server.respond(
        "POST",
        "/v1/chat/completions",
        MockResponse::json(
            200,
            json!({
                "id": "chatcmpl-1", "object": "chat.completion", "created": 1_741_476_542, "model": "llama",
                "system_fingerprint": "fp_1",
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": "1\n2\n3", "reasoning_content": "counting"}}],
                "usage": {"prompt_tokens": 20, "completion_tokens": 6, "total_tokens": 26,
                          "prompt_tokens_details": {"cached_tokens": 4}}
            }),
        ),
    );
    let result = client(&server).completions().create(request()?).await?;
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].path, "/v1/chat/completions");
    assert_eq!(requests[0].header("authorization"), Some("Bearer sk-documented"));
    let mut body = requests[0].json();
    record_conformance("openai-chat", &body);
    body.as_object_mut().map(|body| body.remove("stream"));
    assert_eq!(body, expected_body());

    let response = CreateChatCompletionResponse::from(result);
    assert_eq!(response.id, "chatcmpl-1");
    assert_eq!(response.created, 1_741_476_542);
    assert_eq!(response.choices[0].message.content.as_deref(), Some("1\n2\n3"));
    assert_eq!(response.choices[0].finish_reason, Some(FinishReason::Stop));
    let usage = response.usage.unwrap_or_default();
    assert_eq!((usage.prompt_tokens, usage.completion_tokens, usage.total_tokens), (20, 6, 26));
    assert_eq!(usage.prompt_tokens_details.and_then(|details| details.cached_tokens), Some(4));
    Ok(())
}

#[tokio::test]
async fn a_streamed_async_openai_request_gives_async_openai_chunks() -> LLMResult<()> {
    let server = MockServer::start().await;
    let chunk = |delta: serde_json::Value, finish: serde_json::Value| {
        format!(
            "data: {}\n\n",
            json!({"id": "chatcmpl-2", "object": "chat.completion.chunk", "created": 1_741_476_543,
                   "model": "llama", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
        )
    };
    server.respond(
        "POST",
        "/v1/chat/completions",
        MockResponse::sse([
            chunk(json!({"role": "assistant", "content": ""}), json!(null)),
            chunk(json!({"content": "1\n"}), json!(null)),
            chunk(json!({"content": "2"}), json!(null)),
            chunk(json!({}), json!("stop")),
            "data: [DONE]\n\n".to_owned(),
        ]),
    );
    let mut stream = client(&server).completions().create_stream(request()?).await?;
    let mut text = String::new();
    let mut finish = None;
    while let Some(chunk) = stream.next().await {
        let (chunk, warnings): (CreateChatCompletionStreamResponse, Vec<Warning>) =
            vllora_llm::async_openai_compat::chunk_to_async_openai(chunk?);
        assert_eq!(warnings, []);
        assert_eq!(chunk.id, "chatcmpl-2");
        for choice in chunk.choices {
            text.push_str(choice.delta.content.as_deref().unwrap_or_default());
            finish = finish.or(choice.finish_reason);
        }
    }
    assert_eq!(text, "1\n2");
    assert_eq!(finish, Some(FinishReason::Stop));
    let mut body = server.requests()[0].json();
    assert_eq!(body["stream"], json!(true));
    record_conformance("openai-chat", &body);
    body.as_object_mut().map(|body| {
        body.remove("stream");
        body.remove("stream_options")
    });
    assert_eq!(body, expected_body());
    Ok(())
}
