//! Help, version, man pages and completions, all generated from the clap definitions.

use std::path::{Path, PathBuf};
use std::process::Command;

use certtool::cli::Cli;
use clap::CommandFactory;

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
    assert_eq!(
        stdout(&out),
        format!("certtool {}\n", env!("CARGO_PKG_VERSION"))
    );
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
