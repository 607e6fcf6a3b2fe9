//! ACME (RFC 8555): certificates from Let's Encrypt or an internal ACME CA (step-ca, Vault,
//! pebble in the tests), with http-01 answered by a built-in listener or a webroot.
//!
//! instant-acme does the protocol (JWS, nonces, polling) over [`http::UreqClient`], on a
//! current-thread tokio runtime made only here, so no other command pays for it. The key
//! and the CSR are certtool's own (`pki::csr`), so an ACME certificate has the same profile and
//! goes through the same writer as every other.
//!
//! It must not print, nor write anything but the account and challenge files (the commands
//! write the pair).

mod account;
mod challenge;
mod http;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Result;
use instant_acme::{
    AuthorizationStatus, ChallengeType, Identifier, NewOrder, OrderStatus, RetryPolicy,
};
use rustls_pki_types::CertificateDer;
use time::OffsetDateTime;

use crate::pki::Host;

pub use account::state_dir;
pub use challenge::{HttpListener, Responder, TlsAlpnListener, Webroot};

/// Let's Encrypt's production and staging directories, by the names `--directory` takes.
#[must_use]
pub fn directory_url(name: &str) -> &str {
    match name {
        "letsencrypt" => "https://acme-v02.api.letsencrypt.org/directory",
        "letsencrypt-staging" => "https://acme-staging-v02.api.letsencrypt.org/directory",
        other => other,
    }
}

/// The CA said no, or could not be reached: exit 1 with one line and a hint, not a usage
/// error.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Refused {
    pub message: String,
    pub hint: String,
    /// The ACME problem type, when the CA sent one (`urn:ietf:params:acme:error:...`).
    pub problem: Option<String>,
}

/// How the challenges are answered.
pub enum Answer {
    /// http-01 by the built-in listener on this address.
    Listen(SocketAddr),
    /// http-01 by files under this document root.
    Webroot(PathBuf),
    /// tls-alpn-01 by the built-in TLS listener on this address.
    TlsAlpn(SocketAddr),
}

/// What to ask the CA for.
pub struct Order<'a> {
    pub directory: &'a str,
    pub hosts: &'a [Host],
    pub email: Option<&'a str>,
    pub account_dir: &'a Path,
    pub roots: Vec<CertificateDer<'static>>,
    pub answer: Answer,
    /// The request for the certificate's key (certtool's own CSR).
    pub csr_der: Vec<u8>,
    pub timeout: Duration,
}

/// What the CA sent back.
#[derive(Debug)]
pub struct Issued {
    /// The leaf and its chain, as the CA sent them (PEM).
    pub chain_pem: String,
    /// A new account was registered for this run.
    pub account_created: bool,
}

/// Run the whole exchange: account, order, challenges, finalize, download.
pub fn issue(order: Order<'_>) -> Result<Issued> {
    // The listener (or webroot) first: a port in use is the user's to fix before any request.
    let responder = match &order.answer {
        Answer::Listen(addr) => Responder::Listener(HttpListener::bind(*addr)?),
        Answer::Webroot(dir) => Responder::Webroot(Webroot::new(dir)?),
        Answer::TlsAlpn(addr) => Responder::TlsAlpn(challenge::TlsAlpnListener::bind(*addr)?),
    };
    runtime()?.block_on(exchange(order, responder))
}

/// The CA's suggested renewal window for `cert` (ACME Renewal Information, RFC 9773), and
/// when to ask again; `None` when the CA does not offer it.
pub fn renewal_window(
    directory: &str,
    account_dir: &Path,
    roots: &[CertificateDer<'static>],
    cert: &CertificateDer<'_>,
    timeout: Duration,
) -> Result<Option<(OffsetDateTime, OffsetDateTime, Duration)>> {
    runtime()?.block_on(async {
        let client = http::UreqClient::new(roots, timeout);
        let Some(account) = account::existing(account_dir, directory, Box::new(client)).await?
        else {
            return Ok(None);
        };
        let Ok(id) = instant_acme::CertificateIdentifier::try_from(cert) else {
            // No authorityKeyIdentifier: the certificate cannot be named to the CA.
            return Ok(None);
        };
        match account.renewal_info(&id).await {
            Ok((info, retry_after)) => Ok(Some((
                info.suggested_window.start,
                info.suggested_window.end,
                retry_after,
            ))),
            Err(instant_acme::Error::Unsupported(_)) => Ok(None),
            Err(e) => Err(refused(e, directory).into()),
        }
    })
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()?)
}

async fn exchange(order: Order<'_>, mut responder: Responder) -> Result<Issued> {
    let client = http::UreqClient::new(&order.roots, order.timeout);
    let (account, account_created) = account::open(
        order.account_dir,
        order.directory,
        order.email,
        Box::new(client),
    )
    .await?;
    let identifiers: Vec<Identifier> = order
        .hosts
        .iter()
        .map(|h| match h {
            Host::Dns(name) => Identifier::Dns(name.clone()),
            Host::Ip(ip) => Identifier::Ip(*ip),
        })
        .collect();
    let mut acme_order = account
        .new_order(&NewOrder::new(&identifiers))
        .await
        .map_err(|e| refused(e, order.directory))?;
    answer_challenges(&mut acme_order, &mut responder, order.directory).await?;
    let retry = RetryPolicy::new()
        .initial_delay(Duration::from_millis(20))
        .backoff(1.5)
        .timeout(order.timeout);
    let status = acme_order
        .poll_ready(&retry)
        .await
        .map_err(|e| refused(e, order.directory))?;
    if status != OrderStatus::Ready {
        return Err(validation_failed(&mut acme_order, order.directory).await);
    }
    acme_order
        .finalize_csr(&order.csr_der)
        .await
        .map_err(|e| refused(e, order.directory))?;
    let chain_pem = acme_order
        .poll_certificate(&retry)
        .await
        .map_err(|e| refused(e, order.directory))?;
    drop(responder);
    Ok(Issued {
        chain_pem,
        account_created,
    })
}

async fn answer_challenges(
    order: &mut instant_acme::Order,
    responder: &mut Responder,
    directory: &str,
) -> Result<()> {
    let mut authorizations = order.authorizations();
    while let Some(authz) = authorizations.next().await {
        let mut authz = authz.map_err(|e| refused(e, directory))?;
        match authz.status {
            AuthorizationStatus::Valid => continue,
            AuthorizationStatus::Pending => {}
            other => {
                return Err(Refused {
                    message: format!(
                        "the CA's authorization for {} is {other:?}",
                        authz.identifier()
                    ),
                    hint: "start a new order: run the command again".to_owned(),
                    problem: None,
                }
                .into());
            }
        }
        let name = authz.identifier().to_string();
        let (kind, label) = match responder {
            Responder::TlsAlpn(_) => (ChallengeType::TlsAlpn01, "tls-alpn-01"),
            _ => (ChallengeType::Http01, "http-01"),
        };
        let Some(mut challenge) = authz.challenge(kind) else {
            return Err(Refused {
                message: format!("the CA offers no {label} challenge for {name}"),
                hint: "try the other --challenge; wildcard names need dns-01, which certtool \
                       does not answer"
                    .to_owned(),
                problem: None,
            }
            .into());
        };
        let key_authorization = challenge.key_authorization();
        responder.add(
            &name,
            &challenge.token,
            key_authorization.as_str(),
            key_authorization.digest().as_ref(),
        )?;
        challenge
            .set_ready()
            .await
            .map_err(|e| refused(e, directory))?;
    }
    Ok(())
}

/// Why the order became invalid: the first failed challenge's problem, named by host.
async fn validation_failed(order: &mut instant_acme::Order, directory: &str) -> anyhow::Error {
    let mut authorizations = order.authorizations();
    while let Some(Ok(authz)) = authorizations.next().await {
        let name = authz.identifier().to_string();
        if let Some(problem) = authz.challenges.iter().find_map(|c| c.error.as_ref()) {
            let detail = problem.detail.clone().unwrap_or_default();
            return Refused {
                message: format!("the CA could not validate {name}: {detail}"),
                hint: VALIDATION_HINT.to_owned(),
                problem: problem.r#type.clone(),
            }
            .into();
        }
    }
    Refused {
        message: format!("the order at {directory} became invalid"),
        hint: "run the command again; if it keeps failing, see the CA's status page".to_owned(),
        problem: None,
    }
    .into()
}

const VALIDATION_HINT: &str = "the CA must reach http://NAME/.well-known/acme-challenge/ on \
     port 80: check DNS, firewalls and any proxy in front (--http-port if the CA is told another \
     port, --webroot for a running web server)";

/// An instant-acme error as one line and a hint.
fn refused(e: instant_acme::Error, directory: &str) -> Refused {
    use instant_acme::Error as E;
    match e {
        E::Api(problem) => {
            let kind = problem.r#type.clone().unwrap_or_default();
            let short = kind.rsplit(':').next().unwrap_or_default().to_owned();
            let detail = problem.detail.clone().unwrap_or_else(|| kind.clone());
            if matches!(
                short.as_str(),
                "connection" | "dns" | "incorrectResponse" | "unauthorized" | "tls" | "caa"
            ) {
                return Refused {
                    message: format!(
                        "the CA could not validate the challenge: {}",
                        crate::text::sanitize(&detail)
                    ),
                    hint: VALIDATION_HINT.to_owned(),
                    problem: Some(kind),
                };
            }
            let hint = match short.as_str() {
                "rateLimited" => {
                    "the CA limits how often it issues: wait (the detail says \
                                  until when), and test against letsencrypt-staging"
                }
                "rejectedIdentifier" => {
                    "the CA will not issue for that name (or for IP \
                                         addresses at all): ask for names it accepts"
                }
                "badNonce" => "the CA rejected the request's nonce three times: run again",
                "accountDoesNotExist" => {
                    "the CA does not know this account (deleted, or the \
                                          CA was reset): remove account.json from --account-dir"
                }
                "malformed" => "the CA found the request malformed: see the detail",
                _ => "see the CA's detail above",
            };
            Refused {
                message: format!("the CA refused: {}", crate::text::sanitize(&detail)),
                hint: hint.to_owned(),
                problem: Some(kind),
            }
        }
        E::Timeout(_) => Refused {
            message: format!("the CA at {directory} did not finish the order in time"),
            hint: "run again, or pass a longer --timeout".to_owned(),
            problem: None,
        },
        other => {
            let text = crate::text::sanitize(&format!("{other}"));
            let why = source_chain(&other);
            Refused {
                message: format!("cannot talk to the ACME server at {directory}: {text}{why}"),
                hint: "check --directory, and that the CA is up and reachable (for a test or \
                       internal CA, give its root with --ca-bundle)"
                    .to_owned(),
                problem: None,
            }
        }
    }
}

fn source_chain(e: &dyn std::error::Error) -> String {
    let mut out = String::new();
    let mut cause = e.source();
    while let Some(c) = cause {
        out.push_str(": ");
        out.push_str(&crate::text::sanitize(&c.to_string()));
        cause = c.source();
    }
    out
}
