//! The gemini provider of vllora_llm (being written).
