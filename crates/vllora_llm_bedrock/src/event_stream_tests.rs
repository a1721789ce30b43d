//! Property tests of the frame decoder, fuzz-like: random frames at random chunkings, every single-bit
//! flip of a frame, random corruption and random bytes. The decoder must return exactly the frames that
//! were encoded, report corruption as an error, and never panic, loop or wait for bytes that cannot come.

use vllora_llm_core::LLMError;

use vllora_llm_http::Framing;

use super::{Frame, FrameDecoder, FrameEvent, HeaderValue, crc32};

/// A header value the test owns.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Value {
    Bool(bool),
    Byte(i8),
    Short(i16),
    Integer(i32),
    Long(i64),
    ByteArray(Vec<u8>),
    String(String),
    Timestamp(i64),
    Uuid([u8; 16]),
}

/// A frame as the test builds it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct TestFrame {
    headers: Vec<(String, Value)>,
    payload: Vec<u8>,
}

/// What the decoder returned, in the test's terms. On the way, every string header lookup is checked
/// against the headers decoded in full (the first header of that name, if it is a string).
fn owned(frame: &Frame) -> TestFrame {
    for (name, _) in frame.headers() {
        let decoded =
            frame.headers().find(|(header, _)| *header == name).and_then(|(_, value)| match value {
                HeaderValue::String(text) => Some(text),
                _ => None,
            });
        assert_eq!(frame.header(name), decoded, "{name}");
    }
    assert_eq!(frame.header(":no-such-header"), None);
    let headers = frame
        .headers()
        .map(|(name, value)| {
            let value = match value {
                HeaderValue::Bool(flag) => Value::Bool(flag),
                HeaderValue::Byte(byte) => Value::Byte(byte),
                HeaderValue::Short(short) => Value::Short(short),
                HeaderValue::Integer(integer) => Value::Integer(integer),
                HeaderValue::Long(long) => Value::Long(long),
                HeaderValue::ByteArray(bytes) => Value::ByteArray(bytes.to_vec()),
                HeaderValue::String(text) => Value::String(text.to_owned()),
                HeaderValue::Timestamp(millis) => Value::Timestamp(millis),
                HeaderValue::Uuid(uuid) => Value::Uuid(uuid),
            };
            (name.to_owned(), value)
        })
        .collect();
    TestFrame { headers, payload: frame.payload.to_vec() }
}

/// SplitMix64: a seeded generator of our own, so every failure replays from its seed.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut mixed = self.0;
        mixed = (mixed ^ (mixed >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        mixed = (mixed ^ (mixed >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        mixed ^ (mixed >> 31)
    }

    fn below(&mut self, bound: usize) -> usize {
        (self.next() % bound.max(1) as u64) as usize
    }

    fn bytes(&mut self, count: usize) -> Vec<u8> {
        (0..count).map(|_| self.next() as u8).collect()
    }

    /// Up to `max` random bytes.
    fn some_bytes(&mut self, max: usize) -> Vec<u8> {
        let count = self.below(max + 1);
        self.bytes(count)
    }

    fn text(&mut self, count: usize) -> String {
        (0..count).map(|_| char::from(b'a' + (self.next() % 26) as u8)).collect()
    }
}

/// A frame with both CRCs right around any header bytes.
fn encode_raw(headers: &[u8], payload: &[u8]) -> Vec<u8> {
    let total = 12 + headers.len() + payload.len() + 4;
    let mut bytes = Vec::with_capacity(total);
    bytes.extend((total as u32).to_be_bytes());
    bytes.extend((headers.len() as u32).to_be_bytes());
    let prelude_crc = crc32(&bytes);
    bytes.extend(prelude_crc.to_be_bytes());
    bytes.extend_from_slice(headers);
    bytes.extend_from_slice(payload);
    let message_crc = crc32(&bytes);
    bytes.extend(message_crc.to_be_bytes());
    bytes
}

/// The test's own encoder, written from the format description (independent of the decoder).
fn encode(frame: &TestFrame) -> Vec<u8> {
    let mut headers = Vec::new();
    for (name, value) in &frame.headers {
        headers.push(name.len() as u8);
        headers.extend_from_slice(name.as_bytes());
        match value {
            Value::Bool(true) => headers.push(0),
            Value::Bool(false) => headers.push(1),
            Value::Byte(byte) => headers.extend([2, *byte as u8]),
            Value::Short(short) => {
                headers.push(3);
                headers.extend(short.to_be_bytes());
            }
            Value::Integer(integer) => {
                headers.push(4);
                headers.extend(integer.to_be_bytes());
            }
            Value::Long(long) => {
                headers.push(5);
                headers.extend(long.to_be_bytes());
            }
            Value::ByteArray(bytes) => {
                headers.push(6);
                headers.extend((bytes.len() as u16).to_be_bytes());
                headers.extend_from_slice(bytes);
            }
            Value::String(text) => {
                headers.push(7);
                headers.extend((text.len() as u16).to_be_bytes());
                headers.extend_from_slice(text.as_bytes());
            }
            Value::Timestamp(millis) => {
                headers.push(8);
                headers.extend(millis.to_be_bytes());
            }
            Value::Uuid(uuid) => {
                headers.push(9);
                headers.extend_from_slice(uuid);
            }
        }
    }
    encode_raw(&headers, &frame.payload)
}

fn random_frame(random: &mut Random) -> TestFrame {
    let mut headers = Vec::new();
    for _ in 0..random.below(6) {
        let length = 1 + random.below(20);
        let name = format!(":{}", random.text(length));
        let value = match random.below(10) {
            0 => Value::Bool(true),
            1 => Value::Bool(false),
            2 => Value::Byte(random.next() as i8),
            3 => Value::Short(random.next() as i16),
            4 => Value::Integer(random.next() as i32),
            5 => Value::Long(random.next() as i64),
            6 => Value::ByteArray(random.some_bytes(40)),
            7 => {
                let length = random.below(40);
                Value::String(random.text(length))
            }
            8 => Value::Timestamp(random.next() as i64),
            _ => {
                let mut uuid = [0u8; 16];
                uuid.copy_from_slice(&random.bytes(16));
                Value::Uuid(uuid)
            }
        };
        headers.push((name, value));
    }
    TestFrame { headers, payload: random.some_bytes(300) }
}

/// Feeds `bytes` in random pieces; returns the frames and the error, if any. Bounded: every call either
/// consumes input or ends.
fn decode(bytes: &[u8], random: &mut Random, max_frame_len: usize) -> (Vec<TestFrame>, Option<LLMError>) {
    let mut decoder = FrameDecoder::new(max_frame_len);
    let mut frames = Vec::new();
    let mut offset = 0;
    loop {
        loop {
            match decoder.next_frame() {
                Ok(Some(frame)) => frames.push(owned(&frame)),
                Ok(None) => break,
                Err(error) => return (frames, Some(error)),
            }
            assert!(frames.len() <= bytes.len() / 16 + 1, "more frames than the bytes can hold");
        }
        if offset == bytes.len() {
            return (frames, end_of_body(&mut decoder));
        }
        let piece = 1 + random.below(64.min(bytes.len() - offset));
        decoder.push_bytes(&bytes[offset..offset + piece]);
        offset += piece;
    }
}

/// What the end of the body gives: nothing when every byte was part of a whole frame; the truncated-body
/// error (the stream driver's, the same for every provider) when it ended inside a frame; a framing error.
fn end_of_body(decoder: &mut FrameDecoder) -> Option<LLMError> {
    match Framing::finish(decoder) {
        Ok(None) => None,
        Ok(Some(FrameEvent::Cut { bytes_left })) => {
            assert!(bytes_left > 0);
            Some(vllora_llm_http::truncated(crate::PROVIDER_NAME))
        }
        Ok(Some(FrameEvent::Frame(_))) => panic!("a whole frame was left for the end"),
        Err(error) => Some(error),
    }
}

#[test]
fn random_frames_decode_exactly_at_random_chunkings() {
    let mut random = Random(0x5EED_0001);
    for _ in 0..300 {
        let frames: Vec<TestFrame> = (0..1 + random.below(5)).map(|_| random_frame(&mut random)).collect();
        let bytes: Vec<u8> = frames.iter().flat_map(encode).collect();
        let (decoded, error) = decode(&bytes, &mut random, 1 << 20);
        assert!(error.is_none(), "{error:?}");
        assert_eq!(decoded, frames);
    }
}

#[test]
fn every_single_bit_flip_is_detected() {
    let mut random = Random(0x5EED_0002);
    for _ in 0..20 {
        let frame = random_frame(&mut random);
        let bytes = encode(&frame);
        for bit in 0..bytes.len() * 8 {
            let mut mutated = bytes.clone();
            mutated[bit / 8] ^= 1 << (bit % 8);
            let (decoded, error) = decode(&mutated, &mut random, 1 << 20);
            assert!(decoded.is_empty(), "bit {bit} flipped yet a frame came out");
            let Some(error) = error else { panic!("bit {bit} flipped went unnoticed") };
            assert!(
                matches!(error, LLMError::Decode { .. } | LLMError::LimitExceeded { .. }),
                "bit {bit}: {error:?}"
            );
        }
    }
}

#[test]
fn random_corruption_never_yields_a_wrong_frame() {
    let mut random = Random(0x5EED_0003);
    for _ in 0..2_000 {
        let frames: Vec<TestFrame> = (0..1 + random.below(4)).map(|_| random_frame(&mut random)).collect();
        let mut bytes: Vec<u8> = frames.iter().flat_map(encode).collect();
        match random.below(4) {
            0 => {
                for _ in 0..1 + random.below(8) {
                    let at = random.below(bytes.len());
                    bytes[at] = random.next() as u8;
                }
            }
            1 => bytes.truncate(random.below(bytes.len())),
            2 => {
                let at = random.below(bytes.len());
                let mut junk = random.some_bytes(31);
                junk.push(random.next() as u8);
                bytes.splice(at..at, junk);
            }
            _ => {
                let at = random.below(bytes.len());
                let end = (at + 1 + random.below(32)).min(bytes.len());
                bytes.drain(at..end);
            }
        }
        let (decoded, _) = decode(&bytes, &mut random, 4096);
        assert!(decoded.len() <= frames.len());
        assert_eq!(decoded, frames[..decoded.len()], "a decoded frame differs from the one encoded");
    }
}

#[test]
fn random_bytes_end_in_an_error_or_nothing() {
    let mut random = Random(0x5EED_0004);
    for _ in 0..5_000 {
        let bytes = random.some_bytes(200);
        let (decoded, error) = decode(&bytes, &mut random, 1 << 16);
        assert!(decoded.is_empty(), "random bytes passed two CRC checks");
        assert_eq!(error.is_none(), bytes.is_empty());
    }
}

#[test]
fn the_frame_limit_applies_before_the_frame_arrives() {
    let mut random = Random(0x5EED_0005);
    let frame = TestFrame { headers: Vec::new(), payload: random.bytes(500) };
    let bytes = encode(&frame);
    let mut decoder = FrameDecoder::new(100);
    decoder.push_bytes(&bytes[..12]);
    assert!(matches!(decoder.next_frame(), Err(LLMError::LimitExceeded { max_bytes: 100, .. })));
    decoder.push_bytes(&bytes[12..]);
    assert!(decoder.next_frame().is_err(), "a failed decoder stays failed");
    let mut exact = FrameDecoder::new(bytes.len());
    exact.push_bytes(&bytes);
    assert_eq!(exact.next_frame().ok().flatten().map(|decoded| owned(&decoded)), Some(frame));
}

#[test]
fn malformed_headers_inside_valid_crcs_are_rejected() {
    let cases: [(&[u8], &str); 7] = [
        (b"\x00", "empty header name"),
        (b"\x05:type", "truncated"),
        (b"\x02:t", "truncated"),
        (b"\x02:t\x2a", "unknown value type 42"),
        (b"\x02:t\x07\x00\x09abc", "truncated"),
        (b"\x02:t\x07\x00\x02\xff\xfe", "not UTF-8"),
        (b"\x02\xc3\x28\x00", "header name is not UTF-8"),
    ];
    let mut random = Random(0x5EED_0006);
    for (headers, expected) in cases {
        let (decoded, error) = decode(&encode_raw(headers, b"{}"), &mut random, 1 << 16);
        assert!(decoded.is_empty(), "{headers:?}");
        let message = error.map(|error| error.to_string()).unwrap_or_default();
        assert!(message.contains(expected), "{headers:?}: {message}");
    }
    let fine = encode_raw(b"\x02:t\x07\x00\x02ok\x02:b\x00", b"{}");
    let (decoded, error) = decode(&fine, &mut random, 1 << 16);
    assert!(error.is_none(), "{error:?}");
    let headers = decoded.first().map(|frame| frame.headers.clone()).unwrap_or_default();
    assert_eq!(
        headers,
        [(":t".to_owned(), Value::String("ok".into())), (":b".to_owned(), Value::Bool(true))]
    );
}
