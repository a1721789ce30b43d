//! The translation baseline: OpenAI's request as a borrowed struct that serde_json writes directly,
//! holding the same conversation as `fixtures::gateway_request`.

use serde::Serialize;
use serde_json::Value;

/// OpenAI's chat completion request, only the fields the fixture sets.
#[derive(Debug, Serialize)]
pub struct WireRequest<'a> {
    model: &'a str,
    messages: Vec<WireMessage<'a>>,
    max_tokens: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    stream: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stream_options: Option<WireStreamOptions>,
    temperature: f32,
    tools: Vec<WireTool<'a>>,
    top_p: f32,
    user: &'a str,
}

#[derive(Debug, Serialize)]
struct WireStreamOptions {
    include_usage: bool,
}

#[derive(Debug, Serialize)]
struct WireMessage<'a> {
    role: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    content: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_calls: Option<Vec<WireToolCall<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_call_id: Option<&'a str>,
}

#[derive(Debug, Serialize)]
struct WireToolCall<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
    function: WireFunctionCall<'a>,
}

#[derive(Debug, Serialize)]
struct WireFunctionCall<'a> {
    name: &'a str,
    arguments: &'a str,
}

#[derive(Debug, Serialize)]
struct WireTool<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    function: WireFunction<'a>,
}

#[derive(Debug, Serialize)]
struct WireFunction<'a> {
    name: &'a str,
    description: &'a str,
    parameters: &'a Value,
    strict: bool,
}

/// One message of the request's JSON, borrowed: role, text content, tool calls, tool call id.
fn wire_message(message: &Value) -> Option<WireMessage<'_>> {
    let text = |pointer: &str| message.pointer(pointer).and_then(Value::as_str);
    let tool_calls = match message.get("tool_calls").and_then(Value::as_array) {
        Some(calls) => Some(
            calls
                .iter()
                .map(|call| {
                    Some(WireToolCall {
                        id: call.get("id")?.as_str()?,
                        kind: "function",
                        function: WireFunctionCall {
                            name: call.pointer("/function/name")?.as_str()?,
                            arguments: call.pointer("/function/arguments")?.as_str()?,
                        },
                    })
                })
                .collect::<Option<Vec<_>>>()?,
        ),
        None => None,
    };
    Some(WireMessage {
        role: text("/role")?,
        content: text("/content"),
        tool_calls,
        tool_call_id: text("/tool_call_id"),
    })
}

/// Borrows everything from `source`, the fixture's gateway request serialised as JSON, so both sides
/// carry exactly the same strings.
pub fn wire_request(source: &Value, stream: bool) -> Option<WireRequest<'_>> {
    let text = |pointer: &str| source.pointer(pointer).and_then(Value::as_str);
    let messages =
        source.get("messages")?.as_array()?.iter().map(wire_message).collect::<Option<Vec<_>>>()?;
    Some(WireRequest {
        model: text("/model")?,
        messages,
        max_tokens: 300,
        stream: stream.then_some(true),
        stream_options: stream.then_some(WireStreamOptions { include_usage: true }),
        temperature: 0.2,
        tools: vec![WireTool {
            kind: "function",
            function: WireFunction {
                name: text("/tools/0/function/name")?,
                description: text("/tools/0/function/description")?,
                parameters: source.pointer("/tools/0/function/parameters")?,
                strict: true,
            },
        }],
        top_p: 0.9,
        user: text("/user")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;

    #[test]
    fn the_wire_struct_writes_the_same_json_as_the_gateway_request() {
        for stream in [false, true] {
            // Compared as parsed bytes: `to_value` would widen the f32 sampling settings differently.
            let parse = |bytes: Vec<u8>| serde_json::from_slice::<Value>(&bytes).ok();
            let gateway = serde_json::to_vec(&fixtures::gateway_request(stream)).ok().and_then(parse);
            let Some(gateway) = gateway else { panic!("json") };
            let Some(wire) = wire_request(&gateway, stream) else { panic!("every field is in the fixture") };
            assert_eq!(serde_json::to_vec(&wire).ok().and_then(parse), Some(gateway.clone()));
        }
        let parse = |bytes: Vec<u8>| serde_json::from_slice::<Value>(&bytes).ok();
        let turns = serde_json::to_vec(&fixtures::turns_request()).ok().and_then(parse);
        let Some(turns) = turns else { panic!("json") };
        let Some(wire) = wire_request(&turns, false) else { panic!("every field is in the fixture") };
        assert_eq!(serde_json::to_vec(&wire).ok().and_then(parse), Some(turns));
    }
}
