//! `certtool secret generate` and `certtool jwt`: secret sources, tokens checked by an
//! independent HMAC implementation (Python's hmac) and by a real influxd.

use std::fs;
use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::support::{
    TestEnv, assert_input_error, curl_code, mode, require_tool, run, stderr, stdout,
};

const SECRET: &str = "k3Xv9qP2mL7wR4tY8uZ1aB6cD0eF5gH2jK9nM3pQ7sT";

fn env_with_secret() -> TestEnv {
    let env = TestEnv::new();
    env.write("shared.secret", format!("{SECRET}\n"));
    crate::support::set_mode(&env.path("shared.secret"), 0o600);
    env
}

fn mint(env: &TestEnv, args: &[&str]) -> String {
    let out = env
        .cmd()
        .args(["jwt", "mint", "--secret-file", "shared.secret"])
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let token = stdout(&out);
    assert!(
        token.ends_with('\n') && token.lines().count() == 1,
        "only the token: {token:?}"
    );
    token.trim().to_owned()
}

fn verify(env: &TestEnv, token: &str, extra: &[&str]) -> std::process::Output {
    env.cmd()
        .args(["jwt", "verify", token, "--secret-file", "shared.secret"])
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn secret_generate_writes_0600_and_never_clobbers() {
    let env = TestEnv::new();
    env.cmd_with_umask("000", &["secret", "generate", "--out", "s.secret"])
        .assert()
        .success();
    assert_eq!(mode(&env.path("s.secret")), 0o600);
    let first = fs::read_to_string(env.path("s.secret")).unwrap();
    assert_eq!(first.trim_end().len(), 43, "32 bytes base64url: {first:?}");
    let out = env
        .cmd()
        .args(["secret", "generate", "--out", "s.secret"])
        .output()
        .unwrap();
    assert!(assert_input_error(&out).contains("already exists"));
    assert_eq!(fs::read_to_string(env.path("s.secret")).unwrap(), first);
    let out = env
        .cmd()
        .args([
            "secret", "generate", "--out", "s.secret", "--force", "--json",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let new = fs::read_to_string(env.path("s.secret")).unwrap();
    assert_ne!(new, first);
    assert!(
        !stdout(&out).contains(new.trim()),
        "secret in --json output"
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["files"][0]["mode"], "0600");
    assert_eq!(v["files"][0]["kind"], "secret");

    let out = env
        .cmd()
        .args(["secret", "generate", "--encoding", "hex", "--bytes", "48"])
        .output()
        .unwrap();
    let hex = stdout(&out);
    assert_eq!(hex.trim().len(), 96);
    assert!(hex.trim().bytes().all(|b| b.is_ascii_hexdigit()));
    let out = env
        .cmd()
        .args(["secret", "generate", "--bytes", "16"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "fewer than 32 bytes is refused");
    let out = env
        .cmd()
        .args(["secret", "generate", "--json"])
        .output()
        .unwrap();
    assert!(assert_input_error(&out).contains("would print the secret"));
}

#[test]
fn tokens_have_exactly_the_influxdb_payload() {
    let env = env_with_secret();
    let out = env
        .cmd()
        .args([
            "jwt",
            "mint",
            "--user",
            "telegraf",
            "--ttl",
            "15m",
            "--secret-file",
            "shared.secret",
            "--json",
        ])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["header"],
        serde_json::json!({"alg": "HS256", "typ": "JWT"})
    );
    let payload = v["payload"].as_object().unwrap();
    assert_eq!(payload.len(), 2, "{payload:?}");
    assert_eq!(payload["username"], "telegraf");
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let exp = payload["exp"].as_i64().unwrap();
    assert!(
        (now + 890..=now + 900).contains(&exp),
        "exp {exp} now {now}"
    );
    assert!(!stdout(&out).contains(SECRET));
}

/// Python's own hmac/hashlib/base64: verify our tokens, and mint tokens we verify.
const PY_JWT: &str = r#"
import base64, hashlib, hmac, json, sys
def b64(b): return base64.urlsafe_b64encode(b).rstrip(b"=").decode()
def unb64(s): return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
secret = open(sys.argv[2], "rb").read().rstrip(b"\n")
algs = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}
if sys.argv[1] == "verify":
    h, p, s = sys.argv[3].split(".")
    alg = json.loads(unb64(h))["alg"]
    good = hmac.compare_digest(unb64(s), hmac.new(secret, (h + "." + p).encode(), algs[alg]).digest())
    print(json.loads(unb64(p))["username"] if good else "BAD")
else:
    alg, user, exp = sys.argv[3], sys.argv[4], int(sys.argv[5])
    h = b64(json.dumps({"alg": alg, "typ": "JWT"}).encode())
    p = b64(json.dumps({"exp": exp, "username": user}).encode())
    print(h + "." + p + "." + b64(hmac.new(secret, (h + "." + p).encode(), algs[alg]).digest()))
"#;

fn python(env: &TestEnv, args: &[&str]) -> String {
    let out = run(Command::new("python3")
        .arg("-c")
        .arg(PY_JWT)
        .args(args)
        .current_dir(env.dir.path()));
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out).trim().to_owned()
}

#[test]
fn an_independent_hmac_implementation_agrees_both_ways() {
    if !require_tool("python3") {
        return;
    }
    let env = env_with_secret();
    env.write(
        "other.secret",
        "a-completely-different-secret-of-32+bytes\n",
    );
    for alg in ["HS256", "HS384", "HS512"] {
        let token = mint(&env, &["--user", "admin", "--alg", alg]);
        assert_eq!(
            python(&env, &["verify", "shared.secret", &token]),
            "admin",
            "{alg}"
        );
        assert_eq!(
            python(&env, &["verify", "other.secret", &token]),
            "BAD",
            "{alg}"
        );
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let theirs = python(
            &env,
            &[
                "mint",
                "shared.secret",
                alg,
                "bob",
                &(now + 600).to_string(),
            ],
        );
        let out = verify(&env, &theirs, &["--user", "bob"]);
        assert_eq!(out.status.code(), Some(0), "{alg}: {}", stdout(&out));
        let out = env
            .cmd()
            .args(["jwt", "verify", &theirs, "--secret-file", "other.secret"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{alg}");
        assert!(stdout(&out).contains("bad signature"));
    }
}

#[test]
fn verify_names_each_reason_with_exit_1() {
    let env = env_with_secret();
    let expired = mint(
        &env,
        &["--user", "admin", "--exp", "1700000000", "--allow-expired"],
    );
    let out = verify(&env, &expired, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("invalid: expired"),
        "{}",
        stdout(&out)
    );
    let ok = mint(&env, &["--user", "admin", "--ttl", "30s"]);
    let out = verify(&env, &ok, &["--user", "telegraf"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("expected 'telegraf'"));
    let out = verify(&env, "not-a-token", &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("malformed"));
    let none = format!("eyJhbGciOiJub25lIn0.{}.", ok.split('.').nth(1).unwrap());
    let out = verify(&env, &none, &["--json"]);
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["valid"], false);
    assert!(v["reason"].as_str().unwrap().contains("'none'"));
    // A past --exp needs --allow-expired.
    let out = env
        .cmd()
        .args([
            "jwt",
            "mint",
            "--user",
            "a",
            "--exp",
            "2001-01-01T00:00:00Z",
            "--secret-file",
            "shared.secret",
        ])
        .output()
        .unwrap();
    assert!(assert_input_error(&out).contains("--allow-expired"));
    // Tokens from stdin.
    let mut child = env
        .cmd_std()
        .args(["jwt", "verify", "-", "--secret-file", "shared.secret"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{ok}").unwrap();
    assert!(child.wait_with_output().unwrap().status.success());
}

#[test]
fn every_secret_source_gives_the_same_token_signature() {
    let env = env_with_secret();
    env.write(
        "influxdb.conf",
        format!("[meta]\n  dir = \"/x\"\n\n[http]\n  # shared secret for JWTs\n  shared-secret = \"{SECRET}\"\n"),
    );
    let file_token = mint(&env, &["--user", "u", "--exp", "4000000000"]);
    let sign = |token: &str| token.rsplit('.').next().unwrap().to_owned();
    let from = |args: &[&str], stdin: Option<&str>, envs: &[(&str, &str)]| {
        let mut cmd = env.cmd();
        cmd.args(["jwt", "mint", "--user", "u", "--exp", "4000000000"])
            .args(args);
        for (k, v) in envs {
            cmd.env(k, v);
        }
        if let Some(input) = stdin {
            cmd.write_stdin(input);
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        assert!(!stderr(&out).contains(SECRET));
        stdout(&out).trim().to_owned()
    };
    let expected = sign(&file_token);
    assert_eq!(
        sign(&from(
            &["--secret-env", "MY_SECRET"],
            None,
            &[("MY_SECRET", SECRET)]
        )),
        expected
    );
    assert_eq!(
        sign(&from(
            &["--secret-stdin"],
            Some(&format!("{SECRET}\n")),
            &[]
        )),
        expected
    );
    assert_eq!(
        sign(&from(&["--from-config", "influxdb.conf"], None, &[])),
        expected
    );
    assert_eq!(
        sign(&from(&[], None, &[("INFLUXDB_HTTP_SHARED_SECRET", SECRET)])),
        expected
    );
    // Two sources at once is a usage error; a plain --secret VALUE does not exist.
    let out = env
        .cmd()
        .args([
            "jwt",
            "mint",
            "--user",
            "u",
            "--secret-file",
            "shared.secret",
            "--secret-stdin",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = env
        .cmd()
        .args(["jwt", "mint", "--user", "u", "--secret", SECRET])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        !stderr(&out).contains(SECRET),
        "secret echoed back: {}",
        stderr(&out)
    );
}

#[test]
fn no_secret_and_no_terminal_fails_fast_with_the_options() {
    let env = TestEnv::new();
    let out = env
        .cmd()
        .args(["jwt", "mint", "--user", "u"])
        .timeout(std::time::Duration::from_secs(10))
        .output()
        .unwrap();
    let err = assert_input_error(&out);
    assert!(
        err.contains("--secret-file") && err.contains("INFLUXDB_HTTP_SHARED_SECRET"),
        "{err}"
    );
    env.write("blank.secret", "  \n");
    crate::support::set_mode(&env.path("blank.secret"), 0o600);
    let out = env
        .cmd()
        .args([
            "jwt",
            "mint",
            "--user",
            "u",
            "--secret-file",
            "blank.secret",
        ])
        .output()
        .unwrap();
    assert!(assert_input_error(&out).contains("empty"));
    env.write("open.secret", format!("{SECRET}\n"));
    crate::support::set_mode(&env.path("open.secret"), 0o644);
    let out = env
        .cmd()
        .args(["jwt", "mint", "--user", "u", "--secret-file", "open.secret"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(
        stderr(&out).contains("certtool perms --fix"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn users_file_mints_one_token_per_user() {
    let env = env_with_secret();
    env.write("agents.txt", "telegraf-1\n# comment\n\ntelegraf-2\n");
    let out = env
        .cmd()
        .args([
            "jwt",
            "mint",
            "--users-file",
            "agents.txt",
            "--secret-file",
            "shared.secret",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2);
    for (line, user) in lines.iter().zip(["telegraf-1", "telegraf-2"]) {
        let (name, token) = line.split_once('\t').unwrap();
        assert_eq!(name, user);
        assert_eq!(
            verify(&env, token, &["--user", user]).status.code(),
            Some(0)
        );
    }
}

fn query(port: u16, q: &str, auth: &[&str]) -> String {
    let q = format!("q={q}");
    curl_code(
        &[auth, &["--data-urlencode", &q]].concat(),
        &format!("http://127.0.0.1:{port}/query"),
    )
}

#[test]
fn a_real_influxd_accepts_and_refuses_tokens_as_expected() {
    if !(require_tool("influxd") && require_tool("curl")) {
        return;
    }
    let env = env_with_secret();
    env.write(
        "other.secret",
        "a-completely-different-secret-of-32+bytes\n",
    );
    let server = crate::support::start_influxd(
        &env,
        &format!("  auth-enabled = true\n  shared-secret = \"{SECRET}\"\n"),
    );
    let port = server.port;
    // The first admin may be created without credentials; then a user without privileges.
    assert_eq!(
        query(
            port,
            "CREATE USER admin WITH PASSWORD 'pw-admin' WITH ALL PRIVILEGES",
            &[]
        ),
        "200"
    );
    assert_eq!(
        query(
            port,
            "CREATE USER reader WITH PASSWORD 'pw-reader'",
            &["-u", "admin:pw-admin"]
        ),
        "200"
    );

    let bearer = |token: &str| vec!["-H".to_owned(), format!("Authorization: Bearer {token}")];
    let status_of = |q: &str, token: &str| {
        let h = bearer(token);
        query(port, q, &[h[0].as_str(), h[1].as_str()])
    };
    let status = |token: &str| status_of("SHOW DATABASES", token);
    assert_eq!(
        status(&mint(&env, &["--user", "admin"])),
        "200",
        "valid admin token"
    );
    for alg in ["HS384", "HS512"] {
        assert_eq!(
            status(&mint(&env, &["--user", "admin", "--alg", alg])),
            "200",
            "{alg}"
        );
    }
    let other = env
        .cmd()
        .args([
            "jwt",
            "mint",
            "--user",
            "admin",
            "--secret-file",
            "other.secret",
        ])
        .output()
        .unwrap();
    assert_eq!(status(stdout(&other).trim()), "401", "another secret");
    let expired = mint(
        &env,
        &["--user", "admin", "--exp", "1700000000", "--allow-expired"],
    );
    assert_eq!(status(&expired), "401", "expired");
    assert_eq!(
        status(&mint(&env, &["--user", "nobody-here"])),
        "401",
        "unknown user"
    );
    let reader = mint(&env, &["--user", "reader"]);
    assert_eq!(
        status(&reader),
        "200",
        "a valid non-admin token authenticates"
    );
    assert_eq!(
        status_of("CREATE DATABASE forbidden", &reader),
        "403",
        "admin-only statement"
    );
    assert_eq!(query(port, "SHOW DATABASES", &[]), "401", "no token");
    // certtool agrees with influxd on its own tokens.
    assert_eq!(verify(&env, &expired, &[]).status.code(), Some(1));
}
