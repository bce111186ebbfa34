//! The Pareto frontier of (cost, objective) points, lower being better on both: the one
//! definition that `optimize` marks its portfolios by and that the report draws.

use std::cmp::Ordering;

/// Which points are on the frontier: no other point is at most as costly and at most as bad and
/// strictly better on one of the two. Points equal on both stay on it together. O(n log n).
pub fn pareto<C, R>(points: &[(C, R)]) -> Vec<bool>
where
    C: PartialOrd + Copy,
    R: PartialOrd + Copy,
{
    let order = {
        let mut order: Vec<usize> = (0..points.len()).collect();
        let by = |x: &C, y: &C| x.partial_cmp(y).unwrap_or(Ordering::Equal);
        let then = |x: &R, y: &R| x.partial_cmp(y).unwrap_or(Ordering::Equal);
        order.sort_by(|&i, &j| {
            by(&points[i].0, &points[j].0).then_with(|| then(&points[i].1, &points[j].1))
        });
        order
    };
    let mut on = vec![false; points.len()];
    // The lowest objective among strictly cheaper points.
    let mut best_cheaper: Option<R> = None;
    let mut k = 0;
    while k < order.len() {
        let cost = points[order[k]].0;
        let end = (k..order.len())
            .find(|&j| points[order[j]].0 != cost)
            .unwrap_or(order.len());
        // Sorted: the first of a cost group has the group's lowest objective.
        let least = points[order[k]].1;
        for &i in &order[k..end] {
            on[i] = points[i].1 == least && best_cheaper.is_none_or(|b| least < b);
        }
        best_cheaper = match best_cheaper {
            Some(b) if b < least => Some(b),
            _ => Some(least),
        };
        k = end;
    }
    on
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The definition, point by point: nothing beats it on both.
    fn by_definition(points: &[(f64, f64)]) -> Vec<bool> {
        points
            .iter()
            .map(|&(c, r)| {
                !points
                    .iter()
                    .any(|&(c2, r2)| c2 <= c && r2 <= r && (c2 < c || r2 < r))
            })
            .collect()
    }

    #[test]
    fn the_pareto_frontier_keeps_what_nothing_beats_on_both() {
        // (cost, loss): the second is beaten by the third (cheaper and less lossy); ties on
        // both stay on the frontier together.
        let pts = [
            (0.0, 300.0),
            (50.0, 200.0),
            (40.0, 150.0),
            (100.0, 50.0),
            (100.0, 50.0),
            (0.0, 400.0),
        ];
        assert_eq!(pareto(&pts), [true, false, true, true, true, false]);
    }

    #[test]
    fn the_sweep_agrees_with_the_definition() {
        // Small integer grids make many ties in cost, in objective and in both.
        let mut state = 7u64;
        for n in [0, 1, 2, 5, 40, 300] {
            let pts: Vec<(f64, f64)> = (0..n)
                .map(|_| {
                    state = state
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    (((state >> 33) % 9) as f64, ((state >> 45) % 7) as f64)
                })
                .collect();
            assert_eq!(pareto(&pts), by_definition(&pts), "{pts:?}");
        }
    }
}
