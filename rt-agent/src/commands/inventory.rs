//! `rt-agent inventory [--json]`: this device's hardware inventory.

use crate::cli::{GlobalArgs, InventoryArgs};
use crate::collect::collect_inventory;
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};

pub fn run(_global: &GlobalArgs, args: &InventoryArgs) -> anyhow::Result<i32> {
    let inv = collect_inventory();
    if args.json {
        crate::agent::print_out(&format!("{}\n", serde_json::to_string_pretty(&inv)?))?;
        return Ok(0);
    }
    let opt = |o: &Option<String>| o.clone().unwrap_or_else(|| "-".into());
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header(vec!["field", "value"]);
    let gib = |b: u64| format!("{:.1} GiB", b as f64 / (1u64 << 30) as f64);
    for (k, v) in [
        ("hostname", inv.hostname.clone()),
        ("os", format!("{} {}", inv.os_name, inv.os_version)),
        ("kernel", inv.kernel_version.clone()),
        ("arch", inv.arch.clone()),
        (
            "cpu",
            format!("{} ({} cores)", inv.cpu_model, inv.cpu_cores),
        ),
        ("memory", gib(inv.memory_total_bytes)),
        ("vendor", opt(&inv.vendor)),
        ("model", opt(&inv.model)),
        ("serial number", opt(&inv.serial_number)),
        ("machine id", opt(&inv.machine_id)),
        ("mac addresses", inv.mac_addresses.join(", ")),
    ] {
        t.add_row(vec![k.to_string(), v]);
    }
    for d in &inv.disks {
        t.add_row(vec![
            format!("disk {}", d.name),
            format!(
                "{} {}{}",
                gib(d.size_bytes),
                d.kind,
                if d.removable { " removable" } else { "" }
            ),
        ]);
    }
    crate::agent::print_out(&format!("{t}\n"))?;
    Ok(0)
}
