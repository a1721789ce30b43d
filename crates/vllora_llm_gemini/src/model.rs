//! [`GeminiModel`]: the `ModelInstance` for Gemini. Orchestration only: translate, send, decode.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use futures_core::Stream;
use vllora_llm_core::types::gateway::{
    ChatCompletionChunk, ChatCompletionMessageWithFinishReason, ChatCompletionRequest, EmbeddingRequest,
    EmbeddingResponse,
};
use vllora_llm_core::{
    BoxFuture, CallOptions, LLMError, LLMResult, ModelInstance, ResultStream, Warning, Warnings,
};
use vllora_llm_http::{HeaderMap, HttpClient, HttpRequest, SseStream, StatusCode, sse_stream};

use crate::cache::GeminiCacheClient;
use crate::config::GeminiConfig;
use crate::response::{ResponseContext, parse_response};
use crate::stream::StreamState;
use crate::{PROVIDER_NAME, embeddings, error, request};

/// A Gemini model. Cheap to build per call: the configuration is shared and the client's clones share
/// their connection pool.
#[derive(Debug, Clone)]
pub struct GeminiModel {
    config: Arc<GeminiConfig>,
    http: HttpClient,
    model: Option<String>,
}

impl GeminiModel {
    /// A model instance that calls the model each request names.
    pub fn new(config: GeminiConfig, http: HttpClient) -> Self {
        GeminiModel { config: Arc::new(config), http, model: None }
    }

    /// Calls `model` whatever the request says (a `provider/` prefix is stripped).
    pub fn with_model(mut self, model: impl Into<String>) -> Self {
        self.model = Some(model.into());
        self
    }

    /// The `cachedContents` client over the same configuration and connections.
    pub fn cache_client(&self) -> GeminiCacheClient {
        GeminiCacheClient::from_parts(Arc::clone(&self.config), self.http.clone())
    }

    /// Translates the request and builds the HTTP request; nothing is sent when this fails.
    fn prepare(
        &self,
        request: &ChatCompletionRequest,
        options: &CallOptions,
        streaming: bool,
    ) -> LLMResult<(HttpRequest, Vec<Warning>, String)> {
        let model = model_resource(self.model.as_deref().unwrap_or(&request.model))?;
        let mut warnings = Warnings::new(PROVIDER_NAME);
        let body = request::build_generate_request(request, &model, &mut warnings)?;
        let warnings = warnings.finish(options.strict)?;
        let bytes = serde_json::to_vec(&body).map_err(|error| LLMError::InvalidRequest(error.to_string()))?;
        let url = if streaming {
            format!("{}/{model}:streamGenerateContent?alt=sse", self.config.api_root())
        } else {
            format!("{}/{model}:generateContent", self.config.api_root())
        };
        let http_request = HttpRequest::post_json(url, Bytes::from(bytes))
            .secret_header("x-goog-api-key", self.config.api_key())?;
        let model_name = model.rsplit('/').next().unwrap_or(&model).to_owned();
        Ok((http_request, warnings, model_name))
    }
}

/// `models/{name}` (or a tuned model's resource name) from what the caller wrote. A `provider/` prefix
/// is dropped; names that could leave the path are refused.
pub(crate) fn model_resource(model: &str) -> LLMResult<String> {
    let model = model.trim();
    let (collection, name) = match model.split_once('/') {
        Some((collection @ ("models" | "tunedModels"), name)) => (collection, name),
        _ => ("models", model.rsplit('/').next().unwrap_or(model)),
    };
    let valid = !name.is_empty()
        && !name.contains("..")
        && name != "."
        && name
            .chars()
            .all(|character| character.is_ascii_alphanumeric() || matches!(character, '-' | '_' | '.'));
    if !valid {
        return Err(LLMError::InvalidRequest(format!("`{model}` is not a Gemini model name")));
    }
    Ok(format!("{collection}/{name}"))
}

/// Gemini's error body -> [`LLMError`], for the transport.
pub(crate) fn map_error(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> LLMError {
    error::api_error(status.as_u16(), vllora_llm_http::retry_after(headers), body)
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|elapsed| elapsed.as_secs()).unwrap_or(0)
}

impl ModelInstance for GeminiModel {
    fn complete<'a>(
        &'a self,
        request: &'a ChatCompletionRequest,
        options: &'a CallOptions,
    ) -> BoxFuture<'a, LLMResult<ChatCompletionMessageWithFinishReason>> {
        Box::pin(async move {
            let (http_request, warnings, model) = self.prepare(request, options, false)?;
            let reply = self.http.send(http_request, &map_error).await?;
            let mut result = parse_response(&reply.body, &ResponseContext { model, created: now() })?;
            result.warnings = warnings;
            Ok(result)
        })
    }

    fn stream<'a>(
        &'a self,
        request: &'a ChatCompletionRequest,
        options: &'a CallOptions,
    ) -> BoxFuture<'a, LLMResult<ResultStream>> {
        Box::pin(async move {
            let (http_request, warnings, model) = self.prepare(request, options, true)?;
            let reply = self.http.send_streaming(http_request, &map_error).await?;
            let events = sse_stream(reply.body, self.http.config().limits.max_event_size);
            let chunks = GeminiChunkStream {
                events,
                state: StreamState::new(ResponseContext { model, created: now() }),
                pending: VecDeque::new(),
                done: false,
            };
            Ok(ResultStream::new(chunks).with_warnings(warnings))
        })
    }

    fn provider_name(&self) -> &str {
        PROVIDER_NAME
    }

    fn embed<'a>(
        &'a self,
        request: &'a EmbeddingRequest,
        options: &'a CallOptions,
    ) -> BoxFuture<'a, LLMResult<EmbeddingResponse>> {
        Box::pin(async move {
            let model = model_resource(self.model.as_deref().unwrap_or(&request.model))?;
            let mut warnings = Warnings::new(PROVIDER_NAME);
            let bodies = embeddings::batch_bodies(request, &model, &mut warnings)?;
            warnings.finish(options.strict)?;
            let url = format!("{}/{model}:batchEmbedContents", self.config.api_root());
            let model_name = model.rsplit('/').next().unwrap_or(&model);
            let mut response = EmbeddingResponse::default();
            for body in bodies {
                let http_request = HttpRequest::post_json(url.clone(), Bytes::from(body))
                    .secret_header("x-goog-api-key", self.config.api_key())?;
                let reply = self.http.send(http_request, &map_error).await?;
                let first_index = u32::try_from(response.data.len()).unwrap_or(u32::MAX);
                let batch =
                    embeddings::parse_batch(&reply.body, model_name, request.encoding_format, first_index)?;
                response.data.extend(batch.data);
                let tokens = response.usage.prompt_tokens.saturating_add(batch.usage.prompt_tokens);
                response.usage = batch.usage;
                response.usage.prompt_tokens = tokens;
                response.usage.total_tokens = tokens;
                response.model = batch.model;
                response.object = batch.object;
            }
            Ok(response)
        })
    }
}

/// Server-sent events in, gateway chunks out, pulled by the consumer.
struct GeminiChunkStream {
    events: SseStream,
    state: StreamState,
    pending: VecDeque<ChatCompletionChunk>,
    done: bool,
}

impl Stream for GeminiChunkStream {
    type Item = LLMResult<ChatCompletionChunk>;

    fn poll_next(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(chunk) = this.pending.pop_front() {
                return Poll::Ready(Some(Ok(chunk)));
            }
            if this.done {
                return Poll::Ready(None);
            }
            let decoded = match Pin::new(&mut this.events).poll_next(context) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(event))) => this.state.on_event(&event.data),
                Poll::Ready(Some(Err(error))) => Err(error),
                Poll::Ready(None) => {
                    this.done = true;
                    this.state.finish()
                }
            };
            match decoded {
                Ok(chunks) => this.pending.extend(chunks),
                Err(error) => {
                    this.done = true;
                    this.pending.clear();
                    return Poll::Ready(Some(Err(error)));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_names_become_resource_names() {
        assert_eq!(model_resource("gemini-2.5-flash").ok().as_deref(), Some("models/gemini-2.5-flash"));
        assert_eq!(
            model_resource("gemini/gemini-2.5-flash").ok().as_deref(),
            Some("models/gemini-2.5-flash")
        );
        assert_eq!(
            model_resource("models/gemini-3-pro-preview").ok().as_deref(),
            Some("models/gemini-3-pro-preview")
        );
        assert_eq!(
            model_resource("tunedModels/my-model-42").ok().as_deref(),
            Some("tunedModels/my-model-42")
        );
        for bad in ["", "gemini?key=x", "models/../files", "gemini 2", "gemini#x", ".", "models/."] {
            assert!(matches!(model_resource(bad), Err(LLMError::InvalidRequest(_))), "{bad}");
        }
    }
}
