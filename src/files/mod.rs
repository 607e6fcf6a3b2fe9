//! Secure, atomic file writing: the only module that creates, replaces or re-moded files.
//!
//! Every file is first written to a temp file in the target's own directory, created with
//! `O_CREAT|O_EXCL|O_NOFOLLOW` and its *final* mode, so a private key is never readable by others,
//! not even for the moment between create and chmod. The mode is then set again with `fchmod`, so
//! it does not depend on the caller's umask. After `fsync` the temp file is renamed over the
//! target (with `RENAME_NOREPLACE` unless `--force`) and the directory is synced, so a crash leaves
//! either the old file or the new one, never a partial file. A set of files (key + certificate) is
//! written all-or-nothing: if one rename fails, the ones before it are rolled back.
//!
//! Around that: [`lock`] serialises writers of one directory, [`journal`] makes a set survive a
//! SIGKILL between its renames, and [`interrupt`] turns SIGINT/SIGTERM/SIGHUP during a write into
//! a clean roll-back.
//!
//! It must not decide *what* to write or which mode a kind of file gets beyond [`FileKind`].

#![allow(
    clippy::disallowed_methods,
    reason = "this module is the one place allowed to write files"
)]

use std::fs::{self, File, OpenOptions, Permissions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use nix::fcntl::{AT_FDCWD, RenameFlags, renameat2};
use nix::unistd::{Gid, Group, Uid, User};
use zeroize::Zeroizing;

use crate::error::Error;

pub mod access;
pub mod interrupt;
pub mod journal;
pub mod lock;

pub use journal::Recovered;
pub use lock::{lock_dirs_of, repair_beside};

/// Mode for certificates: world-readable, as clients and services running as other users read them.
pub const CERT_MODE: u32 = 0o644;
/// Mode for private keys and secrets: owner only. InfluxDB refuses keys more permissive than this.
pub const SECRET_MODE: u32 = 0o600;
/// Mode for directories certtool creates.
pub const DIR_MODE: u32 = 0o755;

/// The longest file name Linux file systems accept, in bytes.
const NAME_MAX: usize = 255;

/// Largest input file certtool reads; protects against `certtool inspect /dev/zero`.
pub const MAX_INPUT_BYTES: u64 = 16 * 1024 * 1024;
/// Largest certificate bundle `check` reads: room for 100,000 certificates and more.
pub const MAX_BUNDLE_BYTES: u64 = 256 * 1024 * 1024;

/// What a file holds, which decides its mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
    Certificate,
    PrivateKey,
    /// A private key and its certificate in one file: as secret as the key.
    Bundle,
    Secret,
    /// A service's config file (or a generated web config); no secrets in it by default.
    Config,
    /// A certificate signing request: public, like a certificate.
    CertificateRequest,
}

impl FileKind {
    /// The name used in `--json` output.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            FileKind::Certificate => "certificate",
            FileKind::PrivateKey => "private_key",
            FileKind::Bundle => "bundle",
            FileKind::Secret => "secret",
            FileKind::Config => "config",
            FileKind::CertificateRequest => "certificate_request",
        }
    }

    /// The name shown to people.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            FileKind::Certificate => "certificate",
            FileKind::PrivateKey => "private key",
            FileKind::Bundle => "key + certificate",
            FileKind::Secret => "secret",
            FileKind::Config => "config",
            FileKind::CertificateRequest => "request",
        }
    }

    #[must_use]
    pub fn mode(self) -> u32 {
        match self {
            FileKind::Certificate | FileKind::Config | FileKind::CertificateRequest => CERT_MODE,
            FileKind::PrivateKey | FileKind::Bundle | FileKind::Secret => SECRET_MODE,
        }
    }
}

/// `--owner USER[:GROUP]`, resolved to ids before anything is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Owner {
    pub uid: Option<Uid>,
    pub gid: Option<Gid>,
}

impl Owner {
    /// Parse `USER`, `USER:GROUP`, `:GROUP` or `USER:` (the user's login group), by name or number.
    pub fn parse(spec: &str) -> Result<Self> {
        let (user, group) = match spec.split_once(':') {
            Some((u, g)) => (u, Some(g)),
            None => (spec, None),
        };
        let hint = "give an existing user and optional group, e.g. --owner influxdb:influxdb";
        let user = if user.is_empty() {
            None
        } else {
            Some(lookup_user(user).map_err(|e| Error::invalid(e.to_string(), hint))?)
        };
        let gid = match group {
            Some("") => match &user {
                Some(u) => Some(u.gid),
                None => {
                    return Err(Error::invalid("--owner ':' names no user or group", hint).into());
                }
            },
            Some(g) => Some(lookup_group(g).map_err(|e| Error::invalid(e.to_string(), hint))?),
            None => None,
        };
        Ok(Owner {
            uid: user.map(|u| u.uid),
            gid,
        })
    }

    /// Whether a file with these ids already has this owner.
    #[must_use]
    pub fn matches(&self, uid: u32, gid: u32) -> bool {
        self.uid.is_none_or(|u| u.as_raw() == uid) && self.gid.is_none_or(|g| g.as_raw() == gid)
    }
}

fn lookup_user(name: &str) -> Result<User> {
    let found = if let Ok(id) = name.parse::<u32>() {
        User::from_uid(Uid::from_raw(check_id(id, "user")?))
    } else {
        User::from_name(name)
    };
    found
        .with_context(|| format!("cannot look up user '{name}'"))?
        .ok_or_else(|| anyhow::anyhow!("unknown user '{name}'"))
}

/// To chown(2), id 4294967295 means "leave unchanged": as an owner it would silently do nothing.
fn check_id(id: u32, what: &str) -> Result<u32> {
    if id == u32::MAX {
        anyhow::bail!("{what} id {id} is not an id (chown reads it as \"leave unchanged\")");
    }
    Ok(id)
}

fn lookup_group(name: &str) -> Result<Gid> {
    if let Ok(id) = name.parse::<u32>() {
        return Ok(Gid::from_raw(check_id(id, "group")?));
    }
    Group::from_name(name)
        .with_context(|| format!("cannot look up group '{name}'"))?
        .map(|g| g.gid)
        .ok_or_else(|| anyhow::anyhow!("unknown group '{name}'"))
}

/// Name of a user id for display, or the number when it has no name.
#[must_use]
pub fn user_name(uid: u32) -> String {
    User::from_uid(Uid::from_raw(uid))
        .ok()
        .flatten()
        .map_or_else(|| uid.to_string(), |u| u.name)
}

/// Name of a group id for display, or the number when it has no name.
#[must_use]
pub fn group_name(gid: u32) -> String {
    Group::from_gid(Gid::from_raw(gid))
        .ok()
        .flatten()
        .map_or_else(|| gid.to_string(), |g| g.name)
}

/// One file to write.
pub struct PlannedFile {
    pub path: PathBuf,
    pub kind: FileKind,
    pub contents: Zeroizing<Vec<u8>>,
    /// The mode to create it with: the kind's mode unless set otherwise.
    pub mode: u32,
    /// Owner of this file, instead of [`WriteOptions::owner`].
    pub owner: Option<Owner>,
    /// Keep the file it replaces as `PATH.bak`, as [`WriteOptions::keep_backups`] does for all.
    pub keep_backup: bool,
}

impl PlannedFile {
    /// A file of `kind` with the kind's mode; the contents are copied into a zeroizing buffer.
    #[must_use]
    pub fn new(path: PathBuf, kind: FileKind, contents: &[u8]) -> PlannedFile {
        PlannedFile {
            path,
            kind,
            contents: Zeroizing::new(contents.to_vec()),
            mode: kind.mode(),
            owner: None,
            keep_backup: false,
        }
    }

    /// Take the mode (limited to `ceiling`) and the owner of the file now at the path, so that
    /// a replacement keeps what the administrator set. Nothing changes if there is no file.
    pub fn inherit_mode_and_owner(&mut self, ceiling: u32) -> Result<()> {
        let meta = match fs::symlink_metadata(&self.path) {
            Ok(meta) => meta,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => {
                return Err(e).with_context(|| format!("cannot read '{}'", self.path.display()));
            }
        };
        self.mode = meta.mode() & 0o777 & ceiling;
        let uid = (meta.uid() != Uid::effective().as_raw()).then(|| Uid::from_raw(meta.uid()));
        let gid = (meta.gid() != Gid::effective().as_raw()).then(|| Gid::from_raw(meta.gid()));
        if uid.is_some() || gid.is_some() {
            self.owner = Some(Owner { uid, gid });
        }
        Ok(())
    }
}

/// How to write a set of files.
#[derive(Debug, Clone, Copy, Default)]
pub struct WriteOptions {
    /// Replace existing files (never symlinks).
    pub force: bool,
    pub owner: Option<Owner>,
    /// Keep each replaced file as `PATH.bak` (replacing an older `.bak`), sharing its inode, so
    /// mode and owner are exactly the old file's.
    pub keep_backups: bool,
}

/// What happened to one file.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Written {
    pub path: PathBuf,
    pub kind: FileKind,
    #[serde(serialize_with = "serialize_mode")]
    pub mode: u32,
    /// Uid and gid of the new file; `owner` in JSON as `user:group` (names are looked up only
    /// then: the user database costs a write more than the rest of it).
    #[serde(serialize_with = "serialize_owner")]
    pub owner: (u32, u32),
    /// An existing file was replaced (only with `--force`); in JSON `action`: `created` or
    /// `replaced`.
    #[serde(rename = "action", serialize_with = "serialize_action")]
    pub replaced: bool,
    /// Where the replaced file was kept, with [`WriteOptions::keep_backups`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backup: Option<PathBuf>,
}

#[allow(
    clippy::trivially_copy_pass_by_ref,
    reason = "serde's serialize_with signature"
)]
fn serialize_owner<S: serde::Serializer>(owner: &(u32, u32), s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&format_args!(
        "{}:{}",
        user_name(owner.0),
        group_name(owner.1)
    ))
}

#[allow(
    clippy::trivially_copy_pass_by_ref,
    reason = "serde's serialize_with signature"
)]
fn serialize_action<S: serde::Serializer>(replaced: &bool, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(if *replaced { "replaced" } else { "created" })
}

#[allow(
    clippy::trivially_copy_pass_by_ref,
    reason = "serde's serialize_with signature"
)]
fn serialize_mode<S: serde::Serializer>(mode: &u32, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&crate::text::mode_string(*mode))
}

/// Check that every target may be written, without touching the disk: no symlinks, no
/// directories, nothing existing unless `force`, no path named twice. Run this before doing any
/// expensive or irreversible work, so a refused run leaves nothing behind.
pub fn check_targets<'p>(paths: impl IntoIterator<Item = &'p Path>, force: bool) -> Result<()> {
    let mut seen: Vec<&Path> = Vec::new();
    for path in paths {
        if seen.contains(&path) {
            return Err(Error::invalid(
                format!("'{}' is named as two different outputs", path.display()),
                "give each output its own path",
            )
            .into());
        }
        seen.push(path);
        check_target(path, force)?;
    }
    Ok(())
}

/// Whether `path` exists now (and so would be replaced).
fn check_target(path: &Path, force: bool) -> Result<bool> {
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => Err(Error::SymlinkTarget {
            path: path.to_path_buf(),
        }
        .into()),
        Ok(meta) if meta.is_dir() => Err(Error::invalid(
            format!("'{}' is a directory", path.display()),
            "give a file path, or use --out-dir for the directory",
        )
        .into()),
        Ok(meta) if !meta.is_file() => {
            bail!("'{}' exists and is not a regular file", path.display())
        }
        Ok(_) if !force => Err(Error::would_overwrite(path).into()),
        Ok(_) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e).with_context(|| format!("cannot check '{}'", path.display())),
    }
}

/// What [`write_all`] would write, for a dry run: each file with the mode and owner it would
/// get, `replaced` when one is there now. The same checks come first, so a dry run refuses
/// what the real run would refuse.
pub fn preview(files: &[PlannedFile], opts: WriteOptions) -> Result<Vec<Written>> {
    check_targets(files.iter().map(|f| f.path.as_path()), opts.force)?;
    Ok(files
        .iter()
        .map(|f| {
            let owner = f.owner.or(opts.owner);
            Written {
                path: f.path.clone(),
                kind: f.kind,
                mode: f.mode,
                owner: (
                    owner
                        .and_then(|o| o.uid)
                        .unwrap_or_else(Uid::effective)
                        .as_raw(),
                    owner
                        .and_then(|o| o.gid)
                        .unwrap_or_else(Gid::effective)
                        .as_raw(),
                ),
                replaced: f.path.exists(),
                backup: None,
            }
        })
        .collect())
}

/// [`write_all`], or with `dry_run` only its [`preview`].
pub fn write_or_preview(
    files: &[PlannedFile],
    opts: WriteOptions,
    dry_run: bool,
) -> Result<Vec<Written>> {
    if dry_run {
        preview(files, opts)
    } else {
        write_all(files, opts)
    }
}

/// Write all `files`, or none of them.
///
/// The directories are locked (see [`lock`]) and SIGINT/SIGTERM/SIGHUP held off (see
/// [`interrupt`]) for the whole write; a set of more than one file, or one with backups, is
/// recorded in an intent record first (see [`journal`]), so even a SIGKILL between two renames
/// is repaired by the next run.
pub fn write_all(files: &[PlannedFile], opts: WriteOptions) -> Result<Vec<Written>> {
    check_targets(files.iter().map(|f| f.path.as_path()), opts.force)?;
    let private = |f: &&PlannedFile| {
        matches!(
            f.kind,
            FileKind::PrivateKey | FileKind::Bundle | FileKind::Secret
        )
    };
    for file in files.iter().filter(private) {
        check_private_dir(parent_dir(&file.path))?;
    }
    check_backup_names(files.iter().filter(|f| f.keep_backup || opts.keep_backups))?;
    let mut created_dirs = Vec::new();
    let result = create_lock_and_commit(files, opts, &mut created_dirs);
    if result.is_err() {
        // Leave no empty directories behind from a failed run; remove_dir refuses non-empty ones.
        for dir in created_dirs.iter().rev() {
            let _ = fs::remove_dir(dir);
        }
    }
    result
}

fn create_lock_and_commit(
    files: &[PlannedFile],
    opts: WriteOptions,
    created_dirs: &mut Vec<PathBuf>,
) -> Result<Vec<Written>> {
    for file in files {
        create_dirs(parent_dir(&file.path), created_dirs)?;
    }
    // Usually held already (commands lock before they plan); new directories are locked here.
    lock::lock_dirs_of(files.iter().map(|f| f.path.as_path()))?;
    let mut signals = interrupt::SignalGuard::block();
    stage_and_commit(files, opts, &mut signals)
}

/// A key or secret in a directory anyone may write to (without the sticky bit of /tmp) can be
/// swapped for another file by any user right after certtool writes it: refuse.
fn check_private_dir(dir: &Path) -> Result<()> {
    let Ok(meta) = fs::metadata(dir) else {
        return Ok(()); // not created yet: certtool creates it 0755
    };
    if meta.mode() & 0o002 != 0 && meta.mode() & 0o1000 == 0 {
        return Err(Error::invalid(
            format!(
                "'{}' is writable by every user (mode {}): anyone could replace the key after it is written",
                dir.display(),
                crate::text::mode_string(meta.mode())
            ),
            "write it into a directory only its owner can write (chmod o-w), or one with the sticky bit",
        )
        .into());
    }
    Ok(())
}

/// `PATH.bak` must fit in a file name too, or the backup could not be kept after the rename.
fn check_backup_names<'f>(files: impl Iterator<Item = &'f PlannedFile>) -> Result<()> {
    for file in files {
        let bak = backup_path(&file.path);
        if bak.file_name().is_some_and(|n| n.len() > NAME_MAX) {
            return Err(Error::invalid(
                format!(
                    "'{}' has too long a name to keep a .bak copy beside it",
                    file.path.display()
                ),
                "use a shorter file name",
            )
            .into());
        }
    }
    Ok(())
}

fn stage_and_commit(
    files: &[PlannedFile],
    opts: WriteOptions,
    signals: &mut interrupt::SignalGuard,
) -> Result<Vec<Written>> {
    let mut staged = Vec::with_capacity(files.len());
    let mut handles = Vec::with_capacity(files.len() + 1);
    for file in files {
        let (temp, handle) = stage(file, file.owner.or(opts.owner))?;
        staged.push(temp);
        handles.push((file.path.clone(), handle));
    }
    signals.check()?;
    let any_backup = opts.keep_backups || files.iter().any(|f| f.keep_backup);
    let record = (files.len() > 1 || any_backup).then(|| intent(files, &staged, opts));
    if let Some(record) = &record {
        handles.extend(record.write()?);
    }
    // Sync only after all are written, so the journal commits can overlap. fdatasync is enough:
    // it flushes the data and the size needed to read it back; the rename and the directory
    // sync below make the name durable.
    let synced = sync_all_data(&handles);
    if let Err(e) = synced.and_then(|()| Ok(signals.check()?)) {
        if let Some(record) = &record {
            record.remove();
        }
        return Err(e);
    }
    // From here on the set is completed, whatever arrives: the intent record lets the next run
    // finish it if this one is killed.
    let committed = match commit_all(files, staged, opts.force) {
        Ok(committed) => committed,
        Err(e) => {
            if let Some(record) = &record {
                record.remove();
            }
            return Err(e);
        }
    };
    let written = finish_all(files, committed, opts)?;
    if let Some(record) = &record {
        record.remove();
    }
    if let Err(crate::error::Error::Interrupted { signal, .. }) = signals.check() {
        return Err(Error::Interrupted {
            signal,
            completed: true,
        }
        .into());
    }
    Ok(written)
}

/// Rename every temp file over its target; if one fails, undo the ones before it.
fn commit_all(files: &[PlannedFile], staged: Vec<TempFile>, force: bool) -> Result<Vec<Committed>> {
    let mut committed: Vec<Committed> = Vec::with_capacity(files.len());
    for (file, temp) in files.iter().zip(staged) {
        match commit(temp, &file.path, force) {
            Ok(c) => committed.push(c),
            Err(e) => {
                for c in committed.into_iter().rev() {
                    c.roll_back();
                }
                return Err(e);
            }
        }
    }
    Ok(committed)
}

/// Keep or drop the old files, and sync each directory once.
fn finish_all(
    files: &[PlannedFile],
    committed: Vec<Committed>,
    opts: WriteOptions,
) -> Result<Vec<Written>> {
    let mut synced_dirs: Vec<&Path> = Vec::with_capacity(files.len());
    let mut written = Vec::with_capacity(files.len());
    for (file, c) in files.iter().zip(committed) {
        let (replaced, backup) = c.finish(opts.keep_backups || file.keep_backup)?;
        let dir = parent_dir(&file.path);
        if !synced_dirs.contains(&dir) {
            sync_dir(dir)?;
            synced_dirs.push(dir);
        }
        let owner =
            fs::symlink_metadata(&file.path).map_or((u32::MAX, u32::MAX), |m| (m.uid(), m.gid()));
        written.push(Written {
            path: file.path.clone(),
            kind: file.kind,
            mode: file.mode,
            owner,
            replaced,
            backup,
        });
    }
    Ok(written)
}

/// fdatasync each file. Tried and dropped: one thread per file, so that ext4 could commit them
/// together, saved 0.2 ms on ext4 and cost 0.4 ms on tmpfs.
fn sync_all_data(handles: &[(PathBuf, File)]) -> Result<()> {
    handles.iter().try_for_each(|(path, handle)| {
        handle
            .sync_data()
            .with_context(|| format!("cannot write '{}'", path.display()))
    })
}

/// The intent record for writing `files` from `staged`, with absolute paths so that a run in
/// another working directory can repair it.
fn intent(files: &[PlannedFile], staged: &[TempFile], opts: WriteOptions) -> journal::Journal {
    let abs = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    journal::Journal {
        pid: std::process::id(),
        entries: files
            .iter()
            .zip(staged)
            .map(|(f, t)| journal::Entry {
                target: abs(&f.path),
                temp: abs(&t.path),
                link: abs(&t.link_path()),
                keep_backup: opts.keep_backups || f.keep_backup,
            })
            .collect(),
    }
}

/// The directory a path is in (`.` for a bare file name).
#[must_use]
pub fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Create `dir` and its missing parents with mode 0755 regardless of umask, remembering which.
fn create_dirs(dir: &Path, created: &mut Vec<PathBuf>) -> Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        create_dirs(parent, created)?;
    }
    match fs::DirBuilder::new().mode(DIR_MODE).create(dir) {
        Ok(()) => {
            fs::set_permissions(dir, Permissions::from_mode(DIR_MODE))
                .with_context(|| format!("cannot set the mode of '{}'", dir.display()))?;
            created.push(dir.to_path_buf());
            Ok(())
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists && dir.is_dir() => Ok(()),
        Err(e) => Err(e).with_context(|| format!("cannot create directory '{}'", dir.display())),
    }
}

/// A temp file next to its target; removed on drop unless renamed into place.
struct TempFile {
    path: PathBuf,
    armed: bool,
}

impl TempFile {
    fn disarm(mut self) {
        self.armed = false;
    }

    /// Where the hard link to the file being replaced is made, just before the rename.
    fn link_path(&self) -> PathBuf {
        self.path.with_extension("bak")
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if self.armed {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// Write `file` to a temp file beside its target; the caller syncs the returned handle.
fn stage(file: &PlannedFile, owner: Option<Owner>) -> Result<(TempFile, File)> {
    let (target, contents, mode) = (&file.path, &file.contents, file.mode);
    let (mut file, temp) = create_temp_beside(target, mode)?;
    let context = || format!("cannot write '{}'", target.display());
    // The umask may have removed bits at creation; fchmod makes the mode exact.
    file.set_permissions(Permissions::from_mode(mode))
        .with_context(context)?;
    if let Some(owner) = owner {
        std::os::unix::fs::fchown(
            &file,
            owner.uid.map(Uid::as_raw),
            owner.gid.map(Gid::as_raw),
        )
        .with_context(|| format!("cannot set the owner of '{}'", target.display()))?;
    }
    file.write_all(contents).with_context(context)?;
    Ok((temp, file))
}

fn create_temp_beside(target: &Path, mode: u32) -> Result<(File, TempFile)> {
    let dir = parent_dir(target);
    // The temp name adds about 35 bytes; shorten the target's part so that any target name
    // that fits NAME_MAX can be written.
    let mut name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if name.len() > NAME_MAX - 64 {
        let mut cut = NAME_MAX - 64;
        while !name.is_char_boundary(cut) {
            cut -= 1;
        }
        name.truncate(cut);
    }
    for attempt in 0..16u32 {
        let temp_path = dir.join(format!(
            ".{name}.certtool-{}-{}.tmp",
            std::process::id(),
            random_suffix(attempt)
        ));
        let opened = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .custom_flags(nix::libc::O_NOFOLLOW | nix::libc::O_CLOEXEC)
            .open(&temp_path);
        match opened {
            Ok(file) => {
                return Ok((
                    file,
                    TempFile {
                        path: temp_path,
                        armed: true,
                    },
                ));
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => {
                return Err(e)
                    .with_context(|| format!("cannot create a file in '{}'", dir.display()));
            }
        }
    }
    bail!("cannot create a temporary file in '{}'", dir.display())
}

fn random_suffix(attempt: u32) -> String {
    let mut bytes = [0u8; 6];
    if ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes).is_err() {
        return attempt.to_string();
    }
    crate::text::colon_hex(&bytes).replace(':', "")
}

/// A file renamed into place, which can still be undone.
struct Committed {
    target: PathBuf,
    /// A hard link to the file that was replaced, to restore on roll-back.
    backup: Option<PathBuf>,
}

impl Committed {
    fn roll_back(self) {
        match &self.backup {
            Some(backup) => {
                let _ = fs::rename(backup, &self.target);
            }
            None => {
                let _ = fs::remove_file(&self.target);
            }
        }
    }

    /// Drop the backup, or keep it as `TARGET.bak`; returns whether a file was replaced and
    /// where the old one was kept.
    fn finish(self, keep: bool) -> Result<(bool, Option<PathBuf>)> {
        let Some(backup) = &self.backup else {
            return Ok((false, None));
        };
        if !keep {
            let _ = fs::remove_file(backup);
            return Ok((true, None));
        }
        let kept = backup_path(&self.target);
        // rename() replaces an older backup (or a symlink there) without following it.
        fs::rename(backup, &kept).with_context(|| {
            format!(
                "'{}' was replaced, but the old file could not be kept as '{}'",
                self.target.display(),
                kept.display()
            )
        })?;
        Ok((true, Some(kept)))
    }
}

/// `PATH.bak`, where a replaced file is kept.
#[must_use]
pub fn backup_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".bak");
    PathBuf::from(name)
}

fn commit(temp: TempFile, target: &Path, force: bool) -> Result<Committed> {
    // Checked again here: the target may have appeared or changed since check_targets.
    let exists = check_target(target, force)?;
    if !exists {
        rename_no_replace(&temp.path, target)?;
        temp.disarm();
        return Ok(Committed {
            target: target.to_path_buf(),
            backup: None,
        });
    }
    let backup = temp.link_path();
    fs::hard_link(target, &backup).with_context(|| {
        format!(
            "cannot keep a copy of '{}' while replacing it",
            target.display()
        )
    })?;
    if let Err(e) = rename_over(&temp.path, target) {
        let _ = fs::remove_file(&backup);
        return Err(e);
    }
    temp.disarm();
    Ok(Committed {
        target: target.to_path_buf(),
        backup: Some(backup),
    })
}

fn rename_over(from: &Path, to: &Path) -> Result<()> {
    fs::rename(from, to).with_context(|| format!("cannot write '{}'", to.display()))
}

/// Rename that fails if `to` exists, closing the race between checking and renaming.
fn rename_no_replace(from: &Path, to: &Path) -> Result<()> {
    match renameat2(AT_FDCWD, from, AT_FDCWD, to, RenameFlags::RENAME_NOREPLACE) {
        Ok(()) => Ok(()),
        Err(nix::errno::Errno::EEXIST) => Err(Error::would_overwrite(to).into()),
        // Some file systems lack RENAME_NOREPLACE; link() also refuses an existing target.
        Err(nix::errno::Errno::EINVAL | nix::errno::Errno::ENOSYS) => {
            match fs::hard_link(from, to) {
                Ok(()) => {
                    let _ = fs::remove_file(from);
                    Ok(())
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    Err(Error::would_overwrite(to).into())
                }
                Err(e) => Err(e).with_context(|| format!("cannot write '{}'", to.display())),
            }
        }
        Err(e) => {
            Err(io::Error::from(e)).with_context(|| format!("cannot write '{}'", to.display()))
        }
    }
}

fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("cannot sync directory '{}'", dir.display()))
}

/// A new temporary directory of mode 0700 (whatever the umask), for files that may hold a
/// secret, such as the copy of a user's influxd config that `verify --launch` runs with.
pub fn private_temp_dir(prefix: &str) -> Result<tempfile::TempDir> {
    let dir = tempfile::Builder::new()
        .prefix(prefix)
        .permissions(Permissions::from_mode(0o700))
        .tempdir()
        .context("cannot create a temporary directory")?;
    fs::set_permissions(dir.path(), Permissions::from_mode(0o700))
        .with_context(|| format!("cannot set the mode of '{}'", dir.path().display()))?;
    Ok(dir)
}

/// Create a new file with mode 0600 (never following or replacing anything), for a log that may
/// hold sensitive lines.
pub fn create_private(path: &Path) -> Result<File> {
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(SECRET_MODE)
        .custom_flags(nix::libc::O_NOFOLLOW | nix::libc::O_CLOEXEC)
        .open(path)
        .with_context(|| format!("cannot create '{}'", path.display()))?;
    file.set_permissions(Permissions::from_mode(SECRET_MODE))
        .with_context(|| format!("cannot set the mode of '{}'", path.display()))?;
    Ok(file)
}

/// An existing file opened without following symlinks, for checking and fixing its mode and owner.
pub struct ExistingFile {
    file: File,
    pub meta: fs::Metadata,
}

impl ExistingFile {
    /// Open `path` read-only; a symlink is an error, so fixes never land on a link's target.
    pub fn open_no_follow(path: &Path) -> Result<Self> {
        let file = OpenOptions::new()
            .read(true)
            .custom_flags(nix::libc::O_NOFOLLOW | nix::libc::O_CLOEXEC | nix::libc::O_NONBLOCK)
            .open(path)
            .map_err(|e| {
                if e.raw_os_error() == Some(nix::libc::ELOOP) {
                    anyhow::Error::from(Error::invalid(
                        format!("'{}' is a symbolic link", path.display()),
                        "give the real path of the file",
                    ))
                } else {
                    anyhow::Error::from(e).context(format!("cannot open '{}'", path.display()))
                }
            })?;
        let meta = file
            .metadata()
            .with_context(|| format!("cannot stat '{}'", path.display()))?;
        Ok(ExistingFile { file, meta })
    }

    #[must_use]
    pub fn mode(&self) -> u32 {
        self.meta.mode() & 0o7777
    }

    /// The first bytes of the file (enough to tell what it holds).
    pub fn head(&mut self, limit: u64) -> Result<Vec<u8>> {
        let mut buf = Vec::new();
        (&self.file).take(limit).read_to_end(&mut buf)?;
        Ok(buf)
    }

    pub fn set_mode(&self, mode: u32) -> Result<()> {
        self.file
            .set_permissions(Permissions::from_mode(mode))
            .context("cannot change the mode")
    }

    pub fn set_owner(&self, owner: Owner) -> Result<()> {
        std::os::unix::fs::fchown(
            &self.file,
            owner.uid.map(Uid::as_raw),
            owner.gid.map(Gid::as_raw),
        )
        .context("cannot change the owner")
    }
}

/// One entry directly inside a directory, as [`list_dir`] finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirEntry {
    pub path: PathBuf,
    /// The name starts with a dot (certtool's temp files and intent record among them).
    pub hidden: bool,
    /// A `.bak` copy kept by `renew` or an in-place edit.
    pub backup: bool,
    /// A regular file, or a symbolic link to one (links are listed, not followed here).
    pub file: bool,
}

/// The one directory walk: the entries directly in `dir` that are files or symbolic links,
/// sorted, never descending. Each caller decides from the flags what it skips: `check` skips
/// hidden files and `.bak` copies (an old certificate there is expected to be old), `perms`
/// checks them too (a `.bak` key is as secret as the key) and reports links without following.
pub fn list_dir(dir: &Path) -> Result<Vec<DirEntry>> {
    let mut found = Vec::new();
    for entry in fs::read_dir(dir).with_context(|| format!("cannot list '{}'", dir.display()))? {
        let entry = entry.with_context(|| format!("cannot list '{}'", dir.display()))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let path = entry.path();
        // The type comes with the listing; only a link costs a stat to follow.
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        let file = if kind.is_symlink() {
            fs::metadata(&path).is_ok_and(|m| m.is_file())
        } else {
            kind.is_file()
        };
        if kind.is_dir() {
            continue;
        }
        found.push(DirEntry {
            hidden: name.starts_with('.'),
            backup: Path::new(name.as_ref())
                .extension()
                .is_some_and(|e| e == "bak"),
            file,
            path,
        });
    }
    found.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(found)
}

/// Read an input file (certificate, key, config) with errors that name it, refusing directories
/// and anything larger than certtool ever needs.
pub fn read_input(path: &Path) -> Result<Zeroizing<Vec<u8>>> {
    read_input_up_to(path, MAX_INPUT_BYTES)
}

/// [`read_input`] with another size limit.
pub fn read_input_up_to(path: &Path, limit: u64) -> Result<Zeroizing<Vec<u8>>> {
    let file = File::open(path).with_context(|| format!("cannot read '{}'", path.display()))?;
    let meta = file
        .metadata()
        .with_context(|| format!("cannot read '{}'", path.display()))?;
    if meta.is_dir() {
        return Err(Error::invalid(
            format!("'{}' is a directory", path.display()),
            "give the path of a file",
        )
        .into());
    }
    let mut buf = Zeroizing::new(Vec::with_capacity(
        usize::try_from(meta.len().min(limit) + 1).unwrap_or(0),
    ));
    file.take(limit + 1)
        .read_to_end(&mut buf)
        .with_context(|| format!("cannot read '{}'", path.display()))?;
    if buf.len() as u64 > limit {
        bail!(
            "'{}' is larger than {} MiB; it is not a certificate, key or config file",
            path.display(),
            limit / 1024 / 1024
        );
    }
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn planned(path: PathBuf, kind: FileKind, text: &str) -> PlannedFile {
        PlannedFile::new(path, kind, text.as_bytes())
    }

    fn mode_of(path: &Path) -> u32 {
        fs::metadata(path).unwrap().mode() & 0o7777
    }

    fn dir_entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn writes_with_final_modes_and_no_temp_files_left() {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("a.key");
        let crt = dir.path().join("a.crt");
        let written = write_all(
            &[
                planned(key.clone(), FileKind::PrivateKey, "k"),
                planned(crt.clone(), FileKind::Certificate, "c"),
            ],
            WriteOptions::default(),
        )
        .unwrap();
        assert_eq!(written.len(), 2);
        assert_eq!(mode_of(&key), 0o600);
        assert_eq!(mode_of(&crt), 0o644);
        assert_eq!(dir_entries(dir.path()), ["a.crt", "a.key"]);
    }

    #[test]
    fn refuses_to_clobber_and_leaves_old_file_identical() {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("a.key");
        write_all(
            &[planned(key.clone(), FileKind::PrivateKey, "old")],
            WriteOptions::default(),
        )
        .unwrap();
        let err = write_all(
            &[planned(key.clone(), FileKind::PrivateKey, "new")],
            WriteOptions::default(),
        )
        .unwrap_err();
        assert!(matches!(
            err.downcast_ref::<Error>(),
            Some(Error::WouldOverwrite { .. })
        ));
        assert_eq!(fs::read(&key).unwrap(), b"old");
        let forced = WriteOptions {
            force: true,
            ..WriteOptions::default()
        };
        let written =
            write_all(&[planned(key.clone(), FileKind::PrivateKey, "new")], forced).unwrap();
        assert!(written[0].replaced);
        assert_eq!(fs::read(&key).unwrap(), b"new");
        assert_eq!(dir_entries(dir.path()), ["a.key"]);
    }

    #[test]
    fn refuses_symlinks_even_with_force() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real");
        fs::write(&real, "x").unwrap();
        let link = dir.path().join("a.key");
        symlink(&real, &link).unwrap();
        let forced = WriteOptions {
            force: true,
            ..WriteOptions::default()
        };
        let err = write_all(&[planned(link, FileKind::PrivateKey, "new")], forced).unwrap_err();
        assert!(matches!(
            err.downcast_ref::<Error>(),
            Some(Error::SymlinkTarget { .. })
        ));
        assert_eq!(fs::read(&real).unwrap(), b"x");
    }

    #[test]
    fn second_failure_rolls_back_the_first_file() {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("a.key");
        let crt = dir.path().join("a.crt");
        fs::write(&key, "old key").unwrap();
        let files = [
            planned(key.clone(), FileKind::PrivateKey, "new key"),
            planned(crt.clone(), FileKind::Certificate, "new crt"),
        ];
        let staged: Vec<TempFile> = files.iter().map(|f| stage(f, None).unwrap().0).collect();
        // After the plan, the second target turns into a directory: its rename fails for real,
        // after the first file was already replaced.
        fs::create_dir(&crt).unwrap();
        let err = commit_all(&files, staged, true).err().unwrap();
        assert!(err.to_string().contains("is a directory"), "{err:#}");
        assert_eq!(
            fs::read(&key).unwrap(),
            b"old key",
            "the first file is rolled back"
        );
        assert_eq!(
            dir_entries(dir.path()),
            ["a.crt", "a.key"],
            "no temp files left"
        );
    }

    #[test]
    fn same_path_twice_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.pem");
        let err = check_targets([p.as_path(), p.as_path()], false).unwrap_err();
        assert!(err.to_string().contains("two different outputs"));
    }

    #[test]
    fn creates_missing_directories_with_0755() {
        let dir = tempfile::tempdir().unwrap();
        let nested = dir.path().join("a/b");
        let crt = nested.join("x.crt");
        write_all(
            &[planned(crt.clone(), FileKind::Certificate, "c")],
            WriteOptions::default(),
        )
        .unwrap();
        assert_eq!(mode_of(&nested), 0o755);
        assert_eq!(mode_of(&dir.path().join("a")), 0o755);
    }

    #[test]
    fn owner_parsing() {
        let root = Owner::parse("root").unwrap();
        assert_eq!(root.uid, Some(Uid::from_raw(0)));
        assert_eq!(root.gid, None);
        let both = Owner::parse("0:0").unwrap();
        assert_eq!(both.gid, Some(Gid::from_raw(0)));
        let login = Owner::parse("root:").unwrap();
        assert_eq!(login.gid, Some(Gid::from_raw(0)));
        assert!(Owner::parse("no-such-user-certtool").is_err());
        assert!(Owner::parse("root:no-such-group-certtool").is_err());
        assert!(Owner::parse(":").is_err());
    }

    #[test]
    fn read_input_names_the_problem() {
        let dir = tempfile::tempdir().unwrap();
        let err = read_input(dir.path()).unwrap_err();
        assert!(err.to_string().contains("is a directory"));
        let err = read_input(&dir.path().join("missing")).unwrap_err();
        assert!(format!("{err:#}").contains("cannot read"));
    }
}
