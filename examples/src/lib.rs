//! Examples of vllora_llm, and the small harness the end-to-end binaries (`e2e_*`) share.

/// Counting and printing the checks of an end-to-end binary.
pub mod e2e {
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
                    self.passed += 1;
                    println!("PASS {name}");
                }
                Err(why) => {
                    self.failed += 1;
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
}
