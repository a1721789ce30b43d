//! Instruction counts beside CPU time, where valgrind exists: each side of a measurement runs alone
//! under `valgrind --tool=callgrind` (the `profile` command), twice with different counts, and the
//! difference divided by the difference in units is the cost of one request or event, start-up and
//! warm-up excluded. Instructions do not move with the machine's load, so these ratios are the steady
//! ones; CPU time says what the instructions cost on this machine.

use std::process::Command;

use crate::provider_fixtures::{Cut, Provider};
use crate::report::Row;

/// Whether `valgrind` can be run.
pub fn valgrind_exists() -> bool {
    Command::new("valgrind").arg("--version").output().is_ok_and(|output| output.status.success())
}

/// Instructions and units of one `profile SUBJECT SCENARIO COUNT` run under callgrind.
fn run(subject: &str, scenario: &str, count: usize) -> Result<(f64, f64), String> {
    run_counted(subject, scenario, count).map(|(instructions, units, _)| (instructions, units))
}

/// Instructions, units and allocator calls of one `profile SUBJECT SCENARIO COUNT` run under callgrind.
fn run_counted(subject: &str, scenario: &str, count: usize) -> Result<(f64, f64, f64), String> {
    let executable = std::env::current_exe().map_err(|error| format!("current executable: {error}"))?;
    let counts = callgrind(&executable, &["profile", subject, scenario, &count.to_string()])?;
    Ok((counts.instructions, counts.units, counts.allocations))
}

/// What one `profile` run under callgrind counted.
#[derive(Debug, Clone, Copy)]
pub struct Counts {
    /// Instructions of the whole run.
    pub instructions: f64,
    /// Requests or stream items the run reported.
    pub units: f64,
    /// Allocator calls between the first request and the last, as the run reported them.
    pub allocations: f64,
}

/// Runs `EXECUTABLE ARGS` (a `profile` command of this binary or of the peers binary, which prints the
/// same line) under `valgrind --tool=callgrind` and reads the instruction total, the units and the
/// allocations.
pub fn callgrind(executable: &std::path::Path, args: &[&str]) -> Result<Counts, String> {
    let output = Command::new("valgrind")
        .args(["--tool=callgrind", "--callgrind-out-file=/dev/null"])
        .arg(executable)
        .args(args)
        .output()
        .map_err(|error| format!("valgrind: {error}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        return Err(format!("valgrind {} {} failed: {stderr}", executable.display(), args.join(" ")));
    }
    // `==PID== Collected : 123456`
    let instructions = stderr
        .lines()
        .find_map(|line| line.split_once("Collected :").map(|(_, count)| count.trim().replace(',', "")))
        .and_then(|count| count.parse::<f64>().ok())
        .ok_or_else(|| format!("callgrind printed no total: {stderr}"))?;
    // `library oneshot: 3000 units, ...`
    let units = stdout
        .split_once(": ")
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .and_then(|units| units.parse::<f64>().ok())
        .ok_or_else(|| format!("profile printed no unit count: {stdout}"))?;
    // `... per unit (12345 allocations)`
    let allocations = stdout
        .rsplit_once('(')
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .and_then(|allocations| allocations.parse::<f64>().ok())
        .ok_or_else(|| format!("profile printed no allocation count: {stdout}"))?;
    Ok(Counts { instructions, units, allocations })
}

/// Instructions and allocator calls per unit of `subject` in `scenario`, start-up excluded.
fn per_unit_counted(subject: &str, scenario: &str, small: usize, large: usize) -> Result<(f64, f64), String> {
    let (small_instructions, small_units, small_allocations) = run_counted(subject, scenario, small)?;
    let (large_instructions, large_units, large_allocations) = run_counted(subject, scenario, large)?;
    if large_units <= small_units {
        return Err(format!("{subject} {scenario}: no more units in the larger run"));
    }
    let units = large_units - small_units;
    Ok(((large_instructions - small_instructions) / units, (large_allocations - small_allocations) / units))
}

/// The other providers' stream rows alone (`--only provider-streams`).
pub fn provider_streams(quick: bool) -> Result<Vec<Row>, String> {
    if !valgrind_exists() {
        println!("valgrind not found: provider stream instruction counts skipped\n");
        return Ok(Vec::new());
    }
    let (small, large) = if quick { (1, 3) } else { (2, 8) };
    println!("instruction counts under callgrind: provider streams {small} and {large} of 500 events");
    provider_stream_rows(small, large)
}

/// The stream rows of Anthropic, Gemini and Bedrock: per wire event, the direct model path's
/// instructions over its decode floor's and its allocator calls, one event per read and coalesced.
pub fn provider_stream_rows(small: usize, large: usize) -> Result<Vec<Row>, String> {
    let mut rows = Vec::new();
    for provider in Provider::ALL {
        for (cut, label) in [(Cut::Split, "one event per read"), (Cut::Whole, "coalesced reads")] {
            let scenario = provider.scenario(cut);
            let (floor, floor_allocations) = per_unit_counted("raw", &scenario, small, large)?;
            let (library, library_allocations) = per_unit_counted("library", &scenario, small, large)?;
            let name = provider.name();
            rows.push(row(
                format!("{name} stream, {label}, instructions per event: direct over the decode floor"),
                library,
                floor,
                Some(1.2),
            ));
            rows.push(Row {
                measure: format!("{name} stream, {label}: allocations per event (absolute; callgrind runs)"),
                library: format!("{library_allocations:.2}"),
                baseline: format!("{floor_allocations:.2}"),
                ratio: Some(library_allocations),
                target: Some(3.0),
            });
        }
    }
    Ok(rows)
}

/// Instructions per unit of `subject` in `scenario`, start-up excluded.
fn per_unit(subject: &str, scenario: &str, small: usize, large: usize) -> Result<f64, String> {
    let (small_instructions, small_units) = run(subject, scenario, small)?;
    let (large_instructions, large_units) = run(subject, scenario, large)?;
    if large_units <= small_units {
        return Err(format!("{subject} {scenario}: no more units in the larger run"));
    }
    Ok((large_instructions - small_instructions) / (large_units - small_units))
}

fn thousands(instructions: f64) -> String {
    format!("{:.1}k instr", instructions / 1000.0)
}

fn row(measure: String, library: f64, baseline: f64, target: Option<f64>) -> Row {
    Row {
        measure,
        library: thousands(library),
        baseline: thousands(baseline),
        ratio: Some(library / baseline),
        target,
    }
}

/// The instruction rows: one-shot for the direct model path and the facade (by value and by
/// reference) against raw hyper, and streams per event against the baseline's decode floor.
pub fn instructions(quick: bool) -> Result<Vec<Row>, String> {
    if !valgrind_exists() {
        println!("valgrind not found: instruction counts skipped (CPU time only)\n");
        return Ok(Vec::new());
    }
    let (small, large) = if quick { (100, 400) } else { (200, 1200) };
    let (small_streams, large_streams) = if quick { (1, 3) } else { (2, 8) };
    println!(
        "instruction counts under callgrind: one-shot {small} and {large} requests, streams {small_streams} and {large_streams} of 500 events (each side alone, twice)"
    );
    let raw = per_unit("raw", "oneshot", small, large)?;
    let by_hand = per_unit("by-hand", "oneshot", small, large)?;
    let direct = per_unit("library", "oneshot", small, large)?;
    let facade_ref = per_unit("facade-ref", "oneshot", small, large)?;
    let facade = per_unit("facade", "oneshot", small, large)?;
    let mut rows = vec![
        row("one-shot, instructions: direct model path over raw hyper".to_owned(), direct, raw, None),
        row(
            "one-shot, instructions: facade by reference (create_ref) over raw hyper".to_owned(),
            facade_ref,
            raw,
            None,
        ),
        row(
            "one-shot, instructions: facade by value (create, caller's clone) over raw hyper".to_owned(),
            facade,
            raw,
            None,
        ),
        row(
            "one-shot, instructions: facade by reference over the direct model path".to_owned(),
            facade_ref,
            direct,
            None,
        ),
        row(
            "one-shot, instructions: facade by reference over the min floor (serde_json both ways)"
                .to_owned(),
            facade_ref,
            by_hand,
            Some(1.15),
        ),
    ];
    // A gateway's long conversation (`fixtures::turns_request`), sent by reference.
    let (small_turns, large_turns) = if quick { (5, 15) } else { (10, 40) };
    let turns_floor = per_unit("by-hand", "turns", small_turns, large_turns)?;
    let turns = per_unit("facade-ref", "turns", small_turns, large_turns)?;
    rows.push(Row {
        measure: format!(
            "{}-message request (turns), instructions: facade by reference over the min floor",
            crate::fixtures::TURNS
        ),
        library: format!("{:.2}M instr", turns / 1e6),
        baseline: format!("{:.2}M instr", turns_floor / 1e6),
        ratio: Some(turns / turns_floor),
        target: None,
    });
    for (scenario, label) in [("stream-split", "one event per read"), ("stream-whole", "coalesced reads")] {
        let floor = per_unit("raw", scenario, small_streams, large_streams)?;
        let library = per_unit("library", scenario, small_streams, large_streams)?;
        let facade = per_unit("facade-ref", scenario, small_streams, large_streams)?;
        rows.push(row(
            format!("stream, {label}, instructions per event: direct over the decode floor"),
            library,
            floor,
            Some(1.2),
        ));
        rows.push(row(
            format!("stream, {label}, instructions per event: facade over the decode floor"),
            facade,
            floor,
            Some(1.2),
        ));
    }
    rows.extend(provider_stream_rows(small_streams, large_streams)?);
    Ok(rows)
}
