//! [`GeminiConfig`]: the API key and the base URL, from the environment or given explicitly. Data only:
//! the HTTP requests are built in `endpoint.rs`.

use vllora_llm_core::credentials::{Environment, ProcessEnvironment};
use vllora_llm_core::{Credentials, LLMError, LLMResult, Secret};

use crate::PROVIDER_NAME;

/// Google's Gemini API (Google AI Studio keys).
pub const DEFAULT_BASE_URL: &str = "https://generativelanguage.googleapis.com";

/// Environment variables holding the API key, in the order they are read.
pub const API_KEY_VARIABLES: [&str; 3] = ["VLLORA_GEMINI_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY"];

/// Environment variable overriding the base URL.
pub const ENDPOINT_VARIABLE: &str = "VLLORA_GEMINI_ENDPOINT";

/// How to reach Gemini. `Debug` shows the base URL and never the key.
#[derive(Clone, PartialEq, Eq)]
pub struct GeminiConfig {
    api_key: Secret,
    base_url: String,
    native_json_schema: bool,
}

/// Environment variable choosing how JSON schemas are sent: `native` (`responseJsonSchema`,
/// `parametersJsonSchema`, the schema untouched) or `normalised` (the default: Gemini's OpenAPI subset).
pub const SCHEMA_MODE_VARIABLE: &str = "VLLORA_GEMINI_SCHEMA_MODE";

/// The base URL without its `user:password@` or query; the key redacted.
impl std::fmt::Debug for GeminiConfig {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("GeminiConfig")
            .field("api_key", &self.api_key)
            .field("base_url", &vllora_llm_http::RedactedUrl(&self.base_url))
            .finish_non_exhaustive()
    }
}

impl GeminiConfig {
    /// A configuration for `api_key` against [`DEFAULT_BASE_URL`].
    pub fn new(api_key: impl Into<Secret>) -> Self {
        GeminiConfig {
            api_key: api_key.into(),
            base_url: DEFAULT_BASE_URL.to_owned(),
            native_json_schema: false,
        }
    }

    /// Reads the key from `VLLORA_GEMINI_API_KEY`, then `GEMINI_API_KEY`, then `GOOGLE_API_KEY` (empty
    /// values are skipped), and the base URL from `VLLORA_GEMINI_ENDPOINT` when set.
    pub fn from_env() -> LLMResult<Self> {
        Self::from_environment(&ProcessEnvironment)
    }

    /// [`GeminiConfig::from_env`] over any source of variables: the same variables, read through
    /// `env` (each at most once).
    pub fn from_environment(env: &dyn Environment) -> LLMResult<Self> {
        let non_empty = |name: &str| env.var(name).filter(|value| !value.trim().is_empty());
        let Some(api_key) = API_KEY_VARIABLES.iter().find_map(|name| non_empty(name)) else {
            return Err(LLMError::MissingCredentials {
                provider: PROVIDER_NAME.to_owned(),
                hint: format!("set {}", API_KEY_VARIABLES.join(", or ")),
            });
        };
        let mut config = GeminiConfig::new(api_key.trim().to_owned());
        if let Some(mode) = non_empty(SCHEMA_MODE_VARIABLE) {
            config.native_json_schema = match mode.trim().to_ascii_lowercase().as_str() {
                "native" => true,
                "normalised" | "normalized" => false,
                _ => {
                    return Err(LLMError::Config(format!(
                        "{SCHEMA_MODE_VARIABLE} is `native` or `normalised`, not {mode:?}"
                    )));
                }
            };
        }
        Ok(match non_empty(ENDPOINT_VARIABLE) {
            Some(endpoint) => config.with_base_url(endpoint),
            None => config,
        })
    }

    /// From explicit credentials: an API key, optionally with its endpoint.
    pub fn from_credentials(credentials: &Credentials) -> LLMResult<Self> {
        match credentials {
            Credentials::ApiKey(api_key) => Ok(GeminiConfig::new(api_key.clone())),
            Credentials::ApiKeyWithEndpoint { api_key, endpoint } => {
                Ok(GeminiConfig::new(api_key.clone()).with_base_url(endpoint.clone()))
            }
            _ => Err(LLMError::Config(
                "Gemini takes an API key (Credentials::ApiKey or ApiKeyWithEndpoint)".to_owned(),
            )),
        }
    }

    /// Another base URL: a proxy, a regional endpoint, a test server. Give the host
    /// (`https://example.com`) or the API root (`https://example.com/v1beta`); `/v1beta` is added when no
    /// version is given.
    pub fn with_base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into().trim().trim_end_matches('/').to_owned();
        self
    }

    /// Sends JSON schemas (response formats, tool parameters) untouched as `responseJsonSchema` and
    /// `parametersJsonSchema` (`true`), or normalised to Gemini's OpenAPI subset as `responseSchema` and
    /// `parameters` (`false`, the default). A request's `provider_specific.extra.native_json_schema`
    /// overrides it.
    pub fn with_native_json_schema(mut self, native: bool) -> Self {
        self.native_json_schema = native;
        self
    }

    /// Whether JSON schemas are sent natively by default.
    pub fn native_json_schema(&self) -> bool {
        self.native_json_schema
    }

    /// The base URL as given.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The API key.
    pub fn api_key(&self) -> &Secret {
        &self.api_key
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::endpoint::api_root;

    /// Variables from a list; no files.
    #[derive(Debug)]
    struct Variables(&'static [(&'static str, &'static str)]);

    impl Environment for Variables {
        fn var(&self, name: &str) -> Option<String> {
            self.0.iter().find(|(key, _)| *key == name).map(|(_, value)| (*value).to_owned())
        }

        fn read_file(&self, _path: &Path) -> Option<String> {
            None
        }
    }

    fn lookup(pairs: &'static [(&'static str, &'static str)]) -> Variables {
        Variables(pairs)
    }

    #[test]
    fn the_vllora_variable_wins_then_gemini_then_google() {
        let all =
            lookup(&[("VLLORA_GEMINI_API_KEY", "k1"), ("GEMINI_API_KEY", "k2"), ("GOOGLE_API_KEY", "k3")]);
        let Ok(config) = GeminiConfig::from_environment(&all) else { panic!("key set") };
        assert_eq!(config.api_key().expose(), "k1");
        let Ok(config) = GeminiConfig::from_environment(&lookup(&[
            ("VLLORA_GEMINI_API_KEY", " "),
            ("GEMINI_API_KEY", "k2"),
        ])) else {
            panic!("key set")
        };
        assert_eq!(config.api_key().expose(), "k2");
        let Ok(config) = GeminiConfig::from_environment(&lookup(&[("GOOGLE_API_KEY", "k3")])) else {
            panic!("key set")
        };
        assert_eq!(config.api_key().expose(), "k3");
        assert_eq!(api_root(&config), "https://generativelanguage.googleapis.com/v1beta");
    }

    #[test]
    fn a_missing_key_names_the_variables() {
        let Err(error) = GeminiConfig::from_environment(&lookup(&[])) else { panic!("no key") };
        let message = error.to_string();
        assert!(message.contains("VLLORA_GEMINI_API_KEY") && message.contains("GOOGLE_API_KEY"), "{message}");
    }

    #[test]
    fn the_endpoint_variable_and_base_urls_give_the_api_root() {
        let pairs = lookup(&[("GEMINI_API_KEY", "k"), ("VLLORA_GEMINI_ENDPOINT", "http://127.0.0.1:9/")]);
        let Ok(config) = GeminiConfig::from_environment(&pairs) else { panic!("key set") };
        assert_eq!(api_root(&config), "http://127.0.0.1:9/v1beta");
        let proxied = GeminiConfig::new("k").with_base_url("https://proxy.example/gemini/v1beta/");
        assert_eq!(api_root(&proxied), "https://proxy.example/gemini/v1beta");
    }

    #[test]
    fn debug_hides_the_key_and_credentials_are_accepted() {
        let config = GeminiConfig::new("AIzaSy-secret");
        assert!(!format!("{config:?}").contains("AIzaSy-secret"));
        let with_endpoint = Credentials::ApiKeyWithEndpoint {
            api_key: Secret::new("k"),
            endpoint: "http://localhost:1".into(),
        };
        let Ok(config) = GeminiConfig::from_credentials(&with_endpoint) else { panic!("api key") };
        assert_eq!(config.base_url(), "http://localhost:1");
        let aws = Credentials::AwsBearer { api_key: Secret::new("k"), region: None };
        assert!(matches!(GeminiConfig::from_credentials(&aws), Err(LLMError::Config(_))));
    }

    #[test]
    fn the_schema_mode_comes_from_the_environment() {
        let native = GeminiConfig::from_environment(&Variables(&[
            ("GEMINI_API_KEY", "k"),
            (SCHEMA_MODE_VARIABLE, "Native"),
        ]));
        assert_eq!(native.map(|config| config.native_json_schema()).ok(), Some(true));
        let default = GeminiConfig::from_environment(&Variables(&[("GEMINI_API_KEY", "k")]));
        assert_eq!(default.map(|config| config.native_json_schema()).ok(), Some(false));
        let wrong = GeminiConfig::from_environment(&Variables(&[
            ("GEMINI_API_KEY", "k"),
            (SCHEMA_MODE_VARIABLE, "raw"),
        ]));
        assert!(wrong.err().is_some_and(|error| error.to_string().contains(SCHEMA_MODE_VARIABLE)));
        assert!(GeminiConfig::new("k").with_native_json_schema(true).native_json_schema());
    }
}
