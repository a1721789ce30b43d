//! The "Supported parameters" table, derived from behaviour rather than written by hand.
//!
//! For every parameter of the user's table and every provider, a request carrying that parameter goes
//! through the real client in strict mode, with a transport that captures the HTTP request instead of
//! sending it. The provider either refuses the parameter (strict mode turns its warning into
//! `LLMError::Unsupported`) or sends it; for every "yes" of the user's table the value must be at the
//! documented place of the provider's request. The table in `docs/supported-parameters.md` is generated
//! from what this observes: the test fails when the file drifts from the code, and
//! `VLLORA_UPDATE_GENERATED=1 cargo test -p vllora_llm --test supported_parameters` (or
//! `cargo xtask codegen`) rewrites it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking
#![cfg(all(feature = "openai", feature = "anthropic", feature = "gemini", feature = "bedrock"))]

use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use vllora_llm::client::{InferenceModelProvider, VlloraLLMClient};
use vllora_llm::error::LLMError;
use vllora_llm::client::BoxFuture;
use vllora_llm::http::{HttpClient, HttpConfig, HttpRequest, HttpResponse, HttpTransport};
use vllora_llm::types::gateway::{
    ChatCompletionMessage, ChatCompletionRequest, JsonSchemaFormat, ProviderSpecificRequest, ResponseFormat,
    ThinkingConfig,
};
use vllora_llm::types::{AwsCredentials, Credentials, Secret};

/// Keeps the last request and answers with an error that is not retried.
#[derive(Debug, Default)]
struct CapturingTransport {
    captured: Mutex<Option<(String, Value)>>,
}

impl HttpTransport for CapturingTransport {
    fn send(&self, request: HttpRequest) -> BoxFuture<'static, Result<HttpResponse, LLMError>> {
        let body = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        *self.captured.lock().unwrap() = Some((request.url.clone(), body));
        Box::pin(std::future::ready(Err(LLMError::Config("captured by the probe".into()))))
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Provider {
    OpenAI,
    Anthropic,
    Gemini,
    Bedrock,
}

const PROVIDERS: [Provider; 4] = [Provider::OpenAI, Provider::Anthropic, Provider::Gemini, Provider::Bedrock];

impl Provider {
    fn client(self, transport: Arc<CapturingTransport>) -> VlloraLLMClient {
        let http = HttpClient::with_transport(transport, HttpConfig::default());
        let (provider, credentials) = match self {
            Provider::OpenAI => (InferenceModelProvider::OpenAI, Credentials::api_key("sk-probe")),
            Provider::Anthropic => (InferenceModelProvider::Anthropic, Credentials::api_key("sk-ant-probe")),
            Provider::Gemini => (InferenceModelProvider::Gemini, Credentials::api_key("gemini-probe")),
            Provider::Bedrock => (
                InferenceModelProvider::Bedrock,
                Credentials::Aws(AwsCredentials {
                    access_key_id: Secret::new("AKIDPROBE"),
                    secret_access_key: Secret::new("probe-secret"),
                    session_token: None,
                    region: Some("us-east-1".into()),
                }),
            ),
        };
        VlloraLLMClient::new()
            .with_model_provider(provider)
            .with_credentials(credentials)
            .with_http_client(http)
            .with_strict(true)
    }

    fn model(self) -> &'static str {
        match self {
            Provider::OpenAI => "gpt-4.1-mini",
            Provider::Anthropic => "claude-sonnet-4-5",
            Provider::Gemini => "gemini-2.5-flash",
            Provider::Bedrock => "anthropic.claude-3-5-sonnet-20240620-v1:0",
        }
    }
}

/// One row of the user's table: how to set the parameter, and for each provider whether the user's
/// docs promise it ("yes") and where its value must appear (a JSON pointer into the body, or `url:` and
/// a string the URL must contain).
struct Row {
    parameter: &'static str,
    notes: &'static str,
    apply: fn(&mut ChatCompletionRequest),
    promised: [Option<&'static str>; 4],
    value: Value,
}

fn specific(request: &mut ChatCompletionRequest) -> &mut ProviderSpecificRequest {
    request.provider_specific.get_or_insert_with(Default::default)
}

fn rows() -> Vec<Row> {
    vec![
        Row {
            parameter: "model",
            notes: "Taken from `ChatCompletionRequest.model` (a `provider/` prefix is removed).",
            apply: |_| {},
            promised: [Some("/model"), Some("/model"), Some("url:"), Some("url:")],
            value: Value::Null,
        },
        Row {
            parameter: "max_tokens",
            notes: "OpenAI `max_tokens` (`max_completion_tokens` for reasoning models), Anthropic `max_tokens`, Gemini `maxOutputTokens`, Bedrock `maxTokens`.",
            apply: |request| request.max_tokens = Some(77),
            promised: [
                Some("/max_tokens"),
                Some("/max_tokens"),
                Some("/generationConfig/maxOutputTokens"),
                Some("/inferenceConfig/maxTokens"),
            ],
            value: json!(77),
        },
        Row {
            parameter: "temperature",
            notes: "Sampling temperature (left out with a warning where a model or API version rejects it).",
            apply: |request| request.temperature = Some(0.5),
            promised: [
                Some("/temperature"),
                Some("/temperature"),
                Some("/generationConfig/temperature"),
                Some("/inferenceConfig/temperature"),
            ],
            value: json!(0.5),
        },
        Row {
            parameter: "top_p",
            notes: "Nucleus sampling.",
            apply: |request| request.top_p = Some(0.25),
            promised: [
                Some("/top_p"),
                Some("/top_p"),
                Some("/generationConfig/topP"),
                Some("/inferenceConfig/topP"),
            ],
            value: json!(0.25),
        },
        Row {
            parameter: "n",
            notes: "Gemini `candidateCount`; OpenAI takes `n` as is.",
            apply: |request| request.n = Some(2),
            promised: [None, None, Some("/generationConfig/candidateCount"), None],
            value: json!(2),
        },
        Row {
            parameter: "stop",
            notes: "OpenAI `stop`, Anthropic `stop_sequences`, Gemini and Bedrock `stopSequences`.",
            apply: |request| request.stop = Some(vec!["END".into()]),
            promised: [
                Some("/stop"),
                Some("/stop_sequences"),
                Some("/generationConfig/stopSequences"),
                Some("/inferenceConfig/stopSequences"),
            ],
            value: json!(["END"]),
        },
        Row {
            parameter: "presence_penalty",
            notes: "",
            apply: |request| request.presence_penalty = Some(0.5),
            promised: [Some("/presence_penalty"), None, Some("/generationConfig/presencePenalty"), None],
            value: json!(0.5),
        },
        Row {
            parameter: "frequency_penalty",
            notes: "",
            apply: |request| request.frequency_penalty = Some(0.5),
            promised: [Some("/frequency_penalty"), None, Some("/generationConfig/frequencyPenalty"), None],
            value: json!(0.5),
        },
        Row {
            parameter: "logit_bias",
            notes: "OpenAI's token bias map.",
            apply: |request| request.logit_bias = Some([("50256".to_owned(), -100)].into_iter().collect()),
            promised: [Some("/logit_bias"), None, None, None],
            value: json!({"50256": -100}),
        },
        Row {
            parameter: "user",
            notes: "OpenAI `user`; Anthropic `metadata.user_id`.",
            apply: |request| request.user = Some("user-42".into()),
            promised: [Some("/user"), None, None, None],
            value: json!("user-42"),
        },
        Row {
            parameter: "seed",
            notes: "",
            apply: |request| request.seed = Some(7),
            promised: [Some("/seed"), None, Some("/generationConfig/seed"), None],
            value: json!(7),
        },
        Row {
            parameter: "response_format",
            notes: "JSON schema output; Gemini gets a schema normalised for its API; Anthropic natively from Claude 4.5 (a warning on older models).",
            apply: |request| {
                request.response_format = Some(ResponseFormat::JsonSchema {
                    json_schema: JsonSchemaFormat {
                        name: "answer".into(),
                        schema: Some(json!({"type": "object", "properties": {"a": {"type": "string"}}})),
                        ..Default::default()
                    },
                })
            },
            promised: [Some("/response_format/type"), None, Some("/generationConfig/responseMimeType"), None],
            value: Value::Null,
        },
        Row {
            parameter: "prompt_cache_key",
            notes: "OpenAI's prompt caching hint.",
            apply: |request| request.prompt_cache_key = Some("thread-7".into()),
            promised: [Some("/prompt_cache_key"), None, None, None],
            value: json!("thread-7"),
        },
        Row {
            parameter: "provider_specific.top_k",
            notes: "Anthropic `top_k`, Gemini `topK`, Bedrock through `additionalModelRequestFields`.",
            apply: |request| specific(request).top_k = Some(40),
            promised: [None, Some("/top_k"), None, None],
            value: json!(40),
        },
        Row {
            parameter: "provider_specific.thinking",
            notes: "Extended thinking with a token budget.",
            apply: |request| {
                request.max_tokens = Some(4096);
                specific(request).thinking = Some(ThinkingConfig::enabled(2048));
            },
            promised: [None, Some("/thinking/budget_tokens"), None, None],
            value: json!(2048),
        },
        Row {
            parameter: "provider_specific.additional_parameters",
            notes: "Free-form JSON merged into the native body: Anthropic's and Gemini's top level, Bedrock's `additionalModelRequestFields`.",
            apply: |request| {
                specific(request).additional_parameters =
                    Some([("custom_knob".to_owned(), json!(3))].into_iter().collect())
            },
            promised: [None, None, None, Some("/additionalModelRequestFields/custom_knob")],
            value: json!(3),
        },
    ]
}

fn base_request(provider: Provider) -> ChatCompletionRequest {
    ChatCompletionRequest {
        model: provider.model().into(),
        messages: vec![ChatCompletionMessage::new_text("user", "Hello")],
        max_tokens: Some(1024),
        ..Default::default()
    }
}

/// What a provider did with a parameter.
enum Observed {
    Sent { url: String, body: Value },
    Refused(String),
    Failed(String),
}

fn probe(provider: Provider, apply: fn(&mut ChatCompletionRequest)) -> Observed {
    let transport = Arc::new(CapturingTransport::default());
    let client = provider.client(Arc::clone(&transport));
    let mut request = base_request(provider);
    apply(&mut request);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let result = runtime.block_on(client.completions().create(request));
    let captured = transport.captured.lock().unwrap().take();
    match (result, captured) {
        (Err(LLMError::Unsupported(warnings)), _) => {
            Observed::Refused(warnings.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))
        }
        (_, Some((url, body))) => Observed::Sent { url, body },
        (Err(error), None) => Observed::Failed(error.to_string()),
        (Ok(_), None) => Observed::Failed("answered without sending anything".into()),
    }
}

fn generated_table(cells: &[(String, [String; 4], &str)]) -> String {
    let mut table = String::from(
        "# Supported parameters\n\n\
         <!-- Generated by crates/vllora_llm/tests/supported_parameters.rs from what each provider does; \
         do not edit. Regenerate with `cargo xtask codegen`. -->\n\n\
         Which `ChatCompletionRequest` parameters each provider honours. \"yes\" means the value reaches the \
         provider's request; \"no\" means the provider cannot honour it: the parameter is left out with a \
         warning (`warnings()` and a `tracing` warn event), or rejected with `LLMError::Unsupported` in \
         strict mode. Nothing is dropped silently.\n\n\
         | Parameter | OpenAI / Proxy | Anthropic | Gemini | Bedrock | Notes |\n|---|---|---|---|---|---|\n",
    );
    for (parameter, support, notes) in cells {
        table.push_str(&format!(
            "| `{parameter}` | {} | {} | {} | {} | {notes} |\n",
            support[0], support[1], support[2], support[3]
        ));
    }
    table.push_str(
        "\nThe table is checked on every test run: each \"yes\" promised by the original documentation is \
         verified at its place in the provider's request body (or URL, for `model` on Gemini and Bedrock).\n",
    );
    table
}

#[test]
fn the_supported_parameters_table_is_true_of_the_code() {
    let mut broken_promises = Vec::new();
    let mut cells = Vec::new();
    for row in rows() {
        let mut support: [String; 4] = Default::default();
        for (column, provider) in PROVIDERS.iter().enumerate() {
            let observed = probe(*provider, row.apply);
            support[column] = match &observed {
                Observed::Sent { .. } => "yes".to_owned(),
                Observed::Refused(_) => "no".to_owned(),
                Observed::Failed(error) => {
                    broken_promises.push(format!("{}/{provider:?}: the call failed: {error}", row.parameter));
                    "?".to_owned()
                }
            };
            let Some(place) = row.promised[column] else { continue };
            match observed {
                Observed::Sent { url, body } => {
                    if place == "url:" {
                        if !url.contains(provider.model().split(':').next().unwrap_or_default()) {
                            broken_promises
                                .push(format!("{}/{provider:?}: model not in URL {url}", row.parameter));
                        }
                        continue;
                    }
                    let expected =
                        if row.parameter == "model" { json!(provider.model()) } else { row.value.clone() };
                    match body.pointer(place) {
                        None => broken_promises
                            .push(format!("{}/{provider:?}: nothing at {place} in {body}", row.parameter)),
                        Some(found) if !expected.is_null() && *found != expected => {
                            broken_promises.push(format!(
                                "{}/{provider:?}: {place} is {found}, expected {expected}",
                                row.parameter
                            ))
                        }
                        Some(_) => {}
                    }
                }
                Observed::Refused(warnings) => broken_promises.push(format!(
                    "{}/{provider:?}: promised \"yes\" but refused: {warnings}",
                    row.parameter
                )),
                Observed::Failed(_) => {}
            }
        }
        cells.push((row.parameter.to_owned(), support, row.notes));
    }
    assert!(broken_promises.is_empty(), "the documented floor is not met:\n{}", broken_promises.join("\n"));

    let table = generated_table(&cells);
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/supported-parameters.md");
    if std::env::var_os("VLLORA_UPDATE_GENERATED").is_some() {
        std::fs::write(path, &table).unwrap();
    }
    let on_disk = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        on_disk == table,
        "docs/supported-parameters.md is out of date; run `cargo xtask codegen`. Generated:\n{table}"
    );
}
