//! `certtool provision influxdb` end to end against a real influxd (Debian's package) on free
//! loopback ports, in a temp dir standing in for /etc, restarted by PID through `--reload`.

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::support::{TestEnv, free_port, require, require_tool, stderr, stdout};

/// influxd's config for this test, and a reload script that restarts influxd by PID with the
/// env file (as systemd's EnvironmentFile= would) and counts its runs.
pub fn setup(env: &TestEnv, etc: &Path) -> u16 {
    let port = free_port();
    let dir = env.dir.path().display();
    fs::create_dir_all(etc).unwrap();
    fs::write(
        etc.join("influxdb.conf"),
        format!(
            "reporting-disabled = true\nbind-address = \"127.0.0.1:{}\"\n[meta]\n  dir = \"{dir}/meta\"\n\
             [data]\n  dir = \"{dir}/data\"\n  wal-dir = \"{dir}/wal\"\n[monitor]\n  store-enabled = false\n\
             [http]\n  bind-address = \"127.0.0.1:{port}\"\n",
            free_port()
        ),
    )
    .unwrap();
    let script = format!(
        "#!/bin/sh\nset -e\necho run >> {dir}/reloads\n\
         if [ -f {dir}/influxd.pid ]; then kill $(cat {dir}/influxd.pid) 2>/dev/null || true; \
         while kill -0 $(cat {dir}/influxd.pid) 2>/dev/null; do sleep 0.1; done; fi\n\
         set -a; . {etc}/influxdb.env; set +a\n\
         influxd -config {etc}/influxdb.conf > {dir}/influxd.log 2>&1 &\necho $! > {dir}/influxd.pid\n",
        etc = etc.display()
    );
    fs::write(env.path("restart.sh"), script).unwrap();
    crate::support::set_mode(&env.path("restart.sh"), 0o755);
    env.ok(&["secret", "generate", "--out", "admin.password"]);
    fs::create_dir_all(env.path("units")).unwrap();
    fs::write(
        etc.join("telegraf.conf"),
        "[agent]\n  interval = \"10s\"\n\n[[outputs.influxdb]]\n  urls = [\"http://127.0.0.1:8086\"]\n  # timeout = \"5s\"\n",
    )
    .unwrap();
    port
}

/// Stops the influxd the reload script started.
pub struct Influxd<'a>(pub &'a TestEnv);

impl Drop for Influxd<'_> {
    fn drop(&mut self) {
        if let Ok(pid) = fs::read_to_string(self.0.path("influxd.pid")) {
            let _ = Command::new("kill")
                .arg(pid.trim())
                .stderr(Stdio::null())
                .status();
        }
    }
}

fn provision(
    env: &TestEnv,
    config: &str,
    extra: &[&str],
) -> (Option<i32>, serde_json::Value, String) {
    let restart = env.path("restart.sh").display().to_string();
    let mut args = vec![
        "provision",
        "influxdb",
        "--host",
        "localhost",
        "--host",
        "127.0.0.1",
        "--out-dir",
        "ssl",
        "--config",
        config,
        "--auth",
        "--admin-user",
        "admin",
        "--admin-password-file",
        "admin.password",
        "--reload",
        &restart,
        "--verify",
        "--json",
        "--telegraf-conf",
        "etc/telegraf.conf",
        "--renew-timer",
        "--systemd-dir",
        "units",
    ];
    args.extend(extra);
    let out = env.certtool(&args);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", stdout(&out), stderr(&out)));
    (out.status.code(), report, stderr(&out))
}

fn statuses(report: &serde_json::Value) -> Vec<(String, String)> {
    report["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap().to_owned(),
                s["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn status_of(report: &serde_json::Value, step: &str) -> String {
    statuses(report)
        .into_iter()
        .find(|(name, _)| name == step)
        .map_or_else(|| panic!("no step {step}: {report:#}"), |(_, s)| s)
}

fn snapshot(env: &TestEnv) -> Vec<(String, Vec<u8>)> {
    [
        "ssl/influxdb.crt",
        "ssl/influxdb.key",
        "etc/influxdb.conf",
        "etc/influxdb.env",
        "etc/telegraf.conf",
    ]
    .iter()
    .map(|f| ((*f).to_owned(), fs::read(env.path(f)).unwrap()))
    .collect()
}

/// curl's status for SHOW DATABASES, trusting `cert`, with a bearer token if given.
fn query_status(cert: &Path, port: u16, token: Option<&str>) -> String {
    let mut curl = Command::new("curl");
    curl.args([
        "--silent",
        "--output",
        "/dev/null",
        "--write-out",
        "%{http_code}",
        "--cacert",
    ])
    .arg(cert)
    .arg(format!("https://localhost:{port}/query?q=SHOW+DATABASES"));
    if let Some(token) = token {
        curl.args(["-H", &format!("Authorization: Bearer {}", token.trim())]);
    }
    stdout(&curl.output().unwrap())
}

/// A dry run: the plan, the diff, every file with its mode and owner; nothing written.
fn dry_run_shows_every_file_and_writes_nothing(env: &TestEnv, etc: &Path) {
    let dry_run = [
        "provision",
        "influxdb",
        "--host",
        "localhost",
        "--out-dir",
        "ssl",
        "--config",
        "etc/influxdb.conf",
        "--auth",
        "--owner",
        "nobody:nogroup",
        "--dry-run",
    ];
    let out = env.certtool(&dry_run);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("+  https-enabled = true"), "{text}");
    let me = format!(
        "{}:{}",
        nix::unistd::User::from_uid(nix::unistd::geteuid())
            .unwrap()
            .unwrap()
            .name,
        nix::unistd::Group::from_gid(nix::unistd::getegid())
            .unwrap()
            .unwrap()
            .name
    );
    for line in [
        "create   0600  nobody:nogroup     ssl/influxdb.key".to_owned(),
        "create   0644  nobody:nogroup     ssl/influxdb.crt".to_owned(),
        format!("replace  0644  {me:<17}  etc/influxdb.conf"),
        format!("create   0600  {me:<17}  etc/influxdb.env"),
    ] {
        assert!(text.contains(&line), "{line}: {text}");
    }
    let json = env.ok(&[&["--json"][..], &dry_run].concat());
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(
        report["files"][0],
        serde_json::json!({"path": "ssl/influxdb.key", "kind": "private_key", "mode": "0600",
            "owner": "nobody:nogroup", "action": "created"}),
        "{report:#}"
    );
    // The audit now (https and auth off fail), and as the run would leave it (all ok).
    let severity = |list: &str, name: &str| {
        report["audit"][list]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == name)
            .map_or_else(|| panic!("{name}: {report:#}"), |f| f["severity"].clone())
    };
    assert_eq!(severity("before", "influxdb.https"), "fail");
    assert_eq!(severity("before", "influxdb.auth"), "fail");
    for finding in report["audit"]["after"].as_array().unwrap() {
        assert_eq!(finding["severity"], "ok", "{finding:#}");
    }
    assert!(text.contains("FAIL -> ok    influxdb.https"), "{text}");
    assert!(
        !env.path("ssl").exists() && !etc.join("influxdb.env").exists(),
        "a dry run wrote"
    );
}

#[test]
fn a_prometheus_dry_run_shows_the_audit_before_and_after() {
    let env = TestEnv::new();
    env.write("web.yml", "");
    let out = env.ok(&[
        "--json",
        "provision",
        "prometheus",
        "--host",
        "localhost",
        "--out-dir",
        "ssl",
        "--web-config",
        "web.yml",
        "--dry-run",
    ]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let before = report["audit"]["before"].to_string();
    assert!(
        before.contains(r#""name":"web.tls","ok":false"#),
        "{report:#}"
    );
    let after = &report["audit"]["after"];
    assert!(
        after
            .to_string()
            .contains(r#""name":"web.tls-files","ok":true"#),
        "{report:#}"
    );
    assert_eq!(fs::read_to_string(env.path("web.yml")).unwrap(), "");
}

#[test]
fn provision_influxdb_end_to_end_then_nothing_then_only_the_certificate() {
    if !(require_tool("influxd") && require_tool("curl")) {
        return;
    }
    let env = TestEnv::new();
    let etc = env.path("etc");
    let port = setup(&env, &etc);
    let _influxd = Influxd(&env);
    dry_run_shows_every_file_and_writes_nothing(&env, &etc);

    let (code, report, err) = provision(&env, "etc/influxdb.conf", &[]);
    assert_eq!(code, Some(0), "{report:#}{err}");
    assert_eq!(report["changed"], true);
    for (step, status) in [
        ("certificate", "created"),
        ("config", "changed"),
        ("telegraf", "changed"),
        ("renew timer", "created"),
        ("reload", "changed"),
        ("admin user", "created"),
        ("verify", "unchanged"),
    ] {
        assert_eq!(status_of(&report, step), status, "{report:#}");
    }
    assert!(report["certificate"]["sha256_fingerprint"].is_string());
    // Every file the run wrote, the config edits and the env file among them.
    let files: Vec<(&str, &str, &str)> = report["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let s = |k: &str| f[k].as_str().unwrap();
            (s("path"), s("mode"), s("action"))
        })
        .collect();
    assert_eq!(
        files,
        [
            ("ssl/influxdb.key", "0600", "created"),
            ("ssl/influxdb.crt", "0644", "created"),
            ("etc/influxdb.conf", "0644", "replaced"),
            ("etc/influxdb.env", "0600", "created"),
            ("etc/telegraf.conf", "0644", "replaced"),
            ("units/certtool-renew-influxdb.service", "0644", "created"),
            ("units/certtool-renew-influxdb.timer", "0644", "created"),
        ],
        "{report:#}"
    );
    let telegraf = fs::read_to_string(env.path("etc/telegraf.conf")).unwrap();
    assert!(
        telegraf.contains(&format!("urls = [\"https://localhost:{port}\"]"))
            && telegraf.contains("tls_ca = ")
            && telegraf.matches("[[outputs.influxdb]]").count() == 1,
        "{telegraf}"
    );
    // What verify said, from the outside: curl with the certificate, a token from the env file.
    let cert = env.path("ssl/influxdb.crt");
    let token = stdout(&env.ok(&[
        "jwt",
        "mint",
        "--user",
        "admin",
        "--secret-file",
        "etc/influxdb.env",
    ]));
    assert_eq!(query_status(&cert, port, Some(&token)), "200");
    assert_eq!(query_status(&cert, port, None), "401");

    // The same run again: every step unchanged, files byte-identical, no reload.
    let before = snapshot(&env);
    let (code, report, err) = provision(&env, "etc/influxdb.conf", &[]);
    assert_eq!(code, Some(0), "{report:#}{err}");
    assert_eq!(report["changed"], false, "{report:#}");
    for (name, status) in statuses(&report) {
        assert!(status == "unchanged", "{name}: {status} in {report:#}");
    }
    assert_eq!(snapshot(&env), before);
    assert_eq!(
        fs::read_to_string(env.path("reloads"))
            .unwrap()
            .lines()
            .count(),
        1
    );

    // Another host: only the certificate is issued again (old one kept as .bak), and reloaded.
    let (code, report, err) = provision(&env, "etc/influxdb.conf", &["--host", "influx.test"]);
    assert_eq!(code, Some(0), "{report:#}{err}");
    assert_eq!(status_of(&report, "certificate"), "changed", "{report:#}");
    assert_eq!(status_of(&report, "config"), "unchanged", "{report:#}");
    assert_eq!(status_of(&report, "reload"), "changed");
    assert_eq!(status_of(&report, "verify"), "unchanged");
    assert!(env.path("ssl/influxdb.crt.bak").exists());
    let after = snapshot(&env);
    assert_ne!(after[0], before[0]);
    assert_eq!(after[2..], before[2..], "config and env file untouched");
}

#[test]
fn a_failed_step_leaves_the_earlier_ones_done_and_a_rerun_finishes() {
    let root = nix::unistd::Uid::effective().is_root();
    if !(require(root, "root (to mount a read-only tmpfs)") && require_tool("influxd")) {
        return;
    }
    let env = TestEnv::new();
    let etc = env.path("etc");
    setup(&env, &etc);
    // The config on a file system mounted read-only.
    let ro = env.path("ro");
    fs::create_dir(&ro).unwrap();
    let mount = |opts: &str| {
        Command::new("mount")
            .args(["-t", "tmpfs", "-o", opts, "certtool-test"])
            .arg(&ro)
            .status()
            .unwrap()
            .success()
    };
    assert!(mount("size=1m"));
    let unmount = scopeguard(&ro);
    fs::copy(etc.join("influxdb.conf"), ro.join("influxdb.conf")).unwrap();
    assert!(
        Command::new("mount")
            .args(["-o", "remount,ro"])
            .arg(&ro)
            .status()
            .unwrap()
            .success()
    );
    let run = || {
        let out = env.certtool(&[
            "provision",
            "influxdb",
            "--host",
            "localhost",
            "--out-dir",
            "ssl",
            "--config",
            "ro/influxdb.conf",
            "--auth",
            "--json",
        ]);
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        (out.status.code(), report)
    };
    let (code, report) = run();
    assert_eq!(code, Some(2), "{report:#}");
    assert_eq!(report["ok"], false);
    assert_eq!(status_of(&report, "certificate"), "created");
    assert_eq!(status_of(&report, "config"), "failed", "{report:#}");
    assert_eq!(
        statuses(&report).last().unwrap().0,
        "config",
        "later steps are not run: {report:#}"
    );
    assert!(env.path("ssl/influxdb.key").exists() && env.path("ssl/influxdb.crt").exists());
    assert_eq!(
        fs::read_to_string(ro.join("influxdb.conf")).unwrap(),
        fs::read_to_string(etc.join("influxdb.conf")).unwrap()
    );
    // Fixed: the re-run finishes the job, keeping the certificate it made.
    assert!(
        Command::new("mount")
            .args(["-o", "remount,rw"])
            .arg(&ro)
            .status()
            .unwrap()
            .success()
    );
    let (code, report) = run();
    assert_eq!(code, Some(0), "{report:#}");
    assert_eq!(status_of(&report, "certificate"), "unchanged", "{report:#}");
    assert_eq!(status_of(&report, "config"), "changed", "{report:#}");
    assert!(
        fs::read_to_string(ro.join("influxdb.conf"))
            .unwrap()
            .contains("https-enabled = true")
    );
    drop(unmount);
}

/// Unmounts `dir` when dropped.
fn scopeguard(dir: &Path) -> impl Drop + '_ {
    struct Unmount<'a>(&'a Path);
    impl Drop for Unmount<'_> {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg(self.0).status();
        }
    }
    Unmount(dir)
}

/// A script that (re)starts `command` by PID, for `--reload`.
fn restart_script(env: &TestEnv, name: &str, command: &str) -> String {
    let dir = env.dir.path().display();
    let script = format!(
        "#!/bin/sh\nif [ -f {dir}/{name}.pid ]; then kill $(cat {dir}/{name}.pid) 2>/dev/null || true; \
         while kill -0 $(cat {dir}/{name}.pid) 2>/dev/null; do sleep 0.1; done; fi\n\
         {command} > {dir}/{name}.log 2>&1 &\necho $! > {dir}/{name}.pid\n"
    );
    let path = env.path(&format!("restart-{name}.sh"));
    fs::write(&path, script).unwrap();
    crate::support::set_mode(&path, 0o755);
    path.display().to_string()
}

/// Stops what a restart script started.
struct Started<'a>(&'a TestEnv, &'static str);

impl Drop for Started<'_> {
    fn drop(&mut self) {
        if let Ok(pid) = fs::read_to_string(self.0.path(&format!("{}.pid", self.1))) {
            let _ = Command::new("kill")
                .arg(pid.trim())
                .stderr(Stdio::null())
                .status();
        }
    }
}

#[test]
fn provision_prometheus_with_basic_auth_scrapes_itself_over_tls() {
    let shipped = Path::new("/etc/prometheus/prometheus.yml");
    if !(require_tool("prometheus")
        && require_tool("promtool")
        && require_tool("curl")
        && require(shipped.exists(), "Debian's /etc/prometheus/prometheus.yml"))
    {
        return;
    }
    let env = TestEnv::new();
    let port = free_port();
    let yml = fs::read_to_string(shipped)
        .unwrap()
        .replace("localhost:9090", &format!("localhost:{port}"));
    env.write("prometheus.yml", yml);
    env.write("prom.password", "a-long-enough-password-0123456789\n");
    crate::support::set_mode(&env.path("prom.password"), 0o600);
    let dir = env.dir.path().display().to_string();
    let reload = restart_script(
        &env,
        "prometheus",
        &format!(
            "prometheus --config.file={dir}/prometheus.yml --web.config.file={dir}/web.yml \
             --web.listen-address=127.0.0.1:{port} --storage.tsdb.path={dir}/tsdb"
        ),
    );
    let _prometheus = Started(&env, "prometheus");
    let port_s = port.to_string();
    let args = [
        "provision",
        "prometheus",
        "--host",
        "localhost",
        "--out-dir",
        "ssl",
        "--web-config",
        "web.yml",
        "--config",
        "prometheus.yml",
        "--job",
        "prometheus",
        "--basic-auth-user",
        "prom",
        "--secret-file",
        "prom.password",
        "--bcrypt-cost",
        "4",
        "--port",
        &port_s,
        "--reload",
        &reload,
        "--verify",
        "--json",
    ];
    let json = |out: &std::process::Output| -> serde_json::Value {
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(out)))
    };
    let out = env.certtool(&args);
    let report = json(&out);
    assert_eq!(out.status.code(), Some(0), "{report:#}");
    for (step, status) in [
        ("certificate", "created"),
        ("web config", "created"),
        ("scrape job", "changed"),
        ("reload", "changed"),
        ("verify", "unchanged"),
    ] {
        assert_eq!(status_of(&report, step), status, "{report:#}");
    }
    // What promtool makes of the files.
    for args in [
        ["check", "web-config", "web.yml"],
        ["check", "config", "prometheus.yml"],
    ] {
        let out = Command::new("promtool")
            .args(args)
            .current_dir(env.dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}{}",
            stdout(&out),
            stderr(&out)
        );
    }
    // Again: nothing changes (the password's hash is kept), nothing restarts.
    let before = fs::read(env.path("web.yml")).unwrap();
    let out = env.certtool(&args);
    let report = json(&out);
    assert_eq!(report["changed"], false, "{report:#}");
    assert_eq!(fs::read(env.path("web.yml")).unwrap(), before);
    // Prometheus scrapes itself over TLS with basic auth: up == 1.
    let up = crate::support::prometheus_up_as(
        &env.path("ssl/prometheus.crt"),
        port,
        "prometheus",
        Some("prom:a-long-enough-password-0123456789"),
    );
    assert!(up.contains(r#","1"]"#), "{up}");
}

#[test]
fn provision_node_exporter_tls_then_basic_auth_through_debians_args() {
    if !(require_tool("prometheus-node-exporter") && require_tool("curl")) {
        return;
    }
    let env = TestEnv::new();
    let port = free_port();
    env.write("node.password", "node-password-0123456789abcdef\n");
    crate::support::set_mode(&env.path("node.password"), 0o600);
    // Debian's unit: EnvironmentFile=/etc/default/prometheus-node-exporter, ExecStart=... $ARGS.
    env.write(
        "node.env",
        "# Set the command-line arguments to pass to the server.\nARGS=\"\"\n",
    );
    let dir = env.dir.path().display().to_string();
    let reload = restart_script(
        &env,
        "node",
        &format!(
            "(. {dir}/node.env; exec prometheus-node-exporter --web.listen-address=127.0.0.1:{port} \
             --collector.disable-defaults --collector.time $ARGS)"
        ),
    );
    let _node = Started(&env, "node");
    let port_s = port.to_string();
    let provision = |extra: &[&str]| {
        let args = [
            "provision",
            "node-exporter",
            "--host",
            "localhost",
            "--out-dir",
            "ssl",
            "--web-config",
            "node-web.yml",
            "--env-file",
            "node.env",
            "--port",
            &port_s,
            "--reload",
            &reload,
            "--verify",
        ];
        let out = env.certtool(&[&args[..], extra].concat());
        let text = stdout(&out);
        assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
        text
    };
    // TLS only: ARGS gets the flag, and anyone with the CA gets the metrics.
    let text = provision(&[]);
    assert!(text.contains("changed    env file"), "{text}");
    assert!(text.contains("tls ok, GET /metrics: 200"), "{text}");
    let args = fs::read_to_string(env.path("node.env")).unwrap();
    assert!(
        args.contains(&format!("ARGS=\"--web.config.file={dir}/node-web.yml\"")),
        "{args}"
    );
    // Then basic auth: only the web config changes; strangers get 401.
    let text = provision(&[
        "--basic-auth-user",
        "prom",
        "--secret-file",
        "node.password",
        "--bcrypt-cost",
        "4",
    ]);
    assert!(text.contains("unchanged  env file"), "{text}");
    assert!(text.contains("changed    web config"), "{text}");
    assert!(
        text.contains("GET /metrics: 401 without credentials, 200 as prom"),
        "{text}"
    );
    basic_auth_is_enforced(&env, port);
}

/// curl and `verify --url` against node exporter with basic auth for prom: 401 without the
/// password or with a wrong one, 200 with it.
fn basic_auth_is_enforced(env: &TestEnv, port: u16) {
    let code = |user: Option<&str>| {
        let mut curl = Command::new("curl");
        curl.args([
            "--silent",
            "--output",
            "/dev/null",
            "--write-out",
            "%{http_code}",
            "--cacert",
        ])
        .arg(env.path("ssl/node-exporter.crt"))
        .arg(format!("https://localhost:{port}/metrics"));
        if let Some(user) = user {
            curl.args(["-u", user]);
        }
        stdout(&curl.output().unwrap())
    };
    assert_eq!(code(None), "401");
    assert_eq!(code(Some("prom:wrong")), "401");
    assert_eq!(code(Some("prom:node-password-0123456789abcdef")), "200");
    // verify --url learns basic auth: 200 with the password, 401 without.
    let url = format!("https://localhost:{port}");
    let probe = [
        "verify",
        "--url",
        &url,
        "--ca",
        "ssl/node-exporter.crt",
        "--kind",
        "tls",
        "--basic-auth-user",
        "prom",
    ];
    let out = env.certtool(&[&probe[..], &["--secret-file", "node.password"]].concat());
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains("auth enforced"), "{}", stdout(&out));
    env.write("wrong.password", "not-the-password-0123456789abcdef\n");
    crate::support::set_mode(&env.path("wrong.password"), 0o600);
    let out = env.certtool(&[&probe[..], &["--secret-file", "wrong.password"]].concat());
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
}

#[test]
fn a_lifetime_inside_the_renewal_window_is_refused_before_anything_is_done() {
    let env = TestEnv::new();
    env.write("influxdb.conf", "[http]\n");
    let out = env.certtool(&[
        "provision",
        "influxdb",
        "--host",
        "localhost",
        "--out-dir",
        "ssl",
        "--config",
        "influxdb.conf",
        "--days",
        "30",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("always due for renewal"),
        "{}",
        stdout(&out)
    );
    // The failure is also the one error line on stderr, even with --quiet.
    let err = stderr(&out);
    assert!(
        err.starts_with("certtool: error: provision stopped at the plan step")
            && err.lines().count() == 1,
        "{err}"
    );
    let quiet = env.certtool(&[
        "provision",
        "influxdb",
        "--host",
        "localhost",
        "--out-dir",
        "ssl",
        "--config",
        "influxdb.conf",
        "--days",
        "30",
        "-q",
    ]);
    assert!(
        quiet.stdout.is_empty() && stderr(&quiet).contains("always due"),
        "{}",
        stderr(&quiet)
    );
    assert!(!env.path("ssl").exists());
}
