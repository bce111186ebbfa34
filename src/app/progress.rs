//! The progress bar: a thread that polls a session's count of finished trials, so the engine
//! itself writes nothing.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How long a simulation runs before its progress bar appears.
const PROGRESS_AFTER: Duration = Duration::from_secs(1);

/// Runs `work`, whose finished trials are counted in `done` (a session's counter), and shows
/// them on stderr as a bar out of `total`. The bar appears only when `show` holds, stderr is a terminal
/// and the work has lasted [`PROGRESS_AFTER`]; it is cleared when the work ends. A thread polls
/// the counter, so the engine itself writes nothing.
pub(super) fn with_progress<T>(
    total: u64,
    show: bool,
    done: &AtomicU64,
    work: impl FnOnce() -> T,
) -> T {
    if !show || !std::io::stderr().is_terminal() {
        return work();
    }
    let start = done.load(Ordering::Relaxed);
    let finished = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let poller = scope.spawn(|| {
            let started = Instant::now();
            let mut bar: Option<indicatif::ProgressBar> = None;
            while !finished.load(Ordering::Relaxed) {
                std::thread::park_timeout(Duration::from_millis(100));
                if bar.is_none() && started.elapsed() >= PROGRESS_AFTER {
                    let b = indicatif::ProgressBar::with_draw_target(
                        Some(total),
                        indicatif::ProgressDrawTarget::stderr(),
                    );
                    if let Ok(style) = indicatif::ProgressStyle::with_template(
                        "{elapsed_precise} [{wide_bar}] {human_pos}/{human_len} trials, {eta} left",
                    ) {
                        b.set_style(style.progress_chars("=> "));
                    }
                    bar = Some(b);
                }
                if let Some(b) = &bar {
                    b.set_position(done.load(Ordering::Relaxed).saturating_sub(start));
                }
            }
            if let Some(b) = bar {
                b.finish_and_clear();
            }
        });
        let result = work();
        finished.store(true, Ordering::Relaxed);
        poller.thread().unpark();
        result
    })
}
