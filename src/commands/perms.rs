//! `certtool perms`: the 644/600 rule as a command.
//!
//! Files are classified by content, not name: a private key (or a bundle holding one) or a secret
//! must not be readable by group or others; a certificate must be readable by all and writable by
//! its owner only. Every file is opened with `O_NOFOLLOW` and fixed through that descriptor, so a
//! symlink swapped in between the check and the fix cannot redirect a chmod or chown.

use std::fmt::Write as _;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Serialize;

use super::resolve_owner;
use crate::cli::PermsArgs;
use crate::error::ExitStatus;
use crate::files::{self, ExistingFile, FileKind, Owner};
use crate::output::Output;
use crate::pki::parse::is_private_key_label;
use crate::text::mode_string;

/// The largest file `perms` classifies: the whole file is read, since a key may come after any
/// number of certificates. A larger file is reported and its mode left alone (never loosened).
pub const CLASSIFY_LIMIT: u64 = 16 * 1024 * 1024;

/// What a file was found to hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Content {
    Known(FileKind),
    /// A service config (InfluxDB's `shared-secret = "..."`, a Telegraf `password`): the
    /// service must still read it, so group read is allowed, others nothing.
    ConfigWithSecret,
    /// An OpenSSL `.srl` serial number file: not a secret.
    Serial,
    Unknown,
    TooLarge,
    Symlink,
}

impl Content {
    /// The name used in `--json` output.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Content::Known(kind) => kind.name(),
            Content::ConfigWithSecret => "config_with_secret",
            Content::Serial => "serial",
            Content::Unknown => "unknown",
            Content::TooLarge => "too_large",
            Content::Symlink => "symlink",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Content::Known(kind) => kind.label(),
            Content::ConfigWithSecret => "config with a secret",
            _ => "",
        }
    }

    /// Whether the file holds anything that others must not read.
    fn is_secret(self) -> bool {
        matches!(
            self,
            Content::Known(FileKind::PrivateKey | FileKind::Bundle | FileKind::Secret)
                | Content::ConfigWithSecret
        )
    }
}

impl Serialize for Content {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

/// Tell what a whole file (`bytes`, named `name`) holds. Anything secret anywhere in it wins:
/// a private key after 64 KiB of certificates, or a `SECRET=` line after a certificate, makes
/// the file secret.
#[must_use]
pub fn classify(name: &str, bytes: &[u8]) -> Content {
    let has_key =
        contains(bytes, b"PRIVATE KEY-----") || contains(bytes, b"Proc-Type: 4,ENCRYPTED");
    let has_cert = contains(bytes, b"-----BEGIN CERTIFICATE-----");
    let text = String::from_utf8_lossy(bytes);
    let secret_line = text.lines().find_map(secret_assignment);
    match (has_key, has_cert, secret_line) {
        (true, true, _) => Content::Known(FileKind::Bundle),
        (true, false, _) => Content::Known(FileKind::PrivateKey),
        (false, _, Some(Assignment::Env)) => Content::Known(FileKind::Secret),
        (false, _, Some(Assignment::Config)) => Content::ConfigWithSecret,
        (false, true, None) => Content::Known(FileKind::Certificate),
        (false, false, None) if contains(bytes, b"-----BEGIN CERTIFICATE REQUEST-----") => {
            Content::Known(FileKind::CertificateRequest)
        }
        (false, false, None) => classify_other(name, bytes),
    }
}

/// A file with no PEM and no secret assignment: DER, a serial file, a bare token, or unknown.
fn classify_other(name: &str, bytes: &[u8]) -> Content {
    if !contains(bytes, b"-----BEGIN")
        && let Ok(blocks) = crate::pki::parse::parse_blocks(bytes)
    {
        return if blocks.iter().any(|b| is_private_key_label(&b.label)) {
            Content::Known(FileKind::PrivateKey)
        } else {
            Content::Known(FileKind::Certificate)
        };
    }
    let Ok(text) = std::str::from_utf8(bytes) else {
        return Content::Unknown;
    };
    let token = text.strip_suffix('\n').unwrap_or(text);
    let serial_name = Path::new(name)
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("srl"));
    if serial_name && !token.is_empty() && token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Content::Serial;
    }
    let is_token = (16..=4096).contains(&token.len())
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'+' | b'/' | b'='));
    if is_token {
        Content::Known(FileKind::Secret)
    } else {
        Content::Unknown
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// How a line assigns a secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Assignment {
    /// `INFLUXDB_HTTP_SHARED_SECRET=...`: an environment file, owner only.
    Env,
    /// `shared-secret = "..."` in TOML: a service config, which its service must read.
    Config,
}

/// Whether `line` gives a non-empty value to a name that says secret, token or password.
fn secret_assignment(line: &str) -> Option<Assignment> {
    let line = line.trim_start();
    if line.starts_with('#') {
        return None;
    }
    let line = line.strip_prefix("export ").unwrap_or(line).trim_start();
    let (name, value) = line.split_once('=')?;
    let value = value.trim();
    let empty = value.is_empty() || value == "\"\"" || value == "''";
    let secretive = ["SECRET", "TOKEN", "PASSWORD"]
        .iter()
        .any(|word| name.to_ascii_uppercase().contains(word));
    if empty || !secretive {
        return None;
    }
    if !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        Some(Assignment::Env)
    } else if name
        .trim()
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'"'))
    {
        Some(Assignment::Config)
    } else {
        None
    }
}

/// Whether `mode` is right for `content`.
#[must_use]
pub fn mode_ok(content: Content, mode: u32) -> bool {
    let mode = mode & 0o7777;
    match content {
        // 0600 or 0400: nobody but the owner; readable by the owner.
        Content::Known(FileKind::PrivateKey | FileKind::Bundle | FileKind::Secret) => {
            mode & !0o600 == 0 && mode & 0o400 != 0
        }
        // 0644 or 0444: everyone reads it (clients run as other users), only the owner writes.
        Content::Known(FileKind::Certificate | FileKind::CertificateRequest) => {
            mode & !0o644 == 0 && mode & 0o444 == 0o444
        }
        // The service's group may read it; nobody else.
        Content::ConfigWithSecret => mode & !0o640 == 0 && mode & 0o400 != 0,
        Content::Known(FileKind::Config) => mode & 0o022 == 0 && mode & 0o400 != 0,
        Content::Serial | Content::Unknown | Content::TooLarge | Content::Symlink => true,
    }
}

/// The mode `--fix` sets. For anything secret it only takes bits away (and adds owner read):
/// `perms` never makes a file that holds a secret more readable than it was.
#[must_use]
pub fn fixed_mode(content: Content, mode: u32) -> u32 {
    let mode = mode & 0o7777;
    match content {
        Content::Known(FileKind::Certificate | FileKind::CertificateRequest) => 0o644,
        Content::ConfigWithSecret => (mode & 0o640) | 0o400,
        c if c.is_secret() => (mode & 0o600) | 0o400,
        _ => mode,
    }
}

/// The mode to show as expected.
fn expected_mode(content: Content) -> Option<u32> {
    match content {
        Content::Known(FileKind::Certificate | FileKind::CertificateRequest) => Some(0o644),
        Content::ConfigWithSecret => Some(0o640),
        c if c.is_secret() => Some(0o600),
        _ => None,
    }
}

/// The report for one file.
#[derive(Debug, Serialize)]
struct FileReport {
    path: PathBuf,
    /// What the file holds: `kind` in JSON, as for every file certtool reports.
    #[serde(rename = "kind")]
    content: Content,
    mode: String,
    expected_mode: Option<String>,
    owner: String,
    problems: Vec<String>,
    fixed: Vec<String>,
    ok: bool,
}

#[derive(Serialize)]
struct Report {
    files: Vec<FileReport>,
}

impl crate::output::Report for Report {
    fn ok(&self) -> bool {
        self.files.iter().all(|r| r.ok)
    }

    fn text(&self) -> crate::output::Text {
        crate::output::Text::listing(text_lines(&self.files))
    }
}

/// Run `certtool perms`.
pub fn run(args: &PermsArgs, out: &mut Output) -> Result<ExitStatus> {
    let owner = resolve_owner(args.owner.as_deref())?;
    let paths = expand_paths(&args.paths)?;
    let mut reports = Vec::with_capacity(paths.len());
    for path in paths {
        reports.push(judge_file(&path, owner, args.fix)?);
    }
    let report = Report { files: reports };
    out.report(&report)?;
    Ok(ExitStatus::from_ok(crate::output::Report::ok(&report)))
}

/// Every file to check: the paths given, with directories replaced by the files directly in
/// them. Missing paths fail here, before anything is fixed.
fn expand_paths(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        let meta = std::fs::symlink_metadata(path)
            .with_context(|| format!("cannot read '{}'", path.display()))?;
        if meta.is_dir() {
            // Every entry but directories: hidden files and .bak copies may hold keys too.
            files.extend(files::list_dir(path)?.into_iter().map(|e| e.path));
        } else {
            files.push(path.clone());
        }
    }
    Ok(files)
}

fn judge_file(path: &Path, owner: Option<Owner>, fix: bool) -> Result<FileReport> {
    let link_meta = std::fs::symlink_metadata(path)
        .with_context(|| format!("cannot read '{}'", path.display()))?;
    if link_meta.file_type().is_symlink() {
        return Ok(FileReport {
            path: path.to_path_buf(),
            content: Content::Symlink,
            mode: mode_string(link_meta.mode()),
            expected_mode: None,
            owner: owner_string(link_meta.uid(), link_meta.gid()),
            problems: Vec::new(),
            fixed: Vec::new(),
            ok: true,
        });
    }
    let mut file = ExistingFile::open_no_follow(path)?;
    let content = if file.meta.is_file() {
        let bytes = file
            .head(CLASSIFY_LIMIT + 1)
            .with_context(|| format!("cannot read '{}'", path.display()))?;
        if bytes.len() as u64 > CLASSIFY_LIMIT {
            Content::TooLarge
        } else {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default();
            classify(&name, &bytes)
        }
    } else {
        Content::Unknown
    };
    let mut report = FileReport {
        path: path.to_path_buf(),
        content,
        mode: mode_string(file.mode()),
        expected_mode: None,
        owner: owner_string(file.meta.uid(), file.meta.gid()),
        problems: Vec::new(),
        fixed: Vec::new(),
        ok: true,
    };
    let Some(expected) = expected_mode(content) else {
        return Ok(report);
    };
    report.expected_mode = Some(mode_string(expected));
    check_mode(&file, content, fix, &mut report).with_context(|| path.display().to_string())?;
    if let Some(owner) = owner {
        check_owner(&file, owner, fix, &mut report).with_context(|| path.display().to_string())?;
        file = ExistingFile::open_no_follow(path)?;
        report.owner = owner_string(file.meta.uid(), file.meta.gid());
    }
    if content.is_secret() {
        check_directory(path, &mut report);
    }
    report.ok = report.problems.is_empty();
    Ok(report)
}

fn check_mode(
    file: &ExistingFile,
    content: Content,
    fix: bool,
    report: &mut FileReport,
) -> Result<()> {
    let mode = file.mode();
    if mode_ok(content, mode) {
        return Ok(());
    }
    let want = fixed_mode(content, mode);
    if fix {
        file.set_mode(want)?;
        report.fixed.push(format!(
            "mode {} -> {}",
            mode_string(mode),
            mode_string(want)
        ));
        report.mode = mode_string(want);
    } else {
        report.problems.push(format!(
            "mode {}, want {}",
            mode_string(mode),
            mode_string(want)
        ));
    }
    Ok(())
}

fn check_owner(
    file: &ExistingFile,
    owner: Owner,
    fix: bool,
    report: &mut FileReport,
) -> Result<()> {
    let (uid, gid) = (file.meta.uid(), file.meta.gid());
    if owner.matches(uid, gid) {
        return Ok(());
    }
    let want = owner_string(
        owner.uid.map_or(uid, nix::unistd::Uid::as_raw),
        owner.gid.map_or(gid, nix::unistd::Gid::as_raw),
    );
    if fix {
        file.set_owner(owner)?;
        report
            .fixed
            .push(format!("owner {} -> {want}", owner_string(uid, gid)));
    } else {
        report
            .problems
            .push(format!("owner {}, want {want}", owner_string(uid, gid)));
    }
    Ok(())
}

/// A secret in a directory anyone may write to (and that lacks the sticky bit) can be replaced
/// or removed by anyone, whatever its own mode. certtool reports this but does not change
/// directory modes: that would affect every other file there.
fn check_directory(path: &Path, report: &mut FileReport) {
    let dir = files::parent_dir(path);
    if let Ok(meta) = std::fs::metadata(dir) {
        let mode = meta.mode();
        if mode & 0o002 != 0 && mode & 0o1000 == 0 {
            report.problems.push(format!(
                "its directory '{}' is world-writable (mode {}): anyone can replace it; \
                 run chmod o-w on the directory",
                dir.display(),
                mode_string(mode)
            ));
        }
    }
}

fn owner_string(uid: u32, gid: u32) -> String {
    format!("{}:{}", files::user_name(uid), files::group_name(gid))
}

fn text_lines(reports: &[FileReport]) -> String {
    let mut text = String::new();
    for r in reports {
        let (status, detail) = match r.content {
            Content::Symlink => (
                "skipped",
                "symbolic link, not followed (give the real path)".to_owned(),
            ),
            Content::Unknown => (
                "skipped",
                format!(
                    "not a certificate, key or secret; mode {} left alone",
                    r.mode
                ),
            ),
            Content::Serial => (
                "skipped",
                format!(
                    "OpenSSL serial number file, not a secret; mode {} left alone",
                    r.mode
                ),
            ),
            Content::TooLarge => (
                "skipped",
                format!(
                    "larger than {} MiB, not read to the end, so not classified; mode {} left alone",
                    CLASSIFY_LIMIT / 1024 / 1024,
                    r.mode
                ),
            ),
            Content::Known(_) | Content::ConfigWithSecret => {
                let kind = r.content.label();
                let mut detail = format!("{kind}, mode {}, {}", r.mode, r.owner);
                for fixed in &r.fixed {
                    let _ = write!(detail, "; fixed {fixed}");
                }
                for problem in &r.problems {
                    let _ = write!(detail, "; {problem}");
                }
                let status = if !r.ok {
                    "WRONG"
                } else if r.fixed.is_empty() {
                    "ok"
                } else {
                    "fixed"
                };
                (status, detail)
            }
        };
        let _ = writeln!(
            text,
            "{status:<7} {}: {detail}",
            crate::text::sanitize(&r.path.display().to_string())
        );
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    const CERT: &str = "-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n";
    const KEY: &str = "-----BEGIN PRIVATE KEY-----\nMAA=\n-----END PRIVATE KEY-----\n";

    fn known(kind: FileKind) -> Content {
        Content::Known(kind)
    }

    #[test]
    fn classifies_by_content() {
        let rsa = "-----BEGIN RSA PRIVATE KEY-----\nMAA=\n-----END RSA PRIVATE KEY-----\n";
        assert_eq!(classify("a", CERT.as_bytes()), known(FileKind::Certificate));
        assert_eq!(classify("a", KEY.as_bytes()), known(FileKind::PrivateKey));
        assert_eq!(classify("a", rsa.as_bytes()), known(FileKind::PrivateKey));
        assert_eq!(
            classify("a", format!("{CERT}{KEY}").as_bytes()),
            known(FileKind::Bundle)
        );
        assert_eq!(
            classify("a", b"q2J6lW8x0nYb4cF1Vt9KsZpA3eRmHuDg7LwXoTiEyQ\n"),
            known(FileKind::Secret)
        );
        assert_eq!(
            classify("a", b"# env\nINFLUXDB_HTTP_SHARED_SECRET=abc\n"),
            known(FileKind::Secret)
        );
        assert_eq!(classify("a", b"hello world\n"), Content::Unknown);
        assert_eq!(classify("a", b"[http]\nenabled = true\n"), Content::Unknown);
        assert_eq!(classify("a", b"SECRET=\n"), Content::Unknown);
    }

    #[test]
    fn a_secret_anywhere_makes_the_file_secret() {
        let mut late_key = CERT.repeat(65_536 / CERT.len() + 1);
        late_key.push_str(KEY);
        assert_eq!(
            classify("b.pem", late_key.as_bytes()),
            known(FileKind::Bundle)
        );
        let env_after_cert = format!("{CERT}INFLUXDB_HTTP_SHARED_SECRET=abc\n");
        assert_eq!(
            classify("x", env_after_cert.as_bytes()),
            known(FileKind::Secret)
        );
        let damaged = "-----BEGIN PRIVATE KEY%----\nMAA=\n-----END PRIVATE KEY-----\n";
        assert_eq!(
            classify("k", damaged.as_bytes()),
            known(FileKind::PrivateKey)
        );
    }

    #[test]
    fn configs_with_secrets_serials_and_commented_defaults() {
        let conf = b"[http]\n  # shared-secret = \"\"\n  shared-secret = \"s3cr3t\"\n";
        assert_eq!(classify("influxdb.conf", conf), Content::ConfigWithSecret);
        let default = b"[http]\n  # shared-secret = \"x\"\n  shared-secret = \"\"\n";
        assert_eq!(classify("influxdb.conf", default), Content::Unknown);
        assert_eq!(
            classify("ca.srl", b"1F2E3D4C5B6A79880123456789ABCDEF01234567\n"),
            Content::Serial
        );
    }

    #[test]
    fn mode_rules() {
        for ok in [0o600, 0o400] {
            assert!(mode_ok(known(FileKind::PrivateKey), ok), "{ok:o}");
        }
        for bad in [0o640, 0o644, 0o604, 0o700, 0o4600, 0o000, 0o200] {
            assert!(!mode_ok(known(FileKind::PrivateKey), bad), "{bad:o}");
        }
        for ok in [0o644, 0o444] {
            assert!(mode_ok(known(FileKind::Certificate), ok), "{ok:o}");
        }
        for bad in [0o600, 0o664, 0o666, 0o755, 0o640] {
            assert!(!mode_ok(known(FileKind::Certificate), bad), "{bad:o}");
        }
        assert!(mode_ok(Content::ConfigWithSecret, 0o640));
        assert!(!mode_ok(Content::ConfigWithSecret, 0o644));
    }

    #[test]
    fn fixing_a_secret_never_adds_read_bits_for_others() {
        for mode in 0..=0o7777u32 {
            for content in [
                known(FileKind::PrivateKey),
                known(FileKind::Bundle),
                known(FileKind::Secret),
                Content::ConfigWithSecret,
            ] {
                let fixed = fixed_mode(content, mode);
                assert_eq!(fixed & 0o077 & !(mode & 0o077), 0, "{mode:o} -> {fixed:o}");
                assert!(mode_ok(content, fixed), "{content:?} {mode:o} -> {fixed:o}");
            }
        }
    }
}
