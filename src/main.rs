//! The `killchain` binary: parse the command line, run the command, map failures to exit codes
//! (0 success, 1 run or output failure, 2 usage or scenario-file error, 130 or 143 when SIGINT
//! or SIGTERM interrupted a run).

use std::process::ExitCode;

use clap::Parser;
use killchain::cli::{Cli, Command};
use killchain::commands;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match &cli.command {
        Command::Run(args) => commands::run(args),
        Command::Exact(args) => commands::exact(args),
        Command::Check(args) => commands::check(args),
        Command::Compare(args) => commands::compare(args),
        Command::Rank(args) => commands::rank(args),
        Command::Optimize(args) => commands::optimize(args),
        Command::Validate(args) => commands::validate(args),
        Command::Merge(args) => commands::merge(args),
        Command::Report(args) => commands::report(args),
        Command::Schema => commands::schema(),
        Command::Completions(args) => commands::completions(args),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("{failure}");
            ExitCode::from(failure.exit_code())
        }
    }
}
