//! [`BedrockStreamDecoder`]: ConverseStream events -> gateway chunks, a state machine fed one lent
//! event-stream frame at a time by the shared driver ([`vllora_llm_http::ChunkStream`]), which owns the
//! loop, the timers and the end of the body.

use serde::de::DeserializeOwned;
use vllora_llm_core::types::gateway::{
    CHUNK_OBJECT, ChatCompletionChunk, ChatCompletionDelta, ChunkChoice, FinishReason, FunctionCallDelta,
    ReasoningDetail, ReasoningDetailType, Role, SharedStr, ToolCallDelta, Usage,
};
use vllora_llm_core::{LLMError, LLMResult};
use vllora_llm_http::{Chunks, EndOfBody, StreamDecoder};

use crate::PROVIDER_NAME;
use crate::error::{stream_error_frame, stream_exception};
use crate::event_stream::{Frame, FrameDecoder, FrameEvent};
use crate::request::REASONING_PROVIDER;
use crate::response::{ResponseContext, finish_reason, usage};
use crate::wire::{
    ContentBlockDeltaEvent, ContentBlockStartEvent, ContentBlockStopEvent, MessageStopEvent, MetadataEvent,
};

/// A reasoning block being received: its text and signature are sent back together in a later turn.
#[derive(Debug, Default)]
struct ReasoningBlock {
    text: String,
    signature: Option<String>,
}

/// Turns ConverseStream events into chunks.
///
/// The answer is complete once the `metadata` event (usage, metrics) has followed `messageStop`, or an
/// exception ended it. A body that ends cleanly after `messageStop` without `metadata` is a whole answer
/// (without usage); one that ends before `messageStop`, or inside a frame, is truncated.
#[derive(Debug)]
pub(crate) struct BedrockStreamDecoder {
    context: ResponseContext,
    /// The context's id and model, shared by every chunk so handing them out does not allocate.
    id: SharedStr,
    model: SharedStr,
    role_sent: bool,
    stopped: bool,
    usage_sent: bool,
    pending_usage: Option<Usage>,
    /// The tier that served the request, known from the metadata event on (so on the usage chunk).
    service_tier: Option<SharedStr>,
    /// Content block index -> tool call index within the turn.
    tool_calls: Vec<(u32, u32)>,
    reasoning: Vec<(u32, ReasoningBlock)>,
    /// The `metadata` event has been received.
    metadata_seen: bool,
    /// An exception or error frame ended the stream.
    failed: bool,
    /// The body ended inside a frame.
    cut: bool,
}

impl BedrockStreamDecoder {
    /// A decoder for the response `context` describes.
    pub(crate) fn new(context: ResponseContext) -> Self {
        BedrockStreamDecoder {
            id: context.id.as_str().into(),
            model: context.model.as_str().into(),
            context,
            role_sent: false,
            stopped: false,
            usage_sent: false,
            pending_usage: None,
            service_tier: None,
            tool_calls: Vec::new(),
            reasoning: Vec::new(),
            metadata_seen: false,
            failed: false,
            cut: false,
        }
    }

    /// Handles one frame: an event, an exception (the error of the stream) or an unknown message (skipped).
    pub(crate) fn on_frame(&mut self, frame: &Frame, out: &mut Chunks) -> LLMResult<()> {
        match frame.header(":message-type") {
            Some("event") => {
                self.on_converse_event(frame.header(":event-type").unwrap_or_default(), &frame.payload, out)
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
            _ => Ok(()),
        }
    }

    /// Handles one event by its `:event-type`.
    pub(crate) fn on_converse_event(
        &mut self,
        event_type: &str,
        payload: &[u8],
        out: &mut Chunks,
    ) -> LLMResult<()> {
        match event_type {
            "messageStart" if !self.role_sent => self.push_delta(ChatCompletionDelta::default(), None, out),
            "contentBlockStart" => self.on_block_start(parse(event_type, payload)?, out),
            "contentBlockDelta" => self.on_block_delta(parse(event_type, payload)?, out),
            "contentBlockStop" => self.on_block_stop(parse(event_type, payload)?, out),
            "messageStop" => {
                let event: MessageStopEvent = parse(event_type, payload)?;
                let reason = event.stop_reason.as_deref().map_or(FinishReason::Stop, finish_reason);
                if !self.stopped {
                    self.stopped = true;
                    let raw = event.stop_reason.map(SharedStr::from);
                    self.push_finish(reason, raw, out);
                }
                self.flush_usage(out);
            }
            "metadata" => {
                let event: MetadataEvent = parse(event_type, payload)?;
                self.metadata_seen = true;
                if let Some(wire_usage) = event.usage {
                    self.pending_usage = Some(usage(&wire_usage));
                }
                if let Some(tier) = event.service_tier.and_then(|tier| tier.kind) {
                    self.service_tier = Some(tier.into());
                }
                if self.stopped {
                    self.flush_usage(out);
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn on_block_start(&mut self, event: ContentBlockStartEvent, out: &mut Chunks) {
        let Some(tool_use) = event.start.and_then(|start| start.tool_use) else { return };
        let index = self.tool_index(event.content_block_index);
        let call = ToolCallDelta {
            index,
            id: Some(tool_use.tool_use_id),
            kind: Some("function".to_owned()),
            function: Some(FunctionCallDelta { name: Some(tool_use.name), arguments: Some(String::new()) }),
            extra_content: None,
        };
        self.push_delta(
            ChatCompletionDelta { tool_calls: Some(vec![call]), ..Default::default() },
            None,
            out,
        );
    }

    fn on_block_delta(&mut self, event: ContentBlockDeltaEvent, out: &mut Chunks) {
        let Some(delta) = event.delta else { return };
        let block = event.content_block_index;
        if let Some(text) = delta.text {
            self.push_delta(ChatCompletionDelta { content: Some(text), ..Default::default() }, None, out);
        }
        if let Some(tool_use) = delta.tool_use {
            let call = ToolCallDelta {
                index: self.tool_index(block),
                function: Some(FunctionCallDelta { name: None, arguments: Some(tool_use.input) }),
                ..Default::default()
            };
            self.push_delta(
                ChatCompletionDelta { tool_calls: Some(vec![call]), ..Default::default() },
                None,
                out,
            );
        }
        if let Some(reasoning) = delta.reasoning_content {
            if let Some(text) = reasoning.text {
                self.reasoning_block(block, |reasoning| reasoning.text.push_str(&text));
                self.push_delta(
                    ChatCompletionDelta { reasoning_content: Some(text), ..Default::default() },
                    None,
                    out,
                );
            }
            if let Some(signature) = reasoning.signature {
                self.reasoning_block(block, |reasoning| {
                    reasoning.signature.get_or_insert_with(String::new).push_str(&signature);
                });
            }
            if let Some(redacted) = reasoning.redacted_content {
                let detail = ReasoningDetail {
                    kind: ReasoningDetailType::Encrypted,
                    text: None,
                    signature: None,
                    data: Some(redacted),
                    provider: Some(REASONING_PROVIDER.to_owned()),
                };
                let delta =
                    ChatCompletionDelta { reasoning_details: Some(vec![detail]), ..Default::default() };
                self.push_delta(delta, None, out);
            }
        }
    }

    /// A finished reasoning block goes out whole (text and signature), so it can be sent back as it was.
    fn on_block_stop(&mut self, event: ContentBlockStopEvent, out: &mut Chunks) {
        let Some(position) = self.reasoning.iter().position(|(index, _)| *index == event.content_block_index)
        else {
            return;
        };
        let (_, block) = self.reasoning.swap_remove(position);
        let detail = ReasoningDetail {
            kind: ReasoningDetailType::Text,
            text: Some(block.text),
            signature: block.signature,
            data: None,
            provider: Some(REASONING_PROVIDER.to_owned()),
        };
        self.push_delta(
            ChatCompletionDelta { reasoning_details: Some(vec![detail]), ..Default::default() },
            None,
            out,
        );
    }

    fn tool_index(&mut self, block: u32) -> u32 {
        if let Some((_, index)) = self.tool_calls.iter().find(|(known, _)| *known == block) {
            return *index;
        }
        let index = u32::try_from(self.tool_calls.len()).unwrap_or(u32::MAX);
        self.tool_calls.push((block, index));
        index
    }

    /// Applies `change` to the reasoning block of content block `block`, started if new.
    fn reasoning_block(&mut self, block: u32, change: impl FnOnce(&mut ReasoningBlock)) {
        match self.reasoning.iter_mut().find(|(index, _)| *index == block) {
            Some((_, reasoning)) => change(reasoning),
            None => {
                let mut reasoning = ReasoningBlock::default();
                change(&mut reasoning);
                self.reasoning.push((block, reasoning));
            }
        }
    }

    fn push_delta(
        &mut self,
        delta: ChatCompletionDelta,
        finish_reason: Option<FinishReason>,
        out: &mut Chunks,
    ) {
        self.push_choice(delta, finish_reason, None, out);
    }

    /// The last choice chunk: the unified finish reason beside Bedrock's own `stopReason`.
    fn push_finish(&mut self, reason: FinishReason, raw: Option<SharedStr>, out: &mut Chunks) {
        self.push_choice(ChatCompletionDelta::default(), Some(reason), raw, out);
    }

    fn push_choice(
        &mut self,
        mut delta: ChatCompletionDelta,
        finish_reason: Option<FinishReason>,
        raw_finish_reason: Option<SharedStr>,
        out: &mut Chunks,
    ) {
        if !self.role_sent {
            self.role_sent = true;
            delta.role = Some(Role::Assistant);
        }
        let choice = ChunkChoice { index: 0, delta, finish_reason, logprobs: None, raw_finish_reason };
        out.push_back(self.chunk(vec![choice], None));
    }

    fn flush_usage(&mut self, out: &mut Chunks) {
        if self.usage_sent {
            return;
        }
        if let Some(usage) = self.pending_usage.take() {
            self.usage_sent = true;
            out.push_back(self.chunk(Vec::new(), Some(usage)));
        }
    }

    fn chunk(&self, choices: Vec<ChunkChoice>, usage: Option<Usage>) -> ChatCompletionChunk {
        ChatCompletionChunk {
            id: self.id.clone(),
            object: CHUNK_OBJECT.into(),
            created: self.context.created,
            model: self.model.clone(),
            choices,
            usage,
            service_tier: self.service_tier.clone(),
            ..Default::default()
        }
    }
}

impl StreamDecoder for BedrockStreamDecoder {
    type Framing = FrameDecoder;
    type Item = ChatCompletionChunk;

    fn provider(&self) -> &str {
        PROVIDER_NAME
    }

    fn on_event(&mut self, event: FrameEvent<'_>, out: &mut Chunks) -> LLMResult<()> {
        match event {
            FrameEvent::Frame(frame) => self.on_frame(frame, out),
            FrameEvent::Cut { .. } => {
                self.cut = true;
                Ok(())
            }
        }
    }

    fn is_complete(&self) -> bool {
        self.failed || (self.stopped && self.metadata_seen)
    }

    fn on_end(&mut self, out: &mut Chunks) -> LLMResult<EndOfBody> {
        if self.cut || !self.stopped {
            return Ok(EndOfBody::Truncated);
        }
        self.flush_usage(out);
        Ok(EndOfBody::Complete)
    }
}

fn parse<T: DeserializeOwned>(event_type: &str, payload: &[u8]) -> LLMResult<T> {
    serde_json::from_slice(payload)
        .map_err(|error| LLMError::decode(PROVIDER_NAME, format_args!("`{event_type}` event: {error}")))
}

#[cfg(test)]
#[path = "stream_tests.rs"]
mod tests;
