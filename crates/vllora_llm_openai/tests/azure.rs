//! Azure OpenAI (feature `azure`) against loopback servers speaking Azure's and Entra ID's wire formats:
//! the deployments API (`/openai/deployments/{deployment}/...?api-version=`) and the v1 API
//! (`/openai/v1/...`, the deployment as `model`) for chat, streams, embeddings, images and Responses;
//! `api-key`; Entra ID tokens from a client secret (form POST, token JSON) and from managed identity
//! (`Metadata: true` on the instance metadata service, `X-IDENTITY-HEADER` on App Service), one token
//! for concurrent calls and refreshed before it expires; errors that name what was tried.
#![cfg(feature = "azure")]
#![allow(clippy::panic, reason = "a test fails by panicking, helpers included")]

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use vllora_llm_core::types::gateway::{
    ChatCompletionMessage, ChatCompletionRequest, EmbeddingRequest, ImageGenerationRequest,
};
use vllora_llm_core::{CallOptions, Environment, LLMError, ModelInstance};
use vllora_llm_http::{HttpClient, HttpConfig, RetryPolicy};
use vllora_llm_openai::{AzureOpenAI, AzureOpenAIConfig, ResponsesRequest};
use vllora_llm_testkit::{MockResponse, MockServer, RecordedRequest};

#[derive(Debug)]
struct Vars(HashMap<String, String>);

impl Environment for Vars {
    fn var(&self, name: &str) -> Option<String> {
        self.0.get(name).cloned()
    }

    fn read_file(&self, _path: &Path) -> Option<String> {
        None
    }
}

fn vars(pairs: &[(&str, &str)]) -> Vars {
    Vars(pairs.iter().map(|(name, value)| ((*name).to_owned(), (*value).to_owned())).collect())
}

fn http() -> HttpClient {
    HttpClient::new(HttpConfig {
        retry: RetryPolicy {
            max_attempts: 2,
            initial_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(2),
            max_retry_after: Duration::from_secs(1),
        },
        ..HttpConfig::default()
    })
    .unwrap_or_else(|error| panic!("{error}"))
}

fn azure(pairs: &[(&str, &str)]) -> AzureOpenAI {
    let config = AzureOpenAIConfig::from_environment(&vars(pairs)).unwrap_or_else(|error| panic!("{error}"));
    AzureOpenAI::new(config, http())
}

fn hello(model: &str) -> ChatCompletionRequest {
    ChatCompletionRequest {
        model: model.to_owned(),
        messages: vec![ChatCompletionMessage::new_text("user", "Hello")],
        ..Default::default()
    }
}

fn completion(model: &str) -> MockResponse {
    MockResponse::json(
        200,
        json!({
            "id": "chatcmpl-azure", "object": "chat.completion", "created": 1_714_564_800, "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi from Azure"},
                         "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}
        }),
    )
}

fn stream_answer() -> MockResponse {
    MockResponse::sse([
        r#"data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{"role":"assistant","content":"Hi"},"finish_reason":null}]}"#.to_owned() + "\n\n",
        r#"data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{"content":" there"},"finish_reason":"stop"}]}"#.to_owned() + "\n\n",
        r#"data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}}"#.to_owned() + "\n\n",
        "data: [DONE]\n\n".to_owned(),
    ])
}

fn embeddings_answer() -> MockResponse {
    MockResponse::json(
        200,
        json!({"object": "list", "data": [{"object": "embedding", "index": 0, "embedding": [0.25, -0.5]}],
               "model": "text-embedding-3-small", "usage": {"prompt_tokens": 2, "total_tokens": 2}}),
    )
}

fn responses_answer() -> MockResponse {
    MockResponse::json(
        200,
        json!({"id": "resp_1", "object": "response", "created_at": 1_714_564_800, "status": "completed",
               "model": "gpt-4o", "output": [{"type": "message", "id": "msg_1", "role": "assistant",
               "status": "completed", "content": [{"type": "output_text", "text": "Hi", "annotations": []}]}],
               "usage": {"input_tokens": 3, "output_tokens": 1, "total_tokens": 4}}),
    )
}

fn responses_request(model: &str) -> ResponsesRequest {
    serde_json::from_value(json!({"model": model, "input": "Hello"}))
        .unwrap_or_else(|error| panic!("{error}"))
}

async fn chat_text(azure: &AzureOpenAI, model: &str) -> String {
    let answer = azure.model(model).complete(&hello(model), &CallOptions::default()).await;
    let answer = answer.unwrap_or_else(|error| panic!("{error}"));
    answer
        .message()
        .content
        .as_ref()
        .map(|content| content.as_string())
        .unwrap_or_default()
        .unwrap_or_default()
}

#[tokio::test]
async fn the_deployments_api_with_a_key_serves_chat_streams_embeddings_images_and_responses() {
    let server = MockServer::start().await;
    server.respond("POST", "/openai/deployments/prod-gpt-4o/chat/completions", completion("gpt-4o"));
    server.respond("POST", "/openai/deployments/prod-gpt-4o/chat/completions", stream_answer());
    server.respond("POST", "/openai/deployments/text-embedding-3-small/embeddings", embeddings_answer());
    server.respond(
        "POST",
        "/openai/deployments/images/images/generations",
        MockResponse::json(
            200,
            json!({"created": 1_714_564_800, "data": [{"url": "https://img.example/1.png"}]}),
        ),
    );
    server.respond("POST", "/openai/v1/responses", responses_answer());
    let azure = azure(&[
        ("AZURE_OPENAI_ENDPOINT", &format!("{}/", server.url())),
        ("AZURE_OPENAI_API_KEY", "azure-resource-key"),
        ("VLLORA_AZURE_DEPLOYMENTS", "gpt-4o=prod-gpt-4o, gpt-image-1=images"),
    ]);

    assert_eq!(chat_text(&azure, "gpt-4o").await, "Hi from Azure");
    let stream = azure.model("gpt-4o").stream(&hello("gpt-4o"), &CallOptions::default()).await;
    let mut stream = stream.unwrap_or_else(|error| panic!("{error}"));
    let mut text = String::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.unwrap_or_else(|error| panic!("{error}"));
        text.extend(chunk.choices.iter().filter_map(|choice| choice.delta.content.clone()));
    }
    assert_eq!(text, "Hi there");
    let embeddings = azure
        .model("text-embedding-3-small")
        .embed(&EmbeddingRequest::new("text-embedding-3-small", vec!["Paris"]), &CallOptions::default())
        .await;
    assert!(embeddings.is_ok(), "{embeddings:?}");
    let images = azure
        .model("gpt-image-1")
        .generate_images(&ImageGenerationRequest::new("gpt-image-1", "A lighthouse"), &CallOptions::default())
        .await;
    assert!(images.is_ok(), "{images:?}");
    let response = azure
        .responses("gpt-4o")
        .create_response(&responses_request("gpt-4o"), &CallOptions::default())
        .await;
    assert!(response.is_ok(), "{response:?}");

    let requests = server.requests();
    let seen: Vec<(String, Option<String>, Value)> = requests
        .iter()
        .map(|request| (request.path.clone(), request.query.clone(), request.json()["model"].clone()))
        .collect();
    let version = Some("api-version=2024-10-21".to_owned());
    assert_eq!(
        seen,
        vec![
            (
                "/openai/deployments/prod-gpt-4o/chat/completions".to_owned(),
                version.clone(),
                json!("prod-gpt-4o")
            ),
            (
                "/openai/deployments/prod-gpt-4o/chat/completions".to_owned(),
                version.clone(),
                json!("prod-gpt-4o")
            ),
            (
                "/openai/deployments/text-embedding-3-small/embeddings".to_owned(),
                version.clone(),
                json!("text-embedding-3-small")
            ),
            ("/openai/deployments/images/images/generations".to_owned(), version, json!("images")),
            ("/openai/v1/responses".to_owned(), None, json!("prod-gpt-4o")),
        ]
    );
    for request in &requests {
        assert_eq!(request.header("api-key"), Some("azure-resource-key"), "{}", request.path);
        assert_eq!(request.header("authorization"), None);
    }
    assert_eq!(requests[1].json()["stream"], json!(true));
}

#[tokio::test]
async fn the_v1_api_puts_the_deployment_in_the_body() {
    let server = MockServer::start().await;
    server.respond("POST", "/openai/v1/chat/completions", completion("gpt-4.1"));
    server.respond("POST", "/openai/v1/embeddings", embeddings_answer());
    let azure = azure(&[
        ("AZURE_OPENAI_ENDPOINT", &server.url()),
        ("AZURE_OPENAI_API_KEY", "k"),
        ("AZURE_OPENAI_API_VERSION", "v1"),
        ("VLLORA_AZURE_DEPLOYMENTS", "gpt-4.1=my-gpt41"),
    ]);
    assert_eq!(chat_text(&azure, "gpt-4.1").await, "Hi from Azure");
    let embeddings =
        azure.model("emb").embed(&EmbeddingRequest::new("emb", vec!["x"]), &CallOptions::default()).await;
    assert!(embeddings.is_ok(), "{embeddings:?}");
    let requests = server.requests();
    assert_eq!(
        (requests[0].path.as_str(), requests[0].query.as_deref()),
        ("/openai/v1/chat/completions", None)
    );
    assert_eq!(requests[0].json()["model"], "my-gpt41");
    assert_eq!(
        (requests[1].path.as_str(), requests[1].json()["model"].clone()),
        ("/openai/v1/embeddings", json!("emb"))
    );
}

fn token_json(token: &str, expires_in: u64) -> MockResponse {
    MockResponse::json(
        200,
        json!({"token_type": "Bearer", "expires_in": expires_in, "ext_expires_in": expires_in, "access_token": token}),
    )
}

fn form(request: &RecordedRequest) -> HashMap<String, String> {
    String::from_utf8_lossy(&request.body)
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(name, value)| {
            (name.to_owned(), value.replace("%3A", ":").replace("%2F", "/").replace("%2E", "."))
        })
        .collect()
}

async fn chat_concurrently(azure: &AzureOpenAI, calls: usize) {
    let tasks: Vec<_> = (0..calls)
        .map(|_| {
            let model = azure.model("gpt-4o");
            tokio::spawn(async move {
                model.complete(&hello("gpt-4o"), &CallOptions::default()).await.map(|_| ())
            })
        })
        .collect();
    for task in tasks {
        match task.await {
            Ok(Ok(())) => {}
            other => panic!("{other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_client_secret_is_exchanged_once_for_concurrent_calls() {
    let entra = MockServer::start().await;
    entra.respond("POST", "/contoso-tenant/oauth2/v2.0/token", token_json("entra-token-1", 3599));
    let server = MockServer::start().await;
    server.respond_always("POST", "/openai/deployments/gpt-4o/chat/completions", completion("gpt-4o"));
    let azure = azure(&[
        ("AZURE_OPENAI_ENDPOINT", &server.url()),
        ("AZURE_TENANT_ID", "contoso-tenant"),
        ("AZURE_CLIENT_ID", "app-client-id"),
        ("AZURE_CLIENT_SECRET", "very-secret~value"),
        ("AZURE_AUTHORITY_HOST", &entra.url()),
    ]);
    chat_concurrently(&azure, 16).await;

    let exchanges = entra.requests();
    assert_eq!(exchanges.len(), 1, "one token for 16 concurrent calls");
    assert_eq!(exchanges[0].header("content-type"), Some("application/x-www-form-urlencoded"));
    let fields = form(&exchanges[0]);
    assert_eq!(fields.get("grant_type").map(String::as_str), Some("client_credentials"));
    assert_eq!(fields.get("client_id").map(String::as_str), Some("app-client-id"));
    assert_eq!(fields.get("client_secret").map(String::as_str), Some("very-secret~value"));
    assert_eq!(fields.get("scope").map(String::as_str), Some("https://cognitiveservices.azure.com/.default"));
    let calls = server.requests();
    assert_eq!(calls.len(), 16);
    for call in &calls {
        assert_eq!(call.header("authorization"), Some("Bearer entra-token-1"));
        assert_eq!(call.header("api-key"), None);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn managed_identity_tokens_are_refreshed_before_they_expire() {
    let now =
        SystemTime::now().duration_since(UNIX_EPOCH).map(|elapsed| elapsed.as_secs()).unwrap_or_default();
    let imds = MockServer::start().await;
    let token_path = "/metadata/identity/oauth2/token";
    // The first token has two minutes left: inside the five-minute refresh window, still valid.
    imds.respond(
        "GET",
        token_path,
        MockResponse::json(200, json!({"access_token": "mi-token-1", "expires_in": "120",
            "expires_on": (now + 120).to_string(), "resource": "https://cognitiveservices.azure.com", "token_type": "Bearer"})),
    );
    imds.respond(
        "GET",
        token_path,
        MockResponse::json(200, json!({"access_token": "mi-token-2", "expires_in": "86399",
            "expires_on": (now + 86_399).to_string(), "resource": "https://cognitiveservices.azure.com", "token_type": "Bearer"})),
    );
    let server = MockServer::start().await;
    server.respond_always("POST", "/openai/deployments/gpt-4o/chat/completions", completion("gpt-4o"));
    let azure = azure(&[
        ("AZURE_OPENAI_ENDPOINT", &server.url()),
        ("AZURE_CLIENT_ID", "user-assigned-client"),
        ("AZURE_POD_IDENTITY_AUTHORITY_HOST", &imds.url()),
    ]);
    chat_concurrently(&azure, 1).await;
    chat_concurrently(&azure, 12).await;
    chat_concurrently(&azure, 4).await;

    let asked = imds.requests();
    assert_eq!(asked.len(), 2, "the first token, then one refresh for 12 concurrent calls");
    for request in &asked {
        assert_eq!(request.header("metadata"), Some("true"));
        assert_eq!(
            request.query.as_deref(),
            Some(
                "api-version=2018-02-01&resource=https%3A%2F%2Fcognitiveservices.azure.com&client_id=user-assigned-client"
            )
        );
    }
    let tokens: Vec<_> =
        server.requests().iter().map(|call| call.header("authorization").map(str::to_owned)).collect();
    assert_eq!(tokens[0].as_deref(), Some("Bearer mi-token-1"));
    assert!(tokens[1..].iter().all(|token| token.as_deref() == Some("Bearer mi-token-2")), "{tokens:?}");
}

#[tokio::test]
async fn app_service_managed_identity_sends_the_identity_header() {
    let identity = MockServer::start().await;
    identity.respond(
        "GET",
        "/msi/token",
        MockResponse::json(
            200,
            json!({"access_token": "app-token", "expires_on": "4102444800",
            "resource": "https://cognitiveservices.azure.com", "token_type": "Bearer", "client_id": "x"}),
        ),
    );
    let server = MockServer::start().await;
    server.respond_always("POST", "/openai/deployments/gpt-4o/chat/completions", completion("gpt-4o"));
    let azure = azure(&[
        ("AZURE_OPENAI_ENDPOINT", &server.url()),
        ("IDENTITY_ENDPOINT", &format!("{}/msi/token", identity.url())),
        ("IDENTITY_HEADER", "identity-header-secret"),
    ]);
    chat_concurrently(&azure, 2).await;
    let asked = identity.requests();
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0].header("x-identity-header"), Some("identity-header-secret"));
    assert_eq!(
        asked[0].query.as_deref(),
        Some("api-version=2019-08-01&resource=https%3A%2F%2Fcognitiveservices.azure.com")
    );
    assert!(server.requests().iter().all(|call| call.header("authorization") == Some("Bearer app-token")));
}

#[tokio::test]
async fn a_refused_secret_and_an_unreachable_identity_are_clear_errors() {
    let entra = MockServer::start().await;
    entra.respond_always(
        "POST",
        "/contoso/oauth2/v2.0/token",
        MockResponse::json(
            401,
            json!({"error": "invalid_client",
            "error_description": "AADSTS7000215: Invalid client secret provided.", "error_codes": [7000215]}),
        ),
    );
    let server = MockServer::start().await;
    let denied = azure(&[
        ("AZURE_OPENAI_ENDPOINT", &server.url()),
        ("AZURE_TENANT_ID", "contoso"),
        ("AZURE_CLIENT_ID", "app-id"),
        ("AZURE_CLIENT_SECRET", "wrong-secret-value"),
        ("AZURE_AUTHORITY_HOST", &entra.url()),
    ]);
    let error = denied.model("gpt-4o").complete(&hello("gpt-4o"), &CallOptions::default()).await.err();
    let Some(LLMError::MissingCredentials { provider, hint }) = &error else { panic!("{error:?}") };
    assert_eq!(provider, "azure.ai.openai");
    for expected in ["client secret of `app-id`", "/contoso/oauth2/v2.0/token", "AADSTS7000215"] {
        assert!(hint.contains(expected), "{expected} in {hint}");
    }
    assert!(!hint.contains("wrong-secret-value"));
    assert!(server.requests().is_empty(), "nothing reaches Azure without a token");

    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .unwrap_or_else(|error| panic!("{error}"));
    let unreachable = azure(&[
        ("AZURE_OPENAI_ENDPOINT", &server.url()),
        ("AZURE_POD_IDENTITY_AUTHORITY_HOST", &format!("http://127.0.0.1:{closed}")),
    ]);
    let error = unreachable.model("gpt-4o").complete(&hello("gpt-4o"), &CallOptions::default()).await.err();
    let Some(LLMError::MissingCredentials { hint, .. }) = &error else { panic!("{error:?}") };
    assert!(
        hint.contains("managed identity token from the instance metadata service at http://127.0.0.1"),
        "{hint}"
    );

    let half = AzureOpenAIConfig::from_environment(&vars(&[
        ("AZURE_OPENAI_ENDPOINT", "https://r.openai.azure.com"),
        ("AZURE_CLIENT_SECRET", "s"),
        ("AZURE_CLIENT_ID", "c"),
    ]));
    assert!(half.err().is_some_and(|error| error.to_string().contains("AZURE_TENANT_ID is")));
    let none = AzureOpenAIConfig::from_environment(&vars(&[]));
    assert!(none.err().is_some_and(|error| error.to_string().contains("AZURE_OPENAI_ENDPOINT")));
}

#[tokio::test]
async fn a_token_azure_refuses_is_fetched_again() {
    let entra = MockServer::start().await;
    entra.respond("POST", "/t/oauth2/v2.0/token", token_json("revoked-token", 3599));
    entra.respond("POST", "/t/oauth2/v2.0/token", token_json("fresh-token", 3599));
    let server = MockServer::start().await;
    server.respond(
        "POST",
        "/openai/deployments/gpt-4o/chat/completions",
        MockResponse::json(
            401,
            json!({"error": {"code": "401", "message": "Access denied due to invalid token"}}),
        ),
    );
    server.respond_always("POST", "/openai/deployments/gpt-4o/chat/completions", completion("gpt-4o"));
    let azure = azure(&[
        ("AZURE_OPENAI_ENDPOINT", &server.url()),
        ("AZURE_TENANT_ID", "t"),
        ("AZURE_CLIENT_ID", "c"),
        ("AZURE_CLIENT_SECRET", "s"),
        ("AZURE_AUTHORITY_HOST", &entra.url()),
    ]);
    let first = azure.model("gpt-4o").complete(&hello("gpt-4o"), &CallOptions::default()).await;
    assert_eq!(first.err().and_then(|error| error.status()), Some(401));
    chat_concurrently(&azure, 1).await;
    let tokens: Vec<_> =
        server.requests().iter().map(|call| call.header("authorization").map(str::to_owned)).collect();
    assert_eq!(tokens, [Some("Bearer revoked-token".to_owned()), Some("Bearer fresh-token".to_owned())]);
}

#[test]
fn debug_shows_no_secret() {
    let config = AzureOpenAIConfig::from_environment(&vars(&[
        ("AZURE_OPENAI_ENDPOINT", "https://r.openai.azure.com"),
        ("AZURE_TENANT_ID", "t"),
        ("AZURE_CLIENT_ID", "c"),
        ("AZURE_CLIENT_SECRET", "client-secret-value"),
        ("IDENTITY_ENDPOINT", "http://localhost:42/msi"),
        ("IDENTITY_HEADER", "identity-header-value"),
    ]))
    .unwrap_or_else(|error| panic!("{error}"));
    let azure = AzureOpenAI::new(config.clone(), http());
    let shown = format!("{config:?} {azure:?} {:?}", azure.model("gpt-4o"));
    assert!(!shown.contains("client-secret-value") && !shown.contains("identity-header-value"), "{shown}");
}
