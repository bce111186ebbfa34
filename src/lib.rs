//! killchain: Monte Carlo simulation of attack scenarios along the Lockheed Martin Cyber Kill
//! Chain.
//!
//! A scenario file describes a defended environment, an adversary's techniques at each of the
//! seven phases, and the defender's controls. [`scenario`] parses and validates it into the
//! model; [`sim`] plays seeded trials through one [`sim::Session`] over a [`sim::Schedule`] (or
//! evaluates them exactly); [`stats`] holds the counts and intervals; [`analysis`] turns them into
//! decisions (pairing, rank, optimize); [`report`] and [`persist`] render bytes; [`app`] is the
//! command layer, the only one that reads files, writes results or prints. ARCHITECTURE.md has
//! the map and the invariants.

// Printing goes through `app::console`, which escapes what reaches the terminal.
#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod analysis;
pub mod app;
pub mod cli;
pub mod input;
pub mod math;
pub mod money;
pub(crate) mod persist;
pub mod phase;
pub mod report;
pub mod scenario;
pub mod sim;
pub mod stats;

pub use app::fuzzing;
pub use sim::{engine, exact};
