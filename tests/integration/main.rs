//! Integration tests, one binary: CLI behaviour, exact agreement, determinism, properties.

mod architecture;
mod cli;
mod compare;
mod determinism;
mod exact;
mod formula;
mod generate;
mod hostile;
mod init;
mod interrupt;
mod limits;
mod loss;
mod methods;
mod optimize;
mod pages;
mod power;
mod progress;
mod properties;
mod schema_agreement;
mod seeds;
mod shards;
mod show;
mod snapshots;
mod support;
mod variants;
mod wording;
