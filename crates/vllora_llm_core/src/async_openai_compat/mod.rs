//! Conversions between the gateway types and the chat completion types of the `async-openai` crate
//! (feature `async-openai`), so code written against async-openai keeps working:
//!
//! - async-openai's [`CreateChatCompletionRequest`] -> [`ChatCompletionRequest`]: every field, every
//!   message kind and content part, tools, tool choice, response formats, audio, prediction. This is what
//!   lets `client.completions().create(request)` take an async-openai request as it is.
//! - [`ChatCompletionResponse`] (and the [`ChatCompletionMessageWithFinishReason`] a one-shot call
//!   returns) -> async-openai's [`CreateChatCompletionResponse`];
//!   [`ChatCompletionChunk`] -> async-openai's [`CreateChatCompletionStreamResponse`].
//! - async-openai's builder error ([`OpenAIError`]) -> [`LLMError::InvalidRequest`], so `.build()?`
//!   works in a function returning [`LLMResult`](crate::error::LLMResult).
//!
//! Both sides are OpenAI's Chat Completions JSON, so a request converts into one whose JSON is the same
//! document, and the same holds for responses and chunks, except for what one side has no field for.
//! That is never dropped silently: each loss is a [`Warning`] (also emitted as a `tracing` warn event
//! with `conversion = "async-openai"`). The `From` impls emit the events; the functions
//! ([`request_from_async_openai`], [`response_to_async_openai`], [`chunk_to_async_openai`]) also return
//! the warnings, for a caller that wants to refuse a lossy conversion.
//!
//! Request fields and parts without an equivalent in [`ChatCompletionRequest`] (not sent):
//!
//! | async-openai | what happens |
//! |---|---|
//! | `prompt_cache_options`, `moderation` | warned, dropped |
//! | `prompt_cache_breakpoint` on a content part | warned, dropped |
//! | custom tools (`ChatCompletionTools::Custom`), custom tool calls, `tool_choice` naming a custom tool | warned, dropped |
//! | `function_call` on an assistant message (deprecated) | warned, dropped |
//! | `reasoning_effort: max` | sent as `xhigh`, warned |
//! | image `detail: original` | sent without `detail` (the model's default), warned |
//! | `metadata` values that are not strings | warned, `metadata` dropped |
//! | `allowed_tools` with several entries, or a tool entry that does not name a function | the first entry's function names are kept, warned |
//!
//! Two differences are not losses: a single `stop` string is sent as a one-element list (OpenAI treats
//! both alike), and `tool_choice.allowed_tools`, which async-openai writes as a list, is sent as the
//! object OpenAI's API reference defines. Sampling parameters, which async-openai holds as `f32`, become
//! the `f64` that their JSON text denotes (`0.7f32` is sent as `0.7`, not `0.699999988079071`).
//!
//! Response and chunk fields without an equivalent in async-openai's types (dropped, warned):
//! `reasoning_content`, `reasoning_details`, `cache_control` and content parts other than text on
//! messages (their text parts are joined), `extra_content` on tool calls, a role or finish reason
//! async-openai does not know, a tool call type other than `function`, a `service_tier` it does not know,
//! and `created` after 2106 (async-openai holds it as `u32`). `cache_creation_tokens` becomes
//! async-openai's `cache_write_tokens`. Log probabilities narrow to async-openai's `f32` without a warning
//! (a precision limit of its type, not a missing field).
//!
//! The version of async-openai is pinned to one minor release (0.43): the conversions destructure its
//! types field by field, so a release that adds a field is noticed here at compile time.

mod request;
mod response;

use serde::Serialize;
use serde_json::Value;

pub use ::async_openai::error::OpenAIError;
pub use ::async_openai::types::chat::{
    CreateChatCompletionRequest, CreateChatCompletionResponse, CreateChatCompletionStreamResponse,
};
pub use request::request_from_async_openai;
pub use response::{chunk_to_async_openai, response_to_async_openai};

use crate::error::LLMError;
#[cfg(doc)]
use crate::types::gateway::{
    ChatCompletionChunk, ChatCompletionMessageWithFinishReason, ChatCompletionRequest, ChatCompletionResponse,
};
use crate::warning::Warning;

impl From<OpenAIError> for LLMError {
    /// async-openai's errors here are its builders' (`CreateChatCompletionRequestArgs::build`...): a
    /// request that cannot be built is an invalid request.
    fn from(error: OpenAIError) -> Self {
        LLMError::InvalidRequest(format!("async-openai: {error}"))
    }
}

/// The warnings of one conversion, each also emitted as a `tracing` warn event.
#[derive(Debug, Default)]
struct Losses {
    warnings: Vec<Warning>,
}

impl Losses {
    /// `field` (a JSON path such as `messages[2].content[0].prompt_cache_breakpoint`) was not carried over.
    fn dropped(&mut self, field: impl Into<String>, detail: impl Into<String>) {
        self.push(Warning::unsupported_because(field, detail));
    }

    /// `field` of a response or chunk has no place in async-openai's type.
    fn omitted(&mut self, field: impl Into<String>, detail: impl std::fmt::Display) {
        self.push(Warning::adjusted(field, format!("dropped: {detail}")));
    }

    /// `field` was carried over in another form.
    fn adjusted(&mut self, field: impl Into<String>, detail: impl Into<String>) {
        self.push(Warning::adjusted(field, detail));
    }

    fn push(&mut self, warning: Warning) {
        tracing::warn!(conversion = "async-openai", parameter = warning.parameter(), "{warning}");
        self.warnings.push(warning);
    }
}

/// The JSON string a unit enum serialises to (`ServiceTier::Flex` -> `"flex"`).
fn wire_string<T: Serialize>(value: &T) -> Option<String> {
    match serde_json::to_value(value) {
        Ok(Value::String(text)) => Some(text),
        _ => None,
    }
}

/// The JSON a value serialises to.
fn wire_value<T: Serialize>(value: &T) -> Option<Value> {
    serde_json::to_value(value).ok()
}

#[cfg(test)]
mod conversion_tests;
