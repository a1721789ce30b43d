//! Fuzzes the chat completions stream: arbitrary bytes as its SSE body, whole and in pieces, through the
//! shipped stream driver (`vllora_llm_http::decode_pieces`) with the SSE framing and OpenAI's stream
//! decoder (see `vllora_llm_openai::decode_stream`).

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| vllora_llm_openai::decode_stream(data));
