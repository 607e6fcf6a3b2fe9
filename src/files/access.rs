//! Whether another user (a service account such as `prometheus`) can read a file: the check
//! that a config naming a key owned by `influxdb:influxdb` 0600 will not work for Prometheus.
//!
//! It reads metadata and the user database only; it never opens the file as that user.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use nix::unistd::{Gid, Uid, User};

/// A user to check access for: their uid and every group they are in.
#[derive(Debug, Clone)]
pub struct Account {
    pub name: String,
    uid: u32,
    groups: Vec<u32>,
}

impl Account {
    /// The account `name`, if it exists on this machine.
    #[must_use]
    pub fn lookup(name: &str) -> Option<Account> {
        let user = User::from_name(name).ok().flatten()?;
        let cname = std::ffi::CString::new(name).ok()?;
        let groups = nix::unistd::getgrouplist(&cname, user.gid)
            .unwrap_or_else(|_| vec![user.gid])
            .into_iter()
            .map(Gid::as_raw)
            .collect();
        Some(Account {
            name: name.to_owned(),
            uid: user.uid.as_raw(),
            groups,
        })
    }

    fn may(&self, meta: &std::fs::Metadata, bits: u32) -> bool {
        // bits are the "other" position (4 read, 1 search); owner and group are shifted.
        if Uid::from_raw(self.uid).is_root() {
            return true;
        }
        let mode = meta.mode();
        if meta.uid() == self.uid {
            return mode & (bits << 6) == bits << 6;
        }
        if self.groups.contains(&meta.gid()) {
            return mode & (bits << 3) == bits << 3;
        }
        mode & bits == bits
    }
}

/// Why `account` cannot read `path`: the first directory it cannot enter, or the file itself.
/// `None` when it can (or when that cannot be told: the caller's own access errors stand).
#[must_use]
pub fn unreadable_by(path: &Path, account: &Account) -> Option<Blocked> {
    let path = std::fs::canonicalize(path).ok()?;
    let mut dir = PathBuf::from("/");
    for part in path.parent()?.components().skip(1) {
        dir.push(part);
        let meta = std::fs::metadata(&dir).ok()?;
        if !account.may(&meta, 0o1) {
            return Some(Blocked::of(dir, &meta));
        }
    }
    let meta = std::fs::metadata(&path).ok()?;
    (!account.may(&meta, 0o4)).then(|| Blocked::of(path, &meta))
}

/// What stands in the way: a path, its owner and its mode.
#[derive(Debug, Clone)]
pub struct Blocked {
    pub path: PathBuf,
    pub owner: String,
    pub mode: u32,
}

impl Blocked {
    fn of(path: PathBuf, meta: &std::fs::Metadata) -> Blocked {
        Blocked {
            path,
            owner: format!(
                "{}:{}",
                super::user_name(meta.uid()),
                super::group_name(meta.gid())
            ),
            mode: meta.mode(),
        }
    }
}
