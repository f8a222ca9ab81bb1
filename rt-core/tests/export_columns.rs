//! Export columns and the CSV sanitiser: every row matches its header, JSON rows use the header
//! names, text that a spreadsheet would evaluate is defused, and numbers are never altered.

#![allow(clippy::unwrap_used)]

use chrono::{DateTime, Utc};
use proptest::prelude::*;
use rt_core::api::{DeviceEvent, DeviceSummary, EventKind, ExportKind};
use rt_core::export::*;
use rt_core::sample::Sample;
use rt_core::{DeviceId, EventId};
use serde_json::{Value, json};

fn now() -> DateTime<Utc> {
    "2026-11-27T09:15:00Z".parse().unwrap()
}

#[test]
fn sanitiser_table() {
    let cases = [
        ("=SUM(A1:A9)", "'=SUM(A1:A9)"),
        ("+1", "'+1"),
        ("-5", "'-5"),
        ("@cmd", "'@cmd"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
        ("alice", "alice"),
        ("", ""),
        ("a=b", "a=b"),
        (" =x", " =x"),
        ("'already", "'already"),
        ("5", "5"),
        ("Alice's ThinkPad", "Alice's ThinkPad"),
    ];
    for (input, want) in cases {
        assert_eq!(sanitize_csv_text(input), want, "{input:?}");
    }
    // Untouched text is borrowed, not copied.
    assert!(matches!(
        sanitize_csv_text("alice"),
        std::borrow::Cow::Borrowed(_)
    ));
}

#[test]
fn numbers_are_never_prefixed() {
    let cells = [
        (Cell::Float(-5.0), "-5"),
        (Cell::Float(-0.5), "-0.5"),
        (Cell::Float(12.5), "12.5"),
        (Cell::Int(-5), "-5"),
        (Cell::Int(i64::MIN), "-9223372036854775808"),
        (Cell::Float(f64::NAN), ""),
        (Cell::Float(f64::INFINITY), ""),
        (Cell::Null, ""),
        (Cell::Bool(true), "true"),
        (Cell::Text("-5".into()), "'-5"),
        (Cell::Time(now()), "2026-11-27T09:15:00Z"),
    ];
    for (cell, want) in cells {
        assert_eq!(cell.to_csv_field(), want, "{cell:?}");
    }
    assert_eq!(Cell::Float(-5.0).to_json(), json!(-5.0));
    assert_eq!(
        Cell::Text("=x".into()).to_json(),
        json!("=x"),
        "JSON is not sanitised"
    );
    assert_eq!(Cell::Float(f64::NAN).to_json(), Value::Null);
    assert_eq!(Cell::Time(now()).to_json(), json!("2026-11-27T09:15:00Z"));
    assert_eq!(Cell::from_u64(u64::MAX), Cell::Float(u64::MAX as f64));
}

#[test]
fn columns_are_unique_snake_case_and_match_rows() {
    for kind in [ExportKind::Devices, ExportKind::Samples, ExportKind::Events] {
        let cols = columns(kind);
        let mut sorted = cols.to_vec();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), cols.len(), "{kind:?} has duplicate columns");
        for c in cols {
            assert!(
                c.chars()
                    .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_'),
                "{c}"
            );
        }
    }
    let summary: DeviceSummary =
        serde_json::from_str(include_str!("fixtures/device_summary.json")).unwrap();
    assert_eq!(device_cells(&summary).len(), DEVICE_COLUMNS.len());
    let sample: Sample = serde_json::from_str(include_str!("fixtures/sample_full.json")).unwrap();
    assert_eq!(
        sample_cells(DeviceId(17), "x", &sample).len(),
        SAMPLE_COLUMNS.len()
    );
    let event: DeviceEvent =
        serde_json::from_str(include_str!("fixtures/device_event.json")).unwrap();
    assert_eq!(event_cells(&event).len(), EVENT_COLUMNS.len());
}

#[test]
fn sample_row_values() {
    let sample: Sample = serde_json::from_str(include_str!("fixtures/sample_full.json")).unwrap();
    let row = json_object(
        SAMPLE_COLUMNS,
        &sample_cells(DeviceId(17), "=evil", &sample),
    );
    assert_eq!(row["device_id"], json!(17));
    assert_eq!(row["device_name"], json!("=evil"));
    assert_eq!(row["seq"], json!(4812));
    assert_eq!(row["collected_at"], json!("2026-11-27T09:15:00Z"));
    assert_eq!(row["cpu_pct"], json!(23.5));
    assert_eq!(row["load_1m"], json!(1.12));
    assert_eq!(row["mem_total_bytes"], json!(17179869184u64));
    assert_eq!(row["swap_used_bytes"], json!(268435456));
    assert_eq!(row["temp_max_c"], json!(62.0));
    assert_eq!(row["battery_charge_pct"], json!(81.0));
    assert_eq!(row["battery_health_pct"], json!(87.5));
    assert_eq!(row["net_rx_bytes"], json!(8123456789u64));
    assert_eq!(row["process_count"], json!(287));
    assert_eq!(row["has_link"], json!(true));
    assert_eq!(row["server_reachable"], json!(true));
    assert_eq!(row.len(), SAMPLE_COLUMNS.len());
    let cells = sample_cells(DeviceId(17), "=evil", &sample);
    let csv = csv_fields(&cells);
    assert_eq!(csv[1], "'=evil");

    // A desktop without battery, network or processes: empty cells, not zeros.
    let desk: Sample =
        serde_json::from_str(include_str!("fixtures/sample_desktop_minimal.json")).unwrap();
    let row = json_object(SAMPLE_COLUMNS, &sample_cells(DeviceId(2), "pc", &desk));
    for c in [
        "load_1m",
        "battery_charge_pct",
        "battery_health_pct",
        "net_rx_bytes",
        "process_count",
        "has_link",
        "server_reachable",
        "temp_max_c",
    ] {
        assert_eq!(row[c], Value::Null, "{c}");
    }
}

#[test]
fn device_and_event_rows() {
    let summary: DeviceSummary =
        serde_json::from_str(include_str!("fixtures/device_summary.json")).unwrap();
    let row = json_object(DEVICE_COLUMNS, &device_cells(&summary));
    assert_eq!(row["device_id"], json!(17));
    assert_eq!(row["lifecycle_state"], json!("deployed"));
    assert_eq!(row["health"], json!("warning"));
    assert_eq!(row["health_reasons"], json!("disk / 91% full"));
    assert_eq!(row["last_seen"], json!("2026-11-27T09:15:04Z"));
    assert_eq!(row["disk_max_pct"], json!(91.5));

    let event = DeviceEvent {
        id: EventId(3),
        device_id: DeviceId(17),
        at: now(),
        kind: EventKind::Assigned,
        actor: "@admin".into(),
        message: "assigned to bob".into(),
        data: Some(json!({"to": "bob"})),
    };
    let cells = event_cells(&event);
    let csv = csv_fields(&cells);
    assert_eq!(
        csv,
        vec![
            "3",
            "17",
            "2026-11-27T09:15:00Z",
            "assigned",
            "'@admin",
            "assigned to bob",
            r#"{"to":"bob"}"#
        ]
    );
    let row = json_object(EVENT_COLUMNS, &cells);
    assert_eq!(row["kind"], json!("assigned"));
}

#[test]
fn json_object_pads_short_rows_with_null() {
    let row = json_object(&["a", "b"], &[Cell::Int(1)]);
    assert_eq!(Value::Object(row), json!({"a": 1, "b": null}));
}

#[test]
fn stored_hostile_text_is_escaped_in_csv_and_json_and_keeps_the_formula_guard() {
    for (stored, csv, json_text) in [
        ("\u{1b}[2Jpc", "\\u{1b}[2Jpc", "\\u{1b}[2Jpc"),
        ("a\u{202E}gpj.exe", "a\\u{202e}gpj.exe", "a\\u{202e}gpj.exe"),
        ("nul\0", "nul\\u{0}", "nul\\u{0}"),
        ("\u{9b}31m", "\\u{9b}31m", "\\u{9b}31m"),
        // Escaping first, then the formula guard still applies.
        (
            "=HYPERLINK(\u{1b})",
            "'=HYPERLINK(\\u{1b})",
            "=HYPERLINK(\\u{1b})",
        ),
    ] {
        let cell = Cell::Text(stored.into());
        assert_eq!(cell.to_csv_field(), csv, "{stored:?}");
        assert_eq!(cell.to_json(), json!(json_text), "{stored:?}");
    }
}

proptest! {
    #[test]
    fn exported_text_never_carries_an_unsafe_character(s in any::<String>()) {
        let cell = Cell::Text(s);
        prop_assert_eq!(rt_core::text::first_unsafe(&cell.to_csv_field(), false), None);
        let Value::String(j) = cell.to_json() else { panic!("text cell must be a JSON string") };
        prop_assert_eq!(rt_core::text::first_unsafe(&j, false), None);
    }

    #[test]
    fn sanitised_text_never_starts_a_formula(s in any::<String>()) {
        let out = sanitize_csv_text(&s);
        prop_assert!(!out.starts_with(['=', '+', '-', '@', '\t', '\r']));
        let prefixed = format!("'{}", s);
        prop_assert!(out == s || out == prefixed);
    }

    #[test]
    fn numbers_round_trip_through_csv(f in any::<f64>(), i in any::<i64>()) {
        let text = Cell::Float(f).to_csv_field().into_owned();
        if f.is_finite() {
            prop_assert_eq!(text.parse::<f64>().unwrap(), f);
        } else {
            prop_assert_eq!(text, "");
        }
        prop_assert_eq!(Cell::Int(i).to_csv_field().parse::<i64>().unwrap(), i);
    }
}
