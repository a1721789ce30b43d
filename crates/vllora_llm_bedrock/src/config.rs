//! [`BedrockConfig`]: region, endpoint and credentials (a Bedrock API key, or AWS keys from the
//! environment or the shared files), and the request each call sends.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

use vllora_llm_core::{Credentials, LLMError, LLMResult, Secret};
use vllora_llm_http::{Bytes, HttpRequest};

use crate::PROVIDER_NAME;
use crate::profile;
use crate::sign::{SIGNING_NAME, SigningCredentials, SigningScope, sign_request};

/// The time a request is signed at.
type Clock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

/// How requests prove who sends them.
#[derive(Debug, Clone, PartialEq, Eq)]
enum BedrockAuth {
    /// SigV4 with access keys.
    SigV4(SigningCredentials),
    /// A Bedrock API key, sent as `Authorization: Bearer`.
    Bearer(Secret),
}

/// Where and how to reach Bedrock Runtime. `Debug` never shows a key.
#[derive(Clone)]
pub struct BedrockConfig {
    auth: BedrockAuth,
    region: String,
    base_url: Option<String>,
    clock: Clock,
}

impl fmt::Debug for BedrockConfig {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let auth = match &self.auth {
            BedrockAuth::SigV4(credentials) if credentials.session_token.is_some() => {
                "sigv4 (temporary credentials)"
            }
            BedrockAuth::SigV4(_) => "sigv4",
            BedrockAuth::Bearer(_) => "bearer (Bedrock API key)",
        };
        formatter
            .debug_struct("BedrockConfig")
            .field("auth", &auth)
            .field("region", &self.region)
            .field("base_url", &self.base_url())
            .finish_non_exhaustive()
    }
}

const MISSING_KEY_HINT: &str = "set VLLORA_BEDROCK_API_KEY or AWS_BEARER_TOKEN_BEDROCK (a Bedrock API key), or \
     AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or keys for AWS_PROFILE (default `default`) in ~/.aws/credentials";
const MISSING_REGION_HINT: &str =
    "set AWS_REGION (or AWS_DEFAULT_REGION, or `region` in the profile's section of ~/.aws/config)";

fn missing(hint: impl Into<String>) -> LLMError {
    LLMError::MissingCredentials { provider: PROVIDER_NAME.to_owned(), hint: hint.into() }
}

/// Reads environment variables; injectable so that tests never touch the process environment.
pub(crate) type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<String>;

fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// A variable that is set and not blank.
fn non_empty(env: EnvLookup<'_>, name: &str) -> Option<String> {
    env(name).map(|value| value.trim().to_owned()).filter(|value| !value.is_empty())
}

/// The profile's sections of the shared `credentials` and `config` files (empty when absent).
struct SharedProfile {
    name: String,
    /// Whether either file has a section for the profile.
    found: bool,
    credentials: std::collections::BTreeMap<String, String>,
    config: std::collections::BTreeMap<String, String>,
}

impl SharedProfile {
    fn load(env: EnvLookup<'_>) -> SharedProfile {
        let name = non_empty(env, "AWS_PROFILE").unwrap_or_else(|| "default".to_owned());
        let home = non_empty(env, "HOME").or_else(|| non_empty(env, "USERPROFILE")).map(PathBuf::from);
        let file = |variable: &str, default: &str| -> Option<String> {
            // `~/` is the home directory, as AWS's SDKs and CLI read these variables.
            let path = match non_empty(env, variable) {
                Some(set) => match (set.strip_prefix("~/"), home.as_ref()) {
                    (Some(relative), Some(home)) => home.join(relative),
                    _ => PathBuf::from(set),
                },
                None => home.as_ref()?.join(default),
            };
            std::fs::read_to_string(path).ok()
        };
        let credentials = file("AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials")
            .and_then(|text| profile::section(&text, &name))
            .unwrap_or_default();
        let config = file("AWS_CONFIG_FILE", ".aws/config")
            .and_then(|text| profile::config_section(&text, &name))
            .unwrap_or_default();
        let found = !credentials.is_empty() || !config.is_empty();
        SharedProfile { name, found, credentials, config }
    }

    /// A key from the credentials file, else from the config file (the AWS CLI accepts both).
    fn get(&self, key: &str) -> Option<String> {
        self.credentials.get(key).or_else(|| self.config.get(key)).filter(|value| !value.is_empty()).cloned()
    }
}

/// Region: `AWS_REGION`, `AWS_DEFAULT_REGION`, then the profile's `region`.
fn region_from_env(env: EnvLookup<'_>, profile: &SharedProfile) -> Option<String> {
    non_empty(env, "AWS_REGION")
        .or_else(|| non_empty(env, "AWS_DEFAULT_REGION"))
        .or_else(|| profile.config.get("region").filter(|region| !region.is_empty()).cloned())
}

impl BedrockConfig {
    fn new(auth: BedrockAuth, region: String) -> Self {
        BedrockConfig { auth, region, base_url: None, clock: Arc::new(SystemTime::now) }
    }

    /// Reads credentials and region from the environment, in this order: `VLLORA_BEDROCK_API_KEY` or
    /// `AWS_BEARER_TOKEN_BEDROCK` (a Bedrock API key); `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and
    /// `AWS_SESSION_TOKEN`; the keys of `AWS_PROFILE` (default `default`) in the shared `credentials` and
    /// `config` files (`AWS_SHARED_CREDENTIALS_FILE`, `AWS_CONFIG_FILE`, else `~/.aws/`). The region
    /// comes from `AWS_REGION`, `AWS_DEFAULT_REGION` or the profile's `region`.
    ///
    /// Profiles that need SSO, role assumption or a credential process are not resolved here: export
    /// their credentials (`aws configure export-credentials --format env`) or pass them explicitly.
    pub fn from_env() -> LLMResult<Self> {
        Self::from_lookup(&process_env)
    }

    pub(crate) fn from_lookup(env: EnvLookup<'_>) -> LLMResult<Self> {
        let profile = SharedProfile::load(env);
        let auth = auth_from_env(env, &profile)?;
        let region = region_from_env(env, &profile).ok_or_else(|| missing(MISSING_REGION_HINT))?;
        Ok(BedrockConfig::new(auth, region))
    }

    /// Uses explicit credentials: [`Credentials::Aws`] (SigV4), [`Credentials::AwsBearer`] or
    /// [`Credentials::ApiKey`] (a Bedrock API key), or [`Credentials::ApiKeyWithEndpoint`] (a key and a
    /// base URL). A region they do not carry comes from the environment as in [`BedrockConfig::from_env`].
    pub fn from_credentials(credentials: &Credentials) -> LLMResult<Self> {
        Self::from_credentials_with(credentials, &process_env)
    }

    pub(crate) fn from_credentials_with(credentials: &Credentials, env: EnvLookup<'_>) -> LLMResult<Self> {
        let region_or_env = |region: &Option<String>| {
            region.clone().filter(|region| !region.trim().is_empty()).or_else(|| {
                let profile = SharedProfile::load(env);
                region_from_env(env, &profile)
            })
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
            Credentials::ApiKey(api_key) => {
                (BedrockAuth::Bearer(api_key.clone()), region_or_env(&None), None)
            }
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

    /// The current time by the configured clock.
    pub(crate) fn now(&self) -> SystemTime {
        (self.clock)()
    }

    /// The signed (or bearer-authenticated) `POST /model/{modelId}/{operation}` request.
    pub(crate) fn converse_http_request(
        &self,
        model_id: &str,
        operation: &str,
        accept: &str,
        body: Bytes,
    ) -> LLMResult<HttpRequest> {
        // The region becomes part of the host name: anything but a region name could send the request (and
        // its signature or key) to another host.
        let plausible_region = !self.region.is_empty()
            && self
                .region
                .bytes()
                .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-');
        if self.base_url.is_none() && !plausible_region {
            return Err(LLMError::Config(format!("`{}` is not an AWS region name", self.region)));
        }
        let url = format!("{}/model/{}/{operation}", self.base_url(), model_path_segment(model_id)?);
        let mut request = HttpRequest::post_json(url, body).header("accept", accept)?;
        match &self.auth {
            BedrockAuth::Bearer(key) => {
                request = request
                    .secret_header("authorization", &Secret::new(format!("Bearer {}", key.expose())))?;
            }
            BedrockAuth::SigV4(credentials) => {
                let scope = SigningScope { region: &self.region, service: SIGNING_NAME, time: self.now() };
                let HttpRequest { method, url, mut headers, body } = request;
                sign_request(method.as_str(), &url, &mut headers, &body, credentials, scope)?;
                request = HttpRequest { method, url, headers, body };
            }
        }
        Ok(request)
    }
}

fn auth_from_env(env: EnvLookup<'_>, profile: &SharedProfile) -> LLMResult<BedrockAuth> {
    if let Some(key) =
        non_empty(env, "VLLORA_BEDROCK_API_KEY").or_else(|| non_empty(env, "AWS_BEARER_TOKEN_BEDROCK"))
    {
        return Ok(BedrockAuth::Bearer(Secret::new(key)));
    }
    match (non_empty(env, "AWS_ACCESS_KEY_ID"), non_empty(env, "AWS_SECRET_ACCESS_KEY")) {
        (Some(access_key_id), Some(secret_access_key)) => {
            return Ok(BedrockAuth::SigV4(SigningCredentials {
                access_key_id: Secret::new(access_key_id),
                secret_access_key: Secret::new(secret_access_key),
                session_token: non_empty(env, "AWS_SESSION_TOKEN").map(Secret::new),
            }));
        }
        (Some(_), None) => return Err(missing("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not")),
        (None, Some(_)) => return Err(missing("AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not")),
        (None, None) => {}
    }
    if let (Some(access_key_id), Some(secret_access_key)) =
        (profile.get("aws_access_key_id"), profile.get("aws_secret_access_key"))
    {
        return Ok(BedrockAuth::SigV4(SigningCredentials {
            access_key_id: Secret::new(access_key_id),
            secret_access_key: Secret::new(secret_access_key),
            session_token: profile.get("aws_session_token").map(Secret::new),
        }));
    }
    let indirect =
        ["sso_session", "sso_start_url", "role_arn", "credential_process", "web_identity_token_file"];
    if let Some(kind) = indirect.iter().find(|key| profile.get(key).is_some()) {
        return Err(missing(format!(
            "profile `{}` gets its credentials through `{kind}`, which vllora_llm does not resolve; export them \
             (`aws configure export-credentials --profile {} --format env`) or {MISSING_KEY_HINT}",
            profile.name, profile.name
        )));
    }
    if profile.found {
        return Err(missing(format!(
            "profile `{}` has no aws_access_key_id and aws_secret_access_key; {MISSING_KEY_HINT}",
            profile.name
        )));
    }
    Err(missing(MISSING_KEY_HINT))
}

/// A model id, inference-profile id or ARN as one path segment: everything but RFC 3986's unreserved
/// characters is percent-encoded (`:` and `/` included), as AWS's SDKs do.
pub(crate) fn model_path_segment(model_id: &str) -> LLMResult<String> {
    if model_id.is_empty() || model_id == "." || model_id == ".." {
        return Err(LLMError::InvalidRequest(format!("`{model_id}` is not a Bedrock model id")));
    }
    let mut encoded = String::with_capacity(model_id.len() + 8);
    for byte in model_id.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            encoded.push(char::from(byte));
        } else {
            const HEX: &[u8; 16] = b"0123456789ABCDEF";
            encoded.push('%');
            encoded.push(char::from(HEX[usize::from(byte >> 4)]));
            encoded.push(char::from(HEX[usize::from(byte & 0x0F)]));
        }
    }
    Ok(encoded)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
        let map: HashMap<String, String> =
            pairs.iter().map(|(key, value)| ((*key).to_owned(), (*value).to_owned())).collect();
        move |name| map.get(name).cloned()
    }

    /// A directory of its own under the system temp dir, with the given files.
    fn temp_files(test: &str, files: &[(&str, &str)]) -> PathBuf {
        let directory = std::env::temp_dir().join(format!("vllora-bedrock-{test}-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&directory);
        for (name, content) in files {
            let _ = std::fs::write(directory.join(name), content);
        }
        directory
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
        let config = BedrockConfig::from_lookup(&env);
        let Ok(config) = config else { panic!("{config:?}") };
        assert_eq!(auth_of(&config), &BedrockAuth::Bearer(Secret::new("vllora-key")));
        assert_eq!(config.base_url(), "https://bedrock-runtime.eu-west-1.amazonaws.com");
        assert!(!format!("{config:?}").contains("vllora-key"), "{config:?}");
        let env = lookup(&[("AWS_BEARER_TOKEN_BEDROCK", "aws-key"), ("AWS_DEFAULT_REGION", "us-east-2")]);
        let config = BedrockConfig::from_lookup(&env);
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
        let config = BedrockConfig::from_lookup(&env);
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
            BedrockConfig::from_lookup(&half).err().map(|error| error.to_string()).unwrap_or_default();
        assert!(error.contains("AWS_SECRET_ACCESS_KEY"), "{error}");
    }

    #[test]
    fn profiles_from_the_shared_files() {
        let directory = temp_files(
            "profiles",
            &[
                (
                    "credentials",
                    "[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key = s1\n\n[dev]\naws_access_key_id=AKIDDEV\naws_secret_access_key=s2\naws_session_token=t2\n",
                ),
                (
                    "config",
                    "[default]\nregion = us-west-2\n[profile dev]\nregion = eu-central-1\n[profile sso]\nsso_session = corp\nregion = us-east-1\n[profile plain]\nregion = eu-north-1\n",
                ),
            ],
        );
        let credentials = directory.join("credentials").display().to_string();
        let config_file = directory.join("config").display().to_string();
        let files = [
            ("AWS_SHARED_CREDENTIALS_FILE", credentials.as_str()),
            ("AWS_CONFIG_FILE", config_file.as_str()),
        ];

        let config = BedrockConfig::from_lookup(&lookup(&files));
        let Ok(config) = config else { panic!("{config:?}") };
        assert_eq!(config.region(), "us-west-2");
        let BedrockAuth::SigV4(keys) = auth_of(&config) else { panic!("expected sigv4") };
        assert_eq!(keys.access_key_id.expose(), "AKIDDEFAULT");

        let with_profile = [files[0], files[1], ("AWS_PROFILE", "dev")];
        let config = BedrockConfig::from_lookup(&lookup(&with_profile));
        let Ok(config) = config else { panic!("{config:?}") };
        assert_eq!(config.region(), "eu-central-1");
        let BedrockAuth::SigV4(keys) = auth_of(&config) else { panic!("expected sigv4") };
        assert_eq!(
            (keys.access_key_id.expose(), keys.session_token.as_ref().map(Secret::expose)),
            ("AKIDDEV", Some("t2"))
        );

        let region_wins = [files[0], files[1], ("AWS_PROFILE", "dev"), ("AWS_REGION", "ap-south-1")];
        let config = BedrockConfig::from_lookup(&lookup(&region_wins));
        assert_eq!(config.ok().map(|config| config.region().to_owned()).as_deref(), Some("ap-south-1"));

        let region_only = [files[0], files[1], ("AWS_PROFILE", "other"), ("AWS_REGION", "us-east-1")];
        let error = BedrockConfig::from_lookup(&lookup(&region_only))
            .err()
            .map(|error| error.to_string())
            .unwrap_or_default();
        assert!(error.contains("no credentials for aws.bedrock: set VLLORA_BEDROCK_API_KEY"), "{error}");

        let plain = [files[0], files[1], ("AWS_PROFILE", "plain")];
        let error = BedrockConfig::from_lookup(&lookup(&plain))
            .err()
            .map(|error| error.to_string())
            .unwrap_or_default();
        assert!(error.contains("profile `plain` has no aws_access_key_id"), "{error}");

        let sso = [files[0], files[1], ("AWS_PROFILE", "sso")];
        let error = BedrockConfig::from_lookup(&lookup(&sso))
            .err()
            .map(|error| error.to_string())
            .unwrap_or_default();
        assert!(error.contains("sso_session") && error.contains("export-credentials"), "{error}");

        // HOME is where the files are looked for when the variables are not set.
        let home = temp_files("home", &[]);
        let _ = std::fs::create_dir_all(home.join(".aws"));
        let _ = std::fs::copy(directory.join("credentials"), home.join(".aws/credentials"));
        let _ = std::fs::copy(directory.join("config"), home.join(".aws/config"));
        let home_path = home.display().to_string();
        let config = BedrockConfig::from_lookup(&lookup(&[("HOME", home_path.as_str())]));
        assert_eq!(config.ok().map(|config| config.region().to_owned()).as_deref(), Some("us-west-2"));
    }

    #[test]
    fn file_variables_may_start_at_the_home_directory() {
        let home = temp_files(
            "tilde",
            &[
                ("my-credentials", "[default]\naws_access_key_id = AKIDTILDE\naws_secret_access_key = s\n"),
                ("my-config", "[default]\nregion = sa-east-1\n"),
            ],
        );
        let home_path = home.display().to_string();
        let env = lookup(&[
            ("HOME", home_path.as_str()),
            ("AWS_SHARED_CREDENTIALS_FILE", "~/my-credentials"),
            ("AWS_CONFIG_FILE", "~/my-config"),
        ]);
        let config = BedrockConfig::from_lookup(&env);
        let Ok(config) = config else { panic!("{config:?}") };
        assert_eq!(config.region(), "sa-east-1");
        let BedrockAuth::SigV4(keys) = auth_of(&config) else { panic!("expected sigv4") };
        assert_eq!(keys.access_key_id.expose(), "AKIDTILDE");
    }

    #[test]
    fn missing_key_or_region_names_what_to_set() {
        let error = BedrockConfig::from_lookup(&lookup(&[("AWS_REGION", "us-east-1")]));
        let Err(LLMError::MissingCredentials { provider, hint }) = error else { panic!("{error:?}") };
        assert_eq!(provider, PROVIDER_NAME);
        assert!(hint.contains("AWS_BEARER_TOKEN_BEDROCK") && hint.contains("AWS_ACCESS_KEY_ID"), "{hint}");

        let error = BedrockConfig::from_lookup(&lookup(&[("AWS_BEARER_TOKEN_BEDROCK", "k")]));
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
        let config = BedrockConfig::from_credentials_with(&aws, &env);
        assert_eq!(config.ok().map(|config| config.region().to_owned()).as_deref(), Some("eu-west-3"));
        let bearer = Credentials::AwsBearer { api_key: Secret::new("key"), region: None };
        let config = BedrockConfig::from_credentials_with(&bearer, &env);
        let Ok(config) = config else { panic!("{config:?}") };
        assert_eq!(
            (config.region(), auth_of(&config)),
            ("us-east-1", &BedrockAuth::Bearer(Secret::new("key")))
        );
        let endpoint =
            Credentials::ApiKeyWithEndpoint { api_key: Secret::new("key"), endpoint: "http://proxy/".into() };
        let config = BedrockConfig::from_credentials_with(&endpoint, &env);
        assert_eq!(config.ok().map(|config| config.base_url()).as_deref(), Some("http://proxy"));
        let error = BedrockConfig::from_credentials_with(&bearer, &lookup(&[]));
        assert!(matches!(error, Err(LLMError::MissingCredentials { .. })));
    }

    #[test]
    fn no_secret_shows_in_the_debug_output_of_the_config_or_a_signed_request() {
        let env = lookup(&[
            ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
            ("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMIsecret"),
            ("AWS_SESSION_TOKEN", "IQoJb3JpZ2luX2Vjsessiontoken"),
            ("AWS_REGION", "us-east-1"),
        ]);
        let Ok(config) = BedrockConfig::from_lookup(&env) else { panic!("no config") };
        let request = config.converse_http_request("m", "converse", "*/*", Bytes::from_static(b"{}"));
        let Ok(request) = request else { panic!("{request:?}") };
        assert!(request.headers.get("x-amz-security-token").is_some_and(|value| value.is_sensitive()));
        for shown in [format!("{config:?}"), format!("{request:?}")] {
            assert!(!shown.contains("wJalrXUtnFEMIsecret") && !shown.contains("sessiontoken"), "{shown}");
        }
    }

    #[test]
    fn a_region_that_is_not_a_region_name_never_becomes_a_host() {
        let env = lookup(&[("AWS_BEARER_TOKEN_BEDROCK", "key"), ("AWS_REGION", "us-east-1")]);
        let Ok(config) = BedrockConfig::from_lookup(&env) else { panic!("no config") };
        let body = || Bytes::from_static(b"{}");
        for region in ["attacker.example/x", "evil.com#", "", "US-EAST-1"] {
            let config = config.clone().with_region(region);
            let request = config.converse_http_request("m", "converse", "application/json", body());
            assert!(matches!(request, Err(LLMError::Config(_))), "{region}: {request:?}");
        }
        let request =
            config.clone().with_region("eu-central-2").converse_http_request("m", "converse", "*/*", body());
        assert_eq!(
            request.map(|request| request.url).ok().as_deref(),
            Some("https://bedrock-runtime.eu-central-2.amazonaws.com/model/m/converse")
        );
        let proxied = config.with_region("any thing").with_base_url("http://proxy:8080");
        assert!(
            proxied.converse_http_request("m", "converse", "*/*", body()).is_ok(),
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
}
