//! [`ProxyConfig`]: which HTTP proxy to use for which destination, from `HTTPS_PROXY`, `HTTP_PROXY`,
//! `ALL_PROXY` and `NO_PROXY`.

use std::fmt;

use hyper_util::client::proxy::matcher::Matcher;
use vllora_llm_core::{LLMError, LLMResult};

/// Proxy settings. Requests go through the proxy with HTTP `CONNECT` (plain-HTTP destinations too), so
/// the proxy never sees request contents; destinations matched by `no_proxy` are reached directly.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ProxyConfig {
    /// The proxy for `http://` destinations (`http://[user:password@]host:port`).
    pub http: Option<String>,
    /// The proxy for `https://` destinations.
    pub https: Option<String>,
    /// Hosts reached directly: comma-separated names (a leading `.` or `*.` matches subdomains), IP
    /// addresses, CIDR ranges, or `*` for all (curl's `NO_PROXY` rules).
    pub no_proxy: Option<String>,
}

impl ProxyConfig {
    /// No proxy at all.
    pub fn none() -> Self {
        ProxyConfig::default()
    }

    /// From the environment, as curl reads it: `HTTPS_PROXY`, `HTTP_PROXY` (ignored when
    /// `REQUEST_METHOD` shows a CGI context, where a client can set it), `ALL_PROXY` for either, and
    /// `NO_PROXY`; upper- or lowercase.
    pub fn from_env() -> Self {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// The same, read through `env` (a gateway's own configuration source, or a test's).
    pub fn from_environment(env: &dyn vllora_llm_core::Environment) -> Self {
        Self::from_lookup(|name| env.var(name))
    }

    fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let read = |name: &str| {
            lookup(name)
                .or_else(|| lookup(&name.to_ascii_lowercase()))
                .filter(|value| !value.trim().is_empty())
        };
        let all = read("ALL_PROXY");
        let http = if lookup("REQUEST_METHOD").is_some() { None } else { read("HTTP_PROXY") };
        ProxyConfig {
            http: http.or_else(|| all.clone()),
            https: read("HTTPS_PROXY").or(all),
            no_proxy: read("NO_PROXY"),
        }
    }

    /// The matcher for these settings, once every proxy URL is checked; `None` when no proxy is set.
    pub(crate) fn matcher(&self) -> LLMResult<Option<Matcher>> {
        if self.http.is_none() && self.https.is_none() {
            return Ok(None);
        }
        let mut builder = Matcher::builder();
        if let Some(url) = &self.http {
            check_proxy_url(url)?;
            builder = builder.http(url.as_str());
        }
        if let Some(url) = &self.https {
            check_proxy_url(url)?;
            builder = builder.https(url.as_str());
        }
        if let Some(no_proxy) = &self.no_proxy {
            builder = builder.no(no_proxy.as_str());
        }
        Ok(Some(builder.build()))
    }
}

/// Only `http://` proxies are supported: a TLS connection to the proxy itself or SOCKS would need
/// another connector stack, and failing loudly beats silently bypassing the proxy.
fn check_proxy_url(url: &str) -> LLMResult<()> {
    let shown = redact_userinfo(url);
    let (scheme, rest) = url.split_once("://").unwrap_or(("http", url));
    if !scheme.eq_ignore_ascii_case("http") {
        return Err(LLMError::Config(format!(
            "proxy {shown}: only http:// proxies are supported (the connection to the destination is still TLS)"
        )));
    }
    let authority = rest.split('/').next().unwrap_or_default();
    let host = authority.rsplit('@').next().unwrap_or_default();
    let valid = !host.is_empty() && format!("http://{host}/").parse::<http::Uri>().is_ok();
    if valid { Ok(()) } else { Err(LLMError::Config(format!("proxy {shown}: not a valid proxy URL"))) }
}

/// A proxy URL without its `user:password@`.
fn redact_userinfo(url: &str) -> String {
    let (scheme, rest) = match url.split_once("://") {
        Some((scheme, rest)) => (format!("{scheme}://"), rest),
        None => (String::new(), url),
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest.get(..authority_end).and_then(|authority| authority.rsplit_once('@')) {
        Some((_, host)) => {
            format!("{scheme}[redacted]@{host}{}", rest.get(authority_end..).unwrap_or_default())
        }
        None => format!("{scheme}{rest}"),
    }
}

impl fmt::Debug for ProxyConfig {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("ProxyConfig")
            .field("http", &self.http.as_deref().map(redact_userinfo))
            .field("https", &self.https.as_deref().map(redact_userinfo))
            .field("no_proxy", &self.no_proxy)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, &str)]) -> ProxyConfig {
        let pairs: Vec<(String, String)> =
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        ProxyConfig::from_lookup(|name| {
            pairs.iter().find(|(key, _)| key == name).map(|(_, value)| value.clone())
        })
    }

    #[test]
    fn reads_curl_variables() {
        let both =
            config(&[("HTTPS_PROXY", "http://p:3128"), ("http_proxy", "http://q:8080"), ("no_proxy", "a,b")]);
        assert_eq!(both.https.as_deref(), Some("http://p:3128"));
        assert_eq!(both.http.as_deref(), Some("http://q:8080"));
        assert_eq!(both.no_proxy.as_deref(), Some("a,b"));
        let all = config(&[("ALL_PROXY", "http://all:1")]);
        assert_eq!((all.http.as_deref(), all.https.as_deref()), (Some("http://all:1"), Some("http://all:1")));
        let cgi = config(&[("HTTP_PROXY", "http://evil:1"), ("REQUEST_METHOD", "GET")]);
        assert_eq!(cgi.http, None);
        assert_eq!(config(&[("HTTPS_PROXY", " ")]), ProxyConfig::none());
    }

    #[test]
    fn only_valid_http_proxies_are_accepted_and_passwords_never_shown() {
        let proxy = |url: &str| ProxyConfig { https: Some(url.into()), ..ProxyConfig::none() };
        assert!(matches!(proxy("http://user:pw@proxy:3128").matcher(), Ok(Some(_))));
        assert!(matches!(proxy("proxy.internal:3128").matcher(), Ok(Some(_))));
        let Err(error) = proxy("socks5://user:SECRET@proxy:1080").matcher() else { panic!("socks refused") };
        assert!(
            error.to_string().contains("only http://") && !error.to_string().contains("SECRET"),
            "{error}"
        );
        assert!(proxy("https://proxy:443").matcher().is_err());
        assert!(proxy("http://").matcher().is_err());
        let debug = format!("{:?}", proxy("http://user:SECRET@proxy:3128/"));
        assert!(debug.contains("http://[redacted]@proxy:3128/") && !debug.contains("SECRET"), "{debug}");
        assert!(matches!(ProxyConfig::none().matcher(), Ok(None)));
    }
}
