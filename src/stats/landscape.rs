//! A threat landscape's totals: sums over adversaries whose campaigns are independent.
//!
//! Each adversary's figure comes with its own 95 % interval (Wilson for a completion rate scaled
//! by the adversary's rate, the skewness-corrected interval of its ALE; a point for exact
//! figures). The interval of their sum is the MOVER construction (method of variance estimates
//! recovery; Zou & Donner 2008, *Stat. Med.* 27:1693): each side of the sum's interval is the sum
//! minus (plus) the root of the summed squared distances from each estimate to its own lower
//! (upper) limit. It keeps each part's asymmetry, so a part whose estimate is 0 still widens the
//! total's upper limit, and it reduces to the part's own interval when there is one part.

/// An estimate with its 95 % interval: `(estimate, low, high)`.
pub type Interval = (f64, f64, f64);

/// The sum of independent estimates, with its MOVER interval (see the module documentation);
/// `(0, 0, 0)` for none.
pub fn sum_of_independent(parts: &[Interval]) -> Interval {
    let (sum, low, high) = sum_of_changes(parts);
    (sum, low.max(0.0), high)
}

/// The sum of independent estimates that may be negative (changes, reductions), with its MOVER
/// interval: as [`sum_of_independent`] without the floor at zero.
pub fn sum_of_changes(parts: &[Interval]) -> Interval {
    let square = |x: f64| x * x;
    let sum: f64 = parts.iter().map(|p| p.0).sum();
    let below: f64 = parts.iter().map(|p| square(p.0 - p.1)).sum();
    let above: f64 = parts.iter().map(|p| square(p.2 - p.0)).sum();
    (sum, sum - below.sqrt(), sum + above.sqrt())
}

/// `x` times each of an interval's three numbers (a rate per campaign to a rate per year).
pub fn scaled(x: f64, (e, lo, hi): Interval) -> Interval {
    (x * e, x * lo, x * hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_part_keeps_its_interval_and_points_add_exactly() {
        assert_eq!(sum_of_independent(&[(2.0, 1.0, 5.0)]), (2.0, 1.0, 5.0));
        assert_eq!(
            sum_of_independent(&[(0.25, 0.25, 0.25), (0.5, 0.5, 0.5)]),
            (0.75, 0.75, 0.75)
        );
        assert_eq!(sum_of_independent(&[]), (0.0, 0.0, 0.0));
    }

    #[test]
    fn symmetric_parts_give_the_normal_interval_of_the_sum() {
        // Two normal estimates with half-widths 3 and 4: the sum's half-width is 5.
        let (s, lo, hi) = sum_of_independent(&[(10.0, 7.0, 13.0), (20.0, 16.0, 24.0)]);
        assert_eq!((s, lo, hi), (30.0, 25.0, 35.0));
    }

    #[test]
    fn a_zero_estimate_widens_only_the_upper_side_and_the_low_end_stays_at_zero() {
        let (s, lo, hi) = sum_of_independent(&[(0.0, 0.0, 3.0), (1.0, 0.2, 4.0)]);
        assert_eq!(s, 1.0);
        assert!((lo - 0.2).abs() < 1e-15);
        assert!((hi - (1.0 + (9.0f64 + 9.0).sqrt())).abs() < 1e-12);
        // The low end lies between the sum of the low ends and the sum.
        let (s, lo, _) = sum_of_independent(&[(0.1, 0.0, 0.2), (0.05, 0.01, 0.1)]);
        assert!(lo > 0.01 && lo < s);
    }
}
