//! The `certtool` binary: parse the command line, run it, exit with its status.
//!
//! It must not do anything but parse, run and exit.

use std::process::ExitCode;

use clap::Parser as _;

fn main() -> ExitCode {
    // `verify --launch` starts servers through certtool itself, so they die with it.
    if let Some(code) = certtool::verify::launch::run_as_launcher() {
        return ExitCode::from(code);
    }
    // clap prints its own usage errors (exit 2) and --help/--version (exit 0); with --json a
    // usage error is also reported as JSON on stdout.
    let cli = match certtool::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let err = certtool::better_suggestion(err);
            certtool::report_usage_error(&err);
            err.exit()
        }
    };
    ExitCode::from(certtool::run(&cli))
}
