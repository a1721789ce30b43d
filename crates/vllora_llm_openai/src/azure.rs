//! Azure OpenAI as one provider (feature `azure`): [`AzureOpenAIConfig`] (the resource endpoint, a
//! deployment per model, the `api-version` or the v1 API, an API key or Microsoft Entra ID) and
//! [`AzureOpenAI`], which hands out the OpenAI translator's [`OpenAIModel`] and [`OpenAIResponses`]
//! for any model over one HTTP client and one cached Entra ID token.
//!
//! The OpenAI translator is the same as for OpenAI; Azure is a transport: the URL
//! (`/openai/deployments/{deployment}/...?api-version=` or `/openai/v1/...`), the `api-key` header or an
//! `Authorization: Bearer` Entra ID token. Tokens are added by a layer over the HTTP transport
//! ([`EntraTransport`]), so every operation (chat, streams, embeddings, images, Responses) and every
//! retry carries a token that is fresh, from one [`CachedCredential`] per provider.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use vllora_llm_core::credentials::{Environment, ProcessEnvironment};
use vllora_llm_core::{BoxFuture, Credentials, LLMError, LLMResult, Secret};
use vllora_llm_http::{CachedCredential, HeaderValue, HttpClient, HttpRequest, HttpResponse, HttpTransport};

use crate::config::{AZURE_API_VERSION, AZURE_PROVIDER_NAME, OpenAIConfig};
use crate::entra::{ManagedIdentityEndpoint, token_source};
use crate::{OpenAIModel, OpenAIResponses};

/// The `api-version` value that selects Azure's v1 API (`/openai/v1/...`, the model in the body, no
/// version in the query).
pub const AZURE_V1_API: &str = "v1";

/// Microsoft Entra ID's public cloud authority.
pub const AZURE_AUTHORITY_HOST: &str = "https://login.microsoftonline.com";

/// The Azure instance metadata service's managed identity token endpoint.
pub const AZURE_IMDS_TOKEN_ENDPOINT: &str = "http://169.254.169.254/metadata/identity/oauth2/token";

/// The resource (scope without `/.default`) Azure OpenAI tokens are issued for.
pub const AZURE_COGNITIVE_SERVICES_RESOURCE: &str = "https://cognitiveservices.azure.com";

/// How requests to Azure OpenAI are authenticated. `Debug` never shows a secret.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AzureCredential {
    /// A resource key, sent as `api-key`.
    ApiKey(Secret),
    /// A Microsoft Entra ID token used as it is (not refreshed).
    AccessToken(Secret),
    /// An app registration's client secret, exchanged for tokens at
    /// `{authority}/{tenant_id}/oauth2/v2.0/token` (client credentials grant).
    ClientSecret {
        /// The directory (tenant) id.
        tenant_id: String,
        /// The application (client) id.
        client_id: String,
        /// The client secret.
        client_secret: Secret,
    },
    /// The managed identity of the VM, App Service, Container App or Function the program runs on: the
    /// instance metadata service, or `IDENTITY_ENDPOINT` where the platform sets it. `client_id` picks a
    /// user-assigned identity.
    ManagedIdentity {
        /// A user-assigned identity's client id; the system-assigned identity when `None`.
        client_id: Option<String>,
    },
}

impl fmt::Debug for AzureCredential {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AzureCredential::ApiKey(_) => formatter.write_str("ApiKey([redacted])"),
            AzureCredential::AccessToken(_) => formatter.write_str("AccessToken([redacted])"),
            AzureCredential::ClientSecret { tenant_id, client_id, .. } => formatter
                .debug_struct("ClientSecret")
                .field("tenant_id", tenant_id)
                .field("client_id", client_id)
                .finish_non_exhaustive(),
            AzureCredential::ManagedIdentity { client_id } => {
                formatter.debug_struct("ManagedIdentity").field("client_id", client_id).finish()
            }
        }
    }
}

/// Azure OpenAI: where the resource is, how to reach each model's deployment, and who calls. Data only.
///
/// ```
/// use vllora_llm_openai::{AzureCredential, AzureOpenAIConfig};
///
/// let config = AzureOpenAIConfig::new("https://my-resource.openai.azure.com", AzureCredential::ApiKey("key".into()))
///     .with_deployment("gpt-4o", "prod-gpt-4o");
/// assert_eq!(config.deployment("gpt-4o"), "prod-gpt-4o");
/// assert_eq!(config.deployment("gpt-4.1-mini"), "gpt-4.1-mini");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AzureOpenAIConfig {
    endpoint: String,
    credential: AzureCredential,
    api_version: String,
    deployments: BTreeMap<String, String>,
    authority_host: String,
    managed_identity: ManagedIdentityEndpoint,
}

/// A variable; blank counts as unset.
fn variable(env: &dyn Environment, name: &str) -> Option<String> {
    env.var(name).map(|value| value.trim().to_owned()).filter(|value| !value.is_empty())
}

impl AzureOpenAIConfig {
    /// The resource at `endpoint` (`https://my-resource.openai.azure.com`), with `credential`, the
    /// default `api-version` ([`AZURE_API_VERSION`]) and each model's deployment named as the model.
    pub fn new(endpoint: impl Into<String>, credential: AzureCredential) -> Self {
        AzureOpenAIConfig {
            endpoint: endpoint.into().trim_end_matches('/').to_owned(),
            credential,
            api_version: AZURE_API_VERSION.to_owned(),
            deployments: BTreeMap::new(),
            authority_host: AZURE_AUTHORITY_HOST.to_owned(),
            managed_identity: ManagedIdentityEndpoint::Imds(AZURE_IMDS_TOKEN_ENDPOINT.to_owned()),
        }
    }

    /// From the process environment: [`from_environment`](Self::from_environment).
    pub fn from_env() -> LLMResult<Self> {
        Self::from_environment(&ProcessEnvironment)
    }

    /// From `env`:
    /// - the endpoint from `VLLORA_AZURE_ENDPOINT`, else `AZURE_OPENAI_ENDPOINT` (required);
    /// - the credential: `VLLORA_AZURE_API_KEY` or `AZURE_OPENAI_API_KEY` (a key); else
    ///   `AZURE_OPENAI_AD_TOKEN` (an Entra ID token as is); else `AZURE_TENANT_ID`, `AZURE_CLIENT_ID` and
    ///   `AZURE_CLIENT_SECRET` (a client secret; one of them missing is an error naming it); else the
    ///   managed identity (`AZURE_CLIENT_ID` picks a user-assigned one), through `IDENTITY_ENDPOINT` and
    ///   `IDENTITY_HEADER` where the platform sets them (App Service, Container Apps, Functions), else the
    ///   instance metadata service (`AZURE_POD_IDENTITY_AUTHORITY_HOST` replaces its host);
    /// - `AZURE_OPENAI_API_VERSION`, else `OPENAI_API_VERSION`, else [`AZURE_API_VERSION`] (`v1`
    ///   selects the v1 API);
    /// - `VLLORA_AZURE_DEPLOYMENTS`: `model=deployment` pairs separated by commas;
    /// - `AZURE_AUTHORITY_HOST` for sovereign clouds.
    pub fn from_environment(env: &dyn Environment) -> LLMResult<Self> {
        let endpoint =
            variable(env, "VLLORA_AZURE_ENDPOINT").or_else(|| variable(env, "AZURE_OPENAI_ENDPOINT"));
        let endpoint = endpoint.ok_or_else(|| {
            LLMError::Config(
                "no Azure OpenAI endpoint: set AZURE_OPENAI_ENDPOINT (or VLLORA_AZURE_ENDPOINT) to \
                 https://<resource>.openai.azure.com"
                    .to_owned(),
            )
        })?;
        let mut config = AzureOpenAIConfig::new(endpoint, credential_from_environment(env)?);
        if let Some(version) =
            variable(env, "AZURE_OPENAI_API_VERSION").or_else(|| variable(env, "OPENAI_API_VERSION"))
        {
            config.api_version = version;
        }
        if let Some(pairs) = variable(env, "VLLORA_AZURE_DEPLOYMENTS") {
            for pair in pairs.split(',').map(str::trim).filter(|pair| !pair.is_empty()) {
                let Some((model, deployment)) = pair.split_once('=') else {
                    return Err(LLMError::Config(format!(
                        "VLLORA_AZURE_DEPLOYMENTS: `{pair}` is not `model=deployment`"
                    )));
                };
                config = config.with_deployment(model.trim(), deployment.trim());
            }
        }
        if let Some(authority) = variable(env, "AZURE_AUTHORITY_HOST") {
            config.authority_host = authority.trim_end_matches('/').to_owned();
        }
        config.managed_identity = match (variable(env, "IDENTITY_ENDPOINT"), variable(env, "IDENTITY_HEADER"))
        {
            (Some(endpoint), Some(header)) => {
                ManagedIdentityEndpoint::AppService { endpoint, header: Secret::new(header) }
            }
            _ => match variable(env, "AZURE_POD_IDENTITY_AUTHORITY_HOST") {
                Some(host) => ManagedIdentityEndpoint::Imds(format!(
                    "{}/metadata/identity/oauth2/token",
                    host.trim_end_matches('/')
                )),
                None => ManagedIdentityEndpoint::Imds(AZURE_IMDS_TOKEN_ENDPOINT.to_owned()),
            },
        };
        Ok(config)
    }

    /// Explicit credentials: [`Credentials::ApiKeyWithEndpoint`] (a key and the resource endpoint), or
    /// [`Credentials::ApiKey`] with the endpoint and the rest read from `env` as in
    /// [`from_environment`](Self::from_environment).
    pub fn from_credentials_in(credentials: &Credentials, env: &dyn Environment) -> LLMResult<Self> {
        match credentials {
            Credentials::ApiKeyWithEndpoint { api_key, endpoint } => {
                let base = match Self::from_environment(env) {
                    Ok(config) => config,
                    Err(_) => {
                        AzureOpenAIConfig::new(endpoint.clone(), AzureCredential::ApiKey(api_key.clone()))
                    }
                };
                Ok(AzureOpenAIConfig { endpoint: endpoint.trim_end_matches('/').to_owned(), ..base }
                    .with_credential(AzureCredential::ApiKey(api_key.clone())))
            }
            Credentials::ApiKey(api_key) => {
                let key = AzureCredential::ApiKey(Secret::from(api_key));
                let endpoint = variable(env, "VLLORA_AZURE_ENDPOINT")
                    .or_else(|| variable(env, "AZURE_OPENAI_ENDPOINT"))
                    .ok_or_else(|| {
                        LLMError::Config(
                            "no Azure OpenAI endpoint: set AZURE_OPENAI_ENDPOINT or pass \
                             Credentials::ApiKeyWithEndpoint"
                                .to_owned(),
                        )
                    })?;
                let base = Self::from_environment(env)
                    .unwrap_or_else(|_| AzureOpenAIConfig::new(endpoint.clone(), key.clone()));
                Ok(base.with_credential(key))
            }
            _ => Err(LLMError::Config(
                "Azure OpenAI takes an API key (Credentials::ApiKey or ApiKeyWithEndpoint), or Entra ID \
                 through the environment or AzureOpenAIConfig::with_credential"
                    .to_owned(),
            )),
        }
    }

    /// Authenticates with `credential` instead.
    pub fn with_credential(mut self, credential: AzureCredential) -> Self {
        self.credential = credential;
        self
    }

    /// Sends requests to this endpoint instead (a private endpoint, a gateway, a test server).
    pub fn with_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = endpoint.into().trim_end_matches('/').to_owned();
        self
    }

    /// Uses this `api-version` ([`AZURE_V1_API`], `v1`, selects the v1 API).
    pub fn with_api_version(mut self, api_version: impl Into<String>) -> Self {
        self.api_version = api_version.into();
        self
    }

    /// Uses the v1 API: `/openai/v1/chat/completions` (and embeddings, images, Responses), the
    /// deployment as the body's `model`, no `api-version`.
    pub fn with_v1_api(self) -> Self {
        self.with_api_version(AZURE_V1_API)
    }

    /// Sends requests for `model` to `deployment` (a model without one goes to the deployment of its name).
    pub fn with_deployment(mut self, model: impl Into<String>, deployment: impl Into<String>) -> Self {
        self.deployments.insert(model.into(), deployment.into());
        self
    }

    /// Asks Entra ID at this authority (`https://login.microsoftonline.us` for Azure Government...).
    pub fn with_authority_host(mut self, authority_host: impl Into<String>) -> Self {
        self.authority_host = authority_host.into().trim_end_matches('/').to_owned();
        self
    }

    /// Asks the instance metadata service at this token URL instead of [`AZURE_IMDS_TOKEN_ENDPOINT`].
    pub fn with_managed_identity_endpoint(mut self, token_url: impl Into<String>) -> Self {
        self.managed_identity = ManagedIdentityEndpoint::Imds(token_url.into());
        self
    }

    /// The resource endpoint.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The `api-version` (`v1` for the v1 API).
    pub fn api_version(&self) -> &str {
        &self.api_version
    }

    /// The credential.
    pub fn credential(&self) -> &AzureCredential {
        &self.credential
    }

    /// The deployment serving `model`: the configured one, else the model's own name.
    pub fn deployment<'a>(&'a self, model: &'a str) -> &'a str {
        self.deployments.get(model).map_or(model, String::as_str)
    }

    /// The OpenAI configuration of one deployment (the key, when the credential is a key).
    pub fn openai_config(&self, model: &str) -> OpenAIConfig {
        let key = match &self.credential {
            AzureCredential::ApiKey(key) => Some(key.clone()),
            _ => None,
        };
        OpenAIConfig::azure_deployment(&self.endpoint, self.deployment(model), &self.api_version, key)
    }
}

/// The credential `from_environment` finds.
fn credential_from_environment(env: &dyn Environment) -> LLMResult<AzureCredential> {
    if let Some(key) = variable(env, "VLLORA_AZURE_API_KEY").or_else(|| variable(env, "AZURE_OPENAI_API_KEY"))
    {
        return Ok(AzureCredential::ApiKey(Secret::new(key)));
    }
    if let Some(token) = variable(env, "AZURE_OPENAI_AD_TOKEN") {
        return Ok(AzureCredential::AccessToken(Secret::new(token)));
    }
    let (tenant, client, secret) = (
        variable(env, "AZURE_TENANT_ID"),
        variable(env, "AZURE_CLIENT_ID"),
        variable(env, "AZURE_CLIENT_SECRET"),
    );
    match (tenant, client, secret) {
        (Some(tenant_id), Some(client_id), Some(secret)) => {
            Ok(AzureCredential::ClientSecret { tenant_id, client_id, client_secret: Secret::new(secret) })
        }
        (tenant, client, Some(_)) => Err(LLMError::MissingCredentials {
            provider: AZURE_PROVIDER_NAME.to_owned(),
            hint: format!(
                "AZURE_CLIENT_SECRET is set but {} not: a client secret needs AZURE_TENANT_ID and AZURE_CLIENT_ID",
                match (tenant, client) {
                    (None, None) => "AZURE_TENANT_ID and AZURE_CLIENT_ID are",
                    (None, Some(_)) => "AZURE_TENANT_ID is",
                    _ => "AZURE_CLIENT_ID is",
                }
            ),
        }),
        (_, client_id, None) => Ok(AzureCredential::ManagedIdentity { client_id }),
    }
}

/// Azure OpenAI built for calls: one HTTP client (Entra ID tokens added by [`EntraTransport`]), and an
/// [`OpenAIModel`] or [`OpenAIResponses`] per model, each sent to the model's deployment. Cheap to
/// clone; build it once.
#[derive(Debug, Clone)]
pub struct AzureOpenAI {
    config: Arc<AzureOpenAIConfig>,
    http: HttpClient,
}

impl AzureOpenAI {
    /// Azure OpenAI as `config` says, over `http` (with an Entra ID layer when the credential needs one).
    pub fn new(config: AzureOpenAIConfig, http: HttpClient) -> Self {
        let http =
            match token_source(&config.credential, &config.authority_host, &config.managed_identity, &http) {
                Some(source) => {
                    let tokens = Arc::new(CachedCredential::new(source));
                    let transport = EntraTransport { inner: Arc::clone(http.transport()), tokens };
                    HttpClient::with_transport(Arc::new(transport), *http.config())
                }
                None => http,
            };
        AzureOpenAI { config: Arc::new(config), http }
    }

    /// The configuration.
    pub fn config(&self) -> &AzureOpenAIConfig {
        &self.config
    }

    /// Chat, streams, embeddings and images for `model`, sent to its deployment (whose name is also the
    /// body's `model`, as the v1 API needs).
    pub fn model(&self, model: &str) -> OpenAIModel {
        let deployment = self.config.deployment(model).to_owned();
        OpenAIModel::new(self.config.openai_config(model), self.http.clone()).with_model(deployment)
    }

    /// The Responses API for `model` (Azure serves it under `/openai/v1/responses`), its deployment as
    /// the `model`.
    pub fn responses(&self, model: &str) -> OpenAIResponses {
        let deployment = self.config.deployment(model).to_owned();
        OpenAIResponses::new(self.config.openai_config(model), self.http.clone()).with_model(deployment)
    }
}

/// The HTTP transport layer that adds a fresh Entra ID token (`Authorization: Bearer`, marked sensitive)
/// to every request, retries included, from one cache; the token endpoint is asked through the layer
/// below.
pub struct EntraTransport {
    inner: Arc<dyn HttpTransport>,
    tokens: Arc<CachedCredential<Secret>>,
}

impl fmt::Debug for EntraTransport {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("EntraTransport")
            .field("inner", &self.inner)
            .field("tokens", &self.tokens)
            .finish()
    }
}

impl HttpTransport for EntraTransport {
    fn send(&self, request: HttpRequest) -> BoxFuture<'static, LLMResult<HttpResponse>> {
        let inner = Arc::clone(&self.inner);
        let tokens = Arc::clone(&self.tokens);
        Box::pin(async move {
            let token = tokens.get().await?;
            let mut request = request;
            let mut value = HeaderValue::from_str(&format!("Bearer {}", token.expose()))
                .map_err(|_| LLMError::Config("the Entra ID token cannot be sent as a header".to_owned()))?;
            value.set_sensitive(true);
            request.headers.insert(vllora_llm_http::HeaderName::from_static("authorization"), value);
            let response = inner.send(request).await?;
            if response.status.as_u16() == 401 {
                // A token revoked before its stated expiry: the next request fetches another.
                tokens.invalidate();
            }
            Ok(response)
        })
    }
}
