//! The integer tallies of annual loss: their sums (ALE and its interval), a log-linear histogram
//! (percentiles, the exceedance curve), the paired differences against a baseline.
//!
//! Invariant: every sum is an integer (`u128`/`i128`), so totals are exact and independent of the
//! order of addition (threads, work units, shards); tallies are added with checked arithmetic
//! (sums of squares saturate, as documented), never wrapped.

use std::ops::AddAssign;

use ethnum::I256;

use crate::stats::{CountOverflow, Z95, add_to};

/// Sub-bins per octave of the annual-loss histogram (values below this have a bin each).
const SUB_BINS: u64 = 64;
const SUB_BITS: u32 = 6;
/// Bins of the annual-loss histogram: exact ones for 1..63, then 64 per octave up to 2^64.
pub const N_BINS: usize = (SUB_BINS * (64 - SUB_BITS as u64 + 1)) as usize;

/// The annual losses of a set of years: their count, exact sums, the count of years without loss
/// and a log-linear histogram of the others. Merges with `+=`; all integers.
#[derive(Debug, Clone, PartialEq, Eq)]
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

/// The count and the sums of the first three powers of a set of annual losses: what the
/// expected annual loss and its skewness-corrected interval need, without the histogram.
/// [`LossTally`] reads its mean and standard deviation from these (its skewness from its
/// histogram), so any tally of the same years gives the same mean.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LossSums {
    /// Years counted.
    pub years: u64,
    /// Σ annual loss.
    pub sum: u128,
    /// Σ annual loss² (saturating at 2^128).
    pub sum_sq: u128,
    /// Σ annual loss³ ([`cube`]), saturating at 2^128; `u128::MAX` also where it is not kept
    /// ([`LossTally::sums`]).
    pub sum_cu: u128,
}

/// The cube of an annual loss for [`LossSums::sum_cu`]: exact below 2^42 (about 4.4·10^12
/// currency units, a cube below 2^126), else `u128::MAX`, which saturates the sum. Branch-free,
/// for the walk over a portfolio's completed trials.
#[inline]
pub fn cube(loss: u64) -> u128 {
    let l = u128::from(loss);
    let too_large = 0u128.wrapping_sub(u128::from(loss >> 42 != 0));
    (l * l).wrapping_mul(l) | too_large
}

impl LossSums {
    /// Counts one year's loss.
    #[inline]
    pub fn add_year(&mut self, loss: u64) {
        let l = u128::from(loss);
        self.add_years(1, l, l * l, cube(loss));
    }

    /// Counts `n` years whose losses, their squares and their cubes sum to `sum`, `sum_sq` and
    /// `sum_cu`: the same as [`Self::add_year`] for each of them (the sums are integers, so the
    /// order of addition does not matter, and saturation is reached alike).
    #[inline]
    pub fn add_years(&mut self, n: u64, sum: u128, sum_sq: u128, sum_cu: u128) {
        self.years += n;
        self.sum += sum;
        self.sum_sq = self.sum_sq.saturating_add(sum_sq);
        self.sum_cu = self.sum_cu.saturating_add(sum_cu);
    }

    /// The sample skewness g₁ = m₃ / m₂^(3/2) of the annual losses, from their exact sums;
    /// `None` for fewer than three years, no spread, or a sum that saturated (or is not kept).
    pub fn skewness(&self) -> Option<f64> {
        if self.years < 3 || self.sum_sq == u128::MAX || self.sum_cu == u128::MAX {
            return None;
        }
        let n = self.years as f64;
        let mean = self.sum as f64 / n;
        let (s2, s3) = (self.sum_sq as f64 / n, self.sum_cu as f64 / n);
        let m2 = s2 - mean * mean;
        let m3 = s3 - 3.0 * mean * s2 + 2.0 * mean * mean * mean;
        // Below a relative 1e-12 the variance is rounding of the raw moments, not spread.
        (m2 > 1e-12 * s2).then(|| m3 / (m2 * m2.sqrt()))
    }

    /// The 95 % interval of the expected annual loss, skewness-corrected as a run's is
    /// ([`skew_corrected_interval`]) with the skewness from the exact sum of cubes; the normal
    /// interval when the skewness is unknown.
    pub fn corrected_ci(&self) -> (f64, f64) {
        match self.skewness() {
            Some(g) if g != 0.0 => skew_corrected_interval(self.ale(), self.sd(), g, self.years),
            _ => self.ci(),
        }
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

    /// The sample standard deviation of the annual losses (0 for fewer than two years).
    pub fn sd(&self) -> f64 {
        standard_error(self.years, self.sum as f64, self.sum_sq as f64) * (self.years as f64).sqrt()
    }
}

/// Hall's (1992) skewness-corrected 95 % interval for a mean `m` of `n` values with standard
/// deviation `sd` and skewness `g`. The studentised mean t = (m − μ)/sd is transformed by
/// Ĝ(t) = t + g·t²/3 + g²·t³/27 + g/(6n), whose √n·Ĝ(t) is normal to a higher order than √n·t
/// when the values are skewed; Ĝ is monotone with the closed-form inverse
/// Ĝ⁻¹(x) = (3/g)·(∛(1 + g·(x − g/(6n))) − 1), so the interval is
/// [m − sd·Ĝ⁻¹(z/√n), m − sd·Ĝ⁻¹(−z/√n)]. For right-skewed losses (g > 0) it lies to the right
/// of the normal one, where the normal one misses. With g = 0 it is the normal interval.
/// P. Hall, "On the removal of skewness by transformation", JRSS B 54 (1992) 221–228.
pub fn skew_corrected_interval(m: f64, sd: f64, g: f64, n: u64) -> (f64, f64) {
    skew_corrected_interval_at(m, sd, g, n, Z95)
}

/// [`skew_corrected_interval`] at the normal quantile `z` instead of 1.96.
pub fn skew_corrected_interval_at(m: f64, sd: f64, g: f64, n: u64, z: f64) -> (f64, f64) {
    if n < 2 {
        return (m, m);
    }
    let n = n as f64;
    let x = z / n.sqrt();
    if g == 0.0 {
        return (m - sd * x, m + sd * x);
    }
    let inverse = |x: f64| 3.0 / g * (crate::math::cbrt(1.0 + g * (x - g / (6.0 * n))) - 1.0);
    (m - sd * inverse(x), m - sd * inverse(-x))
}

/// Cochran's rule for the normal approximation of a mean to hold at 95 %: at least 25·G₁²
/// values, G₁ their skewness (W. G. Cochran, *Sampling Techniques*, 3rd ed., 1977, § 2.15).
pub fn cochran_minimum(g: f64) -> u64 {
    (25.0 * g * g).ceil() as u64
}

impl LossTally {
    /// Its count, sum and sum of squares (the sum of cubes is not kept: `u128::MAX`).
    pub fn sums(&self) -> LossSums {
        LossSums {
            years: self.years,
            sum: self.sum,
            sum_sq: self.sum_sq,
            sum_cu: u128::MAX,
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

    /// The 95 % interval of the expected annual loss: skewness-corrected
    /// ([`skew_corrected_interval`], the skewness read from the histogram), since a few years of
    /// heavy-tailed losses leave the mean right-skewed and the normal interval misses high;
    /// the normal one when the skewness is unknown (fewer than three years, or no spread).
    pub fn ci(&self) -> (f64, f64) {
        let sums = self.sums();
        match self.skewness() {
            Some(g) if g != 0.0 => skew_corrected_interval(sums.ale(), sums.sd(), g, self.years),
            _ => sums.ci(),
        }
    }

    /// The sample skewness g₁ = m₃ / m₂^(3/2) of the annual losses, the central moments from the
    /// exact mean, the years without loss (exact) and the histogram's bin middles (within 1/128
    /// of each loss). `None` for fewer than three years or no spread.
    pub fn skewness(&self) -> Option<f64> {
        if self.years < 3 {
            return None;
        }
        let mean = self.ale();
        let (mut m2, mut m3) = (0.0, 0.0);
        let mut add = |x: f64, k: u64| {
            let d = x - mean;
            m2 += k as f64 * d * d;
            m3 += k as f64 * d * d * d;
        };
        add(0.0, self.zero_years);
        for (b, &k) in self.bins.iter().enumerate() {
            if k > 0 {
                add(mid(b) as f64, k);
            }
        }
        let n = self.years as f64;
        let (m2, m3) = (m2 / n, m3 / n);
        (m2 > 0.0).then(|| m3 / (m2 * m2.sqrt()))
    }

    /// The years Cochran's rule asks for before the normal approximation of the mean is
    /// trusted ([`cochran_minimum`] of [`Self::skewness`]); `None` when the skewness is unknown.
    pub fn years_for_skewness(&self) -> Option<u64> {
        self.skewness().map(cochran_minimum)
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

    /// A distribution-free 95 % interval for the annual loss at quantile `q` in (0, 1): the
    /// order statistics of the years at the binomial ranks `⌊nq − zσ⌋` and `⌈nq + zσ⌉`
    /// (σ = √(nq(1−q)), clamped to 1..n), read conservatively from the histogram: the lower
    /// edge of the lower rank's bin, the upper edge of the upper rank's bin. For a continuous
    /// loss the true quantile lies between the two order statistics with probability
    /// P(l ≤ B < u), B ~ Binomial(n, q), at least 95 % up to the normal approximation of the
    /// ranks; for atoms it is higher. `None` without years.
    pub fn percentile_interval(&self, q: f64) -> Option<(u64, u64)> {
        if self.years == 0 {
            return None;
        }
        let n = self.years as f64;
        let sd = (n * q * (1.0 - q)).max(0.0).sqrt();
        let lo_rank = ((n * q - Z95 * sd).floor().max(1.0) as u64).min(self.years);
        let hi_rank = ((n * q + Z95 * sd).ceil().max(1.0) as u64).min(self.years);
        let read = |rank: u64, upper: bool| -> Option<u64> {
            if rank <= self.zero_years {
                return Some(0);
            }
            let b = self.positive_rank(rank - self.zero_years)?;
            let (lo, hi) = bin_bounds(b);
            Some(if upper { hi } else { lo })
        };
        Some((read(lo_rank, false)?, read(hi_rank, true)?))
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

/// The half-width of the 95 % simultaneous band of an exceedance curve from `years` years: the
/// Dvoretzky–Kiefer–Wolfowitz inequality with Massart's constant, ε = √(ln(2/α) / (2n)) with
/// α = 0.05. The whole true curve lies within ±ε of the sampled one with probability ≥ 95 %
/// (for any distribution, for every `n`); 1 without years.
pub fn dkw_half_width(years: u64) -> f64 {
    /// ln(2 / 0.05) = ln 40.
    const LN_40: f64 = 3.688_879_454_113_936_3;
    if years == 0 {
        return 1.0;
    }
    (LN_40 / (2.0 * years as f64)).sqrt()
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

impl LossTally {
    /// Adds `o`'s years; on overflow names the count (and `self` may hold part of the sum).
    pub fn try_add(&mut self, o: &LossTally) -> Result<(), CountOverflow> {
        add_to(&mut self.years, o.years, "loss years")?;
        add_to(&mut self.zero_years, o.zero_years, "loss zero_years")?;
        add_to(&mut self.sum, o.sum, "loss sum")?;
        self.sum_sq = self.sum_sq.saturating_add(o.sum_sq);
        for (a, b) in self.bins.iter_mut().zip(&o.bins) {
            add_to(a, *b, "loss histogram")?;
        }
        Ok(())
    }
}

/// In-process sums: an overflow panics rather than wraps (see [`crate::stats::Counts`]).
impl AddAssign<&LossTally> for LossTally {
    fn add_assign(&mut self, o: &LossTally) {
        self.try_add(o).unwrap_or_else(|e| panic!("{e}"));
    }
}

/// Paired differences of annual loss between the baseline and one arm, year by year:
/// `d = baseline loss − arm loss` (positive when the arm loses less).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PairedLoss {
    /// Years counted.
    pub years: u64,
    /// Σ d.
    pub sum_d: i128,
    /// Σ d² (saturating).
    pub sum_d2: u128,
    /// Σ d³, exact: |d| < 2^64, so each cube fits in 192 bits and any count of years in 256
    /// (the skewness of the differences reads it; a single run's are all zero and not stored).
    pub sum_d3: I256,
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
        let d = I256::from(d);
        self.sum_d3 += d * d * d;
    }

    /// Mean reduction of annual loss against the baseline with its 95 % interval.
    pub fn reduction(&self) -> (f64, f64, f64) {
        self.reduction_at(Z95)
    }

    /// Mean reduction of annual loss with its interval at `z` (1.96 for 95 %, a Šidák quantile
    /// for a family of reductions): corrected for the skewness of the year-by-year differences
    /// as the ALE interval is ([`skew_corrected_interval_at`]), which heavy-tailed losses make
    /// large, and never narrower than the normal interval on either side: differences take both
    /// signs, and when few years differ their skewness is poorly known and may point the wrong
    /// way (with the corrected interval alone, rank's simultaneous intervals covered every
    /// control in 90 % of runs at 5,000 trials; with both, in 95.75 %). The normal interval
    /// when the skewness is unknown.
    pub fn reduction_at(&self, z: f64) -> (f64, f64, f64) {
        if self.years == 0 {
            return (0.0, 0.0, 0.0);
        }
        let n = self.years as f64;
        let m = self.sum_d as f64 / n;
        let se = standard_error(self.years, self.sum_d as f64, self.sum_d2 as f64);
        let (lo, hi) = (m - z * se, m + z * se);
        match self.skewness() {
            Some(g) if g != 0.0 => {
                let (c_lo, c_hi) = skew_corrected_interval_at(m, se * n.sqrt(), g, self.years, z);
                (m, lo.min(c_lo), hi.max(c_hi))
            }
            _ => (m, lo, hi),
        }
    }

    /// The years Cochran's rule asks for before the interval of the mean difference is trusted
    /// ([`cochran_minimum`] of [`Self::skewness`]); `None` when the skewness is unknown.
    pub fn years_for_skewness(&self) -> Option<u64> {
        self.skewness().map(cochran_minimum)
    }

    /// The sample skewness of the year-by-year differences, from their exact sums; `None` for
    /// fewer than three years, no spread, or a sum of squares that saturated.
    pub fn skewness(&self) -> Option<f64> {
        if self.years < 3 || self.sum_d2 == u128::MAX {
            return None;
        }
        let n = self.years as f64;
        let mean = self.sum_d as f64 / n;
        let (s2, s3) = (self.sum_d2 as f64 / n, self.sum_d3.as_f64() / n);
        let m2 = s2 - mean * mean;
        let m3 = s3 - 3.0 * mean * s2 + 2.0 * mean * mean * mean;
        // Below a relative 1e-12 the variance is rounding of the raw moments, not spread.
        (m2 > 1e-12 * s2).then(|| m3 / (m2 * m2.sqrt()))
    }
}

impl PairedLoss {
    /// Adds `o`'s years; on overflow names the count.
    pub fn try_add(&mut self, o: &PairedLoss) -> Result<(), CountOverflow> {
        add_to(&mut self.years, o.years, "paired loss years")?;
        add_to(&mut self.sum_d, o.sum_d, "paired loss sum_d")?;
        self.sum_d2 = self.sum_d2.saturating_add(o.sum_d2);
        self.sum_d3 = self
            .sum_d3
            .checked_add(o.sum_d3)
            .ok_or(CountOverflow("paired loss sum_d3"))?;
        Ok(())
    }
}

/// In-process sums: an overflow panics rather than wraps.
impl AddAssign<&PairedLoss> for PairedLoss {
    fn add_assign(&mut self, o: &PairedLoss) {
        self.try_add(o).unwrap_or_else(|e| panic!("{e}"));
    }
}

/// The annual losses of one arm: its own years and its differences from the baseline.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ArmLoss {
    /// The arm's annual losses.
    pub tally: LossTally,
    /// Its year-by-year differences from the baseline (all zero for the baseline itself).
    pub paired: PairedLoss,
}

impl ArmLoss {
    /// Adds `o`'s years; on overflow names the count.
    pub fn try_add(&mut self, o: &ArmLoss) -> Result<(), CountOverflow> {
        self.tally.try_add(&o.tally)?;
        self.paired.try_add(&o.paired)
    }
}

/// In-process sums: an overflow panics rather than wraps.
impl AddAssign<&ArmLoss> for ArmLoss {
    fn add_assign(&mut self, o: &ArmLoss) {
        self.try_add(o).unwrap_or_else(|e| panic!("{e}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        // merging keeps every count, and a sum that does not fit is refused
        let mut u = t.clone();
        u += &t;
        assert_eq!((u.years, u.zero_years, u.sum), (20, 10, 2200));
        assert_eq!(u.bins[bin_of(1000)], 2);
        let mut huge = t.clone();
        huge.sum = u128::MAX - 1;
        assert_eq!(u.try_add(&huge), Err(CountOverflow("loss sum")));
    }

    /// Years with no loss with probability 0.3, else an exponential loss of mean 10^6: the
    /// quantile q > 0.3 is −10^6·ln((1 − q)/0.7).
    fn mixture_year(seed: u64, year: u64) -> u64 {
        use crate::sim::rng::{Slot, SlotKind, year_stream};
        let s = year_stream(seed, year);
        if s.unit(Slot::new(SlotKind::Campaigns, 0, 0, 0)) < 0.3 {
            return 0;
        }
        let u = 1.0 - s.unit(Slot::new(SlotKind::Impact, 0, 0, 0));
        (-1e6 * crate::math::ln(u)) as u64
    }

    /// Coverage of the percentile intervals and of the DKW band, measured: 1,500 runs of 1,000
    /// years (seeds 1..=1500) of a loss whose quantiles and exceedance curve are known. Each
    /// interval covers the true P50, P90 and P99 in 93–99 % of runs (95 % less 2 %, 3 standard
    /// errors of the measured coverage; above 95 % because the histogram's bin edges widen it:
    /// 96.3 %, 96.5 %, 98.3 % measured), and the band holds the whole true curve in at least 93 %.
    #[test]
    fn percentile_intervals_and_band_cover_the_truth() {
        const RUNS: u64 = 1500;
        const YEARS: u64 = 1000;
        let qs = [0.5, 0.9, 0.99];
        let truth = qs.map(|q: f64| -1e6 * crate::math::ln((1.0 - q) / 0.7));
        let mut covered = [0u64; 3];
        let mut band_held = 0u64;
        let mut t = LossTally::default();
        for seed in 1..=RUNS {
            t.years = 0;
            t.zero_years = 0;
            t.sum = 0;
            t.sum_sq = 0;
            t.bins.iter_mut().for_each(|b| *b = 0);
            for y in 0..YEARS {
                t.add_year(mixture_year(seed, y));
            }
            for (i, &q) in qs.iter().enumerate() {
                let (lo, hi) = t.percentile_interval(q).unwrap();
                if (lo as f64) <= truth[i] && truth[i] <= hi as f64 + 1.0 {
                    covered[i] += 1;
                }
            }
            let eps = dkw_half_width(t.years);
            let held = t.exceedance(60).iter().all(|e| {
                let x = e.threshold as f64 + 1.0;
                let p = if e.threshold == 0 {
                    0.7
                } else {
                    0.7 * crate::math::exp(-x / 1e6)
                };
                let sampled = e.exceeded as f64 / e.years as f64;
                (sampled - p).abs() <= eps
            });
            band_held += u64::from(held);
        }
        for (i, &c) in covered.iter().enumerate() {
            let cov = c as f64 / RUNS as f64;
            assert!((0.93..=0.99).contains(&cov), "P{}: {cov}", qs[i]);
        }
        let band = band_held as f64 / RUNS as f64;
        assert!(band >= 0.93, "{band}");
    }

    /// The Poisson(`mu`) count at uniform `u`, by inversion of its CDF.
    fn poisson(u: f64, mu: f64) -> u64 {
        let (mut k, mut p) = (0u64, crate::math::exp(-mu));
        let mut cdf = p;
        while u >= cdf && k < 1000 {
            k += 1;
            p *= mu / k as f64;
            cdf += p;
        }
        k
    }

    /// A year of a compound Poisson loss: Poisson(`mu`) completed campaigns, each losing a
    /// lognormal amount of median 1.5 M and log-sd 0.823 (a ransomware impact of 5th/95th
    /// percentiles 0.39 M and 5.8 M).
    fn heavy_year(seed: u64, year: u64, mu: f64) -> u64 {
        use crate::sim::rng::{Slot, SlotKind, year_stream};
        let s = year_stream(seed, year);
        let k = poisson(s.unit(Slot::new(SlotKind::Campaigns, 0, 0, 0)), mu);
        (0..k)
            .map(|i| {
                let u = s
                    .unit(Slot::new(SlotKind::Impact, 0, 0, i))
                    .clamp(1e-12, 1.0 - 1e-12);
                let z = crate::math::special::normal_quantile(u);
                crate::math::exp(crate::math::ln(1.5e6) + 0.823 * z) as u64
            })
            .sum()
    }

    /// Coverage of the ALE interval, measured: 4,000 runs (seeds 1..=4000) of 100 years of the
    /// compound Poisson loss with 0.16 completed campaigns a year, whose true mean is
    /// 0.16 · 1.5e6 · e^(0.823²/2). The skewness-corrected interval covers it in 93.2–96.8 % of
    /// runs (95 % ± 1.8 %, 5 standard errors of a 4,000-run coverage; 95.4 % measured) where
    /// the normal one covers less than 94.5 % (89.2 % measured: it misses high).
    #[test]
    fn skew_corrected_ale_interval_covers_heavy_tailed_years() {
        const RUNS: u64 = 4000;
        const YEARS: u64 = 100;
        const MU: f64 = 0.16;
        let truth = MU * 1.5e6 * crate::math::exp(0.823 * 0.823 / 2.0);
        let (mut hall, mut normal) = (0u64, 0u64);
        let mut t = LossTally::default();
        for seed in 1..=RUNS {
            t.years = 0;
            t.zero_years = 0;
            t.sum = 0;
            t.sum_sq = 0;
            t.bins.iter_mut().for_each(|b| *b = 0);
            for y in 0..YEARS {
                t.add_year(heavy_year(seed, y, MU));
            }
            let (lo, hi) = t.ci();
            hall += u64::from(lo <= truth && truth <= hi);
            let (lo, hi) = t.sums().ci();
            normal += u64::from(lo <= truth && truth <= hi);
        }
        let (hall, normal) = (hall as f64 / RUNS as f64, normal as f64 / RUNS as f64);
        assert!((0.932..=0.968).contains(&hall), "skew-corrected {hall}");
        assert!(normal < 0.945, "normal {normal}");
    }

    /// Coverage of the paired reduction interval, measured: 4,000 runs (seeds 1..=4000) of 150
    /// years with Poisson(1.2) campaigns a year, each completing against the baseline with
    /// probability 0.25 and against the arm only if also below 0.1 (the same roll: common random
    /// numbers), each completed one losing the lognormal impact of [`heavy_year`]. The true
    /// reduction is 1.2 · 0.15 · 1.5e6 · e^(0.823²/2). The skewness-corrected interval covers it in
    /// 93.2–96.8 % of runs (94.4 % measured) where the normal one covers less (90.6 %).
    #[test]
    fn skew_corrected_reduction_interval_covers_heavy_tailed_differences() {
        use crate::sim::rng::{Slot, SlotKind, year_stream};
        const RUNS: u64 = 4000;
        const YEARS: u64 = 150;
        const LAMBDA: f64 = 1.2;
        let truth = LAMBDA * 0.15 * 1.5e6 * crate::math::exp(0.823 * 0.823 / 2.0);
        let (mut hall, mut normal) = (0u64, 0u64);
        for seed in 1..=RUNS {
            let mut p = PairedLoss::default();
            for year in 0..YEARS {
                let s = year_stream(seed, year);
                let k = poisson(s.unit(Slot::new(SlotKind::Campaigns, 0, 0, 0)), LAMBDA);
                let (mut base, mut arm) = (0u64, 0u64);
                for i in 0..k {
                    let roll = s.unit(Slot::new(SlotKind::Success, 0, 0, i));
                    let v = s
                        .unit(Slot::new(SlotKind::Impact, 0, 0, i))
                        .clamp(1e-12, 1.0 - 1e-12);
                    let z = crate::math::special::normal_quantile(v);
                    let loss = crate::math::exp(crate::math::ln(1.5e6) + 0.823 * z) as u64;
                    if roll < 0.25 {
                        base += loss;
                    }
                    if roll < 0.1 {
                        arm += loss;
                    }
                }
                p.add_year(base, arm);
            }
            let (_, lo, hi) = p.reduction();
            hall += u64::from(lo <= truth && truth <= hi);
            let n = p.years as f64;
            let m = p.sum_d as f64 / n;
            let h = Z95 * standard_error(p.years, p.sum_d as f64, p.sum_d2 as f64);
            normal += u64::from(m - h <= truth && truth <= m + h);
        }
        let (hall, normal) = (hall as f64 / RUNS as f64, normal as f64 / RUNS as f64);
        assert!(
            (0.932..=0.968).contains(&hall),
            "skew-corrected {hall}, normal {normal}"
        );
        assert!(normal < hall, "normal {normal}, skew-corrected {hall}");
    }

    #[test]
    fn the_skew_corrected_interval_is_the_normal_one_without_skewness_and_leans_right_with_it() {
        let (lo, hi) = skew_corrected_interval(10.0, 4.0, 0.0, 16);
        assert!((lo - (10.0 - Z95)).abs() < 1e-12 && (hi - (10.0 + Z95)).abs() < 1e-12);
        // A small skewness moves both ends right by about sd·g·(z²/3 + 1/6)/n.
        let (lo, hi) = skew_corrected_interval(10.0, 4.0, 0.01, 16);
        let shift = 4.0 * 0.01 * (Z95 * Z95 / 3.0 + 1.0 / 6.0) / 16.0;
        assert!((lo - (10.0 - Z95 + shift)).abs() < 1e-4, "{lo}");
        assert!((hi - (10.0 + Z95 + shift)).abs() < 1e-4, "{hi}");
        // Each end is where the transformed statistic √n·Ĝ((m − μ)/sd) is ∓z.
        for g in [0.01, 0.7, 3.0, -1.5] {
            let (lo, hi) = skew_corrected_interval(10.0, 4.0, g, 16);
            let transformed = |mu: f64| {
                let t = (10.0 - mu) / 4.0;
                4.0 * (t + g * t * t / 3.0 + g * g * t * t * t / 27.0 + g / 96.0)
            };
            assert!((transformed(lo) - Z95).abs() < 1e-9, "g {g}: {lo}");
            assert!((transformed(hi) + Z95).abs() < 1e-9, "g {g}: {hi}");
        }
        // A strong one: still an interval around the mean, longer on the right.
        let (lo, hi) = skew_corrected_interval(10.0, 4.0, 3.0, 16);
        assert!(
            lo < 10.0 && 10.0 < hi && hi - 10.0 > 10.0 - lo,
            "[{lo}, {hi}]"
        );
        assert_eq!(skew_corrected_interval(7.0, 0.0, 1.0, 1), (7.0, 7.0));
    }

    #[test]
    fn sums_of_cubes_give_a_runs_skewness_and_interval() {
        // Losses below 64 have a bin each, so the histogram's skewness is exact too: the two
        // ways agree, and so do the corrected intervals.
        let losses = [
            0u64, 0, 0, 1, 0, 2, 0, 0, 40, 0, 3, 0, 0, 0, 63, 5, 0, 0, 1, 0,
        ];
        let (mut tally, mut sums) = (LossTally::default(), LossSums::default());
        for &l in &losses {
            tally.add_year(l);
            sums.add_year(l);
        }
        let cubes: u128 = losses.iter().map(|&l| u128::from(l).pow(3)).sum();
        assert_eq!(sums.sum_cu, cubes);
        let (g, want) = (sums.skewness().unwrap(), tally.skewness().unwrap());
        assert!(g > 2.0 && (g - want).abs() < 1e-12, "{g} {want}");
        let (lo, hi) = sums.corrected_ci();
        let (want_lo, want_hi) = tally.ci();
        assert!((lo - want_lo).abs() < 1e-9 && (hi - want_hi).abs() < 1e-9);
        // Right-skewed: the corrected interval lies right of the normal one.
        let (n_lo, n_hi) = sums.ci();
        assert!(lo > n_lo && hi > n_hi, "{lo} {hi} {n_lo} {n_hi}");
        // A tally's sums keep no cubes: the normal interval.
        assert_eq!(tally.sums().skewness(), None);
        assert_eq!(tally.sums().corrected_ci(), tally.sums().ci());
    }

    #[test]
    fn a_cube_is_exact_below_2_to_the_42_and_saturates_above() {
        let l = (1u64 << 42) - 1;
        assert_eq!(cube(l), u128::from(l).pow(3));
        assert_eq!(cube(1 << 42), u128::MAX);
        assert_eq!(cube(u64::MAX), u128::MAX);
        let mut sums = LossSums::default();
        for l in [5, 1 << 42, 7] {
            sums.add_year(l);
        }
        assert_eq!(sums.sum_cu, u128::MAX);
        assert_eq!(sums.skewness(), None);
        assert_eq!(sums.corrected_ci(), sums.ci());
    }

    #[test]
    fn skewness_and_the_years_cochran_asks_for() {
        let mut t = LossTally::default();
        assert_eq!(t.skewness(), None);
        // Two values, 0 and 10 in proportion 3:1 — a Bernoulli(1/4) scaled: skewness
        // (1 − 2p)/√(p(1 − p)) = 0.5/√(3/16) = 2/√3.
        for loss in [0, 0, 0, 10, 0, 0, 0, 10] {
            t.add_year(loss);
        }
        let g = t.skewness().unwrap();
        assert!((g - 2.0 / 3f64.sqrt()).abs() < 1e-12, "{g}");
        // 25 · 4/3 = 33.3…
        assert_eq!(t.years_for_skewness(), Some(34));
        assert_eq!(cochran_minimum(0.0), 0);
        // Symmetric: no correction, the normal interval.
        let mut s = LossTally::default();
        for loss in [1, 2, 3, 4, 5] {
            s.add_year(loss);
        }
        assert_eq!(s.skewness(), Some(0.0));
        assert_eq!(s.ci(), s.sums().ci());
        let mut flat = LossTally::default();
        for _ in 0..5 {
            flat.add_year(7);
        }
        assert_eq!(flat.skewness(), None);
        assert_eq!(flat.ci(), (7.0, 7.0));
    }

    #[test]
    fn paired_reduction_is_the_mean_difference() {
        let mut p = PairedLoss::default();
        for (b, a) in [(10, 4), (0, 0), (8, 8), (2, 0)] {
            p.add_year(b, a);
        }
        let (m, lo, hi) = p.reduction();
        assert_eq!(m, 2.0);
        // d = 6, 0, 0, 2: sample variance 8 (SE √2); central moments m₂ = 6, m₃ = 12, so the
        // skewness is 12/6^1.5; each end is the farther of the skewness-corrected one at sd √8
        // and the normal one (2 ± 1.96·√2).
        let g = p.skewness().unwrap();
        assert!((g - 12.0 / (6.0 * 6f64.sqrt())).abs() < 1e-12, "{g}");
        let (want_lo, want_hi) = skew_corrected_interval(2.0, 8f64.sqrt(), g, 4);
        let h = Z95 * 2f64.sqrt();
        assert!(
            want_lo > 2.0 - h && want_hi > 2.0 + h,
            "corrected [{want_lo}, {want_hi}]"
        );
        assert!((lo - (2.0 - h)).abs() < 1e-12 && (hi - want_hi).abs() < 1e-12);
        // Merging is adding the sums, the cubes' too.
        let mut q = p;
        q += &p;
        assert_eq!((q.years, q.sum_d, q.sum_d3), (8, 16, p.sum_d3 + p.sum_d3));
        assert_eq!(q.skewness().map(|x| (x - g).abs() < 1e-12), Some(true));
        // No difference at all: [0, 0] exactly.
        let mut same = PairedLoss::default();
        for loss in [0, 5_000_000, 0, 12] {
            same.add_year(loss, loss);
        }
        assert_eq!(same.reduction(), (0.0, 0.0, 0.0));
        assert_eq!(same.skewness(), None);
    }

    /// Differences near 2^64 have cubes beyond 128 bits: Σ d³ stays exact.
    #[test]
    fn the_sum_of_cubes_is_exact_for_the_largest_differences() {
        let mut p = PairedLoss::default();
        p.add_year(u64::MAX, 0);
        p.add_year(0, u64::MAX);
        p.add_year(u64::MAX, 0);
        let d = I256::from(u64::MAX);
        assert_eq!(p.sum_d3, d * d * d);
        assert_eq!(p.sum_d, i128::from(u64::MAX));
    }
}
