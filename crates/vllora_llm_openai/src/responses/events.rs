//! The Responses API's stream: its typed events, and the pulled stream that decodes them from
//! server-sent events.

use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use vllora_llm_core::{LLMError, LLMResult};
use vllora_llm_http::SseStream;

use super::types::{Response, ResponsesContentPart, ResponsesItem};

/// One event of a streamed response. Events this version does not model arrive as [`Other`], whole.
///
/// [`Other`]: ResponsesStreamEvent::Other
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
#[non_exhaustive]
pub enum ResponsesStreamEvent {
    /// The response exists (`status: in_progress`).
    #[serde(rename = "response.created")]
    Created(ResponseEvent),
    /// The response is being generated.
    #[serde(rename = "response.in_progress")]
    InProgress(ResponseEvent),
    /// The response is done: it carries the whole output and the usage.
    #[serde(rename = "response.completed")]
    Completed(ResponseEvent),
    /// The response failed: see its `error`.
    #[serde(rename = "response.failed")]
    Failed(ResponseEvent),
    /// The response stopped early: see its `incomplete_details`.
    #[serde(rename = "response.incomplete")]
    Incomplete(ResponseEvent),
    /// An output item starts.
    #[serde(rename = "response.output_item.added")]
    OutputItemAdded(OutputItemEvent),
    /// An output item is complete.
    #[serde(rename = "response.output_item.done")]
    OutputItemDone(OutputItemEvent),
    /// A content part of a message starts.
    #[serde(rename = "response.content_part.added")]
    ContentPartAdded(ContentPartEvent),
    /// A content part of a message is complete.
    #[serde(rename = "response.content_part.done")]
    ContentPartDone(ContentPartEvent),
    /// More output text.
    #[serde(rename = "response.output_text.delta")]
    OutputTextDelta(TextDeltaEvent),
    /// An output text part is complete: `text` is all of it.
    #[serde(rename = "response.output_text.done")]
    OutputTextDone(TextDoneEvent),
    /// More of a refusal.
    #[serde(rename = "response.refusal.delta")]
    RefusalDelta(TextDeltaEvent),
    /// More of a function call's arguments.
    #[serde(rename = "response.function_call_arguments.delta")]
    FunctionCallArgumentsDelta(TextDeltaEvent),
    /// A function call's arguments are complete.
    #[serde(rename = "response.function_call_arguments.done")]
    FunctionCallArgumentsDone(FunctionCallArgumentsDoneEvent),
    /// More of a reasoning summary.
    #[serde(rename = "response.reasoning_summary_text.delta")]
    ReasoningSummaryTextDelta(SummaryDeltaEvent),
    /// More reasoning text, from models that expose it.
    #[serde(rename = "response.reasoning_text.delta")]
    ReasoningTextDelta(TextDeltaEvent),
    /// The server reports an error; a `response.failed` may follow, or the body ends.
    #[serde(rename = "error")]
    Error(StreamErrorEvent),
    /// Any other event (`response.output_text.annotation.added`, built-in tools' progress...), whole.
    #[serde(untagged)]
    Other(Value),
}

impl ResponsesStreamEvent {
    /// The response of `response.created`, `.in_progress`, `.completed`, `.failed` and `.incomplete`.
    pub fn response(&self) -> Option<&Response> {
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
pub struct ResponseEvent {
    /// The response.
    pub response: Response,
    /// The event's position in the stream.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence_number: Option<u64>,
}

/// An output item that starts or is complete.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutputItemEvent {
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
pub struct ContentPartEvent {
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
pub struct TextDeltaEvent {
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
pub struct TextDoneEvent {
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
pub struct FunctionCallArgumentsDoneEvent {
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
pub struct SummaryDeltaEvent {
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
pub struct StreamErrorEvent {
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
    ResponsesStreamEvent::Error(StreamErrorEvent {
        code: error.get("code").filter(|code| !code.is_null()).cloned(),
        message: text("message").unwrap_or_else(|| document.to_string()),
        param: text("param"),
        sequence_number: None,
    })
}

/// The events of a streamed response, decoded as they are pulled. It ends after the terminal event
/// (`response.completed`, `.failed`, `.incomplete`), releasing the connection. A body that ends before
/// one is an error, unless an `error` event said why.
pub struct ResponsesEventStream {
    source: Source,
    provider: String,
    error_seen: bool,
}

enum Source {
    Events(SseStream),
    /// A server that ignored `stream: true` answered with the whole response.
    Ready(Option<ResponsesStreamEvent>),
    Done,
}

impl std::fmt::Debug for ResponsesEventStream {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("ResponsesEventStream")
            .field("provider", &self.provider)
            .finish_non_exhaustive()
    }
}

impl ResponsesEventStream {
    pub(crate) fn new(events: SseStream, provider: impl Into<String>) -> Self {
        ResponsesEventStream { source: Source::Events(events), provider: provider.into(), error_seen: false }
    }

    /// A stream of one `response.completed` event, for a server that answered in one document.
    pub(crate) fn completed(response: Response, provider: impl Into<String>) -> Self {
        let event = ResponsesStreamEvent::Completed(ResponseEvent { response, sequence_number: None });
        ResponsesEventStream {
            source: Source::Ready(Some(event)),
            provider: provider.into(),
            error_seen: false,
        }
    }

    /// The next event, or `None` at the end.
    pub async fn next(&mut self) -> Option<LLMResult<ResponsesStreamEvent>> {
        std::future::poll_fn(|context| Pin::new(&mut *self).poll_next(context)).await
    }
}

impl Stream for ResponsesEventStream {
    type Item = LLMResult<ResponsesStreamEvent>;

    fn poll_next(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            let events = match &mut this.source {
                Source::Done => return Poll::Ready(None),
                Source::Ready(event) => {
                    let event = event.take();
                    this.source = Source::Done;
                    return Poll::Ready(event.map(Ok));
                }
                Source::Events(events) => events,
            };
            let parsed = match Pin::new(events).poll_next(context) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(event))) => {
                    parse_event(&this.provider, event.event.as_deref(), &event.data)
                }
                Poll::Ready(Some(Err(error))) => Err(error),
                Poll::Ready(None) if this.error_seen => {
                    this.source = Source::Done;
                    return Poll::Ready(None);
                }
                Poll::Ready(None) => Err(LLMError::Connection {
                    message: format!("the {} stream ended before the response was complete", this.provider),
                }),
            };
            match parsed {
                Ok(None) => continue,
                Ok(Some(event)) => {
                    if event.is_terminal() {
                        this.source = Source::Done;
                    }
                    this.error_seen |= matches!(event, ResponsesStreamEvent::Error(_));
                    return Poll::Ready(Some(Ok(event)));
                }
                Err(error) => {
                    this.source = Source::Done;
                    return Poll::Ready(Some(Err(error)));
                }
            }
        }
    }
}
