//! The CSV files: RFC 4180, UTF-8, a header row, fixed column order, plain numbers.

use super::{RunResult, rate6, text_cell};
use crate::phase::Phase;
use crate::stats::Rate;

fn finish(w: csv::Writer<Vec<u8>>) -> Vec<u8> {
    w.into_inner()
        .unwrap_or_else(|e| panic!("writing CSV to memory cannot fail: {e}"))
}

fn writer() -> csv::Writer<Vec<u8>> {
    csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new())
}

fn row<const N: usize>(w: &mut csv::Writer<Vec<u8>>, cells: [&str; N]) {
    w.write_record(cells)
        .unwrap_or_else(|e| panic!("writing CSV to memory cannot fail: {e}"));
}

/// Column names of `phases.csv`.
pub const PHASES_HEADER: [&str; 12] = [
    "scenario",
    "seed",
    "trials",
    "phase_index",
    "phase",
    "reached",
    "broken",
    "passed",
    "break_rate",
    "ci_low",
    "ci_high",
    "broken_share",
];

/// `phases.csv`: one row per phase, in chain order.
pub fn phases_csv(r: &RunResult) -> Vec<u8> {
    let t = r.tally;
    let mut w = writer();
    row(&mut w, PHASES_HEADER);
    let name = text_cell(&r.scenario.name);
    for phase in Phase::ALL {
        let i = phase.index();
        let rate = Rate::new(t.broken[i], t.reached[i]);
        row(
            &mut w,
            [
                &name,
                &r.seed.to_string(),
                &t.trials.to_string(),
                &(i + 1).to_string(),
                phase.id(),
                &t.reached[i].to_string(),
                &t.broken[i].to_string(),
                &t.passed(i).to_string(),
                &rate6(rate.estimate),
                &rate6(rate.interval.map(|c| c.0)),
                &rate6(rate.interval.map(|c| c.1)),
                &rate6(Rate::new(t.broken[i], t.trials).estimate),
            ],
        );
    }
    finish(w)
}

/// Column names of `controls.csv`.
pub const CONTROLS_HEADER: [&str; 7] = [
    "scenario",
    "control",
    "name",
    "action",
    "fired",
    "breaks",
    "break_share",
];

/// `controls.csv`: one row per enabled control in file order, then `technique-failed` and
/// `no-viable-technique`.
pub fn controls_csv(r: &RunResult) -> Vec<u8> {
    let t = r.tally;
    let mut w = writer();
    row(&mut w, CONTROLS_HEADER);
    let name = text_cell(&r.scenario.name);
    let share = |k: u64| rate6(Rate::new(k, t.trials).estimate);
    for (i, c) in r.scenario.controls.iter().enumerate() {
        if !c.enabled {
            continue;
        }
        row(
            &mut w,
            [
                &name,
                &c.id,
                &text_cell(&c.name),
                c.action.id(),
                &t.control_fired[i].to_string(),
                &t.control_breaks[i].to_string(),
                &share(t.control_breaks[i]),
            ],
        );
    }
    for (id, label, k) in [
        (
            "technique-failed",
            "Attempts ran out; no control ended the last one",
            t.breaks_technique_failed,
        ),
        (
            "no-viable-technique",
            "No technique was viable in the environment",
            t.breaks_no_viable,
        ),
    ] {
        row(
            &mut w,
            [&name, id, label, "", "", &k.to_string(), &share(k)],
        );
    }
    finish(w)
}

/// Column names of `techniques.csv`.
pub const TECHNIQUES_HEADER: [&str; 15] = [
    "scenario",
    "technique",
    "name",
    "phase",
    "attack",
    "viable",
    "attempts",
    "successes",
    "success_rate",
    "prevented",
    "deceived",
    "interrupted",
    "failed",
    "detected",
    "evicted",
];

/// `techniques.csv`: one row per technique in file order.
pub fn techniques_csv(r: &RunResult) -> Vec<u8> {
    let mut w = writer();
    row(&mut w, TECHNIQUES_HEADER);
    let name = text_cell(&r.scenario.name);
    for (t, c) in r.scenario.techniques.iter().zip(&r.tally.techniques) {
        row(
            &mut w,
            [
                &name,
                &t.id,
                &text_cell(&t.name),
                t.phase.id(),
                t.attack.as_deref().unwrap_or(""),
                if t.viable { "true" } else { "false" },
                &c.attempts.to_string(),
                &c.succeeded.to_string(),
                &rate6(Rate::new(c.succeeded, c.attempts).estimate),
                &c.prevented.to_string(),
                &c.deceived.to_string(),
                &c.interrupted.to_string(),
                &c.failed.to_string(),
                &c.detected.to_string(),
                &c.evicted.to_string(),
            ],
        );
    }
    finish(w)
}
