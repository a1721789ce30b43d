//! Providers are built once per client: 100 calls through `VlloraLLMClient::completions()` to OpenAI, a
//! proxy, Anthropic, Gemini and Bedrock read each environment variable and each AWS shared file at most
//! once, however many calls and clones follow.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking
#![cfg(all(feature = "openai", feature = "anthropic", feature = "gemini", feature = "bedrock"))]

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde_json::json;
use vllora_llm::client::VlloraLLMClient;
use vllora_llm::types::Environment;
use vllora_llm::types::gateway::{ChatCompletionMessage, ChatCompletionRequest};
use vllora_llm_testkit::{MockResponse, MockServer};

const CREDENTIALS_FILE: &str = "/counting/aws/credentials";
const CONFIG_FILE: &str = "/counting/aws/config";

/// Variables and files from maps, counting every read (of what is set and of what is not).
#[derive(Debug, Default)]
struct CountingEnvironment {
    vars: HashMap<String, String>,
    files: HashMap<PathBuf, String>,
    var_reads: Mutex<BTreeMap<String, usize>>,
    file_reads: Mutex<BTreeMap<PathBuf, usize>>,
}

impl Environment for CountingEnvironment {
    fn var(&self, name: &str) -> Option<String> {
        *self.var_reads.lock().unwrap().entry(name.to_owned()).or_default() += 1;
        self.vars.get(name).cloned()
    }

    fn read_file(&self, path: &Path) -> Option<String> {
        *self.file_reads.lock().unwrap().entry(path.to_owned()).or_default() += 1;
        self.files.get(path).cloned()
    }
}

impl CountingEnvironment {
    /// Every provider configured from variables, Bedrock from the shared files alone.
    fn for_server(server: &MockServer) -> Self {
        let url = server.url();
        let vars = [
            ("VLLORA_OPENAI_API_KEY", "sk-openai-counted".to_owned()),
            ("VLLORA_OPENAI_ENDPOINT", format!("{url}/openai/v1")),
            ("VLLORA_LOCAL_ENDPOINT", format!("{url}/local/v1")),
            ("VLLORA_LOCAL_API_KEY", "sk-local-counted".to_owned()),
            ("VLLORA_ANTHROPIC_API_KEY", "sk-ant-counted".to_owned()),
            ("VLLORA_ANTHROPIC_ENDPOINT", format!("{url}/anthropic")),
            ("VLLORA_GEMINI_API_KEY", "gemini-counted".to_owned()),
            ("VLLORA_GEMINI_ENDPOINT", format!("{url}/gemini")),
            ("AWS_SHARED_CREDENTIALS_FILE", CREDENTIALS_FILE.to_owned()),
            ("AWS_CONFIG_FILE", CONFIG_FILE.to_owned()),
        ];
        let files = [
            (
                CREDENTIALS_FILE,
                "[default]\naws_access_key_id = AKIDCOUNTED\naws_secret_access_key = counted-secret\n",
            ),
            (CONFIG_FILE, "[default]\nregion = us-east-1\n"),
        ];
        CountingEnvironment {
            vars: vars.into_iter().map(|(name, value)| (name.to_owned(), value)).collect(),
            files: files.into_iter().map(|(path, text)| (PathBuf::from(path), text.to_owned())).collect(),
            ..Default::default()
        }
    }

    fn var_reads(&self) -> BTreeMap<String, usize> {
        self.var_reads.lock().unwrap().clone()
    }

    fn file_reads(&self) -> BTreeMap<PathBuf, usize> {
        self.file_reads.lock().unwrap().clone()
    }

    fn assert_each_read_at_most_once(&self) {
        let vars = self.var_reads();
        assert!(vars.values().all(|reads| *reads <= 1), "variables read more than once: {vars:?}");
        let files = self.file_reads();
        assert!(files.values().all(|reads| *reads <= 1), "files read more than once: {files:?}");
    }
}

fn request(model: &str) -> ChatCompletionRequest {
    ChatCompletionRequest {
        model: model.to_owned(),
        messages: vec![ChatCompletionMessage::new_text("user", "Hi")],
        ..Default::default()
    }
}

/// Answers for every provider's path on one server.
async fn server() -> MockServer {
    let server = MockServer::start().await;
    let openai = json!({
        "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "gpt-4.1-mini",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
    });
    server.respond_always("POST", "/openai/v1/chat/completions", MockResponse::json(200, openai.clone()));
    server.respond_always("POST", "/local/v1/chat/completions", MockResponse::json(200, openai));
    let anthropic = json!({
        "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
        "content": [{"type": "text", "text": "Hi"}], "stop_reason": "end_turn", "stop_sequence": null,
        "usage": {"input_tokens": 1, "output_tokens": 1}
    });
    server.respond_always("POST", "/anthropic/v1/messages", MockResponse::json(200, anthropic));
    let gemini = json!({
        "candidates": [{"content": {"role": "model", "parts": [{"text": "Hi"}]}, "finishReason": "STOP", "index": 0}],
        "usageMetadata": {"promptTokenCount": 1, "candidatesTokenCount": 1, "totalTokenCount": 2},
        "modelVersion": "gemini-2.5-flash"
    });
    let gemini_path = "/gemini/v1beta/models/gemini-2.5-flash:generateContent";
    server.respond_always("POST", gemini_path, MockResponse::json(200, gemini));
    let bedrock = json!({
        "output": {"message": {"role": "assistant", "content": [{"text": "Hi"}]}},
        "stopReason": "end_turn", "usage": {"inputTokens": 1, "outputTokens": 1, "totalTokens": 2},
        "metrics": {"latencyMs": 1}
    });
    server.respond_always("POST", "/model/amazon.nova-lite-v1/converse", MockResponse::json(200, bedrock));
    server
}

/// The clients under test and the model each call names: one routed client for OpenAI, the proxy
/// `local` (found through `VLLORA_LOCAL_ENDPOINT`), Anthropic and Gemini, and one for Bedrock (which
/// has no endpoint variable, so its base URL is given). The Bedrock client is given its HTTP client, so
/// the proxy variables are the routed client's reads alone (each client reads them once, with its pool).
fn cases(
    server: &MockServer,
    environment: &Arc<CountingEnvironment>,
) -> Vec<(VlloraLLMClient, &'static str)> {
    let routed = VlloraLLMClient::new().with_environment(environment.clone());
    let Ok(http) = vllora_llm::http::HttpClient::new(vllora_llm::http::HttpConfig::default()) else {
        panic!("an HTTP client")
    };
    let bedrock = VlloraLLMClient::new()
        .with_environment(environment.clone())
        .with_inference_endpoint(server.url())
        .with_http_client(http);
    vec![
        (routed.clone(), "gpt-4.1-mini"),
        (routed.clone(), "local/qwen3"),
        (routed.clone(), "claude-sonnet-4-5"),
        (routed, "gemini-2.5-flash"),
        (bedrock, "amazon.nova-lite-v1"),
    ]
}

#[tokio::test]
async fn each_variable_and_file_is_read_at_most_once_over_100_calls_per_provider() {
    let server = server().await;
    let environment = Arc::new(CountingEnvironment::for_server(&server));
    let cases = cases(&server, &environment);

    for (client, model) in &cases {
        for call in 0..100 {
            let result = client.completions().create(request(model)).await;
            assert!(result.is_ok(), "{model}, call {call}: {result:?}");
        }
    }
    environment.assert_each_read_at_most_once();
    let vars = environment.var_reads();
    for variable in [
        "VLLORA_OPENAI_API_KEY",
        "VLLORA_OPENAI_ENDPOINT",
        "VLLORA_LOCAL_ENDPOINT",
        "VLLORA_LOCAL_API_KEY",
        "VLLORA_ANTHROPIC_API_KEY",
        "VLLORA_GEMINI_API_KEY",
        "AWS_SHARED_CREDENTIALS_FILE",
    ] {
        assert_eq!(vars.get(variable), Some(&1), "{variable}: {vars:?}");
    }
    let files = environment.file_reads();
    assert_eq!(files.get(Path::new(CREDENTIALS_FILE)), Some(&1), "{files:?}");
    assert_eq!(files.get(Path::new(CONFIG_FILE)), Some(&1), "{files:?}");

    // Every call reached its provider, with what the environment said.
    let requests = server.requests();
    let count = |path: &str| requests.iter().filter(|request| request.path == path).count();
    assert_eq!(count("/openai/v1/chat/completions"), 100);
    assert_eq!(count("/local/v1/chat/completions"), 100);
    assert_eq!(count("/anthropic/v1/messages"), 100);
    assert_eq!(count("/gemini/v1beta/models/gemini-2.5-flash:generateContent"), 100);
    assert_eq!(count("/model/amazon.nova-lite-v1/converse"), 100);
    let last = |path: &str| requests.iter().rev().find(|request| request.path == path).unwrap();
    assert_eq!(last("/openai/v1/chat/completions").header("authorization"), Some("Bearer sk-openai-counted"));
    assert_eq!(last("/local/v1/chat/completions").header("authorization"), Some("Bearer sk-local-counted"));
    assert_eq!(last("/local/v1/chat/completions").json()["model"], "qwen3");
    assert_eq!(last("/anthropic/v1/messages").header("x-api-key"), Some("sk-ant-counted"));
    assert_eq!(
        last("/gemini/v1beta/models/gemini-2.5-flash:generateContent").header("x-goog-api-key"),
        Some("gemini-counted")
    );
    let signed = last("/model/amazon.nova-lite-v1/converse").header("authorization").unwrap_or_default();
    assert!(signed.contains("Credential=AKIDCOUNTED/") && signed.contains("/us-east-1/bedrock/"), "{signed}");

    // Clones share what was built: 100 more calls each, through fresh clones, read nothing.
    let before = (environment.var_reads(), environment.file_reads());
    for (client, model) in &cases {
        for call in 0..100 {
            let clone = client.clone();
            let result = clone.completions().create(request(model)).await;
            assert!(result.is_ok(), "{model}, clone {call}: {result:?}");
        }
    }
    assert_eq!((environment.var_reads(), environment.file_reads()), before);
    environment.assert_each_read_at_most_once();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_first_calls_build_the_provider_once() {
    let server = server().await;
    let environment = Arc::new(CountingEnvironment::for_server(&server));
    let client = VlloraLLMClient::new().with_environment(environment.clone());
    let calls: Vec<_> = (0..32)
        .map(|call| {
            let client = client.clone();
            let model = if call % 2 == 0 { "gpt-4.1-mini" } else { "local/qwen3" };
            tokio::spawn(async move { client.completions().create(request(model)).await })
        })
        .collect();
    for call in calls {
        let result = call.await.unwrap();
        assert!(result.is_ok(), "{result:?}");
    }
    environment.assert_each_read_at_most_once();
    assert_eq!(environment.var_reads().get("VLLORA_OPENAI_API_KEY"), Some(&1));
    assert_eq!(environment.var_reads().get("VLLORA_LOCAL_API_KEY"), Some(&1));
}

#[tokio::test]
async fn a_proxy_prefix_is_looked_up_once_whether_configured_or_not() {
    let server = server().await;
    let environment = Arc::new(CountingEnvironment::for_server(&server));
    let client = VlloraLLMClient::new().with_environment(environment.clone());
    for _ in 0..100 {
        let unknown = client.completions().create(request("elsewhere/some-model")).await;
        assert!(
            matches!(&unknown, Err(error) if error.to_string().contains("cannot tell which provider")),
            "{unknown:?}"
        );
    }
    assert_eq!(environment.var_reads().get("VLLORA_ELSEWHERE_ENDPOINT"), Some(&1));
    environment.assert_each_read_at_most_once();
}
