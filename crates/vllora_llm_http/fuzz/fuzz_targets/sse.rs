//! Fuzzes the server-sent events decoder: arbitrary bytes, whole and in pieces, under small and large
//! event size limits (see `vllora_llm_http::decode_sse`).

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| vllora_llm_http::decode_sse(data));
