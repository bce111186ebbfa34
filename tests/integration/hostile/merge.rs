//! Crafted and altered `tally.json` shards: integrity, consistency, overflow and sizes.
//!
//! Each edit is tried twice: as written (the digest no longer matches) and resealed, as an
//! attacker who recomputes `content_sha256` (and the scenario's SHA-256) would; then the counts'
//! identities or the checked sums must refuse it.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command as Process;
use std::time::{Duration, Instant};

use serde_json::Value;
use tempfile::TempDir;

use crate::support::{killchain, refused};

const TINY: &str = "tests/data/valid/tiny.toml";
const LOSS: &str = "tests/data/valid/loss.toml";

/// Shards `1..=n` of a `trials`-trial run of `scenario`, under a fresh folder; their folders.
fn shards(scenario: &Path, trials: u64, n: u64) -> (TempDir, Vec<PathBuf>) {
    let root = TempDir::new().unwrap();
    let stem = scenario.file_stem().unwrap();
    let dirs = (1..=n)
        .map(|k| {
            let out = root.path().join(format!("shard-{k}"));
            killchain()
                .arg("run")
                .arg(scenario)
                .args(["--quiet", "--trials", &trials.to_string()])
                .args(["--shard", &format!("{k}/{n}")])
                .arg("--out")
                .arg(&out)
                .assert()
                .success();
            out.join(stem)
        })
        .collect();
    (root, dirs)
}

/// The tally.json of shard folder `dir`.
fn tally(dir: &Path) -> PathBuf {
    dir.join("tally.json")
}

/// Applies `edit` to `dir`'s tally.json; resealed (digest recomputed) when `reseal`.
fn edit(dir: &Path, reseal: bool, edit: &dyn Fn(&mut Value)) {
    let path = tally(dir);
    let before = fs::read(&path).unwrap();
    let mut v: Value = serde_json::from_slice(&before).unwrap();
    edit(&mut v);
    let mut bytes = serde_json::to_vec_pretty(&v).unwrap();
    if reseal {
        bytes = killchain::fuzzing::reseal(&bytes).expect("still a tally file");
    }
    assert_ne!(bytes, before, "the edit changed nothing");
    fs::write(&path, bytes).unwrap();
}

/// `merge DIRS` must be refused (status 2, nothing written) with a short stderr that names the
/// first altered file; its stderr.
fn merge_refused(dirs: &[PathBuf], altered: &Path) -> String {
    let mut args = vec![PathBuf::from("merge")];
    args.extend(dirs.iter().cloned());
    let assert = refused(&args).stdout("");
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(stderr.len() < 4096, "{} bytes of stderr", stderr.len());
    assert!(
        stderr.starts_with(&format!("error: {}: ", tally(altered).display())),
        "{stderr}"
    );
    stderr
}

const TAMPERED: &str = "content_sha256 does not match the file's content; the file was damaged or altered after the shard wrote it";

/// One edit of shard 2 of 3: refused for its digest as written, and for `resealed` (a piece of
/// the message) once its digest is recomputed.
fn refused_both_ways(scenario: &str, trials: u64, change: &dyn Fn(&mut Value), resealed: &str) {
    for reseal in [false, true] {
        let (_root, dirs) = shards(Path::new(scenario), trials, 3);
        edit(&dirs[1], reseal, change);
        let stderr = merge_refused(&dirs, &dirs[1]);
        let expected = if reseal { resealed } else { TAMPERED };
        assert!(stderr.contains(expected), "resealed {reseal}: {stderr}");
    }
}

fn bump(v: &mut Value, by: i64) {
    *v = (v.as_i64().unwrap() + by).into();
}

#[test]
fn an_edited_completed_count_is_refused() {
    refused_both_ways(
        TINY,
        3000,
        &|v| bump(&mut v["tally"]["completed"], 1),
        "counts do not add up: completed is ",
    );
}

#[test]
fn an_edited_broken_count_is_refused() {
    refused_both_ways(
        TINY,
        3000,
        &|v| bump(&mut v["tally"]["broken"][2], 1),
        "counts do not add up: reached at exploitation is ",
    );
}

#[test]
fn an_edited_control_break_count_is_refused() {
    // Shift a break from the failed techniques to the mail filter: the breaks still add up,
    // but the filter cannot have broken more chains than it prevented attempts.
    refused_both_ways(
        TINY,
        3000,
        &|v| {
            let t = &mut v["tally"];
            let prevented = t["techniques"][2]["prevented"].as_i64().unwrap();
            let fired = t["control_fired"][0].as_i64().unwrap();
            assert_eq!(prevented, fired);
            let breaks = t["control_breaks"][0].as_i64().unwrap();
            bump(&mut t["control_breaks"][0], fired - breaks + 1);
            bump(&mut t["breaks_technique_failed"], -(fired - breaks + 1));
        },
        "counts do not add up: control \"mail-filter\": ",
    );
}

#[test]
fn a_loss_sum_of_2_128_minus_1_is_refused() {
    refused_both_ways(
        LOSS,
        20_000,
        &|v| v["loss"]["tally"]["sum"] = u128::MAX.to_string().into(),
        "counts do not add up: the loss sum 340282366920938463463374607431768211455 is outside ",
    );
}

#[test]
fn a_changed_scenario_with_its_hash_recomputed_is_still_checked() {
    // The attacker changes the embedded scenario (a control's effectiveness) and recomputes
    // both its SHA-256 and the digest: the shards then differ in scenario.
    let (_root, dirs) = shards(Path::new(TINY), 3000, 3);
    edit(&dirs[1], true, &|v| {
        let source = v["scenario_source"].as_str().unwrap().replace("0.5", "0.6");
        let sha = sha256_of(&source);
        v["scenario_source"] = source.into();
        v["scenario_sha256"] = sha.into();
    });
    let stderr = merge_refused(&dirs, &dirs[1]);
    assert!(stderr.contains(": scenario SHA-256 "), "{stderr}");
}

/// The SHA-256 of `text` as `run` writes it (from `sha256sum`, an independent implementation).
fn sha256_of(text: &str) -> String {
    let dir = TempDir::new().unwrap();
    let file = dir.path().join("s");
    fs::write(&file, text).unwrap();
    let out = Process::new("sha256sum").arg(&file).output().unwrap();
    String::from_utf8(out.stdout).unwrap()[..64].to_owned()
}

/// Every field of a shard file is covered by the digest: changing any one value (a number by
/// one, a string by a letter) as written is refused.
#[test]
fn every_field_is_covered_by_the_digest() {
    let (_root, dirs) = shards(Path::new(LOSS), 20_000, 2);
    let a = fs::read(tally(&dirs[0])).unwrap();
    let b = fs::read(tally(&dirs[1])).unwrap();
    assert!(killchain::fuzzing::merge_bytes(&[&a, &b]).is_ok());
    let original: Value = serde_json::from_slice(&b).unwrap();
    fn leaves(v: &Value, path: Vec<String>, out: &mut Vec<Vec<String>>) {
        match v {
            Value::Object(m) => m.iter().for_each(|(k, x)| {
                let mut p = path.clone();
                p.push(k.clone());
                leaves(x, p, out)
            }),
            Value::Array(xs) => xs.iter().enumerate().for_each(|(i, x)| {
                let mut p = path.clone();
                p.push(i.to_string());
                leaves(x, p, out)
            }),
            _ => out.push(path),
        }
    }
    let mut paths = Vec::new();
    leaves(&original, Vec::new(), &mut paths);
    assert!(paths.len() > 100, "{}", paths.len());
    for path in paths {
        if path == ["content_sha256"] {
            continue;
        }
        let mut v = original.clone();
        let mut leaf = &mut v;
        for k in &path {
            leaf = match leaf {
                Value::Array(xs) => &mut xs[k.parse::<usize>().unwrap()],
                other => &mut other[k.as_str()],
            };
        }
        *leaf = match &*leaf {
            Value::Number(n) if n.is_u64() => (n.as_u64().unwrap() ^ 1).into(),
            Value::Number(n) => (n.as_f64().unwrap() + 1.0).into(),
            Value::String(s) => format!("{s}1").into(),
            other => panic!("{path:?}: {other}"),
        };
        let edited = serde_json::to_vec_pretty(&v).unwrap();
        let problems = killchain::fuzzing::merge_bytes(&[&a, &edited]).unwrap_err();
        let expected = format!("shard-2/tally.json: {TAMPERED}");
        let format = path == ["format_version"];
        assert!(
            problems == [expected] || (format && problems[0].contains("format version")),
            "{path:?}: {problems:?}"
        );
    }
}

/// A scenario where a degrade control fires on every attempt of two techniques: its count can
/// honestly exceed the shard's trials, so two shards of a huge run can hold counts that fit
/// each alone but not their sum.
fn overflow_scenario() -> String {
    let mut s = String::from(
        "\n[scenario]\nname = \"Overflow\"\ntrials = 4\nseed = 1\n\n[adversary]\nname = \"a\"\nmax_attempts = 2\n",
    );
    for (id, phase, success) in [
        ("a", "reconnaissance", "0.0"),
        ("b", "reconnaissance", "0.0"),
        ("w", "weaponization", "1.0"),
        ("d", "delivery", "1.0"),
        ("e", "exploitation", "1.0"),
        ("i", "installation", "1.0"),
        ("c", "command_and_control", "1.0"),
        ("x", "actions_on_objectives", "1.0"),
    ] {
        s += &format!(
            "\n[[adversary.techniques]]\nid = \"{id}\"\nphase = \"{phase}\"\nsuccess = {success}\n"
        );
    }
    s + "\n[[controls]]\nid = \"slow\"\naction = \"degrade\"\nphases = [\"reconnaissance\"]\neffectiveness = 0.5\n"
}

#[test]
fn sums_that_overflow_are_refused_not_wrapped() {
    let dir = TempDir::new().unwrap();
    let scenario = dir.path().join("overflow.toml");
    fs::write(&scenario, overflow_scenario()).unwrap();
    let (_root, dirs) = shards(&scenario, 4, 2);
    // Every trial fails both techniques at reconnaissance; scaled to a run of 2^64 − 4 trials,
    // each shard's counts are consistent and fit in 64 bits, the degrade control's 2n firings
    // included, but the two shards' firings together do not.
    let total: u64 = u64::MAX - 3;
    let n = total / 2;
    for (k, d) in dirs.iter().enumerate() {
        edit(d, true, &|v| {
            v["trials"] = total.into();
            v["trial_start"] = (k as u64 * n).into();
            v["trial_end"] = ((k as u64 + 1) * n).into();
            let t = &mut v["tally"];
            assert_eq!(t["trials"], 2, "shard {k}");
            for key in ["trials", "breaks_technique_failed"] {
                t[key] = n.into();
            }
            t["reached"][0] = n.into();
            t["broken"][0] = n.into();
            for tech in 0..2 {
                t["techniques"][tech]["attempts"] = n.into();
                t["techniques"][tech]["failed"] = n.into();
            }
            t["control_fired"][0] = (2 * n).into();
        });
    }
    let mut args = vec![PathBuf::from("merge")];
    args.extend(dirs.iter().cloned());
    let assert = refused(&args).stdout("");
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert_eq!(
        stderr,
        format!(
            "error: {}: the sum of the control_fired counts overflows when added to the shards before it; no honest run counts that much, so a file was altered\n",
            tally(&dirs[1]).display()
        )
    );
}

/// `merge` of `dirs` with at most 1 GiB of address space: must be refused within `limit`, with
/// less than `max_stderr` bytes of stderr; its stderr.
fn merge_bounded(dirs: &[PathBuf], limit: Duration, max_stderr: usize) -> String {
    let out = TempDir::new().unwrap();
    let started = Instant::now();
    let output = Process::new("sh")
        .arg("-c")
        .arg(r#"ulimit -v 1048576 && exec "$0" "$@""#)
        .arg(env!("CARGO_BIN_EXE_killchain"))
        .arg("merge")
        .args(dirs)
        .arg("--out")
        .arg(out.path())
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    let took = started.elapsed();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(took < limit, "took {took:?}");
    assert!(
        stderr.len() < max_stderr,
        "{} bytes of stderr",
        stderr.len()
    );
    assert!(fs::read_dir(out.path()).unwrap().next().is_none());
    stderr
}

#[test]
fn a_huge_shard_count_allocates_nothing_by_it() {
    // Shard 1 of a 1-trial run in 2 shards holds no trial, so it is a consistent shard 1 of N for
    // any N once its digest is recomputed.
    for n in [1u64 << 63, 1 << 40, 10_000_000] {
        for reseal in [false, true] {
            let (_root, dirs) = shards(Path::new(TINY), 1, 2);
            edit(&dirs[0], reseal, &|v| v["shards"] = n.into());
            let stderr = merge_bounded(&dirs[..1], Duration::from_secs(20), 1024);
            let expected = if reseal {
                format!(
                    "error: shards 2..{n} of {n} missing ({} shards); merge needs the folders of all {n} shards\n",
                    n - 1
                )
            } else {
                format!("error: {}: {TAMPERED}\n", tally(&dirs[0]).display())
            };
            assert_eq!(stderr, expected, "shards {n}, resealed {reseal}");
        }
    }
}

#[test]
fn missing_shards_are_named_as_runs() {
    let (_root, dirs) = shards(Path::new(TINY), 10, 7);
    let some: Vec<PathBuf> = [1, 4, 5].iter().map(|&i| dirs[i].clone()).collect();
    let stderr = merge_bounded(&some, Duration::from_secs(20), 1024);
    assert_eq!(
        stderr,
        "error: shards 1, 3, 4, 7 of 7 missing; merge needs the folders of all 7 shards\n"
    );
}

#[test]
fn problems_are_capped_with_an_exact_count() {
    let root = TempDir::new().unwrap();
    let dirs: Vec<PathBuf> = (0..60).map(|i| root.path().join(i.to_string())).collect();
    let stderr = merge_bounded(&dirs, Duration::from_secs(20), 16 * 1024);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 50, "{stderr}");
    assert!(lines[0].contains("/0/tally.json: cannot read the shard's tally ("));
    assert!(lines[48].contains("/48/tally.json: cannot read"));
    assert_eq!(lines[49], "error: and 11 more problems (60 in all)");
}
