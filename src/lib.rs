//! killchain: Monte Carlo simulation of attack scenarios along the Lockheed Martin Cyber Kill
//! Chain.
//!
//! A scenario file describes a defended environment, an adversary's techniques at each of the
//! seven phases, and the defender's controls. [`scenario`] parses and validates it; [`engine`]
//! runs seeded trials in parallel and returns a [`stats::Tally`]; [`report`] turns the tally into
//! CSV, JSON and a terminal funnel; [`shard`] cuts a run into slices and merges their tallies; [`optimize`] searches the portfolios of controls with a cost for the best within a budget. [`rng`] is the only source of randomness.

pub mod analysis;
pub mod app;
pub mod cli;
pub mod money;
pub mod persist;
pub mod phase;
pub mod report;
pub mod scenario;
pub mod sim;
pub mod stats;

pub use sim::{engine, exact, rng};
