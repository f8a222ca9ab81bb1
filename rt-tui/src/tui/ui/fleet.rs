//! The fleet table. Only the rows on screen are built, so 100,000 devices scroll instantly;
//! column widths follow the terminal and the visible rows.

use super::widgets::{bold, fg, triage_marker};
use crate::filter::SortKey;
use crate::format::{Scale, pct, relative_time, sparkline, temp, truncate};
use crate::tui::state::App;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table};

/// Column widths of the fleet table for one terminal width and the rows on screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Columns {
    /// One column for the bulk mark when any device is marked.
    pub mark: u16,
    pub name: u16,
    pub user: u16,
    pub spark: u16,
    /// 0 when the WHY column does not fit (narrow screens show the reasons under the table).
    pub why: u16,
}

/// Widths that use the terminal: names and users get what their longest visible value needs
/// (in full at 200 columns), the CPU trend and WHY take the rest; on narrow screens names and
/// users share what is left and are cut with an ellipsis.
pub fn columns(width: u16, marked: bool, longest_name: usize, longest_user: usize) -> Columns {
    let mark = u16::from(marked) * 2;
    // HLTH STATE CPU RAM DISK TEMP BATT SEEN and the one-column gaps of 11 columns.
    let fixed: u16 = 4 + 9 + 4 + 4 + 4 + 4 + 4 + 8 + 11 + mark;
    let rest = width.saturating_sub(fixed);
    let want_name = (longest_name.clamp(4, 40)) as u16;
    let want_user = (longest_user.clamp(4, 30)) as u16;
    if width >= 120 {
        let spark = 16;
        let why_min = 24;
        let avail = rest.saturating_sub(spark + why_min);
        let (name, user) = share(avail, want_name, want_user);
        let why = rest.saturating_sub(spark + name + user).max(10);
        Columns {
            mark,
            name,
            user,
            spark,
            why,
        }
    } else {
        let spark = (rest / 6).clamp(4, 10);
        let avail = rest.saturating_sub(spark);
        let (name, user) = share(avail, want_name, want_user);
        // What names and users do not need goes to the trend.
        let spark = spark + avail.saturating_sub(name + user).min(14);
        Columns {
            mark,
            name,
            user,
            spark,
            why: 0,
        }
    }
}

/// Splits `avail` columns between name and user: both in full when they fit, else the user
/// gets up to a third (at least 6) and the name the rest.
fn share(avail: u16, want_name: u16, want_user: u16) -> (u16, u16) {
    if want_name + want_user <= avail {
        return (want_name, want_user);
    }
    let user = want_user.min((avail / 3).max(6));
    let name = avail.saturating_sub(user).max(6).min(want_name.max(6));
    (name, user)
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
    if app.loading_more() {
        spans.push(Span::styled(
            format!(
                " (loading {} of {}…)",
                app.devices.len(),
                app.server_total.unwrap_or(0)
            ),
            fg(t, Color::Cyan),
        ));
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
    let visible = &app.order[offset..end];

    // Where the view is: rows shown of how many (the scroll position).
    if !app.order.is_empty() {
        let pos = if app.order.len() > rows_fit {
            format!("   rows {}-{} of {}", offset + 1, end, app.order.len())
        } else {
            String::new()
        };
        spans.push(Span::raw(pos));
    }
    if let Some(e) = &app.filter_error {
        spans.push(Span::styled(format!("  ! {e}"), fg(t, Color::Red)));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), filter_area);

    // A scrollbar takes the rightmost column when the rows do not fit.
    let scrolling = app.order.len() > rows_fit && rows_fit > 0;
    let [table_area, bar_col] =
        Layout::horizontal([Constraint::Min(1), Constraint::Length(u16::from(scrolling))])
            .areas(table_area);
    let longest = |get: fn(&rt_core::api::DeviceSummary) -> usize| {
        visible
            .iter()
            .map(|&i| get(&app.devices[i]))
            .max()
            .unwrap_or(4)
    };
    let cols = columns(
        table_area.width,
        !app.marked.is_empty(),
        longest(|d| d.name.chars().count()),
        longest(|d| d.assignee.as_deref().map_or(1, |a| a.chars().count())),
    );
    let mut header = Vec::new();
    let mut widths = Vec::new();
    if cols.mark > 0 {
        header.push(Cell::from(""));
        widths.push(Constraint::Length(1));
    }
    header.extend([
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
            match cols.spark {
                9.. => "CPU TREND",
                5.. => "TREND",
                _ => "TRND",
            },
            bold(),
        )),
    ]);
    widths.extend([
        Constraint::Length(4),
        Constraint::Length(cols.name),
        Constraint::Length(cols.user),
        Constraint::Length(9),
        Constraint::Length(4),
        Constraint::Length(4),
        Constraint::Length(4),
        Constraint::Length(4),
        Constraint::Length(4),
        Constraint::Length(8),
        Constraint::Length(cols.spark),
    ]);
    if cols.why > 0 {
        header.push(Cell::from(Span::styled("WHY", bold())));
        widths.push(Constraint::Min(cols.why));
    }

    let ascii = t.ascii;
    let rows: Vec<Row> = visible
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
            let mut cells = Vec::new();
            if cols.mark > 0 {
                let mark = match (app.marked.contains(&d.id), ascii) {
                    (true, false) => "●",
                    (true, true) => "*",
                    (false, _) => " ",
                };
                cells.push(Cell::from(Span::styled(mark, bold())));
            }
            cells.extend([
                Cell::from(triage_marker(d, app.now, t)),
                Cell::from(truncate(&d.name, cols.name as usize, ascii)),
                Cell::from(truncate(
                    d.assignee.as_deref().unwrap_or("-"),
                    cols.user as usize,
                    ascii,
                )),
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
                        cols.spark as usize,
                        Scale::Fixed {
                            min: 0.0,
                            max: 100.0,
                        },
                        ascii,
                    ),
                    fg(t, Color::Cyan),
                )),
            ]);
            if cols.why > 0 {
                cells.push(Cell::from(truncate(
                    &d.health.reasons.join("; "),
                    cols.why as usize,
                    ascii,
                )));
            }
            let mut row = Row::new(cells);
            if offset + i == app.selected {
                row = row.style(Style::new().add_modifier(Modifier::REVERSED));
            } else if app.marked.contains(&d.id) {
                row = row.style(bold());
            }
            row
        })
        .collect();
    let empty = rows.is_empty();
    let table = Table::new(rows, widths)
        .header(Row::new(header))
        .column_spacing(1);
    f.render_widget(table, table_area);
    if scrolling {
        super::widgets::scrollbar(f, bar_col, app.order.len(), rows_fit, offset, ascii);
    }
    if empty {
        let msg = if app.devices.is_empty() {
            if app.last_refresh.is_none() {
                "loading the fleet…"
            } else {
                "no devices yet (enroll one with rt-agent enroll)"
            }
        } else {
            "no device matches the filter (Esc clears it)"
        };
        let [_, line] =
            Layout::vertical([Constraint::Length(1), Constraint::Length(1)]).areas(table_area);
        f.render_widget(Paragraph::new(msg).centered(), line);
    }
}
