//! `certtool provision SERVER`: the commands an operator chains by hand, composed into one
//! idempotent run that reports each step honestly.
//!
//! A run is a list of [`Step`]s, each `created`, `changed`, `unchanged`, `skipped` or
//! `failed`. The first failure ends the run: the steps before it stay done (each one is a
//! complete write of its own), the report says which step failed and why, and a re-run after
//! fixing the cause finishes the job. The steps themselves are the other commands' building
//! blocks (`pki`, `inputs`, `files`, `config`, `verify::probe`), not copies of them.

mod influxdb;
mod pair;
mod web;

use anyhow::Result;
use serde::Serialize;

use crate::cli::ProvisionCommand;
use crate::error::ExitStatus;
use crate::output::{Output, Report, Text};

/// Run `certtool provision ...`.
pub fn run(cmd: &ProvisionCommand, out: &mut Output) -> Result<ExitStatus> {
    match cmd {
        ProvisionCommand::Influxdb(args) => influxdb::run(args, out),
        ProvisionCommand::Prometheus(args) => web::run(web::Server::Prometheus, args, out),
        ProvisionCommand::NodeExporter(args) => web::run(web::Server::NodeExporter, args, out),
    }
}

/// What a step did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Created,
    Changed,
    Unchanged,
    Skipped,
    Failed,
}

impl Status {
    /// `changed` or `unchanged`, for a step that edits what exists.
    #[must_use]
    pub fn of_change(changed: bool) -> Status {
        if changed {
            Status::Changed
        } else {
            Status::Unchanged
        }
    }

    /// `created` when every file written was new, else `changed` (`unchanged` for none).
    #[must_use]
    pub fn of_files(written: &[crate::files::Written]) -> Status {
        match written {
            [] => Status::Unchanged,
            w if w.iter().all(|f| !f.replaced) => Status::Created,
            _ => Status::Changed,
        }
    }

    fn word(self) -> &'static str {
        match self {
            Status::Created => "created",
            Status::Changed => "changed",
            Status::Unchanged => "unchanged",
            Status::Skipped => "skipped",
            Status::Failed => "FAIL",
        }
    }
}

/// One step of a run.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    pub name: &'static str,
    pub status: Status,
    pub detail: String,
}

/// How a step ended when it did not fail: its status and what to say.
pub type Done = (Status, String);

/// Why a run stopped: a check said no (exit 1), or bad input or I/O (exit 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    CheckFailed,
    Error,
}

/// The steps of a run so far, and the report's other parts.
#[derive(Debug, Default, Serialize)]
pub struct Run {
    pub dry_run: bool,
    pub changed: bool,
    pub steps: Vec<Step>,
    /// The diffs of the files a dry run would edit (secrets masked).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
    /// The files this run wrote (keys, certificates, configs, env files, units), with mode and
    /// owner; with a dry run, those it would write.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<crate::files::Written>,
    /// The server's certificate after the run, described as `inspect` describes certificates.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate: Option<crate::pki::parse::CertInfo>,
    /// With a dry run: `certtool audit` of the server now, and as the run would leave it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audit: Option<AuditView>,
    #[serde(skip)]
    stop: Option<Stop>,
}

impl Run {
    fn new(dry_run: bool) -> Run {
        Run {
            dry_run,
            ..Run::default()
        }
    }

    /// Add a dry run's diff of one file to the report's.
    fn add_diff(&mut self, diff: Option<String>) {
        let Some(diff) = diff.filter(|d| !d.is_empty()) else {
            return;
        };
        let all = self.diff.get_or_insert_with(String::new);
        if !all.is_empty() && !all.ends_with('\n') {
            all.push('\n');
        }
        all.push_str(&diff);
    }

    /// Whether an earlier step failed (later steps are then not run).
    pub(super) fn stopped(&self) -> bool {
        self.stop.is_some()
    }

    /// Run step `name` unless an earlier one failed; its value, if it succeeded.
    fn step<T>(
        &mut self,
        name: &'static str,
        act: impl FnOnce(&mut Run) -> Result<(Done, T)>,
    ) -> Option<T> {
        if self.stopped() {
            return None;
        }
        match act(self) {
            Ok(((status, detail), value)) => {
                self.record(name, status, detail);
                Some(value)
            }
            Err(err) => {
                let check_failed = err
                    .chain()
                    .any(|c| c.downcast_ref::<CheckFailed>().is_some());
                let mut detail = crate::text::sanitize(&format!("{err:#}"));
                if let Some(hint) = crate::error::hint_for(&err) {
                    detail = format!("{detail} (hint: {})", crate::text::sanitize(&hint));
                }
                self.record(name, Status::Failed, detail);
                self.stop = Some(if check_failed {
                    Stop::CheckFailed
                } else {
                    Stop::Error
                });
                None
            }
        }
    }

    fn record(&mut self, name: &'static str, status: Status, detail: String) {
        self.changed |= matches!(status, Status::Created | Status::Changed);
        self.steps.push(Step {
            name,
            status,
            detail,
        });
    }

    /// Show the run and give its exit status.
    fn finish(self, out: &mut Output) -> Result<ExitStatus> {
        out.report(&self)?;
        if let Some(failed) = self.steps.iter().find(|s| s.status == Status::Failed) {
            out.error(&format!(
                "provision stopped at the {} step: {}",
                failed.name, failed.detail
            ))?;
        }
        Ok(match self.stop {
            None => ExitStatus::Success,
            Some(Stop::CheckFailed) => ExitStatus::Failure,
            Some(Stop::Error) => ExitStatus::InputError,
        })
    }
}

/// The audit before and (expected) after a dry run's changes.
#[derive(Debug, Serialize)]
pub struct AuditView {
    pub before: Vec<crate::commands::audit::Finding>,
    pub after: Vec<crate::commands::audit::Finding>,
}

impl AuditView {
    /// One line per finding after the run, with what it is now: `FAIL -> ok  influxdb.https`.
    fn text(&self) -> String {
        use std::fmt::Write as _;
        let mut used = vec![false; self.before.len()];
        let mut text = String::from("audit now -> after this run:\n");
        for after in &self.after {
            let before = self
                .before
                .iter()
                .enumerate()
                .find(|(i, b)| !used[*i] && b.name == after.name);
            let change = match before {
                Some((i, b)) => {
                    used[i] = true;
                    if b.severity == after.severity {
                        after.severity.word().to_owned()
                    } else {
                        format!("{} -> {}", b.severity.word(), after.severity.word())
                    }
                }
                None => format!("new: {}", after.severity.word()),
            };
            let _ = writeln!(text, "  {change:<13} {:<24} {}", after.name, after.detail);
        }
        text
    }
}

/// A step that ran and found something wrong (exit 1, not 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct CheckFailed(pub String);

impl Report for Run {
    fn ok(&self) -> bool {
        self.stop.is_none()
    }

    fn text(&self) -> Text {
        use std::fmt::Write as _;
        let mut text = String::new();
        if let Some(diff) = &self.diff {
            text.push_str(diff);
            if !diff.ends_with('\n') {
                text.push('\n');
            }
        }
        for step in &self.steps {
            let _ = writeln!(
                text,
                "{:<9}  {:<11}  {}",
                step.status.word(),
                step.name,
                step.detail
            );
        }
        if let Some(audit) = &self.audit {
            text.push_str(&audit.text());
        }
        if self.dry_run && !self.files.is_empty() {
            text.push_str("would write:\n");
            for f in &self.files {
                let owner = format!(
                    "{}:{}",
                    crate::files::user_name(f.owner.0),
                    crate::files::group_name(f.owner.1)
                );
                let _ = writeln!(
                    text,
                    "  {:<7}  {}  {owner:<17}  {}",
                    if f.replaced { "replace" } else { "create" },
                    crate::text::mode_string(f.mode),
                    f.path.display()
                );
            }
        }
        let summary = match (self.stop, self.dry_run, self.changed) {
            (Some(_), _, _) => {
                "provision: stopped at the failed step; fix it and run again (the steps before it are done)"
            }
            (None, true, _) => "provision: dry run, nothing was written",
            (None, false, true) => "provision: done",
            (None, false, false) => "provision: nothing to do (everything was already as asked)",
        };
        let _ = writeln!(text, "{summary}");
        Text::listing(text)
    }
}
