//! Trials per second on the fixed benchmark scenario (`benches/data/reference.toml`, a copy of
//! the shared reference kept unchanged): the batched engine on one thread and on all threads,
//! and the per-trial reference engine on one thread as the simpler baseline.
//!
//! `cargo bench --bench engine` prints time per iteration and throughput in trials/s; read the
//! groups of one run as ratios (batched vs per-trial, 1 thread vs all threads).

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use killchain::engine::{self, Plan};
use killchain::scenario::Scenario;

const TRIALS: u64 = 2_000_000;

fn reference() -> Scenario {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/data/reference.toml");
    let text = std::fs::read_to_string(path).expect("benchmark scenario");
    Scenario::from_toml(&text, path).unwrap_or_else(|d| panic!("{d}"))
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
            b.iter(|| engine::run(&plan, black_box(20240601), TRIALS, Some(threads)).unwrap())
        });
    }
    g.finish();
}

criterion_group!(benches, trials_per_second);
criterion_main!(benches);
