//! Arbitrary bytes as the `tally.json` files of two shards, through `merge`'s checks and sum to
//! the files it writes. Any panic is a bug: a damaged or crafted shard must come back as
//! problems, and shards that pass every check must render.
//!
//! Input: one mode byte, then the first file, a NUL byte, the second file. Mode bit 0 reseals
//! both files (recomputes `content_sha256`, as anyone who edits a shard can), so that mutations
//! reach the checks behind the digest; bit 1 merges the first file alone.
#![no_main]

use killchain::fuzzing;
use libfuzzer_sys::fuzz_target;

/// Trials above which a run with `[loss]` is skipped: the year layout `merge` checks the
/// shards' slices against is computed year by year, so its time grows with the trials.
const MAX_LOSS_TRIALS: u64 = 1_000_000;

/// Whether `bytes` claim a `[loss]` run of more than [`MAX_LOSS_TRIALS`] trials.
fn costly(bytes: &[u8]) -> bool {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(bytes) else {
        return false;
    };
    let trials = v.get("trials").and_then(serde_json::Value::as_u64);
    let loss = v
        .get("scenario_source")
        .and_then(serde_json::Value::as_str)
        .is_some_and(|s| s.contains("loss"));
    loss && trials.is_some_and(|t| t > MAX_LOSS_TRIALS)
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let (a, b) = match rest.iter().position(|&x| x == 0) {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, &[][..]),
    };
    let mut files: Vec<Vec<u8>> = if mode & 2 != 0 {
        vec![a.to_vec()]
    } else {
        vec![a.to_vec(), b.to_vec()]
    };
    if mode & 1 != 0 {
        for f in &mut files {
            if let Some(sealed) = fuzzing::reseal(f) {
                *f = sealed;
            }
        }
    }
    if files.iter().any(|f| costly(f)) {
        return;
    }
    let shards: Vec<&[u8]> = files.iter().map(Vec::as_slice).collect();
    if let Ok(out) = fuzzing::merge_bytes(&shards) {
        assert!(out.iter().any(|(name, _)| *name == "run.json"));
    }
});
