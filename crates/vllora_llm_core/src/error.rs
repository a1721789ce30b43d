//! [`LLMError`], the one error type of the crate family, and [`LLMResult`].

use std::fmt;
use std::time::Duration;

use crate::warning::Warning;

/// The result of every fallible call.
pub type LLMResult<T> = Result<T, LLMError>;

/// Which timeout fired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimeoutPhase {
    /// Opening the connection (TCP and TLS).
    Connect,
    /// Waiting for the response headers after sending the request.
    FirstByte,
    /// Waiting between two pieces of a streamed body.
    Idle,
    /// The whole call, retries included.
    Total,
}

impl fmt::Display for TimeoutPhase {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(match self {
            TimeoutPhase::Connect => "connect",
            TimeoutPhase::FirstByte => "first byte",
            TimeoutPhase::Idle => "idle gap between stream events",
            TimeoutPhase::Total => "total",
        })
    }
}

/// Which size limit was exceeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Limit {
    /// The whole response body.
    ResponseBody,
    /// One server-sent event or event-stream frame.
    Event,
}

impl fmt::Display for Limit {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(match self {
            Limit::ResponseBody => "response body",
            Limit::Event => "single stream event",
        })
    }
}

/// An error reported by a provider's API, with everything it said.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct ApiError {
    /// The provider (`openai`, `anthropic`, `gemini`, `bedrock`, or a proxy's name).
    pub provider: String,
    /// HTTP status; `None` for an error event inside a stream.
    pub status: Option<u16>,
    /// The provider's error type (`invalid_request_error`, `overloaded_error`, `ThrottlingException`,
    /// `RESOURCE_EXHAUSTED`...).
    pub error_type: Option<String>,
    /// The provider's error code.
    pub code: Option<String>,
    /// The request parameter at fault.
    pub param: Option<String>,
    /// The provider's message.
    pub message: String,
    /// The start of the response body, for what the fields above do not hold.
    pub body: Option<String>,
    /// How long the provider asked to wait before retrying.
    pub retry_after: Option<Duration>,
    /// Whether sending the same request again may succeed.
    pub retryable: bool,
    /// What the HTTP response said besides its body (status, the provider's request id, rate limits);
    /// `None` for an error event inside a stream (the stream's own metadata has them).
    pub metadata: Option<crate::metadata::ResponseMetadata>,
}

/// Longest body kept in an [`ApiError`].
pub const MAX_ERROR_BODY: usize = 4096;

impl ApiError {
    /// An error with the retryability the status implies (408, 409, 429, 500, 502, 503, 504 and 529 are
    /// retryable).
    pub fn new(provider: impl Into<String>, status: Option<u16>, message: impl Into<String>) -> Self {
        ApiError {
            provider: provider.into(),
            status,
            message: message.into(),
            retryable: status.is_some_and(is_retryable_status),
            ..Default::default()
        }
    }

    /// Keeps the start of `body` (at most [`MAX_ERROR_BODY`] bytes, cut on a character boundary).
    pub fn with_body(mut self, body: &[u8]) -> Self {
        let text = String::from_utf8_lossy(body);
        let mut end = text.len().min(MAX_ERROR_BODY);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        self.body = Some(text[..end].to_owned());
        self
    }
}

/// Whether an HTTP status is worth retrying.
pub fn is_retryable_status(status: u16) -> bool {
    matches!(status, 408 | 409 | 429 | 500 | 502 | 503 | 504 | 529)
}

impl fmt::Display for ApiError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{} API error", self.provider)?;
        match (self.status, &self.error_type) {
            (Some(status), Some(kind)) => write!(formatter, " (HTTP {status}, {kind})")?,
            (Some(status), None) => write!(formatter, " (HTTP {status})")?,
            (None, Some(kind)) => write!(formatter, " ({kind})")?,
            (None, None) => {}
        }
        write!(formatter, ": {}", self.message)
    }
}

/// Everything that can go wrong.
///
/// `Display` names what is wrong and never contains a credential or a signed URL.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LLMError {
    /// The provider answered with an error.
    #[error("{0}")]
    Api(Box<ApiError>),
    /// The connection broke or the server answered with something that is not HTTP, after the request
    /// may have reached it (a reset, a close before or during the response, garbage). The provider may
    /// have generated (and billed) an answer, so the transport repeats such a request only when the
    /// caller allows it ([`CallOptions::with_safe_to_repeat`](crate::CallOptions::with_safe_to_repeat)).
    #[error("connection error: {message}")]
    Connection {
        /// What happened, where, and how many attempts were made.
        message: String,
    },
    /// No connection could be opened (DNS, TCP, the proxy tunnel, the TLS handshake): nothing was sent,
    /// so trying again is always safe and the transport retries it.
    #[error("connection error: {message}")]
    ConnectFailed {
        /// What happened, where, and how many attempts were made.
        message: String,
    },
    /// A timeout fired.
    #[error("{phase} timeout after {after:?}")]
    Timeout {
        /// Which timeout.
        phase: TimeoutPhase,
        /// Its configured length.
        after: Duration,
    },
    /// A response or a stream event was larger than allowed.
    #[error("{limit} larger than the limit of {max_bytes} bytes")]
    LimitExceeded {
        /// Which limit.
        limit: Limit,
        /// The limit.
        max_bytes: usize,
    },
    /// The request cannot be sent as it is.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// Strict mode is on and the provider cannot honour these parameters.
    #[error("unsupported parameters in strict mode: {}", join_warnings(.0))]
    Unsupported(Vec<Warning>),
    /// The provider's response could not be understood.
    #[error("could not decode the {provider} response: {message}")]
    Decode {
        /// The provider.
        provider: String,
        /// What was wrong.
        message: String,
    },
    /// No credentials were found for a provider.
    #[error("no credentials for {provider}: {hint}")]
    MissingCredentials {
        /// The provider.
        provider: String,
        /// What to set.
        hint: String,
    },
    /// The provider's Cargo feature is not enabled.
    #[error("provider `{provider}` is not compiled in: enable the `{feature}` feature of vllora_llm")]
    ProviderNotCompiled {
        /// The provider.
        provider: String,
        /// The feature to enable.
        feature: String,
    },
    /// The client or provider configuration is wrong.
    #[error("configuration error: {0}")]
    Config(String),
}

fn join_warnings(warnings: &[Warning]) -> String {
    let mut joined = String::new();
    for (position, warning) in warnings.iter().enumerate() {
        if position > 0 {
            joined.push_str("; ");
        }
        joined.push_str(&warning.to_string());
    }
    joined
}

impl From<ApiError> for LLMError {
    fn from(error: ApiError) -> Self {
        LLMError::Api(Box::new(error))
    }
}

impl LLMError {
    /// A decode error for `provider`.
    pub fn decode(provider: impl Into<String>, message: impl fmt::Display) -> Self {
        LLMError::Decode { provider: provider.into(), message: message.to_string() }
    }

    /// The HTTP status of an API error.
    pub fn status(&self) -> Option<u16> {
        match self {
            LLMError::Api(api) => api.status,
            _ => None,
        }
    }

    /// Whether sending the same request again may succeed: retryable statuses and error types,
    /// connection errors, connect and first-byte timeouts. Whether it is also *safe* (no answer
    /// generated twice) is [`may_have_generated`](Self::may_have_generated).
    pub fn is_retryable(&self) -> bool {
        match self {
            LLMError::Api(api) => api.retryable,
            LLMError::Connection { .. } | LLMError::ConnectFailed { .. } => true,
            LLMError::Timeout { phase, .. } => {
                matches!(phase, TimeoutPhase::Connect | TimeoutPhase::FirstByte)
            }
            _ => false,
        }
    }

    /// Whether the provider may have generated (and billed) an answer before this error: the request
    /// reached the server and no error status came back (a broken connection or garbage after sending,
    /// a first-byte, idle or total timeout, a body cut off, oversize or undecodable). Sending the request
    /// again may then generate a second answer. `false` for an error status (the provider said the
    /// request failed), a failed connect and every error raised before sending.
    pub fn may_have_generated(&self) -> bool {
        match self {
            LLMError::Connection { .. } | LLMError::LimitExceeded { .. } | LLMError::Decode { .. } => true,
            LLMError::Timeout { phase, .. } => !matches!(phase, TimeoutPhase::Connect),
            // An error event inside a stream (no status) comes after the answer began.
            LLMError::Api(api) => api.status.is_none(),
            _ => false,
        }
    }

    /// How long the provider asked to wait before retrying.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            LLMError::Api(api) => api.retry_after,
            _ => None,
        }
    }

    /// The provider the error came from, when it came from one.
    pub fn provider(&self) -> Option<&str> {
        match self {
            LLMError::Api(api) => Some(&api.provider),
            LLMError::Decode { provider, .. } | LLMError::MissingCredentials { provider, .. } => {
                Some(provider)
            }
            LLMError::ProviderNotCompiled { provider, .. } => Some(provider),
            _ => None,
        }
    }

    /// The API error's details.
    pub fn api_error(&self) -> Option<&ApiError> {
        match self {
            LLMError::Api(api) => Some(api),
            _ => None,
        }
    }

    /// The provider's request id of an API error, to quote to the provider's support.
    pub fn request_id(&self) -> Option<&str> {
        self.api_error()?.metadata.as_ref()?.request_id()
    }

    /// Whether a timeout fired.
    pub fn is_timeout(&self) -> bool {
        matches!(self, LLMError::Timeout { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retryable_statuses_follow_the_policy() {
        for status in [408, 409, 429, 500, 502, 503, 504, 529] {
            let error = LLMError::from(ApiError::new("openai", Some(status), "busy"));
            assert!(error.is_retryable(), "{status} should be retryable");
            assert_eq!(error.status(), Some(status));
        }
        for status in [400, 401, 403, 404, 413, 422] {
            let error = LLMError::from(ApiError::new("openai", Some(status), "bad"));
            assert!(!error.is_retryable(), "{status} should not be retryable");
        }
    }

    #[test]
    fn retry_after_is_reported() {
        let mut api = ApiError::new("anthropic", Some(429), "slow down");
        api.retry_after = Some(Duration::from_secs(3));
        let error = LLMError::from(api);
        assert_eq!(error.retry_after(), Some(Duration::from_secs(3)));
        assert_eq!(error.provider(), Some("anthropic"));
        assert_eq!(LLMError::InvalidRequest("x".into()).retry_after(), None);
    }

    #[test]
    fn what_may_have_generated_an_answer_is_told_apart() {
        let connect = LLMError::ConnectFailed { message: "refused".into() };
        assert!(connect.is_retryable() && !connect.may_have_generated());
        let reset = LLMError::Connection { message: "reset".into() };
        assert!(reset.is_retryable() && reset.may_have_generated());
        let phases =
            [TimeoutPhase::Connect, TimeoutPhase::FirstByte, TimeoutPhase::Idle, TimeoutPhase::Total];
        let generated: Vec<bool> = phases
            .iter()
            .map(|phase| {
                LLMError::Timeout { phase: *phase, after: Duration::from_secs(1) }.may_have_generated()
            })
            .collect();
        assert_eq!(generated, vec![false, true, true, true]);
        assert!(!LLMError::from(ApiError::new("openai", Some(500), "boom")).may_have_generated());
        assert!(LLMError::from(ApiError::new("anthropic", None, "overloaded")).may_have_generated());
        assert!(!LLMError::InvalidRequest("x".into()).may_have_generated());
        assert!(LLMError::decode("openai", "bad json").may_have_generated());
    }

    #[test]
    fn transport_errors_are_classified() {
        assert!(LLMError::Connection { message: "reset".into() }.is_retryable());
        let idle = LLMError::Timeout { phase: TimeoutPhase::Idle, after: Duration::from_secs(1) };
        assert!(!idle.is_retryable());
        assert!(idle.is_timeout());
        let connect = LLMError::Timeout { phase: TimeoutPhase::Connect, after: Duration::from_secs(1) };
        assert!(connect.is_retryable());
    }

    #[test]
    fn display_names_provider_status_and_type() {
        let mut api = ApiError::new("openai", Some(400), "Invalid value for 'temperature'");
        api.error_type = Some("invalid_request_error".into());
        assert_eq!(
            LLMError::from(api).to_string(),
            "openai API error (HTTP 400, invalid_request_error): Invalid value for 'temperature'"
        );
    }

    #[test]
    fn body_is_truncated_on_a_character_boundary() {
        let body = "é".repeat(MAX_ERROR_BODY);
        let api = ApiError::new("gemini", Some(500), "x").with_body(body.as_bytes());
        let kept = api.body.unwrap_or_default();
        assert!(kept.len() <= MAX_ERROR_BODY);
        assert!(kept.chars().all(|character| character == 'é'));
    }
}
