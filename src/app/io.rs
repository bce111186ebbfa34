//! Files in and out: loading scenario files (every problem of every file), result folders,
//! atomic writes, stdout.
//!
//! Invariant: output files appear complete or not at all (temporary file in the destination,
//! then rename), and a signal before the renames leaves the folder as it was.

use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::scenario::{self, LoadError, LoadedScenario};

use super::{Failure, interrupt};

/// Loads every file, collecting every problem of every file.
pub(super) fn load_all(paths: &[PathBuf]) -> Result<Vec<LoadedScenario>, Failure> {
    let mut loaded = Vec::new();
    let mut problems = Vec::new();
    for path in paths {
        match scenario::load(path) {
            Ok(s) => loaded.push(s),
            Err(LoadError::Invalid(d)) => problems.extend(d.lines()),
            Err(e) => problems.push(e.to_string()),
        }
    }
    if problems.is_empty() {
        Ok(loaded)
    } else {
        Err(Failure::Input(problems))
    }
}

pub(super) use super::console::say;

/// The folder a scenario's results go to: OUT/<file stem>.
pub(super) fn output_dir(out: &Path, scenario_path: &str) -> PathBuf {
    let stem = Path::new(scenario_path)
        .file_stem()
        .map_or_else(|| "scenario".into(), |s| s.to_string_lossy().into_owned());
    out.join(stem)
}

/// Output folders of the loaded scenarios, refusing two that would write to the same one.
pub(super) fn output_dirs(out: &Path, loaded: &[LoadedScenario]) -> Result<Vec<PathBuf>, Failure> {
    let mut dirs: Vec<PathBuf> = Vec::new();
    for l in loaded {
        let dir = output_dir(out, &l.path);
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

/// The SHA-256 of `text`, in hex.
pub(super) fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Writes every file under a temporary name in `dir` first, then renames each into place: a
/// reader never sees a partial file, and a run that fails before the renames (the only step
/// that can fail for lack of space or a write error) leaves the previous results intact. A
/// SIGINT or SIGTERM received before the renames removes the temporary files and leaves the
/// folder as it was; once the renames have begun they complete.
pub(super) fn write_all_atomically(dir: &Path, files: &[(&str, Vec<u8>)]) -> Result<(), Failure> {
    interrupt::check(Some(dir))?;
    let fail = |what: &str, path: &Path, e: &std::io::Error| {
        let e = crate::input::io_reason(e);
        Failure::Run(format!("cannot {what} {}: {e}", path.display()))
    };
    std::fs::create_dir_all(dir).map_err(|e| fail("create", dir, &e))?;
    let mut staged = Vec::with_capacity(files.len());
    for (name, bytes) in files {
        let prefix = format!(".{name}.");
        let mut builder = tempfile::Builder::new();
        builder.prefix(&prefix);
        #[cfg(unix)]
        {
            // Results are for sharing: readable by others as the umask allows, not 0600.
            use std::os::unix::fs::PermissionsExt;
            builder.permissions(std::fs::Permissions::from_mode(0o666));
        }
        let mut tmp = builder
            .tempfile_in(dir)
            .map_err(|e| fail("create a file in", dir, &e))?;
        tmp.write_all(bytes)
            .and_then(|()| tmp.as_file().sync_all())
            .map_err(|e| fail("write", tmp.path(), &e))?;
        staged.push((tmp, dir.join(name)));
    }
    // Dropping `staged` deletes the temporary files.
    interrupt::check(Some(dir))?;
    for (tmp, target) in staged {
        tmp.persist(&target)
            .map_err(|e| fail("replace", &target, &e.error))?;
    }
    Ok(())
}
