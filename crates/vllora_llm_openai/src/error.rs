//! OpenAI's error body (and the shapes compatible servers use instead) -> [`LLMError`].

use serde_json::Value;
use vllora_llm_core::{ApiError, LLMError};
use vllora_llm_http::{HeaderMap, StatusCode, retry_after};

use crate::PROVIDER_NAME;
use crate::wire::ErrorBody;

/// The error for a non-2xx response: status, OpenAI's `type`, `code`, `param` and `message`, the start
/// of the body, and how long the server asked to wait (`retry-after-ms` or `Retry-After`, read once).
/// The error names [`PROVIDER_NAME`]; a proxy or Azure renames it with [`for_provider`].
pub(crate) fn map_error(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> LLMError {
    let status = status.as_u16();
    let parsed: ErrorBody = serde_json::from_slice(body).unwrap_or_default();
    let provider = PROVIDER_NAME;
    let mut error = match (&parsed.error, &parsed.detail, &parsed.message) {
        (Some(error_value), _, _) => api_error_from_value(provider, Some(status), error_value),
        (None, Some(detail), _) => ApiError::new(provider, Some(status), detail_message(detail)),
        (None, None, Some(Value::String(message))) => ApiError::new(provider, Some(status), message.clone()),
        _ => ApiError::new(provider, Some(status), plain_text_message(status, body)),
    };
    error.retry_after = retry_after(headers);
    error.with_body(body).into()
}

/// `error` as `provider` (a proxy's name, `azure.ai.openai`) reports it.
pub(crate) fn for_provider(mut error: LLMError, provider: &str) -> LLMError {
    if let LLMError::Api(api) = &mut error
        && api.provider != provider
    {
        provider.clone_into(&mut api.provider);
    }
    error
}

/// The error described by an `error` value: OpenAI's object, or a bare string (Ollama).
pub(crate) fn api_error_from_value(provider: &str, status: Option<u16>, error_value: &Value) -> ApiError {
    let text = |name: &str| match error_value.get(name) {
        Some(Value::String(text)) if !text.is_empty() => Some(text.clone()),
        Some(Value::Number(number)) => Some(number.to_string()),
        _ => None,
    };
    let message = match error_value {
        Value::String(message) => message.clone(),
        _ => text("message").unwrap_or_else(|| "the server reported an error without a message".to_owned()),
    };
    let upstream = upstream_error(error_value);
    let message = match upstream.as_ref().and_then(|upstream| upstream.message.as_deref()) {
        Some(detail) if !message.contains(detail) => format!("{message}: {detail}"),
        _ => message,
    };
    let mut error = ApiError::new(provider, status, message);
    error.error_type = text("type").or_else(|| upstream.and_then(|upstream| upstream.error_type));
    error.code = text("code");
    error.param = text("param");
    if error.code.as_deref() == Some("insufficient_quota") {
        // A 429 that no amount of waiting fixes: the account is out of credit.
        error.retryable = false;
    }
    if status.is_none() && matches!(error.error_type.as_deref(), Some("server_error" | "overloaded_error")) {
        error.retryable = true;
    }
    error
}

/// What an aggregator's upstream provider said: OpenRouter puts it in `metadata.raw` (the upstream's own
/// error body, as text or JSON) next to `metadata.provider_name`, with a numeric `code` and no `type`.
struct Upstream {
    error_type: Option<String>,
    message: Option<String>,
}

fn upstream_error(error_value: &Value) -> Option<Upstream> {
    let raw = error_value.get("metadata")?.get("raw")?;
    let parsed = match raw {
        Value::String(text) => {
            serde_json::from_str::<Value>(text).unwrap_or_else(|_| Value::String(text.clone()))
        }
        other => other.clone(),
    };
    // The upstream body is `{"error": {...}}` (OpenAI, Anthropic's `{"type":"error","error":{...}}`) or the
    // error object itself.
    let inner = parsed.get("error").filter(|inner| inner.is_object()).unwrap_or(&parsed);
    let field = |name: &str| {
        inner.get(name).and_then(Value::as_str).filter(|text| !text.is_empty()).map(str::to_owned)
    };
    let message = match &parsed {
        Value::String(text) if !text.is_empty() => Some(text.chars().take(300).collect()),
        _ => field("message"),
    };
    let error_type = field("type").filter(|kind| kind != "error").or_else(|| field("status"));
    Some(Upstream { error_type, message })
}

/// FastAPI's `detail`: a string, or a list of validation errors with `msg`.
fn detail_message(detail: &Value) -> String {
    match detail {
        Value::String(message) => message.clone(),
        Value::Array(items) => {
            let messages: Vec<&str> =
                items.iter().filter_map(|item| item.get("msg").and_then(Value::as_str)).collect();
            if messages.is_empty() { detail.to_string() } else { messages.join("; ") }
        }
        other => other.to_string(),
    }
}

/// A body that is not JSON: its first line when it reads as text, else only the status.
fn plain_text_message(status: u16, body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let first_line = text.lines().map(str::trim).find(|line| !line.is_empty()).unwrap_or_default();
    if first_line.is_empty() || first_line.starts_with('<') {
        return format!("HTTP {status} without an error message");
    }
    first_line.chars().take(300).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(error: &LLMError) -> ApiError {
        error.api_error().cloned().unwrap_or_default()
    }

    /// The error for `status` and `body`, as `provider` reports it, with these headers.
    fn mapped(provider: &str, status: u16, headers: &[(&str, &str)], body: &[u8]) -> LLMError {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            if let (Ok(name), Ok(value)) =
                (name.parse::<vllora_llm_http::HeaderName>(), value.parse::<vllora_llm_http::HeaderValue>())
            {
                map.insert(name, value);
            }
        }
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        for_provider(map_error(status, &map, body), provider)
    }

    #[test]
    fn openai_error_body_keeps_every_field() {
        let body = br#"{"error":{"message":"Invalid value for 'temperature'","type":"invalid_request_error","param":"temperature","code":"invalid_value"}}"#;
        let error = mapped("openai", 400, &[], body);
        let details = api(&error);
        assert_eq!(details.status, Some(400));
        assert_eq!(details.message, "Invalid value for 'temperature'");
        assert_eq!(details.error_type.as_deref(), Some("invalid_request_error"));
        assert_eq!(details.param.as_deref(), Some("temperature"));
        assert_eq!(details.code.as_deref(), Some("invalid_value"));
        assert!(!error.is_retryable());
    }

    #[test]
    fn rate_limits_are_retryable_unless_the_quota_is_gone() {
        let body = br#"{"error":{"message":"Rate limit reached","type":"requests","param":null,"code":"rate_limit_exceeded"}}"#;
        let error = mapped("openai", 429, &[("retry-after-ms", "1500")], body);
        assert!(error.is_retryable());
        assert_eq!(error.retry_after(), Some(std::time::Duration::from_millis(1500)));
        let body = br#"{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}"#;
        assert!(!mapped("openai", 429, &[], body).is_retryable());
    }

    #[test]
    fn compatible_server_shapes() {
        // llama.cpp: a numeric code.
        let llama =
            br#"{"error":{"code":400,"message":"'messages' is required","type":"invalid_request_error"}}"#;
        let details = api(&mapped("local", 400, &[], llama));
        assert_eq!((details.code.as_deref(), details.provider.as_str()), (Some("400"), "local"));
        // Ollama: a bare string.
        let ollama = br#"{"error":"model \"llama9\" not found, try pulling it first"}"#;
        assert_eq!(
            api(&mapped("ollama", 404, &[], ollama)).message,
            "model \"llama9\" not found, try pulling it first"
        );
        // FastAPI validation errors.
        let fastapi = br#"{"detail":[{"loc":["body","messages"],"msg":"field required","type":"value_error.missing"}]}"#;
        assert_eq!(api(&mapped("vllm", 422, &[], fastapi)).message, "field required");
        // A proxy's HTML page.
        let html = b"<html><body><h1>502 Bad Gateway</h1></body></html>";
        let details = api(&mapped("openai", 502, &[], html));
        assert_eq!(details.message, "HTTP 502 without an error message");
        assert!(details.body.as_deref().is_some_and(|body| body.contains("502 Bad Gateway")));
        assert!(mapped("openai", 502, &[], html).is_retryable());
    }

    #[test]
    fn openrouter_errors_keep_the_upstream_type_and_message() {
        // OpenRouter's documented shape: a numeric code, no type, the upstream body in metadata.raw.
        let body = br#"{"error":{"code":400,"message":"Provider returned error","metadata":{"raw":"{\"type\":\"error\",\"error\":{\"type\":\"invalid_request_error\",\"message\":\"messages.1.content: thinking blocks must come first\"}}","provider_name":"Anthropic"}}}"#;
        let details = api(&mapped("openrouter", 400, &[("x-request-id", "req-or-1")], body));
        assert_eq!(details.code.as_deref(), Some("400"));
        assert_eq!(details.error_type.as_deref(), Some("invalid_request_error"));
        assert_eq!(
            details.message,
            "Provider returned error: messages.1.content: thinking blocks must come first"
        );
        // A raw that is plain text is the upstream's message.
        let body = br#"{"error":{"code":502,"message":"Provider returned error","metadata":{"raw":"upstream connect error","provider_name":"Together"}}}"#;
        let details = api(&mapped("openrouter", 502, &[], body));
        assert_eq!(
            (details.error_type, details.message.as_str()),
            (None, "Provider returned error: upstream connect error")
        );
        // Moderation metadata has no raw: the message stays as it is.
        let body = br#"{"error":{"code":403,"message":"Input flagged","metadata":{"reasons":["violence"],"flagged_input":"...","provider_name":"OpenAI","model_slug":"openai/gpt-4o"}}}"#;
        assert_eq!(api(&mapped("openrouter", 403, &[], body)).message, "Input flagged");
    }
}
