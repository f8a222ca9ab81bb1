//! The one duration grammar of every flag and prompt in rt-tui, rt-agent and rt-sim.
//!
//! humantime's grammar with a unit always required: `90s`, `15m`, `24h`, `7d`, `2w`, and
//! combinations such as `1h 30m`, decimals such as `1.5h`; long unit names (`15min`, `2hours`, `3days`) are accepted too.
//! A bare number is refused, because each program used to read it differently (hours, seconds)
//! — the unit removes the guess. Durations are whole seconds, more than zero and at most ten
//! years.

use std::time::Duration;

/// The longest duration any flag accepts.
pub const MAX: Duration = Duration::from_secs(10 * 365 * 86_400);

/// Examples shown in messages and help texts.
pub const EXAMPLES: &str = "90s, 15m, 24h or 7d";

/// Why a duration was refused. The message names the input and shows the grammar.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid duration {input:?}: {reason}; write a number with a unit, e.g. {EXAMPLES}")]
pub struct DurationError {
    input: String,
    reason: String,
}

impl DurationError {
    fn new(input: &str, reason: impl Into<String>) -> Self {
        DurationError {
            input: input.to_string(),
            reason: reason.into(),
        }
    }
}

/// Parses a duration (see the module docs). Usable directly as a clap `value_parser`.
pub fn parse(s: &str) -> Result<Duration, DurationError> {
    let t = s.trim();
    if t.is_empty() {
        return Err(DurationError::new(s, "it is empty"));
    }
    if t.chars().all(|c| c.is_ascii_digit()) {
        return Err(DurationError::new(s, "the unit is missing"));
    }
    let d = humantime::parse_duration(t).map_err(|e| DurationError::new(s, e.to_string()))?;
    if d.is_zero() {
        return Err(DurationError::new(s, "it must be more than zero"));
    }
    if d.subsec_nanos() != 0 {
        return Err(DurationError::new(s, "it must be whole seconds"));
    }
    if d > MAX {
        return Err(DurationError::new(s, "it is longer than ten years"));
    }
    Ok(d)
}

/// [`parse`] in whole seconds.
pub fn parse_secs(s: &str) -> Result<u64, DurationError> {
    parse(s).map(|d| d.as_secs())
}

/// [`parse`] as a chrono duration (for time arithmetic on timestamps).
pub fn parse_chrono(s: &str) -> Result<chrono::Duration, DurationError> {
    let d = parse(s)?;
    chrono::Duration::from_std(d).map_err(|_| DurationError::new(s, "it is too long"))
}

/// Seconds in the grammar's shortest exact form: `900` -> `15m`, `90` -> `90s`, `86400` -> `1d`.
/// What [`parse`] reads back to the same number.
pub fn format_secs(secs: u64) -> String {
    if secs > 0 && secs.is_multiple_of(86_400) {
        format!("{}d", secs / 86_400)
    } else if secs > 0 && secs.is_multiple_of(3600) {
        format!("{}h", secs / 3600)
    } else if secs > 0 && secs.is_multiple_of(60) {
        format!("{}m", secs / 60)
    } else {
        format!("{secs}s")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// The grammar every duration flag and prompt shares (issue 16, item 4).
    #[test]
    fn grammar_table() {
        let ok: &[(&str, u64)] = &[
            ("90s", 90),
            ("1s", 1),
            ("15m", 900),
            ("15min", 900),
            ("5 min", 300),
            ("24h", 86_400),
            ("2hours", 7_200),
            ("7d", 604_800),
            ("3days", 259_200),
            ("2w", 1_209_600),
            ("1h 30m", 5_400),
            ("1h30m", 5_400),
            (" 15m ", 900),
            ("3650d", 315_360_000),
            ("1.5h", 5_400),
        ];
        for (input, secs) in ok {
            assert_eq!(parse_secs(input), Ok(*secs), "{input:?}");
        }
        let bad: &[(&str, &str)] = &[
            ("", "empty"),
            ("   ", "empty"),
            ("90", "unit is missing"),
            ("0", "unit is missing"),
            ("0s", "more than zero"),
            ("0m", "more than zero"),
            ("500ms", "whole seconds"),
            ("1m 500ms", "whole seconds"),
            ("3651d", "ten years"),
            ("m", ""),
            ("5 parsecs", ""),
            ("fast", ""),
            ("-5m", ""),
        ];
        for (input, why) in bad {
            let e = parse(input).unwrap_err().to_string();
            assert!(e.contains(why), "{input:?}: {e}");
            assert!(e.contains(EXAMPLES), "{input:?}: {e}");
            assert!(e.contains(&format!("{input:?}")), "{input:?}: {e}");
        }
    }

    #[test]
    fn format_reads_back() {
        for secs in [1, 59, 60, 90, 900, 3_600, 5_400, 86_400, 90_000, 604_800] {
            assert_eq!(parse_secs(&format_secs(secs)), Ok(secs), "{secs}");
        }
        assert_eq!(format_secs(900), "15m");
        assert_eq!(format_secs(86_400), "1d");
        assert_eq!(format_secs(90), "90s");
    }

    #[test]
    fn chrono_form() {
        assert_eq!(parse_chrono("7d").unwrap(), chrono::Duration::days(7));
    }
}
