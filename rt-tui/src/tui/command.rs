//! The `:` command bar (k9s-style): jump to a device, switch screens, apply or save views and
//! run actions by name, with Tab completion. Pure: text in, state changes and requests out.

use super::alerts::AlertScope;
use super::keys;
use super::state::{App, Modal, Request, Screen, Status, Window};
use crate::filter::SortKey;
use rt_core::LifecycleState;

/// Commands: (name, argument, what it does) — for completion and the help line.
pub const COMMANDS: &[(&str, &str, &str)] = &[
    ("open", "NAME", "open a device by name"),
    ("fleet", "", "back to the fleet table"),
    (
        "alerts",
        "[open|firing|all]",
        "the alerts screen (open, firing or all alerts)",
    ),
    ("filter", "TEXT", "set the filter (as after /)"),
    ("sort", "KEY [asc|desc]", "sort the table"),
    ("view", "NAME", "apply a saved view"),
    ("save", "NAME", "save the filter and sort as a view"),
    ("delview", "NAME", "delete a saved view"),
    ("mark", "all|none", "mark every device shown, or none"),
    (
        "assign",
        "USER",
        "assign the marked devices (or the selected one)",
    ),
    (
        "lifecycle",
        "STATE",
        "move the marked devices (or the selected one)",
    ),
    (
        "export",
        "[FILE]",
        "write the marked devices (or the selected one) as CSV",
    ),
    (
        "window",
        "1h|24h|7d|30d|90d|1y",
        "history window of the detail screen",
    ),
    ("refresh", "", "refresh now"),
    ("help", "", "the keys"),
    ("quit", "", "leave the console"),
];

/// Candidates for the last word of `text` (a command name, or the command's argument).
pub fn completions(app: &App, text: &str) -> Vec<String> {
    let (cmd, arg) = match text.split_once(char::is_whitespace) {
        Some((c, a)) => (c, Some(a.trim_start())),
        None => (text, None),
    };
    let starts = |cands: Vec<String>, part: &str| -> Vec<String> {
        let p = part.to_lowercase();
        let mut v: Vec<String> = cands
            .into_iter()
            .filter(|c| c.to_lowercase().starts_with(&p))
            .collect();
        v.sort();
        v.dedup();
        v
    };
    let Some(arg) = arg else {
        let mut v = starts(COMMANDS.iter().map(|c| c.0.to_string()).collect(), cmd);
        // A bare device name also completes (":build<Tab>" -> ":open build-07").
        if !cmd.is_empty() {
            v.extend(
                starts(device_names(app), cmd)
                    .into_iter()
                    .map(|n| format!("open {n}")),
            );
        }
        return v;
    };
    let cands: Vec<String> = match resolve(cmd) {
        Some("open") => device_names(app),
        Some("sort") => SortKey::ALL
            .iter()
            .map(|k| k.label().replace(' ', "_"))
            .collect(),
        Some("view" | "delview") => app.views.iter().map(|v| v.name.clone()).collect(),
        Some("mark") => vec!["all".into(), "none".into()],
        Some("lifecycle") => LifecycleState::ALL
            .iter()
            .map(|s| s.as_str().to_string())
            .collect(),
        Some("window") => Window::ALL.iter().map(|w| w.label().to_string()).collect(),
        Some("alerts") => vec!["open".into(), "firing".into(), "all".into()],
        Some("assign") => {
            let mut users: Vec<String> = app
                .devices
                .iter()
                .filter_map(|d| d.assignee.clone())
                .collect();
            users.sort();
            users.dedup();
            users
        }
        _ => Vec::new(),
    };
    starts(cands, arg)
        .into_iter()
        .map(|c| format!("{cmd} {c}"))
        .collect()
}

/// The command line after choosing completion `choice` for `stem`.
pub fn complete(_stem: &str, choice: &str) -> String {
    choice.to_string()
}

fn device_names(app: &App) -> Vec<String> {
    app.devices.iter().map(|d| d.name.clone()).collect()
}

/// A command name from its unique prefix (`:a` is ambiguous, `:as` is assign).
fn resolve(word: &str) -> Option<&'static str> {
    let w = word.to_ascii_lowercase();
    if w == "q" || w == "q!" {
        return Some("quit");
    }
    if let Some(c) = COMMANDS.iter().find(|c| c.0 == w) {
        return Some(c.0);
    }
    let mut hits = COMMANDS.iter().filter(|c| c.0.starts_with(&w));
    match (hits.next(), hits.next()) {
        (Some(c), None) if !w.is_empty() => Some(c.0),
        _ => None,
    }
}

fn error(app: &mut App, text: String) -> Vec<Request> {
    app.status = Some(Status { text, error: true });
    Vec::new()
}

/// Runs a command line. Unknown commands and bad arguments say what would work.
pub fn run(app: &mut App, text: &str) -> Vec<Request> {
    let text = text.trim().trim_start_matches(':').trim();
    if text.is_empty() {
        return Vec::new();
    }
    let (word, arg) = match text.split_once(char::is_whitespace) {
        Some((c, a)) => (c, a.trim()),
        None => (text, ""),
    };
    let Some(cmd) = resolve(word) else {
        // A device name on its own jumps to it.
        if let Some(id) = find_device(app, text) {
            return app.open_detail(id);
        }
        let names: Vec<&str> = COMMANDS.iter().map(|c| c.0).collect();
        return error(
            app,
            format!(
                "unknown command {word:?}: use {} (Tab completes)",
                names.join(", ")
            ),
        );
    };
    match cmd {
        "quit" => app.quit = true,
        "help" => app.modal = Some(Modal::Help { scroll: 0 }),
        "fleet" => app.screen = Screen::Fleet,
        "alerts" => {
            let scope = match arg {
                "" => app.alerts.scope,
                "open" => AlertScope::Open,
                "firing" => AlertScope::Firing,
                "all" => AlertScope::All,
                other => return error(app, format!("{other:?}: use :alerts open, firing or all")),
            };
            if scope != app.alerts.scope {
                app.alerts.scope = scope;
                app.alerts.selected = 0;
                app.alerts.offset = 0;
            }
            return app.open_alerts();
        }
        "refresh" => return keys::refresh(app),
        "open" => match find_device(app, arg) {
            Some(id) => return app.open_detail(id),
            None => return error(app, format!("no device named {arg:?}")),
        },
        "filter" => {
            app.screen = Screen::Fleet;
            app.set_filter_text(arg.to_string());
        }
        "sort" => {
            let mut parts = arg.split_whitespace();
            let key = parts.next().unwrap_or("");
            let Some(k) = SortKey::parse(key) else {
                let keys: Vec<String> = SortKey::ALL
                    .iter()
                    .map(|k| k.label().replace(' ', "_"))
                    .collect();
                return error(
                    app,
                    format!("unknown sort key {key:?}: use {}", keys.join(", ")),
                );
            };
            let desc = match parts.next() {
                Some("asc") => false,
                Some("desc") => true,
                Some(other) => return error(app, format!("{other:?}: use asc or desc")),
                None => k.default_descending(),
            };
            app.sort = k;
            app.descending = !desc;
            // set_sort on the same key flips the direction: land on `desc`.
            app.set_sort(k);
            app.screen = Screen::Fleet;
        }
        "view" => {
            let Some(v) = app.views.iter().find(|v| v.name == arg).cloned() else {
                let names: Vec<&str> = app.views.iter().map(|v| v.name.as_str()).collect();
                return error(
                    app,
                    if names.is_empty() {
                        format!("no view {arg:?}: save one with :save NAME")
                    } else {
                        format!("no view {arg:?}: saved views are {}", names.join(", "))
                    },
                );
            };
            if let Err(e) = app.apply_view(&v) {
                return error(app, e);
            }
            app.screen = Screen::Fleet;
            app.status = Some(Status {
                text: format!("view {}", v.name),
                error: false,
            });
        }
        "save" => {
            if arg.is_empty() || arg.chars().any(char::is_control) {
                return error(app, "name the view: :save NAME".into());
            }
            app.save_view(arg);
            app.status = Some(Status {
                text: format!("saved view {arg}"),
                error: false,
            });
            return vec![Request::SaveViews(app.views.clone())];
        }
        "delview" => {
            let before = app.views.len();
            app.views.retain(|v| v.name != arg);
            if app.views.len() == before {
                return error(app, format!("no view {arg:?}"));
            }
            app.status = Some(Status {
                text: format!("deleted view {arg}"),
                error: false,
            });
            return vec![Request::SaveViews(app.views.clone())];
        }
        "mark" => match arg {
            "all" | "" => {
                let shown: Vec<_> = app.order.iter().map(|&i| app.devices[i].id).collect();
                app.marked.extend(shown);
            }
            "none" => app.marked.clear(),
            other => return error(app, format!("{other:?}: use :mark all or :mark none")),
        },
        "assign" => {
            if arg.is_empty() {
                return error(app, "whom? :assign USER (\"-\" unassigns)".into());
            }
            let user = if arg == "-" { "" } else { arg };
            keys::confirm_assign(app, user);
        }
        "lifecycle" => {
            let to: LifecycleState = match arg.parse() {
                Ok(s) => s,
                Err(e) => return error(app, format!("{e}")),
            };
            let ids: Vec<_> = if app.marked.is_empty() {
                match app.screen {
                    Screen::Detail => app.detail.as_ref().map(|d| d.id).into_iter().collect(),
                    Screen::Fleet | Screen::Alerts => {
                        app.selected_device().map(|d| d.id).into_iter().collect()
                    }
                }
            } else {
                app.marked_devices().iter().map(|d| d.id).collect()
            };
            let refused: Vec<String> = ids
                .iter()
                .filter_map(|id| app.device(*id))
                .filter(|d| {
                    d.lifecycle_state != to && !d.lifecycle_state.allowed_next().contains(&to)
                })
                .map(|d| format!("{} ({})", d.name, d.lifecycle_state))
                .collect();
            if !refused.is_empty() {
                return error(app, format!("cannot move to {to}: {}", refused.join(", ")));
            }
            if !ids.is_empty() {
                keys::confirm_lifecycle(app, &ids, to);
            }
        }
        "export" => {
            let path = (!arg.is_empty()).then(|| std::path::PathBuf::from(arg));
            keys::confirm_export(app, path);
        }
        "window" => match Window::parse(arg) {
            Some(w) => {
                if let Some(d) = app.detail.as_mut() {
                    d.window = w;
                    let id = d.id;
                    app.pending.remove(&super::state::ReqKind::Metrics);
                    return app.request(Request::Metrics(id, w)).into_iter().collect();
                }
            }
            None => return error(app, format!("{arg:?}: use 1h, 24h, 7d, 30d, 90d or 1y")),
        },
        _ => {}
    }
    Vec::new()
}

/// A device by exact name, else by a unique case-insensitive prefix.
fn find_device(app: &App, name: &str) -> Option<rt_core::DeviceId> {
    if name.is_empty() {
        return None;
    }
    if let Some(d) = app.devices.iter().find(|d| d.name == name) {
        return Some(d.id);
    }
    let n = name.to_lowercase();
    let mut hits = app
        .devices
        .iter()
        .filter(|d| d.name.to_lowercase().starts_with(&n));
    match (hits.next(), hits.next()) {
        (Some(d), None) => Some(d.id),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::config::SavedView;
    use crate::fixtures;
    use crate::tui::state::{Bulk, Response, Theme};

    fn app() -> App {
        let mut app = App::new(
            "http://x",
            Theme {
                color: false,
                ascii: false,
            },
            fixtures::now(),
        );
        let _ = app.request(Request::Fleet);
        let _ = app.apply(Response::Fleet(Ok((fixtures::fleet(), None))));
        app
    }

    #[test]
    fn completes_commands_device_names_and_arguments() {
        let a = app();
        assert_eq!(completions(&a, "so"), vec!["sort"]);
        assert_eq!(completions(&a, "bui"), vec!["open build-07"]);
        assert_eq!(completions(&a, "open l"), vec!["open lab-mac-02"]);
        assert_eq!(
            completions(&a, "lifecycle in"),
            vec!["lifecycle in_repair", "lifecycle in_stock"]
        );
        assert_eq!(completions(&a, "sort last"), vec!["sort last_seen"]);
        assert_eq!(completions(&a, "window 9"), vec!["window 90d"]);
        assert_eq!(completions(&a, "assign a"), vec!["assign alice"]);
        assert!(completions(&a, "zzz").is_empty());
        // Every command name completes from its first letters.
        for (name, ..) in COMMANDS {
            assert!(
                completions(&a, &name[..2]).contains(&name.to_string()),
                "{name}"
            );
        }
    }

    #[test]
    fn runs_commands() {
        let mut a = app();
        let reqs = run(&mut a, "open lab-mac-02");
        assert_eq!(a.screen, Screen::Detail);
        assert_eq!(a.detail.as_ref().unwrap().id, rt_core::DeviceId(3));
        assert_eq!(reqs.len(), 4, "detail, metrics, events, alerts: {reqs:?}");
        run(&mut a, "fleet");
        assert_eq!(a.screen, Screen::Fleet);
        // A unique prefix of a device name alone jumps to it.
        run(&mut a, "recep");
        assert_eq!(a.detail.as_ref().unwrap().id, rt_core::DeviceId(5));
        run(&mut a, "fl");
        run(&mut a, "sort name asc");
        assert_eq!((a.sort, a.descending), (SortKey::Name, false));
        run(&mut a, "sort name desc");
        assert_eq!((a.sort, a.descending), (SortKey::Name, true));
        run(&mut a, "sort cpu");
        assert_eq!((a.sort, a.descending), (SortKey::Cpu, true));
        run(&mut a, "filter crit");
        assert_eq!(a.order.len(), 2);
        run(&mut a, "window 90d");
        assert_eq!(a.detail.as_ref().unwrap().window, Window::D90);
        run(&mut a, "bogus");
        let s = a.status.clone().unwrap();
        assert!(s.error && s.text.contains("unknown command"), "{s:?}");
        run(&mut a, "sort colour");
        assert!(a.status.clone().unwrap().text.contains("unknown sort key"));
        let reqs = run(&mut a, "alerts firing");
        assert_eq!(a.screen, Screen::Alerts);
        assert_eq!(reqs, vec![Request::Alerts(AlertScope::Firing)]);
        assert_eq!(completions(&a, "ale"), vec!["alerts"]);
        assert_eq!(completions(&a, "alerts f"), vec!["alerts firing"]);
        run(&mut a, "alerts loud");
        assert!(
            a.status
                .clone()
                .unwrap()
                .text
                .contains("open, firing or all")
        );
        run(&mut a, "q");
        assert!(a.quit);
    }

    #[test]
    fn saves_and_applies_views() {
        let mut a = app();
        run(&mut a, "filter warn crit");
        run(&mut a, "sort name");
        let reqs = run(&mut a, "save attention");
        assert_eq!(
            reqs,
            vec![Request::SaveViews(vec![SavedView {
                name: "attention".into(),
                filter: "warn crit".into(),
                sort: "name".into(),
                descending: false,
            }])]
        );
        run(&mut a, "filter");
        run(&mut a, "sort health");
        assert_eq!(a.order.len(), 6);
        run(&mut a, "view attention");
        assert_eq!(a.filter_text, "warn crit");
        assert_eq!(a.sort, SortKey::Name);
        assert_eq!(a.order.len(), 3);
        assert_eq!(completions(&a, "view a"), vec!["view attention"]);
        run(&mut a, "view nope");
        assert!(a.status.clone().unwrap().text.contains("attention"));
        let reqs = run(&mut a, "delview attention");
        assert_eq!(reqs, vec![Request::SaveViews(vec![])]);
    }

    #[test]
    fn bulk_commands_confirm_once_with_every_change() {
        let mut a = app();
        run(&mut a, "filter crit");
        run(&mut a, "mark all");
        assert_eq!(a.marked.len(), 2);
        run(&mut a, "assign alice");
        let Some(Modal::ConfirmBulk {
            bulk: Bulk::Patch { summary, actions },
            ..
        }) = a.modal.clone()
        else {
            panic!("bulk confirm expected: {:?}", a.modal);
        };
        assert_eq!(summary, "assign 2 devices to alice");
        let d: Vec<&str> = actions.iter().map(|x| x.description.as_str()).collect();
        assert_eq!(
            d,
            vec![
                "assign build-07 to alice",
                "assign lab-mac-02 to alice (was bob)"
            ]
        );
        a.modal = None;
        run(&mut a, "lifecycle lost");
        assert!(matches!(a.modal, Some(Modal::ConfirmBulk { .. })));
        a.modal = None;
        run(&mut a, "export /tmp/x.csv");
        let Some(Modal::ConfirmBulk {
            bulk: Bulk::Export { path, ids },
            ..
        }) = a.modal.clone()
        else {
            panic!()
        };
        assert_eq!(path, std::path::PathBuf::from("/tmp/x.csv"));
        assert_eq!(ids.len(), 2);
    }
}
