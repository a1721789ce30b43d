//! `cargo xtask e2e`: the library against a real server. Starts llama.cpp's server with the small model
//! (see [`crate::llama`]) and runs the end-to-end example binaries against it: `e2e_openai` (the OpenAI
//! provider with a custom endpoint and a `Proxy` provider) and, when it exists, `e2e_anthropic`. Then
//! starts a second instance with `--embedding` (llama.cpp serves embeddings or chat, not both) and runs
//! `e2e_embeddings` against it.

use crate::llama::{LlamaServer, Serving};
use crate::util::{cargo, step, workspace_root};

/// The end-to-end binaries of the examples crate, each run as `<binary> <base URL>`.
fn binaries() -> Vec<&'static str> {
    let mut binaries = vec!["e2e_openai", "e2e_responses"];
    if workspace_root().join("examples/src/bin/e2e_anthropic.rs").is_file() {
        binaries.push("e2e_anthropic");
    }
    binaries
}

/// The end-to-end binary run against the embeddings instance.
const EMBEDDINGS_BINARY: &str = "e2e_embeddings";

/// Runs `binary` against `server`; a failure is returned, not raised, so every check runs.
fn run_binary(binary: &str, server: &LlamaServer) -> Result<(), String> {
    let command =
        cargo(&["run", "--quiet", "-p", "vllora_llm_examples", "--bin", binary, "--", server.base_url()]);
    step(binary, command)
}

/// Builds the checks, starts the servers one after the other, runs every check binary (all of them,
/// even after a failure) and stops the servers.
pub fn run() -> Result<(), String> {
    let binaries = binaries();
    let mut build = vec!["build", "--quiet", "-p", "vllora_llm_examples", "--bin", EMBEDDINGS_BINARY];
    for binary in &binaries {
        build.extend(["--bin", binary]);
    }
    step("build the end-to-end checks", cargo(&build))?;
    println!("==> start llama.cpp's server with Gemma 3 270M (set up in target/llama on first use)");
    let server = LlamaServer::start()?;
    println!("    listening at {}", server.base_url());
    let mut failures = Vec::new();
    for binary in &binaries {
        if let Err(failure) = run_binary(binary, &server) {
            failures.push(failure);
        }
    }
    drop(server);
    println!("==> start a second llama.cpp server with --embedding");
    match LlamaServer::launch_serving(Serving::Embeddings) {
        Ok(server) => {
            println!("    listening at {}", server.base_url());
            if let Err(failure) = run_binary(EMBEDDINGS_BINARY, &server) {
                failures.push(failure);
            }
        }
        Err(failure) => failures.push(failure),
    }
    if failures.is_empty() { Ok(()) } else { Err(failures.join("; ")) }
}
