//! The soak (issue 10): 10,000 streams through `VlloraLLMClient` against a loopback server that mixes in
//! faults, 100 at a time. It reports what each kind of call ended with, the connections the server saw
//! opened and closed, and the file descriptors, resident memory and live heap of the process before and
//! after (the client dropped). A leak shows as descriptors or heap that do not come back.
//!
//! The server is `vllora_llm_testkit::MockServer`, in this process (its fault injection needs control of
//! the socket): descriptors count both ends of each connection, and the heap counts both sides too,
//! which is what a leak check wants (everything must come back).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use vllora_llm::client::VlloraLLMClient;
use vllora_llm::http::{HttpConfig, RetryPolicy, Timeouts};
use vllora_llm::types::Environment;
use vllora_llm::types::gateway::{ChatCompletionMessage, ChatCompletionRequest};
use vllora_llm_core::LLMError;
use vllora_llm_testkit::{MockResponse, MockServer};

use crate::ALLOCATOR;
use crate::measure::resident_bytes;

/// Streams in the soak.
const STREAMS: usize = 10_000;
/// Streams open at once.
const CONCURRENCY: usize = 100;

/// The kinds of call, one in twenty each except `ok`: (proxy name, share out of 20).
const KINDS: [(&str, usize); 7] =
    [("ok", 14), ("keepalive", 1), ("reset", 1), ("stall", 1), ("busy", 1), ("early", 1), ("garbage", 1)];

/// Proxies' endpoints, read through `with_environment`: one OpenAI-compatible proxy per kind, all
/// sharing the client's one connection pool.
#[derive(Debug)]
struct Endpoints(String);

impl Environment for Endpoints {
    fn var(&self, name: &str) -> Option<String> {
        let kind = name.strip_prefix("VLLORA_")?.strip_suffix("_ENDPOINT")?.to_ascii_lowercase();
        KINDS.iter().any(|(known, _)| *known == kind).then(|| format!("{}/{kind}/v1", self.0))
    }

    fn read_file(&self, _path: &std::path::Path) -> Option<String> {
        None
    }
}

fn events() -> Vec<String> {
    let mut events: Vec<String> = (0..20)
        .map(|n| {
            format!(
                "data: {{\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"w{n} \"}},\"finish_reason\":null}}]}}\n\n"
            )
        })
        .collect();
    events.push("data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n".to_owned());
    events.push("data: [DONE]\n\n".to_owned());
    events
}

fn script(server: &MockServer) {
    let events = events();
    let path = |kind: &str| format!("/{kind}/v1/chat/completions");
    let first = events[0].len();
    server.respond_always("POST", &path("ok"), MockResponse::sse(events.clone()));
    let mut talking = events.clone();
    talking.extend(std::iter::repeat_n(": keep-alive\n\n".to_owned(), 50));
    server.respond_always(
        "POST",
        &path("keepalive"),
        MockResponse::sse(talking).delay_between_chunks(Duration::from_millis(10)),
    );
    server.respond_always("POST", &path("reset"), MockResponse::sse(events.clone()).reset_after(first + 7));
    server.respond_always("POST", &path("stall"), MockResponse::sse(events.clone()).stall_after(first));
    let busy = MockResponse::json(503, serde_json::json!({"error": {"message": "overloaded"}}));
    server.respond_always("POST", &path("busy"), busy.header("retry-after-ms", "5"));
    server.respond_always("POST", &path("early"), MockResponse::sse(events[..3].to_vec()));
    server.respond_always(
        "POST",
        &path("garbage"),
        MockResponse::raw(b"\x16\x03\x01 not http\r\n\r\n".to_vec()),
    );
}

fn kind_of(index: usize) -> &'static str {
    let mut slot = index % 20;
    for (kind, share) in KINDS {
        if slot < share {
            return kind;
        }
        slot -= share;
    }
    "ok"
}

fn outcome(error: Option<&LLMError>) -> String {
    match error {
        None => "complete".to_owned(),
        Some(LLMError::Api(api)) => format!("Api {}", api.status.unwrap_or_default()),
        Some(LLMError::Timeout { phase, .. }) => format!("Timeout ({phase})"),
        Some(LLMError::Connection { .. }) => "Connection".to_owned(),
        Some(LLMError::ConnectFailed { .. }) => "ConnectFailed".to_owned(),
        Some(LLMError::LimitExceeded { .. }) => "LimitExceeded".to_owned(),
        Some(other) => format!("{other}").chars().take(40).collect(),
    }
}

async fn one_stream(client: &VlloraLLMClient, kind: &str) -> (String, usize) {
    let request = ChatCompletionRequest {
        model: format!("{kind}/m"),
        messages: vec![ChatCompletionMessage::new_text("user".to_owned(), "hi".to_owned())],
        stream: Some(true),
        ..Default::default()
    };
    let mut stream = match client.completions().create_stream(request).await {
        Ok(stream) => stream,
        Err(error) => return (outcome(Some(&error)), 0),
    };
    let mut chunks = 0;
    let mut error = None;
    while let Some(item) = stream.next().await {
        match item {
            Ok(_) => chunks += 1,
            Err(failure) => error = Some(failure),
        }
    }
    (outcome(error.as_ref()), chunks)
}

fn open_descriptors() -> usize {
    std::fs::read_dir("/proc/self/fd").map(|entries| entries.count()).unwrap_or(0)
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

/// Runs the soak and prints its report.
pub fn run() -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| format!("soak runtime: {error}"))?;
    runtime.block_on(soak())
}

async fn soak() -> Result<(), String> {
    let config = HttpConfig {
        timeouts: Timeouts { idle: Some(Duration::from_millis(200)), ..Timeouts::default() },
        retry: RetryPolicy {
            max_attempts: 2,
            initial_backoff: Duration::from_millis(5),
            max_backoff: Duration::from_millis(20),
            max_retry_after: Duration::from_secs(1),
        },
        ..HttpConfig::default()
    };
    let build = |server: &MockServer| {
        VlloraLLMClient::new().with_environment(Arc::new(Endpoints(server.url()))).with_http_config(config)
    };
    // A warm-up stream of each kind on a server of its own, so that what is allocated once (the
    // runtime's structures, TLS roots) is in "before".
    {
        let server = MockServer::start().await;
        script(&server);
        let warm = build(&server);
        for (kind, _) in KINDS {
            one_stream(&warm, kind).await;
        }
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (fds_before, rss_before, heap_before) =
        (open_descriptors(), resident_bytes()?, ALLOCATOR.live_bytes());

    let server = MockServer::start().await;
    script(&server);
    let client = build(&server);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..CONCURRENCY {
        let (client, next) = (client.clone(), Arc::clone(&next));
        workers.push(tokio::spawn(async move {
            let mut seen: BTreeMap<(String, String), (usize, usize)> = BTreeMap::new();
            loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                if index >= STREAMS {
                    return seen;
                }
                let kind = kind_of(index);
                let (ended, chunks) = one_stream(&client, kind).await;
                let entry = seen.entry((kind.to_owned(), ended)).or_default();
                entry.0 += 1;
                entry.1 += chunks;
            }
        }));
    }
    let mut totals: BTreeMap<(String, String), (usize, usize)> = BTreeMap::new();
    for worker in workers {
        let seen = worker.await.map_err(|error| format!("soak worker: {error}"))?;
        for (key, (count, chunks)) in seen {
            let entry = totals.entry(key).or_default();
            entry.0 += count;
            entry.1 += chunks;
        }
    }
    let elapsed = started.elapsed();
    let (fds_during, rss_during, heap_during) =
        (open_descriptors(), resident_bytes()?, ALLOCATOR.live_bytes());
    let opened = server.connections_opened();
    let mut requests: BTreeMap<String, usize> = BTreeMap::new();
    for request in server.requests() {
        let kind = request.path.trim_start_matches('/').split('/').next().unwrap_or_default().to_owned();
        *requests.entry(kind).or_default() += 1;
    }
    drop(client);
    // The pool's idle connections close when the client goes; then the server (and the requests it
    // recorded) goes too.
    let closed_all = server.wait_for_connections_closed(opened, Duration::from_secs(5)).await;
    drop(server);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (fds_after, rss_after, heap_after) = (open_descriptors(), resident_bytes()?, ALLOCATOR.live_bytes());

    println!(
        "soak: {STREAMS} streams through VlloraLLMClient, {CONCURRENCY} at a time, in {:.1} s",
        elapsed.as_secs_f64()
    );
    println!("| Kind | Share | Ended with | Streams | Requests sent | Chunks received |");
    println!("|---|---|---|---|---:|---:|");
    for ((kind, ended), (count, chunks)) in &totals {
        let share = KINDS.iter().find(|(known, _)| known == kind).map_or(0, |(_, share)| *share);
        let sent = requests.get(kind).copied().unwrap_or_default();
        println!("| {kind} | {share}/20 | {ended} | {count} | {sent} | {chunks} |");
    }
    println!();
    println!("connections opened: {opened}; all closed once the client was dropped: {closed_all}");
    println!("| | before | after the streams (client alive) | after (client and server dropped) |");
    println!("|---|---:|---:|---:|");
    println!("| file descriptors | {fds_before} | {fds_during} | {fds_after} |");
    println!("| resident memory | {} | {} | {} |", mib(rss_before), mib(rss_during), mib(rss_after));
    println!("| live heap | {} | {} | {} |", mib(heap_before), mib(heap_during), mib(heap_after));
    if fds_after > fds_before + 2 {
        return Err(format!("file descriptors leaked: {fds_before} before, {fds_after} after"));
    }
    if heap_after > heap_before + (1 << 20) {
        return Err(format!("heap leaked: {} before, {} after", mib(heap_before), mib(heap_after)));
    }
    Ok(())
}
