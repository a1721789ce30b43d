//! Signing tests: the SigV4 test-suite vectors that ship inside the `aws-sigv4` crate, run through our
//! signing path, and Converse requests whose signatures botocore computed independently.
//!
//! The vectors are read where cargo unpacked `aws-sigv4` (`$CARGO_HOME/registry/src/*/aws-sigv4-<version>/
//! aws-signing-test-suite/v4`, the version taken from `Cargo.lock`), not copied into this repository. They
//! come from AWS's CRT signing test suite, Apache-2.0 like this crate. The test fails when the folder
//! cannot be found, since a signing test that silently does nothing proves nothing.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

use serde_json::Value;
use vllora_llm_core::Secret;
use vllora_llm_http::{HeaderMap, HeaderName, HeaderValue};

use super::{SigningCredentials, SigningScope, sign_request};

/// The secret of the `AKIDEXAMPLE` key used throughout AWS's documentation and test suites.
const EXAMPLE_SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
/// The secret of the `ANOTREAL` key of `aws-credential-types`' `Credentials::for_tests()`, which the two
/// older double-encoding vectors were signed with.
const NOT_REAL_SECRET: &str = "notrealrnrELgWzOk3IfjzDKtFBhDby";

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn aws_sigv4_version() -> String {
    let lock = std::fs::read_to_string(workspace_root().join("Cargo.lock")).unwrap_or_default();
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == "name = \"aws-sigv4\"" {
            let version = lines.next().unwrap_or_default();
            return version.trim_start_matches("version = \"").trim_end_matches('"').to_owned();
        }
    }
    panic!("aws-sigv4 is not in Cargo.lock");
}

fn suite_directory() -> PathBuf {
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo")))
        .unwrap_or_default();
    let wanted = format!("aws-sigv4-{}", aws_sigv4_version());
    let registries = std::fs::read_dir(cargo_home.join("registry/src")).into_iter().flatten().flatten();
    for registry in registries {
        let candidate = registry.path().join(&wanted).join("aws-signing-test-suite/v4");
        if candidate.is_dir() {
            return candidate;
        }
    }
    panic!("the SigV4 test suite of {wanted} was not found under {}/registry/src", cargo_home.display());
}

/// A request of the suite: method, path, headers in order (folded lines kept as the suite wrote them).
struct SuiteRequest {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

fn parse_suite_request(text: &str) -> SuiteRequest {
    let (head, body) = text.split_once("\n\n").unwrap_or((text, ""));
    let mut lines = head.lines();
    let request_line = lines.next().unwrap_or_default();
    // The path may hold raw spaces: it runs from the first space to the protocol at the end.
    let (method, rest) = request_line.split_once(' ').unwrap_or((request_line, ""));
    let path = rest.rsplit_once(" HTTP/").map_or(rest, |(path, _)| path);
    let (method, path) = (method.to_owned(), path.to_owned());
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in lines {
        if line.starts_with([' ', '\t']) {
            if let Some(last) = headers.last_mut() {
                last.1.push('\n');
                last.1.push_str(line);
            }
        } else if let Some((name, value)) = line.split_once(':') {
            headers.push((name.to_owned(), value.trim_start().to_owned()));
        }
    }
    SuiteRequest { method, path, headers, body: body.as_bytes().to_vec() }
}

fn header<'a>(request: &'a SuiteRequest, name: &str) -> Option<&'a str> {
    request
        .headers
        .iter()
        .find(|(header, _)| header.eq_ignore_ascii_case(name))
        .map(|(_, value)| value.as_str())
}

/// `20150830T123600Z` as a time.
fn parse_amz_date(text: &str) -> std::time::SystemTime {
    let number = |range: std::ops::Range<usize>| {
        text.get(range).and_then(|part| part.parse::<i64>().ok()).unwrap_or(0)
    };
    let (year, month, day) = (number(0..4), number(4..6), number(6..8));
    let (hour, minute, second) = (number(9..11), number(11..13), number(13..15));
    // Days from the civil date (Howard Hinnant's algorithm), to avoid a date crate in tests.
    let shifted_year = if month <= 2 { year - 1 } else { year };
    let era = shifted_year.div_euclid(400);
    let year_of_era = shifted_year - era * 400;
    let day_of_year = (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    let days = era * 146_097 + day_of_era - 719_468;
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second;
    UNIX_EPOCH + Duration::from_secs(u64::try_from(seconds).unwrap_or(0))
}

enum Outcome {
    Signed { expected: String, actual: String },
    NotApplicable(&'static str),
}

fn run_vector(directory: &Path) -> Outcome {
    let read = |name: &str| std::fs::read_to_string(directory.join(name)).unwrap_or_default();
    let context: Value = serde_json::from_str(&read("context.json")).unwrap_or(Value::Null);
    if context["normalize"] == Value::Bool(false) {
        return Outcome::NotApplicable("unnormalised paths (we always normalise, as AWS does outside S3)");
    }
    if context["sign_body"] == Value::Bool(true) {
        return Outcome::NotApplicable("x-amz-content-sha256 header (an S3 setting)");
    }
    if context["omit_session_token"] == Value::Bool(true) {
        return Outcome::NotApplicable("session token added after signing (we sign it)");
    }
    let request = parse_suite_request(&read("request.txt"));
    let signed = parse_suite_request(&read("header-signed-request.txt"));
    let expected = header(&signed, "authorization").unwrap_or_default().to_owned();
    let scope: Vec<&str> = expected
        .split("Credential=")
        .nth(1)
        .and_then(|rest| rest.split(',').next())
        .map(|credential| credential.split('/').collect())
        .unwrap_or_default();
    let [access_key_id, _, region, service, _] = scope.as_slice() else {
        panic!("{}: no credential scope in {expected:?}", directory.display());
    };
    let secret = context["credentials"]["secret_access_key"]
        .as_str()
        .unwrap_or(if *access_key_id == "ANOTREAL" { NOT_REAL_SECRET } else { EXAMPLE_SECRET });
    let credentials = SigningCredentials {
        access_key_id: Secret::new(*access_key_id),
        secret_access_key: Secret::new(secret),
        session_token: context["credentials"]["token"].as_str().map(Secret::new),
    };
    let time = parse_amz_date(header(&signed, "x-amz-date").unwrap_or_default());
    let mut headers = HeaderMap::new();
    for (name, value) in &request.headers {
        if name.eq_ignore_ascii_case("host") {
            continue;
        }
        let (Ok(name), Ok(value)) = (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_str(value))
        else {
            return Outcome::NotApplicable("a header value no HTTP client can send (a folded line)");
        };
        headers.append(name, value);
    }
    // The suite feeds some paths raw (a space, UTF-8); on the wire a client percent-encodes them first,
    // which double encoding then encodes again, so those vectors describe a request we never send.
    if request.path.bytes().any(|byte| byte == b' ' || !byte.is_ascii()) {
        return Outcome::NotApplicable("a raw space or non-ASCII byte in the request path");
    }
    let path_only = request.path.split('?').next().unwrap_or_default();
    if !context.is_null() && path_only.contains('%') {
        return Outcome::NotApplicable(
            "an encoded path signed with single encoding (Bedrock, like every service but S3, needs double)",
        );
    }
    let url = format!("https://{}{}", header(&request, "host").unwrap_or_default(), request.path);
    let scope = SigningScope { region, service, time };
    if sign_request(&request.method, &url, &mut headers, &request.body, &credentials, scope).is_err() {
        return Outcome::NotApplicable("a request URI that does not parse");
    }
    let actual =
        headers.get("authorization").and_then(|value| value.to_str().ok()).unwrap_or_default().to_owned();
    Outcome::Signed { expected, actual }
}

#[test]
fn the_aws_sigv4_test_suite_passes_through_our_signing_path() {
    let directory = suite_directory();
    let mut vectors: Vec<PathBuf> = std::fs::read_dir(&directory)
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.join("header-signed-request.txt").is_file())
        .collect();
    vectors.sort();
    let mut signed = BTreeSet::new();
    let mut skipped = BTreeSet::new();
    for vector in &vectors {
        let name = vector.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
        match run_vector(vector) {
            Outcome::Signed { expected, actual } => {
                assert_eq!(actual, expected, "vector {name}");
                signed.insert(name);
            }
            Outcome::NotApplicable(reason) => {
                skipped.insert(format!("{name}: {reason}"));
            }
        }
    }
    // The double-encoding vectors are the ones Bedrock's model-id paths depend on.
    for must_pass in ["double-encode-path", "get-vanilla-with-session-token", "post-sts-header-before"] {
        assert!(signed.contains(must_pass), "{must_pass} did not run: {skipped:#?}");
    }
    let skipped_names: Vec<&str> = skipped.iter().filter_map(|line| line.split(':').next()).collect();
    assert_eq!(
        skipped_names,
        [
            "get-header-value-multiline",
            "get-relative-relative-unnormalized",
            "get-relative-unnormalized",
            "get-slash-dot-slash-unnormalized",
            "get-slash-pointless-dot-unnormalized",
            "get-slash-unnormalized",
            "get-slashes-unnormalized",
            "get-space-normalized",
            "get-space-unnormalized",
            "get-utf8",
            "get-vanilla-utf8-query",
            "post-sts-header-after",
            "post-x-www-form-urlencoded-parameters",
            "post-x-www-form-urlencoded",
        ],
        "{skipped:#?}"
    );
    assert_eq!(signed.len(), 26, "{signed:#?}");
}

#[test]
fn converse_requests_match_signatures_computed_by_botocore() {
    // converse_signatures.json was written by tests/fixtures/signing/botocore_sign.py (botocore's
    // SigV4Auth, clock fixed at 2024-05-01T12:00:00Z) for the body in converse_body.json.
    let fixtures = workspace_root().join("crates/vllora_llm_bedrock/tests/fixtures/signing");
    let body = std::fs::read_to_string(fixtures.join("converse_body.json")).unwrap_or_default();
    let body = body.trim_end().as_bytes();
    let cases: Value = serde_json::from_str(
        &std::fs::read_to_string(fixtures.join("converse_signatures.json")).unwrap_or_default(),
    )
    .unwrap_or(Value::Null);
    let Some(cases) = cases.as_object() else { panic!("no cases") };
    assert_eq!(cases.len(), 3);
    for (name, case) in cases {
        let credentials = SigningCredentials {
            access_key_id: Secret::new("AKIDEXAMPLE"),
            secret_access_key: Secret::new(EXAMPLE_SECRET),
            session_token: case["session_token"].as_str().map(Secret::new),
        };
        let mut headers = HeaderMap::new();
        headers.insert("content-type", HeaderValue::from_static("application/json"));
        let accept = case["accept"].as_str().unwrap_or_default();
        headers.insert("accept", HeaderValue::from_str(accept).unwrap_or(HeaderValue::from_static("")));
        let scope = SigningScope {
            region: "us-east-1",
            service: "bedrock",
            time: parse_amz_date("20240501T120000Z"),
        };
        let url = case["url"].as_str().unwrap_or_default();
        let result = sign_request("POST", url, &mut headers, body, &credentials, scope);
        assert!(result.is_ok(), "{name}: {result:?}");
        let header = |name: &str| headers.get(name).and_then(|value| value.to_str().ok()).map(str::to_owned);
        assert_eq!(header("authorization").as_deref(), case["authorization"].as_str(), "{name}");
        assert_eq!(header("x-amz-date").as_deref(), case["x-amz-date"].as_str(), "{name}");
        assert_eq!(header("x-amz-security-token").as_deref(), case["session_token"].as_str(), "{name}");
    }
}

#[test]
fn amz_dates_parse() {
    assert_eq!(parse_amz_date("19700101T000000Z"), UNIX_EPOCH);
    assert_eq!(parse_amz_date("20150830T123600Z"), UNIX_EPOCH + Duration::from_secs(1_440_938_160));
}
