//! From break rates to money: the `[loss]` model (attack frequency and impact), simulated years,
//! and the integer tallies of annual loss. Pure: no I/O, nothing printed.
//!
//! ## Simulated years
//! A run's trials are campaigns, in trial order. Year `y` holds `N_y ~ Poisson(λ)` campaigns,
//! drawn from slot [`SlotKind::Campaigns`] of the year's own stream ([`rng::year_stream`]), and
//! its campaigns are trials `[S_y, S_y + N_y)` with `S_y = Σ_{z<y} N_z`. The years counted are
//! those that end within the run's trials; the trials after the last counted year are still
//! played (and counted in every phase figure) but belong to no year.
//!
//! A completed campaign (trial `i`) loses [`LossModel::impact_of`] of trial `i`'s stream, read
//! from slot [`SlotKind::Impact`], so the same trial completed in two variants loses the same
//! amount: year losses, and their differences between variants, are paired like completion rates.
//! Losses are whole currency units (`u64`) and every sum is an integer, so totals are exact and
//! independent of the order of addition (threads, work units, shards).
//!
//! Work is cut into [`WorkUnit`]s of whole years ([`YearLayout::units`]): a year is never split
//! between two units, so each unit closes its own years.

use std::ops::{AddAssign, Range};

use serde::{Deserialize, Serialize};
use statrs::distribution::{Beta, ContinuousCDF, DiscreteCDF, Poisson};
use statrs::function::erf::erfc_inv;
use statrs::function::gamma::ln_gamma;

use crate::sim::rng::{self, Slot, SlotKind, TrialStream};
use crate::stats::Z95;

/// Largest loss of one campaign, in currency units; larger draws are capped at it.
pub const MAX_CAMPAIGN_LOSS: u64 = 1_000_000_000_000;
/// Largest value accepted for an impact parameter.
pub const MAX_IMPACT: f64 = 1e12;
/// Fewest campaigns per year accepted (one a century): fewer would make runs mostly empty years.
pub const MIN_ATTACKS_PER_YEAR: f64 = 0.01;
/// Most campaigns per year accepted.
pub const MAX_ATTACKS_PER_YEAR: f64 = 1e6;
/// Trials a work unit aims at (whole years, so it may hold more or fewer).
pub const UNIT_TRIALS: u64 = 1 << 16;
/// The 95th percentile of the standard normal distribution.
const Z_95TH: f64 = 1.644_853_626_951_472_2;
/// Sub-bins per octave of the annual-loss histogram (values below this have a bin each).
const SUB_BINS: u64 = 64;
const SUB_BITS: u32 = 6;
/// Bins of the annual-loss histogram: exact ones for 1..63, then 64 per octave up to 2^64.
pub const N_BINS: usize = (SUB_BINS * (64 - SUB_BITS as u64 + 1)) as usize;

/// The loss of one completed attack.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Impact {
    /// Always this amount.
    Fixed(f64),
    /// Lognormal with these 5th and 95th percentiles.
    LogNormal {
        /// 5th percentile, > 0.
        low: f64,
        /// 95th percentile, > `low`.
        high: f64,
    },
    /// PERT (a scaled Beta of shape 4) on `[min, max]` with this mode.
    Pert {
        /// Least loss.
        min: f64,
        /// Most likely loss.
        mode: f64,
        /// Largest loss.
        max: f64,
    },
}

impl Impact {
    /// μ and σ of the lognormal whose 5th and 95th percentiles are `low` and `high`.
    pub fn lognormal_params(low: f64, high: f64) -> (f64, f64) {
        let (a, b) = (low.ln(), high.ln());
        ((a + b) / 2.0, (b - a) / (2.0 * Z_95TH))
    }

    /// α and β of the PERT's Beta distribution.
    pub fn pert_params(min: f64, mode: f64, max: f64) -> (f64, f64) {
        let w = max - min;
        (1.0 + 4.0 * (mode - min) / w, 1.0 + 4.0 * (max - mode) / w)
    }

    /// The mean loss of one completed attack (before rounding and the cap).
    pub fn mean(&self) -> f64 {
        match *self {
            Impact::Fixed(x) => x,
            Impact::LogNormal { low, high } => {
                let (mu, sigma) = Impact::lognormal_params(low, high);
                (mu + sigma * sigma / 2.0).exp()
            }
            Impact::Pert { min, mode, max } => (min + 4.0 * mode + max) / 6.0,
        }
    }

    /// The loss at quantile `u` in (0, 1).
    pub fn quantile(&self, u: f64) -> f64 {
        match *self {
            Impact::Fixed(x) => x,
            Impact::LogNormal { low, high } => {
                let (mu, sigma) = Impact::lognormal_params(low, high);
                // Φ⁻¹(u) = −√2 · erfc⁻¹(2u)
                let z = -std::f64::consts::SQRT_2 * erfc_inv(2.0 * u);
                (mu + sigma * z).exp()
            }
            Impact::Pert { min, mode, max } => {
                if max <= min {
                    return min;
                }
                let (a, b) = Impact::pert_params(min, mode, max);
                match Beta::new(a, b) {
                    Ok(beta) => min + (max - min) * beta.inverse_cdf(u),
                    Err(_) => mode,
                }
            }
        }
    }

    /// The distribution in words, for reports.
    pub fn describe(&self) -> String {
        match *self {
            Impact::Fixed(x) => format!("fixed {x}"),
            Impact::LogNormal { low, high } => {
                format!("lognormal, 5th percentile {low}, 95th percentile {high}")
            }
            Impact::Pert { min, mode, max } => {
                format!("PERT, min {min}, mode {mode}, max {max}")
            }
        }
    }
}

/// A scenario's `[loss]`: how often the adversary attacks and what a completed attack costs.
#[derive(Debug, Clone, PartialEq)]
pub struct LossModel {
    /// Expected campaigns per year (Poisson rate λ).
    pub attacks_per_year: f64,
    /// The loss of one completed campaign.
    pub impact: Impact,
    /// Currency label, for reports only.
    pub currency: String,
}

impl LossModel {
    /// Mean loss of one completed campaign.
    pub fn mean_impact(&self) -> f64 {
        self.impact.mean()
    }

    /// The expected annual loss when a campaign completes with probability `p_complete`:
    /// λ · p · E[impact].
    pub fn exact_ale(&self, p_complete: f64) -> f64 {
        self.attacks_per_year * p_complete * self.mean_impact()
    }

    /// Probability that a year has any loss when a campaign completes with probability
    /// `p_complete` (and every completed campaign loses something): 1 − e^(−λp).
    pub fn exact_loss_probability(&self, p_complete: f64) -> f64 {
        -(-self.attacks_per_year * p_complete).exp_m1()
    }

    /// The loss of the campaign played as the trial with this stream, should it complete: the
    /// impact at the uniform of its [`SlotKind::Impact`] slot, rounded to whole units and capped
    /// at [`MAX_CAMPAIGN_LOSS`].
    pub fn impact_of(&self, stream: TrialStream) -> u64 {
        let u = midpoint_unit(stream.draw53(Slot::new(SlotKind::Impact, 0, 0, 0)));
        let x = self.impact.quantile(u).round();
        if x.is_nan() || x <= 0.0 {
            0
        } else {
            (x.min(MAX_CAMPAIGN_LOSS as f64)) as u64
        }
    }
}

/// A 53-bit draw as a uniform in (0, 1): the middle of its cell, never 0 or 1.
fn midpoint_unit(d: u64) -> f64 {
    (d as f64 + 0.5) * (1.0 / (1u64 << 53) as f64)
}

/// Poisson sampling by inverse CDF: from zero for small λ, from the mode for large λ.
#[derive(Debug, Clone, PartialEq)]
struct PoissonSampler {
    lambda: f64,
    /// Start of the search: k0, F(k0), P(k0).
    k0: u64,
    f0: f64,
    p0: f64,
}

impl PoissonSampler {
    fn new(lambda: f64) -> PoissonSampler {
        if lambda < 30.0 {
            let p0 = (-lambda).exp();
            return PoissonSampler {
                lambda,
                k0: 0,
                f0: p0,
                p0,
            };
        }
        let k0 = lambda.floor() as u64;
        let f0 = Poisson::new(lambda).map_or(0.5, |p| p.cdf(k0));
        let p0 = (k0 as f64 * lambda.ln() - lambda - ln_gamma(k0 as f64 + 1.0)).exp();
        PoissonSampler { lambda, k0, f0, p0 }
    }

    /// The smallest k with F(k) > u.
    fn sample(&self, u: f64) -> u64 {
        let (mut k, mut f, mut p) = (self.k0, self.f0, self.p0);
        if u < f {
            while k > 0 && u < f - p {
                f -= p;
                p *= k as f64 / self.lambda;
                k -= 1;
            }
        } else {
            while u >= f {
                k += 1;
                p *= self.lambda / k as f64;
                if p <= 0.0 {
                    break;
                }
                f += p;
            }
        }
        k
    }
}

/// A slice of a run's trials made of whole years (or, for the last unit, the trials after the
/// last counted year, with no years).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkUnit {
    /// Its trials.
    pub trials: Range<u64>,
    /// Its years (empty for the tail).
    pub years: Range<u64>,
}

/// Which trials make up which year, for a run with a given seed and loss model.
#[derive(Debug, Clone, PartialEq)]
pub struct YearLayout {
    seed: u64,
    poisson: PoissonSampler,
    /// The loss model the years are drawn for.
    pub model: LossModel,
}

impl YearLayout {
    /// The layout of the years of a run with `seed`.
    pub fn new(model: &LossModel, seed: u64) -> YearLayout {
        YearLayout {
            seed,
            poisson: PoissonSampler::new(model.attacks_per_year),
            model: model.clone(),
        }
    }

    /// The number of campaigns of year `year`.
    pub fn campaigns(&self, year: u64) -> u64 {
        let s = rng::year_stream(self.seed, year);
        self.poisson.sample(midpoint_unit(s.draw53(Slot::new(
            SlotKind::Campaigns,
            0,
            0,
            0,
        ))))
    }

    /// Years per work unit: about [`UNIT_TRIALS`] campaigns.
    pub fn years_per_unit(&self) -> u64 {
        ((UNIT_TRIALS as f64 / self.model.attacks_per_year).ceil() as u64).max(1)
    }

    /// The work units of a `trials`-trial run, in order: each [`Self::years_per_unit`] whole
    /// years (the last counted one may hold fewer), then the tail of trials in no year, if any.
    /// The years counted are 0..Y, where year Y is the first that does not end within the
    /// trials. Together the units cover `0..trials` exactly once.
    pub fn units(&self, trials: u64) -> Vec<WorkUnit> {
        let per = self.years_per_unit();
        let mut units = Vec::new();
        let (mut year, mut start) = (0u64, 0u64);
        let (mut unit_year, mut unit_start) = (0u64, 0u64);
        loop {
            let n = self.campaigns(year);
            if start + n > trials {
                break;
            }
            start += n;
            year += 1;
            if year - unit_year == per {
                units.push(WorkUnit {
                    trials: unit_start..start,
                    years: unit_year..year,
                });
                (unit_year, unit_start) = (year, start);
            }
        }
        if year > unit_year {
            units.push(WorkUnit {
                trials: unit_start..start,
                years: unit_year..year,
            });
        }
        if start < trials {
            units.push(WorkUnit {
                trials: start..trials,
                years: year..year,
            });
        }
        units
    }
}

/// The annual losses of a set of years: their count, exact sums, the count of years without loss
/// and a log-linear histogram of the others. Merges with `+=`; all integers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "SparseLossTally", try_from = "SparseLossTally")]
pub struct LossTally {
    /// Years counted.
    pub years: u64,
    /// Years with no loss.
    pub zero_years: u64,
    /// Σ annual loss.
    pub sum: u128,
    /// Σ annual loss² (saturating at 2^128, far beyond any realistic run).
    pub sum_sq: u128,
    /// Years with a positive loss, per bin (see [`bin_of`]).
    pub bins: Vec<u64>,
}

impl Default for LossTally {
    fn default() -> Self {
        LossTally {
            years: 0,
            zero_years: 0,
            sum: 0,
            sum_sq: 0,
            bins: vec![0; N_BINS],
        }
    }
}

/// The histogram bin of a positive annual loss: values 1..63 have a bin each; above, each
/// octave `[2^e, 2^(e+1))` has 64 bins of equal width (at most 1/64 of their lower bound).
pub fn bin_of(loss: u64) -> usize {
    if loss < SUB_BINS {
        return loss as usize;
    }
    let e = 63 - loss.leading_zeros();
    let m = (loss >> (e - SUB_BITS)) & (SUB_BINS - 1);
    (SUB_BINS * u64::from(e - SUB_BITS + 1) + m) as usize
}

/// The least and greatest losses in bin `bin`.
pub fn bin_bounds(bin: usize) -> (u64, u64) {
    let bin = bin as u64;
    if bin < SUB_BINS {
        return (bin, bin);
    }
    let e = bin / SUB_BINS + u64::from(SUB_BITS) - 1;
    let m = bin % SUB_BINS;
    let lo = (u128::from(SUB_BINS + m)) << (e - u64::from(SUB_BITS));
    let hi = ((u128::from(SUB_BINS + m + 1)) << (e - u64::from(SUB_BITS))) - 1;
    (lo as u64, hi.min(u128::from(u64::MAX)) as u64)
}

/// One point of a loss exceedance curve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exceedance {
    /// The annual loss.
    pub threshold: u64,
    /// Years whose loss was greater.
    pub exceeded: u64,
    /// Years counted.
    pub years: u64,
}

/// The count, sum and sum of squares of a set of annual losses: what the expected annual loss
/// and its interval need, without the histogram. [`LossTally`] reads its mean and interval from
/// these, so any tally of the same years gives the same figures.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LossSums {
    /// Years counted.
    pub years: u64,
    /// Σ annual loss.
    pub sum: u128,
    /// Σ annual loss² (saturating at 2^128).
    pub sum_sq: u128,
}

impl LossSums {
    /// Counts one year's loss.
    #[inline]
    pub fn add_year(&mut self, loss: u64) {
        self.years += 1;
        let l = u128::from(loss);
        self.sum += l;
        self.sum_sq = self.sum_sq.saturating_add(l * l);
    }

    /// Counts `n` years whose losses sum to `sum` and whose squares sum to `sum_sq`: the same
    /// as [`Self::add_year`] for each of them (the sums are integers, so the order of addition
    /// does not matter, and saturation is reached alike).
    #[inline]
    pub fn add_years(&mut self, n: u64, sum: u128, sum_sq: u128) {
        self.years += n;
        self.sum += sum;
        self.sum_sq = self.sum_sq.saturating_add(sum_sq);
    }

    /// Expected annual loss (the mean over years); 0 without years.
    pub fn ale(&self) -> f64 {
        if self.years == 0 {
            0.0
        } else {
            self.sum as f64 / self.years as f64
        }
    }

    /// The 95 % interval of the expected annual loss (normal approximation over years).
    pub fn ci(&self) -> (f64, f64) {
        let m = self.ale();
        let h = Z95 * standard_error(self.years, self.sum as f64, self.sum_sq as f64);
        (m - h, m + h)
    }
}

impl LossTally {
    /// Its count, sum and sum of squares.
    pub fn sums(&self) -> LossSums {
        LossSums {
            years: self.years,
            sum: self.sum,
            sum_sq: self.sum_sq,
        }
    }

    /// Counts one year's loss.
    pub fn add_year(&mut self, loss: u64) {
        self.years += 1;
        let l = u128::from(loss);
        self.sum += l;
        self.sum_sq = self.sum_sq.saturating_add(l * l);
        if loss == 0 {
            self.zero_years += 1;
        } else {
            self.bins[bin_of(loss)] += 1;
        }
    }

    /// Expected annual loss (the mean over years); 0 without years.
    pub fn ale(&self) -> f64 {
        self.sums().ale()
    }

    /// The 95 % interval of the expected annual loss (normal approximation over years).
    pub fn ci(&self) -> (f64, f64) {
        self.sums().ci()
    }

    /// The annual loss at quantile `q` in [0, 1] (nearest rank): 0 when that many years had no
    /// loss, else the middle of the histogram bin holding it (exact below 64, within 1/128 of
    /// the value above). `None` without years.
    pub fn percentile(&self, q: f64) -> Option<u64> {
        if self.years == 0 {
            return None;
        }
        let rank = ((q * self.years as f64).ceil() as u64).clamp(1, self.years);
        if rank <= self.zero_years {
            return Some(0);
        }
        self.positive_rank(rank - self.zero_years).map(mid)
    }

    /// The bin of the `r`-th smallest positive loss (from 1).
    fn positive_rank(&self, r: u64) -> Option<usize> {
        let mut seen = 0;
        for (b, &k) in self.bins.iter().enumerate() {
            seen += k;
            if seen >= r {
                return Some(b);
            }
        }
        None
    }

    /// The loss exceedance curve: first the probability of any loss (threshold 0), then at most
    /// `points` thresholds, log-spaced histogram bin tops, from the bin of the 1st to that of the
    /// 99.9th percentile of the years with a positive loss. Each point counts the years whose loss
    /// was greater than its threshold, which the bins give exactly.
    pub fn exceedance(&self, points: usize) -> Vec<Exceedance> {
        let positive = self.years - self.zero_years;
        let mut out = vec![Exceedance {
            threshold: 0,
            exceeded: positive,
            years: self.years,
        }];
        if positive == 0 || points == 0 {
            return out;
        }
        let at = |q: f64| ((q * positive as f64).ceil() as u64).clamp(1, positive);
        let (Some(first), Some(last)) =
            (self.positive_rank(at(0.01)), self.positive_rank(at(0.999)))
        else {
            return out;
        };
        let span = last - first;
        let n = points.min(span + 1);
        let mut above: Vec<u64> = vec![0; N_BINS + 1];
        for b in (0..N_BINS).rev() {
            above[b] = above[b + 1] + self.bins[b];
        }
        let mut prev = None;
        for i in 0..n {
            let b = if n == 1 {
                first
            } else {
                first + (i * span + (n - 1) / 2) / (n - 1)
            };
            if prev == Some(b) {
                continue;
            }
            prev = Some(b);
            out.push(Exceedance {
                threshold: bin_bounds(b).1,
                exceeded: above[b + 1],
                years: self.years,
            });
        }
        out
    }
}

fn mid(bin: usize) -> u64 {
    let (lo, hi) = bin_bounds(bin);
    lo + (hi - lo) / 2
}

/// Standard error of a mean from n, Σx and Σx² (0 for fewer than two values).
fn standard_error(n: u64, sum: f64, sum_sq: f64) -> f64 {
    if n < 2 {
        return 0.0;
    }
    let n = n as f64;
    let var = ((sum_sq - sum * sum / n) / (n - 1.0)).max(0.0);
    (var / n).sqrt()
}

impl AddAssign<&LossTally> for LossTally {
    fn add_assign(&mut self, o: &LossTally) {
        self.years += o.years;
        self.zero_years += o.zero_years;
        self.sum += o.sum;
        self.sum_sq = self.sum_sq.saturating_add(o.sum_sq);
        for (a, b) in self.bins.iter_mut().zip(&o.bins) {
            *a += b;
        }
    }
}

/// The serde form of a [`LossTally`]: the histogram as `[bin, count]` pairs of its nonzero bins,
/// and the 128-bit sums as decimal strings (JSON readers often hold numbers as doubles).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SparseLossTally {
    years: u64,
    zero_years: u64,
    sum: String,
    sum_sq: String,
    bins: Vec<(usize, u64)>,
}

impl From<LossTally> for SparseLossTally {
    fn from(t: LossTally) -> Self {
        SparseLossTally {
            years: t.years,
            zero_years: t.zero_years,
            sum: t.sum.to_string(),
            sum_sq: t.sum_sq.to_string(),
            bins: t
                .bins
                .iter()
                .enumerate()
                .filter(|(_, k)| **k > 0)
                .map(|(b, k)| (b, *k))
                .collect(),
        }
    }
}

impl TryFrom<SparseLossTally> for LossTally {
    type Error = String;

    fn try_from(s: SparseLossTally) -> Result<Self, String> {
        let num = |x: &str| {
            x.parse::<u128>()
                .map_err(|_| format!("loss sum {x:?} is not a non-negative integer"))
        };
        let mut t = LossTally {
            years: s.years,
            zero_years: s.zero_years,
            sum: num(&s.sum)?,
            sum_sq: num(&s.sum_sq)?,
            ..LossTally::default()
        };
        for (b, k) in s.bins {
            *t.bins
                .get_mut(b)
                .ok_or_else(|| format!("loss histogram bin {b} is out of range"))? += k;
        }
        let counted: u64 = t.bins.iter().sum::<u64>() + t.zero_years;
        if counted != t.years {
            return Err(format!(
                "loss histogram holds {counted} years but years is {}",
                t.years
            ));
        }
        Ok(t)
    }
}

/// Paired differences of annual loss between the baseline and one arm, year by year:
/// `d = baseline loss − arm loss` (positive when the arm loses less).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "SparsePaired", try_from = "SparsePaired")]
pub struct PairedLoss {
    /// Years counted.
    pub years: u64,
    /// Σ d.
    pub sum_d: i128,
    /// Σ d² (saturating).
    pub sum_d2: u128,
}

impl PairedLoss {
    /// Counts one year.
    pub fn add_year(&mut self, baseline: u64, arm: u64) {
        self.add_difference(i128::from(baseline) - i128::from(arm));
    }

    /// Counts one year whose difference `baseline − arm` is `d`.
    #[inline]
    pub fn add_difference(&mut self, d: i128) {
        self.years += 1;
        self.sum_d += d;
        self.sum_d2 = self.sum_d2.saturating_add(d.unsigned_abs().pow(2));
    }

    /// Mean reduction of annual loss against the baseline with its 95 % interval.
    pub fn reduction(&self) -> (f64, f64, f64) {
        if self.years == 0 {
            return (0.0, 0.0, 0.0);
        }
        let m = self.sum_d as f64 / self.years as f64;
        let h = Z95 * standard_error(self.years, self.sum_d as f64, self.sum_d2 as f64);
        (m, m - h, m + h)
    }
}

impl AddAssign<&PairedLoss> for PairedLoss {
    fn add_assign(&mut self, o: &PairedLoss) {
        self.years += o.years;
        self.sum_d += o.sum_d;
        self.sum_d2 = self.sum_d2.saturating_add(o.sum_d2);
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SparsePaired {
    years: u64,
    sum_d: String,
    sum_d2: String,
}

impl From<PairedLoss> for SparsePaired {
    fn from(p: PairedLoss) -> Self {
        SparsePaired {
            years: p.years,
            sum_d: p.sum_d.to_string(),
            sum_d2: p.sum_d2.to_string(),
        }
    }
}

impl TryFrom<SparsePaired> for PairedLoss {
    type Error = String;

    fn try_from(s: SparsePaired) -> Result<Self, String> {
        Ok(PairedLoss {
            years: s.years,
            sum_d: s
                .sum_d
                .parse()
                .map_err(|_| format!("paired sum {:?} is not an integer", s.sum_d))?,
            sum_d2: s
                .sum_d2
                .parse()
                .map_err(|_| format!("paired sum {:?} is not an integer", s.sum_d2))?,
        })
    }
}

/// The annual losses of one arm: its own years and its differences from the baseline.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArmLoss {
    /// The arm's annual losses.
    pub tally: LossTally,
    /// Its year-by-year differences from the baseline (all zero for the baseline itself).
    pub paired: PairedLoss,
}

impl AddAssign<&ArmLoss> for ArmLoss {
    fn add_assign(&mut self, o: &ArmLoss) {
        self.tally += &o.tally;
        self.paired += &o.paired;
    }
}

/// Return on security investment: `(reduction − extra cost) / extra cost`; `None` when the
/// extra cost is zero (the ratio has no meaning).
pub fn rosi(reduction: f64, extra_cost: f64) -> Option<f64> {
    (extra_cost != 0.0).then(|| (reduction - extra_cost) / extra_cost)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(impact: Impact) -> LossModel {
        LossModel {
            attacks_per_year: 6.0,
            impact,
            currency: "USD".into(),
        }
    }

    #[test]
    fn bins_tile_the_positive_integers() {
        let mut next = 1u64;
        for b in 1..N_BINS {
            let (lo, hi) = bin_bounds(b);
            assert_eq!(lo, next, "bin {b}");
            assert!(hi >= lo);
            assert_eq!(bin_of(lo), b);
            assert_eq!(bin_of(hi), b);
            if hi == u64::MAX {
                assert_eq!(b, N_BINS - 1);
                return;
            }
            next = hi + 1;
        }
        panic!("bins end before u64::MAX");
    }

    /// The fitted lognormal's 5th and 95th percentiles are the given ones: sampled quantiles of
    /// 200,000 impacts lie within 4 standard errors (in probability) of 0.05 and 0.95.
    #[test]
    fn lognormal_has_the_given_percentiles() {
        let m = model(Impact::LogNormal {
            low: 250_000.0,
            high: 4_000_000.0,
        });
        let n = 200_000u64;
        let mut keys = rng::TrialKeys::starting_at(11, 0);
        let (mut below, mut above) = (0u64, 0u64);
        for _ in 0..n {
            let x = m.impact_of(keys.next_stream());
            below += u64::from(x < 250_000);
            above += u64::from(x > 4_000_000);
        }
        let se = (0.05f64 * 0.95 / n as f64).sqrt();
        for share in [below as f64 / n as f64, above as f64 / n as f64] {
            assert!((share - 0.05).abs() < 4.0 * se, "share {share}");
        }
        // and the quantile function itself, at the two points
        let i = m.impact;
        assert!((i.quantile(0.05) / 250_000.0 - 1.0).abs() < 1e-9);
        assert!((i.quantile(0.95) / 4_000_000.0 - 1.0).abs() < 1e-9);
    }

    /// Sampled means of each impact kind are within 4 SE of the closed-form means.
    #[test]
    fn impact_means_match_the_closed_form() {
        for impact in [
            Impact::Fixed(1_500_000.0),
            Impact::LogNormal {
                low: 250_000.0,
                high: 4_000_000.0,
            },
            Impact::Pert {
                min: 50_000.0,
                mode: 400_000.0,
                max: 6_000_000.0,
            },
        ] {
            let m = model(impact);
            let n = 100_000u64;
            let mut keys = rng::TrialKeys::starting_at(3, 0);
            let (mut s, mut s2) = (0f64, 0f64);
            for _ in 0..n {
                let x = m.impact_of(keys.next_stream()) as f64;
                s += x;
                s2 += x * x;
            }
            let mean = s / n as f64;
            let se = standard_error(n, s, s2);
            let want = impact.mean();
            assert!(
                (mean - want).abs() <= 4.0 * se + 0.5,
                "{impact:?}: {mean} vs {want} (se {se})"
            );
        }
    }

    /// Years' campaign counts average λ within 4 SE (SE = √(λ/years)), for small and large λ.
    #[test]
    fn campaign_counts_are_poisson() {
        for lambda in [0.05, 6.0, 45.5, 2500.0] {
            let l = YearLayout::new(
                &LossModel {
                    attacks_per_year: lambda,
                    ..model(Impact::Fixed(1.0))
                },
                9,
            );
            let years = 100_000u64;
            let (mut s, mut zeros) = (0u64, 0u64);
            for y in 0..years {
                let n = l.campaigns(y);
                s += n;
                zeros += u64::from(n == 0);
            }
            let mean = s as f64 / years as f64;
            let se = (lambda / years as f64).sqrt();
            assert!((mean - lambda).abs() < 4.0 * se, "λ {lambda}: mean {mean}");
            let p0 = (-lambda).exp();
            let se0 = (p0 * (1.0 - p0) / years as f64).sqrt().max(1e-9);
            let share0 = zeros as f64 / years as f64;
            assert!(
                (share0 - p0).abs() < 4.0 * se0 + 1e-9,
                "λ {lambda}: P(0) {share0}"
            );
        }
    }

    #[test]
    fn units_are_whole_years_covering_the_trials() {
        let l = YearLayout::new(&model(Impact::Fixed(1.0)), 5);
        let trials = 300_001;
        let units = l.units(trials);
        let mut next = 0;
        let mut year = 0;
        for u in &units {
            assert_eq!(u.trials.start, next);
            assert_eq!(u.years.start, year);
            let n: u64 = u.years.clone().map(|y| l.campaigns(y)).sum();
            if !u.years.is_empty() {
                assert_eq!(n, u.trials.end - u.trials.start);
            }
            next = u.trials.end;
            year = u.years.end;
        }
        assert_eq!(next, trials);
        // the first uncounted year does not end within the trials
        let counted_end = units.iter().rev().find(|u| !u.years.is_empty()).unwrap();
        assert!(counted_end.trials.end + l.campaigns(year) > trials);
    }

    #[test]
    fn percentiles_and_exceedance_read_the_histogram() {
        let mut t = LossTally::default();
        for loss in [0, 0, 0, 0, 0, 10, 20, 30, 40, 1000] {
            t.add_year(loss);
        }
        assert_eq!(t.ale(), 110.0);
        assert_eq!(t.percentile(0.5), Some(0));
        assert_eq!(t.percentile(0.6), Some(10));
        assert_eq!(t.percentile(0.9), Some(40));
        let p99 = t.percentile(0.99).unwrap();
        assert!((1000u64.abs_diff(p99) as f64) / 1000.0 < 1.0 / 128.0);
        let curve = t.exceedance(60);
        assert_eq!(curve[0].exceeded, 5);
        assert_eq!(curve[1].threshold, 10);
        assert_eq!(curve[1].exceeded, 4);
        let last = curve.last().unwrap();
        assert!(last.threshold >= 1000 && last.exceeded == 0);
        // merge and serde keep every count
        let mut u = t.clone();
        u += &t;
        assert_eq!(u.years, 20);
        let json = serde_json::to_string(&u).unwrap();
        assert_eq!(serde_json::from_str::<LossTally>(&json).unwrap(), u);
    }

    #[test]
    fn rosi_is_the_net_return_per_unit_of_cost() {
        // reduces ALE by 300,000 for 100,000 a year: returns 2 per unit spent
        assert_eq!(rosi(300_000.0, 100_000.0), Some(2.0));
        assert_eq!(rosi(50_000.0, 100_000.0), Some(-0.5));
        assert_eq!(rosi(50_000.0, 0.0), None);
    }

    #[test]
    fn paired_reduction_is_the_mean_difference() {
        let mut p = PairedLoss::default();
        for (b, a) in [(10, 4), (0, 0), (8, 8), (2, 0)] {
            p.add_year(b, a);
        }
        let (m, lo, hi) = p.reduction();
        assert_eq!(m, 2.0);
        // d = 6, 0, 0, 2: sample variance 8, SE √2
        let h = Z95 * 2f64.sqrt();
        assert!((lo - (2.0 - h)).abs() < 1e-12 && (hi - (2.0 + h)).abs() < 1e-12);
    }
}
