//! `certtool check`: exit codes on certificates that are fine, expiring, expired and not yet
//! valid (made with certtool's own validity flags), cross-checked with `openssl x509 -checkend`,
//! and `--prometheus` output judged by `promtool check metrics`.

use std::io::Write as _;
use std::process::{Command, Stdio};

use crate::support::{TestEnv, openssl, require_tool, stderr, stdout};

/// fine.test (365 days), soon.test (10 days), old.test (expired), future.test (not yet valid).
fn four_certificates(env: &TestEnv) {
    env.selfsigned(&["--host", "fine.test", "--days", "365"]);
    env.selfsigned(&["--host", "soon.test", "--days", "10"]);
    env.expired("old.test");
    env.selfsigned(&["--host", "future.test", "--not-before", "2099-01-01"]);
}

fn code(env: &TestEnv, args: &[&str]) -> i32 {
    let mut all = vec!["check"];
    all.extend(args);
    env.certtool(&all).status.code().unwrap()
}

#[test]
fn exit_codes_follow_the_certificates() {
    let env = TestEnv::new();
    four_certificates(&env);
    assert_eq!(code(&env, &["fine.test.crt"]), 0);
    assert_eq!(code(&env, &["fine.test.crt", "--within", "30d"]), 0);
    assert_eq!(code(&env, &["soon.test.crt"]), 0);
    assert_eq!(code(&env, &["soon.test.crt", "--within", "30d"]), 1);
    assert_eq!(code(&env, &["soon.test.crt", "--within", "9d"]), 0);
    assert_eq!(code(&env, &["old.test.crt"]), 1);
    assert_eq!(code(&env, &["future.test.crt"]), 1);
    assert_eq!(code(&env, &["fine.test.crt", "old.test.crt"]), 1);
    assert_eq!(code(&env, &["."]), 1);
}

#[test]
fn openssl_checkend_agrees_about_the_window() {
    if !require_tool("openssl") {
        return;
    }
    let env = TestEnv::new();
    four_certificates(&env);
    for file in ["fine.test.crt", "soon.test.crt", "old.test.crt"] {
        for days in [0, 9, 11, 400] {
            let seconds = (days * 86_400).to_string();
            let theirs = openssl(
                &["x509", "-in", file, "-noout", "-checkend", &seconds],
                env.dir.path(),
            );
            let ours = code(&env, &[file, "--within", &format!("{days}d")]);
            assert_eq!(
                theirs.status.success(),
                ours == 0,
                "{file} within {days}d: openssl {} certtool {ours}",
                stdout(&theirs)
            );
        }
    }
}

#[test]
fn one_line_per_certificate_with_path_subject_days_and_status() {
    let env = TestEnv::new();
    four_certificates(&env);
    // Keys, backups and hidden files in the directory are not certificates to check.
    std::fs::copy(env.path("old.test.crt"), env.path("fine.test.crt.bak")).unwrap();
    std::fs::copy(env.path("old.test.crt"), env.path(".hidden.crt")).unwrap();
    env.write("notes.txt", "not a certificate");
    let out = env.certtool(&["check", ".", "--within", "30d"]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    let line = |name: &str| *lines.iter().find(|l| l.contains(name)).unwrap();
    assert!(line("fine.test.crt").contains("CN=fine.test"));
    assert!(line("fine.test.crt").ends_with(" ok"), "{text}");
    assert!(line("soon.test.crt").contains("10 days left"), "{text}");
    assert!(line("soon.test.crt").ends_with("EXPIRES SOON"), "{text}");
    assert!(line("old.test.crt").ends_with("EXPIRED"), "{text}");
    assert!(line("future.test.crt").ends_with("NOT YET VALID"), "{text}");
    assert!(stderr(&out).contains("3 of 4 certificates need attention"));
}

#[test]
fn chains_report_every_certificate_and_json_is_structured() {
    let env = TestEnv::new();
    env.ca(&["--days", "20"]);
    env.issue(&["--host", "leaf.test", "--days", "5"]);
    let out = env.certtool(&["check", "leaf.test.crt", "--within", "10d", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["ok"], false);
    assert_eq!(report["within_seconds"], 864_000);
    let certs = report["certificates"].as_array().unwrap();
    assert_eq!(certs.len(), 2);
    assert_eq!(certs[0]["subject"], "CN=leaf.test");
    assert_eq!(certs[0]["status"], "expiring");
    assert_eq!(certs[1]["subject"], "CN=certtool local CA");
    assert_eq!(certs[1]["status"], "valid");
    assert_eq!(certs[1]["position"], 2, "1-based, as the text shows it");
    let text = stdout(&env.certtool(&["check", "leaf.test.crt"]));
    assert!(
        text.contains("leaf.test.crt[1]") && text.contains("leaf.test.crt[2]"),
        "{text}"
    );
}

#[test]
fn bad_input_exits_2() {
    let env = TestEnv::new();
    env.selfsigned(&["--host", "a.test"]);
    env.write("garbage.crt", "hello");
    std::fs::create_dir(env.path("empty")).unwrap();
    for (args, expected) in [
        (vec!["check", "missing.crt"], "missing.crt"),
        (vec!["check", "garbage.crt"], "garbage.crt"),
        (vec!["check", "a.test.key"], "holds no certificate"),
        (vec!["check", "empty"], "holds no certificate files"),
        (
            vec!["check", "a.test.crt", "--prometheus", "--json"],
            "cannot be used together",
        ),
    ] {
        env.refused(&args, expected);
    }
    let out = env.certtool(&["check", "a.test.crt", "--within", "soon"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn prometheus_metrics_pass_promtool() {
    if !require_tool("promtool") {
        return;
    }
    let env = TestEnv::new();
    four_certificates(&env);
    // A path with a quote and a backslash must be escaped in label values.
    std::fs::copy(env.path("fine.test.crt"), env.path("we\"ird\\name.crt")).unwrap();
    let out = env.certtool(&["check", "--prometheus", "--within", "30d", "."]);
    assert_eq!(out.status.code(), Some(1));
    let metrics = stdout(&out);
    let mut promtool = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    promtool
        .stdin
        .take()
        .unwrap()
        .write_all(metrics.as_bytes())
        .unwrap();
    let result = promtool.wait_with_output().unwrap();
    assert!(
        result.status.success(),
        "promtool: {}{}\n{metrics}",
        stdout(&result),
        stderr(&result)
    );
    assert!(
        !String::from_utf8_lossy(&result.stderr).contains("error"),
        "{metrics}"
    );
    let value = |metric: &str, name: &str| {
        metrics
            .lines()
            .find(|l| l.starts_with(metric) && l.contains(name))
            .and_then(|l| l.rsplit(' ').next())
            .unwrap_or_else(|| panic!("{metric} {name} missing:\n{metrics}"))
            .to_owned()
    };
    assert_eq!(value("certtool_cert_ok{", "fine.test"), "1");
    assert_eq!(value("certtool_cert_ok{", "soon.test"), "0");
    assert_eq!(value("certtool_cert_ok{", "old.test"), "0");
    assert_eq!(
        value("certtool_cert_not_after_seconds{", "old.test"),
        "1580515200"
    );
    assert!(
        value("certtool_cert_expires_in_seconds{", "old.test").starts_with('-'),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"path="./we\"ird\\name.crt""#),
        "{metrics}"
    );
    assert!(metrics.contains("certtool_check_window_seconds 2592000"));
}
