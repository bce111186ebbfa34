//! What killchain writes to be read back by itself: a shard's `tally.json` ([`tally`]).
//!
//! Invariant: pure, like the reports: reading and writing the files is `app`'s business.

pub mod tally;
