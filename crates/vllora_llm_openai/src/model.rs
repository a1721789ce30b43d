//! [`OpenAIModel`]: the [`ModelInstance`] that sends chat completions to OpenAI or a compatible server.
//! Orchestration only: translation lives in `request`, `response`, `stream` and `error`.

use std::fmt;
use std::sync::Arc;

use vllora_llm_core::types::gateway::{
    ChatCompletionRequest, EmbeddingRequest, EmbeddingResponse, ImageGenerationRequest, ImagesResponse,
};
use vllora_llm_core::{
    BoxFuture, CallOptions, ChatCompletionMessageWithFinishReason, LLMError, LLMResult, Limit, ModelInstance,
    ResultStream, Warning, Warnings,
};
use vllora_llm_http::{
    BodyStream, Bytes, HeaderMap, HttpClient, HttpRequest, StatusCode, retry_after, sse_stream,
};

use crate::config::{AZURE_PROVIDER_NAME, Dialect, OpenAIConfig, PROVIDER_NAME, RequestHeader};
use crate::request::{self, Mode};
use crate::stream::{ChunkStream, ReadyChunks, chunks_from_response};
use crate::{embeddings, error, images, response};

/// Chat completions on OpenAI, an OpenAI-compatible server or Azure OpenAI. Cheap to build per call and
/// to clone: the configuration is shared and the HTTP client's clones share one pool.
#[derive(Clone)]
pub struct OpenAIModel {
    config: Arc<OpenAIConfig>,
    http: HttpClient,
    model: Option<String>,
}

impl fmt::Debug for OpenAIModel {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("OpenAIModel")
            .field("config", &self.config)
            .field("model", &self.model)
            .finish_non_exhaustive()
    }
}

impl OpenAIModel {
    /// A model instance sending requests with `http` as `config` says.
    pub fn new(config: OpenAIConfig, http: HttpClient) -> Self {
        OpenAIModel { config: Arc::new(config), http, model: None }
    }

    /// Sends every request to this model instead of the request's own. A `{provider}/` prefix naming this
    /// provider (`openai/gpt-4o`, `local/qwen3` for a proxy called `local`) is removed.
    pub fn with_model(mut self, model: impl Into<String>) -> Self {
        self.model = Some(model.into());
        self
    }

    /// The configuration.
    pub fn config(&self) -> &OpenAIConfig {
        &self.config
    }

    /// The model name as the server knows it.
    fn model_name<'a>(&'a self, request: &'a ChatCompletionRequest) -> &'a str {
        self.server_model(&request.model)
    }

    /// `requested`, or the model this instance was built for, as the server knows it.
    fn server_model<'a>(&'a self, requested: &'a str) -> &'a str {
        let model = self.model.as_deref().unwrap_or(requested);
        model
            .split_once('/')
            .filter(|(prefix, _)| prefix.eq_ignore_ascii_case(self.config.provider_name()))
            .map_or(model, |(_, name)| name)
    }

    /// The HTTP request, and the warnings to return with the result. Strict mode fails here, before
    /// anything is sent.
    fn prepare(
        &self,
        request: &ChatCompletionRequest,
        options: &CallOptions,
        mode: Mode,
    ) -> LLMResult<(HttpRequest, Vec<Warning>)> {
        self.config.check_credentials()?;
        let mut warnings = Warnings::new(match self.config.dialect() {
            Dialect::OpenAI => PROVIDER_NAME,
            Dialect::Azure { .. } => AZURE_PROVIDER_NAME,
            Dialect::Compatible => "openai-compatible",
        });
        let body = request::chat_body(
            request,
            self.model_name(request),
            self.config.dialect(),
            mode,
            &mut warnings,
        )?;
        let mut all_warnings = warnings.finish(options.strict)?;
        all_warnings.extend(body.adjustments);
        let http_request = self.post_json(self.config.chat_url(), body.bytes)?;
        Ok((http_request, all_warnings))
    }

    /// A POST of `body` to `url` with the configured headers.
    fn post_json(&self, url: String, body: impl Into<Bytes>) -> LLMResult<HttpRequest> {
        let mut http_request = HttpRequest::post_json(url, body);
        for header in self.config.headers() {
            http_request = match header {
                RequestHeader::Plain(name, value) => http_request.header(name, value)?,
                RequestHeader::Secret(name, value) => http_request.secret_header(name, &value)?,
            };
        }
        Ok(http_request)
    }

    /// The URL of another operation than chat (`embeddings`, `images/generations`): the chat URL with
    /// its last `/chat/completions` replaced, which keeps the Azure deployment path and `api-version`
    /// query. The deployment and version are percent-encoded, so that segment cannot occur after it.
    fn operation_url(&self, operation: &str) -> String {
        let chat_url = self.config.chat_url();
        match chat_url.rsplit_once("/chat/completions") {
            Some((base, query)) => format!("{base}/{operation}{query}"),
            None => chat_url,
        }
    }

    /// Sends a one-shot JSON request to `operation` with the chat calls' headers, retries and error
    /// mapping, and returns the 2xx body.
    async fn send_operation(&self, operation: &str, body: Vec<u8>) -> LLMResult<Bytes> {
        self.config.check_credentials()?;
        let http_request = self.post_json(self.operation_url(operation), body)?;
        let reply = self.http.send(http_request, &self.error_mapper()).await?;
        Ok(reply.body)
    }

    /// The error mapper the transport calls on a non-2xx response. It owns what it needs, since the
    /// transport may keep it beyond this call's borrow.
    fn error_mapper(&self) -> impl Fn(StatusCode, &HeaderMap, &[u8]) -> LLMError + Send + Sync + 'static {
        let config = Arc::clone(&self.config);
        move |status, headers, body| {
            error::api_error(config.provider_name(), status.as_u16(), retry_after(headers), body)
        }
    }
}

impl ModelInstance for OpenAIModel {
    fn complete<'a>(
        &'a self,
        request: &'a ChatCompletionRequest,
        options: &'a CallOptions,
    ) -> BoxFuture<'a, LLMResult<ChatCompletionMessageWithFinishReason>> {
        Box::pin(async move {
            let (http_request, warnings) = self.prepare(request, options, Mode::OneShot)?;
            let reply = self.http.send(http_request, &self.error_mapper()).await?;
            let mut result = response::parse_response(self.config.provider_name(), &reply.body)?;
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
            let (http_request, warnings) = self.prepare(request, options, Mode::Stream)?;
            let reply = self.http.send_streaming(http_request, &self.error_mapper()).await?;
            if is_json(&reply.headers) {
                // Some servers ignore `stream: true` (or answer an error with 200): the whole document
                // becomes the chunks a stream would have carried.
                let limit = self.http.config().limits.max_response_body;
                let body = read_body(reply.body, limit).await?;
                let result = response::parse_response(self.config.provider_name(), &body)?;
                let chunks = ReadyChunks(chunks_from_response(result).into_iter());
                return Ok(ResultStream::new(chunks).with_warnings(warnings));
            }
            let events = sse_stream(reply.body, self.http.config().limits.max_event_size);
            let chunks = ChunkStream::new(events, self.config.provider_name());
            Ok(ResultStream::new(chunks).with_warnings(warnings))
        })
    }

    fn provider_name(&self) -> &str {
        self.config.provider_name()
    }

    fn embed<'a>(
        &'a self,
        request: &'a EmbeddingRequest,
        _options: &'a CallOptions,
    ) -> BoxFuture<'a, LLMResult<EmbeddingResponse>> {
        Box::pin(async move {
            let body = embeddings::embedding_body(request, self.server_model(&request.model))?;
            let reply = self.send_operation("embeddings", body).await?;
            embeddings::parse_embeddings(self.config.provider_name(), &reply)
        })
    }

    fn generate_images<'a>(
        &'a self,
        request: &'a ImageGenerationRequest,
        _options: &'a CallOptions,
    ) -> BoxFuture<'a, LLMResult<ImagesResponse>> {
        Box::pin(async move {
            // An empty name (a facade call without a model) leaves the choice to the server.
            let requested =
                self.model.as_deref().or(request.model.as_deref()).filter(|model| !model.is_empty());
            let model = requested.map(|model| self.server_model(model));
            let body = images::image_body(request, model)?;
            let reply = self.send_operation("images/generations", body).await?;
            images::parse_images(self.config.provider_name(), &reply)
        })
    }
}

/// Whether a response body is one JSON document rather than server-sent events.
fn is_json(headers: &HeaderMap) -> bool {
    headers.get("content-type").and_then(|value| value.to_str().ok()).is_some_and(|content_type| {
        content_type.trim_start().to_ascii_lowercase().starts_with("application/json")
    })
}

/// Reads a whole body, refusing more than `limit` bytes.
async fn read_body(mut body: BodyStream, limit: usize) -> LLMResult<Vec<u8>> {
    let mut collected = Vec::new();
    while let Some(piece) = std::future::poll_fn(|context| body.as_mut().poll_next(context)).await {
        let piece = piece?;
        if collected.len().saturating_add(piece.len()) > limit {
            return Err(LLMError::LimitExceeded { limit: Limit::ResponseBody, max_bytes: limit });
        }
        collected.extend_from_slice(&piece);
    }
    Ok(collected)
}
