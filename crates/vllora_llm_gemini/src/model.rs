//! [`GeminiModel`]: the `ModelInstance` for Gemini. Orchestration only: translate (`request/`), build the
//! HTTP request (`endpoint.rs`), send it, and parse the answer (`response.rs`) or hand the streamed body to
//! the shared driver with the Gemini decoder (`stream.rs`).

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use vllora_llm_core::types::gateway::{
    ChatCompletionMessageWithFinishReason, ChatCompletionRequest, EmbeddingRequest, EmbeddingResponse,
};
use vllora_llm_core::{BoxFuture, CallOptions, LLMResult, ModelInstance, ResultStream, Warning, Warnings};
use vllora_llm_http::{ChunkStream, HttpClient, HttpRequest, SseDecoder};

use crate::cache::GeminiCacheClient;
use crate::config::GeminiConfig;
use crate::endpoint::{self, model_resource};
use crate::error::map_error;
use crate::response::{ResponseContext, parse_response};
use crate::stream::GeminiStreamDecoder;
use crate::{PROVIDER_NAME, embeddings, request};

/// A Gemini model. Build it once and reuse it: the configuration is shared and the client's clones
/// share their connection pool.
#[derive(Debug, Clone)]
pub struct GeminiModel {
    config: Arc<GeminiConfig>,
    http: HttpClient,
    model: Option<String>,
}

/// A translated call, ready to send.
struct Prepared {
    http_request: HttpRequest,
    warnings: Vec<Warning>,
    /// The model's name as responses report it when Gemini leaves it out.
    model_name: String,
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
    ) -> LLMResult<Prepared> {
        let mut warnings = Warnings::new(PROVIDER_NAME);
        let call = request::build(request, self.model.as_deref(), &mut warnings)?;
        let warnings = warnings.finish(options.strict)?;
        let http_request = endpoint::generate(&self.config, &call.model, streaming, call.body_bytes()?)?
            .with_extra_headers(&options.extra_headers)?;
        let model_name = call.model.rsplit('/').next().unwrap_or(&call.model).to_owned();
        Ok(Prepared { http_request, warnings, model_name })
    }
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
            let Prepared { http_request, warnings, model_name } = self.prepare(request, options, false)?;
            let reply = self.http.send(http_request, &map_error).await?;
            let context = ResponseContext { model: model_name, created: now() };
            let mut result = parse_response(&reply.body, &context)?;
            result.warnings = warnings;
            result.response_metadata = Some(reply.metadata());
            Ok(result)
        })
    }

    fn stream<'a>(
        &'a self,
        request: &'a ChatCompletionRequest,
        options: &'a CallOptions,
    ) -> BoxFuture<'a, LLMResult<ResultStream>> {
        Box::pin(async move {
            let Prepared { http_request, warnings, model_name } = self.prepare(request, options, true)?;
            let reply = self.http.send_streaming(http_request, &map_error).await?;
            let metadata = reply.metadata();
            let framing = SseDecoder::new(self.http.config().limits.max_event_size);
            let context = ResponseContext { model: model_name, created: now() };
            let decoder = GeminiStreamDecoder::new(context, request.n.unwrap_or(1));
            let chunks = ChunkStream::new(reply.body, framing, decoder);
            Ok(ResultStream::new(chunks).with_warnings(warnings).with_metadata(Some(metadata)))
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
            let model_name = model.rsplit('/').next().unwrap_or(&model);
            let mut response = EmbeddingResponse::default();
            for body in bodies {
                let http_request = endpoint::batch_embed(&self.config, &model, Bytes::from(body))?;
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
