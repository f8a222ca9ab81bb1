//! Key and mouse handling: pure functions from (state, event) to a new state and requests for
//! the fetcher.

use super::alerts::{AlertAction, alert_name, parse_silence};
use super::command;
use super::state::{
    Action, App, Bulk, BulkProgress, CommandLine, InputKind, Modal, ReqKind, Request, Screen,
    Status, Window,
};
use crate::filter::SortKey;
use ratatui::crossterm::event::{
    KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};
use rt_core::alert::api::AlertState;
use rt_core::api::DevicePatch;
use rt_core::{DeviceId, LifecycleState};

/// Where a key works, for the help screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Where {
    All,
    Fleet,
    Detail,
    /// The fleet and device screens (device actions).
    Devices,
    Alerts,
}

impl Where {
    pub fn applies(self, screen: Screen) -> bool {
        match self {
            Where::All => true,
            Where::Fleet => screen == Screen::Fleet,
            Where::Detail => screen == Screen::Detail,
            Where::Devices => screen != Screen::Alerts,
            Where::Alerts => screen == Screen::Alerts,
        }
    }
}

/// Every key, for the help screen: (keys, what they do, where).
pub const HELP: &[(&str, &str, Where)] = &[
    (
        "↑/k ↓/j",
        "move the selection (mouse wheel too)",
        Where::Fleet,
    ),
    ("PgUp PgDn", "move a page", Where::Fleet),
    ("Home/g End/G", "first / last device", Where::Fleet),
    (
        "/",
        "filter: text, crit, warn, off, state:, user:, os:, model:",
        Where::Fleet,
    ),
    (
        "Ctrl-U Ctrl-W",
        "clear the line / delete a word (in any input)",
        Where::All,
    ),
    (
        ":",
        "command bar (Tab completes): open, sort, view, save, assign ...",
        Where::All,
    ),
    (
        "Esc",
        "clear marks, then the filter / go back / close",
        Where::All,
    ),
    (
        "1-9, 0",
        "sort by column 1..10 (again: reverse)",
        Where::Fleet,
    ),
    ("s / S", "sort by next / previous column", Where::Fleet),
    ("o", "reverse the sort order", Where::Fleet),
    (
        "Enter",
        "open the selected device (or click it twice)",
        Where::Fleet,
    ),
    (
        "Space",
        "mark / unmark the device for a bulk action",
        Where::Fleet,
    ),
    ("*", "mark every device shown / unmark all", Where::Fleet),
    (
        "a",
        "assign (the marked devices, else this one; admin)",
        Where::Devices,
    ),
    (
        "L",
        "change lifecycle state (marked or this one; admin)",
        Where::Fleet,
    ),
    (
        "x",
        "export the marked devices (or this one) to CSV",
        Where::Fleet,
    ),
    (
        "w, 1-6",
        "history window 1h/24h/7d/30d/90d/1y",
        Where::Detail,
    ),
    ("l", "change lifecycle state (admin)", Where::Detail),
    ("t", "edit asset tag (admin)", Where::Detail),
    ("n", "edit notes (admin)", Where::Detail),
    ("PgUp PgDn", "page through the events", Where::Detail),
    (
        "Esc, h, ←",
        "back to the fleet (or the alerts)",
        Where::Detail,
    ),
    (
        "↑/k ↓/j",
        "move the selection (mouse wheel too)",
        Where::Alerts,
    ),
    ("PgUp PgDn", "move a page", Where::Alerts),
    ("Home/g End/G", "first / last alert", Where::Alerts),
    (
        "f",
        "show open / firing / all (with recently resolved) alerts",
        Where::Alerts,
    ),
    ("Enter", "open the alert's device", Where::Alerts),
    (
        "a",
        "acknowledge the alert (admin; asks first)",
        Where::Alerts,
    ),
    (
        "s",
        "silence the alert for a duration, e.g. 4h (admin; asks first)",
        Where::Alerts,
    ),
    ("A", "the alerts screen (also :alerts)", Where::All),
    ("r", "refresh now", Where::All),
    (
        "?",
        "this help (↑/↓ scroll when it does not fit)",
        Where::All,
    ),
    ("q, Ctrl-C", "quit", Where::All),
];

/// Shell-style editing of a one-line input: typed characters (up to `max`), Backspace,
/// Ctrl-U (clear the line), Ctrl-W (delete the word before the end). Returns false for keys
/// that are not edits.
pub fn edit_line(text: &mut String, key: KeyEvent, max: usize) -> bool {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    match key.code {
        KeyCode::Char('u') if ctrl => text.clear(),
        KeyCode::Char('w') if ctrl => {
            let trimmed = text.trim_end().len();
            text.truncate(trimmed);
            let cut = text
                .char_indices()
                .rev()
                .find(|(_, c)| c.is_whitespace())
                .map_or(0, |(i, c)| i + c.len_utf8());
            text.truncate(cut);
        }
        KeyCode::Char(_) if ctrl => return false,
        KeyCode::Backspace => {
            text.pop();
        }
        KeyCode::Char(c) => {
            if text.chars().count() < max {
                text.push(c);
            }
        }
        _ => return false,
    }
    true
}

/// The text of a CSV export file name for `now`.
pub fn export_path(now: chrono::DateTime<chrono::Utc>) -> std::path::PathBuf {
    std::path::PathBuf::from(format!("rt-devices-{}.csv", now.format("%Y%m%d-%H%M%S")))
}

/// Handles one key. Returns requests to send to the fetcher.
pub fn handle_key(app: &mut App, key: KeyEvent) -> Vec<Request> {
    if key.kind == KeyEventKind::Release {
        return Vec::new();
    }
    if key.modifiers.contains(KeyModifiers::CONTROL)
        && matches!(key.code, KeyCode::Char('c') | KeyCode::Char('q'))
    {
        app.quit = true;
        return Vec::new();
    }
    if app.modal.is_some() {
        return modal_key(app, key);
    }
    if app.command.is_some() {
        return command_key(app, key);
    }
    if app.editing_filter {
        filter_key(app, key);
        return Vec::new();
    }
    // Any other key clears an old status message.
    if !matches!(key.code, KeyCode::Char('r')) {
        app.status = None;
    }
    match key.code {
        KeyCode::Char('q') => {
            app.quit = true;
            Vec::new()
        }
        KeyCode::Char('?') | KeyCode::F(1) => {
            app.modal = Some(Modal::Help { scroll: 0 });
            Vec::new()
        }
        KeyCode::Char(':') => {
            app.command = Some(CommandLine::default());
            Vec::new()
        }
        KeyCode::Char('r') | KeyCode::F(5) => refresh(app),
        KeyCode::Char('A') => app.open_alerts(),
        _ => match app.screen {
            Screen::Fleet => fleet_key(app, key),
            Screen::Detail => detail_key(app, key),
            Screen::Alerts => alerts_key(app, key),
        },
    }
}

/// Asks for the fleet and the alerts (and the open device) again.
pub fn refresh(app: &mut App) -> Vec<Request> {
    let mut reqs = app.refresh_requests();
    if app.screen == Screen::Detail {
        reqs.extend(app.detail_requests());
    }
    app.status = Some(Status {
        text: "refreshing…".into(),
        error: false,
    });
    reqs
}

/// Mouse: the wheel moves the selection, a click selects a row, a click on the selected row
/// opens it. `first_row_y` is the screen line of the first table row (from the layout).
pub fn handle_mouse(app: &mut App, m: MouseEvent, first_row_y: u16) -> Vec<Request> {
    if app.screen == Screen::Alerts && app.modal.is_none() && app.command.is_none() {
        let a = &mut app.alerts;
        match m.kind {
            MouseEventKind::ScrollDown => a.selected = a.selected.saturating_add(3),
            MouseEventKind::ScrollUp => a.selected = a.selected.saturating_sub(3),
            _ => {}
        }
        a.clamp(app.table_rows);
        return Vec::new();
    }
    if app.modal.is_some() || app.command.is_some() || app.screen != Screen::Fleet {
        if app.screen == Screen::Detail
            && app.modal.is_none()
            && let Some(d) = app.detail.as_mut()
        {
            match m.kind {
                MouseEventKind::ScrollDown => {
                    d.events_offset = (d.events_offset + 3).min(d.events.len().saturating_sub(1))
                }
                MouseEventKind::ScrollUp => d.events_offset = d.events_offset.saturating_sub(3),
                _ => {}
            }
        }
        return Vec::new();
    }
    match m.kind {
        MouseEventKind::ScrollDown => app.selected = app.selected.saturating_add(3),
        MouseEventKind::ScrollUp => app.selected = app.selected.saturating_sub(3),
        MouseEventKind::Down(MouseButton::Left) if m.row >= first_row_y => {
            let pos = app.offset + (m.row - first_row_y) as usize;
            if pos < app.order.len().min(app.offset + app.table_rows) {
                if pos == app.selected
                    && let Some(id) = app.selected_device().map(|d| d.id)
                {
                    return app.open_detail(id);
                }
                app.selected = pos;
            }
        }
        _ => {}
    }
    app.clamp_selection();
    Vec::new()
}

/// The devices a bulk-capable action applies to: the marked ones, else the selected one.
fn targets(app: &App) -> Vec<(DeviceId, String, Option<String>, LifecycleState)> {
    let list: Vec<_> = if app.marked.is_empty() {
        app.selected_device().into_iter().collect()
    } else {
        app.marked_devices()
    };
    list.into_iter()
        .map(|d| (d.id, d.name.clone(), d.assignee.clone(), d.lifecycle_state))
        .collect()
}

/// The confirmation of assigning the target devices to `user` ("" unassigns). One device
/// without marks: the single confirm; otherwise the bulk confirm listing every change.
pub fn confirm_assign(app: &mut App, user: &str) {
    let user = user.trim().to_string();
    let t = targets(app);
    if t.is_empty() {
        return;
    }
    let patch = DevicePatch {
        assignee: Some(user.clone()),
        ..Default::default()
    };
    let describe = |name: &str, from: &Option<String>| match (from.as_deref(), user.is_empty()) {
        (_, true) => format!("unassign {name} (was {})", from.as_deref().unwrap_or("-")),
        (Some(f), false) => format!("assign {name} to {user} (was {f})"),
        (None, false) => format!("assign {name} to {user}"),
    };
    if app.marked.is_empty() {
        let (id, name, _, _) = &t[0];
        app.modal = Some(Modal::Confirm(Action {
            id: *id,
            patch,
            description: if user.is_empty() {
                format!("unassign {name}")
            } else {
                format!("assign {name} to {user}")
            },
            bulk: false,
        }));
        return;
    }
    let actions: Vec<Action> = t
        .iter()
        .filter(|(_, _, from, _)| from.as_deref().unwrap_or("") != user)
        .map(|(id, name, from, _)| Action {
            id: *id,
            patch: patch.clone(),
            description: describe(name, from),
            bulk: true,
        })
        .collect();
    if actions.is_empty() {
        app.status = Some(Status {
            text: "nothing to change: every marked device already has that assignee".into(),
            error: false,
        });
        return;
    }
    let summary = if user.is_empty() {
        format!("unassign {} devices", actions.len())
    } else {
        format!("assign {} devices to {user}", actions.len())
    };
    app.modal = Some(Modal::ConfirmBulk {
        bulk: Bulk::Patch { summary, actions },
        scroll: 0,
    });
}

/// The lifecycle picker for the target devices: only states every one of them may move to.
pub fn pick_lifecycle(app: &mut App) {
    let t = targets(app);
    if t.is_empty() {
        return;
    }
    let mut options: Vec<LifecycleState> = LifecycleState::ALL
        .into_iter()
        .filter(|to| {
            t.iter()
                .all(|(_, _, _, from)| from == to || from.allowed_next().contains(to))
                && t.iter().any(|(_, _, _, from)| from != to)
        })
        .collect();
    options.dedup();
    let name = if t.len() == 1 {
        t[0].1.clone()
    } else {
        format!("{} marked devices", t.len())
    };
    let from = (t.len() == 1).then_some(t[0].3);
    if options.is_empty() {
        app.status = Some(Status {
            text: format!("{name}: no lifecycle change is possible for all of them"),
            error: true,
        });
        return;
    }
    app.modal = Some(Modal::PickState {
        ids: t.iter().map(|x| x.0).collect(),
        name,
        from,
        options,
        selected: 0,
    });
}

/// The confirmation of moving `ids` to `to`.
pub fn confirm_lifecycle(app: &mut App, ids: &[DeviceId], to: LifecycleState) {
    let patch = DevicePatch {
        lifecycle_state: Some(to),
        ..Default::default()
    };
    let named: Vec<(DeviceId, String, Option<LifecycleState>)> = ids
        .iter()
        .map(|id| match app.device(*id) {
            Some(d) => (*id, d.name.clone(), Some(d.lifecycle_state)),
            None => (*id, format!("device {id}"), None),
        })
        .collect();
    if ids.len() == 1 && app.marked.is_empty() {
        let (id, name, from) = &named[0];
        let from = app
            .detail
            .as_ref()
            .filter(|d| d.id == *id)
            .and_then(|d| d.detail.as_ref().map(|x| x.summary.lifecycle_state))
            .or(*from);
        app.modal = Some(Modal::Confirm(Action {
            id: *id,
            patch,
            description: match from {
                Some(f) => format!("move {name} from {f} to {to}"),
                None => format!("move {name} to {to}"),
            },
            bulk: false,
        }));
        return;
    }
    let actions: Vec<Action> = named
        .into_iter()
        .filter(|(_, _, from)| *from != Some(to))
        .map(|(id, name, from)| Action {
            id,
            patch: patch.clone(),
            description: match from {
                Some(f) => format!("move {name} from {f} to {to}"),
                None => format!("move {name} to {to}"),
            },
            bulk: true,
        })
        .collect();
    let summary = format!("move {} devices to {to}", actions.len());
    app.modal = Some(Modal::ConfirmBulk {
        bulk: Bulk::Patch { summary, actions },
        scroll: 0,
    });
}

/// The confirmation of exporting the target devices to a CSV file (`path`, else a dated name).
pub fn confirm_export(app: &mut App, path: Option<std::path::PathBuf>) {
    let ids: Vec<DeviceId> = targets(app).into_iter().map(|t| t.0).collect();
    if ids.is_empty() {
        return;
    }
    let path = path.unwrap_or_else(|| export_path(app.now));
    app.modal = Some(Modal::ConfirmBulk {
        bulk: Bulk::Export { path, ids },
        scroll: 0,
    });
}

fn fleet_key(app: &mut App, key: KeyEvent) -> Vec<Request> {
    let page = app.table_rows.max(1);
    match key.code {
        KeyCode::Down | KeyCode::Char('j') => app.selected = app.selected.saturating_add(1),
        KeyCode::Up | KeyCode::Char('k') => app.selected = app.selected.saturating_sub(1),
        KeyCode::PageDown => app.selected = app.selected.saturating_add(page),
        KeyCode::PageUp => app.selected = app.selected.saturating_sub(page),
        KeyCode::Home | KeyCode::Char('g') => app.selected = 0,
        KeyCode::End | KeyCode::Char('G') => app.selected = app.order.len().saturating_sub(1),
        KeyCode::Char('/') => {
            app.editing_filter = true;
        }
        KeyCode::Esc if !app.marked.is_empty() => app.marked.clear(),
        KeyCode::Esc if !app.filter_text.is_empty() => app.set_filter_text(String::new()),
        KeyCode::Char(c @ '0'..='9') => {
            let idx = if c == '0' {
                9
            } else {
                c as usize - '1' as usize
            };
            app.set_sort(SortKey::ALL[idx]);
        }
        KeyCode::Char('s') => app.set_sort(app.sort.next()),
        KeyCode::Char('S') => app.set_sort(app.sort.prev()),
        KeyCode::Char('o') => app.set_sort(app.sort),
        KeyCode::Enter | KeyCode::Right | KeyCode::Char('l') => {
            if let Some(id) = app.selected_device().map(|d| d.id) {
                return app.open_detail(id);
            }
        }
        KeyCode::Char(' ') => {
            app.toggle_mark();
            app.selected = app.selected.saturating_add(1);
        }
        KeyCode::Char('*') => {
            let shown: Vec<DeviceId> = app.order.iter().map(|&i| app.devices[i].id).collect();
            if !shown.is_empty() && shown.iter().all(|id| app.marked.contains(id)) {
                app.marked.clear();
            } else {
                app.marked.extend(shown);
            }
        }
        KeyCode::Char('a') => {
            if app.marked.is_empty() {
                if let Some(d) = app.selected_device() {
                    app.modal = Some(Modal::Input {
                        kind: InputKind::Assign,
                        id: d.id,
                        name: d.name.clone(),
                        value: d.assignee.clone().unwrap_or_default(),
                    });
                }
            } else {
                app.modal = Some(Modal::Input {
                    kind: InputKind::BulkAssign,
                    id: DeviceId(0),
                    name: format!("{} marked devices", app.marked.len()),
                    value: String::new(),
                });
            }
        }
        KeyCode::Char('L') => pick_lifecycle(app),
        KeyCode::Char('x') => confirm_export(app, None),
        _ => {}
    }
    app.clamp_selection();
    Vec::new()
}

fn set_window(app: &mut App, w: Window) -> Vec<Request> {
    let Some(d) = app.detail.as_mut() else {
        return Vec::new();
    };
    d.window = w;
    let id = d.id;
    app.pending.remove(&ReqKind::Metrics);
    app.request(Request::Metrics(id, w)).into_iter().collect()
}

/// Events shown per page on the detail screen (the renderer shows as many as fit).
pub const EVENTS_PAGE: usize = 10;

fn detail_key(app: &mut App, key: KeyEvent) -> Vec<Request> {
    let Some(d) = app.detail.as_mut() else {
        app.screen = Screen::Fleet;
        return Vec::new();
    };
    let id = d.id;
    let summary = d.detail.as_ref().map(|x| &x.summary);
    let name = summary
        .map(|s| s.name.clone())
        .or_else(|| {
            app.devices
                .iter()
                .find(|x| x.id == id)
                .map(|x| x.name.clone())
        })
        .unwrap_or_else(|| format!("device {id}"));
    match key.code {
        KeyCode::Esc | KeyCode::Backspace | KeyCode::Left | KeyCode::Char('h') => {
            app.screen = d.back;
        }
        KeyCode::Char('w') => {
            let w = d.window.next();
            return set_window(app, w);
        }
        KeyCode::Char(c @ '1'..='6') => {
            let w = Window::ALL[c as usize - '1' as usize];
            return set_window(app, w);
        }
        KeyCode::PageDown | KeyCode::Char('J')
            if d.events_offset + EVENTS_PAGE < d.events.len() =>
        {
            d.events_offset += EVENTS_PAGE;
        }
        KeyCode::PageUp | KeyCode::Char('K') => {
            d.events_offset = d.events_offset.saturating_sub(EVENTS_PAGE);
        }
        KeyCode::Char('a') => {
            let value = summary.and_then(|s| s.assignee.clone()).unwrap_or_default();
            app.modal = Some(Modal::Input {
                kind: InputKind::Assign,
                id,
                name,
                value,
            });
        }
        KeyCode::Char('t') => {
            let value = summary
                .and_then(|s| s.asset_tag.clone())
                .unwrap_or_default();
            app.modal = Some(Modal::Input {
                kind: InputKind::AssetTag,
                id,
                name,
                value,
            });
        }
        KeyCode::Char('n') => {
            let value = d
                .detail
                .as_ref()
                .and_then(|x| x.notes.clone())
                .unwrap_or_default();
            app.modal = Some(Modal::Input {
                kind: InputKind::Notes,
                id,
                name,
                value,
            });
        }
        KeyCode::Char('l') => match d.detail.as_ref() {
            Some(det) => {
                let from = det.summary.lifecycle_state;
                let options = if det.allowed_transitions.is_empty() {
                    from.allowed_next()
                } else {
                    det.allowed_transitions.clone()
                };
                if options.is_empty() {
                    app.status = Some(Status {
                        text: format!("{name} is {from}: no state change is possible"),
                        error: true,
                    });
                } else {
                    app.modal = Some(Modal::PickState {
                        ids: vec![id],
                        name,
                        from: Some(from),
                        options,
                        selected: 0,
                    });
                }
            }
            None => {
                app.status = Some(Status {
                    text: "still loading the device; try again in a moment".into(),
                    error: true,
                });
            }
        },
        _ => {}
    }
    Vec::new()
}

/// The alerts screen: move, switch the scope, open the device, acknowledge, silence.
fn alerts_key(app: &mut App, key: KeyEvent) -> Vec<Request> {
    let page = app.table_rows.max(1);
    let a = &mut app.alerts;
    match key.code {
        KeyCode::Down | KeyCode::Char('j') => a.selected = a.selected.saturating_add(1),
        KeyCode::Up | KeyCode::Char('k') => a.selected = a.selected.saturating_sub(1),
        KeyCode::PageDown => a.selected = a.selected.saturating_add(page),
        KeyCode::PageUp => a.selected = a.selected.saturating_sub(page),
        KeyCode::Home | KeyCode::Char('g') => a.selected = 0,
        KeyCode::End | KeyCode::Char('G') => a.selected = a.len().saturating_sub(1),
        KeyCode::Esc | KeyCode::Left | KeyCode::Char('h') => app.screen = Screen::Fleet,
        KeyCode::Char('f') => return app.cycle_alert_scope(),
        KeyCode::Enter | KeyCode::Right | KeyCode::Char('l') => {
            if let Some(id) = a.selected_alert().map(|x| x.device_id) {
                return app.open_detail(id);
            }
        }
        KeyCode::Char('a') | KeyCode::Char('s') => {
            let Some(alert) = a.selected_alert().cloned() else {
                return Vec::new();
            };
            if alert.state == AlertState::Resolved {
                app.status = Some(Status {
                    text: format!(
                        "{} is resolved; only open alerts can be acknowledged or silenced",
                        alert_name(&alert)
                    ),
                    error: true,
                });
            } else if key.code == KeyCode::Char('a') {
                app.modal = Some(Modal::ConfirmAlert(AlertAction::ack(&alert)));
            } else {
                app.modal = Some(Modal::SilenceFor {
                    alert: Box::new(alert),
                    value: String::new(),
                });
            }
        }
        _ => {}
    }
    app.alerts.clamp(page);
    Vec::new()
}

fn filter_key(app: &mut App, key: KeyEvent) {
    match key.code {
        KeyCode::Enter => app.editing_filter = false,
        KeyCode::Esc => {
            app.editing_filter = false;
            app.set_filter_text(String::new());
        }
        _ => {
            let mut t = app.filter_text.clone();
            if edit_line(&mut t, key, 500) {
                app.set_filter_text(t);
            }
        }
    }
}

fn command_key(app: &mut App, key: KeyEvent) -> Vec<Request> {
    let Some(mut cl) = app.command.take() else {
        return Vec::new();
    };
    match key.code {
        KeyCode::Esc => {}
        KeyCode::Enter => {
            let text = cl.text.clone();
            return command::run(app, &text);
        }
        KeyCode::Tab | KeyCode::BackTab => {
            if cl.completion.is_none() {
                cl.stem = cl.text.clone();
            }
            let options = command::completions(app, &cl.stem);
            if !options.is_empty() {
                let n = options.len();
                let next = match (cl.completion, key.code) {
                    (None, KeyCode::BackTab) => n - 1,
                    (None, _) => 0,
                    (Some(i), KeyCode::BackTab) => (i + n - 1) % n,
                    (Some(i), _) => (i + 1) % n,
                };
                cl.completion = Some(next);
                cl.text = command::complete(&cl.stem, &options[next]);
            }
            app.command = Some(cl);
        }
        _ => {
            if key.code == KeyCode::Backspace && cl.text.is_empty() {
                // Backspace on an empty bar closes it, as in k9s and vim.
                return Vec::new();
            }
            edit_line(&mut cl.text, key, 300);
            cl.completion = None;
            app.command = Some(cl);
        }
    }
    Vec::new()
}

fn modal_key(app: &mut App, key: KeyEvent) -> Vec<Request> {
    let Some(modal) = app.modal.take() else {
        return Vec::new();
    };
    match modal {
        Modal::Help { scroll } => match key.code {
            KeyCode::Down | KeyCode::Char('j') | KeyCode::PageDown => {
                app.modal = Some(Modal::Help { scroll: scroll + 1 });
            }
            KeyCode::Up | KeyCode::Char('k') | KeyCode::PageUp => {
                app.modal = Some(Modal::Help {
                    scroll: scroll.saturating_sub(1),
                });
            }
            // Any other key closes help; q still quits.
            KeyCode::Char('q') => app.quit = true,
            _ => {}
        },
        Modal::Input {
            kind,
            id,
            name,
            mut value,
        } => match key.code {
            KeyCode::Esc => {}
            KeyCode::Enter => {
                let v = value.trim().to_string();
                let (patch, description) = match kind {
                    InputKind::BulkAssign => {
                        confirm_assign(app, &v);
                        return Vec::new();
                    }
                    InputKind::Assign => (
                        DevicePatch {
                            assignee: Some(v.clone()),
                            ..Default::default()
                        },
                        if v.is_empty() {
                            format!("unassign {name}")
                        } else {
                            format!("assign {name} to {v}")
                        },
                    ),
                    InputKind::AssetTag => (
                        DevicePatch {
                            asset_tag: Some(v.clone()),
                            ..Default::default()
                        },
                        format!("set asset tag of {name} to {v:?}"),
                    ),
                    InputKind::Notes => (
                        DevicePatch {
                            notes: Some(v.clone()),
                            ..Default::default()
                        },
                        format!("set notes of {name}"),
                    ),
                };
                app.modal = Some(Modal::Confirm(Action {
                    id,
                    patch,
                    description,
                    bulk: false,
                }));
            }
            _ => {
                edit_line(&mut value, key, 200);
                app.modal = Some(Modal::Input {
                    kind,
                    id,
                    name,
                    value,
                });
            }
        },
        Modal::PickState {
            ids,
            name,
            from,
            options,
            mut selected,
        } => match key.code {
            KeyCode::Esc | KeyCode::Char('q') => {}
            KeyCode::Enter => {
                if let Some(to) = options.get(selected).copied() {
                    confirm_lifecycle(app, &ids, to);
                }
            }
            other => {
                match other {
                    KeyCode::Down | KeyCode::Char('j') => {
                        selected = (selected + 1).min(options.len().saturating_sub(1));
                    }
                    KeyCode::Up | KeyCode::Char('k') => selected = selected.saturating_sub(1),
                    _ => {}
                }
                app.modal = Some(Modal::PickState {
                    ids,
                    name,
                    from,
                    options,
                    selected,
                });
            }
        },
        Modal::Confirm(action) => match key.code {
            KeyCode::Char('y') | KeyCode::Char('Y') | KeyCode::Enter => {
                app.status = Some(Status {
                    text: format!("sending: {}…", action.description),
                    error: false,
                });
                return app.request(Request::Patch(action)).into_iter().collect();
            }
            KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Esc | KeyCode::Char('q') => {
                app.status = Some(Status {
                    text: "cancelled".into(),
                    error: false,
                });
            }
            _ => app.modal = Some(Modal::Confirm(action)),
        },
        Modal::SilenceFor { alert, mut value } => match key.code {
            KeyCode::Esc => {}
            KeyCode::Enter => match parse_silence(&value) {
                Ok(secs) => {
                    app.status = None;
                    app.modal = Some(Modal::ConfirmAlert(AlertAction::silence(&alert, secs)));
                }
                Err(e) => {
                    // Stay in the dialog so the duration can be corrected.
                    app.status = Some(Status {
                        text: e,
                        error: true,
                    });
                    app.modal = Some(Modal::SilenceFor { alert, value });
                }
            },
            _ => {
                edit_line(&mut value, key, 40);
                app.modal = Some(Modal::SilenceFor { alert, value });
            }
        },
        Modal::ConfirmAlert(action) => match key.code {
            KeyCode::Char('y') | KeyCode::Char('Y') | KeyCode::Enter => {
                app.status = Some(Status {
                    text: format!("sending: {}…", action.description),
                    error: false,
                });
                return app.request(Request::Alert(action)).into_iter().collect();
            }
            KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Esc | KeyCode::Char('q') => {
                app.status = Some(Status {
                    text: "cancelled".into(),
                    error: false,
                });
            }
            _ => app.modal = Some(Modal::ConfirmAlert(action)),
        },
        Modal::ConfirmBulk { bulk, scroll } => match key.code {
            KeyCode::Char('y') | KeyCode::Char('Y') | KeyCode::Enter => {
                return start_bulk(app, bulk);
            }
            KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Esc | KeyCode::Char('q') => {
                app.status = Some(Status {
                    text: "cancelled".into(),
                    error: false,
                });
            }
            KeyCode::Down | KeyCode::Char('j') | KeyCode::PageDown => {
                app.modal = Some(Modal::ConfirmBulk {
                    bulk,
                    scroll: scroll + 1,
                });
            }
            KeyCode::Up | KeyCode::Char('k') | KeyCode::PageUp => {
                app.modal = Some(Modal::ConfirmBulk {
                    bulk,
                    scroll: scroll.saturating_sub(1),
                });
            }
            _ => app.modal = Some(Modal::ConfirmBulk { bulk, scroll }),
        },
    }
    Vec::new()
}

/// Sends a confirmed bulk change.
fn start_bulk(app: &mut App, bulk: Bulk) -> Vec<Request> {
    match bulk {
        Bulk::Patch { summary, actions } => {
            app.bulk = Some(BulkProgress {
                summary: summary.clone(),
                total: actions.len(),
                done: 0,
                failed: Vec::new(),
            });
            app.status = Some(Status {
                text: format!("sending: {summary}…"),
                error: false,
            });
            actions
                .into_iter()
                .filter_map(|a| app.request(Request::Patch(a)))
                .collect()
        }
        Bulk::Export { path, ids } => {
            let rows: Vec<_> = ids
                .iter()
                .filter_map(|id| app.device(*id).cloned())
                .collect();
            app.status = Some(Status {
                text: format!("writing {}…", path.display()),
                error: false,
            });
            app.pending.remove(&ReqKind::Export);
            app.request(Request::Export(path, rows))
                .into_iter()
                .collect()
        }
    }
}
