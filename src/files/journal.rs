//! The intent record: how a set of files (key + certificate, a config and its env file, a pair
//! and its `.bak` copies) is replaced all or nothing even when certtool is killed (SIGKILL,
//! power loss) between two renames.
//!
//! Before the first rename, the writer records every target, the temp file that will replace
//! it, and the hard link that keeps the old file, in `.certtool-intent` in each directory it
//! writes to; it is synced together with the temp files. After the last rename (and the `.bak`
//! renames) the record is removed. The next certtool that locks one of those directories finds
//! a record left by a dead run and repairs the set:
//! - no temp file was renamed yet: the run was killed before it replaced anything, so the write
//!   is **undone** (temp files and links removed; the old files stand as they were);
//! - at least one was renamed: every temp file had already been written and synced (renames
//!   start only after that), so the write is **completed** (the rest are renamed into place).
//!
//! Either way the key matches the certificate again. The record holds paths only, no contents.
//! It must not decide what is written; [`super::lock`] decides when it is read.

use std::ffi::OsStr;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::{SECRET_MODE, backup_path, parent_dir, sync_dir};

/// The record's file name in each directory written to.
pub const NAME: &str = ".certtool-intent";
const MAGIC: &[u8] = b"certtool-intent 2";

/// One file of the set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub target: PathBuf,
    /// The new contents, written and synced, waiting to be renamed over `target`.
    pub temp: PathBuf,
    /// A hard link to the old `target`, made just before the rename (if there was one).
    pub link: PathBuf,
    /// Whether the old file is kept as `TARGET.bak` afterwards.
    pub keep_backup: bool,
}

/// The record of one write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Journal {
    pub pid: u32,
    pub entries: Vec<Entry>,
}

/// What a repair did, for the command to tell the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recovered {
    pub pid: u32,
    pub completed: bool,
    pub targets: Vec<PathBuf>,
}

impl std::fmt::Display for Recovered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<String> = self
            .targets
            .iter()
            .map(|p| crate::text::sanitize(&p.display().to_string()))
            .collect();
        if self.completed {
            write!(
                f,
                "an earlier certtool (pid {}) was killed while replacing {}; its new files were \
                 all written and some were already in place, so the write was completed",
                self.pid,
                names.join(", ")
            )
        } else {
            write!(
                f,
                "an earlier certtool (pid {}) was killed before it replaced {}; the write was \
                 undone and the old files stand",
                self.pid,
                names.join(", ")
            )
        }
    }
}

impl Journal {
    /// The directories the set touches, each of which gets a copy of the record.
    #[must_use]
    pub fn dirs(&self) -> Vec<PathBuf> {
        let mut dirs: Vec<PathBuf> = self
            .entries
            .iter()
            .map(|e| parent_dir(&e.target).to_path_buf())
            .collect();
        dirs.sort();
        dirs.dedup();
        dirs
    }

    fn encode(&self) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        out.push(0);
        out.extend_from_slice(self.pid.to_string().as_bytes());
        out.push(0);
        for e in &self.entries {
            for path in [&e.target, &e.temp, &e.link] {
                out.extend_from_slice(path.as_os_str().as_bytes());
                out.push(0);
            }
            out.push(if e.keep_backup { b'1' } else { b'0' });
            out.push(0);
        }
        out
    }

    fn decode(bytes: &[u8]) -> Option<Journal> {
        let mut fields = bytes.split(|&b| b == 0);
        if fields.next()? != MAGIC {
            return None;
        }
        let pid = std::str::from_utf8(fields.next()?).ok()?.parse().ok()?;
        let rest: Vec<&[u8]> = fields.collect();
        // The record ends with a NUL, so the last field is empty.
        let (last, fields) = rest.split_last()?;
        if !last.is_empty() || fields.len() % 4 != 0 || fields.is_empty() {
            return None;
        }
        let path = |b: &[u8]| PathBuf::from(OsStr::from_bytes(b));
        let entries = fields
            .chunks(4)
            .map(|c| {
                let keep_backup = match c[3] {
                    b"1" => true,
                    b"0" => false,
                    _ => return None,
                };
                Some(Entry {
                    target: path(c[0]),
                    temp: path(c[1]),
                    link: path(c[2]),
                    keep_backup,
                })
            })
            .collect::<Option<Vec<Entry>>>()?;
        Some(Journal { pid, entries })
    }

    /// Write the record into every directory of the set; the caller syncs the returned files
    /// together with the temp files, before the first rename.
    pub fn write(&self) -> Result<Vec<(PathBuf, File)>> {
        let bytes = self.encode();
        let mut written = Vec::new();
        for dir in self.dirs() {
            let path = dir.join(NAME);
            let opened = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(SECRET_MODE)
                .custom_flags(nix::libc::O_NOFOLLOW | nix::libc::O_CLOEXEC)
                .open(&path);
            let mut file = match opened {
                Ok(f) => f,
                Err(e) => {
                    remove_copies(written.iter().map(|(p, _): &(PathBuf, File)| p.as_path()));
                    return Err(e).with_context(|| {
                        format!("cannot write the intent record '{}'", path.display())
                    });
                }
            };
            file.write_all(&bytes)
                .with_context(|| format!("cannot write '{}'", path.display()))?;
            written.push((path, file));
        }
        Ok(written)
    }

    /// Remove every copy of the record: the set is complete (or rolled back).
    pub fn remove(&self) {
        let copies: Vec<PathBuf> = self.dirs().iter().map(|d| d.join(NAME)).collect();
        remove_copies(copies.iter().map(PathBuf::as_path));
    }

    /// Undo or complete the write this record describes; see the module comment.
    pub fn repair(&self) -> Result<Recovered> {
        let renamed = self.entries.iter().any(|e| !exists(&e.temp));
        if renamed {
            for e in self.entries.iter().filter(|e| exists(&e.temp)) {
                if exists(&e.target) && !exists(&e.link) && e.keep_backup {
                    fs::hard_link(&e.target, &e.link).with_context(|| {
                        format!("cannot keep a copy of '{}'", e.target.display())
                    })?;
                }
                fs::rename(&e.temp, &e.target)
                    .with_context(|| format!("cannot complete '{}'", e.target.display()))?;
            }
            for e in self.entries.iter().filter(|e| exists(&e.link)) {
                if e.keep_backup {
                    fs::rename(&e.link, backup_path(&e.target))
                        .with_context(|| format!("cannot keep '{}'", e.target.display()))?;
                } else {
                    let _ = fs::remove_file(&e.link);
                }
            }
        } else {
            for e in &self.entries {
                let _ = fs::remove_file(&e.temp);
                let _ = fs::remove_file(&e.link);
            }
        }
        for dir in self.dirs() {
            sync_dir(&dir)?;
        }
        self.remove();
        Ok(Recovered {
            pid: self.pid,
            completed: renamed,
            targets: self.entries.iter().map(|e| e.target.clone()).collect(),
        })
    }
}

fn exists(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok()
}

fn remove_copies<'p>(paths: impl Iterator<Item = &'p Path>) {
    for path in paths {
        let _ = fs::remove_file(path);
    }
}

/// Whether `dir` holds an intent record (a cheap stat, for reading commands).
#[must_use]
pub fn present_in(dir: &Path) -> bool {
    exists(&dir.join(NAME))
}

/// The record in `dir`, if there is one. An unreadable or truncated record is removed: it was
/// being written when its run died, and no rename happens before it is complete, so there is
/// nothing to repair (its temp files are removed as stale).
///
/// A repair renames and removes files, so a record is trusted only if certtool could have
/// written it: a regular file (never followed through a symlink) owned by this user and
/// writable by nobody else, naming only certtool's own temp files beside their targets, and
/// listing the directory it lies in. Anything else is refused, untouched, with one line.
pub fn read(dir: &Path) -> Result<Option<Journal>> {
    let path = dir.join(NAME);
    let opened = OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NOFOLLOW | nix::libc::O_CLOEXEC | nix::libc::O_NONBLOCK)
        .open(&path);
    let mut file = match opened {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(_) => return Err(untrusted(&path)),
    };
    let meta = file
        .metadata()
        .with_context(|| format!("cannot read '{}'", path.display()))?;
    let me = nix::unistd::Uid::effective().as_raw();
    if !meta.is_file() || meta.uid() != me || meta.mode() & 0o022 != 0 {
        return Err(untrusted(&path));
    }
    let mut bytes = Vec::new();
    Read::by_ref(&mut file)
        .take(1 << 20)
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read '{}'", path.display()))?;
    let Some(journal) = Journal::decode(&bytes) else {
        let _ = fs::remove_file(&path);
        return Ok(None);
    };
    let here = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
    let lists_here = journal.dirs().iter().any(|d| same_dir(d, &here));
    if !lists_here || !journal.entries.iter().all(|e| e.is_certtools(journal.pid)) {
        return Err(untrusted(&path));
    }
    Ok(Some(journal))
}

fn untrusted(path: &Path) -> anyhow::Error {
    crate::error::Error::invalid(
        format!(
            "'{}' is not an intent record certtool wrote (a link, another owner, writable by \
             others, or naming files that are not certtool's); nothing was repaired",
            path.display()
        ),
        "look at it, and remove it if nobody expects it there",
    )
    .into()
}

fn same_dir(a: &Path, b: &Path) -> bool {
    a == b || fs::canonicalize(a).ok() == fs::canonicalize(b).ok()
}

impl Entry {
    /// Whether the temp file and the link are certtool's names for `pid`, beside the target.
    fn is_certtools(&self, pid: u32) -> bool {
        let dir = self.target.parent();
        let named = |path: &Path, ext: &str| {
            path.parent() == dir
                && path.extension().and_then(OsStr::to_str) == Some(ext)
                && path
                    .file_name()
                    .and_then(OsStr::to_str)
                    .is_some_and(|n| n.starts_with('.') && n.contains(&format!(".certtool-{pid}-")))
        };
        self.target.is_absolute() && named(&self.temp, "tmp") && named(&self.link, "bak")
    }
}

/// Whether certtool's temp file `name` (`.NAME.certtool-PID-RANDOM.tmp` or `.bak`) belongs to
/// a process that no longer runs.
fn is_stale_temp(name: &OsStr) -> bool {
    let Some(name) = name.to_str() else {
        return false;
    };
    let ext = Path::new(name).extension().and_then(OsStr::to_str);
    if !name.starts_with('.') || !matches!(ext, Some("tmp" | "bak")) {
        return false;
    }
    let Some((_, rest)) = name.rsplit_once(".certtool-") else {
        return false;
    };
    let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
        return false;
    };
    pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists()
}

/// Remove temp files that dead certtool runs left in `dir` (the caller holds its lock).
pub fn remove_stale_temps(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if is_stale_temp(&entry.file_name()) && entry.file_type().is_ok_and(|t| t.is_file()) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_damaged_ones_are_refused() {
        let j = Journal {
            pid: 42,
            entries: vec![Entry {
                target: PathBuf::from("/a/b.key"),
                temp: PathBuf::from("/a/.b.key.certtool-42-aa.tmp"),
                link: PathBuf::from("/a/.b.key.certtool-42-aa.bak"),
                keep_backup: true,
            }],
        };
        let bytes = j.encode();
        assert_eq!(Journal::decode(&bytes), Some(j));
        for cut in 0..bytes.len() {
            assert_eq!(Journal::decode(&bytes[..cut]), None, "cut at {cut}");
        }
    }

    #[test]
    fn only_certtools_own_temp_names_are_trusted() {
        let entry = |target: &str, temp: &str, link: &str| Entry {
            target: PathBuf::from(target),
            temp: PathBuf::from(temp),
            link: PathBuf::from(link),
            keep_backup: false,
        };
        let good = entry(
            "/a/b.key",
            "/a/.b.key.certtool-7-aa.tmp",
            "/a/.b.key.certtool-7-aa.bak",
        );
        assert!(good.is_certtools(7));
        assert!(!good.is_certtools(8), "another run's names");
        for bad in [
            entry(
                "/etc/shadow",
                "/tmp/.x.certtool-7-aa.tmp",
                "/etc/.x.certtool-7-aa.bak",
            ),
            entry("/a/b.key", "/a/evil", "/a/.b.key.certtool-7-aa.bak"),
            entry("/a/b.key", "/a/.b.key.certtool-7-aa.tmp", "/a/precious"),
            entry(
                "b.key",
                ".b.key.certtool-7-aa.tmp",
                ".b.key.certtool-7-aa.bak",
            ),
        ] {
            assert!(!bad.is_certtools(7), "{bad:?}");
        }
    }

    #[test]
    fn stale_temp_names() {
        assert!(is_stale_temp(OsStr::new(
            ".a.key.certtool-999999999-ab12.tmp"
        )));
        assert!(is_stale_temp(OsStr::new(
            ".a.key.certtool-999999999-ab12.bak"
        )));
        assert!(
            !is_stale_temp(OsStr::new(".a.key.certtool-1-ab12.tmp")),
            "pid 1 runs"
        );
        let mine = format!(".a.certtool-{}-ab.tmp", std::process::id());
        assert!(!is_stale_temp(OsStr::new(&mine)));
        assert!(!is_stale_temp(OsStr::new("a.key.bak")));
    }
}
