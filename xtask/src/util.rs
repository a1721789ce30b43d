//! Small helpers for running commands from the workspace root.

use std::path::PathBuf;
use std::process::Command;

/// The workspace root (the parent of `xtask/`).
pub fn workspace_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(PathBuf::from).unwrap_or(manifest)
}

/// `cargo <args>` run from the workspace root.
pub fn cargo(args: &[&str]) -> Command {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()));
    command.args(args).current_dir(workspace_root());
    command
}

/// Runs a command, announcing it, and fails if it fails.
pub fn step(label: &str, mut command: Command) -> Result<(), String> {
    println!("==> {label}");
    let status = command.status().map_err(|error| format!("{label}: cannot start: {error}"))?;
    if status.success() { Ok(()) } else { Err(format!("{label} failed ({status})")) }
}

/// Runs a command and returns its standard output; fails if it fails.
pub fn capture(mut command: Command) -> Result<String, String> {
    let output = command.output().map_err(|error| format!("cannot start {command:?}: {error}"))?;
    if !output.status.success() {
        return Err(format!(
            "{command:?} failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}
