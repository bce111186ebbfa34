//! Annual-loss figures of one arm, whichever method produced them, and `loss_exceedance.csv`.
//! Pure functions of the loss tallies.

use std::fmt::Write;

use serde::Serialize;

use super::csv_out::{finish, record, writer};
use super::format::{counted, grouped};
use super::text_cell;
use crate::stats::figures::{LossFigures, Method};

impl LossFigures {
    /// The `loss` object of `run.json`.
    pub fn json(&self) -> LossJson<'_> {
        let some = |x: f64| self.defined().then_some(x);
        LossJson {
            currency: &self.model.currency,
            attacks_per_year: self.model.attacks_per_year,
            impact: self.model.impact.describe(),
            mean_impact: self.model.mean_impact(),
            years: self.years,
            expected_annual_loss: some(self.ale.0),
            ale_ci_low: some(self.ale.1),
            ale_ci_high: some(self.ale.2),
            loss_p50: self.percentiles.map(|p| p[0]),
            loss_p90: self.percentiles.map(|p| p[1]),
            loss_p99: self.percentiles.map(|p| p[2]),
            loss_p50_ci: self.percentile_ci.map(|p| [p[0].0, p[0].1]),
            loss_p90_ci: self.percentile_ci.map(|p| [p[1].0, p[1].1]),
            loss_p99_ci: self.percentile_ci.map(|p| [p[2].0, p[2].1]),
            annual_loss_skewness: self.skewness,
            years_recommended: self.years_recommended,
            trials_recommended: self.trials_recommended(),
        }
    }

    /// "1,234,567 USD" style amount with the currency.
    pub fn amount(&self, x: f64) -> String {
        let mut s = grouped(x);
        if !self.model.currency.is_empty() {
            s.push(' ');
            s.push_str(&self.model.currency);
        }
        s
    }

    /// A line for the terminal: ALE, its interval and the percentiles.
    pub fn summary_line(&self) -> String {
        if !self.defined() {
            return "expected annual loss: no whole simulated year in these trials; run more"
                .to_owned();
        }
        let (m, lo, hi) = self.ale;
        let mut out = format!("expected annual loss: {}", self.amount(m));
        match self.method {
            Method::MonteCarlo => {
                let _ = write!(
                    out,
                    " [{}, {}] over {} simulated years",
                    grouped(lo),
                    grouped(hi),
                    self.years
                );
            }
            Method::Exact => out.push_str(" (exact)"),
        }
        if let Some(p) = self.percentiles {
            let _ = write!(
                out,
                "; annual loss P50 {}, P90 {}, P99 {}",
                grouped(p[0] as f64),
                grouped(p[1] as f64),
                grouped(p[2] as f64)
            );
            if let Some(ci) = self.percentile_ci {
                out.push_str("\nannual loss percentiles, 95 % intervals (order statistics):");
                for (i, name) in ["P50", "P90", "P99"].iter().enumerate() {
                    let (lo, hi) = ci[i];
                    let sep = if i == 0 { " " } else { ", " };
                    let _ = write!(
                        out,
                        "{sep}{name} [{}, {}]",
                        grouped(lo as f64),
                        grouped(hi as f64)
                    );
                }
            }
        }
        if let (true, Some(g), Some(years), Some(trials)) = (
            self.skewed_short(),
            self.skewness,
            self.years_recommended,
            self.trials_recommended(),
        ) {
            let _ = write!(
                out,
                "\nannual losses are skewed (skewness {g:.1}): the ALE interval is skewness-corrected; \
                 a normal one would need {} by Cochran's rule (about {})",
                counted(years, "simulated year", "simulated years"),
                counted(trials, "trial", "trials"),
            );
        }
        out
    }
}

/// The `loss` object of `run.json`.
#[derive(Debug, Serialize)]
pub struct LossJson<'a> {
    currency: &'a str,
    attacks_per_year: f64,
    impact: String,
    mean_impact: f64,
    years: u64,
    expected_annual_loss: Option<f64>,
    ale_ci_low: Option<f64>,
    ale_ci_high: Option<f64>,
    loss_p50: Option<u64>,
    loss_p90: Option<u64>,
    loss_p99: Option<u64>,
    loss_p50_ci: Option<[u64; 2]>,
    loss_p90_ci: Option<[u64; 2]>,
    loss_p99_ci: Option<[u64; 2]>,
    annual_loss_skewness: Option<f64>,
    years_recommended: Option<u64>,
    trials_recommended: Option<u64>,
}

/// Column names of `loss_exceedance.csv`.
pub const LOSS_EXCEEDANCE_HEADER: [&str; 9] = [
    "variant",
    "annual_loss",
    "probability_exceeded",
    "ci_low",
    "ci_high",
    "band_low",
    "band_high",
    "currency",
    "method",
];

/// `loss_exceedance.csv`: per arm (in the order given), its curve, lowest loss first.
pub fn loss_exceedance_csv(arms: &[(&str, &LossFigures)]) -> Vec<u8> {
    let mut w = writer();
    record(&mut w, &LOSS_EXCEEDANCE_HEADER);
    for (name, f) in arms {
        for p in &f.curve {
            let (e, lo, hi) = p.probability;
            let (blo, bhi) = p.band;
            record(
                &mut w,
                &[
                    text_cell(name),
                    p.annual_loss.to_string(),
                    format!("{e:.6}"),
                    format!("{lo:.6}"),
                    format!("{hi:.6}"),
                    format!("{blo:.6}"),
                    format!("{bhi:.6}"),
                    text_cell(&f.model.currency),
                    f.method.id().to_owned(),
                ],
            );
        }
    }
    finish(w)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_grouped_by_thousands() {
        assert_eq!(grouped(0.0), "0");
        assert_eq!(grouped(999.4), "999");
        assert_eq!(grouped(1000.0), "1,000");
        assert_eq!(grouped(1_234_567.0), "1,234,567");
        assert_eq!(grouped(-12_345.0), "-12,345");
    }
}
