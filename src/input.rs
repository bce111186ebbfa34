//! Reading an input file, the one way killchain does it: scenario files, a shard's `tally.json`
//! and the files of a result folder that `report` renders.
//!
//! Invariant: every file killchain reads goes through [`read`], which accepts regular files
//! only (no FIFO, device, socket or folder), refuses a symbolic link where the [`Source`] says
//! links do not belong, and never holds more than the source's limit plus one byte in memory,
//! whatever the file claims or becomes while it is read.
//!
//! A scenario named on the command line may be a symbolic link: the user chose the path, links
//! are an ordinary way to keep scenario files, and reading through one shows the user nothing
//! they could not read themselves. Files inside a result folder must not be links: folders are
//! copied between machines and people (shards from a cluster, results sent for a report), and a
//! `techniques.csv` linked to another file would put that file's content into what is rendered
//! and shared.

use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

/// What kind of file is read: its name in messages, its size limit and whether it may be a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Source {
    /// How messages name the file, e.g. "scenario file".
    pub what: &'static str,
    /// The most bytes accepted.
    pub max_bytes: u64,
    /// Whether the path may be a symbolic link (followed to a regular file).
    pub links: Links,
}

/// Whether a path may be a symbolic link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Links {
    /// Follow a link to the regular file it names.
    Follow,
    /// Refuse a link: the file must be a regular file at that very path.
    Refuse,
}

const MIB: u64 = 1024 * 1024;

/// A scenario file named by the user.
pub const SCENARIO: Source = Source {
    what: "scenario file",
    max_bytes: crate::scenario::MAX_FILE_BYTES,
    links: Links::Follow,
};

/// A shard's `tally.json`: the scenario's text (at most 16 MiB, JSON-escaped) and its counts.
pub const TALLY: Source = Source {
    what: "shard tally",
    max_bytes: 64 * MIB,
    links: Links::Refuse,
};

/// A CSV file or `run.json` of a result folder, read back by `report`.
pub const RESULT_FILE: Source = Source {
    what: "result file",
    max_bytes: 64 * MIB,
    links: Links::Refuse,
};

/// Why a file could not be read; its `Display` starts with the path.
#[derive(Debug)]
pub struct ReadError {
    /// The file as named.
    pub path: String,
    /// What was read.
    pub source: Source,
    /// What went wrong.
    pub problem: Problem,
}

/// What went wrong reading a file.
#[derive(Debug)]
pub enum Problem {
    /// The operating system refused (no such file, no permission, ...).
    Io(io::Error),
    /// The path is a symbolic link where none belongs.
    Link,
    /// The path is not a regular file: what it is.
    NotRegular(&'static str),
    /// The file holds more than the limit; its size when known.
    TooLarge(Option<u64>),
}

impl ReadError {
    /// Whether the file does not exist (for files that are optional).
    pub fn is_not_found(&self) -> bool {
        matches!(&self.problem, Problem::Io(e) if e.kind() == io::ErrorKind::NotFound)
    }

    /// The message without the path, for callers that name the file themselves.
    pub fn reason(&self) -> String {
        let what = self.source.what;
        let max = self.source.max_bytes;
        match &self.problem {
            Problem::Io(e) => format!("cannot read {what}: {}", io_reason(e)),
            Problem::Link => format!(
                "{what} is a symbolic link; a result folder's files must be regular files, not links"
            ),
            Problem::NotRegular(kind) => format!(
                "cannot read {what}: it is {kind}, not a regular file; give a regular file of at most {}",
                mib(max)
            ),
            Problem::TooLarge(Some(size)) => {
                format!(
                    "{what} is {size} bytes; at most {max} ({}) are accepted",
                    mib(max)
                )
            }
            Problem::TooLarge(None) => {
                format!(
                    "{what} is larger than {max} bytes ({}), the most accepted",
                    mib(max)
                )
            }
        }
    }
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.reason())
    }
}

impl std::error::Error for ReadError {}

fn mib(bytes: u64) -> String {
    if bytes % MIB == 0 {
        format!("{} MiB", bytes / MIB)
    } else {
        format!("{bytes} bytes")
    }
}

/// An I/O error's text without the path that `tempfile` appends to it (`… at path "…"`), so
/// that a message naming the file itself does not name it twice.
pub fn io_reason(e: &io::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at path \"") {
        Some(i) if e.raw_os_error().is_none() && text.ends_with('"') => text[..i].to_owned(),
        _ => text,
    }
}

/// Reads the whole file at `path` as `source` allows: a regular file (a link only where
/// `source.links` follows them), at most `source.max_bytes` bytes. A FIFO or device is refused
/// when it is opened, before anything is read from it.
pub fn read(path: &Path, source: Source) -> Result<Vec<u8>, ReadError> {
    let fail = |problem| ReadError {
        path: path.display().to_string(),
        source,
        problem,
    };
    let file = open(path, source.links).map_err(|e| match e {
        OpenError::Io(e) => fail(Problem::Io(e)),
        OpenError::Link => fail(Problem::Link),
    })?;
    let meta = file.metadata().map_err(|e| fail(Problem::Io(e)))?;
    if !meta.is_file() {
        return Err(fail(Problem::NotRegular(file_kind(&meta.file_type()))));
    }
    if meta.len() > source.max_bytes {
        return Err(fail(Problem::TooLarge(Some(meta.len()))));
    }
    let capacity = usize::try_from(meta.len()).unwrap_or(0);
    let mut bytes = Vec::with_capacity(capacity);
    file.take(source.max_bytes.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| fail(Problem::Io(e)))?;
    if bytes.len() as u64 > source.max_bytes {
        return Err(fail(Problem::TooLarge(None)));
    }
    Ok(bytes)
}

enum OpenError {
    Io(io::Error),
    Link,
}

#[cfg(unix)]
fn open(path: &Path, links: Links) -> Result<File, OpenError> {
    use std::os::unix::fs::OpenOptionsExt;
    // O_NONBLOCK: opening a FIFO without a writer returns at once (and is then refused as not a
    // regular file) instead of waiting; it changes nothing for a regular file. O_NOFOLLOW makes
    // the refusal of a link part of the open itself, so no link can be swapped in after a check.
    let mut flags = libc::O_NONBLOCK | libc::O_NOCTTY;
    if links == Links::Refuse {
        flags |= libc::O_NOFOLLOW;
    }
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(flags)
        .open(path)
        .map_err(|e| {
            let link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
            if links == Links::Refuse && link {
                OpenError::Link
            } else {
                OpenError::Io(e)
            }
        })
}

#[cfg(not(unix))]
fn open(path: &Path, links: Links) -> Result<File, OpenError> {
    if links == Links::Refuse
        && std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
    {
        return Err(OpenError::Link);
    }
    File::open(path).map_err(OpenError::Io)
}

fn file_kind(t: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    if t.is_dir() {
        "a directory"
    } else {
        "not a file"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: Source = Source {
        what: "test file",
        max_bytes: 4,
        links: Links::Refuse,
    };

    #[test]
    fn reads_up_to_the_limit_and_names_it_beyond() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, b"1234").unwrap();
        assert_eq!(read(&path, SMALL).unwrap(), b"1234");
        std::fs::write(&path, b"12345").unwrap();
        let e = read(&path, SMALL).unwrap_err();
        assert!(matches!(e.problem, Problem::TooLarge(Some(5))), "{e}");
        assert_eq!(
            e.reason(),
            "test file is 5 bytes; at most 4 (4 bytes) are accepted"
        );
    }

    #[test]
    fn folders_and_missing_files_are_refused_with_the_path_once() {
        let dir = tempfile::tempdir().unwrap();
        let e = read(dir.path(), SMALL).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "{}: cannot read test file: it is a directory, not a regular file; give a regular file of at most 4 bytes",
                dir.path().display()
            )
        );
        let e = read(&dir.path().join("none"), SMALL).unwrap_err();
        assert!(e.is_not_found());
        assert_eq!(
            e.to_string()
                .matches(&*dir.path().display().to_string())
                .count(),
            1
        );
    }

    #[cfg(unix)]
    #[test]
    fn links_are_followed_or_refused_as_the_source_says() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("secret");
        std::fs::write(&target, b"abc").unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert!(matches!(
            read(&link, SMALL).unwrap_err().problem,
            Problem::Link
        ));
        let follow = Source {
            links: Links::Follow,
            ..SMALL
        };
        assert_eq!(read(&link, follow).unwrap(), b"abc");
    }

    #[test]
    fn an_io_reason_drops_an_appended_path() {
        // What tempfile reports when it cannot create a file in a folder.
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("gone");
        let e = tempfile::Builder::new().tempfile_in(&missing).unwrap_err();
        assert!(e.to_string().contains(" at path "), "{e}");
        assert_eq!(io_reason(&e), "No such file or directory (os error 2)");
        let os = io::Error::from_raw_os_error(13);
        assert_eq!(io_reason(&os), os.to_string());
    }
}
