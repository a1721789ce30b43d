//! `vllora_llm_peers`: async-openai and genai, each with its own HTTP client, driven the way the main
//! bench (`vllora_llm_bench`) drives vllora_llm, so that `cargo xtask bench --peers` puts them in the
//! same table. A crate of its own (its own workspace and `Cargo.lock`), never built by CI: async-openai's
//! and genai's clients bring reqwest and a second TLS stack.
//!
//! Commands (the server is the main bench's `vllora_llm_bench serve` child; `BASE_URL` is its root,
//! `http://127.0.0.1:PORT`):
//! - `profile PEER SCENARIO COUNT BASE_URL`: COUNT one-shot requests (`oneshot`, `turns`) or streams
//!   (`stream-split`, `stream-whole`), to run under callgrind;
//! - `hold-streams PEER PORT COUNT concurrent`: COUNT streams opened at once, a task each, on the
//!   `stall` route; prints resident and live heap bytes per stream;
//! - `request PEER SCENARIO`: prints the JSON body the peer posts, captured by a local listener.
//!
//! PEER is `async-openai` or `genai`.

mod fixture;
mod genai_peer;
mod openai_peer;

// The main bench's counting allocator and `/proc` readers, the same file.
#[allow(dead_code)]
#[path = "../../src/measure.rs"]
mod measure;

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::hint::black_box;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::ExitCode;
use std::rc::Rc;
use std::time::Duration;

use fixture::Request;
use genai_peer::GenaiPeer;
use measure::{CountingAllocator, resident_bytes};
use openai_peer::OpenAiPeer;

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator::new();

const USAGE: &str = "usage: vllora_llm_peers profile async-openai|genai oneshot|stream-split|stream-whole|turns COUNT BASE_URL\n\
                     \x20      vllora_llm_peers hold-streams async-openai|genai PORT COUNT concurrent\n\
                     \x20      vllora_llm_peers request async-openai|genai oneshot|stream-split|turns";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let outcome = match args.split_first() {
        Some((command, rest)) if command == "profile" => profile(rest),
        Some((command, rest)) if command == "hold-streams" => hold_streams(rest),
        Some((command, rest)) if command == "request" => print_request(rest),
        _ => Err(USAGE.to_owned()),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("vllora_llm_peers: {message}");
            ExitCode::FAILURE
        }
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| format!("client runtime: {error}"))
}

fn number(text: &str) -> Result<usize, String> {
    text.replace('_', "").parse().map_err(|_| format!("`{text}` is not a whole number\n{USAGE}"))
}

/// A peer pointed at one scenario. One value per run: the size of a variant costs nothing per call.
#[allow(clippy::large_enum_variant)]
enum Peer {
    AsyncOpenAi(OpenAiPeer),
    Genai(GenaiPeer),
}

impl Peer {
    fn new(name: &str, base_url: &str, kind: Request) -> Result<Peer, String> {
        match name {
            "async-openai" => Ok(Peer::AsyncOpenAi(OpenAiPeer::new(base_url, kind))),
            "genai" => Ok(Peer::Genai(GenaiPeer::new(base_url, kind)?)),
            other => Err(format!("unknown peer {other}\n{USAGE}")),
        }
    }

    async fn one_shot(&self) -> Result<usize, String> {
        match self {
            Peer::AsyncOpenAi(peer) => peer.one_shot().await,
            Peer::Genai(peer) => peer.one_shot().await,
        }
    }

    async fn stream(&self) -> Result<usize, String> {
        match self {
            Peer::AsyncOpenAi(peer) => peer.stream().await,
            Peer::Genai(peer) => peer.stream().await,
        }
    }
}

/// `profile PEER SCENARIO COUNT BASE_URL`. Prints, as the main bench's `profile` does,
/// `PEER SCENARIO: UNITS units, ... (N allocations)` (units: requests, or streams' items).
fn profile(args: &[String]) -> Result<(), String> {
    let [peer, scenario, count, base_url] = args else { return Err(USAGE.to_owned()) };
    let count = number(count)?;
    let kind = Request::for_scenario(scenario)?;
    let base_url = format!("{}/{scenario}/v1", base_url.trim_end_matches('/'));
    let runtime = runtime()?;
    let peer = Peer::new(peer, &base_url, kind)?;
    let allocations = ALLOCATOR.allocations();
    let units = runtime.block_on(async {
        let mut units = 0u64;
        for _ in 0..count {
            match kind {
                Request::OneShot | Request::Turns => {
                    black_box(peer.one_shot().await?);
                    units += 1;
                }
                Request::Stream => units += peer.stream().await? as u64,
            }
        }
        Ok::<u64, String>(units)
    })?;
    let allocations = ALLOCATOR.allocations() - allocations;
    println!(
        "{} {scenario}: {units} units, {:.2} allocations per unit ({allocations} allocations)",
        args.first().map_or("", String::as_str),
        allocations as f64 / units.max(1) as f64
    );
    Ok(())
}

/// `hold-streams PEER PORT COUNT concurrent`: COUNT streams opened at once on the `stall` route, a task
/// each; each reads the first event and keeps its stream. Prints `per stream: RESIDENT HEAP` (bytes),
/// the growth from before the first task to when all are open, as the main bench's `memory.rs` does.
fn hold_streams(args: &[String]) -> Result<(), String> {
    let [peer, port, count, mode] = args else { return Err(USAGE.to_owned()) };
    if mode != "concurrent" {
        return Err(format!("only concurrent opening is measured for the peers\n{USAGE}"));
    }
    let port: u16 = port.parse().map_err(|_| format!("bad port {port}"))?;
    let count = number(count)?;
    let base_url = format!("http://127.0.0.1:{port}/stall/v1");
    let runtime = runtime()?;
    let local = tokio::task::LocalSet::new();
    runtime.block_on(local.run_until(async {
        match peer.as_str() {
            "async-openai" => {
                let peer = Rc::new(OpenAiPeer::new(&base_url, Request::Stream));
                // Warm up: the first stream pays for lazily built state that is not per stream.
                drop(peer.open_stream().await?);
                hold_concurrently(count, || {
                    let peer = peer.clone();
                    async move { peer.open_stream().await }
                })
                .await
            }
            "genai" => {
                let peer = Rc::new(GenaiPeer::new(&base_url, Request::Stream)?);
                drop(peer.open_stream().await?);
                hold_concurrently(count, || {
                    let peer = peer.clone();
                    async move { peer.open_stream().await }
                })
                .await
            }
            other => Err(format!("unknown peer {other}\n{USAGE}")),
        }
    }))
}

/// Opens `count` streams at once, a task each; every task keeps its stream open. Reports once all are open.
async fn hold_concurrently<S, Opening>(count: usize, open: impl Fn() -> Opening) -> Result<(), String>
where
    S: 'static,
    Opening: Future<Output = Result<S, String>> + 'static,
{
    let opened = Rc::new(Cell::new(0usize));
    let failed: Rc<RefCell<Option<String>>> = Rc::new(RefCell::new(None));
    let before = (resident_bytes()?, ALLOCATOR.live_bytes());
    for _ in 0..count {
        let (opened, failed, opening) = (opened.clone(), failed.clone(), open());
        tokio::task::spawn_local(async move {
            match opening.await {
                Ok(stream) => {
                    opened.set(opened.get() + 1);
                    std::future::pending::<()>().await;
                    drop(stream);
                }
                Err(error) => {
                    failed.borrow_mut().get_or_insert(error);
                }
            }
        });
    }
    while opened.get() < count {
        if let Some(error) = failed.borrow_mut().take() {
            return Err(error);
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let resident = resident_bytes()?.saturating_sub(before.0) as f64 / count.max(1) as f64;
    let heap = ALLOCATOR.live_bytes().saturating_sub(before.1) as f64 / count.max(1) as f64;
    println!("per stream: {resident:.0} {heap:.0}");
    Ok(())
}

/// `request PEER SCENARIO`: sends the scenario's request once to a listener on a local port that keeps
/// the body and answers 400, and prints the body.
fn print_request(args: &[String]) -> Result<(), String> {
    let [peer, scenario] = args else { return Err(USAGE.to_owned()) };
    let kind = Request::for_scenario(scenario)?;
    let listener =
        std::net::TcpListener::bind("127.0.0.1:0").map_err(|error| format!("cannot listen: {error}"))?;
    let port = listener.local_addr().map_err(|error| error.to_string())?.port();
    let capture = std::thread::spawn(move || capture_body(&listener));
    let runtime = runtime()?;
    let peer = Peer::new(peer, &format!("http://127.0.0.1:{port}/{scenario}/v1"), kind)?;
    // The listener answers 400: the call fails, and that is expected.
    let _ = runtime.block_on(async {
        match kind {
            Request::Stream => peer.stream().await,
            Request::OneShot | Request::Turns => peer.one_shot().await,
        }
    });
    let body = capture.join().map_err(|_| "the capturing thread failed".to_owned())??;
    println!("{body}");
    Ok(())
}

/// Reads one request (head and `Content-Length` body) and answers 400.
fn capture_body(listener: &std::net::TcpListener) -> Result<String, String> {
    let (socket, _) = listener.accept().map_err(|error| format!("accept: {error}"))?;
    let mut reader = BufReader::new(socket.try_clone().map_err(|error| error.to_string())?);
    let mut content_length = 0usize;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).map_err(|error| format!("request head: {error}"))?;
        if line.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.trim().eq_ignore_ascii_case("content-length")
        {
            content_length = value.trim().parse().map_err(|_| format!("bad content-length {value}"))?;
        }
    }
    let mut body = vec![0u8; content_length];
    reader.read_exact(&mut body).map_err(|error| format!("request body: {error}"))?;
    let answer = "{\"error\":{\"message\":\"captured\",\"type\":\"invalid_request_error\"}}";
    let mut socket = socket;
    let _ = write!(
        socket,
        "HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{answer}",
        answer.len()
    );
    String::from_utf8(body).map_err(|error| format!("request body: {error}"))
}
