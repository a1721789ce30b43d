//! `cargo xtask e2e`: the library against a real server. Starts llama.cpp's server with the small model
//! (see [`crate::llama`]) and runs the check binaries of `crates/vllora_llm_e2e` against it:
//! `e2e_openai` (the OpenAI provider with a custom endpoint and a `Proxy` provider), `e2e_responses` and,
//! when it exists, `e2e_anthropic`. Then
//! starts a second instance with `--embedding` (llama.cpp serves embeddings or chat, not both) and runs
//! `e2e_embeddings` against it.

use crate::llama::{LlamaServer, Serving};
use crate::progress::{self, Show};
use crate::util::{cargo, step, workspace_root};

/// The package holding the end-to-end check binaries.
const E2E_PACKAGE: &str = "vllora_llm_e2e";

/// The end-to-end binaries run against the chat instance, each as `<binary> <base URL>`.
fn binaries() -> Vec<&'static str> {
    let mut binaries = vec!["e2e_openai", "e2e_responses"];
    if workspace_root().join("crates/vllora_llm_e2e/src/bin/e2e_anthropic.rs").is_file() {
        binaries.push("e2e_anthropic");
    }
    binaries.push("e2e_tool_loop");
    binaries
}

/// The end-to-end binary run against the embeddings instance.
const EMBEDDINGS_BINARY: &str = "e2e_embeddings";

/// Runs `binary` against `server`; a failure is returned, not raised, so every check runs.
/// Runs one check binary against `server`, echoing what it prints, and adds its `N passed, M failed`
/// to `totals` (a binary that ends without that line counts as one failure).
fn run_binary(binary: &str, server: &LlamaServer, totals: &mut Totals) -> Result<(), String> {
    println!("==> {binary}");
    let command = cargo(&["run", "--quiet", "-p", E2E_PACKAGE, "--bin", binary, "--", server.base_url()]);
    // Streamed as it runs: each check's line appears when the check ends, not when the binary does.
    let outcome = progress::stream(binary, command, Show::All)?;
    match outcome.stdout.iter().rev().find_map(|line| summary(line)) {
        Some((passed, failed)) => {
            totals.passed += passed;
            totals.failed += failed;
        }
        None => totals.failed += 1,
    }
    if outcome.success { Ok(()) } else { Err(format!("{binary} failed ({})", outcome.status)) }
}

/// The checks of every binary together.
#[derive(Debug, Default)]
struct Totals {
    passed: usize,
    failed: usize,
}

/// `N passed, M failed`, the last line of a check binary.
pub(crate) fn summary(line: &str) -> Option<(usize, usize)> {
    let (passed, rest) = line.split_once(" passed, ")?;
    let failed = rest.strip_suffix(" failed")?;
    Some((passed.trim().parse().ok()?, failed.trim().parse().ok()?))
}

/// Builds the checks, starts the servers one after the other, runs every check binary (all of them,
/// even after a failure) and stops the servers.
pub fn run() -> Result<(), String> {
    let binaries = binaries();
    let mut build = vec!["build", "--quiet", "-p", E2E_PACKAGE, "--bin", EMBEDDINGS_BINARY];
    for binary in &binaries {
        build.extend(["--bin", binary]);
    }
    step("build the end-to-end checks", cargo(&build))?;
    println!("==> start llama.cpp's server with Gemma 3 270M (set up in target/llama on first use)");
    let server = LlamaServer::start()?;
    println!("    listening at {}", server.base_url());
    let mut failures = Vec::new();
    let mut totals = Totals::default();
    for binary in &binaries {
        if let Err(failure) = run_binary(binary, &server, &mut totals) {
            failures.push(failure);
        }
    }
    if let Err(failure) = crate::async_openai_example::run(&server) {
        failures.push(failure);
    }
    // The tracing_otlp example against Arize Phoenix, with this server as its model.
    match crate::otlp::check(&server) {
        Ok((passed, failed)) => {
            totals.passed += passed;
            totals.failed += failed;
            if failed > 0 {
                failures.push(format!("{failed} OTLP checks failed"));
            }
        }
        Err(failure) => {
            totals.failed += 1;
            failures.push(failure);
        }
    }
    drop(server);
    println!("==> start a second llama.cpp server with --embedding");
    match LlamaServer::launch_serving(Serving::Embeddings) {
        Ok(server) => {
            println!("    listening at {}", server.base_url());
            if let Err(failure) = run_binary(EMBEDDINGS_BINARY, &server, &mut totals) {
                failures.push(failure);
            }
        }
        Err(failure) => failures.push(failure),
    }
    println!("e2e: {} passed, {} failed", totals.passed, totals.failed);
    if failures.is_empty() { Ok(()) } else { Err(failures.join("; ")) }
}

#[cfg(test)]
mod tests {
    #[test]
    fn summaries_are_read_from_the_closing_line() {
        assert_eq!(super::summary("26 passed, 0 failed"), Some((26, 0)));
        assert_eq!(super::summary("3 passed, 2 failed"), Some((3, 2)));
        assert_eq!(super::summary("PASS stream: 2 passed, checks"), None);
        assert_eq!(super::summary("x passed, 1 failed"), None);
    }
}
