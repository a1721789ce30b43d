//! AWS STS: `AssumeRole` (signed with the source keys) and `AssumeRoleWithWebIdentity` (unsigned, with
//! the token), form-encoded POSTs answered in XML, parsed by hand (three fields; no XML crate).

use vllora_llm_core::support::encode_path_segment;
use vllora_llm_core::{ApiError, LLMError, LLMResult, Secret};
use vllora_llm_http::{Bytes, Expiring, HeaderMap, HttpRequest, Method, StatusCode};

use super::{FetchContext, RoleSettings, default_session_name};
use crate::config::parse_rfc3339;
use crate::sign::{SigningCredentials, SigningScope, sign_request};

/// STS's signing name.
const STS_SIGNING_NAME: &str = "sts";
/// The STS API version every action names.
const STS_VERSION: &str = "2011-06-15";

/// `AssumeRole` with `source` keys.
pub(super) async fn assume_role(
    context: &FetchContext,
    role: &RoleSettings,
    source: &SigningCredentials,
) -> LLMResult<Expiring<SigningCredentials>> {
    let mut form = vec![
        ("Action", "AssumeRole".to_owned()),
        ("Version", STS_VERSION.to_owned()),
        ("RoleArn", role.role_arn.clone()),
        ("RoleSessionName", session_name(context, role)),
    ];
    if let Some(external_id) = &role.external_id {
        form.push(("ExternalId", external_id.clone()));
    }
    if let Some(duration) = role.duration_seconds {
        form.push(("DurationSeconds", duration.to_string()));
    }
    let HttpRequest { method, url, mut headers, body } = form_request(context, &form)?;
    let scope = SigningScope { region: &context.region, service: STS_SIGNING_NAME, time: (context.clock)() };
    sign_request(method.as_str(), &url, &mut headers, &body, source, scope)?;
    let reply = context.http.send(HttpRequest { method, url, headers, body }, &map_sts_error).await?;
    parse_credentials(&reply.body, "AssumeRole")
}

/// `AssumeRoleWithWebIdentity` with `token` (an OIDC token, as EKS projects it into a file).
pub(super) async fn assume_role_with_web_identity(
    context: &FetchContext,
    role: &RoleSettings,
    token: &Secret,
) -> LLMResult<Expiring<SigningCredentials>> {
    let mut form = vec![
        ("Action", "AssumeRoleWithWebIdentity".to_owned()),
        ("Version", STS_VERSION.to_owned()),
        ("RoleArn", role.role_arn.clone()),
        ("RoleSessionName", session_name(context, role)),
    ];
    if let Some(duration) = role.duration_seconds {
        form.push(("DurationSeconds", duration.to_string()));
    }
    let mut request = form_request(context, &form)?;
    // The token is appended apart so the form above can be logged in tests without it.
    let mut body = request.body.to_vec();
    body.extend_from_slice(b"&WebIdentityToken=");
    body.extend_from_slice(encode_path_segment(token.expose()).as_bytes());
    request.body = Bytes::from(body);
    let reply = context.http.send(request, &map_sts_error).await?;
    parse_credentials(&reply.body, "AssumeRoleWithWebIdentity")
}

fn session_name(context: &FetchContext, role: &RoleSettings) -> String {
    role.session_name.clone().unwrap_or_else(|| default_session_name((context.clock)()))
}

/// A form POST to STS's root path.
fn form_request(context: &FetchContext, form: &[(&str, String)]) -> LLMResult<HttpRequest> {
    let body = form
        .iter()
        .map(|(name, value)| format!("{name}={}", encode_path_segment(value)))
        .collect::<Vec<_>>()
        .join("&");
    let mut request =
        HttpRequest::new(Method::POST, format!("{}/", context.sts_endpoint.trim_end_matches('/')));
    request.body = Bytes::from(body);
    request
        .header("content-type", "application/x-www-form-urlencoded; charset=utf-8")?
        .header("accept", "text/xml")
}

/// The `<Credentials>` of an STS answer.
pub(super) fn parse_credentials(body: &[u8], action: &str) -> LLMResult<Expiring<SigningCredentials>> {
    let text = std::str::from_utf8(body)
        .map_err(|_| LLMError::Config(format!("STS answered {action} with a body that is not UTF-8")))?;
    let credentials = element(text, "Credentials")
        .ok_or_else(|| LLMError::Config(format!("STS answered {action} without <Credentials>")))?;
    let field = |name: &str| {
        element(credentials, name)
            .map(unescape)
            .filter(|value| !value.is_empty())
            .ok_or_else(|| LLMError::Config(format!("STS answered {action} without <{name}>")))
    };
    let keys = SigningCredentials {
        access_key_id: Secret::new(field("AccessKeyId")?),
        secret_access_key: Secret::new(field("SecretAccessKey")?),
        session_token: Some(Secret::new(field("SessionToken")?)),
    };
    let expiration = field("Expiration")?;
    let at = parse_rfc3339(&expiration).ok_or_else(|| {
        LLMError::Config(format!(
            "STS answered {action} with the expiration `{expiration}`, not an RFC 3339 time"
        ))
    })?;
    Ok(Expiring::until(keys, at))
}

/// STS's XML error (`<ErrorResponse><Error><Code>AccessDenied</Code><Message>..`) as an API error;
/// throttling and an unreachable identity provider may be retried.
fn map_sts_error(status: StatusCode, _headers: &HeaderMap, body: &[u8]) -> LLMError {
    let text = String::from_utf8_lossy(body);
    let code = element(&text, "Code").map(unescape);
    let message = element(&text, "Message").map(unescape).unwrap_or_else(|| {
        status.canonical_reason().map_or_else(|| format!("HTTP {}", status.as_u16()), str::to_owned)
    });
    let mut api = ApiError::new("aws.sts", Some(status.as_u16()), message);
    if let Some(code) = code {
        api.retryable |= matches!(code.as_str(), "Throttling" | "IDPCommunicationError");
        api.error_type = Some(code);
    }
    api.into()
}

/// The text inside the first `<name>...</name>` (attributes allowed on the opening tag).
pub(super) fn element<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    let mut search = 0;
    loop {
        let start = search + text.get(search..)?.find(&format!("<{name}"))?;
        let after_name = start + 1 + name.len();
        let next = text.as_bytes().get(after_name).copied()?;
        if next == b'>' || next == b' ' || next == b'\t' || next == b'\n' || next == b'\r' {
            let open_end = after_name + text.get(after_name..)?.find('>')? + 1;
            let close = text.get(open_end..)?.find(&format!("</{name}>"))?;
            return text.get(open_end..open_end + close);
        }
        search = after_name;
    }
}

/// XML's five predefined entities and numeric references.
fn unescape(text: &str) -> String {
    let text = text.trim();
    if !text.contains('&') {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(rest.get(..at).unwrap_or_default());
        let after = rest.get(at..).unwrap_or_default();
        let Some(end) = after.find(';') else {
            out.push_str(after);
            return out;
        };
        let entity = after.get(1..end).unwrap_or_default();
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|decimal| decimal.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(character) => out.push(character),
            None => out.push_str(after.get(..=end).unwrap_or_default()),
        }
        rest = after.get(end + 1..).unwrap_or_default();
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    const ASSUME_ROLE: &str = r#"<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleResult>
    <AssumedRoleUser>
      <Arn>arn:aws:sts::123456789012:assumed-role/demo/vllora</Arn>
      <AssumedRoleId>ARO123EXAMPLE123:vllora</AssumedRoleId>
    </AssumedRoleUser>
    <Credentials>
      <AccessKeyId>ASIAIOSFODNN7EXAMPLE</AccessKeyId>
      <SecretAccessKey>wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY</SecretAccessKey>
      <SessionToken>FwoGZXIvYXdzEJr&amp;token+/=</SessionToken>
      <Expiration>2024-05-01T13:00:00.123Z</Expiration>
    </Credentials>
    <PackedPolicySize>6</PackedPolicySize>
  </AssumeRoleResult>
  <ResponseMetadata><RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId></ResponseMetadata>
</AssumeRoleResponse>"#;

    #[test]
    fn reads_the_credentials_of_an_sts_answer() {
        let parsed = parse_credentials(ASSUME_ROLE.as_bytes(), "AssumeRole");
        let Ok(parsed) = parsed else { panic!("{parsed:?}") };
        assert_eq!(parsed.value.access_key_id.expose(), "ASIAIOSFODNN7EXAMPLE");
        assert_eq!(parsed.value.secret_access_key.expose(), "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY");
        assert_eq!(parsed.value.session_token.as_ref().map(Secret::expose), Some("FwoGZXIvYXdzEJr&token+/="));
        assert_eq!(parsed.expires_at, Some(UNIX_EPOCH + Duration::from_secs(1_714_568_400)));
        let missing = parse_credentials(b"<AssumeRoleResponse></AssumeRoleResponse>", "AssumeRole");
        assert!(missing.err().is_some_and(|error| error.to_string().contains("<Credentials>")));
    }

    #[test]
    fn errors_keep_the_sts_code_and_message() {
        let body = br#"<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <Error><Type>Sender</Type><Code>AccessDenied</Code>
    <Message>User: arn:aws:iam::123456789012:user/dev is not authorized to perform: sts:AssumeRole</Message>
  </Error><RequestId>x</RequestId></ErrorResponse>"#;
        let error = map_sts_error(StatusCode::FORBIDDEN, &HeaderMap::new(), body);
        let text = error.to_string();
        assert!(text.contains("not authorized to perform: sts:AssumeRole"), "{text}");
        assert_eq!(error.api_error().and_then(|api| api.error_type.as_deref()), Some("AccessDenied"));
        assert!(!error.is_retryable());
        let throttled = map_sts_error(
            StatusCode::BAD_REQUEST,
            &HeaderMap::new(),
            b"<ErrorResponse><Error><Code>Throttling</Code><Message>Rate exceeded</Message></Error></ErrorResponse>",
        );
        assert!(throttled.is_retryable());
    }

    #[test]
    fn elements_and_entities() {
        assert_eq!(element("<a><ab>1</ab><a x=\"y\">2</a></a>", "ab"), Some("1"));
        assert_eq!(element("<ab>1</ab><a>2</a>", "a"), Some("2"));
        assert_eq!(element("<a>unclosed", "a"), None);
        assert_eq!(unescape("a&lt;b&gt;&amp;&#65;&#x42;&bogus;&"), "a<b>&AB&bogus;&");
    }
}
