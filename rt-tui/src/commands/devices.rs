//! `rt-tui devices [--filter ...] [--json|--csv]`.

use crate::cli::DevicesArgs;
use crate::client::DeviceQuery;
use crate::filter::{Filter, SortKey, filter_and_sort};
use crate::format::{pct, relative_time, safe, temp};
use crate::{Ctx, UsageError};
use comfy_table::{Table, presets};
use rt_core::api::DeviceSummary;
use rt_core::export::{DEVICE_COLUMNS, csv_fields, device_cells};

pub fn parse_sort(s: &str) -> Result<SortKey, UsageError> {
    let n = s.trim().to_ascii_lowercase();
    SortKey::ALL
        .into_iter()
        .find(|k| k.label() == n || (n == "seen" && *k == SortKey::LastSeen) || (n == "assignee" && *k == SortKey::User))
        .ok_or_else(|| {
            UsageError(format!(
                "unknown sort column {s:?}: use health, name, user, state, cpu, ram, disk, temp, battery or seen"
            ))
        })
}

pub async fn run(ctx: &Ctx, a: &DevicesArgs) -> anyhow::Result<()> {
    let filter = Filter::parse(a.filter.as_deref().unwrap_or("")).map_err(UsageError)?;
    let key = parse_sort(&a.sort)?;
    let client = ctx.client()?;
    let devices = client.all_devices(&DeviceQuery::default()).await?;
    let order = filter_and_sort(&devices, &filter, key, key.default_descending());
    let rows: Vec<&DeviceSummary> = order.iter().map(|&i| &devices[i]).collect();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if a.json {
        serde_json::to_writer_pretty(&mut out, &rows)?;
        use std::io::Write;
        writeln!(out)?;
    } else if a.csv {
        write_csv(&mut out, &rows)?;
    } else {
        use std::io::Write;
        writeln!(out, "{}", table(&rows, chrono::Utc::now(), ctx.ascii))?;
        eprintln!("{} of {} devices", rows.len(), devices.len());
    }
    Ok(())
}

/// CSV with the product's canonical device columns.
pub fn write_csv<W: std::io::Write>(w: W, rows: &[&DeviceSummary]) -> anyhow::Result<()> {
    let mut wtr = csv::Writer::from_writer(w);
    wtr.write_record(DEVICE_COLUMNS)?;
    for d in rows {
        let cells = device_cells(d);
        wtr.write_record(csv_fields(&cells).iter().map(|c| c.as_ref()))?;
    }
    wtr.flush()?;
    Ok(())
}

pub fn table(rows: &[&DeviceSummary], now: chrono::DateTime<chrono::Utc>, ascii: bool) -> Table {
    let mut t = Table::new();
    t.load_preset(if ascii {
        presets::ASCII_FULL_CONDENSED
    } else {
        presets::UTF8_FULL_CONDENSED
    });
    t.set_header([
        "ID", "HEALTH", "NAME", "USER", "STATE", "CPU", "RAM", "DISK", "TEMP", "BATT", "SEEN",
        "REASONS",
    ]);
    for d in rows {
        let m = d.metrics.as_ref();
        t.add_row([
            d.id.to_string(),
            d.health.level.as_str().to_uppercase(),
            safe(&d.name).into_owned(),
            safe(d.assignee.as_deref().unwrap_or("-")).into_owned(),
            d.lifecycle_state.to_string(),
            pct(m.map(|m| m.cpu_pct)),
            pct(m.map(|m| m.mem_pct)),
            pct(m.and_then(|m| m.disk_max_pct)),
            temp(m.and_then(|m| m.temp_max_c)),
            pct(m.and_then(|m| m.battery_health_pct)),
            relative_time(d.last_seen, now),
            safe(&d.health.reasons.join("; ")).into_owned(),
        ]);
    }
    t
}
