//! `certtool selfsigned`: a new key and a self-signed server certificate.
//!
//! Parse → validate → act: the flags become a [`Plan`] (hosts, validity, paths, owner) and every
//! output path is checked before a key is generated, so a refused run leaves nothing behind.
//!
//! It must not write but through `files`, nor make a key before the targets are checked.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::Result;
use serde::Serialize;
use time::OffsetDateTime;

use super::{
    NewCertificate, OutputPaths, describe_written, lock_targets, resolve_owner, url_host,
    warn_about_coverage,
};
use crate::cli::SelfsignedArgs;
use crate::error::ExitStatus;
use crate::files::{self, FileKind, PlannedFile, WriteOptions, Written};
use crate::output::Output;
use crate::pki::cert::{self, Issued, LeafSpec};
use crate::pki::names::parse_hosts;

/// Default validity of a self-signed certificate, in days.
pub const DEFAULT_DAYS: u32 = 365;

/// Everything `selfsigned` will do, decided before doing any of it.
#[derive(Debug)]
pub struct Plan {
    pub spec: LeafSpec,
    pub cert_path: Option<PathBuf>,
    pub key_path: Option<PathBuf>,
    pub bundle_path: Option<PathBuf>,
    pub write: WriteOptions,
}

impl Plan {
    /// Validate the flags into a plan. Reads nothing but the user database (for --owner).
    pub fn from_args(args: &SelfsignedArgs, now: OffsetDateTime) -> Result<Plan> {
        let hosts = parse_hosts(&args.hosts.hosts)?;
        let validity = args.validity.validity(now, DEFAULT_DAYS)?;
        let (cert_path, key_path) = if args.bundle_only {
            (None, None)
        } else {
            let paths = OutputPaths::resolve(&args.output, &hosts)?;
            (Some(paths.cert), Some(paths.key))
        };
        Ok(Plan {
            spec: LeafSpec {
                hosts,
                validity,
                key_type: args.key_type,
            },
            cert_path,
            key_path,
            bundle_path: args.bundle.clone(),
            write: WriteOptions {
                force: args.output.replace.force,
                owner: resolve_owner(args.output.owner.as_deref())?,
                ..WriteOptions::default()
            },
        })
    }

    fn targets(&self) -> impl Iterator<Item = &std::path::Path> {
        [&self.key_path, &self.cert_path, &self.bundle_path]
            .into_iter()
            .flatten()
            .map(PathBuf::as_path)
    }

    /// The files to write for `issued`: key first, so a reader never finds a certificate whose
    /// key is missing.
    fn files(&self, issued: &Issued) -> Vec<PlannedFile> {
        let mut planned = Vec::with_capacity(3);
        if let Some(path) = &self.key_path {
            planned.push(PlannedFile::new(
                path.clone(),
                FileKind::PrivateKey,
                issued.key_pem.as_bytes(),
            ));
        }
        if let Some(path) = &self.cert_path {
            planned.push(PlannedFile::new(
                path.clone(),
                FileKind::Certificate,
                issued.cert_pem.as_bytes(),
            ));
        }
        if let Some(path) = &self.bundle_path {
            let mut bundle =
                PlannedFile::new(path.clone(), FileKind::Bundle, issued.cert_pem.as_bytes());
            bundle.contents.extend_from_slice(issued.key_pem.as_bytes());
            planned.push(bundle);
        }
        planned
    }
}

/// Run `certtool selfsigned`.
pub fn run(args: &SelfsignedArgs, out: &mut Output) -> Result<ExitStatus> {
    let now = OffsetDateTime::now_utc();
    let plan = Plan::from_args(args, now)?;
    lock_targets(out, plan.targets())?;
    files::check_targets(plan.targets(), plan.write.force)?;
    let issued = cert::self_signed(&plan.spec)?;
    let written = files::write_all(&plan.files(&issued), plan.write)?;
    report(out, &plan, &issued, &written, now)?;
    Ok(ExitStatus::Success)
}

/// The new pair: the certificate and the files written.
#[derive(Serialize)]
struct Report<'a> {
    #[serde(flatten)]
    new: NewCertificate<'a>,
    #[serde(skip)]
    plan: &'a Plan,
}

impl crate::output::Report for Report<'_> {
    fn ok(&self) -> bool {
        true
    }

    fn text(&self) -> crate::output::Text {
        let plan = self.plan;
        let hosts = &plan.spec.hosts;
        let validity = plan.spec.validity;
        let names: Vec<String> = hosts.iter().map(ToString::to_string).collect();
        let mut text = format!(
            "Created a self-signed {} certificate for {}\n",
            plan.spec.key_type,
            names.join(", ")
        );
        let cert = &self.new.certificate;
        text.push_str(&describe_written(self.new.files, plan.write.owner));
        let _ = write!(
            text,
            "  expires      {} (valid for {} days)\n  sha256       {}\n",
            cert.not_after,
            crate::pki::validity::days_until(validity.not_before, validity.not_after),
            cert.sha256_fingerprint
        );
        match (&plan.cert_path, &plan.bundle_path) {
            (Some(cert), _) => {
                let _ = writeln!(
                    text,
                    "Clients trust the certificate itself, e.g. curl --cacert {} https://{}{}",
                    cert.display(),
                    url_host(&hosts[0]),
                    super::service_endpoint(cert)
                );
            }
            // Never point clients at a file that holds the private key.
            (None, Some(bundle)) => {
                let _ = writeln!(
                    text,
                    "{} holds the private key: never give it to clients. For them, write the \
                     certificate too (without --bundle-only) and use it as their CA file",
                    bundle.display()
                );
            }
            (None, None) => {}
        }
        crate::output::Text::note(text)
    }
}

fn report(
    out: &mut Output,
    plan: &Plan,
    issued: &Issued,
    written: &[Written],
    now: OffsetDateTime,
) -> Result<()> {
    let hosts = &plan.spec.hosts;
    let validity = plan.spec.validity;
    warn_about_coverage(out, hosts)?;
    if validity.not_after < now {
        out.warn("the certificate is already expired (as asked with --not-after)")?;
    }
    out.report(&Report {
        new: NewCertificate::of(&issued.cert_der, true, now, written)?,
        plan,
    })?;
    Ok(())
}
