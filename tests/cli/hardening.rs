//! The hardening suite: every promise certtool makes about keys and secrets, tried against a
//! hostile user. Each test names the defect of the hardening review it guards against
//! (`defect_N_...`); each failed on the build before its fix (run it against an older binary
//! with `CERTTOOL_TEST_BIN`). Pairs are judged with OpenSSL, never with certtool's own reader.
//! The figures each test ran are printed (`cargo test -- --nocapture`) and kept in
//! `docs/reliability.md` by [`crate::reliability`].

use std::collections::HashSet;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::thread::sleep;
use std::time::Duration;

use crate::reliability::record;
use crate::support::{
    ISSUE, TestEnv, assert_input_error, bin, mode, openssl, openssl_leaf, require, require_tool,
    stderr, stdout,
};

/// The public key of a certificate or of a private key, as OpenSSL reads it.
fn public_key(dir: &Path, file: &str, is_cert: bool) -> String {
    let out = if is_cert {
        openssl(&["x509", "-in", file, "-noout", "-pubkey"], dir)
    } else {
        openssl(&["pkey", "-in", file, "-pubout"], dir)
    };
    assert!(
        out.status.success(),
        "openssl cannot read {file}: {}",
        stderr(&out)
    );
    stdout(&out)
}

/// Whether OpenSSL says the key belongs to the (first) certificate of `cert`.
fn pair_matches(dir: &Path, cert: &str, key: &str) -> bool {
    public_key(dir, cert, true) == public_key(dir, key, false)
}

/// certtool's temporary files and intent records left in `dir`.
fn leftovers(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".certtool-") || n.starts_with(".certtool"))
        .collect();
    names.sort();
    names
}

/// `certtool ARGS` under strace, with `inject` (an strace fault, e.g.
/// `rename:signal=SIGKILL:when=2`) applied to certtool itself.
fn under_strace(env: &TestEnv, inject: &str, args: &[&str]) -> Output {
    Command::new("strace")
        .args(["-o", "/dev/null", "-e", &format!("inject={inject}")])
        .arg(bin())
        .args(args)
        .current_dir(env.dir.path())
        .env("HOME", env.dir.path())
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .expect("run strace")
}

/// The system calls through which certtool writes, renames, links, removes and syncs.
const KILL_SYSCALLS: [&str; 9] = [
    "write",
    "fchmod",
    "fdatasync",
    "fsync",
    "link",
    "linkat",
    "rename",
    "renameat2",
    "unlink",
];

/// Kill `args` with SIGKILL at every occurrence of every system call it writes with, let the
/// next certtool run (`repair`) find the interrupted write, and check the invariants after
/// each. Returns the number of kill points covered.
fn kill_everywhere(
    setup: &dyn Fn() -> TestEnv,
    args: &[&str],
    repair: &[&str],
    invariants: &dyn Fn(&TestEnv, &str),
) -> usize {
    let mut points = 0;
    for syscall in KILL_SYSCALLS {
        for when in 1..500 {
            let env = setup();
            let out = under_strace(&env, &format!("{syscall}:signal=SIGKILL:when={when}"), args);
            if out.status.signal() != Some(9) {
                assert!(out.status.success(), "{args:?} unkilled: {}", stderr(&out));
                break;
            }
            points += 1;
            let fixed = env.certtool(repair);
            assert!(
                fixed.status.code().is_some_and(|c| c < 2),
                "repair after {syscall} #{when}: {}",
                stderr(&fixed)
            );
            invariants(&env, &format!("{args:?} killed at {syscall} #{when}"));
            assert_eq!(
                leftovers(env.dir.path()),
                Vec::<String>::new(),
                "{syscall} #{when}"
            );
        }
    }
    points
}

fn assert_pair(env: &TestEnv, cert: &str, key: &str, what: &str) {
    let dir = env.dir.path();
    assert!(
        pair_matches(dir, cert, key),
        "{what}: {key} does not match {cert}"
    );
    assert_eq!(mode(&env.path(key)), 0o600, "{what}: {key}");
    assert_eq!(mode(&env.path(cert)), 0o644, "{what}: {cert}");
}

/// A pair `p.crt`/`p.key` for p.test.
fn env_with_pair() -> TestEnv {
    let env = TestEnv::new();
    env.selfsigned(&["--host", "p.test", "--name", "p"]);
    env
}

/// After a renew: the pair matches, and so does the .bak pair, which exists whole or not at all.
fn pair_and_backups(env: &TestEnv, what: &str) {
    assert_pair(env, "p.crt", "p.key", what);
    let baks = (
        env.path("p.crt.bak").exists(),
        env.path("p.key.bak").exists(),
    );
    assert_eq!(baks.0, baks.1, "{what}: one .bak without the other");
    if baks.0 {
        assert!(
            pair_matches(env.dir.path(), "p.crt.bak", "p.key.bak"),
            "{what}"
        );
    }
}

/// After `config influxdb --auth --in-place`: the config (and its .bak) parse with Python's
/// tomllib, the mode is kept, and the env file exists exactly when the config was edited.
fn config_and_env_file(env: &TestEnv, what: &str) {
    for file in ["influxdb.conf", "influxdb.conf.bak"] {
        if env.path(file).exists() {
            let out = Command::new("python3")
                .args([
                    "-c",
                    "import sys,tomllib; tomllib.loads(open(sys.argv[1],encoding='utf-8-sig').read())",
                ])
                .arg(env.path(file))
                .output()
                .unwrap();
            assert!(out.status.success(), "{what}: {file}: {}", stderr(&out));
        }
    }
    assert_eq!(mode(&env.path("influxdb.conf")), 0o644, "{what}");
    let edited = env.read("influxdb.conf").contains("auth-enabled = true");
    assert_eq!(
        edited,
        env.path("influxdb.env").exists(),
        "{what}: config and env file torn"
    );
    if edited {
        assert_eq!(mode(&env.path("influxdb.env")), 0o600, "{what}");
    }
}

#[test]
fn defect_4_sigkill_at_any_write_leaves_a_matching_pair() {
    if !require_tool("strace") || !require_tool("openssl") {
        return;
    }
    let pair = |env: &TestEnv, what: &str| assert_pair(env, "p.crt", "p.key", what);
    let selfsigned = kill_everywhere(
        &env_with_pair,
        &["selfsigned", "--host", "p.test", "--name", "p", "--force"],
        &["check", "p.crt"],
        &pair,
    );
    let ca_env = || {
        let env = env_with_pair();
        env.ca(&[]);
        env.issue(&["--host", "p.test", "--name", "p", "--force"]);
        env
    };
    let issue_args = [&ISSUE[..], &["--host", "p.test", "--name", "p", "--force"]].concat();
    let issue = kill_everywhere(
        &ca_env,
        &issue_args,
        &["inspect", "p.crt", "--key", "p.key"],
        &pair,
    );
    let renew = kill_everywhere(
        &env_with_pair,
        &["renew", "p.crt"],
        &["check", "p.crt"],
        &pair_and_backups,
    );
    let conf_env = || {
        let env = env_with_pair();
        env.write(
            "influxdb.conf",
            "\u{feff}[http]\n  # https-enabled = false\n",
        );
        env.write("s.secret", "q2J6lW8x0nYb4cF1Vt9KsZpA3eRmHuDg\n");
        fs::set_permissions(env.path("s.secret"), fs::Permissions::from_mode(0o600)).unwrap();
        env
    };
    // The config and its env file: one set.
    let config_args = [
        "config",
        "influxdb",
        "--cert",
        "p.crt",
        "--key",
        "p.key",
        "--in-place",
        "influxdb.conf",
        "--auth",
        "--secret-file",
        "s.secret",
    ];
    let mut dry_run = config_args.to_vec();
    dry_run.push("--dry-run");
    let config = kill_everywhere(&conf_env, &config_args, &dry_run, &config_and_env_file);
    let total = selfsigned + issue + renew + config;
    eprintln!(
        "kill points: selfsigned --force {selfsigned}, ca issue --force {issue}, renew {renew}, \
         config --in-place {config}"
    );
    assert!(
        selfsigned >= 8 && issue >= 8 && renew >= 8 && config >= 4,
        "too few kill points"
    );
    record(
        "SIGKILL at every write, sync, link, rename and unlink",
        total,
    );
}

#[test]
fn defect_4_sigkill_during_csr_and_import_leaves_matching_files() {
    if !require_tool("strace") || !require_tool("openssl") {
        return;
    }
    // csr --force: a new key and its request, one set: the request is always for the key.
    let csr_env = || {
        let env = TestEnv::new();
        env.ok(&["csr", "--host", "p.test", "--name", "p"]);
        env
    };
    let request_matches = |env: &TestEnv, what: &str| {
        let out = env.certtool(&["inspect", "p.csr", "--key", "p.key"]);
        assert_eq!(out.status.code(), Some(0), "{what}: {}", stdout(&out));
        assert_eq!(mode(&env.path("p.key")), 0o600, "{what}");
        assert_eq!(mode(&env.path("p.csr")), 0o644, "{what}");
    };
    let csr = kill_everywhere(
        &csr_env,
        &["csr", "--host", "p.test", "--name", "p", "--force"],
        &["inspect", "p.csr", "--key", "p.key"],
        &request_matches,
    );
    // import --force into another directory: the key's copy and the chain, one set.
    let import_env = || {
        let env = TestEnv::new();
        env.ca(&[]);
        env.ok(&["csr", "--host", "p.test", "--name", "p"]);
        env.ok(&[
            "ca",
            "sign",
            "p.csr",
            "--ca-cert",
            "ca.crt",
            "--ca-key",
            "ca.key",
        ]);
        fs::create_dir(env.path("out")).unwrap();
        env.ok(&[
            "selfsigned",
            "--host",
            "old.test",
            "--name",
            "p",
            "--out-dir",
            "out",
        ]);
        env
    };
    let import = kill_everywhere(
        &import_env,
        &[
            "import",
            "--cert",
            "p.crt",
            "--key",
            "p.key",
            "--out-dir",
            "out",
            "--force",
        ],
        &["check", "out/p.crt"],
        &|env: &TestEnv, what: &str| assert_pair(env, "out/p.crt", "out/p.key", what),
    );
    eprintln!("kill points: csr --force {csr}, import --force {import}");
    assert!(csr >= 4 && import >= 4, "too few kill points");
    record("SIGKILL at every write of csr and import", csr + import);
}

#[test]
fn defect_4_sigterm_sigint_sighup_during_a_write_roll_back() {
    if !require_tool("strace") {
        return;
    }
    for (signal, code) in [("SIGTERM", 143), ("SIGINT", 130), ("SIGHUP", 129)] {
        for syscall in ["write", "fdatasync"] {
            let env = env_with_pair();
            let (old_key, old_crt) = (env.read("p.key"), env.read("p.crt"));
            let out = under_strace(
                &env,
                &format!("{syscall}:signal={signal}:when=1"),
                &["selfsigned", "--host", "p.test", "--name", "p", "--force"],
            );
            assert_eq!(out.status.code(), Some(code), "{signal}: {}", stderr(&out));
            let err = stderr(&out);
            assert_eq!(err.lines().count(), 1, "{err}");
            assert!(err.contains(&format!("interrupted by {signal}")), "{err}");
            assert_eq!(env.read("p.key"), old_key, "{signal}: the old key stands");
            assert_eq!(
                env.read("p.crt"),
                old_crt,
                "{signal}: the old certificate stands"
            );
            assert_eq!(leftovers(env.dir.path()), Vec::<String>::new(), "{signal}");
        }
    }
    record("SIGTERM, SIGINT, SIGHUP while writing", 6);
}

#[test]
fn defect_4_random_sigterms_leave_no_temp_files() {
    if !require_tool("openssl") {
        return;
    }
    let env = env_with_pair();
    let rounds = 100;
    for round in 0..rounds {
        let child = env
            .cmd_std()
            .args(["selfsigned", "--host", "p.test", "--name", "p", "--force"])
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        sleep(Duration::from_micros(200 * (round % 40) as u64));
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let _ = child.wait_with_output();
        assert_eq!(
            leftovers(env.dir.path()),
            Vec::<String>::new(),
            "round {round}"
        );
        assert!(
            pair_matches(env.dir.path(), "p.crt", "p.key"),
            "round {round}"
        );
    }
    record("SIGTERM at random moments of selfsigned --force", rounds);
}

/// Start `args` three times at once and insist that every run succeeds.
fn three_at_once(env: &TestEnv, args: &[&str], round: usize) {
    let children: Vec<_> = (0..3)
        .map(|_| {
            env.cmd_std()
                .args(args)
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{args:?} round {round}: {}",
            stderr(&out)
        );
    }
}

#[test]
fn defect_5_concurrent_writers_never_mix_pairs() {
    if !require_tool("openssl") {
        return;
    }
    let env = env_with_pair();
    let rounds = 100;
    for round in 0..rounds {
        three_at_once(
            &env,
            &["selfsigned", "--host", "c.test", "--name", "c", "--force"],
            round,
        );
        assert!(
            pair_matches(env.dir.path(), "c.crt", "c.key"),
            "round {round}"
        );
    }
    for round in 0..20 {
        three_at_once(&env, &["renew", "p.crt"], round);
        assert!(
            pair_matches(env.dir.path(), "p.crt", "p.key"),
            "renew round {round}"
        );
        assert!(
            pair_matches(env.dir.path(), "p.crt.bak", "p.key.bak"),
            "renew round {round}"
        );
        assert_eq!(leftovers(env.dir.path()), Vec::<String>::new());
    }
    record(
        "3 concurrent writers of one pair (selfsigned, renew)",
        (rounds + 20) * 3,
    );
}

#[test]
fn defect_5_a_second_writer_waits_then_gives_up_with_exit_2() {
    if !require_tool("flock") {
        return;
    }
    let env = env_with_pair();
    let mut holder = Command::new("flock")
        .arg(env.dir.path())
        .args(["-c", "sleep 4"])
        .spawn()
        .unwrap();
    sleep(Duration::from_millis(300));
    let out = env
        .cmd()
        .env("CERTTOOL_LOCK_TIMEOUT", "1")
        .args(["selfsigned", "--host", "p.test", "--name", "p", "--force"])
        .output()
        .unwrap();
    let _ = holder.kill();
    let _ = holder.wait();
    let err = assert_input_error(&out);
    assert!(err.contains("another certtool is writing"), "{err}");
}

/// Every way of damaging a key file that the suite tries.
fn mutations(key: &str, cert: &str) -> Vec<(String, Vec<u8>)> {
    let mut cases: Vec<(String, Vec<u8>)> = Vec::new();
    let lines: Vec<&str> = key.lines().collect();
    let mut add = |name: String, bytes: Vec<u8>| cases.push((name, bytes));
    add(
        "label %".into(),
        key.replacen("KEY-----", "KEY%----", 1).into_bytes(),
    );
    add(
        "label % + cert".into(),
        format!("{}{cert}", key.replacen("KEY-----", "KEY%----", 1)).into_bytes(),
    );
    add(
        "end label".into(),
        key.replace("END PRIVATE KEY", "END PUBLIC KEY")
            .into_bytes(),
    );
    add(
        "no end".into(),
        lines[..lines.len() - 1].join("\n").into_bytes(),
    );
    add(
        "begin cut".into(),
        key.replacen("-----BEGIN PRIVATE KEY-----", "-----BEGIN PRIV", 1)
            .into_bytes(),
    );
    add(
        "header".into(),
        key.replacen(
            "-----\n",
            "-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\n",
            1,
        )
        .into_bytes(),
    );
    add(
        "bad header".into(),
        key.replacen("-----\n", "-----\nX: \n", 1).into_bytes(),
    );
    add(
        "as certificate".into(),
        key.replace("PRIVATE KEY", "CERTIFICATE").into_bytes(),
    );
    add(
        "as csr".into(),
        key.replace("PRIVATE KEY", "CERTIFICATE REQUEST")
            .into_bytes(),
    );
    add(
        "as rsa".into(),
        key.replace("PRIVATE KEY", "RSA PRIVATE KEY").into_bytes(),
    );
    add(
        "as ec".into(),
        key.replace("PRIVATE KEY", "EC PRIVATE KEY").into_bytes(),
    );
    add(
        "lowercase label".into(),
        key.replace("PRIVATE KEY", "private key").into_bytes(),
    );
    add(
        "escape label".into(),
        key.replace("PRIVATE KEY", "PRIVATE\x1b]0;x\x07 KEY")
            .into_bytes(),
    );
    for cut in [30, 60, 90, key.len() - 40, key.len() - 26] {
        add(format!("cut at {cut}"), key.as_bytes()[..cut].to_vec());
    }
    // The same number of places for every key type (an RSA key's length varies by a byte or two).
    for pos in (0..40).map(|i| 28 + i * (key.len() - 58) / 40) {
        for replacement in [b'!', b'=', b'\n', b' ', 0] {
            let mut bytes = key.as_bytes().to_vec();
            bytes[pos] = replacement;
            add(format!("byte {pos} = {replacement}"), bytes);
        }
    }
    add("doubled".into(), format!("{key}{key}").into_bytes());
    add(
        "interleaved".into(),
        format!("{}\n{cert}{}", lines[..3].join("\n"), lines[3..].join("\n")).into_bytes(),
    );
    cases
}

/// An error's shape: warnings, then one `certtool: error:` line, then at most a hint.
fn assert_error_shape(err: &str, what: &str) {
    let lines: Vec<&str> = err
        .lines()
        .skip_while(|l| l.starts_with("certtool: warning: "))
        .collect();
    assert!(
        matches!(lines.as_slice(), [e] | [e, _] if e.starts_with("certtool: error: "))
            && lines.get(1).is_none_or(|h| h.starts_with("  hint: ")),
        "{what}: {err}"
    );
}

/// Every run of 16 characters of the key's base64 (lines joined, as a reader would see them).
fn key_runs(key: &str) -> HashSet<String> {
    let body: String = key.lines().filter(|l| !l.starts_with("-----")).collect();
    let chars: Vec<char> = body.chars().collect();
    chars.windows(16).map(|w| w.iter().collect()).collect()
}

fn leaks(runs: &HashSet<String>, text: &str) -> Option<String> {
    let chars: Vec<char> = text.chars().collect();
    chars
        .windows(16)
        .map(|w| w.iter().collect::<String>())
        .find(|w| runs.contains(w))
}

#[test]
fn defect_3_no_key_material_in_any_message() {
    let env = TestEnv::new();
    let mut runs = 0;
    for key_type in ["ecdsa-p256", "ed25519", "rsa-2048"] {
        env.selfsigned(&[
            "--host",
            "localhost",
            "--name",
            "l",
            "--key-type",
            key_type,
            "--force",
        ]);
        env.ok(&["ca", "init", "--force"]);
        let key = env.read("l.key");
        let cert = env.read("l.crt");
        let secret_runs = key_runs(&key);
        // audit reads the pair influxd's config names.
        let dir = env.dir.path().display().to_string();
        env.write(
            "audit.conf",
            format!(
                "[http]\n  https-enabled = true\n  https-certificate = \"{dir}/l.crt\"\n  \
                 https-private-key = \"{dir}/b.pem\"\n"
            ),
        );
        for (case, bytes) in mutations(&key, &cert) {
            env.write("b.pem", &bytes);
            for args in [
                &["inspect", "b.pem"][..],
                &["inspect", "l.crt", "--key", "b.pem"],
                &["check", "b.pem"],
                &["verify", "--cert", "l.crt", "--key", "b.pem"],
                &["config", "prometheus", "--cert", "l.crt", "--key", "b.pem"],
                &["config", "influxdb", "--cert", "l.crt", "--key", "b.pem"],
                &[
                    "renew",
                    "l.crt",
                    "--key",
                    "b.pem",
                    "--reuse-key",
                    "--days",
                    "1",
                ],
                &[
                    "ca",
                    "issue",
                    "--ca-cert",
                    "ca.crt",
                    "--ca-key",
                    "b.pem",
                    "--host",
                    "x.test",
                ],
                &[
                    "csr", "--host", "x.test", "--key", "b.pem", "--name", "z", "--force",
                ],
                &[
                    "import",
                    "--cert",
                    "l.crt",
                    "--key",
                    "b.pem",
                    "--out-dir",
                    "imp",
                    "--force",
                ],
                &["audit", "influxdb", "--config", "audit.conf"],
            ] {
                for json in [false, true] {
                    let mut all = if json { vec!["--json"] } else { vec![] };
                    all.extend(args);
                    let before = env.names();
                    let out = env.certtool(&all);
                    let text = format!("{}{}", stdout(&out), stderr(&out));
                    assert!(!text.contains("panicked"), "{case}: {all:?}: {text}");
                    let code = out.status.code();
                    assert!(matches!(code, Some(0..=2)), "{case}: {all:?}: {code:?}");
                    if let Some(run) = leaks(&secret_runs, &text) {
                        panic!("{key_type} {case}: {all:?} printed key material {run:?}:\n{text}");
                    }
                    if code == Some(2) {
                        assert_error_shape(&stderr(&out), &format!("{case}: {all:?}"));
                        assert_eq!(env.names(), before, "{case}: {all:?} wrote after an error");
                    }
                    runs += 1;
                }
            }
        }
    }
    eprintln!("damaged-key runs: {runs}");
    record("damaged private keys given to every reading command", runs);
}

#[test]
fn defect_6_dates_at_the_end_of_time_are_errors_not_panics() {
    let env = TestEnv::new();
    for args in [
        &[
            "selfsigned",
            "--host",
            "p.test",
            "--not-before",
            "9999-12-31",
        ][..],
        &[
            "selfsigned",
            "--host",
            "p.test",
            "--not-before",
            "9999-12-31T23:59:59Z",
            "--days",
            "1",
        ],
        &["ca", "init", "--not-before", "9999-12-31"],
    ] {
        assert_input_error(&env.certtool(args));
    }
    // RFC 5280's "no well-defined expiration" value, 99991231235959Z.
    env.selfsigned(&[
        "--host",
        "n.test",
        "--name",
        "n",
        "--not-before",
        "2026-01-01",
        "--not-after",
        "9999-12-31T23:59:59Z",
    ]);
    if require_tool("openssl") {
        let end = stdout(&openssl(
            &["x509", "-in", "n.crt", "-noout", "-enddate"],
            env.dir.path(),
        ));
        assert!(end.contains("Dec 31 23:59:59 9999"), "{end}");
    }
    let err = assert_input_error(&env.certtool(&["renew", "n.crt"]));
    assert!(err.contains("--days"), "{err}");
    env.ok(&["renew", "n.crt", "--days", "30"]);
    env.ok(&["inspect", "n.crt"]);
    env.ok(&["check", "n.crt"]);
}

#[test]
fn defect_8_file_names_and_labels_cannot_drive_the_terminal() {
    let env = TestEnv::new();
    env.selfsigned(&["--host", "e.test", "--name", "e"]);
    let forged = "\x1b[2J\x1b]0;owned\x07\nall.crt  CN=x  999 days left  ok";
    fs::copy(env.path("e.crt"), env.path(forged)).unwrap();
    let label = "-----BEGIN \x1b]0;t\x07CERT-----\nMAA=\n-----END \x1b]0;t\x07CERT-----\n";
    env.write("label.pem", label);
    for args in [
        &["check", "."][..],
        &["--json", "check", "."],
        &["check", "--prometheus", "."],
        &["perms", "."],
        &["inspect", "label.pem"],
        &["check", "label.pem"],
        &["inspect", forged],
    ] {
        let out = env.certtool(args);
        let text = format!("{}{}", stdout(&out), stderr(&out));
        assert!(
            !text.contains('\x1b') && !text.contains('\x07'),
            "{args:?}: {text:?}"
        );
        assert!(
            !text.lines().any(|l| l.starts_with("all.crt")),
            "{args:?} printed a forged line: {text}"
        );
    }
}

#[test]
fn defect_9_garbage_is_refused() {
    let env = TestEnv::new();
    env.ca(&[]);
    env.issue(&["--host", "g.test", "--name", "g"]);
    let chain = env.read("g.crt");
    // Cut inside the second -----BEGIN line.
    let second = chain.rfind("-----BEGIN").unwrap();
    for cut in [second + 2, second + 3, second + 8, second + 15] {
        env.write("cut.pem", &chain[..cut]);
        for command in ["check", "inspect"] {
            let err = assert_input_error(&env.certtool(&[command, "cut.pem"]));
            assert!(err.contains("truncated"), "{command} cut at {cut}: {err}");
        }
    }
    // A passphrase-encrypted traditional key.
    if require_tool("openssl") {
        // A traditional key with Proc-Type: 4,ENCRYPTED, and an encrypted PKCS#8 key.
        for (file, extra) in [("enc.key", Some("-traditional")), ("enc8.key", None)] {
            let mut args = vec!["pkey", "-in", "g.key", "-aes128", "-passout", "pass:secret"];
            args.extend(extra);
            args.extend(["-out", file]);
            let out = openssl(&args, env.dir.path());
            assert!(out.status.success(), "{}", stderr(&out));
        }
        assert!(env.read("enc.key").contains("Proc-Type: 4,ENCRYPTED"));
        for args in [
            &["inspect", "enc.key"][..],
            &["inspect", "enc8.key"],
            &["inspect", "g.crt", "--key", "enc.key"],
            &["verify", "--cert", "g.crt", "--key", "enc.key"],
            &[
                "config",
                "prometheus",
                "--cert",
                "g.crt",
                "--key",
                "enc.key",
            ],
        ] {
            let err = assert_input_error(&env.certtool(args));
            assert!(
                err.contains("encrypted") && err.contains("openssl pkey"),
                "{args:?}: {err}"
            );
        }
    }
    // A TOML file with a byte-order mark keeps it.
    env.selfsigned(&["--host", "localhost", "--name", "l"]);
    env.write("bom.conf", "\u{feff}[http]\n  # https-enabled = false\n");
    env.ok(&[
        "config",
        "influxdb",
        "--cert",
        "l.crt",
        "--key",
        "l.key",
        "--in-place",
        "bom.conf",
    ]);
    let edited = env.read("bom.conf");
    assert!(edited.starts_with('\u{feff}'), "{edited:?}");
    assert!(edited.contains("https-enabled = true"), "{edited}");
}

#[test]
fn defect_12_long_names_are_written_when_they_fit() {
    let env = TestEnv::new();
    let name = "n".repeat(240);
    env.selfsigned(&["--host", "l.test", "--name", &name]);
    assert!(env.path(&format!("{name}.key")).exists());
    env.selfsigned(&["--host", "l.test", "--name", &name, "--force"]);
    let too_long = "n".repeat(252);
    let err =
        assert_input_error(&env.certtool(&["selfsigned", "--host", "l.test", "--name", &too_long]));
    assert!(
        err.contains("too long") || err.contains("File name too long"),
        "{err}"
    );
}

#[test]
fn defect_2_and_7_launched_servers_are_private_and_die_with_certtool() {
    if !require_tool("influxd") {
        return;
    }
    let env = TestEnv::new();
    env.selfsigned(&["--host", "localhost", "--name", "l"]);
    env.write(
        "influxdb.conf",
        "[http]\n  auth-enabled = true\n  shared-secret = \"q2J6lW8x0nYb4cF1Vt9KsZpA3eRmHuDg\"\n",
    );
    let tmp = env.path("tmp");
    fs::create_dir(&tmp).unwrap();
    fs::set_permissions(&tmp, fs::Permissions::from_mode(0o1777)).unwrap();
    let mut child = env
        .cmd_std()
        .env("TMPDIR", &tmp)
        .args([
            "verify",
            "--launch",
            "influxdb",
            "--cert",
            "l.crt",
            "--key",
            "l.key",
            "--config",
            "influxdb.conf",
            "--start-timeout",
            "30s",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait for the server to be started by certtool, then kill certtool with SIGKILL.
    let server = (0..500).find_map(|_| {
        sleep(Duration::from_millis(10));
        let out = Command::new("pgrep")
            .args(["-P", &child.id().to_string(), "influxd"])
            .output()
            .ok()?;
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse::<u32>()
            .ok()
    });
    let Some(server) = server else {
        let _ = child.kill();
        panic!("influxd was not started");
    };
    let dir = fs::read_dir(&tmp).unwrap().next().unwrap().unwrap().path();
    assert_eq!(
        fs::metadata(&dir).unwrap().mode() & 0o777,
        0o700,
        "temp dir"
    );
    for entry in fs::read_dir(&dir).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            let m = entry.metadata().unwrap().mode() & 0o777;
            assert_eq!(m, 0o600, "{}", entry.path().display());
        }
    }
    child.kill().unwrap();
    let _ = child.wait();
    let gone = (0..300).any(|_| {
        sleep(Duration::from_millis(10));
        let stat = fs::read_to_string(format!("/proc/{server}/stat")).unwrap_or_default();
        stat.is_empty() || stat.split_whitespace().nth(2) == Some("Z")
    });
    assert!(gone, "influxd {server} outlived certtool");
    // The next launch removes the directory the killed run left.
    env.cmd()
        .env("TMPDIR", &tmp)
        .args([
            "verify", "--launch", "influxdb", "--cert", "l.crt", "--key", "l.key",
        ])
        .assert()
        .success();
    assert!(!dir.exists(), "stale {} was not removed", dir.display());
}

#[test]
fn filesystem_attacks_symlinks_and_hard_links_at_every_path() {
    let env = env_with_pair();
    let victim = env.write("victim", "precious\n");
    // A symlink at the target, at the .bak of a renew, and at an env file.
    for (link, args) in [
        (
            "p.key",
            &["selfsigned", "--host", "p.test", "--name", "p", "--force"][..],
        ),
        ("p.crt", &["renew", "p.crt"]),
        (
            "influxdb.env",
            &[
                "config",
                "influxdb",
                "--cert",
                "p.crt",
                "--key",
                "p.key",
                "--auth",
                "--secret-env",
                "S",
                "--env-file",
                "influxdb.env",
            ],
        ),
    ] {
        let env2 = env_with_pair();
        fs::copy(&victim, env2.path("victim")).unwrap();
        let target = env2.path(link);
        let _ = fs::remove_file(&target);
        symlink(env2.path("victim"), &target).unwrap();
        let out = env2
            .cmd()
            .env("S", "q2J6lW8x0nYb4cF1Vt9KsZpA3eRmHuDg")
            .args(args)
            .output()
            .unwrap();
        assert_input_error(&out);
        assert_eq!(
            env2.read("victim"),
            "precious\n",
            "{args:?} wrote through a link"
        );
    }
    // A symlink planted at p.crt.bak is replaced, not followed.
    let env3 = env_with_pair();
    fs::copy(&victim, env3.path("victim")).unwrap();
    symlink(env3.path("victim"), env3.path("p.crt.bak")).unwrap();
    env3.ok(&["renew", "p.crt"]);
    assert_eq!(env3.read("victim"), "precious\n");
    assert!(
        !fs::symlink_metadata(env3.path("p.crt.bak"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    // A hard link to the key elsewhere keeps the old key; the new key is a new inode at 0600.
    let env4 = env_with_pair();
    fs::hard_link(env4.path("p.key"), env4.path("other")).unwrap();
    let before = env4.read("other");
    env4.selfsigned(&["--host", "p.test", "--name", "p", "--force"]);
    assert_eq!(
        env4.read("other"),
        before,
        "the other name still holds the old key"
    );
    assert_ne!(env4.read("p.key"), before);
    assert_eq!(mode(&env4.path("p.key")), 0o600);
    // Under umask 000 and 077 the modes are still exact.
    for mask in ["000", "077"] {
        let env5 = TestEnv::new();
        env5.cmd_with_umask(mask, &["selfsigned", "--host", "u.test", "--name", "u"])
            .assert()
            .success();
        assert_eq!(mode(&env5.path("u.key")), 0o600, "umask {mask}");
        assert_eq!(mode(&env5.path("u.crt")), 0o644, "umask {mask}");
    }
    // A read-only directory: one clear line, nothing written.
    let env6 = TestEnv::new();
    let ro = env6.path("ro");
    fs::create_dir(&ro).unwrap();
    fs::set_permissions(&ro, fs::Permissions::from_mode(0o555)).unwrap();
    if nix_is_root() {
        // root writes anyway; a read-only mount is tried below instead.
    } else {
        assert_input_error(&env6.certtool(&["selfsigned", "--host", "r.test", "--out-dir", "ro"]));
        assert!(fs::read_dir(&ro).unwrap().next().is_none());
    }
    filesystem_full_and_read_only(&env6);
}

fn nix_is_root() -> bool {
    fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// A tmpfs of 64 KiB, mounted by the test: full, then read-only.
fn filesystem_full_and_read_only(env: &TestEnv) {
    let mnt = env.path("mnt");
    fs::create_dir(&mnt).unwrap();
    let mounted = Command::new("mount")
        .args([
            "-t",
            "tmpfs",
            "-o",
            "size=64k",
            "certtool-test",
            &mnt.to_string_lossy(),
        ])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !require(
        mounted,
        "mounting a tmpfs (full and read-only file systems)",
    ) {
        return;
    }
    let unmount = || {
        let _ = Command::new("umount").arg(&mnt).status();
    };
    // Fill it, leaving less than a key and certificate need.
    let _ = Command::new("dd")
        .args([
            "if=/dev/zero",
            &format!("of={}/fill", mnt.display()),
            "bs=1k",
            "count=63",
        ])
        .stderr(Stdio::null())
        .status();
    let out = env.certtool(&[
        "selfsigned",
        "--host",
        "f.test",
        "--out-dir",
        "mnt",
        "--key-type",
        "rsa-4096",
    ]);
    let names: Vec<String> = fs::read_dir(&mnt)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    if out.status.success() {
        assert!(pair_matches(&mnt, "f.test.crt", "f.test.key"));
    } else {
        assert_input_error(&out);
        assert_eq!(names, ["fill"], "a failed write leaves nothing behind");
    }
    let _ = fs::remove_file(mnt.join("fill"));
    let ro = Command::new("mount")
        .args(["-o", "remount,ro"])
        .arg(&mnt)
        .status()
        .is_ok_and(|s| s.success());
    if ro {
        let out = env.certtool(&[
            "selfsigned",
            "--host",
            "f.test",
            "--name",
            "g",
            "--out-dir",
            "mnt",
        ]);
        assert_input_error(&out);
    }
    unmount();
}

/// OpenSSL's verdict on a leaf with these names (made by OpenSSL with the CA in `dir`, subject
/// `O=t` so that no CN is judged), and on certtool's leaf for the same names, if it makes one.
fn openssl_accepts(dir: &Path, name: &str, hosts: &[&str]) -> bool {
    let san: Vec<String> = hosts
        .iter()
        .map(|h| {
            if h.parse::<std::net::IpAddr>().is_ok() {
                format!("IP:{h}")
            } else {
                format!("DNS:{h}")
            }
        })
        .collect();
    openssl_leaf(dir, name, "/O=t", &san.join(","));
    openssl_verify(dir, &format!("{name}.crt"))
}

fn openssl_verify(dir: &Path, leaf: &str) -> bool {
    openssl(&["verify", "-x509_strict", "-CAfile", "ca.crt", leaf], dir)
        .status
        .success()
}

#[test]
fn defect_11_certtool_signs_exactly_what_the_constraints_allow() {
    if !require_tool("openssl") {
        return;
    }
    let cases: &[(&[&str], &[&[&str]])] = &[
        (
            &[
                "--permitted-dns",
                "example.com",
                "--permitted-ip",
                "127.0.0.0/8",
            ],
            &[
                &["a.example.com"],
                &["*.example.com"],
                &["127.0.0.1"],
                &["::1"],
                &["a.example.org"],
                &["127.0.0.1", "a.example.com"],
                &["a.example.com", "::1"],
                &["10.0.0.1"],
                &["127.0.0.1", "127.9.9.9"],
            ],
        ),
        (
            &[
                "--permitted-dns",
                "example.com",
                "--permitted-ip",
                "::1/128",
            ],
            &[&["::1"], &["127.0.0.1"], &["::1", "b.example.com"]],
        ),
        (
            &["--permitted-ip", "127.0.0.0/8"],
            &[&["a.example.org"], &["::1"], &["127.0.0.1"]],
        ),
        (
            &["--permitted-dns", "example.com"],
            &[
                &["127.0.0.1"],
                &["x.example.com"],
                &["*.example.com", "example.com"],
            ],
        ),
    ];
    let mut judged = 0;
    for (ca_flags, host_sets) in cases {
        let env = TestEnv::new();
        env.ca(ca_flags);
        for (i, hosts) in host_sets.iter().enumerate() {
            let name = format!("leaf{i}");
            let allowed = openssl_accepts(env.dir.path(), &format!("o{i}"), hosts);
            let mut args = [&ISSUE[..], &["--name", &name]].concat();
            for h in *hosts {
                args.extend(["--host", h]);
            }
            let out = env.certtool(&args);
            if allowed {
                assert!(
                    out.status.success(),
                    "{ca_flags:?} {hosts:?}: {}",
                    stderr(&out)
                );
                let leaf = format!("{name}.crt");
                assert!(
                    openssl_verify(env.dir.path(), &leaf),
                    "{ca_flags:?} {hosts:?}: OpenSSL refuses certtool's leaf"
                );
                env.ok(&[
                    "verify",
                    "--cert",
                    &leaf,
                    "--key",
                    &format!("{name}.key"),
                    "--ca",
                    "ca.crt",
                ]);
            } else {
                let err = assert_input_error(&out);
                assert!(
                    err.contains("may not sign"),
                    "{ca_flags:?} {hosts:?}: {err}"
                );
            }
            judged += 1;
        }
    }
    assert_eq!(judged, 18);
}

#[test]
fn defect_10_secret_and_key_hygiene() {
    let env = env_with_pair();
    // Commands run for the user do not inherit influxd's shared secret; certtool dumps no core.
    let out = env
        .cmd()
        .env(
            "INFLUXDB_HTTP_SHARED_SECRET",
            "q2J6lW8x0nYb4cF1Vt9KsZpA3eRmHuDg",
        )
        .args([
            "renew",
            "p.crt",
            "--exec",
            "grep 'core file' /proc/$PPID/limits; env",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(!err.contains("q2J6lW8x0nYb4cF1Vt9K"), "{err}");
    assert!(err.contains("CERTTOOL_CERT="), "{err}");
    let core = err
        .lines()
        .find(|l| l.starts_with("Max core file size"))
        .unwrap();
    assert_eq!(core.split_whitespace().nth(4), Some("0"), "{core}");
    // A password in a URL is refused and never shown.
    let out = env.certtool(&["verify", "--url", "https://admin:hunter2pass@127.0.0.1:1/"]);
    let err = assert_input_error(&out);
    assert!(
        !err.contains("hunter2pass") && err.contains("--user"),
        "{err}"
    );
    // Secrets are capped at 64 KiB, from stdin, a file or the environment.
    let big = "a".repeat(70 * 1024);
    let out = env
        .cmd()
        .args(["jwt", "mint", "--user", "u", "--secret-stdin"])
        .write_stdin(big.clone())
        .output()
        .unwrap();
    assert!(assert_input_error(&out).contains("longer than 64 KiB"));
    env.write("big.secret", &big);
    fs::set_permissions(env.path("big.secret"), fs::Permissions::from_mode(0o600)).unwrap();
    assert_input_error(&env.certtool(&[
        "jwt",
        "mint",
        "--user",
        "u",
        "--secret-file",
        "big.secret",
    ]));
    let out = env
        .cmd()
        .env("BIG", &big)
        .args(["jwt", "mint", "--user", "u", "--secret-env", "BIG"])
        .output()
        .unwrap();
    assert_input_error(&out);
    // chown's "leave unchanged" id is not an owner.
    for owner in ["root:4294967295", "4294967295"] {
        assert_input_error(&env.certtool(&["selfsigned", "--host", "o.test", "--owner", owner]));
    }
    // No key into a directory anyone can write to, unless it has the sticky bit.
    let open = env.path("open");
    fs::create_dir(&open).unwrap();
    fs::set_permissions(&open, fs::Permissions::from_mode(0o777)).unwrap();
    let err =
        assert_input_error(&env.certtool(&["selfsigned", "--host", "w.test", "--out-dir", "open"]));
    assert!(err.contains("writable by every user"), "{err}");
    assert!(fs::read_dir(&open).unwrap().next().is_none());
    fs::set_permissions(&open, fs::Permissions::from_mode(0o1777)).unwrap();
    env.selfsigned(&["--host", "w.test", "--out-dir", "open"]);
}

#[test]
fn defect_9_ec_public_keys_off_the_curve_are_refused_like_openssl_does() {
    if !require_tool("openssl") {
        return;
    }
    let env = TestEnv::new();
    let mut judged = 0;
    for key_type in ["ecdsa-p256", "ecdsa-p384"] {
        env.selfsigned(&[
            "--host",
            "bf.test",
            "--name",
            "bf",
            "--key-type",
            key_type,
            "--force",
        ]);
        let out = openssl(
            &["x509", "-in", "bf.crt", "-outform", "DER", "-out", "bf.der"],
            env.dir.path(),
        );
        assert!(out.status.success());
        let der = fs::read(env.path("bf.der")).unwrap();
        // The uncompressed point: BIT STRING, no unused bits, 0x04, then X and Y.
        let point_len = if key_type == "ecdsa-p256" { 64 } else { 96 };
        let start = der
            .windows(3)
            .position(|w| w[0] == 0x03 && usize::from(w[1]) == point_len + 2 && w[2] == 0)
            .unwrap()
            + 4;
        for pos in (start..start + point_len).step_by(3) {
            let mut flipped = der.clone();
            flipped[pos] ^= 1 << (pos % 8);
            env.write("m.der", &flipped);
            let pubkey = openssl(
                &[
                    "x509", "-inform", "DER", "-in", "m.der", "-noout", "-pubkey",
                ],
                env.dir.path(),
            );
            let openssl_refuses = !pubkey.status.success()
                || !Command::new("openssl")
                    .args(["pkey", "-pubin", "-noout"])
                    .stdin(Stdio::piped())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .and_then(|mut c| {
                        use std::io::Write as _;
                        c.stdin.take().unwrap().write_all(&pubkey.stdout)?;
                        c.wait()
                    })
                    .unwrap()
                    .success();
            let out = env.certtool(&["inspect", "m.der"]);
            assert_eq!(
                out.status.code() == Some(2),
                openssl_refuses,
                "{key_type} byte {pos}: {}",
                stderr(&out)
            );
            judged += 1;
        }
    }
    assert!(judged > 40);
}

#[test]
fn forged_intent_records_are_refused_not_obeyed() {
    let env = env_with_pair();
    let victim = env.write("victim", "precious\n");
    let planted = env.write("planted", "attacker's bytes\n");
    // A symlink at the record's name, and a record that names files certtool never writes.
    symlink(&victim, env.path(".certtool-intent")).unwrap();
    let write = ["selfsigned", "--host", "p.test", "--name", "p", "--force"];
    let err = assert_input_error(&env.certtool(&write));
    assert!(err.contains("not an intent record certtool wrote"), "{err}");
    fs::remove_file(env.path(".certtool-intent")).unwrap();
    let mut record = b"certtool-intent 2\0".to_vec();
    record.extend_from_slice(format!("{}\0", 999_999_999).as_bytes());
    for path in [
        victim.as_path(),
        planted.as_path(),
        env.path("x.bak").as_path(),
    ] {
        record.extend_from_slice(path.as_os_str().as_encoded_bytes());
        record.push(0);
    }
    record.extend_from_slice(b"1\0");
    env.write(".certtool-intent", &record);
    fs::set_permissions(
        env.path(".certtool-intent"),
        fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    assert_input_error(&env.certtool(&write));
    // A reading command says so and goes on.
    let out = env.certtool(&["check", "p.crt"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("not an intent record"),
        "{}",
        stderr(&out)
    );
    assert_eq!(env.read("victim"), "precious\n");
    assert_eq!(env.read("planted"), "attacker's bytes\n");
}
