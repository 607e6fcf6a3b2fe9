//! `certtool config ...`: print a snippet, or edit it into the service's config file in place,
//! safely (checked inputs, `.bak`, atomic write, mode and owner kept, idempotent, `--dry-run`).

use std::path::{Path, PathBuf};

use anyhow::{Result, anyhow};
use serde::Serialize;
use time::OffsetDateTime;
use toml_edit::DocumentMut;
use zeroize::Zeroizing;

use super::{absolute, service_pair};
use crate::cli::{
    ConfigCommand, ConfigInfluxdb2Args, ConfigInfluxdbArgs, ConfigPrometheusArgs,
    ConfigPrometheusScrapeArgs, ConfigTelegrafArgs, EditArgs,
};
use crate::config::apply_snippet;
use crate::config::influxdb::{self, Kind};
use crate::config::prometheus::{self, Scrape};
use crate::config::telegraf;
use crate::config::template::Template;
use crate::error::{Error, ExitStatus};
use crate::files::{self, FileKind, PlannedFile, WriteOptions};
use crate::inputs;
use crate::output::{Output, mode_string};
use crate::pki::names::sans_cover;
use crate::pki::parse::CertInfo;
use crate::secret::read_secret;

/// The name of the environment variable influxd 1.x reads its shared secret from.
pub const SECRET_ENV_VAR: &str = "INFLUXDB_HTTP_SHARED_SECRET";

/// Run `certtool config ...`.
pub fn run(cmd: &ConfigCommand, out: &mut Output) -> Result<ExitStatus> {
    match cmd {
        ConfigCommand::Influxdb(args) => influxdb1(args, out),
        ConfigCommand::Influxdb2(args) => influxdb2(args, out),
        ConfigCommand::Telegraf(args) => telegraf(args, out),
        ConfigCommand::Prometheus(args) => prometheus_web(args, out),
        ConfigCommand::PrometheusScrape(args) => prometheus_scrape(args, out),
    }?;
    Ok(ExitStatus::Success)
}

/// The certificates of `path` (given as `what`), described.
fn read_certificates(path: &Path, what: &str) -> Result<Vec<CertInfo>> {
    Ok(inputs::load_certs(path, what, OffsetDateTime::now_utc())?
        .into_iter()
        .map(|c| c.info)
        .collect())
}

/// What an in-place edit did.
#[derive(Debug, Serialize)]
struct Edited {
    file: PathBuf,
    changed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    backup: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mode: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    diff: Option<String>,
}

/// Edit the TOML file at `path` with `edit`, keeping everything else byte for byte.
fn edit_in_place(
    path: &Path,
    edit: &EditArgs,
    ceiling: u32,
    redact: Option<&str>,
    apply: impl FnOnce(&mut DocumentMut) -> Result<()>,
) -> Result<Edited> {
    let (edited, planned) = plan_edit(path, edit, ceiling, redact, apply)?;
    write_edit(edited, &planned.into_iter().collect::<Vec<_>>())
}

/// Write a planned edit together with the files that must change with it (the env file of
/// `config influxdb --auth`), as one set: all or nothing, even if certtool is killed.
fn write_edit(mut edited: Edited, planned: &[PlannedFile]) -> Result<Edited> {
    if planned.is_empty() {
        return Ok(edited);
    }
    let written = files::write_all(
        planned,
        WriteOptions {
            force: true,
            ..WriteOptions::default()
        },
    )?;
    if let Some(w) = written.iter().find(|w| w.path == edited.file) {
        edited.backup.clone_from(&w.backup);
        edited.mode = Some(mode_string(w.mode));
    }
    Ok(edited)
}

/// Work out the edit of the TOML file at `path`: what `--dry-run` shows, and the file to write
/// (none when nothing changes or with `--dry-run`).
///
/// `ceiling` limits the mode of the result (a config holding a secret is at most 0640);
/// `redact` is text to hide from the diff.
fn plan_edit(
    path: &Path,
    edit: &EditArgs,
    ceiling: u32,
    redact: Option<&str>,
    apply: impl FnOnce(&mut DocumentMut) -> Result<()>,
) -> Result<(Edited, Option<PlannedFile>)> {
    // Held until the process exits: nobody else edits the file between reading and replacing.
    files::lock_dirs_of([path])?;
    files::check_targets([path], true)?;
    let bytes = files::read_input(path)?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| anyhow!("'{}' is not UTF-8 text", path.display()))?;
    // A byte-order mark is not TOML, but it is the user's byte: keep it.
    let (bom, body) = match text.strip_prefix('\u{feff}') {
        Some(body) => ("\u{feff}", body),
        None => ("", text),
    };
    let mut doc: DocumentMut = body.parse().map_err(|e: toml_edit::TomlError| {
        let (line, column) = e
            .span()
            .map_or((0, 0), |span| line_and_column(body, span.start));
        Error::invalid(
            format!(
                "cannot parse '{}' at line {line}, column {column}: {}",
                path.display(),
                e.message().trim()
            ),
            "fix the file first; certtool left it untouched",
        )
    })?;
    apply(&mut doc)?;
    let new_text = Zeroizing::new(format!("{bom}{doc}"));
    let mode = files::ExistingFile::open_no_follow(path)?.mode() & 0o7777;
    let changed = new_text.as_str() != text || mode & 0o777 & !ceiling != 0;
    if !changed || edit.dry_run {
        let diff = edit
            .dry_run
            .then(|| unified_diff(path, text, &new_text, redact));
        let edited = Edited {
            file: path.to_path_buf(),
            changed,
            backup: None,
            mode: None,
            diff,
        };
        return Ok((edited, None));
    }
    let mut file = PlannedFile::new(path.to_path_buf(), FileKind::Config, new_text.as_bytes());
    file.inherit_mode_and_owner(ceiling)?;
    file.keep_backup = true;
    let edited = Edited {
        file: path.to_path_buf(),
        changed: true,
        backup: None,
        mode: None,
        diff: None,
    };
    Ok((edited, Some(file)))
}

fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

fn unified_diff(path: &Path, old: &str, new: &str, redact: Option<&str>) -> String {
    let name = path.display().to_string();
    let diff = similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(&name, &name)
        .to_string();
    match redact.filter(|r| !r.is_empty()) {
        Some(secret) => diff.replace(secret, "<secret>"),
        None => diff,
    }
}

fn report_edit(out: &mut Output, edited: &Edited, extra: Option<serde_json::Value>) -> Result<()> {
    if out.json() {
        let mut value = serde_json::to_value(edited)?;
        if let (Some(obj), Some(serde_json::Value::Object(more))) = (value.as_object_mut(), extra) {
            obj.extend(more);
        }
        out.json_value(&value)?;
        return Ok(());
    }
    let file = edited.file.display();
    match (&edited.diff, edited.changed) {
        (Some(diff), true) => out.data(diff)?,
        (Some(_), false) => out.note(&format!("{file}: unchanged (nothing to do)"))?,
        (None, false) => out.note(&format!("{file}: unchanged"))?,
        (None, true) => out.note(&format!(
            "{file}: updated ({}; the old file is kept as {})",
            edited.mode.as_deref().unwrap_or("?"),
            edited
                .backup
                .as_ref()
                .map_or_else(|| "-".to_owned(), |b| b.display().to_string())
        ))?,
    }
    Ok(())
}

fn print_snippet(
    out: &mut Output,
    template: Template,
    snippet: &str,
    extra: Option<serde_json::Value>,
) -> Result<()> {
    if out.json() {
        let mut value = serde_json::json!({ "template": template.file_name(), "snippet": snippet });
        if let (Some(obj), Some(serde_json::Value::Object(more))) = (value.as_object_mut(), extra) {
            obj.extend(more);
        }
        out.json_value(&value)?;
    } else {
        out.data(snippet)?;
    }
    Ok(())
}

fn influxdb1(args: &ConfigInfluxdbArgs, out: &mut Output) -> Result<()> {
    let pair = service_pair(&args.pair, out)?;
    let secret = if args.auth {
        Some(secret_text(args, out)?)
    } else {
        None
    };
    let template = Template::InfluxdbHttp.load(args.edit.template_dir.as_deref())?;
    let in_config = secret.as_deref().filter(|_| args.secret_in_config);
    let snippet = influxdb::v1_snippet(
        &template,
        &pair.cert,
        &pair.key,
        args.auth,
        in_config.map(String::as_str),
    )?;
    let env_path = match (&args.env_file, &args.edit.in_place) {
        (Some(path), _) => path.clone(),
        (None, Some(config)) => files::parent_dir(config).join("influxdb.env"),
        (None, None) => PathBuf::from("influxdb.env"),
    };
    super::lock_targets(
        out,
        args.edit
            .in_place
            .iter()
            .chain([&env_path])
            .map(PathBuf::as_path),
    )?;
    let Some(config) = &args.edit.in_place else {
        let env = match &secret {
            Some(secret) => Some(write_env_file(&env_path, secret, args.force, false)?),
            None => None,
        };
        print_snippet(
            out,
            Template::InfluxdbHttp,
            &snippet,
            env.as_ref().map(EnvFile::json),
        )?;
        if let Some(env) = &env {
            note_env_wiring(out, env)?;
        }
        return Ok(());
    };
    let ceiling = if args.secret_in_config { 0o640 } else { 0o777 };
    let (edited, planned) = plan_edit(
        config,
        &args.edit,
        ceiling,
        in_config.map(String::as_str),
        |doc| {
            require_v1(config, doc)?;
            apply_snippet(doc, &snippet).map(|_| ())
        },
    )?;
    let (env, env_file) = match (&secret, args.secret_in_config) {
        (Some(secret), false) => {
            let (env, file) = plan_env_file(&env_path, secret, args.force, args.edit.dry_run)?;
            (Some(env), file)
        }
        _ => (None, None),
    };
    // The config and its env file change together, or not at all.
    let edited = write_edit(
        edited,
        &planned.into_iter().chain(env_file).collect::<Vec<_>>(),
    )?;
    if args.secret_in_config && !args.edit.dry_run {
        out.warn(&format!(
            "'{}' now holds the shared secret: keep it at mode 0640 or stricter (an environment \
             file is safer: drop --secret-in-config)",
            config.display()
        ))?;
    }
    report_edit(out, &edited, env.as_ref().map(EnvFile::json))?;
    if let Some(env) = &env {
        note_env_wiring(out, env)?;
    }
    Ok(())
}

/// Refuse to edit anything but an InfluxDB 1.x config.
fn require_v1(config: &Path, doc: &DocumentMut) -> Result<()> {
    match Kind::of(doc) {
        Kind::V1 => Ok(()),
        Kind::V2 => Err(Error::invalid(
            format!(
                "'{}' is an InfluxDB 2.x config (it has {})",
                config.display(),
                Kind::evidence(doc)
            ),
            "use certtool config influxdb2 for InfluxDB 2.x",
        )
        .into()),
        Kind::Unknown => Err(Error::invalid(
            format!(
                "'{}' does not look like an InfluxDB 1.x config: it has none of the \
                 [meta], [data], [http] or [coordinator] sections",
                config.display()
            ),
            "check the path (e.g. /etc/influxdb/influxdb.conf), or print the snippet without --in-place",
        )
        .into()),
    }
}

/// The shared secret as text, for a config or environment file.
fn secret_text(args: &ConfigInfluxdbArgs, out: &mut Output) -> Result<Zeroizing<String>> {
    let bytes = read_secret(&args.secret.source(), out)?;
    let text = std::str::from_utf8(&bytes).map_err(|_| {
        Error::invalid(
            "the shared secret is not UTF-8 text",
            "generate one with certtool secret generate",
        )
    })?;
    if text.contains('\n') || text.contains('\0') {
        return Err(Error::invalid(
            "the shared secret contains a line break or NUL byte",
            "generate one with certtool secret generate",
        )
        .into());
    }
    Ok(Zeroizing::new(text.to_owned()))
}

/// What happened to the environment file.
struct EnvFile {
    path: PathBuf,
    status: EnvStatus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
enum EnvStatus {
    Written,
    Unchanged,
    WouldWrite,
}

impl EnvFile {
    fn json(&self) -> serde_json::Value {
        serde_json::json!({ "env_file": { "path": self.path, "status": self.status } })
    }
}

/// Write the env file of [`plan_env_file`] on its own (print mode, without `--in-place`).
fn write_env_file(path: &Path, secret: &str, force: bool, dry_run: bool) -> Result<EnvFile> {
    let (env, planned) = plan_env_file(path, secret, force, dry_run)?;
    if let Some(file) = planned {
        files::write_all(
            &[file],
            WriteOptions {
                force,
                ..WriteOptions::default()
            },
        )?;
    }
    Ok(env)
}

/// `INFLUXDB_HTTP_SHARED_SECRET=...` in a 0600 file: unchanged if it already says that,
/// replaced only with --force if it holds another secret. Returns the file to write, if any.
fn plan_env_file(
    path: &Path,
    secret: &str,
    force: bool,
    dry_run: bool,
) -> Result<(EnvFile, Option<PlannedFile>)> {
    let contents = Zeroizing::new(format!("{SECRET_ENV_VAR}={}\n", env_value(secret)));
    let exists = match std::fs::symlink_metadata(path) {
        Ok(_) => {
            files::check_targets([path], true)?;
            true
        }
        Err(_) => false,
    };
    if exists {
        let current = files::read_input(path)?;
        if current.as_slice() == contents.as_bytes() {
            let env = EnvFile {
                path: path.to_path_buf(),
                status: EnvStatus::Unchanged,
            };
            return Ok((env, None));
        }
        if !force {
            return Err(Error::invalid(
                format!(
                    "'{}' already exists and holds something else",
                    path.display()
                ),
                "pass --force to replace it (influxd then needs a restart), or choose --env-file",
            )
            .into());
        }
    }
    if dry_run {
        let env = EnvFile {
            path: path.to_path_buf(),
            status: EnvStatus::WouldWrite,
        };
        return Ok((env, None));
    }
    let planned = PlannedFile::new(path.to_path_buf(), FileKind::Secret, contents.as_bytes());
    let env = EnvFile {
        path: path.to_path_buf(),
        status: EnvStatus::Written,
    };
    Ok((env, Some(planned)))
}

/// A value for systemd's EnvironmentFile= and for shells: bare when it is plain, otherwise in
/// double quotes with `\`, `"`, `$` and backquote escaped.
fn env_value(secret: &str) -> String {
    if secret
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_.+/=:@%".contains(c))
    {
        return secret.to_owned();
    }
    let mut quoted = String::with_capacity(secret.len() + 2);
    quoted.push('"');
    for c in secret.chars() {
        if matches!(c, '\\' | '"' | '$' | '`') {
            quoted.push('\\');
        }
        quoted.push(c);
    }
    quoted.push('"');
    quoted
}

fn note_env_wiring(out: &mut Output, env: &EnvFile) -> Result<()> {
    let path = std::path::absolute(&env.path).unwrap_or_else(|_| env.path.clone());
    let what = match env.status {
        EnvStatus::Unchanged => "already holds the secret",
        EnvStatus::WouldWrite => "would get the secret (--dry-run: not written)",
        EnvStatus::Written => "now holds the secret (0600)",
    };
    out.note(&format!(
        "{} {what} as {SECRET_ENV_VAR}. Give it to influxd:\n  \
         systemd: systemctl edit influxdb, then [Service] EnvironmentFile={}\n  \
         or, when /etc/default/influxdb (read by Debian's packaged service) holds nothing else:\n  \
         --env-file /etc/default/influxdb",
        env.path.display(),
        path.display(),
    ))?;
    Ok(())
}

fn influxdb2(args: &ConfigInfluxdb2Args, out: &mut Output) -> Result<()> {
    let pair = service_pair(&args.pair, out)?;
    let template = Template::Influxdb2Tls.load(args.edit.template_dir.as_deref())?;
    let snippet = influxdb::v2_snippet(&template, &pair.cert, &pair.key, args.strict_ciphers)?;
    let flags = influxdb::v2_flags(&pair.cert, &pair.key, args.strict_ciphers);
    let Some(config) = &args.edit.in_place else {
        print_snippet(
            out,
            Template::Influxdb2Tls,
            &snippet,
            Some(serde_json::json!({ "flags": flags })),
        )?;
        out.note(&format!("or as flags: {flags}"))?;
        return Ok(());
    };
    let edited = edit_in_place(config, &args.edit, 0o777, None, |doc| {
        if Kind::of(doc) == Kind::V1 {
            return Err(Error::invalid(
                format!(
                    "'{}' is an InfluxDB 1.x config (it has {}); InfluxDB 2.x refuses to start with it",
                    config.display(),
                    Kind::evidence(doc)
                ),
                "use certtool config influxdb for InfluxDB 1.x",
            )
            .into());
        }
        if let Some((name, _)) = doc
            .iter()
            .find(|(_, item)| item.is_table() || item.is_array_of_tables())
        {
            return Err(Error::invalid(
                format!(
                    "'{}' has a [{name}] section; an InfluxDB 2.x config has none",
                    config.display()
                ),
                "check the path (e.g. /etc/influxdb/config.toml)",
            )
            .into());
        }
        apply_snippet(doc, &snippet).map(|_| ())
    })?;
    report_edit(out, &edited, None)
}

/// The host of an `http(s)://host[:port][/path]` URL.
fn url_host(url: &str) -> Result<(bool, String)> {
    let (https, rest) = if let Some(rest) = url.strip_prefix("https://") {
        (true, rest)
    } else if let Some(rest) = url.strip_prefix("http://") {
        (false, rest)
    } else {
        return Err(Error::invalid(
            format!(
                "--url '{}' is not an http(s) URL",
                crate::output::sanitize(url)
            ),
            "write it as https://influx.example.com:8086",
        )
        .into());
    };
    let authority = rest.split('/').next().unwrap_or("");
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next().unwrap_or("").to_owned()
    } else {
        authority
            .rsplit_once(':')
            .map_or(authority, |(h, _)| h)
            .to_owned()
    };
    if host.is_empty() {
        return Err(Error::invalid(
            format!("--url '{}' has no host", crate::output::sanitize(url)),
            "write it as https://influx.example.com:8086",
        )
        .into());
    }
    Ok((https, host))
}

fn telegraf(args: &ConfigTelegrafArgs, out: &mut Output) -> Result<()> {
    // Warnings are shown once the command has succeeded: an error stays one clear line.
    let mut warnings = Vec::new();
    let (https, host) = url_host(&args.url)?;
    if !https {
        warnings.push(
            "the URL is http://: Telegraf ignores the TLS settings and sends data in the clear"
                .to_owned(),
        );
    }
    let ca = match &args.ca {
        Some(path) => {
            let certs = read_certificates(path, "CA certificate")?;
            let server = match &args.cert {
                Some(cert) => Some(read_certificates(cert, "certificate")?.remove(0)),
                None => certs.into_iter().next().filter(|c| !c.is_ca),
            };
            if let Some(server) = server {
                let name = args.server_name.as_deref().unwrap_or(&host);
                if !sans_cover(&server.sans, name) {
                    let hint = if args.server_name.is_some() {
                        ""
                    } else {
                        "; add --server-name with one of them (tls_server_name)"
                    };
                    warnings.push(format!(
                        "the server certificate does not cover {name} (it has {}){hint}",
                        server.sans.join(", ")
                    ));
                }
            }
            Some(absolute(path)?)
        }
        None => None,
    };
    if args.insecure_skip_verify {
        warnings.push(
            "insecure_skip_verify = true disables server authentication: anyone on the network \
             path can read and change the data; prefer --ca"
                .to_owned(),
        );
    }
    let output = telegraf::Output {
        url: args.url.clone(),
        ca,
        insecure: args.insecure_skip_verify,
        server_name: args.server_name.clone(),
        database: args.database.clone(),
        v2: args.org.clone().zip(args.bucket.clone()),
    };
    let template = output.template().load(args.edit.template_dir.as_deref())?;
    let snippet = output.snippet(&template)?;
    match &args.edit.in_place {
        None => print_snippet(out, output.template(), &snippet, None)?,
        Some(config) => {
            let edited = edit_in_place(config, &args.edit, 0o777, None, |doc| {
                output.apply(doc, &snippet).map(|_| ())
            })?;
            report_edit(out, &edited, None)?;
        }
    }
    for warning in warnings {
        out.warn(&warning)?;
    }
    Ok(())
}

fn prometheus_web(args: &ConfigPrometheusArgs, out: &mut Output) -> Result<()> {
    let pair = service_pair(&args.pair, out)?;
    if let Some(host) = &args.host
        && !sans_cover(&pair.info.sans, host)
    {
        out.warn(&format!(
            "the certificate does not cover {host} (it has {}); clients will refuse it",
            pair.info.sans.join(", ")
        ))?;
    }
    let client_ca = match &args.client_ca {
        Some(path) => {
            read_certificates(path, "client CA certificate")?;
            Some(absolute(path)?)
        }
        None => None,
    };
    let template = Template::PrometheusWebConfig.load(args.template_dir.as_deref())?;
    let snippet = prometheus::web_config(&template, &pair.cert, &pair.key, client_ca.as_deref())?;
    let Some(path) = &args.out else {
        return print_snippet(out, Template::PrometheusWebConfig, &snippet, None);
    };
    let written = files::write_all(
        &[PlannedFile::new(
            path.clone(),
            FileKind::Config,
            snippet.as_bytes(),
        )],
        WriteOptions {
            force: args.force,
            ..WriteOptions::default()
        },
    )?;
    if out.json() {
        out.json_value(&serde_json::json!({ "files": written }))?;
    } else {
        out.note(&format!(
            "{}: written (0644). Start Prometheus with --web.config.file={}",
            path.display(),
            absolute(path)?
        ))?;
    }
    Ok(())
}

fn prometheus_scrape(args: &ConfigPrometheusScrapeArgs, out: &mut Output) -> Result<()> {
    read_certificates(&args.ca, "CA certificate")?;
    let client = |p: &Option<PathBuf>| p.as_deref().map(absolute).transpose();
    let scrape = Scrape {
        job: args.job.clone(),
        ca: absolute(&args.ca)?,
        target: args.target.clone(),
        server_name: args.server_name.clone(),
        client_cert: client(&args.client_cert)?,
        client_key: client(&args.client_key)?,
    };
    let template = Template::PrometheusScrape.load(args.template_dir.as_deref())?;
    let snippet = prometheus::scrape_job(&template, &scrape)?;
    print_snippet(out, Template::PrometheusScrape, &snippet, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_values_are_quoted_only_when_needed() {
        assert_eq!(env_value("abc-DEF_123="), "abc-DEF_123=");
        assert_eq!(env_value("a b\"$`\\"), "\"a b\\\"\\$\\`\\\\\"");
    }

    #[test]
    fn url_hosts() {
        assert_eq!(
            url_host("https://h.test:8086/x").unwrap(),
            (true, "h.test".to_owned())
        );
        assert_eq!(
            url_host("https://[::1]:8086").unwrap(),
            (true, "::1".to_owned())
        );
        assert_eq!(
            url_host("http://127.0.0.1").unwrap(),
            (false, "127.0.0.1".to_owned())
        );
        assert!(url_host("ftp://x").is_err());
        assert!(url_host("https://:8086").is_err());
    }

    #[test]
    fn line_and_column_count_from_one() {
        assert_eq!(line_and_column("a\nbc\n", 3), (2, 2));
    }
}
