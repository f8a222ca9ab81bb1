//! Device detail: identity and health reasons, sparklines over the chosen window, disks with
//! SMART and "full in N days", recent events.

use super::widgets::{bold, fg, health_marker};
use crate::format::{Scale, bytes, pct, rate, relative_time, sparkline, temp, truncate};
use crate::tui::state::{App, DetailState, Window};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use rt_core::api::MetricPoint;

type Getter = fn(&MetricPoint) -> Option<f64>;

/// The series shown as sparklines: label, getter, scale, formatter of a value.
type Series = (&'static str, Getter, Scale, fn(Option<f64>) -> String);

fn series() -> Vec<Series> {
    let pct100 = Scale::Fixed {
        min: 0.0,
        max: 100.0,
    };
    vec![
        ("CPU", |p| Some(p.cpu_avg), pct100, pct),
        ("RAM", |p| Some(p.mem_avg), pct100, pct),
        ("Disk", |p| p.disk_avg, pct100, pct),
        ("Net rx", |p| p.net_rx_bps, Scale::Auto, rate),
        ("Net tx", |p| p.net_tx_bps, Scale::Auto, rate),
        ("Temp", |p| p.temp_avg, Scale::Auto, temp),
        ("Battery", |p| p.battery_health_avg, pct100, pct),
    ]
}

pub fn render(f: &mut Frame, area: Rect, app: &App) {
    let Some(ds) = &app.detail else {
        return;
    };
    let lines = lines(ds, app, area.width);
    f.render_widget(Paragraph::new(lines), area);
}

fn section(title: String) -> Line<'static> {
    Line::from(Span::styled(
        title,
        bold().add_modifier(Modifier::UNDERLINED),
    ))
}

/// All lines of the detail screen, top to bottom; what does not fit is cut at the bottom
/// (events come last for that reason).
pub fn lines(ds: &DetailState, app: &App, width: u16) -> Vec<Line<'static>> {
    let t = app.theme;
    let ascii = t.ascii;
    let w = width as usize;
    let mut out: Vec<Line<'static>> = Vec::new();
    if let Some(e) = &ds.error {
        out.push(Line::styled(
            format!("! {e}"),
            fg(t, Color::Red).add_modifier(Modifier::BOLD),
        ));
    }
    let Some(d) = &ds.detail else {
        out.push(Line::raw("loading device…"));
        return out;
    };
    let s = &d.summary;
    let inv = &d.inventory;
    // Health and why.
    let mut h = vec![
        Span::styled("Health ", bold()),
        health_marker(s.health.level, t),
    ];
    if s.health.reasons.is_empty() {
        h.push(Span::raw("  no problems"));
    } else {
        h.push(Span::styled(
            format!("  {}", s.health.reasons.join("; ")),
            fg(t, Color::Red),
        ));
    }
    out.push(Line::from(h));
    out.push(Line::from(vec![
        Span::styled("State ", bold()),
        Span::raw(format!("{:<10} ", s.lifecycle_state.as_str())),
        Span::styled("User ", bold()),
        Span::raw(format!("{:<10} ", s.assignee.as_deref().unwrap_or("-"))),
        Span::styled("Tag ", bold()),
        Span::raw(format!("{:<10} ", s.asset_tag.as_deref().unwrap_or("-"))),
        Span::styled("Seen ", bold()),
        Span::raw(relative_time(s.last_seen, app.now)),
    ]));
    out.push(Line::from(vec![
        Span::styled("Host ", bold()),
        Span::raw(truncate(
            &format!(
                "{}  {} {} {}  {} ({} cores)  {} RAM",
                inv.hostname,
                inv.os_name,
                inv.os_version,
                inv.arch,
                inv.cpu_model,
                inv.cpu_cores,
                bytes(inv.memory_total_bytes)
            ),
            w.saturating_sub(5),
            ascii,
        )),
    ]));
    if let Some(n) = d.notes.as_deref().filter(|n| !n.is_empty()) {
        out.push(Line::from(vec![
            Span::styled("Notes ", bold()),
            Span::raw(truncate(n, w.saturating_sub(6), ascii)),
        ]));
    }

    // Sparklines.
    let windows: Vec<Span> = Window::ALL
        .iter()
        .flat_map(|win| {
            let label = win.label();
            let span = if *win == ds.window {
                Span::styled(format!("[{label}]"), bold())
            } else {
                Span::raw(format!(" {label} "))
            };
            [span]
        })
        .collect();
    let mut title = vec![Span::styled(
        format!("Last {} ", ds.window.label()),
        bold().add_modifier(Modifier::UNDERLINED),
    )];
    title.push(Span::raw(match &ds.metrics {
        Some(m) => format!("({} points, {})  w:", m.points.len(), m.resolution.as_str()),
        None => "(loading)  w:".to_string(),
    }));
    title.extend(windows);
    out.push(Line::from(title));
    let label_w = 8;
    let value_w = 32;
    let spark_w = w.saturating_sub(label_w + value_w + 2).max(8);
    for (label, get, scale, fmt) in series() {
        let values: Vec<Option<f64>> = ds
            .metrics
            .as_ref()
            .map(|m| m.points.iter().map(get).collect())
            .unwrap_or_default();
        if values.iter().all(Option::is_none) {
            if ds.metrics.is_some() {
                out.push(Line::from(vec![
                    Span::styled(format!("{label:<label_w$}"), bold()),
                    Span::styled("no data", fg(t, Color::DarkGray)),
                ]));
            }
            continue;
        }
        let last = values.iter().rev().flatten().next().copied();
        let max = values
            .iter()
            .flatten()
            .copied()
            .fold(None, |a: Option<f64>, v| Some(a.map_or(v, |x| x.max(v))));
        out.push(Line::from(vec![
            Span::styled(format!("{label:<label_w$}"), bold()),
            Span::styled(
                format!("{:<spark_w$}", sparkline(&values, spark_w, scale, ascii)),
                fg(t, Color::Cyan),
            ),
            Span::raw(format!("  now {} max {}", fmt(last), fmt(max))),
        ]));
    }

    // Disks.
    if let Some(latest) = &d.latest
        && !latest.disks.is_empty()
    {
        out.push(section("Disks".into()));
        for disk in &latest.disks {
            let smart = match &disk.smart {
                Some(sm) if sm.passed => Span::raw("SMART ok"),
                Some(_) => Span::styled(
                    "SMART FAILED",
                    fg(t, Color::Red).add_modifier(Modifier::BOLD),
                ),
                None => Span::styled("SMART n/a", fg(t, Color::DarkGray)),
            };
            let forecast = d
                .forecasts
                .iter()
                .find(|fc| fc.mount_point == disk.mount_point);
            let full = match forecast.and_then(|fc| fc.days_until_full) {
                Some(days) if days < 1.0 => "full in <1 day".to_string(),
                Some(days) => format!("full in {days:.0} days"),
                None => "not filling".to_string(),
            };
            let full_style = if forecast
                .and_then(|fc| fc.days_until_full)
                .is_some_and(|x| x < 14.0)
            {
                fg(t, Color::Red).add_modifier(Modifier::BOLD)
            } else {
                Style::new()
            };
            out.push(Line::from(vec![
                Span::raw(format!(
                    "{:<10} {:<5} {:>4} of {:>10}  ",
                    truncate(&disk.mount_point, 10, ascii),
                    truncate(&disk.kind, 5, ascii),
                    pct(disk.used_pct()),
                    bytes(disk.total_bytes)
                )),
                smart,
                Span::raw("  "),
                Span::styled(full, full_style),
            ]));
        }
    }

    // Events.
    out.push(section("Recent events".into()));
    if ds.events.is_empty() {
        out.push(Line::styled("none", fg(t, Color::DarkGray)));
    }
    for e in &ds.events {
        let text = format!(
            "{:>8}  {:<17} {:<7} {}",
            relative_time(Some(e.at), app.now),
            e.kind.as_str(),
            truncate(&e.actor, 7, ascii),
            e.message
        );
        out.push(Line::raw(truncate(&text, w, ascii)));
    }
    out
}
