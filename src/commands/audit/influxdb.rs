//! `certtool audit influxdb`: influxdb.conf (and the environment file systemd gives influxd,
//! whose `INFLUXDB_*` variables override it) against "Managing InfluxDB security": HTTPS,
//! authentication and its shared secret, the RPC port, debug endpoints, data at rest; with
//! `--url`, the running server.

use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};

use anyhow::Result;
use time::OffsetDateTime;
use toml_edit::DocumentMut;

use super::{Finding, Planned, Prefix, pair_findings, url_host};
use crate::cli::AuditInfluxdbArgs;
use crate::error::Error;
use crate::files;

const PAIR: Prefix = Prefix {
    pair: "influxdb.tls-files",
    expiry: "influxdb.tls-expiry",
    names: "influxdb.tls-names",
    key_mode: "influxdb.key-mode",
};

/// The variables of an environment file, as `secret::env_file_values` reads them.
type EnvValues = Vec<(String, zeroize::Zeroizing<String>)>;

/// What influxd will run with: the config file, overridden by the environment file.
struct Settings {
    doc: DocumentMut,
    env: Vec<(String, zeroize::Zeroizing<String>)>,
}

impl Settings {
    /// influxd's settings from the config's text and the environment file's values.
    fn of(
        text: &str,
        config: &Path,
        env: Vec<(String, zeroize::Zeroizing<String>)>,
    ) -> Result<Settings> {
        let doc: DocumentMut = text.parse().map_err(|e: toml_edit::TomlError| {
            Error::invalid(
                format!("cannot parse '{}': {}", config.display(), e.message()),
                "give influxd's config file (TOML), e.g. /etc/influxdb/influxdb.conf",
            )
        })?;
        crate::config::influxdb::Kind::require_v1(&doc, config)?;
        Ok(Settings { doc, env })
    }

    /// The value of `key` in `[section]` (top level for `""`), or the variable influxd reads
    /// instead (`INFLUXDB_HTTP_AUTH_ENABLED` for `[http] auth-enabled`).
    fn get(&self, section: &str, key: &str) -> Option<String> {
        let var = if section.is_empty() {
            format!("INFLUXDB_{}", key.to_uppercase().replace('-', "_"))
        } else {
            format!(
                "INFLUXDB_{}_{}",
                section.to_uppercase(),
                key.to_uppercase().replace('-', "_")
            )
        };
        if let Some((_, value)) = self.env.iter().find(|(n, _)| *n == var) {
            return Some(value.to_string());
        }
        let item = if section.is_empty() {
            self.doc.get(key)
        } else {
            self.doc.get(section)?.get(key)
        }?;
        item.as_str()
            .map(str::to_owned)
            .or_else(|| item.as_bool().map(|b| b.to_string()))
            .or_else(|| item.as_integer().map(|i| i.to_string()))
    }

    fn flag(&self, section: &str, key: &str, default: bool) -> bool {
        self.get(section, key).map_or(default, |v| v == "true")
    }

    /// Where the setting comes from, for findings: the env file or the config.
    fn set_by_env(&self, section: &str, key: &str) -> bool {
        let var = format!(
            "INFLUXDB_{}_{}",
            section.to_uppercase(),
            key.to_uppercase().replace('-', "_")
        );
        self.env.iter().any(|(n, _)| *n == var)
    }
}

pub(super) fn audit(args: &AuditInfluxdbArgs) -> Result<Vec<Finding>> {
    let text = String::from_utf8(files::read_input(&args.config)?.to_vec())
        .map_err(|_| anyhow::anyhow!("'{}' is not UTF-8 text", args.config.display()))?;
    let env = match &args.env_file {
        Some(path) => read_env_file(path)?,
        None => Vec::new(),
    };
    let s = Settings::of(&text, &args.config, env)?;
    let mut hosts: Vec<String> = args.common.hosts.clone();
    hosts.extend(args.common.url.as_deref().and_then(url_host));
    let ctx = Context {
        config: &args.config,
        env_file: args.env_file.as_deref(),
        hosts: &hosts,
        service_user: args.common.service_user.as_deref(),
        planned: None,
    };
    let mut findings = findings(&s, &ctx)?;
    if let Some(url) = &args.common.url {
        findings.extend(super::web::live(
            url,
            &args.common,
            crate::verify::probe::ProbeKind::Influxdb,
            None,
        )?);
        findings.push(rpc_reachable(&s, url));
    }
    Ok(findings)
}

/// What `provision influxdb --dry-run` expects the audit to say once it has run: the edited
/// config (`new_config`), the environment file's new values, and the files it would write.
pub(crate) fn expected(
    config: &Path,
    new_config: &str,
    env_file: Option<(&Path, EnvValues)>,
    hosts: &[String],
    service_user: Option<&str>,
    planned: &Planned<'_>,
) -> Result<Vec<Finding>> {
    let (env_path, env) = env_file.map_or((None, Vec::new()), |(p, v)| (Some(p), v));
    let s = Settings::of(new_config, config, env)?;
    findings(
        &s,
        &Context {
            config,
            env_file: env_path,
            hosts,
            service_user,
            planned: Some(planned),
        },
    )
}

/// The audit of influxd's files as they are now, for `provision influxdb --dry-run`.
pub(crate) fn current(
    config: &Path,
    env_file: Option<&Path>,
    hosts: &[String],
    service_user: Option<&str>,
) -> Result<Vec<Finding>> {
    let text = String::from_utf8_lossy(&files::read_input(config)?).into_owned();
    let env = match env_file.filter(|p| p.exists()) {
        Some(path) => read_env_file(path)?,
        None => Vec::new(),
    };
    let s = Settings::of(&text, config, env)?;
    findings(
        &s,
        &Context {
            config,
            env_file: env_file.filter(|p| p.exists()),
            hosts,
            service_user,
            planned: None,
        },
    )
}

fn read_env_file(path: &Path) -> Result<EnvValues> {
    let bytes = files::read_input(path)?;
    Ok(
        crate::secret::env_file_values(&String::from_utf8_lossy(&bytes)).ok_or_else(|| {
            Error::invalid(
                format!(
                    "'{}' is not an environment file (NAME=value lines)",
                    path.display()
                ),
                "give the file systemd's EnvironmentFile= names, e.g. /etc/default/influxdb",
            )
        })?,
    )
}

/// Where the findings look: the paths, the names to cover, and the files a dry run would write.
struct Context<'a> {
    config: &'a Path,
    env_file: Option<&'a Path>,
    hosts: &'a [String],
    service_user: Option<&'a str>,
    planned: Option<&'a Planned<'a>>,
}

fn findings(s: &Settings, ctx: &Context<'_>) -> Result<Vec<Finding>> {
    let now = OffsetDateTime::now_utc();
    let config = ctx.config.display().to_string();
    let mut findings = Vec::new();
    findings.extend(https(s, &config, ctx, now));
    let auth = s.flag("http", "auth-enabled", false);
    findings.push(if auth {
        Finding::pass("influxdb.auth", "auth-enabled = true")
    } else {
        Finding::fail("influxdb.auth", "auth-enabled is false")
            .why("anyone who reaches the API reads and writes every database (guide: enable authentication)")
            .fix(format!("certtool config influxdb --cert CERT --key KEY --auth --in-place {config}"))
    });
    if auth {
        findings.extend(shared_secret(s, ctx)?);
    }
    findings.push(rpc(s, &config));
    findings.extend(debug_endpoints(s, auth, &config));
    findings.push(api_bind(s, auth));
    findings.extend(data_at_rest(s));
    Ok(findings)
}

fn https(s: &Settings, config: &str, ctx: &Context<'_>, now: OffsetDateTime) -> Vec<Finding> {
    if !s.flag("http", "https-enabled", false) {
        return vec![
            Finding::fail("influxdb.https", "https-enabled is false")
                .why("passwords and tokens cross the network in clear text (guide: enable HTTPS)")
                .fix(format!(
                    "certtool provision influxdb --host NAME --out-dir /etc/ssl/influxdb --config {config}"
                )),
        ];
    }
    let cert = PathBuf::from(
        s.get("http", "https-certificate")
            .unwrap_or_else(|| "/etc/ssl/influxdb.pem".to_owned()),
    );
    // Without https-private-key, influxd reads the key from the certificate file.
    let key = s
        .get("http", "https-private-key")
        .filter(|k| !k.is_empty())
        .map_or_else(|| cert.clone(), PathBuf::from);
    let mut findings = vec![Finding::pass("influxdb.https", "https-enabled = true")];
    findings.extend(pair_findings(
        PAIR,
        &cert,
        &key,
        ctx.hosts,
        ctx.service_user.or(Some("influxdb")),
        now,
        ctx.planned,
    ));
    findings
}

fn shared_secret(s: &Settings, ctx: &Context<'_>) -> Result<Vec<Finding>> {
    let (config, env_file) = (ctx.config, ctx.env_file);
    let mut findings = Vec::new();
    let in_env = s.set_by_env("http", "shared-secret");
    let secret = s.get("http", "shared-secret").unwrap_or_default();
    let secret = zeroize::Zeroizing::new(secret);
    let fix = format!(
        "certtool config influxdb --cert CERT --key KEY --auth --in-place {} (a generated secret, in an env file)",
        config.display()
    );
    if secret.is_empty() {
        let where_ = if env_file.is_none() {
            " in the config (if influxd's environment sets it, pass --env-file /etc/default/influxdb)"
        } else {
            " in the config and the environment file"
        };
        findings.push(
            Finding::fail(
                "influxdb.shared-secret",
                format!("auth is on and shared-secret is blank{where_}"),
            )
                .why("InfluxDB before 1.7.6 accepts any token signed with the blank secret (CVE-2019-20933)")
                .fix(fix),
        );
        return Ok(findings);
    }
    findings.push(if secret.len() < 32 {
        Finding::warn(
            "influxdb.shared-secret",
            format!("shared-secret is {} bytes", secret.len()),
        )
        .why("a short secret can be guessed offline from one token; use at least 32 bytes")
        .fix("certtool secret generate --out /etc/influxdb/shared.secret, then certtool config influxdb --auth --secret-file ...")
    } else {
        Finding::pass(
            "influxdb.shared-secret",
            format!("shared-secret is {} bytes", secret.len()),
        )
    });
    if in_env {
        if let Some(path) = env_file {
            findings.push(private_file("influxdb.secret-file", path, ctx.planned));
        }
    } else {
        let mode = super::mode_and_owner(config, ctx.planned)?.0;
        findings.push(if mode & 0o004 != 0 {
            Finding::fail(
                "influxdb.secret-in-config",
                format!(
                    "{} holds the shared-secret and is mode {}",
                    config.display(),
                    crate::text::mode_string(mode)
                ),
            )
            .why("every user on the host can read the secret and mint admin tokens")
            .fix(format!("certtool perms --fix {}", config.display()))
        } else {
            Finding::warn(
                "influxdb.secret-in-config",
                format!("{} holds the shared-secret", config.display()),
            )
            .why("configs get copied and diffed; an environment file keeps it apart")
            .fix(fix)
        });
    }
    Ok(findings)
}

/// A file holding a secret: 0600 (or 0640), not readable by others.
fn private_file(name: &'static str, path: &Path, planned: Option<&Planned<'_>>) -> Finding {
    match super::mode_and_owner(path, planned) {
        Ok((mode, _)) if mode & 0o007 != 0 => Finding::fail(
            name,
            format!(
                "{} is mode {}",
                path.display(),
                crate::text::mode_string(mode)
            ),
        )
        .why("every user on the host can read the secret")
        .fix(format!("certtool perms --fix {}", path.display())),
        Ok((mode, _)) => Finding::pass(
            name,
            format!(
                "{} is mode {}",
                path.display(),
                crate::text::mode_string(mode)
            ),
        ),
        Err(e) => Finding::fail(name, crate::text::sanitize(&format!("{e:#}"))),
    }
}

/// Whether an address (`host:port`, `:port`) listens on loopback only.
fn loopback_only(addr: &str) -> bool {
    let host = addr.rsplit_once(':').map_or(addr, |(h, _)| h);
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn rpc(s: &Settings, config: &str) -> Finding {
    let addr = s
        .get("", "bind-address")
        .unwrap_or_else(|| "127.0.0.1:8088".to_owned());
    if loopback_only(&addr) {
        Finding::pass(
            "influxdb.rpc-bind",
            format!("the backup/restore RPC service binds {addr}"),
        )
    } else {
        Finding::fail(
            "influxdb.rpc-bind",
            format!("the backup/restore RPC service binds {addr}"),
        )
        .why("the RPC port has no authentication: anyone reaching it can back up or restore every database (guide: only 8086 exposed)")
        .fix(format!("set bind-address = \"127.0.0.1:8088\" at the top of {config}"))
    }
}

fn debug_endpoints(s: &Settings, auth: bool, config: &str) -> Vec<Finding> {
    let mut findings = Vec::new();
    let pprof = s.flag("http", "pprof-enabled", true);
    findings.push(if pprof && !auth {
        Finding::warn(
            "influxdb.pprof",
            "pprof-enabled: /debug/pprof and /debug/vars answer on the API port",
        )
        .why("with auth off they expose the process's memory and runtime to anyone who reaches the API")
        .fix(format!("set pprof-enabled = false in [http] of {config}, or turn auth on"))
    } else {
        Finding::pass(
            "influxdb.pprof",
            if pprof {
                "pprof-enabled, behind authentication"
            } else {
                "pprof-enabled = false"
            },
        )
    });
    if s.flag("http", "debug-pprof-enabled", false) {
        findings.push(
            Finding::warn(
                "influxdb.debug-pprof",
                "debug-pprof-enabled: a profiler listens on localhost:6060",
            )
            .why("it answers every local user without authentication")
            .fix(format!(
                "set debug-pprof-enabled = false in [http] of {config}"
            )),
        );
    }
    findings
}

fn api_bind(s: &Settings, auth: bool) -> Finding {
    let addr = s
        .get("http", "bind-address")
        .unwrap_or_else(|| ":8086".to_owned());
    if loopback_only(&addr) {
        Finding::pass(
            "influxdb.api-bind",
            format!("the API binds {addr} (loopback only)"),
        )
    } else if auth {
        Finding::pass(
            "influxdb.api-bind",
            format!("the API binds {addr}, with authentication"),
        )
    } else {
        Finding::warn(
            "influxdb.api-bind",
            format!("the API binds {addr} without authentication"),
        )
        .why("every host that reaches the port has full access")
        .fix("turn auth on, or bind-address = \"127.0.0.1:8086\" in [http]")
    }
}

/// InfluxDB does not encrypt data at rest: its directories should be closed to other users.
fn data_at_rest(s: &Settings) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (section, key, default) in [
        ("meta", "dir", "/var/lib/influxdb/meta"),
        ("data", "dir", "/var/lib/influxdb/data"),
        ("data", "wal-dir", "/var/lib/influxdb/wal"),
    ] {
        let dir = s.get(section, key).unwrap_or_else(|| default.to_owned());
        let Ok(meta) = std::fs::metadata(&dir) else {
            continue;
        };
        let mode = meta.mode() & 0o7777;
        findings.push(if mode & 0o007 != 0 {
            Finding::warn(
                "influxdb.data-dir",
                format!("{dir} is mode {}", crate::text::mode_string(mode)),
            )
            .why("InfluxDB has no built-in encryption at rest (guide): other users can read the data; close it and use disk encryption")
            .fix(format!("chmod o-rwx {dir}"))
        } else {
            Finding::pass(
                "influxdb.data-dir",
                format!(
                    "{dir} is mode {} (not encrypted at rest: use disk encryption)",
                    crate::text::mode_string(mode)
                ),
            )
        });
    }
    findings
}

/// Whether the RPC port answers on the URL's host: it should not from outside.
fn rpc_reachable(s: &Settings, url: &str) -> Finding {
    let port = s
        .get("", "bind-address")
        .and_then(|a| a.rsplit_once(':').and_then(|(_, p)| p.parse().ok()))
        .unwrap_or(8088u16);
    let Ok(target) = crate::verify::probe::Target::parse(url) else {
        return Finding::warn(
            "influxdb.rpc-reachable",
            "cannot tell: the URL does not parse",
        );
    };
    let Ok(addr) = target.addr(std::time::Duration::from_secs(2)) else {
        return Finding::warn(
            "influxdb.rpc-reachable",
            format!("cannot resolve {}", target.host),
        );
    };
    let rpc = std::net::SocketAddr::new(addr.ip(), port);
    let open =
        std::net::TcpStream::connect_timeout(&rpc, std::time::Duration::from_secs(1)).is_ok();
    match (open, addr.ip().is_loopback()) {
        (false, _) => Finding::pass(
            "influxdb.rpc-reachable",
            format!("nothing answers on {rpc}"),
        ),
        (true, true) => Finding::pass(
            "influxdb.rpc-reachable",
            format!("{rpc} answers (loopback: not reachable from other hosts)"),
        ),
        (true, false) => Finding::fail("influxdb.rpc-reachable", format!("{rpc} answers"))
            .why("the unauthenticated backup/restore port is reachable from other hosts")
            .fix("bind-address = \"127.0.0.1:8088\" at the top of the config, and a firewall"),
    }
}
