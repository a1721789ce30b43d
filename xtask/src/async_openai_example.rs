//! The documents' async-openai program (`examples/async_openai`) against the local llama.cpp server, as
//! part of `cargo xtask e2e`: it must run to the end and print a one-shot reply and a streamed one.

use crate::llama::LlamaServer;
use crate::util::{cargo, step};

/// The example's package.
const PACKAGE: &str = "vllora_llm_example_async_openai";

/// Builds and runs the example with its key and the server as OpenAI's endpoint (the program passes its
/// key explicitly; the endpoint comes from `VLLORA_OPENAI_ENDPOINT`), and checks what it printed.
pub fn run(server: &LlamaServer) -> Result<(), String> {
    step("build the async-openai example", cargo(&["build", "--quiet", "-p", PACKAGE]))?;
    println!("==> async_openai example (the documents' program)");
    let mut command = cargo(&["run", "--quiet", "-p", PACKAGE]);
    command
        .env("VLLORA_OPENAI_API_KEY", "local-llama")
        .env("VLLORA_OPENAI_ENDPOINT", format!("{}/v1", server.base_url().trim_end_matches('/')))
        .env_remove("OPENAI_BASE_URL")
        .stderr(std::process::Stdio::inherit());
    let output = command.output().map_err(|error| format!("async_openai example: cannot start: {error}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    println!("{stdout}");
    if !output.status.success() {
        return Err(format!("async_openai example failed ({})", output.status));
    }
    check(&stdout)
}

/// The program prints `Non-streaming reply:\n<text>` (a literal backslash-n, as the documents write it),
/// then the streamed text.
fn check(stdout: &str) -> Result<(), String> {
    let Some(after) = stdout.split_once("Non-streaming reply:\\n").map(|(_, after)| after) else {
        return Err("async_openai example: no `Non-streaming reply:` line".to_owned());
    };
    let (one_shot, streamed) = after.split_once('\n').unwrap_or((after, ""));
    if one_shot.trim().is_empty() || streamed.trim().is_empty() {
        return Err(format!(
            "async_openai example: expected a one-shot reply and streamed text, got {one_shot:?} and {streamed:?}"
        ));
    }
    println!("async_openai example: one-shot and streamed replies received");
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn both_replies_are_required() {
        assert!(super::check("Non-streaming reply:\\n1\n2\n1\n2\n3").is_ok());
        assert!(super::check("Non-streaming reply:\\n1\n").is_err());
        assert!(super::check("Non-streaming reply:\\n\n1 2 3").is_err());
        assert!(super::check("1 2 3").is_err());
    }
}
