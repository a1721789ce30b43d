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

fn message<'a>(role: &'a str, content: &'a str) -> WireMessage<'a> {
    WireMessage { role, content: Some(content), tool_calls: None, tool_call_id: None }
}

/// Borrows everything from `source`, the fixture's gateway request serialised as JSON, so both sides
/// carry exactly the same strings.
pub fn wire_request(source: &Value, stream: bool) -> Option<WireRequest<'_>> {
    let text = |pointer: &str| source.pointer(pointer).and_then(Value::as_str);
    let messages = vec![
        message("system", text("/messages/0/content")?),
        message("user", text("/messages/1/content")?),
        WireMessage {
            role: "assistant",
            content: None,
            tool_calls: Some(vec![WireToolCall {
                id: text("/messages/2/tool_calls/0/id")?,
                kind: "function",
                function: WireFunctionCall {
                    name: text("/messages/2/tool_calls/0/function/name")?,
                    arguments: text("/messages/2/tool_calls/0/function/arguments")?,
                },
            }]),
            tool_call_id: None,
        },
        WireMessage {
            role: "tool",
            content: Some(text("/messages/3/content")?),
            tool_calls: None,
            tool_call_id: Some(text("/messages/3/tool_call_id")?),
        },
        message("user", text("/messages/4/content")?),
    ];
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
    }
}
