//! Builds the provider model for a route, each provider behind its Cargo feature.

use vllora_llm_core::{LLMError, LLMResult, ModelInstance};

use crate::client::{InferenceModelProvider, Settings};

/// Whether an OpenAI-compatible proxy named `name` is configured in the environment.
pub(crate) fn proxy_exists(name: &str) -> bool {
    std::env::var_os(format!("VLLORA_{}_ENDPOINT", env_name(name))).is_some()
}

/// `my-proxy` -> `MY_PROXY`, the spelling of environment variable names.
pub(crate) fn env_name(name: &str) -> String {
    name.chars()
        .map(|character| if character.is_ascii_alphanumeric() { character.to_ascii_uppercase() } else { '_' })
        .collect()
}

/// The model instance serving `model` on `provider`.
pub(crate) fn build(
    settings: &Settings,
    provider: &InferenceModelProvider,
    model: &str,
) -> LLMResult<Box<dyn ModelInstance>> {
    match provider {
        InferenceModelProvider::OpenAI => openai(settings, None, model),
        InferenceModelProvider::Proxy(name) => openai(settings, Some(name), model),
        InferenceModelProvider::Anthropic => anthropic(settings, model),
        InferenceModelProvider::Gemini => gemini(settings, model),
        InferenceModelProvider::Bedrock => bedrock(settings, model),
    }
}

#[cfg(not(all(feature = "openai", feature = "anthropic", feature = "gemini", feature = "bedrock")))]
fn not_compiled(provider: &str, feature: &str) -> LLMError {
    LLMError::ProviderNotCompiled { provider: provider.to_owned(), feature: feature.to_owned() }
}

#[cfg(feature = "openai")]
fn openai(settings: &Settings, proxy: Option<&str>, model: &str) -> LLMResult<Box<dyn ModelInstance>> {
    use vllora_llm_openai::OpenAIModel;
    let config = openai_config(settings, proxy)?;
    Ok(Box::new(OpenAIModel::new(config, settings.http()?).with_model(model)))
}

/// The OpenAI configuration for OpenAI itself (`proxy` = `None`) or a named OpenAI-compatible proxy:
/// explicit credentials and endpoint first, then the environment. Shared by chat, embeddings, images and
/// the Responses API.
#[cfg(feature = "openai")]
pub(crate) fn openai_config(
    settings: &Settings,
    proxy: Option<&str>,
) -> LLMResult<vllora_llm_openai::OpenAIConfig> {
    use vllora_llm_openai::OpenAIConfig;
    use vllora_llm_core::Credentials;
    let endpoint = settings.endpoint.as_deref();
    let config = match (proxy, &settings.credentials) {
        (Some(name), None) => OpenAIConfig::proxy_from_env(name, endpoint)?,
        (Some(name), Some(Credentials::ApiKey(key))) => {
            OpenAIConfig::proxy_from_env(name, endpoint)?.with_api_key(key.clone())
        }
        (Some(name), Some(Credentials::ApiKeyWithEndpoint { api_key, endpoint: own_endpoint })) => {
            OpenAIConfig::proxy(name, endpoint.unwrap_or(own_endpoint)).with_api_key(api_key.clone())
        }
        (Some(name), Some(_)) => {
            return Err(LLMError::Config(format!("proxy `{name}` takes an API key, not AWS credentials")));
        }
        (None, Some(credentials)) => OpenAIConfig::from_credentials(credentials)?,
        (None, None) => OpenAIConfig::from_env()?,
    };
    let config = match (&settings.endpoint, proxy) {
        (Some(endpoint), None) => config.with_base_url(endpoint.clone()),
        _ => config,
    };
    Ok(config)
}

#[cfg(not(feature = "openai"))]
fn openai(_settings: &Settings, proxy: Option<&str>, _model: &str) -> LLMResult<Box<dyn ModelInstance>> {
    Err(not_compiled(proxy.unwrap_or("openai"), "openai"))
}

#[cfg(feature = "anthropic")]
fn anthropic(settings: &Settings, model: &str) -> LLMResult<Box<dyn ModelInstance>> {
    use vllora_llm_anthropic::{AnthropicConfig, AnthropicModel};
    let config = match &settings.credentials {
        Some(credentials) => AnthropicConfig::from_credentials(credentials)?,
        None => AnthropicConfig::from_env()?,
    };
    let config = match &settings.endpoint {
        Some(endpoint) => config.with_base_url(endpoint.clone()),
        None => config,
    };
    Ok(Box::new(AnthropicModel::new(config, settings.http()?).with_model(model)))
}

#[cfg(not(feature = "anthropic"))]
fn anthropic(_settings: &Settings, _model: &str) -> LLMResult<Box<dyn ModelInstance>> {
    Err(not_compiled("anthropic", "anthropic"))
}

#[cfg(feature = "gemini")]
fn gemini(settings: &Settings, model: &str) -> LLMResult<Box<dyn ModelInstance>> {
    use vllora_llm_gemini::{GeminiConfig, GeminiModel};
    let config = match &settings.credentials {
        Some(credentials) => GeminiConfig::from_credentials(credentials)?,
        None => GeminiConfig::from_env()?,
    };
    let config = match &settings.endpoint {
        Some(endpoint) => config.with_base_url(endpoint.clone()),
        None => config,
    };
    Ok(Box::new(GeminiModel::new(config, settings.http()?).with_model(model)))
}

#[cfg(not(feature = "gemini"))]
fn gemini(_settings: &Settings, _model: &str) -> LLMResult<Box<dyn ModelInstance>> {
    Err(not_compiled("gemini", "gemini"))
}

#[cfg(feature = "bedrock")]
fn bedrock(settings: &Settings, model: &str) -> LLMResult<Box<dyn ModelInstance>> {
    use vllora_llm_bedrock::{BedrockConfig, BedrockModel};
    let config = match &settings.credentials {
        Some(credentials) => BedrockConfig::from_credentials(credentials)?,
        None => BedrockConfig::from_env()?,
    };
    let config = match &settings.endpoint {
        Some(endpoint) => config.with_base_url(endpoint.clone()),
        None => config,
    };
    Ok(Box::new(BedrockModel::new(config, settings.http()?).with_model(model)))
}

#[cfg(not(feature = "bedrock"))]
fn bedrock(_settings: &Settings, _model: &str) -> LLMResult<Box<dyn ModelInstance>> {
    Err(not_compiled("bedrock", "bedrock"))
}
