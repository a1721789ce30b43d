//! vllora_llm facade (being written).
