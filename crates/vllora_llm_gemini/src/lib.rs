//! The Google Gemini provider of `vllora_llm`: `generateContent`, `streamGenerateContent` and the
//! `cachedContents` API (explicit prompt caching), behind OpenAI-shaped gateway types.
//!
//! Build a [`GeminiModel`] from a [`GeminiConfig`] and a transport client, then use it as any
//! `ModelInstance`. Provider options travel in `ChatCompletionRequest::provider_specific`: `top_k`,
//! `thinking`, and in `extra` the keys `cached_content`, `safety_settings`, `thinking_level`,
//! `include_thoughts` and `native_json_schema` (see `docs/providers/gemini.md`).

mod cache;
mod config;
mod error;
mod model;
mod request;
mod response;
mod schema;
mod stream;
mod wire;

pub use cache::{
    GeminiCacheClient, GeminiCacheRequest, GeminiCacheUsage, GeminiCachedContent, GeminiCachedContentList,
};
pub use config::{API_KEY_VARIABLES, DEFAULT_BASE_URL, ENDPOINT_VARIABLE, GeminiConfig};
pub use model::GeminiModel;

/// The provider's name in telemetry (`gen_ai.provider.name`) and errors.
pub const PROVIDER_NAME: &str = "gcp.gemini";
