//! Exact evaluation time of every shipped scenario and the benchmark scenario (goal: well under
//! 10 ms each). `cargo bench --bench exact`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use killchain::exact;
use killchain::scenario::Scenario;

fn load(rel: &str) -> Scenario {
    let path = format!("{}/{rel}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).expect("scenario file");
    Scenario::from_toml(&text, &path).unwrap_or_else(|d| panic!("{d}"))
}

fn exact_evaluation(c: &mut Criterion) {
    let mut g = c.benchmark_group("exact");
    for rel in [
        "benches/data/reference.toml",
        "scenarios/ransomware-midsize.toml",
        "scenarios/saas-credential-phishing.toml",
        "scenarios/industrial-state-actor.toml",
    ] {
        let s = load(rel);
        g.bench_function(rel, |b| b.iter(|| exact::evaluate(black_box(&s)).unwrap()));
    }
    g.finish();
}

criterion_group!(benches, exact_evaluation);
criterion_main!(benches);
