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

/// Credentials given to the client explicitly instead of read from the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Credentials {
    /// An API key.
    ApiKey(Secret),
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
}

impl Credentials {
    /// An API key.
    pub fn api_key(key: impl Into<String>) -> Self {
        Credentials::ApiKey(Secret::new(key))
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
        assert_eq!(format!("{:?}", Credentials::api_key("sk-live")), "ApiKey(Secret([redacted]))");
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
