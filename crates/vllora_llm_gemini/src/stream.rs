//! Gemini's `streamGenerateContent?alt=sse` events -> gateway chunks: [`GeminiStreamDecoder`], the
//! state machine the shared driver (`vllora_llm_http::ChunkStream`) feeds one lent event at a time.
//!
//! Each event is a whole `GenerateContentResponse` holding the next pieces of text and thoughts, whole
//! function calls, and (on a candidate's last event) its finish reason; usage comes with every event and
//! the last one counts. The decoder turns them into OpenAI-style chunks: the role on a choice's first
//! chunk, one tool-call delta per call with a stable index, the finish reason once (with Gemini's own
//! value in `raw_finish_reason`), and usage in a final chunk without choices.
//!
//! Gemini has no end marker: the answer is complete once every candidate asked for has finished and
//! usage has come on or after the event that finished the last of them (Gemini sends usage with its
//! last chunk), or once a blocked prompt has ended it. The caller then gets the final chunks at once,
//! without waiting for the server to close the body.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::Deserialize;

use vllora_llm_core::types::gateway::{
    CHUNK_OBJECT, ChatCompletionChunk, ChatCompletionDelta, ChunkChoice, FinishReason, Role, SharedStr,
};
use vllora_llm_core::{LLMError, LLMResult};
use vllora_llm_http::{Chunks, EndOfBody, HeaderMap, SseDecoder, SseEventRef, StatusCode, StreamDecoder};

use crate::PROVIDER_NAME;
use crate::error::map_error;
use crate::response::{
    PartAssembler, ResponseContext, ServerCounts, finish_reason, logprobs, response_nonce, usage,
};
use crate::wire::{
    Candidate, ErrorBody, FieldSeed, InPlace, OneOrMore, Part, PromptFeedback, ReadInPlace, UsageMetadata,
    first_time,
};

/// One stream event: a `GenerateContentResponse` (as [`crate::wire::GenerateContentResponse`] reads it)
/// whose response id and model version, needed from the first event only, are borrowed from the event
/// rather than copied from every one. Read in place ([`ReadInPlace`]): its first candidate and that
/// candidate's first part are part of it, and would otherwise be moved at every level of nesting.
#[derive(Debug, Default)]
struct StreamResponse<'a> {
    candidates: OneOrMore<Candidate<StreamContent<'a>>>,
    prompt_feedback: Option<PromptFeedback>,
    usage_metadata: Option<UsageMetadata>,
    model_version: Option<LentStr<'a>>,
    response_id: Option<LentStr<'a>>,
    /// Set instead of the rest when a stream fails midway.
    error: Option<ErrorBody>,
}

const RESPONSE_FIELDS: &[&str] =
    &["candidates", "promptFeedback", "usageMetadata", "modelVersion", "responseId", "error"];

/// The position of a field in [`RESPONSE_FIELDS`].
fn response_field(name: &str) -> Option<usize> {
    match name {
        "candidates" => Some(0),
        "promptFeedback" => Some(1),
        "usageMetadata" => Some(2),
        "modelVersion" => Some(3),
        "responseId" => Some(4),
        "error" => Some(5),
        _ => None,
    }
}

impl<'de: 'a, 'a> ReadInPlace<'de> for StreamResponse<'a> {
    fn read_in_place<D: serde::Deserializer<'de>>(&mut self, deserializer: D) -> Result<(), D::Error> {
        struct ResponseVisitor<'p, 'a>(&'p mut StreamResponse<'a>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for ResponseVisitor<'_, 'a> {
            type Value = ();
            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct StreamResponse")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
                let response = self.0;
                let mut seen = [false; RESPONSE_FIELDS.len()];
                while let Some(field) = map.next_key_seed(FieldSeed(response_field))? {
                    let Some(field) = field else {
                        map.next_value::<serde::de::IgnoredAny>()?;
                        continue;
                    };
                    first_time(&mut seen, RESPONSE_FIELDS, field)?;
                    match field {
                        0 => map.next_value_seed(InPlace(&mut response.candidates))?,
                        1 => response.prompt_feedback = map.next_value()?,
                        2 => response.usage_metadata = map.next_value()?,
                        3 => response.model_version = map.next_value()?,
                        4 => response.response_id = map.next_value()?,
                        _ => response.error = map.next_value()?,
                    }
                }
                Ok(())
            }
            /// The fields in order, as serde's derive reads a struct from a list.
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
                let response = self.0;
                if seq.next_element_seed(InPlace(&mut response.candidates))?.is_none() {
                    return Ok(());
                }
                let Some(prompt_feedback) = seq.next_element()? else { return Ok(()) };
                response.prompt_feedback = prompt_feedback;
                let Some(usage_metadata) = seq.next_element()? else { return Ok(()) };
                response.usage_metadata = usage_metadata;
                let Some(model_version) = seq.next_element()? else { return Ok(()) };
                response.model_version = model_version;
                let Some(response_id) = seq.next_element()? else { return Ok(()) };
                response.response_id = response_id;
                if let Some(error) = seq.next_element()? {
                    response.error = error;
                }
                Ok(())
            }
        }
        deserializer.deserialize_struct("StreamResponse", RESPONSE_FIELDS, ResponseVisitor(self))
    }
}

const CANDIDATE_FIELDS: &[&str] = &[
    "content",
    "finishReason",
    "finishMessage",
    "index",
    "logprobsResult",
    "groundingMetadata",
    "citationMetadata",
    "urlContextMetadata",
];

/// The position of a field in [`CANDIDATE_FIELDS`].
fn candidate_field(name: &str) -> Option<usize> {
    match name {
        "content" => Some(0),
        "finishReason" => Some(1),
        "finishMessage" => Some(2),
        "index" => Some(3),
        "logprobsResult" => Some(4),
        "groundingMetadata" => Some(5),
        "citationMetadata" => Some(6),
        "urlContextMetadata" => Some(7),
        _ => None,
    }
}

impl<'de: 'a, 'a> ReadInPlace<'de> for Candidate<StreamContent<'a>> {
    fn read_in_place<D: serde::Deserializer<'de>>(&mut self, deserializer: D) -> Result<(), D::Error> {
        struct CandidateVisitor<'p, 'a>(&'p mut Candidate<StreamContent<'a>>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for CandidateVisitor<'_, 'a> {
            type Value = ();
            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct Candidate")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
                let candidate = self.0;
                let mut seen = [false; CANDIDATE_FIELDS.len()];
                while let Some(field) = map.next_key_seed(FieldSeed(candidate_field))? {
                    let Some(field) = field else {
                        map.next_value::<serde::de::IgnoredAny>()?;
                        continue;
                    };
                    first_time(&mut seen, CANDIDATE_FIELDS, field)?;
                    match field {
                        0 => map.next_value_seed(InPlace(&mut candidate.content))?,
                        1 => candidate.finish_reason = map.next_value()?,
                        2 => candidate.finish_message = map.next_value()?,
                        3 => candidate.index = map.next_value()?,
                        4 => candidate.logprobs_result = map.next_value()?,
                        5 => candidate.grounding_metadata = map.next_value()?,
                        6 => candidate.citation_metadata = map.next_value()?,
                        _ => candidate.url_context_metadata = map.next_value()?,
                    }
                }
                Ok(())
            }
            /// The fields in order, as serde's derive reads a struct from a list.
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
                let candidate = self.0;
                if seq.next_element_seed(InPlace(&mut candidate.content))?.is_none() {
                    return Ok(());
                }
                let Some(finish_reason) = seq.next_element()? else { return Ok(()) };
                candidate.finish_reason = finish_reason;
                let Some(finish_message) = seq.next_element()? else { return Ok(()) };
                candidate.finish_message = finish_message;
                let Some(index) = seq.next_element()? else { return Ok(()) };
                candidate.index = index;
                let Some(logprobs_result) = seq.next_element()? else { return Ok(()) };
                candidate.logprobs_result = logprobs_result;
                let Some(grounding_metadata) = seq.next_element()? else { return Ok(()) };
                candidate.grounding_metadata = grounding_metadata;
                let Some(citation_metadata) = seq.next_element()? else { return Ok(()) };
                candidate.citation_metadata = citation_metadata;
                if let Some(url_context_metadata) = seq.next_element()? {
                    candidate.url_context_metadata = url_context_metadata;
                }
                Ok(())
            }
        }
        deserializer.deserialize_struct("Candidate", CANDIDATE_FIELDS, CandidateVisitor(self))
    }
}

const CONTENT_FIELDS: &[&str] = &["role", "parts"];

/// The position of a field in [`CONTENT_FIELDS`].
fn content_field(name: &str) -> Option<usize> {
    match name {
        "role" => Some(0),
        "parts" => Some(1),
        _ => None,
    }
}

impl<'de: 'a, 'a> ReadInPlace<'de> for StreamContent<'a> {
    fn read_in_place<D: serde::Deserializer<'de>>(&mut self, deserializer: D) -> Result<(), D::Error> {
        struct ContentVisitor<'p, 'a>(&'p mut StreamContent<'a>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for ContentVisitor<'_, 'a> {
            type Value = ();
            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct Content")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
                let content = self.0;
                let mut seen = [false; CONTENT_FIELDS.len()];
                while let Some(field) = map.next_key_seed(FieldSeed(content_field))? {
                    let Some(field) = field else {
                        map.next_value::<serde::de::IgnoredAny>()?;
                        continue;
                    };
                    first_time(&mut seen, CONTENT_FIELDS, field)?;
                    match field {
                        0 => content._role = map.next_value()?,
                        _ => map.next_value_seed(InPlace(&mut content.parts))?,
                    }
                }
                Ok(())
            }
            /// The fields in order, as serde's derive reads a struct from a list.
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
                let content = self.0;
                let Some(role) = seq.next_element()? else { return Ok(()) };
                content._role = role;
                seq.next_element_seed(InPlace(&mut content.parts))?;
                Ok(())
            }
        }
        deserializer.deserialize_struct("Content", CONTENT_FIELDS, ContentVisitor(self))
    }
}

/// A candidate's content in a stream event: [`crate::wire::Content`] with the role borrowed from the
/// event (Gemini sends "model" on every event; the chunks carry the assistant role on a choice's first
/// chunk) and the parts in a [`OneOrMore`], so an event's usual single part costs no list.
#[derive(Debug, Default)]
struct StreamContent<'a> {
    /// Read (a role that is not a string fails the event, as before) but not used.
    _role: Option<LentStr<'a>>,
    parts: OneOrMore<Part>,
}

/// A string borrowed from the event unless it had escapes. (`Option<Cow<str>>` would always copy: serde
/// borrows only a bare `Cow` field.)
#[derive(Debug)]
struct LentStr<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for LentStr<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct LentVisitor<'a>(std::marker::PhantomData<&'a str>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for LentVisitor<'a> {
            type Value = LentStr<'a>;
            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, text: &'de str) -> Result<LentStr<'a>, E> {
                Ok(LentStr(Cow::Borrowed(text)))
            }
            fn visit_str<E>(self, text: &str) -> Result<LentStr<'a>, E> {
                Ok(LentStr(Cow::Owned(text.to_owned())))
            }
            fn visit_string<E>(self, text: String) -> Result<LentStr<'a>, E> {
                Ok(LentStr(Cow::Owned(text)))
            }
        }
        deserializer.deserialize_str(LentVisitor(std::marker::PhantomData))
    }
}

/// Decodes one stream, event by event.
#[derive(Debug)]
pub(crate) struct GeminiStreamDecoder {
    context: ResponseContext,
    /// How many candidates the request asked for (`n`, 1 by default): the answer is not complete
    /// before that many have finished, even if the first to finish came with usage.
    expected_candidates: usize,
    id: Option<SharedStr>,
    model: Option<SharedStr>,
    candidates: BTreeMap<u32, CandidateState>,
    usage: Option<UsageMetadata>,
    blocked: bool,
    /// The answer is complete (and the final usage chunk made): nothing more is read.
    complete: bool,
    /// What tool-call ids are made from when Gemini sends no response id.
    nonce: String,
}

#[derive(Debug, Default)]
struct CandidateState {
    started: bool,
    parts: PartAssembler,
    finished: bool,
}

impl GeminiStreamDecoder {
    /// A decoder for an answer with `expected_candidates` candidates (the request's `n`).
    pub(crate) fn new(context: ResponseContext, expected_candidates: u32) -> Self {
        GeminiStreamDecoder {
            context,
            expected_candidates: usize::try_from(expected_candidates.max(1)).unwrap_or(1),
            id: None,
            model: None,
            candidates: BTreeMap::new(),
            usage: None,
            blocked: false,
            complete: false,
            nonce: response_nonce(),
        }
    }

    /// The chunks one event's `data` gives (often one, none for an empty keep-alive event).
    fn on_data(&mut self, data: &str, out: &mut Chunks) -> LLMResult<()> {
        // An event's data is nearly always one JSON object with nothing around it: then trim would
        // return it unchanged, and is skipped.
        let data = match (data.as_bytes().first(), data.as_bytes().last()) {
            (Some(b'{'), Some(b'}')) => data,
            _ => data.trim(),
        };
        if data.is_empty() || data == "[DONE]" {
            return Ok(());
        }
        let mut event = StreamResponse::default();
        let mut deserializer = serde_json::Deserializer::from_str(data);
        event
            .read_in_place(&mut deserializer)
            .and_then(|()| deserializer.end())
            .map_err(|error| LLMError::decode(PROVIDER_NAME, error))?;
        if event.error.is_some() {
            // An error event inside a 200 stream: the same mapper as an error response.
            return Err(map_error(StatusCode::OK, &HeaderMap::new(), data.as_bytes()));
        }
        if self.id.is_none() {
            self.id = event.response_id.as_ref().map(|id| SharedStr::from(&*id.0));
        }
        if self.model.is_none() {
            self.model = event.model_version.as_ref().map(|model| SharedStr::from(&*model.0));
        }
        if event.usage_metadata.is_some() {
            self.usage = event.usage_metadata;
        }
        if self.blocked && !event.candidates.is_empty() {
            // The blocked prompt already ended choice 0 with content_filter; a choice finishes once.
            tracing::warn!(provider = PROVIDER_NAME, "candidates after a blocked prompt were ignored");
            return Ok(());
        }
        // Room for exactly the candidates of the event (one, nearly always).
        let mut choices: Vec<ChunkChoice> = Vec::with_capacity(event.candidates.len());
        for (position, candidate) in event.candidates.iter_mut().enumerate() {
            let index = candidate.index.unwrap_or(u32::try_from(position).unwrap_or(u32::MAX));
            self.push_candidate_choice(index, candidate, &mut choices);
        }
        if event.candidates.is_empty() && !self.blocked {
            let feedback = event.prompt_feedback.as_ref();
            if let Some(block_reason) = feedback.and_then(|feedback| feedback.block_reason.as_deref()) {
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
                    raw_finish_reason: Some(SharedStr::from(block_reason)),
                });
            }
        }
        if !choices.is_empty() {
            out.push_back(self.chunk(choices));
        }
        // Usage on or after the event that finished the last candidate (or a blocked prompt) ends the
        // answer: Gemini sends nothing after it.
        let all_finished = self.candidates.len() >= self.expected_candidates && self.all_finished();
        if self.blocked || (all_finished && event.usage_metadata.is_some()) {
            self.complete = true;
            self.push_usage(out);
        }
        Ok(())
    }

    /// Whether candidates were seen and every one of them finished.
    fn all_finished(&self) -> bool {
        !self.candidates.is_empty() && self.candidates.values().all(|candidate| candidate.finished)
    }

    /// The final usage chunk, when Gemini reported usage.
    fn push_usage(&self, out: &mut Chunks) {
        if let Some(metadata) = &self.usage {
            let mut counts = ServerCounts::default();
            for candidate in self.candidates.values() {
                counts.add(candidate.parts.counts);
            }
            let mut chunk = self.chunk(Vec::new());
            chunk.usage = Some(usage(metadata, counts));
            out.push_back(chunk);
        }
    }

    /// The candidate's choice, if it brings anything, pushed onto `choices` (built in place there).
    fn push_candidate_choice(
        &mut self,
        index: u32,
        candidate: &mut Candidate<StreamContent<'_>>,
        choices: &mut Vec<ChunkChoice>,
    ) {
        let id_base = match &self.id {
            Some(id) => id.clone(),
            None => SharedStr::from(self.nonce.as_str()),
        };
        let state = self.candidates.entry(index).or_default();
        if state.finished {
            return;
        }
        let mut delta = ChatCompletionDelta::default();
        for part in candidate.content.iter_mut().flat_map(|content| content.parts.iter_mut()) {
            state.parts.push_part_taking(part, &id_base, index, &mut delta);
        }
        state.parts.push_metadata(candidate, &mut delta);
        if candidate.finish_reason.is_some() {
            state.parts.finish(&mut delta);
        }
        delta.provider_content = state.parts.take_ready();
        let raw_finish = candidate.finish_reason.as_deref();
        let finish = raw_finish.map(|raw| finish_reason(raw, state.parts.tool_calls() > 0));
        state.finished = finish.is_some();
        if finish.is_none() && is_empty(&delta) {
            return;
        }
        if !state.started {
            state.started = true;
            delta.role = Some(Role::Assistant);
        }
        let logprobs = candidate.logprobs_result.as_ref().map(logprobs);
        choices.push(ChunkChoice {
            index,
            delta,
            finish_reason: finish,
            logprobs,
            raw_finish_reason: raw_finish.map(SharedStr::from),
        });
    }

    fn chunk(&self, choices: Vec<ChunkChoice>) -> ChatCompletionChunk {
        ChatCompletionChunk {
            id: self.id.clone().unwrap_or_else(|| SharedStr::from("gemini-response")),
            object: CHUNK_OBJECT.into(),
            created: self.context.created,
            model: self.model.clone().unwrap_or_else(|| SharedStr::from(self.context.model.as_str())),
            choices,
            usage: None,
            system_fingerprint: None,
            service_tier: None,
        }
    }
}

/// Whether a delta carries nothing (`== ChatCompletionDelta::default()`, without making one to compare
/// with).
fn is_empty(delta: &ChatCompletionDelta) -> bool {
    let ChatCompletionDelta {
        role,
        content,
        reasoning_content,
        reasoning_details,
        tool_calls,
        refusal,
        provider_content,
        annotations,
    } = delta;
    role.is_none()
        && content.is_none()
        && reasoning_content.is_none()
        && reasoning_details.is_none()
        && tool_calls.is_none()
        && refusal.is_none()
        && provider_content.is_none()
        && annotations.is_none()
}

impl StreamDecoder for GeminiStreamDecoder {
    type Framing = SseDecoder;
    type Item = ChatCompletionChunk;

    fn provider(&self) -> &str {
        PROVIDER_NAME
    }

    fn on_event(&mut self, event: SseEventRef<'_>, out: &mut Chunks) -> LLMResult<()> {
        self.on_data(event.data, out)
    }

    fn is_complete(&self) -> bool {
        self.complete
    }

    /// The body ended before usage came after the last finish: when every candidate seen had finished
    /// (or the prompt was blocked) the answer is whole and its usage chunk, if any, comes now; otherwise
    /// it was cut short, which is an error rather than a silently shorter answer.
    fn on_end(&mut self, out: &mut Chunks) -> LLMResult<EndOfBody> {
        if self.complete {
            return Ok(EndOfBody::Complete);
        }
        if !self.all_finished() && !self.blocked {
            return Ok(EndOfBody::Truncated);
        }
        self.complete = true;
        self.push_usage(out);
        Ok(EndOfBody::Complete)
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use serde_json::{Value, json};
    use vllora_llm_http::decode_pieces;
    use vllora_llm_testkit::{split_at, split_points};

    use super::*;

    fn fixture_path(name: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/streams").join(name)
    }

    fn decoder() -> GeminiStreamDecoder {
        GeminiStreamDecoder::new(
            ResponseContext { model: "gemini-requested".into(), created: 1_700_000_000 },
            1,
        )
    }

    /// Everything a consumer of the shipped driver sees: each chunk as JSON, then the error if there is
    /// one.
    fn replay(pieces: &[&[u8]]) -> Vec<Value> {
        replay_chunks(pieces).0
    }

    /// [`replay`], with the chunks themselves (for what their JSON leaves out: `raw_finish_reason`).
    fn replay_chunks(pieces: &[&[u8]]) -> (Vec<Value>, Vec<ChatCompletionChunk>) {
        let (chunks, error) = decode_pieces(SseDecoder::new(1 << 20), decoder(), pieces.iter().copied());
        let mut seen: Vec<Value> =
            chunks.iter().map(|chunk| serde_json::to_value(chunk).unwrap_or_default()).collect();
        if let Some(error) = error {
            seen.push(json!({ "error": error.to_string() }));
        }
        (seen, chunks)
    }

    /// Replays the fixture at every chunking of `split_points` and checks they all agree; records the
    /// events for the conformance check.
    fn replay_fixture(name: &str) -> Vec<Value> {
        let body = std::fs::read(fixture_path(&format!("{name}.sse"))).unwrap_or_default();
        assert!(!body.is_empty(), "{name}.sse is missing");
        replay_body(name, &body)
    }

    fn replay_body(name: &str, body: &[u8]) -> Vec<Value> {
        for line in String::from_utf8_lossy(body).lines() {
            if let Some(event) =
                line.strip_prefix("data: ").and_then(|data| serde_json::from_str::<Value>(data).ok())
            {
                if event.get("error").is_none() {
                    let view = crate::response::conformance_view(&event);
                    vllora_llm_testkit::record_conformance("gemini-response", &view);
                }
            }
        }
        let whole = replay(&[body]);
        for points in split_points(body.len()) {
            assert_eq!(
                replay(&split_at(body, &points)),
                whole,
                "{name}: chunking {points:?} changes the result"
            );
        }
        whole
    }

    /// An event read in place, as the derived `GenerateContentResponse` would read it (`None`: rejected).
    fn read_in_place_as_derived(json: &str) -> Option<crate::wire::GenerateContentResponse> {
        let mut event = StreamResponse::default();
        let mut deserializer = serde_json::Deserializer::from_str(json);
        event.read_in_place(&mut deserializer).and_then(|()| deserializer.end()).ok()?;
        let lent = |text: Option<LentStr<'_>>| text.map(|text| text.0.into_owned());
        let mut candidates = Vec::new();
        for candidate in event.candidates.iter_mut() {
            let content = candidate.content.as_mut().map(|content| crate::wire::Content {
                role: content._role.take().map(|role| role.0.into_owned()),
                parts: content.parts.iter_mut().map(std::mem::take).collect(),
            });
            candidates.push(Candidate {
                content,
                finish_reason: candidate.finish_reason.take(),
                finish_message: candidate.finish_message.take(),
                index: candidate.index,
                logprobs_result: candidate.logprobs_result.take(),
                grounding_metadata: candidate.grounding_metadata.take(),
                citation_metadata: candidate.citation_metadata.take(),
                url_context_metadata: candidate.url_context_metadata.take(),
            });
        }
        Some(crate::wire::GenerateContentResponse {
            candidates,
            prompt_feedback: event.prompt_feedback,
            usage_metadata: event.usage_metadata,
            model_version: lent(event.model_version),
            response_id: lent(event.response_id),
            error: event.error,
        })
    }

    #[test]
    fn a_delta_is_empty_when_it_equals_the_default() {
        assert!(is_empty(&ChatCompletionDelta::default()));
        let set: [fn(&mut ChatCompletionDelta); 8] = [
            |delta| delta.role = Some(Role::Assistant),
            |delta| delta.content = Some(String::new()),
            |delta| delta.reasoning_content = Some(String::new()),
            |delta| delta.reasoning_details = Some(Vec::new()),
            |delta| delta.tool_calls = Some(Vec::new()),
            |delta| delta.refusal = Some(String::new()),
            |delta| delta.provider_content = Some(Vec::new()),
            |delta| delta.annotations = Some(Vec::new()),
        ];
        for set in set {
            let mut delta = ChatCompletionDelta::default();
            set(&mut delta);
            assert_ne!(delta, ChatCompletionDelta::default());
            assert!(!is_empty(&delta), "{delta:?}");
        }
    }

    #[test]
    fn each_field_matcher_gives_the_position_in_its_list() {
        for (fields, matcher) in [
            (RESPONSE_FIELDS, response_field as fn(&str) -> Option<usize>),
            (CANDIDATE_FIELDS, candidate_field),
            (CONTENT_FIELDS, content_field),
        ] {
            for (position, name) in fields.iter().enumerate() {
                assert_eq!(matcher(name), Some(position), "{name}");
            }
            assert_eq!(matcher("other"), None);
            assert_eq!(matcher(""), None);
        }
    }

    #[test]
    fn an_event_read_in_place_reads_and_rejects_what_the_derive_does() {
        for json in [
            r#"{"candidates":[{"content":{"parts":[{"text":"Hi"}],"role":"model"},"index":0}],"usageMetadata":{"promptTokenCount":2,"promptTokensDetails":[{"modality":"TEXT","tokenCount":2}]},"modelVersion":"m","responseId":"r"}"#,
            r#"{"candidates":[{"content":{"role":"model","parts":[{"text":"a\nb"},{"thought":true,"text":"t"},{"functionCall":{"name":"f","args":{}}}]},"finishReason":"STOP","finishMessage":"done","index":1,"groundingMetadata":{"webSearchQueries":["q"]},"citationMetadata":null,"urlContextMetadata":{"u":1},"logprobsResult":{"chosenCandidates":[{"token":"a","logProbability":-0.5}]},"safetyRatings":[{"x":[1]}]},{"index":0,"content":null}]}"#,
            r#"{"candidates":[],"promptFeedback":{"blockReason":"SAFETY","blockReasonMessage":"no"}}"#,
            r#"{"candidates":null}"#,
            r#"{"candidates":[{"content":{"parts":null}}]}"#,
            r#"{"candidates":[{"content":{"parts":[]}}]}"#,
            r#"{"candidates":[{"content":{}}]}"#,
            r#"{"candidates":[{}]}"#,
            r#"{"cand\u0069dates":[{"content":{"parts":[{"text":"escaped key"}]}}],"modelVersion":"m\u00e9"}"#,
            r#"{"error":{"code":429,"message":"slow down","status":"RESOURCE_EXHAUSTED"}}"#,
            r#"{}"#,
            r#"{"unknown":{"a":[1,{"b":2}]}}"#,
            r#"{"candidates":[{"index":0}],"candidates":[]}"#,
            r#"{"candidates":[{"index":0,"index":1}]}"#,
            r#"{"candidates":[{"content":{"role":"model","role":"user"}}]}"#,
            r#"{"candidates":[{"content":{"role":5}}]}"#,
            r#"{"candidates":[{"content":[]}]}"#,
            r#"{"candidates":[{"content":["model",[{"text":"a"}]]}]}"#,
            r#"{"candidates":[{"content":["model",[{"text":"a"}],1]}]}"#,
            r#"[[[null,"STOP",null,3]],null,{"promptTokenCount":1},"m","r",null]"#,
            r#"[[[[null,[{"text":"a"},{"text":"b"}]],"STOP","m",0,null,{"a":1},null,null]]]"#,
            r#"[[],null,null,null,null,null,1]"#,
            r#"{"candidates":[1]}"#,
            r#"{"candidates":{}}"#,
            r#"{"modelVersion":null,"responseId":7}"#,
            r#"{"candidates":[{"index":"0"}]}"#,
            r#"{"candidates":[{"content":{"parts":[{"text":"a"}]}}]} x"#,
            r#"{"candidates":[{"content":{"parts":[{"text":"a"}"#,
            r#"[]"#,
            r#"null"#,
        ] {
            let derived = serde_json::from_str::<crate::wire::GenerateContentResponse>(json).ok();
            assert_eq!(read_in_place_as_derived(json), derived, "{json}");
        }
    }

    /// Every `<case>.sse` replays (at every chunking) to exactly `<case>.expected.json`.
    #[test]
    fn every_stream_fixture_replays_to_its_expected_chunks() {
        let directory = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/streams");
        vllora_llm_testkit::golden(directory, "sse", "expected.json", |case, body| {
            Value::Array(replay_body(&case.name, body))
        });
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
                &json!({"error": "connection error: the gcp.gemini stream ended before the model finished its answer"})
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
                &json!({"error": "connection error: the gcp.gemini stream ended before the model finished its answer"})
            )
        );
    }

    /// Folds a stream's chunks for choice 0 into the message a caller accumulating deltas holds.
    fn accumulate(chunks: &[ChatCompletionChunk]) -> vllora_llm_core::types::gateway::ChatCompletionMessage {
        use vllora_llm_core::types::gateway::{ChatCompletionContent, ChatCompletionMessage, ToolCall};
        let mut message = ChatCompletionMessage { role: Role::Assistant, ..Default::default() };
        let mut text: Option<String> = None;
        let mut calls: Vec<ToolCall> = Vec::new();
        for delta in chunks.iter().flat_map(|chunk| &chunk.choices).map(|choice| &choice.delta) {
            if let Some(piece) = &delta.content {
                text.get_or_insert_with(String::new).push_str(piece);
            }
            if let Some(piece) = &delta.reasoning_content {
                message.reasoning_content.get_or_insert_with(String::new).push_str(piece);
            }
            if let Some(details) = &delta.reasoning_details {
                message.reasoning_details.get_or_insert_with(Vec::new).extend(details.iter().cloned());
            }
            if let Some(entries) = &delta.provider_content {
                message.provider_content.get_or_insert_with(Vec::new).extend(entries.iter().cloned());
            }
            for call in delta.tool_calls.iter().flatten() {
                let function = call.function.clone().unwrap_or_default();
                let mut whole = ToolCall::function(
                    call.id.clone().unwrap_or_default(),
                    function.name.unwrap_or_default(),
                    function.arguments.unwrap_or_default(),
                );
                whole.extra_content = call.extra_content.clone();
                calls.push(whole);
            }
        }
        message.content = text.map(ChatCompletionContent::Text);
        message.tool_calls = (!calls.is_empty()).then_some(calls);
        message
    }

    /// The streamed server-tool answer (thoughts and text in pieces, tool parts whole, grounding on the
    /// last event) adds up, at every chunking, to the one-shot answer: the same text, thoughts, call,
    /// block order with every native part and the grounding, and the same usage.
    #[test]
    fn server_tool_parts_stream_as_the_one_shot_answer_at_every_chunking() {
        let body = std::fs::read(fixture_path("server_tools.sse")).unwrap_or_default();
        let one_shot_path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/responses/server_tools.gemini.json");
        let one_shot_body = std::fs::read(one_shot_path).unwrap_or_default();
        let context = ResponseContext { model: "gemini-requested".into(), created: 1_700_000_000 };
        let Ok(one_shot) = crate::response::parse_response(&one_shot_body, &context) else {
            panic!("the one-shot fixture")
        };
        let expected = one_shot.message();
        assert!(expected.provider_content.as_ref().is_some_and(|entries| entries.len() == 9));
        for points in split_points(body.len()) {
            let pieces = split_at(&body, &points);
            let (chunks, error) = decode_pieces(SseDecoder::new(1 << 20), decoder(), pieces);
            assert!(error.is_none(), "{error:?}");
            assert_eq!(&accumulate(&chunks), expected, "split at {points:?}");
            let usage = chunks.iter().rev().find_map(|chunk| chunk.usage);
            assert_eq!(usage.as_ref(), one_shot.usage());
        }
    }

    /// An image a model generates in a stream arrives whole in `provider_content`, after the text before it.
    #[test]
    fn a_streamed_image_is_kept_in_order() {
        let chunks = replay_fixture("image");
        let entries: Vec<Value> = chunks
            .iter()
            .flat_map(|chunk| chunk["choices"].as_array().cloned().unwrap_or_default())
            .flat_map(|choice| choice["delta"]["provider_content"].as_array().cloned().unwrap_or_default())
            .collect();
        assert_eq!(entries.len(), 2, "{entries:?}");
        assert_eq!(entries[0], json!({"provider": "gcp.gemini", "type": "text", "len": 20}));
        assert_eq!(entries[1]["data"]["inlineData"]["mimeType"], "image/png");
        assert_eq!(entries[1]["data"]["thoughtSignature"], "bGl2ZS1pbWFnZS1zaWduYXR1cmU=");
        assert_eq!(text_of(&chunks, "content", 0), "Here is a small cat.");
        assert_eq!(finishes(&chunks), [(0, "stop".to_owned())]);
    }

    #[test]
    fn every_prefix_of_every_event_is_handled_without_a_panic() {
        for name in [
            "text_and_thoughts",
            "function_calls",
            "two_candidates",
            "blocked",
            "error_midstream",
            "server_tools",
            "image",
        ] {
            let body = std::fs::read(fixture_path(&format!("{name}.sse"))).unwrap_or_default();
            let text = String::from_utf8_lossy(&body);
            for data in text.lines().filter_map(|line| line.strip_prefix("data: ")) {
                for end in (0..=data.len()).filter(|end| data.is_char_boundary(*end)) {
                    let mut decoder =
                        GeminiStreamDecoder::new(ResponseContext { model: "m".into(), created: 0 }, 1);
                    let mut out = Chunks::new();
                    let _ = decoder.on_data(&data[..end], &mut out);
                    let _ = decoder.on_data(data, &mut out);
                    let _ = decoder.on_end(&mut out);
                }
            }
        }
    }

    #[test]
    fn unknown_and_garbage_events() {
        let mut decoder = GeminiStreamDecoder::new(ResponseContext { model: "m".into(), created: 0 }, 1);
        let mut out = Chunks::new();
        assert!(decoder.on_data("", &mut out).is_ok() && out.is_empty());
        assert!(decoder.on_data(r#"{"somethingNew": {"x": 1}}"#, &mut out).is_ok() && out.is_empty());
        assert!(matches!(decoder.on_data("{not json", &mut out), Err(LLMError::Decode { .. })));
    }

    #[test]
    fn final_chunks_carry_gemini_s_own_finish_reason() {
        let raw = |name: &str| -> Vec<(u32, Option<String>)> {
            let body = std::fs::read(fixture_path(&format!("{name}.sse"))).unwrap_or_default();
            replay_chunks(&[&body])
                .1
                .iter()
                .flat_map(|chunk| &chunk.choices)
                .filter(|choice| choice.finish_reason.is_some())
                .map(|choice| (choice.index, choice.raw_finish_reason.as_deref().map(str::to_owned)))
                .collect()
        };
        assert_eq!(raw("text_and_thoughts"), [(0, Some("STOP".to_owned()))]);
        assert_eq!(raw("function_calls"), [(0, Some("STOP".to_owned()))]);
        assert_eq!(raw("two_candidates"), [(0, Some("MAX_TOKENS".to_owned())), (1, Some("STOP".to_owned()))]);
        assert_eq!(raw("blocked"), [(0, Some("PROHIBITED_CONTENT".to_owned()))]);
        // Reasons the unified value cannot tell apart stay visible.
        for reason in ["UNEXPECTED_TOOL_CALL", "MODEL_ARMOR", "SAFETY", "MALFORMED_FUNCTION_CALL"] {
            let body = format!(
                "data: {{\"candidates\":[{{\"content\":{{\"parts\":[{{\"text\":\"x\"}}]}},\"finishReason\":\"{reason}\",\"index\":0}}],\"usageMetadata\":{{\"promptTokenCount\":1}}}}\n\n"
            );
            let (_, chunks) = replay_chunks(&[body.as_bytes()]);
            let raw: Vec<_> = chunks
                .iter()
                .flat_map(|chunk| &chunk.choices)
                .filter_map(|choice| choice.raw_finish_reason.as_deref())
                .collect();
            assert_eq!(raw, [reason]);
        }
    }

    #[test]
    fn the_answer_is_complete_once_usage_follows_the_last_finish() {
        let finished = "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"hi\"}]},\"finishReason\":\"STOP\",\"index\":0}]}\n\n";
        let usage = "data: {\"usageMetadata\":{\"promptTokenCount\":3,\"candidatesTokenCount\":1}}\n\n";
        let mut decoder = decoder();
        let mut out = Chunks::new();
        let mut feed = |decoder: &mut GeminiStreamDecoder, text: &str| {
            let data = text.trim().trim_start_matches("data: ");
            assert!(decoder.on_data(data, &mut out).is_ok());
        };
        feed(&mut decoder, finished);
        assert!(!decoder.is_complete(), "usage has not come yet");
        feed(&mut decoder, usage);
        assert!(decoder.is_complete());
        // A finish without usage, then the end of the body: whole, without a usage chunk.
        let mut decoder = self::decoder();
        let mut out = Chunks::new();
        assert!(decoder.on_data(finished.trim().trim_start_matches("data: "), &mut out).is_ok());
        assert!(matches!(decoder.on_end(&mut out), Ok(EndOfBody::Complete)));
        assert!(out.iter().all(|chunk| chunk.usage.is_none()));
        // Two candidates asked for: the first finishing with usage does not end the answer.
        let mut decoder = GeminiStreamDecoder::new(ResponseContext { model: "m".into(), created: 0 }, 2);
        let mut out = Chunks::new();
        let first = "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"a\"}]},\"finishReason\":\"STOP\",\"index\":0}],\"usageMetadata\":{\"promptTokenCount\":3}}";
        assert!(decoder.on_data(first, &mut out).is_ok());
        assert!(!decoder.is_complete());
    }
}
