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
use crate::output::{Output, mode_string};
use crate::pki::parse::{is_private_key_label, parse_blocks};

/// How much of a file is read to tell what it holds.
const SNIFF_BYTES: u64 = 64 * 1024;

/// What a file was found to hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Content {
    Known(FileKind),
    Unknown,
    Symlink,
}

impl Content {
    /// The name used in `--json` output.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Content::Known(kind) => kind.name(),
            Content::Unknown => "unknown",
            Content::Symlink => "symlink",
        }
    }
}

impl Serialize for Content {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

/// Tell what `bytes` (the start of a file) hold.
#[must_use]
pub fn classify(bytes: &[u8]) -> Content {
    if let Ok(blocks) = parse_blocks(bytes) {
        let has_key = blocks.iter().any(|b| is_private_key_label(&b.label));
        let has_cert = blocks.iter().any(|b| b.label == "CERTIFICATE");
        return match (has_key, has_cert) {
            (true, true) => Content::Known(FileKind::Bundle),
            (true, false) => Content::Known(FileKind::PrivateKey),
            (false, true) => Content::Known(FileKind::Certificate),
            (false, false) => Content::Unknown,
        };
    }
    if looks_like_secret(bytes) {
        Content::Known(FileKind::Secret)
    } else {
        Content::Unknown
    }
}

/// A secret file is one token (base64, base64url or hex, at least 16 characters) on one line,
/// as `certtool secret generate` writes, or an environment file assigning a secret, token or
/// password (`INFLUXDB_HTTP_SHARED_SECRET=...`).
fn looks_like_secret(bytes: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return false;
    };
    let token = text.strip_suffix('\n').unwrap_or(text);
    let is_token = (16..=4096).contains(&token.len())
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'+' | b'/' | b'='));
    is_token || text.lines().any(assigns_secret)
}

fn assigns_secret(line: &str) -> bool {
    let line = line.trim_start().trim_start_matches("export ").trim_start();
    let Some((name, value)) = line.split_once('=') else {
        return false;
    };
    let name = name.trim().to_ascii_uppercase();
    !value.trim().is_empty()
        && !name.is_empty()
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && ["SECRET", "TOKEN", "PASSWORD"]
            .iter()
            .any(|word| name.contains(word))
}

/// Whether `mode` is right for `kind`.
#[must_use]
pub fn mode_ok(kind: FileKind, mode: u32) -> bool {
    let mode = mode & 0o7777;
    match kind {
        // 0600 or 0400: nobody but the owner; readable by the owner.
        FileKind::PrivateKey | FileKind::Bundle | FileKind::Secret => {
            mode & !0o600 == 0 && mode & 0o400 != 0
        }
        // 0644 or 0444: everyone reads it (clients run as other users), only the owner writes.
        FileKind::Certificate => mode & !0o644 == 0 && mode & 0o444 == 0o444,
        // Never writable by others; it may be 0640 or 0600 when it holds a secret.
        FileKind::Config => mode & 0o022 == 0 && mode & 0o400 != 0,
    }
}

/// The report for one file.
#[derive(Debug, Serialize)]
struct FileReport {
    path: PathBuf,
    content: Content,
    mode: String,
    expected_mode: Option<String>,
    owner: String,
    problems: Vec<String>,
    fixed: Vec<String>,
    ok: bool,
}

#[derive(Serialize)]
struct Report<'a> {
    ok: bool,
    files: &'a [FileReport],
}

/// Run `certtool perms`.
pub fn run(args: &PermsArgs, out: &mut Output) -> Result<ExitStatus> {
    let owner = resolve_owner(args.owner.as_deref())?;
    let paths = expand_paths(&args.paths)?;
    let mut reports = Vec::with_capacity(paths.len());
    for path in paths {
        reports.push(check_file(&path, owner, args.fix)?);
    }
    let ok = reports.iter().all(|r| r.ok);
    if out.json() {
        out.json_value(&Report {
            ok,
            files: &reports,
        })?;
    } else {
        out.data(&render_text(&reports))?;
    }
    Ok(ExitStatus::from_ok(ok))
}

/// Every file to check: the paths given, with directories replaced by the files directly in
/// them. Missing paths fail here, before anything is fixed.
fn expand_paths(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        let meta = std::fs::symlink_metadata(path)
            .with_context(|| format!("cannot read '{}'", path.display()))?;
        if meta.is_dir() {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
                .with_context(|| format!("cannot list '{}'", path.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| std::fs::symlink_metadata(p).is_ok_and(|m| !m.is_dir()))
                .collect();
            entries.sort();
            files.extend(entries);
        } else {
            files.push(path.clone());
        }
    }
    Ok(files)
}

fn check_file(path: &Path, owner: Option<Owner>, fix: bool) -> Result<FileReport> {
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
        classify(
            &file
                .head(SNIFF_BYTES)
                .with_context(|| format!("cannot read '{}'", path.display()))?,
        )
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
    let Content::Known(kind) = content else {
        return Ok(report);
    };
    report.expected_mode = Some(mode_string(kind.mode()));
    check_mode(&file, kind, fix, &mut report).with_context(|| path.display().to_string())?;
    if let Some(owner) = owner {
        check_owner(&file, owner, fix, &mut report).with_context(|| path.display().to_string())?;
        file = ExistingFile::open_no_follow(path)?;
        report.owner = owner_string(file.meta.uid(), file.meta.gid());
    }
    if kind != FileKind::Certificate {
        check_directory(path, &mut report);
    }
    report.ok = report.problems.is_empty();
    Ok(report)
}

fn check_mode(
    file: &ExistingFile,
    kind: FileKind,
    fix: bool,
    report: &mut FileReport,
) -> Result<()> {
    let mode = file.mode();
    if mode_ok(kind, mode) {
        return Ok(());
    }
    let want = kind.mode();
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
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
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

fn render_text(reports: &[FileReport]) -> String {
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
            Content::Known(kind) => {
                let kind = kind.label();
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
            crate::output::sanitize(&r.path.display().to_string())
        );
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_by_content() {
        let cert = "-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n";
        let key = "-----BEGIN PRIVATE KEY-----\nMAA=\n-----END PRIVATE KEY-----\n";
        let rsa = "-----BEGIN RSA PRIVATE KEY-----\nMAA=\n-----END RSA PRIVATE KEY-----\n";
        assert_eq!(
            classify(cert.as_bytes()),
            Content::Known(FileKind::Certificate)
        );
        assert_eq!(
            classify(key.as_bytes()),
            Content::Known(FileKind::PrivateKey)
        );
        assert_eq!(
            classify(rsa.as_bytes()),
            Content::Known(FileKind::PrivateKey)
        );
        assert_eq!(
            classify(format!("{cert}{key}").as_bytes()),
            Content::Known(FileKind::Bundle)
        );
        assert_eq!(
            classify(b"q2J6lW8x0nYb4cF1Vt9KsZpA3eRmHuDg7LwXoTiEyQ\n"),
            Content::Known(FileKind::Secret)
        );
        assert_eq!(
            classify(b"# env\nINFLUXDB_HTTP_SHARED_SECRET=abc\n"),
            Content::Known(FileKind::Secret)
        );
        assert_eq!(classify(b"hello world\n"), Content::Unknown);
        assert_eq!(classify(b"[http]\nenabled = true\n"), Content::Unknown);
        assert_eq!(classify(b"SECRET=\n"), Content::Unknown);
    }

    #[test]
    fn mode_rules() {
        for ok in [0o600, 0o400] {
            assert!(mode_ok(FileKind::PrivateKey, ok), "{ok:o}");
        }
        for bad in [0o640, 0o644, 0o604, 0o700, 0o4600, 0o000, 0o200] {
            assert!(!mode_ok(FileKind::PrivateKey, bad), "{bad:o}");
        }
        for ok in [0o644, 0o444] {
            assert!(mode_ok(FileKind::Certificate, ok), "{ok:o}");
        }
        for bad in [0o600, 0o664, 0o666, 0o755, 0o640] {
            assert!(!mode_ok(FileKind::Certificate, bad), "{bad:o}");
        }
    }
}
