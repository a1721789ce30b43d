//! What the request translation needs to know about a Claude model, read from its name.
//!
//! Model names come in two orders (`claude-3-5-sonnet-20241022`, `claude-sonnet-4-5-20250929`) and may
//! carry a platform prefix or suffix (`anthropic.claude-opus-4-7`, `claude-opus-4-1@20250805`); only the
//! family and the version matter here.

/// A Claude model's generation and tier, as far as its name tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ModelFamily {
    /// `(major, minor)`, `None` for a name without a version (`claude-mythos-preview`, a local model).
    version: Option<(u32, u32)>,
    tier: Tier,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tier {
    Haiku,
    Sonnet,
    Opus,
    /// Tiers above Opus (Fable, Mythos): every one so far thinks adaptively only.
    Frontier,
    Unknown,
}

/// `max_tokens` when a request leaves it out and no family matches (a local or proxied model).
const FALLBACK_MAX_TOKENS: u32 = 4096;

impl ModelFamily {
    /// Reads the family from a model name.
    pub(crate) fn parse(model: &str) -> Self {
        let lower = model.to_ascii_lowercase();
        let Some((_, rest)) = lower.split_once("claude-") else {
            return ModelFamily { version: None, tier: Tier::Unknown };
        };
        let rest = rest.split(['@', ':']).next().unwrap_or(rest);
        let mut numbers = Vec::with_capacity(2);
        let mut tier = Tier::Unknown;
        for token in rest.split(['-', '.']) {
            match token {
                "haiku" => tier = Tier::Haiku,
                "sonnet" => tier = Tier::Sonnet,
                "opus" => tier = Tier::Opus,
                "fable" | "mythos" => tier = Tier::Frontier,
                // Dates (20250514) and Bedrock revisions (v1) are not versions.
                _ => match token.parse::<u32>() {
                    Ok(number) if number < 100 && numbers.len() < 2 => numbers.push(number),
                    _ => {}
                },
            }
        }
        let version = match numbers.as_slice() {
            [major] => Some((*major, 0)),
            [major, minor] => Some((*major, *minor)),
            _ => None,
        };
        ModelFamily { version, tier }
    }

    fn at_least(&self, major: u32, minor: u32) -> bool {
        self.version.is_some_and(|version| version >= (major, minor))
    }

    /// Models that reject `temperature`, `top_p` and `top_k` on every API version: Opus 4.7 and later,
    /// and every generation-5 model or newer, and the Fable and Mythos tiers.
    pub(crate) fn rejects_sampling_parameters(&self) -> bool {
        self.at_least(5, 0) || self.tier == Tier::Frontier || (self.tier == Tier::Opus && self.at_least(4, 7))
    }

    /// Models that accept only `thinking: {"type": "adaptive"}` (the same set: a fixed
    /// `budget_tokens` and `disabled` are rejected with a 400).
    pub(crate) fn adaptive_thinking_only(&self) -> bool {
        self.rejects_sampling_parameters()
    }

    /// Models that accept adaptive thinking and the `output_config.effort` parameter (4.6 and later).
    pub(crate) fn supports_effort(&self) -> bool {
        self.at_least(4, 6) || self.tier == Tier::Frontier
    }

    /// How this model takes a JSON schema for its answer.
    pub(crate) fn structured_output(&self) -> StructuredOutput {
        match (self.tier, self.version) {
            // Not a Claude name we know: assume the current API.
            (Tier::Unknown, None) => StructuredOutput::OutputConfig,
            (Tier::Opus, Some((4, 1))) => StructuredOutput::BetaOutputFormat,
            (Tier::Frontier, _) => StructuredOutput::OutputConfig,
            _ if self.at_least(4, 5) => StructuredOutput::OutputConfig,
            _ => StructuredOutput::Unsupported,
        }
    }

    /// The most the model can write in one answer, when its family is known.
    pub(crate) fn max_output_tokens(&self) -> Option<u32> {
        let (major, minor) = self.version?;
        Some(match (major, minor, self.tier) {
            (3, 0, _) => 4_096,
            (3, 5, _) => 8_192,
            (3, _, _) => 64_000,
            (4, 0 | 1, Tier::Opus) => 32_000,
            (4, 0..=5, _) => 64_000,
            (4, _, Tier::Haiku) => 64_000,
            _ => 128_000,
        })
    }

    /// `max_tokens` for a request that does not say (Anthropic requires it).
    ///
    /// | family | default |
    /// |---|---|
    /// | Claude 3 (Haiku, Sonnet, Opus) | 4,096 (their maximum) |
    /// | Claude 3.5 | 8,192 (their maximum) |
    /// | Claude 3.7 and Claude 4 to 4.5 | 16,384 |
    /// | Claude 4.6 and later, Fable, Mythos | 32,000 |
    /// | any other model name | 4,096 |
    ///
    /// Generous enough for thinking and long answers, yet well under the maximum, since Anthropic
    /// reserves output-token rate limit from `max_tokens` when a request starts.
    pub(crate) fn default_max_tokens(&self) -> u32 {
        if self.tier == Tier::Frontier && self.version.is_none() {
            return 32_000;
        }
        match self.version {
            None => FALLBACK_MAX_TOKENS,
            Some((3, 0)) => 4_096,
            Some((3, 5)) => 8_192,
            Some(version) if version >= (4, 6) => 32_000,
            Some(_) => 16_384,
        }
    }
}

/// How a model takes a JSON schema for its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StructuredOutput {
    /// `output_config.format` (generally available, no beta header).
    OutputConfig,
    /// `output_format` with the `structured-outputs-2025-11-13` beta (Opus 4.1, which never got the GA form).
    BetaOutputFormat,
    /// No native structured output.
    Unsupported,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_in_both_orders_and_with_platform_decorations() {
        let cases = [
            ("claude-3-haiku-20240307", Some((3, 0))),
            ("claude-3-5-sonnet-20241022", Some((3, 5))),
            ("claude-3-7-sonnet-latest", Some((3, 7))),
            ("claude-sonnet-4-20250514", Some((4, 0))),
            ("claude-opus-4-1@20250805", Some((4, 1))),
            ("anthropic.claude-opus-4-7", Some((4, 7))),
            ("us.anthropic.claude-sonnet-4-5-20250929-v1:0", Some((4, 5))),
            ("claude-sonnet-5", Some((5, 0))),
            ("claude-haiku-5-5", Some((5, 5))),
            ("claude-mythos-preview", None),
            ("gemma-3-270m", None),
        ];
        for (name, version) in cases {
            assert_eq!(ModelFamily::parse(name).version, version, "{name}");
        }
    }

    #[test]
    fn sampling_parameters_are_rejected_from_opus_4_7_and_generation_5() {
        for name in [
            "claude-opus-4-7",
            "claude-opus-4-8",
            "claude-sonnet-5",
            "claude-fable-5",
            "claude-mythos-preview",
        ] {
            assert!(ModelFamily::parse(name).rejects_sampling_parameters(), "{name}");
            assert!(ModelFamily::parse(name).adaptive_thinking_only(), "{name}");
        }
        for name in
            ["claude-sonnet-4-6", "claude-opus-4-6", "claude-haiku-4-5", "claude-3-5-haiku-latest", "gemma"]
        {
            assert!(!ModelFamily::parse(name).rejects_sampling_parameters(), "{name}");
        }
    }

    #[test]
    fn defaults_and_maximums() {
        let family = |name| ModelFamily::parse(name);
        assert_eq!(family("claude-3-opus-20240229").default_max_tokens(), 4_096);
        assert_eq!(family("claude-3-5-haiku-latest").default_max_tokens(), 8_192);
        assert_eq!(family("claude-sonnet-4-5").default_max_tokens(), 16_384);
        assert_eq!(family("claude-opus-4-7").default_max_tokens(), 32_000);
        assert_eq!(family("local-model").default_max_tokens(), 4_096);
        assert_eq!(family("claude-opus-4-1").max_output_tokens(), Some(32_000));
        assert_eq!(family("claude-haiku-4-5").max_output_tokens(), Some(64_000));
        assert_eq!(family("claude-opus-5").max_output_tokens(), Some(128_000));
        assert_eq!(family("claude-opus-4-1").structured_output(), StructuredOutput::BetaOutputFormat);
        assert_eq!(family("claude-sonnet-4-5").structured_output(), StructuredOutput::OutputConfig);
        assert_eq!(family("claude-3-7-sonnet").structured_output(), StructuredOutput::Unsupported);
    }
}
