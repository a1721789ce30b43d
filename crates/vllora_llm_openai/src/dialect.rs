//! [`OpenAIDialect`]: what an OpenAI-compatible host needs sent back and how it bends the format, chosen
//! explicitly, from a proxy's name or from the endpoint's host. Reading is lenient for every host (each
//! dialect reads what any of them sends); the dialect decides what the request carries beyond OpenAI's own
//! fields.

use std::fmt;

/// The conventions of the server on the other end of the OpenAI wire format.
///
/// Chosen by [`OpenAIConfig::with_dialect`](crate::OpenAIConfig::with_dialect), by
/// `VLLORA_{NAME}_DIALECT` for a named proxy, else from the proxy's name (`mistral`, `deepseek`,
/// `openrouter`...) or its endpoint's host (`api.mistral.ai`, `api.deepseek.com`, `openrouter.ai`...).
/// An unknown host keeps [`Generic`](Self::Generic), the lenient default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum OpenAIDialect {
    /// Any OpenAI-compatible server: OpenAI's fields only, plus `top_k`, the free-form
    /// `provider_specific` options and tool calls' `extra_content`. Reasoning and `cache_control` in the
    /// conversation are not sent (with a warning).
    #[default]
    Generic,
    /// OpenAI itself (and Azure OpenAI): OpenAI's fields only.
    OpenAI,
    /// Mistral: an assistant message's reasoning goes back as a `thinking` content chunk before its text.
    Mistral,
    /// DeepSeek: an assistant message's `reasoning_content` goes back (thinking mode with tool calls
    /// refuses a conversation without it).
    DeepSeek,
    /// OpenRouter: `reasoning_details` go back in OpenRouter's shape and `cache_control` on text parts
    /// (and a message's breakpoint on its last text part).
    OpenRouter,
    /// Groq.
    Groq,
    /// Cerebras.
    Cerebras,
    /// Together AI.
    Together,
    /// Fireworks AI.
    Fireworks,
    /// xAI.
    XAi,
    /// vLLM: an assistant message's `reasoning_content` goes back (chat templates such as Qwen3's render
    /// it for the current turn).
    Vllm,
}

/// Every dialect with its name and the hosts that select it.
const KNOWN: &[(OpenAIDialect, &str, &[&str])] = &[
    (OpenAIDialect::Generic, "generic", &[]),
    (OpenAIDialect::OpenAI, "openai", &["api.openai.com"]),
    (OpenAIDialect::Mistral, "mistral", &["api.mistral.ai", "codestral.mistral.ai"]),
    (OpenAIDialect::DeepSeek, "deepseek", &["api.deepseek.com"]),
    (OpenAIDialect::OpenRouter, "openrouter", &["openrouter.ai"]),
    (OpenAIDialect::Groq, "groq", &["api.groq.com"]),
    (OpenAIDialect::Cerebras, "cerebras", &["api.cerebras.ai"]),
    (OpenAIDialect::Together, "together", &["api.together.xyz", "api.together.ai"]),
    (OpenAIDialect::Fireworks, "fireworks", &["api.fireworks.ai"]),
    (OpenAIDialect::XAi, "xai", &["api.x.ai"]),
    (OpenAIDialect::Vllm, "vllm", &[]),
];

impl OpenAIDialect {
    /// The dialect's name (`generic`, `mistral`, `deepseek`, `openrouter`...), as
    /// `VLLORA_{NAME}_DIALECT` takes it.
    pub fn name(self) -> &'static str {
        KNOWN.iter().find(|(dialect, ..)| *dialect == self).map_or("generic", |(_, name, _)| name)
    }

    /// The dialect called `name` (any case; `grok` is xAI's, `compatible` the generic one).
    pub fn from_name(name: &str) -> Option<Self> {
        let name = name.trim().to_ascii_lowercase();
        let name = match name.as_str() {
            "grok" | "x.ai" => "xai",
            "compatible" | "default" => "generic",
            "together-ai" | "togetherai" => "together",
            other => other,
        };
        KNOWN.iter().find(|(_, known, _)| *known == name).map(|(dialect, ..)| *dialect)
    }

    /// The dialect of a proxy called `proxy_name` at `endpoint`: its name when it names a dialect, else
    /// the endpoint's host, else [`Generic`](Self::Generic).
    pub fn detect(proxy_name: &str, endpoint: &str) -> Self {
        Self::from_name(proxy_name).or_else(|| Self::from_host(endpoint)).unwrap_or_default()
    }

    /// The dialect a known host's endpoint selects (the host or any subdomain of it).
    pub fn from_host(endpoint: &str) -> Option<Self> {
        let host = host_of(endpoint)?;
        KNOWN.iter().find_map(|(dialect, _, hosts)| {
            hosts
                .iter()
                .any(|known| {
                    host == *known || host.strip_suffix(known).is_some_and(|prefix| prefix.ends_with('.'))
                })
                .then_some(*dialect)
        })
    }

    /// Whether assistant messages carry `reasoning_content` back.
    pub(crate) fn sends_reasoning_content(self) -> bool {
        matches!(self, OpenAIDialect::DeepSeek | OpenAIDialect::Vllm)
    }

    /// Whether assistant messages carry `reasoning_details` and parts `cache_control` (OpenRouter).
    pub(crate) fn is_openrouter(self) -> bool {
        self == OpenAIDialect::OpenRouter
    }

    /// Whether assistant messages carry their reasoning as a `thinking` content chunk (Mistral).
    pub(crate) fn sends_thinking_chunks(self) -> bool {
        self == OpenAIDialect::Mistral
    }
}

impl fmt::Display for OpenAIDialect {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.name())
    }
}

/// The lower-case host of a URL (`https://user@Host:443/v1` -> `host`).
fn host_of(endpoint: &str) -> Option<String> {
    let rest = endpoint.split_once("://").map_or(endpoint, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    let host = host_port.split(':').next()?;
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_hosts_select_dialects() {
        assert_eq!(OpenAIDialect::detect("mistral", "http://127.0.0.1:1/v1"), OpenAIDialect::Mistral);
        assert_eq!(OpenAIDialect::detect("ds", "https://api.deepseek.com/v1"), OpenAIDialect::DeepSeek);
        assert_eq!(
            OpenAIDialect::detect("router", "https://openrouter.ai/api/v1"),
            OpenAIDialect::OpenRouter
        );
        assert_eq!(OpenAIDialect::detect("fast", "https://api.groq.com/openai/v1"), OpenAIDialect::Groq);
        assert_eq!(OpenAIDialect::detect("c", "https://api.cerebras.ai/v1"), OpenAIDialect::Cerebras);
        assert_eq!(OpenAIDialect::detect("t", "https://API.Together.xyz/v1"), OpenAIDialect::Together);
        assert_eq!(
            OpenAIDialect::detect("f", "https://api.fireworks.ai/inference/v1"),
            OpenAIDialect::Fireworks
        );
        assert_eq!(OpenAIDialect::detect("grok", "https://example.test"), OpenAIDialect::XAi);
        assert_eq!(OpenAIDialect::detect("local", "http://gpu:8000/v1"), OpenAIDialect::Generic);
        assert_eq!(OpenAIDialect::detect("vllm", "http://gpu:8000/v1"), OpenAIDialect::Vllm);
        // A look-alike host is not the real one.
        assert_eq!(OpenAIDialect::from_host("https://notopenrouter.ai/v1"), None);
        assert_eq!(
            OpenAIDialect::from_host("https://eu.openrouter.ai:443/v1"),
            Some(OpenAIDialect::OpenRouter)
        );
        assert_eq!(OpenAIDialect::from_host("not a url"), None);
        for (dialect, name, _) in KNOWN {
            assert_eq!(OpenAIDialect::from_name(name), Some(*dialect));
            assert_eq!(dialect.name(), *name);
        }
    }
}
