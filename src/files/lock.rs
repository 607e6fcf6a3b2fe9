//! Advisory locks on the directories certtool writes into, so that two runs never interleave
//! the writes of one pair (three concurrent `selfsigned --force` runs used to leave a key of one
//! run beside the certificate of another).
//!
//! The lock is `flock` on the directory itself, so no lock file is left behind. A command takes
//! it before it plans (reads the old certificate, checks the targets) and holds it until the
//! process exits; the writer takes it again for directories it has just created. Having the
//! lock, the holder first repairs writes that a killed run left half done ([`super::journal`]).
//! It must not decide what is written.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::thread::sleep;
use std::time::{Duration, Instant};

use anyhow::Result;

use super::journal::{self, Recovered};
use super::parent_dir;
use crate::error::Error;

/// Directories this process holds locks on, with the open descriptors that hold them.
static HELD: Mutex<Vec<(PathBuf, File)>> = Mutex::new(Vec::new());

/// Directories a reading command has already looked at for repairs in this process.
static SEEN: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// How long a second writer waits by default; `CERTTOOL_LOCK_TIMEOUT` (seconds) changes it.
const DEFAULT_WAIT: Duration = Duration::from_secs(10);

fn wait_limit() -> Duration {
    std::env::var("CERTTOOL_LOCK_TIMEOUT")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .map_or(DEFAULT_WAIT, Duration::from_secs)
}

/// Lock the directories of `paths` (or their nearest existing ancestors) for this process, in a
/// fixed order, then repair what killed runs left there. Returns what was repaired, for the
/// command to report.
pub fn lock_dirs_of<'p>(paths: impl IntoIterator<Item = &'p Path>) -> Result<Vec<Recovered>> {
    let mut dirs: Vec<PathBuf> = paths
        .into_iter()
        .filter_map(|p| existing_dir(parent_dir(p)))
        .collect();
    dirs.sort();
    dirs.dedup();
    let mut held = HELD.lock().unwrap_or_else(PoisonError::into_inner);
    let mut recovered = Vec::new();
    for dir in dirs {
        if held.iter().any(|(d, _)| *d == dir) {
            continue;
        }
        let Some(file) = lock_dir(&dir)? else {
            continue;
        };
        held.push((dir.clone(), file));
        if let Some(record) = journal::read(&dir)? {
            // The set may span directories: hold all of them while repairing it.
            for other in record.dirs() {
                if let Some(other) = existing_dir(&other)
                    && !held.iter().any(|(d, _)| *d == other)
                    && let Some(file) = lock_dir(&other)?
                {
                    held.push((other, file));
                }
            }
            recovered.push(record.repair()?);
        }
        journal::remove_stale_temps(&dir);
    }
    Ok(recovered)
}

/// For reading commands (check, inspect, verify): if a killed write left an intent record
/// beside `path`, take the lock and repair it; remove temp files of dead runs in any case.
/// Nothing is locked when there is no record, so reading stays free of locks.
pub fn repair_beside(path: &Path) -> Result<Vec<Recovered>> {
    let dir = parent_dir(path);
    // `check a/*.crt` names one directory hundreds of times: look at each once.
    {
        let mut seen = SEEN.lock().unwrap_or_else(PoisonError::into_inner);
        if seen.iter().any(|d| d == dir) {
            return Ok(Vec::new());
        }
        seen.push(dir.to_path_buf());
    }
    if !journal::present_in(dir) {
        // Only files of processes that are gone: a live writer's temp files are left alone.
        journal::remove_stale_temps(dir);
        return Ok(Vec::new());
    }
    lock_dirs_of([path])
}

/// The canonical path of `dir`, or of its nearest existing ancestor when it does not exist yet.
fn existing_dir(dir: &Path) -> Option<PathBuf> {
    let mut dir = dir.to_path_buf();
    loop {
        if let Ok(real) = std::fs::canonicalize(&dir)
            && real.is_dir()
        {
            return Some(real);
        }
        if !dir.pop() || dir.as_os_str().is_empty() {
            return std::fs::canonicalize(".").ok();
        }
    }
}

/// Take the lock on `dir`, waiting a bounded time. `None` when the directory cannot even be
/// opened for reading (a write-only directory): writing then goes on unlocked.
fn lock_dir(dir: &Path) -> Result<Option<File>> {
    let file = match File::open(dir) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::PermissionDenied => return Ok(None),
        Err(e) => {
            return Err(anyhow::Error::from(e).context(format!("cannot open '{}'", dir.display())));
        }
    };
    let limit = wait_limit();
    let start = Instant::now();
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(Some(file)),
            Err(std::fs::TryLockError::WouldBlock) if start.elapsed() < limit => {
                sleep(Duration::from_millis(5));
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(Error::Locked {
                    dir: dir.to_path_buf(),
                    seconds: limit.as_secs(),
                }
                .into());
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(
                    anyhow::Error::from(e).context(format!("cannot lock '{}'", dir.display()))
                );
            }
        }
    }
}
