//! Shared pieces: styles (colour only as a second signal), header, banner, status, footer,
//! health markers, ASCII-aware borders and popups.

use crate::filter::{Triage, triage_rank};
use crate::format::relative_time;
use crate::tui::state::{App, ConnState, Screen, Theme};
use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::symbols::border;
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Block, Borders, Paragraph, Scrollbar, ScrollbarOrientation, ScrollbarState,
};
use rt_core::api::{DeviceSummary, HealthLevel};

pub const ASCII_BORDER: border::Set = border::Set {
    top_left: "+",
    top_right: "+",
    bottom_left: "+",
    bottom_right: "+",
    vertical_left: "|",
    vertical_right: "|",
    horizontal_top: "-",
    horizontal_bottom: "-",
};

/// A style with `color` applied only when colours are on.
pub fn fg(theme: Theme, color: Color) -> Style {
    if theme.color {
        Style::new().fg(color)
    } else {
        Style::new()
    }
}

pub fn bold() -> Style {
    Style::new().add_modifier(Modifier::BOLD)
}

/// The marker of a device in the table: as [`health_marker`], with `zzz` for a device
/// offline for less than a day (asleep) so that it reads apart from long silence (`OFF`).
pub fn triage_marker(d: &DeviceSummary, now: DateTime<Utc>, theme: Theme) -> Span<'static> {
    if triage_rank(d, now) == Triage::Asleep {
        return Span::styled("zzz", fg(theme, Color::DarkGray));
    }
    health_marker(d.health.level, theme)
}

/// The text marker of a health level (readable without colour) and its style.
pub fn health_marker(level: HealthLevel, theme: Theme) -> Span<'static> {
    let (text, color, strong) = match level {
        HealthLevel::Critical => ("CRIT", Color::Red, true),
        HealthLevel::Warning => ("WARN", Color::Yellow, true),
        HealthLevel::Offline => ("OFF", Color::DarkGray, false),
        HealthLevel::Ok => ("ok", Color::Green, false),
        HealthLevel::Unknown => ("?", Color::DarkGray, false),
    };
    let mut s = fg(theme, color);
    if strong {
        s = s.add_modifier(Modifier::BOLD);
    }
    Span::styled(text, s)
}

pub fn block(theme: Theme, title: &str) -> Block<'static> {
    let b = Block::default()
        .borders(Borders::ALL)
        .title(format!(" {title} "));
    if theme.ascii {
        b.border_set(ASCII_BORDER)
    } else {
        b
    }
}

/// The header's alert count: `ALERTS 2` (bold, red) while any fires, `0 alerts` otherwise;
/// nothing until the alerts are loaded.
pub fn alert_count(app: &App) -> Option<Span<'static>> {
    let n = app.alerts.firing()?;
    Some(if n > 0 {
        Span::styled(
            format!("  ALERTS {n}"),
            fg(app.theme, Color::Red).add_modifier(Modifier::BOLD),
        )
    } else {
        Span::raw("  0 alerts")
    })
}

/// One-line header: title, firing alerts, fleet summary counts, last refresh, connection
/// state. What does not fit the width is left out (the asleep count first), so that the
/// header never wraps or cuts the connection state at 80 columns.
pub fn header(f: &mut Frame, area: Rect, app: &App) {
    let t = app.theme;
    let mut spans = vec![Span::styled("ResourceTracker", bold())];
    if app.screen == Screen::Detail
        && let Some(d) = &app.detail
    {
        let name = d
            .detail
            .as_ref()
            .map(|x| x.summary.name.clone())
            .or_else(|| {
                app.devices
                    .iter()
                    .find(|x| x.id == d.id)
                    .map(|x| x.name.clone())
            })
            .unwrap_or_default();
        let name = crate::format::truncate(&name, 30, t.ascii);
        spans.push(Span::raw(format!(" > {name} (id {})", d.id)));
    }
    if app.screen == Screen::Alerts {
        spans.push(Span::raw(" > alerts"));
    }
    spans.extend(alert_count(app));
    if app.screen == Screen::Detail && area.width < 120 {
        // The device name matters more than fleet counts on a narrow detail screen.
        return header_right(f, area, app, Line::from(spans));
    }
    let room = (area.width as usize).saturating_sub(conn_span(app, area.width).width() + 1);
    let c = app.counts();
    spans.push(Span::raw(format!("  {} dev  ", c.total)));
    spans.push(Span::styled(
        format!("{} crit ", c.critical),
        fg(t, Color::Red).add_modifier(Modifier::BOLD),
    ));
    spans.push(Span::styled(
        format!("{} warn ", c.warning),
        fg(t, Color::Yellow),
    ));
    let off_short = format!("{} off ", c.offline);
    let off_long = format!("{} off ({} asleep) ", c.offline, c.asleep);
    let ok = format!("{} ok", c.ok);
    let used: usize = spans.iter().map(Span::width).sum();
    let off = if c.asleep > 0 && used + off_long.chars().count() + ok.len() <= room {
        off_long
    } else {
        off_short
    };
    spans.push(Span::raw(off));
    spans.push(Span::styled(ok, fg(t, Color::Green)));
    // The server's size cap keeps history for less time than configured: say so when it fits.
    if let Some(cut) = app.summary.as_ref().and_then(|s| s.retention_cut.first()) {
        let text = format!("  cap: {} {}d", cut.tier, cut.kept_days);
        let used: usize = spans.iter().map(Span::width).sum();
        if used + text.len() <= room {
            spans.push(Span::styled(text, fg(t, Color::Yellow)));
        }
    }
    header_right(f, area, app, Line::from(spans));
}

/// The header's right end: last refresh or connection state.
fn conn_span(app: &App, width: u16) -> Span<'static> {
    let t = app.theme;
    match &app.conn {
        ConnState::Connecting => Span::styled("connecting…", fg(t, Color::Yellow)),
        ConnState::Connected => Span::styled(
            format!(
                "{}{}",
                if width >= 100 { "updated " } else { "" },
                app.last_refresh
                    .map(|r| r.format("%H:%M:%S").to_string())
                    .unwrap_or_default()
            ),
            fg(t, Color::Green),
        ),
        ConnState::Reconnecting { .. } => Span::styled(
            "RECONNECTING",
            fg(t, Color::Red).add_modifier(Modifier::BOLD),
        ),
        ConnState::AuthFailed(_) => Span::styled(
            "NOT AUTHORIZED",
            fg(t, Color::Red).add_modifier(Modifier::BOLD),
        ),
    }
}

fn header_right(f: &mut Frame, area: Rect, app: &App, left: Line<'static>) {
    let conn = conn_span(app, area.width);
    let right_w = conn.width() as u16 + 1;
    let [l, r] = Layout::horizontal([Constraint::Min(1), Constraint::Length(right_w)]).areas(area);
    f.render_widget(
        Paragraph::new(left).style(Style::new().add_modifier(Modifier::REVERSED)),
        l,
    );
    f.render_widget(
        Paragraph::new(Line::from(vec![conn, Span::raw(" ")]))
            .right_aligned()
            .style(Style::new().add_modifier(Modifier::REVERSED)),
        r,
    );
}

/// The error banner under the header, when the connection is in trouble.
pub fn banner_line(app: &App) -> Option<Paragraph<'static>> {
    let t = app.theme;
    let style = fg(t, Color::Red).add_modifier(Modifier::BOLD);
    let text = match &app.conn {
        ConnState::Reconnecting { error, since } => {
            let kept = match app.last_refresh {
                Some(r) => format!("showing data from {}", relative_time(Some(r), app.now)),
                None => "no data yet".to_string(),
            };
            format!(
                "! {kept}; retrying: {error} (since {})",
                relative_time(Some(*since), app.now)
            )
        }
        ConnState::AuthFailed(e) => format!("! {e}"),
        _ => return None,
    };
    Some(Paragraph::new(Line::styled(text, style)))
}

pub fn status(f: &mut Frame, area: Rect, app: &App) {
    if let Some(s) = &app.status {
        let style = if s.error {
            fg(app.theme, Color::Red).add_modifier(Modifier::BOLD)
        } else {
            fg(app.theme, Color::Cyan)
        };
        let prefix = if s.error { "✗ " } else { "" };
        let prefix = if app.theme.ascii && s.error {
            "x "
        } else {
            prefix
        };
        f.render_widget(
            Paragraph::new(Line::styled(format!("{prefix}{}", s.text), style)),
            area,
        );
    }
}

/// Key hints for the current screen.
pub fn footer(f: &mut Frame, area: Rect, app: &App) {
    let hints: &[(&str, &str)] = if app.editing_filter {
        &[
            ("Enter", "apply"),
            ("Esc", "clear"),
            ("^U", "clear line"),
            ("^W", "delete word"),
        ]
    } else if !app.marked.is_empty() && app.screen == Screen::Fleet {
        &[
            ("Space", "mark"),
            ("a", "assign"),
            ("L", "lifecycle"),
            ("x", "export"),
            ("Esc", "unmark all"),
            ("?", "help"),
        ]
    } else {
        match app.screen {
            Screen::Fleet => &[
                ("/", "filter"),
                ("1-0 s", "sort"),
                ("Enter", "open"),
                ("Space", "mark"),
                (":", "command"),
                ("?", "help"),
                ("q", "quit"),
            ],
            Screen::Alerts => &[
                ("f", "open/firing/all"),
                ("Enter", "device"),
                ("a", "ack"),
                ("s", "silence"),
                ("Esc", "fleet"),
                ("?", "help"),
                ("q", "quit"),
            ],
            Screen::Detail => &[
                ("Esc", "back"),
                ("w", "window"),
                ("PgDn", "events"),
                ("a", "assign"),
                ("l", "state"),
                ("?", "help"),
                ("q", "quit"),
            ],
        }
    };
    let mut spans = Vec::new();
    if !app.marked.is_empty() {
        spans.push(Span::styled(
            format!("{} marked  ", app.marked.len()),
            bold().add_modifier(Modifier::REVERSED),
        ));
    }
    for (k, v) in hints {
        spans.push(Span::styled(*k, bold()));
        spans.push(Span::raw(format!(" {v}  ")));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// The `:` command bar with the completions for what is typed.
pub fn command_bar(f: &mut Frame, area: Rect, app: &App) {
    let Some(cl) = &app.command else {
        return;
    };
    let mut spans = vec![
        Span::styled(":", bold()),
        Span::raw(cl.text.clone()),
        Span::styled("_", Style::new().add_modifier(Modifier::SLOW_BLINK)),
    ];
    let stem = if cl.completion.is_some() {
        &cl.stem
    } else {
        &cl.text
    };
    let options = crate::tui::command::completions(app, stem);
    if !options.is_empty() && !cl.text.is_empty() {
        let shown: Vec<String> = options.iter().take(6).cloned().collect();
        let more = if options.len() > 6 { " …" } else { "" };
        spans.push(Span::styled(
            format!("   Tab: {}{more}", shown.join("  ")),
            fg(app.theme, Color::DarkGray),
        ));
    } else if cl.text.is_empty() {
        spans.push(Span::styled(
            "   open NAME, alerts, sort KEY, view NAME, save NAME, assign USER, export, help … (Tab)",
            fg(app.theme, Color::DarkGray),
        ));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// A centred rectangle of at most `w` x `h` inside `area`.
pub fn popup(area: Rect, w: u16, h: u16) -> Rect {
    let [v] = Layout::vertical([Constraint::Length(h.min(area.height))])
        .flex(Flex::Center)
        .areas(area);
    let [r] = Layout::horizontal([Constraint::Length(w.min(area.width))])
        .flex(Flex::Center)
        .areas(v);
    r
}

/// The scroll position bar of a table: drawn in `bar_col` below the header row, for `total`
/// rows of which `rows_fit` are on screen from `offset`.
pub fn scrollbar(
    f: &mut Frame,
    bar_col: Rect,
    total: usize,
    rows_fit: usize,
    offset: usize,
    ascii: bool,
) {
    let [_, bar_area] =
        Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(bar_col);
    let mut state = ScrollbarState::new(total.saturating_sub(rows_fit))
        .position(offset)
        .viewport_content_length(rows_fit);
    let mut bar = Scrollbar::new(ScrollbarOrientation::VerticalRight)
        .begin_symbol(None)
        .end_symbol(None);
    if ascii {
        bar = bar.track_symbol(Some("|")).thumb_symbol("#");
    }
    f.render_stateful_widget(bar, bar_area, &mut state);
}
