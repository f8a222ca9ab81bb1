//! Key handling: a pure function from (state, key) to a new state and requests for the fetcher.

use super::state::{Action, App, InputKind, Modal, Request, Screen, Status, Window};
use crate::filter::SortKey;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use rt_core::api::DevicePatch;

/// Every key, for the help screen: (keys, what they do, where).
pub const HELP: &[(&str, &str, &str)] = &[
    ("↑/k ↓/j", "move the selection", "fleet"),
    ("PgUp PgDn", "move a page", "fleet"),
    ("Home/g End/G", "first / last device", "fleet"),
    (
        "/",
        "filter: text, health:critical, state:deployed, user:alice",
        "fleet",
    ),
    ("Esc", "clear the filter / go back / close", "all"),
    ("1-9, 0", "sort by column 1..10 (again: reverse)", "fleet"),
    ("s / S", "sort by next / previous column", "fleet"),
    ("o", "reverse the sort order", "fleet"),
    ("Enter", "open the selected device", "fleet"),
    ("w", "history window 1h / 24h / 7d / 30d", "detail"),
    ("a", "assign to a user (admin)", "fleet, detail"),
    ("l", "change lifecycle state (admin)", "detail"),
    ("t", "edit asset tag (admin)", "detail"),
    ("n", "edit notes (admin)", "detail"),
    ("r", "refresh now", "all"),
    ("?", "this help", "all"),
    ("q, Ctrl-C", "quit", "all"),
];

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
            app.modal = Some(Modal::Help);
            Vec::new()
        }
        KeyCode::Char('r') | KeyCode::F(5) => {
            let mut reqs: Vec<Request> = app.request(Request::Fleet).into_iter().collect();
            if app.screen == Screen::Detail {
                reqs.extend(app.detail_requests());
            }
            app.status = Some(Status {
                text: "refreshing…".into(),
                error: false,
            });
            reqs
        }
        _ => match app.screen {
            Screen::Fleet => fleet_key(app, key),
            Screen::Detail => detail_key(app, key),
        },
    }
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
        KeyCode::Char('a') => {
            if let Some(d) = app.selected_device() {
                app.modal = Some(Modal::Input {
                    kind: InputKind::Assign,
                    id: d.id,
                    name: d.name.clone(),
                    value: d.assignee.clone().unwrap_or_default(),
                });
            }
        }
        _ => {}
    }
    app.clamp_selection();
    Vec::new()
}

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
            app.screen = Screen::Fleet;
        }
        KeyCode::Char('w') => {
            d.window = d.window.next();
            let w = d.window;
            app.pending.remove(&super::state::ReqKind::Metrics);
            return app.request(Request::Metrics(id, w)).into_iter().collect();
        }
        KeyCode::Char(c @ '1'..='4') => {
            d.window = Window::ALL[c as usize - '1' as usize];
            let w = d.window;
            app.pending.remove(&super::state::ReqKind::Metrics);
            return app.request(Request::Metrics(id, w)).into_iter().collect();
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
                        id,
                        name,
                        from,
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

fn filter_key(app: &mut App, key: KeyEvent) {
    match key.code {
        KeyCode::Enter => app.editing_filter = false,
        KeyCode::Esc => {
            app.editing_filter = false;
            app.set_filter_text(String::new());
        }
        KeyCode::Backspace => {
            let mut t = app.filter_text.clone();
            t.pop();
            app.set_filter_text(t);
        }
        KeyCode::Char(c) => {
            let mut t = app.filter_text.clone();
            t.push(c);
            app.set_filter_text(t);
        }
        _ => {}
    }
}

fn modal_key(app: &mut App, key: KeyEvent) -> Vec<Request> {
    let Some(modal) = app.modal.take() else {
        return Vec::new();
    };
    match modal {
        Modal::Help => {
            // Any key closes help; q still quits.
            if key.code == KeyCode::Char('q') {
                app.quit = true;
            }
        }
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
                }));
            }
            KeyCode::Backspace => {
                value.pop();
                app.modal = Some(Modal::Input {
                    kind,
                    id,
                    name,
                    value,
                });
            }
            KeyCode::Char('u') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                app.modal = Some(Modal::Input {
                    kind,
                    id,
                    name,
                    value: String::new(),
                });
            }
            KeyCode::Char(c) => {
                if value.chars().count() < 200 {
                    value.push(c);
                }
                app.modal = Some(Modal::Input {
                    kind,
                    id,
                    name,
                    value,
                });
            }
            _ => {
                app.modal = Some(Modal::Input {
                    kind,
                    id,
                    name,
                    value,
                })
            }
        },
        Modal::PickState {
            id,
            name,
            from,
            options,
            mut selected,
        } => match key.code {
            KeyCode::Esc | KeyCode::Char('q') => {}
            KeyCode::Down | KeyCode::Char('j') => {
                selected = (selected + 1).min(options.len().saturating_sub(1));
                app.modal = Some(Modal::PickState {
                    id,
                    name,
                    from,
                    options,
                    selected,
                });
            }
            KeyCode::Up | KeyCode::Char('k') => {
                selected = selected.saturating_sub(1);
                app.modal = Some(Modal::PickState {
                    id,
                    name,
                    from,
                    options,
                    selected,
                });
            }
            KeyCode::Enter => {
                if let Some(to) = options.get(selected).copied() {
                    app.modal = Some(Modal::Confirm(Action {
                        id,
                        patch: DevicePatch {
                            lifecycle_state: Some(to),
                            ..Default::default()
                        },
                        description: format!("move {name} from {from} to {to}"),
                    }));
                }
            }
            _ => {
                app.modal = Some(Modal::PickState {
                    id,
                    name,
                    from,
                    options,
                    selected,
                })
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
    }
    Vec::new()
}
