//! Exit statuses and the errors whose exit code or hint matters.
//!
//! Commands return `anyhow::Result<ExitStatus>`: `Ok(Success)` is exit 0, `Ok(Failure)` is a check
//! that said "no" (exit 1), and any `Err` is a usage, input or I/O error (exit 2). Most errors are
//! plain `anyhow` errors with context naming the path; the variants below exist because they carry
//! a hint telling the user what to do next.

use std::path::{Path, PathBuf};

/// What a command concluded, when it ran to the end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum ExitStatus {
    /// Everything worked and every check passed (exit 0).
    Success,
    /// A check said no: expired, mismatched, wrong mode, handshake failed (exit 1).
    Failure,
}

impl ExitStatus {
    /// Exit code for a usage, input or I/O error.
    pub const ERROR_CODE: u8 = 2;

    #[must_use]
    pub fn code(self) -> u8 {
        match self {
            ExitStatus::Success => 0,
            ExitStatus::Failure => 1,
        }
    }

    /// `Success` when `ok`, otherwise `Failure`.
    pub fn from_ok(ok: bool) -> Self {
        if ok {
            ExitStatus::Success
        } else {
            ExitStatus::Failure
        }
    }
}

/// Errors that come with a hint.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("'{}' already exists", .path.display())]
    WouldOverwrite { path: PathBuf },

    #[error("'{}' is a symbolic link; refusing to write through it", .path.display())]
    SymlinkTarget { path: PathBuf },

    #[error("{message}")]
    Invalid { message: String, hint: String },

    /// SIGINT, SIGTERM or SIGHUP while writing: exit 128 + the signal.
    #[error("{}", interrupted_message(*.signal, *.completed))]
    Interrupted { signal: i32, completed: bool },

    /// Another certtool holds the lock on a directory to write into.
    #[error("another certtool is writing in '{}'; gave up after waiting {seconds} s", .dir.display())]
    Locked { dir: PathBuf, seconds: u64 },
}

fn interrupted_message(signal: i32, completed: bool) -> String {
    let name = crate::files::interrupt::signal_name(signal);
    if completed {
        format!("interrupted by {name} after the new files were in place; they are complete")
    } else {
        format!("interrupted by {name}; nothing was replaced and no temp files are left")
    }
}

impl Error {
    #[must_use]
    pub fn would_overwrite(path: &Path) -> Self {
        Error::WouldOverwrite {
            path: path.to_path_buf(),
        }
    }

    /// An input error with a hint on how to fix it.
    pub fn invalid(message: impl Into<String>, hint: impl Into<String>) -> Self {
        Error::Invalid {
            message: message.into(),
            hint: hint.into(),
        }
    }

    #[must_use]
    pub fn hint(&self) -> String {
        match self {
            Error::WouldOverwrite { .. } => {
                "pass --force to replace it, or choose another path".to_owned()
            }
            Error::SymlinkTarget { .. } => {
                "remove the link or write to the real path (not even --force writes through a link)"
                    .to_owned()
            }
            Error::Invalid { hint, .. } => hint.clone(),
            Error::Interrupted { .. } => String::new(),
            Error::Locked { .. } => {
                "wait for the other run to finish (see pgrep -a certtool), then run this again"
                    .to_owned()
            }
        }
    }

    /// The exit code: 128 + the signal for an interruption, else 2.
    #[must_use]
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Interrupted { signal, .. } => {
                u8::try_from(128 + signal).unwrap_or(ExitStatus::ERROR_CODE)
            }
            _ => ExitStatus::ERROR_CODE,
        }
    }
}

/// The exit code for `err`: 2, or 128 + the signal when a signal interrupted a write.
#[must_use]
pub fn exit_code_for(err: &anyhow::Error) -> u8 {
    err.chain()
        .find_map(|cause| cause.downcast_ref::<Error>())
        .map_or(ExitStatus::ERROR_CODE, Error::exit_code)
}

/// The hint of the first [`Error`] in `err`'s chain, if any.
#[must_use]
pub fn hint_for(err: &anyhow::Error) -> Option<String> {
    err.chain()
        .find_map(|cause| cause.downcast_ref::<Error>())
        .map(Error::hint)
        .filter(|hint| !hint.is_empty())
}
