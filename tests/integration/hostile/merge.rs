//! Crafted and altered `tally.json` shards: integrity, consistency, overflow and sizes.
