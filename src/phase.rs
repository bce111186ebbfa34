//! The seven phases of the Lockheed Martin Cyber Kill Chain and the six courses of action.
//!
//! Phase order comes from [`Phase::ALL`], never from the order of entries in a scenario file.

use std::fmt;

/// One phase of the kill chain, in chain order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Phase {
    /// Research, identification and selection of targets.
    Reconnaissance,
    /// Coupling an exploit with a deliverable payload.
    Weaponization,
    /// Transmission of the weapon to the target.
    Delivery,
    /// Triggering the intruder's code.
    Exploitation,
    /// Installing a persistent foothold.
    Installation,
    /// A channel to control the compromised host.
    CommandAndControl,
    /// The intruder's goals: exfiltration, encryption, destruction.
    ActionsOnObjectives,
}

/// Number of phases in the chain.
pub const N_PHASES: usize = 7;

impl Phase {
    /// Every phase, in kill-chain order.
    pub const ALL: [Phase; N_PHASES] = [
        Phase::Reconnaissance,
        Phase::Weaponization,
        Phase::Delivery,
        Phase::Exploitation,
        Phase::Installation,
        Phase::CommandAndControl,
        Phase::ActionsOnObjectives,
    ];

    /// The id used in scenario files and CSV output.
    pub const fn id(self) -> &'static str {
        match self {
            Phase::Reconnaissance => "reconnaissance",
            Phase::Weaponization => "weaponization",
            Phase::Delivery => "delivery",
            Phase::Exploitation => "exploitation",
            Phase::Installation => "installation",
            Phase::CommandAndControl => "command_and_control",
            Phase::ActionsOnObjectives => "actions_on_objectives",
        }
    }

    /// A human-readable name for terminal output.
    pub const fn title(self) -> &'static str {
        match self {
            Phase::Reconnaissance => "Reconnaissance",
            Phase::Weaponization => "Weaponization",
            Phase::Delivery => "Delivery",
            Phase::Exploitation => "Exploitation",
            Phase::Installation => "Installation",
            Phase::CommandAndControl => "Command and control",
            Phase::ActionsOnObjectives => "Actions on objectives",
        }
    }

    /// Zero-based position in the chain.
    pub const fn index(self) -> usize {
        self as usize
    }

    /// Parses a phase id; `recon` and `c2` are accepted as aliases.
    pub fn from_id(s: &str) -> Option<Phase> {
        match s {
            "recon" => Some(Phase::Reconnaissance),
            "c2" => Some(Phase::CommandAndControl),
            _ => Phase::ALL.into_iter().find(|p| p.id() == s),
        }
    }

    /// Every accepted spelling, for suggestions in error messages.
    pub fn spellings() -> impl Iterator<Item = &'static str> {
        Phase::ALL.iter().map(|p| p.id()).chain(["recon", "c2"])
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// A defender's course of action, from the kill-chain paper's matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CourseOfAction {
    /// Notices the attempt; a response may evict the adversary.
    Detect,
    /// Prevents the attempt outright.
    Deny,
    /// Interrupts a running attempt.
    Disrupt,
    /// Lowers the attempt's chance of success.
    Degrade,
    /// Diverts the attempt into a decoy; a response may evict the adversary.
    Deceive,
    /// Destroys the adversary's operation.
    Destroy,
}

impl CourseOfAction {
    /// Every course of action, in the order the engine applies them to an attempt.
    pub const ENGINE_ORDER: [CourseOfAction; 6] = [
        CourseOfAction::Deny,
        CourseOfAction::Deceive,
        CourseOfAction::Degrade,
        CourseOfAction::Disrupt,
        CourseOfAction::Detect,
        CourseOfAction::Destroy,
    ];

    /// The id used in scenario files and CSV output.
    pub const fn id(self) -> &'static str {
        match self {
            CourseOfAction::Detect => "detect",
            CourseOfAction::Deny => "deny",
            CourseOfAction::Disrupt => "disrupt",
            CourseOfAction::Degrade => "degrade",
            CourseOfAction::Deceive => "deceive",
            CourseOfAction::Destroy => "destroy",
        }
    }

    /// Parses a course-of-action id.
    pub fn from_id(s: &str) -> Option<CourseOfAction> {
        Self::ENGINE_ORDER.into_iter().find(|a| a.id() == s)
    }

    /// Whether a control of this action has a `response` probability (eviction after it fires).
    pub const fn has_response(self) -> bool {
        matches!(self, CourseOfAction::Detect | CourseOfAction::Deceive)
    }

    /// Position in [`Self::ENGINE_ORDER`].
    pub const fn engine_rank(self) -> usize {
        match self {
            CourseOfAction::Deny => 0,
            CourseOfAction::Deceive => 1,
            CourseOfAction::Degrade => 2,
            CourseOfAction::Disrupt => 3,
            CourseOfAction::Detect => 4,
            CourseOfAction::Destroy => 5,
        }
    }
}

impl fmt::Display for CourseOfAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phase_ids_round_trip_and_aliases_resolve() {
        for (i, p) in Phase::ALL.into_iter().enumerate() {
            assert_eq!(p.index(), i);
            assert_eq!(Phase::from_id(p.id()), Some(p));
        }
        assert_eq!(Phase::from_id("recon"), Some(Phase::Reconnaissance));
        assert_eq!(Phase::from_id("c2"), Some(Phase::CommandAndControl));
        assert_eq!(Phase::from_id("deliver"), None);
    }

    #[test]
    fn engine_rank_matches_engine_order() {
        for (i, a) in CourseOfAction::ENGINE_ORDER.into_iter().enumerate() {
            assert_eq!(a.engine_rank(), i);
            assert_eq!(CourseOfAction::from_id(a.id()), Some(a));
        }
    }
}
