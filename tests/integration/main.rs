//! Integration tests, one binary: CLI behaviour, exact agreement, determinism, output format.

mod cli;
mod exact;
