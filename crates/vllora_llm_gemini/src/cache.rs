//! Explicit prompt caching: the `cachedContents` API.

use vllora_llm_core::{LLMError, LLMResult};

/// `cachedContents/{id}` from a full name or a bare id; anything that could escape the path is refused.
pub(crate) fn cache_name(name: &str) -> LLMResult<String> {
    let name = name.trim();
    let id = name.strip_prefix("cachedContents/").unwrap_or(name);
    let valid = !id.is_empty()
        && id
            .chars()
            .all(|character| character.is_ascii_alphanumeric() || matches!(character, '-' | '_' | '.'));
    if !valid || id.contains("..") {
        return Err(LLMError::InvalidRequest(format!("`{name}` is not a Gemini cached content name")));
    }
    Ok(format!("cachedContents/{id}"))
}
