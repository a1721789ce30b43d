//! [`AnthropicModel`]: translate, send, decode. Orchestration only; the translation lives in the other
//! modules.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_core::Stream;
use vllora_llm_core::types::gateway::{
    ChatCompletionChunk, ChatCompletionMessageWithFinishReason, ChatCompletionRequest,
};
use vllora_llm_core::{BoxFuture, CallOptions, LLMError, LLMResult, ModelInstance, ResultStream, Warnings};
use vllora_llm_http::{
    ErrorMapper, HeaderMap, HttpClient, HttpRequest, SseEvent, SseStream, StatusCode, retry_after, sse_stream,
};

use crate::config::AnthropicConfig;
use crate::error::map_error;
use crate::request::{AnthropicRequest, build_request};
use crate::response::parse_response;
use crate::stream::StreamState;
use crate::PROVIDER_NAME;

/// A Claude model behind Anthropic's Messages API (or any server that speaks it).
///
/// Cheap to build and to clone: the configuration is shared, and the [`HttpClient`] shares its pool.
#[derive(Debug, Clone)]
pub struct AnthropicModel {
    config: Arc<AnthropicConfig>,
    http: HttpClient,
    model: Option<String>,
}

impl AnthropicModel {
    /// A model that sends with `http` as `config` says.
    pub fn new(config: AnthropicConfig, http: HttpClient) -> Self {
        AnthropicModel { config: Arc::new(config), http, model: None }
    }

    /// Sends every request to `model` instead of `request.model` (an `anthropic/` prefix is stripped).
    pub fn with_model(mut self, model: impl Into<String>) -> Self {
        let model = model.into();
        self.model = Some(model.strip_prefix("anthropic/").map(str::to_owned).unwrap_or(model));
        self
    }

    /// The configuration.
    pub fn config(&self) -> &AnthropicConfig {
        &self.config
    }

    /// Translates the request, applies strict mode, and builds the HTTP request.
    fn prepare(
        &self,
        request: &ChatCompletionRequest,
        options: &CallOptions,
        stream: bool,
    ) -> LLMResult<(HttpRequest, Vec<vllora_llm_core::Warning>)> {
        let mut warnings = Warnings::new(PROVIDER_NAME);
        let AnthropicRequest { body, betas } =
            build_request(request, self.model.as_deref(), &self.config, stream, &mut warnings)?;
        let warnings = warnings.finish(options.strict)?;
        let bytes = serde_json::to_vec(&body).map_err(|error| LLMError::InvalidRequest(error.to_string()))?;
        let http_request = self.http_request(bytes, &betas)?;
        Ok((http_request, warnings))
    }

    fn http_request(&self, body: Vec<u8>, request_betas: &[&str]) -> LLMResult<HttpRequest> {
        let config = &self.config;
        let mut http_request = HttpRequest::post_json(config.messages_url(), body)
            .header("anthropic-version", config.api_version())?;
        http_request = if config.bearer_auth() {
            let bearer = vllora_llm_core::Secret::new(format!("Bearer {}", config.api_key().expose()));
            http_request.secret_header("authorization", &bearer)?
        } else {
            http_request.secret_header("x-api-key", config.api_key())?
        };
        let mut betas: Vec<&str> = config.betas().iter().map(String::as_str).collect();
        for beta in request_betas {
            if !betas.contains(beta) {
                betas.push(beta);
            }
        }
        if !betas.is_empty() {
            http_request = http_request.header("anthropic-beta", &betas.join(","))?;
        }
        Ok(http_request)
    }
}

fn error_mapper(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> LLMError {
    map_error(status.as_u16(), retry_after(headers), body)
}

const ERROR_MAPPER: &ErrorMapper = &error_mapper;

impl ModelInstance for AnthropicModel {
    fn complete<'a>(
        &'a self,
        request: &'a ChatCompletionRequest,
        options: &'a CallOptions,
    ) -> BoxFuture<'a, LLMResult<ChatCompletionMessageWithFinishReason>> {
        Box::pin(async move {
            let (http_request, warnings) = self.prepare(request, options, false)?;
            let reply = self.http.send(http_request, ERROR_MAPPER).await?;
            parse_response(&reply.body, warnings)
        })
    }

    fn stream<'a>(
        &'a self,
        request: &'a ChatCompletionRequest,
        options: &'a CallOptions,
    ) -> BoxFuture<'a, LLMResult<ResultStream>> {
        Box::pin(async move {
            let (http_request, warnings) = self.prepare(request, options, true)?;
            let reply = self.http.send_streaming(http_request, ERROR_MAPPER).await?;
            let events = sse_stream(reply.body, self.http.config().limits.max_event_size);
            let chunks =
                AnthropicChunks { events, state: StreamState::new(), ready: VecDeque::new(), done: false };
            Ok(ResultStream::new(chunks).with_warnings(warnings))
        })
    }

    fn provider_name(&self) -> &str {
        PROVIDER_NAME
    }
}

/// The gateway chunks of one Anthropic stream, decoded as the consumer pulls.
struct AnthropicChunks {
    events: SseStream,
    state: StreamState,
    ready: VecDeque<ChatCompletionChunk>,
    done: bool,
}

impl AnthropicChunks {
    fn on_event(&mut self, event: SseEvent) -> LLMResult<()> {
        // Anthropic names each event and repeats the name as the JSON `type`; the JSON is what counts.
        if event.data.is_empty() {
            return Ok(());
        }
        self.state.on_event(&event.data, &mut self.ready)
    }
}

impl Stream for AnthropicChunks {
    type Item = LLMResult<ChatCompletionChunk>;

    fn poll_next(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if let Some(chunk) = this.ready.pop_front() {
                return Poll::Ready(Some(Ok(chunk)));
            }
            if this.done {
                return Poll::Ready(None);
            }
            // After message_stop the body is read to its end (Anthropic ends it right away), so that an
            // HTTP/1.1 connection goes back to the pool instead of being closed with the stream. Whatever
            // comes after message_stop is not part of the answer: the first event, or error, ends the stream.
            let finished = this.state.is_finished();
            match Pin::new(&mut this.events).poll_next(context) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(_)) if finished => this.done = true,
                Poll::Ready(Some(Ok(event))) => {
                    if let Err(error) = this.on_event(event) {
                        this.done = true;
                        return Poll::Ready(Some(Err(error)));
                    }
                }
                Poll::Ready(Some(Err(error))) => {
                    this.done = true;
                    return Poll::Ready(Some(Err(error)));
                }
                Poll::Ready(None) => {
                    this.done = true;
                    if let Err(error) = this.state.end_of_body(&mut this.ready) {
                        return Poll::Ready(Some(Err(error)));
                    }
                }
            }
        }
    }
}

impl std::fmt::Debug for AnthropicChunks {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("AnthropicChunks").field("state", &self.state).finish_non_exhaustive()
    }
}
