//! [`record_conformance`]: collects wire documents built by tests for schema validation.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::PathBuf;
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
    let path = directory.join(format!("{kind}.jsonl"));
    let mut line = document.to_string();
    line.push('\n');

    let _guard = APPEND_LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let written = fs::create_dir_all(&directory).and_then(|()| {
        // One write per line in append mode: lines from parallel test binaries do not interleave either.
        OpenOptions::new().create(true).append(true).open(&path)?.write_all(line.as_bytes())
    });
    if let Err(error) = written {
        panic!("cannot append to {}: {error}", path.display());
    }
}

fn conformance_directory() -> PathBuf {
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join("..");
    let target = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(directory) if !directory.is_empty() => workspace.join(directory),
        _ => workspace.join("target"),
    };
    target.join("conformance")
}
