//! The commands: load scenarios, run the engine, write the reports. The only module that reads
//! scenario files and writes results.

use std::fmt;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use crate::cli::{
    CheckArgs, CompareArgs, CompletionsArgs, ExactArgs, ExportOptions, MergeArgs, MethodArg,
    OptimizeArgs, RankArgs, ReportArgs, RunArgs, SearchArg, SimOptions, TrialOptions, ValidateArgs,
};
use crate::compare::{Arm, ArmSummary};
use crate::engine::{self, Plan};
use crate::exact::{self, ExactResult};
use crate::loss::{ArmLoss, YearLayout};
use crate::report::{self, Figures, LossFigures, ResultFolder, RunResult};
use crate::scenario::{self, BASELINE, LoadError, LoadedScenario, Scenario};
use crate::shard::{self, Shard, TallyFile};
use crate::stats::Tally;

/// A command's failure, mapped to an exit status by `main`.
#[derive(Debug)]
pub enum Failure {
    /// Bad scenario files or arguments: exit status 2. Each entry is one message.
    Input(Vec<String>),
    /// The run or its output failed: exit status 1.
    Run(String),
    /// SIGINT or SIGTERM stopped the command before it wrote anything: exit status 128 + the
    /// signal's number, as a shell reports a process killed by it.
    Interrupted {
        /// The signal's number.
        signal: i32,
        /// The output folder that was about to be written, left as it was.
        dir: Option<PathBuf>,
    },
}

impl Failure {
    /// The documented exit status.
    pub fn exit_code(&self) -> u8 {
        match self {
            Failure::Input(_) => 2,
            Failure::Run(_) => 1,
            Failure::Interrupted { signal, .. } => u8::try_from(128 + signal).unwrap_or(u8::MAX),
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
            Failure::Interrupted { dir: Some(dir), .. } => write!(
                f,
                "error: interrupted; previous results in {} are unchanged",
                dir.display()
            ),
            Failure::Interrupted { dir: None, .. } => write!(f, "error: interrupted"),
        }
    }
}

/// The number of the first SIGINT or SIGTERM received, 0 before any. The first call installs the
/// handlers, which only record the signal: the commands that compute for long call it, stop the
/// engine between chunks, and return [`Failure::Interrupted`] before they start replacing files
/// (once renaming has begun it completes, so a folder never holds half old, half new results).
/// Commands that never call it keep the default: the signal ends them at once.
fn interrupt_flag() -> &'static Arc<AtomicUsize> {
    static FLAG: OnceLock<Arc<AtomicUsize>> = OnceLock::new();
    FLAG.get_or_init(|| {
        let flag = Arc::new(AtomicUsize::new(0));
        for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
            // Should installing fail, the signal keeps its default action: the process ends at
            // once, still without a half-written file (files are renamed into place whole).
            let _ = signal_hook::flag::register_usize(signal, Arc::clone(&flag), signal as usize);
        }
        flag
    })
}

/// `Err(Interrupted)` once a signal has been received.
fn check_interrupt(dir: Option<&Path>) -> Result<(), Failure> {
    match interrupt_flag().load(Ordering::Relaxed) {
        0 => Ok(()),
        signal => Err(Failure::Interrupted {
            signal: i32::try_from(signal).unwrap_or(i32::MAX),
            dir: dir.map(Path::to_path_buf),
        }),
    }
}

/// How long a simulation runs before its progress bar appears.
const PROGRESS_AFTER: Duration = Duration::from_secs(1);

/// Runs `work`, which counts its finished trials in the counter it is given, and shows them on
/// stderr as a bar out of `total`. The bar appears only when `show` holds, stderr is a terminal
/// and the work has lasted [`PROGRESS_AFTER`]; it is cleared when the work ends. A thread polls
/// the counter, so the engine itself writes nothing.
fn with_progress<T>(total: u64, show: bool, work: impl FnOnce(&AtomicU64) -> T) -> T {
    let done = AtomicU64::new(0);
    if !show || !std::io::stderr().is_terminal() {
        return work(&done);
    }
    let finished = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let poller = scope.spawn(|| {
            let started = Instant::now();
            let mut bar: Option<indicatif::ProgressBar> = None;
            while !finished.load(Ordering::Relaxed) {
                std::thread::park_timeout(Duration::from_millis(100));
                if bar.is_none() && started.elapsed() >= PROGRESS_AFTER {
                    let b = indicatif::ProgressBar::with_draw_target(
                        Some(total),
                        indicatif::ProgressDrawTarget::stderr(),
                    );
                    if let Ok(style) = indicatif::ProgressStyle::with_template(
                        "{elapsed_precise} [{wide_bar}] {human_pos}/{human_len} trials, {eta} left",
                    ) {
                        b.set_style(style.progress_chars("=> "));
                    }
                    bar = Some(b);
                }
                if let Some(b) = &bar {
                    b.set_position(done.load(Ordering::Relaxed));
                }
            }
            if let Some(b) = bar {
                b.finish_and_clear();
            }
        });
        let result = work(&done);
        finished.store(true, Ordering::Relaxed);
        poller.thread().unpark();
        result
    })
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

/// Worker threads asked for, or all cores.
fn thread_count(t: &TrialOptions) -> usize {
    t.threads
        .map_or_else(rayon::current_num_threads, usize::from)
}

/// Runs the Monte Carlo engine on trials `range` of one scenario, whose results go to `dir` if
/// any; returns the tally and the wall time. `progress`: whether a long run may show a progress
/// bar.
fn simulate(
    s: &Scenario,
    range: std::ops::Range<u64>,
    seed: u64,
    threads: usize,
    dir: Option<&Path>,
    progress: bool,
) -> Result<(Tally, f64), Failure> {
    let plan = Plan::new(s);
    let started = Instant::now();
    let n = range.end - range.start;
    let tally = with_progress(n, progress, |done| {
        let watch = engine::Watch {
            stop: interrupt_flag(),
            done,
        };
        engine::run_watched(&plan, seed, range, Some(threads), watch)
    })
    .map_err(|e| Failure::Run(format!("cannot start {threads} worker threads: {e}")))?;
    check_interrupt(dir)?;
    let tally = tally.expect("a run completes unless interrupted");
    Ok((tally, started.elapsed().as_secs_f64()))
}

/// What `run` simulated: the tally of its trials, their annual losses with `[loss]`, the trials
/// played and the wall time.
struct Simulated {
    tally: Tally,
    loss: Option<ArmLoss>,
    range: std::ops::Range<u64>,
    wall_seconds: f64,
}

/// Runs one scenario's `trials` trials, or shard `shard`'s slice of them. With `[loss]` the
/// slices are whole years and the annual losses are counted too.
fn simulate_run(
    s: &Scenario,
    seed: u64,
    trials: u64,
    shard: Option<Shard>,
    threads: usize,
    dir: &Path,
    progress: bool,
) -> Result<Simulated, Failure> {
    let Some(model) = &s.loss else {
        let range = shard.map_or(0..trials, |k| k.range(trials));
        let (tally, wall_seconds) = simulate(s, range.clone(), seed, threads, Some(dir), progress)?;
        return Ok(Simulated {
            tally,
            loss: None,
            range,
            wall_seconds,
        });
    };
    let layout = YearLayout::new(model, seed);
    let units = layout.units(trials);
    let (slice, range) = match shard {
        None => (0..units.len(), 0..trials),
        Some(k) => shard::unit_slice(k, &units, trials),
    };
    let plans = [Plan::new(s)];
    let started = Instant::now();
    let result = with_progress(range.end - range.start, progress, |done| {
        let watch = engine::Watch {
            stop: interrupt_flag(),
            done,
        };
        engine::run_units_watched(
            &plans,
            seed,
            engine::Units::List(&units[slice]),
            Some(&layout),
            Some(threads),
            watch,
        )
    })
    .map_err(|e| Failure::Run(format!("cannot start {threads} worker threads: {e}")))?;
    check_interrupt(Some(dir))?;
    let (mut arms, mut losses) = result.expect("a run completes unless interrupted");
    let (tally, _) = arms.swap_remove(0);
    Ok(Simulated {
        tally,
        loss: losses.pop(),
        range,
        wall_seconds: started.elapsed().as_secs_f64(),
    })
}

/// The run's files beside the four reports: `loss_exceedance.csv` when there are loss figures.
fn loss_files(loss: Option<&LossFigures>) -> Vec<(&'static str, Vec<u8>)> {
    loss.map(|l| {
        (
            "loss_exceedance.csv",
            report::loss_exceedance_csv(&[(BASELINE, l)]),
        )
    })
    .into_iter()
    .collect()
}

/// Evaluates one scenario exactly, or explains why it cannot be.
fn evaluate(l: &LoadedScenario) -> Result<ExactResult, Failure> {
    exact::evaluate(&l.scenario).map_err(|e| Failure::Input(vec![format!("{}: {e}", l.path)]))
}

/// Writes the four reports of one scenario (and `extra` files, if any, and the renderings
/// `export` asks for) and prints its funnel.
fn publish(
    result: &RunResult,
    dir: &Path,
    quiet: bool,
    extra: Vec<(&'static str, Vec<u8>)>,
    export: ExportOptions,
) -> Result<(), Failure> {
    let mut files = vec![
        ("phases.csv", report::phases_csv(result)),
        ("controls.csv", report::controls_csv(result)),
        ("techniques.csv", report::techniques_csv(result)),
        ("run.json", report::run_json(result)),
    ];
    files.extend(extra);
    let rendered = render(&files, export, dir, Vec::new())?;
    files.extend(rendered);
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
    let dirs = output_dirs(&args.output.out, &loaded)?;
    let threads = thread_count(&args.trials);
    for (l, dir) in loaded.iter().zip(&dirs) {
        let s = &l.scenario;
        let seed = args.trials.seed.unwrap_or(s.seed);
        let trials = args.trials.trials.unwrap_or(s.trials);
        let Simulated {
            tally,
            loss,
            range,
            wall_seconds,
        } = simulate_run(
            s,
            seed,
            trials,
            args.shard,
            threads,
            dir,
            !args.output.quiet,
        )?;
        let figures = Figures::sampled(&tally);
        let loss_figures = s
            .loss
            .as_ref()
            .zip(loss.as_ref())
            .map(|(m, l)| LossFigures::sampled(m, l));
        let sha256 = sha256_hex(&l.source);
        let extra = match args.shard {
            None => loss_files(loss_figures.as_ref()),
            Some(k) => {
                let file = TallyFile {
                    format_version: shard::FORMAT_VERSION,
                    killchain_version: env!("CARGO_PKG_VERSION").to_owned(),
                    scenario: s.name.clone(),
                    scenario_file: l.path.clone(),
                    scenario_sha256: sha256.clone(),
                    scenario_source: l.source.clone(),
                    seed,
                    trials,
                    shard: k.k(),
                    shards: k.n(),
                    trial_start: range.start,
                    trial_end: range.end,
                    threads,
                    wall_time_seconds: wall_seconds,
                    tally,
                    loss,
                };
                let mut files = loss_files(loss_figures.as_ref());
                files.push((shard::FILE_NAME, file.to_json()));
                files
            }
        };
        let result = RunResult {
            scenario: s,
            path: &l.path,
            sha256: &sha256,
            seed: Some(seed),
            threads,
            wall_seconds,
            figures: &figures,
            loss: loss_figures.as_ref(),
        };
        if let (Some(k), false) = (args.shard, args.output.quiet) {
            let which = if range.is_empty() {
                "no trials (fewer trials than shards)".to_owned()
            } else if range.end - range.start == 1 {
                format!("trial {}", range.start)
            } else {
                format!("trials {} to {}", range.start, range.end - 1)
            };
            say(&format!(
                "shard {k} of a {trials}-trial run: {which}; `killchain merge` sums all {} shards' folders\n",
                k.n()
            ));
        }
        publish(&result, dir, args.output.quiet, extra, args.export)?;
    }
    Ok(())
}

/// `killchain exact`.
pub fn exact(args: &ExactArgs) -> Result<(), Failure> {
    let loaded = load_all(&args.scenarios)?;
    let dirs = output_dirs(&args.output.out, &loaded)?;
    // Refuse before writing anything if any scenario is too large.
    let mut results = Vec::with_capacity(loaded.len());
    for l in &loaded {
        let started = Instant::now();
        let r = evaluate(l)?;
        results.push((r, started.elapsed().as_secs_f64()));
    }
    for ((l, dir), (r, wall_seconds)) in loaded.iter().zip(&dirs).zip(&results) {
        let figures = Figures::exact(r, args.trials.unwrap_or(l.scenario.trials));
        let loss = l
            .scenario
            .loss
            .as_ref()
            .map(|m| LossFigures::exact(m, r.completed, r.completed));
        let sha256 = sha256_hex(&l.source);
        let result = RunResult {
            scenario: &l.scenario,
            path: &l.path,
            sha256: &sha256,
            seed: None,
            threads: 1,
            wall_seconds: *wall_seconds,
            figures: &figures,
            loss: loss.as_ref(),
        };
        publish(
            &result,
            dir,
            args.output.quiet,
            loss_files(loss.as_ref()),
            args.export,
        )?;
    }
    Ok(())
}

/// `killchain merge`: checks that the folders hold all shards of one run, each once, sums their
/// tallies and writes what the whole run would have written (but tally.json). The scenario is the
/// text embedded in the shards, so merging needs neither the file nor the machine that ran it.
pub fn merge(args: &MergeArgs) -> Result<(), Failure> {
    let mut files = Vec::with_capacity(args.shards.len());
    let mut problems = Vec::new();
    for dir in &args.shards {
        let path = dir.join(shard::FILE_NAME);
        let name = path.display().to_string();
        let read = std::fs::read(&path)
            .map_err(|e| {
                format!(
                    "cannot read the shard's tally ({e}); give each shard's output folder, e.g. out/shard-1/<scenario file stem>"
                )
            })
            .and_then(|bytes| TallyFile::from_json(&bytes, sha256_hex));
        match read {
            Ok(f) => files.push((name, f)),
            Err(e) => problems.push(format!("{name}: {e}")),
        }
    }
    if !problems.is_empty() {
        return Err(Failure::Input(problems));
    }
    let (name, first) = &files[0];
    let s = Scenario::from_toml(&first.scenario_source, &first.scenario_file).map_err(|d| {
        Failure::Input(
            d.0.iter()
                .map(|p| format!("{name}: the embedded scenario does not load: {p}"))
                .collect(),
        )
    })?;
    let (tally, loss) =
        shard::merge(&files, s.controls.len(), s.techniques.len()).map_err(Failure::Input)?;
    if let Some(model) = &s.loss {
        // Shards of a run with [loss] are whole years: check each slice against the years.
        let units = YearLayout::new(model, first.seed).units(first.trials);
        let mut problems = Vec::new();
        for (name, f) in &files {
            let k = Shard::new(f.shard, f.shards).map_err(|e| Failure::Input(vec![e]))?;
            let (_, range) = shard::unit_slice(k, &units, f.trials);
            if (f.trial_start..f.trial_end) != range || f.loss.is_none() {
                problems.push(format!(
                    "{name}: shard {k} of {} trials covers trials {}..{} (whole years), but the file holds {}..{}; the file was altered",
                    f.trials, range.start, range.end, f.trial_start, f.trial_end
                ));
            }
        }
        if !problems.is_empty() {
            return Err(Failure::Input(problems));
        }
    }
    let figures = Figures::sampled(&tally);
    let loss_figures = s
        .loss
        .as_ref()
        .zip(loss.as_ref())
        .map(|(m, l)| LossFigures::sampled(m, l));
    let result = RunResult {
        scenario: &s,
        path: &first.scenario_file,
        sha256: &first.scenario_sha256,
        seed: Some(first.seed),
        threads: files.iter().map(|(_, f)| f.threads).max().unwrap_or(1),
        wall_seconds: files.iter().map(|(_, f)| f.wall_time_seconds).sum(),
        figures: &figures,
        loss: loss_figures.as_ref(),
    };
    let dir = output_dir(&args.output.out, &first.scenario_file);
    publish(
        &result,
        &dir,
        args.output.quiet,
        loss_files(loss_figures.as_ref()),
        args.export,
    )
}

/// `killchain check`: Monte Carlo against exact, as z-scores.
pub fn check(args: &CheckArgs) -> Result<(), Failure> {
    let loaded = load_all(&args.scenarios)?;
    let threads = thread_count(&args.trials);
    let mut failed = Vec::new();
    for l in &loaded {
        let s = &l.scenario;
        let exact = evaluate(l)?;
        let seed = args.trials.seed.unwrap_or(s.seed);
        let trials = args.trials.trials.unwrap_or(s.trials);
        let (tally, _) = simulate(s, 0..trials, seed, threads, None, true)?;
        let sampled = Figures::sampled(&tally);
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

/// Plays the arms' scenarios (baseline first) on the same trials; with the baseline's `[loss]`,
/// the same years too. Returns the arms, their annual losses (empty without `[loss]`) and the
/// seed.
fn run_arms<'a>(
    named: Vec<(String, &'a Scenario)>,
    sim: &SimOptions,
    base: &Scenario,
    dir: &Path,
) -> Result<(Vec<Arm<'a>>, Vec<ArmLoss>, u64), Failure> {
    let seed = sim.trials.seed.unwrap_or(base.seed);
    let trials = sim.trials.trials.unwrap_or(base.trials);
    let threads = thread_count(&sim.trials);
    let plans: Vec<Plan> = named.iter().map(|(_, s)| Plan::new(s)).collect();
    let layout = base.loss.as_ref().map(|m| YearLayout::new(m, seed));
    let units = layout.as_ref().map(|l| l.units(trials));
    let units = units
        .as_deref()
        .map_or(engine::Units::chunks(0..trials), engine::Units::List);
    let results = with_progress(trials, !sim.output.quiet, |done| {
        let watch = engine::Watch {
            stop: interrupt_flag(),
            done,
        };
        engine::run_units_watched(&plans, seed, units, layout.as_ref(), Some(threads), watch)
    })
    .map_err(|e| Failure::Run(format!("cannot start {threads} worker threads: {e}")))?;
    check_interrupt(Some(dir))?;
    let (results, losses) = results.expect("a run completes unless interrupted");
    let arms = named
        .into_iter()
        .zip(results)
        .map(|((name, scenario), (tally, joint))| Arm {
            name,
            scenario,
            tally,
            joint,
        })
        .collect();
    Ok((arms, losses, seed))
}

/// The differences between two scenarios' ids, if any.
fn id_mismatch(a: &Scenario, b: &Scenario) -> Option<String> {
    let ids = |s: &Scenario| -> std::collections::BTreeSet<String> {
        let t = s.techniques.iter().map(|t| format!("technique {}", t.id));
        t.chain(s.controls.iter().map(|c| format!("control {}", c.id)))
            .collect()
    };
    let (ia, ib) = (ids(a), ids(b));
    let only_a: Vec<&String> = ia.difference(&ib).collect();
    let only_b: Vec<&String> = ib.difference(&ia).collect();
    if only_a.is_empty() && only_b.is_empty() {
        return None;
    }
    let list = |v: &[&String]| {
        if v.is_empty() {
            "nothing".to_owned()
        } else {
            v.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
        }
    };
    Some(format!(
        "only in the first: {}; only in the second: {}",
        list(&only_a),
        list(&only_b)
    ))
}

/// `killchain compare`.
pub fn compare(args: &CompareArgs) -> Result<(), Failure> {
    let loaded = load_all(&args.scenarios)?;
    let base = &loaded[0];
    let (named, dir): (Vec<(String, &Scenario)>, PathBuf) = match &loaded[..] {
        [one] => {
            if one.scenario.variants.is_empty() {
                return Err(Failure::Input(vec![format!(
                    "{}: no [[variants]] to compare; add some, or give a second scenario file to compare with",
                    one.path
                )]));
            }
            let mut named = vec![(BASELINE.to_owned(), &one.scenario)];
            named.extend(
                one.scenario
                    .variants
                    .iter()
                    .map(|v| (v.name.clone(), &v.scenario)),
            );
            (named, output_dir(&args.sim.output.out, &one.path))
        }
        [a, b] => {
            if a.scenario.loss != b.scenario.loss {
                return Err(Failure::Input(vec![format!(
                    "{} and {}: the two scenarios must have the same [loss] table (or none) to be compared year by year",
                    a.path, b.path
                )]));
            }
            if let Some(diff) = id_mismatch(&a.scenario, &b.scenario) {
                return Err(Failure::Input(vec![format!(
                    "{} and {}: the two scenarios must have the same technique and control ids to be compared trial by trial; {diff}",
                    a.path, b.path
                )]));
            }
            let stem = |p: &str| {
                Path::new(p)
                    .file_stem()
                    .map_or_else(|| "scenario".into(), |s| s.to_string_lossy().into_owned())
            };
            let (sa, sb) = (stem(&a.path), stem(&b.path));
            let dir = args.sim.output.out.join(format!("{sa}-vs-{sb}"));
            (
                vec![(BASELINE.to_owned(), &a.scenario), (sb, &b.scenario)],
                dir,
            )
        }
        _ => unreachable!("clap takes one or two scenario files"),
    };
    let scenarios: Vec<&Scenario> = named.iter().map(|(_, s)| *s).collect();
    let (arms, seed) = summarize_arms(named, &args.sim, base, &dir)?;
    let name = &base.scenario.name;
    let by_variant: Vec<(&str, &Figures)> =
        arms.iter().map(|a| (a.name.as_str(), &a.figures)).collect();
    let with_scenario: Vec<(&str, &Scenario, &Figures)> = arms
        .iter()
        .zip(&scenarios)
        .map(|(a, s)| (a.name.as_str(), *s, &a.figures))
        .collect();
    let mut files = vec![
        (
            "phases.csv",
            report::phases_csv_by_variant(name, seed, &by_variant),
        ),
        ("comparison.csv", report::comparison_csv(name, seed, &arms)),
        (
            "phase_deltas.csv",
            report::phase_deltas_csv(name, seed, &arms),
        ),
        (
            "controls.csv",
            report::controls_csv_by_variant(name, &with_scenario),
        ),
        (
            "techniques.csv",
            report::techniques_csv_by_variant(name, &with_scenario),
        ),
    ];
    let curves: Vec<(&str, &LossFigures)> = arms
        .iter()
        .filter_map(|a| a.loss.as_ref().map(|l| (a.name.as_str(), l)))
        .collect();
    if !curves.is_empty() {
        files.push(("loss_exceedance.csv", report::loss_exceedance_csv(&curves)));
    }
    let facts = loaded
        .iter()
        .flat_map(|l| {
            [
                ("scenario file", l.path.clone()),
                ("scenario SHA-256", sha256_hex(&l.source)),
            ]
        })
        .collect();
    let rendered = render(&files, args.export, &dir, facts)?;
    files.extend(rendered);
    write_all_atomically(&dir, &files)?;
    if !args.sim.output.quiet {
        say(&format!(
            "{}wrote {}\n",
            report::comparison_table(name, seed, &arms),
            dir.display()
        ));
    }
    Ok(())
}

/// Every arm's summary by the method asked for: paired Monte Carlo trials (with the seed used)
/// or exact evaluation (no seed).
fn summarize_arms(
    named: Vec<(String, &Scenario)>,
    sim: &SimOptions,
    base: &LoadedScenario,
    dir: &Path,
) -> Result<(Vec<ArmSummary>, Option<u64>), Failure> {
    match sim.method {
        MethodArg::MonteCarlo => {
            let (arms, losses, seed) = run_arms(named, sim, &base.scenario, dir)?;
            let mut summaries: Vec<ArmSummary> = arms.iter().map(ArmSummary::sampled).collect();
            if let Some(model) = &base.scenario.loss {
                for (summary, loss) in summaries.iter_mut().zip(&losses) {
                    summary.loss = Some(LossFigures::sampled(model, loss));
                }
            }
            Ok((summaries, Some(seed)))
        }
        MethodArg::Exact => {
            let trials = sim.trials.trials.unwrap_or(base.scenario.trials);
            let mut results = Vec::with_capacity(named.len());
            for (name, s) in &named {
                let r = exact::evaluate(s)
                    .map_err(|e| Failure::Input(vec![format!("{} ({name}): {e}", base.path)]))?;
                results.push(r);
            }
            let arms = named
                .iter()
                .zip(&results)
                .map(|((name, s), r)| ArmSummary::exact(name, s, r, &results[0], trials))
                .collect();
            Ok((arms, None))
        }
    }
}

/// `killchain rank`.
pub fn rank(args: &RankArgs) -> Result<(), Failure> {
    let loaded = load_all(std::slice::from_ref(&args.scenario))?;
    let l = &loaded[0];
    let s = &l.scenario;
    let switched: Vec<Scenario> = (0..s.controls.len())
        .map(|i| {
            let mut v = s.clone();
            v.variants.clear();
            v.controls[i].enabled = !v.controls[i].enabled;
            v
        })
        .collect();
    let mut named = vec![(BASELINE.to_owned(), s)];
    named.extend(
        s.controls
            .iter()
            .zip(&switched)
            .map(|(c, v)| (c.id.clone(), v)),
    );
    let dir = output_dir(&args.sim.output.out, &l.path);
    let (arms, seed) = summarize_arms(named, &args.sim, l, &dir)?;
    let mut marginals: Vec<report::Marginal> = s
        .controls
        .iter()
        .zip(&arms[1..])
        .map(|(c, arm)| report::Marginal {
            control: c.id.clone(),
            action: c.action,
            enabled: c.enabled,
            cost: c.cost,
            delta: arm.delta,
            ale_delta: arm
                .loss
                .as_ref()
                .filter(|l| l.defined())
                .map(|l| 0.0 - l.reduction.0),
        })
        .collect();
    report::rank(&mut marginals);
    let method = arms[0].figures.method;
    let how = match seed {
        Some(seed) => format!("{} paired trials, seed {seed}", arms[0].figures.trials),
        None => "exact".to_owned(),
    };
    write_all_atomically(
        &dir,
        &[(
            "ranking.csv",
            report::ranking_csv(&s.name, method, &marginals),
        )],
    )?;
    if !args.sim.output.quiet {
        say(&format!(
            "{}wrote {}\n",
            report::ranking_table(
                &s.name,
                &how,
                s.loss.as_ref().map_or("", |m| m.currency.as_str()),
                &marginals
            ),
            dir.display()
        ));
    }
    Ok(())
}

/// The renderings `export` asks for, of the result files about to be written to `dir` (or
/// already in it): report.html, navigator-layer.json, results.xlsx. The same function serves
/// `run --report` and `killchain report DIR`.
///
/// `facts`: provenance that none of the files states (see [`ResultFolder::facts`]).
fn render(
    files: &[(&str, Vec<u8>)],
    export: ExportOptions,
    dir: &Path,
    facts: Vec<(&'static str, String)>,
) -> Result<Vec<(&'static str, Vec<u8>)>, Failure> {
    if !(export.report || export.navigator || export.xlsx) {
        return Ok(Vec::new());
    }
    let borrowed: Vec<(&str, &[u8])> = files.iter().map(|(n, b)| (*n, b.as_slice())).collect();
    let mut folder = ResultFolder::parse(&borrowed)
        .map_err(|e| Failure::Input(vec![format!("{}: {e}", dir.display())]))?;
    folder.facts = facts;
    let missing = |what: &str, needs: &str| {
        Failure::Input(vec![format!(
            "{}: cannot write {what}: it needs {needs}, which this folder does not hold; run `killchain run` or `killchain compare` into it first",
            dir.display()
        )])
    };
    let mut out = Vec::new();
    if export.report {
        let html = report::report_html(&folder).ok_or_else(|| {
            missing(
                "report.html",
                "phases.csv, controls.csv, comparison.csv, loss_exceedance.csv or frontier.csv",
            )
        })?;
        out.push(("report.html", html));
    }
    if export.navigator {
        let layer = report::navigator_layer(&folder)
            .ok_or_else(|| missing("navigator-layer.json", "techniques.csv"))?;
        out.push(("navigator-layer.json", layer));
    }
    if export.xlsx {
        let book = report::results_xlsx(&folder)
            .map_err(|e| Failure::Run(format!("cannot build results.xlsx: {e}")))?
            .ok_or_else(|| missing("results.xlsx", "a CSV file of results"))?;
        out.push(("results.xlsx", book));
    }
    Ok(out)
}

/// `killchain report`: renders report.html (and navigator-layer.json, results.xlsx when asked
/// for) from the files of an existing result folder.
pub fn report(args: &ReportArgs) -> Result<(), Failure> {
    let dir = &args.dir;
    if !dir.is_dir() {
        return Err(Failure::Input(vec![format!(
            "{}: not a folder; give a result folder such as output/<scenario file stem>",
            dir.display()
        )]));
    }
    let mut files: Vec<(&str, Vec<u8>)> = Vec::new();
    for name in report::folder::CSV_FILES
        .iter()
        .chain(std::iter::once(&report::folder::RUN_JSON))
    {
        let path = dir.join(name);
        match std::fs::read(&path) {
            Ok(bytes) => files.push((name, bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(Failure::Run(format!("cannot read {}: {e}", path.display())));
            }
        }
    }
    if files.is_empty() {
        return Err(Failure::Input(vec![format!(
            "{}: no result files (phases.csv, comparison.csv, ...) to report on; run `killchain run` or `killchain compare` into it first",
            dir.display()
        )]));
    }
    let export = ExportOptions {
        report: true,
        navigator: args.navigator,
        xlsx: args.xlsx,
    };
    let rendered = render(&files, export, dir, Vec::new())?;
    write_all_atomically(dir, &rendered)?;
    if !args.quiet {
        let names: Vec<&str> = rendered.iter().map(|(n, _)| *n).collect();
        say(&format!(
            "wrote {} in {}\n",
            names.join(", "),
            dir.display()
        ));
    }
    Ok(())
}

/// `killchain schema`: the JSON Schema of scenario files on stdout.
pub fn schema() -> Result<(), Failure> {
    say(&scenario::json_schema());
    Ok(())
}

/// `killchain completions`: a completion script for `shell` on stdout.
pub fn completions(args: &CompletionsArgs) -> Result<(), Failure> {
    use clap::CommandFactory;
    let mut script = Vec::new();
    clap_complete::generate(
        args.shell,
        &mut crate::cli::Cli::command(),
        "killchain",
        &mut script,
    );
    say(&String::from_utf8_lossy(&script));
    Ok(())
}

/// `killchain optimize`.
pub fn optimize(args: &OptimizeArgs) -> Result<(), Failure> {
    use crate::optimize::{self as opt, MAX_EXHAUSTIVE, Problem};
    let loaded = load_all(std::slice::from_ref(&args.scenario))?;
    let l = &loaded[0];
    let s = &l.scenario;
    let input = |e: &dyn fmt::Display| Failure::Input(vec![format!("{}: {e}", l.path)]);
    let problem = Problem::new(s).map_err(|e| input(&e))?;
    let n = problem.n_candidates();
    let exhaustive = match args.search {
        SearchArg::Auto => n <= MAX_EXHAUSTIVE,
        SearchArg::Exhaustive if n > MAX_EXHAUSTIVE => {
            return Err(input(&opt::OptimizeError::TooManyForExhaustive(n)));
        }
        SearchArg::Exhaustive => true,
        SearchArg::Heuristic => false,
    };
    let seed = args.trials.seed.unwrap_or(s.seed);
    let trials = args.trials.trials.unwrap_or(s.trials);
    let threads = thread_count(&args.trials);
    let dir = output_dir(&args.output.out, &l.path);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| Failure::Run(format!("cannot start {threads} worker threads: {e}")))?;
    // The heuristic makes an unknown number of passes over the trials: no bar for it.
    let optimum = with_progress(trials, exhaustive && !args.output.quiet, |done| {
        let watch = engine::Watch {
            stop: interrupt_flag(),
            done,
        };
        pool.install(|| {
            if exhaustive {
                opt::exhaustive(&problem, seed, trials, args.budget, watch)
            } else {
                Ok(opt::heuristic(&problem, seed, trials, args.budget, watch))
            }
        })
    })
    .map_err(|e| input(&e))?;
    check_interrupt(Some(&dir))?;
    let optimum = optimum.expect("a search completes unless interrupted");

    // Paired comparisons on the same trials: best (the reference), as written, next better.
    let best = optimum.portfolios[optimum.best];
    let next = optimum.next_better.map(|i| optimum.portfolios[i]);
    let written = problem.as_written();
    let mut arms = vec![problem.apply(best.mask), problem.apply(written)];
    arms.extend(next.map(|p| problem.apply(p.mask)));
    let plans: Vec<Plan> = arms.iter().map(Plan::new).collect();
    // And each frontier point against the previous one.
    let frontier: Vec<u64> = (optimum.portfolios.iter())
        .filter(|p| p.on_frontier)
        .map(|p| p.mask)
        .collect();
    let steps: Vec<(u64, u64)> = frontier.windows(2).map(|w| (w[1], w[0])).collect();
    // With [loss], the same years too: each arm's annual losses against the best's.
    let layout = problem.loss_model().map(|m| YearLayout::new(m, seed));
    let units = layout.as_ref().map(|l| l.units(trials));
    let units = units
        .as_deref()
        .map_or(engine::Units::chunks(0..trials), engine::Units::List);
    let (results, step_tables) = with_progress(2 * trials, !args.output.quiet, |done| {
        let watch = engine::Watch {
            stop: interrupt_flag(),
            done,
        };
        let results =
            engine::run_units_watched(&plans, seed, units, layout.as_ref(), Some(threads), watch);
        let tables = pool.install(|| problem.paired(seed, trials, &steps, watch));
        (results, tables)
    });
    let results =
        results.map_err(|e| Failure::Run(format!("cannot start {threads} worker threads: {e}")))?;
    check_interrupt(Some(&dir))?;
    let (results, losses) = results.expect("a run completes unless interrupted");
    let step_tables = step_tables.expect("a run completes unless interrupted");
    let table = |i: usize| {
        let (tally, joint) = results[i].clone();
        Arm {
            name: String::new(),
            scenario: &arms[i],
            tally,
            joint,
        }
        .completion_table()
    };
    let zero = (0.0, 0.0, 0.0);
    // The arm's table is (arm, best); best − as written swaps its two sides.
    let mut w = table(1);
    std::mem::swap(&mut w.first_only, &mut w.second_only);
    let summary = report::OptimizeSummary {
        scenario: &s.name,
        problem: &problem,
        optimum: &optimum,
        seed,
        budget: args.budget,
        as_written: (written, results[1].0.completed),
        next_vs_best: next.map(|_| table(2).difference().unwrap_or(zero)),
        best_vs_written: w.difference().unwrap_or(zero),
        frontier_steps: step_tables
            .iter()
            .map(|t| t.completion.difference().unwrap_or(zero))
            .collect(),
        money: match (optimum.by_loss(), problem.loss_model()) {
            (true, Some(model)) => {
                // Each arm's paired loss is best − arm, year by year.
                let flip = |(d, lo, hi): (f64, f64, f64)| (-d, -hi, -lo);
                Some(report::MoneySummary {
                    currency: &model.currency,
                    as_written: losses[1].tally.sums(),
                    next_vs_best: losses.get(2).map(|l| flip(l.paired.reduction())),
                    best_vs_written: losses[1].paired.reduction(),
                    frontier_steps: step_tables
                        .iter()
                        .map(|t| t.loss.map_or(zero, |l| l.reduction()))
                        .collect(),
                })
            }
            _ => None,
        },
    };
    let mut files = vec![("frontier.csv", report::frontier_csv(&problem, &optimum))];
    let export = ExportOptions {
        report: args.report,
        navigator: false,
        xlsx: args.xlsx,
    };
    let facts = vec![
        ("scenario", s.name.clone()),
        ("scenario file", l.path.clone()),
        ("scenario SHA-256", sha256_hex(&l.source)),
        ("budget", args.budget.to_string()),
        ("seed", seed.to_string()),
        ("trials", trials.to_string()),
    ];
    // Rendered from frontier.csv alone: files of an earlier run in the folder are not this
    // optimization's.
    files.extend(render(&files, export, &dir, facts)?);
    write_all_atomically(&dir, &files)?;
    if !args.output.quiet {
        say(&format!(
            "{}wrote {}\n",
            report::optimize_table(&summary),
            dir.display()
        ));
    }
    Ok(())
}

/// Writes every file under a temporary name in `dir` first, then renames each into place: a
/// reader never sees a partial file, and a run that fails before the renames (the only step
/// that can fail for lack of space or a write error) leaves the previous results intact. A
/// SIGINT or SIGTERM received before the renames removes the temporary files and leaves the
/// folder as it was; once the renames have begun they complete.
fn write_all_atomically(dir: &Path, files: &[(&str, Vec<u8>)]) -> Result<(), Failure> {
    check_interrupt(Some(dir))?;
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
    // Dropping `staged` deletes the temporary files.
    check_interrupt(Some(dir))?;
    for (tmp, target) in staged {
        tmp.persist(&target)
            .map_err(|e| fail("replace", &target, &e.error))?;
    }
    Ok(())
}
