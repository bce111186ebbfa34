//! A comparison of the baseline and 8 variants on `benches/data/reference.toml` at 1 M trials:
//! one paired run (trial keys drawn once per batch, every variant on the same trials) against 9
//! separate runs. `cargo bench --bench compare`; read the two as a ratio.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use killchain::engine::{self, Plan};
use killchain::scenario::Scenario;

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

fn compare(c: &mut Criterion) {
    let plans = plans();
    let mut g = c.benchmark_group("baseline+8 variants, 1M trials, 1 thread");
    g.throughput(Throughput::Elements(TRIALS * plans.len() as u64));
    g.sample_size(10);
    g.bench_function("paired run", |b| {
        b.iter(|| engine::run_paired(&plans, black_box(20240601), TRIALS, Some(1)).unwrap())
    });
    g.bench_function("9 separate runs", |b| {
        b.iter(|| {
            plans
                .iter()
                .map(|p| engine::run(p, black_box(20240601), TRIALS, Some(1)).unwrap())
                .collect::<Vec<_>>()
        })
    });
    g.finish();
}

criterion_group!(benches, compare);
criterion_main!(benches);
