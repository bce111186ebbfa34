//! Arbitrary bytes through the scenario parser and validator; whatever validates is evaluated
//! exactly and simulated for a few trials. Any panic is a bug: bad input must come back as
//! diagnostics, and a valid scenario must run.
#![no_main]

use killchain::engine::{self, Plan};
use killchain::exact;
use killchain::scenario::Scenario;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(source) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(s) = Scenario::from_toml(source, "fuzz.toml") else {
        return;
    };
    let arms = std::iter::once(&s).chain(s.variants.iter().map(|v| &v.scenario));
    for arm in arms {
        let _ = exact::evaluate(arm);
        let _ = engine::run_range(&Plan::new(arm), 1, 0..64);
    }
});
