//! certtool: provision TLS certificates and shared secrets for InfluxDB, Telegraf and
//! Prometheus, and prove they work.
//!
//! The binary (`main.rs`) is a thin shell around this library, so tests and benches call the
//! same code. Every command runs parse → validate → act → report: clap parses (`cli`), the
//! command module checks and plans, reads through `inputs`, computes in the pure `pki` and
//! `config`, writes through `files`, and prints through `output`.
//!
//! Where each subcommand lives:
//!
//! - `selfsigned` → `commands::selfsigned` → `pki::{names, validity, cert}` → `files`
//! - `ca init`, `ca issue` → `commands::ca` → `inputs::load_ca`, `pki::ca` → `files`
//! - `csr` → `commands::csr` → `inputs::load_key`, `pki::csr` → `files`
//! - `import` → `commands::import` → `inputs::{load_key, load_certs, system_roots}`,
//!   `pki::chain` → `files`
//! - `ca sign` → `commands::ca` → `inputs::{load_request, load_ca}`, `pki::ca` → `files`
//! - `acme issue`, `acme renew` → `commands::acme` → `acme` (instant-acme over ureq; http-01
//!   listener or webroot), `pki::csr` → `files`
//! - `check` → `commands::check` → `files::list_dir`, `inputs::load_summaries`
//! - `renew` → `commands::renew` → `inputs::{load_bundle, load_key, load_ca}`,
//!   `pki::cert::Renewal` → `files` (with `.bak`)
//! - `config influxdb`, `influxdb2` → `commands::config::influxdb` →
//!   `config::{influxdb, edit, template}`, `secret` → `files`
//! - `config telegraf` → `commands::config::telegraf` → `config::{telegraf, edit}`, `url`
//! - `config prometheus`, `prometheus-scrape` → `commands::config::prometheus` →
//!   `config::{prometheus, scrape_yml, template}` → `files`
//! - `verify --cert --key` → `commands::verify` → `verify::{pair, local, client, duplex, trust}`
//! - `verify --url` → `commands::verify` → `url`, `verify::{probe, client, trust}`, `jwt`
//! - `verify --launch` → `commands::verify` → `verify::launch`, then `verify::probe`
//! - `inspect` → `commands::inspect` → `inputs::{describe, load_key}`
//! - `perms` → `commands::perms` → `files::{ExistingFile, list_dir}`
//! - `secret generate` → `commands::secret` → `secret` → `files`
//! - `jwt mint`, `jwt verify`, `jwt decode` → `commands::jwt` → `jwt`, `secret`
//! - `provision influxdb` → `commands::provision` (steps) → `inputs`, `pki`, `files`,
//!   `commands::config::influxdb::apply_v1`, `config::telegraf`, `commands::timer`,
//!   `verify::probe` (admin user, verify)
//! - `provision prometheus`, `node-exporter` → `commands::provision::web` → the same steps
//!   (`provision::pair`), `config::{prometheus, scrape_yml}`, bcrypt, `verify::probe`
//! - `audit influxdb`, `prometheus`, `node-exporter`, `telegraf` → `commands::audit` →
//!   `inputs`, `files::ExistingFile`, `secret::env_file_values`, `verify::probe` (`--url`)
//! - `init` → `commands::init` (dialoguer questions) → runs `certtool provision ...`
//! - `renew --install-timer`, `--cron` → `commands::timer`
//! - `completions` → `commands::completions` → `cli`
//!
//! The layers:
//! - `cli`: the command line (clap), source of help, man pages and completions; nothing else.
//! - `commands`: one module per subcommand, and the few helpers several share (`commands`).
//! - `inputs`: the one input loader (certificates, chains, keys, pairs, CAs, bundles), with one
//!   wording for "holds no certificate / private key" and one size limit.
//! - `pki`: keys, names, validity, certificates, the local CA, parsing, signing requests,
//!   chain building; pure (no I/O), with typed errors (`pki::PkiError`) that name no flag.
//! - `acme`: the ACME exchange (RFC 8555) and renewal information (RFC 9773), on a
//!   current-thread tokio runtime created only by the acme commands.
//! - `config`: templates, TOML key placement, pure in-place edits and diffs.
//! - `verify`: the integrated TLS server and client, trust, probes, launched servers.
//! - `files`: the one secure, atomic file writer, with `files::journal` (the intent record that
//!   lets the next run complete or undo a write that was killed), `files::lock` (directory
//!   locks, so two runs never interleave a pair), `files::interrupt` (SIGINT/SIGTERM/SIGHUP
//!   while writing) and `files::access` (whether a service's account can read a key).
//! - `secret`, `jwt`: the one secret reader; InfluxDB's shared-secret tokens.
//! - `output`: stdout, stderr and `--json`; `text`: the one sanitiser and shared formats.
//! - `error`: exit statuses, errors with hints, and the hints for `pki` errors.
//! - `duration`, `url`: the parsers of `--timeout 5s` and `--url https://...`.

pub mod acme;
pub mod cli;
pub mod commands;
pub mod config;
pub mod duration;
pub mod error;
pub mod files;
pub mod inputs;
pub mod jwt;
pub mod output;
pub mod pki;
pub mod secret;
pub mod text;
pub mod url;
pub mod verify;

use std::io::{self, Write};

pub use error::ExitStatus;

/// Run a parsed command line against the process's stdout and stderr; returns the exit code.
///
/// Errors become one `certtool: error: ...` line (plus a `hint:` line where one helps) and exit
/// code 2. A closed stdout pipe (`certtool ... | head`) is not an error: exit 0, quietly.
#[must_use]
pub fn run(cli: &cli::Cli) -> u8 {
    protect_process_memory();
    let mut stdout = io::stdout().lock();
    let mut stderr = io::stderr().lock();
    let result = {
        use std::io::IsTerminal as _;
        let style = output::Style::for_terminal(cli.quiet, io::stdout().is_terminal());
        let mut out = output::Output::new(&mut stdout, &mut stderr, cli.json).styled(style);
        let result = commands::run(cli, &mut out);
        match result {
            Ok(status) => out.finish().map(|()| status).map_err(anyhow::Error::from),
            Err(e) => Err(e),
        }
    };
    match result {
        Ok(status) => status.code(),
        Err(err) if is_broken_pipe(&err) => 0,
        Err(err) => {
            // One line, whatever the message quotes (paths, labels, a server's words).
            let message = text::sanitize(&format!("{err:#}"));
            let hint = error::hint_for(&err).map(|h| text::sanitize(&h));
            let code = error::exit_code_for(&err);
            let _ = writeln!(stderr, "certtool: error: {message}");
            if let Some(hint) = &hint {
                let _ = writeln!(stderr, "  hint: {hint}");
            }
            // Scripts that parse stdout get JSON there too.
            if cli.json {
                let _ = output::json_error(&mut stdout, &message, hint.as_deref(), code);
            }
            code
        }
    }
}

/// For a usage error that clap is about to print: when `--json` was asked for, the JSON error
/// object on stdout too (help and version requests are not errors).
pub fn report_usage_error(err: &clap::Error) {
    use clap::error::ErrorKind;
    let asked_for_json = std::env::args_os().skip(1).any(|a| a == "--json");
    if !asked_for_json
        || matches!(
            err.kind(),
            ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
        )
    {
        return;
    }
    let text = err.to_string();
    let message = text
        .lines()
        .next()
        .unwrap_or("usage error")
        .trim_start_matches("error: ");
    let _ = output::json_error(
        &mut io::stdout().lock(),
        &text::sanitize(message),
        Some("see certtool --help"),
        ExitStatus::ERROR_CODE,
    );
}

/// clap suggests the nearest subcommand: for `certtool version` that is `verify`, which is
/// not what anyone typing it wants. Point at `--version` instead (and `--help` for `help`-like
/// words clap does not know).
#[must_use]
pub fn better_suggestion(err: clap::Error) -> clap::Error {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    let typed = match err.get(ContextKind::InvalidSubcommand) {
        Some(ContextValue::String(typed)) if err.kind() == ErrorKind::InvalidSubcommand => typed,
        _ => return err,
    };
    let tip = match typed.as_str() {
        "version" | "-version" | "ver" => "to print the version, use 'certtool --version'",
        "usage" | "-help" | "man" => "for help, use 'certtool --help' or 'certtool COMMAND --help'",
        _ => return err,
    };
    let mut better = clap::Error::new(ErrorKind::InvalidSubcommand).with_cmd(&cli_command());
    better.insert(
        ContextKind::InvalidSubcommand,
        ContextValue::String(typed.clone()),
    );
    better.insert(
        ContextKind::Suggested,
        ContextValue::StyledStrs(vec![tip.into()]),
    );
    if let Some(usage) = err.get(ContextKind::Usage) {
        better.insert(ContextKind::Usage, usage.clone());
    }
    better
}

fn cli_command() -> clap::Command {
    <cli::Cli as clap::CommandFactory>::command()
}

/// Before any key or secret is read: no core dump, and no ptrace attach or /proc/PID/mem read
/// by other processes of the same user (`PR_SET_DUMPABLE` 0). Best effort: a refusal is harmless.
fn protect_process_memory() {
    let _ = nix::sys::prctl::set_dumpable(false);
    if let Ok((_, hard)) = nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_CORE)
    {
        let _ = nix::sys::resource::setrlimit(nix::sys::resource::Resource::RLIMIT_CORE, 0, hard);
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}
