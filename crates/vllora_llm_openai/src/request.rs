//! Gateway request -> Chat Completions body: every field OpenAI takes goes through unchanged, the
//! gateway's extensions stay behind, and OpenAI's reasoning models get the parameters they accept.

use serde_json::{Map, Value};
use vllora_llm_core::types::gateway::{
    ChatCompletionContent, ChatCompletionMessage, ChatCompletionRequest, ContentPart, ReasoningEffort,
    StreamOptions,
};
use vllora_llm_core::{LLMError, LLMResult, Warning, Warnings};

use crate::config::Dialect;
use crate::wire::{self, AudioReference, ChatBody, Content, Message, Part, Tool, ToolCall};

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

/// What OpenAI's published limitations say about a model, judged by its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct ModelTraits {
    /// o-series and gpt-5 and later (except the non-reasoning `gpt-5-chat` models): `max_completion_tokens`
    /// only, no sampling parameters.
    pub reasoning: bool,
    /// gpt-5.1 and later gpt-5.x take `temperature`, `top_p` and `logprobs` when `reasoning_effort` is
    /// `none`.
    pub sampling_without_reasoning: bool,
    /// The search preview models reject `temperature`.
    pub search_preview: bool,
}

impl ModelTraits {
    /// The traits of `model`; a name no OpenAI family matches (a local model behind a proxy) has none.
    pub(crate) fn of(model: &str) -> Self {
        let o_series = model
            .strip_prefix('o')
            .and_then(|rest| {
                let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
                let after = rest.get(digits..)?;
                (digits > 0 && (after.is_empty() || after.starts_with('-'))).then_some(())
            })
            .is_some();
        let gpt = gpt_version(model);
        let gpt = gpt.as_ref();
        let gpt_reasoning = gpt.is_some_and(|version| {
            let chat_variant = version.minor.is_none() && version.variant.starts_with("chat");
            version.major >= 5 && !chat_variant
        });
        ModelTraits {
            reasoning: o_series
                || gpt_reasoning
                || model == "codex-mini-latest"
                || model == "computer-use-preview",
            sampling_without_reasoning: gpt
                .is_some_and(|version| version.major == 5 && version.minor.is_some_and(|minor| minor >= 1)),
            search_preview: model.starts_with("gpt-4o-search-preview")
                || model.starts_with("gpt-4o-mini-search-preview"),
        }
    }
}

struct GptVersion<'a> {
    major: u32,
    minor: Option<u32>,
    variant: &'a str,
}

/// `gpt-5.1-mini` -> 5, Some(1), `mini`.
fn gpt_version(model: &str) -> Option<GptVersion<'_>> {
    let rest = model.strip_prefix("gpt-")?;
    let (version, variant) = rest.split_once('-').unwrap_or((rest, ""));
    let (major, minor) = match version.split_once('.') {
        Some((major, minor)) => (major, Some(minor.parse().ok()?)),
        None => (version, None),
    };
    Some(GptVersion { major: major.parse().ok()?, minor, variant })
}

/// Builds the body for `model` (the request's model with any provider prefix already removed).
pub(crate) fn chat_body(
    request: &ChatCompletionRequest,
    model: &str,
    dialect: &Dialect,
    mode: Mode,
    warnings: &mut Warnings,
) -> LLMResult<WireBody> {
    if model.is_empty() {
        return Err(LLMError::InvalidRequest("`model` is empty".to_owned()));
    }
    if request.messages.is_empty() {
        return Err(LLMError::InvalidRequest("`messages` is empty: send at least one message".to_owned()));
    }
    let compatible = *dialect == Dialect::Compatible;
    let mut body = ChatBody {
        model,
        messages: request.messages.iter().map(|message| wire_message(message, compatible)).collect(),
        audio: request.audio.as_ref(),
        frequency_penalty: request.frequency_penalty,
        function_call: request.function_call.as_ref(),
        functions: request.functions.as_deref(),
        logit_bias: request.logit_bias.as_ref(),
        logprobs: request.logprobs,
        max_completion_tokens: request.max_completion_tokens,
        max_tokens: request.max_tokens,
        metadata: request.metadata.as_ref(),
        modalities: request.modalities.as_deref(),
        n: request.n,
        parallel_tool_calls: request.parallel_tool_calls,
        prediction: request.prediction.as_ref(),
        presence_penalty: request.presence_penalty,
        prompt_cache_key: request.prompt_cache_key.as_deref(),
        prompt_cache_retention: request.prompt_cache_retention.as_deref(),
        reasoning_effort: request.reasoning_effort,
        response_format: request.response_format.as_ref(),
        safety_identifier: request.safety_identifier.as_deref(),
        seed: request.seed,
        service_tier: request.service_tier.as_deref(),
        stop: request.stop.as_deref(),
        store: request.store,
        stream: None,
        stream_options: None,
        temperature: request.temperature,
        tool_choice: request.tool_choice.as_ref(),
        tools: request.tools.as_ref().map(|tools| tools.iter().map(Tool::from).collect()),
        top_logprobs: request.top_logprobs,
        top_p: request.top_p,
        user: request.user.as_deref(),
        verbosity: request.verbosity,
        web_search_options: request.web_search_options.as_ref(),
    };
    if mode == Mode::Stream {
        body.stream = Some(true);
        // Usage is always asked for: the caller's stream ends with it whatever the request said.
        body.stream_options = Some(StreamOptions {
            include_usage: Some(true),
            include_obfuscation: request
                .stream_options
                .as_ref()
                .and_then(|options| options.include_obfuscation),
        });
    }

    let mut adjustments = Vec::new();
    apply_model_limits(&mut body, ModelTraits::of(model), warnings, &mut adjustments);
    let extras = server_options(request, compatible, warnings);

    let mut bytes = serde_json::to_vec(&body)
        .map_err(|error| LLMError::InvalidRequest(format!("cannot serialise the request: {error}")))?;
    append_fields(&mut bytes, &extras)?;
    Ok(WireBody { bytes, adjustments })
}

fn wire_message(message: &ChatCompletionMessage, compatible: bool) -> Message<'_> {
    // `reasoning_content` and `reasoning_details` stay behind: Chat Completions takes no reasoning back
    // (OpenAI keeps it server-side, DeepSeek rejects it in input), so nothing the server could use is lost.
    // `cache_control` stays behind too: OpenAI caches prompt prefixes on its own.
    Message {
        role: message.role.as_str(),
        content: message.content.as_ref().map(|content| match content {
            ChatCompletionContent::Text(text) => Content::Text(text),
            ChatCompletionContent::Parts(parts) => {
                Content::Parts(parts.iter().filter_map(wire_part).collect())
            }
        }),
        name: message.name.as_deref(),
        tool_calls: message.tool_calls.as_ref().map(|calls| {
            calls
                .iter()
                .map(|call| ToolCall {
                    id: &call.id,
                    kind: &call.kind,
                    function: &call.function,
                    extra_content: call.extra_content.as_ref().filter(|_| compatible),
                })
                .collect()
        }),
        tool_call_id: message.tool_call_id.as_deref(),
        refusal: message.refusal.as_deref(),
        audio: message.audio.as_ref().map(|audio| AudioReference { id: &audio.id }),
    }
}

fn wire_part(part: &ContentPart) -> Option<Part<'_>> {
    Some(match part {
        ContentPart::Text { text, .. } => Part::Text { text },
        ContentPart::ImageUrl { image_url, .. } => Part::ImageUrl { image_url },
        ContentPart::InputAudio { input_audio, .. } => Part::InputAudio { input_audio },
        ContentPart::File { file, .. } => Part::File { file },
        ContentPart::Refusal { refusal } => Part::Refusal { refusal },
        // A part kind added to the gateway later and unknown here is not sent rather than mangled.
        _ => return None,
    })
}

/// Removes what the model rejects, moving `max_tokens` where reasoning models want it.
fn apply_model_limits(
    body: &mut ChatBody<'_>,
    traits: ModelTraits,
    warnings: &mut Warnings,
    adjustments: &mut Vec<Warning>,
) {
    if traits.search_preview && body.temperature.take().is_some() {
        warnings.push(Warning::unsupported_because("temperature", "the search preview models reject it"));
    }
    if !traits.reasoning {
        return;
    }
    let because = "OpenAI's reasoning models reject it";
    let sampling_allowed =
        traits.sampling_without_reasoning && body.reasoning_effort == Some(ReasoningEffort::None);
    if !sampling_allowed {
        drop_unless_default(&mut body.temperature, 1.0, "temperature", because, warnings);
        drop_unless_default(&mut body.top_p, 1.0, "top_p", because, warnings);
        if body.logprobs.take() == Some(true) {
            warnings.push(Warning::unsupported_because("logprobs", because));
        }
        if body.top_logprobs.take().is_some() {
            warnings.push(Warning::unsupported_because("top_logprobs", because));
        }
    }
    drop_unless_default(&mut body.frequency_penalty, 0.0, "frequency_penalty", because, warnings);
    drop_unless_default(&mut body.presence_penalty, 0.0, "presence_penalty", because, warnings);
    if body.logit_bias.take().is_some() {
        warnings.push(Warning::unsupported_because("logit_bias", because));
    }
    if let Some(max_tokens) = body.max_tokens.take() {
        match body.max_completion_tokens {
            None => {
                body.max_completion_tokens = Some(max_tokens);
                let detail = "sent as `max_completion_tokens`, the only limit reasoning models accept";
                tracing::debug!(parameter = "max_tokens", "{detail}");
                adjustments.push(Warning::adjusted("max_tokens", detail));
            }
            Some(_) => warnings.push(Warning::unsupported_because(
                "max_tokens",
                "`max_completion_tokens` is also set and reasoning models accept only that one",
            )),
        }
    }
}

/// Drops a sampling parameter the model rejects; the model's default value loses nothing, so only
/// another value is a warning.
fn drop_unless_default(
    value: &mut Option<f64>,
    default: f64,
    parameter: &str,
    because: &str,
    warnings: &mut Warnings,
) {
    if let Some(dropped) = value.take() {
        if dropped != default {
            warnings.push(Warning::unsupported_because(parameter, because));
        }
    }
}

/// The `provider_specific` options: OpenAI has none of them; an OpenAI-compatible server gets `top_k`
/// and the free-form `extra` options as top-level fields (vLLM, llama.cpp, SGLang and Together read them
/// there).
fn server_options(
    request: &ChatCompletionRequest,
    compatible: bool,
    warnings: &mut Warnings,
) -> Map<String, Value> {
    let mut extras = Map::new();
    let Some(specific) = &request.provider_specific else { return extras };
    if let Some(top_k) = specific.top_k {
        if compatible {
            extras.insert("top_k".to_owned(), Value::from(top_k));
        } else {
            warnings.push(Warning::unsupported_because("provider_specific.top_k", "OpenAI has no top_k"));
        }
    }
    if specific.thinking.is_some() {
        warnings.push(Warning::unsupported_because(
            "provider_specific.thinking",
            "use `reasoning_effort` with OpenAI-shaped servers",
        ));
    }
    if specific.additional_parameters.is_some() {
        warnings.push(Warning::unsupported_because(
            "provider_specific.additional_parameters",
            "it is for Bedrock; use `provider_specific` extra fields for OpenAI-compatible servers",
        ));
    }
    for (name, value) in &specific.extra {
        let parameter = format!("provider_specific.{name}");
        if !compatible {
            warnings.push(Warning::unsupported_because(parameter, "OpenAI takes only its own parameters"));
        } else if wire::BODY_FIELDS.contains(&name.as_str()) || name == "top_k" {
            warnings.push(Warning::unsupported_because(parameter, "the standard field of that name wins"));
        } else {
            extras.insert(name.clone(), value.clone());
        }
    }
    extras
}

/// Appends `fields` to a serialised JSON object (`{...}` -> `{..., "k": v}`) without re-parsing it.
fn append_fields(bytes: &mut Vec<u8>, fields: &Map<String, Value>) -> LLMResult<()> {
    if fields.is_empty() {
        return Ok(());
    }
    if bytes.pop() != Some(b'}') {
        return Err(LLMError::InvalidRequest("the serialised request is not a JSON object".to_owned()));
    }
    for (name, value) in fields {
        bytes.push(b',');
        serde_json::to_writer(&mut *bytes, name)
            .and_then(|()| {
                bytes.push(b':');
                serde_json::to_writer(&mut *bytes, value)
            })
            .map_err(|error| LLMError::InvalidRequest(format!("cannot serialise `{name}`: {error}")))?;
    }
    bytes.push(b'}');
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use vllora_llm_core::types::gateway::ChatCompletionMessage;

    use super::*;

    fn fixture(name: &str) -> Value {
        let path = format!("{}/tests/fixtures/request/{name}", env!("CARGO_MANIFEST_DIR"));
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
        let built = chat_body(request, &request.model, dialect, mode, &mut warnings);
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

    #[test]
    fn every_openai_field_reaches_the_wire_unchanged_and_extensions_stay_behind() {
        let request = gateway("every_field.gateway.json");
        let built = build(&request, &Dialect::OpenAI, Mode::OneShot);
        assert_eq!(built.body, fixture("every_field.openai.json"));
        assert_eq!(
            parameters(&built.warnings),
            vec!["provider_specific.top_k", "provider_specific.cached_content"]
        );
        assert!(built.adjustments.is_empty());
        let azure = Dialect::Azure { deployment: "d".into(), api_version: "v".into() };
        assert_eq!(build(&request, &azure, Mode::OneShot).body, fixture("every_field.openai.json"));
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
        let built = chat_body(&request, "o4-mini", &Dialect::OpenAI, Mode::OneShot, &mut warnings);
        assert!(built.is_ok());
        assert!(warnings.finish(true).is_ok(), "a rename loses nothing");
        request.temperature = Some(0.1);
        let mut warnings = Warnings::new("openai");
        let _ = chat_body(&request, "o4-mini", &Dialect::OpenAI, Mode::OneShot, &mut warnings);
        assert!(matches!(warnings.finish(true), Err(LLMError::Unsupported(_))));
    }

    #[test]
    fn empty_model_or_messages_are_invalid() {
        let mut warnings = Warnings::new("openai");
        let no_messages = ChatCompletionRequest { model: "gpt-4o".into(), ..Default::default() };
        let error = chat_body(&no_messages, "gpt-4o", &Dialect::OpenAI, Mode::OneShot, &mut warnings).err();
        assert!(matches!(error, Some(LLMError::InvalidRequest(message)) if message.contains("messages")));
        let error = chat_body(&simple(""), "", &Dialect::OpenAI, Mode::OneShot, &mut warnings).err();
        assert!(matches!(error, Some(LLMError::InvalidRequest(message)) if message.contains("model")));
    }

    #[test]
    fn reasoning_families_are_recognised_by_name() {
        for model in [
            "o1",
            "o1-mini",
            "o3",
            "o3-mini-2025-01-31",
            "o4-mini",
            "gpt-5",
            "gpt-5-mini",
            "gpt-5.1",
            "gpt-5.2-pro",
            "gpt-6",
            "codex-mini-latest",
        ] {
            assert!(ModelTraits::of(model).reasoning, "{model}");
        }
        for model in [
            "gpt-4o",
            "gpt-4.1-mini",
            "gpt-5-chat-latest",
            "gpt-3.5-turbo",
            "omni-moderation-latest",
            "o",
            "gemma-3-270m",
            "chatgpt-4o-latest",
        ] {
            assert!(!ModelTraits::of(model).reasoning, "{model}");
        }
        assert!(ModelTraits::of("gpt-5.1-chat-latest").reasoning, "gpt-5.1 chat models reason");
        assert!(ModelTraits::of("gpt-5.1").sampling_without_reasoning);
        assert!(!ModelTraits::of("gpt-5").sampling_without_reasoning);
        assert!(!ModelTraits::of("gpt-6").sampling_without_reasoning);
        assert!(ModelTraits::of("gpt-4o-mini-search-preview").search_preview);
    }

    #[test]
    fn appended_fields_stay_valid_json() {
        let mut bytes = br#"{"model":"m"}"#.to_vec();
        let mut fields = Map::new();
        fields.insert("top_k".to_owned(), Value::from(40));
        fields.insert("chat_template_kwargs".to_owned(), serde_json::json!({"enable_thinking": false}));
        assert!(append_fields(&mut bytes, &fields).is_ok());
        let parsed: Value = serde_json::from_slice(&bytes).unwrap_or_default();
        assert_eq!(
            parsed,
            serde_json::json!({"model": "m", "top_k": 40, "chat_template_kwargs": {"enable_thinking": false}})
        );
    }
}
