//! HTTP request building: the URL of each operation, the headers and the authentication every request
//! carries, from an [`OpenAIConfig`].

use vllora_llm_core::{LLMError, LLMResult};
use vllora_llm_core::support::encode_path_segment;
use vllora_llm_http::{Bytes, HeaderMap, HttpRequest};

use crate::config::{Dialect, OpenAIConfig};

/// The URL of the chat completions endpoint.
pub(crate) fn chat_url(config: &OpenAIConfig) -> String {
    let base = config.base_url().trim_end_matches('/');
    match config.dialect() {
        Dialect::OpenAI | Dialect::Compatible => format!("{base}/chat/completions"),
        // The v1 API: the deployment travels as the body's `model`, no version in the query.
        Dialect::Azure { api_version, .. } if api_version == "v1" => {
            format!("{base}/openai/v1/chat/completions")
        }
        Dialect::Azure { deployment, api_version } => format!(
            "{base}/openai/deployments/{}/chat/completions?api-version={}",
            encode_path_segment(deployment),
            encode_path_segment(api_version)
        ),
    }
}

/// The URL of another operation than chat (`embeddings`, `images/generations`): the chat URL with its last
/// `/chat/completions` replaced, which keeps the Azure deployment path and `api-version` query. The
/// deployment and version are percent-encoded, so that segment cannot occur after it.
pub(crate) fn operation_url(config: &OpenAIConfig, operation: &str) -> String {
    let chat_url = chat_url(config);
    match chat_url.rsplit_once("/chat/completions") {
        Some((base, query)) => format!("{base}/{operation}{query}"),
        None => chat_url,
    }
}

/// `{base}/responses`; Azure serves the Responses API under its `/openai/v1` API, without `api-version`.
pub(crate) fn responses_url(config: &OpenAIConfig) -> String {
    let base = config.base_url().trim_end_matches('/');
    match config.dialect() {
        Dialect::OpenAI | Dialect::Compatible => format!("{base}/responses"),
        Dialect::Azure { .. } => format!("{base}/openai/v1/responses"),
    }
}

/// A JSON POST of `body` to `url` with the headers every request carries: the key (`Authorization:
/// Bearer`, or `api-key` on Azure, both marked sensitive), `OpenAI-Organization` and `OpenAI-Project`.
pub(crate) fn post_json(
    config: &OpenAIConfig,
    url: String,
    body: impl Into<Bytes>,
) -> LLMResult<HttpRequest> {
    check_target(config)?;
    let mut request = HttpRequest::post_json(url, body);
    if let Some(api_key) = config.api_key() {
        request = match config.dialect() {
            Dialect::Azure { .. } => request.secret_header("api-key", api_key)?,
            Dialect::OpenAI | Dialect::Compatible => request.bearer_auth(api_key)?,
        };
    }
    if let Some(organization) = config.organization() {
        request = request.header("openai-organization", organization)?;
    }
    if let Some(project) = config.project() {
        request = request.header("openai-project", project)?;
    }
    Ok(request)
}

/// Refuses what would send a request somewhere else than meant: a base URL with a query, a fragment or
/// a `user:password@` (`/v1?tenant=1/chat/completions`), and an Azure deployment that names no
/// deployment (empty, `.`, `..`: `/openai/deployments/../chat/completions`). The error names the value.
fn check_target(config: &OpenAIConfig) -> LLMResult<()> {
    vllora_llm_http::check_base_url(config.base_url())?;
    if let Dialect::Azure { deployment, .. } = config.dialect() {
        if deployment.trim().is_empty() || deployment == "." || deployment == ".." {
            return Err(LLMError::Config(format!("`{deployment}` is not an Azure OpenAI deployment name")));
        }
    }
    Ok(())
}

/// What every chat request of a model instance shares, built once: its URL and headers.
#[derive(Debug)]
pub(crate) struct ChatTarget {
    url: String,
    headers: HeaderMap,
}

impl ChatTarget {
    /// The chat URL and headers of `config`, or why a request cannot carry them.
    pub(crate) fn new(config: &OpenAIConfig) -> LLMResult<Self> {
        let request = post_json(config, chat_url(config), Bytes::new())?;
        Ok(ChatTarget { url: request.url, headers: request.headers })
    }

    /// A chat request carrying `body`.
    pub(crate) fn request(&self, body: impl Into<Bytes>) -> HttpRequest {
        let mut request = HttpRequest::new(vllora_llm_http::Method::POST, self.url.clone());
        request.headers = self.headers.clone();
        request.body = body.into();
        request
    }
}

#[cfg(test)]
mod tests {
    use vllora_llm_core::LLMError;

    use super::*;
    use crate::config::tests::variables;

    /// The headers of a request, secrets shown, without `content-type`.
    fn header_values(config: &OpenAIConfig) -> Vec<(String, String)> {
        let request = post_json(config, chat_url(config), Bytes::new());
        let Ok(request) = request else { panic!("{:?}", request.err()) };
        request
            .headers
            .iter()
            .filter(|(name, _)| name.as_str() != "content-type")
            .map(|(name, value)| (name.as_str().to_owned(), value.to_str().unwrap_or_default().to_owned()))
            .collect()
    }

    #[test]
    fn proxies_send_their_key_as_a_bearer_token_and_no_key_without_one() {
        let env =
            variables(&[("VLLORA_MY_VLLM_ENDPOINT", "http://gpu:8000/v1/"), ("VLLORA_MY_VLLM_API_KEY", "k")]);
        let config = OpenAIConfig::proxy_from_environment("my-vllm", None, &env)
            .unwrap_or_else(|_| OpenAIConfig::proxy("missing", ""));
        assert_eq!(header_values(&config), vec![("authorization".to_owned(), "Bearer k".to_owned())]);
        let explicit = OpenAIConfig::proxy("local", "http://127.0.0.1:1/v1");
        assert!(header_values(&explicit).is_empty(), "a proxy without a key sends no authorization");
    }

    #[test]
    fn azure_puts_deployment_in_the_path_and_key_in_api_key() {
        let config =
            OpenAIConfig::azure("https://res.openai.azure.com/", "gpt 4o", "2024-10-21", "azure-key");
        assert_eq!(
            chat_url(&config),
            "https://res.openai.azure.com/openai/deployments/gpt%204o/chat/completions?api-version=2024-10-21"
        );
        assert_eq!(header_values(&config), vec![("api-key".to_owned(), "azure-key".to_owned())]);
        assert_eq!(config.provider_name(), "azure.ai.openai");
        assert_eq!(
            operation_url(&config, "embeddings"),
            "https://res.openai.azure.com/openai/deployments/gpt%204o/embeddings?api-version=2024-10-21"
        );
        assert_eq!(responses_url(&config), "https://res.openai.azure.com/openai/v1/responses");
    }

    #[test]
    fn organization_and_project_headers() {
        let config = OpenAIConfig::new("sk-test").with_organization("org-1").with_project("proj_1");
        assert_eq!(
            header_values(&config),
            vec![
                ("authorization".to_owned(), "Bearer sk-test".to_owned()),
                ("openai-organization".to_owned(), "org-1".to_owned()),
                ("openai-project".to_owned(), "proj_1".to_owned()),
            ]
        );
    }

    #[test]
    fn debug_never_shows_the_key() {
        let config = OpenAIConfig::new("sk-live-secret");
        let target = ChatTarget::new(&config).map(|target| format!("{target:?} {:?}", target.request("{}")));
        assert!(target.as_ref().is_ok_and(|debug| !debug.contains("sk-live-secret")), "{target:?}");
        let azure = OpenAIConfig::azure("https://r", "d", "v", "azure-secret");
        let target = ChatTarget::new(&azure).map(|target| format!("{target:?}"));
        assert!(target.is_ok_and(|debug| !debug.contains("azure-secret")));
        assert!(config.api_key().is_some_and(|key| key.expose() == "sk-live-secret"));
    }

    /// Issue 10 item 7: these were sent (`/openai/deployments/../chat/completions`,
    /// `/v1?tenant=1/chat/completions`) instead of refused.
    #[test]
    fn targets_that_would_go_elsewhere_are_refused_naming_the_value() {
        for deployment in ["..", ".", "", " "] {
            let config = OpenAIConfig::azure("https://res.openai.azure.com", deployment, "2024-10-21", "k");
            let error = ChatTarget::new(&config).err().map(|error| error.to_string()).unwrap_or_default();
            assert!(
                error.contains(&format!("`{deployment}` is not an Azure OpenAI deployment name")),
                "{deployment:?}: {error}"
            );
        }
        for (base, says) in [
            ("http://h/v1?tenant=1", "query or fragment"),
            ("http://h/v1#x", "query or fragment"),
            ("http://user:SECRET@h/v1", "user name or password"),
        ] {
            let config = OpenAIConfig::proxy("p", base);
            let error = ChatTarget::new(&config).err().map(|error| error.to_string()).unwrap_or_default();
            assert!(error.contains(says) && !error.contains("SECRET"), "{base}: {error}");
            let error = post_json(&config, operation_url(&config, "embeddings"), Bytes::new()).err();
            assert!(matches!(error, Some(LLMError::Config(_))), "{base}: {error:?}");
        }
        assert!(ChatTarget::new(&OpenAIConfig::proxy("p", "http://h:8/v1/")).is_ok());
    }

    #[test]
    fn a_header_that_cannot_be_sent_is_a_configuration_error() {
        let config = OpenAIConfig::new("sk-test").with_organization("org\nbroken");
        let error = ChatTarget::new(&config).err();
        assert!(matches!(error, Some(LLMError::Config(_))), "{error:?}");
    }
}
