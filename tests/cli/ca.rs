//! `ca init` and `ca issue`, judged by OpenSSL's verify and x509 tools, curl, Python's ssl,
//! gnutls-cli, mutual TLS against `openssl s_server -Verify`, and Go (the influx CLI against a
//! real influxd).

use std::fs;
use std::path::Path;
use std::process::Command;

use crate::support::{
    TestEnv, assert_input_error, curl_ok, gnutls_ok, mode, openssl, openssl_leaf, openssl_server,
    openssl_server_with, python_ok, require_tool, run, start_influxd, stderr, stdout,
};

fn x509_text(dir: &Path, file: &str) -> String {
    let out = openssl(&["x509", "-in", file, "-noout", "-text"], dir);
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out)
}

fn verify(dir: &Path, leaf: &str, extra: &[&str]) -> Result<String, String> {
    let mut args = vec!["verify", "-x509_strict", "-CAfile", "ca.crt"];
    args.extend(extra);
    args.push(leaf);
    let out = openssl(&args, dir);
    if out.status.success() {
        Ok(stdout(&out))
    } else {
        Err(format!("{}{}", stdout(&out), stderr(&out)))
    }
}

#[test]
fn ca_and_leaf_carry_the_extensions_openssl_expects() {
    if !require_tool("openssl") {
        return;
    }
    let env = TestEnv::new();
    env.ca(&["--cn", "Test CA"]);
    let dir = env.dir.path();
    assert_eq!(mode(&env.path("ca.crt")), 0o644);
    assert_eq!(mode(&env.path("ca.key")), 0o600);
    let ca = x509_text(dir, "ca.crt");
    for expected in [
        "X509v3 Basic Constraints: critical\n                CA:TRUE, pathlen:0",
        "Certificate Sign, CRL Sign",
        "X509v3 Subject Key Identifier",
        "Subject: CN = Test CA",
    ] {
        assert!(ca.contains(expected), "{expected} not in {ca}");
    }
    env.issue(&["--host", "server.test", "--key-type", "rsa-2048"]);
    env.issue(&["--host", "client.test", "--client"]);
    let server = x509_text(dir, "server.test.crt");
    for expected in [
        "CA:FALSE",
        "Digital Signature, Key Encipherment",
        "TLS Web Server Authentication\n",
        "X509v3 Authority Key Identifier",
        "Issuer: CN = Test CA",
        "DNS:server.test",
    ] {
        assert!(server.contains(expected), "{expected} not in {server}");
    }
    assert!(!server.contains("Client Authentication"));
    let client = x509_text(dir, "client.test.crt");
    assert!(
        client.contains("TLS Web Server Authentication, TLS Web Client Authentication"),
        "{client}"
    );
    assert!(!client.contains("Key Encipherment"), "not an RSA key");
    // The authority key identifier names the CA's subject key identifier.
    let ski = |text: &str, label: &str| {
        let at = text.find(label).unwrap();
        text[at..].lines().nth(1).unwrap().trim().to_owned()
    };
    assert_eq!(
        ski(&ca, "Subject Key Identifier"),
        ski(&server, "Authority Key Identifier").trim_start_matches("keyid:")
    );
    // The .crt holds the leaf, then the CA certificate.
    let chain = fs::read_to_string(env.path("server.test.crt")).unwrap();
    let ca_pem = fs::read_to_string(env.path("ca.crt")).unwrap();
    assert_eq!(chain.matches("BEGIN CERTIFICATE").count(), 2);
    assert!(chain.ends_with(&ca_pem));
    assert_eq!(mode(&env.path("server.test.key")), 0o600);
}

#[test]
fn openssl_verifies_single_wildcard_ip_and_multi_host_leaves() {
    if !require_tool("openssl") {
        return;
    }
    for (ca_type, leaf_type) in [
        ("ecdsa-p256", "ecdsa-p256"),
        ("ecdsa-p384", "ed25519"),
        ("rsa-2048", "rsa-2048"),
        ("ed25519", "ecdsa-p384"),
    ] {
        let env = TestEnv::new();
        env.ca(&["--key-type", ca_type]);
        let dir = env.dir.path();
        env.issue(&["--host", "influx.test", "--key-type", leaf_type]);
        env.issue(&["--host", "*.metrics.test", "--key-type", leaf_type]);
        env.issue(&["--host", "127.0.0.1", "--key-type", leaf_type]);
        env.issue(&[
            "--host",
            "a.test",
            "--host",
            "b.test",
            "--host",
            "::1",
            "--name",
            "multi",
            "--key-type",
            leaf_type,
        ]);
        for (leaf, name) in [
            ("influx.test.crt", vec!["-verify_hostname", "influx.test"]),
            (
                "_wildcard.metrics.test.crt",
                vec!["-verify_hostname", "prom.metrics.test"],
            ),
            ("127.0.0.1.crt", vec!["-verify_ip", "127.0.0.1"]),
            ("multi.crt", vec!["-verify_hostname", "b.test"]),
            ("multi.crt", vec!["-verify_ip", "::1"]),
        ] {
            let mut extra = vec!["-purpose", "sslserver"];
            extra.extend(name);
            verify(dir, leaf, &extra)
                .unwrap_or_else(|e| panic!("{ca_type}/{leaf_type} {leaf}: {e}"));
        }
        // Negative controls: a name the leaf does not carry, and another CA as the anchor.
        assert!(verify(dir, "influx.test.crt", &["-verify_hostname", "other.test"]).is_err());
        let other = TestEnv::new();
        other.ca(&[]);
        fs::copy(other.path("ca.crt"), env.path("ca.crt")).unwrap();
        assert!(verify(dir, "influx.test.crt", &[]).is_err(), "{ca_type}");
    }
}

#[test]
fn name_constraints_make_verifiers_reject_other_domains() {
    if !require_tool("openssl") {
        return;
    }
    let env = TestEnv::new();
    env.ca(&["--permitted-dns", "example.test"]);
    let dir = env.dir.path();
    let text = x509_text(dir, "ca.crt");
    assert!(text.contains("X509v3 Name Constraints: critical"), "{text}");
    assert!(text.contains("DNS:example.test"), "{text}");
    assert!(
        text.contains("Excluded:\n                  IP:0.0.0.0/0.0.0.0"),
        "{text}"
    );
    // certtool itself refuses, before writing anything.
    let out = env.certtool(&[
        "ca",
        "issue",
        "--ca-cert",
        "ca.crt",
        "--ca-key",
        "ca.key",
        "--host",
        "evil.test",
    ]);
    let err = assert_input_error(&out);
    assert!(err.contains("may not sign for evil.test"), "{err}");
    assert!(!env.path("evil.test.key").exists());
    env.issue_refused(&["--host", "127.0.0.1"], "no IP addresses");
    // Inside the constraint: accepted.
    env.issue(&["--host", "influx.example.test", "--host", "*.example.test"]);
    verify(
        dir,
        "influx.example.test.crt",
        &["-verify_hostname", "influx.example.test"],
    )
    .unwrap();
    // A leaked CA key used by another tool: OpenSSL refuses the result.
    openssl_leaf(dir, "evil", "/CN=evil", "DNS:evil.test");
    let err = verify(dir, "evil.crt", &[]).unwrap_err();
    assert!(err.contains("permitted subtree violation"), "{err}");
    openssl_leaf(dir, "ip", "/CN=ip", "IP:10.0.0.1");
    let err = verify(dir, "ip.crt", &[]).unwrap_err();
    assert!(err.contains("excluded subtree violation"), "{err}");
    // Control: OpenSSL's own leaf inside the constraint verifies, so the refusals above are
    // about the names.
    openssl_leaf(dir, "good", "/CN=good", "DNS:db.example.test");
    verify(dir, "good.crt", &[]).unwrap();
}

#[test]
fn permitted_ip_ranges_allow_loopback_leaves() {
    if !require_tool("openssl") {
        return;
    }
    let env = TestEnv::new();
    env.ca(&[
        "--permitted-dns",
        "example.test",
        "--permitted-ip",
        "127.0.0.0/8",
        "--permitted-ip",
        "::1/128",
    ]);
    env.issue(&[
        "--host",
        "db.example.test",
        "--host",
        "127.0.0.1",
        "--host",
        "::1",
    ]);
    verify(
        env.dir.path(),
        "db.example.test.crt",
        &["-verify_ip", "127.0.0.1"],
    )
    .unwrap();
    let out = env.certtool(&[
        "ca",
        "issue",
        "--ca-cert",
        "ca.crt",
        "--ca-key",
        "ca.key",
        "--host",
        "10.1.1.1",
    ]);
    assert_input_error(&out);
}

#[test]
fn handshakes_with_the_chain_file_curl_python_gnutls() {
    let tools = ["openssl", "curl", "python3", "gnutls-cli"];
    if !tools.iter().all(|t| require_tool(t)) {
        return;
    }
    let env = TestEnv::new();
    env.ca(&[]);
    env.issue(&[
        "--host",
        "localhost",
        "--host",
        "*.example.test",
        "--host",
        "127.0.0.1",
        "--name",
        "server",
    ]);
    let ca = env.path("ca.crt");
    let server = openssl_server(&env.path("server.crt"), &env.path("server.key"));
    for host in ["localhost", "influx.example.test"] {
        let body = curl_ok(&ca, host, server.port).unwrap_or_else(|e| panic!("curl {host}: {e}"));
        assert!(body.contains("s_server"), "{body}");
    }
    for name in ["localhost", "127.0.0.1"] {
        python_ok(&ca, name, server.port).unwrap_or_else(|e| panic!("python {name}: {e}"));
    }
    gnutls_ok(&ca, "localhost", server.port).unwrap();
    gnutls_ok(&ca, "prom.example.test", server.port).unwrap();
    // Negative controls: another CA, and a name not covered (the wildcard is one label deep).
    let other = TestEnv::new();
    other.ca(&[]);
    assert!(curl_ok(&other.path("ca.crt"), "localhost", server.port).is_err());
    assert!(curl_ok(&ca, "a.b.example.test", server.port).is_err());
    assert!(gnutls_ok(&other.path("ca.crt"), "localhost", server.port).is_err());
}

#[test]
fn mutual_tls_needs_a_client_certificate_from_the_ca() {
    if !(require_tool("openssl") && require_tool("curl")) {
        return;
    }
    let env = TestEnv::new();
    env.ca(&[]);
    env.issue(&["--host", "localhost", "--name", "server"]);
    env.issue(&["--host", "telegraf-01", "--client", "--name", "client"]);
    env.issue(&["--host", "not-a-client", "--name", "serveronly"]);
    let other = TestEnv::new();
    other.ca(&[]);
    other.issue(&["--host", "intruder", "--client", "--name", "client"]);
    let ca = env.path("ca.crt");
    let server = openssl_server_with(
        &env.path("server.crt"),
        &env.path("server.key"),
        &[
            "-Verify",
            "1",
            "-verify_return_error",
            "-CAfile",
            ca.to_str().unwrap(),
        ],
    );
    let curl = |cert: &Path, key: &Path| {
        run(Command::new("curl")
            .args(["--silent", "--show-error", "--max-time", "10", "--cacert"])
            .arg(&ca)
            .arg("--cert")
            .arg(cert)
            .arg("--key")
            .arg(key)
            .arg(format!("https://localhost:{}/", server.port)))
    };
    let out = curl(&env.path("client.crt"), &env.path("client.key"));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("s_server"));
    let out = curl(&other.path("client.crt"), &other.path("client.key"));
    assert!(
        !out.status.success(),
        "a client from another CA must be refused"
    );
    let out = curl(&env.path("serveronly.crt"), &env.path("serveronly.key"));
    assert!(
        !out.status.success(),
        "a certificate without clientAuth must be refused"
    );
    let out = run(Command::new("curl")
        .args(["--silent", "--max-time", "10", "--cacert"])
        .arg(&ca)
        .arg(format!("https://localhost:{}/", server.port)));
    assert!(
        !out.status.success(),
        "no client certificate must be refused"
    );
}

#[test]
fn bad_cas_are_refused_and_nothing_is_written() {
    let env = TestEnv::new();
    env.ca(&[]);
    env.ca(&["--name", "other"]);
    env.selfsigned(&["--host", "leaf.test"]);
    env.ca(&[
        "--name",
        "old",
        "--not-before",
        "2020-01-01",
        "--not-after",
        "2021-01-01",
    ]);
    for (cert, key, expected) in [
        ("ca.crt", "other.key", "does not match"),
        ("leaf.test.crt", "leaf.test.key", "not a CA"),
        ("old.crt", "old.key", "expired on 2021-01-01"),
        ("missing.crt", "ca.key", "missing.crt"),
        ("ca.key", "ca.key", "holds no certificate"),
        ("ca.crt", "ca.crt", "holds no private key"),
    ] {
        let out = env.certtool(&[
            "ca",
            "issue",
            "--ca-cert",
            cert,
            "--ca-key",
            key,
            "--host",
            "new.test",
        ]);
        let err = assert_input_error(&out);
        assert!(err.contains(expected), "{cert}/{key}: {err}");
        assert!(!env.path("new.test.crt").exists() && !env.path("new.test.key").exists());
    }
    // The CA key is never rewritten.
    let before = fs::read(env.path("ca.key")).unwrap();
    env.issue(&["--host", "x.test"]);
    assert_eq!(fs::read(env.path("ca.key")).unwrap(), before);
    // Existing outputs are not clobbered without --force.
    env.issue_refused(&["--host", "x.test"], "already exists");
    env.refused(&["ca", "init"], "already exists");
}

#[test]
fn leaves_are_clamped_to_the_ca_expiry_with_a_warning() {
    if !require_tool("openssl") {
        return;
    }
    let env = TestEnv::new();
    env.ca(&["--days", "30"]);
    let out = env.issue(&["--host", "short.test", "--days", "365", "--json"]);
    assert!(
        stderr(&out).contains("would outlive its CA"),
        "{}",
        stderr(&out)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["clamped_to_ca"], true);
    let end = |file: &str| {
        stdout(&openssl(
            &["x509", "-in", file, "-noout", "-enddate"],
            env.dir.path(),
        ))
    };
    assert_eq!(end("short.test.crt"), end("ca.crt"));
    let out = env.issue(&["--host", "shorter.test", "--days", "7", "--json"]);
    assert!(!stderr(&out).contains("outlive"));
}

#[test]
fn cas_made_by_openssl_with_sec1_or_pkcs1_keys_can_issue() {
    if !require_tool("openssl") {
        return;
    }
    for keygen in [
        vec![
            "ecparam",
            "-name",
            "prime256v1",
            "-genkey",
            "-noout",
            "-out",
            "ca.key",
        ],
        vec!["genrsa", "-traditional", "-out", "ca.key", "2048"],
    ] {
        let env = TestEnv::new();
        let dir = env.dir.path();
        assert!(openssl(&keygen, dir).status.success());
        let key = fs::read_to_string(env.path("ca.key")).unwrap();
        assert!(key.contains("BEGIN EC PRIVATE KEY") || key.contains("BEGIN RSA PRIVATE KEY"));
        let out = openssl(
            &[
                "req",
                "-x509",
                "-new",
                "-key",
                "ca.key",
                "-out",
                "ca.crt",
                "-days",
                "30",
                "-subj",
                "/C=DE/O=Ops Team/CN=OpenSSL Root",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
            ],
            dir,
        );
        assert!(out.status.success(), "{}", stderr(&out));
        env.issue(&["--host", "localhost"]);
        verify(
            dir,
            "localhost.crt",
            &["-purpose", "sslserver", "-verify_hostname", "localhost"],
        )
        .unwrap_or_else(|e| panic!("{keygen:?}: {e}"));
        let leaf = x509_text(dir, "localhost.crt");
        assert!(
            leaf.contains("Issuer: C = DE, O = Ops Team, CN = OpenSSL Root"),
            "{leaf}"
        );
    }
}

#[test]
fn go_trusts_the_ca_influx_cli_against_a_real_influxd() {
    if !(require_tool("influxd") && require_tool("influx")) {
        return;
    }
    let env = TestEnv::new();
    env.ca(&[
        "--permitted-dns",
        "localhost",
        "--permitted-ip",
        "127.0.0.0/8",
    ]);
    env.issue(&[
        "--host",
        "localhost",
        "--host",
        "127.0.0.1",
        "--name",
        "influxdb",
    ]);
    let server = start_influxd(
        &env,
        &format!(
            "  https-enabled = true\n  https-certificate = \"{}\"\n  https-private-key = \"{}\"\n",
            env.path("influxdb.crt").display(),
            env.path("influxdb.key").display()
        ),
    );
    let influx = |ca: &Path, host: &str| {
        run(Command::new("influx")
            .env("SSL_CERT_FILE", ca)
            .args(["-ssl", "-host", host, "-port", &server.port.to_string()])
            .args(["-execute", "SHOW DATABASES"]))
    };
    for host in ["localhost", "127.0.0.1"] {
        let out = influx(&env.path("ca.crt"), host);
        assert!(
            out.status.success(),
            "{host}: {}{}",
            stdout(&out),
            stderr(&out)
        );
    }
    let other = TestEnv::new();
    other.ca(&[]);
    let out = influx(&other.path("ca.crt"), "localhost");
    assert!(
        !out.status.success(),
        "influx must reject a certificate from another CA"
    );
}
