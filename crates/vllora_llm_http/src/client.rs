//! [`HttpClient`]: one pooled transport with the retry policy, timeouts and size limits around it.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http::header::CONTENT_LENGTH;
use http::{HeaderMap, StatusCode};
use tokio::time::Instant;
use vllora_llm_core::{LLMError, LLMResult, TimeoutPhase};

use crate::body::{TimedBody, read_to_end, timed};
use crate::config::HttpConfig;
use crate::message::{HttpReply, HttpRequest, HttpResponse, StreamingReply};
use crate::retry::{backoff, jitter_draw, retry_after};
use crate::transport::{HttpTransport, HyperTransport};

/// Turns a non-2xx response into the provider's error (status, headers, whole body up to the limit).
///
/// When the error it returns is an API error without `retry_after`, the client fills it in from the
/// `retry-after-ms` / `Retry-After` headers.
pub type ErrorMapper = dyn Fn(StatusCode, &HeaderMap, &[u8]) -> LLMError + Send + Sync;

/// The HTTP client every provider uses. Cheap to clone: clones share the connection pool.
#[derive(Clone)]
pub struct HttpClient {
    transport: Arc<dyn HttpTransport>,
    config: HttpConfig,
}

impl fmt::Debug for HttpClient {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("HttpClient")
            .field("transport", &self.transport)
            .field("config", &self.config)
            .finish()
    }
}

/// The deadline of a whole call, with the configured length for the error message.
type Deadline = Option<(Duration, Instant)>;

impl HttpClient {
    /// A client over a new [`HyperTransport`], with proxies from `HTTPS_PROXY`/`HTTP_PROXY`/`NO_PROXY`.
    pub fn new(config: HttpConfig) -> LLMResult<Self> {
        let transport = HyperTransport::from_env(&config.timeouts)?;
        Ok(Self::with_transport(Arc::new(transport), config))
    }

    /// A client over any transport. The connect timeout is then the transport's business, and the
    /// first-byte timeout is measured from the send, with the connect timeout granted on top.
    pub fn with_transport(transport: Arc<dyn HttpTransport>, config: HttpConfig) -> Self {
        HttpClient { transport, config }
    }

    /// The configuration.
    pub fn config(&self) -> &HttpConfig {
        &self.config
    }

    /// The transport this client sends through (shared by its clones).
    pub fn transport(&self) -> &Arc<dyn HttpTransport> {
        &self.transport
    }

    /// A client over the same transport (the same connection pool) with another configuration: cloud
    /// metadata services, for instance, are asked with short timeouts and few retries.
    pub fn with_config(&self, config: HttpConfig) -> HttpClient {
        HttpClient { transport: Arc::clone(&self.transport), config }
    }

    /// One-shot: retries per policy, total timeout, body limit; `Ok` only for 2xx.
    pub async fn send(&self, request: HttpRequest, on_error: &ErrorMapper) -> LLMResult<HttpReply> {
        let deadline = self.deadline();
        let idle = self.config.timeouts.idle;
        let max_body = self.config.limits.max_response_body;
        let call = self.with_retries(request, on_error, deadline, |response: HttpResponse| async move {
            let declared = content_length(&response.headers);
            // Read here and now: the timed body needs no box of its own.
            let body = TimedBody::new(response.body, idle, None);
            let body = read_to_end(body, declared, max_body, false).await?;
            Ok(HttpReply { status: response.status, headers: response.headers, body })
        });
        within(deadline, call).await
    }

    /// Streaming: retries until response headers with a 2xx status arrive, never after; the body stream
    /// applies the idle and total timeouts. Dropping it closes the connection.
    pub async fn send_streaming(
        &self,
        request: HttpRequest,
        on_error: &ErrorMapper,
    ) -> LLMResult<StreamingReply> {
        let deadline = self.deadline();
        let call = self.with_retries(request, on_error, deadline, |response| async move { Ok(response) });
        let response = within(deadline, call).await?;
        Ok(StreamingReply {
            status: response.status,
            headers: response.headers,
            body: timed(response.body, self.config.timeouts.idle, deadline),
        })
    }

    fn deadline(&self) -> Deadline {
        self.config.timeouts.total.map(|total| (total, Instant::now() + total))
    }

    /// Runs attempts until one succeeds (2xx and `finish` succeeded) or the policy says stop.
    async fn with_retries<T, Finish, Finishing>(
        &self,
        request: HttpRequest,
        on_error: &ErrorMapper,
        deadline: Deadline,
        finish: Finish,
    ) -> LLMResult<T>
    where
        Finish: Fn(HttpResponse) -> Finishing,
        Finishing: Future<Output = LLMResult<T>>,
    {
        let policy = &self.config.retry;
        for failed_attempts in 1..policy.max_attempts {
            let error = match self.attempt(request.clone(), on_error, &finish).await {
                Ok(value) => return Ok(value),
                Err(error) => error,
            };
            if !error.is_retryable() {
                return Err(error);
            }
            let wait = match error.retry_after() {
                Some(asked) if asked > policy.max_retry_after => return Err(error),
                Some(asked) => asked,
                None => backoff(policy, failed_attempts, jitter_draw()),
            };
            if deadline.is_some_and(|(_, at)| Instant::now() + wait >= at) {
                // Waiting would outlast the call: the server's answer says more than a timeout would.
                return Err(error);
            }
            tracing::debug!(attempt = failed_attempts, ?wait, %error, "retrying HTTP request");
            tokio::time::sleep(wait).await;
        }
        // The last attempt takes the request itself; earlier ones cloned it for the next.
        self.attempt(request, on_error, &finish).await
    }

    async fn attempt<T, Finish, Finishing>(
        &self,
        request: HttpRequest,
        on_error: &ErrorMapper,
        finish: &Finish,
    ) -> LLMResult<T>
    where
        Finish: Fn(HttpResponse) -> Finishing,
        Finishing: Future<Output = LLMResult<T>>,
    {
        finish(self.response_headers(request, on_error).await?).await
    }

    /// One attempt: headers within the first-byte timeout; a non-2xx response becomes the mapped error.
    async fn response_headers(
        &self,
        request: HttpRequest,
        on_error: &ErrorMapper,
    ) -> LLMResult<HttpResponse> {
        let timeouts = &self.config.timeouts;
        crate::observe::note_request(&request.url);
        let sending = self.transport.send(request);
        let response = match timeouts.first_byte {
            Some(first_byte) => {
                let budget = first_byte.saturating_add(timeouts.connect.unwrap_or(Duration::ZERO));
                tokio::time::timeout(budget, sending)
                    .await
                    .map_err(|_| LLMError::Timeout { phase: TimeoutPhase::FirstByte, after: first_byte })??
            }
            None => sending.await?,
        };
        if response.status.is_success() {
            return Ok(response);
        }
        let max_body = self.config.limits.max_response_body;
        let declared = content_length(&response.headers);
        // The status says what happened even when the error body cannot be read to its end.
        let body = read_to_end(TimedBody::new(response.body, timeouts.idle, None), declared, max_body, true)
            .await
            .unwrap_or_default();
        let mut error = on_error(response.status, &response.headers, &body);
        if let LLMError::Api(api) = &mut error {
            if api.retry_after.is_none() {
                api.retry_after = retry_after(&response.headers);
            }
            // Every provider's errors carry the response's request id and rate limits.
            if api.metadata.is_none() {
                api.metadata = Some(crate::message::response_metadata(response.status, &response.headers));
            }
        }
        Err(error)
    }
}

async fn within<T>(deadline: Deadline, work: impl Future<Output = LLMResult<T>>) -> LLMResult<T> {
    match deadline {
        Some((total, at)) => tokio::time::timeout_at(at, work)
            .await
            .unwrap_or(Err(LLMError::Timeout { phase: TimeoutPhase::Total, after: total })),
        None => work.await,
    }
}

fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers.get(CONTENT_LENGTH)?.to_str().ok()?.parse().ok()
}
