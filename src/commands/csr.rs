//! `certtool csr`: a key (new, or an existing one only read) and a certificate signing request
//! for it, for a CA certtool does not run.
//!
//! It must not write but through `files`, nor make a key before the targets are checked.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::Result;
use serde::Serialize;
use time::OffsetDateTime;

use super::{describe_written, lock_targets, resolve_owner, validate_base_name};
use crate::cli::CsrArgs;
use crate::error::ExitStatus;
use crate::files::{self, FileKind, PlannedFile, WriteOptions, Written};
use crate::inputs;
use crate::output::{Output, Report, Text};
use crate::pki::KeyType;
use crate::pki::cert::LeafSpec;
use crate::pki::csr::{self, CsrInfo};
use crate::pki::names::parse_hosts;

/// Run `certtool csr`.
pub fn run(args: &CsrArgs, out: &mut Output) -> Result<ExitStatus> {
    let now = OffsetDateTime::now_utc();
    let hosts = parse_hosts(&args.hosts.hosts)?;
    let subject = args
        .subject
        .as_deref()
        .map(csr::parse_subject)
        .transpose()?
        .unwrap_or_default();
    let base = match &args.name {
        Some(name) => validate_base_name(name)?,
        None => hosts[0].file_base(),
    };
    let csr_path = args.out_dir.join(format!("{base}.csr"));
    let new_key_path = args
        .key
        .is_none()
        .then(|| args.out_dir.join(format!("{base}.key")));
    let write = WriteOptions {
        force: args.replace.force,
        owner: resolve_owner(args.owner.as_deref())?,
        ..WriteOptions::default()
    };
    let targets: Vec<&std::path::Path> = new_key_path
        .iter()
        .map(PathBuf::as_path)
        .chain([csr_path.as_path()])
        .collect();
    lock_targets(out, targets.iter().copied())?;
    files::check_targets(targets.iter().copied(), write.force)?;

    let (key, key_type, key_pem) = if let Some(path) = &args.key {
        let loaded = inputs::load_key(path, "give the private key the request is for")?;
        let info = &loaded.info;
        // Only keyEncipherment depends on it: RSA or not.
        let rsa = info.algorithm == "RSA";
        let key_type =
            crate::pki::keys::key_type_of(&info.algorithm, info.bits).unwrap_or(if rsa {
                KeyType::Rsa2048
            } else {
                KeyType::EcdsaP256
            });
        (loaded.signing_key()?, key_type, None)
    } else {
        let key_type = args.key_type.unwrap_or_default();
        let key = crate::pki::keys::generate(key_type)?;
        let pem = crate::pki::keys::to_pem(&key);
        (key, key_type, Some(pem))
    };
    let spec = LeafSpec {
        hosts,
        // Not part of a request (the CA sets the dates); the leaf profile needs one.
        validity: crate::pki::Validity::new(now, Some(1), None, None, 1)?,
        key_type,
    };
    let request = csr::request(&spec, &subject, &key)?;
    let mut planned = Vec::with_capacity(2);
    if let (Some(path), Some(pem)) = (&new_key_path, &key_pem) {
        planned.push(PlannedFile::new(
            path.clone(),
            FileKind::PrivateKey,
            pem.as_bytes(),
        ));
    }
    planned.push(PlannedFile::new(
        csr_path.clone(),
        FileKind::CertificateRequest,
        request.pem.as_bytes(),
    ));
    let written = files::write_all(&planned, write)?;
    out.report(&CsrReport {
        request: CsrInfo::from_der(&request.der)?,
        files: &written,
        key: args.key.clone().or(new_key_path).unwrap_or_default(),
        csr: csr_path,
        owner: write.owner,
    })?;
    Ok(ExitStatus::Success)
}

#[derive(Serialize)]
struct CsrReport<'a> {
    request: CsrInfo,
    files: &'a [Written],
    #[serde(skip)]
    key: PathBuf,
    #[serde(skip)]
    csr: PathBuf,
    #[serde(skip)]
    owner: Option<files::Owner>,
}

impl Report for CsrReport<'_> {
    fn ok(&self) -> bool {
        true
    }

    fn text(&self) -> Text {
        let r = &self.request;
        let mut text = format!(
            "Wrote a certificate signing request ({}) for {}\n",
            r.key_type,
            crate::pki::names::sans_line(&r.sans)
        );
        text.push_str(&describe_written(self.files, self.owner));
        let (csr, key) = (self.csr.display(), self.key.display());
        let _ = write!(
            text,
            "  subject      {}\n\
             Next: send {csr} to your CA (it holds no secret; keep {key} where it is). When the\n\
             certificate comes back, install it with its chain:\n  \
             certtool import --cert SIGNED.crt --chain CA-CHAIN.crt --key {key}\n\
             (With a certtool CA: certtool ca sign {csr} --ca-cert ca.crt --ca-key ca.key)\n",
            r.subject
        );
        Text::note(text)
    }
}
