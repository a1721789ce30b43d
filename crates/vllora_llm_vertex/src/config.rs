//! [`VertexConfig`]: how to reach Vertex AI — credentials, project, location and endpoint — from the
//! environment or given explicitly. Data only: tokens are fetched by [`GoogleAuth`], URLs built in
//! `endpoint.rs`.

use vllora_llm_core::{
    Credentials, Environment, GoogleCloudCredentials, LLMError, LLMResult, ProcessEnvironment, Secret,
};

use crate::PROVIDER_NAME;
use crate::credentials::GoogleCredentials;
use crate::token::GoogleAuth;

/// The location used when none is configured: the global endpoint, as Google's Gen AI SDK does.
pub const DEFAULT_LOCATION: &str = "global";

/// Variables naming the project, in the order they are read.
pub const PROJECT_VARIABLES: [&str; 2] = ["VLLORA_VERTEX_PROJECT", "GOOGLE_CLOUD_PROJECT"];

/// Variables naming the location, in the order they are read (`CLOUD_ML_REGION` is what Anthropic's
/// Vertex SDK reads).
pub const LOCATION_VARIABLES: [&str; 3] =
    ["VLLORA_VERTEX_LOCATION", "GOOGLE_CLOUD_LOCATION", "CLOUD_ML_REGION"];

/// The variable overriding the endpoint (`https://host`, a proxy, a test server).
pub const ENDPOINT_VARIABLE: &str = "VLLORA_VERTEX_ENDPOINT";

/// An express mode API key (Google models only, no project).
pub const API_KEY_VARIABLE: &str = "VLLORA_VERTEX_API_KEY";

/// An access token used as is.
pub const ACCESS_TOKEN_VARIABLE: &str = "VLLORA_VERTEX_ACCESS_TOKEN";

/// How calls authenticate.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum VertexAuth {
    /// OAuth access tokens from Google credentials (`Authorization: Bearer`).
    Google(GoogleAuth),
    /// An express mode API key (`x-goog-api-key`): Google's models without a project.
    ApiKey(Secret),
}

/// How to reach Vertex AI. Cheap to clone; clones share the cached access token. `Debug` shows no
/// secret.
#[derive(Debug, Clone)]
pub struct VertexConfig {
    pub(crate) auth: VertexAuth,
    pub(crate) project: Option<String>,
    pub(crate) location: String,
    pub(crate) base_url: Option<String>,
}

impl VertexConfig {
    /// Calls authenticated by `credentials`, in the project they name (if any), at [`DEFAULT_LOCATION`].
    pub fn new(credentials: GoogleCredentials) -> Self {
        let project = credentials.project().map(str::to_owned);
        VertexConfig::with_auth(VertexAuth::Google(GoogleAuth::new(credentials)), project)
    }

    /// Express mode: `api_key` for Google's models, no project.
    pub fn express(api_key: impl Into<Secret>) -> Self {
        VertexConfig::with_auth(VertexAuth::ApiKey(api_key.into()), None)
    }

    /// Calls with tokens from `auth` (shared with other configurations).
    pub fn from_auth(auth: GoogleAuth) -> Self {
        let project = auth.credentials().project().map(str::to_owned);
        VertexConfig::with_auth(VertexAuth::Google(auth), project)
    }

    fn with_auth(auth: VertexAuth, project: Option<String>) -> Self {
        VertexConfig { auth, project, location: DEFAULT_LOCATION.to_owned(), base_url: None }
    }

    /// From the process environment: see [`VertexConfig::from_environment`].
    pub fn from_env() -> LLMResult<Self> {
        Self::from_environment(&ProcessEnvironment)
    }

    /// From `env`: `VLLORA_VERTEX_API_KEY` (express mode), else `VLLORA_VERTEX_ACCESS_TOKEN`, else
    /// Google's application default credentials (`GOOGLE_APPLICATION_CREDENTIALS`, gcloud's file, the
    /// metadata server); the project from `VLLORA_VERTEX_PROJECT`, `GOOGLE_CLOUD_PROJECT`, the key file
    /// or the metadata server; the location from `VLLORA_VERTEX_LOCATION`, `GOOGLE_CLOUD_LOCATION`,
    /// `CLOUD_ML_REGION` (default `global`); the endpoint from `VLLORA_VERTEX_ENDPOINT`.
    pub fn from_environment(env: &dyn Environment) -> LLMResult<Self> {
        Self::from_parts(&GoogleCloudCredentials::default(), env)
    }

    /// From explicit credentials, with what they leave unset read from `env`: Google Cloud
    /// credentials, or an API key (express mode), optionally with its endpoint.
    pub fn from_credentials(credentials: &Credentials, env: &dyn Environment) -> LLMResult<Self> {
        match credentials {
            Credentials::Google(google) => Self::from_parts(google, env),
            Credentials::ApiKey(key) => {
                let key: Secret = key.clone().into();
                let google = GoogleCloudCredentials::from_api_key(key.expose());
                Self::from_parts(&google, env)
            }
            Credentials::ApiKeyWithEndpoint { api_key, endpoint } => {
                let google = GoogleCloudCredentials::from_api_key(api_key.expose());
                Ok(Self::from_parts(&google, env)?.with_base_url(endpoint.clone()))
            }
            _ => Err(LLMError::Config(
                "Vertex AI takes Google Cloud credentials (Credentials::Google) or an express mode API key"
                    .to_owned(),
            )),
        }
    }

    fn from_parts(explicit: &GoogleCloudCredentials, env: &dyn Environment) -> LLMResult<Self> {
        let first = |names: &[&str]| {
            names.iter().find_map(|name| {
                env.var(name).map(|value| value.trim().to_owned()).filter(|value| !value.is_empty())
            })
        };
        let mut config = if let Some(key) = &explicit.api_key {
            VertexConfig::express(key.clone())
        } else if let Some(token) = &explicit.access_token {
            VertexConfig::new(GoogleCredentials::access_token(token.clone()))
        } else if let Some(json) = &explicit.credentials_json {
            VertexConfig::new(GoogleCredentials::from_json(json.expose(), "explicit JSON credentials")?)
        } else if let Some(key) = first(&[API_KEY_VARIABLE]) {
            VertexConfig::express(key)
        } else if let Some(token) = first(&[ACCESS_TOKEN_VARIABLE]) {
            VertexConfig::new(GoogleCredentials::access_token(token))
        } else {
            VertexConfig::new(GoogleCredentials::from_environment(env)?)
        };
        if let Some(project) = explicit.project.clone().or_else(|| first(&PROJECT_VARIABLES)) {
            config = config.with_project(project);
        }
        if let Some(location) = explicit.location.clone().or_else(|| first(&LOCATION_VARIABLES)) {
            config = config.with_location(location);
        }
        if let Some(endpoint) = first(&[ENDPOINT_VARIABLE]) {
            config = config.with_base_url(endpoint);
        }
        Ok(config)
    }

    /// In `project` (its id, `my-project`).
    pub fn with_project(mut self, project: impl Into<String>) -> Self {
        self.project = Some(project.into().trim().to_owned());
        self
    }

    /// At `location` (`us-central1`, `europe-west4`, `global`...).
    pub fn with_location(mut self, location: impl Into<String>) -> Self {
        self.location = location.into().trim().to_ascii_lowercase();
        self
    }

    /// Sends to `url` instead of `https://{location}-aiplatform.googleapis.com` (a private endpoint, a
    /// proxy, a test server). Give the host; `/v1` is added unless the URL names a version.
    pub fn with_base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into().trim().trim_end_matches('/').to_owned());
        self
    }

    /// The project, when known without asking the metadata server.
    pub fn project(&self) -> Option<&str> {
        self.project.as_deref()
    }

    /// The location.
    pub fn location(&self) -> &str {
        &self.location
    }

    /// How calls authenticate.
    pub fn auth(&self) -> &VertexAuth {
        &self.auth
    }

    /// Whether this is express mode (an API key, no project).
    pub fn is_express(&self) -> bool {
        matches!(self.auth, VertexAuth::ApiKey(_))
    }

    /// The endpoint: the override, or the location's (`aiplatform.googleapis.com` for `global`).
    pub fn base_url(&self) -> String {
        match &self.base_url {
            Some(url) => url.clone(),
            None if self.location == DEFAULT_LOCATION || self.is_express() => {
                "https://aiplatform.googleapis.com".to_owned()
            }
            None => format!("https://{}-aiplatform.googleapis.com", self.location),
        }
    }

    /// An error naming what to set when the project is unknown.
    pub(crate) fn missing_project() -> LLMError {
        LLMError::MissingCredentials {
            provider: PROVIDER_NAME.to_owned(),
            hint: format!(
                "no Google Cloud project: set {} (or give one with VertexConfig::with_project)",
                PROJECT_VARIABLES.join(" or ")
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    #[derive(Debug)]
    struct Variables(Vec<(&'static str, &'static str)>);

    impl Environment for Variables {
        fn var(&self, name: &str) -> Option<String> {
            self.0.iter().find(|(key, _)| *key == name).map(|(_, value)| (*value).to_owned())
        }

        fn read_file(&self, _path: &Path) -> Option<String> {
            None
        }
    }

    #[test]
    fn vllora_variables_win_and_google_ones_follow() {
        let env = Variables(vec![
            ("VLLORA_VERTEX_ACCESS_TOKEN", "ya29.token"),
            ("VLLORA_VERTEX_PROJECT", "mine"),
            ("GOOGLE_CLOUD_PROJECT", "theirs"),
            ("GOOGLE_CLOUD_LOCATION", "europe-west4"),
        ]);
        let Ok(config) = VertexConfig::from_environment(&env) else { panic!("a token is set") };
        assert_eq!(config.project(), Some("mine"));
        assert_eq!(config.location(), "europe-west4");
        assert_eq!(config.base_url(), "https://europe-west4-aiplatform.googleapis.com");
        assert!(!format!("{config:?}").contains("ya29.token"));
        let env = Variables(vec![
            ("VLLORA_VERTEX_API_KEY", "AQ.key"),
            ("VLLORA_VERTEX_ENDPOINT", "http://127.0.0.1:9/"),
        ]);
        let Ok(config) = VertexConfig::from_environment(&env) else { panic!("a key is set") };
        assert!(config.is_express());
        assert_eq!(config.location(), "global");
        assert_eq!(config.base_url(), "http://127.0.0.1:9");
    }

    #[test]
    fn without_credentials_the_metadata_server_is_last_and_explicit_ones_win() {
        let env = Variables(vec![("HOME", "/home/someone"), ("GCE_METADATA_HOST", "127.0.0.1:1")]);
        let Ok(config) = VertexConfig::from_environment(&env) else { panic!("metadata is the fallback") };
        let VertexAuth::Google(auth) = config.auth() else { panic!("google credentials") };
        assert!(matches!(auth.credentials(), GoogleCredentials::MetadataServer(_)));
        let explicit = Credentials::Google(
            GoogleCloudCredentials::from_access_token("ya29.explicit")
                .with_project("p")
                .with_location("us-east5"),
        );
        let Ok(config) = VertexConfig::from_credentials(&explicit, &env) else { panic!("explicit") };
        assert_eq!((config.project(), config.location()), (Some("p"), "us-east5"));
        let aws = Credentials::AwsBearer { api_key: Secret::new("k"), region: None };
        assert!(matches!(VertexConfig::from_credentials(&aws, &env), Err(LLMError::Config(_))));
    }
}
