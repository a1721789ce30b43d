//! Server-sent events: [`SseDecoder`], an incremental, linear-time decoder, and [`SseStream`] over a body.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::future::poll_fn;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_core::Stream;
use vllora_llm_core::{LLMError, LLMResult, Limit};

use crate::message::BodyStream;

/// One server-sent event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event` field: the event type, when the server named one.
    pub event: Option<String>,
    /// The `data` lines, joined with `\n` (invalid UTF-8 replaced by U+FFFD).
    pub data: String,
    /// The `id` field given in this event.
    pub id: Option<String>,
    /// The `retry` field (milliseconds) given in this event.
    pub retry: Option<u64>,
}

/// One server-sent event borrowed from the [`SseDecoder`] that decoded it: the lending form of
/// [`SseEvent`], which costs no allocation per event. See [`SseDecoder::next_event_ref`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SseEventRef<'a> {
    /// The `event` field: the event type, when the server named one.
    pub event: Option<&'a str>,
    /// The `data` lines, joined with `\n` (invalid UTF-8 replaced by U+FFFD).
    pub data: &'a str,
    /// The `id` field given in this event.
    pub id: Option<&'a str>,
    /// The `retry` field (milliseconds) given in this event.
    pub retry: Option<u64>,
}

impl SseEventRef<'_> {
    /// The owned copy of this event.
    pub fn to_owned_event(&self) -> SseEvent {
        SseEvent {
            event: self.event.map(str::to_owned),
            data: self.data.to_owned(),
            id: self.id.map(str::to_owned),
            retry: self.retry,
        }
    }
}

/// A decoded event waiting to be taken; its data is a range of the decoder's `data` buffer, or of the
/// read it came whole in (`in_input`).
#[derive(Debug, Default)]
struct ReadyEvent {
    event: Option<Cow<'static, str>>,
    data: std::ops::Range<usize>,
    in_input: bool,
    id: Option<String>,
    retry: Option<u64>,
}

/// The events decoded and not yet taken, oldest first. The first is held inline: most reads complete
/// one event, and a stream waiting between events then holds no queue allocation.
#[derive(Debug, Default)]
struct ReadyQueue {
    first: Option<ReadyEvent>,
    /// Only used while `first` is taken.
    rest: VecDeque<ReadyEvent>,
}

impl ReadyQueue {
    fn push_back(&mut self, event: ReadyEvent) {
        if self.first.is_none() {
            self.first = Some(event);
        } else {
            self.rest.push_back(event);
        }
    }

    fn pop_front(&mut self) -> Option<ReadyEvent> {
        let first = self.first.take();
        if !self.rest.is_empty() {
            self.first = self.rest.pop_front();
        }
        first
    }

    fn is_empty(&self) -> bool {
        self.first.is_none()
    }
}

const BYTE_ORDER_MARK: &[u8] = b"\xEF\xBB\xBF";

/// An incremental server-sent events decoder (the WHATWG `text/event-stream` rules).
///
/// Bytes go in with [`push`](SseDecoder::push) in pieces of any size; complete events come out of
/// [`next_event`](SseDecoder::next_event), or borrowed from the decoder with
/// [`next_event_ref`](SseDecoder::next_event_ref). Every input byte is examined once, so decoding is linear in
/// the input however it is split: only a line cut by a read boundary is copied aside until its end arrives.
/// Reads handed over with [`push_owned`](SseDecoder::push_owned) are decoded as their events are taken
/// ([`next_event_lazy`](SseDecoder::next_event_lazy)), and an event whose data came whole in one read is
/// lent from that read, not copied.
/// Lines may end with LF, CRLF or CR (also when a CR ends one read and its LF starts the next); comments
/// are skipped; a byte order mark at the start is ignored. An event larger than `max_event_size` is an
/// [`LLMError::LimitExceeded`], detected before the decoder holds more than that.
#[derive(Debug)]
pub struct SseDecoder {
    max_event_size: usize,
    /// The start of a line whose end has not arrived yet.
    partial_line: Vec<u8>,
    /// The last byte was a CR, so an LF at the start of the next push ends the same line.
    after_cr: bool,
    at_stream_start: bool,
    event: Option<Cow<'static, str>>,
    /// The data of the events in `ready`, then from `data_start` on the data of the event being read.
    /// One buffer reused for the whole stream: events lent out cost no allocation.
    data: String,
    data_start: usize,
    has_data: bool,
    id: Option<String>,
    retry: Option<u64>,
    ready: ReadyQueue,
    /// The event last taken with `next_event_ref`, whose strings it borrows.
    lent: ReadyEvent,
    /// The last read given with [`push_owned`](Self::push_owned), decoded as its events are taken: an
    /// event whose one data line came whole in it is lent from it, not copied.
    input: Bytes,
    /// How much of `input` has been decoded.
    input_pos: usize,
    /// The event being read has one data line so far, this range of `input` (not copied yet).
    pending: Option<std::ops::Range<usize>>,
    /// The text lent for an event read whole whose data is not UTF-8 (with U+FFFD replacements).
    lossy: String,
    failed: bool,
    bytes_examined: u64,
}

impl SseDecoder {
    /// A decoder that refuses events larger than `max_event_size` bytes.
    pub fn new(max_event_size: usize) -> Self {
        SseDecoder {
            max_event_size,
            partial_line: Vec::new(),
            after_cr: false,
            at_stream_start: true,
            event: None,
            data: String::new(),
            data_start: 0,
            has_data: false,
            id: None,
            retry: None,
            ready: ReadyQueue::default(),
            lent: ReadyEvent::default(),
            input: Bytes::new(),
            input_pos: 0,
            pending: None,
            lossy: String::new(),
            failed: false,
            bytes_examined: 0,
        }
    }

    /// Feeds the next bytes of the stream. After an error the decoder stays failed.
    pub fn push(&mut self, input: &[u8]) -> LLMResult<()> {
        if self.failed {
            return Err(self.limit_error());
        }
        self.reclaim();
        let result = self.settle().and_then(|()| self.push_lines(input));
        if result.is_err() {
            self.fail();
        }
        result
    }

    /// Feeds the next read of the stream, kept and decoded as its events are taken with
    /// [`next_event_lazy`](Self::next_event_lazy): an event that came whole in one read is lent from the
    /// read itself, and only events cut across reads are copied. Errors (an oversize event) are reported
    /// by `next_event_lazy` once the events before them are taken. The other ways to take events see the
    /// same events, in the same order.
    pub fn push_owned(&mut self, input: Bytes) -> LLMResult<()> {
        if self.failed {
            return Err(self.limit_error());
        }
        if !self.ready.is_empty() {
            // Events of the last read are still waiting (their data may be in it): this read is copied.
            return self.push(&input);
        }
        if self.pending.is_some() || self.input_pos < self.input.len() {
            if let Err(error) = self.settle() {
                self.fail();
                return Err(error);
            }
        }
        self.reclaim();
        self.input = input;
        self.input_pos = 0;
        Ok(())
    }

    /// The next complete event of what [`push_owned`](Self::push_owned) gave (or [`push`](Self::push)),
    /// lent as [`next_event_ref`](Self::next_event_ref) lends it; an error once the events decoded before
    /// it have been taken.
    pub fn next_event_lazy(&mut self) -> LLMResult<Option<SseEventRef<'_>>> {
        if self.ready.is_empty() && !self.failed && self.input_pos < self.input.len() {
            if let Err(error) = self.decode_input() {
                self.fail();
                return Err(error);
            }
        }
        match self.ready.pop_front() {
            Some(ready) => Ok(Some(self.lend(ready))),
            None => {
                self.release_spent_input();
                Ok(None)
            }
        }
    }

    /// Whether [`next_event_lazy`](Self::next_event_lazy) may give an event or an error now: `false` only
    /// when it would give `Ok(None)`.
    pub(crate) fn may_have_event(&self) -> bool {
        !self.ready.is_empty() || (!self.failed && self.input_pos < self.input.len())
    }

    /// Once every event of the last read given with [`push_owned`](Self::push_owned) has been taken
    /// (and the one last lent is no longer borrowed), the read goes now rather than at the next one, so
    /// that a stream waiting for more holds no part of the connection's read buffer (a slice keeps the
    /// whole buffer alive). The data line of an event not complete yet is copied first.
    pub(crate) fn release_spent_input(&mut self) {
        if !self.ready.is_empty() || self.input_pos < self.input.len() || self.input.is_empty() {
            return;
        }
        if self.pending.is_some() {
            self.reclaim();
            self.copy_pending();
        }
        self.input = Bytes::new();
        self.input_pos = 0;
    }

    /// Like [`finish_ref`](Self::finish_ref) for what [`push_owned`](Self::push_owned) gave: the events
    /// still in the last read, then those the end of the stream completes; an error as
    /// [`next_event_lazy`](Self::next_event_lazy) reports it.
    pub fn finish_lazy(&mut self) -> LLMResult<Option<SseEventRef<'_>>> {
        if self.ready.is_empty() && !self.failed && self.input_pos < self.input.len() {
            if let Err(error) = self.decode_input() {
                self.fail();
                return Err(error);
            }
        }
        if self.ready.is_empty() {
            self.complete();
        }
        Ok(self.ready.pop_front().map(|ready| self.lend(ready)))
    }

    /// After an error: the unfinished event goes; the events decoded before it are still delivered.
    fn fail(&mut self) {
        self.failed = true;
        self.partial_line = Vec::new();
        self.pending = None;
        self.input_pos = self.input.len();
        self.data.truncate(self.data_start);
    }

    /// Decodes `input` from `input_pos` until an event is ready or the read is used up.
    fn decode_input(&mut self) -> LLMResult<()> {
        // For the lines read one by one, a second handle (a reference count), so that they can be read
        // while `self` changes; the pending data line is still read from `self.input`. Made only when
        // needed: taking and dropping it costs more than the one-step decoding of a usual event.
        let mut second: Option<Bytes> = None;
        let mut result = Ok(());
        while self.ready.is_empty() {
            let position = self.input_pos;
            if position >= self.input.len() {
                break;
            }
            // The one-step decoding does not read `self.input`: the read is moved out meanwhile.
            let input = std::mem::take(&mut self.input);
            let used = input.get(position..).and_then(|rest| self.one_line_event(rest, position));
            self.input = input;
            if let Some(used) = used {
                self.input_pos = position.saturating_add(used);
                continue;
            }
            let input = second.get_or_insert_with(|| self.input.clone());
            let Some(rest) = input.get(position..).filter(|rest| !rest.is_empty()) else { break };
            match self.line(rest, Some(position)) {
                Ok(used) => self.input_pos = self.input_pos.saturating_add(used),
                Err(error) => {
                    result = Err(error);
                    break;
                }
            }
        }
        result
    }

    /// The shape nearly every event has, `data: ...` then an empty line (LF endings), whole at the start of
    /// `rest` (at `origin` in `input`) with nothing else of the event before it: decoded in one step, to
    /// be lent from the read. Returns how many bytes it used, or `None` (nothing done) for anything else,
    /// which the line by line decoding then reads (the same events, limits and errors).
    ///
    /// An `event: <name>` line before the data line (Anthropic's and the Responses API's shape) is read in
    /// the same step.
    fn one_line_event(&mut self, rest: &[u8], origin: usize) -> Option<usize> {
        if self.after_cr || self.at_stream_start || self.has_data || !self.partial_line.is_empty() {
            return None;
        }
        let (name, name_line_len) = match rest.strip_prefix(b"event:") {
            Some(name_and_more) => {
                let end = memchr::memchr2(b'\n', b'\r', name_and_more)?;
                let (name, after) = name_and_more.split_at(end);
                if after.first() != Some(&b'\n') {
                    return None;
                }
                let name = name.strip_prefix(b" ").unwrap_or(name);
                (Some(name), rest.len().saturating_sub(after.len()).saturating_add(1))
            }
            None => (None, 0),
        };
        let data_line = rest.get(name_line_len..)?;
        let value_and_more = data_line.strip_prefix(b"data:")?;
        let end = memchr::memchr2(b'\n', b'\r', value_and_more)?;
        let (value, after) = value_and_more.split_at(end);
        if after.get(..2) != Some(b"\n\n") {
            return None;
        }
        let value = value.strip_prefix(b" ").unwrap_or(value);
        let name_len = name.map_or(0, <[u8]>::len);
        if value.len().saturating_add(1) > self.max_event_size
            || name_len.saturating_add(1) > self.max_event_size
        {
            return None;
        }
        let line_len = name_line_len.saturating_add(data_line.len().saturating_sub(after.len()));
        let value_end = origin.saturating_add(line_len);
        self.count_examined(line_len.saturating_add(2));
        if let Some(name) = name {
            self.event = Some(event_name(name));
        }
        self.pending = Some(value_end.saturating_sub(value.len())..value_end);
        self.has_data = true;
        self.dispatch();
        Some(line_len.saturating_add(2))
    }

    /// What is left of the last read given with [`push_owned`](Self::push_owned) is decoded by copying,
    /// so that the read may go: the pending data line, then the lines not decoded yet.
    fn settle(&mut self) -> LLMResult<()> {
        self.copy_pending();
        if self.input_pos < self.input.len() {
            let input = self.input.clone();
            let rest = input.get(self.input_pos..).unwrap_or_default();
            self.input_pos = input.len();
            // Events decoded before may still lend from the read: it stays.
            return self.push_lines(rest);
        }
        Ok(())
    }

    /// Copies the pending data line (lent from the read so far) into `data`.
    fn copy_pending(&mut self) {
        if let Some(range) = self.pending.take() {
            let bytes = self.input.get(range).unwrap_or_default();
            match std::str::from_utf8(bytes) {
                Ok(text) => self.data.push_str(text),
                Err(_) => self.data.push_str(&String::from_utf8_lossy(bytes)),
            }
        }
    }

    fn push_lines(&mut self, input: &[u8]) -> LLMResult<()> {
        let mut position = 0;
        while let Some(rest) = input.get(position..).filter(|rest| !rest.is_empty()) {
            position = position.saturating_add(self.line(rest, None)?);
        }
        Ok(())
    }

    /// Decodes the first line of `rest` (not empty), or keeps it aside when its end has not arrived;
    /// returns how many bytes it used (at least one). `origin` is where `rest` starts in `input`, when it
    /// is a part of it.
    fn line(&mut self, rest: &[u8], origin: Option<usize>) -> LLMResult<usize> {
        if std::mem::take(&mut self.after_cr) && rest.first() == Some(&b'\n') {
            return Ok(1);
        }
        if rest.first() == Some(&b'\n') && self.partial_line.is_empty() {
            // An empty line (the end of an event), without a search.
            self.count_examined(1);
            self.process_line(&[], origin)?;
            return Ok(1);
        }
        let end = memchr::memchr2(b'\n', b'\r', rest);
        self.count_examined(end.map_or(rest.len(), |end| end.saturating_add(1)));
        let Some(end) = end else {
            if self.partial_line.len().saturating_add(rest.len()) > self.max_event_size {
                return Err(self.limit_error());
            }
            self.partial_line.extend_from_slice(rest);
            return Ok(rest.len());
        };
        let (line, after) = rest.split_at(end);
        if self.partial_line.is_empty() {
            self.process_line(line, origin.map(|origin| origin.saturating_add(end)))?;
        } else {
            if self.partial_line.len().saturating_add(line.len()) > self.max_event_size {
                return Err(self.limit_error());
            }
            let mut joined = std::mem::take(&mut self.partial_line);
            joined.extend_from_slice(line);
            let processed = self.process_line(&joined, None);
            joined.clear();
            self.partial_line = joined;
            processed?;
        }
        let mut used = end.saturating_add(1);
        if after.first() == Some(&b'\r') {
            match after.get(1) {
                Some(b'\n') => used = used.saturating_add(1),
                Some(_) => {}
                None => self.after_cr = true,
            }
        }
        Ok(used)
    }

    /// The next complete event, if one is ready.
    pub fn next_event(&mut self) -> Option<SseEvent> {
        self.settle_quietly();
        let ready = self.ready.pop_front()?;
        Some(self.owned(ready))
    }

    /// The next complete event, if one is ready, borrowed from the decoder: its strings live in the
    /// decoder's buffers, reused from event to event, so taking it costs no allocation. Takes the same
    /// events as [`next_event`](Self::next_event); the two may be mixed.
    pub fn next_event_ref(&mut self) -> Option<SseEventRef<'_>> {
        self.settle_quietly();
        let ready = self.ready.pop_front()?;
        Some(self.lend(ready))
    }

    /// What [`push_owned`](Self::push_owned) gave and was not decoded yet is decoded now, for the ways
    /// of taking events that report no error: an error leaves the decoder failed, and the next push
    /// reports it.
    fn settle_quietly(&mut self) {
        if !self.failed && (self.pending.is_some() || self.input_pos < self.input.len()) {
            self.reclaim();
            if self.settle().is_err() {
                self.fail();
            }
        }
    }

    /// Whether an event is ready to be taken.
    pub fn has_event(&self) -> bool {
        !self.ready.is_empty()
    }

    /// Like [`finish`](Self::finish), with the event borrowed as [`next_event_ref`](Self::next_event_ref)
    /// lends it.
    pub fn finish_ref(&mut self) -> Option<SseEventRef<'_>> {
        self.settle_quietly();
        self.complete();
        self.next_event_ref()
    }

    fn owned(&self, ready: ReadyEvent) -> SseEvent {
        let data = if ready.in_input {
            String::from_utf8_lossy(self.input.get(ready.data).unwrap_or_default()).into_owned()
        } else {
            self.data.get(ready.data).unwrap_or_default().to_owned()
        };
        SseEvent { event: ready.event.map(Cow::into_owned), data, id: ready.id, retry: ready.retry }
    }

    /// Lends `ready`: its data from `data`, or from the read it came whole in, checked as UTF-8 here (once).
    fn lend(&mut self, ready: ReadyEvent) -> SseEventRef<'_> {
        self.lent = ready;
        let SseDecoder { lent, data, input, lossy, .. } = self;
        let text = if lent.in_input {
            let bytes = input.get(lent.data.clone()).unwrap_or_default();
            match std::str::from_utf8(bytes) {
                Ok(text) => text,
                Err(_) => {
                    *lossy = String::from_utf8_lossy(bytes).into_owned();
                    lossy.as_str()
                }
            }
        } else {
            data.get(lent.data.clone()).unwrap_or_default()
        };
        SseEventRef { event: lent.event.as_deref(), data: text, id: lent.id.as_deref(), retry: lent.retry }
    }

    /// Once every decoded event has been taken, their data is dropped from the buffer (keeping its
    /// capacity) and the event being read moves to its start.
    fn reclaim(&mut self) {
        if self.ready.is_empty() && self.data_start > 0 {
            self.data.drain(..self.data_start);
            self.data_start = 0;
            self.lent.data = 0..0;
        }
    }

    /// Ends the stream: a last line without a line ending and a last event without a blank line are
    /// completed. Returns the next event; call it (or [`next_event`](Self::next_event)) until `None`.
    pub fn finish(&mut self) -> Option<SseEvent> {
        self.settle_quietly();
        self.complete();
        self.next_event()
    }

    fn complete(&mut self) {
        if !self.failed {
            self.reclaim();
            if !self.partial_line.is_empty() {
                let line = std::mem::take(&mut self.partial_line);
                // Errors were already reported when the line was buffered; a failure here keeps it failed.
                if self.process_line(&line, None).is_err() {
                    self.failed = true;
                }
            }
            self.dispatch();
        }
    }

    fn count_examined(&mut self, bytes: usize) {
        self.bytes_examined = self.bytes_examined.saturating_add(u64::try_from(bytes).unwrap_or(u64::MAX));
    }

    /// How many input bytes the decoder has examined: each byte once, whatever the chunking.
    #[cfg(any(test, feature = "fuzzing"))]
    pub(crate) fn bytes_examined(&self) -> u64 {
        self.bytes_examined
    }

    fn limit_error(&self) -> LLMError {
        LLMError::LimitExceeded { limit: Limit::Event, max_bytes: self.max_event_size }
    }

    /// Decodes one line; `end`, when the line is a part of `input`, is where it ends there.
    fn process_line(&mut self, mut line: &[u8], end: Option<usize>) -> LLMResult<()> {
        // Every line counts, whatever its field, and whether one read held it or several: a line cut by a
        // read boundary is held in `partial_line` under the same limit.
        if line.len() > self.max_event_size {
            return Err(self.limit_error());
        }
        if self.at_stream_start {
            self.at_stream_start = false;
            line = line.strip_prefix(BYTE_ORDER_MARK).unwrap_or(line);
        }
        if line.is_empty() {
            self.dispatch();
            return Ok(());
        }
        if line.first() == Some(&b':') {
            return Ok(());
        }
        let (field, value) = match line.iter().position(|&byte| byte == b':') {
            Some(colon) => {
                let value = line.get(colon + 1..).unwrap_or_default();
                (line.get(..colon).unwrap_or_default(), value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (line, &[][..]),
        };
        match field {
            b"data" => {
                let held = self.data.len().saturating_sub(self.data_start);
                let pending = self.pending.as_ref().map_or(0, std::ops::Range::len);
                if held.saturating_add(pending).saturating_add(value.len()).saturating_add(1)
                    > self.max_event_size
                {
                    return Err(self.limit_error());
                }
                match end {
                    // The first data line, whole in the read: lent from it when the event is taken
                    // (the value is the line's end).
                    Some(end) if !self.has_data => self.pending = Some(end.saturating_sub(value.len())..end),
                    _ => {
                        self.copy_pending();
                        if self.has_data {
                            self.data.push('\n');
                        }
                        match std::str::from_utf8(value) {
                            Ok(text) => self.data.push_str(text),
                            Err(_) => self.data.push_str(&String::from_utf8_lossy(value)),
                        }
                    }
                }
                self.has_data = true;
            }
            b"event" => self.event = Some(event_name(value)),
            b"id" if !value.contains(&0) => self.id = Some(String::from_utf8_lossy(value).into_owned()),
            b"retry" if !value.is_empty() && value.iter().all(u8::is_ascii_digit) => {
                self.retry = std::str::from_utf8(value).ok().and_then(|digits| digits.parse().ok());
            }
            _ => {}
        }
        Ok(())
    }

    fn dispatch(&mut self) {
        if self.has_data {
            self.has_data = false;
            let (data, in_input) = match self.pending.take() {
                Some(range) => (range, true),
                None => {
                    let end = self.data.len();
                    let range = self.data_start..end;
                    self.data_start = end;
                    (range, false)
                }
            };
            self.ready.push_back(ReadyEvent {
                event: self.event.take(),
                data,
                in_input,
                id: self.id.take(),
                retry: self.retry.take(),
            });
        } else {
            // A block without data is not an event (the WHATWG rule).
            self.event = None;
            self.id = None;
            self.retry = None;
        }
    }
}

/// Decodes a response body as server-sent events. See [`SseStream`].
pub fn sse_stream(body: BodyStream, max_event_size: usize) -> SseStream {
    SseStream { body: Some(body), decoder: SseDecoder::new(max_event_size), error: None }
}

/// The events of a body, as a [`Stream`] of `LLMResult<SseEvent>`.
///
/// A transport error or an oversize event is yielded once, after the events decoded before it, and ends
/// the stream. Dropping the stream drops the body, which closes the connection.
pub struct SseStream {
    body: Option<BodyStream>,
    decoder: SseDecoder,
    error: Option<LLMError>,
}

impl std::fmt::Debug for SseStream {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("SseStream")
            .field("open", &self.body.is_some())
            .field("decoder", &self.decoder)
            .finish()
    }
}

impl SseStream {
    /// The next event, without importing a `StreamExt`.
    pub async fn next(&mut self) -> Option<LLMResult<SseEvent>> {
        poll_fn(|context| Pin::new(&mut *self).poll_next(context)).await
    }
}

impl SseStream {
    /// Polls for the next event, lent as [`SseDecoder::next_event_ref`] lends it: no allocation per
    /// event. The same events, errors and end as the [`Stream`] implementation; the two may be mixed.
    pub fn poll_next_ref(&mut self, context: &mut Context<'_>) -> Poll<Option<LLMResult<SseEventRef<'_>>>> {
        // The event is taken only after the loop, once one is known to be ready, so that no borrow of the
        // decoder is held across the pushes.
        while !self.decoder.has_event() {
            if let Some(error) = self.error.take() {
                return Poll::Ready(Some(Err(error)));
            }
            let Some(body) = self.body.as_mut() else { return Poll::Ready(None) };
            match body.as_mut().poll_next(context) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(bytes))) => {
                    if let Err(error) = self.decoder.push(&bytes) {
                        self.body = None;
                        self.error = Some(error);
                    }
                }
                Poll::Ready(Some(Err(error))) => {
                    self.body = None;
                    self.error = Some(error);
                }
                Poll::Ready(None) => {
                    self.body = None;
                    return Poll::Ready(self.decoder.finish_ref().map(Ok));
                }
            }
        }
        Poll::Ready(self.decoder.next_event_ref().map(Ok))
    }
}

impl Stream for SseStream {
    type Item = LLMResult<SseEvent>;

    fn poll_next(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(event) = this.decoder.next_event() {
                return Poll::Ready(Some(Ok(event)));
            }
            if let Some(error) = this.error.take() {
                return Poll::Ready(Some(Err(error)));
            }
            let Some(body) = this.body.as_mut() else { return Poll::Ready(None) };
            match body.as_mut().poll_next(context) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(bytes))) => {
                    if let Err(error) = this.decoder.push(&bytes) {
                        this.body = None;
                        this.error = Some(error);
                    }
                }
                Poll::Ready(Some(Err(error))) => {
                    this.body = None;
                    this.error = Some(error);
                }
                Poll::Ready(None) => {
                    this.body = None;
                    return Poll::Ready(this.decoder.finish().map(Ok));
                }
            }
        }
    }
}

/// The event names Anthropic's Messages API and OpenAI's Responses API send, kept without an allocation
/// (one per event otherwise); any other name is copied.
fn event_name(value: &[u8]) -> Cow<'static, str> {
    const KNOWN: [&str; 24] = [
        "content_block_delta",
        "message_delta",
        "message_start",
        "message_stop",
        "content_block_start",
        "content_block_stop",
        "ping",
        "error",
        "response.output_text.delta",
        "response.function_call_arguments.delta",
        "response.reasoning_summary_text.delta",
        "response.reasoning_text.delta",
        "response.created",
        "response.in_progress",
        "response.completed",
        "response.incomplete",
        "response.failed",
        "response.output_item.added",
        "response.output_item.done",
        "response.content_part.added",
        "response.content_part.done",
        "response.output_text.done",
        "response.function_call_arguments.done",
        "response.reasoning_summary_text.done",
    ];
    match KNOWN.iter().find(|name| name.as_bytes() == value) {
        Some(name) => Cow::Borrowed(name),
        None => Cow::Owned(String::from_utf8_lossy(value).into_owned()),
    }
}

#[cfg(test)]
#[path = "sse_replay_tests.rs"]
mod replay_tests;

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(pieces: &[&[u8]]) -> Vec<SseEvent> {
        let mut decoder = SseDecoder::new(1 << 20);
        let mut events = Vec::new();
        for piece in pieces {
            assert!(decoder.push(piece).is_ok());
            events.extend(std::iter::from_fn(|| decoder.next_event()));
        }
        events.extend(std::iter::from_fn(|| decoder.finish()));
        events
    }

    fn data(text: &str) -> SseEvent {
        SseEvent { data: text.to_owned(), ..SseEvent::default() }
    }

    #[test]
    fn fields_comments_and_multi_line_data() {
        let input = b": keep-alive\n\nevent: message_start\nid: 7\nretry: 1500\ndata: {\"a\":\ndata:1}\nunknown: x\n\n";
        let events = decode_all(&[input]);
        assert_eq!(
            events,
            vec![SseEvent {
                event: Some("message_start".into()),
                data: "{\"a\":\n1}".into(),
                id: Some("7".into()),
                retry: Some(1500),
            }]
        );
    }

    #[test]
    fn line_endings_lf_crlf_cr_and_a_cr_split_from_its_lf() {
        assert_eq!(
            decode_all(&[b"data: a\r\n\r\ndata: b\r\rdata: c\n\n"]),
            vec![data("a"), data("b"), data("c")]
        );
        assert_eq!(
            decode_all(&[b"data: a\r", b"\n", b"\r", b"\ndata: b\r\n\r\n"]),
            vec![data("a"), data("b")]
        );
        // A CR at the end of a read followed by a CR: two line endings, so the event ends.
        assert_eq!(decode_all(&[b"data: a\r", b"\rdata: b\n\n"]), vec![data("a"), data("b")]);
    }

    #[test]
    fn last_event_without_blank_line_byte_order_mark_and_empty_data() {
        assert_eq!(decode_all(&[b"data: one\n\ndata: two"]), vec![data("one"), data("two")]);
        assert_eq!(decode_all(&[b"\xEF\xBB", b"\xBFdata: x\n\n"]), vec![data("x")]);
        assert_eq!(decode_all(&[b"data\n\ndata:\n\n"]), vec![data(""), data("")]);
        // A block without data lines is not an event.
        assert_eq!(decode_all(&[b"event: ping\n\ndata: y\n\n"]), vec![data("y")]);
        assert_eq!(decode_all(&[b"retry: soon\ndata: z\n\n"]), vec![data("z")]);
    }

    /// The events `next_event_ref` lends when the input arrives in `pieces`, copied for comparison.
    fn decode_all_lent(pieces: &[&[u8]]) -> Vec<SseEvent> {
        let mut decoder = SseDecoder::new(1 << 20);
        let mut events = Vec::new();
        for piece in pieces {
            assert!(decoder.push(piece).is_ok());
            while let Some(event) = decoder.next_event_ref() {
                events.push(event.to_owned_event());
            }
        }
        while let Some(event) = decoder.finish_ref() {
            events.push(event.to_owned_event());
        }
        events
    }

    #[test]
    fn lent_events_are_the_owned_events_however_the_input_is_split() {
        let input: &[u8] =
            b"\xEF\xBB\xBF: hi\nevent: delta\nid: 1\nretry: 20\ndata: {\"a\":\r\ndata: 1}\r\n\r\n\
            data: two\r\revent: ping\n\ndata: \xFF\n\ndata: last";
        let whole = decode_all(&[input]);
        assert_eq!(whole.len(), 4);
        assert_eq!(whole.first().map(|event| event.data.as_str()), Some("{\"a\":\n1}"));
        assert_eq!(whole.get(2).map(|event| event.data.as_str()), Some("\u{FFFD}"));
        for split in 0..=input.len() {
            let (head, tail) = input.split_at(split);
            assert_eq!(decode_all_lent(&[head, tail]), whole, "split at {split}");
        }
        let bytes: Vec<&[u8]> = input.chunks(1).collect();
        assert_eq!(decode_all_lent(&bytes), whole);
        assert_eq!(decode_all(&bytes), whole);
    }

    /// The events `next_event_lazy` lends when the reads are handed over with `push_owned`, copied for
    /// comparison, and the error that ended them.
    fn decode_all_lazy(pieces: &[&[u8]], max: usize) -> (Vec<SseEvent>, Option<String>) {
        let mut decoder = SseDecoder::new(max);
        let mut events = Vec::new();
        for piece in pieces {
            if let Err(error) = decoder.push_owned(Bytes::copy_from_slice(piece)) {
                return (events, Some(error.to_string()));
            }
            loop {
                match decoder.next_event_lazy() {
                    Ok(Some(event)) => events.push(event.to_owned_event()),
                    Ok(None) => break,
                    Err(error) => return (events, Some(error.to_string())),
                }
            }
        }
        loop {
            match decoder.finish_lazy() {
                Ok(Some(event)) => events.push(event.to_owned_event()),
                Ok(None) => return (events, None),
                Err(error) => return (events, Some(error.to_string())),
            }
        }
    }

    #[test]
    fn events_lent_from_the_reads_are_the_copied_events_however_the_input_is_split() {
        let input: &[u8] =
            b"\xEF\xBB\xBF: hi\nevent: delta\nid: 1\nretry: 20\ndata: {\"a\":\r\ndata: 1}\r\n\r\n\
            data: two\r\revent: ping\n\ndata: \xFF\n\ndata: whole\n\ndata: last";
        let whole = decode_all(&[input]);
        assert_eq!(whole.len(), 5);
        assert_eq!(decode_all_lazy(&[input], 1 << 20), (whole.clone(), None));
        for split in 0..=input.len() {
            let (head, tail) = input.split_at(split);
            assert_eq!(decode_all_lazy(&[head, tail], 1 << 20), (whole.clone(), None), "split at {split}");
        }
        let bytes: Vec<&[u8]> = input.chunks(1).collect();
        assert_eq!(decode_all_lazy(&bytes, 1 << 20), (whole, None));
    }

    #[test]
    fn named_events_read_in_one_step_are_the_copied_events_however_the_input_is_split() {
        // Anthropic's shape (`event:` then `data:`), known and unknown names, a name with no space, a
        // CR after the name (not the one-step shape), a name line with no data before the blank line.
        let input: &[u8] = b"event: message_start\ndata: {\"a\":1}\n\nevent: custom_name\ndata: x\n\n\
            event:content_block_delta\ndata:y\n\nevent: ping\r\ndata: z\n\nevent: lone\n\ndata: after\n\n\
            event: error\ndata: {\"type\":\"error\"}\n\n";
        let whole = decode_all(&[input]);
        assert_eq!(
            whole.iter().map(|event| (event.event.as_deref(), event.data.as_str())).collect::<Vec<_>>(),
            vec![
                (Some("message_start"), "{\"a\":1}"),
                (Some("custom_name"), "x"),
                (Some("content_block_delta"), "y"),
                (Some("ping"), "z"),
                (None, "after"),
                (Some("error"), "{\"type\":\"error\"}"),
            ]
        );
        assert_eq!(decode_all_lazy(&[input], 1 << 20), (whole.clone(), None));
        for split in 0..=input.len() {
            let (head, tail) = input.split_at(split);
            assert_eq!(decode_all_lazy(&[head, tail], 1 << 20), (whole.clone(), None), "split at {split}");
        }
        // A name over the event size limit is the same error either way.
        let long: &[u8] = b"data: ok\n\nevent: a_name_longer_than_sixteen\ndata: x\n\n";
        let limit = LLMError::LimitExceeded { limit: Limit::Event, max_bytes: 16 }.to_string();
        let (events, error) = decode_all_lazy(&[long], 16);
        assert_eq!(events, vec![data("ok")]);
        assert_eq!(error.as_deref(), Some(limit.as_str()));
    }

    #[test]
    fn a_lazily_read_oversize_event_fails_after_the_events_before_it() {
        let limit = LLMError::LimitExceeded { limit: Limit::Event, max_bytes: 16 }.to_string();
        let input: &[u8] = b"data: ok\n\ndata: 0123456789abcdef\n\ndata: never\n\n";
        for split in 0..=input.len() {
            let (head, tail) = input.split_at(split);
            let (events, error) = decode_all_lazy(&[head, tail], 16);
            assert_eq!(events, vec![data("ok")], "split at {split}");
            assert_eq!(error.as_deref(), Some(limit.as_str()), "split at {split}");
        }
    }

    #[test]
    fn a_read_whose_events_are_all_taken_is_not_kept() {
        let mut decoder = SseDecoder::new(1 << 20);
        let taken = |decoder: &mut SseDecoder| match decoder.next_event_lazy() {
            Ok(Some(event)) => Some(event.data.to_owned()),
            _ => None,
        };
        let read = Bytes::from(b"data: a\n\n".to_vec());
        assert!(decoder.push_owned(read.clone()).is_ok());
        assert_eq!(taken(&mut decoder).as_deref(), Some("a"));
        assert!(!read.is_unique(), "the event lent from the read may still be borrowed");
        // The driver says when the event is decoded.
        decoder.release_spent_input();
        assert!(read.is_unique(), "the decoder still holds the read");
        // A whole event, then the data line of one whose blank line has not come: that line is copied
        // when no event is left, and the read goes.
        let read = Bytes::from(b"data: b\n\ndata: c\n".to_vec());
        assert!(decoder.push_owned(read.clone()).is_ok());
        assert_eq!(taken(&mut decoder).as_deref(), Some("b"));
        decoder.release_spent_input();
        assert!(!read.is_unique(), "the rest of the read is not decoded yet");
        assert_eq!(taken(&mut decoder), None);
        assert!(read.is_unique(), "the decoder still holds the read");
        assert!(decoder.push_owned(Bytes::from_static(b"\n")).is_ok());
        assert_eq!(taken(&mut decoder).as_deref(), Some("c"));
    }

    #[test]
    fn lazy_and_copied_reads_mix() {
        let mut decoder = SseDecoder::new(1 << 20);
        assert!(decoder.push_owned(Bytes::from_static(b"data: a\n\ndata: b\n\ndata: c")).is_ok());
        assert_eq!(decoder.next_event_lazy().ok().flatten().map(|event| event.data), Some("a"));
        // "b" is still in the read when the next one comes (copied, as `push` does).
        assert!(decoder.push(b"c\n\ndata: d\n").is_ok());
        assert_eq!(decoder.next_event(), Some(data("b")));
        assert_eq!(decoder.next_event_lazy().ok().flatten().map(|event| event.data), Some("cc"));
        assert!(decoder.push_owned(Bytes::from_static(b"\ndata: e\n\n")).is_ok());
        assert_eq!(decoder.next_event_ref().map(|event| event.data), Some("d"));
        assert_eq!(decoder.next_event_lazy().ok().flatten().map(|event| event.data), Some("e"));
        assert!(decoder.finish_lazy().is_ok_and(|event| event.is_none()));
    }

    #[test]
    fn lent_and_owned_events_mix_and_an_unread_event_survives_the_next_push() {
        let mut decoder = SseDecoder::new(1 << 20);
        assert!(decoder.push(b"data: a\n\ndata: b\n\ndata: c").is_ok());
        assert!(decoder.has_event());
        assert_eq!(decoder.next_event_ref().map(|event| event.data), Some("a"));
        // "b" is still waiting while more input arrives: its data must not move.
        assert!(decoder.push(b"c\n\ndata: d\n").is_ok());
        assert_eq!(decoder.next_event(), Some(data("b")));
        assert_eq!(decoder.next_event_ref().map(|event| event.data), Some("cc"));
        assert!(!decoder.has_event());
        assert!(decoder.next_event_ref().is_none());
        assert!(decoder.push(b"\n").is_ok());
        assert_eq!(decoder.next_event_ref(), Some(SseEventRef { data: "d", ..SseEventRef::default() }));
        assert!(decoder.finish_ref().is_none());
    }

    #[test]
    fn events_decoded_before_an_oversize_one_are_still_lent() {
        let mut decoder = SseDecoder::new(16);
        assert!(decoder.push(b"data: ok\n\ndata: 0123456789abcdef").is_err());
        assert_eq!(decoder.next_event_ref().map(|event| event.data), Some("ok"));
        assert!(decoder.next_event_ref().is_none());
        assert!(decoder.finish_ref().is_none());
    }

    #[test]
    fn the_stream_lends_the_events_then_the_error_then_ends() {
        let pieces: Vec<LLMResult<bytes::Bytes>> = vec![
            Ok(bytes::Bytes::from_static(b"event: e\ndata: one\n\nda")),
            Ok(bytes::Bytes::from_static(b"ta: two\n\n")),
            Err(LLMError::Connection { message: "cut".to_owned() }),
        ];
        let body: BodyStream = Box::pin(Pieces(pieces.into_iter()));
        let mut stream = sse_stream(body, 1 << 20);
        let waker = std::task::Waker::noop();
        let mut context = Context::from_waker(waker);
        let mut seen = Vec::new();
        loop {
            match stream.poll_next_ref(&mut context) {
                Poll::Ready(Some(Ok(event))) => seen.push(Ok(event.to_owned_event())),
                Poll::Ready(Some(Err(error))) => seen.push(Err(error.to_string())),
                Poll::Ready(None) => break,
                Poll::Pending => panic!("the body never waits"),
            }
        }
        let cut = LLMError::Connection { message: "cut".to_owned() }.to_string();
        assert_eq!(
            seen,
            vec![Ok(SseEvent { event: Some("e".into()), ..data("one") }), Ok(data("two")), Err(cut)]
        );
    }

    #[test]
    fn the_stream_lends_the_last_event_without_a_blank_line() {
        let body: BodyStream =
            Box::pin(Pieces(vec![Ok(bytes::Bytes::from_static(b"data: x\n\ndata: y"))].into_iter()));
        let mut stream = sse_stream(body, 1 << 20);
        let mut context = Context::from_waker(std::task::Waker::noop());
        let mut seen = Vec::new();
        while let Poll::Ready(Some(Ok(event))) = stream.poll_next_ref(&mut context) {
            seen.push(event.data.to_owned());
        }
        assert_eq!(seen, ["x", "y"]);
    }

    struct Pieces(std::vec::IntoIter<LLMResult<bytes::Bytes>>);

    impl Stream for Pieces {
        type Item = LLMResult<bytes::Bytes>;

        fn poll_next(self: Pin<&mut Self>, _context: &mut Context<'_>) -> Poll<Option<Self::Item>> {
            Poll::Ready(self.get_mut().0.next())
        }
    }

    #[test]
    fn oversize_events_are_refused_before_they_are_buffered() {
        let mut decoder = SseDecoder::new(16);
        assert!(decoder.push(b"data: 0123456789\n\n").is_ok());
        assert_eq!(decoder.next_event(), Some(data("0123456789")));
        let error = decoder.push(b"data: 0123456789abcdef\n");
        assert!(matches!(error, Err(LLMError::LimitExceeded { limit: Limit::Event, max_bytes: 16 })));
        assert!(decoder.push(b"\n").is_err(), "the decoder stays failed");

        let mut split = SseDecoder::new(16);
        assert!(split.push(b"data: 012345678").is_ok());
        assert!(split.push(b"9abcdef").is_err(), "a partial line over the limit is refused");

        let mut lines = SseDecoder::new(16);
        assert!(lines.push(b"data: 01234\ndata: 56789\n").is_ok());
        assert!(lines.push(b"data: abcde\n").is_err(), "data lines add up");
    }
}
