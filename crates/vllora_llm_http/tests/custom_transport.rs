//! `HttpClient` around an injected `HttpTransport`: the retry policy and timeouts apply to any transport,
//! and a body that never pauses still meets the total deadline.
#![allow(clippy::panic, reason = "a test fails by panicking")]

mod common;

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{mock_errors, quick_retries};
use futures_core::Stream;
use vllora_llm_core::{BoxFuture, LLMError, LLMResult, TimeoutPhase};
use vllora_llm_http::{
    Bytes, HeaderMap, HttpClient, HttpConfig, HttpRequest, HttpResponse, HttpTransport, StatusCode, Timeouts,
};

type Outcome = Box<dyn FnOnce() -> LLMResult<HttpResponse> + Send>;

/// Answers each send with the next scripted outcome; with none left, never answers.
#[derive(Default)]
struct ScriptedTransport {
    outcomes: Mutex<VecDeque<Outcome>>,
    sends: AtomicUsize,
    urls: Mutex<Vec<String>>,
}

impl std::fmt::Debug for ScriptedTransport {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("ScriptedTransport")
    }
}

impl HttpTransport for ScriptedTransport {
    fn send(&self, request: HttpRequest) -> BoxFuture<'static, LLMResult<HttpResponse>> {
        self.sends.fetch_add(1, Ordering::SeqCst);
        if let Ok(mut urls) = self.urls.lock() {
            urls.push(request.url);
        }
        let next = self.outcomes.lock().ok().and_then(|mut outcomes| outcomes.pop_front());
        match next {
            Some(outcome) => Box::pin(async move { outcome() }),
            None => Box::pin(std::future::pending()),
        }
    }
}

/// A body that is always ready with another piece.
struct Endless;

impl Stream for Endless {
    type Item = LLMResult<Bytes>;

    fn poll_next(
        self: std::pin::Pin<&mut Self>,
        _context: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        std::task::Poll::Ready(Some(Ok(Bytes::from_static(b"data: x\n\n"))))
    }
}

fn response(status: u16, body: &'static [u8]) -> Outcome {
    Box::new(move || {
        let Ok(status) = StatusCode::from_u16(status) else { panic!("status") };
        let body = single_piece(Bytes::from_static(body));
        Ok(HttpResponse { status, headers: HeaderMap::new(), body })
    })
}

fn single_piece(bytes: Bytes) -> vllora_llm_http::BodyStream {
    struct Once(Option<Bytes>);
    impl Stream for Once {
        type Item = LLMResult<Bytes>;
        fn poll_next(
            self: std::pin::Pin<&mut Self>,
            _context: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Self::Item>> {
            std::task::Poll::Ready(self.get_mut().0.take().map(Ok))
        }
    }
    Box::pin(Once(Some(bytes)))
}

fn scripted(outcomes: Vec<Outcome>) -> Arc<ScriptedTransport> {
    Arc::new(ScriptedTransport { outcomes: Mutex::new(outcomes.into()), ..ScriptedTransport::default() })
}

#[tokio::test]
async fn failed_connects_are_retried_on_any_transport_and_broken_connections_are_not() {
    let refused: Outcome = Box::new(|| Err(LLMError::ConnectFailed { message: "refused".into() }));
    let transport = scripted(vec![refused, response(200, b"{}")]);
    let http = HttpClient::with_transport(
        transport.clone(),
        HttpConfig { retry: quick_retries(3), ..HttpConfig::default() },
    );
    let reply = http.send(HttpRequest::post_json("https://api.test/v1/x", "{}"), &*mock_errors()).await;
    assert!(matches!(&reply, Ok(reply) if &reply.body[..] == b"{}"), "{reply:?}");
    assert_eq!(transport.sends.load(Ordering::SeqCst), 2);
    let urls = transport.urls.lock().map(|urls| urls.clone()).unwrap_or_default();
    assert_eq!(urls, vec!["https://api.test/v1/x".to_owned(); 2], "the same request is sent again");

    let reset: Outcome = Box::new(|| Err(LLMError::Connection { message: "reset by peer".into() }));
    let transport = scripted(vec![reset, response(200, b"{}")]);
    let http = HttpClient::with_transport(
        transport.clone(),
        HttpConfig { retry: quick_retries(3), ..HttpConfig::default() },
    );
    let error = http.send(HttpRequest::post_json("https://api.test/v1/x", "{}"), &*mock_errors()).await.err();
    let Some(LLMError::Connection { message }) = &error else { panic!("{error:?}") };
    assert!(
        message.starts_with("reset by peer (POST https://api.test/v1/x, 1 attempt); not retried"),
        "{message}"
    );
    assert_eq!(transport.sends.load(Ordering::SeqCst), 1);
}

#[tokio::test(start_paused = true)]
async fn first_byte_timeout_applies_around_a_custom_transport() {
    let transport = scripted(Vec::new());
    let timeouts =
        Timeouts { connect: None, first_byte: Some(Duration::from_secs(30)), ..Timeouts::default() };
    let http = HttpClient::with_transport(
        transport.clone(),
        HttpConfig { timeouts, retry: quick_retries(2), ..HttpConfig::default() },
    );
    let error = http.send(HttpRequest::post_json("https://api.test/v1/x", "{}"), &*mock_errors()).await.err();
    assert!(matches!(error, Some(LLMError::Timeout { phase: TimeoutPhase::FirstByte, .. })), "{error:?}");
    assert_eq!(transport.sends.load(Ordering::SeqCst), 1, "the server may be generating: not sent again");
    let consenting = http.for_call(&vllora_llm_core::CallOptions::default().with_safe_to_repeat(true));
    let request = HttpRequest::post_json("https://api.test/v1/x", "{}");
    let error = consenting.send(request, &*mock_errors()).await.err();
    assert!(matches!(error, Some(LLMError::Timeout { phase: TimeoutPhase::FirstByte, .. })), "{error:?}");
    assert_eq!(transport.sends.load(Ordering::SeqCst), 3, "sent twice more with the caller's consent");
}

#[tokio::test(start_paused = true)]
async fn a_body_that_never_pauses_still_meets_the_total_deadline() {
    let endless: Outcome = Box::new(|| {
        Ok(HttpResponse { status: StatusCode::OK, headers: HeaderMap::new(), body: Box::pin(Endless) })
    });
    let transport = scripted(vec![endless]);
    let timeouts = Timeouts { stream_total: Some(Duration::from_millis(50)), ..Timeouts::default() };
    let http = HttpClient::with_transport(transport, HttpConfig { timeouts, ..HttpConfig::default() });
    let Ok(reply) =
        http.send_streaming(HttpRequest::post_json("https://api.test/s", "{}"), &*mock_errors()).await
    else {
        panic!("2xx")
    };
    let mut body = reply.body;
    let mut pieces = 0_u32;
    let ending = loop {
        match std::future::poll_fn(|context| body.as_mut().poll_next(context)).await {
            Some(Ok(_)) => {
                pieces += 1;
                if pieces % 1000 == 0 {
                    tokio::time::advance(Duration::from_millis(10)).await;
                }
            }
            other => break other,
        }
    };
    assert!(matches!(ending, Some(Err(LLMError::Timeout { phase: TimeoutPhase::Total, .. }))), "{ending:?}");
    assert!((4000..=6000).contains(&pieces), "{pieces}");
}

#[test]
fn calls_and_streams_can_cross_threads() {
    fn assert_send<T: Send>(_: &T) {}
    fn assert_send_sync_static<T: Send + Sync + 'static>() {}
    assert_send_sync_static::<HttpClient>();
    assert_send_sync_static::<vllora_llm_http::HyperTransport>();
    let http = HttpClient::with_transport(scripted(Vec::new()), HttpConfig::default());
    let errors = mock_errors();
    assert_send(&http.send(HttpRequest::new(vllora_llm_http::Method::GET, "http://x"), &*errors));
    assert_send(&http.send_streaming(HttpRequest::new(vllora_llm_http::Method::GET, "http://x"), &*errors));
    let stream = vllora_llm_http::sse_stream(single_piece(Bytes::new()), 1024);
    fn assert_static_send<T: Send + 'static>(_: T) {}
    assert_static_send(stream);
}
