//! Helpers shared by the loopback tests: clients without retries or proxies, and an error mapper.

#![allow(dead_code, reason = "each test file uses a different subset")]
#![allow(clippy::panic, reason = "a test fails by panicking")]

use std::sync::Arc;
use std::time::Duration;

use vllora_llm_core::{ApiError, LLMError};
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
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

/// A server answering every request with `status`, `Content-Length: 2000000000` and a body it writes
/// for as long as the client reads: its URL, and the count of body bytes the sockets accepted.
pub async fn endless_error_server(status: u16) -> (String, Arc<AtomicUsize>) {
    let Ok(listener) = TcpListener::bind("127.0.0.1:0").await else { panic!("bind") };
    let Ok(address) = listener.local_addr() else { panic!("address") };
    let written = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&written);
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let counter = Arc::clone(&counter);
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buffer = [0_u8; 4096];
                while !head.windows(4).any(|window| window == b"\r\n\r\n") {
                    match stream.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(read) => head.extend_from_slice(&buffer[..read]),
                    }
                }
                let response = format!(
                    "HTTP/1.1 {status} Error\r\ncontent-type: application/json\r\ncontent-length: 2000000000\r\n\r\n{{\"error\": \"boom"
                );
                if stream.write_all(response.as_bytes()).await.is_err() {
                    return;
                }
                let filler = vec![b'x'; 1 << 20];
                while stream.write_all(&filler).await.is_ok() {
                    counter.fetch_add(filler.len(), Ordering::SeqCst);
                }
            });
        }
    });
    (format!("http://{address}"), written)
}
