//! Probing a running server: the TLS handshake with real hostname verification and the chain it
//! serves, then the service itself over HTTPS (ureq): InfluxDB's `/ping`, Prometheus's
//! `/-/healthy`, and with a user and secret, that tokens are accepted and required.
//!
//! It must not use the integrated server, and sends the secret only as a minted token.

use std::io::Read as _;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use rustls::client::danger::ServerCertVerifier;
use rustls::pki_types::CertificateDer;
use time::OffsetDateTime;
use ureq::unversioned::resolver::{ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{DefaultConnector, NextTimeout};

use super::trust::{self, Recording};
use super::{ChainEntry, Check, client, describe_chain};
use crate::error::Error;
use crate::jwt::{Alg, Signer};
use crate::text::sanitize;

/// Which service to expect behind the URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ProbeKind {
    /// Detect: InfluxDB if /ping answers 204 with X-Influxdb-Version, else Prometheus's /-/healthy
    Auto,
    Influxdb,
    Prometheus,
    /// Only the TLS handshake, no service check
    Tls,
}

/// Where to connect and what name to verify.
#[derive(Debug, Clone)]
pub struct Target {
    pub host: String,
    pub port: u16,
    /// Connect here instead of resolving `host` (as curl's --resolve does).
    pub connect: Option<SocketAddr>,
}

impl Target {
    /// Parse `https://HOST[:PORT][/]` (see [`crate::url`]).
    pub fn parse(url: &str) -> Result<Target, Error> {
        let parsed = crate::url::parse(url)?;
        if !parsed.https {
            return Err(Error::invalid(
                format!("--url '{}' is not an https:// URL", sanitize(url)),
                "write it as https://influx.example.com:8086",
            ));
        }
        Ok(Target {
            host: parsed.host,
            port: parsed.port,
            connect: None,
        })
    }

    /// The address to probe: `connect` if set, else the first address of the host that accepts
    /// a connection (`localhost` may resolve to `::1` first while the server listens on 127.0.0.1).
    pub fn addr(&self, timeout: Duration) -> Result<SocketAddr> {
        if let Some(addr) = self.connect {
            return Ok(addr);
        }
        let addrs: Vec<SocketAddr> = (self.host.as_str(), self.port)
            .to_socket_addrs()
            .with_context(|| format!("cannot resolve {}", self.host))?
            .collect();
        let first = *addrs
            .first()
            .with_context(|| format!("{} has no address", self.host))?;
        Ok(addrs
            .iter()
            .copied()
            .find(|a| std::net::TcpStream::connect_timeout(a, timeout).is_ok())
            .unwrap_or(first))
    }

    fn base_url(&self) -> String {
        if self.host.contains(':') {
            format!("https://[{}]:{}", self.host, self.port)
        } else {
            format!("https://{}:{}", self.host, self.port)
        }
    }
}

/// What to probe and with what.
pub struct Probe {
    pub target: Target,
    /// Trust anchors from `--ca`; `None` trusts the Mozilla roots.
    pub ca: Option<Vec<CertificateDer<'static>>>,
    pub insecure: bool,
    pub kind: ProbeKind,
    /// User and shared secret, to check token authentication.
    pub auth: Option<(String, zeroize::Zeroizing<Vec<u8>>)>,
    /// Fail (rather than warn) when InfluxDB answers a query without credentials.
    pub require_auth: bool,
    pub timeout: Duration,
}

/// What a server answered: the status, InfluxDB's version header, and the start of the body
/// (for InfluxDB's error messages).
struct Answer {
    status: u16,
    version: Option<String>,
    body: String,
}

/// How much of a body is read: InfluxDB's error objects are a line.
const BODY_LIMIT: u64 = 4096;

/// What influxd answers every request while auth is on and no user exists yet.
pub const NO_ADMIN_YET: &str = "create admin user first or disable authentication";

/// The outcome: the checks, the served chain, and the service found.
#[derive(Debug, serde::Serialize)]
pub struct Outcome {
    pub checks: Vec<Check>,
    pub chain: Vec<ChainEntry>,
    pub kind: Option<ProbeKind>,
}

impl Probe {
    fn verifier(&self) -> Result<Arc<dyn ServerCertVerifier>> {
        if self.insecure {
            return Ok(trust::PinnedVerifier::accept_anything());
        }
        match &self.ca {
            Some(roots) => trust::roots_verifier(roots),
            None => trust::public_roots_verifier(),
        }
    }

    /// Run the TLS check, then the service checks.
    pub fn run(&self, now: OffsetDateTime) -> Result<Outcome> {
        let addr = self.target.addr(self.timeout)?;
        let recording = Recording::new(self.verifier()?);
        let config = client::client_config_any(recording.clone())?;
        let result = client::handshake_only(addr, &self.target.host, config, self.timeout);
        let seen = recording.seen();
        let chain = describe_chain(&seen.chain, now);
        let mut checks = Vec::new();
        let tls_ok = match result {
            Ok(h) => {
                let trust = if self.insecure {
                    "NOT verified (--insecure)".to_owned()
                } else {
                    format!("trusted for {}", self.target.host)
                };
                let mut check = Check::new("tls", true, trust);
                check.protocol = Some(h.protocol);
                check.cipher_suite = Some(h.cipher_suite);
                check.handshake_ms = Some(h.handshake.as_secs_f64() * 1000.0);
                checks.push(check.for_host(&self.target.host));
                true
            }
            Err(reason) => {
                let mut reason = match seen.verdict {
                    Some(Err(verdict)) => verdict,
                    _ => reason,
                };
                if reason == trust::UNKNOWN_ISSUER {
                    let served: Vec<(String, String)> = chain
                        .iter()
                        .map(|c| (c.subject.clone(), c.issuer.clone()))
                        .collect();
                    let cas = self.ca.as_ref().map(|roots| {
                        roots
                            .iter()
                            .filter_map(|c| {
                                crate::pki::parse::CertInfo::from_der(c.as_ref(), now).ok()
                            })
                            .map(|c| c.subject)
                            .collect::<Vec<_>>()
                    });
                    if let Some(hint) = trust::missing_issuer_hint(&served, cas.as_deref()) {
                        reason = format!("{reason}: {hint}");
                    }
                }
                checks.push(Check::new("tls", false, reason).for_host(&self.target.host));
                false
            }
        };
        if !tls_ok || self.kind == ProbeKind::Tls {
            return Ok(Outcome {
                checks,
                chain,
                kind: None,
            });
        }
        let agent = self.agent(addr);
        let kind = self.service_checks(&agent, &mut checks);
        match (kind, &self.auth) {
            (Some(ProbeKind::Influxdb), Some((user, secret))) => {
                self.token_check(&agent, user, secret, now, &mut checks);
            }
            (Some(ProbeKind::Prometheus), Some(_)) => {
                return Err(Error::invalid(
                    format!(
                        "--user checks InfluxDB's token authentication, but {} is Prometheus",
                        self.target.base_url()
                    ),
                    "drop --user (and the secret) for Prometheus",
                )
                .into());
            }
            _ => {}
        }
        if kind == Some(ProbeKind::Influxdb) {
            checks.push(self.auth_check(&agent));
        }
        Ok(Outcome {
            checks,
            chain,
            kind,
        })
    }

    /// An `InfluxQL` statement sent to `/query` (POST, as statements that change things must be),
    /// with a bearer token if given: the status and the start of the body.
    pub fn influx_query(&self, statement: &str, token: Option<&str>) -> Result<(u16, String)> {
        let addr = self.target.addr(self.timeout)?;
        let agent = self.agent(addr);
        let mut request = agent.post(format!("{}/query", self.target.base_url()));
        if let Some(token) = token {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        let mut response = request
            .send_form([("q", statement)])
            .map_err(|e| anyhow::anyhow!("POST /query: {e}"))?;
        let status = response.status().as_u16();
        let mut bytes = Vec::new();
        let _ = response
            .body_mut()
            .as_reader()
            .take(BODY_LIMIT * 16)
            .read_to_end(&mut bytes);
        Ok((status, String::from_utf8_lossy(&bytes).into_owned()))
    }

    /// The status of `GET path`, with HTTP basic auth if given.
    pub fn status_of(&self, path: &str, basic: Option<(&str, &[u8])>) -> Result<u16> {
        use base64::Engine as _;
        let addr = self.target.addr(self.timeout)?;
        let agent = self.agent(addr);
        let mut request = agent.get(format!("{}{path}", self.target.base_url()));
        if let Some((user, password)) = basic {
            let mut pair = zeroize::Zeroizing::new(format!("{user}:").into_bytes());
            pair.extend_from_slice(password);
            let encoded =
                zeroize::Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(&*pair));
            request = request.header("Authorization", format!("Basic {}", encoded.as_str()));
        }
        let response = request
            .call()
            .map_err(|e| anyhow::anyhow!("GET {path}: {e}"))?;
        Ok(response.status().as_u16())
    }

    /// An HTTPS client trusting what the TLS check trusted, connecting where it connected.
    fn agent(&self, addr: SocketAddr) -> ureq::Agent {
        let mut tls = ureq::tls::TlsConfig::builder().provider(ureq::tls::TlsProvider::Rustls);
        if self.insecure {
            tls = tls.disable_verification(true);
        } else if let Some(roots) = &self.ca {
            let certs = roots
                .iter()
                .map(|c| ureq::tls::Certificate::from_der(c.as_ref()).to_owned())
                .collect();
            tls = tls.root_certs(ureq::tls::RootCerts::Specific(Arc::new(certs)));
        }
        let config = ureq::Agent::config_builder()
            .tls_config(tls.build())
            .timeout_global(Some(self.timeout))
            .http_status_as_error(false)
            .max_redirects(0)
            .build();
        ureq::Agent::with_parts(config, DefaultConnector::default(), FixedAddr(addr))
    }

    fn get(&self, agent: &ureq::Agent, path: &str, token: Option<&str>) -> Result<Answer, String> {
        let mut request = agent.get(format!("{}{path}", self.target.base_url()));
        if let Some(token) = token {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        let mut response = request.call().map_err(|e| e.to_string())?;
        let version = response
            .headers()
            .get("X-Influxdb-Version")
            .and_then(|v| v.to_str().ok())
            .map(sanitize);
        let status = response.status().as_u16();
        let mut body = String::new();
        if status >= 400 {
            let mut bytes = Vec::new();
            let _ = response
                .body_mut()
                .as_reader()
                .take(BODY_LIMIT)
                .read_to_end(&mut bytes);
            body = sanitize(&String::from_utf8_lossy(&bytes));
        }
        Ok(Answer {
            status,
            version,
            body,
        })
    }

    /// influxd with auth on and no users answers everything with 403 and this message: say so,
    /// with the statement that creates the first admin (seed page "Configure authentication").
    fn no_admin_yet(&self, answer: &Result<Answer, String>) -> Option<Check> {
        let answer = answer.as_ref().ok()?;
        if answer.status != 403 || !answer.body.contains(NO_ADMIN_YET) {
            return None;
        }
        Some(Check::new(
            "auth",
            false,
            format!(
                "influxd has authentication on but no users yet (403: \"{NO_ADMIN_YET}\"); \
                 create the admin user: SSL_CERT_FILE=CA.crt influx -ssl -host {} -port {} \
                 -execute \"CREATE USER admin WITH PASSWORD '...' WITH ALL PRIVILEGES\"",
                self.target.host, self.target.port
            ),
        ))
    }

    /// InfluxDB's /ping or Prometheus's /-/healthy; returns the service found.
    fn service_checks(&self, agent: &ureq::Agent, checks: &mut Vec<Check>) -> Option<ProbeKind> {
        if matches!(self.kind, ProbeKind::Auto | ProbeKind::Influxdb) {
            match self.get(agent, "/ping", None) {
                Ok(Answer {
                    status: 204,
                    version: Some(version),
                    ..
                }) => {
                    checks.push(Check::new(
                        "service",
                        true,
                        format!("InfluxDB {version} answered GET /ping with 204"),
                    ));
                    return Some(ProbeKind::Influxdb);
                }
                other if self.kind == ProbeKind::Influxdb => {
                    checks.push(Check::new(
                        "service",
                        false,
                        format!(
                            "GET /ping: expected 204 with X-Influxdb-Version, got {}",
                            describe(&other)
                        ),
                    ));
                    return None;
                }
                _ => {}
            }
        }
        match self.get(agent, "/-/healthy", None) {
            Ok(Answer { status: 200, .. }) => {
                checks.push(Check::new(
                    "service",
                    true,
                    "Prometheus answered GET /-/healthy with 200",
                ));
                Some(ProbeKind::Prometheus)
            }
            other => {
                let what = if self.kind == ProbeKind::Auto {
                    "neither InfluxDB's /ping (204) nor Prometheus's /-/healthy (200) answered; /-/healthy gave"
                } else {
                    "GET /-/healthy: expected 200, got"
                };
                checks.push(Check::new(
                    "service",
                    false,
                    format!("{what} {}", describe(&other)),
                ));
                None
            }
        }
    }

    /// A token for `user` must be accepted.
    fn token_check(
        &self,
        agent: &ureq::Agent,
        user: &str,
        secret: &[u8],
        now: OffsetDateTime,
        checks: &mut Vec<Check>,
    ) {
        let exp = now.unix_timestamp() + 300;
        let token = Signer::new(Alg::Hs256, secret).mint(user, exp, &serde_json::Map::new());
        let answer = self.get(agent, QUERY, Some(&token));
        if self.no_admin_yet(&answer).is_some() {
            // The auth check says what to do; the token could not be judged.
            checks.push(Check::new(
                "token",
                false,
                format!("a token for {user} could not be tried: influxd has no users yet"),
            ));
            return;
        }
        let check = match answer.map(|a| a.status) {
            Ok(200) => Check::new(
                "token",
                true,
                format!("a token for {user} was accepted (200)"),
            ),
            Ok(401) => Check::new(
                "token",
                false,
                format!(
                    "a token for {user} was refused (401): wrong shared secret, or no such user"
                ),
            ),
            Ok(403) => Check::new(
                "token",
                false,
                format!("{user} may not run SHOW DATABASES (403)"),
            ),
            Ok(status) => Check::new(
                "token",
                false,
                format!("SHOW DATABASES with a token: HTTP {status}"),
            ),
            Err(e) => Check::new("token", false, format!("SHOW DATABASES with a token: {e}")),
        };
        checks.push(check);
    }

    /// Whether a query without credentials is refused: always reported for InfluxDB. Answered
    /// (200), it is a warning, or a failure with `--require-auth` or `--user` (which asks
    /// whether authentication works).
    fn auth_check(&self, agent: &ureq::Agent) -> Check {
        let answer = self.get(agent, QUERY, None);
        if let Some(check) = self.no_admin_yet(&answer) {
            return check;
        }
        match answer.map(|a| a.status) {
            Ok(401) => Check::new(
                "auth",
                true,
                "auth enforced: without credentials the query is refused (401)",
            ),
            Ok(200) => {
                let detail = "auth not enforced: anyone who reaches the port may query without credentials (set [http] auth-enabled = true: certtool config influxdb --auth)";
                if self.require_auth || self.auth.is_some() {
                    Check::new("auth", false, detail)
                } else {
                    Check::warning(
                        "auth",
                        format!("{detail}; --require-auth makes this a failure"),
                    )
                }
            }
            Ok(status) => Check::new("auth", false, format!("without credentials: HTTP {status}")),
            Err(e) => Check::new("auth", false, format!("without credentials: {e}")),
        }
    }
}

/// The query the auth checks send: harmless, and allowed to any user with read access.
const QUERY: &str = "/query?q=SHOW%20DATABASES";

fn describe(result: &Result<Answer, String>) -> String {
    match result {
        Ok(answer) => format!("HTTP {}", answer.status),
        Err(e) => e.clone(),
    }
}

/// A resolver that sends every request to one address, so the service checks reach the very
/// server the TLS check verified (and loopback launches can verify a certificate's DNS name).
#[derive(Debug)]
struct FixedAddr(SocketAddr);

impl Resolver for FixedAddr {
    fn resolve(
        &self,
        _uri: &ureq::http::Uri,
        _config: &ureq::config::Config,
        _timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let mut addrs = ResolvedSocketAddrs::from_fn(|_| self.0);
        addrs.truncate(0);
        addrs.push(self.0);
        Ok(addrs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_into_host_and_port() {
        let t = Target::parse("https://influx.test:8086/").unwrap();
        assert_eq!((t.host.as_str(), t.port), ("influx.test", 8086));
        let t = Target::parse("https://[::1]:9090").unwrap();
        assert_eq!((t.host.as_str(), t.port), ("::1", 9090));
        assert_eq!(Target::parse("https://h.test").unwrap().port, 443);
        assert!(Target::parse("http://h.test").is_err());
        assert!(Target::parse("https://:80").is_err());
        assert!(Target::parse("https://h:port").is_err());
    }
}
