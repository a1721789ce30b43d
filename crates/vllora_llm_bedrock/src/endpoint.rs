//! HTTP request building: the `POST /model/{modelId}/{operation}` request of a call, its URL, headers and
//! authentication (a Bedrock API key as a bearer token, or SigV4 through `sign.rs`).

use vllora_llm_core::support::encode_path_segment;
use vllora_llm_core::{LLMError, LLMResult};
use vllora_llm_http::{Bytes, HttpRequest, without_tracing};

use crate::config::{BedrockAuth, BedrockConfig, missing};
use crate::sign::{SIGNING_NAME, SigningCredentials, SigningScope, sign_request};

/// The signed (or bearer-authenticated) `POST /model/{modelId}/{operation}` request. `chain_keys` are the
/// keys the credential chain fetched for this call, when the config gets its keys that way.
pub(crate) fn converse_request(
    config: &BedrockConfig,
    chain_keys: Option<&SigningCredentials>,
    model_id: &str,
    operation: &str,
    accept: &str,
    body: Bytes,
) -> LLMResult<HttpRequest> {
    // The region becomes part of the host name: anything but a region name could send the request (and
    // its signature or key) to another host.
    let region = config.region();
    let plausible_region = !region.is_empty()
        && region.bytes().all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-');
    if config.base_url.is_none() && !plausible_region {
        return Err(LLMError::Config(format!("`{region}` is not an AWS region name")));
    }
    if let Some(base_url) = &config.base_url {
        // A query, a fragment or a `user:password@` (which SigV4 would sign into `host`) is refused.
        vllora_llm_http::check_base_url(base_url)?;
    }
    let url = format!("{}/model/{}/{operation}", config.base_url(), model_path_segment(model_id)?);
    let request = HttpRequest::post_json(url, body).header("accept", accept)?;
    match &config.auth {
        BedrockAuth::Bearer(key) => request.bearer_auth(key),
        BedrockAuth::Chain(plan) => {
            let keys = chain_keys.ok_or_else(|| {
                missing(format!("no keys were fetched from {} for this request", plan.describe()))
            })?;
            let scope = SigningScope { region, service: SIGNING_NAME, time: config.now() };
            let HttpRequest { method, url, mut headers, body } = request;
            // aws-sigv4 logs the canonical request (session token included) at TRACE: no subscriber
            // hears it.
            without_tracing(|| sign_request(method.as_str(), &url, &mut headers, &body, keys, scope))?;
            Ok(HttpRequest { method, url, headers, body })
        }
        BedrockAuth::SigV4(credentials) => {
            let time = config.now();
            // AWS would answer 403 (ExpiredTokenException); saying which variable is out of date is clearer.
            if let Some(expiry) = config.expiry.as_ref().filter(|expiry| time >= expiry.at) {
                return Err(missing(format!(
                    "the AWS credentials expired at {} ({}): export fresh ones and build the client again",
                    expiry.given, expiry.source
                )));
            }
            let scope = SigningScope { region, service: SIGNING_NAME, time };
            let HttpRequest { method, url, mut headers, body } = request;
            without_tracing(|| sign_request(method.as_str(), &url, &mut headers, &body, credentials, scope))?;
            Ok(HttpRequest { method, url, headers, body })
        }
    }
}

/// A model id, inference-profile id or ARN as one path segment: everything but RFC 3986's unreserved
/// characters is percent-encoded (`:` and `/` included), as AWS's SDKs do. Empty, `.` and `..` are
/// refused: they would name another path.
pub(crate) fn model_path_segment(model_id: &str) -> LLMResult<String> {
    if model_id.is_empty() || model_id == "." || model_id == ".." {
        return Err(LLMError::InvalidRequest(format!("`{model_id}` is not a Bedrock model id")));
    }
    Ok(encode_path_segment(model_id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::path::Path;
    use std::time::{Duration, UNIX_EPOCH};
    use vllora_llm_core::Environment;

    /// Variables only; no file.
    #[derive(Debug)]
    struct Vars(HashMap<String, String>);

    impl Environment for Vars {
        fn var(&self, name: &str) -> Option<String> {
            self.0.get(name).cloned()
        }

        fn read_file(&self, _path: &Path) -> Option<String> {
            None
        }
    }

    fn lookup(pairs: &[(&str, &str)]) -> Vars {
        Vars(pairs.iter().map(|(key, value)| ((*key).to_owned(), (*value).to_owned())).collect())
    }

    #[test]
    fn no_secret_shows_in_the_debug_output_of_the_config_or_a_signed_request() {
        let env = lookup(&[
            ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
            ("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMIsecret"),
            ("AWS_SESSION_TOKEN", "IQoJb3JpZ2luX2Vjsessiontoken"),
            ("AWS_REGION", "us-east-1"),
        ]);
        let Ok(config) = BedrockConfig::from_environment(&env) else { panic!("no config") };
        let request = converse_request(&config, None, "m", "converse", "*/*", Bytes::from_static(b"{}"));
        let Ok(request) = request else { panic!("{request:?}") };
        assert!(request.headers.get("x-amz-security-token").is_some_and(|value| value.is_sensitive()));
        for shown in [format!("{config:?}"), format!("{request:?}")] {
            assert!(!shown.contains("wJalrXUtnFEMIsecret") && !shown.contains("sessiontoken"), "{shown}");
        }
    }

    /// Issue 10 items 4 and 7: a password in the base URL was signed into SigV4's `host` and shown; a
    /// query misplaced the path.
    #[test]
    fn base_urls_with_a_password_query_or_fragment_are_refused() {
        let env = lookup(&[
            ("AWS_ACCESS_KEY_ID", "AKID"),
            ("AWS_SECRET_ACCESS_KEY", "s"),
            ("AWS_REGION", "us-east-1"),
        ]);
        let Ok(config) = BedrockConfig::from_environment(&env) else { panic!("no config") };
        for (base, says) in [
            ("http://me:SECRET@proxy:8080", "http://[redacted]@proxy:8080"),
            ("http://proxy:8080/bedrock?tenant=1", "query or fragment"),
            ("http://proxy:8080/#x", "query or fragment"),
        ] {
            let config = config.clone().with_base_url(base);
            let request = converse_request(&config, None, "m", "converse", "*/*", Bytes::from_static(b"{}"));
            let error = request.err().map(|error| error.to_string()).unwrap_or_default();
            assert!(error.contains(says) && !error.contains("SECRET"), "{base}: {error}");
        }
    }

    #[test]
    fn a_region_that_is_not_a_region_name_never_becomes_a_host() {
        let env = lookup(&[("AWS_BEARER_TOKEN_BEDROCK", "key"), ("AWS_REGION", "us-east-1")]);
        let Ok(config) = BedrockConfig::from_environment(&env) else { panic!("no config") };
        let body = || Bytes::from_static(b"{}");
        for region in ["attacker.example/x", "evil.com#", "", "US-EAST-1"] {
            let config = config.clone().with_region(region);
            let request = converse_request(&config, None, "m", "converse", "application/json", body());
            assert!(matches!(request, Err(LLMError::Config(_))), "{region}: {request:?}");
        }
        let request = converse_request(
            &config.clone().with_region("eu-central-2"),
            None,
            "m",
            "converse",
            "*/*",
            body(),
        );
        assert_eq!(
            request.map(|request| request.url).ok().as_deref(),
            Some("https://bedrock-runtime.eu-central-2.amazonaws.com/model/m/converse")
        );
        let proxied = config.with_region("any thing").with_base_url("http://proxy:8080");
        assert!(
            converse_request(&proxied, None, "m", "converse", "*/*", body()).is_ok(),
            "a base URL decides the host"
        );
    }

    #[test]
    fn model_ids_are_one_path_segment() {
        let segment = |id: &str| model_path_segment(id).unwrap_or_default();
        assert_eq!(
            segment("anthropic.claude-3-haiku-20240307-v1:0"),
            "anthropic.claude-3-haiku-20240307-v1%3A0"
        );
        assert_eq!(
            segment(
                "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-sonnet-4-v1:0"
            ),
            "arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile%2Fus.anthropic.claude-sonnet-4-v1%3A0"
        );
        assert_eq!(segment("a b?c#d%"), "a%20b%3Fc%23d%25");
        assert!(model_path_segment("..").is_err() && model_path_segment("").is_err());
    }

    #[test]
    fn expired_credentials_are_refused_before_anything_is_sent() {
        let env = lookup(&[
            ("AWS_ACCESS_KEY_ID", "ASIAEXAMPLE"),
            ("AWS_SECRET_ACCESS_KEY", "secret"),
            ("AWS_SESSION_TOKEN", "token"),
            ("AWS_CREDENTIAL_EXPIRATION", "2024-05-01T12:00:00Z"),
            ("AWS_REGION", "us-east-1"),
        ]);
        let Ok(config) = BedrockConfig::from_environment(&env) else { panic!("no config") };
        let expiry = UNIX_EPOCH + Duration::from_secs(1_714_564_800);
        let before = config.clone().with_clock(move || expiry - Duration::from_secs(1));
        assert!(converse_request(&before, None, "m", "converse", "*/*", Bytes::from_static(b"{}")).is_ok());
        let after = config.with_clock(move || expiry);
        let error = converse_request(&after, None, "m", "converse", "*/*", Bytes::from_static(b"{}"));
        let Err(LLMError::MissingCredentials { hint, .. }) = error else { panic!("{error:?}") };
        assert!(
            hint.contains("AWS_CREDENTIAL_EXPIRATION") && hint.contains("2024-05-01T12:00:00Z"),
            "{hint}"
        );
    }

    #[test]
    fn a_bedrock_api_key_is_a_sensitive_bearer_header() {
        let env = lookup(&[("AWS_BEARER_TOKEN_BEDROCK", "ABSKkey"), ("AWS_REGION", "us-east-1")]);
        let Ok(config) = BedrockConfig::from_environment(&env) else { panic!("no config") };
        let request = converse_request(&config, None, "m", "converse", "*/*", Bytes::from_static(b"{}"));
        let Ok(request) = request else { panic!("{request:?}") };
        let header = request.headers.get("authorization");
        assert_eq!(header.and_then(|value| value.to_str().ok()), Some("Bearer ABSKkey"));
        assert!(header.is_some_and(|value| value.is_sensitive()));
    }
}
