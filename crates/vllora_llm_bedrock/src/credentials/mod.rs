//! The AWS credential chain, as AWS's SDKs resolve it, without the AWS SDK: which source gives the keys
//! ([`CredentialPlan`], decided once from variables and the shared files) and how each source is asked
//! at call time ([`ChainSource`], cached and refreshed by `vllora_llm_http::CachedCredential`).
//!
//! The order is the SDKs' default chain: the environment's keys; the profile (static keys, `role_arn`
//! with `source_profile` or `credential_source`, `web_identity_token_file`, `credential_process`); web
//! identity from `AWS_WEB_IDENTITY_TOKEN_FILE` and `AWS_ROLE_ARN`; ECS/EKS container credentials; EC2
//! instance metadata (IMDSv2). The first source that is configured is the one used; a configured source
//! that fails is an error naming it (the chain does not fall through to the next, as the SDKs do not).

mod container;
mod instance_metadata;
mod process;
mod sts;

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Deserialize;
use vllora_llm_core::{BoxFuture, Environment, LLMError, LLMResult, Secret};
use vllora_llm_http::{Clock, CredentialSource, Expiring, HttpClient, HttpConfig, RetryPolicy, Timeouts};

use crate::config::{missing, parse_rfc3339};
use crate::profile::{SharedProfile, non_empty};
use crate::sign::SigningCredentials;

/// Where ECS (and EKS Pod Identity) serve container credentials for a relative URI.
const CONTAINER_HOST: &str = "http://169.254.170.2";
/// The EC2 instance metadata service.
const INSTANCE_METADATA_ENDPOINT: &str = "http://169.254.169.254";
/// How deep `source_profile` chains may go (the SDKs refuse loops; a bound refuses them too).
const MAX_ROLE_CHAIN: usize = 8;

/// A role to assume and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RoleSettings {
    pub(crate) role_arn: String,
    /// `role_session_name`, else `vllora-llm-{unix seconds}` at each assumption.
    pub(crate) session_name: Option<String>,
    pub(crate) external_id: Option<String>,
    pub(crate) duration_seconds: Option<u32>,
}

/// The token that authorizes a container credentials request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ContainerToken {
    /// `AWS_CONTAINER_AUTHORIZATION_TOKEN`.
    Value(Secret),
    /// `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` (EKS Pod Identity), read at each fetch: it rotates.
    File(PathBuf),
}

/// The source of the keys, decided once. `Debug` names the source without secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CredentialPlan {
    /// Keys given as they are (a `source_profile`'s keys, the environment's for `credential_source`).
    Static(SigningCredentials),
    /// `credential_process` of a profile: a command printing the keys as JSON.
    Process { command: String, profile: String },
    /// STS AssumeRole with the keys of `source`.
    AssumeRole { role: RoleSettings, source: Box<CredentialPlan>, profile: String },
    /// STS AssumeRoleWithWebIdentity with the token in `token_file` (read at each fetch: it rotates).
    WebIdentity { role: RoleSettings, token_file: PathBuf, origin: String },
    /// ECS task role or EKS Pod Identity: a GET of `url`.
    Container { url: String, token: Option<ContainerToken> },
    /// EC2 instance metadata, IMDSv2; `tried` is what the chain found unset before it.
    InstanceMetadata { endpoint: String, tried: Vec<String> },
}

impl CredentialPlan {
    /// What the source is, for `Debug` and messages.
    pub(crate) fn describe(&self) -> String {
        match self {
            CredentialPlan::Static(_) => "static keys".to_owned(),
            CredentialPlan::Process { profile, .. } => format!("credential_process of profile `{profile}`"),
            CredentialPlan::AssumeRole { role, profile, source } => {
                format!("role `{}` of profile `{profile}` assumed with {}", role.role_arn, source.describe())
            }
            CredentialPlan::WebIdentity { role, origin, .. } => {
                format!("web identity for role `{}` ({origin})", role.role_arn)
            }
            CredentialPlan::Container { url, .. } => format!("container credentials at {url}"),
            CredentialPlan::InstanceMetadata { endpoint, .. } => {
                format!("EC2 instance metadata (IMDSv2) at {endpoint}")
            }
        }
    }

    /// The files this plan reads at fetch time (to snapshot them for an environment that is only lent).
    pub(crate) fn files(&self) -> Vec<&Path> {
        match self {
            CredentialPlan::AssumeRole { source, .. } => source.files(),
            CredentialPlan::WebIdentity { token_file, .. } => vec![token_file.as_path()],
            CredentialPlan::Container { token: Some(ContainerToken::File(file)), .. } => vec![file.as_path()],
            _ => Vec::new(),
        }
    }
}

/// A variable the SDKs read as a boolean.
fn is_true(env: &dyn Environment, name: &str) -> bool {
    non_empty(env, name).is_some_and(|value| value.eq_ignore_ascii_case("true"))
}

/// The plan after the environment's keys and the profile's static keys were not there: the profile's
/// indirect sources, then web identity, container credentials and instance metadata.
pub(crate) fn plan_after_static(env: &dyn Environment, profile: &SharedProfile) -> LLMResult<CredentialPlan> {
    let mut tried = vec!["AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are unset".to_owned()];
    if let Some(plan) = profile_plan(env, profile, 0)? {
        return Ok(plan);
    }
    tried.push(if profile.found {
        format!("profile `{}` has no credentials", profile.name)
    } else {
        let files = profile.files();
        let shown = |path: &Option<PathBuf>| {
            path.as_ref().map_or("(no home directory)".to_owned(), |path| path.display().to_string())
        };
        format!(
            "profile `{}` is in neither {} nor {}",
            profile.name,
            shown(&files.credentials_path),
            shown(&files.config_path)
        )
    });
    if let Some(token_file) = non_empty(env, "AWS_WEB_IDENTITY_TOKEN_FILE") {
        let role_arn = non_empty(env, "AWS_ROLE_ARN").ok_or_else(|| {
            missing("AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not: web identity needs the role")
        })?;
        let role = RoleSettings {
            role_arn,
            session_name: non_empty(env, "AWS_ROLE_SESSION_NAME"),
            external_id: None,
            duration_seconds: None,
        };
        return Ok(CredentialPlan::WebIdentity {
            role,
            token_file: PathBuf::from(token_file),
            origin: "AWS_WEB_IDENTITY_TOKEN_FILE".to_owned(),
        });
    }
    tried.push("AWS_WEB_IDENTITY_TOKEN_FILE is unset".to_owned());
    if let Some(plan) = container_plan(env)? {
        return Ok(plan);
    }
    tried.push(
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and AWS_CONTAINER_CREDENTIALS_FULL_URI are unset".to_owned(),
    );
    if is_true(env, "AWS_EC2_METADATA_DISABLED") {
        tried.push("the EC2 instance metadata service is disabled (AWS_EC2_METADATA_DISABLED)".to_owned());
        return Err(missing(format!(
            "no AWS credentials found: {}; {}",
            tried.join("; "),
            crate::config::MISSING_KEY_HINT
        )));
    }
    let endpoint = non_empty(env, "AWS_EC2_METADATA_SERVICE_ENDPOINT")
        .or_else(|| profile.get("ec2_metadata_service_endpoint"))
        .unwrap_or_else(|| INSTANCE_METADATA_ENDPOINT.to_owned());
    Ok(CredentialPlan::InstanceMetadata { endpoint: endpoint.trim_end_matches('/').to_owned(), tried })
}

/// A profile's own source, when it has one besides static keys (`None`: it has none).
fn profile_plan(
    env: &dyn Environment,
    profile: &SharedProfile,
    depth: usize,
) -> LLMResult<Option<CredentialPlan>> {
    if depth > MAX_ROLE_CHAIN {
        return Err(missing(format!(
            "profile `{}`: source_profile chains deeper than {MAX_ROLE_CHAIN} profiles (a loop?)",
            profile.name
        )));
    }
    if let Some(role_arn) = profile.get("role_arn") {
        let duration_seconds = match profile.get("duration_seconds") {
            None => None,
            Some(text) => Some(text.parse::<u32>().map_err(|_| {
                LLMError::Config(format!(
                    "profile `{}`: duration_seconds `{text}` is not a number of seconds",
                    profile.name
                ))
            })?),
        };
        let role = RoleSettings {
            role_arn,
            session_name: profile.get("role_session_name"),
            external_id: profile.get("external_id"),
            duration_seconds,
        };
        if let Some(token_file) = profile.get("web_identity_token_file") {
            return Ok(Some(CredentialPlan::WebIdentity {
                role,
                token_file: PathBuf::from(token_file),
                origin: format!("profile `{}`", profile.name),
            }));
        }
        let source = match (profile.get("source_profile"), profile.get("credential_source")) {
            (Some(_), Some(_)) => {
                return Err(LLMError::Config(format!(
                    "profile `{}` sets both source_profile and credential_source; AWS allows one",
                    profile.name
                )));
            }
            (Some(source_name), None) => {
                let source =
                    if source_name == profile.name { None } else { Some(profile.other(&source_name)) };
                let source_profile = source.as_ref().unwrap_or(profile);
                if !source_profile.found {
                    return Err(missing(format!(
                        "profile `{}` names source_profile `{source_name}`, which is in neither shared file",
                        profile.name
                    )));
                }
                // A profile that is its own source uses its own keys; another source profile that is a
                // role profile itself is assumed first (role chaining), else its keys are used.
                let chained = source.is_some() && source_profile.get("role_arn").is_some();
                match static_keys(source_profile).filter(|_| !chained) {
                    Some(keys) => CredentialPlan::Static(keys),
                    None if source.is_none() => {
                        return Err(missing(format!(
                            "profile `{}` is its own source_profile but has no keys",
                            profile.name
                        )));
                    }
                    None => match profile_plan(env, source_profile, depth + 1)? {
                        Some(plan) => plan,
                        None => {
                            return Err(missing(format!(
                                "profile `{}` names source_profile `{source_name}`, which has no credentials",
                                profile.name
                            )));
                        }
                    },
                }
            }
            (None, Some(credential_source)) => named_source(env, profile, &credential_source)?,
            (None, None) => {
                return Err(missing(format!(
                    "profile `{}` sets role_arn without source_profile, credential_source or web_identity_token_file",
                    profile.name
                )));
            }
        };
        return Ok(Some(CredentialPlan::AssumeRole {
            role,
            source: Box::new(source),
            profile: profile.name.clone(),
        }));
    }
    if let Some(command) = profile.get("credential_process") {
        return Ok(Some(CredentialPlan::Process { command, profile: profile.name.clone() }));
    }
    if profile.get("sso_session").is_some() || profile.get("sso_start_url").is_some() {
        return Err(missing(format!(
            "profile `{}` gets its credentials through IAM Identity Center (SSO), which vllora_llm does not \
             resolve; export them (`aws configure export-credentials --profile {} --format env`)",
            profile.name, profile.name
        )));
    }
    Ok(None)
}

/// The keys a profile holds itself.
pub(crate) fn static_keys(profile: &SharedProfile) -> Option<SigningCredentials> {
    let (access_key_id, secret_access_key) =
        (profile.get("aws_access_key_id")?, profile.get("aws_secret_access_key")?);
    Some(SigningCredentials {
        access_key_id: Secret::new(access_key_id),
        secret_access_key: Secret::new(secret_access_key),
        session_token: profile.get("aws_session_token").map(Secret::new),
    })
}

/// `credential_source` of a role profile: `Environment`, `Ec2InstanceMetadata` or `EcsContainer`.
fn named_source(env: &dyn Environment, profile: &SharedProfile, name: &str) -> LLMResult<CredentialPlan> {
    match name {
        "Environment" => {
            match (non_empty(env, "AWS_ACCESS_KEY_ID"), non_empty(env, "AWS_SECRET_ACCESS_KEY")) {
                (Some(access_key_id), Some(secret_access_key)) => {
                    Ok(CredentialPlan::Static(SigningCredentials {
                        access_key_id: Secret::new(access_key_id),
                        secret_access_key: Secret::new(secret_access_key),
                        session_token: non_empty(env, "AWS_SESSION_TOKEN").map(Secret::new),
                    }))
                }
                _ => Err(missing(format!(
                    "profile `{}` has credential_source = Environment, but AWS_ACCESS_KEY_ID and \
                     AWS_SECRET_ACCESS_KEY are not both set",
                    profile.name
                ))),
            }
        }
        "Ec2InstanceMetadata" => {
            let endpoint = non_empty(env, "AWS_EC2_METADATA_SERVICE_ENDPOINT")
                .or_else(|| profile.get("ec2_metadata_service_endpoint"))
                .unwrap_or_else(|| INSTANCE_METADATA_ENDPOINT.to_owned());
            Ok(CredentialPlan::InstanceMetadata {
                endpoint: endpoint.trim_end_matches('/').to_owned(),
                tried: Vec::new(),
            })
        }
        "EcsContainer" => container_plan(env)?.ok_or_else(|| {
            missing(format!(
                "profile `{}` has credential_source = EcsContainer, but neither \
                 AWS_CONTAINER_CREDENTIALS_RELATIVE_URI nor AWS_CONTAINER_CREDENTIALS_FULL_URI is set",
                profile.name
            ))
        }),
        other => Err(LLMError::Config(format!(
            "profile `{}`: credential_source `{other}` is not one of Environment, Ec2InstanceMetadata, EcsContainer",
            profile.name
        ))),
    }
}

/// Container credentials from `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` (on the ECS agent's address) or
/// `AWS_CONTAINER_CREDENTIALS_FULL_URI` (https anywhere; plain http only to loopback or the ECS and EKS
/// agents' link-local addresses, as the SDKs allow).
fn container_plan(env: &dyn Environment) -> LLMResult<Option<CredentialPlan>> {
    let url = if let Some(relative) = non_empty(env, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") {
        let relative = if relative.starts_with('/') { relative } else { format!("/{relative}") };
        format!("{CONTAINER_HOST}{relative}")
    } else if let Some(full) = non_empty(env, "AWS_CONTAINER_CREDENTIALS_FULL_URI") {
        if !container_url_allowed(&full) {
            return Err(LLMError::Config(format!(
                "AWS_CONTAINER_CREDENTIALS_FULL_URI `{full}` must be https, or http to a loopback address, \
                 169.254.170.2, 169.254.170.23 or [fd00:ec2::23]"
            )));
        }
        full
    } else {
        return Ok(None);
    };
    let token = match non_empty(env, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE") {
        Some(file) => Some(ContainerToken::File(PathBuf::from(file))),
        None => non_empty(env, "AWS_CONTAINER_AUTHORIZATION_TOKEN")
            .map(|token| ContainerToken::Value(Secret::new(token))),
    };
    Ok(Some(CredentialPlan::Container { url, token }))
}

fn container_url_allowed(url: &str) -> bool {
    if url.starts_with("https://") {
        return true;
    }
    let Some(rest) = url.strip_prefix("http://") else { return false };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = if let Some(bracketed) = authority.strip_prefix('[') {
        bracketed.split(']').next().unwrap_or_default()
    } else {
        authority.rsplit_once(':').map_or(authority, |(host, _)| host)
    };
    host == "localhost"
        || host == "169.254.170.2"
        || host == "169.254.170.23"
        || host.eq_ignore_ascii_case("fd00:ec2::23")
        || host == "::1"
        || host.split('.').next() == Some("127") && host.split('.').count() == 4
}

/// Files read once when the config was built from an environment that was only lent
/// (`BedrockConfig::from_environment(&env)`): the token files of web identity and EKS Pod Identity.
#[derive(Debug)]
pub(crate) struct SnapshotEnvironment {
    files: HashMap<PathBuf, Option<String>>,
}

impl SnapshotEnvironment {
    pub(crate) fn of(plan: &CredentialPlan, env: &dyn Environment) -> Self {
        SnapshotEnvironment {
            files: plan.files().into_iter().map(|path| (path.to_owned(), env.read_file(path))).collect(),
        }
    }
}

impl Environment for SnapshotEnvironment {
    fn var(&self, _name: &str) -> Option<String> {
        None
    }

    fn read_file(&self, path: &Path) -> Option<String> {
        self.files.get(path).cloned().flatten()
    }
}

/// What a fetch needs besides the plan.
pub(crate) struct FetchContext {
    /// For STS (the client's own settings).
    pub(crate) http: HttpClient,
    /// For the metadata services: the same pool, short timeouts.
    pub(crate) metadata_http: HttpClient,
    pub(crate) env: Arc<dyn Environment>,
    /// STS's base URL (`https://sts.{region}.amazonaws.com`, or `AWS_ENDPOINT_URL_STS`).
    pub(crate) sts_endpoint: String,
    pub(crate) region: String,
    pub(crate) clock: Clock,
}

impl fmt::Debug for FetchContext {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("FetchContext")
            .field("sts_endpoint", &self.sts_endpoint)
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}

/// How metadata services are asked: one second to connect and one to answer, two attempts, as AWS's
/// SDKs bound them (an instance without the service must not hold a call for long).
pub(crate) fn metadata_http(http: &HttpClient) -> HttpClient {
    http.with_config(HttpConfig {
        timeouts: Timeouts {
            connect: Some(Duration::from_secs(1)),
            first_byte: Some(Duration::from_secs(1)),
            idle: Some(Duration::from_secs(1)),
            total: Some(Duration::from_secs(5)),
            ..Timeouts::default()
        },
        retry: RetryPolicy {
            max_attempts: 2,
            initial_backoff: Duration::from_millis(50),
            max_backoff: Duration::from_millis(200),
            max_retry_after: Duration::from_secs(1),
        },
        limits: http.config().limits,
    })
}

/// The credential chain as a [`CredentialSource`] for `CachedCredential`.
#[derive(Debug)]
pub(crate) struct ChainSource {
    pub(crate) plan: Arc<CredentialPlan>,
    pub(crate) context: FetchContext,
}

impl CredentialSource<SigningCredentials> for ChainSource {
    fn fetch(&self) -> BoxFuture<'_, LLMResult<Expiring<SigningCredentials>>> {
        fetch(&self.plan, &self.context)
    }
}

fn fetch<'a>(
    plan: &'a CredentialPlan,
    context: &'a FetchContext,
) -> BoxFuture<'a, LLMResult<Expiring<SigningCredentials>>> {
    Box::pin(async move {
        match plan {
            CredentialPlan::Static(keys) => Ok(Expiring::forever(keys.clone())),
            CredentialPlan::Process { command, profile } => process::run(command, profile).await,
            CredentialPlan::AssumeRole { role, source, profile } => {
                let source_keys = fetch(source, context).await?;
                sts::assume_role(context, role, &source_keys.value).await.map_err(|error| {
                    failed(&format!("STS AssumeRole of `{}` (profile `{profile}`)", role.role_arn), error)
                })
            }
            CredentialPlan::WebIdentity { role, token_file, origin } => {
                let token = context
                    .env
                    .read_file(token_file)
                    .map(|token| token.trim().to_owned())
                    .filter(|token| !token.is_empty());
                let token = token.ok_or_else(|| {
                    missing(format!(
                        "the web identity token file {} ({origin}) cannot be read or is empty",
                        token_file.display()
                    ))
                })?;
                sts::assume_role_with_web_identity(context, role, &Secret::new(token)).await.map_err(
                    |error| {
                        failed(
                            &format!("STS AssumeRoleWithWebIdentity of `{}` ({origin})", role.role_arn),
                            error,
                        )
                    },
                )
            }
            CredentialPlan::Container { url, token } => {
                let token = match token {
                    None => None,
                    Some(ContainerToken::Value(token)) => Some(token.clone()),
                    Some(ContainerToken::File(file)) => {
                        let text = context.env.read_file(file).map(|text| text.trim().to_owned());
                        Some(Secret::new(text.filter(|text| !text.is_empty()).ok_or_else(|| {
                            missing(format!(
                                "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE {} cannot be read or is empty",
                                file.display()
                            ))
                        })?))
                    }
                };
                container::fetch(context, url, token.as_ref())
                    .await
                    .map_err(|error| failed(&format!("container credentials at {url}"), error))
            }
            CredentialPlan::InstanceMetadata { endpoint, tried } => {
                instance_metadata::fetch(context, endpoint).await.map_err(|error| {
                    let mut what = format!("EC2 instance metadata (IMDSv2) at {endpoint}");
                    if !tried.is_empty() {
                        what = format!(
                            "no AWS credentials in the environment or shared files ({}), then {what}",
                            tried.join("; ")
                        );
                    }
                    failed(&what, error)
                })
            }
        }
    })
}

/// A source that was tried and failed: `MissingCredentials` naming it and why (already such an error
/// from a deeper source is kept as it is).
fn failed(what: &str, error: LLMError) -> LLMError {
    match error {
        LLMError::MissingCredentials { .. } => error,
        other => missing(format!("{what} failed: {other}")),
    }
}

/// The JSON the container endpoint, instance metadata and `credential_process` answer with.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct KeysDocument {
    #[serde(default)]
    pub(crate) access_key_id: Option<String>,
    #[serde(default)]
    pub(crate) secret_access_key: Option<String>,
    #[serde(default, alias = "SessionToken")]
    pub(crate) token: Option<String>,
    #[serde(default)]
    pub(crate) expiration: Option<String>,
    /// Instance metadata's `Success`, or what went wrong.
    #[serde(default)]
    pub(crate) code: Option<String>,
    /// `credential_process`'s format version (1).
    #[serde(default)]
    pub(crate) version: Option<u32>,
}

impl KeysDocument {
    /// Parses `body`; `what` names the source in errors (never the body: it holds keys).
    pub(crate) fn parse(body: &[u8], what: &str) -> LLMResult<KeysDocument> {
        serde_json::from_slice(body).map_err(|error| {
            LLMError::Config(format!(
                "{what} answered something that is not the credentials JSON ({})",
                error.classify_name()
            ))
        })
    }

    /// The keys and their expiry.
    pub(crate) fn into_keys(self, what: &str) -> LLMResult<Expiring<SigningCredentials>> {
        let (Some(access_key_id), Some(secret_access_key)) = (self.access_key_id, self.secret_access_key)
        else {
            return Err(LLMError::Config(format!("{what} answered without AccessKeyId and SecretAccessKey")));
        };
        let keys = SigningCredentials {
            access_key_id: Secret::new(access_key_id),
            secret_access_key: Secret::new(secret_access_key),
            session_token: self.token.filter(|token| !token.is_empty()).map(Secret::new),
        };
        match self.expiration {
            None => Ok(Expiring::forever(keys)),
            Some(expiration) => {
                let at = parse_rfc3339(&expiration).ok_or_else(|| {
                    LLMError::Config(format!(
                        "{what} gave the expiration `{expiration}`, not an RFC 3339 time"
                    ))
                })?;
                Ok(Expiring::until(keys, at))
            }
        }
    }
}

/// Names a serde_json error's category without its text (which may quote the document).
trait ClassifyName {
    fn classify_name(&self) -> &'static str;
}

impl ClassifyName for serde_json::Error {
    fn classify_name(&self) -> &'static str {
        match self.classify() {
            serde_json::error::Category::Io => "unreadable",
            serde_json::error::Category::Syntax => "invalid JSON",
            serde_json::error::Category::Data => "unexpected JSON fields",
            serde_json::error::Category::Eof => "truncated JSON",
        }
    }
}

/// `vllora-llm-{unix seconds}`, the session name when a profile names none.
pub(crate) fn default_session_name(now: SystemTime) -> String {
    format!("vllora-llm-{}", now.duration_since(UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_secs()))
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod plan_tests;
