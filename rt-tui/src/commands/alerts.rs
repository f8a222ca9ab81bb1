//! `rt-tui alerts`, `rt-tui ack`, `rt-tui silence`: the server's stored alerts.

use crate::Ctx;
use crate::cli::AlertsArgs;
use crate::format::safe;
use comfy_table::{Table, presets};
use rt_core::alert::api::{AckRequest, AlertInfo, SilenceRequest};
use std::time::Duration;

/// The API filters of `args`: by default the open alerts.
pub fn filters(args: &AlertsArgs) -> Vec<(&'static str, String)> {
    let mut f = Vec::new();
    match (&args.state, args.all) {
        (Some(s), _) => f.push(("state", s.clone())),
        (None, false) => f.push(("state", "pending,firing".to_string())),
        (None, true) => {}
    }
    if let Some(s) = &args.severity {
        f.push(("severity", s.clone()));
    }
    if let Some(d) = args.device {
        f.push(("device", d.to_string()));
    }
    f
}

/// The alerts table: id, state, severity, device, alert, since, ack, summary.
pub fn table(alerts: &[AlertInfo], ascii: bool) -> Table {
    let mut t = Table::new();
    t.load_preset(if ascii {
        presets::ASCII_FULL_CONDENSED
    } else {
        presets::UTF8_FULL_CONDENSED
    });
    t.set_header([
        "ID", "STATE", "SEVERITY", "DEVICE", "ALERT", "SINCE", "ACK", "SUMMARY",
    ]);
    for a in alerts {
        let mut state = a.state.to_string();
        if a.flapping {
            state.push_str(" (flapping)");
        }
        if a.late {
            state.push_str(" (late)");
        }
        t.add_row([
            a.id.to_string(),
            state,
            a.severity.to_string(),
            safe(&a.device_name).into_owned(),
            safe(&a.key).into_owned(),
            a.since.format("%Y-%m-%d %H:%M").to_string(),
            a.acknowledged_by
                .as_deref()
                .map(|u| safe(u).into_owned())
                .unwrap_or_default(),
            safe(&a.summary).into_owned(),
        ]);
    }
    t
}

pub async fn list(ctx: &Ctx, args: &AlertsArgs) -> anyhow::Result<()> {
    let client = ctx.client()?;
    let alerts = client.all_alerts(&filters(args)).await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&alerts)?);
    } else if alerts.is_empty() {
        eprintln!("no alerts");
    } else {
        println!("{}", table(&alerts, ctx.ascii));
    }
    Ok(())
}

pub async fn ack(ctx: &Ctx, id: i64, comment: Option<String>) -> anyhow::Result<()> {
    let a = ctx.client()?.ack_alert(id, &AckRequest { comment }).await?;
    eprintln!("alert {} ({}) acknowledged", a.id, safe(&a.key));
    Ok(())
}

pub async fn silence(
    ctx: &Ctx,
    id: i64,
    duration: Duration,
    comment: Option<String>,
) -> anyhow::Result<()> {
    let a = ctx
        .client()?
        .silence_alert(
            id,
            &SilenceRequest {
                duration_s: duration.as_secs(),
                comment,
            },
        )
        .await?;
    let until = a
        .silenced_until
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default();
    eprintln!("alert {} ({}) silenced until {until}", a.id, safe(&a.key));
    Ok(())
}
