//! Popups: the help screen (every key) and the action dialogs.

use super::widgets::{block, bold, fg, popup};
use crate::tui::keys::HELP;
use crate::tui::state::{App, Modal};
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
        Modal::Help => {
            let key_w = HELP
                .iter()
                .map(|(k, _, _)| k.chars().count())
                .max()
                .unwrap_or(8);
            let mut lines: Vec<Line> = HELP
                .iter()
                .map(|(k, what, _)| {
                    Line::from(vec![
                        Span::styled(format!(" {k:<key_w$}  "), bold()),
                        Span::raw(*what),
                    ])
                })
                .collect();
            lines.push(Line::raw(""));
            lines.push(Line::styled(
                " Health markers: CRIT critical, WARN warning, OFF offline, ok, ? unknown",
                Style::new(),
            ));
            lines.push(Line::styled(
                " Any key closes this help.",
                fg(t, Color::DarkGray),
            ));
            let h = lines.len() as u16 + 2;
            let r = popup(area, 90, h);
            f.render_widget(Clear, r);
            f.render_widget(
                Paragraph::new(lines)
                    .block(block(t, "Keys"))
                    .wrap(Wrap { trim: false }),
                r,
            );
        }
        Modal::Input {
            kind, name, value, ..
        } => {
            let r = popup(area, 60, 5);
            let lines = vec![
                Line::from(vec![Span::styled(format!("{}:", kind.title()), bold())]),
                Line::from(vec![
                    Span::raw("> "),
                    Span::raw(value.clone()),
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
        Modal::PickState {
            name,
            from,
            options,
            selected,
            ..
        } => {
            let mut lines = vec![Line::from(vec![Span::styled(
                format!("{name} is {from}; move to:"),
                bold(),
            )])];
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
        Modal::Confirm(action) => {
            let lines = vec![
                Line::from(Span::styled(
                    format!("{}?", capitalize(&action.description)),
                    bold(),
                )),
                Line::raw(""),
                Line::from(vec![
                    Span::styled("y", bold()),
                    Span::raw(" / Enter: yes    "),
                    Span::styled("n", bold()),
                    Span::raw(" / Esc: no"),
                ]),
            ];
            let r = popup(area, 64, 5);
            f.render_widget(Clear, r);
            f.render_widget(
                Paragraph::new(lines)
                    .block(block(t, "Confirm"))
                    .wrap(Wrap { trim: true }),
                r,
            );
        }
    }
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}
