//! [`GoogleAuth`]: access tokens from [`GoogleCredentials`], cached and refreshed before they expire, one
//! refresh at a time; and the token exchanges themselves (service account JWT, refresh token, metadata
//! server), over the caller's [`HttpClient`].

use std::fmt;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::Deserialize;
use vllora_llm_core::support::encode_path_segment;
use vllora_llm_core::{ApiError, LLMError, LLMResult, Secret};
use vllora_llm_http::{Bytes, HeaderMap, HttpClient, HttpRequest, Method, StatusCode};

use crate::PROVIDER_NAME;
use crate::credentials::{AuthorizedUser, GoogleCredentials, MetadataServer, ServiceAccountKey};
use crate::jwt::{Claims, assertion};

/// The OAuth scope Vertex AI needs.
pub const CLOUD_PLATFORM_SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";

/// A token is refreshed this long before it expires (Google's libraries use the same margin).
const REFRESH_AHEAD: Duration = Duration::from_secs(225);

/// A token is not sent when it expires within this: the request could arrive after it.
const EXPIRY_SKEW: Duration = Duration::from_secs(10);

/// The lifetime assumed when a token endpoint does not say (Google's tokens last an hour).
const DEFAULT_LIFETIME: u64 = 3600;

const METADATA_FLAVOR: &str = "Metadata-Flavor";

/// Access tokens for one set of credentials. Cheap to clone: clones share the cached token, so build it
/// once and hand it to every model that calls Vertex AI with these credentials.
#[derive(Clone)]
pub struct GoogleAuth {
    inner: Arc<Inner>,
}

struct Inner {
    credentials: GoogleCredentials,
    cached: RwLock<Option<CachedToken>>,
    /// Held while a token is fetched: one refresh at a time.
    refresh: tokio::sync::Mutex<()>,
    /// Counts the tokens stored, so a caller that waited for a refresh knows one happened.
    generation: AtomicU64,
    exchanges: AtomicUsize,
    /// The project the metadata server names, asked once.
    metadata_project: tokio::sync::OnceCell<String>,
}

#[derive(Clone)]
struct CachedToken {
    token: Secret,
    /// Until then the token is used without a thought.
    fresh_until: Instant,
    /// After this it is not sent at all.
    usable_until: Instant,
}

impl fmt::Debug for GoogleAuth {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("GoogleAuth")
            .field("credentials", &self.inner.credentials)
            .finish_non_exhaustive()
    }
}

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(PoisonError::into_inner)
}

impl GoogleAuth {
    /// Tokens from `credentials`.
    pub fn new(credentials: GoogleCredentials) -> Self {
        GoogleAuth {
            inner: Arc::new(Inner {
                credentials,
                cached: RwLock::new(None),
                refresh: tokio::sync::Mutex::new(()),
                generation: AtomicU64::new(0),
                exchanges: AtomicUsize::new(0),
                metadata_project: tokio::sync::OnceCell::new(),
            }),
        }
    }

    /// The credentials.
    pub fn credentials(&self) -> &GoogleCredentials {
        &self.inner.credentials
    }

    /// How many token exchanges these credentials made (clones share the count).
    pub fn exchanges(&self) -> usize {
        self.inner.exchanges.load(Ordering::Relaxed)
    }

    /// The project billed for the calls of an authorized user (`x-goog-user-project`), when the
    /// credentials name one.
    pub fn quota_project(&self) -> Option<&str> {
        match &self.inner.credentials {
            GoogleCredentials::AuthorizedUser(user) => user.quota_project_id.as_deref(),
            _ => None,
        }
    }

    /// A token to send: the cached one while it is fresh, else a new one. Concurrent callers share one
    /// refresh; when a refresh fails while the old token is still valid, the old token is used (and the
    /// failure logged).
    pub async fn token(&self, http: &HttpClient) -> LLMResult<Secret> {
        if let GoogleCredentials::AccessToken(token) = &self.inner.credentials {
            return Ok(token.clone());
        }
        let seen = self.inner.generation.load(Ordering::Acquire);
        if let Some(cached) = self.cached() {
            if Instant::now() < cached.fresh_until {
                return Ok(cached.token);
            }
        }
        let _refreshing = self.inner.refresh.lock().await;
        let cached = self.cached();
        if let Some(cached) = &cached {
            let now = Instant::now();
            let refreshed_meanwhile = self.inner.generation.load(Ordering::Acquire) != seen;
            if now < cached.fresh_until || (refreshed_meanwhile && now < cached.usable_until) {
                return Ok(cached.token.clone());
            }
        }
        self.inner.exchanges.fetch_add(1, Ordering::Relaxed);
        match exchange(&self.inner.credentials, http).await {
            Ok(fetched) => {
                let now = Instant::now();
                let lifetime = Duration::from_secs(fetched.expires_in);
                let expires_at = now.checked_add(lifetime).unwrap_or(now);
                let entry = CachedToken {
                    token: fetched.token.clone(),
                    fresh_until: expires_at.checked_sub(REFRESH_AHEAD).unwrap_or(now),
                    usable_until: expires_at.checked_sub(EXPIRY_SKEW).unwrap_or(now),
                };
                *self.inner.cached.write().unwrap_or_else(PoisonError::into_inner) = Some(entry);
                self.inner.generation.fetch_add(1, Ordering::Release);
                Ok(fetched.token)
            }
            Err(error) => match cached {
                Some(cached) if Instant::now() < cached.usable_until => {
                    tracing::warn!(
                        credentials = %self.inner.credentials.describe(),
                        error = %error,
                        "refreshing the Google access token failed; the current one is still valid"
                    );
                    Ok(cached.token)
                }
                _ => Err(error),
            },
        }
    }

    /// The project the metadata server runs in, asked once (only for metadata server credentials).
    pub async fn metadata_project(&self, http: &HttpClient) -> LLMResult<Option<String>> {
        let GoogleCredentials::MetadataServer(server) = &self.inner.credentials else { return Ok(None) };
        let project = self.inner.metadata_project.get_or_try_init(|| metadata_project(server, http)).await?;
        Ok(Some(project.clone()))
    }

    fn cached(&self) -> Option<CachedToken> {
        read(&self.inner.cached).clone()
    }
}

/// What a token endpoint answered.
struct Fetched {
    token: Secret,
    expires_in: u64,
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: Option<String>,
    expires_in: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct TokenErrorAnswer {
    error: Option<serde_json::Value>,
    error_description: Option<String>,
}

async fn exchange(credentials: &GoogleCredentials, http: &HttpClient) -> LLMResult<Fetched> {
    match credentials {
        GoogleCredentials::ServiceAccount(key) => service_account(key, http).await,
        GoogleCredentials::AuthorizedUser(user) => authorized_user(user, http).await,
        GoogleCredentials::MetadataServer(server) => metadata_token(server, http).await,
        GoogleCredentials::AccessToken(token) => {
            Ok(Fetched { token: token.clone(), expires_in: DEFAULT_LIFETIME })
        }
    }
}

fn now_seconds() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|elapsed| elapsed.as_secs()).unwrap_or(0)
}

fn form_post(url: &str, form: &[(&str, &str)]) -> LLMResult<HttpRequest> {
    let body: Vec<String> = form
        .iter()
        .map(|(name, value)| format!("{}={}", encode_path_segment(name), encode_path_segment(value)))
        .collect();
    let mut request = HttpRequest::new(Method::POST, url);
    request.body = Bytes::from(body.join("&"));
    request.header("content-type", "application/x-www-form-urlencoded")
}

async fn service_account(key: &ServiceAccountKey, http: &HttpClient) -> LLMResult<Fetched> {
    let claims = Claims {
        issuer: &key.client_email,
        scope: CLOUD_PLATFORM_SCOPE,
        audience: &key.token_uri,
        issued_at: now_seconds(),
    };
    let jwt = assertion(&key.key, key.private_key_id.as_deref(), &claims)?;
    let request = form_post(
        &key.token_uri,
        &[("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"), ("assertion", &jwt)],
    )?;
    let what = format!(
        "the token exchange of service account {} (key from {}) at {}",
        key.client_email, key.origin, key.token_uri
    );
    token_call(http, request, &what).await
}

async fn authorized_user(user: &AuthorizedUser, http: &HttpClient) -> LLMResult<Fetched> {
    let request = form_post(
        &user.token_uri,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", &user.client_id),
            ("client_secret", user.client_secret.expose()),
            ("refresh_token", user.refresh_token.expose()),
        ],
    )?;
    let what = format!(
        "the refresh token exchange of the authorized user from {} at {}",
        user.origin, user.token_uri
    );
    token_call(http, request, &what).await
}

async fn metadata_token(server: &MetadataServer, http: &HttpClient) -> LLMResult<Fetched> {
    let url = format!("{}/computeMetadata/v1/instance/service-accounts/default/token", server.base_url);
    let request = HttpRequest::new(Method::GET, url).header(METADATA_FLAVOR, "Google")?;
    let what = format!("the metadata server at {}", server.base_url);
    let on_error = error_mapper(&what);
    let reply = match http.send(request, &on_error).await {
        Ok(reply) => reply,
        // No HTTP answer at all (refused, no such host, timed out): not on Google Cloud.
        Err(error) if error.api_error().is_none() => {
            return Err(unreachable_metadata(server, &error.to_string()));
        }
        Err(other) => return Err(other),
    };
    check_flavor(&reply.headers, &what)?;
    parse_token(&reply.body, &what)
}

/// The error when no credential source answered: everything tried, in order.
fn unreachable_metadata(server: &MetadataServer, why: &str) -> LLMError {
    let mut tried = server.tried.clone();
    tried.push(format!("the metadata server at {} could not be reached ({why})", server.base_url));
    LLMError::MissingCredentials {
        provider: PROVIDER_NAME.to_owned(),
        hint: format!(
            "no Google credentials found: {}. Set GOOGLE_APPLICATION_CREDENTIALS to a key file, run `gcloud auth \
             application-default login`, or set VLLORA_VERTEX_ACCESS_TOKEN",
            tried.join("; ")
        ),
    }
}

fn check_flavor(headers: &HeaderMap, what: &str) -> LLMResult<()> {
    let flavor = headers.get(METADATA_FLAVOR).and_then(|value| value.to_str().ok());
    if flavor == Some("Google") {
        Ok(())
    } else {
        Err(LLMError::decode(
            PROVIDER_NAME,
            format!("{what} answered without `Metadata-Flavor: Google`: not a Google metadata server"),
        ))
    }
}

async fn metadata_project(server: &MetadataServer, http: &HttpClient) -> LLMResult<String> {
    let url = format!("{}/computeMetadata/v1/project/project-id", server.base_url);
    let request = HttpRequest::new(Method::GET, url).header(METADATA_FLAVOR, "Google")?;
    let what = format!("the metadata server at {} (project id)", server.base_url);
    let on_error = error_mapper(&what);
    let reply = http.send(request, &on_error).await?;
    check_flavor(&reply.headers, &what)?;
    let project = String::from_utf8_lossy(&reply.body).trim().to_owned();
    if project.is_empty() {
        return Err(LLMError::decode(PROVIDER_NAME, format!("{what} named no project")));
    }
    Ok(project)
}

async fn token_call(http: &HttpClient, request: HttpRequest, what: &str) -> LLMResult<Fetched> {
    let on_error = error_mapper(what);
    let reply = match http.send(request, &on_error).await {
        Ok(reply) => reply,
        Err(LLMError::Connection { message }) => {
            return Err(LLMError::Connection { message: format!("{what} could not be reached: {message}") });
        }
        Err(other) => return Err(other),
    };
    parse_token(&reply.body, what)
}

/// The transport's error mapper for a token request described by `what`.
fn error_mapper(what: &str) -> impl Fn(StatusCode, &HeaderMap, &[u8]) -> LLMError + Send + Sync + 'static {
    let what = what.to_owned();
    move |status: StatusCode, _: &HeaderMap, body: &[u8]| token_error(&what, status, body)
}

/// A refused token request: the endpoint's OAuth error (`invalid_grant`...) and what was tried. The
/// body is not kept: a token endpoint's answer may echo what was sent.
fn token_error(what: &str, status: StatusCode, body: &[u8]) -> LLMError {
    let answer: Option<TokenErrorAnswer> = serde_json::from_slice(body).ok();
    let (kind, description) = match answer {
        Some(TokenErrorAnswer { error, error_description }) => {
            let kind = match error {
                Some(serde_json::Value::String(kind)) => Some(kind),
                Some(serde_json::Value::Object(object)) => {
                    object.get("status").and_then(|status| status.as_str()).map(str::to_owned)
                }
                _ => None,
            };
            (kind, error_description)
        }
        None => (None, None),
    };
    let mut message = format!("{what} was refused");
    if let Some(description) = description.or_else(|| kind.clone()) {
        message.push_str(": ");
        message.push_str(&description);
    }
    let mut error = ApiError::new(PROVIDER_NAME, Some(status.as_u16()), message);
    error.error_type = kind;
    error.into()
}

fn parse_token(body: &[u8], what: &str) -> LLMResult<Fetched> {
    let answer: TokenAnswer = serde_json::from_slice(body).map_err(|_| {
        LLMError::decode(PROVIDER_NAME, format!("{what} answered something that is not a token"))
    })?;
    let token = answer
        .access_token
        .filter(|token| !token.is_empty())
        .ok_or_else(|| LLMError::decode(PROVIDER_NAME, format!("{what} answered without an access_token")))?;
    let expires_in = match answer.expires_in {
        Some(serde_json::Value::Number(number)) => number.as_u64().unwrap_or(0),
        Some(serde_json::Value::String(text)) => text.trim().parse().unwrap_or(0),
        _ => DEFAULT_LIFETIME,
    };
    Ok(Fetched { token: Secret::new(token), expires_in })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_answers_and_errors_are_read() {
        let fetched =
            parse_token(br#"{"access_token":"ya29.x","expires_in":3599,"token_type":"Bearer"}"#, "t");
        assert!(
            fetched.is_ok_and(|fetched| fetched.token.expose() == "ya29.x" && fetched.expires_in == 3599)
        );
        let quoted = parse_token(br#"{"access_token":"ya29.y","expires_in":"120"}"#, "t");
        assert!(quoted.is_ok_and(|fetched| fetched.expires_in == 120));
        assert!(matches!(parse_token(br#"{"token_type":"Bearer"}"#, "t"), Err(LLMError::Decode { .. })));
        let error = token_error(
            "the exchange",
            StatusCode::BAD_REQUEST,
            br#"{"error":"invalid_grant","error_description":"Invalid JWT Signature."}"#,
        );
        assert_eq!(
            error.to_string(),
            "gcp.vertex_ai API error (HTTP 400, invalid_grant): the exchange was refused: Invalid JWT Signature."
        );
        assert!(!error.is_retryable());
    }
}
