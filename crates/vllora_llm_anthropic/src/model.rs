//! [`AnthropicModel`]: translate, send, decode. Orchestration only: the request body is built in
//! `request/`, the HTTP request in `endpoint.rs`, errors mapped in `error.rs`, answers decoded in
//! `response.rs` and, streamed, by `stream.rs`'s decoder under the shared driver.

use std::sync::Arc;

use vllora_llm_core::types::gateway::{ChatCompletionMessageWithFinishReason, ChatCompletionRequest};
use vllora_llm_core::{
    BoxFuture, CallOptions, LLMError, LLMResult, ModelInstance, ResultStream, Warning, Warnings,
};
use vllora_llm_http::{ChunkStream, ErrorMapper, HttpClient, HttpRequest, SseDecoder};

use crate::PROVIDER_NAME;
use crate::config::AnthropicConfig;
use crate::endpoint::Endpoint;
use crate::error::map_error;
use crate::request::build;
use crate::response::parse_response;
use crate::stream::AnthropicStreamDecoder;

const ERROR_MAPPER: &ErrorMapper = &map_error;

/// Where requests go: Anthropic's API (or a compatible server), or Vertex AI (feature `vertex`).
#[derive(Debug)]
enum Transport {
    Anthropic,
    #[cfg(feature = "vertex")]
    Vertex(vllora_llm_vertex::VertexConfig),
}

/// A Claude model behind Anthropic's Messages API (or any server that speaks it).
///
/// Cheap to clone: the configuration and its prepared headers are shared, and the [`HttpClient`] shares
/// its pool. Build it once and reuse it.
#[derive(Debug, Clone)]
pub struct AnthropicModel {
    config: Arc<AnthropicConfig>,
    /// URL and headers, built once; the error (a key that cannot be a header) is reported by every call.
    endpoint: Arc<Result<Endpoint, String>>,
    transport: Arc<Transport>,
    http: HttpClient,
    model: Option<String>,
}

impl AnthropicModel {
    /// A model that sends with `http` as `config` says.
    pub fn new(config: AnthropicConfig, http: HttpClient) -> Self {
        let endpoint = Endpoint::new(&config).map_err(|error| match error {
            LLMError::Config(message) => message,
            other => other.to_string(),
        });
        let transport = Arc::new(Transport::Anthropic);
        AnthropicModel {
            config: Arc::new(config),
            endpoint: Arc::new(endpoint),
            transport,
            http,
            model: None,
        }
    }

    /// Claude on Vertex AI: `publishers/anthropic/models/{model}:rawPredict` in the configured project
    /// and location, with Google credentials. Model names are Vertex AI's (`claude-sonnet-4-5@20250929`).
    #[cfg(feature = "vertex")]
    pub fn vertex(vertex: vllora_llm_vertex::VertexConfig, http: HttpClient) -> Self {
        Self::vertex_with_config(AnthropicConfig::new(""), vertex, http)
    }

    /// [`AnthropicModel::vertex`] with the betas of `config` on every request (its key, base URL and
    /// API version are not used: Vertex AI takes `anthropic_version: "vertex-2023-10-16"`).
    #[cfg(feature = "vertex")]
    pub fn vertex_with_config(
        config: AnthropicConfig,
        vertex: vllora_llm_vertex::VertexConfig,
        http: HttpClient,
    ) -> Self {
        let endpoint = Arc::new(Err("Anthropic's own endpoint is not used on Vertex AI".to_owned()));
        let transport = Arc::new(Transport::Vertex(vertex));
        AnthropicModel { config: Arc::new(config), endpoint, transport, http, model: None }
    }

    fn provider(&self) -> &'static str {
        match *self.transport {
            Transport::Anthropic => PROVIDER_NAME,
            #[cfg(feature = "vertex")]
            Transport::Vertex(_) => vllora_llm_vertex::PROVIDER_NAME,
        }
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

    /// Translates the request, applies strict mode, and builds the HTTP request (on Vertex AI after
    /// getting a token).
    async fn prepare(
        &self,
        request: &ChatCompletionRequest,
        options: &CallOptions,
        stream: bool,
    ) -> LLMResult<(HttpRequest, Vec<Warning>, &'static ErrorMapper)> {
        let mut warnings = Warnings::new(self.provider());
        let translated = build(request, self.model.as_deref(), &self.config, stream, &mut warnings)?;
        let warnings = warnings.finish(options.strict)?;
        #[cfg(feature = "vertex")]
        if let Transport::Vertex(vertex) = &*self.transport {
            let (model, bytes) = crate::vertex::body(&translated)?;
            let http_request = crate::vertex::request(
                vertex,
                &self.http,
                &model,
                stream,
                bytes,
                self.config.betas(),
                &translated.betas,
            )
            .await?
            .with_extra_headers(&options.extra_headers)?;
            return Ok((http_request, warnings, &crate::vertex::map_vertex_error));
        }
        let (bytes, betas) = translated.into_bytes()?;
        let endpoint =
            self.endpoint.as_ref().as_ref().map_err(|message| LLMError::Config(message.clone()))?;
        let http_request = endpoint.request(bytes, &betas)?.with_extra_headers(&options.extra_headers)?;
        Ok((http_request, warnings, ERROR_MAPPER))
    }
}

impl ModelInstance for AnthropicModel {
    fn complete<'a>(
        &'a self,
        request: &'a ChatCompletionRequest,
        options: &'a CallOptions,
    ) -> BoxFuture<'a, LLMResult<ChatCompletionMessageWithFinishReason>> {
        Box::pin(async move {
            let (http_request, warnings, error_mapper) = self.prepare(request, options, false).await?;
            let reply = self.http.for_call(options).send(http_request, error_mapper).await?;
            let mut result = parse_response(&reply.body, warnings)?;
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
            let (http_request, warnings, error_mapper) = self.prepare(request, options, true).await?;
            let reply = self.http.for_call(options).send_streaming(http_request, error_mapper).await?;
            let metadata = reply.metadata();
            let framing = SseDecoder::new(self.http.config().limits.max_event_size);
            let chunks = ChunkStream::new(reply.body, framing, AnthropicStreamDecoder::new());
            Ok(ResultStream::new(chunks).with_warnings(warnings).with_metadata(Some(metadata)))
        })
    }

    fn provider_name(&self) -> &str {
        self.provider()
    }
}
