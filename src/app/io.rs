//! Files in and out: loading scenario files (every problem of every file), digests, stdout.
//! Result folders are written through [`super::destination`].

use std::path::PathBuf;

use sha2::{Digest, Sha256};

use crate::scenario::{self, LoadError, LoadedScenario};

use super::Failure;

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

/// The SHA-256 of `text`, in hex.
pub(super) fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
