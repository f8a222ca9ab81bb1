//! Pure render functions: state in, frame out. Snapshot-tested on ratatui's TestBackend.

pub mod alerts;
pub mod detail;
pub mod fleet;
pub mod help;
pub mod widgets;

use super::state::{App, Screen};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout};

/// Draws the whole screen.
pub fn render(f: &mut Frame, app: &App) {
    let area = f.area();
    let banner = widgets::banner_line(app);
    let [header, banner_area, body, status, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(u16::from(banner.is_some())),
        Constraint::Min(1),
        Constraint::Length(u16::from(app.status.is_some())),
        Constraint::Length(1),
    ])
    .areas(area);
    // The command bar takes the footer's line while it is open.
    widgets::header(f, header, app);
    if let Some(b) = banner {
        f.render_widget(b, banner_area);
    }
    match app.screen {
        Screen::Fleet => fleet::render(f, body, app),
        Screen::Detail => detail::render(f, body, app),
        Screen::Alerts => alerts::render(f, body, app),
    }
    widgets::status(f, status, app);
    if app.command.is_some() {
        widgets::command_bar(f, footer, app);
    } else {
        widgets::footer(f, footer, app);
    }
    help::render_modal(f, area, app);
}

/// Table rows available on the fleet screen for a terminal of `height` lines (used by the
/// run loop so that paging and scrolling match what render shows). The alerts screen has the
/// same layout (a first line, the table, a line under it), so the same number.
pub fn fleet_table_rows(app: &App, height: u16) -> usize {
    let fixed = 1 // header
        + u16::from(widgets::banner_line(app).is_some())
        + u16::from(app.status.is_some())
        + 1 // footer
        + 1 // filter line
        + 1 // table header
        + 1; // reasons of the selected device (narrow screens; harmless on wide ones)
    height.saturating_sub(fixed).max(1) as usize
}

/// Screen line of the first fleet table row (for mouse clicks): header, banner, filter line,
/// table header.
pub fn fleet_first_row_y(app: &App) -> u16 {
    1 + u16::from(widgets::banner_line(app).is_some()) + 1 + 1
}
