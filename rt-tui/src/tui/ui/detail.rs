//! Device detail: health and why, inventory (serial, model, vendor, CPU, memory, OS, MACs),
//! disks with SMART and "full in N days", top processes of the latest sample, charts with time
//! axes and value scales over the chosen window, and events with paging. Wide screens put the
//! charts beside the facts; narrow ones stack them and cut at the bottom.

use super::alerts::severity_span;
use super::widgets::{bold, fg, health_marker};
use crate::format::{bytes, pct, rate, relative_time, temp, truncate};
use crate::tui::alerts::{acked, silenced};
use crate::tui::state::{App, DetailState, Window};
use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Chart, Dataset, GraphType, Paragraph};
use rt_core::api::{DeviceDetail, MetricPoint, MetricsResponse};

type Getter = fn(&MetricPoint) -> Option<f64>;

/// One chart: title, series (label, getter, colour), value formatter, fixed 0..100 scale or not.
struct ChartSpec {
    title: &'static str,
    series: Vec<(&'static str, Getter, Color)>,
    fmt: fn(Option<f64>) -> String,
    percent: bool,
}

fn charts() -> Vec<ChartSpec> {
    vec![
        ChartSpec {
            title: "CPU / RAM %",
            series: vec![
                ("cpu", |p| Some(p.cpu_avg), Color::Cyan),
                ("ram", |p| Some(p.mem_avg), Color::Magenta),
            ],
            fmt: pct,
            percent: true,
        },
        ChartSpec {
            // Auto-scaled: a disk filling by a few percent a week is a visible slope, not a
            // flat line at the top of a 0..100 scale.
            title: "Disk used %",
            series: vec![("disk", |p| p.disk_avg, Color::Yellow)],
            fmt: pct,
            percent: false,
        },
        ChartSpec {
            title: "Temperature",
            series: vec![("temp", |p| p.temp_avg, Color::Red)],
            fmt: temp,
            percent: false,
        },
        ChartSpec {
            title: "Network",
            series: vec![
                ("rx", |p| p.net_rx_bps, Color::Green),
                ("tx", |p| p.net_tx_bps, Color::Blue),
            ],
            fmt: rate,
            percent: false,
        },
    ]
}

pub fn render(f: &mut Frame, area: Rect, app: &App) {
    let Some(ds) = &app.detail else {
        return;
    };
    let Some(d) = &ds.detail else {
        let mut lines = error_line(ds, app);
        lines.push(Line::raw("loading device…"));
        f.render_widget(Paragraph::new(lines), area);
        return;
    };
    let facts = facts(ds, d, app, area.width);
    if area.width >= 120 && area.height >= 30 {
        // Facts and events on the left, charts on the right.
        let [left, right] =
            Layout::horizontal([Constraint::Percentage(48), Constraint::Percentage(52)])
                .spacing(1)
                .areas(area);
        let n = (facts.len() as u16).min(left.height.saturating_sub(6));
        let [top, bottom] =
            Layout::vertical([Constraint::Length(n), Constraint::Min(3)]).areas(left);
        f.render_widget(Paragraph::new(facts), top);
        events(f, bottom, ds, app);
        let specs = charts();
        let [tabs, rest] =
            Layout::vertical([Constraint::Length(1), Constraint::Min(4)]).areas(right);
        f.render_widget(Paragraph::new(window_tabs(ds)), tabs);
        let areas = Layout::vertical(vec![Constraint::Ratio(1, specs.len() as u32); specs.len()])
            .split(rest);
        for (spec, a) in specs.iter().zip(areas.iter()) {
            chart(f, *a, spec, ds, app);
        }
    } else {
        // Stacked: facts (cut to leave room), one chart (CPU/RAM), then events.
        let chart_h: u16 = if area.height >= 20 { 8 } else { 5 };
        let facts_h = (facts.len() as u16).min(area.height.saturating_sub(chart_h + 1 + 3));
        let [top, tabs, graph, bottom] = Layout::vertical([
            Constraint::Length(facts_h),
            Constraint::Length(1),
            Constraint::Length(chart_h),
            Constraint::Min(0),
        ])
        .areas(area);
        f.render_widget(Paragraph::new(facts), top);
        f.render_widget(Paragraph::new(window_tabs(ds)), tabs);
        if let Some(spec) = charts().first() {
            chart(f, graph, spec, ds, app);
        }
        events(f, bottom, ds, app);
    }
}

fn error_line(ds: &DetailState, app: &App) -> Vec<Line<'static>> {
    ds.error
        .iter()
        .map(|e| {
            Line::styled(
                format!("! {e}"),
                fg(app.theme, Color::Red).add_modifier(Modifier::BOLD),
            )
        })
        .collect()
}

fn section(title: String) -> Line<'static> {
    Line::from(Span::styled(
        title,
        bold().add_modifier(Modifier::UNDERLINED),
    ))
}

fn field(label: &str, value: String) -> Vec<Span<'static>> {
    vec![
        Span::styled(format!("{label} "), bold()),
        Span::raw(format!("{}  ", crate::format::safe(&value))),
    ]
}

/// Health, identity, disks, inventory and top processes, top to bottom (what matters most
/// first: narrow screens cut the rest).
pub fn facts(ds: &DetailState, d: &DeviceDetail, app: &App, width: u16) -> Vec<Line<'static>> {
    let t = app.theme;
    let ascii = t.ascii;
    let w = if width >= 120 {
        (width as usize * 48 / 100).max(40)
    } else {
        width as usize
    };
    let cut = |s: &str, n: usize| truncate(s, n, ascii);
    let mut out = error_line(ds, app);
    let s = &d.summary;
    let inv = &d.inventory;
    let mut h = vec![
        Span::styled("Health ", bold()),
        health_marker(s.health.level, t),
    ];
    if s.health.reasons.is_empty() {
        h.push(Span::raw("  no problems"));
    } else {
        h.push(Span::styled(
            format!(
                "  {}",
                cut(&s.health.reasons.join("; "), w.saturating_sub(12))
            ),
            fg(t, Color::Red),
        ));
    }
    out.push(Line::from(h));
    // Why it is alerting: one line per firing alert (rule:subject, since, summary), right
    // under the health line so that narrow screens keep them.
    for a in ds.alerts.iter().flatten() {
        let mut state = String::new();
        if acked(a) {
            state.push_str(" acked");
        }
        if silenced(a, app.now) {
            state.push_str(" silenced");
        }
        let text = format!(
            " {} {}{state}  {}",
            a.key,
            relative_time(Some(a.since), app.now),
            a.summary
        );
        out.push(Line::from(vec![
            Span::styled("Alert ", bold()),
            severity_span(a.severity, t),
            Span::raw(cut(&text, w.saturating_sub(10))),
        ]));
    }
    let mut l = field("State", s.lifecycle_state.as_str().to_string());
    l.extend(field("User", s.assignee.clone().unwrap_or("-".into())));
    l.extend(field("Tag", s.asset_tag.clone().unwrap_or("-".into())));
    let seen = relative_time(s.last_seen, app.now);
    let contact = relative_time(s.last_contact, app.now);
    // The last upload is shown when it tells more than the newest sample (a backlog upload).
    let contact = (s.last_contact.is_some() && contact != seen).then_some(contact);
    l.extend(field("Seen", seen));
    if let Some(c) = contact {
        l.extend(field("Contact", c));
    }
    out.push(Line::from(l));
    if let Some(n) = d.notes.as_deref().filter(|n| !n.is_empty()) {
        out.push(Line::from(vec![
            Span::styled("Notes ", bold()),
            Span::raw(cut(n, w.saturating_sub(6))),
        ]));
    }

    if let Some(latest) = &d.latest
        && !latest.disks.is_empty()
    {
        out.push(section("Disks".into()));
        for disk in &latest.disks {
            let forecast = d
                .forecasts
                .iter()
                .find(|fc| fc.mount_point == disk.mount_point);
            let days = forecast.and_then(|fc| fc.days_until_full);
            let full = match days {
                Some(x) if x < 1.0 => "full in <1 day".to_string(),
                Some(x) => format!("full in {x:.0} days"),
                None => "not filling".to_string(),
            };
            let full_style = if days.is_some_and(|x| x < 14.0) {
                fg(t, Color::Red).add_modifier(Modifier::BOLD)
            } else {
                Style::new()
            };
            let mut spans = vec![Span::raw(format!(
                "{:<8} {:<4} {:>4} of {:>9}  ",
                cut(&disk.mount_point, 8),
                cut(&disk.kind, 4),
                pct(disk.used_pct()),
                bytes(disk.total_bytes)
            ))];
            spans.push(Span::styled(full, full_style));
            spans.push(Span::raw("  "));
            match &disk.smart {
                Some(sm) => {
                    let (text, style) = if sm.passed {
                        ("SMART ok", Style::new())
                    } else {
                        (
                            "SMART FAILED",
                            fg(t, Color::Red).add_modifier(Modifier::BOLD),
                        )
                    };
                    spans.push(Span::styled(text, style));
                    let mut extra = Vec::new();
                    if let Some(c) = sm.temperature_c {
                        extra.push(format!("{c:.0}C"));
                    }
                    if let Some(h) = sm.power_on_hours {
                        extra.push(format!("{h}h on"));
                    }
                    if let Some(u) = sm.percentage_used {
                        extra.push(format!("{u:.0}% worn"));
                    }
                    if let Some(r) = sm.reallocated_sectors {
                        extra.push(format!("{r} realloc"));
                    }
                    if let Some(m) = sm.media_errors {
                        extra.push(format!("{m} media err"));
                    }
                    if !extra.is_empty() {
                        spans.push(Span::raw(format!(" ({})", extra.join(", "))));
                    }
                }
                None => spans.push(Span::styled("SMART n/a", fg(t, Color::DarkGray))),
            }
            out.push(Line::from(spans));
        }
    }

    out.push(section("Inventory".into()));
    let opt = |v: &Option<String>| v.clone().filter(|x| !x.is_empty()).unwrap_or("-".into());
    let mut l = field("Serial", opt(&inv.serial_number));
    l.extend(field("Model", opt(&inv.model)));
    l.extend(field("Vendor", opt(&inv.vendor)));
    out.push(Line::from(l));
    out.push(Line::from(vec![
        Span::styled("CPU ", bold()),
        Span::raw(cut(
            &format!(
                "{} ({} cores)  Memory {}",
                inv.cpu_model,
                inv.cpu_cores,
                bytes(inv.memory_total_bytes)
            ),
            w.saturating_sub(4),
        )),
    ]));
    out.push(Line::from(vec![
        Span::styled("OS ", bold()),
        Span::raw(cut(
            &format!(
                "{} {} ({}) {}  Host {}",
                inv.os_name, inv.os_version, inv.kernel_version, inv.arch, inv.hostname
            ),
            w.saturating_sub(3),
        )),
    ]));
    if !inv.mac_addresses.is_empty() {
        out.push(Line::from(vec![
            Span::styled("MACs ", bold()),
            Span::raw(cut(&inv.mac_addresses.join(" "), w.saturating_sub(5))),
        ]));
    }

    if let Some(p) = d.latest.as_ref().and_then(|l| l.processes.as_ref()) {
        out.push(section(format!(
            "Top processes ({} running, latest sample)",
            p.count
        )));
        for proc in p.top_cpu.iter().take(5) {
            let name_w = w.saturating_sub(28).clamp(8, 40);
            out.push(Line::raw(format!(
                "{:>7}  {:<name_w$} {:>6} {:>9}",
                proc.pid,
                cut(&proc.name, name_w),
                format!("{:.1}%", proc.cpu_pct),
                bytes(proc.memory_bytes)
            )));
        }
    }
    out
}

fn window_tabs(ds: &DetailState) -> Line<'static> {
    let mut spans = vec![Span::styled(
        "History ",
        bold().add_modifier(Modifier::UNDERLINED),
    )];
    for win in Window::ALL {
        let label = win.label();
        spans.push(if win == ds.window {
            Span::styled(format!("[{label}]"), bold())
        } else {
            Span::raw(format!(" {label} "))
        });
    }
    spans.push(Span::raw(match &ds.metrics {
        Some(m) => format!(
            "  {} points, {}{}",
            m.points.len(),
            m.resolution.as_str(),
            if m.truncated { ", cut" } else { "" }
        ),
        None => "  loading".to_string(),
    }));
    Line::from(spans)
}

/// Labels of the time axis: the window's start, its middle and "now" (the latest sample).
fn time_labels(from: DateTime<Utc>, to: DateTime<Utc>, window: Window) -> Vec<Span<'static>> {
    let fmt = |t: DateTime<Utc>| match window {
        Window::H1 | Window::H24 => t.format("%H:%M").to_string(),
        _ => t.format("%b %d").to_string(),
    };
    let mid = from + (to - from) / 2;
    vec![
        Span::raw(fmt(from)),
        Span::raw(fmt(mid)),
        Span::raw("now".to_string()),
    ]
}

fn chart(f: &mut Frame, area: Rect, spec: &ChartSpec, ds: &DetailState, app: &App) {
    let t = app.theme;
    let Some(m) = &ds.metrics else {
        f.render_widget(
            Paragraph::new(Line::from(vec![
                Span::styled(format!("{} ", spec.title), bold()),
                Span::styled("loading…", fg(t, Color::DarkGray)),
            ])),
            area,
        );
        return;
    };
    let (from, to) = time_bounds(m, ds.window);
    let x = |p: &MetricPoint| (p.t - from).num_seconds() as f64;
    let data: Vec<Vec<(f64, f64)>> = spec
        .series
        .iter()
        .map(|(_, get, _)| {
            m.points
                .iter()
                .filter_map(|p| get(p).map(|v| (x(p), v)))
                .collect()
        })
        .collect();
    let all: Vec<f64> = data.iter().flatten().map(|p| p.1).collect();
    let latest: Vec<String> = spec
        .series
        .iter()
        .zip(&data)
        .map(|((label, ..), pts)| format!("{label} {}", (spec.fmt)(pts.last().map(|p| p.1))))
        .collect();
    let title = format!("{} — now {}", spec.title, latest.join(" "));
    if all.is_empty() {
        f.render_widget(
            Paragraph::new(Line::from(vec![
                Span::styled(format!("{} ", spec.title), bold()),
                Span::styled("no data in this window", fg(t, Color::DarkGray)),
            ])),
            area,
        );
        return;
    }
    let (lo, hi) = if spec.percent {
        (0.0, 100.0)
    } else {
        let lo = all.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = all.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let pad = ((hi - lo) * 0.1).max(if hi.abs() > 10.0 { 1.0 } else { 0.1 });
        ((lo - pad).max(0.0), hi + pad)
    };
    let marker = if t.ascii {
        Marker::Dot
    } else {
        Marker::Braille
    };
    let datasets: Vec<Dataset> = spec
        .series
        .iter()
        .zip(&data)
        .map(|((label, _, color), pts)| {
            Dataset::default()
                .name(*label)
                .marker(marker)
                .graph_type(GraphType::Line)
                .style(fg(t, *color))
                .data(pts)
        })
        .collect();
    let span_s = (to - from).num_seconds().max(1) as f64;
    let ylabels = vec![
        Span::raw((spec.fmt)(Some(lo))),
        Span::raw((spec.fmt)(Some((lo + hi) / 2.0))),
        Span::raw((spec.fmt)(Some(hi))),
    ];
    let chart = Chart::new(datasets)
        .block(
            super::widgets::block(t, &truncate(&title, area.width as usize - 4, t.ascii))
                .borders(ratatui::widgets::Borders::TOP),
        )
        .x_axis(
            Axis::default()
                .bounds([0.0, span_s])
                .labels(time_labels(from, to, ds.window))
                .style(fg(t, Color::DarkGray)),
        )
        .y_axis(
            Axis::default()
                .bounds([lo, hi])
                .labels(ylabels)
                .style(fg(t, Color::DarkGray)),
        )
        .legend_position(None);
    f.render_widget(chart, area);
}

/// The time axis: the whole window ending at the latest sample ("now"), so that the newest
/// point is always at the right edge.
pub fn time_bounds(m: &MetricsResponse, window: Window) -> (DateTime<Utc>, DateTime<Utc>) {
    let to = m.points.iter().map(|p| p.t).max().unwrap_or(m.to);
    (to - chrono::Duration::seconds(window.seconds()), to)
}

fn events(f: &mut Frame, area: Rect, ds: &DetailState, app: &App) {
    if area.height == 0 {
        return;
    }
    let t = app.theme;
    let w = area.width as usize;
    let rows = area.height.saturating_sub(1) as usize;
    let total = ds.events.len();
    let start = ds.events_offset.min(total.saturating_sub(1));
    let end = (start + rows).min(total);
    let title = if total > rows {
        format!("Events {}-{} of {} (PgUp/PgDn)", start + 1, end, total)
    } else {
        "Events".to_string()
    };
    let mut lines = vec![section(title)];
    if total == 0 {
        lines.push(Line::styled("none", fg(t, Color::DarkGray)));
    }
    for e in &ds.events[start..end] {
        let text = format!(
            "{:>8}  {:<17} {:<7} {}",
            relative_time(Some(e.at), app.now),
            e.kind.as_str(),
            truncate(&e.actor, 7, t.ascii),
            e.message
        );
        lines.push(Line::raw(truncate(&text, w, t.ascii)));
    }
    f.render_widget(Paragraph::new(lines), area);
}
