//! Response bodies: hyper's body as a [`BodyStream`], the idle and total timeouts around it, and reading
//! a whole body under the size limit.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures_core::Stream;
use http_body::Body;
use hyper::body::Incoming;
use tokio::time::{Instant, Sleep};
use vllora_llm_core::{LLMError, LLMResult, Limit, TimeoutPhase};

use crate::message::BodyStream;

/// hyper's response body as a stream of data pieces (trailers are skipped).
pub(crate) struct IncomingStream(pub(crate) Incoming);

impl Stream for IncomingStream {
    type Item = LLMResult<Bytes>;

    fn poll_next(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let body = &mut self.get_mut().0;
        loop {
            return match Pin::new(&mut *body).poll_frame(context) {
                Poll::Pending => Poll::Pending,
                Poll::Ready(None) => Poll::Ready(None),
                Poll::Ready(Some(Err(error))) => Poll::Ready(Some(Err(crate::transport::body_error(&error)))),
                Poll::Ready(Some(Ok(frame))) => match frame.into_data() {
                    Ok(data) if data.is_empty() => continue,
                    Ok(data) => Poll::Ready(Some(Ok(data))),
                    Err(_trailers) => continue,
                },
            };
        }
    }
}

/// A body under the idle timeout (the longest gap between two pieces) and a deadline for its end.
///
/// The idle timer is not re-armed per piece, which would cost a timer update each time: it fires at
/// the original instant, sees the recent progress and sleeps again until the gap really is too long.
pub(crate) struct TimedBody {
    inner: Option<BodyStream>,
    idle: Option<(Duration, Pin<Box<Sleep>>)>,
    last_progress: Instant,
    total: Option<(Duration, Instant, Pin<Box<Sleep>>)>,
}

impl TimedBody {
    pub(crate) fn new(
        inner: BodyStream,
        idle: Option<Duration>,
        total: Option<(Duration, Instant)>,
    ) -> TimedBody {
        let now = Instant::now();
        TimedBody {
            inner: Some(inner),
            // An idle timeout too long for the clock (`Duration::MAX`) is no limit.
            idle: idle.and_then(|idle| {
                now.checked_add(idle).map(|at| (idle, Box::pin(tokio::time::sleep_until(at))))
            }),
            last_progress: now,
            total: total
                .map(|(total, deadline)| (total, deadline, Box::pin(tokio::time::sleep_until(deadline)))),
        }
    }

    fn fail(&mut self, error: LLMError) -> Poll<Option<LLMResult<Bytes>>> {
        // Dropping the body closes the connection.
        self.inner = None;
        Poll::Ready(Some(Err(error)))
    }
}

impl Stream for TimedBody {
    type Item = LLMResult<Bytes>;

    fn poll_next(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        let Some(inner) = this.inner.as_mut() else { return Poll::Ready(None) };
        match inner.as_mut().poll_next(context) {
            Poll::Ready(Some(Ok(data))) => {
                this.last_progress = Instant::now();
                // A body that never pauses never lets the timer below run: check the deadline here too.
                if let Some((total, deadline, _)) = &this.total {
                    if this.last_progress >= *deadline {
                        let error = LLMError::Timeout { phase: TimeoutPhase::Total, after: *total };
                        return this.fail(error);
                    }
                }
                return Poll::Ready(Some(Ok(data)));
            }
            Poll::Ready(Some(Err(error))) => return this.fail(error),
            Poll::Ready(None) => {
                this.inner = None;
                return Poll::Ready(None);
            }
            Poll::Pending => {}
        }
        if let Some((total, _, sleep)) = this.total.as_mut() {
            if sleep.as_mut().poll(context).is_ready() {
                let error = LLMError::Timeout { phase: TimeoutPhase::Total, after: *total };
                return this.fail(error);
            }
        }
        if let Some((idle, sleep)) = this.idle.as_mut() {
            while sleep.as_mut().poll(context).is_ready() {
                let Some(deadline) = this.last_progress.checked_add(*idle) else {
                    this.idle = None;
                    break;
                };
                if Instant::now() >= deadline {
                    let error = LLMError::Timeout { phase: TimeoutPhase::Idle, after: *idle };
                    return this.fail(error);
                }
                sleep.as_mut().reset(deadline);
            }
        }
        Poll::Pending
    }
}

/// Wraps a body in the idle timeout and the call's deadline, unless neither applies.
pub(crate) fn timed(
    body: BodyStream,
    idle: Option<Duration>,
    total: Option<(Duration, Instant)>,
) -> BodyStream {
    if idle.is_none() && total.is_none() { body } else { Box::pin(TimedBody::new(body, idle, total)) }
}

/// Reads the start of an error body: at most `max_bytes`, for at most `within`. What arrived is kept
/// when the body stalls, breaks or goes on past the cap (the status already says what happened, and the
/// start of the body says why); the rest is never downloaded, since dropping the body closes the
/// connection.
pub(crate) async fn read_error_body(mut body: BodyStream, max_bytes: usize, within: Duration) -> Bytes {
    let mut kept = BytesMut::new();
    let reading = async {
        while kept.len() < max_bytes {
            match std::future::poll_fn(|context| body.as_mut().poll_next(context)).await {
                Some(Ok(piece)) => {
                    let room = max_bytes.saturating_sub(kept.len()).min(piece.len());
                    kept.extend_from_slice(piece.get(..room).unwrap_or_default());
                }
                Some(Err(_)) | None => break,
            }
        }
    };
    // Cut off at `within`: `Err(Elapsed)` only means the body stalled, and what it sent is kept.
    let _ = tokio::time::timeout(within, reading).await;
    kept.freeze()
}

/// Reads a whole body, refusing more than `max_bytes` (a larger `Content-Length` is refused before
/// reading). With `truncate`, the first `max_bytes` are returned instead of an error (for error bodies,
/// where the status matters more than the end of the text).
pub(crate) async fn read_to_end(
    mut body: impl Stream<Item = LLMResult<Bytes>> + Unpin,
    declared_length: Option<u64>,
    max_bytes: usize,
    truncate: bool,
) -> LLMResult<Bytes> {
    let too_large = LLMError::LimitExceeded { limit: Limit::ResponseBody, max_bytes };
    if !truncate && declared_length.is_some_and(|length| length > max_bytes as u64) {
        return Err(too_large);
    }
    let capacity_hint = declared_length.map(|length| length.min(max_bytes as u64));
    let mut first: Option<Bytes> = None;
    let mut joined: Option<BytesMut> = None;
    while let Some(piece) = std::future::poll_fn(|context| Pin::new(&mut body).poll_next(context)).await {
        let piece = piece?;
        let held = joined.as_ref().map_or_else(|| first.as_ref().map_or(0, Bytes::len), BytesMut::len);
        if held.saturating_add(piece.len()) > max_bytes {
            if !truncate {
                return Err(too_large);
            }
            let room = max_bytes - held;
            append(&mut first, &mut joined, piece.slice(..room), capacity_hint);
            break;
        }
        append(&mut first, &mut joined, piece, capacity_hint);
    }
    Ok(match (joined, first) {
        (Some(joined), _) => joined.freeze(),
        (None, Some(first)) => first,
        (None, None) => Bytes::new(),
    })
}

/// Keeps a body that arrives in one piece without copying it; copies only from the second piece on.
fn append(first: &mut Option<Bytes>, joined: &mut Option<BytesMut>, piece: Bytes, declared: Option<u64>) {
    if let Some(joined) = joined.as_mut() {
        joined.extend_from_slice(&piece);
    } else if let Some(previous) = first.take() {
        let capacity = declared.and_then(|length| usize::try_from(length).ok()).unwrap_or(0);
        let mut buffer = BytesMut::with_capacity(capacity.max(previous.len() + piece.len()));
        buffer.extend_from_slice(&previous);
        buffer.extend_from_slice(&piece);
        *joined = Some(buffer);
    } else {
        *first = Some(piece);
    }
}
