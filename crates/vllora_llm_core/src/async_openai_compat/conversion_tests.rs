//! Tests of the async-openai conversions: properties over seeded random documents (every field, message
//! kind, content part, tool, tool choice, response format, audio and prediction form), and unit tests
//! pinning each warning.
//!
//! The generator is a few lines of xorshift rather than proptest: the documents are built as JSON (so
//! they are exactly what async-openai can deserialise and serialise), a failure prints its seed and
//! document, and the core keeps its dev-dependencies to what it already has.

use ::async_openai::types::chat as upstream;
use serde_json::{Map, Value, json};

use super::{chunk_to_async_openai, request_from_async_openai, response_to_async_openai};
use crate::error::LLMError;
use crate::types::gateway::{ChatCompletionChunk, ChatCompletionRequest, ChatCompletionResponse, FinishReason};
use crate::warning::Warning;

/// Documents per property.
const CASES: u64 = 2000;

/// A small deterministic generator (xorshift64*).
struct Seeded(u64);

impl Seeded {
    fn new(seed: u64) -> Self {
        Seeded(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound.max(1)
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }

    /// Text with the characters JSON escapes and non-ASCII.
    fn text(&mut self) -> String {
        let pieces = ["hello", " ", "wörld", "\"q\"", "\\", "\n", "日本", "🙂", "{}", "a,b", "\t", "é"];
        (0..self.below(5) + 1).map(|_| self.pick(&pieces)).collect()
    }

    /// A sampling value as async-openai holds it (`f32`), in the JSON text it writes.
    fn float(&mut self) -> Value {
        let value = (self.below(4001) as f32 - 2000.0) / 1000.0 * if self.chance(20) { 0.37 } else { 1.0 };
        number_text(&value.to_string())
    }

    fn maybe(
        &mut self,
        percent: u64,
        object: &mut Map<String, Value>,
        key: &str,
        value: impl FnOnce(&mut Self) -> Value,
    ) {
        if self.chance(percent) {
            let value = value(self);
            object.insert(key.to_owned(), value);
        }
    }
}

fn number_text(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or(Value::Null)
}

/// An async-openai text part, sometimes with a cache breakpoint (which has no equivalent).
fn text_part(rng: &mut Seeded) -> Value {
    let mut part = json!({"type": "text", "text": rng.text()});
    if rng.chance(15) {
        part["prompt_cache_breakpoint"] = json!({"mode": "explicit", "ttl": rng.pick(&["30m", "12h"])});
    }
    part
}

fn breakpoint(rng: &mut Seeded, part: &mut Value) {
    if rng.chance(10) {
        part["prompt_cache_breakpoint"] = json!({"mode": "explicit"});
    }
}

fn user_part(rng: &mut Seeded) -> Value {
    let mut part = match rng.below(4) {
        0 => return text_part(rng),
        1 => {
            let mut image = json!({"url": format!("https://example.com/{}.png", rng.below(100))});
            if rng.chance(60) {
                image["detail"] = json!(rng.pick(&["auto", "low", "high", "original"]));
            }
            json!({"type": "image_url", "image_url": image})
        }
        2 => {
            json!({"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": rng.pick(&["wav", "mp3"])}})
        }
        _ => {
            let mut file = Map::new();
            rng.maybe(60, &mut file, "file_data", |_| json!("data:application/pdf;base64,JVBERi0="));
            rng.maybe(50, &mut file, "file_id", |rng| json!(format!("file-{}", rng.below(1000))));
            rng.maybe(50, &mut file, "filename", |_| json!("paper.pdf"));
            json!({"type": "file", "file": file})
        }
    };
    breakpoint(rng, &mut part);
    part
}

fn parts_or_text(rng: &mut Seeded, part: fn(&mut Seeded) -> Value) -> Value {
    if rng.chance(50) {
        json!(rng.text())
    } else {
        Value::Array((0..rng.below(3) + 1).map(|_| part(rng)).collect())
    }
}

fn tool_call(rng: &mut Seeded) -> Value {
    if rng.chance(15) {
        json!({"type": "custom", "id": format!("call_{}", rng.below(99)), "custom_tool": {"name": "grep", "input": rng.text()}})
    } else {
        json!({"type": "function", "id": format!("call_{}", rng.below(99)),
               "function": {"name": rng.pick(&["get_weather", "lookup"]), "arguments": "{\"city\":\"Paris\"}"}})
    }
}

fn message(rng: &mut Seeded) -> Value {
    let mut message = Map::new();
    match rng.below(6) {
        0 | 1 => {
            let role = rng.pick(&["system", "developer"]);
            message.insert("role".into(), json!(role));
            message.insert("content".into(), parts_or_text(rng, text_part));
            rng.maybe(20, &mut message, "name", |_| json!("ops"));
        }
        2 => {
            message.insert("role".into(), json!("user"));
            message.insert("content".into(), parts_or_text(rng, user_part));
            rng.maybe(20, &mut message, "name", |_| json!("ada"));
        }
        3 => {
            message.insert("role".into(), json!("assistant"));
            rng.maybe(70, &mut message, "content", |rng| {
                parts_or_text(rng, |rng| {
                    if rng.chance(25) {
                        json!({"type": "refusal", "refusal": rng.text()})
                    } else {
                        text_part(rng)
                    }
                })
            });
            rng.maybe(15, &mut message, "refusal", |rng| json!(rng.text()));
            rng.maybe(15, &mut message, "name", |_| json!("bot"));
            rng.maybe(10, &mut message, "audio", |_| json!({"id": "audio_1"}));
            rng.maybe(40, &mut message, "tool_calls", |rng| {
                Value::Array((0..rng.below(3) + 1).map(|_| tool_call(rng)).collect())
            });
            rng.maybe(5, &mut message, "function_call", |_| json!({"name": "legacy", "arguments": "{}"}));
        }
        4 => {
            message.insert("role".into(), json!("tool"));
            message.insert("content".into(), parts_or_text(rng, text_part));
            message.insert("tool_call_id".into(), json!(format!("call_{}", rng.below(99))));
        }
        _ => {
            message.insert("role".into(), json!("function"));
            rng.maybe(80, &mut message, "content", |rng| json!(rng.text()));
            message.insert("name".into(), json!("legacy"));
        }
    }
    Value::Object(message)
}

fn tool(rng: &mut Seeded) -> Value {
    if rng.chance(15) {
        let format = if rng.chance(50) {
            json!({"type": "text"})
        } else {
            json!({"type": "grammar", "grammar": {"definition": "start: /[a-z]+/", "syntax": "lark"}})
        };
        return json!({"type": "custom", "custom": {"name": "grep", "description": "search", "format": format}});
    }
    let mut function = Map::new();
    function.insert("name".into(), json!(rng.pick(&["get_weather", "lookup", "sum"])));
    rng.maybe(60, &mut function, "description", |rng| json!(rng.text()));
    rng.maybe(
        70,
        &mut function,
        "parameters",
        |_| json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
    );
    rng.maybe(30, &mut function, "strict", |rng| json!(rng.chance(50)));
    json!({"type": "function", "function": function})
}

fn tool_choice(rng: &mut Seeded) -> Value {
    match rng.below(5) {
        0 => json!(rng.pick(&["none", "auto", "required"])),
        1 => json!({"type": "function", "function": {"name": "get_weather"}}),
        2 => json!({"type": "custom", "custom": {"name": "grep"}}),
        _ => {
            let entry = |rng: &mut Seeded| {
                let tools: Vec<Value> = (0..rng.below(3) + 1)
                    .map(|_| match rng.below(6) {
                        0 => json!({"type": "custom", "custom": {"name": "grep"}}),
                        1 => json!({"type": "function", "function": {"name": "sum", "strict": true}}),
                        _ => json!({"type": "function", "function": {"name": rng.pick(&["get_weather", "lookup"])}}),
                    })
                    .collect();
                json!({"mode": rng.pick(&["auto", "required"]), "tools": tools})
            };
            let entries: Vec<Value> = (0..if rng.chance(85) { 1 } else { 2 }).map(|_| entry(rng)).collect();
            json!({"type": "allowed_tools", "allowed_tools": entries})
        }
    }
}

/// A random async-openai request document: every field of `CreateChatCompletionRequest` appears in some.
fn request_document(rng: &mut Seeded) -> Value {
    let mut request = Map::new();
    request.insert("model".into(), json!(rng.pick(&["gpt-4.1-mini", "o4-mini", "gpt-5"])));
    request.insert("messages".into(), Value::Array((0..rng.below(5) + 1).map(|_| message(rng)).collect()));
    let percent = 30;
    rng.maybe(percent, &mut request, "modalities", |rng| {
        if rng.chance(50) { json!(["text"]) } else { json!(["text", "audio"]) }
    });
    rng.maybe(percent, &mut request, "verbosity", |rng| json!(rng.pick(&["low", "medium", "high"])));
    rng.maybe(percent, &mut request, "reasoning_effort", |rng| {
        json!(rng.pick(&["none", "minimal", "low", "medium", "high", "xhigh", "max"]))
    });
    rng.maybe(percent, &mut request, "max_completion_tokens", |rng| json!(rng.below(4096)));
    rng.maybe(percent, &mut request, "frequency_penalty", Seeded::float);
    rng.maybe(percent, &mut request, "presence_penalty", Seeded::float);
    rng.maybe(percent, &mut request, "web_search_options", |_| {
        json!({"search_context_size": "low", "user_location": {"type": "approximate", "approximate": {"city": "Paris"}}})
    });
    rng.maybe(percent, &mut request, "top_logprobs", |rng| json!(rng.below(21)));
    rng.maybe(percent, &mut request, "response_format", |rng| match rng.below(3) {
        0 => json!({"type": "text"}),
        1 => json!({"type": "json_object"}),
        _ => json!({"type": "json_schema", "json_schema": {"name": "answer", "description": "the answer",
                    "schema": {"type": "object", "properties": {"n": {"type": "integer"}}}, "strict": true}}),
    });
    rng.maybe(percent, &mut request, "audio", |rng| {
        json!({"voice": rng.pick(&["alloy", "coral", "my-voice"]), "format": rng.pick(&["wav", "mp3", "pcm16"])})
    });
    rng.maybe(percent, &mut request, "store", |rng| json!(rng.chance(50)));
    rng.maybe(percent, &mut request, "stream", |rng| json!(rng.chance(50)));
    rng.maybe(percent, &mut request, "stop", |rng| {
        if rng.chance(50) { json!(rng.text()) } else { json!(["END", rng.text()]) }
    });
    rng.maybe(percent, &mut request, "logit_bias", |rng| json!({"50256": -100, "1234": rng.below(100)}));
    rng.maybe(percent, &mut request, "logprobs", |rng| json!(rng.chance(50)));
    rng.maybe(percent, &mut request, "max_tokens", |rng| json!(rng.below(4096)));
    rng.maybe(percent, &mut request, "n", |rng| json!(rng.below(4) + 1));
    rng.maybe(
        percent,
        &mut request,
        "prediction",
        |rng| json!({"type": "content", "content": parts_or_text(rng, text_part)}),
    );
    rng.maybe(percent, &mut request, "seed", |rng| json!(rng.below(1 << 40) as i64 - (1 << 39)));
    rng.maybe(percent, &mut request, "stream_options", |rng| {
        let mut options = Map::new();
        rng.maybe(60, &mut options, "include_usage", |rng| json!(rng.chance(50)));
        rng.maybe(40, &mut options, "include_obfuscation", |rng| json!(rng.chance(50)));
        Value::Object(options)
    });
    rng.maybe(percent, &mut request, "service_tier", |rng| {
        json!(rng.pick(&["auto", "default", "flex", "priority"]))
    });
    rng.maybe(percent, &mut request, "temperature", Seeded::float);
    rng.maybe(percent, &mut request, "top_p", Seeded::float);
    rng.maybe(percent, &mut request, "tools", |rng| {
        Value::Array((0..rng.below(3) + 1).map(|_| tool(rng)).collect())
    });
    rng.maybe(percent, &mut request, "tool_choice", tool_choice);
    rng.maybe(percent, &mut request, "parallel_tool_calls", |rng| json!(rng.chance(50)));
    rng.maybe(percent, &mut request, "user", |_| json!("user-42"));
    rng.maybe(percent, &mut request, "safety_identifier", |_| json!("hashed-42"));
    rng.maybe(percent, &mut request, "prompt_cache_key", |_| json!("conversation-7"));
    rng.maybe(15, &mut request, "function_call", |rng| {
        if rng.chance(50) { json!(rng.pick(&["none", "auto"])) } else { json!({"name": "legacy"}) }
    });
    rng.maybe(
        15,
        &mut request,
        "functions",
        |_| json!([{"name": "legacy", "description": "old style", "parameters": {"type": "object"}}]),
    );
    rng.maybe(percent, &mut request, "metadata", |rng| {
        if rng.chance(85) { json!({"team": "search", "ticket": "T-1"}) } else { json!({"count": 3}) }
    });
    rng.maybe(10, &mut request, "prompt_cache_options", |_| json!({"ttl": "30m", "mode": "explicit"}));
    rng.maybe(10, &mut request, "moderation", |_| json!({"model": "omni-moderation-latest"}));
    Value::Object(request)
}

/// The JSON text a value serialises to, read back: the document as it goes over the wire (serde_json's
/// `to_value` would widen `f32`s instead of writing their shortest text).
fn document<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_string(value).ok().and_then(|text| serde_json::from_str(&text).ok()).unwrap_or(Value::Null)
}

/// Drops `null` members: both sides treat an absent optional field and `null` alike.
fn without_nulls(value: Value) -> Value {
    match value {
        Value::Object(object) => Value::Object(
            object
                .into_iter()
                .filter(|(_, value)| !value.is_null())
                .map(|(key, value)| (key, without_nulls(value)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(without_nulls).collect()),
        other => other,
    }
}

/// Steps of a warning's JSON path (`messages[2].content[0].detail`).
enum Step {
    Key(String),
    Index(usize),
}

fn steps(path: &str) -> Vec<Step> {
    let mut steps = Vec::new();
    for segment in path.split('.') {
        let mut pieces = segment.split('[');
        if let Some(key) = pieces.next().filter(|key| !key.is_empty()) {
            steps.push(Step::Key(key.to_owned()));
        }
        for index in pieces {
            if let Ok(index) = index.trim_end_matches(']').parse() {
                steps.push(Step::Index(index));
            }
        }
    }
    steps
}

/// A warning's path as a JSON pointer (`messages[2].role` -> `/messages/2/role`).
fn json_pointer(path: &str) -> String {
    format!("/{}", path.replace(['.', '['], "/").replace(']', ""))
}

/// Removes what `path` names; false when nothing is there (a warning about a field that was not sent).
fn remove(document: &mut Value, path: &str) -> bool {
    let steps = steps(path);
    let Some((last, parents)) = steps.split_last() else { return false };
    let mut here = document;
    for step in parents {
        let next = match step {
            Step::Key(key) => here.get_mut(key.as_str()),
            Step::Index(index) => here.get_mut(*index),
        };
        let Some(next) = next else { return false };
        here = next;
    }
    match (last, here) {
        (Step::Key(key), Value::Object(object)) => object.remove(key).is_some(),
        (Step::Index(index), Value::Array(items)) if *index < items.len() => {
            // Marked rather than removed, so the indices of later warnings stay valid.
            items[*index] = json!("__removed__");
            true
        }
        _ => false,
    }
}

fn sweep_removed(value: Value) -> Value {
    match value {
        Value::Object(object) => {
            Value::Object(object.into_iter().map(|(key, value)| (key, sweep_removed(value))).collect())
        }
        Value::Array(items) => {
            Value::Array(items.into_iter().filter(|item| item != "__removed__").map(sweep_removed).collect())
        }
        other => other,
    }
}

/// async-openai's request document as the gateway request must send it: warned fields removed, the
/// documented representation changes applied.
fn expected_request(mut theirs: Value, warnings: &[Warning]) -> Result<Value, String> {
    // async-openai writes allowed_tools as a list; OpenAI defines one object.
    if let Some(entries) = theirs.pointer_mut("/tool_choice/allowed_tools") {
        if let Some(first) = entries.as_array().and_then(|entries| entries.first()).cloned() {
            *entries = first;
        }
    }
    if let Some(stop) = theirs.get_mut("stop") {
        if stop.is_string() {
            *stop = json!([stop.take()]);
        }
    }
    for warning in warnings {
        match warning {
            Warning::UnsupportedParameter { parameter, .. } => {
                if !remove(&mut theirs, parameter) {
                    return Err(format!("warning about `{parameter}`, which the document does not have"));
                }
            }
            Warning::ParameterAdjusted { parameter, .. } if parameter == "reasoning_effort" => {
                theirs["reasoning_effort"] = json!("xhigh");
            }
            Warning::ParameterAdjusted { parameter, .. } if parameter == "tool_choice.allowed_tools" => {}
            Warning::ParameterAdjusted { parameter, .. }
                if parameter.starts_with("tool_choice.allowed_tools.tools[") =>
            {
                let pointer = json_pointer(parameter);
                if let Some(entry) = theirs.pointer_mut(&pointer) {
                    let name = entry.pointer("/function/name").cloned().unwrap_or(Value::Null);
                    *entry = json!({"type": "function", "function": {"name": name}});
                }
            }
            other => return Err(format!("unexpected warning: {other:?}")),
        }
    }
    let mut expected = sweep_removed(theirs);
    // Lists emptied by the removals are not sent at all (OpenAI refuses empty `tools` and `tool_calls`).
    let emptied = |value: &mut Value, key: &str| {
        if value.get(key).and_then(Value::as_array).is_some_and(Vec::is_empty) {
            value.as_object_mut().map(|object| object.remove(key));
        }
    };
    emptied(&mut expected, "tools");
    for message in expected.get_mut("messages").and_then(Value::as_array_mut).into_iter().flatten() {
        emptied(message, "tool_calls");
    }
    // async-openai writes prediction parts without their `type`; OpenAI requires `"type": "text"`.
    for part in
        expected.pointer_mut("/prediction/content").and_then(Value::as_array_mut).into_iter().flatten()
    {
        part["type"] = json!("text");
    }
    Ok(expected)
}

#[test]
fn every_async_openai_request_becomes_the_same_document() {
    let mut warned = 0;
    for seed in 0..CASES {
        let mut rng = Seeded::new(seed);
        let generated = request_document(&mut rng);
        let request: upstream::CreateChatCompletionRequest = match serde_json::from_value(generated.clone()) {
            Ok(request) => request,
            Err(error) => {
                panic!("seed {seed}: async-openai cannot read the generated document ({error}): {generated}")
            }
        };
        let theirs = without_nulls(document(&request));
        let (converted, warnings) = request_from_async_openai(request);
        warned += usize::from(!warnings.is_empty());
        let ours = without_nulls(document(&converted));
        let expected = expected_request(theirs.clone(), &warnings)
            .unwrap_or_else(|problem| panic!("seed {seed}: {problem}\ndocument: {theirs}"));
        assert_eq!(ours, expected, "seed {seed}\nasync-openai: {theirs}\nwarnings: {warnings:?}");
        // What we send reads back as the same gateway request.
        let reread: ChatCompletionRequest = serde_json::from_value(ours).unwrap_or_default();
        assert_eq!(reread, converted, "seed {seed}");
    }
    // The generator reaches the lossy fields as well as the faithful ones.
    assert!(warned > 100 && warned < 1900, "{warned} of {CASES} conversions warned");
}

#[test]
fn the_documents_request_converts_exactly() {
    let request = upstream::CreateChatCompletionRequestArgs::default()
        .model("gpt-4.1-mini")
        .messages([
            upstream::ChatCompletionRequestMessage::System(
                upstream::ChatCompletionRequestSystemMessageArgs::default()
                    .content("You are a helpful assistant.")
                    .build()
                    .unwrap_or_default(),
            ),
            upstream::ChatCompletionRequestMessage::User(
                upstream::ChatCompletionRequestUserMessageArgs::default()
                    .content("Stream numbers 1 to 20 in separate lines.")
                    .build()
                    .unwrap_or_default(),
            ),
        ])
        .temperature(0.7)
        .build()
        .unwrap_or_default();
    let converted = ChatCompletionRequest::from(request);
    assert_eq!(
        serde_json::to_string(&converted).unwrap_or_default(),
        r#"{"model":"gpt-4.1-mini","messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"Stream numbers 1 to 20 in separate lines."}],"temperature":0.7}"#
    );
}

#[test]
fn what_has_no_equivalent_is_named() {
    let request: upstream::CreateChatCompletionRequest = serde_json::from_value(json!({
        "model": "gpt-5",
        "messages": [
            {"role": "user", "content": [
                {"type": "text", "text": "look", "prompt_cache_breakpoint": {"mode": "explicit"}},
                {"type": "image_url", "image_url": {"url": "https://example.com/a.png", "detail": "original"}}
            ]},
            {"role": "assistant", "tool_calls": [{"type": "custom", "id": "c1", "custom_tool": {"name": "grep", "input": "x"}}],
             "function_call": {"name": "legacy", "arguments": "{}"}}
        ],
        "tools": [{"type": "custom", "custom": {"name": "grep", "format": {"type": "text"}}}],
        "tool_choice": {"type": "custom", "custom": {"name": "grep"}},
        "reasoning_effort": "max",
        "metadata": {"count": 3},
        "prompt_cache_options": {"ttl": "30m"},
        "moderation": {"model": "omni-moderation-latest"}
    }))
    .unwrap_or_default();
    let (converted, warnings) = request_from_async_openai(request);
    let named: Vec<String> = warnings.iter().map(ToString::to_string).collect();
    assert_eq!(
        named,
        [
            "`prompt_cache_options` was not sent: ChatCompletionRequest has no field for it",
            "`moderation` was not sent: ChatCompletionRequest has no field for it",
            "`messages[0].content[0].prompt_cache_breakpoint` was not sent: ContentPart has no field for it",
            "`messages[0].content[1].image_url.detail` was not sent: `original` has no equivalent; the model's default detail applies",
            "`messages[1].function_call` was not sent: the deprecated function call of an assistant message has no field in ChatCompletionMessage; use tool_calls",
            "`messages[1].tool_calls[0]` was not sent: custom tool call `grep`: ChatCompletionMessage has function calls only",
            "`metadata` was not sent: ChatCompletionRequest's metadata holds string values only",
            "`reasoning_effort`: `max` has no equivalent; sent as `xhigh`, the highest known",
            "`tool_choice` was not sent: custom tool `grep`: ChatCompletionRequest has function tools only",
            "`tools[0]` was not sent: custom tool `grep`: ChatCompletionRequest has function tools only",
        ]
    );
    assert_eq!(converted.tools, None);
    assert_eq!(converted.messages[1].tool_calls, None);
    assert_eq!(converted.tool_choice, None);
}

#[test]
fn builder_errors_are_invalid_requests() {
    let error = LLMError::from(super::OpenAIError::InvalidArgument("messages is empty".to_owned()));
    assert!(matches!(error, LLMError::InvalidRequest(_)));
    assert_eq!(error.to_string(), "invalid request: async-openai: invalid args: messages is empty");
}

/// A log probability async-openai's `f32` holds exactly, so the documents compare equal.
fn logprob(rng: &mut Seeded) -> Value {
    json!(-(rng.below(64) as f64) / 8.0)
}

fn logprobs(rng: &mut Seeded) -> Value {
    let token = |rng: &mut Seeded| {
        let top: Vec<Value> = (0..rng.below(3))
            .map(|_| json!({"token": "a", "logprob": logprob(rng), "bytes": [97]}))
            .collect();
        json!({"token": rng.text(), "logprob": logprob(rng), "bytes": null, "top_logprobs": top})
    };
    let content: Vec<Value> = (0..rng.below(3) + 1).map(|_| token(rng)).collect();
    json!({"content": content, "refusal": null})
}

fn usage(rng: &mut Seeded) -> Value {
    let mut usage = json!({"prompt_tokens": rng.below(5000), "completion_tokens": rng.below(500), "total_tokens": rng.below(6000)});
    if rng.chance(50) {
        let mut details = Map::new();
        rng.maybe(70, &mut details, "cached_tokens", |rng| json!(rng.below(100)));
        rng.maybe(30, &mut details, "audio_tokens", |rng| json!(rng.below(100)));
        rng.maybe(30, &mut details, "cache_creation_tokens", |rng| json!(rng.below(100)));
        usage["prompt_tokens_details"] = Value::Object(details);
    }
    if rng.chance(50) {
        let mut details = Map::new();
        for key in
            ["reasoning_tokens", "audio_tokens", "accepted_prediction_tokens", "rejected_prediction_tokens"]
        {
            rng.maybe(50, &mut details, key, |rng| json!(rng.below(100)));
        }
        usage["completion_tokens_details"] = Value::Object(details);
    }
    if rng.chance(10) {
        usage["server_tool_use"] = json!({"web_search_requests": 1});
    }
    usage
}

fn finish_reason(rng: &mut Seeded) -> Value {
    json!(rng.pick(&["stop", "length", "tool_calls", "content_filter", "function_call", "pause_turn"]))
}

fn response_message(rng: &mut Seeded) -> Value {
    let mut message = Map::new();
    message.insert("role".into(), json!(if rng.chance(95) { "assistant" } else { "critic" }));
    rng.maybe(80, &mut message, "content", |rng| json!(rng.text()));
    rng.maybe(10, &mut message, "refusal", |rng| json!(rng.text()));
    rng.maybe(30, &mut message, "tool_calls", |rng| {
        let calls: Vec<Value> = (0..rng.below(2) + 1)
            .map(|index| {
                let mut call = json!({"id": format!("call_{index}"), "type": "function",
                                      "function": {"name": "get_weather", "arguments": "{\"city\":\"Oslo\"}"}});
                if rng.chance(10) {
                    call["extra_content"] = json!({"google": {"thought_signature": "c2ln"}});
                }
                call
            })
            .collect();
        Value::Array(calls)
    });
    rng.maybe(10, &mut message, "annotations", |_| {
        json!([{"type": "url_citation", "url_citation": {"start_index": 0, "end_index": 5, "url": "https://example.com", "title": "Example"}}])
    });
    rng.maybe(
        5,
        &mut message,
        "audio",
        |_| json!({"id": "audio_1", "data": "UklGRg==", "expires_at": 1_700_000_000, "transcript": "hi"}),
    );
    rng.maybe(15, &mut message, "reasoning_content", |rng| json!(rng.text()));
    rng.maybe(5, &mut message, "reasoning_details", |_| {
        json!([{"type": "reasoning.text", "text": "thinking", "signature": "sig", "provider": "anthropic"}])
    });
    Value::Object(message)
}

fn response_document(rng: &mut Seeded) -> Value {
    let choices: Vec<Value> = (0..rng.below(3))
        .map(|index| {
            let mut choice = json!({"index": index, "message": response_message(rng)});
            if rng.chance(90) {
                choice["finish_reason"] = finish_reason(rng);
            }
            if rng.chance(20) {
                choice["logprobs"] = logprobs(rng);
            }
            choice
        })
        .collect();
    let mut response = json!({"id": format!("chatcmpl-{}", rng.below(1 << 30)), "object": "chat.completion",
                              "created": 1_700_000_000 + rng.below(1 << 20), "model": "gpt-4.1-mini", "choices": choices});
    if rng.chance(70) {
        response["usage"] = usage(rng);
    }
    if rng.chance(30) {
        response["system_fingerprint"] = json!("fp_1");
    }
    if rng.chance(30) {
        response["service_tier"] = json!(rng.pick(&["default", "flex", "priority", "standard_only"]));
    }
    if rng.chance(3) {
        response["created"] = json!(u64::from(u32::MAX) + 1);
    }
    response
}

/// Our document as async-openai's must read: warned fields removed, documented changes applied.
fn expected_from_ours(mut ours: Value, warnings: &[Warning]) -> Result<Value, String> {
    for warning in warnings {
        match warning {
            Warning::ParameterAdjusted { parameter, detail } if detail.starts_with("dropped: ") => {
                if !remove(&mut ours, parameter) {
                    return Err(format!("warning about `{parameter}`, which the document does not have"));
                }
            }
            Warning::ParameterAdjusted { parameter, .. } if parameter == "created" => {
                ours["created"] = json!(u32::MAX);
            }
            Warning::ParameterAdjusted { parameter, .. } if parameter.ends_with(".role") => {
                let pointer = json_pointer(parameter);
                if let Some(role) = ours.pointer_mut(&pointer) {
                    *role = json!("assistant");
                }
            }
            other => return Err(format!("unexpected warning: {other:?}")),
        }
    }
    let mut ours = sweep_removed(ours);
    if let Some(usage) = ours.get_mut("usage") {
        if let Some(created) = usage.pointer_mut("/prompt_tokens_details").and_then(Value::as_object_mut) {
            if let Some(tokens) = created.remove("cache_creation_tokens") {
                created.insert("cache_write_tokens".into(), tokens);
            }
        }
    }
    Ok(ours)
}

#[test]
fn every_response_becomes_the_same_async_openai_document() {
    let mut warned = 0;
    for seed in 0..CASES {
        let mut rng = Seeded::new(seed);
        let generated = response_document(&mut rng);
        let response: ChatCompletionResponse = serde_json::from_value(generated.clone())
            .unwrap_or_else(|error| panic!("seed {seed}: {error}: {generated}"));
        let ours = without_nulls(document(&response));
        let (converted, warnings) = response_to_async_openai(response);
        warned += usize::from(!warnings.is_empty());
        let theirs = without_nulls(document(&converted));
        let expected = expected_from_ours(ours.clone(), &warnings)
            .unwrap_or_else(|problem| panic!("seed {seed}: {problem}\ndocument: {ours}"));
        assert_eq!(theirs, expected, "seed {seed}\nours: {ours}\nwarnings: {warnings:?}");
    }
    assert!(warned > 100 && warned < 1900, "{warned} of {CASES} conversions warned");
}

fn chunk_document(rng: &mut Seeded) -> Value {
    let choices: Vec<Value> = (0..rng.below(3))
        .map(|index| {
            let mut delta = Map::new();
            rng.maybe(30, &mut delta, "role", |rng| json!(if rng.chance(95) { "assistant" } else { "critic" }));
            rng.maybe(60, &mut delta, "content", |rng| json!(rng.text()));
            rng.maybe(10, &mut delta, "refusal", |rng| json!(rng.text()));
            rng.maybe(10, &mut delta, "reasoning_content", |rng| json!(rng.text()));
            rng.maybe(25, &mut delta, "tool_calls", |rng| {
                let mut call = json!({"index": rng.below(3), "function": {"arguments": "{\"ci"}});
                if rng.chance(50) {
                    call["id"] = json!("call_1");
                    call["type"] = json!(if rng.chance(90) { "function" } else { "custom" });
                    call["function"]["name"] = json!("get_weather");
                }
                if rng.chance(10) {
                    call["extra_content"] = json!({"google": {"thought_signature": "c2ln"}});
                }
                json!([call])
            });
            rng.maybe(5, &mut delta, "annotations", |_| {
                json!([{"type": "url_citation", "url_citation": {"start_index": 0, "end_index": 1, "url": "https://e.com", "title": "E"}}])
            });
            let mut choice = json!({"index": index, "delta": delta});
            if rng.chance(30) {
                choice["finish_reason"] = finish_reason(rng);
            }
            if rng.chance(10) {
                choice["logprobs"] = logprobs(rng);
            }
            choice
        })
        .collect();
    let mut chunk = json!({"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1_700_000_000,
                           "model": "gpt-4.1-mini", "choices": choices});
    if rng.chance(20) {
        chunk["usage"] = usage(rng);
    }
    if rng.chance(20) {
        chunk["system_fingerprint"] = json!("fp_1");
    }
    if rng.chance(20) {
        chunk["service_tier"] = json!(rng.pick(&["default", "scale", "standard_only"]));
    }
    chunk
}

#[test]
fn every_chunk_becomes_the_same_async_openai_document() {
    let mut warned = 0;
    for seed in 0..CASES {
        let mut rng = Seeded::new(seed);
        let generated = chunk_document(&mut rng);
        let chunk: ChatCompletionChunk = serde_json::from_value(generated.clone())
            .unwrap_or_else(|error| panic!("seed {seed}: {error}: {generated}"));
        let ours = without_nulls(document(&chunk));
        let (converted, warnings) = chunk_to_async_openai(chunk);
        warned += usize::from(!warnings.is_empty());
        let theirs = without_nulls(document(&converted));
        let expected = expected_from_ours(ours.clone(), &warnings)
            .unwrap_or_else(|problem| panic!("seed {seed}: {problem}\ndocument: {ours}"));
        assert_eq!(theirs, expected, "seed {seed}\nours: {ours}\nwarnings: {warnings:?}");
        // async-openai reads its own document back to the same value.
        let reread: Option<upstream::CreateChatCompletionStreamResponse> =
            serde_json::from_value(theirs).ok();
        assert_eq!(reread.as_ref(), Some(&converted), "seed {seed}");
    }
    assert!(warned > 100 && warned < 1900, "{warned} of {CASES} conversions warned");
}

#[test]
fn response_parts_become_text_and_the_rest_is_named() {
    let response: ChatCompletionResponse = serde_json::from_value(json!({
        "id": "r", "object": "chat.completion", "created": 1, "model": "m",
        "choices": [{"index": 0, "finish_reason": "pause_turn", "message": {"role": "assistant", "content": [
            {"type": "text", "text": "Hello, "},
            {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}},
            {"type": "text", "text": "world"},
            {"type": "refusal", "refusal": "no"}
        ]}}]
    }))
    .unwrap_or_default();
    let (converted, warnings) = response_to_async_openai(response);
    let message = &converted.choices[0].message;
    assert_eq!(message.content.as_deref(), Some("Hello, world"));
    assert_eq!(message.refusal.as_deref(), Some("no"));
    assert_eq!(converted.choices[0].finish_reason, None);
    let named: Vec<String> = warnings.iter().map(ToString::to_string).collect();
    assert_eq!(
        named,
        [
            "`choices[0].message.content[1]`: dropped: async-openai's response message content is text only",
            "`choices[0].finish_reason`: dropped: async-openai's FinishReason has no `pause_turn`",
        ]
    );
    assert_eq!(FinishReason::parse("pause_turn"), FinishReason::Other("pause_turn".into()));
}
