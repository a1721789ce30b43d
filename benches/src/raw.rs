//! The baseline: what a hand-written client costs. A pooled hyper 1 client posts pre-serialised bytes;
//! streams go through a minimal SSE splitter and serde_json into borrowed structs.

use std::borrow::Cow;

use bytes::Bytes;
use http::{HeaderValue, Request, Uri, header};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde::Deserialize;

/// A raw hyper client with everything a request needs prepared once.
#[derive(Debug)]
pub struct RawClient {
    client: Client<HttpConnector, Full<Bytes>>,
    authorization: HeaderValue,
    url: Uri,
    body: Bytes,
}

/// A stream held open, as the memory measurement keeps it.
#[derive(Debug)]
pub struct RawOpenStream {
    _body: Incoming,
    _splitter: SseSplitter,
}

impl RawClient {
    /// A client posting `body` to `<base_url>/chat/completions`.
    pub fn new(base_url: &str, api_key: &str, body: Bytes) -> Result<RawClient, String> {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let client = Client::builder(TokioExecutor::new()).build(connector);
        let url: Uri = format!("{base_url}/chat/completions").parse().map_err(|error| format!("{error}"))?;
        let authorization =
            HeaderValue::from_str(&format!("Bearer {api_key}")).map_err(|error| format!("{error}"))?;
        Ok(RawClient { client, authorization, url, body })
    }

    async fn send(&self) -> Result<Incoming, String> {
        self.send_body(self.body.clone()).await
    }

    async fn send_body(&self, body: Bytes) -> Result<Incoming, String> {
        let request = Request::post(self.url.clone())
            .header(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))
            .header(header::AUTHORIZATION, self.authorization.clone())
            .body(Full::new(body))
            .map_err(|error| format!("{error}"))?;
        let response = self.client.request(request).await.map_err(|error| format!("raw request: {error}"))?;
        if !response.status().is_success() {
            return Err(format!("raw request: status {}", response.status()));
        }
        Ok(response.into_body())
    }

    /// One request; returns the length of the body read.
    pub async fn one_shot(&self) -> Result<usize, String> {
        let body = self.send().await?;
        let bytes = body.collect().await.map_err(|error| format!("raw body: {error}"))?.to_bytes();
        Ok(bytes.len())
    }

    /// One request doing by hand the work the library does: `wire` serialised with serde_json, the answer
    /// parsed into borrowed structs. Returns the length of the answer's text.
    pub async fn one_shot_with_json(&self, wire: &impl serde::Serialize) -> Result<usize, String> {
        let body = serde_json::to_vec(wire).map_err(|error| format!("raw request body: {error}"))?;
        let body = self.send_body(Bytes::from(body)).await?;
        let bytes = body.collect().await.map_err(|error| format!("raw body: {error}"))?.to_bytes();
        let answer: BorrowedCompletion<'_> =
            serde_json::from_slice(&bytes).map_err(|error| format!("raw completion: {error}"))?;
        let text = answer.choices.iter().filter_map(|choice| choice.message.content.as_ref());
        let usage = answer.usage.map_or(0, |usage| (usage.prompt_tokens + usage.completion_tokens) as usize);
        Ok(text.map(|text| text.0.len()).sum::<usize>()
            + answer.id.len()
            + answer.model.len()
            + usage
            + answer
                .choices
                .iter()
                .map(|choice| choice.index as usize + choice.finish_reason.map_or(0, str::len))
                .sum::<usize>()
            + answer.choices.iter().map(|choice| choice.message.role.len()).sum::<usize>())
    }

    /// One streamed request read to the end; returns how many chunks were decoded.
    pub async fn stream(&self) -> Result<usize, String> {
        let mut body = self.send().await?;
        let mut splitter = SseSplitter::default();
        let mut counter = ChunkCounter::default();
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|error| format!("raw body: {error}"))?;
            if let Ok(data) = frame.into_data() {
                splitter.push(&data, &mut |event| counter.decode(event))?;
            }
            if counter.done {
                break;
            }
        }
        std::hint::black_box(counter.content_bytes);
        Ok(counter.chunks)
    }

    /// Opens a stream and reads its first event, then keeps it open.
    pub async fn open_stream(&self) -> Result<RawOpenStream, String> {
        let mut body = self.send().await?;
        let mut splitter = SseSplitter::default();
        let mut counter = ChunkCounter::default();
        while counter.chunks == 0 {
            let Some(frame) = body.frame().await else { return Err("the stream ended early".to_owned()) };
            let frame = frame.map_err(|error| format!("raw body: {error}"))?;
            if let Ok(data) = frame.into_data() {
                splitter.push(&data, &mut |event| counter.decode(event))?;
            }
        }
        Ok(RawOpenStream { _body: body, _splitter: splitter })
    }
}

/// Splits server-sent events and hands each event's data to a callback, copying bytes only for an
/// event cut across reads.
#[derive(Debug, Default)]
pub struct SseSplitter {
    pending: Vec<u8>,
}

type OnData<'a> = dyn FnMut(&str) -> Result<(), String> + 'a;

impl SseSplitter {
    /// Feeds one read of the body.
    pub fn push(&mut self, read: &[u8], on_data: &mut OnData<'_>) -> Result<(), String> {
        if self.pending.is_empty() {
            let consumed = split_events(read, on_data)?;
            self.pending.extend_from_slice(read.get(consumed..).unwrap_or_default());
        } else {
            self.pending.extend_from_slice(read);
            let consumed = split_events(&self.pending, on_data)?;
            self.pending.drain(..consumed);
        }
        Ok(())
    }
}

/// Calls `on_data` for every complete event in `bytes`; returns how many bytes those events used.
///
/// `memchr` finds the blank lines and line ends, as any hand-written splitter that cares about speed
/// would: a byte-at-a-time scan would make the baseline, and so every ratio, look better than it is.
fn split_events(bytes: &[u8], on_data: &mut OnData<'_>) -> Result<usize, String> {
    let mut start = 0;
    for end in memchr::memmem::find_iter(bytes, b"\n\n") {
        // A run of three or more newlines holds a blank line inside an event already consumed.
        let Some(event) = bytes.get(start..end) else { continue };
        let mut lines = event;
        loop {
            let line_end = memchr::memchr(b'\n', lines).unwrap_or(lines.len());
            let line = lines.get(..line_end).unwrap_or_default();
            if let Some(data) = line.strip_prefix(b"data:") {
                let data = data.strip_prefix(b" ").unwrap_or(data);
                on_data(std::str::from_utf8(data).map_err(|error| format!("event data: {error}"))?)?;
            }
            match lines.get(line_end + 1..) {
                Some(rest) if !rest.is_empty() => lines = rest,
                _ => break,
            }
        }
        start = end + 2;
    }
    Ok(start)
}

/// The fields of an OpenAI chat completion a consumer reads, borrowed from the body.
#[derive(Debug, Deserialize)]
struct BorrowedCompletion<'a> {
    #[serde(borrow)]
    id: &'a str,
    #[serde(borrow)]
    model: &'a str,
    #[serde(borrow)]
    choices: Vec<BorrowedCompletionChoice<'a>>,
    #[serde(default)]
    usage: Option<BorrowedUsage>,
}

#[derive(Debug, Deserialize)]
struct BorrowedCompletionChoice<'a> {
    index: u32,
    #[serde(borrow)]
    message: BorrowedMessage<'a>,
    #[serde(default, borrow)]
    finish_reason: Option<&'a str>,
}

#[derive(Debug, Deserialize)]
struct BorrowedMessage<'a> {
    #[serde(borrow)]
    role: &'a str,
    #[serde(default, borrow)]
    content: Option<Text<'a>>,
}

/// The fields of an OpenAI chunk a consumer reads, borrowed from the event's bytes.
#[derive(Debug, Deserialize)]
struct BorrowedChunk<'a> {
    #[serde(borrow)]
    id: &'a str,
    #[serde(borrow)]
    model: &'a str,
    #[serde(default, borrow)]
    choices: Vec<BorrowedChoice<'a>>,
    #[serde(default)]
    usage: Option<BorrowedUsage>,
}

#[derive(Debug, Deserialize)]
struct BorrowedChoice<'a> {
    index: u32,
    #[serde(borrow)]
    delta: BorrowedDelta<'a>,
    #[serde(default, borrow)]
    finish_reason: Option<&'a str>,
}

#[derive(Debug, Deserialize)]
struct BorrowedDelta<'a> {
    #[serde(default, borrow)]
    role: Option<&'a str>,
    #[serde(default, borrow)]
    content: Option<Text<'a>>,
}

/// A string borrowed from the input unless it had escapes. (`Option<Cow<str>>` would always copy:
/// serde borrows only a bare `Cow` field.)
#[derive(Debug)]
pub(crate) struct Text<'a>(pub(crate) Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor<'a>(std::marker::PhantomData<&'a str>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for TextVisitor<'a> {
            type Value = Text<'a>;
            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, text: &'de str) -> Result<Text<'a>, E> {
                Ok(Text(Cow::Borrowed(text)))
            }
            fn visit_str<E>(self, text: &str) -> Result<Text<'a>, E> {
                Ok(Text(Cow::Owned(text.to_owned())))
            }
        }
        deserializer.deserialize_str(TextVisitor(std::marker::PhantomData))
    }
}

#[derive(Debug, Deserialize)]
struct BorrowedUsage {
    prompt_tokens: u32,
    completion_tokens: u32,
}

/// Decodes events and keeps what a consumer would look at, so none of the work can be optimised away.
#[derive(Debug, Default)]
struct ChunkCounter {
    chunks: usize,
    content_bytes: usize,
    done: bool,
}

impl ChunkCounter {
    fn decode(&mut self, data: &str) -> Result<(), String> {
        if data == "[DONE]" {
            self.done = true;
            return Ok(());
        }
        let chunk: BorrowedChunk<'_> =
            serde_json::from_str(data).map_err(|error| format!("raw chunk: {error}: {data}"))?;
        self.chunks += 1;
        self.content_bytes += chunk.id.len() + chunk.model.len();
        for choice in &chunk.choices {
            self.content_bytes += choice.index as usize
                + choice.delta.role.map_or(0, str::len)
                + choice.delta.content.as_ref().map_or(0, |text| text.0.len())
                + choice.finish_reason.map_or(0, str::len);
        }
        if let Some(usage) = chunk.usage {
            self.content_bytes += (usage.prompt_tokens + usage.completion_tokens) as usize;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;

    fn decode_all(reads: &[&[u8]]) -> ChunkCounter {
        let mut splitter = SseSplitter::default();
        let mut counter = ChunkCounter::default();
        for read in reads {
            let Ok(()) = splitter.push(read, &mut |event| counter.decode(event)) else { panic!("decodes") };
        }
        counter
    }

    #[test]
    fn every_chunk_is_decoded_whatever_the_reads() {
        let events = fixtures::stream_events(20);
        let whole = events.concat();
        let one_read = decode_all(&[whole.as_bytes()]);
        assert_eq!((one_read.chunks, one_read.done), (20, true));
        let per_event: Vec<&[u8]> = events.iter().map(|event| event.as_bytes()).collect();
        let split = decode_all(&per_event);
        assert_eq!((split.chunks, split.content_bytes), (one_read.chunks, one_read.content_bytes));
        let tiny: Vec<&[u8]> = whole.as_bytes().chunks(7).collect();
        let tiny = decode_all(&tiny);
        assert_eq!((tiny.chunks, tiny.content_bytes, tiny.done), (20, one_read.content_bytes, true));
    }
}
