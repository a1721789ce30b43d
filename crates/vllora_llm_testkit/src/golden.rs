//! The golden runner every provider's fixture tests use: one input file per case, one expected file beside
//! it, one comparison.
//!
//! Fixtures follow one naming scheme in every provider crate:
//! `tests/fixtures/{requests,responses,streams}/<case>.<kind>.<ext>`, where `<kind>` says what the file
//! holds: `gateway` (our request), the provider's name (its wire body: `openai`, `anthropic`, `gemini`,
//! `bedrock`), `expected` (what the caller gets). A case is one `<case>` with its input and its expected
//! file. Set `VLLORA_BLESS=1` to write the expected files from what the code produces (then read the diff).

#![allow(clippy::panic, reason = "a golden test that cannot read or write its fixtures must fail loudly")]

use std::path::{Path, PathBuf};

/// One case of a golden directory.
#[derive(Debug, Clone)]
pub struct GoldenCase {
    /// The case name: the file name without `.<input kind>.<ext>`.
    pub name: String,
    /// The input file.
    pub input: PathBuf,
    /// The expected file beside it.
    pub expected: PathBuf,
}

/// The cases of `directory`: every `<case>.<input>` (e.g. `input = "gateway.json"`), each paired with
/// `<case>.<expected>` (e.g. `expected = "openai.json"`), in name order. Panics when there is none.
pub fn golden_cases(directory: impl AsRef<Path>, input: &str, expected: &str) -> Vec<GoldenCase> {
    let directory = directory.as_ref();
    let suffix = format!(".{input}");
    let mut cases: Vec<GoldenCase> = std::fs::read_dir(directory)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", directory.display()))
        .flatten()
        .filter_map(|entry| {
            let file_name = entry.file_name().to_string_lossy().into_owned();
            let name = file_name.strip_suffix(&suffix)?.to_owned();
            Some(GoldenCase {
                input: entry.path(),
                expected: directory.join(format!("{name}.{expected}")),
                name,
            })
        })
        .collect();
    cases.sort_by(|left, right| left.name.cmp(&right.name));
    assert!(!cases.is_empty(), "no `*.{input}` fixtures in {}", directory.display());
    cases
}

/// Runs `produce` on every case's input bytes and compares the JSON it returns with the case's expected
/// file. Every mismatch is reported (with both documents) before the test fails; with `VLLORA_BLESS=1` the
/// expected files are written instead.
pub fn golden(
    directory: impl AsRef<Path>,
    input: &str,
    expected: &str,
    mut produce: impl FnMut(&GoldenCase, &[u8]) -> serde_json::Value,
) {
    let bless = std::env::var_os("VLLORA_BLESS").is_some();
    let mut failures = Vec::new();
    for case in golden_cases(directory, input, expected) {
        let bytes = std::fs::read(&case.input)
            .unwrap_or_else(|error| panic!("cannot read {}: {error}", case.input.display()));
        let produced = produce(&case, &bytes);
        if bless {
            let text = serde_json::to_string_pretty(&produced).unwrap_or_default() + "\n";
            std::fs::write(&case.expected, text)
                .unwrap_or_else(|error| panic!("cannot write {}: {error}", case.expected.display()));
            continue;
        }
        let wanted: serde_json::Value = std::fs::read(&case.expected)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_else(|| {
                panic!("{}: missing or not JSON (VLLORA_BLESS=1 writes it)", case.expected.display())
            });
        if produced != wanted {
            failures.push(format!(
                "case `{}`:\n  produced: {}\n  expected: {}",
                case.name,
                serde_json::to_string(&produced).unwrap_or_default(),
                serde_json::to_string(&wanted).unwrap_or_default()
            ));
        }
    }
    assert!(failures.is_empty(), "golden mismatches:\n{}", failures.join("\n"));
}
