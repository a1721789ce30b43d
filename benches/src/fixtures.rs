//! The payloads every measurement uses: one realistic gateway request, OpenAI's answer to it, and a
//! stream of OpenAI chat completion chunks.
//!
//! Shapes follow OpenAI's API reference for `POST /v1/chat/completions` as of 2025 (`service_tier`,
//! `system_fingerprint`, `obfuscation` on chunks, detailed usage); the values are made up.

use serde_json::json;
use vllora_llm_core::types::gateway::{
    ChatCompletionMessage, ChatCompletionRequest, ChatCompletionTool, FunctionDefinition, StreamOptions,
    ToolCall,
};

/// The model every request names: a non-reasoning model, so no parameter is rewritten or dropped.
pub const MODEL: &str = "gpt-4o-mini";
/// The API key the clients send (the loopback server ignores it).
pub const API_KEY: &str = "sk-bench-0123456789abcdef";

const SYSTEM_PROMPT: &str = "You are a travel assistant for a rail company. Answer in two sentences at most, \
     quote prices in euros, and call get_timetable before naming a departure time.";

/// A typical gateway request: a system prompt, a short conversation with one tool round trip, one tool,
/// and the usual sampling settings.
pub fn gateway_request(stream: bool) -> ChatCompletionRequest {
    let mut assistant = ChatCompletionMessage::new_text("assistant", "");
    assistant.content = None;
    assistant.tool_calls = Some(vec![ToolCall::function(
        "call_Zt4mVq2R8sLw1KxN0pYb",
        "get_timetable",
        r#"{"from":"Lyon Part-Dieu","to":"Marseille Saint-Charles","date":"2025-06-14"}"#,
    )]);
    ChatCompletionRequest {
        model: MODEL.to_owned(),
        messages: vec![
            ChatCompletionMessage::new_text("system", SYSTEM_PROMPT),
            ChatCompletionMessage::new_text(
                "user",
                "Is there a train from Lyon to Marseille on Saturday morning, and how much is it?",
            ),
            assistant,
            ChatCompletionMessage::new_tool_result(
                "call_Zt4mVq2R8sLw1KxN0pYb",
                r#"{"departures":[{"time":"07:04","price_eur":29},{"time":"08:34","price_eur":35}]}"#,
            ),
            ChatCompletionMessage::new_text("user", "The earlier one, please. Is it direct?"),
        ],
        tools: Some(vec![ChatCompletionTool::function(FunctionDefinition {
            name: "get_timetable".to_owned(),
            description: Some("Departures between two stations on a date, with their prices.".to_owned()),
            parameters: Some(json!({
                "type": "object",
                "properties": {
                    "from": {"type": "string", "description": "Departure station"},
                    "to": {"type": "string", "description": "Arrival station"},
                    "date": {"type": "string", "description": "ISO 8601 date"}
                },
                "required": ["from", "to", "date"],
                "additionalProperties": false
            })),
            strict: Some(true),
        })]),
        temperature: Some(0.2),
        top_p: Some(0.9),
        max_tokens: Some(300),
        user: Some("user-4821".to_owned()),
        stream: stream.then_some(true),
        stream_options: stream
            .then_some(StreamOptions { include_usage: Some(true), include_obfuscation: None }),
        ..Default::default()
    }
}

/// OpenAI's one-shot answer.
pub fn completion_response() -> serde_json::Value {
    json!({
        "id": "chatcmpl-BxKz3mQvT8nW2pL5rY7uJ9aE1cF4d",
        "object": "chat.completion",
        "created": 1_749_900_000,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [{
            "index": 0,
            "message": {
                "role": "assistant",
                "content": "Yes: the 07:04 from Lyon Part-Dieu reaches Marseille Saint-Charles at 08:45 without \
                            a change, and a second-class seat costs 29 euros. Shall I book it?",
                "refusal": null,
                "annotations": []
            },
            "logprobs": null,
            "finish_reason": "stop"
        }],
        "usage": {
            "prompt_tokens": 212,
            "completion_tokens": 41,
            "total_tokens": 253,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": 0,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0
            }
        },
        "service_tier": "default",
        "system_fingerprint": "fp_34a54ae93c"
    })
}

/// Token texts the content chunks cycle through; one of them needs JSON escapes, as newlines do in
/// real answers.
const TOKENS: [&str; 8] = [" The", " train", " leaves", " at", " 07:04", ",\n\n", " direct", " service"];

fn chunk(choices: serde_json::Value, usage: Option<serde_json::Value>) -> serde_json::Value {
    let mut chunk = json!({
        "id": "chatcmpl-BxKz3mQvT8nW2pL5rY7uJ9aE1cF4d",
        "object": "chat.completion.chunk",
        "created": 1_749_900_000,
        "model": "gpt-4o-mini-2024-07-18",
        "service_tier": "default",
        "system_fingerprint": "fp_34a54ae93c",
        "choices": choices,
        "usage": null,
        "obfuscation": "q8Xn2"
    });
    if let (Some(usage), Some(object)) = (usage, chunk.as_object_mut()) {
        object.insert("usage".to_owned(), usage);
    }
    chunk
}

/// The chunks of one streamed answer with `events` chunks in all: a first chunk with the role, content
/// chunks, a chunk with the finish reason, and the usage chunk with no choices.
pub fn stream_chunks(events: usize) -> Vec<serde_json::Value> {
    let events = events.max(3);
    let mut chunks = Vec::with_capacity(events);
    chunks.push(chunk(
        json!([{"index": 0, "delta": {"role": "assistant", "content": "", "refusal": null},
                "logprobs": null, "finish_reason": null}]),
        None,
    ));
    for position in 0..events - 3 {
        let token = TOKENS.get(position % TOKENS.len()).copied().unwrap_or(" ");
        chunks.push(chunk(
            json!([{"index": 0, "delta": {"content": token}, "logprobs": null, "finish_reason": null}]),
            None,
        ));
    }
    chunks.push(chunk(json!([{"index": 0, "delta": {}, "logprobs": null, "finish_reason": "stop"}]), None));
    chunks.push(chunk(
        json!([]),
        Some(json!({
            "prompt_tokens": 212,
            "completion_tokens": events - 3,
            "total_tokens": 212 + events - 3,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0,
                                          "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}
        })),
    ));
    chunks
}

/// The same stream as server-sent events, one `data:` event per chunk and `[DONE]` at the end.
pub fn stream_events(events: usize) -> Vec<String> {
    let mut lines: Vec<String> =
        stream_chunks(events).iter().map(|chunk| format!("data: {chunk}\n\n")).collect();
    lines.push("data: [DONE]\n\n".to_owned());
    lines
}

/// Messages in the long conversation of the `turns` scenario, the system prompt included.
pub const TURNS: usize = 1_000;

const USER_TURNS: [&str; 4] = [
    "Which trains leave Lyon for Marseille tomorrow before noon?",
    "Can I bring a bicycle on the 09:04, and does it cost extra?",
    "My daughter is 11: which fare applies to her, and can we sit together?",
    "Please list the stops of the 10:34 \"TER\" service.\nI need the exact times.",
];

const ASSISTANT_TURNS: [&str; 4] = [
    "Three trains leave before noon: 07:04, 09:04 and 10:34. The 07:04 is direct and costs 29 euros.",
    "Yes, bicycles travel free on the 09:04 if you book a bike space; there are six per train.",
    "Children from 4 to 11 pay the youth fare, 50% off. I can reserve two adjacent seats in coach 6.",
    "The 10:34 stops at Vienne (10:52), Valence (11:31) and Avignon (12:25), reaching Marseille at 13:05.",
];

/// The `turns` request: a conversation a gateway keeps, of `TURNS` messages (the system prompt, then
/// user and assistant alternately, ending with the user's), with the one-shot request's tool and
/// settings. The server answers it with the one-shot answer. (`benches/peers/src/fixture.rs` holds
/// the same texts for the peers.)
pub fn turns_request() -> ChatCompletionRequest {
    let mut messages = Vec::with_capacity(TURNS);
    messages.push(ChatCompletionMessage::new_text("system", SYSTEM_PROMPT));
    for position in 0..TURNS - 1 {
        let exchange = (position / 2) % USER_TURNS.len();
        messages.push(if position % 2 == 0 {
            ChatCompletionMessage::new_text("user", USER_TURNS.get(exchange).copied().unwrap_or_default())
        } else {
            ChatCompletionMessage::new_text(
                "assistant",
                ASSISTANT_TURNS.get(exchange).copied().unwrap_or_default(),
            )
        });
    }
    ChatCompletionRequest { messages, ..gateway_request(false) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stream_has_the_asked_number_of_chunks_then_done() {
        let events = stream_events(10);
        assert_eq!(events.len(), 11);
        assert_eq!(events.last().map(String::as_str), Some("data: [DONE]\n\n"));
        assert!(events.iter().all(|event| event.starts_with("data: ") && event.ends_with("\n\n")));
        let chunks = stream_chunks(10);
        assert_eq!(chunks.last().and_then(|chunk| chunk["choices"].as_array()).map(Vec::len), Some(0));
        assert_eq!(chunks.last().map(|chunk| chunk["usage"]["completion_tokens"].clone()), Some(json!(7)));
    }

    /// The loopback server serves these documents, so OpenAI's schema must accept them.
    #[test]
    fn served_documents_are_recorded_for_conformance() {
        vllora_llm_testkit::record_conformance("openai-chat-response", &completion_response());
        for chunk in stream_chunks(12) {
            vllora_llm_testkit::record_conformance("openai-chat-chunk", &chunk);
        }
        for stream in [false, true] {
            let Ok(body) = serde_json::to_value(gateway_request(stream)) else { panic!("serialisable") };
            vllora_llm_testkit::record_conformance("openai-chat", &body);
        }
    }

    #[test]
    fn the_long_conversation_ends_with_the_user() {
        let request = turns_request();
        assert_eq!(request.messages.len(), TURNS);
        assert_eq!(request.messages.last().map(|message| message.role.as_str()), Some("user"));
        assert_eq!(request.tools.as_ref().map(Vec::len), Some(1));
    }

    #[test]
    fn the_request_is_what_the_clients_post() {
        let Ok(body) = serde_json::to_value(gateway_request(true)) else { panic!("serialisable") };
        assert_eq!(body["stream"], json!(true));
        assert_eq!(body["stream_options"], json!({"include_usage": true}));
        assert_eq!(body["messages"].as_array().map(Vec::len), Some(5));
        assert_eq!(body["tools"][0]["function"]["name"], json!("get_timetable"));
    }
}
