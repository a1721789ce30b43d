//! [`RecordedRequest`] and the HTTP/1.1 request parser of the mock server.

use bytes::Bytes;

/// A request as the mock server received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    /// `GET`, `POST`...
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// The query string after `?`, when there is one.
    pub query: Option<String>,
    /// Headers in the order received, names as sent.
    pub headers: Vec<(String, String)>,
    /// The body (de-chunked when it came chunked).
    pub body: Bytes,
}

impl RecordedRequest {
    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(header, _)| header.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// The body parsed as JSON; `Null` when it is not JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }

    /// Whether the client asked to close the connection after this request.
    pub(crate) fn wants_close(&self) -> bool {
        self.header("connection").is_some_and(|value| value.eq_ignore_ascii_case("close"))
    }
}

/// Longest request head the server accepts; more is treated as a broken client.
pub(crate) const MAX_HEAD: usize = 64 * 1024;

/// What the parser made of the bytes received so far.
#[derive(Debug)]
pub(crate) enum Parsed {
    /// A whole request, and how many bytes of the buffer it used.
    Complete(RecordedRequest, usize),
    /// More bytes are needed.
    Incomplete,
    /// Not HTTP/1.1 the server understands.
    Invalid(&'static str),
}

/// Parses one request from the start of `buffer`.
pub(crate) fn parse_request(buffer: &[u8]) -> Parsed {
    let Some(head_end) = find(buffer, b"\r\n\r\n") else {
        return if buffer.len() > MAX_HEAD {
            Parsed::Invalid("request head too long")
        } else {
            Parsed::Incomplete
        };
    };
    let Ok(head) = std::str::from_utf8(&buffer[..head_end]) else {
        return Parsed::Invalid("request head is not UTF-8");
    };
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default();
    let mut parts = request_line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Parsed::Invalid("malformed request line");
    };
    if !version.starts_with("HTTP/1.") {
        return Parsed::Invalid("not HTTP/1.x");
    }
    let mut headers = Vec::new();
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            return Parsed::Invalid("malformed header line");
        };
        headers.push((name.trim().to_owned(), value.trim().to_owned()));
    }
    let (path, query) = match target.split_once('?') {
        Some((path, query)) => (path.to_owned(), Some(query.to_owned())),
        None => (target.to_owned(), None),
    };
    let mut request = RecordedRequest { method: method.to_owned(), path, query, headers, body: Bytes::new() };
    if version == "HTTP/1.0" && request.header("connection").is_none() {
        request.headers.push(("connection".to_owned(), "close".to_owned()));
    }

    let body_start = head_end + 4;
    let rest = &buffer[body_start..];
    let chunked =
        request.header("transfer-encoding").is_some_and(|value| value.eq_ignore_ascii_case("chunked"));
    if chunked {
        return match decode_chunked(rest) {
            Chunked::Complete(body, used) => {
                request.body = Bytes::from(body);
                Parsed::Complete(request, body_start + used)
            }
            Chunked::Incomplete => Parsed::Incomplete,
            Chunked::Invalid => Parsed::Invalid("malformed chunked body"),
        };
    }
    let length = match request.header("content-length").map(str::parse::<usize>) {
        None => 0,
        Some(Ok(length)) => length,
        Some(Err(_)) => return Parsed::Invalid("malformed content-length"),
    };
    if rest.len() < length {
        return Parsed::Incomplete;
    }
    request.body = Bytes::copy_from_slice(&rest[..length]);
    Parsed::Complete(request, body_start + length)
}

enum Chunked {
    Complete(Vec<u8>, usize),
    Incomplete,
    Invalid,
}

fn decode_chunked(mut input: &[u8]) -> Chunked {
    let mut body = Vec::new();
    let mut used = 0;
    loop {
        let Some(line_end) = find(input, b"\r\n") else { return Chunked::Incomplete };
        let size_text = std::str::from_utf8(&input[..line_end]).unwrap_or("");
        // Chunk extensions (`;name=value`) carry nothing the mock needs.
        let size_text = size_text.split(';').next().unwrap_or("").trim();
        let Ok(size) = usize::from_str_radix(size_text, 16) else { return Chunked::Invalid };
        let data_start = line_end + 2;
        if size == 0 {
            // Trailers end with an empty line; the mock ignores their content.
            let Some(trailer_end) = find(&input[line_end..], b"\r\n\r\n") else { return Chunked::Incomplete };
            return Chunked::Complete(body, used + line_end + trailer_end + 4);
        }
        let Some(data_end) = data_start.checked_add(size) else { return Chunked::Invalid };
        if input.len() < data_end + 2 {
            return Chunked::Incomplete;
        }
        if &input[data_end..data_end + 2] != b"\r\n" {
            return Chunked::Invalid;
        }
        body.extend_from_slice(&input[data_start..data_end]);
        used += data_end + 2;
        input = &input[data_end + 2..];
    }
}

pub(crate) fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|window| window == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn complete(bytes: &[u8]) -> (RecordedRequest, usize) {
        match parse_request(bytes) {
            Parsed::Complete(request, used) => (request, used),
            other => panic!("expected a complete request, got {other:?}"),
        }
    }

    #[test]
    fn parses_content_length_body_query_and_headers() {
        let raw = b"POST /v1/chat/completions?api-version=1 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 7\r\n\r\n{\"a\":1}GET";
        let (request, used) = complete(raw);
        assert_eq!(used, raw.len() - 3, "pipelined bytes stay in the buffer");
        assert_eq!(request.method, "POST");
        assert_eq!(request.path, "/v1/chat/completions");
        assert_eq!(request.query.as_deref(), Some("api-version=1"));
        assert_eq!(request.header("content-type"), Some("application/json"));
        assert_eq!(request.json(), serde_json::json!({"a": 1}));
        assert!(matches!(parse_request(&raw[..raw.len() - 5]), Parsed::Incomplete));
    }

    #[test]
    fn parses_chunked_body_with_trailers() {
        let raw = b"POST /p HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\nX-T: 1\r\n\r\n";
        let (request, used) = complete(raw);
        assert_eq!(used, raw.len());
        assert_eq!(&request.body[..], b"abcde");
        assert_eq!(request.json(), serde_json::Value::Null);
        for end in 1..raw.len() {
            assert!(matches!(parse_request(&raw[..end]), Parsed::Incomplete), "{end}");
        }
    }

    #[test]
    fn rejects_broken_requests() {
        assert!(matches!(parse_request(b"GARBAGE\r\n\r\n"), Parsed::Invalid(_)));
        assert!(matches!(parse_request(b"GET / HTTP/1.1\r\nno colon\r\n\r\n"), Parsed::Invalid(_)));
        assert!(matches!(parse_request(b"POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n"), Parsed::Invalid(_)));
        let (request, _) = complete(b"GET / HTTP/1.0\r\n\r\n");
        assert!(request.wants_close());
    }
}
