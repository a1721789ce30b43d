//! The Google Gemini provider of `vllora_llm`: `generateContent`, `streamGenerateContent` and the
//! `cachedContents` API (explicit prompt caching), behind OpenAI-shaped gateway types.
//!
//! Build a [`GeminiModel`] from a [`GeminiConfig`] and a transport client, then use it as any
//! `ModelInstance`. Provider options travel in `ChatCompletionRequest::provider_specific`: `top_k`,
//! `thinking`, and in `extra` the keys `cached_content`, `safety_settings`, `thinking_level`,
//! `include_thoughts` and `native_json_schema` (see `docs/providers/gemini.md`).
//!
//! ```no_run
//! use vllora_llm_core::types::gateway::{ChatCompletionMessage, ChatCompletionRequest, ReasoningEffort};
//! use vllora_llm_core::{CallOptions, ModelInstance};
//! use vllora_llm_gemini::{GeminiConfig, GeminiModel};
//! use vllora_llm_http::{HttpClient, HttpConfig};
//!
//! # async fn run() -> vllora_llm_core::LLMResult<()> {
//! let model = GeminiModel::new(GeminiConfig::from_env()?, HttpClient::new(HttpConfig::default())?);
//! let request = ChatCompletionRequest {
//!     model: "gemini-2.5-flash".to_string(),
//!     messages: vec![ChatCompletionMessage::new_text("user", "Why is the sky blue?")],
//!     reasoning_effort: Some(ReasoningEffort::Low),
//!     ..Default::default()
//! };
//! let answer = model.complete(&request, &CallOptions::default()).await?;
//! println!("{:?}", answer.message().reasoning_content);
//! # Ok(())
//! # }
//! ```
//!
//! Explicit prompt caching goes through [`GeminiCacheClient`] ([`GeminiModel::cache_client`]): create a
//! cache from a system instruction, leading messages and tools, then name it in each request's
//! `provider_specific.extra["cached_content"]`.

mod cache;
mod config;
mod embeddings;
mod endpoint;
mod error;
#[cfg(any(test, feature = "fuzzing"))]
mod fuzzing;
mod model;
mod request;
mod response;
mod schema;
mod stream;
#[cfg(feature = "vertex")]
mod vertex;
mod wire;

pub use cache::{
    GeminiCacheClient, GeminiCacheRequest, GeminiCacheUsage, GeminiCachedContent, GeminiCachedContentList,
};
pub use config::{API_KEY_VARIABLES, DEFAULT_BASE_URL, ENDPOINT_VARIABLE, GeminiConfig, SCHEMA_MODE_VARIABLE};
pub use model::GeminiModel;
/// The body of the stream fuzz target; not part of the API.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub use fuzzing::decode_stream;

/// The provider's identity, as errors, telemetry spans and routing name it.
pub const PROVIDER: ProviderId = ProviderId::GEMINI;

/// The provider's name in telemetry (`gen_ai.provider.name`) and errors: [`PROVIDER`] as a string.
pub const PROVIDER_NAME: &str = "gcp.gemini";

use vllora_llm_core::ProviderId;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_name_is_the_identity_spelled_out() {
        assert_eq!(PROVIDER.as_str(), PROVIDER_NAME);
    }
}
