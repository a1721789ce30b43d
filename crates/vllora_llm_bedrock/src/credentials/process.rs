//! `credential_process`: the profile's command, run through the shell as AWS's SDKs run it (`sh -c`,
//! `cmd.exe /C` on Windows) on a blocking thread, printing version-1 JSON with the keys.

use vllora_llm_core::{LLMError, LLMResult};
use vllora_llm_http::Expiring;

use super::KeysDocument;
use crate::config::missing;
use crate::sign::SigningCredentials;

/// The most output read from the command: credentials are a few kilobytes.
const MAX_OUTPUT: usize = 64 * 1024;

pub(super) async fn run(command: &str, profile: &str) -> LLMResult<Expiring<SigningCredentials>> {
    let what = format!("credential_process of profile `{profile}`");
    let owned = command.to_owned();
    let output = match tokio::runtime::Handle::try_current() {
        Ok(runtime) => runtime
            .spawn_blocking(move || execute(&owned))
            .await
            .map_err(|error| missing(format!("{what}: the command's thread failed: {error}")))?,
        Err(_) => execute(&owned),
    };
    let output = output.map_err(|error| missing(format!("{what}: the command cannot be run: {error}")))?;
    if !output.status.success() {
        // Its output is not shown: a failing helper may still have printed keys or tokens.
        return Err(missing(format!("{what}: the command failed ({})", output.status)));
    }
    if output.stdout.len() > MAX_OUTPUT {
        return Err(LLMError::Config(format!("{what}: the command printed more than {MAX_OUTPUT} bytes")));
    }
    let document = KeysDocument::parse(&output.stdout, &what)?;
    if document.version != Some(1) {
        return Err(LLMError::Config(format!("{what}: the JSON it printed lacks \"Version\": 1")));
    }
    document.into_keys(&what)
}

fn execute(command: &str) -> std::io::Result<std::process::Output> {
    let mut shell = if cfg!(windows) {
        let mut shell = std::process::Command::new("cmd.exe");
        shell.args(["/C", command]);
        shell
    } else {
        let mut shell = std::process::Command::new("sh");
        shell.args(["-c", command]);
        shell
    };
    shell.stdin(std::process::Stdio::null()).output()
}
