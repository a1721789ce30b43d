//! `cargo xtask release [patch|minor|major|X.Y.Z] [--execute] [--allow-dirty]`: a release in one command.
//!
//! A dry run unless `--execute`. Both:
//! 1. check that the tree is clean and that CI is green for this commit (the mark `cargo xtask ci`
//!    leaves in `target/ci-green`, or a run of `cargo xtask ci` now). `--execute` refuses a dirty tree; a
//!    dry run reports it and goes on with the committed tree, and with `--allow-dirty` also without a
//!    green CI;
//! 2. compute the next version and bump `[workspace.package] version` and every exact internal pin
//!    (`version = "=x.y.z"` in `[workspace.dependencies]`) in lockstep, refusing a publishable crate that
//!    has its own version or a pin that does not match;
//! 3. write the `CHANGELOG.md` section from the subjects of the commits since the last `v*` tag;
//! 4. list the publishable crates in dependency order and package and verify all of them with
//!    `cargo publish --workspace --dry-run` (each is built from its packaged sources, against the
//!    others' packages, as crates.io will see them).
//!
//! The dry run does 2-4 in a copy of the committed tree (`git archive HEAD`) under `target/release/`,
//! so the working tree is never touched; the new `Cargo.toml` and `CHANGELOG.md` are left there to read.
//! `--execute` applies them to the working tree, commits `Release vX.Y.Z`, publishes in dependency
//! order (`cargo publish --workspace`, which waits for each crate to reach the index before the next)
//! and tags `vX.Y.Z`. Pushing the commit and the tag is left to the releaser.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::progress::{self, Show};
use crate::util::{cargo, workspace_root};

/// Where `cargo xtask ci` leaves the commit it passed on (see [`mark_ci_green`]).
const CI_MARK: &str = "target/ci-green";
/// Where the dry run works.
const WORK: &str = "target/release";
/// The changelog's head, kept above every section.
const CHANGELOG_HEAD: &str = "# Changelog\n\nEvery published crate of the workspace shares one version. Each section is written by \
`cargo xtask release` from the subjects of the commits since the previous release tag.\n";

/// What cargo prints while packaging and publishing.
const PUBLISH_PROGRESS: Show = Show::Starting(&[
    "Packaging",
    "Packaged",
    "Verifying",
    "Compiling vllora",
    "Finished",
    "Uploading",
    "Uploaded",
    "Published",
    "Waiting",
    "warning: aborting",
    "error",
]);

/// A version `major.minor.patch`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Version(u64, u64, u64);

impl Version {
    fn parse(text: &str) -> Option<Version> {
        let mut parts = text.trim().split('.').map(|part| part.parse::<u64>().ok());
        let version = Version(parts.next()??, parts.next()??, parts.next()??);
        parts.next().is_none().then_some(version)
    }

    /// The next version for `bump`: `patch`, `minor`, `major` or an explicit higher version.
    fn bump(self, bump: &str) -> Result<Version, String> {
        let Version(major, minor, patch) = self;
        let next = match bump {
            "patch" => Version(major, minor, patch.saturating_add(1)),
            "minor" => Version(major, minor.saturating_add(1), 0),
            "major" => Version(major.saturating_add(1), 0, 0),
            explicit => Version::parse(explicit)
                .ok_or_else(|| format!("`{explicit}` is neither patch, minor, major nor a version x.y.z"))?,
        };
        if next <= self {
            return Err(format!("{next} is not after the current version {self}"));
        }
        Ok(next)
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "{}.{}.{}", self.0, self.1, self.2)
    }
}

/// The options of one run.
#[derive(Debug)]
struct Options {
    bump: String,
    execute: bool,
    allow_dirty: bool,
}

fn options(args: &[String]) -> Result<Options, String> {
    let mut options = Options { bump: "patch".to_owned(), execute: false, allow_dirty: false };
    for arg in args {
        match arg.as_str() {
            "--execute" => options.execute = true,
            "--allow-dirty" => options.allow_dirty = true,
            "--dry-run" => {}
            flag if flag.starts_with("--") => return Err(format!("unknown release option `{flag}`")),
            bump => options.bump = bump.to_owned(),
        }
    }
    if options.execute && options.allow_dirty {
        return Err(
            "--execute releases only a clean, CI-green tree: --allow-dirty is for dry runs".to_owned()
        );
    }
    Ok(options)
}

/// Runs the release (a dry run unless `--execute`).
pub fn run(args: &[String]) -> Result<(), String> {
    let options = options(args)?;
    let root = workspace_root();
    let manifest_path = root.join("Cargo.toml");
    let manifest = read(&manifest_path)?;
    let current = workspace_version(&manifest)?;
    let last_tag = git(&root, &["describe", "--tags", "--abbrev=0", "--match", "v[0-9]*"]).ok();
    // The first release may be the current version itself (`cargo xtask release 0.1.0`).
    let first_at_current = last_tag.is_none() && Version::parse(&options.bump) == Some(current);
    let next = if first_at_current { current } else { current.bump(&options.bump)? };
    let mode = if options.execute { "publishing" } else { "dry run; --execute publishes" };
    println!("==> release {current} -> {next} ({mode})");

    let head = git(&root, &["rev-parse", "HEAD"])?;
    let dirty = git(&root, &["status", "--porcelain", "--untracked-files=no"])?;
    if dirty.is_empty() {
        println!("    the working tree is clean at {}", &head[..head.len().min(12)]);
    } else if options.execute {
        return Err(format!("the working tree has uncommitted changes:\n{dirty}"));
    } else {
        // A dry run packages the committed tree whatever the working tree holds, and says what a release
        // would refuse.
        println!("    warning: uncommitted changes, which a release (--execute) refuses:\n{dirty}");
    }
    ci_green(&root, &head, &options)?;

    let crates = publishable_crates(&root)?;
    let order = dependency_order(&crates)?;
    println!("    publishable crates in dependency order: {}", order.join(", "));
    let bumped = bump_manifest(&manifest, current, next, &crates)?;
    println!("    {} exact internal pins move to ={next}", bumped.pins);

    let range = last_tag.as_ref().map_or_else(|| "HEAD".to_owned(), |tag| format!("{tag}..HEAD"));
    let subjects = git(&root, &["log", "--no-merges", "--format=%s", &range])?;
    let date = today()?;
    let section = changelog_section(next, &date, last_tag.as_deref(), subjects.lines());
    let changelog =
        with_section(&fs::read_to_string(root.join("CHANGELOG.md")).unwrap_or_default(), &section);
    let count = section.lines().filter(|line| line.starts_with("- ")).count();
    println!(
        "    CHANGELOG.md gains `## {next}` with {count} entries (commits since {})",
        last_tag.as_deref().unwrap_or("the first commit")
    );

    if options.execute {
        execute(&root, next, &bumped.text, &changelog)
    } else {
        dry_run(&root, next, &bumped.text, &changelog)
    }
}

/// Packages and verifies every publishable crate in a copy of the committed tree with the new versions.
fn dry_run(root: &Path, next: Version, manifest: &str, changelog: &str) -> Result<(), String> {
    let work = root.join(WORK);
    let copy = work.join("workspace");
    if copy.exists() {
        fs::remove_dir_all(&copy).map_err(|error| format!("cannot clear {}: {error}", copy.display()))?;
    }
    fs::create_dir_all(&copy).map_err(|error| format!("cannot create {}: {error}", copy.display()))?;
    let archive = work.join("head.tar");
    let mut export = Command::new("git");
    export.current_dir(root).args(["archive", "--format=tar", "-o"]).arg(&archive).arg("HEAD");
    run_quiet("git archive HEAD", export)?;
    let mut unpack = Command::new("tar");
    unpack.arg("-xf").arg(&archive).arg("-C").arg(&copy);
    run_quiet("unpack the committed tree", unpack)?;
    write(&copy.join("Cargo.toml"), manifest)?;
    write(&copy.join("CHANGELOG.md"), changelog)?;
    clear_packages(root, next)?;
    let mut publish = cargo(&["publish", "--workspace", "--dry-run", "--color", "never"]);
    // Registry dependencies compiled for the workspace are reused; the packages are verified in
    // target/package.
    publish.current_dir(&copy).env("CARGO_TARGET_DIR", root.join("target"));
    progress::step(
        "package and verify every publishable crate (cargo publish --workspace --dry-run)",
        publish,
        PUBLISH_PROGRESS,
    )?;
    println!("release dry run: ok. The new Cargo.toml and CHANGELOG.md are in {}", copy.display());
    Ok(())
}

/// Makes cargo verify each package from its new sources. Cargo puts the packages in a local registry
/// under `target/package`, unpacks them into `$CARGO_HOME/registry/src/-<hash of that path>/` and builds
/// them as registry crates, whose sources it takes to never change: an earlier run of the same version
/// would leave unpacked sources and build fingerprints it reuses. Those of this workspace's crates at
/// `next` are removed (nothing else).
fn clear_packages(root: &Path, next: Version) -> Result<(), String> {
    let remove = |path: &Path| {
        fs::remove_dir_all(path).map_err(|error| format!("cannot clear {}: {error}", path.display()))
    };
    let packages = root.join("target/package");
    if packages.exists() {
        remove(&packages)?;
    }
    for entry in fs::read_dir(root.join("target/debug/.fingerprint")).into_iter().flatten().flatten() {
        if entry.file_name().to_string_lossy().starts_with("vllora_llm") {
            remove(&entry.path())?;
        }
    }
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cargo")));
    let suffix = format!("-{next}");
    let sources = cargo_home.map(|home| home.join("registry/src"));
    // Local registries are the ones whose folder starts with `-` (no host name).
    for registry in sources.iter().flat_map(fs::read_dir).flatten().flatten() {
        if !registry.file_name().to_string_lossy().starts_with('-') {
            continue;
        }
        for unpacked in fs::read_dir(registry.path()).into_iter().flatten().flatten() {
            let name = unpacked.file_name().to_string_lossy().into_owned();
            if name.starts_with("vllora_llm") && name.ends_with(&suffix) {
                remove(&unpacked.path())?;
            }
        }
    }
    Ok(())
}

/// Applies the release to the working tree, commits it, publishes and tags.
fn execute(root: &Path, next: Version, manifest: &str, changelog: &str) -> Result<(), String> {
    write(&root.join("Cargo.toml"), manifest)?;
    write(&root.join("CHANGELOG.md"), changelog)?;
    // Cargo.lock follows the new versions (workspace members only; nothing is re-resolved).
    progress::step("update Cargo.lock", cargo(&["update", "--workspace", "--offline"]), Show::All)?;
    clear_packages(root, next)?;
    let mut verify = cargo(&["publish", "--workspace", "--dry-run", "--allow-dirty", "--color", "never"]);
    verify.current_dir(root);
    progress::step("package and verify every publishable crate", verify, PUBLISH_PROGRESS)?;
    let tag = format!("v{next}");
    let mut commit = Command::new("git");
    commit.current_dir(root).args([
        "commit",
        "-m",
        &format!("Release {tag}"),
        "--",
        "Cargo.toml",
        "Cargo.lock",
        "CHANGELOG.md",
    ]);
    run_quiet("commit the release", commit)?;
    let mut publish = cargo(&["publish", "--workspace", "--color", "never"]);
    publish.current_dir(root);
    progress::step("publish in dependency order (cargo publish --workspace)", publish, PUBLISH_PROGRESS)?;
    let mut tagging = Command::new("git");
    tagging.current_dir(root).args(["tag", "-a", &tag, "-m", &format!("Release {tag}")]);
    run_quiet("tag the release", tagging)?;
    println!("released {tag}: push it with `git push origin HEAD {tag}`");
    Ok(())
}

/// Green when `cargo xtask ci` passed on this very commit (for `--execute`, with a clean tree);
/// otherwise `cargo xtask ci` runs now, unless a dry run was given `--allow-dirty`.
fn ci_green(root: &Path, head: &str, options: &Options) -> Result<(), String> {
    let mark = fs::read_to_string(root.join(CI_MARK)).unwrap_or_default();
    let mut lines = mark.lines();
    let (marked, state) = (lines.next().unwrap_or_default(), lines.next().unwrap_or_default());
    if marked == head && (state == "clean" || !options.execute) {
        println!("    CI is green for this commit (cargo xtask ci passed on it, {state} tree)");
        return Ok(());
    }
    if !options.execute && options.allow_dirty {
        println!("    warning: CI not verified for this commit (--allow-dirty: the dry run goes on)");
        return Ok(());
    }
    println!("    no green `cargo xtask ci` recorded for this commit: running it");
    let mut ci = cargo(&["xtask", "ci"]);
    ci.current_dir(root);
    progress::step("cargo xtask ci", ci, Show::All).map(|_| ())
}

/// Records that `cargo xtask ci` passed on the current commit, and whether the tree was clean (only a
/// clean tree's mark lets `--execute` skip running ci again).
pub fn mark_ci_green() {
    let root = workspace_root();
    let (Ok(head), Ok(dirty)) =
        (git(&root, &["rev-parse", "HEAD"]), git(&root, &["status", "--porcelain", "--untracked-files=no"]))
    else {
        return;
    };
    let state = if dirty.is_empty() { "clean" } else { "dirty" };
    let _ = fs::write(root.join(CI_MARK), format!("{head}\n{state}\n"));
}

/// A publishable crate: its name, its folder and the workspace crates it depends on (normal and build
/// dependencies; dev-dependencies are not published).
#[derive(Debug)]
struct Crate {
    name: String,
    own_version: bool,
    depends_on: Vec<String>,
}

/// The crates under `crates/` without `publish = false`.
fn publishable_crates(root: &Path) -> Result<Vec<Crate>, String> {
    let mut crates = Vec::new();
    let entries =
        fs::read_dir(root.join("crates")).map_err(|error| format!("cannot list crates/: {error}"))?;
    let mut manifests: Vec<PathBuf> = entries
        .flatten()
        .map(|entry| entry.path().join("Cargo.toml"))
        .filter(|path| path.is_file())
        .collect();
    manifests.sort();
    for path in manifests {
        let text = read(&path)?;
        let package = section(&text, "package");
        if package.lines().any(|line| line.replace(' ', "") == "publish=false") {
            continue;
        }
        let name = package
            .lines()
            .find_map(|line| line.strip_prefix("name")?.trim_start().strip_prefix('=').map(str::trim))
            .map(|name| name.trim_matches('"').to_owned())
            .ok_or_else(|| format!("{}: no package name", path.display()))?;
        let own_version = package.lines().any(|line| {
            let line = line.replace(' ', "");
            line.starts_with("version=") && !line.starts_with("version.workspace")
        });
        let mut depends_on = Vec::new();
        for table in ["dependencies", "build-dependencies"] {
            for line in section(&text, table).lines() {
                let key = line.split(['=', '.', ' ']).next().unwrap_or_default();
                if key.starts_with("vllora_llm") && !depends_on.iter().any(|known| known == key) {
                    depends_on.push(key.to_owned());
                }
            }
        }
        crates.push(Crate { name, own_version, depends_on });
    }
    if crates.is_empty() {
        return Err("no publishable crate under crates/".to_owned());
    }
    Ok(crates)
}

/// The lines of `[table]` (up to the next table header).
fn section<'a>(text: &'a str, table: &str) -> &'a str {
    let header = format!("[{table}]");
    let Some(start) = text.lines().position(|line| line.trim() == header) else { return "" };
    let offset: usize = text.lines().take(start + 1).map(|line| line.len() + 1).sum();
    let rest = text.get(offset.min(text.len())..).unwrap_or_default();
    let end = rest.find("\n[").map_or(rest.len(), |end| end + 1);
    &rest[..end]
}

/// The crates ordered so that each comes after the workspace crates it depends on.
fn dependency_order(crates: &[Crate]) -> Result<Vec<String>, String> {
    let publishable: BTreeMap<&str, &Crate> =
        crates.iter().map(|krate| (krate.name.as_str(), krate)).collect();
    let mut order: Vec<String> = Vec::new();
    while order.len() < crates.len() {
        let ready: Vec<&str> = crates
            .iter()
            .filter(|krate| !order.contains(&krate.name))
            .filter(|krate| {
                krate.depends_on.iter().all(|dependency| {
                    order.contains(dependency) || !publishable.contains_key(dependency.as_str())
                })
            })
            .map(|krate| krate.name.as_str())
            .collect();
        if ready.is_empty() {
            return Err("the workspace crates depend on each other in a cycle".to_owned());
        }
        order.extend(ready.into_iter().map(str::to_owned));
    }
    for krate in crates {
        for dependency in &krate.depends_on {
            if !publishable.contains_key(dependency.as_str()) {
                return Err(format!("{} depends on {dependency}, which is not published", krate.name));
            }
        }
    }
    Ok(order)
}

/// `[workspace.package] version`.
fn workspace_version(manifest: &str) -> Result<Version, String> {
    section(manifest, "workspace.package")
        .lines()
        .find_map(|line| line.strip_prefix("version")?.trim_start().strip_prefix('=').map(str::trim))
        .and_then(|version| Version::parse(version.trim_matches('"')))
        .ok_or_else(|| "the root Cargo.toml has no [workspace.package] version = \"x.y.z\"".to_owned())
}

/// The root manifest with the new version, and how many pins moved.
#[derive(Debug)]
struct Bumped {
    text: String,
    pins: usize,
}

/// Moves `[workspace.package] version` and every internal pin from `current` to `next`. Refuses a
/// publishable crate with a version of its own, or without an exact pin at `current` while another
/// publishable crate depends on it.
fn bump_manifest(
    manifest: &str,
    current: Version,
    next: Version,
    crates: &[Crate],
) -> Result<Bumped, String> {
    if let Some(krate) = crates.iter().find(|krate| krate.own_version) {
        return Err(format!(
            "{} sets its own version: publishable crates use version.workspace = true",
            krate.name
        ));
    }
    let old_pin = format!("version = \"={current}\"");
    let new_pin = format!("version = \"={next}\"");
    let mut in_package = false;
    let mut in_dependencies = false;
    let mut pins = Vec::new();
    let mut lines = Vec::new();
    for line in manifest.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            in_package = trimmed == "[workspace.package]";
            in_dependencies = trimmed == "[workspace.dependencies]";
        }
        let mut line = line.to_owned();
        if in_package && trimmed.starts_with("version") && trimmed.contains(&format!("\"{current}\"")) {
            line = line.replace(&format!("\"{current}\""), &format!("\"{next}\""));
        }
        if in_dependencies && trimmed.starts_with("vllora_llm") {
            let name = trimmed.split([' ', '=']).next().unwrap_or_default().to_owned();
            let publishable = crates.iter().any(|krate| krate.name == name);
            if line.contains(&old_pin) {
                line = line.replace(&old_pin, &new_pin);
                pins.push(name);
            } else if publishable && line.contains("version") {
                return Err(format!(
                    "[workspace.dependencies] {name} is not pinned exactly at ={current}: {trimmed}"
                ));
            }
        }
        lines.push(line);
    }
    for krate in crates {
        let depended_on = crates.iter().any(|other| other.depends_on.contains(&krate.name));
        if depended_on && !pins.contains(&krate.name) {
            return Err(format!(
                "{} is a dependency of other published crates but has no exact pin `{old_pin}` in \
                 [workspace.dependencies]",
                krate.name
            ));
        }
    }
    let mut text = lines.join("\n");
    if manifest.ends_with('\n') {
        text.push('\n');
    }
    if workspace_version(&text)? != next {
        return Err("could not move [workspace.package] version".to_owned());
    }
    Ok(Bumped { text, pins: pins.len() })
}

/// The changelog section of `next`: one entry per commit subject, release commits left out.
fn changelog_section<'a>(
    next: Version,
    date: &str,
    since: Option<&str>,
    subjects: impl Iterator<Item = &'a str>,
) -> String {
    let mut section = format!("## {next} ({date})\n\n");
    match since {
        Some(tag) => section.push_str(&format!("Changes since {tag}:\n\n")),
        None => section.push_str("The first release.\n\n"),
    }
    let mut entries = 0;
    for subject in subjects {
        let subject = subject.trim();
        if subject.is_empty() || subject.starts_with("Release v") {
            continue;
        }
        section.push_str(&format!("- {subject}\n"));
        entries += 1;
    }
    if entries == 0 {
        section.push_str("- No changes besides the version.\n");
    }
    section
}

/// The changelog with `section` on top, under the head.
fn with_section(changelog: &str, section: &str) -> String {
    let body = changelog.strip_prefix(CHANGELOG_HEAD).unwrap_or(changelog).trim_start_matches('\n');
    let mut text = format!("{CHANGELOG_HEAD}\n{section}");
    if !body.trim().is_empty() {
        text.push('\n');
        text.push_str(body);
    }
    text
}

fn today() -> Result<String, String> {
    let output = Command::new("date")
        .arg("+%Y-%m-%d")
        .output()
        .map_err(|error| format!("cannot run date: {error}"))?;
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

fn git(root: &Path, args: &[&str]) -> Result<String, String> {
    let output = Command::new("git")
        .current_dir(root)
        .args(args)
        .output()
        .map_err(|error| format!("cannot run git: {error}"))?;
    if !output.status.success() {
        return Err(format!(
            "git {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim_end().to_owned())
}

fn run_quiet(label: &str, mut command: Command) -> Result<(), String> {
    let output = command.output().map_err(|error| format!("{label}: cannot start: {error}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!("{label} failed ({}): {}", output.status, String::from_utf8_lossy(&output.stderr).trim()))
    }
}

fn read(path: &Path) -> Result<String, String> {
    fs::read_to_string(path).map_err(|error| format!("cannot read {}: {error}", path.display()))
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    fs::write(path, text).map_err(|error| format!("cannot write {}: {error}", path.display()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests fail by panicking
mod tests {
    use super::{
        CHANGELOG_HEAD, Crate, Version, bump_manifest, changelog_section, dependency_order, with_section,
    };

    const MANIFEST: &str = "[workspace]\nmembers = [\"crates/*\"]\n\n[workspace.package]\nversion = \"0.1.0\"\nedition = \"2024\"\n\n[workspace.dependencies]\nvllora_llm_core = { path = \"crates/vllora_llm_core\", version = \"=0.1.0\" }\nvllora_llm = { path = \"crates/vllora_llm\", version = \"=0.1.0\", default-features = false }\nvllora_llm_testkit = { path = \"crates/vllora_llm_testkit\" }\nserde = \"1.0.0\"\n";

    fn krate(name: &str, depends_on: &[&str]) -> Crate {
        Crate {
            name: name.to_owned(),
            own_version: false,
            depends_on: depends_on.iter().map(|d| (*d).to_owned()).collect(),
        }
    }

    #[test]
    fn versions_bump_and_refuse_to_go_back() {
        let current = Version(0, 1, 9);
        assert_eq!(current.bump("patch").unwrap(), Version(0, 1, 10));
        assert_eq!(current.bump("minor").unwrap(), Version(0, 2, 0));
        assert_eq!(current.bump("major").unwrap(), Version(1, 0, 0));
        assert_eq!(current.bump("0.3.1").unwrap(), Version(0, 3, 1));
        assert!(current.bump("0.1.9").is_err());
        assert!(current.bump("soon").is_err());
    }

    #[test]
    fn the_version_and_every_pin_move_together() {
        let crates = [krate("vllora_llm_core", &[]), krate("vllora_llm", &["vllora_llm_core"])];
        let bumped = bump_manifest(MANIFEST, Version(0, 1, 0), Version(0, 2, 0), &crates).unwrap();
        assert_eq!(bumped.pins, 2);
        assert!(bumped.text.contains("[workspace.package]\nversion = \"0.2.0\""));
        assert!(
            bumped
                .text
                .contains("vllora_llm_core = { path = \"crates/vllora_llm_core\", version = \"=0.2.0\" }")
        );
        assert!(bumped.text.contains("version = \"=0.2.0\", default-features = false"));
        assert!(bumped.text.contains("serde = \"1.0.0\""), "other versions untouched");
        assert!(!bumped.text.contains("0.1.0"));
    }

    #[test]
    fn a_missing_or_stale_pin_is_refused() {
        let stale = MANIFEST.replace(
            "crates/vllora_llm_core\", version = \"=0.1.0\"",
            "crates/vllora_llm_core\", version = \"=0.0.9\"",
        );
        let crates = [krate("vllora_llm_core", &[]), krate("vllora_llm", &["vllora_llm_core"])];
        let error = bump_manifest(&stale, Version(0, 1, 0), Version(0, 1, 1), &crates).unwrap_err();
        assert!(error.contains("vllora_llm_core"), "{error}");
        let mut own = krate("vllora_llm_core", &[]);
        own.own_version = true;
        assert!(bump_manifest(MANIFEST, Version(0, 1, 0), Version(0, 1, 1), &[own]).is_err());
    }

    #[test]
    fn crates_come_after_their_dependencies() {
        let crates = [
            krate("vllora_llm", &["vllora_llm_core", "vllora_llm_openai", "vllora_llm_http"]),
            krate("vllora_llm_openai", &["vllora_llm_core", "vllora_llm_http"]),
            krate("vllora_llm_http", &["vllora_llm_core"]),
            krate("vllora_llm_core", &[]),
        ];
        let order = dependency_order(&crates).unwrap();
        assert_eq!(order, ["vllora_llm_core", "vllora_llm_http", "vllora_llm_openai", "vllora_llm"]);
        let cycle = [krate("a", &["b"]), krate("b", &["a"])];
        assert!(dependency_order(&cycle).is_err());
        assert!(
            dependency_order(&[krate("vllora_llm", &["vllora_llm_testkit"])]).is_err(),
            "unpublished dependency"
        );
    }

    #[test]
    fn the_changelog_gains_a_section_on_top() {
        let first = changelog_section(
            Version(0, 1, 1),
            "2026-01-02",
            Some("v0.1.0"),
            ["Fix a", "Release v0.1.0", "Add b"].into_iter(),
        );
        assert_eq!(first, "## 0.1.1 (2026-01-02)\n\nChanges since v0.1.0:\n\n- Fix a\n- Add b\n");
        let once = with_section(CHANGELOG_HEAD, &first);
        let second = changelog_section(Version(0, 1, 2), "2026-02-03", Some("v0.1.1"), std::iter::empty());
        let twice = with_section(&once, &second);
        assert!(twice.starts_with(CHANGELOG_HEAD));
        let newer = twice.find("## 0.1.2").unwrap();
        let older = twice.find("## 0.1.1").unwrap();
        assert!(newer < older);
        assert!(twice.contains("- No changes besides the version."));
    }
}
