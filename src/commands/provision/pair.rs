//! The steps every `provision` shares: the local CA, the key and certificate, the renewal
//! timer, the reload, and waiting for the server.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, Result, anyhow};
use time::OffsetDateTime;

use super::{Done, Run, Status};
use crate::commands::OutputPaths;
use crate::error::Error;
use crate::files::{self, FileKind, PlannedFile, WriteOptions};
use crate::inputs;
use crate::pki::ca::{CaSpec, Constraints, LoadedCa};
use crate::pki::cert::LeafSpec;
use crate::pki::names::Host;
use crate::secret::INFLUXDB_SECRET_ENV;
use crate::verify::probe::Target;

/// The pair a server is provisioned with, decided before anything is done.
pub(super) struct Plan {
    pub hosts: Vec<Host>,
    pub spec_days: u32,
    pub key_type: crate::pki::KeyType,
    pub renew_within: Duration,
    pub paths: OutputPaths,
    pub owner: Option<files::Owner>,
    pub ca_dir: Option<PathBuf>,
    /// What clients trust: the CA's certificate, or the server's own.
    pub trust: PathBuf,
}

impl Plan {
    /// Check the flags (hosts, days, owner) before anything is done.
    pub fn new(
        flags: &crate::cli::ProvisionPairArgs,
        name: &str,
        now: OffsetDateTime,
    ) -> Result<Plan> {
        let hosts = crate::pki::names::parse_hosts(&flags.hosts.hosts)?;
        let days = flags
            .days
            .unwrap_or(crate::commands::selfsigned::DEFAULT_DAYS);
        // Validity is worked out again when a certificate is made; this checks the flag now.
        crate::pki::Validity::new(now, Some(days), None, None, days)?;
        if u64::from(days) * 86_400 <= flags.renew_within.as_secs() {
            return Err(Error::invalid(
                format!(
                    "a certificate for {days} days is always due for renewal with --renew-within {}",
                    crate::commands::renew::window_text(flags.renew_within)
                ),
                "give a longer --days, or a shorter --renew-within: else every run issues a new one",
            )
            .into());
        }
        let paths = OutputPaths {
            cert: flags.out_dir.join(format!("{name}.crt")),
            key: flags.out_dir.join(format!("{name}.key")),
        };
        let trust = flags
            .ca_dir
            .as_ref()
            .map_or_else(|| paths.cert.clone(), |dir| dir.join("ca.crt"));
        Ok(Plan {
            hosts,
            spec_days: days,
            key_type: flags.key_type,
            renew_within: flags.renew_within,
            paths,
            owner: crate::commands::resolve_owner(flags.owner.as_deref())?,
            ca_dir: flags.ca_dir.clone(),
            trust,
        })
    }

    /// The names the certificate is for, as `audit` checks a certificate covers them
    /// (wildcards left out: no client asks for `*.example.com` itself).
    pub fn names(&self) -> Vec<String> {
        self.hosts
            .iter()
            .filter(|h| !h.is_wildcard())
            .map(ToString::to_string)
            .collect()
    }

    /// The user `--owner` names, if it names one.
    pub fn owner_user(&self) -> Option<String> {
        self.owner
            .and_then(|o| o.uid)
            .map(|u| files::user_name(u.as_raw()))
    }

    /// The hosts, for people.
    pub fn host_names(&self) -> String {
        self.hosts
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The local CA in `dir`: loaded, or made when the directory has none.
pub(super) fn local_ca(
    dir: &Path,
    plan: &Plan,
    now: OffsetDateTime,
    run: &mut Run,
) -> Result<(Done, Option<LoadedCa>)> {
    let ca_files = |key: &str, cert: &str| {
        crate::commands::ca::key_and_cert(
            &OutputPaths {
                cert: dir.join("ca.crt"),
                key: dir.join("ca.key"),
            },
            key,
            cert,
        )
    };
    let (cert, key) = (dir.join("ca.crt"), dir.join("ca.key"));
    match (cert.exists(), key.exists()) {
        (true, true) => {
            let ca = inputs::load_ca(&cert, &key, now)?;
            ca.check_hosts(&plan.hosts)?;
            let detail = format!("{} ({})", ca.info.subject, cert.display());
            Ok(((Status::Unchanged, detail), Some(ca)))
        }
        (false, false) if run.dry_run => {
            let files = ca_files("", "");
            run.files
                .extend(files::preview(&files, WriteOptions::default())?);
            Ok((
                (
                    Status::Created,
                    format!("would create {} and {}", cert.display(), key.display()),
                ),
                None,
            ))
        }
        (false, false) => {
            let spec = CaSpec {
                common_name: "certtool local CA".to_owned(),
                validity: crate::pki::Validity::new(
                    now,
                    None,
                    None,
                    None,
                    crate::commands::ca::DEFAULT_CA_DAYS,
                )?,
                key_type: crate::pki::KeyType::EcdsaP256,
                path_len: 0,
                constraints: Constraints::default(),
            };
            let issued = crate::pki::ca::init(&spec)?;
            let files = ca_files(&issued.key_pem, &issued.cert_pem);
            run.files
                .extend(files::write_all(&files, WriteOptions::default())?);
            let ca = inputs::load_ca(&cert, &key, now)?;
            Ok((
                (
                    Status::Created,
                    format!("{} ({})", ca.info.subject, cert.display()),
                ),
                Some(ca),
            ))
        }
        _ => Err(Error::invalid(
            format!("'{}' holds only one of ca.crt and ca.key", dir.display()),
            "a CA needs both; restore the missing file, or give another --ca-dir",
        )
        .into()),
    }
}

/// Why the existing pair must be issued again, if it must.
fn reissue_reason(
    plan: &Plan,
    ca: Option<&LoadedCa>,
    args_key_type: crate::pki::KeyType,
    renew_within: Duration,
    now: OffsetDateTime,
) -> Result<Option<String>> {
    let pair = inputs::load_pair(&plan.paths.cert, &plan.paths.key, now)?;
    let leaf = &pair.leaf().info;
    let mut have: Vec<String> = leaf
        .sans
        .iter()
        .map(|s| match s {
            crate::pki::names::San::Dns(d) => d.clone(),
            crate::pki::names::San::Ip(ip) => ip.to_string(),
            other => other.to_string(),
        })
        .collect();
    let mut want: Vec<String> = plan.hosts.iter().map(ToString::to_string).collect();
    have.sort();
    want.sort();
    if have != want {
        return Ok(Some(format!(
            "the hosts changed (it had {})",
            have.join(", ")
        )));
    }
    match ca {
        Some(ca) if leaf.issuer != ca.info.subject || leaf.self_signed => {
            return Ok(Some(format!(
                "it was issued by {}, not the CA",
                leaf.issuer
            )));
        }
        None if !leaf.self_signed => {
            return Ok(Some(format!(
                "it was issued by {}; this run makes it self-signed",
                leaf.issuer
            )));
        }
        _ => {}
    }
    if leaf.key_type != args_key_type.name() {
        return Ok(Some(format!(
            "its key is {}, not {}",
            leaf.key_type,
            args_key_type.name()
        )));
    }
    let left = leaf.not_after_time - now;
    if left.whole_seconds() <= crate::duration::whole_seconds(renew_within) {
        return Ok(Some(format!(
            "it expires {} (within --renew-within)",
            leaf.not_after
        )));
    }
    Ok(None)
}

/// The key and certificate: made, re-issued, or left as they are. Returns whether they changed.
pub(super) fn certificate(
    plan: &Plan,
    ca: Option<&LoadedCa>,
    now: OffsetDateTime,
    run: &mut Run,
) -> Result<(Done, bool)> {
    let (cert_exists, key_exists) = (plan.paths.cert.exists(), plan.paths.key.exists());
    let args_key_type = plan.key_type;
    let reason = match (cert_exists, key_exists) {
        (true, true) => reissue_reason(plan, ca, args_key_type, plan.renew_within, now)?,
        (false, false) => None,
        _ => {
            return Err(Error::invalid(
                format!(
                    "only one of '{}' and '{}' exists",
                    plan.paths.cert.display(),
                    plan.paths.key.display()
                ),
                "restore the other, or remove the one left (a key is never replaced silently)",
            )
            .into());
        }
    };
    let exists = cert_exists && key_exists;
    if exists && reason.is_none() {
        let pair = inputs::load_pair(&plan.paths.cert, &plan.paths.key, now)?;
        let leaf = pair.leaf().info.clone();
        let detail = format!(
            "{} ({} days left)",
            plan.paths.cert.display(),
            leaf.days_left
        );
        run.certificate = Some(leaf);
        return Ok(((Status::Unchanged, detail), false));
    }
    let status = if exists {
        Status::Changed
    } else {
        Status::Created
    };
    let why = reason.map_or_else(String::new, |r| format!(": {r}"));
    let opts = WriteOptions {
        force: exists,
        owner: plan.owner,
        keep_backups: exists,
    };
    let pair_files = |key: &[u8], cert: &[u8]| {
        [
            PlannedFile::new(plan.paths.key.clone(), FileKind::PrivateKey, key),
            PlannedFile::new(plan.paths.cert.clone(), FileKind::Certificate, cert),
        ]
    };
    if run.dry_run {
        let preview = files::preview(&pair_files(b"", b""), opts)?;
        let detail = format!("would write {}{why}", files_text(&preview));
        run.files.extend(preview);
        return Ok(((status, detail), true));
    }
    let (issued, chain) = issue(plan, ca, args_key_type, now)?;
    crate::files::lock_dirs_of([plan.paths.cert.as_path(), plan.paths.key.as_path()])?;
    let written = files::write_all(
        &pair_files(issued.key_pem.as_bytes(), chain.as_bytes()),
        opts,
    )?;
    run.certificate = Some(crate::pki::parse::CertInfo::of_new(
        &issued.cert_der,
        now,
        ca.is_none(),
    )?);
    let detail = format!("{}{why}", files_text(&written));
    run.files.extend(written);
    Ok(((status, detail), true))
}

/// `PATH (MODE), PATH (MODE)`, for a step's detail.
fn files_text(files: &[files::Written]) -> String {
    files
        .iter()
        .map(|w| {
            format!(
                "{} ({})",
                w.path.display(),
                crate::text::mode_string(w.mode)
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A new pair for the plan's hosts, from the CA or self-signed; also the certificate file's
/// text (with a CA, the leaf and then the CA's chain).
fn issue(
    plan: &Plan,
    ca: Option<&LoadedCa>,
    key_type: crate::pki::KeyType,
    now: OffsetDateTime,
) -> Result<(crate::pki::cert::Issued, String)> {
    let validity =
        crate::pki::Validity::new(now, Some(plan.spec_days), None, None, plan.spec_days)?;
    let mut spec = LeafSpec {
        hosts: plan.hosts.clone(),
        validity,
        key_type,
    };
    let Some(ca) = ca else {
        let issued = crate::pki::cert::self_signed(&spec)?;
        let chain = issued.cert_pem.clone();
        return Ok((issued, chain));
    };
    // A leaf never outlives its CA.
    spec.validity = ca.clamp(spec.validity).0;
    let issued = ca.issue(&spec, false)?;
    let chain = format!("{}{}", issued.cert_pem, ca.chain_pem);
    Ok((issued, chain))
}

/// A systemd service and timer that renew the certificate daily and run `--reload` after.
pub(super) fn renew_timer(
    plan: &Plan,
    reload: Option<&str>,
    systemd_dir: &Path,
    run: &mut Run,
) -> Result<(Done, ())> {
    let renewal = crate::commands::timer::Renewal {
        cert: plan.paths.cert.clone(),
        key: None,
        ca: plan
            .ca_dir
            .as_ref()
            .map(|dir| (dir.join("ca.crt"), dir.join("ca.key"))),
        within: crate::commands::renew::window_text(plan.renew_within),
        exec: reload.map(str::to_owned),
    };
    let (service, timer, written) = renewal.install(systemd_dir, run.dry_run)?;
    let status = Status::of_files(&written);
    run.files.extend(written);
    let detail = format!(
        "{} and {} (enable: systemctl enable --now {}.timer)",
        service.display(),
        timer.display(),
        renewal.unit_stem()
    );
    Ok(((status, detail), ()))
}

/// `--reload`, only when something the server reads changed.
pub(super) fn reload(
    command: Option<&str>,
    server: &str,
    changed: bool,
    dry_run: bool,
) -> Result<(Done, ())> {
    let Some(command) = command else {
        let detail = if changed {
            format!("no --reload: restart {server} yourself to apply the changes")
        } else {
            format!("nothing {server} reads changed")
        };
        return Ok(((Status::Skipped, detail), ()));
    };
    if !changed {
        return Ok((
            (
                Status::Unchanged,
                format!("nothing {server} reads changed: not run"),
            ),
            (),
        ));
    }
    if dry_run {
        return Ok((
            (
                Status::Changed,
                format!("would run: {}", crate::text::sanitize(command)),
            ),
            (),
        ));
    }
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(command)
        .env_remove(INFLUXDB_SECRET_ENV)
        .stdout(std::process::Stdio::null())
        .status()
        .with_context(|| "cannot run the --reload command")?;
    if !status.success() {
        return Err(anyhow!("the --reload command failed ({status})"));
    }
    Ok((
        (
            Status::Changed,
            format!("ran: {}", crate::text::sanitize(command)),
        ),
        (),
    ))
}

/// The server, once it listens: after a restart a server takes a moment.
pub(super) fn wait_for(target: &Target) -> Result<()> {
    let addr = target
        .connect
        .map_or_else(|| target.addr(Duration::from_secs(1)), Ok)?;
    for _ in 0..300 {
        if std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(anyhow!(
        "the server does not listen on {addr} (30 s): is it running with the new config?"
    ))
}
