//! A threat landscape's own outputs: `landscape.csv` (each adversary and the total), its
//! `run.json` and its terminal table. The per-adversary phases, controls and techniques files are
//! the one-adversary writers with an `adversary` column ([`super::Arms::Landscape`]).

use std::fmt::Write;

use serde::Serialize;

use super::csv_out::{finish, record, writer};
use super::format::{counted, grouped, money, rate6, signed6};
use super::loss_out::LOSS_EXCEEDANCE_HEADER;
use super::{Figures, LossFigures, LossJson, Method, RunResult, funnel, text_cell};
use crate::analysis::arms::ArmSummary;
use crate::analysis::rank::Marginal;
use crate::scenario::BASELINE;
use crate::scenario::{Part, Scenario};
use crate::stats::figures::LandscapeLoss;
use crate::stats::landscape::{Interval, scaled, sum_of_changes, sum_of_independent};

/// One adversary's results in a landscape.
#[derive(Debug, Clone, Copy)]
pub struct AdversaryResult<'a> {
    /// The adversary as a one-adversary scenario.
    pub part: &'a Part,
    /// The seed its campaigns were drawn with (none for exact evaluation).
    pub seed: Option<u64>,
    /// Its figures.
    pub figures: &'a Figures,
    /// Its annual-loss figures, with `[loss]`.
    pub loss: Option<&'a LossFigures>,
}

/// A landscape's run (or exact evaluation) and the facts reports print about it.
#[derive(Debug, Clone)]
pub struct LandscapeResult<'a> {
    /// The scenario file's model (every adversary).
    pub scenario: &'a Scenario,
    /// The scenario file as the user named it.
    pub path: &'a str,
    /// SHA-256 of the file's bytes, lowercase hex.
    pub sha256: &'a str,
    /// The run's seed, from which each adversary's is derived (none for exact evaluation).
    pub seed: Option<u64>,
    /// Worker threads used.
    pub threads: usize,
    /// Wall-clock seconds the computation took.
    pub wall_seconds: f64,
    /// Each enabled adversary's results, in file order.
    pub adversaries: Vec<AdversaryResult<'a>>,
    /// With `[loss]`: the landscape's annual loss summed over the adversaries year by year.
    pub total_loss: Option<&'a LandscapeLoss>,
}

/// What a landscape's outputs print of one adversary, or of the total.
struct Line {
    completion: Option<Interval>,
    successful: Option<Interval>,
    ale: Option<Interval>,
}

impl AdversaryResult<'_> {
    fn line(&self, with_rate: bool) -> Line {
        let f = self.figures;
        let completion = f.rate(f.counts.completed, f.trials as f64);
        Line {
            completion,
            successful: completion
                .filter(|_| with_rate)
                .map(|c| scaled(self.part.attacks_per_year, c)),
            ale: self.loss.filter(|l| l.defined()).map(|l| l.ale),
        }
    }
}

impl LandscapeResult<'_> {
    /// Whether every adversary has a rate (always, but for a landscape of one adversary
    /// without `[loss]` and without `attacks_per_year`).
    fn rated(&self) -> bool {
        let enabled = self.scenario.adversaries.iter().filter(|a| a.enabled);
        enabled.clone().all(|a| a.attacks_per_year.is_some())
    }

    fn method(&self) -> Method {
        self.adversaries
            .first()
            .map_or(Method::Exact, |a| a.figures.method)
    }

    fn lines(&self) -> Vec<Line> {
        let rated = self.rated();
        self.adversaries.iter().map(|a| a.line(rated)).collect()
    }

    /// The landscape's total: expected successful attacks a year and ALE, each `None` when
    /// some adversary lacks it.
    fn total(&self, lines: &[Line]) -> Line {
        let sum = |pick: fn(&Line) -> Option<Interval>| {
            let parts: Option<Vec<Interval>> = lines.iter().map(pick).collect();
            parts.map(|p| sum_of_independent(&p))
        };
        Line {
            completion: None,
            successful: sum(|l| l.successful),
            ale: sum(|l| l.ale),
        }
    }

    fn currency(&self) -> &str {
        self.scenario
            .loss
            .as_ref()
            .map_or("", |m| m.currency.as_str())
    }
}

/// Column names of `landscape.csv`.
pub const LANDSCAPE_HEADER: [&str; 22] = [
    "scenario",
    "seed",
    "adversary",
    "name",
    "trials",
    "attacks_per_year",
    "completed",
    "completion_rate",
    "ci_low",
    "ci_high",
    "successful_per_year",
    "successful_ci_low",
    "successful_ci_high",
    "expected_annual_loss",
    "ale_ci_low",
    "ale_ci_high",
    "ale_share",
    "years",
    "annual_loss_p50",
    "annual_loss_p90",
    "annual_loss_p99",
    "method",
];

/// The years and the P50, P90 and P99 cells of a row (empty where there are none).
fn percentile_cells(years: Option<u64>, p: Option<[u64; 3]>) -> [String; 4] {
    let at = |i: usize| p.map(|p| p[i].to_string()).unwrap_or_default();
    [
        years
            .filter(|&y| y > 0)
            .map(|y| y.to_string())
            .unwrap_or_default(),
        at(0),
        at(1),
        at(2),
    ]
}

/// A number with six decimals, or an empty cell.
fn cell(x: Option<f64>) -> String {
    rate6(x)
}

/// An amount with two decimals, or an empty cell.
fn amount(x: Option<f64>) -> String {
    x.map(money).unwrap_or_default()
}

/// `landscape.csv`: one row per enabled adversary in file order, then the total (an empty
/// `adversary` cell, named "all adversaries"): expected successful attacks a year and ALE
/// summed, with MOVER intervals; each adversary's share of the total ALE.
pub fn landscape_csv(r: &LandscapeResult) -> Vec<u8> {
    let name = text_cell(&r.scenario.name);
    let seed = r.seed.map(|s| s.to_string()).unwrap_or_default();
    let lines = r.lines();
    let total = r.total(&lines);
    let total_ale = total.ale.map(|t| t.0);
    let method = r.method().id();
    let mut w = writer();
    record(&mut w, &LANDSCAPE_HEADER);
    let rated = r.rated();
    for (a, line) in r.adversaries.iter().zip(&lines) {
        let f = a.figures;
        let share = line
            .ale
            .zip(total_ale)
            .map(|(a, t)| if t > 0.0 { a.0 / t } else { 0.0 });
        let [years, p50, p90, p99] =
            percentile_cells(a.loss.map(|l| l.years), a.loss.and_then(|l| l.percentiles));
        record(
            &mut w,
            &[
                name.clone(),
                seed.clone(),
                text_cell(&a.part.id),
                text_cell(&a.part.scenario.adversary.name),
                f.trials.to_string(),
                if rated {
                    a.part.attacks_per_year.to_string()
                } else {
                    String::new()
                },
                f.count(f.counts.completed),
                cell(line.completion.map(|c| c.0)),
                cell(line.completion.map(|c| c.1)),
                cell(line.completion.map(|c| c.2)),
                cell(line.successful.map(|c| c.0)),
                cell(line.successful.map(|c| c.1)),
                cell(line.successful.map(|c| c.2)),
                amount(line.ale.map(|c| c.0)),
                amount(line.ale.map(|c| c.1)),
                amount(line.ale.map(|c| c.2)),
                cell(share),
                years,
                p50,
                p90,
                p99,
                method.to_owned(),
            ],
        );
    }
    let [years, p50, p90, p99] = percentile_cells(
        r.total_loss.map(|t| t.years),
        r.total_loss.and_then(|t| t.percentiles),
    );
    let trials: u64 = r.adversaries.iter().map(|a| a.figures.trials).sum();
    let completed: f64 = r
        .adversaries
        .iter()
        .map(|a| a.figures.counts.completed)
        .sum();
    let rate: Option<f64> =
        rated.then(|| r.adversaries.iter().map(|a| a.part.attacks_per_year).sum());
    let counted = match r.method() {
        Method::MonteCarlo => format!("{completed:.0}"),
        Method::Exact => format!("{completed:.6}"),
    };
    record(
        &mut w,
        &[
            name,
            seed,
            String::new(),
            "all adversaries".to_owned(),
            trials.to_string(),
            rate.map(|x| x.to_string()).unwrap_or_default(),
            counted,
            String::new(),
            String::new(),
            String::new(),
            cell(total.successful.map(|c| c.0)),
            cell(total.successful.map(|c| c.1)),
            cell(total.successful.map(|c| c.2)),
            amount(total.ale.map(|c| c.0)),
            amount(total.ale.map(|c| c.1)),
            amount(total.ale.map(|c| c.2)),
            cell(total.ale.map(|_| 1.0)),
            years,
            p50,
            p90,
            p99,
            method.to_owned(),
        ],
    );
    finish(w)
}

#[derive(Serialize)]
struct Manifest<'a> {
    killchain_version: &'a str,
    method: &'a str,
    scenario: &'a str,
    scenario_file: &'a str,
    scenario_sha256: &'a str,
    seed: Option<u64>,
    trials_per_adversary: u64,
    threads: usize,
    wall_time_seconds: f64,
    adversaries: Vec<AdversaryJson<'a>>,
    disabled_adversaries: Vec<&'a str>,
    disabled_controls: Vec<&'a str>,
    successful_per_year: Option<f64>,
    successful_ci_low: Option<f64>,
    successful_ci_high: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expected_annual_loss: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ale_ci_low: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ale_ci_high: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    currency: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    annual_loss: Option<TotalLossJson>,
}

/// A landscape's annual loss summed year by year, in its `run.json`.
#[derive(Serialize)]
struct TotalLossJson {
    /// The years summed: those every adversary's run counts (0 when exact).
    years: u64,
    loss_p50: Option<u64>,
    loss_p90: Option<u64>,
    loss_p99: Option<u64>,
    loss_p50_ci: Option<[u64; 2]>,
    loss_p90_ci: Option<[u64; 2]>,
    loss_p99_ci: Option<[u64; 2]>,
    annual_loss_skewness: Option<f64>,
    /// The probability that a year has any loss, from the curve's first point.
    probability_of_any_loss: Option<f64>,
}

impl TotalLossJson {
    fn of(t: &LandscapeLoss) -> TotalLossJson {
        let ci = |i: usize| t.percentile_ci.map(|c| [c[i].0, c[i].1]);
        TotalLossJson {
            years: t.years,
            loss_p50: t.percentiles.map(|p| p[0]),
            loss_p90: t.percentiles.map(|p| p[1]),
            loss_p99: t.percentiles.map(|p| p[2]),
            loss_p50_ci: ci(0),
            loss_p90_ci: ci(1),
            loss_p99_ci: ci(2),
            annual_loss_skewness: t.skewness,
            probability_of_any_loss: (t.curve.first())
                .filter(|p| p.annual_loss == 0)
                .map(|p| p.probability.0),
        }
    }
}

#[derive(Serialize)]
struct AdversaryJson<'a> {
    id: &'a str,
    name: &'a str,
    seed: Option<u64>,
    attacks_per_year: Option<f64>,
    completed: f64,
    completion_rate: Option<f64>,
    completion_ci_low: Option<f64>,
    completion_ci_high: Option<f64>,
    successful_per_year: Option<f64>,
    successful_ci_low: Option<f64>,
    successful_ci_high: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    loss: Option<LossJson<'a>>,
}

/// A landscape's `run.json`: what ran, each adversary's completion, successful attacks a year
/// (and loss), and the totals; pretty-printed with a trailing newline.
pub fn landscape_json(r: &LandscapeResult) -> Vec<u8> {
    let lines = r.lines();
    let total = r.total(&lines);
    let rated = r.rated();
    let has_loss = r.scenario.loss.is_some();
    let adversaries = (r.adversaries.iter().zip(&lines))
        .map(|(a, line)| AdversaryJson {
            id: &a.part.id,
            name: &a.part.scenario.adversary.name,
            seed: a.seed,
            attacks_per_year: rated.then_some(a.part.attacks_per_year),
            completed: a.figures.counts.completed,
            completion_rate: line.completion.map(|c| c.0),
            completion_ci_low: line.completion.map(|c| c.1),
            completion_ci_high: line.completion.map(|c| c.2),
            successful_per_year: line.successful.map(|c| c.0),
            successful_ci_low: line.successful.map(|c| c.1),
            successful_ci_high: line.successful.map(|c| c.2),
            loss: a.loss.map(LossFigures::json),
        })
        .collect();
    let m = Manifest {
        killchain_version: env!("CARGO_PKG_VERSION"),
        method: r.method().id(),
        scenario: &r.scenario.name,
        scenario_file: r.path,
        scenario_sha256: r.sha256,
        seed: r.seed,
        trials_per_adversary: r.adversaries.first().map_or(0, |a| a.figures.trials),
        threads: r.threads,
        wall_time_seconds: r.wall_seconds,
        adversaries,
        disabled_adversaries: (r.scenario.adversaries.iter())
            .filter(|a| !a.enabled)
            .map(|a| a.id.as_str())
            .collect(),
        disabled_controls: (r.scenario.controls.iter())
            .filter(|c| !c.enabled)
            .map(|c| c.id.as_str())
            .collect(),
        successful_per_year: total.successful.map(|c| c.0),
        successful_ci_low: total.successful.map(|c| c.1),
        successful_ci_high: total.successful.map(|c| c.2),
        expected_annual_loss: total.ale.map(|c| c.0),
        ale_ci_low: total.ale.map(|c| c.1),
        ale_ci_high: total.ale.map(|c| c.2),
        currency: has_loss.then(|| r.currency()),
        annual_loss: r.total_loss.map(TotalLossJson::of),
    };
    let mut out = serde_json::to_vec_pretty(&m)
        .unwrap_or_else(|e| panic!("serialising the manifest cannot fail: {e}"));
    out.push(b'\n');
    out
}

/// The terminal text of a landscape: each adversary's funnel, then the table of the landscape.
pub fn landscape_table(r: &LandscapeResult) -> String {
    let mut out = String::new();
    for a in &r.adversaries {
        let one = RunResult {
            scenario: &a.part.scenario,
            path: r.path,
            sha256: r.sha256,
            seed: a.seed,
            threads: r.threads,
            wall_seconds: r.wall_seconds,
            figures: a.figures,
            loss: a.loss,
        };
        let rate = match r.rated() {
            true => format!(", {} a year", a.part.attacks_per_year),
            false => String::new(),
        };
        let _ = writeln!(
            out,
            "adversary {} ({}{rate}):",
            a.part.id, a.part.scenario.adversary.name
        );
        out.push_str(&funnel(&one));
        out.push('\n');
    }
    let lines = r.lines();
    let total = r.total(&lines);
    let exact = r.method() == Method::Exact;
    let shown = |i: Option<Interval>, digits: usize| match i {
        None => "-".to_owned(),
        Some((e, _, _)) if exact => format!("{e:.digits$}"),
        Some((e, lo, hi)) => format!("{e:.digits$} [{lo:.digits$}, {hi:.digits$}]"),
    };
    let money = |i: Option<Interval>| match i {
        None => "-".to_owned(),
        Some((e, _, _)) if exact => grouped(e),
        Some((e, lo, hi)) => format!("{} [{}, {}]", grouped(e), grouped(lo), grouped(hi)),
    };
    let how = if exact {
        "exact".to_owned()
    } else {
        let trials = r.adversaries.first().map_or(0, |a| a.figures.trials);
        format!("{} per adversary", counted(trials, "campaign", "campaigns"))
    };
    let _ = writeln!(
        out,
        "{} — the landscape of {}, {how}",
        r.scenario.name,
        counted(r.adversaries.len() as u64, "adversary", "adversaries")
    );
    let has_loss = r.scenario.loss.is_some();
    let ale_head = if has_loss {
        let c = r.currency();
        if c.is_empty() {
            "expected annual loss".to_owned()
        } else {
            format!("expected annual loss ({c})")
        }
    } else {
        String::new()
    };
    let mut row = |cells: [String; 4]| {
        let text = format!(
            "{:<24} {:<30} {:<34} {}",
            cells[0], cells[1], cells[2], cells[3]
        );
        let _ = writeln!(out, "{}", text.trim_end());
    };
    row([
        "adversary".to_owned(),
        "completion rate".to_owned(),
        "successful attacks a year".to_owned(),
        ale_head,
    ]);
    let ale = |i: Option<Interval>| if has_loss { money(i) } else { String::new() };
    for (a, line) in r.adversaries.iter().zip(&lines) {
        row([
            a.part.id.clone(),
            shown(line.completion, 6),
            shown(line.successful, 4),
            ale(line.ale),
        ]);
    }
    row([
        "all adversaries".to_owned(),
        String::new(),
        shown(total.successful, 4),
        ale(total.ale),
    ]);
    match r.total_loss {
        Some(t) if t.percentiles.is_some() => {
            let p = t.percentiles.unwrap_or_default();
            let currency = match r.currency() {
                "" => String::new(),
                c => format!(" ({c})"),
            };
            let _ = write!(
                out,
                "the landscape's annual loss{currency}, summed year by year over the {} every adversary's run holds: P50 {}, P90 {}, P99 {}",
                counted(t.years, "simulated year", "simulated years"),
                grouped(p[0] as f64),
                grouped(p[1] as f64),
                grouped(p[2] as f64),
            );
            if let Some(ci) = t.percentile_ci {
                let _ = write!(
                    out,
                    " (95 % intervals [{}, {}], [{}, {}], [{}, {}])",
                    grouped(ci[0].0 as f64),
                    grouped(ci[0].1 as f64),
                    grouped(ci[1].0 as f64),
                    grouped(ci[1].1 as f64),
                    grouped(ci[2].0 as f64),
                    grouped(ci[2].1 as f64),
                );
            }
            out.push('\n');
        }
        Some(t) if t.method == Method::Exact => {
            if let Some(p) = t.curve.first() {
                let _ = writeln!(
                    out,
                    "probability of any loss in a year (exact): {:.6}",
                    p.probability.0
                );
            }
        }
        Some(_) => {
            let _ = writeln!(
                out,
                "the landscape's annual loss: no year that every adversary's run holds whole; run more campaigns for its percentiles"
            );
        }
        None => {}
    }
    out
}

/// A landscape's `loss_exceedance.csv`: each adversary's curve (from its own years) under an
/// `adversary` column, then the landscape's (from the years summed over the adversaries; an
/// empty `adversary` cell), each lowest loss first.
pub fn landscape_exceedance_csv(r: &LandscapeResult) -> Vec<u8> {
    let mut w = writer();
    let mut header: Vec<&str> = LOSS_EXCEEDANCE_HEADER.to_vec();
    header.insert(1, "adversary");
    record(&mut w, &header);
    let currency = r.currency();
    let method = r.method().id();
    let parts = (r.adversaries.iter())
        .filter_map(|a| Some((a.part.id.as_str(), &a.loss?.curve)))
        .chain(r.total_loss.map(|t| ("", &t.curve)));
    for (id, curve) in parts {
        for p in curve {
            let (e, lo, hi) = p.probability;
            let (blo, bhi) = p.band;
            record(
                &mut w,
                &[
                    BASELINE.to_owned(),
                    text_cell(id),
                    p.annual_loss.to_string(),
                    format!("{e:.6}"),
                    format!("{lo:.6}"),
                    format!("{hi:.6}"),
                    format!("{blo:.6}"),
                    format!("{bhi:.6}"),
                    text_cell(currency),
                    method.to_owned(),
                ],
            );
        }
    }
    finish(w)
}

/// One adversary's arms of a landscape comparison: the adversary (as the baseline plays it)
/// and each arm's summary, baseline first.
#[derive(Debug, Clone, Copy)]
pub struct AdversaryArms<'a> {
    /// The adversary, as the baseline's part.
    pub part: &'a Part,
    /// Each arm's summary against the baseline, baseline first.
    pub arms: &'a [ArmSummary],
}

/// Column names of `landscape_comparison.csv`.
pub const LANDSCAPE_COMPARISON_HEADER: [&str; 26] = [
    "scenario",
    "seed",
    "variant",
    "adversary",
    "name",
    "attacks_per_year",
    "annual_cost",
    "completion_rate",
    "delta",
    "delta_ci_low",
    "delta_ci_high",
    "successful_per_year",
    "successful_ci_low",
    "successful_ci_high",
    "successful_change",
    "successful_change_ci_low",
    "successful_change_ci_high",
    "expected_annual_loss",
    "ale_ci_low",
    "ale_ci_high",
    "ale_reduction",
    "ale_reduction_ci_low",
    "ale_reduction_ci_high",
    "net_benefit",
    "currency",
    "method",
];

/// One arm's figures against the baseline, for one adversary or summed over them.
struct ArmLine {
    successful: Interval,
    change: Interval,
    ale: Option<Interval>,
    reduction: Option<Interval>,
}

fn arm_line(part: &Part, a: &ArmSummary) -> ArmLine {
    let f = &a.figures;
    let completion = f
        .rate(f.counts.completed, f.trials as f64)
        .unwrap_or((0.0, 0.0, 0.0));
    let defined = a.loss.as_ref().filter(|l| l.defined());
    ArmLine {
        successful: scaled(part.attacks_per_year, completion),
        change: scaled(part.attacks_per_year, a.delta),
        ale: defined.map(|l| l.ale),
        reduction: defined.map(|l| l.reduction),
    }
}

/// Arm `i`'s line of each adversary and their sum (`None` where some adversary lacks it).
fn arm_lines(adversaries: &[AdversaryArms], i: usize) -> (Vec<ArmLine>, ArmLine) {
    let lines: Vec<ArmLine> = (adversaries.iter())
        .map(|a| arm_line(a.part, &a.arms[i]))
        .collect();
    let all = |pick: fn(&ArmLine) -> Option<Interval>| {
        let parts: Option<Vec<Interval>> = lines.iter().map(pick).collect();
        parts.map(|p| sum_of_independent(&p))
    };
    let sum = |pick: fn(&ArmLine) -> Interval| {
        sum_of_changes(&lines.iter().map(pick).collect::<Vec<_>>())
    };
    let total = ArmLine {
        successful: sum(|l| l.successful),
        change: sum(|l| l.change),
        ale: all(|l| l.ale),
        reduction: (lines
            .iter()
            .map(|l| l.reduction)
            .collect::<Option<Vec<_>>>())
        .map(|p| sum_of_changes(&p)),
    };
    (lines, total)
}

/// `landscape_comparison.csv`: for each arm (baseline first), one row per adversary and the
/// total (empty `adversary`, named "all adversaries"): successful attacks a year and their
/// change against the baseline, with `[loss]` the ALE and its reduction, and in the total row
/// the net benefit (the reduction less the arm's annual cost above the baseline's). Totals'
/// intervals are MOVER sums of the adversaries' paired intervals.
pub fn landscape_comparison_csv(
    scenario: &str,
    seed: Option<u64>,
    adversaries: &[AdversaryArms],
) -> Vec<u8> {
    let name = text_cell(scenario);
    let seed = seed.map(|s| s.to_string()).unwrap_or_default();
    let mut w = writer();
    record(&mut w, &LANDSCAPE_COMPARISON_HEADER);
    let Some(first) = adversaries.first() else {
        return finish(w);
    };
    let currency = (first.part.scenario.loss.as_ref())
        .map(|m| text_cell(&m.currency))
        .unwrap_or_default();
    let base_cost = first.arms.first().map_or(0.0, |a| a.annual_cost);
    let methods: Vec<Method> = (adversaries.iter())
        .flat_map(|a| a.arms.iter().map(|s| s.figures.method))
        .collect();
    let total_method = match methods.iter().all(|m| *m == Method::Exact) {
        true => Method::Exact,
        false => Method::MonteCarlo,
    };
    for (i, arm) in first.arms.iter().enumerate() {
        let (lines, total) = arm_lines(adversaries, i);
        let variant = text_cell(&arm.name);
        for (a, line) in adversaries.iter().zip(&lines) {
            let s = &a.arms[i];
            let f = &s.figures;
            let rate = f.rate(f.counts.completed, f.trials as f64);
            record(
                &mut w,
                &[
                    name.clone(),
                    seed.clone(),
                    variant.clone(),
                    text_cell(&a.part.id),
                    text_cell(&a.part.scenario.adversary.name),
                    a.part.attacks_per_year.to_string(),
                    money(s.annual_cost),
                    cell(rate.map(|r| r.0)),
                    signed6(s.delta.0),
                    signed6(s.delta.1),
                    signed6(s.delta.2),
                    cell(Some(line.successful.0)),
                    cell(Some(line.successful.1)),
                    cell(Some(line.successful.2)),
                    signed6(line.change.0),
                    signed6(line.change.1),
                    signed6(line.change.2),
                    amount(line.ale.map(|c| c.0)),
                    amount(line.ale.map(|c| c.1)),
                    amount(line.ale.map(|c| c.2)),
                    amount(line.reduction.map(|c| c.0)),
                    amount(line.reduction.map(|c| c.1)),
                    amount(line.reduction.map(|c| c.2)),
                    String::new(),
                    currency.clone(),
                    f.method.id().to_owned(),
                ],
            );
        }
        let rate: f64 = adversaries.iter().map(|a| a.part.attacks_per_year).sum();
        let net = total.reduction.map(|r| r.0 - (arm.annual_cost - base_cost));
        record(
            &mut w,
            &[
                name.clone(),
                seed.clone(),
                variant,
                String::new(),
                "all adversaries".to_owned(),
                rate.to_string(),
                money(arm.annual_cost),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                cell(Some(total.successful.0)),
                cell(Some(total.successful.1)),
                cell(Some(total.successful.2)),
                signed6(total.change.0),
                signed6(total.change.1),
                signed6(total.change.2),
                amount(total.ale.map(|c| c.0)),
                amount(total.ale.map(|c| c.1)),
                amount(total.ale.map(|c| c.2)),
                amount(total.reduction.map(|c| c.0)),
                amount(total.reduction.map(|c| c.1)),
                amount(total.reduction.map(|c| c.2)),
                amount(net),
                currency.clone(),
                total_method.id().to_owned(),
            ],
        );
    }
    finish(w)
}

/// The terminal table of a landscape comparison: per arm, the landscape's totals.
pub fn landscape_comparison_table(scenario: &str, adversaries: &[AdversaryArms]) -> String {
    let mut out = String::new();
    let Some(first) = adversaries.first() else {
        return out;
    };
    let has_loss = first.arms.iter().any(|a| a.loss.is_some());
    let exact =
        (adversaries.iter()).all(|a| a.arms.iter().all(|s| s.figures.method == Method::Exact));
    let shown = |(e, lo, hi): Interval, signed: bool| {
        let f = |x: f64| match signed {
            true => format!("{x:+.4}"),
            false => format!("{x:.4}"),
        };
        match exact {
            true => f(e),
            false => format!("{} [{}, {}]", f(e), f(lo), f(hi)),
        }
    };
    let money_shown = |(e, lo, hi): Interval| match exact {
        true => grouped(e),
        false => format!("{} [{}, {}]", grouped(e), grouped(lo), grouped(hi)),
    };
    let _ = writeln!(
        out,
        "{scenario} — every variant against the landscape of {}",
        counted(adversaries.len() as u64, "adversary", "adversaries")
    );
    let width = (first.arms.iter().map(|a| a.name.chars().count()))
        .chain([7])
        .max()
        .unwrap_or(7);
    let mut row = |cells: [String; 5]| {
        let text = format!(
            "{:<width$} {:<34} {:<36} {:<34} {}",
            cells[0], cells[1], cells[2], cells[3], cells[4]
        );
        let _ = writeln!(out, "{}", text.trim_end());
    };
    let (ale_head, reduction_head) = match has_loss {
        true => ("expected annual loss", "reduction (net benefit)"),
        false => ("", ""),
    };
    row([
        "variant".to_owned(),
        "successful attacks a year".to_owned(),
        "change against the baseline".to_owned(),
        ale_head.to_owned(),
        reduction_head.to_owned(),
    ]);
    let base_cost = first.arms.first().map_or(0.0, |a| a.annual_cost);
    for (i, arm) in first.arms.iter().enumerate() {
        let (_, total) = arm_lines(adversaries, i);
        let net = total.reduction.map(|r| r.0 - (arm.annual_cost - base_cost));
        row([
            arm.name.clone(),
            shown(total.successful, false),
            if i == 0 {
                String::new()
            } else {
                shown(total.change, true)
            },
            total.ale.map(money_shown).unwrap_or_default(),
            match (i, total.reduction, net) {
                (0, _, _) | (_, None, _) => String::new(),
                (_, Some(r), Some(n)) => format!("{} ({})", money_shown(r), grouped(n)),
                (_, Some(r), None) => money_shown(r),
            },
        ]);
    }
    out
}

/// Column names of `landscape_ranking.csv`.
pub const LANDSCAPE_RANKING_HEADER: [&str; 17] = [
    "scenario",
    "seed",
    "control",
    "action",
    "enabled",
    "annual_cost",
    "successful_change",
    "successful_change_ci_low",
    "successful_change_ci_high",
    "successful_change_unadjusted_ci_low",
    "successful_change_unadjusted_ci_high",
    "ale_change",
    "ale_change_ci_low",
    "ale_change_ci_high",
    "ale_change_unadjusted_ci_low",
    "ale_change_unadjusted_ci_high",
    "method",
];

/// `landscape_ranking.csv`: each control's marginal value against the whole landscape, in rank
/// order: the change in successful attacks a year and (with `[loss]`) in ALE when it alone is
/// switched, with the MOVER sums of the adversaries' simultaneous and unadjusted intervals.
pub fn landscape_ranking_csv(
    scenario: &str,
    seed: Option<u64>,
    method: Method,
    marginals: &[Marginal],
) -> Vec<u8> {
    let name = text_cell(scenario);
    let seed = seed.map(|s| s.to_string()).unwrap_or_default();
    let mut w = writer();
    record(&mut w, &LANDSCAPE_RANKING_HEADER);
    for m in marginals {
        let ale = |x: Option<f64>| x.map(money).unwrap_or_default();
        record(
            &mut w,
            &[
                name.clone(),
                seed.clone(),
                text_cell(&m.control),
                m.action.id().to_owned(),
                m.enabled.to_string(),
                m.cost.map(money).unwrap_or_default(),
                signed6(m.delta.0),
                signed6(m.delta.1),
                signed6(m.delta.2),
                signed6(m.unadjusted.1),
                signed6(m.unadjusted.2),
                ale(m.ale_delta),
                ale(m.ale_delta_ci.map(|c| c.0)),
                ale(m.ale_delta_ci.map(|c| c.1)),
                ale(m.ale_delta_unadjusted.map(|c| c.0)),
                ale(m.ale_delta_unadjusted.map(|c| c.1)),
                method.id().to_owned(),
            ],
        );
    }
    finish(w)
}

/// The terminal table of a landscape ranking: each control's switch against all adversaries.
pub fn landscape_ranking_table(scenario: &str, how: &str, marginals: &[Marginal]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{scenario} — each control switched alone, against the whole landscape ({how})"
    );
    let width = (marginals.iter().map(|m| m.control.chars().count()))
        .chain([7])
        .max()
        .unwrap_or(7);
    let mut row = |cells: [String; 5]| {
        let text = format!(
            "{:<width$} {:<9} {:>12} {:<36} {}",
            cells[0], cells[1], cells[2], cells[3], cells[4]
        );
        let _ = writeln!(out, "{}", text.trim_end());
    };
    row([
        "control".to_owned(),
        "switched".to_owned(),
        "annual cost".to_owned(),
        "successful attacks a year".to_owned(),
        "expected annual loss".to_owned(),
    ]);
    for m in marginals {
        let exact = m.delta.1 == m.delta.2;
        let change = |(e, lo, hi): (f64, f64, f64)| match exact {
            true => format!("{e:+.4}"),
            false => format!("{e:+.4} [{lo:+.4}, {hi:+.4}]"),
        };
        let ale = match (m.ale_delta, m.ale_delta_ci) {
            (Some(d), Some((lo, hi))) if !exact => format!(
                "{}{} [{}, {}]",
                if d >= 0.0 { "+" } else { "" },
                grouped(d),
                grouped(lo),
                grouped(hi)
            ),
            (Some(d), _) => format!("{}{}", if d >= 0.0 { "+" } else { "" }, grouped(d)),
            _ => String::new(),
        };
        row([
            m.control.clone(),
            if m.enabled { "off" } else { "on" }.to_owned(),
            m.cost.map(grouped).unwrap_or_default(),
            change(m.delta),
            ale,
        ]);
    }
    out
}
