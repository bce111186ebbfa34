//! `killchain compare` and `killchain rank`: arms played on the same trials (or evaluated
//! exactly), the paired differences between them, and the ranking of one-control switches.
//!
//! Invariant: Monte Carlo arms are played at most `ARMS_PER_PASS` at a time after the reference
//! arm (`play_in_passes`), so the engine's per-arm plans and accumulators exist for one pass at
//! a time; rank keeps a few numbers per control, never a switched scenario, plan or counts.

use std::path::{Path, PathBuf};

use crate::analysis::arms::{
    Arm, ArmSummary, POWER_PILOT_TRIALS, discordance_bound, paired_table, pilot_discordance,
    pilot_seed, plays_alike,
};
use crate::analysis::rank::{self, SwitchEffect};
use crate::cli::{CompareArgs, MethodArg, RankArgs, SimOptions};
use crate::money::LossModel;
use crate::report::{self, Arms, Figures, LossFigures};
use crate::scenario::{self, BASELINE, LoadedScenario, Scenario};
use crate::sim::engine::Plan;
use crate::sim::exact::TooLarge;
use crate::sim::{ArmResult, Schedule, Session, Stopped, exact};
use crate::stats::{COMPLETED, Counts, sidak_z};

use super::destination::{self, Destination, Replaces};
use super::settings::Settings;
use super::{Failure, interrupt, io, progress, publish};

/// `killchain compare`.
pub(super) fn compare(args: &CompareArgs) -> Result<(), Failure> {
    let loaded = io::load_all(&args.scenarios)?;
    if loaded.iter().any(|l| l.scenario.is_landscape()) {
        return super::landscape::compare(args, &loaded);
    }
    let base = &loaded[0];
    let (named, dir): (Vec<(String, &Scenario)>, PathBuf) = match &loaded[..] {
        [one] => {
            if one.scenario.variants.is_empty() {
                return Err(Failure::Input(vec![format!(
                    "{}: no [[variants]] to compare; add some, or give a second scenario file to compare with",
                    one.path
                )]));
            }
            let mut named = vec![(BASELINE.to_owned(), &one.scenario)];
            named.extend(
                one.scenario
                    .variants
                    .iter()
                    .map(|v| (v.name.clone(), &v.scenario)),
            );
            (
                named,
                destination::output_dir(&args.sim.output.out, &one.path)?,
            )
        }
        [a, b] => {
            if a.scenario.loss != b.scenario.loss {
                return Err(Failure::Input(vec![format!(
                    "{} and {}: the two scenarios must have the same [loss] table (or none) to be compared year by year",
                    a.path, b.path
                )]));
            }
            if let Some(diff) = scenario::id_difference(&a.scenario, &b.scenario) {
                return Err(Failure::Input(vec![format!(
                    "{} and {}: the two scenarios must have the same technique and control ids to be compared trial by trial; {diff}",
                    a.path, b.path
                )]));
            }
            let (sa, sb) = (destination::stem(&a.path)?, destination::stem(&b.path)?);
            let pair = format!("{sa}-vs-{sb}");
            let source = format!("{} and {}", a.path, b.path);
            let dir = args
                .sim
                .output
                .out
                .join(destination::component(&pair, &source)?);
            (
                vec![(BASELINE.to_owned(), &a.scenario), (sb, &b.scenario)],
                dir,
            )
        }
        _ => unreachable!("clap takes one or two scenario files"),
    };
    let scenarios: Vec<&Scenario> = named.iter().map(|(_, s)| *s).collect();
    let destination = Destination::prepare(&dir, Replaces::Run)?;
    let (arms, seed, pilot) = summarize_arms(named, args, base, &dir, &|seed| seed)?;
    let name = &base.scenario.name;
    let with_scenario: Vec<(&str, &Scenario, &Figures)> = arms
        .iter()
        .zip(&scenarios)
        .map(|(a, s)| (a.name.as_str(), *s, &a.figures))
        .collect();
    let by_variant = Arms::Comparison(&with_scenario);
    let mut files = vec![
        ("phases.csv", report::phases_csv(name, seed, &by_variant)),
        ("comparison.csv", report::comparison_csv(name, seed, &arms)),
        (
            "phase_deltas.csv",
            report::phase_deltas_csv(name, seed, &arms),
        ),
        ("controls.csv", report::controls_csv(name, &by_variant)),
        ("techniques.csv", report::techniques_csv(name, &by_variant)),
    ];
    let curves: Vec<(&str, &LossFigures)> = arms
        .iter()
        .filter_map(|a| a.loss.as_ref().map(|l| (a.name.as_str(), l)))
        .collect();
    if !curves.is_empty() {
        files.push(("loss_exceedance.csv", report::loss_exceedance_csv(&curves)));
    }
    let mut facts: Vec<(&str, String)> = loaded
        .iter()
        .flat_map(|l| {
            [
                ("scenario file", l.path.clone()),
                ("scenario SHA-256", io::sha256_hex(&l.source)),
            ]
        })
        .collect();
    if let Some(pilot) = pilot {
        facts.push(("seed of the power pilot", pilot.to_string()));
    }
    let table = (!args.sim.output.quiet).then(|| {
        let mut table = report::comparison_table(name, seed, &arms);
        if let Some(pilot) = pilot {
            table += &format!(
                "trials a Monte Carlo run needs: from the trials that differ in a paired pilot of {} (seed {pilot}), at the upper end of their 95 % interval\n",
                report::counted(POWER_PILOT_TRIALS, "trial", "trials")
            );
        }
        table
    });
    // The renderings read the CSV files alone: the scenarios and the arms' figures go first.
    drop(curves);
    drop(with_scenario);
    drop(arms);
    drop(scenarios);
    drop(loaded);
    let rendered = publish::render(&files, args.export, &dir, facts)?;
    files.extend(rendered);
    destination.publish(&files)?;
    if let Some(table) = table {
        io::say(&format!("{table}wrote {}\n", dir.display()))?;
    }
    Ok(())
}

/// Every arm's summary, the seed of the Monte Carlo trials they were played on (none for exact
/// evaluation) and the seed of an exact comparison's power pilot (see [`power_pilot`]).
pub(super) type Summaries = (Vec<ArmSummary>, Option<u64>, Option<u64>);

/// Every arm's summary by the method asked for: paired Monte Carlo trials (with the seed used)
/// or exact evaluation (no seed, and the seed of its power pilot when one was played). Auto evaluates each arm exactly once and keeps those results
/// when every arm allows it; else it says why and plays the trials. `seed_for` maps the
/// resolved seed to the one played (a landscape adversary's, see `rng::adversary_seed`).
pub(super) fn summarize_arms(
    named: Vec<(String, &Scenario)>,
    args: &CompareArgs,
    base: &LoadedScenario,
    dir: &Path,
    seed_for: &dyn Fn(u64) -> u64,
) -> Result<Summaries, Failure> {
    let (sim, min_effect) = (&args.sim, args.min_effect);
    let show = !sim.output.quiet;
    let evaluated = || -> Result<Vec<Counts<f64>>, (String, TooLarge)> {
        named
            .iter()
            .map(|(name, s)| exact::evaluate(s).map_err(|e| (name.clone(), e)))
            .collect()
    };
    let mut out_of_reach = None;
    let exact_results =
        match sim.method {
            MethodArg::MonteCarlo => None,
            MethodArg::Exact => Some(evaluated().map_err(|(name, e)| {
                Failure::Input(vec![format!("{} ({name}): {e}", base.path)])
            })?),
            MethodArg::Auto => evaluated()
                .map_err(|(name, e)| out_of_reach = Some((name, e)))
                .ok(),
        };
    if let Some(results) = exact_results {
        let trials = sim.trials.trials.unwrap_or(base.scenario.trials);
        let bounds: Vec<f64> = named
            .iter()
            .zip(&results)
            .map(|((_, s), r)| discordance_bound(s, r, named[0].1, &results[0]))
            .collect();
        // The joint outcomes of two arms are not enumerated: their discordant share comes from
        // a paired pilot on trials of its own seed, only when some arm can differ at all.
        let mut pilot = None;
        if bounds.iter().any(|&q| q > 0.0) {
            pilot = Some(power_pilot(&named, sim, base, show, dir, seed_for)?);
        }
        let arms = named
            .iter()
            .zip(&results)
            .zip(&bounds)
            .enumerate()
            .map(|(i, (((name, s), r), &bound))| {
                let q = match &pilot {
                    Some((_, discordant)) => {
                        pilot_discordance(discordant[i], POWER_PILOT_TRIALS, bound)
                    }
                    None => bound,
                };
                ArmSummary::exact(name, s, r, &results[0], trials).with_exact_power(min_effect, q)
            })
            .collect();
        if show && sim.method == MethodArg::Auto && base.scenario.loss.is_some() {
            io::say(
                "expected annual losses are exact; `--method monte-carlo` also gives the loss percentiles and the whole exceedance curve\n",
            )?;
        }
        return Ok((arms, None, pilot.map(|(seed, _)| seed)));
    }
    let mut settings = Settings::resolve(&sim.trials, &base.scenario);
    settings.seed = seed_for(settings.seed);
    settings.check_years(base.scenario.loss.as_ref(), &base.path)?;
    if let (true, Some((name, e))) = (show, &out_of_reach) {
        io::say(&fallback_line(name, e, settings.trials))?;
    }
    let session = settings.session(settings.work_units())?;
    // Every arm plays the same trials; with the baseline's [loss], the same years too.
    let schedule = Schedule::new(
        base.scenario.loss.as_ref(),
        settings.seed,
        settings.trials,
        None,
    );
    let model = base.scenario.loss.as_ref();
    let mut summaries = Vec::with_capacity(named.len());
    let mut arms = Variants {
        named: &named,
        model,
        min_effect,
        summaries: &mut summaries,
    };
    play_in_passes(&session, &schedule, named.len(), &mut arms, show, dir)?;
    Ok((summaries, Some(settings.seed), None))
}

/// The power pilot of an exact comparison: every arm played on [`POWER_PILOT_TRIALS`] paired
/// trials of [`pilot_seed`] (without years: only completion is counted), and for each arm the
/// trials whose completion differs from the baseline's. Returns the pilot's seed with them.
fn power_pilot(
    named: &[(String, &Scenario)],
    sim: &SimOptions,
    base: &LoadedScenario,
    show: bool,
    dir: &Path,
    seed_for: &dyn Fn(u64) -> u64,
) -> Result<(u64, Vec<u64>), Failure> {
    let mut settings = Settings::resolve(&sim.trials, &base.scenario);
    settings.seed = pilot_seed(seed_for(settings.seed));
    settings.trials = POWER_PILOT_TRIALS;
    let session = settings.session(settings.work_units())?;
    let schedule = Schedule::new(None, settings.seed, settings.trials, None);
    let mut pilot = Pilot {
        named,
        discordant: Vec::with_capacity(named.len()),
    };
    play_in_passes(&session, &schedule, named.len(), &mut pilot, show, dir)?;
    Ok((settings.seed, pilot.discordant))
}

/// A power pilot's arms: of each, the trials whose completion differs from the baseline's.
struct Pilot<'a> {
    named: &'a [(String, &'a Scenario)],
    discordant: Vec<u64>,
}

impl PassArms for Pilot<'_> {
    fn plan(&mut self, arm: usize) -> Plan {
        Plan::new(self.named[arm].1)
    }

    fn take(&mut self, _arm: usize, result: ArmResult) {
        let t = paired_table(&result.joint, |o| o == COMPLETED);
        self.discordant.push(t.first_only + t.second_only);
    }
}

/// The line that says why `--method auto` simulates: the first arm that exact evaluation
/// cannot enumerate, and the trials played instead.
fn fallback_line(arm: &str, e: &TooLarge, trials: u64) -> String {
    format!(
        "exact evaluation is out of reach ({arm}: phase \"{}\" would need {} sets of tried techniques, more than {}); simulated {} instead\n",
        e.phase,
        e.states,
        e.max,
        report::counted(trials, "paired trial", "paired trials")
    )
}

/// `killchain rank`.
pub(super) fn rank(args: &RankArgs) -> Result<(), Failure> {
    let loaded = io::load_all(std::slice::from_ref(&args.scenario))?;
    if loaded[0].scenario.is_landscape() {
        return super::landscape::rank(args, &loaded[0]);
    }
    let l = &loaded[0];
    let s = &l.scenario;
    let dir = destination::output_dir(&args.sim.output.out, &l.path)?;
    let destination = Destination::prepare(&dir, Replaces::Ranking)?;
    let (baseline, effects, seed) = switch_effects(l, &args.sim, &dir, &|seed| seed)?;
    let marginals = rank::marginals(s, &effects);
    let method = baseline.method;
    let how = match seed {
        Some(seed) => format!(
            "{}, seed {seed}",
            report::counted(baseline.trials, "paired trial", "paired trials")
        ),
        None => "exact".to_owned(),
    };
    let currency = s.loss.as_ref().map_or("", |m| m.currency.as_str());
    destination.publish(&[(
        "ranking.csv",
        report::ranking_csv(&s.name, seed, baseline.trials, method, currency, &marginals),
    )])?;
    if !args.sim.output.quiet {
        io::say(&format!(
            "{}wrote {}\n",
            report::ranking_table(&s.name, &how, method, currency, &marginals),
            dir.display()
        ))?;
    }
    Ok(())
}

/// The figures of the scenario as written, the effect of switching each control alone (in the
/// order of `s.controls`) and the seed used (Monte Carlo), by the method asked for. The switched
/// scenario is one copy of the scenario, each control flipped in it and back in turn.
pub(super) fn switch_effects(
    l: &LoadedScenario,
    sim: &SimOptions,
    dir: &Path,
    seed_for: &dyn Fn(u64) -> u64,
) -> Result<(Figures, Vec<SwitchEffect>, Option<u64>), Failure> {
    let s = &l.scenario;
    let mut switched = s.clone();
    switched.variants.clear();
    let flip = |v: &mut Scenario, ci: usize| v.controls[ci].enabled = !v.controls[ci].enabled;
    let n = s.controls.len();
    let trials = sim.trials.trials.unwrap_or(s.trials);
    // The scenario and each switch evaluated exactly, each once; the first arm out of reach
    // with its reason otherwise.
    let evaluated =
        |switched: &mut Scenario| -> Result<(Figures, Vec<SwitchEffect>), (String, TooLarge)> {
            let base = exact::evaluate(s).map_err(|e| (BASELINE.to_owned(), e))?;
            let mut effects = Vec::with_capacity(n);
            for ci in 0..n {
                flip(switched, ci);
                let id = switched.controls[ci].id.clone();
                let r = exact::evaluate(switched).map_err(|e| (id.clone(), e))?;
                let arm = ArmSummary::exact(&id, switched, &r, &base, trials);
                effects.push(SwitchEffect::of(&arm, arm.delta, None));
                flip(switched, ci);
            }
            let baseline = ArmSummary::exact(BASELINE, s, &base, &base, trials).figures;
            Ok((baseline, effects))
        };
    let show = !sim.output.quiet;
    let mut out_of_reach = None;
    match sim.method {
        MethodArg::MonteCarlo => {}
        MethodArg::Exact => {
            let (baseline, effects) = evaluated(&mut switched)
                .map_err(|(name, e)| Failure::Input(vec![format!("{} ({name}): {e}", l.path)]))?;
            return Ok((baseline, effects, None));
        }
        MethodArg::Auto => match evaluated(&mut switched) {
            Ok((baseline, effects)) => return Ok((baseline, effects, None)),
            // The switch that failed was left flipped: the scenario as written again.
            Err(e) => {
                switched = s.clone();
                switched.variants.clear();
                out_of_reach = Some(e);
            }
        },
    }
    let mut effects = Vec::with_capacity(n);
    let mut settings = Settings::resolve(&sim.trials, s);
    settings.seed = seed_for(settings.seed);
    settings.check_years(s.loss.as_ref(), &l.path)?;
    if let (true, Some((name, e))) = (show, &out_of_reach) {
        io::say(&fallback_line(name, e, settings.trials))?;
    }
    let session = settings.session(settings.work_units())?;
    let schedule = Schedule::new(s.loss.as_ref(), settings.seed, settings.trials, None);
    let mut arms = Switches {
        scenario: s,
        switched: &mut switched,
        baseline: None,
        effects: &mut effects,
    };
    play_in_passes(&session, &schedule, n + 1, &mut arms, show, dir)?;
    let baseline = arms.baseline.expect("the first arm is played");
    Ok((baseline, effects, Some(settings.seed)))
}

/// The change the power figures of rank's summaries are for: rank prints none of them.
const RANK_EFFECT: f64 = 0.01;

/// Arms played together in one pass over the trials, the reference arm (the scenario as
/// written) first in each pass: memory holds one pass's plans and counts, never every arm's at
/// once. Each pass after the first plays the reference again, 1/64 more work.
const ARMS_PER_PASS: usize = 64;

/// The arms of a comparison as [`play_in_passes`] asks for them: arm 0 is the reference of every
/// paired table.
trait PassArms {
    /// The compiled plan of arm `arm`.
    fn plan(&mut self, arm: usize) -> Plan;
    /// Arm `arm`'s result, each arm once and in order.
    fn take(&mut self, arm: usize, result: ArmResult);
}

/// Plays `n_arms` arms on the schedule's trials, [`ARMS_PER_PASS`] at a time after the reference
/// arm 0, which opens every pass (its result is taken from the first). The results are those of
/// playing every arm in one pass: each arm plays the same trials with the same slots, and its
/// paired tables are against arm 0 in its own pass.
fn play_in_passes(
    session: &Session<'_>,
    schedule: &Schedule,
    n_arms: usize,
    arms: &mut dyn PassArms,
    show: bool,
    dir: &Path,
) -> Result<(), Failure> {
    let others = n_arms.saturating_sub(1);
    let passes = others.div_ceil(ARMS_PER_PASS).max(1);
    let total = schedule.played().saturating_mul(passes as u64);
    progress::with_progress(total, show, session.done(), || {
        for pass in 0..passes {
            let group = 1 + pass * ARMS_PER_PASS..(1 + (pass + 1) * ARMS_PER_PASS).min(n_arms);
            let plans: Vec<Plan> = std::iter::once(0)
                .chain(group.clone())
                .map(|arm| arms.plan(arm))
                .collect();
            let mut played = session.play(&plans, schedule)?.into_iter();
            drop(plans);
            let reference = played.next().expect("one result per plan");
            if pass == 0 {
                arms.take(0, reference);
            }
            for (arm, r) in group.zip(played) {
                arms.take(arm, r);
            }
        }
        Ok(())
    })
    .map_err(|stopped: Stopped| interrupt::stopped(stopped.0, Some(dir)))
}

/// A comparison's arms: the baseline and its variants (or the second file), each summarised in
/// full.
struct Variants<'a, 'b> {
    named: &'a [(String, &'a Scenario)],
    model: Option<&'a LossModel>,
    min_effect: f64,
    summaries: &'b mut Vec<ArmSummary>,
}

impl PassArms for Variants<'_, '_> {
    fn plan(&mut self, arm: usize) -> Plan {
        Plan::new(self.named[arm].1)
    }

    fn take(&mut self, arm: usize, result: ArmResult) {
        let (name, scenario) = &self.named[arm];
        let mut summary = sampled_summary(name, scenario, self.model, result, self.min_effect);
        if arm == 0 || plays_alike(self.named[0].1, scenario) {
            summary = summary.same_as_baseline();
        }
        self.summaries.push(summary);
    }
}

/// Rank's arms: the scenario as written, then each control switched alone (in `switched`, one
/// copy of the scenario in which each control is flipped and back in turn), of which only the
/// effect is kept.
struct Switches<'a> {
    scenario: &'a Scenario,
    switched: &'a mut Scenario,
    baseline: Option<Figures>,
    effects: &'a mut Vec<SwitchEffect>,
}

impl Switches<'_> {
    fn flip(&mut self, control: usize) {
        let c = &mut self.switched.controls[control];
        c.enabled = !c.enabled;
    }
}

impl PassArms for Switches<'_> {
    fn plan(&mut self, arm: usize) -> Plan {
        if arm == 0 {
            return Plan::new(self.scenario);
        }
        self.flip(arm - 1);
        let plan = Plan::new(self.switched);
        self.flip(arm - 1);
        plan
    }

    fn take(&mut self, arm: usize, result: ArmResult) {
        let model = self.scenario.loss.as_ref();
        if arm == 0 {
            let summary = sampled_summary(BASELINE, self.scenario, model, result, RANK_EFFECT);
            self.baseline = Some(summary.figures);
            return;
        }
        self.flip(arm - 1);
        let id = self.switched.controls[arm - 1].id.clone();
        // Simultaneous over the family of every control's switch.
        let z = sidak_z(self.scenario.controls.len());
        let simultaneous = paired_table(&result.joint, |o| o == COMPLETED)
            .difference_at(z)
            .unwrap_or((0.0, 0.0, 0.0));
        let ale_simultaneous = result.loss.as_ref().map(|l| l.paired.reduction_at(z));
        let summary = sampled_summary(&id, self.switched, model, result, RANK_EFFECT);
        self.effects
            .push(SwitchEffect::of(&summary, simultaneous, ale_simultaneous));
        self.flip(arm - 1);
    }
}

/// The summary of a Monte Carlo arm of `scenario`, with its annual-loss figures under `model`
/// (the baseline's `[loss]`) when the run counted years.
fn sampled_summary(
    name: &str,
    scenario: &Scenario,
    model: Option<&LossModel>,
    r: ArmResult,
    min_effect: f64,
) -> ArmSummary {
    let mut summary = ArmSummary::sampled(
        &Arm {
            name: name.to_owned(),
            scenario,
            tally: r.tally,
            joint: r.joint,
        },
        min_effect,
    );
    summary.loss = model
        .zip(r.loss.as_ref())
        .map(|(model, l)| LossFigures::sampled(model, l));
    summary
}
