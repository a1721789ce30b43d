//! Bedrock InvokeModel for Anthropic models: the Anthropic Messages translator
//! (`vllora_llm_anthropic`) over Bedrock's transport. The body is the Messages body without `model` and
//! `stream` (the model is in the path, streaming is the operation) and with
//! `anthropic_version: "bedrock-2023-05-31"` and the betas as `anthropic_beta`; a one-shot answer is an
//! Anthropic `message`; a stream is AWS event-stream frames whose `chunk` events carry each Anthropic
//! event as base64 in `bytes`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use serde_json::Value;
use vllora_llm_anthropic::{AnthropicConfig, AnthropicEventDecoder, translate_messages_request};
use vllora_llm_core::types::gateway::{ChatCompletionMessageWithFinishReason, ChatCompletionRequest};
use vllora_llm_core::{CallOptions, LLMError, LLMResult, Warning};
use vllora_llm_http::{Chunks, EndOfBody, StreamDecoder};

use crate::PROVIDER_NAME;
use crate::error::{stream_error_frame, stream_exception};
use crate::event_stream::{FrameDecoder, FrameEvent};

/// The `anthropic_version` Bedrock takes for the Messages API.
pub(crate) const BEDROCK_ANTHROPIC_VERSION: &str = "bedrock-2023-05-31";

/// The InvokeModel body for `model_id`, and the translation's warnings (strict mode fails here).
pub(crate) fn invoke_body(
    request: &ChatCompletionRequest,
    model_id: &str,
    stream: bool,
    options: &CallOptions,
) -> LLMResult<(Vec<u8>, Vec<Warning>)> {
    // Only the API version and betas of the configuration are read by the translator; no key is sent.
    let config = AnthropicConfig::new("");
    let translated = translate_messages_request(request, model_id, &config, stream, PROVIDER_NAME, options)?;
    let mut body = translated.body;
    body.remove("model");
    body.remove("stream");
    body.insert("anthropic_version".to_owned(), Value::from(BEDROCK_ANTHROPIC_VERSION));
    if !translated.betas.is_empty() {
        body.insert("anthropic_beta".to_owned(), Value::from(translated.betas));
    }
    let bytes = serde_json::to_vec(&body).map_err(|error| LLMError::InvalidRequest(error.to_string()))?;
    Ok((bytes, translated.warnings))
}

/// A one-shot InvokeModel answer: an Anthropic `message`.
pub(crate) fn parse_invoke_response(
    body: &[u8],
    warnings: Vec<Warning>,
) -> LLMResult<ChatCompletionMessageWithFinishReason> {
    vllora_llm_anthropic::parse_messages_response(body, warnings)
}

/// A `chunk` event's payload.
#[derive(Deserialize)]
struct ChunkPayload<'a> {
    #[serde(borrow)]
    bytes: Option<&'a str>,
}

/// InvokeModelWithResponseStream frames -> gateway chunks: each `chunk` event's `bytes`, decoded from
/// base64, is one Anthropic event for the Anthropic decoder; exception frames end the stream with
/// Bedrock's error.
#[derive(Debug, Default)]
pub(crate) struct InvokeStreamDecoder {
    events: AnthropicEventDecoder,
    failed: bool,
    cut: bool,
}

impl StreamDecoder for InvokeStreamDecoder {
    type Framing = FrameDecoder;
    type Item = vllora_llm_core::types::gateway::ChatCompletionChunk;

    fn provider(&self) -> &str {
        PROVIDER_NAME
    }

    fn on_event(&mut self, event: FrameEvent<'_>, out: &mut Chunks) -> LLMResult<()> {
        let frame = match event {
            FrameEvent::Frame(frame) => frame,
            FrameEvent::Cut { .. } => {
                self.cut = true;
                return Ok(());
            }
        };
        match frame.header(":message-type") {
            Some("event") if frame.header(":event-type") == Some("chunk") => {
                let payload: ChunkPayload<'_> = serde_json::from_slice(&frame.payload).map_err(|error| {
                    LLMError::decode(PROVIDER_NAME, format_args!("`chunk` event: {error}"))
                })?;
                let Some(encoded) = payload.bytes else { return Ok(()) };
                let decoded = STANDARD.decode(encoded).map_err(|error| {
                    LLMError::decode(
                        PROVIDER_NAME,
                        format_args!("`chunk` event bytes are not base64: {error}"),
                    )
                })?;
                let json = std::str::from_utf8(&decoded)
                    .map_err(|_| LLMError::decode(PROVIDER_NAME, "`chunk` event bytes are not UTF-8 JSON"))?;
                let result = self.events.on_event_json(json, out);
                if result.is_err() {
                    self.failed = true;
                }
                result
            }
            Some("exception") => {
                self.failed = true;
                Err(stream_exception(
                    frame.header(":exception-type").unwrap_or("unknownException"),
                    &frame.payload,
                ))
            }
            Some("error") => {
                self.failed = true;
                Err(stream_error_frame(frame.header(":error-code"), frame.header(":error-message")))
            }
            // Other events (and message types) are skipped, as unknown events are everywhere.
            _ => Ok(()),
        }
    }

    fn is_complete(&self) -> bool {
        self.failed || self.events.is_complete()
    }

    fn on_end(&mut self, out: &mut Chunks) -> LLMResult<EndOfBody> {
        if self.cut {
            return Ok(EndOfBody::Truncated);
        }
        self.events.on_end(out)
    }
}
