//! Multi-turn conversations with OpenAI-compatible hosts over loopback: the answer of one turn (one-shot,
//! or a stream put together as a caller would) goes back as the assistant message of the next, and each
//! host receives the reasoning it needs in the shape it reads (DeepSeek `reasoning_content`, Mistral a
//! `thinking` chunk, OpenRouter `reasoning_details`).

#![allow(clippy::panic, reason = "a test fails by panicking, helpers included")]

use serde_json::{Value, json};
use vllora_llm_core::types::gateway::{
    ChatCompletionMessage, ChatCompletionRequest, ChatCompletionTool, FunctionDefinition, Role, ToolCall,
};
use vllora_llm_core::{CallOptions, ModelInstance};
use vllora_llm_http::{HttpClient, HttpConfig};
use vllora_llm_openai::{OpenAIConfig, OpenAIModel};
use vllora_llm_testkit::{MockResponse, MockServer};

fn fixture(path: &str) -> Value {
    let full = format!("{}/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&full).unwrap_or_else(|error| panic!("{full}: {error}"));
    serde_json::from_str(&text).unwrap_or_else(|error| panic!("{full}: {error}"))
}

fn proxy(server: &MockServer, name: &str) -> OpenAIModel {
    let http = HttpClient::new(HttpConfig::default()).unwrap_or_else(|error| panic!("{error}"));
    OpenAIModel::new(OpenAIConfig::proxy(name, format!("{}/v1", server.url())), http)
}

fn first_turn(model: &str) -> ChatCompletionRequest {
    ChatCompletionRequest {
        model: model.into(),
        messages: vec![ChatCompletionMessage::new_text("user", "What day is it?")],
        tools: Some(vec![ChatCompletionTool::function(FunctionDefinition {
            name: "today".into(),
            parameters: Some(json!({"type": "object", "properties": {}})),
            ..Default::default()
        })]),
        ..Default::default()
    }
}

fn done() -> MockResponse {
    MockResponse::json(
        200,
        json!({"id": "x", "object": "chat.completion", "created": 1, "model": "m",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "Friday."}, "finish_reason": "stop"}]}),
    )
}

/// The assistant message a caller builds from a stream: text, reasoning and calls joined.
async fn streamed_message(model: &OpenAIModel, request: &ChatCompletionRequest) -> ChatCompletionMessage {
    let mut stream =
        model.stream(request, &CallOptions::default()).await.unwrap_or_else(|error| panic!("{error}"));
    let mut message = ChatCompletionMessage { role: Role::Assistant, ..Default::default() };
    let (mut text, mut reasoning) = (String::new(), String::new());
    let mut calls: Vec<ToolCall> = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.unwrap_or_else(|error| panic!("{error}"));
        for choice in chunk.choices {
            text.push_str(choice.delta.content.as_deref().unwrap_or_default());
            reasoning.push_str(choice.delta.reasoning_content.as_deref().unwrap_or_default());
            for fragment in choice.delta.tool_calls.unwrap_or_default() {
                let function = fragment.function.unwrap_or_default();
                match calls.get_mut(fragment.index as usize) {
                    Some(call) => call.function.arguments.push_str(&function.arguments.unwrap_or_default()),
                    None => calls.push(ToolCall::function(
                        fragment.id.unwrap_or_default(),
                        function.name.unwrap_or_default(),
                        function.arguments.unwrap_or_default(),
                    )),
                }
            }
        }
    }
    message.content = (!text.is_empty()).then(|| text.into());
    message.reasoning_content = (!reasoning.is_empty()).then_some(reasoning);
    message.tool_calls = (!calls.is_empty()).then_some(calls);
    message
}

#[tokio::test]
async fn deepseek_gets_the_streamed_reasoning_of_its_tool_call_turn_back() {
    let server = MockServer::start().await;
    // DeepSeek's thinking mode streaming reasoning, then a tool call (the shapes of its documentation).
    let events = [
        r#"{"id":"d1","object":"chat.completion.chunk","created":1,"model":"deepseek-v4-pro","choices":[{"index":0,"delta":{"role":"assistant","content":null,"reasoning_content":""},"logprobs":null,"finish_reason":null}]}"#,
        r#"{"id":"d1","object":"chat.completion.chunk","created":1,"model":"deepseek-v4-pro","choices":[{"index":0,"delta":{"content":null,"reasoning_content":"I should call today."},"logprobs":null,"finish_reason":null}]}"#,
        r#"{"id":"d1","object":"chat.completion.chunk","created":1,"model":"deepseek-v4-pro","choices":[{"index":0,"delta":{"content":null,"reasoning_content":null,"tool_calls":[{"index":0,"id":"call_00_abc","type":"function","function":{"name":"today","arguments":""}}]},"logprobs":null,"finish_reason":null}]}"#,
        r#"{"id":"d1","object":"chat.completion.chunk","created":1,"model":"deepseek-v4-pro","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{}"}}]},"logprobs":null,"finish_reason":null}]}"#,
        r#"{"id":"d1","object":"chat.completion.chunk","created":1,"model":"deepseek-v4-pro","choices":[{"index":0,"delta":{"content":"","reasoning_content":null},"logprobs":null,"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":20,"completion_tokens":12,"total_tokens":32,"prompt_cache_hit_tokens":0,"prompt_cache_miss_tokens":20}}"#,
    ];
    let body: Vec<String> = events
        .iter()
        .map(|event| format!("data: {event}\n\n"))
        .chain(["data: [DONE]\n\n".to_owned()])
        .collect();
    server.respond("POST", "/v1/chat/completions", MockResponse::sse(body));
    server.respond("POST", "/v1/chat/completions", done());
    let model = proxy(&server, "deepseek");

    let mut request = first_turn("deepseek-v4-pro");
    let answer = streamed_message(&model, &request).await;
    assert_eq!(answer.reasoning_content.as_deref(), Some("I should call today."));
    request.messages.push(answer);
    request.messages.push(ChatCompletionMessage::new_tool_result("call_00_abc", "Friday"));
    let result = model.complete(&request, &CallOptions::strict(true)).await;
    assert!(result.is_ok(), "{result:?}");

    let second = server.requests()[1].json();
    assert_eq!(
        second["messages"][1],
        json!({"role": "assistant", "tool_calls": [{"id": "call_00_abc", "type": "function",
            "function": {"name": "today", "arguments": "{}"}}], "reasoning_content": "I should call today."})
    );
    assert_eq!(
        second["messages"][2],
        json!({"role": "tool", "content": "Friday", "tool_call_id": "call_00_abc"})
    );
}

#[tokio::test]
async fn mistral_gets_its_thinking_back_as_it_sent_it() {
    let server = MockServer::start().await;
    server.respond(
        "POST",
        "/v1/chat/completions",
        MockResponse::json(200, fixture("responses/mistral_thinking.openai.json")),
    );
    server.respond("POST", "/v1/chat/completions", done());
    let model = proxy(&server, "mistral");
    let mut request = first_turn("magistral-medium-2509");
    request.tools = None;
    let first =
        model.complete(&request, &CallOptions::default()).await.unwrap_or_else(|error| panic!("{error}"));
    request.messages.push(first.message().clone());
    request.messages.push(ChatCompletionMessage::new_text("user", "And 3+3?"));
    assert!(model.complete(&request, &CallOptions::strict(true)).await.is_ok());
    let second = server.requests()[1].json();
    assert_eq!(
        second["messages"][1],
        json!({"role": "assistant", "content": [
            {"type": "thinking", "thinking": [{"type": "text", "text": "The user asks for 2+2. That is 4."}]},
            {"type": "text", "text": "2 + 2 = **4**"},
            {"type": "reference", "reference_ids": [1, 2]}
        ]}),
        "the answer goes back chunk for chunk, its reference chunk included"
    );
}

#[tokio::test]
async fn openrouter_gets_its_reasoning_details_back_and_not_another_providers() {
    let server = MockServer::start().await;
    server.respond(
        "POST",
        "/v1/chat/completions",
        MockResponse::json(200, fixture("responses/openrouter_reasoning.openai.json")),
    );
    server.respond("POST", "/v1/chat/completions", done());
    let model = proxy(&server, "openrouter");
    let mut request = first_turn("anthropic/claude-sonnet-4.5");
    let first =
        model.complete(&request, &CallOptions::default()).await.unwrap_or_else(|error| panic!("{error}"));
    request.messages.push(first.message().clone());
    request.messages.push(ChatCompletionMessage::new_tool_result("toolu_01", "Friday"));
    let second =
        model.complete(&request, &CallOptions::default()).await.unwrap_or_else(|error| panic!("{error}"));
    // The reasoning text is in the blocks: nothing else is lost, so only `reasoning_content` is reported.
    let parameters: Vec<&str> = second.warnings().iter().filter_map(|warning| warning.parameter()).collect();
    assert_eq!(parameters, vec!["messages[].reasoning_content"]);
    let sent = server.requests()[1].json();
    assert_eq!(
        sent["messages"][1]["reasoning_details"],
        json!([
            {"type": "reasoning.text", "text": "I need the date first.", "signature": "EqMBCkgIBxABGAIiQ",
             "format": "anthropic-claude-v1", "index": 0},
            {"type": "reasoning.encrypted", "data": "RXJyb3IgZGF0YQ==", "format": "anthropic-claude-v1", "index": 1}
        ]),
        "the blocks go back exactly as OpenRouter sent them"
    );
    // Another provider's blocks (recorded for Anthropic) are not sent to OpenRouter, and that is said.
    let mut foreign = request.clone();
    foreign.messages[1].provider_content.get_or_insert_with(Vec::new).push(
        vllora_llm_core::types::gateway::ProviderContent::native(
            vllora_llm_core::ProviderId::ANTHROPIC,
            json!({"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {}}),
        ),
    );
    server.respond("POST", "/v1/chat/completions", done());
    let third =
        model.complete(&foreign, &CallOptions::default()).await.unwrap_or_else(|error| panic!("{error}"));
    let parameters: Vec<&str> = third.warnings().iter().filter_map(|warning| warning.parameter()).collect();
    assert_eq!(parameters, vec!["messages[].reasoning_content", "messages[].provider_content"]);
    assert_eq!(
        server.requests()[2].json()["messages"][1]["reasoning_details"],
        sent["messages"][1]["reasoning_details"]
    );
    assert_eq!(sent["messages"][1]["tool_calls"][0]["id"], "toolu_01");
}
