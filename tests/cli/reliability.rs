//! The figures of `docs/reliability.md`: each class of bad input, fault or attack the suite
//! tries, what certtool answers, its exit code, and how many cases the suite ran.
//!
//! Each test that tries a class calls [`record`] with the number of cases it ran, which must be
//! the published figure: when a test changes what it tries, it fails until the row here is
//! updated, and the table is rebuilt with
//! `CERTTOOL_BLESS=1 cargo test --test cli reliability_table`.

use std::fmt::Write as _;
use std::path::PathBuf;

/// One row of the table.
pub struct Row {
    pub class: &'static str,
    pub answer: &'static str,
    pub exit: &'static str,
    /// Cases one run of the suite tries.
    pub cases: usize,
    /// The test that tries them.
    pub test: &'static str,
}

pub const ROWS: &[Row] = &[
    Row {
        class: "SIGKILL at every write, sync, link, rename and unlink",
        answer: "the next run that writes, renews, checks or inspects the pair completes or undoes \
                 the write (intent record); the key matches the certificate, modes are exact, no \
                 temp file is left",
        exit: "0 for the repairing run",
        cases: 70,
        test: "hardening::defect_4_sigkill_at_any_write_leaves_a_matching_pair",
    },
    Row {
        class: "SIGKILL at every write of csr and import",
        answer: "the next run completes or undoes the write: a request always belongs to its \
                 key, an imported chain to its key copy; modes are exact, no temp file is left",
        exit: "0 for the repairing run",
        cases: 34,
        test: "hardening::defect_4_sigkill_during_csr_and_import_leaves_matching_files",
    },
    Row {
        class: "SIGTERM, SIGINT, SIGHUP while writing",
        answer: "rolled back: old pair byte-identical, no temp file, one line",
        exit: "143, 130, 129",
        cases: 6,
        test: "hardening::defect_4_sigterm_sigint_sighup_during_a_write_roll_back",
    },
    Row {
        class: "SIGTERM at random moments of selfsigned --force",
        answer: "no temp file left; the pair always matches",
        exit: "143 (or 0 when it came after the write)",
        cases: 100,
        test: "hardening::defect_4_random_sigterms_leave_no_temp_files",
    },
    Row {
        class: "3 concurrent writers of one pair (selfsigned, renew)",
        answer: "serialised by a lock on the directory; every pair and .bak pair matches",
        exit: "0 (a writer that waits over 10 s: 2, \"another certtool is writing\")",
        cases: 360,
        test: "hardening::defect_5_concurrent_writers_never_mix_pairs",
    },
    Row {
        class: "damaged private keys given to every reading command",
        answer: "one line naming the problem; no 16-character run of the key's base64 on stdout, \
                 stderr or in --json",
        exit: "2 (1 where a check says no)",
        cases: 14_520,
        test: "hardening::defect_3_no_key_material_in_any_message",
    },
    Row {
        class: "property tests: random and mutated PEM, DER, keys, chains, JWTs, TOML, durations, \
                days, dates, hosts",
        answer: "no panic; an error, never key bytes in it",
        exit: "2",
        cases: 130_000,
        test: "props (tests/props.rs)",
    },
];

/// Check that a test ran exactly the published number of cases of `class`.
pub fn record(class: &str, ran: usize) {
    let row = ROWS
        .iter()
        .find(|r| r.class == class)
        .unwrap_or_else(|| panic!("no row for {class:?} in tests/cli/reliability.rs"));
    assert_eq!(
        row.cases, ran,
        "{class}: the suite ran {ran} cases, the table says {}; update tests/cli/reliability.rs \
         and run CERTTOOL_BLESS=1 cargo test --test cli reliability_table",
        row.cases
    );
}

fn render() -> String {
    let mut text = String::from(
        "# Reliability: what the hardening suite tries, and what certtool answers\n\n\
         Generated from `tests/cli/reliability.rs` by `CERTTOOL_BLESS=1 cargo test --test cli \
         reliability_table`; every figure is checked by the test that runs the cases (see\n\
         `tests/cli/hardening.rs`), so this table cannot drift from what CI runs.\n\n\
         | class of input, fault or attack | what certtool answers | exit code | cases per run | test |\n\
         |---|---|---|---|---|\n",
    );
    for row in ROWS {
        let answer = row.answer.split_whitespace().collect::<Vec<_>>().join(" ");
        let class = row.class.split_whitespace().collect::<Vec<_>>().join(" ");
        let _ = writeln!(
            text,
            "| {class} | {answer} | {} | {} | `{}` |",
            row.exit, row.cases, row.test
        );
    }
    text.push_str(
        "\nAlso covered, each by a regression test named after its defect in \
         `tests/cli/hardening.rs` and `tests/cli/perms.rs`: `perms --fix` never loosens a file \
         holding a key or secret anywhere in it; temp directories of `verify --launch` are 0700 \
         with 0600 files and the launched server dies with certtool; dates at the end of time \
         are errors, not panics; file names and PEM labels cannot drive the terminal; truncated \
         chains, encrypted keys and byte-order marks are handled; names up to NAME_MAX are \
         written; symlinks and hard links at every written path, umask 000 and 077, full and \
         read-only file systems (a tmpfs the test mounts); forged intent records (a symlink, \
         or one naming files certtool never writes) are refused, not obeyed.\n",
    );
    text
}

fn doc_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/reliability.md")
}

#[test]
fn reliability_table_is_current() {
    let text = render();
    if std::env::var_os("CERTTOOL_BLESS").is_some() {
        std::fs::create_dir_all(doc_path().parent().unwrap()).unwrap();
        std::fs::write(doc_path(), &text).unwrap();
    }
    let on_disk = std::fs::read_to_string(doc_path()).unwrap_or_default();
    assert!(
        on_disk == text,
        "docs/reliability.md is stale; run CERTTOOL_BLESS=1 cargo test --test cli reliability_table"
    );
}
