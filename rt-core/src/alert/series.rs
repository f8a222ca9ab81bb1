//! The state machine of one alert (one rule on one subject): pending while its condition waits
//! out its `for` duration, firing, kept firing for `keep_firing_s` after the condition stops,
//! flapping when it fires too often; and what consumers were last told about it ("exposed"), so
//! that only the net change is published.

use super::{Finding, Severity};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// Where an alert's condition stands, on sample time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "phase", rename_all = "snake_case")]
pub enum Phase {
    Inactive,
    /// The condition holds since `since`, not yet for its `for` duration.
    Pending {
        since: DateTime<Utc>,
    },
    /// Firing since `since` (the condition began at `active_since`). `clear_since`: the
    /// condition stopped holding then, and the alert is kept firing until `keep_firing_s` passes.
    Firing {
        active_since: DateTime<Utc>,
        since: DateTime<Utc>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        clear_since: Option<DateTime<Utc>>,
    },
}

/// What consumers were last told about the alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Exposed {
    pub open: bool,
    pub flapping: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
}

/// Timings of the rule that drives a series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Timing {
    pub for_s: u64,
    pub keep_firing_s: u64,
}

/// One alert's state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Series {
    pub phase: Phase,
    /// The latest finding while the condition held (severity, text, value).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finding: Option<Finding>,
    /// Last sample time this alert's subject was reported at all.
    pub last_data: DateTime<Utc>,
    /// Sample times at which it started firing, within the flap window.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub firings: Vec<DateTime<Utc>>,
    /// Last sample time the phase or severity changed (for flap detection and as the time of
    /// published transitions).
    pub changed_at: DateTime<Utc>,
    #[serde(default)]
    pub flapping: bool,
    #[serde(default)]
    pub exposed: Exposed,
}

fn secs(s: u64) -> Duration {
    Duration::seconds(
        i64::try_from(s)
            .unwrap_or(i64::MAX / 1000)
            .min(i64::MAX / 1000),
    )
}

impl Series {
    pub fn new(t: DateTime<Utc>) -> Series {
        Series {
            phase: Phase::Inactive,
            finding: None,
            last_data: t,
            firings: Vec::new(),
            changed_at: t,
            flapping: false,
            exposed: Exposed::default(),
        }
    }

    /// True while pending or firing (the condition is "active" for hysteresis).
    pub fn active(&self) -> bool {
        !matches!(self.phase, Phase::Inactive)
    }

    /// Severity of the condition while pending or firing.
    pub fn active_severity(&self) -> Option<Severity> {
        self.active()
            .then(|| self.finding.as_ref().map(|f| f.severity))
            .flatten()
    }

    pub fn firing(&self) -> bool {
        matches!(self.phase, Phase::Firing { .. })
    }

    /// One sample's verdict at sample time `t`: `Some` when the condition holds (hysteresis is
    /// already applied by the rule), `None` when it does not.
    pub fn observe(&mut self, t: DateTime<Utc>, finding: Option<Finding>, timing: Timing) {
        self.last_data = t;
        match (self.phase.clone(), finding) {
            (Phase::Inactive, Some(f)) => {
                self.finding = Some(f);
                if timing.for_s == 0 {
                    self.start_firing(t, t);
                } else {
                    self.phase = Phase::Pending { since: t };
                }
            }
            (Phase::Inactive, None) => {}
            (Phase::Pending { since }, Some(f)) => {
                self.finding = Some(f);
                if t - since >= secs(timing.for_s) {
                    self.start_firing(since, t);
                }
            }
            (Phase::Pending { .. }, None) => {
                self.phase = Phase::Inactive;
                self.finding = None;
            }
            (
                Phase::Firing {
                    active_since,
                    since,
                    ..
                },
                Some(f),
            ) => {
                if self.finding.as_ref().map(|f| f.severity) != Some(f.severity) {
                    self.changed_at = t;
                }
                self.finding = Some(f);
                self.phase = Phase::Firing {
                    active_since,
                    since,
                    clear_since: None,
                };
            }
            (
                Phase::Firing {
                    active_since,
                    since,
                    clear_since,
                },
                None,
            ) => {
                let cleared = clear_since.unwrap_or(t);
                if t - cleared >= secs(timing.keep_firing_s) {
                    self.resolve(t);
                } else {
                    self.phase = Phase::Firing {
                        active_since,
                        since,
                        clear_since: Some(cleared),
                    };
                }
            }
        }
    }

    /// The subject was not reported in this sample. A pending condition starts over; a firing
    /// one resolves once the subject has been missing for `absent_resolve_after_s`.
    pub fn absent(&mut self, t: DateTime<Utc>, absent_resolve_after_s: u64) {
        match self.phase {
            Phase::Pending { .. } => {
                self.phase = Phase::Inactive;
                self.finding = None;
            }
            Phase::Firing { .. } if t - self.last_data >= secs(absent_resolve_after_s) => {
                self.resolve(t);
            }
            _ => {}
        }
    }

    /// Updates the flapping flag at sample time `t`: flapping starts when `max_firings` firings
    /// fall within `window_s`, and stops after `window_s` without a change.
    pub fn update_flapping(&mut self, t: DateTime<Utc>, max_firings: u32, window_s: u64) {
        let window = secs(window_s);
        self.firings.retain(|f| t - *f < window);
        if !self.flapping && self.firings.len() >= max_firings as usize {
            self.flapping = true;
            self.changed_at = t;
        } else if self.flapping && t - self.changed_at >= window {
            self.flapping = false;
            self.firings.clear();
            self.changed_at = t;
        }
    }

    /// What consumers should now be told: open while firing or flapping.
    pub fn exposure(&self) -> Exposed {
        let open = self.firing() || self.flapping;
        Exposed {
            open,
            flapping: self.flapping,
            severity: if open {
                self.finding
                    .as_ref()
                    .map(|f| f.severity)
                    .or(self.exposed.severity)
            } else {
                None
            },
        }
    }

    /// When the current firing episode began (the condition's start), if firing.
    pub fn active_since(&self) -> Option<DateTime<Utc>> {
        match self.phase {
            Phase::Firing { active_since, .. } => Some(active_since),
            Phase::Pending { since } => Some(since),
            Phase::Inactive => None,
        }
    }

    fn start_firing(&mut self, active_since: DateTime<Utc>, t: DateTime<Utc>) {
        self.phase = Phase::Firing {
            active_since,
            since: t,
            clear_since: None,
        };
        self.firings.push(t);
        self.changed_at = t;
    }

    fn resolve(&mut self, t: DateTime<Utc>) {
        self.phase = Phase::Inactive;
        self.changed_at = t;
        // Keep the last finding's severity for a flapping alert's exposure; the text is stale.
        if !self.flapping {
            self.finding = None;
        }
    }

    /// Nothing left to remember: inactive, not flapping, nothing exposed, no recent firings.
    pub fn idle(&self) -> bool {
        !self.active() && !self.flapping && !self.exposed.open && self.firings.is_empty()
    }
}
