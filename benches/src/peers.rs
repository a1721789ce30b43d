//! `--peers`: async-openai and genai measured side by side with vllora_llm and the floors, in one run.
//!
//! The peers live in their own crate (`benches/peers/`, binary `vllora_llm_peers`, a workspace of its
//! own that CI never builds), built here with `cargo build --release --manifest-path
//! benches/peers/Cargo.toml --target-dir <target>/peers`, `<target>` being the directory this binary
//! was built in (so `CARGO_TARGET_DIR` is respected). That binary speaks this one's commands:
//! `profile PEER SCENARIO COUNT BASE_URL` against this bench's server, and `hold-streams PEER PORT
//! COUNT concurrent`. Each side runs alone under callgrind twice, with different counts, and the
//! difference per request or event is reported, as in `instructions.rs`; allocations are the
//! difference of the same two runs' counts. Before measuring, each peer's request body is checked
//! against the fixture's (`vllora_llm_peers request ...`).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};

use crate::instructions::{Counts, callgrind, valgrind_exists};
use crate::measure::median;
use crate::memory::hold_streams_with;
use crate::server::ServerProcess;
use crate::{Settings, fixtures};

/// Chunks per stream in the profiled runs (the main bench's `profile` serves 500 too).
const EVENTS: usize = 500;

const PEERS: [&str; 2] = ["async-openai", "genai"];

/// One line of the peers table: a figure per column, raw, floor, vllora_llm, async-openai, genai.
#[derive(Debug, Clone)]
struct PeerRow {
    measure: String,
    /// Raw hyper with pre-serialised bytes; `None` where it does not apply.
    raw: Option<f64>,
    /// The floor the others are divided by (`min`, the decode floor, or raw for memory).
    floor: Option<f64>,
    /// vllora_llm through the facade by reference, async-openai, genai.
    others: [Option<f64>; 3],
    /// How a figure is written.
    unit: Unit,
}

#[derive(Debug, Clone, Copy)]
enum Unit {
    Instructions,
    Allocations,
    KiB,
}

impl Unit {
    fn format(self, value: f64) -> String {
        match self {
            Unit::Instructions if value >= 1e6 => format!("{:.2}M", value / 1e6),
            Unit::Instructions => format!("{:.1}k", value / 1e3),
            Unit::Allocations => format!("{value:.1}"),
            Unit::KiB => format!("{:.1} KiB", value / 1024.0),
        }
    }
}

/// Builds the peers binary, checks what the peers send, measures, and returns the table.
pub fn run(settings: &Settings) -> Result<String, String> {
    let peers = build()?;
    check_requests(&peers)?;
    let server = ServerProcess::start(EVENTS)?;
    let this = std::env::current_exe().map_err(|error| format!("current executable: {error}"))?;
    let root = format!("http://127.0.0.1:{}", server.port());
    let quick = settings.seconds < 1.0;
    let mut rows = Vec::new();
    if valgrind_exists() {
        let (small, large) = if quick { (100, 400) } else { (200, 1200) };
        let (small_streams, large_streams) = if quick { (1, 3) } else { (2, 8) };
        let (small_turns, large_turns) = if quick { (5, 15) } else { (10, 40) };
        println!(
            "peers under callgrind: one-shot {small} and {large} requests, streams {small_streams} and \
             {large_streams} of {EVENTS} events, {} turns requests {small_turns} and {large_turns}",
            fixtures::TURNS
        );
        // One-shot and the long conversation: per request.
        for (scenario, label) in [
            ("oneshot", "one-shot request".to_owned()),
            ("turns", format!("{}-message request (turns)", fixtures::TURNS)),
        ] {
            let (small, large) =
                if scenario == "turns" { (small_turns, large_turns) } else { (small, large) };
            let per = |subject: &str| main_per_unit(&this, subject, scenario, small, large, None);
            let raw = per("raw")?;
            let floor = per("by-hand")?;
            let library = per("facade-ref")?;
            let peer = |name: &str| peer_per_unit(&peers, name, scenario, &root, small, large, None);
            let (openai, genai) = (peer(PEERS[0])?, peer(PEERS[1])?);
            rows.push(PeerRow {
                measure: format!("{label}, instructions per request"),
                raw: Some(raw.instructions),
                floor: Some(floor.instructions),
                others: [Some(library.instructions), Some(openai.instructions), Some(genai.instructions)],
                unit: Unit::Instructions,
            });
            rows.push(PeerRow {
                measure: format!("{label}, allocations per request"),
                raw: Some(raw.allocations),
                floor: Some(floor.allocations),
                others: [Some(library.allocations), Some(openai.allocations), Some(genai.allocations)],
                unit: Unit::Allocations,
            });
        }
        // Streams: per server chunk (genai yields fewer items than chunks, so units are not counted).
        for (scenario, label) in [("stream-split", "one event per read"), ("stream-whole", "coalesced reads")]
        {
            let per = |subject: &str| {
                main_per_unit(&this, subject, scenario, small_streams, large_streams, Some(EVENTS))
            };
            let floor = per("raw")?;
            let library = per("facade-ref")?;
            let peer = |name: &str| {
                peer_per_unit(&peers, name, scenario, &root, small_streams, large_streams, Some(EVENTS))
            };
            let (openai, genai) = (peer(PEERS[0])?, peer(PEERS[1])?);
            rows.push(PeerRow {
                measure: format!("stream, {label}, instructions per event"),
                raw: None,
                floor: Some(floor.instructions),
                others: [Some(library.instructions), Some(openai.instructions), Some(genai.instructions)],
                unit: Unit::Instructions,
            });
            rows.push(PeerRow {
                measure: format!("stream, {label}, allocations per event"),
                raw: None,
                floor: Some(floor.allocations),
                others: [Some(library.allocations), Some(openai.allocations), Some(genai.allocations)],
                unit: Unit::Allocations,
            });
        }
    } else {
        println!("valgrind not found: the peers' instruction and allocation rows are skipped\n");
    }
    // Memory: streams opened at once, a task each, each child process fresh.
    let streams = settings.streams.iter().copied().max().unwrap_or(10_000);
    let repeats = settings.repeats.min(3);
    println!("peers: {streams} streams opened concurrently, median of {repeats}");
    let mut held: Vec<Vec<(f64, f64)>> = vec![Vec::new(); 4];
    for _ in 0..repeats {
        let port = server.port();
        if let [raw, library, openai, genai] = held.as_mut_slice() {
            raw.push(hold_streams_with(&this, "raw", port, streams, true)?);
            library.push(hold_streams_with(&this, "facade-ref", port, streams, true)?);
            openai.push(hold_streams_with(&peers, PEERS[0], port, streams, true)?);
            genai.push(hold_streams_with(&peers, PEERS[1], port, streams, true)?);
        }
    }
    let resident: Vec<f64> = held
        .iter()
        .map(|samples| median(&samples.iter().map(|sample| sample.0).collect::<Vec<_>>()))
        .collect();
    let heap: Vec<f64> = held
        .iter()
        .map(|samples| median(&samples.iter().map(|sample| sample.1).collect::<Vec<_>>()))
        .collect();
    for (figures, what) in [(&heap, "heap (live, allocated)"), (&resident, "RSS")] {
        if let [raw, library, openai, genai] = figures.as_slice() {
            rows.push(PeerRow {
                measure: format!("{what} per open stream, {streams} opened at once (a task each)"),
                raw: Some(*raw),
                floor: None,
                others: [Some(*library), Some(*openai), Some(*genai)],
                unit: Unit::KiB,
            });
        }
    }
    Ok(table(&rows))
}

/// The table: each figure, and after vllora_llm's and the peers' their ratio to the floor (to raw
/// where there is no floor).
fn table(rows: &[PeerRow]) -> String {
    let mut out = String::from(
        "| measure | raw | floor | vllora_llm (facade by ref) | async-openai | genai |\n\
         |---|---:|---:|---:|---:|---:|\n",
    );
    for row in rows {
        let base = row.floor.or(row.raw);
        let cell = |value: Option<f64>| value.map_or_else(|| "-".to_owned(), |value| row.unit.format(value));
        let with_ratio = |value: Option<f64>| match (value, base) {
            (Some(value), Some(base)) if base > 0.0 => {
                format!("{} ({:.2}x)", row.unit.format(value), value / base)
            }
            _ => cell(value),
        };
        let [library, openai, genai] = row.others;
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            row.measure,
            cell(row.raw),
            cell(row.floor),
            with_ratio(library),
            with_ratio(openai),
            with_ratio(genai)
        ));
    }
    out
}

/// Per-unit counts of `profile SUBJECT SCENARIO` of this binary: two callgrind runs, the difference
/// divided by the difference in units (or in streams times `events`, for streams).
fn main_per_unit(
    this: &Path,
    subject: &str,
    scenario: &str,
    small: usize,
    large: usize,
    events: Option<usize>,
) -> Result<Counts, String> {
    let run = |count: usize| callgrind(this, &["profile", subject, scenario, &count.to_string()]);
    difference(run(small)?, run(large)?, small, large, events, subject, scenario)
}

/// The same for the peers binary's `profile PEER SCENARIO COUNT BASE_URL`.
fn peer_per_unit(
    peers: &Path,
    peer: &str,
    scenario: &str,
    root: &str,
    small: usize,
    large: usize,
    events: Option<usize>,
) -> Result<Counts, String> {
    let run = |count: usize| callgrind(peers, &["profile", peer, scenario, &count.to_string(), root]);
    difference(run(small)?, run(large)?, small, large, events, peer, scenario)
}

fn difference(
    small: Counts,
    large: Counts,
    small_count: usize,
    large_count: usize,
    events: Option<usize>,
    subject: &str,
    scenario: &str,
) -> Result<Counts, String> {
    let units = match events {
        Some(events) => (large_count.saturating_sub(small_count) * events) as f64,
        None => large.units - small.units,
    };
    if units <= 0.0 || large.units <= small.units {
        return Err(format!("{subject} {scenario}: no more units in the larger run"));
    }
    Ok(Counts {
        instructions: (large.instructions - small.instructions) / units,
        units,
        allocations: (large.allocations - small.allocations) / units,
    })
}

/// Builds `vllora_llm_peers` in `<target>/peers` and returns its path.
fn build() -> Result<PathBuf, String> {
    let this = std::env::current_exe().map_err(|error| format!("current executable: {error}"))?;
    // `<target>/release/vllora_llm_bench`
    let target = this
        .parent()
        .and_then(Path::parent)
        .ok_or_else(|| format!("cannot tell the target directory from {}", this.display()))?
        .join("peers");
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("peers/Cargo.toml");
    println!("building the peers: {}", manifest.display());
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let status = Command::new(cargo)
        .args(["build", "--release", "--locked", "--manifest-path"])
        .arg(&manifest)
        .arg("--target-dir")
        .arg(&target)
        .status()
        .map_err(|error| format!("cannot run cargo to build the peers: {error}"))?;
    if !status.success() {
        return Err(format!("building the peers failed ({status})"));
    }
    Ok(target.join("release/vllora_llm_peers"))
}

/// Checks that each peer posts the fixture's request: same model, messages, tool and settings.
/// Differences that are the peer's own way of writing the same request (genai writes `"content": ""`
/// beside tool calls and `"stream": false`) are normalised away; anything else fails the run.
fn check_requests(peers: &Path) -> Result<(), String> {
    let expected = |scenario: &str| -> Result<Value, String> {
        let request = match scenario {
            "turns" => fixtures::turns_request(),
            other => fixtures::gateway_request(other != "oneshot"),
        };
        let bytes = serde_json::to_vec(&request).map_err(|error| error.to_string())?;
        serde_json::from_slice(&bytes).map_err(|error| error.to_string())
    };
    for scenario in ["oneshot", "stream-split", "turns"] {
        let want = projection(&expected(scenario)?);
        for peer in PEERS {
            let output = Command::new(peers)
                .args(["request", peer, scenario])
                .output()
                .map_err(|error| format!("cannot run {}: {error}", peers.display()))?;
            if !output.status.success() {
                return Err(format!(
                    "{peer} {scenario}: the request could not be captured: {}",
                    String::from_utf8_lossy(&output.stderr)
                ));
            }
            let sent: Value = serde_json::from_slice(&output.stdout)
                .map_err(|error| format!("{peer} {scenario}: the captured body is not JSON: {error}"))?;
            let got = projection(&sent);
            if got != want {
                return Err(format!(
                    "{peer} does not send the fixture's {scenario} request:\n  fixture: {want}\n  {peer}: {got}"
                ));
            }
        }
    }
    println!("peers: async-openai and genai post the fixture's requests (oneshot, stream, turns)");
    Ok(())
}

/// What a request says, written one way: absent, null and empty text contents are alike, tool call
/// arguments are compared as JSON, and numbers as f64 (the peers write f32 or f64).
fn projection(request: &Value) -> Value {
    let text = |value: Option<&Value>| value.and_then(Value::as_str).unwrap_or_default().to_owned();
    let number = |value: Option<&Value>| value.and_then(Value::as_f64);
    let messages: Vec<Value> = request
        .get("messages")
        .and_then(Value::as_array)
        .map(|messages| {
            messages
                .iter()
                .map(|message| {
                    let calls: Vec<Value> = message
                        .get("tool_calls")
                        .and_then(Value::as_array)
                        .map(|calls| {
                            calls
                                .iter()
                                .map(|call| {
                                    let arguments = call.pointer("/function/arguments").and_then(Value::as_str);
                                    json!({
                                        "id": text(call.get("id")),
                                        "name": text(call.pointer("/function/name")),
                                        "arguments": arguments
                                            .and_then(|arguments| serde_json::from_str::<Value>(arguments).ok()),
                                    })
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    json!({
                        "role": text(message.get("role")),
                        "content": text(message.get("content")),
                        "tool_calls": calls,
                        "tool_call_id": text(message.get("tool_call_id")),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let tools: Vec<Value> = request
        .get("tools")
        .and_then(Value::as_array)
        .map(|tools| {
            tools
                .iter()
                .map(|tool| {
                    json!({
                        "type": text(tool.get("type")),
                        "name": text(tool.pointer("/function/name")),
                        "description": text(tool.pointer("/function/description")),
                        "parameters": tool.pointer("/function/parameters"),
                        "strict": tool.pointer("/function/strict").and_then(Value::as_bool),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    json!({
        "model": text(request.get("model")),
        "messages": messages,
        "tools": tools,
        "temperature": number(request.get("temperature")).map(|value| (value * 1e6).round()),
        "top_p": number(request.get("top_p")).map(|value| (value * 1e6).round()),
        "max_tokens": request.get("max_tokens"),
        "user": text(request.get("user")),
        "stream": request.get("stream").and_then(Value::as_bool).unwrap_or(false),
        "include_usage": request.pointer("/stream_options/include_usage").and_then(Value::as_bool),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture_json(stream: bool) -> Value {
        let Ok(bytes) = serde_json::to_vec(&fixtures::gateway_request(stream)) else { panic!("json") };
        let Ok(value) = serde_json::from_slice(&bytes) else { panic!("json") };
        value
    }

    #[test]
    fn the_projection_keeps_what_the_request_says() {
        let request = fixture_json(true);
        let projected = projection(&request);
        assert_eq!(projected["messages"].as_array().map(Vec::len), Some(5));
        assert_eq!(
            projected["messages"][2]["tool_calls"][0]["arguments"]["to"],
            json!("Marseille Saint-Charles")
        );
        assert_eq!(projected["tools"][0]["strict"], json!(true));
        assert_eq!(
            (projected["stream"].clone(), projected["include_usage"].clone()),
            (json!(true), json!(true))
        );
        assert_ne!(projected, projection(&fixture_json(false)));
        let mut changed = request.clone();
        changed["messages"][4]["content"] = json!("The later one, please.");
        assert_ne!(projection(&changed), projected);
    }

    #[test]
    fn the_table_gives_each_figure_its_ratio_to_the_floor() {
        let row = PeerRow {
            measure: "m".to_owned(),
            raw: Some(10_000.0),
            floor: Some(20_000.0),
            others: [Some(30_000.0), Some(40_000.0), None],
            unit: Unit::Instructions,
        };
        let rendered = table(&[row]);
        assert!(rendered.contains("| m | 10.0k | 20.0k | 30.0k (1.50x) | 40.0k (2.00x) | - |"), "{rendered}");
    }
}
