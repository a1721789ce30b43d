//! Warnings: parameters a provider cannot honour, and other changes made to a request on its way out.

use std::fmt;

use crate::error::{LLMError, LLMResult};

/// Something the provider could not do as asked. Never silent: each one is also a `tracing` warn event.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Warning {
    /// The provider has no equivalent of this parameter; it was not sent.
    UnsupportedParameter {
        /// The gateway parameter (`logit_bias`, `provider_specific.top_k`...).
        parameter: String,
        /// Why, when more than "not supported" is worth saying.
        detail: Option<String>,
    },
    /// The parameter was sent in another form or with another value.
    ParameterAdjusted {
        /// The gateway parameter.
        parameter: String,
        /// What was done.
        detail: String,
    },
    /// Anything else worth knowing.
    Other {
        /// The message.
        message: String,
    },
}

impl Warning {
    /// An unsupported parameter.
    pub fn unsupported(parameter: impl Into<String>) -> Self {
        Warning::UnsupportedParameter { parameter: parameter.into(), detail: None }
    }

    /// An unsupported parameter, with the reason.
    pub fn unsupported_because(parameter: impl Into<String>, detail: impl Into<String>) -> Self {
        Warning::UnsupportedParameter { parameter: parameter.into(), detail: Some(detail.into()) }
    }

    /// A parameter sent in another form.
    pub fn adjusted(parameter: impl Into<String>, detail: impl Into<String>) -> Self {
        Warning::ParameterAdjusted { parameter: parameter.into(), detail: detail.into() }
    }

    /// The parameter the warning is about.
    pub fn parameter(&self) -> Option<&str> {
        match self {
            Warning::UnsupportedParameter { parameter, .. }
            | Warning::ParameterAdjusted { parameter, .. } => Some(parameter),
            Warning::Other { .. } => None,
        }
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::UnsupportedParameter { parameter, detail: None } => {
                write!(formatter, "`{parameter}` is not supported by this provider and was not sent")
            }
            Warning::UnsupportedParameter { parameter, detail: Some(detail) } => {
                write!(formatter, "`{parameter}` was not sent: {detail}")
            }
            Warning::ParameterAdjusted { parameter, detail } => write!(formatter, "`{parameter}`: {detail}"),
            Warning::Other { message } => formatter.write_str(message),
        }
    }
}

/// Collects the warnings of one request translation and emits each as a `tracing` warn event.
#[derive(Debug, Default)]
pub struct Warnings {
    provider: &'static str,
    collected: Vec<Warning>,
}

impl Warnings {
    /// An empty collection for `provider`.
    pub fn new(provider: &'static str) -> Self {
        Warnings { provider, collected: Vec::new() }
    }

    /// Records a warning.
    pub fn push(&mut self, warning: Warning) {
        tracing::warn!(provider = self.provider, parameter = warning.parameter(), "{warning}");
        self.collected.push(warning);
    }

    /// Records that `parameter` is unsupported when `present` is true.
    pub fn unsupported_if(&mut self, present: bool, parameter: &str) {
        if present {
            self.push(Warning::unsupported(parameter));
        }
    }

    /// The warnings so far.
    pub fn as_slice(&self) -> &[Warning] {
        &self.collected
    }

    /// The warnings, or in strict mode an [`LLMError::Unsupported`] error when there is any.
    pub fn finish(self, strict: bool) -> LLMResult<Vec<Warning>> {
        if strict && !self.collected.is_empty() {
            return Err(LLMError::Unsupported(self.collected));
        }
        Ok(self.collected)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_mode_turns_warnings_into_an_error() {
        let mut warnings = Warnings::new("anthropic");
        warnings.unsupported_if(true, "logit_bias");
        warnings.unsupported_if(false, "seed");
        let error = warnings.finish(true).err().map(|error| error.to_string());
        assert_eq!(
            error.as_deref(),
            Some(
                "unsupported parameters in strict mode: `logit_bias` is not supported by this provider and was not sent"
            )
        );
    }

    #[test]
    fn lenient_mode_returns_the_warnings() {
        let mut warnings = Warnings::new("gemini");
        warnings.push(Warning::adjusted("max_tokens", "sent as maxOutputTokens"));
        let kept = warnings.finish(false).unwrap_or_default();
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].parameter(), Some("max_tokens"));
    }
}
