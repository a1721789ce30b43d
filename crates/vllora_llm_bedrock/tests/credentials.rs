//! The AWS credential chain against loopback servers speaking each source's documented wire format:
//! IMDSv2 (PUT token, `X-aws-ec2-metadata-token`), ECS/EKS container credentials (JSON, authorization
//! token), STS AssumeRole and AssumeRoleWithWebIdentity (form POST, XML answer), `credential_process`
//! (a real shell command). Each test asserts the exact requests the source received, that Bedrock's
//! request is signed with the keys it gave, caching and refresh under concurrent calls, and errors that
//! name what was tried.
#![allow(clippy::panic, reason = "a test fails by panicking, helpers included")]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::json;
use vllora_llm_bedrock::{BedrockConfig, BedrockModel};
use vllora_llm_core::types::gateway::{ChatCompletionMessage, ChatCompletionRequest};
use vllora_llm_core::{CallOptions, Environment, LLMError, ModelInstance};
use vllora_llm_http::{HttpClient, HttpConfig, RetryPolicy};
use vllora_llm_testkit::{MockResponse, MockServer, RecordedRequest};

/// 2024-05-01T12:00:00Z.
const START: u64 = 1_714_564_800;
const MODEL_PATH: &str = "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse";
const MODEL: &str = "anthropic.claude-3-haiku-20240307-v1:0";
const ROLE_ARN: &str = "arn:aws:iam::123456789012:role/bedrock-caller";

/// Variables and files, changeable while a model uses them (token files rotate).
#[derive(Debug, Default)]
struct TestEnv {
    vars: HashMap<String, String>,
    files: Mutex<HashMap<PathBuf, String>>,
}

impl TestEnv {
    fn new(vars: &[(&str, &str)]) -> Self {
        let vars = vars.iter().map(|(name, value)| ((*name).to_owned(), (*value).to_owned())).collect();
        TestEnv { vars, files: Mutex::default() }
    }

    fn with_file(self, path: &str, text: &str) -> Self {
        self.write(path, text);
        self
    }

    fn write(&self, path: &str, text: &str) {
        if let Ok(mut files) = self.files.lock() {
            files.insert(PathBuf::from(path), text.to_owned());
        }
    }
}

impl Environment for TestEnv {
    fn var(&self, name: &str) -> Option<String> {
        self.vars.get(name).cloned()
    }

    fn read_file(&self, path: &Path) -> Option<String> {
        self.files.lock().ok()?.get(path).cloned()
    }
}

/// A clock the test moves.
#[derive(Clone)]
struct TestClock(Arc<AtomicU64>);

impl TestClock {
    fn new() -> Self {
        TestClock(Arc::new(AtomicU64::new(START)))
    }

    fn now(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(self.0.load(Ordering::SeqCst))
    }

    fn advance(&self, seconds: u64) {
        self.0.fetch_add(seconds, Ordering::SeqCst);
    }
}

/// RFC 3339 of `START + seconds`.
fn at(seconds: u64) -> String {
    // Only hours and minutes past 12:00 on 2024-05-01 are needed here.
    let total = 12 * 3600 + seconds;
    format!("2024-05-01T{:02}:{:02}:{:02}Z", total / 3600, (total / 60) % 60, total % 60)
}

fn http() -> HttpClient {
    let config = HttpConfig {
        retry: RetryPolicy {
            max_attempts: 2,
            initial_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(2),
            max_retry_after: Duration::from_secs(1),
        },
        ..HttpConfig::default()
    };
    HttpClient::new(config).unwrap_or_else(|error| panic!("{error}"))
}

fn converse_answer() -> MockResponse {
    MockResponse::json(
        200,
        json!({
            "output": {"message": {"role": "assistant", "content": [{"text": "hi"}]}},
            "stopReason": "end_turn",
            "usage": {"inputTokens": 3, "outputTokens": 1, "totalTokens": 4}
        }),
    )
}

async fn bedrock() -> MockServer {
    let server = MockServer::start().await;
    server.respond_always("POST", MODEL_PATH, converse_answer());
    server
}

fn model(env: Arc<TestEnv>, bedrock: &MockServer, clock: &TestClock) -> BedrockModel {
    let config = BedrockConfig::from_shared_environment(env).unwrap_or_else(|error| panic!("{error}"));
    let clock = clock.clone();
    BedrockModel::new(config.with_base_url(bedrock.url()).with_clock(move || clock.now()), http())
}

fn hello() -> ChatCompletionRequest {
    ChatCompletionRequest {
        model: MODEL.to_owned(),
        messages: vec![ChatCompletionMessage::new_text("user", "Hello")],
        ..Default::default()
    }
}

/// `calls` concurrent one-shot calls, all successful.
async fn call_concurrently(model: &BedrockModel, calls: usize) {
    let tasks: Vec<_> = (0..calls)
        .map(|_| {
            let model = model.clone();
            tokio::spawn(async move { model.complete(&hello(), &CallOptions::default()).await.map(|_| ()) })
        })
        .collect();
    for task in tasks {
        match task.await {
            Ok(Ok(())) => {}
            other => panic!("{other:?}"),
        }
    }
}

/// Every Bedrock request was signed with `access_key_id` (scope us-east-1/bedrock) and carried `token`.
fn assert_signed_with(requests: &[RecordedRequest], access_key_id: &str, token: &str) {
    assert!(!requests.is_empty());
    for request in requests {
        let authorization = request.header("authorization").unwrap_or_default();
        assert!(
            authorization.starts_with(&format!(
                "AWS4-HMAC-SHA256 Credential={access_key_id}/20240501/us-east-1/bedrock/aws4_request, "
            )),
            "{authorization}"
        );
        assert_eq!(request.header("x-amz-security-token"), Some(token));
    }
}

fn keys_json(access_key_id: &str, token: &str, expires: u64) -> serde_json::Value {
    json!({
        "Code": "Success",
        "LastUpdated": at(0),
        "Type": "AWS-HMAC",
        "AccessKeyId": access_key_id,
        "SecretAccessKey": "imds-secret-key",
        "Token": token,
        "Expiration": at(expires)
    })
}

const CREDENTIALS_PATH: &str = "/latest/meta-data/iam/security-credentials/";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn instance_metadata_v2_is_asked_once_for_concurrent_calls_and_again_before_expiry() {
    let imds = MockServer::start().await;
    imds.respond_always(
        "PUT",
        "/latest/api/token",
        MockResponse::body(200, "text/plain", "imds-session-token"),
    );
    imds.respond_always("GET", CREDENTIALS_PATH, MockResponse::body(200, "text/plain", "bedrock-role\n"));
    let keys_path = format!("{CREDENTIALS_PATH}bedrock-role");
    imds.respond("GET", &keys_path, MockResponse::json(200, keys_json("ASIAIMDSFIRST", "first-token", 3600)));
    imds.respond(
        "GET",
        &keys_path,
        MockResponse::json(200, keys_json("ASIAIMDSSECOND", "second-token", 7200)),
    );
    let bedrock = bedrock().await;
    let env = Arc::new(TestEnv::new(&[
        ("AWS_REGION", "us-east-1"),
        ("AWS_EC2_METADATA_SERVICE_ENDPOINT", &imds.url()),
    ]));
    let clock = TestClock::new();
    let model = model(env, &bedrock, &clock);

    call_concurrently(&model, 16).await;
    let asked = imds.requests();
    let steps: Vec<_> = asked.iter().map(|request| format!("{} {}", request.method, request.path)).collect();
    assert_eq!(
        steps,
        ["PUT /latest/api/token", &format!("GET {CREDENTIALS_PATH}"), &format!("GET {keys_path}")],
        "one fetch for 16 concurrent calls"
    );
    assert_eq!(asked[0].header("x-aws-ec2-metadata-token-ttl-seconds"), Some("21600"));
    assert_eq!(asked[0].header("x-aws-ec2-metadata-token"), None);
    for request in &asked[1..] {
        assert_eq!(request.header("x-aws-ec2-metadata-token"), Some("imds-session-token"));
    }
    assert_signed_with(&bedrock.requests(), "ASIAIMDSFIRST", "first-token");

    // Ten minutes before the expiry the keys are still used as they are.
    clock.advance(3000);
    call_concurrently(&model, 4).await;
    assert_eq!(imds.requests().len(), 3);
    // Four minutes before it, 16 concurrent calls refresh once.
    clock.advance(360);
    call_concurrently(&model, 16).await;
    assert_eq!(imds.requests().len(), 6, "one refresh: token, role, keys");
    let after_refresh = bedrock.requests();
    assert_signed_with(&after_refresh[20..], "ASIAIMDSSECOND", "second-token");
}

#[tokio::test]
async fn container_credentials_send_the_rotating_token_file() {
    let agent = MockServer::start().await;
    agent.respond(
        "GET",
        "/v1/credentials",
        MockResponse::json(
            200,
            json!({"AccessKeyId": "ASIAPODFIRST", "SecretAccessKey": "s1", "Token": "pod-token-1",
                   "AccountId": "123456789012", "Expiration": at(900)}),
        ),
    );
    agent.respond(
        "GET",
        "/v1/credentials",
        MockResponse::json(
            200,
            json!({"AccessKeyId": "ASIAPODSECOND", "SecretAccessKey": "s2", "Token": "pod-token-2",
                   "Expiration": at(1800)}),
        ),
    );
    let bedrock = bedrock().await;
    let env = Arc::new(
        TestEnv::new(&[
            ("AWS_REGION", "us-east-1"),
            ("AWS_CONTAINER_CREDENTIALS_FULL_URI", &format!("{}/v1/credentials", agent.url())),
            ("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "/var/run/secrets/pods.eks.amazonaws.com/token"),
        ])
        .with_file("/var/run/secrets/pods.eks.amazonaws.com/token", "eks-pod-identity-token-1\n"),
    );
    let clock = TestClock::new();
    let model = model(Arc::clone(&env), &bedrock, &clock);
    call_concurrently(&model, 3).await;
    env.write("/var/run/secrets/pods.eks.amazonaws.com/token", "eks-pod-identity-token-2");
    clock.advance(900 - 60);
    call_concurrently(&model, 3).await;

    let asked = agent.requests();
    assert_eq!(asked.len(), 2, "{asked:?}");
    assert_eq!(asked[0].header("authorization"), Some("eks-pod-identity-token-1"));
    assert_eq!(asked[1].header("authorization"), Some("eks-pod-identity-token-2"), "the file is read again");
    let calls = bedrock.requests();
    assert_signed_with(&calls[..3], "ASIAPODFIRST", "pod-token-1");
    assert_signed_with(&calls[3..], "ASIAPODSECOND", "pod-token-2");
}

fn sts_answer(action: &str, access_key_id: &str, token: &str, expires: u64) -> MockResponse {
    let body = format!(
        r#"<{action}Response xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <{action}Result>
    <Credentials>
      <AccessKeyId>{access_key_id}</AccessKeyId>
      <SecretAccessKey>sts-secret/key+</SecretAccessKey>
      <SessionToken>{token}</SessionToken>
      <Expiration>{}</Expiration>
    </Credentials>
    <AssumedRoleUser><AssumedRoleId>AROAEXAMPLE:vllora</AssumedRoleId><Arn>{ROLE_ARN}</Arn></AssumedRoleUser>
  </{action}Result>
  <ResponseMetadata><RequestId>0c1d2e3f</RequestId></ResponseMetadata>
</{action}Response>"#,
        at(expires)
    );
    MockResponse::body(200, "text/xml", body)
}

/// The form fields of an STS request.
fn form(request: &RecordedRequest) -> HashMap<String, String> {
    let text = String::from_utf8_lossy(&request.body).into_owned();
    text.split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(name, value)| (name.to_owned(), percent_decode(value)))
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut index = 0;
    while let Some(&byte) = bytes.get(index) {
        if byte == b'%' {
            let hex = text.get(index + 1..index + 3).unwrap_or_default();
            out.push(u8::from_str_radix(hex, 16).unwrap_or_else(|_| panic!("bad escape in {text}")));
            index += 3;
        } else {
            out.push(byte);
            index += 1;
        }
    }
    String::from_utf8(out).unwrap_or_else(|error| panic!("{error}"))
}

#[tokio::test]
async fn web_identity_exchanges_the_token_file_at_sts() {
    let sts = MockServer::start().await;
    sts.respond("POST", "/", sts_answer("AssumeRoleWithWebIdentity", "ASIAWEBID", "web-session", 3600));
    let bedrock = bedrock().await;
    let env = Arc::new(
        TestEnv::new(&[
            ("AWS_REGION", "us-east-1"),
            ("AWS_ENDPOINT_URL_STS", &sts.url()),
            ("AWS_WEB_IDENTITY_TOKEN_FILE", "/var/run/secrets/eks.amazonaws.com/serviceaccount/token"),
            ("AWS_ROLE_ARN", ROLE_ARN),
            ("AWS_ROLE_SESSION_NAME", "gateway-pod"),
        ])
        .with_file(
            "/var/run/secrets/eks.amazonaws.com/serviceaccount/token",
            "eyJhbGciOiJSUzI1NiJ9.oidc.sig\n",
        ),
    );
    let model = model(env, &bedrock, &TestClock::new());
    call_concurrently(&model, 4).await;

    let asked = sts.requests();
    assert_eq!(asked.len(), 1);
    let fields = form(&asked[0]);
    let expected: HashMap<String, String> = [
        ("Action", "AssumeRoleWithWebIdentity"),
        ("Version", "2011-06-15"),
        ("RoleArn", ROLE_ARN),
        ("RoleSessionName", "gateway-pod"),
        ("WebIdentityToken", "eyJhbGciOiJSUzI1NiJ9.oidc.sig"),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_owned(), value.to_owned()))
    .collect();
    assert_eq!(fields, expected);
    assert_eq!(asked[0].header("content-type"), Some("application/x-www-form-urlencoded; charset=utf-8"));
    assert_eq!(asked[0].header("authorization"), None, "AssumeRoleWithWebIdentity is not signed");
    assert_signed_with(&bedrock.requests(), "ASIAWEBID", "web-session");
}

const SHARED_CONFIG: &str = "\
[profile bedrock]
role_arn = arn:aws:iam::123456789012:role/bedrock-caller
source_profile = base
role_session_name = vllora-tests
external_id = partner-42
duration_seconds = 1800
region = us-east-1

[profile chained]
role_arn = arn:aws:iam::123456789012:role/second
source_profile = bedrock
region = us-east-1

[profile helper]
credential_process = printf '{\"Version\": 1, \"AccessKeyId\": \"ASIAPROCESS\", \"SecretAccessKey\": \"process-secret\", \"SessionToken\": \"process-token\", \"Expiration\": \"2024-05-01T13:00:00Z\"}'
region = us-east-1

[profile broken-helper]
credential_process = sh -c 'echo leaked-secret-on-stdout; exit 3'
region = us-east-1
";

const SHARED_CREDENTIALS: &str =
    "[base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = base-secret\n";

fn profile_env(profile: &str, sts: Option<&MockServer>) -> Arc<TestEnv> {
    let mut vars = vec![
        ("AWS_PROFILE", profile.to_owned()),
        ("AWS_CONFIG_FILE", "/aws/config".to_owned()),
        ("AWS_SHARED_CREDENTIALS_FILE", "/aws/credentials".to_owned()),
    ];
    if let Some(sts) = sts {
        vars.push(("AWS_ENDPOINT_URL_STS", sts.url()));
    }
    let vars: Vec<(&str, &str)> = vars.iter().map(|(name, value)| (*name, value.as_str())).collect();
    Arc::new(
        TestEnv::new(&vars)
            .with_file("/aws/config", SHARED_CONFIG)
            .with_file("/aws/credentials", SHARED_CREDENTIALS),
    )
}

#[tokio::test]
async fn a_role_profile_assumes_its_role_with_the_source_profile_keys() {
    let sts = MockServer::start().await;
    sts.respond("POST", "/", sts_answer("AssumeRole", "ASIAROLE", "role-session", 1800));
    let bedrock = bedrock().await;
    let model = model(profile_env("bedrock", Some(&sts)), &bedrock, &TestClock::new());
    call_concurrently(&model, 4).await;

    let asked = sts.requests();
    assert_eq!(asked.len(), 1);
    let fields = form(&asked[0]);
    assert_eq!(fields.get("Action").map(String::as_str), Some("AssumeRole"));
    assert_eq!(fields.get("Version").map(String::as_str), Some("2011-06-15"));
    assert_eq!(fields.get("RoleArn").map(String::as_str), Some(ROLE_ARN));
    assert_eq!(fields.get("RoleSessionName").map(String::as_str), Some("vllora-tests"));
    assert_eq!(fields.get("ExternalId").map(String::as_str), Some("partner-42"));
    assert_eq!(fields.get("DurationSeconds").map(String::as_str), Some("1800"));
    let authorization = asked[0].header("authorization").unwrap_or_default();
    assert!(
        authorization
            .starts_with("AWS4-HMAC-SHA256 Credential=AKIDBASE/20240501/us-east-1/sts/aws4_request, "),
        "AssumeRole is signed by the source profile for STS: {authorization}"
    );
    assert_signed_with(&bedrock.requests(), "ASIAROLE", "role-session");
}

#[tokio::test]
async fn role_chaining_assumes_each_role_in_turn() {
    let sts = MockServer::start().await;
    sts.respond("POST", "/", sts_answer("AssumeRole", "ASIAFIRSTROLE", "first-session", 1800));
    sts.respond("POST", "/", sts_answer("AssumeRole", "ASIASECONDROLE", "second-session", 1800));
    let bedrock = bedrock().await;
    let env = profile_env("chained", Some(&sts));
    let config = BedrockConfig::from_shared_environment(env).unwrap_or_else(|error| panic!("{error}"));
    let clock = TestClock::new();
    let model =
        BedrockModel::new(config.with_base_url(bedrock.url()).with_clock(move || clock.now()), http());
    call_concurrently(&model, 2).await;
    let asked = sts.requests();
    assert_eq!(asked.len(), 2);
    assert_eq!(form(&asked[0]).get("RoleArn").map(String::as_str), Some(ROLE_ARN));
    assert_eq!(
        form(&asked[1]).get("RoleArn").map(String::as_str),
        Some("arn:aws:iam::123456789012:role/second")
    );
    assert!(asked[1].header("authorization").unwrap_or_default().contains("Credential=ASIAFIRSTROLE/"));
    assert_eq!(asked[1].header("x-amz-security-token"), Some("first-session"));
    assert_signed_with(&bedrock.requests(), "ASIASECONDROLE", "second-session");
}

#[tokio::test]
async fn credential_process_runs_the_command() {
    let bedrock = bedrock().await;
    let model = model(profile_env("helper", None), &bedrock, &TestClock::new());
    call_concurrently(&model, 3).await;
    assert_signed_with(&bedrock.requests(), "ASIAPROCESS", "process-token");

    let broken = self::model(profile_env("broken-helper", None), &bedrock, &TestClock::new());
    let error = broken.complete(&hello(), &CallOptions::default()).await.err();
    let Some(LLMError::MissingCredentials { hint, .. }) = error else { panic!("{error:?}") };
    assert!(hint.contains("credential_process of profile `broken-helper`") && hint.contains('3'), "{hint}");
    assert!(!hint.contains("leaked-secret"), "{hint}");
}

#[tokio::test]
async fn a_denied_assume_role_names_the_role_and_the_reason() {
    let sts = MockServer::start().await;
    sts.respond_always(
        "POST",
        "/",
        MockResponse::body(
            403,
            "text/xml",
            "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User: \
             arn:aws:iam::123456789012:user/base is not authorized to perform: sts:AssumeRole</Message></Error>\
             <RequestId>r</RequestId></ErrorResponse>",
        ),
    );
    let bedrock = bedrock().await;
    let model = model(profile_env("bedrock", Some(&sts)), &bedrock, &TestClock::new());
    let error = model.complete(&hello(), &CallOptions::default()).await.err();
    let Some(LLMError::MissingCredentials { hint, .. }) = &error else { panic!("{error:?}") };
    for expected in
        ["STS AssumeRole", ROLE_ARN, "profile `bedrock`", "not authorized to perform: sts:AssumeRole"]
    {
        assert!(hint.contains(expected), "{expected} in {hint}");
    }
    assert!(!hint.contains("base-secret"));
    assert!(bedrock.requests().is_empty(), "nothing reaches Bedrock without keys");
}

#[tokio::test]
async fn an_unreachable_metadata_service_error_lists_the_whole_chain() {
    // A port nothing listens on: connection refused at once.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|error| panic!("{error}"));
        listener.local_addr().map(|address| address.port()).unwrap_or_else(|error| panic!("{error}"))
    };
    let endpoint = format!("http://127.0.0.1:{closed}");
    let bedrock = bedrock().await;
    let env = Arc::new(TestEnv::new(&[
        ("AWS_REGION", "us-east-1"),
        ("HOME", "/home/nobody"),
        ("AWS_EC2_METADATA_SERVICE_ENDPOINT", &endpoint),
    ]));
    let model = model(env, &bedrock, &TestClock::new());
    let error = model.complete(&hello(), &CallOptions::default()).await.err();
    let Some(LLMError::MissingCredentials { hint, .. }) = &error else { panic!("{error:?}") };
    for tried in [
        "AWS_ACCESS_KEY_ID",
        "profile `default` is in neither /home/nobody/.aws/credentials nor /home/nobody/.aws/config",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        &format!("EC2 instance metadata (IMDSv2) at {endpoint}"),
        "PUT http://127.0.0.1",
        "/latest/api/token",
    ] {
        assert!(hint.contains(tried), "`{tried}` in {hint}");
    }

    let disabled = TestEnv::new(&[("AWS_REGION", "us-east-1"), ("AWS_EC2_METADATA_DISABLED", "true")]);
    let error = BedrockConfig::from_environment(&disabled).err();
    let Some(LLMError::MissingCredentials { hint, .. }) = &error else { panic!("{error:?}") };
    assert!(
        hint.contains("AWS_EC2_METADATA_DISABLED") && hint.contains("AWS_WEB_IDENTITY_TOKEN_FILE"),
        "{hint}"
    );
}

#[tokio::test]
async fn keys_bedrock_refuses_are_fetched_again() {
    let imds = MockServer::start().await;
    imds.respond_always("PUT", "/latest/api/token", MockResponse::body(200, "text/plain", "t"));
    imds.respond_always("GET", CREDENTIALS_PATH, MockResponse::body(200, "text/plain", "role"));
    let keys_path = format!("{CREDENTIALS_PATH}role");
    imds.respond("GET", &keys_path, MockResponse::json(200, keys_json("ASIAREVOKED", "revoked", 3600)));
    imds.respond("GET", &keys_path, MockResponse::json(200, keys_json("ASIAFRESH", "fresh", 3600)));
    let bedrock = MockServer::start().await;
    bedrock.respond(
        "POST",
        MODEL_PATH,
        MockResponse::json(403, json!({"message": "The security token included in the request is expired"}))
            .header("x-amzn-errortype", "ExpiredTokenException"),
    );
    bedrock.respond_always("POST", MODEL_PATH, converse_answer());
    let env = Arc::new(TestEnv::new(&[
        ("AWS_REGION", "us-east-1"),
        ("AWS_EC2_METADATA_SERVICE_ENDPOINT", &imds.url()),
    ]));
    let model = model(env, &bedrock, &TestClock::new());
    let first = model.complete(&hello(), &CallOptions::default()).await;
    assert_eq!(first.err().and_then(|error| error.status()), Some(403));
    call_concurrently(&model, 1).await;
    let calls = bedrock.requests();
    assert_signed_with(&calls[..1], "ASIAREVOKED", "revoked");
    assert_signed_with(&calls[1..], "ASIAFRESH", "fresh");
}

#[test]
fn debug_names_the_source_and_no_secret() {
    let env = profile_env("bedrock", None);
    let config = BedrockConfig::from_environment(env.as_ref()).unwrap_or_else(|error| panic!("{error}"));
    let debug = format!("{config:?}");
    assert!(debug.contains(ROLE_ARN) && debug.contains("profile `bedrock`"), "{debug}");
    assert!(!debug.contains("base-secret") && !debug.contains("AKIDBASE"), "{debug}");
}

#[tokio::test]
async fn a_model_without_access_does_not_fetch_the_keys_again() {
    let imds = MockServer::start().await;
    imds.respond_always("PUT", "/latest/api/token", MockResponse::body(200, "text/plain", "t"));
    imds.respond_always("GET", CREDENTIALS_PATH, MockResponse::body(200, "text/plain", "role"));
    imds.respond_always(
        "GET",
        &format!("{CREDENTIALS_PATH}role"),
        MockResponse::json(200, keys_json("ASIAKEPT", "kept", 3600)),
    );
    let bedrock = MockServer::start().await;
    bedrock.respond(
        "POST",
        MODEL_PATH,
        MockResponse::json(
            403,
            json!({"message": "You don't have access to the model with the specified model ID."}),
        )
        .header("x-amzn-errortype", "AccessDeniedException"),
    );
    bedrock.respond_always("POST", MODEL_PATH, converse_answer());
    let env = Arc::new(TestEnv::new(&[
        ("AWS_REGION", "us-east-1"),
        ("AWS_EC2_METADATA_SERVICE_ENDPOINT", &imds.url()),
    ]));
    let model = model(env, &bedrock, &TestClock::new());
    let denied = model.complete(&hello(), &CallOptions::default()).await;
    assert_eq!(denied.err().and_then(|error| error.status()), Some(403));
    call_concurrently(&model, 2).await;
    assert_eq!(imds.requests().len(), 3, "the keys were fetched once: access denied is not about them");
    assert_signed_with(&bedrock.requests(), "ASIAKEPT", "kept");
}
