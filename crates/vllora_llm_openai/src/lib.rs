//! The openai provider of vllora_llm (being written).
