//! The lossless `tally.json` a shard writes, and the checks and sum that turn N shards back into
//! the run (the slices themselves are `sim::schedule::Shard`).
//!
//! Trial `i`'s numbers depend only on (seed, i), and a tally is a sum of integers, so the N
//! shards' tallies add up to exactly the tally of the whole run. Pure: reading and writing the
//! files is `app`'s business.
//!
//! Invariant: the file's layout is this module's own wire types (not the stats types' field
//! names), sealed by `content_sha256`, a SHA-256 over the canonical form of every other field;
//! a file is used only after its digest, its scenario's SHA-256, the identities of
//! [`super::audit`] and its place among the other shards are checked; every sum is checked
//! arithmetic; nothing is allocated by a size read from a file.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::scenario::Scenario;
use crate::sim::Schedule;
use crate::sim::schedule::Shard;
use crate::stats::Tally;
use crate::stats::loss::{ArmLoss, LossTally, N_BINS, PairedLoss};
use crate::stats::{Counts, TechniqueCounts};

use super::audit;

/// Version of the `tally.json` layout; bumped on any change that an older reader would misread.
/// Version 3 added `content_sha256`; a reader refuses every other version.
pub const FORMAT_VERSION: u32 = 3;

/// The file a shard writes beside its CSV files.
pub const FILE_NAME: &str = "tally.json";

/// The field holding the digest of the rest of the file.
pub const DIGEST_FIELD: &str = "content_sha256";

/// Lines of problems `merge` reports at most; the rest are counted in one last line.
pub const MAX_PROBLEMS: usize = 50;

/// Runs of missing shards named at most in one message (the rest are counted).
const MAX_MISSING_RUNS: usize = 10;

/// Wall-clock seconds a shard may claim at most (about 31,700 years).
const MAX_WALL_SECONDS: f64 = 1e12;

/// A shard's `tally.json`: what ran (with the scenario's whole text, so that `merge` needs
/// nothing else) and every count.
#[derive(Debug, Clone, PartialEq)]
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
    pub loss: Option<ArmLoss>,
}

/// SHA-256 of `bytes`, lowercase hex.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The file as written: every field but the digest, in this order (the canonical form the
/// digest is taken over is this struct as compact JSON).
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Content {
    format_version: u32,
    killchain_version: String,
    scenario: String,
    scenario_file: String,
    scenario_sha256: String,
    scenario_source: String,
    seed: u64,
    trials: u64,
    shard: u64,
    shards: u64,
    trial_start: u64,
    trial_end: u64,
    threads: u64,
    wall_time_seconds: f64,
    tally: WireCounts,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    loss: Option<WireLoss>,
}

/// The content followed by its digest, as the file holds them.
#[derive(Serialize)]
struct Sealed<'a> {
    #[serde(flatten)]
    content: &'a Content,
    content_sha256: String,
}

/// `stats::Counts<u64>` in the file.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireCounts {
    trials: u64,
    reached: [u64; 7],
    broken: [u64; 7],
    completed: u64,
    control_fired: Vec<u64>,
    control_breaks: Vec<u64>,
    breaks_technique_failed: u64,
    breaks_no_viable: u64,
    techniques: Vec<WireTechnique>,
}

/// `stats::TechniqueCounts<u64>` in the file.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireTechnique {
    attempts: u64,
    prevented: u64,
    deceived: u64,
    interrupted: u64,
    failed: u64,
    succeeded: u64,
    detected: u64,
    evicted: u64,
}

/// `stats::loss::ArmLoss` in the file.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireLoss {
    tally: WireLossTally,
    paired: WirePaired,
}

/// A `LossTally`: the histogram as `[bin, count]` pairs of its nonzero bins in increasing
/// order, and the 128-bit sums as decimal strings (JSON readers often hold numbers as doubles).
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireLossTally {
    years: u64,
    zero_years: u64,
    sum: String,
    sum_sq: String,
    bins: Vec<(u64, u64)>,
}

/// A `PairedLoss`, its sums as decimal strings.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WirePaired {
    years: u64,
    sum_d: String,
    sum_d2: String,
}

/// `$to` with the eight counts of one technique taken from `$c` (the wire type and the stats
/// type name them alike; the list is written once, here).
macro_rules! technique_counts {
    ($c:expr => $to:ident) => {
        $to {
            attempts: $c.attempts,
            prevented: $c.prevented,
            deceived: $c.deceived,
            interrupted: $c.interrupted,
            failed: $c.failed,
            succeeded: $c.succeeded,
            detected: $c.detected,
            evicted: $c.evicted,
        }
    };
}

impl From<&Tally> for WireCounts {
    fn from(t: &Tally) -> Self {
        WireCounts {
            trials: t.trials,
            reached: t.reached,
            broken: t.broken,
            completed: t.completed,
            control_fired: t.control_fired.clone(),
            control_breaks: t.control_breaks.clone(),
            breaks_technique_failed: t.breaks_technique_failed,
            breaks_no_viable: t.breaks_no_viable,
            techniques: t
                .techniques
                .iter()
                .map(|c| technique_counts!(c => WireTechnique))
                .collect(),
        }
    }
}

impl From<WireCounts> for Tally {
    fn from(w: WireCounts) -> Self {
        Counts {
            trials: w.trials,
            reached: w.reached,
            broken: w.broken,
            completed: w.completed,
            control_fired: w.control_fired,
            control_breaks: w.control_breaks,
            breaks_technique_failed: w.breaks_technique_failed,
            breaks_no_viable: w.breaks_no_viable,
            techniques: w
                .techniques
                .into_iter()
                .map(|c| technique_counts!(c => TechniqueCounts))
                .collect(),
        }
    }
}

impl From<&ArmLoss> for WireLoss {
    fn from(l: &ArmLoss) -> Self {
        let t = &l.tally;
        WireLoss {
            tally: WireLossTally {
                years: t.years,
                zero_years: t.zero_years,
                sum: t.sum.to_string(),
                sum_sq: t.sum_sq.to_string(),
                bins: (t.bins.iter().enumerate())
                    .filter(|(_, k)| **k > 0)
                    .map(|(b, k)| (b as u64, *k))
                    .collect(),
            },
            paired: WirePaired {
                years: l.paired.years,
                sum_d: l.paired.sum_d.to_string(),
                sum_d2: l.paired.sum_d2.to_string(),
            },
        }
    }
}

/// A decimal integer exactly as killchain writes it (no sign, leading zero or spaces), so that
/// one value has one spelling.
fn decimal<T: std::str::FromStr + ToString>(x: &str, what: &str) -> Result<T, String> {
    x.parse::<T>()
        .ok()
        .filter(|v| v.to_string() == x)
        .ok_or_else(|| format!("{what} {x:?} is not an integer as killchain writes it"))
}

impl TryFrom<WireLoss> for ArmLoss {
    type Error = String;

    fn try_from(w: WireLoss) -> Result<Self, String> {
        let s = w.tally;
        let mut t = LossTally {
            years: s.years,
            zero_years: s.zero_years,
            sum: decimal(&s.sum, "loss sum")?,
            sum_sq: decimal(&s.sum_sq, "loss sum_sq")?,
            ..LossTally::default()
        };
        let mut previous = 0;
        let mut counted = u128::from(t.zero_years);
        for (b, k) in s.bins {
            if b <= previous || b >= N_BINS as u64 || k == 0 {
                return Err(format!(
                    "loss histogram entry [{b}, {k}]: bins run from 1 to {} in increasing order, each once with a positive count",
                    N_BINS - 1
                ));
            }
            previous = b;
            t.bins[b as usize] = k;
            counted += u128::from(k);
        }
        if counted != u128::from(t.years) {
            return Err(format!(
                "loss histogram holds {counted} years but years is {}",
                t.years
            ));
        }
        let paired = PairedLoss {
            years: w.paired.years,
            sum_d: decimal(&w.paired.sum_d, "paired sum_d")?,
            sum_d2: decimal(&w.paired.sum_d2, "paired sum_d2")?,
            // A run's differences are all zero (checked by the audit), so is their Σ d³.
            sum_d3: ethnum::I256::ZERO,
        };
        Ok(ArmLoss { tally: t, paired })
    }
}

impl TallyFile {
    fn content(&self) -> Content {
        Content {
            format_version: self.format_version,
            killchain_version: self.killchain_version.clone(),
            scenario: self.scenario.clone(),
            scenario_file: self.scenario_file.clone(),
            scenario_sha256: self.scenario_sha256.clone(),
            scenario_source: self.scenario_source.clone(),
            seed: self.seed,
            trials: self.trials,
            shard: self.shard,
            shards: self.shards,
            trial_start: self.trial_start,
            trial_end: self.trial_end,
            threads: self.threads as u64,
            wall_time_seconds: self.wall_time_seconds,
            tally: WireCounts::from(&self.tally),
            loss: self.loss.as_ref().map(WireLoss::from),
        }
    }

    /// Pretty-printed JSON with a trailing newline, sealed with [`DIGEST_FIELD`].
    pub fn to_json(&self) -> Vec<u8> {
        seal(&self.content())
    }

    /// Reads and checks one file: its format version, its digest, that the scenario text
    /// matches its SHA-256, and that the trial range and counts are those of the shard it
    /// claims to be. The counts are checked against the scenario by [`merge`].
    pub fn from_json(bytes: &[u8]) -> Result<TallyFile, String> {
        let (content, digest) = unseal(bytes)?;
        if digest != content_digest(&content) {
            return Err(format!(
                "{DIGEST_FIELD} does not match the file's content; the file was damaged or altered after the shard wrote it"
            ));
        }
        let c = content;
        let shard = Shard::new(c.shard, c.shards)?;
        if sha256_hex(c.scenario_source.as_bytes()) != c.scenario_sha256 {
            return Err(
                "the embedded scenario text does not match its SHA-256; the file was altered"
                    .to_owned(),
            );
        }
        let threads = usize::try_from(c.threads)
            .ok()
            .filter(|&t| t >= 1)
            .ok_or_else(|| format!("threads {} is not a thread count", c.threads))?;
        if !(0.0..=MAX_WALL_SECONDS).contains(&c.wall_time_seconds) {
            return Err(format!(
                "wall_time_seconds {} is not between 0 and {MAX_WALL_SECONDS:e}; the file was altered",
                c.wall_time_seconds
            ));
        }
        // With [loss], shards are cut on year boundaries; `merge` checks those ranges against
        // the scenario's years.
        let range = match c.loss {
            None => shard.range(c.trials),
            Some(_) => c.trial_start..c.trial_end,
        };
        let counted = range.end.checked_sub(range.start);
        if (c.trial_start..c.trial_end) != range
            || c.trial_end > c.trials
            || counted != Some(c.tally.trials)
        {
            return Err(format!(
                "shard {shard} of {} trials covers trials {}..{}, but the file holds {} trials for {}..{}; the file was altered",
                c.trials, range.start, range.end, c.tally.trials, c.trial_start, c.trial_end
            ));
        }
        Ok(TallyFile {
            format_version: c.format_version,
            killchain_version: c.killchain_version,
            scenario: c.scenario,
            scenario_file: c.scenario_file,
            scenario_sha256: c.scenario_sha256,
            scenario_source: c.scenario_source,
            seed: c.seed,
            trials: c.trials,
            shard: c.shard,
            shards: c.shards,
            trial_start: c.trial_start,
            trial_end: c.trial_end,
            threads,
            wall_time_seconds: c.wall_time_seconds,
            tally: Tally::from(c.tally),
            loss: c.loss.map(ArmLoss::try_from).transpose()?,
        })
    }
}

/// The SHA-256 of `c`'s canonical form (compact JSON, fields in [`Content`]'s order).
fn content_digest(c: &Content) -> String {
    let canonical =
        serde_json::to_vec(c).unwrap_or_else(|e| panic!("serialising a tally cannot fail: {e}"));
    sha256_hex(&canonical)
}

/// `c` as the file: pretty JSON, its digest last, a trailing newline.
fn seal(c: &Content) -> Vec<u8> {
    let sealed = Sealed {
        content: c,
        content_sha256: content_digest(c),
    };
    let mut out = serde_json::to_vec_pretty(&sealed)
        .unwrap_or_else(|e| panic!("serialising a tally cannot fail: {e}"));
    out.push(b'\n');
    out
}

/// The content of a file of this format and the digest it states (not yet compared).
fn unseal(bytes: &[u8]) -> Result<(Content, String), String> {
    let mut value: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| format!("not valid JSON ({e}); is this a shard's tally.json?"))?;
    match value
        .get("format_version")
        .and_then(serde_json::Value::as_u64)
    {
        Some(v) if v == u64::from(FORMAT_VERSION) => {}
        Some(v) => {
            return Err(format!(
                "tally format version {v}; this killchain reads version {FORMAT_VERSION} only: run the shards again with this killchain"
            ));
        }
        None => return Err("no format_version: not a killchain tally.json".to_owned()),
    }
    let digest = match value.as_object_mut().and_then(|o| o.remove(DIGEST_FIELD)) {
        Some(serde_json::Value::String(d)) => d,
        _ => {
            return Err(format!(
                "no {DIGEST_FIELD} (the digest of the file's content) as a string; the file was damaged or altered"
            ));
        }
    };
    let content: Content =
        serde_json::from_value(value).map_err(|e| format!("not a valid tally file: {e}"))?;
    Ok((content, digest))
}

/// `bytes` with its digest recomputed over its content, as an attacker who edits counts would
/// do (used by the fuzz target and the tests, to reach the checks past the digest); `None` when
/// the bytes are not a tally file of this format.
pub(crate) fn reseal(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut value: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    value.as_object_mut()?.remove(DIGEST_FIELD);
    let content: Content = serde_json::from_value(value).ok()?;
    Some(seal(&content))
}

/// `problems`, at most [`MAX_PROBLEMS`] of them, the rest counted in one last line.
pub fn capped(mut problems: Vec<String>) -> Vec<String> {
    if problems.len() > MAX_PROBLEMS {
        let more = problems.len() - (MAX_PROBLEMS - 1);
        let total = problems.len();
        problems.truncate(MAX_PROBLEMS - 1);
        problems.push(format!("and {more} more problems ({total} in all)"));
    }
    problems
}

/// The shards of `1..=n` not in `present` (sorted, distinct, each in `1..=n`), as a message:
/// runs of three or more as `a..b` (inclusive), at most [`MAX_MISSING_RUNS`] runs named; `None`
/// when none is missing. Time and memory grow with `present`, never with `n`.
fn missing_shards(present: &[u64], n: u64) -> Option<String> {
    let mut runs: Vec<(u64, u64)> = Vec::new();
    let mut missing = 0u128;
    let mut next = 1u128;
    for k in present
        .iter()
        .map(|&k| u128::from(k))
        .chain([u128::from(n) + 1])
    {
        if k > next {
            runs.push((next as u64, (k - 1) as u64));
            missing += k - next;
        }
        next = k + 1;
    }
    if runs.is_empty() {
        return None;
    }
    let mut named: Vec<String> = Vec::new();
    for &(a, b) in runs.iter().take(MAX_MISSING_RUNS) {
        match b - a {
            0 => named.push(a.to_string()),
            1 => named.extend([a.to_string(), b.to_string()]),
            _ => named.push(format!("{a}..{b}")),
        }
    }
    let mut list = named.join(", ");
    if runs.len() > MAX_MISSING_RUNS {
        let more = runs.len() - MAX_MISSING_RUNS;
        let runs = if more == 1 { "run" } else { "runs" };
        list.push_str(&format!(" and {more} more {runs}"));
    }
    let count = if missing > named.len() as u128 {
        format!(" ({missing} shards)")
    } else {
        String::new()
    };
    Some(format!(
        "shard{} {list} of {n} missing{count}; merge needs the folders of all {n} shards",
        if missing > 1 { "s" } else { "" },
    ))
}

/// Checks that `files` (each with the name to report it by) are all N shards of one run of `s`
/// (the scenario they embed), each once, with counts shaped for its controls and techniques
/// that satisfy every identity of an honest tally ([`super::audit`]) and, with `[loss]`, each
/// covering the whole years its slice of the schedule holds; sums their tallies (and their
/// annual losses, when they have them) with checked arithmetic. Every problem found is
/// returned; time and memory grow with the files given, never with a count read from them.
pub fn merge(
    files: &[(String, TallyFile)],
    s: &Scenario,
) -> Result<(Tally, Option<ArmLoss>), Vec<String>> {
    let (n_controls, n_techniques) = (s.controls.len(), s.techniques.len());
    let Some((first_name, first)) = files.first() else {
        return Err(vec!["no shards to merge".to_owned()]);
    };
    let mut problems = Vec::new();
    let mut seen: BTreeMap<u64, &str> = BTreeMap::new();
    for (name, f) in files {
        let differs = |what: &str, here: &dyn fmt::Display, there: &dyn fmt::Display| {
            format!(
                "{name}: {what} {here} differs from {there} in {first_name}; shards of one run share the killchain version, scenario, seed, trials and shard count"
            )
        };
        let altered = |what: String| format!("{name}: {what}; the file was altered");
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
        if !belongs {
            continue;
        }
        if f.scenario != s.name {
            problems.push(altered(format!(
                "scenario name {:?} is not that of the embedded scenario, {:?}",
                f.scenario, s.name
            )));
            continue;
        }
        let t = &f.tally;
        if t.control_fired.len() != n_controls
            || t.control_breaks.len() != n_controls
            || t.techniques.len() != n_techniques
        {
            problems.push(altered(format!(
                "counts for {} controls and {} techniques, but the scenario has {n_controls} and {n_techniques}",
                t.control_fired.len(),
                t.techniques.len()
            )));
            continue;
        }
        let mut wrong = audit::tally_problems(t, s);
        match (&f.loss, &s.loss) {
            (Some(l), Some(_)) => wrong.extend(audit::loss_problems(l, t)),
            (None, None) => {}
            (Some(_), None) => {
                wrong.push("annual losses, but the scenario has no [loss]".to_owned());
            }
            (None, Some(_)) => {
                wrong.push("no annual losses, but the scenario has [loss]".to_owned())
            }
        }
        if !wrong.is_empty() {
            problems.extend(
                wrong
                    .into_iter()
                    .map(|w| altered(format!("counts do not add up: {w}"))),
            );
            continue;
        }
        match seen.get(&f.shard) {
            Some(other) => problems.push(format!(
                "{name}: shard {}/{} again (also {other}); give each shard's folder once",
                f.shard, f.shards
            )),
            None => {
                seen.insert(f.shard, name);
            }
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let present: Vec<u64> = seen.keys().copied().collect();
    if let Some(missing) = missing_shards(&present, first.shards) {
        return Err(vec![missing]);
    }
    let mut total = Tally::new(n_controls, n_techniques);
    let mut loss = s.loss.as_ref().map(|_| ArmLoss::default());
    for (name, f) in files {
        let summed = total
            .try_add(&f.tally)
            .and_then(|()| match (&mut loss, &f.loss) {
                (Some(sum), Some(l)) => sum.try_add(l),
                _ => Ok(()),
            });
        if let Err(e) = summed {
            return Err(vec![format!(
                "{name}: {e} when added to the shards before it; no honest run counts that much, so a file was altered"
            )]);
        }
    }
    if let Some(model) = &s.loss {
        // Shards of a run with [loss] are whole years: check each slice, and its count of
        // years, against the years (a walk bounded by the limit on such runs, which `run`
        // enforces too).
        crate::sim::schedule::check_trials(Some(model), first.trials)
            .map_err(|e| vec![format!("{first_name}: {e}; no run writes such a shard")])?;
        for (name, f) in files {
            let k = Shard::new(f.shard, f.shards).map_err(|e| vec![e])?;
            let schedule = Schedule::new(Some(model), first.seed, f.trials, Some(k));
            let range = schedule.range();
            if (f.trial_start..f.trial_end) != range {
                problems.push(format!(
                    "{name}: shard {k} of {} trials covers trials {}..{} (whole years), but the file holds {}..{}; the file was altered",
                    f.trials, range.start, range.end, f.trial_start, f.trial_end
                ));
                continue;
            }
            let years = schedule.counted_years();
            let counted = f.loss.as_ref().map_or(0, |l| l.tally.years);
            if counted != years {
                problems.push(format!(
                    "{name}: shard {k} holds {years} whole years, but the file counts the losses of {counted}; the file was altered"
                ));
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
    }
    Ok((total, loss))
}
