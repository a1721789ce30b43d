//! [`MockServer`]: a hand-written HTTP/1.1 server on a loopback port, serving scripted responses.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::Instant;

use crate::request::{Parsed, RecordedRequest, parse_request};
use crate::response::{Framing, MockResponse};

/// A loopback HTTP/1.1 server with scripted responses per route, request capture and fault injection.
///
/// Dropping it stops the server and closes its connections.
#[derive(Debug)]
pub struct MockServer {
    address: SocketAddr,
    shared: Arc<Shared>,
    accept_task: JoinHandle<()>,
}

#[derive(Debug)]
struct Shared {
    routes: Mutex<HashMap<(String, String), Route>>,
    requests: Mutex<Vec<RecordedRequest>>,
    opened: AtomicUsize,
    closed: watch::Sender<usize>,
}

#[derive(Debug, Default)]
struct Route {
    queued: VecDeque<MockResponse>,
    always: Option<MockResponse>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A test that panicked while holding the lock has already failed; the data is still usable.
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl MockServer {
    /// Starts a server on `127.0.0.1` on an ephemeral port. Needs a running tokio runtime.
    ///
    /// # Panics
    ///
    /// When no loopback port can be bound.
    #[allow(clippy::panic, reason = "a test cannot run without its server")]
    pub async fn start() -> MockServer {
        let listener = match TcpListener::bind("127.0.0.1:0").await {
            Ok(listener) => listener,
            Err(error) => panic!("mock server cannot bind 127.0.0.1:0: {error}"),
        };
        let address = match listener.local_addr() {
            Ok(address) => address,
            Err(error) => panic!("mock server has no local address: {error}"),
        };
        let shared = Arc::new(Shared {
            routes: Mutex::new(HashMap::new()),
            requests: Mutex::new(Vec::new()),
            opened: AtomicUsize::new(0),
            closed: watch::Sender::new(0),
        });
        let accept_task = tokio::spawn(accept_loop(listener, Arc::clone(&shared)));
        MockServer { address, shared, accept_task }
    }

    /// The base URL, `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// The address the server listens on.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Queues `response` for `method` `path` (path without query): queued responses are used once each,
    /// in order.
    pub fn respond(&self, method: &str, path: &str, response: MockResponse) {
        let mut routes = lock(&self.shared.routes);
        routes.entry(route_key(method, path)).or_default().queued.push_back(response);
    }

    /// Answers `method` `path` with `response` whenever its queue is empty.
    pub fn respond_always(&self, method: &str, path: &str, response: MockResponse) {
        let mut routes = lock(&self.shared.routes);
        routes.entry(route_key(method, path)).or_default().always = Some(response);
    }

    /// Every request received so far, in order of arrival.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared.requests).clone()
    }

    /// How many connections clients opened.
    pub fn connections_opened(&self) -> usize {
        self.shared.opened.load(Ordering::SeqCst)
    }

    /// How many connections are closed, by the client or by the server.
    pub fn connections_closed(&self) -> usize {
        *self.shared.closed.borrow()
    }

    /// Waits until at least `count` connections are closed; `false` when that did not happen `within`.
    pub async fn wait_for_connections_closed(&self, count: usize, within: Duration) -> bool {
        let mut closed = self.shared.closed.subscribe();
        matches!(tokio::time::timeout(within, closed.wait_for(|closed| *closed >= count)).await, Ok(Ok(_)))
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        // Aborting the accept loop drops its JoinSet, which aborts every connection task.
        self.accept_task.abort();
    }
}

fn route_key(method: &str, path: &str) -> (String, String) {
    (method.to_ascii_uppercase(), path.to_owned())
}

impl Shared {
    fn next_response(&self, method: &str, path: &str) -> MockResponse {
        let mut routes = lock(&self.routes);
        let scripted = routes.get_mut(&route_key(method, path)).and_then(|route| {
            let queued = route.queued.pop_front();
            queued.or_else(|| route.always.clone())
        });
        scripted.unwrap_or_else(|| {
            let message = format!("the mock server has no response for {method} {path}");
            MockResponse::json(
                404,
                serde_json::json!({"error": {"message": message, "type": "mock_not_found"}}),
            )
        })
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                shared.opened.fetch_add(1, Ordering::SeqCst);
                let shared = Arc::clone(&shared);
                connections.spawn(async move {
                    serve_connection(stream, &shared).await;
                    shared.closed.send_modify(|closed| *closed += 1);
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

/// How a response left the connection.
enum Ending {
    KeepAlive,
    Close,
    Reset,
}

async fn serve_connection(mut stream: TcpStream, shared: &Shared) {
    // Small writes must leave at once, or chunking and delays would be blurred by Nagle's algorithm.
    let _ = stream.set_nodelay(true);
    let mut buffer = Vec::with_capacity(8 * 1024);
    loop {
        let request = loop {
            match parse_request(&buffer) {
                Parsed::Complete(request, used) => {
                    buffer.drain(..used);
                    break request;
                }
                Parsed::Incomplete => match stream.read_buf(&mut buffer).await {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                },
                Parsed::Invalid(reason) => {
                    let body = serde_json::json!({"error": {"message": reason, "type": "mock_bad_request"}});
                    let response = MockResponse::json(400, body);
                    let _ = write_response(&mut stream, &mut buffer, &response, true).await;
                    return;
                }
            }
        };
        let close = request.wants_close();
        let response = shared.next_response(&request.method, &request.path);
        lock(&shared.requests).push(request);
        match write_response(&mut stream, &mut buffer, &response, close).await {
            Ending::KeepAlive => {}
            Ending::Close => {
                let _ = stream.shutdown().await;
                return;
            }
            Ending::Reset => {
                // SO_LINGER 0 makes the close send RST instead of FIN: the client sees a reset.
                let _ = stream.set_zero_linger();
                return;
            }
        }
    }
}

async fn write_response(
    stream: &mut TcpStream,
    buffer: &mut Vec<u8>,
    response: &MockResponse,
    close: bool,
) -> Ending {
    if !pause(stream, buffer, response.delay_first_byte).await {
        return Ending::Close;
    }
    let raw = response.framing == Framing::Raw;
    if !raw && stream.write_all(&response.head(close)).await.is_err() {
        return Ending::Close;
    }
    let cut = match (response.stall_after, response.reset_after) {
        (Some(stall), Some(reset)) => Some(stall.min(reset)),
        (stall, reset) => stall.or(reset),
    };
    let mut sent = 0;
    for (position, write) in response.writes().iter().enumerate() {
        if position > 0 && !pause(stream, buffer, response.delay_between_chunks).await {
            return Ending::Close;
        }
        let allowed = cut.map_or(write.len(), |cut| cut.saturating_sub(sent).min(write.len()));
        if allowed > 0 && send_body_piece(stream, response.framing, &write[..allowed]).await.is_err() {
            return Ending::Close;
        }
        sent += allowed;
        if allowed < write.len() {
            break;
        }
    }
    if cut.is_some_and(|cut| sent >= cut) {
        if response.reset_after.is_some_and(|reset| sent >= reset) {
            return Ending::Reset;
        }
        wait_for_client_to_leave(stream).await;
        return Ending::Close;
    }
    if response.framing == Framing::Chunked && stream.write_all(b"0\r\n\r\n").await.is_err() {
        return Ending::Close;
    }
    if close || raw { Ending::Close } else { Ending::KeepAlive }
}

async fn send_body_piece(stream: &mut TcpStream, framing: Framing, piece: &[u8]) -> std::io::Result<()> {
    if framing != Framing::Chunked {
        return stream.write_all(piece).await;
    }
    let mut framed = format!("{:x}\r\n", piece.len()).into_bytes();
    framed.reserve(piece.len() + 2);
    framed.extend_from_slice(piece);
    framed.extend_from_slice(b"\r\n");
    stream.write_all(&framed).await
}

/// Waits `delay`, reading whatever the client sends meanwhile; `false` when the client left.
async fn pause(stream: &mut TcpStream, buffer: &mut Vec<u8>, delay: Duration) -> bool {
    if delay.is_zero() {
        return true;
    }
    let deadline = Instant::now() + delay;
    loop {
        tokio::select! {
            () = tokio::time::sleep_until(deadline) => return true,
            read = stream.read_buf(buffer) => match read {
                Ok(0) | Err(_) => return false,
                // A pipelined request: kept in the buffer for after this response.
                Ok(_) => {}
            },
        }
    }
}

async fn wait_for_client_to_leave(stream: &mut TcpStream) {
    let mut discard = [0_u8; 4096];
    while let Ok(read) = stream.read(&mut discard).await {
        if read == 0 {
            break;
        }
    }
}
