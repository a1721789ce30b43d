//! The Responses API's stream: its typed events, and the decoder the one stream driver runs to make them
//! from server-sent events.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use vllora_llm_core::{LLMError, LLMResult};
use vllora_llm_http::{ChunkStream, Chunks, EndOfBody, SseDecoder, SseEventRef, StreamDecoder};

use super::types::{ResponsesResponse, ResponsesContentPart, ResponsesItem};

/// One event of a streamed response. Events this version does not model arrive as [`Other`], whole.
///
/// [`Other`]: ResponsesStreamEvent::Other
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
#[non_exhaustive]
pub enum ResponsesStreamEvent {
    /// The response exists (`status: in_progress`).
    #[serde(rename = "response.created")]
    Created(ResponsesResponseEvent),
    /// The response is being generated.
    #[serde(rename = "response.in_progress")]
    InProgress(ResponsesResponseEvent),
    /// The response is done: it carries the whole output and the usage.
    #[serde(rename = "response.completed")]
    Completed(ResponsesResponseEvent),
    /// The response failed: see its `error`.
    #[serde(rename = "response.failed")]
    Failed(ResponsesResponseEvent),
    /// The response stopped early: see its `incomplete_details`.
    #[serde(rename = "response.incomplete")]
    Incomplete(ResponsesResponseEvent),
    /// An output item starts.
    #[serde(rename = "response.output_item.added")]
    OutputItemAdded(ResponsesOutputItemEvent),
    /// An output item is complete.
    #[serde(rename = "response.output_item.done")]
    OutputItemDone(ResponsesOutputItemEvent),
    /// A content part of a message starts.
    #[serde(rename = "response.content_part.added")]
    ContentPartAdded(ResponsesContentPartEvent),
    /// A content part of a message is complete.
    #[serde(rename = "response.content_part.done")]
    ContentPartDone(ResponsesContentPartEvent),
    /// More output text.
    #[serde(rename = "response.output_text.delta")]
    OutputTextDelta(ResponsesTextDeltaEvent),
    /// An output text part is complete: `text` is all of it.
    #[serde(rename = "response.output_text.done")]
    OutputTextDone(ResponsesTextDoneEvent),
    /// More of a refusal.
    #[serde(rename = "response.refusal.delta")]
    RefusalDelta(ResponsesTextDeltaEvent),
    /// More of a function call's arguments.
    #[serde(rename = "response.function_call_arguments.delta")]
    FunctionCallArgumentsDelta(ResponsesTextDeltaEvent),
    /// A function call's arguments are complete.
    #[serde(rename = "response.function_call_arguments.done")]
    FunctionCallArgumentsDone(ResponsesFunctionCallArgumentsDoneEvent),
    /// More of a reasoning summary.
    #[serde(rename = "response.reasoning_summary_text.delta")]
    ReasoningSummaryTextDelta(ResponsesSummaryDeltaEvent),
    /// More reasoning text, from models that expose it.
    #[serde(rename = "response.reasoning_text.delta")]
    ReasoningTextDelta(ResponsesTextDeltaEvent),
    /// The server reports an error; a `response.failed` may follow, or the body ends.
    #[serde(rename = "error")]
    Error(ResponsesStreamErrorEvent),
    /// Any other event (`response.output_text.annotation.added`, built-in tools' progress...), whole.
    #[serde(untagged)]
    Other(Value),
}

impl ResponsesStreamEvent {
    /// The response of `response.created`, `.in_progress`, `.completed`, `.failed` and `.incomplete`.
    pub fn response(&self) -> Option<&ResponsesResponse> {
        match self {
            ResponsesStreamEvent::Created(event)
            | ResponsesStreamEvent::InProgress(event)
            | ResponsesStreamEvent::Completed(event)
            | ResponsesStreamEvent::Failed(event)
            | ResponsesStreamEvent::Incomplete(event) => Some(&event.response),
            _ => None,
        }
    }

    /// Whether this event ends the response: it completed, failed or stopped early.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            ResponsesStreamEvent::Completed(_)
                | ResponsesStreamEvent::Failed(_)
                | ResponsesStreamEvent::Incomplete(_)
        )
    }
}

/// An event that carries the response as it stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponsesResponseEvent {
    /// The response.
    pub response: ResponsesResponse,
    /// The event's position in the stream.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence_number: Option<u64>,
}

/// An output item that starts or is complete.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponsesOutputItemEvent {
    /// The item's position in `output`.
    #[serde(default)]
    pub output_index: u32,
    /// The item.
    pub item: ResponsesItem,
    /// The event's position in the stream.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence_number: Option<u64>,
}

/// A content part that starts or is complete.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponsesContentPartEvent {
    /// The message item's id.
    #[serde(default)]
    pub item_id: String,
    /// The item's position in `output`.
    #[serde(default)]
    pub output_index: u32,
    /// The part's position in the message's content.
    #[serde(default)]
    pub content_index: u32,
    /// The part.
    pub part: ResponsesContentPart,
    /// The event's position in the stream.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence_number: Option<u64>,
}

/// A piece of text: output text, a refusal, function arguments, reasoning.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponsesTextDeltaEvent {
    /// The item's id.
    #[serde(default)]
    pub item_id: String,
    /// The item's position in `output`.
    #[serde(default)]
    pub output_index: u32,
    /// The part's position in the item's content (absent on function arguments).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_index: Option<u32>,
    /// The new text.
    #[serde(default)]
    pub delta: String,
    /// The event's position in the stream.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence_number: Option<u64>,
}

/// A complete output text part.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponsesTextDoneEvent {
    /// The message item's id.
    #[serde(default)]
    pub item_id: String,
    /// The item's position in `output`.
    #[serde(default)]
    pub output_index: u32,
    /// The part's position in the message's content.
    #[serde(default)]
    pub content_index: u32,
    /// All of the part's text.
    #[serde(default)]
    pub text: String,
    /// The event's position in the stream.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence_number: Option<u64>,
}

/// A function call's complete arguments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponsesFunctionCallArgumentsDoneEvent {
    /// The function call item's id.
    #[serde(default)]
    pub item_id: String,
    /// The item's position in `output`.
    #[serde(default)]
    pub output_index: u32,
    /// The function's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// All of the arguments, as a JSON text.
    #[serde(default)]
    pub arguments: String,
    /// The event's position in the stream.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence_number: Option<u64>,
}

/// A piece of a reasoning summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponsesSummaryDeltaEvent {
    /// The reasoning item's id.
    #[serde(default)]
    pub item_id: String,
    /// The item's position in `output`.
    #[serde(default)]
    pub output_index: u32,
    /// The summary part's position.
    #[serde(default)]
    pub summary_index: u32,
    /// The new text.
    #[serde(default)]
    pub delta: String,
    /// The event's position in the stream.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence_number: Option<u64>,
}

/// The `error` event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponsesStreamErrorEvent {
    /// Such as `server_error` (a number on some compatible servers).
    #[serde(default)]
    pub code: Option<Value>,
    /// What happened.
    #[serde(default)]
    pub message: String,
    /// The parameter at fault.
    #[serde(default)]
    pub param: Option<String>,
    /// The event's position in the stream.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence_number: Option<u64>,
}

/// Decodes one event (its `event:` name, when it has one, and its data); `None` for what carries no
/// event (`[DONE]`, blank data). An `event: error` whose data is not OpenAI's `error` event (a compatible
/// server's `{"error": {...}}`) still becomes [`ResponsesStreamEvent::Error`].
pub(crate) fn parse_event(
    provider: &str,
    name: Option<&str>,
    data: &str,
) -> LLMResult<Option<ResponsesStreamEvent>> {
    let data = data.trim();
    if data.is_empty() || data == "[DONE]" {
        return Ok(None);
    }
    let event = serde_json::from_str(data).map_err(|error| {
        LLMError::decode(provider, format_args!("stream event is not a Responses API event: {error}"))
    })?;
    Ok(Some(match event {
        ResponsesStreamEvent::Other(value) if name == Some("error") => error_event(value),
        event => event,
    }))
}

/// The `error` event a foreign error document stands for.
fn error_event(document: Value) -> ResponsesStreamEvent {
    let error = document.get("error").unwrap_or(&document);
    let text = |field: &str| error.get(field).and_then(Value::as_str).map(str::to_owned);
    ResponsesStreamEvent::Error(ResponsesStreamErrorEvent {
        code: error.get("code").filter(|code| !code.is_null()).cloned(),
        message: text("message").unwrap_or_else(|| document.to_string()),
        param: text("param"),
        sequence_number: None,
    })
}

/// The events of a streamed response, decoded as they are pulled by the one stream driver. It ends after
/// the terminal event (`response.completed`, `.failed`, `.incomplete`), releasing the connection. A body
/// that ends before one is [`LLMError::Connection`], unless an `error` event said why.
///
/// Pull it as any [`Stream`](futures_core::Stream) (`StreamExt::next` of `futures`, or
/// [`std::future::poll_fn`] over `poll_next`).
pub type ResponsesEventStream = ChunkStream<ResponsesStreamDecoder>;

/// The Responses API's stream decoder, which [`ResponsesEventStream`] runs: one lent server-sent event
/// in, one [`ResponsesStreamEvent`] out. Made by [`OpenAIResponses`](crate::OpenAIResponses) only.
#[derive(Debug)]
pub struct ResponsesStreamDecoder {
    provider: String,
    /// An `error` event was seen: a body that ends after it ends cleanly.
    error_seen: bool,
    /// A terminal event was seen: nothing more is read.
    terminal_seen: bool,
    /// The one event of a server that answered with the whole response, handed out when the (already
    /// read) body ends.
    held: Option<ResponsesStreamEvent>,
}

impl ResponsesStreamDecoder {
    /// The decoder of a stream from `provider` (the name its errors carry).
    pub(crate) fn new(provider: impl Into<String>) -> Self {
        ResponsesStreamDecoder {
            provider: provider.into(),
            error_seen: false,
            terminal_seen: false,
            held: None,
        }
    }

    /// A decoder with nothing left to read: one `response.completed` event for `response`, handed out when
    /// the body ends, for a server that answered in one document.
    pub(crate) fn completed(response: ResponsesResponse, provider: impl Into<String>) -> Self {
        let event =
            ResponsesStreamEvent::Completed(ResponsesResponseEvent { response, sequence_number: None });
        ResponsesStreamDecoder { held: Some(event), ..ResponsesStreamDecoder::new(provider) }
    }
}

impl StreamDecoder for ResponsesStreamDecoder {
    type Framing = SseDecoder;
    type Item = ResponsesStreamEvent;

    fn provider(&self) -> &str {
        &self.provider
    }

    fn on_event(&mut self, event: SseEventRef<'_>, out: &mut Chunks<ResponsesStreamEvent>) -> LLMResult<()> {
        let Some(event) = parse_event(&self.provider, event.event, event.data)? else { return Ok(()) };
        self.terminal_seen |= event.is_terminal();
        self.error_seen |= matches!(event, ResponsesStreamEvent::Error(_));
        out.push_back(event);
        Ok(())
    }

    fn is_complete(&self) -> bool {
        self.terminal_seen
    }

    fn on_end(&mut self, out: &mut Chunks<ResponsesStreamEvent>) -> LLMResult<EndOfBody> {
        if let Some(event) = self.held.take() {
            out.push_back(event);
            return Ok(EndOfBody::Complete);
        }
        Ok(if self.error_seen { EndOfBody::Complete } else { EndOfBody::Truncated })
    }
}
