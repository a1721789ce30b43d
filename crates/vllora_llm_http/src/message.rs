//! The request and response types every transport speaks: [`HttpRequest`], [`HttpResponse`], the replies.

use std::fmt;
use std::pin::Pin;

use bytes::Bytes;
use futures_core::Stream;
use http::header::{AUTHORIZATION, CONTENT_TYPE, COOKIE, PROXY_AUTHORIZATION};
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use vllora_llm_core::{LLMError, LLMResult, Secret};

/// A response body, pulled piece by piece. Dropping it closes the connection if the body is unfinished.
pub type BodyStream = Pin<Box<dyn Stream<Item = LLMResult<Bytes>> + Send>>;

/// Header names that carry credentials whatever way they were added: their values are marked
/// sensitive so that no `Debug` shows them.
const CREDENTIAL_HEADERS: [&str; 5] =
    ["x-api-key", "api-key", "x-goog-api-key", "x-amz-security-token", "cookie"];

/// A request to send.
#[derive(Clone)]
pub struct HttpRequest {
    /// The method.
    pub method: Method,
    /// The absolute URL (`https://...`).
    pub url: String,
    /// The headers. Values marked sensitive never appear in `Debug`.
    pub headers: HeaderMap,
    /// The body.
    pub body: Bytes,
}

impl HttpRequest {
    /// A request without headers or body.
    pub fn new(method: Method, url: impl Into<String>) -> Self {
        HttpRequest { method, url: url.into(), headers: HeaderMap::new(), body: Bytes::new() }
    }

    /// A `POST` with a JSON body (`content-type: application/json`).
    pub fn post_json(url: impl Into<String>, body: impl Into<Bytes>) -> Self {
        let mut request = HttpRequest::new(Method::POST, url);
        request.headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        request.body = body.into();
        request
    }

    /// Adds a header. Headers that carry credentials (`authorization`, `x-api-key`...) are marked
    /// sensitive; prefer [`secret_header`](Self::secret_header) for those.
    pub fn header(self, name: &str, value: &str) -> LLMResult<Self> {
        let sensitive = is_credential_header(name);
        self.insert(name, value, sensitive)
    }

    /// Adds a header whose value is a secret: it is marked sensitive and never shown.
    pub fn secret_header(self, name: &str, value: &Secret) -> LLMResult<Self> {
        self.insert(name, value.expose(), true)
    }

    /// Adds `Authorization: Bearer <token>`, marked sensitive like [`secret_header`](Self::secret_header).
    pub fn bearer_auth(self, token: &Secret) -> LLMResult<Self> {
        let value = Secret::new(format!("Bearer {}", token.expose()));
        self.insert("authorization", value.expose(), true)
    }

    fn insert(mut self, name: &str, value: &str, sensitive: bool) -> LLMResult<Self> {
        let header_name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| LLMError::Config(format!("invalid header name {name:?}")))?;
        let mut header_value = HeaderValue::from_str(value).map_err(|_| {
            // The value may be a secret, so only the name is reported.
            LLMError::Config(format!("invalid value for header {name:?}"))
        })?;
        header_value.set_sensitive(sensitive);
        self.headers.append(header_name, header_value);
        Ok(self)
    }
}

fn is_credential_header(name: &str) -> bool {
    [AUTHORIZATION, PROXY_AUTHORIZATION, COOKIE].iter().any(|known| known.as_str().eq_ignore_ascii_case(name))
        || CREDENTIAL_HEADERS.iter().any(|known| known.eq_ignore_ascii_case(name))
}

impl fmt::Debug for HttpRequest {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("url", &RedactedUrl(&self.url))
            .field("headers", &RedactedHeaders(&self.headers))
            .field("body_bytes", &self.body.len())
            .finish()
    }
}

/// A URL without its query, which may hold a key (`?key=...`).
pub(crate) struct RedactedUrl<'a>(pub(crate) &'a str);

impl fmt::Debug for RedactedUrl<'_> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.split_once('?') {
            Some((before, _)) => write!(formatter, "\"{before}?[redacted]\""),
            None => write!(formatter, "{:?}", self.0),
        }
    }
}

/// Headers with sensitive values replaced (also for credentials added as plain headers by hand).
pub(crate) struct RedactedHeaders<'a>(pub(crate) &'a HeaderMap);

impl fmt::Debug for RedactedHeaders<'_> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = formatter.debug_map();
        for (name, value) in self.0 {
            if value.is_sensitive() || is_credential_header(name.as_str()) {
                map.entry(&name.as_str(), &"[redacted]");
            } else {
                map.entry(&name.as_str(), value);
            }
        }
        map.finish()
    }
}

/// A response as a transport returns it: status, headers and the body still to be read.
pub struct HttpResponse {
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: BodyStream,
}

impl fmt::Debug for HttpResponse {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("HttpResponse")
            .field("status", &self.status)
            .field("headers", &RedactedHeaders(&self.headers))
            .finish_non_exhaustive()
    }
}

/// A successful one-shot response, body read whole.
#[derive(Clone)]
pub struct HttpReply {
    /// The status (2xx).
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The whole body.
    pub body: Bytes,
}

impl fmt::Debug for HttpReply {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("HttpReply")
            .field("status", &self.status)
            .field("headers", &RedactedHeaders(&self.headers))
            .field("body_bytes", &self.body.len())
            .finish()
    }
}

/// A successful streaming response: the body is read as it arrives, under the idle and total timeouts.
pub struct StreamingReply {
    /// The status (2xx).
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The body. Dropping it closes the connection.
    pub body: BodyStream,
}

impl fmt::Debug for StreamingReply {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("StreamingReply")
            .field("status", &self.status)
            .field("headers", &RedactedHeaders(&self.headers))
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_credentials_or_query() {
        let request = HttpRequest::post_json("https://x.test/v1/models/m:generate?key=AIzaSECRET", "{}")
            .secret_header("x-goog-api-key", &Secret::new("AIzaSECRET"))
            .and_then(|request| request.header("Authorization", "Bearer sk-SECRET"))
            .and_then(|request| request.header("anthropic-version", "2023-06-01"));
        let Ok(mut request) = request else { panic!("valid headers") };
        request.headers.insert("x-api-key", HeaderValue::from_static("sk-ant-SECRET"));
        let debug = format!("{request:?}");
        assert!(!debug.contains("SECRET"), "{debug}");
        assert!(
            debug.contains("2023-06-01") && debug.contains("/v1/models/m:generate?[redacted]"),
            "{debug}"
        );
        assert!(debug.contains("\"content-type\": \"application/json\""), "{debug}");
        assert!(request.headers.get("authorization").is_some_and(HeaderValue::is_sensitive));
    }

    #[test]
    fn bad_headers_are_config_errors_without_the_value() {
        let bad_name = HttpRequest::new(Method::GET, "http://x").header("bad name", "v");
        assert!(matches!(bad_name, Err(LLMError::Config(message)) if message.contains("bad name")));
        let bad_value =
            HttpRequest::new(Method::GET, "http://x").secret_header("x-key", &Secret::new("a\nSECRET"));
        let Err(error) = bad_value else { panic!("a newline is not a header value") };
        assert!(!error.to_string().contains("SECRET"), "{error}");
    }
}
