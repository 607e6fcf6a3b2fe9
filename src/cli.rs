//! Command-line definitions (clap) and nothing else.
//!
//! This is the single source of `--help`, the man pages in `man/` and the shell completions, so
//! every argument's first doc line is its short help and each command's long help ends with
//! examples and an "Exit status" paragraph.

// Doc comments here are --help and man page text for users, not rustdoc: no Markdown backticks.
#![allow(clippy::doc_markdown)]

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::pki::KeyType;
use crate::pki::validity::parse_days;

/// Provision TLS certificates and secrets for InfluxDB, Telegraf and Prometheus, and prove they work.
///
/// certtool replaces the page of `openssl req`, `chmod 600` and hand-edited configs with one safe,
/// scriptable command per step. Files are written atomically with their final modes (certificates
/// 0644, private keys 0600) whatever the umask, existing files are never replaced without --force,
/// and symlinks at output paths are refused.
#[derive(Debug, Parser)]
#[command(
    name = "certtool",
    version = VERSION,
    propagate_version = true,
    after_long_help = TOP_HELP,
    max_term_width = 100
)]
pub struct Cli {
    /// Print one JSON object on stdout instead of text (never contains secret material)
    #[arg(long, global = true)]
    pub json: bool,

    /// Print only errors, warnings and what the command exists to print (a token, a snippet)
    #[arg(long, short, global = true)]
    pub quiet: bool,

    #[command(subcommand)]
    pub command: Command,
}

/// `certtool --version`: the name, the version and what this certtool is, so that GnuTLS's tool
/// of the same name (Debian's gnutls-bin ships /usr/bin/certtool) cannot be mistaken for it.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (TLS certificates and secrets for InfluxDB, Telegraf and Prometheus; not GnuTLS's certtool)"
);

const TOP_HELP: &str = "\
Examples:
  certtool selfsigned --host influx.example.com --host 127.0.0.1 --days 365
  certtool inspect influx.example.com.crt --key influx.example.com.key
  certtool perms --fix --owner influxdb:influxdb /etc/ssl/influxdb/*

Exit status:
  0  success; every check passed
  1  a check said no (expired, mismatched key, wrong permissions, handshake failed)
  2  usage error, bad input or I/O error (nothing half-written is left behind)";

// Subcommands are defined lazily (`defer`): only the one invoked is built, so start-up does not
// grow with the number of commands. A deferred command's own doc comment is applied only when it
// is built, so each variant carries the one line its parent's command list shows (a test checks
// that it is the command's own first line, and that no list has a blank entry).
#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum Command {
    /// Create a private key and a self-signed server certificate for one or more hosts
    Selfsigned(SelfsignedArgs),
    /// A local certificate authority for servers and clients that must trust each other
    #[command(subcommand)]
    Ca(CaCommand),
    /// A key and a certificate signing request (CSR) for a CA to sign
    Csr(CsrArgs),
    /// Install the certificate a CA sent back: checked, with its chain in order, beside its key
    Import(ImportArgs),
    /// Certificates from an ACME CA (Let's Encrypt, step-ca, ...): issue, and renew when due
    #[command(subcommand)]
    Acme(AcmeCommand),
    /// Check certificates for expiry, with exit codes scripts can trust
    Check(CheckArgs),
    /// Re-issue a certificate with the same names, and replace it atomically
    Renew(RenewArgs),
    /// Config snippets for InfluxDB, Telegraf and Prometheus, printed or edited into place.
    ///
    /// Each snippet comes from a template in `templates/` (built in; --template-dir overrides them
    /// by file name). Paths are made absolute. With --in-place FILE, only the keys certtool owns
    /// change: comments, blank lines, key order and every other value stay byte for byte; a key
    /// replaces its commented default (`# https-enabled = false`) where there is one. The old file
    /// is kept as FILE.bak, the new one keeps its mode and owner, a second run changes nothing, and
    /// --dry-run prints a unified diff instead of writing.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Prove that a certificate works end to end, and exit non-zero when anything is off
    Verify(VerifyArgs),
    /// Show what a certificate, chain or private key file holds
    Inspect(InspectArgs),
    /// Check (and with --fix correct) the modes and owners of certificate, key and secret files
    Perms(PermsArgs),
    /// Shared secrets for InfluxDB's token authentication
    #[command(subcommand)]
    Secret(SecretCommand),
    /// JSON Web Tokens for InfluxDB 1.x shared-secret authentication
    #[command(subcommand)]
    Jwt(JwtCommand),
    /// One command from a bare host to verified HTTPS (and auth) for a server
    #[command(subcommand)]
    Provision(ProvisionCommand),
    /// Ask, on a terminal, what to provision; then run (and print) that provision command
    Init(InitArgs),
    /// Check a server's security posture against its operator guide (read only)
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Print a shell completion script
    Completions(CompletionsArgs),
}

/// The `audit` subcommands (described on `Command::Audit`).
#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum AuditCommand {
    /// InfluxDB 1.x: HTTPS, authentication and its secret, the RPC port, debug endpoints
    Influxdb(AuditInfluxdbArgs),
    /// Prometheus: its web config (TLS, basic auth) and its scrape jobs
    Prometheus(AuditWebArgs),
    /// node exporter: its web config (TLS, basic auth)
    NodeExporter(AuditWebArgs),
    /// Telegraf: its InfluxDB outputs (https, verification, the CA, passwords)
    Telegraf(AuditTelegrafArgs),
}

/// What every server audit takes.
#[derive(Debug, Args)]
pub struct AuditCommonArgs {
    /// Also check the running server at this URL: what it serves, and whether a request
    /// without credentials is refused
    #[arg(long, value_name = "https://HOST:PORT")]
    pub url: Option<String>,

    /// A name clients use, which the certificate must cover; repeatable (the --url's host too)
    #[arg(long = "host", value_name = "NAME|IP")]
    pub hosts: Vec<String>,

    /// The CA clients trust, for --url [default: the system's roots]
    #[arg(long, value_name = "FILE")]
    pub ca: Option<PathBuf>,

    /// The account the service runs as, which should own its key [default: influxdb, prometheus]
    #[arg(long, value_name = "USER")]
    pub service_user: Option<String>,

    /// Exit 1 on warnings too
    #[arg(long)]
    pub strict: bool,

    /// How long --url may take
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = crate::duration::parse)]
    pub timeout: std::time::Duration,
}

/// InfluxDB 1.x: HTTPS, authentication and its secret, the RPC port, debug endpoints.
///
/// Checks influxdb.conf (with --env-file, the variables influxd reads instead, as
/// INFLUXDB_HTTP_AUTH_ENABLED) against "Managing InfluxDB security": HTTPS on, with a
/// certificate and key that exist, match, are in date, cover the hosts, and a key only the
/// service reads; auth-enabled; a shared-secret that is set (a blank one lets anyone forge
/// tokens on InfluxDB before 1.7.6, CVE-2019-20933), at least 32 bytes, and not in a file
/// every user reads; the backup/restore RPC port on loopback; pprof endpoints not open while
/// auth is off; the data directories closed to other users (there is no encryption at rest).
/// One line per finding, with the command that fixes it. Reads only.
#[derive(Debug, Args)]
#[command(after_long_help = AUDIT_HELP)]
pub struct AuditInfluxdbArgs {
    /// influxd's config file
    #[arg(
        long,
        value_name = "FILE",
        default_value = "/etc/influxdb/influxdb.conf"
    )]
    pub config: PathBuf,

    /// The environment file influxd's unit reads (Debian: /etc/default/influxdb)
    #[arg(long, value_name = "FILE")]
    pub env_file: Option<PathBuf>,

    #[command(flatten)]
    pub common: AuditCommonArgs,
}

/// Prometheus or node exporter: its web config (TLS, basic auth), and Prometheus's scrape jobs.
///
/// The web config (--web.config.file) must have tls_server_config (an empty one passes
/// promtool, yet serves plain HTTP) with a certificate and key that exist, match, are in date
/// and cover the hosts, min_version TLS12 or later, and basic_auth_users with bcrypt hashes of
/// cost 10 or more; client_auth_type is noted. For Prometheus, --config prometheus.yml: jobs
/// with insecure_skip_verify (FAIL, unless --allow-insecure), and jobs over http to targets
/// that serve https (warn). Reads only.
#[derive(Debug, Args)]
#[command(after_long_help = AUDIT_HELP)]
pub struct AuditWebArgs {
    /// The web config the server reads
    #[arg(long, value_name = "FILE")]
    pub web_config: PathBuf,

    /// prometheus.yml, for its scrape jobs (Prometheus only)
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// insecure_skip_verify in a scrape job is a warning, not a failure
    #[arg(long)]
    pub allow_insecure: bool,

    #[command(flatten)]
    pub common: AuditCommonArgs,
}

/// Telegraf: its InfluxDB outputs (https, verification, the CA, passwords).
///
/// Each [[outputs.influxdb]]: URLs on plain http (warn; said when the same server serves
/// https), insecure_skip_verify = true (FAIL), a tls_ca that exists and, with --url, is the CA
/// the server's chain leads to, and a password written in the file rather than taken from the
/// environment (${INFLUX_PASSWORD}) (warn). Reads only.
#[derive(Debug, Args)]
#[command(after_long_help = AUDIT_HELP)]
pub struct AuditTelegrafArgs {
    /// telegraf.conf (or a file in telegraf.d)
    #[arg(
        long,
        value_name = "FILE",
        default_value = "/etc/telegraf/telegraf.conf"
    )]
    pub config: PathBuf,

    /// The InfluxDB the outputs write to, to check tls_ca against what it serves
    #[arg(long, value_name = "https://HOST:PORT")]
    pub url: Option<String>,

    /// Exit 1 on warnings too
    #[arg(long)]
    pub strict: bool,

    /// How long --url may take
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = crate::duration::parse)]
    pub timeout: std::time::Duration,
}

const AUDIT_HELP: &str = "\
Examples:
  sudo certtool audit influxdb --config /etc/influxdb/influxdb.conf \\
      --env-file /etc/default/influxdb
  sudo certtool audit influxdb --url https://influx.example.com:8086 \\
      --ca /etc/ssl/metrics-ca/ca.crt
  sudo certtool audit prometheus --web-config /etc/prometheus/web-config.yml \\
      --config /etc/prometheus/prometheus.yml --url https://localhost:9090 --ca ca.crt
  certtool audit telegraf --config /etc/telegraf/telegraf.conf --json

Exit status:
  0  no finding failed (with --strict: none warned either)
  1  a finding failed (or warned, with --strict)
  2  usage error or bad input (a missing or unparseable config)";

/// Ask, on a terminal, what to provision; then run (and print) that provision command.
///
/// The questions: which server (InfluxDB 1.x, Prometheus, node exporter), its host names
/// (pre-filled from this machine's name and addresses), self-signed or a local CA, validity,
/// where the files go, authentication, which config (and for Prometheus and node exporter which
/// environment file's ARGS) to edit, the reload command, verification and a renewal timer.
/// Nothing is written until the last answer: the equivalent certtool provision command is
/// shown, run on confirmation, and printed again so the next time is scriptable. Without a
/// terminal it never asks: it exits 2 naming the provision commands. Ctrl-C at any question
/// leaves nothing written.
#[derive(Debug, Args)]
#[command(after_long_help = INIT_HELP)]
pub struct InitArgs {}

const INIT_HELP: &str = "\
Examples:
  sudo certtool init
  certtool provision influxdb --help

Exit status:
  0  the provision command ran (see its own exit status), or nothing was to be done
  1  the provision command found a check that failed
  2  no terminal to ask on, Ctrl-C, or the provision command's input error";

/// The `provision` subcommands (described on `Command::Provision`).
#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum ProvisionCommand {
    /// HTTPS, token authentication and the first admin user for InfluxDB 1.x, verified
    Influxdb(ProvisionInfluxdbArgs),
    /// TLS (and basic auth) for Prometheus's own web server, and its scrape job over https
    Prometheus(ProvisionWebArgs),
    /// TLS (and basic auth) for node exporter's web server, and Prometheus's job for it
    NodeExporter(ProvisionWebArgs),
}

/// TLS (and basic auth) for an exporter-toolkit web server (Prometheus, node exporter), verified.
///
/// The steps of provision influxdb for a server configured with --web.config.file: the local CA
/// (--ca-dir), the key and certificate, the web config (tls_server_config; mutual TLS with
/// --client-ca; with --basic-auth-user, basic_auth_users with a bcrypt hash of the password from
/// the secret source: an existing hash of the same password is kept, so a second run changes
/// nothing), the scrape job in prometheus.yml (--config, --job: scheme https, tls_config, and
/// basic_auth with the password file), --reload, and --verify (TLS, the service, and with basic
/// auth: 401 without credentials, 200 with them).
#[allow(
    clippy::struct_excessive_bools,
    reason = "clap flags: each bool is one --flag of the command line"
)]
#[derive(Debug, Args)]
#[command(after_long_help = PROVISION_WEB_HELP)]
pub struct ProvisionWebArgs {
    #[command(flatten)]
    pub pair: ProvisionPairArgs,

    /// Base file name of the key and certificate [default: prometheus, node-exporter]
    #[arg(long, value_name = "BASE")]
    pub name: Option<String>,

    /// The web config the server reads (--web.config.file), written whole
    #[arg(long, value_name = "FILE")]
    pub web_config: PathBuf,

    /// The server's environment file (Debian: /etc/default/prometheus,
    /// /etc/default/prometheus-node-exporter), whose ARGS= gets --web.config.file=WEB_CONFIG;
    /// a new flag takes a restart, not a reload
    #[arg(long, value_name = "FILE")]
    pub env_file: Option<PathBuf>,

    /// CA whose client certificates are required (mutual TLS)
    #[arg(long, value_name = "FILE")]
    pub client_ca: Option<PathBuf>,

    /// Require this user (basic auth); the password comes from the secret source
    #[arg(long, value_name = "NAME")]
    pub basic_auth_user: Option<String>,

    #[command(flatten)]
    pub secret: SecretSourceArgs,

    /// bcrypt cost of the stored hash (4-31; each step doubles the time a login costs once)
    #[arg(long, value_name = "N", default_value_t = 10, value_parser = clap::value_parser!(u32).range(4..=31))]
    pub bcrypt_cost: u32,

    /// prometheus.yml whose --job is to scrape this server over https
    #[arg(long, value_name = "FILE", requires = "job")]
    pub config: Option<PathBuf>,

    /// The scrape job to add or turn to https (Debian's: prometheus, node)
    #[arg(long, value_name = "NAME", requires = "config")]
    pub job: Option<String>,

    /// With --job: the job's target [default: FIRST-HOST:PORT]
    #[arg(long, value_name = "HOST:PORT", requires = "job")]
    pub target: Option<String>,

    /// The port the server listens on [default: 9090 for Prometheus, 9100 for node exporter]
    #[arg(long, value_name = "PORT")]
    pub port: Option<u16>,

    /// Command that makes the server read the new files (exporter-toolkit re-reads the web
    /// config itself; prometheus.yml needs a reload); run only when something changed
    #[arg(long, value_name = "COMMAND")]
    pub reload: Option<String>,

    /// Probe the running server at the end
    #[arg(long)]
    pub verify: bool,
}

const PROVISION_WEB_HELP: &str = "\
Examples:
  sudo certtool provision prometheus --host prometheus.example.com --host localhost \\
      --out-dir /etc/ssl/prometheus --owner prometheus:prometheus \\
      --web-config /etc/prometheus/web-config.yml --config /etc/prometheus/prometheus.yml \\
      --job prometheus --reload 'systemctl reload prometheus' --verify
  sudo certtool provision node-exporter --host localhost --out-dir /etc/ssl/node-exporter \\
      --web-config /etc/prometheus/node-web.yml \\
      --env-file /etc/default/prometheus-node-exporter --basic-auth-user prom \\
      --secret-file /etc/prometheus/node.password \\
      --reload 'systemctl restart prometheus-node-exporter' --verify

Exit status:
  0  every step done (or already done)
  1  a check said no (--verify)
  2  usage error, bad input or an I/O error; the steps before the failed one stay done";

/// What every `provision` takes for the server's pair, and how the run goes.
#[derive(Debug, Args)]
pub struct ProvisionPairArgs {
    #[command(flatten)]
    pub hosts: HostArgs,

    /// Days of validity of a new certificate [default: 365; at most 36500]
    #[arg(long, value_name = "N", value_parser = parse_days)]
    pub days: Option<u32>,

    /// Key type
    #[arg(long, value_enum, default_value_t = KeyType::EcdsaP256, value_name = "TYPE")]
    pub key_type: KeyType,

    /// Directory for the key and certificate (NAME.key, NAME.crt); created (0755) if missing
    #[arg(long, value_name = "DIR")]
    pub out_dir: PathBuf,

    /// Issue from the local CA in DIR (ca.crt, ca.key; created if DIR has none) [default: self-signed]
    #[arg(long, value_name = "DIR")]
    pub ca_dir: Option<PathBuf>,

    /// Owner of the files written (needs root), e.g. influxdb:influxdb
    #[arg(long, value_name = "USER[:GROUP]")]
    pub owner: Option<String>,

    /// Renew a certificate that expires within this window
    #[arg(long, value_name = "DURATION", default_value = "30d", value_parser = crate::duration::parse)]
    pub renew_within: std::time::Duration,

    /// Also write a systemd service and timer that renew the certificate daily (and run
    /// --reload after a renewal)
    #[arg(long)]
    pub renew_timer: bool,

    /// Where --renew-timer writes the units
    #[arg(
        long,
        value_name = "DIR",
        default_value = "/etc/systemd/system",
        requires = "renew_timer"
    )]
    pub systemd_dir: PathBuf,

    /// Show the plan (and the config diff); write nothing
    #[arg(long)]
    pub dry_run: bool,
}

/// HTTPS, token authentication and the first admin user for InfluxDB 1.x, verified.
///
/// Runs the steps an operator runs by hand, in order, each reported as created, changed,
/// unchanged, skipped or failed: the local CA (with --ca-dir; made if DIR has none), the key and
/// certificate (0600/0644; re-issued only when the hosts, the issuer or the key type changed, or
/// it expires within --renew-within), the [http] section of the config (https-*, and with --auth
/// auth-enabled), the shared secret in an environment file (an existing one is kept; without a
/// secret source one is generated), --reload (run only when something influxd reads changed),
/// the first admin user (with auth on and no users influxd accepts CREATE USER ... WITH ALL
/// PRIVILEGES; the password comes from a file, never argv; an existing user is checked), and
/// --verify (TLS with the certificate or CA, /ping, and with --auth a token 200, no token 401).
/// A second identical run changes nothing and runs no reload. A failed step leaves the steps
/// before it done; fix the cause and run again. --dry-run shows the plan and the config diff
/// (secrets masked) and writes nothing.
#[allow(
    clippy::struct_excessive_bools,
    reason = "clap flags: each bool is one --flag of the command line"
)]
#[derive(Debug, Args)]
#[command(
    after_long_help = PROVISION_INFLUXDB_HELP,
    mut_arg("secret_file", |a| a.requires("auth")),
    mut_arg("secret_env", |a| a.requires("auth")),
    mut_arg("secret_stdin", |a| a.requires("auth")),
    mut_arg("from_config", |a| a.requires("auth"))
)]
pub struct ProvisionInfluxdbArgs {
    #[command(flatten)]
    pub pair: ProvisionPairArgs,

    /// Base file name of the key and certificate
    #[arg(long, value_name = "BASE", default_value = "influxdb")]
    pub name: String,

    /// The InfluxDB 1.x config to edit in place (kept as FILE.bak when it changes)
    #[arg(long, value_name = "FILE")]
    pub config: PathBuf,

    /// Turn on authentication with a shared secret for tokens
    #[arg(long)]
    pub auth: bool,

    #[command(flatten)]
    pub secret: SecretSourceArgs,

    /// Where INFLUXDB_HTTP_SHARED_SECRET=... goes (0600) [default: influxdb.env beside the config]
    #[arg(long, value_name = "PATH", requires = "auth")]
    pub env_file: Option<PathBuf>,

    /// The first admin user, created if it does not exist (needs --auth)
    #[arg(long, value_name = "NAME", requires_all = ["auth", "admin_password_file"])]
    pub admin_user: Option<String>,

    /// File holding the admin user's password (never a plain argument)
    #[arg(long, value_name = "FILE", requires = "admin_user")]
    pub admin_password_file: Option<PathBuf>,

    /// Also point this telegraf.conf's [[outputs.influxdb]] at the server over HTTPS (tls_ca)
    #[arg(long, value_name = "FILE")]
    pub telegraf_conf: Option<PathBuf>,

    /// The URL Telegraf writes to [default: https://FIRST-HOST:PORT]
    #[arg(long, value_name = "URL", requires = "telegraf_conf")]
    pub telegraf_url: Option<String>,

    /// With --telegraf-conf: the InfluxDB user Telegraf writes as (password from its
    /// environment, ${INFLUX_PASSWORD})
    #[arg(long, value_name = "USER", requires = "telegraf_conf")]
    pub telegraf_user: Option<String>,

    /// Command that makes influxd read the new files, e.g. 'systemctl restart influxdb'; run
    /// only when something it reads changed
    #[arg(long, value_name = "COMMAND")]
    pub reload: Option<String>,

    /// Probe the running server at the end (TLS, /ping, and with --auth the tokens)
    #[arg(long)]
    pub verify: bool,

    /// Where influxd answers [default: https://FIRST-HOST:PORT, PORT from the config's [http]
    /// bind-address (8086), connecting to 127.0.0.1]
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
}

const PROVISION_INFLUXDB_HELP: &str = "\
Examples:
  sudo certtool provision influxdb --host influx.example.com --host localhost \\
      --out-dir /etc/ssl/influxdb --owner influxdb:influxdb --config /etc/influxdb/influxdb.conf \\
      --auth --env-file /etc/default/influxdb --admin-user admin \\
      --admin-password-file /etc/influxdb/admin.password \\
      --reload 'systemctl restart influxdb' --verify
  certtool provision influxdb --host localhost --out-dir ssl --config influxdb.conf --dry-run
  certtool provision influxdb --host localhost --out-dir ssl --config influxdb.conf --json \\
      | jq .changed

Exit status:
  0  every step done (or already done: \"changed\": false)
  1  a check said no (--verify, or an existing admin user that is not an admin)
  2  usage error, bad input or an I/O error; the steps before the failed one stay done";

/// Create a private key and a self-signed server certificate for one or more hosts.
///
/// Every --host becomes a subjectAltName (DNS name, wildcard or IP address); the first is also
/// the subject CN. The certificate is valid from five minutes ago (for clock skew) for --days
/// days, says CA:FALSE with keyUsage digitalSignature and extendedKeyUsage serverAuth, so that
/// OpenSSL, rustls, Go (influx, Telegraf, Prometheus) and Python all accept it as its own trust
/// anchor. Writes DIR/BASE.crt (0644) and DIR/BASE.key (0600, PKCS#8 PEM), all or nothing.
#[derive(Debug, Args)]
#[command(after_long_help = SELFSIGNED_HELP)]
pub struct SelfsignedArgs {
    #[command(flatten)]
    pub hosts: HostArgs,

    #[command(flatten)]
    pub validity: ValidityArgs,

    /// Key type
    #[arg(long, value_enum, default_value_t = KeyType::EcdsaP256, value_name = "TYPE")]
    pub key_type: KeyType,

    #[command(flatten)]
    pub output: OutputArgs,

    /// Also write key and certificate together in one PEM file (mode 0600), the single-file form
    /// InfluxDB accepts when https-private-key is left empty
    #[arg(long, value_name = "PATH")]
    pub bundle: Option<PathBuf>,

    /// Write only the --bundle file, not separate .crt and .key files
    #[arg(long, requires = "bundle", conflicts_with_all = ["cert_out", "key_out"])]
    pub bundle_only: bool,
}

const SELFSIGNED_HELP: &str = "\
Examples:
  certtool selfsigned --host localhost --host 127.0.0.1 --host ::1
  certtool selfsigned --host influx.example.com --days 825 --out-dir /etc/ssl/influxdb \\
      --owner influxdb:influxdb
  certtool selfsigned --host '*.example.com' --key-type rsa-2048 --json
  certtool selfsigned --host old.test --not-before 2020-01-01 --not-after 2020-02-01

Exit status:
  0  the files were written
  2  usage error, bad input, an existing file without --force, or an I/O error; nothing is written";

/// The names a new certificate covers.
#[derive(Debug, Args)]
pub struct HostArgs {
    /// DNS name, wildcard (*.example.com) or IP address the certificate covers; repeatable
    #[arg(
        long = "host",
        value_name = "NAME|IP",
        required = true,
        allow_hyphen_values = true
    )]
    pub hosts: Vec<String>,
}

/// When a certificate is valid.
#[derive(Debug, Args)]
pub struct ValidityArgs {
    /// Days of validity, counted from notBefore [default: 365; at most 36500]
    #[arg(
        long,
        value_name = "N",
        value_parser = parse_days,
        conflicts_with = "not_after",
        allow_negative_numbers = true
    )]
    pub days: Option<u32>,

    /// Expiry as an RFC 3339 date or time (2027-01-31 or 2027-01-31T12:00:00Z), instead of --days
    #[arg(long, value_name = "DATE")]
    pub not_after: Option<String>,

    /// Start of validity as an RFC 3339 date or time [default: five minutes ago]
    #[arg(long, value_name = "DATE")]
    pub not_before: Option<String>,
}

impl ValidityArgs {
    /// The validity period these flags ask for, `default_days` long when no length is given.
    pub fn validity(
        &self,
        now: time::OffsetDateTime,
        default_days: u32,
    ) -> anyhow::Result<crate::pki::Validity> {
        use anyhow::Context as _;
        let date = |flag: &'static str, value: &Option<String>| {
            value
                .as_deref()
                .map(crate::pki::validity::parse_time)
                .transpose()
                .context(flag)
        };
        let not_before = date("--not-before", &self.not_before)?;
        let not_after = date("--not-after", &self.not_after)?;
        Ok(crate::pki::Validity::new(
            now,
            self.days,
            not_before,
            not_after,
            default_days,
        )?)
    }
}

/// `--force`, defined once: what it replaces is said in each command's help.
#[derive(Debug, Clone, Copy, Args)]
pub struct ForceArgs {
    /// Replace files that already exist (never through a symbolic link)
    #[arg(long)]
    pub force: bool,
}

/// `--template-dir`, defined once.
#[derive(Debug, Clone, Args)]
pub struct TemplateArgs {
    /// Directory whose templates (by file name) replace the built-in ones
    #[arg(long, value_name = "DIR")]
    pub template_dir: Option<PathBuf>,
}

/// Where a certificate and key are written.
#[derive(Debug, Args)]
pub struct OutputArgs {
    /// Directory for the files; created (0755) if missing
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub out_dir: PathBuf,

    /// Base file name [default: the first host, with a leading * written as _wildcard; ca for a CA]
    #[arg(long, value_name = "BASE")]
    pub name: Option<String>,

    /// Certificate path, instead of DIR/BASE.crt
    #[arg(long, value_name = "PATH")]
    pub cert_out: Option<PathBuf>,

    /// Private key path, instead of DIR/BASE.key
    #[arg(long, value_name = "PATH")]
    pub key_out: Option<PathBuf>,

    /// Owner of the written files (needs root), e.g. influxdb:influxdb; checked before writing
    #[arg(long, value_name = "USER[:GROUP]")]
    pub owner: Option<String>,

    #[command(flatten)]
    pub replace: ForceArgs,
}

/// The `ca` subcommands (described on `Command::Ca`).
#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum CaCommand {
    /// Create a local CA: a private key and a self-signed CA certificate
    Init(CaInitArgs),
    /// Issue a server (or mutual-TLS client) certificate signed by a local CA
    Issue(CaIssueArgs),
    /// Sign a certificate signing request (CSR) with a local CA
    Sign(CaSignArgs),
}

/// The `acme` subcommands (described on `Command::Acme`).
#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum AcmeCommand {
    /// Get a certificate from an ACME CA, answering its http-01 or tls-alpn-01 challenges
    Issue(AcmeIssueArgs),
    /// Renew an ACME certificate when it is due (cron-safe: quiet and quick when not)
    Renew(AcmeRenewArgs),
}

/// How certtool talks to the ACME CA and answers its challenges.
#[derive(Debug, Args)]
pub struct AcmeClientArgs {
    /// The CA's directory URL, or letsencrypt, letsencrypt-staging
    #[arg(long, value_name = "URL")]
    pub directory: String,

    /// Contact address for the account (the CA's expiry and policy mail)
    #[arg(long, value_name = "ADDRESS")]
    pub email: Option<String>,

    /// The challenge to answer: http-01 (the CA fetches a token over HTTP on port 80) or
    /// tls-alpn-01 (the CA makes a TLS handshake on port 443)
    #[arg(long, value_enum, default_value_t = AcmeChallenge::Http01)]
    pub challenge: AcmeChallenge,

    /// Port of the built-in tls-alpn-01 listener (the CA connects to port 443 unless told
    /// otherwise)
    #[arg(long, value_name = "PORT", default_value_t = 443)]
    pub tls_port: u16,

    /// Port of the built-in http-01 listener (the CA connects to port 80 unless told otherwise)
    #[arg(
        long,
        value_name = "PORT",
        default_value_t = 80,
        conflicts_with = "webroot"
    )]
    pub http_port: u16,

    /// Address the built-in listener binds to
    #[arg(
        long,
        value_name = "IP",
        default_value = "0.0.0.0",
        conflicts_with = "webroot"
    )]
    pub bind: std::net::IpAddr,

    /// Answer http-01 through a running web server instead: challenge files go under
    /// DIR/.well-known/acme-challenge/ and are removed afterwards
    #[arg(long, value_name = "DIR")]
    pub webroot: Option<PathBuf>,

    /// Where the account is kept (one per CA) [default: /var/lib/certtool/acme as root, else
    /// ~/.local/share/certtool/acme]
    #[arg(long, value_name = "DIR")]
    pub account_dir: Option<PathBuf>,

    /// Trust only these roots for the CA's own HTTPS (a test or internal ACME server)
    /// [default: the system's trust store]
    #[arg(long, value_name = "FILE")]
    pub ca_bundle: Option<PathBuf>,

    /// How long the whole exchange may take
    #[arg(long, value_name = "DURATION", default_value = "90s", value_parser = crate::duration::parse)]
    pub timeout: std::time::Duration,
}

/// The ACME challenge types certtool answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AcmeChallenge {
    /// The CA fetches http://NAME/.well-known/acme-challenge/TOKEN
    #[value(name = "http-01")]
    Http01,
    /// The CA makes a TLS handshake with ALPN acme-tls/1 to NAME:443
    #[value(name = "tls-alpn-01")]
    TlsAlpn01,
}

/// Get a certificate from an ACME CA, answering its http-01 or tls-alpn-01 challenges.
///
/// Registers an account once per CA (its key 0600 in --account-dir, reused after), orders a
/// certificate for every --host (DNS names, and IP addresses where the CA allows them, RFC
/// 8738), answers the challenges with a built-in listener on --http-port or with files under
/// --webroot (http-01), or with a built-in TLS listener on --tls-port (tls-alpn-01), finalizes with a request for a new key (or --reuse-key: the existing one) made
/// by certtool itself, and writes DIR/BASE.crt (leaf and chain, 0644) and DIR/BASE.key (0600)
/// together, with --owner. Existing files are kept unless --force.
#[derive(Debug, Args)]
#[command(after_long_help = ACME_ISSUE_HELP)]
pub struct AcmeIssueArgs {
    #[command(flatten)]
    pub hosts: HostArgs,

    #[command(flatten)]
    pub client: AcmeClientArgs,

    /// Key type of the new key
    #[arg(long, value_enum, default_value_t = KeyType::EcdsaP256, value_name = "TYPE")]
    pub key_type: KeyType,

    /// Keep the key already at DIR/BASE.key (only the certificate is replaced)
    #[arg(long)]
    pub reuse_key: bool,

    #[command(flatten)]
    pub output: OutputArgs,
}

const ACME_ISSUE_HELP: &str = "\
Examples:
  sudo certtool acme issue --directory letsencrypt --host influx.example.com \\
      --email ops@example.com --out-dir /etc/ssl/influxdb --name influxdb --owner influxdb:
  sudo certtool acme issue --directory https://ca.internal:9000/acme/acme/directory \\
      --ca-bundle /etc/ssl/internal-root.crt --host grafana.internal --webroot /var/www/html

Exit status:
  0  the certificate and key were written
  1  the CA refused or could not be reached (the reason and a hint are printed)
  2  usage error, bad input, a port in use, an existing file without --force, or an I/O
     error; nothing is written";

/// Renew an ACME certificate when it is due (cron-safe: quiet and quick when not).
///
/// Due means: it expires within --within, or the CA's ACME Renewal Information (RFC 9773)
/// suggests a window that has begun (asked at most as often as the CA's Retry-After says; the
/// answer is kept beside the account). When due, it orders a certificate for the same names
/// from the same CA, replaces CERT and its key (kept as .bak; --reuse-key keeps the key), and
/// then runs --exec. No random sleep: leave jitter to the timer (renew --install-timer).
#[derive(Debug, Args)]
#[command(after_long_help = ACME_RENEW_HELP)]
pub struct AcmeRenewArgs {
    /// The certificate to renew
    #[arg(value_name = "CERT")]
    pub cert: PathBuf,

    /// Its private key [default: CERT with .key]
    #[arg(long, value_name = "KEY")]
    pub key: Option<PathBuf>,

    #[command(flatten)]
    pub client: AcmeClientArgs,

    /// Renew when the certificate expires within this time
    #[arg(long, value_name = "DURATION", default_value = "30d", value_parser = crate::duration::parse)]
    pub within: std::time::Duration,

    /// Keep the existing key
    #[arg(long)]
    pub reuse_key: bool,

    /// Command to run after a renewal (only then), e.g. 'systemctl restart influxdb'
    #[arg(long, value_name = "COMMAND")]
    pub exec: Option<String>,
}

const ACME_RENEW_HELP: &str = "\
Examples:
  sudo certtool acme renew /etc/ssl/influxdb/influxdb.crt --directory letsencrypt \\
      --exec 'systemctl restart influxdb'

Exit status:
  0  renewed, or not due
  1  the CA refused or could not be reached, or the --exec command failed after a renewal
  2  usage error, bad input or an I/O error; the old files are left as they were";

/// Sign a certificate signing request (CSR) with a local CA.
///
/// The request's signature is checked (it was made with the key it names), and its hosts are
/// taken from its subjectAltNames (or its CN when it has none), refused when outside the CA's
/// name constraints as with `ca issue`. Everything else comes from certtool's leaf profile, as
/// for `ca issue`: CA:FALSE, keyUsage, extendedKeyUsage serverAuth (and clientAuth with
/// --client). Requested extensions the CA does not grant (CA:TRUE, other usages, other
/// extensions) are left out and listed. --out gets the leaf followed by the CA's chain (0644);
/// the key stays with whoever made the request.
#[derive(Debug, Args)]
#[command(after_long_help = CA_SIGN_HELP)]
pub struct CaSignArgs {
    /// The certificate signing request (PEM or DER)
    #[arg(value_name = "CSR")]
    pub csr: PathBuf,

    /// The CA certificate (from `certtool ca init`)
    #[arg(long, value_name = "FILE")]
    pub ca_cert: PathBuf,

    /// The CA private key; only read
    #[arg(long, value_name = "FILE")]
    pub ca_key: PathBuf,

    #[command(flatten)]
    pub validity: ValidityArgs,

    /// Also allow TLS client authentication (extendedKeyUsage clientAuth), for mutual TLS
    #[arg(long)]
    pub client: bool,

    /// Where the certificate goes [default: the CSR's path with .crt for .csr]
    #[arg(long, value_name = "PATH")]
    pub out: Option<PathBuf>,

    /// Owner of the certificate file (needs root)
    #[arg(long, value_name = "USER[:GROUP]")]
    pub owner: Option<String>,

    #[command(flatten)]
    pub replace: ForceArgs,
}

const CA_SIGN_HELP: &str = "\
Examples:
  certtool ca sign influx.csr --ca-cert ca.crt --ca-key ca.key
  certtool ca sign telegraf.csr --ca-cert ca.crt --ca-key ca.key --client --days 90 \\
      --out telegraf.crt

Exit status:
  0  the certificate was written
  2  usage error, a bad or tampered request, a host outside the CA's name constraints, an
     existing file without --force, or an I/O error; nothing is written";

/// A key and a certificate signing request (CSR) for a CA to sign.
///
/// Writes DIR/BASE.key (a new key, 0600; or --key, an existing key, only read) and DIR/BASE.csr
/// (0644): CN the first host, every --host as a subjectAltName, keyUsage and extendedKeyUsage
/// serverAuth requested, signed with the key. Send BASE.csr to the CA (corporate, commercial,
/// or `certtool ca sign`); install what comes back with `certtool import`.
#[derive(Debug, Args)]
#[command(after_long_help = CSR_HELP)]
pub struct CsrArgs {
    #[command(flatten)]
    pub hosts: HostArgs,

    /// An existing private key to request a certificate for (only read), instead of a new one
    #[arg(long, value_name = "FILE", conflicts_with = "key_type")]
    pub key: Option<PathBuf>,

    /// Type of the new key [default: ecdsa-p256]
    #[arg(long, value_enum, value_name = "TYPE")]
    pub key_type: Option<KeyType>,

    /// Subject attributes besides the CN, e.g. 'O=Example Corp,OU=Operations,C=DE'
    /// (C, ST, L, O, OU)
    #[arg(long, value_name = "ATTRS")]
    pub subject: Option<String>,

    /// Directory for the files; created (0755) if missing
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub out_dir: PathBuf,

    /// Base file name [default: the first host, with a leading * written as _wildcard]
    #[arg(long, value_name = "BASE")]
    pub name: Option<String>,

    /// Owner of the written files (needs root), e.g. influxdb:influxdb
    #[arg(long, value_name = "USER[:GROUP]")]
    pub owner: Option<String>,

    #[command(flatten)]
    pub replace: ForceArgs,
}

const CSR_HELP: &str = "\
Examples:
  certtool csr --host influx.example.com --host influx --subject 'O=Example Corp,C=DE' \\
      --out-dir /etc/ssl/influxdb --name influxdb --owner influxdb:influxdb
  certtool csr --host influx.example.com --key /etc/ssl/influxdb/influxdb.key --name renewal

Exit status:
  0  the request (and a new key) was written
  2  usage error, bad input, an existing file without --force, or an I/O error; nothing is
     written";

/// Install the certificate a CA sent back: checked, with its chain in order, beside its key.
///
/// The certificates of --cert and every --chain file may come in any order, with duplicates and
/// unrelated certificates: the one whose public key matches --key is the leaf, and each next
/// certificate is the issuer of the one before (by name, key identifier and signature).
/// Duplicates and certificates outside the chain are left out and listed; the root is left out
/// too (servers should not send it) unless --include-root. The chain must end at a root: one
/// among the inputs, --root, or one the system trusts (/etc/ssl/certs, or $SSL_CERT_FILE);
/// otherwise the missing issuer is named and nothing is written (exit 1), unless
/// --allow-incomplete. The leaf must be valid now, a server certificate, and cover every --host.
/// Writes DIR/BASE.crt (the chain, 0644) and, when the key is not already there, DIR/BASE.key
/// (0600); by default DIR and BASE are the key's, so the certificate lands beside it.
#[allow(
    clippy::struct_excessive_bools,
    reason = "clap flags: each bool is one --flag of the command line"
)]
#[derive(Debug, Args)]
#[command(after_long_help = IMPORT_HELP)]
pub struct ImportArgs {
    /// The certificate the CA sent (it may hold the chain too)
    #[arg(long, value_name = "FILE")]
    pub cert: PathBuf,

    /// More certificates: intermediates, a bundle, in any order; repeatable
    #[arg(long, value_name = "FILE")]
    pub chain: Vec<PathBuf>,

    /// The private key the request was made with
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,

    /// A host the certificate must cover; repeatable
    #[arg(long = "host", value_name = "NAME|IP")]
    pub hosts: Vec<String>,

    /// The root CA the chain must end at, when it is not among the inputs or the system's
    #[arg(long, value_name = "FILE")]
    pub root: Option<PathBuf>,

    /// Write the chain even if it does not reach a root (clients may then fail to verify it)
    #[arg(long)]
    pub allow_incomplete: bool,

    /// Also write the root at the end of the chain
    #[arg(long)]
    pub include_root: bool,

    /// Directory for the files; created (0755) if missing [default: the key's directory]
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,

    /// Base file name [default: the key's file name without .key]
    #[arg(long, value_name = "BASE")]
    pub name: Option<String>,

    /// Owner of the written files (needs root), e.g. influxdb:influxdb
    #[arg(long, value_name = "USER[:GROUP]")]
    pub owner: Option<String>,

    #[command(flatten)]
    pub replace: ForceArgs,
}

const IMPORT_HELP: &str = "\
Examples:
  sudo certtool import --cert influx.example.com.crt --chain ca-bundle.crt \\
      --key /etc/ssl/influxdb/influxdb.key --host influx.example.com \\
      --out-dir /etc/ssl/influxdb --owner influxdb:influxdb
  certtool import --cert signed.pem --key influxdb.key --root corp-root.crt --json

Exit status:
  0  the files were written
  1  a check said no: the key does not match, the certificate is expired or not yet valid, not
     a server certificate, misses a --host, or its chain does not reach a root
  2  usage error, bad input, an existing file without --force, or an I/O error; nothing is
     written";

/// Create a local CA: a private key and a self-signed CA certificate.
///
/// The certificate says CA:TRUE (critical) with a path length (0: it signs server and client
/// certificates only), keyUsage keyCertSign and cRLSign, and a subjectKeyIdentifier. Clients
/// trust DIR/BASE.crt once; every certificate issued with `certtool ca issue` then chains to it.
/// With --permitted-dns, name constraints limit what the CA can sign, so a leaked CA key cannot
/// mint certificates for other domains; such a CA signs for no IP address unless --permitted-ip
/// names a range. Writes DIR/BASE.crt (0644) and DIR/BASE.key (0600), all or nothing.
#[derive(Debug, Args)]
#[command(
    after_long_help = CA_INIT_HELP,
    mut_arg("days", |a| a.help("Days of validity, counted from notBefore [default: 3650; at most 36500]"))
)]
pub struct CaInitArgs {
    /// Common name of the CA
    #[arg(long, value_name = "NAME", default_value = "certtool local CA")]
    pub cn: String,

    #[command(flatten)]
    pub validity: ValidityArgs,

    /// Key type
    #[arg(long, value_enum, default_value_t = KeyType::EcdsaP256, value_name = "TYPE")]
    pub key_type: KeyType,

    /// How many intermediate CAs may follow this one (0: it signs leaf certificates only)
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub path_len: u8,

    /// Permit only this domain and the names below it; repeatable
    #[arg(long = "permitted-dns", value_name = "DOMAIN")]
    pub permitted_dns: Vec<String>,

    /// Permit only IP addresses in this range (e.g. `127.0.0.0/8`, `::1/128`); repeatable
    #[arg(long = "permitted-ip", value_name = "CIDR")]
    pub permitted_ip: Vec<String>,

    #[command(flatten)]
    pub output: OutputArgs,
}

const CA_INIT_HELP: &str = "\
Examples:
  certtool ca init --out-dir /etc/ssl/local-ca
  certtool ca init --cn 'Metrics CA' --permitted-dns example.com --permitted-ip 127.0.0.0/8
  certtool ca init --days 1825 --key-type ecdsa-p384 --json

Exit status:
  0  the files were written
  2  usage error, bad input, an existing file without --force, or an I/O error; nothing is written";

/// Issue a server (or mutual-TLS client) certificate signed by a local CA.
///
/// The leaf has every --host as a subjectAltName, CA:FALSE, keyUsage digitalSignature
/// (+keyEncipherment for RSA), extendedKeyUsage serverAuth (and clientAuth with --client) and an
/// authorityKeyIdentifier. DIR/BASE.crt holds the leaf followed by the CA certificate: the full
/// chain that InfluxDB's https-certificate and Prometheus's `cert_file` expect. The CA key is only
/// read. A leaf never outlives its CA: a longer --days is shortened to the CA's expiry, with a
/// warning. A CA/key pair that do not match, a certificate that is not a CA, an expired CA, or a
/// host outside the CA's name constraints is refused before anything is written.
#[derive(Debug, Args)]
#[command(after_long_help = CA_ISSUE_HELP)]
pub struct CaIssueArgs {
    /// The CA certificate (from `certtool ca init`)
    #[arg(long, value_name = "FILE")]
    pub ca_cert: PathBuf,

    /// The CA private key; only read
    #[arg(long, value_name = "FILE")]
    pub ca_key: PathBuf,

    #[command(flatten)]
    pub hosts: HostArgs,

    #[command(flatten)]
    pub validity: ValidityArgs,

    /// Key type
    #[arg(long, value_enum, default_value_t = KeyType::EcdsaP256, value_name = "TYPE")]
    pub key_type: KeyType,

    /// Also allow TLS client authentication (extendedKeyUsage clientAuth), for mutual TLS
    #[arg(long)]
    pub client: bool,

    #[command(flatten)]
    pub output: OutputArgs,
}

const CA_ISSUE_HELP: &str = "\
Examples:
  certtool ca issue --ca-cert ca.crt --ca-key ca.key --host influx.example.com --host 127.0.0.1
  certtool ca issue --ca-cert ca.crt --ca-key ca.key --host '*.metrics.example.com' --days 90
  certtool ca issue --ca-cert ca.crt --ca-key ca.key --host telegraf-01 --client --name telegraf

Exit status:
  0  the files were written
  2  usage error, bad input (CA and key do not match, not a CA, expired CA, host outside the
     CA's name constraints), an existing file without --force, or an I/O error";

/// Check certificates for expiry, with exit codes scripts can trust.
///
/// Prints one line per certificate: path, subject, days left and status. A directory checks
/// every file directly inside it that holds a certificate (other files, such as keys, are
/// skipped); every certificate of a chain file is checked. Unlike `step certificate
/// needs-renewal`, success means nothing needs attention. --prometheus prints metrics in the text
/// exposition format for `node_exporter`'s textfile collector instead.
#[derive(Debug, Args)]
#[command(after_long_help = CHECK_HELP)]
pub struct CheckArgs {
    /// Certificate files or directories of them
    #[arg(value_name = "PATH", required = true)]
    pub paths: Vec<PathBuf>,

    /// Also fail for certificates that expire within this window, e.g. 30d [default: 0s]
    #[arg(long, value_name = "DURATION", value_parser = crate::duration::parse)]
    pub within: Option<std::time::Duration>,

    /// Print Prometheus metrics (`certtool_cert_not_after_seconds`, ...) instead of text
    #[arg(long)]
    pub prometheus: bool,
}

const CHECK_HELP: &str = "\
Examples:
  certtool check /etc/ssl/influxdb --within 30d || mail -s 'renew certificates' root
  certtool check --prometheus --within 21d /etc/ssl/influxdb \\
      > /var/lib/node_exporter/certtool.prom.tmp; mv /var/lib/node_exporter/certtool.prom{.tmp,}
  certtool check influxdb.crt --json | jq '.certificates[] | .days_left'

Exit status:
  0  every certificate is valid (and does not expire within --within)
  1  a certificate is expired, not yet valid, or expires within --within
  2  usage error, a path that cannot be read, or a file with no certificate in it";

/// Re-issue a certificate with the same names, and replace it atomically.
///
/// The new certificate keeps the subject, SANs, key type, client/server use and lifetime of the
/// old one (unless --days), and is self-signed, or signed by --ca-cert/--ca-key when the old one
/// came from a CA. A new key is generated unless --reuse-key. The old pair is kept as NAME.crt.bak
/// and NAME.key.bak; the new files take the old files' owner and mode (a key never more open
/// than 0640). With --within, nothing happens unless the certificate expires within the window,
/// so it can run daily from cron or a systemd timer; --exec runs a command after a renewal only.
#[derive(Debug, Args)]
#[command(after_long_help = RENEW_HELP)]
pub struct RenewArgs {
    /// The certificate to renew
    #[arg(value_name = "CERT")]
    pub cert: PathBuf,

    /// Its private key [default: CERT with the extension .key]
    #[arg(long, value_name = "KEY")]
    pub key: Option<PathBuf>,

    /// CA certificate to sign with (for a certificate issued by a CA)
    #[arg(long, value_name = "FILE", requires = "ca_key")]
    pub ca_cert: Option<PathBuf>,

    /// CA private key to sign with; only read
    #[arg(long, value_name = "FILE", requires = "ca_cert")]
    pub ca_key: Option<PathBuf>,

    /// Days of validity of the new certificate [default: the old certificate's lifetime]
    #[arg(long, value_name = "N", value_parser = parse_days, allow_negative_numbers = true)]
    pub days: Option<u32>,

    /// Renew only if the certificate expires within this window, e.g. 30d
    #[arg(long, value_name = "DURATION", value_parser = crate::duration::parse)]
    pub within: Option<std::time::Duration>,

    /// Keep the existing private key instead of generating a new one
    #[arg(long)]
    pub reuse_key: bool,

    /// Shell command to run after a renewal (not when nothing was due), e.g. 'systemctl reload influxdb'
    #[arg(long, value_name = "COMMAND")]
    pub exec: Option<String>,

    /// Instead of renewing now: write a systemd service and timer that run this renewal daily
    /// (--within defaults to 30d), with a randomized delay
    #[arg(long, conflicts_with = "cron")]
    pub install_timer: bool,

    /// Instead of renewing now: print the equivalent line for /etc/cron.d
    #[arg(long)]
    pub cron: bool,

    /// Where --install-timer writes the units
    #[arg(
        long,
        value_name = "DIR",
        default_value = "/etc/systemd/system",
        requires = "install_timer"
    )]
    pub systemd_dir: PathBuf,
}

const RENEW_HELP: &str = "\
Examples:
  certtool renew /etc/ssl/influxdb/influxdb.crt --within 30d --exec 'systemctl restart influxdb'
  certtool renew influx.crt --ca-cert ca.crt --ca-key ca.key --days 90
  certtool renew localhost.crt --reuse-key --json

Exit status:
  0  renewed, or not due (with --within)
  1  renewed, but the --exec command failed
  2  usage error, bad input (no key, key does not match with --reuse-key, a CA-issued
     certificate without --ca-cert), or an I/O error; the old files are left as they were";

/// The `config` subcommands (described on `Command::Config`).
#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum ConfigCommand {
    /// HTTPS (and token authentication) for InfluxDB 1.x: the `[http]` section of influxdb.conf
    Influxdb(ConfigInfluxdbArgs),
    /// TLS for InfluxDB 2.x: tls-cert, tls-key and tls-min-version in config.toml
    Influxdb2(ConfigInfluxdb2Args),
    /// Telegraf's output to InfluxDB over HTTPS, trusting a CA file rather than skipping checks
    Telegraf(ConfigTelegrafArgs),
    /// Prometheus's web config: TLS for its own HTTP server (--web.config.file)
    Prometheus(ConfigPrometheusArgs),
    /// A Prometheus scrape job over HTTPS: scheme https and tls_config with ca_file
    PrometheusScrape(ConfigPrometheusScrapeArgs),
}

/// How a snippet is applied.
#[derive(Debug, Args)]
pub struct EditArgs {
    /// Edit this config file in place (the old one is kept as FILE.bak)
    #[arg(long, value_name = "FILE")]
    pub in_place: Option<PathBuf>,

    /// With --in-place: print the unified diff and write nothing
    #[arg(long, requires = "in_place")]
    pub dry_run: bool,

    #[command(flatten)]
    pub templates: TemplateArgs,
}

impl EditArgs {
    /// An in-place edit of `path` with the built-in templates, as `provision` makes them.
    #[must_use]
    pub fn in_place(path: &std::path::Path, dry_run: bool) -> EditArgs {
        EditArgs {
            in_place: Some(path.to_path_buf()),
            dry_run,
            templates: TemplateArgs { template_dir: None },
        }
    }
}

/// The certificate and key a server presents, and the account it runs as.
#[derive(Debug, Args)]
pub struct ServerPairArgs {
    /// Server certificate (chain) file
    #[arg(
        long,
        value_name = "FILE",
        required_unless_present = "bundle",
        requires = "key"
    )]
    pub cert: Option<PathBuf>,

    /// Server private key file
    #[arg(
        long,
        value_name = "FILE",
        required_unless_present = "bundle",
        requires = "cert"
    )]
    pub key: Option<PathBuf>,

    /// Certificate (chain) and key in one PEM file (selfsigned --bundle), instead of --cert/--key
    #[arg(long, value_name = "FILE", conflicts_with_all = ["cert", "key"])]
    pub bundle: Option<PathBuf>,

    /// The account the service runs as, which must be able to read the key [default: the Debian
    /// package's user (influxdb, prometheus) when it exists]
    #[arg(long, value_name = "USER")]
    pub service_user: Option<String>,
}

/// HTTPS (and token authentication) for InfluxDB 1.x: the `[http]` section of influxdb.conf.
///
/// Sets https-enabled, https-certificate and https-private-key; with --auth also auth-enabled.
/// The shared secret for token authentication does not go into the config file by default:
/// it goes into an environment file (INFLUXDB_HTTP_SHARED_SECRET=..., mode 0600; --env-file,
/// default influxdb.env beside the edited config; when printing, only with --env-file), for
/// systemd's EnvironmentFile= or Debian's /etc/default/influxdb. --secret-in-config writes it
/// into the config instead, which then becomes a secret file (mode 0640 at most). The pair is
/// checked first: both files exist and the key matches the certificate. A file that does not
/// look like an InfluxDB 1.x config (no [meta], [data], [http] or similar section) is refused.
#[derive(Debug, Args)]
#[command(
    after_long_help = CONFIG_INFLUXDB_HELP,
    mut_arg("secret_file", |a| a.requires("auth")),
    mut_arg("secret_env", |a| a.requires("auth")),
    mut_arg("secret_stdin", |a| a.requires("auth")),
    mut_arg("from_config", |a| a.requires("auth"))
)]
pub struct ConfigInfluxdbArgs {
    #[command(flatten)]
    pub pair: ServerPairArgs,

    /// Also turn on authentication (auth-enabled = true) with a shared secret for tokens
    #[arg(long)]
    pub auth: bool,

    #[command(flatten)]
    pub secret: SecretSourceArgs,

    /// Where to write INFLUXDB_HTTP_SHARED_SECRET=... (mode 0600)
    #[arg(
        long,
        value_name = "PATH",
        requires = "auth",
        conflicts_with = "secret_in_config"
    )]
    pub env_file: Option<PathBuf>,

    /// Write shared-secret into the config file itself (needs --in-place)
    #[arg(long, requires_all = ["auth", "in_place"])]
    pub secret_in_config: bool,

    /// Replaces an existing environment file that holds another secret
    #[command(flatten)]
    pub replace: ForceArgs,

    #[command(flatten)]
    pub edit: EditArgs,
}

const CONFIG_INFLUXDB_HELP: &str = "\
Examples:
  certtool config influxdb --cert /etc/ssl/influxdb/influxdb.crt \\
      --key /etc/ssl/influxdb/influxdb.key
  certtool config influxdb --cert influxdb.crt --key influxdb.key \\
      --in-place /etc/influxdb/influxdb.conf
  certtool config influxdb --cert influxdb.crt --key influxdb.key --auth \\
      --secret-file shared.secret --in-place /etc/influxdb/influxdb.conf --dry-run

Exit status:
  0  printed, edited, or already as asked (\"unchanged\")
  2  usage error, a missing or mismatched certificate/key, a config that does not parse or is not
     an InfluxDB 1.x config, no usable secret, or an I/O error; the config is left as it was";

/// TLS for InfluxDB 2.x: tls-cert, tls-key and tls-min-version in config.toml.
///
/// Also prints the equivalent influxd flags. InfluxDB 2.x serves plain HTTP without a word when
/// only one of tls-cert and tls-key is set, so both are always written; and it refuses to start
/// when its config holds 1.x keys, so a 1.x file ([http], [meta], ...) is refused.
#[derive(Debug, Args)]
#[command(after_long_help = CONFIG_INFLUXDB2_HELP)]
pub struct ConfigInfluxdb2Args {
    #[command(flatten)]
    pub pair: ServerPairArgs,

    /// Also set tls-strict-ciphers = true (only strong cipher suites)
    #[arg(long)]
    pub strict_ciphers: bool,

    #[command(flatten)]
    pub edit: EditArgs,
}

const CONFIG_INFLUXDB2_HELP: &str = "\
Examples:
  certtool config influxdb2 --cert influxdb.crt --key influxdb.key
  certtool config influxdb2 --cert influxdb.crt --key influxdb.key --strict-ciphers \\
      --in-place /etc/influxdb/config.toml

Exit status:
  0  printed, edited, or unchanged
  2  usage error, a missing or mismatched certificate/key, a 1.x config, or an I/O error";

/// Telegraf's output to InfluxDB over HTTPS, trusting a CA file rather than skipping checks.
///
/// Prints (or edits into telegraf.conf) an [[outputs.influxdb]] block with urls and tls_ca, or
/// [[outputs.influxdb_v2]] with --v2 (token = "${INFLUX_TOKEN}", organization, bucket). In place:
/// a file with one such block gets that block updated (its URL too, so Telegraf stops writing
/// to a plain-HTTP URL); with several, the one whose URL has --url's host and port (whatever the
/// scheme) is updated, and none matching is an error listing them (--append adds another); a
/// new block goes after the last output block. --username writes password = "${INFLUX_PASSWORD}"
/// (Telegraf's environment substitution), never a password.
/// insecure_skip_verify = true only with --insecure-skip-verify, with a warning. If the URL's
/// host is not among the server certificate's names (from --cert, or --ca when it is the
/// self-signed server certificate itself), a warning suggests --server-name.
#[derive(Debug, Args)]
#[command(
    after_long_help = CONFIG_TELEGRAF_HELP,
    group = clap::ArgGroup::new("trust").required(true).multiple(false)
)]
pub struct ConfigTelegrafArgs {
    /// InfluxDB URL, e.g. https://influx.example.com:8086
    #[arg(long, value_name = "URL")]
    pub url: String,

    /// CA certificate (or the self-signed server certificate) Telegraf trusts
    #[arg(long, value_name = "FILE", group = "trust")]
    pub ca: Option<PathBuf>,

    /// Skip server certificate verification (insecure; prefer --ca)
    #[arg(long, group = "trust")]
    pub insecure_skip_verify: bool,

    /// The server's certificate, to check that it covers the URL's host
    #[arg(long, value_name = "FILE")]
    pub cert: Option<PathBuf>,

    /// Name to verify the server certificate against, when it differs from the URL's host
    #[arg(long, value_name = "NAME")]
    pub server_name: Option<String>,

    /// Database to write to (InfluxDB 1.x)
    #[arg(long, value_name = "NAME", conflicts_with = "v2")]
    pub database: Option<String>,

    /// Write to InfluxDB 2.x ([[outputs.influxdb_v2]])
    #[arg(long, requires_all = ["org", "bucket"])]
    pub v2: bool,

    /// Organization (InfluxDB 2.x)
    #[arg(long, value_name = "ORG", requires = "v2")]
    pub org: Option<String>,

    /// Bucket (InfluxDB 2.x)
    #[arg(long, value_name = "BUCKET", requires = "v2")]
    pub bucket: Option<String>,

    /// InfluxDB 1.x user; the password comes from Telegraf's environment, as ${INFLUX_PASSWORD}
    #[arg(long, value_name = "USER", conflicts_with = "v2")]
    pub username: Option<String>,

    /// With --in-place: add a block even though others exist and none is for this host:port
    #[arg(long, requires = "in_place")]
    pub append: bool,

    #[command(flatten)]
    pub edit: EditArgs,
}

const CONFIG_TELEGRAF_HELP: &str = "\
Examples:
  certtool config telegraf --url https://influx.example.com:8086 --ca /etc/ssl/metrics-ca/ca.crt
  certtool config telegraf --url https://127.0.0.1:8086 --ca influxdb.crt \\
      --server-name localhost --database metrics --in-place /etc/telegraf/telegraf.conf
  certtool config telegraf --url https://influx:8086 --ca ca.crt --v2 --org ops --bucket metrics

Exit status:
  0  printed, edited, or unchanged
  2  usage error, an unreadable CA, a config that does not parse or is not telegraf.conf, or an
     I/O error";

/// Prometheus's web config: TLS for its own HTTP server (--web.config.file).
///
/// tls_server_config with cert_file, key_file and min_version TLS12; with --client-ca, mutual
/// TLS (client_auth_type RequireAndVerifyClientCert and client_ca_file). certtool checks what
/// promtool does not: the files exist, the key matches the certificate, the certificate is
/// valid, and it covers --host. Unknown keys are fatal to Prometheus, so templates are checked.
#[derive(Debug, Args)]
#[command(after_long_help = CONFIG_PROMETHEUS_HELP, mut_arg("force", |a| a.requires("out")))]
pub struct ConfigPrometheusArgs {
    #[command(flatten)]
    pub pair: ServerPairArgs,

    /// CA whose client certificates are required (mutual TLS)
    #[arg(long, value_name = "FILE")]
    pub client_ca: Option<PathBuf>,

    /// Name clients use to reach Prometheus: warn unless the certificate covers it
    #[arg(long, value_name = "NAME")]
    pub host: Option<String>,

    /// Write the web config to this file (0644) instead of stdout
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// Replaces an existing --out file
    #[command(flatten)]
    pub replace: ForceArgs,

    #[command(flatten)]
    pub templates: TemplateArgs,
}

const CONFIG_PROMETHEUS_HELP: &str = "\
Examples:
  certtool config prometheus --cert prom.crt --key prom.key --out /etc/prometheus/web-config.yml
  certtool config prometheus --cert prom.crt --key prom.key --client-ca ca.crt \\
      --host prom.example.com

Exit status:
  0  printed or written
  2  usage error, a missing or mismatched certificate/key, an existing --out without --force";

/// A Prometheus scrape job over HTTPS: scheme https and tls_config with ca_file.
///
/// Printed at column 0 for pasting, or, with --in-place prometheus.yml, added to (or updated
/// in) its scrape_configs: the job called --job gets scheme https, tls_config (ca_file,
/// server_name, a client pair) and, with --username, basic_auth with password_file; its targets,
/// intervals and every comment stay as they are. A new job goes after the last one, at the
/// file's indentation. The result is parsed again before it is written; the old file is kept as
/// prometheus.yml.bak, a second run changes nothing, and --dry-run prints the diff.
/// --job prometheus turns Debian's default self-scrape job to https.
#[derive(Debug, Args)]
#[command(after_long_help = CONFIG_PROMETHEUS_SCRAPE_HELP)]
pub struct ConfigPrometheusScrapeArgs {
    /// CA certificate (or self-signed target certificate) to trust
    #[arg(long, value_name = "FILE")]
    pub ca: PathBuf,

    /// Target to scrape, HOST:PORT
    #[arg(long, value_name = "HOST:PORT", default_value = "localhost:9100")]
    pub target: String,

    /// Name to verify the target's certificate against, when it differs from the target's host
    #[arg(long, value_name = "NAME")]
    pub server_name: Option<String>,

    /// Job name
    #[arg(long, value_name = "NAME", default_value = "certtool-tls")]
    pub job: String,

    /// Client certificate, for targets that require mutual TLS
    #[arg(long, value_name = "FILE", requires = "client_key")]
    pub client_cert: Option<PathBuf>,

    /// Client key, for targets that require mutual TLS
    #[arg(long, value_name = "FILE", requires = "client_cert")]
    pub client_key: Option<PathBuf>,

    /// Basic auth user for the target (exporter-toolkit's basic_auth_users)
    #[arg(long, value_name = "USER", requires = "password_file")]
    pub username: Option<String>,

    /// File holding that user's password (basic_auth.password_file; read by Prometheus only)
    #[arg(long, value_name = "FILE", requires = "username")]
    pub password_file: Option<PathBuf>,

    #[command(flatten)]
    pub edit: EditArgs,
}

const CONFIG_PROMETHEUS_SCRAPE_HELP: &str = "\
Examples:
  certtool config prometheus-scrape --ca ca.crt --target node-1.example.com:9100 >> scrape.yml
  certtool config prometheus-scrape --ca prom.crt --target 127.0.0.1:9090 --server-name localhost
  certtool config prometheus-scrape --ca /etc/ssl/prometheus/prometheus.crt --job prometheus \\
      --in-place /etc/prometheus/prometheus.yml

Exit status:
  0  printed, edited, or unchanged
  2  usage error, an unreadable CA file, or a prometheus.yml that does not parse";

/// Prove that a certificate works end to end, and exit non-zero when anything is off.
///
/// With --cert and --key: starts a TLS server (rustls) on 127.0.0.1 with the pair and connects an
/// in-process client that trusts --ca (or, for a self-signed certificate, exactly that
/// certificate), for every --host (default: each SAN), with TLS 1.3 and TLS 1.2, and exchanges a
/// request and response. Each check is named: the key matches the certificate; it is in date; the
/// chain leads to the CA; each host is among its names; each handshake.
///
/// With --url: probes a running server: the handshake with real hostname verification and the
/// chain it serves, then InfluxDB's GET /ping (204) or Prometheus's GET /-/healthy (200); with
/// --user and a secret, that a token is accepted and a query without one refused (401).
///
/// With --launch influxdb|prometheus (and --cert/--key): starts the real server with the pair on a
/// free loopback port with temporary data, runs the --url probe against it, and stops it.
#[derive(Debug, Args)]
#[command(
    after_long_help = VERIFY_HELP,
    group = clap::ArgGroup::new("mode").required(true).args(["cert", "bundle", "url", "targets"]),
    mut_arg("template_dir", |a| a.requires("launch"))
)]
pub struct VerifyArgs {
    /// Certificate (chain) to verify with the integrated server, or to launch a server with
    #[arg(long, value_name = "FILE", requires = "key")]
    pub cert: Option<PathBuf>,

    /// Its private key
    #[arg(long, value_name = "FILE", requires = "cert")]
    pub key: Option<PathBuf>,

    /// Certificate (chain) and key in one PEM file, instead of --cert and --key
    #[arg(long, value_name = "FILE", conflicts_with_all = ["cert", "key", "url"])]
    pub bundle: Option<PathBuf>,

    /// With --launch: the account the real service runs as, which must be able to read the key
    /// [default: the Debian package's user (influxdb, prometheus) when it exists]
    #[arg(long, value_name = "USER", requires = "launch")]
    pub service_user: Option<String>,

    /// CA certificate(s) the client trusts [default: the certificate itself when self-signed;
    /// with --url, the public web roots]
    #[arg(long, value_name = "FILE")]
    pub ca: Option<PathBuf>,

    /// Host name or IP address to check; repeatable [default: every SAN]
    #[arg(long = "host", value_name = "NAME|IP")]
    pub hosts: Vec<String>,

    /// Probe a running server at https://HOST:PORT; repeatable: several are probed at once
    #[arg(id = "url", long = "url", value_name = "URL", conflicts_with_all = ["cert", "launch"])]
    pub urls: Vec<String>,

    /// Probe every URL in FILE (one per line; # comments), concurrently
    #[arg(long, value_name = "FILE", conflicts_with_all = ["cert", "bundle", "launch", "resolve", "connect_to"])]
    pub targets: Option<PathBuf>,

    /// With several URLs: print Prometheus metrics per target (probe success, the served
    /// certificates' earliest expiry), for node_exporter's textfile collector
    #[arg(long)]
    pub prometheus: bool,

    /// With --url: connect to ADDR for HOST:PORT instead of resolving HOST, as curl's --resolve
    /// (the name is still verified: wildcard and DNS names can be checked on loopback)
    #[arg(long, value_name = "HOST:PORT:ADDR", requires = "url")]
    pub resolve: Option<String>,

    /// With --url: connect to HOST2:PORT2 for HOST1:PORT1 (either may be empty: any), as curl's
    /// --connect-to
    #[arg(
        long,
        value_name = "HOST1:PORT1:HOST2:PORT2",
        requires = "url",
        conflicts_with = "resolve"
    )]
    pub connect_to: Option<String>,

    /// With --url: do not verify the server certificate (the chain is still shown)
    #[arg(long, conflicts_with = "ca")]
    pub insecure: bool,

    /// Which service to expect behind the URL
    #[arg(long, value_enum, default_value_t = crate::verify::probe::ProbeKind::Auto)]
    pub kind: crate::verify::probe::ProbeKind,

    /// InfluxDB user to mint a token for, to check token authentication (needs the shared secret)
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,

    #[command(flatten)]
    pub secret: SecretSourceArgs,

    /// Fail, rather than warn, when InfluxDB answers a query sent without credentials
    #[arg(long)]
    pub require_auth: bool,

    /// With --url: check HTTP basic auth (Prometheus, node exporter) for this user, with the
    /// password from the secret source: 200 with it, 401 without
    #[arg(long, value_name = "NAME", requires = "url", conflicts_with = "user")]
    pub basic_auth_user: Option<String>,

    /// Bound on each connection and request
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = crate::duration::parse_timeout)]
    pub timeout: std::time::Duration,

    /// Start the real influxd or prometheus with --cert/--key and probe it
    #[arg(long, value_enum, value_name = "SERVER")]
    pub launch: Option<crate::verify::launch::Service>,

    /// With --launch: the server's config to use (in a temporary copy; ports and data dirs replaced)
    #[arg(long, value_name = "FILE", requires = "launch")]
    pub config: Option<PathBuf>,

    /// With --launch: the server binary [default: influxd or prometheus on PATH]
    #[arg(long, value_name = "PATH", requires = "launch")]
    pub server_bin: Option<PathBuf>,

    /// With --launch: how long the server may take to start listening
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = crate::duration::parse_timeout)]
    pub start_timeout: std::time::Duration,

    /// With --cert/--key: serve on this loopback port (default: a free one)
    #[arg(long, value_name = "PORT", conflicts_with_all = ["url", "launch"])]
    pub port: Option<u16>,

    /// With --cert/--key: keep serving this long after the checks, for other clients to try
    #[arg(long, value_name = "DURATION", value_parser = crate::duration::parse_timeout, conflicts_with_all = ["url", "launch"])]
    pub serve_for: Option<std::time::Duration>,

    /// With --launch: the templates its config is made from
    #[command(flatten)]
    pub templates: TemplateArgs,
}

const VERIFY_HELP: &str = "\
Examples:
  certtool verify --cert influxdb.crt --key influxdb.key
  certtool verify --cert influxdb.crt --key influxdb.key --ca ca.crt --host influx.example.com
  certtool verify --url https://localhost:8086 --ca ca.crt \\
      --user admin --secret-file shared.secret
  certtool verify --launch influxdb --cert influxdb.crt --key influxdb.key
  certtool verify --cert localhost.crt --key localhost.key --port 8443 --serve-for 60s

Exit status:
  0  every check passed
  1  a check failed (the reason is printed: key mismatch, not trusted, name mismatch, expired, not
     yet valid, handshake failed, service not answering, auth not enforced, server did not start)
  2  usage error or bad input (unreadable files, a malformed URL)";

/// Show what a certificate, chain or private key file holds.
///
/// For each certificate: subject, issuer, SANs, serial, validity and days left, key algorithm and
/// size, signature algorithm, whether it is a CA and self-signed, and its SHA-256 fingerprint. For
/// a private key: its type. With --key (or a file holding both), whether key and certificate
/// match. Reads PEM (any mix of blocks) and DER certificates.
#[derive(Debug, Args)]
#[command(after_long_help = INSPECT_HELP)]
pub struct InspectArgs {
    /// Certificate, chain, key or bundle file (PEM or DER)
    #[arg(value_name = "FILE")]
    pub file: PathBuf,

    /// Private key to check against the (first) certificate in FILE
    #[arg(long, value_name = "KEYFILE")]
    pub key: Option<PathBuf>,
}

const INSPECT_HELP: &str = "\
Examples:
  certtool inspect /etc/ssl/influxdb/influxdb.crt
  certtool inspect influxdb.crt --key influxdb.key && echo 'key matches'
  certtool inspect bundle.pem --json | jq .certificates[0].not_after

Exit status:
  0  the file was read (an expired certificate is reported, not an error: use `check` for that)
  1  the private key does not match the certificate
  2  missing file, directory, garbage or truncated PEM, or an unsupported block";

/// Check (and with --fix correct) the modes and owners of certificate, key and secret files.
///
/// Each file is classified by its content: a private key (or a bundle holding one) or a secret
/// must be 0600 (0400 is accepted), a certificate 0644. Files of unknown content are reported and
/// left alone. A key in a world-writable directory (without the sticky bit) is flagged: anyone
/// could replace it; certtool does not change directory modes. Symbolic links are not followed.
/// A directory argument checks the files directly inside it.
#[derive(Debug, Args)]
#[command(after_long_help = PERMS_HELP)]
pub struct PermsArgs {
    /// Files (or directories of files) to check
    #[arg(value_name = "PATH", required = true)]
    pub paths: Vec<PathBuf>,

    /// Correct wrong modes (and owners, with --owner) instead of only reporting them
    #[arg(long)]
    pub fix: bool,

    /// Owner every file must have, e.g. influxdb:influxdb
    #[arg(long, value_name = "USER[:GROUP]")]
    pub owner: Option<String>,
}

const PERMS_HELP: &str = "\
Examples:
  certtool perms /etc/ssl/influxdb
  certtool perms --fix --owner influxdb:influxdb /etc/ssl/influxdb/influxdb.key

Exit status:
  0  every file is as it should be (after fixing, with --fix)
  1  something is wrong (without --fix), or could not be fixed
  2  usage error, or a path that cannot be read";

/// The `secret` subcommands (described on `Command::Secret`).
#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum SecretCommand {
    /// Generate a random shared secret from the operating system's random number generator
    Generate(SecretGenerateArgs),
}

/// Generate a random shared secret from the operating system's random number generator.
///
/// Prints it on stdout, or writes it to --out with mode 0600 (never replacing a file without
/// --force). Use it as InfluxDB's `[http] shared-secret`, preferably through the environment
/// variable `INFLUXDB_HTTP_SHARED_SECRET` rather than in the config file.
#[derive(Debug, Args)]
#[command(after_long_help = SECRET_GENERATE_HELP, mut_arg("force", |a| a.requires("out")))]
pub struct SecretGenerateArgs {
    /// Number of random bytes (at least 32)
    #[arg(long, value_name = "N", default_value_t = 32, value_parser = clap::value_parser!(u16).range(32..=4096))]
    pub bytes: u16,

    /// Text encoding of the secret
    #[arg(long, value_enum, default_value_t = crate::secret::Encoding::Base64url)]
    pub encoding: crate::secret::Encoding,

    /// Write the secret to this file (mode 0600) instead of stdout
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// Owner of the --out file (needs root), e.g. prometheus:prometheus for a password file
    /// Prometheus reads
    #[arg(long, value_name = "USER[:GROUP]", requires = "out")]
    pub owner: Option<String>,

    /// Replaces an existing --out file
    #[command(flatten)]
    pub replace: ForceArgs,
}

const SECRET_GENERATE_HELP: &str = "\
Examples:
  certtool secret generate --out /etc/influxdb/shared.secret
  sudo certtool secret generate --out /etc/prometheus/node.password --owner prometheus:
  certtool secret generate --bytes 64 --encoding hex

Exit status:
  0  the secret was written
  2  usage error, an existing file without --force, or an I/O error";

/// Where a shared secret comes from. Never from a plain argument: argv is visible to all users.
///
/// Without any of these, certtool uses `$INFLUXDB_HTTP_SHARED_SECRET` if set, then asks on the
/// terminal (hidden input). One trailing newline in a file or on stdin is not part of the secret.
#[derive(Debug, Args, Default)]
#[group(multiple = false)]
pub struct SecretSourceArgs {
    /// Read the secret from this file (one trailing newline is stripped); from an environment
    /// file (KEY=VALUE lines, such as influxdb.env), the value of INFLUXDB_HTTP_SHARED_SECRET
    #[arg(long, value_name = "PATH")]
    pub secret_file: Option<PathBuf>,

    /// Read the secret from this environment variable
    #[arg(long, value_name = "VAR")]
    pub secret_env: Option<String>,

    /// Read the secret from standard input (one trailing newline is stripped)
    #[arg(long)]
    pub secret_stdin: bool,

    /// Read `[http] shared-secret` from this InfluxDB config file
    #[arg(long, value_name = "FILE")]
    pub from_config: Option<PathBuf>,
}

impl SecretSourceArgs {
    #[must_use]
    pub fn source(&self) -> crate::secret::SecretSource {
        crate::secret::SecretSource {
            file: self.secret_file.clone(),
            env: self.secret_env.clone(),
            stdin: self.secret_stdin,
            from_config: self.from_config.clone(),
        }
    }
}

/// The `jwt` subcommands (described on `Command::Jwt`).
#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum JwtCommand {
    /// Mint a token InfluxDB accepts as `Authorization: Bearer TOKEN`
    Mint(JwtMintArgs),
    /// Check a token's signature and claims as InfluxDB does
    Verify(JwtVerifyArgs),
    /// Show a token's header and payload without verifying anything
    Decode(JwtDecodeArgs),
}

/// Mint a token InfluxDB accepts as `Authorization: Bearer TOKEN`.
///
/// The payload is exactly {"username": USER, "exp": SECONDS} (plus any --claim), signed with the
/// shared secret. Only the token and a newline are printed, so `$(certtool jwt mint ...)` works.
#[derive(Debug, Args)]
#[command(after_long_help = JWT_MINT_HELP)]
pub struct JwtMintArgs {
    /// InfluxDB user the token is for
    #[arg(long, value_name = "NAME", required_unless_present = "users_file")]
    pub user: Option<String>,

    /// Mint one token per user named in FILE (one per line), printed as USER<TAB>TOKEN lines
    #[arg(long, value_name = "FILE", conflicts_with = "user")]
    pub users_file: Option<PathBuf>,

    /// Lifetime from now, e.g. 30s, 15m, 12h, 7d
    #[arg(long, value_name = "DURATION", default_value = "1h", value_parser = crate::duration::parse, conflicts_with = "exp")]
    pub ttl: std::time::Duration,

    /// Expiry as Unix seconds or an RFC 3339 time, instead of --ttl
    #[arg(long, value_name = "UNIX|RFC3339", allow_negative_numbers = true)]
    pub exp: Option<String>,

    /// Signature algorithm
    #[arg(long, value_enum, default_value_t = crate::jwt::Alg::Hs256)]
    pub alg: crate::jwt::Alg,

    /// Extra claim KEY=VALUE (VALUE is JSON if it parses, else a string); repeatable
    #[arg(long = "claim", value_name = "KEY=VALUE")]
    pub claims: Vec<String>,

    /// Allow an --exp in the past (to test that servers reject expired tokens)
    #[arg(long)]
    pub allow_expired: bool,

    #[command(flatten)]
    pub secret: SecretSourceArgs,
}

const JWT_MINT_HELP: &str = "\
Examples:
  TOKEN=$(certtool jwt mint --user telegraf --ttl 12h --secret-file /etc/influxdb/shared.secret)
  curl -H \"Authorization: Bearer $TOKEN\" 'https://localhost:8086/query?q=SHOW+DATABASES'
  certtool jwt mint --users-file agents.txt --ttl 7d --secret-env SHARED_SECRET > tokens.tsv

Exit status:
  0  the token was printed
  2  usage error, no usable secret, or an expiry in the past without --allow-expired";

/// Check a token's signature and claims as InfluxDB does.
///
/// Mirrors influxd 1.x: an HMAC algorithm (HS256/384/512), a valid signature, a numeric non-zero
/// exp not in the past, nbf/iat not in the future, and a non-empty string username. certtool is
/// stricter only with --user (the username must match). It cannot tell whether the user exists.
///
/// A token is a credential: given as an argument it is visible to every user of the machine
/// (ps, /proc) for as long as the command runs. Pass - and send the token on stdin instead.
#[derive(Debug, Args)]
#[command(after_long_help = JWT_VERIFY_HELP)]
pub struct JwtVerifyArgs {
    /// The token, or - to read it from stdin (keeps it out of argv, which every user can see)
    #[arg(value_name = "TOKEN|-")]
    pub token: String,

    /// Require this username
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,

    /// Accept a token this long past its exp (clock skew)
    #[arg(long, value_name = "DURATION", default_value = "0s", value_parser = crate::duration::parse)]
    pub leeway: std::time::Duration,

    #[command(flatten)]
    pub secret: SecretSourceArgs,
}

const JWT_VERIFY_HELP: &str = "\
Examples:
  printf '%s\\n' \"$TOKEN\" | certtool jwt verify - --secret-file shared.secret --user telegraf
  certtool jwt mint --user telegraf --secret-env SHARED_SECRET \\
      | certtool jwt verify - --secret-env SHARED_SECRET

Exit status:
  0  the token is valid
  1  the token is invalid (the reason is printed)
  2  usage error or no usable secret";

/// Show a token's header and payload without verifying anything.
#[derive(Debug, Args)]
#[command(after_long_help = JWT_DECODE_HELP)]
pub struct JwtDecodeArgs {
    /// The token, or - to read it from stdin
    #[arg(value_name = "TOKEN|-")]
    pub token: String,
}

const JWT_DECODE_HELP: &str = "\
Examples:
  certtool jwt decode \"$TOKEN\"

Exit status:
  0  the token was decoded (NOT verified)
  2  the token is malformed";

/// Print a shell completion script.
#[derive(Debug, Args)]
#[command(after_long_help = COMPLETIONS_HELP)]
pub struct CompletionsArgs {
    /// Shell to generate completions for
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

const COMPLETIONS_HELP: &str = "\
Examples:
  certtool completions bash > /etc/bash_completion.d/certtool
  certtool completions zsh > \"${fpath[1]}/_certtool\"
  certtool completions fish > ~/.config/fish/completions/certtool.fish

Exit status:
  0  the script was printed
  2  usage error";

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn clap_definitions_are_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_command_documents_its_exit_status() {
        fn check_leaves(cmd: &clap::Command) {
            // Building adds `help` subcommands that mirror the tree; they are not commands.
            for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
                if sub.has_subcommands() {
                    check_leaves(sub);
                    continue;
                }
                let help = sub
                    .get_after_long_help()
                    .map(ToString::to_string)
                    .unwrap_or_default();
                assert!(help.contains("Exit status:"), "{}", sub.get_name());
                assert!(help.contains("Examples:"), "{}", sub.get_name());
            }
        }
        assert!(TOP_HELP.contains("Exit status:"));
        let mut cmd = Cli::command();
        // Subcommands are deferred: build them all before looking at them.
        cmd.build();
        check_leaves(&cmd);
    }
}
