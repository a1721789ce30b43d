//! EC2 instance metadata, IMDSv2: a session token from `PUT /latest/api/token`, then the instance
//! profile's role name and its keys from `/latest/meta-data/iam/security-credentials/`, each GET
//! carrying the token in `X-aws-ec2-metadata-token`.

use vllora_llm_core::{ApiError, LLMError, LLMResult, Secret};
use vllora_llm_http::{Expiring, HeaderMap, HttpRequest, Method, StatusCode};

use super::{FetchContext, KeysDocument};
use crate::sign::SigningCredentials;

/// How long the session token lives: six hours, the most IMDS grants; one token serves one fetch.
const TOKEN_TTL_SECONDS: &str = "21600";
const CREDENTIALS_PATH: &str = "/latest/meta-data/iam/security-credentials/";

pub(super) async fn fetch(context: &FetchContext, endpoint: &str) -> LLMResult<Expiring<SigningCredentials>> {
    let http = &context.metadata_http;
    let token_request = HttpRequest::new(Method::PUT, format!("{endpoint}/latest/api/token"))
        .header("x-aws-ec2-metadata-token-ttl-seconds", TOKEN_TTL_SECONDS)?;
    let token =
        http.send(token_request, &map_metadata_error("the session token (PUT /latest/api/token)")).await?;
    let token = Secret::new(String::from_utf8_lossy(&token.body).trim());
    if token.expose().is_empty() {
        return Err(LLMError::Config(
            "the instance metadata service answered an empty session token".to_owned(),
        ));
    }
    let roles = HttpRequest::new(Method::GET, format!("{endpoint}{CREDENTIALS_PATH}"))
        .secret_header("x-aws-ec2-metadata-token", &token)?;
    let roles =
        http.send(roles, &map_metadata_error("the instance profile's role (no role attached?)")).await?;
    let listing = String::from_utf8_lossy(&roles.body);
    let role = listing.lines().map(str::trim).find(|line| !line.is_empty()).map(str::to_owned);
    let role = role.ok_or_else(|| {
        LLMError::Config(
            "the instance has no IAM role: the metadata service lists no instance profile".to_owned(),
        )
    })?;
    let keys = HttpRequest::new(
        Method::GET,
        format!("{endpoint}{CREDENTIALS_PATH}{}", vllora_llm_core::support::encode_path_segment(&role)),
    )
    .secret_header("x-aws-ec2-metadata-token", &token)?;
    let what = format!("the credentials of role `{role}`");
    let keys = http.send(keys, &map_metadata_error(&what)).await?;
    let document = KeysDocument::parse(&keys.body, "the instance metadata service")?;
    if let Some(code) = document.code.as_deref().filter(|code| *code != "Success") {
        return Err(LLMError::Config(format!(
            "the instance metadata service answered Code `{code}` for {what}"
        )));
    }
    document.into_keys("the instance metadata service")
}

/// An error naming the step that failed.
fn map_metadata_error(
    step: &str,
) -> impl Fn(StatusCode, &HeaderMap, &[u8]) -> LLMError + Send + Sync + 'static {
    let step = step.to_owned();
    move |status, _headers, _body| {
        let meaning = match status.as_u16() {
            401 => " (the session token was refused)",
            403 => " (IMDS is disabled or IMDSv2 tokens are refused)",
            404 => " (not found)",
            _ => "",
        };
        ApiError::new(
            "aws.imds",
            Some(status.as_u16()),
            format!("asking for {step}: HTTP {}{meaning}", status.as_u16()),
        )
        .into()
    }
}
