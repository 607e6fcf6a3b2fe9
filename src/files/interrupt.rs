//! SIGINT, SIGTERM and SIGHUP while files are being written.
//!
//! The writer blocks the three signals for its duration and reads them from a non-blocking
//! signalfd at its checkpoints, so a signal never kills certtool between two renames: before the
//! first rename it rolls back (temp files removed, old files intact) and the command exits
//! 128 + the signal's number (130, 143, 129) with one line; once renames have begun it finishes
//! the set first. It must not decide anything about what is written.

use nix::sys::signal::{SigSet, SigmaskHow, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};

use crate::error::Error;

/// The signals blocked while writing, and where they are read from.
pub struct SignalGuard {
    fd: Option<SignalFd>,
    previous: Option<SigSet>,
}

fn blocked() -> SigSet {
    let mut set = SigSet::empty();
    for signal in [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP] {
        set.add(signal);
    }
    set
}

impl SignalGuard {
    /// Block the signals in this thread. If the system refuses, writing goes on unguarded (the
    /// intent record still lets the next run repair a killed write).
    #[must_use]
    pub fn block() -> SignalGuard {
        let set = blocked();
        let Ok(previous) = set.thread_swap_mask(SigmaskHow::SIG_BLOCK) else {
            return SignalGuard {
                fd: None,
                previous: None,
            };
        };
        let fd = SignalFd::with_flags(&set, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC).ok();
        SignalGuard {
            fd,
            previous: Some(previous),
        }
    }

    /// An error naming the signal, if one has arrived since the guard was taken.
    pub fn check(&mut self) -> Result<(), Error> {
        let Some(fd) = &mut self.fd else {
            return Ok(());
        };
        match fd.read_signal() {
            Ok(Some(info)) => Err(Error::Interrupted {
                signal: i32::try_from(info.ssi_signo).unwrap_or(15),
                completed: false,
            }),
            _ => Ok(()),
        }
    }
}

impl Drop for SignalGuard {
    fn drop(&mut self) {
        // A signal still pending is delivered as the mask is restored, with its usual effect.
        if let Some(previous) = self.previous {
            let _ = previous.thread_set_mask();
        }
    }
}

/// The conventional name of a signal number, for messages.
#[must_use]
pub fn signal_name(signal: i32) -> String {
    Signal::try_from(signal).map_or_else(|_| format!("signal {signal}"), |s| s.as_str().to_owned())
}
