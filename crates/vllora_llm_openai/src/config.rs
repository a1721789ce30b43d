//! [`OpenAIConfig`]: where requests go (OpenAI, an OpenAI-compatible server, Azure OpenAI) and how they
//! are authenticated. Data only: the HTTP requests are built in `endpoint`.

use vllora_llm_core::credentials::{Environment, ProcessEnvironment};
use vllora_llm_core::support::env_name;
use vllora_llm_core::{Credentials, LLMError, LLMResult, Secret};

use crate::dialect::OpenAIDialect;

/// The telemetry name of OpenAI (`gen_ai.provider.name`): [`PROVIDER`](crate::PROVIDER) as text.
pub const PROVIDER_NAME: &str = "openai";

/// The telemetry name of Azure OpenAI, as the OpenTelemetry GenAI conventions spell it
/// ([`ProviderId::AZURE_OPENAI`](vllora_llm_core::ProviderId::AZURE_OPENAI) as text).
pub const AZURE_PROVIDER_NAME: &str = "azure.ai.openai";

/// The Azure OpenAI `api-version` used when none is given: the latest generally available data-plane
/// version with `stream_options` (streamed usage).
pub const AZURE_API_VERSION: &str = "2024-10-21";

/// OpenAI's public API.
pub const OPENAI_BASE_URL: &str = "https://api.openai.com/v1";

/// Which server speaks the OpenAI wire format on the other end: it decides the URL layout, the
/// authentication header and whether our extension fields may travel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Dialect {
    /// OpenAI itself: only fields OpenAI defines are sent.
    OpenAI,
    /// Any OpenAI-compatible server (vLLM, llama.cpp, Ollama, Groq, Together, ...).
    Compatible,
    /// Azure OpenAI: the deployment is in the path, the version in the query, the key in `api-key`.
    Azure {
        /// The deployment name.
        deployment: String,
        /// The `api-version` query parameter.
        api_version: String,
    },
}

/// Configuration of the OpenAI provider. `Debug` never shows the key.
///
/// ```
/// use vllora_llm_openai::OpenAIConfig;
///
/// let local = OpenAIConfig::proxy("local", "http://127.0.0.1:8080/v1");
/// assert_eq!(local.provider_name(), "local");
/// assert_eq!(local.base_url(), "http://127.0.0.1:8080/v1");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct OpenAIConfig {
    provider_name: String,
    base_url: String,
    api_key: Option<Secret>,
    organization: Option<String>,
    project: Option<String>,
    dialect: Dialect,
    /// The host's conventions (what it needs sent back).
    host_dialect: OpenAIDialect,
    /// Set by [`with_dialect`](Self::with_dialect): a new base URL does not choose another.
    dialect_explicit: bool,
}

/// The base URL without its `user:password@` or query; the key redacted.
impl std::fmt::Debug for OpenAIConfig {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("OpenAIConfig")
            .field("provider_name", &self.provider_name)
            .field("base_url", &vllora_llm_http::RedactedUrl(&self.base_url))
            .field("api_key", &self.api_key)
            .field("organization", &self.organization)
            .field("project", &self.project)
            .field("dialect", &self.dialect)
            .finish_non_exhaustive()
    }
}

impl OpenAIConfig {
    /// OpenAI with this key, at [`OPENAI_BASE_URL`].
    pub fn new(api_key: impl Into<Secret>) -> Self {
        OpenAIConfig {
            provider_name: PROVIDER_NAME.to_owned(),
            base_url: OPENAI_BASE_URL.to_owned(),
            api_key: Some(api_key.into()),
            organization: None,
            project: None,
            dialect: Dialect::OpenAI,
            host_dialect: OpenAIDialect::OpenAI,
            dialect_explicit: false,
        }
    }

    /// OpenAI from the process environment: [`from_environment`](Self::from_environment) with
    /// [`ProcessEnvironment`].
    pub fn from_env() -> LLMResult<Self> {
        Self::from_environment(&ProcessEnvironment)
    }

    /// OpenAI from `env`: the key from `VLLORA_OPENAI_API_KEY`, else `OPENAI_API_KEY`; the base URL from
    /// `VLLORA_OPENAI_ENDPOINT`, else `OPENAI_BASE_URL`, else [`OPENAI_BASE_URL`]; `OPENAI_ORG_ID` and
    /// `OPENAI_PROJECT_ID` when set. Variables set to blank text count as unset.
    ///
    /// A missing key is not an error here, since a custom endpoint may need none: a request to OpenAI's
    /// own API without a key fails with [`LLMError::MissingCredentials`] before anything is sent.
    pub fn from_environment(env: &dyn Environment) -> LLMResult<Self> {
        let lookup = |name: &str| variable(env, name);
        let api_key = lookup("VLLORA_OPENAI_API_KEY").or_else(|| lookup("OPENAI_API_KEY")).map(Secret::new);
        let base_url = lookup("VLLORA_OPENAI_ENDPOINT")
            .or_else(|| lookup("OPENAI_BASE_URL"))
            .unwrap_or_else(|| OPENAI_BASE_URL.to_owned());
        Ok(OpenAIConfig {
            provider_name: PROVIDER_NAME.to_owned(),
            api_key,
            organization: lookup("OPENAI_ORG_ID"),
            project: lookup("OPENAI_PROJECT_ID"),
            dialect: Dialect::OpenAI,
            host_dialect: OpenAIDialect::from_host(&base_url).unwrap_or(OpenAIDialect::OpenAI),
            base_url,
            dialect_explicit: false,
        })
    }

    /// OpenAI with explicit credentials: an API key, optionally with its endpoint.
    pub fn from_credentials(credentials: &Credentials) -> LLMResult<Self> {
        match credentials {
            Credentials::ApiKey(api_key) => Ok(OpenAIConfig::new(api_key.clone())),
            Credentials::ApiKeyWithEndpoint { api_key, endpoint } => {
                Ok(OpenAIConfig::new(api_key.clone()).with_base_url(endpoint.clone()))
            }
            _ => Err(LLMError::Config(
                "OpenAI takes an API key (Credentials::ApiKey or ApiKeyWithEndpoint), not AWS credentials"
                    .to_owned(),
            )),
        }
    }

    /// An OpenAI-compatible server called `name` at `endpoint` (its base URL, such as
    /// `http://localhost:8000/v1`), without a key.
    pub fn proxy(name: impl Into<String>, endpoint: impl Into<String>) -> Self {
        let (provider_name, base_url) = (name.into(), endpoint.into());
        OpenAIConfig {
            host_dialect: OpenAIDialect::detect(&provider_name, &base_url),
            dialect_explicit: false,
            provider_name,
            base_url,
            api_key: None,
            organization: None,
            project: None,
            dialect: Dialect::Compatible,
        }
    }

    /// An OpenAI-compatible server called `name`, configured from the process environment:
    /// [`proxy_from_environment`](Self::proxy_from_environment) with [`ProcessEnvironment`].
    pub fn proxy_from_env(name: &str, endpoint: Option<&str>) -> LLMResult<Self> {
        Self::proxy_from_environment(name, endpoint, &ProcessEnvironment)
    }

    /// An OpenAI-compatible server called `name`: the endpoint from the argument, else
    /// `VLLORA_{NAME}_ENDPOINT` in `env`; the key, optional, from `VLLORA_{NAME}_API_KEY`. `NAME` is the
    /// name upper-cased with every other character than a letter or digit written `_` (`my-vllm` ->
    /// `MY_VLLM`). Errors and telemetry carry `name` as the provider.
    pub fn proxy_from_environment(
        name: &str,
        endpoint: Option<&str>,
        env: &dyn Environment,
    ) -> LLMResult<Self> {
        let variable_stem = format!("VLLORA_{}", env_name(name));
        let endpoint_variable = format!("{variable_stem}_ENDPOINT");
        let endpoint = match endpoint {
            Some(endpoint) => endpoint.to_owned(),
            None => variable(env, &endpoint_variable).ok_or_else(|| {
                LLMError::Config(format!(
                    "no endpoint for the OpenAI-compatible proxy `{name}`: set {endpoint_variable} \
                     (for example http://localhost:8000/v1) or call with_inference_endpoint"
                ))
            })?,
        };
        let mut config = OpenAIConfig::proxy(name, endpoint);
        let dialect_variable = format!("{variable_stem}_DIALECT");
        if let Some(dialect) = variable(env, &dialect_variable) {
            let known = OpenAIDialect::from_name(&dialect).ok_or_else(|| {
                LLMError::Config(format!(
                    "{dialect_variable} names no known dialect: use generic, mistral, deepseek, openrouter, \
                     groq, cerebras, together, fireworks, xai or vllm"
                ))
            })?;
            config = config.with_dialect(known);
        }
        Ok(match variable(env, &format!("{variable_stem}_API_KEY")) {
            Some(key) => config.with_api_key(key),
            None => config,
        })
    }

    /// Azure OpenAI: `endpoint` is the resource (`https://my-resource.openai.azure.com`), requests go to
    /// `/openai/deployments/{deployment}/chat/completions?api-version={api_version}` with the key in the
    /// `api-key` header.
    pub fn azure(
        endpoint: impl Into<String>,
        deployment: impl Into<String>,
        api_version: impl Into<String>,
        api_key: impl Into<Secret>,
    ) -> Self {
        OpenAIConfig {
            provider_name: AZURE_PROVIDER_NAME.to_owned(),
            base_url: endpoint.into(),
            api_key: Some(api_key.into()),
            organization: None,
            project: None,
            dialect: Dialect::Azure { deployment: deployment.into(), api_version: api_version.into() },
            host_dialect: OpenAIDialect::OpenAI,
            dialect_explicit: false,
        }
    }

    /// Azure OpenAI's `deployment` at `endpoint`, with a key (`api-key`) or without one (an Entra ID token
    /// added by the transport). `api_version` [`AZURE_V1_API`](crate::AZURE_V1_API) (`v1`) selects the v1
    /// API.
    #[cfg(feature = "azure")]
    pub(crate) fn azure_deployment(
        endpoint: &str,
        deployment: &str,
        api_version: &str,
        api_key: Option<Secret>,
    ) -> Self {
        let mut config = OpenAIConfig::azure(endpoint, deployment, api_version, Secret::new(""));
        config.api_key = api_key;
        config
    }

    /// Azure OpenAI from the process environment, for `deployment`:
    /// [`azure_from_environment`](Self::azure_from_environment) with [`ProcessEnvironment`].
    pub fn azure_from_env(deployment: &str) -> LLMResult<Self> {
        Self::azure_from_environment(deployment, &ProcessEnvironment)
    }

    /// Azure OpenAI from `env`, for `deployment`: the resource endpoint from `AZURE_OPENAI_ENDPOINT`, the
    /// key from `AZURE_OPENAI_API_KEY` (an error naming the variable when either is missing), the version
    /// from `OPENAI_API_VERSION`, else [`AZURE_API_VERSION`].
    pub fn azure_from_environment(deployment: &str, env: &dyn Environment) -> LLMResult<Self> {
        let endpoint = variable(env, "AZURE_OPENAI_ENDPOINT").ok_or_else(|| {
            LLMError::Config(
                "no Azure OpenAI endpoint: set AZURE_OPENAI_ENDPOINT (https://<resource>.openai.azure.com)"
                    .to_owned(),
            )
        })?;
        let api_key = variable(env, "AZURE_OPENAI_API_KEY").ok_or_else(|| LLMError::MissingCredentials {
            provider: AZURE_PROVIDER_NAME.to_owned(),
            hint: "set AZURE_OPENAI_API_KEY".to_owned(),
        })?;
        let api_version = variable(env, "OPENAI_API_VERSION").unwrap_or_else(|| AZURE_API_VERSION.to_owned());
        Ok(OpenAIConfig::azure(endpoint, deployment, api_version, api_key))
    }

    /// Sends requests to this base URL instead (a regional endpoint, a gateway, a mock server).
    pub fn with_base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        if !self.dialect_explicit {
            self.host_dialect = match self.dialect {
                Dialect::Compatible => OpenAIDialect::detect(&self.provider_name, &self.base_url),
                // OpenAI's own configuration pointed at a known compatible host (`OPENAI_BASE_URL` set
                // to DeepSeek's API, say) speaks that host's dialect.
                Dialect::OpenAI => OpenAIDialect::from_host(&self.base_url).unwrap_or(OpenAIDialect::OpenAI),
                Dialect::Azure { .. } => OpenAIDialect::OpenAI,
            };
        }
        self
    }

    /// Speaks `dialect` to the server, whatever its name and host say (see [`OpenAIDialect`]).
    pub fn with_dialect(mut self, dialect: OpenAIDialect) -> Self {
        self.host_dialect = dialect;
        self.dialect_explicit = true;
        self
    }

    /// The host's dialect: explicit, from `VLLORA_{NAME}_DIALECT`, or chosen from the proxy's name or
    /// endpoint host ([`OpenAIDialect::OpenAI`] for OpenAI and Azure).
    pub fn host_dialect(&self) -> OpenAIDialect {
        self.host_dialect
    }

    /// Uses this API key.
    pub fn with_api_key(mut self, api_key: impl Into<Secret>) -> Self {
        self.api_key = Some(api_key.into());
        self
    }

    /// Sends `OpenAI-Organization` with every request.
    pub fn with_organization(mut self, organization: impl Into<String>) -> Self {
        self.organization = Some(organization.into());
        self
    }

    /// Sends `OpenAI-Project` with every request.
    pub fn with_project(mut self, project: impl Into<String>) -> Self {
        self.project = Some(project.into());
        self
    }

    /// The name errors and telemetry carry: `openai`, `azure.ai.openai`, or a proxy's name.
    pub fn provider_name(&self) -> &str {
        &self.provider_name
    }

    /// The base URL requests go to.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub(crate) fn dialect(&self) -> &Dialect {
        &self.dialect
    }

    /// The API key, when there is one.
    pub(crate) fn api_key(&self) -> Option<&Secret> {
        self.api_key.as_ref()
    }

    /// The `OpenAI-Organization` header's value, when set.
    pub(crate) fn organization(&self) -> Option<&str> {
        self.organization.as_deref()
    }

    /// The `OpenAI-Project` header's value, when set.
    pub(crate) fn project(&self) -> Option<&str> {
        self.project.as_deref()
    }

    /// An error when the request would reach OpenAI's own API without a key, which can only fail.
    pub(crate) fn check_credentials(&self) -> LLMResult<()> {
        let official = self.base_url.trim_end_matches('/') == OPENAI_BASE_URL;
        if self.api_key.is_none() && official && self.dialect == Dialect::OpenAI {
            return Err(LLMError::MissingCredentials {
                provider: self.provider_name.clone(),
                hint: "set VLLORA_OPENAI_API_KEY (or OPENAI_API_KEY), or pass Credentials::ApiKey".to_owned(),
            });
        }
        Ok(())
    }
}

/// A variable of `env`; blank text counts as unset.
fn variable(env: &dyn Environment, name: &str) -> Option<String> {
    env.var(name).filter(|value| !value.trim().is_empty())
}

#[cfg(test)]
pub(crate) mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::endpoint::chat_url;

    /// An environment of these variables only, and no files.
    #[derive(Debug)]
    pub(crate) struct Variables(HashMap<String, String>);

    impl Environment for Variables {
        fn var(&self, name: &str) -> Option<String> {
            self.0.get(name).cloned()
        }

        fn read_file(&self, _path: &std::path::Path) -> Option<String> {
            None
        }
    }

    pub(crate) fn variables(variables: &[(&str, &str)]) -> Variables {
        Variables(variables.iter().map(|(name, value)| ((*name).to_owned(), (*value).to_owned())).collect())
    }

    fn from_variables(pairs: &[(&str, &str)]) -> OpenAIConfig {
        OpenAIConfig::from_environment(&variables(pairs)).unwrap_or_else(|error| panic!("{error}"))
    }

    #[test]
    fn vllora_variables_win_over_openai_ones() {
        let config = from_variables(&[
            ("VLLORA_OPENAI_API_KEY", "sk-vllora"),
            ("OPENAI_API_KEY", "sk-openai"),
            ("OPENAI_BASE_URL", "https://gateway.example/v1"),
        ]);
        assert_eq!(config.api_key().map(Secret::expose), Some("sk-vllora"));
        assert_eq!(config.base_url(), "https://gateway.example/v1");
        let config = from_variables(&[
            ("OPENAI_API_KEY", "sk-openai"),
            ("VLLORA_OPENAI_ENDPOINT", "http://127.0.0.1:9/v1"),
            ("OPENAI_BASE_URL", "https://gateway.example/v1"),
        ]);
        assert_eq!(config.api_key().map(Secret::expose), Some("sk-openai"));
        assert_eq!(chat_url(&config), "http://127.0.0.1:9/v1/chat/completions");
        let config = from_variables(&[]);
        assert_eq!(chat_url(&config), "https://api.openai.com/v1/chat/completions");
        assert!(matches!(config.check_credentials(), Err(LLMError::MissingCredentials { .. })));
        let blank = from_variables(&[("OPENAI_API_KEY", "  "), ("OPENAI_ORG_ID", "")]);
        assert_eq!((blank.api_key(), blank.organization()), (None, None), "blank counts as unset");
    }

    #[test]
    fn proxy_names_its_variables() {
        let env =
            variables(&[("VLLORA_MY_VLLM_ENDPOINT", "http://gpu:8000/v1/"), ("VLLORA_MY_VLLM_API_KEY", "k")]);
        let config = OpenAIConfig::proxy_from_environment("my-vllm", None, &env).ok();
        let config = config.unwrap_or_else(|| OpenAIConfig::proxy("missing", ""));
        assert_eq!(config.provider_name(), "my-vllm");
        assert_eq!(chat_url(&config), "http://gpu:8000/v1/chat/completions");
        assert_eq!(config.api_key().map(Secret::expose), Some("k"));

        let explicit =
            OpenAIConfig::proxy_from_environment("local", Some("http://127.0.0.1:1/v1"), &variables(&[]));
        let explicit = explicit.unwrap_or_else(|_| OpenAIConfig::proxy("missing", ""));
        assert_eq!(explicit.api_key(), None, "a proxy without a key sends no authorization");
        assert!(explicit.check_credentials().is_ok());

        let error = OpenAIConfig::proxy_from_environment("local", None, &variables(&[])).err();
        let message = error.map(|error| error.to_string()).unwrap_or_default();
        assert!(message.contains("VLLORA_LOCAL_ENDPOINT"), "{message}");
    }

    #[test]
    fn a_proxy_dialect_comes_from_its_variable_name_or_host() {
        let env =
            variables(&[("VLLORA_LOCAL_ENDPOINT", "http://gpu:8000/v1"), ("VLLORA_LOCAL_DIALECT", "VLLM")]);
        let config = OpenAIConfig::proxy_from_environment("local", None, &env).ok();
        assert_eq!(config.map(|config| config.host_dialect()), Some(OpenAIDialect::Vllm));
        let env = variables(&[
            ("VLLORA_LOCAL_ENDPOINT", "http://gpu:8000/v1"),
            ("VLLORA_LOCAL_DIALECT", "klingon"),
        ]);
        let error =
            OpenAIConfig::proxy_from_environment("local", None, &env).err().map(|error| error.to_string());
        assert!(error.is_some_and(|message| message.contains("VLLORA_LOCAL_DIALECT")));
        let router = OpenAIConfig::proxy("router", "https://openrouter.ai/api/v1");
        assert_eq!(router.host_dialect(), OpenAIDialect::OpenRouter);
        let pinned = router.with_dialect(OpenAIDialect::Generic).with_base_url("https://api.deepseek.com");
        assert_eq!(pinned.host_dialect(), OpenAIDialect::Generic, "an explicit dialect stays");
        let moved = OpenAIConfig::proxy("p", "http://127.0.0.1:1").with_base_url("https://api.mistral.ai/v1");
        assert_eq!(moved.host_dialect(), OpenAIDialect::Mistral);
        assert_eq!(OpenAIConfig::new("k").host_dialect(), OpenAIDialect::OpenAI);
        // OpenAI's configuration pointed at a known compatible host speaks that host's dialect.
        let deepseek = from_variables(&[("OPENAI_BASE_URL", "https://api.deepseek.com/v1")]);
        assert_eq!(deepseek.host_dialect(), OpenAIDialect::DeepSeek);
        let moved = OpenAIConfig::new("k").with_base_url("https://openrouter.ai/api/v1");
        assert_eq!(moved.host_dialect(), OpenAIDialect::OpenRouter);
        assert_eq!(moved.with_base_url("https://gateway.example/v1").host_dialect(), OpenAIDialect::OpenAI);
    }

    #[test]
    fn azure_from_the_environment() {
        let env = variables(&[
            ("AZURE_OPENAI_ENDPOINT", "https://res.openai.azure.com"),
            ("AZURE_OPENAI_API_KEY", "k"),
        ]);
        let config = OpenAIConfig::azure_from_environment("chat", &env).ok();
        assert_eq!(
            config.map(|config| chat_url(&config)).as_deref(),
            Some(
                "https://res.openai.azure.com/openai/deployments/chat/chat/completions?api-version=2024-10-21"
            )
        );
        let missing = OpenAIConfig::azure_from_environment(
            "chat",
            &variables(&[("AZURE_OPENAI_ENDPOINT", "https://r")]),
        );
        assert!(
            matches!(missing, Err(LLMError::MissingCredentials { hint, .. }) if hint.contains("AZURE_OPENAI_API_KEY"))
        );
        let missing = OpenAIConfig::azure_from_environment("chat", &variables(&[]));
        assert!(missing.err().is_some_and(|error| error.to_string().contains("AZURE_OPENAI_ENDPOINT")));
    }

    #[test]
    fn debug_never_shows_the_key() {
        let config = OpenAIConfig::new("sk-live-secret");
        assert!(!format!("{config:?}").contains("sk-live-secret"));
        let azure = OpenAIConfig::azure("https://r", "d", "v", "azure-secret");
        assert!(!format!("{azure:?}").contains("azure-secret"));
    }

    #[test]
    fn credentials_give_key_and_endpoint() {
        let credentials = Credentials::ApiKeyWithEndpoint {
            api_key: Secret::new("sk-x"),
            endpoint: "https://gateway.example/v1".to_owned(),
        };
        let config = OpenAIConfig::from_credentials(&credentials).ok();
        assert_eq!(config.as_ref().map(OpenAIConfig::base_url), Some("https://gateway.example/v1"));
        assert_eq!(env_name("my-proxy.v2"), "MY_PROXY_V2");
    }
}
