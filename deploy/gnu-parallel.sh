#!/usr/bin/env bash
# Runs SCENARIO as N shards on this machine with GNU parallel (one shard per core, one thread
# each), then merges them into OUT/<scenario file stem>/, the files a single run would write.
#
#   deploy/gnu-parallel.sh scenarios/ransomware-midsize.toml 8 out
#
# KILLCHAIN names the binary (default: killchain on the PATH).
set -euo pipefail
SCENARIO=${1:?usage: deploy/gnu-parallel.sh SCENARIO N [OUT]}
N=${2:?usage: deploy/gnu-parallel.sh SCENARIO N [OUT]}
OUT=${3:-out}
STEM=$(basename "$SCENARIO" .toml)
killchain=${KILLCHAIN:-killchain}

parallel "$killchain" run "$SCENARIO" --shard {}/"$N" --threads 1 --out "$OUT"/shard-{} --quiet ::: $(seq 1 "$N")
"$killchain" merge "$OUT"/shard-*/"$STEM" --out "$OUT"
