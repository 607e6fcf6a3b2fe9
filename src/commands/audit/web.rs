//! `certtool audit prometheus` and `audit node-exporter`: the web config exporter-toolkit
//! reads (TLS, mutual TLS, basic auth) and, for Prometheus, its scrape jobs; with `--url`, the
//! running server. Also the live checks every audit shares.

use std::path::Path;
use std::time::Duration;

use anyhow::Result;
use time::OffsetDateTime;
use yaml_rust2::{Yaml, YamlLoader};

use super::{Finding, Prefix, pair_findings, url_host};
use crate::cli::{AuditCommonArgs, AuditWebArgs};
use crate::error::Error;
use crate::files;
use crate::verify::probe::{Probe, ProbeKind, Target};

/// Which server.
#[derive(Debug, Clone, Copy)]
pub enum Server {
    Prometheus,
    NodeExporter,
}

const PAIR: Prefix = Prefix {
    pair: "web.tls-files",
    expiry: "web.tls-expiry",
    names: "web.tls-names",
    key_mode: "web.key-mode",
};

fn read_yaml(path: &Path, what: &str) -> Result<Yaml> {
    let bytes = files::read_input(path)?;
    parse_yaml(&String::from_utf8_lossy(&bytes), path, what)
}

/// A config's YAML: a mapping, or nothing at all (an empty file). Anything else (a bare
/// word, a list) is not a config of Prometheus's: bad input rather than a finding.
fn parse_yaml(text: &str, path: &Path, what: &str) -> Result<Yaml> {
    let docs = YamlLoader::load_from_str(text).map_err(|e| {
        Error::invalid(
            format!("cannot parse the {what} '{}': {e}", path.display()),
            "fix the YAML first (promtool check web-config / check config says where)",
        )
    })?;
    let doc = docs.into_iter().next().unwrap_or(Yaml::Null);
    if !matches!(doc, Yaml::Null | Yaml::Hash(_)) {
        return Err(Error::invalid(
            format!(
                "'{}' is not a {what}: it holds no YAML mapping",
                path.display()
            ),
            "give the file the server reads (--web.config.file, --config.file)",
        )
        .into());
    }
    Ok(doc)
}

pub(super) fn audit(server: Server, args: &AuditWebArgs) -> Result<Vec<Finding>> {
    let now = OffsetDateTime::now_utc();
    let web = read_yaml(&args.web_config, "web config")?;
    let mut hosts = args.common.hosts.clone();
    hosts.extend(args.common.url.as_deref().and_then(url_host));
    let service_user = args.common.service_user.as_deref().or(Some("prometheus"));
    let mut findings = web_config(&web, &args.web_config, &hosts, service_user, now, None);
    if let (Server::Prometheus, Some(config)) = (server, &args.config) {
        findings.extend(scrape_jobs(
            &read_yaml(config, "Prometheus config")?,
            args.allow_insecure,
        ));
    }
    if let Some(url) = &args.common.url {
        let basic = !web["basic_auth_users"].is_badvalue() && !web["basic_auth_users"].is_null();
        // Behind basic auth, Prometheus's health check answers strangers 401: the TLS view
        // comes from the probe, the auth view from the request below.
        let kind = match server {
            Server::Prometheus if !basic => ProbeKind::Prometheus,
            _ => ProbeKind::Tls,
        };
        let path = match server {
            Server::Prometheus => "/-/healthy",
            Server::NodeExporter => "/metrics",
        };
        findings.extend(live(url, &args.common, kind, Some((path, basic)))?);
    }
    Ok(findings)
}

/// The web config's findings from its text: the one on disk, or the one a dry run would write
/// (`planned`: the files it would write, for their modes and the new pair).
pub(crate) fn web_findings(
    text: &str,
    path: &Path,
    hosts: &[String],
    service_user: Option<&str>,
    planned: Option<&super::Planned<'_>>,
) -> Result<Vec<Finding>> {
    let web = parse_yaml(text, path, "web config")?;
    Ok(web_config(
        &web,
        path,
        hosts,
        service_user,
        OffsetDateTime::now_utc(),
        planned,
    ))
}

fn web_config(
    web: &Yaml,
    path: &Path,
    hosts: &[String],
    service_user: Option<&str>,
    now: OffsetDateTime,
    planned: Option<&super::Planned<'_>>,
) -> Vec<Finding> {
    let fix = format!(
        "certtool provision prometheus --host NAME --out-dir DIR --web-config {}",
        path.display()
    );
    let tls = &web["tls_server_config"];
    if tls.is_badvalue() || tls.is_null() {
        return vec![
            Finding::fail(
                "web.tls",
                format!("{} has no tls_server_config: the server speaks plain HTTP", path.display()),
            )
            .why("an empty web config passes promtool, yet serves metrics and credentials in clear text")
            .fix(fix),
        ];
    }
    // exporter-toolkit resolves relative paths against the web config's directory.
    let base = files::parent_dir(path);
    let file = |key: &str| tls[key].as_str().map(|p| base.join(p));
    let (Some(cert), Some(key)) = (file("cert_file"), file("key_file")) else {
        return vec![
            Finding::fail("web.tls", "tls_server_config lacks cert_file or key_file")
                .why("the server will not start TLS")
                .fix(fix),
        ];
    };
    let mut findings = vec![Finding::pass(
        "web.tls",
        format!("TLS with {}", cert.display()),
    )];
    findings.extend(pair_findings(
        PAIR,
        &cert,
        &key,
        hosts,
        service_user,
        now,
        planned,
    ));
    let min = tls["min_version"].as_str().unwrap_or("TLS12");
    findings.push(match min {
        "TLS12" | "TLS13" => Finding::pass("web.min-version", format!("min_version {min}")),
        other => Finding::fail("web.min-version", format!("min_version {other}"))
            .why("TLS 1.0 and 1.1 are broken and deprecated (RFC 8996)")
            .fix("min_version: TLS12 in tls_server_config"),
    });
    let client_auth = tls["client_auth_type"].as_str().unwrap_or("NoClientCert");
    findings.push(Finding::pass(
        "web.client-auth",
        match client_auth {
            "RequireAndVerifyClientCert" => {
                "client_auth_type RequireAndVerifyClientCert: mutual TLS".to_owned()
            }
            other => format!("client_auth_type {other}: clients are not asked for certificates"),
        },
    ));
    findings.extend(basic_auth(web));
    findings
}

fn basic_auth(web: &Yaml) -> Vec<Finding> {
    let Some(users) = web["basic_auth_users"].as_hash() else {
        return vec![
            Finding::warn(
                "web.basic-auth",
                "no basic_auth_users: anyone who reaches the port is served",
            )
            .why("metrics reveal hosts, versions and traffic; targets and the API more")
            .fix("certtool provision prometheus ... --basic-auth-user NAME --secret-file FILE"),
        ];
    };
    let mut findings = Vec::new();
    for (user, hash) in users {
        let user = crate::text::sanitize(user.as_str().unwrap_or("?"));
        let hash = hash.as_str().unwrap_or_default();
        let cost = bcrypt_cost(hash);
        findings.push(match cost {
            None => Finding::fail("web.basic-auth", format!("{user}: not a bcrypt hash"))
                .why("exporter-toolkit accepts only bcrypt: this user cannot log in, or the hash was pasted wrong")
                .fix("certtool provision prometheus ... --basic-auth-user NAME --secret-file FILE"),
            Some(cost) if cost < 10 => {
                Finding::warn("web.basic-auth", format!("{user}: bcrypt cost {cost}"))
                    .why("a leaked web config is cracked faster: use cost 10 or more")
                    .fix("certtool provision prometheus ... --bcrypt-cost 10")
            }
            Some(cost) => Finding::pass("web.basic-auth", format!("{user}: bcrypt cost {cost}")),
        });
    }
    findings
}

/// The cost of a `$2a$`, `$2b$` or `$2y$` bcrypt hash, if it is one.
fn bcrypt_cost(hash: &str) -> Option<u32> {
    let rest = ["$2a$", "$2b$", "$2y$"]
        .iter()
        .find_map(|p| hash.strip_prefix(p))?;
    let (cost, salt_and_hash) = rest.split_once('$')?;
    (salt_and_hash.len() == 53 && cost.len() == 2)
        .then(|| cost.parse().ok())
        .flatten()
        .filter(|c| (4..=31).contains(c))
}

/// prometheus.yml: `insecure_skip_verify`, and jobs over http to targets that serve https.
fn scrape_jobs(config: &Yaml, allow_insecure: bool) -> Vec<Finding> {
    let mut findings = Vec::new();
    for job in config["scrape_configs"].as_vec().into_iter().flatten() {
        let name = crate::text::sanitize(job["job_name"].as_str().unwrap_or("?"));
        if job["tls_config"]["insecure_skip_verify"].as_bool() == Some(true) {
            let detail = format!("job {name}: insecure_skip_verify: true");
            findings.push(if allow_insecure {
                Finding::warn("prometheus.insecure-skip-verify", detail)
            } else {
                Finding::fail("prometheus.insecure-skip-verify", detail)
            }
            .why("any server, or anyone in between, can answer the scrape")
            .fix(format!("certtool config prometheus-scrape --ca CA --job {name} --in-place prometheus.yml")));
        }
        let https = job["scheme"].as_str() == Some("https");
        let targets: Vec<&str> = job["static_configs"]
            .as_vec()
            .into_iter()
            .flatten()
            .flat_map(|c| c["targets"].as_vec().into_iter().flatten())
            .filter_map(Yaml::as_str)
            .collect();
        if https {
            findings.push(Finding::pass(
                "prometheus.scrape-scheme",
                format!("job {name}: https"),
            ));
            continue;
        }
        let serving_tls: Vec<&str> = targets.iter().copied().filter(|t| speaks_tls(t)).collect();
        findings.push(if serving_tls.is_empty() {
            Finding::pass(
                "prometheus.scrape-scheme",
                format!("job {name}: http (no target answers TLS)"),
            )
        } else {
            Finding::warn(
                "prometheus.scrape-scheme",
                format!(
                    "job {name}: http, but {} serve https",
                    serving_tls.join(", ")
                ),
            )
            .why("the scrape (and any credentials) goes in clear text to a server that offers TLS")
            .fix(format!(
                "certtool config prometheus-scrape --ca CA --job {name} --in-place prometheus.yml"
            ))
        });
    }
    findings
}

/// Whether `host:port` answers TLS (1 s at most).
fn speaks_tls(target: &str) -> bool {
    use std::net::ToSocketAddrs as _;
    target
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .is_some_and(speaks_tls_at)
}

/// Whether `addr` answers a TLS `ClientHello` with a handshake record (a plain HTTP server
/// answers "HTTP/1.1 400" instead); 1 s at most.
pub(super) fn speaks_tls_at(addr: std::net::SocketAddr) -> bool {
    use std::io::{Read as _, Write as _};
    let Ok(mut stream) = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(1)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
    // Only the first byte of the answer is read: which roots the config trusts does not matter.
    let Ok(config) = crate::verify::trust::public_roots_verifier()
        .and_then(crate::verify::client::client_config_any)
    else {
        return false;
    };
    let name = rustls_pki_types::ServerName::IpAddress(addr.ip().into());
    let Ok(mut conn) = rustls::ClientConnection::new(config, name) else {
        return false;
    };
    let mut hello = Vec::new();
    if conn.write_tls(&mut hello).is_err() || stream.write_all(&hello).is_err() {
        return false;
    }
    let mut first = [0u8; 1];
    stream.read_exact(&mut first).is_ok() && first[0] == 0x16
}

/// The running server, as clients see it: TLS, the chain, the service, and whether a request
/// without credentials is refused. `basic` is (path, whether the web config asks for users).
pub(super) fn live(
    url: &str,
    common: &AuditCommonArgs,
    kind: ProbeKind,
    basic: Option<(&str, bool)>,
) -> Result<Vec<Finding>> {
    let now = OffsetDateTime::now_utc();
    let ca = common
        .ca
        .as_deref()
        .map(|p| crate::inputs::load_chain(p, "CA certificate"))
        .transpose()?;
    let probe = Probe {
        target: Target::parse(url)?,
        ca,
        insecure: false,
        kind,
        auth: None,
        require_auth: true,
        timeout: common.timeout,
    };
    let outcome = probe.run(now)?;
    let mut findings: Vec<Finding> = outcome
        .checks
        .iter()
        .map(|c| {
            let name = match c.check {
                "tls" => "live.tls",
                "chain" => "live.chain",
                "name" => "live.name",
                "validity" => "live.expiry",
                "service" => "live.service",
                "auth" => "live.auth",
                _ => "live.check",
            };
            // Auth on and no user yet: nobody gets in, which is safe, if not yet usable.
            let no_users_yet = c.check == "auth" && c.detail.contains("no users yet");
            match (c.ok, c.warning || no_users_yet) {
                (true, false) => Finding::pass(name, c.detail.clone()),
                (_, true) => Finding::warn(name, c.detail.clone()),
                (false, false) => Finding::fail(name, c.detail.clone()),
            }
        })
        .collect();
    let tls_ok = outcome
        .checks
        .iter()
        .filter(|c| c.check == "tls")
        .all(|c| c.ok);
    if let (Some((path, configured)), true) = (basic, tls_ok) {
        let status = probe.status_of(path, None)?;
        findings.push(match (status, configured) {
            (401, _) => Finding::pass("live.auth", format!("GET {path} without credentials: 401")),
            (200, true) => Finding::fail("live.auth", format!("GET {path} without credentials: 200"))
                .why("the web config asks for users, but the server does not: is it running with --web.config.file?")
                .fix("certtool provision prometheus ... --env-file /etc/default/prometheus --reload 'systemctl restart prometheus'"),
            (200, false) => Finding::warn("live.auth", format!("GET {path} without credentials: 200"))
                .why("anyone who reaches the port is served"),
            (other, _) => Finding::warn("live.auth", format!("GET {path} without credentials: {other}")),
        });
    }
    Ok(findings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bcrypt_costs_are_read_and_anything_else_is_not_a_hash() {
        let hash = "$2b$10$abcdefghijklmnopqrstuuN6dxYcyVM2Q8LnXGWm9bm1zAD0ezy2i";
        assert_eq!(bcrypt_cost(hash), Some(10));
        assert_eq!(bcrypt_cost(&hash.replace("$10$", "$04$")), Some(4));
        for bad in [
            "",
            "secret",
            "$1$abc$def",
            "$2b$10$short",
            "$2b$99$abcdefghijklmnopqrstuuN6dxYcyVM2Q8LnXGWm9bm1zAD0ezy2i",
        ] {
            assert_eq!(bcrypt_cost(bad), None, "{bad}");
        }
    }
}
