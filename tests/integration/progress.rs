//! The progress bar is for people at a terminal: with stderr on a pseudo-terminal, a run that
//! lasts a second gets a bar, which is cleared when the run ends; a short run and a `--quiet`
//! run get none; and a run whose stderr is a pipe writes nothing there, however long it takes.
//!
//! Every wait is bounded: a run that misbehaves is killed and the test fails with what the
//! terminal showed.

use std::fs::File;
use std::io::Read;
use std::os::fd::OwnedFd;
use std::path::Path;
use std::process::{Child, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use nix::pty::{Winsize, openpty};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use predicates::prelude::*;
use tempfile::TempDir;

use crate::support::killchain_process;

/// A run far too long to finish in a test; it is stopped with SIGINT. The scenario is tiny so
/// that the simulation, and with it the second before a bar, starts at once: a signal that
/// comes before the simulation has started ends the process by default, without a message.
const LONG: [&str; 6] = [
    "run",
    "tests/data/valid/tiny.toml",
    "--trials",
    "2000000000",
    "--threads",
    "2",
];

/// What the binary waits before it draws a bar.
const BAR_AFTER: Duration = Duration::from_secs(1);

/// The longest any one wait of these tests may last before the run is taken to be hung.
const PATIENCE: Duration = Duration::from_secs(30);

/// One frame of the bar drawn with the template
/// `{elapsed_precise} [{wide_bar}] {human_pos}/{human_len} trials, {eta} left`, for `LONG`.
const BAR: &str = r"^\d\d:\d\d:\d\d \[[=> ]+\] [0-9,]+/2,000,000,000 trials, \S+ left$";

/// `killchain ARGS --out OUT` with stderr on a fresh pseudo-terminal (stdin and stdout are
/// null), and what the terminal receives.
struct Terminal {
    child: Child,
    started: Instant,
    output: Receiver<Vec<u8>>,
    received: Vec<u8>,
    closed: bool,
}

impl Terminal {
    fn start(args: &[&str], out: &Path) -> Terminal {
        let size = Winsize {
            ws_row: 24,
            ws_col: 100,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        let pty = openpty(&size, None).expect("a pseudo-terminal");
        // Duplicates are close-on-exec, so no other test's child keeps the terminal open.
        let (master, slave) = (cloexec(pty.master), cloexec(pty.slave));
        let mut reader = File::from(master);
        let (send, output) = mpsc::channel();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            // Linux answers EIO once the last writer has gone: the end of the output.
            while let Ok(n @ 1..) = reader.read(&mut buf) {
                if send.send(buf[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        let started = Instant::now();
        let child = {
            let mut cmd = killchain_process();
            cmd.args(args)
                .arg("--out")
                .arg(out)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::from(slave));
            cmd.spawn().expect("killchain starts")
            // `cmd`, the last holder of the terminal's other end here, is dropped.
        };
        Terminal {
            child,
            started,
            output,
            received: Vec::new(),
            closed: false,
        }
    }

    /// Reads what the terminal receives until `done` holds of its screen; returns when that was,
    /// counted from the start. Panics after `PATIENCE`.
    fn wait_for(&mut self, what: &str, done: impl Fn(&[String]) -> bool) -> Duration {
        let deadline = Instant::now() + PATIENCE;
        while !done(&screen(&self.received)) {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.output.recv_timeout(left) {
                Ok(bytes) => self.received.extend(bytes),
                Err(RecvTimeoutError::Disconnected) => {
                    self.closed = true;
                    self.fail(&format!("the run ended before {what}"));
                }
                Err(RecvTimeoutError::Timeout) => self.fail(&format!("no {what} in {PATIENCE:?}")),
            }
        }
        self.started.elapsed()
    }

    /// Waits for the run to end and for the terminal to close; returns the exit status and the
    /// final screen.
    fn finish(&mut self) -> (ExitStatus, Vec<String>) {
        let deadline = Instant::now() + PATIENCE;
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline {
                self.fail(&format!("the run did not end in {PATIENCE:?}"));
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        while !self.closed {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.output.recv_timeout(left) {
                Ok(bytes) => self.received.extend(bytes),
                Err(RecvTimeoutError::Disconnected) => self.closed = true,
                Err(RecvTimeoutError::Timeout) => self.fail("the terminal stayed open"),
            }
        }
        (status, screen(&self.received))
    }

    fn interrupt(&self) {
        let pid = Pid::from_raw(i32::try_from(self.child.id()).unwrap());
        kill(pid, Signal::SIGINT).unwrap();
    }

    fn fail(&mut self, why: &str) -> ! {
        let _ = self.child.kill();
        let _ = self.child.wait();
        panic!(
            "{why}; the terminal received {:?}",
            String::from_utf8_lossy(&self.received)
        );
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn cloexec(fd: OwnedFd) -> OwnedFd {
    fd.try_clone().expect("a close-on-exec duplicate")
}

/// The lines a terminal shows after `bytes`: printable text overwrites at the cursor, `\r`
/// returns to the line's start, `\n` moves down, and of the escape sequences, cursor up and down
/// (`ESC[nA`, `ESC[nB`) and erase in line (`ESC[K`, `ESC[2K`) are followed; other sequences are
/// skipped. Trailing blanks and trailing empty lines are dropped.
fn screen(bytes: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(bytes);
    let mut lines: Vec<Vec<char>> = vec![Vec::new()];
    let (mut row, mut col) = (0usize, 0usize);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => col = 0,
            '\n' => {
                row += 1;
                if lines.len() <= row {
                    lines.push(Vec::new());
                }
            }
            '\x1b' if chars.peek() == Some(&'[') => {
                chars.next();
                let mut param = String::new();
                let command = loop {
                    match chars.next() {
                        Some(p @ ('0'..='9' | ';' | '?')) => param.push(p),
                        other => break other,
                    }
                };
                let n = param.parse::<usize>().unwrap_or(1).max(1);
                match command {
                    Some('A') => row = row.saturating_sub(n),
                    Some('B') => {
                        row += n;
                        while lines.len() <= row {
                            lines.push(Vec::new());
                        }
                    }
                    Some('K') if param == "2" => lines[row].clear(),
                    Some('K') if param.is_empty() || param == "0" => lines[row].truncate(col),
                    _ => {}
                }
            }
            c if c.is_control() => {}
            c => {
                let line = &mut lines[row];
                while line.len() < col {
                    line.push(' ');
                }
                if col < line.len() {
                    line[col] = c;
                } else {
                    line.push(c);
                }
                col += 1;
            }
        }
    }
    let mut shown: Vec<String> = lines
        .into_iter()
        .map(|l| l.into_iter().collect::<String>().trim_end().to_owned())
        .collect();
    while shown.last().is_some_and(String::is_empty) {
        shown.pop();
    }
    shown
}

fn is_bar(line: &str) -> bool {
    predicate::str::is_match(BAR).unwrap().eval(line)
}

fn interrupted(out: &Path) -> String {
    format!(
        "error: interrupted; previous results in {} are unchanged",
        out.join("tiny").display()
    )
}

#[test]
fn a_long_run_at_a_terminal_shows_a_bar_after_a_second_and_clears_it_at_the_end() {
    let out = TempDir::new().unwrap();
    let mut term = Terminal::start(&LONG, out.path());
    let shown = term.wait_for("progress bar", |s| s.iter().any(|l| is_bar(l)));
    assert!(
        shown >= BAR_AFTER,
        "the bar appeared after {shown:?}, before {BAR_AFTER:?}"
    );
    term.interrupt();
    let (status, screen) = term.finish();
    assert_eq!(status.code(), Some(130), "{screen:?}");
    assert_eq!(
        screen,
        [interrupted(out.path())],
        "the bar is cleared before the last message"
    );
}

#[test]
fn a_run_shorter_than_a_second_at_a_terminal_shows_no_bar() {
    let out = TempDir::new().unwrap();
    let mut term = Terminal::start(
        &["run", "tests/data/valid/tiny.toml", "--trials", "2000"],
        out.path(),
    );
    let (status, _) = term.finish();
    let took = term.started.elapsed();
    assert!(status.success(), "{status}");
    assert_eq!(
        String::from_utf8_lossy(&term.received),
        "",
        "a run of {took:?} wrote to the terminal"
    );
}

#[test]
fn a_quiet_run_at_a_terminal_shows_no_bar() {
    let out = TempDir::new().unwrap();
    let mut args = LONG.to_vec();
    args.push("--quiet");
    let mut term = Terminal::start(&args, out.path());
    // Well past the second after which a bar would appear.
    std::thread::sleep(BAR_AFTER * 3);
    assert!(
        term.child.try_wait().unwrap().is_none(),
        "the run ended before the test could see whether a bar appears"
    );
    term.interrupt();
    let (status, screen) = term.finish();
    assert_eq!(status.code(), Some(130), "{screen:?}");
    assert_eq!(screen, [interrupted(out.path())]);
    assert!(
        !String::from_utf8_lossy(&term.received).contains(" trials, "),
        "a bar was drawn and cleared: {:?}",
        String::from_utf8_lossy(&term.received)
    );
}

#[test]
fn a_long_run_with_stderr_piped_writes_nothing_to_stderr() {
    let out = TempDir::new().unwrap();
    let mut child = {
        let mut cmd = killchain_process();
        cmd.args(LONG)
            .arg("--out")
            .arg(out.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        cmd.spawn().unwrap()
    };
    std::thread::sleep(BAR_AFTER * 3);
    let running = child.try_wait().unwrap().is_none();
    kill(
        Pid::from_raw(i32::try_from(child.id()).unwrap()),
        Signal::SIGINT,
    )
    .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(running, "the run ended before a bar could have appeared");
    assert_eq!(output.status.code(), Some(130), "{output:?}");
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        format!("{}\n", interrupted(out.path())),
        "only the last message goes to a piped stderr"
    );
}
