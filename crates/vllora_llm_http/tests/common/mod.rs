//! Helpers shared by the loopback tests: clients without retries or proxies, and an error mapper.

#![allow(dead_code, reason = "each test file uses a different subset")]
#![allow(clippy::panic, reason = "a test fails by panicking")]

use std::sync::Arc;
use std::time::Duration;

use vllora_llm_core::{ApiError, LLMError};
use vllora_llm_http::{ErrorMapper, HttpClient, HttpConfig, HyperTransport, ProxyConfig, RetryPolicy};

/// Maps an error response the way a provider would: status and body text.
pub fn mock_errors() -> Box<ErrorMapper> {
    Box::new(|status, _headers, body| {
        LLMError::from(
            ApiError::new("mock", Some(status.as_u16()), String::from_utf8_lossy(body)).with_body(body),
        )
    })
}

/// Quick retries, so retry tests do not wait long on backoff.
pub fn quick_retries(max_attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        initial_backoff: Duration::from_millis(40),
        max_backoff: Duration::from_millis(200),
        max_retry_after: Duration::from_secs(5),
    }
}

/// A client over a real hyper transport that ignores the machine's proxy variables.
pub fn client(config: HttpConfig) -> HttpClient {
    let Ok(transport) = HyperTransport::new(&config.timeouts, &ProxyConfig::none()) else {
        panic!("the transport builds")
    };
    HttpClient::with_transport(Arc::new(transport), config)
}

/// A configuration without retries.
pub fn no_retries() -> HttpConfig {
    HttpConfig { retry: RetryPolicy::none(), ..HttpConfig::default() }
}
