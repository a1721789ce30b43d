//! Claude on Vertex AI (feature `vertex`): the Messages body the translator produces, without `model`
//! (it is in the URL) and with `anthropic_version: "vertex-2023-10-16"`, sent to
//! `publishers/anthropic/models/{model}:rawPredict` (`:streamRawPredict` for streams) with a Google
//! access token. Betas go in `anthropic-beta` as on Anthropic's API; answers and streams are Anthropic's.

use serde_json::Value;
use vllora_llm_core::{LLMError, LLMResult};
use vllora_llm_http::{HeaderMap, HttpClient, HttpRequest, StatusCode};
use vllora_llm_vertex::{PROVIDER_NAME as VERTEX_PROVIDER, VertexConfig};

use crate::error::map_error;
use crate::request::AnthropicRequest;

/// The `anthropic_version` Vertex AI takes in the body.
pub(crate) const VERTEX_API_VERSION: &str = "vertex-2023-10-16";

/// The publisher of Claude on Vertex AI.
const PUBLISHER: &str = "anthropic";

/// The model (from the body) and the body Vertex AI takes: no `model`, `anthropic_version` added.
pub(crate) fn body(translated: &AnthropicRequest) -> LLMResult<(String, Vec<u8>)> {
    let invalid = |error: serde_json::Error| LLMError::InvalidRequest(error.to_string());
    let mut body = serde_json::to_value(&translated.body).map_err(invalid)?;
    let Value::Object(fields) = &mut body else {
        return Err(LLMError::InvalidRequest("the Messages body is not an object".to_owned()));
    };
    let model = match fields.remove("model") {
        Some(Value::String(model)) => model,
        _ => return Err(LLMError::InvalidRequest("`model` is empty".to_owned())),
    };
    fields.insert("anthropic_version".to_owned(), Value::String(VERTEX_API_VERSION.to_owned()));
    Ok((model, serde_json::to_vec(&body).map_err(invalid)?))
}

/// `POST …/publishers/anthropic/models/{model}:rawPredict` (or `:streamRawPredict`), authorised, with
/// the betas (`configured` first, then the request's).
pub(crate) async fn request(
    vertex: &VertexConfig,
    http: &HttpClient,
    model: &str,
    stream: bool,
    body: Vec<u8>,
    configured: &[String],
    request_betas: &[&str],
) -> LLMResult<HttpRequest> {
    if vertex.is_express() {
        return Err(LLMError::Config(
            "Claude on Vertex AI needs a project and Google credentials; express mode API keys serve Google's \
             models only"
                .to_owned(),
        ));
    }
    let target = vertex.target(http).await?;
    let method = if stream { "streamRawPredict" } else { "rawPredict" };
    let url = target.publisher_model_url(PUBLISHER, model, method)?;
    let mut request = target.authorize(HttpRequest::post_json(url, body))?;
    let mut betas: Vec<&str> = configured.iter().map(String::as_str).collect();
    for beta in request_betas {
        if !betas.contains(beta) {
            betas.push(beta);
        }
    }
    if !betas.is_empty() {
        request = request.header("anthropic-beta", &betas.join(","))?;
    }
    Ok(request)
}

/// Anthropic's error mapper with Vertex AI's name on the error.
pub(crate) fn map_vertex_error(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> LLMError {
    match map_error(status, headers, body) {
        LLMError::Api(mut api) => {
            api.provider = VERTEX_PROVIDER.to_owned();
            LLMError::Api(api)
        }
        other => other,
    }
}
