//! The simultaneous intervals of `rank` cover every control's exact change together in about
//! 95 % of runs.
//!
//! Plays the ransomware scenario's 15 switches against the scenario as written, as `rank
//! --method monte-carlo` does, in RUNS independent runs (seeds 1..=RUNS) of 5,000 paired trials,
//! and counts the runs in which every Šidák interval (of the change in completion rate, and of
//! the reduction in expected annual loss) holds its exact value. At RUNS = 400 the standard error
//! of a 95 % share is 1.1 points; the seeds are fixed, so the test is deterministic.

use killchain::analysis::arms::paired_table;
use killchain::engine::Plan;
use killchain::exact;
use killchain::stats::{COMPLETED, sidak_z};

use crate::support::{self, load};

/// Independent runs.
const RUNS: u64 = 400;

/// Paired trials per run: few years (about 625), heavy-tailed losses.
const TRIALS: u64 = 5_000;

#[test]
fn ranks_simultaneous_intervals_cover_every_control_together() {
    let s = load("scenarios/ransomware-midsize.toml");
    let model = s.loss.as_ref().expect("the scenario has [loss]");
    let n = s.controls.len();
    let z = sidak_z(n);
    let base = exact::evaluate(&s).unwrap().completed;
    let mut plans = vec![Plan::new(&s)];
    // (exact change in completion rate, exact reduction in ALE) of each switch.
    let mut truth = Vec::with_capacity(n);
    for ci in 0..n {
        let mut v = s.clone();
        v.controls[ci].enabled = !v.controls[ci].enabled;
        let p = exact::evaluate(&v).unwrap().completed;
        truth.push((p - base, model.exact_ale(base) - model.exact_ale(p)));
        plans.push(Plan::new(&v));
    }
    let (mut rates, mut losses) = (0, 0);
    for seed in 1..=RUNS {
        let results = support::play(&plans, Some(model), seed, TRIALS, None);
        let (mut rate_holds, mut loss_holds) = (true, true);
        for (r, &(delta, reduction)) in results[1..].iter().zip(&truth) {
            let (_, lo, hi) = paired_table(&r.joint, |o| o == COMPLETED)
                .difference_at(z)
                .unwrap();
            rate_holds &= lo <= delta && delta <= hi;
            let (_, lo, hi) = r.loss.as_ref().unwrap().paired.reduction_at(z);
            loss_holds &= lo <= reduction && reduction <= hi;
        }
        rates += u64::from(rate_holds);
        losses += u64::from(loss_holds);
    }
    let (rates, losses) = (rates as f64 / RUNS as f64, losses as f64 / RUNS as f64);
    eprintln!(
        "every control covered together: change in completion {rates:.4}, in ALE {losses:.4}"
    );
    assert!(
        rates >= 0.93,
        "completion intervals cover together in {rates}"
    );
    assert!(losses >= 0.93, "ALE intervals cover together in {losses}");
}
