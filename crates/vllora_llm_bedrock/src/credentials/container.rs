//! ECS task roles and EKS Pod Identity: a GET of the container credentials URL, with the authorization
//! token (when there is one) as the `Authorization` header, answered with the keys as JSON.

use vllora_llm_core::{ApiError, LLMError, LLMResult, Secret};
use vllora_llm_http::{Expiring, HeaderMap, HttpRequest, Method, StatusCode};

use super::{FetchContext, KeysDocument};
use crate::sign::SigningCredentials;

pub(super) async fn fetch(
    context: &FetchContext,
    url: &str,
    token: Option<&Secret>,
) -> LLMResult<Expiring<SigningCredentials>> {
    let mut request = HttpRequest::new(Method::GET, url).header("accept", "application/json")?;
    if let Some(token) = token {
        request = request.secret_header("authorization", token)?;
    }
    let reply = context.metadata_http.send(request, &map_container_error).await?;
    KeysDocument::parse(&reply.body, "the container credentials endpoint")?
        .into_keys("the container credentials endpoint")
}

fn map_container_error(status: StatusCode, _headers: &HeaderMap, body: &[u8]) -> LLMError {
    // The agent answers `{"code": "...", "message": "..."}`; the message names no secret.
    let message = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|value| value.get("message").and_then(|message| message.as_str()).map(str::to_owned))
        .unwrap_or_else(|| format!("HTTP {}", status.as_u16()));
    ApiError::new("aws.container-credentials", Some(status.as_u16()), message).into()
}
