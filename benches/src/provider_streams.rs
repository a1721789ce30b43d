//! The Anthropic, Gemini and Bedrock streams, both sides:
//! - the library: the provider's direct model (`AnthropicModel`, `GeminiModel`, `BedrockModel`) pointed at
//!   the loopback server, every chunk's fields read as `library::LibraryClient::stream` reads OpenAI's;
//! - the decode floor: raw hyper posting the request the library sends (URL, headers, body captured once,
//!   Bedrock's signature included), the SSE splitter of `raw` (Anthropic, Gemini) or a minimal by-hand
//!   event-stream frame parser with both CRCs checked (Bedrock), and serde_json into borrowed structs
//!   reading the same fields.
//!
//! Both sides count wire events (server-sent events, frames), which the server serves exactly as many of
//! as asked, so per-event figures divide by the same count.

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::{HeaderMap, Request, Uri};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde::Deserialize;
use vllora_llm_core::types::gateway::ChatCompletionRequest;
use vllora_llm_core::{AwsCredentials, BoxFuture, CallOptions, Credentials, LLMError, LLMResult, ModelInstance};
use vllora_llm_http::{HttpClient, HttpConfig, HttpRequest, HttpResponse, HttpTransport};

use crate::provider_fixtures::{self as fixtures, Provider};
use crate::raw::{SseSplitter, Text};

/// The provider's model over the given HTTP client, its base URL pointed at `base_url`.
fn model(provider: Provider, base_url: &str, http: HttpClient) -> Result<Box<dyn ModelInstance>, String> {
    Ok(match provider {
        Provider::Anthropic => Box::new(vllora_llm_anthropic::AnthropicModel::new(
            vllora_llm_anthropic::AnthropicConfig::new(fixtures::PROVIDER_API_KEY).with_base_url(base_url),
            http,
        )),
        Provider::Gemini => Box::new(vllora_llm_gemini::GeminiModel::new(
            vllora_llm_gemini::GeminiConfig::new(fixtures::PROVIDER_API_KEY).with_base_url(base_url),
            http,
        )),
        Provider::Bedrock => {
            let credentials = Credentials::Aws(AwsCredentials {
                access_key_id: fixtures::AWS_ACCESS_KEY_ID.into(),
                secret_access_key: fixtures::AWS_SECRET_ACCESS_KEY.into(),
                session_token: None,
                region: Some("us-east-1".to_owned()),
            });
            let config = vllora_llm_bedrock::BedrockConfig::from_credentials(&credentials)
                .map_err(|error| format!("Bedrock config: {error}"))?
                .with_base_url(base_url);
            Box::new(vllora_llm_bedrock::BedrockModel::new(config, http))
        }
    })
}

/// The library side: a provider's model pointed at one scenario of the loopback server.
pub struct ProviderClient {
    model: Box<dyn ModelInstance>,
    request: ChatCompletionRequest,
    options: CallOptions,
    events: usize,
}

impl std::fmt::Debug for ProviderClient {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("ProviderClient").field("events", &self.events).finish_non_exhaustive()
    }
}

impl ProviderClient {
    /// The provider's model with the default transport; each stream has `events` wire events.
    pub fn new(provider: Provider, base_url: &str, events: usize) -> Result<ProviderClient, String> {
        let http = HttpClient::new(HttpConfig::default()).map_err(|error| format!("HttpClient: {error}"))?;
        Ok(ProviderClient {
            model: model(provider, base_url, http)?,
            request: provider.request(),
            options: CallOptions::default(),
            events,
        })
    }

    /// One stream read to the end, every chunk's fields read; returns the wire events it carried
    /// (an error if it delivered no chunk).
    pub async fn stream(&self) -> Result<usize, String> {
        let mut stream =
            self.model.stream(&self.request, &self.options).await.map_err(|error| error.to_string())?;
        let mut chunks = 0usize;
        let mut seen = 0usize;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|error| error.to_string())?;
            chunks += 1;
            seen += chunk.id.len() + chunk.model.len();
            for choice in &chunk.choices {
                seen += choice.index as usize
                    + choice.delta.role.as_ref().map_or(0, |role| role.as_str().len())
                    + choice.delta.content.as_deref().map_or(0, str::len)
                    + usize::from(choice.finish_reason.is_some());
            }
            if let Some(usage) = &chunk.usage {
                seen += (usage.prompt_tokens + usage.completion_tokens) as usize;
            }
        }
        std::hint::black_box(seen);
        if chunks == 0 {
            return Err("the stream delivered no chunk".to_owned());
        }
        Ok(self.events)
    }
}

/// A transport that keeps the last request and fails at once.
#[derive(Debug, Default)]
struct Capture {
    last: Mutex<Option<HttpRequest>>,
}

impl HttpTransport for Capture {
    fn send(&self, request: HttpRequest) -> BoxFuture<'static, LLMResult<HttpResponse>> {
        if let Ok(mut last) = self.last.lock() {
            *last = Some(request);
        }
        Box::pin(std::future::ready(Err(LLMError::InvalidRequest(String::new()))))
    }
}

/// The streaming request the library sends to `base_url`: URL, headers and body.
async fn captured_request(provider: Provider, base_url: &str) -> Result<HttpRequest, String> {
    let capture = Arc::new(Capture::default());
    let http = HttpClient::with_transport(capture.clone(), HttpConfig::default());
    let model = model(provider, base_url, http)?;
    let _ = model.stream(&provider.request(), &CallOptions::default()).await;
    capture
        .last
        .lock()
        .ok()
        .and_then(|mut last| last.take())
        .ok_or_else(|| format!("the {} model sent no request", provider.name()))
}

/// The floor: raw hyper posting the library's request, decoding by hand.
#[derive(Debug)]
pub struct RawProviderClient {
    provider: Provider,
    client: Client<HttpConnector, Full<Bytes>>,
    url: Uri,
    headers: HeaderMap,
    body: Bytes,
}

impl RawProviderClient {
    /// A client posting what the library posts for `provider` to `base_url`.
    pub async fn new(provider: Provider, base_url: &str) -> Result<RawProviderClient, String> {
        let request = captured_request(provider, base_url).await?;
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        Ok(RawProviderClient {
            provider,
            client: Client::builder(TokioExecutor::new()).build(connector),
            url: request.url.parse().map_err(|error| format!("{}: {error}", request.url))?,
            headers: request.headers,
            body: request.body,
        })
    }

    /// One stream read to the end; returns the wire events decoded.
    pub async fn stream(&self) -> Result<usize, String> {
        let mut request = Request::post(self.url.clone())
            .body(Full::new(self.body.clone()))
            .map_err(|error| format!("{error}"))?;
        *request.headers_mut() = self.headers.clone();
        let response = self.client.request(request).await.map_err(|error| format!("raw request: {error}"))?;
        if !response.status().is_success() {
            return Err(format!("raw request: status {}", response.status()));
        }
        let mut body: Incoming = response.into_body();
        let mut counter = EventCounter::default();
        match self.provider {
            Provider::Anthropic | Provider::Gemini => {
                let mut splitter = SseSplitter::default();
                let provider = self.provider;
                while let Some(frame) = body.frame().await {
                    let frame = frame.map_err(|error| format!("raw body: {error}"))?;
                    if let Ok(data) = frame.into_data() {
                        splitter.push(&data, &mut |event| counter.decode_sse(provider, event))?;
                    }
                }
            }
            Provider::Bedrock => {
                let mut frames = FrameSplitter::default();
                while let Some(frame) = body.frame().await {
                    let frame = frame.map_err(|error| format!("raw body: {error}"))?;
                    if let Ok(data) = frame.into_data() {
                        frames.push(&data, &mut |event_type, payload| {
                            counter.decode_bedrock(event_type, payload)
                        })?;
                    }
                }
            }
        }
        std::hint::black_box(counter.seen);
        Ok(counter.events)
    }
}

/// Anthropic's stream events, the fields a consumer reads, borrowed from the event's data.
#[derive(Debug, Deserialize)]
struct AnthropicEvent<'a> {
    #[serde(borrow, rename = "type")]
    kind: &'a str,
    #[serde(default)]
    index: Option<u32>,
    #[serde(default, borrow)]
    message: Option<AnthropicMessage<'a>>,
    #[serde(default, borrow)]
    delta: Option<AnthropicDelta<'a>>,
    #[serde(default)]
    usage: Option<AnthropicUsage>,
}

#[derive(Debug, Deserialize)]
struct AnthropicMessage<'a> {
    #[serde(borrow)]
    id: &'a str,
    #[serde(borrow)]
    model: &'a str,
    #[serde(borrow)]
    role: &'a str,
    usage: AnthropicUsage,
}

#[derive(Debug, Deserialize)]
struct AnthropicDelta<'a> {
    #[serde(default, borrow)]
    text: Option<Text<'a>>,
    #[serde(default, borrow)]
    stop_reason: Option<&'a str>,
}

#[derive(Debug, Deserialize)]
struct AnthropicUsage {
    #[serde(default)]
    input_tokens: u32,
    output_tokens: u32,
}

/// A Gemini `GenerateContentResponse`, the fields a consumer reads, borrowed.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct GeminiResponse<'a> {
    #[serde(default, borrow)]
    candidates: Vec<GeminiCandidate<'a>>,
    #[serde(default)]
    usage_metadata: Option<GeminiUsage>,
    #[serde(borrow)]
    model_version: &'a str,
    #[serde(borrow)]
    response_id: &'a str,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct GeminiCandidate<'a> {
    #[serde(default, borrow)]
    content: Option<GeminiContent<'a>>,
    #[serde(default, borrow)]
    finish_reason: Option<&'a str>,
    #[serde(default)]
    index: u32,
}

#[derive(Debug, Deserialize)]
struct GeminiContent<'a> {
    #[serde(default, borrow)]
    parts: Vec<GeminiPart<'a>>,
    #[serde(default, borrow)]
    role: Option<&'a str>,
}

#[derive(Debug, Deserialize)]
struct GeminiPart<'a> {
    #[serde(default, borrow)]
    text: Option<Text<'a>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct GeminiUsage {
    #[serde(default)]
    prompt_token_count: u32,
    #[serde(default)]
    candidates_token_count: u32,
}

/// A Bedrock ConverseStream event payload, the fields a consumer reads, borrowed.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct BedrockEvent<'a> {
    #[serde(default, borrow)]
    role: Option<&'a str>,
    #[serde(default)]
    content_block_index: Option<u32>,
    #[serde(default, borrow)]
    delta: Option<BedrockDelta<'a>>,
    #[serde(default, borrow)]
    stop_reason: Option<&'a str>,
    #[serde(default)]
    usage: Option<BedrockUsage>,
}

#[derive(Debug, Deserialize)]
struct BedrockDelta<'a> {
    #[serde(default, borrow)]
    text: Option<Text<'a>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct BedrockUsage {
    input_tokens: u32,
    output_tokens: u32,
}

/// Decodes events and keeps what a consumer would look at, so none of the work can be optimised away.
#[derive(Debug, Default)]
struct EventCounter {
    events: usize,
    seen: usize,
}

impl EventCounter {
    fn decode_sse(&mut self, provider: Provider, data: &str) -> Result<(), String> {
        self.events += 1;
        match provider {
            Provider::Anthropic => {
                let event: AnthropicEvent<'_> = serde_json::from_str(data)
                    .map_err(|error| format!("Anthropic event: {error}: {data}"))?;
                self.seen += event.kind.len() + event.index.map_or(0, |index| index as usize);
                if let Some(message) = event.message {
                    self.seen += message.id.len()
                        + message.model.len()
                        + message.role.len()
                        + (message.usage.input_tokens + message.usage.output_tokens) as usize;
                }
                if let Some(delta) = event.delta {
                    self.seen +=
                        delta.text.map_or(0, |text| text.0.len()) + delta.stop_reason.map_or(0, str::len);
                }
                if let Some(usage) = event.usage {
                    self.seen += (usage.input_tokens + usage.output_tokens) as usize;
                }
            }
            Provider::Gemini => {
                let response: GeminiResponse<'_> = serde_json::from_str(data)
                    .map_err(|error| format!("Gemini response: {error}: {data}"))?;
                self.seen += response.model_version.len() + response.response_id.len();
                for candidate in &response.candidates {
                    self.seen += candidate.index as usize + candidate.finish_reason.map_or(0, str::len);
                    if let Some(content) = &candidate.content {
                        self.seen += content.role.map_or(0, str::len);
                        for part in &content.parts {
                            self.seen += part.text.as_ref().map_or(0, |text| text.0.len());
                        }
                    }
                }
                if let Some(usage) = response.usage_metadata {
                    self.seen += (usage.prompt_token_count + usage.candidates_token_count) as usize;
                }
            }
            Provider::Bedrock => return Err("Bedrock does not answer with server-sent events".to_owned()),
        }
        Ok(())
    }

    fn decode_bedrock(&mut self, event_type: &str, payload: &[u8]) -> Result<(), String> {
        self.events += 1;
        let event: BedrockEvent<'_> =
            serde_json::from_slice(payload).map_err(|error| format!("Bedrock {event_type}: {error}"))?;
        self.seen += event_type.len()
            + event.role.map_or(0, str::len)
            + event.content_block_index.map_or(0, |index| index as usize)
            + event.delta.and_then(|delta| delta.text).map_or(0, |text| text.0.len())
            + event.stop_reason.map_or(0, str::len);
        if let Some(usage) = event.usage {
            self.seen += (usage.input_tokens + usage.output_tokens) as usize;
        }
        Ok(())
    }
}

type OnFrame<'a> = dyn FnMut(&str, &[u8]) -> Result<(), String> + 'a;

/// Splits AWS event-stream frames, checks both CRCs, reads the string headers and hands each event's
/// `:event-type` and payload to a callback, copying bytes only for a frame cut across reads.
#[derive(Debug, Default)]
pub struct FrameSplitter {
    pending: Vec<u8>,
}

impl FrameSplitter {
    /// Feeds one read of the body.
    fn push(&mut self, read: &[u8], on_frame: &mut OnFrame<'_>) -> Result<(), String> {
        if self.pending.is_empty() {
            let consumed = split_frames(read, on_frame)?;
            self.pending.extend_from_slice(read.get(consumed..).unwrap_or_default());
        } else {
            self.pending.extend_from_slice(read);
            let consumed = split_frames(&self.pending, on_frame)?;
            self.pending.drain(..consumed);
        }
        Ok(())
    }
}

fn be_u32(bytes: &[u8], at: usize) -> Option<u32> {
    let word = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([word[0], word[1], word[2], word[3]]))
}

/// Calls `on_frame` for every complete frame in `bytes`; returns how many bytes those frames used.
fn split_frames(bytes: &[u8], on_frame: &mut OnFrame<'_>) -> Result<usize, String> {
    let mut start = 0;
    while let Some(rest) = bytes.get(start..) {
        let (Some(total), Some(headers_len), Some(prelude_crc)) =
            (be_u32(rest, 0), be_u32(rest, 4), be_u32(rest, 8))
        else {
            break;
        };
        if fixtures::crc32(rest.get(..8).unwrap_or_default()) != prelude_crc {
            return Err("event-stream prelude CRC mismatch".to_owned());
        }
        let (total, headers_len) = (total as usize, headers_len as usize);
        let headers_end = headers_len.checked_add(12).filter(|end| end.saturating_add(4) <= total);
        let Some(headers_end) = headers_end else {
            return Err("event-stream frame lengths disagree".to_owned());
        };
        let Some(frame) = rest.get(..total) else { break };
        let crc_at = total - 4;
        if Some(fixtures::crc32(frame.get(..crc_at).unwrap_or_default())) != be_u32(frame, crc_at) {
            return Err("event-stream message CRC mismatch".to_owned());
        }
        let mut event_type = None;
        let mut message_type = None;
        let mut headers = frame.get(12..headers_end).unwrap_or_default();
        while let Some((&name_len, after)) = headers.split_first() {
            let name = after.get(..usize::from(name_len)).ok_or("event-stream header name cut short")?;
            let after = after.get(usize::from(name_len)..).unwrap_or_default();
            let Some((&kind, after)) = after.split_first() else {
                return Err("header without type".to_owned());
            };
            let value_len = match kind {
                0 | 1 => 0,
                2 => 1,
                3 => 2,
                4 => 4,
                5 | 8 => 8,
                9 => 16,
                6 | 7 => {
                    let length = after.get(..2).ok_or("header value length cut short")?;
                    2 + usize::from(u16::from_be_bytes([length[0], length[1]]))
                }
                other => return Err(format!("unknown header type {other}")),
            };
            let value = after.get(..value_len).ok_or("header value cut short")?;
            if kind == 7 {
                let text = std::str::from_utf8(value.get(2..).unwrap_or_default())
                    .map_err(|error| format!("{error}"))?;
                match name {
                    b":event-type" => event_type = Some(text),
                    b":message-type" => message_type = Some(text),
                    _ => {}
                }
            }
            headers = after.get(value_len..).unwrap_or_default();
        }
        if message_type != Some("event") {
            return Err(format!("event-stream message of type {message_type:?}"));
        }
        let payload = frame.get(headers_end..crc_at).unwrap_or_default();
        on_frame(event_type.ok_or("event without :event-type")?, payload)?;
        start += total;
    }
    Ok(start)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(provider: Provider, reads: &[&[u8]]) -> EventCounter {
        let mut counter = EventCounter::default();
        let mut splitter = SseSplitter::default();
        let mut frames = FrameSplitter::default();
        for read in reads {
            let decoded = match provider {
                Provider::Bedrock => {
                    frames.push(read, &mut |event_type, payload| counter.decode_bedrock(event_type, payload))
                }
                _ => splitter.push(read, &mut |event| counter.decode_sse(provider, event)),
            };
            if let Err(error) = decoded {
                panic!("{provider:?}: {error}");
            }
        }
        counter
    }

    #[test]
    fn every_event_is_decoded_whatever_the_reads() {
        for provider in Provider::ALL {
            let events = provider.wire_events(40);
            let whole = events.concat();
            let one_read = decode_all(provider, &[&whole]);
            assert_eq!(one_read.events, 40, "{provider:?}");
            let per_event: Vec<&[u8]> = events.iter().map(Vec::as_slice).collect();
            let split = decode_all(provider, &per_event);
            assert_eq!((split.events, split.seen), (40, one_read.seen), "{provider:?}");
            let tiny: Vec<&[u8]> = whole.chunks(7).collect();
            let tiny = decode_all(provider, &tiny);
            assert_eq!((tiny.events, tiny.seen), (40, one_read.seen), "{provider:?}");
        }
    }

    #[test]
    fn a_corrupt_frame_is_refused() {
        let mut frame = fixtures::event_stream_frame("messageStop", br#"{"stopReason":"end_turn"}"#);
        if let Some(byte) = frame.get_mut(30) {
            *byte ^= 1;
        }
        let mut frames = FrameSplitter::default();
        assert!(frames.push(&frame, &mut |_, _| Ok(())).is_err());
    }
}
