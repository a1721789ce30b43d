//! HTTP request building for every Gemini call: the URL under the API root and the `x-goog-api-key`
//! header (the key never goes in the URL), as [`HttpRequest`]s for `generateContent`,
//! `streamGenerateContent`, `batchEmbedContents` and the `cachedContents` API.

use vllora_llm_core::support::encode_path_segment;
use vllora_llm_core::{LLMError, LLMResult};
use vllora_llm_http::{Bytes, HttpRequest, Method};

use crate::cache::cache_name;
use crate::config::GeminiConfig;

/// The header that carries the API key.
const API_KEY_HEADER: &str = "x-goog-api-key";

/// The root every API path hangs from, such as `https://generativelanguage.googleapis.com/v1beta`:
/// the base URL as given when it names a version, else with `/v1beta` added.
pub(crate) fn api_root(config: &GeminiConfig) -> String {
    let base_url = config.base_url();
    let versioned = ["/v1beta", "/v1alpha", "/v1"].iter().any(|version| base_url.ends_with(version));
    if versioned { base_url.to_owned() } else { format!("{base_url}/v1beta") }
}

/// `models/{name}` (or a tuned model's resource name) from what the caller wrote. A `provider/` prefix
/// is dropped; names that could leave the path are refused.
pub(crate) fn model_resource(model: &str) -> LLMResult<String> {
    let model = model.trim();
    let (collection, name) = match model.split_once('/') {
        Some((collection @ ("models" | "tunedModels"), name)) => (collection, name),
        _ => ("models", model.rsplit('/').next().unwrap_or(model)),
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
    let mut query = Vec::new();
    if let Some(size) = page_size {
        query.push(format!("pageSize={size}"));
    }
    if let Some(token) = page_token {
        query.push(format!("pageToken={}", encode_path_segment(token)));
    }
    let mut url = format!("{}/cachedContents", api_root(config));
    if !query.is_empty() {
        url = format!("{url}?{}", query.join("&"));
    }
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
