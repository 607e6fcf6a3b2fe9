//! Exit statuses and the errors whose exit code or hint matters.
//!
//! Commands return `anyhow::Result<ExitStatus>`: `Ok(Success)` is exit 0, `Ok(Failure)` is a check
//! that said "no" (exit 1), and any `Err` is a usage, input or I/O error (exit 2). Most errors are
//! plain `anyhow` errors with context naming the path; the variants below exist because they carry
//! a hint telling the user what to do next.
//!
//! It must not print: `lib::run` renders errors.

use std::path::{Path, PathBuf};

use crate::pki::PkiError;

/// What a command concluded, when it ran to the end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum ExitStatus {
    /// Everything worked and every check passed (exit 0).
    Success,
    /// A check said no: expired, mismatched, wrong mode, handshake failed (exit 1).
    Failure,
    /// Bad input or an I/O error that the command has already reported in full (exit 2), as
    /// `provision` does for a failed step.
    InputError,
}

impl ExitStatus {
    /// Exit code for a usage, input or I/O error.
    pub const ERROR_CODE: u8 = 2;

    #[must_use]
    pub fn code(self) -> u8 {
        match self {
            ExitStatus::Success => 0,
            ExitStatus::Failure => 1,
            ExitStatus::InputError => Self::ERROR_CODE,
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

/// The hint of the first [`Error`] (or [`PkiError`]) in `err`'s chain, if any.
#[must_use]
pub fn hint_for(err: &anyhow::Error) -> Option<String> {
    err.chain()
        .find_map(|cause| {
            cause.downcast_ref::<Error>().map(Error::hint).or_else(|| {
                cause
                    .downcast_ref::<PkiError>()
                    .map(|e| pki_hint(e).to_owned())
            })
        })
        .filter(|hint| !hint.is_empty())
}

/// What to do about a refusal of the PKI core, in the command line's words (the core names no
/// flag, so that other callers can use it).
#[must_use]
pub fn pki_hint(err: &PkiError) -> &'static str {
    match err {
        PkiError::NoHosts => {
            "name the server as clients will reach it, e.g. --host influx.example.com --host 127.0.0.1"
        }
        PkiError::InvalidHost { .. } => {
            "use a DNS name (influx.example.com), a wildcard (*.example.com) or an IP address (127.0.0.1, ::1)"
        }
        PkiError::BadDate { .. } => "write it as 2027-01-31 or 2027-01-31T12:00:00Z",
        PkiError::EndsBeforeStart { .. } => "give a later --not-after, or an earlier --not-before",
        PkiError::After9999 => {
            "give an earlier --not-before, fewer --days, or an explicit --not-after"
        }
        PkiError::DaysOutOfRange { .. } => {
            "give --days from 1 to 36500; for a certificate that is already expired (to test monitoring), use --not-after"
        }
        PkiError::BadConstraintDomain { .. } => {
            "give --permitted-dns a domain such as example.com: it permits the domain and all names below it"
        }
        PkiError::BadIpRange { .. } => "write it as 127.0.0.0/8, 10.1.2.3 or ::1/128",
        PkiError::OutsideConstraints { .. } => {
            "issue from a CA whose --permitted-dns/--permitted-ip cover the host"
        }
        PkiError::NoCaCertificate => "pass the CA's certificate (ca.crt) with --ca-cert",
        PkiError::NotACa { .. } => {
            "pass the CA's certificate (ca.crt), not a server certificate; create a CA with certtool ca init"
        }
        PkiError::CaCannotSign { .. } => "create a CA with certtool ca init",
        PkiError::CaExpired { .. } => {
            "create a new CA with certtool ca init (clients must then trust the new ca.crt)"
        }
        PkiError::CaNotYetValid { .. } => {
            "check the system clock, or wait until the CA becomes valid"
        }
        PkiError::CaKeyMismatch { .. } => {
            "pass the key created together with this certificate (ca init writes ca.crt and ca.key)"
        }
        PkiError::UnrenewableKey { .. } => {
            "make a new one with certtool selfsigned or certtool ca issue --key-type ..."
        }
        PkiError::NoNamesToRenew => "make a new one with certtool selfsigned --host NAME",
        PkiError::EncryptedKey => {
            "decrypt it with `openssl pkey -in KEY -out KEY.plain` (and keep KEY.plain at mode 0600)"
        }
        PkiError::OpenSshKey => "TLS keys start with -----BEGIN PRIVATE KEY-----",
        PkiError::RsaUnsupportedCpu | PkiError::RsaUnsupportedArch => {
            "use --key-type ecdsa-p256, or bring an RSA key made elsewhere"
        }
    }
}
