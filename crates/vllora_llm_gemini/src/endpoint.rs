//! HTTP request building for every Gemini call: the URL under the API root and the `x-goog-api-key`
//! header (the key never goes in the URL), as [`HttpRequest`]s for `generateContent`,
//! `streamGenerateContent`, `batchEmbedContents` and the `cachedContents` API.

use vllora_llm_core::support::encode_path_segment;
use vllora_llm_core::{LLMError, LLMResult};
use vllora_llm_http::{Bytes, ErrorMapper, HttpClient, HttpRequest, Method};

use crate::cache::cache_name;
use crate::config::GeminiConfig;
use crate::error::map_error;

/// The header that carries the API key.
const API_KEY_HEADER: &str = "x-goog-api-key";

/// How a model reaches Gemini: AI Studio's API with a key, or Vertex AI (feature `vertex`). The
/// translator is the same; the URLs, credentials and (for embeddings) the method differ.
#[derive(Debug)]
pub(crate) enum Transport {
    /// `generativelanguage.googleapis.com` (or the configured base URL) with an API key.
    AiStudio(GeminiConfig),
    /// Vertex AI: a project and location, Google credentials or an express mode key.
    #[cfg(feature = "vertex")]
    Vertex(vllora_llm_vertex::VertexConfig),
}

/// One call's resolved endpoint: for Vertex AI the token and project are known.
pub(crate) enum Api<'a> {
    AiStudio(&'a GeminiConfig),
    #[cfg(feature = "vertex")]
    Vertex(vllora_llm_vertex::VertexTarget),
}

impl Transport {
    /// The provider's name in telemetry and errors: `gcp.gemini`, or `gcp.vertex_ai`.
    pub(crate) fn provider_name(&self) -> &'static str {
        match self {
            Transport::AiStudio(_) => crate::PROVIDER_NAME,
            #[cfg(feature = "vertex")]
            Transport::Vertex(_) => vllora_llm_vertex::PROVIDER_NAME,
        }
    }

    /// Resolves what a call needs: nothing for AI Studio; for Vertex AI a token (cached, refreshed when
    /// due) and the project.
    #[cfg_attr(not(feature = "vertex"), allow(clippy::unused_async, unused_variables))]
    pub(crate) async fn resolve(&self, http: &HttpClient) -> LLMResult<Api<'_>> {
        match self {
            Transport::AiStudio(config) => Ok(Api::AiStudio(config)),
            #[cfg(feature = "vertex")]
            Transport::Vertex(config) => Ok(Api::Vertex(config.target(http).await?)),
        }
    }
}

impl Api<'_> {
    /// The mapper of error answers.
    pub(crate) fn error_mapper(&self) -> &'static ErrorMapper {
        match self {
            Api::AiStudio(_) => &map_error,
            #[cfg(feature = "vertex")]
            Api::Vertex(_) => &crate::vertex::map_vertex_error,
        }
    }

    /// `generateContent` / `streamGenerateContent?alt=sse` of `model` (`models/...`).
    pub(crate) fn generate(&self, model: &str, streaming: bool, body: Bytes) -> LLMResult<HttpRequest> {
        match self {
            Api::AiStudio(config) => generate(config, model, streaming, body),
            #[cfg(feature = "vertex")]
            Api::Vertex(target) => {
                let name = crate::vertex::publisher_model(model)?;
                let url = if streaming {
                    format!(
                        "{}?alt=sse",
                        target.publisher_model_url(
                            crate::vertex::PUBLISHER,
                            name,
                            "streamGenerateContent"
                        )?
                    )
                } else {
                    target.publisher_model_url(crate::vertex::PUBLISHER, name, "generateContent")?
                };
                target.authorize(HttpRequest::post_json(url, body))
            }
        }
    }

    /// The name a request gives its cache: as written on AI Studio; under the project on Vertex AI.
    #[cfg_attr(not(feature = "vertex"), allow(clippy::unnecessary_wraps))]
    pub(crate) fn cache_reference(&self, name: String) -> LLMResult<String> {
        match self {
            Api::AiStudio(_) => Ok(name),
            #[cfg(feature = "vertex")]
            Api::Vertex(target) => target.project_resource(&name),
        }
    }

    /// The model a cache is created for: `models/...` on AI Studio, the publisher model's resource name
    /// under the project on Vertex AI.
    pub(crate) fn cache_model(&self, model: String) -> LLMResult<String> {
        match self {
            Api::AiStudio(_) => Ok(model),
            #[cfg(feature = "vertex")]
            Api::Vertex(target) => target
                .publisher_model_resource(crate::vertex::PUBLISHER, crate::vertex::publisher_model(&model)?),
        }
    }

    /// `POST cachedContents`.
    pub(crate) fn cache_create(&self, body: Bytes) -> LLMResult<HttpRequest> {
        match self {
            Api::AiStudio(config) => cache_create(config, body),
            #[cfg(feature = "vertex")]
            Api::Vertex(target) => {
                target.authorize(HttpRequest::post_json(target.project_url("cachedContents")?, body))
            }
        }
    }

    /// `GET cachedContents[?pageSize=..&pageToken=..]`.
    pub(crate) fn cache_list(
        &self,
        page_size: Option<u32>,
        page_token: Option<&str>,
    ) -> LLMResult<HttpRequest> {
        match self {
            Api::AiStudio(config) => cache_list(config, page_size, page_token),
            #[cfg(feature = "vertex")]
            Api::Vertex(target) => {
                let url = with_page_query(target.project_url("cachedContents")?, page_size, page_token);
                target.authorize(HttpRequest::new(Method::GET, url))
            }
        }
    }

    /// `GET`, `PATCH ?updateMask=ttl` (with `body`) or `DELETE` of one cache.
    pub(crate) fn cache_item(
        &self,
        method: Method,
        name: &str,
        body: Option<Bytes>,
    ) -> LLMResult<HttpRequest> {
        match self {
            Api::AiStudio(config) => match (method, body) {
                (Method::PATCH, Some(body)) => cache_update_ttl(config, name, body),
                (Method::DELETE, _) => cache_delete(config, name),
                _ => cache_get(config, name),
            },
            #[cfg(feature = "vertex")]
            Api::Vertex(target) => {
                let url = target.project_url(&cache_name(name)?)?;
                let request = match (method, body) {
                    (Method::PATCH, Some(body)) => {
                        let mut request = HttpRequest::post_json(format!("{url}?updateMask=ttl"), body);
                        request.method = Method::PATCH;
                        request
                    }
                    (method, _) => HttpRequest::new(method, url),
                };
                target.authorize(request)
            }
        }
    }
}

/// `POST {model}:predict` on Vertex AI (embeddings), authorised.
#[cfg(feature = "vertex")]
pub(crate) fn predict(
    target: &vllora_llm_vertex::VertexTarget,
    url: &str,
    body: Bytes,
) -> LLMResult<HttpRequest> {
    target.authorize(HttpRequest::post_json(url, body))
}

fn with_page_query(url: String, page_size: Option<u32>, page_token: Option<&str>) -> String {
    let mut query = Vec::new();
    if let Some(size) = page_size {
        query.push(format!("pageSize={size}"));
    }
    if let Some(token) = page_token {
        query.push(format!("pageToken={}", encode_path_segment(token)));
    }
    if query.is_empty() { url } else { format!("{url}?{}", query.join("&")) }
}

/// The root every API path hangs from, such as `https://generativelanguage.googleapis.com/v1beta`:
/// the base URL as given when it names a version, else with `/v1beta` added.
pub(crate) fn api_root(config: &GeminiConfig) -> String {
    let base_url = config.base_url();
    let versioned = ["/v1beta", "/v1alpha", "/v1"].iter().any(|version| base_url.ends_with(version));
    if versioned { base_url.to_owned() } else { format!("{base_url}/v1beta") }
}

/// `models/{name}` (or a tuned model's resource name) from what the caller wrote. A `provider/` prefix
/// is dropped; names that could leave the path are refused.
///
/// Only `name`, `models/name`, `tunedModels/name` and those behind one `gemini/` or `google/` prefix are
/// model names: anything else with a `/` (`a/b`, `../../x`, an ARN) is refused, never shortened to its
/// last segment, which would call another model.
pub(crate) fn model_resource(model: &str) -> LLMResult<String> {
    let model = model.trim();
    let unprefixed = ["gemini/", "google/"]
        .iter()
        .find_map(|prefix| {
            model.get(..prefix.len()).filter(|head| head.eq_ignore_ascii_case(prefix)).map(|_| prefix.len())
        })
        .and_then(|length| model.get(length..))
        .unwrap_or(model);
    let (collection, name) = match unprefixed.split_once('/') {
        Some((collection @ ("models" | "tunedModels"), name)) => (collection, name),
        Some(_) => ("models", ""),
        None => ("models", unprefixed),
    };
    let valid = !name.is_empty()
        && !name.contains("..")
        && name != "."
        && name
            .chars()
            .all(|character| character.is_ascii_alphanumeric() || matches!(character, '-' | '_' | '.'));
    if !valid {
        return Err(LLMError::InvalidRequest(format!("`{model}` is not a Gemini model name")));
    }
    Ok(format!("{collection}/{name}"))
}

/// `POST {model}:generateContent`, or `:streamGenerateContent?alt=sse` when `streaming`.
pub(crate) fn generate(
    config: &GeminiConfig,
    model: &str,
    streaming: bool,
    body: Bytes,
) -> LLMResult<HttpRequest> {
    let root = api_root(config);
    let url = if streaming {
        format!("{root}/{model}:streamGenerateContent?alt=sse")
    } else {
        format!("{root}/{model}:generateContent")
    };
    authorised(HttpRequest::post_json(url, body), config)
}

/// `POST {model}:batchEmbedContents`.
pub(crate) fn batch_embed(config: &GeminiConfig, model: &str, body: Bytes) -> LLMResult<HttpRequest> {
    let url = format!("{}/{model}:batchEmbedContents", api_root(config));
    authorised(HttpRequest::post_json(url, body), config)
}

/// `POST cachedContents`: creates a cache.
pub(crate) fn cache_create(config: &GeminiConfig, body: Bytes) -> LLMResult<HttpRequest> {
    let url = format!("{}/cachedContents", api_root(config));
    authorised(HttpRequest::post_json(url, body), config)
}

/// `GET cachedContents[?pageSize=..&pageToken=..]`: one page of caches.
pub(crate) fn cache_list(
    config: &GeminiConfig,
    page_size: Option<u32>,
    page_token: Option<&str>,
) -> LLMResult<HttpRequest> {
    let url = with_page_query(format!("{}/cachedContents", api_root(config)), page_size, page_token);
    authorised(HttpRequest::new(Method::GET, url), config)
}

/// `GET cachedContents/{id}`.
pub(crate) fn cache_get(config: &GeminiConfig, name: &str) -> LLMResult<HttpRequest> {
    let url = format!("{}/{}", api_root(config), cache_name(name)?);
    authorised(HttpRequest::new(Method::GET, url), config)
}

/// `PATCH cachedContents/{id}?updateMask=ttl`: a new lifetime.
pub(crate) fn cache_update_ttl(config: &GeminiConfig, name: &str, body: Bytes) -> LLMResult<HttpRequest> {
    let url = format!("{}/{}?updateMask=ttl", api_root(config), cache_name(name)?);
    let mut request = HttpRequest::post_json(url, body);
    request.method = Method::PATCH;
    authorised(request, config)
}

/// `DELETE cachedContents/{id}`.
pub(crate) fn cache_delete(config: &GeminiConfig, name: &str) -> LLMResult<HttpRequest> {
    let url = format!("{}/{}", api_root(config), cache_name(name)?);
    authorised(HttpRequest::new(Method::DELETE, url), config)
}

fn authorised(request: HttpRequest, config: &GeminiConfig) -> LLMResult<HttpRequest> {
    // A base URL with a query, a fragment or a password would misplace the path or leak the password.
    vllora_llm_http::check_base_url(config.base_url())?;
    request.secret_header(API_KEY_HEADER, config.api_key())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_names_become_resource_names() {
        assert_eq!(model_resource("gemini-2.5-flash").ok().as_deref(), Some("models/gemini-2.5-flash"));
        assert_eq!(
            model_resource("gemini/gemini-2.5-flash").ok().as_deref(),
            Some("models/gemini-2.5-flash")
        );
        assert_eq!(
            model_resource("models/gemini-3-pro-preview").ok().as_deref(),
            Some("models/gemini-3-pro-preview")
        );
        assert_eq!(
            model_resource("tunedModels/my-model-42").ok().as_deref(),
            Some("tunedModels/my-model-42")
        );
        assert_eq!(model_resource("Google/gemini-2.5-pro").ok().as_deref(), Some("models/gemini-2.5-pro"));
        // Issue 10 item 7: these became `models/<last segment>` and called another model.
        for bad in [
            "../../x",
            "a/b",
            "models/a/b",
            "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-v2",
            "gemini/../x",
            "gemini/a/b",
        ] {
            let error = model_resource(bad).err().map(|error| error.to_string()).unwrap_or_default();
            assert!(error.contains(&format!("`{bad}` is not a Gemini model name")), "{bad}: {error}");
        }
        for bad in ["", "gemini?key=x", "models/../files", "gemini 2", "gemini#x", ".", "models/."] {
            assert!(matches!(model_resource(bad), Err(LLMError::InvalidRequest(_))), "{bad}");
        }
    }

    #[test]
    fn requests_carry_the_key_in_its_header_and_page_tokens_are_encoded() {
        let config = GeminiConfig::new("k-123").with_base_url("http://127.0.0.1:9");
        let Ok(stream) = generate(&config, "models/gemini-2.5-flash", true, Bytes::from_static(b"{}")) else {
            panic!("a request")
        };
        assert_eq!(
            stream.url,
            "http://127.0.0.1:9/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
        );
        assert_eq!(stream.headers.get(API_KEY_HEADER).and_then(|value| value.to_str().ok()), Some("k-123"));
        assert!(!stream.url.contains("k-123"));
        let Ok(list) = cache_list(&config, Some(5), Some("a+b/c==")) else { panic!("a request") };
        assert_eq!(list.url, "http://127.0.0.1:9/v1beta/cachedContents?pageSize=5&pageToken=a%2Bb%2Fc%3D%3D");
        assert_eq!(list.method, Method::GET);
        assert!(cache_delete(&config, "../models").is_err());
    }
}
