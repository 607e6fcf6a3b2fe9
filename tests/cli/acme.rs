//! `acme issue` and `acme renew` against a real ACME server: Debian's pebble, started here on
//! loopback with free ports (its own TLS pair made by certtool), validating http-01 for real
//! against certtool's listener or a web server's webroot. The certificates are checked with
//! `openssl verify` against pebble's root and served by a real influxd.

use std::fs;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::support::{
    Pebble, TestEnv, curl_ok, free_port, require_tool, start_influxd, stderr, stdout,
};

fn pebble(env: &TestEnv, extra_env: &[(&str, &str)]) -> Pebble {
    Pebble::start(env.dir.path(), extra_env, None)
}

fn have_pebble() -> bool {
    require_tool("pebble") && require_tool("openssl") && require_tool("curl")
}

/// The flags every run against `p` takes: the account in `acct`, the listener on `port`.
fn client<'a>(p: &'a Pebble, port: &'a str, acct: &'a str) -> Vec<&'a str> {
    vec![
        "--directory",
        &p.directory,
        "--ca-bundle",
        p.bundle.to_str().unwrap(),
        "--account-dir",
        acct,
        "--bind",
        "127.0.0.1",
        "--http-port",
        port,
    ]
}

fn json(out: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", stdout(out), stderr(out)))
}

fn openssl_verifies(root: &Path, chain: &Path) -> bool {
    let out = Command::new("openssl")
        .arg("verify")
        .arg("-CAfile")
        .arg(root)
        .arg("-untrusted")
        .arg(chain)
        .arg(chain)
        .output()
        .unwrap();
    out.status.success()
}

#[test]
fn acme_issue_answers_http01_for_names_and_ips_and_influxd_serves_the_result() {
    if !(have_pebble() && require_tool("influxd")) {
        return;
    }
    let env = TestEnv::new();
    let p = pebble(&env, &[]);
    let port = p.http_port.to_string();
    let issue = |extra: &[&str]| {
        let args = [
            &[
                "--json",
                "acme",
                "issue",
                "--host",
                "localhost",
                "--host",
                "127.0.0.1",
            ][..],
            &client(&p, &port, "acct"),
            &["--out-dir", "ssl", "--name", "influxdb"],
            extra,
        ]
        .concat();
        let out = env.certtool(&args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}{}",
            stdout(&out),
            stderr(&out)
        );
        json(&out)
    };
    let report = issue(&["--email", "ops@example.com"]);
    assert_eq!(report["account_created"], true, "{report:#}");
    let hosts = report["certificate"]["hosts"].to_string();
    assert!(
        hosts.contains("localhost") && hosts.contains("127.0.0.1"),
        "{hosts}"
    );
    assert_eq!(crate::support::mode(&env.path("ssl/influxdb.key")), 0o600);
    assert_eq!(crate::support::mode(&env.path("ssl/influxdb.crt")), 0o644);
    let account = fs::read_dir(env.path("acct"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path()
        .join("account.json");
    assert_eq!(crate::support::mode(&account), 0o600);
    // The chain leads to pebble's root (made at its start), by OpenSSL.
    assert!(openssl_verifies(&p.root, &env.path("ssl/influxdb.crt")));
    // Existing files are kept without --force; with it, the stored account is used again.
    let out = env.certtool(
        &[
            &["acme", "issue", "--host", "localhost"][..],
            &client(&p, &port, "acct"),
            &["--out-dir", "ssl", "--name", "influxdb"],
        ]
        .concat(),
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("already exists"), "{}", stderr(&out));
    let report = issue(&["--force"]);
    assert_eq!(report["account_created"], false, "{report:#}");

    // Served by influxd, trusted by curl and certtool verify through pebble's root alone.
    let crt = env.path("ssl/influxdb.crt");
    let key = env.path("ssl/influxdb.key");
    let influxd = start_influxd(
        &env,
        &format!(
            "  https-enabled = true\n  https-certificate = \"{}\"\n  https-private-key = \"{}\"\n",
            crt.display(),
            key.display()
        ),
    );
    curl_ok(&p.root, "localhost", influxd.port).unwrap();
    let url = format!("https://127.0.0.1:{}", influxd.port);
    env.ok(&["verify", "--url", &url, "--ca", p.root.to_str().unwrap()]);
}

#[test]
fn acme_issue_through_a_webroot_leaves_no_challenge_files() {
    if !(have_pebble() && require_tool("python3")) {
        return;
    }
    let env = TestEnv::new();
    let p = pebble(&env, &[]);
    fs::create_dir(env.path("www")).unwrap();
    // A web server already holding the port the CA connects to.
    let mut web = Command::new("python3")
        .args([
            "-m",
            "http.server",
            &p.http_port.to_string(),
            "--bind",
            "127.0.0.1",
        ])
        .current_dir(env.path("www"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    assert!(crate::support::wait_for_port(p.http_port, &mut web));
    let port = p.http_port.to_string();
    // The built-in listener cannot have the port: one line, a hint, exit 2.
    let out = env.certtool(
        &[
            &["acme", "issue", "--host", "localhost"][..],
            &client(&p, &port, "acct"),
        ]
        .concat(),
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!("port {port} is in use")),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("--webroot"), "{}", stderr(&out));
    let args = [
        "acme",
        "issue",
        "--host",
        "localhost",
        "--directory",
        &p.directory,
        "--ca-bundle",
        p.bundle.to_str().unwrap(),
        "--account-dir",
        "acct",
        "--webroot",
        "www",
    ];
    env.ok(&args);
    let _ = web.kill();
    let _ = web.wait();
    assert!(openssl_verifies(&p.root, &env.path("localhost.crt")));
    let left: Vec<_> = fs::read_dir(env.path("www/.well-known/acme-challenge"))
        .map(|d| d.map(|e| e.unwrap().file_name()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "challenge files left: {left:?}");
}

#[test]
fn acme_renew_renews_only_when_due_then_runs_exec() {
    if !have_pebble() {
        return;
    }
    let env = TestEnv::new();
    let p = pebble(&env, &[]);
    let port = p.http_port.to_string();
    env.ok(&[
        &["acme", "issue", "--host", "localhost"][..],
        &client(&p, &port, "acct"),
    ]
    .concat());
    let before = (
        fs::read(env.path("localhost.crt")).unwrap(),
        fs::read(env.path("localhost.key")).unwrap(),
    );
    let renew = |extra: &[&str]| {
        let args = [
            &["--json", "acme", "renew", "localhost.crt"][..],
            &client(&p, &port, "acct"),
            &["--exec", "echo ran > exec.log"],
            extra,
        ]
        .concat();
        let out = env.certtool(&args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}{}",
            stdout(&out),
            stderr(&out)
        );
        json(&out)
    };
    // Not due (pebble's certificates last years): nothing changes, twice, --exec not run.
    for _ in 0..2 {
        let report = renew(&[]);
        assert_eq!(report["renewed"], false, "{report:#}");
    }
    assert_eq!(fs::read(env.path("localhost.crt")).unwrap(), before.0);
    assert!(!env.path("exec.log").exists());
    // Due by --within: a new certificate and key, the old ones kept as .bak, --exec after.
    let report = renew(&["--within", "36500d"]);
    assert!(
        report["renewed"].as_str().unwrap().contains("within"),
        "{report:#}"
    );
    assert_ne!(fs::read(env.path("localhost.key")).unwrap(), before.1);
    assert_eq!(fs::read(env.path("localhost.key.bak")).unwrap(), before.1);
    assert_eq!(fs::read_to_string(env.path("exec.log")).unwrap(), "ran\n");
    assert!(openssl_verifies(&p.root, &env.path("localhost.crt")));
    // --reuse-key: only the certificate changes.
    let key = fs::read(env.path("localhost.key")).unwrap();
    renew(&["--within", "36500d", "--reuse-key"]);
    assert_eq!(fs::read(env.path("localhost.key")).unwrap(), key);
}

#[test]
fn acme_failures_are_one_line_with_a_hint_and_exit_1() {
    if !have_pebble() {
        return;
    }
    let env = TestEnv::new();
    // Nobody at the directory.
    let nobody = format!("https://127.0.0.1:{}/dir", free_port());
    let out = env.certtool(&[
        "--json",
        "acme",
        "issue",
        "--host",
        "localhost",
        "--directory",
        &nobody,
        "--http-port",
        "0",
        "--bind",
        "127.0.0.1",
        "--account-dir",
        "acct",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(json(&out)["ok"], false);
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 2, "{err}");
    assert!(
        err.starts_with("certtool: error: cannot talk to the ACME server")
            && err.contains("refused"),
        "{err}"
    );
    assert!(err.contains("hint: check --directory"), "{err}");

    // Real validation, and nothing answers on the port the CA fetches from: it says so.
    let p = pebble(&env, &[]);
    let blocker = TcpListener::bind("127.0.0.1:0").unwrap();
    let other = blocker.local_addr().unwrap().port().to_string();
    drop(blocker);
    let out = env.certtool(
        &[
            &["--json", "acme", "issue", "--host", "localhost"][..],
            &client(&p, &other, "acct"),
        ]
        .concat(),
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report = json(&out);
    assert!(
        report["failure"]["message"]
            .as_str()
            .unwrap()
            .contains("could not validate the challenge: Get \"http://localhost:"),
        "{report:#}"
    );
    assert!(!env.path("localhost.crt").exists() && !env.path("localhost.key").exists());
    drop(p);

    // A name the CA will not take: its problem type, and its words, on one line.
    let p = pebble(&env, &[]);
    let port = p.http_port.to_string();
    let out = env.certtool(
        &[
            &["--json", "acme", "issue", "--host", "bad_name.test"][..],
            &client(&p, &port, "acct4"),
        ]
        .concat(),
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(
        json(&out)["failure"]["problem"],
        "urn:ietf:params:acme:error:malformed"
    );
    assert!(
        stderr(&out).contains("illegal character"),
        "{}",
        stderr(&out)
    );
    drop(p);

    // Every nonce rejected: instant-acme retries, then certtool names the cause.
    let p = pebble(&env, &[("PEBBLE_WFE_NONCEREJECT", "100")]);
    let port = p.http_port.to_string();
    let out = env.certtool(
        &[
            &["--json", "acme", "issue", "--host", "localhost"][..],
            &client(&p, &port, "acct2"),
        ]
        .concat(),
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report = json(&out);
    assert_eq!(
        report["failure"]["problem"], "urn:ietf:params:acme:error:badNonce",
        "{report:#}"
    );
    drop(p);

    // With PEBBLE_VA_ALWAYS_VALID no challenge is fetched: the order goes through although
    // nothing listens where the CA would look.
    let p = pebble(&env, &[("PEBBLE_VA_ALWAYS_VALID", "1")]);
    env.ok(&[
        &["acme", "issue", "--host", "localhost", "--force"][..],
        &client(&p, &other, "acct3"),
    ]
    .concat());
    assert!(openssl_verifies(&p.root, &env.path("localhost.crt")));
}

#[test]
fn acme_issue_answers_tls_alpn01_for_a_name_and_an_ip_address() {
    if !have_pebble() {
        return;
    }
    let env = TestEnv::new();
    let p = pebble(&env, &[]);
    let (http, tls) = (p.http_port.to_string(), p.tls_port.to_string());
    let args = [
        &[
            "--json",
            "acme",
            "issue",
            "--host",
            "localhost",
            "--host",
            "127.0.0.1",
        ][..],
        &client(&p, &http, "acct"),
        &["--challenge", "tls-alpn-01", "--tls-port", &tls],
    ]
    .concat();
    let out = env.certtool(&args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(openssl_verifies(&p.root, &env.path("localhost.crt")));
    // --webroot answers http-01 only: refused before the CA is asked.
    let out = env.certtool(&[
        "acme",
        "issue",
        "--host",
        "localhost",
        "--directory",
        &p.directory,
        "--ca-bundle",
        p.bundle.to_str().unwrap(),
        "--account-dir",
        "acct",
        "--challenge",
        "tls-alpn-01",
        "--webroot",
        ".",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("--webroot answers http-01"),
        "{}",
        stderr(&out)
    );
}

/// Debian's pebble 2.4 offers no ACME Renewal Information; this stands in for a CA that does
/// (RFC 9773): it serves pebble's directory with `renewalInfo` added, and answers renewal
/// information itself, a window that has begun once `window-open` exists in `dir` (each query
/// logged in `ari.log`). Everything else goes to pebble itself, as the directory points there.
const ARI_CA: &str = r#"
import datetime, http.server, json, os, ssl, sys, urllib.request
port, pebble, cert, key, cafile, dir = sys.argv[1:7]
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_GET(self):
        if self.path == "/dir":
            ctx = ssl.create_default_context(cafile=cafile)
            d = json.load(urllib.request.urlopen(pebble, context=ctx))
            d["renewalInfo"] = f"https://127.0.0.1:{port}/renewal-info"
            body, extra = json.dumps(d).encode(), {}
        elif self.path.startswith("/renewal-info/"):
            open(os.path.join(dir, "ari.log"), "a").write(self.path + "\n")
            now = datetime.datetime.now(datetime.timezone.utc)
            start = now - datetime.timedelta(days=1) if os.path.exists(os.path.join(dir, "window-open")) else now + datetime.timedelta(days=60)
            fmt = lambda t: t.strftime("%Y-%m-%dT%H:%M:%SZ")
            body = json.dumps({"suggestedWindow": {"start": fmt(start), "end": fmt(start + datetime.timedelta(days=2))}}).encode()
            extra = {"Retry-After": "3600"}
        else:
            self.send_response(404); self.end_headers(); return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        for k, v in extra.items(): self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
srv = http.server.ThreadingHTTPServer(("127.0.0.1", int(port)), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); ctx.load_cert_chain(cert, key)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
srv.serve_forever()
"#;

#[test]
fn acme_renew_follows_the_cas_renewal_information_and_asks_only_after_retry_after() {
    if !(have_pebble() && require_tool("python3")) {
        return;
    }
    let env = TestEnv::new();
    let p = pebble(&env, &[]);
    let ari_port = free_port();
    let mut ari = Command::new("python3")
        .arg("-c")
        .arg(ARI_CA)
        .arg(ari_port.to_string())
        .arg(&p.directory)
        .arg(env.path("pebble.crt"))
        .arg(env.path("pebble.key"))
        .arg(&p.bundle)
        .arg(env.dir.path())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    assert!(crate::support::wait_for_port(ari_port, &mut ari));
    let directory = format!("https://127.0.0.1:{ari_port}/dir");
    let port = p.http_port.to_string();
    let flags = [
        "--directory",
        &directory,
        "--ca-bundle",
        p.bundle.to_str().unwrap(),
        "--account-dir",
        "acct",
        "--bind",
        "127.0.0.1",
        "--http-port",
        &port,
    ];
    env.ok(&[&["acme", "issue", "--host", "localhost"][..], &flags].concat());
    let queries = || {
        fs::read_to_string(env.path("ari.log"))
            .unwrap_or_default()
            .lines()
            .count()
    };
    let renew = || {
        let out =
            env.certtool(&[&["--json", "acme", "renew", "localhost.crt"][..], &flags].concat());
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}{}",
            stdout(&out),
            stderr(&out)
        );
        json(&out)
    };
    // Years left, and the CA's window is two months away: not due, asked once.
    assert_eq!(renew()["renewed"], false);
    assert_eq!(queries(), 1);
    // Asked again only after the CA's Retry-After (an hour): a second run is a local check,
    // even once the CA's window has opened.
    fs::write(env.path("window-open"), "").unwrap();
    assert_eq!(renew()["renewed"], false);
    assert_eq!(queries(), 1);
    // Once the kept answer is stale, the CA is asked, its window has begun: renewed.
    let kept = fs::read_dir(env.path("acct"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path()
        .join("ari");
    fs::remove_dir_all(kept).unwrap();
    let report = renew();
    assert!(
        report["renewed"]
            .as_str()
            .unwrap()
            .contains("ACME Renewal Information"),
        "{report:#}"
    );
    assert_eq!(queries(), 2);
    assert!(openssl_verifies(&p.root, &env.path("localhost.crt")));
    let _ = ari.kill();
    let _ = ari.wait();
}
