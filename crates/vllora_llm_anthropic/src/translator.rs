//! The Anthropic Messages translator, for transports other than Anthropic's API: Bedrock InvokeModel
//! (`invoke`, `invoke-with-response-stream`) and Vertex AI (`rawPredict`, `streamRawPredict`) carry the
//! same Messages body and events under their own URL, authentication and framing. The translation is
//! this crate's own (`request/`, `response.rs`, `stream.rs`); this module only lends it out.

use serde_json::{Map, Value};
use vllora_llm_core::types::gateway::{
    ChatCompletionChunk, ChatCompletionMessageWithFinishReason, ChatCompletionRequest,
};
use vllora_llm_core::{CallOptions, LLMError, LLMResult, Warning, Warnings};
use vllora_llm_http::{Chunks, EndOfBody, HeaderMap, SseDecoder, SseEventRef, StatusCode, StreamDecoder};

use crate::config::AnthropicConfig;
use crate::stream::AnthropicStreamDecoder;

/// A Messages request translated for another transport.
#[derive(Debug, Clone)]
pub struct AnthropicMessagesBody {
    /// The JSON body as Anthropic's API takes it, `model` and `stream` included: a transport that
    /// carries them elsewhere (in the URL or the operation) removes them and adds its own
    /// `anthropic_version`.
    pub body: Map<String, Value>,
    /// The betas the request needs (the configuration's, then the request's own), each once: a
    /// transport sends them as the `anthropic-beta` header or the body's `anthropic_beta` list.
    pub betas: Vec<String>,
    /// What the translation could not honour.
    pub warnings: Vec<Warning>,
}

/// Translates `request` for `model` as [`AnthropicModel`](crate::AnthropicModel) would, with
/// `config`'s API version and betas (its key and base URL are not used). `provider` names the warnings'
/// source; in strict mode a parameter that cannot be honoured is an error here, before anything is sent.
pub fn translate_messages_request(
    request: &ChatCompletionRequest,
    model: &str,
    config: &AnthropicConfig,
    stream: bool,
    provider: &'static str,
    options: &CallOptions,
) -> LLMResult<AnthropicMessagesBody> {
    let mut warnings = Warnings::new(provider);
    let translated = crate::request::build(request, Some(model), config, stream, &mut warnings)?;
    let warnings = warnings.finish(options.strict)?;
    let (bytes, request_betas) = translated.into_bytes()?;
    let Value::Object(body) = serde_json::from_slice(&bytes)
        .map_err(|error| LLMError::InvalidRequest(format!("the Messages body: {error}")))?
    else {
        return Err(LLMError::InvalidRequest("the Messages body is not a JSON object".to_owned()));
    };
    let mut betas: Vec<String> = config.betas().to_vec();
    for beta in request_betas {
        if !betas.iter().any(|known| known == beta) {
            betas.push(beta.to_owned());
        }
    }
    Ok(AnthropicMessagesBody { body, betas, warnings })
}

/// Decodes a Messages response body (an Anthropic `message`) into the gateway result, with `warnings`.
pub fn parse_messages_response(
    body: &[u8],
    warnings: Vec<Warning>,
) -> LLMResult<ChatCompletionMessageWithFinishReason> {
    crate::response::parse_response(body, warnings)
}

/// Maps an Anthropic error response (`{"type": "error", "error": {...}}`) to an [`LLMError`].
pub fn map_messages_error(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> LLMError {
    crate::error::map_error(status, headers, body)
}

/// The Messages stream decoder: one Anthropic event (its JSON) in, gateway chunks out. It runs under
/// the shared driver over SSE as it is ([`StreamDecoder`] with [`SseDecoder`] framing), and a transport
/// with another framing (Bedrock's event stream) feeds it each event's JSON through
/// [`on_event_json`](Self::on_event_json).
#[derive(Debug)]
pub struct AnthropicEventDecoder(AnthropicStreamDecoder);

impl Default for AnthropicEventDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl AnthropicEventDecoder {
    /// A decoder for one stream.
    pub fn new() -> Self {
        AnthropicEventDecoder(AnthropicStreamDecoder::new())
    }

    /// One event's JSON (`{"type": "content_block_delta", ...}`) in; the chunks it completes to `out`.
    pub fn on_event_json(&mut self, json: &str, out: &mut Chunks<ChatCompletionChunk>) -> LLMResult<()> {
        self.0.on_event(SseEventRef { event: None, data: json, id: None, retry: None }, out)
    }
}

impl StreamDecoder for AnthropicEventDecoder {
    type Framing = SseDecoder;
    type Item = ChatCompletionChunk;

    fn provider(&self) -> &str {
        self.0.provider()
    }

    fn on_event(&mut self, event: SseEventRef<'_>, out: &mut Chunks<ChatCompletionChunk>) -> LLMResult<()> {
        self.0.on_event(event, out)
    }

    fn is_complete(&self) -> bool {
        self.0.is_complete()
    }

    fn on_end(&mut self, out: &mut Chunks<ChatCompletionChunk>) -> LLMResult<EndOfBody> {
        self.0.on_end(out)
    }
}
