//! `certtool audit`: Debian's packaged influxdb.conf as it ships (every default finding) and
//! after certtool configured it (all ok); one crafted config per finding; the live view of a
//! real influxd, prometheus and node exporter with and without authentication; Telegraf
//! configs parsed as TOML.

use std::fs;
use std::path::Path;

use crate::support::{TestEnv, require, require_tool, set_mode, start_influxd, stderr, stdout};

/// `certtool --json audit ARGS`: the exit code and each finding's (name, severity).
fn audit(env: &TestEnv, args: &[&str]) -> (i32, Vec<(String, String)>, serde_json::Value) {
    let out = env.certtool(&[&["--json", "audit"][..], args].concat());
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", stdout(&out), stderr(&out)));
    let findings = report["checks"]
        .as_array()
        .unwrap_or_else(|| panic!("{report:#}"))
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_owned(),
                c["severity"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    (out.status.code().unwrap_or(-1), findings, report)
}

fn severity_of(findings: &[(String, String)], name: &str) -> String {
    findings
        .iter()
        .find(|(n, _)| n == name)
        .map_or_else(|| panic!("no {name} in {findings:?}"), |(_, s)| s.clone())
}

fn me() -> String {
    nix::unistd::User::from_uid(nix::unistd::geteuid())
        .unwrap()
        .unwrap()
        .name
}

#[test]
fn debians_influxdb_conf_as_shipped_then_after_certtool() {
    let packaged = Path::new("/etc/influxdb/influxdb.conf");
    if !require(
        packaged.exists(),
        "Debian's influxdb package (/etc/influxdb/influxdb.conf)",
    ) {
        return;
    }
    let env = TestEnv::new();
    fs::copy(packaged, env.path("influxdb.conf")).unwrap();
    let (code, findings, _) = audit(&env, &["influxdb", "--config", "influxdb.conf"]);
    assert_eq!(code, 1);
    for (name, severity) in [
        ("influxdb.https", "fail"),
        ("influxdb.auth", "fail"),
        ("influxdb.rpc-bind", "ok"),
        ("influxdb.pprof", "warn"),
        ("influxdb.api-bind", "warn"),
    ] {
        assert_eq!(
            severity_of(&findings, name),
            severity,
            "{name}: {findings:?}"
        );
    }
    // The text: one line per finding, the why and the fixing command with it.
    let text = stdout(&env.certtool(&["audit", "influxdb", "--config", "influxdb.conf"]));
    insta::assert_snapshot!("audit_debian_influxdb_conf", text);

    // certtool's own HTTPS and auth, the secret in an env file: nothing left to report.
    env.selfsigned(&["--host", "localhost", "--name", "influxdb"]);
    env.ok(&["secret", "generate", "--out", "shared.secret"]);
    env.ok(&[
        "config",
        "influxdb",
        "--cert",
        "influxdb.crt",
        "--key",
        "influxdb.key",
        "--auth",
        "--secret-file",
        "shared.secret",
        "--env-file",
        "influxdb.env",
        "--in-place",
        "influxdb.conf",
    ]);
    let user = me();
    let (code, findings, report) = audit(
        &env,
        &[
            "influxdb",
            "--config",
            "influxdb.conf",
            "--env-file",
            "influxdb.env",
            "--service-user",
            &user,
            "--host",
            "localhost",
            "--strict",
        ],
    );
    assert_eq!(code, 0, "{report:#}");
    assert!(findings.iter().all(|(_, s)| s == "ok"), "{findings:?}");
}

/// A config with `http` lines in `[http]` and `top` lines above it, audited alone.
fn influxdb_finding(env: &TestEnv, top: &str, http: &str, extra: &[&str], name: &str) -> String {
    env.write("crafted.conf", format!("{top}\n[http]\n{http}\n"));
    set_mode(&env.path("crafted.conf"), 0o600);
    let (_, findings, _) = audit(
        env,
        &[&["influxdb", "--config", "crafted.conf"][..], extra].concat(),
    );
    severity_of(&findings, name)
}

#[test]
fn each_influxdb_finding_from_a_config_crafted_for_it() {
    let env = TestEnv::new();
    env.selfsigned(&["--host", "localhost", "--name", "good"]);
    env.expired("old.test");
    let https = |cert: &str, key: &str| {
        format!(
            "https-enabled = true\nhttps-certificate = \"{cert}\"\nhttps-private-key = \"{key}\""
        )
    };
    let dir = env.dir.path().display().to_string();
    let good = https(&format!("{dir}/good.crt"), &format!("{dir}/good.key"));
    let user = me();
    let as_me = ["--service-user", user.as_str()];
    assert_eq!(
        influxdb_finding(&env, "", &good, &as_me, "influxdb.tls-files"),
        "ok"
    );
    assert_eq!(
        influxdb_finding(
            &env,
            "",
            &https(&format!("{dir}/missing.crt"), &format!("{dir}/good.key")),
            &[],
            "influxdb.tls-files"
        ),
        "fail"
    );
    assert_eq!(
        influxdb_finding(
            &env,
            "",
            &https(
                &format!("{dir}/old.test.crt"),
                &format!("{dir}/old.test.key")
            ),
            &[],
            "influxdb.tls-expiry"
        ),
        "fail"
    );
    assert_eq!(
        influxdb_finding(
            &env,
            "",
            &good,
            &["--host", "other.test"],
            "influxdb.tls-names"
        ),
        "fail"
    );
    set_mode(&env.path("good.key"), 0o644);
    assert_eq!(
        influxdb_finding(&env, "", &good, &as_me, "influxdb.key-mode"),
        "fail"
    );
    set_mode(&env.path("good.key"), 0o600);
    assert_eq!(
        influxdb_finding(&env, "", &good, &as_me, "influxdb.key-mode"),
        "ok"
    );
}

#[test]
fn each_influxdb_secret_finding_from_a_config_crafted_for_it() {
    let env = TestEnv::new();
    // The shared secret: blank (CVE-2019-20933), short, in a config every user reads.
    assert_eq!(
        influxdb_finding(
            &env,
            "",
            "auth-enabled = true",
            &[],
            "influxdb.shared-secret"
        ),
        "fail"
    );
    assert_eq!(
        influxdb_finding(
            &env,
            "",
            "auth-enabled = true\nshared-secret = \"short\"",
            &[],
            "influxdb.shared-secret"
        ),
        "warn"
    );
    let long = "auth-enabled = true\nshared-secret = \"0123456789abcdef0123456789abcdef\"";
    assert_eq!(
        influxdb_finding(&env, "", long, &[], "influxdb.secret-in-config"),
        "warn"
    );
    env.write("crafted.conf", format!("[http]\n{long}\n"));
    set_mode(&env.path("crafted.conf"), 0o644);
    let (_, findings, _) = audit(&env, &["influxdb", "--config", "crafted.conf"]);
    assert_eq!(severity_of(&findings, "influxdb.secret-in-config"), "fail");
    // The environment file overrides the config, as influxd reads it; a readable one fails.
    env.write("influxd.env", "INFLUXDB_HTTP_AUTH_ENABLED=true\nINFLUXDB_HTTP_SHARED_SECRET=0123456789abcdef0123456789abcdef\n");
    set_mode(&env.path("influxd.env"), 0o644);
    let env_file = ["--env-file", "influxd.env"];
    assert_eq!(
        influxdb_finding(&env, "", "auth-enabled = false", &env_file, "influxdb.auth"),
        "ok"
    );
    assert_eq!(
        influxdb_finding(&env, "", "", &env_file, "influxdb.secret-file"),
        "fail"
    );
}

#[test]
fn each_influxdb_port_and_directory_finding_from_a_config_crafted_for_it() {
    let env = TestEnv::new();
    let dir = env.dir.path().display().to_string();
    // The RPC port, debug endpoints, data at rest.
    assert_eq!(
        influxdb_finding(
            &env,
            "bind-address = \":8088\"",
            "",
            &[],
            "influxdb.rpc-bind"
        ),
        "fail"
    );
    assert_eq!(
        influxdb_finding(
            &env,
            "",
            "debug-pprof-enabled = true",
            &[],
            "influxdb.debug-pprof"
        ),
        "warn"
    );
    assert_eq!(
        influxdb_finding(&env, "", "pprof-enabled = false", &[], "influxdb.pprof"),
        "ok"
    );
    fs::create_dir(env.path("data")).unwrap();
    set_mode(&env.path("data"), 0o755);
    let data = format!("[data]\n  dir = \"{dir}/data\"\n");
    env.write("crafted.conf", format!("{data}[http]\n"));
    let (_, findings, _) = audit(&env, &["influxdb", "--config", "crafted.conf"]);
    assert_eq!(severity_of(&findings, "influxdb.data-dir"), "warn");
    set_mode(&env.path("data"), 0o700);
    let (_, findings, _) = audit(&env, &["influxdb", "--config", "crafted.conf"]);
    assert_eq!(severity_of(&findings, "influxdb.data-dir"), "ok");

    // Not an InfluxDB 1.x config: an input error, exit 2.
    env.write("v2.toml", "http-bind-address = \":8086\"\n");
    let out = env.certtool(&["audit", "influxdb", "--config", "v2.toml"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

#[test]
fn a_live_influxd_with_and_without_auth() {
    if !(require_tool("influxd") && require_tool("curl")) {
        return;
    }
    let env = TestEnv::new();
    env.selfsigned(&[
        "--host",
        "localhost",
        "--host",
        "127.0.0.1",
        "--name",
        "influx",
    ]);
    let dir = env.dir.path().display().to_string();
    let tls = format!(
        "  https-enabled = true\n  https-certificate = \"{dir}/influx.crt\"\n  https-private-key = \"{dir}/influx.key\"\n"
    );
    for (auth, severity) in [(false, "fail"), (true, "ok")] {
        let settings = if auth {
            format!("{tls}  auth-enabled = true\n")
        } else {
            tls.clone()
        };
        let server = start_influxd(&env, &settings);
        let url = format!("https://localhost:{}", server.port);
        let config = format!("influxdb-{}.conf", server.port);
        let (_, findings, report) = audit(
            &env,
            &[
                "influxdb",
                "--config",
                &config,
                "--url",
                &url,
                "--ca",
                "influx.crt",
            ],
        );
        assert_eq!(severity_of(&findings, "live.tls"), "ok", "{report:#}");
        let live_auth = severity_of(&findings, "live.auth");
        let live_auth = live_auth.as_str();
        // With auth on and no user yet, influxd refuses the query: not a failure either.
        assert!(
            if auth {
                live_auth != "fail"
            } else {
                live_auth == severity
            },
            "auth {auth}: {report:#}"
        );
        // The RPC port is bound on loopback by the test's influxd: reported, not failed.
        assert_eq!(
            severity_of(&findings, "influxdb.rpc-reachable"),
            "ok",
            "{report:#}"
        );
    }
}

#[test]
fn prometheus_web_configs_and_scrape_jobs() {
    if !require_tool("openssl") {
        return;
    }
    let env = TestEnv::new();
    env.selfsigned(&["--host", "localhost", "--name", "prom"]);
    let user = me();
    let web = |extra: &str| {
        env.write(
            "web.yml",
            format!("tls_server_config:\n  cert_file: prom.crt\n  key_file: prom.key\n{extra}"),
        );
    };
    let finding = |args: &[&str], name: &str| {
        let (_, findings, _) = audit(
            &env,
            &[
                &[
                    "prometheus",
                    "--web-config",
                    "web.yml",
                    "--service-user",
                    &user,
                ][..],
                args,
            ]
            .concat(),
        );
        severity_of(&findings, name)
    };
    // promtool accepts an empty web config; it serves plain HTTP.
    env.write("web.yml", "");
    assert_eq!(finding(&[], "web.tls"), "fail");
    // A file that is no YAML mapping is not a web config at all: bad input, exit 2.
    env.write("not-yaml-map.yml", "garbage\n");
    let out = env.certtool(&["audit", "prometheus", "--web-config", "not-yaml-map.yml"]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("holds no YAML mapping"),
        "{}",
        stderr(&out)
    );
    web("");
    assert_eq!(finding(&[], "web.tls"), "ok");
    assert_eq!(finding(&[], "web.min-version"), "ok");
    assert_eq!(finding(&[], "web.basic-auth"), "warn");
    web("  min_version: TLS11\n");
    assert_eq!(finding(&[], "web.min-version"), "fail");
    let hash10 = bcrypt::hash("pw-0123456789", 10).unwrap();
    let hash4 = bcrypt::hash("pw-0123456789", 4).unwrap();
    web(&format!("basic_auth_users:\n  prom: \"{hash10}\"\n"));
    assert_eq!(finding(&[], "web.basic-auth"), "ok");
    web(&format!("basic_auth_users:\n  prom: \"{hash4}\"\n"));
    assert_eq!(finding(&[], "web.basic-auth"), "warn");
    web("basic_auth_users:\n  prom: \"plain-password\"\n");
    assert_eq!(finding(&[], "web.basic-auth"), "fail");

    // prometheus.yml: insecure_skip_verify, and http to a target that serves https.
    let tls_target = crate::support::openssl_server(&env.path("prom.crt"), &env.path("prom.key"));
    env.write(
        "prometheus.yml",
        format!(
            "scrape_configs:\n  - job_name: lax\n    scheme: https\n    tls_config:\n      insecure_skip_verify: true\n    static_configs:\n      - targets: ['localhost:1']\n  - job_name: plain\n    static_configs:\n      - targets: ['127.0.0.1:{}']\n",
            tls_target.port
        ),
    );
    assert_eq!(
        finding(
            &["--config", "prometheus.yml"],
            "prometheus.insecure-skip-verify"
        ),
        "fail"
    );
    assert_eq!(
        finding(
            &["--config", "prometheus.yml", "--allow-insecure"],
            "prometheus.insecure-skip-verify"
        ),
        "warn"
    );
    let (_, findings, report) = audit(
        &env,
        &[
            "prometheus",
            "--web-config",
            "web.yml",
            "--config",
            "prometheus.yml",
        ],
    );
    assert!(
        findings.contains(&("prometheus.scrape-scheme".to_owned(), "warn".to_owned())),
        "{report:#}"
    );
}

#[test]
fn live_prometheus_and_node_exporter_with_and_without_basic_auth() {
    if !(require_tool("prometheus") && require_tool("prometheus-node-exporter")) {
        return;
    }
    let env = TestEnv::new();
    env.selfsigned(&["--host", "localhost", "--name", "prom"]);
    let web = |extra: &str| {
        env.write(
            "web.yml",
            format!("tls_server_config:\n  cert_file: prom.crt\n  key_file: prom.key\n{extra}"),
        );
    };
    let hash4 = bcrypt::hash("pw-0123456789", 4).unwrap();
    // Live: a real Prometheus with basic auth refuses strangers (401).
    web(&format!("basic_auth_users:\n  prom: \"{hash4}\"\n"));
    env.write(
        "web-config.yml",
        fs::read_to_string(env.path("web.yml")).unwrap(),
    );
    let server = crate::support::start_prometheus(&env, "");
    let url = format!("https://localhost:{}", server.port);
    let args = [
        "prometheus",
        "--web-config",
        "web.yml",
        "--url",
        &url,
        "--ca",
        "prom.crt",
    ];
    let (_, findings, report) = audit(&env, &args);
    assert_eq!(severity_of(&findings, "live.tls"), "ok", "{report:#}");
    assert!(
        findings.contains(&("live.auth".to_owned(), "ok".to_owned())),
        "{report:#}"
    );

    // Live: node exporter without basic auth serves anyone (warn), with TLS.
    web("");
    let node = crate::support::start_server(|port| {
        let mut cmd = std::process::Command::new("prometheus-node-exporter");
        cmd.arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg(format!(
                "--web.config.file={}",
                env.path("web.yml").display()
            ))
            .args(["--collector.disable-defaults", "--collector.time"]);
        cmd
    });
    let url = format!("https://localhost:{}", node.port);
    let args = [
        "node-exporter",
        "--web-config",
        "web.yml",
        "--url",
        &url,
        "--ca",
        "prom.crt",
    ];
    let (_, findings, report) = audit(&env, &args);
    assert_eq!(severity_of(&findings, "live.tls"), "ok", "{report:#}");
    assert!(
        findings.contains(&("live.auth".to_owned(), "warn".to_owned())),
        "{report:#}"
    );
    // exporter-toolkit reads the web config at every request: with users, strangers get 401.
    web(&format!("basic_auth_users:\n  prom: \"{hash4}\"\n"));
    let args = [
        "node-exporter",
        "--web-config",
        "web.yml",
        "--url",
        &url,
        "--ca",
        "prom.crt",
    ];
    let (_, findings, report) = audit(&env, &args);
    assert!(
        findings.contains(&("live.auth".to_owned(), "ok".to_owned())),
        "{report:#}"
    );
    // And Prometheus without users serves anyone: a warning.
    web("");
    env.write(
        "web-config.yml",
        fs::read_to_string(env.path("web.yml")).unwrap(),
    );
    let url = format!("https://localhost:{}", server.port);
    let args = [
        "prometheus",
        "--web-config",
        "web-config.yml",
        "--url",
        &url,
        "--ca",
        "prom.crt",
    ];
    let (_, findings, report) = audit(&env, &args);
    assert_eq!(severity_of(&findings, "live.service"), "ok", "{report:#}");
    assert!(
        findings.contains(&("live.auth".to_owned(), "warn".to_owned())),
        "{report:#}"
    );
}

#[test]
fn telegraf_outputs_parsed_as_toml() {
    if !require_tool("influxd") {
        return;
    }
    let env = TestEnv::new();
    env.selfsigned(&["--host", "localhost", "--name", "influx"]);
    env.selfsigned(&["--host", "localhost", "--name", "other"]);
    let dir = env.dir.path().display().to_string();
    let server = start_influxd(
        &env,
        &format!(
            "  https-enabled = true\n  https-certificate = \"{dir}/influx.crt\"\n  https-private-key = \"{dir}/influx.key\"\n"
        ),
    );
    let finding = |conf: &str, extra: &[&str], name: &str| {
        env.write("telegraf.conf", conf);
        let (_, findings, report) = audit(
            &env,
            &[&["telegraf", "--config", "telegraf.conf"][..], extra].concat(),
        );
        findings
            .iter()
            .find(|(n, _)| n == name)
            .map_or_else(|| panic!("no {name}: {report:#}"), |(_, s)| s.clone())
    };
    let port = server.port;
    let url = format!("https://localhost:{port}");
    // http to a server that serves https on that port: said so.
    let http = format!("[[outputs.influxdb]]\n  urls = [\"http://127.0.0.1:{port}\"]\n");
    assert_eq!(finding(&http, &[], "telegraf.url"), "warn");
    let lax =
        format!("[[outputs.influxdb]]\n  urls = [\"{url}\"]\n  insecure_skip_verify = true\n");
    assert_eq!(finding(&lax, &[], "telegraf.insecure-skip-verify"), "fail");
    let literal = format!(
        "[[outputs.influxdb]]\n  urls = [\"{url}\"]\n  username = \"t\"\n  password = \"hunter2\"\n"
    );
    assert_eq!(finding(&literal, &[], "telegraf.password"), "warn");
    let from_env = literal.replace("hunter2", "${INFLUX_PASSWORD}");
    assert_eq!(finding(&from_env, &[], "telegraf.password"), "ok");
    let ca = |file: &str| {
        format!("[[outputs.influxdb]]\n  urls = [\"{url}\"]\n  tls_ca = \"{dir}/{file}\"\n")
    };
    assert_eq!(finding(&ca("missing.crt"), &[], "telegraf.tls-ca"), "fail");
    assert_eq!(
        finding(&ca("influx.crt"), &["--url", &url], "telegraf.tls-ca"),
        "ok"
    );
    assert_eq!(
        finding(&ca("other.crt"), &["--url", &url], "telegraf.tls-ca"),
        "fail"
    );
    // No [[outputs.influxdb]]: nothing to report but that.
    assert_eq!(finding("[agent]\n", &[], "telegraf.outputs"), "ok");
}
