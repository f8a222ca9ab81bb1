//! The fleet table. Only the rows on screen are built, so 10,000 devices scroll instantly.

use super::widgets::{bold, fg, health_marker};
use crate::filter::SortKey;
use crate::format::{Scale, pct, relative_time, sparkline, temp, truncate};
use crate::tui::state::App;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table};

/// Column layout for a given width: (name width, sparkline width, reasons width).
pub fn layout(width: u16) -> (u16, u16, u16) {
    // HEALTH USER STATE CPU RAM DISK TEMP BATT SEEN and 11 one-column gaps.
    let fixed: u16 = 4 + 8 + 9 + 4 + 4 + 4 + 4 + 4 + 8 + 11;
    let rest = width.saturating_sub(fixed);
    if width >= 120 {
        let spark = 24;
        let name = 20;
        let reasons = rest.saturating_sub(spark + name).max(10);
        (name, spark, reasons)
    } else {
        let spark = (rest / 3).clamp(4, 16);
        let name = rest.saturating_sub(spark).max(6);
        (name, spark, 0)
    }
}

fn header_cell(label: &str, key: SortKey, app: &App) -> Cell<'static> {
    if app.sort == key {
        let arrow = match (app.descending, app.theme.ascii) {
            (true, false) => "▼",
            (false, false) => "▲",
            (true, true) => "v",
            (false, true) => "^",
        };
        Cell::from(Span::styled(
            format!("{label}{arrow}"),
            bold().add_modifier(Modifier::UNDERLINED),
        ))
    } else {
        Cell::from(Span::styled(label.to_string(), bold()))
    }
}

pub fn render(f: &mut Frame, area: Rect, app: &App) {
    let t = app.theme;
    // On narrow screens the WHY column does not fit: the selected device's reasons get a line.
    let why_line = area.width < 120;
    let [filter_area, table_area, why_area] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(u16::from(why_line)),
    ])
    .areas(area);
    if why_line && let Some(d) = app.selected_device() {
        let reasons = if d.health.reasons.is_empty() {
            "no problems".to_string()
        } else {
            d.health.reasons.join("; ")
        };
        f.render_widget(
            Paragraph::new(Line::from(vec![
                Span::styled(format!("{}: ", d.name), bold()),
                Span::raw(truncate(&reasons, area.width as usize, t.ascii)),
            ])),
            why_area,
        );
    }

    // Filter line: what is applied, how many match, or why the text does not parse.
    let mut spans = vec![Span::styled("Filter: ", bold())];
    if app.filter_text.is_empty() && !app.editing_filter {
        spans.push(Span::styled(
            "none (press / to filter)",
            fg(t, Color::DarkGray),
        ));
    } else {
        spans.push(Span::raw(app.filter_text.clone()));
        if app.editing_filter {
            spans.push(Span::styled(
                "_",
                Style::new().add_modifier(Modifier::SLOW_BLINK),
            ));
        }
    }
    spans.push(Span::raw(format!(
        "   {} of {} shown",
        app.order.len(),
        app.devices.len()
    )));
    if let Some(e) = &app.filter_error {
        spans.push(Span::styled(format!("  ! {e}"), fg(t, Color::Red)));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), filter_area);

    let (name_w, spark_w, reasons_w) = layout(area.width);
    let mut header = vec![
        header_cell("HLTH", SortKey::Health, app),
        header_cell("NAME", SortKey::Name, app),
        header_cell("USER", SortKey::User, app),
        header_cell("STATE", SortKey::State, app),
        header_cell("CPU", SortKey::Cpu, app),
        header_cell("RAM", SortKey::Ram, app),
        header_cell("DISK", SortKey::Disk, app),
        header_cell("TEMP", SortKey::Temp, app),
        header_cell("BATT", SortKey::Battery, app),
        header_cell("SEEN", SortKey::LastSeen, app),
        Cell::from(Span::styled(
            if spark_w >= 9 { "CPU TREND" } else { "TREND" },
            bold(),
        )),
    ];
    let mut widths = vec![
        Constraint::Length(4),
        Constraint::Length(name_w),
        Constraint::Length(8),
        Constraint::Length(9),
        Constraint::Length(4),
        Constraint::Length(4),
        Constraint::Length(4),
        Constraint::Length(4),
        Constraint::Length(4),
        Constraint::Length(8),
        Constraint::Length(spark_w),
    ];
    if reasons_w > 0 {
        header.push(Cell::from(Span::styled("WHY", bold())));
        widths.push(Constraint::Min(reasons_w));
    }

    let rows_fit = table_area.height.saturating_sub(1) as usize;
    // Keep the selection visible even if the run loop's idea of the height is stale.
    let mut offset = app.offset.min(app.order.len().saturating_sub(1));
    if app.selected >= offset + rows_fit.max(1) {
        offset = app.selected + 1 - rows_fit.max(1);
    }
    if app.selected < offset {
        offset = app.selected;
    }
    let end = (offset + rows_fit).min(app.order.len());
    let ascii = t.ascii;
    let rows: Vec<Row> = app.order[offset..end]
        .iter()
        .enumerate()
        .map(|(i, &di)| {
            let d = &app.devices[di];
            let m = d.metrics.as_ref();
            let recent: Vec<Option<f64>> = d.cpu_recent.iter().copied().map(Some).collect();
            let hot = |v: Option<f64>, warn: f64| -> Style {
                if v.is_some_and(|v| v >= warn) {
                    fg(t, Color::Red)
                } else {
                    Style::new()
                }
            };
            let cpu = m.map(|m| m.cpu_pct);
            let ram = m.map(|m| m.mem_pct);
            let disk = m.and_then(|m| m.disk_max_pct);
            let tmp = m.and_then(|m| m.temp_max_c);
            let mut cells = vec![
                Cell::from(health_marker(d.health.level, t)),
                Cell::from(truncate(&d.name, name_w as usize, ascii)),
                Cell::from(truncate(d.assignee.as_deref().unwrap_or("-"), 8, ascii)),
                Cell::from(truncate(d.lifecycle_state.as_str(), 9, ascii)),
                Cell::from(Span::styled(pct(cpu), hot(cpu, 90.0))),
                Cell::from(Span::styled(pct(ram), hot(ram, 90.0))),
                Cell::from(Span::styled(pct(disk), hot(disk, 90.0))),
                Cell::from(Span::styled(temp(tmp), hot(tmp, 85.0))),
                Cell::from(pct(m.and_then(|m| m.battery_health_pct))),
                Cell::from(relative_time(d.last_seen, app.now)),
                Cell::from(Span::styled(
                    sparkline(
                        &recent,
                        spark_w as usize,
                        Scale::Fixed {
                            min: 0.0,
                            max: 100.0,
                        },
                        ascii,
                    ),
                    fg(t, Color::Cyan),
                )),
            ];
            if reasons_w > 0 {
                cells.push(Cell::from(d.health.reasons.join("; ")));
            }
            let mut row = Row::new(cells);
            if offset + i == app.selected {
                row = row.style(Style::new().add_modifier(Modifier::REVERSED));
            }
            row
        })
        .collect();
    let empty = rows.is_empty();
    let table = Table::new(rows, widths)
        .header(Row::new(header))
        .column_spacing(1);
    f.render_widget(table, table_area);
    if empty {
        let msg = if app.devices.is_empty() {
            "no devices yet (enroll one with rt-agent enroll)"
        } else {
            "no device matches the filter (Esc clears it)"
        };
        let [_, line] =
            Layout::vertical([Constraint::Length(1), Constraint::Length(1)]).areas(table_area);
        f.render_widget(Paragraph::new(msg).centered(), line);
    }
}
