//! `certtool init` through a pseudo-terminal (Python's pty): answers typed, files checked, and
//! the printed command re-run without a terminal changes nothing.

use std::process::Command;

use crate::support::{TestEnv, bin, require_tool, stderr, stdout};

/// Run `certtool init` on a pty, answering each prompt that contains a pattern; returns all it
/// printed (with the terminal's escape sequences).
fn on_a_pty(env: &TestEnv, answers: &[(&str, &str)]) -> (i32, String) {
    let script = r#"
import json, os, pty, select, sys, time
answers = json.loads(sys.argv[2])
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], [sys.argv[1], "init"])
seen, out = 0, b""
deadline = time.time() + 60
for pattern, answer in answers:
    while pattern.encode() not in out[seen:]:
        if time.time() > deadline:
            sys.stdout.write(out.decode(errors="replace")); sys.exit(f"no prompt {pattern!r}")
        r, _, _ = select.select([fd], [], [], 0.5)
        if r:
            try:
                out += os.read(fd, 4096)
            except OSError:
                break
    seen = out.index(pattern.encode(), seen) + len(pattern)
    time.sleep(0.1)
    os.write(fd, answer.encode())
while True:
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace"))
sys.exit(os.waitstatus_to_exitcode(status))
"#;
    let answers = serde_json::to_string(answers).unwrap();
    let out = Command::new("python3")
        .args(["-c", script])
        .arg(bin())
        .arg(answers)
        .current_dir(env.dir.path())
        .env("TERM", "xterm")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        format!("{}{}", stdout(&out), stderr(&out)),
    )
}

#[test]
fn init_asks_runs_provision_and_prints_it_for_next_time() {
    if !require_tool("python3") {
        return;
    }
    let env = TestEnv::new();
    let dir = env.dir.path().display().to_string();
    let ssl = format!("{dir}/ssl\r");
    let web = format!("{dir}/web.yml\r");
    let password = format!("{dir}/basic.password\r");
    env.write("prometheus.default", "ARGS=\"\"\n");
    let args = format!("{dir}/prometheus.default\r");
    let (code, text) = on_a_pty(
        &env,
        &[
            ("Which server", "\x1b[B\r"),
            ("Host names", "localhost 127.0.0.1\r"),
            ("Certificate", "\r"),
            ("Days of validity", "90\r"),
            ("Directory for the key", &ssl),
            ("Owner of the files", "\r"),
            ("Web config to write", &web),
            ("gets --web.config.file", &args),
            ("Basic auth user", "prom\r"),
            ("File holding the password", &password),
            ("read the new files", "true\r"),
            ("Check the running server", "n"),
            ("renewal timer", "n"),
            ("Run it now?", "y"),
        ],
    );
    assert_eq!(code, 0, "{text}");
    assert!(
        env.path("ssl/prometheus.crt").exists() && env.path("web.yml").exists(),
        "{text}"
    );
    assert_eq!(
        std::fs::read_to_string(env.path("prometheus.default")).unwrap(),
        format!("ARGS=\"--web.config.file={dir}/web.yml\"\n")
    );
    // The password file the answers named was made (0600), and its hash is in the web config.
    assert_eq!(crate::support::mode(&env.path("basic.password")), 0o600);
    assert!(
        std::fs::read_to_string(env.path("web.yml"))
            .unwrap()
            .contains("basic_auth_users")
    );
    let line = text
        .lines()
        .skip_while(|l| !l.contains("Next time, without questions:"))
        .nth(1)
        .unwrap_or_else(|| panic!("no command printed: {text}"))
        .trim()
        .to_owned();
    assert!(
        line.starts_with("certtool provision prometheus --host localhost --host 127.0.0.1"),
        "{line}"
    );
    // The printed command, run again without a terminal: every step unchanged.
    let out = Command::new("sh")
        .arg("-c")
        .arg(line.replacen("certtool", &bin().display().to_string(), 1) + " --json")
        .current_dir(env.dir.path())
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", stdout(&out), stderr(&out)));
    assert_eq!(report["changed"], false, "{report:#}");
}

#[test]
fn init_without_a_terminal_exits_2_at_once_naming_provision() {
    let env = TestEnv::new();
    let out = env.cmd().arg("init").write_stdin("").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("certtool provision"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn ctrl_c_at_a_question_leaves_nothing_written() {
    if !require_tool("python3") {
        return;
    }
    let env = TestEnv::new();
    let dir = env.dir.path().display().to_string();
    let ssl = format!("{dir}/ssl\r");
    let (code, text) = on_a_pty(
        &env,
        &[
            ("Which server", "\r"),
            ("Host names", "localhost\r"),
            ("Certificate", "\r"),
            ("Days of validity", "30\r"),
            ("Directory for the key", &ssl),
            ("Owner of the files", "\x03"),
        ],
    );
    assert_ne!(code, 0, "{text}");
    let names: Vec<_> = std::fs::read_dir(env.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(names.is_empty(), "written after Ctrl-C: {names:?}");
}

#[test]
fn the_host_question_offers_the_hostname_and_every_address_of_the_machine() {
    // `hostname -I` (Debian's hostname package): every address but loopback and IPv6 link-local.
    if !(require_tool("python3") && require_tool("hostname")) {
        return;
    }
    let listed = Command::new("hostname").arg("-I").output().unwrap();
    let env = TestEnv::new();
    let (_, text) = on_a_pty(&env, &[("Which server", "\r"), ("Host names", "\x03")]);
    let prompt = text
        .lines()
        .find(|l| l.contains("Host names"))
        .unwrap_or_else(|| panic!("{text}"));
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    let mut wanted = vec![name.trim(), "localhost", "127.0.0.1"];
    let addresses = stdout(&listed);
    wanted.extend(addresses.split_whitespace());
    for host in wanted {
        assert!(
            prompt.split([' ', '[', ']']).any(|w| w == host),
            "{host} not offered: {prompt}"
        );
    }
}
