//! The alerts table: severity marker, device, rule, subject, since, state, summary; firing
//! alerts nobody handles first (the order is [`crate::tui::alerts::sort_alerts`]). Only the
//! rows on screen are built. Narrow screens show the selected alert's summary under the table.

use super::widgets::{bold, fg};
use crate::format::truncate;
use crate::tui::alerts::{AlertsState, severity_marker, since, state_label};
use crate::tui::state::{App, Theme};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table};
use rt_core::alert::Severity;
use rt_core::alert::api::AlertInfo;

/// The marker of a severity with its style (bold and coloured for critical and warning; the
/// text alone reads without colour).
pub fn severity_span(s: Severity, theme: Theme) -> Span<'static> {
    let style = match s {
        Severity::Critical => fg(theme, Color::Red).add_modifier(Modifier::BOLD),
        Severity::Warning => fg(theme, Color::Yellow).add_modifier(Modifier::BOLD),
        Severity::Info => fg(theme, Color::Cyan),
    };
    Span::styled(severity_marker(s), style)
}

/// Widths of DEVICE, RULE, SUBJECT and STATE for the rows on screen; SUMMARY takes the rest.
fn widths(visible: &[AlertInfo], labels: &[String], width: u16) -> [u16; 4] {
    let longest = |f: &dyn Fn(&AlertInfo) -> usize, min: usize, max: usize| {
        visible.iter().map(f).max().unwrap_or(min).clamp(min, max) as u16
    };
    let wide = width >= 120;
    let (dev_max, rule_max, subj_max) = if wide { (32, 24, 24) } else { (12, 14, 8) };
    let state = labels
        .iter()
        .map(|l| l.chars().count())
        .max()
        .unwrap_or(5)
        .clamp(5, if wide { 28 } else { 13 }) as u16;
    [
        longest(&|a| a.device_name.chars().count(), 6, dev_max),
        longest(&|a| a.rule.chars().count(), 4, rule_max),
        longest(&|a| a.subject.chars().count(), 7, subj_max),
        state,
    ]
}

pub fn render(f: &mut Frame, area: Rect, app: &App) {
    let t = app.theme;
    let al: &AlertsState = &app.alerts;
    let narrow = area.width < 120;
    let [head, table_area, summary_area] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(1),
    ])
    .areas(area);

    let items: &[AlertInfo] = al.items.as_deref().unwrap_or(&[]);
    let rows_fit = table_area.height.saturating_sub(1) as usize;
    let mut offset = al.offset.min(items.len().saturating_sub(1));
    if al.selected >= offset + rows_fit.max(1) {
        offset = al.selected + 1 - rows_fit.max(1);
    }
    if al.selected < offset {
        offset = al.selected;
    }
    let end = (offset + rows_fit).min(items.len());
    let visible = &items[offset..end];

    // First line: the scope, how many, what `f` does, the position, a fetch error.
    let firing = items
        .iter()
        .filter(|a| a.state == rt_core::alert::api::AlertState::Firing)
        .count();
    let mut spans = vec![
        Span::styled("Alerts: ", bold()),
        Span::raw(al.scope.label().to_string()),
        Span::raw(format!("   {} shown, {firing} firing", items.len())),
    ];
    if al.items.is_some() && al.shown_scope != al.scope {
        spans.push(Span::styled(" (loading…)", fg(t, Color::Cyan)));
    }
    if items.len() > rows_fit {
        spans.push(Span::raw(format!(
            "   rows {}-{} of {}",
            offset + 1,
            end,
            items.len()
        )));
    }
    if !narrow {
        spans.push(Span::styled(
            "   (f: open / firing / all)",
            fg(t, Color::DarkGray),
        ));
    }
    if let Some(e) = &al.error {
        spans.push(Span::styled(format!("  ! {e}"), fg(t, Color::Red)));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), head);

    if narrow && let Some(a) = al.selected_alert() {
        f.render_widget(
            Paragraph::new(Line::from(vec![
                Span::styled(
                    format!("{}: ", truncate(&a.device_name, 24, t.ascii)),
                    bold(),
                ),
                Span::raw(truncate(&a.summary, area.width as usize, t.ascii)),
            ])),
            summary_area,
        );
    }

    let scrolling = items.len() > rows_fit && rows_fit > 0;
    let [table_area, bar_col] =
        Layout::horizontal([Constraint::Min(1), Constraint::Length(u16::from(scrolling))])
            .areas(table_area);
    let labels: Vec<String> = visible
        .iter()
        .map(|a| state_label(a, app.now, !narrow))
        .collect();
    let [dev_w, rule_w, subj_w, state_w] = widths(visible, &labels, table_area.width);
    let header = Row::new(
        [
            "SEV", "DEVICE", "RULE", "SUBJECT", "SINCE", "STATE", "SUMMARY",
        ]
        .map(|h| Cell::from(Span::styled(h, bold()))),
    );
    let ascii = t.ascii;
    let rows: Vec<Row> = visible
        .iter()
        .zip(&labels)
        .enumerate()
        .map(|(i, (a, label))| {
            let state_style = if label.starts_with("firing") {
                bold()
            } else {
                Style::new()
            };
            let row = Row::new(vec![
                Cell::from(severity_span(a.severity, t)),
                Cell::from(truncate(&a.device_name, dev_w as usize, ascii)),
                Cell::from(truncate(&a.rule, rule_w as usize, ascii)),
                Cell::from(truncate(&a.subject, subj_w as usize, ascii)),
                Cell::from(since(a, app.now)),
                Cell::from(Span::styled(
                    truncate(label, state_w as usize, ascii),
                    state_style,
                )),
                Cell::from(truncate(
                    &a.summary,
                    table_area
                        .width
                        .saturating_sub(4 + dev_w + rule_w + subj_w + 8 + state_w + 6)
                        as usize,
                    ascii,
                )),
            ]);
            if offset + i == al.selected {
                row.style(Style::new().add_modifier(Modifier::REVERSED))
            } else {
                row
            }
        })
        .collect();
    let table = Table::new(
        rows,
        [
            Constraint::Length(4),
            Constraint::Length(dev_w),
            Constraint::Length(rule_w),
            Constraint::Length(subj_w),
            Constraint::Length(8),
            Constraint::Length(state_w),
            Constraint::Min(8),
        ],
    )
    .header(header)
    .column_spacing(1);
    f.render_widget(table, table_area);
    if scrolling {
        super::widgets::scrollbar(f, bar_col, items.len(), rows_fit, offset, ascii);
    }
    if items.is_empty() {
        let msg = match (&al.items, al.scope) {
            (None, _) => "loading the alerts…",
            (Some(_), crate::tui::alerts::AlertScope::All) => "no alerts",
            (Some(_), _) => "no open alerts (f shows the resolved ones too)",
        };
        let [_, line] =
            Layout::vertical([Constraint::Length(1), Constraint::Length(1)]).areas(table_area);
        f.render_widget(Paragraph::new(msg).centered(), line);
    }
}
