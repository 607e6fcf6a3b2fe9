//! `certtool inspect`: what a certificate, chain, key or bundle file holds, and whether a key
//! matches its certificate.
//!
//! It must not change any file (it repairs only what a killed certtool left, through `files`).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Serialize;
use time::OffsetDateTime;

use crate::cli::InspectArgs;
use crate::error::ExitStatus;
use crate::inputs;
use crate::output::{Output, Text};
use crate::pki::csr::CsrInfo;
use crate::pki::keys::PrivateKeyInfo;
use crate::pki::parse::{CertInfo, FileContents, Status};

#[derive(Serialize)]
struct Report<'a> {
    file: &'a Path,
    certificates: &'a [CertInfo],
    private_keys: &'a [PrivateKeyInfo],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    certificate_requests: &'a [CsrInfo],
    key_file: Option<&'a PathBuf>,
    /// Whether the private key (from --key, or from the file itself) matches the first
    /// certificate; absent when there is nothing to compare.
    key_matches: Option<bool>,
}

/// Run `certtool inspect`.
pub fn run(args: &InspectArgs, out: &mut Output) -> Result<ExitStatus> {
    let now = OffsetDateTime::now_utc();
    for path in std::iter::once(&args.file).chain(&args.key) {
        super::repair_before_reading(out, path)?;
    }
    let contents = read_and_describe(&args.file, now)?;
    let key = match &args.key {
        Some(path) => Some(read_key(path)?),
        None => contents.private_keys.first().cloned(),
    };
    let request = contents.certificate_requests.first();
    let key_matches = match (contents.certificates.first(), request, &key) {
        (Some(cert), _, Some(key)) => Some(cert.matches_key(key)),
        (None, Some(request), Some(key)) => Some(request.public_key == key.public_key),
        (None, None, Some(_)) if args.key.is_some() => bail!(
            "'{}' holds no certificate or request to compare the key with",
            args.file.display()
        ),
        _ => None,
    };
    out.report(&Report {
        file: &args.file,
        certificates: &contents.certificates,
        private_keys: &contents.private_keys,
        certificate_requests: &contents.certificate_requests,
        key_file: args.key.as_ref(),
        key_matches,
    })?;
    let signatures_ok = contents
        .certificate_requests
        .iter()
        .all(|r| r.signature_valid);
    Ok(ExitStatus::from_ok(
        key_matches != Some(false) && signatures_ok,
    ))
}

fn read_and_describe(path: &Path, now: OffsetDateTime) -> Result<FileContents> {
    let context = || format!("cannot inspect '{}'", path.display());
    let contents = inputs::describe(path, now)?;
    for cert in &contents.certificates {
        cert.check_public_key().with_context(context)?;
    }
    Ok(contents)
}

fn read_key(path: &Path) -> Result<PrivateKeyInfo> {
    Ok(inputs::load_key(path, "give the private key file with --key")?.info)
}

impl crate::output::Report for Report<'_> {
    fn ok(&self) -> bool {
        self.key_matches != Some(false)
            && self.certificate_requests.iter().all(|r| r.signature_valid)
    }

    fn text(&self) -> Text {
        Text::listing(text_lines(self))
    }
}

fn text_lines(report: &Report<'_>) -> String {
    let mut text = String::new();
    let path = crate::text::sanitize(&report.file.display().to_string());
    let total = report.certificates.len();
    for (i, cert) in report.certificates.iter().enumerate() {
        let _ = writeln!(text, "{}: certificate {} of {total}", path, i + 1);
        cert_lines(&mut text, cert);
    }
    for (i, request) in report.certificate_requests.iter().enumerate() {
        let _ = writeln!(text, "{path}: certificate signing request {}", i + 1);
        request_lines(&mut text, request);
    }
    for key in report.private_keys {
        let _ = writeln!(
            text,
            "{}: private key: {} ({} bits, {})",
            path, key.algorithm, key.bits, key.format
        );
    }
    let what = if report.certificates.is_empty() {
        "request"
    } else {
        "certificate"
    };
    match report.key_matches {
        Some(true) => {
            let _ = writeln!(text, "key matches {what}: yes");
        }
        Some(false) => {
            let _ = writeln!(
                text,
                "key matches {what}: NO (the private key belongs to another {what})"
            );
        }
        None => {}
    }
    text
}

fn request_lines(text: &mut String, r: &CsrInfo) {
    let sans = if r.sans.is_empty() {
        "(none)".to_owned()
    } else {
        crate::pki::names::sans_line(&r.sans)
    };
    let signature = if r.signature_valid {
        "valid: made with this key"
    } else {
        "INVALID: altered, or not made with this key"
    };
    let mut asks = Vec::new();
    if r.requests_ca {
        asks.push("CA:TRUE".to_owned());
    }
    asks.extend(r.other_extensions.iter().cloned());
    let _ = write!(
        text,
        "  subject:     {}\n  SANs:        {sans}\n  key:         {} ({} bits)\n  \
         signature:   {} ({signature})\n  key usage:   {}\n  ext. usage:  {}\n  \
         also asks:   {}\n",
        r.subject,
        r.key_algorithm,
        r.key_bits,
        r.signature_algorithm,
        list_or_none(&r.key_usage.join(", ")),
        list_or_none(&r.extended_key_usage.join(", ")),
        list_or_none(&asks.join(", ")),
    );
}

fn cert_lines(text: &mut String, cert: &CertInfo) {
    let yes_no = |b: bool| if b { "yes" } else { "no" };
    let when = match cert.status {
        Status::Valid => format!("{} days left", cert.days_left),
        Status::Expired => format!("EXPIRED {} days ago", -cert.days_left),
        Status::NotYetValid => "NOT YET VALID".to_owned(),
    };
    let sans = if cert.sans.is_empty() {
        "(none)".to_owned()
    } else {
        crate::pki::names::sans_line(&cert.sans)
    };
    let _ = write!(
        text,
        "  subject:     {}\n  issuer:      {}\n  SANs:        {sans}\n  serial:      {}\n  \
         not before:  {}\n  not after:   {} ({when})\n  key:         {} ({} bits)\n  \
         signature:   {}\n  CA:          {}\n  key usage:   {}\n  ext. usage:  {}\n{}  \
         self-signed: {}\n  sha256:      {}\n",
        cert.subject,
        cert.issuer,
        cert.serial,
        cert.not_before,
        cert.not_after,
        cert.key_algorithm,
        cert.key_bits,
        cert.signature_algorithm,
        ca_line(cert),
        list_or_none(&cert.key_usage.join(", ")),
        list_or_none(&cert.extended_key_usage.join(", ")),
        constraints_line(cert),
        yes_no(cert.self_signed),
        cert.sha256_fingerprint,
    );
}

/// `yes (path length 0: it signs leaf certificates only)`, `yes`, or `no`.
fn ca_line(cert: &CertInfo) -> String {
    match (cert.is_ca, cert.path_len) {
        (false, _) => "no".to_owned(),
        (true, None) => "yes (no path length limit)".to_owned(),
        (true, Some(0)) => "yes (path length 0: it signs leaf certificates only)".to_owned(),
        (true, Some(n)) => format!("yes (path length {n})"),
    }
}

fn list_or_none(list: &str) -> &str {
    if list.is_empty() { "(none)" } else { list }
}

/// The name-constraints line, when the certificate has them.
fn constraints_line(cert: &CertInfo) -> String {
    let Some(c) = &cert.name_constraints else {
        return String::new();
    };
    let mut parts = Vec::new();
    if !c.permitted.is_empty() {
        parts.push(format!("permitted {}", c.permitted.join(", ")));
    }
    if !c.excluded.is_empty() {
        parts.push(format!("excluded {}", c.excluded.join(", ")));
    }
    format!("  name constraints: {}\n", parts.join("; "))
}
