//! Anthropic errors -> [`LLMError`]: error responses ([`map_error`], the transport's
//! [`ErrorMapper`](vllora_llm_http::ErrorMapper)) and `error` events inside a stream ([`stream_error`]).

use vllora_llm_core::{ApiError, LLMError};
use vllora_llm_http::{HeaderMap, StatusCode, retry_after};

use crate::PROVIDER_NAME;
use crate::wire::ErrorBody;

/// Maps a non-2xx response: `{"type": "error", "error": {"type": ..., "message": ...}, "request_id": ...}`.
///
/// Retryable: what the status says (429, 500, 529...), and any `overloaded_error` whatever its status.
/// `retry-after-ms` / `Retry-After` are read here, once.
pub(crate) fn map_error(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> LLMError {
    let status = status.as_u16();
    let parsed: Option<ErrorBody> = serde_json::from_slice(body).ok();
    let (kind, message, request_id) = match parsed {
        Some(parsed) => (parsed.error.kind, parsed.error.message, parsed.request_id),
        None => (None, None, None),
    };
    let message = message.unwrap_or_else(|| format!("HTTP {status} without an Anthropic error body"));
    let mut api = ApiError::new(PROVIDER_NAME, Some(status), message).with_body(body);
    if kind.as_deref() == Some("overloaded_error") {
        api.retryable = true;
    }
    api.error_type = kind;
    api.code = request_id;
    api.retry_after = retry_after(headers);
    LLMError::from(api)
}

/// A mid-stream `error` event. Overloaded and internal errors are worth retrying; the status is unknown
/// because the HTTP response already said 200.
pub(crate) fn stream_error(kind: Option<String>, message: Option<String>) -> LLMError {
    let mut api =
        ApiError::new(PROVIDER_NAME, None, message.unwrap_or_else(|| "error event in the stream".into()));
    api.retryable = matches!(kind.as_deref(), Some("overloaded_error" | "api_error" | "rate_limit_error"));
    api.error_type = kind;
    LLMError::from(api)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use vllora_llm_http::HeaderValue;

    use super::*;

    fn status(code: u16) -> StatusCode {
        StatusCode::from_u16(code).unwrap_or_else(|error| panic!("{code}: {error}"))
    }

    /// `map_error` without headers.
    fn map(code: u16, body: &[u8]) -> LLMError {
        map_error(status(code), &HeaderMap::new(), body)
    }

    #[test]
    fn anthropic_error_bodies() {
        let body = br#"{"type":"error","error":{"type":"rate_limit_error","message":"Number of request tokens has exceeded your per-minute rate limit"},"request_id":"req_011CSHoEeqs5C35K2UUqR7Fy"}"#;
        let mut headers = HeaderMap::new();
        headers.insert("retry-after", HeaderValue::from_static("7"));
        let error = map_error(status(429), &headers, body);
        assert!(error.is_retryable());
        assert_eq!(error.retry_after(), Some(Duration::from_secs(7)));
        assert_eq!(
            error.to_string(),
            "anthropic API error (HTTP 429, rate_limit_error): Number of request tokens has exceeded your per-minute rate limit"
        );
        let Some(api) = error.api_error() else { panic!("api error") };
        assert_eq!(api.code.as_deref(), Some("req_011CSHoEeqs5C35K2UUqR7Fy"));

        let overloaded = br#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#;
        assert!(map(529, overloaded).is_retryable());
        assert!(
            map(500, br#"{"type":"error","error":{"type":"api_error","message":"Internal"}}"#).is_retryable()
        );
        for status in [400, 401, 403, 404, 413] {
            let body = br#"{"type":"error","error":{"type":"invalid_request_error","message":"bad"}}"#;
            let error = map(status, body);
            assert!(!error.is_retryable(), "{status}");
            assert_eq!(error.status(), Some(status));
        }
    }

    #[test]
    fn a_body_that_is_not_anthropic_json_still_gives_a_clear_error() {
        let error = map(502, b"<html>Bad gateway</html>");
        assert!(error.is_retryable());
        assert_eq!(
            error.to_string(),
            "anthropic API error (HTTP 502): HTTP 502 without an Anthropic error body"
        );
        assert_eq!(
            error.api_error().and_then(|api| api.body.clone()).as_deref(),
            Some("<html>Bad gateway</html>")
        );
    }
}
