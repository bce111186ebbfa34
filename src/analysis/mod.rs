//! Counts → decisions: arms of a comparison and their pairing ([`arms`]), Monte Carlo against
//! exact ([`check`]), and the search for the best portfolio within a budget ([`optimize`]), the
//! marginal value of each control ([`rank`]).
//!
//! Invariant: `analysis` plays trials only through `sim` and imports nothing from `report`,
//! `persist` or `app`.

pub mod arms;
pub mod chains;
pub mod check;
pub mod frontier;
pub mod optimize;
pub mod rank;
