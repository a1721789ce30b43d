//! A finished stream ends at once (issue 10 item 1), for every provider, through `VlloraLLMClient`: once
//! the provider's end marker (`[DONE]`, `message_stop`, Bedrock's `metadata`, Gemini's last finished
//! candidate with usage) has arrived, the caller gets `None` within milliseconds, whether the server then
//! keeps the body open with keep-alives or extra frames, or goes silent, and never an idle-timeout error
//! after a complete answer.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking
#![cfg(all(feature = "openai", feature = "anthropic", feature = "gemini", feature = "bedrock"))]

mod support;

use std::time::{Duration, Instant};

use support::Provider;
use vllora_llm::error::LLMResult;
use vllora_llm::http::{HttpConfig, Timeouts};
use vllora_llm::types::gateway::ChatCompletionChunk;
use vllora_llm_testkit::{MockResponse, MockServer};

/// What the caller got: the text, whether usage came, the error if any, and how long the stream took
/// from the first chunk to its end.
struct Outcome {
    text: String,
    usage: bool,
    error: Option<String>,
    after_first_chunk: Duration,
}

async fn read_all(provider: Provider, server: &MockServer, http: HttpConfig) -> Outcome {
    let client = provider.client(server, http);
    let stream = client.completions().create_stream(provider.request()).await;
    let Ok(mut stream) = stream else { panic!("{}: {:?}", provider.name(), stream.err()) };
    let mut chunks: Vec<LLMResult<ChatCompletionChunk>> = Vec::new();
    let mut first_chunk_at = None;
    // A stream that does not end within 20 s fails the test instead of hanging it.
    let reading = async {
        while let Some(chunk) = stream.next().await {
            first_chunk_at.get_or_insert_with(Instant::now);
            chunks.push(chunk);
        }
    };
    let finished = tokio::time::timeout(Duration::from_secs(20), reading).await;
    assert!(finished.is_ok(), "{}: the stream did not end within 20 s", provider.name());
    let after_first_chunk = first_chunk_at.map(|at| at.elapsed()).unwrap_or_default();
    let mut outcome = Outcome { text: String::new(), usage: false, error: None, after_first_chunk };
    for chunk in chunks {
        match chunk {
            Ok(chunk) => {
                outcome.usage |= chunk.usage.is_some();
                for choice in &chunk.choices {
                    outcome.text.push_str(choice.delta.content.as_deref().unwrap_or_default());
                }
            }
            Err(error) => outcome.error = Some(error.to_string()),
        }
    }
    outcome
}

fn assert_ended_at_once(provider: Provider, outcome: &Outcome, case: &str) {
    let name = provider.name();
    assert_eq!(outcome.error, None, "{name} ({case}): a complete answer ends without an error");
    assert!(!outcome.text.is_empty() && outcome.usage, "{name} ({case}): text and usage arrived");
    // The answer is delivered as soon as it is there; the end follows it within the 50 ms drain.
    assert!(
        outcome.after_first_chunk < Duration::from_secs(1),
        "{name} ({case}): ended {:?} after the first chunk",
        outcome.after_first_chunk
    );
}

#[tokio::test]
async fn a_finished_stream_ends_at_once_while_the_server_keeps_talking() {
    for provider in Provider::ALL {
        let server = MockServer::start().await;
        let mut pieces = vec![provider.stream_body()];
        // Ten seconds of keep-alives (or, for Bedrock, more frames) after the end marker.
        pieces.extend(std::iter::repeat_n(provider.keep_alive(), 200));
        let response = MockResponse::stream(200, provider.stream_content_type(), pieces)
            .delay_between_chunks(Duration::from_millis(50));
        server.respond_always("POST", &provider.path(true), response);
        let outcome = read_all(provider, &server, HttpConfig::default()).await;
        assert_ended_at_once(provider, &outcome, "keeps talking");
        // The connection the server kept busy is dropped rather than left to the pool.
        assert!(
            server.wait_for_connections_closed(1, Duration::from_secs(5)).await,
            "{}: the connection is closed",
            provider.name()
        );
    }
}

#[tokio::test]
async fn a_finished_stream_ends_at_once_when_the_server_goes_silent() {
    for provider in Provider::ALL {
        let server = MockServer::start().await;
        let body = provider.stream_body();
        let response =
            MockResponse::stream(200, provider.stream_content_type(), [body.clone()]).stall_after(body.len());
        server.respond_always("POST", &provider.path(true), response);
        // Default timeouts: before, OpenAI and Anthropic ended only after the 300 s idle timeout.
        let outcome = read_all(provider, &server, HttpConfig::default()).await;
        assert_ended_at_once(provider, &outcome, "silent, default timeouts");
        // A short idle timeout: before, Gemini and Bedrock ended with an idle-timeout error after a
        // complete answer.
        let idle = Timeouts { idle: Some(Duration::from_millis(200)), ..Timeouts::default() };
        let outcome =
            read_all(provider, &server, HttpConfig { timeouts: idle, ..HttpConfig::default() }).await;
        assert_ended_at_once(provider, &outcome, "silent, 200 ms idle timeout");
    }
}
