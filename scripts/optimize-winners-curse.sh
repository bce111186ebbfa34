#!/usr/bin/env bash
# The winner's curse of a Monte Carlo `optimize`, measured against the exact search.
#
#   scripts/optimize-winners-curse.sh [SCENARIO] [BUDGET] [SEEDS] [TRIALS] [KILLCHAIN]
#
# Runs `optimize --method monte-carlo` SEEDS times (seeds 1..SEEDS, TRIALS trials each) on
# SCENARIO (which needs a `[loss]` table and at most 16 candidates) and compares the best
# portfolio within BUDGET, with the figures it reports (from the independent trials of the check
# seed), against `optimize --method exact --search exhaustive` of the same scenario: the exact
# expected annual loss of the portfolio it chose and the exact optimum. Prints the mean relative
# error of the reported ALE, the share of seeds whose reported ALE is below the chosen portfolio's
# exact value, the coverage of the reported 95 % interval, how often the exact optimum was
# chosen and the mean excess of the chosen portfolio's exact ALE over the optimum's (each with
# its standard error). Defaults: the shipped ransomware scenario, budget 150000, 200 seeds,
# 20000 trials. Needs jq.
set -euo pipefail
scenario=${1:-scenarios/ransomware-midsize.toml}
budget=${2:-150000}
seeds=${3:-200}
trials=${4:-20000}
bin=${5:-killchain}
command -v jq >/dev/null || { echo "error: jq is needed to read optimize.json" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$bin" optimize "$scenario" --budget "$budget" --method exact --search exhaustive \
    --out "$work/exact" --quiet
exact_dir=$(dirname "$(find "$work/exact" -name frontier.csv)")
# Every portfolio's exact ALE, by portfolio id (the frontier.csv of an exhaustive search has all).
col() { head -1 "$1" | tr -d '\357\273\277\r' | tr ',' '\n' | grep -nx "$2" | cut -d: -f1; }
ale_col=$(col "$exact_dir/frontier.csv" expected_annual_loss)
awk -F, -v a="$ale_col" 'FNR > 1 { print $1, $a }' "$exact_dir/frontier.csv" >"$work/truth"
optimum=$(jq -r '.best_within_budget.portfolio' "$exact_dir/optimize.json")

: >"$work/rows"
for seed in $(seq 1 "$seeds"); do
    "$bin" optimize "$scenario" --budget "$budget" --method monte-carlo --trials "$trials" \
        --seed "$seed" --out "$work/mc" --quiet
    json=$(find "$work/mc" -name optimize.json)
    jq -r '.best_within_budget | "\(.portfolio) \(.expected_annual_loss) \(.ale_ci_low) \(.ale_ci_high)"' \
        "$json" >>"$work/rows"
done
awk -v n="$seeds" -v t="$trials" -v opt="$optimum" -v s="$scenario" -v b="$budget" '
    NR == FNR { truth[$1] = $2; next }
    FNR == 1 { opt_ale = truth[opt] }
    {
        x = truth[$1]
        e = ($2 - x) / x; se += e; se2 += e * e
        below += ($2 < x); covered += ($3 <= x && x <= $4); hit += ($1 == opt)
        r = (x - opt_ale) / opt_ale; sr += r; sr2 += r * r
    }
    END {
        m = se / n; v = (se2 - n * m * m) / (n - 1); sd = sqrt(v > 0 ? v : 0)
        mr = sr / n; v = (sr2 - n * mr * mr) / (n - 1); sdr = sqrt(v > 0 ? v : 0)
        p = covered / n; q = below / n; h = hit / n
        printf "%s, budget %s, %d seeds at %d trials (exact optimum: portfolio %s, ALE %.0f)\n", s, b, n, t, opt, opt_ale
        printf "  reported ALE of the chosen portfolio vs its exact value: mean relative error %+.2f %% (SE %.2f)\n", 100 * m, 100 * sd / sqrt(n)
        printf "  reported ALE below the exact value: %.1f %% of seeds (SE %.1f)\n", 100 * q, 100 * sqrt(q * (1 - q) / n)
        printf "  reported 95 %% interval covers the exact value: %.1f %% (SE %.1f)\n", 100 * p, 100 * sqrt(p * (1 - p) / n)
        printf "  exact optimum chosen: %.1f %% of seeds (SE %.1f); exact ALE of the chosen portfolio above the optimum by %.2f %% on average (SE %.2f)\n", 100 * h, 100 * sqrt(h * (1 - h) / n), 100 * mr, 100 * sdr / sqrt(n)
    }' "$work/truth" "$work/rows"
