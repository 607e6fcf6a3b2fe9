//! `certtool completions`: shell completion scripts generated from the clap definitions.
//!
//! It must not do anything but print the script.

use anyhow::Result;
use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs};
use crate::error::ExitStatus;
use crate::output::Output;

/// Run `certtool completions SHELL`.
pub fn run(args: &CompletionsArgs, out: &mut Output) -> Result<ExitStatus> {
    out.refuse_json(
        "--json does not apply to a completion script",
        "run certtool completions SHELL without --json",
    )?;
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "certtool", &mut script);
    out.data(&String::from_utf8_lossy(&script))?;
    Ok(ExitStatus::Success)
}
