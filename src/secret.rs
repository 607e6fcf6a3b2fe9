//! Reading and generating shared secrets: the one place a secret enters certtool.
//!
//! Secrets never come from a plain argv value (argv is visible to every user through `ps` and
//! /proc). They come from a file, a named environment variable, stdin, an InfluxDB config, the
//! `INFLUXDB_HTTP_SHARED_SECRET` variable, or a hidden prompt when stdin is a terminal. The bytes
//! live in `Zeroizing` buffers and are never printed, logged or put in `--json` output.

use std::io::{IsTerminal, Read};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use ring::rand::SecureRandom;
use zeroize::Zeroizing;

use crate::error::Error;
use crate::files;
use crate::output::Output;

/// The environment variable InfluxDB itself reads the shared secret from.
pub const INFLUXDB_SECRET_ENV: &str = "INFLUXDB_HTTP_SHARED_SECRET";

/// The most a secret may be: far above any real shared secret or password (a 200 MB stdin was
/// once accepted and held in memory).
pub const MAX_SECRET_BYTES: usize = 64 * 1024;

/// Shorter secrets get a warning: HS256 keys should have at least 256 bits.
pub const RECOMMENDED_BYTES: usize = 32;

/// Secret bytes, wiped from memory when dropped.
pub type Secret = Zeroizing<Vec<u8>>;

/// Where to read a secret from; at most one is set (clap enforces it).
#[derive(Debug, Default, Clone)]
pub struct SecretSource {
    pub file: Option<PathBuf>,
    pub env: Option<String>,
    pub stdin: bool,
    pub from_config: Option<PathBuf>,
}

impl SecretSource {
    /// Whether any source was named on the command line (the environment and the prompt are
    /// fallbacks, not choices).
    #[must_use]
    pub fn is_given(&self) -> bool {
        self.file.is_some() || self.env.is_some() || self.stdin || self.from_config.is_some()
    }
}

const SOURCES_HINT: &str = "pass --secret-file FILE, --secret-env VAR, --secret-stdin or \
     --from-config influxdb.conf, or set INFLUXDB_HTTP_SHARED_SECRET";

/// Read the secret from the first source given, in the documented order of preference.
pub fn read_secret(source: &SecretSource, out: &mut Output) -> Result<Secret> {
    let raw = if let Some(path) = &source.file {
        let bytes = files::read_input(path)?;
        if bytes.len() > MAX_SECRET_BYTES {
            return Err(too_long(&format!("'{}'", path.display())).into());
        }
        from_secret_file(bytes, path)?
    } else if let Some(var) = &source.env {
        from_env(var)?.ok_or_else(|| {
            Error::invalid(
                format!("environment variable {var} is not set"),
                "export it first, or choose another secret source",
            )
        })?
    } else if source.stdin {
        let mut buf = Zeroizing::new(Vec::new());
        std::io::stdin()
            .lock()
            .take(MAX_SECRET_BYTES as u64 + 1)
            .read_to_end(&mut buf)
            .context("cannot read the secret from stdin")?;
        if buf.len() > MAX_SECRET_BYTES {
            return Err(too_long("stdin").into());
        }
        buf
    } else if let Some(config) = &source.from_config {
        from_influxdb_config(config)?
    } else if let Some(value) = from_env(INFLUXDB_SECRET_ENV)? {
        value
    } else if std::io::stdin().is_terminal() && std::io::stderr().is_terminal() {
        prompt()?
    } else {
        return Err(Error::invalid(
            "no shared secret given (and no terminal to ask on)",
            SOURCES_HINT,
        )
        .into());
    };
    let secret = strip_one_newline(raw);
    // The error about the secret itself comes first (or alone); then what is wrong around it.
    check_secret(&secret)?;
    if let Some(path) = source.file.as_ref().or(source.from_config.as_ref()) {
        warn_if_readable_by_others(path, out)?;
    }
    if secret.len() < RECOMMENDED_BYTES {
        out.warn(&format!(
            "the secret is only {} bytes; use at least {RECOMMENDED_BYTES} \
             (certtool secret generate makes one)",
            secret.len()
        ))?;
    }
    Ok(secret)
}

/// A `--secret-file` holds the secret alone, or is an environment file (`KEY=VALUE` lines, as
/// `certtool config influxdb --auth` writes `influxdb.env` for systemd's EnvironmentFile=):
/// then the secret is the value of `INFLUXDB_HTTP_SHARED_SECRET`, unquoted as systemd and sh
/// read it. An environment file without that variable is refused rather than used whole.
fn from_secret_file(bytes: Secret, path: &Path) -> Result<Secret> {
    let Ok(text) = std::str::from_utf8(&bytes) else {
        return Ok(bytes);
    };
    let Some(assignments) = env_assignments(text) else {
        return Ok(bytes);
    };
    // As in a shell, the last assignment wins. The value's own line ending is not part of it.
    if let Some((_, value)) = assignments
        .iter()
        .rev()
        .find(|(name, _)| *name == INFLUXDB_SECRET_ENV)
    {
        return Ok(unquote_env_value(value));
    }
    let names: Vec<&str> = assignments.iter().map(|(name, _)| *name).collect();
    Err(Error::invalid(
        format!(
            "'{}' is an environment file that does not set {INFLUXDB_SECRET_ENV} (it sets {})",
            path.display(),
            names.join(", ")
        ),
        format!(
            "point --secret-file at a file holding only the secret, or at the env file \
             certtool config influxdb --auth wrote; for another variable, export it and \
             pass --secret-env {}",
            names[0]
        ),
    )
    .into())
}

/// The variables an environment file sets (as systemd's EnvironmentFile= reads them), the last
/// assignment of a name winning; `None` if `text` is not an environment file.
#[must_use]
pub fn env_file_values(text: &str) -> Option<Vec<(String, Zeroizing<String>)>> {
    let assignments = env_assignments(text)?;
    let mut values: Vec<(String, Zeroizing<String>)> = Vec::new();
    for (name, value) in assignments {
        let value = unquote_env_value(value);
        let value = Zeroizing::new(String::from_utf8_lossy(&value).into_owned());
        values.retain(|(n, _)| n != name);
        values.push((name.to_owned(), value));
    }
    Some(values)
}

/// The `NAME=value` lines of an environment file, if `text` is one: every line that is not
/// blank or a `#` comment assigns an upper-case variable (optionally after `export `). A secret
/// on its own never looks like that (generated ones are base64url or hex, without `=`).
fn env_assignments(text: &str) -> Option<Vec<(&str, &str)>> {
    let mut assignments = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").map_or(line, str::trim_start);
        let (name, value) = line.split_once('=')?;
        let is_variable = name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_uppercase() || c == '_')
            && name
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
        if !is_variable {
            return None;
        }
        assignments.push((name, value));
    }
    (!assignments.is_empty()).then_some(assignments)
}

/// An env file value as systemd and sh read it: `"..."` with `\\`, `\"`, `\$` and `` \` ``
/// escapes, `'...'` literally, or bare (trailing blanks dropped).
fn unquote_env_value(value: &str) -> Secret {
    let value = value.trim_end();
    let mut out = Zeroizing::new(Vec::with_capacity(value.len()));
    if let Some(inner) = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            let c = match c {
                '\\' => chars.next().unwrap_or('\\'),
                c => c,
            };
            let mut buf = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        }
    } else if let Some(inner) = value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')) {
        out.extend_from_slice(inner.as_bytes());
    } else {
        out.extend_from_slice(value.as_bytes());
    }
    out
}

fn too_long(source: &str) -> Error {
    Error::invalid(
        format!(
            "the secret from {source} is longer than {} KiB",
            MAX_SECRET_BYTES / 1024
        ),
        "a shared secret is a short line, e.g. from certtool secret generate",
    )
}

fn from_env(var: &str) -> Result<Option<Secret>> {
    if std::env::var_os(var).is_some_and(|v| v.len() > MAX_SECRET_BYTES) {
        return Err(too_long(&format!("${var}")).into());
    }
    match std::env::var_os(var) {
        Some(value) => Ok(Some(Zeroizing::new(
            value
                .into_string()
                .map_err(|_| anyhow::anyhow!("environment variable {var} is not valid UTF-8"))?
                .into_bytes(),
        ))),
        None => Ok(None),
    }
}

fn prompt() -> Result<Secret> {
    let value = dialoguer::Password::new()
        .with_prompt("Shared secret")
        .interact()
        .context("cannot read the secret from the terminal")?;
    Ok(Zeroizing::new(value.into_bytes()))
}

/// `[http] shared-secret` from an InfluxDB 1.x config, read with `toml_edit`.
fn from_influxdb_config(path: &Path) -> Result<Secret> {
    let bytes = files::read_input(path)?;
    let text = std::str::from_utf8(&bytes)
        .with_context(|| format!("'{}' is not UTF-8 text", path.display()))?;
    let doc: toml_edit::Document<&str> = toml_edit::Document::parse(text)
        .map_err(|e| anyhow::anyhow!("cannot parse '{}': {}", path.display(), e.message()))?;
    let value = doc
        .get("http")
        .and_then(|http| http.get("shared-secret"))
        .and_then(|v| v.as_str())
        .ok_or_else(|| {
            Error::invalid(
                format!("'{}' has no [http] shared-secret", path.display()),
                "set it there, or pass the secret another way",
            )
        })?;
    Ok(Zeroizing::new(value.as_bytes().to_vec()))
}

/// Files and stdin usually end with a newline that is not part of the secret; InfluxDB would
/// use the newline as key bytes and reject every token. Exactly one is removed.
#[must_use]
pub fn strip_one_newline(mut secret: Secret) -> Secret {
    if secret.last() == Some(&b'\n') {
        secret.pop();
        if secret.last() == Some(&b'\r') {
            secret.pop();
        }
    }
    secret
}

fn check_secret(secret: &[u8]) -> Result<()> {
    if secret.iter().all(u8::is_ascii_whitespace) {
        return Err(Error::invalid(
            "the shared secret is empty",
            "an empty shared-secret disables token checks in some InfluxDB releases \
             (CVE-2019-20933); generate one with: certtool secret generate --out shared.secret",
        )
        .into());
    }
    Ok(())
}

fn warn_if_readable_by_others(path: &Path, out: &mut Output) -> Result<()> {
    if let Ok(meta) = std::fs::metadata(path)
        && meta.mode() & 0o077 != 0
    {
        out.warn(&format!(
            "'{}' is readable by others (mode {}); run: certtool perms --fix {}",
            path.display(),
            crate::text::mode_string(meta.mode()),
            path.display()
        ))?;
    }
    Ok(())
}

/// How a generated secret is written out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Encoding {
    /// URL-safe base64 without padding (safe in env files and TOML strings)
    #[default]
    Base64url,
    /// Lower-case hexadecimal
    Hex,
}

/// `bytes` random bytes from the OS, encoded as text.
pub fn generate(bytes: usize, encoding: Encoding) -> Result<Zeroizing<String>> {
    let mut raw = Zeroizing::new(vec![0u8; bytes]);
    ring::rand::SystemRandom::new()
        .fill(&mut raw)
        .map_err(|_| anyhow::anyhow!("the system random number generator failed"))?;
    // Encode straight into a zeroizing buffer: no intermediate copy of the secret is left behind.
    let mut text = Zeroizing::new(String::with_capacity(bytes * 2));
    match encoding {
        Encoding::Base64url => {
            use base64::Engine as _;
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode_string(raw.as_slice(), &mut text);
        }
        Encoding::Hex => {
            const DIGITS: &[u8; 16] = b"0123456789abcdef";
            for b in raw.iter() {
                text.push(char::from(DIGITS[usize::from(b >> 4)]));
                text.push(char::from(DIGITS[usize::from(b & 0x0f)]));
            }
        }
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_files_give_the_influxdb_variable_and_nothing_else() {
        let read = |text: &str| {
            from_secret_file(Zeroizing::new(text.as_bytes().to_vec()), Path::new("f"))
                .map(|s| String::from_utf8(s.to_vec()).unwrap())
        };
        assert_eq!(
            read("INFLUXDB_HTTP_SHARED_SECRET=abc-DEF_1=\n").unwrap(),
            "abc-DEF_1="
        );
        assert_eq!(
            read("# influxd\nexport INFLUXDB_HTTP_SHARED_SECRET=\"a b\\\"\\$c\"\nOTHER=1\n")
                .unwrap(),
            "a b\"$c"
        );
        assert_eq!(read("INFLUXDB_HTTP_SHARED_SECRET='x\\y'").unwrap(), "x\\y");
        let err = read("INFLUX_TOKEN=abc\n").unwrap_err().to_string();
        assert!(
            err.contains("does not set INFLUXDB_HTTP_SHARED_SECRET")
                && err.contains("INFLUX_TOKEN"),
            "{err}"
        );
        assert!(!err.contains("abc"), "never the value: {err}");
        // Secrets on their own, even ones with = or lower-case names before it, are taken whole.
        for secret in [
            "c2VjcmV0MTIzNDU2Nzg5MA==\n",
            "abc=def\n",
            "#not-a-comment-only\nx",
            "plain",
        ] {
            assert_eq!(read(secret).unwrap(), secret, "{secret:?}");
        }
    }

    #[test]
    fn strips_exactly_one_newline() {
        let s = |b: &[u8]| strip_one_newline(Zeroizing::new(b.to_vec())).to_vec();
        assert_eq!(s(b"abc\n"), b"abc");
        assert_eq!(s(b"abc\r\n"), b"abc");
        assert_eq!(s(b"abc\n\n"), b"abc\n");
        assert_eq!(s(b"abc"), b"abc");
    }

    #[test]
    fn generated_secrets_have_the_right_length_and_alphabet() {
        let b = generate(32, Encoding::Base64url).unwrap();
        assert_eq!(b.len(), 43);
        assert!(
            b.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        );
        let h = generate(32, Encoding::Hex).unwrap();
        assert_eq!(h.len(), 64);
        assert!(
            h.bytes()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        assert_ne!(generate(32, Encoding::Hex).unwrap(), h);
    }

    #[test]
    fn empty_secrets_are_refused() {
        assert!(check_secret(b"  \t").is_err());
        assert!(check_secret(b"").is_err());
        check_secret(b"short").unwrap();
    }
}
