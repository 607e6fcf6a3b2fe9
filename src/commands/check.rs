//! `certtool check`: expiry monitoring with exit codes that scripts can trust, as text, JSON or
//! Prometheus metrics.
//!
//! It must not change files (but repair killed writes, through `files`), nor verify
//! signatures: it watches dates.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Serialize;
use time::OffsetDateTime;

use crate::cli::CheckArgs;
use crate::error::{Error, ExitStatus};
use crate::files;
use crate::inputs;
use crate::output::{Output, Report as _, Text};
use crate::pki::parse::{Status, Summary};
use crate::pki::validity::{days_until, format_time};

/// Where one certificate stands, given the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// `valid` in JSON, as `inspect` says of a certificate in date.
    #[serde(rename = "valid")]
    Ok,
    Expiring,
    Expired,
    NotYetValid,
}

impl Verdict {
    fn of(cert: &Summary, now: OffsetDateTime, window_seconds: i64) -> Verdict {
        match cert.status(now) {
            Status::Expired => Verdict::Expired,
            Status::NotYetValid => Verdict::NotYetValid,
            Status::Valid if (cert.not_after - now).whole_seconds() <= window_seconds => {
                Verdict::Expiring
            }
            Status::Valid => Verdict::Ok,
        }
    }

    fn label(self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::Expiring => "EXPIRES SOON",
            Verdict::Expired => "EXPIRED",
            Verdict::NotYetValid => "NOT YET VALID",
        }
    }
}

#[allow(
    clippy::trivially_copy_pass_by_ref,
    reason = "serde's serialize_with signature"
)]
fn one_based<S: serde::Serializer>(index: &usize, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(u64::try_from(*index).unwrap_or(u64::MAX).saturating_add(1))
}

/// One certificate found on disk and what was concluded about it.
#[derive(Debug, Serialize)]
pub struct Checked {
    pub path: PathBuf,
    /// Position in its file, from 0 (a chain file holds several); in JSON `position`, from 1,
    /// as the text shows it.
    #[serde(rename = "position", serialize_with = "one_based")]
    pub index: usize,
    pub subject: String,
    pub issuer: String,
    pub serial: String,
    pub not_before: String,
    pub not_after: String,
    pub days_left: i64,
    pub seconds_left: i64,
    pub status: Verdict,
    #[serde(skip)]
    pub not_after_unix: i64,
    #[serde(skip)]
    pub not_before_unix: i64,
}

/// Run `certtool check`.
pub fn run(args: &CheckArgs, out: &mut Output) -> Result<ExitStatus> {
    if args.prometheus {
        out.refuse_json(
            "--prometheus and --json cannot be used together",
            "choose one output format",
        )?;
    }
    let now = OffsetDateTime::now_utc();
    let window = args.within.map_or(0, crate::duration::whole_seconds);
    for path in &args.paths {
        super::repair_before_reading(out, path)?;
    }
    let report = Report {
        within_seconds: window,
        certificates: check_paths(&args.paths, now, window)?,
        prometheus: args.prometheus,
        now,
    };
    out.report(&report)?;
    Ok(ExitStatus::from_ok(report.ok()))
}

/// What `check` found: each certificate and its verdict.
#[derive(Serialize)]
struct Report {
    within_seconds: i64,
    certificates: Vec<Checked>,
    /// Shown as Prometheus metrics instead of lines (`--prometheus`).
    #[serde(skip)]
    prometheus: bool,
    #[serde(skip)]
    now: OffsetDateTime,
}

impl crate::output::Report for Report {
    fn ok(&self) -> bool {
        self.certificates.iter().all(|c| c.status == Verdict::Ok)
    }

    fn text(&self) -> Text {
        if self.prometheus {
            return Text::data(prometheus_metrics(
                &self.certificates,
                self.now,
                self.within_seconds,
            ));
        }
        let bad = self
            .certificates
            .iter()
            .filter(|c| c.status != Verdict::Ok)
            .count();
        Text {
            listing: true,
            stdout: text_lines(&self.certificates),
            stderr: if bad > 0 {
                format!(
                    "{bad} of {} certificates need attention\n",
                    self.certificates.len()
                )
            } else {
                String::new()
            },
        }
    }
}

/// Check every certificate under `paths`, in order.
pub fn check_paths(paths: &[PathBuf], now: OffsetDateTime, window: i64) -> Result<Vec<Checked>> {
    let mut checked = Vec::new();
    for path in paths {
        let meta =
            fs::metadata(path).with_context(|| format!("cannot read '{}'", path.display()))?;
        if meta.is_dir() {
            let before = checked.len();
            for file in directory_files(path)? {
                // Files that are not certificates (keys, configs) are expected in a directory.
                if let Ok(found) = check_file(&file, now, window) {
                    checked.extend(found);
                }
            }
            if checked.len() == before {
                bail!("'{}' holds no certificate files", path.display());
            }
        } else {
            let found = check_file(path, now, window)?;
            if found.is_empty() {
                return Err(Error::invalid(
                    format!("'{}' holds no certificate", path.display()),
                    "give a certificate (.crt, .pem) or a directory of them",
                )
                .into());
            }
            checked.extend(found);
        }
    }
    Ok(checked)
}

/// The files directly inside `dir` (see `files::list_dir`), leaving out hidden files
/// (certtool's temporary files among them) and `.bak` backups kept by `renew`: an old
/// certificate there is expected to be old.
fn directory_files(dir: &Path) -> Result<Vec<PathBuf>> {
    Ok(files::list_dir(dir)?
        .into_iter()
        .filter(|e| e.file && !e.hidden && !e.backup)
        .map(|e| e.path)
        .collect())
}

fn check_file(path: &Path, now: OffsetDateTime, window: i64) -> Result<Vec<Checked>> {
    let mut found = Vec::new();
    for cert in inputs::load_summaries(path)? {
        found.push(Checked {
            path: path.to_path_buf(),
            index: found.len(),
            status: Verdict::of(&cert, now, window),
            seconds_left: (cert.not_after - now).whole_seconds(),
            not_after_unix: cert.not_after.unix_timestamp(),
            not_before_unix: cert.not_before.unix_timestamp(),
            not_before: format_time(cert.not_before),
            not_after: format_time(cert.not_after),
            days_left: days_until(now, cert.not_after),
            subject: cert.subject,
            issuer: cert.issuer,
            serial: cert.serial,
        });
    }
    Ok(found)
}

/// The path as shown (sanitised: file names in a directory are anyone's to choose), with the
/// position when its file holds a chain.
fn display_path(c: &Checked, chain: bool) -> String {
    let path = crate::text::sanitize(&c.path.display().to_string());
    if chain {
        format!("{path}[{}]", c.index + 1)
    } else {
        path
    }
}

/// For each row, whether its file holds more than one certificate. Rows of one file are
/// adjacent, so one pass over runs of equal paths does it (counting per row was quadratic).
fn chain_flags(checked: &[Checked]) -> Vec<bool> {
    let mut flags = Vec::with_capacity(checked.len());
    for run in checked.chunk_by(|a, b| a.path == b.path) {
        flags.extend(std::iter::repeat_n(run.len() > 1, run.len()));
    }
    flags
}

/// Columns line up, but one very long subject (CA bundles have them) does not widen every row:
/// a cell longer than this simply runs over.
const MAX_COLUMN: usize = 48;

/// One aligned line per certificate: path, subject, days left, status.
fn text_lines(checked: &[Checked]) -> String {
    let in_chain = chain_flags(checked);
    let rows: Vec<[String; 4]> = checked
        .iter()
        .zip(in_chain)
        .map(|(c, in_chain)| {
            let when = match c.status {
                Verdict::Expired => format!("expired {} days ago", -c.days_left),
                Verdict::NotYetValid => format!("valid from {}", c.not_before),
                _ => format!("{} days left", c.days_left),
            };
            [
                display_path(c, in_chain),
                c.subject.clone(),
                when,
                c.status.label().to_owned(),
            ]
        })
        .collect();
    let width = |i: usize| {
        rows.iter()
            .map(|r| r[i].chars().count())
            .filter(|n| *n <= MAX_COLUMN)
            .max()
            .unwrap_or(0)
    };
    let (w0, w1, w2) = (width(0), width(1), width(2));
    let mut text = String::new();
    for [path, subject, when, status] in &rows {
        let _ = writeln!(text, "{path:<w0$}  {subject:<w1$}  {when:<w2$}  {status}");
    }
    text
}

/// The metrics for `node_exporter`'s textfile collector, in the text exposition format.
#[must_use]
pub fn prometheus_metrics(checked: &[Checked], now: OffsetDateTime, window: i64) -> String {
    let mut text = String::new();
    let mut family = |name: &str, help: &str, value: &dyn Fn(&Checked) -> i64| {
        let _ = writeln!(text, "# HELP {name} {help}\n# TYPE {name} gauge");
        for c in checked {
            let _ = writeln!(
                text,
                "{name}{{path=\"{}\",index=\"{}\",subject=\"{}\",serial=\"{}\"}} {}",
                escape_label(&c.path.to_string_lossy()),
                c.index,
                escape_label(&c.subject),
                escape_label(&c.serial),
                value(c)
            );
        }
    };
    family(
        "certtool_cert_not_after_seconds",
        "When the certificate expires (notAfter), as a Unix time.",
        &|c| c.not_after_unix,
    );
    family(
        "certtool_cert_not_before_seconds",
        "When the certificate becomes valid (notBefore), as a Unix time.",
        &|c| c.not_before_unix,
    );
    family(
        "certtool_cert_expires_in_seconds",
        "Seconds from the check until notAfter; negative once expired.",
        &|c| c.seconds_left,
    );
    family(
        "certtool_cert_ok",
        "1 if the certificate is valid and does not expire within the window, else 0.",
        &|c| i64::from(c.status == Verdict::Ok),
    );
    let _ = writeln!(
        text,
        "# HELP certtool_check_window_seconds The --within window of the check.\n\
         # TYPE certtool_check_window_seconds gauge\ncerttool_check_window_seconds {window}\n\
         # HELP certtool_check_timestamp_seconds When the check ran, as a Unix time.\n\
         # TYPE certtool_check_timestamp_seconds gauge\ncerttool_check_timestamp_seconds {}",
        now.unix_timestamp()
    );
    text
}

/// Escape a label value: backslash, double quote and line feed, as the exposition format asks.
fn escape_label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_flags_mark_files_with_several_certificates() {
        let row = |path: &str, index| Checked {
            path: PathBuf::from(path),
            index,
            subject: String::new(),
            issuer: String::new(),
            serial: String::new(),
            not_before: String::new(),
            not_after: String::new(),
            days_left: 0,
            seconds_left: 0,
            status: Verdict::Ok,
            not_after_unix: 0,
            not_before_unix: 0,
        };
        let rows = [row("a", 0), row("b", 0), row("b", 1), row("c", 0)];
        assert_eq!(chain_flags(&rows), [false, true, true, false]);
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape_label("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
    }

    #[test]
    fn verdicts_follow_the_window() {
        let now = OffsetDateTime::now_utc();
        let spec = crate::pki::cert::LeafSpec {
            hosts: vec![crate::pki::Host::parse("a.test").unwrap()],
            validity: crate::pki::Validity::new(now, Some(10), None, None, 365).unwrap(),
            key_type: crate::pki::KeyType::EcdsaP256,
        };
        let issued = crate::pki::cert::self_signed(&spec).unwrap();
        let cert = Summary::from_der(&issued.cert_der).unwrap();
        assert_eq!(Verdict::of(&cert, now, 0), Verdict::Ok);
        assert_eq!(Verdict::of(&cert, now, 9 * 86_400), Verdict::Ok);
        assert_eq!(Verdict::of(&cert, now, 10 * 86_400), Verdict::Expiring);
        let later = now + time::Duration::days(11);
        assert_eq!(Verdict::of(&cert, later, 0), Verdict::Expired);
    }
}
