//! Certificates made by certtool, judged by implementations nobody here wrote: OpenSSL's verify
//! and x509 tools, curl and Python's ssl (OpenSSL), gnutls-cli (GnuTLS), and the influx CLI
//! (Go) against a real influxd — each over a real TLS handshake on 127.0.0.1.

use std::path::Path;
use std::process::Command;

use crate::support::{
    TestEnv, curl_ok, gnutls_ok, openssl, openssl_server, python_ok, require_tool, run,
    start_influxd, stderr, stdout,
};

const KEY_TYPES: [&str; 6] = [
    "ecdsa-p256",
    "ecdsa-p384",
    "ed25519",
    "rsa-2048",
    "rsa-3072",
    "rsa-4096",
];

#[test]
fn openssl_verifies_each_key_type_and_sees_sans_dates_and_key() {
    if !require_tool("openssl") {
        return;
    }
    for key_type in KEY_TYPES {
        let env = TestEnv::new();
        env.selfsigned(&[
            "--host",
            "localhost",
            "--host",
            "127.0.0.1",
            "--host",
            "::1",
            "--host",
            "*.example.test",
            "--key-type",
            key_type,
            "--not-before",
            "2026-01-01",
            "--days",
            "10",
        ]);
        let dir = env.dir.path();
        for strict in [false, true] {
            // 2026-01-05, inside the 10-day period.
            let mut args = vec!["verify", "-attime", "1767571200"];
            if strict {
                args.push("-x509_strict");
            }
            args.extend([
                "-purpose",
                "sslserver",
                "-CAfile",
                "localhost.crt",
                "localhost.crt",
            ]);
            let out = openssl(&args, dir);
            assert!(
                out.status.success(),
                "{key_type} strict={strict}: {}{}",
                stdout(&out),
                stderr(&out)
            );
        }
        let out = openssl(
            &[
                "x509",
                "-in",
                "localhost.crt",
                "-noout",
                "-ext",
                "subjectAltName,basicConstraints",
            ],
            dir,
        );
        let text = stdout(&out);
        assert!(
            text.contains("DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, DNS:*.example.test"),
            "{key_type}: {text}"
        );
        assert!(text.contains("CA:FALSE"), "{key_type}: {text}");
        let out = openssl(
            &[
                "x509",
                "-in",
                "localhost.crt",
                "-noout",
                "-dates",
                "-dateopt",
                "iso_8601",
            ],
            dir,
        );
        assert_eq!(
            stdout(&out),
            "notBefore=2026-01-01 00:00:00Z\nnotAfter=2026-01-11 00:00:00Z\n",
            "{key_type}"
        );
        let from_key = openssl(&["pkey", "-in", "localhost.key", "-pubout"], dir);
        let from_cert = openssl(&["x509", "-in", "localhost.crt", "-pubkey", "-noout"], dir);
        assert!(
            from_key.status.success(),
            "{key_type}: {}",
            stderr(&from_key)
        );
        assert_eq!(
            stdout(&from_key),
            stdout(&from_cert),
            "{key_type}: key does not match cert"
        );
    }
}

#[test]
fn openssl_rejects_a_certificate_as_its_own_anchor_when_it_is_another() {
    if !require_tool("openssl") {
        return;
    }
    let env = TestEnv::new();
    env.selfsigned(&["--host", "a.test"]);
    env.selfsigned(&["--host", "b.test"]);
    let out = openssl(
        &["verify", "-CAfile", "a.test.crt", "b.test.crt"],
        env.dir.path(),
    );
    assert!(
        !out.status.success(),
        "verify must fail with the wrong anchor"
    );
}

#[test]
fn curl_python_and_gnutls_complete_a_handshake_trusting_the_certificate() {
    let tools = ["openssl", "curl", "python3", "gnutls-cli"];
    if !tools.iter().all(|t| require_tool(t)) {
        return;
    }
    for key_type in ["ecdsa-p256", "ecdsa-p384", "ed25519", "rsa-2048"] {
        let env = TestEnv::new();
        env.selfsigned(&[
            "--host",
            "localhost",
            "--host",
            "127.0.0.1",
            "--key-type",
            key_type,
        ]);
        let cert = env.path("localhost.crt");
        let server = openssl_server(&cert, &env.path("localhost.key"));
        let body = curl_ok(&cert, "localhost", server.port)
            .unwrap_or_else(|e| panic!("curl {key_type}: {e}"));
        assert!(body.contains("s_server"), "{key_type}: {body}");
        for name in ["localhost", "127.0.0.1"] {
            let version = python_ok(&cert, name, server.port)
                .unwrap_or_else(|e| panic!("python {key_type} {name}: {e}"));
            assert!(version.starts_with("TLSv1."), "{version}");
        }
        gnutls_ok(&cert, "localhost", server.port)
            .unwrap_or_else(|e| panic!("gnutls {key_type}: {e}"));
    }
}

#[test]
fn clients_refuse_a_wrong_anchor_or_a_name_not_in_the_sans() {
    let tools = ["openssl", "curl", "python3", "gnutls-cli"];
    if !tools.iter().all(|t| require_tool(t)) {
        return;
    }
    let env = TestEnv::new();
    env.selfsigned(&["--host", "localhost"]);
    env.selfsigned(&["--host", "other.test"]);
    let server = openssl_server(&env.path("localhost.crt"), &env.path("localhost.key"));
    let wrong = env.path("other.test.crt");
    let right = env.path("localhost.crt");
    assert!(curl_ok(&wrong, "localhost", server.port).is_err());
    assert!(curl_ok(&right, "elsewhere.test", server.port).is_err());
    assert!(python_ok(&wrong, "localhost", server.port).is_err());
    assert!(
        python_ok(&right, "127.0.0.1", server.port).is_err(),
        "no IP SAN was asked for"
    );
    assert!(gnutls_ok(&wrong, "localhost", server.port).is_err());
    assert!(gnutls_ok(&right, "elsewhere.test", server.port).is_err());
}

#[test]
fn wildcard_certificates_cover_one_label() {
    if !(require_tool("openssl") && require_tool("curl")) {
        return;
    }
    let env = TestEnv::new();
    env.selfsigned(&["--host", "*.example.test", "--host", "example.test"]);
    let cert = env.path("_wildcard.example.test.crt");
    let server = openssl_server(&cert, &env.path("_wildcard.example.test.key"));
    for ok in ["influx.example.test", "example.test"] {
        curl_ok(&cert, ok, server.port).unwrap_or_else(|e| panic!("{ok}: {e}"));
    }
    assert!(curl_ok(&cert, "a.b.example.test", server.port).is_err());
}

#[test]
fn bundle_file_serves_as_cert_and_key() {
    if !(require_tool("openssl") && require_tool("curl")) {
        return;
    }
    let env = TestEnv::new();
    env.selfsigned(&["--host", "localhost", "--bundle", "both.pem"]);
    let bundle = env.path("both.pem");
    let server = openssl_server(&bundle, &bundle);
    curl_ok(&env.path("localhost.crt"), "localhost", server.port).unwrap();
}

#[test]
fn go_clients_trust_it_influx_cli_against_a_real_influxd() {
    if !(require_tool("influxd") && require_tool("influx")) {
        return;
    }
    for key_type in ["ecdsa-p256", "rsa-2048", "ed25519"] {
        let env = TestEnv::new();
        env.selfsigned(&[
            "--host",
            "localhost",
            "--host",
            "127.0.0.1",
            "--key-type",
            key_type,
        ]);
        env.selfsigned(&["--host", "other.test"]);
        let (cert, key) = (env.path("localhost.crt"), env.path("localhost.key"));
        let server = start_influxd(
            &env,
            &format!(
                "  https-enabled = true\n  https-certificate = \"{}\"\n  https-private-key = \"{}\"\n",
                cert.display(),
                key.display()
            ),
        );
        let influx = |ca: &Path, host: &str| {
            run(Command::new("influx")
                .env("SSL_CERT_FILE", ca)
                .args(["-ssl", "-host", host, "-port", &server.port.to_string()])
                .args(["-execute", "SHOW DATABASES"]))
        };
        for host in ["localhost", "127.0.0.1"] {
            let out = influx(&cert, host);
            assert!(
                out.status.success(),
                "{key_type} {host}: {}{}",
                stdout(&out),
                stderr(&out)
            );
        }
        let out = influx(&env.path("other.test.crt"), "localhost");
        assert!(
            !out.status.success(),
            "{key_type}: influx must reject an untrusted certificate"
        );
    }
}
