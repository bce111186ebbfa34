//! Random valid scenarios for property tests.

use proptest::prelude::*;

pub const PHASES: [&str; 7] = [
    "reconnaissance",
    "weaponization",
    "delivery",
    "exploitation",
    "installation",
    "command_and_control",
    "actions_on_objectives",
];
pub const ACTIONS: [&str; 6] = ["detect", "deny", "disrupt", "degrade", "deceive", "destroy"];

/// A technique: (weight, success, needs the `flag` fact to be false).
type Tech = (f64, f64, bool);
/// A control: (action index, phase index, effectiveness, response, enabled).
type Ctrl = (usize, usize, f64, f64, bool);

fn probability() -> impl Strategy<Value = f64> {
    prop_oneof![Just(0.0), Just(1.0), 0.0..=1.0f64]
}

/// TOML text of a random valid scenario.
pub fn scenario() -> impl Strategy<Value = String> {
    let tech = (0.1..5.0f64, probability(), any::<bool>());
    let phases = prop::collection::vec(prop::collection::vec(tech, 1..4), 7);
    let ctrl = (
        0..6usize,
        0..7usize,
        probability(),
        probability(),
        any::<bool>(),
    );
    let controls = prop::collection::vec(ctrl, 0..10);
    (1..4u32, any::<bool>(), phases, controls).prop_map(|(max_attempts, flag, phases, controls)| {
        render(max_attempts, flag, &phases, &controls)
    })
}

fn render(max_attempts: u32, flag: bool, phases: &[Vec<Tech>], controls: &[Ctrl]) -> String {
    let mut s = format!(
        "[scenario]\nname = \"generated\"\n[environment]\nflag = {flag}\n[adversary]\nmax_attempts = {max_attempts}\n"
    );
    for (p, techs) in phases.iter().enumerate() {
        for (k, (w, succ, needs)) in techs.iter().enumerate() {
            s += &format!(
                "[[adversary.techniques]]\nid = \"t{p}-{k}\"\nphase = \"{}\"\nweight = {w:?}\nsuccess = {succ:?}\n",
                PHASES[p]
            );
            if *needs {
                s += "requires = [\"!flag\"]\n";
            }
        }
    }
    for (i, (a, p, eff, resp, enabled)) in controls.iter().enumerate() {
        s += &format!(
            "[[controls]]\nid = \"c{i}\"\naction = \"{}\"\nphases = [\"{}\"]\neffectiveness = {eff:?}\nenabled = {enabled}\n",
            ACTIONS[*a], PHASES[*p]
        );
        if matches!(ACTIONS[*a], "detect" | "deceive") {
            s += &format!("response = {resp:?}\n");
        }
    }
    s
}
