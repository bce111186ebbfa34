//! Model → counts: the random slots ([`rng`]), the work plan ([`schedule`]), the one driver
//! ([`session`]), the engines ([`engine`]: the per-trial reference and the batched one) and the
//! exact evaluator ([`exact`]).
//!
//! Invariant: `sim` imports nothing from `analysis`, `report`, `persist` or `app`, and does no I/O.

pub mod engine;
pub mod exact;
pub mod landscape;
pub(crate) mod rng;
pub mod schedule;
pub mod session;
pub mod years;

pub use schedule::Schedule;
pub use session::{ArmResult, PoolError, Session, Stopped};
