//! Fuzzes the chat completions stream: arbitrary bytes as its SSE body, whole and in pieces, through the
//! SSE decoder and the stream state machine (see `vllora_llm_openai::decode_stream`).

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| vllora_llm_openai::decode_stream(data));
