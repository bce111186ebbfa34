//! A comparison of the baseline and 8 variants on `benches/data/reference.toml` at 1 M trials:
//! one paired run (trial keys drawn once per batch, every variant on the same trials) against 9
//! separate runs. `cargo bench --bench compare`; read the two as a ratio.

use std::hint::black_box;
use std::sync::atomic::AtomicUsize;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use killchain::engine::Plan;
use killchain::scenario::Scenario;
use killchain::sim::{ArmResult, Schedule, Session};

const TRIALS: u64 = 1_000_000;

fn plans() -> Vec<Plan> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/data/reference.toml");
    let text = std::fs::read_to_string(path).expect("benchmark scenario");
    let base = Scenario::from_toml(&text, path).unwrap_or_else(|d| panic!("{d}"));
    // Variants: each of the first 8 controls switched off alone.
    let mut plans = vec![Plan::new(&base)];
    for i in 0..8 {
        let mut v = base.clone();
        v.controls[i].enabled = false;
        plans.push(Plan::new(&v));
    }
    plans
}

/// Plays `plans` on the same trials in a one-worker session, as `killchain compare` does.
fn play(plans: &[Plan], seed: u64) -> Vec<ArmResult> {
    let stop = AtomicUsize::new(0);
    let session = Session::new(Some(1), &stop).expect("a worker pool");
    let schedule = Schedule::new(None, seed, TRIALS, None);
    session.play(plans, &schedule).expect("not stopped")
}

fn compare(c: &mut Criterion) {
    let plans = plans();
    let mut g = c.benchmark_group("baseline+8 variants, 1M trials, 1 thread");
    g.throughput(Throughput::Elements(TRIALS * plans.len() as u64));
    g.sample_size(10);
    g.bench_function("paired run", |b| {
        b.iter(|| play(&plans, black_box(20240601)))
    });
    g.bench_function("9 separate runs", |b| {
        b.iter(|| {
            plans
                .iter()
                .map(|p| play(std::slice::from_ref(p), black_box(20240601)))
                .collect::<Vec<_>>()
        })
    });
    g.finish();
}

criterion_group!(benches, compare);
criterion_main!(benches);
