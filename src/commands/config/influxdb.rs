//! `certtool config influxdb` (1.x: `[http]` HTTPS, token authentication, the secret in an
//! environment file) and `config influxdb2` (2.x: flat `tls-*` keys, and the influxd flags).
//!
//! It must not edit TOML text itself: `config::edit` and `config::influxdb` do.

use std::path::{Path, PathBuf};

use anyhow::Result;
use serde::Serialize;
use zeroize::Zeroizing;

use super::{Edited, edit_in_place, plan_edit, print_snippet, report_edit, write_edit};
use crate::cli::{ConfigInfluxdb2Args, ConfigInfluxdbArgs};
use crate::commands::configured_pair;
use crate::config::apply_snippet;
use crate::config::influxdb::{self, Kind};
use crate::config::template::Template;
use crate::error::Error;
use crate::files::{self, FileKind, PlannedFile, WriteOptions};
use crate::output::Output;
use crate::secret::read_secret;

use crate::secret::INFLUXDB_SECRET_ENV;

/// `config influxdb`: the snippet printed (with the env file written, with `--auth`), or
/// edited into `--in-place` together with the env file.
pub(super) fn v1(args: &ConfigInfluxdbArgs, out: &mut Output) -> Result<()> {
    let pair = configured_pair(&args.pair, "influxdb", out)?;
    // Printing writes no file unless --env-file names one: then there is no use for the secret.
    let secret_needed = args.auth && (args.edit.in_place.is_some() || args.env_file.is_some());
    if args.auth && !secret_needed && args.secret.source().is_given() {
        return Err(Error::invalid(
            "nothing would use the secret: printing the snippet writes no file",
            "add --env-file PATH to write INFLUXDB_HTTP_SHARED_SECRET there (0600), or edit \
             the config with --in-place FILE (influxdb.env is written beside it)",
        )
        .into());
    }
    let secret = if secret_needed {
        Some(secret_text(args, out)?)
    } else {
        None
    };
    let template = Template::InfluxdbHttp.load(args.edit.templates.template_dir.as_deref())?;
    let in_config = secret.as_deref().filter(|_| args.secret_in_config);
    let snippet = influxdb::v1_snippet(
        &template,
        &pair.cert,
        // InfluxDB reads key and certificate from https-certificate when the key is empty.
        if pair.bundled { "" } else { &pair.key },
        args.auth,
        in_config.map(String::as_str),
    )?;
    let env_path = match (&args.env_file, &args.edit.in_place) {
        (Some(path), _) => Some(path.clone()),
        (None, Some(config)) => Some(files::parent_dir(config).join("influxdb.env")),
        (None, None) => None,
    };
    let targets = args.edit.in_place.iter().chain(env_path.iter());
    crate::commands::lock_targets(out, targets.map(PathBuf::as_path))?;
    let secret = secret.as_ref().map(|s| s.as_str());
    let env = match (&args.edit.in_place, env_path.as_deref()) {
        (Some(config), Some(env_path)) => edit_v1(args, out, config, &snippet, secret, env_path)?,
        // Printing (an in-place edit always has an env file path).
        (_, env_path) => print_v1(args, out, &snippet, secret, env_path)?,
    };
    if let Some(env) = &env {
        note_env_wiring(out, env)?;
    } else if args.auth && args.edit.in_place.is_none() {
        out.note(&format!(
            "With auth-enabled, influxd needs the shared secret as {INFLUXDB_SECRET_ENV}: \
             add --env-file PATH to write it there (0600; nothing was written), or use --in-place"
        ))?;
    }
    Ok(())
}

/// Print the snippet; write the env file when `--env-file` names one (with `--auth`).
fn print_v1(
    args: &ConfigInfluxdbArgs,
    out: &mut Output,
    snippet: &str,
    secret: Option<&str>,
    env_path: Option<&Path>,
) -> Result<Option<EnvFile>> {
    let env = match (secret, env_path) {
        (Some(secret), Some(path)) => {
            Some(write_env_file(path, secret, args.replace.force, false)?)
        }
        _ => None,
    };
    print_snippet(
        out,
        Template::InfluxdbHttp,
        snippet,
        super::Extra {
            env_file: env.as_ref().map(EnvFile::summary),
            flags: None,
        },
    )?;
    Ok(env)
}

/// How an InfluxDB 1.x config and its env file are changed: by `config influxdb --in-place`
/// and by `provision influxdb`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct V1Options {
    pub secret_in_config: bool,
    pub force: bool,
    pub dry_run: bool,
}

/// Edit `config` with `snippet` and write its env file (holding `secret`), as one set; with
/// `dry_run`, only work out the diff. Nothing is printed.
pub(crate) fn apply_v1(
    config: &Path,
    snippet: &str,
    secret: Option<&str>,
    env_path: &Path,
    options: V1Options,
) -> Result<(Edited, Option<EnvFile>)> {
    let ceiling = if options.secret_in_config {
        0o640
    } else {
        0o777
    };
    let in_config = secret.filter(|_| options.secret_in_config);
    let edit = crate::cli::EditArgs::in_place(config, options.dry_run);
    let (edited, planned) = plan_edit(config, &edit, ceiling, in_config, |doc| {
        Kind::require_v1(doc, config)?;
        apply_snippet(doc, snippet).map(|_| ())
    })?;
    let (env, env_file) = match (secret, options.secret_in_config) {
        (Some(secret), false) => {
            let (env, file) = plan_env_file(env_path, secret, options.force, options.dry_run)?;
            (Some(env), file)
        }
        _ => (None, None),
    };
    // The config and its env file change together, or not at all.
    let edited: Edited = write_edit(
        edited,
        &planned.into_iter().chain(env_file).collect::<Vec<_>>(),
    )?;
    Ok((edited, env))
}

/// Edit `config` and write its env file, as one set.
fn edit_v1(
    args: &ConfigInfluxdbArgs,
    out: &mut Output,
    config: &Path,
    snippet: &str,
    secret: Option<&str>,
    env_path: &Path,
) -> Result<Option<EnvFile>> {
    let options = V1Options {
        secret_in_config: args.secret_in_config,
        force: args.replace.force,
        dry_run: args.edit.dry_run,
    };
    let (edited, env) = apply_v1(config, snippet, secret, env_path, options)?;
    if args.secret_in_config && !args.edit.dry_run {
        out.warn(&format!(
            "'{}' now holds the shared secret: keep it at mode 0640 or stricter (an environment \
             file is safer: drop --secret-in-config)",
            config.display()
        ))?;
    }
    report_edit(
        out,
        &edited,
        super::Extra {
            env_file: env.as_ref().map(EnvFile::summary),
            flags: None,
        },
    )?;
    Ok(env)
}

/// The shared secret as text, for a config or environment file.
fn secret_text(args: &ConfigInfluxdbArgs, out: &mut Output) -> Result<Zeroizing<String>> {
    secret_text_from(&args.secret.source(), out)
}

/// The secret from `source`, as text that fits a config or environment file.
pub(crate) fn secret_text_from(
    source: &crate::secret::SecretSource,
    out: &mut Output,
) -> Result<Zeroizing<String>> {
    let bytes = read_secret(source, out)?;
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
pub(crate) struct EnvFile {
    pub path: PathBuf,
    pub status: EnvStatus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum EnvStatus {
    Written,
    Unchanged,
    WouldWrite,
}

impl EnvFile {
    fn summary(&self) -> super::EnvFileSummary {
        super::EnvFileSummary {
            path: self.path.clone(),
            status: match self.status {
                EnvStatus::Written => "written",
                EnvStatus::Unchanged => "unchanged",
                EnvStatus::WouldWrite => "would_write",
            },
        }
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
    let contents = Zeroizing::new(format!("{INFLUXDB_SECRET_ENV}={}\n", env_value(secret)));
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
    // Planned with a dry run too: the writer previews it (mode, owner) instead of writing.
    let planned = PlannedFile::new(path.to_path_buf(), FileKind::Secret, contents.as_bytes());
    let env = EnvFile {
        path: path.to_path_buf(),
        status: if dry_run {
            EnvStatus::WouldWrite
        } else {
            EnvStatus::Written
        },
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
    if path.ends_with("default/influxdb") {
        out.note(&format!(
            "{} {what} as {INFLUXDB_SECRET_ENV}; Debian's influxdb service reads it \
             (EnvironmentFile=-/etc/default/influxdb): restart influxdb",
            env.path.display()
        ))?;
        return Ok(());
    }
    out.note(&format!(
        "{} {what} as {INFLUXDB_SECRET_ENV}. Give it to influxd:\n  \
         systemd: systemctl edit influxdb, then [Service] EnvironmentFile={}\n  \
         or, when /etc/default/influxdb (read by Debian's packaged service) holds nothing else:\n  \
         --env-file /etc/default/influxdb",
        env.path.display(),
        path.display(),
    ))?;
    Ok(())
}

/// `config influxdb2`: the flat `tls-*` keys, printed (with the equivalent influxd flags) or
/// edited into `--in-place`.
pub(super) fn v2(args: &ConfigInfluxdb2Args, out: &mut Output) -> Result<()> {
    let pair = configured_pair(&args.pair, "influxdb", out)?;
    let template = Template::Influxdb2Tls.load(args.edit.templates.template_dir.as_deref())?;
    let snippet = influxdb::v2_snippet(&template, &pair.cert, &pair.key, args.strict_ciphers)?;
    let flags = influxdb::v2_flags(&pair.cert, &pair.key, args.strict_ciphers);
    let Some(config) = &args.edit.in_place else {
        print_snippet(
            out,
            Template::Influxdb2Tls,
            &snippet,
            super::Extra {
                env_file: None,
                flags: Some(flags.clone()),
            },
        )?;
        out.note(&format!("or as flags: {flags}"))?;
        return Ok(());
    };
    let edited = edit_in_place(config, &args.edit, 0o777, None, |doc| {
        Kind::require_v2(doc, config)?;
        apply_snippet(doc, &snippet).map(|_| ())
    })?;
    report_edit(out, &edited, super::Extra::default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_values_are_quoted_only_when_needed() {
        assert_eq!(env_value("abc-DEF_123="), "abc-DEF_123=");
        assert_eq!(env_value("a b\"$`\\"), "\"a b\\\"\\$\\`\\\\\"");
    }
}
