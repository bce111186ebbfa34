//! `run.json`: what ran, on what, with which result — enough to reproduce and to cite.

use serde::Serialize;

use super::RunResult;

#[derive(Serialize)]
struct Manifest<'a> {
    killchain_version: &'a str,
    method: &'a str,
    scenario: &'a str,
    scenario_file: &'a str,
    scenario_sha256: &'a str,
    seed: Option<u64>,
    trials: u64,
    threads: usize,
    wall_time_seconds: f64,
    trials_per_second: Option<f64>,
    completed: f64,
    completion_rate: f64,
    completion_ci_low: f64,
    completion_ci_high: f64,
    disabled_controls: Vec<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    loss: Option<super::LossJson<'a>>,
}

/// The manifest as pretty-printed JSON with a trailing newline.
pub fn run_json(r: &RunResult) -> Vec<u8> {
    let f = r.figures;
    let (rate, lo, hi) = f
        .rate(f.counts.completed, f.trials as f64)
        .unwrap_or((0.0, 0.0, 0.0));
    let sampled = f.method == super::Method::MonteCarlo;
    let m = Manifest {
        killchain_version: env!("CARGO_PKG_VERSION"),
        method: f.method.id(),
        scenario: &r.scenario.name,
        scenario_file: r.path,
        scenario_sha256: r.sha256,
        seed: r.seed,
        trials: f.trials,
        threads: r.threads,
        wall_time_seconds: r.wall_seconds,
        trials_per_second: (sampled && r.wall_seconds > 0.0)
            .then(|| (f.trials as f64 / r.wall_seconds).round()),
        completed: f.counts.completed,
        completion_rate: rate,
        completion_ci_low: lo,
        completion_ci_high: hi,
        disabled_controls: r
            .scenario
            .controls
            .iter()
            .filter(|c| !c.enabled)
            .map(|c| c.id.as_str())
            .collect(),
        loss: r.loss.map(super::LossFigures::json),
    };
    let mut out = serde_json::to_vec_pretty(&m)
        .unwrap_or_else(|e| panic!("serialising the manifest cannot fail: {e}"));
    out.push(b'\n');
    out
}
