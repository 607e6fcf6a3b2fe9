//! Help, version, man pages and completions, all generated from the clap definitions.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use certtool::cli::Cli;
use clap::{CommandFactory, Parser as _};

use crate::support::{TestEnv, require_tool, run, stderr, stdout};

/// Render the man page of `cmd` and of every subcommand beneath it as (file name, contents).
fn render_man_pages(cmd: &clap::Command, prefix: &str, pages: &mut Vec<(String, Vec<u8>)>) {
    let name = if prefix.is_empty() {
        cmd.get_name().to_owned()
    } else {
        format!("{prefix}-{}", cmd.get_name())
    };
    let mut page = Vec::new();
    clap_mangen::Man::new(cmd.clone().name(&*String::leak(name.clone())))
        .render(&mut page)
        .expect("render man page");
    pages.push((format!("{name}.1"), page));
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        render_man_pages(sub, &name, pages);
    }
}

fn man_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("man")
}

/// The checked-in man pages must match the clap definitions. To regenerate them:
/// `CERTTOOL_BLESS=1 cargo test --test cli man_pages`.
#[test]
fn man_pages_are_current() {
    let mut cmd = Cli::command();
    cmd.build();
    let mut pages = Vec::new();
    render_man_pages(&cmd, "", &mut pages);
    let bless = std::env::var_os("CERTTOOL_BLESS").is_some();
    let mut stale = Vec::new();
    for (file, contents) in &pages {
        let path = man_dir().join(file);
        if bless {
            std::fs::create_dir_all(man_dir()).unwrap();
            std::fs::write(&path, contents).unwrap();
        } else if std::fs::read(&path).ok().as_deref() != Some(contents.as_slice()) {
            stale.push(file.clone());
        }
    }
    let mut on_disk: Vec<String> = std::fs::read_dir(man_dir())
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    on_disk.retain(|f| !pages.iter().any(|(p, _)| p == f));
    assert!(
        stale.is_empty() && (bless || on_disk.is_empty()),
        "man pages out of date: {stale:?}, extra: {on_disk:?}; regenerate with \
         `CERTTOOL_BLESS=1 cargo test --test cli man_pages` and commit man/"
    );
}

#[test]
fn man_pages_render_with_man() {
    if !require_tool("groff") {
        return;
    }
    let out = run(Command::new("groff")
        .args(["-man", "-Tutf8", "-ww", "-z"])
        .arg(man_dir().join("certtool-selfsigned.1")));
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "{}",
        stderr(&out)
    );
}

#[test]
fn help_and_version() {
    let env = TestEnv::new();
    let out = env.cmd().arg("--version").output().unwrap();
    let version = stdout(&out);
    assert!(
        version.starts_with(&format!("certtool {} (", env!("CARGO_PKG_VERSION")))
            && version.contains("InfluxDB")
            && version.contains("not GnuTLS's certtool")
            && version.lines().count() == 1,
        "{version}"
    );
    // `certtool version` is not a typo of `verify`.
    let out = env.cmd().arg("version").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("'certtool --version'"),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains("verify"), "{}", stderr(&out));
    let out = env.cmd().arg("--help").output().unwrap();
    assert!(out.status.success());
    assert!(stdout(&out).contains("Exit status:"));
    for sub in [
        "selfsigned",
        "inspect",
        "perms",
        "completions",
        "secret generate",
        "jwt mint",
        "jwt verify",
        "jwt decode",
    ] {
        let out = env
            .cmd()
            .args(sub.split(' '))
            .arg("--help")
            .output()
            .unwrap();
        assert!(out.status.success(), "{sub}");
        let text = stdout(&out);
        assert!(
            text.contains("Exit status:") && text.contains("Examples:"),
            "{sub}: {text}"
        );
    }
    let out = env.cmd().arg("frobnicate").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = env.cmd().output().unwrap();
    assert_eq!(out.status.code(), Some(2), "no subcommand is a usage error");
}

#[test]
fn completion_scripts_are_valid() {
    let env = TestEnv::new();
    for shell in ["bash", "zsh", "fish"] {
        let out = env.cmd().args(["completions", shell]).output().unwrap();
        assert!(out.status.success(), "{shell}");
        assert!(stdout(&out).contains("selfsigned"), "{shell}");
    }
    if require_tool("bash") {
        let script = env.write(
            "certtool.bash",
            env.cmd()
                .args(["completions", "bash"])
                .output()
                .unwrap()
                .stdout,
        );
        let out = run(Command::new("bash").arg("-n").arg(script));
        assert!(out.status.success(), "{}", stderr(&out));
    }
}

#[test]
fn a_closed_stdout_pipe_is_not_an_error() {
    let env = TestEnv::new();
    let out = run(Command::new("bash")
        .arg("-c")
        .arg("set -o pipefail; for i in 1 2 3 4 5; do \"$0\" completions zsh | true || exit $?; done")
        .arg(crate::support::bin()));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
    drop(env);
}

/// Every command path (`["ca", "issue"]`, ...), leaves and groups, from the clap definition.
fn command_paths() -> Vec<Vec<String>> {
    fn walk(cmd: &clap::Command, prefix: &[String], paths: &mut Vec<Vec<String>>) {
        for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
            let mut path = prefix.to_vec();
            path.push(sub.get_name().to_string());
            paths.push(path.clone());
            walk(sub, &path, paths);
        }
    }
    let mut cmd = Cli::command();
    cmd.build();
    let mut paths = vec![vec![]];
    walk(&cmd, &[], &mut paths);
    paths
}

/// The entries of a help screen's "Commands:" list, as (name, description) pairs.
fn listed_commands(help: &str) -> Vec<(String, String)> {
    let mut entries: Vec<(String, String)> = Vec::new();
    for line in help
        .lines()
        .skip_while(|l| *l != "Commands:")
        .skip(1)
        .take_while(|l| !l.is_empty())
    {
        let Some(entry) = line.strip_prefix("  ") else {
            continue;
        };
        if entry.starts_with(' ') {
            // A wrapped description continues the entry above it.
            if let Some(last) = entries.last_mut() {
                last.1.push(' ');
                last.1.push_str(entry.trim());
            }
            continue;
        }
        let (name, description) = entry.split_once(' ').unwrap_or((entry, ""));
        entries.push((name.to_string(), description.trim().to_string()));
    }
    entries
}

#[test]
fn every_help_screen_describes_every_command() {
    let env = TestEnv::new();
    let mut lists = 0;
    for path in command_paths() {
        for flag in ["--help", "-h"] {
            let out = env.cmd().args(&path).arg(flag).output().unwrap();
            assert!(out.status.success(), "{path:?} {flag}");
            let help = stdout(&out);
            let entries = listed_commands(&help);
            if help.contains("\nCommands:\n") {
                lists += 1;
                assert!(!entries.is_empty(), "{path:?} {flag}: {help}");
            }
            for (name, description) in entries {
                assert!(
                    !description.is_empty(),
                    "`certtool {} {flag}` lists {name} without a description:\n{help}",
                    path.join(" ")
                );
            }
        }
    }
    // certtool, ca, acme, config, secret, jwt, provision and audit, each with -h and --help.
    assert_eq!(lists, 16);

    // The line a list shows (on the enum variant, eager) is the command's own first line (on
    // its Args struct, applied when the deferred command is built): the two cannot drift apart.
    listed_lines_are_own_first_lines(&Cli::command());
}

fn listed_lines_are_own_first_lines(unbuilt: &clap::Command) {
    for sub in unbuilt.get_subcommands() {
        let listed = sub.get_about().map(ToString::to_string).unwrap_or_default();
        let mut built = sub.clone();
        built.build();
        let own = built
            .get_about()
            .map(ToString::to_string)
            .unwrap_or_default();
        assert!(!listed.is_empty(), "{}", sub.get_name());
        assert_eq!(listed, own, "{}", sub.get_name());
        listed_lines_are_own_first_lines(&built);
    }
}

/// Splits shell text into words and operators the way a POSIX shell does (Python's shlex).
fn shell_words(text: &str) -> Vec<String> {
    let script = "import json, shlex, sys\n\
        lexer = shlex.shlex(sys.stdin.read(), posix=True, punctuation_chars=True)\n\
        lexer.whitespace_split = True\n\
        print(json.dumps(list(lexer)))";
    let mut child = Command::new("python3")
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "shlex failed on {text:?}");
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn help_examples_paste_into_a_shell_and_parse() {
    if !require_tool("python3") {
        return;
    }
    let env = TestEnv::new();
    let mut parsed = 0;
    for path in command_paths() {
        let out = env.cmd().args(&path).arg("--help").output().unwrap();
        let help = stdout(&out);
        let Some(examples) = help.split("\nExamples:\n").nth(1) else {
            continue;
        };
        let examples: Vec<&str> = examples.lines().take_while(|l| !l.is_empty()).collect();
        // As written in the source: nothing was wrapped into a line of its own.
        for line in &examples {
            assert!(line.len() <= 98, "{path:?}: {line}");
        }
        // Continuations joined as the shell joins them; every line then starts a command.
        let joined = examples.join("\n").replace("\\\n", " ");
        for line in joined.lines() {
            let line = line.trim();
            let first = line.split_whitespace().next().unwrap_or("");
            assert!(
                ["certtool", "sudo", "curl", "printf"].contains(&first)
                    || first.starts_with("TOKEN="),
                "{path:?}: an example line that no shell would run: {line:?}"
            );
            let words = shell_words(line);
            let operators = ["|", "||", "&&", ";", ">", ">>", "(", ")", "<"];
            for (at, _) in words.iter().enumerate().filter(|(_, w)| *w == "certtool") {
                let argv: Vec<&str> = words[at..]
                    .iter()
                    .take_while(|w| !operators.contains(&w.as_str()))
                    .map(String::as_str)
                    .collect();
                if let Err(err) = Cli::try_parse_from(&argv)
                    && err.kind() != clap::error::ErrorKind::DisplayHelp
                {
                    panic!(
                        "{path:?}: the example `{}` does not parse:\n{err}",
                        argv.join(" ")
                    );
                }
                parsed += 1;
            }
        }
    }
    assert!(parsed >= 40, "only {parsed} examples found");
}
