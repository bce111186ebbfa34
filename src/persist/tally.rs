//! The lossless `tally.json` a shard writes, and the checks and sum that turn N shards back into
//! the run (the slices themselves are `sim::schedule::Shard`).
//!
//! Trial `i`'s numbers depend only on (seed, i), and a tally is a sum of integers, so the N
//! shards' tallies add up to exactly the tally of the whole run. Pure: reading and writing the
//! files is `app`'s business.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::scenario::Scenario;
use crate::sim::Schedule;
use crate::sim::schedule::Shard;
use crate::stats::Tally;
use crate::stats::loss::ArmLoss;

/// Version of the `tally.json` layout; bumped on any change that an older reader would misread.
pub const FORMAT_VERSION: u32 = 2;

/// The file a shard writes beside its CSV files.
pub const FILE_NAME: &str = "tally.json";

/// A shard's `tally.json`: what ran (with the scenario's whole text, so that `merge` needs
/// nothing else) and every count.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TallyFile {
    /// [`FORMAT_VERSION`] of the writer.
    pub format_version: u32,
    /// The killchain version that ran the shard.
    pub killchain_version: String,
    /// The scenario's name.
    pub scenario: String,
    /// The scenario file as the user named it.
    pub scenario_file: String,
    /// SHA-256 of the scenario file's bytes, lowercase hex.
    pub scenario_sha256: String,
    /// The scenario file's text.
    pub scenario_source: String,
    /// The run's seed.
    pub seed: u64,
    /// Trials of the whole run (all shards).
    pub trials: u64,
    /// K.
    pub shard: u64,
    /// N.
    pub shards: u64,
    /// First trial index of the shard.
    pub trial_start: u64,
    /// One past the last trial index of the shard.
    pub trial_end: u64,
    /// Worker threads the shard used.
    pub threads: usize,
    /// Wall-clock seconds the shard's simulation took.
    pub wall_time_seconds: f64,
    /// Every count of the shard's trials.
    pub tally: Tally,
    /// With `[loss]`: the annual losses of the shard's years (its slice is whole years, see
    /// `crate::sim::years`); absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loss: Option<ArmLoss>,
}

impl TallyFile {
    /// Pretty-printed JSON with a trailing newline.
    pub fn to_json(&self) -> Vec<u8> {
        let mut out = serde_json::to_vec_pretty(self)
            .unwrap_or_else(|e| panic!("serialising a tally cannot fail: {e}"));
        out.push(b'\n');
        out
    }

    /// Reads and checks one file: its format version, that the scenario text matches its
    /// SHA-256, and that the trial range and counts are those of the shard it claims to be.
    pub fn from_json(bytes: &[u8], sha256: impl Fn(&str) -> String) -> Result<TallyFile, String> {
        let value: serde_json::Value = serde_json::from_slice(bytes)
            .map_err(|e| format!("not valid JSON ({e}); is this a shard's tally.json?"))?;
        match value
            .get("format_version")
            .and_then(serde_json::Value::as_u64)
        {
            Some(v) if v == u64::from(FORMAT_VERSION) => {}
            Some(v) => {
                return Err(format!(
                    "tally format version {v}; this killchain reads version {FORMAT_VERSION}"
                ));
            }
            None => return Err("no format_version: not a killchain tally.json".to_owned()),
        }
        let f: TallyFile =
            serde_json::from_value(value).map_err(|e| format!("not a valid tally file: {e}"))?;
        let shard = Shard::new(f.shard, f.shards)?;
        if sha256(&f.scenario_source) != f.scenario_sha256 {
            return Err(
                "the embedded scenario text does not match its SHA-256; the file was altered"
                    .to_owned(),
            );
        }
        // With [loss], shards are cut on year boundaries; `merge`'s caller checks those ranges
        // against the scenario's years.
        let range = match f.loss {
            None => shard.range(f.trials),
            Some(_) => f.trial_start..f.trial_end,
        };
        if (f.trial_start..f.trial_end) != range || f.tally.trials != range.end - range.start {
            return Err(format!(
                "shard {shard} of {} trials covers trials {}..{}, but the file holds {} trials for {}..{}; the file was altered",
                f.trials, range.start, range.end, f.tally.trials, f.trial_start, f.trial_end
            ));
        }
        Ok(f)
    }
}

/// Checks that `files` (each with the name to report it by) are all N shards of one run of `s`
/// (the scenario they embed), each once, with tallies shaped for its controls and techniques and,
/// with `[loss]`, each covering the whole years its slice of the schedule holds; sums their
/// tallies (and their annual losses, when they have them). Every problem found is returned.
pub fn merge(
    files: &[(String, TallyFile)],
    s: &Scenario,
) -> Result<(Tally, Option<ArmLoss>), Vec<String>> {
    let (n_controls, n_techniques) = (s.controls.len(), s.techniques.len());
    let Some((first_name, first)) = files.first() else {
        return Err(vec!["no shards to merge".to_owned()]);
    };
    let mut problems = Vec::new();
    let mut seen: Vec<Option<&str>> = vec![None; usize::try_from(first.shards).unwrap_or(0)];
    for (name, f) in files {
        let differs = |what: &str, here: &dyn fmt::Display, there: &dyn fmt::Display| {
            format!(
                "{name}: {what} {here} differs from {there} in {first_name}; shards of one run share the killchain version, scenario, seed, trials and shard count"
            )
        };
        let mut belongs = true;
        if f.killchain_version != first.killchain_version {
            problems.push(differs(
                "killchain version",
                &f.killchain_version,
                &first.killchain_version,
            ));
            belongs = false;
        }
        if f.scenario_sha256 != first.scenario_sha256 {
            problems.push(differs(
                "scenario SHA-256",
                &f.scenario_sha256,
                &first.scenario_sha256,
            ));
            belongs = false;
        }
        for (what, here, there) in [
            ("seed", f.seed, first.seed),
            ("trials", f.trials, first.trials),
            ("shard count", f.shards, first.shards),
        ] {
            if here != there {
                problems.push(differs(what, &here, &there));
                belongs = false;
            }
        }
        let t = &f.tally;
        if t.control_fired.len() != n_controls
            || t.control_breaks.len() != n_controls
            || t.techniques.len() != n_techniques
        {
            problems.push(format!(
                "{name}: counts for {} controls and {} techniques, but the scenario has {n_controls} and {n_techniques}; the file was altered",
                t.control_fired.len(),
                t.techniques.len()
            ));
            belongs = false;
        }
        if !belongs {
            continue;
        }
        let slot = &mut seen[(f.shard - 1) as usize];
        match slot {
            Some(other) => problems.push(format!(
                "{name}: shard {}/{} again (also {other}); give each shard's folder once",
                f.shard, f.shards
            )),
            None => *slot = Some(name),
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let missing: Vec<String> = (1..=first.shards)
        .filter(|k| seen[(k - 1) as usize].is_none())
        .map(|k| k.to_string())
        .collect();
    if !missing.is_empty() {
        return Err(vec![format!(
            "shard{} {} of {} missing; merge needs the folders of all {} shards",
            if missing.len() == 1 { "" } else { "s" },
            missing.join(", "),
            first.shards,
            first.shards
        )]);
    }
    let mut total = Tally::new(n_controls, n_techniques);
    let mut loss = first.loss.as_ref().map(|_| ArmLoss::default());
    for (name, f) in files {
        total += &f.tally;
        match (&mut loss, &f.loss) {
            (Some(sum), Some(l)) => *sum += l,
            (None, None) => {}
            _ => problems.push(format!(
                "{name}: annual losses present in some shards and not in others; the file was altered"
            )),
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    if let Some(model) = &s.loss {
        // Shards of a run with [loss] are whole years: check each slice against the years
        // (a walk bounded by the limit on such runs, which `run` enforces too).
        crate::sim::schedule::check_trials(Some(model), first.trials)
            .map_err(|e| vec![format!("{first_name}: {e}; no run writes such a shard")])?;
        for (name, f) in files {
            let k = Shard::new(f.shard, f.shards).map_err(|e| vec![e])?;
            let range = Schedule::new(Some(model), first.seed, f.trials, Some(k)).range();
            if (f.trial_start..f.trial_end) != range || f.loss.is_none() {
                problems.push(format!(
                    "{name}: shard {k} of {} trials covers trials {}..{} (whole years), but the file holds {}..{}; the file was altered",
                    f.trials, range.start, range.end, f.trial_start, f.trial_end
                ));
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
    }
    Ok((total, loss))
}
