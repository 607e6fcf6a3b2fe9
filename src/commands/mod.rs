//! One module per subcommand, each with `run(args, out) -> Result<ExitStatus>`, plus the few
//! helpers several commands share (output paths, owner, the "what was written" summary).
//!
//! Helpers here are shared by several commands; a command must not import another command's module.

pub mod acme;
pub mod audit;
pub mod ca;
pub mod check;
pub mod completions;
pub mod config;
pub mod csr;
pub mod import;
pub mod init;
pub mod inspect;
pub mod jwt;
pub mod perms;
pub mod provision;
pub mod renew;
pub mod secret;
pub mod selfsigned;
pub mod timer;
pub mod verify;

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::cli::{Cli, Command, OutputArgs};
use crate::error::{Error, ExitStatus};
use crate::files::{self, Owner, Written};
use crate::output::Output;
use crate::pki::Host;
use crate::text::mode_string;

/// Run the parsed command line.
pub fn run(cli: &Cli, out: &mut Output) -> Result<ExitStatus> {
    match &cli.command {
        Command::Selfsigned(args) => selfsigned::run(args, out),
        Command::Ca(cmd) => ca::run(cmd, out),
        Command::Csr(args) => csr::run(args, out),
        Command::Import(args) => import::run(args, out),
        Command::Acme(cmd) => acme::run(cmd, out),
        Command::Audit(cmd) => audit::run(cmd, out),
        Command::Check(args) => check::run(args, out),
        Command::Renew(args) => renew::run(args, out),
        Command::Config(cmd) => config::run(cmd, out),
        Command::Verify(args) => verify::run(args, out),
        Command::Inspect(args) => inspect::run(args, out),
        Command::Perms(args) => perms::run(args, out),
        Command::Secret(cmd) => secret::run(cmd, out),
        Command::Jwt(cmd) => jwt::run(cmd, out),
        Command::Provision(cmd) => provision::run(cmd, out),
        Command::Init(_) => init::run(out),
        Command::Completions(args) => completions::run(args, out),
    }
}

/// Where a certificate and its key go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputPaths {
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl OutputPaths {
    /// `--cert-out`/`--key-out` if given, else `DIR/BASE.crt` and `DIR/BASE.key` where BASE is
    /// `--name` or derived from the first host.
    pub fn resolve(args: &OutputArgs, hosts: &[Host]) -> Result<OutputPaths> {
        Self::resolve_or(
            args,
            &hosts.first().map(Host::file_base).unwrap_or_default(),
        )
    }

    /// As [`OutputPaths::resolve`], with `default_base` when there is no `--name`.
    pub fn resolve_or(args: &OutputArgs, default_base: &str) -> Result<OutputPaths> {
        let base = match &args.name {
            Some(name) => validate_base_name(name)?,
            None => default_base.to_owned(),
        };
        Ok(OutputPaths {
            cert: args
                .cert_out
                .clone()
                .unwrap_or_else(|| args.out_dir.join(format!("{base}.crt"))),
            key: args
                .key_out
                .clone()
                .unwrap_or_else(|| args.out_dir.join(format!("{base}.key"))),
        })
    }
}

pub(crate) fn validate_base_name(name: &str) -> Result<String> {
    if name.is_empty() || name == "." || name == ".." || name.contains('/') || name.contains('\0') {
        return Err(Error::invalid(
            format!(
                "--name '{}' is not a file name",
                crate::text::sanitize(name)
            ),
            "give a plain base name such as influxdb; use --out-dir for the directory",
        )
        .into());
    }
    Ok(name.to_owned())
}

/// Lock the directories of `paths` for the rest of this run, before planning a write there, and
/// say what writes of killed runs were repaired (see `files::journal`).
pub fn lock_targets<'p>(
    out: &mut Output,
    paths: impl IntoIterator<Item = &'p std::path::Path>,
) -> Result<()> {
    for repaired in files::lock_dirs_of(paths)? {
        out.warn(&repaired.to_string())?;
    }
    Ok(())
}

/// Before reading `path`: repair a write that a killed run left half done beside it, so that a
/// check or inspection sees the key and certificate that belong together.
pub fn repair_before_reading(out: &mut Output, path: &std::path::Path) -> Result<()> {
    let probe = if path.is_dir() {
        path.join(".")
    } else {
        path.to_path_buf()
    };
    // A reading command goes on when the repair is refused (an intent record it does not
    // trust): it says so, and what it reads is what is on disk.
    match files::repair_beside(&probe) {
        Ok(repaired) => {
            for r in repaired {
                out.warn(&r.to_string())?;
            }
        }
        Err(e) => out.warn(&format!("{e:#}"))?,
    }
    Ok(())
}

/// The port and health path of the service a certificate is for, guessed from its path
/// (`/etc/ssl/prometheus/prom.crt`), for the example client command; a generic port otherwise.
pub(crate) fn service_endpoint(cert: &std::path::Path) -> &'static str {
    let path = cert.to_string_lossy().to_ascii_lowercase();
    if path.contains("prom") {
        ":9090/-/healthy"
    } else if path.contains("node") || path.contains("exporter") {
        ":9100/metrics"
    } else if path.contains("influx") {
        ":8086/ping"
    } else {
        ":PORT/"
    }
}

/// Where a pair is: a certificate and a key file, or one bundle holding both.
#[derive(Debug, Clone)]
pub(crate) struct PairPaths {
    pub cert: PathBuf,
    pub key: PathBuf,
    /// Both are one file (`--bundle`).
    pub bundled: bool,
}

impl PairPaths {
    /// From `--cert`/`--key`, or `--bundle` (clap allows only one form).
    pub fn of(
        cert: Option<&PathBuf>,
        key: Option<&PathBuf>,
        bundle: Option<&PathBuf>,
    ) -> Option<PairPaths> {
        match (cert, key, bundle) {
            (_, _, Some(bundle)) => Some(PairPaths {
                cert: bundle.clone(),
                key: bundle.clone(),
                bundled: true,
            }),
            (Some(cert), Some(key), None) => Some(PairPaths {
                cert: cert.clone(),
                key: key.clone(),
                bundled: false,
            }),
            _ => None,
        }
    }

    /// The pair of a config command's flags.
    pub fn from_args(args: &crate::cli::ServerPairArgs) -> Result<PairPaths> {
        PairPaths::of(args.cert.as_ref(), args.key.as_ref(), args.bundle.as_ref()).ok_or_else(
            || {
                Error::invalid(
                    "give --cert and --key, or --bundle",
                    "see the command's --help",
                )
                .into()
            },
        )
    }
}

/// A certificate/key pair a service is to be configured with, checked, with absolute paths
/// for its config.
pub(crate) struct ServicePair {
    pub cert: String,
    pub key: String,
    /// Certificate and key are one file.
    pub bundled: bool,
    pub info: crate::pki::parse::CertInfo,
}

/// The account a service runs as: `--service-user`, else the Debian package's user if it
/// exists here (a machine without it is not where the service runs).
pub(crate) fn service_account(
    flag: Option<&str>,
    package_user: &str,
) -> Result<Option<crate::files::access::Account>> {
    use crate::files::access::Account;
    match flag {
        Some(name) => Account::lookup(name).map(Some).ok_or_else(|| {
            Error::invalid(
                format!(
                    "--service-user '{}': no such user",
                    crate::text::sanitize(name)
                ),
                "name the account the service runs as (see: systemctl show -p User SERVICE)",
            )
            .into()
        }),
        None => Ok(Account::lookup(package_user)),
    }
}

/// Warn when the service's account cannot read the key (or the certificate): the config would
/// look right and the service fail with "permission denied".
pub(crate) fn warn_unless_service_can_read(
    out: &mut Output,
    pair: &PairPaths,
    account: Option<&crate::files::access::Account>,
) -> Result<()> {
    let Some(account) = account else {
        return Ok(());
    };
    let files = if pair.bundled {
        vec![&pair.key]
    } else {
        vec![&pair.key, &pair.cert]
    };
    for path in files {
        if let Some(blocked) = crate::files::access::unreadable_by(path, account) {
            let user = &account.name;
            let path = absolute(path)?;
            out.warn_on_success(format!(
                "the {user} user cannot read '{}' ('{}' is {}, mode {}): the service will fail \
                 with \"permission denied\". Give {user} a pair of its own (certtool selfsigned \
                 ... --owner {user}:{user}), or share this one through a group: \
                 chgrp GROUP '{}' && chmod 0640 '{}' with {user} in GROUP (or --service-user \
                 if the service runs as another account)",
                path,
                blocked.path.display(),
                blocked.owner,
                crate::text::mode_string(blocked.mode),
                path,
                path,
            ));
        }
    }
    Ok(())
}

/// The path as a config should name it: absolute and normalised (the directory's real path,
/// without `..` or symbolic links: `/a/b/../c/x.key` is `/a/c/x.key`), as UTF-8 (configs are
/// text). The file name itself is kept: a symlinked key is the operator's choice.
pub(crate) fn absolute(path: &std::path::Path) -> Result<String> {
    let abs = std::path::absolute(path)
        .with_context(|| format!("cannot make '{}' absolute", path.display()))?;
    let abs = match (abs.parent(), abs.file_name()) {
        (Some(dir), Some(name)) => std::fs::canonicalize(dir).map_or(abs.clone(), |d| d.join(name)),
        _ => abs,
    };
    abs.to_str().map(str::to_owned).ok_or_else(|| {
        Error::invalid(
            format!("'{}' is not valid UTF-8", abs.display()),
            "config files are text; rename the file",
        )
        .into()
    })
}

/// [`service_pair`] for a config command's flags, and a warning when `package_user` (or
/// `--service-user`) cannot read the files.
pub(crate) fn configured_pair(
    args: &crate::cli::ServerPairArgs,
    package_user: &str,
    out: &mut Output,
) -> Result<ServicePair> {
    let paths = PairPaths::from_args(args)?;
    let pair = service_pair(&paths, out)?;
    let account = service_account(args.service_user.as_deref(), package_user)?;
    warn_unless_service_can_read(out, &paths, account.as_ref())?;
    Ok(pair)
}

/// Check what promtool and influxd do not: both files exist, the key belongs to the
/// certificate, and the certificate is in its validity period (a warning otherwise).
pub(crate) fn service_pair(pair: &PairPaths, out: &mut Output) -> Result<ServicePair> {
    repair_before_reading(out, &pair.cert)?;
    repair_before_reading(out, &pair.key)?;
    let loaded = crate::inputs::load_pair(&pair.cert, &pair.key, time::OffsetDateTime::now_utc())?;
    let info = loaded
        .certs
        .into_iter()
        .next()
        .map(|c| c.info)
        .context("no certificate")?;
    match info.status {
        crate::pki::parse::Status::Expired => out.warn(&format!(
            "the certificate expired on {}; clients will refuse it",
            info.not_after
        ))?,
        crate::pki::parse::Status::NotYetValid => out.warn(&format!(
            "the certificate is not valid until {}",
            info.not_before
        ))?,
        crate::pki::parse::Status::Valid => {}
    }
    Ok(ServicePair {
        cert: absolute(&pair.cert)?,
        key: absolute(&pair.key)?,
        bundled: pair.bundled,
        info,
    })
}

/// What `selfsigned`, `ca init`, `ca issue` and `renew` all report: the new certificate, described
/// as `inspect`, `check` and `verify` describe certificates, and the files written.
#[derive(Debug, serde::Serialize)]
pub(crate) struct NewCertificate<'a> {
    pub certificate: crate::pki::parse::CertInfo,
    pub files: &'a [Written],
}

impl<'a> NewCertificate<'a> {
    /// Describe the certificate `der` that was just made (by itself when `self_signed`), and
    /// the files it went to.
    pub fn of(
        der: &[u8],
        self_signed: bool,
        now: time::OffsetDateTime,
        files: &'a [Written],
    ) -> Result<Self> {
        Ok(NewCertificate {
            certificate: crate::pki::parse::CertInfo::of_new(der, now, self_signed)?,
            files,
        })
    }
}

/// The one warning for a leaf shortened to its CA's expiry (`ca issue`, `renew`).
pub(crate) fn warn_if_clamped(
    out: &mut Output,
    clamped: bool,
    validity: &crate::pki::Validity,
) -> Result<()> {
    if clamped {
        out.warn(&format!(
            "the certificate would outlive its CA; it expires with the CA on {}",
            crate::pki::validity::format_time(validity.not_after)
        ))?;
    }
    Ok(())
}

/// Resolve `--owner` before anything is written, so an unknown user fails early.
pub fn resolve_owner(spec: Option<&str>) -> Result<Option<Owner>> {
    spec.map(Owner::parse).transpose()
}

/// The mkcert-style lines naming each written file with its mode (and owner).
#[must_use]
pub fn describe_written(written: &[Written], owner: Option<Owner>) -> String {
    let owner_note = owner.map_or_else(String::new, |o| {
        let user = o.uid.map(|u| files::user_name(u.as_raw()));
        let group = o.gid.map(|g| files::group_name(g.as_raw()));
        match (user, group) {
            (Some(u), Some(g)) => format!(", {u}:{g}"),
            (Some(u), None) => format!(", {u}"),
            (None, Some(g)) => format!(", :{g}"),
            (None, None) => String::new(),
        }
    });
    let mut text = String::new();
    for w in written {
        let label = w.kind.label();
        let replaced = if w.replaced { ", replaced" } else { "" };
        let _ = writeln!(
            text,
            "  {label:<12} {} ({}{owner_note}{replaced})",
            w.path.display(),
            mode_string(w.mode)
        );
    }
    text
}

/// Warn about wildcard coverage: a wildcard covers one label only, and never the bare domain: say so when that is likely a
/// surprise.
pub fn warn_about_coverage(out: &mut Output<'_>, hosts: &[Host]) -> Result<()> {
    for host in hosts.iter().filter(|h| h.is_wildcard()) {
        let Host::Dns(name) = host else { continue };
        let bare = &name[2..];
        if !hosts.contains(&Host::Dns(bare.to_owned())) {
            out.warn(&format!(
                "{name} does not cover {bare} itself; add --host {bare} if clients use it"
            ))?;
        }
    }
    Ok(())
}

#[must_use]
pub fn url_host(host: &Host) -> String {
    match host {
        Host::Ip(std::net::IpAddr::V6(ip)) => format!("[{ip}]"),
        Host::Dns(name) if name.starts_with("*.") => format!("www{}", &name[1..]),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(name: Option<&str>) -> OutputArgs {
        OutputArgs {
            out_dir: PathBuf::from("/etc/ssl"),
            name: name.map(str::to_owned),
            cert_out: None,
            key_out: None,
            owner: None,
            replace: crate::cli::ForceArgs { force: false },
        }
    }

    #[test]
    fn default_paths_come_from_the_first_host() {
        let hosts = [Host::parse("*.example.com").unwrap()];
        let paths = OutputPaths::resolve(&args(None), &hosts).unwrap();
        assert_eq!(
            paths.cert,
            PathBuf::from("/etc/ssl/_wildcard.example.com.crt")
        );
        assert_eq!(
            paths.key,
            PathBuf::from("/etc/ssl/_wildcard.example.com.key")
        );
        let paths = OutputPaths::resolve(&args(Some("influxdb")), &hosts).unwrap();
        assert_eq!(paths.key, PathBuf::from("/etc/ssl/influxdb.key"));
    }

    #[test]
    fn base_names_with_slashes_are_refused() {
        let hosts = [Host::parse("a.example").unwrap()];
        for bad in ["", ".", "..", "a/b"] {
            assert!(
                OutputPaths::resolve(&args(Some(bad)), &hosts).is_err(),
                "{bad}"
            );
        }
    }
}
