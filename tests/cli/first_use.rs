//! What a first-time user meets (issue 13): durations with units, one rounding rule for day
//! counts, help that fits the command, colour only on a terminal, and `--quiet` for scripts.

use std::process::Command;

use crate::support::{TestEnv, assert_input_error, require_tool, run, stderr, stdout};

#[test]
fn a_duration_without_a_unit_is_refused_with_the_unit_to_add() {
    let env = TestEnv::new();
    env.selfsigned(&["--host", "soon.test", "--days", "10"]);
    for (args, fix) in [
        (&["check", "soon.test.crt", "--within", "30"][..], "30d"),
        (&["renew", "soon.test.crt", "--within", "30"], "30d"),
        (
            &[
                "jwt",
                "mint",
                "--user",
                "u",
                "--ttl",
                "3600",
                "--secret-env",
                "S",
            ],
            "3600s",
        ),
    ] {
        let out = env.certtool(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = stderr(&out);
        assert!(
            err.contains("has no unit") && err.contains(fix),
            "{args:?}: {err}"
        );
    }
    // Weeks are a unit: 2w is due for a certificate with 10 days left.
    let out = env.certtool(&["check", "soon.test.crt", "--within", "2w"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let out = env.certtool(&["check", "soon.test.crt", "--within", "1w"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn day_counts_agree_between_what_was_made_and_what_inspect_says() {
    let env = TestEnv::new();
    let out = env.selfsigned(&["--host", "influx.test", "--days", "825"]);
    assert!(
        stderr(&out).contains("(valid for 825 days)"),
        "{}",
        stderr(&out)
    );
    let out = env.ok(&["inspect", "influx.test.crt"]);
    assert!(stdout(&out).contains("(825 days left)"), "{}", stdout(&out));
    let out = env.ok(&["check", "influx.test.crt"]);
    assert!(stdout(&out).contains("825 days left"), "{}", stdout(&out));
    let out = env.ok(&["ca", "init"]);
    assert!(
        stderr(&out).contains("(valid for 3650 days)"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn each_command_states_its_own_default_lifetime() {
    let env = TestEnv::new();
    let help = |sub: &[&str]| {
        let mut args = sub.to_vec();
        args.push("--help");
        stdout(&env.ok(&args))
    };
    for sub in [&["selfsigned"][..], &["ca", "issue"]] {
        let text = help(sub);
        assert!(text.contains("[default: 365;"), "{sub:?}: {text}");
        assert!(
            !text.contains("3650;") && !text.contains("for a CA"),
            "{sub:?} shows the CA's default: {text}"
        );
    }
    assert!(help(&["ca", "init"]).contains("[default: 3650;"));
}

#[test]
fn the_client_example_fits_the_service_and_never_names_a_file_with_a_key() {
    let env = TestEnv::new();
    let out = env.selfsigned(&["--host", "localhost", "--name", "prometheus"]);
    let err = stderr(&out);
    assert!(err.contains("https://localhost:9090/-/healthy"), "{err}");
    assert!(!err.contains("8086"), "{err}");
    let out = env.selfsigned(&["--host", "localhost", "--name", "influxdb"]);
    assert!(stderr(&out).contains("https://localhost:8086/ping"));
    let out = env.selfsigned(&["--host", "x.test", "--bundle", "x.pem", "--bundle-only"]);
    let err = stderr(&out);
    assert!(!err.contains("--cacert"), "{err}");
    assert!(err.contains("x.pem holds the private key"), "{err}");
}

/// `certtool ARGS` on a pseudo-terminal (Python's pty), with `NO_COLOR` as given.
fn on_a_terminal(env: &TestEnv, args: &[&str], no_color: Option<&str>) -> String {
    let mut cmd = Command::new("python3");
    cmd.current_dir(env.dir.path())
        .args(["-c", "import pty, sys; pty.spawn(sys.argv[1:])"])
        .arg(crate::support::bin())
        .args(args)
        .env_remove("NO_COLOR")
        .env("TERM", "xterm");
    if let Some(value) = no_color {
        cmd.env("NO_COLOR", value);
    }
    stdout(&run(&mut cmd))
}

#[test]
fn statuses_are_coloured_on_a_terminal_only() {
    if !require_tool("python3") {
        return;
    }
    let env = TestEnv::new();
    env.selfsigned(&["--host", "localhost"]);
    env.expired("old.test");
    let verify = [
        "verify",
        "--cert",
        "localhost.crt",
        "--key",
        "localhost.key",
    ];
    let text = on_a_terminal(&env, &verify, None);
    assert!(text.contains("\x1b[32mok\x1b[0m    key"), "{text:?}");
    let text = on_a_terminal(&env, &["check", "old.test.crt"], None);
    assert!(text.contains("\x1b[1;31mEXPIRED\x1b[0m"), "{text:?}");
    // NO_COLOR (any non-empty value) and pipes get plain text.
    let text = on_a_terminal(&env, &verify, Some("1"));
    assert!(
        text.contains("ok    key") && !text.contains('\x1b'),
        "{text:?}"
    );
    let mut piped = env.cmd();
    piped
        .env_remove("NO_COLOR")
        .env("TERM", "xterm")
        .args(verify);
    let text = stdout(&piped.output().unwrap());
    assert!(
        text.contains("ok    key") && !text.contains('\x1b'),
        "{text:?}"
    );
}

#[test]
fn quiet_prints_only_what_the_command_exists_to_print() {
    let env = TestEnv::new();
    let out = env.ok(&["selfsigned", "--host", "localhost", "--quiet"]);
    assert!(
        out.stdout.is_empty() && out.stderr.is_empty(),
        "{}",
        stderr(&out)
    );
    let out = env.ok(&[
        "-q",
        "verify",
        "--cert",
        "localhost.crt",
        "--key",
        "localhost.key",
    ]);
    assert!(
        out.stdout.is_empty() && out.stderr.is_empty(),
        "{}",
        stdout(&out)
    );
    env.expired("old.test");
    let out = env.certtool(&["check", "old.test.crt", "-q"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        out.stdout.is_empty() && out.stderr.is_empty(),
        "{}",
        stdout(&out)
    );
    env.write("s", "0123456789abcdef0123456789abcdef");
    let out = env.ok(&["jwt", "mint", "--user", "u", "--secret-file", "s", "-q"]);
    assert_eq!(
        stdout(&out).matches('.').count(),
        2,
        "the token is still printed"
    );
    let out = env.ok(&[
        "config",
        "prometheus",
        "--cert",
        "localhost.crt",
        "--key",
        "localhost.key",
        "-q",
    ]);
    assert!(
        stdout(&out).contains("tls_server_config"),
        "the snippet is still printed"
    );
    // Errors are never quiet.
    assert_input_error(&env.certtool(&["inspect", "missing.crt", "--quiet"]));
}

#[test]
fn secret_files_fail_first_and_env_files_give_their_variable() {
    let env = TestEnv::new();
    // An empty secret file that others may read: the error comes first (the contract: an
    // error line, then at most a hint).
    env.write("empty.secret", "");
    crate::support::set_mode(&env.path("empty.secret"), 0o644);
    let mint = |file: &str| env.certtool(&["jwt", "mint", "--user", "u", "--secret-file", file]);
    let err = assert_input_error(&mint("empty.secret"));
    assert!(err.contains("empty"), "{err}");
    // An env file of another variable is refused, naming the variable but never its value.
    env.write(
        "telegraf.env",
        "INFLUX_TOKEN=not-the-shared-secret-0123456789\n",
    );
    crate::support::set_mode(&env.path("telegraf.env"), 0o600);
    let err = assert_input_error(&mint("telegraf.env"));
    assert!(
        err.contains("INFLUX_TOKEN") && err.contains("--secret-env"),
        "{err}"
    );
    assert!(!err.contains("not-the-shared-secret"), "{err}");
    // The env file config influxdb writes signs like the secret itself.
    env.write("shared.secret", "0123456789abcdef0123456789abcdef\n");
    env.write(
        "influxdb.env",
        "INFLUXDB_HTTP_SHARED_SECRET=0123456789abcdef0123456789abcdef\n",
    );
    for f in ["shared.secret", "influxdb.env"] {
        crate::support::set_mode(&env.path(f), 0o600);
    }
    let exp = ["--exp", "2000000000"];
    let a = stdout(
        &env.ok(&[
            &[
                "jwt",
                "mint",
                "--user",
                "u",
                "--secret-file",
                "shared.secret",
            ][..],
            &exp,
        ]
        .concat()),
    );
    let b = stdout(
        &env.ok(&[
            &[
                "jwt",
                "mint",
                "--user",
                "u",
                "--secret-file",
                "influxdb.env",
            ][..],
            &exp,
        ]
        .concat()),
    );
    assert_eq!(a, b);
    // A bad signature says what usually causes it.
    env.write("other.secret", "another-secret-0123456789abcdef0123\n");
    crate::support::set_mode(&env.path("other.secret"), 0o600);
    let out = env.certtool(&["jwt", "verify", a.trim(), "--secret-file", "other.secret"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("usual causes"), "{}", stdout(&out));
}

fn is_root() -> bool {
    nix::unistd::Uid::effective().is_root()
}

/// Whether `user` can read `path`, as the kernel judges it (util-linux's runuser).
fn readable_as(user: &str, path: &std::path::Path) -> bool {
    Command::new("runuser")
        .args(["-u", user, "--", "head", "-c1"])
        .arg(path)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap()
        .success()
}

#[test]
fn a_key_the_service_user_cannot_read_is_warned_about_with_the_fix() {
    // The Debian packages create the influxdb and prometheus users; --owner needs root.
    if !(crate::support::require(is_root(), "root (for --owner)")
        && require_tool("influxd")
        && require_tool("prometheus")
        && require_tool("runuser"))
    {
        return;
    }
    let env = TestEnv::new();
    std::fs::create_dir_all(env.path("x")).unwrap();
    std::fs::create_dir_all(env.path("a/ssl")).unwrap();
    env.ok(&[
        "selfsigned",
        "--host",
        "localhost",
        "--out-dir",
        "a/ssl",
        "--name",
        "influxdb",
        "--owner",
        "influxdb:influxdb",
    ]);
    let key = env.path("a/ssl/influxdb.key");
    // What the kernel says, which is what certtool must predict.
    assert!(readable_as("influxdb", &key) && !readable_as("prometheus", &key));
    let pair = [
        "--cert",
        "x/../a/ssl/influxdb.crt",
        "--key",
        "x/../a/ssl/influxdb.key",
    ];
    let out = env.ok(&[&["config", "prometheus"][..], &pair].concat());
    let err = stderr(&out);
    assert!(
        err.contains("the prometheus user cannot read") && err.contains("0640"),
        "{err}"
    );
    // Paths in the config are normalised: no x/../ in them.
    let real = std::fs::canonicalize(env.path("a/ssl")).unwrap();
    let snippet = stdout(&out);
    assert!(
        snippet.contains(&format!("key_file: \"{}/influxdb.key\"", real.display())),
        "{snippet}"
    );
    assert!(!snippet.contains(".."), "{snippet}");
    // The right user: no warning.
    for args in [
        &[
            &["config", "prometheus"][..],
            &pair,
            &["--service-user", "influxdb"],
        ]
        .concat(),
        &[&["config", "influxdb"][..], &pair].concat(),
    ] {
        let out = env.ok(args);
        assert!(
            !stderr(&out).contains("cannot read"),
            "{args:?}: {}",
            stderr(&out)
        );
    }
    env.refused(
        &[
            &["config", "prometheus"][..],
            &pair,
            &["--service-user", "no-such-user-here"],
        ]
        .concat(),
        "no such user",
    );
    // verify --launch warns the same way (the launched server runs as root here).
    let out = env.certtool(&[&["verify", "--launch", "prometheus"][..], &pair].concat());
    assert!(
        stderr(&out).contains("the prometheus user cannot read"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_bundle_is_taken_wherever_a_pair_is() {
    if !(require_tool("influxd") && require_tool("curl")) {
        return;
    }
    let env = TestEnv::new();
    env.selfsigned(&[
        "--host",
        "localhost",
        "--name",
        "influxdb",
        "--bundle",
        "influxdb.pem",
    ]);
    let out = env.ok(&["config", "influxdb", "--bundle", "influxdb.pem"]);
    let snippet = stdout(&out);
    assert!(snippet.contains("https-private-key = \"\""), "{snippet}");
    let bundle = std::fs::canonicalize(env.path("influxdb.pem")).unwrap();
    assert!(snippet.contains(&format!("https-certificate = \"{}\"", bundle.display())));
    // influxd serves HTTPS from that snippet.
    let mut http = String::new();
    for line in snippet.lines().filter(|l| l.starts_with("  https-")) {
        http.push_str(line);
        http.push('\n');
    }
    let server = crate::support::start_influxd(&env, &http);
    let cert = env.path("influxdb.crt");
    assert_eq!(
        crate::support::curl_ok(&cert, "localhost", server.port).map(|_| ()),
        Ok(())
    );
    let url = format!("https://localhost:{}", server.port);
    env.ok(&["verify", "--url", &url, "--ca", "influxdb.crt"]);
    env.ok(&["verify", "--bundle", "influxdb.pem"]);
    let out = env.ok(&["config", "prometheus", "--bundle", "influxdb.pem"]);
    assert!(stdout(&out).contains(&format!("key_file: \"{}\"", bundle.display())));
    // --bundle and --cert/--key are either-or.
    let out = env.certtool(&[
        "config",
        "influxdb",
        "--bundle",
        "influxdb.pem",
        "--cert",
        "influxdb.crt",
    ]);
    assert_eq!(out.status.code(), Some(2));
}
