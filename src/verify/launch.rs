//! Launching a real influxd or prometheus with the pair under test, on a free loopback port, with
//! its data in a temporary directory, so the probe can check the real server end to end.
//!
//! The server is stopped by PID when [`Running`] is dropped: after the probe, on any error, and
//! after Ctrl-C (the command checks the interrupt flag while it waits). If certtool itself is
//! killed (even with SIGKILL) the server dies with it: it is started through certtool's own
//! launcher ([`run_as_launcher`]), which sets `PR_SET_PDEATHSIG` before it execs the server,
//! in a process group of its own. The temporary directory is 0700 and every file in it 0600 (the
//! config copy may hold the shared secret); directories left by killed runs are removed by the
//! next launch.
//!
//! It must not listen or connect beyond 127.0.0.1, nor leave a server or a temp directory behind.

use std::io::Write as _;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::sleep;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use tempfile::TempDir;
use toml_edit::DocumentMut;

use crate::config::template::Template;
use crate::config::{apply_snippet, influxdb, prometheus, toml_keys};
use crate::files::{self, FileKind, PlannedFile, WriteOptions};
use crate::secret::INFLUXDB_SECRET_ENV;

/// The servers certtool can launch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Service {
    Influxdb,
    Prometheus,
}

impl Service {
    /// What `--kind auto` means for this server.
    #[must_use]
    pub fn probe_kind(self) -> super::probe::ProbeKind {
        match self {
            Service::Influxdb => super::probe::ProbeKind::Influxdb,
            Service::Prometheus => super::probe::ProbeKind::Prometheus,
        }
    }

    fn binary(self) -> &'static str {
        match self {
            Service::Influxdb => "influxd",
            Service::Prometheus => "prometheus",
        }
    }
}

/// What to launch.
pub struct Launch<'a> {
    pub service: Service,
    /// The server binary, from [`find_binary`].
    pub bin: PathBuf,
    /// Absolute paths of the certificate (chain) and key.
    pub cert: &'a str,
    pub key: &'a str,
    /// The user's config, used in a temporary copy.
    pub config: Option<&'a Path>,
    pub template_dir: Option<&'a Path>,
    pub start_timeout: Duration,
    /// The variable `--secret-env` named, which the server must not inherit.
    pub secret_env: Option<&'a str>,
}

/// A launched server; stopped by PID and its temporary directory removed when dropped.
pub struct Running {
    child: Child,
    pub addr: SocketAddr,
    pub pid: u32,
    log: PathBuf,
    _dir: TempDir,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The server binary: `--server-bin`, or the first on PATH.
pub fn find_binary(service: Service, explicit: Option<&Path>) -> Result<PathBuf> {
    if let Some(path) = explicit {
        return if path.is_file() {
            Ok(path.to_path_buf())
        } else {
            Err(crate::error::Error::invalid(
                format!("--server-bin '{}' is not a file", path.display()),
                "give the path of the server binary",
            )
            .into())
        };
    }
    let name = service.binary();
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
        .ok_or_else(|| {
            crate::error::Error::invalid(
                format!("{name} is not on PATH"),
                format!(
                    "install it (Debian: apt-get install {}), or pass --server-bin",
                    match service {
                        Service::Influxdb => "influxdb",
                        Service::Prometheus => "prometheus",
                    }
                ),
            )
            .into()
        })
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")
        .context("cannot find a free loopback port")?
        .local_addr()?
        .port())
}

/// Write a file of the temporary directory: 0600, as a config copy may hold the shared secret.
fn write(path: &Path, text: &str) -> Result<()> {
    let mut file = PlannedFile::new(path.to_path_buf(), FileKind::Config, text.as_bytes());
    file.mode = files::SECRET_MODE;
    files::write_all(&[file], WriteOptions::default())?;
    Ok(())
}

/// The temporary directories of `verify --launch` start with this.
const TEMP_PREFIX: &str = "certtool-verify-";
/// Inside each, the PID of the certtool that made it, so a later run can tell it is stale.
const OWNER_FILE: &str = "certtool.pid";

/// Remove temporary directories of launches whose certtool is gone (killed before it could
/// clean up), so copies of configs do not pile up. Only this user's directories are touched.
fn remove_stale_dirs() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    let me = nix::unistd::Uid::effective().as_raw();
    for entry in entries.flatten() {
        let name = entry.file_name();
        if !name.to_string_lossy().starts_with(TEMP_PREFIX) {
            continue;
        }
        let path = entry.path();
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if !meta.is_dir() || std::os::unix::fs::MetadataExt::uid(&meta) != me {
            continue;
        }
        let owner = std::fs::read_to_string(path.join(OWNER_FILE))
            .ok()
            .and_then(|s| s.trim().parse::<u32>().ok());
        let dead = owner.is_some_and(|pid| !Path::new(&format!("/proc/{pid}")).exists());
        if dead {
            let _ = std::fs::remove_dir_all(&path);
        }
    }
}

/// The hidden first argument that makes certtool act as the launcher of a server.
const LAUNCHER_ARG: &str = "__launch-server";

/// When certtool was started as the launcher (`certtool __launch-server PARENT PROGRAM ARGS...`):
/// ask the kernel to kill this process when its parent dies, check that the parent has not died
/// already, and exec the server, which keeps the setting. `None` for every other command line.
#[must_use]
pub fn run_as_launcher() -> Option<u8> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStringExt;
    let mut given = std::env::args_os().skip(1);
    if given.next()? != LAUNCHER_ARG {
        return None;
    }
    let parent = given.next().and_then(|p| p.to_str()?.parse::<i32>().ok());
    let server_argv: Option<Vec<CString>> =
        given.map(|a| CString::new(a.into_vec()).ok()).collect();
    let (Some(parent), Some(argv)) = (parent, server_argv) else {
        return Some(2);
    };
    let Some(program) = argv.first() else {
        return Some(2);
    };
    if nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL).is_err()
        || nix::unistd::getppid().as_raw() != parent
    {
        return Some(1);
    }
    let err = nix::unistd::execv(program, &argv).err();
    // Stderr is the server's log, whose last lines the parent shows.
    let _ = writeln!(
        std::io::stderr(),
        "certtool: cannot run {}: {}",
        program.to_string_lossy(),
        err.map_or_else(String::new, |e| e.desc().to_owned())
    );
    Some(127)
}

/// A command that runs `bin` through the launcher, in its own process group.
fn launcher_command(bin: &Path) -> Result<Command> {
    use std::os::unix::process::CommandExt;
    let me = std::env::current_exe().context("cannot find certtool's own binary")?;
    let mut command = Command::new(me);
    command
        .arg(LAUNCHER_ARG)
        .arg(std::process::id().to_string())
        .arg(bin)
        .process_group(0);
    Ok(command)
}

fn read_text(path: &Path) -> Result<String> {
    let bytes = files::read_input(path)?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| anyhow!("'{}' is not UTF-8 text", path.display()))?;
    // A byte-order mark is not TOML (nor YAML that every parser takes): the copy goes without.
    Ok(text.strip_prefix('\u{feff}').unwrap_or(text).to_owned())
}

/// An influxd config: the user's (or an empty one) moved to `dir` and loopback ports, with
/// HTTPS from the InfluxDB template.
fn influxd_config(launch: &Launch<'_>, dir: &Path, port: u16) -> Result<String> {
    let mut doc: DocumentMut = match launch.config {
        Some(path) => read_text(path)?
            .parse()
            .with_context(|| format!("cannot parse '{}'", path.display()))?,
        None => DocumentMut::new(),
    };
    let d = |sub: &str| dir.join(sub).display().to_string();
    let rpc = format!("127.0.0.1:{}", free_port()?);
    for (path, key, value) in [
        (&[][..], "reporting-disabled", toml_edit::Value::from(true)),
        (&[][..], "bind-address", rpc.as_str().into()),
        (&["meta"][..], "dir", d("meta").into()),
        (&["data"][..], "dir", d("data").into()),
        (&["data"][..], "wal-dir", d("wal").into()),
        (&["monitor"][..], "store-enabled", false.into()),
        (
            &["http"][..],
            "bind-address",
            format!("127.0.0.1:{port}").into(),
        ),
    ] {
        toml_keys::set(&mut doc, path, key, value)?;
    }
    let template = Template::InfluxdbHttp.load(launch.template_dir)?;
    let snippet = influxdb::v1_snippet(&template, launch.cert, launch.key, false, None)?;
    apply_snippet(&mut doc, &snippet)?;
    Ok(doc.to_string())
}

/// Whether an influxd config sets a non-empty `[http] shared-secret`.
fn has_shared_secret(config: &str) -> bool {
    config
        .parse::<DocumentMut>()
        .ok()
        .and_then(|doc| {
            doc.get("http")?
                .get("shared-secret")?
                .as_str()
                .map(|s| !s.is_empty())
        })
        .unwrap_or(false)
}

/// Write influxd's config into `dir` and point `command` at it.
fn configure_influxd(
    launch: &Launch<'_>,
    dir: &Path,
    port: u16,
    command: &mut Command,
) -> Result<()> {
    let config = dir.join("influxdb.conf");
    let text = influxd_config(launch, dir, port)?;
    // influxd takes the shared secret from its config or from the environment: when the config
    // holds it, it does not get a second copy.
    if has_shared_secret(&text) {
        command.env_remove(INFLUXDB_SECRET_ENV);
    }
    write(&config, &text)?;
    command.arg("-config").arg(&config);
    Ok(())
}

/// Write Prometheus's web config and config into `dir` and point `command` at them.
fn configure_prometheus(
    launch: &Launch<'_>,
    dir: &Path,
    port: u16,
    command: &mut Command,
) -> Result<()> {
    command.env_remove(INFLUXDB_SECRET_ENV);
    let web = dir.join("web-config.yml");
    let template = Template::PrometheusWebConfig.load(launch.template_dir)?;
    write(
        &web,
        &prometheus::web_config(&template, launch.cert, launch.key, None)?,
    )?;
    let config = dir.join("prometheus.yml");
    let text = match launch.config {
        Some(path) => read_text(path)?,
        None => "global:\n  scrape_interval: 15s\n".to_owned(),
    };
    write(&config, &text)?;
    command
        .arg(format!("--config.file={}", config.display()))
        .arg(format!("--web.config.file={}", web.display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("data").display()
        ));
    Ok(())
}

/// Start the server and wait until it accepts connections.
pub fn start(launch: &Launch<'_>, interrupted: &AtomicBool) -> Result<Running> {
    let bin = &launch.bin;
    remove_stale_dirs();
    let dir = files::private_temp_dir(TEMP_PREFIX)?;
    write(
        &dir.path().join(OWNER_FILE),
        &format!("{}\n", std::process::id()),
    )?;
    let port = free_port()?;
    let mut command = launcher_command(bin)?;
    if let Some(var) = launch.secret_env {
        command.env_remove(var);
    }
    match launch.service {
        Service::Influxdb => configure_influxd(launch, dir.path(), port, &mut command)?,
        Service::Prometheus => configure_prometheus(launch, dir.path(), port, &mut command)?,
    }
    let log = dir.path().join("server.log");
    let log_file = files::create_private(&log)?;
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::from(log_file.try_clone()?))
        .stderr(Stdio::from(log_file))
        .spawn()
        .with_context(|| format!("cannot start '{}'", bin.display()))?;
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut running = Running {
        pid: child.id(),
        child,
        addr,
        log,
        _dir: dir,
    };
    running.wait_until_ready(launch, interrupted)?;
    Ok(running)
}

impl Running {
    fn wait_until_ready(&mut self, launch: &Launch<'_>, interrupted: &AtomicBool) -> Result<()> {
        let deadline = Instant::now() + launch.start_timeout;
        loop {
            if interrupted.load(Ordering::SeqCst) {
                bail!("interrupted; {} was stopped", launch.service.binary());
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                bail!(
                    "{} exited ({status}) before it was ready; its last log lines:\n{}",
                    launch.service.binary(),
                    self.last_log_lines(12)
                );
            }
            if TcpStream::connect_timeout(&self.addr, Duration::from_millis(200)).is_ok() {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!(
                    "{} did not listen on {} within {} s; its last log lines:\n{}",
                    launch.service.binary(),
                    self.addr,
                    launch.start_timeout.as_secs(),
                    self.last_log_lines(12)
                );
            }
            sleep(Duration::from_millis(50));
        }
    }

    /// The last `n` lines the server logged, indented, sanitised.
    #[must_use]
    pub fn last_log_lines(&self, n: usize) -> String {
        let text = files::read_input(&self.log)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(n)..]
            .iter()
            .map(|l| format!("    {}", crate::text::sanitize(l)))
            .collect::<Vec<_>>()
            .join("\n")
    }
}
