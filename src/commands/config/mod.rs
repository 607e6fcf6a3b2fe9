//! `certtool config ...`: print a snippet, or edit it into the service's config file in place,
//! safely (checked inputs, `.bak`, atomic write, mode and owner kept, idempotent, `--dry-run`).
//!
//! One module per service (`influxdb`, `telegraf`, `prometheus`); this one holds what they
//! share: reading the certificates a config names, planning and writing an in-place edit
//! (the text itself is edited by the pure `crate::config::edit`), and reporting it.

pub(crate) mod influxdb;
mod prometheus;
mod telegraf;

use std::path::{Path, PathBuf};

use anyhow::{Result, anyhow};
use serde::Serialize;
use time::OffsetDateTime;
use toml_edit::DocumentMut;

use crate::cli::{ConfigCommand, EditArgs};
use crate::config::edit::{self, EditError};
use crate::config::template::Template;
use crate::error::{Error, ExitStatus};
use crate::files::{self, FileKind, PlannedFile, WriteOptions};
use crate::inputs;
use crate::output::{Output, Report, Text};
use crate::pki::parse::CertInfo;
use crate::text::mode_string;

/// Run `certtool config ...`.
pub fn run(cmd: &ConfigCommand, out: &mut Output) -> Result<ExitStatus> {
    match cmd {
        ConfigCommand::Influxdb(args) => influxdb::v1(args, out),
        ConfigCommand::Influxdb2(args) => influxdb::v2(args, out),
        ConfigCommand::Telegraf(args) => telegraf::run(args, out),
        ConfigCommand::Prometheus(args) => prometheus::web(args, out),
        ConfigCommand::PrometheusScrape(args) => prometheus::scrape(args, out),
    }?;
    Ok(ExitStatus::Success)
}

/// The certificates of `path` (given as `what`), described.
fn read_certificates(path: &Path, what: &str) -> Result<Vec<CertInfo>> {
    Ok(inputs::load_certs(path, what, OffsetDateTime::now_utc())?
        .into_iter()
        .map(|c| c.info)
        .collect())
}

/// What an in-place edit did.
#[derive(Debug, Serialize)]
pub(crate) struct Edited {
    pub file: PathBuf,
    pub changed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backup: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
    /// A dry run: nothing is written, `files` is what would be.
    #[serde(skip)]
    pub dry_run: bool,
    /// The files written with the edit (the config, its env file), or with `dry_run` those
    /// that would be; for `provision`'s list of files.
    #[serde(skip)]
    pub files: Vec<files::Written>,
    /// With `dry_run`, the text the file would have (for `provision`'s expected audit).
    #[serde(skip)]
    pub new_text: Option<zeroize::Zeroizing<String>>,
}

/// Edit the TOML file at `path` with `edit`, keeping everything else byte for byte.
pub(crate) fn edit_in_place(
    path: &Path,
    edit: &EditArgs,
    ceiling: u32,
    redact: Option<&str>,
    apply: impl FnOnce(&mut DocumentMut) -> Result<()>,
) -> Result<Edited> {
    let (edited, planned) = plan_edit(path, edit, ceiling, redact, apply)?;
    write_edit(edited, &planned.into_iter().collect::<Vec<_>>())
}

/// Write a planned edit together with the files that must change with it (the env file of
/// `config influxdb --auth`), as one set: all or nothing, even if certtool is killed.
///
/// With a dry run nothing is written: `files` says what would be.
pub(crate) fn write_edit(mut edited: Edited, planned: &[PlannedFile]) -> Result<Edited> {
    if planned.is_empty() {
        return Ok(edited);
    }
    let opts = WriteOptions {
        force: true,
        ..WriteOptions::default()
    };
    edited.files = files::write_or_preview(planned, opts, edited.dry_run)?;
    if edited.dry_run {
        return Ok(edited);
    }
    if let Some(w) = edited.files.iter().find(|w| w.path == edited.file) {
        edited.backup.clone_from(&w.backup);
        edited.mode = Some(mode_string(w.mode));
    }
    Ok(edited)
}

/// Work out the edit of the TOML file at `path`: what `--dry-run` shows, and the file to write
/// (none when nothing changes; [`write_edit`] writes it, or with `--dry-run` previews it).
///
/// `ceiling` limits the mode of the result (a config holding a secret is at most 0640);
/// `redact` is text to hide from the diff.
fn plan_edit(
    path: &Path,
    edit: &EditArgs,
    ceiling: u32,
    redact: Option<&str>,
    apply: impl FnOnce(&mut DocumentMut) -> Result<()>,
) -> Result<(Edited, Option<PlannedFile>)> {
    plan_text_edit(path, edit, ceiling, redact, |text| {
        edit::edit(text, apply).map_err(|e| match e {
            EditError::Parse(p) => Error::invalid(
                format!("cannot parse '{}' at {p}", path.display()),
                "fix the file first; certtool left it untouched",
            )
            .into(),
            EditError::Apply(e) => e,
        })
    })
}

/// [`plan_edit`] for any text format: `transform` turns the file's text into the new text.
pub(crate) fn plan_text_edit(
    path: &Path,
    edit: &EditArgs,
    ceiling: u32,
    redact: Option<&str>,
    transform: impl FnOnce(&str) -> Result<zeroize::Zeroizing<String>>,
) -> Result<(Edited, Option<PlannedFile>)> {
    // Held until the process exits: nobody else edits the file between reading and replacing.
    files::lock_dirs_of([path])?;
    files::check_targets([path], true)?;
    let bytes = files::read_input(path)?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| anyhow!("'{}' is not UTF-8 text", path.display()))?;
    let new_text = transform(text)?;
    let mode = files::ExistingFile::open_no_follow(path)?.mode() & 0o7777;
    let changed = new_text.as_str() != text || mode & 0o777 & !ceiling != 0;
    let mut edited = Edited {
        file: path.to_path_buf(),
        changed,
        backup: None,
        mode: None,
        diff: None,
        dry_run: edit.dry_run,
        files: Vec::new(),
        new_text: None,
    };
    if edit.dry_run {
        let name = path.display().to_string();
        edited.diff = Some(edit::unified_diff(&name, text, &new_text, redact));
        edited.new_text = Some(new_text.clone());
    }
    if !changed {
        return Ok((edited, None));
    }
    let mut file = PlannedFile::new(path.to_path_buf(), FileKind::Config, new_text.as_bytes());
    file.inherit_mode_and_owner(ceiling)?;
    file.keep_backup = true;
    Ok((edited, Some(file)))
}

/// What a config command reports beyond its snippet or edit: the env file of `config influxdb
/// --auth`, the influxd flags of `config influxdb2`.
#[derive(Debug, Default, Serialize)]
pub(super) struct Extra {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub env_file: Option<EnvFileSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flags: Option<String>,
}

/// The env file, as `--json` names it.
#[derive(Debug, Serialize)]
pub(super) struct EnvFileSummary {
    pub path: PathBuf,
    /// `written`, `unchanged` or `would_write`.
    pub status: &'static str,
}

/// An in-place edit: the diff with `--dry-run`, else what happened to the file.
#[derive(Serialize)]
struct EditReport<'a> {
    #[serde(flatten)]
    edited: &'a Edited,
    #[serde(flatten)]
    extra: Extra,
}

impl Report for EditReport<'_> {
    fn ok(&self) -> bool {
        true
    }

    fn text(&self) -> Text {
        let edited = self.edited;
        let file = edited.file.display();
        match (&edited.diff, edited.changed) {
            (Some(diff), true) => Text::data(diff.clone()),
            (Some(_), false) => Text::note(format!("{file}: unchanged (nothing to do)")),
            (None, false) => Text::note(format!("{file}: unchanged")),
            (None, true) => Text::note(format!(
                "{file}: updated ({}; the old file is kept as {})",
                edited.mode.as_deref().unwrap_or("?"),
                edited
                    .backup
                    .as_ref()
                    .map_or_else(|| "-".to_owned(), |b| b.display().to_string())
            )),
        }
    }
}

/// A snippet to paste: the text on stdout.
#[derive(Serialize)]
struct SnippetReport<'a> {
    template: &'static str,
    snippet: &'a str,
    #[serde(flatten)]
    extra: Extra,
}

impl Report for SnippetReport<'_> {
    fn ok(&self) -> bool {
        true
    }

    fn text(&self) -> Text {
        Text::data(self.snippet.to_owned())
    }
}

fn report_edit(out: &mut Output, edited: &Edited, extra: Extra) -> Result<()> {
    out.report(&EditReport { edited, extra })?;
    Ok(())
}

fn print_snippet(out: &mut Output, template: Template, snippet: &str, extra: Extra) -> Result<()> {
    out.report(&SnippetReport {
        template: template.file_name(),
        snippet,
        extra,
    })?;
    Ok(())
}
