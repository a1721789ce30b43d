//! Token usage.

use serde::{Deserialize, Serialize};

/// Token counts of one call, in OpenAI's shape.
///
/// `prompt_tokens` counts every input token, cached ones included, so that `prompt_tokens +
/// completion_tokens == total_tokens` on every provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Usage {
    /// Input tokens, cache reads and writes included.
    #[serde(default)]
    pub prompt_tokens: u32,
    /// Output tokens, reasoning included.
    #[serde(default)]
    pub completion_tokens: u32,
    /// The sum of both.
    #[serde(default)]
    pub total_tokens: u32,
    /// Breakdown of the input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_tokens_details: Option<PromptTokensDetails>,
    /// Breakdown of the output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_tokens_details: Option<CompletionTokensDetails>,
    /// Server-side tools the provider ran and bills apart (extension: Anthropic's `server_tool_use`,
    /// Gemini's tool-use prompt tokens).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_tool_use: Option<ServerToolUsage>,
}

impl Usage {
    /// Usage from input and output counts, with the total filled in.
    pub fn new(prompt_tokens: u32, completion_tokens: u32) -> Self {
        Usage {
            prompt_tokens,
            completion_tokens,
            total_tokens: prompt_tokens.saturating_add(completion_tokens),
            ..Default::default()
        }
    }

    /// Input tokens read from the provider's prompt cache.
    pub fn cached_tokens(&self) -> u32 {
        self.prompt_tokens_details.and_then(|details| details.cached_tokens).unwrap_or(0)
    }

    /// Input tokens written to the provider's prompt cache.
    pub fn cache_creation_tokens(&self) -> u32 {
        self.prompt_tokens_details.and_then(|details| details.cache_creation_tokens).unwrap_or(0)
    }

    /// Output tokens spent on reasoning.
    pub fn reasoning_tokens(&self) -> u32 {
        self.completion_tokens_details.and_then(|details| details.reasoning_tokens).unwrap_or(0)
    }
}

/// Breakdown of input tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PromptTokensDetails {
    /// Read from the prompt cache.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cached_tokens: Option<u32>,
    /// Audio input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio_tokens: Option<u32>,
    /// Written to the prompt cache (extension: Anthropic, Bedrock).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_creation_tokens: Option<u32>,
}

/// Breakdown of output tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CompletionTokensDetails {
    /// Spent on reasoning.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_tokens: Option<u32>,
    /// Audio output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio_tokens: Option<u32>,
    /// Predicted tokens that appeared in the output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepted_prediction_tokens: Option<u32>,
    /// Predicted tokens that did not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejected_prediction_tokens: Option<u32>,
}

/// Server-side tool use in one call (extension).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ServerToolUsage {
    /// Web searches run (Anthropic `web_search_requests`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub web_search_requests: Option<u32>,
    /// Pages fetched (Anthropic `web_fetch_requests`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub web_fetch_requests: Option<u32>,
    /// Code executions run (counted from the response's code-execution results where the provider reports
    /// no count).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_execution_requests: Option<u32>,
    /// Prompt tokens spent on tool results the provider fed back to itself (Gemini
    /// `toolUsePromptTokenCount`); also counted in `prompt_tokens`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_use_prompt_tokens: Option<u32>,
}
