//! Hostile input and faults, one regression test per hole found by trying killchain as an
//! attacker or an unlucky user would: crafted scenario files, result folders and shards,
//! signals at awkward moments, concurrent writers, huge sizes. Each test is the hole's
//! reproducer, shrunk, and asserts the refusal or the behaviour that closes it.

mod folders;
mod input;
mod math;
mod memory;
mod merge;
mod time;
