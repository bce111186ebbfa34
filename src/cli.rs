//! Command-line definitions (clap derive). No logic lives here.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::sim::schedule::Shard;

/// Monte Carlo simulation of attacks along the Lockheed Martin Cyber Kill Chain.
///
/// Exit status: 0 success, 1 a run or output failure, 2 a usage or scenario-file error, 130/143
/// interrupted by SIGINT/SIGTERM.
#[derive(Debug, Parser)]
#[command(name = "killchain", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Simulate scenarios and write phases.csv, controls.csv, techniques.csv and run.json.
    #[command(
        after_help = "Example:\n  killchain run scenarios/ransomware-midsize.toml --trials 100000 --seed 7 --report\n  \
     # writes output/ransomware-midsize/ (the four files and report.html) and prints the funnel"
    )]
    Run(RunArgs),
    /// Compute the same reports exactly, by enumeration, with no sampling noise.
    #[command(
        after_help = "Example:\n  killchain exact scenarios/ransomware-midsize.toml --out exact\n  \
     # writes exact/ransomware-midsize/ with exact probabilities and expected counts"
    )]
    Exact(ExactArgs),
    /// Run both methods and compare: z-score of each Monte Carlo estimate against the exact value.
    #[command(
        after_help = "Example:\n  killchain check scenarios/ransomware-midsize.toml --trials 1000000 --z-max 4\n  \
     # prints every figure's exact value, estimate and z-score; exit status 1 if any |z| > 4"
    )]
    Check(CheckArgs),
    /// Compare the baseline with its variants (or two scenario files) on the same trials.
    #[command(
        after_help = "Examples:\n  killchain compare scenarios/ransomware-midsize.toml --report --navigator --xlsx\n  \
     # evaluates the baseline and every [[variants]] entry exactly and writes output/ransomware-midsize/\n  \
     # with comparison.csv, report.html, navigator-layer.json, results.xlsx\n  \
     killchain compare scenarios/ransomware-midsize.toml --method monte-carlo --trials 200000\n  \
     # plays them on the same trials instead: paired intervals, changed trials, loss percentiles\n  \
     killchain compare before.toml after.toml\n  \
     # compares two files with the same ids; writes output/before-vs-after/\n\n\
     --method auto (the default) evaluates exactly when every arm can be enumerated, else plays\n\
     paired Monte Carlo trials and says why."
    )]
    Compare(CompareArgs),
    /// Rank controls by marginal value: switch each one alone and measure the change.
    #[command(
        after_help = "Examples:\n  killchain rank scenarios/ransomware-midsize.toml\n  \
     # writes output/ransomware-midsize/ranking.csv, controls by risk reduction per unit of cost,\n  \
     # each change evaluated exactly\n  \
     killchain rank scenarios/ransomware-midsize.toml --method monte-carlo --trials 200000\n  \
     # the same from paired trials, with simultaneous 95 % intervals\n\n\
     --method auto (the default) evaluates exactly when the scenario and every switch can be\n\
     enumerated, else plays paired Monte Carlo trials and says why."
    )]
    Rank(RankArgs),
    /// Find the best portfolio of controls with a `cost` within a budget, and the frontier of
    /// annual cost against expected annual loss (completion rate without `[loss]`).
    #[command(
        after_help = "Examples:\n  killchain optimize scenarios/ransomware-midsize.toml --budget 150000\n  \
     # every portfolio exactly; writes output/ransomware-midsize/frontier.csv and prints the best within 150000 a year\n  \
     killchain optimize scenarios/ransomware-midsize.toml --budget 150000 --method monte-carlo --trials 200000\n  \
     # the same by simulation: chosen on the seed's trials, reported on independent ones"
    )]
    Optimize(OptimizeArgs),
    /// Write a commented template scenario to start from (every section, each course of action,
    /// a variant and a `[loss]` table; every number marked as an assumption).
    #[command(
        after_help = "Examples:\n  killchain init acme.toml && killchain validate acme.toml && killchain compare acme.toml\n  \
     # writes acme.toml, ready for run, compare and optimize; then replace its assumptions\n  killchain init - > acme.toml\n  \
     # the template on standard output"
    )]
    Init(InitArgs),
    /// Check scenario files and print every problem found.
    #[command(after_help = "Example:\n  killchain validate scenarios/*.toml\n  \
     # prints `ok: FILE (...)` per file, or every problem as FILE:LINE:COLUMN: message (exit status 2)")]
    Validate(ValidateArgs),
    /// Sum the tally.json of every shard of a run into the files a single run writes.
    #[command(
        after_help = "Example:\n  killchain run s.toml --shard 1/2 --out out/shard-1 && killchain run s.toml --shard 2/2 --out out/shard-2\n  killchain merge out/shard-1/s out/shard-2/s --out out\n  \
     # writes out/s/, byte for byte what `killchain run s.toml --out out` writes"
    )]
    Merge(MergeArgs),
    /// Render report.html (and, asked for, navigator-layer.json and results.xlsx) from a result
    /// folder written by run, exact, merge, compare, rank or optimize.
    #[command(
        after_help = "Examples:\n  killchain report output/ransomware-midsize --navigator --xlsx\n  \
     # writes report.html, navigator-layer.json and results.xlsx into that folder\n  \
     killchain optimize scenarios/ransomware-midsize.toml --budget 150000 --quiet\n  \
     killchain report output/ransomware-midsize\n  \
     # the page says what to buy: the best portfolio within the budget, the next better one, the frontier\n\n\
     The commands write to the same folder (output/<scenario file stem>), and the page shows every\n\
     result it holds: run, exact and merge (phases.csv, controls.csv, techniques.csv, run.json),\n\
     compare (comparison.csv, phase_deltas.csv), rank (ranking.csv: a forest plot of each control's\n\
     value, and a sheet of results.xlsx), optimize (frontier.csv, optimize.json). A rendering asked for that does not apply to the\n\
     folder is not written and a note on stderr says why: --navigator needs techniques.csv, which an\n\
     optimize or rank folder does not hold. The exit status is 0 when report.html is written."
    )]
    Report(ReportArgs),
    /// Print the JSON Schema (draft 2020-12) of scenario files, for editors that validate TOML.
    #[command(
        after_help = "Example:\n  killchain schema > killchain.schema.json\n  \
     # then put `#:schema ./killchain.schema.json` on the first line of a scenario file"
    )]
    Schema,
    /// Print a shell completion script.
    #[command(
        after_help = "Examples:\n  killchain completions bash > ~/.local/share/bash-completion/completions/killchain\n  killchain completions zsh > \"${fpath[1]}/_killchain\"\n  killchain completions fish > ~/.config/fish/completions/killchain.fish"
    )]
    Completions(CompletionsArgs),
}

/// Extra renderings of a result folder, written beside its CSV files.
#[derive(Debug, Clone, Copy, Default, Args)]
pub struct ExportOptions {
    /// Also write report.html: one self-contained page with charts (no network needed).
    #[arg(long)]
    pub report: bool,
    /// Also write navigator-layer.json, an ATT&CK Navigator layer (format 4.5).
    #[arg(long)]
    pub navigator: bool,
    /// Also write results.xlsx: one sheet per CSV file and a chart of the funnel.
    #[arg(long)]
    pub xlsx: bool,
}

/// Arguments of `killchain report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// A result folder (e.g. output/ransomware-midsize).
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// Also write navigator-layer.json.
    #[arg(long)]
    pub navigator: bool,
    /// Also write results.xlsx.
    #[arg(long)]
    pub xlsx: bool,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Arguments of `killchain completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: clap_complete::Shell,
}

/// How `compare` and `rank` obtain their figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MethodArg {
    /// Exact when every arm can be evaluated exactly (no phase too large to enumerate), else
    /// Monte Carlo, with one line saying why.
    Auto,
    /// Simulate paired trials (intervals from the paired differences; changed-trial counts, loss
    /// percentiles and the exceedance curve).
    MonteCarlo,
    /// Evaluate every arm exactly (no sampling noise; no changed-trial counts); refused for a
    /// scenario too large to enumerate.
    Exact,
}

/// Options shared by `compare` and `rank`.
#[derive(Debug, Args)]
pub struct SimOptions {
    /// Exact evaluation where every arm allows it (auto), paired Monte Carlo trials, or exact
    /// evaluation only.
    #[arg(long, value_enum, default_value_t = MethodArg::Auto)]
    pub method: MethodArg,
    /// Trials, seed, threads.
    #[command(flatten)]
    pub trials: TrialOptions,
    /// Output folder and verbosity.
    #[command(flatten)]
    pub output: OutputOptions,
}

/// Arguments of `killchain compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// A scenario file with [[variants]], or two files with the same ids (the first is the
    /// baseline).
    #[arg(required = true, num_args = 1..=2, value_name = "SCENARIO")]
    pub scenarios: Vec<PathBuf>,
    /// Method, trials, seed, threads, output.
    #[command(flatten)]
    pub sim: SimOptions,
    /// The smallest change in completion rate worth detecting, as a probability (0.01 = one
    /// percentage point): the power figures give the paired trials that detect it with 80 %
    /// power at 95 %.
    #[arg(long, value_name = "D", default_value_t = 0.01, value_parser = parse_min_effect)]
    pub min_effect: f64,
    /// report.html, navigator-layer.json, results.xlsx.
    #[command(flatten)]
    pub export: ExportOptions,
}

/// Arguments of `killchain rank`.
#[derive(Debug, Args)]
pub struct RankArgs {
    /// A scenario file.
    #[arg(value_name = "SCENARIO")]
    pub scenario: PathBuf,
    /// Method, trials, seed, threads, output.
    #[command(flatten)]
    pub sim: SimOptions,
}

/// How many trials to simulate, from which seed, on how many threads.
#[derive(Debug, Args)]
pub struct TrialOptions {
    /// Number of trials (overrides the file's `trials`).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub trials: Option<u64>,
    /// Seed, 0 to 9223372036854775807 (overrides the file's `seed`).
    #[arg(long, value_name = "S", value_parser = crate::scenario::parse_seed)]
    pub seed: Option<u64>,
    /// Worker threads [default: all cores]. Results do not depend on it.
    #[arg(long, value_name = "T", value_parser = clap::value_parser!(u16).range(1..))]
    pub threads: Option<u16>,
}

/// Where results go.
#[derive(Debug, Args)]
pub struct OutputOptions {
    /// Output folder; each scenario writes to DIR/<file stem>/.
    #[arg(long, value_name = "DIR", default_value = "output")]
    pub out: PathBuf,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Arguments of `killchain run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Scenario files (TOML).
    #[arg(required = true, value_name = "SCENARIO")]
    pub scenarios: Vec<PathBuf>,
    /// Trials, seed, threads.
    #[command(flatten)]
    pub trials: TrialOptions,
    /// Run only the K-th (1 to N) of N contiguous, near-equal slices of the trials and also
    /// write tally.json, for `killchain merge`.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<Shard>,
    /// Output folder and verbosity.
    #[command(flatten)]
    pub output: OutputOptions,
    /// report.html, navigator-layer.json, results.xlsx.
    #[command(flatten)]
    pub export: ExportOptions,
}

/// Arguments of `killchain exact`.
#[derive(Debug, Args)]
pub struct ExactArgs {
    /// Scenario files (TOML).
    #[arg(required = true, value_name = "SCENARIO")]
    pub scenarios: Vec<PathBuf>,
    /// Trials the expected counts are scaled to (overrides the file's `trials`).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub trials: Option<u64>,
    /// Output folder and verbosity.
    #[command(flatten)]
    pub output: OutputOptions,
    /// report.html, navigator-layer.json, results.xlsx.
    #[command(flatten)]
    pub export: ExportOptions,
}

/// Arguments of `killchain check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Scenario files (TOML).
    #[arg(required = true, value_name = "SCENARIO")]
    pub scenarios: Vec<PathBuf>,
    /// Monte Carlo trials, seed, threads.
    #[command(flatten)]
    pub trials: TrialOptions,
    /// Largest |z| accepted before the check fails: a finite number > 0.
    #[arg(long, value_name = "Z", default_value_t = 4.0, value_parser = parse_z_max)]
    pub z_max: f64,
}

/// Arguments of `killchain init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// The file to write; `-` for standard output.
    #[arg(value_name = "PATH", default_value = "scenario.toml")]
    pub path: PathBuf,
    /// Replace PATH if it exists.
    #[arg(long)]
    pub force: bool,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Arguments of `killchain validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Scenario files (TOML).
    #[arg(required = true, value_name = "SCENARIO")]
    pub scenarios: Vec<PathBuf>,
}

/// Arguments of `killchain merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Output folders of the shards, each holding a tally.json (e.g. out/shard-1/STEM).
    #[arg(required = true, value_name = "DIR")]
    pub shards: Vec<PathBuf>,
    /// Output folder and verbosity.
    #[command(flatten)]
    pub output: OutputOptions,
    /// report.html, navigator-layer.json, results.xlsx.
    #[command(flatten)]
    pub export: ExportOptions,
}

/// How `optimize` searches the portfolios.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SearchArg {
    /// Exhaustive up to 16 candidates, the heuristic past that.
    Auto,
    /// Every portfolio (at most 16 candidates).
    Exhaustive,
    /// Greedy by marginal return, then local search.
    Heuristic,
}

/// How `optimize` evaluates the portfolios.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OptimizeMethodArg {
    /// Exact when every phase can be enumerated, else Monte Carlo (with a note why).
    Auto,
    /// Every portfolio exactly: each phase enumerated once per subset of its candidates.
    Exact,
    /// Paired trials: chosen on the seed's trials, reported on the check seed's.
    MonteCarlo,
}

/// Arguments of `killchain optimize`.
#[derive(Debug, Args)]
pub struct OptimizeArgs {
    /// A scenario file; its controls with a `cost` are the candidates.
    #[arg(value_name = "SCENARIO")]
    pub scenario: PathBuf,
    /// Most annual cost a portfolio may have.
    #[arg(long, value_name = "B", value_parser = parse_budget)]
    pub budget: f64,
    /// How the portfolios are searched.
    #[arg(long, value_enum, default_value_t = SearchArg::Auto)]
    pub search: SearchArg,
    /// How each portfolio is evaluated: exactly, or by Monte Carlo trials.
    #[arg(long, value_enum, default_value_t = OptimizeMethodArg::Auto)]
    pub method: OptimizeMethodArg,
    /// Trials, seed, threads.
    #[command(flatten)]
    pub trials: TrialOptions,
    /// Output folder and verbosity.
    #[command(flatten)]
    pub output: OutputOptions,
    /// Also write report.html: the cost and risk frontier as a chart (no network needed).
    #[arg(long)]
    pub report: bool,
    /// Also write results.xlsx: frontier.csv as a sheet.
    #[arg(long)]
    pub xlsx: bool,
}

fn parse_z_max(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(z) if z.is_finite() && z > 0.0 => Ok(z),
        _ => Err(format!(
            "`{s}` is not a z bound; give a finite number above 0, e.g. 4"
        )),
    }
}

fn parse_min_effect(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(d) if d.is_finite() && d > 0.0 && d < 1.0 => Ok(d),
        _ => Err(format!(
            "`{s}` is not a change in completion rate; give a number above 0 and below 1, e.g. 0.01 (one percentage point)"
        )),
    }
}

fn parse_budget(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(b) if b.is_finite() && b >= 0.0 => Ok(b),
        _ => Err(format!(
            "`{s}` is not a budget; give a finite annual cost of 0 or more, e.g. 250000"
        )),
    }
}
