//! Gemini's `streamGenerateContent?alt=sse` events -> gateway chunks, a state machine fed event by event.
//!
//! Each event is a whole `GenerateContentResponse` holding the next pieces of text and thoughts, whole
//! function calls, and (on a candidate's last event) its finish reason; usage comes with every event and
//! the last one counts. The machine turns them into OpenAI-style chunks: the role on a choice's first
//! chunk, one tool-call delta per call with a stable index, the finish reason once, and usage in a final
//! chunk without choices.

use std::collections::BTreeMap;

use vllora_llm_core::types::gateway::{
    ChatCompletionChunk, ChatCompletionDelta, ChunkChoice, FinishReason, FunctionCallDelta, Role,
    ToolCallDelta,
};
use vllora_llm_core::{LLMError, LLMResult};

use crate::PROVIDER_NAME;
use crate::response::{ResponseContext, finish_reason, signature_detail, signature_extra, tool_call, usage};
use crate::wire::{Candidate, GenerateContentResponse, UsageMetadata};

/// Decodes one stream, event by event.
#[derive(Debug)]
pub(crate) struct StreamState {
    context: ResponseContext,
    id: Option<String>,
    model: Option<String>,
    candidates: BTreeMap<u32, CandidateState>,
    usage: Option<UsageMetadata>,
    blocked: bool,
    ended: bool,
}

#[derive(Debug, Default)]
struct CandidateState {
    started: bool,
    tool_calls: usize,
    finished: bool,
}

impl StreamState {
    pub fn new(context: ResponseContext) -> Self {
        StreamState {
            context,
            id: None,
            model: None,
            candidates: BTreeMap::new(),
            usage: None,
            blocked: false,
            ended: false,
        }
    }

    /// The chunks one event's `data` gives (often one, none for an empty keep-alive event).
    pub fn on_event(&mut self, data: &str) -> LLMResult<Vec<ChatCompletionChunk>> {
        let data = data.trim();
        if data.is_empty() || data == "[DONE]" {
            return Ok(Vec::new());
        }
        let event: GenerateContentResponse =
            serde_json::from_str(data).map_err(|error| LLMError::decode(PROVIDER_NAME, error))?;
        if let Some(error) = &event.error {
            return Err(crate::error::stream_error(error));
        }
        if self.id.is_none() {
            self.id = event.response_id.clone();
        }
        if self.model.is_none() {
            self.model = event.model_version.clone();
        }
        if event.usage_metadata.is_some() {
            self.usage = event.usage_metadata;
        }
        let mut choices: Vec<ChunkChoice> = Vec::new();
        for (position, candidate) in event.candidates.iter().enumerate() {
            let index = candidate.index.unwrap_or(u32::try_from(position).unwrap_or(u32::MAX));
            if let Some(choice) = self.candidate_choice(index, candidate) {
                choices.push(choice);
            }
        }
        if event.candidates.is_empty() && !self.blocked {
            let feedback = event.prompt_feedback.as_ref();
            if feedback.is_some_and(|feedback| feedback.block_reason.is_some()) {
                self.blocked = true;
                let delta = ChatCompletionDelta {
                    role: Some(Role::Assistant),
                    refusal: feedback.and_then(|feedback| feedback.block_reason_message.clone()),
                    ..Default::default()
                };
                choices.push(ChunkChoice {
                    index: 0,
                    delta,
                    finish_reason: Some(FinishReason::ContentFilter),
                    logprobs: None,
                });
            }
        }
        if choices.is_empty() {
            return Ok(Vec::new());
        }
        Ok(vec![self.chunk(choices)])
    }

    /// The final usage chunk, once the body has ended. A stream that ends before any candidate finished
    /// was cut short, which is an error rather than a silently shorter answer.
    pub fn finish(&mut self) -> LLMResult<Vec<ChatCompletionChunk>> {
        if self.ended {
            return Ok(Vec::new());
        }
        self.ended = true;
        let any_finished = self.candidates.values().any(|candidate| candidate.finished);
        if !any_finished && !self.blocked {
            return Err(LLMError::decode(
                PROVIDER_NAME,
                "the stream ended before Gemini sent a finish reason",
            ));
        }
        Ok(match self.usage {
            Some(metadata) => {
                let mut chunk = self.chunk(Vec::new());
                chunk.usage = Some(usage(&metadata));
                vec![chunk]
            }
            None => Vec::new(),
        })
    }

    fn candidate_choice(&mut self, index: u32, candidate: &Candidate) -> Option<ChunkChoice> {
        let response_id = self.id.clone();
        let state = self.candidates.entry(index).or_default();
        if state.finished {
            return None;
        }
        let mut delta = ChatCompletionDelta::default();
        for part in candidate.content.iter().flat_map(|content| content.parts.iter()) {
            if let Some(call) = &part.function_call {
                let whole = tool_call(
                    call,
                    part.thought_signature.as_deref(),
                    response_id.as_deref(),
                    index,
                    state.tool_calls,
                );
                let call_index = u32::try_from(state.tool_calls).unwrap_or(u32::MAX);
                state.tool_calls += 1;
                delta.tool_calls.get_or_insert_with(Vec::new).push(ToolCallDelta {
                    index: call_index,
                    id: Some(whole.id),
                    kind: Some(whole.kind),
                    function: Some(FunctionCallDelta {
                        name: Some(whole.function.name),
                        arguments: Some(whole.function.arguments),
                    }),
                    extra_content: part.thought_signature.as_deref().map(signature_extra),
                });
                continue;
            }
            if let Some(piece) = part.text.as_deref().filter(|piece| !piece.is_empty()) {
                let target =
                    if part.is_thought() { &mut delta.reasoning_content } else { &mut delta.content };
                target.get_or_insert_with(String::new).push_str(piece);
            }
            if let Some(signature) = &part.thought_signature {
                delta.reasoning_details.get_or_insert_with(Vec::new).push(signature_detail(signature));
            }
        }
        let finish = candidate.finish_reason.as_deref().map(|raw| finish_reason(raw, state.tool_calls > 0));
        state.finished = finish.is_some();
        if delta == ChatCompletionDelta::default() && finish.is_none() {
            return None;
        }
        if !state.started {
            state.started = true;
            delta.role = Some(Role::Assistant);
        }
        Some(ChunkChoice { index, delta, finish_reason: finish, logprobs: None })
    }

    fn chunk(&self, choices: Vec<ChunkChoice>) -> ChatCompletionChunk {
        ChatCompletionChunk {
            id: self.id.clone().unwrap_or_else(|| "gemini-response".to_owned()),
            object: "chat.completion.chunk".to_owned(),
            created: self.context.created,
            model: self.model.clone().unwrap_or_else(|| self.context.model.clone()),
            choices,
            usage: None,
            ..Default::default()
        }
    }
}
