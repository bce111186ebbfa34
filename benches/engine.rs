//! Trials per second on the fixed benchmark scenario (`benches/data/reference.toml`, a copy of
//! the shared reference kept unchanged): the batched engine on one thread and on all threads,
//! and the per-trial reference engine on one thread as the simpler baseline.
//!
//! `cargo bench --bench engine` prints time per iteration and throughput in trials/s; read the
//! groups of one run as ratios (batched vs per-trial, 1 thread vs all threads).

use std::hint::black_box;
use std::sync::atomic::AtomicUsize;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use killchain::engine::{self, Plan};
use killchain::scenario::Scenario;
use killchain::sim::{Schedule, Session};
use killchain::stats::Tally;

const TRIALS: u64 = 2_000_000;

fn reference() -> Scenario {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/data/reference.toml");
    let text = std::fs::read_to_string(path).expect("benchmark scenario");
    Scenario::from_toml(&text, path).unwrap_or_else(|d| panic!("{d}"))
}

/// A run as `killchain run` plays it: a session of `threads` workers, all the trials of one plan.
fn play(plan: &Plan, seed: u64, threads: usize) -> Tally {
    let stop = AtomicUsize::new(0);
    let session = Session::new(Some(threads), &stop).expect("a worker pool");
    let schedule = Schedule::new(None, seed, TRIALS, None);
    let mut arms = session
        .play(std::slice::from_ref(plan), &schedule)
        .expect("not stopped");
    arms.remove(0).tally
}

fn trials_per_second(c: &mut Criterion) {
    let scenario = reference();
    let plan = Plan::new(&scenario);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut g = c.benchmark_group("reference");
    g.throughput(Throughput::Elements(TRIALS));
    g.sample_size(10);
    g.bench_function("per-trial baseline, threads=1", |b| {
        b.iter(|| engine::run_range_per_trial(&plan, black_box(20240601), 0..TRIALS))
    });
    for threads in [1, cores] {
        g.bench_function(format!("threads={threads}"), |b| {
            b.iter(|| play(&plan, black_box(20240601), threads))
        });
    }
    g.finish();
}

criterion_group!(benches, trials_per_second);
criterion_main!(benches);
