//! [`VlloraLLMClient`] and [`CompletionsClient`]: the entry points.

use std::fmt;
use std::sync::{Arc, OnceLock};

use vllora_llm_core::{LLMError, LLMResult};
use vllora_llm_http::{HttpClient, HttpConfig};

pub use vllora_llm_core::model::{BoxFuture, CallOptions, DummyModelInstance, ModelInstance};
pub use vllora_llm_core::stream::ResultStream;
pub use vllora_llm_core::types::gateway::{ChatCompletionMessageWithFinishReason, ChatCompletionRequest};

use crate::routing;
use crate::telemetry;
use vllora_llm_core::credentials::Credentials;

/// The providers the client can route to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum InferenceModelProvider {
    /// OpenAI (feature `openai`).
    OpenAI,
    /// Anthropic (feature `anthropic`).
    Anthropic,
    /// Google Gemini (feature `gemini`).
    Gemini,
    /// AWS Bedrock (feature `bedrock`).
    Bedrock,
    /// Any OpenAI-compatible server, by name (feature `openai`): its endpoint comes from
    /// `with_inference_endpoint` or `VLLORA_{NAME}_ENDPOINT`, its key (optional) from
    /// `VLLORA_{NAME}_API_KEY`.
    Proxy(String),
}

impl InferenceModelProvider {
    /// The Cargo feature that compiles this provider in.
    pub fn feature(&self) -> &'static str {
        match self {
            InferenceModelProvider::OpenAI | InferenceModelProvider::Proxy(_) => "openai",
            InferenceModelProvider::Anthropic => "anthropic",
            InferenceModelProvider::Gemini => "gemini",
            InferenceModelProvider::Bedrock => "bedrock",
        }
    }
}

impl fmt::Display for InferenceModelProvider {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InferenceModelProvider::OpenAI => formatter.write_str("openai"),
            InferenceModelProvider::Anthropic => formatter.write_str("anthropic"),
            InferenceModelProvider::Gemini => formatter.write_str("gemini"),
            InferenceModelProvider::Bedrock => formatter.write_str("bedrock"),
            InferenceModelProvider::Proxy(name) => write!(formatter, "proxy `{name}`"),
        }
    }
}

/// Where requests go: one fixed instance, or a provider chosen per request.
#[derive(Clone)]
enum Backend {
    Instance(Arc<Box<dyn ModelInstance>>),
    Routed,
}

/// Everything a client is configured with; shared by its clones.
#[derive(Clone)]
pub(crate) struct Settings {
    backend: Backend,
    pub(crate) provider: Option<InferenceModelProvider>,
    pub(crate) endpoint: Option<String>,
    pub(crate) credentials: Option<Credentials>,
    http_config: HttpConfig,
    http: Arc<OnceLock<HttpClient>>,
    pub(crate) strict: bool,
    pub(crate) record_content: bool,
}

impl Settings {
    /// Whether every request goes to one instance given at construction.
    pub(crate) fn has_fixed_instance(&self) -> bool {
        matches!(self.backend, Backend::Instance(_))
    }

    #[cfg_attr(
        not(any(feature = "openai", feature = "anthropic", feature = "gemini", feature = "bedrock")),
        allow(dead_code)
    )]
    pub(crate) fn http(&self) -> LLMResult<HttpClient> {
        if let Some(client) = self.http.get() {
            return Ok(client.clone());
        }
        let client = HttpClient::new(self.http_config)?;
        Ok(self.http.get_or_init(|| client).clone())
    }
}

/// The client: routes chat completions to the right provider.
///
/// Cheap to clone; clones share one connection pool. Configuration errors (a missing key, say) surface on
/// the first call that needs them, as [`LLMError`]s that name what to set.
#[derive(Clone)]
pub struct VlloraLLMClient {
    settings: Arc<Settings>,
}

impl fmt::Debug for VlloraLLMClient {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let settings = &self.settings;
        formatter
            .debug_struct("VlloraLLMClient")
            .field("fixed_instance", &matches!(settings.backend, Backend::Instance(_)))
            .field("provider", &settings.provider)
            .field("endpoint", &settings.endpoint)
            .field("credentials", &settings.credentials)
            .field("strict", &settings.strict)
            .field("record_content", &settings.record_content)
            .finish()
    }
}

impl Default for VlloraLLMClient {
    fn default() -> Self {
        VlloraLLMClient::new()
    }
}

impl VlloraLLMClient {
    /// A client that picks the provider from each request's model and reads keys from the environment
    /// (`VLLORA_{PROVIDER}_API_KEY`, then each provider's usual variable).
    pub fn new() -> Self {
        VlloraLLMClient::with_backend(Backend::Routed)
    }

    /// A client that sends every request to `instance`.
    pub fn new_with_instance(instance: Arc<Box<dyn ModelInstance>>) -> Self {
        VlloraLLMClient::with_backend(Backend::Instance(instance))
    }

    fn with_backend(backend: Backend) -> Self {
        VlloraLLMClient {
            settings: Arc::new(Settings {
                backend,
                provider: None,
                endpoint: None,
                credentials: None,
                http_config: HttpConfig::default(),
                http: Arc::new(OnceLock::new()),
                strict: false,
                record_content: false,
            }),
        }
    }

    fn update(self, change: impl FnOnce(&mut Settings)) -> Self {
        let mut settings = Arc::unwrap_or_clone(self.settings);
        change(&mut settings);
        VlloraLLMClient { settings: Arc::new(settings) }
    }

    /// Uses these credentials instead of the environment's.
    pub fn with_credentials(self, credentials: Credentials) -> Self {
        self.update(|settings| settings.credentials = Some(credentials))
    }

    /// Sends every request to this provider, whatever the model's name.
    pub fn with_model_provider(self, provider: InferenceModelProvider) -> Self {
        self.update(|settings| settings.provider = Some(provider))
    }

    /// Sends requests to this base URL (an OpenAI-compatible server, a regional endpoint, a mock).
    pub fn with_inference_endpoint(self, endpoint: impl Into<String>) -> Self {
        let endpoint = endpoint.into();
        self.update(|settings| settings.endpoint = Some(endpoint))
    }

    /// Timeouts, retries and limits of the transport.
    pub fn with_http_config(self, config: HttpConfig) -> Self {
        self.update(|settings| {
            settings.http_config = config;
            settings.http = Arc::new(OnceLock::new());
        })
    }

    /// Uses this HTTP client (for a custom [`vllora_llm_http::HttpTransport`], or to share a pool).
    pub fn with_http_client(self, client: HttpClient) -> Self {
        self.update(|settings| {
            settings.http_config = *client.config();
            settings.http = Arc::new(OnceLock::from(client));
        })
    }

    /// Strict mode: a parameter the provider cannot honour is an error instead of a warning.
    pub fn with_strict(self, strict: bool) -> Self {
        self.update(|settings| settings.strict = strict)
    }

    /// Records prompts and completions in the telemetry span (off by default: they may be sensitive).
    pub fn with_content_recording(self, record: bool) -> Self {
        self.update(|settings| settings.record_content = record)
    }

    /// The settings, for the other APIs' clients in this crate.
    pub(crate) fn settings(&self) -> &Arc<Settings> {
        &self.settings
    }

    /// The chat completions API.
    pub fn completions(&self) -> CompletionsClient {
        CompletionsClient { settings: Arc::clone(&self.settings) }
    }
}

/// Chat completions, one-shot and streamed.
#[derive(Clone)]
pub struct CompletionsClient {
    settings: Arc<Settings>,
}

impl fmt::Debug for CompletionsClient {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.debug_struct("CompletionsClient").finish_non_exhaustive()
    }
}

/// The model instance that serves one request.
pub(crate) enum Resolved {
    Shared(Arc<Box<dyn ModelInstance>>),
    Owned(Box<dyn ModelInstance>),
}

impl Resolved {
    pub(crate) fn instance(&self) -> &dyn ModelInstance {
        match self {
            Resolved::Shared(instance) => instance.as_ref().as_ref(),
            Resolved::Owned(instance) => instance.as_ref(),
        }
    }
}

/// The instance serving `model`: the client's fixed instance, or the provider the route names. Every API
/// of the client (chat, embeddings, images) resolves through here.
pub(crate) fn resolve(settings: &Settings, model: &str) -> LLMResult<Resolved> {
    match &settings.backend {
        Backend::Instance(instance) => Ok(Resolved::Shared(Arc::clone(instance))),
        Backend::Routed => {
            let route = routing::resolve(settings.provider.as_ref(), model, &crate::providers::proxy_exists)
                .ok_or_else(|| {
                    LLMError::Config(format!(
                        "cannot tell which provider serves model `{model}`: prefix it with the provider \
                         (`anthropic/{model}`, or a proxy's name) or call with_model_provider"
                    ))
                })?;
            crate::providers::build(settings, &route.provider, route.model).map(Resolved::Owned)
        }
    }
}

impl CompletionsClient {
    fn resolve(&self, model: &str) -> LLMResult<Resolved> {
        resolve(&self.settings, model)
    }

    fn options(&self) -> CallOptions {
        CallOptions::strict(self.settings.strict)
    }

    /// Sends a one-shot completion request.
    pub async fn create(
        &self,
        request: impl Into<ChatCompletionRequest>,
    ) -> LLMResult<ChatCompletionMessageWithFinishReason> {
        let request = request.into();
        let resolved = self.resolve(&request.model)?;
        let instance = resolved.instance();
        let span =
            telemetry::chat_span(instance.provider_name(), &request, false, self.settings.record_content);
        let options = self.options();
        let result =
            tracing::Instrument::instrument(instance.complete(&request, &options), span.clone()).await;
        telemetry::record_result(&span, &result, self.settings.record_content);
        result
    }

    /// Sends a streaming completion request. The stream is read as you pull it; dropping it cancels the
    /// request.
    pub async fn create_stream(&self, request: impl Into<ChatCompletionRequest>) -> LLMResult<ResultStream> {
        let request = request.into();
        let resolved = self.resolve(&request.model)?;
        let instance = resolved.instance();
        let span =
            telemetry::chat_span(instance.provider_name(), &request, true, self.settings.record_content);
        let options = self.options();
        let result = tracing::Instrument::instrument(instance.stream(&request, &options), span.clone()).await;
        match result {
            Ok(stream) => Ok(telemetry::instrument_stream(stream, span, self.settings.record_content)),
            Err(error) => {
                telemetry::record_error(&span, &error);
                Err(error)
            }
        }
    }
}
