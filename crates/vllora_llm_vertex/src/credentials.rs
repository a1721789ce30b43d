//! [`GoogleCredentials`]: where access tokens come from, read from key files (service account,
//! authorized user) or found as Google's application default credentials do.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ring::signature::RsaKeyPair;
use rustls_pki_types::PrivateKeyDer;
use rustls_pki_types::pem::PemObject;
use serde::Deserialize;
use vllora_llm_core::{Environment, LLMError, LLMResult, Secret};

use crate::PROVIDER_NAME;

/// Google's OAuth 2.0 token endpoint, for key files that do not name one.
pub(crate) const DEFAULT_TOKEN_URI: &str = "https://oauth2.googleapis.com/token";

/// The metadata server's address on GCE, GKE and Cloud Run.
pub(crate) const DEFAULT_METADATA_HOST: &str = "metadata.google.internal";

/// Overrides the metadata server's address (`host[:port]`, or a URL), as Google's libraries read it.
pub const METADATA_HOST_VARIABLE: &str = "GCE_METADATA_HOST";

/// The variable naming a credentials file.
const APPLICATION_CREDENTIALS: &str = "GOOGLE_APPLICATION_CREDENTIALS";

/// Where access tokens come from.
#[derive(Clone)]
#[non_exhaustive]
pub enum GoogleCredentials {
    /// A service account key: an RS256-signed JWT exchanged at its `token_uri`.
    ServiceAccount(Arc<ServiceAccountKey>),
    /// gcloud's authorized user credentials: a refresh token exchanged at Google's token endpoint.
    AuthorizedUser(Arc<AuthorizedUser>),
    /// The metadata server of the machine (GCE, GKE with workload identity, Cloud Run, Cloud Functions).
    MetadataServer(MetadataServer),
    /// An access token used as is, never refreshed.
    AccessToken(Secret),
}

/// A service account key file's content. `Debug` shows the account, never the key.
pub struct ServiceAccountKey {
    pub(crate) client_email: String,
    pub(crate) private_key_id: Option<String>,
    pub(crate) token_uri: String,
    pub(crate) project_id: Option<String>,
    pub(crate) key: RsaKeyPair,
    pub(crate) origin: String,
}

/// An authorized user file's content. `Debug` shows the client id, never the secrets.
pub struct AuthorizedUser {
    pub(crate) client_id: String,
    pub(crate) client_secret: Secret,
    pub(crate) refresh_token: Secret,
    pub(crate) token_uri: String,
    pub(crate) quota_project_id: Option<String>,
    pub(crate) origin: String,
}

/// The metadata server, and what was looked for before it (for the error when it does not answer).
#[derive(Debug, Clone)]
pub struct MetadataServer {
    pub(crate) base_url: String,
    pub(crate) tried: Vec<String>,
}

impl fmt::Debug for ServiceAccountKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("ServiceAccountKey")
            .field("client_email", &self.client_email)
            .field("token_uri", &self.token_uri)
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for AuthorizedUser {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("AuthorizedUser")
            .field("client_id", &self.client_id)
            .field("token_uri", &self.token_uri)
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for GoogleCredentials {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GoogleCredentials::ServiceAccount(key) => {
                formatter.debug_tuple("ServiceAccount").field(key).finish()
            }
            GoogleCredentials::AuthorizedUser(user) => {
                formatter.debug_tuple("AuthorizedUser").field(user).finish()
            }
            GoogleCredentials::MetadataServer(server) => {
                formatter.debug_tuple("MetadataServer").field(&server.base_url).finish()
            }
            GoogleCredentials::AccessToken(token) => {
                formatter.debug_tuple("AccessToken").field(token).finish()
            }
        }
    }
}

/// The fields of every kind of credentials file this crate reads.
#[derive(Deserialize)]
struct KeyFile {
    #[serde(rename = "type")]
    kind: Option<String>,
    client_email: Option<String>,
    private_key: Option<String>,
    private_key_id: Option<String>,
    token_uri: Option<String>,
    project_id: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    refresh_token: Option<String>,
    quota_project_id: Option<String>,
}

impl GoogleCredentials {
    /// Credentials from the text of a key file: a service account key (`"type": "service_account"`) or
    /// gcloud's authorized user file (`"type": "authorized_user"`). `origin` says where the text came
    /// from, for errors (`GOOGLE_APPLICATION_CREDENTIALS=/path`, `explicit JSON`).
    pub fn from_json(json: &str, origin: &str) -> LLMResult<Self> {
        // serde_json's messages may quote the input; only the position is reported.
        let file: KeyFile = serde_json::from_str(json).map_err(|error| {
            LLMError::Config(format!(
                "{origin}: not a Google credentials file (invalid JSON at line {}, column {})",
                error.line(),
                error.column()
            ))
        })?;
        let missing = |field: &str, kind: &str| {
            LLMError::Config(format!("{origin}: the {kind} credentials have no `{field}`"))
        };
        match file.kind.as_deref() {
            Some("service_account") => {
                let kind = "service account";
                let client_email = file.client_email.ok_or_else(|| missing("client_email", kind))?;
                let pem = file.private_key.ok_or_else(|| missing("private_key", kind))?;
                let key = parse_private_key(&pem, origin)?;
                Ok(GoogleCredentials::ServiceAccount(Arc::new(ServiceAccountKey {
                    client_email,
                    private_key_id: file.private_key_id,
                    token_uri: file.token_uri.unwrap_or_else(|| DEFAULT_TOKEN_URI.to_owned()),
                    project_id: file.project_id,
                    key,
                    origin: origin.to_owned(),
                })))
            }
            Some("authorized_user") => {
                let kind = "authorized user";
                Ok(GoogleCredentials::AuthorizedUser(Arc::new(AuthorizedUser {
                    client_id: file.client_id.ok_or_else(|| missing("client_id", kind))?,
                    client_secret: Secret::new(
                        file.client_secret.ok_or_else(|| missing("client_secret", kind))?,
                    ),
                    refresh_token: Secret::new(
                        file.refresh_token.ok_or_else(|| missing("refresh_token", kind))?,
                    ),
                    token_uri: file.token_uri.unwrap_or_else(|| DEFAULT_TOKEN_URI.to_owned()),
                    quota_project_id: file.quota_project_id,
                    origin: origin.to_owned(),
                })))
            }
            Some(other) => Err(LLMError::Config(format!(
                "{origin}: Google credentials of type `{other}` are not supported (service_account and \
                 authorized_user are; for workload identity federation or impersonation, pass an access \
                 token)"
            ))),
            None => Err(LLMError::Config(format!("{origin}: a Google credentials file needs a `type`"))),
        }
    }

    /// An access token used as is (`gcloud auth print-access-token`, a token service of your own).
    pub fn access_token(token: impl Into<Secret>) -> Self {
        GoogleCredentials::AccessToken(token.into())
    }

    /// The metadata server at `url` (`http://metadata.google.internal` by default).
    pub fn metadata_server(url: impl Into<String>) -> Self {
        GoogleCredentials::MetadataServer(MetadataServer { base_url: url.into(), tried: Vec::new() })
    }

    /// Google's application default credentials: `GOOGLE_APPLICATION_CREDENTIALS`, then gcloud's file,
    /// then the metadata server (whose absence is only known when a token is asked of it: the error then
    /// names everything that was tried). Files are read through `env`.
    pub fn from_environment(env: &dyn Environment) -> LLMResult<Self> {
        let mut tried = Vec::new();
        match env.var(APPLICATION_CREDENTIALS).filter(|value| !value.trim().is_empty()) {
            Some(path) => {
                let path = path.trim();
                let origin = format!("{APPLICATION_CREDENTIALS}={path}");
                let Some(text) = env.read_file(Path::new(path)) else {
                    return Err(LLMError::MissingCredentials {
                        provider: PROVIDER_NAME.to_owned(),
                        hint: format!("{APPLICATION_CREDENTIALS} names {path}, which cannot be read"),
                    });
                };
                return GoogleCredentials::from_json(&text, &origin);
            }
            None => tried.push(format!("{APPLICATION_CREDENTIALS} is not set")),
        }
        match gcloud_file(env) {
            Some(path) => {
                if let Some(text) = env.read_file(&path) {
                    return GoogleCredentials::from_json(&text, &path.display().to_string());
                }
                tried.push(format!("{} does not exist", path.display()));
            }
            None => tried.push("gcloud's credentials file has no home (HOME is not set)".to_owned()),
        }
        let base_url = metadata_url(env.var(METADATA_HOST_VARIABLE).as_deref());
        Ok(GoogleCredentials::MetadataServer(MetadataServer { base_url, tried }))
    }

    /// The project the credentials name: a service account key's `project_id`, an authorized user's
    /// `quota_project_id`.
    pub fn project(&self) -> Option<&str> {
        match self {
            GoogleCredentials::ServiceAccount(key) => key.project_id.as_deref(),
            GoogleCredentials::AuthorizedUser(user) => user.quota_project_id.as_deref(),
            GoogleCredentials::MetadataServer(_) | GoogleCredentials::AccessToken(_) => None,
        }
    }

    /// What the credentials are, for errors and logs (never a secret).
    pub fn describe(&self) -> String {
        match self {
            GoogleCredentials::ServiceAccount(key) => {
                format!("service account {} (key from {})", key.client_email, key.origin)
            }
            GoogleCredentials::AuthorizedUser(user) => {
                format!("authorized user credentials from {}", user.origin)
            }
            GoogleCredentials::MetadataServer(server) => {
                format!("the metadata server at {}", server.base_url)
            }
            GoogleCredentials::AccessToken(_) => "an explicit access token".to_owned(),
        }
    }
}

/// The metadata server's base URL from `GCE_METADATA_HOST` (`host[:port]` or a URL).
fn metadata_url(host: Option<&str>) -> String {
    match host.map(str::trim).filter(|host| !host.is_empty()) {
        Some(url) if url.starts_with("http://") || url.starts_with("https://") => {
            url.trim_end_matches('/').to_owned()
        }
        Some(host) => format!("http://{}", host.trim_end_matches('/')),
        None => format!("http://{DEFAULT_METADATA_HOST}"),
    }
}

/// gcloud's application default credentials file.
fn gcloud_file(env: &dyn Environment) -> Option<PathBuf> {
    const FILE: &str = "application_default_credentials.json";
    let non_empty = |name: &str| env.var(name).filter(|value| !value.trim().is_empty());
    if let Some(directory) = non_empty("CLOUDSDK_CONFIG") {
        return Some(Path::new(&directory).join(FILE));
    }
    if cfg!(windows) {
        return non_empty("APPDATA").map(|directory| Path::new(&directory).join("gcloud").join(FILE));
    }
    non_empty("HOME").map(|home| Path::new(&home).join(".config").join("gcloud").join(FILE))
}

/// The RSA key of a service account: PEM, PKCS#8 (what Google issues) or PKCS#1.
fn parse_private_key(pem: &str, origin: &str) -> LLMResult<RsaKeyPair> {
    let invalid = |why: &str| LLMError::Config(format!("{origin}: the service account's private_key {why}"));
    let der =
        PrivateKeyDer::from_pem_slice(pem.as_bytes()).map_err(|_| invalid("is not a PEM private key"))?;
    let key = match &der {
        PrivateKeyDer::Pkcs8(der) => RsaKeyPair::from_pkcs8(der.secret_pkcs8_der()),
        PrivateKeyDer::Pkcs1(der) => RsaKeyPair::from_der(der.secret_pkcs1_der()),
        _ => return Err(invalid("is not an RSA key")),
    };
    key.map_err(|rejected| invalid(&format!("was rejected: {rejected}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_hosts_become_urls() {
        assert_eq!(metadata_url(None), "http://metadata.google.internal");
        assert_eq!(metadata_url(Some("127.0.0.1:8080")), "http://127.0.0.1:8080");
        assert_eq!(metadata_url(Some("http://127.0.0.1:9/")), "http://127.0.0.1:9");
    }

    #[test]
    fn files_of_other_types_and_broken_files_are_named_errors() {
        let external = r#"{"type": "external_account", "audience": "x"}"#;
        let error =
            GoogleCredentials::from_json(external, "explicit JSON").err().map(|error| error.to_string());
        assert!(
            error.is_some_and(|error| error.contains("external_account") && error.contains("explicit JSON"))
        );
        let broken = r#"{"type": "service_account", "private_key": "secret-value-"#;
        let error = GoogleCredentials::from_json(broken, "f.json").err().map(|error| error.to_string());
        assert!(
            error.as_deref().is_some_and(|error| !error.contains("secret-value") && error.contains("f.json"))
        );
        let no_key = r#"{"type": "service_account", "client_email": "a@b"}"#;
        let error = GoogleCredentials::from_json(no_key, "f.json").err().map(|error| error.to_string());
        assert!(error.is_some_and(|error| error.contains("private_key")));
        let bad_key = r#"{"type": "service_account", "client_email": "a@b", "private_key": "nope"}"#;
        let error = GoogleCredentials::from_json(bad_key, "f.json").err().map(|error| error.to_string());
        assert!(error.is_some_and(|error| error.contains("not a PEM private key")));
    }
}
