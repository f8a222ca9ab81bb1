//! Pure text helpers shared by the TUI and the scripted commands: relative times, sparklines,
//! numbers. Everything here is deterministic (the caller passes "now"). Durations are parsed by
//! `rt_client::duration`, the one grammar of every program.

use chrono::{DateTime, NaiveDate, Utc};

/// "just now", "3m ago", "2h ago", "5d ago"; "never" for None.
pub fn relative_time(t: Option<DateTime<Utc>>, now: DateTime<Utc>) -> String {
    let Some(t) = t else {
        return "never".into();
    };
    let secs = (now - t).num_seconds();
    if secs < 0 {
        // Clock skew between server and console: do not print "in 3s".
        return "just now".into();
    }
    match secs {
        0..=9 => "just now".into(),
        10..=59 => format!("{secs}s ago"),
        60..=3_599 => format!("{}m ago", secs / 60),
        3_600..=86_399 => format!("{}h ago", secs / 3_600),
        _ => format!("{}d ago", secs / 86_400),
    }
}

/// Parses an RFC 3339 timestamp or a plain date (`2026-11-01`, midnight UTC).
pub fn parse_time(s: &str) -> Result<DateTime<Utc>, String> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d")
        && let Some(t) = d.and_hms_opt(0, 0, 0)
    {
        return Ok(t.and_utc());
    }
    Err(format!(
        "invalid time {s:?}: use RFC 3339 (2026-11-01T08:00:00Z) or a date (2026-11-01)"
    ))
}

/// Glyph sets for sparklines.
const BLOCKS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
const ASCII_LEVELS: [char; 8] = ['_', '.', ',', '-', '~', '=', '*', '#'];

/// Scale for a sparkline: fixed (percentages) or taken from the data.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Scale {
    Fixed { min: f64, max: f64 },
    Auto,
}

/// Renders `values` (oldest first; None = gap) into at most `width` characters. When there are
/// more values than columns, each column shows the maximum of its bucket (peaks stay visible);
/// when fewer, the line is right-aligned (newest at the right edge). Gaps render as a space.
pub fn sparkline(values: &[Option<f64>], width: usize, scale: Scale, ascii: bool) -> String {
    if width == 0 || values.is_empty() {
        return String::new();
    }
    let cols: Vec<Option<f64>> = if values.len() <= width {
        values.to_vec()
    } else {
        (0..width)
            .map(|c| {
                let a = c * values.len() / width;
                let b = ((c + 1) * values.len() / width).max(a + 1);
                values[a..b]
                    .iter()
                    .flatten()
                    .copied()
                    .filter(|v| v.is_finite())
                    .fold(None, |acc: Option<f64>, v| {
                        Some(acc.map_or(v, |x| x.max(v)))
                    })
            })
            .collect()
    };
    let (lo, hi) = match scale {
        Scale::Fixed { min, max } => (min, max),
        Scale::Auto => {
            let finite = cols.iter().flatten().copied().filter(|v| v.is_finite());
            let lo = finite.clone().fold(f64::INFINITY, f64::min);
            let hi = finite.fold(f64::NEG_INFINITY, f64::max);
            if !lo.is_finite() {
                (0.0, 1.0)
            } else if (hi - lo).abs() < f64::EPSILON {
                // A flat line sits in the middle rather than on the floor.
                (lo - 1.0, hi + 1.0)
            } else {
                (lo, hi)
            }
        }
    };
    let glyphs = if ascii { &ASCII_LEVELS } else { &BLOCKS };
    cols.iter()
        .map(|v| match v {
            Some(v) if v.is_finite() => glyphs[level(*v, lo, hi)],
            _ => ' ',
        })
        .collect()
}

/// Index 0..=7 of `v` within `[lo, hi]` (clamped).
pub fn level(v: f64, lo: f64, hi: f64) -> usize {
    if hi <= lo {
        return 0;
    }
    let f = ((v - lo) / (hi - lo)).clamp(0.0, 1.0);
    ((f * 7.0).round() as usize).min(7)
}

/// "42%" or "-" when absent.
pub fn pct(v: Option<f64>) -> String {
    match v {
        Some(v) if v.is_finite() => format!("{:.0}%", v),
        _ => "-".into(),
    }
}

/// "61C" or "-".
pub fn temp(v: Option<f64>) -> String {
    match v {
        Some(v) if v.is_finite() => format!("{:.0}C", v),
        _ => "-".into(),
    }
}

/// Human bytes with binary units: "512 B", "3.0 GiB".
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// Bytes per second: "1.2 MiB/s".
pub fn rate(bps: Option<f64>) -> String {
    match bps {
        Some(v) if v.is_finite() && v >= 0.0 => format!("{}/s", bytes(v as u64)),
        _ => "-".into(),
    }
}

/// Stored text made safe to print: control characters, ANSI escapes and bidi overrides are shown
/// as `\u{1b}` (the one escaper, `rt_core::text::escape`).
pub fn safe(s: &str) -> std::borrow::Cow<'_, str> {
    rt_core::text::escape(s)
}

/// The console's cell formatter: escapes unsafe characters ([`safe`]), then truncates to
/// `width` display columns, ending with "…" (or "~" in ASCII mode) when cut.
pub fn truncate(s: &str, width: usize, ascii: bool) -> String {
    let s = safe(s);
    let s = s.as_ref();
    let n = s.chars().count();
    if n <= width {
        return s.to_string();
    }
    if width == 0 {
        return String::new();
    }
    let mut out: String = s.chars().take(width - 1).collect();
    out.push(if ascii { '~' } else { '…' });
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use chrono::{Duration, TimeZone};

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 27, 12, 0, 0).unwrap()
    }

    #[test]
    fn relative_times() {
        let n = now();
        assert_eq!(relative_time(None, n), "never");
        assert_eq!(relative_time(Some(n), n), "just now");
        assert_eq!(
            relative_time(Some(n + Duration::seconds(30)), n),
            "just now"
        );
        assert_eq!(relative_time(Some(n - Duration::seconds(42)), n), "42s ago");
        assert_eq!(
            relative_time(Some(n - Duration::seconds(3 * 60 + 59)), n),
            "3m ago"
        );
        assert_eq!(relative_time(Some(n - Duration::hours(2)), n), "2h ago");
        assert_eq!(relative_time(Some(n - Duration::days(9)), n), "9d ago");
    }

    #[test]
    fn times() {
        assert_eq!(
            parse_time("2026-11-01").unwrap(),
            Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap()
        );
        assert_eq!(
            parse_time("2026-11-01T10:00:00+02:00").unwrap(),
            Utc.with_ymd_and_hms(2026, 11, 1, 8, 0, 0).unwrap()
        );
        assert!(parse_time("yesterday").unwrap_err().contains("RFC 3339"));
    }

    #[test]
    fn sparkline_fixed_scale_maps_extremes() {
        let v = [Some(0.0), Some(50.0), Some(100.0), None, Some(150.0)];
        let s = sparkline(
            &v,
            10,
            Scale::Fixed {
                min: 0.0,
                max: 100.0,
            },
            false,
        );
        assert_eq!(s, "▁▅█ █");
        let a = sparkline(
            &v,
            10,
            Scale::Fixed {
                min: 0.0,
                max: 100.0,
            },
            true,
        );
        assert_eq!(a, "_~# #");
        assert!(a.is_ascii());
    }

    #[test]
    fn sparkline_auto_scale_and_flat_lines() {
        let v: Vec<Option<f64>> = [10.0, 20.0, 30.0].into_iter().map(Some).collect();
        assert_eq!(sparkline(&v, 3, Scale::Auto, false), "▁▅█");
        let flat = vec![Some(5.0); 4];
        assert_eq!(sparkline(&flat, 4, Scale::Auto, false), "▅▅▅▅");
        assert_eq!(sparkline(&[None, None], 4, Scale::Auto, false), "  ");
        assert_eq!(sparkline(&[], 4, Scale::Auto, false), "");
    }

    #[test]
    fn sparkline_downsamples_keeping_peaks() {
        let mut v = vec![Some(0.0); 100];
        v[57] = Some(100.0);
        let s = sparkline(
            &v,
            10,
            Scale::Fixed {
                min: 0.0,
                max: 100.0,
            },
            false,
        );
        assert_eq!(s.chars().count(), 10);
        assert_eq!(s, "▁▁▁▁▁█▁▁▁▁");
    }

    #[test]
    fn numbers() {
        assert_eq!(pct(Some(42.4)), "42%");
        assert_eq!(pct(None), "-");
        assert_eq!(pct(Some(f64::NAN)), "-");
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(3 * 1024 * 1024 * 1024), "3.0 GiB");
        assert_eq!(rate(Some(2048.0)), "2.0 KiB/s");
        assert_eq!(truncate("workstation-01", 8, false), "worksta…");
        assert_eq!(truncate("ws", 8, true), "ws");
        // Stored hostile text never reaches the terminal as itself.
        assert_eq!(truncate("\u{1b}[2Jpc", 20, false), "\\u{1b}[2Jpc");
        assert_eq!(truncate("a\u{202E}b", 20, false), "a\\u{202e}b");
        assert_eq!(truncate("\u{9b}31m\0", 20, false), "\\u{9b}31m\\u{0}");
    }
}
