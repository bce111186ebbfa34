//! The command layer: each command resolves its settings, calls the library and writes the
//! results. One file per command; [`io`] reads scenario files, [`destination`] replaces result
//! folders as a whole, [`interrupt`] turns SIGINT and SIGTERM into a flag, [`progress`] shows a
//! session's counter.
//!
//! Invariant: the only layer that reads files, writes results or prints; no engine, shard, year
//! or pairing logic here (that is `sim` and `analysis`).

mod check;
mod compare;
mod console;
mod destination;
mod exact;
pub mod fuzzing;
mod init;
mod interrupt;
mod io;
mod landscape;
mod merge;
mod optimize;
mod progress;
mod publish;
mod report;
mod run;
mod settings;

use std::fmt;
use std::path::PathBuf;

use crate::cli::{Cli, Command, CompletionsArgs, ValidateArgs};

pub use console::{escape, parse_command_line, print_failure};
pub use interrupt::catch_signals;

/// Runs the command `cli` names.
pub fn dispatch(cli: &Cli) -> Result<(), Failure> {
    match &cli.command {
        Command::Run(args) => run::run(args),
        Command::Exact(args) => exact::exact(args),
        Command::Check(args) => check::check(args),
        Command::Compare(args) => compare::compare(args),
        Command::Rank(args) => compare::rank(args),
        Command::Optimize(args) => optimize::optimize(args),
        Command::Init(args) => init::init(args),
        Command::Validate(args) => validate(args),
        Command::Merge(args) => merge::merge(args),
        Command::Report(args) => report::report(args),
        Command::Schema => schema(),
        Command::Completions(args) => completions(args),
    }
}

/// A command's failure, mapped to an exit status by `main`.
#[derive(Debug)]
pub enum Failure {
    /// Bad scenario files or arguments: exit status 2. Each entry is one message.
    Input(Vec<String>),
    /// The run or its output failed: exit status 1.
    Run(String),
    /// SIGINT or SIGTERM stopped the command before it wrote anything: exit status 128 + the
    /// signal's number, as a shell reports a process killed by it.
    Interrupted {
        /// The signal's number.
        signal: i32,
        /// The output folder that was about to be written, left as it was.
        dir: Option<PathBuf>,
    },
}

impl Failure {
    /// The documented exit status.
    pub fn exit_code(&self) -> u8 {
        match self {
            Failure::Input(_) => 2,
            Failure::Run(_) => 1,
            Failure::Interrupted { signal, .. } => u8::try_from(128 + signal).unwrap_or(u8::MAX),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Input(messages) => {
                for (i, m) in messages.iter().enumerate() {
                    if i > 0 {
                        writeln!(f)?;
                    }
                    write!(f, "error: {m}")?;
                }
                Ok(())
            }
            Failure::Run(m) => write!(f, "error: {m}"),
            Failure::Interrupted { dir: Some(dir), .. } => write!(
                f,
                "error: interrupted; previous results in {} are unchanged",
                dir.display()
            ),
            Failure::Interrupted { dir: None, .. } => write!(f, "error: interrupted"),
        }
    }
}

/// `killchain validate`.
fn validate(args: &ValidateArgs) -> Result<(), Failure> {
    let loaded = io::load_all(&args.scenarios)?;
    for l in &loaded {
        let s = &l.scenario;
        let adversaries = match s.adversaries.len() {
            0 => String::new(),
            n => format!(
                "{}, ",
                crate::report::counted(n as u64, "adversary", "adversaries")
            ),
        };
        io::say(&format!(
            "ok: {} ({adversaries}{}, {})\n",
            l.path,
            crate::report::counted(s.techniques.len() as u64, "technique", "techniques"),
            crate::report::counted(s.controls.len() as u64, "control", "controls")
        ))?;
    }
    Ok(())
}

/// `killchain schema`: the JSON Schema of scenario files on stdout.
fn schema() -> Result<(), Failure> {
    io::say(&crate::scenario::json_schema())
}

/// `killchain completions`: a completion script for `shell` on stdout.
fn completions(args: &CompletionsArgs) -> Result<(), Failure> {
    use clap::CommandFactory;
    let mut script = Vec::new();
    clap_complete::generate(
        args.shell,
        &mut crate::cli::Cli::command(),
        "killchain",
        &mut script,
    );
    io::say(&String::from_utf8_lossy(&script))
}
