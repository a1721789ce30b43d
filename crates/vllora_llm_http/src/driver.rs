//! The one stream driver: a streamed body in, gateway chunks out, pulled by the consumer.
//!
//! Every provider's stream is a [`ChunkStream`]: the driver owns the loop (pull bytes, frame them, hand
//! each event to the provider's [`StreamDecoder`], hand its chunks to the caller), the end of the body
//! (one error for a body that ends before the answer does, whatever the provider) and what happens once
//! the answer is complete (the caller gets `None` at once; what the server still sends is drained only
//! while it is already there). The idle and total timeouts are applied to the body by
//! [`HttpClient::send_streaming`](crate::HttpClient::send_streaming) before the driver reads it; the
//! event size limit is the framing's.
//!
//! A provider supplies two things: a [`Framing`] (server-sent events with [`SseDecoder`], or its own,
//! such as AWS event-stream frames) and a [`StreamDecoder`], a state machine fed one lent event at a time.
//! No task, no channel: nothing runs unless the consumer polls, and dropping the stream closes the
//! connection.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_core::Stream;
use vllora_llm_core::types::gateway::ChatCompletionChunk;
use vllora_llm_core::{LLMError, LLMResult};

use crate::message::BodyStream;
use crate::sse::{SseDecoder, SseEventRef};

/// The items (gateway chunks, or Responses API events) a decoder has completed and the driver has not
/// handed out yet, oldest first.
pub type Chunks<T = ChatCompletionChunk> = VecDeque<T>;

/// How a streamed body is cut into events, which are lent to the decoder one at a time.
pub trait Framing: Send + Unpin + 'static {
    /// One event, borrowed from the framing's buffers.
    type Event<'a>
    where
        Self: 'a;

    /// Feeds the next bytes of the body. An error (an oversize or corrupt frame) ends the stream after the
    /// events completed before it have been taken.
    fn push(&mut self, bytes: &[u8]) -> LLMResult<()>;

    /// Feeds the next read of the body, handed over whole: a framing may keep it and lend events from it
    /// rather than copy them (then it may report an error from [`next_event`](Self::next_event) instead).
    fn push_owned(&mut self, bytes: Bytes) -> LLMResult<()> {
        self.push(&bytes)
    }

    /// The next complete event, if one is ready.
    fn next_event(&mut self) -> LLMResult<Option<Self::Event<'_>>>;

    /// Whether [`next_event`](Self::next_event) may give an event or an error now; `false` only when it
    /// would certainly give `Ok(None)` (the driver then skips that call). The default: `true`.
    fn may_have_event(&self) -> bool {
        true
    }

    /// The event last lent has been decoded and is no longer borrowed. A framing that lends events from
    /// a read it keeps lets the read go here once every event in it has been taken, so that a stream
    /// held between events pins no part of the connection's read buffer. The default does nothing.
    fn event_decoded(&mut self) {}

    /// The body has ended: the events it still completes (call until `None`), or an error when it ended
    /// inside one.
    fn finish(&mut self) -> LLMResult<Option<Self::Event<'_>>>;
}

impl Framing for SseDecoder {
    type Event<'a> = SseEventRef<'a>;

    fn push(&mut self, bytes: &[u8]) -> LLMResult<()> {
        SseDecoder::push(self, bytes)
    }

    /// Events that come whole in one read are lent from it: only events cut across reads are copied.
    fn push_owned(&mut self, bytes: Bytes) -> LLMResult<()> {
        SseDecoder::push_owned(self, bytes)
    }

    fn next_event(&mut self) -> LLMResult<Option<SseEventRef<'_>>> {
        self.next_event_lazy()
    }

    fn finish(&mut self) -> LLMResult<Option<SseEventRef<'_>>> {
        self.finish_lazy()
    }

    fn event_decoded(&mut self) {
        self.release_spent_input();
    }

    fn may_have_event(&self) -> bool {
        self.may_have_event()
    }
}

/// How the body ended, as the decoder judges it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndOfBody {
    /// The answer was complete (or had ended with an error already reported).
    Complete,
    /// The body ended before the model finished its answer: the driver reports
    /// [`LLMError::Connection`], the same for every provider.
    Truncated,
}

/// A provider's stream decoder: a state machine fed one event at a time, which turns the provider's
/// events into gateway chunks.
///
/// Rules every decoder keeps (the driver relies on them): the first chunk of a choice carries
/// `delta.role`; a choice's finish reason appears once, on its last chunk, with the provider's own value in
/// `raw_finish_reason`; usage comes in a final chunk without choices; unknown events are skipped. An
/// error returned by [`on_event`](Self::on_event) ends the stream.
pub trait StreamDecoder: Send + Unpin + 'static {
    /// How the provider frames its events.
    type Framing: Framing;

    /// What the stream yields: [`ChatCompletionChunk`] for chat completions.
    type Item: Send + Unpin + 'static;

    /// The provider's name, as errors and telemetry spell it.
    fn provider(&self) -> &str;

    /// One event in; the chunks it completes pushed to `out`.
    fn on_event(
        &mut self,
        event: <Self::Framing as Framing>::Event<'_>,
        out: &mut Chunks<Self::Item>,
    ) -> LLMResult<()>;

    /// Whether the provider has said the answer is complete (its end marker, or whatever ends the answer
    /// for a provider without one). From then on the driver reads nothing more: the caller gets the chunks
    /// already made, then `None`.
    fn is_complete(&self) -> bool;

    /// The body has ended without [`is_complete`](Self::is_complete): the chunks still held go to `out`,
    /// and the decoder says whether the answer was whole.
    fn on_end(&mut self, out: &mut Chunks<Self::Item>) -> LLMResult<EndOfBody>;
}

/// The most bytes read and dropped after the answer is complete, so that an HTTP/1.1 connection can go
/// back to the pool.
const DRAIN_LIMIT: usize = 64 * 1024;

/// The longest the driver waits, after the answer is complete, for the server to end the body (the
/// chunked terminator usually follows the end marker within microseconds). Past it the connection is
/// dropped instead of reused: a server that keeps talking after the end cannot hold the caller.
const DRAIN_GRACE: std::time::Duration = std::time::Duration::from_millis(50);

/// The gateway chunks (or other items) of one streamed response, decoded as the consumer pulls them. See the module docs.
pub struct ChunkStream<D: StreamDecoder> {
    /// `None` once the body has ended, failed or been dropped.
    body: Option<BodyStream>,
    framing: D::Framing,
    decoder: D,
    ready: Chunks<D::Item>,
    /// An error to report once the chunks completed before it have been handed out.
    error: Option<LLMError>,
    /// The last piece of the body may have left events in `framing` not decoded yet: they are decoded
    /// one at a time as the consumer pulls, so `ready` holds a chunk or two, never a whole read's worth.
    framed: bool,
    /// The framing's error on the last piece, reported once the events completed before it are decoded
    /// (and not at all if the answer completes first).
    push_error: Option<LLMError>,
    /// Nothing more is read: the answer is complete, or the stream failed or ended.
    done: bool,
    /// After the answer: when draining the rest of the body gives up, and how much it has read.
    drain_deadline: Option<Pin<Box<tokio::time::Sleep>>>,
    drained: usize,
}

impl<D: StreamDecoder> ChunkStream<D> {
    /// Drives `decoder` over `body`, cut into events by `framing`.
    pub fn new(body: BodyStream, framing: D::Framing, decoder: D) -> Self {
        ChunkStream {
            body: Some(body),
            framing,
            decoder,
            // Room for the one item most events complete: left to grow on the first push, the queue
            // would keep room for four (896 bytes of chat chunks) for as long as the stream is held.
            ready: Chunks::with_capacity(1),
            error: None,
            framed: false,
            push_error: None,
            done: false,
            drain_deadline: None,
            drained: 0,
        }
    }

    /// The next item, without importing a `StreamExt`; `None` once the stream has ended.
    pub async fn next(&mut self) -> Option<LLMResult<D::Item>> {
        std::future::poll_fn(|context| Pin::new(&mut *self).poll_next(context)).await
    }

    /// Takes every event `framing` has ready, or the events the end of the body completes.
    fn take_events(&mut self, at_end: bool) -> LLMResult<()> {
        loop {
            if self.decoder.is_complete() {
                return Ok(());
            }
            let event = if at_end { self.framing.finish()? } else { self.framing.next_event()? };
            let Some(event) = event else { return Ok(()) };
            self.decoder.on_event(event, &mut self.ready)?;
        }
    }

    /// Feeds one piece of the body; the events it completes are decoded as they are pulled
    /// ([`decode_framed`](Self::decode_framed)).
    fn on_bytes(&mut self, bytes: Bytes) {
        self.push_error = self.framing.push_owned(bytes).err();
        self.framed = true;
    }

    /// Decodes the next event the last piece completed, if any; once there is none, reports the
    /// framing's error on that piece. The events completed before a framing error are still delivered;
    /// the error comes after them. A framing error after the end marker (an oversize event the server
    /// sent after the answer) does not undo a complete answer: whether the body is read whole or in
    /// pieces, the outcome is the same.
    fn decode_framed(&mut self) {
        let decoded = if self.decoder.is_complete() {
            Ok(false)
        } else {
            self.framing.next_event().and_then(|event| match event {
                Some(event) => self.decoder.on_event(event, &mut self.ready).map(|()| true),
                None => Ok(false),
            })
        };
        match decoded {
            Ok(true) => {
                self.framing.event_decoded();
                // The piece held one event (one per read is common): the call that would find none is
                // skipped, unless the piece's framing error is still to be reported.
                if self.push_error.is_none() && !self.framing.may_have_event() {
                    self.framed = false;
                }
            }
            Ok(false) => {
                self.framed = false;
                let pushed = self.push_error.take();
                if let Some(error) = pushed.filter(|_| !self.decoder.is_complete()) {
                    self.fail(error);
                }
            }
            Err(error) => {
                self.framed = false;
                self.push_error = None;
                self.fail(error);
            }
        }
    }

    fn on_body_end(&mut self) {
        self.body = None;
        self.done = true;
        let outcome = self.take_events(true).and_then(|()| {
            if self.decoder.is_complete() {
                return Ok(EndOfBody::Complete);
            }
            self.decoder.on_end(&mut self.ready)
        });
        match outcome {
            Ok(EndOfBody::Complete) => {}
            Ok(EndOfBody::Truncated) => self.error = Some(truncated(self.decoder.provider())),
            Err(error) => self.fail(error),
        }
    }

    fn fail(&mut self, error: LLMError) {
        // The connection is not worth keeping after an error: dropping the body closes it.
        self.body = None;
        self.done = true;
        // Already false wherever this is called; `poll_next` looks at `framed` before the error.
        self.framed = false;
        self.error = Some(error);
    }

    /// The answer is complete: the rest of the body is read and dropped, so that a body that ends right
    /// after the end marker leaves its HTTP/1.1 connection to the pool, but at most [`DRAIN_LIMIT`] bytes
    /// and for at most [`DRAIN_GRACE`]; a server that keeps the body open after that loses its connection.
    fn poll_drain(&mut self, context: &mut Context<'_>) -> Poll<()> {
        let Some(body) = self.body.as_mut() else { return Poll::Ready(()) };
        loop {
            match body.as_mut().poll_next(context) {
                Poll::Ready(Some(Ok(bytes))) => {
                    self.drained = self.drained.saturating_add(bytes.len());
                    if self.drained > DRAIN_LIMIT {
                        break;
                    }
                }
                // Ended: the connection is reusable. Failed: nothing to keep.
                Poll::Ready(Some(Err(_)) | None) => break,
                Poll::Pending => {
                    // Without a Tokio runtime there is no timer to bound the wait: no drain.
                    if self.drain_deadline.is_none() && tokio::runtime::Handle::try_current().is_ok() {
                        self.drain_deadline = Some(Box::pin(tokio::time::sleep(DRAIN_GRACE)));
                    }
                    let waiting = self
                        .drain_deadline
                        .as_mut()
                        .is_some_and(|grace| grace.as_mut().poll(context).is_pending());
                    if waiting {
                        return Poll::Pending;
                    }
                    break;
                }
            }
        }
        self.body = None;
        Poll::Ready(())
    }
}

/// The error of a body that ends before the model finished its answer: the same for every provider.
pub fn truncated(provider: &str) -> LLMError {
    LLMError::Connection {
        message: format!("the {provider} stream ended before the model finished its answer"),
    }
}

impl<D: StreamDecoder> Stream for ChunkStream<D> {
    type Item = LLMResult<D::Item>;

    fn poll_next(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(chunk) = this.ready.pop_front() {
                return Poll::Ready(Some(Ok(chunk)));
            }
            // Before the error: an error is only ever set with `framed` false (the events of the last
            // piece are decoded first), and this is the check most polls take.
            if this.framed {
                this.decode_framed();
                continue;
            }
            if let Some(error) = this.error.take() {
                return Poll::Ready(Some(Err(error)));
            }
            if this.done || this.decoder.is_complete() {
                this.done = true;
                // The answer is whole: `None`, once the rest of the body is drained (briefly) or dropped.
                return this.poll_drain(context).map(|()| None);
            }
            let Some(body) = this.body.as_mut() else {
                this.done = true;
                return Poll::Ready(None);
            };
            match body.as_mut().poll_next(context) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(bytes))) => this.on_bytes(bytes),
                Poll::Ready(Some(Err(error))) => this.fail(error),
                Poll::Ready(None) => this.on_body_end(),
            }
        }
    }
}

impl<D: StreamDecoder + std::fmt::Debug> std::fmt::Debug for ChunkStream<D> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("ChunkStream")
            .field("open", &self.body.is_some())
            .field("decoder", &self.decoder)
            .field("ready", &self.ready.len())
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

/// Decodes a whole body given as pieces with the shipped framing and decoder, as [`ChunkStream`] would
/// deliver it: the chunks, then the error that ended the stream, if any. For replay tests and fuzz
/// targets, which must exercise the code that ships, not a copy of its loop.
pub fn decode_pieces<'a, D>(
    framing: D::Framing,
    decoder: D,
    pieces: impl IntoIterator<Item = &'a [u8]>,
) -> (Vec<D::Item>, Option<LLMError>)
where
    D: StreamDecoder,
{
    let pieces: Vec<LLMResult<bytes::Bytes>> =
        pieces.into_iter().map(|piece| Ok(bytes::Bytes::copy_from_slice(piece))).collect();
    let body: BodyStream = Box::pin(Pieces(pieces.into()));
    let mut stream = ChunkStream::new(body, framing, decoder);
    let waker = std::task::Waker::noop();
    let mut context = Context::from_waker(waker);
    let mut chunks = Vec::new();
    loop {
        match Pin::new(&mut stream).poll_next(&mut context) {
            Poll::Ready(Some(Ok(chunk))) => chunks.push(chunk),
            Poll::Ready(Some(Err(error))) => {
                // An error ends the stream: nothing may follow it.
                let after = Pin::new(&mut stream).poll_next(&mut context);
                debug_assert!(matches!(after, Poll::Ready(None)), "a chunk followed an error");
                return (chunks, Some(error));
            }
            // The pieces are all there: a pending poll cannot happen; treat it as the end.
            Poll::Ready(None) | Poll::Pending => return (chunks, None),
        }
    }
}

/// A body whose pieces are all there already.
struct Pieces(VecDeque<LLMResult<bytes::Bytes>>);

impl Stream for Pieces {
    type Item = LLMResult<bytes::Bytes>;

    fn poll_next(self: Pin<&mut Self>, _context: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Poll::Ready(self.get_mut().0.pop_front())
    }
}
