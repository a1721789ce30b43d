//! Opening connections: the connect timeout (TCP and TLS), HTTP proxies with CONNECT and NO_PROXY.
#![allow(clippy::panic, reason = "a test fails by panicking")]

mod common;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{mock_errors, no_retries};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use vllora_llm_core::{LLMError, TimeoutPhase};
use vllora_llm_http::{HttpClient, HttpConfig, HttpRequest, HyperTransport, Method, ProxyConfig, Timeouts};
use vllora_llm_testkit::{MockResponse, MockServer};

fn client_with(timeouts: Timeouts, proxy: &ProxyConfig) -> HttpClient {
    let Ok(transport) = HyperTransport::new(&timeouts, proxy) else { panic!("the transport builds") };
    HttpClient::with_transport(Arc::new(transport), HttpConfig { timeouts, ..no_retries() })
}

fn connect_timeout(after: Duration) -> Timeouts {
    Timeouts { connect: Some(after), ..Timeouts::default() }
}

/// A loopback listener that never accepts, with its accept queue filled: the kernel drops further SYNs,
/// so a new TCP connection hangs in the handshake as it would towards an unreachable host. Keep the
/// returned listener and fillers alive for the test.
async fn full_listener() -> (SocketAddr, TcpListener, Vec<TcpStream>) {
    let Ok(socket) = TcpSocket::new_v4() else { panic!("socket") };
    let Ok(()) = socket.bind(SocketAddr::from(([127, 0, 0, 1], 0))) else { panic!("bind") };
    let Ok(listener) = socket.listen(0) else { panic!("listen") };
    let Ok(address) = listener.local_addr() else { panic!("address") };
    let mut fillers = Vec::new();
    for _ in 0..16 {
        match tokio::time::timeout(Duration::from_millis(300), TcpStream::connect(address)).await {
            Ok(Ok(stream)) => fillers.push(stream),
            _ => break,
        }
    }
    (address, listener, fillers)
}

#[tokio::test]
async fn tcp_connect_timeout_fires_when_the_handshake_hangs() {
    let (address, _listener, _fillers) = full_listener().await;
    let http = client_with(connect_timeout(Duration::from_millis(300)), &ProxyConfig::none());
    let started = Instant::now();
    let error =
        http.send(HttpRequest::new(Method::GET, format!("http://{address}/")), &*mock_errors()).await.err();
    assert!(
        matches!(error, Some(LLMError::Timeout { phase: TimeoutPhase::Connect, after }) if after == Duration::from_millis(300)),
        "{error:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
}

#[tokio::test]
async fn tls_handshake_counts_as_connecting_and_offers_http2_and_http1() {
    // Accepts TCP, keeps the TLS ClientHello, never answers it.
    let Ok(listener) = TcpListener::bind("127.0.0.1:0").await else { panic!("bind") };
    let Ok(address) = listener.local_addr() else { panic!("address") };
    let (hello_sender, hello) = tokio::sync::oneshot::channel();
    let silent = tokio::spawn(async move {
        let Ok((mut stream, _)) = listener.accept().await else { return };
        let mut received = vec![0_u8; 4096];
        let read = stream.read(&mut received).await.unwrap_or(0);
        received.truncate(read);
        let _ = hello_sender.send(received);
        // Hold the connection open, silent, until the test ends.
        let _ = stream.read(&mut [0_u8; 1]).await;
    });
    let http = client_with(connect_timeout(Duration::from_millis(300)), &ProxyConfig::none());
    let url = format!("https://localhost:{}/v1/models", address.port());
    let error = http.send(HttpRequest::new(Method::GET, url), &*mock_errors()).await.err();
    assert!(matches!(error, Some(LLMError::Timeout { phase: TimeoutPhase::Connect, .. })), "{error:?}");

    let Ok(hello) = hello.await else { panic!("no ClientHello") };
    let contains = |needle: &[u8]| hello.windows(needle.len()).any(|window| window == needle);
    assert_eq!(hello.first(), Some(&0x16), "a TLS handshake record");
    // ALPN protocol names are length-prefixed: both versions are offered, HTTP/2 first.
    assert!(contains(b"\x02h2\x08http/1.1"), "{hello:?}");
    assert!(contains(b"localhost"), "the server name is sent (SNI)");
    silent.abort();
}

#[tokio::test]
async fn refused_connections_are_connection_errors() {
    let Ok(listener) = TcpListener::bind("127.0.0.1:0").await else { panic!("bind") };
    let Ok(address) = listener.local_addr() else { panic!("address") };
    drop(listener);
    let http = client_with(Timeouts::default(), &ProxyConfig::none());
    let error =
        http.send(HttpRequest::new(Method::GET, format!("http://{address}/")), &*mock_errors()).await.err();
    let Some(LLMError::ConnectFailed { message }) = &error else { panic!("{error:?}") };
    assert!(message.starts_with(&format!("could not connect to {address}: ")), "{message}");
    assert!(error.as_ref().is_some_and(|error| error.is_retryable() && !error.may_have_generated()));

    // Issue 10 item 8: the error says what was tried, where, and how many times.
    let retrying = HttpClient::with_transport(
        Arc::new(
            HyperTransport::new(&Timeouts::default(), &ProxyConfig::none()).unwrap_or_else(|_| panic!()),
        ),
        HttpConfig { retry: common::quick_retries(3), ..HttpConfig::default() },
    );
    let url = format!("http://{address}/v1/chat/completions?key=SECRET");
    let error = retrying.send(HttpRequest::post_json(url, "{}"), &*mock_errors()).await.err();
    let shown = error.as_ref().map(ToString::to_string).unwrap_or_default();
    assert!(
        shown.starts_with(&format!("connection error: could not connect to {address}: "))
            && shown.contains("Connection refused")
            && shown
                .ends_with(&format!("(POST http://{address}/v1/chat/completions?[redacted], 3 attempts)")),
        "{shown}"
    );
}

/// A minimal HTTP CONNECT proxy that records each request head it receives.
async fn start_connect_proxy() -> (String, Arc<Mutex<Vec<String>>>) {
    let Ok(listener) = TcpListener::bind("127.0.0.1:0").await else { panic!("bind") };
    let Ok(address) = listener.local_addr() else { panic!("address") };
    let heads = Arc::new(Mutex::new(Vec::new()));
    let recorded = Arc::clone(&heads);
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let recorded = Arc::clone(&recorded);
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut byte = [0_u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    let Ok(1) = client.read(&mut byte).await else { return };
                    head.push(byte[0]);
                }
                let head = String::from_utf8_lossy(&head).into_owned();
                let target = head.split(' ').nth(1).unwrap_or_default().to_owned();
                if let Ok(mut list) = recorded.lock() {
                    list.push(head);
                }
                let Ok(mut upstream) = TcpStream::connect(target).await else { return };
                let Ok(()) = client.write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n").await else {
                    return;
                };
                let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
            });
        }
    });
    (format!("127.0.0.1:{}", address.port()), heads)
}

#[tokio::test]
async fn requests_tunnel_through_the_proxy_with_its_credentials() {
    let server = MockServer::start().await;
    server.respond_always("POST", "/v1/chat/completions", MockResponse::json(200, json!({"via": "proxy"})));
    let (proxy, heads) = start_connect_proxy().await;
    let settings =
        ProxyConfig { http: Some(format!("http://alice:s%20cret@{proxy}")), ..ProxyConfig::none() };
    let http = client_with(Timeouts::default(), &settings);

    let url = format!("{}/v1/chat/completions", server.url());
    let reply = http.send(HttpRequest::post_json(url, "{}"), &*mock_errors()).await;
    assert!(matches!(&reply, Ok(reply) if &reply.body[..] == br#"{"via":"proxy"}"#), "{reply:?}");
    let heads = heads.lock().map(|heads| heads.clone()).unwrap_or_default();
    assert_eq!(heads.len(), 1, "{heads:?}");
    let port = server.address().port();
    assert!(heads[0].starts_with(&format!("CONNECT 127.0.0.1:{port} HTTP/1.1\r\n")), "{}", heads[0]);
    // base64("alice:s cret")
    assert!(heads[0].contains("Proxy-Authorization: Basic YWxpY2U6cyBjcmV0\r\n"), "{}", heads[0]);
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].path, "/v1/chat/completions", "the tunnel carries an ordinary request");
    assert_eq!(requests[0].header("proxy-authorization"), None, "proxy credentials stay with the proxy");
}

#[tokio::test]
async fn no_proxy_hosts_are_reached_directly() {
    let server = MockServer::start().await;
    server.respond_always("GET", "/health", MockResponse::json(200, json!({})));
    let (proxy, heads) = start_connect_proxy().await;
    let settings = ProxyConfig {
        http: Some(format!("http://{proxy}")),
        https: Some(format!("http://{proxy}")),
        no_proxy: Some("example.com, 127.0.0.0/8".to_owned()),
    };
    let http = client_with(Timeouts::default(), &settings);
    let reply =
        http.send(HttpRequest::new(Method::GET, format!("{}/health", server.url())), &*mock_errors()).await;
    assert!(reply.is_ok(), "{reply:?}");
    assert!(heads.lock().map(|heads| heads.is_empty()).unwrap_or(false));
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn unsupported_proxies_are_configuration_errors() {
    let settings = ProxyConfig { https: Some("https://user:SECRET@proxy:443".into()), ..ProxyConfig::none() };
    let error = HyperTransport::new(&Timeouts::default(), &settings).err();
    let Some(LLMError::Config(message)) = &error else { panic!("{error:?}") };
    assert!(!message.contains("SECRET"), "{message}");
}

#[tokio::test]
async fn debug_output_never_shows_secrets() {
    let settings = ProxyConfig { https: Some("http://user:SECRET@proxy:3128".into()), ..ProxyConfig::none() };
    let Ok(transport) = HyperTransport::new(&Timeouts::default(), &settings) else { panic!("builds") };
    let http = HttpClient::with_transport(Arc::new(transport), HttpConfig::default());
    let debug = format!("{http:?} {settings:?}");
    assert!(!debug.contains("SECRET"), "{debug}");
    assert!(debug.contains("HyperTransport") && debug.contains("max_attempts: 3"), "{debug}");
    assert!(HttpClient::new(HttpConfig::default()).is_ok(), "the default client builds from the environment");
}
