//! Response bodies: hyper's body as a [`BodyStream`], the idle and total timeouts around it, and reading
//! a whole body under the size limit.

use std::pin::Pin;
use std::task::{Context, Poll, Waker};
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
/// One timer serves both: it fires at the nearer of the two. It is not re-armed per piece, which would
/// cost a timer update each time: it fires at the original instant, sees the recent progress and sleeps
/// again until the gap really is too long (or the deadline comes).
pub(crate) struct TimedBody {
    inner: Option<BodyStream>,
    idle: Option<Duration>,
    last_progress: Instant,
    total: Option<(Duration, Instant)>,
    /// `None` when neither limit applies.
    timer: Option<Pin<Box<Sleep>>>,
    /// The waker the pending timer was last polled with, as its data and vtable addresses. Polled again
    /// with that same waker before it has fired, the timer has nothing new to say and is not polled (a
    /// poll registers the waker again: the largest part of this wrapper's cost per read). The timer
    /// keeps its own clone of that waker, so what the addresses point to stays alive while they are held.
    timer_waker: Option<(usize, usize)>,
}

impl TimedBody {
    pub(crate) fn new(
        inner: BodyStream,
        idle: Option<Duration>,
        total: Option<(Duration, Instant)>,
    ) -> TimedBody {
        let now = Instant::now();
        // An idle timeout too long for the clock (`Duration::MAX`) is no limit.
        let idle_at = idle.and_then(|idle| now.checked_add(idle));
        let first = match (idle_at, total) {
            (Some(idle_at), Some((_, deadline))) => Some(idle_at.min(deadline)),
            (Some(idle_at), None) => Some(idle_at),
            (None, total) => total.map(|(_, deadline)| deadline),
        };
        TimedBody {
            inner: Some(inner),
            idle: idle.filter(|_| idle_at.is_some()),
            last_progress: now,
            total,
            timer: first.map(|at| Box::pin(tokio::time::sleep_until(at))),
            timer_waker: None,
        }
    }

    /// The nearer of the idle deadline (from the last progress) and the total deadline.
    fn next_deadline(&mut self) -> Option<Instant> {
        let idle_at = self.idle.and_then(|idle| self.last_progress.checked_add(idle));
        if idle_at.is_none() {
            self.idle = None;
        }
        let total_at = self.total.map(|(_, deadline)| deadline);
        match (idle_at, total_at) {
            (Some(idle_at), Some(total_at)) => Some(idle_at.min(total_at)),
            (at, None) | (None, at) => at,
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
                if let Some((total, deadline)) = this.total {
                    if this.last_progress >= deadline {
                        return this.fail(LLMError::Timeout { phase: TimeoutPhase::Total, after: total });
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
        if let (Some(timer), Some(waker)) = (this.timer.as_ref(), this.timer_waker.as_ref()) {
            if *waker == waker_identity(context.waker()) && !timer.is_elapsed() {
                return Poll::Pending;
            }
        }
        while let Some(timer) = this.timer.as_mut() {
            // Out of budget, Tokio's timer answers `Pending` without registering the waker: then it must
            // be polled again next time.
            let registers = tokio::task::coop::has_budget_remaining();
            if timer.as_mut().poll(context).is_pending() {
                this.timer_waker = registers.then(|| waker_identity(context.waker()));
                break;
            }
            let now = Instant::now();
            if let Some((total, deadline)) = this.total {
                if now >= deadline {
                    return this.fail(LLMError::Timeout { phase: TimeoutPhase::Total, after: total });
                }
            }
            if let Some(idle) = this.idle {
                if this.last_progress.checked_add(idle).is_some_and(|deadline| now >= deadline) {
                    return this.fail(LLMError::Timeout { phase: TimeoutPhase::Idle, after: idle });
                }
            }
            match this.next_deadline() {
                Some(at) => {
                    if let Some(timer) = this.timer.as_mut() {
                        timer.as_mut().reset(at);
                    }
                }
                None => this.timer = None,
            }
        }
        Poll::Pending
    }
}

/// A waker's data and vtable addresses: two wakers with both the same call the same functions on the
/// same data. (`Waker::will_wake` on a stored clone would do, but Tokio's `block_on` waker clones into
/// a vtable at another address, and then it says no every time.)
fn waker_identity(waker: &Waker) -> (usize, usize) {
    (waker.data() as usize, std::ptr::from_ref(waker.vtable()) as usize)
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

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::sync::mpsc;

    struct Channel(mpsc::UnboundedReceiver<LLMResult<Bytes>>);

    impl Stream for Channel {
        type Item = LLMResult<Bytes>;

        fn poll_next(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<Option<Self::Item>> {
            self.get_mut().0.poll_recv(context)
        }
    }

    /// A body sending a piece every `every`, `pieces` times, then nothing for an hour.
    fn steady_body(every: Duration, pieces: usize) -> BodyStream {
        let (sender, receiver) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            for _ in 0..pieces {
                tokio::time::sleep(every).await;
                let _ = sender.send(Ok(Bytes::from_static(b"x")));
            }
            tokio::time::sleep(Duration::from_secs(3600)).await;
        });
        Box::pin(Channel(receiver))
    }

    async fn next(body: &mut TimedBody) -> Option<LLMResult<Bytes>> {
        std::future::poll_fn(|context| Pin::new(&mut *body).poll_next(context)).await
    }

    /// Pieces closer together than the idle timeout keep the body alive past it, however long; the
    /// first gap as long as the timeout ends it, measured from the last piece.
    #[tokio::test(start_paused = true)]
    async fn progress_keeps_a_body_alive_until_a_gap_as_long_as_the_idle_timeout() {
        let idle = Duration::from_millis(100);
        let started = Instant::now();
        let mut body = TimedBody::new(steady_body(Duration::from_millis(60), 5), Some(idle), None);
        for _ in 0..5 {
            assert!(matches!(next(&mut body).await, Some(Ok(_))));
        }
        let ending = next(&mut body).await;
        assert!(
            matches!(ending, Some(Err(LLMError::Timeout { phase: TimeoutPhase::Idle, after })) if after == idle)
        );
        assert_eq!(started.elapsed(), Duration::from_millis(400));
    }

    /// Polls that find nothing new (a `select!` loop polling again, with the same waker) skip the timer's
    /// poll; they neither keep a stalled body alive nor lose the timer's wake-up.
    #[tokio::test(start_paused = true)]
    async fn polls_again_with_the_same_waker_keep_the_idle_timeout() {
        let idle = Duration::from_millis(100);
        let started = Instant::now();
        let mut body = TimedBody::new(steady_body(Duration::from_secs(1), 0), Some(idle), None);
        for _ in 0..3 {
            let polled =
                std::future::poll_fn(|context| Poll::Ready(Pin::new(&mut body).poll_next(context))).await;
            assert!(polled.is_pending());
        }
        let ending = next(&mut body).await;
        assert!(
            matches!(ending, Some(Err(LLMError::Timeout { phase: TimeoutPhase::Idle, after })) if after == idle)
        );
        assert_eq!(started.elapsed(), idle);
    }

    /// The deadline ends a body that keeps making progress, at the deadline, with the idle timer on
    /// too; the idle timeout still ends one that stalls first.
    #[tokio::test(start_paused = true)]
    async fn the_deadline_ends_a_steady_body_and_the_idle_timeout_a_stalled_one() {
        let (idle, total) = (Duration::from_millis(100), Duration::from_millis(250));
        let started = Instant::now();
        let deadline = Some((total, started + total));
        let mut body = TimedBody::new(steady_body(Duration::from_millis(60), 10), Some(idle), deadline);
        let mut pieces = 0;
        let ending = loop {
            match next(&mut body).await {
                Some(Ok(_)) => pieces += 1,
                other => break other,
            }
        };
        assert!(
            matches!(ending, Some(Err(LLMError::Timeout { phase: TimeoutPhase::Total, after })) if after == total)
        );
        assert_eq!((pieces, started.elapsed()), (4, total));

        let started = Instant::now();
        let deadline = Some((Duration::from_secs(1), started + Duration::from_secs(1)));
        let mut body = TimedBody::new(steady_body(Duration::from_millis(60), 2), Some(idle), deadline);
        let ending = loop {
            if let other @ (Some(Err(_)) | None) = next(&mut body).await {
                break other;
            }
        };
        assert!(matches!(ending, Some(Err(LLMError::Timeout { phase: TimeoutPhase::Idle, .. }))));
        assert_eq!(started.elapsed(), Duration::from_millis(220));
    }
}
