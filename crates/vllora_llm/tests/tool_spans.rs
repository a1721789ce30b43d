//! The `execute_tool` span of each tool call (OpenTelemetry GenAI: `gen_ai.tool.name`,
//! `gen_ai.tool.call.id`, `gen_ai.tool.type`), a child of the run's `invoke_agent` span like the steps'
//! `chat` spans, with the arguments and the result only when content recording is on. Alone in its test
//! binary: `tracing` caches which callsites are enabled, and other tests' threads would race with this
//! one's subscriber.

#![cfg(feature = "openai")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use serde_json::{Value, json};
use vllora_llm::client::VlloraLLMClient;
use vllora_llm::tools::{FunctionTool, ToolOutput, ToolSet};
use vllora_llm::types::Environment;
use vllora_llm::types::gateway::{ChatCompletionMessage, ChatCompletionRequest};
use vllora_llm_testkit::{MockResponse, MockServer};

const OPENAI: &str = "/openai/v1/chat/completions";

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

fn client(server: &MockServer) -> VlloraLLMClient {
    let vars = [
        ("VLLORA_OPENAI_API_KEY".to_owned(), "sk-openai".to_owned()),
        ("VLLORA_OPENAI_ENDPOINT".to_owned(), format!("{}/openai/v1", server.url())),
    ];
    VlloraLLMClient::new().with_environment(Arc::new(Variables(vars.into_iter().collect())))
}

fn answer(message: Value, finish: &str) -> Value {
    json!({"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "gpt-4.1-mini",
        "choices": [{"index": 0, "finish_reason": finish, "message": message}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}})
}

/// A small subscriber that keeps every span's name, parent and fields (the test's thread only).
mod capture {
    use std::collections::BTreeMap;
    use std::fmt;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::{Arc, Mutex};

    use tracing::field::{Field, Visit};
    use tracing::span::{Attributes, Id, Record};
    use tracing::{Event, Metadata, Subscriber};

    #[derive(Debug, Clone, Default)]
    pub struct Span {
        pub name: String,
        pub parent: Option<u64>,
        pub fields: BTreeMap<String, String>,
    }

    #[derive(Clone, Default)]
    pub struct Capture {
        pub spans: Arc<Mutex<BTreeMap<u64, Span>>>,
        stack: Arc<Mutex<Vec<u64>>>,
        next: Arc<AtomicU64>,
    }

    struct Fields<'a>(&'a mut BTreeMap<String, String>);

    impl Visit for Fields<'_> {
        fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
            self.0.insert(field.name().to_owned(), format!("{value:?}"));
        }
        fn record_str(&mut self, field: &Field, value: &str) {
            self.0.insert(field.name().to_owned(), value.to_owned());
        }
    }

    impl Subscriber for Capture {
        fn enabled(&self, _metadata: &Metadata<'_>) -> bool {
            true
        }
        fn new_span(&self, attributes: &Attributes<'_>) -> Id {
            let id = self.next.fetch_add(1, Ordering::SeqCst) + 1;
            let parent = match attributes.parent() {
                Some(parent) => Some(parent.into_u64()),
                None if attributes.is_contextual() => self.stack.lock().unwrap().last().copied(),
                None => None,
            };
            let mut span = Span { name: attributes.metadata().name().to_owned(), parent, ..Span::default() };
            attributes.record(&mut Fields(&mut span.fields));
            self.spans.lock().unwrap().insert(id, span);
            Id::from_u64(id)
        }
        fn record(&self, span: &Id, values: &Record<'_>) {
            if let Some(span) = self.spans.lock().unwrap().get_mut(&span.into_u64()) {
                values.record(&mut Fields(&mut span.fields));
            }
        }
        fn record_follows_from(&self, _span: &Id, _follows: &Id) {}
        fn event(&self, _event: &Event<'_>) {}
        fn enter(&self, span: &Id) {
            self.stack.lock().unwrap().push(span.into_u64());
        }
        fn exit(&self, span: &Id) {
            let mut stack = self.stack.lock().unwrap();
            if let Some(position) = stack.iter().rposition(|entered| *entered == span.into_u64()) {
                stack.remove(position);
            }
        }
    }
}

#[tokio::test(flavor = "current_thread")]
async fn each_tool_call_has_an_execute_tool_span_under_the_run_and_content_only_when_asked() {
    for record_content in [false, true] {
        let capture = capture::Capture::default();
        let _guard = tracing::subscriber::set_default(capture.clone());
        let server = MockServer::start().await;
        let call = json!({"role": "assistant", "content": null, "tool_calls": [{"id": "call_t", "type": "function",
            "function": {"name": "weather", "arguments": "{\"city\":\"Bern\"}"}}]});
        server.respond("POST", OPENAI, MockResponse::json(200, answer(call, "tool_calls")));
        server.respond(
            "POST",
            OPENAI,
            MockResponse::json(200, answer(json!({"role": "assistant", "content": "ok"}), "stop")),
        );
        let weather = FunctionTool::new(
            "weather",
            "The weather",
            json!({"type": "object"}),
            |arguments: Value| async move {
                Ok(ToolOutput::text(format!("21 °C in {}", arguments["city"].as_str().unwrap_or_default())))
            },
        );
        let client = client(&server)
            .with_content_recording(record_content)
            .with_tools(ToolSet::new().with_tool(weather));
        let request = ChatCompletionRequest {
            model: "gpt-4.1-mini".to_owned(),
            messages: vec![ChatCompletionMessage::new_text("user", "Bern?")],
            ..Default::default()
        };
        client.completions().tool_loop().run(request).await.unwrap();

        let spans = capture.spans.lock().unwrap().clone();
        let find = |name: &str| {
            spans
                .iter()
                .filter(|(_, span)| span.name == name)
                .map(|(id, span)| (*id, span.clone()))
                .collect::<Vec<_>>()
        };
        let runs = find("invoke_agent");
        assert_eq!(runs.len(), 1);
        let (run_id, run) = &runs[0];
        assert_eq!(run.fields.get("gen_ai.operation.name").map(String::as_str), Some("invoke_agent"));
        assert_eq!(run.fields.get("vllora.tool_loop.outcome").map(String::as_str), Some("answered"));
        let chats = find("chat");
        assert_eq!(chats.len(), 2, "one chat span per step");
        assert!(chats.iter().all(|(_, chat)| chat.parent == Some(*run_id)), "{chats:?}");
        let tools = find("execute_tool");
        assert_eq!(tools.len(), 1);
        let tool = &tools[0].1;
        assert_eq!(tool.parent, Some(*run_id), "a child of the run's span");
        let field = |name: &str| tool.fields.get(name).map(String::as_str);
        assert_eq!(field("gen_ai.operation.name"), Some("execute_tool"));
        assert_eq!(field("gen_ai.tool.name"), Some("weather"));
        assert_eq!(field("gen_ai.tool.call.id"), Some("call_t"));
        assert_eq!(field("gen_ai.tool.type"), Some("function"));
        assert_eq!(field("otel.name"), Some("execute_tool weather"));
        if record_content {
            assert_eq!(field("gen_ai.tool.call.arguments"), Some("{\"city\":\"Bern\"}"));
            assert_eq!(field("gen_ai.tool.call.result"), Some("21 °C in Bern"));
        } else {
            assert_eq!(field("gen_ai.tool.call.arguments"), None, "{tool:?}");
            assert_eq!(field("gen_ai.tool.call.result"), None);
        }
    }
}
