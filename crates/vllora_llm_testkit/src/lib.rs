//! Loopback test servers for `vllora_llm`: scripted HTTP/1.1 responses, request capture, fault injection.
//!
//! [`MockServer`] listens on `127.0.0.1` on an ephemeral port and answers each request with the
//! [`MockResponse`] scripted for its method and path. Every request it receives is kept as a
//! [`RecordedRequest`], so a test can assert on the exact bytes a provider would have seen. Responses
//! can be cut into chosen pieces ([`Chunking`]), delayed, stalled or reset mid-body, or replaced by raw
//! bytes, which is how the transport's timeouts, retries and limits are tested.
//!
//! [`record_conformance`] appends request bodies built by tests to `target/conformance/<kind>.jsonl`,
//! where `cargo xtask conformance` validates them against each provider's published schema, and
//! [`split_points`] gives the chunk boundaries stream decoders are replayed with.
//!
//! This crate is for tests only (`publish = false`): it panics when its own setup fails (no port to bind,
//! no directory to write), because a test that cannot run must say so loudly.

mod conformance;
mod fuzz;
mod golden;
mod request;
mod response;
mod server;
mod split;
mod tracing_interest;

pub use conformance::record_conformance;
pub use fuzz::{Corruption, fixture_bodies, fuzz_over_fixtures};
pub use golden::{GoldenCase, golden, golden_cases};
pub use request::RecordedRequest;
pub use response::{Chunking, MockResponse};
pub use server::MockServer;
pub use split::{split_at, split_points};
pub use tracing_interest::open_tracing_interest;
