//! The Chat Completions stream decoder: a state machine fed one lent SSE event at a time by the one
//! stream driver ([`vllora_llm_http::ChunkStream`]), which turns what real servers send into the stream
//! every provider delivers (role on the first chunk, finish reason once per choice with the raw one beside
//! it, stable tool call indices, usage in a final chunk of its own).
//!
//! A server that answers a stream request with one JSON document gets its chunks made from the whole
//! response ([`chunks_from_response`]), read with [`read_document`] and handed out by the same decoder.

use std::pin::Pin;

use futures_core::Stream;
use vllora_llm_core::types::gateway::{
    CHUNK_OBJECT, ChatCompletionChunk, ChatCompletionDelta, ChatCompletionMessageWithFinishReason,
    ChunkChoice, FunctionCallDelta, Role, SharedStr, ToolCallDelta, Usage,
};
use vllora_llm_core::types::gateway::{ProviderContent, ProviderContentKind, ReasoningDetail};
use vllora_llm_core::{LLMError, LLMResult, Limit, ProviderId};
use vllora_llm_http::{
    BodyStream, Bytes, ChunkStream, Chunks, EndOfBody, Framing, SseDecoder, SseEventRef, StreamDecoder,
};

use crate::error;
use crate::response::{finish_reason, usage};
use crate::wire::{
    ChunkBlock, DeltaContent, StreamChoice, StreamChunk, StreamToolCall, WireStr, parse_stream_chunk,
    split_chunks,
};

/// The upstream index given to the legacy `function_call` of a stream, which has none of its own.
const LEGACY_CALL_INDEX: u32 = u32::MAX;

/// The Chat Completions stream decoder: fed one lent SSE event at a time by the driver, it turns what
/// real servers send into the stream every provider delivers.
#[derive(Debug)]
pub(crate) struct OpenAIStreamDecoder {
    provider: String,
    id: SharedStr,
    model: SharedStr,
    created: u64,
    system_fingerprint: Option<SharedStr>,
    service_tier: Option<SharedStr>,
    choices: Vec<ChoiceState>,
    usage: Option<Usage>,
    /// `[DONE]`, an error or the end of the body has been seen.
    done: bool,
    /// `[DONE]` gave a closing chunk; the usage chunk follows it.
    usage_pending: bool,
    /// The chunks of a whole response, for a server that answered a stream request with one document:
    /// handed out when the (empty) body ends.
    held: Option<Vec<ChatCompletionChunk>>,
}

#[derive(Debug)]
struct ChoiceState {
    index: u32,
    started: bool,
    finished: bool,
    calls: Vec<CallState>,
    /// How many calls the caller has seen (the next call's index).
    announced_calls: u32,
    /// The host sent `finish_reason: ""` (no finish) on this choice.
    said_empty_finish: bool,
    /// A content chunk of a kind no gateway field holds came: from then on every block is listed in
    /// `provider_content`, so the entries appended in order give the one-shot message's list.
    listing: bool,
    /// Bytes of text handed out before listing began, listed as one block when it begins.
    unlisted_text: usize,
    /// How many of the announced calls are listed.
    calls_listed: u32,
    /// OpenRouter reasoning blocks being streamed (fragments of text, then the signature), handed out
    /// whole once the answer begins, as the one-shot response has them.
    open_details: Vec<OpenDetail>,
    /// How many reasoning blocks the caller has seen.
    details_emitted: usize,
}

/// A reasoning block being put together.
#[derive(Debug)]
struct OpenDetail {
    /// OpenRouter's `index` of the block.
    key: Option<u64>,
    detail: ReasoningDetail,
    /// The block's other fields (`format`, `id`, `index`).
    native: Option<serde_json::Map<String, serde_json::Value>>,
}

/// One entry of a choice's block order, before it is tagged with the provider.
#[derive(Debug)]
enum BlockEntry {
    Text(usize),
    Native(serde_json::Value),
    ToolCall(String),
    Reasoning(usize, Option<serde_json::Value>),
}

/// A tool call of the turn.
#[derive(Debug)]
struct CallState {
    upstream_index: Option<u32>,
    id: String,
    named: bool,
    /// The index the caller sees, given when the call first has something to show.
    caller_index: Option<u32>,
}

impl OpenAIStreamDecoder {
    /// A new stream from `provider` (the name its errors carry).
    pub(crate) fn new(provider: impl Into<String>) -> Self {
        OpenAIStreamDecoder {
            provider: provider.into(),
            id: SharedStr::default(),
            model: SharedStr::default(),
            created: 0,
            system_fingerprint: None,
            service_tier: None,
            choices: Vec::new(),
            usage: None,
            done: false,
            usage_pending: false,
            held: None,
        }
    }

    /// A decoder with nothing left to read: `chunks` (those of a whole response) are handed out when the
    /// body, already read, ends.
    pub(crate) fn ready(provider: impl Into<String>, chunks: Vec<ChatCompletionChunk>) -> Self {
        OpenAIStreamDecoder { held: Some(chunks), ..OpenAIStreamDecoder::new(provider) }
    }

    /// Feeds one event (its `event:` name, when it has one, and its data); returns the chunk it makes,
    /// if any. Usage is held back until the end.
    #[cfg(test)]
    pub(crate) fn on_data(
        &mut self,
        event: Option<&str>,
        data: &str,
    ) -> LLMResult<Option<ChatCompletionChunk>> {
        let mut out = Chunks::new();
        self.decode(event, data, &mut out)?;
        Ok(out.pop_front())
    }

    /// Feeds one event (its `event:` name, when it has one, and its data); the chunk it makes, if any,
    /// goes to `out` (built in place there: a chunk returned is one more copy). Usage is held back until
    /// the end.
    fn decode(&mut self, event: Option<&str>, data: &str, out: &mut Chunks) -> LLMResult<()> {
        if self.done {
            return Ok(());
        }
        // An event that starts and ends its JSON object has nothing to trim (the common case: `trim`
        // walks both ends looking for Unicode whitespace).
        let data = match data.as_bytes() {
            [b'{', .., b'}'] => data,
            _ => data.trim(),
        };
        if data == "[DONE]" {
            self.done = true;
            if let Some(closing) = self.closing_chunk() {
                self.usage_pending = true;
                out.push_back(closing);
                return Ok(());
            }
            out.extend(self.usage_chunk());
            return Ok(());
        }
        if data.is_empty() {
            return Ok(());
        }
        if event == Some("error") {
            self.done = true;
            let value =
                serde_json::from_str(data).unwrap_or_else(|_| serde_json::Value::String(data.to_owned()));
            let error_value = value.get("error").cloned().unwrap_or(value);
            return Err(error::api_error_from_value(&self.provider, None, &error_value).into());
        }
        let mut wire = StreamChunk::default();
        parse_stream_chunk(data, &mut wire).map_err(|error| {
            self.done = true;
            LLMError::decode(
                &self.provider,
                format_args!("stream event is not a chat completion chunk: {error}"),
            )
        })?;
        if let Some(error_value) = &wire.error {
            self.done = true;
            return Err(error::api_error_from_value(&self.provider, None, error_value).into());
        }
        self.remember_metadata(&wire);
        if let Some(wire_usage) = wire.usage.or(wire.x_groq.as_ref().and_then(|groq| groq.usage)) {
            self.usage = Some(usage(wire_usage));
        }
        let count = wire.choices.len();
        let mut choices: Vec<ChunkChoice> = Vec::new();
        // Read in place: the wire choices are large, and each move of one is a copy.
        for choice in wire.choices.iter_mut() {
            self.choice(choice, &mut choices, count);
        }
        if !choices.is_empty() {
            out.push_back(self.chunk(choices, None));
        }
        Ok(())
    }

    fn remember_metadata(&mut self, wire: &StreamChunk<'_>) {
        if let Some(id) = wire.id.as_ref().filter(|id| !id.0.is_empty()) {
            if !same_text(&self.id, id.as_str()) {
                self.id = id.as_str().into();
            }
        }
        if let Some(model) = wire.model.as_ref().filter(|model| !model.0.is_empty()) {
            if !same_text(&self.model, model.as_str()) {
                self.model = model.as_str().into();
            }
        }
        if wire.created != 0 {
            self.created = wire.created;
        }
        // OpenAI repeats these on every event: they are copied only when they change.
        if let Some(fingerprint) = &wire.system_fingerprint {
            if !self.system_fingerprint.as_deref().is_some_and(|held| same_text(held, fingerprint.as_str())) {
                self.system_fingerprint = Some(fingerprint.as_str().into());
            }
        }
        if let Some(tier) = &wire.service_tier {
            if !self.service_tier.as_deref().is_some_and(|held| same_text(held, tier.as_str())) {
                self.service_tier = Some(tier.as_str().into());
            }
        }
    }

    /// For the choices that never finished but whose host said `finish_reason: ""`: one chunk carrying
    /// that raw `""` (and no unified reason), so what the host said is not lost.
    fn closing_chunk(&mut self) -> Option<ChatCompletionChunk> {
        let choices: Vec<ChunkChoice> = self
            .choices
            .iter_mut()
            .filter(|choice| {
                choice.started
                    && !choice.finished
                    && (choice.said_empty_finish || !choice.open_details.is_empty())
            })
            .map(|choice| {
                let said_empty = std::mem::take(&mut choice.said_empty_finish);
                let mut order = Vec::new();
                let reasoning_details = choice.flush_details(choice.announced_calls, &mut order);
                let provider_content = (!order.is_empty()).then(|| {
                    let id = ProviderId::proxy(self.provider.as_str());
                    order
                        .into_iter()
                        .filter_map(|entry| match entry {
                            BlockEntry::Reasoning(index, native) => Some(ProviderContent {
                                provider: id.clone(),
                                kind: ProviderContentKind::Reasoning { index, native },
                            }),
                            _ => None,
                        })
                        .collect()
                });
                ChunkChoice {
                    index: choice.index,
                    delta: ChatCompletionDelta { reasoning_details, provider_content, ..Default::default() },
                    raw_finish_reason: said_empty.then(|| SharedStr::from("")),
                    ..Default::default()
                }
            })
            .collect();
        (!choices.is_empty()).then(|| self.chunk(choices, None))
    }

    fn usage_chunk(&mut self) -> Option<ChatCompletionChunk> {
        let usage = self.usage.take()?;
        Some(self.chunk(Vec::new(), Some(usage)))
    }

    fn chunk(&self, choices: Vec<ChunkChoice>, usage: Option<Usage>) -> ChatCompletionChunk {
        ChatCompletionChunk {
            id: self.id.clone(),
            object: CHUNK_OBJECT.into(),
            created: self.created,
            model: self.model.clone(),
            choices,
            usage,
            system_fingerprint: self.system_fingerprint.clone(),
            service_tier: self.service_tier.clone(),
        }
    }

    // Kept out of line: inlined into `on_data`, its locals become a dozen more struct copies per event
    // (callgrind: +0.2k instructions per event).
    /// The gateway choice `wire` makes, if it has something to say, pushed to `choices` (sized once, for
    /// `count` choices, on the first one: most events have exactly one).
    #[inline(never)]
    fn choice(&mut self, wire: &mut StreamChoice<'_>, choices: &mut Vec<ChunkChoice>, count: usize) {
        let index = wire.index.unwrap_or(0);
        let position = match self.choices.iter().position(|choice| choice.index == index) {
            Some(position) => position,
            None => {
                if self.choices.is_empty() {
                    // Most answers have one choice: room for four would be kept as long as the stream is.
                    self.choices.reserve_exact(1);
                }
                self.choices.push(ChoiceState {
                    index,
                    started: false,
                    finished: false,
                    calls: Vec::new(),
                    announced_calls: 0,
                    said_empty_finish: false,
                    listing: false,
                    unlisted_text: 0,
                    calls_listed: 0,
                    open_details: Vec::new(),
                    details_emitted: 0,
                });
                self.choices.len().saturating_sub(1)
            }
        };
        let Some(state) = self.choices.get_mut(position) else { return };
        let delta = &mut wire.delta;
        let announced = delta.role.is_some();
        let announced_before = state.announced_calls;
        // Most events carry no call: then no list is built (collecting an empty chain still costs).
        let tool_calls: Vec<ToolCallDelta> = if delta.tool_calls.is_none() && delta.function_call.is_none() {
            Vec::new()
        } else {
            // The legacy single function call streams as a call of its own (a placeholder one is dropped).
            let legacy = delta.function_call.take().map(|function| StreamToolCall {
                index: Some(LEGACY_CALL_INDEX),
                id: None,
                function: Some(function),
                extra_content: None,
            });
            delta
                .tool_calls
                .take()
                .unwrap_or_default()
                .into_iter()
                .chain(legacy)
                .filter_map(|call| state.tool_call(call))
                .collect()
        };
        let mut order = Vec::new();
        let detail_text = match delta.reasoning_details.as_deref() {
            Some(fragments) => state.merge_details(&self.provider, Some(fragments)),
            None => None,
        };
        let answer_begins = delta.content.as_ref().is_some_and(|content| match content {
            DeltaContent::Text(text) => !text.0.is_empty(),
            DeltaContent::Chunks(chunks) => !chunks.is_empty(),
        }) || !tool_calls.is_empty()
            || delta.refusal.as_ref().is_some_and(|refusal| !refusal.0.is_empty())
            || wire.finish_reason.as_ref().is_some_and(|reason| !reason.0.is_empty());
        // Checked here: nearly every event has no reasoning block open, and the call alone costs.
        let reasoning_details = if answer_begins && !state.open_details.is_empty() {
            state.flush_details(announced_before, &mut order)
        } else {
            None
        };
        let (content, thinking) = match delta.content.take() {
            None => (None, None),
            Some(DeltaContent::Text(content)) => {
                let content = text(Some(content));
                state.text_order(content.as_deref().map_or(0, str::len), &mut order);
                (content, None)
            }
            Some(DeltaContent::Chunks(chunks)) => {
                let split = split_chunks(chunks);
                if split.blocks.is_empty() {
                    state.text_order(split.text.as_deref().map_or(0, str::len), &mut order);
                } else {
                    state.chunk_order(split.blocks, announced_before, &mut order);
                }
                (split.text.filter(|text| !text.is_empty()), split.thinking.filter(|text| !text.is_empty()))
            }
        };
        if state.listing {
            state.list_calls(state.announced_calls, &mut order);
        }
        let provider_content = (!order.is_empty()).then(|| {
            let id = ProviderId::proxy(self.provider.as_str());
            order
                .into_iter()
                .map(|entry| match entry {
                    BlockEntry::Text(len) => ProviderContent::text(id.clone(), len, None),
                    BlockEntry::Native(data) => ProviderContent::native(id.clone(), data),
                    BlockEntry::ToolCall(call) => ProviderContent::tool_call(id.clone(), call),
                    BlockEntry::Reasoning(index, native) => ProviderContent {
                        provider: id.clone(),
                        kind: ProviderContentKind::Reasoning { index, native },
                    },
                })
                .collect()
        });
        let reasoning_content = text(delta.reasoning_content.take())
            .or_else(|| text(delta.reasoning.take()))
            .or(thinking)
            .or(detail_text);
        let tool_calls = (!tool_calls.is_empty()).then_some(tool_calls);
        let refusal = text(delta.refusal.take());
        let annotations = delta.annotations.take().filter(|annotations| !annotations.is_empty());
        // The first finish reason of a choice is its finish reason; servers that repeat it are not echoed.
        let finish =
            finish_reason(wire.finish_reason.as_ref().map(WireStr::as_str)).filter(|_| !state.finished);
        if finish.is_some() {
            state.finished = true;
        }
        state.said_empty_finish |= wire.finish_reason.as_ref().is_some_and(|raw| raw.0.is_empty());
        let has_payload = content.is_some()
            || reasoning_content.is_some()
            || reasoning_details.is_some()
            || annotations.is_some()
            || provider_content.is_some()
            || tool_calls.is_some()
            || refusal.is_some()
            || finish.is_some()
            || wire.logprobs.is_some();
        if !has_payload && (state.started || !announced) {
            return;
        }
        let role = if state.started {
            None
        } else {
            state.started = true;
            Some(delta.role.take().map_or(Role::Assistant, |role| Role::from(role.as_str())))
        };
        // OpenAI's own spelling is the unified one; any other value is kept as it came.
        let raw_finish_reason = finish.as_ref().map(|reason| SharedStr::from(reason.as_str()));
        if choices.capacity() == 0 {
            *choices = Vec::with_capacity(count);
        }
        // The delta is made in the push: made beforehand, it was one more copy of it.
        choices.push(ChunkChoice {
            index,
            delta: ChatCompletionDelta {
                role,
                content,
                reasoning_content,
                reasoning_details,
                tool_calls,
                refusal,
                provider_content,
                annotations,
            },
            finish_reason: finish,
            logprobs: wire.logprobs.take(),
            raw_finish_reason,
        });
    }
}

impl ChoiceState {
    /// Adds OpenRouter's reasoning fragments to the blocks being put together; returns their text when
    /// the host sent it nowhere else (no `reasoning` beside them is checked by the caller).
    fn merge_details(&mut self, provider: &str, fragments: Option<&[serde_json::Value]>) -> Option<String> {
        let mut text = String::new();
        for raw in fragments.unwrap_or_default() {
            let Some(fragment) = crate::response::reasoning_detail(provider, raw) else { continue };
            let key = raw.get("index").and_then(serde_json::Value::as_u64);
            let native: serde_json::Map<String, serde_json::Value> = raw
                .as_object()
                .into_iter()
                .flatten()
                .filter(|(name, _)| {
                    !matches!(name.as_str(), "type" | "text" | "summary" | "signature" | "data")
                })
                .map(|(name, value)| (name.clone(), value.clone()))
                .collect();
            text.push_str(fragment.text.as_deref().unwrap_or_default());
            let open = self
                .open_details
                .iter_mut()
                .rev()
                .find(|open| open.key == key && open.detail.kind == fragment.kind && key.is_some());
            match open {
                Some(open) => {
                    if let Some(piece) = &fragment.text {
                        open.detail.text.get_or_insert_with(String::new).push_str(piece);
                    }
                    if fragment.signature.is_some() {
                        open.detail.signature = fragment.signature;
                    }
                    if fragment.data.is_some() {
                        open.detail.data = fragment.data;
                    }
                    if !native.is_empty() {
                        open.native.get_or_insert_with(serde_json::Map::new).extend(native);
                    }
                }
                None => self.open_details.push(OpenDetail {
                    key,
                    detail: fragment,
                    native: (!native.is_empty()).then_some(native),
                }),
            }
        }
        (!text.is_empty()).then_some(text)
    }

    /// The reasoning blocks put together so far, whole; listed in `provider_content` when they carry
    /// fields of their own (or listing has begun).
    fn flush_details(
        &mut self,
        announced_before: u32,
        order: &mut Vec<BlockEntry>,
    ) -> Option<Vec<ReasoningDetail>> {
        if self.open_details.is_empty() {
            return None;
        }
        let open = std::mem::take(&mut self.open_details);
        if !self.listing && open.iter().any(|open| open.native.is_some()) {
            self.listing = true;
            if self.unlisted_text > 0 {
                order.push(BlockEntry::Text(std::mem::take(&mut self.unlisted_text)));
            }
            self.list_calls(announced_before, order);
        }
        let mut details = Vec::with_capacity(open.len());
        for block in open {
            if self.listing {
                order.push(BlockEntry::Reasoning(
                    self.details_emitted,
                    block.native.map(serde_json::Value::Object),
                ));
            }
            self.details_emitted = self.details_emitted.saturating_add(1);
            details.push(block.detail);
        }
        Some(details)
    }

    /// Text of `len` bytes: listed once listing has begun, else counted for when it does.
    fn text_order(&mut self, len: usize, order: &mut Vec<BlockEntry>) {
        if len == 0 {
            return;
        }
        if self.listing {
            order.push(BlockEntry::Text(len));
        } else {
            self.unlisted_text = self.unlisted_text.saturating_add(len);
        }
    }

    /// Lists the announced calls below index `up_to` not listed yet, in the order the caller saw them.
    fn list_calls(&mut self, up_to: u32, order: &mut Vec<BlockEntry>) {
        let mut unlisted: Vec<(u32, &CallState)> = self
            .calls
            .iter()
            .filter_map(|call| Some((call.caller_index?, call)))
            .filter(|(index, _)| *index >= self.calls_listed && *index < up_to)
            .collect();
        unlisted.sort_by_key(|(index, _)| *index);
        order.extend(unlisted.into_iter().map(|(_, call)| BlockEntry::ToolCall(call.id.clone())));
        self.calls_listed = self.calls_listed.max(up_to);
    }

    /// Chunks of which one has no gateway field: listing begins (the text and calls before them first).
    fn chunk_order(&mut self, blocks: Vec<ChunkBlock>, announced_before: u32, order: &mut Vec<BlockEntry>) {
        if !self.listing {
            self.listing = true;
            if self.unlisted_text > 0 {
                order.push(BlockEntry::Text(std::mem::take(&mut self.unlisted_text)));
            }
            self.list_calls(announced_before, order);
        }
        order.extend(blocks.into_iter().map(|block| match block {
            ChunkBlock::Text(len) => BlockEntry::Text(len),
            ChunkBlock::Native(data) => BlockEntry::Native(data),
        }));
    }

    /// Gives each call of the turn a stable index, its id and name on its first fragment only.
    fn tool_call(&mut self, wire: StreamToolCall<'_>) -> Option<ToolCallDelta> {
        let id = wire.id.as_ref().map(WireStr::as_str).filter(|id| !id.is_empty());
        let function = wire.function.unwrap_or_default();
        let name = text(function.name);
        let arguments = text(function.arguments);
        let existing = match (id, wire.index) {
            // Some servers repeat the id on every fragment, others reuse index 0 for every call.
            (Some(id), _) => self.calls.iter().rposition(|call| call.id == id),
            (None, Some(index)) => self.calls.iter().rposition(|call| call.upstream_index == Some(index)),
            // Without id or index, a second name can only start another call.
            (None, None) => self
                .calls
                .len()
                .checked_sub(1)
                .filter(|&last| name.is_none() || self.calls.get(last).is_some_and(|call| !call.named)),
        };
        let position = match existing {
            Some(position) => position,
            None => {
                // A call needs an id to be answered; servers that send none get one made up.
                let id = id.map_or_else(|| format!("call_{}", self.calls.len()), str::to_owned);
                self.calls.push(CallState {
                    upstream_index: wire.index,
                    id,
                    named: false,
                    caller_index: None,
                });
                self.calls.len().saturating_sub(1)
            }
        };
        let call = self.calls.get_mut(position)?;
        let name = name.filter(|_| !call.named);
        call.named |= name.is_some();
        if name.is_none() && arguments.is_none() && wire.extra_content.is_none() {
            // Nothing yet (a placeholder with an empty name and arguments): the caller sees the call only
            // once it has a name or arguments, so no call without a name is ever handed out.
            return None;
        }
        let (index, first) = match call.caller_index {
            Some(index) => (index, false),
            None => {
                let index = self.announced_calls;
                self.announced_calls = self.announced_calls.saturating_add(1);
                call.caller_index = Some(index);
                (index, true)
            }
        };
        Some(ToolCallDelta {
            index,
            id: first.then(|| call.id.clone()),
            kind: first.then(|| "function".to_owned()),
            function: Some(FunctionCallDelta { name, arguments }),
            extra_content: wire.extra_content,
        })
    }
}

impl StreamDecoder for OpenAIStreamDecoder {
    type Framing = SseDecoder;
    type Item = ChatCompletionChunk;

    fn provider(&self) -> &str {
        &self.provider
    }

    fn on_event(&mut self, event: SseEventRef<'_>, out: &mut Chunks) -> LLMResult<()> {
        self.decode(event.event, event.data, out)?;
        // After `[DONE]`'s closing chunk, the usage comes last, in a chunk of its own.
        if std::mem::take(&mut self.usage_pending) {
            out.extend(self.usage_chunk());
        }
        Ok(())
    }

    /// `[DONE]` (or an error event) has been seen.
    fn is_complete(&self) -> bool {
        self.done
    }

    /// The usage chunk, or [`EndOfBody::Truncated`] when no choice finished.
    fn on_end(&mut self, out: &mut Chunks) -> LLMResult<EndOfBody> {
        if let Some(held) = self.held.take() {
            self.done = true;
            out.extend(held);
            return Ok(EndOfBody::Complete);
        }
        if self.done {
            return Ok(EndOfBody::Complete);
        }
        self.done = true;
        if !self.choices.iter().any(|choice| choice.finished) {
            return Ok(EndOfBody::Truncated);
        }
        out.extend(self.closing_chunk());
        out.extend(self.usage_chunk());
        Ok(EndOfBody::Complete)
    }
}

/// The chunks a stream would have carried for a whole response: what a server that ignores
/// `stream: true` and answers in one JSON document gets turned into. One chunk per choice, then usage.
pub(crate) fn chunks_from_response(
    result: ChatCompletionMessageWithFinishReason,
) -> Vec<ChatCompletionChunk> {
    let response = result.response;
    let id = SharedStr::from(response.id.as_str());
    let model = SharedStr::from(response.model.as_str());
    let system_fingerprint = response.system_fingerprint.as_deref().map(SharedStr::from);
    let service_tier = response.service_tier.as_deref().map(SharedStr::from);
    let chunk = |choices: Vec<ChunkChoice>, usage: Option<Usage>| ChatCompletionChunk {
        id: id.clone(),
        object: CHUNK_OBJECT.into(),
        created: response.created,
        model: model.clone(),
        choices,
        usage,
        system_fingerprint: system_fingerprint.clone(),
        service_tier: service_tier.clone(),
    };
    let mut chunks: Vec<ChatCompletionChunk> = response
        .choices
        .iter()
        .map(|choice| {
            let message = &choice.message;
            let tool_calls: Vec<ToolCallDelta> = message
                .tool_calls
                .iter()
                .flatten()
                .enumerate()
                .map(|(position, call)| ToolCallDelta {
                    index: u32::try_from(position).unwrap_or(u32::MAX),
                    id: Some(call.id.clone()),
                    kind: Some(call.kind.clone()),
                    function: Some(FunctionCallDelta {
                        name: Some(call.function.name.clone()),
                        arguments: Some(call.function.arguments.clone()),
                    }),
                    extra_content: call.extra_content.clone(),
                })
                .collect();
            let delta = ChatCompletionDelta {
                role: Some(Role::Assistant),
                content: message.content.as_ref().and_then(|content| content.as_string()),
                reasoning_content: message.reasoning_content.clone(),
                reasoning_details: message.reasoning_details.clone(),
                tool_calls: (!tool_calls.is_empty()).then_some(tool_calls),
                refusal: message.refusal.clone(),
                provider_content: message.provider_content.clone(),
                annotations: message.annotations.clone(),
            };
            let finish_reason = choice.finish_reason.clone();
            let raw_finish_reason = finish_reason.as_ref().map(|reason| SharedStr::from(reason.as_str()));
            chunk(
                vec![ChunkChoice {
                    index: choice.index,
                    delta,
                    finish_reason,
                    logprobs: choice.logprobs.clone(),
                    raw_finish_reason,
                }],
                None,
            )
        })
        .collect();
    if let Some(usage) = response.usage {
        chunks.push(chunk(Vec::new(), Some(usage)));
    }
    chunks
}

/// A whole body as one event, at its end: the framing of a document read by the driver.
#[derive(Debug)]
pub(crate) struct WholeBody {
    body: Vec<u8>,
    limit: usize,
    ended: bool,
}

impl Framing for WholeBody {
    type Event<'a>
        = Bytes
    where
        Self: 'a;

    fn push(&mut self, bytes: &[u8]) -> LLMResult<()> {
        if self.body.len().saturating_add(bytes.len()) > self.limit {
            return Err(LLMError::LimitExceeded { limit: Limit::ResponseBody, max_bytes: self.limit });
        }
        self.body.extend_from_slice(bytes);
        Ok(())
    }

    fn next_event(&mut self) -> LLMResult<Option<Bytes>> {
        Ok(None)
    }

    fn finish(&mut self) -> LLMResult<Option<Bytes>> {
        if self.ended {
            return Ok(None);
        }
        self.ended = true;
        Ok(Some(Bytes::from(std::mem::take(&mut self.body))))
    }
}

/// Hands out the whole body once it has ended.
#[derive(Debug)]
pub(crate) struct Document {
    provider: String,
    read: bool,
}

impl StreamDecoder for Document {
    type Framing = WholeBody;
    type Item = Bytes;

    fn provider(&self) -> &str {
        &self.provider
    }

    fn on_event(&mut self, body: Bytes, out: &mut Chunks<Bytes>) -> LLMResult<()> {
        self.read = true;
        out.push_back(body);
        Ok(())
    }

    fn is_complete(&self) -> bool {
        self.read
    }

    fn on_end(&mut self, _out: &mut Chunks<Bytes>) -> LLMResult<EndOfBody> {
        // However short, a body that ends is the whole document.
        Ok(EndOfBody::Complete)
    }
}

/// Reads a whole body (more than `limit` bytes is [`LLMError::LimitExceeded`]) with the shipped driver,
/// for a server that answered a stream request with one JSON document. Returns the document and the
/// body's spent stream, which yields nothing more: what a decoder holding ready items
/// ([`OpenAIStreamDecoder::ready`]) runs over.
pub(crate) async fn read_document(
    body: BodyStream,
    limit: usize,
    provider: &str,
) -> LLMResult<(Bytes, BodyStream)> {
    let framing = WholeBody { body: Vec::new(), limit, ended: false };
    let mut reader = ChunkStream::new(body, framing, Document { provider: provider.to_owned(), read: false });
    let document = std::future::poll_fn(|context| Pin::new(&mut reader).poll_next(context)).await;
    let document = document.transpose()?.unwrap_or_default();
    Ok((document, Box::pin(reader)))
}

/// `a == b`, comparing strings of 4 to 16 bytes (the model, fingerprint and tier every event repeats)
/// with two loads from each end rather than a call to `memcmp`.
#[inline]
fn same_text(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    // The two loads overlap (or meet) for these lengths, so together they cover every byte.
    if (8..=16).contains(&a.len()) {
        let ends = |text: &[u8]| (text.first_chunk::<8>().copied(), text.last_chunk::<8>().copied());
        return ends(a) == ends(b);
    }
    if (4..8).contains(&a.len()) {
        let ends = |text: &[u8]| (text.first_chunk::<4>().copied(), text.last_chunk::<4>().copied());
        return ends(a) == ends(b);
    }
    a == b
}

/// Non-empty text, owned.
fn text(value: Option<WireStr<'_>>) -> Option<String> {
    value.filter(|text| !text.0.is_empty()).map(|text| text.0.into_owned())
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};
    use vllora_llm_http::decode_pieces;
    use vllora_llm_testkit::{golden, golden_cases, split_at, split_points};

    use super::*;

    const STREAMS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/streams");

    /// The chat stream fixtures: raw bodies (`<case>.openai.sse`) and what they condense to
    /// (`<case>.expected.json`).
    const CASES: usize = 19;

    /// `same_text` is `==` at every length and wherever two strings differ.
    #[test]
    fn same_text_is_string_equality() {
        for len in 0..24 {
            let text: String = (0..len).map(|i| char::from(b'a' + (i % 26) as u8)).collect();
            assert!(same_text(&text, &text.clone()), "{len}");
            assert!(!same_text(&text, &format!("{text}x")), "{len}");
            for at in 0..len {
                let mut other = text.clone().into_bytes();
                other[at] = b'#';
                let other = String::from_utf8(other).unwrap_or_default();
                assert!(!same_text(&text, &other), "{len} {at}");
            }
        }
    }

    /// What the caller receives when the body arrives in `pieces`, through the shipped driver.
    fn replay(pieces: &[&[u8]]) -> Vec<Result<ChatCompletionChunk, LLMError>> {
        let decoder = OpenAIStreamDecoder::new("openai");
        let (chunks, error) = decode_pieces(SseDecoder::new(1 << 20), decoder, pieces.iter().copied());
        chunks.into_iter().map(Ok).chain(error.map(Err)).collect()
    }

    /// The rules every provider's stream follows.
    fn assert_stream_rules(name: &str, items: &[Result<ChatCompletionChunk, LLMError>]) {
        let chunks: Vec<&ChatCompletionChunk> = items.iter().filter_map(|item| item.as_ref().ok()).collect();
        let errors = items.iter().filter(|item| item.is_err()).count();
        assert!(errors <= 1, "{name}: at most one error");
        if errors == 1 {
            assert!(items.last().is_some_and(Result::is_err), "{name}: an error ends the stream");
        }
        let mut seen_choices: Vec<u32> = Vec::new();
        let mut finished: Vec<u32> = Vec::new();
        let mut call_ids: Vec<(u32, u32)> = Vec::new();
        for (position, chunk) in chunks.iter().enumerate() {
            assert_eq!(chunk.object, "chat.completion.chunk");
            if chunk.usage.is_some() {
                assert!(chunk.choices.is_empty(), "{name}: usage comes in a chunk of its own");
                assert_eq!(position, chunks.len() - 1, "{name}: the usage chunk is the last");
            }
            for choice in &chunk.choices {
                let first = !seen_choices.contains(&choice.index);
                assert_eq!(
                    choice.delta.role.is_some(),
                    first,
                    "{name}: role on the first chunk of a choice only"
                );
                if first {
                    assert_eq!(choice.delta.role, Some(Role::Assistant));
                    seen_choices.push(choice.index);
                }
                assert!(!finished.contains(&choice.index), "{name}: nothing after a choice's finish reason");
                if choice.finish_reason.is_some() {
                    finished.push(choice.index);
                }
                let raw = choice.raw_finish_reason.as_ref().map(SharedStr::as_str);
                let unified = choice.finish_reason.as_ref().map(|reason| reason.as_str());
                assert!(
                    raw == unified || (raw == Some("") && unified.is_none()),
                    "{name}: the raw finish reason beside the unified one"
                );
                for call in choice.delta.tool_calls.iter().flatten() {
                    let key = (choice.index, call.index);
                    let first_fragment = !call_ids.contains(&key);
                    let named = call.function.as_ref().and_then(|function| function.name.as_ref()).is_some();
                    assert_eq!(
                        call.id.is_some(),
                        first_fragment,
                        "{name}: id only on a call's first fragment"
                    );
                    assert!(first_fragment || !named, "{name}: name only on a call's first fragment");
                    if first_fragment {
                        assert_eq!(
                            call.index as usize,
                            call_ids.iter().filter(|(index, _)| *index == choice.index).count()
                        );
                        call_ids.push(key);
                    }
                }
            }
        }
    }

    /// The stream condensed: per choice the joined text, calls and finish reason; usage; the error.
    fn summary(items: &[Result<ChatCompletionChunk, LLMError>]) -> Value {
        let mut choices: Vec<Value> = Vec::new();
        let (mut id, mut model, mut usage, mut error) =
            (String::new(), String::new(), Value::Null, Value::Null);
        for item in items {
            let chunk = match item {
                Ok(chunk) => chunk,
                Err(failure) => {
                    error = match failure {
                        LLMError::Api(api) => json!({
                            "kind": "api", "status": api.status, "type": api.error_type, "retryable": api.retryable
                        }),
                        LLMError::Connection { .. } => json!({"kind": "connection"}),
                        other => json!({"kind": format!("{other:?}")}),
                    };
                    continue;
                }
            };
            chunk.id.as_str().clone_into(&mut id);
            chunk.model.as_str().clone_into(&mut model);
            if let Some(reported) = chunk.usage {
                usage = json!({
                    "prompt_tokens": reported.prompt_tokens, "completion_tokens": reported.completion_tokens,
                    "total_tokens": reported.total_tokens, "cached_tokens": reported.cached_tokens(),
                    "reasoning_tokens": reported.reasoning_tokens()
                });
            }
            for choice in &chunk.choices {
                let position = match choices.iter().position(|entry| entry["index"] == json!(choice.index)) {
                    Some(position) => position,
                    None => {
                        choices.push(
                            json!({"index": choice.index, "content": null, "reasoning": null, "refusal": null,
                            "tool_calls": [], "finish_reason": null, "logprob_tokens": []}),
                        );
                        choices.len() - 1
                    }
                };
                let entry = &mut choices[position];
                let mut append = |field: &str, text: &Option<String>| {
                    if let Some(text) = text {
                        let joined = format!("{}{text}", entry[field].as_str().unwrap_or_default());
                        entry[field] = json!(joined);
                    }
                };
                append("content", &choice.delta.content);
                append("reasoning", &choice.delta.reasoning_content);
                append("refusal", &choice.delta.refusal);
                for call in choice.delta.tool_calls.iter().flatten() {
                    let calls = entry["tool_calls"].as_array_mut().map(std::mem::take).unwrap_or_default();
                    let mut calls = calls;
                    let function = call.function.clone().unwrap_or_default();
                    match calls.iter_mut().find(|known| known["index"] == json!(call.index)) {
                        Some(known) => {
                            let joined = format!(
                                "{}{}",
                                known["arguments"].as_str().unwrap_or_default(),
                                function.arguments.unwrap_or_default()
                            );
                            known["arguments"] = json!(joined);
                        }
                        None => calls.push(json!({"index": call.index, "id": call.id, "name": function.name,
                            "arguments": function.arguments.unwrap_or_default()})),
                    }
                    entry["tool_calls"] = json!(calls);
                }
                if let Some(reason) = &choice.finish_reason {
                    entry["finish_reason"] = json!(reason.as_str());
                }
                for token in choice.logprobs.iter().flat_map(|logprobs| logprobs.content.iter().flatten()) {
                    if let Some(tokens) = entry["logprob_tokens"].as_array_mut() {
                        tokens.push(json!(token.token));
                    }
                }
            }
        }
        json!({"id": id, "model": model, "choices": choices, "usage": usage, "error": error})
    }

    fn comparable(
        items: &[Result<ChatCompletionChunk, LLMError>],
    ) -> Vec<Result<ChatCompletionChunk, String>> {
        items
            .iter()
            .map(|item| match item {
                Ok(chunk) => Ok(chunk.clone()),
                Err(error) => Err(format!("{error:?}")),
            })
            .collect()
    }

    #[test]
    fn every_fixture_gives_the_same_result_however_it_is_split() {
        let mut seen = 0;
        golden(STREAMS, "openai.sse", "expected.json", |case, bytes| {
            let name = case.name.as_str();
            let whole = replay(&[bytes]);
            assert_stream_rules(name, &whole);
            for points in split_points(bytes.len()) {
                let split = replay(&split_at(bytes, &points));
                assert_eq!(comparable(&split), comparable(&whole), "{name} split at {points:?}");
            }
            if name.starts_with("openai_") {
                record_events(bytes);
            }
            seen += 1;
            summary(&whole)
        });
        assert_eq!(seen, CASES, "every stream fixture is a case");
    }

    /// Records the OpenAI fixtures' events for validation against OpenAI's chunk schema (the other
    /// fixtures stand for servers that bend that schema on purpose).
    fn record_events(bytes: &[u8]) {
        let mut decoder = SseDecoder::new(1 << 20);
        assert!(decoder.push(bytes).is_ok());
        while let Some(event) = decoder.next_event().or_else(|| decoder.finish()) {
            let Ok(document) = serde_json::from_str::<Value>(&event.data) else { continue };
            if document.get("object").is_some() {
                vllora_llm_testkit::record_conformance("openai-chat-chunk", &document);
            }
        }
    }

    #[test]
    fn nothing_is_read_after_done() {
        let mut state = OpenAIStreamDecoder::new("openai");
        assert!(matches!(state.on_data(None, "[DONE]"), Ok(None)));
        assert!(state.is_complete());
        assert!(matches!(
            state.on_data(None, "{\"choices\":[{\"delta\":{\"content\":\"late\"}}]}"),
            Ok(None)
        ));
        let mut out = Chunks::new();
        assert!(matches!(state.on_end(&mut out), Ok(EndOfBody::Complete)));
        assert!(out.is_empty());
        // Through the driver: nothing after `[DONE]` reaches the caller.
        let body = b"data: [DONE]\n\ndata: {\"choices\":[{\"delta\":{\"content\":\"late\"}}]}\n\n";
        let (chunks, error) =
            decode_pieces(SseDecoder::new(1 << 20), OpenAIStreamDecoder::new("openai"), [&body[..]]);
        assert!(chunks.is_empty() && error.is_none(), "{chunks:?} {error:?}");
    }

    #[test]
    fn null_choices_are_none_and_a_choices_object_is_an_error() {
        let mut state = OpenAIStreamDecoder::new("openai");
        let usage = r#"{"id":"c","choices":null,"usage":{"prompt_tokens":3,"completion_tokens":2}}"#;
        assert!(matches!(state.on_data(None, usage), Ok(None)));
        let two = r#"{"id":"c","choices":[{"index":0,"delta":{"content":"a"}},{"index":1,"delta":{"content":"b"}}]}"#;
        let chunk = state.on_data(None, two).ok().flatten();
        let contents: Vec<_> = chunk
            .iter()
            .flat_map(|chunk| &chunk.choices)
            .map(|choice| (choice.index, choice.delta.content.as_deref()))
            .collect();
        assert_eq!(contents, [(0, Some("a")), (1, Some("b"))]);
        let bad = state.on_data(None, r#"{"id":"c","choices":{"index":0}}"#);
        assert!(bad.is_err_and(|error| error.to_string().contains("not a chat completion chunk")));
    }

    #[test]
    fn error_events_and_cut_events_never_panic() {
        let mut state = OpenAIStreamDecoder::new("local");
        let error = state.on_data(Some("error"), "upstream timed out").err();
        assert_eq!(
            error.as_ref().and_then(LLMError::api_error).map(|api| api.message.as_str()),
            Some("upstream timed out")
        );
        let mut state = OpenAIStreamDecoder::new("local");
        let error =
            state.on_data(Some("error"), r#"{"error":{"message":"overloaded","type":"server_error"}}"#).err();
        assert!(error.is_some_and(|error| error.is_retryable() && error.to_string().contains("overloaded")));

        // Every event of every fixture, cut at every character: an error or a chunk, never a panic.
        let cases = golden_cases(STREAMS, "openai.sse", "expected.json");
        assert_eq!(cases.len(), CASES);
        for case in cases {
            let bytes = std::fs::read(&case.input).unwrap_or_else(|error| panic!("{}: {error}", case.name));
            let mut decoder = SseDecoder::new(1 << 20);
            assert!(decoder.push(&bytes).is_ok());
            while let Some(event) = decoder.next_event() {
                for (cut, _) in event.data.char_indices() {
                    let mut state = OpenAIStreamDecoder::new("openai");
                    let _ = state.on_data(event.event.as_deref(), &event.data[..cut]);
                    let _ = state.on_end(&mut Chunks::new());
                }
            }
        }
    }

    #[test]
    fn garbage_is_a_decode_error() {
        let mut state = OpenAIStreamDecoder::new("local");
        let error = state.on_data(None, "{not json").err();
        assert!(
            matches!(&error, Some(LLMError::Decode { provider, .. }) if provider == "local"),
            "{error:?}"
        );
    }

    #[test]
    fn a_whole_document_is_read_once_and_handed_out_at_the_end() {
        let result = crate::response::parse_response(
            "openai",
            &std::fs::read(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/fixtures/responses/openai_tool_calls.openai.json"
            ))
            .unwrap_or_default(),
        );
        let Ok(result) = result else { panic!("{:?}", result.err()) };
        let chunks = chunks_from_response(result);
        assert_eq!(chunks.len(), 2);
        let (replayed, error) =
            decode_pieces(SseDecoder::new(1 << 20), OpenAIStreamDecoder::ready("openai", chunks.clone()), []);
        assert!(error.is_none(), "{error:?}");
        assert_eq!(replayed, chunks);
        let finished = &chunks[0].choices[0];
        assert_eq!(finished.raw_finish_reason.as_ref().map(SharedStr::as_str), Some("tool_calls"));

        let (document, error) = decode_pieces(
            WholeBody { body: Vec::new(), limit: 8, ended: false },
            Document { provider: "openai".to_owned(), read: false },
            [&b"{\"a\":"[..], b"1}"],
        );
        assert_eq!((document, error.is_none()), (vec![Bytes::from_static(b"{\"a\":1}")], true));
        let (_, error) = decode_pieces(
            WholeBody { body: Vec::new(), limit: 4, ended: false },
            Document { provider: "openai".to_owned(), read: false },
            [&b"{\"a\":"[..], b"1}"],
        );
        assert!(matches!(error, Some(LLMError::LimitExceeded { limit: Limit::ResponseBody, max_bytes: 4 })));
    }

    #[test]
    fn an_empty_finish_reason_is_kept_raw_when_no_other_comes() {
        let bytes =
            std::fs::read(format!("{STREAMS}/compat_finish_reason_never_set.openai.sse")).unwrap_or_default();
        let items = replay(&[&bytes]);
        let chunks: Vec<&ChatCompletionChunk> = items.iter().filter_map(|item| item.as_ref().ok()).collect();
        assert_eq!(chunks.len(), 4, "two deltas, the closing chunk, the usage");
        let closing = &chunks[2].choices[0];
        assert_eq!((closing.finish_reason.as_ref(), closing.raw_finish_reason.as_deref()), (None, Some("")));
        assert_eq!(closing.delta, ChatCompletionDelta::default());
        assert!(chunks[3].usage.is_some() && chunks[3].choices.is_empty());
        // A stream whose host later says "stop" gets no closing chunk.
        let bytes = std::fs::read(format!("{STREAMS}/compat_finish_reason_empty_string.openai.sse"))
            .unwrap_or_default();
        let items = replay(&[&bytes]);
        let raw: Vec<&str> = items
            .iter()
            .filter_map(|item| item.as_ref().ok())
            .flat_map(|chunk| chunk.choices.iter().filter_map(|choice| choice.raw_finish_reason.as_deref()))
            .collect();
        assert_eq!(raw, vec!["stop"]);
    }

    #[test]
    fn a_streamed_placeholder_call_keeps_its_id_once_named_and_openrouter_details_stream() {
        let bytes =
            std::fs::read(format!("{STREAMS}/compat_placeholder_calls.openai.sse")).unwrap_or_default();
        let calls: Vec<ToolCallDelta> = replay(&[&bytes])
            .iter()
            .filter_map(|item| item.as_ref().ok())
            .flat_map(|chunk| {
                chunk.choices.iter().flat_map(|choice| choice.delta.tool_calls.clone().unwrap_or_default())
            })
            .collect();
        assert_eq!(calls.len(), 2, "{calls:?}");
        assert_eq!(calls[0].id.as_deref(), Some("call_9f2"));
        assert_eq!(
            calls[0].function.as_ref().and_then(|function| function.name.as_deref()),
            Some("get_weather")
        );
        assert!(calls.iter().all(|call| call.index == 0));

        // OpenRouter streams a block in fragments (text, then its signature): the caller gets it whole, once
        // the answer begins, with OpenRouter's own fields in the block order.
        let bytes = std::fs::read(format!("{STREAMS}/openrouter_reasoning.openai.sse")).unwrap_or_default();
        for points in split_points(bytes.len()) {
            let decoder = OpenAIStreamDecoder::new("openrouter");
            let (chunks, error) = decode_pieces(SseDecoder::new(1 << 20), decoder, split_at(&bytes, &points));
            assert!(error.is_none(), "{error:?}");
            let choices: Vec<&ChunkChoice> = chunks.iter().flat_map(|chunk| &chunk.choices).collect();
            let details: Vec<ReasoningDetail> = choices
                .iter()
                .flat_map(|choice| choice.delta.reasoning_details.clone().unwrap_or_default())
                .collect();
            assert_eq!(details.len(), 1, "{details:?}");
            assert_eq!(details[0].text.as_deref(), Some("Checking the date."));
            assert_eq!(details[0].signature.as_deref(), Some("EqMBCkgIBxABGAIiQ"));
            assert_eq!(details[0].provider.as_deref(), Some("openrouter"));
            let order: Vec<Value> = choices
                .iter()
                .flat_map(|choice| choice.delta.provider_content.clone().unwrap_or_default())
                .map(|entry| serde_json::to_value(entry).unwrap_or_default())
                .collect();
            assert_eq!(
                order,
                vec![
                    json!({"provider": "openrouter", "type": "reasoning", "index": 0,
                           "native": {"format": "anthropic-claude-v1", "index": 0}}),
                    json!({"provider": "openrouter", "type": "text", "len": 13}),
                ]
            );
            let reasoning: String =
                choices.iter().filter_map(|choice| choice.delta.reasoning_content.as_deref()).collect();
            assert_eq!(reasoning, "Checking the date.");
        }
    }

    #[test]
    fn a_mistral_reference_chunk_is_kept_in_order_in_the_stream() {
        let bytes = std::fs::read(format!("{STREAMS}/mistral_references.openai.sse")).unwrap_or_default();
        let items = replay(&[&bytes]);
        let entries: Vec<Value> = items
            .iter()
            .filter_map(|item| item.as_ref().ok())
            .flat_map(|chunk| {
                chunk
                    .choices
                    .iter()
                    .flat_map(|choice| choice.delta.provider_content.clone().unwrap_or_default())
            })
            .map(|entry| serde_json::to_value(entry).unwrap_or_default())
            .collect();
        // Appended in arrival order: the text before the reference, the reference, the text after.
        assert_eq!(
            entries,
            vec![
                json!({"provider": "openai", "type": "text", "len": 20}),
                json!({"provider": "openai", "type": "text", "len": 11}),
                json!({"provider": "openai", "type": "native", "data": {"type": "reference", "reference_ids": [0]}}),
                json!({"provider": "openai", "type": "text", "len": 20}),
            ]
        );
        let text: String = items
            .iter()
            .filter_map(|item| item.as_ref().ok())
            .flat_map(|chunk| chunk.choices.iter().filter_map(|choice| choice.delta.content.clone()))
            .collect();
        assert_eq!(text, "Paris is the capital of France. It has 2.1M people.");
        assert_eq!(text.len(), 20 + 11 + 20);
    }

    #[test]
    fn streamed_url_citations_are_annotations() {
        let mut decoder = OpenAIStreamDecoder::new("openai");
        let first = decoder.on_data(
            None,
            r#"{"id":"c","choices":[{"index":0,"delta":{"role":"assistant","content":"See the blog."}}]}"#,
        );
        assert!(matches!(first, Ok(Some(_))));
        let cited = r#"{"id":"c","choices":[{"index":0,"delta":{"annotations":[{"type":"url_citation","url_citation":{"start_index":4,"end_index":12,"title":"Rust Blog","url":"https://blog.rust-lang.org/"}}]},"finish_reason":"stop"}]}"#;
        let chunk = decoder.on_data(None, cited).ok().flatten().unwrap_or_default();
        let annotations = chunk.choices[0].delta.annotations.clone().unwrap_or_default();
        let citation = annotations[0].url_citation.clone().unwrap_or_default();
        assert_eq!((citation.start_index, citation.end_index, citation.title.as_str()), (4, 12, "Rust Blog"));
        assert_eq!(chunk.choices[0].finish_reason.as_ref().map(|reason| reason.as_str()), Some("stop"));
    }
}
