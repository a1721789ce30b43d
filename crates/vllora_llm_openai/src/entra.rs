//! Microsoft Entra ID tokens for Azure OpenAI (feature `azure`): the client credentials grant with a
//! client secret (`POST {authority}/{tenant}/oauth2/v2.0/token`), and managed identity through the
//! instance metadata service (`GET /metadata/identity/oauth2/token`, `Metadata: true`) or the
//! `IDENTITY_ENDPOINT` of App Service, Container Apps and Functions (`X-IDENTITY-HEADER`). Each is a
//! [`CredentialSource`] for the transport's `CachedCredential`.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Deserialize;
use vllora_llm_core::support::encode_path_segment;
use vllora_llm_core::{ApiError, BoxFuture, LLMError, LLMResult, Secret};
use vllora_llm_http::{
    Bytes, CredentialSource, Expiring, HeaderMap, HttpClient, HttpConfig, HttpRequest, Method, RetryPolicy,
    StatusCode, Timeouts,
};

use crate::azure::{AZURE_COGNITIVE_SERVICES_RESOURCE, AzureCredential};
use crate::config::AZURE_PROVIDER_NAME;

/// Where a managed identity's tokens come from.
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum ManagedIdentityEndpoint {
    /// The instance metadata service's token URL.
    Imds(String),
    /// App Service, Container Apps, Functions: `IDENTITY_ENDPOINT` and the `IDENTITY_HEADER` secret.
    AppService { endpoint: String, header: Secret },
}

impl fmt::Debug for ManagedIdentityEndpoint {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ManagedIdentityEndpoint::Imds(url) => formatter.debug_tuple("Imds").field(url).finish(),
            ManagedIdentityEndpoint::AppService { endpoint, .. } => {
                formatter.debug_struct("AppService").field("endpoint", endpoint).finish_non_exhaustive()
            }
        }
    }
}

/// The token source of `credential`; `None` for a key (sent as `api-key`, no token needed).
pub(crate) fn token_source(
    credential: &AzureCredential,
    authority_host: &str,
    managed_identity: &ManagedIdentityEndpoint,
    http: &HttpClient,
) -> Option<Arc<dyn CredentialSource<Secret>>> {
    match credential {
        AzureCredential::ApiKey(_) => None,
        AzureCredential::AccessToken(token) => Some(Arc::new(StaticToken(token.clone()))),
        AzureCredential::ClientSecret { tenant_id, client_id, client_secret } => {
            Some(Arc::new(ClientSecret {
                token_url: format!("{authority_host}/{}/oauth2/v2.0/token", encode_path_segment(tenant_id)),
                client_id: client_id.clone(),
                client_secret: client_secret.clone(),
                http: http.clone(),
            }))
        }
        AzureCredential::ManagedIdentity { client_id } => Some(Arc::new(ManagedIdentity {
            endpoint: managed_identity.clone(),
            client_id: client_id.clone(),
            http: metadata_http(http),
        })),
    }
}

/// The metadata services are asked with short timeouts: a host without one must not hold a call.
fn metadata_http(http: &HttpClient) -> HttpClient {
    HttpClient::with_transport(
        Arc::clone(http.transport()),
        HttpConfig {
            timeouts: Timeouts {
                connect: Some(Duration::from_secs(1)),
                first_byte: Some(Duration::from_secs(2)),
                idle: Some(Duration::from_secs(2)),
                total: Some(Duration::from_secs(10)),
                ..Timeouts::default()
            },
            retry: RetryPolicy {
                max_attempts: 3,
                initial_backoff: Duration::from_millis(100),
                max_backoff: Duration::from_secs(1),
                max_retry_after: Duration::from_secs(2),
            },
            limits: http.config().limits,
        },
    )
}

/// A token given as it is.
struct StaticToken(Secret);

impl fmt::Debug for StaticToken {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("StaticToken([redacted])")
    }
}

impl CredentialSource<Secret> for StaticToken {
    fn fetch(&self) -> BoxFuture<'_, LLMResult<Expiring<Secret>>> {
        Box::pin(async move { Ok(Expiring::forever(self.0.clone())) })
    }
}

/// The client credentials grant with a client secret.
struct ClientSecret {
    token_url: String,
    client_id: String,
    client_secret: Secret,
    http: HttpClient,
}

impl fmt::Debug for ClientSecret {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("ClientSecret")
            .field("token_url", &self.token_url)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

impl CredentialSource<Secret> for ClientSecret {
    fn fetch(&self) -> BoxFuture<'_, LLMResult<Expiring<Secret>>> {
        Box::pin(async move {
            let form = format!(
                "grant_type=client_credentials&client_id={}&scope={}&client_secret={}",
                encode_path_segment(&self.client_id),
                encode_path_segment(&format!("{AZURE_COGNITIVE_SERVICES_RESOURCE}/.default")),
                encode_path_segment(self.client_secret.expose()),
            );
            let mut request = HttpRequest::new(Method::POST, self.token_url.clone())
                .header("content-type", "application/x-www-form-urlencoded")?
                .header("accept", "application/json")?;
            request.body = Bytes::from(form);
            let what = format!("the Entra ID client secret of `{}` at {}", self.client_id, self.token_url);
            let reply =
                self.http.send(request, &map_token_error).await.map_err(|error| failed(&what, error))?;
            parse_token(&reply.body, &what)
        })
    }
}

/// A managed identity's token from the platform.
struct ManagedIdentity {
    endpoint: ManagedIdentityEndpoint,
    client_id: Option<String>,
    http: HttpClient,
}

impl fmt::Debug for ManagedIdentity {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("ManagedIdentity")
            .field("endpoint", &self.endpoint)
            .field("client_id", &self.client_id)
            .finish()
    }
}

impl CredentialSource<Secret> for ManagedIdentity {
    fn fetch(&self) -> BoxFuture<'_, LLMResult<Expiring<Secret>>> {
        Box::pin(async move {
            let resource = encode_path_segment(AZURE_COGNITIVE_SERVICES_RESOURCE);
            let client =
                self.client_id.as_deref().map(|id| format!("&client_id={}", encode_path_segment(id)));
            let client = client.unwrap_or_default();
            let (request, what) = match &self.endpoint {
                ManagedIdentityEndpoint::Imds(url) => (
                    HttpRequest::new(
                        Method::GET,
                        format!("{url}?api-version=2018-02-01&resource={resource}{client}"),
                    )
                    .header("metadata", "true")?,
                    format!("the managed identity token from the instance metadata service at {url}"),
                ),
                ManagedIdentityEndpoint::AppService { endpoint, header } => (
                    HttpRequest::new(
                        Method::GET,
                        format!("{endpoint}?api-version=2019-08-01&resource={resource}{client}"),
                    )
                    .secret_header("x-identity-header", header)?,
                    format!("the managed identity token from IDENTITY_ENDPOINT {endpoint}"),
                ),
            };
            let reply =
                self.http.send(request, &map_token_error).await.map_err(|error| failed(&what, error))?;
            parse_token(&reply.body, &what)
        })
    }
}

/// A token source that failed: `MissingCredentials` naming it and why.
fn failed(what: &str, error: LLMError) -> LLMError {
    LLMError::MissingCredentials {
        provider: AZURE_PROVIDER_NAME.to_owned(),
        hint: format!("{what} failed: {error}"),
    }
}

/// A number that the metadata service writes as a string and Entra ID as a number.
#[derive(Deserialize)]
#[serde(untagged)]
enum Seconds {
    Number(u64),
    Text(String),
}

impl Seconds {
    fn value(&self) -> Option<u64> {
        match self {
            Seconds::Number(number) => Some(*number),
            Seconds::Text(text) => text.trim().parse().ok(),
        }
    }
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: Option<String>,
    expires_in: Option<Seconds>,
    expires_on: Option<Seconds>,
}

/// `{"access_token": "...", "expires_in": 3599}` (Entra ID), or with `expires_on` in seconds since the
/// epoch (managed identity).
pub(crate) fn parse_token(body: &[u8], what: &str) -> LLMResult<Expiring<Secret>> {
    let answer: TokenAnswer = serde_json::from_slice(body)
        .map_err(|_| LLMError::Config(format!("{what}: the answer is not a token JSON document")))?;
    let token = answer.access_token.filter(|token| !token.is_empty());
    let token = token.ok_or_else(|| LLMError::Config(format!("{what}: the answer has no access_token")))?;
    let expires_at = match (
        answer.expires_on.as_ref().and_then(Seconds::value),
        answer.expires_in.as_ref().and_then(Seconds::value),
    ) {
        (Some(on), _) => UNIX_EPOCH.checked_add(Duration::from_secs(on)),
        (None, Some(seconds)) => SystemTime::now().checked_add(Duration::from_secs(seconds)),
        (None, None) => None,
    };
    // A token without a stated lifetime is kept for five minutes past the refresh window, not forever.
    let expires_at = expires_at.or_else(|| SystemTime::now().checked_add(Duration::from_secs(600)));
    Ok(Expiring { value: Secret::new(token), expires_at })
}

#[derive(Deserialize)]
struct TokenError {
    error: Option<String>,
    error_description: Option<String>,
    /// The metadata service's spelling.
    message: Option<String>,
}

/// Entra ID's `{"error": "invalid_client", "error_description": "AADSTS7000215: ..."}` and the metadata
/// service's errors; their descriptions name no secret.
fn map_token_error(status: StatusCode, _headers: &HeaderMap, body: &[u8]) -> LLMError {
    let parsed: Option<TokenError> = serde_json::from_slice(body).ok();
    let (code, message) = match parsed {
        Some(error) => (error.error, error.error_description.or(error.message)),
        None => (None, None),
    };
    let message = message.unwrap_or_else(|| format!("HTTP {}", status.as_u16()));
    let mut api = ApiError::new("azure.entra_id", Some(status.as_u16()), message);
    api.error_type = code;
    api.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_from_entra_and_from_the_metadata_service() {
        let entra = parse_token(
            br#"{"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":"eyJ0"}"#,
            "t",
        );
        let Ok(entra) = entra else { panic!("{entra:?}") };
        assert_eq!(entra.value.expose(), "eyJ0");
        let lifetime =
            entra.expires_at.and_then(|at| at.duration_since(SystemTime::now()).ok()).unwrap_or_default();
        assert!(
            lifetime > Duration::from_secs(3500) && lifetime <= Duration::from_secs(3599),
            "{lifetime:?}"
        );
        let imds = parse_token(
            br#"{"access_token":"eyJ1","refresh_token":"","expires_in":"86399","expires_on":"1714568400","not_before":"1714481700","resource":"https://cognitiveservices.azure.com","token_type":"Bearer"}"#,
            "t",
        );
        let Ok(imds) = imds else { panic!("{imds:?}") };
        assert_eq!(imds.expires_at, Some(UNIX_EPOCH + Duration::from_secs(1_714_568_400)));
        let error = parse_token(br#"{"token_type":"Bearer"}"#, "the test source")
            .err()
            .map(|error| error.to_string());
        assert!(
            error.is_some_and(|error| error.contains("the test source") && error.contains("access_token"))
        );
    }

    #[test]
    fn entra_errors_keep_their_code_and_description() {
        let error = map_token_error(
            StatusCode::UNAUTHORIZED,
            &HeaderMap::new(),
            br#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.","error_codes":[7000215]}"#,
        );
        assert!(error.to_string().contains("AADSTS7000215"), "{error}");
        assert_eq!(error.api_error().and_then(|api| api.error_type.as_deref()), Some("invalid_client"));
    }
}
