//! The bounded tool loop against each provider's wire format on a loopback server: the exact requests
//! each provider receives (the tool offered, the call answered with its result), what the caller gets
//! back (outcome, messages, steps, usage), tools run side by side under a timeout, failures handed to the
//! model, the step budget, caller tools, streams with their tool events, and cancellation on drop.

#![cfg(all(feature = "openai", feature = "anthropic", feature = "gemini", feature = "bedrock"))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use vllora_llm::client::VlloraLLMClient;
use vllora_llm::tools::{
    FunctionTool, ToolDefinition, ToolError, ToolKind, ToolLoopEvent, ToolLoopOutcome, ToolOutput, ToolSet,
};
use vllora_llm::types::Environment;
use vllora_llm::types::gateway::{
    ChatCompletionMessage, ChatCompletionRequest, ChatCompletionTool, FinishReason, FunctionDefinition, Role,
};
use vllora_llm_testkit::{MockResponse, MockServer, RecordedRequest};

/// Variables from a map; no files (Bedrock's credentials come from variables too).
#[derive(Debug)]
struct Variables(HashMap<String, String>);

impl Environment for Variables {
    fn var(&self, name: &str) -> Option<String> {
        self.0.get(name).cloned()
    }

    fn read_file(&self, _path: &Path) -> Option<String> {
        None
    }
}

fn client(server: &MockServer, model: &str) -> VlloraLLMClient {
    let url = server.url();
    let vars: HashMap<String, String> = [
        ("VLLORA_OPENAI_API_KEY", "sk-openai".to_owned()),
        ("VLLORA_OPENAI_ENDPOINT", format!("{url}/openai/v1")),
        ("VLLORA_ANTHROPIC_API_KEY", "sk-ant".to_owned()),
        ("VLLORA_ANTHROPIC_ENDPOINT", format!("{url}/anthropic")),
        ("VLLORA_GEMINI_API_KEY", "gemini-key".to_owned()),
        ("VLLORA_GEMINI_ENDPOINT", format!("{url}/gemini")),
        ("AWS_ACCESS_KEY_ID", "AKIDTEST".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "secret".to_owned()),
        ("AWS_REGION", "us-east-1".to_owned()),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_owned(), value))
    .collect();
    let client = VlloraLLMClient::new().with_environment(Arc::new(Variables(vars)));
    if model.starts_with("amazon.") { client.with_inference_endpoint(url) } else { client }
}

fn request(model: &str, question: &str) -> ChatCompletionRequest {
    ChatCompletionRequest {
        model: model.to_owned(),
        messages: vec![ChatCompletionMessage::new_text("user", question)],
        ..Default::default()
    }
}

fn weather_tool(
    calls: Arc<AtomicUsize>,
) -> FunctionTool<impl Fn(Value) -> futures_ready::Ready + Send + Sync> {
    FunctionTool::new(
        "weather",
        "The weather in a city",
        json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
        move |arguments: Value| {
            calls.fetch_add(1, Ordering::SeqCst);
            let city = arguments["city"].as_str().unwrap_or("nowhere").to_owned();
            futures_ready::ready(Ok(ToolOutput::text(format!("21 °C in {city}"))))
        },
    )
}

/// A ready future type to name in signatures.
mod futures_ready {
    use vllora_llm::tools::{ToolError, ToolOutput};
    pub type Ready = std::future::Ready<Result<ToolOutput, ToolError>>;
    pub fn ready(value: Result<ToolOutput, ToolError>) -> Ready {
        std::future::ready(value)
    }
}

/// One provider's two scripted answers (a tool call, then text) and where to find the tool's parts in
/// the requests it receives.
struct Provider {
    model: &'static str,
    path: &'static str,
    call_answer: Value,
    final_answer: Value,
    /// The names of the tools offered in a request body.
    offered: fn(&Value) -> Vec<String>,
    /// The tool result in the second request body: (call id, text), as the provider's format carries it.
    result: fn(&Value) -> (String, String),
}

fn providers() -> Vec<Provider> {
    vec![
        Provider {
            model: "gpt-4.1-mini",
            path: "/openai/v1/chat/completions",
            call_answer: json!({
                "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "gpt-4.1-mini",
                "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {"role": "assistant", "content": null,
                    "tool_calls": [{"id": "call_w1", "type": "function",
                        "function": {"name": "weather", "arguments": "{\"city\":\"Paris\"}"}}]}}],
                "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}
            }),
            final_answer: json!({
                "id": "chatcmpl-2", "object": "chat.completion", "created": 2, "model": "gpt-4.1-mini",
                "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "Sunny, 21 °C."}}],
                "usage": {"prompt_tokens": 30, "completion_tokens": 7, "total_tokens": 37}
            }),
            offered: |body| names(&body["tools"], "/function/name"),
            result: |body| {
                let message = &body["messages"][2];
                assert_eq!(message["role"], "tool");
                (
                    message["tool_call_id"].as_str().unwrap().to_owned(),
                    message["content"].as_str().unwrap().to_owned(),
                )
            },
        },
        Provider {
            model: "claude-sonnet-4-5",
            path: "/anthropic/v1/messages",
            call_answer: json!({
                "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
                "content": [{"type": "tool_use", "id": "toolu_w1", "name": "weather", "input": {"city": "Paris"}}],
                "stop_reason": "tool_use", "stop_sequence": null, "usage": {"input_tokens": 10, "output_tokens": 5}
            }),
            final_answer: json!({
                "id": "msg_2", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
                "content": [{"type": "text", "text": "Sunny, 21 °C."}],
                "stop_reason": "end_turn", "stop_sequence": null, "usage": {"input_tokens": 30, "output_tokens": 7}
            }),
            offered: |body| names(&body["tools"], "/name"),
            result: |body| {
                let block = &body["messages"][2]["content"][0];
                assert_eq!(block["type"], "tool_result");
                let text = match &block["content"] {
                    Value::String(text) => text.clone(),
                    blocks => blocks[0]["text"].as_str().unwrap().to_owned(),
                };
                (block["tool_use_id"].as_str().unwrap().to_owned(), text)
            },
        },
        Provider {
            model: "gemini-2.5-flash",
            path: "/gemini/v1beta/models/gemini-2.5-flash:generateContent",
            call_answer: json!({
                "candidates": [{"content": {"role": "model", "parts": [
                    {"functionCall": {"id": "gem_w1", "name": "weather", "args": {"city": "Paris"}}}]},
                    "finishReason": "STOP", "index": 0}],
                "usageMetadata": {"promptTokenCount": 10, "candidatesTokenCount": 5, "totalTokenCount": 15},
                "modelVersion": "gemini-2.5-flash", "responseId": "gem-1"
            }),
            final_answer: json!({
                "candidates": [{"content": {"role": "model", "parts": [{"text": "Sunny, 21 °C."}]}, "finishReason": "STOP", "index": 0}],
                "usageMetadata": {"promptTokenCount": 30, "candidatesTokenCount": 7, "totalTokenCount": 37},
                "modelVersion": "gemini-2.5-flash", "responseId": "gem-2"
            }),
            offered: |body| names(&body["tools"][0]["functionDeclarations"], "/name"),
            result: |body| {
                let response = &body["contents"][2]["parts"][0]["functionResponse"];
                assert_eq!(response["name"], "weather");
                (response["id"].as_str().unwrap_or_default().to_owned(), response["response"].to_string())
            },
        },
        Provider {
            model: "amazon.nova-lite-v1",
            path: "/model/amazon.nova-lite-v1/converse",
            call_answer: json!({
                "output": {"message": {"role": "assistant", "content": [
                    {"toolUse": {"toolUseId": "tooluse_w1", "name": "weather", "input": {"city": "Paris"}}}]}},
                "stopReason": "tool_use", "usage": {"inputTokens": 10, "outputTokens": 5, "totalTokens": 15},
                "metrics": {"latencyMs": 1}
            }),
            final_answer: json!({
                "output": {"message": {"role": "assistant", "content": [{"text": "Sunny, 21 °C."}]}},
                "stopReason": "end_turn", "usage": {"inputTokens": 30, "outputTokens": 7, "totalTokens": 37},
                "metrics": {"latencyMs": 1}
            }),
            offered: |body| names(&body["toolConfig"]["tools"], "/toolSpec/name"),
            result: |body| {
                let result = &body["messages"][2]["content"][0]["toolResult"];
                (
                    result["toolUseId"].as_str().unwrap().to_owned(),
                    result["content"][0]["text"].as_str().unwrap().to_owned(),
                )
            },
        },
    ]
}

fn names(list: &Value, pointer: &str) -> Vec<String> {
    list.as_array()
        .map(|items| {
            items.iter().filter_map(|item| item.pointer(pointer)?.as_str().map(str::to_owned)).collect()
        })
        .unwrap_or_default()
}

fn bodies(server: &MockServer, path: &str) -> Vec<Value> {
    server.requests().iter().filter(|request| request.path == path).map(RecordedRequest::json).collect()
}

#[tokio::test]
async fn every_provider_runs_a_tool_and_answers_with_its_result() {
    for provider in providers() {
        let server = MockServer::start().await;
        server.respond("POST", provider.path, MockResponse::json(200, provider.call_answer.clone()));
        server.respond("POST", provider.path, MockResponse::json(200, provider.final_answer.clone()));
        let calls = Arc::new(AtomicUsize::new(0));
        let client =
            client(&server, provider.model).with_tools(ToolSet::new().with_tool(weather_tool(calls.clone())));

        let output =
            client.completions().tool_loop().run(request(provider.model, "Weather in Paris?")).await.unwrap();

        let model = provider.model;
        assert_eq!(output.outcome, ToolLoopOutcome::Answered, "{model}");
        assert_eq!(output.text().as_deref(), Some("Sunny, 21 °C."), "{model}");
        assert_eq!(calls.load(Ordering::SeqCst), 1, "{model}");
        let sent = bodies(&server, provider.path);
        assert_eq!(sent.len(), 2, "{model}: one request per step");
        assert_eq!((provider.offered)(&sent[0]), vec!["weather".to_owned()], "{model}: the tool is offered");
        assert_eq!((provider.offered)(&sent[1]), vec!["weather".to_owned()], "{model}: on every step");
        let (call_id, text) = (provider.result)(&sent[1]);
        let made = output.steps[0].tool_calls[0].call.clone();
        assert_eq!(made.function.name, "weather", "{model}");
        assert_eq!(
            serde_json::from_str::<Value>(&made.function.arguments).unwrap(),
            json!({"city": "Paris"})
        );
        if !call_id.is_empty() {
            assert_eq!(call_id, made.id, "{model}: the result answers the call");
        }
        assert!(text.contains("21 °C in Paris"), "{model}: the provider receives the result: {text}");
        // The conversation: question, the assistant's call, the tool's result, the answer.
        let roles: Vec<Role> = output.messages.iter().map(|message| message.role.clone()).collect();
        assert_eq!(roles, [Role::User, Role::Assistant, Role::Tool, Role::Assistant], "{model}");
        assert_eq!(output.messages[2].tool_call_id.as_deref(), Some(made.id.as_str()));
        // Usage: each step's kept, the sum reported.
        assert_eq!(output.steps.len(), 2, "{model}");
        assert_eq!(output.steps[0].usage.map(|usage| usage.prompt_tokens), Some(10), "{model}");
        assert_eq!(output.steps[1].usage.map(|usage| usage.completion_tokens), Some(7), "{model}");
        assert_eq!((output.usage.prompt_tokens, output.usage.completion_tokens), (40, 12), "{model}");
        assert_eq!(output.usage.total_tokens, 52, "{model}");
        assert_eq!(output.steps[0].finish_reason, Some(FinishReason::ToolCalls), "{model}");
        assert_eq!(output.steps[0].tool_calls[0].kind, Some(ToolKind::Function));
    }
}

fn openai_calls(id: &str, calls: &[(&str, &str, &str)]) -> Value {
    let tool_calls: Vec<Value> = calls
        .iter()
        .map(|(call_id, name, arguments)| json!({"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}))
        .collect();
    json!({
        "id": id, "object": "chat.completion", "created": 1, "model": "gpt-4.1-mini",
        "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {"role": "assistant", "content": null, "tool_calls": tool_calls}}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
    })
}

fn openai_text(text: &str) -> Value {
    json!({
        "id": "chatcmpl-final", "object": "chat.completion", "created": 1, "model": "gpt-4.1-mini",
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": text}}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
    })
}

const OPENAI: &str = "/openai/v1/chat/completions";

fn tool_messages(body: &Value) -> Vec<(String, String)> {
    body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|message| message["role"] == "tool")
        .map(|message| {
            (
                message["tool_call_id"].as_str().unwrap().to_owned(),
                message["content"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn tools_run_side_by_side_each_under_the_timeout_and_failures_go_back_to_the_model() {
    let server = MockServer::start().await;
    server.respond(
        "POST",
        OPENAI,
        MockResponse::json(
            200,
            openai_calls(
                "chatcmpl-1",
                &[
                    ("call_a", "meet", "{}"),
                    ("call_b", "meet", "{}"),
                    ("call_c", "never", "{}"),
                    ("call_d", "broken", "{}"),
                    ("call_e", "missing", "{}"),
                    ("call_f", "meet", "{not json"),
                ],
            ),
        ),
    );
    server.respond("POST", OPENAI, MockResponse::json(200, openai_text("done")));
    // `meet` finishes only when two calls wait at once: it can only pass if calls run side by side.
    let barrier = Arc::new(tokio::sync::Barrier::new(2));
    let meet = FunctionTool::new("meet", "Waits for a second caller", json!({"type": "object"}), move |_| {
        let barrier = barrier.clone();
        async move {
            barrier.wait().await;
            Ok(ToolOutput::text("met"))
        }
    });
    let never = FunctionTool::new("never", "Never answers", json!({"type": "object"}), |_| async {
        std::future::pending::<()>().await;
        Ok(ToolOutput::text("unreachable"))
    });
    let broken = FunctionTool::new("broken", "Fails", json!({"type": "object"}), |_| async {
        Err::<ToolOutput, _>(ToolError::new("the database is down"))
    });
    let tools = ToolSet::new().with_tool(meet).with_tool(never).with_tool(broken);
    let client = client(&server, "gpt-4.1-mini");

    let output = client
        .completions()
        .tool_loop()
        .with_tools(tools)
        .with_tool_timeout(Duration::from_millis(300))
        .run(request("gpt-4.1-mini", "go"))
        .await
        .unwrap();

    assert_eq!(output.outcome, ToolLoopOutcome::Answered);
    let sent = bodies(&server, OPENAI);
    let results = tool_messages(&sent[1]);
    let expected = [
        ("call_a", "met"),
        ("call_b", "met"),
        ("call_c", "Error: the tool `never` did not finish within 0.3 s"),
        ("call_d", "Error: the database is down"),
        ("call_e", "Error: there is no tool named `missing`"),
    ];
    for (position, (id, text)) in expected.iter().enumerate() {
        assert_eq!(results[position].0, *id);
        assert_eq!(results[position].1, *text);
    }
    assert_eq!(results[5].0, "call_f");
    assert!(results[5].1.starts_with("Error: the arguments are not valid JSON"), "{}", results[5].1);
    let records = &output.steps[0].tool_calls;
    assert_eq!(records.len(), 6);
    assert!(records.iter().filter(|record| record.output.is_error).count() == 4);
    assert_eq!(records[4].kind, None, "an unknown tool has no kind");
}

#[tokio::test]
async fn the_step_budget_ends_the_run_with_the_pending_calls() {
    let server = MockServer::start().await;
    for step in 0..3 {
        let id = format!("call_{step}");
        server.respond(
            "POST",
            OPENAI,
            MockResponse::json(200, openai_calls("chatcmpl", &[(&id, "weather", "{\"city\":\"Oslo\"}")])),
        );
    }
    let calls = Arc::new(AtomicUsize::new(0));
    let client =
        client(&server, "gpt-4.1-mini").with_tools(ToolSet::new().with_tool(weather_tool(calls.clone())));

    let output = client
        .completions()
        .tool_loop()
        .with_max_steps(3)
        .run(request("gpt-4.1-mini", "loop"))
        .await
        .unwrap();

    let ToolLoopOutcome::MaxStepsReached { pending } = &output.outcome else {
        panic!("{:?}", output.outcome)
    };
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].id, "call_2");
    assert_eq!(bodies(&server, OPENAI).len(), 3, "three model calls, no fourth");
    assert_eq!(calls.load(Ordering::SeqCst), 2, "the last step's calls are not run");
    assert_eq!(output.steps.len(), 3);
    assert_eq!(output.usage.total_tokens, 6);
    assert_eq!(output.messages.last().map(|message| message.role.clone()), Some(Role::Assistant));
    assert_eq!(vllora_llm::tools::ToolLoopOptions::default().max_steps, 10, "the documented default");
}

#[tokio::test]
async fn caller_tools_stop_the_loop_and_come_back_with_the_other_results() {
    let server = MockServer::start().await;
    server.respond(
        "POST",
        OPENAI,
        MockResponse::json(
            200,
            openai_calls(
                "chatcmpl-1",
                &[
                    ("call_w", "weather", "{\"city\":\"Rome\"}"),
                    ("call_c", "client_clock", "{}"),
                    ("call_g", "gateway_lookup", "{}"),
                ],
            ),
        ),
    );
    let calls = Arc::new(AtomicUsize::new(0));
    let tools = ToolSet::new().with_tool(weather_tool(calls.clone())).with_caller_tool(ToolDefinition::new(
        "gateway_lookup",
        "Answered by the gateway's client",
        json!({"type": "object"}),
    ));
    let mut question = request("gpt-4.1-mini", "time and weather?");
    question.tools = Some(vec![ChatCompletionTool::function(FunctionDefinition {
        name: "client_clock".to_owned(),
        description: Some("The client's clock".to_owned()),
        parameters: Some(json!({"type": "object"})),
        strict: None,
    })]);

    let output = client(&server, "gpt-4.1-mini")
        .completions()
        .tool_loop()
        .with_tools(tools)
        .run(question)
        .await
        .unwrap();

    let ToolLoopOutcome::CallerToolCalls(handed) = &output.outcome else { panic!("{:?}", output.outcome) };
    let handed: Vec<&str> = handed.iter().map(|call| call.id.as_str()).collect();
    assert_eq!(handed, ["call_c", "call_g"]);
    assert_eq!(calls.load(Ordering::SeqCst), 1, "the loop's own tool ran");
    assert_eq!(bodies(&server, OPENAI).len(), 1, "no second model call");
    let offered = names(&bodies(&server, OPENAI)[0]["tools"], "/function/name");
    assert_eq!(offered, ["client_clock", "weather", "gateway_lookup"]);
    let last = output.messages.last().unwrap();
    assert_eq!((last.role.clone(), last.tool_call_id.as_deref()), (Role::Tool, Some("call_w")));
}

#[tokio::test]
async fn a_name_in_the_request_and_the_set_is_refused_before_any_call() {
    let server = MockServer::start().await;
    let calls = Arc::new(AtomicUsize::new(0));
    let mut question = request("gpt-4.1-mini", "?");
    question.tools = Some(vec![ChatCompletionTool::function(FunctionDefinition {
        name: "weather".to_owned(),
        ..Default::default()
    })]);
    let error = client(&server, "gpt-4.1-mini")
        .completions()
        .tool_loop()
        .with_tools(ToolSet::new().with_tool(weather_tool(calls)))
        .run(question)
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("tool `weather` is both in the request's `tools` and in the tool set"),
        "{error}"
    );
    assert!(server.requests().is_empty());
}

fn sse(events: &[Value]) -> MockResponse {
    let mut lines: Vec<String> = events.iter().map(|event| format!("data: {event}\n\n")).collect();
    lines.push("data: [DONE]\n\n".to_owned());
    MockResponse::sse(lines)
}

fn openai_chunk(delta: Value, finish: Option<&str>) -> Value {
    json!({"id": "chatcmpl-s", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4.1-mini",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
}

fn openai_usage(prompt: u32, completion: u32) -> Value {
    json!({"id": "chatcmpl-s", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4.1-mini", "choices": [],
        "usage": {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}})
}

/// What a streamed run yielded, as short labels.
fn label(event: &ToolLoopEvent) -> String {
    match event {
        ToolLoopEvent::Chunk { step, chunk } => {
            let text: String =
                chunk.choices.iter().filter_map(|choice| choice.delta.content.clone()).collect();
            format!("chunk {step} {text}")
        }
        ToolLoopEvent::StepFinished { step, tool_calls, .. } => {
            format!("step {step} calls {}", tool_calls.len())
        }
        ToolLoopEvent::ToolStarted { step, call } => format!("started {step} {}", call.id),
        ToolLoopEvent::ToolFinished { step, record } => format!("finished {step} {}", record.call.id),
        ToolLoopEvent::Finished(_) => "finished".to_owned(),
        other => format!("{other:?}"),
    }
}

#[tokio::test]
async fn a_streamed_run_yields_deltas_and_tool_events_in_order() {
    let server = MockServer::start().await;
    server.respond(
        "POST",
        OPENAI,
        sse(&[
            openai_chunk(json!({"role": "assistant", "content": "Let me check."}), None),
            openai_chunk(json!({"tool_calls": [{"index": 0, "id": "call_s1", "type": "function", "function": {"name": "weather", "arguments": "{\"ci"}}]}), None),
            openai_chunk(json!({"tool_calls": [{"index": 0, "function": {"arguments": "ty\":\"Lima\"}"}}]}), None),
            openai_chunk(json!({}), Some("tool_calls")),
            openai_usage(10, 5),
        ]),
    );
    server.respond(
        "POST",
        OPENAI,
        sse(&[
            openai_chunk(json!({"role": "assistant", "content": "Sunny"}), None),
            openai_chunk(json!({"content": " in Lima."}), Some("stop")),
            openai_usage(20, 3),
        ]),
    );
    let calls = Arc::new(AtomicUsize::new(0));
    let client =
        client(&server, "gpt-4.1-mini").with_tools(ToolSet::new().with_tool(weather_tool(calls.clone())));

    let mut stream = client.completions().tool_loop().stream(request("gpt-4.1-mini", "Lima?")).await.unwrap();
    let mut labels = Vec::new();
    let mut output = None;
    while let Some(event) = stream.next().await {
        let event = event.unwrap();
        labels.push(label(&event));
        if let ToolLoopEvent::Finished(finished) = event {
            output = Some(*finished);
        }
    }
    let labels: Vec<&str> = labels
        .iter()
        .map(String::as_str)
        .filter(|label| *label != "chunk 1 " && *label != "chunk 2 ")
        .collect();
    assert_eq!(
        labels,
        [
            "chunk 1 Let me check.",
            "step 1 calls 1",
            "started 1 call_s1",
            "finished 1 call_s1",
            "chunk 2 Sunny",
            "chunk 2  in Lima.",
            "step 2 calls 0",
            "finished"
        ]
    );
    let output = output.unwrap();
    assert_eq!(output.outcome, ToolLoopOutcome::Answered);
    assert_eq!(output.text().as_deref(), Some("Sunny in Lima."));
    assert_eq!((output.usage.prompt_tokens, output.usage.completion_tokens), (30, 8));
    let sent = bodies(&server, OPENAI);
    assert_eq!(sent[0]["stream"], true);
    // The assembled call went back with its result.
    assert_eq!(sent[1]["messages"][1]["tool_calls"][0]["function"]["arguments"], "{\"city\":\"Lima\"}");
    assert_eq!(sent[1]["messages"][1]["content"], "Let me check.");
    assert_eq!(tool_messages(&sent[1]), [("call_s1".to_owned(), "21 °C in Lima".to_owned())]);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn streamed_runs_work_on_anthropic_and_gemini_too() {
    let anthropic_call = [
        json!({"type": "message_start", "message": {"id": "msg_s", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5", "content": [], "stop_reason": null, "usage": {"input_tokens": 10, "output_tokens": 1}}}),
        json!({"type": "content_block_start", "index": 0, "content_block": {"type": "tool_use", "id": "toolu_s1", "name": "weather", "input": {}}}),
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "input_json_delta", "partial_json": "{\"city\": \"Kyiv\"}"}}),
        json!({"type": "content_block_stop", "index": 0}),
        json!({"type": "message_delta", "delta": {"stop_reason": "tool_use", "stop_sequence": null}, "usage": {"output_tokens": 5}}),
        json!({"type": "message_stop"}),
    ];
    let anthropic_text = [
        json!({"type": "message_start", "message": {"id": "msg_t", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5", "content": [], "stop_reason": null, "usage": {"input_tokens": 20, "output_tokens": 1}}}),
        json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Cold in Kyiv."}}),
        json!({"type": "content_block_stop", "index": 0}),
        json!({"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": null}, "usage": {"output_tokens": 4}}),
        json!({"type": "message_stop"}),
    ];
    let named = |events: &[Value]| {
        MockResponse::sse(
            events
                .iter()
                .map(|event| format!("event: {}\ndata: {event}\n\n", event["type"].as_str().unwrap()))
                .collect::<Vec<_>>(),
        )
    };
    let gemini_call = [
        json!({"candidates": [{"content": {"role": "model", "parts": [{"functionCall": {"name": "weather", "args": {"city": "Kyiv"}}}]}, "finishReason": "STOP", "index": 0}],
        "usageMetadata": {"promptTokenCount": 10, "candidatesTokenCount": 5, "totalTokenCount": 15}, "modelVersion": "gemini-2.5-flash"}),
    ];
    let gemini_text = [
        json!({"candidates": [{"content": {"role": "model", "parts": [{"text": "Cold in Kyiv."}]}, "finishReason": "STOP", "index": 0}],
        "usageMetadata": {"promptTokenCount": 20, "candidatesTokenCount": 4, "totalTokenCount": 24}, "modelVersion": "gemini-2.5-flash"}),
    ];
    let plain = |events: &[Value]| {
        MockResponse::sse(events.iter().map(|event| format!("data: {event}\r\n\r\n")).collect::<Vec<_>>())
    };
    let cases = [
        ("claude-sonnet-4-5", "/anthropic/v1/messages", named(&anthropic_call), named(&anthropic_text)),
        (
            "gemini-2.5-flash",
            "/gemini/v1beta/models/gemini-2.5-flash:streamGenerateContent",
            plain(&gemini_call),
            plain(&gemini_text),
        ),
    ];
    for (model, path, first, second) in cases {
        let server = MockServer::start().await;
        server.respond("POST", path, first);
        server.respond("POST", path, second);
        let calls = Arc::new(AtomicUsize::new(0));
        let client = client(&server, model).with_tools(ToolSet::new().with_tool(weather_tool(calls.clone())));
        let stream = client.completions().tool_loop().stream(request(model, "Kyiv?")).await.unwrap();
        let output = stream.finish().await.unwrap();
        assert_eq!(output.outcome, ToolLoopOutcome::Answered, "{model}");
        assert_eq!(output.text().as_deref(), Some("Cold in Kyiv."), "{model}");
        assert_eq!(calls.load(Ordering::SeqCst), 1, "{model}");
        assert_eq!(output.usage.prompt_tokens, 30, "{model}");
        let sent = bodies(&server, path);
        assert_eq!(sent.len(), 2, "{model}");
        assert!(sent[1].to_string().contains("21 °C in Kyiv"), "{model}: {}", sent[1]);
    }
}

#[tokio::test]
async fn dropping_the_stream_cancels_the_running_tools() {
    let server = MockServer::start().await;
    server.respond(
        "POST",
        OPENAI,
        sse(&[
            openai_chunk(json!({"role": "assistant", "tool_calls": [{"index": 0, "id": "call_h", "type": "function", "function": {"name": "hang", "arguments": "{}"}}]}), None),
            openai_chunk(json!({}), Some("tool_calls")),
        ]),
    );
    let started = Arc::new(AtomicBool::new(false));
    let dropped = Arc::new(AtomicBool::new(false));
    struct SetOnDrop(Arc<AtomicBool>);
    impl Drop for SetOnDrop {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }
    let (started_flag, dropped_flag) = (started.clone(), dropped.clone());
    let hang = FunctionTool::new("hang", "Hangs", json!({"type": "object"}), move |_| {
        let guard = SetOnDrop(dropped_flag.clone());
        let started = started_flag.clone();
        async move {
            started.store(true, Ordering::SeqCst);
            std::future::pending::<()>().await;
            drop(guard);
            Ok(ToolOutput::text("never"))
        }
    });
    let client = client(&server, "gpt-4.1-mini").with_tools(ToolSet::new().with_tool(hang));
    let mut stream = client.completions().tool_loop().stream(request("gpt-4.1-mini", "hang")).await.unwrap();
    // Read until the tool has started, then give it a moment to run (it is polled by the next pull).
    loop {
        let event = stream.next().await.unwrap().unwrap();
        if matches!(event, ToolLoopEvent::ToolStarted { .. }) {
            break;
        }
    }
    let pulled = tokio::time::timeout(Duration::from_millis(200), stream.next()).await;
    assert!(pulled.is_err(), "the tool never finishes, so no event comes");
    assert!(started.load(Ordering::SeqCst), "the tool is running");
    assert!(!dropped.load(Ordering::SeqCst));
    drop(stream);
    assert!(dropped.load(Ordering::SeqCst), "dropping the stream dropped the tool's future");
}
