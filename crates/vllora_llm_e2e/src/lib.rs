//! The small harness the end-to-end binaries (`e2e_*`) share: counting and printing their checks.
//!
//! Each binary is run by `cargo xtask e2e` as `<binary> <base URL> [model]` against llama.cpp's server,
//! prints one line per check and ends with `N passed, M failed`.

/// The outcome of each check, printed as it happens.
#[derive(Debug, Default)]
pub struct Checks {
    /// Checks that passed.
    pub passed: usize,
    /// Checks that failed.
    pub failed: usize,
}

impl Checks {
    /// Records and prints one check.
    pub fn check(&mut self, name: &str, outcome: Result<(), String>) {
        match outcome {
            Ok(()) => {
                self.passed = self.passed.saturating_add(1);
                println!("PASS {name}");
            }
            Err(why) => {
                self.failed = self.failed.saturating_add(1);
                println!("FAIL {name}: {why}");
            }
        }
    }

    /// Prints `N passed, M failed` and exits, with status 1 when any check failed.
    pub fn finish(self) -> ! {
        println!("{} passed, {} failed", self.passed, self.failed);
        std::process::exit(if self.failed == 0 { 0 } else { 1 })
    }
}

/// `Ok` when `condition` holds, else the reason `why` gives.
pub fn expect(condition: bool, why: impl FnOnce() -> String) -> Result<(), String> {
    if condition { Ok(()) } else { Err(why()) }
}
