//! [`MockResponse`]: what the mock server answers, and how it misbehaves while doing so.

use std::time::Duration;

use crate::split::SeededRandom;

/// How a response body is cut into socket writes (and, for chunked responses, HTTP chunks).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Chunking {
    /// One write per piece as given: one per SSE event, one for a whole body.
    #[default]
    AsWritten,
    /// Everything in one write.
    Whole,
    /// Writes of this many bytes (the last may be shorter; 0 counts as 1).
    Bytes(usize),
    /// Writes of 1 to `max` bytes, drawn from a generator seeded with `seed`.
    Random {
        /// The seed: the same seed gives the same writes.
        seed: u64,
        /// The longest write.
        max: usize,
    },
}

/// How the body is framed on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing {
    /// `Content-Length`, then the body.
    ContentLength,
    /// `Transfer-Encoding: chunked`, one HTTP chunk per write.
    Chunked,
    /// The bytes as they are, no status line or headers; the connection closes after them.
    Raw,
}

/// A scripted response.
#[derive(Debug, Clone)]
pub struct MockResponse {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) pieces: Vec<Vec<u8>>,
    pub(crate) framing: Framing,
    pub(crate) chunking: Chunking,
    pub(crate) delay_first_byte: Duration,
    pub(crate) delay_between_chunks: Duration,
    pub(crate) stall_after: Option<usize>,
    pub(crate) reset_after: Option<usize>,
}

impl MockResponse {
    fn new(status: u16, content_type: &str, pieces: Vec<Vec<u8>>, framing: Framing) -> Self {
        MockResponse {
            status,
            headers: vec![("content-type".to_owned(), content_type.to_owned())],
            pieces,
            framing,
            chunking: Chunking::AsWritten,
            delay_first_byte: Duration::ZERO,
            delay_between_chunks: Duration::ZERO,
            stall_after: None,
            reset_after: None,
        }
    }

    /// A JSON body with `Content-Length`.
    pub fn json(status: u16, body: serde_json::Value) -> Self {
        Self::new(status, "application/json", vec![body.to_string().into_bytes()], Framing::ContentLength)
    }

    /// Any body with `Content-Length`. A large body is how oversize responses are tested.
    pub fn body(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        Self::new(status, content_type, vec![body.into()], Framing::ContentLength)
    }

    /// A 200 `text/event-stream` response, chunked. Each item is raw event text (`"data: {..}\n\n"`),
    /// sent in one write unless [`MockResponse::chunking`] says otherwise.
    pub fn sse<I: IntoIterator<Item = S>, S: Into<String>>(events: I) -> Self {
        let pieces = events.into_iter().map(|event| event.into().into_bytes()).collect();
        Self::new(200, "text/event-stream", pieces, Framing::Chunked).header("cache-control", "no-cache")
    }

    /// Any streamed body (an AWS event stream, NDJSON), chunked: one write per piece unless
    /// [`MockResponse::chunking`] says otherwise.
    pub fn stream<I: IntoIterator<Item = P>, P: Into<Vec<u8>>>(
        status: u16,
        content_type: &str,
        pieces: I,
    ) -> Self {
        let pieces = pieces.into_iter().map(Into::into).collect();
        Self::new(status, content_type, pieces, Framing::Chunked)
    }

    /// Bytes written to the socket as they are, instead of a response (garbage, broken HTTP); the
    /// connection is closed after them.
    pub fn raw(bytes: impl Into<Vec<u8>>) -> Self {
        let mut response = Self::new(0, "", vec![bytes.into()], Framing::Raw);
        response.headers.clear();
        response
    }

    /// Adds a header; a `content-type` replaces the default one.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        if name.eq_ignore_ascii_case("content-type") {
            self.headers.retain(|(existing, _)| !existing.eq_ignore_ascii_case("content-type"));
        }
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// How the body is cut into writes.
    pub fn chunking(mut self, chunking: Chunking) -> Self {
        self.chunking = chunking;
        self
    }

    /// Waits this long after the request before writing anything.
    pub fn delay_first_byte(mut self, delay: Duration) -> Self {
        self.delay_first_byte = delay;
        self
    }

    /// Waits this long between two body writes.
    pub fn delay_between_chunks(mut self, delay: Duration) -> Self {
        self.delay_between_chunks = delay;
        self
    }

    /// Stops writing after this many body bytes and keeps the connection open until the client leaves.
    pub fn stall_after(mut self, body_bytes: usize) -> Self {
        self.stall_after = Some(body_bytes);
        self
    }

    /// Closes the connection abruptly (TCP RST) after this many body bytes.
    pub fn reset_after(mut self, body_bytes: usize) -> Self {
        self.reset_after = Some(body_bytes);
        self
    }

    /// The body as it will be written: one entry per write.
    pub(crate) fn writes(&self) -> Vec<Vec<u8>> {
        let whole = || self.pieces.concat();
        match self.chunking {
            Chunking::AsWritten => self.pieces.iter().filter(|piece| !piece.is_empty()).cloned().collect(),
            Chunking::Whole => vec![whole()].into_iter().filter(|piece| !piece.is_empty()).collect(),
            Chunking::Bytes(size) => whole().chunks(size.max(1)).map(<[u8]>::to_vec).collect(),
            Chunking::Random { seed, max } => {
                let whole = whole();
                let mut random = SeededRandom::new(seed);
                let mut writes = Vec::new();
                let mut start = 0;
                while start < whole.len() {
                    let end = (start + random.piece_length(max)).min(whole.len());
                    writes.push(whole[start..end].to_vec());
                    start = end;
                }
                writes
            }
        }
    }

    /// The status line and headers.
    pub(crate) fn head(&self, close: bool) -> Vec<u8> {
        let mut head = format!("HTTP/1.1 {} {}\r\n", self.status, reason(self.status));
        for (name, value) in &self.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        match self.framing {
            Framing::ContentLength => {
                let length: usize = self.pieces.iter().map(Vec::len).sum();
                head.push_str(&format!("content-length: {length}\r\n"));
            }
            Framing::Chunked => head.push_str("transfer-encoding: chunked\r\n"),
            Framing::Raw => {}
        }
        if close {
            head.push_str("connection: close\r\n");
        }
        head.push_str("\r\n");
        head.into_bytes()
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        408 => "Request Timeout",
        409 => "Conflict",
        413 => "Payload Too Large",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        529 => "Overloaded",
        _ => "Status",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunking_cuts_the_body_as_asked() {
        let events = MockResponse::sse(["data: 1\n\n", "data: 22\n\n"]);
        assert_eq!(events.writes(), vec![b"data: 1\n\n".to_vec(), b"data: 22\n\n".to_vec()]);
        let whole = events.clone().chunking(Chunking::Whole).writes();
        assert_eq!(whole, vec![b"data: 1\n\ndata: 22\n\n".to_vec()]);
        let bytes = events.clone().chunking(Chunking::Bytes(4)).writes();
        assert_eq!(bytes.iter().map(Vec::len).collect::<Vec<_>>(), vec![4, 4, 4, 4, 3]);
        let random = events.clone().chunking(Chunking::Random { seed: 3, max: 5 }).writes();
        assert!(random.iter().all(|write| (1..=5).contains(&write.len())));
        assert_eq!(random.concat(), b"data: 1\n\ndata: 22\n\n");
        assert_eq!(random, events.chunking(Chunking::Random { seed: 3, max: 5 }).writes());
    }

    #[test]
    fn binary_streams_are_chunked_pieces() {
        let stream =
            MockResponse::stream(200, "application/vnd.amazon.eventstream", [vec![0_u8, 1], vec![2]]);
        assert_eq!(stream.writes(), vec![vec![0, 1], vec![2]]);
        let head = String::from_utf8_lossy(&stream.head(false)).into_owned();
        assert!(head.contains("content-type: application/vnd.amazon.eventstream\r\n"), "{head}");
        assert!(
            head.contains("transfer-encoding: chunked\r\n") && !head.contains("content-length"),
            "{head}"
        );
    }

    #[test]
    fn head_frames_the_body() {
        let head =
            MockResponse::json(429, serde_json::json!({"e": 1})).header("Retry-After", "1").head(false);
        let head = String::from_utf8_lossy(&head);
        assert!(head.starts_with("HTTP/1.1 429 Too Many Requests\r\n"), "{head}");
        assert!(head.contains("content-type: application/json\r\n"));
        assert!(head.contains("Retry-After: 1\r\n"));
        assert!(head.contains("content-length: 7\r\n"));
        assert!(head.ends_with("\r\n\r\n"));
        let sse = MockResponse::sse(["data: x\n\n"]).header("Content-Type", "text/plain").head(true);
        let sse = String::from_utf8_lossy(&sse);
        assert!(sse.contains("transfer-encoding: chunked\r\n") && sse.contains("connection: close\r\n"));
        assert!(sse.contains("Content-Type: text/plain\r\n") && !sse.contains("text/event-stream"));
    }
}
