//! verify's failures in words, each with what to do (issue 13 §6), against real servers
//! (`openssl s_server`, influxd) and chains OpenSSL made; curl-style --resolve and --connect-to;
//! and inspect showing what a certificate may be used for, as OpenSSL reads it.

use std::fs;
use std::io::Write as _;

use crate::support::{
    TestEnv, openssl, openssl_leaf, openssl_server, require_tool, start_influxd, stderr, stdout,
};

/// `certtool verify ARGS`: exit status and stdout.
fn verify(env: &TestEnv, args: &[&str]) -> (Option<i32>, String) {
    let out = env.certtool(&[&["verify"][..], args].concat());
    (
        out.status.code(),
        format!("{}{}", stdout(&out), stderr(&out)),
    )
}

#[test]
fn a_plain_http_port_is_named_as_such() {
    if !require_tool("influxd") {
        return;
    }
    let env = TestEnv::new();
    env.selfsigned(&["--host", "localhost"]);
    let server = start_influxd(&env, "");
    let url = format!("https://localhost:{}", server.port);
    let (code, text) = verify(&env, &["--url", &url, "--ca", "localhost.crt"]);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("plain HTTP") && !text.contains("InvalidContentType"),
        "{text}"
    );
}

#[test]
fn name_constraint_violations_are_named_as_such() {
    if !require_tool("openssl") {
        return;
    }
    let env = TestEnv::new();
    env.ca(&["--permitted-dns", "example.com"]);
    // What another tool holding the CA key could sign: a name outside the constraints.
    openssl_leaf(env.dir.path(), "rogue", "/CN=rogue.test", "DNS:rogue.test");
    let (code, text) = verify(
        &env,
        &[
            "--cert",
            "rogue.crt",
            "--key",
            "rogue.key",
            "--ca",
            "ca.crt",
            "--host",
            "rogue.test",
        ],
    );
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("outside its CA's name constraints"), "{text}");
    assert!(!text.contains("NameConstraintViolation"), "{text}");
    // And from a running server (the TLS client's words).
    let server = openssl_server(&env.path("rogue.crt"), &env.path("rogue.key"));
    let url = format!("https://rogue.test:{}", server.port);
    let resolve = format!("rogue.test:{}:127.0.0.1", server.port);
    let (code, text) = verify(
        &env,
        &[
            "--url",
            &url,
            "--resolve",
            &resolve,
            "--ca",
            "ca.crt",
            "--kind",
            "tls",
        ],
    );
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("outside its CA's name constraints"), "{text}");
    assert!(!text.contains("OtherError"), "{text}");
}

/// A root CA (certtool, path length 1), an intermediate made by OpenSSL, and a leaf that
/// certtool issues from the intermediate: `leaf.crt` holds leaf + intermediate.
fn chain_with_intermediate(env: &TestEnv) {
    env.ca(&["--path-len", "1"]);
    let dir = env.dir.path();
    env.write(
        "int.ext",
        "basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n",
    );
    for args in [
        &[
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "int.key",
            "-out",
            "int.csr",
            "-subj",
            "/CN=Metrics Intermediate",
        ][..],
        &[
            "x509",
            "-req",
            "-in",
            "int.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-days",
            "30",
            "-extfile",
            "int.ext",
            "-out",
            "int.crt",
            "-set_serial",
            "7",
        ],
    ] {
        let out = openssl(args, dir);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    env.ok(&[
        "ca",
        "issue",
        "--ca-cert",
        "int.crt",
        "--ca-key",
        "int.key",
        "--host",
        "localhost",
        "--name",
        "leaf",
    ]);
}

#[test]
fn a_chain_missing_its_intermediate_says_which_certificate_to_append() {
    if !require_tool("openssl") {
        return;
    }
    let env = TestEnv::new();
    chain_with_intermediate(&env);
    let pair = ["--cert", "leaf.crt", "--key", "leaf.key", "--ca", "ca.crt"];
    let (code, text) = verify(&env, &pair);
    assert_eq!(code, Some(0), "the full chain leads to the root: {text}");
    // Only the leaf: the intermediate is named, with what to do.
    let full = fs::read_to_string(env.path("leaf.crt")).unwrap();
    let end = "-----END CERTIFICATE-----\n";
    let leaf_only = &full[..full.find(end).unwrap() + end.len()];
    env.write("leaf-only.crt", leaf_only);
    let (code, text) = verify(
        &env,
        &[
            "--cert",
            "leaf-only.crt",
            "--key",
            "leaf.key",
            "--ca",
            "ca.crt",
        ],
    );
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("issued by CN=Metrics Intermediate") && text.contains("append"),
        "{text}"
    );
    // The same from a running server that sends only its leaf (openssl s_server).
    let server = openssl_server(&env.path("leaf-only.crt"), &env.path("leaf.key"));
    let url = format!("https://localhost:{}", server.port);
    let (code, text) = verify(&env, &["--url", &url, "--ca", "ca.crt", "--kind", "tls"]);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("CN=Metrics Intermediate") && text.contains("append"),
        "{text}"
    );
}

#[test]
fn without_ca_the_report_says_what_was_and_was_not_checked() {
    if !require_tool("openssl") {
        return;
    }
    let env = TestEnv::new();
    env.ca(&[]);
    env.issue(&["--host", "localhost"]);
    // A CA-issued pair without --ca: the chain fails with the CA to pass, and the handshakes
    // say they trusted the certificate itself.
    let (code, text) = verify(&env, &["--cert", "localhost.crt", "--key", "localhost.key"]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("pass that CA with --ca"), "{text}");
    assert!(text.contains("trusting this certificate itself"), "{text}");
    // A self-signed server probed without --ca: pass that certificate as the CA.
    env.selfsigned(&["--host", "localhost", "--name", "self"]);
    let server = openssl_server(&env.path("self.crt"), &env.path("self.key"));
    let url = format!("https://localhost:{}", server.port);
    let (code, text) = verify(&env, &["--url", &url, "--kind", "tls"]);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("self-signed") && text.contains("--ca"),
        "{text}"
    );
    let (code, text) = verify(&env, &["--url", &url, "--kind", "tls", "--ca", "self.crt"]);
    assert_eq!(code, Some(0), "{text}");
}

#[test]
fn resolve_and_connect_to_check_dns_and_wildcard_names_on_loopback() {
    if !require_tool("openssl") {
        return;
    }
    let env = TestEnv::new();
    env.ca(&[]);
    env.issue(&["--host", "*.metrics.test", "--name", "wild"]);
    let server = openssl_server(&env.path("wild.crt"), &env.path("wild.key"));
    let port = server.port.to_string();
    let url = format!("https://grafana.metrics.test:{port}");
    let probe = ["--url", &url, "--ca", "ca.crt", "--kind", "tls"];
    let resolve = format!("grafana.metrics.test:{port}:127.0.0.1");
    let (code, text) = verify(&env, &[&probe[..], &["--resolve", &resolve]].concat());
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("trusted for grafana.metrics.test"), "{text}");
    let connect = format!("grafana.metrics.test:{port}:127.0.0.1:{port}");
    let (code, text) = verify(&env, &[&probe[..], &["--connect-to", &connect]].concat());
    assert_eq!(code, Some(0), "{text}");
    // The name is still checked: a name outside the wildcard fails.
    let other = format!("https://a.b.metrics.test:{port}");
    let resolve_other = format!("a.b.metrics.test:{port}:127.0.0.1");
    let (code, text) = verify(
        &env,
        &[
            "--url",
            &other,
            "--ca",
            "ca.crt",
            "--kind",
            "tls",
            "--resolve",
            &resolve_other,
        ],
    );
    assert_eq!(code, Some(1), "{text}");
    // One that does not match the URL is an error, not ignored.
    env.refused(
        &[
            &["verify"][..],
            &probe,
            &["--resolve", "other.test:1:127.0.0.1"],
        ]
        .concat(),
        "not the --url's host and port",
    );
}

#[test]
fn inspect_shows_usages_path_length_and_name_constraints_as_openssl_reads_them() {
    if !require_tool("openssl") {
        return;
    }
    let env = TestEnv::new();
    env.ca(&[
        "--permitted-dns",
        "example.com",
        "--permitted-ip",
        "127.0.0.0/8",
    ]);
    env.issue(&["--host", "agent.example.com", "--client", "--name", "agent"]);
    let ca = stdout(&env.ok(&["inspect", "ca.crt"]));
    let leaf = stdout(&env.ok(&["inspect", "agent.crt"]));
    let ossl = |file: &str| {
        stdout(&openssl(
            &["x509", "-in", file, "-noout", "-text"],
            env.dir.path(),
        ))
    };
    let (ossl_ca, ossl_leaf) = (ossl("ca.crt"), ossl("agent.crt"));
    // The CA: OpenSSL's words on the left, certtool's on the right.
    for (theirs, ours) in [
        ("CA:TRUE, pathlen:0", "CA:          yes (path length 0"),
        (
            "Certificate Sign, CRL Sign",
            "key usage:   keyCertSign, cRLSign",
        ),
        (
            "DNS:example.com",
            "permitted DNS:example.com, IP:127.0.0.0/8",
        ),
        ("IP:127.0.0.0/255.0.0.0", "IP:127.0.0.0/8"),
    ] {
        assert!(ossl_ca.contains(theirs), "openssl: {ossl_ca}");
        assert!(ca.contains(ours), "certtool: {ca}");
    }
    for (theirs, ours) in [
        ("CA:FALSE", "CA:          no"),
        ("Digital Signature", "key usage:   digitalSignature"),
        (
            "TLS Web Server Authentication, TLS Web Client Authentication",
            "ext. usage:  serverAuth, clientAuth",
        ),
    ] {
        assert!(ossl_leaf.contains(theirs), "openssl: {ossl_leaf}");
        assert!(leaf.contains(ours), "certtool: {leaf}");
    }
    let json: serde_json::Value =
        serde_json::from_slice(&env.ok(&["inspect", "ca.crt", "--json"]).stdout).unwrap();
    let cert = &json["certificates"][0];
    assert_eq!(cert["path_len"], 0);
    assert_eq!(cert["name_constraints"]["permitted"][0], "DNS:example.com");
}

#[test]
fn fleet_verification_probes_every_target_and_reports_each() {
    if !require_tool("openssl") {
        return;
    }
    let env = TestEnv::new();
    env.ca(&[]);
    env.issue(&["--host", "localhost", "--name", "a"]);
    env.selfsigned(&["--host", "localhost", "--name", "stranger"]);
    let good: Vec<_> = (0..3)
        .map(|_| openssl_server(&env.path("a.crt"), &env.path("a.key")))
        .collect();
    let bad = openssl_server(&env.path("stranger.crt"), &env.path("stranger.key"));
    let mut lines: Vec<String> = good
        .iter()
        .map(|s| format!("https://localhost:{}", s.port))
        .collect();
    lines.push(format!("https://localhost:{}", bad.port));
    env.write(
        "targets.txt",
        format!("# the fleet\n{}\n", lines.join("\n")),
    );
    let probe = [
        "--targets",
        "targets.txt",
        "--ca",
        "ca.crt",
        "--kind",
        "tls",
    ];
    let (code, text) = verify(&env, &probe);
    assert_eq!(code, Some(1), "one target fails: {text}");
    assert_eq!(
        text.lines().filter(|l| l.starts_with("ok ")).count(),
        3,
        "{text}"
    );
    let failed: Vec<&str> = text.lines().filter(|l| l.starts_with("FAIL")).collect();
    assert_eq!(failed.len(), 1, "{text}");
    assert!(
        failed[0].contains(&bad.port.to_string()) && failed[0].contains("not trusted"),
        "{text}"
    );
    // --url repeated works the same; all good ones pass.
    let urls: Vec<&str> = lines[..3]
        .iter()
        .flat_map(|u| ["--url", u.as_str()])
        .collect();
    let (code, text) = verify(
        &env,
        &[&urls[..], &["--ca", "ca.crt", "--kind", "tls"]].concat(),
    );
    assert_eq!(code, Some(0), "{text}");
    // JSON: one object per target under "targets".
    let out = env.certtool(&[&["--json", "verify"][..], &probe].concat());
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["targets"].as_array().unwrap().len(), 4);
    assert_eq!(report["ok"], false);
    // --prometheus: what promtool accepts as metrics.
    let out = env.certtool(&[&["verify"][..], &probe, &["--prometheus"]].concat());
    let metrics = stdout(&out);
    assert_eq!(
        metrics.matches("certtool_probe_success{").count(),
        4,
        "{metrics}"
    );
    assert!(
        metrics.contains("certtool_probe_ssl_earliest_cert_expiry{"),
        "{metrics}"
    );
    if require_tool("promtool") {
        let mut check = std::process::Command::new("promtool")
            .args(["check", "metrics"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        check
            .stdin
            .take()
            .unwrap()
            .write_all(metrics.as_bytes())
            .unwrap();
        let result = check.wait_with_output().unwrap();
        assert!(
            result.status.success(),
            "{}{}",
            stdout(&result),
            stderr(&result)
        );
    }
}
