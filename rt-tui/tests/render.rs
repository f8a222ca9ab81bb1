//! Snapshot tests of every screen on deterministic data (fixed "now"), at 80x24 and 160x48.
#![allow(clippy::unwrap_used)]

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use rt_tui::fixtures;
use rt_tui::tui::keys::handle_key;
use rt_tui::tui::state::{App, ConnState, Request, Response, Theme};
use rt_tui::tui::ui;

const SIZES: [(u16, u16); 2] = [(80, 24), (160, 48)];

fn theme() -> Theme {
    Theme {
        color: false,
        ascii: false,
    }
}

fn fleet_app(theme: Theme) -> App {
    let mut app = App::new("http://127.0.0.1:8080", theme, fixtures::now());
    let _ = app.request(Request::Fleet);
    let _ = app.apply(Response::Fleet(Ok((
        fixtures::fleet(),
        Some(fixtures::summary()),
    ))));
    app
}

fn detail_app() -> App {
    let mut app = fleet_app(theme());
    // Select build-07 (critical, first by health) and open it.
    let reqs = handle_key(&mut app, key(KeyCode::Enter));
    assert_eq!(
        reqs.len(),
        3,
        "detail, metrics and events are requested: {reqs:?}"
    );
    let id = fixtures::detail().summary.id;
    let _ = app.apply(Response::Detail(id, Ok(fixtures::detail())));
    let w = app.detail.as_ref().unwrap().window;
    let _ = app.apply(Response::Metrics(id, w, Ok(fixtures::metrics())));
    let _ = app.apply(Response::Events(id, Ok(fixtures::events())));
    app
}

fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

fn draw(app: &mut App, w: u16, h: u16) -> String {
    app.table_rows = ui::fleet_table_rows(app, h);
    app.clamp_selection();
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    term.draw(|f| ui::render(f, app)).unwrap();
    term.backend().to_string()
}

fn type_text(app: &mut App, s: &str) {
    for c in s.chars() {
        handle_key(app, key(KeyCode::Char(c)));
    }
}

#[test]
fn fleet_view() {
    for (w, h) in SIZES {
        let mut app = fleet_app(theme());
        let out = draw(&mut app, w, h);
        // Worst first, with a text marker (not colour alone) and the reasons on wide screens.
        assert!(out.contains("CRIT"), "{out}");
        insta::assert_snapshot!(format!("fleet_{w}x{h}"), out);
    }
}

#[test]
fn fleet_view_ascii() {
    let mut app = fleet_app(Theme {
        color: false,
        ascii: true,
    });
    let out = draw(&mut app, 80, 24);
    assert!(!out.contains('▁') && !out.contains('█'), "{out}");
    insta::assert_snapshot!("fleet_ascii_80x24", out);
}

#[test]
fn active_filter() {
    for (w, h) in SIZES {
        let mut app = fleet_app(theme());
        handle_key(&mut app, key(KeyCode::Char('/')));
        type_text(&mut app, "health:critical");
        handle_key(&mut app, key(KeyCode::Enter));
        assert_eq!(app.order.len(), 2);
        let out = draw(&mut app, w, h);
        assert!(out.contains("2 of 6 shown"), "{out}");
        assert!(!out.contains("alice-lap"), "{out}");
        insta::assert_snapshot!(format!("filter_{w}x{h}"), out);
    }
}

#[test]
fn bad_filter_token_keeps_the_previous_filter() {
    let mut app = fleet_app(theme());
    handle_key(&mut app, key(KeyCode::Char('/')));
    type_text(&mut app, "health:critical");
    assert_eq!(app.order.len(), 2);
    app.set_filter_text("health:critical colour:red".into());
    let out = draw(&mut app, 80, 24);
    assert!(out.contains("unknown filter key"), "{out}");
    assert_eq!(app.order.len(), 2);
}

#[test]
fn detail_view() {
    for (w, h) in SIZES {
        let mut app = detail_app();
        let out = draw(&mut app, w, h);
        assert!(out.contains("build-07"), "{out}");
        assert!(out.contains("disk / 97% full"), "{out}");
        assert!(
            out.contains("full in 4 days") || out.contains("full in 5 days"),
            "{out}"
        );
        assert!(out.contains("SMART FAILED"), "{out}");
        insta::assert_snapshot!(format!("detail_{w}x{h}"), out);
    }
}

#[test]
fn help_screen() {
    for (w, h) in SIZES {
        let mut app = fleet_app(theme());
        handle_key(&mut app, key(KeyCode::Char('?')));
        let out = draw(&mut app, w, h);
        for needle in ["filter", "assign", "lifecycle", "quit", "window"] {
            assert!(out.contains(needle), "{needle} missing:\n{out}");
        }
        insta::assert_snapshot!(format!("help_{w}x{h}"), out);
        handle_key(&mut app, key(KeyCode::Esc));
        assert!(app.modal.is_none());
    }
}

#[test]
fn reconnecting_banner_keeps_the_last_data() {
    for (w, h) in SIZES {
        let mut app = fleet_app(theme());
        app.now = fixtures::now() + chrono::Duration::seconds(95);
        let _ = app.request(Request::Fleet);
        let _ = app.apply(Response::Fleet(Err(rt_tui::client::ClientError::Network {
            url: "http://127.0.0.1:8080/".into(),
            detail: "connection refused or unreachable".into(),
        })));
        assert!(matches!(app.conn, ConnState::Reconnecting { .. }));
        assert_eq!(app.devices.len(), 6, "data kept");
        let out = draw(&mut app, w, h);
        assert!(out.contains("RECONNECTING"), "{out}");
        assert!(out.contains("showing data from 1m ago"), "{out}");
        assert!(out.contains("build-07"), "{out}");
        insta::assert_snapshot!(format!("reconnecting_{w}x{h}"), out);
    }
}

#[test]
fn assign_dialog_and_refusal_shown_in_place() {
    let mut app = detail_app();
    handle_key(&mut app, key(KeyCode::Char('a')));
    type_text(&mut app, "alice");
    handle_key(&mut app, key(KeyCode::Enter));
    let out = draw(&mut app, 80, 24);
    assert!(out.contains("Assign build-07 to alice?"), "{out}");
    insta::assert_snapshot!("confirm_80x24", out);
    let reqs = handle_key(&mut app, key(KeyCode::Char('y')));
    let Some(Request::Patch(action)) = reqs.into_iter().next() else {
        panic!("a patch is sent after confirmation");
    };
    assert_eq!(action.patch.assignee.as_deref(), Some("alice"));
    let _ = app.apply(Response::Patched(
        action,
        Err(rt_tui::client::ClientError::Forbidden(
            "admin role required".into(),
        )),
    ));
    let out = draw(&mut app, 80, 24);
    assert!(out.contains("refused: assign build-07 to alice"), "{out}");
}

#[test]
fn lifecycle_picker_offers_only_allowed_transitions() {
    let mut app = detail_app();
    handle_key(&mut app, key(KeyCode::Char('l')));
    let out = draw(&mut app, 80, 24);
    for s in ["in_stock", "in_repair", "lost", "retired"] {
        assert!(out.contains(s), "{s} missing:\n{out}");
    }
    insta::assert_snapshot!("lifecycle_80x24", out);
}

#[test]
fn ten_thousand_devices_scroll_to_the_end() {
    let mut app = App::new("http://x", theme(), fixtures::now());
    let _ = app.request(Request::Fleet);
    let _ = app.apply(Response::Fleet(Ok((fixtures::big_fleet(10_000), None))));
    app.set_sort(rt_tui::filter::SortKey::Name);
    app.set_sort(rt_tui::filter::SortKey::Name); // toggles to descending
    app.set_sort(rt_tui::filter::SortKey::Name); // back to ascending
    app.table_rows = ui::fleet_table_rows(&app, 24);
    handle_key(&mut app, key(KeyCode::End));
    let out = draw(&mut app, 80, 24);
    assert!(out.contains("host-09999"), "{out}");
    assert!(out.contains("10000 of 10000 shown"), "{out}");
    handle_key(&mut app, key(KeyCode::PageUp));
    let out = draw(&mut app, 80, 24);
    assert!(!out.contains("host-09999"), "{out}");
}
