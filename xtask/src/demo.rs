//! `cargo xtask demo`: the README's first command. Without `VLLORA_OPENAI_API_KEY` it sets up a small
//! local model and streams its answer through the library; with the key it runs the quick start against
//! OpenAI.

use crate::llama::{self, LlamaServer};
use crate::progress::{self, CARGO_PROGRESS};
use crate::util::{cargo, workspace_root};

const DEFAULT_QUESTION: &str = "What is the capital of France?";

/// Runs the demo; `args` is the question (all words), or a default one.
pub fn run(args: &[String]) -> Result<(), String> {
    let question = if args.is_empty() { DEFAULT_QUESTION.to_owned() } else { args.join(" ") };
    let has_key = std::env::var("VLLORA_OPENAI_API_KEY").is_ok_and(|key| !key.trim().is_empty());
    if has_key {
        println!("VLLORA_OPENAI_API_KEY is set: running the quick start against OpenAI (examples/openai).");
        return run_example("openai", &[&question]);
    }
    println!(
        "No VLLORA_OPENAI_API_KEY set, so this demo answers with a small model running on this machine."
    );
    println!("[1/4] Building the example (examples/local_chat; a few minutes the first time)...");
    let build = cargo(&["build", "-p", "vllora_llm_example_local_chat", "--color", "never"]);
    progress::step("cargo build -p vllora_llm_example_local_chat", build, CARGO_PROGRESS)?;
    let install = workspace_root().join("target/llama");
    println!(
        "[2/4] Setting up llama.cpp's server and Gemma 3 270M in {} (about 280 MB to download, 370 MB on \
         disk, first time only)...",
        install.display()
    );
    llama::setup()?;
    println!("[3/4] Starting the server on a free local port...");
    let server = LlamaServer::launch()?;
    println!("      It speaks OpenAI's chat completions at {}/v1.", server.base_url());
    println!("[4/4] Streaming the answer through vllora_llm (InferenceModelProvider::Proxy(\"local\")):");
    println!();
    let outcome = run_example("local_chat", &[server.base_url(), &question]);
    drop(server);
    outcome?;
    println!();
    println!("Set VLLORA_OPENAI_API_KEY and run `cargo xtask demo` again to ask OpenAI instead.");
    Ok(())
}

/// Runs `examples/<example>` with `args`.
fn run_example(example: &str, args: &[&str]) -> Result<(), String> {
    let package = format!("vllora_llm_example_{example}");
    let mut full = vec!["run", "--quiet", "-p", &package, "--"];
    full.extend_from_slice(args);
    let status = cargo(&full).status().map_err(|error| format!("cannot run cargo: {error}"))?;
    if status.success() { Ok(()) } else { Err(format!("the example failed ({status})")) }
}
