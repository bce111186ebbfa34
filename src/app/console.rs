//! What reaches the terminal: standard output and the error messages on standard error.
//!
//! Invariant: every text killchain prints passes through [`escape`] here, so a scenario's name,
//! an id or a path cannot carry terminal control sequences (`ESC ] 0; … BEL` retitling the
//! window, `ESC [2J` clearing it) to the user's terminal; nothing else in the crate writes to
//! stdout or stderr (`tests/integration/architecture.rs` checks it). A write to stdout that
//! fails is a failure of the command, except a closed pipe (`killchain … | head`).

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::{ErrorKind, Write};
use std::process::ExitCode;

use clap::Parser;

use super::Failure;
use crate::cli::Cli;

/// `text` with every control character (C0 but newline and tab, DEL, C1) and every Unicode
/// bidirectional-override character written as `\u{…}`; everything else, letters of any script
/// included ("Société"), is kept as it is.
pub fn escape(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for ch in text.chars() {
        if needs_escape(ch) {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(ch));
        } else {
            out.push(ch);
        }
    }
    Cow::Owned(out)
}

fn needs_escape(ch: char) -> bool {
    (ch.is_control() && ch != '\n' && ch != '\t')
        || matches!(ch, '\u{61c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Prints `text` to stdout, escaped. A closed pipe is not an error; any other failure to write
/// (a full disk, an I/O error) is, so that output lost is never reported as success.
pub(super) fn say(text: &str) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    match out
        .write_all(escape(text).as_bytes())
        .and_then(|()| out.flush())
    {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Failure::Run(format!(
            "cannot write to standard output: {e}"
        ))),
    }
}

/// Prints `note: LINE` to stderr for each line, escaped: what a command that succeeded did not
/// do of what it was asked (a rendering that does not apply to a folder).
pub(super) fn note(lines: &[String]) {
    let mut text = String::new();
    for line in lines {
        let _ = writeln!(text, "note: {line}");
    }
    let _ = std::io::stderr().lock().write_all(escape(&text).as_bytes());
}

/// Prints a command's failure to stderr, escaped, one `error: …` line per problem.
pub fn print_failure(failure: &Failure) {
    let text = format!("{failure}\n");
    let _ = std::io::stderr().lock().write_all(escape(&text).as_bytes());
}

/// The command line, parsed. Help and version are clap's own text, printed as clap prints it;
/// a usage error echoes the arguments given, so it is printed escaped like every other error,
/// and its exit status is returned.
pub fn parse_command_line() -> Result<Cli, ExitCode> {
    match Cli::try_parse() {
        Ok(cli) => Ok(cli),
        Err(e) if !e.use_stderr() => e.exit(),
        Err(e) => {
            let text = e.render().to_string();
            let _ = std::io::stderr().lock().write_all(escape(&text).as_bytes());
            Err(ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_sequences_are_shown_not_sent() {
        assert_eq!(
            escape("a\u{1b}]0;owned\u{7}b\u{1b}[2J"),
            "a\\u{1b}]0;owned\\u{7}b\\u{1b}[2J"
        );
        assert_eq!(escape("x\ry\u{9b}z\u{7f}"), "x\\u{d}y\\u{9b}z\\u{7f}");
        assert_eq!(escape("evil\u{202e}txt.exe"), "evil\\u{202e}txt.exe");
    }

    #[test]
    fn ordinary_text_is_kept_byte_for_byte() {
        let text = "Société Générale — 東京\n\tcol1\tcol2 ±0.00 −1,500 €\n";
        assert!(matches!(escape(text), Cow::Borrowed(t) if t == text));
    }
}
