#!/usr/bin/env bash
# Family-wise coverage of `rank`'s intervals, measured against the exact changes.
#
#   scripts/rank-coverage.sh [SCENARIO] [RUNS] [TRIALS] [KILLCHAIN]
#
# Plays RUNS Monte Carlo rankings of SCENARIO (seeds 1..RUNS, TRIALS paired trials each) and
# counts the runs in which every control's interval covers its exact change (from
# `rank --method exact`): once for the simultaneous intervals (delta_ci_low/high) and once for
# the unadjusted ones (delta_unadjusted_ci_low/high); with [loss], the same for the change in
# expected annual loss (ale_delta_ci_*, ale_delta_unadjusted_ci_*). Prints the fractions with
# their standard errors. Defaults: the ransomware scenario (15 controls), 200 runs, 5000 trials.
set -euo pipefail
scenario=${1:-scenarios/ransomware-midsize.toml}
runs=${2:-200}
trials=${3:-5000}
bin=${4:-killchain}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$bin" rank "$scenario" --method exact --trials "$trials" --out "$work/exact" --quiet
exact=$(find "$work/exact" -name ranking.csv)

# Column positions by name, from the header.
col() { head -1 "$1" | tr ',' '\n' | grep -nx "$2" | cut -d: -f1; }
cd_=$(col "$exact" delta)
ca_=$(col "$exact" ale_delta || true)
simul=0
unadj=0
asimul=0
aunadj=0
for seed in $(seq 1 "$runs"); do
    "$bin" rank "$scenario" --method monte-carlo --trials "$trials" --seed "$seed" \
        --out "$work/mc" --quiet
    mc=$(find "$work/mc" -name ranking.csv)
    c=$(col "$mc" control) lo=$(col "$mc" delta_ci_low) hi=$(col "$mc" delta_ci_high)
    ulo=$(col "$mc" delta_unadjusted_ci_low) uhi=$(col "$mc" delta_unadjusted_ci_high)
    read -r s u < <(awk -F, -v c="$c" -v d="$cd_" -v lo="$lo" -v hi="$hi" -v ulo="$ulo" -v uhi="$uhi" '
        NR == FNR { if (FNR > 1) truth[$2] = $d; next }
        FNR > 1 {
            t = truth[$c]
            if (t < $lo || t > $hi) s = 1
            if (t < $ulo || t > $uhi) u = 1
        }
        END { print (s ? 0 : 1), (u ? 0 : 1) }' "$exact" "$mc")
    simul=$((simul + s))
    unadj=$((unadj + u))
    if [ -n "$ca_" ]; then
        lo=$(col "$mc" ale_delta_ci_low) hi=$(col "$mc" ale_delta_ci_high)
        ulo=$(col "$mc" ale_delta_unadjusted_ci_low) uhi=$(col "$mc" ale_delta_unadjusted_ci_high)
        read -r s u < <(awk -F, -v c="$c" -v d="$ca_" -v lo="$lo" -v hi="$hi" -v ulo="$ulo" -v uhi="$uhi" '
            NR == FNR { if (FNR > 1) truth[$2] = $d; next }
            FNR > 1 {
                t = truth[$c]
                if (t < $lo || t > $hi) s = 1
                if (t < $ulo || t > $uhi) u = 1
            }
            END { print (s ? 0 : 1), (u ? 0 : 1) }' "$exact" "$mc")
        asimul=$((asimul + s))
        aunadj=$((aunadj + u))
    fi
done
awk -v s="$simul" -v u="$unadj" -v n="$runs" -v t="$trials" 'BEGIN {
    ps = s / n; pu = u / n
    printf "%d runs at %d trials: every simultaneous interval covers in %.1f %% (SE %.1f), every unadjusted one in %.1f %% (SE %.1f)\n",
        n, t, 100 * ps, 100 * sqrt(ps * (1 - ps) / n), 100 * pu, 100 * sqrt(pu * (1 - pu) / n)
}'
if [ -n "$ca_" ]; then
    awk -v s="$asimul" -v u="$aunadj" -v n="$runs" 'BEGIN {
        ps = s / n; pu = u / n
        printf "change in expected annual loss: every simultaneous interval covers in %.1f %% (SE %.1f), every unadjusted one in %.1f %% (SE %.1f)\n",
            100 * ps, 100 * sqrt(ps * (1 - ps) / n), 100 * pu, 100 * sqrt(pu * (1 - pu) / n)
    }'
fi
