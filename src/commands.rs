//! The commands: load scenarios, run the engine, write the reports. The only module that reads
//! scenario files and writes results.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use sha2::{Digest, Sha256};

use crate::cli::{RunArgs, ValidateArgs};
use crate::engine::{self, Plan};
use crate::report::{self, RunResult};
use crate::scenario::{self, LoadError, LoadedScenario};

/// A command's failure, mapped to an exit status by `main`.
#[derive(Debug)]
pub enum Failure {
    /// Bad scenario files or arguments: exit status 2. Each entry is one message.
    Input(Vec<String>),
    /// The run or its output failed: exit status 1.
    Run(String),
}

impl Failure {
    /// The documented exit status.
    pub fn exit_code(&self) -> u8 {
        match self {
            Failure::Input(_) => 2,
            Failure::Run(_) => 1,
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
        }
    }
}

/// Loads every file, collecting every problem of every file.
fn load_all(paths: &[PathBuf]) -> Result<Vec<LoadedScenario>, Failure> {
    let mut loaded = Vec::new();
    let mut problems = Vec::new();
    for path in paths {
        match scenario::load(path) {
            Ok(s) => loaded.push(s),
            Err(LoadError::Invalid(d)) => problems.extend(d.0.iter().map(ToString::to_string)),
            Err(e) => problems.push(e.to_string()),
        }
    }
    if problems.is_empty() {
        Ok(loaded)
    } else {
        Err(Failure::Input(problems))
    }
}

/// Prints to stdout; a closed pipe is not an error.
fn say(text: &str) {
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}

/// `killchain validate`.
pub fn validate(args: &ValidateArgs) -> Result<(), Failure> {
    let loaded = load_all(&args.scenarios)?;
    for l in &loaded {
        let s = &l.scenario;
        say(&format!(
            "ok: {} ({} techniques, {} controls)\n",
            l.path,
            s.techniques.len(),
            s.controls.len()
        ));
    }
    Ok(())
}

fn output_dir(out: &Path, scenario_path: &str) -> PathBuf {
    let stem = Path::new(scenario_path)
        .file_stem()
        .map_or_else(|| "scenario".into(), |s| s.to_string_lossy().into_owned());
    out.join(stem)
}

/// `killchain run`.
pub fn run(args: &RunArgs) -> Result<(), Failure> {
    let loaded = load_all(&args.scenarios)?;
    let mut dirs: Vec<PathBuf> = Vec::new();
    for l in &loaded {
        let dir = output_dir(&args.out, &l.path);
        if dirs.contains(&dir) {
            return Err(Failure::Input(vec![format!(
                "{}: another scenario also writes to {}; give the files different names",
                l.path,
                dir.display()
            )]));
        }
        dirs.push(dir);
    }
    let threads = args
        .threads
        .map_or_else(rayon::current_num_threads, usize::from);
    for (l, dir) in loaded.iter().zip(&dirs) {
        let s = &l.scenario;
        let trials = args.trials.unwrap_or(s.trials);
        let seed = args.seed.unwrap_or(s.seed);
        let plan = Plan::new(s);
        let started = Instant::now();
        let tally = engine::run(&plan, seed, trials, Some(threads))
            .map_err(|e| Failure::Run(format!("cannot start {threads} worker threads: {e}")))?;
        let wall_seconds = started.elapsed().as_secs_f64();
        let sha256 = hex(&Sha256::digest(l.source.as_bytes()));
        let result = RunResult {
            scenario: s,
            path: &l.path,
            sha256: &sha256,
            seed,
            threads,
            wall_seconds,
            tally: &tally,
        };
        let files = [
            ("phases.csv", report::phases_csv(&result)),
            ("controls.csv", report::controls_csv(&result)),
            ("techniques.csv", report::techniques_csv(&result)),
            ("run.json", report::run_json(&result)),
        ];
        write_all_atomically(dir, &files)?;
        if !args.quiet {
            say(&format!(
                "{}wrote {}\n\n",
                report::funnel(&result),
                dir.display()
            ));
        }
    }
    Ok(())
}

/// Writes every file under a temporary name in `dir` first, then renames each into place: a
/// reader never sees a partial file, and a run that fails before the renames (the only step
/// that can fail for lack of space or a write error) leaves the previous results intact.
fn write_all_atomically(dir: &Path, files: &[(&str, Vec<u8>)]) -> Result<(), Failure> {
    let fail = |what: &str, path: &Path, e: &dyn fmt::Display| {
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
    for (tmp, target) in staged {
        tmp.persist(&target)
            .map_err(|e| fail("replace", &target, &e.error))?;
    }
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
