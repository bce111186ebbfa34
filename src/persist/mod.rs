//! What killchain writes to be read back by itself: a shard's `tally.json` ([`tally`]), and the
//! identities an honest shard's counts satisfy ([`audit`]).
//!
//! Invariant: pure, like the reports: reading and writing the files is `app`'s business.

pub(crate) mod audit;
pub mod tally;
