//! [`AnthropicConfig`]: where the Messages API is, how to authenticate, which API version and betas to use.
//! Data only: the HTTP request is built from it in `endpoint.rs`.

use std::fmt;

use vllora_llm_core::{Credentials, Environment, LLMError, LLMResult, ProcessEnvironment, Secret};

use crate::PROVIDER_NAME;

/// Anthropic's public endpoint.
pub const DEFAULT_BASE_URL: &str = "https://api.anthropic.com";

/// The `anthropic-version` sent unless configured otherwise: the version the seed parameter table holds for.
pub const DEFAULT_API_VERSION: &str = "2023-06-01";

/// The API version that removed `temperature`, `top_p` and `top_k` (released 2026-10-21).
pub const API_VERSION_2026_10_21: &str = "2026-10-21";

/// How to reach Anthropic's Messages API.
///
/// `Debug` never shows the key.
#[derive(Clone)]
pub struct AnthropicConfig {
    api_key: Secret,
    base_url: String,
    api_version: String,
    bearer_auth: bool,
    betas: Vec<String>,
    default_max_tokens: Option<u32>,
}

/// Environment variable setting the `anthropic-version` header.
pub const API_VERSION_VARIABLE: &str = "VLLORA_ANTHROPIC_API_VERSION";

/// Environment variable adding betas to every request (comma-separated).
pub const BETAS_VARIABLE: &str = "VLLORA_ANTHROPIC_BETAS";

/// Environment variable setting the `max_tokens` of requests that give none.
pub const MAX_TOKENS_VARIABLE: &str = "VLLORA_ANTHROPIC_MAX_TOKENS";

impl AnthropicConfig {
    /// A configuration for `api_key` against Anthropic's public endpoint, API version `2023-06-01`.
    pub fn new(api_key: impl Into<Secret>) -> Self {
        AnthropicConfig {
            api_key: api_key.into(),
            base_url: DEFAULT_BASE_URL.to_owned(),
            api_version: DEFAULT_API_VERSION.to_owned(),
            bearer_auth: false,
            betas: Vec::new(),
            default_max_tokens: None,
        }
    }

    /// Reads the key from `VLLORA_ANTHROPIC_API_KEY`, then `ANTHROPIC_API_KEY`, and the base URL from
    /// `VLLORA_ANTHROPIC_ENDPOINT`, then `ANTHROPIC_BASE_URL` (default `https://api.anthropic.com`), in the
    /// process environment.
    pub fn from_env() -> LLMResult<Self> {
        Self::from_environment(&ProcessEnvironment)
    }

    /// [`AnthropicConfig::from_env`] over any [`Environment`] (a gateway's own key store, a test's map).
    /// Blank values count as unset.
    pub fn from_environment(env: &dyn Environment) -> LLMResult<Self> {
        let first = |names: &[&str]| {
            names.iter().find_map(|name| env.var(name).filter(|value| !value.trim().is_empty()))
        };
        let api_key = first(&["VLLORA_ANTHROPIC_API_KEY", "ANTHROPIC_API_KEY"]).ok_or_else(|| {
            LLMError::MissingCredentials {
                provider: PROVIDER_NAME.to_owned(),
                hint: "set VLLORA_ANTHROPIC_API_KEY or ANTHROPIC_API_KEY".to_owned(),
            }
        })?;
        let mut config = AnthropicConfig::new(api_key);
        if let Some(version) = first(&[API_VERSION_VARIABLE]) {
            config = config.with_api_version(version.trim());
        }
        for beta in first(&[BETAS_VARIABLE]).iter().flat_map(|betas| betas.split(',')) {
            if !beta.trim().is_empty() {
                config = config.with_beta(beta.trim());
            }
        }
        if let Some(max_tokens) = first(&[MAX_TOKENS_VARIABLE]) {
            let parsed = max_tokens.trim().parse::<u32>().ok().filter(|value| *value > 0);
            let value = parsed.ok_or_else(|| {
                LLMError::Config(format!(
                    "{MAX_TOKENS_VARIABLE} is a positive whole number, not {max_tokens:?}"
                ))
            })?;
            config = config.with_default_max_tokens(value);
        }
        Ok(match first(&["VLLORA_ANTHROPIC_ENDPOINT", "ANTHROPIC_BASE_URL"]) {
            Some(url) => config.with_base_url(url),
            None => config,
        })
    }

    /// A configuration from explicit credentials: an API key, optionally with its endpoint.
    pub fn from_credentials(credentials: &Credentials) -> LLMResult<Self> {
        match credentials {
            Credentials::ApiKey(key) => Ok(AnthropicConfig::new(key.clone())),
            Credentials::ApiKeyWithEndpoint { api_key, endpoint } => {
                Ok(AnthropicConfig::new(api_key.clone()).with_base_url(endpoint.clone()))
            }
            _ => Err(LLMError::Config(
                "Anthropic takes an API key (Credentials::ApiKey or ApiKeyWithEndpoint)".to_owned(),
            )),
        }
    }

    /// Sends requests to `url` instead (a proxy, a mock server, a compatible server). A trailing `/` or
    /// `/v1` is tolerated: requests always go to `{base}/v1/messages`.
    pub fn with_base_url(mut self, url: impl Into<String>) -> Self {
        let url = url.into();
        let trimmed = url.trim_end_matches('/');
        let trimmed = trimmed.strip_suffix("/v1").unwrap_or(trimmed);
        self.base_url = trimmed.to_owned();
        self
    }

    /// The `anthropic-version` header; `2023-06-01` by default. On `2026-10-21` the sampling parameters
    /// (`temperature`, `top_p`, `top_k`) are left out with a warning, as that version rejects them.
    pub fn with_api_version(mut self, version: impl Into<String>) -> Self {
        self.api_version = version.into();
        self
    }

    /// Authenticates with `Authorization: Bearer <key>` instead of `x-api-key` (what Anthropic's newer
    /// SDKs send, and what some gateways in front of Anthropic expect).
    pub fn with_bearer_auth(mut self, bearer: bool) -> Self {
        self.bearer_auth = bearer;
        self
    }

    /// Adds a beta to every request's `anthropic-beta` header (`context-1m-2025-08-07`...). Betas a
    /// request needs for a feature it uses are added on their own.
    pub fn with_beta(mut self, beta: impl Into<String>) -> Self {
        let beta = beta.into();
        if !self.betas.contains(&beta) {
            self.betas.push(beta);
        }
        self
    }

    /// The `max_tokens` of a request that sets neither `max_tokens` nor `max_completion_tokens` (Anthropic
    /// requires one), in place of the model family's default. It counts as the request's own, so no
    /// warning is given for it.
    pub fn with_default_max_tokens(mut self, max_tokens: u32) -> Self {
        self.default_max_tokens = Some(max_tokens);
        self
    }

    /// The configured default `max_tokens`, if any.
    pub fn default_max_tokens(&self) -> Option<u32> {
        self.default_max_tokens
    }

    /// The base URL, without a trailing `/`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The Messages endpoint.
    pub fn messages_url(&self) -> String {
        crate::endpoint::messages_url(&self.base_url)
    }

    /// The `anthropic-version` sent.
    pub fn api_version(&self) -> &str {
        &self.api_version
    }

    /// Whether the key goes out as a bearer token.
    pub fn bearer_auth(&self) -> bool {
        self.bearer_auth
    }

    /// The betas configured for every request.
    pub fn betas(&self) -> &[String] {
        &self.betas
    }

    /// The key.
    pub(crate) fn api_key(&self) -> &Secret {
        &self.api_key
    }

    /// Whether the configured version is `2026-10-21` or later (dates compare as strings).
    pub(crate) fn is_version_2026_10_21_or_later(&self) -> bool {
        self.api_version.as_str() >= API_VERSION_2026_10_21
    }
}

impl fmt::Debug for AnthropicConfig {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("AnthropicConfig")
            .field("api_key", &self.api_key)
            .field("base_url", &vllora_llm_http::RedactedUrl(&self.base_url))
            .field("api_version", &self.api_version)
            .field("bearer_auth", &self.bearer_auth)
            .field("betas", &self.betas)
            .field("default_max_tokens", &self.default_max_tokens)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Variables from a list; no files.
    #[derive(Debug)]
    struct Variables(Vec<(&'static str, &'static str)>);

    impl Environment for Variables {
        fn var(&self, name: &str) -> Option<String> {
            self.0.iter().find(|(key, _)| *key == name).map(|(_, value)| (*value).to_owned())
        }

        fn read_file(&self, _path: &std::path::Path) -> Option<String> {
            None
        }
    }

    fn from_pairs(pairs: &[(&'static str, &'static str)]) -> LLMResult<AnthropicConfig> {
        AnthropicConfig::from_environment(&Variables(pairs.to_vec()))
    }

    #[test]
    fn version_betas_and_default_max_tokens_come_from_the_environment() {
        let pairs = [
            ("ANTHROPIC_API_KEY", "sk"),
            (API_VERSION_VARIABLE, "2026-10-21"),
            (BETAS_VARIABLE, "context-1m-2025-08-07, interleaved-thinking-2025-05-14,"),
            (MAX_TOKENS_VARIABLE, "2048"),
        ];
        let Ok(config) = from_pairs(&pairs) else { panic!("key is set") };
        assert_eq!(config.api_version(), "2026-10-21");
        assert_eq!(config.betas(), ["context-1m-2025-08-07", "interleaved-thinking-2025-05-14"]);
        assert_eq!(config.default_max_tokens(), Some(2048));
        let wrong = from_pairs(&[("ANTHROPIC_API_KEY", "sk"), (MAX_TOKENS_VARIABLE, "lots")]);
        assert!(wrong.err().is_some_and(|error| error.to_string().contains(MAX_TOKENS_VARIABLE)));
    }

    #[test]
    fn environment_prefers_vllora_variables() {
        let pairs = [
            ("VLLORA_ANTHROPIC_API_KEY", "sk-vllora"),
            ("ANTHROPIC_API_KEY", "sk-plain"),
            ("ANTHROPIC_BASE_URL", "http://127.0.0.1:9/v1/"),
        ];
        let Ok(config) = from_pairs(&pairs) else { panic!("key is set") };
        assert_eq!(config.api_key().expose(), "sk-vllora");
        assert_eq!(config.messages_url(), "http://127.0.0.1:9/v1/messages");
        assert_eq!(config.api_version(), "2023-06-01");
    }

    #[test]
    fn environment_falls_back_to_anthropic_variables_and_default_url() {
        let pairs = [("ANTHROPIC_API_KEY", "sk-plain"), ("VLLORA_ANTHROPIC_API_KEY", "  ")];
        let Ok(config) = from_pairs(&pairs) else { panic!("key is set") };
        assert_eq!(config.api_key().expose(), "sk-plain");
        assert_eq!(config.messages_url(), "https://api.anthropic.com/v1/messages");
        let endpoint = [("ANTHROPIC_API_KEY", "k"), ("VLLORA_ANTHROPIC_ENDPOINT", "https://proxy.example")];
        let Ok(config) = from_pairs(&endpoint) else { panic!("key is set") };
        assert_eq!(config.base_url(), "https://proxy.example");
    }

    #[test]
    fn missing_key_is_a_clear_error() {
        let error = from_pairs(&[]).err().map(|error| error.to_string());
        assert_eq!(
            error.as_deref(),
            Some("no credentials for anthropic: set VLLORA_ANTHROPIC_API_KEY or ANTHROPIC_API_KEY")
        );
    }

    #[test]
    fn credentials_and_debug() {
        let with_endpoint = Credentials::ApiKeyWithEndpoint {
            api_key: Secret::new("sk-ant-secret"),
            endpoint: "http://localhost:8091".into(),
        };
        let Ok(config) = AnthropicConfig::from_credentials(&with_endpoint) else { panic!("api key") };
        let config = config.with_api_version("2026-10-21").with_beta("a").with_beta("a");
        assert_eq!(config.base_url(), "http://localhost:8091");
        assert!(config.is_version_2026_10_21_or_later());
        assert_eq!(config.betas(), ["a".to_owned()]);
        let debug = format!("{config:?}");
        assert!(!debug.contains("sk-ant-secret"), "{debug}");
        assert!(debug.contains("[redacted]"));
        let aws = Credentials::AwsBearer { api_key: Secret::new("x"), region: None };
        assert!(matches!(AnthropicConfig::from_credentials(&aws), Err(LLMError::Config(_))));
    }
}
