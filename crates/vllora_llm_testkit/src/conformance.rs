//! [`record_conformance`]: collects wire documents built by tests for schema validation.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Serialises appends from the test threads of one process, so lines never interleave.
static APPEND_LOCK: Mutex<()> = Mutex::new(());

/// Appends `document` as one line to `target/conformance/<kind>.jsonl` of the workspace (or of
/// `CARGO_TARGET_DIR`), where `cargo xtask conformance` validates it against the provider's schema.
///
/// `kind` is one of `validate.py`'s kinds: `openai-chat`, `anthropic-messages`, `gemini-generate`,
/// `bedrock-converse`, `openai-chat-response`, `anthropic-stream-event`, ...
///
/// # Panics
///
/// When `kind` is not a plain name or the file cannot be written: a lost record would let a wrong body
/// pass unvalidated.
#[allow(clippy::panic, reason = "a test helper must fail the test rather than drop a record")]
pub fn record_conformance(kind: &str, document: &serde_json::Value) {
    let plain_name = !kind.is_empty()
        && kind.bytes().all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_');
    if !plain_name {
        panic!("conformance kind {kind:?} must be a plain name such as `openai-chat`");
    }
    let directory = conformance_directory();
    if let Err(error) = append_line(&directory, kind, document) {
        panic!("cannot append to {}: {error}", directory.join(format!("{kind}.jsonl")).display());
    }
}

fn append_line(directory: &Path, kind: &str, document: &serde_json::Value) -> std::io::Result<()> {
    let mut line = document.to_string();
    line.push('\n');
    let _guard = APPEND_LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    fs::create_dir_all(directory)?;
    // One write per line in append mode: lines from parallel test binaries do not interleave either.
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(directory.join(format!("{kind}.jsonl")))?
        .write_all(line.as_bytes())
}

fn conformance_directory() -> PathBuf {
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join("..");
    let target = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(directory) if !directory.is_empty() => workspace.join(directory),
        _ => workspace.join("target"),
    };
    target.join("conformance")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_are_appended_one_per_line_from_many_threads() {
        let directory = std::env::temp_dir().join(format!("vllora-conformance-{}", std::process::id()));
        let threads: Vec<_> = (0..8)
            .map(|thread| {
                let directory = directory.clone();
                std::thread::spawn(move || {
                    for n in 0..50 {
                        let document = serde_json::json!({"thread": thread, "n": n, "text": "a\nb"});
                        assert!(append_line(&directory, "selftest", &document).is_ok());
                    }
                })
            })
            .collect();
        for thread in threads {
            assert!(thread.join().is_ok());
        }
        let written = fs::read_to_string(directory.join("selftest.jsonl")).unwrap_or_default();
        let _ = fs::remove_dir_all(&directory);
        let lines: Vec<serde_json::Value> =
            written.lines().filter_map(|line| serde_json::from_str(line).ok()).collect();
        assert_eq!(lines.len(), 400, "every line is whole JSON");
        assert!(lines.iter().any(|line| line == &serde_json::json!({"thread": 7, "n": 49, "text": "a\nb"})));
    }

    #[test]
    fn the_directory_is_the_workspace_target() {
        let directory = conformance_directory();
        assert!(directory.ends_with("conformance"));
        let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let in_default_target = directory.starts_with(workspace.join("target"));
        assert!(
            in_default_target || std::env::var_os("CARGO_TARGET_DIR").is_some(),
            "{}",
            directory.display()
        );
    }
}
