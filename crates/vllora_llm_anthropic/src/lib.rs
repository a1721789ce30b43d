//! The anthropic provider of vllora_llm (being written).
