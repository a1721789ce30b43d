//! The loopback OpenAI stand-in, run in a child process so that its CPU time and memory never count
//! as the client's.
//!
//! Every answer is rendered once at start-up, so serving costs a read and a write. The first segment
//! of the request path picks the answer (the client's base URL is `http://127.0.0.1:PORT/<scenario>/v1`):
//! - `oneshot`: the chat completion, with `Content-Length`;
//! - `stream-split`: the stream, one chunked-encoding chunk per event, so each body read the client
//!   makes yields one event;
//! - `stream-whole`: the same stream as a single chunk, so events arrive coalesced in big reads;
//! - `turns`: the one-shot answer, to the long conversation (`fixtures::turns_request`);
//! - `stall`: the response head and the first event, then nothing until the client hangs up (the
//!   streams held open in the memory measurement);
//! - `anthropic-stream-split`, `gemini-stream-whole`...: the other providers' streams (see
//!   `provider_fixtures`), one event per read or coalesced, whatever the rest of the path.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::fixtures;
use crate::provider_fixtures::{Cut, Provider};

/// A server child process; dropping it stops the server.
#[derive(Debug)]
pub struct ServerProcess {
    child: Child,
    /// Kept open: the server exits when it sees end of file on its standard input.
    stdin: Option<ChildStdin>,
    port: u16,
}

impl ServerProcess {
    /// Starts `<this executable> serve --events N` and waits for the port it listens on.
    pub fn start(events: usize) -> Result<ServerProcess, String> {
        let executable = std::env::current_exe().map_err(|error| format!("current executable: {error}"))?;
        let mut child = Command::new(executable)
            .args(["serve", "--events", &events.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|error| format!("cannot start the server process: {error}"))?;
        let stdin = child.stdin.take();
        let mut first_line = String::new();
        if let Some(stdout) = child.stdout.take() {
            BufReader::new(stdout)
                .read_line(&mut first_line)
                .map_err(|error| format!("reading the server's port: {error}"))?;
        }
        let port = first_line
            .strip_prefix("listening on ")
            .and_then(|port| port.trim().parse().ok())
            .ok_or_else(|| format!("the server did not say its port: {first_line:?}"))?;
        Ok(ServerProcess { child, stdin, port })
    }

    /// The base URL of a scenario, as an OpenAI client's base URL.
    pub fn base_url(&self, scenario: &str) -> String {
        format!("http://127.0.0.1:{}/{scenario}/v1", self.port)
    }

    /// The port, for the memory child processes.
    pub fn port(&self) -> u16 {
        self.port
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        drop(self.stdin.take());
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// The base URL of a scenario on a server whose port is known.
pub fn base_url_on(port: u16, scenario: &str) -> String {
    format!("http://127.0.0.1:{port}/{scenario}/v1")
}

/// Every answer, rendered as the bytes written to the socket.
#[derive(Debug)]
struct Answers {
    oneshot: Vec<u8>,
    stream_split: Vec<u8>,
    stream_whole: Vec<u8>,
    stall: Vec<u8>,
    /// The other providers' streams, by scenario name.
    providers: Vec<(String, Vec<u8>)>,
}

const STREAM_HEAD: &str = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\n\
                           x-request-id: req_bench\r\ntransfer-encoding: chunked\r\n\r\n";

fn chunked(out: &mut Vec<u8>, data: &[u8]) {
    out.extend_from_slice(format!("{:x}\r\n", data.len()).as_bytes());
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
}

impl Answers {
    fn render(events: usize) -> Answers {
        let body = fixtures::completion_response().to_string();
        let oneshot = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nx-request-id: req_bench\r\n\
             openai-processing-ms: 412\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        )
        .into_bytes();
        let stream = fixtures::stream_events(events);
        let mut stream_split = STREAM_HEAD.as_bytes().to_vec();
        stream.iter().for_each(|event| chunked(&mut stream_split, event.as_bytes()));
        stream_split.extend_from_slice(b"0\r\n\r\n");
        let mut stream_whole = STREAM_HEAD.as_bytes().to_vec();
        chunked(&mut stream_whole, stream.concat().as_bytes());
        stream_whole.extend_from_slice(b"0\r\n\r\n");
        let mut stall = STREAM_HEAD.as_bytes().to_vec();
        if let Some(first) = stream.first() {
            chunked(&mut stall, first.as_bytes());
        }
        let providers = Provider::ALL
            .into_iter()
            .flat_map(|provider| [Cut::Split, Cut::Whole].map(|cut| (provider, cut)))
            .map(|(provider, cut)| (provider.scenario(cut), provider.render(events, cut)))
            .collect();
        Answers { oneshot, stream_split, stream_whole, stall, providers }
    }
}

/// The body of the `serve` subcommand: listen, print the port, serve until standard input closes.
pub fn serve(events: usize) -> Result<(), String> {
    // The parent closes our standard input when it is done (or dies): that is the signal to exit.
    std::thread::spawn(|| {
        let mut sink = String::new();
        while std::io::stdin().read_line(&mut sink).map(|read| read > 0).unwrap_or(false) {
            sink.clear();
        }
        std::process::exit(0);
    });
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .map_err(|error| format!("server runtime: {error}"))?;
    runtime.block_on(async move {
        let listener =
            TcpListener::bind("127.0.0.1:0").await.map_err(|error| format!("cannot listen: {error}"))?;
        let port = listener.local_addr().map_err(|error| format!("no local address: {error}"))?.port();
        let mut stdout = std::io::stdout();
        writeln!(stdout, "listening on {port}")
            .and_then(|()| stdout.flush())
            .map_err(|error| error.to_string())?;
        let answers = Arc::new(Answers::render(events));
        loop {
            let Ok((socket, _)) = listener.accept().await else { continue };
            let _ = socket.set_nodelay(true);
            let answers = Arc::clone(&answers);
            tokio::spawn(async move {
                // A client that hangs up mid-request is not the server's problem.
                let _ = serve_connection(socket, &answers).await;
            });
        }
    })
}

/// Serves the requests of one keep-alive connection.
async fn serve_connection(mut socket: TcpStream, answers: &Answers) -> std::io::Result<()> {
    let mut buffer: Vec<u8> = Vec::with_capacity(16 * 1024);
    loop {
        let head_end = loop {
            if let Some(position) = buffer.windows(4).position(|window| window == b"\r\n\r\n") {
                break position + 4;
            }
            if socket.read_buf(&mut buffer).await? == 0 {
                return Ok(());
            }
        };
        let head = String::from_utf8_lossy(buffer.get(..head_end).unwrap_or_default()).into_owned();
        let content_length: usize = head
            .lines()
            .filter_map(|line| line.split_once(':'))
            .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
            .and_then(|(_, value)| value.trim().parse().ok())
            .unwrap_or(0);
        while buffer.len() < head_end + content_length {
            if socket.read_buf(&mut buffer).await? == 0 {
                return Ok(());
            }
        }
        buffer.drain(..head_end + content_length);
        let path = head.split_whitespace().nth(1).unwrap_or("/");
        match path.trim_start_matches('/').split('/').next().unwrap_or("") {
            "oneshot" | "turns" => socket.write_all(&answers.oneshot).await?,
            "stream-split" => socket.write_all(&answers.stream_split).await?,
            "stream-whole" => socket.write_all(&answers.stream_whole).await?,
            "stall" => {
                socket.write_all(&answers.stall).await?;
                // Hold the stream open until the client drops it.
                let mut sink = [0u8; 1024];
                while socket.read(&mut sink).await? > 0 {}
                return Ok(());
            }
            other if answers.providers.iter().any(|(scenario, _)| scenario == other) => {
                let answer = answers.providers.iter().find(|(scenario, _)| scenario == other);
                socket.write_all(answer.map_or(&[][..], |(_, answer)| answer)).await?;
            }
            _ => {
                socket.write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n").await?;
            }
        }
    }
}
