//! The Anthropic Messages API provider of `vllora_llm`.
//!
//! [`AnthropicModel`] implements [`ModelInstance`](vllora_llm_core::ModelInstance): it translates
//! OpenAI-shaped gateway requests into `POST {base}/v1/messages` bodies and Anthropic's answers (one-shot
//! or streamed) back into gateway responses and chunks.
//!
//! - System and developer messages become `system` (all of them, in order); consecutive turns of one role
//!   are merged; tool results open the next user turn; images (data URIs and URLs) and PDFs are sent as
//!   `image` and `document` blocks; `cache_control` on messages, parts and tools becomes Anthropic's
//!   ephemeral cache control (at most 4 breakpoints, a clear error beyond).
//! - `max_tokens` is required by Anthropic: a request without it gets a per-family default and a warning
//!   (see `docs/providers/anthropic.md`).
//! - Thinking (`provider_specific.thinking`) is validated against `max_tokens`; thinking and redacted
//!   thinking come back in `reasoning_content` and `reasoning_details` and are sent back unchanged when the
//!   assistant message returns in a later turn.
//! - API version `2026-10-21`, and models that reject sampling parameters on any version (Opus 4.7 and
//!   later, generation 5), get no `temperature`, `top_p` or `top_k`: each is left out with a warning.
//!
//! - Streams run on the shared driver (`vllora_llm_http::ChunkStream`); the last choice chunk carries
//!   Anthropic's own `stop_reason` (`pause_turn`, `refusal`...) as `raw_finish_reason` beside the unified
//!   `finish_reason`, and a body that ends before the answer is `LLMError::Connection`.
//!
//! Most applications use this crate through the `vllora_llm` facade (feature `anthropic`).

mod config;
mod endpoint;
mod error;
mod family;
#[cfg(any(test, feature = "fuzzing"))]
mod fuzzing;
mod model;
mod request;
mod response;
mod stream;
mod stream_wire;
mod translator;
#[cfg(feature = "vertex")]
mod vertex;
mod wire;

pub use config::{
    API_VERSION_2026_10_21, API_VERSION_VARIABLE, AnthropicConfig, BETAS_VARIABLE, DEFAULT_API_VERSION,
    DEFAULT_BASE_URL, MAX_TOKENS_VARIABLE,
};
pub use model::AnthropicModel;
pub use translator::{
    AnthropicEventDecoder, AnthropicMessagesBody, map_messages_error, parse_messages_response,
    translate_messages_request,
};
/// The body of the stream fuzz target; not part of the API.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub use fuzzing::decode_stream;

use vllora_llm_core::ProviderId;

/// The provider's identity, as errors, telemetry and routing spell it.
pub const PROVIDER: ProviderId = ProviderId::ANTHROPIC;

/// The provider's name in telemetry (`gen_ai.provider.name`) and in errors: `PROVIDER.as_str()`.
pub const PROVIDER_NAME: &str = "anthropic";

#[cfg(test)]
mod tests {
    #[test]
    fn the_name_is_the_identity() {
        assert_eq!(super::PROVIDER.as_str(), super::PROVIDER_NAME);
    }
}
