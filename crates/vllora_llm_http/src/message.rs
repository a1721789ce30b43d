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

    /// Sets each `(name, value)` (a client's or a call's extra headers), replacing what the request
    /// already has under that name; credential headers are marked sensitive like [`header`](Self::header).
    pub fn with_extra_headers(mut self, headers: &[(String, String)]) -> LLMResult<Self> {
        // One after the other, so a later header (a call's) replaces an earlier one (the client's).
        for (name, value) in headers {
            if let Ok(header_name) = HeaderName::from_bytes(name.as_bytes()) {
                self.headers.remove(header_name);
            }
            self = self.header(name, value)?;
        }
        Ok(self)
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

/// A URL as it may be shown: without its `user:password@` and without its query (which may hold a
/// key, `?key=...`). `Debug` quotes it, `Display` does not.
///
/// ```
/// use vllora_llm_http::RedactedUrl;
///
/// let shown = RedactedUrl("https://user:pw@proxy.internal/v1/models?key=AIza").to_string();
/// assert_eq!(shown, "https://[redacted]@proxy.internal/v1/models?[redacted]");
/// ```
#[derive(Clone, Copy)]
pub struct RedactedUrl<'a>(pub &'a str);

impl fmt::Display for RedactedUrl<'_> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (before_query, query) = match self.0.split_once('?') {
            Some((before, _)) => (before, "?[redacted]"),
            None => (self.0, ""),
        };
        match userinfo_span(before_query) {
            Some((scheme_end, at)) => write!(
                formatter,
                "{}[redacted]{}{query}",
                before_query.get(..scheme_end).unwrap_or_default(),
                before_query.get(at..).unwrap_or_default()
            ),
            None => write!(formatter, "{before_query}{query}"),
        }
    }
}

impl fmt::Debug for RedactedUrl<'_> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "\"{self}\"")
    }
}

/// Where the `user:password` of a URL's authority is: from the end of `scheme://` to its `@`.
fn userinfo_span(url: &str) -> Option<(usize, usize)> {
    // Byte scans: every request's URL passes here, and the delimiters are ASCII (a char-set `find`
    // decodes every character).
    let bytes = url.as_bytes();
    let scheme_end = if bytes.starts_with(b"https://") {
        8
    } else if bytes.starts_with(b"http://") {
        7
    } else {
        bytes.windows(3).position(|window| window == b"://").map_or(0, |position| position + 3)
    };
    let rest = bytes.get(scheme_end..)?;
    let authority_end = memchr::memchr3(b'/', b'?', b'#', rest).unwrap_or(rest.len());
    let at = memchr::memrchr(b'@', rest.get(..authority_end)?)?;
    Some((scheme_end, scheme_end + at))
}

/// Refuses a URL with a `user:password@`: nothing would send it as credentials, and every log line
/// naming the connection would show it.
pub(crate) fn refuse_userinfo(url: &str) -> LLMResult<()> {
    match userinfo_span(url) {
        None => Ok(()),
        Some(_) => Err(LLMError::Config(format!(
            "the URL {} carries a user name or password, which would be sent to no one and shown in \
             logs: give the credential as the provider's API key instead",
            RedactedUrl(url)
        ))),
    }
}

/// Checks a provider's base URL (what a configuration's `with_base_url` or an `..._ENDPOINT` variable
/// gave) before a path is appended to it: `http://` or `https://` with a host, and no `user:password@`
/// (refused rather than silently unused), no `?query` and no `#fragment` (the path would land inside
/// them: `/v1?tenant=1/chat/completions`). The error names the URL, redacted.
///
/// ```
/// use vllora_llm_http::check_base_url;
///
/// assert!(check_base_url("https://api.openai.com/v1/").is_ok());
/// let error = check_base_url("http://user:pw@host/v1").err().map(|error| error.to_string());
/// assert!(error.is_some_and(|message| message.contains("[redacted]@host") && !message.contains("pw")));
/// assert!(check_base_url("http://host/v1?tenant=1").is_err());
/// ```
pub fn check_base_url(url: &str) -> LLMResult<()> {
    refuse_userinfo(url)?;
    let shown = RedactedUrl(url);
    let (scheme, rest) = url.split_once("://").unwrap_or_default();
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return Err(LLMError::Config(format!("the base URL `{shown}` is not an http:// or https:// URL")));
    }
    if rest.is_empty() || rest.starts_with(['/', '?', '#']) {
        return Err(LLMError::Config(format!("the base URL `{shown}` names no host")));
    }
    if url.contains('?') || url.contains('#') {
        return Err(LLMError::Config(format!(
            "the base URL `{shown}` has a query or fragment, so the request path would be appended \
             inside it: give the base URL without `?...` or `#...`"
        )));
    }
    Ok(())
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

impl HttpReply {
    /// The status, the provider's request id and rate limits this reply carries.
    pub fn metadata(&self) -> vllora_llm_core::ResponseMetadata {
        response_metadata(self.status, &self.headers)
    }
}

/// The [`ResponseMetadata`](vllora_llm_core::ResponseMetadata) of a response with `status` and
/// `headers`: the request-id, rate-limit and retry headers copied into one buffer (the header map's
/// values point into the connection's read buffer, which metadata kept on a stream must not pin), read
/// only when asked for; the wait [`retry_after`](crate::retry_after) reads (HTTP dates included,
/// measured from now) when the response asked for one.
pub fn response_metadata(status: StatusCode, headers: &HeaderMap) -> vllora_llm_core::ResponseMetadata {
    // `retry_after` reads `retry-after-ms` and `retry-after`: without either there is nothing to look up.
    let mut asks_to_wait = false;
    // Names are looked at first: only the values of the kept headers are checked and copied.
    let text = headers.iter().filter_map(|(name, value)| {
        let name = name.as_str();
        if !vllora_llm_core::ResponseMetadata::keeps_header(name) {
            return None;
        }
        asks_to_wait |= name.starts_with("retry-after");
        Some((name, value.to_str().ok()?))
    });
    let metadata = vllora_llm_core::ResponseMetadata::from_kept_headers(status.as_u16(), text);
    if asks_to_wait {
        let wait = crate::retry_after(headers).or(metadata.retry_after());
        return metadata.with_retry_after(wait);
    }
    metadata
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

impl StreamingReply {
    /// The status, the provider's request id and rate limits this reply carries.
    pub fn metadata(&self) -> vllora_llm_core::ResponseMetadata {
        response_metadata(self.status, &self.headers)
    }
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
    fn userinfo_and_query_are_never_shown_and_userinfo_is_refused() {
        let request = HttpRequest::post_json("http://user:SECRET@host:8/v1/chat?key=KEY", "{}");
        let debug = format!("{request:?}");
        assert!(debug.contains("\"http://[redacted]@host:8/v1/chat?[redacted]\""), "{debug}");
        assert!(!debug.contains("SECRET") && !debug.contains("KEY"), "{debug}");
        // An `@` in the path or query is no userinfo.
        assert_eq!(RedactedUrl("http://host/a@b").to_string(), "http://host/a@b");
        assert_eq!(RedactedUrl("http://host?x=a@b").to_string(), "http://host?[redacted]");
        assert_eq!(RedactedUrl("http://a:b@c@host/").to_string(), "http://[redacted]@host/");
        let error =
            refuse_userinfo("https://me:SECRET@api.example.com/v1").err().map(|error| error.to_string());
        assert!(
            error.as_deref().is_some_and(|message| message.contains("https://[redacted]@api.example.com/v1")
                && !message.contains("SECRET")),
            "{error:?}"
        );
        assert!(refuse_userinfo("https://api.example.com/v1/x@y").is_ok());
        for (bad, says) in [
            ("http://h/v1?tenant=1", "query or fragment"),
            ("http://h/v1#frag", "query or fragment"),
            ("ftp://h/v1", "not an http"),
            ("h/v1", "not an http"),
            ("http:///v1", "no host"),
            ("http://u:SECRET@h/v1", "user name or password"),
        ] {
            let message = check_base_url(bad).err().map(|error| error.to_string()).unwrap_or_default();
            assert!(message.contains(says) && !message.contains("SECRET"), "{bad}: {message}");
        }
        assert!(check_base_url("https://api.openai.com/v1/").is_ok());
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
