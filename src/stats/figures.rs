//! Counts of a run, whichever method produced them: sampled counts of the Monte Carlo engine,
//! or expected counts scaled from the exact evaluator's probabilities; and the same for annual
//! losses. What analysis and reports read, so neither depends on the other.

use crate::money::LossModel;
use crate::phase::N_PHASES;
use crate::stats::loss::ArmLoss;
use crate::stats::{Rate, Tally};

/// Expected outcome counts of one technique per trial (each a probability: a technique is
/// attempted at most once per trial).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct TechniqueOdds {
    /// Attempts made with the technique.
    pub attempts: f64,
    /// Attempts a deny control prevented.
    pub prevented: f64,
    /// Attempts a deceive control diverted.
    pub deceived: f64,
    /// Attempts a disrupt control interrupted.
    pub interrupted: f64,
    /// Attempts that ran and failed.
    pub failed: f64,
    /// Attempts that ran and succeeded.
    pub succeeded: f64,
    /// Attempts on which a detect control fired.
    pub detected: f64,
    /// Attempts on which the chain was broken.
    pub evicted: f64,
}

impl TechniqueOdds {
    pub(crate) fn add_scaled(&mut self, o: &TechniqueOdds, p: f64) {
        self.attempts += p * o.attempts;
        self.prevented += p * o.prevented;
        self.deceived += p * o.deceived;
        self.interrupted += p * o.interrupted;
        self.failed += p * o.failed;
        self.succeeded += p * o.succeeded;
        self.detected += p * o.detected;
        self.evicted += p * o.evicted;
    }
}

/// Exact per-trial probabilities and expectations of a scenario (disabled controls ignored).
#[derive(Debug, Clone, PartialEq)]
pub struct ExactResult {
    /// Probability of reaching each phase.
    pub reached: [f64; N_PHASES],
    /// Probability that the chain is broken at each phase.
    pub broken: [f64; N_PHASES],
    /// Probability that the attack completes.
    pub completed: f64,
    /// Per control (scenario order): expected attempts it acts on per trial.
    pub control_fired: Vec<f64>,
    /// Per control (scenario order): probability a trial's break is attributed to it.
    pub control_breaks: Vec<f64>,
    /// Probability of a break attributed to `technique-failed`.
    pub breaks_technique_failed: f64,
    /// Probability of a break attributed to `no-viable-technique`.
    pub breaks_no_viable: f64,
    /// Per technique (scenario order): expected outcome counts per trial.
    pub techniques: Vec<TechniqueOdds>,
}

/// How the figures were obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Sampled by the Monte Carlo engine.
    MonteCarlo,
    /// Computed by enumeration.
    Exact,
}

impl Method {
    /// The label in CSV files and run.json.
    pub const fn id(self) -> &'static str {
        match self {
            Method::MonteCarlo => "monte-carlo",
            Method::Exact => "exact",
        }
    }
}

/// Counts of a run, whichever method produced them: sampled counts, or expected counts for
/// `trials` trials.
#[derive(Debug, Clone, PartialEq)]
pub struct Figures {
    /// The method.
    pub method: Method,
    /// Trials (run, or the number the expected counts are scaled to).
    pub trials: u64,
    /// Trials reaching each phase.
    pub reached: [f64; N_PHASES],
    /// Trials broken at each phase.
    pub broken: [f64; N_PHASES],
    /// Completed attacks.
    pub completed: f64,
    /// Per control: attempts it acted on.
    pub control_fired: Vec<f64>,
    /// Per control: breaks attributed to it.
    pub control_breaks: Vec<f64>,
    /// Breaks attributed to `technique-failed`.
    pub technique_failed: f64,
    /// Breaks attributed to `no-viable-technique`.
    pub no_viable: f64,
    /// Per technique: outcome counts.
    pub techniques: Vec<TechniqueOdds>,
}

impl Figures {
    /// The counts of a Monte Carlo run.
    pub fn sampled(t: &Tally) -> Figures {
        let f = |v: &[u64]| v.iter().map(|&x| x as f64).collect::<Vec<_>>();
        Figures {
            method: Method::MonteCarlo,
            trials: t.trials,
            reached: t.reached.map(|x| x as f64),
            broken: t.broken.map(|x| x as f64),
            completed: t.completed as f64,
            control_fired: f(&t.control_fired),
            control_breaks: f(&t.control_breaks),
            technique_failed: t.breaks_technique_failed as f64,
            no_viable: t.breaks_no_viable as f64,
            techniques: t
                .techniques
                .iter()
                .map(|c| TechniqueOdds {
                    attempts: c.attempts as f64,
                    prevented: c.prevented as f64,
                    deceived: c.deceived as f64,
                    interrupted: c.interrupted as f64,
                    failed: c.failed as f64,
                    succeeded: c.succeeded as f64,
                    detected: c.detected as f64,
                    evicted: c.evicted as f64,
                })
                .collect(),
        }
    }

    /// Expected counts for `trials` trials from exact probabilities.
    pub fn exact(r: &ExactResult, trials: u64) -> Figures {
        let n = trials as f64;
        let f = |v: &[f64]| v.iter().map(|&x| x * n).collect::<Vec<_>>();
        Figures {
            method: Method::Exact,
            trials,
            reached: r.reached.map(|x| x * n),
            broken: r.broken.map(|x| x * n),
            completed: r.completed * n,
            control_fired: f(&r.control_fired),
            control_breaks: f(&r.control_breaks),
            technique_failed: r.breaks_technique_failed * n,
            no_viable: r.breaks_no_viable * n,
            techniques: r
                .techniques
                .iter()
                .map(|c| {
                    let mut scaled = TechniqueOdds::default();
                    scaled.add_scaled(c, n);
                    scaled
                })
                .collect(),
        }
    }

    /// The proportion `k / n` with its 95 % interval (Wilson for sampled counts; the value
    /// itself for exact ones); `None` when `n` is 0.
    pub fn rate(&self, k: f64, n: f64) -> Option<(f64, f64, f64)> {
        match self.method {
            Method::MonteCarlo => {
                let r = Rate::new(k as u64, n as u64);
                let (lo, hi) = r.interval?;
                Some((r.estimate?, lo, hi))
            }
            Method::Exact if n > 0.0 => {
                let p = (k / n).clamp(0.0, 1.0);
                Some((p, p, p))
            }
            Method::Exact => None,
        }
    }

    /// Trials that passed phase `i`.
    pub fn passed(&self, i: usize) -> f64 {
        match self.method {
            Method::MonteCarlo => self.reached[i] - self.broken[i],
            Method::Exact => self.reached.get(i + 1).copied().unwrap_or(self.completed),
        }
    }
}

/// Points of a simulated loss exceedance curve (besides its first point, at zero loss).
pub const EXCEEDANCE_POINTS: usize = 60;

/// One point of a loss exceedance curve: the probability a year's loss exceeds `annual_loss`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CurvePoint {
    /// The annual loss.
    pub annual_loss: u64,
    /// Probability that a year's loss is greater, with its 95 % (Wilson) interval.
    pub probability: (f64, f64, f64),
}

/// What the reports print about one arm's annual losses.
#[derive(Debug, Clone, PartialEq)]
pub struct LossFigures {
    /// The method that produced them.
    pub method: Method,
    /// The loss model.
    pub model: LossModel,
    /// Simulated years counted (0 for exact evaluation).
    pub years: u64,
    /// Expected annual loss with its 95 % interval (the value itself when exact).
    pub ale: (f64, f64, f64),
    /// Reduction of the expected annual loss against the baseline with its 95 % paired interval.
    pub reduction: (f64, f64, f64),
    /// P50, P90 and P99 of annual loss (simulated only).
    pub percentiles: Option<[u64; 3]>,
    /// The loss exceedance curve.
    pub curve: Vec<CurvePoint>,
}

impl LossFigures {
    /// Figures from simulated years.
    pub fn sampled(model: &LossModel, loss: &ArmLoss) -> LossFigures {
        let t = &loss.tally;
        let (lo, hi) = t.ci();
        let percentiles = match (t.percentile(0.5), t.percentile(0.9), t.percentile(0.99)) {
            (Some(a), Some(b), Some(c)) => Some([a, b, c]),
            _ => None,
        };
        let curve = t
            .exceedance(EXCEEDANCE_POINTS)
            .into_iter()
            .filter(|e| e.years > 0)
            .map(|e| {
                let r = Rate::new(e.exceeded, e.years);
                let (lo, hi) = r.interval.unwrap_or((0.0, 0.0));
                CurvePoint {
                    annual_loss: e.threshold,
                    probability: (r.estimate.unwrap_or(0.0), lo, hi),
                }
            })
            .collect();
        LossFigures {
            method: Method::MonteCarlo,
            model: model.clone(),
            years: t.years,
            ale: (t.ale(), lo, hi),
            reduction: loss.paired.reduction(),
            percentiles,
            curve,
        }
    }

    /// Exact figures for an arm whose campaigns complete with probability `p_complete`, against
    /// a baseline whose complete with `p_baseline`. Percentiles are not computed; the curve has
    /// its one exact point, the probability of any loss in a year (assuming every completed
    /// campaign loses something).
    pub fn exact(model: &LossModel, p_complete: f64, p_baseline: f64) -> LossFigures {
        let ale = model.exact_ale(p_complete);
        let reduction = model.exact_ale(p_baseline) - ale;
        let any = model.exact_loss_probability(p_complete);
        LossFigures {
            method: Method::Exact,
            model: model.clone(),
            years: 0,
            ale: (ale, ale, ale),
            reduction: (reduction, reduction, reduction),
            percentiles: None,
            curve: vec![CurvePoint {
                annual_loss: 0,
                probability: (any, any, any),
            }],
        }
    }

    /// Whether there are figures: exact ones, or at least one simulated year. A run too short
    /// for one whole year (fewer trials than the first year's campaigns) has none.
    pub fn defined(&self) -> bool {
        self.method == Method::Exact || self.years > 0
    }
}
