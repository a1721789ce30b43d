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

/// Builds the body for `model` (the request's model, or the one the model instance was built for, with
/// any provider prefix already removed).
pub(crate) fn build(
    request: &ChatCompletionRequest,
    model: &str,
    dialect: &Dialect,
    mode: Mode,
    warnings: &mut Warnings,
) -> LLMResult<WireBody> {
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
    let (stream, stream_options) = options::stream_fields(mode, stream_options.as_ref());
    let mut body = ChatBody {
        model,
        messages: messages.iter().map(|message| messages::wire_message(message, compatible)).collect(),
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

    let mut adjustments = Vec::new();
    options::apply_model_limits(&mut body, options::ModelTraits::of(model), warnings, &mut adjustments);
    let extras = options::server_options(provider_specific.as_ref(), compatible, warnings);

    let mut bytes = serde_json::to_vec(&body)
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
        let built = super::build(request, &request.model, dialect, mode, &mut warnings);
        let Ok(built) = built else { panic!("{:?}", built.err()) };
        let body: Value = serde_json::from_slice(&built.bytes).unwrap_or_default();
        vllora_llm_testkit::record_conformance("openai-chat", &body);
        Built { body, warnings: warnings.finish(false).unwrap_or_default(), adjustments: built.adjustments }
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
                assert!(built.adjustments.is_empty());
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
        let built = super::build(&request, "o4-mini", &Dialect::OpenAI, Mode::OneShot, &mut warnings);
        assert!(built.is_ok());
        assert!(warnings.finish(true).is_ok(), "a rename loses nothing");
        request.temperature = Some(0.1);
        let mut warnings = Warnings::new("openai");
        let _ = super::build(&request, "o4-mini", &Dialect::OpenAI, Mode::OneShot, &mut warnings);
        assert!(matches!(warnings.finish(true), Err(LLMError::Unsupported(_))));
    }

    #[test]
    fn empty_model_or_messages_are_invalid() {
        let mut warnings = Warnings::new("openai");
        let no_messages = ChatCompletionRequest { model: "gpt-4o".into(), ..Default::default() };
        let error =
            super::build(&no_messages, "gpt-4o", &Dialect::OpenAI, Mode::OneShot, &mut warnings).err();
        assert!(matches!(error, Some(LLMError::InvalidRequest(message)) if message.contains("messages")));
        let error = super::build(&simple(""), "", &Dialect::OpenAI, Mode::OneShot, &mut warnings).err();
        assert!(matches!(error, Some(LLMError::InvalidRequest(message)) if message.contains("model")));
    }
}
