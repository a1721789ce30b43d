//! `cargo xtask conformance`: validates what the tests recorded against the providers' own schemas.
//!
//! Tests append every provider request body they build (and every canned response they serve) to
//! `target/conformance/<kind>.jsonl`; this validates each file with `validate.py <kind>` from the
//! conformance kit beside the repository (`../shared/conformance`, or `VLLORA_CONFORMANCE_DIR`).

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::{self, workspace_root};

fn recordings_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"));
    target.join("conformance")
}

/// The conformance kit: `VLLORA_CONFORMANCE_DIR`, else `../shared/conformance` beside the repository.
pub fn kit_dir() -> PathBuf {
    match std::env::var_os("VLLORA_CONFORMANCE_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => workspace_root().join("../shared/conformance"),
    }
}

/// Removes earlier recordings so that a run validates only what it produced.
pub fn clear_recordings() -> Result<(), String> {
    let dir = recordings_dir();
    match fs::remove_dir_all(&dir) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(error) => Err(format!("cannot clear {}: {error}", dir.display())),
    }
}

/// The Python of a virtual environment with the validators, created on first use.
fn validator_python(kit: &Path) -> Result<PathBuf, String> {
    let venv = workspace_root().join("target/conformance-venv");
    let python = venv.join("bin/python");
    let marker = venv.join(".requirements-installed");
    if marker.exists() {
        return Ok(python);
    }
    println!("==> creating the validators' virtual environment in {}", venv.display());
    let mut create = Command::new("python3");
    create.args(["-m", "venv"]).arg(&venv);
    util::step("python3 -m venv", create)?;
    let mut install = Command::new(&python);
    install.args(["-m", "pip", "install", "--progress-bar", "off", "--disable-pip-version-check", "-r"]);
    install.arg(kit.join("requirements.txt"));
    crate::progress::step("pip install the validators", install, crate::progress::PIP_PROGRESS)?;
    fs::write(&marker, b"").map_err(|error| format!("cannot write {}: {error}", marker.display()))?;
    Ok(python)
}

/// Works around known gaps in the specs (Anthropic's is from late 2024; OpenAI's Responses input items are
/// ambiguous): each rule is listed in `xtask/conformance/spec_gaps.py`, each use counted and printed, and
/// the rest of every document is still checked strictly.
fn newer_than_spec(python: &Path, kind: &str, documents: &Path) -> Result<PathBuf, String> {
    let script = workspace_root().join("xtask/conformance/spec_gaps.py");
    let rewritten = documents.with_extension("older.jsonl");
    let output = Command::new(python)
        .arg(&script)
        .arg(kind)
        .arg(documents)
        .arg(&rewritten)
        .output()
        .map_err(|error| format!("cannot run {}: {error}", script.display()))?;
    if !output.status.success() {
        return Err(format!("{} failed: {}", script.display(), String::from_utf8_lossy(&output.stderr)));
    }
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        println!("  {kind}: {line}");
    }
    Ok(rewritten)
}

pub fn run() -> Result<(), String> {
    run_counted().map(|_| ())
}

/// Validates the recordings; returns how many distinct documents were valid, in how many kinds.
pub fn run_counted() -> Result<(usize, usize), String> {
    let kit = kit_dir();
    let validator = kit.join("validate.py");
    if !validator.exists() {
        return Err(format!(
            "the conformance kit is missing: {} does not exist (set VLLORA_CONFORMANCE_DIR)",
            validator.display()
        ));
    }
    let dir = recordings_dir();
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .map_err(|error| format!("no recordings in {} ({error}): run the tests first", dir.display()))?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|extension| extension == "jsonl"))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(format!("no recordings in {}: run the tests first", dir.display()));
    }
    let python = validator_python(&kit)?;
    let mut failures = Vec::new();
    let mut total = 0;
    for file in &files {
        let Some(kind) = file.file_stem().and_then(|stem| stem.to_str()) else { continue };
        let text =
            fs::read_to_string(file).map_err(|error| format!("cannot read {}: {error}", file.display()))?;
        // Identical documents recorded by several tests are validated once.
        let unique: BTreeSet<&str> = text.lines().filter(|line| !line.trim().is_empty()).collect();
        let unique_dir = dir.join("unique");
        fs::create_dir_all(&unique_dir)
            .map_err(|error| format!("cannot create {}: {error}", unique_dir.display()))?;
        let deduplicated = unique_dir.join(format!("{kind}.jsonl"));
        let joined: String = unique.iter().flat_map(|line| [*line, "\n"]).collect();
        fs::write(&deduplicated, joined)
            .map_err(|error| format!("cannot write {}: {error}", deduplicated.display()))?;
        let checked = if kind.starts_with("anthropic-") || kind == "openai-responses" {
            newer_than_spec(&python, kind, &deduplicated)?
        } else {
            deduplicated
        };
        let output = Command::new(&python)
            .arg(&validator)
            .arg(kind)
            .arg(&checked)
            .output()
            .map_err(|error| format!("cannot run validate.py: {error}"))?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        let invalid: Vec<&str> = stdout.lines().filter(|line| line.contains(": INVALID")).collect();
        total += unique.len();
        println!("conformance {kind}: {} documents, {} invalid", unique.len(), invalid.len());
        if !output.status.success() {
            for line in stdout
                .lines()
                .filter(|line| !line.ends_with(": VALID") && !line.contains(": note: "))
                .take(40)
            {
                println!("  {line}");
            }
            let stderr = String::from_utf8_lossy(&output.stderr);
            if !stderr.trim().is_empty() {
                println!("  {}", stderr.trim());
            }
            failures.push(kind.to_owned());
        }
    }
    println!("conformance: {total} documents in {} kinds", files.len());
    if failures.is_empty() {
        Ok((total, files.len()))
    } else {
        Err(format!("invalid documents of kinds: {}", failures.join(", ")))
    }
}
