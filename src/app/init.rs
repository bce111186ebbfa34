//! `killchain init`: writes a commented template scenario to start modelling an estate from.
//!
//! Invariant: an existing file is never replaced without `--force`, and the file is written
//! whole or not at all (a temporary file beside it, then one rename).

use std::io::Write;
use std::path::Path;

use crate::cli::InitArgs;

use super::{Failure, io};

/// The template: every section of a scenario file, one technique per phase, one control per
/// course of action, a `[loss]` table and variants, every number marked as an assumption.
const TEMPLATE: &str = include_str!("init_template.toml");

/// `killchain init`: the template to `PATH` (default `scenario.toml`), or to stdout for `-`.
pub(super) fn init(args: &InitArgs) -> Result<(), Failure> {
    if args.path.as_os_str() == "-" {
        return io::say(TEMPLATE);
    }
    write_new(&args.path, args.force)?;
    if !args.quiet {
        io::say(&format!(
            "wrote {}; next: killchain validate {0} && killchain run {0}\n",
            args.path.display()
        ))?;
    }
    Ok(())
}

/// Writes the template to `path` through a temporary file in the same folder, so that `path` is
/// either absent, as it was, or the whole template. Without `force` an existing `path` (even
/// one created meanwhile) is refused.
fn write_new(path: &Path, force: bool) -> Result<(), Failure> {
    let shown = path.display();
    if path.is_dir() {
        return Err(Failure::Input(vec![format!(
            "{shown} is a folder; give the path of a file, e.g. {}",
            path.join("scenario.toml").display()
        )]));
    }
    let exists = || {
        Failure::Input(vec![format!(
            "{shown} already exists; give --force to replace it, or another path"
        )])
    };
    if let Ok(meta) = path.symlink_metadata() {
        if !force {
            return Err(exists());
        }
        // --force replaces a file (or a link, not what it points to); never a device, a FIFO
        // or a socket, which a rename would put a regular file in place of.
        if !(meta.is_file() || meta.file_type().is_symlink()) {
            return Err(Failure::Input(vec![format!(
                "{shown} is not a regular file, so --force does not replace it; give the path of a file"
            )]));
        }
    }
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let cannot = |e: std::io::Error| {
        Failure::Run(format!(
            "cannot write {shown}: {}",
            crate::input::io_reason(&e)
        ))
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(".killchain-init-");
    // A scenario is an ordinary file, readable as the umask allows, not the owner-only file a
    // temporary file is by default.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let mut file = builder.tempfile_in(parent).map_err(cannot)?;
    file.write_all(TEMPLATE.as_bytes())
        .and_then(|()| file.as_file().sync_all())
        .map_err(cannot)?;
    let persisted = if force {
        file.persist(path)
    } else {
        file.persist_noclobber(path)
    };
    match persisted {
        Ok(_) => Ok(()),
        Err(e) if e.error.kind() == std::io::ErrorKind::AlreadyExists => Err(exists()),
        Err(e) => Err(cannot(e.error)),
    }
}
