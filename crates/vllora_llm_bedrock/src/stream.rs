//! [`BedrockStreamDecoder`]: ConverseStream events -> gateway chunks, a state machine fed one lent
//! event-stream frame at a time by the shared driver ([`vllora_llm_http::ChunkStream`]), which owns the
//! loop, the timers and the end of the body.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use vllora_llm_core::types::gateway::{
    BlockOrderRecorder, CHUNK_OBJECT, ChatCompletionChunk, ChatCompletionDelta, ChunkChoice, FinishReason,
    FunctionCallDelta, ProviderContent, ReasoningDetail, ReasoningDetailType, Role, SharedStr, ToolCallDelta,
    Usage,
};
use vllora_llm_core::{LLMError, LLMResult};
use vllora_llm_http::{Chunks, EndOfBody, StreamDecoder};

use crate::error::{stream_error_frame, stream_exception};
use crate::event_stream::{Frame, FrameDecoder, FrameEvent};
use crate::request::REASONING_PROVIDER;
use crate::response::{
    ResponseContext, SERVER_TOOL_USE, citations_native, finish_reason, server_tool_use_block, usage,
};
use crate::wire::ToolUseOut;
use crate::{PROVIDER, PROVIDER_NAME};
use crate::wire::{
    ContentBlockDeltaEvent, ContentBlockStartEvent, ContentBlockStopEvent, MessageStopEvent, MetadataEvent,
};

/// A reasoning block being received: its text and signature are sent back together in a later turn.
#[derive(Debug, Default)]
struct ReasoningBlock {
    text: String,
    signature: Option<String>,
}

/// A content block in progress, for the block order (`provider_content`).
#[derive(Debug)]
enum OpenBlock {
    /// Text, with its length so far and the citations its deltas added.
    Text { len: usize, citations: Vec<Value> },
    /// A tool call for the caller.
    Tool { id: String },
    /// Reasoning; the indexes of the redacted details it gave out as they came (a readable block gives its
    /// detail at its stop).
    Reasoning { redacted: Vec<usize> },
    /// A call of a tool Bedrock runs itself, with its input as streamed.
    ServerTool { start: ToolUseOut, input: String },
    /// Any other block (`toolResult`, `image`, a kind Bedrock adds later), built from its start and deltas.
    Native { key: String, block: Value },
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
    /// Blocks in progress by content block index, and the answer's block order.
    blocks: Vec<(u32, OpenBlock)>,
    order: BlockOrderRecorder,
    /// Reasoning details handed out so far (the index of the next one).
    reasoning_details: usize,
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
            blocks: Vec::new(),
            order: BlockOrderRecorder::new(),
            reasoning_details: 0,
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
        let block = event.content_block_index;
        let Some(start) = event.start else { return };
        for (key, value) in start.other {
            self.blocks.push((block, OpenBlock::Native { key, block: value }));
        }
        let Some(tool_use) = start.tool_use else { return };
        if tool_use.kind.as_deref() == Some(SERVER_TOOL_USE) {
            let start = ToolUseOut {
                tool_use_id: tool_use.tool_use_id,
                name: tool_use.name,
                input: Value::Null,
                kind: tool_use.kind,
            };
            self.blocks.push((block, OpenBlock::ServerTool { start, input: String::new() }));
            return;
        }
        let index = self.tool_index(block);
        self.blocks.push((block, OpenBlock::Tool { id: tool_use.tool_use_id.clone() }));
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

    /// The open block at content block index `block`, started as `new()` when it has not started.
    fn open_block(&mut self, block: u32, new: impl FnOnce() -> OpenBlock) -> Option<&mut OpenBlock> {
        if !self.blocks.iter().any(|(index, _)| *index == block) {
            self.blocks.push((block, new()));
        }
        self.blocks.iter_mut().find(|(index, _)| *index == block).map(|(_, open)| open)
    }

    fn on_block_delta(&mut self, event: ContentBlockDeltaEvent, out: &mut Chunks) {
        let Some(delta) = event.delta else { return };
        let block = event.content_block_index;
        if let Some(text) = delta.text {
            if let Some(OpenBlock::Text { len, .. }) =
                self.open_block(block, || OpenBlock::Text { len: 0, citations: Vec::new() })
            {
                *len = len.saturating_add(text.len());
            }
            self.push_delta(ChatCompletionDelta { content: Some(text), ..Default::default() }, None, out);
        }
        if let Some(citation) = delta.citation {
            if let Some(OpenBlock::Text { citations, .. }) =
                self.open_block(block, || OpenBlock::Text { len: 0, citations: Vec::new() })
            {
                citations.push(citation);
            }
        }
        // Nearly always empty: then neither walked nor dropped (a map's drop turns it into an iterator
        // even when empty, ~120 instructions per event). The map was only ever filled by reading, so an
        // empty one has never allocated: forgetting it leaks nothing.
        if delta.other.is_empty() {
            std::mem::forget(delta.other);
        } else {
            for (key, value) in delta.other {
                match self.open_block(block, || OpenBlock::Native { key: key.clone(), block: Value::Null }) {
                    Some(OpenBlock::Native { key: open_key, block: open }) if *open_key == key => {
                        add_native_delta(open, &key, value)
                    }
                    _ => {}
                }
            }
        }
        if let Some(tool_use) = delta.tool_use {
            if let Some((_, OpenBlock::ServerTool { input, .. })) =
                self.blocks.iter_mut().find(|(index, _)| *index == block)
            {
                input.push_str(&tool_use.input);
            } else {
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
        }
        if let Some(reasoning) = delta.reasoning_content {
            let _ = self.open_block(block, || OpenBlock::Reasoning { redacted: Vec::new() });
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
                let index = self.next_reasoning_index();
                if let Some(OpenBlock::Reasoning { redacted: given }) =
                    self.open_block(block, || OpenBlock::Reasoning { redacted: Vec::new() })
                {
                    given.push(index);
                }
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

    fn next_reasoning_index(&mut self) -> usize {
        let index = self.reasoning_details;
        self.reasoning_details = self.reasoning_details.saturating_add(1);
        index
    }

    /// A finished block: a reasoning block goes out whole (text and signature), so it can be sent back as it
    /// was; the block takes its place in the order, handed out once the order is needed.
    fn on_block_stop(&mut self, event: ContentBlockStopEvent, out: &mut Chunks) {
        let block = event.content_block_index;
        let mut entries = Vec::new();
        let open =
            self.blocks.iter().position(|(index, _)| *index == block).map(|at| self.blocks.swap_remove(at).1);
        match open {
            None => {}
            Some(OpenBlock::Text { len, citations }) => {
                let native = (!citations.is_empty()).then(|| citations_native(Value::Array(citations)));
                entries.push(ProviderContent::text(PROVIDER, len, native));
            }
            Some(OpenBlock::Tool { id }) => entries.push(ProviderContent::tool_call(PROVIDER, id)),
            Some(OpenBlock::Reasoning { redacted }) => {
                entries.extend(redacted.into_iter().map(|index| ProviderContent::reasoning(PROVIDER, index)));
            }
            Some(OpenBlock::ServerTool { mut start, input }) => {
                start.input = if input.trim().is_empty() {
                    Value::Object(Map::new())
                } else {
                    serde_json::from_str(&input).unwrap_or(Value::String(input))
                };
                entries.push(ProviderContent::native(PROVIDER, server_tool_use_block(start)));
            }
            Some(OpenBlock::Native { key, block }) => {
                let mut whole = Map::new();
                whole.insert(key, block);
                entries.push(ProviderContent::native(PROVIDER, Value::Object(whole)));
            }
        }
        if let Some(position) = self.reasoning.iter().position(|(index, _)| *index == block) {
            let (_, reasoning) = self.reasoning.swap_remove(position);
            let index = self.next_reasoning_index();
            let detail = ReasoningDetail {
                kind: ReasoningDetailType::Text,
                text: Some(reasoning.text),
                signature: reasoning.signature,
                data: None,
                provider: Some(REASONING_PROVIDER.to_owned()),
            };
            self.push_delta(
                ChatCompletionDelta { reasoning_details: Some(vec![detail]), ..Default::default() },
                None,
                out,
            );
            entries.push(ProviderContent::reasoning(PROVIDER, index));
        }
        for entry in entries {
            self.order.push(entry);
        }
        if let Some(ready) = self.order.take_ready() {
            self.push_delta(
                ChatCompletionDelta { provider_content: Some(ready), ..Default::default() },
                None,
                out,
            );
        }
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

/// Adds a delta of a block kept whole: `toolResult` pieces become its `content` (consecutive text pieces
/// joined into one text item, as the one-shot block has them); for other kinds, objects merge key by key
/// and text pieces are appended.
fn add_native_delta(block: &mut Value, key: &str, delta: Value) {
    if key == "toolResult" {
        if !block.is_object() {
            *block = Value::Object(Map::new());
        }
        let pieces = match delta {
            Value::Array(pieces) => pieces,
            other => vec![other],
        };
        let Some(fields) = block.as_object_mut() else { return };
        let content = fields.entry("content").or_insert_with(|| Value::Array(Vec::new()));
        let Some(content) = content.as_array_mut() else { return };
        for piece in pieces {
            let text = piece.get("text").and_then(Value::as_str).map(str::to_owned);
            let last_text = content.last_mut().and_then(|last| last.get_mut("text"));
            match (text, last_text) {
                (Some(text), Some(Value::String(last))) => last.push_str(&text),
                _ => content.push(piece),
            }
        }
        return;
    }
    merge_delta(block, delta);
}

fn merge_delta(block: &mut Value, delta: Value) {
    match (block, delta) {
        (Value::Object(mine), Value::Object(theirs)) => {
            for (key, value) in theirs {
                match mine.get_mut(&key) {
                    Some(existing) => merge_delta(existing, value),
                    None => {
                        mine.insert(key, value);
                    }
                }
            }
        }
        (Value::String(mine), Value::String(theirs)) => mine.push_str(&theirs),
        (Value::Array(mine), Value::Array(theirs)) => mine.extend(theirs),
        (mine, theirs) => *mine = theirs,
    }
}

fn parse<T: DeserializeOwned>(event_type: &str, payload: &[u8]) -> LLMResult<T> {
    serde_json::from_slice(payload)
        .map_err(|error| LLMError::decode(PROVIDER_NAME, format_args!("`{event_type}` event: {error}")))
}

#[cfg(test)]
#[path = "stream_tests.rs"]
mod tests;
