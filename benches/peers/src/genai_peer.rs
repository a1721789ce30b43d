//! genai with its own client (reqwest, its default features), bound to its OpenAI adapter and pointed
//! at the loopback server: the request built with its types (`ChatRequest`, `ChatOptions`),
//! `exec_chat` and `exec_chat_stream` with a clone of the request (both take it by value).
//!
//! genai exposes less of each chunk than the others: no id or model per chunk, only text deltas
//! (`ChatStreamEvent::Chunk`, none for an empty delta) and the usage at the end. Those are read.

use std::time::Duration;

use futures_util::StreamExt;
use genai::adapter::AdapterKind;
use genai::chat::{
    ChatMessage, ChatOptions, ChatRequest, ChatStream, ChatStreamEvent, Tool, ToolCall, ToolResponse,
};
use genai::resolver::{AuthData, Endpoint};
use genai::Client;

use crate::fixture::{self, Request};

/// A genai client pointed at one scenario of the loopback server, with its request and options.
pub struct GenaiPeer {
    client: Client,
    request: ChatRequest,
    options: ChatOptions,
}

/// The fixture's request as genai's `ChatRequest` and `ChatOptions`.
pub fn request(kind: Request) -> Result<(ChatRequest, ChatOptions), String> {
    let messages: Vec<ChatMessage> = match kind {
        Request::Turns => fixture::turns()
            .map(
                |(role, text)| {
                    if role == "user" { ChatMessage::user(text) } else { ChatMessage::assistant(text) }
                },
            )
            .collect(),
        Request::OneShot | Request::Stream => {
            let arguments =
                serde_json::from_str(fixture::CALL_ARGUMENTS).map_err(|error| error.to_string())?;
            vec![
                ChatMessage::user(fixture::FIRST_QUESTION),
                ChatMessage::from(vec![ToolCall {
                    call_id: fixture::CALL_ID.to_owned(),
                    fn_name: fixture::TOOL_NAME.to_owned(),
                    fn_arguments: arguments,
                    thought_signatures: None,
                }]),
                ChatMessage::from(ToolResponse::new(fixture::CALL_ID, fixture::TOOL_RESULT)),
                ChatMessage::user(fixture::LAST_QUESTION),
            ]
        }
    };
    let request = ChatRequest::from_messages(messages).with_system(fixture::SYSTEM_PROMPT).with_tools(vec![
        Tool::new(fixture::TOOL_NAME)
            .with_description(fixture::TOOL_DESCRIPTION)
            .with_schema(fixture::tool_parameters())
            .with_strict(true),
    ]);
    // genai has no `user` option: it goes in the extra body, which is merged into the payload.
    let options = ChatOptions::default()
        .with_temperature(f64::from(fixture::TEMPERATURE))
        .with_top_p(f64::from(fixture::TOP_P))
        .with_max_tokens(fixture::MAX_TOKENS)
        .with_capture_usage(true)
        .with_extra_body(serde_json::json!({"user": fixture::USER}));
    Ok((request, options))
}

impl GenaiPeer {
    /// A client whose OpenAI endpoint is `base_url` (`http://127.0.0.1:PORT/<scenario>/v1`).
    pub fn new(base_url: &str, kind: Request) -> Result<GenaiPeer, String> {
        let client = Client::builder()
            .with_adapter_kind(AdapterKind::OpenAI)
            .append_provider_config(
                AdapterKind::OpenAI,
                (Endpoint::from_owned(format!("{base_url}/")), AuthData::from_single(fixture::API_KEY)),
            )
            .build()
            .map_err(|error| error.to_string())?;
        let (request, options) = request(kind)?;
        Ok(GenaiPeer { client, request, options })
    }

    /// One completion; returns the length of the answer's text.
    pub async fn one_shot(&self) -> Result<usize, String> {
        let answer = self
            .client
            .exec_chat(fixture::MODEL, self.request.clone(), Some(&self.options))
            .await
            .map_err(|error| error.to_string())?;
        Ok(answer.first_text().map_or(0, str::len))
    }

    /// One stream read to the end; returns how many events genai delivered (not the server's chunks:
    /// genai yields nothing for an empty delta and adds start and end events).
    pub async fn stream(&self) -> Result<usize, String> {
        let mut stream = self.open().await?;
        let mut events = 0;
        let mut seen = 0usize;
        while let Some(event) = stream.next().await {
            let event = event.map_err(|error| error.to_string())?;
            events += 1;
            match event {
                ChatStreamEvent::Chunk(chunk) => seen += chunk.content.len(),
                ChatStreamEvent::End(end) => {
                    if let Some(usage) = &end.captured_usage {
                        seen += (usage.prompt_tokens.unwrap_or(0) + usage.completion_tokens.unwrap_or(0))
                            as usize;
                    }
                    seen += usize::from(end.captured_stop_reason.is_some());
                }
                _ => {}
            }
        }
        std::hint::black_box(seen);
        Ok(events)
    }

    async fn open(&self) -> Result<ChatStream, String> {
        let response = self
            .client
            .exec_chat_stream(fixture::MODEL, self.request.clone(), Some(&self.options))
            .await
            .map_err(|error| error.to_string())?;
        Ok(response.stream)
    }

    /// Opens a stream and reads its first event, then keeps it open. genai's first event is `Start`
    /// (the response head); the server's first chunk has an empty delta, for which genai yields
    /// nothing, so the stream is then polled for 100 ms more: long enough to read and decode that
    /// chunk, which the stalled server sends with the head.
    pub async fn open_stream(&self) -> Result<ChatStream, String> {
        let mut stream = self.open().await?;
        match stream.next().await {
            Some(Ok(_)) => {}
            Some(Err(error)) => return Err(error.to_string()),
            None => return Err("the stream ended early".to_owned()),
        }
        match tokio::time::timeout(Duration::from_millis(100), stream.next()).await {
            Err(_) | Ok(Some(Ok(_))) => Ok(stream),
            Ok(Some(Err(error))) => Err(error.to_string()),
            Ok(None) => Err("the stream ended early".to_owned()),
        }
    }
}
