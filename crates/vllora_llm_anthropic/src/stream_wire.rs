//! Reading one stream event's JSON into a [`StreamEvent`] without buffering it.
//!
//! `StreamEvent` is tagged by its `type` field, which serde's derive reads by first copying the whole
//! object into an intermediate tree (an allocation per object, a second pass over every field). The
//! events that make up nearly all of a stream (`content_block_delta` with a text, tool-input, thinking or
//! signature delta, `content_block_stop`, `message_delta`, `message_stop`, `ping`) are read here in one
//! pass, field by field in any order, straight into the same values: every field any of them has is read
//! once, and the event's type then says which are kept. Anything else — another event or delta type, a
//! repeated field, any error — is read again by the derived path, so that what an event decodes to (or
//! the error it gives) never depends on which path read it.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};

use crate::wire::{BlockDelta, MessageDeltaBody, StreamEvent, WireUsage};

/// Parses one event's `data`.
pub(crate) fn parse_stream_event(data: &str) -> serde_json::Result<StreamEvent> {
    match serde_json::from_str::<Fast>(data) {
        Ok(Fast(event)) => Ok(event),
        Err(_) => serde_json::from_str::<StreamEvent>(data),
    }
}

/// An event read on the fast path.
struct Fast(StreamEvent);

/// The error that sends an event to the derived path.
fn not_here<E: de::Error>() -> E {
    E::custom("read by the derived path")
}

#[derive(serde::Deserialize)]
#[serde(field_identifier, rename_all = "snake_case")]
enum EventField {
    Type,
    Index,
    Delta,
    Usage,
    #[serde(other)]
    Other,
}

enum EventKind {
    ContentBlockDelta,
    ContentBlockStop,
    MessageDelta,
    MessageStop,
    Ping,
    Other,
}

/// Reads a string that names a kind, without serde's enum machinery (a plain string match).
macro_rules! kind_from_str {
    ($kind:ident, $expecting:literal, { $($name:literal => $variant:ident),* $(,)? }) => {
        impl<'de> Deserialize<'de> for $kind {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct KindVisitor;
                impl Visitor<'_> for KindVisitor {
                    type Value = $kind;
                    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                        formatter.write_str($expecting)
                    }
                    fn visit_str<E: de::Error>(self, name: &str) -> Result<$kind, E> {
                        Ok(match name {
                            $($name => $kind::$variant,)*
                            _ => $kind::Other,
                        })
                    }
                }
                deserializer.deserialize_str(KindVisitor)
            }
        }
    };
}

kind_from_str!(EventKind, "an event type", {
    "content_block_delta" => ContentBlockDelta,
    "content_block_stop" => ContentBlockStop,
    "message_delta" => MessageDelta,
    "message_stop" => MessageStop,
    "ping" => Ping,
});

impl<'de> Deserialize<'de> for Fast {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(FastVisitor)
    }
}

struct FastVisitor;

impl<'de> Visitor<'de> for FastVisitor {
    type Value = Fast;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("an Anthropic stream event")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Fast, A::Error> {
        let mut kind: Option<EventKind> = None;
        let mut index: Option<u32> = None;
        let mut delta: Option<FlatDelta> = None;
        let mut usage: Option<WireUsage> = None;
        while let Some(field) = map.next_key::<EventField>()? {
            match field {
                EventField::Type => {
                    // Another event type (or a second `type`): the derived path reads it.
                    if kind.replace(map.next_value()?).is_some() || matches!(kind, Some(EventKind::Other)) {
                        return Err(not_here());
                    }
                }
                EventField::Index => {
                    if index.replace(map.next_value()?).is_some() {
                        return Err(not_here());
                    }
                }
                EventField::Delta => {
                    if delta.replace(map.next_value()?).is_some() {
                        return Err(not_here());
                    }
                }
                EventField::Usage => {
                    if usage.replace(map.next_value()?).is_some() {
                        return Err(not_here());
                    }
                }
                EventField::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        // Fields an event type does not have are ignored, as the derived path ignores them.
        let event = match kind {
            Some(EventKind::ContentBlockDelta) => StreamEvent::ContentBlockDelta {
                index: index.unwrap_or_default(),
                delta: delta.ok_or_else(not_here)?.block_delta().ok_or_else(not_here)?,
            },
            Some(EventKind::ContentBlockStop) => {
                StreamEvent::ContentBlockStop { index: index.unwrap_or_default() }
            }
            Some(EventKind::MessageDelta) => StreamEvent::MessageDelta {
                delta: MessageDeltaBody { stop_reason: delta.and_then(|delta| delta.stop_reason) },
                usage: usage.unwrap_or_default(),
            },
            Some(EventKind::MessageStop) => StreamEvent::MessageStop,
            Some(EventKind::Ping) => StreamEvent::Ping,
            Some(EventKind::Other) | None => return Err(not_here()),
        };
        Ok(Fast(event))
    }
}

#[derive(serde::Deserialize)]
#[serde(field_identifier, rename_all = "snake_case")]
enum DeltaField {
    Type,
    Text,
    PartialJson,
    Thinking,
    Signature,
    StopReason,
    #[serde(other)]
    Other,
}

#[derive(PartialEq, Eq, Clone, Copy)]
enum DeltaKind {
    TextDelta,
    InputJsonDelta,
    ThinkingDelta,
    SignatureDelta,
    Other,
}

kind_from_str!(DeltaKind, "a delta type", {
    "text_delta" => TextDelta,
    "input_json_delta" => InputJsonDelta,
    "thinking_delta" => ThinkingDelta,
    "signature_delta" => SignatureDelta,
});

/// The `delta` of a `content_block_delta` or a `message_delta`, whichever it is: every field either
/// may have, each read once.
#[derive(Default)]
struct FlatDelta {
    kind: Option<DeltaKind>,
    text: Option<String>,
    partial_json: Option<String>,
    thinking: Option<String>,
    signature: Option<String>,
    stop_reason: Option<String>,
}

impl FlatDelta {
    /// The block delta it is, if its type is one this path reads.
    fn block_delta(self) -> Option<BlockDelta> {
        Some(match self.kind? {
            DeltaKind::TextDelta => BlockDelta::TextDelta { text: self.text.unwrap_or_default() },
            DeltaKind::InputJsonDelta => {
                BlockDelta::InputJsonDelta { partial_json: self.partial_json.unwrap_or_default() }
            }
            DeltaKind::ThinkingDelta => {
                BlockDelta::ThinkingDelta { thinking: self.thinking.unwrap_or_default() }
            }
            DeltaKind::SignatureDelta => {
                BlockDelta::SignatureDelta { signature: self.signature.unwrap_or_default() }
            }
            DeltaKind::Other => return None,
        })
    }
}

impl<'de> Deserialize<'de> for FlatDelta {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(FlatDeltaVisitor)
    }
}

struct FlatDeltaVisitor;

/// Reads a field's value into `slot`; a second value for it sends the event to the derived path.
fn read_once<'de, A: MapAccess<'de>, T: Deserialize<'de>>(
    map: &mut A,
    slot: &mut Option<T>,
) -> Result<(), A::Error> {
    if slot.replace(map.next_value()?).is_some() {
        return Err(not_here());
    }
    Ok(())
}

impl<'de> Visitor<'de> for FlatDeltaVisitor {
    type Value = FlatDelta;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a delta")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<FlatDelta, A::Error> {
        let mut delta = FlatDelta::default();
        // `stop_reason: null` is read as absent, so it is tracked apart to catch a repeat.
        let mut stop_reason_seen = false;
        while let Some(field) = map.next_key::<DeltaField>()? {
            match field {
                DeltaField::Type => read_once(&mut map, &mut delta.kind)?,
                DeltaField::Text => read_once(&mut map, &mut delta.text)?,
                DeltaField::PartialJson => read_once(&mut map, &mut delta.partial_json)?,
                DeltaField::Thinking => read_once(&mut map, &mut delta.thinking)?,
                DeltaField::Signature => read_once(&mut map, &mut delta.signature)?,
                DeltaField::StopReason => {
                    if std::mem::replace(&mut stop_reason_seen, true) {
                        return Err(not_here());
                    }
                    delta.stop_reason = map.next_value()?;
                }
                DeltaField::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(delta)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the derived path reads, as text to compare.
    fn derived(data: &str) -> String {
        format!("{:?}", serde_json::from_str::<StreamEvent>(data).map_err(|error| error.to_string()))
    }

    fn parsed(data: &str) -> String {
        format!("{:?}", parse_stream_event(data).map_err(|error| error.to_string()))
    }

    #[test]
    fn both_paths_read_every_event_alike() {
        let events = [
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}"#,
            r#"{"type":"content_block_delta","index":2,"delta":{"type":"text_delta","text":"a\nb \u00e9"}}"#,
            r#"{"type":"content_block_delta","delta":{"type":"text_delta"}}"#,
            r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"a\""}}"#,
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Hmm","x":[1]}}"#,
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"EqQB"}}"#,
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"citations_delta","citation":{"a":1}}}"#,
            r#"{"type":"content_block_delta","index":0,"delta":{"text":"late type","type":"text_delta"}}"#,
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a","text":"b"}}"#,
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":null}}"#,
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","thinking":"x","text":"y"}}"#,
            r#"{"type":"content_block_delta","index":0}"#,
            r#"{"type":"content_block_delta","index":-1,"delta":{"type":"text_delta","text":"x"}}"#,
            r#"{"type":"content_block_delta","index":0,"index":1,"delta":{"type":"text_delta","text":"x"}}"#,
            r#"{"index":0,"type":"content_block_delta","delta":{"type":"text_delta","text":"x"}}"#,
            r#"{"type":"content_block_stop","index":3}"#,
            r#"{"type":"content_block_stop"}"#,
            r#"{"type":"content_block_stop","index":3,"delta":5}"#,
            r#"{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":15}}"#,
            r#"{"type":"message_delta","usage":{"input_tokens":3,"output_tokens":15,"server_tool_use":{"web_search_requests":1}}}"#,
            r#"{"type":"message_delta","delta":null}"#,
            r#"{"type":"message_delta","index":4}"#,
            r#"{"type":"message_stop"}"#,
            r#"{"type":"message_stop","extra":{"a":[1,2]}}"#,
            r#"{"type": "ping"}"#,
            r#"{"type":"ping","type":"ping"}"#,
            r#"{"type":"future_event_type","payload":{"x":1}}"#,
            r#"{"type":"message_start","message":{"id":"msg_1","model":"m","usage":{"input_tokens":2}}}"#,
            r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
            r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"x"}} trailing"#,
            r#"{"type":5}"#,
            r#"[]"#,
            r#"{}"#,
            r#"{"delta":{"text":"x","type":"text_delta"},"index":0,"type":"content_block_delta"}"#,
            r#"{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_reason":null}}"#,
            r#"{"type":"message_delta","delta":{"stop_reason":5}}"#,
            r#"{"type":"message_delta","usage":null}"#,
            r#"{"type":"content_block_delta","index":0,"delta":{"type":null,"text":"x"}}"#,
            r#"{"type":"content_block_stop","index":0,"usage":{"output_tokens":"x"}}"#,
            r#"{"type":"ping","index":"x"}"#,
            r#"{"type":"message_stop","type":"ping"}"#,
        ];
        for data in events {
            assert_eq!(parsed(data), derived(data), "{data}");
        }
    }

    #[test]
    fn the_common_events_are_read_on_the_fast_path() {
        for data in [
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}"#,
            r#"{"type":"content_block_stop","index":0}"#,
            r#"{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":15}}"#,
            r#"{"type":"message_stop"}"#,
            r#"{"type": "ping"}"#,
            r#"{"delta":{"text":"x","type":"text_delta"},"index":0,"type":"content_block_delta"}"#,
            r#"{"delta":{"stop_reason":"tool_use"},"type":"message_delta","usage":{"output_tokens":1}}"#,
        ] {
            assert!(serde_json::from_str::<Fast>(data).is_ok(), "{data}");
        }
    }
}
