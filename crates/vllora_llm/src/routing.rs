//! Which provider serves a model: [`InferenceModelProvider`], chosen explicitly, by a `provider/model`
//! prefix, or by the model's name. Pure: whether a proxy is configured is asked of the caller.

use std::fmt;

use vllora_llm_core::ProviderId;

/// The providers the client can route to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum InferenceModelProvider {
    /// OpenAI (feature `openai`).
    OpenAI,
    /// Anthropic (feature `anthropic`).
    Anthropic,
    /// Google Gemini (feature `gemini`).
    Gemini,
    /// AWS Bedrock (feature `bedrock`).
    Bedrock,
    /// Google Vertex AI (feature `vertex`): `claude-*` models through Anthropic's publisher
    /// (`rawPredict`), every other model through Google's (`generateContent`); the `vertex/` prefix.
    VertexAI,
    /// Azure OpenAI (feature `azure`): the `azure/` prefix; each model goes to its deployment.
    Azure,
    /// Any OpenAI-compatible server, by name (feature `openai`): its endpoint comes from
    /// `with_inference_endpoint` or `VLLORA_{NAME}_ENDPOINT`, its key (optional) from
    /// `VLLORA_{NAME}_API_KEY`.
    Proxy(String),
}

impl InferenceModelProvider {
    /// The Cargo feature that compiles this provider in.
    pub fn feature(&self) -> &'static str {
        match self {
            InferenceModelProvider::OpenAI | InferenceModelProvider::Proxy(_) => "openai",
            InferenceModelProvider::Anthropic => "anthropic",
            InferenceModelProvider::Gemini => "gemini",
            InferenceModelProvider::Bedrock => "bedrock",
            InferenceModelProvider::VertexAI => "vertex",
            InferenceModelProvider::Azure => "azure",
        }
    }

    /// The provider's identity, spelled as its errors and telemetry spans spell it (`openai`,
    /// `anthropic`, `gcp.gemini`, `aws.bedrock`, a proxy's name).
    pub fn id(&self) -> ProviderId {
        match self {
            InferenceModelProvider::OpenAI => ProviderId::OPENAI,
            InferenceModelProvider::Anthropic => ProviderId::ANTHROPIC,
            InferenceModelProvider::Gemini => ProviderId::GEMINI,
            InferenceModelProvider::Bedrock => ProviderId::BEDROCK,
            InferenceModelProvider::VertexAI => ProviderId::VERTEX_AI,
            InferenceModelProvider::Azure => ProviderId::AZURE_OPENAI,
            InferenceModelProvider::Proxy(name) => ProviderId::proxy(name.as_str()),
        }
    }
}

/// The provider's [`id`](InferenceModelProvider::id); a proxy shows as ``proxy `name` ``.
impl fmt::Display for InferenceModelProvider {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InferenceModelProvider::Proxy(name) => write!(formatter, "proxy `{name}`"),
            other => fmt::Display::fmt(&other.id(), formatter),
        }
    }
}

/// The provider and the model name to send it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Route<'a> {
    pub(crate) provider: InferenceModelProvider,
    pub(crate) model: &'a str,
}

/// Resolves the provider of `model`. `proxy_exists` says whether an OpenAI-compatible proxy of that name
/// is configured (so `myproxy/llama-3` reaches it).
pub(crate) fn resolve<'a>(
    explicit: Option<&InferenceModelProvider>,
    model: &'a str,
    proxy_exists: &dyn Fn(&str) -> bool,
) -> Option<Route<'a>> {
    if let Some(provider) = explicit {
        let model = strip_own_prefix(provider, model);
        return Some(Route { provider: provider.clone(), model });
    }
    if let Some((prefix, rest)) = model.split_once('/')
        && !rest.is_empty()
    {
        if let Some(provider) = provider_for_prefix(prefix) {
            return Some(Route { provider, model: rest });
        }
        if !model.starts_with("arn:") && proxy_exists(prefix) {
            return Some(Route { provider: InferenceModelProvider::Proxy(prefix.to_owned()), model: rest });
        }
    }
    infer_from_name(model).map(|provider| Route { provider, model })
}

fn strip_own_prefix<'a>(provider: &InferenceModelProvider, model: &'a str) -> &'a str {
    match model.split_once('/') {
        Some((prefix, rest))
            if !rest.is_empty() && provider_for_prefix(prefix).as_ref() == Some(provider) =>
        {
            rest
        }
        Some((prefix, rest))
            if !rest.is_empty()
                && matches!(provider, InferenceModelProvider::Proxy(name) if name.eq_ignore_ascii_case(prefix)) =>
        {
            rest
        }
        _ => model,
    }
}

fn provider_for_prefix(prefix: &str) -> Option<InferenceModelProvider> {
    Some(match prefix.to_ascii_lowercase().as_str() {
        "openai" => InferenceModelProvider::OpenAI,
        "anthropic" => InferenceModelProvider::Anthropic,
        "gemini" | "google" => InferenceModelProvider::Gemini,
        "bedrock" | "aws" => InferenceModelProvider::Bedrock,
        "vertex" | "vertex_ai" | "vertexai" => InferenceModelProvider::VertexAI,
        "azure" | "azure_openai" | "azureopenai" => InferenceModelProvider::Azure,
        _ => return None,
    })
}

/// Bedrock model ids look like `[region.]vendor.model-version[:n]`, or are ARNs.
const BEDROCK_VENDORS: &[&str] = &[
    "ai21",
    "amazon",
    "anthropic",
    "cohere",
    "deepseek",
    "meta",
    "mistral",
    "openai",
    "qwen",
    "stability",
    "twelvelabs",
    "writer",
    "luma",
    "moonshot",
];
const BEDROCK_REGION_PREFIXES: &[&str] = &["us", "eu", "apac", "global", "us-gov", "ca", "jp", "au"];

fn is_bedrock_id(model: &str) -> bool {
    if model.starts_with("arn:aws") {
        return true;
    }
    let mut segments = model.split('.');
    let Some(first) = segments.next() else { return false };
    let vendor = if BEDROCK_REGION_PREFIXES.contains(&first) { segments.next() } else { Some(first) };
    let has_model = segments.next().is_some_and(|rest| !rest.is_empty());
    vendor.is_some_and(|vendor| BEDROCK_VENDORS.contains(&vendor)) && has_model
}

fn infer_from_name(model: &str) -> Option<InferenceModelProvider> {
    let lower = model.to_ascii_lowercase();
    let is_o_series = ["o1", "o3", "o4"].iter().any(|series| {
        lower.strip_prefix(series).is_some_and(|rest| rest.is_empty() || rest.starts_with('-'))
    });
    if is_bedrock_id(&lower) {
        Some(InferenceModelProvider::Bedrock)
    } else if lower.starts_with("gpt-")
        || lower.starts_with("chatgpt-")
        || is_o_series
        || lower.starts_with("text-embedding-")
        || lower.starts_with("dall-e-")
    {
        Some(InferenceModelProvider::OpenAI)
    } else if lower.starts_with("claude-") {
        Some(InferenceModelProvider::Anthropic)
    } else if lower.starts_with("gemini-") {
        Some(InferenceModelProvider::Gemini)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use InferenceModelProvider::*;

    fn route(model: &str) -> Option<(InferenceModelProvider, &str)> {
        resolve(None, model, &|name| name == "local").map(|route| (route.provider, route.model))
    }

    #[test]
    fn infers_the_provider_from_the_model_name() {
        assert_eq!(route("gpt-4.1-mini"), Some((OpenAI, "gpt-4.1-mini")));
        assert_eq!(route("o3"), Some((OpenAI, "o3")));
        assert_eq!(route("o4-mini"), Some((OpenAI, "o4-mini")));
        assert_eq!(route("chatgpt-4o-latest"), Some((OpenAI, "chatgpt-4o-latest")));
        assert_eq!(route("claude-sonnet-4-5"), Some((Anthropic, "claude-sonnet-4-5")));
        assert_eq!(route("gemini-2.5-flash"), Some((Gemini, "gemini-2.5-flash")));
        assert_eq!(route("anthropic.claude-3-5-sonnet-20240620-v1:0").map(|route| route.0), Some(Bedrock));
        assert_eq!(route("us.amazon.nova-pro-v1:0").map(|route| route.0), Some(Bedrock));
        assert_eq!(
            route("arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-haiku")
                .map(|route| route.0),
            Some(Bedrock)
        );
        assert_eq!(route("o5x"), None);
        assert_eq!(route("llama-3.1-8b"), None);
    }

    #[test]
    fn a_prefix_wins_over_the_name() {
        assert_eq!(route("anthropic/claude-3-haiku"), Some((Anthropic, "claude-3-haiku")));
        assert_eq!(route("openai/gpt-4o"), Some((OpenAI, "gpt-4o")));
        assert_eq!(
            route("local/meta-llama/Llama-3-8B"),
            Some((Proxy("local".into()), "meta-llama/Llama-3-8B"))
        );
        assert_eq!(route("unknown/model"), None);
        assert_eq!(route("vertex/gemini-2.5-flash"), Some((VertexAI, "gemini-2.5-flash")));
        assert_eq!(
            route("vertex_ai/claude-sonnet-4-5@20250929"),
            Some((VertexAI, "claude-sonnet-4-5@20250929"))
        );
        assert_eq!(VertexAI.id(), "gcp.vertex_ai");
        assert_eq!(route("azure/gpt-4o"), Some((Azure, "gpt-4o")));
        assert_eq!(route("azure_openai/text-embedding-3-small"), Some((Azure, "text-embedding-3-small")));
        assert_eq!((Azure.id(), Azure.feature()), (ProviderId::AZURE_OPENAI, "azure"));
        assert_eq!(Azure.to_string(), "azure.ai.openai");
        assert_eq!(VertexAI.feature(), "vertex");
    }

    #[test]
    fn ids_are_spelled_as_errors_and_spans_spell_them() {
        assert_eq!(OpenAI.id(), "openai");
        assert_eq!(Anthropic.id(), "anthropic");
        assert_eq!(Gemini.id(), "gcp.gemini");
        assert_eq!(Bedrock.id(), "aws.bedrock");
        assert_eq!(Proxy("local".into()).id(), "local");
        assert_eq!(Gemini.to_string(), "gcp.gemini");
        assert_eq!(Proxy("local".into()).to_string(), "proxy `local`");
    }

    #[test]
    fn an_explicit_provider_wins_and_strips_only_its_own_prefix() {
        let explicit = |provider: InferenceModelProvider, model: &'static str| {
            resolve(Some(&provider), model, &|_| false).map(|route| route.model)
        };
        assert_eq!(explicit(OpenAI, "openai/gpt-4o"), Some("gpt-4o"));
        assert_eq!(explicit(Proxy("local".into()), "meta-llama/Llama-3-8B"), Some("meta-llama/Llama-3-8B"));
        assert_eq!(explicit(Proxy("local".into()), "local/qwen"), Some("qwen"));
        assert_eq!(explicit(Anthropic, "gpt-4o"), Some("gpt-4o"));
    }
}
