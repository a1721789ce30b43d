//! Memory per open stream: each sample holds the streams open in a fresh child process
//! (`hold-streams`), so that one measurement's heap never inflates the next.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::process::Command;
use std::rc::Rc;
use std::time::Duration;

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
        let (resident, heap) = hold_streams_in_child("library", server.port(), streams, false)?;
        library_resident.push(resident);
        library_heap.push(heap);
        let (resident, heap) = hold_streams_in_child("raw", server.port(), streams, false)?;
        baseline_resident.push(resident);
        baseline_heap.push(heap);
    }
    // As a gateway opens them: all at once, one task each, through the facade by reference.
    let (mut facade_concurrent, mut raw_concurrent) = (Vec::new(), Vec::new());
    for _ in 0..repeats {
        facade_concurrent.push(hold_streams_in_child("facade-ref", server.port(), streams, true)?);
        raw_concurrent.push(hold_streams_in_child("raw", server.port(), streams, true)?);
    }
    let resident_of =
        |samples: &[(f64, f64)]| median(&samples.iter().map(|sample| sample.0).collect::<Vec<_>>());
    let heap_of = |samples: &[(f64, f64)]| median(&samples.iter().map(|sample| sample.1).collect::<Vec<_>>());
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
        Row {
            measure: format!(
                "heap per open stream, {streams} opened concurrently (a task each), facade create_stream_ref"
            ),
            library: kib(heap_of(&facade_concurrent)),
            baseline: kib(heap_of(&raw_concurrent)),
            ratio: Some(heap_of(&facade_concurrent) / heap_of(&raw_concurrent)),
            target: Some(1.1),
        },
        Row {
            measure: format!(
                "memory per open stream, {streams} opened concurrently (a task each), facade (RSS)"
            ),
            library: kib(resident_of(&facade_concurrent)),
            baseline: kib(resident_of(&raw_concurrent)),
            ratio: Some(resident_of(&facade_concurrent) / resident_of(&raw_concurrent)),
            target: None,
        },
    ])
}

fn hold_streams_in_child(
    subject: &str,
    port: u16,
    streams: usize,
    concurrent: bool,
) -> Result<(f64, f64), String> {
    let executable = std::env::current_exe().map_err(|error| format!("current executable: {error}"))?;
    hold_streams_with(&executable, subject, port, streams, concurrent)
}

/// Runs `EXECUTABLE hold-streams SUBJECT PORT COUNT [concurrent]` (this binary, or the peers binary,
/// which speaks the same command) and returns its resident and heap bytes per stream.
pub fn hold_streams_with(
    executable: &std::path::Path,
    subject: &str,
    port: u16,
    streams: usize,
    concurrent: bool,
) -> Result<(f64, f64), String> {
    let mut command = Command::new(executable);
    command.args(["hold-streams", subject, &port.to_string(), &streams.to_string()]);
    if concurrent {
        command.arg("concurrent");
    }
    let output = command.output().map_err(|error| format!("cannot start the memory child: {error}"))?;
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

/// The `hold-streams SUBJECT PORT COUNT [concurrent]` child: opens COUNT streams on the `stall` route,
/// reads the first event of each, and prints resident and heap bytes per stream. One after another in one
/// task, or with `concurrent` all at once, one task each (SUBJECT `raw` or `facade-ref`), as a gateway
/// opens them: each task's allocation is as large as its largest state, so a future that holds the
/// request while it waits shows here.
pub fn hold_streams(args: &[String]) -> Result<(), String> {
    let (subject, port, count, concurrent) = match args {
        [subject, port, count] => (subject, port, count, false),
        [subject, port, count, mode] if mode == "concurrent" => (subject, port, count, true),
        _ => return Err("usage: hold-streams SUBJECT PORT COUNT [concurrent]".to_owned()),
    };
    let port: u16 = port.parse().map_err(|_| format!("bad port {port}"))?;
    let count = number(count)?;
    let base_url = server::base_url_on(port, "stall");
    let runtime = client_runtime()?;
    if concurrent {
        let local = tokio::task::LocalSet::new();
        return runtime.block_on(local.run_until(async {
            match subject.as_str() {
                "raw" => {
                    let client = Rc::new(RawClient::new(&base_url, fixtures::API_KEY, request_body(true)?)?);
                    drop(client.open_stream().await?);
                    hold_concurrently(count, || {
                        let client = client.clone();
                        async move { client.open_stream().await }
                    })
                    .await
                }
                "facade-ref" => {
                    let client = Rc::new(LibraryClient::facade_ref(&base_url)?);
                    drop(client.open_stream().await?);
                    hold_concurrently(count, || {
                        let client = client.clone();
                        async move { client.open_stream().await }
                    })
                    .await
                }
                other => Err(format!("unknown subject {other} for concurrent opening")),
            }
        }));
    }
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
    report_held(before, count)
}

fn report_held(before: (u64, u64), count: usize) -> Result<(), String> {
    let resident = resident_bytes()?.saturating_sub(before.0) as f64 / count.max(1) as f64;
    let heap = ALLOCATOR.live_bytes().saturating_sub(before.1) as f64 / count.max(1) as f64;
    println!("per stream: {resident:.0} {heap:.0}");
    Ok(())
}
