//! The HTTP transport of `vllora_llm`: a pooled hyper client over rustls, retries, timeouts, size limits
//! and a server-sent events decoder.
//!
//! Provider crates build an [`HttpRequest`], send it with [`HttpClient::send`] (one-shot) or
//! [`HttpClient::send_streaming`], and decode streamed bodies with [`sse_stream`]. [`HttpClient`] wraps
//! any [`HttpTransport`]; the default, [`HyperTransport`], speaks HTTP/1.1 and HTTP/2 over rustls (ring,
//! webpki roots) and honours `HTTPS_PROXY`/`HTTP_PROXY`/`NO_PROXY`.
//!
//! What the client guarantees:
//! - retries per [`RetryPolicy`] for retryable failures (408, 409, 429, 500, 502, 503, 504, 529,
//!   connection errors), honouring `Retry-After`/`retry-after-ms`, and never once a byte of a streamed
//!   body has been handed to the caller;
//! - every wait bounded by a [`Timeouts`] phase, reported as [`LLMError::Timeout`] naming the phase;
//! - memory bounded by [`Limits`], reported as [`LLMError::LimitExceeded`];
//! - header values marked sensitive (and credentials such as `authorization`) never shown by `Debug`.
//!
//! ```no_run
//! use vllora_llm_core::{ApiError, LLMError};
//! use vllora_llm_http::{HeaderMap, HttpClient, HttpConfig, HttpRequest, StatusCode, sse_stream};
//!
//! # async fn run() -> Result<(), LLMError> {
//! let http = HttpClient::new(HttpConfig::default())?;
//! let on_error = |status: StatusCode, _headers: &HeaderMap, body: &[u8]| {
//!     LLMError::from(ApiError::new("example", Some(status.as_u16()), "request failed").with_body(body))
//! };
//! let request = HttpRequest::post_json("https://api.example.com/v1/chat/completions", r#"{"stream":true}"#);
//! let reply = http.send_streaming(request, &on_error).await?;
//! let mut events = sse_stream(reply.body, http.config().limits.max_event_size);
//! while let Some(event) = events.next().await {
//!     println!("{}", event?.data);
//! }
//! # Ok(())
//! # }
//! ```
//!
//! [`LLMError::Timeout`]: vllora_llm_core::LLMError::Timeout
//! [`LLMError::LimitExceeded`]: vllora_llm_core::LLMError::LimitExceeded

mod body;
mod client;
mod config;
mod credential_cache;
mod driver;
#[cfg(any(test, feature = "fuzzing"))]
mod fuzzing;
mod message;
mod observe;
mod proxy;
mod quiet;
mod retry;
mod sse;
mod transport;

pub use bytes::Bytes;
pub use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};

pub use client::{ErrorMapper, HttpClient};
pub use config::{HttpConfig, Limits, RetryPolicy, Timeouts};
pub use credential_cache::{CachedCredential, Clock, CredentialSource, DEFAULT_REFRESH_BEFORE, Expiring};
pub use driver::{ChunkStream, Chunks, EndOfBody, Framing, StreamDecoder, decode_pieces, truncated};
pub use message::{
    BodyStream, HttpReply, HttpRequest, HttpResponse, RedactedUrl, StreamingReply, check_base_url,
    response_metadata,
};
pub use observe::{ServerAddress, observe_server};
pub use proxy::ProxyConfig;
pub use quiet::without_tracing;
pub use retry::retry_after;
pub use sse::{SseDecoder, SseEvent, SseEventRef, SseStream, sse_stream};
pub use transport::{HttpTransport, HyperTransport};
/// The body of the SSE fuzz target; not part of the API.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub use fuzzing::decode_sse;
