//! Bedrock errors -> `LLMError`: JSON error bodies of failed calls, and exception frames inside a stream.

use vllora_llm_core::{ApiError, LLMError};
use vllora_llm_http::{HeaderMap, StatusCode, retry_after};

use crate::PROVIDER_NAME;
use crate::wire::ErrorBody;

/// Error types worth retrying whatever their status says: the service is busy or failed transiently.
fn is_retryable_type(error_type: &str) -> bool {
    matches!(
        error_type,
        "ThrottlingException"
            | "ServiceUnavailableException"
            | "InternalServerException"
            | "ModelNotReadyException"
            | "ModelStreamErrorException"
            | "ModelTimeoutException"
    )
}

/// The bare type name: AWS sends `ValidationException:http://internal.amazon.com/...` in
/// `x-amzn-errortype` and `com.amazon.coral.service#ValidationException` in `__type`.
fn bare_type(raw: &str) -> &str {
    let before_colon = raw.split(':').next().unwrap_or(raw);
    before_colon.rsplit('#').next().unwrap_or(before_colon).trim()
}

/// Maps a non-2xx response (status, headers, body) to an error naming the AWS error type; `Retry-After`
/// is parsed here, once.
pub(crate) fn map_error(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> LLMError {
    let parsed: ErrorBody = serde_json::from_slice(body).unwrap_or_default();
    let header_type = headers.get("x-amzn-errortype").and_then(|value| value.to_str().ok());
    let error_type = header_type.or(parsed.kind.as_deref()).map(bare_type).filter(|kind| !kind.is_empty());
    let message = parsed.message.clone().filter(|message| !message.is_empty()).unwrap_or_else(|| {
        status.canonical_reason().map_or_else(|| format!("HTTP {}", status.as_u16()), str::to_owned)
    });
    let mut api = ApiError::new(PROVIDER_NAME, Some(status.as_u16()), message).with_body(body);
    if let Some(error_type) = error_type {
        api.retryable |= is_retryable_type(error_type);
        api.error_type = Some(error_type.to_owned());
    }
    api.code = parsed.original_status_code.map(|code| code.to_string());
    api.retry_after = retry_after(headers);
    api.into()
}

/// Maps an exception frame (`:message-type: exception`) to an error. The frame names the stream member
/// (`throttlingException`); the error type is spelled as the HTTP error would be (`ThrottlingException`).
pub(crate) fn stream_exception(exception_type: &str, payload: &[u8]) -> LLMError {
    let parsed: ErrorBody = serde_json::from_slice(payload).unwrap_or_default();
    let mut error_type = String::with_capacity(exception_type.len());
    let mut characters = exception_type.chars();
    if let Some(first) = characters.next() {
        error_type.extend(first.to_uppercase());
        error_type.push_str(characters.as_str());
    }
    let message =
        parsed.message.clone().or(parsed.original_message.clone()).unwrap_or_else(|| error_type.clone());
    let mut api = ApiError::new(PROVIDER_NAME, None, message).with_body(payload);
    api.retryable = is_retryable_type(&error_type);
    api.code = parsed.original_status_code.map(|code| code.to_string());
    api.error_type = Some(error_type);
    api.into()
}

/// Maps an error frame (`:message-type: error`), which carries its code and message in headers.
pub(crate) fn stream_error_frame(code: Option<&str>, message: Option<&str>) -> LLMError {
    let mut api = ApiError::new(PROVIDER_NAME, None, message.unwrap_or("the stream reported an error"));
    if let Some(code) = code {
        api.retryable = is_retryable_type(code);
        api.error_type = Some(code.to_owned());
    }
    api.into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use vllora_llm_http::HeaderValue;

    #[test]
    fn type_comes_from_the_header_or_the_body() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-amzn-errortype",
            HeaderValue::from_static(
                "ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/",
            ),
        );
        let body = br#"{"message":"The provided model identifier is invalid."}"#;
        let error = map_error(StatusCode::BAD_REQUEST, &headers, body);
        let api = error.api_error().cloned().unwrap_or_default();
        assert_eq!(api.error_type.as_deref(), Some("ValidationException"));
        assert_eq!(api.message, "The provided model identifier is invalid.");
        assert!(!error.is_retryable());

        let body = br#"{"__type":"com.amazon.coral.availability#ThrottlingException","Message":"Too many requests"}"#;
        let error = map_error(StatusCode::BAD_REQUEST, &HeaderMap::new(), body);
        let api = error.api_error().cloned().unwrap_or_default();
        assert_eq!(api.error_type.as_deref(), Some("ThrottlingException"));
        assert_eq!(api.message, "Too many requests");
        assert!(error.is_retryable(), "throttling is retryable whatever the status");
    }

    #[test]
    fn a_body_that_is_not_json_still_gives_a_clear_error() {
        let error = map_error(StatusCode::BAD_GATEWAY, &HeaderMap::new(), b"<html>bad gateway</html>");
        assert_eq!(error.status(), Some(502));
        assert!(error.is_retryable());
        assert_eq!(error.to_string(), "aws.bedrock API error (HTTP 502): Bad Gateway");
    }

    #[test]
    fn exception_frames_keep_the_aws_type() {
        let error =
            stream_exception("modelStreamErrorException", br#"{"message":"boom","originalStatusCode":500}"#);
        let api = error.api_error().cloned().unwrap_or_default();
        assert_eq!(api.error_type.as_deref(), Some("ModelStreamErrorException"));
        assert_eq!(api.code.as_deref(), Some("500"));
        assert!(api.retryable);
        let validation = stream_exception("validationException", br#"{"message":"bad"}"#);
        assert!(!validation.is_retryable());
    }
}
