//! Result folders: the name each one gets, and replacing one as a whole.
//!
//! A command that writes results first prepares its [`Destination`] — creates the parent, takes
//! the folder's lock, recovers what a killed writer left, creates a staging folder beside the
//! result folder — and only then computes; [`Destination::publish`] writes the whole new set
//! into the staging folder and swaps it with the result folder in one `rename` (Linux
//! `renameat2(RENAME_EXCHANGE)`, macOS `renameatx_np(RENAME_SWAP)`).
//!
//! Invariant: `OUT/<name>` is at every moment absent or one complete set of files written by one
//! command, whatever moment the process dies at; no two killchain processes write one folder at
//! once; nothing a dead writer left is ever read as a result.

use std::ffi::{OsStr, OsString};
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use crate::scenario::LoadedScenario;

use super::{Failure, interrupt};

/// The longest name a result folder may have, in bytes: room for the staging folder's longer
/// name within the usual 255-byte limit of a file name.
const MAX_NAME: usize = 200;

/// The length of the random part of a staging folder's name.
const RANDOM: usize = 6;

/// Checks a name that becomes one path component under the output folder (a scenario file's
/// stem, the stem of a shard's `scenario_file`): not empty, at most 200 bytes, not starting with
/// `.` (that excludes `.` and `..`, and hidden names are the staging and lock files' own), no
/// `/`, `\` or NUL. `source` names where it came from, for the message.
pub(super) fn component<'a>(name: &'a str, source: &str) -> Result<&'a str, Failure> {
    let problem = if name.is_empty() {
        Some("is empty")
    } else if name.starts_with('.') {
        Some("starts with `.`")
    } else if name.contains(['/', '\\', '\0']) {
        Some("contains a path separator")
    } else if name.len() > MAX_NAME {
        Some("is longer than 200 bytes")
    } else {
        None
    };
    match problem {
        None => Ok(name),
        Some(problem) => Err(Failure::Input(vec![format!(
            "{source}: the result folder's name {name:?} {problem}; it must be a plain name: not empty, not starting with `.`, no `/` or `\\`, at most 200 bytes"
        )])),
    }
}

/// The stem of `path` (a scenario file's path, as given or as a shard recorded it), checked by
/// [`component`].
pub(super) fn stem(path: &str) -> Result<String, Failure> {
    let stem = Path::new(path)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    component(&stem, path).map(str::to_owned)
}

/// The folder a scenario's results go to: OUT/<file stem>.
pub(super) fn output_dir(out: &Path, scenario_path: &str) -> Result<PathBuf, Failure> {
    Ok(out.join(stem(scenario_path)?))
}

/// Output folders of the loaded scenarios, refusing two that would write to the same one.
pub(super) fn output_dirs(out: &Path, loaded: &[LoadedScenario]) -> Result<Vec<PathBuf>, Failure> {
    let mut dirs: Vec<PathBuf> = Vec::new();
    for l in loaded {
        let dir = output_dir(out, &l.path)?;
        if dirs.contains(&dir) {
            return Err(Failure::Input(vec![format!(
                "{}: another scenario also writes to {}; give the files different names",
                l.path,
                dir.display()
            )]));
        }
        dirs.push(dir);
    }
    Ok(dirs)
}

/// Renderings of a folder's files: every write replaces or drops them, so a rendering is never
/// older than a file beside it.
const RENDERINGS: [&str; 3] = ["report.html", "navigator-layer.json", "results.xlsx"];

/// The files of the current set a command replaces, beside the renderings (which every command
/// replaces): those it writes, and those it could write but this time does not, which must not
/// survive into the new set. Other files of the current set (another command's, or a user's) are
/// carried over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Replaces {
    /// `run`, `exact`, `merge`, `compare`: the four reports, `loss_exceedance.csv`,
    /// `tally.json`, `comparison.csv` and `phase_deltas.csv`.
    Run,
    /// `rank`: `ranking.csv`.
    Ranking,
    /// `optimize`: `frontier.csv` and `optimize.json`.
    Frontier,
    /// `report`: the renderings alone.
    Renderings,
}

impl Replaces {
    fn names(self) -> &'static [&'static str] {
        match self {
            Replaces::Run => &[
                "phases.csv",
                "controls.csv",
                "techniques.csv",
                "run.json",
                "loss_exceedance.csv",
                "tally.json",
                "comparison.csv",
                "phase_deltas.csv",
                "landscape.csv",
                "landscape_comparison.csv",
            ],
            Replaces::Ranking => &["ranking.csv", "landscape_ranking.csv"],
            Replaces::Frontier => &["frontier.csv", "optimize.json"],
            Replaces::Renderings => &[],
        }
    }

    fn replaces(self, name: &str) -> bool {
        RENDERINGS.contains(&name) || self.names().contains(&name)
    }
}

/// An I/O error without the path some libraries add to its text (the message names the path).
fn plain(e: io::Error) -> String {
    crate::input::io_reason(&e)
}

/// A result folder being written: its lock is held and its staging folder exists until the new
/// set is published or the value is dropped (which removes the staging folder, releases the
/// lock and removes the folders it created for nothing).
#[derive(Debug)]
pub(super) struct Destination {
    /// The result folder, as the user named it.
    dir: PathBuf,
    /// The folder that holds it, its staging folder and its lock file.
    parent: PathBuf,
    /// The result folder's name in `parent`.
    name: String,
    /// The files of the current set the new one replaces.
    replaces: Replaces,
    /// The lock file, open and locked; its path.
    lock: Option<(File, PathBuf)>,
    /// The staging folder, until it is swapped in.
    staging: Option<PathBuf>,
    /// Folders created for this destination, deepest first: removed again unless published.
    created: Vec<PathBuf>,
}

impl Destination {
    /// Prepares `dir` to be replaced by a new set that replaces what `replaces` names: creates
    /// its parent, takes the lock (failing at once, with the holder's pid, when another killchain
    /// process holds it), recovers a swap a killed writer left half done, removes its stale
    /// staging folders, checks that the current folder holds only files, and creates the staging
    /// folder. Every command calls it before computing, so a destination that cannot be written
    /// fails in a moment, not after the simulation.
    pub fn prepare(dir: &Path, replaces: Replaces) -> Result<Destination, Failure> {
        let cannot = |what: &str, e: io::Error| {
            Failure::Run(format!(
                "cannot write to {}: {what}: {}",
                dir.display(),
                plain(e)
            ))
        };
        let name = dir
            .file_name()
            .and_then(OsStr::to_str)
            .ok_or_else(|| {
                Failure::Input(vec![format!(
                    "{}: not a folder name to write results to",
                    dir.display()
                )])
            })?
            .to_owned();
        let parent = match dir.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let mut created = Vec::new();
        let mut missing = parent.as_path();
        while matches!(fs::symlink_metadata(missing), Err(e) if e.kind() == io::ErrorKind::NotFound)
        {
            created.push(missing.to_path_buf());
            match missing.parent() {
                Some(p) if !p.as_os_str().is_empty() => missing = p,
                _ => break,
            }
        }
        let mut destination = Destination {
            dir: dir.to_path_buf(),
            parent,
            name,
            replaces,
            lock: None,
            staging: None,
            created: Vec::new(),
        };
        if let Err(e) = fs::create_dir_all(&destination.parent) {
            // Remove what was created before the failure.
            for d in &created {
                let _ = fs::remove_dir(d);
            }
            return Err(cannot(
                &format!("cannot create {}", destination.parent.display()),
                e,
            ));
        }
        destination.created = created;
        destination.lock = Some(destination.take_lock()?);
        destination
            .recover()
            .map_err(|e| cannot("cannot clean up", e))?;
        destination.check_current()?;
        let prefix = destination.staging_prefix();
        let mut builder = tempfile::Builder::new();
        builder.prefix(&prefix).rand_bytes(RANDOM);
        #[cfg(unix)]
        {
            // Result folders are for sharing: as `mkdir` makes them (the umask applies), not 0700.
            use std::os::unix::fs::PermissionsExt;
            builder.permissions(fs::Permissions::from_mode(0o777));
        }
        let staging = builder
            .tempdir_in(&destination.parent)
            .map_err(|e| cannot("cannot create a staging folder", e))?
            .keep();
        destination.staging = Some(staging);
        Ok(destination)
    }

    /// The result folder, as the user named it.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `.<name>.staging-`: the staging folders' names are this and six letters or digits.
    fn staging_prefix(&self) -> String {
        format!(".{}.staging-", self.name)
    }

    /// `.<name>.old`: where a swap without an exchange puts the current set for a moment.
    fn aside(&self) -> PathBuf {
        self.parent.join(format!(".{}.old", self.name))
    }

    /// Takes the folder's lock, `.<name>.lock` beside it, writing this process's id into it.
    fn take_lock(&self) -> Result<(File, PathBuf), Failure> {
        let path = self.parent.join(format!(".{}.lock", self.name));
        let cannot = |e: io::Error| {
            Failure::Run(format!(
                "cannot write to {}: cannot create its lock {}: {}",
                self.dir.display(),
                path.display(),
                plain(e)
            ))
        };
        loop {
            let mut file = fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
                .map_err(cannot)?;
            // fs4's, not std's (stable only since Rust 1.89, above this crate's rust-version).
            match fs4::FileExt::try_lock(&file) {
                Ok(()) => {}
                Err(fs4::TryLockError::WouldBlock) => {
                    let mut pid = String::new();
                    let _ = file.read_to_string(&mut pid);
                    let pid = pid.trim();
                    let holder = if pid.is_empty() || !pid.bytes().all(|b| b.is_ascii_digit()) {
                        String::new()
                    } else {
                        format!(" (pid {pid})")
                    };
                    return Err(Failure::Run(format!(
                        "another killchain is writing to {}{holder}; wait for it to finish, or write elsewhere with --out",
                        self.dir.display()
                    )));
                }
                Err(fs4::TryLockError::Error(e)) => return Err(cannot(e)),
            }
            // A lock file is removed by the writer that held it: locked after that removal, this
            // one is no longer the file at `path`, and another writer may hold the new one.
            if !same_file(&file, &path) {
                continue;
            }
            file.set_len(0)
                .and_then(|()| write!(file, "{}", std::process::id()))
                .map_err(cannot)?;
            return Ok((file, path));
        }
    }

    /// Under the lock: finishes or undoes what a killed writer left (a current set moved aside
    /// by a swap without exchange; staging folders, complete or not, and old sets swapped out).
    fn recover(&self) -> io::Result<()> {
        let aside = self.aside();
        if fs::symlink_metadata(&aside).is_ok() {
            if fs::symlink_metadata(&self.dir).is_ok() {
                fs::remove_dir_all(&aside)?;
            } else {
                // Killed between the two renames: the set moved aside is the current one.
                fs::rename(&aside, &self.dir)?;
            }
        }
        let prefix = self.staging_prefix();
        for entry in fs::read_dir(&self.parent)? {
            let entry = entry?;
            let name = entry.file_name();
            let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(&prefix)) else {
                continue;
            };
            if rest.len() == RANDOM && rest.bytes().all(|b| b.is_ascii_alphanumeric()) {
                let path = entry.path();
                if entry.file_type()?.is_dir() {
                    fs::remove_dir_all(&path)?;
                } else {
                    fs::remove_file(&path)?;
                }
            }
        }
        Ok(())
    }

    /// The current folder, if any, must be a folder (not a link) holding only files: the swap
    /// replaces it whole, and must not take a link's target or a user's folder with it.
    fn check_current(&self) -> Result<(), Failure> {
        let meta = match fs::symlink_metadata(&self.dir) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => {
                return Err(Failure::Run(format!(
                    "cannot read {}: {}",
                    self.dir.display(),
                    plain(e)
                )));
            }
        };
        let refuse = |what: &str| {
            Failure::Run(format!(
                "cannot write to {}: {what}; a result folder is replaced as a whole and holds only files: move it away or write elsewhere with --out",
                self.dir.display()
            ))
        };
        if meta.file_type().is_symlink() {
            return Err(refuse("it is a symbolic link"));
        }
        if !meta.is_dir() {
            return Err(refuse("it is not a folder"));
        }
        // `report` reads each file it renders before it publishes, and refuses there what is not
        // a regular file; the copy of the others refuses the rest (see `publish`).
        if self.replaces != Replaces::Renderings {
            for (name, is_file) in self.current_files()? {
                if !is_file {
                    let name = name.to_string_lossy();
                    return Err(refuse(&format!("{name} in it is not a regular file")));
                }
            }
        }
        Ok(())
    }

    /// The entries of the current folder, each with whether it is a regular file, but the
    /// temporary files an older killchain left in it (`.<file name>.XXXXXX`), never part of a set.
    /// Names are kept as the file system spells them (not necessarily UTF-8), so that each can
    /// be opened again.
    fn current_files(&self) -> Result<Vec<(OsString, bool)>, Failure> {
        let cannot = |e: io::Error| {
            Failure::Run(format!("cannot read {}: {}", self.dir.display(), plain(e)))
        };
        let mut files = Vec::new();
        let entries = match fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(files),
            Err(e) => return Err(cannot(e)),
        };
        for entry in entries {
            let entry = entry.map_err(cannot)?;
            let name = entry.file_name();
            let is_file = entry.file_type().map_err(cannot)?.is_file();
            if !(is_file && name.to_str().is_some_and(temporary_of_an_older_writer)) {
                files.push((name, is_file));
            }
        }
        Ok(files)
    }

    /// Replaces the result folder with a new set: `files`, and the files of the current set
    /// that the destination's [`Replaces`] does not name (copied). Everything is written and flushed to disk in the
    /// staging folder first; a SIGINT or SIGTERM received until then leaves the folder as it
    /// was; then one rename swaps the new set in, and once begun the swap completes. The old set
    /// is removed afterwards (or, if the process dies first, by the next writer).
    pub fn publish(mut self, files: &[(&str, Vec<u8>)]) -> Result<(), Failure> {
        interrupt::check(Some(&self.dir))?;
        let staging = self.staging.clone().expect("a prepared destination");
        let fail = |what: &str, path: &Path, e: io::Error| {
            Failure::Run(format!("cannot {what} {}: {}", path.display(), plain(e)))
        };
        let current = self.current_files()?;
        for (name, is_file) in current {
            let replaced = name
                .to_str()
                .is_some_and(|n| self.replaces.replaces(n) || files.iter().any(|(f, _)| *f == n));
            if replaced {
                continue;
            }
            let from = self.dir.join(&name);
            if !is_file {
                return Err(Failure::Run(format!(
                    "cannot write to {}: {} in it is not a regular file",
                    self.dir.display(),
                    name.to_string_lossy()
                )));
            }
            copy_file(&from, &staging.join(&name)).map_err(|e| fail("copy", &from, e))?;
        }
        for (name, bytes) in files {
            let path = staging.join(name);
            File::create(&path)
                .and_then(|mut f| f.write_all(bytes).and_then(|()| f.sync_all()))
                .map_err(|e| fail("write", &path, e))?;
        }
        sync_dir(&staging);
        interrupt::check(Some(&self.dir))?;
        // From here on the swap completes, signal or not.
        let exists = fs::symlink_metadata(&self.dir).is_ok();
        let replace = |e| fail("replace", &self.dir, e);
        if !exists {
            fs::rename(&staging, &self.dir).map_err(replace)?;
            self.staging = None;
        } else if exchange(&staging, &self.dir).map_err(replace)? {
            // The old set is now in the staging folder's place.
        } else {
            self.staging = Some(self.swap_by_two_renames(&staging).map_err(replace)?);
        }
        sync_dir(&self.parent);
        // The old set, if any, is removed by `drop`; a leftover is the next writer's to remove.
        self.created.clear();
        Ok(())
    }

    /// The swap where there is no exchange (on this system or file system): the current set
    /// moved aside, the new one in; where the old set now is. A process killed between the two
    /// renames leaves no folder for a moment, and the next writer moves the set aside back (see
    /// `recover`).
    fn swap_by_two_renames(&self, staging: &Path) -> io::Result<PathBuf> {
        let aside = self.aside();
        fs::rename(&self.dir, &aside)?;
        fs::rename(staging, &self.dir)?;
        Ok(aside)
    }
}

impl Drop for Destination {
    fn drop(&mut self) {
        if let Some(staging) = self.staging.take() {
            let _ = fs::remove_dir_all(staging);
        }
        if let Some((file, path)) = self.lock.take() {
            // Removed while still held: a writer that opened it meanwhile sees it is gone.
            #[cfg(unix)]
            let _ = fs::remove_file(&path);
            #[cfg(not(unix))]
            let _ = &path;
            drop(file);
        }
        for d in &self.created {
            let _ = fs::remove_dir(d);
        }
    }
}

/// Whether `name` is a temporary file killchain wrote into a result folder before it replaced
/// folders as a whole: `.` and a file name it writes, `.` and six letters or digits.
fn temporary_of_an_older_writer(name: &str) -> bool {
    let Some((file, random)) = name.strip_prefix('.').and_then(|n| n.rsplit_once('.')) else {
        return false;
    };
    let known = RENDERINGS.contains(&file)
        || [Replaces::Run, Replaces::Ranking, Replaces::Frontier]
            .iter()
            .any(|r| r.names().contains(&file));
    known && random.len() == RANDOM && random.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Whether the open `file` is still the file at `path`.
#[cfg(unix)]
fn same_file(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), fs::symlink_metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

/// Lock files are never removed where an open file cannot be: always the same file.
#[cfg(not(unix))]
fn same_file(_: &File, _: &Path) -> bool {
    true
}

/// Copies a regular file without following a link, flushing the copy to disk.
fn copy_file(from: &Path, to: &Path) -> io::Result<()> {
    if !fs::symlink_metadata(from)?.is_file() {
        return Err(io::Error::other("not a regular file"));
    }
    fs::copy(from, to)?;
    File::open(to)?.sync_all()
}

/// Flushes a folder's entries to disk where the system allows it (a rename is durable once
/// its folder is).
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

/// Swaps two folders in one step: `Ok(false)` where the system or the file system cannot.
#[cfg(any(target_os = "linux", target_os = "android", target_vendor = "apple"))]
fn exchange(a: &Path, b: &Path) -> io::Result<bool> {
    use rustix::fs::{CWD, RenameFlags, renameat_with};
    use rustix::io::Errno;
    match renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE) {
        Ok(()) => Ok(true),
        Err(Errno::INVAL | Errno::NOSYS | Errno::NOTSUP) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Swaps two folders in one step: `Ok(false)` where the system or the file system cannot.
#[cfg(not(any(target_os = "linux", target_os = "android", target_vendor = "apple")))]
fn exchange(_: &Path, _: &Path) -> io::Result<bool> {
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_names_pass_and_path_like_ones_are_refused() {
        for ok in ["reference", "a b", "x.y", "ransomware-midsize", "a..b"] {
            assert!(component(ok, "f").is_ok(), "{ok}");
        }
        for bad in [
            "",
            ".",
            "..",
            ".hidden",
            "a/b",
            "a\\b",
            "a\0b",
            &"x".repeat(201),
        ] {
            assert!(component(bad, "f").is_err(), "{bad:?}");
        }
        assert_eq!(stem("dir/acme.toml").unwrap(), "acme");
        assert!(stem("...toml").is_err());
        assert!(stem("...").is_err());
        assert!(stem("").is_err());
        assert!(stem("/").is_err());
    }

    /// What a process killed now leaves: the staging folder and the lock file, the lock released.
    fn die(mut d: Destination) {
        d.staging = None;
        d.created.clear();
        drop(d.lock.take());
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_swap_killed_between_its_two_renames_is_undone_by_the_next_writer() {
        let parent = tempfile::tempdir().unwrap();
        let dir = parent.path().join("x");
        fs::create_dir(&dir).unwrap();
        fs::write(dir.join("phases.csv"), "old").unwrap();
        let d = Destination::prepare(&dir, Replaces::Run).unwrap();
        let staging = d.staging.clone().unwrap();
        fs::write(staging.join("phases.csv"), "new").unwrap();
        // The first rename only, as a process killed between the two leaves it.
        fs::rename(&dir, d.aside()).unwrap();
        die(d);
        let lock = parent.path().join(".x.lock");
        let stale = names(parent.path());
        assert_eq!(stale.len(), 3, "{stale:?}");
        let d = Destination::prepare(&dir, Replaces::Run).unwrap();
        assert_eq!(fs::read_to_string(dir.join("phases.csv")).unwrap(), "old");
        // Only the new staging folder and the lock beside the folder; the old staging is gone.
        let now = names(parent.path());
        assert_eq!(now.len(), 3, "{now:?}");
        assert!(!now.contains(&".x.old".to_owned()), "{now:?}");
        assert!(!now.contains(&staging.file_name().unwrap().to_string_lossy().into_owned()));
        // The whole swap, then: the new set in place, the old one removed with the value.
        let staging = d.staging.clone().unwrap();
        fs::write(staging.join("phases.csv"), "new").unwrap();
        let aside = d.swap_by_two_renames(&staging).unwrap();
        assert_eq!(fs::read_to_string(dir.join("phases.csv")).unwrap(), "new");
        assert_eq!(fs::read_to_string(aside.join("phases.csv")).unwrap(), "old");
        // A kill now: the next writer removes the set moved aside and keeps the new one.
        die(d);
        let d = Destination::prepare(&dir, Replaces::Run).unwrap();
        assert!(!aside.exists());
        assert_eq!(fs::read_to_string(dir.join("phases.csv")).unwrap(), "new");
        drop(d);
        assert_eq!(names(parent.path()), ["x"]);
        assert!(!lock.exists());
    }

    #[test]
    fn only_this_folders_staging_names_are_removed_as_stale() {
        let parent = tempfile::tempdir().unwrap();
        for name in [
            ".x.staging-abc123",
            ".x.staging-.staging-abc123",
            ".x.staging-abc12",
            ".y.staging-abc123",
        ] {
            fs::create_dir(parent.path().join(name)).unwrap();
        }
        let d = Destination::prepare(&parent.path().join("x"), Replaces::Run).unwrap();
        drop(d);
        assert_eq!(
            names(parent.path()),
            [
                ".x.staging-.staging-abc123",
                ".x.staging-abc12",
                ".y.staging-abc123"
            ]
        );
    }

    /// A file of the current set whose name is not UTF-8 (a user's, beside the results) is
    /// carried over like any other, not refused on every later write.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_file_whose_name_is_not_utf8_is_carried_over() {
        use std::os::unix::ffi::OsStrExt;
        let parent = tempfile::tempdir().unwrap();
        let dir = parent.path().join("x");
        fs::create_dir(&dir).unwrap();
        let odd = OsStr::from_bytes(b"notes-\xff.txt");
        fs::write(dir.join(odd), "mine").unwrap();
        fs::write(dir.join("phases.csv"), "old").unwrap();
        let d = Destination::prepare(&dir, Replaces::Run).unwrap();
        d.publish(&[("phases.csv", b"new".to_vec())]).unwrap();
        assert_eq!(fs::read_to_string(dir.join(odd)).unwrap(), "mine");
        assert_eq!(fs::read_to_string(dir.join("phases.csv")).unwrap(), "new");
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 2);
    }

    #[test]
    fn every_command_replaces_the_renderings() {
        for r in [
            Replaces::Run,
            Replaces::Ranking,
            Replaces::Frontier,
            Replaces::Renderings,
        ] {
            assert!(r.replaces("report.html") && r.replaces("results.xlsx"));
        }
        assert!(Replaces::Run.replaces("tally.json"));
        assert!(temporary_of_an_older_writer(".phases.csv.a1B2c3"));
        assert!(!temporary_of_an_older_writer(".phases.csv"));
        assert!(!temporary_of_an_older_writer(".notes.txt.a1B2c3"));
        assert!(!temporary_of_an_older_writer("phases.csv.a1B2c3"));
        assert!(!Replaces::Ranking.replaces("phases.csv"));
        assert!(!Replaces::Renderings.replaces("phases.csv"));
    }
}
