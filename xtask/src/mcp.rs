//! `cargo xtask mcp`: the real MCP servers the facade's `mcp` tests talk to, installed into `target/mcp`.
//!
//! - `@modelcontextprotocol/server-everything` (the MCP project's reference server) from the npm registry,
//!   pinned to [`EVERYTHING_VERSION`], into `target/mcp/node`. Its `dist/index.js` takes the transport as
//!   its argument: `stdio` (the default) or `streamableHttp` (listening on `$PORT`, path `/mcp`); the
//!   streamable HTTP transport is there since the 2025.4 releases.
//! - a virtual environment with the official Python SDK (`mcp` from PyPI, pinned to [`PYTHON_SDK`]) in
//!   `target/mcp/venv`, which runs `crates/vllora_llm/tests/mcp_servers/python_server.py` (slow, failing
//!   and dying tools, 1,000 tools, a huge result).
//!
//! The tests start the servers themselves (stdio children, or HTTP servers on free ports) from these paths
//! and fail with a message naming this command when they are missing. `cargo xtask ci` runs [`setup`]
//! before the workspace's tests (which build the facade with `mcp` through `examples/mcp` and so run the
//! MCP tests), then [`check`]: clippy with one provider and `mcp`, and the dependency count of one provider
//! with and without it. `cargo xtask mcp test` runs just the MCP and tool-loop tests.

use std::fs;
use std::path::PathBuf;
use std::process::Command;

use crate::util::{self, cargo, workspace_root};

/// The reference server's npm version.
const EVERYTHING_VERSION: &str = "2026.8.31";
/// The Python SDK's PyPI version.
const PYTHON_SDK: &str = "2.3.0";

fn install_dir() -> PathBuf {
    workspace_root().join("target/mcp")
}

/// `cargo xtask mcp [setup|test]`.
pub fn run(args: &[String]) -> Result<(), String> {
    match args.first().map(String::as_str) {
        None | Some("setup") => setup(),
        Some("test") => {
            setup()?;
            test()
        }
        Some(other) => Err(format!("unknown `mcp` subcommand `{other}` (setup, test)")),
    }
}

/// Installs both servers unless they are installed at the pinned versions already.
pub fn setup() -> Result<(), String> {
    install_everything()?;
    install_python_sdk()
}

fn install_everything() -> Result<(), String> {
    let prefix = install_dir().join("node");
    let package = prefix.join("node_modules/@modelcontextprotocol/server-everything");
    let marker = prefix.join(format!(".installed-{EVERYTHING_VERSION}"));
    if marker.exists() && package.join("dist/index.js").is_file() {
        return Ok(());
    }
    fs::create_dir_all(&prefix).map_err(|error| format!("cannot create {}: {error}", prefix.display()))?;
    let mut npm = Command::new("npm");
    npm.args(["install", "--no-audit", "--no-fund", "--loglevel", "error", "--prefix"])
        .arg(&prefix)
        .arg(format!("@modelcontextprotocol/server-everything@{EVERYTHING_VERSION}"));
    util::step(
        &format!(
            "npm install @modelcontextprotocol/server-everything@{EVERYTHING_VERSION} into {}",
            prefix.display()
        ),
        npm,
    )
    .map_err(|error| format!("{error}; the MCP tests need node and npm with access to the npm registry"))?;
    fs::write(&marker, b"").map_err(|error| format!("cannot write {}: {error}", marker.display()))
}

fn install_python_sdk() -> Result<(), String> {
    let venv = install_dir().join("venv");
    let python = venv.join("bin/python");
    let marker = venv.join(format!(".installed-mcp-{PYTHON_SDK}"));
    if marker.exists() && python.is_file() {
        return Ok(());
    }
    let mut create = Command::new("python3");
    create.args(["-m", "venv"]).arg(&venv);
    util::step(&format!("python3 -m venv {}", venv.display()), create)?;
    let mut install = Command::new(&python);
    install
        .args(["-m", "pip", "install", "--disable-pip-version-check", "--progress-bar", "off"])
        .arg(format!("mcp=={PYTHON_SDK}"));
    util::step(&format!("pip install mcp=={PYTHON_SDK} (the official MCP Python SDK)"), install)?;
    fs::write(&marker, b"").map_err(|error| format!("cannot write {}: {error}", marker.display()))
}

/// Lints the facade with one provider and `mcp` (the workspace's tests already build it with `mcp`,
/// through `examples/mcp`, and run the MCP tests), and shows what the feature costs: `cargo tree` counts
/// with and without it, and no `rmcp` without it.
pub fn check(skip_lints: bool) -> Result<(), String> {
    let features = ["--no-default-features", "--features", "openai,mcp"];
    if skip_lints {
        util::step(
            "facade with `openai` and `mcp`",
            cargo(&[&["check", "-p", "vllora_llm"][..], &features[..]].concat()),
        )?;
    } else {
        util::step(
            "clippy, facade with `openai` and `mcp`",
            cargo(
                &[
                    &["clippy", "-p", "vllora_llm", "--all-targets"][..],
                    &features[..],
                    &["--", "-D", "warnings"][..],
                ]
                .concat(),
            ),
        )?;
    }
    let (lean, lean_crates) = dependency_count(&["openai"])?;
    let (with_mcp, _) = dependency_count(&["openai", "mcp"])?;
    if lean_crates.iter().any(|name| name.starts_with("rmcp ")) {
        return Err("rmcp is in the facade's tree without the `mcp` feature".to_owned());
    }
    println!(
        "==> dependencies (cargo tree -e normal): `openai` alone {lean} crates, `openai` + `mcp` {with_mcp}"
    );
    Ok(())
}

/// `check`, then the tests that talk to the real MCP servers.
fn test() -> Result<(), String> {
    check(false)?;
    util::step(
        "MCP tests (real servers) and tool-loop tests",
        cargo(&[
            "test",
            "-p",
            "vllora_llm",
            "--features",
            "mcp",
            "--test",
            "mcp_servers",
            "--test",
            "tool_loop",
            "--test",
            "tool_spans",
        ]),
    )
}

/// How many crates `cargo tree -e normal` lists for the facade with these features, and which.
fn dependency_count(features: &[&str]) -> Result<(usize, Vec<String>), String> {
    let features = features.join(",");
    let output = util::capture(cargo(&[
        "tree",
        "-p",
        "vllora_llm",
        "--no-default-features",
        "--features",
        &features,
        "-e",
        "normal",
        "--prefix",
        "none",
    ]))?;
    let mut crates: Vec<&str> = output
        .lines()
        .map(|line| line.trim_end_matches(" (*)").trim_end_matches(" (proc-macro)"))
        .filter(|line| !line.is_empty())
        .collect();
    crates.sort_unstable();
    crates.dedup();
    Ok((crates.len(), crates.into_iter().map(str::to_owned).collect()))
}
