//! Repository hygiene, run by `cargo xtask tidy` and as an ordinary test (a plain `cargo test` at the root
//! runs it): every Rust file opens with a `//!` line; no test is ignored; library code has no panicking
//! calls; the seed examples are verbatim; every provider crate keeps the one provider contract of
//! docs/ARCHITECTURE.md (same files, same roles, same function shapes).

use std::fs;
use std::path::{Path, PathBuf};

use crate::util::workspace_root;

const SOURCE_ROOTS: &[&str] = &["crates", "examples", "xtask", "benches"];

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if path.file_name().is_some_and(|name| name == "target") {
                continue;
            }
            rust_files(&path, found);
        } else if path.extension().is_some_and(|extension| extension == "rs") {
            found.push(path);
        }
    }
}

fn all_rust_files(root: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for source_root in SOURCE_ROOTS {
        rust_files(&root.join(source_root), &mut found);
    }
    found.sort();
    found
}

/// Library code: `crates/*/src`, except the test kit, which exists to serve tests.
fn is_library_source(root: &Path, path: &Path) -> bool {
    let Ok(relative) = path.strip_prefix(root.join("crates")) else { return false };
    let mut components = relative.components();
    let crate_name = components.next().map(|component| component.as_os_str().to_string_lossy().into_owned());
    let in_src = components.next().is_some_and(|component| component.as_os_str() == "src");
    // `src/**/*_tests.rs` and `src/**/tests/` hold `#[cfg(test)]` modules kept out of the code's file.
    let is_test_module = path.file_name().is_some_and(|name| name.to_string_lossy().ends_with("_tests.rs"))
        || relative.components().any(|component| component.as_os_str() == "tests");
    in_src && !is_test_module && crate_name.is_some_and(|name| name != "vllora_llm_testkit")
}

/// The code before the first test module (`#[cfg(test)]` then `mod`): tests live at the end of a file by
/// convention. A test-only item elsewhere (a `#[cfg(test)]` method) stays in the code looked at.
fn non_test_code(text: &str) -> &str {
    let markers = [concat!("#[cfg", "(test)]"), concat!("#[cfg", "(all(test")];
    let is_module = |position: usize| {
        let after = &text[position..];
        let attribute_end = after.find(']').map_or(after.len(), |end| end + 1);
        let rest = after[attribute_end..].trim_start();
        rest.starts_with("mod ") || rest.starts_with("pub mod ") || rest.starts_with("pub(crate) mod ")
    };
    let start = markers
        .iter()
        .flat_map(|marker| text.match_indices(marker).map(|(position, _)| position))
        .filter(|&position| is_module(position))
        .min();
    start.map_or(text, |position| &text[..position])
}

const PANICKING_CALLS: &[&str] =
    &[".unwrap()", ".expect(", "panic!(", "todo!(", "unimplemented!(", "unreachable!(", "dbg!("];

pub fn problems() -> Vec<String> {
    let root = workspace_root();
    let mut problems = Vec::new();
    let ignore_attribute = concat!("#[", "ignore");
    for path in all_rust_files(&root) {
        let display = path.strip_prefix(&root).unwrap_or(&path).display().to_string();
        let Ok(text) = fs::read_to_string(&path) else {
            problems.push(format!("{display}: cannot be read"));
            continue;
        };
        if !text.starts_with("//!") {
            problems.push(format!("{display}: does not open with a `//!` line saying what it is for"));
        }
        if text.contains(ignore_attribute) {
            problems.push(format!("{display}: has an ignored test"));
        }
        if is_library_source(&root, &path) {
            for (number, line) in non_test_code(&text).lines().enumerate() {
                let code = line.split("//").next().unwrap_or(line);
                if let Some(call) = PANICKING_CALLS.iter().find(|call| code.contains(*call)) {
                    problems.push(format!("{display}:{}: `{call}` in library code", number + 1));
                }
            }
        }
    }
    problems.extend(seed_example_problems(&root));
    problems.extend(async_openai_example_problems(&root));
    problems.extend(contract_problems(&root));
    problems
}

/// The provider crates, which all follow one contract.
const PROVIDER_CRATES: &[&str] =
    &["vllora_llm_openai", "vllora_llm_anthropic", "vllora_llm_gemini", "vllora_llm_bedrock"];

/// The files every provider crate has, each with its one role (docs/ARCHITECTURE.md).
const CONTRACT_FILES: &[&str] = &[
    "src/lib.rs",
    "src/config.rs",
    "src/wire.rs",
    "src/request/mod.rs",
    "src/request/messages.rs",
    "src/request/tools.rs",
    "src/request/options.rs",
    "src/endpoint.rs",
    "src/response.rs",
    "src/stream.rs",
    "src/error.rs",
    "src/model.rs",
    "src/fuzzing.rs",
];

/// The fixture folders a provider crate may have: one naming scheme everywhere.
const FIXTURE_FOLDERS: &[&str] = &["requests", "responses", "streams", "signing"];

/// The one signature of every provider's error mapper.
const ERROR_MAPPER: &str =
    "pub(crate) fn map_error(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> LLMError";

/// What each role's file must contain (`(file, needle, what it means)`), and must not contain.
const REQUIRED: &[(&str, &str, &str)] = &[
    ("src/lib.rs", "pub const PROVIDER: ProviderId", "the provider's identity, a `ProviderId`"),
    ("src/error.rs", ERROR_MAPPER, "the error mapper with the one signature"),
    ("src/stream.rs", "StreamDecoder for", "a `StreamDecoder` for the one stream driver"),
    ("src/model.rs", "impl ModelInstance for", "the `ModelInstance` implementation"),
    ("src/fuzzing.rs", "decode_pieces", "a fuzz body that drives the shipped driver (`decode_pieces`)"),
    ("src/request/mod.rs", "let ChatCompletionRequest {", "an exhaustive destructuring of the request"),
];

const FORBIDDEN: &[(&str, &str, &str)] = &[
    ("src/config.rs", "HttpRequest", "HTTP request building belongs in endpoint.rs; config.rs is data"),
    ("src/config.rs", "sign(", "signing belongs in endpoint.rs/sign.rs; config.rs is data"),
    ("src/model.rs", "HttpRequest::", "model.rs orchestrates; requests are built in endpoint.rs"),
    (
        "src/model.rs",
        "serde_json::",
        "model.rs orchestrates; JSON is read and written by request/ and response.rs",
    ),
];

fn contract_problems(root: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    for name in PROVIDER_CRATES {
        let crate_root = root.join("crates").join(name);
        for file in CONTRACT_FILES {
            if !crate_root.join(file).is_file() {
                problems.push(format!("crates/{name}/{file}: missing (the provider contract)"));
            }
        }
        let code = |file: &str| {
            fs::read_to_string(crate_root.join(file)).map(|text| non_test_code(&text).to_owned()).ok()
        };
        for (file, needle, meaning) in REQUIRED {
            if code(file).is_some_and(|text| !text.contains(needle)) {
                problems.push(format!("crates/{name}/{file}: lacks {meaning} (`{needle}`)"));
            }
        }
        for (file, needle, why) in FORBIDDEN {
            if code(file).is_some_and(|text| text.contains(needle)) {
                problems.push(format!("crates/{name}/{file}: contains `{needle}`: {why}"));
            }
        }
        if let Some(text) = code("src/request/mod.rs") {
            if let Some(start) = text.find("let ChatCompletionRequest {") {
                let pattern = text[start..].split("} = ").next().unwrap_or_default();
                if pattern.contains("..") {
                    problems.push(format!(
                        "crates/{name}/src/request/mod.rs: the request is destructured with `..`, so a new \
                         field would compile unmapped"
                    ));
                }
            }
        }
        let mut sources = Vec::new();
        rust_files(&crate_root.join("src"), &mut sources);
        for path in sources.into_iter().filter(|path| is_library_source(root, path)) {
            let display = path.strip_prefix(root).unwrap_or(&path).display().to_string();
            let Ok(text) = fs::read_to_string(&path) else { continue };
            let text = non_test_code(&text);
            if text.contains("fn poll_next") || text.contains(" Stream for ") {
                problems
                    .push(format!("{display}: implements `Stream` itself; streams run on the one driver"));
            }
            for call in ["std::env::var", "std::fs::"] {
                if text.contains(call) {
                    problems.push(format!(
                        "{display}: `{call}`: configuration is read through `Environment`, once"
                    ));
                }
            }
        }
        if let Ok(entries) = fs::read_dir(crate_root.join("tests/fixtures")) {
            for entry in entries.flatten() {
                let folder = entry.file_name().to_string_lossy().into_owned();
                if !FIXTURE_FOLDERS.contains(&folder.as_str()) {
                    problems.push(format!(
                        "crates/{name}/tests/fixtures/{folder}: fixtures live in {FIXTURE_FOLDERS:?}"
                    ));
                }
            }
        }
    }
    problems
}

/// The Rust code blocks of the usage guide, whitespace-insensitive, against the example binaries.
fn seed_example_problems(root: &Path) -> Vec<String> {
    let seed = root.join("../shared/seeds/001_57624c6bc5d68e09.txt");
    let Ok(guide) = fs::read_to_string(&seed) else {
        println!("tidy: {} not found; seed examples not compared", seed.display());
        return Vec::new();
    };
    let blocks = rust_blocks(&guide);
    let examples = [("seed_basic_usage", 0), ("seed_streaming", 1)];
    let mut problems = Vec::new();
    if blocks.len() < examples.len() {
        problems.push(format!(
            "expected {} code blocks in the usage guide, found {}",
            examples.len(),
            blocks.len()
        ));
        return problems;
    }
    for (example, block) in examples {
        let path = root.join(format!("examples/{example}/src/main.rs"));
        let Ok(text) = fs::read_to_string(&path) else {
            problems.push(format!("{}: missing", path.display()));
            continue;
        };
        let body: String =
            text.lines().filter(|line| !line.starts_with("//!")).collect::<Vec<_>>().join("\n");
        if squash(&body) != squash(&blocks[block]) {
            problems
                .push(format!("examples/{example}/src/main.rs differs from the usage guide's code block"));
        }
    }
    problems
}

/// The documents' "Quick start with async-openai-compatible types" program. The published page
/// (`../shared/seeds/000_*.txt`) kept its prose and the last segment of each `use` line only (`use ;` for a
/// braced list), so: the example's body must equal the program in docs/async-openai.md
/// (whitespace-insensitive, inner attributes aside), and that program's `use` lines, rendered the way
/// the page renders them, must be the page's.
fn async_openai_example_problems(root: &Path) -> Vec<String> {
    const HEADING: &str = "Quick start with async-openai-compatible types";
    let mut problems = Vec::new();
    let Ok(docs) = fs::read_to_string(root.join("docs/async-openai.md")) else {
        return vec![
            "docs/async-openai.md: missing (it holds the documents' async-openai program)".to_owned(),
        ];
    };
    let Some(program) = docs.split("```rust\n").nth(1).and_then(|rest| rest.split("\n```").next()) else {
        return vec!["docs/async-openai.md: no ```rust block".to_owned()];
    };
    match fs::read_to_string(root.join("examples/async_openai/src/main.rs")) {
        Ok(text) => {
            let body: String = text
                .lines()
                .filter(|line| !line.starts_with("//!") && !line.starts_with("#!["))
                .collect::<Vec<_>>()
                .join("\n");
            if squash(&body) != squash(program) {
                problems.push(
                    "examples/async_openai/src/main.rs differs from docs/async-openai.md's program"
                        .to_owned(),
                );
            }
        }
        Err(_) => problems.push("examples/async_openai/src/main.rs: missing".to_owned()),
    }
    let seeds = fs::read_dir(root.join("../shared/seeds")).into_iter().flatten().flatten();
    let Some(page) =
        seeds.filter_map(|entry| fs::read_to_string(entry.path()).ok()).find(|text| text.contains(HEADING))
    else {
        println!("tidy: no seed page with \"{HEADING}\"; the async-openai program's imports not compared");
        return problems;
    };
    let section = page.split(HEADING).nth(1).unwrap_or_default();
    let published: Vec<&str> = section
        .lines()
        .skip_while(|line| !line.starts_with("use "))
        .take_while(|line| line.starts_with("use "))
        .collect();
    let ours: Vec<String> =
        program.lines().filter(|line| line.starts_with("use ")).map(rendered_use).collect();
    if published.is_empty() || ours != published {
        problems.push(format!(
            "docs/async-openai.md's imports render as {ours:?}, the published page shows {published:?}"
        ));
    }
    problems
}

/// A `use` line as the published page renders it: the last path segment, or nothing for a braced list.
fn rendered_use(line: &str) -> String {
    if line.contains('{') {
        return "use ;".to_owned();
    }
    let path = line.trim_start_matches("use ").trim_end_matches(';');
    format!("use {};", path.rsplit("::").next().unwrap_or(path))
}

/// Code blocks of the guide: from `use std::sync::Arc;` to the closing `Ok(())\n}`.
fn rust_blocks(guide: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut rest = guide;
    while let Some(start) = rest.find("use std::sync::Arc;") {
        let after = &rest[start..];
        let Some(end) = after.find("Ok(())\n}") else { break };
        let end = end + "Ok(())\n}".len();
        blocks.push(after[..end].to_owned());
        rest = &after[end..];
    }
    blocks
}

/// Removes all whitespace and trailing commas before closing brackets (rustfmt's only changes).
fn squash(code: &str) -> String {
    let compact: String = code.chars().filter(|character| !character.is_whitespace()).collect();
    compact.replace(",)", ")").replace(",]", "]").replace(",}", "}")
}

pub fn run() -> Result<(), String> {
    let problems = problems();
    if problems.is_empty() {
        println!("tidy: ok");
        Ok(())
    } else {
        Err(format!("tidy found {} problems:\n{}", problems.len(), problems.join("\n")))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_repository_is_tidy() {
        let problems = super::problems();
        assert!(problems.is_empty(), "tidy found problems:\n{}", problems.join("\n"));
    }

    #[test]
    fn use_lines_render_as_the_published_page_shows_them() {
        assert_eq!(super::rendered_use("use futures::StreamExt;"), "use StreamExt;");
        assert_eq!(super::rendered_use("use vllora_llm::error::LLMResult;"), "use LLMResult;");
        assert_eq!(super::rendered_use("use async_openai::types::chat::{"), "use ;");
    }

    #[test]
    fn squash_ignores_formatting_only() {
        assert_eq!(super::squash("f(a,\n  b,\n)"), super::squash("f(a, b)"));
        assert_ne!(super::squash("f(a, b)"), super::squash("f(b, a)"));
    }
}
