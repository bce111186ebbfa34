//! Counts of a run, whichever method produced them: sampled counts of the Monte Carlo engine,
//! or expected counts scaled from the exact evaluator's probabilities; and the same for annual
//! losses. What analysis and reports read, so neither depends on the other.

use crate::math;
use crate::money::LossModel;
use crate::stats::loss::{ArmLoss, LossTally, dkw_half_width};
use crate::stats::{Counts, Rate, Tally};

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
    /// Trials (run, or the number the expected counts are scaled to). Kept as the integer it is:
    /// `counts.trials` is the same number as `f64`, which is exact only up to 2^53.
    pub trials: u64,
    /// The counts, sampled or expected.
    pub counts: Counts<f64>,
}

impl Figures {
    /// The counts of a Monte Carlo run.
    pub fn sampled(t: &Tally) -> Figures {
        Figures {
            method: Method::MonteCarlo,
            trials: t.trials,
            counts: t.map(|x| x as f64),
        }
    }

    /// Expected counts for `trials` trials from the exact evaluator's counts of one trial.
    pub fn exact(r: &Counts<f64>, trials: u64) -> Figures {
        let n = trials as f64;
        Figures {
            method: Method::Exact,
            trials,
            counts: r.map(|p| p * n),
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
            Method::MonteCarlo => self.counts.reached[i] - self.counts.broken[i],
            Method::Exact => {
                let c = &self.counts;
                c.reached.get(i + 1).copied().unwrap_or(c.completed)
            }
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
    /// Probability that a year's loss is greater, with its 95 % (Wilson) interval, which holds
    /// point by point.
    pub probability: (f64, f64, f64),
    /// The 95 % simultaneous band at this point (Dvoretzky–Kiefer–Wolfowitz): the whole true
    /// curve lies within the band at every point at once with probability ≥ 95 %.
    pub band: (f64, f64),
}

/// P50, P90 and P99 of simulated annual losses and their distribution-free 95 % intervals.
type Percentiles = (Option<[u64; 3]>, Option<[(u64, u64); 3]>);

fn percentiles(t: &LossTally) -> Percentiles {
    let percentiles = match (t.percentile(0.5), t.percentile(0.9), t.percentile(0.99)) {
        (Some(a), Some(b), Some(c)) => Some([a, b, c]),
        _ => None,
    };
    let percentile_ci = match (
        t.percentile_interval(0.5),
        t.percentile_interval(0.9),
        t.percentile_interval(0.99),
    ) {
        (Some(a), Some(b), Some(c)) => Some([a, b, c]),
        _ => None,
    };
    (percentiles, percentile_ci)
}

/// The loss exceedance curve of simulated years, each point with its Wilson interval and the
/// DKW band.
fn curve(t: &LossTally) -> Vec<CurvePoint> {
    let eps = dkw_half_width(t.years);
    t.exceedance(EXCEEDANCE_POINTS)
        .into_iter()
        .filter(|e| e.years > 0)
        .map(|e| {
            let r = Rate::new(e.exceeded, e.years);
            let (lo, hi) = r.interval.unwrap_or((0.0, 0.0));
            let p = r.estimate.unwrap_or(0.0);
            CurvePoint {
                annual_loss: e.threshold,
                probability: (p, lo, hi),
                band: ((p - eps).max(0.0), (p + eps).min(1.0)),
            }
        })
        .collect()
}

/// A threat landscape's annual loss, summed over its adversaries year by year: its
/// distribution over the years every adversary's run counts (simulated), or the one exact point
/// of its curve, the probability of any loss in a year (exact). Its expectation is the sum of
/// the adversaries' (see `stats::landscape`).
#[derive(Debug, Clone, PartialEq)]
pub struct LandscapeLoss {
    /// The method that produced it.
    pub method: Method,
    /// The years summed (0 when exact).
    pub years: u64,
    /// P50, P90 and P99 of the total annual loss (simulated only).
    pub percentiles: Option<[u64; 3]>,
    /// Their distribution-free 95 % intervals (simulated only).
    pub percentile_ci: Option<[(u64, u64); 3]>,
    /// The exceedance curve of the total annual loss.
    pub curve: Vec<CurvePoint>,
    /// The sample skewness of the total annual losses (simulated only).
    pub skewness: Option<f64>,
}

impl LandscapeLoss {
    /// From the years summed over the adversaries.
    pub fn sampled(t: &LossTally) -> LandscapeLoss {
        let (percentiles, percentile_ci) = percentiles(t);
        LandscapeLoss {
            method: Method::MonteCarlo,
            years: t.years,
            percentiles,
            percentile_ci,
            curve: curve(t),
            skewness: t.skewness(),
        }
    }

    /// Exact, for a landscape with `successful_per_year` (Σ λₐ·pₐ) expected successful attacks
    /// a year: the successful attacks of independent Poisson adversaries are Poisson with that
    /// rate, so a year has any loss with probability 1 − e^(−Σ λₐ·pₐ) (assuming every completed
    /// campaign loses something).
    pub fn exact(successful_per_year: f64) -> LandscapeLoss {
        let any = -math::exp_m1(-successful_per_year);
        LandscapeLoss {
            method: Method::Exact,
            years: 0,
            percentiles: None,
            percentile_ci: None,
            curve: vec![CurvePoint {
                annual_loss: 0,
                probability: (any, any, any),
                band: (any, any),
            }],
            skewness: None,
        }
    }
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
    /// Distribution-free 95 % intervals of P50, P90 and P99 (order statistics of the years,
    /// see [`crate::stats::loss::LossTally::percentile_interval`]; simulated only).
    pub percentile_ci: Option<[(u64, u64); 3]>,
    /// The loss exceedance curve.
    pub curve: Vec<CurvePoint>,
    /// The sample skewness of the annual losses (simulated only; `None` when unknown).
    pub skewness: Option<f64>,
    /// The years Cochran's rule (25·G₁²) asks for before a normal interval of the ALE could be
    /// trusted (simulated only); the interval reported is skewness-corrected either way.
    pub years_recommended: Option<u64>,
    /// The same for the year-by-year differences from the baseline behind `reduction`.
    pub reduction_years_recommended: Option<u64>,
}

impl LossFigures {
    /// Figures from simulated years.
    pub fn sampled(model: &LossModel, loss: &ArmLoss) -> LossFigures {
        let t = &loss.tally;
        let (lo, hi) = t.ci();
        let (percentiles, percentile_ci) = percentiles(t);
        let curve = curve(t);
        LossFigures {
            method: Method::MonteCarlo,
            model: model.clone(),
            years: t.years,
            ale: (t.ale(), lo, hi),
            reduction: loss.paired.reduction(),
            percentiles,
            percentile_ci,
            curve,
            skewness: t.skewness(),
            years_recommended: t.years_for_skewness(),
            reduction_years_recommended: loss.paired.years_for_skewness(),
        }
    }

    /// The trials that would simulate [`Self::years_recommended`] years: λ campaigns a year on
    /// average. `None` when the years are unknown.
    pub fn trials_recommended(&self) -> Option<u64> {
        self.years_recommended
            .map(|y| (y as f64 * self.model.attacks_per_year).ceil() as u64)
    }

    /// The years and trials Cochran's rule asks for the reduction's interval, when fewer years
    /// were simulated.
    pub fn reduction_short(&self) -> Option<(u64, u64)> {
        let y = self
            .reduction_years_recommended
            .filter(|&y| self.years < y)?;
        Some((y, (y as f64 * self.model.attacks_per_year).ceil() as u64))
    }

    /// Whether fewer years were simulated than Cochran's rule asks for.
    pub fn skewed_short(&self) -> bool {
        self.years_recommended.is_some_and(|y| self.years < y)
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
            percentile_ci: None,
            curve: vec![CurvePoint {
                annual_loss: 0,
                probability: (any, any, any),
                band: (any, any),
            }],
            skewness: None,
            years_recommended: None,
            reduction_years_recommended: None,
        }
    }

    /// Whether there are figures: exact ones, or at least one simulated year. A run too short
    /// for one whole year (fewer trials than the first year's campaigns) has none.
    pub fn defined(&self) -> bool {
        self.method == Method::Exact || self.years > 0
    }
}
