//! The `profile` command: one side of one measurement alone, for `perf` and `callgrind`.

use std::hint::black_box;

use crate::library::{LibraryClient, TranslationProbe};
use crate::measure::process_cpu_seconds;
use crate::provider_fixtures::Provider;
use crate::provider_streams::{ProviderClient, RawProviderClient};
use crate::raw::RawClient;
use crate::report::micros;
use crate::server::ServerProcess;
use crate::{ALLOCATOR, client_runtime, fixtures, number, request_body, request_json, wire};

/// Events per streamed answer in profiled runs.
const PROFILE_EVENTS: usize = 500;

/// The `profile SUBJECT SCENARIO COUNT` command: runs one side of one measurement alone, to be run under
/// `perf record` or `valgrind --tool=callgrind`. SUBJECT is `library` (the direct model path), `bare`
/// (the library without timeouts or retries), `facade` (`VlloraLLMClient::completions().create` with
/// the caller's clone), `facade-ref` (`create_ref`), `raw` or `by-hand` (the `min` floor: serde_json
/// both ways, one-shot only); SCENARIO is `oneshot`,
/// `stream-split`, `stream-whole` or `translation`, or another provider's stream
/// (`anthropic-stream-split`, `anthropic-stream-whole`, `gemini-stream-*`, `bedrock-stream-*`: subjects
/// `library`, the provider's direct model, and `raw`, its decode floor; units are wire events).
/// `turns` is the one-shot call with the long conversation of `fixtures::turns_request`.
pub fn profile(args: &[String]) -> Result<(), String> {
    let [subject, scenario, count] = args else {
        return Err(
            "usage: profile library|bare|facade|facade-ref|raw|by-hand oneshot|stream-split|stream-whole|translation|turns COUNT".to_owned()
        );
    };
    let count = number(count)?;
    let server = ServerProcess::start(PROFILE_EVENTS)?;
    let runtime = client_runtime()?;
    let base_url = server.base_url(scenario);
    let started = process_cpu_seconds()?;
    let allocations = ALLOCATOR.allocations();
    let units = runtime.block_on(async {
        let mut units = 0u64;
        if let Some((provider, _)) = Provider::from_scenario(scenario) {
            return provider_stream(subject, provider, &base_url, count).await;
        }
        match (subject.as_str(), scenario.as_str()) {
            ("library", "translation") => {
                let probe = TranslationProbe::new();
                for _ in 0..count {
                    probe.translate().await?;
                    units += 1;
                }
            }
            ("library" | "bare" | "facade" | "facade-ref", "oneshot" | "turns") => {
                let mut client = library_client(subject, &base_url)?;
                if scenario == "turns" {
                    client = client.with_request(fixtures::turns_request());
                }
                for _ in 0..count {
                    black_box(client.one_shot().await?);
                    units += 1;
                }
            }
            ("library" | "bare" | "facade" | "facade-ref", _) => {
                let client = library_client(subject, &base_url)?;
                for _ in 0..count {
                    units += client.stream().await? as u64;
                }
            }
            ("raw", "translation") => {
                let sent = request_json()?;
                let wire = wire::wire_request(&sent, false).ok_or("the fixture lacks a wire field")?;
                for _ in 0..count {
                    black_box(serde_json::to_vec(black_box(&wire)).map_err(|error| error.to_string())?);
                    units += 1;
                }
            }
            ("by-hand", "oneshot") => {
                let client = RawClient::new(&base_url, fixtures::API_KEY, request_body(false)?)?;
                let sent = request_json()?;
                let wire = wire::wire_request(&sent, false).ok_or("the fixture lacks a wire field")?;
                for _ in 0..count {
                    black_box(client.one_shot_with_json(&wire).await?);
                    units += 1;
                }
            }
            ("by-hand" | "raw", "turns") => {
                let body =
                    serde_json::to_vec(&fixtures::turns_request()).map_err(|error| error.to_string())?;
                let sent: serde_json::Value =
                    serde_json::from_slice(&body).map_err(|error| error.to_string())?;
                let client = RawClient::new(&base_url, fixtures::API_KEY, body.into())?;
                let wire = wire::wire_request(&sent, false).ok_or("the fixture lacks a wire field")?;
                for _ in 0..count {
                    if subject == "raw" {
                        black_box(client.one_shot().await?);
                    } else {
                        black_box(client.one_shot_with_json(&wire).await?);
                    }
                    units += 1;
                }
            }
            ("raw", "oneshot") => {
                let client = RawClient::new(&base_url, fixtures::API_KEY, request_body(false)?)?;
                for _ in 0..count {
                    black_box(client.one_shot().await?);
                    units += 1;
                }
            }
            ("raw", _) => {
                let client = RawClient::new(&base_url, fixtures::API_KEY, request_body(true)?)?;
                for _ in 0..count {
                    units += client.stream().await? as u64;
                }
            }
            (other, _) => return Err(format!("unknown subject {other}")),
        }
        Ok::<u64, String>(units)
    })?;
    let cpu = process_cpu_seconds()? - started;
    let allocations = ALLOCATOR.allocations() - allocations;
    println!(
        "{subject} {scenario}: {units} units, {} CPU and {:.2} allocations per unit ({allocations} allocations)",
        micros(cpu / units.max(1) as f64),
        allocations as f64 / units.max(1) as f64
    );
    Ok(())
}

/// `count` streams of another provider through `subject`; returns the wire events read.
async fn provider_stream(
    subject: &str,
    provider: Provider,
    base_url: &str,
    count: usize,
) -> Result<u64, String> {
    let mut units = 0u64;
    match subject {
        "library" => {
            let client = ProviderClient::new(provider, base_url, PROFILE_EVENTS)?;
            for _ in 0..count {
                units += client.stream().await? as u64;
            }
        }
        "raw" => {
            let client = RawProviderClient::new(provider, base_url).await?;
            for _ in 0..count {
                units += client.stream().await? as u64;
            }
        }
        other => return Err(format!("subject {other} has no {} stream (library or raw)", provider.name())),
    }
    Ok(units)
}

/// The library client a profile subject names.
fn library_client(subject: &str, base_url: &str) -> Result<LibraryClient, String> {
    match subject {
        "bare" => LibraryClient::bare(base_url),
        "facade" => LibraryClient::facade(base_url),
        "facade-ref" => LibraryClient::facade_ref(base_url),
        _ => LibraryClient::new(base_url),
    }
}
