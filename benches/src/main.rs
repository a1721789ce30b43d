//! `cargo xtask bench`: what vllora_llm costs per one-shot request, per stream event, per open stream
//! and per request translation, as ratios to raw hyper and serde_json measured in the same run.
//!
//! The loopback server runs in a child process (see `server`), so the CPU time and memory read from
//! `/proc/self` are the client's alone. Each figure is the median of several repeats; within a repeat
//! the library and its baseline run one after the other, so drift hits both alike.

mod fixtures;
mod instructions;
mod library;
mod measure;
mod memory;
mod peers;
mod profile;
mod provider_fixtures;
mod provider_streams;
mod raw;
mod report;
mod server;
mod soak;
mod wire;

use std::hint::black_box;
use std::process::ExitCode;

use bytes::Bytes;
use tokio::runtime::Runtime;

use library::{LibraryClient, TranslationProbe};
use measure::{CountingAllocator, median, process_cpu_seconds};
use raw::RawClient;
use report::{Row, micros};
use server::ServerProcess;

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator::new();

const USAGE: &str = "usage: cargo xtask bench [--quick] [--repeats N] [--seconds S] [--events N] \
                     [--streams 1000,10000] [--only oneshot,stream,translation,memory,instructions,provider-streams,soak] [--peers]";

/// How long and how often to measure.
#[derive(Debug, Clone)]
struct Settings {
    /// Samples per measurement; the median is reported.
    repeats: usize,
    /// Client CPU seconds each sample aims for.
    seconds: f64,
    /// Chunks per streamed answer.
    events: usize,
    /// Concurrent stream counts for the memory measurement.
    streams: Vec<usize>,
    /// Measurements to run; all when empty.
    only: Vec<String>,
    /// Whether to build and measure the peers (async-openai, genai) too: `--peers`.
    peers: bool,
}

impl Settings {
    fn parse(args: &[String]) -> Result<Settings, String> {
        let mut settings = Settings {
            repeats: 5,
            seconds: 1.0,
            events: 500,
            streams: vec![1_000, 10_000],
            only: Vec::new(),
            peers: false,
        };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value\n{USAGE}"));
            match arg.as_str() {
                "--quick" => {
                    settings.repeats = 3;
                    settings.seconds = 0.3;
                    settings.streams = vec![1_000];
                }
                "--repeats" => settings.repeats = number(value()?)?,
                "--seconds" => {
                    settings.seconds =
                        value()?.parse().map_err(|_| format!("--seconds: not a number\n{USAGE}"))?
                }
                "--events" => settings.events = number(value()?)?.max(3),
                "--streams" => {
                    settings.streams = value()?.split(',').map(number).collect::<Result<_, _>>()?
                }
                "--only" => settings.only = value()?.split(',').map(str::to_owned).collect(),
                "--peers" => settings.peers = true,
                "--help" | "-h" => return Err(USAGE.to_owned()),
                other => return Err(format!("unknown argument `{other}`\n{USAGE}")),
            }
        }
        settings.repeats = settings.repeats.max(1);
        Ok(settings)
    }

    fn wants(&self, measurement: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|wanted| wanted == measurement)
    }
}

fn number(text: &str) -> Result<usize, String> {
    text.replace('_', "").parse().map_err(|_| format!("`{text}` is not a whole number\n{USAGE}"))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let outcome = match args.split_first() {
        Some((command, rest)) if command == "serve" => {
            Settings::parse(rest).and_then(|settings| server::serve(settings.events))
        }
        Some((command, rest)) if command == "hold-streams" => memory::hold_streams(rest),
        Some((command, rest)) if command == "profile" => profile::profile(rest),
        Some((command, _)) if command == "--help" || command == "-h" => {
            println!("{USAGE}");
            Ok(())
        }
        _ => Settings::parse(&args).and_then(|settings| run(&settings)),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("vllora_llm_bench: {message}");
            ExitCode::FAILURE
        }
    }
}

/// A measured job: runs `count` operations and returns how many units (requests, events) they made.
type Job<'a> = dyn Fn(usize) -> Result<u64, String> + 'a;

/// Client CPU time and allocator calls per unit, from one run of a job.
#[derive(Debug, Clone, Copy)]
struct Sample {
    cpu_per_unit: f64,
    allocations_per_unit: f64,
}

fn sample(job: &Job<'_>, count: usize) -> Result<Sample, String> {
    let allocations_before = ALLOCATOR.allocations();
    let cpu_before = process_cpu_seconds()?;
    let units = job(count)?.max(1) as f64;
    let cpu = process_cpu_seconds()? - cpu_before;
    let allocations = ALLOCATOR.allocations() - allocations_before;
    Ok(Sample { cpu_per_unit: cpu / units, allocations_per_unit: allocations as f64 / units })
}

/// How many operations make a sample of about `seconds` of CPU. Warms the job up on the way.
fn calibrate(job: &Job<'_>, seconds: f64) -> Result<usize, String> {
    let mut count = 1usize;
    loop {
        let before = process_cpu_seconds()?;
        job(count)?;
        let spent = process_cpu_seconds()? - before;
        // CPU time comes in 10 ms ticks: below 50 ms the estimate is too coarse to scale from.
        if spent >= 0.05 || count >= 1 << 28 {
            return Ok(((count as f64) * seconds / spent.max(0.01)).ceil().max(1.0) as usize);
        }
        count *= 4;
    }
}

/// The medians of several samples of the library and its baseline, taken alternately.
fn compare(library: &Job<'_>, baseline: &Job<'_>, settings: &Settings) -> Result<(Sample, Sample), String> {
    match compare_all(&[library, baseline], settings)?.as_slice() {
        [library, baseline] => Ok((*library, *baseline)),
        _ => Err("two jobs give two samples".to_owned()),
    }
}

/// The medians of several samples of each job, the jobs taking turns within each repeat.
fn compare_all(jobs: &[&Job<'_>], settings: &Settings) -> Result<Vec<Sample>, String> {
    let counts = jobs.iter().map(|job| calibrate(*job, settings.seconds)).collect::<Result<Vec<_>, _>>()?;
    let mut samples: Vec<Vec<Sample>> = vec![Vec::with_capacity(settings.repeats); jobs.len()];
    for _ in 0..settings.repeats {
        for ((job, count), job_samples) in jobs.iter().zip(&counts).zip(&mut samples) {
            job_samples.push(sample(*job, *count)?);
        }
    }
    Ok(samples.iter().map(|job_samples| medians(job_samples)).collect())
}

fn medians(samples: &[Sample]) -> Sample {
    let cpu: Vec<f64> = samples.iter().map(|sample| sample.cpu_per_unit).collect();
    let allocations: Vec<f64> = samples.iter().map(|sample| sample.allocations_per_unit).collect();
    Sample { cpu_per_unit: median(&cpu), allocations_per_unit: median(&allocations) }
}

fn client_runtime() -> Result<Runtime, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| format!("client runtime: {error}"))
}

/// The gateway request as OpenAI JSON, for the borrowed wire struct to take its strings from.
fn request_json() -> Result<serde_json::Value, String> {
    serde_json::from_slice(&request_body(false)?).map_err(|error| format!("request body: {error}"))
}

fn request_body(stream: bool) -> Result<Bytes, String> {
    serde_json::to_vec(&fixtures::gateway_request(stream))
        .map(Bytes::from)
        .map_err(|error| format!("request body: {error}"))
}

fn run(settings: &Settings) -> Result<(), String> {
    println!("{}", machine());
    println!(
        "settings: {} repeats of about {} s of client CPU each, {} chunks per stream, streams held: {:?}\n",
        settings.repeats, settings.seconds, settings.events, settings.streams
    );
    let server = ServerProcess::start(settings.events)?;
    let runtime = client_runtime()?;
    let mut rows = Vec::new();
    if settings.wants("oneshot") {
        rows.extend(one_shot(&server, &runtime, settings)?);
    }
    if settings.wants("stream") {
        rows.extend(streams(&server, &runtime, settings)?);
    }
    if settings.wants("translation") {
        rows.extend(translation(&runtime, settings)?);
    }
    if settings.wants("memory") {
        for &streams in &settings.streams {
            rows.extend(memory::memory(&server, streams, settings)?);
        }
    }
    if settings.wants("instructions") {
        // Shorter samples (`--quick`) get shorter callgrind runs.
        rows.extend(instructions::instructions(settings.seconds < 1.0)?);
    } else if settings.wants("provider-streams") {
        // Part of `instructions`; alone, the Anthropic, Gemini and Bedrock stream rows only.
        rows.extend(instructions::provider_streams(settings.seconds < 1.0)?);
    }
    if !rows.is_empty() {
        println!("{}", report::table(&rows));
    }
    if settings.peers {
        println!("{}", peers::run(settings)?);
    }
    if settings.wants("soak") {
        soak::run()?;
    }
    Ok(())
}

fn one_shot(server: &ServerProcess, runtime: &Runtime, settings: &Settings) -> Result<Vec<Row>, String> {
    let base_url = server.base_url("oneshot");
    let client = LibraryClient::new(&base_url)?;
    let facade_client = LibraryClient::facade(&base_url)?;
    let facade_ref_client = LibraryClient::facade_ref(&base_url)?;
    let raw = RawClient::new(&base_url, fixtures::API_KEY, request_body(false)?)?;
    let sent = request_json()?;
    let wire = wire::wire_request(&sent, false).ok_or("the fixture lacks a field the wire struct needs")?;
    let library = |count: usize| {
        runtime.block_on(async {
            for _ in 0..count {
                black_box(client.one_shot().await?);
            }
            Ok(count as u64)
        })
    };
    let baseline = |count: usize| {
        runtime.block_on(async {
            for _ in 0..count {
                black_box(raw.one_shot().await?);
            }
            Ok(count as u64)
        })
    };
    let by_hand = |count: usize| {
        runtime.block_on(async {
            for _ in 0..count {
                black_box(raw.one_shot_with_json(&wire).await?);
            }
            Ok(count as u64)
        })
    };
    let facade = |count: usize| {
        runtime.block_on(async {
            for _ in 0..count {
                black_box(facade_client.one_shot().await?);
            }
            Ok(count as u64)
        })
    };
    let facade_ref = |count: usize| {
        runtime.block_on(async {
            for _ in 0..count {
                black_box(facade_ref_client.one_shot().await?);
            }
            Ok(count as u64)
        })
    };
    let [library, baseline, by_hand, facade, facade_ref] =
        compare_all(&[&library, &baseline, &by_hand, &facade, &facade_ref], settings)?[..]
    else {
        return Err("five jobs give five samples".to_owned());
    };
    Ok(vec![
        Row {
            measure: "one-shot, facade by reference (create_ref) over the direct model path: CPU per request"
                .to_owned(),
            library: micros(facade_ref.cpu_per_unit),
            baseline: micros(library.cpu_per_unit),
            ratio: Some(facade_ref.cpu_per_unit / library.cpu_per_unit),
            target: None,
        },
        Row {
            measure: "one-shot, facade by reference: allocations per request".to_owned(),
            library: format!("{:.1}", facade_ref.allocations_per_unit),
            baseline: format!("{:.1}", library.allocations_per_unit),
            ratio: Some(facade_ref.allocations_per_unit / library.allocations_per_unit),
            target: None,
        },
        Row {
            measure: "one-shot through VlloraLLMClient::completions() (facade): CPU per request".to_owned(),
            library: micros(facade.cpu_per_unit),
            baseline: micros(baseline.cpu_per_unit),
            ratio: Some(facade.cpu_per_unit / baseline.cpu_per_unit),
            target: Some(1.15),
        },
        Row {
            measure: "one-shot, facade over the direct model path: CPU per request".to_owned(),
            library: micros(facade.cpu_per_unit),
            baseline: micros(library.cpu_per_unit),
            ratio: Some(facade.cpu_per_unit / library.cpu_per_unit),
            target: None,
        },
        Row {
            measure: "one-shot through the facade: allocations per request".to_owned(),
            library: format!("{:.1}", facade.allocations_per_unit),
            baseline: format!("{:.1}", library.allocations_per_unit),
            ratio: Some(facade.allocations_per_unit / library.allocations_per_unit),
            target: None,
        },
        Row {
            measure: "one-shot, direct model path (OpenAIModel): client CPU per request".to_owned(),
            library: micros(library.cpu_per_unit),
            baseline: micros(baseline.cpu_per_unit),
            ratio: Some(library.cpu_per_unit / baseline.cpu_per_unit),
            target: Some(1.15),
        },
        Row {
            measure: "one-shot: allocations per request".to_owned(),
            library: format!("{:.1}", library.allocations_per_unit),
            baseline: format!("{:.1}", baseline.allocations_per_unit),
            ratio: Some(library.allocations_per_unit / baseline.allocations_per_unit),
            target: None,
        },
        Row {
            measure: "one-shot, same work by hand (serde_json both ways, borrowed): CPU per request"
                .to_owned(),
            library: micros(library.cpu_per_unit),
            baseline: micros(by_hand.cpu_per_unit),
            ratio: Some(library.cpu_per_unit / by_hand.cpu_per_unit),
            target: None,
        },
    ])
}

fn streams(server: &ServerProcess, runtime: &Runtime, settings: &Settings) -> Result<Vec<Row>, String> {
    let mut rows = Vec::new();
    let mut library_per_event = Vec::new();
    for (scenario, label) in [("stream-split", "one event per read"), ("stream-whole", "coalesced reads")] {
        let base_url = server.base_url(scenario);
        let client = LibraryClient::new(&base_url)?;
        let facade_client = LibraryClient::facade(&base_url)?;
        let raw = RawClient::new(&base_url, fixtures::API_KEY, request_body(true)?)?;
        let library = |count: usize| {
            runtime.block_on(async {
                let mut events = 0;
                for _ in 0..count {
                    events += client.stream().await? as u64;
                }
                Ok(events)
            })
        };
        let baseline = |count: usize| {
            runtime.block_on(async {
                let mut events = 0;
                for _ in 0..count {
                    events += raw.stream().await? as u64;
                }
                Ok(events)
            })
        };
        let facade = |count: usize| {
            runtime.block_on(async {
                let mut events = 0;
                for _ in 0..count {
                    events += facade_client.stream().await? as u64;
                }
                Ok(events)
            })
        };
        let [library, baseline, facade] = compare_all(&[&library, &baseline, &facade], settings)?[..] else {
            return Err("three jobs give three samples".to_owned());
        };
        library_per_event.push(library.cpu_per_unit);
        rows.push(Row {
            measure: format!("stream, {label}: facade over the direct model path, CPU per event"),
            library: micros(facade.cpu_per_unit),
            baseline: micros(library.cpu_per_unit),
            ratio: Some(facade.cpu_per_unit / library.cpu_per_unit),
            target: None,
        });
        rows.push(Row {
            measure: format!("stream, {label}: client CPU per event"),
            library: micros(library.cpu_per_unit),
            baseline: micros(baseline.cpu_per_unit),
            ratio: Some(library.cpu_per_unit / baseline.cpu_per_unit),
            target: Some(1.2),
        });
        rows.push(Row {
            measure: format!("stream, {label}: allocations per event (absolute)"),
            library: format!("{:.2}", library.allocations_per_unit),
            baseline: format!("{:.2}", baseline.allocations_per_unit),
            ratio: Some(library.allocations_per_unit),
            target: Some(3.0),
        });
    }
    if let [split, whole] = library_per_event.as_slice() {
        rows.push(Row {
            measure: "stream: vllora_llm CPU per event, coalesced over one per read".to_owned(),
            library: micros(*whole),
            baseline: micros(*split),
            ratio: Some(whole / split),
            target: Some(1.0),
        });
    }
    Ok(rows)
}

fn translation(runtime: &Runtime, settings: &Settings) -> Result<Vec<Row>, String> {
    let probe = TranslationProbe::new();
    runtime.block_on(probe.translate())?;
    let library_body = probe.last_body().ok_or("the probe saw no request")?;
    // The baseline borrows the strings of the body vllora_llm sent, and must write the same JSON.
    let sent: serde_json::Value = serde_json::from_slice(&library_body).map_err(|error| error.to_string())?;
    let wire = wire::wire_request(&sent, false).ok_or("the body sent lacks a field the wire struct needs")?;
    let written = serde_json::to_vec(&wire).map_err(|error| error.to_string())?;
    if serde_json::from_slice::<serde_json::Value>(&written).ok().as_ref() != Some(&sent) {
        return Err(format!(
            "the translation baseline does not write what vllora_llm sends:\n  sent:     {}\n  baseline: {}",
            String::from_utf8_lossy(&library_body),
            String::from_utf8_lossy(&written)
        ));
    }
    let library = |count: usize| {
        runtime.block_on(async {
            for _ in 0..count {
                probe.translate().await?;
            }
            Ok(count as u64)
        })
    };
    let baseline = |count: usize| {
        for _ in 0..count {
            let bytes = serde_json::to_vec(black_box(&wire)).map_err(|error| error.to_string())?;
            black_box(bytes);
        }
        Ok(count as u64)
    };
    let (library, baseline) = compare(&library, &baseline, settings)?;
    Ok(vec![
        Row {
            measure: "translation: request to OpenAI JSON bytes (upper bound, see docs)".to_owned(),
            library: micros(library.cpu_per_unit),
            baseline: micros(baseline.cpu_per_unit),
            ratio: Some(library.cpu_per_unit / baseline.cpu_per_unit),
            target: Some(1.3),
        },
        Row {
            measure: "translation: allocations per request".to_owned(),
            library: format!("{:.1}", library.allocations_per_unit),
            baseline: format!("{:.1}", baseline.allocations_per_unit),
            ratio: Some(library.allocations_per_unit / baseline.allocations_per_unit),
            target: None,
        },
    ])
}

/// The machine, as `docs/benchmarks.md` records it.
fn machine() -> String {
    let cpus = std::thread::available_parallelism().map_or(0, usize::from);
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|line| line.strip_prefix("model name").and_then(|rest| rest.split_once(':')))
        .map_or("unknown", |(_, model)| model.trim());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let memory_gib = meminfo
        .lines()
        .find_map(|line| line.strip_prefix("MemTotal:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kib| kib / 1024.0 / 1024.0);
    // Other work on the machine inflates CPU times (shared caches, frequency): say how busy it was.
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load: Vec<&str> = load.split_whitespace().take(3).collect();
    format!(
        "machine: {cpus} CPUs ({model}), {memory_gib:.1} GiB memory; load average at start {}",
        load.join(" ")
    )
}
