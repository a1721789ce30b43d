//! Fuzzes the ConverseStream body decoder: event-stream frames, their headers and CRCs, and the events
//! they carry, whole and in pieces (see `vllora_llm_bedrock::decode_event_stream`).

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| vllora_llm_bedrock::decode_event_stream(data));
