//! Gateway request -> Chat Completions body: every field OpenAI takes goes through unchanged, the
//! gateway's extensions stay behind, and OpenAI's reasoning models get the parameters they accept.
//!
//! [`build`] destructures [`ChatCompletionRequest`] without `..`: a field added to the gateway type does
//! not compile here until it is mapped, warned about or refused. Messages are in `messages`, tools in
//! `tools`, everything else in `options`.

mod messages;
mod options;
mod tools;

use vllora_llm_core::types::gateway::ChatCompletionRequest;
use vllora_llm_core::{LLMError, LLMResult, Warning, Warnings};

use crate::config::Dialect;
use crate::dialect::OpenAIDialect;
use crate::wire::ChatBody;

/// One-shot or streamed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// `stream` is left out.
    OneShot,
    /// `stream: true` and `stream_options.include_usage: true`.
    Stream,
}

/// A serialised body and the changes made to the request that lose nothing (a renamed parameter): they
/// are reported with the result but do not fail strict mode.
#[derive(Debug)]
pub(crate) struct WireBody {
    pub bytes: Vec<u8>,
    pub adjustments: Vec<Warning>,
}

/// Where the body goes: the URL layout, the host's conventions and the provider name.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Target<'a> {
    pub dialect: &'a Dialect,
    pub host_dialect: OpenAIDialect,
    pub provider: &'a str,
}

impl<'a> Target<'a> {
    /// The target `config` describes.
    pub(crate) fn of(config: &'a crate::config::OpenAIConfig) -> Self {
        Target {
            dialect: config.dialect(),
            host_dialect: config.host_dialect(),
            provider: config.provider_name(),
        }
    }
}

/// Builds the body for `model` (the request's model, or the one the model instance was built for, with
/// any provider prefix already removed).
pub(crate) fn build(
    request: &ChatCompletionRequest,
    model: &str,
    target: Target<'_>,
    mode: Mode,
    warnings: &mut Warnings,
    capacity: usize,
) -> LLMResult<WireBody> {
    let Target { dialect, host_dialect, provider } = target;
    let ChatCompletionRequest {
        // Resolved by the caller (`with_model`, provider prefix removed) and given as `model`.
        model: _,
        messages,
        audio,
        frequency_penalty,
        function_call,
        functions,
        logit_bias,
        logprobs,
        max_completion_tokens,
        max_tokens,
        metadata,
        modalities,
        n,
        parallel_tool_calls,
        prediction,
        presence_penalty,
        prompt_cache_key,
        prompt_cache_retention,
        reasoning_effort,
        response_format,
        safety_identifier,
        seed,
        service_tier,
        stop,
        store,
        // The call decides (`complete` or `stream`), not the field: see `mode`.
        stream: _,
        stream_options,
        temperature,
        tool_choice,
        tools,
        top_logprobs,
        top_p,
        user,
        verbosity,
        web_search_options,
        provider_specific,
    } = request;
    if model.is_empty() {
        return Err(LLMError::InvalidRequest("`model` is empty".to_owned()));
    }
    if messages.is_empty() {
        return Err(LLMError::InvalidRequest("`messages` is empty: send at least one message".to_owned()));
    }
    let compatible = *dialect == Dialect::Compatible;
    let host = messages::Host { compatible, dialect: host_dialect, provider };
    let mut left_out = messages::LeftOut::default();
    let (stream, stream_options) = options::stream_fields(mode, stream_options.as_ref());
    let mut body = ChatBody {
        model,
        messages: messages
            .iter()
            .enumerate()
            .map(|(position, message)| messages::wire_message(position, message, host, &mut left_out))
            .collect(),
        audio: audio.as_ref(),
        frequency_penalty: *frequency_penalty,
        function_call: function_call.as_ref(),
        functions: functions.as_deref(),
        logit_bias: logit_bias.as_ref(),
        logprobs: *logprobs,
        max_completion_tokens: *max_completion_tokens,
        max_tokens: *max_tokens,
        metadata: metadata.as_ref(),
        modalities: modalities.as_deref(),
        n: *n,
        parallel_tool_calls: *parallel_tool_calls,
        prediction: prediction.as_ref(),
        presence_penalty: *presence_penalty,
        prompt_cache_key: prompt_cache_key.as_deref(),
        prompt_cache_retention: prompt_cache_retention.as_deref(),
        reasoning_effort: *reasoning_effort,
        response_format: response_format.as_ref(),
        safety_identifier: safety_identifier.as_deref(),
        seed: *seed,
        service_tier: service_tier.as_deref(),
        stop: stop.as_deref(),
        store: *store,
        stream,
        stream_options,
        temperature: *temperature,
        tool_choice: tool_choice.as_ref(),
        tools: tools.as_deref().map(tools::wire_tools),
        top_logprobs: *top_logprobs,
        top_p: *top_p,
        user: user.as_deref(),
        verbosity: *verbosity,
        web_search_options: web_search_options.as_ref(),
    };

    let mut adjustments = left_out.into_adjustments(host_dialect);
    options::apply_model_limits(&mut body, options::ModelTraits::of(model), warnings, &mut adjustments);
    let extras = options::server_options(provider_specific.as_ref(), compatible, host_dialect, warnings);

    let mut bytes = vllora_llm_core::support::json::to_vec_with_capacity(&body, capacity)
        .map_err(|error| LLMError::InvalidRequest(format!("cannot serialise the request: {error}")))?;
    options::append_fields(&mut bytes, &extras)?;
    Ok(WireBody { bytes, adjustments })
}

#[cfg(test)]
mod tests {
    use serde_json::{Map, Value, json};
    use vllora_llm_core::types::gateway::{ChatCompletionMessage, ReasoningEffort, StreamOptions};
    use vllora_llm_core::{LLMError, Warning};
    use vllora_llm_testkit::golden;

    use super::*;

    const REQUESTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/requests");

    fn fixture(name: &str) -> Value {
        let path = format!("{REQUESTS}/{name}");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{path}: {error}"));
        serde_json::from_str(&text).unwrap_or_else(|error| panic!("{path}: {error}"))
    }

    fn gateway(name: &str) -> ChatCompletionRequest {
        serde_json::from_value(fixture(name)).unwrap_or_else(|error| panic!("{name}: {error}"))
    }

    struct Built {
        body: Value,
        warnings: Vec<Warning>,
        adjustments: Vec<Warning>,
    }

    fn build(request: &ChatCompletionRequest, dialect: &Dialect, mode: Mode) -> Built {
        let mut warnings = Warnings::new("openai");
        let built = super::build(request, &request.model, target(dialect), mode, &mut warnings, 256);
        let Ok(built) = built else { panic!("{:?}", built.err()) };
        let body: Value = serde_json::from_slice(&built.bytes).unwrap_or_default();
        vllora_llm_testkit::record_conformance("openai-chat", &body);
        Built { body, warnings: warnings.finish(false).unwrap_or_default(), adjustments: built.adjustments }
    }

    /// The target of a URL layout, with the host dialect it implies.
    fn target(dialect: &Dialect) -> Target<'_> {
        let host_dialect = match dialect {
            Dialect::Compatible => OpenAIDialect::Generic,
            _ => OpenAIDialect::OpenAI,
        };
        Target { dialect, host_dialect, provider: "test" }
    }

    fn parameters(warnings: &[Warning]) -> Vec<&str> {
        warnings.iter().filter_map(Warning::parameter).collect()
    }

    fn simple(model: &str) -> ChatCompletionRequest {
        ChatCompletionRequest {
            model: model.to_owned(),
            messages: vec![ChatCompletionMessage::new_text("user", "Hi")],
            ..Default::default()
        }
    }

    /// Every `<case>.gateway.json` becomes exactly `<case>.openai.json`, for OpenAI and Azure alike.
    #[test]
    fn every_openai_field_reaches_the_wire_unchanged_and_extensions_stay_behind() {
        let mut cases = Vec::new();
        golden(REQUESTS, "gateway.json", "openai.json", |case, bytes| {
            let request: ChatCompletionRequest =
                serde_json::from_slice(bytes).unwrap_or_else(|error| panic!("{}: {error}", case.name));
            let built = build(&request, &Dialect::OpenAI, Mode::OneShot);
            if case.name == "every_field" {
                assert_eq!(
                    parameters(&built.warnings),
                    vec!["provider_specific.top_k", "provider_specific.cached_content"]
                );
                // The extensions OpenAI takes no field for are left out, and said so (not a strict failure).
                assert_eq!(
                    built.adjustments.iter().map(ToString::to_string).collect::<Vec<_>>(),
                    vec![
                        "`messages[].reasoning_content`: not sent (messages 3): this host takes no reasoning back \
                         (openai dialect)",
                        "`messages[].reasoning_details`: not sent (messages 3): this host takes no reasoning \
                         blocks back, or they came from another provider (openai dialect)",
                        "`messages[].cache_control`: not sent (messages 1): this host takes no cache breakpoints \
                         (openai dialect)",
                    ]
                );
            }
            let azure = Dialect::Azure { deployment: "d".into(), api_version: "v".into() };
            assert_eq!(build(&request, &azure, Mode::OneShot).body, built.body, "{}", case.name);
            cases.push(case.name.clone());
            built.body
        });
        assert!(cases.iter().any(|case| case == "every_field"), "{cases:?}");
    }

    #[test]
    fn streams_always_ask_for_usage() {
        let mut request = simple("gpt-4.1-mini");
        request.stream_options =
            Some(StreamOptions { include_usage: Some(false), include_obfuscation: Some(false) });
        let built = build(&request, &Dialect::OpenAI, Mode::Stream);
        assert_eq!(built.body["stream"], json!(true));
        assert_eq!(
            built.body["stream_options"],
            json!({"include_usage": true, "include_obfuscation": false})
        );
        let one_shot = build(&request, &Dialect::OpenAI, Mode::OneShot).body;
        assert_eq!(
            one_shot,
            json!({"model": "gpt-4.1-mini", "messages": [{"role": "user", "content": "Hi"}]})
        );
    }

    #[test]
    fn compatible_servers_get_top_k_their_options_and_extra_content() {
        let request = gateway("every_field.gateway.json");
        let built = build(&request, &Dialect::Compatible, Mode::OneShot);
        let mut expected = fixture("every_field.openai.json");
        expected["top_k"] = json!(40);
        expected["cached_content"] = json!("cachedContents/abc");
        expected["messages"][3]["tool_calls"][0]["extra_content"] =
            json!({"google": {"thought_signature": "c2ln"}});
        assert_eq!(built.body, expected);
        assert!(built.warnings.is_empty(), "{:?}", built.warnings);

        let mut clashing = simple("qwen3");
        let mut extra = Map::new();
        extra.insert("temperature".to_owned(), json!(2));
        extra.insert("repetition_penalty".to_owned(), json!(1.1));
        clashing.temperature = Some(0.2);
        clashing.provider_specific =
            Some(vllora_llm_core::types::gateway::ProviderSpecificRequest { extra, ..Default::default() });
        let built = build(&clashing, &Dialect::Compatible, Mode::OneShot);
        assert_eq!(built.body["temperature"], json!(0.2));
        assert_eq!(built.body["repetition_penalty"], json!(1.1));
        assert_eq!(parameters(&built.warnings), vec!["provider_specific.temperature"]);
    }

    #[test]
    fn reasoning_models_get_max_completion_tokens_and_lose_sampling_parameters() {
        let mut request = simple("o3-mini");
        request.max_tokens = Some(500);
        request.temperature = Some(0.2);
        request.top_p = Some(1.0);
        request.frequency_penalty = Some(0.5);
        request.presence_penalty = Some(0.0);
        request.logit_bias = Some([("50256".to_owned(), -100)].into_iter().collect());
        request.logprobs = Some(true);
        request.top_logprobs = Some(2);
        request.seed = Some(3);
        request.reasoning_effort = Some(ReasoningEffort::High);
        let built = build(&request, &Dialect::OpenAI, Mode::OneShot);
        assert_eq!(
            built.body,
            json!({
                "model": "o3-mini",
                "messages": [{"role": "user", "content": "Hi"}],
                "max_completion_tokens": 500,
                "reasoning_effort": "high",
                "seed": 3
            })
        );
        // Values equal to the model's only accepted value lose nothing and warn about nothing.
        assert_eq!(
            parameters(&built.warnings),
            vec!["temperature", "logprobs", "top_logprobs", "frequency_penalty", "logit_bias"]
        );
        assert_eq!(parameters(&built.adjustments), vec!["max_tokens"]);

        let mut both = simple("gpt-5-mini");
        both.max_tokens = Some(100);
        both.max_completion_tokens = Some(2000);
        let built = build(&both, &Dialect::Compatible, Mode::Stream);
        assert_eq!(built.body["max_completion_tokens"], json!(2000));
        assert_eq!(built.body.get("max_tokens"), None);
        assert_eq!(parameters(&built.warnings), vec!["max_tokens"]);
    }

    #[test]
    fn gpt_5_1_samples_when_reasoning_is_off() {
        let mut request = simple("gpt-5.1");
        request.temperature = Some(0.3);
        request.logprobs = Some(true);
        request.reasoning_effort = Some(ReasoningEffort::None);
        let built = build(&request, &Dialect::OpenAI, Mode::OneShot);
        assert_eq!(built.body["temperature"], json!(0.3));
        assert_eq!(built.body["logprobs"], json!(true));
        assert!(built.warnings.is_empty());
        request.reasoning_effort = Some(ReasoningEffort::Low);
        assert_eq!(
            parameters(&build(&request, &Dialect::OpenAI, Mode::OneShot).warnings),
            vec!["temperature", "logprobs"]
        );
    }

    #[test]
    fn other_models_keep_everything_whoever_serves_them() {
        for model in ["gpt-4.1-mini", "gpt-5-chat-latest", "gemma-3-270m", "meta-llama/Llama-3.1-8B-Instruct"]
        {
            let mut request = simple(model);
            request.max_tokens = Some(64);
            request.temperature = Some(0.5);
            let built = build(&request, &Dialect::Compatible, Mode::OneShot);
            assert_eq!(built.body["max_tokens"], json!(64), "{model}");
            assert_eq!(built.body["temperature"], json!(0.5), "{model}");
            assert!(built.warnings.is_empty() && built.adjustments.is_empty(), "{model}");
        }
        let mut search = simple("gpt-4o-search-preview");
        search.temperature = Some(0.5);
        assert_eq!(
            parameters(&build(&search, &Dialect::OpenAI, Mode::OneShot).warnings),
            vec!["temperature"]
        );
    }

    #[test]
    fn strict_mode_fails_on_lost_meaning_but_not_on_renames() {
        let mut request = simple("o4-mini");
        request.max_tokens = Some(10);
        let mut warnings = Warnings::new("openai");
        let built =
            super::build(&request, "o4-mini", target(&Dialect::OpenAI), Mode::OneShot, &mut warnings, 256);
        assert!(built.is_ok());
        assert!(warnings.finish(true).is_ok(), "a rename loses nothing");
        request.temperature = Some(0.1);
        let mut warnings = Warnings::new("openai");
        let _ =
            super::build(&request, "o4-mini", target(&Dialect::OpenAI), Mode::OneShot, &mut warnings, 256);
        assert!(matches!(warnings.finish(true), Err(LLMError::Unsupported(_))));
    }

    #[test]
    fn empty_model_or_messages_are_invalid() {
        let mut warnings = Warnings::new("openai");
        let no_messages = ChatCompletionRequest { model: "gpt-4o".into(), ..Default::default() };
        let error =
            super::build(&no_messages, "gpt-4o", target(&Dialect::OpenAI), Mode::OneShot, &mut warnings, 256)
                .err();
        assert!(matches!(error, Some(LLMError::InvalidRequest(message)) if message.contains("messages")));
        let error =
            super::build(&simple(""), "", target(&Dialect::OpenAI), Mode::OneShot, &mut warnings, 256).err();
        assert!(matches!(error, Some(LLMError::InvalidRequest(message)) if message.contains("model")));
    }

    /// A conversation with an assistant turn that reasoned and called a tool, then its result, with cache
    /// breakpoints: what each dialect sends back.
    fn reasoning_turn() -> ChatCompletionRequest {
        use vllora_llm_core::types::gateway::{
            CacheControl, ContentPart, ReasoningDetail, ReasoningDetailType, ToolCall,
        };
        let mut system = ChatCompletionMessage::new_text("system", "Be brief.");
        system.cache_control = Some(CacheControl::ephemeral());
        let assistant = ChatCompletionMessage {
            role: vllora_llm_core::types::gateway::Role::Assistant,
            content: Some("Let me check.".into()),
            reasoning_content: Some("I need the date.".into()),
            reasoning_details: Some(vec![
                ReasoningDetail {
                    kind: ReasoningDetailType::Text,
                    text: Some("I need the date.".into()),
                    signature: Some("sig".into()),
                    data: None,
                    provider: Some("router".into()),
                },
                ReasoningDetail {
                    kind: ReasoningDetailType::Text,
                    text: Some("other".into()),
                    signature: Some("anthropic-sig".into()),
                    data: None,
                    provider: Some("anthropic".into()),
                },
            ]),
            tool_calls: Some(vec![ToolCall::function("call_1", "today", "{}")]),
            ..Default::default()
        };
        let mut user = ChatCompletionMessage::new_parts("user", vec![ContentPart::text("And tomorrow?")]);
        if let Some(vllora_llm_core::types::gateway::ChatCompletionContent::Parts(parts)) = &mut user.content
        {
            parts.push(ContentPart::Text {
                text: "Thanks.".into(),
                cache_control: Some(CacheControl::ephemeral()),
            });
        }
        ChatCompletionRequest {
            model: "m".into(),
            messages: vec![
                system,
                ChatCompletionMessage::new_text("user", "What day is it?"),
                assistant,
                ChatCompletionMessage::new_tool_result("call_1", "Friday"),
                user,
            ],
            ..Default::default()
        }
    }

    fn for_dialect(dialect: OpenAIDialect) -> Built {
        let request = reasoning_turn();
        let target = Target { dialect: &Dialect::Compatible, host_dialect: dialect, provider: "router" };
        let mut warnings = Warnings::new("openai-compatible");
        let built = super::build(&request, "m", target, Mode::OneShot, &mut warnings, 256);
        let Ok(built) = built else { panic!("{:?}", built.err()) };
        let body: Value = serde_json::from_slice(&built.bytes).unwrap_or_default();
        Built { body, warnings: warnings.finish(true).unwrap_or_default(), adjustments: built.adjustments }
    }

    #[test]
    fn deepseek_and_vllm_get_reasoning_content_back() {
        for dialect in [OpenAIDialect::DeepSeek, OpenAIDialect::Vllm] {
            let built = for_dialect(dialect);
            assert_eq!(
                built.body["messages"][2],
                json!({
                    "role": "assistant",
                    "content": "Let me check.",
                    "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "today", "arguments": "{}"}}],
                    "reasoning_content": "I need the date."
                }),
                "{dialect}"
            );
            assert!(built.warnings.is_empty(), "strict mode is not failed by what a host does not take");
            assert_eq!(
                parameters(&built.adjustments),
                vec!["messages[].reasoning_details", "messages[].cache_control"]
            );
        }
    }

    #[test]
    fn mistral_gets_its_reasoning_back_as_a_thinking_chunk() {
        let built = for_dialect(OpenAIDialect::Mistral);
        assert_eq!(
            built.body["messages"][2]["content"],
            json!([
                {"type": "thinking", "thinking": [{"type": "text", "text": "I need the date."}]},
                {"type": "text", "text": "Let me check."}
            ])
        );
        assert_eq!(built.body["messages"][2].get("reasoning_content"), None);
    }

    #[test]
    fn openrouter_gets_its_reasoning_details_and_cache_breakpoints() {
        let built = for_dialect(OpenAIDialect::OpenRouter);
        assert_eq!(
            built.body["messages"][0]["content"],
            json!([{"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}])
        );
        assert_eq!(
            built.body["messages"][2]["reasoning_details"],
            json!([{"type": "reasoning.text", "text": "I need the date.", "signature": "sig"}]),
            "only OpenRouter's own blocks go back"
        );
        assert_eq!(
            built.body["messages"][4]["content"],
            json!([
                {"type": "text", "text": "And tomorrow?"},
                {"type": "text", "text": "Thanks.", "cache_control": {"type": "ephemeral"}}
            ])
        );
        assert_eq!(
            parameters(&built.adjustments),
            vec!["messages[].reasoning_content", "messages[].reasoning_details"]
        );
    }

    #[test]
    fn generic_hosts_get_openai_fields_and_a_warning_for_the_rest() {
        let built = for_dialect(OpenAIDialect::Generic);
        assert_eq!(built.body["messages"][0], json!({"role": "system", "content": "Be brief."}));
        assert_eq!(built.body["messages"][2].get("reasoning_content"), None);
        assert_eq!(built.body["messages"][2].get("reasoning_details"), None);
        let said: Vec<String> = built.adjustments.iter().map(ToString::to_string).collect();
        assert_eq!(
            said,
            vec![
                "`messages[].reasoning_content`: not sent (messages 2): this host takes no reasoning back (generic dialect)",
                "`messages[].reasoning_details`: not sent (messages 2): this host takes no reasoning blocks back, or they came from another provider (generic dialect)",
                "`messages[].cache_control`: not sent (messages 0, 4): this host takes no cache breakpoints (generic dialect)",
            ]
        );
    }

    #[test]
    fn annotations_of_an_earlier_answer_are_not_sent_and_said_so() {
        let mut request = simple("gpt-4o-search-preview");
        let mut answer = ChatCompletionMessage::new_text("assistant", "Rust 1.91 is out.");
        answer.annotations = Some(vec![vllora_llm_core::types::gateway::Annotation {
            kind: "url_citation".into(),
            ..Default::default()
        }]);
        request.messages.push(answer);
        request.messages.push(ChatCompletionMessage::new_text("user", "When?"));
        let built = build(&request, &Dialect::OpenAI, Mode::OneShot);
        assert_eq!(built.body["messages"][1], json!({"role": "assistant", "content": "Rust 1.91 is out."}));
        assert_eq!(parameters(&built.adjustments), vec!["messages[].annotations"]);
        assert!(built.warnings.is_empty());
    }

    #[test]
    fn thinking_goes_in_each_hosts_own_field() {
        use vllora_llm_core::types::gateway::{ProviderSpecificRequest, ThinkingConfig, ThinkingType};
        let with_thinking = |thinking: ThinkingConfig| {
            let mut request = simple("m");
            request.provider_specific =
                Some(ProviderSpecificRequest { thinking: Some(thinking), ..Default::default() });
            request
        };
        let send = |request: &ChatCompletionRequest, dialect: OpenAIDialect| {
            let target = Target { dialect: &Dialect::Compatible, host_dialect: dialect, provider: "p" };
            let mut warnings = Warnings::new("openai-compatible");
            let built = super::build(request, "m", target, Mode::OneShot, &mut warnings, 256);
            let Ok(built) = built else { panic!("{:?}", built.err()) };
            let body: Value = serde_json::from_slice(&built.bytes).unwrap_or_default();
            let warnings = warnings.finish(false).unwrap_or_default();
            (body, warnings)
        };
        let disabled = ThinkingConfig { kind: ThinkingType::Disabled, budget_tokens: None };
        let (body, warnings) = send(&with_thinking(disabled), OpenAIDialect::DeepSeek);
        assert_eq!(body["thinking"], json!({"type": "disabled"}));
        assert!(warnings.is_empty());
        let (body, warnings) = send(&with_thinking(ThinkingConfig::enabled(2048)), OpenAIDialect::DeepSeek);
        assert_eq!(body["thinking"], json!({"type": "enabled"}));
        assert_eq!(parameters(&warnings), vec!["provider_specific.thinking.budget_tokens"]);
        let (body, warnings) = send(&with_thinking(ThinkingConfig::enabled(2048)), OpenAIDialect::OpenRouter);
        assert_eq!(body["reasoning"], json!({"max_tokens": 2048}));
        assert!(warnings.is_empty());
        let (body, _) = send(&with_thinking(disabled), OpenAIDialect::OpenRouter);
        assert_eq!(body["reasoning"], json!({"enabled": false}));
        let (body, warnings) = send(&with_thinking(ThinkingConfig::enabled(2048)), OpenAIDialect::Generic);
        assert_eq!(body.get("thinking"), None);
        assert_eq!(parameters(&warnings), vec!["provider_specific.thinking"]);
    }
}
