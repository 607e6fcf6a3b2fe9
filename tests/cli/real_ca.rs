//! Certificates from a CA certtool does not run: `csr` checked by OpenSSL, `inspect` of
//! requests, `ca sign` of a request OpenSSL made, and `import` of what an OpenSSL-run
//! three-level hierarchy (root → intermediate → leaf) sends back, shuffled, duplicated and
//! incomplete, served by real influxd and prometheus and checked by curl, Python's ssl,
//! `influx` and `certtool verify`.

use std::fs;
use std::path::Path;
use std::process::Command;

use crate::support::{
    TestEnv, curl_ok, openssl, python_ok, require_tool, run, start_influxd, stderr, stdout,
};

/// `openssl ARGS` in the env's dir, which must succeed.
fn openssl_ok(env: &TestEnv, args: &[&str]) -> String {
    let out = openssl(args, env.dir.path());
    assert!(out.status.success(), "openssl {args:?}: {}", stderr(&out));
    format!("{}{}", stdout(&out), stderr(&out))
}

/// The words of `s`, split at whitespace: an argument list without quoting.
fn w(s: &str) -> Vec<&str> {
    s.split_whitespace().collect()
}

/// A root and an intermediate CA made by OpenSSL alone: `NAME-root.crt/.key` and
/// `NAME-inter.crt/.key`, with subject and authority key identifiers as public CAs have them.
fn openssl_hierarchy(env: &TestEnv, name: &str) {
    let (root, inter) = (format!("{name}-root"), format!("{name}-inter"));
    let new_key = "-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes";
    let root_subject = format!("/O=Test/CN={name} Root");
    let req = format!(
        "req -x509 {new_key} -keyout {root}.key -out {root}.crt -days 30 \
         -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign"
    );
    openssl_ok(env, &[w(&req), vec!["-subj", &root_subject]].concat());
    let inter_subject = format!("/O=Test/CN={name} Intermediate");
    let req = format!("req -new {new_key} -keyout {inter}.key -out {inter}.csr");
    openssl_ok(env, &[w(&req), vec!["-subj", &inter_subject]].concat());
    env.write(
        "inter.ext",
        "basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n\
         subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n",
    );
    openssl_ok(
        env,
        &w(&format!(
            "x509 -req -in {inter}.csr -CA {root}.crt -CAkey {root}.key -CAcreateserial -days 30 \
             -extfile inter.ext -out {inter}.crt"
        )),
    );
}

/// OpenSSL, as the intermediate `NAME-inter`, signs `csr` into `out` (the leaf alone, as CAs
/// send it), copying the request's subjectAltNames.
fn openssl_sign(env: &TestEnv, name: &str, csr: &str, out: &str) {
    env.write(
        "leaf.ext",
        "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n\
         authorityKeyIdentifier=keyid\n",
    );
    openssl_ok(
        env,
        &w(&format!(
            "x509 -req -in {csr} -CA {name}-inter.crt -CAkey {name}-inter.key -CAcreateserial \
             -days 20 -copy_extensions copy -extfile leaf.ext -out {out}"
        )),
    );
}

fn json(out: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", stdout(out), stderr(out)))
}

#[test]
fn a_request_is_what_openssl_verifies_and_inspect_reads() {
    if !require_tool("openssl") {
        return;
    }
    let env = TestEnv::new();
    let args = [
        "csr",
        "--host",
        "influx.test",
        "--host",
        "127.0.0.1",
        "--subject",
        "O=Example Corp,C=DE",
        "--out-dir",
        "ssl",
        "--name",
        "influxdb",
    ];
    let out = env.ok(&args);
    assert!(stderr(&out).contains("certtool import"), "{}", stderr(&out));
    assert_eq!(crate::support::mode(&env.path("ssl/influxdb.key")), 0o600);
    assert_eq!(crate::support::mode(&env.path("ssl/influxdb.csr")), 0o644);
    let text = openssl_ok(&env, &w("req -in ssl/influxdb.csr -verify -noout -text"));
    for want in [
        "verify OK",
        "O = Example Corp, C = DE, CN = influx.test",
        "DNS:influx.test, IP Address:127.0.0.1",
        "TLS Web Server Authentication",
        "Digital Signature",
    ] {
        assert!(text.contains(want), "{want}: {text}");
    }
    // perms knows a request: public like a certificate, 0644.
    crate::support::set_mode(&env.path("ssl/influxdb.csr"), 0o666);
    assert_eq!(env.certtool(&["perms", "ssl"]).status.code(), Some(1));
    env.ok(&["perms", "--fix", "ssl"]);
    assert_eq!(crate::support::mode(&env.path("ssl/influxdb.csr")), 0o644);
    // The key is never replaced without --force.
    env.refused(&args, "already exists");
    // A request for an existing key, only read: openssl sees the same public key.
    let key_before = fs::read(env.path("ssl/influxdb.key")).unwrap();
    env.ok(&w(
        "csr --host influx.test --key ssl/influxdb.key --out-dir ssl --name again",
    ));
    assert!(!env.path("ssl/again.key").exists());
    assert_eq!(fs::read(env.path("ssl/influxdb.key")).unwrap(), key_before);
    let from_csr = openssl_ok(&env, &w("req -in ssl/again.csr -noout -pubkey"));
    let from_key = openssl_ok(&env, &w("pkey -in ssl/influxdb.key -pubout"));
    assert_eq!(from_csr, from_key);

    // inspect reads it, and checks it against the key.
    let out = env.ok(&w("--json inspect ssl/influxdb.csr --key ssl/influxdb.key"));
    let report = json(&out);
    let request = &report["certificate_requests"][0];
    assert_eq!(request["signature_valid"], true, "{report:#}");
    assert_eq!(request["subject"], "O=Example Corp, C=DE, CN=influx.test");
    assert_eq!(request["hosts"][1]["value"], "127.0.0.1");
    assert_eq!(report["key_matches"], true);
    // A request altered after it was signed: its signature no longer verifies (exit 1), and
    // ca sign refuses it (exit 2).
    openssl_ok(
        &env,
        &w("req -in ssl/influxdb.csr -outform DER -out der.csr"),
    );
    let mut der = fs::read(env.path("der.csr")).unwrap();
    let at = der.windows(11).position(|w| w == b"influx.test").unwrap();
    der[at] = b'e';
    env.write("tampered.csr", &der);
    let out = env.certtool(&["inspect", "tampered.csr"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stdout(&out).contains("INVALID"), "{}", stdout(&out));
    env.ok(&["ca", "init"]);
    let err = env.refused(
        &w("ca sign tampered.csr --ca-cert ca.crt --ca-key ca.key"),
        "does not verify",
    );
    assert!(!env.path("tampered.crt").exists(), "{err}");
}

#[test]
fn ca_sign_grants_a_request_from_openssl_only_the_leaf_profile() {
    if !(require_tool("openssl") && require_tool("curl")) {
        return;
    }
    let env = TestEnv::new();
    env.ok(&w(
        "ca init --permitted-dns test --permitted-ip 127.0.0.0/8",
    ));
    openssl_ok(
        &env,
        &w(
            "req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout app.key -out app.csr -subj /CN=app.test -addext subjectAltName=DNS:app.test,IP:127.0.0.1,email:ops@app.test -addext basicConstraints=critical,CA:TRUE -addext extendedKeyUsage=serverAuth,clientAuth,codeSigning",
        ),
    );
    let out = env.ok(&w(
        "--json ca sign app.csr --ca-cert ca.crt --ca-key ca.key --days 30",
    ));
    let report = json(&out);
    let not_granted = report["not_granted"].to_string();
    for left in [
        "CA:TRUE",
        "clientAuth (pass --client)",
        "codeSigning",
        "email:ops@app.test",
    ] {
        assert!(not_granted.contains(left), "{left}: {report:#}");
    }
    assert_eq!(report["files"][0]["path"], "app.crt");
    let text = openssl_ok(&env, &w("verify -CAfile ca.crt -purpose sslserver app.crt"));
    assert!(text.contains("app.crt: OK"), "{text}");
    let ext = openssl_ok(
        &env,
        &w("x509 -in app.crt -noout -ext basicConstraints,extendedKeyUsage"),
    );
    assert!(ext.contains("CA:FALSE") && !ext.contains("Client"), "{ext}");
    // Served with the key that never left its owner: curl trusts it through the CA.
    let server = crate::support::openssl_server(&env.path("app.crt"), &env.path("app.key"));
    curl_ok(&env.path("ca.crt"), "app.test", server.port).unwrap();
    // --client grants clientAuth; a name outside the CA's constraints is refused.
    env.ok(&w(
        "ca sign app.csr --ca-cert ca.crt --ca-key ca.key --client --out app-client.crt",
    ));
    let ext = openssl_ok(
        &env,
        &w("x509 -in app-client.crt -noout -ext extendedKeyUsage"),
    );
    assert!(ext.contains("TLS Web Client Authentication"), "{ext}");
    openssl_ok(
        &env,
        &w(
            "req -new -key app.key -out evil.csr -subj /CN=evil.example -addext subjectAltName=DNS:evil.example",
        ),
    );
    env.refused(
        &w("ca sign evil.csr --ca-cert ca.crt --ca-key ca.key"),
        "may not sign for evil.example",
    );
    assert!(!env.path("evil.crt").exists());
}

/// curl, Python's ssl, influx (with `SSL_CERT_FILE`) and `certtool verify --url`, all
/// trusting only `root`, against influxd on `port`: `Ok` if all succeed, else who failed.
fn clients_trust(env: &TestEnv, root: &Path, port: u16) -> Result<(), String> {
    let mut failed = Vec::new();
    if let Err(e) = curl_ok(root, "localhost", port) {
        failed.push(format!("curl: {e}"));
    }
    if let Err(e) = python_ok(root, "localhost", port) {
        failed.push(format!("python: {e}"));
    }
    let influx = run(Command::new("influx")
        .env("SSL_CERT_FILE", root)
        .args(["-ssl", "-host", "localhost", "-port", &port.to_string()])
        .args(["-execute", "SHOW DATABASES"]));
    if !influx.status.success() {
        failed.push(format!("influx: {}{}", stdout(&influx), stderr(&influx)));
    }
    let url = format!("https://localhost:{port}");
    let verify = env.certtool(&["verify", "--url", &url, "--ca", &root.display().to_string()]);
    if verify.status.code() != Some(0) {
        failed.push(format!("certtool verify: {}", stdout(&verify)));
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(failed.join("\n"))
    }
}

fn influxd_serving(env: &TestEnv, dir: &str) -> crate::support::Server {
    let (crt, key) = (
        env.path(&format!("{dir}/influxdb.crt")),
        env.path(&format!("{dir}/influxdb.key")),
    );
    start_influxd(
        env,
        &format!(
            "  https-enabled = true\n  https-certificate = \"{}\"\n  https-private-key = \"{}\"\n",
            crt.display(),
            key.display()
        ),
    )
}

#[test]
fn import_orders_what_the_ca_sent_and_real_servers_serve_it() {
    if !(require_tool("openssl")
        && require_tool("curl")
        && require_tool("influxd")
        && require_tool("influx")
        && require_tool("prometheus"))
    {
        return;
    }
    let env = TestEnv::new();
    openssl_hierarchy(&env, "corp");
    openssl_hierarchy(&env, "other");
    env.ok(&w(
        "csr --host localhost --host 127.0.0.1 --out-dir ssl --name influxdb",
    ));
    openssl_sign(&env, "corp", "ssl/influxdb.csr", "signed.crt");
    // What came back: the leaf, and a bundle with the root first, a stranger, and the
    // intermediate twice.
    let read = |name: &str| fs::read_to_string(env.path(name)).unwrap();
    env.write(
        "bundle.pem",
        [
            read("corp-root.crt"),
            read("other-inter.crt"),
            read("corp-inter.crt"),
            read("corp-inter.crt"),
        ]
        .concat(),
    );
    let out = env.ok(&w("--json import --cert signed.crt --chain bundle.pem --key ssl/influxdb.key --host localhost --host 127.0.0.1"));
    let report = json(&out);
    assert_eq!(report["root"]["source"], "inputs", "{report:#}");
    let left_out: Vec<&str> = report["left_out"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["subject"].as_str().unwrap())
        .collect();
    assert_eq!(
        left_out,
        [
            "O=Test, CN=other Intermediate",
            "O=Test, CN=corp Intermediate",
            "O=Test, CN=corp Root"
        ],
        "{report:#}"
    );
    // The key was already in place: only the chain is written, beside it.
    let files: Vec<&str> = report["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(files, ["ssl/influxdb.crt"]);
    let written = json(&env.ok(&["--json", "inspect", "ssl/influxdb.crt"]));
    let subjects: Vec<&str> = written["certificates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["subject"].as_str().unwrap())
        .collect();
    assert_eq!(subjects, ["CN=localhost", "O=Test, CN=corp Intermediate"]);
    let verified = openssl_ok(
        &env,
        &w("verify -CAfile corp-root.crt -untrusted ssl/influxdb.crt ssl/influxdb.crt"),
    );
    assert!(verified.contains(": OK"), "{verified}");

    // Served by real influxd and prometheus, trusted by clients that know only the root.
    let influxd = influxd_serving(&env, "ssl");
    clients_trust(&env, &env.path("corp-root.crt"), influxd.port).unwrap();
    env.ok(&w(
        "config prometheus --cert ssl/influxdb.crt --key ssl/influxdb.key --out web-config.yml",
    ));
    let prometheus = crate::support::start_prometheus(&env, "");
    curl_ok(&env.path("corp-root.crt"), "localhost", prometheus.port).unwrap();
    let url = format!("https://localhost:{}", prometheus.port);
    env.ok(&["verify", "--url", &url, "--ca", "corp-root.crt"]);

    // The leaf and the root without the intermediate between them: not complete, nothing
    // written, and the missing issuer named.
    let out = env.certtool(&w(
        "import --cert signed.crt --chain corp-root.crt --key ssl/influxdb.key --out-dir partial",
    ));
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("missing the issuer O=Test, CN=corp Intermediate (key id "),
        "{}",
        stdout(&out)
    );
    assert!(!env.path("partial").exists());
    // Written anyway on request: every client then fails, as import said they would.
    let out = env.ok(&w(
        "import --cert signed.crt --key ssl/influxdb.key --out-dir partial --allow-incomplete",
    ));
    assert!(stdout(&out).contains("warn  chain"), "{}", stdout(&out));
    let influxd_partial = influxd_serving(&env, "partial");
    let failed = clients_trust(&env, &env.path("corp-root.crt"), influxd_partial.port).unwrap_err();
    for client in ["curl:", "python:", "influx:", "certtool verify:"] {
        assert!(failed.contains(client), "{client} succeeded: {failed}");
    }
}

#[test]
fn import_finds_a_root_the_system_trusts_and_refuses_what_does_not_fit() {
    if !require_tool("openssl") {
        return;
    }
    let env = TestEnv::new();
    openssl_hierarchy(&env, "corp");
    env.ok(&w("csr --host localhost --name srv"));
    openssl_sign(&env, "corp", "srv.csr", "signed.crt");
    // The system's trust store (here $SSL_CERT_FILE, as OpenSSL reads it) has the root.
    let store = [
        fs::read_to_string("/etc/ssl/certs/ca-certificates.crt").unwrap_or_default(),
        fs::read_to_string(env.path("corp-root.crt")).unwrap(),
    ]
    .concat();
    env.write("store.pem", store);
    let import = [
        "--json",
        "import",
        "--cert",
        "signed.crt",
        "--chain",
        "corp-inter.crt",
        "--key",
        "srv.key",
        "--out-dir",
        "out",
    ];
    let out = env
        .cmd()
        .args(import)
        .env("SSL_CERT_FILE", env.path("store.pem"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let report = json(&out);
    assert_eq!(report["root"]["source"], "system", "{report:#}");
    assert_eq!(report["root"]["subject"], "O=Test, CN=corp Root");
    // The key was elsewhere: a copy goes beside the certificate, 0600.
    assert_eq!(crate::support::mode(&env.path("out/srv.key")), 0o600);
    assert_eq!(
        fs::read(env.path("out/srv.key")).unwrap(),
        fs::read(env.path("srv.key")).unwrap()
    );

    // Bad input is named in the order of the command line: the missing certificate first.
    env.write("garbage.key", "garbage\n");
    let err = env.refused(
        &["import", "--cert", "missing.crt", "--key", "garbage.key"],
        "missing.crt",
    );
    assert!(!err.contains("garbage.key"), "{err}");
    // A store without it: the chain reaches no root.
    env.write("empty.pem", "");
    let out = env
        .cmd()
        .args(import)
        .arg("--force")
        .env("SSL_CERT_FILE", env.path("empty.pem"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert_eq!(json(&out)["ok"], false);
    // Another key; a host the certificate does not cover; a CA certificate as the leaf.
    for (extra, expected) in [
        (
            &w("--key corp-inter.key --cert signed.crt")[..],
            "belongs to none",
        ),
        (
            &w("--key srv.key --cert signed.crt --host other.test")[..],
            "other.test: not covered",
        ),
        (
            &w("--key corp-inter.key --cert corp-inter.crt")[..],
            "CA certificate, not a server's",
        ),
    ] {
        let out = env.certtool(
            &[
                &w("import --chain corp-root.crt --out-dir refused")[..],
                extra,
            ]
            .concat(),
        );
        assert_eq!(out.status.code(), Some(1), "{extra:?}: {}", stdout(&out));
        assert!(
            stdout(&out).contains(expected),
            "{expected}: {}",
            stdout(&out)
        );
        assert!(!env.path("refused").exists());
    }
}
