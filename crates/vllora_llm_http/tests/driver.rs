//! The one stream driver, with a minimal decoder, over real bodies: from memory (`decode_pieces`) and from
//! a loopback server that keeps the connection open, stalls or cuts it.
#![allow(clippy::panic, reason = "a test fails by panicking")]

mod common;

use std::time::{Duration, Instant};

use common::{client, mock_errors, no_retries};
use vllora_llm_core::types::gateway::{ChatCompletionChunk, ChatCompletionDelta, ChunkChoice, FinishReason};
use vllora_llm_core::{LLMError, LLMResult, Limit};
use vllora_llm_http::{
    ChunkStream, Chunks, EndOfBody, HttpRequest, SseDecoder, SseEventRef, StreamDecoder, decode_pieces,
};
use vllora_llm_testkit::{MockResponse, MockServer, split_points};

/// `data: <text>` is a piece of the answer, `data: stop` finishes it, `data: end` is the end marker,
/// `data: fail` an error event.
#[derive(Debug, Default)]
struct TextDecoder {
    finished: bool,
    complete: bool,
}

impl StreamDecoder for TextDecoder {
    type Framing = SseDecoder;
    type Item = ChatCompletionChunk;

    fn provider(&self) -> &str {
        "test"
    }

    fn on_event(&mut self, event: SseEventRef<'_>, out: &mut Chunks) -> LLMResult<()> {
        let (content, finish_reason) = match event.data {
            "end" => {
                self.complete = true;
                return Ok(());
            }
            "fail" => return Err(LLMError::decode("test", "an error event")),
            "stop" => {
                self.finished = true;
                (None, Some(FinishReason::Stop))
            }
            text => (Some(text.to_owned()), None),
        };
        let delta = ChatCompletionDelta { content, ..Default::default() };
        let raw_finish_reason = finish_reason.as_ref().map(|_| "end_turn".into());
        let choice = ChunkChoice { delta, finish_reason, raw_finish_reason, ..Default::default() };
        out.push_back(ChatCompletionChunk { choices: vec![choice], ..Default::default() });
        Ok(())
    }

    fn is_complete(&self) -> bool {
        self.complete
    }

    fn on_end(&mut self, _out: &mut Chunks) -> LLMResult<EndOfBody> {
        Ok(if self.finished { EndOfBody::Complete } else { EndOfBody::Truncated })
    }
}

fn texts(chunks: &[ChatCompletionChunk]) -> Vec<String> {
    chunks.iter().flat_map(|chunk| &chunk.choices).filter_map(|choice| choice.delta.content.clone()).collect()
}

fn decode(body: &[u8], max_event_size: usize) -> (Vec<ChatCompletionChunk>, Option<LLMError>) {
    decode_pieces(SseDecoder::new(max_event_size), TextDecoder::default(), [body])
}

#[test]
fn every_chunking_gives_the_same_chunks_and_nothing_after_the_end_marker_is_read() {
    let body = b"data: Hel\n\ndata: lo\r\n\r\n: keep-alive\n\ndata: stop\n\ndata: end\n\ndata: after\n\n";
    let (whole, error) = decode(body, 1024);
    assert!(error.is_none(), "{error:?}");
    assert_eq!(texts(&whole), ["Hel", "lo"]);
    let last = whole.last().and_then(|chunk| chunk.choices.first());
    assert_eq!(last.and_then(|choice| choice.finish_reason.clone()), Some(FinishReason::Stop));
    assert_eq!(
        last.and_then(|choice| choice.raw_finish_reason.as_deref().map(str::to_owned)).as_deref(),
        Some("end_turn")
    );
    for points in split_points(body.len()) {
        let mut pieces = Vec::new();
        let mut start = 0;
        for point in points.iter().copied().chain([body.len()]) {
            pieces.push(&body[start..point]);
            start = point;
        }
        let (chunks, error) = decode_pieces(SseDecoder::new(1024), TextDecoder::default(), pieces);
        assert!(error.is_none(), "{error:?}");
        assert_eq!(chunks, whole, "split at {points:?}");
    }
}

#[test]
fn a_body_cut_before_the_answer_ends_is_the_one_connection_error() {
    let (chunks, error) = decode(b"data: Hel\n\ndata: lo\n\n", 1024);
    assert_eq!(texts(&chunks), ["Hel", "lo"], "what arrived is delivered first");
    match error {
        Some(LLMError::Connection { message }) => {
            assert_eq!(message, "the test stream ended before the model finished its answer");
        }
        other => panic!("expected a connection error, got {other:?}"),
    }
    // Finished but without the end marker: complete, not an error.
    let (chunks, error) = decode(b"data: Hi\n\ndata: stop\n\n", 1024);
    assert!(error.is_none(), "{error:?}");
    assert_eq!(chunks.len(), 2);
}

#[test]
fn errors_come_after_the_chunks_before_them_and_end_the_stream() {
    let (chunks, error) = decode(b"data: a\n\ndata: fail\n\ndata: b\n\n", 1024);
    assert_eq!(texts(&chunks), ["a"]);
    assert!(matches!(error, Some(LLMError::Decode { .. })), "{error:?}");
    // An oversize event: the events completed in the same read come first.
    let (chunks, error) = decode(b"data: a\n\ndata: 0123456789012345678901234567890123456789\n\n", 24);
    assert_eq!(texts(&chunks), ["a"]);
    assert!(matches!(error, Some(LLMError::LimitExceeded { limit: Limit::Event, .. })), "{error:?}");
    // The same oversize event after the end marker does not undo the answer, in one read or in pieces.
    let body = b"data: a\n\ndata: stop\n\ndata: end\n\ndata: 0123456789012345678901234567890123456789\n\n";
    let (whole, error) = decode(body, 24);
    assert!(error.is_none(), "{error:?}");
    let (pieces, error) = decode_pieces(SseDecoder::new(24), TextDecoder::default(), body.chunks(5));
    assert!(error.is_none(), "{error:?}");
    assert_eq!(whole, pieces);
}

async fn stream_from(server: &MockServer) -> ChunkStream<TextDecoder> {
    stream_with(&client(no_retries()), server).await
}

async fn stream_with(http: &vllora_llm_http::HttpClient, server: &MockServer) -> ChunkStream<TextDecoder> {
    let request = HttpRequest::post_json(format!("{}/stream", server.url()), "{}");
    let Ok(reply) = http.send_streaming(request, &*mock_errors()).await else { panic!("2xx") };
    ChunkStream::new(reply.body, SseDecoder::new(1024), TextDecoder::default())
}

async fn collect(stream: &mut ChunkStream<TextDecoder>) -> (Vec<ChatCompletionChunk>, Option<LLMError>) {
    let mut chunks = Vec::new();
    while let Some(item) = std::future::poll_fn(|context| {
        futures_core::Stream::poll_next(std::pin::Pin::new(&mut *stream), context)
    })
    .await
    {
        match item {
            Ok(chunk) => chunks.push(chunk),
            Err(error) => return (chunks, Some(error)),
        }
    }
    (chunks, None)
}

#[tokio::test]
async fn a_complete_answer_ends_at_once_while_the_server_keeps_talking_and_the_body_open() {
    let server = MockServer::start().await;
    let events = ["data: Hi\n\n", "data: stop\n\n", "data: end\n\n", ": keep-alive\n\n", "data: more\n\n"];
    let length: usize = events.iter().map(|event| event.len()).sum();
    server.respond(
        "POST",
        "/stream",
        MockResponse::sse(events).delay_between_chunks(Duration::from_millis(300)).stall_after(length),
    );
    let mut stream = stream_from(&server).await;
    let started = Instant::now();
    let (chunks, error) = collect(&mut stream).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(texts(&chunks), ["Hi"]);
    // Three events at 300 ms apart reach the end marker; the comment and event after it are not awaited.
    assert!(started.elapsed() < Duration::from_millis(1500), "took {:?}", started.elapsed());
}

#[tokio::test]
async fn a_finished_stream_that_ends_its_body_leaves_the_connection_for_the_next_call() {
    let server = MockServer::start().await;
    server.respond_always("POST", "/stream", MockResponse::sse(["data: Hi\n\ndata: stop\n\ndata: end\n\n"]));
    let http = client(no_retries());
    for _ in 0..3 {
        let mut stream = stream_with(&http, &server).await;
        let (chunks, error) = collect(&mut stream).await;
        assert!(error.is_none(), "{error:?}");
        assert_eq!(texts(&chunks), ["Hi"]);
    }
    assert_eq!(server.requests().len(), 3);
    assert_eq!(server.connections_opened(), 1, "later streams reuse the first one's connection");
}

#[tokio::test]
async fn a_reset_mid_answer_is_an_error_after_what_arrived() {
    let server = MockServer::start().await;
    let events = ["data: Hi\n\n", "data: there\n\n"];
    server.respond("POST", "/stream", MockResponse::sse(events).reset_after(events[0].len()));
    let mut stream = stream_from(&server).await;
    let (chunks, error) = collect(&mut stream).await;
    assert_eq!(texts(&chunks), ["Hi"]);
    assert!(matches!(error, Some(LLMError::Connection { .. })), "{error:?}");
}
