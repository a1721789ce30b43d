//! Gemini `GenerateContentResponse` -> gateway response: choices, finish reasons, usage, thoughts, and
//! every part with no OpenAI field (code execution, server-side tool calls and responses, generated media,
//! grounding and citation metadata) in `provider_content`, in the order Gemini wrote the parts.
//!
//! [`PartAssembler`] turns one candidate's parts into a delta; a one-shot answer feeds it every part at
//! once, a stream one event at a time, so both give the same message.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};
use vllora_llm_core::types::gateway::{
    BlockOrderRecorder, ChatCompletionContent, ChatCompletionDelta, ChatCompletionMessage,
    ChatCompletionMessageWithFinishReason, ChatCompletionResponse, Choice, ChoiceLogprobs,
    CompletionTokensDetails, FinishReason, FunctionCallDelta, PromptTokensDetails, ProviderContent,
    ProviderContentKind, ReasoningDetail, ReasoningDetailType, Role, ServerToolUsage, TokenLogprob, ToolCall,
    ToolCallDelta, TopLogprob, Usage,
};
use vllora_llm_core::{LLMError, LLMResult};
use vllora_llm_http::{HeaderMap, StatusCode};

use crate::request::REASONING_PROVIDER;
use crate::wire::{Candidate, FunctionCall, GenerateContentResponse, LogprobsResult, Part, UsageMetadata};
use crate::{PROVIDER, PROVIDER_NAME};

/// The candidate-level fields kept whole as one `provider_content` entry (`{"groundingMetadata": ...}`):
/// they describe the answer and are never sent back.
pub(crate) const CANDIDATE_METADATA: [&str; 3] =
    ["groundingMetadata", "citationMetadata", "urlContextMetadata"];

/// What the caller asked for, for the fields Gemini may leave out.
#[derive(Debug, Clone)]
pub(crate) struct ResponseContext {
    pub model: String,
    pub created: u64,
}

/// Decodes a whole `generateContent` response.
pub(crate) fn parse_response(
    body: &[u8],
    context: &ResponseContext,
) -> LLMResult<ChatCompletionMessageWithFinishReason> {
    let response: GenerateContentResponse =
        serde_json::from_slice(body).map_err(|error| LLMError::decode(PROVIDER_NAME, error))?;
    if response.error.is_some() {
        // An error body with a 2xx status: the same mapper as an error response.
        return Err(crate::error::map_error(StatusCode::OK, &HeaderMap::new(), body));
    }
    Ok(convert_response(&response, context))
}

pub(crate) fn convert_response(
    response: &GenerateContentResponse,
    context: &ResponseContext,
) -> ChatCompletionMessageWithFinishReason {
    let nonce;
    let id_base = match response.response_id.as_deref() {
        Some(id) => id,
        None => {
            nonce = response_nonce();
            nonce.as_str()
        }
    };
    let mut counts = ServerCounts::default();
    let mut choices: Vec<Choice> = response
        .candidates
        .iter()
        .enumerate()
        .map(|(position, candidate)| {
            let index = candidate.index.unwrap_or(u32::try_from(position).unwrap_or(u32::MAX));
            let (message, candidate_counts) = candidate_message(candidate, id_base, index);
            counts.add(candidate_counts);
            let has_tool_calls = message.tool_calls.is_some();
            let finish_reason =
                candidate.finish_reason.as_deref().map(|raw| finish_reason(raw, has_tool_calls));
            Choice {
                index,
                message,
                finish_reason,
                logprobs: candidate.logprobs_result.as_ref().map(logprobs),
            }
        })
        .collect();
    let block_reason = response.prompt_feedback.as_ref().and_then(|feedback| feedback.block_reason.clone());
    if choices.is_empty() && block_reason.is_some() {
        // A blocked prompt is an answer with nothing in it, not a failure.
        let refusal =
            response.prompt_feedback.as_ref().and_then(|feedback| feedback.block_reason_message.clone());
        choices.push(Choice {
            index: 0,
            message: ChatCompletionMessage { role: Role::Assistant, refusal, ..Default::default() },
            finish_reason: Some(FinishReason::ContentFilter),
            logprobs: None,
        });
    }
    let raw_finish_reason = response
        .candidates
        .first()
        .and_then(|candidate| candidate.finish_reason.clone())
        .or(block_reason.clone());
    let chat_response = ChatCompletionResponse {
        id: response.response_id.as_deref().unwrap_or("gemini-response").to_owned(),
        object: "chat.completion".to_owned(),
        created: context.created,
        model: response.model_version.clone().unwrap_or_else(|| context.model.clone()),
        choices,
        usage: response.usage_metadata.as_ref().map(|metadata| usage(metadata, counts)),
        ..Default::default()
    };
    ChatCompletionMessageWithFinishReason {
        response: chat_response,
        warnings: Vec::new(),
        raw_finish_reason,
        provider_metadata: Some(provider_metadata(response, block_reason)),
        // Set by the model from the HTTP reply.
        response_metadata: None,
    }
}

/// What the answer says about itself: ids, block reason, raw usage and finish messages. Grounding,
/// citations and generated media are in each message's `provider_content`.
fn provider_metadata(response: &GenerateContentResponse, block_reason: Option<String>) -> Value {
    let mut gemini = Map::new();
    let mut put = |key: &str, value: Option<Value>| {
        if let Some(value) = value {
            gemini.insert(key.to_owned(), value);
        }
    };
    put("responseId", response.response_id.clone().map(Value::String));
    put("modelVersion", response.model_version.clone().map(Value::String));
    put("blockReason", block_reason.map(Value::String));
    put("usageMetadata", response.usage_metadata.and_then(|usage| serde_json::to_value(usage).ok()));
    let finish_messages: Vec<Value> = response
        .candidates
        .iter()
        .filter_map(|candidate| candidate.finish_message.clone().map(Value::String))
        .collect();
    put("finishMessages", (!finish_messages.is_empty()).then_some(Value::Array(finish_messages)));
    json!({ "gemini": gemini })
}

/// One candidate's parts as an assistant message, through the same assembler as a stream.
fn candidate_message(
    candidate: &Candidate,
    id_base: &str,
    candidate_index: u32,
) -> (ChatCompletionMessage, ServerCounts) {
    let mut assembler = PartAssembler::default();
    let mut delta = ChatCompletionDelta::default();
    for part in candidate.content.iter().flat_map(|content| content.parts.iter()) {
        assembler.push_part(part, id_base, candidate_index, &mut delta);
    }
    assembler.push_metadata(candidate, &mut delta);
    assembler.finish(&mut delta);
    let counts = assembler.counts;
    let tool_calls: Vec<ToolCall> =
        delta.tool_calls.unwrap_or_default().into_iter().map(whole_call).collect();
    let message = ChatCompletionMessage {
        role: Role::Assistant,
        content: delta.content.map(ChatCompletionContent::Text),
        tool_calls: (!tool_calls.is_empty()).then_some(tool_calls),
        reasoning_content: delta.reasoning_content,
        reasoning_details: delta.reasoning_details,
        provider_content: assembler.into_entries(),
        ..Default::default()
    };
    (message, counts)
}

/// A tool-call delta that holds a whole call (Gemini sends calls whole) as the call.
fn whole_call(delta: ToolCallDelta) -> ToolCall {
    let function = delta.function.unwrap_or_default();
    let mut call = ToolCall::function(
        delta.id.unwrap_or_default(),
        function.name.unwrap_or_default(),
        function.arguments.unwrap_or_default(),
    );
    call.extra_content = delta.extra_content;
    call
}

/// The server-side tool work an answer shows: code executions (one per `codeExecutionResult` part), web
/// searches (the `webSearchQueries` of its grounding) and pages read (the `urlMetadata` of its URL context).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct ServerCounts {
    pub code_executions: u32,
    pub web_searches: u32,
    pub pages_read: u32,
}

impl ServerCounts {
    pub(crate) fn add(&mut self, other: ServerCounts) {
        self.code_executions = self.code_executions.saturating_add(other.code_executions);
        self.web_searches = self.web_searches.saturating_add(other.web_searches);
        self.pages_read = self.pages_read.saturating_add(other.pages_read);
    }
}

/// A block whose end is not known yet: Gemini streams a thought or a text in several parts, and the next
/// part of another kind (or a signature, or the end of the candidate) closes it.
#[derive(Debug)]
enum OpenBlock {
    Thought { text: String, native: Option<Value> },
    Text { len: usize, native: Option<Value> },
}

/// One candidate's parts -> gateway deltas: text and thoughts as they come, each closed thought as a
/// reasoning detail (with its signature), each function call as a whole tool-call delta, every other part
/// whole in `provider_content`, and the block order recorded.
///
/// Consecutive text parts are one block, and so are consecutive thought parts, until one of them carries a
/// `thoughtSignature`: a stream's pieces then add up to the one-shot answer's parts. A text block's
/// signature becomes a reasoning detail without text, referenced in the order right after the text (it is
/// the text's, so it does not by itself make the order worth keeping).
#[derive(Debug, Default)]
pub(crate) struct PartAssembler {
    recorder: BlockOrderRecorder,
    /// Every entry, the text signatures included; handed out when the recorder says the order is needed.
    entries: Vec<ProviderContent>,
    handed_out: usize,
    open: Option<OpenBlock>,
    reasoning_details: usize,
    tool_calls: usize,
    pub(crate) counts: ServerCounts,
}

impl PartAssembler {
    /// How many tool calls the candidate has made so far.
    pub(crate) fn tool_calls(&self) -> usize {
        self.tool_calls
    }

    /// Adds one part to `delta`.
    pub(crate) fn push_part(
        &mut self,
        part: &Part,
        id_base: &str,
        candidate: u32,
        delta: &mut ChatCompletionDelta,
    ) {
        let native_fields = (!part.other.is_empty()).then(|| Value::Object(part.other.clone()));
        if let Some(call) = &part.function_call {
            self.close(delta);
            let signature = part.thought_signature.as_deref();
            let whole = tool_call(call, signature, id_base, candidate, self.tool_calls);
            let index = u32::try_from(self.tool_calls).unwrap_or(u32::MAX);
            self.tool_calls = self.tool_calls.saturating_add(1);
            let mut entry = ProviderContent::tool_call(PROVIDER, whole.id.clone());
            if let ProviderContentKind::ToolCall { native, .. } = &mut entry.kind {
                *native = native_fields;
            }
            delta.tool_calls.get_or_insert_with(Vec::new).push(ToolCallDelta {
                index,
                id: Some(whole.id),
                kind: Some(whole.kind),
                function: Some(FunctionCallDelta {
                    name: Some(whole.function.name),
                    arguments: Some(whole.function.arguments),
                }),
                extra_content: whole.extra_content,
            });
            self.push(entry);
            return;
        }
        let carries_data = part.inline_data.is_some()
            || part.file_data.is_some()
            || part.function_response.is_some()
            || (part.text.is_none() && !part.other.is_empty());
        if carries_data {
            self.close(delta);
            if part.other.contains_key("codeExecutionResult") {
                self.counts.code_executions = self.counts.code_executions.saturating_add(1);
            }
            if let Ok(data) = serde_json::to_value(part) {
                self.push(ProviderContent::native(PROVIDER, data));
            }
            return;
        }
        let piece = part.text.as_deref().unwrap_or_default();
        if piece.is_empty() && part.thought_signature.is_none() && part.other.is_empty() {
            // `{}`, `{"text": ""}` (a stream's last event often has one) or `{"thought": true}` alone:
            // nothing to keep, and no block ends.
            return;
        }
        if part.is_thought() {
            if !matches!(self.open, Some(OpenBlock::Thought { .. })) {
                self.close(delta);
                self.open = Some(OpenBlock::Thought { text: String::new(), native: None });
            }
            if let Some(OpenBlock::Thought { text, native }) = &mut self.open {
                text.push_str(piece);
                merge_native(native, native_fields);
            }
            if !piece.is_empty() {
                delta.reasoning_content.get_or_insert_with(String::new).push_str(piece);
            }
            if let Some(signature) = &part.thought_signature {
                self.close_thought(Some(signature.clone()), delta);
            }
            return;
        }
        if !matches!(self.open, Some(OpenBlock::Text { .. })) {
            self.close(delta);
            self.open = Some(OpenBlock::Text { len: 0, native: None });
        }
        if let Some(OpenBlock::Text { len, native }) = &mut self.open {
            *len = len.saturating_add(piece.len());
            merge_native(native, native_fields);
        }
        if !piece.is_empty() {
            delta.content.get_or_insert_with(String::new).push_str(piece);
        }
        if let Some(signature) = &part.thought_signature {
            self.close(delta);
            let index = self.next_reasoning_index();
            delta.reasoning_details.get_or_insert_with(Vec::new).push(signature_detail(signature));
            // The text's own signature: in the order, not in the recorder's decision.
            self.entries.push(ProviderContent::reasoning(PROVIDER, index));
        }
    }

    /// [`push_part`](Self::push_part) for a part the caller owns: a plain text part (no thought, no
    /// signature, no other field) given while the delta has no content yet, as nearly every stream event
    /// is, moves its text into the delta instead of copying it. Anything else goes to `push_part`.
    pub(crate) fn push_part_taking(
        &mut self,
        part: &mut Part,
        id_base: &str,
        candidate: u32,
        delta: &mut ChatCompletionDelta,
    ) {
        let plain_text = delta.content.is_none()
            && part.function_call.is_none()
            && part.inline_data.is_none()
            && part.file_data.is_none()
            && part.function_response.is_none()
            && part.other.is_empty()
            && !part.is_thought()
            && part.thought_signature.is_none()
            && part.text.as_ref().is_some_and(|text| !text.is_empty());
        if !plain_text {
            return self.push_part(part, id_base, candidate, delta);
        }
        // What `push_part` does for such a part, with the text moved.
        if !matches!(self.open, Some(OpenBlock::Text { .. })) {
            self.close(delta);
            self.open = Some(OpenBlock::Text { len: 0, native: None });
        }
        let text = part.text.take().unwrap_or_default();
        if let Some(OpenBlock::Text { len, native }) = &mut self.open {
            *len = len.saturating_add(text.len());
            merge_native(native, None);
        }
        match &mut delta.content {
            Some(content) => content.push_str(&text),
            None => delta.content = Some(text),
        }
    }

    /// The candidate's grounding, citation and URL context metadata, whole, as one entry.
    pub(crate) fn push_metadata<C>(&mut self, candidate: &Candidate<C>, delta: &mut ChatCompletionDelta) {
        if candidate.grounding_metadata.is_none()
            && candidate.citation_metadata.is_none()
            && candidate.url_context_metadata.is_none()
        {
            // Nearly every stream event: nothing to gather.
            return;
        }
        let fields = [
            (CANDIDATE_METADATA[0], &candidate.grounding_metadata),
            (CANDIDATE_METADATA[1], &candidate.citation_metadata),
            (CANDIDATE_METADATA[2], &candidate.url_context_metadata),
        ];
        let mut data = Map::new();
        for (key, value) in fields {
            if let Some(value) = value.as_ref().filter(|value| !value.is_null()) {
                data.insert(key.to_owned(), value.clone());
            }
        }
        if data.is_empty() {
            return;
        }
        let count = |value: Option<&Value>| {
            value.and_then(Value::as_array).map_or(0, |list| u32::try_from(list.len()).unwrap_or(u32::MAX))
        };
        let searches =
            count(candidate.grounding_metadata.as_ref().and_then(|value| value.get("webSearchQueries")));
        let pages = count(candidate.url_context_metadata.as_ref().and_then(|value| value.get("urlMetadata")));
        self.counts.web_searches = self.counts.web_searches.saturating_add(searches);
        self.counts.pages_read = self.counts.pages_read.saturating_add(pages);
        self.close(delta);
        self.push(ProviderContent::native(PROVIDER, Value::Object(data)));
    }

    /// The candidate ended: the open block closes.
    pub(crate) fn finish(&mut self, delta: &mut ChatCompletionDelta) {
        self.close(delta);
    }

    /// For streams: the block order entries not handed out yet, once the order is needed.
    pub(crate) fn take_ready(&mut self) -> Option<Vec<ProviderContent>> {
        if !self.recorder.is_needed() || self.handed_out >= self.entries.len() {
            return None;
        }
        let ready = self.entries.get(self.handed_out..).map(<[ProviderContent]>::to_vec);
        self.handed_out = self.entries.len();
        ready
    }

    /// For one-shot answers: every entry, when the order is needed.
    pub(crate) fn into_entries(self) -> Option<Vec<ProviderContent>> {
        self.recorder.is_needed().then_some(self.entries)
    }

    fn push(&mut self, entry: ProviderContent) {
        self.recorder.push(entry.clone());
        self.entries.push(entry);
    }

    fn next_reasoning_index(&mut self) -> usize {
        let index = self.reasoning_details;
        self.reasoning_details = self.reasoning_details.saturating_add(1);
        index
    }

    fn close(&mut self, delta: &mut ChatCompletionDelta) {
        match self.open.take() {
            None => {}
            Some(OpenBlock::Text { len, native }) => self.push(ProviderContent::text(PROVIDER, len, native)),
            Some(thought @ OpenBlock::Thought { .. }) => {
                self.open = Some(thought);
                self.close_thought(None, delta);
            }
        }
    }

    /// Ends the open thought block (with the signature of its last part) as a reasoning detail.
    fn close_thought(&mut self, signature: Option<String>, delta: &mut ChatCompletionDelta) {
        let Some(OpenBlock::Thought { text, native }) = self.open.take() else { return };
        let index = self.next_reasoning_index();
        delta.reasoning_details.get_or_insert_with(Vec::new).push(ReasoningDetail {
            kind: ReasoningDetailType::Text,
            text: Some(text),
            signature,
            data: None,
            provider: Some(REASONING_PROVIDER.to_owned()),
        });
        let mut entry = ProviderContent::reasoning(PROVIDER, index);
        if let ProviderContentKind::Reasoning { native: slot, .. } = &mut entry.kind {
            *slot = native;
        }
        self.push(entry);
    }
}

/// Adds a part's other fields to those of its block so far.
fn merge_native(block: &mut Option<Value>, part: Option<Value>) {
    match (block.as_mut(), part) {
        (_, None) => {}
        (Some(Value::Object(mine)), Some(Value::Object(theirs))) => mine.extend(theirs),
        (_, part) => *block = part,
    }
}

/// A signature Gemini put on a (non-thought) text part, kept to be sent back on that text.
pub(crate) fn signature_detail(signature: &str) -> ReasoningDetail {
    ReasoningDetail {
        kind: ReasoningDetailType::Text,
        text: None,
        signature: Some(signature.to_owned()),
        data: None,
        provider: Some(REASONING_PROVIDER.to_owned()),
    }
}

/// A value that tells this answer's calls apart from every other answer's when Gemini sends no response id
/// (the process id, the time and a counter, mixed): ids of calls must not repeat across turns.
pub(crate) fn response_nonce() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    let nanos = now.as_secs().wrapping_mul(1_000_000_000).wrapping_add(u64::from(now.subsec_nanos()));
    // SplitMix64's finaliser, so that near times and counts give unrelated digits.
    let mut mixed = nanos ^ count.rotate_left(40) ^ u64::from(std::process::id()).rotate_left(20);
    mixed = (mixed ^ (mixed >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    mixed = (mixed ^ (mixed >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    format!("{:016x}", mixed ^ (mixed >> 31))
}

/// A function call as an OpenAI tool call. Gemini rarely sends ids, so one is made from `id_base` (the
/// response id, or a [`response_nonce`] when there is none), the candidate and the call's position: unique
/// across the turns of a conversation and within the answer, which keeps parallel calls to one function
/// apart.
pub(crate) fn tool_call(
    call: &FunctionCall,
    signature: Option<&str>,
    id_base: &str,
    candidate_index: u32,
    position: usize,
) -> ToolCall {
    let id = match &call.id {
        Some(id) if !id.is_empty() => id.clone(),
        _ => format!("call_{id_base}_{candidate_index}_{position}"),
    };
    let arguments = match &call.args {
        Some(args) => args.to_string(),
        None => "{}".to_owned(),
    };
    let mut tool_call = ToolCall::function(id, call.name.clone(), arguments);
    tool_call.extra_content = signature.map(signature_extra);
    tool_call
}

/// Where a call's thought signature lives: the shape of Google's own OpenAI-compatible endpoint.
pub(crate) fn signature_extra(signature: &str) -> Value {
    json!({ "google": { "thought_signature": signature } })
}

/// Gemini's log probabilities in OpenAI's shape: each chosen token with the alternatives at its position.
pub(crate) fn logprobs(result: &LogprobsResult) -> ChoiceLogprobs {
    let content = result
        .chosen_candidates
        .iter()
        .enumerate()
        .map(|(position, chosen)| TokenLogprob {
            token: chosen.token.clone().unwrap_or_default(),
            logprob: chosen.log_probability.unwrap_or_default(),
            bytes: chosen.token.as_ref().map(|token| token.as_bytes().to_vec()),
            top_logprobs: result
                .top_candidates
                .get(position)
                .map(|top| {
                    top.candidates
                        .iter()
                        .map(|candidate| TopLogprob {
                            token: candidate.token.clone().unwrap_or_default(),
                            logprob: candidate.log_probability.unwrap_or_default(),
                            bytes: candidate.token.as_ref().map(|token| token.as_bytes().to_vec()),
                        })
                        .collect()
                })
                .unwrap_or_default(),
        })
        .collect();
    ChoiceLogprobs { content: Some(content), refusal: None }
}

/// Gemini's finish reason in OpenAI's terms. `STOP` after function calls is `tool_calls`.
pub(crate) fn finish_reason(raw: &str, has_tool_calls: bool) -> FinishReason {
    match raw {
        "STOP" if has_tool_calls => FinishReason::ToolCalls,
        "STOP" => FinishReason::Stop,
        "MAX_TOKENS" => FinishReason::Length,
        "SAFETY"
        | "RECITATION"
        | "BLOCKLIST"
        | "PROHIBITED_CONTENT"
        | "SPII"
        | "IMAGE_SAFETY"
        | "IMAGE_PROHIBITED_CONTENT"
        | "IMAGE_RECITATION" => FinishReason::ContentFilter,
        other => FinishReason::Other(other.to_owned()),
    }
}

/// Gemini's counts in OpenAI's shape: thoughts are output tokens, tool-use prompts input tokens (and
/// `server_tool_use.tool_use_prompt_tokens`), cached tokens a part of the input; the server-side tool work
/// the answer shows (`counts`) in `server_tool_use`.
pub(crate) fn usage(metadata: &UsageMetadata, counts: ServerCounts) -> Usage {
    let prompt = metadata
        .prompt_token_count
        .unwrap_or(0)
        .saturating_add(metadata.tool_use_prompt_token_count.unwrap_or(0));
    let thoughts = metadata.thoughts_token_count.unwrap_or(0);
    let completion = metadata.candidates_token_count.unwrap_or(0).saturating_add(thoughts);
    let mut usage = Usage::new(prompt, completion);
    if let Some(cached) = metadata.cached_content_token_count {
        usage.prompt_tokens_details =
            Some(PromptTokensDetails { cached_tokens: Some(cached), ..Default::default() });
    }
    if metadata.thoughts_token_count.is_some() {
        usage.completion_tokens_details =
            Some(CompletionTokensDetails { reasoning_tokens: Some(thoughts), ..Default::default() });
    }
    let count = |count: u32| (count > 0).then_some(count);
    let server = ServerToolUsage {
        web_search_requests: count(counts.web_searches),
        web_fetch_requests: count(counts.pages_read),
        code_execution_requests: count(counts.code_executions),
        tool_use_prompt_tokens: metadata.tool_use_prompt_token_count,
    };
    if server != ServerToolUsage::default() {
        usage.server_tool_use = Some(server);
    }
    usage
}

/// A request or response document as the conformance proto (`google.ai.generativelanguage` v1beta
/// 0.12.1) can check it: it predates the server-side tool invocations Google documents for Gemini 3
/// (`toolCall` / `toolResponse` parts, `toolConfig.includeServerSideToolInvocations`, the `id` of code
/// execution parts), which are set aside; everything else is checked.
#[cfg(test)]
pub(crate) fn conformance_view(document: &Value) -> Value {
    let mut view = document.clone();
    if let Some(config) = view.get_mut("toolConfig").and_then(Value::as_object_mut) {
        config.remove("includeServerSideToolInvocations");
    }
    let Some(fields) = view.as_object_mut() else { return view };
    let mut contents: Vec<&mut Value> = Vec::new();
    for (key, value) in fields.iter_mut() {
        match (key.as_str(), value) {
            ("contents", Value::Array(list)) => contents.extend(list.iter_mut()),
            ("candidates", Value::Array(list)) => {
                contents.extend(list.iter_mut().filter_map(|candidate| candidate.get_mut("content")))
            }
            _ => {}
        }
    }
    for content in contents {
        if let Some(parts) = content.get_mut("parts").and_then(Value::as_array_mut) {
            parts.retain(|part| part.get("toolCall").is_none() && part.get("toolResponse").is_none());
            for part in parts.iter_mut() {
                for key in ["executableCode", "codeExecutionResult"] {
                    if let Some(block) = part.get_mut(key).and_then(Value::as_object_mut) {
                        block.remove("id");
                    }
                }
            }
        }
    }
    view
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn context() -> ResponseContext {
        ResponseContext { model: "gemini-requested".into(), created: 1_700_000_000 }
    }

    fn fixture(name: &str) -> ChatCompletionMessageWithFinishReason {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join(format!("tests/fixtures/responses/{name}.gemini.json"));
        let body = std::fs::read(&path).unwrap_or_default();
        let document: Value = serde_json::from_slice(&body).unwrap_or_default();
        vllora_llm_testkit::record_conformance("gemini-response", &conformance_view(&document));
        match parse_response(&body, &context()) {
            Ok(result) => result,
            Err(error) => panic!("{name}: {error}"),
        }
    }

    #[test]
    fn thoughts_signatures_and_usage_with_cache_and_reasoning() {
        let result = fixture("text_with_thoughts");
        let message = result.message();
        assert_eq!(
            message.content.as_ref().and_then(ChatCompletionContent::as_str),
            Some("Lisbon is lovely in spring: mild, sunny and not yet crowded.")
        );
        assert_eq!(
            message.reasoning_content.as_deref(),
            Some("**Weighing the options**\n\nThe user asks for a short answer, so one sentence will do.")
        );
        let thought = ReasoningDetail {
            kind: ReasoningDetailType::Text,
            text: message.reasoning_content.clone(),
            signature: None,
            data: None,
            provider: Some(REASONING_PROVIDER.to_owned()),
        };
        assert_eq!(
            message.reasoning_details,
            Some(vec![thought, signature_detail("CtwBAdHtim9sig+text+part==")])
        );
        // Thought, then text with its signature: the default order, so no provider_content.
        assert_eq!(message.provider_content, None);
        assert_eq!(result.finish_reason(), Some(&FinishReason::Stop));
        assert_eq!(result.raw_finish_reason.as_deref(), Some("STOP"));
        assert_eq!(result.id(), "mIYhab2XNrzhz7IPo8v-yAk");
        assert_eq!(result.model(), "gemini-2.5-flash");
        let Some(usage) = result.usage() else { panic!("usage") };
        assert_eq!((usage.prompt_tokens, usage.completion_tokens, usage.total_tokens), (1210, 72, 1282));
        assert_eq!((usage.cached_tokens(), usage.reasoning_tokens()), (1024, 58));
    }

    #[test]
    fn parallel_calls_to_one_function_get_distinct_ids_and_the_signature() {
        let result = fixture("parallel_calls");
        assert_eq!(result.finish_reason(), Some(&FinishReason::ToolCalls));
        let Some(calls) = &result.message().tool_calls else { panic!("tool calls") };
        assert_eq!(calls.len(), 2);
        assert_eq!(calls[0].id, "call_resp-1_0_0");
        assert_eq!(calls[1].id, "call_resp-1_0_1");
        assert_eq!(calls[0].function.name, "get_weather");
        assert_eq!(calls[1].function.arguments, r#"{"city":"Rome","unit":"c"}"#);
        assert_eq!(
            calls[0].extra_content,
            Some(json!({"google": {"thought_signature": "CiQBjz1rX2sig/paris=="}}))
        );
        assert_eq!(calls[1].extra_content, None);
        assert_eq!(result.message().content, None);
        assert_eq!(
            result.provider_metadata.as_ref().map(|metadata| metadata["gemini"]["finishMessages"].clone()),
            Some(json!(["Model generated function call(s)."]))
        );
        let Some(usage) = result.usage() else { panic!("usage") };
        assert_eq!((usage.completion_tokens, usage.total_tokens), (74, 170));
    }

    /// A Gemini 3 answer that thought, searched the web (server-side `toolCall` / `toolResponse` parts),
    /// ran code, answered with grounded text, thought again and called a function: every part has its
    /// place in `provider_content`, in Gemini's order; the grounding metadata closes the list; usage counts
    /// the search, the code execution and the tool-use prompt tokens.
    #[test]
    fn server_tools_code_execution_and_grounding_keep_their_places() {
        let result = fixture("server_tools");
        let body: Value = serde_json::from_slice(
            &std::fs::read(
                PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                    .join("tests/fixtures/responses/server_tools.gemini.json"),
            )
            .unwrap_or_default(),
        )
        .unwrap_or_default();
        let parts = &body["candidates"][0]["content"]["parts"];
        let message = result.message();
        let text = "The northernmost city in the United States is Utqiaġvik, Alaska, 4.73° north of the Arctic Circle.";
        assert_eq!(message.content.as_ref().and_then(ChatCompletionContent::as_str), Some(text));
        let Some(calls) = &message.tool_calls else { panic!("the function call") };
        assert_eq!(
            (calls.len(), calls[0].id.as_str(), calls[0].function.name.as_str()),
            (1, "lpndqlku", "getWeather")
        );
        assert_eq!(calls[0].function.arguments, r#"{"city":"Utqiaġvik, Alaska"}"#);
        assert_eq!(calls[0].extra_content, Some(signature_extra("CiQBjz1rX2sig/getWeather==")));
        let thoughts: Vec<Option<&str>> =
            message.reasoning_details.iter().flatten().map(|detail| detail.text.as_deref()).collect();
        assert_eq!(thoughts, [parts[0]["text"].as_str(), parts[6]["text"].as_str()]);
        assert_eq!(
            message.provider_content,
            Some(vec![
                ProviderContent::reasoning(PROVIDER, 0),
                ProviderContent::native(PROVIDER, parts[1].clone()),
                ProviderContent::native(PROVIDER, parts[2].clone()),
                ProviderContent::native(PROVIDER, parts[3].clone()),
                ProviderContent::native(PROVIDER, parts[4].clone()),
                ProviderContent::text(PROVIDER, text.len(), None),
                ProviderContent::reasoning(PROVIDER, 1),
                ProviderContent::tool_call(PROVIDER, "lpndqlku"),
                ProviderContent::native(
                    PROVIDER,
                    json!({"groundingMetadata": body["candidates"][0]["groundingMetadata"].clone()})
                ),
            ])
        );
        assert_eq!(result.finish_reason(), Some(&FinishReason::ToolCalls));
        let Some(usage) = result.usage() else { panic!("usage") };
        assert_eq!((usage.prompt_tokens, usage.completion_tokens, usage.total_tokens), (448, 268, 716));
        assert_eq!(
            usage.server_tool_use,
            Some(ServerToolUsage {
                web_search_requests: Some(1),
                web_fetch_requests: None,
                code_execution_requests: Some(1),
                tool_use_prompt_tokens: Some(391),
            })
        );
        assert!(
            result
                .provider_metadata
                .is_some_and(|metadata| metadata["gemini"].get("groundingMetadata").is_none())
        );
    }

    /// Without a response id, calls get ids that no other answer shares: a conversation's turns never
    /// reuse `call_0_0`.
    #[test]
    fn call_ids_are_unique_across_answers_without_a_response_id() {
        let body = br#"{"candidates": [{"content": {"role": "model", "parts": [
            {"functionCall": {"name": "f", "args": {}}}, {"functionCall": {"name": "f", "args": {}}}
        ]}, "finishReason": "STOP", "index": 0}]}"#;
        let ids = |_| -> Vec<String> {
            let Ok(result) = parse_response(body, &context()) else { panic!("calls") };
            result.message().tool_calls.iter().flatten().map(|call| call.id.clone()).collect()
        };
        let (first, second) = (ids(1), ids(2));
        assert_eq!(first.len(), 2);
        assert_ne!(first[0], first[1]);
        assert!(first.iter().all(|id| !second.contains(id)), "{first:?} {second:?}");
        assert!(first[0].starts_with("call_") && first[0].ends_with("_0_0"), "{}", first[0]);
    }

    #[test]
    fn every_candidate_is_a_choice_with_its_own_finish_reason() {
        let result = fixture("two_candidates");
        let choices = result.choices();
        assert_eq!(choices.len(), 2);
        assert_eq!(choices[0].finish_reason, Some(FinishReason::Length));
        assert_eq!(choices[1].finish_reason, Some(FinishReason::Stop));
        assert_eq!(
            choices[1].message.content.as_ref().and_then(ChatCompletionContent::as_str),
            Some("A haiku: spring rain on the roof")
        );
        assert_eq!(result.id(), "gemini-response");
        assert_eq!(result.response.created, 1_700_000_000);
    }

    #[test]
    fn a_blocked_prompt_is_a_content_filter_result() {
        let result = fixture("blocked_prompt");
        assert_eq!(result.choices().len(), 1);
        assert_eq!(result.finish_reason(), Some(&FinishReason::ContentFilter));
        assert_eq!(result.raw_finish_reason.as_deref(), Some("SAFETY"));
        assert_eq!(result.message().content, None);
        assert_eq!(result.usage().map(|usage| usage.prompt_tokens), Some(12));
        let safety = fixture("safety_finish");
        assert_eq!(safety.finish_reason(), Some(&FinishReason::ContentFilter));
        assert_eq!(safety.message().role, Role::Assistant);
    }

    #[test]
    fn unknown_finish_reasons_are_kept_raw() {
        let result = fixture("malformed_call");
        assert_eq!(result.finish_reason(), Some(&FinishReason::Other("MALFORMED_FUNCTION_CALL".into())));
        for (raw, expected) in [
            ("RECITATION", FinishReason::ContentFilter),
            ("BLOCKLIST", FinishReason::ContentFilter),
            ("PROHIBITED_CONTENT", FinishReason::ContentFilter),
            ("SPII", FinishReason::ContentFilter),
            ("LANGUAGE", FinishReason::Other("LANGUAGE".into())),
        ] {
            assert_eq!(finish_reason(raw, false), expected);
        }
    }

    #[test]
    fn log_probabilities_come_with_their_alternatives() {
        let result = fixture("logprobs");
        let Some(logprobs) = &result.choices()[0].logprobs else { panic!("logprobs") };
        let content = logprobs.content.clone().unwrap_or_default();
        assert_eq!(content.len(), 2);
        assert_eq!((content[0].token.as_str(), content[0].logprob), ("Yes", -0.0021));
        assert_eq!(content[0].bytes.as_deref(), Some("Yes".as_bytes()));
        let alternatives: Vec<(&str, f64)> =
            content[1].top_logprobs.iter().map(|top| (top.token.as_str(), top.logprob)).collect();
        assert_eq!(alternatives, [(".", -0.08), ("!", -2.6)]);
    }

    #[test]
    fn generated_images_are_parts_in_the_block_order() {
        let image = json!({"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}, "thoughtSignature": "c2lnLWltYWdl"});
        let body = json!({
            "candidates": [{"content": {"role": "model", "parts": [{"text": "Here is your cat."}, image]},
                            "finishReason": "STOP", "index": 0}],
            "modelVersion": "gemini-2.5-flash-image", "responseId": "image-1"
        });
        vllora_llm_testkit::record_conformance("gemini-response", &body);
        let Ok(result) = parse_response(body.to_string().as_bytes(), &context()) else {
            panic!("an image answer")
        };
        assert_eq!(
            result.message().content.as_ref().and_then(ChatCompletionContent::as_str),
            Some("Here is your cat.")
        );
        assert_eq!(
            result.message().provider_content,
            Some(vec![ProviderContent::text(PROVIDER, 17, None), ProviderContent::native(PROVIDER, image)])
        );
        assert!(result.provider_metadata.is_some_and(|metadata| metadata["gemini"].get("media").is_none()));
    }

    #[test]
    fn garbage_is_a_decode_error_and_an_error_body_an_api_error() {
        assert!(matches!(parse_response(b"<html>", &context()), Err(LLMError::Decode { .. })));
        let error = parse_response(
            br#"{"error": {"code": 500, "message": "Internal", "status": "INTERNAL"}}"#,
            &context(),
        );
        assert!(matches!(error, Err(error) if error.is_retryable()));
        let Ok(empty) = parse_response(b"{}", &context()) else { panic!("an empty response is a result") };
        assert!(empty.choices().is_empty());
    }
}
