//! `certtool acme issue` and `acme renew`: a certificate from an ACME CA, written as every
//! other certtool pair is, and renewed only when due.
//!
//! Parse → validate → act → report: the flags, the output paths and the key are settled before
//! the CA is contacted, and what the CA sends back is checked (its key is ours, its names are
//! the ones asked for) before anything is written.
//!
//! It must not write but through `files`, nor print key material.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use rustls_pki_types::CertificateDer;
use serde::Serialize;
use time::OffsetDateTime;

use super::{OutputPaths, describe_written, lock_targets, resolve_owner};
use crate::acme::{self, Answer, Refused};
use crate::cli::{AcmeClientArgs, AcmeCommand, AcmeIssueArgs, AcmeRenewArgs};
use crate::error::{Error, ExitStatus};
use crate::files::{self, FileKind, PlannedFile, WriteOptions, Written};
use crate::inputs;
use crate::output::{Output, Report, Text};
use crate::pki::cert::LeafSpec;
use crate::pki::names::{Host, San, parse_hosts};
use crate::pki::parse::CertInfo;
use crate::pki::{KeyType, Validity};

/// Run `certtool acme ...`.
pub fn run(cmd: &AcmeCommand, out: &mut Output) -> Result<ExitStatus> {
    match cmd {
        AcmeCommand::Issue(args) => issue(args, out),
        AcmeCommand::Renew(args) => renew(args, out),
    }
}

/// The CA and how to reach it, checked.
struct Client {
    directory: String,
    /// Read when the CA is first contacted: a renewal that is not due never reads them.
    roots: std::cell::OnceCell<Vec<CertificateDer<'static>>>,
    ca_bundle: Option<PathBuf>,
    account_dir: PathBuf,
    email: Option<String>,
    timeout: std::time::Duration,
}

impl Client {
    fn of(args: &AcmeClientArgs) -> Result<Client> {
        let directory = acme::directory_url(&args.directory).to_owned();
        if !directory.starts_with("https://") {
            return Err(Error::invalid(
                format!("--directory '{}' is not an https:// URL", crate::text::sanitize(&directory)),
                "ACME runs over HTTPS: give the CA's directory URL, or letsencrypt, letsencrypt-staging",
            )
            .into());
        }
        if let Some(email) = &args.email
            && (!email.contains('@') || email.chars().any(|c| c.is_whitespace() || c.is_control()))
        {
            return Err(Error::invalid(
                format!(
                    "--email '{}' is not an e-mail address",
                    crate::text::sanitize(email)
                ),
                "give an address such as ops@example.com",
            )
            .into());
        }
        if args.webroot.is_some() && args.challenge == crate::cli::AcmeChallenge::TlsAlpn01 {
            return Err(Error::invalid(
                "--webroot answers http-01, not tls-alpn-01",
                "drop --webroot, or use --challenge http-01",
            )
            .into());
        }
        if let Some(path) = &args.ca_bundle {
            // Read now, so that a bad bundle is an input error before anything else.
            inputs::load_chain(path, "CA bundle")?;
        }
        Ok(Client {
            directory,
            roots: std::cell::OnceCell::new(),
            ca_bundle: args.ca_bundle.clone(),
            account_dir: args.account_dir.clone().unwrap_or_else(default_account_dir),
            email: args.email.clone(),
            timeout: args.timeout,
        })
    }
}

impl Client {
    /// The roots that the CA's HTTPS must chain to: --ca-bundle, or the system's.
    fn roots(&self) -> Result<Vec<CertificateDer<'static>>> {
        if let Some(roots) = self.roots.get() {
            return Ok(roots.clone());
        }
        let roots = match &self.ca_bundle {
            Some(path) => inputs::load_chain(path, "CA bundle")?,
            None => inputs::system_roots()
                .into_iter()
                .map(CertificateDer::from)
                .collect(),
        };
        Ok(self.roots.get_or_init(|| roots).clone())
    }
}

/// `/var/lib/certtool/acme` for root, else under the user's data directory.
fn default_account_dir() -> PathBuf {
    if nix::unistd::Uid::effective().is_root() {
        return PathBuf::from("/var/lib/certtool/acme");
    }
    std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(|| PathBuf::from("."))
        .join("certtool/acme")
}

fn answer(args: &AcmeClientArgs) -> Answer {
    match (args.challenge, &args.webroot) {
        (crate::cli::AcmeChallenge::TlsAlpn01, _) => {
            Answer::TlsAlpn(std::net::SocketAddr::new(args.bind, args.tls_port))
        }
        (_, Some(dir)) => Answer::Webroot(dir.clone()),
        (_, None) => Answer::Listen(std::net::SocketAddr::new(args.bind, args.http_port)),
    }
}

/// The key a certificate is ordered for: a new one, or the one at `path` (only read).
struct OrderKey {
    signing: rcgen::KeyPair,
    key_type: KeyType,
    /// The PEM to write, for a new key.
    new_pem: Option<zeroize::Zeroizing<String>>,
}

fn order_key(reuse: Option<&Path>, key_type: KeyType) -> Result<OrderKey> {
    if let Some(path) = reuse {
        let key = inputs::load_key(path, "--reuse-key needs the existing key")?;
        let key_type =
            crate::pki::keys::key_type_of(&key.info.algorithm, key.info.bits).unwrap_or(key_type);
        return Ok(OrderKey {
            signing: key.signing_key()?,
            key_type,
            new_pem: None,
        });
    }
    let signing = crate::pki::keys::generate(key_type)?;
    let new_pem = Some(crate::pki::keys::to_pem(&signing));
    Ok(OrderKey {
        signing,
        key_type,
        new_pem,
    })
}

/// Order a certificate for `hosts` with `key`; the chain the CA sent, checked to be for our
/// key and our names.
fn order(
    client: &Client,
    args: &AcmeClientArgs,
    hosts: &[Host],
    key: &OrderKey,
    now: OffsetDateTime,
) -> Result<(Vec<inputs::Cert>, String, bool)> {
    let spec = LeafSpec {
        hosts: hosts.to_vec(),
        validity: Validity::new(now, Some(1), None, None, 1)?,
        key_type: key.key_type,
    };
    let csr = crate::pki::csr::request(&spec, &[], &key.signing)?;
    let issued = acme::issue(acme::Order {
        directory: &client.directory,
        hosts,
        email: client.email.as_deref(),
        account_dir: &client.account_dir,
        roots: client.roots()?,
        answer: answer(args),
        csr_der: csr.der,
        timeout: client.timeout,
    })?;
    let certs = check_chain(&issued.chain_pem, hosts, &key.signing, now)?;
    let pem: String = certs
        .iter()
        .map(|c| {
            ::pem::encode_config(
                &::pem::Pem::new("CERTIFICATE", c.der.to_vec()),
                ::pem::EncodeConfig::new().set_line_ending(::pem::LineEnding::LF),
            )
        })
        .collect();
    Ok((certs, pem, issued.account_created))
}

/// What the CA sent must be a certificate for our key and every name we asked for.
fn check_chain(
    chain_pem: &str,
    hosts: &[Host],
    key: &rcgen::KeyPair,
    now: OffsetDateTime,
) -> Result<Vec<inputs::Cert>> {
    let certs: Vec<inputs::Cert> = crate::pki::parse::parse_blocks(chain_pem.as_bytes())
        .context("the CA sent a certificate chain certtool cannot read")?
        .into_iter()
        .filter(|b| b.label == "CERTIFICATE")
        .map(|b| {
            let info = CertInfo::from_der(&b.der, now)?;
            Ok(inputs::Cert {
                der: CertificateDer::from(b.der.to_vec()),
                info,
            })
        })
        .collect::<Result<_>>()?;
    let Some(leaf) = certs.first() else {
        anyhow::bail!("the CA sent no certificate");
    };
    if leaf.info.public_key != key.public_key_raw() {
        anyhow::bail!("the CA sent a certificate for another key; nothing was written");
    }
    for host in hosts {
        if !crate::pki::names::sans_cover(&leaf.info.sans, &host.to_string()) {
            anyhow::bail!("the CA's certificate does not cover {host}; nothing was written");
        }
    }
    Ok(certs)
}

/// A refusal by the CA: the report (`ok: false`), the error line and hint, exit 1. Any other
/// error goes up as a usage or input error (exit 2).
fn or_refused(result: Result<ExitStatus>, out: &mut Output) -> Result<ExitStatus> {
    let err = match result {
        Ok(status) => return Ok(status),
        Err(err) => err,
    };
    let Some(refused) = err.chain().find_map(|c| c.downcast_ref::<Refused>()) else {
        return Err(err);
    };
    out.report(&Failure {
        failure: FailureDetail {
            message: refused.message.clone(),
            hint: refused.hint.clone(),
            problem: refused.problem.clone(),
        },
    })?;
    out.error_with_hint(&refused.message, &refused.hint)?;
    Ok(ExitStatus::Failure)
}

#[derive(Serialize)]
struct FailureDetail {
    message: String,
    hint: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    problem: Option<String>,
}

#[derive(Serialize)]
struct Failure {
    failure: FailureDetail,
}

impl Report for Failure {
    fn ok(&self) -> bool {
        false
    }

    fn text(&self) -> Text {
        // The error line on stderr says it all.
        Text::listing(String::new())
    }
}

fn issue(args: &AcmeIssueArgs, out: &mut Output) -> Result<ExitStatus> {
    let result = issue_inner(args, out);
    or_refused(result, out)
}

fn issue_inner(args: &AcmeIssueArgs, out: &mut Output) -> Result<ExitStatus> {
    let now = OffsetDateTime::now_utc();
    let hosts = parse_hosts(&args.hosts.hosts)?;
    if let Some(wildcard) = hosts.iter().find(|h| h.is_wildcard()) {
        return Err(Error::invalid(
            format!(
                "{wildcard}: a wildcard needs the dns-01 challenge, which certtool does not answer"
            ),
            "ask for each name instead (--host a.example.com --host b.example.com)",
        )
        .into());
    }
    let client = Client::of(&args.client)?;
    let paths = OutputPaths::resolve(&args.output, &hosts)?;
    let write = WriteOptions {
        force: args.output.replace.force,
        owner: resolve_owner(args.output.owner.as_deref())?,
        ..WriteOptions::default()
    };
    lock_targets(out, [paths.key.as_path(), paths.cert.as_path()])?;
    if args.reuse_key {
        files::check_targets([paths.key.as_path()], true)?;
        files::check_targets([paths.cert.as_path()], write.force)?;
    } else {
        files::check_targets([paths.key.as_path(), paths.cert.as_path()], write.force)?;
    }
    let key = order_key(args.reuse_key.then_some(paths.key.as_path()), args.key_type)?;
    let (certs, chain_pem, account_created) = order(&client, &args.client, &hosts, &key, now)?;
    let mut planned = Vec::with_capacity(2);
    if let Some(pem) = &key.new_pem {
        planned.push(PlannedFile::new(
            paths.key.clone(),
            FileKind::PrivateKey,
            pem.as_bytes(),
        ));
    }
    planned.push(PlannedFile::new(
        paths.cert.clone(),
        FileKind::Certificate,
        chain_pem.as_bytes(),
    ));
    let written = files::write_all(&planned, write)?;
    out.report(&IssueReport {
        renewed: None,
        certificate: certs[0].info.clone(),
        chain: certs[1..].iter().map(|c| c.info.clone()).collect(),
        directory: client.directory,
        account_created,
        files: written,
        owner: write.owner,
        exec: None,
    })?;
    Ok(ExitStatus::Success)
}

fn renew(args: &AcmeRenewArgs, out: &mut Output) -> Result<ExitStatus> {
    let result = renew_inner(args, out);
    or_refused(result, out)
}

fn renew_inner(args: &AcmeRenewArgs, out: &mut Output) -> Result<ExitStatus> {
    let now = OffsetDateTime::now_utc();
    let cert_path = &args.cert;
    let key_path = args
        .key
        .clone()
        .unwrap_or_else(|| cert_path.with_extension("key"));
    lock_targets(out, [cert_path.as_path(), key_path.as_path()])?;
    files::check_targets([cert_path.as_path(), key_path.as_path()], true)?;
    let (der, info) = super::renew::read_certificate(cert_path, now)?;
    let client = Client::of(&args.client)?;
    let left = (info.not_after_time - now).whole_seconds();
    let reason = if left <= crate::duration::whole_seconds(args.within) {
        Some(format!(
            "it expires {} (within {})",
            info.not_after,
            super::renew::window_text(args.within)
        ))
    } else {
        ari::due(&client, &der, info.not_after_time, now)?
    };
    let Some(reason) = reason else {
        return super::renew::report_not_due(out, cert_path, &info);
    };
    let hosts: Vec<Host> = info
        .sans
        .iter()
        .filter_map(|s| match s {
            San::Dns(d) => Host::parse(d).ok(),
            San::Ip(ip) => Some(Host::Ip(*ip)),
            _ => None,
        })
        .collect();
    if hosts.is_empty() {
        return Err(Error::invalid(
            format!("'{}' names no host to renew for", cert_path.display()),
            "issue a new one with certtool acme issue --host NAME",
        )
        .into());
    }
    let key_type =
        crate::pki::keys::key_type_of(&info.key_algorithm, info.key_bits).unwrap_or_default();
    let key = order_key(args.reuse_key.then_some(key_path.as_path()), key_type)?;
    let (certs, chain_pem, account_created) = order(&client, &args.client, &hosts, &key, now)?;
    let (written, exec) = super::renew::replace_pair(
        cert_path,
        &key_path,
        key.new_pem.as_ref().map(|p| p.as_str()),
        &chain_pem,
        args.exec.as_deref(),
    )?;
    let ok = exec.as_ref().is_none_or(|e| e.success);
    out.report(&IssueReport {
        renewed: Some(reason),
        certificate: certs[0].info.clone(),
        chain: certs[1..].iter().map(|c| c.info.clone()).collect(),
        directory: client.directory,
        account_created,
        files: written,
        owner: None,
        exec,
    })?;
    Ok(ExitStatus::from_ok(ok))
}

/// ACME Renewal Information (RFC 9773): whether the CA's suggested window has begun. The
/// answer is kept in the account's directory until the CA's Retry-After, so a daily (or
/// hourly) cron run asks at most that often and is otherwise a local check.
mod ari {
    use anyhow::Context as _;

    use super::{Client, OffsetDateTime, Result};
    use crate::files::{self, FileKind, PlannedFile, WriteOptions};

    #[derive(serde::Serialize, serde::Deserialize)]
    struct Cached {
        #[serde(with = "time::serde::rfc3339")]
        start: OffsetDateTime,
        #[serde(with = "time::serde::rfc3339")]
        end: OffsetDateTime,
        #[serde(with = "time::serde::rfc3339")]
        next_check: OffsetDateTime,
    }

    /// Why the CA wants the certificate renewed now, if it does.
    pub(super) fn due(
        client: &Client,
        der: &[u8],
        not_after: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<Option<String>> {
        let path = crate::acme::state_dir(&client.account_dir, &client.directory)
            .join("ari")
            .join(format!(
                "{}.json",
                crate::pki::parse::fingerprint_sha256(der).replace(':', "")
            ));
        let cached = files::read_input(&path)
            .ok()
            .and_then(|b| serde_json::from_slice::<Cached>(&b).ok())
            .filter(|c| c.next_check > now);
        let window = match cached {
            Some(c) => Some(c),
            None => fetch(client, der, now, not_after, &path)?,
        };
        Ok(window.filter(|w| w.start <= now).map(|w| {
            format!(
                "the CA suggests renewing from {} (ACME Renewal Information)",
                crate::pki::validity::format_time(w.start)
            )
        }))
    }

    /// The CA's window (or, from a CA without ARI or an account, "at expiry"), kept until
    /// the CA's Retry-After.
    fn fetch(
        client: &Client,
        der: &[u8],
        now: OffsetDateTime,
        not_after: OffsetDateTime,
        path: &std::path::Path,
    ) -> Result<Option<Cached>> {
        let cert = rustls_pki_types::CertificateDer::from(der);
        let (start, end, retry_after) = crate::acme::renewal_window(
            &client.directory,
            &client.account_dir,
            &client.roots()?,
            &cert,
            client.timeout,
        )?
        .unwrap_or((not_after, not_after, std::time::Duration::from_secs(86_400)));
        // Ask again after the CA's Retry-After, but at least hourly and at most daily.
        let wait = retry_after.clamp(
            std::time::Duration::from_secs(3600),
            std::time::Duration::from_secs(86_400),
        );
        let cached = Cached {
            start,
            end,
            next_check: now + wait,
        };
        let json = serde_json::to_vec(&cached)?;
        files::write_all(
            &[PlannedFile::new(
                path.to_path_buf(),
                FileKind::Config,
                &json,
            )],
            WriteOptions {
                force: true,
                ..WriteOptions::default()
            },
        )
        .context("cannot keep the CA's renewal information")?;
        Ok(Some(cached))
    }
}

#[derive(Serialize)]
struct IssueReport {
    /// For a renewal: why it was due.
    #[serde(skip_serializing_if = "Option::is_none")]
    renewed: Option<String>,
    certificate: CertInfo,
    /// The certificates after the leaf, as the CA sent them.
    chain: Vec<CertInfo>,
    directory: String,
    account_created: bool,
    files: Vec<Written>,
    #[serde(skip)]
    owner: Option<files::Owner>,
    #[serde(skip_serializing_if = "Option::is_none")]
    exec: Option<super::renew::Exec>,
}

impl Report for IssueReport {
    fn ok(&self) -> bool {
        self.exec.as_ref().is_none_or(|e| e.success)
    }

    fn text(&self) -> Text {
        let cert = &self.certificate;
        let mut text = match &self.renewed {
            Some(why) => format!("Renewed from {} because {why}\n", self.directory),
            None => format!("Issued by {} ({})\n", cert.issuer, self.directory),
        };
        let _ = writeln!(
            text,
            "  hosts        {}",
            crate::pki::names::sans_line(&cert.sans)
        );
        text.push_str(&describe_written(&self.files, self.owner));
        let _ = writeln!(
            text,
            "  expires      {} ({} days)\n  sha256       {}",
            cert.not_after, cert.days_left, cert.sha256_fingerprint
        );
        if self.account_created {
            text.push_str("  account      registered (kept for the next runs)\n");
        }
        if let Some(exec) = &self.exec
            && !exec.success
        {
            text.push_str("  exec         FAILED (the new files are in place)\n");
        }
        Text::note(text)
    }
}
