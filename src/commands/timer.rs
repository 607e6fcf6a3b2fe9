//! Renewal that runs itself: a systemd service and timer (or a crontab line) that run
//! `certtool renew CERT --within 30d --exec RELOAD` daily, at a randomized time — the delay is
//! the timer's (`RandomizedDelaySec`), not a sleep inside the command as certbot's has.
//!
//! Used by `renew --install-timer`/`--cron` and `provision --renew-timer`.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};

use crate::files::{self, FileKind, PlannedFile, WriteOptions, Written};

/// What the timer runs: `certtool renew` with these arguments (after `renew`).
#[derive(Debug, Clone)]
pub struct Renewal {
    pub cert: PathBuf,
    pub key: Option<PathBuf>,
    pub ca: Option<(PathBuf, PathBuf)>,
    pub within: String,
    pub exec: Option<String>,
}

impl Renewal {
    /// The unit name's stem: `certtool-renew-influxdb` for `/etc/ssl/influxdb/influxdb.crt`.
    #[must_use]
    pub fn unit_stem(&self) -> String {
        let base = self
            .cert
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let clean: String = base
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '-'
                }
            })
            .collect();
        format!("certtool-renew-{clean}")
    }

    /// The command line, each argument absolute and quoted for `what`.
    fn argv(&self) -> Result<Vec<String>> {
        let exe = std::env::current_exe().context("cannot tell where certtool is")?;
        let path = |p: &Path| -> Result<String> { crate::commands::absolute(p) };
        let mut argv = vec![path(&exe)?, "renew".to_owned(), path(&self.cert)?];
        if let Some(key) = &self.key {
            argv.extend(["--key".to_owned(), path(key)?]);
        }
        if let Some((cert, key)) = &self.ca {
            argv.extend([
                "--ca-cert".to_owned(),
                path(cert)?,
                "--ca-key".to_owned(),
                path(key)?,
            ]);
        }
        argv.extend(["--within".to_owned(), self.within.clone()]);
        if let Some(exec) = &self.exec {
            argv.extend(["--exec".to_owned(), exec.clone()]);
        }
        Ok(argv)
    }

    /// The service (oneshot) and the timer (daily, up to an hour later at random, and run at
    /// boot if a day was missed).
    pub fn units(&self) -> Result<(String, String)> {
        let exec_start: Vec<String> = self.argv()?.iter().map(|a| systemd_quote(a)).collect();
        let cert = crate::commands::absolute(&self.cert)?;
        let service = format!(
            "# Written by certtool: renews {cert} when it expires within {within}.\n\
             [Unit]\n\
             Description=Renew {cert} with certtool when it expires within {within}\n\
             After=network-online.target\n\
             Wants=network-online.target\n\
             \n\
             [Service]\n\
             Type=oneshot\n\
             ExecStart={}\n",
            exec_start.join(" "),
            within = self.within,
        );
        let timer = format!(
            "# Written by certtool: runs {stem}.service daily.\n\
             [Unit]\n\
             Description=Daily certtool renewal check for {cert}\n\
             \n\
             [Timer]\n\
             OnCalendar=daily\n\
             RandomizedDelaySec=1h\n\
             Persistent=true\n\
             \n\
             [Install]\n\
             WantedBy=timers.target\n",
            stem = self.unit_stem(),
        );
        Ok((service, timer))
    }

    /// The crontab line (for /etc/cron.d: with a user field): daily, at a minute and hour
    /// picked from the certificate's path, so that a fleet does not renew at the same moment.
    pub fn cron_line(&self) -> Result<String> {
        let argv: Vec<String> = self.argv()?.iter().map(|a| shell_quote(a)).collect();
        let spread: u32 = self.cert.to_string_lossy().bytes().map(u32::from).sum();
        Ok(format!(
            "{} {} * * * root {}\n",
            spread % 60,
            spread / 60 % 6 + 1,
            argv.join(" ").replace('%', "\\%")
        ))
    }

    /// Write the service and timer into `dir` (0644), as one set; unchanged files are left.
    /// Returns the two paths and whether anything was written.
    /// The unit files and what was written (nothing when they are already as asked; with
    /// `dry_run`, what would be).
    pub fn install(&self, dir: &Path, dry_run: bool) -> Result<(PathBuf, PathBuf, Vec<Written>)> {
        let (service, timer) = self.units()?;
        let stem = self.unit_stem();
        let (service_path, timer_path) = (
            dir.join(format!("{stem}.service")),
            dir.join(format!("{stem}.timer")),
        );
        let same =
            |path: &Path, text: &str| std::fs::read(path).is_ok_and(|b| b == text.as_bytes());
        if same(&service_path, &service) && same(&timer_path, &timer) {
            return Ok((service_path, timer_path, Vec::new()));
        }
        let written = files::write_or_preview(
            &[
                PlannedFile::new(service_path.clone(), FileKind::Config, service.as_bytes()),
                PlannedFile::new(timer_path.clone(), FileKind::Config, timer.as_bytes()),
            ],
            WriteOptions {
                force: true,
                ..WriteOptions::default()
            },
            dry_run,
        )?;
        Ok((service_path, timer_path, written))
    }
}

/// One argument of an `ExecStart=` line: in double quotes when it has to be, with `\`, `"`
/// escaped, and `%` and `$` doubled (systemd's specifiers and variables).
#[must_use]
pub fn systemd_quote(arg: &str) -> String {
    let escaped = arg.replace('%', "%%").replace('$', "$$");
    if !escaped.is_empty()
        && escaped
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@+,".contains(c))
    {
        return escaped;
    }
    format!("\"{}\"", escaped.replace('\\', "\\\\").replace('"', "\\\""))
}

/// One argument for sh: bare when plain, else in single quotes.
#[must_use]
pub fn shell_quote(arg: &str) -> String {
    if !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@+,".contains(c))
    {
        return arg.to_owned();
    }
    format!("'{}'", arg.replace('\'', "'\\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_are_quoted_for_systemd_and_sh() {
        assert_eq!(systemd_quote("/usr/bin/certtool"), "/usr/bin/certtool");
        assert_eq!(
            systemd_quote("systemctl restart influxdb"),
            "\"systemctl restart influxdb\""
        );
        assert_eq!(systemd_quote("a\"b$%"), "\"a\\\"b$$%%\"");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
    }
}
