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
use vllora_llm_http::{ChunkStream, ErrorMapper, HttpClient, HttpRequest, SseDecoder};

use crate::cache::GeminiCacheClient;
use crate::config::GeminiConfig;
use crate::endpoint::{Api, Transport, model_resource};
use crate::response::{ResponseContext, parse_response};
use crate::stream::GeminiStreamDecoder;
use crate::{embeddings, request};

/// A Gemini model, on AI Studio ([`GeminiModel::new`]) or Vertex AI ([`GeminiModel::vertex`], feature
/// `vertex`). Build it once and reuse it: the configuration (and on Vertex AI the cached access token) is
/// shared and the client's clones share their connection pool.
#[derive(Debug, Clone)]
pub struct GeminiModel {
    transport: Arc<Transport>,
    http: HttpClient,
    model: Option<String>,
    /// JSON schemas sent untouched unless a request says otherwise ([`GeminiConfig::with_native_json_schema`]).
    native_json_schema: bool,
}

/// A translated call, ready to send.
struct Prepared {
    http_request: HttpRequest,
    warnings: Vec<Warning>,
    /// The model's name as responses report it when Gemini leaves it out.
    model_name: String,
    error_mapper: &'static ErrorMapper,
}

impl GeminiModel {
    /// A model instance that calls the model each request names.
    pub fn new(config: GeminiConfig, http: HttpClient) -> Self {
        let native_json_schema = config.native_json_schema();
        GeminiModel {
            transport: Arc::new(Transport::AiStudio(config)),
            http,
            model: None,
            native_json_schema,
        }
    }

    /// A model instance on Vertex AI: `publishers/google/models/{model}` in the configured project and
    /// location, with the configured Google credentials (or express mode key).
    #[cfg(feature = "vertex")]
    pub fn vertex(config: vllora_llm_vertex::VertexConfig, http: HttpClient) -> Self {
        GeminiModel {
            transport: Arc::new(Transport::Vertex(config)),
            http,
            model: None,
            native_json_schema: false,
        }
    }

    /// Calls `model` whatever the request says (a `provider/` prefix is stripped).
    pub fn with_model(mut self, model: impl Into<String>) -> Self {
        self.model = Some(model.into());
        self
    }

    /// Sends JSON schemas untouched (`true`) or normalised to Gemini's OpenAPI subset (`false`) unless a
    /// request's `provider_specific.extra.native_json_schema` says otherwise; on AI Studio the default
    /// is the configuration's.
    pub fn with_native_json_schema(mut self, native: bool) -> Self {
        self.native_json_schema = native;
        self
    }

    /// The `cachedContents` client over the same configuration (AI Studio or Vertex AI) and connections.
    pub fn cache_client(&self) -> GeminiCacheClient {
        GeminiCacheClient::from_parts(Arc::clone(&self.transport), self.http.clone())
    }

    /// Translates the request and builds the HTTP request (on Vertex AI after getting a token); nothing
    /// is sent to the model when this fails.
    async fn prepare(
        &self,
        request: &ChatCompletionRequest,
        options: &CallOptions,
        streaming: bool,
    ) -> LLMResult<Prepared> {
        let mut warnings = Warnings::new(self.transport.provider_name());
        let mut call =
            request::build(request, self.model.as_deref(), self.native_json_schema, &mut warnings)?;
        let warnings = warnings.finish(options.strict)?;
        let api = self.transport.resolve(&self.http).await?;
        if let Some(name) = call.body.cached_content.take() {
            call.body.cached_content = Some(api.cache_reference(name)?);
        }
        let http_request = api
            .generate(&call.model, streaming, call.body_bytes()?)?
            .with_extra_headers(&options.extra_headers)?;
        let model_name = call.model.rsplit('/').next().unwrap_or(&call.model).to_owned();
        Ok(Prepared { http_request, warnings, model_name, error_mapper: api.error_mapper() })
    }

    /// Embeddings through `batchEmbedContents` (AI Studio) or `:predict` (Vertex AI).
    async fn embed_texts(
        &self,
        request: &EmbeddingRequest,
        options: &CallOptions,
    ) -> LLMResult<EmbeddingResponse> {
        let model = model_resource(self.model.as_deref().unwrap_or(&request.model))?;
        let mut warnings = Warnings::new(self.transport.provider_name());
        let api = self.transport.resolve(&self.http).await?;
        let mut response = EmbeddingResponse::default();
        match &api {
            Api::AiStudio(config) => {
                let bodies = embeddings::batch_bodies(request, &model, &mut warnings)?;
                warnings.finish(options.strict)?;
                let model_name = model.rsplit('/').next().unwrap_or(&model);
                for body in bodies {
                    let http_request = crate::endpoint::batch_embed(config, &model, Bytes::from(body))?;
                    let reply = self.http.send(http_request, api.error_mapper()).await?;
                    let first_index = u32::try_from(response.data.len()).unwrap_or(u32::MAX);
                    let batch = embeddings::parse_batch(
                        &reply.body,
                        model_name,
                        request.encoding_format,
                        first_index,
                    )?;
                    merge(&mut response, batch);
                }
            }
            #[cfg(feature = "vertex")]
            Api::Vertex(target) => {
                let name = crate::vertex::publisher_model(&model)?;
                let bodies = crate::vertex::predict_bodies(request, name, &mut warnings)?;
                warnings.finish(options.strict)?;
                let url = target.publisher_model_url(crate::vertex::PUBLISHER, name, "predict")?;
                for body in bodies {
                    let http_request = crate::endpoint::predict(target, &url, Bytes::from(body))?;
                    let reply = self.http.send(http_request, api.error_mapper()).await?;
                    let first_index = u32::try_from(response.data.len()).unwrap_or(u32::MAX);
                    let batch = crate::vertex::parse_predictions(
                        &reply.body,
                        name,
                        request.encoding_format,
                        first_index,
                    )?;
                    merge(&mut response, batch);
                }
            }
        }
        Ok(response)
    }
}

/// Adds one batch's embeddings and tokens to the answer so far.
fn merge(response: &mut EmbeddingResponse, batch: EmbeddingResponse) {
    response.data.extend(batch.data);
    let tokens = response.usage.prompt_tokens.saturating_add(batch.usage.prompt_tokens);
    response.usage = batch.usage;
    response.usage.prompt_tokens = tokens;
    response.usage.total_tokens = tokens;
    response.model = batch.model;
    response.object = batch.object;
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
            let Prepared { http_request, warnings, model_name, error_mapper } =
                self.prepare(request, options, false).await?;
            let reply = self.http.for_call(options).send(http_request, error_mapper).await?;
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
            let Prepared { http_request, warnings, model_name, error_mapper } =
                self.prepare(request, options, true).await?;
            let reply = self.http.for_call(options).send_streaming(http_request, error_mapper).await?;
            let metadata = reply.metadata();
            let framing = SseDecoder::new(self.http.config().limits.max_event_size);
            let context = ResponseContext { model: model_name, created: now() };
            let decoder = GeminiStreamDecoder::new(context, request.n.unwrap_or(1));
            let chunks = ChunkStream::new(reply.body, framing, decoder);
            Ok(ResultStream::new(chunks).with_warnings(warnings).with_metadata(Some(metadata)))
        })
    }

    fn provider_name(&self) -> &str {
        self.transport.provider_name()
    }

    fn embed<'a>(
        &'a self,
        request: &'a EmbeddingRequest,
        options: &'a CallOptions,
    ) -> BoxFuture<'a, LLMResult<EmbeddingResponse>> {
        Box::pin(self.embed_texts(request, options))
    }
}
