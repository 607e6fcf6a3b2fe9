//! `certtool ca init` and `certtool ca issue`: a small local CA and the certificates it signs.
//!
//! It must not sign anything the CA's name constraints forbid, nor write but through `files`.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::Result;
use serde::Serialize;
use time::OffsetDateTime;

use super::{OutputPaths, describe_written, resolve_owner, url_host, warn_about_coverage};
use crate::cli::{CaCommand, CaInitArgs, CaIssueArgs, CaSignArgs, OutputArgs};
use crate::error::ExitStatus;
use crate::files::{self, FileKind, PlannedFile, WriteOptions, Written};
use crate::inputs;
use crate::output::Output;
use crate::pki::KeyType;
use crate::pki::ca::{CaSpec, Constraints};
use crate::pki::cert::{Issued, LeafSpec};
use crate::pki::names::{Host, parse_hosts};

/// Default validity of a CA certificate, in days.
pub const DEFAULT_CA_DAYS: u32 = 3650;
/// Default validity of a certificate issued by the CA, in days.
pub const DEFAULT_LEAF_DAYS: u32 = 365;

/// Run `certtool ca ...`.
pub fn run(cmd: &CaCommand, out: &mut Output) -> Result<ExitStatus> {
    match cmd {
        CaCommand::Init(args) => init(args, out),
        CaCommand::Issue(args) => issue(args, out),
        CaCommand::Sign(args) => sign(args, out),
    }
}

/// The key (first, so a reader never finds a certificate whose key is missing) and the
/// certificate file for a newly issued pair.
pub(crate) fn key_and_cert(paths: &OutputPaths, key_pem: &str, cert_pem: &str) -> Vec<PlannedFile> {
    vec![
        PlannedFile::new(paths.key.clone(), FileKind::PrivateKey, key_pem.as_bytes()),
        PlannedFile::new(
            paths.cert.clone(),
            FileKind::Certificate,
            cert_pem.as_bytes(),
        ),
    ]
}

fn write_options(output: &OutputArgs) -> Result<WriteOptions> {
    Ok(WriteOptions {
        force: output.replace.force,
        owner: resolve_owner(output.owner.as_deref())?,
        ..WriteOptions::default()
    })
}

fn init(args: &CaInitArgs, out: &mut Output) -> Result<ExitStatus> {
    let now = OffsetDateTime::now_utc();
    let spec = CaSpec {
        common_name: args.cn.clone(),
        validity: args.validity.validity(now, DEFAULT_CA_DAYS)?,
        key_type: args.key_type,
        path_len: args.path_len,
        constraints: Constraints::from_flags(&args.permitted_dns, &args.permitted_ip)?,
    };
    let paths = OutputPaths::resolve_or(&args.output, "ca")?;
    let write = write_options(&args.output)?;
    super::lock_targets(out, [paths.key.as_path(), paths.cert.as_path()])?;
    files::check_targets([paths.key.as_path(), paths.cert.as_path()], write.force)?;
    let issued = crate::pki::ca::init(&spec)?;
    let written = files::write_all(
        &key_and_cert(&paths, &issued.key_pem, &issued.cert_pem),
        write,
    )?;
    report_init(out, &spec, &paths, &issued, &written, write, now)?;
    Ok(ExitStatus::Success)
}

#[derive(Serialize)]
struct InitReport<'a> {
    #[serde(flatten)]
    new: super::NewCertificate<'a>,
    path_len: u8,
    name_constraints: &'a Constraints,
    #[serde(skip)]
    paths: &'a OutputPaths,
    #[serde(skip)]
    key_type: KeyType,
    #[serde(skip)]
    common_name: &'a str,
    #[serde(skip)]
    lifetime_days: i64,
    #[serde(skip)]
    owner: Option<crate::files::Owner>,
}

fn report_init(
    out: &mut Output,
    spec: &CaSpec,
    paths: &OutputPaths,
    issued: &Issued,
    written: &[Written],
    write: WriteOptions,
    now: OffsetDateTime,
) -> Result<()> {
    let v = spec.validity;
    out.report(&InitReport {
        new: super::NewCertificate::of(&issued.cert_der, true, now, written)?,
        path_len: spec.path_len,
        name_constraints: &spec.constraints,
        paths,
        key_type: spec.key_type,
        common_name: &spec.common_name,
        lifetime_days: crate::pki::validity::days_until(v.not_before, v.not_after),
        owner: write.owner,
    })?;
    Ok(())
}

impl crate::output::Report for InitReport<'_> {
    fn ok(&self) -> bool {
        true
    }

    fn text(&self) -> crate::output::Text {
        let (crt, key) = (self.paths.cert.display(), self.paths.key.display());
        let ca = &self.new.certificate;
        let mut text = format!(
            "Created a local CA \"{}\" ({})\n",
            crate::text::sanitize(self.common_name),
            self.key_type
        );
        text.push_str(&describe_written(self.new.files, self.owner));
        let _ = writeln!(
            text,
            "  expires      {} (valid for {} days)\n  sha256       {}",
            ca.not_after, self.lifetime_days, ca.sha256_fingerprint
        );
        if !self.name_constraints.is_empty() {
            let _ = writeln!(text, "  may sign for {}", self.name_constraints.describe());
        }
        let _ = write!(
            text,
            "Keep {key} secret (offline if you can). Clients trust {crt}:\n  \
             curl --cacert {crt} ...; Telegraf tls_ca = \"{crt}\"; SSL_CERT_FILE={crt} influx -ssl ...\n\
             Issue certificates with: certtool ca issue --ca-cert {crt} --ca-key {key} --host NAME\n"
        );
        crate::output::Text::note(text)
    }
}

fn issue(args: &CaIssueArgs, out: &mut Output) -> Result<ExitStatus> {
    let now = OffsetDateTime::now_utc();
    let hosts = parse_hosts(&args.hosts.hosts)?;
    let validity = args.validity.validity(now, DEFAULT_LEAF_DAYS)?;
    let paths = OutputPaths::resolve(&args.output, &hosts)?;
    let write = write_options(&args.output)?;
    super::lock_targets(out, [paths.key.as_path(), paths.cert.as_path()])?;
    files::check_targets([paths.key.as_path(), paths.cert.as_path()], write.force)?;
    let ca = inputs::load_ca(&args.ca_cert, &args.ca_key, now)?;
    ca.check_hosts(&hosts)?;
    let (validity, clamped) = ca.clamp(validity);
    let spec = LeafSpec {
        hosts,
        validity,
        key_type: args.key_type,
    };
    let issued = ca.issue(&spec, args.client)?;
    let chain = format!("{}{}", issued.cert_pem, ca.chain_pem);
    let written = files::write_all(&key_and_cert(&paths, &issued.key_pem, &chain), write)?;
    super::warn_if_clamped(out, clamped, &validity)?;
    let report = IssueReport {
        new: super::NewCertificate::of(&issued.cert_der, false, now, &written)?,
        client: args.client,
        clamped_to_ca: clamped,
        ca_certificate: &args.ca_cert,
        hosts: &spec.hosts,
        key_type: spec.key_type,
        owner: write.owner,
    };
    report_issue(out, &report)?;
    Ok(ExitStatus::Success)
}

#[derive(Serialize)]
struct IssueReport<'a> {
    #[serde(flatten)]
    new: super::NewCertificate<'a>,
    client: bool,
    clamped_to_ca: bool,
    ca_certificate: &'a PathBuf,
    #[serde(skip)]
    hosts: &'a [Host],
    #[serde(skip)]
    key_type: KeyType,
    #[serde(skip)]
    owner: Option<crate::files::Owner>,
}

fn report_issue(out: &mut Output, r: &IssueReport<'_>) -> Result<()> {
    warn_about_coverage(out, r.hosts)?;
    out.report(r)?;
    Ok(())
}

impl crate::output::Report for IssueReport<'_> {
    fn ok(&self) -> bool {
        true
    }

    fn text(&self) -> crate::output::Text {
        let names: Vec<String> = self.hosts.iter().map(ToString::to_string).collect();
        let usage = if self.client {
            "server and client"
        } else {
            "server"
        };
        let cert = &self.new.certificate;
        let mut text = format!(
            "Issued a {usage} certificate ({}) for {}, signed by {}\n",
            self.key_type,
            names.join(", "),
            cert.issuer
        );
        text.push_str(&describe_written(self.new.files, self.owner));
        let _ = write!(
            text,
            "  expires      {}\n  sha256       {}\n\
             The certificate file holds the full chain (this certificate, then the CA).\n\
             Clients trust the CA, e.g. curl --cacert {} https://{}{}\n",
            cert.not_after,
            cert.sha256_fingerprint,
            self.ca_certificate.display(),
            url_host(&self.hosts[0]),
            self.new
                .files
                .first()
                .map_or(":PORT/", |w| super::service_endpoint(&w.path)),
        );
        crate::output::Text::note(text)
    }
}

/// `ca sign`: a certificate for someone else's key, from their request.
fn sign(args: &CaSignArgs, out: &mut Output) -> Result<ExitStatus> {
    let now = OffsetDateTime::now_utc();
    let validity = args.validity.validity(now, DEFAULT_LEAF_DAYS)?;
    let cert_path = args
        .out
        .clone()
        .unwrap_or_else(|| args.csr.with_extension("crt"));
    let write = WriteOptions {
        force: args.replace.force,
        owner: resolve_owner(args.owner.as_deref())?,
        ..WriteOptions::default()
    };
    super::lock_targets(out, [cert_path.as_path()])?;
    files::check_targets([cert_path.as_path()], write.force)?;
    let (_, request) = inputs::load_request(&args.csr)?;
    if !request.signature_valid {
        return Err(crate::error::Error::invalid(
            format!(
                "the request '{}' has a signature that does not verify",
                args.csr.display()
            ),
            "it was altered after it was made, or not made with the key it names: ask for a new one",
        )
        .into());
    }
    let hosts = request.hosts()?;
    if hosts.is_empty() {
        return Err(crate::error::Error::invalid(
            format!("the request '{}' names no host", args.csr.display()),
            "it needs DNS or IP subjectAltNames (certtool csr --host NAME makes such requests)",
        )
        .into());
    }
    let ca = inputs::load_ca(&args.ca_cert, &args.ca_key, now)?;
    let (validity, clamped) = ca.clamp(validity);
    let key_type = crate::pki::keys::key_type_of(&request.key_algorithm, request.key_bits)
        .unwrap_or(KeyType::EcdsaP256);
    let spec = LeafSpec {
        hosts,
        validity,
        key_type,
    };
    let params = ca.leaf_params(&spec, args.client)?;
    let (leaf_pem, leaf_der) = ca.sign_for_key(&params, &request.spki)?;
    let chain = format!("{leaf_pem}{}", ca.chain_pem);
    let written = files::write_all(
        &[PlannedFile::new(
            cert_path,
            FileKind::Certificate,
            chain.as_bytes(),
        )],
        write,
    )?;
    super::warn_if_clamped(out, clamped, &validity)?;
    let not_granted = not_granted(&request, &params, args.client);
    let report = SignReport {
        new: super::NewCertificate::of(&leaf_der, false, now, &written)?,
        client: args.client,
        clamped_to_ca: clamped,
        ca_certificate: &args.ca_cert,
        not_granted,
        owner: write.owner,
    };
    out.report(&report)?;
    Ok(ExitStatus::Success)
}

/// What the request asked for that the certificate does not carry.
fn not_granted(
    request: &crate::pki::csr::CsrInfo,
    params: &rcgen::CertificateParams,
    client: bool,
) -> Vec<String> {
    let mut left = Vec::new();
    if request.requests_ca {
        left.push("basicConstraints CA:TRUE (a server certificate is never a CA)".to_owned());
    }
    let granted_ku: Vec<&str> = params
        .key_usages
        .iter()
        .map(|ku| match ku {
            rcgen::KeyUsagePurpose::KeyEncipherment => "keyEncipherment",
            _ => "digitalSignature",
        })
        .collect();
    for ku in &request.key_usage {
        if !granted_ku.contains(ku) {
            left.push(format!("keyUsage {ku}"));
        }
    }
    for eku in &request.extended_key_usage {
        let granted = eku == "serverAuth" || (client && eku == "clientAuth");
        if !granted {
            let hint = if eku == "clientAuth" {
                " (pass --client)"
            } else {
                ""
            };
            left.push(format!("extendedKeyUsage {eku}{hint}"));
        }
    }
    for san in &request.sans {
        if !matches!(
            san,
            crate::pki::names::San::Dns(_) | crate::pki::names::San::Ip(_)
        ) {
            left.push(format!("subjectAltName {san}"));
        }
    }
    left.extend(request.other_extensions.iter().cloned());
    left
}

#[derive(Serialize)]
struct SignReport<'a> {
    #[serde(flatten)]
    new: super::NewCertificate<'a>,
    client: bool,
    clamped_to_ca: bool,
    ca_certificate: &'a PathBuf,
    /// What the request asked for and the certificate does not carry.
    not_granted: Vec<String>,
    #[serde(skip)]
    owner: Option<crate::files::Owner>,
}

impl crate::output::Report for SignReport<'_> {
    fn ok(&self) -> bool {
        true
    }

    fn text(&self) -> crate::output::Text {
        let cert = &self.new.certificate;
        let usage = if self.client {
            "server and client"
        } else {
            "server"
        };
        let mut text = format!(
            "Signed a {usage} certificate for {}, by {}\n",
            crate::pki::names::sans_line(&cert.sans),
            cert.issuer
        );
        text.push_str(&describe_written(self.new.files, self.owner));
        let _ = writeln!(
            text,
            "  expires      {}\n  sha256       {}",
            cert.not_after, cert.sha256_fingerprint
        );
        for left in &self.not_granted {
            let _ = writeln!(text, "  not granted  {left}");
        }
        let _ = write!(
            text,
            "The file holds the chain (the certificate, then the CA). Send it back to whoever \
             made the request;\nthey install it with: certtool import --cert FILE --key THEIR.key\n"
        );
        crate::output::Text::note(text)
    }
}
