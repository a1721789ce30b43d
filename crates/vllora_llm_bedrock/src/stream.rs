//! ConverseStream events -> gateway chunks: a state machine fed frame by frame, and the stream that drives
//! it from the response body.

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_core::Stream;
use serde::de::DeserializeOwned;
use vllora_llm_core::types::gateway::{
    CHUNK_OBJECT, ChatCompletionChunk, ChatCompletionDelta, ChunkChoice, FinishReason, FunctionCallDelta,
    ReasoningDetail, ReasoningDetailType, Role, SharedStr, ToolCallDelta, Usage,
};
use vllora_llm_core::{LLMError, LLMResult};

use crate::PROVIDER_NAME;
use crate::error::{stream_error_frame, stream_exception};
use crate::event_stream::{Frame, FrameDecoder};
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
#[derive(Debug)]
pub(crate) struct StreamState {
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
}

impl StreamState {
    pub(crate) fn new(context: ResponseContext) -> Self {
        StreamState {
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
        }
    }

    /// Handles one frame: an event, an exception (the error of the stream) or an unknown message (skipped).
    pub(crate) fn on_frame(
        &mut self,
        frame: &Frame,
        out: &mut VecDeque<ChatCompletionChunk>,
    ) -> LLMResult<()> {
        match frame.header(":message-type") {
            Some("event") => {
                self.on_event(frame.header(":event-type").unwrap_or_default(), &frame.payload, out)
            }
            Some("exception") => Err(stream_exception(
                frame.header(":exception-type").unwrap_or("unknownException"),
                &frame.payload,
            )),
            Some("error") => {
                Err(stream_error_frame(frame.header(":error-code"), frame.header(":error-message")))
            }
            _ => Ok(()),
        }
    }

    /// Handles one event by its `:event-type`.
    pub(crate) fn on_event(
        &mut self,
        event_type: &str,
        payload: &[u8],
        out: &mut VecDeque<ChatCompletionChunk>,
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
                    self.push_delta(ChatCompletionDelta::default(), Some(reason), out);
                }
                self.flush_usage(out);
            }
            "metadata" => {
                let event: MetadataEvent = parse(event_type, payload)?;
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

    /// Call at the end of the body.
    pub(crate) fn finish(&mut self, out: &mut VecDeque<ChatCompletionChunk>) -> LLMResult<()> {
        if !self.stopped {
            return Err(LLMError::decode(PROVIDER_NAME, "the stream ended before messageStop"));
        }
        self.flush_usage(out);
        Ok(())
    }

    fn on_block_start(&mut self, event: ContentBlockStartEvent, out: &mut VecDeque<ChatCompletionChunk>) {
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

    fn on_block_delta(&mut self, event: ContentBlockDeltaEvent, out: &mut VecDeque<ChatCompletionChunk>) {
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
                self.reasoning_block(block).text.push_str(&text);
                self.push_delta(
                    ChatCompletionDelta { reasoning_content: Some(text), ..Default::default() },
                    None,
                    out,
                );
            }
            if let Some(signature) = reasoning.signature {
                self.reasoning_block(block).signature.get_or_insert_with(String::new).push_str(&signature);
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
    fn on_block_stop(&mut self, event: ContentBlockStopEvent, out: &mut VecDeque<ChatCompletionChunk>) {
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

    fn reasoning_block(&mut self, block: u32) -> &mut ReasoningBlock {
        let position = match self.reasoning.iter().position(|(index, _)| *index == block) {
            Some(position) => position,
            None => {
                self.reasoning.push((block, ReasoningBlock::default()));
                self.reasoning.len() - 1
            }
        };
        &mut self.reasoning[position].1
    }

    fn push_delta(
        &mut self,
        mut delta: ChatCompletionDelta,
        finish_reason: Option<FinishReason>,
        out: &mut VecDeque<ChatCompletionChunk>,
    ) {
        if !self.role_sent {
            self.role_sent = true;
            delta.role = Some(Role::Assistant);
        }
        let choice = ChunkChoice { index: 0, delta, finish_reason, logprobs: None, raw_finish_reason: None };
        out.push_back(self.chunk(vec![choice], None));
    }

    fn flush_usage(&mut self, out: &mut VecDeque<ChatCompletionChunk>) {
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

fn parse<T: DeserializeOwned>(event_type: &str, payload: &[u8]) -> LLMResult<T> {
    serde_json::from_slice(payload)
        .map_err(|error| LLMError::decode(PROVIDER_NAME, format_args!("`{event_type}` event: {error}")))
}

/// The chunks of a ConverseStream response, decoded as the body arrives.
pub(crate) struct ConverseStream<B> {
    body: B,
    decoder: FrameDecoder,
    state: StreamState,
    ready: VecDeque<ChatCompletionChunk>,
    done: bool,
}

impl<B> ConverseStream<B> {
    pub(crate) fn new(body: B, context: ResponseContext, max_frame_len: usize) -> Self {
        ConverseStream {
            body,
            decoder: FrameDecoder::new(max_frame_len),
            state: StreamState::new(context),
            ready: VecDeque::new(),
            done: false,
        }
    }
}

impl<B> Stream for ConverseStream<B>
where
    B: Stream<Item = LLMResult<Bytes>> + Unpin,
{
    type Item = LLMResult<ChatCompletionChunk>;

    fn poll_next(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(chunk) = this.ready.pop_front() {
                return Poll::Ready(Some(Ok(chunk)));
            }
            if this.done {
                return Poll::Ready(None);
            }
            let step = match this.decoder.next_frame() {
                Ok(Some(frame)) => this.state.on_frame(&frame, &mut this.ready),
                Ok(None) => match Pin::new(&mut this.body).poll_next(context) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(Some(Ok(bytes))) => {
                        this.decoder.push(&bytes);
                        Ok(())
                    }
                    Poll::Ready(Some(Err(error))) => Err(error),
                    Poll::Ready(None) => {
                        this.done = true;
                        this.decoder.finish().and_then(|()| this.state.finish(&mut this.ready))
                    }
                },
                Err(error) => Err(error),
            };
            if let Err(error) = step {
                this.done = true;
                this.ready.clear();
                return Poll::Ready(Some(Err(error)));
            }
        }
    }
}

impl<B> std::fmt::Debug for ConverseStream<B> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("ConverseStream").field("state", &self.state).finish_non_exhaustive()
    }
}

#[cfg(test)]
#[path = "stream_tests.rs"]
mod tests;
