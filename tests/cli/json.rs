//! `--json` when a command fails: the JSON error object on stdout, as well as the line on
//! stderr, for input errors and usage errors alike, so that scripts parsing stdout always get
//! JSON.

use serde_json::Value;

use crate::support::{TestEnv, stderr, stdout};

#[test]
fn failures_under_json_are_json_on_stdout_too() {
    let env = TestEnv::new();
    for (args, stderr_starts) in [
        (
            &["--json", "inspect", "missing.crt"][..],
            "certtool: error: ",
        ),
        (
            &["--json", "selfsigned", "--host", "bad host"],
            "certtool: error: ",
        ),
        (&["--json", "check", "missing"], "certtool: error: "),
        (
            &["--json", "verify", "--url", "https://u:pw@127.0.0.1:1"],
            "certtool: error: ",
        ),
        (
            &["--json", "selfsigned", "--days", "0", "--host", "a.test"],
            "error: ",
        ),
        (&["--json", "no-such-command"], "error: "),
    ] {
        let out = env.certtool(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).starts_with(stderr_starts),
            "{args:?}: {}",
            stderr(&out)
        );
        let v: Value = serde_json::from_str(&stdout(&out))
            .unwrap_or_else(|e| panic!("{args:?}: stdout is not JSON ({e}): {}", stdout(&out)));
        assert_eq!(v["ok"], false, "{args:?}");
        assert_eq!(v["error"]["exit_code"], 2, "{args:?}");
        assert!(
            v["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{args:?}"
        );
        assert!(!stdout(&out).contains("pw@"), "{args:?}");
    }
    // Without --json, stdout stays empty.
    assert!(stdout(&env.certtool(&["inspect", "missing.crt"])).is_empty());
}

#[test]
fn completions_refuse_json_rather_than_ignore_it() {
    let env = TestEnv::new();
    let out = env.certtool(&["--json", "completions", "bash"]);
    assert_eq!(out.status.code(), Some(2));
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["ok"], false);
    assert!(stdout(&env.ok(&["completions", "bash"])).contains("certtool"));
}
