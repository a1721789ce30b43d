//! No secret in any log line, `Debug`, `Display` or error (issue 10 item 4): a subscriber records every
//! span and event at TRACE, from this crate and its dependencies (hyper-util's pool logs are compiled in
//! for this test; `aws-sigv4` logs the canonical request it signs), while calls go to every provider with
//! an API key, AWS keys with a session token, and a base URL carrying `user:password@`. No crate in the
//! library's tree logs through the `log` facade (`cargo tree -i log` finds none), so `tracing` sees all.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking
#![cfg(all(feature = "openai", feature = "anthropic", feature = "gemini", feature = "bedrock"))]

mod support;

use std::fmt::{self, Write as _};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use support::{Provider, SECRETS};
use tracing::field::{Field, Visit};
use tracing::level_filters::LevelFilter;
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing::{Event, Metadata, Subscriber};
use vllora_llm::http::{HttpClient, HttpConfig, RetryPolicy};
use vllora_llm_testkit::{MockResponse, MockServer};

/// The password of the base URLs below.
const URL_PASSWORD: &str = "pw-in-url-SECRET-0007";

/// Every span and event as text, whatever its level or target.
#[derive(Default)]
struct Capture {
    text: Arc<Mutex<String>>,
    next_id: AtomicU64,
}

struct Fields<'a>(&'a mut String);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let _ = write!(self.0, " {}={value:?}", field.name());
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        let _ = write!(self.0, " {}={value}", field.name());
    }
}

impl Capture {
    fn line(&self, metadata: &Metadata<'_>, fill: impl FnOnce(&mut String)) {
        let mut line = format!("{} {} {}:", metadata.level(), metadata.target(), metadata.name());
        fill(&mut line);
        let mut text = self.text.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        text.push_str(&line);
        text.push('\n');
    }
}

impl Subscriber for Capture {
    fn register_callsite(&self, _metadata: &'static Metadata<'static>) -> Interest {
        Interest::always()
    }

    fn enabled(&self, _metadata: &Metadata<'_>) -> bool {
        true
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(LevelFilter::TRACE)
    }

    fn new_span(&self, attributes: &Attributes<'_>) -> Id {
        self.line(attributes.metadata(), |line| attributes.record(&mut Fields(line)));
        Id::from_u64(self.next_id.fetch_add(1, Ordering::Relaxed).saturating_add(1))
    }

    fn record(&self, _span: &Id, values: &Record<'_>) {
        let mut line = String::from("record:");
        values.record(&mut Fields(&mut line));
        let mut text = self.text.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        text.push_str(&line);
        text.push('\n');
    }

    fn record_follows_from(&self, _span: &Id, _follows: &Id) {}

    fn event(&self, event: &Event<'_>) {
        self.line(event.metadata(), |line| event.record(&mut Fields(line)));
    }

    fn enter(&self, _span: &Id) {}

    fn exit(&self, _span: &Id) {}
}

fn assert_no_secret(what: &str, text: &str) {
    for secret in SECRETS.iter().chain([&URL_PASSWORD]) {
        assert!(!text.contains(secret), "{what} shows {secret}:\n{text}");
    }
}

fn with_password(url: &str) -> String {
    url.replacen("http://", &format!("http://gateway:{URL_PASSWORD}@"), 1)
}

#[tokio::test]
async fn no_secret_reaches_a_log_line_a_debug_or_an_error() {
    let text = Arc::new(Mutex::new(String::new()));
    let capture = Capture { text: Arc::clone(&text), next_id: AtomicU64::new(0) };
    // The only test of this binary: the global subscriber also hears the runtime's other threads.
    tracing::subscriber::set_global_default(capture).expect("the first subscriber");

    let server = MockServer::start().await;
    let quick = HttpConfig {
        retry: RetryPolicy { max_attempts: 2, ..RetryPolicy::default() },
        ..HttpConfig::default()
    };
    for provider in Provider::ALL {
        server.respond("POST", &provider.path(false), MockResponse::json(200, provider.answer()));
        let body = provider.stream_body();
        server.respond(
            "POST",
            &provider.path(true),
            MockResponse::stream(200, provider.stream_content_type(), [body]),
        );
        let client = provider.client(&server, quick);
        assert_no_secret("the client's Debug", &format!("{client:?}"));

        let answer = client.completions().create(provider.request()).await;
        assert!(answer.is_ok(), "{}: {answer:?}", provider.name());
        let stream = client.completions().create_stream(provider.request()).await;
        let Ok(mut stream) = stream else { panic!("{}: {:?}", provider.name(), stream.err()) };
        while let Some(chunk) = stream.next().await {
            assert!(chunk.is_ok(), "{}: {chunk:?}", provider.name());
        }

        // An error status (retried once: a 503), and its error.
        server.respond_always(
            "POST",
            &provider.path(false),
            MockResponse::json(503, serde_json::json!({"error": {"message": "busy"}})),
        );
        let error = client.completions().create(provider.request()).await.err();
        assert!(error.is_some(), "{}", provider.name());
        assert_no_secret(
            "an error",
            &format!("{error:?} {}", error.as_ref().map(ToString::to_string).unwrap_or_default()),
        );

        // A base URL with a password: refused, and shown nowhere.
        let endpoint = with_password(&provider.endpoint(&server.url()));
        let client = provider.client_at(&endpoint, quick);
        assert_no_secret("the Debug of a client with a password in its URL", &format!("{client:?}"));
        let error = client.completions().create(provider.request()).await.err();
        let shown = format!("{error:?} {}", error.as_ref().map(ToString::to_string).unwrap_or_default());
        assert!(shown.contains("[redacted]@"), "{}: {shown}", provider.name());
        assert_no_secret("the error of a URL with a password", &shown);
    }
    let requests = server.requests();
    assert!(
        requests
            .iter()
            .any(|request| request.header("x-amz-security-token") == Some(support::AWS_SESSION_TOKEN)),
        "the session token was sent"
    );

    // The providers' configurations and models, built directly.
    let http = HttpClient::new(HttpConfig::default()).expect("a client");
    let url = with_password("http://127.0.0.1:9/v1");
    let openai =
        vllora_llm::openai::OpenAIConfig::proxy("gateway", url.as_str()).with_api_key(support::OPENAI_KEY);
    let anthropic =
        vllora_llm::anthropic::AnthropicConfig::new(support::ANTHROPIC_KEY).with_base_url(url.as_str());
    let gemini = vllora_llm::gemini::GeminiConfig::new(support::GEMINI_KEY).with_base_url(url.as_str());
    let shown = format!(
        "{openai:?} {:?} {anthropic:?} {:?} {gemini:?} {:?}",
        vllora_llm::openai::OpenAIModel::new(openai.clone(), http.clone()),
        vllora_llm::anthropic::AnthropicModel::new(anthropic.clone(), http.clone()),
        vllora_llm::gemini::GeminiModel::new(gemini.clone(), http.clone()),
    );
    assert_no_secret("a configuration's or model's Debug", &shown);

    let logged = text.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone();
    // The capture saw the calls, down to the dependencies' TRACE lines.
    assert!(logged.contains("TRACE"), "{logged}");
    assert!(
        logged.contains("hyper_util::client::legacy::pool"),
        "hyper-util's pool logs are captured:\n{logged}"
    );
    assert_no_secret("the log", &logged);
}
