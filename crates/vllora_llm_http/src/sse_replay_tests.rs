//! The SSE decoder against generated event streams: the events a model of the stream predicts, the same
//! for every chunking (one byte at a time, seeded random splits, one read), in work linear in the input.

use crate::{SseDecoder, SseEvent};
use vllora_llm_testkit::{split_at, split_points};

/// SplitMix64, so every generated stream can be regenerated from its seed.
struct Generator(u64);

impl Generator {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut mixed = self.0;
        mixed = (mixed ^ (mixed >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        mixed = (mixed ^ (mixed >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        mixed ^ (mixed >> 31)
    }

    fn below(&mut self, bound: usize) -> usize {
        (self.next() % bound as u64) as usize
    }

    fn text(&mut self, max_len: usize) -> String {
        const ALPHABET: [&str; 12] = ["a", "Z", "7", " ", ":", "{", "\"", "é", "→", "\t", "}", ","];
        (0..self.below(max_len + 1)).map(|_| ALPHABET[self.below(ALPHABET.len())]).collect()
    }
}

/// Writes lines with a random ending each, never letting a lone CR be followed by an LF-ended empty
/// line (the two bytes would read as one CRLF).
struct Writer {
    bytes: Vec<u8>,
    last_ending_was_cr: bool,
}

impl Writer {
    fn line(&mut self, generator: &mut Generator, line: &str) {
        self.bytes.extend_from_slice(line.as_bytes());
        let mut ending = ["\n", "\r\n", "\r"][generator.below(3)];
        if self.last_ending_was_cr && line.is_empty() && ending == "\n" {
            ending = "\r\n";
        }
        self.bytes.extend_from_slice(ending.as_bytes());
        self.last_ending_was_cr = ending == "\r";
    }
}

/// A random stream and the events it must decode to.
fn generate(seed: u64) -> (Vec<u8>, Vec<SseEvent>) {
    let mut generator = Generator(seed);
    let mut writer = Writer { bytes: Vec::new(), last_ending_was_cr: false };
    if generator.below(4) == 0 {
        writer.bytes.extend_from_slice("\u{feff}".as_bytes());
    }
    let mut expected = Vec::new();
    let events = 1 + generator.below(12);
    for position in 0..events {
        let mut event = SseEvent::default();
        if generator.below(3) == 0 {
            let comment = format!(": {}", generator.text(8));
            writer.line(&mut generator, &comment);
        }
        if generator.below(2) == 0 {
            let name = format!("type_{}", generator.below(5));
            writer.line(&mut generator, &format!("event: {name}"));
            event.event = Some(name);
        }
        if generator.below(4) == 0 {
            let id = generator.below(1000).to_string();
            writer.line(&mut generator, &format!("id:{id}"));
            event.id = Some(id);
        }
        if generator.below(5) == 0 {
            let retry = generator.below(10_000) as u64;
            writer.line(&mut generator, &format!("retry: {retry}"));
            event.retry = Some(retry);
        }
        let data_lines = 1 + generator.below(3);
        let mut values = Vec::new();
        for _ in 0..data_lines {
            let value = generator.text(40);
            // One space after the colon is dropped: "data: x" and "data:x" carry "x", "data:  x" carries " x".
            if generator.below(2) == 0 {
                writer.line(&mut generator, &format!("data: {value}"));
                values.push(value);
            } else {
                writer.line(&mut generator, &format!("data:{value}"));
                values.push(value.strip_prefix(' ').unwrap_or(&value).to_owned());
            }
        }
        event.data = values.join("\n");
        if generator.below(6) == 0 {
            let unknown = format!("x-unknown: {}", generator.text(5));
            writer.line(&mut generator, &unknown);
        }
        let last = position + 1 == events;
        // The last event may end without its blank line: finish() must still deliver it.
        if !last || generator.below(2) == 0 {
            writer.line(&mut generator, "");
        }
        expected.push(event);
    }
    (writer.bytes, expected)
}

fn decode(pieces: &[&[u8]]) -> (Vec<SseEvent>, u64) {
    let mut decoder = SseDecoder::new(4 << 20);
    let mut events = Vec::new();
    for piece in pieces {
        let Ok(()) = decoder.push(piece) else { panic!("no limit is reached") };
        events.extend(std::iter::from_fn(|| decoder.next_event()));
    }
    events.extend(std::iter::from_fn(|| decoder.finish()));
    (events, decoder.bytes_examined())
}

#[test]
fn every_chunking_gives_the_predicted_events() {
    for seed in 0..300 {
        let (stream, expected) = generate(seed);
        for points in split_points(stream.len()) {
            let (events, examined) = decode(&split_at(&stream, &points));
            assert_eq!(
                events,
                expected,
                "seed {seed}, {} pieces, stream {:?}",
                points.len() + 1,
                String::from_utf8_lossy(&stream)
            );
            assert!(
                examined <= stream.len() as u64,
                "seed {seed}: {examined} bytes examined of {}",
                stream.len()
            );
        }
    }
}

#[test]
fn work_is_linear_in_the_input_for_coalesced_and_byte_sized_reads() {
    // One 1 MiB event fed a byte at a time is where a decoder that rescans its buffer goes quadratic.
    let big = format!("data: {}\n\n", "x".repeat(1 << 20));
    let one_byte: Vec<&[u8]> = big.as_bytes().chunks(1).collect();
    let (events, examined) = decode(&one_byte);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].data.len(), 1 << 20);
    assert_eq!(examined, big.len() as u64);

    // Ten thousand small events arriving in one read.
    let many: String = (0..10_000).map(|n| format!("event: delta\ndata: {{\"n\":{n}}}\n\n")).collect();
    let (events, examined) = decode(&[many.as_bytes()]);
    assert_eq!(events.len(), 10_000);
    assert_eq!(events[9_999].data, "{\"n\":9999}");
    assert_eq!(examined, many.len() as u64);
}

/// Found by the SSE fuzz target: a line over the limit was refused when a read boundary cut it and
/// accepted when one read held it whole, and event names and ids were not bounded at all.
#[test]
fn the_event_size_limit_holds_for_every_line_however_the_body_is_split() {
    let bodies: [&[u8]; 4] = [
        b": a comment far over the limit\n\ndata: x\n\n",
        b"event: a-very-long-event-name-far-over-the-limit\ndata: x\n\n",
        b"id: an-id-far-over-the-limit\ndata: x\n\n",
        b"data: 123456\n\n",
    ];
    for body in bodies {
        let whole = {
            let mut decoder = crate::SseDecoder::new(8);
            decoder.push(body).map(|()| std::iter::from_fn(|| decoder.next_event()).count())
        };
        let split = {
            let mut decoder = crate::SseDecoder::new(8);
            body.chunks(3)
                .try_for_each(|piece| decoder.push(piece))
                .map(|()| std::iter::from_fn(|| decoder.next_event()).count())
        };
        let text = String::from_utf8_lossy(body);
        assert!(
            matches!(whole, Err(vllora_llm_core::LLMError::LimitExceeded { max_bytes: 8, .. })),
            "{text:?} read whole: {whole:?}"
        );
        assert!(
            matches!(split, Err(vllora_llm_core::LLMError::LimitExceeded { max_bytes: 8, .. })),
            "{text:?} read in pieces: {split:?}"
        );
    }
}
