//! [`HttpClient`]: one pooled transport with the retry policy, timeouts and size limits around it.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http::header::CONTENT_LENGTH;
use http::{HeaderMap, StatusCode};
use tokio::time::Instant;
use vllora_llm_core::{CallOptions, LLMError, LLMResult, TimeoutPhase};

use crate::body::{TimedBody, read_error_body, read_to_end, timed};
use crate::config::HttpConfig;
use crate::message::{HttpReply, HttpRequest, HttpResponse, RedactedUrl, StreamingReply, refuse_userinfo};
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
    /// The call allows repeating a request that may have produced an answer
    /// ([`CallOptions::safe_to_repeat`]).
    safe_to_repeat: bool,
}

/// The longest an error response's body is waited for: its status already says what happened, and a
/// body that stalls must not cost an idle timeout per attempt.
const ERROR_BODY_WAIT: Duration = Duration::from_secs(2);

impl fmt::Debug for HttpClient {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("HttpClient")
            .field("transport", &self.transport)
            .field("config", &self.config)
            .field("safe_to_repeat", &self.safe_to_repeat)
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
        HttpClient { transport, config, safe_to_repeat: false }
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
        HttpClient { transport: Arc::clone(&self.transport), config, safe_to_repeat: self.safe_to_repeat }
    }

    /// This client as one call wants it (same transport and pool): the call's first-byte, idle and
    /// total timeouts replace the configured ones (the total replaces the one-shot and the stream
    /// total), and [`CallOptions::safe_to_repeat`] allows repeating a request that may have produced an
    /// answer. The connect timeout belongs to the transport and stays.
    pub fn for_call(&self, options: &CallOptions) -> HttpClient {
        let mut config = self.config;
        let timeouts = &mut config.timeouts;
        if let Some(first_byte) = options.first_byte_timeout {
            timeouts.first_byte = Some(first_byte);
        }
        if let Some(idle) = options.idle_timeout {
            timeouts.idle = Some(idle);
        }
        if let Some(total) = options.total_timeout {
            timeouts.total = Some(total);
            timeouts.stream_total = Some(total);
        }
        HttpClient { transport: Arc::clone(&self.transport), config, safe_to_repeat: options.safe_to_repeat }
    }

    /// One-shot: retries per policy, total timeout, body limit; `Ok` only for 2xx.
    pub async fn send(&self, request: HttpRequest, on_error: &ErrorMapper) -> LLMResult<HttpReply> {
        refuse_userinfo(&request.url)?;
        let deadline = deadline(self.config.timeouts.total);
        let idle = self.config.timeouts.idle;
        let max_body = self.config.limits.max_response_body;
        // The call's deadline is no timer of its own: the transport's timer and the body's carry it
        // (the waits between attempts end before it, see `retry_wait`).
        self.with_retries(request, on_error, deadline, |response: HttpResponse| async move {
            let declared = content_length(&response.headers);
            // Read here and now: the timed body needs no box of its own.
            let body = TimedBody::new(response.body, idle, deadline);
            let body = read_to_end(body, declared, max_body, false).await?;
            Ok(HttpReply { status: response.status, headers: response.headers, body })
        })
        .await
    }

    /// Streaming: retries until response headers with a 2xx status arrive, never after; the body stream
    /// applies the idle and total timeouts. Dropping it closes the connection.
    pub async fn send_streaming(
        &self,
        request: HttpRequest,
        on_error: &ErrorMapper,
    ) -> LLMResult<StreamingReply> {
        refuse_userinfo(&request.url)?;
        let deadline = deadline(self.config.timeouts.stream_total);
        // As for `send`, the transport's timer carries the deadline until the headers, the body's after.
        let response =
            self.with_retries(request, on_error, deadline, |response| async move { Ok(response) }).await?;
        Ok(StreamingReply {
            status: response.status,
            headers: response.headers,
            body: timed(response.body, self.config.timeouts.idle, deadline),
        })
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
        // The URL is redacted only when an error names it, not on every call; while attempts send
        // clones, errors name the request kept here, so nothing is copied for them.
        for failed_attempts in 1..policy.max_attempts {
            let error = match self.attempt(request.clone(), on_error, deadline, &finish).await {
                Ok(value) => return Ok(value),
                Err(error) => error,
            };
            let wait = match self.retry_wait(&error, failed_attempts, deadline) {
                Ok(wait) => wait,
                Err(why_not) => {
                    let target = Target { method: &request.method, url: &request.url };
                    return Err(target.explain(error, failed_attempts, why_not));
                }
            };
            tracing::debug!(attempt = failed_attempts, ?wait, %error, "retrying HTTP request");
            tokio::time::sleep(wait).await;
        }
        // The last attempt takes the request itself; earlier ones cloned it for the next.
        let attempts = policy.max_attempts.max(1);
        let (method, url) = (request.method.clone(), request.url.clone());
        self.attempt(request, on_error, deadline, &finish)
            .await
            .map_err(|error| Target { method: &method, url: &url }.explain(error, attempts, None))
    }

    /// How long to wait before the next attempt, or why there is none (with a note for the caller when
    /// the reason is worth saying).
    fn retry_wait(
        &self,
        error: &LLMError,
        failed_attempts: u32,
        deadline: Deadline,
    ) -> Result<Duration, Option<&'static str>> {
        if !error.is_retryable() {
            return Err(None);
        }
        if error.may_have_generated() && !self.safe_to_repeat {
            return Err(Some(
                "not retried: the request reached the server, which may have generated (and billed) an \
                 answer; CallOptions::with_safe_to_repeat(true) allows repeating it",
            ));
        }
        let policy = &self.config.retry;
        let wait = match error.retry_after() {
            // Waiting longer than that is the caller's decision.
            Some(asked) if asked > policy.max_retry_after => return Err(None),
            Some(asked) => asked,
            None => backoff(policy, failed_attempts, jitter_draw()),
        };
        if let Some((_, at)) = deadline {
            // Waiting would outlast the call: the server's answer says more than a timeout would.
            if Instant::now().checked_add(wait).is_none_or(|end| end >= at) {
                return Err(None);
            }
        }
        Ok(wait)
    }

    async fn attempt<T, Finish, Finishing>(
        &self,
        request: HttpRequest,
        on_error: &ErrorMapper,
        deadline: Deadline,
        finish: &Finish,
    ) -> LLMResult<T>
    where
        Finish: Fn(HttpResponse) -> Finishing,
        Finishing: Future<Output = LLMResult<T>>,
    {
        finish(self.response_headers(request, on_error, deadline).await?).await
    }

    /// One attempt: headers within the first-byte timeout and the call's deadline (both applied by the
    /// transport); a non-2xx response becomes the mapped error.
    async fn response_headers(
        &self,
        request: HttpRequest,
        on_error: &ErrorMapper,
        deadline: Deadline,
    ) -> LLMResult<HttpResponse> {
        let timeouts = &self.config.timeouts;
        crate::observe::note_request(&request.url);
        let sending = self.transport.send_with_deadline(request, timeouts, deadline);
        // A transport that applies both timeouts bounds the whole wait by connect + first byte itself.
        let transport_bounds_it = timeouts.connect.is_some() && self.transport.applies_timeouts();
        let response = match timeouts.first_byte.filter(|_| !transport_bounds_it) {
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
        // The status says what happened; the start of the body says why. It is read to a small cap for a
        // few seconds at most, and the rest is never downloaded (dropping the body closes the connection).
        let wait = timeouts.idle.map_or(ERROR_BODY_WAIT, |idle| idle.min(ERROR_BODY_WAIT));
        let reading =
            async { Ok(read_error_body(response.body, self.config.limits.max_error_body, wait).await) };
        let body = within(deadline, reading).await?;
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

/// The deadline of a call that may last `total`; a length too long for the clock is no deadline.
fn deadline(total: Option<Duration>) -> Deadline {
    let total = total?;
    Some((total, Instant::now().checked_add(total)?))
}

/// What a call was sent to, for the messages of connection errors.
struct Target<'a> {
    method: &'a http::Method,
    /// As sent: redacted (no user name, password or query) when a message names it.
    url: &'a str,
}

impl Target<'_> {
    /// Says where a connection error happened, after how many attempts, and why it was not retried.
    fn explain(&self, error: LLMError, attempts: u32, why_not: Option<&str>) -> LLMError {
        let context = |message: String| {
            let plural = if attempts == 1 { "" } else { "s" };
            let mut message =
                format!("{message} ({} {}, {attempts} attempt{plural})", self.method, RedactedUrl(self.url));
            if let Some(why_not) = why_not {
                message.push_str("; ");
                message.push_str(why_not);
            }
            message
        };
        match error {
            LLMError::Connection { message } => LLMError::Connection { message: context(message) },
            LLMError::ConnectFailed { message } => LLMError::ConnectFailed { message: context(message) },
            other => other,
        }
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
