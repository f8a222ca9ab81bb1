//! `rt-tui device ID [--json]`.

use crate::format::{bytes, pct, relative_time, temp};
use crate::{Ctx, resolve_device};
use rt_core::api::DeviceDetail;
use std::fmt::Write as _;

pub async fn run(ctx: &Ctx, id: &str, json: bool) -> anyhow::Result<()> {
    let client = ctx.client()?;
    let id = resolve_device(&client, id).await?;
    let d = client.device(id).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&d)?);
    } else {
        print!("{}", render(&d, chrono::Utc::now()));
    }
    Ok(())
}

/// Plain-text description of a device.
pub fn render(d: &DeviceDetail, now: chrono::DateTime<chrono::Utc>) -> String {
    let s = &d.summary;
    let inv = &d.inventory;
    let m = s.metrics.as_ref();
    let mut o = String::new();
    let _ = writeln!(o, "{} (id {})", s.name, s.id);
    let _ = writeln!(
        o,
        "  health:     {}",
        s.health.level.as_str().to_uppercase()
    );
    for r in &s.health.reasons {
        let _ = writeln!(o, "              - {r}");
    }
    let _ = writeln!(o, "  state:      {}", s.lifecycle_state);
    let _ = writeln!(o, "  assignee:   {}", s.assignee.as_deref().unwrap_or("-"));
    let _ = writeln!(o, "  asset tag:  {}", s.asset_tag.as_deref().unwrap_or("-"));
    let _ = writeln!(o, "  last seen:  {}", relative_time(s.last_seen, now));
    let _ = writeln!(o, "  contact:    {}", relative_time(s.last_contact, now));
    let _ = writeln!(o, "  hostname:   {}", inv.hostname);
    let _ = writeln!(
        o,
        "  os:         {} {} ({}, kernel {})",
        inv.os_name, inv.os_version, inv.arch, inv.kernel_version
    );
    let _ = writeln!(
        o,
        "  cpu:        {} ({} cores)",
        inv.cpu_model, inv.cpu_cores
    );
    let _ = writeln!(o, "  memory:     {}", bytes(inv.memory_total_bytes));
    if let Some(v) = inv.vendor.as_deref().or(inv.model.as_deref()) {
        let _ = writeln!(
            o,
            "  hardware:   {} {}",
            v,
            inv.model.as_deref().unwrap_or("")
        );
    }
    if let Some(sn) = &inv.serial_number {
        let _ = writeln!(o, "  serial:     {sn}");
    }
    let _ = writeln!(
        o,
        "  now:        cpu {} ram {} disk {} temp {} battery {}",
        pct(m.map(|m| m.cpu_pct)),
        pct(m.map(|m| m.mem_pct)),
        pct(m.and_then(|m| m.disk_max_pct)),
        temp(m.and_then(|m| m.temp_max_c)),
        pct(m.and_then(|m| m.battery_health_pct)),
    );
    for f in &d.forecasts {
        let when = match f.days_until_full {
            Some(days) => format!("full in {days:.0} days"),
            None => "not filling".into(),
        };
        let _ = writeln!(
            o,
            "  disk {}: {:.0}% used, {when}",
            f.mount_point, f.used_pct
        );
    }
    if let Some(n) = &d.notes {
        let _ = writeln!(o, "  notes:      {n}");
    }
    // Stored text (names, inventory, notes) may predate text hygiene: escape every line.
    o.lines()
        .map(|l| format!("{}\n", crate::format::safe(l)))
        .collect()
}
