//! `killchain optimize` at the size its design targets: 16 candidate controls (65,536 portfolios),
//! 100,000 trials, exhaustive, on `benches/data/optimize-16.toml`, with 2 worker threads and with
//! 1; and the same with the expected annual loss as the objective
//! (`benches/data/optimize-16-loss.toml`, its `[loss]` table added), with 2 worker threads; and
//! both exactly (every phase enumerated once per subset of its candidates, then 65,536 products),
//! on the same run, so that the two methods' times compare; and exactly on a threat landscape of
//! three adversaries with attack paths and 16 candidates (`benches/data/landscape-16.toml`: per
//! adversary, phase, subset and path state one table entry, then 65,536 chains of three).
//! `cargo bench --bench optimize`.

use std::hint::black_box;
use std::sync::atomic::AtomicUsize;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use killchain::analysis::optimize::{self, Problem};
use killchain::scenario::Scenario;
use killchain::sim::Session;

/// Nobody stops a benchmark.
static STOP: AtomicUsize = AtomicUsize::new(0);

const TRIALS: u64 = 100_000;

fn problem() -> Problem {
    load(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/benches/data/optimize-16.toml"
    ))
}

fn landscape() -> Problem {
    load(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/benches/data/landscape-16.toml"
    ))
}

fn load(path: &str) -> Problem {
    let text = std::fs::read_to_string(path).expect("benchmark scenario");
    let s = Scenario::from_toml(&text, path).unwrap_or_else(|d| panic!("{d}"));
    let problem = Problem::new(&s).expect("a searchable scenario");
    assert_eq!(problem.n_candidates(), 16);
    problem
}

fn optimize(c: &mut Criterion) {
    let problem = problem();
    let mut g = c.benchmark_group("16 candidates, 65536 portfolios, 100k trials, exhaustive");
    g.throughput(Throughput::Elements(TRIALS << 16));
    g.sample_size(10);
    for threads in [2, 1] {
        let session = Session::new(Some(threads), &STOP).expect("a worker pool");
        g.bench_function(format!("{threads} threads"), |b| {
            b.iter(|| {
                session.run(|w| {
                    optimize::exhaustive(&problem, black_box(20261127), TRIALS, 250_000.0, w).ok()
                })
            })
        });
    }
    g.finish();

    let problem = load(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/benches/data/optimize-16-loss.toml"
    ));
    assert!(problem.loss_model().is_some());
    let mut g = c.benchmark_group(
        "16 candidates, 65536 portfolios, 100k trials, exhaustive, expected annual loss",
    );
    g.throughput(Throughput::Elements(TRIALS << 16));
    g.sample_size(10);
    let session = Session::new(Some(2), &STOP).expect("a worker pool");
    g.bench_function("2 threads", |b| {
        b.iter(|| {
            session.run(|w| {
                optimize::exhaustive(&problem, black_box(20261127), TRIALS, 250_000.0, w).ok()
            })
        })
    });
    g.finish();

    // The exact search: the phase tables and every portfolio, as `optimize --method exact` does.
    let mut g = c.benchmark_group("16 candidates, 65536 portfolios, exhaustive, exact");
    g.sample_size(20);
    for (name, problem) in [
        ("completion", self::problem()),
        ("expected annual loss", problem),
        (
            "landscape of 3 adversaries with attack paths, expected annual loss",
            landscape(),
        ),
    ] {
        g.bench_function(name, |b| {
            b.iter(|| {
                let phases = black_box(&problem).exact_phases().expect("enumerable");
                optimize::exhaustive_exact(&problem, &phases, 250_000.0).ok()
            })
        });
    }
    g.finish();
}

criterion_group!(benches, optimize);
criterion_main!(benches);
