//! The `application/vnd.amazon.eventstream` framing ConverseStream answers with: an incremental frame
//! decoder (both CRC32 checks, size limits) that accepts bytes in any chunking, and the
//! [`Framing`] the shared stream driver cuts the body with (frames lent one at a time).
//!
//! A frame is: total length (u32), headers length (u32), CRC32 of those eight bytes, the headers, the
//! payload, and a CRC32 of everything before it. All integers are big-endian.

use bytes::{Bytes, BytesMut};
use vllora_llm_core::{LLMError, LLMResult, Limit};
use vllora_llm_http::Framing;

use crate::PROVIDER_NAME;

/// Length of the prelude (two lengths and their CRC).
const PRELUDE_LEN: usize = 12;
/// Prelude plus the trailing message CRC: the smallest possible frame.
const MIN_FRAME_LEN: usize = PRELUDE_LEN + 4;
/// AWS caps the headers of one message at 128 KiB.
const MAX_HEADERS_LEN: usize = 128 * 1024;

/// CRC32 (IEEE 802.3, reflected polynomial 0xEDB88320), as the event-stream format uses.
pub(crate) fn crc32(bytes: &[u8]) -> u32 {
    crc32_update(0, bytes)
}

/// Continues a CRC32 over more bytes: eight bytes per step through eight tables ("slicing by 8"), the
/// last few bytes one at a time. Frames are checked whole twice (prelude and message), so this runs
/// over every byte a stream receives.
fn crc32_update(crc: u32, bytes: &[u8]) -> u32 {
    let mut crc = !crc;
    let mut words = bytes.chunks_exact(8);
    for word in &mut words {
        let word = u64::from_le_bytes(<[u8; 8]>::try_from(word).unwrap_or_default());
        let low = (word as u32) ^ crc;
        let high = (word >> 32) as u32;
        let [t0, t1, t2, t3, t4, t5, t6, t7] = &CRC_TABLES;
        crc = t7[(low & 0xFF) as usize]
            ^ t6[((low >> 8) & 0xFF) as usize]
            ^ t5[((low >> 16) & 0xFF) as usize]
            ^ t4[(low >> 24) as usize]
            ^ t3[(high & 0xFF) as usize]
            ^ t2[((high >> 8) & 0xFF) as usize]
            ^ t1[((high >> 16) & 0xFF) as usize]
            ^ t0[(high >> 24) as usize];
    }
    for &byte in words.remainder() {
        crc = CRC_TABLE[usize::from((crc as u8) ^ byte)] ^ (crc >> 8);
    }
    !crc
}

/// `CRC_TABLES[k][b]`: the CRC of byte `b` followed by `k` zero bytes; `CRC_TABLES[0]` is [`CRC_TABLE`].
const CRC_TABLES: [[u32; 256]; 8] = {
    let mut tables = [CRC_TABLE; 8];
    let mut index = 0;
    while index < 256 {
        let mut slice = 1;
        while slice < 8 {
            let previous = tables[slice - 1][index];
            tables[slice][index] = (previous >> 8) ^ CRC_TABLE[(previous & 0xFF) as usize];
            slice += 1;
        }
        index += 1;
    }
    tables
};

const CRC_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut index = 0;
    while index < 256 {
        let mut value = index as u32;
        let mut bit = 0;
        while bit < 8 {
            value = if value & 1 == 1 { 0xEDB8_8320 ^ (value >> 1) } else { value >> 1 };
            bit += 1;
        }
        table[index] = value;
        index += 1;
    }
    table
};

/// A header value. Only strings matter to Bedrock, but every type is checked so that a frame is either
/// fully understood or rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HeaderValue<'a> {
    Bool(bool),
    Byte(i8),
    Short(i16),
    Integer(i32),
    Long(i64),
    ByteArray(&'a [u8]),
    String(&'a str),
    Timestamp(i64),
    Uuid([u8; 16]),
}

/// One decoded message. Its headers stay in their encoded form (checked when the frame was decoded), so
/// decoding a frame allocates nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Frame {
    headers: Bytes,
    pub(crate) payload: Bytes,
}

impl Frame {
    /// The headers, in order, decoded (the tests compare lookups with them).
    #[cfg(test)]
    pub(crate) fn headers(&self) -> impl Iterator<Item = (&str, HeaderValue<'_>)> {
        let mut rest: &[u8] = &self.headers;
        std::iter::from_fn(move || {
            let (name, value, after) = split_header(rest).ok()??;
            rest = after;
            Some((name, value))
        })
    }

    /// The value of a string header: the first header of that name, if it is a string.
    ///
    /// The headers were checked when the frame was decoded, so they are walked here by their lengths
    /// alone, names compared as bytes, and only the value returned is read as UTF-8 again (decoding
    /// every name and value for each lookup cost more than a frame's JSON).
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        let mut rest: &[u8] = &self.headers;
        while let Some(header) = raw_header(rest) {
            if header.name == name.as_bytes() {
                return if header.kind == 7 { std::str::from_utf8(header.value).ok() } else { None };
            }
            rest = header.rest;
        }
        None
    }
}

/// A header as encoded: its name, value type, value (a byte array's or string's without its length),
/// and the bytes after it.
struct RawHeader<'a> {
    name: &'a [u8],
    kind: u8,
    value: &'a [u8],
    rest: &'a [u8],
}

/// The first header of checked header bytes, undecoded; `None` at the end (or on bytes that were not
/// checked, which `Frame` never holds).
fn raw_header(bytes: &[u8]) -> Option<RawHeader<'_>> {
    let (&name_len, rest) = bytes.split_first()?;
    let (name, rest) = take(rest, usize::from(name_len))?;
    let (&kind, rest) = rest.split_first()?;
    let (value, rest) = match kind {
        0 | 1 => rest.split_at(0),
        2 => take(rest, 1)?,
        3 => take(rest, 2)?,
        4 => take(rest, 4)?,
        5 | 8 => take(rest, 8)?,
        9 => take(rest, 16)?,
        6 | 7 => {
            let (length, rest) = take(rest, 2)?;
            take(rest, usize::from(u16::from_be_bytes(array(length))))?
        }
        _ => return None,
    };
    Some(RawHeader { name, kind, value, rest })
}

/// What the framing lends the stream decoder: a whole frame, or, once at the end of a body that stopped
/// inside a frame, the fact that it was cut (the decoder then reports the body as truncated, the same
/// error as for every provider).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FrameEvent<'a> {
    /// A complete frame, both CRCs checked, borrowed from the decoder.
    Frame(&'a Frame),
    /// The body ended with this many bytes of an unfinished frame.
    Cut { bytes_left: usize },
}

/// Decodes frames from bytes pushed in any chunking. After the first error it stays failed.
#[derive(Debug)]
pub(crate) struct FrameDecoder {
    /// The bytes of a frame not whole yet, copied (a frame cut across reads).
    buffer: BytesMut,
    /// The last read handed over whole ([`Framing::push_owned`]), from which whole frames are sliced
    /// without copying; it comes after `buffer`.
    input: Bytes,
    max_frame_len: usize,
    /// The total length of the frame being received, once its prelude has been checked.
    expected_len: Option<usize>,
    failed: bool,
    /// The frame lent by the last [`Framing::next_event`].
    current: Option<Frame>,
    /// Whether the end of the body inside a frame has been reported.
    cut_reported: bool,
}

impl FrameDecoder {
    /// A decoder that rejects frames longer than `max_frame_len` bytes.
    pub(crate) fn new(max_frame_len: usize) -> Self {
        FrameDecoder {
            buffer: BytesMut::new(),
            input: Bytes::new(),
            max_frame_len,
            expected_len: None,
            failed: false,
            current: None,
            cut_reported: false,
        }
    }

    /// Adds received bytes.
    pub(crate) fn push_bytes(&mut self, bytes: &[u8]) {
        if !self.failed {
            self.settle_input();
            self.buffer.extend_from_slice(bytes);
        }
    }

    /// Keeps a whole read, to slice the frames that are whole in it rather than copy them.
    fn push_read(&mut self, bytes: Bytes) {
        if !self.failed {
            self.settle_input();
            self.input = bytes;
        }
    }

    /// What is left of the last whole read goes to `buffer` (copied), so that more bytes can follow it.
    fn settle_input(&mut self) {
        if !self.input.is_empty() {
            self.buffer.extend_from_slice(&self.input);
        }
        self.input = Bytes::new();
    }

    /// Moves up to `wanted` bytes from the front of `input` to the end of `buffer`.
    fn top_up(&mut self, wanted: usize) {
        let count = wanted.min(self.input.len());
        if count > 0 {
            let moved = self.input.split_to(count);
            self.buffer.extend_from_slice(&moved);
        }
    }

    /// The next complete frame, `Ok(None)` when more bytes are needed.
    pub(crate) fn next_frame(&mut self) -> LLMResult<Option<Frame>> {
        if self.failed {
            return Err(corrupt("the event stream already failed"));
        }
        let result = if self.buffer.is_empty() && self.expected_len.is_none() {
            self.decode_input()
        } else {
            self.decode()
        };
        if result.is_err() {
            self.failed = true;
            self.buffer = BytesMut::new();
            self.input = Bytes::new();
        }
        result
    }

    /// The next frame from `buffer`, topped up from `input` as far as the frame needs.
    fn decode(&mut self) -> LLMResult<Option<Frame>> {
        let total_len = match self.expected_len {
            Some(total_len) => total_len,
            None => {
                self.top_up(PRELUDE_LEN.saturating_sub(self.buffer.len()));
                let Some(prelude) = self.buffer.get(..PRELUDE_LEN) else { return Ok(None) };
                let total_len = self.check_prelude(prelude)?;
                self.expected_len = Some(total_len);
                total_len
            }
        };
        self.top_up(total_len.saturating_sub(self.buffer.len()));
        if let Some(missing) = total_len.checked_sub(self.buffer.len()).filter(|missing| *missing > 0) {
            // Reserving now means one allocation per frame however the bytes arrive.
            self.buffer.reserve(missing);
            return Ok(None);
        }
        self.expected_len = None;
        let frame = self.buffer.split_to(total_len).freeze();
        parse_frame(frame).map(Some)
    }

    /// The next frame when none is under way: sliced from `input` when it is whole there; otherwise
    /// what `input` holds of it is copied to `buffer` (checked as [`decode`](Self::decode) checks it).
    fn decode_input(&mut self) -> LLMResult<Option<Frame>> {
        let Some(prelude) = self.input.get(..PRELUDE_LEN) else {
            self.settle_input();
            return Ok(None);
        };
        let total_len = self.check_prelude(prelude)?;
        if self.input.len() < total_len {
            self.expected_len = Some(total_len);
            self.buffer.reserve(total_len);
            self.settle_input();
            return Ok(None);
        }
        let frame = self.input.split_to(total_len);
        parse_frame(frame).map(Some)
    }

    /// Checks the prelude as soon as it is there, so that a corrupt length is reported at once instead of
    /// waiting for bytes that will never come.
    fn check_prelude(&self, prelude: &[u8]) -> LLMResult<usize> {
        let total_len = read_u32(prelude, 0) as usize;
        let headers_len = read_u32(prelude, 4) as usize;
        let prelude_crc = read_u32(prelude, 8);
        let computed = crc32(prelude.get(..8).unwrap_or_default());
        if prelude_crc != computed {
            return Err(corrupt(format_args!(
                "prelude CRC mismatch (frame says {prelude_crc:#010x}, computed {computed:#010x})"
            )));
        }
        if total_len > self.max_frame_len {
            return Err(LLMError::LimitExceeded { limit: Limit::Event, max_bytes: self.max_frame_len });
        }
        if total_len < MIN_FRAME_LEN {
            return Err(corrupt(format_args!("frame length {total_len} is shorter than a prelude")));
        }
        if headers_len > MAX_HEADERS_LEN || headers_len > total_len.saturating_sub(MIN_FRAME_LEN) {
            return Err(corrupt(format_args!(
                "headers length {headers_len} does not fit in a frame of {total_len} bytes"
            )));
        }
        Ok(total_len)
    }
}

impl Framing for FrameDecoder {
    type Event<'a> = FrameEvent<'a>;

    fn push(&mut self, bytes: &[u8]) -> LLMResult<()> {
        self.push_bytes(bytes);
        Ok(())
    }

    /// Frames whole in the read are sliced from it: only frames cut across reads are copied.
    fn push_owned(&mut self, bytes: Bytes) -> LLMResult<()> {
        self.push_read(bytes);
        Ok(())
    }

    fn next_event(&mut self) -> LLMResult<Option<FrameEvent<'_>>> {
        self.current = self.next_frame()?;
        Ok(self.current.as_ref().map(FrameEvent::Frame))
    }

    /// The frame lent is let go, and the read once no frame is left in it, so that a stream held between
    /// events pins no part of the connection's read buffer.
    fn event_decoded(&mut self) {
        self.current = None;
        if self.input.is_empty() {
            self.input = Bytes::new();
        }
    }

    /// The frames still whole in the buffer, then, if bytes of an unfinished frame are left, one
    /// [`FrameEvent::Cut`]: ending inside a frame is a truncated body, not a framing error of its own.
    fn finish(&mut self) -> LLMResult<Option<FrameEvent<'_>>> {
        if self.failed {
            return Ok(None);
        }
        self.current = self.next_frame()?;
        if self.current.is_some() {
            return Ok(self.current.as_ref().map(FrameEvent::Frame));
        }
        // `next_frame` has moved what the last read held of an unfinished frame to `buffer`.
        self.settle_input();
        if self.buffer.is_empty() || self.cut_reported {
            return Ok(None);
        }
        self.cut_reported = true;
        Ok(Some(FrameEvent::Cut { bytes_left: self.buffer.len() }))
    }
}

fn corrupt(message: impl std::fmt::Display) -> LLMError {
    LLMError::decode(PROVIDER_NAME, format_args!("corrupt event-stream frame: {message}"))
}

fn read_u32(bytes: &[u8], at: usize) -> u32 {
    let mut word = [0u8; 4];
    if let Some(slice) = at.checked_add(4).and_then(|end| bytes.get(at..end)) {
        word.copy_from_slice(slice);
    }
    u32::from_be_bytes(word)
}

/// Parses a whole frame whose prelude was already checked.
fn parse_frame(frame: Bytes) -> LLMResult<Frame> {
    // The prelude check guarantees MIN_FRAME_LEN <= len and PRELUDE_LEN + headers + 4 <= len; these
    // checked forms only keep a broken invariant from becoming a panic.
    let crc_at = frame.len().checked_sub(4).ok_or_else(|| corrupt("frame shorter than its CRC"))?;
    let declared = read_u32(&frame, crc_at);
    let computed = crc32(frame.get(..crc_at).unwrap_or_default());
    if declared != computed {
        return Err(corrupt(format_args!(
            "message CRC mismatch (frame says {declared:#010x}, computed {computed:#010x})"
        )));
    }
    let headers_len = read_u32(&frame, 4) as usize;
    let headers_end = PRELUDE_LEN
        .checked_add(headers_len)
        .filter(|end| *end <= crc_at)
        .ok_or_else(|| corrupt("headers longer than the frame"))?;
    let headers = frame.slice(PRELUDE_LEN..headers_end);
    let mut rest: &[u8] = &headers;
    while split_header(rest)?.map(|(_, _, after)| rest = after).is_some() {}
    let payload = frame.slice(headers_end..crc_at);
    Ok(Frame { headers, payload })
}

/// The first header of `bytes` and what follows it; `None` when `bytes` is empty.
fn split_header<'a>(bytes: &'a [u8]) -> LLMResult<Option<(&'a str, HeaderValue<'a>, &'a [u8])>> {
    let Some((&name_len, rest)) = bytes.split_first() else { return Ok(None) };
    let (name, rest) =
        take(rest, usize::from(name_len)).ok_or_else(|| corrupt("a header name is truncated"))?;
    let name = std::str::from_utf8(name).map_err(|_| corrupt("a header name is not UTF-8"))?;
    if name.is_empty() {
        return Err(corrupt("empty header name"));
    }
    let (&kind, rest) = rest.split_first().ok_or_else(|| truncated(name))?;
    let fixed = |rest: &'a [u8], count: usize| take(rest, count).ok_or_else(|| truncated(name));
    let (value, rest) =
        match kind {
            0 => (HeaderValue::Bool(true), rest),
            1 => (HeaderValue::Bool(false), rest),
            2 => fixed(rest, 1)
                .map(|(value, rest)| (HeaderValue::Byte(i8::from_be_bytes(array(value))), rest))?,
            3 => fixed(rest, 2)
                .map(|(value, rest)| (HeaderValue::Short(i16::from_be_bytes(array(value))), rest))?,
            4 => fixed(rest, 4)
                .map(|(value, rest)| (HeaderValue::Integer(i32::from_be_bytes(array(value))), rest))?,
            5 => fixed(rest, 8)
                .map(|(value, rest)| (HeaderValue::Long(i64::from_be_bytes(array(value))), rest))?,
            6 | 7 => {
                let (length, rest) = fixed(rest, 2)?;
                let (value, rest) = fixed(rest, usize::from(u16::from_be_bytes(array(length))))?;
                if kind == 6 {
                    (HeaderValue::ByteArray(value), rest)
                } else {
                    let text = std::str::from_utf8(value)
                        .map_err(|_| corrupt(format_args!("header `{name}` is not UTF-8")))?;
                    (HeaderValue::String(text), rest)
                }
            }
            8 => fixed(rest, 8)
                .map(|(value, rest)| (HeaderValue::Timestamp(i64::from_be_bytes(array(value))), rest))?,
            9 => fixed(rest, 16).map(|(value, rest)| (HeaderValue::Uuid(array(value)), rest))?,
            other => return Err(corrupt(format_args!("header `{name}` has unknown value type {other}"))),
        };
    Ok(Some((name, value, rest)))
}

fn truncated(name: &str) -> LLMError {
    corrupt(format_args!("header `{name}` is truncated"))
}

/// `count` bytes and the rest, if there are that many.
fn take(bytes: &[u8], count: usize) -> Option<(&[u8], &[u8])> {
    (bytes.len() >= count).then(|| bytes.split_at(count))
}

/// A slice of known length as an array (zero-filled if it were shorter, which callers rule out).
fn array<const N: usize>(bytes: &[u8]) -> [u8; N] {
    let mut array = [0u8; N];
    if let Some(source) = bytes.get(..N) {
        array.copy_from_slice(source);
    }
    array
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_matches_the_standard_check_value() {
        // The check value of CRC-32/ISO-HDLC (the IEEE one) over "123456789".
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
        assert_eq!(crc32_update(crc32(b"12345"), b"6789"), 0xCBF4_3926);
        // Every length around the eight-byte steps, and every split, against the one-byte-at-a-time CRC.
        let bytes: Vec<u8> =
            (0u32..300).map(|index| (index.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
        let bytewise = |bytes: &[u8]| {
            !bytes.iter().fold(!0u32, |crc, &byte| CRC_TABLE[usize::from((crc as u8) ^ byte)] ^ (crc >> 8))
        };
        for length in 0..bytes.len() {
            let part = &bytes[..length];
            assert_eq!(crc32(part), bytewise(part), "length {length}");
            let split = length / 3;
            assert_eq!(crc32_update(crc32(&part[..split]), &part[split..]), bytewise(part), "split {split}");
        }
    }

    /// The smallest valid frame: no headers, no payload (lengths 16 and 0; both CRCs computed independently
    /// with Python's `zlib.crc32`).
    #[test]
    fn decodes_the_empty_message_vector() {
        let bytes =
            [0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x05, 0xc2, 0x48, 0xeb, 0x7d, 0x98, 0xc8, 0xff];
        let mut decoder = FrameDecoder::new(1024);
        decoder.push_bytes(&bytes);
        let frame = decoder.next_frame();
        assert_eq!(frame.ok().flatten(), Some(Frame { headers: Bytes::new(), payload: Bytes::new() }));
        assert!(matches!(Framing::finish(&mut decoder), Ok(None)), "nothing left over");
    }
}

#[cfg(test)]
#[path = "event_stream_tests.rs"]
mod property_tests;
