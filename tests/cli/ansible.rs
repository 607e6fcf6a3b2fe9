//! `examples/ansible/`: the role and playbook, run twice by a real ansible-playbook (pip:
//! `.ci/run` installs ansible-core 2.19 in a venv) against localhost, in a temp dir standing in
//! for /etc, with a real influxd restarted by `--reload`: the first run changes things, the
//! second changes nothing.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::support::{TestEnv, bin, require, require_tool, stderr, stdout};

/// ansible-playbook: `$CERTTOOL_ANSIBLE_PLAYBOOK` (what `.ci/run` installs), or on PATH.
fn ansible_playbook() -> Option<PathBuf> {
    if let Ok(path) = std::env::var("CERTTOOL_ANSIBLE_PLAYBOOK") {
        return Some(PathBuf::from(path));
    }
    let found = Command::new("sh")
        .args(["-c", "command -v ansible-playbook"])
        .output()
        .ok()?;
    found
        .status
        .success()
        .then(|| PathBuf::from(String::from_utf8_lossy(&found.stdout).trim()))
}

/// The `changed=` and `failed=` counts of the PLAY RECAP line for localhost.
fn recap(text: &str) -> (u32, u32) {
    let line = text
        .lines()
        .find(|l| l.starts_with("localhost") && l.contains("changed="))
        .unwrap_or_else(|| panic!("no recap in:\n{text}"));
    let count = |key: &str| -> u32 {
        line.split_whitespace()
            .find_map(|w| w.strip_prefix(key))
            .and_then(|n| n.parse().ok())
            .unwrap_or(u32::MAX)
    };
    (count("changed="), count("failed="))
}

#[test]
fn the_ansible_role_provisions_once_then_changes_nothing() {
    let playbook = ansible_playbook();
    if !(require(
        playbook.is_some(),
        "ansible-playbook (pip install 'ansible-core>=2.19,<2.20')",
    ) && require_tool("influxd"))
    {
        return;
    }
    let playbook = playbook.unwrap();
    let env = TestEnv::new();
    let root = env.dir.path();
    let etc = root.join("etc");
    fs::create_dir_all(&etc).unwrap();
    env.ok(&["ca", "init", "--out-dir", "ca"]);
    // influxd's config and the reload script that restarts it, as the provision tests have them.
    let port = crate::provision::setup(&env, &etc);
    let restart = root.join("restart.sh");
    let vars = serde_json::json!({
        "certtool_binary": bin(),
        "certtool_bin": root.join("certtool"),
        "certtool_ca_cert": root.join("ca/ca.crt"),
        "certtool_ca_key": root.join("ca/ca.key"),
        "certtool_ca_dir": etc.join("ssl/metrics-ca"),
        "certtool_out_dir": etc.join("ssl/influxdb"),
        "certtool_config": etc.join("influxdb.conf"),
        "certtool_env_file": etc.join("influxdb.env"),
        "certtool_hosts": ["localhost", "127.0.0.1"],
        "certtool_reload": restart,
        "certtool_url": format!("https://localhost:{port}"),
        "certtool_admin_password_file": etc.join("admin.password"),
    });
    fs::write(root.join("vars.json"), vars.to_string()).unwrap();
    fs::write(
        root.join("inventory.ini"),
        "[influxdb]\nlocalhost ansible_connection=local ansible_python_interpreter=\"{{ ansible_playbook_python }}\"\n",
    )
    .unwrap();
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/ansible");
    let run = || {
        let out = Command::new(&playbook)
            .arg("-i")
            .arg(root.join("inventory.ini"))
            .arg(examples.join("playbook.yml"))
            .arg("-e")
            .arg(format!("@{}", root.join("vars.json").display()))
            .env("ANSIBLE_NOCOLOR", "1")
            .env("ANSIBLE_LOCAL_TEMP", root.join("ansible-tmp"))
            .env("ANSIBLE_REMOTE_TEMP", root.join("ansible-tmp"))
            .env("HOME", root)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let text = format!("{}{}", stdout(&out), stderr(&out));
        assert!(out.status.success(), "ansible-playbook failed:\n{text}");
        recap(&text)
    };
    let influxd = crate::provision::Influxd(&env);
    let (changed, failed) = run();
    assert!(
        changed > 0 && failed == 0,
        "first run: changed={changed} failed={failed}"
    );
    assert!(etc.join("ssl/influxdb/influxdb.crt").exists());
    let (changed, failed) = run();
    assert_eq!((changed, failed), (0, 0), "the second run changes nothing");
    drop(influxd);
}
