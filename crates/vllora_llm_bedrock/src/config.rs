//! [`BedrockConfig`]: region, endpoint and credentials (a Bedrock API key, or AWS keys from the
//! environment or the shared files), resolved once. Data only: the request each call sends is built in
//! `endpoint.rs`, signed in `sign.rs`.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use vllora_llm_core::{Credentials, Environment, LLMError, LLMResult, ProcessEnvironment, Secret};

use crate::PROVIDER_NAME;
use crate::credentials::{CredentialPlan, SnapshotEnvironment, plan_after_static, static_keys};
use crate::profile::{LazyProfile, non_empty};
use crate::sign::SigningCredentials;

/// The time a request is signed at.
type Clock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

/// How requests prove who sends them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum BedrockAuth {
    /// SigV4 with access keys.
    SigV4(SigningCredentials),
    /// A Bedrock API key, sent as `Authorization: Bearer`.
    Bearer(Secret),
    /// SigV4 with keys fetched at call time (a role, web identity, a container or instance role, a
    /// credential process), cached and refreshed by the model.
    Chain(Arc<CredentialPlan>),
}

/// When temporary credentials stop working, as the environment said it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CredentialExpiry {
    /// The instant.
    pub(crate) at: SystemTime,
    /// The value as it was given (RFC 3339), for messages.
    pub(crate) given: String,
    /// The variable it was read from.
    pub(crate) source: &'static str,
}

/// The model ids (comma-separated, `*` for every Anthropic model) called through InvokeModel.
const INVOKE_MODELS_VARIABLE: &str = "VLLORA_BEDROCK_INVOKE_MODELS";

/// The variable AWS's SDKs read the expiry of environment credentials from.
const EXPIRATION_VARIABLE: &str = "AWS_CREDENTIAL_EXPIRATION";

/// Where and how to reach Bedrock Runtime. `Debug` never shows a key.
///
/// Everything is resolved when the config is built (credentials, region, their expiry): a call reads no
/// variable and no file.
#[derive(Clone)]
pub struct BedrockConfig {
    pub(crate) auth: BedrockAuth,
    pub(crate) region: String,
    pub(crate) base_url: Option<String>,
    clock: Clock,
    pub(crate) expiry: Option<CredentialExpiry>,
    /// Where sources that are read again at each refresh (token files) are read.
    pub(crate) environment: Option<Arc<dyn Environment>>,
    /// STS's base URL when set (`AWS_ENDPOINT_URL_STS`, `AWS_ENDPOINT_URL`, `with_sts_endpoint`).
    pub(crate) sts_endpoint: Option<String>,
    /// Model ids called through InvokeModel instead of Converse.
    pub(crate) invoke_models: Vec<String>,
}

impl fmt::Debug for BedrockConfig {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let auth = match &self.auth {
            BedrockAuth::SigV4(credentials) if credentials.session_token.is_some() => {
                "sigv4 (temporary credentials)"
            }
            BedrockAuth::SigV4(_) => "sigv4",
            BedrockAuth::Bearer(_) => "bearer (Bedrock API key)",
            BedrockAuth::Chain(plan) => {
                return formatter
                    .debug_struct("BedrockConfig")
                    .field("auth", &format_args!("sigv4, keys from {}", plan.describe()))
                    .field("region", &self.region)
                    .field("base_url", &vllora_llm_http::RedactedUrl(&self.base_url()))
                    .finish_non_exhaustive();
            }
        };
        formatter
            .debug_struct("BedrockConfig")
            .field("auth", &auth)
            .field("region", &self.region)
            .field("base_url", &vllora_llm_http::RedactedUrl(&self.base_url()))
            .field("expires", &self.expiry.as_ref().map(|expiry| expiry.given.as_str()))
            .finish_non_exhaustive()
    }
}

pub(crate) const MISSING_KEY_HINT: &str = "set VLLORA_BEDROCK_API_KEY or AWS_BEARER_TOKEN_BEDROCK (a Bedrock API key), or \
     AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or keys for AWS_PROFILE (default `default`) in ~/.aws/credentials";
const MISSING_REGION_HINT: &str =
    "set AWS_REGION (or AWS_DEFAULT_REGION, or `region` in the profile's section of ~/.aws/config)";

pub(crate) fn missing(hint: impl Into<String>) -> LLMError {
    LLMError::MissingCredentials { provider: PROVIDER_NAME.to_owned(), hint: hint.into() }
}

/// Region: `AWS_REGION`, `AWS_DEFAULT_REGION`, then the profile's `region`.
fn region_from_env(env: &dyn Environment, profile: &mut LazyProfile<'_>) -> Option<String> {
    non_empty(env, "AWS_REGION")
        .or_else(|| non_empty(env, "AWS_DEFAULT_REGION"))
        .or_else(|| profile.get().region())
}

impl BedrockConfig {
    fn new(auth: BedrockAuth, region: String) -> Self {
        BedrockConfig {
            auth,
            region,
            base_url: None,
            clock: Arc::new(SystemTime::now),
            expiry: None,
            environment: None,
            sts_endpoint: None,
            invoke_models: Vec::new(),
        }
    }

    /// Reads credentials and region from the process environment and the shared AWS files:
    /// [`from_environment`](Self::from_environment) over [`ProcessEnvironment`]. It may read files, so
    /// async code calls it off the runtime (a blocking thread), once per client.
    pub fn from_env() -> LLMResult<Self> {
        Self::from_shared_environment(Arc::new(ProcessEnvironment))
    }

    /// [`from_environment`](Self::from_environment) through an environment the config keeps: token
    /// files that rotate (web identity, EKS Pod Identity) are read through it again at each refresh.
    /// The `vllora_llm` facade builds Bedrock this way.
    pub fn from_shared_environment(env: Arc<dyn Environment>) -> LLMResult<Self> {
        let mut config = Self::resolve(env.as_ref())?;
        config.environment = Some(env);
        Ok(config)
    }

    /// Reads credentials and region through `env`, in this order: `VLLORA_BEDROCK_API_KEY` or
    /// `AWS_BEARER_TOKEN_BEDROCK` (a Bedrock API key); `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and
    /// `AWS_SESSION_TOKEN` (with `AWS_CREDENTIAL_EXPIRATION`, RFC 3339, when temporary credentials say when
    /// they expire); the keys of `AWS_PROFILE` (default `default`) in the shared `credentials` and `config`
    /// files (`AWS_SHARED_CREDENTIALS_FILE`, `AWS_CONFIG_FILE`, else `~/.aws/`). The region comes from
    /// `AWS_REGION`, `AWS_DEFAULT_REGION` or the profile's `region`.
    ///
    /// Each shared file is read at most once, and only when the variables leave something unsettled.
    /// The result is kept for every call: nothing is read again. Signing with credentials past their
    /// expiry is a [`LLMError::MissingCredentials`] naming `AWS_CREDENTIAL_EXPIRATION`, not a call AWS
    /// refuses.
    ///
    /// Profiles that need SSO, role assumption or a credential process are not resolved here: export
    /// their credentials (`aws configure export-credentials --format env`) or pass them explicitly.
    pub fn from_environment(env: &dyn Environment) -> LLMResult<Self> {
        let mut config = Self::resolve(env)?;
        // `env` is only lent: the token files a refresh needs are read now, once.
        if let BedrockAuth::Chain(plan) = &config.auth {
            config.environment = Some(Arc::new(SnapshotEnvironment::of(plan, env)));
        }
        Ok(config)
    }

    fn resolve(env: &dyn Environment) -> LLMResult<Self> {
        let mut profile = LazyProfile::new(env);
        let (auth, expiry) = auth_from_env(env, &mut profile)?;
        let region = region_from_env(env, &mut profile).ok_or_else(|| missing(MISSING_REGION_HINT))?;
        let mut config = BedrockConfig::new(auth, region);
        config.expiry = expiry;
        config.sts_endpoint =
            non_empty(env, "AWS_ENDPOINT_URL_STS").or_else(|| non_empty(env, "AWS_ENDPOINT_URL"));
        config.invoke_models = non_empty(env, INVOKE_MODELS_VARIABLE)
            .map(|list| {
                list.split(',').map(str::trim).filter(|id| !id.is_empty()).map(str::to_owned).collect()
            })
            .unwrap_or_default();
        Ok(config)
    }

    /// Uses explicit credentials: [`Credentials::Aws`] (SigV4), [`Credentials::AwsBearer`] or
    /// [`Credentials::ApiKey`] (a Bedrock API key), or [`Credentials::ApiKeyWithEndpoint`] (a key and a
    /// base URL). A region they do not carry comes from the process environment as in
    /// [`BedrockConfig::from_env`].
    pub fn from_credentials(credentials: &Credentials) -> LLMResult<Self> {
        Self::from_credentials_in(credentials, &ProcessEnvironment)
    }

    /// [`from_credentials`](Self::from_credentials), with a region the credentials do not carry read
    /// through `env` (`AWS_REGION`, `AWS_DEFAULT_REGION`, the profile's `region`; the config file is read
    /// only then, and once).
    pub fn from_credentials_in(credentials: &Credentials, env: &dyn Environment) -> LLMResult<Self> {
        let mut profile = LazyProfile::new(env);
        let mut region_or_env = |region: &Option<String>| {
            region
                .clone()
                .filter(|region| !region.trim().is_empty())
                .or_else(|| region_from_env(env, &mut profile))
        };
        let (auth, region, base_url) = match credentials {
            Credentials::Aws(aws) => {
                let auth = BedrockAuth::SigV4(SigningCredentials {
                    access_key_id: aws.access_key_id.clone(),
                    secret_access_key: aws.secret_access_key.clone(),
                    session_token: aws.session_token.clone(),
                });
                (auth, region_or_env(&aws.region), None)
            }
            Credentials::AwsBearer { api_key, region } => {
                (BedrockAuth::Bearer(api_key.clone()), region_or_env(region), None)
            }
            Credentials::ApiKey(api_key) => (BedrockAuth::Bearer(api_key.into()), region_or_env(&None), None),
            Credentials::ApiKeyWithEndpoint { api_key, endpoint } => {
                (BedrockAuth::Bearer(api_key.clone()), region_or_env(&None), Some(endpoint.clone()))
            }
            _ => return Err(LLMError::Config("these credentials are not usable with Bedrock".to_owned())),
        };
        let region = region.ok_or_else(|| missing(MISSING_REGION_HINT))?;
        let config = BedrockConfig::new(auth, region);
        Ok(match base_url {
            Some(url) => config.with_base_url(url),
            None => config,
        })
    }

    /// Sends requests to `url` instead of `https://bedrock-runtime.{region}.amazonaws.com` (a VPC
    /// endpoint, a proxy, a test server). Requests are still signed for the configured region.
    pub fn with_base_url(mut self, url: impl Into<String>) -> Self {
        let url = url.into();
        self.base_url = Some(url.trim_end_matches('/').to_owned());
        self
    }

    /// Uses another region (and, unless a base URL is set, that region's endpoint).
    pub fn with_region(mut self, region: impl Into<String>) -> Self {
        self.region = region.into();
        self
    }

    /// Signs requests with the time `clock` gives instead of the system clock (for reproducible tests).
    pub fn with_clock(mut self, clock: impl Fn() -> SystemTime + Send + Sync + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Sends STS requests (AssumeRole, AssumeRoleWithWebIdentity) to `url` instead of
    /// `https://sts.{region}.amazonaws.com` (`AWS_ENDPOINT_URL_STS` or `AWS_ENDPOINT_URL` when set).
    pub fn with_sts_endpoint(mut self, url: impl Into<String>) -> Self {
        self.sts_endpoint = Some(url.into().trim_end_matches('/').to_owned());
        self
    }

    /// The STS base URL the credential chain uses.
    pub fn sts_endpoint(&self) -> String {
        match &self.sts_endpoint {
            Some(url) => url.clone(),
            None => format!("https://sts.{}.amazonaws.com", self.region),
        }
    }

    /// Calls `model_id` through InvokeModel (`/invoke`, `/invoke-with-response-stream`) with the Anthropic
    /// Messages body instead of Converse (feature `anthropic`). `*` selects every Anthropic model; the
    /// variable `VLLORA_BEDROCK_INVOKE_MODELS` (comma-separated) adds to the list.
    pub fn with_invoke_model(mut self, model_id: impl Into<String>) -> Self {
        self.invoke_models.push(model_id.into());
        self
    }

    /// Whether `model_id` goes through InvokeModel.
    pub(crate) fn uses_invoke(&self, model_id: &str) -> bool {
        // `*` is every Anthropic model by its id (`anthropic.`, `us.anthropic.`, an ARN naming one); an
        // application inference profile's ARN names no model, so it is listed by itself.
        let anthropic = model_id.contains("anthropic.");
        self.invoke_models.iter().any(|chosen| chosen == model_id || (chosen == "*" && anthropic))
    }

    /// The region requests are signed for.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The base URL requests go to.
    pub fn base_url(&self) -> String {
        match &self.base_url {
            Some(url) => url.clone(),
            None => format!("https://bedrock-runtime.{}.amazonaws.com", self.region),
        }
    }

    /// When the credentials stop working, if the environment said so (`AWS_CREDENTIAL_EXPIRATION`): a
    /// client builds a fresh config before then. Calls after it fail with
    /// [`LLMError::MissingCredentials`].
    pub fn credentials_expire_at(&self) -> Option<SystemTime> {
        self.expiry.as_ref().map(|expiry| expiry.at)
    }

    /// The current time by the configured clock.
    pub(crate) fn now(&self) -> SystemTime {
        (self.clock)()
    }

    /// The configured clock.
    pub(crate) fn clock(&self) -> Clock {
        Arc::clone(&self.clock)
    }
}

fn auth_from_env(
    env: &dyn Environment,
    profile: &mut LazyProfile<'_>,
) -> LLMResult<(BedrockAuth, Option<CredentialExpiry>)> {
    if let Some(key) =
        non_empty(env, "VLLORA_BEDROCK_API_KEY").or_else(|| non_empty(env, "AWS_BEARER_TOKEN_BEDROCK"))
    {
        return Ok((BedrockAuth::Bearer(Secret::new(key)), None));
    }
    match (non_empty(env, "AWS_ACCESS_KEY_ID"), non_empty(env, "AWS_SECRET_ACCESS_KEY")) {
        (Some(access_key_id), Some(secret_access_key)) => {
            let expiry = match non_empty(env, EXPIRATION_VARIABLE) {
                None => None,
                Some(given) => {
                    let at = parse_rfc3339(&given).ok_or_else(|| {
                        LLMError::Config(format!(
                            "{EXPIRATION_VARIABLE} is `{given}`, not an RFC 3339 time such as 2024-05-01T12:00:00Z"
                        ))
                    })?;
                    Some(CredentialExpiry { at, given, source: EXPIRATION_VARIABLE })
                }
            };
            let auth = BedrockAuth::SigV4(SigningCredentials {
                access_key_id: Secret::new(access_key_id),
                secret_access_key: Secret::new(secret_access_key),
                session_token: non_empty(env, "AWS_SESSION_TOKEN").map(Secret::new),
            });
            return Ok((auth, expiry));
        }
        (Some(_), None) => return Err(missing("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not")),
        (None, Some(_)) => return Err(missing("AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not")),
        (None, None) => {}
    }
    let profile = profile.get();
    // A role profile assumes its role even when it holds keys too (they may be its own source).
    if profile.get("role_arn").is_none() {
        if let Some(keys) = static_keys(profile) {
            return Ok((BedrockAuth::SigV4(keys), None));
        }
    }
    let plan = plan_after_static(env, profile)?;
    Ok((BedrockAuth::Chain(Arc::new(plan)), None))
}

/// An RFC 3339 time (`2024-05-01T12:00:00Z`, `2024-05-01T14:00:00.123+02:00`), as AWS writes credential
/// expiries; `None` when it is not one.
pub(crate) fn parse_rfc3339(text: &str) -> Option<SystemTime> {
    let text = text.trim();
    let number = |range: std::ops::Range<usize>| -> Option<i64> {
        let digits = text.get(range)?;
        if digits.is_empty() || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
            return None;
        }
        digits.parse().ok()
    };
    let separators = text.as_bytes();
    let at = |index: usize| separators.get(index).copied();
    if at(4) != Some(b'-') || at(7) != Some(b'-') || !matches!(at(10), Some(b'T' | b't' | b' ')) {
        return None;
    }
    if at(13) != Some(b':') || at(16) != Some(b':') {
        return None;
    }
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    // Fractional seconds are dropped: an expiry is not that precise.
    let mut rest = text.get(19..)?;
    if let Some(fraction) = rest.strip_prefix('.') {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        rest = fraction.get(digits..)?;
    }
    let offset_seconds = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes().first() {
                Some(b'+') => 1,
                Some(b'-') => -1,
                _ => return None,
            };
            let (hours, minutes) = rest.get(1..)?.split_once(':')?;
            if hours.len() != 2 || minutes.len() != 2 {
                return None;
            }
            let hours: i64 = hours.parse().ok()?;
            let minutes: i64 = minutes.parse().ok()?;
            if hours > 23 || minutes > 59 {
                return None;
            }
            sign * (hours * 3600 + minutes * 60)
        }
    };
    let seconds = days_from_civil(year, month, day)?
        .checked_mul(86_400)?
        .checked_add(hour * 3600 + minute * 60 + second)?
        .checked_sub(offset_seconds)?;
    UNIX_EPOCH.checked_add(Duration::from_secs(u64::try_from(seconds).ok()?))
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's `days_from_civil`). The callers' values are
/// at most four digits, so only the checked steps could ever matter.
fn days_from_civil(year: i64, month: i64, day: i64) -> Option<i64> {
    let shifted_year = if month <= 2 { year.checked_sub(1)? } else { year };
    let era = shifted_year.div_euclid(400);
    let year_of_era = shifted_year.rem_euclid(400);
    let month_index = if month > 2 { month - 3 } else { month + 9 };
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era.checked_mul(146_097)?.checked_add(day_of_era)?.checked_sub(719_468)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::path::{Path, PathBuf};
    use std::sync::Mutex;

    /// An environment in memory that counts what is read.
    #[derive(Debug, Default)]
    struct TestEnv {
        vars: HashMap<String, String>,
        files: HashMap<PathBuf, String>,
        file_reads: Mutex<Vec<PathBuf>>,
    }

    impl TestEnv {
        fn with_files(mut self, files: &[(&str, &str)]) -> Self {
            for (path, text) in files {
                self.files.insert(PathBuf::from(path), (*text).to_owned());
            }
            self
        }

        fn file_reads(&self) -> Vec<PathBuf> {
            self.file_reads.lock().map(|reads| reads.clone()).unwrap_or_default()
        }
    }

    impl Environment for TestEnv {
        fn var(&self, name: &str) -> Option<String> {
            self.vars.get(name).cloned()
        }

        fn read_file(&self, path: &Path) -> Option<String> {
            if let Ok(mut reads) = self.file_reads.lock() {
                reads.push(path.to_owned());
            }
            self.files.get(path).cloned()
        }
    }

    fn lookup(pairs: &[(&str, &str)]) -> TestEnv {
        let vars = pairs.iter().map(|(key, value)| ((*key).to_owned(), (*value).to_owned())).collect();
        TestEnv { vars, ..TestEnv::default() }
    }

    fn auth_of(config: &BedrockConfig) -> &BedrockAuth {
        &config.auth
    }

    #[test]
    fn bearer_keys_come_first() {
        let env = lookup(&[
            ("AWS_BEARER_TOKEN_BEDROCK", "aws-key"),
            ("VLLORA_BEDROCK_API_KEY", "vllora-key"),
            ("AWS_ACCESS_KEY_ID", "AKID"),
            ("AWS_SECRET_ACCESS_KEY", "secret"),
            ("AWS_REGION", "eu-west-1"),
        ]);
        let config = BedrockConfig::from_environment(&env);
        let Ok(config) = config else { panic!("{config:?}") };
        assert_eq!(auth_of(&config), &BedrockAuth::Bearer(Secret::new("vllora-key")));
        assert_eq!(config.base_url(), "https://bedrock-runtime.eu-west-1.amazonaws.com");
        assert!(!format!("{config:?}").contains("vllora-key"), "{config:?}");
        let env = lookup(&[("AWS_BEARER_TOKEN_BEDROCK", "aws-key"), ("AWS_DEFAULT_REGION", "us-east-2")]);
        let config = BedrockConfig::from_environment(&env);
        let Ok(config) = config else { panic!("{config:?}") };
        assert_eq!(auth_of(&config), &BedrockAuth::Bearer(Secret::new("aws-key")));
        assert_eq!(config.region(), "us-east-2");
    }

    #[test]
    fn access_keys_with_session_token() {
        let env = lookup(&[
            ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
            ("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI"),
            ("AWS_SESSION_TOKEN", "token"),
            ("AWS_REGION", "us-east-1"),
            ("AWS_DEFAULT_REGION", "us-west-2"),
        ]);
        let config = BedrockConfig::from_environment(&env);
        let Ok(config) = config else { panic!("{config:?}") };
        let expected = SigningCredentials {
            access_key_id: Secret::new("AKIDEXAMPLE"),
            secret_access_key: Secret::new("wJalrXUtnFEMI"),
            session_token: Some(Secret::new("token")),
        };
        assert_eq!(auth_of(&config), &BedrockAuth::SigV4(expected));
        assert_eq!(config.region(), "us-east-1");
        let debug = format!("{config:?}");
        assert!(
            !debug.contains("AKIDEXAMPLE") && !debug.contains("wJalr") && !debug.contains("token\""),
            "{debug}"
        );
        let half = lookup(&[("AWS_ACCESS_KEY_ID", "AKID"), ("AWS_REGION", "us-east-1")]);
        let error =
            BedrockConfig::from_environment(&half).err().map(|error| error.to_string()).unwrap_or_default();
        assert!(error.contains("AWS_SECRET_ACCESS_KEY"), "{error}");
    }

    #[test]
    fn profiles_from_the_shared_files() {
        let shared = [
            (
                "/shared/credentials",
                "[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key = s1\n\n[dev]\naws_access_key_id=AKIDDEV\naws_secret_access_key=s2\naws_session_token=t2\n",
            ),
            (
                "/shared/config",
                "[default]\nregion = us-west-2\n[profile dev]\nregion = eu-central-1\n[profile sso]\nsso_session = corp\nregion = us-east-1\n[profile plain]\nregion = eu-north-1\n",
            ),
        ];
        let files =
            [("AWS_SHARED_CREDENTIALS_FILE", "/shared/credentials"), ("AWS_CONFIG_FILE", "/shared/config")];
        let lookup = |pairs: &[(&str, &str)]| lookup(pairs).with_files(&shared);

        let config = BedrockConfig::from_environment(&lookup(&files));
        let Ok(config) = config else { panic!("{config:?}") };
        assert_eq!(config.region(), "us-west-2");
        let BedrockAuth::SigV4(keys) = auth_of(&config) else { panic!("expected sigv4") };
        assert_eq!(keys.access_key_id.expose(), "AKIDDEFAULT");

        let with_profile = [files[0], files[1], ("AWS_PROFILE", "dev")];
        let config = BedrockConfig::from_environment(&lookup(&with_profile));
        let Ok(config) = config else { panic!("{config:?}") };
        assert_eq!(config.region(), "eu-central-1");
        let BedrockAuth::SigV4(keys) = auth_of(&config) else { panic!("expected sigv4") };
        assert_eq!(
            (keys.access_key_id.expose(), keys.session_token.as_ref().map(Secret::expose)),
            ("AKIDDEV", Some("t2"))
        );

        let region_wins = [files[0], files[1], ("AWS_PROFILE", "dev"), ("AWS_REGION", "ap-south-1")];
        let config = BedrockConfig::from_environment(&lookup(&region_wins));
        assert_eq!(config.ok().map(|config| config.region().to_owned()).as_deref(), Some("ap-south-1"));

        // Without keys anywhere, the chain ends at the instance metadata service, noting what it tried.
        let region_only = [files[0], files[1], ("AWS_PROFILE", "other"), ("AWS_REGION", "us-east-1")];
        let config = BedrockConfig::from_environment(&lookup(&region_only));
        let Ok(config) = config else { panic!("{config:?}") };
        let BedrockAuth::Chain(plan) = auth_of(&config) else { panic!("expected the chain") };
        let CredentialPlan::InstanceMetadata { endpoint, tried } = plan.as_ref() else { panic!("{plan:?}") };
        assert_eq!(endpoint, "http://169.254.169.254");
        assert!(tried.iter().any(|tried| tried.contains("profile `other` is in neither")), "{tried:?}");
        let disabled = [files[0], files[1], ("AWS_PROFILE", "other"), ("AWS_EC2_METADATA_DISABLED", "true")];
        let error = BedrockConfig::from_environment(&lookup(&disabled))
            .err()
            .map(|error| error.to_string())
            .unwrap_or_default();
        assert!(
            error.contains("no AWS credentials found") && error.contains("set VLLORA_BEDROCK_API_KEY"),
            "{error}"
        );

        let plain = [files[0], files[1], ("AWS_PROFILE", "plain"), ("AWS_EC2_METADATA_DISABLED", "TRUE")];
        let error = BedrockConfig::from_environment(&lookup(&plain))
            .err()
            .map(|error| error.to_string())
            .unwrap_or_default();
        assert!(error.contains("profile `plain` has no credentials"), "{error}");

        let sso = [files[0], files[1], ("AWS_PROFILE", "sso")];
        let error = BedrockConfig::from_environment(&lookup(&sso))
            .err()
            .map(|error| error.to_string())
            .unwrap_or_default();
        assert!(error.contains("(SSO)") && error.contains("export-credentials"), "{error}");

        // HOME is where the files are looked for when the variables are not set.
        let home = [("/home/me/.aws/credentials", shared[0].1), ("/home/me/.aws/config", shared[1].1)];
        let config =
            BedrockConfig::from_environment(&self::lookup(&[("HOME", "/home/me")]).with_files(&home));
        assert_eq!(config.ok().map(|config| config.region().to_owned()).as_deref(), Some("us-west-2"));
    }

    #[test]
    fn file_variables_may_start_at_the_home_directory() {
        let env = lookup(&[
            ("HOME", "/home/me"),
            ("AWS_SHARED_CREDENTIALS_FILE", "~/my-credentials"),
            ("AWS_CONFIG_FILE", "~/my-config"),
        ])
        .with_files(&[
            (
                "/home/me/my-credentials",
                "[default]\naws_access_key_id = AKIDTILDE\naws_secret_access_key = s\n",
            ),
            ("/home/me/my-config", "[default]\nregion = sa-east-1\n"),
        ]);
        let config = BedrockConfig::from_environment(&env);
        let Ok(config) = config else { panic!("{config:?}") };
        assert_eq!(config.region(), "sa-east-1");
        let BedrockAuth::SigV4(keys) = auth_of(&config) else { panic!("expected sigv4") };
        assert_eq!(keys.access_key_id.expose(), "AKIDTILDE");
    }

    #[test]
    fn missing_key_or_region_names_what_to_set() {
        let error = BedrockConfig::from_environment(&lookup(&[
            ("AWS_REGION", "us-east-1"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ]));
        let Err(LLMError::MissingCredentials { provider, hint }) = error else { panic!("{error:?}") };
        assert_eq!(provider, PROVIDER_NAME);
        assert!(hint.contains("AWS_BEARER_TOKEN_BEDROCK") && hint.contains("AWS_ACCESS_KEY_ID"), "{hint}");
        let error = BedrockConfig::from_environment(&lookup(&[("AWS_BEARER_TOKEN_BEDROCK", "k")]));
        let Err(LLMError::MissingCredentials { hint, .. }) = error else { panic!("{error:?}") };
        assert!(hint.contains("AWS_REGION"), "{hint}");
    }

    #[test]
    fn explicit_credentials() {
        let env = lookup(&[("AWS_REGION", "us-east-1")]);
        let aws = Credentials::Aws(vllora_llm_core::AwsCredentials {
            access_key_id: Secret::new("AKID"),
            secret_access_key: Secret::new("secret"),
            session_token: None,
            region: Some("eu-west-3".into()),
        });
        let config = BedrockConfig::from_credentials_in(&aws, &env);
        assert_eq!(config.ok().map(|config| config.region().to_owned()).as_deref(), Some("eu-west-3"));
        let bearer = Credentials::AwsBearer { api_key: Secret::new("key"), region: None };
        let config = BedrockConfig::from_credentials_in(&bearer, &env);
        let Ok(config) = config else { panic!("{config:?}") };
        assert_eq!(
            (config.region(), auth_of(&config)),
            ("us-east-1", &BedrockAuth::Bearer(Secret::new("key")))
        );
        let endpoint =
            Credentials::ApiKeyWithEndpoint { api_key: Secret::new("key"), endpoint: "http://proxy/".into() };
        let config = BedrockConfig::from_credentials_in(&endpoint, &env);
        assert_eq!(config.ok().map(|config| config.base_url()).as_deref(), Some("http://proxy"));
        let error = BedrockConfig::from_credentials_in(&bearer, &lookup(&[]));
        assert!(matches!(error, Err(LLMError::MissingCredentials { .. })));
    }

    #[test]
    fn each_shared_file_is_read_at_most_once_and_only_when_needed() {
        let shared = [
            ("/home/me/.aws/credentials", "[default]\naws_access_key_id = AKID\naws_secret_access_key = s\n"),
            ("/home/me/.aws/config", "[default]\nregion = us-west-2\n"),
        ];
        let env = lookup(&[("HOME", "/home/me")]).with_files(&shared);
        let config = BedrockConfig::from_environment(&env);
        assert_eq!(config.map(|config| config.region().to_owned()).ok().as_deref(), Some("us-west-2"));
        let mut reads = env.file_reads();
        reads.sort();
        assert_eq!(
            reads,
            [PathBuf::from("/home/me/.aws/config"), PathBuf::from("/home/me/.aws/credentials")]
        );

        let settled =
            lookup(&[("HOME", "/home/me"), ("AWS_BEARER_TOKEN_BEDROCK", "k"), ("AWS_REGION", "eu-west-1")])
                .with_files(&shared);
        assert!(BedrockConfig::from_environment(&settled).is_ok());
        assert_eq!(settled.file_reads(), Vec::<PathBuf>::new(), "the variables settle it: no file is read");

        let explicit = Credentials::AwsBearer { api_key: Secret::new("k"), region: None };
        let env = lookup(&[("HOME", "/home/me")]).with_files(&shared);
        let config = BedrockConfig::from_credentials_in(&explicit, &env);
        assert_eq!(config.map(|config| config.region().to_owned()).ok().as_deref(), Some("us-west-2"));
        assert_eq!(env.file_reads().len(), 2, "{:?}", env.file_reads());
    }

    #[test]
    fn temporary_credentials_keep_their_expiry() {
        let env = lookup(&[
            ("AWS_ACCESS_KEY_ID", "ASIAEXAMPLE"),
            ("AWS_SECRET_ACCESS_KEY", "secret"),
            ("AWS_SESSION_TOKEN", "token"),
            ("AWS_CREDENTIAL_EXPIRATION", "2024-05-01T12:00:00Z"),
            ("AWS_REGION", "us-east-1"),
        ]);
        let config = BedrockConfig::from_environment(&env);
        let Ok(config) = config else { panic!("{config:?}") };
        assert_eq!(config.credentials_expire_at(), Some(UNIX_EPOCH + Duration::from_secs(1_714_564_800)));
        assert!(format!("{config:?}").contains("2024-05-01T12:00:00Z"));

        let bad = lookup(&[
            ("AWS_ACCESS_KEY_ID", "ASIAEXAMPLE"),
            ("AWS_SECRET_ACCESS_KEY", "secret"),
            ("AWS_CREDENTIAL_EXPIRATION", "tomorrow"),
            ("AWS_REGION", "us-east-1"),
        ]);
        let error =
            BedrockConfig::from_environment(&bad).err().map(|error| error.to_string()).unwrap_or_default();
        assert!(error.contains("AWS_CREDENTIAL_EXPIRATION"), "{error}");
    }

    #[test]
    fn rfc3339_times() {
        let at = |seconds: u64| Some(UNIX_EPOCH + Duration::from_secs(seconds));
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), at(0));
        assert_eq!(parse_rfc3339("2024-05-01T12:00:00Z"), at(1_714_564_800));
        assert_eq!(parse_rfc3339("2024-05-01T14:00:00.250+02:00"), at(1_714_564_800));
        assert_eq!(parse_rfc3339("2024-05-01T07:30:00-04:30"), at(1_714_564_800));
        assert_eq!(parse_rfc3339("2000-02-29T00:00:00Z"), at(951_782_400));
        for bad in [
            "",
            "2024-05-01",
            "2024-13-01T00:00:00Z",
            "2024-05-01T12:00:00",
            "2024-05-01T12:00:00+2:00",
            "x024-05-01T12:00:00Z",
            "1969-12-31T23:59:59Z",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }
}
