//! [`HttpConfig`]: timeouts, retry policy and size limits, with defaults suited to LLM APIs.

use std::time::Duration;

/// How long each phase of a call may take; `None` means no limit. Every default is finite, so every
/// call ends; [`vllora_llm_core::CallOptions`] replaces the first-byte, idle and total timeouts per call.
/// `Duration::MAX` is accepted anywhere and means no limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Opening a connection: TCP, the proxy tunnel and the TLS handshake. Applied by
    /// [`crate::HyperTransport`]; a custom transport applies its own. Per client, not per call.
    pub connect: Option<Duration>,
    /// From the moment a connection (new or pooled) carries the request until the response headers
    /// arrive. A one-shot completion sends its headers only once the whole answer is generated.
    pub first_byte: Option<Duration>,
    /// The longest gap between two pieces of a response body (SSE comments and keep-alive frames count
    /// as pieces).
    pub idle: Option<Duration>,
    /// A one-shot call: every attempt, the waits between them and reading the body.
    pub total: Option<Duration>,
    /// A stream: from sending the request to the end of its body, retries before the first byte
    /// included.
    pub stream_total: Option<Duration>,
}

impl Default for Timeouts {
    /// Connect 10 s; first byte 10 min (a one-shot answer from a reasoning model arrives whole, after
    /// minutes of thinking); idle 5 min (a reasoning model may think for minutes behind keep-alives);
    /// one-shot total 15 min; stream total 30 min. A server that never answers, trickles a byte a minute
    /// or sends keep-alives forever is cut off by the total.
    fn default() -> Self {
        Timeouts {
            connect: Some(Duration::from_secs(10)),
            first_byte: Some(Duration::from_secs(600)),
            idle: Some(Duration::from_secs(300)),
            total: Some(Duration::from_secs(900)),
            stream_total: Some(Duration::from_secs(1800)),
        }
    }
}

/// When and how failed attempts are repeated.
///
/// Retried: failures that cannot have produced an answer, i.e. errors for which
/// [`vllora_llm_core::LLMError::is_retryable`] holds and
/// [`may_have_generated`](vllora_llm_core::LLMError::may_have_generated) does not (408, 409, 429, 500,
/// 502, 503, 504, 529, a failed connect, a connect timeout). A connection broken after sending, a
/// first-byte timeout or a one-shot body cut off may have produced a billed answer: they are retried only
/// when the call allows it ([`vllora_llm_core::CallOptions::safe_to_repeat`]). The wait before
/// attempt `n + 1` is the server's `Retry-After` when it gave one, else a random duration between zero
/// and `initial_backoff * 2^(n-1)`, capped at `max_backoff` ("full jitter").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included; 1 (or 0) disables retries.
    pub max_attempts: u32,
    /// The backoff ceiling of the first retry.
    pub initial_backoff: Duration,
    /// The largest backoff ceiling.
    pub max_backoff: Duration,
    /// The longest `Retry-After` honoured; when the server asks for more, its error is returned at once
    /// (waiting that long is the caller's decision).
    pub max_retry_after: Duration,
}

impl RetryPolicy {
    /// No retries.
    pub fn none() -> Self {
        RetryPolicy { max_attempts: 1, ..RetryPolicy::default() }
    }
}

impl Default for RetryPolicy {
    /// 3 attempts, backoff from 0.5 s up to 8 s, `Retry-After` honoured up to 60 s.
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

/// Size limits on what the server sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The largest one-shot response body.
    pub max_response_body: usize,
    /// The largest single stream event (an SSE event, an event-stream frame).
    pub max_event_size: usize,
    /// The most of an error response's body that is read (the rest is not downloaded: the connection
    /// is closed instead).
    pub max_error_body: usize,
}

impl Default for Limits {
    /// 64 MiB per response body (generated images arrive base64-encoded), 16 MiB per event, 64 KiB of
    /// an error body (providers' error documents are a few hundred bytes).
    fn default() -> Self {
        Limits { max_response_body: 64 << 20, max_event_size: 16 << 20, max_error_body: 64 << 10 }
    }
}

/// Everything [`crate::HttpClient`] is configured with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HttpConfig {
    /// Timeouts.
    pub timeouts: Timeouts,
    /// Retries.
    pub retry: RetryPolicy,
    /// Size limits.
    pub limits: Limits,
}
