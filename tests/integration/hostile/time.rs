//! Time and scale: interruption within a bounded time at any trial count, shard cuts, thread counts.
