//! [`VlloraLLMClient`], the entry point, and the types its APIs take and return.

use std::fmt;
use std::sync::Arc;

use vllora_llm_core::credentials::{Credentials, Environment, ProcessEnvironment};
use vllora_llm_http::{HttpClient, HttpConfig};

pub use vllora_llm_core::model::{BoxFuture, CallOptions, DummyModelInstance, ModelInstance};
pub use vllora_llm_core::stream::ResultStream;

pub use crate::completions::CompletionsClient;
pub use crate::embeddings::EmbeddingsClient;
pub use crate::images::ImagesClient;
#[cfg(feature = "openai")]
#[cfg_attr(docsrs, doc(cfg(feature = "openai")))]
pub use crate::responses::{ResponsesClient, ResponsesStream};
pub use crate::routing::InferenceModelProvider;
use crate::providers::{ProviderSettings, Providers, Sources};
use crate::settings::{Backend, Settings};

/// The client: routes chat completions, embeddings, images and Responses to the right provider.
///
/// Cheap to clone; clones share one connection pool and the providers built so far. Each provider (and
/// each named proxy) is built once, on its first call: its configuration is read from the environment
/// then (on a blocking thread, since Bedrock may read the AWS shared files), and never again. The
/// `with_*` methods that change what providers are built from (credentials, endpoint, environment,
/// HTTP client) start from no built provider.
///
/// Configuration errors (a missing key, say) surface on the first call that needs them, as
/// [`LLMError`](crate::error::LLMError)s that name what to set; a provider that failed to build is tried
/// again on the next call.
#[derive(Clone)]
pub struct VlloraLLMClient {
    settings: Arc<Settings>,
}

impl fmt::Debug for VlloraLLMClient {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let settings = &self.settings;
        let sources = settings.providers.sources();
        formatter
            .debug_struct("VlloraLLMClient")
            .field("fixed_instance", &settings.has_fixed_instance())
            .field("provider", &settings.provider)
            .field("endpoint", &sources.endpoint.as_deref().map(vllora_llm_http::RedactedUrl))
            .field("credentials", &sources.credentials)
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
        let sources = Sources {
            credentials: None,
            endpoint: None,
            environment: Arc::new(ProcessEnvironment),
            http_config: HttpConfig::default(),
            http: None,
            provider_settings: ProviderSettings::default(),
        };
        VlloraLLMClient {
            settings: Arc::new(Settings {
                backend,
                provider: None,
                providers: Arc::new(Providers::new(sources)),
                strict: false,
                record_content: false,
                extra_headers: Vec::new(),
                tools: crate::tools::ToolSet::new(),
            }),
        }
    }

    fn update(self, change: impl FnOnce(&mut Settings)) -> Self {
        let mut settings = Arc::unwrap_or_clone(self.settings);
        change(&mut settings);
        VlloraLLMClient { settings: Arc::new(settings) }
    }

    /// Changes what providers are built from; the providers built so far are not used by the result.
    fn update_sources(self, change: impl FnOnce(&mut Sources)) -> Self {
        self.update(|settings| {
            let mut sources = settings.providers.sources().clone();
            change(&mut sources);
            settings.providers = Arc::new(Providers::new(sources));
        })
    }

    /// Uses these credentials instead of the environment's.
    pub fn with_credentials(self, credentials: Credentials) -> Self {
        self.update_sources(|sources| sources.credentials = Some(credentials))
    }

    /// Reads configuration (keys, endpoints, regions, `VLLORA_{NAME}_ENDPOINT` of proxies, the AWS shared
    /// files) from `environment` instead of the process environment and file system
    /// ([`ProcessEnvironment`], the default). Each variable and file is
    /// read at most once per provider by a client and its clones. The transport's proxy variables
    /// (`HTTPS_PROXY`...) are the transport's: pass your own with [`with_http_client`](Self::with_http_client).
    pub fn with_environment(self, environment: Arc<dyn Environment>) -> Self {
        self.update_sources(|sources| sources.environment = environment)
    }

    /// Sends every request to this provider, whatever the model's name.
    pub fn with_model_provider(self, provider: InferenceModelProvider) -> Self {
        self.update(|settings| settings.provider = Some(provider))
    }

    /// Sends requests to this base URL (an OpenAI-compatible server, a regional endpoint, a mock).
    pub fn with_inference_endpoint(self, endpoint: impl Into<String>) -> Self {
        let endpoint = endpoint.into();
        self.update_sources(|sources| sources.endpoint = Some(endpoint))
    }

    /// Timeouts, retries and limits of the transport.
    pub fn with_http_config(self, config: HttpConfig) -> Self {
        self.update_sources(|sources| {
            sources.http_config = config;
            sources.http = None;
        })
    }

    /// Uses this HTTP client (for a custom [`HttpTransport`](crate::http::HttpTransport), or to share a
    /// pool).
    pub fn with_http_client(self, client: HttpClient) -> Self {
        self.update_sources(|sources| {
            sources.http_config = *client.config();
            sources.http = Some(client);
        })
    }

    /// Sends this `anthropic-version` to Anthropic (default `2023-06-01`, or `VLLORA_ANTHROPIC_API_VERSION`);
    /// on `2026-10-21` and later the sampling parameters are left out with a warning.
    pub fn with_anthropic_api_version(self, version: impl Into<String>) -> Self {
        let version = version.into();
        self.update_sources(|sources| sources.provider_settings.anthropic_api_version = Some(version))
    }

    /// Adds a beta to every Anthropic request's `anthropic-beta` header (besides `VLLORA_ANTHROPIC_BETAS`
    /// and the betas a request's features need).
    pub fn with_anthropic_beta(self, beta: impl Into<String>) -> Self {
        let beta = beta.into();
        self.update_sources(|sources| sources.provider_settings.anthropic_betas.push(beta))
    }

    /// The `max_tokens` Anthropic gets when a request sets no limit (Anthropic requires one), instead of
    /// the model family's default (or `VLLORA_ANTHROPIC_MAX_TOKENS`).
    pub fn with_anthropic_default_max_tokens(self, max_tokens: u32) -> Self {
        self.update_sources(|sources| {
            sources.provider_settings.anthropic_default_max_tokens = Some(max_tokens)
        })
    }

    /// Sends JSON schemas to Gemini untouched (`true`: `responseJsonSchema`, `parametersJsonSchema`) or
    /// normalised to its OpenAPI subset (`false`, the default, or `VLLORA_GEMINI_SCHEMA_MODE`), on AI
    /// Studio and Vertex AI; a request's `provider_specific.extra.native_json_schema` still wins.
    pub fn with_gemini_native_json_schema(self, native: bool) -> Self {
        self.update_sources(|sources| sources.provider_settings.gemini_native_json_schema = Some(native))
    }

    /// Signs Bedrock requests with the time `clock` gives instead of the system clock (for reproducible
    /// tests; `VLLORA_BEDROCK_SIGNING_TIME`, in Unix seconds, fixes it from the environment).
    pub fn with_bedrock_clock(
        self,
        clock: impl Fn() -> std::time::SystemTime + Send + Sync + 'static,
    ) -> Self {
        let clock: crate::providers::SigningClock = Arc::new(clock);
        self.update_sources(|sources| sources.provider_settings.bedrock_clock = Some(clock))
    }

    /// Strict mode: a parameter the provider cannot honour is an error instead of a warning.
    pub fn with_strict(self, strict: bool) -> Self {
        self.update(|settings| settings.strict = strict)
    }

    /// Adds a header to every chat request of this client and its clones (`HTTP-Referer` and `X-Title`
    /// for OpenRouter, a gateway's tracing header...); a call's own headers
    /// ([`CompletionsClient::with_header`]) come after and replace one of the same name.
    pub fn with_header(self, name: impl Into<String>, value: impl Into<String>) -> Self {
        let header = (name.into(), value.into());
        self.update(|settings| settings.extra_headers.push(header))
    }

    /// Records prompts and completions in the telemetry span (off by default: they may be sensitive).
    pub fn with_content_recording(self, record: bool) -> Self {
        self.update(|settings| settings.record_content = record)
    }

    /// Tools every tool loop of this client offers the model ([`CompletionsClient::tool_loop`]); a loop
    /// can add more for its own runs. Plain `create` calls are not affected.
    pub fn with_tools(self, tools: crate::tools::ToolSet) -> Self {
        self.update(|settings| settings.tools = tools)
    }

    /// The chat completions API.
    pub fn completions(&self) -> CompletionsClient {
        CompletionsClient::new(Arc::clone(&self.settings))
    }

    /// The embeddings API: `text-embedding-*` models go to OpenAI, `provider/model` to that provider (a
    /// named OpenAI-compatible proxy too), anything else to the provider set with `with_model_provider`.
    pub fn embeddings(&self) -> EmbeddingsClient {
        EmbeddingsClient::new(Arc::clone(&self.settings))
    }

    /// The image generation API: `gpt-image-*` and `dall-e-*` models go to OpenAI, other models route
    /// like chat.
    pub fn images(&self) -> ImagesClient {
        ImagesClient::new(Arc::clone(&self.settings))
    }

    /// The OpenAI Responses API (`POST /v1/responses`), served by OpenAI and OpenAI-compatible proxies.
    #[cfg(feature = "openai")]
    #[cfg_attr(docsrs, doc(cfg(feature = "openai")))]
    pub fn responses(&self) -> crate::responses::ResponsesClient {
        crate::responses::ResponsesClient::new(Arc::clone(&self.settings))
    }
}
