//! The streamed answers of Anthropic, Gemini and Bedrock the loopback server serves, each with exactly
//! as many wire events as asked (so that both sides of a measurement divide by the same count).
//!
//! Shapes follow the providers' documentation and official SDKs; the values are made up:
//! - Anthropic Messages streaming (`event:` + `data:` server-sent events): `message_start`,
//!   `content_block_start`, a `ping`, `content_block_delta` events with `text_delta`s,
//!   `content_block_stop`, `message_delta` (stop reason and output usage), `message_stop`;
//! - Gemini `streamGenerateContent?alt=sse`: one `GenerateContentResponse` per `data:` event, each with
//!   its candidate's text part, `usageMetadata`, `modelVersion` and `responseId`; the last one carries
//!   the `finishReason` and the completion's token count;
//! - Bedrock ConverseStream (`application/vnd.amazon.eventstream` frames: prelude with both lengths and
//!   their CRC32, string headers `:event-type`, `:content-type`, `:message-type`, a JSON payload with
//!   AWS's `p` padding field, and the message CRC32): `messageStart`, `contentBlockDelta` events,
//!   `contentBlockStop`, `messageStop`, and `metadata` with usage and metrics.

use serde_json::{Value, json};

use crate::fixtures::{API_KEY, gateway_request};
use vllora_llm_core::types::gateway::ChatCompletionRequest;

/// A provider whose stream the bench measures besides OpenAI's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    /// Anthropic Messages, server-sent events.
    Anthropic,
    /// Gemini `streamGenerateContent?alt=sse`.
    Gemini,
    /// Bedrock ConverseStream, AWS event-stream frames.
    Bedrock,
}

/// How the server cuts a stream into body chunks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cut {
    /// One chunked-encoding chunk per event: each body read yields one event.
    Split,
    /// The whole stream in one chunk: events arrive coalesced in big reads.
    Whole,
}

impl Provider {
    /// Every provider, in the report's order.
    pub const ALL: [Provider; 3] = [Provider::Anthropic, Provider::Gemini, Provider::Bedrock];

    /// The scenario name's prefix.
    pub fn name(self) -> &'static str {
        match self {
            Provider::Anthropic => "anthropic",
            Provider::Gemini => "gemini",
            Provider::Bedrock => "bedrock",
        }
    }

    /// The scenario a provider's stream is served under: `anthropic-stream-split`...
    pub fn scenario(self, cut: Cut) -> String {
        let cut = match cut {
            Cut::Split => "split",
            Cut::Whole => "whole",
        };
        format!("{}-stream-{cut}", self.name())
    }

    /// The provider and cut a scenario names, if it is one of these.
    pub fn from_scenario(scenario: &str) -> Option<(Provider, Cut)> {
        Provider::ALL.into_iter().find_map(|provider| {
            [Cut::Split, Cut::Whole]
                .into_iter()
                .find(|cut| provider.scenario(*cut) == scenario)
                .map(|cut| (provider, cut))
        })
    }

    /// The model the request names.
    pub fn model(self) -> &'static str {
        match self {
            Provider::Anthropic => ANTHROPIC_MODEL,
            Provider::Gemini => GEMINI_MODEL,
            Provider::Bedrock => BEDROCK_MODEL,
        }
    }

    /// The gateway request the library is given for this provider.
    pub fn request(self) -> ChatCompletionRequest {
        ChatCompletionRequest { model: self.model().to_owned(), ..gateway_request(false) }
    }

    /// The content type of the streamed answer.
    fn content_type(self) -> &'static str {
        match self {
            Provider::Anthropic | Provider::Gemini => "text/event-stream",
            Provider::Bedrock => "application/vnd.amazon.eventstream",
        }
    }

    /// The events of one streamed answer with `events` wire events, as the bytes each takes.
    pub fn wire_events(self, events: usize) -> Vec<Vec<u8>> {
        match self {
            Provider::Anthropic => anthropic_events(events)
                .iter()
                .map(|(name, data)| format!("event: {name}\ndata: {data}\n\n").into_bytes())
                .collect(),
            Provider::Gemini => gemini_responses(events)
                .iter()
                .map(|response| format!("data: {response}\n\n").into_bytes())
                .collect(),
            Provider::Bedrock => bedrock_events(events)
                .iter()
                .map(|(event_type, payload)| event_stream_frame(event_type, payload.to_string().as_bytes()))
                .collect(),
        }
    }

    /// The HTTP answer: the response head, then the events in chunked encoding, cut as asked.
    pub fn render(self, events: usize, cut: Cut) -> Vec<u8> {
        let request_id = match self {
            Provider::Anthropic => "request-id: req_011CSbench\r\n",
            Provider::Gemini => "x-goog-request-id: bench\r\n",
            Provider::Bedrock => "x-amzn-requestid: 6c1f4a0e-2b7d-4d8e-9a51-0f3e8b2c7d19\r\n",
        };
        let mut out = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: {}\r\ncache-control: no-cache\r\n{request_id}\
             transfer-encoding: chunked\r\n\r\n",
            self.content_type()
        )
        .into_bytes();
        let wire = self.wire_events(events);
        match cut {
            Cut::Split => wire.iter().for_each(|event| chunked(&mut out, event)),
            Cut::Whole => chunked(&mut out, &wire.concat()),
        }
        out.extend_from_slice(b"0\r\n\r\n");
        out
    }
}

/// The model of the Anthropic request.
pub const ANTHROPIC_MODEL: &str = "claude-haiku-4-5-20251001";
/// The model of the Gemini request.
pub const GEMINI_MODEL: &str = "gemini-2.5-flash";
/// The model of the Bedrock request (a cross-region inference profile id).
pub const BEDROCK_MODEL: &str = "us.amazon.nova-lite-v1:0";
/// The key Anthropic and Gemini requests carry (the loopback server ignores it).
pub const PROVIDER_API_KEY: &str = API_KEY;
/// Static test keys for Bedrock's SigV4 (AWS's documented example keys).
pub const AWS_ACCESS_KEY_ID: &str = "AKIDEXAMPLE";
/// The secret of [`AWS_ACCESS_KEY_ID`].
pub const AWS_SECRET_ACCESS_KEY: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

fn chunked(out: &mut Vec<u8>, data: &[u8]) {
    out.extend_from_slice(format!("{:x}\r\n", data.len()).as_bytes());
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
}

/// Token texts the deltas cycle through; one needs JSON escapes, as newlines do in real answers.
const TOKENS: [&str; 8] = [" The", " train", " leaves", " at", " 07:04", ",\n\n", " direct", " service"];

fn token(position: usize) -> &'static str {
    TOKENS.get(position % TOKENS.len()).copied().unwrap_or(" ")
}

/// Anthropic's events (name, data) of one answer with `events` events in all (at least 7), each
/// object's fields in the order Anthropic writes them (`type` first), which a decoder may rely on to
/// read an event in one pass.
pub fn anthropic_events(events: usize) -> Vec<(&'static str, String)> {
    let deltas = events.max(7) - 6;
    let mut out = Vec::with_capacity(deltas + 6);
    out.push((
        "message_start",
        format!(
            r#"{{"type":"message_start","message":{{"model":"{ANTHROPIC_MODEL}","id":"msg_01XFDUDYJgAACzvnptvVoYEL","type":"message","role":"assistant","content":[],"stop_reason":null,"stop_sequence":null,"usage":{{"input_tokens":212,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"cache_creation":{{"ephemeral_5m_input_tokens":0,"ephemeral_1h_input_tokens":0}},"output_tokens":1,"service_tier":"standard"}}}}}}"#
        ),
    ));
    out.push((
        "content_block_start",
        r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#.to_owned(),
    ));
    out.push(("ping", r#"{"type": "ping"}"#.to_owned()));
    for position in 0..deltas {
        let text = Value::from(token(position));
        out.push((
            "content_block_delta",
            format!(
                r#"{{"type":"content_block_delta","index":0,"delta":{{"type":"text_delta","text":{text}}}}}"#
            ),
        ));
    }
    out.push(("content_block_stop", r#"{"type":"content_block_stop","index":0}"#.to_owned()));
    out.push((
        "message_delta",
        format!(
            r#"{{"type":"message_delta","delta":{{"stop_reason":"end_turn","stop_sequence":null}},"usage":{{"output_tokens":{deltas}}}}}"#
        ),
    ));
    out.push(("message_stop", r#"{"type":"message_stop"}"#.to_owned()));
    out
}

/// Gemini's `GenerateContentResponse`s of one answer with `events` events in all.
pub fn gemini_responses(events: usize) -> Vec<Value> {
    let events = events.max(1);
    (0..events)
        .map(|position| {
            let last = position + 1 == events;
            let mut candidate = json!({"content": {"parts": [{"text": token(position)}], "role": "model"},
                                       "index": 0});
            let mut usage = json!({"promptTokenCount": 212, "totalTokenCount": 212,
                                   "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 212}]});
            if last {
                candidate["finishReason"] = json!("STOP");
                usage["candidatesTokenCount"] = json!(events);
                usage["totalTokenCount"] = json!(212 + events);
            }
            json!({"candidates": [candidate], "usageMetadata": usage,
                   "modelVersion": GEMINI_MODEL, "responseId": "mOk7aJ2nL8u3nvgP4fXl0Qs"})
        })
        .collect()
}

/// AWS pads each event's payload with a `p` field of varying length (`abcd...`) so that sizes leak
/// nothing about the text.
fn padding(position: usize) -> &'static str {
    const ALPHABET: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0";
    ALPHABET.get(..1 + position * 7 % ALPHABET.len()).unwrap_or("a")
}

/// Bedrock ConverseStream's events (`:event-type`, JSON payload) of one answer with `events` in all.
pub fn bedrock_events(events: usize) -> Vec<(&'static str, Value)> {
    let deltas = events.max(5) - 4;
    let mut out = Vec::with_capacity(deltas + 4);
    out.push(("messageStart", json!({"p": padding(0), "role": "assistant"})));
    for position in 0..deltas {
        out.push((
            "contentBlockDelta",
            json!({"contentBlockIndex": 0, "delta": {"text": token(position)}, "p": padding(position + 1)}),
        ));
    }
    out.push(("contentBlockStop", json!({"contentBlockIndex": 0, "p": padding(deltas + 1)})));
    out.push(("messageStop", json!({"p": padding(deltas + 2), "stopReason": "end_turn"})));
    out.push((
        "metadata",
        json!({"metrics": {"latencyMs": 412}, "p": padding(deltas + 3),
               "usage": {"inputTokens": 212, "outputTokens": deltas, "totalTokens": 212 + deltas}}),
    ));
    out
}

/// CRC32 (IEEE 802.3, reflected polynomial 0xEDB88320), as AWS event-stream frames use.
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc = CRC_TABLE[usize::from((crc as u8) ^ byte)] ^ (crc >> 8);
    }
    !crc
}

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

/// One event-stream frame: prelude (total length, headers length, their CRC32), string headers
/// (name length, name, type 7, value length, value), the payload, the CRC32 of all that.
pub fn event_stream_frame(event_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut headers = Vec::new();
    for (name, value) in
        [(":event-type", event_type), (":content-type", "application/json"), (":message-type", "event")]
    {
        headers.push(name.len() as u8);
        headers.extend_from_slice(name.as_bytes());
        headers.push(7);
        headers.extend_from_slice(&(value.len() as u16).to_be_bytes());
        headers.extend_from_slice(value.as_bytes());
    }
    let total = 12 + headers.len() + payload.len() + 4;
    let mut frame = Vec::with_capacity(total);
    frame.extend_from_slice(&(total as u32).to_be_bytes());
    frame.extend_from_slice(&(headers.len() as u32).to_be_bytes());
    let prelude_crc = crc32(&frame);
    frame.extend_from_slice(&prelude_crc.to_be_bytes());
    frame.extend_from_slice(&headers);
    frame.extend_from_slice(payload);
    let message_crc = crc32(&frame);
    frame.extend_from_slice(&message_crc.to_be_bytes());
    frame
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_provider_serves_exactly_the_asked_number_of_events() {
        for provider in Provider::ALL {
            assert_eq!(provider.wire_events(500).len(), 500, "{provider:?}");
            assert_eq!(provider.wire_events(20).len(), 20, "{provider:?}");
            for cut in [Cut::Split, Cut::Whole] {
                assert_eq!(Provider::from_scenario(&provider.scenario(cut)), Some((provider, cut)));
            }
        }
        assert_eq!(Provider::from_scenario("stream-split"), None);
    }

    #[test]
    fn the_crc_is_ieee_crc32() {
        // The check value of CRC-32/ISO-HDLC.
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    /// The loopback server serves these documents, so the providers' schemas must accept them.
    #[test]
    fn served_documents_are_recorded_for_conformance() {
        for (name, event) in anthropic_events(12) {
            let Ok(event) = serde_json::from_str::<Value>(&event) else {
                panic!("{name}: not JSON: {event}")
            };
            assert_eq!(event["type"], json!(name));
            // `ping` is an event of its own in Anthropic's schema, outside MessageStreamEvent.
            if name != "ping" {
                vllora_llm_testkit::record_conformance("anthropic-stream-event", &event);
            }
        }
        for response in gemini_responses(6) {
            vllora_llm_testkit::record_conformance("gemini-response", &response);
        }
    }
}
