//! The only place seeds, random streams and random slots are defined.
//!
//! ## Layout
//! A run's seed keys a ChaCha8 generator (`rand_chacha`). Trial `i` takes words `2i` and `2i+1`
//! of that keystream as its 64-bit *trial key*, so any trial's key is found by seeking, and a
//! run split into chunks, threads or shards reads exactly the same keys. Consecutive trials share
//! ChaCha blocks, so the block cost is not paid per trial.
//!
//! Every random decision of a trial then reads a fixed *slot*: a 64-bit id built from the
//! decision's kind, phase, attempt and (for a control's rolls) a hash of the control's id. The
//! value of a slot is the SplitMix64 output for state `key + slot * γ` — a counter-based function
//! of (seed, trial, slot), never "the next number". So a decision sees the same number whatever
//! other decisions were taken, skipped, added or removed: switching one control on or off changes
//! nothing any other decision sees (common random numbers), and a slot nobody reads costs nothing.
//! New kinds of decision (durations, sampled inputs) take new [`SlotKind`]s.
//!
//! Draws are compared as integers: a Bernoulli(p) event fires when the top 53 bits of the draw
//! are below `round(p · 2^53)`, which is exact for p = 0 and p = 1.

use rand::{Rng, RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Domain separation for the ChaCha8 key (bytes 8..32); bytes 0..8 hold the seed.
const KEY_DOMAIN: &[u8; 24] = b"killchain/trial-keys/v1\0";
/// SplitMix64's increment (the golden ratio in 64-bit fixed point).
const GAMMA: u64 = 0x9e37_79b9_7f4a_7c15;
/// Fixed-point scale of probabilities: 2^53.
const SCALE_BITS: u32 = 53;

/// Kinds of random decision a trial makes. The numeric value is part of the slot layout:
/// never renumber, only append.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum SlotKind {
    /// The weighted pick of a technique for one attempt.
    Pick = 0,
    /// The technique's success roll for one attempt.
    Success = 1,
    /// A control's roll to fire on one attempt.
    Fire = 2,
    /// A detect or deceive control's response roll after it fired.
    Response = 3,
    /// The number of campaigns in one simulated year (read from the year's stream, see
    /// [`year_stream`]).
    Campaigns = 4,
    /// The loss of a completed campaign, drawn from the impact distribution.
    Impact = 5,
}

/// Identifies one random decision within a trial.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Slot(u64);

impl Slot {
    /// The slot of a decision. `control_tag` is [`control_tag`] of the control's id for
    /// [`SlotKind::Fire`] and [`SlotKind::Response`], and 0 otherwise.
    #[inline]
    pub const fn new(kind: SlotKind, phase_idx: usize, attempt: u32, control_tag: u64) -> Slot {
        Slot(
            (control_tag << 24)
                | ((kind as u64) << 16)
                | ((phase_idx as u64 & 0xff) << 8)
                | (attempt as u64 & 0xff),
        )
    }
}

impl Slot {
    /// The slot's offset in a trial's SplitMix64 sequence: `draw(key, slot)` is
    /// `mix(key + offset)`. Batched code computes it once per slot for many trials.
    #[inline(always)]
    pub const fn offset(self) -> SlotOffset {
        SlotOffset(self.0.wrapping_mul(GAMMA))
    }
}

/// A slot premultiplied for [`TrialStream::draw53_at`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotOffset(u64);

/// A 40-bit tag for a control id (FNV-1a, folded), so a control's slots depend on its id and
/// not on its position in the file: the same id gets the same random numbers in any variant.
pub fn control_tag(id: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in id.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    (h ^ (h >> 40)) & ((1 << 40) - 1)
}

/// Domain separation of an adversary's seed in a threat landscape.
const ADVERSARY_DOMAIN: &[u8; 23] = b"killchain/adversary/v1\0";

/// The seed of one adversary's campaigns in a threat landscape: the first eight bytes of
/// SHA-256(domain, the run's seed, the adversary's id), as a seed in 0 ..= 2^63 − 1. Keyed by the
/// id, not the adversary's place in the file, so adding, removing or changing one adversary
/// changes no other adversary's trials or years.
pub fn adversary_seed(seed: u64, id: &str) -> u64 {
    use sha2::{Digest, Sha256};
    let digest = Sha256::new()
        .chain_update(ADVERSARY_DOMAIN)
        .chain_update(seed.to_le_bytes())
        .chain_update(id.as_bytes())
        .finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_le_bytes(first) >> 1
}

/// The random source of one trial: a 64-bit key from which every slot is derived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrialStream(u64);

impl TrialStream {
    /// A stream with a given key (tests script outcomes this way).
    pub const fn from_key(key: u64) -> TrialStream {
        TrialStream(key)
    }

    /// The 64-bit uniform value of `slot` in this trial.
    #[inline(always)]
    pub fn draw(self, slot: Slot) -> u64 {
        splitmix64(self.0.wrapping_add(slot.offset().0))
    }

    /// The top 53 bits of the slot's value: uniform on [0, 2^53).
    #[inline(always)]
    pub fn draw53(self, slot: Slot) -> u64 {
        self.draw(slot) >> (64 - SCALE_BITS)
    }

    /// [`Self::draw53`] of the slot whose offset is `offset` (same value, precomputed slot).
    #[inline(always)]
    pub fn draw53_at(self, offset: SlotOffset) -> u64 {
        splitmix64(self.0.wrapping_add(offset.0)) >> (64 - SCALE_BITS)
    }

    /// The key, for storing streams in arrays.
    #[inline(always)]
    pub const fn key(self) -> u64 {
        self.0
    }

    /// A uniform value in [0, 1) with 53 random bits.
    #[inline(always)]
    pub fn unit(self, slot: Slot) -> f64 {
        self.draw53(slot) as f64 * (1.0 / (1u64 << SCALE_BITS) as f64)
    }

    /// [`Self::unit`] of the slot whose offset is `offset` (same value, precomputed slot).
    #[inline(always)]
    pub fn unit_at(self, offset: SlotOffset) -> f64 {
        self.draw53_at(offset) as f64 * (1.0 / (1u64 << SCALE_BITS) as f64)
    }

    /// Whether an event of probability `t` happens at `slot`. Reads nothing for p = 0 or 1.
    #[inline(always)]
    pub fn happens(self, slot: Slot, t: Threshold) -> bool {
        if t.0 == 0 {
            false
        } else if t.0 >= Threshold::ONE.0 {
            true
        } else {
            self.draw53(slot) < t.0
        }
    }
}

/// Domain separation of the year streams from the trial keys.
const YEAR_DOMAIN: u64 = 0x6b63_2f79_6561_7273; // "kc/years"

/// The random source of simulated year `year` of a run with `seed`: a counter-based key, so any
/// year's draws are found without the years before it, and they share nothing with the trials'
/// keys. A year reads [`SlotKind::Campaigns`] for its number of campaigns.
pub fn year_stream(seed: u64, year: u64) -> TrialStream {
    let base = splitmix64(seed ^ YEAR_DOMAIN);
    TrialStream(splitmix64(base.wrapping_add(year.wrapping_mul(GAMMA))))
}

#[inline(always)]
fn splitmix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A probability as an integer threshold on 53-bit draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Threshold(u64);

impl Threshold {
    /// Certainty.
    pub const ONE: Threshold = Threshold(1 << SCALE_BITS);

    /// The threshold of probability `p` in [0, 1] (values outside are clamped).
    #[inline]
    pub fn new(p: f64) -> Threshold {
        Threshold((p.clamp(0.0, 1.0) * (1u64 << SCALE_BITS) as f64).round() as u64)
    }

    /// The threshold as a 53-bit fixed-point integer.
    #[inline(always)]
    pub const fn raw(self) -> u64 {
        self.0
    }

    /// The probability this threshold realises exactly.
    pub fn probability(self) -> f64 {
        self.0 as f64 / (1u64 << SCALE_BITS) as f64
    }
}

/// Yields the trial keys of a contiguous range of trials, in order.
pub struct TrialKeys {
    rng: ChaCha8Rng,
}

impl TrialKeys {
    /// Keys for trials `first_trial, first_trial + 1, …` of a run with `seed`.
    pub fn starting_at(seed: u64, first_trial: u64) -> TrialKeys {
        let mut key = [0u8; 32];
        key[..8].copy_from_slice(&seed.to_le_bytes());
        key[8..].copy_from_slice(KEY_DOMAIN);
        let mut rng = ChaCha8Rng::from_seed(key);
        rng.set_stream(0);
        rng.set_word_pos(2 * u128::from(first_trial));
        TrialKeys { rng }
    }

    /// The next trial's stream.
    #[inline]
    pub fn next_stream(&mut self) -> TrialStream {
        TrialStream(self.rng.next_u64())
    }

    /// The keys of the next `keys.len()` trials, in order: the same as that many calls of
    /// [`Self::next_stream`], read from the keystream in bulk.
    #[inline]
    pub fn fill_keys(&mut self, keys: &mut [u64]) {
        self.rng.fill(keys);
    }
}

/// A 53-bit draw as a uniform in (0, 1): the middle of its cell, never 0 or 1.
pub(crate) fn midpoint_unit(d: u64) -> f64 {
    (d as f64 + 0.5) * (1.0 / (1u64 << 53) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trial_key_depends_only_on_seed_and_trial_index() {
        let mut all = TrialKeys::starting_at(7, 0);
        let sequential: Vec<_> = (0..100).map(|_| all.next_stream()).collect();
        for i in [0u64, 1, 31, 32, 33, 63, 64, 99] {
            let mut k = TrialKeys::starting_at(7, i);
            assert_eq!(k.next_stream(), sequential[i as usize], "trial {i}");
        }
        assert_ne!(TrialKeys::starting_at(8, 0).next_stream(), sequential[0]);
    }

    /// Keys read in bulk are the keys read one by one, wherever a run starts and however many
    /// are read at once (across the generator's 64-word buffers).
    #[test]
    fn bulk_keys_equal_keys_read_one_by_one() {
        for first in [0u64, 1, 31, 32, 33, 1_000_003] {
            let mut one = TrialKeys::starting_at(5, first);
            let mut bulk = TrialKeys::starting_at(5, first);
            for len in [1, 7, 32, 33, 100, 4096] {
                let expect: Vec<u64> = (0..len).map(|_| one.next_stream().key()).collect();
                let mut got = vec![0; len];
                bulk.fill_keys(&mut got);
                assert_eq!(got, expect, "first {first}, len {len}");
            }
        }
    }

    /// Pins the stream for one seed: a change here changes every published result.
    #[test]
    fn value_stability() {
        let mut keys = TrialKeys::starting_at(20261127, 1_000_000);
        let s = keys.next_stream();
        let slot = Slot::new(SlotKind::Fire, 2, 1, control_tag("mail-sandbox"));
        let got = [
            s.0,
            s.draw(Slot::new(SlotKind::Pick, 0, 0, 0)),
            s.draw(slot),
        ];
        let expect = [
            0x8d68_4391_ba03_d82f,
            0x31d0_775a_6821_af4b,
            0x7d04_c704_c77e_e64d,
        ];
        assert_eq!(got, expect, "{got:#x?}");
    }

    /// The mixer is SplitMix64: state γ (seed 0, first step) gives the published first output.
    #[test]
    fn mixer_is_splitmix64() {
        assert_eq!(splitmix64(GAMMA), 0xe220_a839_7b1d_cdaf);
        let s = TrialStream::from_key(0);
        assert_eq!(s.draw(Slot(1)), 0xe220_a839_7b1d_cdaf);
    }

    #[test]
    fn precomputed_offsets_give_the_same_draw() {
        let s = TrialStream::from_key(0x1234_5678_9abc_def0);
        let slot = Slot::new(SlotKind::Response, 6, 2, control_tag("soc"));
        assert_eq!(s.draw53_at(slot.offset()), s.draw53(slot));
    }

    #[test]
    fn slots_differ_by_every_field() {
        let tag = control_tag("edr");
        let base = Slot::new(SlotKind::Fire, 3, 1, tag);
        for other in [
            Slot::new(SlotKind::Response, 3, 1, tag),
            Slot::new(SlotKind::Fire, 4, 1, tag),
            Slot::new(SlotKind::Fire, 3, 2, tag),
            Slot::new(SlotKind::Fire, 3, 1, control_tag("edr2")),
        ] {
            assert_ne!(base, other);
        }
    }

    #[test]
    fn thresholds_are_exact_at_the_ends_and_close_inside() {
        let s = TrialStream::from_key(42);
        let slot = Slot::new(SlotKind::Success, 0, 0, 0);
        assert!(!s.happens(slot, Threshold::new(0.0)));
        assert!(s.happens(slot, Threshold::new(1.0)));
        for p in [1e-9, 0.1, 0.45, 0.5, 0.999_999] {
            assert!((Threshold::new(p).probability() - p).abs() < 1e-15);
        }
    }

    /// The derived slot values are uniform: a chi-square test over 64 bins for 2^18 draws
    /// spread over trials and slots (99.9 % critical value for 63 degrees of freedom: 103.4).
    #[test]
    fn slot_values_are_uniform() {
        let mut keys = TrialKeys::starting_at(1, 0);
        let mut bins = [0u64; 64];
        let n = 1 << 18;
        for i in 0..n / 8 {
            let s = keys.next_stream();
            for a in 0..8u32 {
                let slot = Slot::new(SlotKind::Fire, (i % 7) as usize, a, control_tag("x"));
                bins[(s.draw(slot) >> 58) as usize] += 1;
            }
        }
        let expected = n as f64 / 64.0;
        let chi2: f64 = bins
            .iter()
            .map(|&o| (o as f64 - expected) * (o as f64 - expected) / expected)
            .sum();
        assert!(chi2 < 103.4, "chi2 = {chi2}");
    }
}
