//! Gemini's error body (`{"error": {"code", "message", "status", "details"}}`) -> [`LLMError`].

use std::time::Duration;

use serde_json::Value;
use vllora_llm_core::{ApiError, LLMError};
use vllora_llm_http::{HeaderMap, StatusCode};

use crate::PROVIDER_NAME;
use crate::wire::{ErrorBody, ErrorEnvelope};

/// The error for a Gemini error body: a non-2xx response, or (with a 2xx `status`, which carries no
/// error status of its own) an error event inside a stream or a 200 answer. The wait Gemini asks for in
/// a `RetryInfo` detail wins over the `Retry-After` header, which Gemini rarely sends and which is read
/// (once) only when there is no such detail.
pub(crate) fn map_error(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> LLMError {
    let http_status = (!status.is_success()).then_some(status.as_u16());
    let envelope: ErrorEnvelope = serde_json::from_slice(body).unwrap_or_default();
    let mut error = match envelope.error {
        Some(error_body) => from_error_body(http_status, &error_body),
        None => {
            let message = if body.is_empty() {
                format!("HTTP {} with an empty body", status.as_u16())
            } else {
                String::from_utf8_lossy(body).chars().take(200).collect()
            };
            ApiError::new(PROVIDER_NAME, Some(status.as_u16()), message)
        }
    };
    if error.retry_after.is_none() {
        error.retry_after = vllora_llm_http::retry_after(headers);
    }
    LLMError::from(error.with_body(body))
}

fn from_error_body(status: Option<u16>, error_body: &ErrorBody) -> ApiError {
    let effective_status = status.or(error_body.code);
    let message = error_body.message.clone().unwrap_or_else(|| "no message".to_owned());
    let mut error = ApiError::new(PROVIDER_NAME, effective_status, message);
    error.error_type = error_body.status.clone();
    error.code = error_body.code.map(|code| code.to_string());
    error.retry_after = error_body.details.iter().find_map(retry_delay);
    error.param = error_body.details.iter().find_map(violated_field);
    // A status name alone marks retryability for errors that arrive inside a stream, without an HTTP status.
    if matches!(error_body.status.as_deref(), Some("RESOURCE_EXHAUSTED" | "UNAVAILABLE" | "INTERNAL")) {
        error.retryable = true;
    }
    error
}

/// `google.rpc.RetryInfo.retryDelay`, a protobuf `Duration` in JSON: `"37s"`, `"0.250s"`.
fn retry_delay(detail: &Value) -> Option<Duration> {
    let text = detail.get("retryDelay")?.as_str()?;
    let seconds: f64 = text.strip_suffix('s')?.parse().ok()?;
    (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds.min(86_400.0)))
}

/// The field a `google.rpc.BadRequest` detail blames.
fn violated_field(detail: &Value) -> Option<String> {
    let violations = detail.get("fieldViolations")?.as_array()?;
    violations.iter().find_map(|violation| violation.get("field")?.as_str().map(str::to_owned))
}

#[cfg(test)]
mod tests {
    use vllora_llm_http::HeaderValue;

    use super::*;

    fn status(code: u16) -> StatusCode {
        StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.insert(*name, HeaderValue::from_static(value));
        }
        headers
    }

    const QUOTA: &str = r#"{
      "error": {
        "code": 429,
        "message": "You exceeded your current quota, please check your plan and billing details.",
        "status": "RESOURCE_EXHAUSTED",
        "details": [
          {"@type": "type.googleapis.com/google.rpc.QuotaFailure",
           "violations": [{"quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
                           "quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier"}]},
          {"@type": "type.googleapis.com/google.rpc.Help", "links": [{"description": "Learn more",
            "url": "https://ai.google.dev/gemini-api/docs/rate-limits"}]},
          {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "37s"}
        ]
      }
    }"#;

    #[test]
    fn quota_errors_are_retryable_after_the_delay_gemini_asks_for() {
        let error = map_error(status(429), &headers(&[("retry-after", "5")]), QUOTA.as_bytes());
        assert!(error.is_retryable());
        assert_eq!(error.retry_after(), Some(Duration::from_secs(37)));
        let Some(api) = error.api_error() else { panic!("an API error") };
        assert_eq!(api.error_type.as_deref(), Some("RESOURCE_EXHAUSTED"));
        assert_eq!(api.code.as_deref(), Some("429"));
        assert_eq!(api.provider, PROVIDER_NAME);
        assert!(api.message.starts_with("You exceeded your current quota"));
    }

    #[test]
    fn bad_requests_name_the_field_and_are_not_retried() {
        let body =
            br#"{"error": {"code": 400, "message": "Invalid JSON payload received. Unknown name \"foo\"",
            "status": "INVALID_ARGUMENT", "details": [{"@type": "type.googleapis.com/google.rpc.BadRequest",
            "fieldViolations": [{"field": "generation_config.foo", "description": "Unknown name"}]}]}}"#;
        let error = map_error(status(400), &HeaderMap::new(), body);
        assert!(!error.is_retryable());
        assert_eq!(error.api_error().and_then(|api| api.param.as_deref()), Some("generation_config.foo"));
        assert_eq!(
            error.to_string(),
            "gcp.gemini API error (HTTP 400, INVALID_ARGUMENT): Invalid JSON payload received. Unknown name \"foo\""
        );
    }

    #[test]
    fn server_errors_and_non_json_bodies_are_kept() {
        for status in [500, 503] {
            let error = map_error(
                self::status(status),
                &headers(&[("retry-after-ms", "1500")]),
                b"<html>Service Unavailable</html>",
            );
            assert!(error.is_retryable(), "{status}");
            assert_eq!(error.retry_after(), Some(Duration::from_millis(1500)));
            assert_eq!(error.status(), Some(status));
            assert!(error.to_string().contains("Service Unavailable"));
        }
        assert!(map_error(status(502), &HeaderMap::new(), b"").to_string().contains("empty body"));
    }

    #[test]
    fn fractional_delays_parse_and_nonsense_is_ignored() {
        assert_eq!(
            retry_delay(&serde_json::json!({"retryDelay": "0.250s"})),
            Some(Duration::from_millis(250))
        );
        assert_eq!(retry_delay(&serde_json::json!({"retryDelay": "soon"})), None);
        assert_eq!(retry_delay(&serde_json::json!({"retryDelay": "-3s"})), None);
    }

    #[test]
    fn errors_inside_a_stream_keep_retryability_from_the_status_name() {
        let body = br#"{"error": {"code": 503, "message": "The model is overloaded. Please try again later.",
            "status": "UNAVAILABLE"}}"#;
        let error = map_error(StatusCode::OK, &HeaderMap::new(), body);
        assert!(error.is_retryable());
        assert_eq!(error.status(), Some(503));
    }
}
