//! `cargo xtask`: the project's automation, in Rust with no dependencies.
//!
//! - `ci`: everything CI checks (format, clippy, tests, docs, each provider feature alone, conformance,
//!   the seed examples).
//! - `demo`: the main job, a real answer streamed from a local model (or OpenAI with a key).
//! - `e2e`: end-to-end checks against a real local LLM server (llama.cpp).
//! - `bench`: CPU, allocations and memory against raw hyper baselines.
//! - `conformance`: validates the request bodies and canned responses the tests recorded against the
//!   providers' published schemas (`../shared/conformance`).

mod async_openai_example;
mod bench;
mod conformance;
mod crate_counts;
mod demo;
mod e2e;
mod fresh;
mod llama;
mod mcp;
mod otlp;
mod progress;
mod release;
mod tidy;
mod util;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((command, rest)) = args.split_first() else {
        eprintln!("{USAGE}");
        return ExitCode::FAILURE;
    };
    let outcome = match command.as_str() {
        "ci" => ci(rest),
        "conformance" => conformance::run(),
        "tidy" => tidy::run(),
        "fresh" => fresh::run(),
        "codegen" => codegen(),
        "demo" => demo::run(rest),
        "e2e" => e2e::run(),
        "mcp" => mcp::run(rest),
        "otlp" => otlp::run(),
        "release" => release::run(rest),
        "bench" => bench::run(rest),
        "help" | "--help" | "-h" => {
            println!("{USAGE}");
            Ok(())
        }
        other => Err(format!("unknown command `{other}`\n{USAGE}")),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

const USAGE: &str = "usage: cargo xtask <command>
  demo [QUESTION] stream a real answer from a local model (OpenAI with VLLORA_OPENAI_API_KEY)
  e2e           end-to-end checks against a real local LLM server (and otlp)
  otlp          the tracing_otlp example against Arize Phoenix and a local model
  release [patch|minor|major|X.Y.Z] [--execute] [--allow-dirty]
                bump, changelog, package and verify every crate (dry run); --execute publishes and tags
  bench         benchmarks against raw hyper baselines
  ci            format, clippy, tests, docs, feature matrix, conformance, seed examples
  mcp [setup|test] install the real MCP test servers into target/mcp; test: run the MCP tests
  conformance   validate recorded request bodies with ../shared/conformance/validate.py
  tidy          repository hygiene checks (also run as a test)
  fresh         clippy -D warnings against freshly resolved dependencies (no Cargo.lock)
  codegen       regenerate docs/supported-parameters.md from what the providers do";

/// The facade's provider features, each of which must build alone.
const PROVIDER_FEATURES: &[&str] = &["openai", "anthropic", "gemini", "bedrock", "vertex", "azure"];

fn ci(args: &[String]) -> Result<(), String> {
    let skip_lints = args.iter().any(|arg| arg == "--no-lints");
    if !skip_lints {
        util::step("format", util::cargo(&["fmt", "--all", "--check"]))?;
        util::step(
            "clippy",
            util::cargo(&["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]),
        )?;
        fresh::run()?;
    }
    crate_counts::run(false)?;
    mcp::setup()?;
    conformance::clear_recordings()?;
    let mut totals = CiTotals::default();
    totals.tests("tests", util::cargo(&["test", "--workspace"]))?;
    totals.tests(
        "facade without providers",
        util::cargo(&["test", "-p", "vllora_llm", "--no-default-features"]),
    )?;
    // Each feature alone, and none, must build without a warning (code only one provider uses, left
    // unused, warns): clippy with -D warnings, or check when lints are skipped.
    let (verb, deny): (&str, &[&str]) =
        if skip_lints { ("check", &[]) } else { ("clippy", &["--", "-D", "warnings"]) };
    util::step(
        "facade without providers, no warning",
        util::cargo(&[&[verb, "-p", "vllora_llm", "--no-default-features"], deny].concat()),
    )?;
    for feature in PROVIDER_FEATURES {
        let label = format!("facade with only `{feature}`");
        util::step(
            &label,
            util::cargo(
                &[&[verb, "-p", "vllora_llm", "--no-default-features", "--features", feature], deny].concat(),
            ),
        )?;
    }
    mcp::check(skip_lints)?;
    if !skip_lints {
        let mut docs = util::cargo(&["doc", "--workspace", "--no-deps", "--exclude", "xtask"]);
        docs.env("RUSTDOCFLAGS", "-D warnings");
        util::step("docs", docs)?;
    }
    for example in ["seed_basic_usage", "seed_streaming"] {
        let output =
            util::capture(util::cargo(&["run", "--quiet", "-p", &format!("vllora_llm_example_{example}")]))?;
        if !output.contains("Hello from DummyModelInstance!") {
            return Err(format!("example {example} did not print the dummy's reply: {output:?}"));
        }
        println!("example {example}: {}", output.trim());
        totals.examples += 1;
    }
    let (documents, kinds) = conformance::run_counted()?;
    println!(
        "ci: ok. {} tests passed ({} ignored) in {} test runs, {} seed examples, {documents} conformance \
         documents valid in {kinds} kinds{}",
        totals.passed,
        totals.ignored,
        totals.runs,
        totals.examples,
        if skip_lints {
            "; format, clippy and docs skipped (--no-lints)"
        } else {
            "; format, clippy, fresh clippy and docs clean"
        }
    );
    release::mark_ci_green();
    Ok(())
}

/// What `ci` counted, for its closing line.
#[derive(Debug, Default)]
struct CiTotals {
    passed: usize,
    ignored: usize,
    runs: usize,
    examples: usize,
}

impl CiTotals {
    /// Runs a `cargo test` step, its output streamed, and adds up its `test result:` lines.
    fn tests(&mut self, label: &str, command: std::process::Command) -> Result<(), String> {
        let outcome = progress::step(label, command, progress::Show::All)?;
        for line in &outcome.stdout {
            if let Some((passed, ignored)) = test_result(line) {
                self.passed += passed;
                self.ignored += ignored;
                self.runs += 1;
            }
        }
        Ok(())
    }
}

/// `test result: ok. 12 passed; 0 failed; 1 ignored; ...`: the passed and ignored counts.
fn test_result(line: &str) -> Option<(usize, usize)> {
    let rest = line.trim().strip_prefix("test result: ")?;
    let count = |what: &str| -> Option<usize> {
        rest.split(['.', ';']).find_map(|part| part.trim().strip_suffix(what)?.trim().parse().ok())
    };
    Some((count(" passed")?, count(" ignored").unwrap_or(0)))
}

/// Regenerates the parameter table; the same test fails in `ci` when the file has drifted.
fn codegen() -> Result<(), String> {
    let mut command =
        util::cargo(&["test", "-p", "vllora_llm", "--test", "supported_parameters", "--test", "reliability"]);
    command.env("VLLORA_UPDATE_GENERATED", "1");
    util::step("regenerate docs/supported-parameters.md and docs/reliability.md's fault matrix", command)?;
    crate_counts::run(true)
}

#[cfg(test)]
mod tests {
    #[test]
    fn test_results_are_counted() {
        let line =
            "test result: ok. 12 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.04s";
        assert_eq!(super::test_result(line), Some((12, 1)));
        assert_eq!(super::test_result("running 12 tests"), None);
    }
}
