//! Test environment and helpers: a temp dir per test, the certtool binary, real external tools
//! and servers started on 127.0.0.1 and stopped by PID.

use std::fs;
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::thread::sleep;
use std::time::Duration;

use tempfile::TempDir;

/// `certtool ca issue` with the CA that [`TestEnv::ca`] makes.
pub const ISSUE: [&str; 6] = ["ca", "issue", "--ca-cert", "ca.crt", "--ca-key", "ca.key"];
/// `certtool config prometheus` writing `web-config.yml` for `localhost.crt`/`localhost.key`.
pub const WEB_CONFIG: [&str; 8] = [
    "config",
    "prometheus",
    "--cert",
    "localhost.crt",
    "--key",
    "localhost.key",
    "--out",
    "web-config.yml",
];

/// A temp directory and a way to run certtool in it with a pinned environment.
pub struct TestEnv {
    pub dir: TempDir,
}

impl TestEnv {
    pub fn new() -> Self {
        TestEnv {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `certtool` with the temp dir as working directory and HOME.
    pub fn cmd(&self) -> assert_cmd::Command {
        let mut cmd = assert_cmd::Command::new(bin());
        self.pin_env(cmd.current_dir(self.dir.path()));
        cmd
    }

    /// `certtool` as a plain std Command, for spawning with pipes.
    pub fn cmd_std(&self) -> Command {
        let mut cmd = Command::new(bin());
        cmd.current_dir(self.dir.path())
            .env("HOME", self.dir.path())
            .env("NO_COLOR", "1")
            .env_remove("INFLUXDB_HTTP_SHARED_SECRET");
        cmd
    }

    /// `certtool ARGS` run under `umask MASK` through sh (changing the umask in-process would
    /// need unsafe code).
    pub fn cmd_with_umask(&self, mask: &str, args: &[&str]) -> assert_cmd::Command {
        let mut cmd = assert_cmd::Command::new("sh");
        cmd.arg("-c")
            .arg(format!("umask {mask} && exec \"$0\" \"$@\""))
            .arg(bin())
            .args(args);
        self.pin_env(cmd.current_dir(self.dir.path()));
        cmd
    }

    fn pin_env<'c>(&self, cmd: &'c mut assert_cmd::Command) -> &'c mut assert_cmd::Command {
        cmd.env("HOME", self.dir.path())
            .env("NO_COLOR", "1")
            .env_remove("INFLUXDB_HTTP_SHARED_SECRET")
            .env_remove("SSL_CERT_FILE")
            .env_remove("RUST_BACKTRACE")
    }

    /// Run `certtool selfsigned` with `args` in this env and insist it succeeds.
    pub fn selfsigned(&self, args: &[&str]) -> Output {
        let mut all = vec!["selfsigned"];
        all.extend(args);
        self.ok(&all)
    }

    /// A self-signed certificate for `host` that expired in 2020.
    pub fn expired(&self, host: &str) {
        self.selfsigned(&[
            "--host",
            host,
            "--not-before",
            "2020-01-01",
            "--not-after",
            "2020-02-01",
        ]);
    }

    /// `certtool ARGS`, whatever its exit status.
    pub fn certtool(&self, args: &[&str]) -> Output {
        self.cmd().args(args).output().expect("run")
    }

    /// `certtool ARGS`, which must succeed.
    pub fn ok(&self, args: &[&str]) -> Output {
        let out = self.certtool(args);
        assert!(
            out.status.success(),
            "certtool {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// `certtool ARGS`, which must fail with an input error (exit 2, one line and a hint)
    /// mentioning `expected`; returns the message.
    pub fn refused(&self, args: &[&str], expected: &str) -> String {
        let err = assert_input_error(&self.certtool(args));
        assert!(
            err.contains(expected),
            "{args:?}: expected {expected:?} in: {err}"
        );
        err
    }

    /// A local CA in `ca.crt`/`ca.key`, with extra `ca init` arguments.
    pub fn ca(&self, args: &[&str]) {
        let mut all = vec!["ca", "init"];
        all.extend(args);
        self.ok(&all);
    }

    /// `ca issue` from `ca.crt`/`ca.key` with extra arguments.
    pub fn issue(&self, args: &[&str]) -> Output {
        self.ok(&[&ISSUE[..], args].concat())
    }

    /// `ca issue` from `ca.crt`/`ca.key`, which must be refused mentioning `expected`.
    pub fn issue_refused(&self, args: &[&str], expected: &str) -> String {
        self.refused(&[&ISSUE[..], args].concat(), expected)
    }

    /// `web-config.yml` for `localhost.crt`/`localhost.key`, by `certtool config prometheus`.
    pub fn web_config(&self) {
        self.ok(&WEB_CONFIG);
    }

    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path(name);
        fs::write(&path, contents).expect("write fixture");
        path
    }

    /// The text of a file in the temp dir.
    pub fn read(&self, name: &str) -> String {
        fs::read_to_string(self.path(name)).expect("read")
    }

    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(self.dir.path())
            .expect("list")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

/// The binary under test: this build's, or `CERTTOOL_TEST_BIN` (to show that a regression test
/// fails on an older build: `CERTTOOL_TEST_BIN=/tmp/old/certtool cargo test --test cli hardening`).
pub fn bin() -> PathBuf {
    std::env::var_os("CERTTOOL_TEST_BIN").map_or_else(
        || PathBuf::from(env!("CARGO_BIN_EXE_certtool")),
        PathBuf::from,
    )
}

pub fn mode(path: &Path) -> u32 {
    fs::metadata(path).expect("stat").permissions().mode() & 0o7777
}

pub fn set_mode(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).expect("chmod");
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The error contract: exit 2, a `certtool: error:` first line, at most a hint after it, no
/// panic or backtrace. Returns stderr.
pub fn assert_input_error(out: &Output) -> String {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(2), "stderr: {err}");
    assert!(err.starts_with("certtool: error: "), "stderr: {err}");
    let lines: Vec<&str> = err.lines().collect();
    assert!(lines.len() <= 2, "more than an error and a hint: {err}");
    if let Some(hint) = lines.get(1) {
        assert!(hint.starts_with("  hint: "), "stderr: {err}");
    }
    assert!(!err.contains("panicked"), "stderr: {err}");
    err
}

/// Whether an external tool is on PATH. Under CI a missing tool fails the test: a skipped
/// interop test proves nothing.
pub fn require_tool(name: &str) -> bool {
    let found = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {name}"))
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    require(found, name)
}

/// `available`, or, when it is not: a failure under CI (`what` is required there) and a loud
/// skip elsewhere. The one rule for every test that needs something of the machine.
pub fn require(available: bool, what: &str) -> bool {
    if !available {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{what} is required under CI (.ci/run installs or allows it)"
        );
        eprintln!("SKIPPED: {what} is not available here");
    }
    available
}

/// A loopback port that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// Wait until something accepts connections on 127.0.0.1:`port`; false after ~10 s.
///
/// Other tests bind loopback ports all the time (every `certtool verify` does), so the port can
/// be taken between [`free_port`] and the server's bind: the server then exits at once while
/// the connection reaches the other listener. So a server counts as up only if it is still
/// running a moment after its port answered.
pub fn wait_for_port(port: u16, child: &mut Child) -> bool {
    for _ in 0..200 {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            sleep(Duration::from_millis(150));
            return matches!(child.try_wait(), Ok(None));
        }
        if let Ok(Some(_)) = child.try_wait() {
            return false;
        }
        sleep(Duration::from_millis(50));
    }
    false
}

/// A server process, killed by PID when dropped.
pub struct Server {
    pub child: Child,
    pub port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Start `build(port)` on a free port and wait until it listens; retries on a port race.
pub fn start_server(mut build: impl FnMut(u16) -> Command) -> Server {
    for _ in 0..5 {
        let port = free_port();
        let mut child = build(port)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn server");
        if wait_for_port(port, &mut child) {
            return Server { child, port };
        }
        let _ = child.kill();
        let _ = child.wait();
    }
    panic!("server did not start");
}

/// `openssl s_server` serving `cert` and `key` on 127.0.0.1 with a tiny HTTP responder.
pub fn openssl_server(cert: &Path, key: &Path) -> Server {
    openssl_server_with(cert, key, &[])
}

/// [`openssl_server`] with more `s_server` arguments (e.g. to ask for client certificates).
pub fn openssl_server_with(cert: &Path, key: &Path, extra: &[&str]) -> Server {
    start_server(|port| {
        let mut cmd = Command::new("openssl");
        cmd.args(["s_server", "-www", "-accept"])
            .arg(format!("127.0.0.1:{port}"))
            .arg("-cert")
            .arg(cert)
            .arg("-key")
            .arg(key)
            .args(extra);
        cmd
    })
}

/// A real influxd on a free loopback port, data under `env`'s temp dir, with `http_settings`
/// (lines for its `[http]` section) added; stopped by PID when dropped.
pub fn start_influxd(env: &TestEnv, http_settings: &str) -> Server {
    start_server(|port| {
        let dir = env.dir.path().display();
        let config = env.path(&format!("influxdb-{port}.conf"));
        let rpc = free_port();
        fs::write(
            &config,
            format!(
                "reporting-disabled = true\nbind-address = \"127.0.0.1:{rpc}\"\n\
                 [meta]\n  dir = \"{dir}/meta\"\n[data]\n  dir = \"{dir}/data\"\n  wal-dir = \"{dir}/wal\"\n\
                 [monitor]\n  store-enabled = false\n\
                 [http]\n  bind-address = \"127.0.0.1:{port}\"\n{http_settings}"
            ),
        )
        .expect("write influxd config");
        let mut cmd = Command::new("influxd");
        cmd.arg("-config").arg(config);
        cmd
    })
}

/// Run a command and return its output.
pub fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("run external tool")
}

/// `openssl ARGS` in `dir`.
pub fn openssl(args: &[&str], dir: &Path) -> std::process::Output {
    run(Command::new("openssl").args(args).current_dir(dir))
}

/// A leaf for `san` (`DNS:a,IP:b`) with `subject`, made and signed by OpenSSL with the CA
/// `ca.crt`/`ca.key` in `dir`: what another tool holding the CA key could sign.
pub fn openssl_leaf(dir: &Path, name: &str, subject: &str, san: &str) {
    let (key, crt) = (format!("{name}.key"), format!("{name}.crt"));
    let out = openssl(
        &[
            "req",
            "-x509",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            &key,
            "-out",
            &crt,
            "-days",
            "30",
            "-subj",
            subject,
            "-addext",
            &format!("subjectAltName={san}"),
            "-addext",
            "basicConstraints=CA:FALSE",
        ],
        dir,
    );
    assert!(out.status.success(), "{}", stderr(&out));
}

/// curl over https to `host`:`port` (resolved to 127.0.0.1), trusting `cafile`.
pub fn curl_ok(cafile: &Path, host: &str, port: u16) -> Result<String, String> {
    let out = run(Command::new("curl")
        .args(["--silent", "--show-error", "--max-time", "10", "--cacert"])
        .arg(cafile)
        .arg("--resolve")
        .arg(format!("{host}:{port}:127.0.0.1"))
        .arg(format!("https://{host}:{port}/")));
    if out.status.success() {
        Ok(stdout(&out))
    } else {
        Err(stderr(&out))
    }
}

/// Python's ssl module, strict X.509 checks, trusting `cafile`.
pub fn python_ok(cafile: &Path, server_name: &str, port: u16) -> Result<String, String> {
    // Python's default context plus OpenSSL's strict X.509 checks (Python 3.13's default).
    const SCRIPT: &str = r#"
import socket, ssl, sys
cafile, name, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
ctx = ssl.create_default_context(cafile=cafile)
ctx.verify_flags |= ssl.VERIFY_X509_STRICT
with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
    with ctx.wrap_socket(raw, server_hostname=name) as tls:
        tls.sendall(b"GET / HTTP/1.0\r\n\r\n")
        print(tls.version())
"#;
    let out = run(Command::new("python3")
        .arg("-c")
        .arg(SCRIPT)
        .arg(cafile)
        .arg(server_name)
        .arg(port.to_string()));
    if out.status.success() {
        Ok(stdout(&out))
    } else {
        Err(stderr(&out))
    }
}

/// gnutls-cli trusting `cafile`, checking `host`.
pub fn gnutls_ok(cafile: &Path, host: &str, port: u16) -> Result<String, String> {
    let out = run(Command::new("gnutls-cli")
        .arg(format!("--x509cafile={}", cafile.display()))
        .arg(format!("--verify-hostname={host}"))
        .arg(format!("--port={port}"))
        .arg("127.0.0.1")
        .stdin(Stdio::null()));
    if out.status.success() {
        Ok(stdout(&out))
    } else {
        Err(format!("{}{}", stdout(&out), stderr(&out)))
    }
}

/// A real prometheus with `web-config.yml`, scraping `scrape_configs` (YAML list items).
pub fn start_prometheus(env: &TestEnv, scrape_configs: &str) -> Server {
    start_prometheus_from(env, |_| {
        format!("global:\n  scrape_interval: 1s\nscrape_configs:\n{scrape_configs}")
    })
}

/// A real Prometheus on a free loopback port, serving TLS with `env`'s `web-config.yml`, with
/// the prometheus.yml that `config` gives for that port.
pub fn start_prometheus_from(env: &TestEnv, config: impl Fn(u16) -> String) -> Server {
    start_server(|port| {
        let file = env.path(&format!("prometheus-{port}.yml"));
        fs::write(&file, config(port)).unwrap();
        let config = file;
        let mut cmd = Command::new("prometheus");
        cmd.arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--web.config.file={}",
                env.path("web-config.yml").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg(format!(
                "--storage.tsdb.path={}",
                env.path(&format!("tsdb-{port}")).display()
            ));
        cmd
    })
}

/// The HTTP status curl gets for `url` with extra `args` (`000` when it cannot connect).
pub fn curl_code(args: &[&str], url: &str) -> String {
    stdout(&run(Command::new("curl")
        .args([
            "--silent",
            "--output",
            "/dev/null",
            "--write-out",
            "%{http_code}",
            "--max-time",
            "10",
        ])
        .args(args)
        .arg(url)))
}

/// Prometheus's answer to `up{job="JOB"}` (over https, trusting `cacert`), once the job is up
/// or after about 25 s.
pub fn prometheus_up(cacert: &Path, port: u16, job: &str) -> String {
    prometheus_up_as(cacert, port, job, None)
}

/// [`prometheus_up`], asking as `user` (`NAME:PASSWORD`, HTTP basic auth).
pub fn prometheus_up_as(cacert: &Path, port: u16, job: &str, user: Option<&str>) -> String {
    let mut up = String::new();
    for _ in 0..100 {
        let mut curl = Command::new("curl");
        curl.args(["--silent", "--max-time", "5", "--get", "--data-urlencode"])
            .arg(format!("query=up{{job=\"{job}\"}}"))
            .arg("--cacert")
            .arg(cacert)
            .arg(format!("https://localhost:{port}/api/v1/query"));
        if let Some(user) = user {
            curl.args(["-u", user]);
        }
        up = stdout(&run(&mut curl));
        if up.contains(r#","1"]"#) {
            break;
        }
        sleep(Duration::from_millis(250));
    }
    up
}

/// A real ACME server on loopback (Debian's pebble), killed by PID when dropped: its directory
/// URL, the ports its VA validates http-01 and tls-alpn-01 on, the CA bundle for its own HTTPS,
/// and the root it makes at each start (fetched from its management listener).
pub struct Pebble {
    child: Child,
    pub directory: String,
    pub http_port: u16,
    pub tls_port: u16,
    pub bundle: PathBuf,
    pub root: PathBuf,
}

impl Pebble {
    /// Start pebble with its TLS pair (made by certtool) and config in `dir`, `PEBBLE_*`
    /// settings from `env`, and with `hosts`, an /etc/hosts of its own (in a mount namespace:
    /// needs root), so that names such as influx.example.com resolve to loopback for its VA.
    pub fn start(dir: &Path, env: &[(&str, &str)], hosts: Option<&str>) -> Pebble {
        let made = Command::new(bin())
            .args(["selfsigned", "--host", "127.0.0.1", "--host", "localhost"])
            .args(["--name", "pebble", "--force", "--out-dir"])
            .arg(dir)
            .output()
            .expect("certtool selfsigned");
        assert!(made.status.success(), "{}", stderr(&made));
        let (port, management, http_port, tls_port) =
            (free_port(), free_port(), free_port(), free_port());
        let config = dir.join("pebble.json");
        fs::write(
            &config,
            format!(
                r#"{{"pebble": {{"listenAddress": "127.0.0.1:{port}",
                   "managementListenAddress": "127.0.0.1:{management}",
                   "certificate": "{d}/pebble.crt", "privateKey": "{d}/pebble.key",
                   "httpPort": {http_port}, "tlsPort": {tls_port}, "ocspResponderURL": "",
                   "externalAccountBindingRequired": false}}}}"#,
                d = dir.display()
            ),
        )
        .expect("pebble config");
        let mut cmd = if let Some(text) = hosts {
            let hosts = dir.join("hosts");
            fs::write(&hosts, text).expect("hosts file");
            let mut cmd = Command::new("unshare");
            cmd.args(["--mount", "--propagation", "private", "sh", "-c"])
                .arg("mount --bind \"$1\" /etc/hosts && exec pebble -config \"$2\" -strict=false")
                .arg("sh")
                .arg(hosts)
                .arg(&config);
            cmd
        } else {
            let mut cmd = Command::new("pebble");
            cmd.arg("-config").arg(&config).arg("-strict=false");
            cmd
        };
        let mut child = cmd
            .env("PEBBLE_VA_NOSLEEP", "1")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("pebble");
        assert!(wait_for_port(port, &mut child), "pebble did not start");
        let bundle = dir.join("pebble.crt");
        let root = dir.join("pebble-root.pem");
        let fetched = run(Command::new("curl")
            .args(["--silent", "--fail", "--cacert"])
            .arg(&bundle)
            .arg(format!("https://127.0.0.1:{management}/roots/0")));
        assert!(fetched.status.success(), "{}", stderr(&fetched));
        fs::write(&root, &fetched.stdout).expect("pebble root");
        Pebble {
            child,
            directory: format!("https://127.0.0.1:{port}/dir"),
            http_port,
            tls_port,
            bundle,
            root,
        }
    }
}

impl Drop for Pebble {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
