#!/usr/bin/env bash
# Measures the engine benchmark (`benches/engine.rs`, scenario `benches/data/reference.toml`) of a
# git revision and of the working tree side by side on the same machine, interleaving their runs
# so that both see the same load.
#
# Usage: scripts/bench-engine-ab.sh [REV] [ROUNDS] [FILTER]
#   REV     revision to compare with (default: HEAD)
#   ROUNDS  alternating rounds of A then B (default: 3)
#   FILTER  criterion filter (default: "reference/threads", the batched engine)
#
# Each side is built in its own target folder under ${AB_DIR:-/tmp/killchain-ab}; the revision
# is exported there with `git archive` (the repository's worktrees are not touched). Prints
# criterion's time and throughput lines, labelled A (REV) and B (working tree); from the second
# round on, criterion also prints each side's change since its previous round. Run it on an
# otherwise idle machine: the numbers are only comparable within one run of the script.
set -euo pipefail

rev=${1:-HEAD}
rounds=${2:-3}
filter=${3:-reference/threads}
root=$(git rev-parse --show-toplevel)
dir=${AB_DIR:-/tmp/killchain-ab}
mkdir -p "$dir"
sha=$(git -C "$root" rev-parse --verify "$rev^{commit}")
tree="$dir/tree-$sha"
rm -rf "$tree"
mkdir -p "$tree"
git -C "$root" archive "$sha" | tar -x -C "$tree"

# Builds the engine bench of the checkout in $1 with target folder $2; prints the binary's path.
build() {
    (cd "$1" && CARGO_TARGET_DIR="$2" cargo bench --locked --bench engine --no-run \
        --message-format=json 2>/dev/null) |
        jq -r 'select(.reason == "compiler-artifact" and .target.name == "engine"
                      and .executable != null) | .executable' | tail -n 1
}

echo "building A = $rev ($sha)" >&2
bin_a=$(build "$tree" "$dir/target-a")
echo "building B = working tree of $root" >&2
bin_b=$(build "$root" "$dir/target-b")
[[ -x "$bin_a" && -x "$bin_b" ]] || { echo "build failed" >&2; exit 1; }

run() { # label binary; each side keeps its own criterion data, so no line compares A with B
    (cd "$root" && CRITERION_HOME="$dir/criterion-$1" "$2" --bench "$filter" 2>/dev/null) |
        awk -v l="$1" '/^reference\// || /time:|thrpt:/ { print l, $0 }'
}
for ((r = 1; r <= rounds; r++)); do
    echo "round $r"
    run "A" "$bin_a"
    run "B" "$bin_b"
done
