//! `certtool provision influxdb`: CA, pair, config, secret, reload, admin user, verify.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, Result, anyhow};
use time::OffsetDateTime;
use zeroize::Zeroizing;

use super::{CheckFailed, Done, Run, Status, pair};
use crate::cli::ProvisionInfluxdbArgs;
use crate::commands::absolute;
use crate::commands::config::influxdb::{EnvStatus, V1Options, apply_v1, secret_text_from};
use crate::error::{Error, ExitStatus};
use crate::files;
use crate::inputs;
use crate::output::Output;
use crate::secret::{INFLUXDB_SECRET_ENV, SecretSource};
use crate::verify::probe::{NO_ADMIN_YET, Probe, ProbeKind, Target};

/// Run `certtool provision influxdb`.
pub fn run(args: &ProvisionInfluxdbArgs, out: &mut Output) -> Result<ExitStatus> {
    let now = OffsetDateTime::now_utc();
    let mut run = Run::new(args.pair.dry_run);
    let Some(plan) = run.step("plan", |_| plan(args, now)) else {
        return run.finish(out);
    };
    let ca = match &plan.pair.ca_dir {
        Some(dir) => run.step("ca", |run| pair::local_ca(dir, &plan.pair, now, run)),
        None => Some(None),
    };
    let Some(ca) = ca else {
        return run.finish(out);
    };
    let mut server_reads_changed = false;
    if let Some(changed) = run.step("certificate", |run| {
        pair::certificate(&plan.pair, ca.as_ref(), now, run)
    }) {
        server_reads_changed |= changed;
    }
    let mut expected = Expected::default();
    if let Some(changed) = run.step("config", |run| config(args, &plan, out, run, &mut expected)) {
        server_reads_changed |= changed;
    }
    if let Some(conf) = &args.telegraf_conf {
        run.step("telegraf", |run| telegraf(args, &plan, conf, run));
    }
    if args.pair.renew_timer {
        run.step("renew timer", |run| {
            pair::renew_timer(
                &plan.pair,
                args.reload.as_deref(),
                &args.pair.systemd_dir,
                run,
            )
        });
    }
    run.step("reload", |run| {
        pair::reload(
            args.reload.as_deref(),
            "influxd",
            server_reads_changed,
            run.dry_run,
        )
    });
    let target = run.step("target", |_| target(args, &plan)).flatten();
    if let Some(user) = &args.admin_user {
        run.step("admin user", |run| {
            admin_user(args, &plan, user, target.as_ref(), out, run.dry_run)
        });
    }
    if args.verify {
        run.step("verify", |run| {
            verify(args, &plan, target.as_ref(), out, now, run.dry_run)
        });
    }
    if run.dry_run && !run.stopped() {
        run.audit = Some(dry_run_audit(args, &plan, &expected, &run.files)?);
    }
    run.finish(out)
}

/// What a dry run's config step would leave, for the expected audit.
#[derive(Default)]
struct Expected {
    config: Option<Zeroizing<String>>,
    secret: Option<Zeroizing<String>>,
}

/// `certtool audit influxdb` of the server now, and as this run would leave it.
fn dry_run_audit(
    args: &ProvisionInfluxdbArgs,
    plan: &Plan,
    expected: &Expected,
    planned_files: &[files::Written],
) -> Result<super::AuditView> {
    use crate::commands::audit::{Planned, influxdb};
    let (hosts, user) = (plan.pair.names(), plan.pair.owner_user());
    let env_now = plan.env_path.exists().then_some(plan.env_path.as_path());
    let before = influxdb::current(&args.config, env_now, &hosts, user.as_deref())?;
    let config = match &expected.config {
        Some(text) => text.clone(),
        None => {
            Zeroizing::new(String::from_utf8_lossy(&files::read_input(&args.config)?).into_owned())
        }
    };
    let env = expected.secret.as_ref().map(|secret| {
        (
            plan.env_path.as_path(),
            vec![(INFLUXDB_SECRET_ENV.to_owned(), secret.clone())],
        )
    });
    let planned = Planned {
        files: planned_files,
        hosts: hosts.clone(),
        days: plan.pair.spec_days,
    };
    let after = influxdb::expected(
        &args.config,
        &config,
        env,
        &hosts,
        user.as_deref(),
        &planned,
    )?;
    Ok(super::AuditView { before, after })
}

/// Everything decided before anything is done.
struct Plan {
    pair: pair::Plan,
    env_path: PathBuf,
}

fn plan(args: &ProvisionInfluxdbArgs, now: OffsetDateTime) -> Result<(Done, Plan)> {
    if !args.config.is_file() {
        return Err(Error::invalid(
            format!("'{}' is not a file", args.config.display()),
            "give the influxdb.conf the server reads (Debian: /etc/influxdb/influxdb.conf)",
        )
        .into());
    }
    let pair = pair::Plan::new(&args.pair, &args.name, now)?;
    let env_path = args
        .env_file
        .clone()
        .unwrap_or_else(|| files::parent_dir(&args.config).join("influxdb.env"));
    let detail = format!("InfluxDB 1.x for {}", pair.host_names());
    Ok(((Status::Unchanged, detail), Plan { pair, env_path }))
}

/// The shared secret: from the source given, else the one the env file already holds (so a
/// second run changes nothing), else a new one.
fn shared_secret(
    args: &ProvisionInfluxdbArgs,
    plan: &Plan,
    out: &mut Output,
) -> Result<(Zeroizing<String>, &'static str)> {
    let source = args.secret.source();
    if source.is_given() {
        return Ok((secret_text_from(&source, out)?, "from the source given"));
    }
    if plan.env_path.exists() {
        let existing = SecretSource {
            file: Some(plan.env_path.clone()),
            ..SecretSource::default()
        };
        return Ok((secret_text_from(&existing, out)?, "kept"));
    }
    Ok((
        crate::secret::generate(32, crate::secret::Encoding::Base64url)?,
        "generated",
    ))
}

/// The `[http]` section (and with `--auth` the env file). Returns whether influxd's files changed.
fn config(
    args: &ProvisionInfluxdbArgs,
    plan: &Plan,
    out: &mut Output,
    run: &mut Run,
    expected: &mut Expected,
) -> Result<(Done, bool)> {
    let cert = absolute(&plan.pair.paths.cert)?;
    let key = absolute(&plan.pair.paths.key)?;
    let template = crate::config::template::Template::InfluxdbHttp.load(None)?;
    let snippet = crate::config::influxdb::v1_snippet(&template, &cert, &key, args.auth, None)?;
    let secret = if args.auth {
        Some(shared_secret(args, plan, out)?)
    } else {
        None
    };
    let options = V1Options {
        secret_in_config: false,
        force: false,
        dry_run: args.pair.dry_run,
    };
    let (edited, env) = apply_v1(
        &args.config,
        &snippet,
        secret.as_ref().map(|(s, _)| s.as_str()),
        &plan.env_path,
        options,
    )?;
    run.files.extend(edited.files);
    run.add_diff(edited.diff);
    expected.config = edited.new_text;
    expected.secret = secret.as_ref().map(|(s, _)| s.clone());
    let env_changed = env
        .as_ref()
        .is_some_and(|e| matches!(e.status, EnvStatus::Written | EnvStatus::WouldWrite));
    let mut detail = if edited.changed {
        format!(
            "{}: [http] https-*{}",
            args.config.display(),
            if args.auth { ", auth-enabled" } else { "" }
        )
    } else {
        format!("{}: already as asked", args.config.display())
    };
    if let (Some(env), Some((_, how))) = (&env, &secret) {
        let _ = write!(
            detail,
            "; {} {INFLUXDB_SECRET_ENV} ({how}{})",
            env.path.display(),
            if env_changed { "" } else { ", unchanged" }
        );
    }
    let changed = edited.changed || env_changed;
    let status = Status::of_change(changed);
    Ok(((status, detail), changed))
}

/// Telegraf's `[[outputs.influxdb]]`, as `config telegraf --in-place` edits it: the server's
/// URL over HTTPS, trusting what clients are told to trust.
fn telegraf(
    args: &ProvisionInfluxdbArgs,
    plan: &Plan,
    conf: &Path,
    run: &mut Run,
) -> Result<(Done, ())> {
    let url = if let Some(url) = &args.telegraf_url {
        url.clone()
    } else {
        let (_, port) = bind_address(&args.config)?;
        let host = plan
            .pair
            .hosts
            .iter()
            .map(ToString::to_string)
            .find(|h| !h.starts_with('*'));
        format!(
            "https://{}:{port}",
            host.unwrap_or_else(|| "localhost".to_owned())
        )
    };
    let output = crate::config::telegraf::InfluxOutput {
        url: url.clone(),
        ca: Some(absolute(&plan.pair.trust)?),
        insecure: false,
        server_name: None,
        database: None,
        v2: None,
        username: args.telegraf_user.clone(),
        append: false,
    };
    let template = output.template().load(None)?;
    let snippet = output.snippet(&template)?;
    let edit = crate::cli::EditArgs::in_place(conf, args.pair.dry_run);
    let edited = crate::commands::config::edit_in_place(conf, &edit, 0o777, None, |doc| {
        output.apply(doc, &snippet).map(|_| ())
    })?;
    run.files.extend(edited.files);
    run.add_diff(edited.diff);
    let status = Status::of_change(edited.changed);
    Ok((
        (
            status,
            format!("{}: [[outputs.influxdb]] {url}", conf.display()),
        ),
        (),
    ))
}

/// Where influxd answers: `--url`, else the first host and the config's HTTP port, on loopback.
fn target(args: &ProvisionInfluxdbArgs, plan: &Plan) -> Result<(Done, Option<Target>)> {
    if args.admin_user.is_none() && !args.verify {
        return Ok((
            (Status::Skipped, "no --admin-user or --verify".to_owned()),
            None,
        ));
    }
    let target = if let Some(url) = &args.url {
        Target::parse(url)?
    } else {
        let (ip, port) = bind_address(&args.config)?;
        // The name to verify: the first host, unless it is a wildcard.
        let host = plan
            .pair
            .hosts
            .iter()
            .map(ToString::to_string)
            .find(|h| !h.starts_with('*'))
            .unwrap_or_else(|| "localhost".to_owned());
        Target {
            host,
            port,
            connect: Some(std::net::SocketAddr::new(ip, port)),
        }
    };
    let detail = format!("https://{}:{}", target.host, target.port);
    Ok(((Status::Unchanged, detail), Some(target)))
}

/// `[http] bind-address` of the config: the address to connect to (loopback for an unspecified
/// one) and the port (8086 when unset).
fn bind_address(config: &Path) -> Result<(std::net::IpAddr, u16)> {
    let text = std::fs::read_to_string(config)
        .with_context(|| format!("cannot read '{}'", config.display()))?;
    let doc: toml_edit::DocumentMut = text
        .parse()
        .map_err(|e| anyhow!("cannot parse '{}': {e}", config.display()))?;
    let bind = doc
        .get("http")
        .and_then(|h| h.get("bind-address"))
        .and_then(|v| v.as_str())
        .unwrap_or(":8086");
    let (host, port) = bind.rsplit_once(':').unwrap_or(("", bind));
    let port: u16 = port.parse().map_err(|_| {
        anyhow!(
            "[http] bind-address '{}' has no port",
            crate::text::sanitize(bind)
        )
    })?;
    let ip = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<std::net::IpAddr>()
        .ok()
        .filter(|ip| !ip.is_unspecified())
        .unwrap_or(std::net::IpAddr::from([127, 0, 0, 1]));
    Ok((ip, port))
}

/// A probe of the provisioned server, trusting what clients are told to trust.
fn probe(
    plan: &Plan,
    target: &Target,
    auth: Option<(String, Zeroizing<Vec<u8>>)>,
    require_auth: bool,
) -> Result<Probe> {
    let ca = inputs::load_chain(&plan.pair.trust, "certificate")?;
    let ca = if plan.pair.ca_dir.is_some() {
        ca
    } else {
        ca[..1].to_vec()
    };
    Ok(Probe {
        target: target.clone(),
        ca: Some(ca),
        insecure: false,
        kind: ProbeKind::Influxdb,
        auth,
        require_auth,
        timeout: Duration::from_secs(5),
    })
}

fn secret_bytes(
    args: &ProvisionInfluxdbArgs,
    plan: &Plan,
    out: &mut Output,
) -> Result<Zeroizing<Vec<u8>>> {
    let (secret, _) = shared_secret(args, plan, out)?;
    Ok(Zeroizing::new(secret.as_bytes().to_vec()))
}

/// The first admin user: created when influxd has none; an existing one is checked.
fn admin_user(
    args: &ProvisionInfluxdbArgs,
    plan: &Plan,
    user: &str,
    target: Option<&Target>,
    out: &mut Output,
    dry_run: bool,
) -> Result<(Done, ())> {
    if dry_run {
        return Ok((
            (
                Status::Skipped,
                format!("dry run: {user} is created if influxd has no users"),
            ),
            (),
        ));
    }
    let target = target.context("no server to talk to")?;
    pair::wait_for(target)?;
    let secret = secret_bytes(args, plan, out)?;
    let probe = probe(plan, target, None, true)?;
    let exp = OffsetDateTime::now_utc().unix_timestamp() + 300;
    let token = crate::jwt::Signer::new(crate::jwt::Alg::Hs256, &secret).mint(
        user,
        exp,
        &serde_json::Map::new(),
    );
    let (status, body) = probe.influx_query("SHOW USERS", Some(&token))?;
    if status == 200 {
        let listed = serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| {
                v["results"][0]["series"][0]["values"]
                    .as_array()
                    .map(|rows| {
                        rows.iter()
                            .any(|r| r[0].as_str() == Some(user) && r[1].as_bool() == Some(true))
                    })
            });
        return match listed {
            Some(true) => Ok((
                (Status::Unchanged, format!("{user} exists and is an admin")),
                (),
            )),
            _ => Err(CheckFailed(format!("{user} exists but is not an admin (SHOW USERS)")).into()),
        };
    }
    if !(status == 403 && body.contains(NO_ADMIN_YET)) && status != 401 {
        return Err(anyhow!("SHOW USERS with a token for {user}: HTTP {status}"));
    }
    if status == 401 {
        return Err(CheckFailed(format!(
            "influxd refused a token for {user} (401): the user does not exist while others do, or influxd runs with another shared secret"
        ))
        .into());
    }
    let password_file = args
        .admin_password_file
        .clone()
        .context("--admin-password-file")?;
    let password = secret_text_from(
        &SecretSource {
            file: Some(password_file),
            ..SecretSource::default()
        },
        out,
    )?;
    if password.contains('\'') || user.contains('"') {
        return Err(Error::invalid(
            "the admin user name or password holds a quote",
            "use a password without ' (certtool secret generate makes one)",
        )
        .into());
    }
    let statement = Zeroizing::new(format!(
        "CREATE USER \"{user}\" WITH PASSWORD '{}' WITH ALL PRIVILEGES",
        password.as_str()
    ));
    let (status, body) = probe.influx_query(&statement, None)?;
    if status != 200 || body.contains("\"error\"") {
        return Err(anyhow!(
            "CREATE USER {user}: HTTP {status}: {}",
            crate::text::sanitize(&body.replace(password.as_str(), "<password>"))
        ));
    }
    Ok((
        (Status::Created, format!("{user}, with all privileges")),
        (),
    ))
}

/// The running server, as a client sees it.
fn verify(
    args: &ProvisionInfluxdbArgs,
    plan: &Plan,
    target: Option<&Target>,
    out: &mut Output,
    now: OffsetDateTime,
    dry_run: bool,
) -> Result<(Done, ())> {
    if dry_run {
        return Ok(((Status::Skipped, "dry run".to_owned()), ()));
    }
    let target = target.context("no server to talk to")?;
    pair::wait_for(target)?;
    let auth = match (&args.admin_user, args.auth) {
        (Some(user), true) => Some((user.clone(), secret_bytes(args, plan, out)?)),
        _ => None,
    };
    let outcome = probe(plan, target, auth, args.auth)?.run(now)?;
    let summary: Vec<String> = outcome
        .checks
        .iter()
        .map(|c| format!("{} {}", c.check, if c.ok { "ok" } else { "FAIL" }))
        .collect();
    if let Some(failed) = outcome.checks.iter().find(|c| !c.ok) {
        return Err(CheckFailed(format!("{}: {}", failed.check, failed.detail)).into());
    }
    Ok(((Status::Unchanged, summary.join(", ")), ()))
}
