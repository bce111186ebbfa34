//! The commands: load scenarios, run the engine, write the reports. The only module that reads
//! scenario files and writes results.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use sha2::{Digest, Sha256};

use crate::cli::{CheckArgs, ExactArgs, RunArgs, ValidateArgs};
use crate::engine::{self, Plan};
use crate::exact::{self, ExactResult};
use crate::report::{self, Figures, RunResult};
use crate::scenario::{self, LoadError, LoadedScenario, Scenario};

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

/// Output folders of the loaded scenarios, refusing two that would write to the same one.
fn output_dirs(out: &Path, loaded: &[LoadedScenario]) -> Result<Vec<PathBuf>, Failure> {
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

/// Runs the Monte Carlo engine on one scenario; returns the figures and the wall time.
fn simulate(
    s: &Scenario,
    trials: u64,
    seed: u64,
    threads: usize,
) -> Result<(Figures, f64), Failure> {
    let plan = Plan::new(s);
    let started = Instant::now();
    let tally = engine::run(&plan, seed, trials, Some(threads))
        .map_err(|e| Failure::Run(format!("cannot start {threads} worker threads: {e}")))?;
    Ok((Figures::sampled(&tally), started.elapsed().as_secs_f64()))
}

/// Evaluates one scenario exactly, or explains why it cannot be.
fn evaluate(l: &LoadedScenario) -> Result<ExactResult, Failure> {
    exact::evaluate(&l.scenario).map_err(|e| Failure::Input(vec![format!("{}: {e}", l.path)]))
}

/// Writes the four reports of one scenario and prints its funnel.
fn publish(result: &RunResult, dir: &Path, quiet: bool) -> Result<(), Failure> {
    let files = [
        ("phases.csv", report::phases_csv(result)),
        ("controls.csv", report::controls_csv(result)),
        ("techniques.csv", report::techniques_csv(result)),
        ("run.json", report::run_json(result)),
    ];
    write_all_atomically(dir, &files)?;
    if !quiet {
        say(&format!(
            "{}wrote {}\n\n",
            report::funnel(result),
            dir.display()
        ));
    }
    Ok(())
}

fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `killchain run`.
pub fn run(args: &RunArgs) -> Result<(), Failure> {
    let loaded = load_all(&args.scenarios)?;
    let dirs = output_dirs(&args.out, &loaded)?;
    let threads = args
        .threads
        .map_or_else(rayon::current_num_threads, usize::from);
    for (l, dir) in loaded.iter().zip(&dirs) {
        let s = &l.scenario;
        let seed = args.seed.unwrap_or(s.seed);
        let (figures, wall_seconds) = simulate(s, args.trials.unwrap_or(s.trials), seed, threads)?;
        let sha256 = sha256_hex(&l.source);
        let result = RunResult {
            scenario: s,
            path: &l.path,
            sha256: &sha256,
            seed: Some(seed),
            threads,
            wall_seconds,
            figures: &figures,
        };
        publish(&result, dir, args.quiet)?;
    }
    Ok(())
}

/// `killchain exact`.
pub fn exact(args: &ExactArgs) -> Result<(), Failure> {
    let loaded = load_all(&args.scenarios)?;
    let dirs = output_dirs(&args.out, &loaded)?;
    // Refuse before writing anything if any scenario is too large.
    let mut results = Vec::with_capacity(loaded.len());
    for l in &loaded {
        let started = Instant::now();
        let r = evaluate(l)?;
        results.push((r, started.elapsed().as_secs_f64()));
    }
    for ((l, dir), (r, wall_seconds)) in loaded.iter().zip(&dirs).zip(&results) {
        let figures = Figures::exact(r, args.trials.unwrap_or(l.scenario.trials));
        let sha256 = sha256_hex(&l.source);
        let result = RunResult {
            scenario: &l.scenario,
            path: &l.path,
            sha256: &sha256,
            seed: None,
            threads: 1,
            wall_seconds: *wall_seconds,
            figures: &figures,
        };
        publish(&result, dir, args.quiet)?;
    }
    Ok(())
}

/// `killchain check`: Monte Carlo against exact, as z-scores.
pub fn check(args: &CheckArgs) -> Result<(), Failure> {
    let loaded = load_all(&args.scenarios)?;
    let threads = args
        .threads
        .map_or_else(rayon::current_num_threads, usize::from);
    let mut failed = Vec::new();
    for l in &loaded {
        let s = &l.scenario;
        let exact = evaluate(l)?;
        let seed = args.seed.unwrap_or(s.seed);
        let (sampled, _) = simulate(s, args.trials.unwrap_or(s.trials), seed, threads)?;
        let rows = crate::check::compare(s, &exact, &sampled);
        say(&crate::check::table(
            s,
            &rows,
            seed,
            sampled.trials,
            args.z_max,
        ));
        let worst = rows.iter().map(|r| r.z.abs()).fold(0.0, f64::max);
        if worst > args.z_max {
            failed.push(format!(
                "{}: the Monte Carlo estimate is {worst:.2} standard errors from the exact value (bound {})",
                l.path, args.z_max
            ));
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(Failure::Run(failed.join("\nerror: ")))
    }
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
