//! Google credentials against loopback servers speaking the documented wire formats: the OAuth token
//! endpoint (service account JWT bearer grant, refresh token grant) and the metadata server, with
//! caching, refresh before expiry, concurrent callers, denied and unreachable sources.

#![allow(clippy::panic, reason = "a test fails by panicking, helpers included")]

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use ring::signature::{RSA_PKCS1_2048_8192_SHA256, RsaKeyPair, UnparsedPublicKey};
use rustls_pki_types::PrivatePkcs8KeyDer;
use rustls_pki_types::pem::PemObject;
use serde_json::{Value, json};
use vllora_llm_core::{Environment, LLMError};
use vllora_llm_http::{HttpClient, HttpConfig, RetryPolicy};
use vllora_llm_testkit::{MockResponse, MockServer, RecordedRequest};
use vllora_llm_vertex::{GoogleAuth, GoogleCredentials, VertexConfig};

const KEY_PEM: &str = include_str!("fixtures/service_account_key.pem");

fn http() -> HttpClient {
    let config = HttpConfig {
        retry: RetryPolicy { max_attempts: 1, ..RetryPolicy::default() },
        ..HttpConfig::default()
    };
    HttpClient::new(config).unwrap_or_else(|error| panic!("client: {error}"))
}

fn service_account_json(token_uri: &str) -> String {
    json!({
        "type": "service_account",
        "project_id": "test-project",
        "private_key_id": "key-id-1",
        "private_key": KEY_PEM,
        "client_email": "runner@test-project.iam.gserviceaccount.com",
        "client_id": "1234",
        "token_uri": token_uri,
    })
    .to_string()
}

fn token(value: &str, expires_in: u64) -> MockResponse {
    MockResponse::json(200, json!({"access_token": value, "expires_in": expires_in, "token_type": "Bearer"}))
}

fn form(request: &RecordedRequest) -> HashMap<String, String> {
    String::from_utf8_lossy(&request.body)
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(name, value)| (decode_percent(name), decode_percent(value)))
        .collect()
}

fn decode_percent(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%' && index + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[index + 1..index + 3]).unwrap_or("00");
            out.push(u8::from_str_radix(hex, 16).unwrap_or(0));
            index += 3;
        } else {
            out.push(if bytes[index] == b'+' { b' ' } else { bytes[index] });
            index += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn base64url_decode(text: &str) -> Vec<u8> {
    let value = |symbol: u8| -> u32 {
        match symbol {
            b'A'..=b'Z' => u32::from(symbol - b'A'),
            b'a'..=b'z' => u32::from(symbol - b'a') + 26,
            b'0'..=b'9' => u32::from(symbol - b'0') + 52,
            b'-' => 62,
            b'_' => 63,
            other => panic!("not base64url: {other}"),
        }
    };
    let mut out = Vec::new();
    for group in text.as_bytes().chunks(4) {
        let mut bits = 0u32;
        for (position, symbol) in group.iter().enumerate() {
            bits |= value(*symbol) << (18 - 6 * position);
        }
        let bytes = bits.to_be_bytes();
        out.extend_from_slice(&bytes[1..group.len()]);
    }
    out
}

#[tokio::test]
async fn a_service_account_signs_an_rs256_assertion_for_its_token_uri_and_the_token_is_cached() {
    let server = MockServer::start().await;
    server.respond("POST", "/token", token("ya29.service-account", 3599));
    let token_uri = format!("{}/token", server.url());
    let credentials = GoogleCredentials::from_json(&service_account_json(&token_uri), "test")
        .unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(credentials.project(), Some("test-project"));
    let auth = GoogleAuth::new(credentials);
    let client = http();
    for _ in 0..3 {
        let token = auth.token(&client).await.unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(token.expose(), "ya29.service-account");
    }
    let requests = server.requests();
    assert_eq!(requests.len(), 1, "one exchange for three calls");
    assert_eq!(auth.exchanges(), 1);
    let request = &requests[0];
    assert_eq!(request.header("content-type"), Some("application/x-www-form-urlencoded"));
    let fields = form(request);
    assert_eq!(
        fields.get("grant_type").map(String::as_str),
        Some("urn:ietf:params:oauth:grant-type:jwt-bearer")
    );
    let assertion = fields.get("assertion").cloned().unwrap_or_default();
    let pieces: Vec<&str> = assertion.split('.').collect();
    assert_eq!(pieces.len(), 3, "{assertion}");
    let header: Value = serde_json::from_slice(&base64url_decode(pieces[0])).unwrap_or_default();
    assert_eq!(header, json!({"alg": "RS256", "typ": "JWT", "kid": "key-id-1"}));
    let claims: Value = serde_json::from_slice(&base64url_decode(pieces[1])).unwrap_or_default();
    assert_eq!(claims["iss"], "runner@test-project.iam.gserviceaccount.com");
    assert_eq!(claims["aud"], token_uri.as_str());
    assert_eq!(claims["scope"], "https://www.googleapis.com/auth/cloud-platform");
    let issued = claims["iat"].as_u64().unwrap_or_default();
    assert_eq!(claims["exp"].as_u64(), Some(issued + 3600));
    // The signature verifies with the key's public half.
    let der =
        PrivatePkcs8KeyDer::from_pem_slice(KEY_PEM.as_bytes()).unwrap_or_else(|error| panic!("{error}"));
    let pair = RsaKeyPair::from_pkcs8(der.secret_pkcs8_der()).unwrap_or_else(|error| panic!("{error}"));
    let public = UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, pair.public().as_ref());
    let signed = format!("{}.{}", pieces[0], pieces[1]);
    assert!(public.verify(signed.as_bytes(), &base64url_decode(pieces[2])).is_ok(), "RS256 signature");
    assert!(!format!("{auth:?}").contains("PRIVATE KEY"));
}

#[tokio::test]
async fn concurrent_callers_share_one_refresh_and_tokens_are_refreshed_before_they_expire() {
    let server = MockServer::start().await;
    // The first token has a minute left: valid, but inside the refresh margin.
    server.respond("POST", "/token", token("ya29.first", 60));
    server.respond("POST", "/token", token("ya29.second", 3600).delay_first_byte(Duration::from_millis(200)));
    let token_uri = format!("{}/token", server.url());
    let auth = GoogleAuth::new(
        GoogleCredentials::from_json(&service_account_json(&token_uri), "test")
            .unwrap_or_else(|error| panic!("{error}")),
    );
    let client = http();
    let first = auth.token(&client).await.unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(first.expose(), "ya29.first");
    let calls: Vec<_> = (0..32)
        .map(|_| {
            let auth = auth.clone();
            let client = client.clone();
            tokio::spawn(async move { auth.token(&client).await.map(|token| token.expose().to_owned()) })
        })
        .collect();
    for call in calls {
        let token =
            call.await.unwrap_or_else(|error| panic!("{error}")).unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(token, "ya29.second");
    }
    assert_eq!(server.requests().len(), 2, "one refresh for 32 concurrent callers");
    assert_eq!(auth.exchanges(), 2);
}

#[tokio::test]
async fn a_failed_refresh_keeps_a_valid_token_but_an_expired_one_is_an_error() {
    let server = MockServer::start().await;
    server.respond("POST", "/token", token("ya29.short", 60));
    server.respond_always(
        "POST",
        "/token",
        MockResponse::json(503, json!({"error": "temporarily_unavailable"})),
    );
    let token_uri = format!("{}/token", server.url());
    let auth = GoogleAuth::new(
        GoogleCredentials::from_json(&service_account_json(&token_uri), "test")
            .unwrap_or_else(|error| panic!("{error}")),
    );
    let client = http();
    assert!(auth.token(&client).await.is_ok_and(|token| token.expose() == "ya29.short"));
    let kept = auth.token(&client).await.unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(kept.expose(), "ya29.short", "still valid for a minute");

    let expired = MockServer::start().await;
    expired.respond("POST", "/token", token("ya29.gone", 5));
    expired.respond_always(
        "POST",
        "/token",
        MockResponse::json(503, json!({"error": "temporarily_unavailable"})),
    );
    let auth = GoogleAuth::new(
        GoogleCredentials::from_json(&service_account_json(&format!("{}/token", expired.url())), "test")
            .unwrap_or_else(|error| panic!("{error}")),
    );
    assert!(auth.token(&client).await.is_ok());
    let error = auth.token(&client).await.err().map(|error| error.to_string()).unwrap_or_default();
    assert!(error.contains("HTTP 503") && error.contains("temporarily_unavailable"), "{error}");
}

#[tokio::test]
async fn a_denied_exchange_names_the_account_and_endpoint_and_no_secret() {
    let server = MockServer::start().await;
    server.respond(
        "POST",
        "/token",
        MockResponse::json(
            400,
            json!({"error": "invalid_grant", "error_description": "Invalid JWT Signature."}),
        ),
    );
    let token_uri = format!("{}/token", server.url());
    let auth = GoogleAuth::new(
        GoogleCredentials::from_json(
            &service_account_json(&token_uri),
            "GOOGLE_APPLICATION_CREDENTIALS=/keys/sa.json",
        )
        .unwrap_or_else(|error| panic!("{error}")),
    );
    let Err(error) = auth.token(&http()).await else { panic!("denied") };
    let message = error.to_string();
    for expected in [
        "runner@test-project.iam.gserviceaccount.com",
        "/keys/sa.json",
        &token_uri,
        "invalid_grant",
        "Invalid JWT Signature.",
    ] {
        assert!(message.contains(expected), "{expected} in {message}");
    }
    assert!(!message.contains("PRIVATE KEY"));
    assert_eq!(error.status(), Some(400));
}

#[tokio::test]
async fn an_authorized_user_exchanges_its_refresh_token_and_bills_its_quota_project() {
    let server = MockServer::start().await;
    server.respond("POST", "/token", token("ya29.user", 3600));
    let file = json!({
        "type": "authorized_user",
        "client_id": "client-1.apps.googleusercontent.com",
        "client_secret": "d-secret",
        "refresh_token": "1//refresh+token/x",
        "quota_project_id": "billing-project",
        "token_uri": format!("{}/token", server.url()),
    })
    .to_string();
    let credentials = GoogleCredentials::from_json(&file, "gcloud").unwrap_or_else(|error| panic!("{error}"));
    assert!(
        !format!("{credentials:?}").contains("d-secret")
            && !format!("{credentials:?}").contains("1//refresh")
    );
    let config = VertexConfig::new(credentials).with_location("us-central1");
    assert_eq!(config.project(), Some("billing-project"));
    let target = config.target(&http()).await.unwrap_or_else(|error| panic!("{error}"));
    let fields = form(&server.requests()[0]);
    assert_eq!(fields.get("grant_type").map(String::as_str), Some("refresh_token"));
    assert_eq!(fields.get("client_id").map(String::as_str), Some("client-1.apps.googleusercontent.com"));
    assert_eq!(fields.get("client_secret").map(String::as_str), Some("d-secret"));
    assert_eq!(fields.get("refresh_token").map(String::as_str), Some("1//refresh+token/x"));
    let request = target
        .authorize(vllora_llm_http::HttpRequest::post_json("http://x", Vec::new()))
        .unwrap_or_else(|error| panic!("{error}"));
    let header =
        |name: &str| request.headers.get(name).and_then(|value| value.to_str().ok()).map(str::to_owned);
    assert_eq!(header("authorization").as_deref(), Some("Bearer ya29.user"));
    assert_eq!(header("x-goog-user-project").as_deref(), Some("billing-project"));
    assert!(!format!("{target:?}").contains("ya29.user"));
}

/// Variables and files from maps, as a gateway's own store would serve them.
#[derive(Debug, Default)]
struct Store {
    variables: HashMap<String, String>,
    files: HashMap<String, String>,
}

impl Environment for Store {
    fn var(&self, name: &str) -> Option<String> {
        self.variables.get(name).cloned()
    }

    fn read_file(&self, path: &Path) -> Option<String> {
        self.files.get(&path.display().to_string()).cloned()
    }
}

#[tokio::test]
async fn the_metadata_server_is_asked_with_its_flavor_for_the_token_and_the_project() {
    let server = MockServer::start().await;
    let flavored = |response: MockResponse| response.header("Metadata-Flavor", "Google");
    server.respond(
        "GET",
        "/computeMetadata/v1/instance/service-accounts/default/token",
        flavored(token("ya29.metadata", 3599)),
    );
    server.respond(
        "GET",
        "/computeMetadata/v1/project/project-id",
        flavored(MockResponse::body(200, "application/text", "gce-project")),
    );
    let mut store = Store::default();
    store.variables.insert("GCE_METADATA_HOST".into(), server.address().to_string());
    store.variables.insert("HOME".into(), "/home/runner".into());
    let config = VertexConfig::from_environment(&store).unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(config.project(), None);
    let target = config.target(&http()).await.unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(
        target.publisher_model_url("google", "gemini-2.5-flash", "generateContent").ok().as_deref(),
        Some(
            "https://aiplatform.googleapis.com/v1/projects/gce-project/locations/global/publishers/google/models/gemini-2.5-flash:generateContent"
        )
    );
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert!(requests.iter().all(|request| request.header("metadata-flavor") == Some("Google")));

    // A server that is not Google's metadata server (no flavor header) is refused.
    let impostor = MockServer::start().await;
    impostor.respond(
        "GET",
        "/computeMetadata/v1/instance/service-accounts/default/token",
        token("ya29.x", 3599),
    );
    let auth = GoogleAuth::new(GoogleCredentials::metadata_server(impostor.url()));
    let error = auth.token(&http()).await.err().map(|error| error.to_string()).unwrap_or_default();
    assert!(error.contains("Metadata-Flavor"), "{error}");
}

#[tokio::test]
async fn no_reachable_source_is_an_error_naming_everything_tried() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|error| panic!("{error}"));
    let address = closed.local_addr().unwrap_or_else(|error| panic!("{error}"));
    drop(closed);
    let mut store = Store::default();
    store.variables.insert("GCE_METADATA_HOST".into(), address.to_string());
    store.variables.insert("HOME".into(), "/home/runner".into());
    store.variables.insert("VLLORA_VERTEX_PROJECT".into(), "p".into());
    let config = VertexConfig::from_environment(&store).unwrap_or_else(|error| panic!("{error}"));
    let Err(error) = config.target(&http()).await else { panic!("nothing answers") };
    assert!(matches!(error, LLMError::MissingCredentials { .. }), "{error:?}");
    let message = error.to_string();
    for expected in [
        "GOOGLE_APPLICATION_CREDENTIALS is not set",
        "/home/runner/.config/gcloud/application_default_credentials.json does not exist",
        &format!("the metadata server at http://{address} could not be reached"),
    ] {
        assert!(message.contains(expected), "{expected} in {message}");
    }
}

#[tokio::test]
async fn application_credentials_are_read_through_the_environment() {
    let server = MockServer::start().await;
    server.respond("POST", "/token", token("ya29.from-file", 3600));
    let mut store = Store::default();
    store.variables.insert("GOOGLE_APPLICATION_CREDENTIALS".into(), "/keys/sa.json".into());
    store.variables.insert("GOOGLE_CLOUD_LOCATION".into(), "europe-west4".into());
    store.files.insert("/keys/sa.json".into(), service_account_json(&format!("{}/token", server.url())));
    let config = VertexConfig::from_environment(&store).unwrap_or_else(|error| panic!("{error}"));
    assert_eq!((config.project(), config.location()), (Some("test-project"), "europe-west4"));
    let target = config.target(&http()).await.unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(
        target.publisher_model_url("anthropic", "claude-sonnet-4-5@20250929", "rawPredict").ok().as_deref(),
        Some(
            "https://europe-west4-aiplatform.googleapis.com/v1/projects/test-project/locations/europe-west4/publishers/anthropic/models/claude-sonnet-4-5@20250929:rawPredict"
        )
    );

    let mut missing = Store::default();
    missing.variables.insert("GOOGLE_APPLICATION_CREDENTIALS".into(), "/keys/absent.json".into());
    let error =
        VertexConfig::from_environment(&missing).err().map(|error| error.to_string()).unwrap_or_default();
    assert!(error.contains("/keys/absent.json"), "{error}");
}
