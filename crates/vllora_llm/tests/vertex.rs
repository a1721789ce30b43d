//! The routed client on Vertex AI (`vertex/` prefix): Gemini chat, a Claude stream, embeddings and a
//! request naming a context cache, all from one service account key read through the client's
//! Environment, against a loopback server speaking the token endpoint's and Vertex AI's wire formats.

#![cfg(feature = "vertex")]
#![allow(clippy::panic, reason = "a test fails by panicking, helpers included")]

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use serde_json::json;
use vllora_llm::client::VlloraLLMClient;
use vllora_llm::types::Environment;
use vllora_llm::types::gateway::{
    ChatCompletionMessage, ChatCompletionRequest, EmbeddingRequest, ProviderSpecificRequest,
};
use vllora_llm_testkit::{MockResponse, MockServer};

#[derive(Debug)]
struct Store {
    variables: HashMap<&'static str, String>,
    files: HashMap<&'static str, String>,
}

impl Environment for Store {
    fn var(&self, name: &str) -> Option<String> {
        self.variables.get(name).cloned()
    }

    fn read_file(&self, path: &Path) -> Option<String> {
        self.files.get(path.to_str()?).cloned()
    }
}

const SCOPE: &str = "/v1/projects/proj-9/locations/us-east5";

fn gemini_answer(text: &str) -> serde_json::Value {
    json!({"candidates": [{"content": {"role": "model", "parts": [{"text": text}]}, "finishReason": "STOP"}],
           "usageMetadata": {"promptTokenCount": 3, "candidatesTokenCount": 2, "totalTokenCount": 5}})
}

#[tokio::test]
async fn the_routed_client_serves_gemini_claude_embeddings_and_caches_with_one_token() {
    let server = MockServer::start().await;
    server.respond(
        "POST",
        "/token",
        MockResponse::json(200, json!({"access_token": "ya29.routed", "expires_in": 3599})),
    );
    let gemini = format!("{SCOPE}/publishers/google/models/gemini-2.5-flash:generateContent");
    server.respond("POST", &gemini, MockResponse::json(200, gemini_answer("Gemini on Vertex")));
    server.respond("POST", &gemini, MockResponse::json(200, gemini_answer("Cached")));
    server.respond(
        "POST",
        &format!("{SCOPE}/publishers/anthropic/models/claude-sonnet-4-5@20250929:streamRawPredict"),
        MockResponse::sse([
            "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-sonnet-4-5\",\"content\":[],\"usage\":{\"input_tokens\":3,\"output_tokens\":1}}}\n\n",
            "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n",
            "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Claude on Vertex\"}}\n\n",
            "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":3}}\n\n",
            "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
        ]),
    );
    server.respond(
        "POST",
        &format!("{SCOPE}/publishers/google/models/text-embedding-005:predict"),
        MockResponse::json(200, json!({"predictions": [{"embeddings": {"values": [0.25, 0.5], "statistics": {"token_count": 2}}}]})),
    );
    let key = include_str!("../../vllora_llm_vertex/tests/fixtures/service_account_key.pem");
    let key_file = json!({"type": "service_account", "project_id": "from-key", "private_key": key,
        "client_email": "sa@proj-9.iam.gserviceaccount.com", "token_uri": format!("{}/token", server.url())});
    let store = Store {
        variables: HashMap::from([
            ("GOOGLE_APPLICATION_CREDENTIALS", "/secrets/key.json".to_owned()),
            ("VLLORA_VERTEX_PROJECT", "proj-9".to_owned()),
            ("VLLORA_VERTEX_LOCATION", "us-east5".to_owned()),
            ("VLLORA_VERTEX_ENDPOINT", server.url()),
        ]),
        files: HashMap::from([("/secrets/key.json", key_file.to_string())]),
    };
    let client = VlloraLLMClient::new().with_environment(Arc::new(store));

    let chat = ChatCompletionRequest {
        model: "vertex/gemini-2.5-flash".into(),
        messages: vec![ChatCompletionMessage::new_text("user", "Hi")],
        ..Default::default()
    };
    let answer = client.completions().create(chat.clone()).await.unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(
        answer.message().content.as_ref().and_then(|content| content.as_string()),
        Some("Gemini on Vertex".to_owned())
    );

    let claude = ChatCompletionRequest {
        model: "vertex/claude-sonnet-4-5@20250929".into(),
        max_tokens: Some(64),
        ..chat.clone()
    };
    let mut stream =
        client.completions().create_stream(claude).await.unwrap_or_else(|error| panic!("{error}"));
    let mut text = String::new();
    while let Some(chunk) = stream.next().await {
        for choice in chunk.unwrap_or_else(|error| panic!("{error}")).choices {
            text.push_str(&choice.delta.content.unwrap_or_default());
        }
    }
    assert_eq!(text, "Claude on Vertex");

    let embedded = client
        .embeddings()
        .create(EmbeddingRequest::new("vertex/text-embedding-005", "hello"))
        .await
        .unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(embedded.usage.prompt_tokens, 2);

    let mut specific = ProviderSpecificRequest::default();
    specific.extra.insert("cached_content".into(), json!("cachedContents/77"));
    let cached = ChatCompletionRequest { provider_specific: Some(specific), ..chat };
    let answer = client.completions().create(cached).await.unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(
        answer.message().content.as_ref().and_then(|content| content.as_string()),
        Some("Cached".to_owned())
    );

    let requests = server.requests();
    assert_eq!(
        requests.iter().filter(|request| request.path == "/token").count(),
        1,
        "one token for every call"
    );
    let claude_body = requests
        .iter()
        .find(|request| request.path.ends_with(":streamRawPredict"))
        .map(|request| request.json());
    assert_eq!(
        claude_body.as_ref().map(|body| body["anthropic_version"].clone()),
        Some(json!("vertex-2023-10-16"))
    );
    let last = requests.last().map(|request| request.json()).unwrap_or_default();
    assert_eq!(last["cachedContent"], "projects/proj-9/locations/us-east5/cachedContents/77");
    assert!(
        requests
            .iter()
            .filter(|request| request.path != "/token")
            .all(|request| request.header("authorization") == Some("Bearer ya29.routed"))
    );
}
