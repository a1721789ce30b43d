//! The `chat` span every call opens: its OpenTelemetry GenAI fields, the first-token event of streams,
//! and prompt/completion text only when the caller opts in. Captured with a small subscriber of our own.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};
use vllora_llm::client::{DummyModelInstance, ModelInstance, VlloraLLMClient};
use vllora_llm::types::gateway::{ChatCompletionMessage, ChatCompletionRequest};

#[derive(Debug, Default, Clone)]
struct CapturedSpan {
    name: String,
    fields: BTreeMap<String, String>,
}

#[derive(Debug, Default, Clone)]
struct CapturedEvent {
    name: String,
    parent: Option<u64>,
    fields: BTreeMap<String, String>,
}

#[derive(Default)]
struct Captured {
    spans: Mutex<BTreeMap<u64, CapturedSpan>>,
    events: Mutex<Vec<CapturedEvent>>,
    stack: Mutex<Vec<u64>>,
    next_id: AtomicU64,
}

#[derive(Clone, Default)]
struct Capture(Arc<Captured>);

struct FieldVisitor<'a>(&'a mut BTreeMap<String, String>);

impl Visit for FieldVisitor<'_> {
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
        let id = self.0.next_id.fetch_add(1, Ordering::SeqCst) + 1;
        let mut span = CapturedSpan { name: attributes.metadata().name().to_owned(), ..Default::default() };
        attributes.record(&mut FieldVisitor(&mut span.fields));
        self.0.spans.lock().unwrap().insert(id, span);
        Id::from_u64(id)
    }
    fn record(&self, span: &Id, values: &Record<'_>) {
        if let Some(span) = self.0.spans.lock().unwrap().get_mut(&span.into_u64()) {
            values.record(&mut FieldVisitor(&mut span.fields));
        }
    }
    fn record_follows_from(&self, _span: &Id, _follows: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let parent =
            event.parent().map(Id::into_u64).or_else(|| self.0.stack.lock().unwrap().last().copied());
        let mut captured =
            CapturedEvent { name: event.metadata().name().to_owned(), parent, ..Default::default() };
        event.record(&mut FieldVisitor(&mut captured.fields));
        self.0.events.lock().unwrap().push(captured);
    }
    fn enter(&self, span: &Id) {
        self.0.stack.lock().unwrap().push(span.into_u64());
    }
    fn exit(&self, _span: &Id) {
        self.0.stack.lock().unwrap().pop();
    }
}

impl Capture {
    fn chat_spans(&self) -> Vec<CapturedSpan> {
        self.0.spans.lock().unwrap().values().filter(|span| span.name == "chat").cloned().collect()
    }
    fn events(&self) -> Vec<CapturedEvent> {
        self.0.events.lock().unwrap().clone()
    }
}

fn dummy_client() -> VlloraLLMClient {
    let instance: Arc<Box<dyn ModelInstance>> = Arc::new(Box::new(DummyModelInstance {}));
    VlloraLLMClient::new_with_instance(instance)
}

fn request() -> ChatCompletionRequest {
    ChatCompletionRequest {
        model: "gpt-4.1-mini".into(),
        messages: vec![ChatCompletionMessage::new_text("user", "secret prompt words")],
        max_tokens: Some(50),
        temperature: Some(0.25),
        ..Default::default()
    }
}

#[tokio::test]
async fn a_one_shot_call_records_the_genai_fields_and_no_content() {
    let capture = Capture::default();
    let _guard = tracing::subscriber::set_default(capture.clone());
    let response = dummy_client().completions().create(request()).await.unwrap();
    assert_eq!(response.id(), "chatcmpl-dummy");

    let spans = capture.chat_spans();
    assert_eq!(spans.len(), 1);
    let fields = &spans[0].fields;
    let field = |name: &str| fields.get(name).map(String::as_str);
    assert_eq!(field("otel.name"), Some("chat gpt-4.1-mini"));
    assert_eq!(field("gen_ai.operation.name"), Some("chat"));
    assert_eq!(field("gen_ai.provider.name"), Some("dummy"));
    assert_eq!(field("gen_ai.request.model"), Some("gpt-4.1-mini"));
    assert_eq!(field("gen_ai.request.max_tokens"), Some("50"));
    assert_eq!(field("gen_ai.request.temperature"), Some("0.25"));
    assert_eq!(field("gen_ai.response.id"), Some("chatcmpl-dummy"));
    assert_eq!(field("gen_ai.response.model"), Some("gpt-4.1-mini"));
    assert_eq!(field("gen_ai.response.finish_reasons"), Some(r#"["stop"]"#));
    assert_eq!(field("gen_ai.usage.input_tokens"), Some("3"));
    assert_eq!(field("gen_ai.usage.output_tokens"), Some("8"));
    assert_eq!(field("gen_ai.request.stream"), Some("false"));
    assert!(fields.values().all(|value| !value.contains("secret prompt words")), "{fields:?}");
}

#[tokio::test]
async fn content_is_recorded_only_when_asked_for() {
    let capture = Capture::default();
    let _guard = tracing::subscriber::set_default(capture.clone());
    let client = dummy_client().with_content_recording(true);
    client.completions().create(request()).await.unwrap();
    let spans = capture.chat_spans();
    let input = spans[0].fields.get("gen_ai.input.messages").cloned().unwrap_or_default();
    let output = spans[0].fields.get("gen_ai.output.messages").cloned().unwrap_or_default();
    assert!(input.contains("secret prompt words"), "{input}");
    assert!(output.contains("You said: secret prompt words"), "{output}");
}

#[tokio::test]
async fn a_stream_records_first_token_usage_and_finish_reason_when_it_ends() {
    let capture = Capture::default();
    let _guard = tracing::subscriber::set_default(capture.clone());
    let mut stream = dummy_client().completions().create_stream(request()).await.unwrap();
    let mut text = String::new();
    while let Some(chunk) = stream.next().await {
        for choice in chunk.unwrap().choices {
            text.push_str(&choice.delta.content.unwrap_or_default());
        }
    }
    assert_eq!(text, "Hello from DummyModelInstance! You said: secret prompt words");
    let spans = capture.chat_spans();
    assert_eq!(spans.len(), 1);
    let fields = &spans[0].fields;
    assert_eq!(fields.get("gen_ai.response.finish_reasons").map(String::as_str), Some(r#"["stop"]"#));
    assert_eq!(fields.get("gen_ai.usage.output_tokens").map(String::as_str), Some("8"));
    assert_eq!(fields.get("gen_ai.request.stream").map(String::as_str), Some("true"));
    let first_tokens: Vec<_> =
        capture.events().into_iter().filter(|event| event.name == "gen_ai.first_token").collect();
    assert_eq!(first_tokens.len(), 1, "exactly one first-token event");
    assert_eq!(first_tokens[0].parent, Some(1));
    assert!(first_tokens[0].fields.contains_key("gen_ai.response.time_to_first_chunk"));
}
