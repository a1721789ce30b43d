//! Tests of the request translation: the golden fixtures (`tests/fixtures/requests/<case>.gateway.json`
//! -> `<case>.gemini.json`) and the rules each concern follows.
#![allow(clippy::panic, reason = "a test fails by panicking, helpers included")]

use std::path::PathBuf;

use serde_json::{Map, Value, json};
use vllora_llm_core::types::gateway::{
    ChatCompletionContent, ChatCompletionMessage, ChatCompletionRequest, ChatCompletionTool, ContentPart,
    FunctionDefinition, ReasoningEffort, ResponseFormat, Role, ThinkingConfig as GatewayThinking,
    ThinkingType, ToolCall, ToolChoice,
};
use vllora_llm_core::{LLMError, LLMResult, Warning, Warnings};

use super::*;

fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/requests")
}

/// The Gemini body for a gateway request, as JSON, and the warnings. Every body is recorded for the
/// conformance check.
fn translate(request: &ChatCompletionRequest) -> (LLMResult<Value>, Vec<Warning>) {
    let mut warnings = Warnings::new(crate::PROVIDER_NAME);
    let body =
        build(request, None, false, &mut warnings).and_then(|call| call.body_bytes()).and_then(|bytes| {
            serde_json::from_slice::<Value>(&bytes).map_err(|error| invalid(error.to_string()))
        });
    if let Ok(body) = &body {
        vllora_llm_testkit::record_conformance("gemini-generate", &conformance_view(body));
    }
    (body, warnings.as_slice().to_vec())
}

/// The body as the conformance proto can check it. The published `google.ai.generativelanguage`
/// v1beta proto (0.12.1) predates `thinkingConfig.thinkingLevel` and the server-side tool invocations
/// (`toolConfig.includeServerSideToolInvocations`, `toolCall` / `toolResponse` parts, the `id` of code
/// execution parts), which Google documents for Gemini 3 models; those are set aside and everything else
/// is checked.
fn conformance_view(body: &Value) -> Value {
    let mut view = crate::response::conformance_view(body);
    if let Some(thinking) =
        view.pointer_mut("/generationConfig/thinkingConfig").and_then(Value::as_object_mut)
    {
        thinking.remove("thinkingLevel");
    }
    view
}

/// Every `<case>.gateway.json` translates to exactly `<case>.gemini.json`.
#[test]
fn every_request_fixture_translates_to_its_gemini_body() {
    vllora_llm_testkit::golden(fixture_dir(), "gateway.json", "gemini.json", |case, bytes| {
        let Ok(request) = serde_json::from_slice::<ChatCompletionRequest>(bytes) else {
            panic!("{}: not a gateway request", case.input.display())
        };
        match translate(&request).0 {
            Ok(body) => body,
            Err(error) => panic!("{}: {error}", case.name),
        }
    });
}

/// A fixture's request, its body (which `every_request_fixture_translates_to_its_gemini_body` compares
/// with `<name>.gemini.json`) and its warnings.
fn fixture(name: &str) -> (ChatCompletionRequest, Value, Vec<Warning>) {
    let text =
        std::fs::read_to_string(fixture_dir().join(format!("{name}.gateway.json"))).unwrap_or_default();
    let Ok(request) = serde_json::from_str::<ChatCompletionRequest>(&text) else {
        panic!("{name}.gateway.json is not a gateway request")
    };
    let (body, warnings) = translate(&request);
    let Ok(body) = body else { panic!("{name}: {body:?}") };
    (request, body, warnings)
}

fn parameters(warnings: &[Warning]) -> Vec<&str> {
    warnings.iter().filter_map(Warning::parameter).collect()
}

#[test]
fn sampling_parameters_system_messages_and_a_normalised_schema() {
    let (_, body, warnings) = fixture("sampling_and_schema");
    assert_eq!(
        body["systemInstruction"]["parts"],
        json!([{"text": "You are a travel agent."}, {"text": "Answer in JSON."}])
    );
    assert_eq!(body["generationConfig"]["candidateCount"], 2);
    assert_eq!(body["generationConfig"]["topK"], 40);
    assert_eq!(
        (&body["generationConfig"]["responseLogprobs"], &body["generationConfig"]["logprobs"]),
        (&json!(true), &json!(2))
    );
    assert_eq!(body["generationConfig"]["temperature"], 0.7);
    assert_eq!(body["generationConfig"]["responseSchema"]["properties"]["budget"]["nullable"], true);
    assert!(body["generationConfig"].get("thinkingConfig").is_none());
    assert!(warnings.is_empty(), "{warnings:?}");
}

#[test]
fn parallel_calls_and_their_results_keep_names_order_and_signatures() {
    let (_, body, warnings) = fixture("tools_conversation");
    let contents = &body["contents"];
    assert_eq!(contents[1]["role"], "model");
    assert_eq!(contents[1]["parts"][0]["thoughtSignature"], "CiQBjz1rX2sig/paris==");
    assert!(contents[1]["parts"][1].get("thoughtSignature").is_none(), "Gemini 2.5 needs no skip value");
    assert_eq!(
        contents[2],
        json!({"role": "user", "parts": [
            {"functionResponse": {"name": "get_weather", "response": {"temperature_c": 18, "sky": "cloudy"}}},
            {"functionResponse": {"name": "get_weather", "response": {"output": "sunny, 24 C"}}}
        ]})
    );
    assert_eq!(
        body["toolConfig"],
        json!({"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["get_time"]}})
    );
    assert_eq!(body["tools"][0]["functionDeclarations"][2], json!({"name": "ping"}));
    assert_eq!(
        body["generationConfig"]["thinkingConfig"],
        json!({"includeThoughts": true, "thinkingBudget": 8192})
    );
    assert!(warnings.is_empty(), "{warnings:?}");
}

#[test]
fn media_become_inline_data_or_file_data_with_their_types() {
    let (_, body, warnings) = fixture("media");
    let parts = &body["contents"][0]["parts"];
    assert_eq!(parts[1]["inlineData"]["mimeType"], "image/png");
    assert_eq!(
        parts[2]["fileData"],
        json!({"mimeType": "image/jpeg", "fileUri": "https://storage.example.com/photos/cat.jpeg?size=large"})
    );
    assert_eq!(parts[3]["inlineData"]["mimeType"], "audio/wav");
    assert_eq!(parts[4]["inlineData"]["mimeType"], "application/pdf");
    assert_eq!(parts[5]["fileData"]["mimeType"], "text/plain");
    assert_eq!(body["generationConfig"]["maxOutputTokens"], 256);
    assert!(warnings.is_empty(), "{warnings:?}");
}

#[test]
fn gemini_3_gets_a_thinking_level_signatures_back_and_the_skip_value() {
    let (_, body, warnings) = fixture("thinking_gemini3");
    let contents = &body["contents"];
    assert_eq!(
        contents[1]["parts"],
        json!([
            {"text": "Let me check availability.", "thoughtSignature": "EqQBCkYIBxgCKkB/text=="},
            {"functionCall": {"id": "call_1", "name": "book", "args": {"people": 2}}, "thoughtSignature": "EqQBCkYIBxgCKkB/call=="}
        ])
    );
    assert_eq!(
        contents[2]["parts"][0]["functionResponse"]["response"],
        json!({"output": ["19:00", "21:30"]})
    );
    assert_eq!(contents[3]["parts"][0]["thoughtSignature"], SKIP_SIGNATURE_VALIDATOR);
    assert_eq!(contents[4]["parts"][0]["functionResponse"]["name"], "book");
    assert_eq!(body["toolConfig"]["functionCallingConfig"]["mode"], "VALIDATED");
    assert_eq!(
        body["generationConfig"]["thinkingConfig"],
        json!({"includeThoughts": true, "thinkingLevel": "high"})
    );
    assert!(warnings.is_empty(), "{warnings:?}");
}

#[test]
fn a_cache_replaces_the_system_instruction_and_is_named_in_the_body() {
    let (_, body, warnings) = fixture("cached_content");
    assert_eq!(body["cachedContent"], "cachedContents/z8j4v0lx3ye1");
    assert!(body.get("systemInstruction").is_none());
    assert_eq!(body["safetySettings"][0]["threshold"], "BLOCK_ONLY_HIGH");
    assert_eq!(
        body["generationConfig"]["thinkingConfig"],
        json!({"includeThoughts": true, "thinkingBudget": 2048})
    );
    assert_eq!(parameters(&warnings), ["provider_specific.extra.cached_content"]);
}

fn user(text: &str) -> ChatCompletionMessage {
    ChatCompletionMessage::new_text("user", text)
}

fn request(model: &str) -> ChatCompletionRequest {
    ChatCompletionRequest { model: model.into(), messages: vec![user("hi")], ..Default::default() }
}

#[test]
fn parameters_gemini_cannot_honour_are_warned_about_and_strict_mode_refuses_them() {
    let mut gateway = request("gemini-2.5-flash");
    gateway.logit_bias = Some([("50256".to_owned(), -100)].into_iter().collect());
    gateway.user = Some("user-1".into());
    gateway.prompt_cache_key = Some("k".into());
    gateway.parallel_tool_calls = Some(false);
    let (body, warnings) = translate(&gateway);
    assert!(body.is_ok());
    assert_eq!(parameters(&warnings), ["logit_bias", "user", "prompt_cache_key", "parallel_tool_calls"]);
    let mut strict = Warnings::new(crate::PROVIDER_NAME);
    let _ = build(&gateway, None, false, &mut strict);
    assert!(matches!(strict.finish(true), Err(LLMError::Unsupported(list)) if list.len() == 4));
}

/// `additional_parameters` and every `provider_specific` key Gemini's translator does not read are native
/// body fields: merged into the body (objects key by key, arrays appended to), with no warning, so
/// Gemini's built-in tools (`codeExecution`, `urlContext`, `googleSearch`) sit beside the declarations.
#[test]
fn provider_specific_fields_are_merged_into_the_body() {
    let mut gateway = request("gemini-3-flash-preview");
    gateway.tools = Some(vec![ChatCompletionTool::function(FunctionDefinition {
        name: "get_weather".into(),
        parameters: Some(json!({"type": "object", "properties": {"city": {"type": "string"}}})),
        ..Default::default()
    })]);
    gateway.web_search_options = Some(json!({}));
    gateway.provider_specific = Some(vllora_llm_core::types::gateway::ProviderSpecificRequest {
        additional_parameters: Some(Map::from_iter([(
            "generationConfig".to_owned(),
            json!({"mediaResolution": "MEDIA_RESOLUTION_LOW"}),
        )])),
        extra: Map::from_iter([
            ("tools".to_owned(), json!([{"codeExecution": {}}, {"urlContext": {}}])),
            ("toolConfig".to_owned(), json!({"includeServerSideToolInvocations": true})),
            ("thinking_level".to_owned(), json!("low")),
        ]),
        ..Default::default()
    });
    let (body, warnings) = translate(&gateway);
    let Ok(body) = body else { panic!("{body:?}") };
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(
        body["tools"],
        json!([
            {"functionDeclarations": [{"name": "get_weather", "parameters": {"type": "OBJECT", "properties": {"city": {"type": "STRING"}}}}]},
            {"googleSearch": {}},
            {"codeExecution": {}},
            {"urlContext": {}}
        ])
    );
    assert_eq!(body["toolConfig"], json!({"includeServerSideToolInvocations": true}));
    assert_eq!(
        body["generationConfig"],
        json!({"mediaResolution": "MEDIA_RESOLUTION_LOW", "thinkingConfig": {"includeThoughts": true, "thinkingLevel": "low"}})
    );
    assert!(body.get("thinking_level").is_none(), "a key the translator reads is not merged");
}

#[test]
fn reasoning_effort_follows_the_model_generation() {
    let cases = [
        ("gemini-2.5-flash", ReasoningEffort::None, json!({"thinkingBudget": 0}), 0),
        (
            "gemini-2.5-flash",
            ReasoningEffort::Low,
            json!({"includeThoughts": true, "thinkingBudget": 1024}),
            0,
        ),
        ("gemini-2.5-pro", ReasoningEffort::None, json!({"includeThoughts": true, "thinkingBudget": 128}), 1),
        (
            "gemini-2.5-pro",
            ReasoningEffort::XHigh,
            json!({"includeThoughts": true, "thinkingBudget": 32768}),
            0,
        ),
        (
            "gemini-3-pro-preview",
            ReasoningEffort::None,
            json!({"includeThoughts": true, "thinkingLevel": "low"}),
            1,
        ),
        (
            "gemini-3.5-flash",
            ReasoningEffort::Minimal,
            json!({"includeThoughts": true, "thinkingLevel": "minimal"}),
            0,
        ),
        (
            "gemini-flash-latest",
            ReasoningEffort::XHigh,
            json!({"includeThoughts": true, "thinkingLevel": "high"}),
            1,
        ),
    ];
    for (model, effort, expected, warning_count) in cases {
        let mut gateway = request(model);
        gateway.reasoning_effort = Some(effort);
        let (body, warnings) = translate(&gateway);
        let Ok(body) = body else { panic!("{model}") };
        assert_eq!(body["generationConfig"]["thinkingConfig"], expected, "{model} {effort:?}");
        assert_eq!(warnings.len(), warning_count, "{model} {effort:?}: {warnings:?}");
    }
    let mut old = request("gemini-2.0-flash");
    old.reasoning_effort = Some(ReasoningEffort::High);
    let (body, warnings) = translate(&old);
    assert!(body.is_ok_and(|body| body.get("generationConfig").is_none()));
    assert_eq!(parameters(&warnings), ["reasoning_effort"]);
}

#[test]
fn minimal_effort_on_a_gemini_3_pro_model_is_its_lowest_level() {
    // Gemini 3 Pro models take `low` and up; `minimal` is a 400 there.
    for model in ["gemini-3-pro-preview", "gemini-3.1-pro-preview"] {
        let mut gateway = request(model);
        gateway.reasoning_effort = Some(ReasoningEffort::Minimal);
        let (body, warnings) = translate(&gateway);
        let Ok(body) = body else { panic!("{model}") };
        assert_eq!(
            body["generationConfig"]["thinkingConfig"],
            json!({"includeThoughts": true, "thinkingLevel": "low"}),
            "{model}"
        );
        assert_eq!(parameters(&warnings), ["reasoning_effort"], "{model}");
    }
}

#[test]
fn include_thoughts_on_a_model_that_does_not_think_is_a_warning() {
    let mut gateway = request("gemini-2.0-flash");
    gateway.provider_specific = Some(vllora_llm_core::types::gateway::ProviderSpecificRequest {
        extra: Map::from_iter([("include_thoughts".to_owned(), json!(true))]),
        ..Default::default()
    });
    let (body, warnings) = translate(&gateway);
    assert!(body.is_ok_and(|body| body.get("generationConfig").is_none()));
    assert_eq!(parameters(&warnings), ["provider_specific.extra.include_thoughts"]);
}

#[test]
fn minimal_thinking_goes_only_to_models_that_take_it() {
    // Google documents `minimal` as a 400 on Pro models and on Flash from 3.7 on; Flash-Lite and
    // earlier Flash models take it. An unversioned alias may point at either, so it gets `low`.
    let level = |model: &str, effort: ReasoningEffort| {
        let mut gateway = request(model);
        gateway.reasoning_effort = Some(effort);
        let (body, warnings) = translate(&gateway);
        let level = body.map(|body| body["generationConfig"]["thinkingConfig"]["thinkingLevel"].clone());
        (level.unwrap_or_default(), warnings.len())
    };
    for model in ["gemini-3.7-flash", "gemini-3.8-flash", "gemini-flash-latest", "gemini-3.1-pro-preview"] {
        assert_eq!(level(model, ReasoningEffort::Minimal), (json!("low"), 1), "{model}");
        assert_eq!(level(model, ReasoningEffort::None), (json!("low"), 1), "{model}");
    }
    for model in ["gemini-3-flash-preview", "gemini-3.6-flash", "gemini-3.8-flash-lite"] {
        assert_eq!(level(model, ReasoningEffort::Minimal), (json!("minimal"), 0), "{model}");
        assert_eq!(level(model, ReasoningEffort::None), (json!("minimal"), 1), "{model}");
    }
}

#[test]
fn thinking_options_map_to_budgets_and_levels() {
    let with = |model: &str, thinking: GatewayThinking, extra: Map<String, Value>| {
        let mut gateway = request(model);
        gateway.provider_specific = Some(vllora_llm_core::types::gateway::ProviderSpecificRequest {
            thinking: Some(thinking),
            extra,
            ..Default::default()
        });
        let (body, warnings) = translate(&gateway);
        (
            body.map(|body| body["generationConfig"]["thinkingConfig"].clone()).unwrap_or_default(),
            warnings.len(),
        )
    };
    let adaptive = GatewayThinking { kind: ThinkingType::Adaptive, budget_tokens: None };
    let disabled = GatewayThinking { kind: ThinkingType::Disabled, budget_tokens: None };
    assert_eq!(
        with("gemini-2.5-flash", adaptive, Map::new()),
        (json!({"includeThoughts": true, "thinkingBudget": -1}), 0)
    );
    assert_eq!(with("gemini-3-flash-preview", adaptive, Map::new()), (json!({"includeThoughts": true}), 0));
    assert_eq!(with("gemini-2.5-flash-lite", disabled, Map::new()), (json!({"thinkingBudget": 0}), 0));
    assert_eq!(
        with(
            "gemini-3-flash-preview",
            GatewayThinking::enabled(4096),
            Map::from_iter([("include_thoughts".to_owned(), json!(false))])
        ),
        (json!({"includeThoughts": false, "thinkingBudget": 4096}), 0)
    );
    assert_eq!(
        with(
            "gemini-3-flash-preview",
            adaptive,
            Map::from_iter([("thinking_level".to_owned(), json!("MEDIUM"))])
        ),
        (json!({"includeThoughts": true, "thinkingLevel": "medium"}), 1)
    );
}

#[test]
fn tool_choice_variants_and_legacy_functions() {
    use vllora_llm_core::types::gateway::{AllowedTools, AllowedToolsMode};
    let tool = |name: &str| {
        ChatCompletionTool::function(FunctionDefinition {
            name: name.into(),
            parameters: Some(json!({"type": "object", "properties": {"q": {"type": "string"}}})),
            ..Default::default()
        })
    };
    let cases = [
        (ToolChoice::None, json!({"mode": "NONE"}), 2),
        (ToolChoice::Auto, json!({"mode": "AUTO"}), 2),
        (ToolChoice::Required, json!({"mode": "ANY"}), 2),
        (
            ToolChoice::AllowedTools(AllowedTools {
                mode: AllowedToolsMode::Required,
                function_names: vec!["a".into()],
            }),
            json!({"mode": "ANY", "allowedFunctionNames": ["a"]}),
            2,
        ),
        (
            ToolChoice::AllowedTools(AllowedTools {
                mode: AllowedToolsMode::Auto,
                function_names: vec!["b".into()],
            }),
            json!({"mode": "AUTO"}),
            1,
        ),
    ];
    for (choice, expected, declared) in cases {
        let mut gateway = request("gemini-2.5-flash");
        gateway.tools = Some(vec![tool("a"), tool("b")]);
        gateway.tool_choice = Some(choice.clone());
        let (body, _) = translate(&gateway);
        let Ok(body) = body else { panic!("{choice:?}") };
        assert_eq!(body["toolConfig"]["functionCallingConfig"], expected, "{choice:?}");
        assert_eq!(body["tools"][0]["functionDeclarations"].as_array().map(Vec::len), Some(declared));
    }
    let mut legacy = request("gemini-2.5-flash");
    legacy.functions = Some(vec![tool("a").function]);
    legacy.function_call = Some(json!({"name": "a"}));
    let (body, _) = translate(&legacy);
    let Ok(body) = body else { panic!("legacy functions") };
    assert_eq!(body["tools"][0]["functionDeclarations"][0]["name"], "a");
    assert_eq!(
        body["toolConfig"]["functionCallingConfig"],
        json!({"mode": "ANY", "allowedFunctionNames": ["a"]})
    );
}

#[test]
fn no_function_calling_config_is_sent_without_function_declarations() {
    use vllora_llm_core::types::gateway::{AllowedTools, AllowedToolsMode};
    // Gemini answers 400 "Function calling config is set without function_declarations".
    let mut search_only = request("gemini-2.5-flash");
    search_only.web_search_options = Some(json!({}));
    search_only.tool_choice = Some(ToolChoice::Auto);
    let (body, warnings) = translate(&search_only);
    let Ok(body) = body else { panic!("search only") };
    assert_eq!(body["tools"], json!([{"googleSearch": {}}]));
    assert!(body.get("toolConfig").is_none(), "{body}");
    assert!(warnings.is_empty(), "{warnings:?}");

    let mut forced_without_tools = request("gemini-2.5-flash");
    forced_without_tools.tool_choice = Some(ToolChoice::Required);
    let (body, warnings) = translate(&forced_without_tools);
    let Ok(body) = body else { panic!("no tools") };
    assert!(body.get("toolConfig").is_none() && body.get("tools").is_none(), "{body}");
    assert_eq!(parameters(&warnings), ["tool_choice"]);

    let mut narrowed_to_nothing = request("gemini-2.5-flash");
    narrowed_to_nothing.tools = Some(vec![ChatCompletionTool::function(FunctionDefinition {
        name: "a".into(),
        ..Default::default()
    })]);
    narrowed_to_nothing.tool_choice = Some(ToolChoice::AllowedTools(AllowedTools {
        mode: AllowedToolsMode::Auto,
        function_names: vec!["z".into()],
    }));
    let (body, _) = translate(&narrowed_to_nothing);
    let Ok(body) = body else { panic!("narrowed") };
    assert!(body.get("toolConfig").is_none() && body.get("tools").is_none(), "{body}");
}

#[test]
fn results_answer_their_own_calls_by_order_and_on_gemini_3_by_id() {
    // Two calls to one function, answered in the opposite order.
    let conversation = |model: &str| ChatCompletionRequest {
        model: model.into(),
        messages: vec![
            user("Weather in Paris and Rome?"),
            ChatCompletionMessage {
                role: Role::Assistant,
                tool_calls: Some(vec![
                    ToolCall::function("fc-paris", "get_weather", r#"{"city": "Paris"}"#),
                    ToolCall::function("fc-rome", "get_weather", r#"{"city": "Rome"}"#),
                ]),
                ..Default::default()
            },
            ChatCompletionMessage::new_tool_result("fc-rome", r#"{"sky": "sunny"}"#),
            ChatCompletionMessage::new_tool_result("fc-paris", r#"{"sky": "rain"}"#),
        ],
        ..Default::default()
    };
    let (body, _) = translate(&conversation("gemini-2.5-flash"));
    let Ok(body) = body else { panic!("gemini 2.5") };
    assert_eq!(
        body["contents"][2]["parts"],
        json!([
            {"functionResponse": {"name": "get_weather", "response": {"sky": "rain"}}},
            {"functionResponse": {"name": "get_weather", "response": {"sky": "sunny"}}}
        ])
    );
    assert!(body["contents"][1]["parts"][0]["functionCall"].get("id").is_none());

    let (body, _) = translate(&conversation("gemini-3-flash-preview"));
    let Ok(body) = body else { panic!("gemini 3") };
    let call_ids: Vec<&Value> =
        (0..2).map(|index| &body["contents"][1]["parts"][index]["functionCall"]["id"]).collect();
    assert_eq!(call_ids, [&json!("fc-paris"), &json!("fc-rome")]);
    assert_eq!(
        body["contents"][2]["parts"],
        json!([
            {"functionResponse": {"id": "fc-paris", "name": "get_weather", "response": {"sky": "rain"}}},
            {"functionResponse": {"id": "fc-rome", "name": "get_weather", "response": {"sky": "sunny"}}}
        ])
    );
}

#[test]
fn empty_text_is_not_sent_and_empty_turns_are_skipped() {
    let gateway = ChatCompletionRequest {
        model: "gemini-2.5-flash".into(),
        messages: vec![
            ChatCompletionMessage::new_text("system", ""),
            user("What is 2 + 2?"),
            ChatCompletionMessage {
                role: Role::Assistant,
                content: Some(ChatCompletionContent::Text(String::new())),
                tool_calls: Some(vec![ToolCall::function("c1", "add", r#"{"a": 2, "b": 2}"#)]),
                ..Default::default()
            },
            ChatCompletionMessage::new_tool_result("c1", "4"),
            ChatCompletionMessage::new_text("assistant", ""),
            ChatCompletionMessage::new_parts(
                "user",
                vec![ContentPart::text(""), ContentPart::text("Thanks")],
            ),
        ],
        ..Default::default()
    };
    let (body, warnings) = translate(&gateway);
    let Ok(body) = body else { panic!("{body:?}") };
    assert_eq!(
        body,
        json!({"contents": [
            {"role": "user", "parts": [{"text": "What is 2 + 2?"}]},
            {"role": "model", "parts": [{"functionCall": {"name": "add", "args": {"a": 2, "b": 2}}}]},
            {"role": "user", "parts": [{"functionResponse": {"name": "add", "response": {"output": 4}}}]},
            {"role": "user", "parts": [{"text": "Thanks"}]}
        ]})
    );
    assert!(warnings.is_empty());
}

#[test]
fn web_search_becomes_the_google_search_tool() {
    let mut gateway = request("gemini-2.5-flash");
    gateway.web_search_options = Some(json!({}));
    let (body, warnings) = translate(&gateway);
    assert_eq!(body.ok().map(|body| body["tools"].clone()), Some(json!([{"googleSearch": {}}])));
    assert!(warnings.is_empty());
    gateway.web_search_options = Some(json!({"search_context_size": "high"}));
    let (_, warnings) = translate(&gateway);
    assert_eq!(parameters(&warnings), ["web_search_options"]);
}

#[test]
fn the_response_format_description_and_earlier_audio_are_not_lost_silently() {
    let mut gateway = request("gemini-2.5-flash");
    gateway.response_format = Some(ResponseFormat::JsonSchema {
        json_schema: vllora_llm_core::types::gateway::JsonSchemaFormat {
            name: "answer".into(),
            description: Some("The city the user should visit".into()),
            schema: Some(json!({"type": "object", "properties": {"city": {"type": "string"}}})),
            ..Default::default()
        },
    });
    gateway.messages.push(ChatCompletionMessage {
        role: Role::Assistant,
        content: Some(ChatCompletionContent::Text("Here it is.".into())),
        audio: Some(vllora_llm_core::types::gateway::AssistantAudio {
            id: "audio_abc".into(),
            ..Default::default()
        }),
        ..Default::default()
    });
    gateway.messages.push(user("And now?"));
    let (body, warnings) = translate(&gateway);
    let Ok(body) = body else { panic!("a valid request") };
    assert_eq!(
        body["generationConfig"]["responseSchema"],
        json!({"type": "OBJECT", "description": "The city the user should visit",
               "properties": {"city": {"type": "STRING"}}})
    );
    assert_eq!(parameters(&warnings), ["messages[].audio"]);
}

#[test]
fn data_uri_parameters_are_not_part_of_the_mime_type() {
    let mut gateway = request("gemini-2.5-flash");
    gateway.messages = vec![ChatCompletionMessage::new_parts(
        "user",
        vec![ContentPart::File {
            file: vllora_llm_core::types::gateway::FileInput {
                file_data: Some("data:text/plain;charset=utf-8;base64,aGVsbG8=".into()),
                ..Default::default()
            },
            cache_control: None,
        }],
    )];
    let (body, _) = translate(&gateway);
    let Ok(body) = body else { panic!("a text file") };
    assert_eq!(
        body["contents"][0]["parts"][0]["inlineData"],
        json!({"mimeType": "text/plain", "data": "aGVsbG8="})
    );
}

#[test]
fn media_in_a_tool_result_is_reported_not_dropped_silently() {
    let mut gateway = request("gemini-2.5-flash");
    gateway.messages.push(ChatCompletionMessage {
        role: Role::Assistant,
        tool_calls: Some(vec![ToolCall::function("c1", "screenshot", "{}")]),
        ..Default::default()
    });
    gateway.messages.push(ChatCompletionMessage {
        role: Role::Tool,
        tool_call_id: Some("c1".into()),
        content: Some(ChatCompletionContent::Parts(vec![
            ContentPart::text("Here is the screen."),
            ContentPart::image_url("data:image/png;base64,iVBORw0KGgo="),
        ])),
        ..Default::default()
    });
    let (body, warnings) = translate(&gateway);
    let Ok(body) = body else { panic!("a tool result") };
    assert_eq!(
        body["contents"][2]["parts"][0]["functionResponse"]["response"],
        json!({"output": "Here is the screen."})
    );
    assert_eq!(parameters(&warnings), ["messages[2].content"]);
}

#[test]
fn native_json_schema_sends_the_schema_untouched() {
    let schema = json!({"type": "object", "properties": {"a": {"const": 1}}, "additionalProperties": false});
    let mut gateway = request("gemini-2.5-flash");
    gateway.response_format = Some(ResponseFormat::JsonSchema {
        json_schema: vllora_llm_core::types::gateway::JsonSchemaFormat {
            name: "x".into(),
            schema: Some(schema.clone()),
            ..Default::default()
        },
    });
    gateway.tools = Some(vec![ChatCompletionTool::function(FunctionDefinition {
        name: "f".into(),
        parameters: Some(schema.clone()),
        ..Default::default()
    })]);
    gateway.provider_specific = Some(vllora_llm_core::types::gateway::ProviderSpecificRequest {
        extra: Map::from_iter([("native_json_schema".to_owned(), json!(true))]),
        ..Default::default()
    });
    let (body, warnings) = translate(&gateway);
    let Ok(body) = body else { panic!("native schema") };
    assert_eq!(body["generationConfig"]["responseJsonSchema"], schema);
    assert!(body["generationConfig"].get("responseSchema").is_none());
    assert_eq!(body["tools"][0]["functionDeclarations"][0]["parametersJsonSchema"], schema);
    assert!(warnings.is_empty());
    gateway.provider_specific = None;
    let (_, warnings) = translate(&gateway);
    assert_eq!(parameters(&warnings), ["tools[f].parameters", "response_format.json_schema"]);
    // A client configured for native schemas sends them untouched without the per-request option.
    let mut warnings = Warnings::new(crate::PROVIDER_NAME);
    let body = build(&gateway, None, true, &mut warnings)
        .map(|call| serde_json::to_value(call.body).unwrap_or_default());
    let Ok(body) = body else { panic!("native by default") };
    assert_eq!(body["generationConfig"]["responseJsonSchema"], schema);
    assert_eq!(body["tools"][0]["functionDeclarations"][0]["parametersJsonSchema"], schema);
    assert!(warnings.as_slice().is_empty());
}

#[test]
fn bad_input_is_an_error_that_names_it() {
    let cases: Vec<(ChatCompletionRequest, &str)> = vec![
        (
            ChatCompletionRequest {
                model: "gemini-2.5-flash".into(),
                messages: vec![user("hi"), ChatCompletionMessage::new_tool_result("call_x", "42")],
                ..Default::default()
            },
            "call_x",
        ),
        (ChatCompletionRequest { model: "gemini-2.5-flash".into(), ..Default::default() }, "at least one"),
        (
            ChatCompletionRequest {
                model: "gemini-2.5-flash".into(),
                messages: vec![ChatCompletionMessage::new_parts(
                    "user",
                    vec![ContentPart::image_url("data:image/png,rawbytes")],
                )],
                ..Default::default()
            },
            "base64",
        ),
        (ChatCompletionRequest { seed: Some(1 << 40), ..request("gemini-2.5-flash") }, "seed"),
        (
            ChatCompletionRequest {
                model: "gemini-2.5-flash".into(),
                messages: vec![
                    user("hi"),
                    ChatCompletionMessage {
                        role: Role::Assistant,
                        tool_calls: Some(vec![ToolCall::function("c", "f", "[1,2]")]),
                        ..Default::default()
                    },
                ],
                ..Default::default()
            },
            "not a JSON object",
        ),
        (
            ChatCompletionRequest {
                provider_specific: Some(vllora_llm_core::types::gateway::ProviderSpecificRequest {
                    extra: Map::from_iter([("cached_content".to_owned(), json!("../../models"))]),
                    ..Default::default()
                }),
                ..request("gemini-2.5-flash")
            },
            "cached content name",
        ),
    ];
    for (gateway, expected) in cases {
        let mut warnings = Warnings::new(crate::PROVIDER_NAME);
        let result = build(&gateway, None, false, &mut warnings).map(|call| call.body);
        let Err(LLMError::InvalidRequest(message)) = result else { panic!("{expected}: {result:?}") };
        assert!(message.contains(expected), "{message}");
    }
}

#[test]
fn generations_are_read_from_model_names() {
    let of = |name: &str| {
        Generation::of(name).map(|generation| (generation.major, generation.minor, generation.pro))
    };
    assert_eq!(of("gemini-2.5-flash"), Some((2, 5, false)));
    assert_eq!(of("models/gemini-2.5-pro-preview-06-05"), Some((2, 5, true)));
    assert_eq!(of("gemini-3-pro-preview"), Some((3, 0, true)));
    assert_eq!(of("gemini-3.1-flash-lite"), Some((3, 1, false)));
    assert_eq!(of("gemini-flash-latest"), None);
    assert_eq!(of("gemma-3-27b-it"), Some((0, 0, false)));
    assert_eq!(of("tunedModels/my-model-42"), Some((0, 0, false)));
}

/// Another provider's blocks in `provider_content` cannot go to Gemini: they are left out with a warning
/// (an error in strict mode), and the message's text still goes.
#[test]
fn another_providers_native_blocks_are_dropped_with_a_warning() {
    use vllora_llm_core::ProviderId;
    use vllora_llm_core::types::gateway::ProviderContent;
    let mut assistant = ChatCompletionMessage::new_text("assistant", "Paris.");
    assistant.provider_content = Some(vec![
        ProviderContent::native(
            ProviderId::ANTHROPIC,
            json!({"type": "server_tool_use", "id": "srvtoolu_1"}),
        ),
        ProviderContent::text(ProviderId::ANTHROPIC, 6, None),
    ]);
    let mut gateway = request("gemini-2.5-flash");
    gateway.messages.push(assistant);
    gateway.messages.push(user("Thanks"));
    let (body, warnings) = translate(&gateway);
    let Ok(body) = body else { panic!("{body:?}") };
    assert_eq!(body["contents"][1], json!({"role": "model", "parts": [{"text": "Paris."}]}));
    assert_eq!(parameters(&warnings), ["messages[1].provider_content"]);
}

/// A recorded order that no longer matches the message (the caller edited the text) falls back to the
/// default order with a warning; what Gemini produced still goes (thoughts first, the text signature on
/// the text).
#[test]
fn an_edited_message_falls_back_to_the_default_order() {
    use vllora_llm_core::types::gateway::{ProviderContent, ReasoningDetail, ReasoningDetailType};
    let detail = |text: Option<&str>, signature: &str| ReasoningDetail {
        kind: ReasoningDetailType::Text,
        text: text.map(str::to_owned),
        signature: Some(signature.to_owned()),
        data: None,
        provider: Some("gemini".to_owned()),
    };
    let mut assistant = ChatCompletionMessage::new_text("assistant", "Edited.");
    assistant.reasoning_details =
        Some(vec![detail(Some("thinking"), "sig-thought"), detail(None, "sig-text")]);
    assistant.provider_content = Some(vec![
        ProviderContent::text(crate::PROVIDER, 40, None),
        ProviderContent::reasoning(crate::PROVIDER, 0),
        ProviderContent::native(
            crate::PROVIDER,
            json!({"executableCode": {"language": "PYTHON", "code": "1"}}),
        ),
    ]);
    let mut gateway = request("gemini-2.5-flash");
    gateway.messages.push(assistant);
    gateway.messages.push(user("Go on"));
    let (body, warnings) = translate(&gateway);
    let Ok(body) = body else { panic!("{body:?}") };
    assert_eq!(
        body["contents"][1]["parts"],
        json!([
            {"text": "thinking", "thought": true, "thoughtSignature": "sig-thought"},
            {"text": "Edited.", "thoughtSignature": "sig-text"}
        ])
    );
    assert_eq!(parameters(&warnings), ["messages[1].provider_content"]);
}
