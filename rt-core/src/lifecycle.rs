//! Asset lifecycle states and the one function that decides which transitions are allowed.
//!
//! ```text
//!  in_stock ──► deployed ──► in_repair ──► deployed
//!     ▲  │         │  │          │
//!     │  │         │  └──► lost ─┴──► (found) in_stock / in_repair
//!     │  └─────────┴────────────────► retired (final)
//!     └──────────── deployed / in_repair / lost (returned to stock)
//! ```
//!
//! `retired` is final: a retired device's token is revoked and it cannot come back; a new
//! enrollment of the same hardware is refused until an admin decides otherwise.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Where a device is in its life as an asset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum LifecycleState {
    /// Owned, not handed out (spare, being prepared).
    InStock,
    /// In use by someone.
    Deployed,
    /// Away for repair.
    InRepair,
    /// Reported lost or stolen.
    Lost,
    /// Permanently out of service. Final.
    Retired,
}

impl LifecycleState {
    pub const ALL: [LifecycleState; 5] = [
        LifecycleState::InStock,
        LifecycleState::Deployed,
        LifecycleState::InRepair,
        LifecycleState::Lost,
        LifecycleState::Retired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LifecycleState::InStock => "in_stock",
            LifecycleState::Deployed => "deployed",
            LifecycleState::InRepair => "in_repair",
            LifecycleState::Lost => "lost",
            LifecycleState::Retired => "retired",
        }
    }

    /// The states this one may move to, in display order.
    pub fn allowed_next(self) -> Vec<LifecycleState> {
        LifecycleState::ALL
            .into_iter()
            .filter(|to| check_transition(self, *to).is_ok())
            .collect()
    }

    /// Whether devices in this state are expected to report telemetry.
    pub fn expects_telemetry(self) -> bool {
        matches!(self, LifecycleState::Deployed | LifecycleState::InStock)
    }
}

impl fmt::Display for LifecycleState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Returned when a lifecycle state name is unknown.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown lifecycle state {0:?}: use one of in_stock, deployed, in_repair, lost, retired")]
pub struct UnknownLifecycleState(pub String);

impl FromStr for LifecycleState {
    type Err = UnknownLifecycleState;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let norm = s.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        LifecycleState::ALL
            .into_iter()
            .find(|st| st.as_str() == norm)
            .ok_or_else(|| UnknownLifecycleState(s.to_string()))
    }
}

/// Why a lifecycle transition was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("device is already {0}")]
    Unchanged(LifecycleState),
    #[error("a retired device cannot change state (retired is final)")]
    FromRetired,
    #[error("cannot go from {from} to {to}: {reason}")]
    NotAllowed {
        from: LifecycleState,
        to: LifecycleState,
        reason: &'static str,
    },
}

/// THE rule for lifecycle changes. Every component asks this function; none compares strings.
pub fn check_transition(from: LifecycleState, to: LifecycleState) -> Result<(), TransitionError> {
    use LifecycleState::*;
    if from == to {
        return Err(TransitionError::Unchanged(from));
    }
    match (from, to) {
        (Retired, _) => Err(TransitionError::FromRetired),
        (InStock, Deployed | InRepair | Lost | Retired) => Ok(()),
        (Deployed, InStock | InRepair | Lost | Retired) => Ok(()),
        (InRepair, InStock | Deployed | Retired) => Ok(()),
        (InRepair, Lost) => Err(TransitionError::NotAllowed {
            from,
            to,
            reason: "a device in repair is with the repairer; mark it deployed or in_stock first",
        }),
        (Lost, InStock | InRepair | Retired) => Ok(()),
        (Lost, Deployed) => Err(TransitionError::NotAllowed {
            from,
            to,
            reason: "a found device goes back to in_stock (or in_repair) to be checked before it is deployed again",
        }),
        // Same-state pairs are handled above; list them so the match is exhaustive without a
        // catch-all that would silently allow a new state.
        (InStock, InStock) | (Deployed, Deployed) | (InRepair, InRepair) | (Lost, Lost) => {
            Err(TransitionError::Unchanged(from))
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::LifecycleState::*;
    use super::*;

    #[test]
    fn transition_table() {
        let table = [
            (InStock, Deployed, true),
            (InStock, InRepair, true),
            (InStock, Lost, true),
            (InStock, Retired, true),
            (Deployed, InStock, true),
            (Deployed, InRepair, true),
            (Deployed, Lost, true),
            (Deployed, Retired, true),
            (InRepair, InStock, true),
            (InRepair, Deployed, true),
            (InRepair, Retired, true),
            (InRepair, Lost, false),
            (Lost, InStock, true),
            (Lost, InRepair, true),
            (Lost, Retired, true),
            (Lost, Deployed, false),
            (Retired, InStock, false),
            (Retired, Deployed, false),
            (Retired, InRepair, false),
            (Retired, Lost, false),
        ];
        for (from, to, ok) in table {
            assert_eq!(check_transition(from, to).is_ok(), ok, "{from} -> {to}");
        }
        for s in LifecycleState::ALL {
            assert!(matches!(
                check_transition(s, s),
                Err(TransitionError::Unchanged(_)) | Err(TransitionError::FromRetired)
            ));
        }
    }

    #[test]
    fn refusal_reasons_are_human() {
        let err = check_transition(Retired, Deployed).unwrap_err();
        assert!(err.to_string().contains("retired is final"));
        let err = check_transition(Lost, Deployed).unwrap_err();
        assert!(err.to_string().contains("in_stock"));
    }

    #[test]
    fn parse_and_display_round_trip() {
        for s in LifecycleState::ALL {
            assert_eq!(s.as_str().parse::<LifecycleState>(), Ok(s));
        }
        assert_eq!("In-Repair".parse::<LifecycleState>(), Ok(InRepair));
        assert!("broken".parse::<LifecycleState>().is_err());
        assert_eq!(Retired.allowed_next(), Vec::<LifecycleState>::new());
        assert_eq!(Lost.allowed_next(), vec![InStock, InRepair, Retired]);
    }
}
