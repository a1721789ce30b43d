//! rmcp's streamable HTTP client over our own transport ([`HttpTransport`]): rustls, the proxies of the
//! environment, the connect timeout, and secrets marked sensitive. rmcp's built-in client would bring
//! reqwest; this one speaks the same protocol (POST JSON-RPC with `Accept: application/json,
//! text/event-stream`, a JSON or SSE answer, `Mcp-Session-Id`, GET for the server's stream, DELETE to end
//! the session) with the limits rmcp asks for.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use http::header::{ACCEPT, CONTENT_LENGTH, CONTENT_TYPE, WWW_AUTHENTICATE};
use http::{HeaderName, HeaderValue, Method, StatusCode};
use rmcp::model::{ClientJsonRpcMessage, ClientRequest, ErrorData, JsonRpcMessage, ServerJsonRpcMessage};
use rmcp::transport::streamable_http_client::{
    AuthRequiredError, InsufficientScopeError, StreamableHttpClient, StreamableHttpError,
    StreamableHttpPostResponse, StreamableHttpResponseLimits,
};
use sse_stream::Sse;
use vllora_llm_core::{LLMError, Secret};
use vllora_llm_http::{BodyStream, Bytes, HttpRequest, HttpResponse, HttpTransport, sse_stream};

const SESSION_ID: &str = "mcp-session-id";
const LAST_EVENT_ID: &str = "last-event-id";
const EVENT_STREAM: &str = "text/event-stream";
const JSON: &str = "application/json";
/// Headers rmcp sets itself; a caller's header of that name would confuse the session.
const RESERVED: [&str; 3] = ["accept", SESSION_ID, LAST_EVENT_ID];

type Error = StreamableHttpError<LLMError>;
type SseStream = BoxStream<'static, Result<Sse, sse_stream::Error>>;

/// The HTTP side of one MCP server: its transport and the headers every request carries.
#[derive(Clone)]
pub(crate) struct McpHttpClient {
    transport: Arc<dyn HttpTransport>,
    /// Headers of the server's configuration (the bearer token among them), values kept as secrets.
    headers: Arc<Vec<(String, Secret)>>,
}

impl fmt::Debug for McpHttpClient {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(name, _)| name.as_str()).collect();
        formatter
            .debug_struct("McpHttpClient")
            .field("transport", &self.transport)
            .field("headers", &names)
            .finish()
    }
}

impl McpHttpClient {
    pub(crate) fn new(transport: Arc<dyn HttpTransport>, headers: Vec<(String, Secret)>) -> Self {
        McpHttpClient { transport, headers: Arc::new(headers) }
    }

    fn request(
        &self,
        method: Method,
        uri: &str,
        session_id: Option<&str>,
        auth_token: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> Result<HttpRequest, Error> {
        let mut request = HttpRequest::new(method, uri);
        for (name, value) in self.headers.iter() {
            request = request.secret_header(name, value).map_err(Error::Client)?;
        }
        if let Some(token) = auth_token {
            request = request.bearer_auth(&Secret::new(token)).map_err(Error::Client)?;
        }
        for (name, value) in custom_headers {
            if RESERVED.iter().any(|reserved| name.as_str().eq_ignore_ascii_case(reserved)) {
                return Err(Error::ReservedHeaderConflict(name.to_string()));
            }
            request.headers.insert(name, value);
        }
        if let Some(session_id) = session_id {
            let value = HeaderValue::from_str(session_id).map_err(|_| {
                Error::UnexpectedServerResponse(Cow::Borrowed("the session id is not a valid header value"))
            })?;
            request.headers.insert(SESSION_ID, value);
        }
        Ok(request)
    }

    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, Error> {
        self.transport.send(request).await.map_err(Error::Client)
    }
}

/// `text/event-stream; charset=utf-8` is `text/event-stream`: the media type without parameters, any case.
fn media_type_is(value: Option<&HeaderValue>, expected: &str) -> bool {
    value
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case(expected))
}

/// 401 and 403 with a challenge are rmcp's authorisation errors.
fn auth_error(response: &HttpResponse) -> Option<Error> {
    let challenge = response.headers.get(WWW_AUTHENTICATE)?.to_str().ok()?.to_owned();
    match response.status {
        StatusCode::UNAUTHORIZED => Some(Error::AuthRequired(AuthRequiredError::new(challenge))),
        StatusCode::FORBIDDEN => {
            let scope = challenge
                .split(',')
                .flat_map(|part| part.split_whitespace())
                .find_map(|part| part.strip_prefix("scope="))
                .map(|scope| scope.trim_matches('"').to_owned());
            Some(Error::InsufficientScope(InsufficientScopeError::new(challenge, scope)))
        }
        _ => None,
    }
}

/// Reads a body up to `max` bytes; more is an error (`truncate` = false) or cut (`truncate` = true).
async fn read_body(mut body: BodyStream, max: usize, truncate: bool) -> Result<Vec<u8>, Error> {
    let mut bytes = Vec::new();
    while let Some(piece) = body.next().await {
        let piece = piece.map_err(Error::Client)?;
        let room = max.saturating_sub(bytes.len());
        if piece.len() > room {
            if truncate {
                bytes.extend_from_slice(piece.get(..room).unwrap_or_default());
                break;
            }
            return Err(Error::ResponseBodyTooLarge { max_size: max });
        }
        bytes.extend_from_slice(&piece);
    }
    Ok(bytes)
}

/// The body as server-sent events, decoded by our SSE decoder (bounded event size).
fn events(body: BodyStream, max_event_size: usize) -> SseStream {
    sse_stream(body, max_event_size)
        .map(|event| match event {
            Ok(event) => {
                Ok(Sse { event: event.event, data: Some(event.data), id: event.id, retry: event.retry })
            }
            Err(error) => Err(sse_stream::Error::Body(Box::new(error))),
        })
        .boxed()
}

/// A server that predates `server/discover` answers it with a 4xx that is not JSON-RPC; rmcp falls back
/// to `initialize` when it gets a JSON-RPC error for it, so the 4xx becomes one.
fn discover_rejected(
    message: &ClientJsonRpcMessage,
    status: StatusCode,
    body: &str,
) -> Option<StreamableHttpPostResponse> {
    if !status.is_client_error() || matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) {
        return None;
    }
    let JsonRpcMessage::Request(request) = message else { return None };
    if !matches!(request.request, ClientRequest::DiscoverRequest(_)) {
        return None;
    }
    let error = match serde_json::from_str::<ServerJsonRpcMessage>(body) {
        Ok(JsonRpcMessage::Error(error)) => error.error,
        _ => ErrorData::invalid_request(format!("server/discover rejected with HTTP {status}"), None),
    };
    Some(StreamableHttpPostResponse::Json(ServerJsonRpcMessage::error(error, Some(request.id.clone())), None))
}

impl StreamableHttpClient for McpHttpClient {
    type Error = LLMError;

    async fn post_message(
        &self,
        uri: Arc<str>,
        message: ClientJsonRpcMessage,
        session_id: Option<Arc<str>>,
        auth_token: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> Result<StreamableHttpPostResponse, Error> {
        self.post_message_with_response_limits(
            uri,
            message,
            session_id,
            auth_token,
            custom_headers,
            StreamableHttpResponseLimits::default(),
        )
        .await
    }

    async fn post_message_with_max_sse_event_size(
        &self,
        uri: Arc<str>,
        message: ClientJsonRpcMessage,
        session_id: Option<Arc<str>>,
        auth_token: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
        max_sse_event_size: usize,
    ) -> Result<StreamableHttpPostResponse, Error> {
        let mut limits = StreamableHttpResponseLimits::default();
        limits.max_sse_event_size = max_sse_event_size;
        self.post_message_with_response_limits(uri, message, session_id, auth_token, custom_headers, limits)
            .await
    }

    async fn post_message_with_response_limits(
        &self,
        uri: Arc<str>,
        message: ClientJsonRpcMessage,
        session_id: Option<Arc<str>>,
        auth_token: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
        limits: StreamableHttpResponseLimits,
    ) -> Result<StreamableHttpPostResponse, Error> {
        let body = serde_json::to_vec(&message)?;
        let mut request =
            self.request(Method::POST, &uri, session_id.as_deref(), auth_token, custom_headers)?;
        request.headers.insert(CONTENT_TYPE, HeaderValue::from_static(JSON));
        request.headers.insert(ACCEPT, HeaderValue::from_static("application/json, text/event-stream"));
        request.body = Bytes::from(body);
        let response = self.send(request).await?;
        if let Some(error) = auth_error(&response) {
            return Err(error);
        }
        let status = response.status;
        if matches!(status, StatusCode::ACCEPTED | StatusCode::NO_CONTENT) {
            return Ok(StreamableHttpPostResponse::Accepted);
        }
        if status == StatusCode::NOT_FOUND && session_id.is_some() {
            return Err(Error::SessionExpired);
        }
        let content_type = response.headers.get(CONTENT_TYPE).cloned();
        let new_session =
            response.headers.get(SESSION_ID).and_then(|value| value.to_str().ok()).map(str::to_owned);
        let declared_empty = response
            .headers
            .get(CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.trim() == "0");
        if !status.is_success() {
            let is_json = media_type_is(content_type.as_ref(), JSON);
            let max = if is_json { limits.max_json_response_size } else { limits.max_error_response_size };
            let body = read_body(response.body, max, !is_json).await?;
            let text = String::from_utf8_lossy(&body);
            if session_id.is_none()
                && let Some(answer) = discover_rejected(&message, status, &text)
            {
                return Ok(answer);
            }
            if is_json
                && let Ok(error @ JsonRpcMessage::Error(_)) =
                    serde_json::from_slice::<ServerJsonRpcMessage>(&body)
            {
                return Ok(StreamableHttpPostResponse::Json(error, new_session));
            }
            let shown: String = text.chars().take(limits.max_error_response_size).collect();
            return Err(Error::UnexpectedServerResponse(Cow::Owned(format!("HTTP {status}: {shown}"))));
        }
        let awaits_nothing = !matches!(message, JsonRpcMessage::Request(_));
        if declared_empty && awaits_nothing {
            return Ok(StreamableHttpPostResponse::Accepted);
        }
        if media_type_is(content_type.as_ref(), EVENT_STREAM) {
            return Ok(StreamableHttpPostResponse::Sse(
                events(response.body, limits.max_sse_event_size),
                new_session,
            ));
        }
        if media_type_is(content_type.as_ref(), JSON) {
            let body = read_body(response.body, limits.max_json_response_size, false).await?;
            return match serde_json::from_slice::<ServerJsonRpcMessage>(&body) {
                Ok(answer) => Ok(StreamableHttpPostResponse::Json(answer, new_session)),
                Err(_) if awaits_nothing => Ok(StreamableHttpPostResponse::Accepted),
                Err(error) => Err(Error::UnexpectedServerResponse(Cow::Owned(format!(
                    "the MCP server's JSON is not a JSON-RPC message: {error}"
                )))),
            };
        }
        if awaits_nothing {
            return Ok(StreamableHttpPostResponse::Accepted);
        }
        Err(Error::UnexpectedContentType(
            content_type.map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned()),
        ))
    }

    async fn delete_session(
        &self,
        uri: Arc<str>,
        session_id: Arc<str>,
        auth_token: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> Result<(), Error> {
        let request = self.request(Method::DELETE, &uri, Some(&session_id), auth_token, custom_headers)?;
        let response = self.send(request).await?;
        let status = response.status;
        if status == StatusCode::METHOD_NOT_ALLOWED || status.is_success() {
            return Ok(());
        }
        Err(Error::UnexpectedServerResponse(Cow::Owned(format!(
            "ending the MCP session returned HTTP {status}"
        ))))
    }

    async fn get_stream(
        &self,
        uri: Arc<str>,
        session_id: Option<Arc<str>>,
        last_event_id: Option<String>,
        auth_token: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> Result<SseStream, Error> {
        let max = StreamableHttpResponseLimits::default().max_sse_event_size;
        self.get_stream_with_max_sse_event_size(
            uri,
            session_id,
            last_event_id,
            auth_token,
            custom_headers,
            max,
        )
        .await
    }

    async fn get_stream_with_max_sse_event_size(
        &self,
        uri: Arc<str>,
        session_id: Option<Arc<str>>,
        last_event_id: Option<String>,
        auth_token: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
        max_sse_event_size: usize,
    ) -> Result<SseStream, Error> {
        let mut request =
            self.request(Method::GET, &uri, session_id.as_deref(), auth_token, custom_headers)?;
        request.headers.insert(ACCEPT, HeaderValue::from_static("text/event-stream, application/json"));
        if let Some(last_event_id) = last_event_id
            && let Ok(value) = HeaderValue::from_str(&last_event_id)
        {
            request.headers.insert(LAST_EVENT_ID, value);
        }
        let response = self.send(request).await?;
        if response.status == StatusCode::METHOD_NOT_ALLOWED {
            return Err(Error::ServerDoesNotSupportSse);
        }
        if let Some(error) = auth_error(&response) {
            return Err(error);
        }
        if !response.status.is_success() {
            return Err(Error::UnexpectedServerResponse(Cow::Owned(format!(
                "the MCP server's event stream answered HTTP {}",
                response.status
            ))));
        }
        let content_type = response.headers.get(CONTENT_TYPE);
        if !media_type_is(content_type, EVENT_STREAM) && !media_type_is(content_type, JSON) {
            return Err(Error::UnexpectedContentType(
                content_type.map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned()),
            ));
        }
        Ok(events(response.body, max_sse_event_size))
    }
}
