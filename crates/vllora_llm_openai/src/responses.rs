//! [`OpenAIResponses`]: the OpenAI Responses API (`POST /v1/responses`), one-shot and streamed, on OpenAI,
//! Azure OpenAI (its `/openai/v1` API) and compatible servers that serve it (llama.cpp, vLLM...).
//!
//! The Responses API is OpenAI's own, so its documents are not translated: [`ResponsesRequest`] is sent
//! as it is (with `model` and `stream` set by the client) and [`ResponsesResponse`] comes back as OpenAI wrote it.

mod events;
mod types;

use std::fmt;
use std::sync::Arc;

use vllora_llm_core::{CallOptions, LLMError, LLMResult};
use vllora_llm_http::{ChunkStream, HeaderMap, HttpClient, HttpRequest, SseDecoder, StatusCode};

pub use events::{
    ResponsesContentPartEvent, ResponsesEventStream, ResponsesFunctionCallArgumentsDoneEvent,
    ResponsesOutputItemEvent, ResponsesResponseEvent, ResponsesStreamDecoder, ResponsesStreamErrorEvent,
    ResponsesStreamEvent, ResponsesSummaryDeltaEvent, ResponsesTextDeltaEvent, ResponsesTextDoneEvent,
};
pub use types::{
    ResponsesResponse, ResponsesError, ResponsesIncompleteDetails, ResponsesStatus, ResponsesContentPart,
    ResponsesFunctionCall, ResponsesFunctionCallOutput, ResponsesFunctionOutput, ResponsesFunctionTool,
    ResponsesInput, ResponsesInputTokensDetails, ResponsesItem, ResponsesMessage, ResponsesMessageContent,
    ResponsesOutputTokensDetails, ResponsesReasoningConfig, ResponsesReasoningItem, ResponsesRequest,
    ResponsesSummaryText, ResponsesTextConfig, ResponsesTextFormat, ResponsesTool, ResponsesToolChoice,
    ResponsesUsage,
};

use crate::config::{Dialect, OpenAIConfig};
use crate::model::{error_mapper, is_json};
use crate::stream::read_document;
use crate::{endpoint, error};

/// The Responses API of OpenAI, Azure OpenAI or a compatible server. Cheap to build per call and to
/// clone: the configuration is shared and the HTTP client's clones share one pool.
///
/// ```no_run
/// use std::pin::Pin;
///
/// use futures_core::Stream;
/// use vllora_llm_core::CallOptions;
/// use vllora_llm_http::{HttpClient, HttpConfig};
/// use vllora_llm_openai::{OpenAIConfig, OpenAIResponses, ResponsesRequest, ResponsesStreamEvent};
///
/// # async fn run() -> vllora_llm_core::LLMResult<()> {
/// let responses = OpenAIResponses::new(OpenAIConfig::from_env()?, HttpClient::new(HttpConfig::default())?);
/// let request = ResponsesRequest {
///     model: "gpt-4.1-mini".to_owned(),
///     input: "Say hello.".into(),
///     ..Default::default()
/// };
/// let response = responses.create_response(&request, &CallOptions::default()).await?;
/// println!("{}", response.output_text());
///
/// let mut events = responses.stream_response(&request, &CallOptions::default()).await?;
/// while let Some(event) = std::future::poll_fn(|context| Pin::new(&mut events).poll_next(context)).await {
///     if let ResponsesStreamEvent::OutputTextDelta(delta) = event? {
///         print!("{}", delta.delta);
///     }
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct OpenAIResponses {
    config: Arc<OpenAIConfig>,
    http: HttpClient,
    model: Option<String>,
}

impl fmt::Debug for OpenAIResponses {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("OpenAIResponses")
            .field("config", &self.config)
            .field("model", &self.model)
            .finish_non_exhaustive()
    }
}

impl OpenAIResponses {
    /// A client sending requests with `http` as `config` says.
    pub fn new(config: OpenAIConfig, http: HttpClient) -> Self {
        OpenAIResponses { config: Arc::new(config), http, model: None }
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

    /// Creates a response and waits for all of it.
    ///
    /// Nothing in a Responses request needs translating, so nothing is dropped and `options.strict`
    /// never fails a call; it is taken for symmetry with the chat API.
    pub async fn create_response(
        &self,
        request: &ResponsesRequest,
        options: &CallOptions,
    ) -> LLMResult<ResponsesResponse> {
        let http_request = self.prepare(request, false, options)?;
        let reply = self.http.for_call(options).send(http_request, &self.error_mapper()).await?;
        parse_response(self.config.provider_name(), &reply.body)
    }

    /// Creates a response as a stream of events, read as it is pulled; dropping it cancels the request.
    pub async fn stream_response(
        &self,
        request: &ResponsesRequest,
        options: &CallOptions,
    ) -> LLMResult<ResponsesEventStream> {
        let http_request = self.prepare(request, true, options)?;
        let reply = self.http.for_call(options).send_streaming(http_request, &self.error_mapper()).await?;
        let provider = self.config.provider_name();
        let limits = &self.http.config().limits;
        let framing = SseDecoder::new(limits.max_event_size);
        if is_json(&reply.headers) {
            let (document, spent) = read_document(reply.body, limits.max_response_body, provider).await?;
            let decoder = ResponsesStreamDecoder::completed(parse_response(provider, &document)?, provider);
            return Ok(ChunkStream::new(spent, framing, decoder));
        }
        Ok(ChunkStream::new(reply.body, framing, ResponsesStreamDecoder::new(provider)))
    }

    /// The HTTP request for `request`; fails before sending when OpenAI would get no key.
    fn prepare(
        &self,
        request: &ResponsesRequest,
        stream: bool,
        _options: &CallOptions,
    ) -> LLMResult<HttpRequest> {
        self.config.check_credentials()?;
        let body = request_body(request, self.model_name(request), stream)?;
        endpoint::post_json(&self.config, endpoint::responses_url(&self.config), body)
    }

    /// The model name as the server knows it; on Azure, where `model` names a deployment, the
    /// configured deployment unless [`with_model`](Self::with_model) says otherwise.
    fn model_name<'a>(&'a self, request: &'a ResponsesRequest) -> &'a str {
        let model = match (self.model.as_deref(), self.config.dialect()) {
            (Some(model), _) => model,
            (None, Dialect::Azure { deployment, .. }) => deployment,
            (None, _) => &request.model,
        };
        model
            .split_once('/')
            .filter(|(prefix, _)| prefix.eq_ignore_ascii_case(self.config.provider_name()))
            .map_or(model, |(_, name)| name)
    }

    fn error_mapper(&self) -> impl Fn(StatusCode, &HeaderMap, &[u8]) -> LLMError + Send + Sync + 'static {
        error_mapper(&self.config)
    }
}

/// The JSON names of [`ResponsesRequest`]'s own fields, which `extra` must not repeat.
const MODELLED_FIELDS: &[&str] = &[
    "model",
    "input",
    "instructions",
    "tools",
    "tool_choice",
    "text",
    "reasoning",
    "max_output_tokens",
    "temperature",
    "top_p",
    "parallel_tool_calls",
    "previous_response_id",
    "store",
    "metadata",
    "prompt_cache_key",
    "service_tier",
    "truncation",
    "include",
    "user",
    "safety_identifier",
    "stream",
];

/// The JSON body: the request as it is, with the model and `stream` the call decides.
pub(crate) fn request_body(request: &ResponsesRequest, model: &str, stream: bool) -> LLMResult<Vec<u8>> {
    if model.is_empty() {
        return Err(LLMError::InvalidRequest("a Responses request needs a model".to_owned()));
    }
    if request.stream.is_some_and(|asked| asked != stream) {
        return Err(LLMError::InvalidRequest(format!(
            "`stream: {}` in the request contradicts the call: use {}",
            !stream,
            if stream { "create_response" } else { "stream_response" }
        )));
    }
    if let Some(name) = request.extra.keys().find(|name| MODELLED_FIELDS.contains(&name.as_str())) {
        return Err(LLMError::InvalidRequest(format!(
            "`{name}` in the Responses request's `extra` fields would be sent twice: set the field itself"
        )));
    }
    let stream = stream.then_some(true);
    let encoded = if request.model == model && request.stream == stream {
        vllora_llm_core::support::json::to_vec(request)
    } else {
        vllora_llm_core::support::json::to_vec(&ResponsesRequest {
            model: model.to_owned(),
            stream,
            ..request.clone()
        })
    };
    encoded.map_err(|error| {
        LLMError::InvalidRequest(format!("the Responses request cannot be encoded: {error}"))
    })
}

/// A response document, or a clear error for anything else: a 2xx body that is an error document
/// (some compatible servers send those) is that error.
pub(crate) fn parse_response(provider: &str, body: &[u8]) -> LLMResult<ResponsesResponse> {
    let response: ResponsesResponse = serde_json::from_slice(body)
        .map_err(|error| LLMError::decode(provider, format_args!("not a Responses API response: {error}")))?;
    if response.id.is_empty()
        && response.output.is_empty()
        && let Ok(document) = serde_json::from_slice::<serde_json::Value>(body)
        && let Some(error_value) = document.get("error").filter(|error| !error.is_null())
    {
        return Err(error::api_error_from_value(provider, None, error_value).into());
    }
    Ok(response)
}
