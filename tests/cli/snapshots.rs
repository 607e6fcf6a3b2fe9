//! Snapshots (insta) of what each command shows a person: the summaries of the writing
//! commands, and the output of inspect, check, verify, perms, jwt and secret. A change of wording
//! is then a reviewed diff (`INSTA_UPDATE=always cargo test --test cli snapshots::`, then look at
//! it). Temp paths, dates, serials, fingerprints, timings, ports and PIDs are filtered out.

use std::fs;
use std::os::unix::fs::PermissionsExt;

use crate::support::{ISSUE, TestEnv, stderr, stdout};

/// Run `args`, and snapshot stdout and stderr under `name`, with the unstable parts filtered.
fn snapshot(env: &TestEnv, name: &str, args: &[&str]) {
    let out = env.certtool(args);
    let text = format!(
        "$ certtool {}\nexit: {:?}\n--- stdout\n{}--- stderr\n{}",
        args.join(" "),
        out.status.code(),
        stdout(&out),
        stderr(&out)
    );
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(&regex_escape(env.dir.path().to_str().unwrap()), "[DIR]");
    settings.add_filter(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", "[TIME]");
    settings.add_filter(r"([0-9A-F]{2}:){7,}[0-9A-F]{2}", "[HEX]");
    settings.add_filter(r"\d+\.\d+ ms", "[MS] ms");
    settings.add_filter(r"127\.0\.0\.1:\d+", "127.0.0.1:[PORT]");
    settings.add_filter(r"pid \d+", "pid [PID]");
    settings.add_filter(
        r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+",
        "[TOKEN]",
    );
    settings.add_filter(r#""exp": \d+"#, r#""exp": [EXP]"#);
    settings.add_filter(r"\(\d+ days?\)", "([DAYS] days)");
    settings.add_filter(r"expired \d+ days ago", "expired [N] days ago");
    settings.bind(|| insta::assert_snapshot!(name, text));
}

fn regex_escape(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '/' || c == '_' {
                c.to_string()
            } else {
                format!("\\{c}")
            }
        })
        .collect()
}

#[test]
fn writing_commands_say_what_they_wrote() {
    let env = TestEnv::new();
    snapshot(
        &env,
        "selfsigned",
        &["selfsigned", "--host", "localhost", "--host", "127.0.0.1"],
    );
    snapshot(
        &env,
        "selfsigned_refused",
        &["selfsigned", "--host", "localhost"],
    );
    snapshot(
        &env,
        "ca_init",
        &["ca", "init", "--permitted-dns", "example.test"],
    );
    snapshot(
        &env,
        "ca_issue",
        &[&ISSUE[..], &["--host", "db.example.test"]].concat(),
    );
    snapshot(&env, "renew", &["renew", "localhost.crt"]);
    snapshot(
        &env,
        "renew_not_due",
        &["renew", "localhost.crt", "--within", "30d"],
    );
    snapshot(
        &env,
        "secret_generate",
        &["secret", "generate", "--out", "shared.secret"],
    );
}

#[test]
fn reading_commands_show_what_they_found() {
    let env = TestEnv::new();
    env.selfsigned(&["--host", "localhost", "--host", "127.0.0.1", "--name", "l"]);
    env.selfsigned(&[
        "--host",
        "old.test",
        "--not-before",
        "2020-01-01",
        "--not-after",
        "2020-02-01",
    ]);
    snapshot(&env, "inspect", &["inspect", "l.crt", "--key", "l.key"]);
    snapshot(&env, "check", &["check", "l.crt", "old.test.crt"]);
    snapshot(
        &env,
        "verify_local",
        &["verify", "--cert", "l.crt", "--key", "l.key"],
    );
    fs::set_permissions(env.path("l.key"), fs::Permissions::from_mode(0o644)).unwrap();
    snapshot(&env, "perms", &["perms", "l.key", "l.crt"]);
}

#[test]
fn tokens_are_verified_and_decoded() {
    let env = TestEnv::new();
    env.write("s.secret", "q2J6lW8x0nYb4cF1Vt9KsZpA3eRmHuDg\n");
    fs::set_permissions(env.path("s.secret"), fs::Permissions::from_mode(0o600)).unwrap();
    let token = stdout(&env.ok(&[
        "jwt",
        "mint",
        "--user",
        "telegraf",
        "--ttl",
        "1h",
        "--secret-file",
        "s.secret",
    ]));
    let token = token.trim();
    snapshot(
        &env,
        "jwt_verify",
        &[
            "jwt",
            "verify",
            token,
            "--secret-file",
            "s.secret",
            "--user",
            "telegraf",
        ],
    );
    snapshot(
        &env,
        "jwt_verify_wrong_user",
        &[
            "jwt",
            "verify",
            token,
            "--secret-file",
            "s.secret",
            "--user",
            "admin",
        ],
    );
    snapshot(&env, "jwt_decode", &["jwt", "decode", token]);
}
