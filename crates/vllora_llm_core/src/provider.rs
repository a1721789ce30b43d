//! [`ProviderId`]: the one spelling of a provider's identity, used by errors, telemetry and routing.

use std::borrow::Cow;
use std::fmt;

/// A provider's identity: the name its errors carry (`LLMError::provider()`), its telemetry spans carry
/// (`gen_ai.provider.name`, the OpenTelemetry GenAI spelling) and routing resolves to. One value per
/// provider, whichever of these asks.
///
/// OpenAI-compatible proxies are named by their configured name ([`ProviderId::proxy`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProviderId(Cow<'static, str>);

impl ProviderId {
    /// OpenAI.
    pub const OPENAI: ProviderId = ProviderId(Cow::Borrowed("openai"));
    /// Azure OpenAI.
    pub const AZURE_OPENAI: ProviderId = ProviderId(Cow::Borrowed("azure.ai.openai"));
    /// Anthropic.
    pub const ANTHROPIC: ProviderId = ProviderId(Cow::Borrowed("anthropic"));
    /// Google Gemini (AI Studio).
    pub const GEMINI: ProviderId = ProviderId(Cow::Borrowed("gcp.gemini"));
    /// Google Vertex AI (Gemini and Claude models in a Google Cloud project).
    pub const VERTEX_AI: ProviderId = ProviderId(Cow::Borrowed("gcp.vertex_ai"));
    /// AWS Bedrock.
    pub const BEDROCK: ProviderId = ProviderId(Cow::Borrowed("aws.bedrock"));

    /// An OpenAI-compatible server configured under `name`.
    pub fn proxy(name: impl Into<String>) -> ProviderId {
        ProviderId(Cow::Owned(name.into()))
    }

    /// The name, as errors and spans spell it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ProviderId {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

impl AsRef<str> for ProviderId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl From<ProviderId> for String {
    fn from(id: ProviderId) -> String {
        id.0.into_owned()
    }
}

impl From<&ProviderId> for String {
    fn from(id: &ProviderId) -> String {
        id.0.as_ref().to_owned()
    }
}

impl PartialEq<str> for ProviderId {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for ProviderId {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

/// Serialised as its name (`"anthropic"`, `"gcp.gemini"`...).
impl serde::Serialize for ProviderId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

/// Read from its name; the built-in providers come back as their constants (no allocation kept).
impl<'de> serde::Deserialize<'de> for ProviderId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = Cow::<'de, str>::deserialize(deserializer)?;
        Ok([
            ProviderId::OPENAI,
            ProviderId::AZURE_OPENAI,
            ProviderId::ANTHROPIC,
            ProviderId::GEMINI,
            ProviderId::BEDROCK,
        ]
        .into_iter()
        .find(|known| known.as_str() == name)
        .unwrap_or_else(|| ProviderId(Cow::Owned(name.into_owned()))))
    }
}
