//! The alert endpoints' wire types (`/api/v1/alerts`): one stored alert episode, and the ack and
//! silence request bodies with their validation.

use super::{ForecastNote, Severity};
use crate::validate::limits::MAX_STRING_LEN;
use crate::{DeviceId, Problem, Validate};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Where a stored alert episode stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum AlertState {
    /// The condition holds but has not yet held for the rule's `for` duration.
    Pending,
    Firing,
    Resolved,
}

impl AlertState {
    pub const ALL: [AlertState; 3] = [
        AlertState::Pending,
        AlertState::Firing,
        AlertState::Resolved,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AlertState::Pending => "pending",
            AlertState::Firing => "firing",
            AlertState::Resolved => "resolved",
        }
    }

    pub fn parse(s: &str) -> Option<AlertState> {
        AlertState::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

impl std::fmt::Display for AlertState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Parses a severity name (`info`, `warning`, `critical`).
pub fn parse_severity(s: &str) -> Option<Severity> {
    [Severity::Info, Severity::Warning, Severity::Critical]
        .into_iter()
        .find(|v| v.as_str() == s)
}

/// One alert episode of one device (`GET /api/v1/alerts` answers a `Page` of them): a rule on a subject from the moment
/// it became pending or fired until it resolved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AlertInfo {
    pub id: i64,
    pub device_id: DeviceId,
    pub device_name: String,
    /// `rule:subject`.
    pub key: String,
    pub rule: String,
    pub subject: String,
    pub severity: Severity,
    pub state: AlertState,
    /// Sample time the alert began (pending) or fired.
    pub since: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_at: Option<DateTime<Utc>>,
    pub summary: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forecast: Option<ForecastNote>,
    /// It fired from a backlog (the condition began long before it was published).
    pub late: bool,
    pub flapping: bool,
    /// When the server last evaluated this alert's rule for the device.
    pub last_evaluated: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledged_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledged_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub silenced_until: Option<DateTime<Utc>>,
}

/// `POST /api/v1/alerts/{id}/ack` body (may be empty).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AckRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// `POST /api/v1/alerts/{id}/silence` body: no notifications for the alert for `duration_s`
/// seconds (clients parse their one duration grammar, e.g. `2h`, into seconds).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SilenceRequest {
    pub duration_s: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// The longest silence: 90 days.
pub const MAX_SILENCE_S: u64 = 90 * 86_400;

fn check_comment(c: &Option<String>, out: &mut Vec<Problem>) {
    if let Some(c) = c {
        if c.chars().count() > MAX_STRING_LEN {
            out.push(Problem::new(
                "comment",
                format!("must be at most {MAX_STRING_LEN} characters"),
            ));
        }
        if c.chars().any(char::is_control) {
            out.push(Problem::new(
                "comment",
                "must not contain control characters",
            ));
        }
    }
}

impl Validate for AckRequest {
    fn validate(&self, _now: DateTime<Utc>) -> Vec<Problem> {
        let mut out = Vec::new();
        check_comment(&self.comment, &mut out);
        out
    }
}

impl Validate for SilenceRequest {
    fn validate(&self, _now: DateTime<Utc>) -> Vec<Problem> {
        let mut out = Vec::new();
        if !(1..=MAX_SILENCE_S).contains(&self.duration_s) {
            out.push(Problem::new(
                "duration_s",
                format!(
                    "must be between 1 and {MAX_SILENCE_S} seconds (90 days), got {}",
                    self.duration_s
                ),
            ));
        }
        check_comment(&self.comment, &mut out);
        out
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn silence_bounds_and_comments_are_checked() {
        let now = Utc::now();
        let ok = SilenceRequest {
            duration_s: 7200,
            comment: Some("disk ordered".into()),
        };
        assert!(ok.is_valid(now));
        let zero = SilenceRequest {
            duration_s: 0,
            comment: None,
        };
        assert_eq!(zero.validate(now)[0].field, "duration_s");
        let long = SilenceRequest {
            duration_s: MAX_SILENCE_S + 1,
            comment: Some("a\u{7}".into()),
        };
        assert_eq!(long.validate(now).len(), 2);
        assert!(AckRequest::default().is_valid(now));
    }

    #[test]
    fn states_and_severities_parse_back() {
        for s in AlertState::ALL {
            assert_eq!(AlertState::parse(s.as_str()), Some(s));
        }
        assert_eq!(parse_severity("critical"), Some(Severity::Critical));
        assert_eq!(parse_severity("loud"), None);
    }
}
