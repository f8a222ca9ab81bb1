//! Popups: the help screen (every key) and the action dialogs.

use super::widgets::{block, bold, fg, popup};
use crate::format::truncate;
use crate::tui::alerts::alert_name;
use crate::tui::keys::HELP;
use crate::tui::state::{App, Bulk, Modal, Screen};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};

pub fn render_modal(f: &mut Frame, area: Rect, app: &App) {
    let Some(modal) = &app.modal else {
        return;
    };
    let t = app.theme;
    match modal {
        Modal::Help { scroll } => {
            let lines = help_lines(app, area.width);
            // Fit the screen: as tall as the lines or the screen, scrolled when cut.
            let h = (lines.len() as u16 + 2).min(area.height);
            let inner = h.saturating_sub(2) as usize;
            let max_scroll = lines.len().saturating_sub(inner);
            let scroll = (*scroll).min(max_scroll);
            let title = if max_scroll > 0 {
                format!(
                    "Keys: {} ({}-{} of {}, ↑/↓ scroll)",
                    screen_name(app),
                    scroll + 1,
                    (scroll + inner).min(lines.len()),
                    lines.len()
                )
            } else {
                format!("Keys: {}", screen_name(app))
            };
            let r = popup(area, 96, h);
            f.render_widget(Clear, r);
            f.render_widget(
                Paragraph::new(lines[scroll..].to_vec()).block(block(t, &title)),
                r,
            );
        }
        Modal::Input {
            kind, name, value, ..
        } => input(f, area, app, name, kind.title(), value),
        Modal::SilenceFor { alert, value } => input(
            f,
            area,
            app,
            &truncate(&alert_name(alert), 56, t.ascii),
            "Silence for (e.g. 4h, 1d, 1h 30m; at most 90d)",
            value,
        ),
        Modal::ConfirmAlert(action) => confirm(f, area, app, &action.description),
        Modal::PickState {
            name,
            from,
            options,
            selected,
            ..
        } => {
            let head = match from {
                Some(from) => format!("{name} is {from}; move to:"),
                None => format!("{name}; move to:"),
            };
            let mut lines = vec![Line::from(vec![Span::styled(head, bold())])];
            for (i, o) in options.iter().enumerate() {
                let mark = if i == *selected { "> " } else { "  " };
                let style = if i == *selected {
                    Style::new().add_modifier(Modifier::REVERSED)
                } else {
                    Style::new()
                };
                lines.push(Line::styled(format!("{mark}{o}"), style));
            }
            lines.push(Line::styled(
                "↑/↓ choose · Enter continue · Esc cancel",
                fg(t, Color::DarkGray),
            ));
            let r = popup(area, 50, lines.len() as u16 + 2);
            f.render_widget(Clear, r);
            f.render_widget(Paragraph::new(lines).block(block(t, "Lifecycle")), r);
        }
        Modal::ConfirmBulk { bulk, scroll } => {
            let items = bulk_lines(bulk, app);
            let w = area.width.min(80);
            // Title, blank, items, blank, keys; inside a border.
            let room = area.height.saturating_sub(6).max(1) as usize;
            let max_scroll = items.len().saturating_sub(room);
            let scroll = (*scroll).min(max_scroll);
            let mut lines = vec![
                Line::from(Span::styled(
                    truncate(
                        &format!("{}?", capitalize(&bulk.title())),
                        w as usize - 2,
                        t.ascii,
                    ),
                    bold(),
                )),
                Line::raw(""),
            ];
            for it in items.iter().skip(scroll).take(room) {
                lines.push(Line::raw(truncate(
                    &format!("  {it}"),
                    w as usize - 2,
                    t.ascii,
                )));
            }
            let more = if max_scroll > 0 {
                format!(
                    "  ({}-{} of {}; ↑/↓ scroll)",
                    scroll + 1,
                    (scroll + room).min(items.len()),
                    items.len()
                )
            } else {
                String::new()
            };
            lines.push(Line::raw(""));
            lines.push(Line::from(vec![
                Span::styled("y", bold()),
                Span::raw(" / Enter: yes    "),
                Span::styled("n", bold()),
                Span::raw(" / Esc: no"),
                Span::styled(more, fg(t, Color::DarkGray)),
            ]));
            let r = popup(area, w, lines.len() as u16 + 2);
            f.render_widget(Clear, r);
            f.render_widget(Paragraph::new(lines).block(block(t, "Confirm")), r);
        }
        Modal::Confirm(action) => confirm(f, area, app, &action.description),
    }
}

/// A one-line text input titled `name`, asking `title`.
fn input(f: &mut Frame, area: Rect, app: &App, name: &str, title: &str, value: &str) {
    let t = app.theme;
    let r = popup(area, 60, 5);
    let lines = vec![
        Line::from(vec![Span::styled(format!("{title}:"), bold())]),
        Line::from(vec![
            Span::raw("> "),
            Span::raw(value.to_string()),
            Span::styled("_", Style::new().add_modifier(Modifier::SLOW_BLINK)),
        ]),
        Line::styled(
            "Enter continue · Esc cancel · Ctrl-U clear",
            fg(t, Color::DarkGray),
        ),
    ];
    f.render_widget(Clear, r);
    f.render_widget(Paragraph::new(lines).block(block(t, name)), r);
}

/// "Description?" with the yes / no keys; as tall as the wrapped description needs.
fn confirm(f: &mut Frame, area: Rect, app: &App, description: &str) {
    let t = app.theme;
    let text = format!("{}?", capitalize(description));
    let w = 64u16.min(area.width);
    let inner = w.saturating_sub(2).max(1) as usize;
    let text_lines = text.chars().count().div_ceil(inner).max(1) as u16;
    // Wrapping at words may need a line more than the characters do.
    let text_lines = if text_lines > 1 { text_lines + 1 } else { 1 };
    let lines = vec![
        Line::from(Span::styled(text, bold())),
        Line::raw(""),
        Line::from(vec![
            Span::styled("y", bold()),
            Span::raw(" / Enter: yes    "),
            Span::styled("n", bold()),
            Span::raw(" / Esc: no"),
        ]),
    ];
    let r = popup(area, w, text_lines + 4);
    f.render_widget(Clear, r);
    f.render_widget(
        Paragraph::new(lines)
            .block(block(t, "Confirm"))
            .wrap(Wrap { trim: true }),
        r,
    );
}

fn screen_name(app: &App) -> &'static str {
    match app.screen {
        Screen::Fleet => "fleet",
        Screen::Detail => "device",
        Screen::Alerts => "alerts",
    }
}

/// The help of the current screen: its keys, then the markers; cut to the width.
pub fn help_lines(app: &App, width: u16) -> Vec<Line<'static>> {
    let t = app.theme;
    let rows: Vec<_> = HELP
        .iter()
        .filter(|(_, _, w)| w.applies(app.screen))
        .collect();
    let key_w = rows
        .iter()
        .map(|(k, _, _)| k.chars().count())
        .max()
        .unwrap_or(8);
    let text_w = (width.min(96) as usize).saturating_sub(key_w + 5);
    let mut lines: Vec<Line> = rows
        .iter()
        .map(|(k, what, _)| {
            Line::from(vec![
                Span::styled(format!(" {k:<key_w$}  "), bold()),
                Span::raw(truncate(what, text_w, t.ascii)),
            ])
        })
        .collect();
    if app.screen == Screen::Fleet {
        lines.push(Line::raw(truncate(
            " Markers: CRIT, WARN, OFF (silent > 1 day), zzz (asleep < 1 day), ok, ? unknown",
            width.min(96) as usize - 2,
            t.ascii,
        )));
    }
    if app.screen == Screen::Alerts {
        lines.push(Line::raw(truncate(
            " Severity: CRIT, WARN, INFO. State: firing, pending, acked, silenced, resolved; late, flap",
            width.min(96) as usize - 2,
            t.ascii,
        )));
    }
    lines.push(Line::styled(
        " Any other key closes this help.",
        fg(t, Color::DarkGray),
    ));
    lines
}

/// The bulk confirmation: the title, then one line per change, scrolled to fit the screen.
fn bulk_lines(bulk: &Bulk, app: &App) -> Vec<String> {
    match bulk {
        Bulk::Patch { actions, .. } => actions.iter().map(|a| a.description.clone()).collect(),
        Bulk::Export { ids, .. } => ids
            .iter()
            .map(|id| match app.device(*id) {
                Some(d) => format!("{} (id {id})", d.name),
                None => format!("device {id}"),
            })
            .collect(),
    }
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}
