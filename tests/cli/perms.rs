//! `certtool perms`: classification, reporting, fixing, symlinks, directories.

use std::fs;
use std::os::unix::fs::{MetadataExt, symlink};

use serde_json::Value;

use crate::support::{TestEnv, assert_input_error, mode, set_mode, stderr, stdout};

/// A directory with a key, a certificate, a bundle, a secret and a note, all with wrong modes.
fn messy_env() -> TestEnv {
    let env = TestEnv::new();
    env.selfsigned(&["--host", "localhost", "--bundle", "bundle.pem"]);
    env.write(
        "shared.secret",
        "q2J6lW8x0nYb4cF1Vt9KsZpA3eRmHuDg7LwXoTiEyQ\n",
    );
    env.write(
        "influxdb.env",
        "INFLUXDB_HTTP_SHARED_SECRET=q2J6lW8x0nYb4cF1Vt9K\n",
    );
    env.write("notes.txt", "remember to renew\n");
    set_mode(&env.path("localhost.key"), 0o644);
    set_mode(&env.path("localhost.crt"), 0o600);
    set_mode(&env.path("bundle.pem"), 0o640);
    set_mode(&env.path("shared.secret"), 0o604);
    set_mode(&env.path("influxdb.env"), 0o666);
    set_mode(&env.path("notes.txt"), 0o777);
    env
}

const FILES: [&str; 6] = [
    "bundle.pem",
    "influxdb.env",
    "localhost.crt",
    "localhost.key",
    "notes.txt",
    "shared.secret",
];

#[test]
fn reports_wrong_modes_with_exit_1_and_changes_nothing() {
    let env = messy_env();
    let out = env.cmd().args(["perms", "."]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    for line in [
        "WRONG   ./localhost.key: private key, mode 0644",
        "WRONG   ./localhost.crt: certificate, mode 0600",
        "WRONG   ./bundle.pem: key + certificate, mode 0640",
        "WRONG   ./shared.secret: secret, mode 0604",
        "WRONG   ./influxdb.env: secret, mode 0666",
        "skipped ./notes.txt: not a certificate, key or secret",
    ] {
        assert!(text.contains(line), "missing {line:?} in:\n{text}");
    }
    assert!(
        text.contains("want 0600") && text.contains("want 0644"),
        "{text}"
    );
    assert_eq!(
        mode(&env.path("localhost.key")),
        0o644,
        "report only, no fix"
    );
}

#[test]
fn fix_sets_the_rule_and_a_second_run_is_clean() {
    let env = messy_env();
    let out = env.cmd().args(["perms", "--fix", "."]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("fixed   ./localhost.key: private key, mode 0600"),
        "{}",
        stdout(&out)
    );
    for (name, want) in [
        ("localhost.key", 0o600),
        ("localhost.crt", 0o644),
        ("bundle.pem", 0o600),
        ("shared.secret", 0o600),
        ("influxdb.env", 0o600),
        ("notes.txt", 0o777),
    ] {
        assert_eq!(mode(&env.path(name)), want, "{name}");
    }
    let out = env.cmd().args(["perms", "."]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(!stdout(&out).contains("WRONG"));
    assert_eq!(env.names(), FILES);
}

#[test]
fn stricter_modes_are_accepted() {
    let env = TestEnv::new();
    env.selfsigned(&["--host", "localhost"]);
    set_mode(&env.path("localhost.key"), 0o400);
    set_mode(&env.path("localhost.crt"), 0o444);
    let out = env
        .cmd()
        .args(["perms", "localhost.key", "localhost.crt"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
}

#[test]
fn symlinks_are_not_followed_even_with_fix() {
    let env = TestEnv::new();
    env.selfsigned(&["--host", "localhost"]);
    set_mode(&env.path("localhost.key"), 0o644);
    symlink(env.path("localhost.key"), env.path("link.key")).unwrap();
    let out = env
        .cmd()
        .args(["perms", "--fix", "link.key"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stdout(&out).contains("symbolic link, not followed"),
        "{}",
        stdout(&out)
    );
    assert_eq!(mode(&env.path("localhost.key")), 0o644);
}

#[test]
fn a_key_in_a_world_writable_directory_is_flagged() {
    let env = TestEnv::new();
    env.selfsigned(&["--host", "localhost", "--out-dir", "open"]);
    set_mode(&env.path("open"), 0o777);
    let out = env.cmd().args(["perms", "--fix", "open"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "cannot be fixed by certtool");
    assert!(stdout(&out).contains("world-writable"), "{}", stdout(&out));
    assert_eq!(
        mode(&env.path("open")),
        0o777,
        "directory modes are not changed"
    );
    // The sticky bit (as on /tmp) stops others from replacing the file.
    set_mode(&env.path("open"), 0o1777);
    let out = env.cmd().args(["perms", "open"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
}

#[test]
fn owner_is_checked_and_fixed() {
    let env = TestEnv::new();
    env.selfsigned(&["--host", "localhost"]);
    let me = fs::metadata(env.path("localhost.key")).unwrap().uid();
    if me != 0 {
        return; // Changing owners needs root; the other tests cover modes.
    }
    std::os::unix::fs::chown(env.path("localhost.key"), Some(65534), Some(65534)).unwrap();
    let out = env
        .cmd()
        .args(["perms", "--owner", "root:root", "localhost.key"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("owner nobody:nogroup, want root:root"),
        "{}",
        stdout(&out)
    );
    let out = env
        .cmd()
        .args(["perms", "--fix", "--owner", "root:root", "localhost.key"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert_eq!(fs::metadata(env.path("localhost.key")).unwrap().uid(), 0);
}

#[test]
fn json_report() {
    let env = messy_env();
    let out = env
        .cmd()
        .args(["perms", "--json", "localhost.key", "notes.txt"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["ok"], false);
    assert_eq!(v["files"][0]["kind"], "private_key");
    assert_eq!(v["files"][0]["mode"], "0644");
    assert_eq!(v["files"][0]["expected_mode"], "0600");
    assert_eq!(v["files"][1]["kind"], "unknown");
    assert_eq!(v["files"][1]["ok"], true);
}

#[test]
fn missing_paths_fail_before_anything_is_fixed() {
    let env = messy_env();
    let out = env
        .cmd()
        .args(["perms", "--fix", "localhost.key", "missing.key"])
        .output()
        .unwrap();
    assert!(assert_input_error(&out).contains("missing.key"));
    assert_eq!(mode(&env.path("localhost.key")), 0o644);
    let out = env
        .cmd()
        .args(["perms", "--owner", "no-such-user-x", "."])
        .output()
        .unwrap();
    assert!(assert_input_error(&out).contains("unknown user"));
}

/// Regression (hardening 1.1): a key after 64 KiB of certificates, or a secret line after a
/// certificate, was "fixed" to 0644.
#[test]
fn a_secret_late_in_a_file_is_never_made_readable() {
    let env = TestEnv::new();
    env.selfsigned(&["--host", "p.test", "--name", "l"]);
    let crt = fs::read(env.path("l.crt")).unwrap();
    let key = fs::read(env.path("l.key")).unwrap();
    let mut bundle = crt.repeat(65_536 / crt.len());
    bundle.resize(65_536, b'\n');
    bundle.extend_from_slice(&key);
    env.write("b.pem", &bundle);
    let mut with_env = crt.clone();
    with_env.extend_from_slice(b"INFLUXDB_HTTP_SHARED_SECRET=q2J6lW8x0nYb4cF1Vt9K\n");
    env.write("c.pem", &with_env);
    for name in ["b.pem", "c.pem"] {
        set_mode(&env.path(name), 0o600);
        let out = env.cmd().args(["perms", "--fix", name]).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
        assert_eq!(mode(&env.path(name)), 0o600, "{name}: {}", stdout(&out));
        set_mode(&env.path(name), 0o644);
        env.cmd().args(["perms", "--fix", name]).assert().success();
        assert_eq!(mode(&env.path(name)), 0o600, "{name}");
    }
}

/// Regression (hardening 1.1): DER files were skipped, `.srl` files called secrets, and an
/// InfluxDB config holding its shared secret skipped.
#[test]
fn der_serial_files_and_configs_with_secrets() {
    let env = TestEnv::new();
    env.selfsigned(&["--host", "p.test", "--name", "l"]);
    let der = |args: &[&str]| {
        let out = crate::support::openssl(args, env.dir.path());
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    der(&[
        "pkey",
        "-in",
        "l.key",
        "-outform",
        "DER",
        "-out",
        "l.key.der",
    ]);
    der(&[
        "x509",
        "-in",
        "l.crt",
        "-outform",
        "DER",
        "-out",
        "l.crt.der",
    ]);
    env.write("ca.srl", "3A1F0C9B8E7D6C5B4A39281706F5E4D3C2B1A090\n");
    env.write(
        "influxdb.conf",
        "[http]\n  # shared-secret = \"\"\n  shared-secret = \"q2J6lW8x0nYb4cF1Vt9K\"\n",
    );
    for name in ["l.key.der", "l.crt.der", "ca.srl", "influxdb.conf"] {
        set_mode(&env.path(name), 0o644);
    }
    let out = env.cmd().args(["perms", "."]).output().unwrap();
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    for line in [
        "WRONG   ./l.key.der: private key, mode 0644",
        "ok      ./l.crt.der: certificate, mode 0644",
        "skipped ./ca.srl: OpenSSL serial number file",
        "WRONG   ./influxdb.conf: config with a secret, mode 0644",
    ] {
        assert!(text.contains(line), "missing {line:?} in:\n{text}");
    }
    env.cmd().args(["perms", "--fix", "."]).assert().success();
    assert_eq!(mode(&env.path("l.key.der")), 0o600);
    assert_eq!(mode(&env.path("influxdb.conf")), 0o640);
    assert_eq!(mode(&env.path("ca.srl")), 0o644);
}
