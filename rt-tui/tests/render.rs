//! Snapshot tests of every screen on deterministic data (fixed "now"), at 80x24 and 200x50.
#![allow(clippy::unwrap_used)]

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use rt_core::alert::api::AlertState;
use rt_tui::fixtures;
use rt_tui::tui::alerts::{AlertOp, AlertScope};
use rt_tui::tui::keys::handle_key;
use rt_tui::tui::state::{App, ConnState, Request, Response, Screen, Theme};
use rt_tui::tui::ui;

const SIZES: [(u16, u16); 2] = [(80, 24), (200, 50)];

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
        4,
        "detail, metrics, events and the device's alerts are requested: {reqs:?}"
    );
    let id = fixtures::detail().summary.id;
    assert!(reqs.contains(&Request::DeviceAlerts(id)), "{reqs:?}");
    let _ = app.apply(Response::Detail(id, Ok(fixtures::detail())));
    let w = app.detail.as_ref().unwrap().window;
    let _ = app.apply(Response::Metrics(id, w, Ok(fixtures::metrics())));
    let _ = app.apply(Response::Events(id, Ok(fixtures::events())));
    let firing: Vec<_> = fixtures::alerts()
        .into_iter()
        .filter(|a| a.device_id == id && a.state == AlertState::Firing)
        .collect();
    let _ = app.apply(Response::DeviceAlerts(id, Ok(firing)));
    app
}

/// The fleet with the open alerts loaded, on the alerts screen.
fn alerts_app() -> App {
    let mut app = fleet_app(theme());
    let reqs = handle_key(&mut app, key(KeyCode::Char('A')));
    assert_eq!(reqs, vec![Request::Alerts(AlertScope::Open)]);
    let _ = app.apply(Response::Alerts(AlertScope::Open, Ok(open_alerts())));
    app
}

fn open_alerts() -> Vec<rt_core::alert::api::AlertInfo> {
    fixtures::alerts()
        .into_iter()
        .filter(|a| a.state != AlertState::Resolved)
        .collect()
}

fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

fn ctrl(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)
}

fn triage_app() -> App {
    let mut app = App::new("http://127.0.0.1:8080", theme(), fixtures::now());
    let _ = app.request(Request::Fleet);
    let _ = app.apply(Response::Fleet(Ok((fixtures::triage_fleet(), None))));
    app
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
        assert!(
            out.contains("2 crit"),
            "header counts match the filter: {out}"
        );
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
        // Inventory and a chart with a time axis ending at the latest sample.
        for needle in ["SN-BLD-0007", "ProArt B650", "ASUS", "now", "100%", "11:55"] {
            assert!(out.contains(needle), "{needle} missing:\n{out}");
        }
        if w >= 120 {
            for needle in [
                "52:54:00:ab:cd:07",
                "rustc",
                "412 running",
                "Disk used %",
                "Network",
                "Events",
                "18211h on",
            ] {
                assert!(out.contains(needle), "{needle} missing:\n{out}");
            }
        }
        insta::assert_snapshot!(format!("detail_{w}x{h}"), out);
    }
}

#[test]
fn detail_events_page_and_windows_reach_a_year() {
    let mut app = detail_app();
    let out = draw(&mut app, 80, 24);
    assert!(out.contains("Events 1-"), "{out}");
    handle_key(&mut app, key(KeyCode::PageDown));
    assert_eq!(app.detail.as_ref().unwrap().events_offset, 10);
    let out = draw(&mut app, 80, 24);
    assert!(out.contains("Events 11-"), "{out}");
    assert!(out.contains("10 samples missing"), "{out}");
    handle_key(&mut app, key(KeyCode::PageUp));
    assert_eq!(app.detail.as_ref().unwrap().events_offset, 0);
    let reqs = handle_key(&mut app, key(KeyCode::Char('6')));
    let id = app.detail.as_ref().unwrap().id;
    assert_eq!(
        reqs,
        vec![Request::Metrics(id, rt_tui::tui::state::Window::Y1)]
    );
    let out = draw(&mut app, 80, 24);
    assert!(out.contains("[1y]"), "{out}");
}

#[test]
fn help_screen() {
    for (w, h) in SIZES {
        let mut app = fleet_app(theme());
        handle_key(&mut app, key(KeyCode::Char('?')));
        let out = draw(&mut app, w, h);
        for needle in [
            "filter",
            "assign",
            "lifecycle",
            "quit",
            "mark",
            "command bar",
        ] {
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

#[test]
fn first_screen_at_80x24_shows_every_warning_and_critical_device() {
    let mut app = triage_app();
    let out = draw(&mut app, 80, 24);
    for d in fixtures::triage_fleet() {
        if matches!(
            d.health.level,
            rt_core::api::HealthLevel::Critical | rt_core::api::HealthLevel::Warning
        ) {
            assert!(out.contains(&d.name), "{} missing:\n{out}", d.name);
        }
    }
    // Long silence reads apart from laptops asleep since last night.
    let line = |name: &str| -> String {
        let l = out.lines().find(|l| l.contains(name)).unwrap();
        l.trim_start_matches('"').to_string()
    };
    assert!(line("kiosk-lobby").starts_with("OFF"), "{out}");
    assert!(line("laptop-01").starts_with("zzz"), "{out}");
    assert!(out.contains("rows 1-"), "scroll position shown: {out}");
    insta::assert_snapshot!("triage_80x24", out);
}

#[test]
fn header_counts_equal_what_the_health_filters_list() {
    let mut app = triage_app();
    let c = app.counts();
    for (q, n) in [
        ("crit", c.critical),
        ("warn", c.warning),
        ("off", c.offline),
        ("health:ok", c.ok),
    ] {
        app.set_filter_text(q.into());
        assert_eq!(app.order.len() as u64, n, "{q}");
    }
    assert_eq!((c.critical, c.warning, c.offline, c.asleep), (1, 3, 13, 12));
    let out = draw(&mut app, 80, 24);
    assert!(
        out.contains("30 dev  1 crit 3 warn 13 off (12 asleep) 13 ok"),
        "{out}"
    );
}

#[test]
fn wide_screens_show_names_and_users_in_full() {
    let mut app = triage_app();
    let out = draw(&mut app, 200, 50);
    for who in [
        "dmitri.ivanov",
        "dmitri.petrov",
        "dmitri.sokolov",
        "dmitri.user12",
    ] {
        assert!(out.contains(who), "{who} cut:\n{out}");
    }
    insta::assert_snapshot!("triage_200x50", out);
    // Narrow: cut with an ellipsis, never silently.
    let out = draw(&mut app, 80, 24);
    assert!(out.contains("dmitri.…") || out.contains("dmitri…"), "{out}");
    let mut narrow = triage_app();
    narrow.theme.ascii = true;
    let out = draw(&mut narrow, 80, 24);
    assert!(out.contains('~'), "ASCII ellipsis:\n{out}");
}

#[test]
fn resort_keeps_the_selected_device_visible() {
    let mut app = triage_app();
    app.table_rows = ui::fleet_table_rows(&app, 24);
    // Select the kiosk (fifth in triage order), then sort by name: it moves to row 18 of 30
    // and the view follows it, centred, with the scroll position shown.
    handle_key(&mut app, key(KeyCode::Home));
    for _ in 0..4 {
        handle_key(&mut app, key(KeyCode::Down));
    }
    assert_eq!(app.selected_device().unwrap().name, "kiosk-lobby");
    handle_key(&mut app, key(KeyCode::Char('2')));
    let out = draw(&mut app, 80, 24);
    assert_eq!(app.selected_device().unwrap().name, "kiosk-lobby");
    assert_eq!(app.selected, 17);
    assert!(out.contains("kiosk-lobby"), "{out}");
    assert!(
        app.offset > 0 && app.offset <= app.selected,
        "{}",
        app.offset
    );
    assert!(out.contains(&format!("rows {}-", app.offset + 1)), "{out}");
}

#[test]
fn filter_line_edits_like_a_shell() {
    let mut app = fleet_app(theme());
    handle_key(&mut app, key(KeyCode::Char('/')));
    type_text(&mut app, "crit build");
    assert_eq!(app.order.len(), 1);
    handle_key(&mut app, ctrl('w'));
    assert_eq!(app.filter_text, "crit ");
    assert_eq!(app.order.len(), 2);
    handle_key(&mut app, ctrl('u'));
    assert_eq!(app.filter_text, "");
    assert_eq!(app.order.len(), 6);
    type_text(&mut app, "warn");
    let out = draw(&mut app, 80, 24);
    assert!(
        out.contains("reception-pc") && out.contains("1 of 6 shown"),
        "{out}"
    );
}

#[test]
fn command_bar_completes_and_jumps() {
    for (w, h) in SIZES {
        let mut app = fleet_app(theme());
        handle_key(&mut app, key(KeyCode::Char(':')));
        type_text(&mut app, "open l");
        handle_key(&mut app, key(KeyCode::Tab));
        assert_eq!(app.command.as_ref().unwrap().text, "open lab-mac-02");
        let out = draw(&mut app, w, h);
        assert!(out.contains(":open lab-mac-02"), "{out}");
        insta::assert_snapshot!(format!("command_{w}x{h}"), out);
        let reqs = handle_key(&mut app, key(KeyCode::Enter));
        assert_eq!(reqs.len(), 4, "detail, metrics, events, alerts: {reqs:?}");
        assert!(app.command.is_none());
        assert_eq!(app.detail.as_ref().unwrap().id, rt_core::DeviceId(3));
    }
}

#[test]
fn bulk_assign_confirms_once_listing_every_change() {
    for (w, h) in SIZES {
        let mut app = fleet_app(theme());
        // Mark the two critical devices (first in triage order).
        handle_key(&mut app, key(KeyCode::Home));
        handle_key(&mut app, key(KeyCode::Char(' ')));
        handle_key(&mut app, key(KeyCode::Char(' ')));
        assert_eq!(app.marked.len(), 2);
        let out = draw(&mut app, w, h);
        assert!(out.contains("2 marked"), "{out}");
        insta::assert_snapshot!(format!("marked_{w}x{h}"), out);
        handle_key(&mut app, key(KeyCode::Char('a')));
        type_text(&mut app, "alice");
        handle_key(&mut app, key(KeyCode::Enter));
        let out = draw(&mut app, w, h);
        assert!(out.contains("Assign 2 devices to alice?"), "{out}");
        assert!(out.contains("assign build-07 to alice"), "{out}");
        assert!(
            out.contains("assign lab-mac-02 to alice (was bob)"),
            "{out}"
        );
        insta::assert_snapshot!(format!("bulk_confirm_{w}x{h}"), out);
        let reqs = handle_key(&mut app, key(KeyCode::Char('y')));
        assert_eq!(reqs.len(), 2, "one PATCH per device: {reqs:?}");
        // One refused, one done: the status says which.
        let mut it = reqs.into_iter();
        let (Some(Request::Patch(a1)), Some(Request::Patch(a2))) = (it.next(), it.next()) else {
            panic!("two patches");
        };
        let mut d = fixtures::detail();
        d.summary.assignee = Some("alice".into());
        let _ = app.apply(Response::Patched(a1, Ok(d)));
        let _ = app.apply(Response::Patched(
            a2,
            Err(rt_tui::client::ClientError::Forbidden(
                "admin role required".into(),
            )),
        ));
        let s = app.status.clone().unwrap();
        assert!(
            s.error && s.text.contains("2/2 answered, 1 refused"),
            "{s:?}"
        );
        assert_eq!(app.marked.len(), 2, "marks kept after a refusal");
    }
}

#[test]
fn bulk_lifecycle_and_export_confirm() {
    let mut app = fleet_app(theme());
    handle_key(&mut app, key(KeyCode::Char('*')));
    assert_eq!(app.marked.len(), 6);
    handle_key(&mut app, key(KeyCode::Char('L')));
    let out = draw(&mut app, 80, 24);
    assert!(out.contains("6 marked devices; move to:"), "{out}");
    handle_key(&mut app, key(KeyCode::Esc));
    handle_key(&mut app, key(KeyCode::Char('x')));
    let out = draw(&mut app, 80, 24);
    assert!(
        out.contains("Export 6 devices to rt-devices-20261127-120000.csv?"),
        "{out}"
    );
    insta::assert_snapshot!("bulk_export_80x24", out);
    handle_key(&mut app, key(KeyCode::Esc));
    handle_key(&mut app, key(KeyCode::Esc));
    assert!(app.marked.is_empty(), "Esc unmarks");
}

#[test]
fn help_fits_small_screens_and_scrolls() {
    let mut app = fleet_app(theme());
    handle_key(&mut app, key(KeyCode::Char('?')));
    let out = draw(&mut app, 80, 24);
    assert!(out.contains("↑/↓ scroll"), "{out}");
    handle_key(&mut app, key(KeyCode::Down));
    handle_key(&mut app, key(KeyCode::Down));
    assert!(matches!(
        app.modal,
        Some(rt_tui::tui::state::Modal::Help { scroll: 2 })
    ));
    // The detail screen's help lists the detail keys only.
    let mut app = detail_app();
    handle_key(&mut app, key(KeyCode::Char('?')));
    let out = draw(&mut app, 200, 50);
    assert!(out.contains("history window"), "{out}");
    assert!(!out.contains("mark / unmark"), "{out}");
}

#[test]
fn first_page_draws_before_the_rest_arrives() {
    use rt_tui::tui::state::FleetPage;
    let mut app = App::new("http://x", theme(), fixtures::now());
    let _ = app.request(Request::Fleet);
    let fleet = fixtures::triage_fleet();
    let attention: Vec<_> = fleet
        .iter()
        .filter(|d| d.health.level != rt_core::api::HealthLevel::Ok)
        .cloned()
        .collect();
    let _ = app.apply(Response::FleetPage(Ok(FleetPage {
        items: attention,
        total: 30,
        last: false,
        summary: None,
    })));
    assert!(app.loading_more());
    let out = draw(&mut app, 80, 24);
    assert!(
        out.contains("db-backup-01") && out.contains("loading 17 of 30"),
        "{out}"
    );
    let _ = app.apply(Response::FleetPage(Ok(FleetPage {
        items: fleet,
        total: 30,
        last: true,
        summary: None,
    })));
    assert!(!app.loading_more());
    assert!(app.pending.is_empty());
    let out = draw(&mut app, 80, 24);
    assert!(out.contains("30 of 30 shown"), "{out}");
}

#[test]
fn alerts_screen_lists_unhandled_firing_alerts_first() {
    for (w, h) in SIZES {
        let mut app = alerts_app();
        let out = draw(&mut app, w, h);
        let rows: Vec<&str> = out.lines().filter(|l| l.contains("ago")).collect();
        // Critical firing, warning firing (flapping), acked, silenced, pending.
        let order = [
            "disk_usage",
            "battery_worn",
            "smart_failed",
            "temperature",
            "disk_full",
        ];
        assert_eq!(rows.len(), order.len(), "{out}");
        for (row, rule) in rows.iter().zip(order) {
            assert!(row.contains(rule), "{rule} expected in {row:?}:\n{out}");
        }
        assert!(rows[0].trim_start_matches('"').starts_with("CRIT"), "{out}");
        assert!(
            out.contains("ALERTS 4"),
            "the header counts the firing alerts: {out}"
        );
        assert!(out.contains("acked") && out.contains("silenced"), "{out}");
        insta::assert_snapshot!(format!("alerts_{w}x{h}"), out);
    }
}

#[test]
fn alerts_screen_ascii_has_markers_without_colour() {
    let mut app = fleet_app(Theme {
        color: false,
        ascii: true,
    });
    handle_key(&mut app, key(KeyCode::Char('A')));
    let _ = app.apply(Response::Alerts(AlertScope::Open, Ok(open_alerts())));
    let out = draw(&mut app, 80, 24);
    assert!(out.is_ascii() || !out.contains('…'), "{out}");
    assert!(out.contains("CRIT") && out.contains("WARN"), "{out}");
}

#[test]
fn header_counts_firing_alerts_on_every_screen_within_80_columns() {
    let mut app = alerts_app();
    for screen in [Screen::Fleet, Screen::Alerts] {
        app.screen = screen;
        let out = draw(&mut app, 80, 24);
        let header = out.lines().next().unwrap();
        assert!(header.contains("ALERTS 4"), "{header}");
        assert!(header.contains("12:00:00"), "the time is not cut: {header}");
        assert_eq!(header.chars().count(), 82, "{header}");
    }
    let mut app = detail_app();
    let _ = app.apply(Response::Alerts(AlertScope::Open, Ok(open_alerts())));
    let out = draw(&mut app, 80, 24);
    assert!(out.lines().next().unwrap().contains("ALERTS 4"), "{out}");
    // No firing alert: the count says so in lower case.
    let _ = app.apply(Response::Alerts(AlertScope::Open, Ok(vec![])));
    let out = draw(&mut app, 80, 24);
    assert!(out.lines().next().unwrap().contains("0 alerts"), "{out}");
}

#[test]
fn detail_lists_the_devices_firing_alerts() {
    let mut app = detail_app();
    let out = draw(&mut app, 80, 24);
    assert!(out.contains("Alert CRIT disk_usage:/ 2h ago"), "{out}");
    assert!(
        out.contains("Alert WARN temperature_high:cpu 1d ago silenced"),
        "{out}"
    );
}

#[test]
fn ack_confirms_naming_the_alert_then_reloads() {
    let mut app = alerts_app();
    handle_key(&mut app, key(KeyCode::Char('a')));
    let out = draw(&mut app, 80, 24);
    assert!(
        out.contains("Acknowledge disk_usage:/ on build-07 (alert 11)?"),
        "{out}"
    );
    insta::assert_snapshot!("alerts_ack_confirm_80x24", out);
    let reqs = handle_key(&mut app, key(KeyCode::Char('y')));
    let [Request::Alert(action)] = reqs.as_slice() else {
        panic!("one ack is sent after confirmation: {reqs:?}");
    };
    assert_eq!((action.id, action.op), (11, AlertOp::Ack));
    // The server's answer replaces the row, and the list is asked for again.
    let mut acked = open_alerts().remove(0);
    acked.acknowledged_by = Some("admin".into());
    let reqs = app.apply(Response::AlertActed(action.clone(), Ok(acked)));
    assert_eq!(reqs, vec![Request::Alerts(AlertScope::Open)]);
    let out = draw(&mut app, 80, 24);
    assert!(
        out.contains("done: acknowledge disk_usage:/ on build-07"),
        "{out}"
    );
    // Acknowledged, it moves below the firing alert nobody handles.
    let first = out.lines().find(|l| l.contains("ago")).unwrap();
    assert!(first.contains("battery_worn"), "{out}");
}

#[test]
fn viewer_refusal_says_an_admin_is_needed() {
    let mut app = alerts_app();
    handle_key(&mut app, key(KeyCode::Char('a')));
    let reqs = handle_key(&mut app, key(KeyCode::Enter));
    let Some(Request::Alert(action)) = reqs.into_iter().next() else {
        panic!("an ack is sent");
    };
    let _ = app.apply(Response::AlertActed(
        action,
        Err(rt_tui::client::ClientError::Forbidden(
            "admin role required".into(),
        )),
    ));
    let out = draw(&mut app, 200, 50);
    assert!(
        out.contains("refused: acknowledge disk_usage:/ on build-07 (alert 11)"),
        "{out}"
    );
    assert!(out.contains("this needs an admin account"), "{out}");
}

#[test]
fn silence_asks_a_duration_in_the_one_grammar_then_confirms() {
    let mut app = alerts_app();
    handle_key(&mut app, key(KeyCode::Char('s')));
    type_text(&mut app, "4");
    handle_key(&mut app, key(KeyCode::Enter));
    let out = draw(&mut app, 80, 24);
    // A bare number is refused; the dialog stays open for a fix.
    assert!(out.contains("the unit is missing"), "{out}");
    assert!(out.contains("Silence for"), "{out}");
    type_text(&mut app, "h");
    handle_key(&mut app, key(KeyCode::Enter));
    let out = draw(&mut app, 80, 24);
    assert!(
        out.contains("Silence disk_usage:/ on build-07 (alert 11) for 4h?"),
        "{out}"
    );
    let reqs = handle_key(&mut app, key(KeyCode::Char('y')));
    let [Request::Alert(action)] = reqs.as_slice() else {
        panic!("{reqs:?}");
    };
    assert_eq!(action.op, AlertOp::Silence { secs: 4 * 3600 });
}

#[test]
fn alerts_keys_move_cycle_the_scope_and_open_the_device() {
    let mut app = alerts_app();
    handle_key(&mut app, key(KeyCode::Char('j')));
    assert_eq!(app.alerts.selected_alert().unwrap().id, 15);
    handle_key(&mut app, key(KeyCode::End));
    assert_eq!(app.alerts.selected_alert().unwrap().id, 14);
    let reqs = handle_key(&mut app, key(KeyCode::Char('f')));
    assert_eq!(reqs, vec![Request::Alerts(AlertScope::Firing)]);
    // The answer of the new scope is shown; one of an old scope is asked again.
    let reqs = app.apply(Response::Alerts(AlertScope::Open, Ok(open_alerts())));
    assert_eq!(reqs, vec![Request::Alerts(AlertScope::Firing)]);
    let firing: Vec<_> = open_alerts()
        .into_iter()
        .filter(|a| a.state == AlertState::Firing)
        .collect();
    let _ = app.apply(Response::Alerts(AlertScope::Firing, Ok(firing)));
    assert_eq!(app.alerts.len(), 4);
    handle_key(&mut app, key(KeyCode::Char('f')));
    let _ = app.apply(Response::Alerts(AlertScope::All, Ok(fixtures::alerts())));
    handle_key(&mut app, key(KeyCode::End));
    assert_eq!(
        app.alerts.selected_alert().unwrap().state,
        AlertState::Resolved
    );
    handle_key(&mut app, key(KeyCode::Char('a')));
    assert!(app.modal.is_none(), "a resolved alert is not acknowledged");
    assert!(app.status.as_ref().unwrap().text.contains("is resolved"));
    // Enter opens the device; Esc comes back to the alerts.
    handle_key(&mut app, key(KeyCode::Home));
    let reqs = handle_key(&mut app, key(KeyCode::Enter));
    assert_eq!(app.screen, Screen::Detail);
    assert_eq!(app.detail.as_ref().unwrap().id, rt_core::DeviceId(2));
    assert!(reqs.contains(&Request::DeviceAlerts(rt_core::DeviceId(2))));
    handle_key(&mut app, key(KeyCode::Esc));
    assert_eq!(app.screen, Screen::Alerts);
    handle_key(&mut app, key(KeyCode::Esc));
    assert_eq!(app.screen, Screen::Fleet);
}

#[test]
fn alerts_help_lists_its_keys() {
    let mut app = alerts_app();
    handle_key(&mut app, key(KeyCode::Char('?')));
    let out = draw(&mut app, 200, 50);
    for needle in [
        "acknowledge the alert",
        "silence the alert",
        "open / firing / all",
        "Keys: alerts",
    ] {
        assert!(out.contains(needle), "{needle} missing:\n{out}");
    }
    assert!(!out.contains("assign (the marked"), "{out}");
}

#[test]
fn header_says_when_the_servers_size_cap_cuts_history() {
    let mut app = App::new("http://127.0.0.1:8080", theme(), fixtures::now());
    let _ = app.request(Request::Fleet);
    let mut summary = fixtures::summary();
    summary.retention_cut = vec![rt_core::api::RetentionCut {
        tier: "raw".into(),
        configured_days: Some(14),
        kept_days: 9,
        since: fixtures::now(),
    }];
    let _ = app.apply(Response::Fleet(Ok((fixtures::fleet(), Some(summary)))));
    let out = draw(&mut app, 200, 50);
    let header = out.lines().next().unwrap();
    assert!(header.contains("cap: raw 9d"), "{header}");
    // Without a cut (the fixtures' summary) the header has no such notice.
    let mut app = fleet_app(theme());
    let out = draw(&mut app, 200, 50);
    assert!(!out.lines().next().unwrap().contains("cap:"), "{out}");
}
