//! [`Providers`]: every provider a client routes to, built once from the client's settings and
//! environment, and the model instances built from them, kept for the next call.
//!
//! A provider is built at most once per client (clones share it): its configuration is read from the
//! [`Environment`] (variables and, for Bedrock, the AWS shared files) on a blocking thread, then its
//! model and headers are built. A call then only looks up the instance for its model name, built once
//! per name from the provider (a clone and a name, no environment read, no header building). Each
//! provider keeps up to [`MAX_MODELS`] names; past that its names are forgotten and built again as they
//! come (still from the built provider, never from the environment).

use std::collections::HashMap;

use vllora_llm_core::support::FnvBuildHasher;

/// A provider, built by the first call that needs it.
type BuildOnce = Arc<tokio::sync::OnceCell<Arc<Provider>>>;
use std::fmt;
use std::sync::{Arc, OnceLock, PoisonError, RwLock};

use vllora_llm_core::credentials::{Credentials, Environment};
use vllora_llm_core::{LLMError, LLMResult, ModelInstance};
use vllora_llm_http::{HttpClient, HttpConfig};

use crate::routing::InferenceModelProvider;

/// How many model names a provider keeps instances for (and how many proxy names a client remembers
/// whether they are configured); past it the kept ones are dropped and built again as they come.
pub(crate) const MAX_MODELS: usize = 512;

/// What providers are built from: the client's explicit settings and its environment.
#[derive(Clone)]
pub(crate) struct Sources {
    /// Explicit credentials, used instead of the environment's.
    pub(crate) credentials: Option<Credentials>,
    /// An explicit base URL.
    pub(crate) endpoint: Option<String>,
    /// Where variables and files are read.
    pub(crate) environment: Arc<dyn Environment>,
    /// The transport's configuration, when the client builds its own HTTP client.
    pub(crate) http_config: HttpConfig,
    /// The HTTP client given by the caller.
    pub(crate) http: Option<HttpClient>,
    /// Provider settings beyond credentials and endpoint.
    pub(crate) provider_settings: ProviderSettings,
}

/// A clock for Bedrock's request signing.
pub(crate) type SigningClock = Arc<dyn Fn() -> std::time::SystemTime + Send + Sync>;

/// Environment variable fixing the time Bedrock requests are signed with (Unix seconds; for tests).
#[cfg(feature = "bedrock")]
pub(crate) const BEDROCK_SIGNING_TIME_VARIABLE: &str = "VLLORA_BEDROCK_SIGNING_TIME";

/// What a client sets on its providers beyond credentials and endpoint; each wins over the
/// environment's value (`VLLORA_ANTHROPIC_API_VERSION`, `VLLORA_ANTHROPIC_BETAS`,
/// `VLLORA_ANTHROPIC_MAX_TOKENS`, `VLLORA_GEMINI_SCHEMA_MODE`, `VLLORA_BEDROCK_SIGNING_TIME`).
#[derive(Clone, Default)]
pub(crate) struct ProviderSettings {
    pub(crate) anthropic_api_version: Option<String>,
    pub(crate) anthropic_betas: Vec<String>,
    pub(crate) anthropic_default_max_tokens: Option<u32>,
    pub(crate) gemini_native_json_schema: Option<bool>,
    pub(crate) bedrock_clock: Option<SigningClock>,
}

impl fmt::Debug for ProviderSettings {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("ProviderSettings")
            .field("anthropic_api_version", &self.anthropic_api_version)
            .field("anthropic_betas", &self.anthropic_betas)
            .field("anthropic_default_max_tokens", &self.anthropic_default_max_tokens)
            .field("gemini_native_json_schema", &self.gemini_native_json_schema)
            .field("bedrock_clock", &self.bedrock_clock.is_some())
            .finish()
    }
}

/// The providers of one client (and its clones), each built once.
pub(crate) struct Providers {
    sources: Sources,
    http: OnceLock<HttpClient>,
    /// Held while the HTTP client is built, so that it is built (and the proxy variables read) once.
    http_building: std::sync::Mutex<()>,
    built: RwLock<HashMap<InferenceModelProvider, BuildOnce, FnvBuildHasher>>,
    proxy_endpoints: RwLock<HashMap<String, Option<Arc<str>>, FnvBuildHasher>>,
}

impl fmt::Debug for Providers {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.debug_struct("Providers").finish_non_exhaustive()
    }
}

/// Reads a lock, whether or not a thread panicked while holding it (the maps stay consistent: every
/// write is one insert or one clear).
fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(PoisonError::into_inner)
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(PoisonError::into_inner)
}

impl Providers {
    /// Nothing built yet.
    pub(crate) fn new(sources: Sources) -> Self {
        Providers {
            sources,
            http: OnceLock::new(),
            http_building: std::sync::Mutex::new(()),
            built: RwLock::new(HashMap::default()),
            proxy_endpoints: RwLock::new(HashMap::default()),
        }
    }

    /// What the providers are built from.
    pub(crate) fn sources(&self) -> &Sources {
        &self.sources
    }

    /// The one HTTP client every provider of this client uses.
    #[cfg_attr(
        not(any(
            feature = "openai",
            feature = "anthropic",
            feature = "gemini",
            feature = "bedrock",
            feature = "vertex"
        )),
        allow(dead_code)
    )]
    fn http(&self) -> LLMResult<HttpClient> {
        if let Some(client) = &self.sources.http {
            return Ok(client.clone());
        }
        if let Some(client) = self.http.get() {
            return Ok(client.clone());
        }
        // One build, however many first calls arrive at once (each would read the proxy variables).
        let _building = self.http_building.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(client) = self.http.get() {
            return Ok(client.clone());
        }
        // Proxy variables come through the client's environment too, read once with the client.
        let proxy = vllora_llm_http::ProxyConfig::from_environment(self.sources.environment.as_ref());
        let transport = vllora_llm_http::HyperTransport::new(&self.sources.http_config.timeouts, &proxy)?;
        let client = HttpClient::with_transport(Arc::new(transport), self.sources.http_config);
        Ok(self.http.get_or_init(|| client).clone())
    }

    /// The endpoint `VLLORA_{NAME}_ENDPOINT` gives the OpenAI-compatible proxy `name`, read once per
    /// name (routing asks for every `prefix/model` whose prefix is no provider's name).
    pub(crate) fn proxy_endpoint(&self, name: &str) -> Option<Arc<str>> {
        if let Some(known) = read(&self.proxy_endpoints).get(name) {
            return known.clone();
        }
        // Looked up again under the write lock, and read there, so concurrent first calls read it once.
        let mut known = write(&self.proxy_endpoints);
        if let Some(found) = known.get(name) {
            return found.clone();
        }
        let variable = format!("VLLORA_{}_ENDPOINT", vllora_llm_core::support::env_name(name));
        let endpoint: Option<Arc<str>> = self.sources.environment.var(&variable).map(Arc::from);
        if known.len() >= MAX_MODELS {
            known.clear();
        }
        known.entry(name.to_owned()).or_insert(endpoint).clone()
    }

    /// The provider `which`, built on first use. Concurrent first calls wait for one build; a build
    /// that fails is not kept, so the next call tries again.
    pub(crate) async fn get(&self, which: &InferenceModelProvider) -> LLMResult<Arc<Provider>> {
        let cell = read(&self.built).get(which).cloned();
        let cell = match cell {
            Some(cell) => cell,
            None => Arc::clone(write(&self.built).entry(which.clone()).or_default()),
        };
        if let Some(provider) = cell.get() {
            return Ok(Arc::clone(provider));
        }
        cell.get_or_try_init(|| self.build(which)).await.map(Arc::clone)
    }

    async fn build(&self, which: &InferenceModelProvider) -> LLMResult<Arc<Provider>> {
        let proxy_endpoint = match which {
            InferenceModelProvider::Proxy(name)
                if self.sources.endpoint.is_none()
                    && !matches!(self.sources.credentials, Some(Credentials::ApiKeyWithEndpoint { .. })) =>
            {
                self.proxy_endpoint(name)
            }
            _ => None,
        };
        let base = build::check_compiled(which)?;
        let http = self.http()?;
        let sources = self.sources.clone();
        let which = which.clone();
        // Bedrock's and Vertex AI's configuration may read files (the AWS shared files, a credentials
        // file): never on the runtime. The others read none and are built here: a trip through the
        // blocking pool would start a thread in a process that may have had none, and from then on
        // glibc takes its cancellable path for every system call (about 50 instructions each).
        let reads_files = matches!(which, InferenceModelProvider::Bedrock | InferenceModelProvider::VertexAI);
        let built = if reads_files {
            off_the_runtime(move || base.build(&which, &sources, proxy_endpoint.as_deref(), http)).await?
        } else {
            base.build(&which, &sources, proxy_endpoint.as_deref(), http)
        };
        Ok(Arc::new(Provider::new(built?)))
    }
}

/// Runs `work` on tokio's blocking pool when there is a tokio runtime, else here.
async fn off_the_runtime<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> LLMResult<T> {
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => runtime
            .spawn_blocking(work)
            .await
            .map_err(|error| LLMError::Config(format!("building the provider failed: {error}"))),
        Err(_) => Ok(work()),
    }
}

/// A built provider and the instances it made, by model name.
pub(crate) struct Provider {
    base: build::Base,
    chat: ModelCache<Arc<dyn ModelInstance>>,
    #[cfg(feature = "openai")]
    responses: ModelCache<Arc<vllora_llm_openai::OpenAIResponses>>,
}

impl Provider {
    fn new(base: build::Base) -> Self {
        Provider {
            base,
            chat: ModelCache::default(),
            #[cfg(feature = "openai")]
            responses: ModelCache::default(),
        }
    }

    /// The model instance sending requests to `model` (the name the provider knows it by).
    pub(crate) fn model(&self, model: &str) -> Arc<dyn ModelInstance> {
        self.chat.get_or_insert(model, || self.base.model(model))
    }

    /// The Responses API client for `model`, when this provider is OpenAI or an OpenAI-compatible proxy.
    #[cfg(feature = "openai")]
    pub(crate) fn responses(&self, model: &str) -> Option<Arc<vllora_llm_openai::OpenAIResponses>> {
        #[cfg(feature = "azure")]
        if let Some(responses) = self.base.azure_responses(model) {
            return Some(self.responses.get_or_insert(model, || Arc::new(responses)));
        }
        let (config, http) = self.base.openai()?;
        Some(self.responses.get_or_insert(model, || {
            Arc::new(vllora_llm_openai::OpenAIResponses::new(config.clone(), http.clone()).with_model(model))
        }))
    }
}

/// Values built per model name, at most [`MAX_MODELS`] of them.
struct ModelCache<T> {
    entries: RwLock<HashMap<Box<str>, T, FnvBuildHasher>>,
}

impl<T> Default for ModelCache<T> {
    fn default() -> Self {
        ModelCache { entries: RwLock::new(HashMap::default()) }
    }
}

impl<T: Clone> ModelCache<T> {
    fn get_or_insert(&self, model: &str, build: impl FnOnce() -> T) -> T {
        if let Some(found) = read(&self.entries).get(model) {
            return found.clone();
        }
        let mut entries = write(&self.entries);
        if let Some(found) = entries.get(model) {
            return found.clone();
        }
        if entries.len() >= MAX_MODELS {
            entries.clear();
        }
        let built = build();
        entries.insert(model.into(), built.clone());
        built
    }
}

/// Building each provider, behind its Cargo feature.
mod build {
    use std::sync::Arc;

    #[cfg(feature = "openai")]
    use vllora_llm_core::credentials::Credentials;
    use vllora_llm_core::{LLMError, LLMResult, ModelInstance};
    use vllora_llm_http::HttpClient;

    use super::Sources;
    use crate::routing::InferenceModelProvider;

    /// A provider known to be compiled in, not built yet.
    #[derive(Debug, Clone, Copy)]
    pub(super) struct Compiled(());

    /// `LLMError::ProviderNotCompiled` when `which`'s feature is off, before anything is read.
    pub(super) fn check_compiled(which: &InferenceModelProvider) -> LLMResult<Compiled> {
        let compiled = match which {
            InferenceModelProvider::OpenAI | InferenceModelProvider::Proxy(_) => cfg!(feature = "openai"),
            InferenceModelProvider::Anthropic => cfg!(feature = "anthropic"),
            InferenceModelProvider::Gemini => cfg!(feature = "gemini"),
            InferenceModelProvider::Bedrock => cfg!(feature = "bedrock"),
            InferenceModelProvider::VertexAI => cfg!(feature = "vertex"),
            InferenceModelProvider::Azure => cfg!(feature = "azure"),
        };
        if compiled {
            Ok(Compiled(()))
        } else {
            Err(LLMError::ProviderNotCompiled {
                provider: which.id().to_string(),
                feature: which.feature().to_owned(),
            })
        }
    }

    /// A provider's model, configured and with its headers built, serving no model name yet.
    #[derive(Debug)]
    #[allow(clippy::large_enum_variant, reason = "one per provider, built once, kept inside an Arc")]
    pub(super) enum Base {
        #[cfg(feature = "openai")]
        OpenAI {
            model: vllora_llm_openai::OpenAIModel,
            config: vllora_llm_openai::OpenAIConfig,
            http: HttpClient,
        },
        #[cfg(feature = "anthropic")]
        Anthropic(vllora_llm_anthropic::AnthropicModel),
        #[cfg(feature = "gemini")]
        Gemini(vllora_llm_gemini::GeminiModel),
        #[cfg(feature = "bedrock")]
        Bedrock(vllora_llm_bedrock::BedrockModel),
        /// Vertex AI: Google's models and Claude, over one configuration (one cached token).
        #[cfg(feature = "vertex")]
        Vertex { gemini: vllora_llm_gemini::GeminiModel, anthropic: vllora_llm_anthropic::AnthropicModel },
        /// Azure OpenAI: one configuration and HTTP client (one cached Entra ID token), a model per deployment.
        #[cfg(feature = "azure")]
        Azure(vllora_llm_openai::AzureOpenAI),
    }

    impl Compiled {
        /// Builds `which` from `sources` (reads the environment, and files for Bedrock: call it off the
        /// runtime). `proxy_endpoint` is what `VLLORA_{NAME}_ENDPOINT` said, read by the caller.
        #[cfg_attr(not(feature = "openai"), allow(unused_variables))]
        pub(super) fn build(
            self,
            which: &InferenceModelProvider,
            sources: &Sources,
            proxy_endpoint: Option<&str>,
            http: HttpClient,
        ) -> LLMResult<Base> {
            match which {
                #[cfg(feature = "openai")]
                InferenceModelProvider::OpenAI => openai(sources, None, http),
                #[cfg(feature = "openai")]
                InferenceModelProvider::Proxy(name) => openai(sources, Some((name, proxy_endpoint)), http),
                #[cfg(feature = "anthropic")]
                InferenceModelProvider::Anthropic => anthropic(sources, http),
                #[cfg(feature = "gemini")]
                InferenceModelProvider::Gemini => gemini(sources, http),
                #[cfg(feature = "bedrock")]
                InferenceModelProvider::Bedrock => bedrock(sources, http),
                #[cfg(feature = "vertex")]
                InferenceModelProvider::VertexAI => vertex(sources, http),
                #[cfg(feature = "azure")]
                InferenceModelProvider::Azure => azure(sources, http),
                #[allow(unreachable_patterns, reason = "every provider compiled in")]
                other => Err(LLMError::ProviderNotCompiled {
                    provider: other.id().to_string(),
                    feature: other.feature().to_owned(),
                }),
            }
        }
    }

    impl Base {
        /// The instance serving `model`: a clone of the built model, told its name.
        #[cfg_attr(
            not(any(
                feature = "openai",
                feature = "anthropic",
                feature = "gemini",
                feature = "bedrock",
                feature = "vertex"
            )),
            allow(unused_variables)
        )]
        pub(super) fn model(&self, model: &str) -> Arc<dyn ModelInstance> {
            match *self {
                #[cfg(feature = "openai")]
                Base::OpenAI { model: ref base, .. } => Arc::new(base.clone().with_model(model)),
                #[cfg(feature = "anthropic")]
                Base::Anthropic(ref base) => Arc::new(base.clone().with_model(model)),
                #[cfg(feature = "gemini")]
                Base::Gemini(ref base) => Arc::new(base.clone().with_model(model)),
                #[cfg(feature = "bedrock")]
                Base::Bedrock(ref base) => Arc::new(base.clone().with_model(model)),
                #[cfg(feature = "vertex")]
                Base::Vertex { ref gemini, ref anthropic } => match vertex_publisher(model) {
                    VertexPublisher::Anthropic(name) => Arc::new(anthropic.clone().with_model(name)),
                    VertexPublisher::Google(name) => Arc::new(gemini.clone().with_model(name)),
                },
                #[cfg(feature = "azure")]
                Base::Azure(ref azure) => Arc::new(azure.model(model)),
            }
        }

        /// The Responses client of `model` on Azure OpenAI, when this is Azure.
        #[cfg(feature = "azure")]
        pub(super) fn azure_responses(&self, model: &str) -> Option<vllora_llm_openai::OpenAIResponses> {
            match self {
                Base::Azure(azure) => Some(azure.responses(model)),
                #[allow(unreachable_patterns, reason = "only Azure compiled in")]
                _ => None,
            }
        }

        /// The OpenAI configuration and HTTP client, when this is OpenAI or an OpenAI-compatible proxy.
        #[cfg(feature = "openai")]
        pub(super) fn openai(&self) -> Option<(&vllora_llm_openai::OpenAIConfig, &HttpClient)> {
            match self {
                Base::OpenAI { config, http, .. } => Some((config, http)),
                #[allow(unreachable_patterns, reason = "only OpenAI compiled in")]
                _ => None,
            }
        }
    }

    /// OpenAI itself (`proxy` = `None`) or a named OpenAI-compatible proxy: explicit credentials and
    /// endpoint first, then the environment.
    #[cfg(feature = "openai")]
    fn openai(sources: &Sources, proxy: Option<(&str, Option<&str>)>, http: HttpClient) -> LLMResult<Base> {
        use vllora_llm_openai::{OpenAIConfig, OpenAIModel};
        let env = sources.environment.as_ref();
        let endpoint = sources.endpoint.as_deref();
        let config = match (proxy, &sources.credentials) {
            (Some((name, from_env)), None) => {
                OpenAIConfig::proxy_from_environment(name, endpoint.or(from_env), env)?
            }
            (Some((name, from_env)), Some(Credentials::ApiKey(key))) => {
                OpenAIConfig::proxy_from_environment(name, endpoint.or(from_env), env)?
                    .with_api_key(key.clone())
            }
            (Some((name, _)), Some(Credentials::ApiKeyWithEndpoint { api_key, endpoint: own_endpoint })) => {
                OpenAIConfig::proxy(name, endpoint.unwrap_or(own_endpoint)).with_api_key(api_key.clone())
            }
            (Some((name, _)), Some(_)) => {
                return Err(LLMError::Config(format!(
                    "proxy `{name}` takes an API key, not AWS credentials"
                )));
            }
            // An explicit key replaces only the environment's key: the base URL, organisation and project
            // are still read from it, as OpenAI's own SDKs do (so the documents' async-openai program,
            // which passes its key explicitly, can be pointed at any server with VLLORA_OPENAI_ENDPOINT).
            (None, Some(Credentials::ApiKey(key))) => {
                with_endpoint(OpenAIConfig::from_environment(env)?.with_api_key(key.clone()), endpoint)
            }
            (None, Some(credentials)) => {
                with_endpoint(OpenAIConfig::from_credentials(credentials)?, endpoint)
            }
            (None, None) => with_endpoint(OpenAIConfig::from_environment(env)?, endpoint),
        };
        let model = OpenAIModel::new(config.clone(), http.clone());
        Ok(Base::OpenAI { model, config, http })
    }

    #[cfg(feature = "openai")]
    fn with_endpoint(
        config: vllora_llm_openai::OpenAIConfig,
        endpoint: Option<&str>,
    ) -> vllora_llm_openai::OpenAIConfig {
        match endpoint {
            Some(endpoint) => config.with_base_url(endpoint),
            None => config,
        }
    }

    #[cfg(feature = "anthropic")]
    fn anthropic(sources: &Sources, http: HttpClient) -> LLMResult<Base> {
        use vllora_llm_anthropic::{AnthropicConfig, AnthropicModel};
        let config = match &sources.credentials {
            Some(credentials) => AnthropicConfig::from_credentials(credentials)?,
            None => AnthropicConfig::from_environment(sources.environment.as_ref())?,
        };
        let mut config = match &sources.endpoint {
            Some(endpoint) => config.with_base_url(endpoint.clone()),
            None => config,
        };
        let settings = &sources.provider_settings;
        if let Some(version) = &settings.anthropic_api_version {
            config = config.with_api_version(version.clone());
        }
        for beta in &settings.anthropic_betas {
            config = config.with_beta(beta.clone());
        }
        if let Some(max_tokens) = settings.anthropic_default_max_tokens {
            config = config.with_default_max_tokens(max_tokens);
        }
        Ok(Base::Anthropic(AnthropicModel::new(config, http)))
    }

    #[cfg(feature = "gemini")]
    fn gemini(sources: &Sources, http: HttpClient) -> LLMResult<Base> {
        use vllora_llm_gemini::{GeminiConfig, GeminiModel};
        let config = match &sources.credentials {
            Some(credentials) => GeminiConfig::from_credentials(credentials)?,
            None => GeminiConfig::from_environment(sources.environment.as_ref())?,
        };
        let config = match &sources.endpoint {
            Some(endpoint) => config.with_base_url(endpoint.clone()),
            None => config,
        };
        let config = match sources.provider_settings.gemini_native_json_schema {
            Some(native) => config.with_native_json_schema(native),
            None => config,
        };
        Ok(Base::Gemini(GeminiModel::new(config, http)))
    }

    /// Which publisher serves a Vertex AI model: Anthropic for `claude-*` (or `anthropic/...`), Google
    /// otherwise (`google/...` too).
    #[cfg(feature = "vertex")]
    enum VertexPublisher<'a> {
        Anthropic(&'a str),
        Google(&'a str),
    }

    #[cfg(feature = "vertex")]
    fn vertex_publisher(model: &str) -> VertexPublisher<'_> {
        match model.split_once('/') {
            Some(("anthropic", name)) => VertexPublisher::Anthropic(name),
            Some(("google", name)) => VertexPublisher::Google(name),
            _ if model.to_ascii_lowercase().starts_with("claude") => VertexPublisher::Anthropic(model),
            _ => VertexPublisher::Google(model),
        }
    }

    /// Vertex AI: explicit Google Cloud credentials (or an express mode key) first, then the
    /// environment (`VLLORA_VERTEX_*`, `GOOGLE_APPLICATION_CREDENTIALS`, gcloud's file, the metadata
    /// server); one configuration, so Gemini and Claude share one cached token.
    #[cfg(feature = "vertex")]
    fn vertex(sources: &Sources, http: HttpClient) -> LLMResult<Base> {
        use vllora_llm_vertex::VertexConfig;
        let env = sources.environment.as_ref();
        let config = match &sources.credentials {
            Some(credentials) => VertexConfig::from_credentials(credentials, env)?,
            None => VertexConfig::from_environment(env)?,
        };
        let config = match &sources.endpoint {
            Some(endpoint) => config.with_base_url(endpoint.clone()),
            None => config,
        };
        Ok(Base::Vertex {
            gemini: vllora_llm_gemini::GeminiModel::vertex(config.clone(), http.clone())
                .with_native_json_schema(
                    sources.provider_settings.gemini_native_json_schema.unwrap_or(false),
                ),
            anthropic: vllora_llm_anthropic::AnthropicModel::vertex(config, http),
        })
    }

    /// Azure OpenAI: explicit credentials (a key, with or without the endpoint) and endpoint first, the
    /// rest from the environment (`AZURE_OPENAI_*`, `AZURE_*`, `VLLORA_AZURE_*`).
    #[cfg(feature = "azure")]
    fn azure(sources: &Sources, http: HttpClient) -> LLMResult<Base> {
        use vllora_llm_openai::{AzureOpenAI, AzureOpenAIConfig};
        let env = sources.environment.as_ref();
        let config = match &sources.credentials {
            Some(credentials) => AzureOpenAIConfig::from_credentials_in(credentials, env)?,
            None => AzureOpenAIConfig::from_environment(env)?,
        };
        let config = match &sources.endpoint {
            Some(endpoint) => config.with_endpoint(endpoint.clone()),
            None => config,
        };
        Ok(Base::Azure(AzureOpenAI::new(config, http)))
    }

    #[cfg(feature = "bedrock")]
    fn bedrock(sources: &Sources, http: HttpClient) -> LLMResult<Base> {
        use vllora_llm_bedrock::{BedrockConfig, BedrockModel};
        let env = sources.environment.as_ref();
        let config = match &sources.credentials {
            Some(credentials) => BedrockConfig::from_credentials_in(credentials, env)?,
            // Shared, so that rotating token files (web identity, EKS Pod Identity) are read again at refresh.
            None => BedrockConfig::from_shared_environment(std::sync::Arc::clone(&sources.environment))?,
        };
        let config = match &sources.endpoint {
            Some(endpoint) => config.with_base_url(endpoint.clone()),
            None => config,
        };
        let clock: Option<super::SigningClock> = match &sources.provider_settings.bedrock_clock {
            Some(clock) => Some(std::sync::Arc::clone(clock)),
            None => {
                match env.var(super::BEDROCK_SIGNING_TIME_VARIABLE).filter(|value| !value.trim().is_empty()) {
                    Some(value) => {
                        let seconds = value.trim().parse::<u64>().map_err(|_| {
                            LLMError::Config(format!(
                                "{} is a time in Unix seconds, not {value:?}",
                                super::BEDROCK_SIGNING_TIME_VARIABLE
                            ))
                        })?;
                        let time = std::time::UNIX_EPOCH + std::time::Duration::from_secs(seconds);
                        Some(std::sync::Arc::new(move || time))
                    }
                    None => None,
                }
            }
        };
        let config = match clock {
            Some(clock) => config.with_clock(move || clock()),
            None => config,
        };
        Ok(Base::Bedrock(BedrockModel::new(config, http)))
    }
}
