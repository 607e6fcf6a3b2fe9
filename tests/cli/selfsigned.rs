//! `certtool selfsigned`: flags, files, modes, refusals.

use std::fs;
use std::os::unix::fs::{MetadataExt, symlink};

use serde_json::Value;

use crate::support::{TestEnv, assert_input_error, mode, stderr, stdout};

fn json(out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout).expect("stdout is one JSON object")
}

#[test]
fn writes_key_0600_and_cert_0644_and_says_what_it_wrote() {
    let env = TestEnv::new();
    let out = env.selfsigned(&["--host", "localhost", "--host", "127.0.0.1"]);
    assert_eq!(env.names(), ["localhost.crt", "localhost.key"]);
    assert_eq!(mode(&env.path("localhost.key")), 0o600);
    assert_eq!(mode(&env.path("localhost.crt")), 0o644);
    // Data on stdout only when asked; the summary goes to stderr.
    assert_eq!(stdout(&out), "");
    let err = stderr(&out);
    assert!(err.contains("localhost.key (0600)"), "{err}");
    assert!(err.contains("localhost.crt (0644)"), "{err}");
    assert!(err.contains("valid for 365 days"), "{err}");
    let key = fs::read_to_string(env.path("localhost.key")).unwrap();
    assert!(
        key.starts_with("-----BEGIN PRIVATE KEY-----\n"),
        "PKCS#8 PEM: {key}"
    );
}

#[test]
fn modes_do_not_depend_on_the_umask() {
    for mask in ["000", "077", "022"] {
        let env = TestEnv::new();
        env.cmd_with_umask(
            mask,
            &["selfsigned", "--host", "localhost", "--out-dir", "out/tls"],
        )
        .assert()
        .success();
        assert_eq!(
            mode(&env.path("out/tls/localhost.key")),
            0o600,
            "umask {mask}"
        );
        assert_eq!(
            mode(&env.path("out/tls/localhost.crt")),
            0o644,
            "umask {mask}"
        );
        assert_eq!(mode(&env.path("out/tls")), 0o755, "umask {mask}");
        assert_eq!(mode(&env.path("out")), 0o755, "umask {mask}");
    }
}

#[test]
fn json_output_describes_the_certificate_and_holds_no_key() {
    let env = TestEnv::new();
    let out = env.selfsigned(&[
        "--host",
        "db.example.com",
        "--host",
        "::1",
        "--days",
        "30",
        "--json",
    ]);
    let v = json(&out);
    assert_eq!(v["ok"], true);
    let cert = &v["certificate"];
    assert_eq!(cert["subject"], "CN=db.example.com");
    assert_eq!(cert["key_type"], "ecdsa-p256");
    assert_eq!(cert["hosts"][0]["type"], "dns");
    assert_eq!(cert["hosts"][1]["value"], "::1");
    assert!(cert["days_left"].as_i64().unwrap() >= 29);
    assert_eq!(cert["sha256_fingerprint"].as_str().unwrap().len(), 95);
    assert_eq!(v["files"][0]["path"], "./db.example.com.key");
    assert_eq!(v["files"][0]["kind"], "private_key");
    assert_eq!(v["files"][0]["mode"], "0600");
    assert_eq!(v["files"][0]["action"], "created");
    assert_eq!(v["files"][1]["path"], "./db.example.com.crt");
    assert_eq!(v["files"][1]["mode"], "0644");
    let text = stdout(&out);
    assert!(!text.contains("PRIVATE KEY"));
    let key = fs::read_to_string(env.path("db.example.com.key")).unwrap();
    let key_body: String = key.lines().nth(1).unwrap().chars().take(40).collect();
    assert!(!text.contains(&key_body), "key material in --json output");
    assert!(stderr(&out).is_empty(), "{}", stderr(&out));
}

#[test]
fn refuses_to_clobber_without_force_and_leaves_files_identical() {
    let env = TestEnv::new();
    env.selfsigned(&["--host", "localhost"]);
    let key_before = fs::read(env.path("localhost.key")).unwrap();
    let cert_before = fs::read(env.path("localhost.crt")).unwrap();
    let out = env
        .cmd()
        .args(["selfsigned", "--host", "localhost"])
        .output()
        .unwrap();
    let err = assert_input_error(&out);
    assert!(err.contains("already exists"), "{err}");
    assert!(err.contains("--force"), "{err}");
    assert_eq!(fs::read(env.path("localhost.key")).unwrap(), key_before);
    assert_eq!(fs::read(env.path("localhost.crt")).unwrap(), cert_before);
    // Only the certificate existing is refused as well, and the key is not created.
    fs::remove_file(env.path("localhost.key")).unwrap();
    assert_input_error(
        &env.cmd()
            .args(["selfsigned", "--host", "localhost"])
            .output()
            .unwrap(),
    );
    assert_eq!(env.names(), ["localhost.crt"]);

    env.selfsigned(&["--host", "localhost", "--force"]);
    assert_ne!(fs::read(env.path("localhost.crt")).unwrap(), cert_before);
    assert_eq!(mode(&env.path("localhost.key")), 0o600);
    assert_eq!(
        env.names(),
        ["localhost.crt", "localhost.key"],
        "no temp files left"
    );
}

#[test]
fn force_replaces_a_too_open_key_with_a_0600_one() {
    let env = TestEnv::new();
    env.write("localhost.key", "old");
    crate::support::set_mode(&env.path("localhost.key"), 0o644);
    env.selfsigned(&["--host", "localhost", "--force"]);
    assert_eq!(mode(&env.path("localhost.key")), 0o600);
}

#[test]
fn symlinks_at_outputs_are_refused_even_with_force() {
    let env = TestEnv::new();
    let victim = env.write("victim", "precious");
    symlink(&victim, env.path("localhost.key")).unwrap();
    for force in [false, true] {
        let mut cmd = env.cmd();
        cmd.args(["selfsigned", "--host", "localhost"]);
        if force {
            cmd.arg("--force");
        }
        let err = assert_input_error(&cmd.output().unwrap());
        assert!(err.contains("symbolic link"), "{err}");
    }
    assert_eq!(fs::read_to_string(&victim).unwrap(), "precious");
    assert_eq!(
        env.names(),
        ["localhost.key", "victim"],
        "nothing else written"
    );
    // A dangling link is refused too.
    fs::remove_file(&victim).unwrap();
    assert_input_error(
        &env.cmd()
            .args(["selfsigned", "--host", "localhost", "--force"])
            .output()
            .unwrap(),
    );
    assert!(!victim.exists());
}

#[test]
fn wildcard_names_the_files_and_warns_about_the_bare_domain() {
    let env = TestEnv::new();
    let out = env.selfsigned(&["--host", "*.example.com"]);
    assert_eq!(
        env.names(),
        ["_wildcard.example.com.crt", "_wildcard.example.com.key"]
    );
    assert!(
        stderr(&out).contains("does not cover example.com"),
        "{}",
        stderr(&out)
    );
    let env = TestEnv::new();
    let out = env.selfsigned(&["--host", "*.example.com", "--host", "example.com"]);
    assert!(!stderr(&out).contains("warning"), "{}", stderr(&out));
}

#[test]
fn bad_days_are_refused_before_anything_is_written() {
    let env = TestEnv::new();
    for days in ["0", "-1", "abc", "36501", "1.5", ""] {
        let out = env
            .cmd()
            .args(["selfsigned", "--host", "localhost", "--days", days])
            .output()
            .unwrap();
        // clap reports value errors in its own format, still exit 2.
        assert_eq!(
            out.status.code(),
            Some(2),
            "--days {days}: {}",
            stderr(&out)
        );
        assert!(stderr(&out).contains("--days"), "{}", stderr(&out));
    }
    assert!(env.names().is_empty());
}

#[test]
fn days_and_not_after_are_exclusive() {
    let env = TestEnv::new();
    let out = env
        .cmd()
        .args([
            "selfsigned",
            "--host",
            "a.test",
            "--days",
            "3",
            "--not-after",
            "2030-01-01",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("cannot be used with"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn not_after_and_not_before_set_exact_dates_even_in_the_past() {
    let env = TestEnv::new();
    let out = env.selfsigned(&[
        "--host",
        "old.test",
        "--not-before",
        "2020-01-01",
        "--not-after",
        "2020-02-01T12:00:00Z",
        "--json",
    ]);
    let v = &json(&out)["certificate"];
    assert_eq!(v["not_before"], "2020-01-01T00:00:00Z");
    assert_eq!(v["not_after"], "2020-02-01T12:00:00Z");
    assert!(v["days_left"].as_i64().unwrap() < 0);
    assert_eq!(v["status"], "expired");
    assert!(stderr(&out).contains("already expired"), "{}", stderr(&out));

    let out = env
        .cmd()
        .args([
            "selfsigned",
            "--host",
            "x.test",
            "--not-after",
            "2020-01-01",
        ])
        .output()
        .unwrap();
    let err = assert_input_error(&out);
    assert!(err.contains("before it becomes valid"), "{err}");
    let out = env
        .cmd()
        .args(["selfsigned", "--host", "x.test", "--not-after", "next week"])
        .output()
        .unwrap();
    assert!(assert_input_error(&out).contains("RFC 3339"));
}

#[test]
fn invalid_hosts_get_one_clear_line() {
    let env = TestEnv::new();
    for (host, why) in [
        ("bad host", "space"),
        ("a..b", "empty label"),
        ("foo.*.example.com", "left-most"),
        ("*.com", "two labels"),
        ("-x.test", "hyphen"),
    ] {
        let out = env
            .cmd()
            .args(["selfsigned", "--host", host])
            .output()
            .unwrap();
        let err = assert_input_error(&out);
        assert!(err.contains(why), "{host}: {err}");
        assert!(err.contains("hint:"), "{host}: {err}");
    }
    assert!(env.names().is_empty());
}

#[test]
fn a_host_is_required() {
    let env = TestEnv::new();
    let out = env.cmd().arg("selfsigned").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--host"), "{}", stderr(&out));
}

#[test]
fn unknown_owner_fails_before_anything_is_written() {
    let env = TestEnv::new();
    let out = env
        .cmd()
        .args([
            "selfsigned",
            "--host",
            "localhost",
            "--owner",
            "no-such-user-x",
        ])
        .output()
        .unwrap();
    let err = assert_input_error(&out);
    assert!(err.contains("unknown user 'no-such-user-x'"), "{err}");
    let out = env
        .cmd()
        .args([
            "selfsigned",
            "--host",
            "localhost",
            "--owner",
            "root:no-such-group-x",
        ])
        .output()
        .unwrap();
    assert!(assert_input_error(&out).contains("unknown group"));
    assert!(env.names().is_empty());
}

#[test]
fn owner_is_set_on_every_file() {
    let env = TestEnv::new();
    if nix_is_root() {
        env.selfsigned(&[
            "--host",
            "localhost",
            "--owner",
            "nobody:nogroup",
            "--bundle",
            "b.pem",
        ]);
        for name in ["localhost.key", "localhost.crt", "b.pem"] {
            let meta = fs::metadata(env.path(name)).unwrap();
            assert_eq!(meta.uid(), 65534, "{name}");
            assert_eq!(meta.gid(), 65534, "{name}");
        }
        assert_eq!(mode(&env.path("localhost.key")), 0o600);
    } else {
        // Without root, chown to another user must fail cleanly and leave nothing behind.
        let out = env
            .cmd()
            .args(["selfsigned", "--host", "localhost", "--owner", "root"])
            .output()
            .unwrap();
        assert!(assert_input_error(&out).contains("owner"));
        assert!(env.names().is_empty());
    }
}

fn nix_is_root() -> bool {
    fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

#[test]
fn bundle_holds_cert_and_key_with_mode_0600() {
    let env = TestEnv::new();
    env.selfsigned(&["--host", "localhost", "--bundle", "influx.pem"]);
    assert_eq!(
        env.names(),
        ["influx.pem", "localhost.crt", "localhost.key"]
    );
    assert_eq!(mode(&env.path("influx.pem")), 0o600);
    let bundle = fs::read_to_string(env.path("influx.pem")).unwrap();
    let cert = fs::read_to_string(env.path("localhost.crt")).unwrap();
    let key = fs::read_to_string(env.path("localhost.key")).unwrap();
    assert_eq!(bundle, format!("{cert}{key}"));

    let env = TestEnv::new();
    env.selfsigned(&[
        "--host",
        "localhost",
        "--bundle",
        "only.pem",
        "--bundle-only",
    ]);
    assert_eq!(env.names(), ["only.pem"]);
    let out = env
        .cmd()
        .args(["selfsigned", "--host", "localhost", "--bundle-only"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn explicit_paths_and_names() {
    let env = TestEnv::new();
    env.selfsigned(&[
        "--host",
        "localhost",
        "--cert-out",
        "certs/server.pem",
        "--key-out",
        "private/server-key.pem",
    ]);
    assert_eq!(mode(&env.path("private/server-key.pem")), 0o600);
    assert_eq!(mode(&env.path("certs/server.pem")), 0o644);
    env.selfsigned(&[
        "--host",
        "localhost",
        "--name",
        "influxdb",
        "--out-dir",
        "tls",
    ]);
    assert_eq!(mode(&env.path("tls/influxdb.key")), 0o600);

    let out = env
        .cmd()
        .args([
            "selfsigned",
            "--host",
            "localhost",
            "--cert-out",
            "same.pem",
            "--key-out",
            "same.pem",
        ])
        .output()
        .unwrap();
    assert!(assert_input_error(&out).contains("two different outputs"));
    let out = env
        .cmd()
        .args(["selfsigned", "--host", "localhost", "--name", "../evil"])
        .output()
        .unwrap();
    assert!(assert_input_error(&out).contains("not a file name"));
}

#[test]
fn a_directory_in_the_way_fails_without_writing_the_key() {
    let env = TestEnv::new();
    fs::create_dir(env.path("localhost.crt")).unwrap();
    let out = env
        .cmd()
        .args(["selfsigned", "--host", "localhost", "--force"])
        .output()
        .unwrap();
    assert!(assert_input_error(&out).contains("is a directory"));
    assert_eq!(env.names(), ["localhost.crt"]);
}

#[test]
fn every_key_type_is_generated_as_asked() {
    for (key_type, algorithm, bits) in [
        ("ecdsa-p256", "ECDSA P-256", 256),
        ("ecdsa-p384", "ECDSA P-384", 384),
        ("ed25519", "Ed25519", 256),
        ("rsa-2048", "RSA", 2048),
        ("rsa-3072", "RSA", 3072),
        ("rsa-4096", "RSA", 4096),
    ] {
        let env = TestEnv::new();
        env.selfsigned(&["--host", "localhost", "--key-type", key_type]);
        let out = env
            .cmd()
            .args([
                "inspect",
                "localhost.crt",
                "--key",
                "localhost.key",
                "--json",
            ])
            .output()
            .unwrap();
        assert!(out.status.success(), "{key_type}: {}", stderr(&out));
        let v = json(&out);
        assert_eq!(v["certificates"][0]["key_type"], key_type);
        let key: Value =
            serde_json::from_slice(&env.ok(&["--json", "inspect", "localhost.key"]).stdout)
                .unwrap();
        assert_eq!(key["private_keys"][0]["key_type"], key_type);
        assert_eq!(v["certificates"][0]["key_bits"], bits, "{key_type}");
        let text = stdout(&env.ok(&["inspect", "localhost.crt"]));
        assert!(
            text.contains(&format!("key:         {algorithm} ({bits} bits)")),
            "{text}"
        );
        assert_eq!(v["key_matches"], true, "{key_type}");
    }
    let env = TestEnv::new();
    let out = env
        .cmd()
        .args([
            "selfsigned",
            "--host",
            "localhost",
            "--key-type",
            "rsa-1024",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
