//! The `certtool` binary: parse the command line, run it, exit with its status.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // `verify --launch` starts servers through certtool itself, so they die with it.
    if let Some(code) = certtool::verify::launch::run_as_launcher() {
        return ExitCode::from(code);
    }
    // clap prints its own usage errors (exit 2) and --help/--version (exit 0).
    let cli = certtool::cli::Cli::parse();
    ExitCode::from(certtool::run(&cli))
}
