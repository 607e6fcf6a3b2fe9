//! `certtool renew`: re-issue a certificate with the same names and replace it atomically,
//! keeping the old pair as `.bak`; idempotent with `--within`, so it can run from a timer.
//!
//! It must not replace the pair but through `files` (all or nothing, `.bak` kept).

use std::fmt::Write as _;
use std::os::fd::AsFd as _;
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{Context, Result};
use serde::Serialize;
use time::OffsetDateTime;

use crate::cli::RenewArgs;
use crate::error::{Error, ExitStatus};
use crate::files::{self, FileKind, PlannedFile, WriteOptions};
use crate::inputs;
use crate::output::Output;
use crate::pki::cert::{self, Issued, Renewal};
use crate::pki::keys;
use crate::pki::parse::CertInfo;
use crate::pki::validity::{CLOCK_SKEW, Validity, checked_end};
use crate::text::mode_string;

/// The most a renewed private key may be open to: owner read/write, group read.
const KEY_MODE_CEILING: u32 = 0o640;

/// `--install-timer` and `--cron`: this renewal, run daily by systemd or cron.
fn schedule(args: &RenewArgs, out: &mut Output) -> Result<ExitStatus> {
    // The certificate must be one certtool can renew, before anything runs it every day.
    read_certificate(&args.cert, OffsetDateTime::now_utc())?;
    let renewal = crate::commands::timer::Renewal {
        cert: args.cert.clone(),
        key: args.key.clone(),
        ca: args.ca_cert.clone().zip(args.ca_key.clone()),
        within: args.within.map_or_else(|| "30d".to_owned(), window_text),
        exec: args.exec.clone(),
    };
    if args.cron {
        out.refuse_json("a crontab line is text", "drop --json")?;
        out.data(&renewal.cron_line()?)?;
        return Ok(ExitStatus::Success);
    }
    let (service, timer, written) = renewal.install(&args.systemd_dir, false)?;
    let changed = !written.is_empty();
    let stem = renewal.unit_stem();
    out.report(&TimerReport {
        service: &service,
        timer: &timer,
        changed,
        enable: format!("systemctl daemon-reload && systemctl enable --now {stem}.timer"),
    })?;
    Ok(ExitStatus::Success)
}

/// A window as `--within` takes it: whole days when it is, else seconds.
pub(crate) fn window_text(window: std::time::Duration) -> String {
    let secs = window.as_secs();
    if secs.is_multiple_of(86_400) {
        format!("{}d", secs / 86_400)
    } else {
        format!("{secs}s")
    }
}

/// What `--install-timer` wrote.
#[derive(Serialize)]
struct TimerReport<'a> {
    service: &'a std::path::Path,
    timer: &'a std::path::Path,
    changed: bool,
    enable: String,
}

impl crate::output::Report for TimerReport<'_> {
    fn ok(&self) -> bool {
        true
    }

    fn text(&self) -> crate::output::Text {
        let what = if self.changed { "written" } else { "unchanged" };
        crate::output::Text::note(format!(
            "{} and {}: {what} (0644). Start it with: {}",
            self.service.display(),
            self.timer.display(),
            self.enable
        ))
    }
}

/// Run `certtool renew`.
pub fn run(args: &RenewArgs, out: &mut Output) -> Result<ExitStatus> {
    if args.install_timer || args.cron {
        return schedule(args, out);
    }
    let now = OffsetDateTime::now_utc();
    let cert_path = &args.cert;
    let key_path = args
        .key
        .clone()
        .unwrap_or_else(|| cert_path.with_extension("key"));
    super::lock_targets(out, [cert_path.as_path(), key_path.as_path()])?;
    // Refuse links and odd files at either path before any work.
    files::check_targets([cert_path.as_path(), key_path.as_path()], true)?;
    let (der, info) = read_certificate(cert_path, now)?;
    let seconds_left = (info.not_after_time - now).whole_seconds();
    if let Some(window) = args.within.map(crate::duration::whole_seconds)
        && seconds_left > window
    {
        return report_not_due(out, cert_path, &info);
    }
    let renewal = Renewal::of(&der, &info)
        .with_context(|| format!("cannot renew '{}'", cert_path.display()))?;
    let validity = new_validity(args, &renewal, now)?;
    let old = Old {
        info: &info,
        renewal: &renewal,
        key_path: &key_path,
    };
    let Signed {
        issued,
        chain,
        signer,
    } = sign(args, &old, validity, now, out)?;
    let new_key = (!args.reuse_key).then_some(issued.key_pem.as_str());
    let cert_text = format!("{}{chain}", issued.cert_pem);
    let (written, exec) = replace_pair(
        cert_path,
        &key_path,
        new_key,
        &cert_text,
        args.exec.as_deref(),
    )?;
    let report = Report {
        renewed: true,
        new: super::NewCertificate::of(&issued.cert_der, args.ca_cert.is_none(), now, &written)?,
        signed_by: signer,
        new_key: !args.reuse_key,
        old_not_after: info.not_after.clone(),
        exec: exec.as_ref(),
        path: cert_path,
    };
    render(out, &report)?;
    Ok(ExitStatus::from_ok(exec.is_none_or(|e| e.success)))
}

pub(crate) fn read_certificate(path: &Path, now: OffsetDateTime) -> Result<(Vec<u8>, CertInfo)> {
    let bundle = inputs::load_bundle(path, "certificate", now)
        .with_context(|| format!("cannot renew '{}'", path.display()))?;
    if !bundle.keys.is_empty() {
        return Err(Error::invalid(
            format!("'{}' holds a private key as well", path.display()),
            "renew works on a separate certificate and key (NAME.crt and NAME.key)",
        )
        .into());
    }
    let cert = bundle.certs.into_iter().next().ok_or_else(|| {
        Error::invalid(
            format!("'{}' holds no certificate", path.display()),
            "give the certificate file (.crt) to renew",
        )
    })?;
    Ok((cert.der.to_vec(), cert.info))
}

/// From now (less the clock-skew allowance) for `--days`, or for the old lifetime.
fn new_validity(args: &RenewArgs, renewal: &Renewal, now: OffsetDateTime) -> Result<Validity> {
    let not_before = now - CLOCK_SKEW;
    let lifetime = match args.days {
        Some(days) => time::Duration::days(i64::from(days)),
        None => renewal.lifetime,
    };
    if lifetime <= time::Duration::ZERO {
        return Err(Error::invalid(
            "the old certificate's lifetime is not positive",
            "give the new lifetime with --days",
        )
        .into());
    }
    let not_after = checked_end(not_before, lifetime).ok_or_else(|| {
        Error::invalid(
            format!(
                "a certificate renewed for the old lifetime ({} days) would expire after the year 9999",
                lifetime.whole_days()
            ),
            "give the new lifetime with --days",
        )
    })?;
    Ok(Validity {
        not_before,
        not_after,
    })
}

/// The certificate being renewed, and where its key is.
struct Old<'a> {
    info: &'a CertInfo,
    renewal: &'a Renewal,
    key_path: &'a Path,
}

/// A signed renewal.
struct Signed {
    issued: Issued,
    /// The CA's chain, to follow the new certificate in its file (empty when self-signed).
    chain: String,
    /// Who signed it: the CA's subject, or "itself".
    signer: String,
}

/// Sign the renewal, self-signed or by the CA given.
fn sign(
    args: &RenewArgs,
    old: &Old<'_>,
    validity: Validity,
    now: OffsetDateTime,
    out: &mut Output,
) -> Result<Signed> {
    let (info, renewal, key_path) = (old.info, old.renewal, old.key_path);
    let key = if args.reuse_key {
        load_existing_key(key_path, info)?
    } else {
        warn_if_key_mismatched(key_path, info, out)?;
        keys::generate(renewal.key_type)?
    };
    match (&args.ca_cert, &args.ca_key) {
        (Some(ca_cert), Some(ca_key)) => {
            let ca = inputs::load_ca(ca_cert, ca_key, now)?;
            ca.check_hosts(&renewal.hosts)?;
            if !info.self_signed && info.issuer != ca.info.subject {
                out.warn(&format!(
                    "the old certificate was issued by '{}'; the new one is issued by '{}'",
                    info.issuer, ca.info.subject
                ))?;
            }
            let (validity, clamped) = ca.clamp(validity);
            super::warn_if_clamped(out, clamped, &validity)?;
            let issued = ca.sign(&renewal.params(validity)?, &key)?;
            Ok(Signed {
                issued,
                chain: ca.chain_pem.clone(),
                signer: ca.info.subject.clone(),
            })
        }
        _ if !info.self_signed => Err(Error::invalid(
            format!(
                "'{}' was issued by '{}', not self-signed",
                args.cert.display(),
                info.issuer
            ),
            "pass the CA with --ca-cert and --ca-key to renew it",
        )
        .into()),
        _ => {
            let issued = cert::sign_self(&renewal.params(validity)?, &key)?;
            Ok(Signed {
                issued,
                chain: String::new(),
                signer: "itself".to_owned(),
            })
        }
    }
}

fn load_existing_key(key_path: &Path, info: &CertInfo) -> Result<rcgen::KeyPair> {
    let hint = "--reuse-key needs the certificate's key; name it with --key";
    let key = inputs::load_key(key_path, hint)?;
    if !info.matches_key(&key.info) {
        return Err(Error::invalid(
            format!(
                "the key '{}' does not match the certificate",
                key_path.display()
            ),
            "name the certificate's own key with --key, or drop --reuse-key to make a new one",
        )
        .into());
    }
    key.signing_key()
        .with_context(|| format!("cannot read the key '{}'", key_path.display()))
}

/// A new key replaces the old one anyway, but a key that never matched suggests a wrong --key.
fn warn_if_key_mismatched(key_path: &Path, info: &CertInfo, out: &mut Output) -> Result<()> {
    if !key_path.exists() {
        return Err(Error::invalid(
            format!("the key '{}' does not exist", key_path.display()),
            "name the certificate's key with --key",
        )
        .into());
    }
    let matches = inputs::load_key(key_path, "")
        .ok()
        .map(|k| info.matches_key(&k.info));
    if matches != Some(true) {
        out.warn(&format!(
            "'{}' is not the certificate's key; it is replaced by the new key anyway \
             (the old one is kept as .bak)",
            key_path.display()
        ))?;
    }
    Ok(())
}

/// Replace a renewed pair in place: the new certificate file (and `new_key`, unless the key is
/// kept) with the old files' mode and owner (a key never more open than 0640), the old ones
/// kept as `.bak`, all or nothing; then `exec`, only after the files are in place.
pub(crate) fn replace_pair(
    cert_path: &Path,
    key_path: &Path,
    new_key: Option<&str>,
    cert_text: &str,
    exec: Option<&str>,
) -> Result<(Vec<crate::files::Written>, Option<Exec>)> {
    let mut planned = Vec::with_capacity(2);
    if let Some(pem) = new_key {
        let mut key =
            PlannedFile::new(key_path.to_path_buf(), FileKind::PrivateKey, pem.as_bytes());
        key.inherit_mode_and_owner(KEY_MODE_CEILING)?;
        planned.push(key);
    }
    let mut cert = PlannedFile::new(
        cert_path.to_path_buf(),
        FileKind::Certificate,
        cert_text.as_bytes(),
    );
    cert.inherit_mode_and_owner(0o644)?;
    planned.push(cert);
    let written = files::write_all(
        &planned,
        WriteOptions {
            force: true,
            keep_backups: true,
            ..WriteOptions::default()
        },
    )?;
    let exec = exec.map(|command| run_exec(command, cert_path, key_path));
    Ok((written, exec))
}

/// What `--exec` did.
#[derive(Debug, Serialize)]
pub(crate) struct Exec {
    command: String,
    pub success: bool,
    status: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// Run the post-renewal command through `sh -c`, its output on our stderr so that stdout
/// stays clean for --json, with the renewed paths in the environment.
pub(crate) fn run_exec(command: &str, cert: &Path, key: &Path) -> Exec {
    let stderr = std::io::stderr()
        .as_fd()
        .try_clone_to_owned()
        .map(Stdio::from);
    let result = Command::new("/bin/sh")
        .arg("-c")
        .arg(command)
        .env("CERTTOOL_CERT", cert)
        .env("CERTTOOL_KEY", key)
        // The command needs the paths, not influxd's shared secret.
        .env_remove(crate::secret::INFLUXDB_SECRET_ENV)
        .stdin(Stdio::null())
        .stdout(stderr.unwrap_or_else(|_| Stdio::null()))
        .status();
    match result {
        Ok(status) => Exec {
            command: command.to_owned(),
            success: status.success(),
            status: status.code(),
            error: None,
        },
        Err(e) => Exec {
            command: command.to_owned(),
            success: false,
            status: None,
            error: Some(e.to_string()),
        },
    }
}

#[derive(Serialize)]
struct Report<'a> {
    renewed: bool,
    #[serde(flatten)]
    new: super::NewCertificate<'a>,
    signed_by: String,
    new_key: bool,
    old_not_after: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    exec: Option<&'a Exec>,
    #[serde(skip)]
    path: &'a Path,
}

fn render(out: &mut Output, r: &Report<'_>) -> Result<()> {
    if let Some(exec) = r.exec.filter(|e| !e.success) {
        let why = exec.error.clone().unwrap_or_else(|| match exec.status {
            Some(code) => format!("exit status {code}"),
            None => "killed by a signal".to_owned(),
        });
        out.warn(&format!(
            "the certificate was renewed, but --exec '{}' failed ({why})",
            crate::text::sanitize(&exec.command)
        ))?;
    }
    out.report(r)?;
    Ok(())
}

impl crate::output::Report for Report<'_> {
    /// A renewal whose --exec failed still stands, but says no.
    fn ok(&self) -> bool {
        self.exec.is_none_or(|e| e.success)
    }

    fn text(&self) -> crate::output::Text {
        let r = self;
        let cert = &r.new.certificate;
        let mut text = format!(
            "Renewed {} (signed by {}); it now expires {} ({} days)\n",
            r.path.display(),
            r.signed_by,
            cert.not_after,
            cert.days_left
        );
        for w in r.new.files {
            let kept = w
                .backup
                .as_ref()
                .map(|b| format!(", old one kept as {}", b.display()))
                .unwrap_or_default();
            let _ = writeln!(
                text,
                "  {} ({}{kept})",
                w.path.display(),
                mode_string(w.mode)
            );
        }
        crate::output::Text::note(text)
    }
}

pub(crate) fn report_not_due(out: &mut Output, path: &Path, info: &CertInfo) -> Result<ExitStatus> {
    out.report(&NotDue {
        renewed: false,
        certificate: info,
        path,
    })?;
    Ok(ExitStatus::Success)
}

/// `renew --within` when the certificate has longer left: nothing done.
#[derive(Serialize)]
struct NotDue<'a> {
    renewed: bool,
    /// The certificate as it stands.
    certificate: &'a CertInfo,
    #[serde(skip)]
    path: &'a Path,
}

impl crate::output::Report for NotDue<'_> {
    fn ok(&self) -> bool {
        true
    }

    fn text(&self) -> crate::output::Text {
        crate::output::Text::note(format!(
            "{}: not due ({} days left, until {})\n",
            self.path.display(),
            self.certificate.days_left,
            self.certificate.not_after
        ))
    }
}
