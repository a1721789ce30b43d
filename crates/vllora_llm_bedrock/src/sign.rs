//! AWS Signature Version 4 over our requests, through `aws-sigv4`, with the time given by the caller so
//! that tests can fix it.
//!
//! Settings are those AWS uses for every service but S3: the canonical URI is the request path encoded
//! once more (a model id `a:b` travels as `a%3Ab` and is signed as `a%253Ab`), the path is normalised,
//! the payload hash is not sent as a header, and a session token is part of the signature.

use std::time::SystemTime;

use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use vllora_llm_core::{LLMError, LLMResult, Secret};
use vllora_llm_http::{HeaderMap, HeaderName, HeaderValue};

/// The signing name of Bedrock Runtime (its endpoint prefix is `bedrock-runtime`, its signing name is not).
pub(crate) const SIGNING_NAME: &str = "bedrock";

/// Long-term or temporary AWS credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SigningCredentials {
    pub(crate) access_key_id: Secret,
    pub(crate) secret_access_key: Secret,
    pub(crate) session_token: Option<Secret>,
}

/// What a signature is computed for, besides the request itself.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SigningScope<'a> {
    pub(crate) region: &'a str,
    pub(crate) service: &'a str,
    pub(crate) time: SystemTime,
}

/// Signs `method url` with `headers` and `body`, adding `x-amz-date`, `x-amz-security-token` (with
/// temporary credentials) and `authorization` to `headers`. Every header present is signed.
pub(crate) fn sign_request(
    method: &str,
    url: &str,
    headers: &mut HeaderMap,
    body: &[u8],
    credentials: &SigningCredentials,
    scope: SigningScope<'_>,
) -> LLMResult<()> {
    let signing_error =
        |what: &dyn std::fmt::Display| LLMError::Config(format!("cannot sign the request: {what}"));
    // aws-sigv4 needs a host to sign; refusing here keeps a bad base URL from reaching it.
    let authority = url.split_once("://").map(|(_, rest)| rest.split(['/', '?']).next().unwrap_or_default());
    if authority.is_none_or(str::is_empty) {
        return Err(signing_error(&format_args!("`{url}` has no host")));
    }
    let mut header_pairs = Vec::with_capacity(headers.len());
    for (name, value) in headers.iter() {
        let value = value
            .to_str()
            .map_err(|_| signing_error(&format_args!("header `{name}` is not visible ASCII")))?;
        header_pairs.push((name.as_str(), value));
    }
    let signable = SignableRequest::new(method, url, header_pairs.into_iter(), SignableBody::Bytes(body))
        .map_err(|error| signing_error(&error))?;
    let identity = aws_credential_types::Credentials::new(
        credentials.access_key_id.expose(),
        credentials.secret_access_key.expose(),
        credentials.session_token.as_ref().map(|token| token.expose().to_owned()),
        None,
        "vllora_llm",
    )
    .into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(scope.region)
        .name(scope.service)
        .time(scope.time)
        .settings(SigningSettings::default())
        .build()
        .map_err(|error| signing_error(&error))?
        .into();
    let (instructions, _signature) =
        sign(signable, &params).map_err(|error| signing_error(&error))?.into_parts();
    let (signing_headers, _) = instructions.into_parts();
    for header in signing_headers {
        let name = HeaderName::from_bytes(header.name().as_bytes())
            .map_err(|_| signing_error(&format_args!("it produced an invalid header name")))?;
        let mut value = HeaderValue::from_str(header.value())
            .map_err(|_| signing_error(&format_args!("the `{name}` header it produced is invalid")))?;
        value.set_sensitive(header.sensitive() || name == "authorization");
        headers.insert(name, value);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn a_url_without_host_is_a_clear_error_not_a_panic() {
        let credentials = SigningCredentials {
            access_key_id: Secret::new("AKIDEXAMPLE"),
            secret_access_key: Secret::new("secret"),
            session_token: None,
        };
        let scope = SigningScope { region: "us-east-1", service: SIGNING_NAME, time: UNIX_EPOCH };
        for url in ["/model/x/converse", "http:///model/x", ""] {
            let result = sign_request("POST", url, &mut HeaderMap::new(), b"{}", &credentials, scope);
            assert!(matches!(result, Err(LLMError::Config(_))), "{url}");
        }
        let mut headers = HeaderMap::new();
        let scope = SigningScope { time: UNIX_EPOCH + Duration::from_secs(1_700_000_000), ..scope };
        let signed = sign_request("POST", "https://h.example/a", &mut headers, b"{}", &credentials, scope);
        assert!(signed.is_ok());
        assert!(headers.get("authorization").is_some_and(HeaderValue::is_sensitive));
        assert_eq!(headers.get("x-amz-date").and_then(|value| value.to_str().ok()), Some("20231114T221320Z"));
    }
}

#[cfg(test)]
#[path = "sign_tests.rs"]
mod suite_tests;
