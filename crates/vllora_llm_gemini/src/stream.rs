//! Gemini's `streamGenerateContent?alt=sse` events -> gateway chunks, a state machine fed event by event.
//!
//! Each event is a whole `GenerateContentResponse` holding the next pieces of text and thoughts, whole
//! function calls, and (on a candidate's last event) its finish reason; usage comes with every event and
//! the last one counts. The machine turns them into OpenAI-style chunks: the role on a choice's first
//! chunk, one tool-call delta per call with a stable index, the finish reason once, and usage in a final
//! chunk without choices.

use std::collections::BTreeMap;

use vllora_llm_core::types::gateway::{
    CHUNK_OBJECT, ChatCompletionChunk, ChatCompletionDelta, ChunkChoice, FinishReason, FunctionCallDelta,
    Role, SharedStr, ToolCallDelta,
};
use vllora_llm_core::{LLMError, LLMResult};

use crate::PROVIDER_NAME;
use crate::response::{
    ResponseContext, finish_reason, logprobs, signature_detail, signature_extra, tool_call, usage,
};
use crate::wire::{Candidate, GenerateContentResponse, UsageMetadata};

/// Decodes one stream, event by event.
#[derive(Debug)]
pub(crate) struct StreamState {
    context: ResponseContext,
    id: Option<SharedStr>,
    model: Option<SharedStr>,
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
            self.id = event.response_id.as_deref().map(SharedStr::from);
        }
        if self.model.is_none() {
            self.model = event.model_version.as_deref().map(SharedStr::from);
        }
        if event.usage_metadata.is_some() {
            self.usage = event.usage_metadata;
        }
        let mut choices: Vec<ChunkChoice> = Vec::new();
        if self.blocked && !event.candidates.is_empty() {
            // The blocked prompt already ended choice 0 with content_filter; a choice finishes once.
            tracing::warn!(provider = PROVIDER_NAME, "candidates after a blocked prompt were ignored");
            return Ok(Vec::new());
        }
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
                    raw_finish_reason: None,
                });
            }
        }
        if choices.is_empty() {
            return Ok(Vec::new());
        }
        Ok(vec![self.chunk(choices)])
    }

    /// The final usage chunk, once the body has ended. A stream that ends before every candidate
    /// finished was cut short, which is an error rather than a silently shorter answer.
    pub fn finish(&mut self) -> LLMResult<Vec<ChatCompletionChunk>> {
        if self.ended {
            return Ok(Vec::new());
        }
        self.ended = true;
        let all_finished =
            !self.candidates.is_empty() && self.candidates.values().all(|candidate| candidate.finished);
        if !all_finished && !self.blocked {
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
        let logprobs = candidate.logprobs_result.as_ref().map(logprobs);
        Some(ChunkChoice { index, delta, finish_reason: finish, logprobs, raw_finish_reason: None })
    }

    fn chunk(&self, choices: Vec<ChunkChoice>) -> ChatCompletionChunk {
        ChatCompletionChunk {
            id: self.id.clone().unwrap_or_else(|| SharedStr::from("gemini-response")),
            object: CHUNK_OBJECT.into(),
            created: self.context.created,
            model: self.model.clone().unwrap_or_else(|| SharedStr::from(self.context.model.as_str())),
            choices,
            usage: None,
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use serde_json::{Value, json};
    use vllora_llm_http::SseDecoder;
    use vllora_llm_testkit::{split_at, split_points};

    use super::*;

    fn fixture_path(name: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/streams").join(name)
    }

    /// Everything a consumer sees: each chunk as JSON, then the error if there is one.
    fn replay(pieces: &[&[u8]]) -> Vec<Value> {
        let mut decoder = SseDecoder::new(1 << 20);
        let mut state =
            StreamState::new(ResponseContext { model: "gemini-requested".into(), created: 1_700_000_000 });
        let mut seen = Vec::new();
        let feed = |state: &mut StreamState, data: &str, seen: &mut Vec<Value>| -> bool {
            match state.on_event(data) {
                Ok(chunks) => {
                    seen.extend(chunks.iter().map(|chunk| serde_json::to_value(chunk).unwrap_or_default()));
                    true
                }
                Err(error) => {
                    seen.push(json!({ "error": error.to_string() }));
                    false
                }
            }
        };
        for piece in pieces {
            if decoder.push(piece).is_err() {
                panic!("the decoder refused the fixture");
            }
            while let Some(event) = decoder.next_event() {
                if !feed(&mut state, &event.data, &mut seen) {
                    return seen;
                }
            }
        }
        if let Some(event) = decoder.finish() {
            if !feed(&mut state, &event.data, &mut seen) {
                return seen;
            }
        }
        match state.finish() {
            Ok(chunks) => {
                seen.extend(chunks.iter().map(|chunk| serde_json::to_value(chunk).unwrap_or_default()))
            }
            Err(error) => seen.push(json!({ "error": error.to_string() })),
        }
        seen
    }

    /// Replays the fixture at every chunking of `split_points`, checks they all agree, compares with the
    /// expected chunks, and records the events for the conformance check.
    fn replay_fixture(name: &str) -> Vec<Value> {
        let body = std::fs::read(fixture_path(&format!("{name}.sse"))).unwrap_or_default();
        assert!(!body.is_empty(), "{name}.sse is missing");
        for line in String::from_utf8_lossy(&body).lines() {
            if let Some(event) =
                line.strip_prefix("data: ").and_then(|data| serde_json::from_str::<Value>(data).ok())
            {
                if event.get("error").is_none() {
                    vllora_llm_testkit::record_conformance("gemini-response", &event);
                }
            }
        }
        let whole = replay(&[&body]);
        for points in split_points(body.len()) {
            assert_eq!(
                replay(&split_at(&body, &points)),
                whole,
                "{name}: chunking {points:?} changes the result"
            );
        }
        let expected_path = fixture_path(&format!("{name}.expected.json"));
        if std::env::var_os("VLLORA_BLESS").is_some() {
            let pretty = serde_json::to_string_pretty(&whole).unwrap_or_default();
            std::fs::write(&expected_path, pretty + "\n").unwrap_or_default();
        }
        let expected: Value =
            serde_json::from_slice(&std::fs::read(&expected_path).unwrap_or_default()).unwrap_or_default();
        assert_eq!(Value::Array(whole.clone()), expected, "{name}: differs from {name}.expected.json");
        whole
    }

    fn finishes(chunks: &[Value]) -> Vec<(u64, String)> {
        chunks
            .iter()
            .flat_map(|chunk| chunk["choices"].as_array().cloned().unwrap_or_default())
            .filter(|choice| !choice["finish_reason"].is_null())
            .map(|choice| {
                (
                    choice["index"].as_u64().unwrap_or(99),
                    choice["finish_reason"].as_str().unwrap_or("").to_owned(),
                )
            })
            .collect()
    }

    fn text_of(chunks: &[Value], field: &str, index: u64) -> String {
        chunks
            .iter()
            .flat_map(|chunk| chunk["choices"].as_array().cloned().unwrap_or_default())
            .filter(|choice| choice["index"] == index)
            .filter_map(|choice| choice["delta"][field].as_str().map(str::to_owned))
            .collect()
    }

    #[test]
    fn text_thoughts_signature_and_final_usage() {
        let chunks = replay_fixture("text_and_thoughts");
        assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
        assert_eq!(chunks.iter().filter(|chunk| !chunk["choices"][0]["delta"]["role"].is_null()).count(), 1);
        assert_eq!(text_of(&chunks, "content", 0), "Bonjour à tous — ça va ? 🇫🇷");
        assert_eq!(
            text_of(&chunks, "reasoning_content", 0),
            "**Planning the reply**\n\nA greeting in French, kept short."
        );
        assert_eq!(finishes(&chunks), [(0, "stop".to_owned())]);
        let last_choice_chunk = &chunks[chunks.len() - 2];
        assert_eq!(
            last_choice_chunk["choices"][0]["delta"]["reasoning_details"],
            json!([{"type": "reasoning.text", "signature": "EpYCCpMCAdHtim+final/sig==", "provider": "gemini"}])
        );
        let usage = &chunks[chunks.len() - 1];
        assert_eq!(usage["choices"], json!([]));
        assert_eq!(usage["usage"]["prompt_tokens"], 2060);
        assert_eq!(usage["usage"]["completion_tokens"], 40);
        assert_eq!(usage["usage"]["prompt_tokens_details"]["cached_tokens"], 2048);
        assert_eq!(usage["usage"]["completion_tokens_details"]["reasoning_tokens"], 31);
        assert!(
            chunks
                .iter()
                .all(|chunk| chunk["id"] == "sse-text-1" && chunk["model"] == "gemini-3-flash-preview")
        );
    }

    #[test]
    fn whole_function_calls_become_indexed_tool_call_deltas() {
        let chunks = replay_fixture("function_calls");
        let calls: Vec<Value> = chunks
            .iter()
            .flat_map(|chunk| chunk["choices"].as_array().cloned().unwrap_or_default())
            .flat_map(|choice| choice["delta"]["tool_calls"].as_array().cloned().unwrap_or_default())
            .collect();
        assert_eq!(
            calls,
            [
                json!({"index": 0, "id": "call_sse-calls-1_0_0", "type": "function",
                       "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"},
                       "extra_content": {"google": {"thought_signature": "CiQBjz1rX2sig/paris=="}}}),
                json!({"index": 1, "id": "call_sse-calls-1_0_1", "type": "function",
                       "function": {"name": "get_weather", "arguments": "{\"city\":\"Rome\"}"}}),
            ]
        );
        assert_eq!(finishes(&chunks), [(0, "tool_calls".to_owned())]);
        assert_eq!(text_of(&chunks, "content", 0), "Let me check both cities.");
    }

    #[test]
    fn several_candidates_finish_separately() {
        let chunks = replay_fixture("two_candidates");
        assert_eq!(text_of(&chunks, "content", 0), "Red roses");
        assert_eq!(text_of(&chunks, "content", 1), "Blue skies.");
        assert_eq!(finishes(&chunks), [(0, "length".to_owned()), (1, "stop".to_owned())]);
        assert_eq!(chunks.last().map(|chunk| chunk["usage"]["total_tokens"].clone()), Some(json!(10)));
    }

    #[test]
    fn a_blocked_prompt_streams_a_content_filter_finish() {
        let chunks = replay_fixture("blocked");
        assert_eq!(finishes(&chunks), [(0, "content_filter".to_owned())]);
        assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
        assert_eq!(chunks.last().map(|chunk| chunk["usage"]["prompt_tokens"].clone()), Some(json!(7)));
    }

    #[test]
    fn candidates_after_a_blocked_prompt_do_not_finish_the_choice_again() {
        // Found by the fuzz target's property (at most one finish reason per choice).
        let body = concat!(
            "data: {\"promptFeedback\":{\"blockReason\":\"SAFETY\"}}\n\n",
            "data: {\"candidates\":[{\"index\":0,\"content\":{\"parts\":[{\"text\":\"hi\"}],",
            "\"role\":\"model\"},\"finishReason\":\"STOP\"}]}\n\n"
        );
        let chunks = replay(&[body.as_bytes()]);
        assert_eq!(finishes(&chunks), [(0, "content_filter".to_owned())]);
        let roles = chunks
            .iter()
            .flat_map(|chunk| chunk["choices"].as_array().cloned().unwrap_or_default())
            .filter(|choice| !choice["delta"]["role"].is_null())
            .count();
        assert_eq!(roles, 1, "{chunks:?}");
    }

    #[test]
    fn an_error_event_ends_the_stream_with_the_api_error() {
        let chunks = replay_fixture("error_midstream");
        assert_eq!(text_of(&chunks, "content", 0), "Bonjour");
        assert_eq!(
            chunks.last(),
            Some(
                &json!({"error": "gcp.gemini API error (HTTP 503, UNAVAILABLE): The model is overloaded. Please try again later."})
            )
        );
    }

    #[test]
    fn a_stream_cut_before_the_finish_reason_is_an_error() {
        let chunks = replay_fixture("truncated");
        assert_eq!(finishes(&chunks), []);
        assert_eq!(
            chunks.last(),
            Some(
                &json!({"error": "could not decode the gcp.gemini response: the stream ended before Gemini sent a finish reason"})
            )
        );
    }

    #[test]
    fn a_stream_cut_before_every_candidate_finished_is_an_error() {
        // The two-candidate fixture without its last event: candidate 1 never got its finish reason.
        let body = std::fs::read(fixture_path("two_candidates.sse")).unwrap_or_default();
        let text = String::from_utf8_lossy(&body);
        let third_event = text.match_indices("data:").nth(2).map_or(text.len(), |(start, _)| start);
        let chunks = replay(&[&body[..third_event]]);
        assert_eq!(finishes(&chunks), [(0, "length".to_owned())]);
        assert_eq!(
            chunks.last(),
            Some(
                &json!({"error": "could not decode the gcp.gemini response: the stream ended before Gemini sent a finish reason"})
            )
        );
    }

    #[test]
    fn every_prefix_of_every_event_is_handled_without_a_panic() {
        for name in ["text_and_thoughts", "function_calls", "two_candidates", "blocked", "error_midstream"] {
            let body = std::fs::read(fixture_path(&format!("{name}.sse"))).unwrap_or_default();
            let text = String::from_utf8_lossy(&body);
            for data in text.lines().filter_map(|line| line.strip_prefix("data: ")) {
                for end in (0..=data.len()).filter(|end| data.is_char_boundary(*end)) {
                    let mut state = StreamState::new(ResponseContext { model: "m".into(), created: 0 });
                    let _ = state.on_event(&data[..end]);
                    let _ = state.on_event(data);
                    let _ = state.finish();
                }
            }
        }
    }

    #[test]
    fn unknown_and_garbage_events() {
        let mut state = StreamState::new(ResponseContext { model: "m".into(), created: 0 });
        assert!(state.on_event("").is_ok_and(|chunks| chunks.is_empty()));
        assert!(state.on_event(r#"{"somethingNew": {"x": 1}}"#).is_ok_and(|chunks| chunks.is_empty()));
        assert!(matches!(state.on_event("{not json"), Err(LLMError::Decode { .. })));
    }
}
