//! The HTTP side of a Messages call: `POST {base}/v1/messages` with `anthropic-version`, the credentials
//! (`x-api-key`, or `Authorization: Bearer` when configured) and `anthropic-beta` (the configured betas,
//! then those a request's features need).
//!
//! What depends only on the configuration is built once per model ([`Endpoint::new`]); a call adds its body
//! and, when it needs more betas than the configured ones, its own `anthropic-beta`.

use vllora_llm_core::LLMResult;
use vllora_llm_http::{Bytes, HttpRequest};

use crate::config::AnthropicConfig;

const ANTHROPIC_BETA: &str = "anthropic-beta";

/// The Messages endpoint under `base_url` (which has no trailing `/`).
pub(crate) fn messages_url(base_url: &str) -> String {
    format!("{base_url}/v1/messages")
}

/// The request every call starts from, built once from the configuration.
#[derive(Debug, Clone)]
pub(crate) struct Endpoint {
    /// URL and headers; the body is empty.
    template: HttpRequest,
    /// The configured betas, to which a request's own are added.
    betas: Vec<String>,
}

impl Endpoint {
    /// Builds the URL and headers; an error when a header value cannot be sent (a key with a line break).
    /// A base URL with a query, a fragment or a `user:password@` is refused, naming it (redacted).
    pub(crate) fn new(config: &AnthropicConfig) -> LLMResult<Endpoint> {
        vllora_llm_http::check_base_url(config.base_url())?;
        let mut template = HttpRequest::post_json(config.messages_url(), Bytes::new())
            .header("anthropic-version", config.api_version())?;
        template = if config.bearer_auth() {
            template.bearer_auth(config.api_key())?
        } else {
            template.secret_header("x-api-key", config.api_key())?
        };
        let betas = config.betas().to_vec();
        if !betas.is_empty() {
            template = template.header(ANTHROPIC_BETA, &betas.join(","))?;
        }
        Ok(Endpoint { template, betas })
    }

    /// The request for one call: `body`, and the betas it needs (`request_betas`) after the configured ones.
    pub(crate) fn request(&self, body: Vec<u8>, request_betas: &[&str]) -> LLMResult<HttpRequest> {
        let mut request = self.template.clone();
        request.body = Bytes::from(body);
        let extra: Vec<&str> = request_betas
            .iter()
            .copied()
            .filter(|beta| !self.betas.iter().any(|configured| configured == beta))
            .collect();
        if extra.is_empty() {
            return Ok(request);
        }
        let mut betas: Vec<&str> = self.betas.iter().map(String::as_str).collect();
        for beta in extra {
            if !betas.contains(&beta) {
                betas.push(beta);
            }
        }
        request.headers.remove(ANTHROPIC_BETA);
        request.header(ANTHROPIC_BETA, &betas.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header<'a>(request: &'a HttpRequest, name: &str) -> Vec<&'a str> {
        request.headers.get_all(name).iter().filter_map(|value| value.to_str().ok()).collect()
    }

    #[test]
    fn configured_betas_come_first_and_each_beta_is_sent_once() {
        let config = AnthropicConfig::new("sk-ant-test").with_beta("a").with_beta("b");
        let Ok(endpoint) = Endpoint::new(&config) else { panic!("valid headers") };
        let Ok(plain) = endpoint.request(b"{}".to_vec(), &["a"]) else { panic!("request") };
        assert_eq!(header(&plain, "anthropic-beta"), ["a,b"]);
        assert_eq!(plain.body.as_ref(), b"{}");
        let Ok(more) = endpoint.request(Vec::new(), &["c", "a", "c"]) else { panic!("request") };
        assert_eq!(header(&more, "anthropic-beta"), ["a,b,c"]);
        assert_eq!(header(&more, "anthropic-version"), ["2023-06-01"]);
        assert_eq!(header(&more, "x-api-key"), ["sk-ant-test"]);
        assert!(!format!("{endpoint:?}").contains("sk-ant-test"));

        let Ok(bare) = Endpoint::new(&AnthropicConfig::new("k").with_bearer_auth(true)) else { panic!("ok") };
        let Ok(request) = bare.request(Vec::new(), &[]) else { panic!("request") };
        assert!(header(&request, "anthropic-beta").is_empty());
        assert_eq!(header(&request, "authorization"), ["Bearer k"]);
        assert!(header(&request, "x-api-key").is_empty());
        assert_eq!(request.url, "https://api.anthropic.com/v1/messages");
    }

    #[test]
    fn a_key_that_cannot_be_a_header_is_a_config_error() {
        let error = Endpoint::new(&AnthropicConfig::new("sk\nbad")).err().map(|error| error.to_string());
        assert!(error.is_some_and(|error| error.contains("x-api-key")), "the header is named");
    }

    /// Issue 10 items 4 and 7: these were sent as `POST /v1?tenant=1/v1/messages`, or with an unused
    /// password shown in every `Debug`.
    #[test]
    fn base_urls_that_would_go_elsewhere_are_refused_naming_them() {
        for (base, says) in [
            (
                "https://gateway.internal/anthropic?tenant=1",
                "`https://gateway.internal/anthropic?[redacted]`",
            ),
            ("https://gateway.internal/anthropic#x", "query or fragment"),
            ("https://me:SECRET@gateway.internal", "https://[redacted]@gateway.internal"),
        ] {
            let config = AnthropicConfig::new("k").with_base_url(base);
            let error = Endpoint::new(&config).err().map(|error| error.to_string()).unwrap_or_default();
            assert!(error.contains(says) && !error.contains("SECRET"), "{base}: {error}");
        }
    }
}
