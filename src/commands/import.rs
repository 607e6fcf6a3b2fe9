//! `certtool import`: install the certificate a CA sent back, beside the key it was requested
//! for, with its chain in the order servers must send it.
//!
//! Parse → validate → act → report: every check (key, dates, usage, hosts, chain) runs before
//! anything is written, and a check that says no writes nothing (exit 1).
//!
//! It must not write but through `files`, nor write a chain that does not lead to a root unless
//! asked to.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Result;
use serde::Serialize;
use time::OffsetDateTime;

use super::{describe_written, lock_targets, resolve_owner, validate_base_name};
use crate::cli::ImportArgs;
use crate::error::ExitStatus;
use crate::files::{self, FileKind, PlannedFile, WriteOptions, Written};
use crate::inputs::{self, Cert};
use crate::output::{Output, Report, Text};
use crate::pki::chain::{self, LeftOut, Missing, RootSource};
use crate::pki::names::{parse_hosts, sans_cover};
use crate::pki::parse::{CertInfo, Status};
use crate::verify::Check;

/// Run `certtool import`.
pub fn run(args: &ImportArgs, out: &mut Output) -> Result<ExitStatus> {
    let now = OffsetDateTime::now_utc();
    let hosts = if args.hosts.is_empty() {
        Vec::new()
    } else {
        parse_hosts(&args.hosts)?
    };
    let paths = Paths::of(args)?;
    let write = WriteOptions {
        force: args.replace.force,
        owner: resolve_owner(args.owner.as_deref())?,
        ..WriteOptions::default()
    };
    let targets = paths.targets();
    lock_targets(out, targets.iter().copied())?;
    files::check_targets(targets.iter().copied(), write.force)?;

    // In the order of the command line, so that the first problem is the one named first.
    let mut certs = inputs::load_certs(&args.cert, "certificate", now)?;
    for file in &args.chain {
        certs.extend(inputs::load_certs(file, "chain file", now)?);
    }
    let key = inputs::load_key(&args.key, "give the private key the request was made with")?;
    let roots = match &args.root {
        Some(path) => inputs::load_certs(path, "root certificate", now)?,
        None => Vec::new(),
    };
    let mut checks = Vec::new();
    let Some(leaf) = certs.iter().position(|c| c.info.matches_key(&key.info)) else {
        checks.push(Check::new(
            "key",
            false,
            format!(
                "the key '{}' belongs to none of the {} certificates given: the CA signed another \
                 request, or this is another key",
                args.key.display(),
                certs.len()
            ),
        ));
        return report_only(out, checks);
    };
    checks.push(Check::new("key", true, "matches the certificate"));
    checks.extend(leaf_checks(&certs[leaf].info, &args.hosts, &hosts));

    let system = std::cell::OnceCell::new();
    let ders: Vec<Vec<u8>> = certs.iter().map(|c| c.der.to_vec()).collect();
    let root_ders: Vec<Vec<u8>> = roots.iter().map(|c| c.der.to_vec()).collect();
    let built = chain::build(&ders, leaf, &root_ders, || {
        system.get_or_init(inputs::system_roots).clone()
    });
    let root = root_of(&built, &certs, &roots, system.get(), now);
    checks.push(chain_check(
        &built,
        &certs,
        root.as_ref(),
        args.allow_incomplete,
    ));
    if checks.iter().any(|c| !c.ok) {
        return report_only(out, checks);
    }

    let mut chain_certs: Vec<&Cert> = built.chain.iter().map(|&i| &certs[i]).collect();
    if args.include_root
        && let Some(root) = &root
    {
        chain_certs.push(&root.cert);
    }
    let written = files::write_all(&planned_files(&paths, &key, &chain_certs), write)?;
    let left_out = left_out(&built, &certs, root.as_ref(), args.include_root);
    out.report(&ImportReport {
        ok: true,
        checks,
        certificate: Some(certs[leaf].info.clone()),
        chain: chain_certs[1..].iter().map(|c| c.info.clone()).collect(),
        root: root.map(|r| RootReport {
            subject: r.cert.info.subject.clone(),
            source: r.source,
            included: args.include_root,
        }),
        missing: built.missing,
        left_out,
        files: written,
        cert_path: paths.cert,
        key_path: paths.key,
        owner: write.owner,
    })?;
    Ok(ExitStatus::Success)
}

/// The chain file, and a copy of the key when it is not already where it goes.
fn planned_files(paths: &Paths, key: &inputs::Key, chain: &[&Cert]) -> Vec<PlannedFile> {
    let mut planned = Vec::with_capacity(2);
    if !paths.key_in_place {
        let key_pem = zeroize::Zeroizing::new(pem::encode_config(
            &pem::Pem::new(key.label.clone(), key.der.to_vec()),
            pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
        ));
        planned.push(PlannedFile::new(
            paths.key.clone(),
            FileKind::PrivateKey,
            key_pem.as_bytes(),
        ));
    }
    let pem: String = chain.iter().map(|c| cert_pem(&c.der)).collect();
    planned.push(PlannedFile::new(
        paths.cert.clone(),
        FileKind::Certificate,
        pem.as_bytes(),
    ));
    planned
}

/// The inputs that are not in the written file, and why.
fn left_out(
    built: &chain::Built,
    certs: &[Cert],
    root: Option<&Root>,
    include_root: bool,
) -> Vec<LeftOut> {
    let root_left_out = root
        .filter(|r| r.source == RootSource::Inputs && !include_root)
        .map(|r| LeftOut {
            subject: r.cert.info.subject.clone(),
            reason: "the root (clients have it; servers should not send it)",
        });
    built
        .left_out
        .iter()
        .map(|&(i, reason)| LeftOut {
            subject: certs[i].info.subject.clone(),
            reason,
        })
        .chain(root_left_out)
        .collect()
}

/// Where the files go: DIR/BASE.crt and DIR/BASE.key, by default the key's own directory and
/// name, so the certificate lands beside the key and the key is not copied.
struct Paths {
    cert: PathBuf,
    key: PathBuf,
    key_in_place: bool,
}

impl Paths {
    fn of(args: &ImportArgs) -> Result<Paths> {
        let dir = args
            .out_dir
            .clone()
            .unwrap_or_else(|| files::parent_dir(&args.key).to_path_buf());
        let stem = || {
            let name = args
                .key
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("server");
            let name = name.strip_suffix(".key").unwrap_or(name);
            name.strip_suffix(".pem").unwrap_or(name).to_owned()
        };
        let base = validate_base_name(&args.name.clone().unwrap_or_else(stem))?;
        let key = dir.join(format!("{base}.key"));
        let key_in_place = same_file(&key, &args.key);
        Ok(Paths {
            cert: dir.join(format!("{base}.crt")),
            key,
            key_in_place,
        })
    }

    fn targets(&self) -> Vec<&Path> {
        let mut targets = vec![self.cert.as_path()];
        if !self.key_in_place {
            targets.push(self.key.as_path());
        }
        targets
    }
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// The leaf must be usable now, by a server, for every host asked for.
fn leaf_checks(leaf: &CertInfo, host_args: &[String], hosts: &[crate::pki::Host]) -> Vec<Check> {
    let mut checks = Vec::new();
    checks.push(match leaf.status {
        Status::Valid => Check::new(
            "validity",
            true,
            format!("valid until {} ({} days)", leaf.not_after, leaf.days_left),
        ),
        Status::Expired => Check::new("validity", false, format!("expired {}", leaf.not_after)),
        Status::NotYetValid => Check::new(
            "validity",
            false,
            format!("not valid before {}", leaf.not_before),
        ),
    });
    let server_usage = leaf.extended_key_usage.is_empty()
        || leaf
            .extended_key_usage
            .iter()
            .any(|u| u == "serverAuth" || u == "anyExtendedKeyUsage");
    checks.push(if leaf.is_ca {
        Check::new("usage", false, "it is a CA certificate, not a server's")
    } else if !server_usage {
        Check::new(
            "usage",
            false,
            format!(
                "its extendedKeyUsage ({}) does not allow a TLS server",
                leaf.extended_key_usage.join(", ")
            ),
        )
    } else {
        Check::new("usage", true, "a TLS server certificate")
    });
    for (arg, host) in host_args.iter().zip(hosts) {
        let covered = sans_cover(&leaf.sans, &host.to_string());
        let detail = if covered {
            "covered by its subjectAltNames".to_owned()
        } else {
            format!(
                "not covered: it has {}",
                crate::pki::names::sans_line(&leaf.sans)
            )
        };
        checks.push(Check::new("name", covered, detail).for_host(arg));
    }
    checks
}

/// The root the chain ends at, as a certificate.
struct Root {
    cert: Cert,
    source: RootSource,
}

fn root_of(
    built: &chain::Built,
    certs: &[Cert],
    roots: &[Cert],
    system: Option<&Vec<Vec<u8>>>,
    now: OffsetDateTime,
) -> Option<Root> {
    let (source, i) = built.root?;
    let cert = match source {
        RootSource::Inputs => certs[i].clone(),
        RootSource::RootFile => roots[i].clone(),
        RootSource::System => {
            let der = system?.get(i)?.clone();
            let info = CertInfo::from_der(&der, now).ok()?;
            Cert {
                der: der.into(),
                info,
            }
        }
    };
    Some(Root { cert, source })
}

fn chain_check(
    built: &chain::Built,
    certs: &[Cert],
    root: Option<&Root>,
    allow_incomplete: bool,
) -> Check {
    let path: Vec<&str> = built
        .chain
        .iter()
        .map(|&i| certs[i].info.subject.as_str())
        .collect();
    if let Some(root) = root {
        let from = match root.source {
            RootSource::Inputs => "among the certificates given",
            RootSource::RootFile => "from --root",
            RootSource::System => "in the system's trust store",
        };
        return Check::new(
            "chain",
            true,
            format!(
                "{} -> root {} ({from})",
                path.join(" -> "),
                root.cert.info.subject
            ),
        );
    }
    let missing = built
        .missing
        .as_ref()
        .map_or_else(String::new, describe_missing);
    let detail = format!(
        "{} stops short of a root: missing {missing}; add it with --chain (the CA's \
         intermediate bundle) or give its root with --root",
        path.join(" -> ")
    );
    if allow_incomplete {
        Check::warning(
            "chain",
            format!("{detail} (written anyway: --allow-incomplete)"),
        )
    } else {
        Check::new("chain", false, detail)
    }
}

fn describe_missing(m: &Missing) -> String {
    match &m.key_id {
        Some(id) => format!("the issuer {} (key id {id})", m.issuer),
        None => format!("the issuer {}", m.issuer),
    }
}

fn cert_pem(der: &[u8]) -> String {
    pem::encode_config(
        &pem::Pem::new("CERTIFICATE", der.to_vec()),
        pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
    )
}

/// The checks of a run that writes nothing, and its exit status (1).
fn report_only(out: &mut Output, checks: Vec<Check>) -> Result<ExitStatus> {
    out.report(&ImportReport {
        ok: false,
        checks,
        ..ImportReport::default()
    })?;
    Ok(ExitStatus::Failure)
}

#[derive(Serialize)]
struct RootReport {
    subject: String,
    source: RootSource,
    /// Written at the end of the chain (`--include-root`).
    included: bool,
}

#[derive(Serialize, Default)]
struct ImportReport {
    /// The output layer writes `ok` (from [`Report::ok`]).
    #[serde(skip)]
    ok: bool,
    checks: Vec<Check>,
    #[serde(skip_serializing_if = "Option::is_none")]
    certificate: Option<CertInfo>,
    /// The certificates after the leaf in the written file.
    chain: Vec<CertInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    root: Option<RootReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    missing: Option<Missing>,
    left_out: Vec<LeftOut>,
    files: Vec<Written>,
    #[serde(skip)]
    cert_path: PathBuf,
    #[serde(skip)]
    key_path: PathBuf,
    #[serde(skip)]
    owner: Option<files::Owner>,
}

impl Report for ImportReport {
    fn ok(&self) -> bool {
        self.ok
    }

    fn text(&self) -> Text {
        let mut text = String::new();
        for c in &self.checks {
            let status = c.status_word();
            let host = c
                .host
                .as_deref()
                .map(|h| format!("{h}: "))
                .unwrap_or_default();
            let _ = writeln!(text, "{status}  {:<8}  {host}{}", c.check, c.detail);
        }
        if !self.ok {
            text.push_str("import: nothing was written\n");
            return Text::listing(text);
        }
        for left in &self.left_out {
            let _ = writeln!(text, "left out  {}: {}", left.subject, left.reason);
        }
        text.push_str(&describe_written(&self.files, self.owner));
        let (crt, key) = (self.cert_path.display(), self.key_path.display());
        let _ = write!(
            text,
            "Next: point the server at them, e.g.\n  \
             certtool config influxdb --cert {crt} --key {key} --in-place /etc/influxdb/influxdb.conf\n  \
             certtool config prometheus --cert {crt} --key {key} --out /etc/prometheus/web-config.yml\n"
        );
        Text::listing(text)
    }
}
