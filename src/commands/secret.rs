//! `certtool secret generate`: a random shared secret, to stdout or a 0600 file.
//!
//! It must not print the secret when writing it to a file, nor put it in `--json`.

use anyhow::Result;
use serde::Serialize;

use super::describe_written;
use crate::cli::{SecretCommand, SecretGenerateArgs};
use crate::error::ExitStatus;
use crate::files::{self, FileKind, PlannedFile, WriteOptions, Written};
use crate::output::Output;
use crate::secret;

/// Run `certtool secret ...`.
pub fn run(cmd: &SecretCommand, out: &mut Output) -> Result<ExitStatus> {
    match cmd {
        SecretCommand::Generate(args) => generate(args, out),
    }
}

/// What `secret generate --out` wrote (never the secret itself).
#[derive(Serialize)]
struct Report<'a> {
    bytes: u16,
    encoding: &'static str,
    files: &'a [Written],
}

impl crate::output::Report for Report<'_> {
    fn ok(&self) -> bool {
        true
    }

    fn text(&self) -> crate::output::Text {
        crate::output::Text::note(format!(
            "Generated a {}-byte shared secret\n{}",
            self.bytes,
            describe_written(self.files, None)
        ))
    }
}

fn generate(args: &SecretGenerateArgs, out: &mut Output) -> Result<ExitStatus> {
    let Some(path) = &args.out else {
        out.refuse_json(
            "--json would print the secret",
            "write it to a file with --out FILE; --json then describes the file",
        )?;
        let value = secret::generate(usize::from(args.bytes), args.encoding)?;
        out.data(&value)?;
        return Ok(ExitStatus::Success);
    };
    super::lock_targets(out, [path.as_path()])?;
    files::check_targets([path.as_path()], args.replace.force)?;
    let value = secret::generate(usize::from(args.bytes), args.encoding)?;
    let mut file = PlannedFile::new(path.clone(), FileKind::Secret, value.as_bytes());
    file.contents.push(b'\n');
    let written = files::write_all(
        &[file],
        WriteOptions {
            force: args.replace.force,
            owner: super::resolve_owner(args.owner.as_deref())?,
            ..WriteOptions::default()
        },
    )?;
    out.report(&Report {
        bytes: args.bytes,
        encoding: match args.encoding {
            secret::Encoding::Base64url => "base64url",
            secret::Encoding::Hex => "hex",
        },
        files: &written,
    })?;
    Ok(ExitStatus::Success)
}
