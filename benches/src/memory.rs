//! Memory per open stream: each sample holds the streams open in a fresh child process
//! (`hold-streams`), so that one measurement's heap never inflates the next.

use std::process::Command;

use crate::library::LibraryClient;
use crate::measure::{median, resident_bytes};
use crate::raw::RawClient;
use crate::report::Row;
use crate::server::{self, ServerProcess};
use crate::{ALLOCATOR, Settings, client_runtime, fixtures, number, request_body};

/// Resident and heap bytes per open stream, each measured in a fresh child process.
pub fn memory(server: &ServerProcess, streams: usize, settings: &Settings) -> Result<Vec<Row>, String> {
    let repeats = settings.repeats.min(3);
    let (mut library_resident, mut library_heap, mut baseline_resident, mut baseline_heap) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..repeats {
        let (resident, heap) = hold_streams_in_child("library", server.port(), streams)?;
        library_resident.push(resident);
        library_heap.push(heap);
        let (resident, heap) = hold_streams_in_child("raw", server.port(), streams)?;
        baseline_resident.push(resident);
        baseline_heap.push(heap);
    }
    let kib = |bytes: f64| format!("{:.1} KiB", bytes / 1024.0);
    let (library_resident, baseline_resident) = (median(&library_resident), median(&baseline_resident));
    let (library_heap, baseline_heap) = (median(&library_heap), median(&baseline_heap));
    Ok(vec![
        Row {
            measure: format!("memory per open stream at {streams} streams (RSS)"),
            library: kib(library_resident),
            baseline: kib(baseline_resident),
            ratio: Some(library_resident / baseline_resident),
            target: Some(1.1),
        },
        Row {
            measure: format!("heap per open stream at {streams} streams (allocated, live)"),
            library: kib(library_heap),
            baseline: kib(baseline_heap),
            ratio: Some(library_heap / baseline_heap),
            target: None,
        },
    ])
}

fn hold_streams_in_child(subject: &str, port: u16, streams: usize) -> Result<(f64, f64), String> {
    let executable = std::env::current_exe().map_err(|error| format!("current executable: {error}"))?;
    let output = Command::new(executable)
        .args(["hold-streams", subject, &port.to_string(), &streams.to_string()])
        .output()
        .map_err(|error| format!("cannot start the memory child: {error}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        return Err(format!(
            "holding {streams} {subject} streams failed ({}): {stdout}{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let figures: Vec<f64> = stdout
        .lines()
        .find_map(|line| line.strip_prefix("per stream: "))
        .map(|figures| figures.split_whitespace().filter_map(|figure| figure.parse().ok()).collect())
        .unwrap_or_default();
    match figures.as_slice() {
        [resident, heap] => Ok((*resident, *heap)),
        _ => Err(format!("the memory child said: {stdout}")),
    }
}

/// The `hold-streams SUBJECT PORT COUNT` child: opens COUNT streams on the `stall` route, reads the first
/// event of each, and prints resident and heap bytes per stream.
pub fn hold_streams(args: &[String]) -> Result<(), String> {
    let [subject, port, count] = args else {
        return Err("usage: hold-streams SUBJECT PORT COUNT".to_owned());
    };
    let port: u16 = port.parse().map_err(|_| format!("bad port {port}"))?;
    let count = number(count)?;
    let base_url = server::base_url_on(port, "stall");
    let runtime = client_runtime()?;
    runtime.block_on(async {
        match subject.as_str() {
            "raw" => {
                let client = RawClient::new(&base_url, fixtures::API_KEY, request_body(true)?)?;
                // Warm up: the first stream pays for lazily built state that is not per stream.
                drop(client.open_stream().await?);
                let mut held = Vec::with_capacity(count);
                let before = (resident_bytes()?, ALLOCATOR.live_bytes());
                for _ in 0..count {
                    held.push(client.open_stream().await?);
                }
                report_held(before, count)
            }
            "library" => {
                let client = LibraryClient::new(&base_url)?;
                drop(client.open_stream().await?);
                let mut held = Vec::with_capacity(count);
                let before = (resident_bytes()?, ALLOCATOR.live_bytes());
                for _ in 0..count {
                    held.push(client.open_stream().await?);
                }
                report_held(before, count)
            }
            other => Err(format!("unknown subject {other}")),
        }
    })
}

fn report_held(before: (u64, u64), count: usize) -> Result<(), String> {
    let resident = resident_bytes()?.saturating_sub(before.0) as f64 / count.max(1) as f64;
    let heap = ALLOCATOR.live_bytes().saturating_sub(before.1) as f64 / count.max(1) as f64;
    println!("per stream: {resident:.0} {heap:.0}");
    Ok(())
}
