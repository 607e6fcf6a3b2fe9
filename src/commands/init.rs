//! `certtool init`: the wizard. It asks (dialoguer) what `certtool provision` would be given,
//! shows that command, runs it on confirmation, and prints it again for next time.
//!
//! It must not write anything itself: the provision command it runs does all the writing, so
//! Ctrl-C at any question leaves nothing behind, and what it does is exactly what the printed
//! command does.

use std::io::IsTerminal as _;

use anyhow::{Context as _, Result, anyhow};
use dialoguer::{Confirm, Input, Select};

use crate::error::{Error, ExitStatus};
use crate::output::Output;

/// Run `certtool init`.
pub fn run(out: &mut Output) -> Result<ExitStatus> {
    if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
        return Err(Error::invalid(
            "certtool init asks its questions on a terminal, and there is none",
            "in scripts, use certtool provision influxdb|prometheus|node-exporter (see --help)",
        )
        .into());
    }
    out.refuse_json(
        "the wizard talks to a person",
        "use certtool provision ... --json",
    )?;
    let argv = ask().map_err(|e| anyhow!("{e:#}"))?;
    let line = command_line(&argv);
    out.note(&format!("The command for these answers:\n  {line}"))?;
    let go = Confirm::new()
        .with_prompt("Run it now?")
        .default(true)
        .interact()
        .context("the question was not answered")?;
    if !go {
        out.note("Nothing was written. Run the command above when you are ready.")?;
        return Ok(ExitStatus::Success);
    }
    let exe = std::env::current_exe().context("cannot tell where certtool is")?;
    // A password file named in the answers that does not exist yet is made now (0600, by
    // certtool secret generate): the wizard's "generate a password".
    for flag in ["--admin-password-file", "--secret-file"] {
        let Some(file) = argv
            .iter()
            .position(|a| a == flag)
            .and_then(|i| argv.get(i + 1))
        else {
            continue;
        };
        if !std::path::Path::new(file).exists() {
            let made = std::process::Command::new(&exe)
                .args(["secret", "generate", "--out", file])
                .status()
                .context("cannot run certtool secret generate")?;
            if !made.success() {
                return Ok(ExitStatus::InputError);
            }
        }
    }
    let status = std::process::Command::new(exe)
        .args(&argv[1..])
        .status()
        .context("cannot run certtool provision")?;
    out.note(&format!("Next time, without questions:\n  {line}"))?;
    Ok(match status.code() {
        Some(0) => ExitStatus::Success,
        Some(1) => ExitStatus::Failure,
        _ => ExitStatus::InputError,
    })
}

/// This machine's name, for the host question's default.
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_owned())
}

/// The names and addresses the host question offers: the hostname, loopback, and this machine's
/// other addresses (as `hostname -I` lists them: no loopback, no IPv6 link-local, which no
/// client would put in a URL).
fn default_hosts() -> String {
    let mut hosts = vec![hostname(), "localhost".to_owned(), "127.0.0.1".to_owned()];
    for ip in machine_addresses() {
        let ip = ip.to_string();
        if !hosts.contains(&ip) {
            hosts.push(ip);
        }
    }
    hosts.join(" ")
}

fn machine_addresses() -> Vec<std::net::IpAddr> {
    let Ok(interfaces) = nix::ifaddrs::getifaddrs() else {
        return Vec::new();
    };
    interfaces
        .filter_map(|i| {
            let addr = i.address?;
            let ip = match (addr.as_sockaddr_in(), addr.as_sockaddr_in6()) {
                (Some(v4), _) => std::net::IpAddr::V4(v4.ip()),
                (_, Some(v6)) => std::net::IpAddr::V6(v6.ip()),
                _ => return None,
            };
            let link_local = matches!(ip, std::net::IpAddr::V6(v6) if v6.is_unicast_link_local());
            (!ip.is_loopback() && !link_local).then_some(ip)
        })
        .collect()
}

fn input(prompt: &str, default: &str) -> Result<String> {
    let mut question = Input::<String>::new().with_prompt(prompt).allow_empty(true);
    if !default.is_empty() {
        question = question.default(default.to_owned());
    }
    Ok(question.interact_text()?)
}

fn yes(prompt: &str, default: bool) -> Result<bool> {
    Ok(Confirm::new()
        .with_prompt(prompt)
        .default(default)
        .interact()?)
}

/// The questions, and the provision command line their answers make.
fn ask() -> Result<Vec<String>> {
    let servers = ["InfluxDB 1.x", "Prometheus", "node exporter"];
    let server = Select::new()
        .with_prompt("Which server")
        .items(servers)
        .default(0)
        .interact()?;
    let (command, service, config_default, reload_default) = match server {
        0 => (
            "influxdb",
            "influxdb",
            "/etc/influxdb/influxdb.conf",
            "systemctl restart influxdb",
        ),
        1 => (
            "prometheus",
            "prometheus",
            "/etc/prometheus/web-config.yml",
            // A restart, not a reload: a new --web.config.file in ARGS needs one.
            "systemctl restart prometheus",
        ),
        _ => (
            "node-exporter",
            "prometheus",
            "/etc/prometheus/node-web-config.yml",
            "systemctl restart prometheus-node-exporter",
        ),
    };
    let mut argv: Vec<String> = ["certtool", "provision", command]
        .map(str::to_owned)
        .to_vec();
    let hosts = input(
        "Host names and IP addresses clients use (space-separated)",
        &default_hosts(),
    )?;
    for host in hosts.split_whitespace() {
        argv.extend(["--host".to_owned(), host.to_owned()]);
    }
    if Select::new()
        .with_prompt("Certificate")
        .items(["self-signed", "from a local CA (made if it does not exist)"])
        .default(0)
        .interact()?
        == 1
    {
        argv.extend([
            "--ca-dir".to_owned(),
            input("CA directory", "/etc/ssl/metrics-ca")?,
        ]);
    }
    argv.extend(["--days".to_owned(), input("Days of validity", "365")?]);
    argv.extend([
        "--out-dir".to_owned(),
        input(
            "Directory for the key and certificate",
            &format!("/etc/ssl/{command}"),
        )?,
    ]);
    let owner = input(
        &format!("Owner of the files, e.g. {service}:{service} (empty: as certtool runs)"),
        "",
    )?;
    if !owner.is_empty() {
        argv.extend(["--owner".to_owned(), owner]);
    }
    ask_config(server == 0, config_default, &mut argv)?;
    ask_after(reload_default, &mut argv)?;
    Ok(argv)
}

/// The server's config: InfluxDB's, with token auth and the first admin; or the web config,
/// with basic auth.
fn ask_config(influxdb: bool, config_default: &str, argv: &mut Vec<String>) -> Result<()> {
    if influxdb {
        argv.extend([
            "--config".to_owned(),
            input("InfluxDB config to edit", config_default)?,
        ]);
        if yes(
            "Turn on token authentication (a shared secret is generated)?",
            true,
        )? {
            argv.extend([
                "--auth".to_owned(),
                "--env-file".to_owned(),
                input("Where the secret goes", "/etc/default/influxdb")?,
            ]);
            let admin = input("First admin user (empty: none)", "admin")?;
            if !admin.is_empty() {
                argv.extend([
                    "--admin-user".to_owned(),
                    admin,
                    "--admin-password-file".to_owned(),
                    input(
                        "File holding its password (made if missing)",
                        "/etc/influxdb/admin.password",
                    )?,
                ]);
            }
        }
    } else {
        argv.extend([
            "--web-config".to_owned(),
            input("Web config to write", config_default)?,
        ]);
        // No default: pressing Enter must not edit a file under /etc the user did not name.
        let env_file = input(
            "Environment file whose ARGS= gets --web.config.file, e.g. /etc/default/prometheus \
             (empty: none)",
            "",
        )?;
        if !env_file.is_empty() {
            argv.extend(["--env-file".to_owned(), env_file]);
        }
        let user = input("Basic auth user (empty: none)", "")?;
        if !user.is_empty() {
            argv.extend([
                "--basic-auth-user".to_owned(),
                user,
                "--secret-file".to_owned(),
                input(
                    "File holding the password (made if missing)",
                    "/etc/prometheus/basic-auth.password",
                )?,
            ]);
        }
    }
    Ok(())
}

/// Reload, verification and the renewal timer.
fn ask_after(reload_default: &str, argv: &mut Vec<String>) -> Result<()> {
    let reload = input(
        "Command that makes the server read the new files (empty: none)",
        reload_default,
    )?;
    if !reload.is_empty() {
        argv.extend(["--reload".to_owned(), reload]);
    }
    if yes("Check the running server at the end?", true)? {
        argv.push("--verify".to_owned());
    }
    if yes("Install a daily renewal timer (systemd)?", true)? {
        argv.extend([
            "--renew-timer".to_owned(),
            "--systemd-dir".to_owned(),
            input("Where the units go", "/etc/systemd/system")?,
        ]);
    }
    Ok(())
}

/// `argv` as one line to paste into a shell.
fn command_line(argv: &[String]) -> String {
    argv.iter()
        .map(|a| crate::commands::timer::shell_quote(a))
        .collect::<Vec<_>>()
        .join(" ")
}
