//! `cargo xtask ci`'s check against freshly resolved dependencies: the workspace is copied without its
//! `Cargo.lock` into `target/fresh/`, resolved anew (what a new project depending on `vllora_llm` gets
//! today) and linted with `-D warnings`, so a dependency's new deprecation fails CI before users see it.

use std::fs;
use std::path::Path;

use crate::util::{self, workspace_root};

/// What is copied: everything cargo needs to resolve and lint the workspace.
const COPIED: &[&str] = &[
    "Cargo.toml",
    "README.md",
    "clippy.toml",
    "rustfmt.toml",
    "crates",
    "examples",
    "xtask",
    "benches",
    "docs",
];

pub fn run() -> Result<(), String> {
    let root = workspace_root();
    let fresh = root.join("target/fresh");
    let source = fresh.join("workspace");
    if source.exists() {
        fs::remove_dir_all(&source).map_err(|error| format!("cannot clear {}: {error}", source.display()))?;
    }
    for entry in COPIED {
        copy(&root.join(entry), &source.join(entry))?;
    }
    let mut update = util::cargo(&["update", "--quiet"]);
    update.current_dir(&source);
    util::step("resolve dependencies afresh (no Cargo.lock)", update)?;
    let mut clippy = util::cargo(&["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]);
    clippy.current_dir(&source).env("CARGO_TARGET_DIR", fresh.join("target"));
    util::step("clippy against freshly resolved dependencies", clippy)
}

/// Copies a file or a folder (without `target/` folders) from `from` to `to`.
fn copy(from: &Path, to: &Path) -> Result<(), String> {
    let failed =
        |error: std::io::Error| format!("cannot copy {} to {}: {error}", from.display(), to.display());
    if from.is_dir() {
        fs::create_dir_all(to).map_err(failed)?;
        for entry in fs::read_dir(from).map_err(failed)?.flatten() {
            let name = entry.file_name();
            if name == "target" {
                continue;
            }
            copy(&entry.path(), &to.join(&name))?;
        }
        Ok(())
    } else if from.is_file() {
        if let Some(parent) = to.parent() {
            fs::create_dir_all(parent).map_err(failed)?;
        }
        fs::copy(from, to).map(|_| ()).map_err(failed)
    } else {
        Ok(())
    }
}
