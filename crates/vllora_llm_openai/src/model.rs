//! [`OpenAIModel`]: the [`ModelInstance`] that sends chat completions to OpenAI or a compatible server.
//! Orchestration only: translation lives in `request`, `response`, `stream` and `error`.

use std::fmt;
use std::sync::Arc;

use vllora_llm_core::types::gateway::{
    ChatCompletionRequest, EmbeddingRequest, EmbeddingResponse, ImageGenerationRequest, ImagesResponse,
};
use vllora_llm_core::{
    BoxFuture, CallOptions, ChatCompletionMessageWithFinishReason, LLMError, LLMResult, ModelInstance,
    ResultStream, Warning, Warnings,
};
use vllora_llm_http::{Bytes, ChunkStream, HeaderMap, HttpClient, HttpRequest, SseDecoder, StatusCode};
use vllora_llm_core::support::json::SizeHint;

use crate::config::{AZURE_PROVIDER_NAME, Dialect, OpenAIConfig, PROVIDER_NAME};
use crate::endpoint::{self, ChatTarget};
use crate::request::{self, Mode};
use crate::stream::{OpenAIStreamDecoder, chunks_from_response, read_document};
use crate::{embeddings, error, images, response};

/// Chat completions on OpenAI, an OpenAI-compatible server or Azure OpenAI. Cheap to build per call and
/// to clone: the configuration is shared and the HTTP client's clones share one pool.
#[derive(Clone)]
pub struct OpenAIModel {
    config: Arc<OpenAIConfig>,
    http: HttpClient,
    model: Option<String>,
    /// The chat URL and headers, the same for every call: built once, not formatted per call. `None`
    /// when the configuration cannot make them; each call then reports why.
    chat_target: Option<Arc<ChatTarget>>,
    /// The size of the last chat body, to size the next one's buffer.
    body_size: SizeHint,
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
        let chat_target = ChatTarget::new(&config).ok().map(Arc::new);
        OpenAIModel {
            config: Arc::new(config),
            http,
            model: None,
            chat_target,
            body_size: SizeHint::default(),
        }
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
        let body = request::build(
            request,
            self.model_name(request),
            request::Target::of(&self.config),
            mode,
            &mut warnings,
            self.body_size.capacity(),
        )?;
        self.body_size.record(body.bytes.len());
        let mut all_warnings = warnings.finish(options.strict)?;
        all_warnings.extend(body.adjustments);
        let http_request = match &self.chat_target {
            Some(target) => target.request(body.bytes),
            None => endpoint::post_json(&self.config, endpoint::chat_url(&self.config), body.bytes)?,
        };
        Ok((http_request.with_extra_headers(&options.extra_headers)?, all_warnings))
    }

    /// Sends a one-shot JSON request to `operation` with the chat calls' headers, retries and error
    /// mapping, and returns the 2xx body.
    async fn send_operation(&self, operation: &str, body: Vec<u8>) -> LLMResult<Bytes> {
        self.config.check_credentials()?;
        let url = endpoint::operation_url(&self.config, operation);
        let http_request = endpoint::post_json(&self.config, url, body)?;
        let reply = self.http.send(http_request, &self.error_mapper()).await?;
        Ok(reply.body)
    }

    /// The error mapper the transport calls on a non-2xx response. It owns what it needs, since the
    /// transport may keep it beyond this call's borrow.
    fn error_mapper(&self) -> impl Fn(StatusCode, &HeaderMap, &[u8]) -> LLMError + Send + Sync + 'static {
        error_mapper(&self.config)
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
            let reply = self.http.for_call(options).send(http_request, &self.error_mapper()).await?;
            let mut result = response::parse_response(self.config.provider_name(), &reply.body)?;
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
            let (http_request, warnings) = self.prepare(request, options, Mode::Stream)?;
            let reply =
                self.http.for_call(options).send_streaming(http_request, &self.error_mapper()).await?;
            let metadata = Some(reply.metadata());
            let provider = self.config.provider_name();
            let limits = &self.http.config().limits;
            let framing = SseDecoder::new(limits.max_event_size);
            if is_json(&reply.headers) {
                // Some servers ignore `stream: true` (or answer an error with 200): the whole document
                // becomes the chunks a stream would have carried, and an error document fails the call.
                let (document, spent) = read_document(reply.body, limits.max_response_body, provider).await?;
                let result = response::parse_response(provider, &document)?;
                let decoder = OpenAIStreamDecoder::ready(provider, chunks_from_response(result));
                return Ok(ResultStream::new(ChunkStream::new(spent, framing, decoder))
                    .with_warnings(warnings)
                    .with_metadata(metadata));
            }
            let chunks = ChunkStream::new(reply.body, framing, OpenAIStreamDecoder::new(provider));
            Ok(ResultStream::new(chunks).with_warnings(warnings).with_metadata(metadata))
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
pub(crate) fn is_json(headers: &HeaderMap) -> bool {
    headers.get("content-type").and_then(|value| value.to_str().ok()).is_some_and(|content_type| {
        content_type.trim_start().to_ascii_lowercase().starts_with("application/json")
    })
}

/// The error mapper of `config`'s requests: [`error::map_error`], naming the configured provider.
pub(crate) fn error_mapper(
    config: &Arc<OpenAIConfig>,
) -> impl Fn(StatusCode, &HeaderMap, &[u8]) -> LLMError + Send + Sync + 'static {
    let config = Arc::clone(config);
    move |status, headers, body| {
        error::for_provider(error::map_error(status, headers, body), config.provider_name())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use vllora_llm_core::types::gateway::ChatCompletionMessage;
    use vllora_llm_http::{HttpConfig, HttpResponse, HttpTransport, Method};

    use super::*;

    /// Keeps every request it is given and answers none of them.
    #[derive(Debug, Default)]
    struct Recorder(Mutex<Vec<HttpRequest>>);

    #[derive(Debug)]
    struct Recording(Arc<Recorder>);

    impl HttpTransport for Recording {
        fn send(&self, request: HttpRequest) -> BoxFuture<'static, LLMResult<HttpResponse>> {
            self.0.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).push(request);
            Box::pin(async { Err(LLMError::Connection { message: "recorded".to_owned() }) })
        }
    }

    fn model(config: OpenAIConfig) -> (OpenAIModel, Arc<Recorder>) {
        let recorder = Arc::new(Recorder::default());
        let mut http_config = HttpConfig::default();
        http_config.retry.max_attempts = 1;
        let http = HttpClient::with_transport(Arc::new(Recording(Arc::clone(&recorder))), http_config);
        (OpenAIModel::new(config, http), recorder)
    }

    fn request() -> ChatCompletionRequest {
        ChatCompletionRequest {
            model: "gpt-4o-mini".to_owned(),
            messages: vec![ChatCompletionMessage::new_text("user", "Hello")],
            ..Default::default()
        }
    }

    fn header<'a>(request: &'a HttpRequest, name: &str) -> Option<&'a str> {
        request.headers.get(name).and_then(|value| value.to_str().ok())
    }

    #[tokio::test]
    async fn every_chat_call_gets_the_url_and_headers_built_once() {
        let config = OpenAIConfig::new("sk-test")
            .with_base_url("http://127.0.0.1:9/v1/")
            .with_organization("org-1")
            .with_project("proj-1");
        let (model, recorder) = model(config);
        for _ in 0..2 {
            let outcome = model.complete(&request(), &CallOptions::default()).await;
            assert!(matches!(outcome, Err(LLMError::Connection { .. })));
        }
        let sent = recorder.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        assert_eq!(sent.len(), 2);
        for request in sent.iter() {
            assert_eq!(request.method, Method::POST);
            assert_eq!(request.url, "http://127.0.0.1:9/v1/chat/completions");
            let names: Vec<&str> = request.headers.keys().map(|name| name.as_str()).collect();
            assert_eq!(names, ["content-type", "authorization", "openai-organization", "openai-project"]);
            assert_eq!(header(request, "content-type"), Some("application/json"));
            assert_eq!(header(request, "authorization"), Some("Bearer sk-test"));
            assert!(request.headers.get("authorization").is_some_and(|value| value.is_sensitive()));
            assert_eq!(header(request, "openai-organization"), Some("org-1"));
            assert_eq!(header(request, "openai-project"), Some("proj-1"));
            assert!(!format!("{request:?}").contains("sk-test"));
            let Ok(body) = serde_json::from_slice::<serde_json::Value>(&request.body) else {
                panic!("the body is not JSON");
            };
            vllora_llm_testkit::record_conformance("openai-chat", &body);
            assert_eq!(body["model"], "gpt-4o-mini");
            assert_eq!(body["messages"][0]["content"], "Hello");
        }
    }

    #[tokio::test]
    async fn a_header_the_configuration_cannot_carry_fails_every_call_before_sending() {
        let config = OpenAIConfig::new("sk-test").with_organization("org\nbroken");
        let (model, recorder) = model(config);
        for _ in 0..2 {
            let outcome = model.complete(&request(), &CallOptions::default()).await;
            let Err(LLMError::Config(message)) = outcome else { panic!("expected a configuration error") };
            assert_eq!(message, "invalid value for header \"openai-organization\"");
        }
        assert!(recorder.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).is_empty());
    }
}
