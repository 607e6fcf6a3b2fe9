//! `certtool renew`: names, subject, key type and lifetime survive; the old pair is kept as
//! `.bak` with its mode (and owner); `--within` is idempotent; `--exec` runs only on renewal.
//! What the certificate says is read back with OpenSSL.

use std::fs;
use std::os::unix::fs::MetadataExt as _;
use std::path::Path;
use std::process::Command;

use crate::support::{
    TestEnv, assert_input_error, mode, openssl, require_tool, set_mode, stderr, stdout,
};

fn x509(dir: &Path, file: &str, what: &[&str]) -> String {
    let mut args = vec!["x509", "-in", file, "-noout"];
    args.extend(what);
    let out = openssl(&args, dir);
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out)
}

fn public_key(dir: &Path, key: &str) -> String {
    stdout(&openssl(&["pkey", "-in", key, "-pubout"], dir))
}

#[test]
fn renewal_keeps_names_subject_key_type_and_lifetime() {
    if !require_tool("openssl") {
        return;
    }
    for key_type in ["ecdsa-p256", "ed25519", "rsa-2048"] {
        let env = TestEnv::new();
        let dir = env.dir.path();
        env.selfsigned(&[
            "--host",
            "influx.test",
            "--host",
            "*.influx.test",
            "--host",
            "127.0.0.1",
            "--host",
            "::1",
            "--days",
            "10",
            "--key-type",
            key_type,
            "--name",
            "influxdb",
        ]);
        let old_cert = fs::read(env.path("influxdb.crt")).unwrap();
        let old_key = fs::read(env.path("influxdb.key")).unwrap();
        let old_pub = public_key(dir, "influxdb.key");
        let names = x509(
            dir,
            "influxdb.crt",
            &["-subject", "-ext", "subjectAltName,extendedKeyUsage"],
        );
        let old_serial = x509(dir, "influxdb.crt", &["-serial"]);
        let out = env.ok(&["renew", "influxdb.crt"]);
        assert!(
            stderr(&out).contains("Renewed influxdb.crt"),
            "{}",
            stderr(&out)
        );
        assert_eq!(
            x509(
                dir,
                "influxdb.crt",
                &["-subject", "-ext", "subjectAltName,extendedKeyUsage"]
            ),
            names,
            "{key_type}"
        );
        assert_ne!(x509(dir, "influxdb.crt", &["-serial"]), old_serial);
        let new_pub = public_key(dir, "influxdb.key");
        assert_ne!(new_pub, old_pub, "{key_type}: a new key unless --reuse-key");
        assert_eq!(
            stdout(&openssl(
                &["x509", "-in", "influxdb.crt", "-pubkey", "-noout"],
                dir
            )),
            new_pub,
            "{key_type}: the new certificate is for the new key"
        );
        let algorithm = |key: &str| {
            stdout(&openssl(&["pkey", "-in", key, "-text_pub", "-noout"], dir))
                .lines()
                .next()
                .unwrap()
                .to_owned()
        };
        assert_eq!(
            algorithm("influxdb.key"),
            algorithm("influxdb.key.bak"),
            "{key_type}"
        );
        // Same lifetime: ten days from five minutes ago.
        let dates = x509(dir, "influxdb.crt", &["-dates", "-dateopt", "iso_8601"]);
        let parse = |label: &str| {
            let line = dates.lines().find(|l| l.starts_with(label)).unwrap();
            time::OffsetDateTime::parse(
                &line[label.len()..].replace(' ', "T"),
                &time::format_description::well_known::Rfc3339,
            )
            .unwrap()
        };
        assert_eq!(
            parse("notAfter=") - parse("notBefore="),
            time::Duration::days(10)
        );
        // The old pair is kept, byte for byte.
        assert_eq!(fs::read(env.path("influxdb.crt.bak")).unwrap(), old_cert);
        assert_eq!(fs::read(env.path("influxdb.key.bak")).unwrap(), old_key);
        let out = openssl(
            &[
                "verify",
                "-x509_strict",
                "-CAfile",
                "influxdb.crt",
                "influxdb.crt",
            ],
            dir,
        );
        assert!(out.status.success(), "{key_type}: {}", stderr(&out));
    }
}

#[test]
fn modes_are_kept_and_keys_never_opened_beyond_0640() {
    let env = TestEnv::new();
    env.selfsigned(&["--host", "a.test"]);
    set_mode(&env.path("a.test.key"), 0o640);
    set_mode(&env.path("a.test.crt"), 0o444);
    env.ok(&["renew", "a.test.crt"]);
    assert_eq!(mode(&env.path("a.test.key")), 0o640);
    assert_eq!(mode(&env.path("a.test.crt")), 0o444);
    assert_eq!(mode(&env.path("a.test.key.bak")), 0o640);
    set_mode(&env.path("a.test.key"), 0o666);
    env.ok(&["renew", "a.test.crt"]);
    assert_eq!(mode(&env.path("a.test.key")), 0o640);
    // Whatever the umask.
    set_mode(&env.path("a.test.key"), 0o600);
    env.cmd_with_umask("077", &["renew", "a.test.crt"])
        .assert()
        .success();
    assert_eq!(mode(&env.path("a.test.crt")), 0o444);
    assert_eq!(mode(&env.path("a.test.key")), 0o600);
}

#[test]
fn owners_are_kept_when_run_as_root() {
    if !nix::unistd::Uid::effective().is_root() {
        eprintln!("skipped: changing owners needs root");
        return;
    }
    let env = TestEnv::new();
    env.selfsigned(&["--host", "a.test"]);
    let (uid, gid) = (65_534, 65_534);
    for file in ["a.test.key", "a.test.crt"] {
        std::os::unix::fs::chown(env.path(file), Some(uid), Some(gid)).unwrap();
    }
    env.ok(&["renew", "a.test.crt"]);
    for file in ["a.test.key", "a.test.crt", "a.test.key.bak"] {
        let meta = fs::metadata(env.path(file)).unwrap();
        assert_eq!((meta.uid(), meta.gid()), (uid, gid), "{file}");
    }
}

#[test]
fn within_is_idempotent_and_exec_runs_only_on_renewal() {
    let env = TestEnv::new();
    env.selfsigned(&["--host", "a.test", "--days", "60"]);
    let before = fs::read(env.path("a.test.crt")).unwrap();
    let exec = "echo renewed >> exec.log; test -f \"$CERTTOOL_CERT\" && test -f \"$CERTTOOL_KEY\"";
    for _ in 0..2 {
        let out = env.ok(&["renew", "a.test.crt", "--within", "30d", "--exec", exec]);
        assert!(stderr(&out).contains("not due"), "{}", stderr(&out));
    }
    assert_eq!(fs::read(env.path("a.test.crt")).unwrap(), before);
    assert!(!env.path("exec.log").exists());
    assert!(!env.path("a.test.crt.bak").exists());
    let out = env.ok(&[
        "renew",
        "a.test.crt",
        "--within",
        "61d",
        "--exec",
        exec,
        "--json",
    ]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["renewed"], true);
    assert_eq!(report["exec"]["success"], true);
    assert_eq!(
        fs::read_to_string(env.path("exec.log")).unwrap(),
        "renewed\n"
    );
    // Now it has 60 days again: not due within 30 days.
    let out = env.ok(&["renew", "a.test.crt", "--within", "30d", "--json"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["renewed"], false);
    // An expired certificate is always due.
    env.expired("old.test");
    env.ok(&["renew", "old.test.crt", "--within", "1d", "--days", "30"]);
    assert_eq!(
        env.certtool(&["check", "old.test.crt"]).status.code(),
        Some(0)
    );
}

#[test]
fn a_failing_exec_exits_1_after_renewing() {
    let env = TestEnv::new();
    env.selfsigned(&["--host", "a.test"]);
    let out = env.certtool(&[
        "renew",
        "a.test.crt",
        "--exec",
        "echo reload output; exit 3",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("--exec") && err.contains("exit status 3"),
        "{err}"
    );
    assert!(
        err.contains("reload output"),
        "the command's output goes to stderr: {err}"
    );
    assert!(stdout(&out).is_empty());
    assert!(env.path("a.test.crt.bak").exists(), "the renewal happened");
}

#[test]
fn ca_issued_certificates_renew_from_the_ca() {
    if !require_tool("openssl") {
        return;
    }
    let env = TestEnv::new();
    let dir = env.dir.path();
    env.ca(&[]);
    env.issue(&["--host", "agent.test", "--client", "--days", "30"]);
    let out = env.certtool(&["renew", "agent.test.crt"]);
    let err = assert_input_error(&out);
    assert!(err.contains("--ca-cert"), "{err}");
    assert!(!env.path("agent.test.crt.bak").exists());
    env.ok(&[
        "renew",
        "agent.test.crt",
        "--ca-cert",
        "ca.crt",
        "--ca-key",
        "ca.key",
    ]);
    let out = openssl(
        &[
            "verify",
            "-x509_strict",
            "-purpose",
            "sslclient",
            "-CAfile",
            "ca.crt",
            "agent.test.crt",
        ],
        dir,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let chain = fs::read_to_string(env.path("agent.test.crt")).unwrap();
    assert_eq!(chain.matches("BEGIN CERTIFICATE").count(), 2, "leaf + CA");
    let eku = x509(dir, "agent.test.crt", &["-ext", "extendedKeyUsage"]);
    assert!(eku.contains("TLS Web Client Authentication"), "{eku}");
}

#[test]
fn reuse_key_keeps_the_key_file_untouched() {
    if !require_tool("openssl") {
        return;
    }
    let env = TestEnv::new();
    env.selfsigned(&["--host", "a.test"]);
    let key = fs::read(env.path("a.test.key")).unwrap();
    env.ok(&["renew", "a.test.crt", "--reuse-key"]);
    assert_eq!(fs::read(env.path("a.test.key")).unwrap(), key);
    assert!(!env.path("a.test.key.bak").exists());
    let dir = env.dir.path();
    assert_eq!(
        stdout(&openssl(
            &["x509", "-in", "a.test.crt", "-pubkey", "-noout"],
            dir
        )),
        public_key(dir, "a.test.key")
    );
    // A key that does not belong to the certificate is refused, and nothing changes.
    env.selfsigned(&["--host", "b.test"]);
    let cert = fs::read(env.path("a.test.crt")).unwrap();
    env.refused(
        &["renew", "a.test.crt", "--key", "b.test.key", "--reuse-key"],
        "does not match",
    );
    assert_eq!(fs::read(env.path("a.test.crt")).unwrap(), cert);
}

#[test]
fn bad_input_leaves_files_alone() {
    let env = TestEnv::new();
    env.selfsigned(&["--host", "a.test", "--bundle", "both.pem"]);
    std::os::unix::fs::symlink(env.path("a.test.crt"), env.path("link.crt")).unwrap();
    env.write("garbage.crt", "nope");
    fs::copy(env.path("a.test.crt"), env.path("lonely.crt")).unwrap();
    for (args, expected) in [
        (vec!["renew", "missing.crt"], "missing.crt"),
        (
            vec!["renew", "link.crt", "--key", "a.test.key"],
            "symbolic link",
        ),
        (vec!["renew", "garbage.crt"], "garbage.crt"),
        (
            vec!["renew", "both.pem", "--key", "a.test.key"],
            "private key as well",
        ),
        (vec!["renew", "lonely.crt"], "lonely.key' does not exist"),
    ] {
        env.refused(&args, expected);
    }
    assert!(!env.path("a.test.crt.bak").exists());
}

#[test]
fn install_timer_writes_units_systemd_accepts_and_their_command_renews() {
    if !require_tool("systemd-analyze") {
        return;
    }
    let env = TestEnv::new();
    env.selfsigned(&["--host", "soon.test", "--days", "10"]);
    fs::create_dir(env.path("units")).unwrap();
    let reloaded = env.path("reloaded");
    let exec = format!("touch {}", reloaded.display());
    let args = [
        "renew",
        "soon.test.crt",
        "--install-timer",
        "--systemd-dir",
        "units",
        "--exec",
        &exec,
    ];
    let out = env.ok(&args);
    assert!(
        stderr(&out).contains("systemctl enable --now certtool-renew-soon-test.timer"),
        "{}",
        stderr(&out)
    );
    let service = env.path("units/certtool-renew-soon-test.service");
    let timer = env.path("units/certtool-renew-soon-test.timer");
    let verify = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&service)
        .arg(&timer)
        .output()
        .unwrap();
    assert!(
        verify.status.success(),
        "{}{}",
        stdout(&verify),
        stderr(&verify)
    );
    let timer_text = fs::read_to_string(&timer).unwrap();
    assert!(timer_text.contains("OnCalendar=daily") && timer_text.contains("RandomizedDelaySec="));
    // Idempotent.
    assert!(stderr(&env.ok(&args)).contains("unchanged"));
    // The service's ExecStart, run by hand: the certificate is due, so it is renewed and the
    // reload command runs.
    let unit = fs::read_to_string(&service).unwrap();
    let exec_start = unit
        .lines()
        .find_map(|l| l.strip_prefix("ExecStart="))
        .unwrap();
    let before = fs::read(env.path("soon.test.crt")).unwrap();
    let run = Command::new("sh")
        .args(["-c", exec_start])
        .current_dir("/")
        .output()
        .unwrap();
    assert!(run.status.success(), "{exec_start}: {}", stderr(&run));
    assert_ne!(
        fs::read(env.path("soon.test.crt")).unwrap(),
        before,
        "renewed"
    );
    assert!(reloaded.exists(), "the reload command ran");
    // The crontab line: five time fields, the user, the same command.
    let out = env.ok(&["renew", "soon.test.crt", "--cron", "--exec", &exec]);
    let line = stdout(&out);
    let fields: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(&fields[2..6], ["*", "*", "*", "root"], "{line}");
    assert!(
        line.contains(" renew ") && line.contains("--within 30d"),
        "{line}"
    );
}
