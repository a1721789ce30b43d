//! MCP servers as tool sources, against real servers this project does not write: the MCP project's
//! reference server `@modelcontextprotocol/server-everything` (npm) over stdio and streamable HTTP, and a
//! small server written with the official Python SDK (`mcp` on PyPI, `tests/mcp_servers/python_server.py`)
//! for a slow tool, failing tools, a server that dies mid-call, 1,000 tools and a huge result. Both are
//! installed into `target/mcp` by `cargo xtask mcp` (which `cargo xtask ci` runs); the tests start them.

#![cfg(all(feature = "mcp", feature = "openai"))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use vllora_llm::client::VlloraLLMClient;
use vllora_llm::tools::mcp::{McpServer, McpToolFilter};
use vllora_llm::tools::{ToolAnnotations, ToolContent, ToolKind, ToolLoopOutcome, ToolSet};
use vllora_llm::types::gateway::{
    ChatCompletionContent, ChatCompletionMessage, ChatCompletionRequest, ContentPart,
};
use vllora_llm_testkit::{MockResponse, MockServer};

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn installed(path: PathBuf) -> String {
    assert!(
        path.exists(),
        "{} is missing: run `cargo xtask mcp` to install the MCP test servers",
        path.display()
    );
    path.to_string_lossy().into_owned()
}

fn everything_script() -> String {
    installed(
        workspace()
            .join("target/mcp/node/node_modules/@modelcontextprotocol/server-everything/dist/index.js"),
    )
}

fn python() -> String {
    installed(workspace().join("target/mcp/venv/bin/python"))
}

fn python_script() -> String {
    installed(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/mcp_servers/python_server.py"))
}

fn everything_stdio() -> McpServer {
    McpServer::stdio("everything", "node").with_args([everything_script(), "stdio".to_owned()])
}

fn python_stdio(extra: &[&str]) -> McpServer {
    let mut args = vec![python_script(), "stdio".to_owned()];
    args.extend(extra.iter().map(|arg| (*arg).to_owned()));
    McpServer::stdio("python", python()).with_args(args)
}

/// An HTTP server process, stopped on drop.
struct Running {
    child: Child,
    url: String,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn start(mut command: Command, port: u16) -> Running {
    let child = command.stdout(Stdio::null()).stderr(Stdio::null()).stdin(Stdio::null()).spawn().unwrap();
    let running = Running { child, url: format!("http://127.0.0.1:{port}/mcp") };
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "the MCP server on port {port} did not start within 30 s");
        std::thread::sleep(Duration::from_millis(50));
    }
    running
}

fn everything_http() -> Running {
    let port = free_port();
    let mut command = Command::new("node");
    command.arg(everything_script()).arg("streamableHttp").env("PORT", port.to_string());
    start(command, port)
}

fn python_http() -> Running {
    let port = free_port();
    let mut command = Command::new(python());
    command.arg(python_script()).arg("http").arg(port.to_string());
    start(command, port)
}

fn texts(content: &[ToolContent]) -> Vec<String> {
    content
        .iter()
        .filter_map(|item| match item {
            ToolContent::Text(text) => Some(text.clone()),
            _ => None,
        })
        .collect()
}

/// What the reference server's tools return, over one transport.
async fn check_everything(server: &McpServer) {
    let tools = server.tools().await.unwrap();
    let names: Vec<&str> = tools.iter().map(|tool| tool.name.as_str()).collect();
    for expected in ["echo", "get-sum", "get-tiny-image", "get-structured-content", "get-resource-links"] {
        assert!(names.contains(&expected), "{expected} missing from {names:?}");
    }
    let echo = tools.iter().find(|tool| tool.name == "echo").unwrap();
    assert_eq!(echo.title.as_deref(), Some("Echo Tool"));
    assert_eq!(echo.description.as_deref(), Some("Echoes back the input string"));
    assert_eq!(echo.parameters["properties"]["message"]["type"], "string");
    assert_eq!(
        echo.annotations,
        Some(ToolAnnotations {
            title: None,
            read_only_hint: Some(true),
            destructive_hint: Some(false),
            idempotent_hint: Some(true),
            open_world_hint: Some(false),
        })
    );

    let echoed = server.call_tool("echo", json!({"message": "hello"})).await.unwrap();
    assert_eq!(echoed.content, vec![ToolContent::Text("Echo: hello".to_owned())]);
    assert!(!echoed.is_error);

    let sum = server.call_tool("get-sum", json!({"a": 2, "b": 3})).await.unwrap();
    assert_eq!(texts(&sum.content), ["The sum of 2 and 3 is 5."]);

    let image = server.call_tool("get-tiny-image", json!({})).await.unwrap();
    assert_eq!(
        texts(&image.content),
        ["Here's the image you requested:", "The image above is the MCP logo."]
    );
    let Some(ToolContent::Image { data, mime_type }) = image.content.get(1) else {
        panic!("{:?}", image.content)
    };
    assert_eq!(mime_type, "image/png");
    assert!(data.starts_with("iVBORw0KGgo"), "base64 PNG");
    let message = image.to_message("call_1");
    let Some(ChatCompletionContent::Parts(parts)) = &message.content else { panic!("{message:?}") };
    let ContentPart::ImageUrl { image_url, .. } = &parts[1] else { panic!("{parts:?}") };
    assert!(image_url.url.starts_with("data:image/png;base64,iVBORw0KGgo"));

    let weather = server.call_tool("get-structured-content", json!({"location": "Chicago"})).await.unwrap();
    let expected = json!({"temperature": 36, "conditions": "Light rain / drizzle", "humidity": 82});
    assert_eq!(weather.structured, Some(expected.clone()));
    // The server mirrors its structured content in a text block: the model reads it once.
    let message = weather.to_message("call_2");
    let text = message.content.as_ref().and_then(ChatCompletionContent::as_str).unwrap();
    assert_eq!(serde_json::from_str::<Value>(text).unwrap(), expected);

    let links = server.call_tool("get-resource-links", json!({"count": 2})).await.unwrap();
    let linked: Vec<&str> = links
        .content
        .iter()
        .filter_map(|item| match item {
            ToolContent::ResourceLink { uri, .. } => Some(uri.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(linked.len(), 2, "{:?}", links.content);
    assert!(linked.iter().all(|uri| uri.starts_with("demo://resource/")), "{linked:?}");

    let reference =
        server.call_tool("get-resource-reference", json!({"resourceType": "Text", "resourceId": 1})).await;
    let reference = match reference {
        Ok(output) => output,
        Err(_) => server
            .call_tool("get-resource-reference", json!({"resourceType": "text", "resourceId": 1}))
            .await
            .unwrap(),
    };
    assert!(
        reference.content.iter().any(|item| matches!(item, ToolContent::Resource { uri, text: Some(_), .. } if uri.starts_with("demo://"))),
        "{:?}",
        reference.content
    );

    // A protocol error (arguments the schema refuses) is an error, not an answer.
    let refused = server.call_tool("get-sum", json!({"a": "two"})).await;
    match refused {
        Err(error) => assert!(error.to_string().contains("MCP server `everything`"), "{error}"),
        Ok(output) => assert!(output.is_error, "{output:?}"),
    }
    assert_eq!(server.connections(), 1, "one session for every call");
    assert_eq!(server.listings(), 1, "the list is kept");
}

#[tokio::test]
async fn the_reference_server_over_stdio() {
    let server = everything_stdio();
    check_everything(&server).await;
}

#[tokio::test]
async fn the_reference_server_over_streamable_http() {
    let running = everything_http();
    let server = McpServer::http("everything", running.url.clone());
    check_everything(&server).await;
    // Calls side by side share the session.
    let calls = (0..8).map(|index| {
        let server = server.clone();
        async move { server.call_tool("echo", json!({"message": format!("n{index}")})).await }
    });
    let results = futures_util::future::join_all(calls).await;
    for (index, result) in results.into_iter().enumerate() {
        assert_eq!(texts(&result.unwrap().content), [format!("Echo: n{index}")]);
    }
    assert_eq!(server.connections(), 1);
}

#[tokio::test]
async fn every_kind_of_content_is_kept() {
    let server = python_stdio(&[]);
    let tools = server.tools().await.unwrap();
    let echo = tools.iter().find(|tool| tool.name == "echo").unwrap();
    assert_eq!(echo.title.as_deref(), Some("Echo"));
    let annotations = echo.annotations.clone().unwrap();
    assert_eq!(annotations.title.as_deref(), Some("Echo tool"));
    assert_eq!(annotations.read_only_hint, Some(true));
    let media = tools.iter().find(|tool| tool.name == "media").unwrap();
    assert_eq!(media.output_schema.as_ref().unwrap()["properties"]["unit"]["type"], "string");

    let output = server.call_tool("media", json!({})).await.unwrap();
    assert_eq!(output.content.len(), 6);
    assert_eq!(output.content[0], ToolContent::Text("{\"temperature\": 21.5, \"unit\": \"C\"}".to_owned()));
    assert!(matches!(&output.content[1], ToolContent::Image { mime_type, .. } if mime_type == "image/png"));
    assert!(
        matches!(&output.content[2], ToolContent::Audio { mime_type, data } if mime_type == "audio/wav" && data.starts_with("UklGR"))
    );
    assert_eq!(
        output.content[3],
        ToolContent::ResourceLink {
            uri: "file:///tmp/report.txt".to_owned(),
            name: "report".to_owned(),
            title: None,
            description: Some("The report".to_owned()),
            mime_type: Some("text/plain".to_owned()),
            size: None,
        }
    );
    assert_eq!(
        output.content[4],
        ToolContent::Resource {
            uri: "memo://note".to_owned(),
            mime_type: Some("text/plain".to_owned()),
            text: Some("an embedded note".to_owned()),
            blob: None,
        }
    );
    assert!(
        matches!(&output.content[5], ToolContent::Resource { blob: Some(blob), .. } if blob == "JVBERi0xLjQ=")
    );
    assert_eq!(output.structured, Some(json!({"temperature": 21.5, "unit": "C"})));

    // As the model reads it: text, image, audio, the link as JSON, the note, the PDF as a file.
    let message = output.to_message("call_m");
    let Some(ChatCompletionContent::Parts(parts)) = &message.content else { panic!("{message:?}") };
    assert_eq!(parts.len(), 6, "structured content mirrored by the first text is not repeated");
    assert!(
        matches!(&parts[1], ContentPart::ImageUrl { image_url, .. } if image_url.url.starts_with("data:image/png;base64,"))
    );
    assert!(matches!(&parts[2], ContentPart::InputAudio { input_audio, .. } if input_audio.format == "wav"));
    let ContentPart::Text { text: link, .. } = &parts[3] else { panic!("{parts:?}") };
    assert_eq!(
        serde_json::from_str::<Value>(link).unwrap(),
        json!({"type": "resource_link", "uri": "file:///tmp/report.txt", "name": "report", "description": "The report", "mimeType": "text/plain"})
    );
    assert!(
        matches!(&parts[4], ContentPart::Text { text, .. } if text == "resource memo://note:\nan embedded note")
    );
    let ContentPart::File { file, .. } = &parts[5] else { panic!("{parts:?}") };
    assert_eq!(file.file_data.as_deref(), Some("data:application/pdf;base64,JVBERi0xLjQ="));
    assert_eq!(file.filename.as_deref(), Some("blob"));
}

#[tokio::test]
async fn failures_are_errors_and_a_dead_server_is_started_again() {
    let server = python_stdio(&[]);
    let failed = server.call_tool("fail", json!({"message": "no such file"})).await.unwrap();
    assert!(failed.is_error);
    assert_eq!(failed.to_message("c").content.unwrap().as_str(), Some("Error: no such file"));

    let raised = server.call_tool("raise", json!({})).await;
    match raised {
        Err(error) => assert!(error.to_string().contains("raised on purpose"), "{error}"),
        Ok(output) => {
            assert!(output.is_error, "{output:?}");
            assert!(output.text_content().contains("raised on purpose"), "{output:?}");
        }
    }
    assert_eq!(server.connections(), 1);

    let died = server.call_tool("die", json!({})).await.unwrap_err();
    assert!(died.to_string().contains("MCP server `python`: tools/call `die`"), "{died}");
    // The next call starts the server again.
    let echoed = server.call_tool("echo", json!({"text": "back"})).await.unwrap();
    assert_eq!(texts(&echoed.content), ["back"]);
    assert_eq!(server.connections(), 2);
}

#[tokio::test]
async fn a_thousand_tools_are_listed_through_every_page_and_filtered() {
    let server = python_stdio(&["--bulk", "1000"]);
    let tools = server.tools().await.unwrap();
    assert_eq!(tools.len(), 1010);
    assert_eq!(tools[10].name, "bulk_0000");
    assert_eq!(tools[1009].name, "bulk_0999");
    // 1,010 tools, 100 a page: 11 requests, and the list is kept afterwards.
    let _ = server.tools().await.unwrap();
    let served = server.call_tool("count_lists", json!({})).await.unwrap();
    assert_eq!(texts(&served.content), ["11"]);
    assert_eq!(server.listings(), 1);

    let named = python_stdio(&["--bulk", "1000"]).with_filter(McpToolFilter::names(["echo", "bulk_0500"]));
    let names: Vec<String> = named.tools().await.unwrap().iter().map(|tool| tool.name.clone()).collect();
    assert_eq!(names, ["echo", "bulk_0500"]);
    let patterned =
        python_stdio(&["--bulk", "1000"]).with_filter(McpToolFilter::patterns(["bulk_09?7", "ec*"]));
    let names: Vec<String> = patterned.tools().await.unwrap().iter().map(|tool| tool.name.clone()).collect();
    let mut expected = vec!["echo".to_owned()];
    expected.extend((0..10).map(|tens| format!("bulk_09{tens}7")));
    assert_eq!(names, expected);
}

#[tokio::test]
async fn a_changed_tool_list_is_listed_again() {
    let server = python_stdio(&[]);
    assert!(!server.tools().await.unwrap().iter().any(|tool| tool.name == "fresh"));
    let added = server.call_tool("add_tool", json!({"name": "fresh"})).await.unwrap();
    assert_eq!(texts(&added.content), ["added fresh"]);
    // The notification travels on the session; it has arrived once the server answers the next request.
    let _ = server.call_tool("echo", json!({"text": "sync"})).await.unwrap();
    let tools = server.tools().await.unwrap();
    assert!(
        tools.iter().any(|tool| tool.name == "fresh"),
        "{:?}",
        tools.iter().map(|tool| &tool.name).collect::<Vec<_>>()
    );
    assert_eq!(server.listings(), 2);
    assert_eq!(server.connections(), 1);
}

#[tokio::test]
async fn colliding_names_get_the_server_prefix_and_prefixes_rename_everything() {
    let tools = ToolSet::new().with_mcp(everything_stdio()).with_mcp(python_stdio(&[]));
    let resolved = tools.resolve().await.unwrap();
    let names: Vec<&str> = resolved.iter().map(|tool| tool.name.as_str()).collect();
    assert!(names.contains(&"everything__echo"), "{names:?}");
    assert!(names.contains(&"python__echo"), "{names:?}");
    assert!(!names.contains(&"echo"));
    assert!(names.contains(&"get-sum"), "names without a collision stay: {names:?}");
    let python_echo = resolved.iter().find(|tool| tool.name == "python__echo").unwrap();
    assert_eq!(python_echo.definition.name, "echo", "the server is called by the original name");
    assert_eq!(python_echo.kind, ToolKind::Mcp { server: "python".to_owned() });

    let prefixed = ToolSet::new().with_mcp(python_stdio(&[]).with_prefix("py_")).resolve().await.unwrap();
    assert!(prefixed.iter().all(|tool| tool.name.starts_with("py_")));
    assert!(prefixed.iter().any(|tool| tool.name == "py_echo"));
}

#[tokio::test]
async fn headers_and_the_bearer_token_reach_the_server_and_stay_secret() {
    let running = python_http();
    let server = McpServer::http("python", running.url.clone())
        .with_bearer_token("t0ken-secret")
        .with_header("x-team", "blue-secret");
    let debug = format!("{server:?}");
    assert!(!debug.contains("t0ken-secret") && !debug.contains("blue-secret"), "{debug}");
    let seen = server.call_tool("headers", json!({})).await.unwrap();
    let headers = &seen.structured.as_ref().unwrap()["headers"];
    assert_eq!(headers["authorization"], "Bearer t0ken-secret");
    assert_eq!(headers["x-team"], "blue-secret");
    assert!(headers["mcp-session-id"].as_str().is_some_and(|id| !id.is_empty()), "{headers}");
    // The session is kept: the same id on the next call.
    let again = server.call_tool("headers", json!({})).await.unwrap();
    assert_eq!(again.structured.unwrap()["headers"]["mcp-session-id"], headers["mcp-session-id"]);
    assert_eq!(server.connections(), 1);
}

#[tokio::test]
async fn a_huge_result_arrives_whole_over_both_transports() {
    let size = 6 * 1024 * 1024;
    let running = python_http();
    for server in [python_stdio(&[]), McpServer::http("python", running.url.clone())] {
        let output = server.call_tool("huge", json!({"bytes": size})).await.unwrap();
        let text = texts(&output.content).concat();
        assert_eq!(text.len(), size);
        assert!(text.starts_with("0123456789abcdef0123"));
        assert!(text.ends_with(&"0123456789abcdef"[..(size % 16)]) || size % 16 == 0);
    }
}

/// The model side: a scripted OpenAI server that calls MCP tools, then answers.
fn openai_call(calls: &[(&str, &str, Value)]) -> Value {
    let tool_calls: Vec<Value> = calls
        .iter()
        .map(|(id, name, arguments)| json!({"id": id, "type": "function", "function": {"name": name, "arguments": arguments.to_string()}}))
        .collect();
    json!({"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "gpt-4.1-mini",
        "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {"role": "assistant", "content": null, "tool_calls": tool_calls}}],
        "usage": {"prompt_tokens": 5, "completion_tokens": 5, "total_tokens": 10}})
}

fn openai_answer(text: &str) -> Value {
    json!({"id": "chatcmpl-2", "object": "chat.completion", "created": 2, "model": "gpt-4.1-mini",
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": text}}],
        "usage": {"prompt_tokens": 9, "completion_tokens": 3, "total_tokens": 12}})
}

#[tokio::test]
async fn the_loop_runs_mcp_tools_and_a_slow_one_times_out_without_breaking_the_session() {
    let model = MockServer::start().await;
    model.respond(
        "POST",
        "/v1/chat/completions",
        MockResponse::json(
            200,
            openai_call(&[
                ("call_sum", "get-sum", json!({"a": 20, "b": 22})),
                ("call_slow", "slow", json!({"seconds": 30})),
                ("call_fail", "fail", json!({"message": "disk full"})),
            ]),
        ),
    );
    model.respond(
        "POST",
        "/v1/chat/completions",
        MockResponse::json(200, openai_answer("42, and the rest failed.")),
    );
    let python = python_stdio(&[]).with_filter(McpToolFilter::names(["slow", "fail", "echo"]));
    let tools = ToolSet::new()
        .with_mcp(everything_stdio().with_filter(McpToolFilter::names(["get-sum"])))
        .with_mcp(python.clone());
    let client = VlloraLLMClient::new()
        .with_credentials(vllora_llm::types::Credentials::api_key("sk-test"))
        .with_inference_endpoint(format!("{}/v1", model.url()))
        .with_tools(tools);
    let request = ChatCompletionRequest {
        model: "gpt-4.1-mini".to_owned(),
        messages: vec![ChatCompletionMessage::new_text("user", "20 + 22?")],
        ..Default::default()
    };

    let started = Instant::now();
    let output = client
        .completions()
        .tool_loop()
        .with_tool_timeout(Duration::from_millis(1500))
        .run(request)
        .await
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(25), "the slow tool was cut off");

    assert_eq!(output.outcome, ToolLoopOutcome::Answered);
    let sent: Vec<Value> = model.requests().iter().map(|request| request.json()).collect();
    let offered: Vec<&str> = sent[0]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|tool| tool["function"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(offered, ["get-sum", "echo", "slow", "fail"]);
    let results: Vec<(&str, &str)> = sent[1]["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|message| message["role"] == "tool")
        .map(|message| (message["tool_call_id"].as_str().unwrap(), message["content"].as_str().unwrap()))
        .collect();
    assert_eq!(
        results,
        [
            ("call_sum", "The sum of 20 and 22 is 42."),
            ("call_slow", "Error: the tool `slow` did not finish within 1.5 s"),
            ("call_fail", "Error: disk full"),
        ]
    );
    let kinds: Vec<_> = output.steps[0].tool_calls.iter().map(|record| record.kind.clone()).collect();
    assert_eq!(kinds[0], Some(ToolKind::Mcp { server: "everything".to_owned() }));
    // The timed-out call was cancelled; the session goes on.
    let echoed = python.call_tool("echo", json!({"text": "still here"})).await.unwrap();
    assert_eq!(texts(&echoed.content), ["still here"]);
    assert_eq!(python.connections(), 1);
    let _ = Arc::new(());
}
