//! The one-shot response, its finish reason, and the result type the client returns.

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use super::message::ChatCompletionMessage;
use super::usage::Usage;
use crate::warning::Warning;

/// Why the model stopped.
///
/// A reason other than `stop` is a result, not an error: `Length` keeps the text generated so far.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FinishReason {
    /// A natural end or a stop sequence.
    Stop,
    /// The token limit was reached.
    Length,
    /// The model called tools.
    ToolCalls,
    /// Output was withheld by a content filter or a refusal.
    ContentFilter,
    /// The model called a legacy function.
    FunctionCall,
    /// A provider reason with no OpenAI equivalent, kept as the provider wrote it.
    Other(String),
}

impl FinishReason {
    /// The reason as it appears in OpenAI JSON.
    pub fn as_str(&self) -> &str {
        match self {
            FinishReason::Stop => "stop",
            FinishReason::Length => "length",
            FinishReason::ToolCalls => "tool_calls",
            FinishReason::ContentFilter => "content_filter",
            FinishReason::FunctionCall => "function_call",
            FinishReason::Other(other) => other,
        }
    }

    /// Parses OpenAI's spelling; anything else becomes [`FinishReason::Other`].
    pub fn parse(value: &str) -> Self {
        match value {
            "stop" => FinishReason::Stop,
            "length" => FinishReason::Length,
            "tool_calls" => FinishReason::ToolCalls,
            "content_filter" => FinishReason::ContentFilter,
            "function_call" => FinishReason::FunctionCall,
            other => FinishReason::Other(other.to_owned()),
        }
    }
}

impl fmt::Display for FinishReason {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

impl Serialize for FinishReason {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for FinishReason {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Cow::<'de, str>::deserialize(deserializer)?;
        Ok(FinishReason::parse(&value))
    }
}

/// The log probability of one token and its most likely alternatives.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TokenLogprob {
    /// The token.
    pub token: String,
    /// Its log probability.
    pub logprob: f64,
    /// Its UTF-8 bytes.
    #[serde(default)]
    pub bytes: Option<Vec<u8>>,
    /// The most likely tokens at this position.
    #[serde(default)]
    pub top_logprobs: Vec<TopLogprob>,
}

/// One of the most likely tokens at a position.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TopLogprob {
    /// The token.
    pub token: String,
    /// Its log probability.
    pub logprob: f64,
    /// Its UTF-8 bytes.
    #[serde(default)]
    pub bytes: Option<Vec<u8>>,
}

/// Log probabilities of a choice.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ChoiceLogprobs {
    /// Of the content tokens.
    #[serde(default)]
    pub content: Option<Vec<TokenLogprob>>,
    /// Of the refusal tokens.
    #[serde(default)]
    pub refusal: Option<Vec<TokenLogprob>>,
}

/// One generated answer.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Choice {
    /// Its position among the choices.
    #[serde(default)]
    pub index: u32,
    /// The assistant message.
    pub message: ChatCompletionMessage,
    /// Why generation stopped.
    #[serde(default)]
    pub finish_reason: Option<FinishReason>,
    /// Token log probabilities, when asked for.
    #[serde(default)]
    pub logprobs: Option<ChoiceLogprobs>,
}

/// A one-shot chat completion in OpenAI's shape.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ChatCompletionResponse {
    /// The provider's id for the completion.
    #[serde(default)]
    pub id: String,
    /// Always `chat.completion`.
    #[serde(default = "completion_object")]
    pub object: String,
    /// Unix time of creation.
    #[serde(default)]
    pub created: u64,
    /// The model that answered, as the provider names it.
    #[serde(default)]
    pub model: String,
    /// The answers.
    #[serde(default)]
    pub choices: Vec<Choice>,
    /// Token usage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    /// Backend configuration fingerprint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_fingerprint: Option<String>,
    /// The tier that served the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_tier: Option<String>,
}

fn completion_object() -> String {
    "chat.completion".to_owned()
}

/// What `CompletionsClient::create` returns: the response, with quick access to its first choice, and the
/// warnings about parameters the provider could not honour.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ChatCompletionMessageWithFinishReason {
    /// The whole response.
    pub response: ChatCompletionResponse,
    /// Parameters the provider could not honour, and other adjustments made to the request.
    pub warnings: Vec<Warning>,
    /// The provider's own stop reason for the first choice (`end_turn`, `MAX_TOKENS`...), when it has one.
    pub raw_finish_reason: Option<String>,
    /// The provider's untranslated response, for fields the gateway types have no place for.
    pub provider_metadata: Option<Value>,
    /// What the HTTP response said besides its body: status, the provider's request id, rate limits.
    /// `None` for a result no HTTP call made (a custom or dummy model instance).
    pub response_metadata: Option<crate::metadata::ResponseMetadata>,
}

impl ChatCompletionMessageWithFinishReason {
    /// Wraps a response with no warnings.
    pub fn new(response: ChatCompletionResponse) -> Self {
        ChatCompletionMessageWithFinishReason { response, ..Default::default() }
    }

    /// The first choice's message (an empty assistant message if there is no choice, as when a prompt was
    /// blocked).
    pub fn message(&self) -> &ChatCompletionMessage {
        static EMPTY: std::sync::OnceLock<ChatCompletionMessage> = std::sync::OnceLock::new();
        match self.response.choices.first() {
            Some(choice) => &choice.message,
            None => EMPTY.get_or_init(|| ChatCompletionMessage {
                role: super::message::Role::Assistant,
                ..Default::default()
            }),
        }
    }

    /// Why the first choice stopped.
    pub fn finish_reason(&self) -> Option<&FinishReason> {
        self.response.choices.first().and_then(|choice| choice.finish_reason.as_ref())
    }

    /// Every choice (more than one when `n > 1`).
    pub fn choices(&self) -> &[super::response::Choice] {
        &self.response.choices
    }

    /// Token usage.
    pub fn usage(&self) -> Option<&Usage> {
        self.response.usage.as_ref()
    }

    /// The provider's id for the completion.
    pub fn id(&self) -> &str {
        &self.response.id
    }

    /// The model that answered.
    pub fn model(&self) -> &str {
        &self.response.model
    }

    /// Parameters the provider could not honour.
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }

    /// The HTTP status, the provider's request id and rate limits of the response, when an HTTP call
    /// made it.
    pub fn response_metadata(&self) -> Option<&crate::metadata::ResponseMetadata> {
        self.response_metadata.as_ref()
    }
}
