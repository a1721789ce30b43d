//! Long steps that say what they do: a command's output streamed line by line as it comes (never
//! buffered until it ends), optionally only the lines that show progress, and a heartbeat with the
//! elapsed time whenever the command has been quiet for a while.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// How long a command may stay silent before a heartbeat line is printed.
const HEARTBEAT: Duration = Duration::from_secs(15);

/// Which output lines of a long command are shown.
#[derive(Debug, Clone, Copy)]
pub enum Show {
    /// Every line.
    All,
    /// Lines starting with one of these words (after leading spaces), e.g. pip's `Collecting`.
    Starting(&'static [&'static str]),
}

impl Show {
    fn shows(self, line: &str) -> bool {
        match self {
            Show::All => true,
            Show::Starting(words) => {
                let line = line.trim_start();
                words.iter().any(|word| line.starts_with(word))
            }
        }
    }
}

/// What a streamed command printed and how it ended.
#[derive(Debug)]
pub struct Outcome {
    /// Every line of its standard output, shown or not.
    pub stdout: Vec<String>,
    /// Every line of its standard error, shown or not (the tail goes into failure messages).
    pub stderr: Vec<String>,
    /// Whether it exited successfully.
    pub success: bool,
    /// Its exit status, for messages.
    pub status: String,
}

impl Outcome {
    /// The last `count` lines of standard error and output, for a failure message.
    pub fn tail(&self, count: usize) -> String {
        let lines: Vec<&String> = self.stdout.iter().chain(&self.stderr).collect();
        let start = lines.len().saturating_sub(count);
        lines[start..].iter().map(|line| line.as_str()).collect::<Vec<_>>().join("\n")
    }
}

enum Line {
    Out(String),
    Err(String),
}

fn forward(stream: impl Read + Send + 'static, sender: mpsc::Sender<Line>, wrap: fn(String) -> Line) {
    thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            if sender.send(wrap(line)).is_err() {
                break;
            }
        }
    });
}

/// Runs `command`, printing the lines `show` selects as they come (indented, under `label`), and a
/// heartbeat every [`HEARTBEAT`] of silence. Fails only when the command cannot start.
pub fn stream(label: &str, mut command: Command, show: Show) -> Result<Outcome, String> {
    let started = Instant::now();
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|error| format!("{label}: cannot start: {error}"))?;
    let (sender, receiver) = mpsc::channel();
    if let Some(stdout) = child.stdout.take() {
        forward(stdout, sender.clone(), Line::Out);
    }
    if let Some(stderr) = child.stderr.take() {
        forward(stderr, sender, Line::Err);
    }
    let mut outcome =
        Outcome { stdout: Vec::new(), stderr: Vec::new(), success: false, status: String::new() };
    let mut last_shown = Instant::now();
    loop {
        match receiver.recv_timeout(HEARTBEAT) {
            Ok(line) => {
                let (text, store) = match line {
                    Line::Out(text) => (text, &mut outcome.stdout),
                    Line::Err(text) => (text, &mut outcome.stderr),
                };
                if show.shows(&text) {
                    println!("    {text}");
                    last_shown = Instant::now();
                }
                store.push(text);
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            // Both pipes closed: the command is done.
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
        if last_shown.elapsed() >= HEARTBEAT {
            println!("    ... {label}: still working ({} s)", started.elapsed().as_secs());
            last_shown = Instant::now();
        }
    }
    let status = child.wait().map_err(|error| format!("{label}: {error}"))?;
    outcome.success = status.success();
    outcome.status = status.to_string();
    Ok(outcome)
}

/// Runs `command` streamed (see [`stream`]) and fails, with the tail of its output, if it fails.
pub fn step(label: &str, command: Command, show: Show) -> Result<Outcome, String> {
    println!("==> {label}");
    let started = Instant::now();
    let outcome = stream(label, command, show)?;
    if outcome.success {
        println!("    done in {} s", started.elapsed().as_secs());
        Ok(outcome)
    } else {
        Err(format!("{label} failed ({}):\n{}", outcome.status, outcome.tail(30)))
    }
}

/// What pip prints that shows progress without its noise.
pub const PIP_PROGRESS: Show = Show::Starting(&["Collecting", "Downloading", "Installing", "Successfully"]);

/// What cargo prints that shows progress (it prints to standard error).
pub const CARGO_PROGRESS: Show =
    Show::Starting(&["Compiling", "Downloaded", "Downloading", "Finished", "error", "warning: unused"]);

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests fail by panicking
mod tests {
    use std::process::Command;

    use super::{Show, stream};

    #[test]
    fn lines_are_kept_in_order_and_filtered_for_display_only() {
        let mut command = Command::new("sh");
        command.args(["-c", "echo Collecting a; echo noise; echo Installing b >&2; exit 3"]);
        let outcome = stream("test", command, Show::Starting(&["Collecting", "Installing"])).unwrap();
        assert_eq!(outcome.stdout, ["Collecting a", "noise"]);
        assert_eq!(outcome.stderr, ["Installing b"]);
        assert!(!outcome.success);
        assert!(outcome.tail(2).contains("Installing b"));
    }
}
