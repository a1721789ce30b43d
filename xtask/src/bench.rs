//! `cargo xtask bench`: builds and runs the benchmark binary (`benches/`, crate `vllora_llm_bench`) in
//! release mode, passing the arguments through (`--quick`, `--repeats N`, `--seconds S`,
//! `--events N`, `--streams 1000,10000`, `--only oneshot,stream,memory,translation`, `--peers`:
//! the bench itself builds `benches/peers/`, a crate outside the workspace, and measures async-openai and
//! genai beside vllora_llm).

use crate::util;

/// Runs `cargo run --release -p vllora_llm_bench -- <args>` from the workspace root.
pub fn run(args: &[String]) -> Result<(), String> {
    let mut command = util::cargo(&["run", "--release", "--package", "vllora_llm_bench", "--"]);
    command.args(args);
    util::step("benchmark", command)
}
