//! `cargo xtask otlp` (also part of `cargo xtask e2e`): the `tracing_otlp` example against a real
//! telemetry backend that LLM developers use, Arize Phoenix, and a real local model.
//!
//! Phoenix (pinned, from PyPI, about 860 MB installed into `target/phoenix/venv` on first use, a minute
//! to install, some 10 s to start) is started on free local ports with a fresh working directory. The
//! example runs against llama.cpp's server with the OTLP endpoint pointing at Phoenix, and the checks then
//! ask Phoenix's REST API (`GET /v1/projects/default/spans`) for the example's trace: three spans, the
//! `chat` ones children of the application span, with their `gen_ai.*` attributes, `server.*`, integer
//! token counts, and Phoenix's own reading of them as LLM spans with token counts.
//!
//! Phoenix takes traces only (no `/v1/metrics`), so the metrics go to a small OTLP/HTTP receiver of ours
//! on another port (`OTEL_EXPORTER_OTLP_METRICS_ENDPOINT`), which keeps the protobuf bodies the
//! exporter posts; the checks look in them for the three GenAI histograms and their attributes.

use std::fs;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::llama::LlamaServer;
use crate::progress::{self, CARGO_PROGRESS, PIP_PROGRESS, Show};
use crate::util::{cargo, workspace_root};

/// The Phoenix release the check runs against.
const PHOENIX_VERSION: &str = "20.26.1";
/// Where it is installed and run, relative to the workspace root.
const DIRECTORY: &str = "target/phoenix";
/// How long Phoenix may take to answer `/healthz` (about 10 s on a 2-core machine).
const START_TIMEOUT: Duration = Duration::from_secs(180);
/// The example's package.
const EXAMPLE: &str = "vllora_llm_example_tracing_otlp";
/// The model name the example sends (llama.cpp serves whatever it loaded under any name).
const MODEL: &str = "gemma-3-270m";

/// Installs Phoenix into `target/phoenix/venv` unless this version is there already.
pub fn setup() -> Result<PathBuf, String> {
    let directory = workspace_root().join(DIRECTORY);
    let venv = directory.join("venv");
    let marker = directory.join(format!("installed-{PHOENIX_VERSION}"));
    let phoenix = venv.join("bin/phoenix");
    if marker.is_file() && phoenix.is_file() {
        return Ok(venv);
    }
    fs::create_dir_all(&directory)
        .map_err(|error| format!("cannot create {}: {error}", directory.display()))?;
    if !venv.join("bin/python").is_file() {
        let mut create = Command::new("python3");
        create.args(["-m", "venv"]).arg(&venv);
        progress::step("create the Python environment for Arize Phoenix", create, Show::All)?;
    }
    let mut install = Command::new(venv.join("bin/pip"));
    install.args(["install", "--progress-bar", "off", "--disable-pip-version-check"]);
    install.arg(format!("arize-phoenix=={PHOENIX_VERSION}"));
    let label = format!(
        "install Arize Phoenix {PHOENIX_VERSION} from PyPI into {} (about 860 MB, a minute, first time only)",
        venv.display()
    );
    progress::step(&label, install, PIP_PROGRESS)?;
    fs::write(&marker, "").map_err(|error| format!("cannot write {}: {error}", marker.display()))?;
    Ok(venv)
}

/// A running Phoenix; dropping it stops it.
struct Phoenix {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Phoenix {
    fn start(venv: &std::path::Path) -> Result<Phoenix, String> {
        let directory = workspace_root().join(DIRECTORY);
        let working = directory.join("run");
        if working.exists() {
            fs::remove_dir_all(&working)
                .map_err(|error| format!("cannot clear {}: {error}", working.display()))?;
        }
        fs::create_dir_all(&working)
            .map_err(|error| format!("cannot create {}: {error}", working.display()))?;
        let log = directory.join("phoenix.log");
        let log_file =
            fs::File::create(&log).map_err(|error| format!("cannot write {}: {error}", log.display()))?;
        let error_log = log_file.try_clone().map_err(|error| error.to_string())?;
        let port = free_port()?;
        let grpc_port = free_port()?;
        let child = Command::new(venv.join("bin/phoenix"))
            .arg("serve")
            .env("PHOENIX_WORKING_DIR", &working)
            .env("PHOENIX_HOST", "127.0.0.1")
            .env("PHOENIX_PORT", port.to_string())
            .env("PHOENIX_GRPC_PORT", grpc_port.to_string())
            .env("PHOENIX_TELEMETRY_ENABLED", "false")
            .stdin(Stdio::null())
            .stdout(Stdio::from(log_file))
            .stderr(Stdio::from(error_log))
            .spawn()
            .map_err(|error| format!("cannot start Phoenix: {error}"))?;
        let mut phoenix = Phoenix { child, port, log };
        let started = Instant::now();
        let mut last_note = Instant::now();
        loop {
            if let Some((200, _)) = http_get(port, "/healthz") {
                println!(
                    "    Phoenix is up at http://127.0.0.1:{port} after {} s",
                    started.elapsed().as_secs()
                );
                return Ok(phoenix);
            }
            if let Ok(Some(status)) = phoenix.child.try_wait() {
                return Err(phoenix.failure(&format!("it exited ({status})")));
            }
            if started.elapsed() > START_TIMEOUT {
                return Err(
                    phoenix.failure(&format!("no answer on /healthz within {} s", START_TIMEOUT.as_secs()))
                );
            }
            if last_note.elapsed() >= Duration::from_secs(10) {
                println!("    ... waiting for Phoenix to start ({} s)", started.elapsed().as_secs());
                last_note = Instant::now();
            }
            thread::sleep(Duration::from_millis(250));
        }
    }

    fn failure(&self, why: &str) -> String {
        let log = fs::read_to_string(&self.log).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(20).collect::<Vec<_>>().into_iter().rev().collect();
        format!(
            "Arize Phoenix did not start: {why}\nlast lines of {}:\n{}",
            self.log.display(),
            tail.join("\n")
        )
    }
}

impl Drop for Phoenix {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port nobody listens on right now.
fn free_port() -> Result<u16, String> {
    let listener =
        TcpListener::bind("127.0.0.1:0").map_err(|error| format!("no free local port: {error}"))?;
    listener.local_addr().map(|address| address.port()).map_err(|error| error.to_string())
}

/// `GET path` on a local port: the status and the body, or `None` when nothing answers.
fn http_get(port: u16, path: &str) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
    write!(stream, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n").ok()?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).ok()?;
    let text = String::from_utf8_lossy(&response);
    let (head, body) = text.split_once("\r\n\r\n")?;
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    let chunked = head.to_ascii_lowercase().contains("transfer-encoding: chunked");
    Some((status, if chunked { dechunk(body) } else { body.to_owned() }))
}

/// The payload of a chunked HTTP/1.1 body.
fn dechunk(mut body: &str) -> String {
    let mut payload = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else { break };
        if size == 0 || rest.len() < size {
            break;
        }
        payload.push_str(&rest[..size]);
        body = rest[size..].trim_start_matches("\r\n");
    }
    payload
}

/// An OTLP/HTTP receiver that keeps the bodies posted to it and answers 200 with an empty body (a
/// valid, empty protobuf `Export*ServiceResponse`).
struct Receiver {
    port: u16,
    bodies: Arc<Mutex<Vec<Posted>>>,
}

/// A request's path and body.
type Posted = (String, Vec<u8>);

impl Receiver {
    fn start() -> Result<Receiver, String> {
        let listener = TcpListener::bind("127.0.0.1:0").map_err(|error| format!("no local port: {error}"))?;
        let port = listener.local_addr().map_err(|error| error.to_string())?.port();
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let kept = Arc::clone(&bodies);
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                receive(stream, |posted| {
                    if let Ok(mut bodies) = kept.lock() {
                        bodies.push(posted);
                    }
                });
            }
        });
        Ok(Receiver { port, bodies })
    }

    fn bodies(&self) -> Vec<Posted> {
        self.bodies.lock().map(|bodies| bodies.clone()).unwrap_or_default()
    }
}

/// Reads one request (head and a `Content-Length` body), hands its path and body to `keep`, then answers
/// it (in that order, so that whoever saw the answer finds the body kept).
fn receive(mut stream: TcpStream, keep: impl FnOnce(Posted)) -> Option<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let mut received = Vec::new();
    let mut buffer = [0u8; 8192];
    let head_end = loop {
        let read = stream.read(&mut buffer).ok()?;
        if read == 0 {
            return None;
        }
        received.extend_from_slice(&buffer[..read]);
        if let Some(end) = received.windows(4).position(|window| window == b"\r\n\r\n") {
            break end + 4;
        }
    };
    let head = String::from_utf8_lossy(&received[..head_end]).into_owned();
    let path = head.split_whitespace().nth(1).unwrap_or_default().to_owned();
    let length: usize = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length").then(|| value.trim().parse().ok())?
        })
        .unwrap_or(0);
    let mut body = received[head_end..].to_vec();
    while body.len() < length {
        let read = stream.read(&mut buffer).ok()?;
        if read == 0 {
            break;
        }
        body.extend_from_slice(&buffer[..read]);
    }
    keep((path, body));
    let answer = "HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    stream.write_all(answer.as_bytes()).ok()
}

/// The checks, run against Phoenix's REST API by Python's standard library (Phoenix's environment has
/// it): the trace's spans, their links, their `gen_ai.*` attributes and Phoenix's reading of them.
const SPAN_CHECKS: &str = r#"
import json, sys, time, urllib.request
base, trace_id, llama_port, model = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
passed = failed = 0
def check(name, ok, detail=""):
    global passed, failed
    if ok: passed += 1; print(f"PASS {name}")
    else: failed += 1; print(f"FAIL {name}: {detail}")
spans = []
deadline = time.time() + 60
while time.time() < deadline:
    with urllib.request.urlopen(f"{base}/v1/projects/default/spans?limit=1000") as answer:
        data = json.load(answer)["data"]
    spans = [s for s in data if s["context"]["trace_id"] == trace_id]
    if len(spans) >= 3: break
    time.sleep(1)
check("Phoenix holds the example's trace with three spans", len(spans) == 3, [s["name"] for s in spans])
roots = [s for s in spans if s["name"] == "answer_question"]
chats = [s for s in spans if s["name"] == f"chat {model}"]
check("one application span, the trace's root", len(roots) == 1 and roots[0]["parent_id"] is None, roots)
check("two chat spans", len(chats) == 2, [s["name"] for s in spans])
root_id = roots[0]["context"]["span_id"] if roots else None
for s in chats:
    a = s["attributes"]
    kind = "stream" if a.get("gen_ai.request.stream") else "one-shot"
    check(f"{kind}: child of answer_question", s["parent_id"] == root_id, s["parent_id"])
    check(f"{kind}: gen_ai.operation.name is chat", a.get("gen_ai.operation.name") == "chat", a.get("gen_ai.operation.name"))
    check(f"{kind}: gen_ai.provider.name", a.get("gen_ai.provider.name") == "local", a.get("gen_ai.provider.name"))
    check(f"{kind}: gen_ai.request.model", a.get("gen_ai.request.model") == model, a.get("gen_ai.request.model"))
    check(f"{kind}: gen_ai.response.model and id", bool(a.get("gen_ai.response.model")) and bool(a.get("gen_ai.response.id")), a)
    check(f"{kind}: gen_ai.response.finish_reasons", "stop" in str(a.get("gen_ai.response.finish_reasons")), a.get("gen_ai.response.finish_reasons"))
    tokens_in, tokens_out = a.get("gen_ai.usage.input_tokens"), a.get("gen_ai.usage.output_tokens")
    check(f"{kind}: token counts are positive integers", isinstance(tokens_in, int) and tokens_in > 0 and isinstance(tokens_out, int) and tokens_out > 0, (tokens_in, tokens_out))
    check(f"{kind}: server.address and server.port", a.get("server.address") == "127.0.0.1" and a.get("server.port") == llama_port, (a.get("server.address"), a.get("server.port")))
    check(f"{kind}: Phoenix reads it as an LLM span", s.get("span_kind") == "LLM", s.get("span_kind"))
    check(f"{kind}: Phoenix's token counts are ours", a.get("llm.token_count.prompt") == tokens_in and a.get("llm.token_count.completion") == tokens_out, (a.get("llm.token_count.prompt"), a.get("llm.token_count.completion")))
    check(f"{kind}: no prompt recorded without opting in", "gen_ai.input.messages" not in a, sorted(a))
    if kind == "stream":
        ttfc = a.get("gen_ai.response.time_to_first_chunk")
        check("stream: gen_ai.response.time_to_first_chunk", isinstance(ttfc, float) and ttfc > 0, ttfc)
check("one chat span streamed, one not", sorted(bool(s["attributes"].get("gen_ai.request.stream")) for s in chats) == [False, True], "")
print(f"{passed} passed, {failed} failed")
"#;

/// The metric names and attributes the exported metrics must carry (protobuf strings are plain UTF-8).
const METRIC_STRINGS: &[(&str, &str)] = &[
    ("gen_ai.client.operation.duration", "the operation duration histogram"),
    ("gen_ai.client.token.usage", "the token usage histogram"),
    ("gen_ai.client.operation.time_to_first_chunk", "the time-to-first-chunk histogram"),
    ("gen_ai.token.type", "token usage split by gen_ai.token.type"),
    ("gen_ai.provider.name", "the provider attribute"),
    ("server.address", "the server attribute"),
    ("{token}", "the token unit (the example's view)"),
];

/// Runs the example against `llama` with Phoenix and the metrics receiver, then the checks. Returns
/// the numbers of checks passed and failed.
pub fn check(llama: &LlamaServer) -> Result<(usize, usize), String> {
    let venv = setup()?;
    progress::step(
        "build the tracing_otlp example",
        cargo(&["build", "-p", EXAMPLE, "--color", "never"]),
        CARGO_PROGRESS,
    )?;
    println!("==> start Arize Phoenix {PHOENIX_VERSION} (traces) and an OTLP receiver (metrics)");
    let phoenix = Phoenix::start(&venv)?;
    let receiver = Receiver::start()?;
    let phoenix_url = format!("http://127.0.0.1:{}", phoenix.port);
    let mut run = cargo(&["run", "--quiet", "-p", EXAMPLE, "--", &format!("{}/v1", llama.base_url()), MODEL]);
    run.env("OTEL_EXPORTER_OTLP_ENDPOINT", &phoenix_url)
        .env("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", format!("http://127.0.0.1:{}/v1/metrics", receiver.port))
        .env_remove("OTEL_EXPORTER_OTLP_HEADERS")
        .env_remove("OTEL_SERVICE_NAME")
        .env_remove("OTEL_RESOURCE_ATTRIBUTES");
    let example = progress::step("run tracing_otlp against llama.cpp, exporting to Phoenix", run, Show::All)?;
    let trace_id = example
        .stdout
        .iter()
        .find_map(|line| line.strip_prefix("trace ")?.split(':').next().map(str::to_owned))
        .ok_or("the example printed no `trace <id>:` line")?;

    println!("==> ask Phoenix's REST API for trace {trace_id}");
    let python = venv.join("bin/python");
    let mut checks = Command::new(&python);
    checks.arg("-c").arg(SPAN_CHECKS).arg(&phoenix_url).arg(&trace_id);
    checks.arg(llama_port(llama)?.to_string()).arg(MODEL);
    let outcome = progress::stream("span checks", checks, Show::All)?;
    let (mut passed, mut failed) =
        outcome.stdout.iter().rev().find_map(|line| crate::e2e::summary(line)).unwrap_or((0, 1));
    if !outcome.success && failed == 0 {
        println!("FAIL span checks ended badly ({}):\n{}", outcome.status, outcome.tail(20));
        failed += 1;
    }

    println!("==> the metrics the exporter posted to the OTLP receiver");
    let posted = receiver.bodies();
    let metrics: Vec<&Vec<u8>> =
        posted.iter().filter(|(path, _)| path == "/v1/metrics").map(|(_, body)| body).collect();
    let mut verdict = |name: &str, ok: bool| {
        if ok {
            passed += 1;
            println!("PASS {name}");
        } else {
            failed += 1;
            println!("FAIL {name}");
        }
    };
    verdict("metrics were posted to /v1/metrics", !metrics.is_empty());
    for (text, what) in METRIC_STRINGS {
        let found =
            metrics.iter().any(|body| body.windows(text.len()).any(|window| window == text.as_bytes()));
        verdict(&format!("{what} (`{text}`)"), found);
    }
    drop(phoenix);
    println!("otlp: {passed} passed, {failed} failed");
    Ok((passed, failed))
}

/// The port of the llama.cpp server, as the spans must name it.
fn llama_port(llama: &LlamaServer) -> Result<u16, String> {
    llama
        .base_url()
        .rsplit(':')
        .next()
        .and_then(|port| port.trim_end_matches('/').parse().ok())
        .ok_or_else(|| format!("no port in {}", llama.base_url()))
}

/// `cargo xtask otlp`: sets up and starts llama.cpp's server, then runs [`check`].
pub fn run() -> Result<(), String> {
    let llama = LlamaServer::start()?;
    let (_, failed) = check(&llama)?;
    if failed == 0 { Ok(()) } else { Err(format!("{failed} OTLP checks failed")) }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests fail by panicking
mod tests {
    use std::io::Write;
    use std::net::TcpStream;

    use super::{Receiver, dechunk};

    #[test]
    fn chunked_bodies_are_joined() {
        assert_eq!(dechunk("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"), "hello world");
    }

    #[test]
    fn the_receiver_keeps_what_is_posted_and_answers_200() {
        let receiver = Receiver::start().unwrap();
        let mut stream = TcpStream::connect(("127.0.0.1", receiver.port)).unwrap();
        stream.write_all(b"POST /v1/metrics HTTP/1.1\r\nContent-Length: 5\r\n\r\nbytes").unwrap();
        let mut answer = String::new();
        std::io::Read::read_to_string(&mut stream, &mut answer).unwrap();
        assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
        assert_eq!(receiver.bodies(), [("/v1/metrics".to_owned(), b"bytes".to_vec())]);
    }
}
