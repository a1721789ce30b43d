//! [`ResponseMetadata`]: what a provider's HTTP response says beside its body — the status, the
//! provider's request id and its rate limits — kept on one-shot results, streams and API errors.
//!
//! Only the headers worth keeping are copied, into one buffer (one allocation, none when there are
//! none), and nothing is parsed until it is asked for: a caller that never reads the metadata pays for
//! little of it, and metadata kept on a stream holds no part of the connection's buffers. Typed where
//! providers agree (the request id, the request and token windows of OpenAI-style `x-ratelimit-*` and
//! Anthropic's `anthropic-ratelimit-*`, `retry-after`), raw otherwise: every request-id, rate-limit
//! and retry header is also readable as the provider sent it, through [`ResponseMetadata::headers`].
//! No other header is kept (no cookies, no echoed credentials).

use std::fmt;
use std::time::Duration;

/// The request-id headers providers send, in the order they are preferred: OpenAI, Groq, Mistral and
/// most compatible hosts (`x-request-id`), Anthropic (`request-id`), AWS (`x-amzn-requestid`,
/// `x-amz-request-id`), Azure (`apim-request-id`, `x-ms-request-id`).
pub const REQUEST_ID_HEADERS: &[&str] = &[
    "x-request-id",
    "request-id",
    "x-amzn-requestid",
    "x-amz-request-id",
    "apim-request-id",
    "x-ms-request-id",
];

/// What one HTTP response said about the call, besides its body.
///
/// Holds the status, the wait asked for, and the kept headers as `name:value` lines in one buffer; the
/// request id and rate limits are read from them when asked for.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct ResponseMetadata {
    status: Option<u16>,
    retry_after: Option<Duration>,
    /// `name:value\n` per kept header, names lower-case, in the order received.
    kept: String,
}

/// The rate-limit windows a provider reported.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct RateLimit {
    /// Requests: `x-ratelimit-*-requests` (OpenAI, Groq, Together, xAI...),
    /// `anthropic-ratelimit-requests-*`, or the unsuffixed `x-ratelimit-*` (OpenRouter).
    pub requests: Option<RateLimitWindow>,
    /// Tokens: `x-ratelimit-*-tokens`, `anthropic-ratelimit-tokens-*`.
    pub tokens: Option<RateLimitWindow>,
    /// Input tokens (`anthropic-ratelimit-input-tokens-*`).
    pub input_tokens: Option<RateLimitWindow>,
    /// Output tokens (`anthropic-ratelimit-output-tokens-*`).
    pub output_tokens: Option<RateLimitWindow>,
}

/// One rate-limit window.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct RateLimitWindow {
    /// The most allowed in the window.
    pub limit: Option<u64>,
    /// What is left of it.
    pub remaining: Option<u64>,
    /// When it resets, as the provider wrote it: a duration for OpenAI-style hosts (`6m0s`, `20ms`), an
    /// RFC 3339 time for Anthropic, epoch milliseconds for OpenRouter. Providers disagree, so it is kept
    /// raw.
    pub reset: Option<String>,
}

impl RateLimitWindow {
    fn is_empty(&self) -> bool {
        self.limit.is_none() && self.remaining.is_none() && self.reset.is_none()
    }
}

impl ResponseMetadata {
    /// The metadata of a response with `status` and these headers (names in any case; values that are
    /// not text are skipped by the caller). Only the headers [`headers`](Self::headers) shows are kept;
    /// the wait is read from `retry-after-ms` or `retry-after` in seconds.
    pub fn from_headers<'a>(status: u16, headers: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        Self::collect(status, headers, true)
    }

    /// [`from_headers`](Self::from_headers) for headers already filtered with
    /// [`keeps_header`](Self::keeps_header), whose names are lower-case (an `http::HeaderMap`'s are):
    /// the names are not looked at again.
    pub fn from_kept_headers<'a>(status: u16, headers: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        Self::collect(status, headers, false)
    }

    fn collect<'a>(status: u16, headers: impl IntoIterator<Item = (&'a str, &'a str)>, filter: bool) -> Self {
        let mut kept = String::new();
        for (name, value) in headers {
            // Names from an `http::HeaderMap` are lower-case already: copied only when they are not.
            let name = if filter && name.bytes().any(|byte| byte.is_ascii_uppercase()) {
                std::borrow::Cow::Owned(name.to_ascii_lowercase())
            } else {
                std::borrow::Cow::Borrowed(name)
            };
            // A line break would end the line early (an `http::HeaderValue` never holds one).
            let value = value.trim();
            if (filter && !Self::keeps_header(&name))
                || value.bytes().any(|byte| byte == b'\n' || byte == b'\r')
            {
                continue;
            }
            if kept.capacity() == 0 {
                // Enough for OpenAI's usual set (request id, six rate-limit headers, processing time).
                kept.reserve(384);
            }
            kept.push_str(&name);
            kept.push(':');
            kept.push_str(value);
            kept.push('\n');
        }
        ResponseMetadata { status: Some(status), retry_after: None, kept }
    }

    /// Whether [`from_headers`](Self::from_headers) keeps a header of this lower-case name: the request
    /// ids of [`REQUEST_ID_HEADERS`], rate-limit headers, `retry-after*`, `openai-processing-ms` and
    /// `x-amzn-bedrock-*`.
    pub fn keeps_header(name: &str) -> bool {
        REQUEST_ID_HEADERS.contains(&name)
            || name.contains("ratelimit")
            || name.starts_with("retry-after")
            || name.starts_with("openai-processing-ms")
            || name.starts_with("x-amzn-bedrock-")
    }

    /// The same metadata, with the wait the transport read from the response (`retry-after-ms`,
    /// `retry-after` in seconds or as an HTTP date, measured from when the response arrived); it
    /// replaces the one [`retry_after`](Self::retry_after) would read from the kept headers.
    pub fn with_retry_after(mut self, retry_after: Option<Duration>) -> Self {
        self.retry_after = retry_after;
        self
    }

    /// Gives back the room the buffer was given for a larger set of headers: for metadata kept as
    /// long as a stream is open.
    pub(crate) fn shrink_to_fit(&mut self) {
        self.kept.shrink_to_fit();
    }

    /// The HTTP status (`None` only for a default-built value).
    pub fn status(&self) -> Option<u16> {
        self.status
    }

    /// The provider's id for the request (the first of [`REQUEST_ID_HEADERS`] present), the one to quote
    /// to the provider's support.
    pub fn request_id(&self) -> Option<&str> {
        REQUEST_ID_HEADERS.iter().find_map(|known| {
            self.headers().find(|(name, value)| name == known && !value.is_empty()).map(|(_, value)| value)
        })
    }

    /// The rate limits the provider reported, read from the headers on each call.
    pub fn rate_limit(&self) -> RateLimit {
        let (mut requests, mut tokens, mut input_tokens, mut output_tokens) = Default::default();
        for (name, value) in self.headers() {
            window_field(name, value, &mut requests, &mut tokens, &mut input_tokens, &mut output_tokens);
        }
        let non_empty = |window: RateLimitWindow| (!window.is_empty()).then_some(window);
        RateLimit {
            requests: non_empty(requests),
            tokens: non_empty(tokens),
            input_tokens: non_empty(input_tokens),
            output_tokens: non_empty(output_tokens),
        }
    }

    /// How long the provider asked to wait before the next request: what the transport read, else
    /// `retry-after-ms` or `retry-after` in whole seconds, read from the kept headers on each call.
    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after.or_else(|| simple_retry_after(self))
    }

    /// Every request-id, rate-limit (`*ratelimit*`), `retry-after*` and provider-specific diagnostic
    /// header (`openai-processing-ms`, `x-amzn-bedrock-*`...) exactly as sent (values trimmed), names
    /// lower-cased, in the order received. Nothing else is kept (no cookies, no echoed credentials).
    pub fn headers(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.kept.lines().filter_map(|line| line.split_once(':'))
    }

    /// The raw value of header `name` (any case), when it is one [`headers`](Self::headers) shows.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers().find(|(known, _)| known.eq_ignore_ascii_case(name)).map(|(_, value)| value)
    }
}

impl fmt::Debug for ResponseMetadata {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Kept<'a>(&'a ResponseMetadata);
        impl fmt::Debug for Kept<'_> {
            fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.debug_list().entries(self.0.headers()).finish()
            }
        }
        formatter
            .debug_struct("ResponseMetadata")
            .field("status", &self.status)
            .field("request_id", &self.request_id())
            .field("retry_after", &self.retry_after)
            .field("headers", &Kept(self))
            .finish()
    }
}

/// The wait `retry-after-ms` (preferred) or `retry-after` in whole seconds asks for.
fn simple_retry_after(metadata: &ResponseMetadata) -> Option<Duration> {
    let millis = metadata
        .header("retry-after-ms")
        .and_then(|value| value.parse::<f64>().ok())
        .filter(|millis| millis.is_finite() && *millis >= 0.0);
    if let Some(wait) = millis.and_then(|millis| Duration::try_from_secs_f64(millis / 1000.0).ok()) {
        return Some(wait);
    }
    metadata.header("retry-after")?.parse::<u64>().ok().map(Duration::from_secs)
}

/// Fills the window a rate-limit header names.
fn window_field(
    name: &str,
    value: &str,
    requests: &mut RateLimitWindow,
    tokens: &mut RateLimitWindow,
    input_tokens: &mut RateLimitWindow,
    output_tokens: &mut RateLimitWindow,
) {
    // (window, field) from `x-ratelimit-{field}-{window}`, `x-ratelimit-{field}` (OpenRouter: requests)
    // or `anthropic-ratelimit-{window}-{field}`.
    let (window, field) = if let Some(rest) = name.strip_prefix("x-ratelimit-") {
        match rest.split_once('-') {
            Some((field, window)) => (window, field),
            None => ("requests", rest),
        }
    } else if let Some(rest) = name.strip_prefix("anthropic-ratelimit-") {
        match rest.rsplit_once('-') {
            Some((window, field)) => (window, field),
            None => return,
        }
    } else {
        return;
    };
    let target = match window {
        "requests" => requests,
        "tokens" => tokens,
        "input-tokens" => input_tokens,
        "output-tokens" => output_tokens,
        // Per-day or per-minute windows (Cerebras, Mistral) stay in the raw headers.
        _ => return,
    };
    match field {
        "limit" => target.limit = value.parse().ok(),
        "remaining" => target.remaining = value.parse().ok(),
        "reset" => target.reset = Some(value.to_owned()),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openai_headers_are_typed_and_kept() {
        let headers = [
            ("Content-Type", "application/json"),
            ("x-request-id", "req_0123abc"),
            ("openai-processing-ms", "412"),
            ("x-ratelimit-limit-requests", "10000"),
            ("x-ratelimit-limit-tokens", "30000000"),
            ("x-ratelimit-remaining-requests", "9999"),
            ("x-ratelimit-remaining-tokens", "29999980"),
            ("x-ratelimit-reset-requests", "6ms"),
            ("x-ratelimit-reset-tokens", "0s"),
            ("set-cookie", "__cf_bm=secret"),
        ];
        let metadata = ResponseMetadata::from_headers(200, headers);
        assert_eq!(metadata.status(), Some(200));
        assert_eq!(metadata.request_id(), Some("req_0123abc"));
        let requests = metadata.rate_limit().requests.unwrap_or_default();
        assert_eq!(
            (requests.limit, requests.remaining, requests.reset.as_deref()),
            (Some(10000), Some(9999), Some("6ms"))
        );
        let tokens = metadata.rate_limit().tokens.unwrap_or_default();
        assert_eq!(
            (tokens.limit, tokens.remaining, tokens.reset.as_deref()),
            (Some(30000000), Some(29999980), Some("0s"))
        );
        assert_eq!(metadata.headers().count(), 8, "content-type and cookies are not kept");
        assert_eq!(metadata.header("OpenAI-Processing-Ms"), Some("412"));
        assert_eq!(metadata.header("set-cookie"), None);
        let debug = format!("{metadata:?}");
        assert!(debug.contains("req_0123abc") && !debug.contains("secret"), "{debug}");
    }

    #[test]
    fn anthropic_bedrock_and_openrouter_headers() {
        let anthropic = ResponseMetadata::from_headers(
            429,
            [
                ("request-id", "req_018EeWyXxfu5pfWkrYcMdjWG"),
                ("anthropic-ratelimit-requests-limit", "50"),
                ("anthropic-ratelimit-requests-remaining", "0"),
                ("anthropic-ratelimit-requests-reset", "2026-12-05T14:00:30Z"),
                ("anthropic-ratelimit-input-tokens-limit", "40000"),
                ("anthropic-ratelimit-output-tokens-remaining", "7000"),
                ("retry-after", "30"),
            ],
        );
        assert_eq!(anthropic.request_id(), Some("req_018EeWyXxfu5pfWkrYcMdjWG"));
        assert_eq!(anthropic.retry_after(), Some(Duration::from_secs(30)));
        let requests = anthropic.rate_limit().requests.unwrap_or_default();
        assert_eq!(requests.remaining, Some(0));
        assert_eq!(requests.reset.as_deref(), Some("2026-12-05T14:00:30Z"));
        assert_eq!(anthropic.rate_limit().input_tokens.as_ref().and_then(|window| window.limit), Some(40000));
        assert_eq!(
            anthropic.rate_limit().output_tokens.as_ref().and_then(|window| window.remaining),
            Some(7000)
        );
        assert_eq!(anthropic.rate_limit().tokens, None);

        let bedrock = ResponseMetadata::from_headers(
            200,
            [
                ("x-amzn-RequestId", "4f1b1f33-9a7e-4c39-8a7e-4b8f0f7d2a11"),
                ("X-Amzn-Bedrock-Invocation-Latency", "812"),
            ],
        );
        assert_eq!(bedrock.request_id(), Some("4f1b1f33-9a7e-4c39-8a7e-4b8f0f7d2a11"));
        assert_eq!(bedrock.header("x-amzn-bedrock-invocation-latency"), Some("812"));

        let openrouter = ResponseMetadata::from_headers(
            429,
            [
                ("X-RateLimit-Limit", "20"),
                ("X-RateLimit-Remaining", "0"),
                ("X-RateLimit-Reset", "1764943230000"),
                ("retry-after-ms", "1500"),
                ("retry-after", "2"),
            ],
        );
        let requests = openrouter.rate_limit().requests.unwrap_or_default();
        assert_eq!((requests.limit, requests.remaining), (Some(20), Some(0)));
        assert_eq!(openrouter.retry_after(), Some(Duration::from_millis(1500)), "milliseconds win");
        // Azure sends both ids; the generic one wins.
        let azure = ResponseMetadata::from_headers(200, [("apim-request-id", "a"), ("x-request-id", "b")]);
        assert_eq!(azure.request_id(), Some("b"));
    }
}
