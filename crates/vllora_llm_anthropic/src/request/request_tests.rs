//! Request translation tests: the exact JSON Anthropic would receive, and the warnings and errors.

use serde_json::{Value, json};
use vllora_llm_core::types::gateway::{
    AllowedTools, AllowedToolsMode, CacheControl, CacheTtl, ChatCompletionMessage, ChatCompletionRequest,
    ChatCompletionTool, ContentPart, FileInput, FunctionDefinition, ImageUrl, JsonSchemaFormat,
    ProviderSpecificRequest, ReasoningDetail, ReasoningDetailType, ResponseFormat, ThinkingConfig,
    ThinkingType, ToolCall, ToolChoice,
};
use vllora_llm_core::{LLMError, Warning, Warnings};

use super::*;

fn config() -> AnthropicConfig {
    AnthropicConfig::new("sk-ant-test")
}

/// Translates, records the body for conformance, and returns it with the warnings.
fn translate_with(
    request: &ChatCompletionRequest,
    config: &AnthropicConfig,
) -> (Value, Vec<Warning>, Vec<&'static str>) {
    let mut warnings = Warnings::new("anthropic");
    let translated = match build(request, None, config, false, &mut warnings) {
        Ok(translated) => translated,
        Err(error) => panic!("translation failed: {error}"),
    };
    let body = serde_json::to_value(&translated.body).unwrap_or_default();
    vllora_llm_testkit::record_conformance("anthropic-messages", &body);
    (body, warnings.finish(false).unwrap_or_default(), translated.betas)
}

fn translate(request: &ChatCompletionRequest) -> (Value, Vec<Warning>) {
    let (body, warnings, _) = translate_with(request, &config());
    (body, warnings)
}

fn translate_error(request: &ChatCompletionRequest) -> String {
    let mut warnings = Warnings::new("anthropic");
    match build(request, None, &config(), false, &mut warnings) {
        Ok(_) => panic!("expected an error"),
        Err(LLMError::InvalidRequest(message)) => message,
        Err(other) => panic!("expected InvalidRequest, got {other}"),
    }
}

fn parameters(warnings: &[Warning]) -> Vec<&str> {
    warnings.iter().filter_map(Warning::parameter).collect()
}

fn request(messages: Vec<ChatCompletionMessage>) -> ChatCompletionRequest {
    ChatCompletionRequest {
        model: "claude-sonnet-4-5".into(),
        messages,
        max_tokens: Some(1024),
        ..Default::default()
    }
}

fn ephemeral(ttl: Option<CacheTtl>) -> Option<CacheControl> {
    Some(CacheControl { ttl, ..CacheControl::ephemeral() })
}

#[test]
fn seed_table_parameters_are_mapped() {
    let request = ChatCompletionRequest {
        model: "anthropic/claude-sonnet-4-5-20250929".into(),
        messages: vec![ChatCompletionMessage::new_text("user", "Hello")],
        max_tokens: Some(512),
        temperature: Some(0.7),
        top_p: Some(0.9),
        stop: Some(vec!["END".into(), "STOP".into()]),
        user: Some("user-1234".into()),
        provider_specific: Some(ProviderSpecificRequest { top_k: Some(40), ..Default::default() }),
        ..Default::default()
    };
    let (body, warnings) = translate(&request);
    assert_eq!(
        body,
        json!({
            "model": "claude-sonnet-4-5-20250929",
            "max_tokens": 512,
            "messages": [{"role": "user", "content": [{"type": "text", "text": "Hello"}]}],
            "metadata": {"user_id": "user-1234"},
            "stop_sequences": ["END", "STOP"],
            "temperature": 0.7,
            "top_p": 0.9,
            "top_k": 40
        })
    );
    assert!(warnings.is_empty(), "{warnings:?}");
}

#[test]
fn unsupported_parameters_warn_and_strict_mode_refuses() {
    let request = ChatCompletionRequest {
        frequency_penalty: Some(0.5),
        presence_penalty: Some(0.1),
        logit_bias: Some([("50256".to_owned(), -100)].into_iter().collect()),
        seed: Some(7),
        n: Some(2),
        response_format: Some(ResponseFormat::JsonObject),
        ..request(vec![ChatCompletionMessage::new_text("user", "Hi")])
    };
    let (body, warnings) = translate(&request);
    assert_eq!(
        parameters(&warnings),
        ["response_format", "n", "frequency_penalty", "presence_penalty", "logit_bias", "seed"]
    );
    for absent in ["frequency_penalty", "presence_penalty", "logit_bias", "seed", "n", "output_config"] {
        assert!(body.get(absent).is_none(), "{absent} must not be sent");
    }
    let mut strict = Warnings::new("anthropic");
    let translated = build(&request, None, &config(), false, &mut strict);
    assert!(translated.is_ok());
    assert!(matches!(strict.finish(true), Err(LLMError::Unsupported(list)) if list.len() == 6));
}

#[test]
fn a_configured_default_max_tokens_counts_as_the_requests_own() {
    let mut request = request(vec![ChatCompletionMessage::new_text("user", "Hi")]);
    request.max_tokens = None;
    request.model = "claude-sonnet-4-5".into();
    let (body, warnings, _) = translate_with(&request, &config().with_default_max_tokens(2048));
    assert_eq!(body["max_tokens"], 2048);
    assert!(warnings.is_empty(), "{warnings:?}");
    request.max_tokens = Some(100);
    let (body, _, _) = translate_with(&request, &config().with_default_max_tokens(2048));
    assert_eq!(body["max_tokens"], 100, "the request's own limit wins");
}

#[test]
fn missing_max_tokens_gets_the_family_default_with_a_warning() {
    let mut request = request(vec![ChatCompletionMessage::new_text("user", "Hi")]);
    request.max_tokens = None;
    for (model, expected) in [
        ("claude-3-5-haiku-20241022", 8192),
        ("claude-sonnet-4-5", 16384),
        ("claude-opus-4-7", 32000),
        ("gemma", 4096),
    ] {
        request.model = model.into();
        let (body, warnings) = translate(&request);
        assert_eq!(body["max_tokens"], expected, "{model}");
        assert_eq!(
            warnings,
            [Warning::adjusted(
                "max_tokens",
                format!("Anthropic requires max_tokens; sent {expected}, the default for {model}")
            )]
        );
    }
    request.model = "claude-sonnet-4-5".into();
    request.max_completion_tokens = Some(300);
    assert_eq!(translate(&request).0["max_tokens"], 300);
}

#[test]
fn thinking_budget_is_validated_and_sent() {
    let thinking = |config: ThinkingConfig, max_tokens: Option<u32>| ChatCompletionRequest {
        max_tokens,
        provider_specific: Some(ProviderSpecificRequest { thinking: Some(config), ..Default::default() }),
        ..request(vec![ChatCompletionMessage::new_text("user", "Think")])
    };
    let (body, warnings) = translate(&thinking(ThinkingConfig::enabled(2048), Some(4096)));
    assert_eq!(body["thinking"], json!({"type": "enabled", "budget_tokens": 2048}));
    assert_eq!(body["max_tokens"], 4096);
    assert!(warnings.is_empty());

    assert_eq!(
        translate_error(&thinking(ThinkingConfig::enabled(512), Some(4096))),
        "provider_specific.thinking.budget_tokens is 512; Anthropic requires at least 1024"
    );
    assert_eq!(
        translate_error(&thinking(ThinkingConfig::enabled(4096), Some(4096))),
        "provider_specific.thinking.budget_tokens (4096) must be less than max_tokens (4096) on Anthropic"
    );
    let no_budget = ThinkingConfig { kind: ThinkingType::Enabled, budget_tokens: None };
    assert_eq!(
        translate_error(&thinking(no_budget, Some(4096))),
        "provider_specific.thinking: `enabled` needs `budget_tokens`"
    );
    // Without max_tokens the default leaves room for the whole budget.
    let (body, _) = translate(&thinking(ThinkingConfig::enabled(10_000), None));
    assert_eq!(body["max_tokens"], 26_384);
}

#[test]
fn thinking_restricts_sampling_and_adaptive_only_models_get_adaptive() {
    let mut request = ChatCompletionRequest {
        temperature: Some(0.5),
        top_p: Some(0.5),
        provider_specific: Some(ProviderSpecificRequest {
            thinking: Some(ThinkingConfig::enabled(2048)),
            top_k: Some(5),
            ..Default::default()
        }),
        ..request(vec![ChatCompletionMessage::new_text("user", "Think")])
    };
    request.max_tokens = Some(8192);
    let (body, warnings) = translate(&request);
    assert_eq!(parameters(&warnings), ["temperature", "top_p", "provider_specific.top_k"]);
    assert!(body.get("temperature").is_none() && body.get("top_p").is_none() && body.get("top_k").is_none());

    // 1, the only temperature Anthropic accepts with thinking, is sent as asked.
    request.temperature = Some(1.0);
    request.top_p = None;
    if let Some(specific) = request.provider_specific.as_mut() {
        specific.top_k = None;
    }
    let (body, warnings) = translate(&request);
    assert_eq!(body["temperature"], json!(1.0));
    assert!(warnings.is_empty(), "{warnings:?}");

    request.model = "claude-opus-4-7".into();
    request.temperature = None;
    request.top_p = None;
    if let Some(specific) = request.provider_specific.as_mut() {
        specific.top_k = None;
    }
    let (body, warnings) = translate(&request);
    assert_eq!(body["thinking"], json!({"type": "adaptive"}));
    assert_eq!(parameters(&warnings), ["provider_specific.thinking"]);
}

#[test]
fn api_version_2026_10_21_and_generation_5_leave_sampling_out() {
    let request = ChatCompletionRequest {
        temperature: Some(0.2),
        top_p: Some(0.8),
        provider_specific: Some(ProviderSpecificRequest { top_k: Some(10), ..Default::default() }),
        ..request(vec![ChatCompletionMessage::new_text("user", "Hi")])
    };
    let new_version = config().with_api_version("2026-10-21");
    let (body, warnings, _) = translate_with(&request, &new_version);
    assert!(body.get("temperature").is_none() && body.get("top_p").is_none() && body.get("top_k").is_none());
    assert_eq!(
        warnings[0],
        Warning::unsupported_because("temperature", "API version 2026-10-21 removed the sampling parameters")
    );
    assert_eq!(parameters(&warnings), ["temperature", "top_p", "provider_specific.top_k"]);

    let generation_5 = ChatCompletionRequest { model: "claude-sonnet-5".into(), ..request.clone() };
    let (body, warnings) = translate(&generation_5);
    assert!(body.get("temperature").is_none());
    assert_eq!(
        warnings[0],
        Warning::unsupported_because("temperature", "claude-sonnet-5 rejects sampling parameters")
    );

    let (body, warnings) = translate(&request);
    assert_eq!((body["temperature"].clone(), body["top_k"].clone()), (json!(0.2), json!(10)));
    assert!(warnings.is_empty());
}

#[test]
fn temperature_above_anthropics_range_is_clamped() {
    let request = ChatCompletionRequest {
        temperature: Some(1.5),
        ..request(vec![ChatCompletionMessage::new_text("user", "Hi")])
    };
    let (body, warnings) = translate(&request);
    assert_eq!(body["temperature"], json!(1.0));
    assert_eq!(parameters(&warnings), ["temperature"]);
}

#[test]
fn every_system_and_developer_message_becomes_system_in_order() {
    let one = request(vec![
        ChatCompletionMessage::new_text("system", "You are terse."),
        ChatCompletionMessage::new_text("user", "Hi"),
    ]);
    assert_eq!(translate(&one).0["system"], json!("You are terse."));

    let many = request(vec![
        ChatCompletionMessage::new_text("system", "You are terse."),
        ChatCompletionMessage::new_parts(
            "developer",
            vec![
                ContentPart::Text {
                    text: "A long shared context".into(),
                    cache_control: ephemeral(Some(CacheTtl::OneHour)),
                },
                ContentPart::text("   "),
                ContentPart::Text { text: "Rules".into(), cache_control: ephemeral(None) },
            ],
        ),
        ChatCompletionMessage::new_text("user", "Hi"),
        ChatCompletionMessage::new_text("system", "Answer in French."),
    ]);
    let (body, _) = translate(&many);
    assert_eq!(
        body["system"],
        json!([
            {"type": "text", "text": "You are terse."},
            {"type": "text", "text": "A long shared context", "cache_control": {"type": "ephemeral", "ttl": "1h"}},
            {"type": "text", "text": "Rules", "cache_control": {"type": "ephemeral"}},
            {"type": "text", "text": "Answer in French."}
        ])
    );
    assert_eq!(body["messages"], json!([{"role": "user", "content": [{"type": "text", "text": "Hi"}]}]));

    let cached_string = request(vec![
        ChatCompletionMessage {
            cache_control: ephemeral(Some(CacheTtl::FiveMinutes)),
            ..ChatCompletionMessage::new_text("system", "Cached")
        },
        ChatCompletionMessage::new_text("user", "Hi"),
    ]);
    assert_eq!(
        translate(&cached_string).0["system"],
        json!([{"type": "text", "text": "Cached", "cache_control": {"type": "ephemeral", "ttl": "5m"}}])
    );
}

#[test]
fn tool_conversation_merges_turns_and_groups_results_first() {
    let assistant = ChatCompletionMessage {
        content: Some("Let me look both up.".into()),
        tool_calls: Some(vec![
            ToolCall::function("toolu_1", "get_weather", r#"{"location":"Paris"}"#),
            ToolCall::function("toolu_2", "get_time", ""),
        ]),
        ..ChatCompletionMessage::new_text("assistant", "")
    };
    let request = ChatCompletionRequest {
        tools: Some(vec![
            ChatCompletionTool::function(FunctionDefinition {
                name: "get_weather".into(),
                description: Some("Weather for a city".into()),
                parameters: Some(
                    json!({"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]}),
                ),
                strict: None,
            }),
            ChatCompletionTool {
                cache_control: ephemeral(None),
                ..ChatCompletionTool::function(FunctionDefinition {
                    name: "get_time".into(),
                    ..Default::default()
                })
            },
        ]),
        tool_choice: Some(ToolChoice::Required),
        parallel_tool_calls: Some(false),
        ..request(vec![
            ChatCompletionMessage::new_text("user", "Weather and time in Paris?"),
            ChatCompletionMessage::new_text("user", "Please."),
            assistant,
            ChatCompletionMessage::new_tool_result("toolu_1", "18°C, cloudy"),
            ChatCompletionMessage::new_text("user", "Also, be brief."),
            ChatCompletionMessage::new_tool_result("toolu_2", "14:05"),
        ])
    };
    let (body, warnings) = translate(&request);
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(
        body["messages"],
        json!([
            {"role": "user", "content": [
                {"type": "text", "text": "Weather and time in Paris?"},
                {"type": "text", "text": "Please."}
            ]},
            {"role": "assistant", "content": [
                {"type": "text", "text": "Let me look both up."},
                {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"location": "Paris"}},
                {"type": "tool_use", "id": "toolu_2", "name": "get_time", "input": {}}
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": [{"type": "text", "text": "18°C, cloudy"}]},
                {"type": "tool_result", "tool_use_id": "toolu_2", "content": [{"type": "text", "text": "14:05"}]},
                {"type": "text", "text": "Also, be brief."}
            ]}
        ])
    );
    assert_eq!(
        body["tools"],
        json!([
            {"name": "get_weather", "description": "Weather for a city", "input_schema": {"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]}},
            {"name": "get_time", "input_schema": {"type": "object", "properties": {}}, "cache_control": {"type": "ephemeral"}}
        ])
    );
    assert_eq!(body["tool_choice"], json!({"type": "any", "disable_parallel_tool_use": true}));
}

#[test]
fn tool_parameters_without_a_type_become_an_object_schema() {
    let tool = |name: &str, parameters: Option<Value>| {
        ChatCompletionTool::function(FunctionDefinition {
            name: name.into(),
            parameters,
            ..Default::default()
        })
    };
    let request = ChatCompletionRequest {
        tools: Some(vec![
            tool("empty", Some(json!({}))),
            tool("null", Some(Value::Null)),
            tool("untyped", Some(json!({"properties": {"q": {"type": "string"}}, "required": ["q"]}))),
        ]),
        ..request(vec![ChatCompletionMessage::new_text("user", "Hi")])
    };
    let (body, warnings) = translate(&request);
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(
        body["tools"],
        json!([
            {"name": "empty", "input_schema": {"type": "object"}},
            {"name": "null", "input_schema": {"type": "object", "properties": {}}},
            {"name": "untyped", "input_schema": {"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]}}
        ])
    );
}

#[test]
fn tool_call_ids_from_other_providers_are_made_valid_and_still_pair_up() {
    let assistant = ChatCompletionMessage {
        tool_calls: Some(vec![
            ToolCall::function("functions.get_weather:0", "get_weather", "{}"),
            ToolCall::function("functions:get_weather.0", "get_weather", "{}"),
            ToolCall::function("toolu_01ok", "get_weather", "{}"),
        ]),
        ..ChatCompletionMessage::new_text("assistant", "")
    };
    let request = request(vec![
        ChatCompletionMessage::new_text("user", "Weather?"),
        assistant,
        ChatCompletionMessage::new_tool_result("functions.get_weather:0", "sunny"),
        ChatCompletionMessage::new_tool_result("functions:get_weather.0", "rainy"),
        ChatCompletionMessage::new_tool_result("toolu_01ok", "windy"),
    ]);
    let (body, _) = translate(&request);
    let ids: Vec<String> = body["messages"][1]["content"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|block| block["id"].as_str().map(str::to_owned))
        .collect();
    let result_ids: Vec<String> = body["messages"][2]["content"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|block| block["tool_use_id"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(ids, result_ids, "each result still names its call");
    assert_eq!(ids[2], "toolu_01ok", "valid ids are sent unchanged");
    assert_ne!(ids[0], ids[1], "ids differing only in invalid characters stay distinct");
    for id in &ids {
        assert!(
            !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'),
            "{id}"
        );
    }
    assert!(ids[0].starts_with("functions_get_weather_0_"), "{}", ids[0]);
}

#[test]
fn a_tool_that_said_nothing_gives_a_result_without_content() {
    let assistant = ChatCompletionMessage {
        tool_calls: Some(vec![
            ToolCall::function("toolu_1", "touch", "{}"),
            ToolCall::function("toolu_2", "touch", "{}"),
        ]),
        ..ChatCompletionMessage::new_text("assistant", "")
    };
    let request = request(vec![
        ChatCompletionMessage::new_text("user", "Touch both files."),
        assistant,
        ChatCompletionMessage::new_tool_result("toolu_1", ""),
        ChatCompletionMessage::new_tool_result("toolu_2", " \n"),
    ]);
    let (body, warnings) = translate(&request);
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(
        body["messages"][2],
        json!({"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_1"},
            {"type": "tool_result", "tool_use_id": "toolu_2"}
        ]})
    );
}

#[test]
fn tool_choice_variants() {
    let tool =
        ChatCompletionTool::function(FunctionDefinition { name: "lookup".into(), ..Default::default() });
    let other =
        ChatCompletionTool::function(FunctionDefinition { name: "other".into(), ..Default::default() });
    let with_choice = |choice: Option<ToolChoice>, parallel: Option<bool>| ChatCompletionRequest {
        tools: Some(vec![tool.clone(), other.clone()]),
        tool_choice: choice,
        parallel_tool_calls: parallel,
        ..request(vec![ChatCompletionMessage::new_text("user", "Hi")])
    };
    let choice_of = |request: ChatCompletionRequest| translate(&request).0["tool_choice"].clone();
    assert_eq!(choice_of(with_choice(Some(ToolChoice::None), Some(false))), json!({"type": "none"}));
    assert_eq!(choice_of(with_choice(Some(ToolChoice::Auto), None)), json!({"type": "auto"}));
    assert_eq!(
        choice_of(with_choice(Some(ToolChoice::Function { name: "lookup".into() }), None)),
        json!({"type": "tool", "name": "lookup"})
    );
    assert_eq!(
        choice_of(with_choice(None, Some(false))),
        json!({"type": "auto", "disable_parallel_tool_use": true})
    );
    assert_eq!(choice_of(with_choice(None, None)), Value::Null);
    let allowed = with_choice(
        Some(ToolChoice::AllowedTools(AllowedTools {
            mode: AllowedToolsMode::Required,
            function_names: vec!["other".into()],
        })),
        None,
    );
    let (body, _) = translate(&allowed);
    assert_eq!(body["tool_choice"], json!({"type": "any"}));
    assert_eq!(
        body["tools"],
        json!([{"name": "other", "input_schema": {"type": "object", "properties": {}}}])
    );
}

#[test]
fn images_documents_and_empty_text() {
    let user = ChatCompletionMessage::new_parts(
        "user",
        vec![
            ContentPart::text(""),
            ContentPart::image_url("data:image/webp;base64,UklGRhYAAABXRUJQVlA4"),
            ContentPart::ImageUrl {
                image_url: ImageUrl { url: "https://example.com/cat.png".into(), detail: None },
                cache_control: ephemeral(None),
            },
            ContentPart::File {
                file: FileInput {
                    file_data: Some("data:application/pdf;base64,JVBERi0xLjQK".into()),
                    filename: Some("report.pdf".into()),
                    ..Default::default()
                },
                cache_control: None,
            },
            ContentPart::text("What do these show?"),
        ],
    );
    let (body, warnings, betas) = translate_with(&request(vec![user]), &config());
    assert!(warnings.is_empty() && betas.is_empty());
    assert_eq!(
        body["messages"][0]["content"],
        json!([
            {"type": "image", "source": {"type": "base64", "media_type": "image/webp", "data": "UklGRhYAAABXRUJQVlA4"}},
            {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.png"}, "cache_control": {"type": "ephemeral"}},
            {"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBERi0xLjQK"}, "title": "report.pdf"},
            {"type": "text", "text": "What do these show?"}
        ])
    );

    let uploaded = ChatCompletionMessage::new_parts(
        "user",
        vec![ContentPart::File {
            file: FileInput { file_id: Some("file_011CNha8iCJcU1wXNR6q4V8w".into()), ..Default::default() },
            cache_control: None,
        }],
    );
    let (body, _, betas) = translate_with(&request(vec![uploaded]), &config());
    assert_eq!(
        body["messages"][0]["content"][0]["source"],
        json!({"type": "file", "file_id": "file_011CNha8iCJcU1wXNR6q4V8w"})
    );
    assert_eq!(betas, ["files-api-2025-04-14"]);

    let bad_type =
        ChatCompletionMessage::new_parts("user", vec![ContentPart::image_url("data:image/tiff;base64,AAAA")]);
    assert_eq!(
        translate_error(&request(vec![bad_type])),
        "messages[0]: Anthropic reads JPEG, PNG, GIF and WebP images, not `image/tiff`"
    );
    let not_base64 =
        ChatCompletionMessage::new_parts("user", vec![ContentPart::image_url("data:image/png,rawbytes")]);
    assert!(translate_error(&request(vec![not_base64])).contains("base64"));
    let whitespace_only = request(vec![ChatCompletionMessage::new_text("user", "  \n ")]);
    assert_eq!(
        translate_error(&whitespace_only),
        "Anthropic needs at least one user or assistant message with content"
    );
}

#[test]
fn cache_breakpoints_with_nothing_to_sit_on_are_warned_about() {
    let history = request(vec![
        ChatCompletionMessage {
            cache_control: ephemeral(None),
            ..ChatCompletionMessage::new_text("system", " ")
        },
        ChatCompletionMessage::new_parts(
            "user",
            vec![
                ContentPart::text("Read this."),
                ContentPart::Text { text: "\n".into(), cache_control: ephemeral(Some(CacheTtl::OneHour)) },
            ],
        ),
        ChatCompletionMessage {
            reasoning_details: Some(vec![ReasoningDetail {
                kind: ReasoningDetailType::Encrypted,
                text: None,
                signature: None,
                data: Some("opaque==".into()),
                provider: Some("anthropic".into()),
            }]),
            cache_control: ephemeral(None),
            ..ChatCompletionMessage::new_text("assistant", "")
        },
        ChatCompletionMessage::new_text("user", "Go on."),
    ]);
    let (body, warnings) = translate(&history);
    assert_eq!(
        parameters(&warnings),
        ["messages[0].cache_control", "messages[1].content[].cache_control", "messages[2].cache_control"]
    );
    assert!(body.get("system").is_none());
    assert_eq!(body["messages"][0]["content"], json!([{"type": "text", "text": "Read this."}]));
    assert_eq!(body["messages"][1]["content"], json!([{"type": "redacted_thinking", "data": "opaque=="}]));

    // Breakpoints that land somewhere warn about nothing.
    let placed = request(vec![ChatCompletionMessage {
        cache_control: ephemeral(None),
        ..ChatCompletionMessage::new_text("user", "Hi")
    }]);
    assert!(translate(&placed).1.is_empty());
}

#[test]
fn more_than_four_cache_breakpoints_is_an_error() {
    let cached = |text: &str| ContentPart::Text { text: text.into(), cache_control: ephemeral(None) };
    let request = request(vec![
        ChatCompletionMessage::new_parts("system", vec![cached("a"), cached("b")]),
        ChatCompletionMessage::new_parts("user", vec![cached("c"), cached("d")]),
        ChatCompletionMessage {
            cache_control: ephemeral(None),
            ..ChatCompletionMessage::new_text("user", "e")
        },
    ]);
    assert_eq!(
        translate_error(&request),
        "Anthropic accepts at most 4 cache_control breakpoints per request; this one has 5 (system, messages and tools together)"
    );
}

#[test]
fn thinking_blocks_go_back_first_and_foreign_reasoning_is_not_sent() {
    let detail = |kind, text: Option<&str>, signature: Option<&str>, data: Option<&str>, provider: &str| {
        ReasoningDetail {
            kind,
            text: text.map(str::to_owned),
            signature: signature.map(str::to_owned),
            data: data.map(str::to_owned),
            provider: Some(provider.to_owned()),
        }
    };
    let assistant = ChatCompletionMessage {
        reasoning_content: Some("I should call the tool.".into()),
        reasoning_details: Some(vec![
            detail(
                ReasoningDetailType::Text,
                Some("I should call the tool."),
                Some("sig-1"),
                None,
                "anthropic",
            ),
            detail(ReasoningDetailType::Encrypted, None, None, Some("opaque=="), "anthropic"),
            detail(ReasoningDetailType::Text, Some("gemini thought"), Some("g-sig"), None, "gemini"),
        ]),
        tool_calls: Some(vec![ToolCall::function("toolu_9", "lookup", r#"{"q":"x"}"#)]),
        content: None,
        ..ChatCompletionMessage::new_text("assistant", "")
    };
    let request = ChatCompletionRequest {
        max_tokens: Some(4096),
        provider_specific: Some(ProviderSpecificRequest {
            thinking: Some(ThinkingConfig::enabled(2048)),
            ..Default::default()
        }),
        tools: Some(vec![ChatCompletionTool::function(FunctionDefinition {
            name: "lookup".into(),
            ..Default::default()
        })]),
        ..request(vec![
            ChatCompletionMessage::new_text("user", "Look it up"),
            assistant,
            ChatCompletionMessage::new_tool_result("toolu_9", "found"),
        ])
    };
    let (body, _) = translate(&request);
    assert_eq!(
        body["messages"][1]["content"],
        json!([
            {"type": "thinking", "thinking": "I should call the tool.", "signature": "sig-1"},
            {"type": "redacted_thinking", "data": "opaque=="},
            {"type": "tool_use", "id": "toolu_9", "name": "lookup", "input": {"q": "x"}}
        ])
    );
}

#[test]
fn history_anthropic_cannot_take_back_is_warned_about_not_dropped_silently() {
    let unsigned = unsigned_detail("unsigned");
    let assistant = |reasoning: Option<&str>, details: Option<Vec<ReasoningDetail>>| ChatCompletionMessage {
        reasoning_content: reasoning.map(str::to_owned),
        reasoning_details: details,
        ..ChatCompletionMessage::new_text("assistant", "Done.")
    };
    let request = request(vec![
        ChatCompletionMessage::new_text("user", "Go"),
        // Reasoning text without the signed blocks (a client that kept only reasoning_content).
        assistant(Some("I thought about it."), None),
        ChatCompletionMessage::new_text("user", "Again"),
        assistant(Some("unsigned"), Some(vec![unsigned])),
        ChatCompletionMessage::new_text("user", "And"),
        ChatCompletionMessage {
            refusal: Some("I can't help with that.".into()),
            audio: Some(vllora_llm_core::types::gateway::AssistantAudio {
                id: "audio_1".into(),
                ..Default::default()
            }),
            ..ChatCompletionMessage::new_text("assistant", "Partly.")
        },
        ChatCompletionMessage {
            tool_calls: Some(vec![ToolCall::function("call_1", "f", "{}")]),
            ..ChatCompletionMessage::new_text("user", "Last")
        },
    ]);
    let (body, warnings) = translate(&request);
    assert_eq!(
        parameters(&warnings),
        [
            "messages[1].reasoning_content",
            "messages[3].reasoning_content",
            "messages[5].audio",
            "messages[5].refusal",
            "messages[6].tool_calls"
        ]
    );
    assert_eq!(
        body["messages"][1],
        json!({"role": "assistant", "content": [{"type": "text", "text": "Done."}]})
    );
    assert_eq!(
        body["messages"][5],
        json!({"role": "assistant", "content": [{"type": "text", "text": "Partly."}]})
    );

    // Signed Anthropic blocks alone warn about nothing.
    let (_, warnings) = translate(&ChatCompletionRequest {
        messages: vec![
            ChatCompletionMessage::new_text("user", "Go"),
            assistant(
                Some("signed"),
                Some(vec![ReasoningDetail { signature: Some("sig".into()), ..unsigned_detail("signed") }]),
            ),
            ChatCompletionMessage::new_text("user", "Again"),
        ],
        ..request.clone()
    });
    assert!(warnings.is_empty(), "{warnings:?}");
}

fn unsigned_detail(text: &str) -> ReasoningDetail {
    ReasoningDetail {
        kind: ReasoningDetailType::Text,
        text: Some(text.into()),
        signature: None,
        data: None,
        provider: Some("anthropic".into()),
    }
}

#[test]
fn final_assistant_prefill_loses_trailing_whitespace_and_bad_arguments_are_an_error() {
    let prefill = request(vec![
        ChatCompletionMessage::new_text("user", "Give JSON"),
        ChatCompletionMessage::new_text("assistant", "{ \n"),
    ]);
    assert_eq!(
        translate(&prefill).0["messages"][1],
        json!({"role": "assistant", "content": [{"type": "text", "text": "{"}]})
    );

    let bad = ChatCompletionMessage {
        tool_calls: Some(vec![ToolCall::function("toolu_1", "f", "{not json")]),
        ..ChatCompletionMessage::new_text("assistant", "")
    };
    let message = translate_error(&request(vec![ChatCompletionMessage::new_text("user", "x"), bad]));
    assert!(message.starts_with("messages[1].tool_calls[0] (`f`): arguments are not JSON"), "{message}");
    let orphan =
        ChatCompletionMessage { tool_call_id: None, ..ChatCompletionMessage::new_tool_result("x", "y") };
    assert_eq!(translate_error(&request(vec![orphan])), "messages[0]: a `tool` message needs `tool_call_id`");
    let function = ChatCompletionMessage::new_text("function", "legacy");
    assert!(translate_error(&request(vec![function])).contains("legacy function calling"));
}

#[test]
fn json_schema_uses_native_structured_output() {
    let schema = json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"], "additionalProperties": false});
    let with_format = |model: &str| ChatCompletionRequest {
        model: model.into(),
        response_format: Some(ResponseFormat::JsonSchema {
            json_schema: JsonSchemaFormat {
                name: "city".into(),
                schema: Some(schema.clone()),
                strict: Some(true),
                description: None,
            },
        }),
        ..request(vec![ChatCompletionMessage::new_text("user", "Capital of France?")])
    };
    let (body, warnings, betas) = translate_with(&with_format("claude-sonnet-4-5"), &config());
    assert_eq!(body["output_config"], json!({"format": {"type": "json_schema", "schema": schema}}));
    assert!(warnings.is_empty() && betas.is_empty());

    let (body, _, betas) = translate_with(&with_format("claude-opus-4-1-20250805"), &config());
    assert_eq!(body["output_format"], json!({"type": "json_schema", "schema": schema}));
    assert_eq!(betas, ["structured-outputs-2025-11-13"]);

    // Strict tools need the same beta on a model that has only the beta form.
    let strict_tool = |model: &str| ChatCompletionRequest {
        model: model.into(),
        tools: Some(vec![ChatCompletionTool::function(FunctionDefinition {
            name: "city".into(),
            parameters: Some(schema.clone()),
            strict: Some(true),
            ..Default::default()
        })]),
        ..request(vec![ChatCompletionMessage::new_text("user", "Capital of France?")])
    };
    let (body, _, betas) = translate_with(&strict_tool("claude-opus-4-1-20250805"), &config());
    assert_eq!(body["tools"][0]["strict"], json!(true));
    assert_eq!(betas, ["structured-outputs-2025-11-13"]);
    let (body, _, betas) = translate_with(&strict_tool("claude-sonnet-4-5"), &config());
    assert_eq!(body["tools"][0]["strict"], json!(true));
    assert!(betas.is_empty());

    let (body, warnings, _) = translate_with(&with_format("claude-3-5-haiku-latest"), &config());
    assert!(body.get("output_config").is_none() && body.get("output_format").is_none());
    assert_eq!(
        warnings,
        [Warning::unsupported_because(
            "response_format",
            "claude-3-5-haiku-latest has no native structured output"
        )]
    );
}

#[test]
fn documents_in_assistant_messages_are_left_out_on_2026_10_21() {
    let assistant = ChatCompletionMessage::new_parts(
        "assistant",
        vec![
            ContentPart::text("Here is the file."),
            ContentPart::File {
                file: FileInput {
                    file_data: Some("data:application/pdf;base64,JVBERi0=".into()),
                    ..Default::default()
                },
                cache_control: None,
            },
        ],
    );
    let request = request(vec![
        ChatCompletionMessage::new_text("user", "Send it"),
        assistant,
        ChatCompletionMessage::new_text("user", "Thanks"),
    ]);
    let (body, warnings, _) = translate_with(&request, &config().with_api_version("2026-10-21"));
    assert_eq!(body["messages"][1]["content"], json!([{"type": "text", "text": "Here is the file."}]));
    assert_eq!(parameters(&warnings), ["messages[1].content[].file"]);
    let (body, _, _) = translate_with(&request, &config());
    assert_eq!(body["messages"][1]["content"][1]["type"], "document");
}

#[test]
fn forced_tool_use_while_thinking_becomes_auto() {
    let request = ChatCompletionRequest {
        max_tokens: Some(4096),
        provider_specific: Some(ProviderSpecificRequest {
            thinking: Some(ThinkingConfig::enabled(2048)),
            ..Default::default()
        }),
        tools: Some(vec![ChatCompletionTool::function(FunctionDefinition {
            name: "lookup".into(),
            ..Default::default()
        })]),
        tool_choice: Some(ToolChoice::Function { name: "lookup".into() }),
        parallel_tool_calls: Some(false),
        ..request(vec![ChatCompletionMessage::new_text("user", "Look it up")])
    };
    let (body, warnings) = translate(&request);
    assert_eq!(body["tool_choice"], json!({"type": "auto", "disable_parallel_tool_use": true}));
    assert_eq!(parameters(&warnings), ["tool_choice"]);
}

/// `tests/fixtures/requests/<case>.gateway.json` -> `<case>.anthropic.json`: the body Anthropic receives.
#[test]
fn golden_request_bodies() {
    let directory = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/requests");
    vllora_llm_testkit::golden(directory, "gateway.json", "anthropic.json", |case, bytes| {
        let request: ChatCompletionRequest = serde_json::from_slice(bytes)
            .unwrap_or_else(|error| panic!("{}: not a gateway request: {error}", case.name));
        let mut warnings = Warnings::new("anthropic");
        let translated = build(&request, None, &config(), false, &mut warnings)
            .unwrap_or_else(|error| panic!("{}: {error}", case.name));
        let (bytes, _) = translated.into_bytes().unwrap_or_else(|error| panic!("{}: {error}", case.name));
        let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
        vllora_llm_testkit::record_conformance("anthropic-messages", &body);
        body
    });
}
