//! The mock server seen from a raw TCP client: framing, keep-alive, capture and each injected fault.
#![allow(clippy::panic, reason = "a test fails by panicking")]

use std::time::{Duration, Instant};

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use vllora_llm_testkit::{Chunking, MockResponse, MockServer};

async fn connect(server: &MockServer) -> TcpStream {
    let Ok(stream) = TcpStream::connect(server.address()).await else { panic!("cannot connect") };
    stream
}

/// Reads until `needle` has arrived (or the peer closed), returning everything read.
async fn read_until(stream: &mut TcpStream, needle: &[u8]) -> Vec<u8> {
    let mut received = Vec::new();
    let mut piece = [0_u8; 1024];
    while !received.windows(needle.len()).any(|window| window == needle) {
        match stream.read(&mut piece).await {
            Ok(0) | Err(_) => break,
            Ok(read) => received.extend_from_slice(&piece[..read]),
        }
    }
    received
}

/// Reads until the peer closes; the error kind when it reset instead.
async fn read_to_close(stream: &mut TcpStream) -> (Vec<u8>, Option<std::io::ErrorKind>) {
    let mut received = Vec::new();
    let mut piece = [0_u8; 1024];
    loop {
        match stream.read(&mut piece).await {
            Ok(0) => return (received, None),
            Ok(read) => received.extend_from_slice(&piece[..read]),
            Err(error) => return (received, Some(error.kind())),
        }
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test]
async fn serves_queued_then_default_responses_on_one_keep_alive_connection() {
    let server = MockServer::start().await;
    server.respond(
        "POST",
        "/v1/chat",
        MockResponse::json(429, json!({"error": "slow"})).header("Retry-After", "1"),
    );
    server.respond_always("POST", "/v1/chat", MockResponse::json(200, json!({"ok": true})));
    let mut stream = connect(&server).await;

    let body = r#"{"model":"m"}"#;
    let request = format!(
        "POST /v1/chat?key=v HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    for expected in ["HTTP/1.1 429 Too Many Requests\r\n", "HTTP/1.1 200 OK\r\n", "HTTP/1.1 200 OK\r\n"] {
        let Ok(()) = stream.write_all(request.as_bytes()).await else { panic!("write failed") };
        let response = text(&read_until(&mut stream, b"}").await);
        assert!(response.starts_with(expected), "{response}");
    }
    let Ok(()) = stream.write_all(b"GET /missing HTTP/1.1\r\nConnection: close\r\n\r\n").await else {
        panic!("write failed")
    };
    let (response, reset) = read_to_close(&mut stream).await;
    let response = text(&response);
    assert!(response.starts_with("HTTP/1.1 404 Not Found\r\n"), "{response}");
    assert!(response.contains("no response for GET /missing"), "{response}");
    assert_eq!(reset, None);

    let requests = server.requests();
    assert_eq!(requests.len(), 4);
    assert_eq!(requests[0].path, "/v1/chat");
    assert_eq!(requests[0].query.as_deref(), Some("key=v"));
    assert_eq!(requests[0].header("authorization"), Some("Bearer k"));
    assert_eq!(requests[0].json(), json!({"model": "m"}));
    assert_eq!(requests[3].method, "GET");
    assert_eq!(server.connections_opened(), 1);
    assert!(server.wait_for_connections_closed(1, Duration::from_secs(5)).await);
}

#[tokio::test]
async fn sse_is_chunked_as_asked() {
    let server = MockServer::start().await;
    let events = ["data: {\"a\":1}\n\n", "data: [DONE]\n\n"];
    server.respond("GET", "/s", MockResponse::sse(events).chunking(Chunking::Bytes(5)));
    let mut stream = connect(&server).await;
    let Ok(()) = stream.write_all(b"GET /s HTTP/1.1\r\nConnection: close\r\n\r\n").await else { panic!() };
    let (response, _) = read_to_close(&mut stream).await;
    let response = text(&response);
    let Some((head, body)) = response.split_once("\r\n\r\n") else { panic!("{response}") };
    assert!(head.contains("content-type: text/event-stream"), "{head}");
    assert!(head.contains("transfer-encoding: chunked"), "{head}");
    assert!(body.starts_with("5\r\ndata:\r\n5\r\n {\"a\"\r\n"), "{body}");
    assert!(body.ends_with("0\r\n\r\n"), "{body}");
    let payload: String =
        body.split("\r\n").collect::<Vec<_>>().chunks(2).filter_map(|pair| pair.get(1).copied()).collect();
    assert_eq!(payload, events.concat());
}

#[tokio::test]
async fn reset_after_sends_a_reset_and_stall_keeps_the_connection_open() {
    let server = MockServer::start().await;
    server.respond("GET", "/reset", MockResponse::sse(["data: 1\n\n", "data: 2\n\n"]).reset_after(12));
    server.respond("GET", "/stall", MockResponse::sse(["data: 1\n\n", "data: 2\n\n"]).stall_after(9));

    let mut stream = connect(&server).await;
    let Ok(()) = stream.write_all(b"GET /reset HTTP/1.1\r\n\r\n").await else { panic!() };
    let (received, error) = read_to_close(&mut stream).await;
    assert_eq!(error, Some(std::io::ErrorKind::ConnectionReset), "{}", text(&received));

    let mut stream = connect(&server).await;
    let Ok(()) = stream.write_all(b"GET /stall HTTP/1.1\r\n\r\n").await else { panic!() };
    let received = read_until(&mut stream, b"data: 1\n\n\r\n").await;
    assert!(text(&received).ends_with("9\r\ndata: 1\n\n\r\n"));
    let mut piece = [0_u8; 16];
    let more = tokio::time::timeout(Duration::from_millis(200), stream.read(&mut piece)).await;
    assert!(more.is_err(), "a stalled response sends nothing more");
    assert_eq!(server.connections_closed(), 1, "only the reset connection is closed");
    drop(stream);
    assert!(server.wait_for_connections_closed(2, Duration::from_secs(5)).await);
}

#[tokio::test]
async fn delays_raw_bytes_and_oversize_bodies() {
    let server = MockServer::start().await;
    server.respond(
        "GET",
        "/slow",
        MockResponse::json(200, json!({})).delay_first_byte(Duration::from_millis(300)),
    );
    server.respond("GET", "/raw", MockResponse::raw(b"\x00\xffnot http at all".to_vec()));
    server.respond("GET", "/big", MockResponse::body(200, "application/json", vec![b'x'; 3 << 20]));

    let started = Instant::now();
    let mut stream = connect(&server).await;
    let Ok(()) = stream.write_all(b"GET /slow HTTP/1.1\r\n\r\n").await else { panic!() };
    let response = read_until(&mut stream, b"{}").await;
    assert!(started.elapsed() >= Duration::from_millis(280), "{:?}", started.elapsed());
    assert!(text(&response).ends_with("{}"));

    let Ok(()) = stream.write_all(b"GET /raw HTTP/1.1\r\n\r\n").await else { panic!() };
    let (response, _) = read_to_close(&mut stream).await;
    assert_eq!(response, b"\x00\xffnot http at all");

    let mut stream = connect(&server).await;
    let Ok(()) = stream.write_all(b"GET /big HTTP/1.1\r\nConnection: close\r\n\r\n").await else { panic!() };
    let (response, _) = read_to_close(&mut stream).await;
    assert!(text(&response[..200]).contains("content-length: 3145728"));
    assert!(response.len() > 3 << 20);
}

#[tokio::test]
async fn broken_requests_get_a_400_and_a_close() {
    let server = MockServer::start().await;
    let mut stream = connect(&server).await;
    let Ok(()) = stream.write_all(b"NONSENSE\r\n\r\n").await else { panic!() };
    let (response, _) = read_to_close(&mut stream).await;
    assert!(text(&response).starts_with("HTTP/1.1 400 Bad Request\r\n"));
    assert!(server.requests().is_empty());
}
