//! What the reliability tests share: each provider reached through `VlloraLLMClient` at a loopback
//! server, with its wire format (paths, a complete one-shot answer, a complete stream, a keep-alive).

#![allow(dead_code, reason = "each test file uses a different subset")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::{Value, json};
use vllora_llm::client::VlloraLLMClient;
use vllora_llm::http::HttpConfig;
use vllora_llm::types::Environment;
use vllora_llm::types::gateway::{ChatCompletionMessage, ChatCompletionRequest};
use vllora_llm::client::InferenceModelProvider;
use vllora_llm_testkit::MockServer;

/// The secrets the clients below carry; no log line, `Debug` or error may show any of them.
pub const OPENAI_KEY: &str = "sk-openai-SECRET-0001";
pub const ANTHROPIC_KEY: &str = "sk-ant-SECRET-0002";
pub const GEMINI_KEY: &str = "AIza-gemini-SECRET-0003";
pub const AWS_ACCESS_KEY_ID: &str = "AKIASECRETKEYID0004";
pub const AWS_SECRET_ACCESS_KEY: &str = "wJalrXUtnFEMI-SECRET-0005";
pub const AWS_SESSION_TOKEN: &str = "IQoJb3JpZ2luX2Vj-SESSION-SECRET-0006";
pub const SECRETS: [&str; 6] =
    [OPENAI_KEY, ANTHROPIC_KEY, GEMINI_KEY, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN];

/// Variables from a map; no file exists.
#[derive(Debug, Default)]
pub struct Vars(pub HashMap<String, String>);

impl Environment for Vars {
    fn var(&self, name: &str) -> Option<String> {
        self.0.get(name).cloned()
    }

    fn read_file(&self, _path: &Path) -> Option<String> {
        None
    }
}

/// The four providers, as the facade routes to them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    OpenAI,
    Anthropic,
    Gemini,
    Bedrock,
}

impl Provider {
    pub const ALL: [Provider; 4] =
        [Provider::OpenAI, Provider::Anthropic, Provider::Gemini, Provider::Bedrock];

    pub fn name(self) -> &'static str {
        match self {
            Provider::OpenAI => "OpenAI",
            Provider::Anthropic => "Anthropic",
            Provider::Gemini => "Gemini",
            Provider::Bedrock => "Bedrock",
        }
    }

    pub fn model(self) -> &'static str {
        match self {
            Provider::OpenAI => "gpt-4.1-mini",
            Provider::Anthropic => "claude-sonnet-4-5",
            Provider::Gemini => "gemini-2.5-flash",
            Provider::Bedrock => "amazon.nova-micro-v1",
        }
    }

    /// The path a one-shot call (`stream == false`) or a stream is sent to.
    pub fn path(self, stream: bool) -> String {
        match (self, stream) {
            (Provider::OpenAI, _) => "/v1/chat/completions".to_owned(),
            (Provider::Anthropic, _) => "/v1/messages".to_owned(),
            (Provider::Gemini, false) => format!("/v1beta/models/{}:generateContent", self.model()),
            (Provider::Gemini, true) => format!("/v1beta/models/{}:streamGenerateContent", self.model()),
            (Provider::Bedrock, false) => format!("/model/{}/converse", self.model()),
            (Provider::Bedrock, true) => format!("/model/{}/converse-stream", self.model()),
        }
    }

    /// The base URL the client is given for `server`.
    pub fn endpoint(self, server_url: &str) -> String {
        match self {
            Provider::OpenAI => format!("{server_url}/v1"),
            _ => server_url.to_owned(),
        }
    }

    fn variables(self) -> Vec<(&'static str, &'static str)> {
        match self {
            Provider::OpenAI => vec![("VLLORA_OPENAI_API_KEY", OPENAI_KEY)],
            Provider::Anthropic => vec![("VLLORA_ANTHROPIC_API_KEY", ANTHROPIC_KEY)],
            Provider::Gemini => vec![("VLLORA_GEMINI_API_KEY", GEMINI_KEY)],
            Provider::Bedrock => vec![
                ("AWS_ACCESS_KEY_ID", AWS_ACCESS_KEY_ID),
                ("AWS_SECRET_ACCESS_KEY", AWS_SECRET_ACCESS_KEY),
                ("AWS_SESSION_TOKEN", AWS_SESSION_TOKEN),
                ("AWS_REGION", "us-east-1"),
            ],
        }
    }

    fn routing(self) -> InferenceModelProvider {
        match self {
            Provider::OpenAI => InferenceModelProvider::OpenAI,
            Provider::Anthropic => InferenceModelProvider::Anthropic,
            Provider::Gemini => InferenceModelProvider::Gemini,
            Provider::Bedrock => InferenceModelProvider::Bedrock,
        }
    }

    /// A client of this provider at `endpoint`, with its secrets, configured by `http`.
    pub fn client_at(self, endpoint: &str, http: HttpConfig) -> VlloraLLMClient {
        let vars = self.variables().into_iter().map(|(name, value)| (name.to_owned(), value.to_owned()));
        VlloraLLMClient::new()
            .with_model_provider(self.routing())
            .with_environment(Arc::new(Vars(vars.collect())))
            .with_inference_endpoint(endpoint)
            .with_http_config(http)
    }

    /// A client of this provider at `server`.
    pub fn client(self, server: &MockServer, http: HttpConfig) -> VlloraLLMClient {
        self.client_at(&self.endpoint(&server.url()), http)
    }

    pub fn request(self) -> ChatCompletionRequest {
        ChatCompletionRequest {
            model: self.model().to_owned(),
            messages: vec![ChatCompletionMessage::new_text("user".to_owned(), "Say hello".to_owned())],
            ..Default::default()
        }
    }

    /// A complete one-shot answer, "hi".
    pub fn answer(self) -> Value {
        match self {
            Provider::OpenAI => json!({
                "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": self.model(),
                "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 2, "completion_tokens": 1, "total_tokens": 3}
            }),
            Provider::Anthropic => json!({
                "id": "msg_1", "type": "message", "role": "assistant", "model": self.model(),
                "content": [{"type": "text", "text": "hi"}], "stop_reason": "end_turn", "stop_sequence": null,
                "usage": {"input_tokens": 2, "output_tokens": 1}
            }),
            Provider::Gemini => json!({
                "candidates": [{"content": {"parts": [{"text": "hi"}], "role": "model"}, "finishReason": "STOP", "index": 0}],
                "usageMetadata": {"promptTokenCount": 2, "candidatesTokenCount": 1, "totalTokenCount": 3},
                "modelVersion": self.model(), "responseId": "r-1"
            }),
            Provider::Bedrock => json!({
                "output": {"message": {"role": "assistant", "content": [{"text": "hi"}]}},
                "stopReason": "end_turn",
                "usage": {"inputTokens": 2, "outputTokens": 1, "totalTokens": 3}
            }),
        }
    }

    /// A complete stream, as the provider's own fixture records it (its end marker included).
    pub fn stream_body(self) -> Vec<u8> {
        let fixture = match self {
            Provider::OpenAI => "vllora_llm_openai/tests/fixtures/streams/openai_text.openai.sse",
            Provider::Anthropic => "vllora_llm_anthropic/tests/fixtures/streams/text.sse",
            Provider::Gemini => "vllora_llm_gemini/tests/fixtures/streams/text_and_thoughts.sse",
            Provider::Bedrock => "vllora_llm_bedrock/tests/fixtures/streams/text.bedrock.bin",
        };
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join(fixture);
        std::fs::read(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
    }

    /// What the provider's server may send while it has nothing to say (or after the end): an SSE
    /// comment, or for Bedrock the stream's frames again.
    pub fn keep_alive(self) -> Vec<u8> {
        match self {
            Provider::Bedrock => self.stream_body(),
            _ => b": keep-alive\n\n".to_vec(),
        }
    }

    pub fn stream_content_type(self) -> &'static str {
        match self {
            Provider::Bedrock => "application/vnd.amazon.eventstream",
            _ => "text/event-stream",
        }
    }
}
