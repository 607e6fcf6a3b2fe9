//! `certtool verify`: the integrated server (`--cert/--key`), a probe of a running server
//! (`--url`), or a launched real server (`--launch`), each reported check by check.
//!
//! It must not run checks itself: `verify::*` does; it only chooses and reports them.

use std::fmt::Write as _;
use std::net::TcpListener;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::sleep;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow};
use rustls::pki_types::CertificateDer;
use serde::Serialize;
use time::OffsetDateTime;

use super::{PairPaths, service_pair};
use crate::cli::VerifyArgs;
use crate::error::{Error, ExitStatus};
use crate::inputs;
use crate::output::Output;
use crate::pki::names::San;
use crate::pki::parse::CertInfo;
use crate::secret::read_secret;
use crate::verify::launch::{self, Launch};
use crate::verify::probe::{Probe, ProbeKind, Target};
use crate::verify::{ChainEntry, Check, LocalPlan, describe_chain, hosts_from_sans, run_local};

/// Set by Ctrl-C (and SIGTERM) while a launched server runs, so it is stopped, not orphaned.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// What `verify` was asked to do, decided once from the flags (clap has already enforced
/// which combinations are allowed).
enum Mode {
    /// The pair, with the integrated server and client.
    Local(PairPaths),
    /// A running server.
    Url(String),
    /// Several running servers, probed concurrently.
    Fleet(Vec<String>),
    /// A real server launched with the pair.
    Launch(launch::Service, PairPaths),
}

impl Mode {
    fn of(args: &VerifyArgs) -> Result<Mode> {
        let pair = || -> Result<PairPaths> {
            PairPaths::of(args.cert.as_ref(), args.key.as_ref(), args.bundle.as_ref()).ok_or_else(
                || {
                    Error::invalid(
                        "give the pair with --cert and --key (or --bundle), or a server with --url",
                        "see certtool verify --help",
                    )
                    .into()
                },
            )
        };
        if args.targets.is_some() || args.urls.len() > 1 {
            return Ok(Mode::Fleet(fleet_urls(args)?));
        }
        if args.prometheus {
            return Err(Error::invalid(
                "--prometheus is for several targets",
                "give more than one --url, or --targets FILE",
            )
            .into());
        }
        Ok(match (args.urls.first(), args.launch) {
            (Some(url), _) => Mode::Url(url.clone()),
            (None, Some(service)) => Mode::Launch(service, pair()?),
            (None, None) => Mode::Local(pair()?),
        })
    }

    fn name(&self) -> &'static str {
        match self {
            Mode::Local(_) => "local",
            Mode::Url(_) => "url",
            Mode::Fleet(_) => "fleet",
            Mode::Launch(..) => "launch",
        }
    }
}

/// Run `certtool verify`.
pub fn run(args: &VerifyArgs, out: &mut Output) -> Result<ExitStatus> {
    let now = OffsetDateTime::now_utc();
    let mode = Mode::of(args)?;
    let mut server: Option<crate::verify::local::Server> = None;
    if let Mode::Local(pair) | Mode::Launch(_, pair) = &mode {
        super::repair_before_reading(out, &pair.cert)?;
        super::repair_before_reading(out, &pair.key)?;
    }
    let (checks, chain) = match &mode {
        Mode::Fleet(urls) => return fleet(args, urls, now, out),
        Mode::Url(url) => {
            let mut target = Target::parse(url)?;
            target.connect = connect_override(args, &target)?;
            let mut probe = probe_for(args, target, read_ca(args.ca.as_deref())?, out)?;
            let Some(user) = &args.basic_auth_user else {
                let outcome = probe.run(now)?;
                return finish(
                    args,
                    out,
                    mode.name(),
                    &outcome.checks,
                    &outcome.chain,
                    None,
                );
            };
            // Without credentials the service check would see 401: TLS first, then both sides.
            let path = if args.kind == ProbeKind::Tls {
                "/metrics"
            } else {
                "/-/healthy"
            };
            probe.kind = ProbeKind::Tls;
            let outcome = probe.run(now)?;
            let mut checks = outcome.checks;
            if checks.iter().all(|c| c.ok) {
                let password = read_secret(&args.secret.source(), out)?;
                checks.extend(basic_auth_checks(&probe, path, user, &password));
            }
            (checks, outcome.chain)
        }
        Mode::Launch(service, pair) => launched(args, *service, pair, now, out)?,
        Mode::Local(pair) => {
            let (checks, chain, running) = integrated(args, pair, now)?;
            server = running;
            (checks, chain)
        }
    };
    finish(args, out, mode.name(), &checks, &chain, server.as_ref())
}

/// Report the checks, keep serving if asked, and give the exit status.
fn finish(
    args: &VerifyArgs,
    out: &mut Output,
    mode: &'static str,
    checks: &[Check],
    chain: &[ChainEntry],
    server: Option<&crate::verify::local::Server>,
) -> Result<ExitStatus> {
    let ok = checks.iter().all(|c| c.ok);
    report(out, mode, checks, chain)?;
    if let (Some(server), Some(duration)) = (server, args.serve_for) {
        out.note(&format!(
            "serving on {} for {} (Ctrl-C stops)",
            server.addr,
            crate::duration::describe(crate::duration::whole_seconds(duration))
        ))?;
        serve_until(duration);
    }
    Ok(ExitStatus::from_ok(ok))
}

/// Where `--resolve` or `--connect-to` sends the connection for `target`, if anywhere. One that
/// does not match the URL's host and port is an error (curl would ignore it without a word).
fn connect_override(args: &VerifyArgs, target: &Target) -> Result<Option<std::net::SocketAddr>> {
    use std::net::ToSocketAddrs as _;
    let bad = |flag: &str, value: &str, hint: &str| -> anyhow::Error {
        Error::invalid(
            format!("{flag} '{}': {hint}", crate::text::sanitize(value)),
            format!(
                "write it as curl does, e.g. {flag} {}",
                example(flag, target)
            ),
        )
        .into()
    };
    let matches = |host: &str, port: &str| {
        (host.is_empty() || unbracket(host).eq_ignore_ascii_case(&target.host))
            && (port.is_empty() || port.parse() == Ok(target.port))
    };
    if let Some(value) = &args.resolve {
        let mut parts = value.splitn(3, ':');
        let (host, port, addr) = (
            parts.next().unwrap_or(""),
            parts.next().unwrap_or(""),
            parts.next().unwrap_or(""),
        );
        let ip: std::net::IpAddr = unbracket(addr)
            .parse()
            .map_err(|_| bad("--resolve", value, "ADDR is not an IP address"))?;
        if host.is_empty() || port.is_empty() || !matches(host, port) {
            return Err(bad(
                "--resolve",
                value,
                "HOST:PORT is not the --url's host and port",
            ));
        }
        return Ok(Some(std::net::SocketAddr::new(ip, target.port)));
    }
    if let Some(value) = &args.connect_to {
        let (from, to) = split_host_port_pair(value)
            .ok_or_else(|| bad("--connect-to", value, "it needs HOST1:PORT1:HOST2:PORT2"))?;
        if !matches(from.0, from.1) {
            return Err(bad(
                "--connect-to",
                value,
                "HOST1:PORT1 is not the --url's host and port",
            ));
        }
        let port: u16 = if to.1.is_empty() {
            target.port
        } else {
            to.1.parse()
                .map_err(|_| bad("--connect-to", value, "PORT2 is not a port"))?
        };
        let host = if to.0.is_empty() {
            target.host.as_str()
        } else {
            unbracket(to.0)
        };
        let addr = (host, port)
            .to_socket_addrs()
            .with_context(|| format!("cannot resolve {host}"))?
            .next()
            .with_context(|| format!("{host} has no address"))?;
        return Ok(Some(addr));
    }
    Ok(None)
}

fn unbracket(host: &str) -> &str {
    host.strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host)
}

fn example(flag: &str, target: &Target) -> String {
    if flag == "--resolve" {
        format!("{}:{}:127.0.0.1", target.host, target.port)
    } else {
        format!("{}:{}:127.0.0.1:{}", target.host, target.port, target.port)
    }
}

/// A host and a port as written (either may be empty).
type HostPort<'a> = (&'a str, &'a str);

/// `HOST1:PORT1:HOST2:PORT2`, where the hosts may be `[IPv6]` and any part may be empty.
fn split_host_port_pair(value: &str) -> Option<(HostPort<'_>, HostPort<'_>)> {
    /// A host (`[...]` or up to the next colon) and what follows its colon.
    fn host(s: &str) -> Option<(&str, &str)> {
        if s.starts_with('[') {
            let end = s.find(']')? + 1;
            Some((&s[..end], s[end..].strip_prefix(':')?))
        } else {
            s.split_once(':')
        }
    }
    let (h1, rest) = host(value)?;
    let (p1, rest) = rest.split_once(':')?;
    let (h2, p2) = host(rest)?;
    Some(((h1, p1), (h2, p2)))
}

/// The URLs of `--url` (repeated) and `--targets FILE`.
fn fleet_urls(args: &VerifyArgs) -> Result<Vec<String>> {
    let mut urls = args.urls.clone();
    if let Some(file) = &args.targets {
        let bytes = crate::files::read_input(file)?;
        let text = std::str::from_utf8(&bytes).map_err(|_| {
            Error::invalid(
                format!("'{}' is not text", file.display()),
                "one URL per line",
            )
        })?;
        urls.extend(
            text.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .map(str::to_owned),
        );
    }
    if urls.is_empty() {
        return Err(Error::invalid(
            "no targets to probe",
            "give --url URL, or URLs in --targets FILE",
        )
        .into());
    }
    // Every URL is checked before any connection is made: one bad line is an input error.
    for url in &urls {
        Target::parse(url)?;
    }
    Ok(urls)
}

/// How many targets are probed at once: enough to hide each one's round trips, few enough not
/// to look like an attack on a shared network.
const FLEET_WORKERS: usize = 32;

/// Probe every URL, `FLEET_WORKERS` at a time, each bounded by `--timeout`.
fn fleet(
    args: &VerifyArgs,
    urls: &[String],
    now: OffsetDateTime,
    out: &mut Output,
) -> Result<ExitStatus> {
    let ca = read_ca(args.ca.as_deref())?;
    let auth = match &args.user {
        Some(user) => Some((user.clone(), read_secret(&args.secret.source(), out)?)),
        None => None,
    };
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: std::sync::Mutex<Vec<Option<FleetTarget>>> =
        std::sync::Mutex::new((0..urls.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..FLEET_WORKERS.min(urls.len()) {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(url) = urls.get(i) else { break };
                    let result = probe_one(args, url, ca.clone(), auth.clone(), now);
                    if let Ok(mut all) = results.lock() {
                        all[i] = Some(result);
                    }
                }
            });
        }
    });
    let targets: Vec<FleetTarget> = results
        .into_inner()
        .map_err(|_| anyhow!("a probe thread panicked"))?
        .into_iter()
        .flatten()
        .collect();
    let ok = targets.iter().all(|t| t.ok);
    if args.prometheus {
        out.refuse_json("Prometheus metrics are text", "drop --json or --prometheus")?;
        out.data(&fleet_metrics(&targets, now))?;
    } else {
        out.report(&FleetReport { targets: &targets })?;
    }
    Ok(ExitStatus::from_ok(ok))
}

fn probe_one(
    args: &VerifyArgs,
    url: &str,
    ca: Option<Vec<CertificateDer<'static>>>,
    auth: Option<(String, zeroize::Zeroizing<Vec<u8>>)>,
    now: OffsetDateTime,
) -> FleetTarget {
    let started = Instant::now();
    let outcome = Target::parse(url)
        .map_err(anyhow::Error::from)
        .and_then(|target| {
            Probe {
                target,
                ca,
                insecure: args.insecure,
                kind: args.kind,
                auth,
                require_auth: args.require_auth,
                timeout: args.timeout,
            }
            .run(now)
        });
    let seconds = started.elapsed().as_secs_f64();
    match outcome {
        Ok(outcome) => FleetTarget {
            url: url.to_owned(),
            ok: outcome.checks.iter().all(|c| c.ok),
            checks: outcome.checks,
            chain: outcome.chain,
            seconds,
        },
        Err(e) => FleetTarget {
            url: url.to_owned(),
            ok: false,
            checks: vec![Check::new("tls", false, format!("{e:#}"))],
            chain: Vec::new(),
            seconds,
        },
    }
}

/// One target of a fleet probe.
#[derive(Serialize)]
struct FleetTarget {
    url: String,
    ok: bool,
    checks: Vec<Check>,
    chain: Vec<ChainEntry>,
    #[serde(skip)]
    seconds: f64,
}

impl FleetTarget {
    /// The earliest notAfter of the served chain, as Unix seconds.
    fn earliest_expiry(&self) -> Option<i64> {
        self.chain
            .iter()
            .filter_map(|c| crate::pki::validity::parse_time(&c.not_after).ok())
            .map(OffsetDateTime::unix_timestamp)
            .min()
    }
}

#[derive(Serialize)]
struct FleetReport<'a> {
    targets: &'a [FleetTarget],
}

impl crate::output::Report for FleetReport<'_> {
    fn ok(&self) -> bool {
        self.targets.iter().all(|t| t.ok)
    }

    fn text(&self) -> crate::output::Text {
        let mut text = String::new();
        for t in self.targets {
            let status = if t.ok { "ok  " } else { "FAIL" };
            let detail = if let Some(c) = t.checks.iter().find(|c| !c.ok) {
                format!("{}: {}", c.check, c.detail)
            } else {
                let names: Vec<&str> = t.checks.iter().map(|c| c.check).collect();
                let expiry = t
                    .chain
                    .first()
                    .map(|c| format!("; expires {} ({} days)", c.not_after, c.days_left));
                format!("{}{}", names.join(", "), expiry.unwrap_or_default())
            };
            let _ = writeln!(
                text,
                "{status}  {}  {detail}",
                crate::text::sanitize(&t.url)
            );
        }
        let failed = self.targets.iter().filter(|t| !t.ok).count();
        let _ = writeln!(
            text,
            "verify: {} of {} targets passed",
            self.targets.len() - failed,
            self.targets.len()
        );
        crate::output::Text::listing(text)
    }
}

/// Per target: whether the probe passed and when the earliest served certificate expires (as
/// `blackbox_exporter`'s `probe_success` and `probe_ssl_earliest_cert_expiry`).
fn fleet_metrics(targets: &[FleetTarget], now: OffsetDateTime) -> String {
    let label = |url: &str| url.replace('\\', "\\\\").replace('"', "\\\"");
    let mut text = String::from(
        "# HELP certtool_probe_success Whether every check of the target passed.\n\
         # TYPE certtool_probe_success gauge\n",
    );
    for t in targets {
        let _ = writeln!(
            text,
            "certtool_probe_success{{url=\"{}\"}} {}",
            label(&t.url),
            u8::from(t.ok)
        );
    }
    text.push_str(
        "# HELP certtool_probe_ssl_earliest_cert_expiry Earliest notAfter of the served chain, Unix seconds.\n\
         # TYPE certtool_probe_ssl_earliest_cert_expiry gauge\n",
    );
    for t in targets {
        if let Some(expiry) = t.earliest_expiry() {
            let _ = writeln!(
                text,
                "certtool_probe_ssl_earliest_cert_expiry{{url=\"{}\"}} {expiry}",
                label(&t.url)
            );
        }
    }
    text.push_str(
        "# HELP certtool_probe_duration_seconds How long the target's probe took.\n\
         # TYPE certtool_probe_duration_seconds gauge\n",
    );
    for t in targets {
        let _ = writeln!(
            text,
            "certtool_probe_duration_seconds{{url=\"{}\"}} {:.6}",
            label(&t.url),
            t.seconds
        );
    }
    let _ = writeln!(
        text,
        "# HELP certtool_probe_timestamp_seconds When the probes ran.\n# TYPE certtool_probe_timestamp_seconds gauge\ncerttool_probe_timestamp_seconds {}",
        now.unix_timestamp()
    );
    text
}

/// HTTP basic auth on `path`: 200 with the user's password, 401 without credentials.
fn basic_auth_checks(probe: &Probe, path: &str, user: &str, password: &[u8]) -> Vec<Check> {
    let with = match probe.status_of(path, Some((user, password))) {
        Ok(200) => Check::new("basic auth", true, format!("GET {path} as {user}: 200")),
        Ok(status) => Check::new(
            "basic auth",
            false,
            format!("GET {path} as {user}: {status}, not 200 (wrong password, or no such user)"),
        ),
        Err(e) => Check::new("basic auth", false, format!("{e:#}")),
    };
    let without = match probe.status_of(path, None) {
        Ok(401) => Check::new(
            "auth",
            true,
            format!("auth enforced: GET {path} without credentials: 401"),
        ),
        Ok(200) => Check::new(
            "auth",
            false,
            format!("auth not enforced: GET {path} without credentials: 200"),
        ),
        Ok(status) => Check::new(
            "auth",
            false,
            format!("GET {path} without credentials: {status}"),
        ),
        Err(e) => Check::new("auth", false, format!("{e:#}")),
    };
    vec![with, without]
}

fn read_ca(path: Option<&Path>) -> Result<Option<Vec<CertificateDer<'static>>>> {
    path.map(|p| inputs::load_chain(p, "CA certificate"))
        .transpose()
}

fn integrated(
    args: &VerifyArgs,
    pair: &PairPaths,
    now: OffsetDateTime,
) -> Result<(
    Vec<Check>,
    Vec<ChainEntry>,
    Option<crate::verify::local::Server>,
)> {
    let (cert, key) = (pair.cert.as_path(), pair.key.as_path());
    let timeout = args.timeout;
    let chain = inputs::load_chain(cert, "certificate")?;
    let key_path = key;
    let key = inputs::load_key(key_path, "give the certificate's private key with --key")?;
    let key = crate::verify::local::rustls_signing_key(key.rustls_der())
        .with_context(|| format!("cannot use the key '{}'", key_path.display()))?;
    let infos = chain
        .iter()
        .map(|c| CertInfo::from_der(c.as_ref(), now))
        .collect::<Result<Vec<_>>>()
        .with_context(|| format!("cannot read '{}'", cert.display()))?;
    let described: Vec<ChainEntry> = infos.iter().map(ChainEntry::from).collect();
    let leaf = infos.into_iter().next().context("no certificate")?;
    let hosts = if args.hosts.is_empty() {
        hosts_from_sans(&leaf.sans)
    } else {
        args.hosts.clone()
    };
    let plan = LocalPlan {
        pair: crate::verify::local::ServedPair { chain, key },
        leaf,
        ca: read_ca(args.ca.as_deref())?,
        hosts,
        timeout,
    };
    let port = args.port.unwrap_or(0);
    let listener = TcpListener::bind(("127.0.0.1", port))
        .with_context(|| format!("cannot listen on 127.0.0.1:{port}"))?;
    let outcome = run_local(&plan, listener, now, args.serve_for.is_some())?;
    // Report the chain the server actually presented; the file's when no handshake got that far
    // (or when it is the file's: no need to parse it again).
    let chain = if outcome.served.is_empty() || outcome.served == plan.pair.chain {
        described
    } else {
        describe_chain(&outcome.served, now)
    };
    Ok((outcome.checks, chain, outcome.server))
}

fn serve_until(duration: Duration) {
    let _ = ctrlc::set_handler(|| INTERRUPTED.store(true, Ordering::SeqCst));
    let deadline = Instant::now() + duration;
    while Instant::now() < deadline && !INTERRUPTED.load(Ordering::SeqCst) {
        sleep(Duration::from_millis(50));
    }
}

/// The probe for `--url` (or for a launched server).
fn probe_for(
    args: &VerifyArgs,
    target: Target,
    ca: Option<Vec<CertificateDer<'static>>>,
    out: &mut Output,
) -> Result<Probe> {
    if args.user.is_some() && matches!(args.kind, ProbeKind::Prometheus | ProbeKind::Tls) {
        return Err(Error::invalid(
            "--user checks InfluxDB's token authentication, which --kind prometheus or tls does not probe",
            "drop --user (and the secret), or probe InfluxDB",
        )
        .into());
    }
    let auth = match &args.user {
        Some(user) => Some((user.clone(), read_secret(&args.secret.source(), out)?)),
        None => None,
    };
    Ok(Probe {
        target,
        ca,
        insecure: args.insecure,
        kind: args.kind,
        auth,
        require_auth: args.require_auth,
        timeout: args.timeout,
    })
}

fn launched(
    args: &VerifyArgs,
    service: launch::Service,
    pair_args: &PairPaths,
    now: OffsetDateTime,
    out: &mut Output,
) -> Result<(Vec<Check>, Vec<ChainEntry>)> {
    let pair = service_pair(pair_args, out)?;
    // The launched server runs as this user; the real one as its package's account.
    let package_user = match service {
        launch::Service::Influxdb => "influxdb",
        launch::Service::Prometheus => "prometheus",
    };
    let account = super::service_account(args.service_user.as_deref(), package_user)?;
    super::warn_unless_service_can_read(out, pair_args, account.as_ref())?;
    let ca = launch_trust(args, pair_args, &pair)?;
    // Ctrl-C and SIGTERM stop the launched server instead of orphaning it.
    let _ = ctrlc::set_handler(|| INTERRUPTED.store(true, Ordering::SeqCst));
    let launch = launch_spec(args, service, &pair)?;
    let running = match launch::start(&launch, &INTERRUPTED) {
        Ok(running) => running,
        Err(e) if INTERRUPTED.load(Ordering::SeqCst) => return Err(e),
        Err(e) => {
            return Ok((
                vec![Check::new("launch", false, format!("{e:#}"))],
                Vec::new(),
            ));
        }
    };
    let host = args
        .hosts
        .first()
        .cloned()
        .unwrap_or_else(|| loopback_name(&pair.info.sans));
    let target = Target {
        host,
        port: running.addr.port(),
        connect: Some(running.addr),
    };
    let mut probe = probe_for(args, target, ca, out)?;
    if probe.kind == ProbeKind::Auto {
        probe.kind = service.probe_kind();
    }
    let outcome = probe.run(now)?;
    let mut checks = vec![Check::new(
        "launch",
        true,
        format!(
            "{service:?} started on {} (pid {})",
            running.addr, running.pid
        )
        .to_lowercase(),
    )];
    checks.extend(outcome.checks);
    drop(running);
    if INTERRUPTED.load(Ordering::SeqCst) {
        return Err(anyhow!("interrupted; the server was stopped"));
    }
    Ok((checks, outcome.chain))
}

/// What to launch, from the flags and the checked pair.
fn launch_spec<'a>(
    args: &'a VerifyArgs,
    service: launch::Service,
    pair: &'a super::ServicePair,
) -> Result<Launch<'a>> {
    Ok(Launch {
        service,
        bin: launch::find_binary(service, args.server_bin.as_deref())?,
        cert: &pair.cert,
        key: &pair.key,
        config: args.config.as_deref(),
        template_dir: args.templates.template_dir.as_deref(),
        start_timeout: args.start_timeout,
        secret_env: args.secret.secret_env.as_deref(),
    })
}

/// What the probe of a launched server trusts: `--ca`, or the certificate itself when it is
/// self-signed.
fn launch_trust(
    args: &VerifyArgs,
    pair_args: &PairPaths,
    pair: &super::ServicePair,
) -> Result<Option<Vec<CertificateDer<'static>>>> {
    match args.ca.as_deref() {
        Some(path) => read_ca(Some(path)),
        None if pair.info.self_signed => Ok(Some(
            inputs::load_chain(&pair_args.cert, "certificate")?[..1].to_vec(),
        )),
        None => Err(Error::invalid(
            format!(
                "'{}' is issued by '{}'",
                pair_args.cert.display(),
                pair.info.issuer
            ),
            "pass that CA with --ca",
        )
        .into()),
    }
}

/// The name to verify over loopback: localhost or a loopback IP when the certificate has one,
/// else its first name (the connection still goes to 127.0.0.1).
fn loopback_name(sans: &[San]) -> String {
    let names = hosts_from_sans(sans);
    ["localhost", "127.0.0.1", "::1"]
        .iter()
        .find(|n| names.iter().any(|h| h == *n))
        .map(|n| (*n).to_owned())
        .or_else(|| names.into_iter().next())
        .unwrap_or_else(|| "localhost".to_owned())
}

#[derive(Serialize)]
struct Report<'a> {
    mode: &'a str,
    checks: &'a [Check],
    chain: &'a [ChainEntry],
}

fn report(out: &mut Output, mode: &str, checks: &[Check], chain: &[ChainEntry]) -> Result<()> {
    out.report(&Report {
        mode,
        checks,
        chain,
    })?;
    Ok(())
}

impl crate::output::Report for Report<'_> {
    fn ok(&self) -> bool {
        self.checks.iter().all(|c| c.ok)
    }

    fn text(&self) -> crate::output::Text {
        let mut text = String::new();
        for c in self.checks {
            let status = c.status_word();
            let host = c
                .host
                .as_deref()
                .map(|h| format!("{h}: "))
                .unwrap_or_default();
            let tls = match (&c.protocol, &c.cipher_suite, c.handshake_ms) {
                (Some(p), Some(s), Some(ms)) => format!("{p} {s} in {ms:.2} ms; "),
                (Some(p), _, _) => format!("{p}: "),
                _ => String::new(),
            };
            let _ = writeln!(text, "{status}  {:<9}  {host}{tls}{}", c.check, c.detail);
        }
        if !self.chain.is_empty() {
            text.push_str("served chain:\n");
            for (i, c) in self.chain.iter().enumerate() {
                let _ = writeln!(
                    text,
                    "  {}. {} [{}], issued by {}, expires {} ({} days)",
                    i + 1,
                    c.subject,
                    crate::pki::names::sans_line(&c.sans),
                    c.issuer,
                    c.not_after,
                    c.days_left
                );
            }
        }
        let failed = self.checks.iter().filter(|c| !c.ok).count();
        if failed == 0 {
            let _ = writeln!(text, "verify: all {} checks passed", self.checks.len());
        } else {
            let _ = writeln!(
                text,
                "verify: {failed} of {} checks FAILED",
                self.checks.len()
            );
        }
        crate::output::Text::listing(text)
    }
}
