#!/bin/sh
# Renders a killchain report.html to a PNG with headless Chromium (Debian's `chromium` package),
# offline: no network, no sync, no first-run or component-update traffic, a throwaway profile.
#
#   scripts/screenshot-report.sh REPORT.html OUT.png [WIDTH] [HEIGHT]
#
# The README's docs/report.png is made by:
#   cargo run --release -- compare scenarios/ransomware-midsize.toml --report --quiet
#   scripts/screenshot-report.sh output/ransomware-midsize/report.html docs/report.png 1280 4200
# docs/report-run.png and docs/report-rank.png: the same after `run` and after `rank` + `report`.
set -eu

if [ "$#" -lt 2 ]; then
    echo "usage: $0 REPORT.html OUT.png [WIDTH] [HEIGHT]" >&2
    exit 2
fi
report=$1
out=$2
width=${3:-1100}
height=${4:-1900}

browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
    echo "error: chromium not found; install it with: apt-get install -y chromium" >&2
    exit 1
fi
if [ ! -f "$report" ]; then
    echo "error: $report: no such file" >&2
    exit 1
fi

profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
abs=$(cd "$(dirname "$report")" && pwd)/$(basename "$report")
case $out in
    /*) target=$out ;;
    *) target=$(pwd)/$out ;;
esac

"$browser" --headless --no-sandbox --disable-gpu --disable-background-networking \
    --disable-component-update --disable-sync --no-first-run --hide-scrollbars \
    --user-data-dir="$profile" --window-size="$width,$height" \
    --screenshot="$target" "file://$abs" 2>/dev/null
echo "wrote $out"
