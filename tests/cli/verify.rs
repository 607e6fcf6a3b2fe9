//! `certtool verify`: the integrated server for every key type and every failure class, checked
//! from outside by OpenSSL, curl, Python and GnuTLS; `--url` against real `openssl s_server`,
//! influxd (with and without auth) and prometheus; `--launch` of the real servers.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::support::{
    Server, TestEnv, curl_ok, free_port, gnutls_ok, openssl, openssl_server, python_ok,
    require_tool, run, start_influxd, start_prometheus, start_server, stderr, stdout,
};

fn verify_json(env: &TestEnv, args: &[&str]) -> (i32, serde_json::Value) {
    let mut all = vec!["verify", "--json"];
    all.extend(args);
    let out = env.certtool(&all);
    let code = out.status.code().unwrap();
    let value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", stdout(&out), stderr(&out)));
    (code, value)
}

/// Whether `check` failed with a detail containing `text`.
fn has_failure(report: &serde_json::Value, check: &str, text: &str) -> bool {
    failures(report)
        .iter()
        .any(|(c, d)| c == check && d.contains(text))
}

/// The failed checks as (check, detail).
fn failures(report: &serde_json::Value) -> Vec<(String, String)> {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["ok"] == false)
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_owned(),
                c["detail"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn good_pairs_pass_for_every_key_type_with_tls_12_and_13() {
    for key_type in [
        "ecdsa-p256",
        "ecdsa-p384",
        "ed25519",
        "rsa-2048",
        "rsa-3072",
        "rsa-4096",
    ] {
        let env = TestEnv::new();
        env.selfsigned(&[
            "--host",
            "localhost",
            "--host",
            "127.0.0.1",
            "--key-type",
            key_type,
        ]);
        let (code, report) =
            verify_json(&env, &["--cert", "localhost.crt", "--key", "localhost.key"]);
        assert_eq!(code, 0, "{key_type}: {report:#}");
        let handshakes: Vec<&serde_json::Value> = report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["name"] == "handshake")
            .collect();
        assert_eq!(handshakes.len(), 4, "two hosts, two versions: {report:#}");
        let protocols: Vec<&str> = handshakes
            .iter()
            .map(|h| h["protocol"].as_str().unwrap())
            .collect();
        assert_eq!(
            protocols,
            ["TLSv1.3", "TLSv1.2", "TLSv1.3", "TLSv1.2"],
            "{key_type}"
        );
        assert!(
            handshakes
                .iter()
                .all(|h| h["handshake_ms"].as_f64().unwrap() > 0.0)
        );
        // The server's order, as Go servers choose: AES-128-GCM, though rustls clients list
        // AES-256-GCM first.
        let suites: Vec<&str> = handshakes
            .iter()
            .map(|h| h["cipher_suite"].as_str().unwrap())
            .collect();
        assert_eq!(suites[0], "TLS13_AES_128_GCM_SHA256", "{key_type}");
        assert!(
            suites[1].starts_with("TLS_ECDHE_") && suites[1].ends_with("_WITH_AES_128_GCM_SHA256"),
            "{key_type}: {suites:?}"
        );
        assert_eq!(report["chain"][0]["subject"], "CN=localhost");
    }
}

#[test]
fn ca_issued_chains_and_wildcards_pass_with_the_ca() {
    let env = TestEnv::new();
    env.ca(&[]);
    env.issue(&[
        "--host",
        "*.example.test",
        "--host",
        "127.0.0.1",
        "--name",
        "leaf",
    ]);
    let (code, report) = verify_json(
        &env,
        &["--cert", "leaf.crt", "--key", "leaf.key", "--ca", "ca.crt"],
    );
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(
        report["chain"].as_array().unwrap().len(),
        2,
        "leaf and CA served"
    );
    let (code, report) = verify_json(
        &env,
        &[
            "--cert",
            "leaf.crt",
            "--key",
            "leaf.key",
            "--ca",
            "ca.crt",
            "--host",
            "influx.example.test",
        ],
    );
    assert_eq!(code, 0, "{report:#}");
    for key_type in ["ecdsa-p384", "ed25519", "rsa-2048"] {
        env.issue(&[
            "--host",
            "localhost",
            "--key-type",
            key_type,
            "--name",
            key_type,
        ]);
        let (cert, key) = (format!("{key_type}.crt"), format!("{key_type}.key"));
        let (code, report) = verify_json(&env, &["--cert", &cert, "--key", &key, "--ca", "ca.crt"]);
        assert_eq!(code, 0, "{key_type}: {report:#}");
    }
    // Without --ca a CA-issued certificate cannot be judged: say which CA is needed.
    let (code, report) = verify_json(&env, &["--cert", "leaf.crt", "--key", "leaf.key"]);
    assert_eq!(code, 1);
    assert!(has_failure(&report, "chain", "--ca"));
}

#[test]
fn each_failure_class_exits_1_with_its_own_reason() {
    let env = TestEnv::new();
    env.selfsigned(&["--host", "localhost"]);
    env.selfsigned(&["--host", "other.test"]);
    env.expired("old.test");
    env.selfsigned(&["--host", "future.test", "--not-before", "2099-01-01"]);
    let cases: [(&[&str], &str, &str); 5] = [
        (
            &["--cert", "localhost.crt", "--key", "other.test.key"],
            "key",
            "does not match",
        ),
        (
            &[
                "--cert",
                "localhost.crt",
                "--key",
                "localhost.key",
                "--ca",
                "other.test.crt",
            ],
            "chain",
            "does not lead to the CA",
        ),
        (
            &[
                "--cert",
                "localhost.crt",
                "--key",
                "localhost.key",
                "--host",
                "elsewhere.test",
            ],
            "name",
            "not in the certificate's names",
        ),
        (
            &["--cert", "old.test.crt", "--key", "old.test.key"],
            "validity",
            "expired on 2020-02-01",
        ),
        (
            &["--cert", "future.test.crt", "--key", "future.test.key"],
            "validity",
            "not valid until 2099",
        ),
    ];
    for (args, check, reason) in cases {
        let (code, report) = verify_json(&env, args);
        assert_eq!(code, 1, "{args:?}");
        let failed = failures(&report);
        assert!(
            failed.iter().any(|(c, d)| c == check && d.contains(reason)),
            "{args:?}: {failed:?}"
        );
    }
    // The live handshakes fail for the same reasons, each named.
    let (_, report) = verify_json(&env, &["--cert", "old.test.crt", "--key", "old.test.key"]);
    assert!(
        failures(&report)
            .iter()
            .any(|(c, d)| c == "handshake" && d.starts_with("expired"))
    );
    let (_, report) = verify_json(
        &env,
        &[
            "--cert",
            "localhost.crt",
            "--key",
            "localhost.key",
            "--host",
            "elsewhere.test",
        ],
    );
    assert!(
        failures(&report)
            .iter()
            .any(|(c, d)| c == "handshake" && d.starts_with("name mismatch"))
    );
    // Text output names the failure too.
    let out = env.certtool(&[
        "verify",
        "--cert",
        "localhost.crt",
        "--key",
        "other.test.key",
    ]);
    assert!(stdout(&out).contains("FAIL  key"), "{}", stdout(&out));
}

#[test]
fn an_openssl_ca_true_self_signed_certificate_is_pinned_not_refused() {
    if !require_tool("openssl") {
        return;
    }
    let env = TestEnv::new();
    let out = openssl(
        &[
            "req",
            "-x509",
            "-nodes",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-keyout",
            "o.key",
            "-out",
            "o.crt",
            "-days",
            "30",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost",
        ],
        env.dir.path(),
    );
    assert!(out.status.success());
    let (code, report) = verify_json(&env, &["--cert", "o.crt", "--key", "o.key"]);
    assert_eq!(code, 0, "{report:#}");
}

/// `certtool verify --serve-for` on a fixed port, in the background.
fn serve(env: &TestEnv, cert: &str, key: &str) -> Server {
    start_server(|port| {
        let mut cmd = env.cmd_std();
        cmd.args(["verify", "--cert", cert, "--key", key, "--serve-for", "60s"])
            .arg("--port")
            .arg(port.to_string());
        cmd
    })
}

#[test]
fn the_integrated_server_is_trusted_by_openssl_curl_python_and_gnutls() {
    let tools = ["openssl", "curl", "python3", "gnutls-cli"];
    if !tools.iter().all(|t| require_tool(t)) {
        return;
    }
    let env = TestEnv::new();
    env.selfsigned(&["--host", "localhost", "--host", "127.0.0.1"]);
    let server = serve(&env, "localhost.crt", "localhost.key");
    let cert = env.path("localhost.crt");
    // OpenSSL's client lists AES-256-GCM first; the server picks by its own (Go's) order.
    for (version, cipher) in [
        ("-tls1_3", "TLS_AES_128_GCM_SHA256"),
        ("-tls1_2", "ECDHE-ECDSA-AES128-GCM-SHA256"),
    ] {
        let out = s_client_get(&cert, server.port, version);
        assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
        let text = stdout(&out);
        assert!(text.contains("Verify return code: 0 (ok)"), "{text}");
        assert!(text.contains(&format!("Cipher is {cipher}")), "{text}");
        assert!(text.contains("certtool verify: TLS OK"), "{text}");
    }
    let body = curl_ok(&cert, "localhost", server.port).unwrap();
    assert_eq!(body, "certtool verify: TLS OK\n");
    python_ok(&cert, "127.0.0.1", server.port).unwrap();
    gnutls_ok(&cert, "localhost", server.port).unwrap();
    // Negative control: another certificate is not trusted by them.
    env.selfsigned(&["--host", "other.test"]);
    assert!(curl_ok(&env.path("other.test.crt"), "localhost", server.port).is_err());
}

/// `openssl s_client -verify_return_error` trusting `cert`: one GET for localhost, and the answer
/// up to the server closing the connection.
fn s_client_get(cert: &std::path::Path, port: u16, version: &str) -> std::process::Output {
    let mut s_client = Command::new("openssl")
        .args([
            "s_client",
            version,
            "-ign_eof",
            "-verify_return_error",
            "-CAfile",
        ])
        .arg(cert)
        .args([
            "-servername",
            "localhost",
            "-verify_hostname",
            "localhost",
            "-connect",
        ])
        .arg(format!("127.0.0.1:{port}"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write as _;
        let mut stdin = s_client.stdin.take().unwrap();
        stdin
            .write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
            .unwrap();
    }
    s_client.wait_with_output().unwrap()
}

#[test]
fn url_probe_against_openssl_s_server() {
    if !require_tool("openssl") {
        return;
    }
    let env = TestEnv::new();
    env.selfsigned(&["--host", "localhost"]);
    env.selfsigned(&["--host", "other.test"]);
    let server = openssl_server(&env.path("localhost.crt"), &env.path("localhost.key"));
    let url = format!("https://localhost:{}", server.port);
    let (code, report) = verify_json(
        &env,
        &["--url", &url, "--ca", "localhost.crt", "--kind", "tls"],
    );
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["chain"][0]["subject"], "CN=localhost");
    let (code, report) = verify_json(
        &env,
        &["--url", &url, "--ca", "other.test.crt", "--kind", "tls"],
    );
    assert_eq!(code, 1);
    assert!(failures(&report)[0].1.contains("not trusted"), "{report:#}");
    assert_eq!(
        report["chain"][0]["subject"], "CN=localhost",
        "the served chain is still shown"
    );
    let ip_url = format!("https://127.0.0.1:{}", server.port);
    let (code, report) = verify_json(
        &env,
        &["--url", &ip_url, "--ca", "localhost.crt", "--kind", "tls"],
    );
    assert_eq!(code, 1);
    assert!(
        failures(&report)[0].1.contains("name mismatch"),
        "{report:#}"
    );
    let (code, _) = verify_json(&env, &["--url", &ip_url, "--insecure", "--kind", "tls"]);
    assert_eq!(
        code, 0,
        "--insecure skips verification but still handshakes"
    );
}

fn https_settings(env: &TestEnv) -> String {
    format!(
        "  https-enabled = true\n  https-certificate = \"{}\"\n  https-private-key = \"{}\"\n",
        env.path("localhost.crt").display(),
        env.path("localhost.key").display()
    )
}

const SECRET: &str = "verify-test-shared-secret-0123456789abcdef";

/// A pair for localhost and a shared secret file.
fn influx_env() -> TestEnv {
    let env = TestEnv::new();
    env.selfsigned(&["--host", "localhost", "--host", "127.0.0.1"]);
    env.write("shared.secret", format!("{SECRET}\n"));
    crate::support::set_mode(&env.path("shared.secret"), 0o600);
    env
}

/// `verify --url` with a token for `admin` signed with the secret in `secret_file`.
fn verify_with_token(env: &TestEnv, url: &str, secret_file: &str) -> (i32, serde_json::Value) {
    verify_json(
        env,
        &[
            "--url",
            url,
            "--ca",
            "localhost.crt",
            "--user",
            "admin",
            "--secret-file",
            secret_file,
        ],
    )
}

#[test]
fn url_probe_against_a_real_influxd_without_auth() {
    if !(require_tool("influxd") && require_tool("curl")) {
        return;
    }
    let env = influx_env();
    let open = start_influxd(&env, &https_settings(&env));
    let url = format!("https://localhost:{}", open.port);
    let (code, report) = verify_json(&env, &["--url", &url, "--ca", "localhost.crt"]);
    assert_eq!(code, 0, "{report:#}");
    let service = &report["checks"][1];
    assert!(
        service["detail"]
            .as_str()
            .unwrap()
            .starts_with("InfluxDB 1."),
        "{report:#}"
    );
    // Without --user, whether auth is enforced is still said: a warning, or with
    // --require-auth a failure.
    let auth = &report["checks"][2];
    assert_eq!(auth["name"], "auth", "{report:#}");
    assert_eq!(
        (auth["ok"].as_bool(), auth["warning"].as_bool()),
        (Some(true), Some(true))
    );
    assert!(
        auth["detail"]
            .as_str()
            .unwrap()
            .contains("auth not enforced")
    );
    let text = stdout(&env.ok(&["verify", "--url", &url, "--ca", "localhost.crt"]));
    assert!(text.contains("warn  auth"), "{text}");
    let (code, report) = verify_json(
        &env,
        &["--url", &url, "--ca", "localhost.crt", "--require-auth"],
    );
    assert_eq!(code, 1);
    assert!(
        has_failure(&report, "auth", "auth not enforced"),
        "{report:#}"
    );
    // A token check must report that auth is not enforced.
    let (code, report) = verify_with_token(&env, &url, "shared.secret");
    assert_eq!(code, 1);
    assert!(
        has_failure(&report, "auth", "auth not enforced"),
        "{report:#}"
    );
}

#[test]
fn url_probe_against_a_real_influxd_with_auth() {
    if !(require_tool("influxd") && require_tool("curl")) {
        return;
    }
    let env = influx_env();
    let secured = start_influxd(
        &env,
        &format!(
            "{}  auth-enabled = true\n  shared-secret = \"{SECRET}\"\n",
            https_settings(&env)
        ),
    );
    let url = format!("https://localhost:{}", secured.port);
    let out = run(Command::new("curl")
        .args(["--silent", "--cacert"])
        .arg(env.path("localhost.crt"))
        .arg(format!("{url}/query"))
        .arg("--data-urlencode")
        .arg("q=CREATE USER admin WITH PASSWORD 'pw' WITH ALL PRIVILEGES"));
    assert!(out.status.success());
    let (code, report) = verify_with_token(&env, &url, "shared.secret");
    assert_eq!(code, 0, "{report:#}");
    let names: Vec<&str> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["tls", "service", "token", "auth"]);
    env.write(
        "wrong.secret",
        "a-different-secret-that-is-long-enough-0123\n",
    );
    crate::support::set_mode(&env.path("wrong.secret"), 0o600);
    let (code, report) = verify_with_token(&env, &url, "wrong.secret");
    assert_eq!(code, 1);
    assert!(has_failure(&report, "token", "401"), "{report:#}");
}

#[test]
fn url_probe_against_a_real_prometheus() {
    if !require_tool("prometheus") {
        return;
    }
    let env = TestEnv::new();
    env.selfsigned(&["--host", "localhost"]);
    env.web_config();
    let server = start_prometheus(&env, "");
    let url = format!("https://localhost:{}", server.port);
    let (code, report) = verify_json(&env, &["--url", &url, "--ca", "localhost.crt"]);
    assert_eq!(code, 0, "{report:#}");
    assert!(
        report["checks"][1]["detail"]
            .as_str()
            .unwrap()
            .contains("Prometheus")
    );
    let (code, report) = verify_json(
        &env,
        &["--url", &url, "--ca", "localhost.crt", "--kind", "influxdb"],
    );
    assert_eq!(code, 1, "Prometheus is not InfluxDB: {report:#}");
    // --user (InfluxDB's token auth) against Prometheus is an error, not silently ignored.
    env.write("s", "0123456789abcdef0123456789abcdef");
    crate::support::set_mode(&env.path("s"), 0o600);
    let user = ["--user", "admin", "--secret-file", "s"];
    let probe = ["verify", "--url", &url, "--ca", "localhost.crt"];
    env.refused(&[&probe[..], &user].concat(), "is Prometheus");
    env.refused(
        &[&probe[..], &user, &["--kind", "prometheus"]].concat(),
        "--user",
    );
}

fn pid_alive(pid: u64) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
        && !std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| s.contains(") Z "))
}

#[test]
fn launch_real_influxd_and_prometheus_and_stop_them() {
    if !(require_tool("influxd") && require_tool("prometheus")) {
        return;
    }
    let env = TestEnv::new();
    env.ca(&[]);
    env.issue(&["--host", "metrics.example.test", "--name", "server"]);
    for service in ["influxdb", "prometheus"] {
        let (code, report) = verify_json(
            &env,
            &[
                "--launch",
                service,
                "--cert",
                "server.crt",
                "--key",
                "server.key",
                "--ca",
                "ca.crt",
            ],
        );
        assert_eq!(code, 0, "{service}: {report:#}");
        let launch = report["checks"][0]["detail"].as_str().unwrap();
        let pid: u64 = launch
            .rsplit("pid ")
            .next()
            .unwrap()
            .trim_end_matches(')')
            .parse()
            .unwrap();
        assert!(!pid_alive(pid), "{service} (pid {pid}) was not stopped");
        // The name verified over loopback is the certificate's own.
        assert_eq!(report["checks"][1]["host"], "metrics.example.test");
    }
}

#[test]
fn a_server_that_fails_to_start_shows_its_log() {
    if !require_tool("prometheus") {
        return;
    }
    let env = TestEnv::new();
    env.selfsigned(&["--host", "localhost"]);
    env.write("broken.yml", "scrape_configs:\n  - job_name: [unclosed\n");
    let out = env.certtool(&[
        "verify",
        "--launch",
        "prometheus",
        "--cert",
        "localhost.crt",
        "--key",
        "localhost.key",
        "--config",
        "broken.yml",
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let text = stdout(&out);
    assert!(
        text.contains("FAIL  launch") && text.contains("exited"),
        "{text}"
    );
    assert!(
        text.contains("level=error") || text.contains("err="),
        "log lines shown: {text}"
    );
}

#[test]
fn bad_input_exits_2() {
    let env = TestEnv::new();
    env.selfsigned(&["--host", "localhost"]);
    for (args, expected) in [
        (
            vec!["verify", "--cert", "missing.crt", "--key", "localhost.key"],
            "missing.crt",
        ),
        (
            vec!["verify", "--url", "http://localhost:1"],
            "not an https:// URL",
        ),
        (
            vec!["verify", "--url", "https://localhost:port"],
            "invalid port",
        ),
        (
            vec![
                "verify",
                "--launch",
                "influxdb",
                "--cert",
                "localhost.crt",
                "--key",
                "localhost.key",
                "--server-bin",
                "/nonexistent",
            ],
            "not a file",
        ),
    ] {
        env.refused(&args, expected);
    }
    let out = env.certtool(&["verify"]);
    assert_eq!(out.status.code(), Some(2));
    let _ = free_port();
}

/// A stand-in server binary that never listens: `sleep` with a marker to find it by.
fn never_listening_server(env: &TestEnv, marker: &str) -> String {
    let script = env.path("fake-server");
    std::fs::write(&script, format!("#!/bin/sh\nexec sleep {marker}\n")).unwrap();
    crate::support::set_mode(&script, 0o755);
    script.display().to_string()
}

fn running(marker: &str) -> bool {
    run(Command::new("pgrep").args(["-f", &format!("sleep {marker}")]))
        .status
        .success()
}

#[test]
fn a_launched_server_is_stopped_on_timeout_and_on_sigterm() {
    let env = TestEnv::new();
    env.selfsigned(&["--host", "localhost"]);
    // Timeout: the server never listens; certtool gives up, says so, and stops it.
    let marker = "61.2345";
    let bin = never_listening_server(&env, marker);
    let out = env.certtool(&[
        "verify",
        "--launch",
        "prometheus",
        "--cert",
        "localhost.crt",
        "--key",
        "localhost.key",
        "--server-bin",
        &bin,
        "--start-timeout",
        "1s",
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(stdout(&out).contains("did not listen"), "{}", stdout(&out));
    assert!(
        !running(marker),
        "the server was left running after the timeout"
    );
    // SIGTERM while waiting: certtool stops the server and exits.
    let marker = "62.3456";
    let bin = never_listening_server(&env, marker);
    let mut child = env
        .cmd_std()
        .args([
            "verify",
            "--launch",
            "prometheus",
            "--cert",
            "localhost.crt",
            "--key",
        ])
        .args([
            "localhost.key",
            "--server-bin",
            &bin,
            "--start-timeout",
            "60s",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    for _ in 0..100 {
        if running(marker) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(running(marker), "the fake server did not start");
    let kill = run(Command::new("kill").args(["-TERM", &child.id().to_string()]));
    assert!(kill.status.success());
    // certtool must exit promptly: poll for it, without timing anything.
    let mut status = None;
    for _ in 0..100 {
        status = child.try_wait().unwrap();
        if status.is_some() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let Some(status) = status else {
        let _ = child.kill();
        panic!("certtool did not exit after SIGTERM");
    };
    assert_eq!(status.code(), Some(2));
    assert!(
        !running(marker),
        "the server was left running after SIGTERM"
    );
}
