//! The measured side, two ways: `vllora_llm_openai::OpenAIModel` over `vllora_llm_http::HttpClient`
//! through `ModelInstance` (the direct model path), and `vllora_llm::client::VlloraLLMClient::completions()` as
//! the README's quick start calls it (the facade path: routing, the provider cache, telemetry, and the
//! request passed by value).

use std::sync::{Arc, Mutex};

use vllora_llm_core::types::gateway::ChatCompletionRequest;
use vllora_llm_core::{BoxFuture, CallOptions, LLMError, LLMResult, ModelInstance, ResultStream};
use vllora_llm_http::{
    Bytes, HttpClient, HttpConfig, HttpRequest, HttpResponse, HttpTransport, RetryPolicy, Timeouts,
};
use vllora_llm_openai::{OpenAIConfig, OpenAIModel};

use crate::fixtures;

/// Which way the library is called. One value per client, built once: the size of a variant costs
/// nothing per call.
#[allow(clippy::large_enum_variant)]
enum Path {
    /// `ModelInstance` on an `OpenAIModel` built once.
    Direct(OpenAIModel),
    /// `VlloraLLMClient::completions().create(request.clone())`, routed to OpenAI with an explicit
    /// endpoint and key: the quick start's call, with the clone a caller keeping its request makes.
    Facade(vllora_llm::client::VlloraLLMClient),
    /// The same client through `create_ref(&request)`: the borrowed call a gateway makes.
    FacadeRef(vllora_llm::client::VlloraLLMClient),
}

/// An OpenAI model pointed at one scenario of the loopback server, with its request.
pub struct LibraryClient {
    path: Path,
    request: ChatCompletionRequest,
    options: CallOptions,
}

impl std::fmt::Debug for LibraryClient {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("LibraryClient").finish_non_exhaustive()
    }
}

impl LibraryClient {
    /// A model whose base URL is `base_url`, with the default transport.
    pub fn new(base_url: &str) -> Result<LibraryClient, String> {
        LibraryClient::with_config(base_url, HttpConfig::default())
    }

    /// The same with no timeouts and no retries: what those cost, for profiling.
    pub fn bare(base_url: &str) -> Result<LibraryClient, String> {
        let config = HttpConfig {
            timeouts: Timeouts {
                connect: None,
                first_byte: None,
                idle: None,
                total: None,
                stream_total: None,
            },
            retry: RetryPolicy::none(),
            ..HttpConfig::default()
        };
        LibraryClient::with_config(base_url, config)
    }

    fn with_config(base_url: &str, config: HttpConfig) -> Result<LibraryClient, String> {
        let http = HttpClient::new(config).map_err(|error| format!("HttpClient: {error}"))?;
        let config = OpenAIConfig::new(fixtures::API_KEY).with_base_url(base_url);
        Ok(LibraryClient {
            path: Path::Direct(OpenAIModel::new(config, http)),
            // What a gateway hands over: `stream` unset, `ModelInstance::stream` asks for it (and usage).
            request: fixtures::gateway_request(false),
            options: CallOptions::default(),
        })
    }

    /// The facade, as the README's quick start builds it (default HTTP configuration), pointed at
    /// `base_url` with an explicit key so that no environment is needed.
    pub fn facade(base_url: &str) -> Result<LibraryClient, String> {
        LibraryClient::facade_with(base_url, false)
    }

    /// The facade called by reference (`create_ref`, `create_stream_ref`).
    pub fn facade_ref(base_url: &str) -> Result<LibraryClient, String> {
        LibraryClient::facade_with(base_url, true)
    }

    fn facade_with(base_url: &str, by_reference: bool) -> Result<LibraryClient, String> {
        let client = vllora_llm::client::VlloraLLMClient::new()
            .with_model_provider(vllora_llm::client::InferenceModelProvider::OpenAI)
            .with_credentials(vllora_llm_core::Credentials::api_key(fixtures::API_KEY))
            .with_inference_endpoint(base_url);
        Ok(LibraryClient {
            path: if by_reference { Path::FacadeRef(client) } else { Path::Facade(client) },
            request: fixtures::gateway_request(false),
            options: CallOptions::default(),
        })
    }

    /// The same client sending `request` instead of the fixture's (the `turns` scenario).
    pub fn with_request(self, request: ChatCompletionRequest) -> LibraryClient {
        LibraryClient { request, ..self }
    }

    /// One completion; returns the length of the answer's text.
    pub async fn one_shot(&self) -> Result<usize, String> {
        let answer = match &self.path {
            Path::Direct(model) => model.complete(&self.request, &self.options).await,
            // As users call it: the request by value (a gateway keeping its conversation clones it).
            Path::Facade(client) => client.completions().create(self.request.clone()).await,
            Path::FacadeRef(client) => client.completions().create_ref(&self.request).await,
        }
        .map_err(|error| error.to_string())?;
        Ok(answer.message().content.as_ref().and_then(|content| content.as_str()).map_or(0, str::len))
    }

    /// One stream read to the end; returns how many chunks it delivered.
    pub async fn stream(&self) -> Result<usize, String> {
        let mut stream = self.open().await?;
        let mut chunks = 0;
        let mut seen = 0usize;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|error| error.to_string())?;
            chunks += 1;
            seen += chunk.id.len() + chunk.model.len();
            for choice in &chunk.choices {
                seen += choice.index as usize
                    + choice.delta.role.as_ref().map_or(0, |role| role.as_str().len())
                    + choice.delta.content.as_deref().map_or(0, str::len)
                    + usize::from(choice.finish_reason.is_some());
            }
            if let Some(usage) = &chunk.usage {
                seen += (usage.prompt_tokens + usage.completion_tokens) as usize;
            }
        }
        std::hint::black_box(seen);
        Ok(chunks)
    }

    async fn open(&self) -> Result<ResultStream, String> {
        match &self.path {
            Path::Direct(model) => model.stream(&self.request, &self.options).await,
            Path::Facade(client) => client.completions().create_stream(self.request.clone()).await,
            Path::FacadeRef(client) => client.completions().create_stream_ref(&self.request).await,
        }
        .map_err(|error| error.to_string())
    }

    /// Opens a stream and reads its first chunk, then keeps it open.
    pub async fn open_stream(&self) -> Result<ResultStream, String> {
        let mut stream = self.open().await?;
        match stream.next().await {
            Some(Ok(_)) => Ok(stream),
            Some(Err(error)) => Err(error.to_string()),
            None => Err("the stream ended early".to_owned()),
        }
    }
}

/// A transport that keeps the body of the last request and fails at once, without I/O: what
/// `complete()` costs before anything is sent.
#[derive(Debug, Default)]
struct StopBeforeSending {
    last_body: Mutex<Option<Bytes>>,
}

impl HttpTransport for StopBeforeSending {
    fn send(&self, request: HttpRequest) -> BoxFuture<'static, LLMResult<HttpResponse>> {
        if let Ok(mut last_body) = self.last_body.lock() {
            *last_body = Some(request.body);
        }
        // Not retryable, so the client returns it at once.
        Box::pin(std::future::ready(Err(LLMError::InvalidRequest(String::new()))))
    }
}

/// `OpenAIModel::complete` over a transport that stops before sending: translation plus the request's
/// assembly and the client's bookkeeping, an upper bound on translation alone (the translation function
/// itself is private to the OpenAI crate).
pub struct TranslationProbe {
    model: OpenAIModel,
    transport: Arc<StopBeforeSending>,
    request: ChatCompletionRequest,
    options: CallOptions,
}

impl std::fmt::Debug for TranslationProbe {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("TranslationProbe").finish_non_exhaustive()
    }
}

impl TranslationProbe {
    /// A probe translating the fixture's request.
    pub fn new() -> TranslationProbe {
        let transport = Arc::new(StopBeforeSending::default());
        let http = HttpClient::with_transport(transport.clone(), HttpConfig::default());
        let config = OpenAIConfig::new(fixtures::API_KEY).with_base_url("http://127.0.0.1:9/v1");
        TranslationProbe {
            model: OpenAIModel::new(config, http),
            transport,
            request: fixtures::gateway_request(false),
            options: CallOptions::default(),
        }
    }

    /// Translates the request once; `Ok` when it reached the transport.
    pub async fn translate(&self) -> Result<(), String> {
        match self.model.complete(&self.request, &self.options).await {
            Err(LLMError::InvalidRequest(message)) if message.is_empty() => Ok(()),
            Err(error) => Err(format!("translation failed: {error}")),
            Ok(_) => Err("the probe transport cannot answer".to_owned()),
        }
    }

    /// The body of the last request the transport saw.
    pub fn last_body(&self) -> Option<Bytes> {
        self.transport.last_body.lock().ok().and_then(|body| body.clone())
    }
}
