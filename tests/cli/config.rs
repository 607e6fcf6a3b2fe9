//! `certtool config ...`: snippets (snapshots, parsed by Python's tomllib and promtool), in-place
//! edits of the configs the real packages ship, and real influxd and prometheus servers started
//! from the result.

use std::fs;
use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::support::{
    Server, TestEnv, assert_input_error, curl_code, free_port, mode, require_tool, run, set_mode,
    start_prometheus, stderr, stdout,
};

/// `certtool config influxdb` with the pair that [`pair`] makes.
const INFLUXDB: [&str; 6] = [
    "config",
    "influxdb",
    "--cert",
    "localhost.crt",
    "--key",
    "localhost.key",
];

/// Replace the temp dir in output, so snapshots do not depend on where the test ran.
fn stable(env: &TestEnv, text: &str) -> String {
    let dir = env.dir.path().to_str().unwrap();
    text.replace(dir, "[DIR]")
}

fn pair(env: &TestEnv) {
    env.selfsigned(&["--host", "localhost", "--host", "127.0.0.1"]);
}

fn certtool_config(env: &TestEnv, args: &[&str]) -> String {
    let mut all = vec!["config"];
    all.extend(args);
    stdout(&env.ok(&all))
}

fn python_toml(text: &str, expr: &str) -> String {
    let mut child = Command::new("python3")
        .arg("-c")
        .arg(format!(
            "import sys, tomllib, json; d = tomllib.loads(sys.stdin.read()); print(json.dumps({expr}))"
        ))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "tomllib: {}\n{text}", stderr(&out));
    stdout(&out).trim().to_owned()
}

#[test]
fn snippets_match_their_snapshots() {
    let env = TestEnv::new();
    pair(&env);
    let ca = ["--ca", "localhost.crt"];
    let cases: Vec<(&str, Vec<&str>)> = vec![
        (
            "influxdb",
            vec![
                "influxdb",
                "--cert",
                "localhost.crt",
                "--key",
                "localhost.key",
            ],
        ),
        (
            "influxdb2",
            vec![
                "influxdb2",
                "--cert",
                "localhost.crt",
                "--key",
                "localhost.key",
                "--strict-ciphers",
            ],
        ),
        (
            "telegraf",
            [
                vec![
                    "telegraf",
                    "--url",
                    "https://localhost:8086",
                    "--database",
                    "metrics",
                ],
                ca.to_vec(),
            ]
            .concat(),
        ),
        (
            "telegraf_v2",
            [
                vec![
                    "telegraf",
                    "--url",
                    "https://localhost:8086",
                    "--v2",
                    "--org",
                    "ops",
                ],
                vec!["--bucket", "metrics"],
                ca.to_vec(),
            ]
            .concat(),
        ),
        (
            "prometheus_mtls",
            vec![
                "prometheus",
                "--cert",
                "localhost.crt",
                "--key",
                "localhost.key",
                "--client-ca",
                "localhost.crt",
            ],
        ),
        (
            "prometheus_scrape",
            vec![
                "prometheus-scrape",
                "--ca",
                "localhost.crt",
                "--target",
                "127.0.0.1:9100",
                "--server-name",
                "localhost",
            ],
        ),
    ];
    for (name, args) in cases {
        insta::assert_snapshot!(name, stable(&env, &certtool_config(&env, &args)));
    }
}

#[test]
fn paths_with_spaces_quotes_and_backslashes_are_escaped() {
    if !require_tool("python3") {
        return;
    }
    let env = TestEnv::new();
    let odd = "we\"ird \\dir";
    fs::create_dir(env.path(odd)).unwrap();
    env.selfsigned(&["--host", "localhost", "--out-dir", odd, "--name", "it's"]);
    let cert = format!("{odd}/it's.crt");
    let key = format!("{odd}/it's.key");
    let dir = env.dir.path().to_str().unwrap();
    let toml = certtool_config(&env, &["influxdb", "--cert", &cert, "--key", &key]);
    insta::assert_snapshot!("influxdb_escaped", stable(&env, &toml));
    assert_eq!(
        python_toml(&toml, "d['http']['https-certificate']"),
        serde_json::to_string(&format!("{dir}/{cert}")).unwrap()
    );
    let toml = certtool_config(
        &env,
        &["telegraf", "--url", "https://localhost:8086", "--ca", &cert],
    );
    assert_eq!(
        python_toml(&toml, "d['outputs']['influxdb'][0]['tls_ca']"),
        serde_json::to_string(&format!("{dir}/{cert}")).unwrap()
    );
    let yaml = certtool_config(&env, &["prometheus", "--cert", &cert, "--key", &key]);
    insta::assert_snapshot!("prometheus_escaped", stable(&env, &yaml));
    let parsed = run(Command::new("python3")
        .arg("-c")
        .arg("import json,sys; print(json.loads(sys.argv[1]))")
        .arg(
            yaml.lines()
                .find(|l| l.contains("cert_file"))
                .unwrap()
                .split_once(": ")
                .unwrap()
                .1,
        ));
    assert_eq!(stdout(&parsed).trim(), format!("{dir}/{cert}"));
}

#[test]
fn telegraf_output_parses_with_tomllib_and_warns_where_it_should() {
    if !require_tool("python3") {
        return;
    }
    let env = TestEnv::new();
    pair(&env);
    let out = env.ok(&[
        "config",
        "telegraf",
        "--url",
        "https://influx.test:8086",
        "--ca",
        "localhost.crt",
    ]);
    let toml = stdout(&out);
    let dir = env.dir.path().to_str().unwrap();
    assert_eq!(
        python_toml(&toml, "d['outputs']['influxdb'][0]"),
        format!(r#"{{"urls": ["https://influx.test:8086"], "tls_ca": "{dir}/localhost.crt"}}"#)
    );
    assert!(
        stderr(&out).contains("does not cover influx.test"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("--server-name"));
    let out = env.ok(&[
        "config",
        "telegraf",
        "--url",
        "https://127.0.0.1:8086",
        "--ca",
        "localhost.crt",
    ]);
    assert!(stderr(&out).is_empty(), "{}", stderr(&out));
    let out = env.ok(&[
        "config",
        "telegraf",
        "--url",
        "https://influx.test:8086",
        "--insecure-skip-verify",
    ]);
    assert!(stderr(&out).contains("disables server authentication"));
    assert_eq!(
        python_toml(
            &stdout(&out),
            "d['outputs']['influxdb'][0]['insecure_skip_verify']"
        ),
        "true"
    );
    let toml = certtool_config(
        &env,
        &[
            "telegraf",
            "--url",
            "https://127.0.0.1:8086",
            "--ca",
            "localhost.crt",
            "--v2",
            "--org",
            "ops",
            "--bucket",
            "b",
        ],
    );
    assert_eq!(
        python_toml(&toml, "d['outputs']['influxdb_v2'][0]['token']"),
        r#""${INFLUX_TOKEN}""#
    );
}

const TELEGRAF_CONF: &str = r#"# Telegraf Configuration
#
# Global tags can be specified here in key="value" format.
[global_tags]
  dc = "eu-1"  # the data centre

[agent]
  interval = "10s"
  ## Rounds collection interval to 'interval'
  round_interval = true

###############################################################################
#                            OUTPUT PLUGINS                                   #
###############################################################################

# Configuration for sending metrics to InfluxDB
[[outputs.influxdb]]
  ## The full HTTP or UDP URL for your InfluxDB instance.
  urls = ["https://influx.test:8086"]
  database = "telegraf"
  ## Use TLS but skip chain & host verification
  insecure_skip_verify = true

# A second InfluxDB, left alone
[[outputs.influxdb]]
  urls = ["https://other.test:8086"]
  database = "mirror"

[[outputs.file]]
  files = ["stdout"]

[[inputs.cpu]]
  percpu = true
  totalcpu = true
"#;

#[test]
fn telegraf_conf_in_place_updates_the_matching_output_once() {
    if !require_tool("python3") {
        return;
    }
    let env = TestEnv::new();
    pair(&env);
    env.write("telegraf.conf", TELEGRAF_CONF);
    set_mode(&env.path("telegraf.conf"), 0o640);
    let edit = |url: &str| {
        env.ok(&[
            "config",
            "telegraf",
            "--url",
            url,
            "--ca",
            "localhost.crt",
            "--server-name",
            "localhost",
            "--in-place",
            "telegraf.conf",
        ])
    };
    edit("https://influx.test:8086");
    let text = fs::read_to_string(env.path("telegraf.conf")).unwrap();
    let dir = env.dir.path().to_str().unwrap();
    assert_eq!(
        python_toml(&text, "d['outputs']['influxdb'][0]"),
        format!(
            r#"{{"urls": ["https://influx.test:8086"], "database": "telegraf", "insecure_skip_verify": false, "tls_ca": "{dir}/localhost.crt", "tls_server_name": "localhost"}}"#
        )
    );
    assert_eq!(
        python_toml(&text, "d['outputs']['influxdb'][1]"),
        r#"{"urls": ["https://other.test:8086"], "database": "mirror"}"#
    );
    // Everything else is as it was, byte for byte.
    let removed: Vec<&str> = TELEGRAF_CONF
        .lines()
        .filter(|l| !text.contains(l))
        .collect();
    assert_eq!(removed, ["  insecure_skip_verify = true"], "{text}");
    assert_eq!(
        fs::read_to_string(env.path("telegraf.conf.bak")).unwrap(),
        TELEGRAF_CONF
    );
    assert_eq!(mode(&env.path("telegraf.conf")), 0o640);
    // Idempotent: the second run changes nothing and says so.
    let out = edit("https://influx.test:8086");
    assert!(stderr(&out).contains("unchanged"), "{}", stderr(&out));
    assert_eq!(fs::read_to_string(env.path("telegraf.conf")).unwrap(), text);
    // Two blocks, neither for this host and port: refused, listing them; --append adds one, once.
    let third = [
        "config",
        "telegraf",
        "--url",
        "https://third.test:8086",
        "--ca",
        "localhost.crt",
        "--in-place",
        "telegraf.conf",
    ];
    let err = env.refused(&third, "--append");
    assert!(
        err.contains("https://influx.test:8086") && err.contains("https://other.test:8086"),
        "{err}"
    );
    assert_eq!(fs::read_to_string(env.path("telegraf.conf")).unwrap(), text);
    env.ok(&[&third[..], &["--append"]].concat());
    env.ok(&[&third[..], &["--append"]].concat());
    let text = fs::read_to_string(env.path("telegraf.conf")).unwrap();
    assert_eq!(python_toml(&text, "len(d['outputs']['influxdb'])"), "3");
    // The scheme does not matter: http://other.test:8086 is the second block.
    edit("http://other.test:8086");
    let text = fs::read_to_string(env.path("telegraf.conf")).unwrap();
    assert_eq!(
        python_toml(&text, "d['outputs']['influxdb'][1]['urls']"),
        r#"["http://other.test:8086"]"#
    );
    assert_eq!(
        python_toml(&text, "d['inputs']['cpu'][0]['percpu']"),
        "true"
    );
}

/// `influxd config` (the real defaults), moved to the test's dir and loopback ports.
fn influxd_default_config(env: &TestEnv, http_port: u16) -> String {
    let out = run(Command::new("influxd").arg("config"));
    let dir = env.dir.path().display();
    stdout(&out)
        .replace("/var/lib/influxdb", &dir.to_string())
        .replace(
            "bind-address = \"127.0.0.1:8088\"",
            &format!("bind-address = \"127.0.0.1:{}\"", free_port()),
        )
        .replace(
            "bind-address = \":8086\"",
            &format!("bind-address = \"127.0.0.1:{http_port}\""),
        )
}

/// Start influxd from `config` with extra environment, on the port baked into the config.
fn start_influxd_from(config: &Path, port: u16, env_vars: &[(String, String)]) -> Server {
    let mut child = Command::new("influxd")
        .arg("-config")
        .arg(config)
        .envs(env_vars.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    assert!(
        crate::support::wait_for_port(port, &mut child),
        "influxd did not start"
    );
    Server { child, port }
}

#[test]
fn influxdb_in_place_edit_serves_https_with_a_real_influxd() {
    if !(require_tool("influxd") && require_tool("influx") && require_tool("curl")) {
        return;
    }
    let env = TestEnv::new();
    pair(&env);
    let port = free_port();
    let original = influxd_default_config(&env, port);
    env.write("influxdb.conf", &original);
    env.ok(&[&INFLUXDB[..], &["--in-place", "influxdb.conf"]].concat());
    let edited = fs::read_to_string(env.path("influxdb.conf")).unwrap();
    // Only our keys changed (in place: same line count, other lines identical).
    let changed: Vec<(&str, &str)> = original
        .lines()
        .zip(edited.lines())
        .filter(|(a, b)| a != b)
        .collect();
    assert_eq!(original.lines().count(), edited.lines().count());
    let keys: Vec<&str> = changed
        .iter()
        .map(|(_, b)| b.trim().split(' ').next().unwrap())
        .collect();
    assert_eq!(
        keys,
        ["https-enabled", "https-certificate", "https-private-key"],
        "{changed:?}"
    );
    assert_eq!(
        fs::read_to_string(env.path("influxdb.conf.bak")).unwrap(),
        original
    );
    // A second run: byte-identical, "unchanged".
    let out = env.ok(&[&INFLUXDB[..], &["--in-place", "influxdb.conf"]].concat());
    assert!(stderr(&out).contains("unchanged"));
    assert_eq!(
        fs::read_to_string(env.path("influxdb.conf")).unwrap(),
        edited
    );

    let _server = start_influxd_from(&env.path("influxdb.conf"), port, &[]);
    let cert = env.path("localhost.crt");
    assert_eq!(
        curl_code(
            &["--cacert", cert.to_str().unwrap()],
            &format!("https://localhost:{port}/ping")
        ),
        "204"
    );
    assert_eq!(
        curl_code(&[], &format!("http://127.0.0.1:{port}/ping")),
        "400",
        "plain HTTP must be refused: HTTPS is on"
    );
    let out = run(Command::new("influx")
        .args([
            "-ssl",
            "-unsafeSsl",
            "-host",
            "127.0.0.1",
            "-port",
            &port.to_string(),
        ])
        .args(["-execute", "SHOW DATABASES"]));
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
}

#[test]
fn influxdb_auth_with_an_env_file_enforces_tokens_on_a_real_influxd() {
    if !(require_tool("influxd") && require_tool("curl")) {
        return;
    }
    let env = TestEnv::new();
    pair(&env);
    env.ok(&["secret", "generate", "--out", "shared.secret"]);
    let port = free_port();
    let original = influxd_default_config(&env, port);
    env.write("influxdb.conf", &original);
    let out = env.ok(&[
        &INFLUXDB[..],
        &[
            "--auth",
            "--secret-file",
            "shared.secret",
            "--in-place",
            "influxdb.conf",
        ],
    ]
    .concat());
    assert!(
        stderr(&out).contains("EnvironmentFile="),
        "{}",
        stderr(&out)
    );
    let env_file = env.path("influxdb.env");
    assert_eq!(mode(&env_file), 0o600);
    let line = fs::read_to_string(&env_file).unwrap();
    let secret = fs::read_to_string(env.path("shared.secret")).unwrap();
    assert_eq!(line, format!("INFLUXDB_HTTP_SHARED_SECRET={secret}"));
    let edited = fs::read_to_string(env.path("influxdb.conf")).unwrap();
    assert!(
        !edited.contains(secret.trim()),
        "the secret stays out of the config"
    );
    assert!(edited.contains("auth-enabled = true"));
    let (name, value) = line.trim_end().split_once('=').unwrap();
    let _server = start_influxd_from(
        &env.path("influxdb.conf"),
        port,
        &[(name.to_owned(), value.to_owned())],
    );
    let cert = env.path("localhost.crt");
    let cacert = ["--cacert", cert.to_str().unwrap()];
    let url = |q: &str| format!("https://localhost:{port}/query?q={q}");
    // With no user yet, influxd answers 403 to everything but creating the first admin:
    // verify says exactly that, and how to create one, instead of "403".
    let base = format!("https://localhost:{port}");
    let verify = ["verify", "--url", &base, "--ca", "localhost.crt"];
    let out = env.certtool(&verify);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let report = stdout(&out);
    assert!(
        report.contains("no users yet") && report.contains("WITH ALL PRIVILEGES"),
        "{report}"
    );
    let create = "CREATE+USER+admin+WITH+PASSWORD+'pw'+WITH+ALL+PRIVILEGES";
    assert_eq!(
        curl_code(&[&cacert[..], &["-XPOST"]].concat(), &url(create)),
        "200"
    );
    assert_eq!(
        curl_code(&cacert, &url("SHOW+DATABASES")),
        "401",
        "auth is on"
    );
    let out = env.ok(&verify);
    assert!(stdout(&out).contains("auth enforced"), "{}", stdout(&out));
    // The secret reached influxd through the environment: a token signed with it works, and
    // the env file certtool wrote is itself a secret file (its variable's value, not the line).
    let token = stdout(&env.ok(&[
        "jwt",
        "mint",
        "--user",
        "admin",
        "--secret-file",
        "influxdb.env",
    ]));
    let out = env.ok(&[
        &verify[..],
        &["--user", "admin", "--secret-file", "influxdb.env"],
    ]
    .concat());
    assert!(
        stdout(&out).contains("token for admin was accepted"),
        "{}",
        stdout(&out)
    );
    let header = format!("Authorization: Bearer {}", token.trim());
    assert_eq!(
        curl_code(
            &[&cacert[..], &["-H", &header]].concat(),
            &url("SHOW+DATABASES")
        ),
        "200"
    );
}

#[test]
fn debian_influxdb_conf_keys_replace_their_commented_defaults() {
    let shipped = Path::new("/etc/influxdb/influxdb.conf");
    if !require_tool("influxd") || !shipped.exists() {
        return;
    }
    let env = TestEnv::new();
    pair(&env);
    let original = fs::read_to_string(shipped).unwrap();
    env.write("influxdb.conf", &original);
    let args = [&INFLUXDB[..], &["--in-place", "influxdb.conf"]].concat();
    let out = env.ok(&[&args[..], &["--dry-run"]].concat());
    let diff = stdout(&out);
    assert_eq!(
        fs::read_to_string(env.path("influxdb.conf")).unwrap(),
        original,
        "dry run"
    );
    assert!(!env.path("influxdb.conf.bak").exists());
    assert!(
        diff.contains("-  # https-enabled = false\n+  https-enabled = true\n"),
        "{diff}"
    );
    env.ok(&args);
    let edited = fs::read_to_string(env.path("influxdb.conf")).unwrap();
    let dir = env.dir.path().display();
    let expected = original
        .replace("  # https-enabled = false\n", "  https-enabled = true\n")
        .replace(
            "  # https-certificate = \"/etc/ssl/influxdb.pem\"\n",
            &format!("  https-certificate = \"{dir}/localhost.crt\"\n"),
        )
        .replace(
            "  # https-private-key = \"\"\n",
            &format!("  https-private-key = \"{dir}/localhost.key\"\n"),
        );
    assert_eq!(edited, expected);
    // influxd itself reads the result (it fails on a config it cannot parse).
    let out = run(Command::new("influxd")
        .args(["config", "-config"])
        .arg(env.path("influxdb.conf")));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("https-enabled = true"));
}

#[test]
fn secret_in_config_makes_the_config_a_secret_file() {
    let env = TestEnv::new();
    pair(&env);
    env.write(
        "shared.secret",
        "s3cr3t-with-\"quotes\"-and-$dollars-0123456789\n",
    );
    set_mode(&env.path("shared.secret"), 0o600);
    env.write(
        "influxdb.conf",
        "[meta]\n  dir = \"/x\"\n\n[http]\n  enabled = true\n",
    );
    let args = [
        &INFLUXDB[..],
        &[
            "--auth",
            "--secret-file",
            "shared.secret",
            "--secret-in-config",
            "--in-place",
            "influxdb.conf",
        ],
    ]
    .concat();
    let out = env.ok(&[&args[..], &["--dry-run", "--json"]].concat());
    assert!(
        !stdout(&out).contains("s3cr3t"),
        "the diff hides the secret: {}",
        stdout(&out)
    );
    let out = env.ok(&args);
    assert!(stderr(&out).contains("now holds the shared secret"));
    assert_eq!(mode(&env.path("influxdb.conf")), 0o640);
    let text = fs::read_to_string(env.path("influxdb.conf")).unwrap();
    assert!(text.contains("shared-secret = "), "{text}");
    assert!(!env.path("influxdb.env").exists());
    if require_tool("python3") {
        assert_eq!(
            python_toml(&text, "d['http']['shared-secret']"),
            r#""s3cr3t-with-\"quotes\"-and-$dollars-0123456789""#
        );
    }
}

#[test]
fn bad_configs_and_pairs_are_refused_and_left_untouched() {
    let env = TestEnv::new();
    pair(&env);
    env.selfsigned(&["--host", "other.test"]);
    env.write("broken.conf", "[http]\n  https-enabled = \n");
    env.write(
        "v2.toml",
        "bolt-path = \"/b\"\nhttp-bind-address = \":8086\"\n",
    );
    env.write("v1.conf", "[meta]\n  dir = \"/m\"\n");
    env.write("other.toml", "[server]\nport = 1\n");
    std::os::unix::fs::symlink(env.path("v1.conf"), env.path("link.conf")).unwrap();
    let pair_args = ["--cert", "localhost.crt", "--key", "localhost.key"];
    for (args, expected) in [
        (
            vec!["influxdb", "--in-place", "broken.conf"],
            "line 2, column",
        ),
        (
            vec!["influxdb", "--in-place", "v2.toml"],
            "InfluxDB 2.x config",
        ),
        (
            vec!["influxdb", "--in-place", "other.toml"],
            "does not look like an InfluxDB 1.x",
        ),
        (vec!["influxdb", "--in-place", "link.conf"], "symbolic link"),
        (
            vec!["influxdb2", "--in-place", "v1.conf"],
            "refuses to start",
        ),
        (
            vec!["influxdb2", "--in-place", "other.toml"],
            "has a [server] section",
        ),
        (
            vec!["influxdb", "--in-place", "missing.conf"],
            "missing.conf",
        ),
    ] {
        let mut all = vec!["config"];
        all.push(args[0]);
        all.extend(pair_args);
        all.extend(&args[1..]);
        let err = assert_input_error(&env.certtool(&all));
        assert!(err.contains(expected), "{args:?}: {err}");
    }
    env.refused(
        &[
            "config",
            "telegraf",
            "--url",
            "https://x:8086",
            "--ca",
            "localhost.crt",
            "--in-place",
            "v1.conf",
        ],
        "does not look like telegraf.conf",
    );
    env.refused(
        &[
            "config",
            "influxdb",
            "--cert",
            "localhost.crt",
            "--key",
            "other.test.key",
        ],
        "does not belong to the certificate",
    );
    env.refused(
        &[
            "config",
            "prometheus",
            "--cert",
            "nope.crt",
            "--key",
            "localhost.key",
        ],
        "nope.crt",
    );
    assert_eq!(
        fs::read_to_string(env.path("broken.conf")).unwrap(),
        "[http]\n  https-enabled = \n"
    );
    assert_eq!(
        fs::read_to_string(env.path("v1.conf")).unwrap(),
        "[meta]\n  dir = \"/m\"\n"
    );
    let leftovers: Vec<String> = env
        .names()
        .into_iter()
        .filter(|n| Path::new(n).extension().is_some_and(|e| e == "bak"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

fn promtool_web_config(path: &Path) -> std::process::Output {
    run(Command::new("promtool")
        .args(["check", "web-config"])
        .arg(path))
}

#[test]
fn prometheus_serves_tls_from_our_web_config_and_scrapes_with_our_job() {
    if !(require_tool("prometheus") && require_tool("promtool") && require_tool("curl")) {
        return;
    }
    let env = TestEnv::new();
    pair(&env);
    env.web_config();
    let out = promtool_web_config(&env.path("web-config.yml"));
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    // Prometheus scrapes itself over TLS with the job certtool prints; the target's port is only
    // known once it runs, so the job is rewritten with it and the config reloaded.
    let server = start_prometheus(&env, "");
    let port = server.port.to_string();
    let job = certtool_config(
        &env,
        &[
            "prometheus-scrape",
            "--ca",
            "localhost.crt",
            "--target",
            &format!("127.0.0.1:{port}"),
            "--server-name",
            "localhost",
            "--job",
            "self-tls",
        ],
    );
    let config = env.path(&format!("prometheus-{port}.yml"));
    fs::write(
        &config,
        format!("global:\n  scrape_interval: 1s\nscrape_configs:\n{job}"),
    )
    .unwrap();
    let check = run(Command::new("promtool")
        .args(["check", "config"])
        .arg(&config));
    assert!(
        check.status.success(),
        "{}{}",
        stdout(&check),
        stderr(&check)
    );
    let cert = env.path("localhost.crt");
    let cacert = ["--cacert", cert.to_str().unwrap()];
    assert_eq!(
        curl_code(&cacert, &format!("https://localhost:{port}/-/healthy")),
        "200"
    );
    // Reload by signal (the lifecycle API is off by default).
    let hup = run(Command::new("kill").args(["-HUP", &server.child.id().to_string()]));
    assert!(hup.status.success());
    let up = crate::support::prometheus_up(&cert, server.port, "self-tls");
    assert!(up.contains(r#","1"]"#), "target not up: {up}");
    // Without the CA, clients refuse it; plain HTTP is refused by the TLS listener.
    assert_ne!(
        curl_code(&[], &format!("https://localhost:{port}/-/healthy")),
        "200"
    );
    assert_ne!(
        curl_code(&[], &format!("http://127.0.0.1:{port}/-/healthy")),
        "200"
    );
}

#[test]
fn prometheus_mutual_tls_requires_a_client_certificate() {
    if !(require_tool("prometheus") && require_tool("curl")) {
        return;
    }
    let env = TestEnv::new();
    env.ca(&[]);
    env.issue(&["--host", "localhost", "--name", "prom"]);
    env.issue(&["--host", "scraper", "--client", "--name", "client"]);
    env.ok(&[
        "config",
        "prometheus",
        "--cert",
        "prom.crt",
        "--key",
        "prom.key",
        "--client-ca",
        "ca.crt",
        "--out",
        "web-config.yml",
    ]);
    let server = start_prometheus(&env, "");
    let url = format!("https://localhost:{}/-/healthy", server.port);
    let ca = env.path("ca.crt");
    let ca = ["--cacert", ca.to_str().unwrap()];
    assert_ne!(curl_code(&ca, &url), "200", "no client certificate");
    let (c, k) = (env.path("client.crt"), env.path("client.key"));
    let with_client = [
        &ca[..],
        &["--cert", c.to_str().unwrap(), "--key", k.to_str().unwrap()],
    ]
    .concat();
    assert_eq!(curl_code(&with_client, &url), "200");
}

#[test]
fn web_config_output_is_not_clobbered_and_promtool_agrees() {
    let env = TestEnv::new();
    pair(&env);
    let args = crate::support::WEB_CONFIG;
    env.ok(&args);
    assert_eq!(mode(&env.path("web-config.yml")), 0o644);
    env.refused(&args, "already exists");
    env.ok(&[&args[..], &["--force"]].concat());
}

#[test]
fn template_dir_overrides_a_template_by_file_name() {
    let env = TestEnv::new();
    pair(&env);
    fs::create_dir(env.path("tpl")).unwrap();
    env.write(
        "tpl/influxdb-http.toml",
        "# our own house style\n[http]\nhttps-enabled = true\nhttps-certificate = {{cert}}\nhttps-private-key = {{key}}\nmax-connection-limit = 100\n",
    );
    let base = [&INFLUXDB[..], &[]].concat();
    let text = stdout(&env.ok(&[&base[..], &["--template-dir", "tpl"]].concat()));
    assert!(text.starts_with("# our own house style\n"), "{text}");
    assert!(text.contains("max-connection-limit = 100"));
    // Templates the directory lacks stay built in.
    let text = stdout(&env.ok(&[
        "config",
        "influxdb2",
        "--cert",
        "localhost.crt",
        "--key",
        "localhost.key",
        "--template-dir",
        "tpl",
    ]));
    assert!(text.contains("tls-min-version"), "{text}");
    // The override drives in-place edits too.
    env.write("influxdb.conf", "[meta]\n  dir = \"/m\"\n");
    env.ok(&[
        &base[..],
        &["--template-dir", "tpl", "--in-place", "influxdb.conf"],
    ]
    .concat());
    let edited = fs::read_to_string(env.path("influxdb.conf")).unwrap();
    assert!(
        edited.starts_with("[meta]\n  dir = \"/m\"\n\n[http]\n"),
        "{edited}"
    );
    assert!(edited.contains("max-connection-limit = 100"), "{edited}");
    // A placeholder certtool does not fill is an error, not a silent blank.
    env.write(
        "tpl/influxdb-http.toml",
        "[http]\nhttps-certificate = {{certificate}}\n",
    );
    let err = assert_input_error(&env.certtool(&[&base[..], &["--template-dir", "tpl"]].concat()));
    assert!(err.contains("{{certificate}}"), "{err}");
}

#[test]
fn printing_with_auth_writes_the_env_file_only_when_asked_and_never_prints_the_secret() {
    let env = TestEnv::new();
    pair(&env);
    env.ok(&["secret", "generate", "--out", "shared.secret"]);
    let secret = fs::read_to_string(env.path("shared.secret")).unwrap();
    // Printing alone writes nothing, reads no secret, and says how to get the env file.
    let out = env.ok(&[&INFLUXDB[..], &["--auth"]].concat());
    assert!(stderr(&out).contains("--env-file PATH"), "{}", stderr(&out));
    assert!(
        !env.path("influxdb.env").exists(),
        "a side effect of printing"
    );
    // A secret that nothing would use is an error, not silently ignored; so is one without --auth.
    let unused = [&INFLUXDB[..], &["--auth", "--secret-file", "shared.secret"]].concat();
    env.refused(&unused, "nothing would use the secret");
    let out = env.certtool(&[&INFLUXDB[..], &["--secret-file", "shared.secret"]].concat());
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--auth"), "{}", stderr(&out));
    assert!(!env.path("influxdb.env").exists());
    let args = [
        &INFLUXDB[..],
        &[
            "--auth",
            "--secret-file",
            "shared.secret",
            "--env-file",
            "influxdb.env",
        ],
    ]
    .concat();
    let out = env.ok(&args);
    insta::assert_snapshot!("influxdb_auth", stable(&env, &stdout(&out)));
    assert!(!stdout(&out).contains(secret.trim()) && !stderr(&out).contains(secret.trim()));
    assert_eq!(
        fs::read_to_string(env.path("influxdb.env")).unwrap(),
        format!("INFLUXDB_HTTP_SHARED_SECRET={secret}")
    );
    assert_eq!(mode(&env.path("influxdb.env")), 0o600);
    let out = env.ok(&[&args[..], &["--json"]].concat());
    assert!(!stdout(&out).contains(secret.trim()));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["env_file"]["status"], "unchanged");
    // Another secret does not silently replace the file.
    env.write(
        "other.secret",
        "another-secret-that-is-long-enough-to-use-0123\n",
    );
    set_mode(&env.path("other.secret"), 0o600);
    let other = [
        &INFLUXDB[..],
        &[
            "--auth",
            "--secret-file",
            "other.secret",
            "--env-file",
            "influxdb.env",
        ],
    ]
    .concat();
    env.refused(&other, "--force");
    env.ok(&[&other[..], &["--force"]].concat());
    assert!(
        fs::read_to_string(env.path("influxdb.env"))
            .unwrap()
            .contains("another-secret")
    );
}

#[test]
fn influxdb2_in_place_sets_both_keys_once() {
    if !require_tool("python3") {
        return;
    }
    let env = TestEnv::new();
    pair(&env);
    let original = "# InfluxDB 2 settings\nbolt-path = \"/var/lib/influxdb/influxd.bolt\"\n\n# tls-cert = \"\"\n# tls-key = \"\"\nhttp-bind-address = \":8086\"\n";
    env.write("config.toml", original);
    let args = [
        "config",
        "influxdb2",
        "--cert",
        "localhost.crt",
        "--key",
        "localhost.key",
        "--in-place",
        "config.toml",
    ];
    env.ok(&args);
    let text = fs::read_to_string(env.path("config.toml")).unwrap();
    let dir = env.dir.path().display();
    assert_eq!(
        text,
        format!(
            "# InfluxDB 2 settings\nbolt-path = \"/var/lib/influxdb/influxd.bolt\"\n\ntls-cert = \"{dir}/localhost.crt\"\ntls-key = \"{dir}/localhost.key\"\nhttp-bind-address = \":8086\"\ntls-min-version = \"1.2\"\n"
        )
    );
    assert_eq!(python_toml(&text, "d['tls-min-version']"), r#""1.2""#);
    let out = env.ok(&args);
    assert!(stderr(&out).contains("unchanged"));
}

/// The shape of the `[[outputs.influxdb]]` part of Telegraf's sample config: one block with a
/// plain-HTTP URL and commented-out options, then commented-out plugins and the next section.
const TELEGRAF_SAMPLE: &str = r#"[agent]
  interval = "10s"

###############################################################################
#                            OUTPUT PLUGINS                                   #
###############################################################################

# Configuration for sending metrics to InfluxDB
[[outputs.influxdb]]
  ## The full HTTP or UDP URL for your InfluxDB instance.
  urls = ["http://127.0.0.1:8086"]
  ## The target database for metrics; will be created as needed.
  # database = "telegraf"
  # timeout = "5s"


# # Configuration for Amon Server to send metrics to.
# [[outputs.amon]]
# #   server_key = "my-server-key" # required.


###############################################################################
#                            INPUT PLUGINS                                    #
###############################################################################

[[inputs.cpu]]
  percpu = true
"#;

#[test]
fn telegraf_sample_config_gets_its_one_output_switched_to_https() {
    if !require_tool("python3") {
        return;
    }
    let env = TestEnv::new();
    pair(&env);
    env.write("telegraf.conf", TELEGRAF_SAMPLE);
    env.ok(&[
        "config",
        "telegraf",
        "--url",
        "https://localhost:8086",
        "--ca",
        "localhost.crt",
        "--database",
        "metrics",
        "--username",
        "telegraf",
        "--in-place",
        "telegraf.conf",
    ]);
    let text = fs::read_to_string(env.path("telegraf.conf")).unwrap();
    let dir = env.dir.path().to_str().unwrap();
    assert_eq!(
        python_toml(&text, "d['outputs']['influxdb']"),
        format!(
            r#"[{{"urls": ["https://localhost:8086"], "database": "metrics", "username": "telegraf", "password": "${{INFLUX_PASSWORD}}", "tls_ca": "{dir}/localhost.crt"}}]"#
        ),
        "one block, updated, with the password from Telegraf's environment: {text}"
    );
    // Only lines were added, and the one URL replaced: the comments are where they were.
    let removed: Vec<&str> = TELEGRAF_SAMPLE
        .lines()
        .filter(|l| !text.contains(l))
        .collect();
    assert_eq!(removed, [r#"  urls = ["http://127.0.0.1:8086"]"#]);

    // A file without an influxdb output gets one after the last output block and its own
    // commented-out keys, not between a block's keys and its comments.
    let no_influx = TELEGRAF_SAMPLE.replace("outputs.influxdb]]", "outputs.file]]");
    env.write("other.conf", &no_influx);
    env.ok(&[
        "config",
        "telegraf",
        "--url",
        "https://localhost:8086",
        "--insecure-skip-verify",
        "--in-place",
        "other.conf",
    ]);
    let text = fs::read_to_string(env.path("other.conf")).unwrap();
    let block = text.find("[[outputs.influxdb]]").unwrap();
    assert!(
        text.find(r#"  # timeout = "5s""#).unwrap() < block,
        "{text}"
    );
    assert!(
        block < text.find("# # Configuration for Amon").unwrap(),
        "{text}"
    );
    assert!(
        !text.contains("tls_ca replaces"),
        "no CA, no comment about one: {text}"
    );
    assert_eq!(
        python_toml(&text, "d['outputs']['influxdb'][0]['insecure_skip_verify']"),
        "true"
    );
    assert_eq!(
        python_toml(&text, "d['inputs']['cpu'][0]['percpu']"),
        "true"
    );
}

#[test]
fn telegraf_usage_asks_for_a_ca_or_skipping_verification() {
    let env = TestEnv::new();
    let out = env.certtool(&[
        "config",
        "telegraf",
        "--url",
        "https://x.test:8086",
        "--v2",
        "--org",
        "o",
        "--bucket",
        "b",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--ca <FILE>|--insecure-skip-verify"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn debian_prometheus_yml_self_scrape_job_turns_https_and_prometheus_scrapes_itself() {
    let shipped = Path::new("/etc/prometheus/prometheus.yml");
    if !(require_tool("prometheus")
        && require_tool("promtool")
        && require_tool("curl")
        && crate::support::require(shipped.exists(), "Debian's /etc/prometheus/prometheus.yml"))
    {
        return;
    }
    let env = TestEnv::new();
    env.selfsigned(&["--host", "localhost", "--host", "127.0.0.1"]);
    env.web_config();
    let original = fs::read_to_string(shipped).unwrap();
    env.write("prometheus.yml", &original);
    let edit = [
        "config",
        "prometheus-scrape",
        "--ca",
        "localhost.crt",
        "--job",
        "prometheus",
        "--in-place",
        "prometheus.yml",
    ];
    let out = env.ok(&[&edit[..], &["--dry-run"]].concat());
    assert!(
        stdout(&out).contains("+    scheme: https"),
        "{}",
        stdout(&out)
    );
    assert_eq!(
        fs::read_to_string(env.path("prometheus.yml")).unwrap(),
        original
    );
    env.ok(&edit);
    let edited = fs::read_to_string(env.path("prometheus.yml")).unwrap();
    // Every line of the original is still there (comments included); only lines were added.
    for line in original.lines() {
        assert!(edited.contains(line), "lost {line:?}:\n{edited}");
    }
    assert_eq!(
        fs::read_to_string(env.path("prometheus.yml.bak")).unwrap(),
        original
    );
    let out = env.ok(&edit);
    assert!(
        stderr(&out).contains("unchanged"),
        "idempotent: {}",
        stderr(&out)
    );
    let check = run(Command::new("promtool")
        .args(["check", "config"])
        .arg(env.path("prometheus.yml")));
    assert!(
        check.status.success(),
        "{}{}",
        stdout(&check),
        stderr(&check)
    );
    // The real Prometheus, serving TLS with the web config, scrapes itself over https: up == 1.
    // Run on a free port: the edited file with Debian's localhost:9090 moved there.
    let server = crate::support::start_prometheus_from(&env, |port| {
        edited.replace("localhost:9090", &format!("localhost:{port}"))
    });
    let port = server.port;
    let cert = env.path("localhost.crt");
    let up = crate::support::prometheus_up(&cert, port, "prometheus");
    assert!(
        up.contains(r#","1"]"#),
        "the self-scrape job is not up over https: {up}"
    );
}

#[test]
fn a_new_scrape_job_goes_after_debians_at_its_indentation_with_basic_auth() {
    let shipped = Path::new("/etc/prometheus/prometheus.yml");
    if !(require_tool("promtool")
        && crate::support::require(shipped.exists(), "Debian's /etc/prometheus/prometheus.yml"))
    {
        return;
    }
    let env = TestEnv::new();
    env.selfsigned(&["--host", "localhost"]);
    env.write("prometheus.yml", fs::read_to_string(shipped).unwrap());
    // A second job, added at the file's indentation, with basic auth from a password file.
    env.write("scrape.password", "pw\n");
    env.ok(&[
        "config",
        "prometheus-scrape",
        "--ca",
        "localhost.crt",
        "--job",
        "node-tls",
        "--target",
        "localhost:9100",
        "--username",
        "prom",
        "--password-file",
        "scrape.password",
        "--in-place",
        "prometheus.yml",
    ]);
    let edited = fs::read_to_string(env.path("prometheus.yml")).unwrap();
    assert!(
        edited.contains("\n  - job_name: \"node-tls\"\n    scheme: https\n"),
        "{edited}"
    );
    assert!(edited.contains("      password_file: "), "{edited}");
    let check = run(Command::new("promtool")
        .args(["check", "config"])
        .arg(env.path("prometheus.yml")));
    assert!(
        check.status.success(),
        "{}{}",
        stdout(&check),
        stderr(&check)
    );
}
