//! Credentials, and [`Secret`], a string that never shows itself in `Debug` or `Display`.

use std::fmt;

/// A secret string (an API key, a secret access key). `Debug` and `Display` print `[redacted]`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Box<str>);

impl Secret {
    /// Wraps a secret.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into().into_boxed_str())
    }

    /// The secret itself, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("Secret([redacted])")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("[redacted]")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret::new(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Secret::new(value)
    }
}

/// AWS credentials for Bedrock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsCredentials {
    /// The access key id (not secret on its own, but kept out of logs all the same).
    pub access_key_id: Secret,
    /// The secret access key.
    pub secret_access_key: Secret,
    /// The session token of temporary credentials.
    pub session_token: Option<Secret>,
    /// The region (`us-east-1`...); from the environment when unset.
    pub region: Option<String>,
}

/// Google Cloud credentials for Vertex AI, given explicitly. Unset fields are read from the environment
/// as without them (`GOOGLE_APPLICATION_CREDENTIALS`, gcloud's application default credentials, the
/// metadata server; `VLLORA_VERTEX_PROJECT`...).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct GoogleCloudCredentials {
    /// The text of a credentials file: a service account key (`"type": "service_account"`) or gcloud's
    /// authorized user file (`"type": "authorized_user"`).
    pub credentials_json: Option<Secret>,
    /// An OAuth access token used as is (from `gcloud auth print-access-token`, or your own token
    /// service); it is not refreshed.
    pub access_token: Option<Secret>,
    /// A Vertex AI express mode API key (Google models only, no project).
    pub api_key: Option<Secret>,
    /// The Google Cloud project.
    pub project: Option<String>,
    /// The location (`us-central1`, `europe-west4`, `global`...).
    pub location: Option<String>,
}

impl GoogleCloudCredentials {
    /// Credentials from the text of a service account key or authorized user file.
    pub fn from_json(json: impl Into<String>) -> Self {
        GoogleCloudCredentials { credentials_json: Some(Secret::new(json)), ..Default::default() }
    }

    /// An access token used as is.
    pub fn from_access_token(token: impl Into<String>) -> Self {
        GoogleCloudCredentials { access_token: Some(Secret::new(token)), ..Default::default() }
    }

    /// An express mode API key.
    pub fn from_api_key(key: impl Into<String>) -> Self {
        GoogleCloudCredentials { api_key: Some(Secret::new(key)), ..Default::default() }
    }

    /// The same, in `project`.
    pub fn with_project(mut self, project: impl Into<String>) -> Self {
        self.project = Some(project.into());
        self
    }

    /// The same, at `location`.
    pub fn with_location(mut self, location: impl Into<String>) -> Self {
        self.location = Some(location.into());
        self
    }
}

/// An API key, in the shape the user's documents build it:
/// `Credentials::ApiKey(ApiKeyCredentials { api_key: std::env::var("VLLORA_OPENAI_API_KEY")? })`.
///
/// The key is a plain `String` so that this literal compiles as documented; `Debug` prints
/// `[redacted]` all the same, and the key becomes a [`Secret`] as soon as a provider takes it.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKeyCredentials {
    /// The key.
    pub api_key: String,
}

impl fmt::Debug for ApiKeyCredentials {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.debug_struct("ApiKeyCredentials").field("api_key", &format_args!("[redacted]")).finish()
    }
}

impl From<&ApiKeyCredentials> for Secret {
    fn from(credentials: &ApiKeyCredentials) -> Self {
        Secret::new(credentials.api_key.as_str())
    }
}

impl From<ApiKeyCredentials> for Secret {
    fn from(credentials: ApiKeyCredentials) -> Self {
        Secret::new(credentials.api_key)
    }
}

impl From<Secret> for ApiKeyCredentials {
    fn from(secret: Secret) -> Self {
        ApiKeyCredentials { api_key: secret.expose().to_owned() }
    }
}

impl From<&str> for ApiKeyCredentials {
    fn from(api_key: &str) -> Self {
        ApiKeyCredentials { api_key: api_key.to_owned() }
    }
}

impl From<String> for ApiKeyCredentials {
    fn from(api_key: String) -> Self {
        ApiKeyCredentials { api_key }
    }
}

/// Credentials given to the client explicitly instead of read from the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Credentials {
    /// An API key.
    ApiKey(ApiKeyCredentials),
    /// An API key and the endpoint to use it with (an OpenAI-compatible proxy, Azure OpenAI).
    ApiKeyWithEndpoint {
        /// The key.
        api_key: Secret,
        /// The base URL.
        endpoint: String,
    },
    /// AWS signing credentials.
    Aws(AwsCredentials),
    /// A Bedrock API key (bearer token) and its region.
    AwsBearer {
        /// The key.
        api_key: Secret,
        /// The region.
        region: Option<String>,
    },
    /// Google Cloud credentials for Vertex AI.
    Google(GoogleCloudCredentials),
}

impl Credentials {
    /// An API key.
    pub fn api_key(key: impl Into<String>) -> Self {
        Credentials::ApiKey(ApiKeyCredentials { api_key: key.into() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_never_show_the_secret() {
        let credentials = Credentials::Aws(AwsCredentials {
            access_key_id: Secret::new("AKIDEXAMPLE"),
            secret_access_key: Secret::new("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
            session_token: Some(Secret::new("session-token-value")),
            region: Some("us-east-1".into()),
        });
        let debug = format!("{credentials:?}");
        for secret in ["AKIDEXAMPLE", "wJalrXUtnFEMI", "session-token-value"] {
            assert!(!debug.contains(secret), "{debug}");
        }
        assert!(debug.contains("us-east-1"));
        assert_eq!(Secret::new("sk-live").to_string(), "[redacted]");
        assert_eq!(
            format!("{:?}", Credentials::api_key("sk-live")),
            "ApiKey(ApiKeyCredentials { api_key: [redacted] })"
        );
        let documented = Credentials::ApiKey(ApiKeyCredentials { api_key: "sk-documented".to_owned() });
        assert!(!format!("{documented:?}").contains("sk-documented"));
        assert_eq!(Secret::from(&ApiKeyCredentials::from("sk-live")).expose(), "sk-live");
    }
}

/// Where configuration comes from: environment variables and (for AWS) shared configuration files.
///
/// Every provider's `from_environment` reads through it, so a gateway can serve keys from its own store
/// and a test can count what is read. [`ProcessEnvironment`] (the default) reads the process environment
/// and the file system. Reading a file may block: callers in async code do it off the runtime (the
/// `vllora_llm` facade resolves each provider once, on a blocking thread).
pub trait Environment: Send + Sync + fmt::Debug {
    /// The variable's value, when it is set (and valid Unicode).
    fn var(&self, name: &str) -> Option<String>;

    /// The whole text of a file, when it exists and can be read.
    fn read_file(&self, path: &std::path::Path) -> Option<String>;
}

/// The process environment and the file system.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessEnvironment;

impl Environment for ProcessEnvironment {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }

    fn read_file(&self, path: &std::path::Path) -> Option<String> {
        std::fs::read_to_string(path).ok()
    }
}
