//! `cargo xtask e2e`: the library against a real server. Starts llama.cpp's server with the small model
//! (see [`crate::llama`]) and runs the end-to-end example binaries against it: `e2e_openai` (the OpenAI
//! provider with a custom endpoint and a `Proxy` provider) and, when it exists, `e2e_anthropic`.

use crate::llama::LlamaServer;
use crate::util::{cargo, step, workspace_root};

/// The end-to-end binaries of the examples crate, each run as `<binary> <base URL>`.
fn binaries() -> Vec<&'static str> {
    let mut binaries = vec!["e2e_openai", "e2e_responses"];
    if workspace_root().join("examples/src/bin/e2e_anthropic.rs").is_file() {
        binaries.push("e2e_anthropic");
    }
    binaries
}

/// Builds the checks, starts the server, runs every check binary (all of them, even after a failure)
/// and stops the server.
pub fn run() -> Result<(), String> {
    let binaries = binaries();
    let mut build = vec!["build", "--quiet", "-p", "vllora_llm_examples"];
    for binary in &binaries {
        build.extend(["--bin", binary]);
    }
    step("build the end-to-end checks", cargo(&build))?;
    println!("==> start llama.cpp's server with Gemma 3 270M (set up in target/llama on first use)");
    let server = LlamaServer::start()?;
    println!("    listening at {}", server.base_url());
    let mut failures = Vec::new();
    for binary in &binaries {
        let command =
            cargo(&["run", "--quiet", "-p", "vllora_llm_examples", "--bin", binary, "--", server.base_url()]);
        if let Err(failure) = step(binary, command) {
            failures.push(failure);
        }
    }
    drop(server);
    if failures.is_empty() { Ok(()) } else { Err(failures.join("; ")) }
}
