//! SIGINT and SIGTERM as a flag: the handlers only record the signal; a [`crate::sim::Session`]
//! reads the flag before each work unit and between rounds of units (so a stop is answered
//! within one unit at any trial count), and the writers check it before the renames.
//!
//! Invariant: no signal handler exits the process, so no temporary file is left behind; the
//! commands that simulate install the handlers before any other work ([`catch_signals`]).

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use super::Failure;
use crate::cli::Command;

/// The number of the first SIGINT or SIGTERM received, 0 before any. The first call installs the
/// handlers, which only record the signal: the commands that compute for long call it, stop the
/// engine between chunks, and return [`Failure::Interrupted`] before they start replacing files
/// (once renaming has begun it completes, so a folder never holds half old, half new results).
/// Commands that never call it keep the default: the signal ends them at once.
pub(super) fn flag() -> &'static Arc<AtomicUsize> {
    static FLAG: OnceLock<Arc<AtomicUsize>> = OnceLock::new();
    FLAG.get_or_init(|| {
        let flag = Arc::new(AtomicUsize::new(0));
        for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
            // Should installing fail, the signal keeps its default action: the process ends at
            // once, still without a half-written file (files are renamed into place whole).
            let _ = signal_hook::flag::register_usize(signal, Arc::clone(&flag), signal as usize);
        }
        flag
    })
}

/// Installs the handlers when `command` simulates (`run`, `check`, `compare`, `rank`,
/// `optimize`), before it loads a file or starts a thread, so a signal at any moment of such a
/// command ends it with [`Failure::Interrupted`]. The other commands keep the default action
/// until they start writing files (a signal ends them at once, leaving no partial file).
pub fn catch_signals(command: &Command) {
    let simulates = matches!(
        command,
        Command::Run(_)
            | Command::Check(_)
            | Command::Compare(_)
            | Command::Rank(_)
            | Command::Optimize(_)
    );
    if simulates {
        flag();
    }
}

/// `Err(Interrupted)` once a signal has been received.
pub(super) fn check(dir: Option<&Path>) -> Result<(), Failure> {
    match flag().load(Ordering::Relaxed) {
        0 => Ok(()),
        signal => Err(stopped(signal, dir)),
    }
}

/// The failure a stopped session reports: the signal that stopped it, and the folder it left
/// as it was.
pub(super) fn stopped(signal: usize, dir: Option<&Path>) -> Failure {
    Failure::Interrupted {
        signal: i32::try_from(signal).unwrap_or(i32::MAX),
        dir: dir.map(Path::to_path_buf),
    }
}
