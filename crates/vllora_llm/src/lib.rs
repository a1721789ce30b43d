//! One client for many LLM providers.
//!
//! `vllora_llm` sends OpenAI-shaped chat completion requests ([`types::gateway`]) to OpenAI and every
//! OpenAI-compatible server, Anthropic, Google Gemini and AWS Bedrock, and returns OpenAI-shaped answers,
//! one-shot or streamed, with `tracing` spans that follow the OpenTelemetry GenAI conventions.
//!
//! ```no_run
//! use vllora_llm::client::VlloraLLMClient;
//! use vllora_llm::types::gateway::{ChatCompletionMessage, ChatCompletionRequest};
//! use vllora_llm::error::LLMResult;
//!
//! # async fn run() -> LLMResult<()> {
//! let client = VlloraLLMClient::new(); // keys from VLLORA_{PROVIDER}_API_KEY
//! let request = ChatCompletionRequest {
//!     model: "gpt-4.1-mini".to_string(),
//!     messages: vec![ChatCompletionMessage::new_text("user".to_string(), "Hello!".to_string())],
//!     ..Default::default()
//! };
//! let mut stream = client.completions().create_stream(request).await?;
//! while let Some(chunk) = stream.next().await {
//!     for choice in chunk?.choices {
//!         print!("{}", choice.delta.content.unwrap_or_default());
//!     }
//! }
//! # Ok(())
//! # }
//! ```
//!
//! # Feature flags
//!
//! One feature per provider: `openai` (also every OpenAI-compatible server), `anthropic`, `gemini`,
//! `bedrock`, `vertex` (Gemini and Claude on Google Cloud's Vertex AI, the `vertex/` model prefix),
//! `azure` (Azure OpenAI, the `azure/` model prefix; it turns on `openai`, whose translator it uses), and
//! `all-providers`. With `bedrock` and `anthropic` both on, Bedrock can call Anthropic models through
//! InvokeModel (`BedrockConfig::with_invoke_model`, `VLLORA_BEDROCK_INVOKE_MODELS`). The default is
//! `all-providers`, so the quick start works after a plain `cargo add vllora_llm`. Libraries and
//! gateways that embed this crate should use `default-features = false` and name the providers they
//! need: features unify across a dependency graph,
//! and a provider that is not enabled is not compiled at all. Asking for it at run time is an
//! [`LLMError::ProviderNotCompiled`](error::LLMError::ProviderNotCompiled) naming the feature.
//!
//! `async-openai` (off by default) makes async-openai's chat completion request a valid argument of
//! `completions().create(..)` and `create_stream(..)`, converts responses and stream chunks into its
//! types, and re-exports the crate as `vllora_llm::async_openai`; see `vllora_llm::async_openai_compat`
//! for what converts and what has no equivalent. It adds async-openai's types only (no reqwest, no second HTTP client).
//!
//! `mcp` (off by default) adds MCP servers as tool sources (`tools::mcp`), through the official Rust SDK
//! `rmcp`; with it the crate needs Rust 1.88 (rmcp's minimum). [`tools`] (Rust tools, the bounded tool
//! loop) is always there.
//!
//! # Supported Rust versions
//!
//! Rust 1.85 or later (edition 2024).

#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod client;
mod completions;
mod embeddings;
mod images;
mod providers;
#[cfg(feature = "openai")]
mod responses;
mod routing;
mod settings;
mod telemetry;
pub mod tools;

/// Errors: [`LLMError`](error::LLMError) and [`LLMResult`](error::LLMResult).
pub mod error {
    pub use vllora_llm_core::error::*;
}

/// Data types: the OpenAI-shaped gateway types, warnings, credentials, the provider identity and the
/// environment configuration is read from.
pub mod types {
    pub use vllora_llm_core::credentials;
    pub use vllora_llm_core::credentials::{
        ApiKeyCredentials, AwsCredentials, Credentials, Environment, ProcessEnvironment, Secret,
    };
    pub use vllora_llm_core::provider::ProviderId;
    pub use vllora_llm_core::types::gateway;
    pub use vllora_llm_core::warning::Warning;
}

/// The HTTP transport: configuration (timeouts, retries, limits, proxies) and the injectable transport
/// trait with its default implementation.
pub mod http {
    pub use vllora_llm_http::{
        BodyStream, HttpClient, HttpConfig, HttpRequest, HttpResponse, HttpTransport, HyperTransport, Limits,
        ProxyConfig, RetryPolicy, Timeouts,
    };
}

#[cfg(feature = "openai")]
#[cfg_attr(docsrs, doc(cfg(feature = "openai")))]
#[doc(inline)]
pub use vllora_llm_openai as openai;

/// The `async-openai` crate (its chat completion types), whose requests `completions().create(..)` and
/// `create_stream(..)` take as they are; see [`async_openai_compat`].
#[cfg(feature = "async-openai")]
#[cfg_attr(docsrs, doc(cfg(feature = "async-openai")))]
pub use async_openai;

#[cfg(feature = "async-openai")]
#[cfg_attr(docsrs, doc(cfg(feature = "async-openai")))]
#[doc(inline)]
pub use vllora_llm_core::async_openai_compat;

#[cfg(any(feature = "anthropic", feature = "vertex"))]
#[cfg_attr(docsrs, doc(cfg(any(feature = "anthropic", feature = "vertex"))))]
#[doc(inline)]
pub use vllora_llm_anthropic as anthropic;

#[cfg(any(feature = "gemini", feature = "vertex"))]
#[cfg_attr(docsrs, doc(cfg(any(feature = "gemini", feature = "vertex"))))]
#[doc(inline)]
pub use vllora_llm_gemini as gemini;

#[cfg(feature = "bedrock")]
#[cfg_attr(docsrs, doc(cfg(feature = "bedrock")))]
#[doc(inline)]
pub use vllora_llm_bedrock as bedrock;

#[cfg(feature = "vertex")]
#[cfg_attr(docsrs, doc(cfg(feature = "vertex")))]
#[doc(inline)]
pub use vllora_llm_vertex as vertex;

/// The README's code blocks, compiled as doctests so the quick start cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;
