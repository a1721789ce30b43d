//! Examples of vllora_llm.
