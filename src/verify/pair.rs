//! The integrated check of a pair: the static checks (key, dates, chain, names), offline and
//! independent, then real TLS 1.3 and 1.2 handshakes with the integrated server (`local`) by the
//! client (`client`), for every name.
//!
//! It must not read files or print: the command loads the pair and reports the checks.

use std::net::TcpListener;
use std::time::Duration;

use anyhow::{Result, bail};
use rustls::client::danger::ServerCertVerifier;
use rustls::pki_types::{CertificateDer, ServerName};
use time::OffsetDateTime;

use super::{Check, client, duplex, local, trust};
use crate::pki::parse::{CertInfo, Status};

/// What the integrated check needs.
pub struct LocalPlan {
    pub pair: local::ServedPair,
    pub leaf: CertInfo,
    /// `--ca`: trust anchors; `None` for a self-signed certificate trusted as itself.
    pub ca: Option<Vec<CertificateDer<'static>>>,
    pub hosts: Vec<String>,
    pub timeout: Duration,
}

impl LocalPlan {
    /// The verifier an honest client would use for this plan.
    pub fn verifier(&self) -> Result<std::sync::Arc<dyn ServerCertVerifier>> {
        match &self.ca {
            Some(roots) => trust::roots_verifier(roots),
            None => Ok(trust::PinnedVerifier::arc(self.pair.chain[0].clone())),
        }
    }

    /// The static checks: key, dates, chain, names. Offline, so each can fail on its own.
    #[must_use]
    pub fn static_checks(&self, now: OffsetDateTime) -> Vec<Check> {
        let mut checks = vec![self.key_check(), self.date_check(), self.chain_check(now)];
        checks.extend(self.hosts.iter().map(|h| self.name_check(h)));
        checks
    }

    /// Whether the key is the certificate's (rustls will not even load a pair that is not).
    fn key_matches(&self) -> bool {
        self.pair.key_public_bits().as_deref() == Some(self.leaf.public_key.as_slice())
    }

    fn key_check(&self) -> Check {
        if self.key_matches() {
            Check::new(
                "key",
                true,
                format!(
                    "the key matches the certificate ({})",
                    self.leaf.key_algorithm
                ),
            )
        } else {
            Check::new(
                "key",
                false,
                "the key does not match the certificate (it belongs to another certificate)",
            )
        }
    }

    fn date_check(&self) -> Check {
        match self.leaf.status {
            Status::Valid => Check::new(
                "validity",
                true,
                format!(
                    "valid until {} ({} days left)",
                    self.leaf.not_after, self.leaf.days_left
                ),
            ),
            Status::Expired => Check::new(
                "validity",
                false,
                format!(
                    "expired on {} ({} days ago)",
                    self.leaf.not_after, -self.leaf.days_left
                ),
            ),
            Status::NotYetValid => Check::new(
                "validity",
                false,
                format!("not valid until {}", self.leaf.not_before),
            ),
        }
    }

    /// Whether the chain leads to the CA, judged at a moment inside the certificate's
    /// validity, so that an expiry is reported by the date check and not mistaken for this.
    fn chain_check(&self, now: OffsetDateTime) -> Check {
        let Some(roots) = &self.ca else {
            return if self.leaf.self_signed {
                Check::new(
                    "chain",
                    true,
                    "self-signed: trusted as exactly itself (pinned), as clients given this file as their CA",
                )
            } else {
                Check::new(
                    "chain",
                    false,
                    format!(
                        "issued by '{}', not self-signed: pass that CA with --ca",
                        self.leaf.issuer
                    ),
                )
            };
        };
        let at = if self.leaf.status == Status::Valid {
            now
        } else {
            // A moment inside the validity period (the last second if it has just one).
            self.leaf
                .not_before_time
                .checked_add(time::Duration::seconds(1))
                .filter(|t| *t <= self.leaf.not_after_time)
                .unwrap_or(self.leaf.not_before_time)
        };
        let anchors: Vec<_> = roots
            .iter()
            .filter_map(|r| webpki::anchor_from_trusted_cert(r).ok())
            .collect();
        let result = webpki::EndEntityCert::try_from(&self.pair.chain[0]).and_then(|ee| {
            ee.verify_for_usage(
                webpki::ALL_VERIFICATION_ALGS,
                &anchors,
                &self.pair.chain[1..],
                trust::unix_time(at),
                webpki::KeyUsage::server_auth(),
                None,
                None,
            )
            .map(|_| ())
        });
        match result {
            Ok(()) => Check::new("chain", true, "the chain leads to the CA"),
            Err(webpki::Error::UnknownIssuer) => {
                let chain = self.subjects_and_issuers();
                let cas = ca_subjects(roots);
                let why = trust::missing_issuer_hint(&chain, Some(&cas)).unwrap_or_else(|| {
                    "the chain does not lead to the --ca CA (a different CA, or one with the same \
                     name but another key)"
                        .to_owned()
                });
                Check::new("chain", false, why)
            }
            Err(e) => Check::new("chain", false, trust::describe_webpki_error(&e)),
        }
    }

    /// (subject, issuer) of each certificate in the file, leaf first.
    fn subjects_and_issuers(&self) -> Vec<(String, String)> {
        self.pair
            .chain
            .iter()
            .filter_map(|c| CertInfo::from_der(c.as_ref(), OffsetDateTime::now_utc()).ok())
            .map(|c| (c.subject, c.issuer))
            .collect()
    }

    fn name_check(&self, host: &str) -> Check {
        let covered = ServerName::try_from(host.to_owned())
            .ok()
            .zip(webpki::EndEntityCert::try_from(&self.pair.chain[0]).ok())
            .is_some_and(|(name, ee)| ee.verify_is_valid_for_subject_name(&name).is_ok());
        if covered {
            Check::new("name", true, "covered by the certificate's names").for_host(host)
        } else {
            Check::new(
                "name",
                false,
                format!(
                    "not in the certificate's names ({})",
                    crate::pki::names::sans_line(&self.leaf.sans)
                ),
            )
            .for_host(host)
        }
    }

    /// Live handshakes with TLS 1.3 and 1.2 for every host against the integrated server on
    /// `listener`; also returns the chain the server presented.
    pub fn handshake_checks(
        &self,
        listener: &TcpListener,
    ) -> Result<(Vec<Check>, Vec<CertificateDer<'static>>)> {
        let server_config = self.pair.server_config()?;
        let recording = trust::Recording::new(self.verifier()?);
        let verifier: std::sync::Arc<dyn ServerCertVerifier> = recording.clone();
        let mut checks = Vec::new();
        for host in &self.hosts {
            for version in [&rustls::version::TLS13, &rustls::version::TLS12] {
                let config = client::client_config(version, verifier.clone())?;
                let result = duplex::connect(listener, self.timeout).and_then(|loopback| {
                    duplex::check(
                        loopback,
                        server_config.clone(),
                        host,
                        config,
                        "/",
                        self.timeout,
                    )
                });
                let pinned = self.ca.is_none() && !self.leaf.self_signed;
                checks.push(handshake_check(result, version.version, pinned).for_host(host));
            }
        }
        Ok((checks, recording.seen().chain))
    }
}

/// The check for one handshake's outcome.
fn handshake_check(
    result: Result<client::Handshake, String>,
    version: rustls::ProtocolVersion,
    pinned_not_self_signed: bool,
) -> Check {
    match result {
        Ok(h) if h.response_ok => {
            let detail = if pinned_not_self_signed {
                "handshake and request/response completed, trusting this certificate itself \
                 (without --ca the chain is not part of the handshake check)"
            } else {
                "handshake and request/response completed"
            };
            let mut c = Check::new("handshake", true, detail);
            c.protocol = Some(h.protocol);
            c.cipher_suite = Some(h.cipher_suite);
            c.handshake_ms = Some(h.handshake.as_secs_f64() * 1000.0);
            c
        }
        Ok(_) => Check::new(
            "handshake",
            false,
            "handshake completed but no response came back",
        ),
        Err(reason) => {
            let mut c = Check::new("handshake", false, reason);
            c.protocol = Some(client::protocol_name(version).to_owned());
            c
        }
    }
}

/// What the integrated check found.
pub struct LocalOutcome {
    pub checks: Vec<Check>,
    /// The chain the server presented in the handshakes (empty if none got that far).
    pub served: Vec<CertificateDer<'static>>,
    /// The server, still running, when asked to keep serving (for `--serve-for`).
    pub server: Option<local::Server>,
}

/// Run every check of the integrated server; `listener` is where it serves, and where it goes on
/// serving afterwards when `keep_serving`.
pub fn run_local(
    plan: &LocalPlan,
    listener: TcpListener,
    now: OffsetDateTime,
    keep_serving: bool,
) -> Result<LocalOutcome> {
    if plan.hosts.is_empty() {
        bail!("the certificate has no subjectAltName to check; name one with --host");
    }
    let mut checks = plan.static_checks(now);
    if !plan.key_matches() {
        // rustls will not even load a mismatched pair: no handshake to try.
        return Ok(LocalOutcome {
            checks,
            served: Vec::new(),
            server: None,
        });
    }
    let (handshakes, presented) = plan.handshake_checks(&listener)?;
    checks.extend(handshakes);
    let server = if keep_serving {
        Some(local::Server::start(listener, plan.pair.server_config()?))
    } else {
        None
    };
    Ok(LocalOutcome {
        checks,
        served: presented,
        server,
    })
}

/// The subjects of the `--ca` certificates.
fn ca_subjects(roots: &[CertificateDer<'static>]) -> Vec<String> {
    roots
        .iter()
        .filter_map(|c| CertInfo::from_der(c.as_ref(), OffsetDateTime::now_utc()).ok())
        .map(|c| c.subject)
        .collect()
}
