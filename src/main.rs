//! The `killchain` binary: parse the command line, run the command, map failures to exit codes
//! (0 success, 1 run or output failure, 2 usage or scenario-file error, 130 or 143 when SIGINT
//! or SIGTERM interrupted a run).

#![deny(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;

use killchain::app;

fn main() -> ExitCode {
    let cli = match app::parse_command_line() {
        Ok(cli) => cli,
        Err(status) => return status,
    };
    // Before any work: a signal from here on ends a simulating command with its documented
    // message and status, however early it arrives.
    app::catch_signals(&cli.command);
    let outcome = app::dispatch(&cli);
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            app::print_failure(&failure);
            ExitCode::from(failure.exit_code())
        }
    }
}
