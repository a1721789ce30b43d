//! Fuzzes the Messages stream: arbitrary bytes as its SSE body, whole and in pieces, through the shipped
//! stream driver, SSE framing and stream decoder (see `vllora_llm_anthropic::decode_stream`).

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| vllora_llm_anthropic::decode_stream(data));
