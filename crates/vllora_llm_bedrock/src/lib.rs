//! The bedrock provider of vllora_llm (being written).
