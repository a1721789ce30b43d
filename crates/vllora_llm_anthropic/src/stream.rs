//! Anthropic stream events -> gateway chunks: [`AnthropicStreamDecoder`], the state machine the shared
//! driver ([`vllora_llm_http::ChunkStream`]) feeds one lent server-sent event at a time.
//!
//! Text arrives as `delta.content`, thinking as `delta.reasoning_content`, and each thinking block, whole
//! with its signature, as one `delta.reasoning_details` entry when the block ends (redacted blocks when they
//! start), so that a caller who keeps the details can send them back in the next turn. Tool calls become
//! OpenAI-style fragments: the first carries id and name, later ones pieces of the arguments, all with the
//! call's position in the turn as `index`. The last choice chunk carries the unified finish reason and
//! Anthropic's own `stop_reason` (`end_turn`, `pause_turn`, `refusal`...) as `raw_finish_reason`.

use vllora_llm_core::types::gateway::{
    BlockOrderRecorder, CHUNK_OBJECT, ChatCompletionChunk, ChatCompletionDelta, ChunkChoice, FinishReason,
    FunctionCallDelta, ProviderContent, Role, SharedStr, ToolCallDelta,
};
use vllora_llm_core::{LLMError, LLMResult};
use vllora_llm_http::{Chunks, EndOfBody, SseDecoder, SseEventRef, StreamDecoder};

use crate::error::stream_error;
use crate::response::{
    citations_native, is_code_execution_result, map_stop_reason, map_usage, redacted_detail, thinking_detail,
};
use crate::stream_wire::parse_stream_event;
use crate::{PROVIDER, PROVIDER_NAME};
use crate::wire::{BlockDelta, ContentBlock, StreamEvent, WireUsage};

/// What a content block in progress is.
#[derive(Debug)]
enum OpenBlock {
    /// Text, with its length so far and the citations its deltas added.
    Text {
        len: usize,
        citations: Vec<serde_json::Value>,
    },
    /// A tool call, with its position among this turn's calls.
    Tool {
        index: u32,
        /// The input `content_block_start` carried, as JSON text, until an `input_json_delta` brings a
        /// piece: a call without arguments streams none (or only empty ones), and its arguments must still
        /// add up to JSON (`{}`), as the official SDKs' accumulators give.
        unstreamed_input: Option<String>,
        /// The call's id, for the block order.
        id: String,
    },
    Thinking {
        text: String,
        signature: Option<String>,
    },
    /// A redacted thinking block (its detail went out when it started), at this reasoning index.
    Redacted {
        reasoning_index: usize,
    },
    /// A block with no OpenAI field (a server-tool call, its result, an MCP block...), kept whole; the
    /// input of a server-tool call streams as JSON pieces.
    Native {
        block: serde_json::Value,
        input_json: String,
    },
}

/// The state of one streamed message: the decoder of an Anthropic Messages stream.
#[derive(Debug, Default)]
pub(crate) struct AnthropicStreamDecoder {
    /// Shared by every chunk of the message, so handing them out does not allocate.
    id: SharedStr,
    model: SharedStr,
    started: bool,
    /// `message_stop` was seen (or the body ended after a stop reason): the answer is complete.
    finished: bool,
    /// An `error` event ended the stream.
    failed: bool,
    /// Open blocks by Anthropic's block index (a handful per message, so a vector is fastest).
    blocks: Vec<(u32, OpenBlock)>,
    tool_calls: u32,
    /// Reasoning details handed out so far (the index of the next one).
    reasoning_details: usize,
    /// The message's block order, handed out as `provider_content` once it is needed.
    order: BlockOrderRecorder,
    code_executions: u32,
    usage: WireUsage,
    stop_reason: Option<String>,
}

impl AnthropicStreamDecoder {
    /// A decoder waiting for `message_start`.
    pub(crate) fn new() -> Self {
        AnthropicStreamDecoder::default()
    }

    /// Feeds one event's `data` (read in place, never copied); the chunks it produces are appended to `out`.
    fn on_data(&mut self, data: &str, out: &mut Chunks) -> LLMResult<()> {
        let event = parse_stream_event(data)
            .map_err(|error| LLMError::decode(PROVIDER_NAME, format_args!("stream event: {error}")))?;
        match event {
            StreamEvent::MessageStart { message } => {
                self.id = message.id.into();
                self.model = message.model.into();
                self.usage.update(&message.usage);
                if !self.started {
                    self.started = true;
                    let delta = ChatCompletionDelta { role: Some(Role::Assistant), ..Default::default() };
                    out.push_back(self.choice_chunk(delta, None));
                }
            }
            StreamEvent::ContentBlockStart { index, content_block } => {
                self.start_block(index, content_block, out);
            }
            StreamEvent::ContentBlockDelta { index, delta } => self.block_delta(index, delta, out),
            StreamEvent::ContentBlockStop { index } => {
                let Some(position) = self.blocks.iter().position(|(open, _)| *open == index) else {
                    return Ok(());
                };
                let (_, block) = self.blocks.swap_remove(position);
                self.stop_block(block, out);
            }
            StreamEvent::MessageDelta { delta, usage } => {
                if delta.stop_reason.is_some() {
                    self.stop_reason = delta.stop_reason;
                }
                self.usage.update(&usage);
            }
            StreamEvent::MessageStop => self.finish(out),
            StreamEvent::Error { error } => {
                self.failed = true;
                return Err(stream_error(error.kind, error.message));
            }
            StreamEvent::Ping | StreamEvent::Unknown => {}
        }
        Ok(())
    }

    /// Emits the finish reason (with Anthropic's own as the raw one) and the usage chunk, once.
    fn finish(&mut self, out: &mut Chunks) {
        if self.finished {
            return;
        }
        self.finished = true;
        let finish_reason = Some(self.stop_reason.as_deref().map_or(FinishReason::Stop, map_stop_reason));
        let raw_finish_reason = self.stop_reason.as_deref().map(SharedStr::from);
        let choice = ChunkChoice {
            index: 0,
            delta: ChatCompletionDelta::default(),
            finish_reason,
            logprobs: None,
            raw_finish_reason,
        };
        out.push_back(self.chunk(vec![choice]));
        let mut usage_chunk = self.chunk(Vec::new());
        usage_chunk.usage = Some(map_usage(&self.usage, self.code_executions));
        out.push_back(usage_chunk);
    }

    /// A block ended: the reasoning detail of a thinking block, the rest of a call's arguments, and the
    /// block's place in the order.
    fn stop_block(&mut self, block: OpenBlock, out: &mut Chunks) {
        let entry = match block {
            OpenBlock::Thinking { text, signature } => {
                let delta = ChatCompletionDelta {
                    reasoning_details: Some(vec![thinking_detail(text, signature)]),
                    ..Default::default()
                };
                out.push_back(self.choice_chunk(delta, None));
                let index = self.reasoning_details;
                self.reasoning_details = self.reasoning_details.saturating_add(1);
                ProviderContent::reasoning(PROVIDER, index)
            }
            OpenBlock::Redacted { reasoning_index } => ProviderContent::reasoning(PROVIDER, reasoning_index),
            OpenBlock::Tool { index, unstreamed_input, id } => {
                if let Some(arguments) = unstreamed_input {
                    out.push_back(self.choice_chunk(arguments_delta(index, arguments), None));
                }
                ProviderContent::tool_call(PROVIDER, id)
            }
            OpenBlock::Text { len, citations } => {
                let citations = (!citations.is_empty()).then_some(serde_json::Value::Array(citations));
                ProviderContent::text(PROVIDER, len, citations_native(citations))
            }
            OpenBlock::Native { mut block, input_json } => {
                if !input_json.is_empty() {
                    let input =
                        serde_json::from_str(&input_json).unwrap_or(serde_json::Value::String(input_json));
                    if let Some(fields) = block.as_object_mut() {
                        fields.insert("input".to_owned(), input);
                    }
                }
                if is_code_execution_result(&block) {
                    self.code_executions = self.code_executions.saturating_add(1);
                }
                ProviderContent::native(PROVIDER, block)
            }
        };
        self.order.push(entry);
        if let Some(ready) = self.order.take_ready() {
            let delta = ChatCompletionDelta { provider_content: Some(ready), ..Default::default() };
            out.push_back(self.choice_chunk(delta, None));
        }
    }

    fn start_block(&mut self, index: u32, block: ContentBlock, out: &mut Chunks) {
        let open = match block {
            ContentBlock::Text { text, citations } => {
                let len = text.len();
                if !text.is_empty() {
                    out.push_back(self.choice_chunk(content_delta(text), None));
                }
                let citations = match citations {
                    Some(serde_json::Value::Array(list)) => list,
                    Some(other) => vec![other],
                    None => Vec::new(),
                };
                OpenBlock::Text { len, citations }
            }
            ContentBlock::ToolUse { id, name, input } => {
                let tool_index = self.tool_calls;
                self.tool_calls = self.tool_calls.saturating_add(1);
                let fragment = ToolCallDelta {
                    index: tool_index,
                    id: Some(id.clone()),
                    kind: Some("function".to_owned()),
                    function: Some(FunctionCallDelta { name: Some(name), arguments: Some(String::new()) }),
                    extra_content: None,
                };
                let delta = ChatCompletionDelta { tool_calls: Some(vec![fragment]), ..Default::default() };
                out.push_back(self.choice_chunk(delta, None));
                let unstreamed_input = match input {
                    serde_json::Value::Null => "{}".to_owned(),
                    input => input.to_string(),
                };
                OpenBlock::Tool { index: tool_index, unstreamed_input: Some(unstreamed_input), id }
            }
            ContentBlock::Thinking { thinking, signature } => {
                if !thinking.is_empty() {
                    let delta = ChatCompletionDelta {
                        reasoning_content: Some(thinking.clone()),
                        ..Default::default()
                    };
                    out.push_back(self.choice_chunk(delta, None));
                }
                OpenBlock::Thinking { text: thinking, signature: signature.filter(|value| !value.is_empty()) }
            }
            ContentBlock::RedactedThinking { data } => {
                let delta = ChatCompletionDelta {
                    reasoning_details: Some(vec![redacted_detail(data)]),
                    ..Default::default()
                };
                out.push_back(self.choice_chunk(delta, None));
                let reasoning_index = self.reasoning_details;
                self.reasoning_details = self.reasoning_details.saturating_add(1);
                OpenBlock::Redacted { reasoning_index }
            }
            ContentBlock::Native(block) => OpenBlock::Native { block, input_json: String::new() },
        };
        self.blocks.push((index, open));
    }

    fn block_delta(&mut self, index: u32, delta: BlockDelta, out: &mut Chunks) {
        let open = self.blocks.iter_mut().find(|(open, _)| *open == index).map(|(_, block)| block);
        let gateway_delta = match (open, delta) {
            (Some(OpenBlock::Text { len, .. }), BlockDelta::TextDelta { text }) if !text.is_empty() => {
                *len = len.saturating_add(text.len());
                content_delta(text)
            }
            (None, BlockDelta::TextDelta { text }) if !text.is_empty() => content_delta(text),
            (Some(OpenBlock::Text { citations, .. }), BlockDelta::CitationsDelta { citation }) => {
                citations.push(citation);
                return;
            }
            (Some(OpenBlock::Native { input_json, .. }), BlockDelta::InputJsonDelta { partial_json }) => {
                input_json.push_str(&partial_json);
                return;
            }
            (
                Some(OpenBlock::Tool { index, unstreamed_input, .. }),
                BlockDelta::InputJsonDelta { partial_json },
            ) if !partial_json.is_empty() => {
                // Streamed pieces replace the start's input, as in the official SDKs.
                *unstreamed_input = None;
                arguments_delta(*index, partial_json)
            }
            (Some(OpenBlock::Thinking { text, .. }), BlockDelta::ThinkingDelta { thinking })
                if !thinking.is_empty() =>
            {
                text.push_str(&thinking);
                ChatCompletionDelta { reasoning_content: Some(thinking), ..Default::default() }
            }
            (
                Some(OpenBlock::Thinking { signature, .. }),
                BlockDelta::SignatureDelta { signature: piece },
            ) => {
                signature.get_or_insert_with(String::new).push_str(&piece);
                return;
            }
            _ => return,
        };
        out.push_back(self.choice_chunk(gateway_delta, None));
    }

    fn chunk(&self, choices: Vec<ChunkChoice>) -> ChatCompletionChunk {
        ChatCompletionChunk {
            id: self.id.clone(),
            object: CHUNK_OBJECT.into(),
            created: 0,
            model: self.model.clone(),
            choices,
            ..Default::default()
        }
    }

    fn choice_chunk(
        &self,
        delta: ChatCompletionDelta,
        finish_reason: Option<FinishReason>,
    ) -> ChatCompletionChunk {
        self.chunk(vec![ChunkChoice {
            index: 0,
            delta,
            finish_reason,
            logprobs: None,
            raw_finish_reason: None,
        }])
    }
}

/// A fragment of a tool call's arguments.
fn arguments_delta(index: u32, arguments: String) -> ChatCompletionDelta {
    let fragment = ToolCallDelta {
        index,
        function: Some(FunctionCallDelta { name: None, arguments: Some(arguments) }),
        ..Default::default()
    };
    ChatCompletionDelta { tool_calls: Some(vec![fragment]), ..Default::default() }
}

fn content_delta(text: String) -> ChatCompletionDelta {
    ChatCompletionDelta { content: Some(text), ..Default::default() }
}

impl StreamDecoder for AnthropicStreamDecoder {
    type Framing = SseDecoder;
    type Item = ChatCompletionChunk;

    fn provider(&self) -> &str {
        PROVIDER_NAME
    }

    fn on_event(&mut self, event: SseEventRef<'_>, out: &mut Chunks) -> LLMResult<()> {
        // Anthropic names each event and repeats the name as the JSON `type`; the JSON is what counts.
        if event.data.is_empty() {
            return Ok(());
        }
        self.on_data(event.data, out)
    }

    fn is_complete(&self) -> bool {
        self.finished || self.failed
    }

    /// The body ended without `message_stop`: complete if Anthropic had said why it stopped (the finish
    /// and usage chunks follow), truncated otherwise.
    fn on_end(&mut self, out: &mut Chunks) -> LLMResult<EndOfBody> {
        if self.finished || self.failed {
            return Ok(EndOfBody::Complete);
        }
        if self.stop_reason.is_some() {
            self.finish(out);
            return Ok(EndOfBody::Complete);
        }
        Ok(EndOfBody::Truncated)
    }
}

#[cfg(test)]
impl AnthropicStreamDecoder {
    /// Whether `message_stop` has been seen.
    pub(crate) fn is_finished(&self) -> bool {
        self.finished
    }

    /// The stop reason as Anthropic wrote it, once known.
    pub(crate) fn raw_stop_reason(&self) -> Option<&str> {
        self.stop_reason.as_deref()
    }
}

#[cfg(test)]
#[path = "stream_tests.rs"]
mod tests;
