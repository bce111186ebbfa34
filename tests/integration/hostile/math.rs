//! Portable math: the values that decide a bit come from one implementation on every machine.
