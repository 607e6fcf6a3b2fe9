//! `certtool audit`: a server's security posture against the operator guides (InfluxDB's
//! "Managing InfluxDB security", Prometheus's TLS and basic-auth pages), from its config files
//! and, with `--url`, from what the running server does.
//!
//! Each check is one [`Finding`]: `ok`, `warn` or `FAIL`, a stable id, what was found, why it
//! matters, and the certtool command that fixes it. Reading only: audit never changes a file.

pub(crate) mod influxdb;
mod telegraf;
pub(crate) mod web;

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Result;
use serde::Serialize;
use time::OffsetDateTime;

use crate::cli::AuditCommand;
use crate::error::ExitStatus;
use crate::inputs;
use crate::output::{Output, Report, Text};
use crate::pki::parse::Status;

/// Run `certtool audit ...`.
pub fn run(cmd: &AuditCommand, out: &mut Output) -> Result<ExitStatus> {
    let (findings, strict) = match cmd {
        AuditCommand::Influxdb(args) => (influxdb::audit(args)?, args.common.strict),
        AuditCommand::Prometheus(args) => (
            web::audit(web::Server::Prometheus, args)?,
            args.common.strict,
        ),
        AuditCommand::NodeExporter(args) => (
            web::audit(web::Server::NodeExporter, args)?,
            args.common.strict,
        ),
        AuditCommand::Telegraf(args) => (telegraf::audit(args)?, args.strict),
    };
    let report = AuditReport {
        checks: findings,
        strict,
    };
    out.report(&report)?;
    Ok(ExitStatus::from_ok(report.ok()))
}

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Ok,
    Warn,
    Fail,
}

impl Severity {
    /// `ok`, `warn` or `FAIL`, as listings of checks say it.
    #[must_use]
    pub fn word(self) -> &'static str {
        match self {
            Severity::Ok => "ok",
            Severity::Warn => "warn",
            Severity::Fail => "FAIL",
        }
    }
}

/// One check and what it found.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// A stable id: `influxdb.auth-disabled`, `web.tls-missing`, ...
    pub name: &'static str,
    pub ok: bool,
    pub severity: Severity,
    /// Passed, but with something to know (`warn`): as every command's checks say it.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub warning: bool,
    pub detail: String,
    /// Why it matters, citing the guide.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why: Option<&'static str>,
    /// The command that fixes it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

impl Finding {
    fn new(name: &'static str, severity: Severity, detail: impl Into<String>) -> Finding {
        Finding {
            name,
            ok: severity != Severity::Fail,
            severity,
            warning: severity == Severity::Warn,
            detail: detail.into(),
            why: None,
            fix: None,
        }
    }

    pub fn pass(name: &'static str, detail: impl Into<String>) -> Finding {
        Finding::new(name, Severity::Ok, detail)
    }

    pub fn warn(name: &'static str, detail: impl Into<String>) -> Finding {
        Finding::new(name, Severity::Warn, detail)
    }

    pub fn fail(name: &'static str, detail: impl Into<String>) -> Finding {
        Finding::new(name, Severity::Fail, detail)
    }

    #[must_use]
    pub fn why(mut self, why: &'static str) -> Finding {
        self.why = Some(why);
        self
    }

    #[must_use]
    pub fn fix(mut self, fix: impl Into<String>) -> Finding {
        self.fix = Some(fix.into());
        self
    }
}

#[derive(Serialize)]
struct AuditReport {
    checks: Vec<Finding>,
    /// A warning fails the audit too (`--strict`).
    strict: bool,
}

impl Report for AuditReport {
    fn ok(&self) -> bool {
        self.checks.iter().all(|f| match f.severity {
            Severity::Ok => true,
            Severity::Warn => !self.strict,
            Severity::Fail => false,
        })
    }

    fn text(&self) -> Text {
        let mut text = String::new();
        let width = self.checks.iter().map(|f| f.name.len()).max().unwrap_or(0);
        for f in &self.checks {
            let _ = write!(
                text,
                "{:<4}  {:<width$}  {}",
                f.severity.word(),
                f.name,
                f.detail
            );
            if let Some(why) = f.why.filter(|_| f.severity != Severity::Ok) {
                let _ = write!(text, ": {why}");
            }
            text.push('\n');
            if let Some(fix) = f.fix.as_ref().filter(|_| f.severity != Severity::Ok) {
                let _ = writeln!(text, "      {:<width$}  fix: {fix}", "");
            }
        }
        let count = |s: Severity| self.checks.iter().filter(|f| f.severity == s).count();
        let _ = writeln!(
            text,
            "audit: {} ok, {} warn, {} FAIL{}",
            count(Severity::Ok),
            count(Severity::Warn),
            count(Severity::Fail),
            if self.strict {
                " (--strict: warnings fail)"
            } else {
                ""
            }
        );
        Text::listing(text)
    }
}

/// The checks of a server's key and certificate files: they exist and parse, belong together,
/// are in date for more than 30 days, cover `hosts`, and the key is private (0600, or 0640 for
/// the service's group) and owned by the service user when it exists.
fn pair_findings(
    prefix: Prefix,
    cert: &Path,
    key: &Path,
    hosts: &[String],
    service_user: Option<&str>,
    now: OffsetDateTime,
    planned: Option<&Planned<'_>>,
) -> Vec<Finding> {
    if let Some(planned) = planned.filter(|p| p.writes(cert)) {
        return planned_pair(prefix, planned, cert, key, hosts, service_user);
    }
    let mut findings = Vec::new();
    let pair = match inputs::load_pair(cert, key, now) {
        Ok(pair) => pair,
        Err(e) => {
            findings.push(
                Finding::fail(prefix.pair, crate::text::sanitize(&format!("{e:#}")))
                    .why("the server cannot start TLS with them")
                    .fix(format!(
                        "certtool inspect {} --key {}",
                        cert.display(),
                        key.display()
                    )),
            );
            return findings;
        }
    };
    let leaf = &pair.leaf().info;
    findings.push(Finding::pass(
        prefix.pair,
        format!("{} and {} belong together", cert.display(), key.display()),
    ));
    let renew = format!("certtool renew {} --within 30d", cert.display());
    findings.push(match leaf.status {
        Status::Expired => Finding::fail(prefix.expiry, format!("expired {}", leaf.not_after))
            .why("every client refuses it")
            .fix(renew),
        Status::NotYetValid => Finding::fail(
            prefix.expiry,
            format!("not valid before {}", leaf.not_before),
        )
        .why("every client refuses it"),
        Status::Valid if leaf.days_left <= 30 => Finding::warn(
            prefix.expiry,
            format!("expires in {} days ({})", leaf.days_left, leaf.not_after),
        )
        .why("renew before clients start failing")
        .fix(renew),
        Status::Valid => Finding::pass(
            prefix.expiry,
            format!("valid for {} more days", leaf.days_left),
        ),
    });
    for host in hosts {
        let covered = crate::pki::names::sans_cover(&leaf.sans, host);
        findings.push(if covered {
            Finding::pass(prefix.names, format!("covers {host}"))
        } else {
            Finding::fail(
                prefix.names,
                format!(
                    "does not cover {host} (it has {})",
                    crate::pki::names::sans_line(&leaf.sans)
                ),
            )
            .why("clients that check names refuse it")
            .fix(format!("certtool renew {} (after adding --host {host} with certtool selfsigned or ca issue)", cert.display()))
        });
    }
    findings.push(key_mode_finding(prefix.key_mode, key, service_user, None));
    findings
}

/// The pair a dry run would write: new, for its hosts, with the modes it would get.
fn planned_pair(
    prefix: Prefix,
    planned: &Planned<'_>,
    cert: &Path,
    key: &Path,
    hosts: &[String],
    service_user: Option<&str>,
) -> Vec<Finding> {
    let mut findings = vec![
        Finding::pass(
            prefix.pair,
            format!(
                "{} and {} would be made together",
                cert.display(),
                key.display()
            ),
        ),
        Finding::pass(prefix.expiry, format!("valid for {} days", planned.days)),
    ];
    for host in hosts {
        findings.push(
            if planned.hosts.iter().any(|h| h.eq_ignore_ascii_case(host)) {
                Finding::pass(prefix.names, format!("covers {host}"))
            } else {
                Finding::fail(prefix.names, format!("would not cover {host}"))
                    .why("clients that check names refuse it")
                    .fix(format!("add --host {host}"))
            },
        );
    }
    findings.push(key_mode_finding(
        prefix.key_mode,
        key,
        service_user,
        Some(planned),
    ));
    findings
}

/// What a dry run would write (from the writer's preview), and the new certificate's terms.
pub(crate) struct Planned<'a> {
    pub files: &'a [crate::files::Written],
    pub hosts: Vec<String>,
    pub days: u32,
}

impl Planned<'_> {
    /// The file the dry run would write at `path` (named relative or absolute).
    fn file(&self, path: &Path) -> Option<&crate::files::Written> {
        let wanted = std::path::absolute(path).ok()?;
        self.files
            .iter()
            .find(|f| std::path::absolute(&f.path).is_ok_and(|p| p == wanted))
    }

    fn writes(&self, path: &Path) -> bool {
        self.file(path).is_some()
    }
}

/// The mode and owner `path` has now, or would have after a dry run's writes.
fn mode_and_owner(path: &Path, planned: Option<&Planned<'_>>) -> Result<(u32, String)> {
    use std::os::unix::fs::MetadataExt as _;
    if let Some(f) = planned.and_then(|p| p.file(path)) {
        return Ok((f.mode & 0o7777, crate::files::user_name(f.owner.0)));
    }
    let file = crate::files::ExistingFile::open_no_follow(path)?;
    Ok((
        file.mode() & 0o7777,
        crate::files::user_name(file.meta.uid()),
    ))
}

/// The ids a pair's checks carry, per server.
#[derive(Clone, Copy)]
struct Prefix {
    pair: &'static str,
    expiry: &'static str,
    names: &'static str,
    key_mode: &'static str,
}

/// A private key readable by the owner (and at most its group), owned by the service user.
fn key_mode_finding(
    name: &'static str,
    key: &Path,
    service_user: Option<&str>,
    planned: Option<&Planned<'_>>,
) -> Finding {
    let Ok((mode, owner)) = mode_and_owner(key, planned) else {
        return Finding::fail(
            name,
            format!("cannot open {} (a symbolic link?)", key.display()),
        );
    };
    let mode_text = crate::text::mode_string(mode);
    if mode & 0o037 != 0 {
        return Finding::fail(
            name,
            format!("{} is mode {mode_text}, owned by {owner}", key.display()),
        )
        .why("other users can read the private key (the guide: key files readable only by the service)")
        .fix(format!("certtool perms --fix {}", key.display()));
    }
    if let Some(user) = service_user
        && crate::files::access::Account::lookup(user).is_some()
        && owner != user
        && mode & 0o040 == 0
    {
        return Finding::warn(
            name,
            format!(
                "{} is mode {mode_text}, owned by {owner}, not {user}",
                key.display()
            ),
        )
        .why("the service may be unable to read it")
        .fix(format!(
            "certtool perms --fix --owner {user}: {}",
            key.display()
        ));
    }
    Finding::pass(
        name,
        format!("{} is mode {mode_text}, owned by {owner}", key.display()),
    )
}

/// The host of an `https://HOST:PORT` URL, for the names a certificate must cover.
fn url_host(url: &str) -> Option<String> {
    crate::verify::probe::Target::parse(url)
        .ok()
        .map(|t| t.host)
}
