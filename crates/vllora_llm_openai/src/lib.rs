//! OpenAI chat completions for `vllora_llm`, and every server that speaks the same wire format: vLLM,
//! llama.cpp, Ollama, SGLang, Groq, Together, DeepSeek, LiteLLM... (as named proxies) and Azure OpenAI.
//!
//! Most programs use it through the `vllora_llm` facade. Directly:
//!
//! ```no_run
//! use vllora_llm_core::{CallOptions, ModelInstance};
//! use vllora_llm_core::types::gateway::{ChatCompletionMessage, ChatCompletionRequest};
//! use vllora_llm_http::{HttpClient, HttpConfig};
//! use vllora_llm_openai::{OpenAIConfig, OpenAIModel};
//!
//! # async fn run() -> vllora_llm_core::LLMResult<()> {
//! let model = OpenAIModel::new(OpenAIConfig::from_env()?, HttpClient::new(HttpConfig::default())?);
//! let request = ChatCompletionRequest {
//!     model: "gpt-4.1-mini".to_owned(),
//!     messages: vec![ChatCompletionMessage::new_text("user", "Hello!")],
//!     ..Default::default()
//! };
//! let answer = model.complete(&request, &CallOptions::default()).await?;
//! println!("{:?}", answer.message().content);
//! # Ok(())
//! # }
//! ```
//!
//! What goes on the wire: every field of the gateway request that OpenAI defines, unchanged. The
//! gateway's extensions (`cache_control`, `reasoning_content`, `reasoning_details`, `provider_specific`,
//! `extra_content`) never reach OpenAI; a warning says so. An OpenAI-compatible host gets what its
//! [`OpenAIDialect`] says it needs back (DeepSeek and vLLM `reasoning_content`, Mistral a `thinking`
//! chunk, OpenRouter `reasoning_details` and `cache_control`), chosen from the proxy's name, its endpoint's
//! host, `VLLORA_{NAME}_DIALECT` or [`OpenAIConfig::with_dialect`]; whatever any host sends is read
//! (Mistral's content chunks, `reasoning`, OpenRouter's errors and reasoning blocks, placeholder calls
//! ignored). OpenAI-compatible servers also receive `provider_specific.top_k` and the free-form
//! `provider_specific` options as top-level fields, and tool calls' `extra_content` (Gemini's OpenAI
//! endpoint needs its thought signatures back). Models OpenAI documents as reasoning models (o-series,
//! gpt-5 and later), whoever serves them, get `max_completion_tokens` instead of `max_tokens` and lose,
//! with a warning, the sampling parameters they reject. Streams always ask for usage.
//!
//! Embeddings ([`ModelInstance::embed`](vllora_llm_core::ModelInstance::embed), `POST /embeddings`) and
//! image generation ([`ModelInstance::generate_images`](vllora_llm_core::ModelInstance::generate_images),
//! `POST /images/generations`) go through the same configuration, headers, retries and error mapping as
//! chat; on Azure they are under the deployment, like chat.
//!
//! The Responses API (`POST /responses`) is [`OpenAIResponses`]; its types are OpenAI's own documents,
//! every one named `Responses...` ([`ResponsesRequest`], [`ResponsesResponse`], [`ResponsesStreamEvent`]).
//! Streams, chat and Responses alike, run on the one stream driver of `vllora_llm_http`
//! ([`ChunkStream`](vllora_llm_http::ChunkStream)); each chat chunk that finishes a choice carries the
//! server's own finish reason in `raw_finish_reason` beside the unified one.

#[cfg(feature = "azure")]
mod azure;
mod config;
mod dialect;
mod embeddings;
mod endpoint;
#[cfg(feature = "azure")]
mod entra;
mod error;
#[cfg(any(test, feature = "fuzzing"))]
mod fuzzing;
mod images;
mod model;
mod request;
mod response;
mod responses;
mod stream;
mod wire;

pub use config::{AZURE_API_VERSION, AZURE_PROVIDER_NAME, OPENAI_BASE_URL, OpenAIConfig, PROVIDER_NAME};
pub use dialect::OpenAIDialect;
#[cfg(feature = "azure")]
pub use azure::{
    AZURE_AUTHORITY_HOST, AZURE_COGNITIVE_SERVICES_RESOURCE, AZURE_IMDS_TOKEN_ENDPOINT, AZURE_V1_API,
    AzureCredential, AzureOpenAI, AzureOpenAIConfig, EntraTransport,
};
pub use model::OpenAIModel;
/// The body of the chat completions stream fuzz target; not part of the API.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub use fuzzing::decode_stream;
pub use responses::{
    OpenAIResponses, ResponsesContentPart, ResponsesContentPartEvent, ResponsesError, ResponsesEventStream,
    ResponsesFunctionCall, ResponsesFunctionCallArgumentsDoneEvent, ResponsesFunctionCallOutput,
    ResponsesFunctionOutput, ResponsesFunctionTool, ResponsesIncompleteDetails, ResponsesInput,
    ResponsesInputTokensDetails, ResponsesItem, ResponsesMessage, ResponsesMessageContent,
    ResponsesOutputItemEvent, ResponsesOutputTokensDetails, ResponsesReasoningConfig, ResponsesReasoningItem,
    ResponsesRequest, ResponsesResponse, ResponsesResponseEvent, ResponsesStatus, ResponsesStreamDecoder,
    ResponsesStreamErrorEvent, ResponsesStreamEvent, ResponsesSummaryDeltaEvent, ResponsesSummaryText,
    ResponsesTextConfig, ResponsesTextDeltaEvent, ResponsesTextDoneEvent, ResponsesTextFormat, ResponsesTool,
    ResponsesToolChoice, ResponsesUsage,
};
use vllora_llm_core::ProviderId;

/// OpenAI's identity, as errors, telemetry and routing spell it ([`PROVIDER_NAME`] as text). Azure OpenAI
/// is [`ProviderId::AZURE_OPENAI`]; an OpenAI-compatible proxy is [`ProviderId::proxy`] of its name.
pub const PROVIDER: ProviderId = ProviderId::OPENAI;
