//! `certtool provision prometheus` and `provision node-exporter`: servers built on Prometheus's
//! exporter-toolkit, configured with `--web.config.file` (TLS, mutual TLS, basic auth).

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use anyhow::{Result, anyhow};
use time::OffsetDateTime;
use zeroize::Zeroizing;

use super::{CheckFailed, Done, Run, Status, pair};
use crate::cli::ProvisionWebArgs;
use crate::commands::absolute;
use crate::config::template::{Template, yaml_string};
use crate::error::{Error, ExitStatus};
use crate::files::{self, FileKind, PlannedFile, WriteOptions};
use crate::output::Output;
use crate::verify::probe::{Probe, ProbeKind, Target};

/// Which server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Server {
    Prometheus,
    NodeExporter,
}

impl Server {
    fn name(self) -> &'static str {
        match self {
            Server::Prometheus => "prometheus",
            Server::NodeExporter => "node-exporter",
        }
    }

    fn port(self) -> u16 {
        match self {
            Server::Prometheus => 9090,
            Server::NodeExporter => 9100,
        }
    }

    /// What answers when the server is up: Prometheus's health check, node exporter's metrics.
    fn probe_path(self) -> &'static str {
        match self {
            Server::Prometheus => "/-/healthy",
            Server::NodeExporter => "/metrics",
        }
    }
}

/// Run `certtool provision prometheus|node-exporter`.
pub fn run(server: Server, args: &ProvisionWebArgs, out: &mut Output) -> Result<ExitStatus> {
    let now = OffsetDateTime::now_utc();
    let mut run = Run::new(args.pair.dry_run);
    let name = args
        .name
        .clone()
        .unwrap_or_else(|| server.name().to_owned());
    let Some(plan) = run.step("plan", |_| plan(server, args, &name, now)) else {
        return run.finish(out);
    };
    let ca = match &plan.ca_dir {
        Some(dir) => run.step("ca", |run| pair::local_ca(dir, &plan, now, run)),
        None => Some(None),
    };
    let Some(ca) = ca else {
        return run.finish(out);
    };
    let mut changed = false;
    changed |= run
        .step("certificate", |run| {
            pair::certificate(&plan, ca.as_ref(), now, run)
        })
        .unwrap_or(false);
    let password = if args.basic_auth_user.is_some() {
        run.step("password", |_| password(args, out))
    } else {
        Some(None)
    };
    let password = password.flatten();
    let mut new_web_config: Option<Zeroizing<String>> = None;
    changed |= run
        .step("web config", |run| {
            web_config(args, &plan, password.as_ref(), run, &mut new_web_config)
        })
        .unwrap_or(false);
    if let Some(env_file) = &args.env_file {
        changed |= run
            .step("env file", |run| service_args(args, env_file, run))
            .unwrap_or(false);
    }
    if let (Some(config), Some(job)) = (&args.config, &args.job) {
        changed |= run
            .step("scrape job", |run| {
                scrape_job(server, args, &plan, config, job, run)
            })
            .unwrap_or(false);
    }
    if args.pair.renew_timer {
        run.step("renew timer", |run| {
            pair::renew_timer(&plan, args.reload.as_deref(), &args.pair.systemd_dir, run)
        });
    }
    run.step("reload", |run| {
        pair::reload(args.reload.as_deref(), server.name(), changed, run.dry_run)
    });
    if args.verify {
        run.step("verify", |run| {
            verify(server, args, &plan, password.as_ref(), now, run.dry_run)
        });
    }
    if run.dry_run && !run.stopped() {
        run.audit = Some(dry_run_audit(
            args,
            &plan,
            new_web_config.as_ref().map(|t| t.as_str()),
            &run.files,
        )?);
    }
    run.finish(out)
}

/// `certtool audit` of the web config now, and as this run would leave it.
fn dry_run_audit(
    args: &ProvisionWebArgs,
    plan: &pair::Plan,
    new_text: Option<&str>,
    planned_files: &[crate::files::Written],
) -> Result<super::AuditView> {
    use crate::commands::audit::{Planned, web::web_findings};
    let (hosts, user) = (plan.names(), plan.owner_user());
    let current = std::fs::read_to_string(&args.web_config).unwrap_or_default();
    let before = web_findings(&current, &args.web_config, &hosts, user.as_deref(), None)?;
    let planned = Planned {
        files: planned_files,
        hosts: hosts.clone(),
        days: plan.spec_days,
    };
    let after = web_findings(
        new_text.unwrap_or(&current),
        &args.web_config,
        &hosts,
        user.as_deref(),
        Some(&planned),
    )?;
    Ok(super::AuditView { before, after })
}

fn plan(
    server: Server,
    args: &ProvisionWebArgs,
    name: &str,
    now: OffsetDateTime,
) -> Result<(Done, pair::Plan)> {
    if args.basic_auth_user.is_some() != args.secret.source().is_given() {
        return Err(Error::invalid(
            "--basic-auth-user and a password source go together",
            "give both: --basic-auth-user NAME --secret-file FILE (or --secret-env, --secret-stdin)",
        )
        .into());
    }
    let plan = pair::Plan::new(&args.pair, name, now)?;
    let detail = format!("{} for {}", server.name(), plan.host_names());
    Ok(((Status::Unchanged, detail), plan))
}

/// The basic-auth password, from the secret source.
fn password(
    args: &ProvisionWebArgs,
    out: &mut Output,
) -> Result<(Done, Option<Zeroizing<Vec<u8>>>)> {
    let secret = crate::secret::read_secret(&args.secret.source(), out)?;
    let detail = format!(
        "for {} (hashed with bcrypt, cost {})",
        args.basic_auth_user.as_deref().unwrap_or_default(),
        args.bcrypt_cost
    );
    Ok((
        (Status::Unchanged, detail),
        Some(Zeroizing::new(secret.to_vec())),
    ))
}

/// The bcrypt hash to store: the existing one when it is of this password at this cost (a hash
/// is salted: a new one every run would never be "unchanged").
fn password_hash(existing: Option<&str>, password: &[u8], cost: u32) -> Result<String> {
    if let Some(hash) = existing {
        let same_cost = hash.get(4..6).and_then(|c| c.parse::<u32>().ok()) == Some(cost);
        if same_cost && bcrypt::verify(password, hash).unwrap_or(false) {
            return Ok(hash.to_owned());
        }
    }
    bcrypt::hash(password, cost).map_err(|e| anyhow!("cannot hash the password: {e}"))
}

/// The `basic_auth_users` hash for `user` in the web config at `path`, if there is one.
fn existing_hash(path: &Path, user: &str) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let docs = yaml_rust2::YamlLoader::load_from_str(&text).ok()?;
    docs.first()?["basic_auth_users"][user]
        .as_str()
        .map(str::to_owned)
}

/// The web config, written whole (0644; 0640 with basic auth). Returns whether it changed.
fn web_config(
    args: &ProvisionWebArgs,
    plan: &pair::Plan,
    password: Option<&Zeroizing<Vec<u8>>>,
    run: &mut Run,
    new_text: &mut Option<Zeroizing<String>>,
) -> Result<(Done, bool)> {
    let template = Template::PrometheusWebConfig.load(None)?;
    let client_ca = args.client_ca.as_deref().map(absolute).transpose()?;
    let mut text = crate::config::prometheus::web_config(
        &template,
        &absolute(&plan.paths.cert)?,
        &absolute(&plan.paths.key)?,
        client_ca.as_deref(),
    )?
    .to_string();
    // For a dry run's diff: (the hash there now, the new one).
    let mut hashes = (None, None);
    if let (Some(user), Some(password)) = (&args.basic_auth_user, password) {
        let existing = existing_hash(&args.web_config, user);
        let hash = password_hash(existing.as_deref(), password, args.bcrypt_cost)?;
        hashes.0.clone_from(&existing);
        if !text.ends_with('\n') {
            text.push('\n');
        }
        let _ = write!(
            text,
            "basic_auth_users:\n  {}: {}\n",
            yaml_string(user),
            yaml_string(&hash)
        );
        hashes.1 = Some(hash);
    }
    *new_text = Some(Zeroizing::new(text.clone()));
    if std::fs::read(&args.web_config).is_ok_and(|old| old == text.as_bytes()) {
        let detail = format!("{}: already as asked", args.web_config.display());
        return Ok(((Status::Unchanged, detail), false));
    }
    let status = if args.web_config.exists() {
        Status::Changed
    } else {
        Status::Created
    };
    if run.dry_run {
        // The whole file is written, so the diff is against what is there now; a hash says
        // nothing a diff needs to show.
        let mut old = std::fs::read_to_string(&args.web_config).unwrap_or_default();
        let mut new = text.clone();
        if let (Some(was), Some(is)) = (&hashes.0, &hashes.1)
            && was != is
        {
            old = old.replace(was.as_str(), "<bcrypt hash of the old password>");
        }
        if let Some(is) = &hashes.1 {
            old = old.replace(is.as_str(), "<bcrypt hash>");
            new = new.replace(is.as_str(), "<bcrypt hash>");
        }
        let name = args.web_config.display().to_string();
        run.add_diff(Some(crate::config::edit::unified_diff(
            &name, &old, &new, None,
        )));
    }
    let mode = if password.is_some() { 0o640 } else { 0o644 };
    let mut file = PlannedFile::new(args.web_config.clone(), FileKind::Config, text.as_bytes());
    file.mode = mode;
    let opts = WriteOptions {
        force: true,
        owner: plan.owner,
        ..WriteOptions::default()
    };
    run.files
        .extend(files::write_or_preview(&[file], opts, run.dry_run)?);
    let what = if password.is_some() {
        "tls_server_config, basic_auth_users"
    } else {
        "tls_server_config"
    };
    let detail = format!(
        "{} ({}): {what}",
        args.web_config.display(),
        crate::text::mode_string(mode)
    );
    Ok(((status, detail), true))
}

/// `--web.config.file` in `ARGS=` of the server's environment file. Returns whether it changed.
fn service_args(args: &ProvisionWebArgs, env_file: &Path, run: &mut Run) -> Result<(Done, bool)> {
    let web_config = absolute(&args.web_config)?;
    let name = env_file.display().to_string();
    let edit = crate::cli::EditArgs::in_place(env_file, run.dry_run);
    let (edited, planned) =
        crate::commands::config::plan_text_edit(env_file, &edit, 0o777, None, |text| {
            let new = crate::config::service_args::set_flag(
                text,
                &name,
                "--web.config.file",
                &web_config,
            )?;
            Ok(Zeroizing::new(new))
        })?;
    let edited =
        crate::commands::config::write_edit(edited, &planned.into_iter().collect::<Vec<_>>())?;
    run.files.extend(edited.files);
    run.add_diff(edited.diff);
    let detail = if edited.changed {
        format!("{name}: ARGS gets --web.config.file={web_config}")
    } else {
        format!("{name}: ARGS already has --web.config.file={web_config}")
    };
    Ok(((Status::of_change(edited.changed), detail), edited.changed))
}

/// The scrape job in prometheus.yml, over https (with basic auth from the password file).
fn scrape_job(
    server: Server,
    args: &ProvisionWebArgs,
    plan: &pair::Plan,
    config: &Path,
    job: &str,
    run: &mut Run,
) -> Result<(Done, bool)> {
    let basic_auth = match (&args.basic_auth_user, &args.secret.secret_file) {
        (Some(user), Some(file)) => Some((user.clone(), absolute(file)?)),
        (Some(_), None) => {
            return Err(Error::invalid(
                "the scrape job needs the password in a file (Prometheus reads basic_auth.password_file)",
                "give the password with --secret-file FILE",
            )
            .into());
        }
        _ => None,
    };
    let target = args.target.clone().unwrap_or_else(|| {
        format!(
            "{}:{}",
            first_name(plan),
            args.port.unwrap_or(server.port())
        )
    });
    let scrape = crate::config::prometheus::Scrape {
        job: job.to_owned(),
        ca: absolute(&plan.trust)?,
        target,
        server_name: None,
        client_cert: None,
        client_key: None,
        basic_auth,
    };
    let template = Template::PrometheusScrape.load(None)?;
    let snippet = crate::config::prometheus::scrape_job(&template, &scrape)?;
    let edit = crate::cli::EditArgs::in_place(config, run.dry_run);
    let (edited, planned) =
        crate::commands::config::plan_text_edit(config, &edit, 0o777, None, |text| {
            let (new, _) = crate::config::scrape_yml::set_job(text, job, &snippet)?;
            Ok(Zeroizing::new(new))
        })?;
    let edited =
        crate::commands::config::write_edit(edited, &planned.into_iter().collect::<Vec<_>>())?;
    run.files.extend(edited.files);
    run.add_diff(edited.diff);
    let status = Status::of_change(edited.changed);
    Ok((
        (
            status,
            format!("{}: job {job} over https", config.display()),
        ),
        edited.changed,
    ))
}

/// The first host that is not a wildcard: the name clients use.
fn first_name(plan: &pair::Plan) -> String {
    plan.hosts
        .iter()
        .map(ToString::to_string)
        .find(|h| !h.starts_with('*'))
        .unwrap_or_else(|| "localhost".to_owned())
}

/// The running server: TLS trusting what clients trust, the service, and with basic auth 401
/// without credentials and 200 with them.
fn verify(
    server: Server,
    args: &ProvisionWebArgs,
    plan: &pair::Plan,
    password: Option<&Zeroizing<Vec<u8>>>,
    now: OffsetDateTime,
    dry_run: bool,
) -> Result<(Done, ())> {
    if dry_run {
        return Ok(((Status::Skipped, "dry run".to_owned()), ()));
    }
    let port = args.port.unwrap_or(server.port());
    let target = Target {
        host: first_name(plan),
        port,
        connect: Some(std::net::SocketAddr::from(([127, 0, 0, 1], port))),
    };
    pair::wait_for(&target)?;
    let ca = crate::inputs::load_chain(&plan.trust, "certificate")?;
    let ca = if plan.ca_dir.is_some() {
        ca
    } else {
        ca[..1].to_vec()
    };
    let probe = Probe {
        target,
        ca: Some(ca),
        insecure: false,
        kind: ProbeKind::Tls,
        auth: None,
        require_auth: false,
        timeout: Duration::from_secs(5),
    };
    let outcome = probe.run(now)?;
    if let Some(failed) = outcome.checks.iter().find(|c| !c.ok) {
        return Err(CheckFailed(format!("{}: {}", failed.check, failed.detail)).into());
    }
    let path = server.probe_path();
    let mut said = vec!["tls ok".to_owned()];
    if let (Some(user), Some(password)) = (&args.basic_auth_user, password) {
        let without = probe.status_of(path, None)?;
        if without != 401 {
            return Err(CheckFailed(format!(
                "auth not enforced: GET {path} without credentials gave {without}, not 401"
            ))
            .into());
        }
        let with = probe.status_of(path, Some((user, password)))?;
        if with != 200 {
            return Err(CheckFailed(format!("GET {path} as {user} gave {with}, not 200")).into());
        }
        said.push(format!(
            "GET {path}: 401 without credentials, 200 as {user}"
        ));
    } else {
        let status = probe.status_of(path, None)?;
        if status != 200 {
            return Err(CheckFailed(format!("GET {path} gave {status}, not 200")).into());
        }
        said.push(format!("GET {path}: 200"));
    }
    Ok(((Status::Unchanged, said.join(", ")), ()))
}
