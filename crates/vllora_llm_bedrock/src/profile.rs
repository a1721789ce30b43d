//! The shared AWS `credentials` and `config` files: just enough INI to read one profile's keys and region,
//! read through the caller's [`Environment`] (each file at most once).

use std::collections::BTreeMap;
use std::path::PathBuf;

use vllora_llm_core::Environment;

/// A variable that is set and not blank.
pub(crate) fn non_empty(env: &dyn Environment, name: &str) -> Option<String> {
    env.var(name).map(|value| value.trim().to_owned()).filter(|value| !value.is_empty())
}

/// The profile's sections of the shared `credentials` and `config` files (empty when absent). `Debug`
/// shows the name only: the sections hold keys.
#[derive(Default)]
pub(crate) struct SharedProfile {
    pub(crate) name: String,
    /// Whether either file has a section for the profile.
    pub(crate) found: bool,
    credentials: BTreeMap<String, String>,
    config: BTreeMap<String, String>,
    /// The files' text, for the profiles this one names (`source_profile`).
    files: SharedFiles,
}

impl std::fmt::Debug for SharedProfile {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("SharedProfile").field("name", &self.name).finish_non_exhaustive()
    }
}

/// The text of the shared `credentials` and `config` files, as read once. `Debug` shows the paths only.
#[derive(Default, Clone)]
pub(crate) struct SharedFiles {
    credentials: Option<String>,
    config: Option<String>,
    /// Where they were looked for, for messages.
    pub(crate) credentials_path: Option<PathBuf>,
    pub(crate) config_path: Option<PathBuf>,
}

impl std::fmt::Debug for SharedFiles {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("SharedFiles")
            .field("credentials_path", &self.credentials_path)
            .field("config_path", &self.config_path)
            .finish_non_exhaustive()
    }
}

impl SharedProfile {
    /// Reads `AWS_PROFILE` (default `default`) from the `credentials` file (`AWS_SHARED_CREDENTIALS_FILE`,
    /// else `~/.aws/credentials`) and the `config` file (`AWS_CONFIG_FILE`, else `~/.aws/config`): one read
    /// of each, through `env`.
    pub(crate) fn load(env: &dyn Environment) -> SharedProfile {
        let name = non_empty(env, "AWS_PROFILE").unwrap_or_else(|| "default".to_owned());
        let home = non_empty(env, "HOME").or_else(|| non_empty(env, "USERPROFILE")).map(PathBuf::from);
        let path = |variable: &str, default: &str| -> Option<PathBuf> {
            // `~/` is the home directory, as AWS's SDKs and CLI read these variables.
            Some(match non_empty(env, variable) {
                Some(set) => match (set.strip_prefix("~/"), home.as_ref()) {
                    (Some(relative), Some(home)) => home.join(relative),
                    _ => PathBuf::from(set),
                },
                None => home.as_ref()?.join(default),
            })
        };
        let credentials_path = path("AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials");
        let config_path = path("AWS_CONFIG_FILE", ".aws/config");
        let files = SharedFiles {
            credentials: credentials_path.as_deref().and_then(|path| env.read_file(path)),
            config: config_path.as_deref().and_then(|path| env.read_file(path)),
            credentials_path,
            config_path,
        };
        SharedProfile::named(files, name)
    }

    /// The profile `name` of files already read.
    pub(crate) fn named(files: SharedFiles, name: String) -> SharedProfile {
        let credentials =
            files.credentials.as_deref().and_then(|text| section(text, &name)).unwrap_or_default();
        let config = files.config.as_deref().and_then(|text| config_section(text, &name)).unwrap_or_default();
        let found = !credentials.is_empty() || !config.is_empty();
        SharedProfile { name, found, credentials, config, files }
    }

    /// Another profile of the same files (a `source_profile`).
    pub(crate) fn other(&self, name: &str) -> SharedProfile {
        SharedProfile::named(self.files.clone(), name.to_owned())
    }

    /// Where the shared files were looked for, for messages.
    pub(crate) fn files(&self) -> &SharedFiles {
        &self.files
    }

    /// A key from the credentials file, else from the config file (the AWS CLI accepts both).
    pub(crate) fn get(&self, key: &str) -> Option<String> {
        self.credentials.get(key).or_else(|| self.config.get(key)).filter(|value| !value.is_empty()).cloned()
    }

    /// The profile's `region` in the config file.
    pub(crate) fn region(&self) -> Option<String> {
        self.config.get("region").filter(|region| !region.is_empty()).cloned()
    }
}

/// The shared profile, loaded the first time it is needed and then kept: a configuration that the
/// environment variables settle reads no file at all, and none is read twice.
#[derive(Debug)]
pub(crate) struct LazyProfile<'a> {
    env: &'a dyn Environment,
    loaded: Option<SharedProfile>,
}

impl<'a> LazyProfile<'a> {
    pub(crate) fn new(env: &'a dyn Environment) -> Self {
        LazyProfile { env, loaded: None }
    }

    pub(crate) fn get(&mut self) -> &SharedProfile {
        let env = self.env;
        self.loaded.get_or_insert_with(|| SharedProfile::load(env))
    }
}

/// The keys of one section, merged over every occurrence of the section (later values win). Keys are
/// lowercased; nested sub-section lines (indented, as in `s3 =` blocks) are skipped.
pub(crate) fn section(text: &str, wanted: &str) -> Option<BTreeMap<String, String>> {
    let mut found: Option<BTreeMap<String, String>> = None;
    let mut in_wanted = false;
    for line in text.lines() {
        let indented = line.starts_with([' ', '\t']);
        let line = line.trim();
        if line.is_empty() || line.starts_with(['#', ';']) {
            continue;
        }
        if let Some(header) = line.strip_prefix('[') {
            let name = header.split(']').next().unwrap_or_default();
            in_wanted = normalise_spaces(name) == wanted;
            if in_wanted {
                found.get_or_insert_with(BTreeMap::new);
            }
            continue;
        }
        if !in_wanted || indented {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else { continue };
        if let Some(keys) = found.as_mut() {
            keys.insert(key.trim().to_ascii_lowercase(), without_comment(value).to_owned());
        }
    }
    found
}

/// A value without its trailing comment: AWS's SDKs read `#` or `;` after a space or tab as the start of
/// one (`region = us-west-2 # Oregon`), and keep them otherwise (`secret = ab#c`).
fn without_comment(value: &str) -> &str {
    let mut after_blank = false;
    for (index, character) in value.char_indices() {
        if after_blank && matches!(character, '#' | ';') {
            return value.get(..index).unwrap_or(value).trim();
        }
        after_blank = matches!(character, ' ' | '\t');
    }
    value.trim()
}

/// `[ profile  dev ]` and `[profile dev]` name the same section.
fn normalise_spaces(name: &str) -> String {
    name.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The section name of `profile` in the `config` file.
pub(crate) fn config_section_name(profile: &str) -> String {
    if profile == "default" { "default".to_owned() } else { format!("profile {profile}") }
}

/// The keys of `profile` in the `config` file. The default profile may be written `[default]` or
/// `[profile default]`; when both are there, AWS's SDKs take `[profile default]` alone.
pub(crate) fn config_section(text: &str, profile: &str) -> Option<BTreeMap<String, String>> {
    if profile == "default" {
        if let Some(keys) = section(text, "profile default") {
            return Some(keys);
        }
    }
    section(text, &config_section_name(profile))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = "\
# comment
[default]
region = us-west-2

[ profile  dev ]
region=eu-central-1
s3 =
  max_concurrent_requests = 20
; another comment
aws_access_key_id = AKIDDEV
[profile other]
region = ap-south-1
[profile dev]
output = json
";

    #[test]
    fn reads_one_profile_across_repeated_sections() {
        let dev = section(CONFIG, &config_section_name("dev")).unwrap_or_default();
        assert_eq!(dev.get("region").map(String::as_str), Some("eu-central-1"));
        assert_eq!(dev.get("aws_access_key_id").map(String::as_str), Some("AKIDDEV"));
        assert_eq!(dev.get("output").map(String::as_str), Some("json"));
        assert!(!dev.contains_key("max_concurrent_requests"));
        let default = section(CONFIG, &config_section_name("default")).unwrap_or_default();
        assert_eq!(default.get("region").map(String::as_str), Some("us-west-2"));
        assert_eq!(section(CONFIG, "profile missing"), None);
    }

    #[test]
    fn trailing_comments_are_not_part_of_values() {
        let text = "[default] ; the usual one\nregion = us-west-2 # Oregon\naws_secret_access_key = ab#c;d\n\
                    output=json\t; tabbed\n";
        let keys = section(text, "default").unwrap_or_default();
        assert_eq!(keys.get("region").map(String::as_str), Some("us-west-2"));
        assert_eq!(keys.get("aws_secret_access_key").map(String::as_str), Some("ab#c;d"));
        assert_eq!(keys.get("output").map(String::as_str), Some("json"));
    }

    #[test]
    fn the_default_profile_may_be_written_profile_default_in_config() {
        let prefixed = "[profile default]\nregion = eu-west-1\n";
        assert_eq!(
            config_section(prefixed, "default").and_then(|keys| keys.get("region").cloned()).as_deref(),
            Some("eu-west-1")
        );
        let both = "[default]\nregion = us-east-1\noutput = json\n[profile default]\nregion = eu-west-1\n";
        let keys = config_section(both, "default").unwrap_or_default();
        assert_eq!(keys.get("region").map(String::as_str), Some("eu-west-1"));
        assert_eq!(keys.get("output"), None, "[profile default] replaces [default] whole");
        let plain = "[default]\nregion = us-east-1\n";
        assert_eq!(
            config_section(plain, "default").and_then(|keys| keys.get("region").cloned()).as_deref(),
            Some("us-east-1")
        );
    }
}
