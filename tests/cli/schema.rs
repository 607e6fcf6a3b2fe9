//! Every command's `--json` output, successful or failed, validated against the JSON Schema
//! kept in `docs/certtool.schema.json` by an independent validator (Python's `jsonschema`).
//! The schema is what all commands share today: a top-level `ok`, the error object, RFC 3339
//! times, whole-day counts, typed hosts, and checks with `ok` and `detail`.

use std::fmt::Write as _;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::Command;

use crate::support::{TestEnv, require, require_tool, stderr, stdout};

fn schema() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/certtool.schema.json")
}

/// Validate each document (one per line of `docs`) with Python's jsonschema; the failures.
fn invalid(docs: &[(String, String)]) -> Vec<String> {
    const SCRIPT: &str = r#"
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
for line in sys.stdin:
    name, doc = line.rstrip("\n").split("\t", 1)
    try:
        jsonschema.validate(json.loads(doc), schema)
    except Exception as e:
        print(f"{name}: {str(e).splitlines()[0]}")
"#;
    let mut input = String::new();
    for (name, doc) in docs {
        let one_line: serde_json::Value =
            serde_json::from_str(doc).unwrap_or_else(|e| panic!("{name}: not JSON ({e}): {doc}"));
        let _ = writeln!(input, "{name}\t{one_line}");
    }
    let mut child = Command::new("python3")
        .arg("-c")
        .arg(SCRIPT)
        .arg(schema())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), input.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out).lines().map(str::to_owned).collect()
}

/// Every command, in the order they build on each other (the CA before `ca issue`), with
/// arguments separated by spaces; the last ones fail on purpose.
const RUNS: &[&str] = &[
    "selfsigned --host localhost --host 127.0.0.1",
    "ca init",
    "ca issue --ca-cert ca.crt --ca-key ca.key --host db.test",
    "csr --host app.test --name app",
    "inspect app.csr --key app.key",
    "ca sign app.csr --ca-cert ca.crt --ca-key ca.key",
    "import --cert app.crt --key app.key --out-dir imported --host app.test",
    "import --cert app.crt --key localhost.key --out-dir refused",
    "acme issue --host localhost --directory https://127.0.0.1:9/dir --http-port 0 --bind 127.0.0.1 --account-dir acct",
    "acme renew localhost.crt --directory https://127.0.0.1:9/dir --account-dir acct",
    "audit influxdb --config influxdb.conf",
    "audit prometheus --web-config web.yml",
    "audit telegraf --config influxdb.conf",
    "check .",
    "check localhost.crt --within 400d",
    "inspect localhost.crt --key localhost.key",
    "perms .",
    "renew localhost.crt --within 30d",
    "renew localhost.crt",
    "verify --cert localhost.crt --key localhost.key",
    "config influxdb --cert localhost.crt --key localhost.key",
    "config influxdb --cert localhost.crt --key localhost.key --in-place influxdb.conf --dry-run",
    "config influxdb2 --cert localhost.crt --key localhost.key",
    "config telegraf --url https://localhost:8086 --ca localhost.crt",
    "config prometheus --cert localhost.crt --key localhost.key",
    "config prometheus --cert localhost.crt --key localhost.key --out web.yml",
    "config prometheus-scrape --ca localhost.crt",
    "secret generate --out new.secret",
    "provision influxdb --host localhost --out-dir prov --config influxdb.conf --auth --dry-run",
    "provision influxdb --host localhost --out-dir prov --config influxdb.conf --auth",
    "provision influxdb --host localhost --out-dir prov --config missing.conf",
    "jwt mint --user telegraf --secret-file s.secret",
    "jwt decode eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ1c2VybmFtZSI6InUiLCJleHAiOjE5MDAwMDAwMDB9.c2ln",
    "jwt verify eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ1c2VybmFtZSI6InUiLCJleHAiOjE5MDAwMDAwMDB9.c2ln --secret-file s.secret",
    "inspect missing.crt",
    "selfsigned --host bad!host",
    "selfsigned --days 0 --host x.test",
    "completions bash",
];

/// `verify --url` against certtool's own integrated server kept serving, and (where influxd is
/// installed) `verify --launch influxdb`: the other two modes of verify.
fn verify_url_and_launch(env: &TestEnv) -> Vec<(String, String)> {
    let port = crate::support::free_port().to_string();
    let mut server = env
        .cmd_std()
        .args([
            "verify",
            "--cert",
            "localhost.crt",
            "--key",
            "localhost.key",
            "--port",
            &port,
        ])
        .args(["--serve-for", "20s"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let up = crate::support::wait_for_port(port.parse().unwrap(), &mut server);
    let url = format!("https://localhost:{port}");
    let mut docs = Vec::new();
    if up {
        for args in [
            vec![
                "--json",
                "verify",
                "--url",
                &url,
                "--ca",
                "localhost.crt",
                "--kind",
                "tls",
            ],
            vec![
                "--json",
                "verify",
                "--url",
                &url,
                "--kind",
                "tls",
                "--insecure",
            ],
        ] {
            let out = stdout(&env.certtool(&args));
            let v: serde_json::Value = serde_json::from_str(&out).unwrap();
            assert_eq!(v["ok"], true, "{args:?}: {out}");
            assert_eq!(v["mode"], "url", "{args:?}");
            docs.push((args.join(" "), out));
        }
    }
    let _ = server.kill();
    let _ = server.wait();
    assert!(up, "the integrated server did not listen");
    if require_tool("influxd") {
        let args = [
            "--json",
            "verify",
            "--launch",
            "influxdb",
            "--cert",
            "localhost.crt",
            "--key",
            "localhost.key",
        ];
        docs.push((args.join(" "), stdout(&env.certtool(&args))));
    }
    docs
}

fn validator_refuses_what_breaks_the_conventions() {
    let bad = [
        ("no ok", r#"{"files": []}"#),
        ("ok as text", r#"{"ok": "yes"}"#),
        (
            "error without a code",
            r#"{"ok": false, "error": {"message": "x", "hint": null}}"#,
        ),
        (
            "local time",
            r#"{"ok": true, "not_after": "2027-01-01 12:00"}"#,
        ),
        ("untyped host", r#"{"ok": true, "hosts": ["localhost"]}"#),
        (
            "old certificate spelling",
            r#"{"ok": true, "certificates": [{"subject": "a", "issuer": "b",
                "not_after": "2027-01-01T00:00:00Z", "days_left": 1, "index": 0}]}"#,
        ),
        (
            "check without a name",
            r#"{"ok": true, "checks": [{"check": "x", "ok": true, "detail": ""}]}"#,
        ),
        (
            "file without a kind",
            r#"{"ok": true, "files": [{"path": "a", "mode": "0600"}]}"#,
        ),
        (
            "certificate as a path",
            r#"{"ok": true, "certificate": "./a.crt"}"#,
        ),
    ];
    let bad: Vec<(String, String)> = bad
        .iter()
        .map(|(n, d)| ((*n).to_owned(), (*d).to_owned()))
        .collect();
    assert_eq!(invalid(&bad).len(), bad.len(), "{:?}", invalid(&bad));
}

#[test]
fn every_command_json_matches_the_schema() {
    let have_jsonschema = require_tool("python3")
        && Command::new("python3")
            .args(["-c", "import jsonschema"])
            .status()
            .is_ok_and(|s| s.success());
    if !require(have_jsonschema, "Python's jsonschema (python3-jsonschema)") {
        return;
    }
    let env = TestEnv::new();
    env.write("s.secret", "q2J6lW8x0nYb4cF1Vt9KsZpA3eRmHuDg\n");
    fs::set_permissions(env.path("s.secret"), fs::Permissions::from_mode(0o600)).unwrap();
    env.write("influxdb.conf", "[http]\n  # https-enabled = false\n");
    let mut docs = Vec::new();
    for line in RUNS {
        let mut all = vec!["--json"];
        all.extend(line.split_whitespace());
        let out = env.certtool(&all);
        let code = out.status.code();
        assert!(code.is_some_and(|c| c <= 2), "{all:?}: {}", stderr(&out));
        docs.push(((*line).to_owned(), stdout(&out)));
    }
    docs.extend(verify_url_and_launch(&env));
    let failures = invalid(&docs);
    assert!(
        failures.is_empty(),
        "--json output off the schema:\n{}",
        failures.join("\n")
    );
    assert!(docs.len() >= 26, "{}", docs.len());
    validator_refuses_what_breaks_the_conventions();
}
