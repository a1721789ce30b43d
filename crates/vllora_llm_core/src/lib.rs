//! The core of `vllora_llm`: the OpenAI-shaped gateway types, the [`ModelInstance`] trait every provider
//! implements, [`ResultStream`], [`LLMError`] and [`Warning`].
//!
//! This crate does no I/O and changes rarely. Depend on it directly when you implement a provider or a
//! custom [`ModelInstance`]; applications should depend on the `vllora_llm` facade instead.
//!
//! # Supported Rust versions
//!
//! The minimum supported Rust version is the `rust-version` of the workspace manifest (1.85, edition 2024).

#[cfg(feature = "async-openai")]
#[cfg_attr(docsrs, doc(cfg(feature = "async-openai")))]
pub mod async_openai_compat;
pub mod credentials;
pub mod error;
pub mod metadata;
pub mod model;
pub mod provider;
pub mod stream;
#[doc(hidden)]
pub mod support;
pub mod types;
pub mod warning;

pub use credentials::{
    ApiKeyCredentials, AwsCredentials, Credentials, Environment, GoogleCloudCredentials, ProcessEnvironment,
    Secret,
};
pub use error::{ApiError, LLMError, LLMResult, Limit, TimeoutPhase};
pub use metadata::{RateLimit, RateLimitWindow, ResponseMetadata};
pub use model::{BoxFuture, CallOptions, DummyModelInstance, ModelInstance};
pub use provider::ProviderId;
pub use stream::ResultStream;
pub use types::gateway::ChatCompletionMessageWithFinishReason;
pub use warning::{Warning, Warnings};
