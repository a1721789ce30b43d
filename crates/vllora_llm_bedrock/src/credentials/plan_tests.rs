//! Tests of the credential plan: which source the chain picks from variables and shared files, and the
//! configurations it refuses before anything is sent.

use std::collections::HashMap;
use std::path::Path;

use super::*;

#[derive(Debug, Default)]
struct Lookup {
    vars: HashMap<String, String>,
    files: HashMap<PathBuf, String>,
}

impl Environment for Lookup {
    fn var(&self, name: &str) -> Option<String> {
        self.vars.get(name).cloned()
    }

    fn read_file(&self, path: &Path) -> Option<String> {
        self.files.get(path).cloned()
    }
}

fn plan(vars: &[(&str, &str)], config: &str) -> LLMResult<CredentialPlan> {
    let mut env = Lookup {
        vars: vars.iter().map(|(name, value)| ((*name).to_owned(), (*value).to_owned())).collect(),
        ..Lookup::default()
    };
    env.vars.insert("AWS_CONFIG_FILE".to_owned(), "/config".to_owned());
    env.files.insert(PathBuf::from("/config"), config.to_owned());
    let profile = SharedProfile::load(&env);
    plan_after_static(&env, &profile)
}

fn message(result: LLMResult<CredentialPlan>) -> String {
    match result {
        Ok(plan) => panic!("expected an error, got {plan:?}"),
        Err(error) => error.to_string(),
    }
}

#[test]
fn the_chain_order_is_profile_then_web_identity_then_container_then_instance_metadata() {
    let everything = [
        ("AWS_PROFILE", "helper"),
        ("AWS_WEB_IDENTITY_TOKEN_FILE", "/token"),
        ("AWS_ROLE_ARN", "arn:aws:iam::1:role/r"),
        ("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/abc"),
    ];
    let config = "[profile helper]\ncredential_process = /bin/creds --json\n";
    assert!(
        matches!(plan(&everything, config), Ok(CredentialPlan::Process { command, .. }) if command == "/bin/creds --json")
    );
    assert!(matches!(plan(&everything[1..], config), Ok(CredentialPlan::WebIdentity { .. })));
    let container = plan(&everything[3..], config);
    assert!(
        matches!(&container, Ok(CredentialPlan::Container { url, token: None }) if url == "http://169.254.170.2/v2/credentials/abc"),
        "{container:?}"
    );
    assert!(matches!(plan(&[], config), Ok(CredentialPlan::InstanceMetadata { .. })));
    let message = message(plan(&[("AWS_WEB_IDENTITY_TOKEN_FILE", "/token")], ""));
    assert!(message.contains("AWS_ROLE_ARN"), "{message}");
}

#[test]
fn container_urls_must_be_https_or_a_local_agent() {
    for allowed in [
        "https://creds.example/v1",
        "http://127.0.0.1:8080/creds",
        "http://localhost/creds",
        "http://169.254.170.23/v1/credentials",
        "http://[fd00:ec2::23]/v1/credentials",
        "http://[::1]:9/x",
    ] {
        assert!(container_url_allowed(allowed), "{allowed}");
    }
    for refused in [
        "http://attacker.example/creds",
        "http://10.0.0.1/creds",
        "ftp://127.0.0.1/",
        "http://127.0.0.1.evil.example/",
    ] {
        assert!(!container_url_allowed(refused), "{refused}");
    }
    let message =
        message(plan(&[("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://attacker.example/creds")], ""));
    assert!(message.contains("AWS_CONTAINER_CREDENTIALS_FULL_URI"), "{message}");
    let with_token = plan(
        &[
            ("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:9/c"),
            ("AWS_CONTAINER_AUTHORIZATION_TOKEN", "tok"),
        ],
        "",
    );
    assert!(matches!(
        with_token,
        Ok(CredentialPlan::Container { token: Some(ContainerToken::Value(_)), .. })
    ));
}

#[test]
fn role_profiles_name_their_source() {
    let config = "\
[profile env-role]
role_arn = arn:aws:iam::1:role/a
credential_source = Environment
[profile imds-role]
role_arn = arn:aws:iam::1:role/b
credential_source = Ec2InstanceMetadata
[profile both]
role_arn = arn:aws:iam::1:role/c
credential_source = Environment
source_profile = env-role
[profile orphan]
role_arn = arn:aws:iam::1:role/d
[profile loop-a]
role_arn = arn:aws:iam::1:role/e
source_profile = loop-b
[profile loop-b]
role_arn = arn:aws:iam::1:role/f
source_profile = loop-a
[profile missing-source]
role_arn = arn:aws:iam::1:role/g
source_profile = nowhere
[profile web]
role_arn = arn:aws:iam::1:role/h
web_identity_token_file = /var/token
[profile odd]
role_arn = arn:aws:iam::1:role/i
credential_source = Lambda
";
    let keys = [("AWS_PROFILE", "env-role"), ("AWS_ACCESS_KEY_ID", "AKID"), ("AWS_SECRET_ACCESS_KEY", "s")];
    let env_role = plan(&keys, config);
    let Ok(CredentialPlan::AssumeRole { source, .. }) = &env_role else { panic!("{env_role:?}") };
    assert!(matches!(source.as_ref(), CredentialPlan::Static(keys) if keys.access_key_id.expose() == "AKID"));
    let message_of = |profile: &str| message(plan(&[("AWS_PROFILE", profile)], config));
    assert!(message_of("env-role").contains("credential_source = Environment"));
    let imds_role = plan(&[("AWS_PROFILE", "imds-role")], config);
    let Ok(CredentialPlan::AssumeRole { source, .. }) = &imds_role else { panic!("{imds_role:?}") };
    assert!(matches!(source.as_ref(), CredentialPlan::InstanceMetadata { .. }));
    assert!(message_of("both").contains("both source_profile and credential_source"));
    assert!(message_of("orphan").contains("without source_profile"));
    assert!(message_of("loop-a").contains("a loop?"));
    assert!(message_of("missing-source").contains("source_profile `nowhere`"));
    assert!(message_of("odd").contains("`Lambda`"));
    let web = plan(&[("AWS_PROFILE", "web")], config);
    assert!(
        matches!(web, Ok(CredentialPlan::WebIdentity { token_file, .. }) if token_file == Path::new("/var/token"))
    );
}

#[test]
fn documents_give_keys_and_expiry_without_showing_them_in_errors() {
    let document = KeysDocument::parse(
        br#"{"AccessKeyId":"ASIA","SecretAccessKey":"s","SessionToken":"t","Expiration":"2024-05-01T12:00:00Z","Version":1}"#,
        "test",
    );
    let keys = document.and_then(|document| document.into_keys("test"));
    let Ok(keys) = keys else { panic!("{keys:?}") };
    assert_eq!(keys.value.session_token.as_ref().map(Secret::expose), Some("t"));
    assert_eq!(keys.expires_at, Some(UNIX_EPOCH + Duration::from_secs(1_714_564_800)));
    let broken = KeysDocument::parse(br#"{"SecretAccessKey": "leaked-secret""#, "the agent").err();
    let text = broken.map(|error| error.to_string()).unwrap_or_default();
    assert!(text.contains("the agent") && !text.contains("leaked-secret"), "{text}");
    let incomplete =
        KeysDocument::parse(br#"{"AccessKeyId":"ASIA"}"#, "x").and_then(|document| document.into_keys("x"));
    assert!(incomplete.is_err());
}
